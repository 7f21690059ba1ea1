"""Evaluating scenarios: merged figures, contiguity, standards, totals, and incremental = full."""
import random

import pytest
import shapely

from diagioi.geo.area import geodesic_area_km2
from diagioi.geo.evaluation import evaluate
from diagioi.geo.io import read_units
from diagioi.geo.scenario import Scenario
from diagioi.geo.standards import RuleSet

GROUND = 1 / 0.9999**2  # km² of ground in 1 km² of the TM-3 grid


def _scenario(new_units, **extra):
    return Scenario.from_dict({"name": "thử", "new_units": new_units, **extra})


def test_merging_two_squares_adds_area_population_and_density(grid_units):
    evaluation = evaluate(grid_units, _scenario([{"name": "Phường Mới", "kind": "ward", "members": ["00004", "00005"]}]))
    [unit] = evaluation.to_json()["new_units"]
    assert unit["area_km2"] == pytest.approx(2 * GROUND, rel=5e-4)
    assert unit["official_area_km2"] == 2.0
    assert unit["area_basis"] == "official"
    assert unit["population"] == 9000
    assert unit["density"] == pytest.approx(4500.0)
    assert unit["contiguous"] is True
    assert unit["member_names"] == ["Ô 4", "Ô 5"]


def test_ward_below_the_2025_standard_fails_with_percent_of_standard(grid_units):
    evaluation = evaluate(grid_units, _scenario([{"name": "P", "kind": "ward", "members": ["00004", "00005"]}]))
    [unit] = evaluation.to_json()["new_units"]
    by_criterion = {s["criterion"]: s for s in unit["standards"]}
    assert by_criterion["area_km2"]["threshold"] == 5.5
    assert by_criterion["area_km2"]["passed"] is False
    assert by_criterion["area_km2"]["percent_of_standard"] == pytest.approx(36.4, abs=0.05)
    assert by_criterion["population"]["threshold"] == 21000
    assert by_criterion["population"]["percent_of_standard"] == pytest.approx(42.9, abs=0.05)
    assert "76/2025" in by_criterion["population"]["citation"]
    assert unit["status"] == "fail"


def test_merging_three_units_is_exempt_under_art_5_cl_2(grid_units):
    evaluation = evaluate(grid_units, _scenario([{"name": "X", "kind": "xa", "members": ["00001", "00002", "00003"]}]))
    [unit] = evaluation.to_json()["new_units"]
    assert unit["status"] == "exempt"
    assert all(s["exempt"] for s in unit["standards"])
    assert unit["population"] == 6000


def test_missing_official_area_falls_back_to_the_computed_one(grid_units):
    evaluation = evaluate(grid_units, _scenario([{"name": "X", "kind": "xa", "members": ["00008", "00009"]}]))
    [unit] = evaluation.to_json()["new_units"]
    assert unit["official_area_km2"] is None
    assert unit["area_basis"] == "computed"
    assert unit["density"] == pytest.approx(17000 / (2 * GROUND), rel=5e-4)


def test_non_contiguous_new_unit_names_its_parts(grid_units):
    evaluation = evaluate(grid_units, _scenario([{"name": "X", "kind": "xa", "members": ["00001", "00003"]}]))
    data = evaluation.to_json()
    assert data["new_units"][0]["contiguous"] is False
    assert data["new_units"][0]["components"] == [["00001"], ["00003"]]
    assert [w["code"] for w in data["warning_messages"]] == ["warning.not_contiguous"]
    assert data["warnings"] == ["X: không liền một dải — 2 phần rời: 00001 | 00003"]
    assert evaluation.to_json("en")["warnings"] == ["X: not contiguous — 2 separate parts: 00001 | 00003"]


