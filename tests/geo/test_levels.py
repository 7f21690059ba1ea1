"""A district or province layer is recognised and kept as such; data problems are typed warnings per unit."""
import json

import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from diagioi.api.cli import app
from diagioi.geo.io import read_units
from helpers.grid import grid_frame

runner = CliRunner()


def _districts(tmp_path, **columns):
    frame = gpd.GeoDataFrame({
        "code": ["058", "060", "061"], "name": ["Thành phố Bắc Kạn", "Huyện Pác Nặm", "Huyện Ba Bể"],
        "province": ["Tỉnh Bắc Kạn"] * 3, **columns,
        "geometry": [shapely.box(105.8, 22.1, 105.9, 22.2), shapely.box(105.6, 22.5, 105.7, 22.6),
                     shapely.box(105.7, 22.3, 105.8, 22.4)]}, crs="EPSG:4326")
    path = tmp_path / "huyen.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def test_a_district_layer_is_recognised_by_its_names_and_codes(tmp_path):
    units = read_units(_districts(tmp_path))
    assert units.level == "district"
    assert list(units.gdf["kind"]) == ["provincial_city", "district", "district"]
    assert units.codes == ["058", "060", "061"]
    assert not [i for i in units.issues if i.issue_type == "unknown_kind"]


def test_a_type_column_wins_over_old_names_and_level_can_be_forced(tmp_path):
    path = _districts(tmp_path, district_type_gso=["Thành phố", "Huyện", "Thị xã"])
    units = read_units(path)
    assert units.level_reason == "column 'district_type_gso'" and units.gdf["kind"].iat[2] == "town"
    forced = read_units(path, level="commune")
    assert forced.level == "commune" and "unknown_kind" in {i.issue_type for i in forced.issues}


def test_cli_says_the_level_and_evaluate_refuses_a_district_layer(tmp_path):
    path = _districts(tmp_path)
    data = json.loads(runner.invoke(app, ["units", str(path), "--json"]).stdout)
    assert (data["level"], data["units"][0]["kind"]) == ("district", "provincial_city")
    scenario = tmp_path / "s.json"
    scenario.write_text('{"name": "x", "new_units": []}', encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(scenario), "--units", str(path), "--lang", "en"])
    assert result.exit_code == 2 and "is a district layer" in result.output
    vietnamese = runner.invoke(app, ["evaluate", str(scenario), "--units", str(path)])
    assert vietnamese.exit_code == 2 and "là lớp cấp huyện" in vietnamese.output
    output = " ".join(vietnamese.output.split())  # the console wraps long lines
    assert "tên bắt đầu bằng 'Huyện', 'Quận', 'Thị xã' hoặc 'Thành phố'" in output  # why, in Vietnamese too
    assert "names start with" not in output and "names start with" in " ".join(result.output.split())


def test_zero_population_padded_and_short_codes_are_typed_warnings(tmp_path):
    frame = grid_frame("EPSG:4326")
    frame["code"] = [1849, 1850, 1851, 1852, 1853, 1854, 1855, 1856, 1857]   # numbers, as a DBF stores them
    frame.loc[2, "population"] = 0
    path = tmp_path / "numeric.geojson"
    frame.to_file(path, driver="GeoJSON")
    units = read_units(path)
    by_type = {}
    for issue in units.issues:
        by_type.setdefault(issue.issue_type, []).append(issue)
    assert units.codes[0] == "01849"
    assert len(by_type["padded_code"]) == 9 and "1849 read as '01849'" in by_type["padded_code"][0].detail
    assert [i.code for i in by_type["zero_population"]] == ["01851"]
    frame["code"] = ["5665"] + [f"0{k}" for k in range(1850, 1858)]
    frame.to_file(path, driver="GeoJSON")
    short = [i for i in read_units(path).issues if i.issue_type == "short_code"]
    assert [i.code for i in short] == ["5665"]
    assert short[0].to_dict()["type"] == "short_code"


@pytest.mark.real_data
@pytest.mark.parametrize("name, level, n, typed", [
    ("pre2025_communes_census2009_bk_tn_bg_bn.geojson", "commune", 661,
     {"missing_code": 94, "zero_population": 9}),
    ("pre2025_districts_gischinhphu_bk_tn_bg_bn.geojson", "district", 35, {"no_population_column": 1}),
    ("post2025_communes_thai_nguyen_bac_ninh.geojson", "commune", 191, {"short_code": 1}),
])
def test_every_shared_layer_imports_with_its_report(shared_data, name, level, n, typed):
    result = runner.invoke(app, ["units", str(shared_data / name), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["level"] == level and len(data["units"]) == n
    counts = {}
    for issue in data["issues"]:
        counts[issue["type"]] = counts.get(issue["type"], 0) + 1
    assert {k: counts.get(k) for k in typed} == typed
    assert all(u["plane_crs"] for u in data["units"])


def test_a_district_layer_fills_missing_districts_and_lists_disagreements(tmp_path):
    from diagioi.geo.parents import assign_parents

    communes = grid_frame("EPSG:4326")
    communes["district"] = [None, None, None, "Huyện Mẫu", "Huyện Mẫu", "Huyện Mẫu", "Huyện Khác", None, None]
    communes_path = tmp_path / "xa.geojson"
    communes.to_file(communes_path, driver="GeoJSON")
    west, east = communes.geometry.iloc[[0, 3, 6]].union_all(), communes.geometry.iloc[[1, 2, 4, 5, 7, 8]].union_all()
    districts = gpd.GeoDataFrame({"code": ["001", "002"], "name": ["Huyện Tây", "H. Mẫu"],
                                  "province": ["Tỉnh Mẫu"] * 2, "geometry": [west, east]}, crs="EPSG:4326")
    districts_path = tmp_path / "huyen.geojson"
    districts.to_file(districts_path, driver="GeoJSON")
    units, report = assign_parents(read_units(communes_path), read_units(districts_path))
    assert units.gdf.loc["00001", "district"] == "Huyện Tây" and units.gdf.loc["00002", "district"] == "H. Mẫu"
    assert report["n_filled"] == 5 and report["n_agree"] == 2          # "Huyện Mẫu" = "H. Mẫu"
    assert [(d["code"], d["in_layer"], d["by_geometry"]) for d in report["disagreements"]] == [
        ("00004", "Huyện Mẫu", "Huyện Tây"), ("00007", "Huyện Khác", "Huyện Tây")]
    data = json.loads(runner.invoke(app, ["units", str(communes_path), "--parents", str(districts_path),
                                          "--json"]).stdout)
    assert data["parents"]["n_filled"] == 5 and data["units"][0]["district"] == "Huyện Tây"


@pytest.mark.real_data
def test_old_communes_checked_against_the_government_district_layer(shared_data):
    from diagioi.geo.parents import assign_parents

    old = read_units(shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson")
    districts = read_units(shared_data / "pre2025_districts_gischinhphu_bk_tn_bg_bn.geojson")
    _, report = assign_parents(old, districts)
    assert report["n_agree"] + len(report["disagreements"]) + len(report["outside"]) == 661
    assert report["n_agree"] > 600
    # Sơn Cẩm: the layer says Thành phố Thái Nguyên, its 2009 polygon lies in Huyện Phú Lương
    son_cam = next(d for d in report["disagreements"] if d["code"] == "05653")
    assert son_cam["by_geometry"] == "Huyện Phú Lương"
    new = read_units(shared_data / "post2025_communes_thai_nguyen_bac_ninh.geojson")
    with pytest.raises(Exception, match="no districts at all"):
        assign_parents(new, districts)
