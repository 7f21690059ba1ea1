"""Search for what is missing: neighbours whose annexation closes a parent's failing standard."""
import pytest

from diagioi.geo.candidates import annexation_candidates
from diagioi.geo.standards import ParentFigures, RuleSet

# A town's standards scaled to the 1 km grid: 3.5 km², 4 units, 50 % wards, 1 person (population never binding).
RULES = RuleSet.load("R1211").with_overrides({
    "r1211.town.area_km2": 3.5, "r1211.town.subunits": 4, "r1211.town.ward_share": 50, "r1211.town.population": 1})


def _figures(grid_units, codes, wards):
    return ParentFigures(kind="town", area_km2=sum(grid_units.lookup.area_km2[c] for c in codes),
                         population=sum(grid_units.lookup.population[c] for c in codes),
                         n_units=len(codes), n_wards=wards)


def test_bordering_units_that_close_the_gap_are_listed_smallest_first(grid_units):
    land = ["00001", "00002", "00004"]            # an L of 3 km², one ward of three
    rows = annexation_candidates(grid_units, RULES, _figures(grid_units, land, wards=2), land)
    # Every neighbour adds 1 km² and a fourth unit: area and unit count close; 00005 is a ward.
    assert {r["code"] for r in rows} == {"00003", "00005", "00007"}
    for row in rows:
        assert row["closes"] == ["area_km2", "subunits"]
        assert row["parent_after"]["units"] == 4
        assert row["parent_after"]["area_km2"] == pytest.approx(sum(grid_units.lookup.area_km2[c] for c in land)
                                                                + grid_units.lookup.area_km2[row["code"]], abs=1e-3)
        assert row["population"] == 1000 * int(row["code"])


def test_a_ward_closes_the_ward_share_where_a_commune_cannot(grid_units):
    land = ["00001", "00002", "00003"]            # the southern row: 3 units, 1 ward (33 %)
    rows = annexation_candidates(grid_units, RULES, _figures(grid_units, land, wards=1), land)
    assert [r["code"] for r in rows] == ["00005", "00004", "00006"]
    ward = rows[0]
    assert ward["kind"] == "ward" and ward["parent_after"]["ward_share"] == pytest.approx(0.5)
    assert ward["closes"] == ["area_km2", "subunits", "ward_share"] and ward["still_failing"] == []
    assert rows[1]["still_failing"] == ["ward_share"]


def test_a_parent_that_passes_needs_no_candidates(grid_units):
    land = ["00001", "00002", "00003", "00004"]
    assert annexation_candidates(grid_units, RULES, _figures(grid_units, land, wards=2), land) == []
