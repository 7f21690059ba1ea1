"""PATCH a stored scenario: parent, scope, regime, description and flags change; new units stay."""
from __future__ import annotations

from api_helpers import AUTH, scenario_body


def _create(client) -> dict:
    response = client.post("/api/scenarios", json=scenario_body(), headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()


def test_setting_a_parent_with_a_scope_counts_the_units_that_stay(client):
    created = _create(client)
    response = client.patch(f"/api/scenarios/{created['id']}", headers=AUTH, json={
        "version": 1, "regime": "R1211", "description": "cả huyện",
        "parent": {"name": "Huyện Mẫu", "kind": "district", "scope": {"districts": ["huyen mau"]}},
        "context": {"mountainous": True}, "unit_flags": {"00009": {"border": True}}})
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["version"] == 2
    assert stored["scenario"]["parent"]["scope"] == {"districts": ["huyen mau"]}
    assert stored["scenario"]["unit_flags"] == {"00009": {"border": True}}
    assert stored["scenario"]["new_units"] == created["scenario"]["new_units"]
    evaluation = client.get(f"/api/scenarios/{created['id']}/evaluation").json()
    parent = evaluation["totals"]["parent"]
    # Two new units plus the three grid squares no new unit takes (00007, 00008, 00009).
    assert (parent["units_before"], parent["units_after"]) == (9, 5)
    assert parent["population"] == sum(1000 * k for k in range(1, 10))
    assert [u["code"] for u in evaluation["unchanged_units"]] == ["00007", "00008", "00009"]


def test_null_clears_a_field_and_a_stale_version_is_refused(client):
    created = _create(client)
    first = client.patch(f"/api/scenarios/{created['id']}", headers=AUTH,
                         json={"version": 1, "context": {"island": True}})
    assert first.status_code == 200
    cleared = client.patch(f"/api/scenarios/{created['id']}", headers=AUTH, json={"version": 2, "context": None})
    assert cleared.status_code == 200 and "context" not in cleared.json()["scenario"]
    stale = client.patch(f"/api/scenarios/{created['id']}", headers=AUTH, json={"version": 1, "regime": "R76"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 3


def test_bad_changes_are_refused_with_what_to_fix(client):
    created = _create(client)
    url = f"/api/scenarios/{created['id']}"
    unknown_district = client.patch(url, headers=AUTH, json={
        "version": 1, "parent": {"name": "X", "kind": "district", "scope": {"districts": ["Huyện Không Có"]}}})
    assert unknown_district.status_code == 422
    assert "Huyện Không Có" in unknown_district.json()["detail"]
    rules_file = client.patch(url, headers=AUTH, json={"version": 1, "regime": "/etc/rules.yaml"})
    assert rules_file.status_code == 422
    new_units = client.patch(url, headers=AUTH, json={"version": 1, "new_units": []})
    assert new_units.status_code == 422
    bad_flag = client.patch(url, headers=AUTH, json={"version": 1, "context": {"mountainous": "yes please"}})
    assert bad_flag.status_code == 422 and bad_flag.json()["hint"]
    assert client.patch(url, json={"version": 1, "regime": "R76"}).status_code == 401
    assert client.get(url).json()["version"] == 1


def test_a_flags_table_uploaded_into_a_scenario_changes_the_thresholds(client):
    created = _create(client)
    url = f"/api/scenarios/{created['id']}"
    table = "Mã xã,Miền núi\n00004,có\n00005,1\n00006,x\n".encode()
    response = client.post(f"{url}/flags", headers=AUTH, data={"version": "1"},
                           files={"file": ("vung-cao.csv", table, "text/csv")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2 and body["flags_join"]["matched"] == 3
    assert body["scenario"]["unit_flags"] == {code: {"mountainous": True} for code in ("00004", "00005", "00006")}
    middle = next(u for u in client.get(f"{url}/evaluation").json()["new_units"] if u["id"] == "n2")
    population = next(s for s in middle["standards"] if s["criterion"] == "population")
    assert population["threshold"] == 15000          # 76/2025 ward floor for mountainous wards
    assert "bảng cờ" in population["variant_reason"]


def test_a_flags_table_with_an_unknown_unit_or_a_stale_version_is_refused(client):
    created = _create(client)
    url = f"/api/scenarios/{created['id']}/flags"
    unknown = client.post(url, headers=AUTH, data={"version": "1"},
                          files={"file": ("f.csv", b"code,mountainous\n99999,1\n", "text/csv")})
    assert unknown.status_code == 422 and "không khớp với đơn vị nào" in unknown.json()["detail"]
    stale = client.post(url, headers=AUTH, data={"version": "7"},
                        files={"file": ("f.csv", b"code,mountainous\n00001,1\n", "text/csv")})
    assert stale.status_code == 409
    wrong_type = client.post(url, headers=AUTH, data={"version": "1"},
                             files={"file": ("f.exe", b"MZ", "application/octet-stream")})
    assert wrong_type.status_code == 422
    assert client.get(f"/api/scenarios/{created['id']}").json()["version"] == 1
