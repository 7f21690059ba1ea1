"""Each unit is measured in the official VN-2000 TM-3 zone of its own province, and says which."""
import json

import pytest
from typer.testing import CliRunner

from diagioi.api.cli import app
from diagioi.geo.crs import tm3_crs_for
from diagioi.geo.io import read_units
from diagioi.geo.tm3 import PROVINCE_MERIDIANS_973, province_key, zone_for
from helpers.grid import grid_frame

runner = CliRunner()


def test_the_table_has_every_former_province_and_reads_names_in_any_form():
    assert len(set(PROVINCE_MERIDIANS_973) - {"hue"}) == 63
    assert province_key("Tỉnh Bắc Kạn") == province_key("bac kan") == "bac kan"
    assert province_key("TP. Hồ Chí Minh") == "ho chi minh"
    assert province_key("Tỉnh Bà Rịa - Vũng Tàu") == "ba ria vung tau"
    assert tm3_crs_for("Tỉnh Bắc Kạn").to_epsg() == 9213        # 106°30'
    assert tm3_crs_for("Tỉnh Bắc Giang").to_epsg() == 9214      # 107°00'
    assert tm3_crs_for("Thành phố Hà Nội").to_epsg() == 5897    # 105°00'
    assert tm3_crs_for("Tỉnh Quảng Ninh").to_epsg() == 5899     # 107°45'


def test_a_2025_province_uses_its_predecessors_zone():
    # new Thái Nguyên = Thái Nguyên + Bắc Kạn, both 106°30'
    assert zone_for("Tỉnh Thái Nguyên", lon=105.8, post_2025=True)[0] == 106.5
    # new Bắc Ninh = Bắc Ninh (105°30') + Bắc Giang (107°00'): the nearer one, and it says so
    meridian, basis = zone_for("Tỉnh Bắc Ninh", lon=106.8, post_2025=True)
    assert meridian == 107.0 and "chưa có kinh tuyến công bố" in basis
    assert zone_for("Tỉnh Bắc Ninh", lon=106.8, post_2025=False)[0] == 105.5


def test_units_of_two_provinces_in_one_layer_get_their_own_zone(tmp_path):
    frame = grid_frame("EPSG:4326")
    frame["province"] = ["Tỉnh Bắc Kạn"] * 4 + ["Tỉnh Bắc Giang"] * 5
    path = tmp_path / "two.geojson"
    frame.to_file(path, driver="GeoJSON")
    units = read_units(path)
    zones = units.plane_crs()
    assert list(zones["plane_crs"]) == ["EPSG:9213"] * 4 + ["EPSG:9214"] * 5
    result = runner.invoke(app, ["units", str(path), "--json", "--plane-area"])
    records = json.loads(result.stdout)["units"]
    assert [r["plane_crs"] for r in records] == list(zones["plane_crs"])
    assert all(r["plane_area_km2"] == pytest.approx(r["area_km2"], rel=2e-3) for r in records)
    forced = runner.invoke(app, ["units", str(path), "--json", "--plane-area", "--plane-crs", "EPSG:9210"])
    assert {r["plane_crs"] for r in json.loads(forced.stdout)["units"]} == {"EPSG:9210"}
    assert json.loads(forced.stdout)["units"][4]["plane_area_km2"] == pytest.approx(1.0, abs=2e-3)
    # a new unit reports the zone holding most of its members' area
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"name": "thử", "new_units": [
        {"name": "Xã Mới", "kind": "xa", "members": ["00004", "00005", "00006"]}]}), encoding="utf-8")
    evaluated = runner.invoke(app, ["evaluate", str(scenario), "--units", str(path), "--json"])
    assert json.loads(evaluated.stdout)["new_units"][0]["plane_crs"] == "EPSG:9214"


def test_a_province_not_in_the_table_uses_the_nearest_zone(grid_units):
    zones = grid_units.plane_crs()     # "Tỉnh Mẫu", drawn near 105°45'
    assert set(zones["plane_crs"]) == {"EPSG:9210"}
    assert "gần nhất" in zones["plane_crs_basis"].iat[0]


@pytest.mark.real_data
def test_bac_kan_units_are_measured_in_9213_and_bac_giang_in_9214(shared_data):
    units = read_units(shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson")
    zones = units.plane_crs().join(units.gdf["province"])
    assert set(zones.loc[zones.province == "Tỉnh Bắc Kạn", "plane_crs"]) == {"EPSG:9213"}
    assert set(zones.loc[zones.province == "Tỉnh Bắc Giang", "plane_crs"]) == {"EPSG:9214"}
    assert set(zones.loc[zones.province == "Tỉnh Bắc Ninh", "plane_crs"]) == {"EPSG:9209"}
    ratio = units.plane_area_km2() / units.gdf["area_km2"]
    assert ratio.between(0.999, 1.001).all()   # TM-3 (k = 0.9999) within 0.1 % of the geodesic area
