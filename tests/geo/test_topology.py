"""The topology report: overlaps, gaps, slivers, duplicates; a repair only when asked, that says what it changed."""
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import affinity
from typer.testing import CliRunner

from diagioi.api.cli import app
from diagioi.geo.io import read_units
from diagioi.geo.topology import check_topology, repair_coverage
from helpers.grid import grid_frame

runner = CliRunner()


@pytest.fixture
def shifted_path(tmp_path):
    """The 3×3 km grid with the middle square moved 10 m east: a 10 m × 1 km overlap with 00006 and a gap with 00004."""
    frame = grid_frame()
    frame.loc[4, "geometry"] = affinity.translate(frame.geometry.iat[4], xoff=10.0)
    path = tmp_path / "shifted.gpkg"
    frame.to_file(path, driver="GPKG")
    return path


def test_a_shifted_square_gives_one_overlap_and_one_gap(shifted_path):
    report = check_topology(read_units(shifted_path))
    summary = report.summary
    assert (summary["n_overlaps"], summary["n_gaps"], summary["n_slivers"]) == (1, 1, 2)
    [overlap] = [p for p in report.problems if p.kind == "overlap"]
    [gap] = [p for p in report.problems if p.kind == "gap"]
    assert overlap.units == ["00005", "00006"]
    assert overlap.area_m2 == pytest.approx(10_000, rel=2e-3)   # TM-3 scale 0.9999 → true area a little larger
    assert overlap.width_m == pytest.approx(10, rel=0.02)
    assert set(gap.units) >= {"00004", "00005"} and gap.area_m2 == pytest.approx(10_000, rel=2e-3)
    assert summary["overlap_km2"] == pytest.approx(0.01, rel=2e-3)
    lon, lat = overlap.location
    assert 105.75 < lon < 105.8 and 21.6 < lat < 21.63


def test_repair_makes_a_valid_coverage_and_reports_the_change(shifted_path):
    units = read_units(shifted_path)
    fixed, repair = repair_coverage(units, tolerance_m=20)
    assert repair["coverage_valid"] and shapely.coverage_is_valid(fixed.gdf.geometry.values)
    after = check_topology(fixed).summary
    assert (after["n_overlaps"], after["n_gaps"]) == (0, 0)
    # the gap went to 00004 and the overlap to 00005, so 00006 lost it: 10 m × 1 km each
    changes = {c["code"]: c["change_m2"] for c in repair["changed"]}
    assert changes == {"00004": pytest.approx(10_002, rel=1e-3), "00006": pytest.approx(-10_002, rel=1e-3)}
    assert repair["area_km2_after"] == pytest.approx(9.0, rel=1e-3)   # 9 km² again, no hole, nothing twice
    assert shapely.coverage_union_all(fixed.gdf.geometry.values).geom_type == "Polygon"
    # the loaded layer itself was not changed
    assert check_topology(units).summary["n_overlaps"] == 1


def test_duplicates_and_area_mismatch_are_listed(tmp_path):
    frame = grid_frame("EPSG:4326")
    frame = gpd.GeoDataFrame(
        [*frame.to_dict("records"), {**frame.iloc[0].to_dict(), "code": "00010", "name": "Bản sao"}],
        crs="EPSG:4326")
    frame.loc[1, "area_km2_official"] = 1.2   # computed 1.0002 km²: −17 %
    path = tmp_path / "dup.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = check_topology(read_units(path))
    kinds = {p.kind: p for p in report.problems}
    assert kinds["duplicate_geometry"].units == ["00001", "00010"]
    assert kinds["area_mismatch"].units == ["00002"] and "-16.6 %" in kinds["area_mismatch"].detail
    assert report.summary["n_overlaps"] == 0