def test_official_area_differing_more_than_one_percent_is_flagged(tmp_path):
    from helpers.grid import grid_frame

    frame = grid_frame("EPSG:4326")
    frame.loc[0, "area_km2_official"] = 0.9  # the cadastre says 0.9 km², the polygon has 1.0002
    path = tmp_path / "g.geojson"
    frame.to_file(path, driver="GeoJSON")
    units = read_units(path)
    data = evaluate(units, _scenario([{"name": "X", "kind": "xa", "members": ["00001", "00002"]}])).to_json()
    assert data["new_units"][0]["area_difference_pct"] == pytest.approx((2 * GROUND - 1.9) / 1.9 * 100, abs=0.05)
    assert data["new_units"][0]["area_differs"] is True
    assert any(w["code"] == "warning.area_differs" for w in data["warning_messages"])
    assert any("lệch" in w and "so với diện tích chính thức" in w for w in data["warnings"])


def test_overlapping_members_are_not_counted_twice(tmp_path):
    import geopandas as gpd

    a = shapely.box(105.0, 21.0, 105.01, 21.01)
    b = shapely.box(105.009, 21.0, 105.02, 21.01)  # overlaps a by 10 % of a cell
    frame = gpd.GeoDataFrame({"code": ["00001", "00002"], "name": ["a", "b"], "kind": ["xa", "xa"],
                              "population": [100, 100]}, geometry=[a, b], crs="EPSG:4326")
    path = tmp_path / "overlap.geojson"
    frame.to_file(path, driver="GeoJSON")
    units = read_units(path)
    evaluation = evaluate(units, _scenario([{"name": "X", "kind": "xa", "members": ["00001", "00002"]}]))
    [unit] = evaluation.to_json()["new_units"]
    assert unit["area_km2"] == pytest.approx(geodesic_area_km2(shapely.union(a, b)), rel=1e-4)
    assert unit["overlap_km2"] == pytest.approx(geodesic_area_km2(shapely.intersection(a, b)), rel=1e-3)
    assert geodesic_area_km2(evaluation.new_unit_geometry("n1")) == pytest.approx(unit["area_km2"], rel=1e-3)


def test_totals_and_provincial_city_standards(grid_units):
    scenario = _scenario(
        [{"name": "P1", "kind": "ward", "members": ["00004", "00005", "00006"]},
         {"name": "X1", "kind": "xa", "members": ["00001", "00002", "00003"]},
         {"name": "X2", "kind": "xa", "members": ["00007", "00008", "00009"]}],
        parent={"name": "Thành phố Mẫu", "kind": "provincial_city"})
    totals = evaluate(grid_units, scenario).to_json()["totals"]
    assert totals["units_before"] == 9 and totals["units_after"] == 3
    assert totals["by_kind_before"] == {"commune": 8, "ward": 1}
    assert totals["by_kind_after"] == {"ward": 1, "commune": 2}
    assert totals["ward_share_after"] == pytest.approx(1 / 3, abs=1e-4)
    assert totals["population"] == 45000
    parent = {s["criterion"]: s for s in totals["parent"]["standards"]}
    assert parent["area_km2"]["threshold"] == 150 and parent["area_km2"]["passed"] is False
    assert parent["population"]["threshold"] == 150000 and parent["population"]["passed"] is False
    assert parent["subunits"]["value"] == 3 and parent["subunits"]["threshold"] == 10
    assert parent["ward_share"]["threshold"] == 65 and parent["ward_share"]["passed"] is False


def test_a_boundary_drawn_around_a_whole_unit_takes_it_whole_with_its_population(grid_units):
    square = grid_units.gdf.geometry.loc["00005"]
    drawn = shapely.geometry.mapping(shapely.set_precision(square, 1e-9))
    evaluation = evaluate(grid_units, _scenario([{"name": "Vẽ tay", "kind": "ward", "members": [],
                                                  "geometry": drawn}]))
    [unit] = evaluation.to_json()["new_units"]
    assert unit["drawn"] is True
    assert unit["members"] == ["00005"] and unit["parts"] == []
    assert unit["area_km2"] == pytest.approx(GROUND, rel=1e-4)
    assert unit["population"] == 5000
    assert unit["population_is_estimate"] is False
    [row] = evaluation.crosswalk()
    assert (row["old_code"], row["share"], row["area_share"]) == ("00005", "toàn bộ", 1.0)


