"""Zoning layer models: geometry types, attribute schemas, file import."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box, mapping

from diagioi.geo.area import geodesic_area_km2
from diagioi.geo.errors import InputError, InvalidGeometryError, MissingCRSError, UnknownCRSError
from diagioi.layers.models import (
    ALLOWED_GEOMETRY_TYPES,
    MARKER_NOTE,
    ClusterStatus,
    LayerKind,
    TourismRank,
    features_to_gdf,
    read_layer_file,
    read_zoning_collection,
    validate_feature,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

# VN-2000 TM-3, central meridian 105°30' (Bắc Ninh); k0 = 0.9999.
TM3_BAC_NINH = ("+proj=tmerc +lat_0=0 +lon_0=105.5 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
                "+towgs84=-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278 "
                "+units=m +no_defs")
ORIGIN_X, ORIGIN_Y = 550_000.0, 2_330_000.0   # ≈ 105.98 E, 21.06 N


def feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def polygon_lonlat(x0_km: float, y0_km: float, x1_km: float, y1_km: float):
    """Rectangle given in km offsets in the TM-3 plane, returned in lon/lat."""
    to_lonlat = Transformer.from_crs(TM3_BAC_NINH, 4326, always_xy=True)
    plane = box(ORIGIN_X + x0_km * 1000, ORIGIN_Y + y0_km * 1000, ORIGIN_X + x1_km * 1000, ORIGIN_Y + y1_km * 1000)
    return shapely.transform(plane, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))


SQUARE_KM = mapping(polygon_lonlat(0, 0, 1, 1))
BOW_TIE = {"type": "Polygon", "coordinates": [[[106.0, 21.0], [106.1, 21.1], [106.1, 21.0], [106.0, 21.1],
                                                [106.0, 21.0]]]}


def test_layer_kinds_have_vietnamese_labels_and_geometry_types():
    assert [k.value for k in LayerKind] == ["industrial_clusters", "tourism_sites", "night_streets"]
    assert LayerKind.industrial_clusters.label_vi == "Cụm công nghiệp"
    assert LayerKind.tourism_sites.label_vi == "Điểm du lịch"
    assert LayerKind.night_streets.label_vi == "Tuyến phố đêm"
    assert ALLOWED_GEOMETRY_TYPES[LayerKind.tourism_sites] == ("Point", "Polygon")
    assert LayerKind.parse("tourism_site") is LayerKind.tourism_sites
    assert LayerKind.parse("Tuyến phố đêm") is LayerKind.night_streets
    with pytest.raises(InputError, match="unknown zoning layer 'parks'"):
        LayerKind.parse("parks")


def test_cluster_polygon_with_full_attributes_is_validated_and_extras_kept():
    cluster = validate_feature("industrial_clusters", {
        **feature(SQUARE_KM, name="Cụm công nghiệp Huyền Tụng", status="operating", area_ha=100,
                  occupancy_pct=72.5, investor="UBND tỉnh", source="quyết định 123/QĐ-UBND"),
        "id": 7})

    assert cluster.kind is LayerKind.industrial_clusters
    assert cluster.feature_id == "7"
    assert cluster.attributes.status is ClusterStatus.operating
    assert cluster.attributes.occupancy_pct == 72.5
    assert geodesic_area_km2(cluster.geometry) == pytest.approx(1.0, rel=5e-4)   # 1 km² drawn in TM-3
    assert cluster.properties()["source"] == "quyết định 123/QĐ-UBND"
    assert cluster.to_geojson()["properties"]["status"] == "operating"
    assert cluster.is_marker is False


def test_wrong_geometry_type_names_the_accepted_types():
    line = {"type": "LineString", "coordinates": [[106.0, 21.0], [106.1, 21.1]]}
    with pytest.raises(InputError, match="tourism_sites accept Point or Polygon, got LineString"):
        validate_feature(LayerKind.tourism_sites, feature(line, name="Chùa Dâu"))
    with pytest.raises(InputError, match="night_streets accept LineString or MultiLineString, got Polygon"):
        validate_feature(LayerKind.night_streets, feature(SQUARE_KM, name="Phố đêm"))


def test_self_intersecting_polygon_is_refused_with_its_location():
    with pytest.raises(InvalidGeometryError, match=r"Self-intersection at lon 106\.050000, lat 21\.050000") as err:
        validate_feature("industrial_clusters", feature(BOW_TIE, name="Cụm lỗi"))
    assert err.value.context["location"] == [106.05, 21.05]
    assert err.value.issues[0]["location"] == [106.05, 21.05]


def test_projected_metres_are_refused_as_out_of_lon_lat_range():
    metres = mapping(box(ORIGIN_X, ORIGIN_Y, ORIGIN_X + 1000, ORIGIN_Y + 1000))
    with pytest.raises(UnknownCRSError, match="outside the lon/lat range"):
        validate_feature("industrial_clusters", feature(metres, name="Cụm"))


@pytest.mark.parametrize("geometry, message", [
    ({"type": "Polygon", "coordinates": [[[106.0, 21.0], [106.1, 21.1]]]}, "malformed GeoJSON Polygon"),
    ({"type": "Polygon"}, "has no 'coordinates'"),
    ({"type": "Circle", "coordinates": [106, 21]}, "no valid GeoJSON geometry type"),
    ({"type": "Point", "coordinates": []}, "empty"),
])
def test_malformed_geojson_is_refused_with_a_reason(geometry, message):
    with pytest.raises(InputError, match=message):
        validate_feature("tourism_sites", feature(geometry, name="Điểm"))


@pytest.mark.parametrize("kind, properties, message", [
    ("industrial_clusters", {"name": "A", "status": "closed"}, "status: Input should be 'planned' or 'operating'"),
    ("industrial_clusters", {"name": "A", "occupancy_pct": 120}, "occupancy_pct: Input should be less than or equal to 100"),
    ("industrial_clusters", {"name": "A", "area_ha": -5}, "area_ha: Input should be greater than 0"),
    ("industrial_clusters", {"status": "planned"}, "name: Field required"),
    ("tourism_sites", {"name": "A", "rank": "global"}, "rank: Input should be 'provincial' or 'national'"),
    ("night_streets", {"name": "A", "hours": "late"}, "hours must look like 18:00-23:30"),
])
def test_attribute_errors_name_the_field_to_fix(kind, properties, message):
    geometry = {"industrial_clusters": SQUARE_KM,
                "tourism_sites": {"type": "Point", "coordinates": [106.0, 21.0]},
                "night_streets": {"type": "LineString", "coordinates": [[106.0, 21.0], [106.01, 21.0]]}}[kind]
    with pytest.raises(InputError, match=message):
        validate_feature(kind, feature(geometry, **properties))


def test_cluster_point_is_refused_strictly_and_accepted_as_a_marker():
    point = {"type": "Point", "coordinates": [106.1148912, 21.1542444]}
    with pytest.raises(InputError, match="industrial_clusters accept Polygon or MultiPolygon, got Point"):
        validate_feature("industrial_clusters", feature(point, name="KCN Quế Võ"))

    marker = validate_feature("industrial_clusters", feature(point, name="KCN Quế Võ"), allow_markers=True)
    assert marker.is_marker is True
    assert marker.geometry_note == MARKER_NOTE
    assert marker.properties()["geometry_note"] == MARKER_NOTE


def test_night_street_hours_and_tourism_rank_are_parsed():
    street = validate_feature("night_streets", feature(
        {"type": "LineString", "coordinates": [[106.0, 21.0], [106.01, 21.0]]},
        name="Phố đêm Đàm Văn Lễ", ward="Vân Dương", hours="18:00-02:00"))
    site = validate_feature("tourism_sites", feature({"type": "Point", "coordinates": [106.0, 21.0]},
                                                     name="Chùa Dâu", rank="national", category="pagoda"))
    assert street.attributes.hours == "18:00-02:00"
    assert site.attributes.rank is TourismRank.national


def test_opening_hours_in_geojson_are_read_as_text(tmp_path):
    path = tmp_path / "streets.geojson"
    line = {"type": "LineString", "coordinates": [[106.0, 21.0], [106.01, 21.0]]}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(line, name="Phố đêm Nghĩa Long", hours="18:00–24:00"),
        feature(line, name="Phố đêm Bình Mỹ", hours="19:00-01:00")]}, ensure_ascii=False), encoding="utf-8")

    streets = read_layer_file(path, "night_streets")

    assert [s.attributes.hours for s in streets] == ["18:00–24:00", "19:00-01:00"]


def test_geopackage_in_tm3_is_reprojected_to_lon_lat(tmp_path):
    plane = gpd.GeoDataFrame(
        {"name": ["Cụm A", "Cụm B"], "status": ["planned", "operating"]},
        geometry=[box(ORIGIN_X, ORIGIN_Y, ORIGIN_X + 1000, ORIGIN_Y + 1000),
                  box(ORIGIN_X + 2000, ORIGIN_Y, ORIGIN_X + 2500, ORIGIN_Y + 1000)],
        crs=TM3_BAC_NINH)
    path = tmp_path / "clusters.gpkg"
    plane.to_file(path)

    clusters = read_layer_file(path, "industrial_clusters")

    assert [c.name for c in clusters] == ["Cụm A", "Cụm B"]
    assert [round(geodesic_area_km2(c.geometry), 3) for c in clusters] == [1.0, 0.5]
    assert clusters[0].geometry.bounds[0] == pytest.approx(105.98, abs=0.01)
    assert clusters[1].attributes.status is ClusterStatus.operating


def test_layer_file_without_crs_raises_missing_crs(tmp_path):
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 1, 1)]).to_file(path)
    with pytest.raises(MissingCRSError, match="nocrs.gpkg has no coordinate reference system"):
        read_layer_file(path, "industrial_clusters")


def test_geojson_holding_metres_is_refused_as_undeclared_crs(tmp_path):
    path = tmp_path / "metres.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(mapping(box(ORIGIN_X, ORIGIN_Y, ORIGIN_X + 1000, ORIGIN_Y + 1000)), name="A")]}))
    with pytest.raises(UnknownCRSError, match="projected metres"):
        read_layer_file(path, "industrial_clusters")


def test_all_bad_features_of_a_file_are_reported_at_once(tmp_path):
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {**feature({"type": "Point", "coordinates": [106.0, 21.0]}, name="Tốt"), "id": "s1"},
        {**feature(BOW_TIE, name="Nơ"), "id": "s2"},
        {**feature({"type": "LineString", "coordinates": [[106.0, 21.0], [106.1, 21.0]]}, name="Đường"), "id": "s3"},
        {**feature({"type": "Point", "coordinates": [106.2, 21.0]}, name="Hạng sai", rank="world"), "id": "s4"},
    ]}, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(InvalidGeometryError, match="3 of 4 tourism_sites features refused") as err:
        read_layer_file(path, "tourism_sites")

    issues = {issue.feature: issue for issue in err.value.issues}
    assert sorted(issues) == ["s2", "s3", "s4"]
    assert issues["s2"].location == (106.05, 21.05)
    assert "got LineString" in issues["s3"].problem
    assert "rank" in issues["s4"].problem


def test_features_to_gdf_has_one_row_per_feature_in_lon_lat():
    features = [validate_feature("tourism_sites", feature({"type": "Point", "coordinates": [106.0 + i / 100, 21.0]},
                                                          name=f"Điểm {i}", rank="provincial")) for i in range(3)]
    frame = features_to_gdf(features)
    assert frame.crs.to_epsg() == 4326
    assert frame["name"].tolist() == ["Điểm 0", "Điểm 1", "Điểm 2"]
    assert frame["rank"].tolist() == ["provincial"] * 3
    assert frame["layer"].unique().tolist() == ["tourism_sites"]
    assert len(features_to_gdf([])) == 0


@pytest.mark.real_data
def test_real_zoning_file_imports_markers_and_skips_streets_without_geometry():
    path = SHARED_DATA / "zoning_real_bn_bk.geojson"
    if not path.exists():
        pytest.skip("shared data not available")

    imported = read_zoning_collection(path)

    assert imported.counts() == {"industrial_clusters": 7, "tourism_sites": 7, "night_streets": 0}
    assert len(imported.markers) == 7          # every cluster there is a point (OSM outline centre)
    assert len(imported.skipped) == 6          # night streets are described in words only
    assert {s["reason"] for s in imported.skipped} == {
        "no geometry in the source (location described in words only)"}
    que_vo = next(f for f in imported.features[LayerKind.industrial_clusters] if f.name == "KCN Quế Võ")
    assert que_vo.attributes.area_ha == pytest.approx(313.34)
    assert que_vo.properties()["osm_ref"] == "way/597872887"
    dau = next(f for f in imported.features[LayerKind.tourism_sites] if f.name == "Chùa Dâu")
    assert dau.attributes.category == "pagoda"
    assert dau.geometry.coords[0] == pytest.approx((106.041428, 21.03554))
    with pytest.raises(InvalidGeometryError, match="7 of 20 zoning features refused"):
        read_zoning_collection(path, allow_markers=False)
