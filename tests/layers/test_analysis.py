"""Drawn-polygon analysis over two 1 km squares drawn in a TM-3 plane.

    y (km)
    1 +--------------+--------------+
      |  A 01840     |  B 01843     |    A: 1,000 people, B: 3,000 people
 0.8  |      +-------|------+       |
      |      | drawn (0.6 km²)      |    the drawn rectangle: x 0.5–1.5, y 0.2–0.8
 0.2  |      +-------|------+       |    → 0.3 km² of each unit
    0 +--------------+--------------+
      0              1              2  x (km)
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box, mapping

from diagioi.geo.area import geodesic_areas_km2
from diagioi.geo.errors import InputError, InvalidGeometryError, OversizeInputError, UnknownCRSError
from diagioi.layers.analysis import analyse_polygon
from diagioi.layers.models import LayerKind
from plane_fixtures import km

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture
def units() -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"code": ["01840", "01843"], "name": ["Đức Xuân", "Bắc Kạn"], "kind": ["ward", "ward"],
         "population": [1000.0, 3000.0]},
        geometry=[km(box(0, 0, 1, 1)), km(box(1, 0, 2, 1))], crs=4326)
    frame["area_km2"] = geodesic_areas_km2(frame.geometry)
    return frame.set_index("code", drop=False)


DRAWN = mapping(km(box(0.5, 0.2, 1.5, 0.8)))


def test_drawn_polygon_reports_area_population_density_and_units(units):
    result = analyse_polygon(DRAWN, units=units)

    assert result["area_km2"] == pytest.approx(0.6, rel=1e-3)
    assert result["population"]["value"] == pytest.approx(0.3 * 1000 + 0.3 * 3000, rel=1e-4)
    assert result["population"]["method"] == "area_weighted_units"
    assert result["population"]["is_estimate"] is True
    assert result["density"] == pytest.approx(1200 / 0.6, rel=1e-3)     # người/km²
    by_code = {u["code"]: u for u in result["units"]}
    assert sorted(by_code) == ["01840", "01843"]
    assert by_code["01840"]["name"] == "Đức Xuân"
    assert by_code["01840"]["kind"] == "ward"
    assert by_code["01840"]["share_of_unit_pct"] == pytest.approx(30.0, rel=1e-3)
    assert by_code["01843"]["share_of_polygon_pct"] == pytest.approx(50.0, rel=1e-3)
    assert by_code["01843"]["area_km2"] == pytest.approx(0.3, rel=1e-3)
    assert result["indicators"] == {}
    assert result["warnings"] == []


def test_a_feature_wrapper_gives_the_same_answer(units):
    as_feature = analyse_polygon({"type": "Feature", "properties": {}, "geometry": DRAWN}, units=units)
    assert as_feature == analyse_polygon(DRAWN, units=units)


def test_part_outside_every_unit_is_warned(units):
    result = analyse_polygon(mapping(km(box(1.5, 0.2, 2.5, 0.8))), units=units)

    assert result["population"]["value"] == pytest.approx(0.3 * 3000, rel=1e-4)
    assert [u["code"] for u in result["units"]] == ["01843"]
    assert result["warnings"][0] == "0,3 km² (50 %) vùng vẽ nằm ngoài mọi đơn vị của lớp dữ liệu"
    assert result["warning_messages"][0] == {"code": "analysis.outside_units", "params": {"outside_km2": 0.3, "pct": 50}}
    english = analyse_polygon(mapping(km(box(1.5, 0.2, 2.5, 0.8))), units=units, lang="en")
    assert english["warnings"][0] == "0.3 km² (50 %) of the drawn area lies outside every unit of the layer"


def test_zoning_layers_give_indicators_for_the_drawn_area(units):
    clusters = gpd.GeoDataFrame({"name": ["Cụm A"]}, geometry=[km(box(0.6, 0.3, 0.9, 0.6))], crs=4326)

    result = analyse_polygon(DRAWN, units=units, layers={LayerKind.industrial_clusters: clusters})

    assert result["indicators"]["industrial_cluster_count"] == 1
    assert result["indicators"]["industrial_cluster_area_km2"] == pytest.approx(0.09, rel=1e-3)
    assert result["indicators"]["industrial_cluster_share_pct"] == pytest.approx(15.0, rel=1e-3)
    assert result["indicators"]["tourism_site_count"] == 0
    assert result["indicators"]["source"] == ("lớp quy hoạch, đo trắc địa trên WGS 84; Cụm công nghiệp: 1 đối tượng, "
                                              "Điểm du lịch: chưa nạp lớp (tính bằng 0), Tuyến phố đêm: chưa nạp lớp (tính bằng 0)")


def test_units_without_population_and_no_raster_give_no_estimate(units):
    result = analyse_polygon(DRAWN, units=units.drop(columns="population"))
    assert (result["population"]["value"], result["population"]["method"], result["density"]) == (None, None, None)
    assert [w["code"] for w in result["warning_messages"]] == ["analysis.no_population"]
    assert result["warnings"] == ["không có nguồn dân số: các đơn vị không có số dân và chưa cấu hình lưới dân số"]


@pytest.mark.parametrize("geometry, error, message", [
    ({"type": "Polygon", "coordinates": [[[106.0, 21.0], [106.1, 21.1], [106.1, 21.0], [106.0, 21.1],
                                          [106.0, 21.0]]]},
     InvalidGeometryError, r"the drawn area is invalid: Self-intersection at lon 106\.050000, lat 21\.050000"),
    ({"type": "LineString", "coordinates": [[106.0, 21.0], [106.1, 21.1]]},
     InputError, "must be a Polygon or MultiPolygon, got LineString"),
    ({"type": "FeatureCollection", "features": []}, InputError, "got a FeatureCollection"),
    ({"type": "Polygon", "coordinates": [[[106.0, 21.0], [106.1, 21.1], [106.0, 21.0]]]},
     InvalidGeometryError, "the drawn area is invalid: Too few points in geometry component"),
    ({"type": "Polygon", "coordinates": [[[550000, 2330000], [551000, 2330000], [551000, 2331000],
                                          [550000, 2330000]]]},
     UnknownCRSError, "outside the lon/lat range"),
    ({"type": "Feature", "geometry": None}, InputError, "the Feature has no geometry"),
    ("POLYGON ((0 0, 1 0, 1 1, 0 0))", InputError, "must be a GeoJSON object, got str"),
])
def test_bad_drawings_are_refused_with_what_to_fix(units, geometry, error, message):
    with pytest.raises(error, match=message) as err:
        analyse_polygon(geometry, units=units)
    assert err.value.hint


def test_oversized_drawings_are_refused(units):
    with pytest.raises(OversizeInputError, match="the drawn area is 0.6 km², larger than the limit of 0.5 km²"):
        analyse_polygon(DRAWN, units=units, max_area_km2=0.5)
    with pytest.raises(OversizeInputError, match="the drawn area has 5 vertices, more than the limit of 4"):
        analyse_polygon(DRAWN, units=units, max_vertices=4)


@pytest.mark.real_data
def test_real_drawn_area_around_phuong_duc_xuan():
    units_path = SHARED_DATA / "post2025_communes_thai_nguyen_bac_ninh.geojson"
    raster = SHARED_DATA / "population_worldpop1km_2020_bk_tn_bg_bn.tif"
    if not units_path.exists() or not raster.exists():
        pytest.skip("shared data not available")
    communes = gpd.read_file(units_path).set_index("code", drop=False)
    drawn = mapping(communes.loc["01840"].geometry.buffer(0.01))    # Đức Xuân plus a ~1 km ring

    result = analyse_polygon(drawn, units=communes, raster_path=raster)

    by_code = {u["code"]: u for u in result["units"]}
    assert by_code["01840"]["share_of_unit_pct"] == pytest.approx(100.0, abs=0.01)
    assert result["population"]["method"] == "raster_rescaled_to_units"
    # Đức Xuân alone has 22,660 people (2025); the ring adds part of its neighbours.
    assert 22_660 < result["population"]["value"] < 60_000
    assert result["density"] == pytest.approx(result["population"]["value"] / result["area_km2"])
