"""Several workers on one store (``diagioi serve --workers N``, or N machines on one PostGIS).

Each worker keeps its own caches; they are keyed by the versions read from the store on each
request, so an edit acknowledged by one worker is what every other worker serves next — never
a stale evaluation or tile. Two apps on the same store stand for two workers (run with
``--api-store postgis`` for PostGIS).
"""
from __future__ import annotations

import mapbox_vector_tile
from api_helpers import AUTH, grid_tile, scenario_body
from fastapi.testclient import TestClient

from diagioi.api.app import create_app


def _scenario_tile_members(client, scenario_id: str) -> dict[str, str]:
    tilejson = client.get(f"/api/tiles/scenario-{scenario_id}.json").json()
    z, x, y = grid_tile(client)
    url = tilejson["tiles"][0].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    layer = mapbox_vector_tile.decode(client.get(url).content)[f"scenario-{scenario_id}"]
    return {f["properties"]["new_unit_id"]: f["properties"]["members"] for f in layer["features"]}


def test_an_edit_through_one_worker_is_served_by_the_other_at_once(settings):
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        created = first.post("/api/scenarios", json=scenario_body(), headers=AUTH).json()
        # The second worker builds and caches version 1 (evaluation, tile source, tiles)...
        assert second.get(f"/api/scenarios/{created['id']}/evaluation").json()["new_units"][0]["population"] == 6000
        assert _scenario_tile_members(second, created["id"])["n1"] == "00001;00002;00003"

        # ...the first acknowledges an edit...
        moved = first.post(f"/api/scenarios/{created['id']}/reassign",
                           json={"assignments": {"00004": "n1"}, "version": 1}, headers=AUTH)
        assert moved.status_code == 200

        # ...and the second serves the new version on its next requests.
        assert second.get(f"/api/scenarios/{created['id']}").json()["version"] == 2
        assert second.get(f"/api/scenarios/{created['id']}/evaluation").json()["new_units"][0]["population"] == 10000
        assert _scenario_tile_members(second, created["id"])["n1"] == "00001;00002;00003;00004"

        # A stale edit through the second worker is refused, whoever made the newer version.
        stale = second.post(f"/api/scenarios/{created['id']}/reassign",
                            json={"assignments": {"00005": "n1"}, "version": 1}, headers=AUTH)
        assert stale.status_code == 409
        assert stale.json()["context"]["current_version"] == 2

        # Zoning layers too: a feature added through one worker is in the other's layer and tiles.
        before = second.get("/api/tiles/tourism_sites.json").json()["data_version"]
        first.post("/api/layers/tourism_sites", headers=AUTH, json={
            "type": "Feature", "id": "s1", "geometry": {"type": "Point", "coordinates": [105.766, 21.619]},
            "properties": {"name": "Đền"}})
        assert [f["id"] for f in second.get("/api/layers/tourism_sites").json()["features"]] == ["s1"]
        assert second.get("/api/tiles/tourism_sites.json").json()["data_version"] != before


def _units_tile_populations(client) -> dict[str, int]:
    tilejson = client.get("/api/tiles/units.json").json()
    z, x, y = grid_tile(client)
    url = tilejson["tiles"][0].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    layer = mapbox_vector_tile.decode(client.get(url).content)["units"]
    return {f["properties"]["code"]: f["properties"]["population"] for f in layer["features"]}


