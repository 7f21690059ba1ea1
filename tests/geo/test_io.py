"""Reading unit layers: any CRS, field mapping, codes as text, every problem reported per unit."""
import json

import numpy as np
import pytest
import shapely

from diagioi.geo.area import geodesic_area_km2
from diagioi.geo.errors import InputError, InvalidGeometryError, MissingColumnError, MissingCRSError, UnknownCRSError
from diagioi.geo.io import read_units
from helpers.grid import grid_frame


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4756", "EPSG:3405", "EPSG:9210", "EPSG:5897"])
def test_grid_loads_from_any_vn_crs_with_one_km2_per_square(tmp_path, crs):
    path = tmp_path / "grid.gpkg"
    grid_frame(crs).to_file(path, driver="GPKG")
    units = read_units(path)
    assert units.gdf.crs.to_epsg() == 4326
    assert list(units.gdf.index) == [f"{k:05d}" for k in range(1, 10)]
    # 1 km² in the TM-3 105°45' plane is 1/0.9999² km² on the ellipsoid.
    assert units.gdf["area_km2"].to_numpy() == pytest.approx(np.full(9, 1 / 0.9999**2), rel=5e-4)


def test_codes_stay_text_and_numeric_codes_get_their_leading_zeros(tmp_path):
    frame = grid_frame("EPSG:4326")
    frame["code"] = frame["code"].astype(int)  # a spreadsheet turned "00001" into 1
    path = tmp_path / "numeric.geojson"
    frame.to_file(path, driver="GeoJSON")
    units = read_units(path)
    assert units.codes[0] == "00001"
    assert all(isinstance(c, str) and len(c) == 5 for c in units.codes)


def test_model_fields_kinds_population_and_official_area(grid_units):
    gdf = grid_units.gdf
    assert gdf.at["00005", "kind"] == "ward"
    assert gdf.at["00001", "kind"] == "commune"
    assert gdf.at["00003", "population"] == 3000
    assert gdf.at["00001", "official_area_km2"] == 1.0
    assert np.isnan(gdf.at["00009", "official_area_km2"])
    record = {r["code"]: r for r in grid_units.to_records()}["00005"]
    assert record["density"] == pytest.approx(5000.0)
    assert record["official_area_km2"] == 1.0
    assert record["area_km2"] == pytest.approx(1.0002, abs=5e-4)


def test_custom_field_names_are_mapped(tmp_path):
    frame = grid_frame("EPSG:4326").rename(columns={"code": "MA_XA", "name": "TEN", "population": "DS_2024",
                                                      "area_km2_official": "DT_KM2"})
    path = tmp_path / "custom.geojson"
    frame.to_file(path, driver="GeoJSON")
    units = read_units(path, population_field="DS_2024", area_field="DT_KM2")
    assert units.codes[:2] == ["00001", "00002"]   # MA_XA found by the built-in candidates
    assert units.gdf.at["00002", "population"] == 2000
    assert units.field_mapping["official_area_km2"] == "DT_KM2"


def test_missing_column_names_the_file_and_lists_columns(tmp_path):
    frame = grid_frame("EPSG:4326").drop(columns=["code"]).rename(columns={"name": "label"})
    path = tmp_path / "nocode.geojson"
    frame.to_file(path, driver="GeoJSON")
    with pytest.raises(MissingColumnError, match="no column for the unit code") as info:
        read_units(path)
    assert "--code-field" in info.value.hint and "label" in info.value.hint
    with pytest.raises(MissingColumnError, match="'POP'"):
        read_units(path, code_field="label", name_field="label", population_field="POP")


def test_shapefile_without_prj_needs_a_declared_crs(tmp_path):
    path = tmp_path / "noprj.shp"
    grid_frame().to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(MissingCRSError, match="no coordinate reference system") as info:
        read_units(path)
    assert "EPSG:4756" in info.value.hint
    units = read_units(path, crs="EPSG:9210")
    assert units.gdf["area_km2"].sum() == pytest.approx(9 / 0.9999**2, rel=5e-4)


def test_metres_declared_as_degrees_are_refused(tmp_path):
    frame = grid_frame().set_crs("EPSG:4326", allow_override=True)  # TM-3 metres labelled as lon/lat
    path = tmp_path / "wrong.geojson"
    frame.to_file(path, driver="GeoJSON")
    with pytest.raises(UnknownCRSError, match="outside lon/lat range"):
        read_units(path)


def test_malformed_geojson_gives_line_and_column(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [ {"type": "Feature",, } ]}', encoding="utf-8")
    with pytest.raises(InputError, match="malformed JSON at line 1, column"):
        read_units(path)
    path.write_text('{"type": "Topology"}', encoding="utf-8")
    with pytest.raises(InputError, match="not a GeoJSON FeatureCollection"):
        read_units(path)


def _bowtie_frame():
    frame = grid_frame("EPSG:4326")
    bowtie = shapely.Polygon([(105.70, 21.60), (105.71, 21.61), (105.71, 21.60), (105.70, 21.61)])
    frame.loc[3, "geometry"] = bowtie
    return frame


