"""Units search, drawn-polygon analysis, indicators, exports, health and the OpenAPI document."""
from __future__ import annotations

import csv
import io

import geopandas as gpd
import pytest
from api_helpers import AUTH, GRID_CODES, scenario_body
from openpyxl import load_workbook


# --------------------------------------------------------------------------- units
def test_units_are_geojson_with_text_codes(client):
    collection = client.get("/api/units").json()
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in collection["features"]] == GRID_CODES
    first = collection["features"][0]["properties"]
    assert (first["population"], first["official_area_km2"], first["density"]) == (1000, 1.0, 1000.0)
    assert first["area_km2"] == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize("query, codes", [
    ({"q": "o 5"}, ["00005"]),                   # "Ô 5" without diacritics
    ({"q": "Ô 9"}, ["00009"]),
    ({"q": "0000"}, GRID_CODES),                 # code prefix
    ({"province": "tinh mau"}, GRID_CODES),      # "Tỉnh Mẫu"
    ({"province": "Mẫu"}, GRID_CODES),           # without the "Tỉnh" prefix
    ({"district": "mau"}, GRID_CODES),           # "Huyện Mẫu"
    ({"q": "05"}, []),                           # codes match from their start only
    ({"district": "HUYỆN MẪU", "q": "ô 1"}, ["00001"]),
    ({"district": "Huyện Khác"}, []),
])
def test_units_filters_are_diacritic_insensitive(client, query, codes):
    features = client.get("/api/units", params=query).json()["features"]
    assert [f["properties"]["code"] for f in features] == codes


# --------------------------------------------------------------------------- analysis
def _unit_ring(client, code: str) -> list:
    feature = client.get("/api/units", params={"q": code}).json()["features"][0]
    return feature["geometry"]["coordinates"][0]


def test_polygon_over_one_unit_gives_its_area_and_population(client):
    ring = _unit_ring(client, "00001")
    response = client.post("/api/analysis/polygon", json={"type": "Polygon", "coordinates": [ring]})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["area_km2"] == pytest.approx(1.0, rel=1e-3)
    assert result["population"]["value"] == pytest.approx(1000, rel=1e-3)   # area-weighted from the unit
    assert result["population"]["is_estimate"] is True
    assert result["units"][0]["code"] == "00001"
    assert result["units"][0]["share_of_unit_pct"] == pytest.approx(100.0, abs=0.1)
    assert result["indicators"]["tourism_site_count"] == 0


def test_feature_wrapping_a_polygon_is_accepted(client):
    ring = _unit_ring(client, "00002")
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    assert client.post("/api/analysis/polygon", json=feature).json()["population"]["value"] == pytest.approx(
        2000, rel=1e-3)


def test_self_intersecting_polygon_is_422_with_its_location(client):
    bowtie = [[105.76, 21.61], [105.77, 21.62], [105.77, 21.61], [105.76, 21.62], [105.76, 21.61]]
    response = client.post("/api/analysis/polygon", json={"type": "Polygon", "coordinates": [bowtie]})
    assert response.status_code == 422
    body = response.json()
    assert "tự cắt" in body["detail"]  # Self-intersection, in Vietnamese by default
    assert body["context"]["location"] == [105.765, 21.615]


def test_polygon_larger_than_the_area_limit_is_422_not_413(client):
    huge = [[105.0, 21.0], [106.0, 21.0], [106.0, 22.0], [105.0, 22.0], [105.0, 21.0]]   # ~11 500 km²
    response = client.post("/api/analysis/polygon", json={"type": "Polygon", "coordinates": [huge]})
    assert response.status_code == 422
    assert response.json()["context"]["max_area_km2"] == 50.0


def test_a_point_is_not_a_polygon(client):
    response = client.post("/api/analysis/polygon", json={"type": "Point", "coordinates": [105.76, 21.61]})
    assert response.status_code == 422
    assert "Polygon" in response.json()["detail"]


# --------------------------------------------------------------------------- indicators
SITE = {"type": "Feature", "id": "s1", "geometry": {"type": "Point", "coordinates": [105.766, 21.619]},
        "properties": {"name": "Đền", "rank": "national"}}