def test_a_drawn_boundary_over_half_a_unit_uses_an_area_weighted_estimate_without_raster(grid_units, grid_box):
    drawn = shapely.geometry.mapping(grid_box(1000, 1000, 1500, 2000))
    evaluation = evaluate(grid_units, _scenario([{"name": "Vẽ tay", "kind": "ward", "members": [],
                                                  "geometry": drawn}]))
    [unit] = evaluation.to_json()["new_units"]
    assert unit["members"] == [] and [p["code"] for p in unit["parts"]] == ["00005"]
    assert unit["area_km2"] == pytest.approx(GROUND / 2, rel=1e-3)
    assert unit["population"] == 2500
    assert unit["population_is_estimate"] is True
    assert unit["population_method"] == "area_weighted_units"
    assert "ước tính" in unit["population_source"]
    [row] = evaluation.crosswalk()
    assert (row["old_code"], row["share"]) == ("00005", "một phần")
    assert row["area_share"] == pytest.approx(0.5, abs=1e-3) and row["population_share"] == 0.5


def test_unknown_member_code_is_a_clear_error(grid_units):
    from diagioi.geo.errors import NotFoundError

    with pytest.raises(NotFoundError, match="1 unit code\\(s\\) not in .*: 99999"):
        evaluate(grid_units, _scenario([{"name": "X", "members": ["99999"]}]))


def test_regime_can_be_chosen_and_unconfirmed_regime_is_flagged(grid_units):
    scenario = _scenario([{"name": "X", "kind": "xa", "members": ["00001"]}])
    data = evaluate(grid_units, scenario, RuleSet.load("R112")).to_json()
    assert data["scenario"]["confirmed"] is False
    assert all(s["confirmed"] is False for s in data["new_units"][0]["standards"])
    assert {"code": "warning.regime_unconfirmed", "params": {"regime": "112/2025/UBTVQH15"}} in data["warning_messages"]


