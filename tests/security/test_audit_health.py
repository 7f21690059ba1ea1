"""Audit actor, health and access log tell the truth (issue 8 item 9).

Attacks reproduced: a writer chose the name recorded in the audit log with an ``X-Diagioi-Actor``
header; ``/api/health`` published the absolute path of the store; the access log wrote whatever
address a client put in ``X-Forwarded-For``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from helpers.server import running_server
from fastapi.testclient import TestClient

from diagioi.api.app import create_app
from diagioi.api.auth import key_identity
from diagioi.api.settings import Settings

REPO = Path(__file__).resolve().parents[2]
TOKEN = "audit-test-token-0123456789"
SCENARIO = {"name": "Thử", "regime": "R76",
            "new_units": [{"id": "n1", "name": "Xã Một", "kind": "commune", "members": ["00001", "00002"]}]}


@pytest.fixture
def settings(tmp_path, grid_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", units_path=grid_path, web_dir=tmp_path / "no-web", token=TOKEN)


def test_the_audit_actor_is_the_key_not_a_header(settings):
    with TestClient(create_app(settings)) as client:
        created = client.post("/api/scenarios", json=SCENARIO,
                              headers={"Authorization": f"Bearer {TOKEN}", "X-Diagioi-Actor": "chairman"})
        assert created.status_code == 201
        entries = client.get("/api/audit", params={"object_type": "scenario"}).json()
    actors = {entry["actor"] for entry in entries if entry["object_id"] == created.json()["id"]}
    assert actors == {key_identity(TOKEN)}
    assert key_identity(TOKEN).startswith("key:") and len(key_identity(TOKEN)) == 12
    assert TOKEN not in str(entries)


def test_another_key_is_another_actor():
    assert key_identity("first-key-0123456789") != key_identity("second-key-0123456789")


def all_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)


def test_health_publishes_no_path_of_the_server(settings, tmp_path):
    with TestClient(create_app(settings)) as client:
        health = client.get("/api/health").json()
    assert health["store"] == "sqlite"
    assert health["units_name"] == "grid.geojson"
    for text in all_strings(health):
        assert "/" not in text and "\\" not in text, text
        assert str(tmp_path) not in text


def test_health_of_the_sample_data_publishes_no_path(tmp_path, monkeypatch):
    monkeypatch.delenv("DIAGIOI_TOKEN", raising=False)
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", web_dir=tmp_path / "no-web"))) as client:
        health = client.get("/api/health").json()
    assert health["sample_data"] is True
    assert not any(text.startswith("/") or str(tmp_path) in text for text in all_strings(health))


def access_log_of_a_request_with_forged_address(tmp_path: Path, units: Path, proxy: list[str]) -> str:
    """Start ``run_server`` for real (uvicorn, its access log), send one request claiming to come
    from 203.0.113.9, stop the server; return what it logged."""
    def command(port: int) -> list[str]:
        return [sys.executable, "-c", f"from diagioi.api.server import run_server; run_server('127.0.0.1', {port}, "
                f"{str(tmp_path / 'data')!r}, {str(units)!r}, {TOKEN!r}, proxy={proxy!r})"]

    log_path = tmp_path / "server.log"
    with running_server(command, log_path=log_path, cwd=tmp_path,
                        env={"PYTHONPATH": str(REPO), "DIAGIOI_PROXY": None}) as server:
        forged = httpx.get(server.url + "api/units?forged=1", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
        assert forged.status_code == 200
    return log_path.read_text()


def access_line(log: str) -> str:
    return next(line for line in log.splitlines() if "/api/units?forged=1" in line)


def test_the_access_log_ignores_x_forwarded_for_without_proxy(tmp_path, grid_path):
    line = access_line(access_log_of_a_request_with_forged_address(tmp_path, grid_path, proxy=[]))
    assert "127.0.0.1" in line and "203.0.113.9" not in line


def test_the_access_log_believes_the_configured_proxy(tmp_path, grid_path):
    line = access_line(access_log_of_a_request_with_forged_address(tmp_path, grid_path, proxy=["127.0.0.1"]))
    assert "203.0.113.9" in line
