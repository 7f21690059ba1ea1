"""Authenticate before parsing the body (issue 8 item 7, last sentence).

Attack reproduced: a write sent without a token but with a bad body answered 422 — an anonymous
caller got the server to read and parse the body, and was told how to shape a write. Now every
write route answers 401 (no token) or 403 (wrong token) from the headers alone, without reading a
byte of the body.
"""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from diagioi.api.app import create_app
from diagioi.api.settings import Settings

TOKEN = "auth-first-token-0123456789"


@pytest.fixture
def app(tmp_path, grid_path):
    return create_app(Settings(data_dir=tmp_path / "data", units_path=grid_path, web_dir=tmp_path / "no-web",
                               token=TOKEN))


def body_spy(app, received: list):
    """The app behind a recorder of every body chunk the app asks for."""
    async def spy(scope, receive, send):
        async def recording_receive():
            message = await receive()
            if message["type"] == "http.request":
                received.append(message.get("body", b""))
            return message
        await app(scope, recording_receive, send)
    return spy


def write_routes(app) -> list[tuple[str, str]]:
    """(method, concrete path) of every operation that declares the write token in /openapi.json."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                routes.append((method.upper(), path.replace("{kind}", "tourism_sites")
                               .replace("{scenario_id}", "s1").replace("{feature_id}", "f1")))
    return routes


def test_there_are_write_routes_to_protect(app):
    routes = write_routes(app)
    assert {method for method, _ in routes} >= {"POST", "PUT", "DELETE"}
    assert ("POST", "/api/scenarios") in routes and ("POST", "/api/layers/tourism_sites") in routes


@pytest.mark.parametrize("headers, status", [({}, 401), ({"Authorization": "Bearer wrong"}, 403),
                                             ({"Authorization": "Basic dXNlcjpwdw=="}, 401)])
def test_every_write_route_refuses_before_reading_the_body(app, headers, status):
    received: list[bytes] = []
    with TestClient(body_spy(app, received)) as client:
        for method, path in write_routes(app):
            response = client.request(method, path, content=b"{not json" + b" " * 5000,
                                      headers={**headers, "Content-Type": "application/json"})
            assert response.status_code == status, (method, path)
            assert response.json()["code"] in ("error.write_key_missing", "error.write_key_wrong")
            assert response.json()["hint"]
    assert received == []  # no route read the body


def test_an_anonymous_upload_is_not_read(app):
    received: list[bytes] = []
    with TestClient(body_spy(app, received)) as client:
        response = client.post("/api/layers/industrial_clusters",
                               files={"file": ("x.geojson", b'{"type": "FeatureCollection", "features": []}' * 1000)})
    assert response.status_code == 401
    assert received == []


def test_with_the_token_the_body_is_parsed_as_before(app):
    with TestClient(app) as client:
        response = client.post("/api/scenarios", content=b"{not json",
                               headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("nội dung yêu cầu không phải JSON hợp lệ")


def test_anonymous_routes_still_take_a_body(app):
    # Drawing a polygon for figures is open to everyone: its body is read and checked, no token needed.
    with TestClient(app) as client:
        response = client.post("/api/analysis/polygon", content=b"{not json",
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_an_unknown_write_path_is_still_a_404(app):
    with TestClient(app) as client:
        assert client.post("/api/nothing-here", content=b"x").status_code == 404