def _big_grid(tmp_path, n=8):
    import geopandas as gpd

    cells, rows = 0.01, []
    for i in range(n * n):
        x, y = 105.0 + (i % n) * cells, 21.0 + (i // n) * cells
        rows.append({"code": f"{i + 1:05d}", "name": f"u{i}", "kind": "phuong" if i % 3 == 0 else "xa",
                     "population": 1000 + 37 * i, "area_km2_official": None if i % 11 == 0 else 1.2,
                     "geometry": shapely.box(x, y, x + cells, y + cells)})
    path = tmp_path / "big.geojson"
    gpd.GeoDataFrame(rows, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return read_units(path)


def test_incremental_reassignment_matches_full_evaluation_at_every_step(tmp_path):
    units = _big_grid(tmp_path)
    codes = units.codes
    rng = random.Random(7)
    new_units = [{"id": f"n{k}", "name": f"Mới {k}", "kind": "ward" if k % 2 else "xa",
                  "members": codes[k * 12:(k + 1) * 12]} for k in range(5)]
    scenario = _scenario(new_units, parent={"name": "TP", "kind": "provincial_city"})
    current = evaluate(units, scenario)
    for _step in range(150):
        code = rng.choice(codes)
        target = rng.choice([None, "n0", "n1", "n2", "n3", "n4"])
        current, changed = current.reassign({code: target})
        full = evaluate(units, current.scenario)
        assert current.to_json() == full.to_json()
        assert set(changed) <= {u.id for u in current.scenario.new_units}


def test_reassign_returns_only_the_touched_new_units(grid_units):
    scenario = _scenario([{"name": "A", "members": ["00001", "00002"]}, {"name": "B", "members": ["00003"]},
                          {"name": "C", "members": ["00007"]}])
    evaluation = evaluate(grid_units, scenario)
    moved, changed = evaluation.reassign({"00002": "n2"})
    assert changed == ["n1", "n2"]
    assert moved.results["n3"] is evaluation.results["n3"]
    assert moved.to_json()["new_units"][1]["population"] == 5000


def test_red_river_delta_commune_needs_70_percent_of_the_1211_area(grid_units):
    scenario = _scenario([{"name": "X", "kind": "xa", "members": ["00001", "00002"], "red_river_delta": True}])
    [unit] = evaluate(grid_units, scenario, RuleSet.load("R1211")).to_json()["new_units"]
    area = {s["criterion"]: s for s in unit["standards"]}["area_km2"]
    assert area["threshold"] == pytest.approx(0.7 * 30)


def test_dissolving_sloppy_neighbours_closes_the_sliver_and_reports_it(tmp_path):
    import geopandas as gpd

    a = shapely.box(105.0, 21.0, 105.01, 21.01)
    b = shapely.box(105.0101, 21.0, 105.02, 21.01)  # a ~10 m gap between the two communes
    frame = gpd.GeoDataFrame({"code": ["00001", "00002"], "name": ["a", "b"], "kind": ["xa", "xa"],
                              "population": [100, 100]}, geometry=[a, b], crs="EPSG:4326")
    path = tmp_path / "gap.geojson"
    frame.to_file(path, driver="GeoJSON")
    evaluation = evaluate(read_units(path), _scenario([{"name": "X", "kind": "xa", "members": ["00001", "00002"]}]))
    merged = evaluation.new_unit_geometry("n1")
    assert merged.geom_type == "Polygon" and len(merged.interiors) == 0
    gap_km2 = geodesic_area_km2(shapely.box(105.01, 21.0, 105.0101, 21.01))
    assert evaluation.sliver_km2("n1") == pytest.approx(gap_km2, rel=0.05)
    row = evaluation.new_units_gdf().iloc[0]
    assert row["sliver_closed_km2"] == pytest.approx(gap_km2, rel=0.05)
    # The figures keep the members' measured areas: the closed sliver is reported, not added.
    assert evaluation.to_json()["new_units"][0]["area_km2"] == pytest.approx(
        geodesic_area_km2(a) + geodesic_area_km2(b), rel=1e-4)


def test_region_flags_come_from_the_units_layer(tmp_path):
    from helpers.grid import grid_frame

    frame = grid_frame("EPSG:4326")
    frame["dong_bang_song_hong"] = [1, 1, 0, 0, 0, 0, 0, 0, 0]
    path = tmp_path / "delta.geojson"
    frame.to_file(path, driver="GeoJSON")
    units = read_units(path)
    assert units.gdf["red_river_delta"].tolist()[:3] == [True, True, False]
    inside = _scenario([{"name": "X", "kind": "xa", "members": ["00001", "00002"]}])
    [unit] = evaluate(units, inside, RuleSet.load("R1211")).to_json()["new_units"]
    assert {s["criterion"]: s for s in unit["standards"]}["area_km2"]["threshold"] == pytest.approx(21.0)
    outside = _scenario([{"name": "X", "kind": "xa", "members": ["00002", "00003", "00006"]}])
    [unit] = evaluate(units, outside, RuleSet.load("R1211")).to_json()["new_units"]
    assert {s["criterion"]: s for s in unit["standards"]}["area_km2"]["threshold"] == 30


def test_ethnic_minority_share_lowers_the_1211_population_floor(tmp_path):
    from helpers.grid import grid_frame

    frame = grid_frame("EPSG:4326")
    frame["mountainous"] = True
    frame["ty_le_dtts"] = [60.0, 0.6, None, 10, 10, 10, 10, 10, 10]  # percent or fraction; one unknown
    path = tmp_path / "ethnic.geojson"
    frame.to_file(path, driver="GeoJSON")
    units = read_units(path)
    assert units.gdf["ethnic_minority_share"].tolist()[:2] == [0.6, 0.6]
    scenario = _scenario([{"name": "X", "kind": "xa", "members": ["00001", "00002"]},
                          {"name": "Y", "kind": "xa", "members": ["00002", "00003"][1:]}])
    first, second = evaluate(units, scenario, RuleSet.load("R1211")).to_json()["new_units"]
    # 60 % ethnic minority in a mountainous commune: 50 % − 3 × 5 points = 35 % of 5,000 people.
    assert {s["criterion"]: s for s in first["standards"]}["population"]["threshold"] == pytest.approx(1750)
    # Unknown share: the plain mountainous floor.
    assert {s["criterion"]: s for s in second["standards"]}["population"]["threshold"] == 5000
