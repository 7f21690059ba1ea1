"""Two service processes on one PostGIS (two workers, or two API machines behind a proxy).

Each process has its own caches (evaluations, tile sources, rendered tiles, the default units);
an edit or a dataset activation acknowledged by one is what the other serves on its next request.
Runs when DIAGIOI_TEST_POSTGRES names a PostGIS server (``.ci/run`` starts one), else skips.
"""
from __future__ import annotations

import httpx
import mapbox_vector_tile
import pytest
from api_helpers import AUTH, TOKEN, scenario_body
from helpers.server import serving

from diagioi.layers.tms import tile_for_lnglat
from helpers.grid import grid_frame


@pytest.fixture
def postgis_store(request):
    from tests.store.store_helpers import fresh_schema, postgis_dsn_or_skip

    dsn = postgis_dsn_or_skip(request.config)
    schema, cleanup = fresh_schema(dsn)
    yield f"{dsn}#{schema}"
    cleanup()


def _tile(client: httpx.Client, layer: str) -> dict:
    """The decoded tile (z, x, y: the smallest tile holding the grid) named by the layer's TileJSON."""
    tilejson = client.get(f"/api/tiles/{layer}.json").json()
    west, south, east, north = tilejson["bounds"]
    for z in range(16, 0, -1):
        corners = {tile_for_lnglat(lon, lat, z) for lon in (west, east) for lat in (south, north)}
        if len(corners) == 1:
            z, x, y = corners.pop()
            break
    url = tilejson["tiles"][0].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    response = client.get(url)
    assert response.status_code == 200
    return mapbox_vector_tile.decode(response.content)[layer]


def test_two_processes_on_one_postgis_serve_each_others_acknowledged_edits(postgis_store, grid_path, tmp_path):
    newer = grid_frame("EPSG:4326")
    newer["population"] = newer["population"] * 2
    newer_path = tmp_path / "grid-2024.geojson"
    newer.to_file(newer_path, driver="GeoJSON")
    common = ["--store", postgis_store, "--token", TOKEN]

    with serving(*common, "--units", str(grid_path), "--data-dir", str(tmp_path / "a"),
                 log_path=tmp_path / "a.log") as url_a, \
            serving(*common, "--data-dir", str(tmp_path / "b"), log_path=tmp_path / "b.log") as url_b, \
            httpx.Client(base_url=url_a, headers=AUTH, timeout=60) as a, \
            httpx.Client(base_url=url_b, timeout=60) as b:
        created = a.post("/api/scenarios", json=scenario_body()).json()
        layer = f"scenario-{created['id']}"
        # B renders and caches version 1 of the scenario tile.
        members = {f["properties"]["new_unit_id"]: f["properties"]["members"] for f in _tile(b, layer)["features"]}
        assert members["n1"] == "00001;00002;00003"

        moved = a.post(f"/api/scenarios/{created['id']}/reassign",
                       json={"assignments": {"00004": "n1"}, "version": 1})
        assert moved.status_code == 200

        # The edit acknowledged by A is in B's next tile and evaluation.
        features = {f["properties"]["new_unit_id"]: f["properties"] for f in _tile(b, layer)["features"]}
        assert features["n1"]["members"] == "00001;00002;00003;00004"
        assert features["n1"]["population"] == 10_000
        assert b.get(f"/api/scenarios/{created['id']}/evaluation").json()["new_units"][0]["population"] == 10_000

        # A activates another dataset: B serves it at once (units, tiles, health).
        assert {f["properties"]["code"]: f["properties"]["population"]
                for f in _tile(b, "units")["features"]}["00001"] == 1000
        uploaded = a.post("/api/datasets", data={"name": "Lưới 2024", "activate": "true"},
                          files={"file": (newer_path.name, newer_path.read_bytes(), "application/geo+json")})
        assert uploaded.status_code == 201, uploaded.text
        assert b.get("/api/health").json()["units_version"] == uploaded.json()["version"]
        assert {f["properties"]["code"]: f["properties"]["population"]
                for f in _tile(b, "units")["features"]}["00001"] == 2000
