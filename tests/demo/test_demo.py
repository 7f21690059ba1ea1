"""The generated sample region: labelled as sample, exact shared borders, plausible figures, same bytes every time."""
from __future__ import annotations

import json
import unicodedata

import numpy as np
import pytest
import rasterio
import shapely
from exactextract import exact_extract

from diagioi.geo.area import geodesic_area_km2, geodesic_areas_km2
from diagioi.demo import (
    DemoPaths,
    build_country,
    build_population_raster,
    build_region,
    build_zoning,
    demo_dir,
    example_scenario,
    file_digest,
    write_demo,
)
from diagioi.geo.errors import InputError

UNIT_COLUMNS = ["code", "name", "kind", "district", "district_code", "province", "province_code", "population",
                "population_year", "area_km2_official", "mountainous", "sample", "geometry"]

# Res. 76/2025/UBTVQH15 Art. 5 cl. 1 (shared/reference/standards-vn.yaml): (min km², min people)
WARD_2025 = (5.5, 21_000)
COMMUNE_2025 = (30.0, 16_000)
MOUNTAIN_COMMUNE_2025 = (100.0, 5_000)


@pytest.fixture(scope="module")
def region():
    return build_region()


@pytest.fixture(scope="module")
def country():
    return build_country(10_000)


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    return write_demo(tmp_path_factory.mktemp("demo"))


def _assert_exact_coverage(units) -> None:
    """No overlaps (union area == sum of areas) and no gaps inside the outline (no holes)."""
    geometries = units.geometry.values
    assert bool(shapely.coverage_is_valid(geometries)) is True
    assert bool(shapely.is_valid(geometries).all()) is True
    union = shapely.union_all(geometries)
    assert union.geom_type == "Polygon"
    assert len(union.interiors) == 0
    sum_km2 = geodesic_areas_km2(geometries).sum()
    assert geodesic_area_km2(union) == pytest.approx(sum_km2, rel=1e-6)


def _standard_2025(kind: str, mountainous: bool) -> tuple[float, int]:
    if kind == "ward":
        return WARD_2025
    return MOUNTAIN_COMMUNE_2025 if mountainous else COMMUNE_2025


# ----------------------------------------------------------------------------------- region
def test_region_has_between_20_and_40_units_with_the_real_layer_columns(region):
    assert 20 <= len(region) <= 40
    assert list(region.columns) == UNIT_COLUMNS
    assert region.crs.to_epsg() == 4326
    assert set(region.geom_type) == {"Polygon"}


def test_region_is_labelled_as_sample_data_everywhere(region):
    assert region["sample"].tolist() == [True] * len(region)
    assert set(region["province"]) == {"Tỉnh Mẫu (dữ liệu mẫu)"}


def test_region_codes_are_unique_five_digit_strings(region):
    codes = region["code"].tolist()
    assert len(set(codes)) == len(codes)
    assert all(isinstance(code, str) and len(code) == 5 and code.isdigit() for code in codes)
    assert codes[0] == "90001"


def test_region_names_are_unique_nfc_vietnamese(region):
    names = region["name"].tolist()
    assert len(set(names)) == len(names)
    assert all(unicodedata.normalize("NFC", name) == name for name in names)
    assert sum(any(ord(ch) > 127 for ch in name) for name in names) >= len(names) // 2  # diacritics


def test_region_has_a_city_of_small_dense_wards_and_sparse_mountain_communes(region):
    area_km2 = geodesic_areas_km2(region.geometry)
    density = region["population"].to_numpy() / area_km2
    ward = (region["kind"] == "phuong").to_numpy()
    mountain = region["mountainous"].to_numpy()
    assert set(region["kind"]) == {"phuong", "xa", "thi_tran"}
    assert 5 <= ward.sum() <= 12
    assert 5 <= mountain.sum() <= 12
    assert not (ward & mountain).any()
    assert np.median(area_km2[ward]) < 10.0 < np.median(area_km2[~ward])
    assert np.median(area_km2[mountain]) > 40.0
    assert np.median(density[ward]) > 1_500.0
    assert np.median(density[mountain]) < 120.0
    assert region.loc[ward, "district"].unique().tolist() == ["Thành phố Mẫu"]
    assert region["population_year"].unique().tolist() == [2024]


def test_region_lies_in_northern_vietnam_so_vn2000_planes_apply(region):
    minx, miny, maxx, maxy = region.total_bounds
    assert 105.5 < minx < maxx < 106.1
    assert 21.2 < miny < maxy < 22.1


def test_region_units_share_exact_borders_without_gaps_or_overlaps(region):
    _assert_exact_coverage(region)


def test_official_area_is_geodesic_area_within_two_percent_with_two_missing(region):
    computed_km2 = geodesic_areas_km2(region.geometry)
    official_km2 = region["area_km2_official"].to_numpy(dtype=float)
    missing = np.isnan(official_km2)
    assert missing.sum() == 2
    assert not region.loc[missing, "kind"].eq("phuong").any()
    difference_pct = 100.0 * np.abs(official_km2[~missing] / computed_km2[~missing] - 1.0)
    assert difference_pct.max() <= 2.1  # ±2 % perturbation plus rounding to 0.01 km²
    assert difference_pct.max() > 0.5   # not just the computed figure