def test_self_intersecting_polygon_is_repaired_and_reported(tmp_path):
    path = tmp_path / "bowtie.geojson"
    _bowtie_frame().to_file(path, driver="GeoJSON")
    units = read_units(path)
    [issue] = [i for i in units.issues if i.code == "00004"]
    assert issue.problem == "Self-intersection"
    assert issue.action == "repaired"
    assert issue.location == pytest.approx((105.705, 21.605), abs=1e-6)
    assert units.gdf.at["00004", "geometry"].is_valid
    # The bow-tie's two triangles are kept: together half of the 0.01° cell they span.
    cell_km2 = geodesic_area_km2(shapely.box(105.70, 21.60, 105.71, 21.61))
    assert units.gdf.at["00004", "area_km2"] == pytest.approx(cell_km2 / 2, rel=1e-3)


def test_self_intersecting_polygon_is_refused_without_repair(tmp_path):
    path = tmp_path / "bowtie.geojson"
    _bowtie_frame().to_file(path, driver="GeoJSON")
    with pytest.raises(InvalidGeometryError, match="1 unit\\(s\\) have unusable geometry") as info:
        read_units(path, repair=False)
    [issue] = info.value.issues
    assert (issue.code, issue.name, issue.action) == ("00004", "Ô 4", "refused")


def test_missing_population_and_codes_are_reported_not_invented(tmp_path):
    frame = grid_frame("EPSG:4326")
    frame.loc[1, "population"] = None
    frame.loc[2, "code"] = None
    path = tmp_path / "gaps.geojson"
    frame.to_file(path, driver="GeoJSON")
    units = read_units(path)
    problems = {(i.code, i.problem) for i in units.issues}
    assert ("00002", "missing population") in problems
    assert ("_row00002", "missing unit code") in problems
    assert np.isnan(units.gdf.at["00002", "population"])
    assert {r["code"]: r for r in units.to_records()}["00002"]["density"] is None


def test_unsupported_format_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_units(tmp_path / "nope.geojson")
    bad = tmp_path / "table.xlsx"
    bad.write_bytes(b"PK")
    with pytest.raises(InputError, match="unsupported format"):
        read_units(bad)


def test_version_changes_with_the_data(tmp_path, grid_path):
    first = read_units(grid_path).version
    data = json.loads(grid_path.read_text())
    data["features"][0]["properties"]["population"] = 1234
    grid_path.write_text(json.dumps(data))
    assert read_units(grid_path).version != first


@pytest.mark.parametrize("column, value", [
    ("ethnic_minority_share", 0.6), ("mountainous", True), ("border", True), ("island", True),
    ("red_river_delta", True), ("district", "Huyện Khác"), ("province", "Tỉnh Khác"), ("area_km2_official", 1.5),
    ("name", "Ô Mới"), ("kind", "phuong"),
])
def test_every_column_that_changes_a_figure_changes_the_version(tmp_path, column, value):
    """Two layers that differ in one value of one unit get different versions (issue 9: identity covers the data)."""
    frame = grid_frame("EPSG:4326")
    frame["ethnic_minority_share"] = 0.1
    for flag in ("mountainous", "border", "island", "red_river_delta"):
        frame[flag] = False
    frame.to_file(tmp_path / "a.geojson", driver="GeoJSON")
    frame.loc[0, column] = value
    frame.to_file(tmp_path / "b.geojson", driver="GeoJSON")
    assert read_units(tmp_path / "a.geojson").version != read_units(tmp_path / "b.geojson").version


def test_the_same_content_in_another_column_order_has_the_same_version(tmp_path):
    """(Same file name: the name is part of each figure's recorded source, ``population_source``.)"""
    frame = grid_frame("EPSG:4326")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    frame.to_file(tmp_path / "a" / "units.geojson", driver="GeoJSON")
    frame[list(reversed(frame.columns))].to_file(tmp_path / "b" / "units.geojson", driver="GeoJSON")
    assert read_units(tmp_path / "a" / "units.geojson").version == read_units(tmp_path / "b" / "units.geojson").version


@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "cp1258"])
def test_shapefile_in_a_legacy_vietnamese_encoding_is_detected(tmp_path, encoding):
    from diagioi.geo.encoding import RAW_READ_ENCODING, encode_text

    frame = grid_frame()
    names = ["Đức Xuân", "Nguyễn Thị Minh Khai", "Huyền Tụng", "Xuất Hóa", "Sông Cầu", "Phùng Chí Kiên",
             "Nông Thượng", "Dương Quang", "Cẩm Giàng"]
    frame["name"] = [encode_text(n, encoding).decode(RAW_READ_ENCODING) for n in names]
    frame = frame[["code", "name", "population", "geometry"]]
    path = tmp_path / "legacy.shp"
    frame.to_file(path, encoding=RAW_READ_ENCODING)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    units = read_units(path)
    assert units.gdf["name"].tolist() == names
    assert units.gdf.at["00001", "population"] == 1000


def test_unit_search_ignores_diacritics_case_and_administrative_prefixes(grid_units):
    assert len(grid_units.search(district="mau")) == 9
    assert len(grid_units.search(district="H. Mẫu", province="tinh mau")) == 9
    assert len(grid_units.search(province="Tỉnh Khác")) == 0
    assert list(grid_units.search(q="o 5").index) == ["00005"]
    assert list(grid_units.search(q="0000", district="Huyện Mẫu").index) == grid_units.codes