def test_cli_writes_problems_and_the_repaired_layer(shifted_path, tmp_path):
    problems, fixed = tmp_path / "problems.gpkg", tmp_path / "fixed.gpkg"
    result = runner.invoke(app, ["topology", str(shifted_path), "--json", "--out", str(problems),
                                 "--repair", "--tolerance", "20", "--out-fixed", str(fixed)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"n_overlaps", "overlap_km2", "n_gaps", "gap_km2"} <= set(data["summary"])
    assert data["repair"]["summary_after"]["n_overlaps"] == 0
    layer = gpd.read_file(problems, layer="problems")
    assert sorted(layer["kind"]) == ["gap", "overlap"]
    again = read_units(fixed)
    assert len(again) == 9 and shapely.coverage_is_valid(again.gdf.geometry.values)
    refused = runner.invoke(app, ["topology", str(shifted_path), "--out-fixed", str(fixed)])
    assert refused.exit_code == 2 and "--repair" in refused.output


@pytest.mark.real_data
def test_old_layer_counts_are_stable_and_match_an_independent_computation(shared_data):
    """Our LAEA/STRtree count against geopandas sjoin + overlay in VN-2000 UTM 48N (EPSG:3405)."""
    units = read_units(shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson")
    report = check_topology(units)
    assert check_topology(units).summary == report.summary      # stable
    ours = {tuple(p.units): p.area_m2 for p in report.problems if p.kind == "overlap"}

    utm = units.gdf.reset_index()[["unit_code", "geometry"]].to_crs(3405)
    pairs = gpd.sjoin(utm, utm, predicate="intersects")
    pairs = pairs[pairs["unit_code_left"] < pairs["unit_code_right"]]
    left = utm.set_index("unit_code").geometry.loc[pairs["unit_code_left"]].values
    right = utm.set_index("unit_code").geometry.loc[pairs["unit_code_right"]].values
    areas = shapely.area(shapely.intersection(left, right))
    theirs = {tuple(sorted(k)): a for k, a in zip(zip(pairs["unit_code_left"], pairs["unit_code_right"]), areas)
              if a > 1.0}
    ours_sorted = {tuple(sorted(k)): a for k, a in ours.items()}
    differing = set(ours_sorted) ^ set(theirs)
    # only pairs at the 1 m² threshold may fall on different sides in the two projections
    for key in differing:
        assert 0.5 < ours_sorted.get(key, theirs.get(key)) < 2.0
    assert len(differing) <= 3
    assert report.summary["n_overlaps"] == pytest.approx(len(theirs), abs=3)
    assert sum(ours.values()) == pytest.approx(sum(theirs.values()), rel=2e-3)
    # gaps: holes of the dissolved layer, in UTM
    union = shapely.union_all(utm.geometry.values)
    holes = [shapely.Polygon(r) for p in union.geoms for r in p.interiors] if union.geom_type == "MultiPolygon" else [
        shapely.Polygon(r) for r in union.interiors]
    hole_areas = np.array([h.area for h in holes])
    assert report.summary["n_gaps"] == pytest.approx(int((hole_areas > 1.0).sum()), abs=3)
    assert report.summary["gap_km2"] == pytest.approx(hole_areas[hole_areas > 1.0].sum() / 1e6, rel=2e-3)
    # the figures of ../shared/data/README.md, measured per old province: ≥ 1295 pairs, ≥ 54 km² in all
    assert report.summary["n_overlaps"] >= 1295 and report.summary["overlap_km2"] > 54.0


@pytest.mark.real_data
def test_old_layer_after_repair_dissolves_as_a_coverage(shared_data):
    units = read_units(shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson")
    fixed, repair = repair_coverage(units, tolerance_m=50)
    geometries = fixed.gdf.geometry.values
    assert repair["coverage_valid"] and shapely.coverage_is_valid(geometries)
    assert not shapely.is_empty(geometries).any()
    dissolved = shapely.coverage_union_all(geometries)
    assert dissolved.is_valid
    # the overlaps (57 km²) are counted once now: the total dropped by about that much, not more
    assert 40 < repair["area_km2_before"] - repair["area_km2_after"] < 60
