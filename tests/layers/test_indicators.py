"""Per-area zoning indicators, on a strip of three 1 km squares drawn in a TM-3 plane.

    y (km)
    1 +----------+----------+----------+
      |   01840  |   01843  |   01849  |      units A, B, C: 1 km² each
      | *nat  [==|==k1==]   |  k2  *prov |    * tourism points, k1/k2 cluster outlines
    0 +----------+----------+----------+      one night street crosses the strip at y = 0.5
      0          1          2          3  x (km)
"""
from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from diagioi.geo.area import geodesic_area_km2, geodesic_areas_km2, geodesic_length_km
from diagioi.geo.errors import MissingCRSError
from diagioi.geo.i18n import translate
from diagioi.layers.indicators import INDICATOR_FIELDS, compute_indicators, indicators_to_csv
from diagioi.layers.models import LayerKind, features_to_gdf, read_zoning_collection
from plane_fixtures import TM3_BAC_NINH, km

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def layer(geometries, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [f"f{i}" for i in range(len(geometries))], **columns},
                            geometry=[km(g) for g in geometries], crs=4326)


@pytest.fixture
def strip() -> gpd.GeoDataFrame:
    squares = [km(box(i, 0, i + 1, 1)) for i in range(3)]
    units = gpd.GeoDataFrame({"code": ["01840", "01843", "01849"]}, geometry=squares, crs=4326)
    units["area_km2"] = geodesic_areas_km2(units.geometry)
    return units.set_index("code", drop=False)


@pytest.fixture
def zoning() -> dict[LayerKind, gpd.GeoDataFrame]:
    clusters = layer([box(0.75, 0.1, 1.25, 0.9),        # k1: half in A, half in B (0.2 km² each)
                      box(2.2, 0.2, 2.4, 0.7),          # k2: inside C, 0.1 km²
                      Point(1.5, 0.5),                  # k3: a point marker in B (no outline)
                      box(-0.5, 0, 0, 1)],              # k4: touches A's west edge only
                     geometry_note=[None, None, "point marker", None])
    sites = layer([Point(0.5, 0.5), Point(2.5, 0.5), box(1.1, 0.1, 1.3, 0.3), Point(2.8, 0.8)],
                  rank=["national", "provincial", None, "national"])
    streets = layer([LineString([(0.5, 0.5), (2.5, 0.5)]), LineString([(2.1, 0.9), (2.9, 0.9)])])
    return {LayerKind.industrial_clusters: clusters, LayerKind.tourism_sites: sites,
            LayerKind.night_streets: streets}


def test_features_crossing_units_count_in_both_and_split_their_area(strip, zoning):
    table = compute_indicators(strip, zoning)

    assert table.index.tolist() == ["01840", "01843", "01849"]
    assert table["industrial_cluster_count"].tolist() == [1, 2, 1]      # k4 only touches A: not counted
    assert table["industrial_cluster_area_km2"].to_numpy() == pytest.approx([0.20, 0.20, 0.10], rel=1e-3)
    assert table["industrial_cluster_share_pct"].to_numpy() == pytest.approx([20.0, 20.0, 10.0], rel=1e-3)
    assert table["tourism_site_count"].tolist() == [1, 1, 2]
    assert table["tourism_site_count_national"].tolist() == [1, 0, 1]
    assert table["tourism_site_count_provincial"].tolist() == [0, 0, 1]
    assert table["night_street_count"].tolist() == [1, 1, 2]
    assert table["night_street_length_km"].to_numpy() == pytest.approx([0.5, 1.0, 1.3], rel=1e-3)
    assert "1 điểm đánh dấu được đếm nhưng không tính diện tích" in table["source"].iloc[0]
    assert "1 điểm chưa xếp hạng" in table["source"].iloc[0]
    english = translate(table.attrs["source_message"], "en")
    assert "Industrial clusters" in english and "Cụm" not in english


def test_split_pieces_add_up_to_the_whole_feature(strip, zoning):
    table = compute_indicators(strip, zoning)
    street = zoning[LayerKind.night_streets].geometry.iloc[0]
    k1 = zoning[LayerKind.industrial_clusters].geometry.iloc[0]

    assert table["night_street_length_km"].sum() == pytest.approx(
        geodesic_length_km(street) + geodesic_length_km(zoning[LayerKind.night_streets].geometry.iloc[1]), rel=1e-9)
    assert table["industrial_cluster_area_km2"].iloc[:2].sum() == pytest.approx(geodesic_area_km2(k1), rel=1e-9)


def test_overlapping_cluster_outlines_are_measured_once(strip):
    clusters = layer([box(0.1, 0.1, 0.6, 0.6), box(0.4, 0.1, 0.9, 0.6)])   # union 0.8 × 0.5 km

    table = compute_indicators(strip, {"industrial_clusters": clusters})

    assert table.loc["01840", "industrial_cluster_count"] == 2
    assert table.loc["01840", "industrial_cluster_area_km2"] == pytest.approx(0.40, rel=1e-3)


def test_missing_layers_give_zeros_and_say_so(strip):
    table = compute_indicators(strip, {})

    assert table[[n for n in INDICATOR_FIELDS if n != "industrial_cluster_share_pct"]].to_numpy().sum() == 0
    assert table["industrial_cluster_share_pct"].tolist() == [0.0, 0.0, 0.0]
    assert "Tuyến phố đêm: chưa nạp lớp (tính bằng 0)" in table["source"].iloc[0]


