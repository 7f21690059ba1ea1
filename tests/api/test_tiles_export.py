"""``diagioi tiles export --format pmtiles``: the live tile layers as one static archive (issue 13).

The archive is read back with the ``pmtiles`` reader and each of its tiles' layers is compared,
feature by feature (geometry, id, attributes), with the same tile of the live ``/api/tiles`` route.
Runs on the test store (SQLite, or PostGIS with ``--api-store postgis``).
"""
from __future__ import annotations

import gzip
import json

import mapbox_vector_tile
from api_helpers import AUTH, scenario_body
from fastapi.testclient import TestClient
from pmtiles.reader import MmapSource, Reader, all_tiles
from typer.testing import CliRunner

from diagioi.api.app import create_app
from diagioi.api.cli import app as cli
from diagioi.layers.tms import tile_for_lnglat


def _store_options(settings) -> list[str]:
    options = ["--data-dir", str(settings.data_dir)]
    return options + (["--store", settings.store] if settings.store else [])


def _live_tile(client, layer: str, z: int, x: int, y: int) -> dict:
    response = client.get(f"/api/tiles/{layer}/{z}/{x}/{y}.mvt")
    assert response.status_code == 200
    return mapbox_vector_tile.decode(response.content).get(layer, {"features": []})


def test_the_archive_holds_the_live_tiles_of_units_scenario_and_zoning(settings, tmp_path):
    with TestClient(create_app(settings)) as client:
        created = client.post("/api/scenarios", json=scenario_body(), headers=AUTH).json()
        client.post("/api/layers/tourism_sites", headers=AUTH, json={
            "type": "Feature", "id": "s1", "geometry": {"type": "Point", "coordinates": [105.757, 21.601]},
            "properties": {"name": "Đền Mẫu"}})
        scenario_layer = f"scenario-{created['id']}"
        out = tmp_path / "ke-hoach.pmtiles"

        result = CliRunner().invoke(cli, ["tiles", "export", "--format", "pmtiles", "--out", str(out),
                                          "--scenario", created["id"], "--minzoom", "10", "--maxzoom", "15",
                                          "--json", *_store_options(settings)])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert set(report["layers"]) == {"units", scenario_layer, "tourism_sites"}

        with open(out, "rb") as file:
            reader = Reader(MmapSource(file))
            header, metadata = reader.header(), reader.metadata()
            assert (header["min_zoom"], header["max_zoom"]) == (10, 15)
            layers = {layer["id"]: layer for layer in metadata["vector_layers"]}
            live_units = client.get("/api/tiles/units.json").json()
            assert layers["units"]["fields"] == live_units["vector_layers"][0]["fields"]
            assert layers["units"]["data_version"] == live_units["data_version"]
            assert layers[scenario_layer]["data_version"] == \
                client.get(f"/api/tiles/{scenario_layer}.json").json()["data_version"]

            tiles = {zxy: gzip.decompress(data) for zxy, data in all_tiles(reader.get_bytes)}
            assert len(tiles) == report["tiles"]
            compared = 0
            for (z, x, y), content in tiles.items():
                archived = mapbox_vector_tile.decode(content)
                for layer in ("units", scenario_layer, "tourism_sites"):
                    live = _live_tile(client, layer, z, x, y)
                    if live["features"]:
                        assert archived[layer]["features"] == live["features"], (layer, z, x, y)
                        compared += 1
                    else:
                        assert not archived.get(layer, {"features": []})["features"]
            assert compared >= 3 * 6  # every zoom has all three layers

        # The tile under the grid's centre has the scenario's new units with their figures and members.
        z, x, y = tile_for_lnglat(105.7563, 21.6063, 13)
        features = mapbox_vector_tile.decode(tiles[(z, x, y)])[scenario_layer]["features"]
        members = {f["properties"]["new_unit_id"]: f["properties"]["members"] for f in features}
        assert members == {"n1": "00001;00002;00003", "n2": "00004;00005;00006"}


def test_export_refuses_an_unknown_layer_and_a_missing_scenario_without_writing(settings, tmp_path):
    with TestClient(create_app(settings)):
        pass
    out = tmp_path / "x.pmtiles"
    unknown = CliRunner().invoke(cli, ["tiles", "export", "--out", str(out), "--layers", "units,roads",
                                       *_store_options(settings)])
    assert unknown.exit_code == 2
    assert "roads" in unknown.output and "hint" in unknown.output
    missing = CliRunner().invoke(cli, ["tiles", "export", "--out", str(out), "--layers", "scenario",
                                       *_store_options(settings)])
    assert missing.exit_code == 2 and "--scenario" in missing.output
    wrong_format = CliRunner().invoke(cli, ["tiles", "export", "--out", str(out), "--format", "mbtiles",
                                            *_store_options(settings)])
    assert wrong_format.exit_code == 2 and "pmtiles" in wrong_format.output
    assert not out.exists()
    assert not list(tmp_path.glob(".x.pmtiles.*"))
