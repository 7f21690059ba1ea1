"""The old → new crosswalk derived from geometry, and its comparison with a given mapping."""
import csv
import json

import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from diagioi.api.cli import app
from diagioi.geo.crosswalk import compare_with_mapping, derive_crosswalk, read_mapping
from diagioi.geo.io import read_units
from helpers.grid import ORIGIN_E, ORIGIN_N, TM3_105_45, grid_frame

runner = CliRunner()


@pytest.fixture
def old_new(tmp_path):
    """Old: the 3×3 km grid. New: "Xã Tây" = the west column + half of the middle column, "Phường Đông" = the rest."""
    old = tmp_path / "old.geojson"
    grid_frame("EPSG:4326").to_file(old, driver="GeoJSON")
    x_mid = ORIGIN_E + 1500.0
    new = gpd.GeoDataFrame({
        "code": ["10001", "10002"], "name": ["Xã Tây", "Phường Đông"], "kind": ["xa", "phuong"],
        "population": [1, 1],
        "geometry": [shapely.box(ORIGIN_E, ORIGIN_N, x_mid, ORIGIN_N + 3000),
                     shapely.box(x_mid, ORIGIN_N, ORIGIN_E + 3000, ORIGIN_N + 3000)]}, crs=TM3_105_45)
    new_path = tmp_path / "new.gpkg"
    new.to_file(new_path, driver="GPKG")
    return old, new_path


def test_whole_and_partial_units_with_area_and_population_shares(old_new):
    crosswalk = derive_crosswalk(read_units(old_new[0]), read_units(old_new[1]))
    rows = {(r.old_code, r.new_code): r for r in crosswalk.rows}
    assert rows[("00001", "10001")].relation == "whole"
    assert rows[("00001", "10001")].area_share_of_old == pytest.approx(1.0, abs=1e-3)
    assert rows[("00003", "10002")].relation == "whole"
    half = rows[("00002", "10001")]
    assert half.relation == "part" and half.area_share_of_old == pytest.approx(0.5, abs=2e-3)
    assert half.population_estimate == pytest.approx(1000, rel=5e-3)   # 2,000 people × half the area
    # Xã Tây: 1000 + 4000 + 7000 (west column) + half of 2000, 5000, 8000 = 19,500 people
    assert half.population_share_of_new == pytest.approx(1000 / 19_500, rel=5e-3)
    assert crosswalk.summary["n_old_split"] == 3 and crosswalk.summary["n_whole"] == 6


def test_comparison_lists_every_disagreement(old_new, tmp_path):
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("old_code,old_name,new_code,new_name,merge_type\n"
                       "00001,Ô 1,10001,Xã Tây,full\n"
                       "00003,Ô 3,10001,Xã Tây,full\n"          # wrong on purpose
                       "00002,Ô 2,10002,Phường Đông,partial\n"
                       "00099,Không có,10002,Phường Đông,full\n", encoding="utf-8")
    crosswalk = derive_crosswalk(read_units(old_new[0]), read_units(old_new[1]))
    result = compare_with_mapping(crosswalk, read_mapping(mapping))
    assert (result["whole_rows"], result["whole_agree"], result["part_rows"], result["part_agree"]) == (2, 1, 1, 1)
    assert result["not_in_old_layer"] == 1
    [disagreement] = result["disagreements"]
    assert (disagreement["line"], disagreement["old_code"], disagreement["mapping_new_code"]) == (3, "00003", "10001")
    assert disagreement["derived"][0]["new_code"] == "10002"


def test_cli_json_and_csv(old_new, tmp_path):
    out = tmp_path / "cw.csv"
    result = runner.invoke(app, ["crosswalk", str(old_new[0]), str(old_new[1]), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["n_rows"] == len(data["rows"]) == 12
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["old_code"] == "00001" and rows[0]["relation_vi"] == "toàn bộ"
    bad = runner.invoke(app, ["crosswalk", str(old_new[0]), str(old_new[1]), "--mapping", str(old_new[0])])
    assert bad.exit_code == 2 and "no old_code column" in bad.output


@pytest.mark.real_data
def test_old_and_new_layers_agree_with_the_mapping_on_whole_units(shared_data):
    old = read_units(shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson")
    new = read_units(shared_data / "post2025_communes_thai_nguyen_bac_ninh.geojson")
    crosswalk = derive_crosswalk(old, new)
    mapping = read_mapping(shared_data / "mapping_old_to_new_bk_tn_bg_bn.csv")
    assert len(mapping) == 599
    result = compare_with_mapping(crosswalk, mapping)
    assert result["whole_rows"] + result["part_rows"] + result["not_in_old_layer"] == 599
    assert result["whole_agreement"] >= 0.99
    whole_disagreements = [d for d in result["disagreements"] if d["mapping_relation"] == "whole"]
    assert len(whole_disagreements) == result["whole_rows"] - result["whole_agree"]
    # e.g. Nham Sơn: the mapping says Phường Bắc Giang, its 2009 polygon lies in the new Yên Dũng
    nham_son = next(d for d in whole_disagreements if d["old_code"] == "07732")
    assert nham_son["mapping_new_code"] == "07210" and nham_son["derived"][0]["new_code"] == "07681"
    # Bắc Kạn city, as in ../shared/data/README.md: three old wards → Phường Đức Xuân (01840)
    primary = {c: max(rows, key=lambda r: r.area_share_of_old).new_code for c, rows in crosswalk.by_old().items()}
    assert [primary[c] for c in ("01834", "01840", "01846")] == ["01840"] * 3
