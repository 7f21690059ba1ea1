"""The planner's real case on the 2009 layer (issue 10): the seed case of the source documents.

Bắc Kạn city (8 units) annexes xã Cẩm Giàng of huyện Bạch Thông as a ward and makes xã Dương Quang a
ward, to meet the provincial-city standards of 1211/2016 (R1211) with a mountainous context. Every
figure of the parent is checked against an independent sum or union computed here.
"""
import json
import math
import subprocess
import sys

import pytest
import shapely
from pyproj import Geod

from diagioi.geo.evaluation import evaluate
from diagioi.geo.io import read_units
from diagioi.geo.scenario import Scenario

pytestmark = pytest.mark.real_data

OLD = "pre2025_communes_census2009_bk_tn_bg_bn.geojson"
BAC_KAN_CITY = ["01840", "01834", "01837", "01843", "01846", "01852", "01855", "01849"]
CAM_GIANG, DUONG_QUANG = "02008", "01849"
SEED = {
    "name": "TP Bắc Kạn mở rộng (tờ trình 2023)", "regime": "R1211",
    "parent": {"name": "Thành phố Bắc Kạn", "kind": "provincial_city", "scope": {"districts": ["TP. Bắc Kạn"]}},
    "context": {"mountainous": True},
    "new_units": [{"name": "Phường Cẩm Giàng", "kind": "ward", "members": [CAM_GIANG]},
                  {"name": "Phường Dương Quang", "kind": "ward", "members": [DUONG_QUANG]}],
}


@pytest.fixture(scope="module")
def old_units(shared_data):
    return read_units(shared_data / OLD)


def _union_km2(geometries) -> float:
    union = shapely.orient_polygons(shapely.union_all(list(geometries)))
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(union)[0]) / 1e6


def test_the_seed_case_counts_the_whole_city_and_the_annexed_commune(old_units):
    result = evaluate(old_units, Scenario.from_dict(SEED)).to_json()
    parent = result["totals"]["parent"]
    assert sorted(parent["scope"]["unit_codes"]) == sorted(BAC_KAN_CITY)
    nine = BAC_KAN_CITY + [CAM_GIANG]
    assert (parent["units_before"], parent["units_after"]) == (8, 9)
    assert parent["by_kind_after"] == {"commune": 1, "ward": 8}
    assert parent["ward_share_after"] == pytest.approx(8 / 9, abs=1e-4)
    assert parent["population"] == sum(int(old_units.lookup.population[c]) for c in nine)
    union = _union_km2(old_units.gdf.geometry.loc[nine])
    assert parent["area_km2"] == pytest.approx(union, abs=0.01)
    # The 2009 polygons of these 9 units overlap by 0.37 km²: the union is below the plain sum (147.37).
    assert math.fsum(old_units.lookup.area_km2[c] for c in nine) - union == pytest.approx(0.37, abs=0.01)
    standards = {s["criterion"]: s for s in parent["standards"]}
    assert standards["area_km2"]["value"] == pytest.approx(union, abs=0.01)
    assert standards["area_km2"]["threshold"] == 150 and standards["area_km2"]["passed"] is False
    assert standards["population"]["value"] == parent["population"] and standards["population"]["passed"] is False
    assert standards["subunits"]["value"] == 9 and standards["subunits"]["passed"] is False
    assert standards["ward_share"]["passed"] is True
    # The 7 units no new unit takes stay and count as themselves, with their own standards.
    unchanged = {u["code"]: u for u in result["unchanged_units"]}
    assert sorted(unchanged) == sorted(c for c in BAC_KAN_CITY if c != DUONG_QUANG)
    assert all(u["standards"] and "must_arrange" in u for u in unchanged.values())
    [bach_thong] = result["affected_parents"]
    assert bach_thong["name"] == "Huyện Bạch Thông" and bach_thong["units_lost"] == [CAM_GIANG]
    assert bach_thong["units_before"] - bach_thong["units_after"] == 1
    assert bach_thong["population_before"] - bach_thong["population_after"] == old_units.lookup.population[CAM_GIANG]
    # "One more commune of a neighbouring district": named candidates that close area and unit count.
    candidates = parent["candidates"]
    assert candidates and all(c["district"] != "Thành Phố Bắc Kạn" for c in candidates)
    first = candidates[0]
    assert first["closes"] == ["area_km2", "subunits"] and first["parent_after"]["units"] == 10
    assert first["parent_after"]["area_km2"] >= 150


