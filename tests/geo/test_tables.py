"""Population and flag tables from a statistics office, joined to a units layer by code or by name."""
import json
import unicodedata

import openpyxl
import pandas as pd
import pytest

from diagioi.geo.errors import MissingColumnError
from diagioi.geo.tables import join_table, name_keys, normalise_code, read_table


def test_names_written_in_other_forms_give_the_same_keys():
    forms = ["Phường Đức Xuân", "P. Đức Xuân", "P.Đức  Xuân", "phường đức xuân",
             unicodedata.normalize("NFD", "Phường Đức Xuân"), "P. Ðức Xuân"]  # the last has an Icelandic eth
    assert {name_keys(f)[0] for f in forms} == {name_keys("Đức Xuân")[0]}
    assert name_keys("Xã Hoà Bình")[0] == name_keys("xã Hòa Bình")[0]          # old/new tone placement
    assert name_keys("Thuý Lĩnh")[0] == name_keys("Thúy Lĩnh")[0]
    assert name_keys("Duc Xuan")[1] == name_keys("Đức Xuân")[1]                # Đ/D, no diacritics
    assert name_keys("Duc Xuan")[0] != name_keys("Đức Xuân")[0]
    assert name_keys("Phường 01") == name_keys("P.1")
    assert name_keys("Thị trấn Chợ Mới")[2] == "township" and name_keys("TT Chợ Mới")[0] == name_keys("Chợ Mới")[0]
    # a name whose first word looks like a prefix keeps it
    assert name_keys("Phương Liễu")[0] != name_keys("Liễu")[0]
    assert name_keys("Xuân Phương")[0] == "xuân phương"
    assert name_keys("TP. Bắc Kạn", parent=True)[0] == name_keys("Thành phố Bắc Kạn", parent=True)[0]
    assert name_keys("H. Chợ Đồn", parent=True)[0] == name_keys("Huyện Chợ Đồn", parent=True)[0]


def test_codes_are_text_and_padding_is_reported():
    assert normalise_code(1849) == ("01849", True)
    assert normalise_code(1849.0) == ("01849", True)
    assert normalise_code("01849") == ("01849", False)
    assert normalise_code(" 1849.0 ") == ("01849", True)
    assert normalise_code(None) == (None, False)


def _office_workbook(path, rows, title="BIỂU 01: DÂN SỐ CẤP XÃ NĂM 2024"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Dân số"
    sheet.append([title])
    sheet.append([])
    sheet.append(["STT", "Mã xã", "Tên đơn vị", "Huyện/Quận", "Dân số năm 2024 (người)", "Diện tích (ha)"])
    for i, row in enumerate(rows, start=1):
        sheet.append([i, *row])
    book.save(path)
    return path


def test_xlsx_by_code_with_title_rows_numeric_codes_and_hectares(grid_units, tmp_path):
    rows = [(k, f"Xã Ô {k}", "Huyện Mẫu", 2000 + k, 150) for k in range(1, 9)]  # Excel numbers, code 9 missing
    rows.append(("99999", "Xã Không Có", "Huyện Mẫu", 5, 10))
    table = read_table(_office_workbook(tmp_path / "ds.xlsx", rows))
    assert table.header_row == 3 and table.year_from_header == 2024 and table.area_unit == "ha"
    units, report = join_table(grid_units, table, join_on="code")
    assert report.matched == 8
    assert [u["code"] for u in report.unmatched_units] == ["00009"]
    assert [r["name"] for r in report.unmatched_rows] == ["Xã Không Có"]
    assert report.padded_codes[0] == {"row": 4, "raw": "1", "code": "00001"}
    unit = units.gdf.loc["00003"]
    assert (unit["population"], unit["population_year"], unit["official_area_km2"]) == (2003, 2024, 1.5)
    assert unit["population_source"] == "ds.xlsx [Dân số]:Dân số năm 2024 (người) dòng 6"
    # the unmatched unit keeps the layer's figure and its own source, and says so
    kept = units.gdf.loc["00009"]
    assert kept["population"] == 9000 and kept["population_source"].startswith("grid.geojson")
    assert any(i.code == "00009" and i.problem == "not in table" for i in units.issues)


def test_csv_by_name_within_district_with_ambiguity_listed(grid_units, tmp_path):
    path = tmp_path / "ds.csv"
    pd.DataFrame({
        "Tên đơn vị": ["X. Ô 1", "xa O 2", "Phường Ô 5", "Ô 7", "Ô 7", "Ô 10"],
        "Huyện": ["H. Mẫu"] * 6,
        "Dân số": ["1.234", "2 345", "7000", "1", "2", "3"],
        "Năm": [2023, 2023, 2024, 2024, 2024, 2024],
    }).to_csv(path, sep=";", index=False)
    units, report = join_table(grid_units, read_table(path), join_on="name")
    assert report.matched == 3 and report.loose_matches == 1
    assert units.gdf.loc["00001", "population"] == 1234 and units.gdf.loc["00002", "population"] == 2345
    assert units.gdf.loc["00005", "population_year"] == 2024
    assert report.ambiguous == [{"reason": "nhiều dòng cùng tên", "name": "Ô 7", "rows": [5, 6], "units": ["00007"]}]
    assert [r["name"] for r in report.unmatched_rows] == ["Ô 10"]
    assert {u["code"] for u in report.unmatched_units} == {"00003", "00004", "00006", "00008", "00009"}
    data = report.to_dict()
    assert set(data) >= {"matched", "unmatched_units", "unmatched_rows", "ambiguous"}


def test_flags_join_like_population(grid_units, tmp_path):
    path = tmp_path / "flags.csv"
    path.write_text("Mã,Miền núi,Biên giới,Tỷ lệ DTTS\n00001,x,,45\n00002,,có,0.2\n", encoding="utf-8")
    units, report = join_table(grid_units, read_table(path), join_on="code",
                               fields=["mountainous", "border", "island", "ethnic_minority_share"])
    assert report.matched == 2 and report.fields_joined == ["mountainous", "border", "ethnic_minority_share"]
    gdf = units.gdf
    assert gdf.loc["00001", "mountainous"] and not gdf.loc["00002", "mountainous"]
    assert gdf.loc["00002", "border"] and gdf.loc["00001", "ethnic_minority_share"] == pytest.approx(0.45)


def test_a_table_without_a_usable_header_says_what_to_name(tmp_path, grid_units):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match="no header row"):
        read_table(path)
    path.write_text("Mã,Số người\n00001,5\n", encoding="utf-8")
    table = read_table(path, columns={"population": "Số người"})
    units, report = join_table(grid_units, table)
    assert report.matched == 1 and units.gdf.loc["00001", "population"] == 5
    with pytest.raises(MissingColumnError, match="not in the header row"):
        read_table(path, columns={"population": "Dân số 2030"})