def test_region_is_deterministic_for_a_seed_and_differs_between_seeds():
    first, again, other = build_region(7), build_region(7), build_region(8)
    assert first.to_json() == again.to_json()
    assert first.to_json() != other.to_json()


@pytest.mark.parametrize("seed", [0, 1, 11, 2026])
def test_other_seeds_also_give_exact_coverages_in_range(seed):
    units = build_region(seed)
    assert 20 <= len(units) <= 40
    _assert_exact_coverage(units)


# ---------------------------------------------------------------------------------- country
def test_country_has_exactly_n_units_with_the_same_columns(country):
    assert len(country) == 10_000
    assert list(country.columns) == UNIT_COLUMNS
    assert country["code"].is_unique
    assert country["code"].iloc[0] == "40001"
    assert country["code"].str.len().eq(5).all()
    assert country["name"].is_unique


def test_country_units_share_exact_borders(country):
    _assert_exact_coverage(country)


def test_country_is_grouped_in_provinces_of_about_150_units_and_districts(country):
    per_province = country.groupby("province").size()
    assert len(per_province) == 67
    assert per_province.median() == pytest.approx(150, abs=10)
    assert per_province.min() >= 100
    assert per_province.max() <= 230
    per_district = country.groupby(["province", "district"]).size()
    assert per_district.median() == pytest.approx(15, abs=3)
    kinds = country["kind"].value_counts(normalize=True)
    assert 0.05 < kinds["phuong"] < 0.15
    assert 0.2 < country["mountainous"].mean() < 0.4


def test_country_rejects_a_unit_count_the_codes_cannot_hold():
    with pytest.raises(InputError, match="59,999"):
        build_country(60_000)


# ----------------------------------------------------------------------------- population
def test_raster_zonal_sums_match_unit_populations(region, tmp_path):
    path = build_population_raster(region, tmp_path / "population.tif")
    with rasterio.open(path) as raster:
        assert raster.crs.to_epsg() == 4326
        assert raster.dtypes == ("float32",)
        assert raster.nodata == -99999
        assert raster.res == pytest.approx((1 / 120, 1 / 120))
        values = raster.read(1)
    assert (values[values != -99999] >= 0).all()
    zonal = exact_extract(str(path), region, ["sum"], output="pandas")["sum"].to_numpy()
    np.testing.assert_allclose(zonal, region["population"].to_numpy(), rtol=0.03)


def test_raster_spreads_people_by_a_surface_not_uniformly(region, tmp_path):
    path = build_population_raster(region, tmp_path / "population.tif", resolution_deg=1 / 240)
    stats = exact_extract(str(path), region, ["min", "max", "sum"], output="pandas")
    rural = (region["kind"] != "phuong").to_numpy() & (stats["max"].to_numpy() > 0)
    spread = stats["max"].to_numpy()[rural] / np.maximum(stats["min"].to_numpy()[rural], 1e-9)
    assert np.median(spread) > 1.5
    np.testing.assert_allclose(stats["sum"], region["population"], rtol=0.03)


# --------------------------------------------------------------------------------- zoning
def test_zoning_has_each_kind_with_its_geometry_types_and_attributes(region):
    zoning = build_zoning(region)
    assert set(zoning) == {"industrial_clusters", "tourism_sites", "night_streets"}
    clusters, sites, streets = zoning["industrial_clusters"], zoning["tourism_sites"], zoning["night_streets"]

    assert set(clusters.geom_type) == {"Polygon"}
    assert len(clusters) == 4
    assert set(clusters["status"]) == {"planned", "operating"}
    np.testing.assert_allclose(clusters["area_ha"], geodesic_areas_km2(clusters.geometry) * 100, atol=0.005)
    assert clusters["area_ha"].between(5, 120).all()
    assert clusters.loc[clusters["status"] == "planned", "occupancy_pct"].tolist() == [0.0, 0.0]
    assert clusters.loc[clusters["status"] == "operating", "occupancy_pct"].between(40, 95).all()

    assert sites.geom_type.value_counts().to_dict() == {"Point": 5, "Polygon": 1}
    assert set(sites["rank"]) == {"provincial", "national"}

    assert set(streets.geom_type) == {"LineString"}
    assert len(streets) == 3
    assert set(streets["ward_code"]) <= set(region.loc[region["kind"] == "phuong", "code"])
    assert streets["hours"].iloc[0] == "18:00–24:00"


def test_zoning_features_lie_inside_the_region_and_one_cluster_straddles_a_border(region):
    zoning = build_zoning(region)
    outline = shapely.union_all(region.geometry.values)
    for layer in zoning.values():
        assert bool(shapely.within(layer.geometry.values, outline.buffer(1e-9)).all()) is True
    units_touched = [int(shapely.intersects(region.geometry.values, cluster).sum())
                     for cluster in zoning["industrial_clusters"].geometry]
    assert sorted(units_touched) == [1, 1, 1, 2]
    for street, code in zip(zoning["night_streets"].geometry, zoning["night_streets"]["ward_code"]):
        ward = region.loc[region["code"] == code].geometry.iloc[0]
        assert ward.contains(street)


