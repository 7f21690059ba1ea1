"""Anonymous requests cannot take the CPU (issue 8, item 6): vertex and area caps without the write
token, and a bounded number of analyses at once (the rest wait, then get 503). The latency of
/api/health under abusive load is measured in benchmarks/bench_abuse.py, not here."""
from __future__ import annotations

import math
import threading

import anyio
import pytest
from fastapi.testclient import TestClient

from diagioi.api.app import create_app
from diagioi.api.routes import analysis as analysis_route

from security_helpers import AUTH

ENGLISH = {"Accept-Language": "en"}  # the refusals are checked in English words (Vietnamese is the default)

CENTRE = (105.7550, 21.6050)  # inside the test grid


def circle(radius_deg: float, vertices: int) -> dict:
    ring = [[CENTRE[0] + radius_deg * math.cos(2 * math.pi * k / vertices),
             CENTRE[1] + radius_deg * math.sin(2 * math.pi * k / vertices)] for k in range(vertices)]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


@pytest.fixture
def capped(settings):
    capped_settings = settings.model_copy(update={"anonymous_max_vertices": 500, "anonymous_max_area_km2": 2.0,
                                                  "max_polygon_area_km2": 50.0})
    with TestClient(create_app(capped_settings)) as client:
        yield client


def test_too_many_vertices_without_the_token(capped):
    polygon = circle(0.005, 600)
    response = capped.post("/api/analysis/polygon", json=polygon, headers=ENGLISH)
    assert response.status_code == 422, response.text
    body = response.json()
    assert "601 vertices" in body["detail"] and "without the write token" in body["detail"]
    vietnamese = capped.post("/api/analysis/polygon", json=polygon).json()
    assert vietnamese["detail"] == "vùng vẽ có 601 đỉnh, nhiều hơn giới hạn 500 khi không có khoá ghi"
    assert "write token" in body["hint"]
    assert capped.post("/api/analysis/polygon", json=polygon, headers=AUTH).status_code == 200


def test_too_large_an_area_without_the_token(capped):
    polygon = circle(0.02, 64)  # an ellipse of 2.07 km × 2.21 km half-axes: about 14.4 km²
    response = capped.post("/api/analysis/polygon", json=polygon, headers=ENGLISH)
    assert response.status_code == 422, response.text
    assert "without the write token" in response.json()["detail"]
    with_token = capped.post("/api/analysis/polygon", json=polygon, headers=AUTH)
    assert with_token.status_code == 200, with_token.text
    assert with_token.json()["area_km2"] == pytest.approx(14.4, rel=0.02)


def test_a_body_too_big_for_the_vertex_cap_is_refused_before_parsing(capped):
    polygon = circle(0.005, 5000)  # about 200 KB of JSON; 500 vertices need at most 36 KB
    response = capped.post("/api/analysis/polygon", json=polygon, headers=ENGLISH)
    assert response.status_code == 422, response.text
    assert "bytes" in response.json()["detail"] and "write token" in response.json()["hint"]
    assert capped.post("/api/analysis/polygon", json=polygon, headers=AUTH).status_code == 200


def test_a_wrong_token_counts_as_anonymous(capped):
    response = capped.post("/api/analysis/polygon", json=circle(0.005, 600),
                           headers={"Authorization": "Bearer not-the-token"})
    assert response.status_code == 422


def test_analyses_beyond_the_workers_wait_then_get_503(settings, monkeypatch):
    busy_settings = settings.model_copy(update={"analysis_workers": 1, "analysis_wait_s": 0.2})
    started, release = threading.Event(), threading.Event()
    real = analysis_route._run_analysis

    async def slow(*args):
        started.set()
        await anyio.to_thread.run_sync(release.wait, 60)
        return await real(*args)

    monkeypatch.setattr(analysis_route, "_run_analysis", slow)
    with TestClient(create_app(busy_settings)) as client:
        first: dict = {}
        worker = threading.Thread(target=lambda: first.update(
            response=client.post("/api/analysis/polygon", json=circle(0.005, 16))))
        worker.start()
        assert started.wait(60)
        second = client.post("/api/analysis/polygon", json=circle(0.005, 16))
        assert client.get("/api/health").status_code == 200  # cheap routes are not queued
        release.set()
        worker.join(60)
    assert second.status_code == 503, second.text
    assert second.json()["hint"] == "thử lại sau vài giây"
    assert first["response"].status_code == 200
