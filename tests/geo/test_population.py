"""Population estimates for polygons: exact raster coverage, rescaling to units, area weighting.

The synthetic raster (EPSG:4326, 0.01° cells, persons per cell, top-left at 106.00 E, 21.03 N):

    21.03 +-----+-----+-----+
          | 100 | 200 | 300 |
    21.02 +-----+-----+-----+
          | 400 | 500 | 600 |
    21.01 +-----+-----+-----+
          | 700 | 800 | nd  |      nd = nodata
    21.00 +-----+-----+-----+
        106.00 106.01 106.02 106.03
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from affine import Affine
from shapely.geometry import LineString, box

from diagioi.geo.area import geodesic_areas_km2
from diagioi.geo.errors import InputError, MissingCRSError
from diagioi.geo.i18n import Message
from diagioi.geo.population import PopulationEstimate, estimate_population, zonal_population

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
WORLDPOP = SHARED_DATA / "population_worldpop1km_2020_bk_tn_bg_bn.tif"
NODATA = -99999.0

TM3_BAC_NINH = "+proj=tmerc +lat_0=0 +lon_0=105.5 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs"
ORIGIN_X, ORIGIN_Y = 550_000.0, 2_330_000.0


def from_origin(west: float, north: float, xsize: float, ysize: float) -> Affine:
    """Affine transform of a north-up grid (top-left corner and cell size)."""
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


def write_raster(path: Path, values, *, crs, transform) -> Path:
    values = np.asarray(values, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=NODATA) as dataset:
        dataset.write(values, 1)
    return path


@pytest.fixture
def raster(tmp_path) -> Path:
    return write_raster(tmp_path / "population.tif", [[100, 200, 300], [400, 500, 600], [700, 800, NODATA]],
                        crs="EPSG:4326", transform=from_origin(106.0, 21.03, 0.01, 0.01))


@pytest.fixture
def top_row_units() -> gpd.GeoDataFrame:
    """U1 covers the 100 and 200 cells (900 people); U2 the 300 cell (population unknown)."""
    units = gpd.GeoDataFrame({"code": ["00001", "00002"], "population": [900.0, np.nan]},
                             geometry=[box(106.0, 21.02, 106.02, 21.03), box(106.02, 21.02, 106.03, 21.03)],
                             crs=4326).set_index("code", drop=False)
    units["area_km2"] = geodesic_areas_km2(units.geometry)
    return units


def test_half_covered_cell_gives_half_its_value(raster):
    estimate = estimate_population(box(106.01, 21.01, 106.015, 21.02), raster_path=raster)

    assert estimate.value == pytest.approx(250.0)
    assert estimate.method == "raster_exact_coverage"
    assert estimate.source.text() == "population.tif"
    assert estimate.is_estimate is True
    assert estimate.note.text("vi").startswith("Số liệu ước tính, không phải dân số chính thức")
    assert estimate.note.text("en").startswith("estimate, not official population")
    assert estimate.warnings == ()


def test_nodata_and_outside_parts_add_nothing_and_are_reported(raster):
    whole = estimate_population(box(106.0, 21.0, 106.03, 21.03), raster_path=raster)
    half_outside = estimate_population(box(105.99, 21.0, 106.01, 21.01), raster_path=raster)

    assert whole.value == pytest.approx(3600.0)
    assert [w.text("en") for w in whole.warnings] == [
        "11 % of the polygon lies on nodata cells or outside the raster and adds no population"]
    assert whole.warnings[0].text("vi") == ("11 % vùng vẽ nằm trên ô không có số liệu hoặc ngoài lưới dân số, "
                                            "không được tính dân số")
    assert half_outside.value == pytest.approx(700.0)
    assert half_outside.warnings[0].to_dict() == {"code": "population.nodata", "params": {"pct": 50}}


def test_raster_in_a_projected_crs_is_read_through_reprojection(tmp_path):
    """2 × 2 cells of 1 km in TM-3; the polygon is the south-west cell drawn in lon/lat."""
    path = write_raster(tmp_path / "tm3.tif", [[1000, 2000], [3000, 4000]], crs=TM3_BAC_NINH,
                        transform=from_origin(ORIGIN_X, ORIGIN_Y + 2000, 1000, 1000))
    to_lonlat = Transformer.from_crs(TM3_BAC_NINH, 4326, always_xy=True)
    cell = shapely.transform(box(ORIGIN_X, ORIGIN_Y, ORIGIN_X + 1000, ORIGIN_Y + 1000),
                             lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))

    assert estimate_population(cell, raster_path=path).value == pytest.approx(3000.0, rel=1e-6)


def test_raster_without_crs_is_refused(tmp_path):
    path = write_raster(tmp_path / "nocrs.tif", [[1.0]], crs=None, transform=from_origin(106.0, 21.0, 0.01, 0.01))
    with pytest.raises(MissingCRSError, match="nocrs.tif has no CRS"):
        estimate_population(box(106.0, 20.99, 106.01, 21.0), raster_path=path)


def test_raster_is_rescaled_to_unit_populations(raster, top_row_units):
    estimate = estimate_population(box(106.01, 21.02, 106.02, 21.03), raster_path=raster, units=top_row_units)

    assert estimate.value == pytest.approx(600.0)            # 900 people × 200 / (100 + 200)
    assert estimate.raster_sum == pytest.approx(200.0)
    assert estimate.method == "raster_rescaled_to_units"
    assert estimate.source.text("en") == "population.tif rescaled to units layer population"
    assert estimate.source.text("vi") == "population.tif, hiệu chỉnh theo dân số của lớp đơn vị hành chính"


def test_units_without_population_keep_the_raw_raster_figure(raster, top_row_units):
    estimate = estimate_population(box(106.01, 21.02, 106.03, 21.03), raster_path=raster, units=top_row_units)

    assert estimate.value == pytest.approx(600.0 + 300.0)
    assert [w.text("en") for w in estimate.warnings] == [
        "1 units have no population (or an empty raster): raw raster figure used for their part: 00002"]


def test_rescaling_can_be_switched_off(raster, top_row_units):
    estimate = estimate_population(box(106.01, 21.02, 106.02, 21.03), raster_path=raster, units=top_row_units,
                                   rescale_to_units=False)
    assert (estimate.method, estimate.value) == ("raster_exact_coverage", pytest.approx(200.0))


def test_area_weighted_estimate_shares_each_unit_by_area():
    """Units A (1,000 people) and B (3,000) are 1 km squares in TM-3; the polygon takes half of each."""
    to_lonlat = Transformer.from_crs(TM3_BAC_NINH, 4326, always_xy=True)

    def km(geometry):
        return shapely.transform(geometry, lambda xy: np.column_stack(
            to_lonlat.transform(ORIGIN_X + xy[:, 0] * 1000, ORIGIN_Y + xy[:, 1] * 1000)))

    units = gpd.GeoDataFrame({"population": [1000.0, 3000.0], "population_year": [2024, 2024]},
                             geometry=[km(box(0, 0, 1, 1)), km(box(1, 0, 2, 1))], crs=4326, index=["A", "B"])

    estimate = estimate_population(km(box(0.5, 0.2, 1.5, 0.8)), units=units)

    assert estimate.value == pytest.approx(0.3 * 1000 + 0.3 * 3000, rel=1e-4)
    assert estimate.method == "area_weighted_units"
    assert estimate.source.text("en") == "units layer population (2024)"   # a year, not "2,024"
    assert estimate.to_dict()["source"] == "dân số của lớp đơn vị hành chính (2024)"
    assert estimate.to_dict()["is_estimate"] is True


def test_zonal_population_sums_the_raster_per_unit(raster, top_row_units):
    sums = zonal_population(top_row_units, raster)

    assert sums.to_dict() == {"00001": pytest.approx(300.0), "00002": pytest.approx(300.0)}
    assert sums.attrs["source"] == "population.tif"


def test_estimate_needs_a_polygon_and_a_source(raster):
    with pytest.raises(InputError, match="no population source"):
        estimate_population(box(106.0, 21.0, 106.01, 21.01))
    with pytest.raises(InputError, match="got LineString"):
        estimate_population(LineString([(106.0, 21.0), (106.01, 21.01)]), raster_path=raster)


def test_population_estimate_serialises_with_its_method():
    source = Message("population.units_label")
    estimate = PopulationEstimate(value=12.5, method="area_weighted_units", source=source)
    assert estimate.to_dict("en") == {
        "value": 12.5, "method": "area_weighted_units", "source": "units layer population", "is_estimate": True,
        "note": "estimate, not official population", "raster_sum": None, "warnings": [],
        "source_message": {"code": "population.units_label", "params": {}},
        "note_message": {"code": "population.note", "params": {}}, "warning_messages": []}


@pytest.fixture
def new_communes() -> gpd.GeoDataFrame:
    path = SHARED_DATA / "post2025_communes_thai_nguyen_bac_ninh.geojson"
    if not path.exists() or not WORLDPOP.exists():
        pytest.skip("shared data not available")
    return gpd.read_file(path).set_index("code", drop=False)


@pytest.mark.real_data
def test_worldpop_total_for_phuong_duc_xuan_is_plausible(new_communes):
    """Phường Đức Xuân (01840, Bắc Kạn, 2025): 22,660 people in the 2025 source; WorldPop is a 2020 model."""
    duc_xuan = new_communes.loc["01840"]

    raw = estimate_population(duc_xuan.geometry, raster_path=WORLDPOP)
    rescaled = estimate_population(duc_xuan.geometry, raster_path=WORLDPOP, units=new_communes)

    assert 12_000 < raw.value < 30_000                                 # measured 17,525
    assert rescaled.value == pytest.approx(duc_xuan.population, rel=0.02)   # neighbours' slivers only
    assert rescaled.raster_sum == pytest.approx(raw.value)


@pytest.mark.real_data
def test_worldpop_sum_over_new_bac_ninh_matches_the_readme(new_communes):
    """README section 5: new Bắc Ninh (old 24 + 27) holds 2,682,909 WorldPop persons (area-weighted)."""
    bac_ninh = new_communes[new_communes["province_code"].astype(str).str.zfill(2) == "24"]

    sums = zonal_population(bac_ninh, WORLDPOP)

    assert len(sums) == 99
    assert sums.sum() == pytest.approx(2_682_909, rel=0.01)
