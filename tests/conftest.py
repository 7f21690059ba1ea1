"""Shared fixtures: tiny hand-checkable unit layers and the real data beside the repo (skipped when absent)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.grid import grid_box, grid_frame

# Starlette's TestClient sends "Host: testserver"; the server answers only to the host names it is
# given (DNS-rebinding defence), so the tests give this one as an operator gives a public name.
os.environ.setdefault("DIAGIOI_ALLOWED_HOSTS", "testserver")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_addoption(parser):
    parser.addoption("--postgres-dsn", default=None,
                     help="PostGIS server for the store tests (else DIAGIOI_TEST_POSTGRES; skipped when neither)")
    parser.addoption("--api-store", default="sqlite", choices=["sqlite", "postgis"],
                     help="store behind the API tests' app (postgis: a fresh schema per test on --postgres-dsn)")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real boundary data of ../shared/data, or skip."""
    if not (SHARED_DATA / "pre2025_communes_census2009_bk_tn_bg_bn.geojson").exists():
        pytest.skip("real data ../shared/data is not present on this machine")
    return SHARED_DATA


@pytest.fixture
def grid_path(tmp_path) -> Path:
    """The 3×3 grid written as GeoJSON (EPSG:4326)."""
    path = tmp_path / "grid.geojson"
    grid_frame("EPSG:4326").to_file(path, driver="GeoJSON")
    return path


@pytest.fixture
def grid_units(grid_path):
    from diagioi.geo.io import read_units

    return read_units(grid_path)


@pytest.fixture(name="grid_box")
def grid_box_fixture():
    """:func:`grid_box` for tests that draw on the grid: ``grid_box(500, 500, 1500, 1500)``."""
    return grid_box
