"""Partial moves: a drawn boundary takes the parts of the units it cuts, populations add up exactly."""
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_bounds

from diagioi.geo.area import geodesic_area_km2
from diagioi.geo.parts import PARTIAL, WHOLE, cut_units


def test_a_drawn_boundary_takes_a_whole_unit_and_half_of_its_neighbour(grid_units, grid_box):
    # 00004 wholly inside (its corners snapped a little outside), the west half of 00005 inside.
    drawn = grid_box(-10, 1000 - 10, 1500, 2000 + 10)
    cut = cut_units(grid_units, drawn)
    parts = {p.code: p for p in cut.parts}
    assert sorted(parts) == ["00004", "00005"]
    assert parts["00004"].share == WHOLE and parts["00004"].population_inside == 4000
    half = parts["00005"]
    assert half.share == PARTIAL
    whole_area = grid_units.lookup.area_km2["00005"]
    assert half.inside_km2 + half.remainder_km2 == pytest.approx(whole_area, rel=1e-9)
    assert half.area_share == pytest.approx(0.5, abs=1e-3)
    # Without a raster the population is shared by area, in whole persons, and adds up exactly.
    assert half.population_inside == 2500 and half.population_remainder == 2500
    assert half.population_inside + half.population_remainder == grid_units.lookup.population["00005"]
    assert half.population_method == "area_weighted_units"
    assert "ước tính" in half.population_note.lower()
    # The 10 m strips over 00001, 00007, 00008… are slivers from snapping, not moves.
    assert {code for code, _km2 in cut.slivers} >= {"00001", "00007"}
    assert cut.outside_km2 == 0.0
    assert geodesic_area_km2(cut.geometry) == pytest.approx(
        grid_units.lookup.area_km2["00004"] + half.inside_km2, rel=1e-6)


def test_the_raster_shares_a_unit_by_its_persons_with_exact_coverage(grid_units, tmp_path, grid_box):
    # Two columns of cells over 00005 (lon/lat raster): the west column holds 30 persons per cell, the east 10.
    west, south, east, north = grid_units.gdf.geometry.at["00005"].bounds
    values = np.array([[30.0, 10.0], [30.0, 10.0]], dtype="float32")
    path = tmp_path / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_bounds(west, south, east, north, 2, 2), nodata=-1) as out:
        out.write(values, 1)
    cut = cut_units(grid_units, grid_box(900, 900, 1500, 2100), raster_path=path)
    [part] = [p for p in cut.parts if p.code == "00005"]
    assert part.population_method == "raster_rescaled_to_units"
    # 60 of the unit's 80 raster persons are west of the cut: 5000 × 60/80.
    assert part.population_inside == pytest.approx(3750, abs=5)   # the cut and the cell edge agree to metres
    assert part.population_inside + part.population_remainder == 5000
    assert part.population_share == pytest.approx(0.75, abs=1e-3)
    assert part.area_share == pytest.approx(0.5, abs=1e-3)


def test_a_unit_whose_remainder_is_a_sliver_moves_whole(grid_units, grid_box):
    cut = cut_units(grid_units, grid_box(1000 + 15, 1000 + 15, 2000 - 15, 2000 - 15))
    [part] = cut.parts
    assert part.code == "00005" and part.share == WHOLE
    assert part.area_share == 1.0 and part.population_share == 1.0
    assert part.population_is_estimate is False


def test_drawn_land_outside_every_unit_is_reported_not_counted(grid_units, grid_box):
    cut = cut_units(grid_units, grid_box(2500, 2500, 4000, 3000))
    assert [p.code for p in cut.parts] == ["00009"]
    assert cut.outside_km2 == pytest.approx(1.5 * 0.5 - 0.5 * 0.5, rel=0.01)


def test_an_earlier_cut_leaves_the_remainder_to_the_next(grid_units, grid_box):
    first = cut_units(grid_units, grid_box(1000, 1000, 1500, 2000))
    [part] = first.parts
    second = cut_units(grid_units, grid_box(1000, 1000, 2000, 2000), land={"00005": part.remainder},
                       populations={"00005": part.population_remainder})
    [rest] = second.parts
    assert rest.share == WHOLE and rest.population_inside == 2500
    assert rest.inside_km2 == pytest.approx(part.remainder_km2)


def test_a_unit_without_population_gives_parts_without_population(grid_units, grid_box):
    grid_units.gdf.loc["00005", "population"] = np.nan
    grid_units.__dict__.pop("lookup", None)
    [part] = cut_units(grid_units, grid_box(1000, 1000, 1500, 2000)).parts
    assert part.population_inside is None and part.population_method is None