def test_new_units_indexed_by_id_and_area_computed_when_absent(strip, zoning):
    merged = gpd.GeoDataFrame({"id": ["n1"]}, geometry=[shapely.union_all(strip.geometry.iloc[:2])],
                              crs=4326).set_index("id")

    table = compute_indicators(merged, zoning)

    assert table.index.tolist() == ["n1"]
    assert table.loc["n1", "industrial_cluster_count"] == 2                     # k1 counted once
    assert table.loc["n1", "industrial_cluster_share_pct"] == pytest.approx(20.0, rel=1e-3)   # 0.4 of 2 km²
    assert table.loc["n1", "night_street_length_km"] == pytest.approx(1.5, rel=1e-3)


def test_areas_in_a_projected_crs_are_reprojected_and_missing_crs_refused(strip, zoning):
    projected = strip.to_crs(TM3_BAC_NINH).drop(columns="area_km2")
    table = compute_indicators(projected, zoning)
    assert table["industrial_cluster_area_km2"].to_numpy() == pytest.approx([0.20, 0.20, 0.10], rel=1e-3)

    with pytest.raises(MissingCRSError, match="areas layer has no coordinate reference system"):
        compute_indicators(strip.set_crs(None, allow_override=True), zoning)


def test_indicator_fields_declare_units_and_vietnamese_labels():
    assert {f.unit for f in INDICATOR_FIELDS.values()} == {"count", "km²", "%", "km"}
    assert INDICATOR_FIELDS["night_street_length_km"].unit == "km"
    assert INDICATOR_FIELDS["industrial_cluster_share_pct"].label_vi == "Tỷ lệ diện tích cụm công nghiệp"


def test_csv_keeps_codes_as_text_and_all_columns(strip, zoning):
    buffer = io.StringIO()
    indicators_to_csv(compute_indicators(strip, zoning), buffer)

    buffer.seek(0)
    back = pd.read_csv(buffer, dtype={"code": str}).set_index("code")
    assert back.index.tolist() == ["01840", "01843", "01849"]
    assert list(back.columns) == [*INDICATOR_FIELDS, "source"]
    assert back.loc["01843", "industrial_cluster_area_km2"] == pytest.approx(0.20, rel=1e-3)


def test_csv_file_starts_with_a_bom_for_spreadsheet_programs(tmp_path, strip, zoning):
    path = tmp_path / "indicators.csv"
    indicators_to_csv(compute_indicators(strip, zoning), path)
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    assert path.read_text(encoding="utf-8-sig").splitlines()[1].startswith("01840,1,0.2000")


def test_ten_thousand_units_conserve_totals():
    """A 100 × 100 grid of 0.01° cells and a few hundred random features: nothing is lost or doubled."""
    rng = np.random.default_rng(42)
    cells = [box(105.5 + i * 0.01, 21.0 + j * 0.01, 105.51 + i * 0.01, 21.01 + j * 0.01)
             for i in range(100) for j in range(100)]
    grid = gpd.GeoDataFrame({"code": [f"{k:05d}" for k in range(10_000)]}, geometry=cells, crs=4326).set_index("code")
    corners = rng.uniform([105.5, 21.0], [106.45, 21.95], size=(300, 2))
    sizes = rng.uniform(0.002, 0.04, size=(300, 2))
    clusters = gpd.GeoDataFrame({"name": [f"k{i}" for i in range(300)]}, crs=4326,
                                geometry=[box(x, y, x + w, y + h) for (x, y), (w, h) in zip(corners, sizes)])
    points = gpd.GeoDataFrame({"name": [f"s{i}" for i in range(200)], "rank": ["national", "provincial"] * 100},
                              geometry=[Point(p) for p in rng.uniform([105.5, 21.0], [106.5, 22.0], (200, 2))],
                              crs=4326)
    ends = rng.uniform([105.5, 21.0], [106.5, 22.0], size=(200, 2, 2))
    streets = gpd.GeoDataFrame({"name": [f"p{i}" for i in range(200)]}, crs=4326,
                               geometry=[LineString(e) for e in ends])

    table = compute_indicators(grid, {"industrial_clusters": clusters, "tourism_sites": points,
                                      "night_streets": streets})

    extent = box(105.5, 21.0, 106.5, 22.0)
    # Cutting an edge adds vertices, and geo.area joins vertices by geodesics, so the pieces
    # differ from the whole by ~1e-6 (relative) — far below any figure we report.
    assert table["industrial_cluster_area_km2"].sum() == pytest.approx(
        geodesic_area_km2(shapely.union_all(clusters.geometry).intersection(extent)), rel=1e-5)
    assert table["night_street_length_km"].sum() == pytest.approx(
        sum(geodesic_length_km(g) for g in streets.geometry), rel=1e-5)
    assert table["tourism_site_count"].sum() == 200
    assert table["tourism_site_count_national"].sum() == 100


@pytest.mark.real_data
def test_real_zoning_points_fall_in_new_bac_ninh_communes():
    units_path = SHARED_DATA / "post2025_communes_thai_nguyen_bac_ninh.geojson"
    if not units_path.exists():
        pytest.skip("shared data not available")
    units = gpd.read_file(units_path).set_index("code", drop=False)
    imported = read_zoning_collection(SHARED_DATA / "zoning_real_bn_bk.geojson")
    frames = {kind: features_to_gdf(features) for kind, features in imported.features.items()}

    table = compute_indicators(units, frames)

    assert table["industrial_cluster_count"].sum() == 7
    assert table["tourism_site_count"].sum() == 7
    assert table["industrial_cluster_area_km2"].sum() == 0.0            # markers carry no area
    bac_ninh = units["province_code"].astype(str).str.zfill(2) == "24"
    assert table.loc[bac_ninh, "tourism_site_count"].sum() == 7