def test_indicators_follow_layer_edits(client):
    before = client.get("/api/indicators").json()
    assert before["key"] == "code" and len(before["data"]) == 9
    client.post("/api/layers/tourism_sites", json=SITE, headers=AUTH)
    after = client.get("/api/indicators").json()
    assert after["version"] != before["version"]
    counts = {row["code"]: row["tourism_site_count"] for row in after["data"]}
    assert counts == {code: int(code == "00005") for code in GRID_CODES}
    assert {row["code"]: row["tourism_site_count_national"] for row in after["data"]}["00005"] == 1
    assert after["fields"]["night_street_length_km"]["unit"] == "km"


def test_scenario_indicators_in_json_and_csv(client):
    client.post("/api/layers/tourism_sites", json=SITE, headers=AUTH)
    created = client.post("/api/scenarios", json=scenario_body(), headers=AUTH).json()
    table = client.get("/api/indicators", params={"scenario": created["id"]}).json()
    assert table["scope"] == "scenario" and table["key"] == "id"
    assert {row["id"]: row["tourism_site_count"] for row in table["data"]} == {"n1": 0, "n2": 1}

    response = client.get("/api/indicators", params={"scenario": created["id"], "format": "csv"})
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(row["id"], row["tourism_site_count"]) for row in rows] == [("n1", "0"), ("n2", "1")]


# --------------------------------------------------------------------------- exports
@pytest.fixture
def scenario_id(client) -> str:
    return client.post("/api/scenarios", json=scenario_body(name="Phương án Đức Xuân"), headers=AUTH).json()["id"]


def test_csv_export_is_a_download_with_one_row_per_new_unit(client, scenario_id):
    response = client.get(f"/api/scenarios/{scenario_id}/export.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"phuong-an-duc-xuan.csv\"; "
        "filename*=UTF-8''Ph%C6%B0%C6%A1ng%20%C3%A1n%20%C4%90%E1%BB%A9c%20Xu%C3%A2n.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) >= 3  # header + n1 + n2 (a total row may follow)
    assert any("Xã Nam" in row for row in rows) and any("Phường Giữa" in row for row in rows)


def test_crosswalk_csv_lists_every_old_unit(client, scenario_id):
    response = client.get(f"/api/scenarios/{scenario_id}/export.csv", params={"table": "crosswalk"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["00001", "00002", "00003", "00004", "00005", "00006"]


def test_xlsx_export_opens_as_a_workbook(client, scenario_id):
    response = client.get(f"/api/scenarios/{scenario_id}/export.xlsx")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == 2
    text = " ".join(str(cell.value) for row in workbook.worksheets[0].iter_rows() for cell in row if cell.value)
    assert "Xã Nam" in text and "Phường Giữa" in text


def test_geojson_and_gpkg_exports_hold_the_dissolved_new_units(client, scenario_id, tmp_path):
    for suffix in ("geojson", "gpkg"):
        response = client.get(f"/api/scenarios/{scenario_id}/export.{suffix}")
        path = tmp_path / f"export.{suffix}"
        path.write_bytes(response.content)
        frame = gpd.read_file(path)
        assert list(frame["id"]) == ["n1", "n2"]
        assert list(frame["members"]) == ["00001;00002;00003", "00004;00005;00006"]
        assert frame.crs.to_epsg() == 4326
        assert frame.geometry.iloc[0].geom_type == "Polygon"  # three squares dissolved into one


def test_unknown_export_format_is_422(client, scenario_id):
    assert client.get(f"/api/scenarios/{scenario_id}/export.pdf").status_code == 422


# --------------------------------------------------------------------------- health, OpenAPI
def test_health_reports_units_and_versions(client):
    health = client.get("/api/health").json()
    assert (health["status"], health["units"], health["sample_data"]) == ("ok", 9, False)
    assert len(health["units_version"]) == 16
    assert health["layer_versions"] == {"industrial_clusters": 0, "tourism_sites": 0, "night_streets": 0}


def test_openapi_documents_every_route_with_a_summary(client):
    document = client.get("/openapi.json").json()
    operations = [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]
    assert len(operations) >= 20
    for path, method, operation in operations:
        assert operation.get("summary"), f"{method.upper()} {path} has no summary"
        assert operation.get("responses"), f"{method.upper()} {path} documents no responses"
    reassign = document["paths"]["/api/scenarios/{scenario_id}/reassign"]["post"]
    assert reassign["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ReassignRequest")
    assert {"401", "403", "409", "422"} <= set(reassign["responses"])
    upload = document["paths"]["/api/layers/{kind}"]["post"]["requestBody"]["content"]
    assert set(upload) == {"application/json", "multipart/form-data"}
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
