"""Evaluating a scenario as the whole arrangement of its parent (scope, parts, flags, honest statuses)."""
import pytest
import shapely

from diagioi.geo.area import geodesic_area_km2
from diagioi.geo.errors import ScenarioError
from diagioi.geo.evaluation import evaluate
from diagioi.geo.scenario import Scenario

SOUTH_ROWS = ["00001", "00002", "00003", "00004", "00005", "00006"]


def _plan(new_units, **extra):
    return Scenario.from_dict({"name": "thử", "regime": "R1211",
                               "parent": {"name": "Thị xã Mẫu", "kind": "town", "scope": {"codes": SOUTH_ROWS}},
                               "new_units": new_units, **extra})


def test_units_no_new_unit_takes_count_in_the_parent_as_themselves(grid_units):
    evaluation = evaluate(grid_units, _plan([{"name": "Phường Một", "kind": "ward", "members": ["00001", "00002"]}]))
    data = evaluation.to_json()
    parent = data["totals"]["parent"]
    assert (parent["units_before"], parent["units_after"]) == (6, 5)
    assert parent["by_kind_after"] == {"commune": 3, "ward": 2}
    assert parent["population"] == 21000
    union = geodesic_area_km2(shapely.union_all(grid_units.gdf.geometry.loc[SOUTH_ROWS].values))
    assert parent["area_km2"] == pytest.approx(union, abs=1e-4)
    subunits = next(s for s in parent["standards"] if s["criterion"] == "subunits")
    assert subunits["value"] == 5
    assert [u["code"] for u in data["unchanged_units"]] == ["00003", "00004", "00005", "00006"]
    ward = next(u for u in data["unchanged_units"] if u["code"] == "00005")
    assert ward["population"] == 5000 and ward["standards"] and ward["triggers"]
    assert data["affected_parents"] == []


def test_the_parent_after_a_reassignment_is_the_same_as_a_full_evaluation(grid_units):
    plan = _plan([{"id": "a", "name": "A", "kind": "ward", "members": ["00001"]},
                  {"id": "b", "name": "B", "kind": "xa", "members": ["00007"]}])
    evaluation = evaluate(grid_units, plan)
    moved, _touched = evaluation.reassign({"00002": "a", "00007": None})
    full = evaluate(grid_units, moved.scenario)
    assert moved.to_json()["totals"]["parent"] == full.to_json()["totals"]["parent"]
    assert moved.to_json()["totals"]["parent"]["units_after"] == 6   # a, b (empty) and 00003–00006


def test_a_new_unit_in_two_pieces_never_passes(grid_units):
    evaluation = evaluate(grid_units, _plan([{"name": "Xã Rời", "kind": "xa", "members": ["00001", "00003"]}]))
    [unit] = evaluation.to_json()["new_units"]
    assert unit["contiguous"] is False
    assert unit["status"] == "fail" and "not_contiguous" in unit["status_reasons"]


def test_a_member_with_population_zero_makes_the_population_standard_unknown(grid_units):
    grid_units.gdf.loc["00002", "population"] = 0
    grid_units.__dict__.pop("lookup", None)
    evaluation = evaluate(grid_units, _plan([{"name": "Phường", "kind": "ward", "members": ["00001", "00002"]}]))
    data = evaluation.to_json()
    [unit] = data["new_units"]
    assert unit["zero_population"] == ["00002"] and "zero_population" in unit["status_reasons"]
    population = next(s for s in unit["standards"] if s["criterion"] == "population")
    assert population["passed"] is None
    assert unit["status"] in ("unknown", "fail")
    assert data["totals"]["parent"]["zero_population"] == ["00002"]
    assert any("00002" in w for w in data["warnings"])


