"""Everything a Vietnamese reader gets is in Vietnamese: the annex (XLSX, CSV) and the HTML map of the demo
and of a real province, checked cell by cell for English words, ">=", internal ids and raw decimals."""
from __future__ import annotations

import csv
import html
import json
import re

import openpyxl
import pytest
from typer.testing import CliRunner

from diagioi.api.cli import app
from tests.language_check import check_texts, english_words

runner = CliRunner()


def xlsx_texts(path) -> list[str]:
    texts = []
    for sheet in openpyxl.load_workbook(path).worksheets:
        texts.append(sheet.title)
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                if isinstance(cell.value, float):  # a number cell holds the figure as displayed
                    digits = {"#,##0.00": 2, "0.0": 1}.get(cell.number_format, 0)
                    assert cell.value == round(cell.value, digits), (sheet.title, cell.coordinate, cell.value)
                    continue
                texts.append(str(cell.value))
    return texts


def csv_texts(path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row if cell]


def html_texts(path) -> list[str]:
    """What a reader can see: the page text outside scripts and styles, layer names, tooltips and popups."""
    page = path.read_text(encoding="utf-8")
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    texts = [html.unescape(t).strip() for t in re.split(r"<[^>]+>", body)]
    texts = [t for t in texts if t]
    for aliases in re.findall(r'"aliases": (\[.*?\])', page):
        texts += json.loads(aliases)
    for layer in re.findall(r"geo_json_\w+_add\((\{.*?\})\);\n", page, flags=re.S):
        for feature in json.loads(layer)["features"]:
            texts += [str(v) for k, v in feature["properties"].items() if not k.startswith("_")]
    texts += re.findall(r'"(Đơn vị (?:mới|cũ))"', page)
    return texts


def gis_texts(path) -> list[str]:
    """The text attribute values of a GeoPackage / GeoJSON layer as QGIS shows them. Column names are
    identifiers, figures and yes/no values are typed; ``id`` is the key that joins a feature to the
    evaluation JSON (the annex, which a person reads, names units only)."""
    import geopandas as gpd

    frame = gpd.read_file(path)
    assert len(frame)
    return [value for column in frame.columns if column not in ("geometry", "id")
            for value in frame[column] if isinstance(value, str) and value]


def test_english_words_are_found_and_vietnamese_passes():
    assert english_words("threshold = 100 % × 30 km² (sum of members)") == ["threshold", "sum", "of", "members"]
    assert english_words("Loại: ward") == ["ward"]
    assert english_words("Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 2; Diện tích (km²), WGS 84") == []
    assert english_words("Dân số: tổng dân số các đơn vị cũ (units.geojson:population)") == []


def test_the_demo_outputs_are_all_vietnamese(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output

    annex = xlsx_texts(tmp_path / "bang-dien-tich-mat-do.xlsx")
    check_texts(annex, "the demo XLSX annex")
    assert "Chỉ tiêu quy hoạch" in annex  # the sample zoning's sheet is checked too
    check_texts(csv_texts(tmp_path / "bang-dien-tich-mat-do.csv"), "the demo CSV annex")
    check_texts(csv_texts(tmp_path / "crosswalk.csv"), "the demo crosswalk")
    check_texts(html_texts(tmp_path / "ban-do.html"), "the demo HTML map")
    for name in ("don-vi-moi.gpkg", "don-vi-moi.geojson"):
        texts = gis_texts(tmp_path / name)
        check_texts(texts, f"the demo {name}")
        assert {"Phường", "Xã"} <= set(texts)  # kinds as words, not codes


BAC_KAN_CITY = {
    "name": "Thành phố Bắc Kạn sắp xếp 2025",
    "regime": "R76",
    "parent": {"name": "Tỉnh Bắc Kạn", "kind": "province"},
    "context": {"mountainous": True},
    "new_units": [
        {"name": "Phường Đức Xuân", "kind": "ward", "members": ["01840", "01834", "01837", "01843"]},
        {"name": "Phường Bắc Kạn", "kind": "ward", "members": ["01846", "01852", "01855", "01849"]},
    ],
}


@pytest.mark.real_data
def test_the_annex_of_a_real_province_is_all_vietnamese(shared_data, tmp_path):
    scenario = tmp_path / "bac-kan.json"
    scenario.write_text(json.dumps(BAC_KAN_CITY, ensure_ascii=False), encoding="utf-8")
    outputs = [tmp_path / "phu-luc.xlsx", tmp_path / "phu-luc.csv", tmp_path / "ban-do.html",
               tmp_path / "don-vi-moi.gpkg", tmp_path / "don-vi-moi.geojson"]
    result = runner.invoke(app, ["evaluate", str(scenario), "--units",
                                 str(shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson"),
                                 *[arg for path in outputs for arg in ("--out", str(path))]])
    assert result.exit_code == 0, result.output

    annex = xlsx_texts(outputs[0])
    check_texts(annex, "the XLSX annex of Bắc Kạn")
    assert "Miễn (Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 2)" in annex  # 4 units merged: Art. 5 cl. 2
    check_texts(csv_texts(outputs[1]), "the CSV annex of Bắc Kạn")
    check_texts(html_texts(outputs[2]), "the HTML map of Bắc Kạn")
    check_texts(gis_texts(outputs[3]), "the GeoPackage of Bắc Kạn")
    geojson = gis_texts(outputs[4])
    check_texts(geojson, "the GeoJSON of Bắc Kạn")
    assert "Phường" in geojson and "Miễn" in geojson


def test_the_provenance_of_the_demo_figures_is_said_in_the_readers_language(tmp_path):
    result = runner.invoke(app, ["demo", "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    units = data["new_units"]
    provenance = [u[field] for u in units for field in ("area_source", "official_area_source", "population_source")
                  if u[field]] + [data["totals"]["parent"]["area_source"]]
    check_texts(provenance, "the provenance of the demo figures")
    assert units[0]["area_source"] == "tính toán: diện tích trắc địa trên ellipsoid WGS 84 (pyproj Geod)"

    english = json.loads(runner.invoke(app, ["demo", "--json", "--lang", "en", "--out", str(tmp_path)]).stdout)
    assert english["new_units"][0]["area_source"] == "computed: geodesic area on the WGS 84 ellipsoid (pyproj Geod)"
    assert english["totals"]["parent"]["area_source"].startswith("computed: geodesic area of the union")
