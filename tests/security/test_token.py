"""The write token cannot leak: nothing hands it out on request (issue 8 item 2).

Attack reproduced: ``/api/session`` gave the token to any client reaching 127.0.0.1 — through a
plain TCP forwarder, ``ssh -L`` or a reverse proxy without forwarding headers, such a client *is*
127.0.0.1. Now the only way to the token is the login URL that ``diagioi serve`` prints (the
Jupyter model); it is kept in ``<data dir>/token`` so a browser holding it survives a restart.
"""
from __future__ import annotations

import os
import stat

import pytest
from fastapi.testclient import TestClient

import diagioi.api.server as server
from diagioi.api.app import create_app
from diagioi.api.auth import load_or_create_token
from diagioi.api.settings import Settings
from diagioi.geo.errors import DiagioiError

SCENARIO = {"name": "Thử", "regime": "R76",
            "new_units": [{"id": "n1", "name": "Xã Một", "kind": "commune", "members": ["00001", "00002"]}]}


@pytest.fixture
def settings(tmp_path, grid_path, monkeypatch) -> Settings:
    monkeypatch.delenv("DIAGIOI_TOKEN", raising=False)
    return Settings(data_dir=tmp_path / "data", units_path=grid_path, web_dir=tmp_path / "no-web")


def test_a_forwarded_loopback_request_gets_no_token(settings):
    # What a plain TCP forwarder or `ssh -L` delivers: a request from 127.0.0.1, Host 127.0.0.1,
    # no forwarding headers at all.
    app = create_app(settings)
    token = app.state.service.token
    with TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 50000)) as local:
        response = local.get("/api/session")
        assert response.status_code == 404
        assert token not in response.text
        assert "/api/session" not in local.get("/openapi.json").json()["paths"]


def test_no_public_response_carries_the_token(settings):
    app = create_app(settings)
    token = app.state.service.token
    with TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 50000)) as local:
        created = local.post("/api/scenarios", json=SCENARIO, headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201
        assert token not in created.text and token not in str(created.headers)
        for path in ("/", "/api/health", "/api/audit", "/api/scenarios", "/openapi.json", "/api/tiles/units.json"):
            response = local.get(path)
            assert response.status_code == 200, path
            assert token not in response.text and token not in str(response.headers), path


def test_the_token_is_kept_owner_only_and_survives_a_restart(settings):
    first = create_app(settings).state.service.token
    token_file = settings.data_dir / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    second = create_app(settings).state.service.token  # the same data directory, started again
    assert second == first
    with TestClient(create_app(settings)) as client:  # a browser holding the key can still write
        assert client.post("/api/scenarios", json=SCENARIO,
                           headers={"Authorization": f"Bearer {first}"}).status_code == 201
    other = create_app(settings.model_copy(update={"data_dir": settings.data_dir.parent / "other"}))
    assert other.state.service.token != first  # one key per data directory


def test_diagioi_token_wins_over_the_file(settings):
    create_app(settings)
    app = create_app(settings.model_copy(update={"token": "set-by-the-operator-123"}))
    assert app.state.service.token == "set-by-the-operator-123"


def test_a_token_file_others_can_read_is_refused(settings):
    token, created = load_or_create_token(settings.data_dir)
    assert created is True
    os.chmod(settings.data_dir / "token", 0o644)
    with pytest.raises(DiagioiError) as refused:
        create_app(settings)
    assert "other users" in refused.value.message
    assert "delete" in refused.value.hint


def test_a_token_file_that_is_a_symlink_is_not_followed(settings, tmp_path):
    secret = tmp_path / "somebody-elses-file"
    secret.write_text("x" * 40)
    os.chmod(secret, 0o600)
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "token").symlink_to(secret)
    with pytest.raises(DiagioiError) as refused:
        load_or_create_token(settings.data_dir)
    assert "symbolic link" in refused.value.message


def test_serve_prints_the_login_url_and_opens_it_with_open(monkeypatch, tmp_path, grid_path, capsys):
    monkeypatch.delenv("DIAGIOI_TOKEN", raising=False)
    calls, opened = {}, []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kwargs: calls.update(app=app, **kwargs))
    monkeypatch.setattr(server.webbrowser, "open", opened.append)
    server.run_server("127.0.0.1", 8125, tmp_path / "data", grid_path, None, open_browser=True)

    token = calls["app"].state.service.token
    login = f"http://127.0.0.1:8125/#token={token}"
    assert login in capsys.readouterr().out
    assert opened == [login]


def test_a_cli_token_is_quoted_in_the_login_url():
    assert server.login_url("http://127.0.0.1:8000/", "a b&c#d") == "http://127.0.0.1:8000/#token=a%20b%26c%23d"


def test_refusals_are_not_cached(settings):
    with TestClient(create_app(settings)) as client:
        missing = client.post("/api/scenarios", json=SCENARIO)
        wrong = client.post("/api/scenarios", json=SCENARIO, headers={"Authorization": "Bearer wrong-key"})
    assert (missing.status_code, wrong.status_code) == (401, 403)
    assert missing.headers["cache-control"] == wrong.headers["cache-control"] == "no-store"
