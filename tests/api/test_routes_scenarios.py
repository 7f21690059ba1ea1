"""Scenarios over HTTP: create, evaluate, reassign incrementally, optimistic concurrency."""
from __future__ import annotations

import threading

import pytest
from api_helpers import AUTH, scenario_body


def _create(client, **overrides) -> dict:
    response = client.post("/api/scenarios", json=scenario_body(**overrides), headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()


def test_created_scenario_is_evaluated_with_the_grid_figures(client):
    created = _create(client)
    assert created["version"] == 1
    assert created["scenario"]["new_units"][0]["members"] == ["00001", "00002", "00003"]

    evaluation = client.get(f"/api/scenarios/{created['id']}/evaluation").json()
    south, middle = evaluation["new_units"]
    assert (south["id"], south["population"]) == ("n1", 6000)          # 1000 + 2000 + 3000 người
    assert south["official_area_km2"] == pytest.approx(3.0)
    assert south["area_km2"] == pytest.approx(3.0, rel=2e-3)            # three 1 km squares, geodesic
    assert south["density"] == pytest.approx(2000.0)                    # người/km² on the official area
    assert middle["population"] == 15000 and middle["contiguous"] is True
    assert evaluation["totals"]["units_before"] == 6 and evaluation["totals"]["units_after"] == 2


def test_reassign_returns_only_the_changed_new_units(client):
    created = _create(client, new_units=[
        {"id": "n1", "name": "Xã Nam", "kind": "commune", "members": ["00001", "00002", "00003"]},
        {"id": "n2", "name": "Phường Giữa", "kind": "ward", "members": ["00004", "00005", "00006"]},
        {"id": "n3", "name": "Xã Bắc", "kind": "commune", "members": ["00007", "00008"]},
    ])
    response = client.post(f"/api/scenarios/{created['id']}/reassign",
                           json={"assignments": {"00004": "n1"}, "version": 1}, headers=AUTH)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["version"] == 2
    changed = {unit["id"]: unit for unit in result["changed"]}
    assert set(changed) == {"n1", "n2"}                                  # n3 untouched, not sent
    assert changed["n1"]["members"] == ["00001", "00002", "00003", "00004"]
    assert changed["n1"]["population"] == 10000
    assert changed["n2"]["population"] == 11000
    assert result["totals"]["units_after"] == 3

    stored = client.get(f"/api/scenarios/{created['id']}").json()
    assert stored["version"] == 2
    assert stored["scenario"]["new_units"][1]["members"] == ["00005", "00006"]


def test_reassign_to_null_takes_a_unit_out_of_the_scenario(client):
    created = _create(client)
    result = client.post(f"/api/scenarios/{created['id']}/reassign",
                         json={"assignments": {"00003": None}, "version": 1}, headers=AUTH).json()
    assert [unit["id"] for unit in result["changed"]] == ["n1"]
    assert result["changed"][0]["population"] == 3000


def test_stale_put_gets_409_with_the_current_version(client):
    created = _create(client)
    first = client.put(f"/api/scenarios/{created['id']}", json={**scenario_body(name="Bản 2"), "version": 1},
                       headers=AUTH)
    assert first.status_code == 200 and first.json()["version"] == 2

    stale = client.put(f"/api/scenarios/{created['id']}", json={**scenario_body(name="Bản khác"), "version": 1},
                       headers=AUTH)
    assert stale.status_code == 409
    body = stale.json()
    assert body["current_version"] == 2
    assert body["current"]["name"] == "Bản 2"
    assert "phiên bản 1" in body["detail"] and body["hint"].startswith("tải lại")  # Vietnamese by default
    assert body["code"] == "conflict"
    english = client.put(f"/api/scenarios/{created['id']}?lang=en", headers=AUTH,
                         json={**scenario_body(name="Bản khác"), "version": 1}).json()
    assert "version 1" in english["detail"] and english["hint"].startswith("reload")
    assert client.get(f"/api/scenarios/{created['id']}").json()["name"] == "Bản 2"


def test_two_writers_on_the_same_version_one_gets_409(client):
    created = _create(client)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def writer(code: str) -> None:
        barrier.wait()
        response = client.post(f"/api/scenarios/{created['id']}/reassign",
                               json={"assignments": {code: "n1"}, "version": 1}, headers=AUTH)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=writer, args=(code,)) for code in ("00007", "00008")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409]
    final = client.get(f"/api/scenarios/{created['id']}").json()
    assert final["version"] == 2
    assert len(final["scenario"]["new_units"][0]["members"]) == 4      # exactly one of the two moves


