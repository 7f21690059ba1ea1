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
    assert f"khoá ghi:      {service.token}" in printed  # in Vietnamese unless --lang en
    assert printed.startswith("diagioi đang phục vụ tại http://127.0.0.1:8123/")
    assert f"http://127.0.0.1:8123/#token={service.token}" in printed  # the login URL
    assert calls["proxy_headers"] is False  # X-Forwarded-For is not believed without --proxy


def test_run_server_uses_the_given_token(monkeypatch, tmp_path, units_file, capsys):
    calls = {}
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kwargs: calls.update(app=app))
    server.run_server("0.0.0.0", 8124, tmp_path / "data", units_file, "my-token", lang="en")
    assert calls["app"].state.service.check_token("my-token") is True
    printed = capsys.readouterr().out
    assert "write token:    my-token" in printed and printed.startswith("diagioi is serving http://127.0.0.1:8124/")


def test_several_workers_are_started_on_one_prepared_store(monkeypatch, tmp_path, units_file, capsys):
    """--workers N: the store is prepared once, then N processes build the app from DIAGIOI_* settings."""
    calls = {}
    from diagioi.api.settings import Settings

    for name in Settings.model_fields:  # run_server exports them for the workers; removed after the test
        monkeypatch.setenv(f"DIAGIOI_{name.upper()}", "")  # (records the variable so undo removes it)
        monkeypatch.delenv(f"DIAGIOI_{name.upper()}")
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kwargs: calls.update(app=app, **kwargs))
    store = f"sqlite:{tmp_path / 'shared-store'}"
    server.run_server("127.0.0.1", 8125, tmp_path / "data", units_file, "my-token", store=store, workers=3)

    assert (calls["app"], calls["workers"], calls["factory"]) == ("diagioi.api.server:app_from_environment", 3, True)
    assert (tmp_path / "shared-store" / "diagioi.sqlite").exists()   # prepared before the workers start
    worker_app = server.app_from_environment()                       # what each worker builds
    service = worker_app.state.service
    assert service.store.describe() == f"sqlite:{tmp_path / 'shared-store' / 'diagioi.sqlite'}"
    assert len(service.units) == 9 and service.check_token("my-token")
    assert calls["http"] is server.NoDelayHTTPProtocol  # in every worker: see the test below


def test_connections_have_nagles_algorithm_off_even_on_a_socket_bound_like_uvicorns_workers_bind_it():
    """uvicorn --workers N binds its listener with proto 0, so asyncio leaves TCP_NODELAY off on the
    connections (uvicorn #3149): each response would wait ~40 ms for the client's delayed ACK."""
    import asyncio
    import socket

    import uvicorn
    from uvicorn.server import ServerState

    async def nodelay_of_an_accepted_connection() -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)  # proto 0, as Config.bind_socket()
        listener.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app=lambda scope, receive, send: None, lifespan="off", log_level="error")
        config.load()
        accepted: asyncio.Queue = asyncio.Queue()

        class Probe(server.NoDelayHTTPProtocol):
            def connection_made(self, transport):
                super().connection_made(transport)
                sock = transport.get_extra_info("socket")
                accepted.put_nowait(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        loop = asyncio.get_running_loop()
        listening = await loop.create_server(lambda: Probe(config=config, server_state=ServerState(), app_state={}),
                                             sock=listener)
        _reader, writer = await asyncio.open_connection(*listener.getsockname())
        try:
            return await asyncio.wait_for(accepted.get(), timeout=10)
        finally:
            writer.close()
            listening.close()

    assert asyncio.run(nodelay_of_an_accepted_connection()) == 1