def test_a_dataset_activated_through_one_worker_is_the_default_of_the_other(settings, tmp_path):
    from helpers.grid import grid_frame

    newer = grid_frame("EPSG:4326")
    newer["population"] = newer["population"] * 2
    newer = newer[newer["code"] != "00009"]
    path = tmp_path / "grid-2024.geojson"
    newer.to_file(path, driver="GeoJSON")

    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        old_version = second.get("/api/health").json()["units_version"]
        # The second worker has the old default in its caches (units, units tiles).
        assert _units_tile_populations(second)["00001"] == 1000
        assert len(second.get("/api/units").json()["features"]) == 9

        uploaded = first.post("/api/datasets", headers=AUTH, data={"name": "Lưới 2024", "activate": "true"},
                              files={"file": (path.name, path.read_bytes(), "application/geo+json")})
        assert uploaded.status_code == 201, uploaded.text
        new_version = uploaded.json()["version"]
        assert new_version != old_version

        # The other worker serves the new default on its next request: health, units, tiles, listing.
        assert second.get("/api/health").json()["units_version"] == new_version
        assert len(second.get("/api/units").json()["features"]) == 8
        assert _units_tile_populations(second)["00001"] == 2000
        assert "00009" not in _units_tile_populations(second)
        assert second.get("/api/datasets").json()["default"] == new_version

        # And back: activating the old dataset through the second worker switches the first.
        assert second.post(f"/api/datasets/{old_version}/activate", headers=AUTH).status_code == 200
        assert first.get("/api/health").json()["units_version"] == old_version
        assert _units_tile_populations(first)["00001"] == 1000


def test_a_zoning_edit_through_one_worker_changes_the_scenario_tiles_of_the_other(settings):
    from pyproj import Transformer

    # A point inside unit 00002 (the middle of the south row, i.e. in new unit n1).
    lon, lat = Transformer.from_crs(9210, 4326, always_xy=True).transform(501_500.0, 2_390_500.0)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        created = first.post("/api/scenarios", json=scenario_body(), headers=AUTH).json()
        layer = f"scenario-{created['id']}"

        def site_counts(client) -> dict[str, int]:
            tilejson = client.get(f"/api/tiles/{layer}.json").json()
            z, x, y = grid_tile(client)
            url = tilejson["tiles"][0].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
            features = mapbox_vector_tile.decode(client.get(url).content)[layer]["features"]
            return {f["properties"]["new_unit_id"]: f["properties"]["tourism_site_count"] for f in features}

        assert site_counts(second) == {"n1": 0, "n2": 0}   # built and cached by the second worker
        added = first.post("/api/layers/tourism_sites", headers=AUTH, json={
            "type": "Feature", "id": "den", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": "Đền Ô 2"}})
        assert added.status_code == 201, added.text
        # The new units' zoning indicators in the second worker's tiles count it at once.
        assert site_counts(second) == {"n1": 1, "n2": 0}


def test_a_worker_catches_up_on_another_workers_reassigns_without_evaluating_the_whole_scenario_again(settings):
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        created = first.post("/api/scenarios", json=scenario_body(), headers=AUTH).json()
        sid = created["id"]
        assert second.get(f"/api/scenarios/{sid}/evaluation").status_code == 200  # the second worker has v1
        version = 1
        for code, target in (("00007", "n1"), ("00004", "n1"), ("00008", "n2"), ("00002", "n2"), ("00007", None)):
            moved = first.post(f"/api/scenarios/{sid}/reassign", headers=AUTH,
                               json={"assignments": {code: target}, "version": version})
            version = moved.json()["version"]
        expected = first.get(f"/api/scenarios/{sid}/evaluation").json()

        service = second.app.state.service
        full_evaluations = []
        original = service.evaluate
        service.evaluate = lambda *args, **kwargs: full_evaluations.append(args) or original(*args, **kwargs)
        caught_up = second.get(f"/api/scenarios/{sid}/evaluation").json()  # v6, four moves after its v1

        assert full_evaluations == []  # only the touched new units were recomputed
        assert caught_up == expected
        assert [u["members"] for u in caught_up["new_units"]] == [["00001", "00003", "00004"],
                                                                  ["00005", "00006", "00008", "00002"]]

        # A change other than moves (here a rename) is evaluated in full, and still right.
        first.patch(f"/api/scenarios/{sid}", headers=AUTH, json={"name": "Đổi tên", "version": version})
        renamed = second.get(f"/api/scenarios/{sid}/evaluation").json()
        assert renamed["scenario"]["name"] == "Đổi tên" and len(full_evaluations) == 1
        assert renamed["new_units"] == caught_up["new_units"]
