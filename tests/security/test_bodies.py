"""Bodies that used to answer 500 and reset the kept-alive connection (issue 8, item 5) now get a
422 JSON error with a hint, on a connection that stays usable, with the store unchanged."""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest
import uvicorn

from diagioi.api.app import create_app
from diagioi.api.body_guard import MAX_JSON_DEPTH, json_body_problem

from security_helpers import AUTH

POLYGON = {"type": "Polygon", "coordinates": [[[105.76, 21.61], [105.77, 21.61], [105.77, 21.62], [105.76, 21.61]]]}


@pytest.fixture
def live_server(settings):
    """The app served by uvicorn in a thread (a real HTTP/1.1 server with keep-alive)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def _request(connection, method, path, body=None, headers=None):
    connection.request(method, path, body=body, headers={"Content-Type": "application/json", **AUTH,
                                                         **(headers or {})})
    response = connection.getresponse()
    return response.status, response.getheader("content-type"), response.read()


def _attacks(scenario_id: str, version: int) -> dict[str, tuple[str, str, bytes]]:
    feature = b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.76, 21.61]}, ' \
              b'"properties": {"name": "\\ud800"}}'
    return {
        "surrogate in a layer feature name": ("POST", "/api/layers/tourism_sites", feature),
        "surrogate in reassign assignments": ("POST", f"/api/scenarios/{scenario_id}/reassign",
                                              b'{"version": %d, "assignments": {"00001": "\\ud800"}}' % version),
        "surrogate in the analysis body": ("POST", "/api/analysis/polygon",
                                           json.dumps({**POLYGON, "properties": {"name": "X"}}).encode()
                                           .replace(b'"X"', b'"\\udfff"')),
        "100k-deep [": ("POST", "/api/analysis/polygon", b"[" * 100_000),
        "50k-deep {": ("POST", "/api/layers/tourism_sites", b'{"a":' * 50_000),
        "5,000-digit integer": ("POST", "/api/analysis/polygon",
                                b'{"type": "Polygon", "coordinates": [[[' + b"9" * 5000 + b", 21]]]}"),
        "5,000-digit integer in a scenario": ("POST", "/api/scenarios", b'{"name": "x", "version": ' + b"1" * 5000 + b"}"),
    }


def test_hostile_bodies_get_422_and_the_connection_stays_usable(live_server):
    connection = http.client.HTTPConnection("127.0.0.1", live_server, timeout=60)
    status, _, body = _request(connection, "POST", "/api/scenarios", json.dumps(
        {"name": "Lưới", "new_units": [{"id": "n1", "name": "Xã A", "kind": "commune", "members": ["00001"]}]}))
    assert status == 201, body
    scenario = json.loads(body)
    _, _, audit_before = _request(connection, "GET", "/api/audit")
    sock = connection.sock
    for name, (method, path, payload) in _attacks(scenario["id"], scenario["version"]).items():
        status, content_type, body = _request(connection, method, path, payload)
        assert status == 422, (name, status, body[:300])
        assert content_type == "application/json"
        error = json.loads(body)
        assert error["detail"] and error["hint"], name
        status, _, _ = _request(connection, "GET", "/api/health")
        assert status == 200, name
        assert connection.sock is sock, f"{name}: the server closed the kept-alive connection"
    _, _, layer = _request(connection, "GET", "/api/layers/tourism_sites")
    assert json.loads(layer)["features"] == []
    _, _, stored = _request(connection, "GET", f"/api/scenarios/{scenario['id']}")
    assert json.loads(stored)["version"] == scenario["version"]
    _, _, audit_after = _request(connection, "GET", "/api/audit")
    assert json.loads(audit_after) == json.loads(audit_before)
    connection.close()


def test_multipart_upload_of_an_unclosed_ring_is_a_422(client):
    collection = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "Khu A"},
                  "geometry": {"type": "Polygon", "coordinates": [[[105.7, 21.6], [105.71, 21.6], [105.71, 21.61],
                                                                  [105.70, 21.61]]]}}]}
    response = client.post("/api/layers/tourism_sites", files={"file": ("khu.geojson", json.dumps(collection))},
                           headers=AUTH)
    assert response.status_code == 422, response.text
    assert "khép kín" in response.json()["hint"]  # rings must be closed (Vietnamese is the default)
    assert client.get("/api/layers/tourism_sites").json()["features"] == []


@pytest.mark.parametrize("body, accepted", [
    (json.dumps({"a": [[[[1, 2]]]]}).encode(), True),
    (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), False),
    (b'{"name": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', True),  # brackets inside a string
    (b'{"name": "\\ud83c\\udf3e"}', True),  # a surrogate pair is one character (an emoji)
    (b'{"name": "\\\\ud800"}', True),  # an escaped backslash followed by "ud800" is plain text
    (b'{"name": "\\ud800"}', False),
    (b'{"x": 1.000000000000000000000000000000000000000000000001}', False),
])
def test_what_the_body_guard_accepts(body, accepted):
    assert (json_body_problem(body) is None) is accepted