# ------------------------------------------------------------------------------- scenario
def test_example_scenario_follows_the_contract(region):
    scenario = example_scenario(region)
    assert scenario["regime"] == "R76"
    assert scenario["parent"] == {"name": "Thành phố Mẫu", "kind": "provincial_city"}
    assert [unit["id"] for unit in scenario["new_units"]] == ["n1", "n2", "n3", "n4", "n5"]
    members = [code for unit in scenario["new_units"] for code in unit["members"]]
    assert len(members) == len(set(members))           # a unit in at most one new unit
    assert set(members) <= set(region["code"])
    json.dumps(scenario)                                # JSON-ready as it is


def test_example_scenario_members_share_borders(region):
    by_code = region.set_index("code").geometry
    for unit in example_scenario(region)["new_units"]:
        geometries = [by_code[code] for code in unit["members"]]
        # every member shares a border line (not just a corner) with another member
        for index, geometry in enumerate(geometries):
            others = geometries[:index] + geometries[index + 1:]
            assert any(shapely.relate_pattern(geometry, other, "****1****") for other in others)
        assert shapely.union_all(geometries).geom_type == "Polygon"


def test_example_scenario_has_passing_exempt_and_failing_mergers(region):
    by_code = region.set_index("code")
    area_km2 = by_code["area_km2_official"].fillna(
        by_code.geometry.apply(geodesic_area_km2))
    figures = []
    for unit in example_scenario(region)["new_units"]:
        codes = unit["members"]
        min_km2, min_people = _standard_2025(unit["kind"], unit["mountainous"])
        meets = area_km2[codes].sum() >= min_km2 and by_code.loc[codes, "population"].sum() >= min_people
        figures.append((unit["kind"], len(codes), meets))
    assert figures[:3] == [("ward", 2, True)] * 3
    assert figures[3][:2] == ("commune", 3)            # exempt under Art. 5 cl. 2, whatever its figures
    assert figures[4][1:] == (2, False)


# ---------------------------------------------------------------------------------- files
def test_write_demo_writes_every_file_labelled_as_sample(demo_files):
    assert [path.name for path in demo_files.all_files()] == [
        "units.geojson", "population.tif", "industrial_clusters.geojson", "tourism_sites.geojson",
        "night_streets.geojson", "scenario.json", "README.txt"]
    readme = demo_files.readme.read_text(encoding="utf-8")
    assert "SAMPLE DATA" in readme and "not real geography" in readme
    collection = json.loads(demo_files.units.read_text(encoding="utf-8"))
    assert "not real geography" in collection["description"]
    first = collection["features"][0]["properties"]
    assert first["code"] == "90001" and first["sample"] is True
    nulls = [f["properties"]["area_km2_official"] for f in collection["features"]].count(None)
    assert nulls == 2
    scenario = json.loads(demo_files.scenario.read_text(encoding="utf-8"))
    assert scenario == example_scenario(build_region())


def test_write_demo_gives_the_same_bytes_every_time(demo_files, tmp_path):
    again = write_demo(tmp_path / "again")
    rewritten = write_demo(demo_files.units.parent)     # idempotent over an existing demo
    for first, second, third in zip(demo_files.all_files(), again.all_files(), rewritten.all_files()):
        assert file_digest(first) == file_digest(second) == file_digest(third), first.name


def test_demo_dir_generates_once_under_diagioi_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAGIOI_HOME", str(tmp_path))
    folder = demo_dir()
    assert folder == tmp_path / "demo-v1"
    paths = DemoPaths.in_dir(folder)
    stamps = [path.stat().st_mtime_ns for path in paths.all_files()]
    assert demo_dir() == folder
    assert [path.stat().st_mtime_ns for path in paths.all_files()] == stamps   # cached, not regenerated
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-v1"]          # no staging left behind


def test_demo_dir_replaces_an_incomplete_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAGIOI_HOME", str(tmp_path))
    broken = tmp_path / "demo-v1"
    broken.mkdir()
    (broken / "units.geojson").write_text("{}", encoding="utf-8")
    folder = demo_dir()
    assert json.loads((folder / "units.geojson").read_text(encoding="utf-8"))["type"] == "FeatureCollection"
    assert len(json.loads((folder / "units.geojson").read_text(encoding="utf-8"))["features"]) == 32


def test_demo_dir_regenerates_a_copy_made_by_other_generator_code(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAGIOI_HOME", str(tmp_path))
    folder = demo_dir()
    (folder / ".generator").write_text("demo-v1 from-an-older-demo.py\n", encoding="utf-8")
    (folder / "README.txt").write_text("stale", encoding="utf-8")
    assert demo_dir() == folder
    assert (folder / "README.txt").read_text(encoding="utf-8").startswith("diagioi demo (demo-v1)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-v1"]
