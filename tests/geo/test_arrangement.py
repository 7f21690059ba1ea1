"""The parent after an arrangement: unchanged units count as themselves, totals by union, affected parents."""
import math

import pytest
import shapely

from diagioi.geo.area import geodesic_area_km2
from diagioi.geo.arrangement import allocate, arrange
from diagioi.geo.scenario import Scenario

SCOPE = ("00001", "00002", "00003", "00004", "00005", "00006")   # the two southern rows of the grid


def _new_units(*units):
    return Scenario.from_dict({"name": "thử", "new_units": list(units)}).new_units


def _union_km2(grid_units, codes):
    return geodesic_area_km2(shapely.union_all(grid_units.gdf.geometry.loc[list(codes)].values))


def test_units_no_new_unit_takes_stay_and_count_as_themselves(grid_units):
    new_units = _new_units({"name": "Phường 1-2", "kind": "ward", "members": ["00001", "00002"]},
                           {"name": "Xã 3", "kind": "xa", "members": ["00003"]})
    result = arrange(grid_units, new_units, SCOPE, allocate(grid_units, new_units))
    assert result.unchanged == ("00004", "00005", "00006")
    assert result.before.n_units == 6 and result.before.by_kind == {"commune": 5, "ward": 1}
    assert result.after.n_units == 5
    assert result.after.by_kind == {"commune": 3, "ward": 2}
    assert result.after.ward_share == pytest.approx(2 / 5)
    assert result.after.area_km2 == pytest.approx(_union_km2(grid_units, SCOPE), abs=1e-9)
    assert result.after.population == 1000 * (1 + 2 + 3 + 4 + 5 + 6)
    assert result.annexed == () and result.affected == ()


def test_a_unit_from_outside_the_scope_is_annexed_and_its_parent_loses_it(grid_units):
    new_units = _new_units({"name": "Phường 7", "kind": "ward", "members": ["00007"]})
    result = arrange(grid_units, new_units, SCOPE, allocate(grid_units, new_units))
    assert result.annexed == ("00007",)
    assert result.after.n_units == 7
    assert result.after.area_km2 == pytest.approx(_union_km2(grid_units, SCOPE + ("00007",)), abs=1e-9)
    assert result.after.population == 21000 + 7000
    [district] = result.affected
    assert district["name"] == "Huyện Mẫu"
    # The district's units outside the scope: the grid's northern row.
    assert (district["units_before"], district["units_after"]) == (3, 2)
    assert district["population_before"] - district["population_after"] == 7000
    assert district["area_km2_before"] - district["area_km2_after"] == pytest.approx(
        grid_units.lookup.area_km2["00007"], abs=1e-4)


def test_overlapping_members_are_counted_once(grid_units, grid_box):
    # Make 00002 overlap 00001 by a 100 m strip, as real layers do.
    gdf = grid_units.gdf
    gdf.loc["00002", "geometry"] = shapely.union(gdf.geometry.at["00002"], grid_box(900, 0, 1000, 1000))
    new_units = _new_units({"name": "P", "kind": "ward", "members": ["00001", "00002"]})
    result = arrange(grid_units, new_units, SCOPE, allocate(grid_units, new_units))
    independent = _union_km2(grid_units, SCOPE)
    assert result.after.area_km2 == pytest.approx(independent, abs=1e-9)
    assert result.after.area_km2 < math.fsum(geodesic_area_km2(g) for g in gdf.geometry.loc[list(SCOPE)]) - 0.09


def test_a_drawn_unit_inside_the_scope_leaves_area_and_population_unchanged(grid_units, grid_box):
    drawn = grid_box(500, 500, 1500, 1500)   # a quarter of each of 00001, 00002, 00004, 00005
    new_units = _new_units({"name": "Khu mới", "kind": "ward", "members": [],
                            "geometry": shapely.geometry.mapping(drawn)})
    allocation = allocate(grid_units, new_units)
    result = arrange(grid_units, new_units, SCOPE, allocation)
    assert result.reduced == ("00001", "00002", "00004", "00005")
    assert result.after.n_units == result.before.n_units + 1
    assert result.after.area_km2 == pytest.approx(result.before.area_km2, abs=1e-6)
    assert result.after.population == result.before.population
    cut = allocation.cuts["n1"]
    assert math.fsum(p.population_inside for p in cut.parts) == 250 * (1 + 2 + 4 + 5)
    assert geodesic_area_km2(cut.geometry) == pytest.approx(geodesic_area_km2(drawn), rel=1e-6)


def test_a_drawn_unit_across_the_scope_border_annexes_the_part_outside(grid_units, grid_box):
    drawn = grid_box(0, 1500, 1000, 2500)    # north half of 00004 (scope) and south half of 00007 (outside)
    new_units = _new_units({"name": "Khu mới", "kind": "ward", "members": [],
                            "geometry": shapely.geometry.mapping(drawn)})
    result = arrange(grid_units, new_units, SCOPE, allocate(grid_units, new_units))
    assert result.annexed_parts == (("00007", "n1"),)
    assert result.after.population == 21000 + 3500
    outside_half = grid_box(0, 2000, 1000, 2500)
    assert result.after.area_km2 == pytest.approx(_union_km2(grid_units, SCOPE) + geodesic_area_km2(outside_half),
                                                  rel=1e-6)
    [district] = result.affected
    assert district["units_after"] == district["units_before"] == 3
    assert district["parts_lost"] == ["00007"]
    assert district["population_before"] - district["population_after"] == 3500
