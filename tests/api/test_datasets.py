"""Several units datasets side by side; scenarios stay on the dataset they were built on (issues 10 and 12).

The grid of tests/conftest.py is dataset "2009"; "2024" is the same grid with every population
doubled and unit 00009 gone (merged away in the new layer).
"""
from __future__ import annotations

import pytest
from api_helpers import AUTH, scenario_body
from fastapi.testclient import TestClient

from diagioi.api.app import create_app
from helpers.grid import grid_frame


@pytest.fixture
def newer_units(tmp_path):
    frame = grid_frame("EPSG:4326")
    frame["population"] = frame["population"] * 2
    frame = frame[frame["code"] != "00009"]
    path = tmp_path / "grid-2024.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def _with_00009(body: dict) -> dict:
    body["new_units"][0]["members"] = ["00001", "00002", "00003", "00009"]
    return body


def upload(client, path, **fields):
    return client.post("/api/datasets", headers=AUTH, data=fields,
                       files={"file": (path.name, path.read_bytes(), "application/geo+json")})


def test_upload_a_second_dataset_and_list_both(client, newer_units):
    default = client.get("/api/health").json()["units_version"]
    response = upload(client, newer_units, name="Lưới 2024", data_date="2024-12-31")
    assert response.status_code == 201, response.text
    uploaded = response.json()
    assert (uploaded["name"], uploaded["data_date"], uploaded["unit_count"], uploaded["active"]) == (
        "Lưới 2024", "2024-12-31", 8, False)
    assert uploaded["source"] == "upload: grid-2024.geojson"

    listing = client.get("/api/datasets").json()
    assert listing["default"] == default  # an upload does not change what is served
    assert [d["version"] for d in listing["data"]] == [default, uploaded["version"]]
    assert client.get(f"/api/datasets/{uploaded['version']}").json()["unit_count"] == 8
    assert client.get("/api/health").json()["units_version"] == default


def test_an_upload_answers_with_its_import_report_level_issues_and_topology(client, tmp_path):
    frame = grid_frame("EPSG:4326")
    frame.loc[frame["code"] == "00002", "population"] = 0           # reported per unit, typed
    frame.loc[frame["code"] == "00003", "geometry"] = frame.loc[frame["code"] == "00003", "geometry"].translate(
        xoff=-0.001)                                                    # overlaps 00002 by a strip
    path = tmp_path / "grid-overlap.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = upload(client, path, name="Lưới chồng lấn", source="Sở TN&MT (thử)").json()
    assert report["source"] == "Sở TN&MT (thử) (upload: grid-overlap.geojson)"
    assert report["level"] == "commune" and report["level_reason"]
    assert [(i["code"], i["type"]) for i in report["issues"] if i["type"] == "zero_population"] == [("00002", "zero_population")]
    assert report["topology"]["n_units"] == 9
    assert report["topology"]["n_overlaps"] >= 1 and report["topology"]["overlap_km2"] > 0


def test_uploads_need_the_write_token_and_a_units_file(client, newer_units):
    anonymous = client.post("/api/datasets", files={"file": ("a.geojson", newer_units.read_bytes())})
    assert anonymous.status_code == 401
    wrong = client.post("/api/datasets", headers=AUTH, files={"file": ("a.exe", b"MZ")})
    assert wrong.status_code == 422
    assert "GeoJSON" in wrong.json()["detail"]
    assert client.get("/api/datasets/0000000000000000").status_code == 404


def test_a_refused_upload_names_the_file_as_sent_never_the_servers_temporary_folder(client):
    no_codes = b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"ten":"x"},' \
               b'"geometry":{"type":"Point","coordinates":[105.8,22.1]}}]}'
    response = client.post("/api/datasets", files={"file": ("xa.geojson", no_codes)}, headers=AUTH)
    assert response.status_code == 422
    body = response.json()
    assert body["context"]["file"] == "xa.geojson"
    assert "/tmp" not in response.text and "diagioi-upload" not in response.text


