"""POST /api/scenarios/suggest on the 3×3 grid (codes 00001..00009, 00005 a ward)."""
from __future__ import annotations

from api_helpers import AUTH, GRID_CODES


def test_suggest_three_units_on_the_grid_and_save_them_as_scenarios(client):
    body = {"scope": {"provinces": ["Mẫu"]}, "target_units": 3, "seed": 1, "save": True}
    response = client.post("/api/scenarios/suggest", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    data = response.json()
    scenario = data["scenarios"][0]
    assert sorted(c for u in scenario["new_units"] for c in u["members"]) == GRID_CODES
    # 9 units of 1 km² into 3: each new unit merges 3 units, exempt under 76/2025 Art. 5 cl. 2.
    assert [len(u["members"]) for u in scenario["new_units"]] == [3, 3, 3]
    plan = data["report"]["plans"][0]
    assert plan["failing_units"] == 0 and plan["exempt_units"] == 3 and plan["non_contiguous_units"] == 0
    saved = data["saved"][0]
    stored = client.get(f"/api/scenarios/{saved['id']}/evaluation").json()
    assert {u["id"]: u["status"] for u in stored["new_units"]} == {u["id"]: u["status"] for u in plan["new_units"]}


def test_suggest_needs_the_write_token_and_a_target(client):
    body = {"scope": {"provinces": ["Mẫu"]}, "target_units": 3}
    assert client.post("/api/scenarios/suggest", json=body).status_code == 401
    missing = client.post("/api/scenarios/suggest", json={"scope": {"provinces": ["Mẫu"]}}, headers=AUTH)
    assert missing.status_code == 422
    assert "target_units" in missing.json()["detail"] + str(missing.json().get("hint"))
    unknown = client.post("/api/scenarios/suggest", json={"scope": {"provinces": ["Không Có"]}, "target_units": 2},
                          headers=AUTH)
    assert unknown.status_code in (404, 422) and unknown.json()["hint"]
    too_many = client.post("/api/scenarios/suggest", json={"scope": {"provinces": ["Mẫu"]}, "target_units": 12},
                           headers=AUTH)
    assert too_many.status_code == 422 and "between 1" in too_many.json()["detail"]


def test_parent_targets_over_the_api(client):
    body = {"mode": "parent_targets", "scope": {"codes": ["00001", "00002"]}, "regime": "R1211",
            "parent": {"name": "Thị xã Mẫu", "kind": "town"}, "max_annex": 1}
    response = client.post("/api/scenarios/suggest", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["before"]["units"] == 2 and data["before"]["population"] == 3000
    assert data["failing"]        # a town of 2 km² and 3,000 people fails the 1211 town standards
    for row in data["candidates"]:
        assert len(row["annex"]) <= 1 and row["parent_after"]["units"] == 2 + len(row["annex"])
        assert row["closes"] and set(row["closes"]) <= set(data["failing"])