def test_unknown_member_code_is_a_422_naming_the_code(client):
    response = client.post("/api/scenarios", headers=AUTH, json=scenario_body(new_units=[
        {"id": "n1", "name": "Xã X", "kind": "commune", "members": ["00001", "99999"]}]))
    assert response.status_code == 422
    body = response.json()
    assert "99999" in body["detail"]
    assert body["context"]["unknown_codes"] == ["99999"]
    assert "giữ các số 0 ở đầu" in body["hint"]


def test_malformed_json_is_a_422_with_a_hint(client):
    response = client.post("/api/scenarios", content=b'{"name": "A", "new_units": [', headers={
        **AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == "nội dung yêu cầu không phải JSON hợp lệ (lỗi ở ký tự thứ 28)"
    assert "dấu ngoặc" in response.json()["hint"]


def test_missing_field_is_a_422_naming_the_field(client):
    response = client.post("/api/scenarios/abc/reassign", json={"assignments": {}}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["context"]["errors"][0]["location"] == "version"


def test_delete_then_read_gives_404_json(client):
    created = _create(client)
    assert client.delete(f"/api/scenarios/{created['id']}?version=1", headers=AUTH).status_code == 204
    missing = client.get(f"/api/scenarios/{created['id']}")
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"không có kịch bản {created['id']!r}",
                              "hint": "xem danh sách kịch bản bằng GET /api/scenarios",
                              "context": {"scenario_id": created["id"]}, "code": "not_found"}


def test_list_shows_scenarios_with_versions(client):
    first = _create(client, name="Một")
    second = _create(client, name="Hai")
    listing = client.get("/api/scenarios").json()
    assert listing["count"] == 2
    assert [(s["id"], s["name"], s["version"], s["new_units"]) for s in listing["data"]] == [
        (first["id"], "Một", 1, 2), (second["id"], "Hai", 1, 2)]


FLAGGED_UNIT = {"id": "n1", "name": "Xã Nam", "kind": "commune", "members": ["00001", "00002", "00003"],
                "mountainous": True, "border": True, "island": False, "central_city": False, "red_river_delta": True,
                "note": "giữ nguyên khi lưu"}


def test_a_saved_scenario_keeps_every_contract_field(client):
    body = scenario_body(description="mô tả", parent={"name": "Thị xã Lưới", "kind": "town",
                                                      "scope": {"codes": ["00001", "00002"]}},
                         context={"mountainous": True, "ethnic_minority_share": 0.5},
                         unit_flags={"00004": {"island": True}}, new_units=[FLAGGED_UNIT])
    created = _create(client, **body)
    body["dataset"] = created["units_version"]  # recorded by the service: the dataset it was built on
    assert created["scenario"] == body
    updated = client.put(f"/api/scenarios/{created['id']}", json={**created["scenario"], "name": "Đổi tên",
                                                                  "version": 1}, headers=AUTH)
    assert updated.status_code == 200, updated.text
    assert client.get(f"/api/scenarios/{created['id']}").json()["scenario"] == {**body, "name": "Đổi tên"}


def test_an_undocumented_field_in_a_scenario_body_is_refused_naming_it(client):
    unit = {**FLAGGED_UNIT, "colour": "red"}
    response = client.post("/api/scenarios", json=scenario_body(new_units=[unit]), headers=AUTH)
    assert response.status_code == 422
    error = response.json()
    assert error["detail"] == 'nội dung yêu cầu: đơn vị mới thứ 1 (Xã Nam): không nhận khoá "colour"'
    assert error["hint"].startswith("các khoá được nhận: ") and "red_river_delta" in error["hint"]
    assert error["context"]["errors"][0]["location"] == "new_units.0.colour"
    assert client.get("/api/scenarios").json()["count"] == 0


def test_evaluation_and_reassign_answers_follow_the_published_contract(client):
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" / "contract" / "evaluation.schema.json")
                        .read_text(encoding="utf-8"))
    created = _create(client)
    evaluation = client.get(f"/api/scenarios/{created['id']}/evaluation").json()
    jsonschema.validate(evaluation, schema)
    south = evaluation["new_units"][0]                   # 3 km² of 1 km² squares: exempt by the 76/2025 rule
    assert [(s["passed"], s["exempt"], s["status"]) for s in south["standards"]] == [
        (False, True, "exempt"), (False, True, "exempt")]
    reassigned = client.post(f"/api/scenarios/{created['id']}/reassign",
                             json={"assignments": {"00004": "n1"}, "version": 1}, headers=AUTH).json()
    changed_schema = {"$defs": schema["$defs"], "$ref": "#/$defs/NewUnitReport"}
    for unit in reassigned["changed"]:
        jsonschema.validate(unit, changed_schema)
    openapi = client.get("/openapi.json").json()
    assert "EvaluationReport" in openapi["components"]["schemas"]