def test_a_scenario_stays_on_its_dataset_after_the_default_changes_until_it_is_migrated(settings, newer_units):
    with TestClient(create_app(settings)) as first:
        created = first.post("/api/scenarios", json=_with_00009(scenario_body()), headers=AUTH).json()
        old_version = created["units_version"]
        assert created["scenario"]["dataset"] == old_version
        assert created["dataset_outdated"] is False

    # The server restarts on the 2024 layer: the scenario is shown as built on the older dataset
    # and is still evaluated on it (population of the 2009 layer, unit 00009 included).
    with TestClient(create_app(settings.model_copy(update={"units_path": newer_units}))) as second:
        new_version = second.get("/api/health").json()["units_version"]
        assert new_version != old_version
        stored = second.get(f"/api/scenarios/{created['id']}").json()
        assert (stored["units_version"], stored["dataset_outdated"], stored["default_units_version"]) == (
            old_version, True, new_version)
        summary = second.get("/api/scenarios").json()["data"][0]
        assert (summary["units_version"], summary["dataset_outdated"]) == (old_version, True)
        evaluation = second.get(f"/api/scenarios/{created['id']}/evaluation")
        assert evaluation.headers["X-Units-Version"] == old_version
        assert evaluation.headers["X-Dataset-Outdated"] == "true"
        south = evaluation.json()["new_units"][0]
        assert south["population"] == 1000 + 2000 + 3000 + 9000

        # Edits keep it on its dataset; a save cannot move it silently.
        moved = second.post(f"/api/scenarios/{created['id']}/reassign",
                            json={"assignments": {"00004": "n1"}, "version": 1}, headers=AUTH)
        assert moved.status_code == 200, moved.text
        assert second.get(f"/api/scenarios/{created['id']}").json()["units_version"] == old_version
        body = {**second.get(f"/api/scenarios/{created['id']}").json()["scenario"], "dataset": new_version}
        refused = second.put(f"/api/scenarios/{created['id']}", json={**body, "version": 2}, headers=AUTH)
        assert refused.status_code == 422
        assert "migrate" in refused.json()["hint"]

        # The planner previews, then moves it: 00009 no longer exists, the other members changed figures.
        preview = second.post(f"/api/scenarios/{created['id']}/migrate", json={"version": 2, "dry_run": True},
                              headers=AUTH).json()
        assert (preview["saved"], preview["from_dataset"], preview["to_dataset"]) == (False, old_version,
                                                                                    new_version)
        assert preview["removed_units"] == [{"code": "00009", "name": "Ô 9", "new_unit_id": "n1",
                                             "new_unit_name": "Xã Nam"}]
        changed = {item["code"]: item for item in preview["changed_units"]}
        assert (changed["00001"]["before"]["population"], changed["00001"]["after"]["population"]) == (1000, 2000)
        assert second.get(f"/api/scenarios/{created['id']}").json()["version"] == 2  # nothing saved

        migrated = second.post(f"/api/scenarios/{created['id']}/migrate", json={"version": 2}, headers=AUTH)
        assert migrated.status_code == 200, migrated.text
        assert (migrated.json()["saved"], migrated.json()["version"]) == (True, 3)
        stored = second.get(f"/api/scenarios/{created['id']}").json()
        assert (stored["units_version"], stored["dataset_outdated"]) == (new_version, False)
        assert stored["scenario"]["new_units"][0]["members"] == ["00001", "00002", "00003", "00004"]
        evaluation = second.get(f"/api/scenarios/{created['id']}/evaluation").json()
        assert evaluation["new_units"][0]["population"] == 2 * (1000 + 2000 + 3000 + 4000)
        stale = second.post(f"/api/scenarios/{created['id']}/migrate", json={"version": 2}, headers=AUTH)
        assert stale.status_code == 409


def test_a_new_scenario_can_be_built_on_a_dataset_that_is_not_the_default(client, newer_units):
    uploaded = upload(client, newer_units, name="Lưới 2024").json()
    created = client.post("/api/scenarios", headers=AUTH,
                          json=scenario_body(dataset=uploaded["version"])).json()
    assert (created["units_version"], created["dataset_outdated"]) == (uploaded["version"], True)
    evaluation = client.get(f"/api/scenarios/{created['id']}/evaluation").json()
    assert evaluation["new_units"][0]["population"] == 2 * (1000 + 2000 + 3000)
    assert client.get("/api/datasets").json()["data"][1]["scenarios"] == 1

    unknown = client.post("/api/scenarios", headers=AUTH, json=scenario_body(dataset="0000000000000000"))
    assert unknown.status_code == 422
    assert unknown.json()["context"]["dataset"] == "0000000000000000"
    gone = client.post("/api/scenarios", headers=AUTH,
                       json=_with_00009(scenario_body(dataset=uploaded["version"])))
    assert gone.status_code == 422
    assert gone.json()["context"]["unknown_codes"] == ["00009"]


def test_activating_a_dataset_changes_the_default_and_survives_a_restart(settings, newer_units):
    with TestClient(create_app(settings)) as client:
        first = client.get("/api/health").json()["units_version"]
        uploaded = upload(client, newer_units, name="Lưới 2024").json()
        assert client.post(f"/api/datasets/{uploaded['version']}/activate").status_code == 401
        activated = client.post(f"/api/datasets/{uploaded['version']}/activate", headers=AUTH).json()
        assert activated["active"] is True
        assert client.get("/api/health").json()["units_version"] == uploaded["version"]
        assert len(client.get("/api/units").json()["features"]) == 8
        audit = client.get("/api/audit", params={"object_type": "unit_dataset"}).json()
        assert [(e["action"], e["object_id"]) for e in audit][:2] == [("activate", uploaded["version"]),
                                                                       ("import", uploaded["version"])]
    with TestClient(create_app(settings.model_copy(update={"units_path": None}))) as restarted:
        assert restarted.get("/api/health").json()["units_version"] == uploaded["version"]
        assert [d["active"] for d in restarted.get("/api/datasets").json()["data"]] == [False, True]
        assert first != uploaded["version"]


def test_the_units_of_another_dataset_can_be_listed_and_tiled_beside_the_default(client, newer_units):
    """For a map of the old and the new layer overlaid: GET /api/units?dataset= and the units-{version} tiles."""
    uploaded = upload(client, newer_units, name="Lưới 2024").json()
    default = client.get("/api/units?geometry=false")
    other = client.get("/api/units", params={"dataset": uploaded["version"], "geometry": "false"})
    assert (len(default.json()["features"]), len(other.json()["features"])) == (9, 8)
    assert other.headers["X-Units-Version"] == uploaded["version"]
    assert {f["properties"]["population"] for f in other.json()["features"]} == {2000 * k for k in range(1, 9)}

    tilejson = client.get(f"/api/tiles/units-{uploaded['version']}.json")
    assert tilejson.status_code == 200, tilejson.text
    assert tilejson.json()["data_version"] == uploaded["version"]
    assert client.get("/api/tiles/units-0000000000000000.json").status_code == 404
    assert client.get("/api/units", params={"dataset": "0000000000000000"}).status_code == 404