def test_two_new_units_with_one_name_are_refused(grid_units):
    with pytest.raises(ScenarioError, match="both named"):
        evaluate(grid_units, _plan([{"name": "Phường Một", "members": ["00001"]},
                                    {"name": "phường  MỘT", "members": ["00002"]}]))
    # Names that differ only by a diacritic are different names (Văn Lang, Văn Lăng).
    evaluate(grid_units, _plan([{"name": "Xã Văn Lang", "members": ["00001"]},
                                {"name": "Xã Văn Lăng", "members": ["00002"]}]))


def test_a_drawn_unit_takes_land_from_the_new_unit_whose_member_it_cuts(grid_units, grid_box):
    drawn = shapely.geometry.mapping(grid_box(1500, 1000, 2000, 2000))   # east half of 00005
    evaluation = evaluate(grid_units, _plan([
        {"id": "a", "name": "Phường Giữa", "kind": "ward", "members": ["00004", "00005"]},
        {"id": "d", "name": "Khu mới", "kind": "ward", "members": [], "geometry": drawn}]))
    data = evaluation.to_json()
    middle, new = data["new_units"]
    assert middle["reduced_members"] == ["00005"] and middle["population"] == 4000 + 2500
    assert middle["population_is_estimate"] is True
    assert new["population"] == 2500
    assert middle["area_km2"] + new["area_km2"] == pytest.approx(
        grid_units.lookup.area_km2["00004"] + grid_units.lookup.area_km2["00005"], abs=1e-4)
    rows = {(r["new_unit_id"], r["old_code"]): r for r in evaluation.crosswalk()}
    assert rows[("a", "00005")]["share"] == "một phần" and rows[("a", "00004")]["share"] == "toàn bộ"
    assert rows[("d", "00005")]["area_share"] == pytest.approx(0.5, abs=1e-3)
    parent = data["totals"]["parent"]
    assert parent["population"] == 21000 and parent["units_after"] == 6
    # The exported boundary is the cut land, not the drawn polygon.
    assert geodesic_area_km2(evaluation.new_unit_geometry("a")) == pytest.approx(middle["area_km2"], rel=1e-3)


def test_flags_per_unit_beat_the_context_and_each_variant_says_why(grid_units):
    plan = _plan([{"name": "Phường Năm", "kind": "ward", "members": ["00005"]},
                  {"name": "Phường Bốn", "kind": "ward", "members": ["00004"]}],
                 regime="R76", context={"mountainous": True}, unit_flags={"00004": {"mountainous": False}})
    data = evaluate(grid_units, plan).to_json()
    five, four = data["new_units"]
    threshold = {u["name"]: next(s for s in u["standards"] if s["criterion"] == "population") for u in (five, four)}
    assert threshold["Phường Năm"]["threshold"] == 15000
    assert threshold["Phường Năm"]["variant_reason"] == "miền núi, vùng cao — theo bối cảnh chung của phương án"
    assert threshold["Phường Bốn"]["threshold"] == 21000 and threshold["Phường Bốn"]["variant_reason"] is None
    assert five["flag_reasons"]["mountainous"].startswith("miền núi")


def test_exports_carry_the_cut_land_and_name_the_parts(grid_units, grid_box, tmp_path):
    from diagioi.geo.exports import write_new_units_geojson

    drawn = shapely.geometry.mapping(grid_box(500, 0, 1500, 1000))   # halves of 00001 and 00002
    evaluation = evaluate(grid_units, _plan([{"name": "Khu mới", "kind": "ward", "members": [], "geometry": drawn}]))
    frame = evaluation.new_units_gdf()
    assert frame.at[0, "parts"] == ["00001 (50.0%)", "00002 (50.0%)"]
    assert bool(frame.at[0, "population_is_estimate"]) is True
    path = tmp_path / "new.geojson"
    write_new_units_geojson(frame, path)
    import geopandas as gpd

    written = gpd.read_file(path)
    assert geodesic_area_km2(written.geometry.iat[0]) == pytest.approx(
        geodesic_area_km2(shapely.geometry.shape(drawn)), rel=1e-3)
    assert "00001" in str(written.at[0, "parts"])
