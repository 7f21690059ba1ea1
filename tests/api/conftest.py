"""API fixtures: an app on a temporary store serving the 3×3 grid of 1 km squares (see tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

TOKEN = "test-write-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def units_file(grid_path) -> Path:
    """The 3×3 grid of tests/conftest.py (codes 00001..00009, 00005 a ward), GeoJSON in EPSG:4326."""
    return grid_path


@pytest.fixture
def settings(tmp_path, units_file) -> Settings:
    return Settings(data_dir=tmp_path / "data", units_path=units_file, token=TOKEN,
                    web_dir=tmp_path / "no-web", max_upload_bytes=200_000, max_polygon_area_km2=50.0)


@pytest.fixture
def client(settings) -> TestClient:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def scenario_body(**overrides) -> dict:
    """Two new units over the grid: n1 = the south row, n2 = the middle row."""
    body = {
        "name": "Lưới mẫu 2025",
        "regime": "R76",
        "new_units": [
            {"id": "n1", "name": "Xã Nam", "kind": "commune", "members": ["00001", "00002", "00003"]},
            {"id": "n2", "name": "Phường Giữa", "kind": "ward", "members": ["00004", "00005", "00006"]},
        ],
    }
    body.update(overrides)
    return body
