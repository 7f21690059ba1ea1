"""Host checks against DNS rebinding, and absolute URLs from configuration only (issue 8 item 3).

Attack reproduced: a page on evil.example makes its name resolve to 127.0.0.1; the browser then
sends ``Host: evil.example`` to the local server. ``/api/scenarios``, ``/api/audit``, ``/api/units``
and exports answered 200, and TileJSON built its tile URLs from that Host.
"""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from diagioi.api.app import create_app
from diagioi.api.server import serve_settings
from diagioi.api.settings import Settings
from diagioi.geo.errors import DiagioiError

TOKEN = "host-test-token-0123456789"
SCENARIO = {"name": "Thử", "regime": "R76",
            "new_units": [{"id": "n1", "name": "Xã Một", "kind": "commune", "members": ["00001", "00002"]}]}


@pytest.fixture
def settings(tmp_path, grid_path) -> Settings:
    # allowed_hosts given explicitly: only the built-in loopback names (no "testserver").
    return Settings(data_dir=tmp_path / "data", units_path=grid_path, web_dir=tmp_path / "no-web", token=TOKEN,
                    allowed_hosts=[])


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def scenario_id(app) -> str:
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        created = local.post("/api/scenarios", json=SCENARIO, headers={"Authorization": f"Bearer {TOKEN}"})
        assert created.status_code == 201
        return created.json()["id"]


def test_a_rebound_host_gets_400_on_every_route(app, scenario_id):
    paths = ["/api/scenarios", "/api/audit", "/api/units", f"/api/scenarios/{scenario_id}/export.csv",
             f"/api/scenarios/{scenario_id}/export.xlsx", "/api/tiles/units.json", "/api/health", "/", "/openapi.json"]
    with TestClient(app, base_url="http://evil.example:8000") as rebound:
        for path in paths:
            response = rebound.get(path)
            assert response.status_code == 400, path
            body = response.json()
            assert body["detail"] == "máy chủ này không trả lời tên máy 'evil.example:8000'"
            assert "--allowed-host" in body["hint"]
            assert body["context"] == {"host": "evil.example:8000"}
        # Writes too, even with the token (a rebinding page could have read it nowhere, but still).
        write = rebound.post("/api/scenarios", json=SCENARIO, headers={"Authorization": f"Bearer {TOKEN}"})
        assert write.status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", "127.0.0.1"])
def test_loopback_names_are_answered(app, host):
    with TestClient(app) as client:
        assert client.get("/api/units", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["", "127.0.0.1:80x", "127.0.0.1@evil.example", "[::1", "évil.example".encode(),
                                  "localhost.evil.example", "127.0.0.1.nip.io", "[::1]x"])
def test_malformed_or_lookalike_hosts_are_refused(app, host):
    with TestClient(app) as client:
        assert client.get("/api/units", headers={"Host": host}).status_code == 400


def test_a_configured_public_name_and_its_subdomains_are_answered(settings):
    app = create_app(settings.model_copy(update={"allowed_hosts": ["diagioi.example.org", "*.tinh.gov.vn"]}))
    with TestClient(app) as client:
        for host in ("diagioi.example.org", "DIAGIOI.example.org:443", "bando.tinh.gov.vn"):
            assert client.get("/api/units", headers={"Host": host}).status_code == 200, host
        for host in ("tinh.gov.vn", "eviltinh.gov.vn", "example.org"):
            assert client.get("/api/units", headers={"Host": host}).status_code == 400, host


def test_allowed_hosts_from_the_environment(monkeypatch, tmp_path, grid_path):
    monkeypatch.setenv("DIAGIOI_ALLOWED_HOSTS", "a.example, b.example")
    settings = Settings(data_dir=tmp_path / "data", units_path=grid_path, token=TOKEN)
    assert settings.allowed_hosts == ["a.example", "b.example"]
    with TestClient(create_app(settings), base_url="http://b.example") as client:
        assert client.get("/api/units").status_code == 200


def test_serve_accepts_its_own_host_and_added_names(monkeypatch):
    monkeypatch.delenv("DIAGIOI_ALLOWED_HOSTS", raising=False)
    assert serve_settings("192.168.1.20", allowed_hosts=["bando.local"]).allowed_hosts == ["192.168.1.20", "bando.local"]
    assert serve_settings("0.0.0.0").allowed_hosts == []  # a wildcard is no name a client uses
    with pytest.raises(DiagioiError) as bad:
        serve_settings("127.0.0.1", allowed_hosts=["https://bando.local/"])
    assert "not a host name" in bad.value.message and "DIAGIOI_ALLOWED_HOSTS" in bad.value.hint


def test_tilejson_urls_never_come_from_the_host_header(settings):
    # A name the operator allowed, but no public URL: the tile URLs are relative.
    app = create_app(settings.model_copy(update={"allowed_hosts": ["bando.example.org"]}))
    with TestClient(app, base_url="http://bando.example.org") as client:
        tiles = client.get("/api/tiles/units.json").json()["tiles"]
    assert tiles[0].startswith("/api/tiles/units/{z}/{x}/{y}.mvt?v=")


def test_tilejson_urls_use_the_configured_public_url(settings):
    app = create_app(settings.model_copy(update={"public_url": "https://bando.example.org/diagioi"}))
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        tiles = local.get("/api/tiles/units.json?format=png").json()["tiles"]
    assert tiles[0].startswith("https://bando.example.org/diagioi/api/tiles/units/{z}/{x}/{y}.png?v=")
    # The public URL's host is answered too (the proxy passes it on as Host).
    with TestClient(app, base_url="https://bando.example.org") as public:
        assert public.get("/api/health").status_code == 200


@pytest.mark.parametrize("url", ["ftp://x.org", "https://x.org/?a=1", "https://user:pw@x.org", "x.org", "https://"])
def test_a_bad_public_url_is_refused_at_start(url):
    with pytest.raises(DiagioiError) as bad:
        serve_settings("127.0.0.1", public_url=url)
    assert "public_url" in bad.value.message