def test_a_boundary_drawn_over_three_wards_moves_land_inside_the_city(old_units):
    drawn = shapely.Point(105.8552, 22.14917).buffer(0.006)      # where Nguyễn Thị Minh Khai, Đức Xuân, Huyền Tụng meet
    plan = dict(SEED, new_units=SEED["new_units"] + [
        {"name": "Khu đô thị mới", "kind": "ward", "members": [], "geometry": shapely.geometry.mapping(drawn)}])
    without = evaluate(old_units, Scenario.from_dict(SEED)).to_json()["totals"]["parent"]
    result = evaluate(old_units, Scenario.from_dict(plan)).to_json()
    parent = result["totals"]["parent"]
    assert parent["area_km2"] == pytest.approx(without["area_km2"], abs=0.01)
    assert parent["population"] == without["population"]
    assert parent["units_after"] == without["units_after"] + 1
    drawn_unit = result["new_units"][-1]
    cut = {p["code"]: p for p in drawn_unit["parts"]}
    assert sorted(cut) == ["01834", "01840", "01846"]
    unchanged = {u["code"]: u for u in result["unchanged_units"]}
    for code, part in cut.items():
        whole_km2 = old_units.lookup.area_km2[code]
        assert unchanged[code]["reduced"] is True
        assert unchanged[code]["area_km2"] + part["area_km2"] == pytest.approx(whole_km2, abs=1e-3)
        assert unchanged[code]["population"] + part["population"] == old_units.lookup.population[code]
        assert part["share"] == "một phần" and 0 < part["area_share"] < 1
    crosswalk = [r for r in evaluate(old_units, Scenario.from_dict(plan)).crosswalk() if r["new_name"] == "Khu đô thị mới"]
    assert {r["share"] for r in crosswalk} == {"một phần"}
    assert all(0 < r["population_share"] < 1 for r in crosswalk)
    assert drawn_unit["population"] == sum(p["population"] for p in cut.values())


def test_mountainous_flags_from_a_table_lower_the_2025_ward_floor(shared_data, tmp_path):
    flags = tmp_path / "flags.csv"
    flags.write_text("code,mountainous\n" + "".join(f"{c},1\n" for c in BAC_KAN_CITY), encoding="utf-8")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(dict(SEED, regime="R76", context={}), ensure_ascii=False), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "diagioi.api.cli", "evaluate", str(plan), "--units",
                          str(shared_data / OLD), "--flags", str(flags), "--json"],
                         capture_output=True, text=True, check=True)
    data = json.loads(run.stdout)
    assert data["flags_join"]["matched"] == 8
    duong_quang = next(u for u in data["new_units"] if u["members"] == [DUONG_QUANG])
    population = next(s for s in duong_quang["standards"] if s["criterion"] == "population")
    assert population["threshold"] == 15000
    assert population["variant_reason"] == "miền núi, vùng cao — theo bảng cờ flags.csv"
    # Cẩm Giàng is not in the table and the scenario has no context: lowland floor.
    cam_giang = next(u for u in data["new_units"] if u["members"] == [CAM_GIANG])
    assert next(s for s in cam_giang["standards"] if s["criterion"] == "population")["threshold"] == 21000
    for unit in data["unchanged_units"]:
        if unit["kind"] == "ward":
            assert next(s for s in unit["standards"] if s["criterion"] == "population")["threshold"] == 15000
