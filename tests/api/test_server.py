"""run_server (behind ``diagioi serve``): settings from arguments, token printed at start-up."""
from __future__ import annotations

import diagioi.api.server as server


def test_run_server_prints_a_generated_token_and_serves_the_app(monkeypatch, tmp_path, units_file, capsys):
    calls = {}
    monkeypatch.delenv("DIAGIOI_TOKEN", raising=False)
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kwargs: calls.update(app=app, **kwargs))
    server.run_server("127.0.0.1", 8123, tmp_path / "data", units_file, None)

    service = calls["app"].state.service
    assert (calls["host"], calls["port"]) == ("127.0.0.1", 8123)
    assert service.token_generated is True and len(service.units) == 9
    printed = capsys.readouterr().out
    assert f"write token:    {service.token}" in printed
    assert f"http://127.0.0.1:8123/#token={service.token}" in printed  # the login URL
    assert calls["proxy_headers"] is False  # X-Forwarded-For is not believed without --proxy


def test_run_server_uses_the_given_token(monkeypatch, tmp_path, units_file, capsys):
    calls = {}
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kwargs: calls.update(app=app))
    server.run_server("0.0.0.0", 8124, tmp_path / "data", units_file, "my-token")
    assert calls["app"].state.service.check_token("my-token") is True
    assert "write token:    my-token" in capsys.readouterr().out
