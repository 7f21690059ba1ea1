"""Restarting the service on the same data directory keeps units, scenarios, layers and versions."""
from __future__ import annotations

from api_helpers import AUTH, scenario_body
from fastapi.testclient import TestClient

from diagioi.api.app import create_app


def test_a_new_app_on_the_same_data_dir_serves_the_same_state(settings):
    with TestClient(create_app(settings)) as first:
        created = first.post("/api/scenarios", json=scenario_body(), headers=AUTH).json()
        first.post(f"/api/scenarios/{created['id']}/reassign",
                   json={"assignments": {"00004": "n1"}, "version": 1}, headers=AUTH)
        first.post("/api/layers/tourism_sites", headers=AUTH, json={
            "type": "Feature", "id": "s1", "geometry": {"type": "Point", "coordinates": [105.766, 21.619]},
            "properties": {"name": "Đền"}})
        health_before = first.get("/api/health").json()

    # Restart without --units: the unit dataset comes from the store's own copy.
    restarted_settings = settings.model_copy(update={"units_path": None})
    with TestClient(create_app(restarted_settings)) as second:
        health_after = second.get("/api/health").json()
        assert health_after["units_version"] == health_before["units_version"]
        assert health_after["units"] == 9
        assert health_after["layer_versions"]["tourism_sites"] == 1
        stored = second.get(f"/api/scenarios/{created['id']}").json()
        assert stored["version"] == 2
        assert stored["scenario"]["new_units"][0]["members"] == ["00001", "00002", "00003", "00004"]
        evaluation = second.get(f"/api/scenarios/{created['id']}/evaluation").json()
        assert evaluation["new_units"][0]["population"] == 10000
        # and the edit chain continues from the stored version
        next_edit = second.post(f"/api/scenarios/{created['id']}/reassign",
                                json={"assignments": {"00004": "n2"}, "version": 2}, headers=AUTH)
        assert next_edit.json()["version"] == 3
        assert [f["id"] for f in second.get("/api/layers/tourism_sites").json()["features"]] == ["s1"]


def test_a_fresh_store_without_units_serves_the_seeded_sample_region(tmp_path):
    from diagioi.api.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", token="t", web_dir=tmp_path / "no-web")
    with TestClient(create_app(settings)) as client:
        health = client.get("/api/health").json()
        assert (health["sample_data"], health["units_name"]) == (True, "sample data (geo.demo)")
        assert health["scenarios"] == 1
        assert health["layer_versions"] == {"industrial_clusters": 1, "tourism_sites": 1, "night_streets": 1}
        assert len(client.get("/api/layers/industrial_clusters").json()["features"]) >= 1
        west, south, east, north = client.get("/api/tiles/units.json").json()["bounds"]
        square = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        shrunk = [[(lon + (west + east) / 2) / 2, (lat + (south + north) / 2) / 2] for lon, lat in square]
        analysis = client.post("/api/analysis/polygon", json={"type": "Polygon", "coordinates": [shrunk]}).json()
        assert analysis["population"]["method"].startswith("raster")   # the sample population.tif is used

    with TestClient(create_app(settings)) as restarted:                 # no second seeding
        health = restarted.get("/api/health").json()
        assert health["scenarios"] == 1
        assert health["layer_versions"] == {"industrial_clusters": 1, "tourism_sites": 1, "night_streets": 1}


def test_a_layer_differing_only_in_ethnic_minority_share_is_served_after_a_restart(tmp_path, settings):
    """Issue 9: two layers that differ only in one figure are two datasets; the store serves the last one."""
    from helpers.grid import grid_frame

    shares = {}
    for name, share in (("first", 0.1), ("second", 0.6)):
        folder = tmp_path / name
        folder.mkdir()
        frame = grid_frame("EPSG:4326")
        frame["ethnic_minority_share"] = share
        frame.to_file(folder / "units.geojson", driver="GeoJSON")
        shares[name] = folder / "units.geojson"

    versions = []
    for path in (shares["first"], shares["second"]):
        with TestClient(create_app(settings.model_copy(update={"units_path": path}))) as client:
            versions.append(client.get("/api/health").json()["units_version"])
    assert versions[0] != versions[1]

    with TestClient(create_app(settings.model_copy(update={"units_path": None}))) as restarted:
        assert restarted.get("/api/health").json()["units_version"] == versions[1]
        features = restarted.get("/api/units").json()["features"]
        assert {f["properties"]["ethnic_minority_share"] for f in features} == {0.6}
