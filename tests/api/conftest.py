"""API fixtures: an app on a temporary store serving the 3×3 grid of 1 km squares (see tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from diagioi.api.app import create_app
from diagioi.api.settings import Settings

from api_helpers import TOKEN


@pytest.fixture
def units_file(grid_path) -> Path:
    """The 3×3 grid of tests/conftest.py (codes 00001..00009, 00005 a ward), GeoJSON in EPSG:4326."""
    return grid_path


@pytest.fixture
def store_location(request):
    """None (SQLite in the data folder), or with ``--api-store postgis`` a fresh PostGIS schema."""
    if request.config.getoption("--api-store") != "postgis":
        yield None
        return
    from tests.store.store_helpers import fresh_schema, postgis_dsn_or_skip

    dsn = postgis_dsn_or_skip(request.config)
    schema, cleanup = fresh_schema(dsn)
    yield f"{dsn}#{schema}"
    cleanup()


@pytest.fixture
def settings(tmp_path, units_file, store_location) -> Settings:
    return Settings(data_dir=tmp_path / "data", units_path=units_file, token=TOKEN, store=store_location,
                    web_dir=tmp_path / "no-web", max_upload_bytes=200_000, max_polygon_area_km2=50.0)


@pytest.fixture
def client(settings) -> TestClient:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
