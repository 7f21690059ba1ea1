"""Zoning indicators in the downloads (issue 11 item 4): the annex's "Chỉ tiêu quy hoạch" sheet and the HTML
map's popups carry, per new unit, the figures GET /api/indicators gives for the scenario."""
from __future__ import annotations

import io
import json
import re

import openpyxl
import pytest
from fastapi.testclient import TestClient

from diagioi.api.app import create_app
from diagioi.api.settings import Settings
from diagioi.layers.indicators import INDICATOR_FIELDS

from api_helpers import AUTH, TOKEN, scenario_body

# Decimals the sheet shows for each unit of measure (counts whole, km² and km to 2, % to 1).
DIGITS = {"count": 0, "km²": 2, "%": 1, "km": 2}


@pytest.fixture
def demo_client(tmp_path):
    """The service on the sample region: its zoning layers and example scenario are seeded."""
    settings = Settings(data_dir=tmp_path / "data", token=TOKEN, web_dir=tmp_path / "no-web")
    with TestClient(create_app(settings)) as client:
        yield client


def _example_scenario(client) -> str:
    [example] = client.get("/api/scenarios").json()["data"]
    return example["id"]


def test_the_annex_zoning_sheet_has_the_figures_of_the_indicators_route(demo_client):
    scenario_id = _example_scenario(demo_client)
    indicators = demo_client.get("/api/indicators", params={"scenario": scenario_id}).json()
    evaluation = demo_client.get(f"/api/scenarios/{scenario_id}/evaluation").json()
    names = {unit["id"]: unit["name"] for unit in evaluation["new_units"]}

    response = demo_client.get(f"/api/scenarios/{scenario_id}/export.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Phụ lục", "Bảng chuyển đổi", "Chỉ tiêu quy hoạch"]
    sheet = workbook["Chỉ tiêu quy hoạch"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["STT", "Tên đơn vị hành chính", "Loại"]
    assert "Diện tích cụm công nghiệp (km²)" in header and "Chiều dài phố đêm (km)" in header

    column = {name: header.index(_label(name)) for name in INDICATOR_FIELDS}
    rows = {sheet.cell(row=r, column=2).value: [c.value for c in sheet[r]] for r in range(2, len(names) + 2)}
    assert set(rows) == set(names.values())
    nonzero = 0
    for row in indicators["data"]:
        cells = rows[names[row["id"]]]
        for name, field in INDICATOR_FIELDS.items():
            expected = round(row[name], DIGITS[field.unit]) if row[name] is not None else None
            assert cells[column[name]] == pytest.approx(expected, abs=1e-9), (row["id"], name)
            nonzero += bool(row[name])
    assert nonzero  # the sample zoning lies in the example's new units: the comparison is not of zeros
    assert sheet.cell(row=len(names) + 3, column=1).value.startswith("Nguồn: lớp quy hoạch")


def _label(name: str) -> str:
    from diagioi.geo.i18n import catalogue

    return catalogue("vi")[f"metric.{name}"]


def test_the_html_map_popups_carry_the_zoning_indicators(demo_client):
    scenario_id = _example_scenario(demo_client)
    indicators = demo_client.get("/api/indicators", params={"scenario": scenario_id}).json()
    page = demo_client.get(f"/api/scenarios/{scenario_id}/export.html").text

    new_layer = [json.loads(layer) for layer in re.findall(r"geo_json_\w+_add\((\{.*?\})\);\n", page, flags=re.S)][1]
    by_name = {f["properties"]["name"]: f["properties"] for f in new_layer["features"]}
    evaluation = demo_client.get(f"/api/scenarios/{scenario_id}/evaluation").json()
    names = {unit["id"]: unit["name"] for unit in evaluation["new_units"]}
    for row in indicators["data"]:
        properties = by_name[names[row["id"]]]
        assert properties["tourism_site_count"] == str(row["tourism_site_count"])
        area = f"{row['industrial_cluster_area_km2']:.2f}".replace(".", ",")  # Vietnamese decimal comma
        assert properties["industrial_cluster_area_km2"] == area
    aliases = [label for found in re.findall(r"let aliases = (\[.*?\]);", page) for label in json.loads(found)]
    assert _label("tourism_site_count") in aliases  # the popup's label, in Vietnamese


def test_without_zoning_features_the_annex_has_no_zoning_sheet(client):
    created = client.post("/api/scenarios", json=scenario_body(), headers=AUTH).json()
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/api/scenarios/{created['id']}/export.xlsx").content))
    assert workbook.sheetnames == ["Phụ lục", "Bảng chuyển đổi"]