def test_joined_units_written_and_read_back_keep_each_figures_source(grid_units, tmp_path):
    from diagioi.geo.io import read_units, write_units

    path = tmp_path / "ds.csv"
    path.write_text("Mã,Dân số\n00001,1500\n", encoding="utf-8")
    joined, _ = join_table(grid_units, read_table(path), population_year=2024)
    write_units(joined, tmp_path / "units.gpkg")
    again = read_units(tmp_path / "units.gpkg").gdf
    assert (again.loc["00001", "population"], again.loc["00001", "population_year"]) == (1500, 2024)
    assert again.loc["00001", "population_source"] == "ds.csv:Dân số dòng 2"
    assert again.loc["00002", "population_source"] == "grid.geojson:population"
    assert again.loc["00009", "official_area_km2"] != again.loc["00009", "official_area_km2"]   # still unknown
    assert list(again.index) == list(grid_units.gdf.index)


def test_cli_joins_population_by_name_and_flags_by_code_and_prints_the_report(grid_path, tmp_path):
    from typer.testing import CliRunner

    from diagioi.api.cli import app

    population = tmp_path / "dan-so.csv"
    population.write_text("Tên đơn vị,Huyện,Dân số\nXã Ô 1,Huyện Mẫu,1500\nXã Ô 99,Huyện Mẫu,7\n", encoding="utf-8")
    flags = tmp_path / "vung.csv"
    flags.write_text("Mã xã,Miền núi\n00002,x\n", encoding="utf-8")
    args = ["units", str(grid_path), "--table", str(population), "--join-on", "name", "--population-year", "2024",
            "--flags", str(flags), "--flags-join-on", "code"]
    result = CliRunner().invoke(app, args + ["--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["join"]["matched"] == 1 and data["join"]["unmatched_rows"][0]["name"] == "Xã Ô 99"
    assert data["flags_join"]["matched"] == 1
    units = {u["code"]: u for u in data["units"]}
    assert (units["00001"]["population"], units["00001"]["population_year"]) == (1500, 2024)
    assert units["00002"]["mountainous"] and not units["00001"]["mountainous"]
    printed = " ".join(CliRunner().invoke(app, args).output.split())   # the terminal wraps long lines
    assert "Ghép bảng dan-so.csv theo tên: 1 đơn vị khớp, 8 đơn vị không có dòng, 1 dòng không có đơn vị" in printed
    assert "dòng 3 không khớp đơn vị nào: Xã Ô 99 (Huyện Mẫu)" in printed


def test_a_csv_in_an_unknown_encoding_is_refused_with_a_hint(tmp_path):
    from diagioi.geo.errors import InputError

    path = tmp_path / "x.csv"
    path.write_bytes(b"M\x81,D\xe2n s\x81\n01840,5\n")   # 0x81 is neither UTF-8 nor Windows-1258
    with pytest.raises(InputError, match="neither UTF-8 nor Windows-1258"):
        read_table(path)
