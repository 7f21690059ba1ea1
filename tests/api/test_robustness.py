"""Bad inputs a planner (or a fuzzer) can send: each one gets a JSON error that says what to fix.

Regression tests for what a schemathesis run and a hand-made list of bad requests found:
every answer is ``{"detail", "hint", "context"}``, never a 500 or a bare 400, and
/openapi.json describes the error bodies actually sent.
"""
from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from api_helpers import AUTH, GRID_CODES, scenario_body

ENGLISH = {"Accept-Language": "en"}  # for the tests that read the exact English words

# A square of about 6.2 km × 4.4 km and the same ring drawn as a bow-tie (crossing at 105.83, 22.15).
SQUARE = [[105.80, 22.13], [105.86, 22.13], [105.86, 22.17], [105.80, 22.17], [105.80, 22.13]]
BOWTIE = [[105.80, 22.13], [105.86, 22.17], [105.86, 22.13], [105.80, 22.17], [105.80, 22.13]]
SQUARE_IN_METRES = [[x * 111_000, y * 111_000] for x, y in SQUARE]


def error_of(response, status: int) -> dict:
    """The JSON error body, checked for the one shape every error has."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) >= {"detail", "hint", "context"}
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10
    assert isinstance(body["hint"], str) and len(body["hint"]) > 10
    return body


def create_scenario(client, **overrides) -> dict:
    response = client.post("/api/scenarios", json=scenario_body(**overrides), headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()


# --------------------------------------------------------------------------- request bodies
def test_body_that_is_not_utf8_is_a_422_naming_the_byte(client):
    body = '{"name": "Đông Anh"}'.encode("cp1258")  # Windows-1258, as old Vietnamese tools save it
    response = client.post("/api/scenarios", content=body, headers={**AUTH, "Content-Type": "application/json", "Accept-Language": "en"})
    error = error_of(response, 422)
    assert error["detail"] == "the request body is not UTF-8 text: byte 10 (b'\\xd0') cannot be decoded"
    assert "UTF-8" in error["hint"]
    assert error["context"] == {"content_type": "application/json", "error": "UnicodeDecodeError"}


def test_malformed_json_names_the_problem_and_the_character(client):
    response = client.post("/api/scenarios?lang=en", content=b'{"name": "A",',
                           headers={**AUTH, "Content-Type": "application/json"})
    error = error_of(response, 422)
    assert error["detail"] == ("the request body is not valid JSON: Expecting property name enclosed in "
                               "double quotes (at character 13)")
    assert error["context"]["errors"] == [{"location": "body", "problem": "Expecting property name enclosed in "
                                           "double quotes", "type": "json_invalid", "position": 13}]


@pytest.mark.parametrize("regime", ["R999", "Nghị quyết 1"])
def test_unknown_regime_is_a_422_listing_the_regimes_not_a_500(client, regime):
    response = client.post("/api/scenarios", json=scenario_body(regime=regime), headers=AUTH)
    error = error_of(response, 422)
    assert error["detail"] == f'nội dung yêu cầu, trường "regime": không có bộ tiêu chuẩn {regime!r}'
    assert error["hint"] == "dùng một trong R76, R112, R1211, R35"
    english = error_of(client.post("/api/scenarios?lang=en", json=scenario_body(regime=regime), headers=AUTH), 422)
    assert english["detail"] == f'request body, "regime": unknown standards regime {regime!r}'
    assert english["hint"] == "use one of R76, R112, R1211, R35"
    assert english["code"] == error["code"] == "scenario_body"
    assert client.get("/api/scenarios").json()["count"] == 0


def test_rules_file_path_as_regime_is_refused_over_http(client, tmp_path):
    # A path would make the server open one of its own files.
    response = client.post("/api/scenarios", json=scenario_body(regime=str(tmp_path / "rules.yaml")), headers=AUTH)
    error = error_of(response, 422)
    assert error["detail"] == 'nội dung yêu cầu, trường "regime": không thể chỉ định tệp quy chuẩn qua API'
    assert error["hint"] == "dùng một trong R76, R112, R1211, R35"


def test_regime_aliases_are_still_accepted(client):
    created = create_scenario(client, regime="76/2025")
    assert created["scenario"]["regime"] == "76/2025"
    evaluation = client.get(f"/api/scenarios/{created['id']}/evaluation").json()
    assert evaluation["scenario"]["regime"] == "R76"


def test_stale_regime_on_put_is_a_422_and_the_scenario_is_unchanged(client):
    created = create_scenario(client)
    response = client.put(f"/api/scenarios/{created['id']}", json={**scenario_body(regime="'"), "version": 1},
                          headers=AUTH)
    error_of(response, 422)
    assert client.get(f"/api/scenarios/{created['id']}").json()["version"] == 1


# --------------------------------------------------------------------------- drawn geometry
def test_self_intersecting_drawn_polygon_is_a_422_with_its_location(client):
    response = client.post("/api/analysis/polygon", json={"type": "Polygon", "coordinates": [BOWTIE]})
    error = error_of(response, 422)
    assert error["detail"] == "vùng vẽ không hợp lệ: tự cắt tại kinh độ 105,83, vĩ độ 22,15"
    assert error["code"] == "invalid_geometry" and error["context"]["location"] == [105.83, 22.15]
    english = error_of(client.post("/api/analysis/polygon?lang=en", json={"type": "Polygon", "coordinates": [BOWTIE]}),
                       422)
    assert english["detail"] == "the drawn area is invalid: Self-intersection at lon 105.830000, lat 22.150000"


def test_polygon_in_metres_is_a_422_saying_the_coordinates_are_not_lon_lat(client):
    response = client.post("/api/analysis/polygon", json={"type": "Polygon", "coordinates": [SQUARE_IN_METRES]})
    error = error_of(response, 422)
    assert "ngoài phạm vi kinh độ/vĩ độ" in error["detail"] and error["code"] == "unknown_crs"


def test_empty_feature_collection_is_not_a_drawn_area(client):
    response = client.post("/api/analysis/polygon", json={"type": "FeatureCollection", "features": []})
    error = error_of(response, 422)
    assert error["detail"] == "vùng vẽ phải là một Polygon hoặc một Feature, không phải FeatureCollection"


def test_drawn_new_unit_that_crosses_itself_is_refused_when_saving(client):
    body = scenario_body(new_units=[{"id": "n1", "name": "Vẽ tay", "kind": "commune", "members": [],
                                     "geometry": {"type": "Polygon", "coordinates": [BOWTIE]}}])
    error = error_of(client.post("/api/scenarios", json=body, headers=AUTH), 422)
    assert error["detail"] == ("nội dung yêu cầu: đơn vị mới thứ 1 (Vẽ tay), trường \"geometry\": ranh giới vẽ phải là "
                               "một Polygon hợp lệ (Self-intersection[105.83 22.15])")


# --------------------------------------------------------------------------- scenarios without new units
def test_scenario_without_new_units_exports_an_html_map(client):
    created = create_scenario(client, new_units=[])
    response = client.get(f"/api/scenarios/{created['id']}/export.html")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Lưới mẫu 2025</title>" in response.text


@pytest.mark.parametrize("fmt", ["mvt", "png"])
def test_scenario_without_new_units_has_empty_tiles(client, fmt):
    created = create_scenario(client, new_units=[])
    response = client.get(f"/api/tiles/scenario-{created['id']}/14/13007/7199.{fmt}")
    assert response.status_code == 200
    assert response.headers["x-data-version"].startswith("1.")


def test_scenario_without_new_units_exports_an_empty_geojson_layer(client):
    created = create_scenario(client, new_units=[])
    response = client.get(f"/api/scenarios/{created['id']}/export.geojson")
    assert response.status_code == 200
    assert response.json()["features"] == []


# --------------------------------------------------------------------------- layer uploads
@pytest.mark.parametrize("content, detail, hint", [
    ('{"type": "FeatureCollection", "features": []}'.encode("utf-16"),
     "sites.geojson: the text is UTF-16, not UTF-8", "re-save the file as UTF-8"),
    (b"\x00\x01 not a layer",
     "sites.geojson: not a GeoJSON (.geojson/.json, UTF-8), GeoPackage (.gpkg) or a zipped Shapefile (.zip) file "
     "(it does not start like one)",
     "send GeoJSON (.geojson/.json, UTF-8), GeoPackage (.gpkg) or a zipped Shapefile (.zip)"),
    (b"", "sites.geojson: the file is empty",
     "send GeoJSON (.geojson/.json, UTF-8), GeoPackage (.gpkg) or a zipped Shapefile (.zip)"),
], ids=["utf16", "random-bytes", "empty"])
def test_unreadable_upload_is_a_422_without_server_paths(client, content, detail, hint):
    response = client.post("/api/layers/tourism_sites", files={"file": ("sites.geojson", content)},
                           headers={**AUTH, **ENGLISH})
    error = error_of(response, 422)
    assert (error["detail"], error["hint"]) == (detail, hint)
    assert "diagioi-upload" not in response.text


def test_upload_with_windows_1258_text_is_an_encoding_error(client):
    text = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [105.83, 22.15]},
        "properties": {"name": "Đông Đô"}}]}, ensure_ascii=False)
    content = text.encode("cp1258")
    response = client.post("/api/layers/tourism_sites", files={"file": ("sites.geojson", content)},
                           headers={**AUTH, **ENGLISH})
    error = error_of(response, 422)
    assert error["detail"].startswith("sites.geojson: text is not UTF-8 (byte b'")
    assert "UTF-8" in error["hint"]


def test_corrupt_geopackage_upload_is_a_422(client):
    response = client.post("/api/layers/industrial_clusters", files={"file": ("ccn.gpkg", b"SQLite format 2\x00")},
                           headers=AUTH)
    assert error_of(response, 422)["detail"].startswith("ccn.gpkg: không phải tệp GeoJSON")


def test_zipped_shapefile_upload_of_zero_bytes_is_refused_as_not_a_shapefile(client):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            zipped.writestr(f"sites{suffix}", b"\x00" * 100)
    response = client.post("/api/layers/tourism_sites", files={"file": ("sites.zip", archive.getvalue())},
                           headers=AUTH)
    error = error_of(response, 422)
    assert error["detail"] == "sites.zip: tệp .shp trong zip không phải Shapefile"
    assert error["hint"] == "nén lại Shapefile"


def test_multipart_without_boundary_is_a_422_not_a_bare_400(client):
    response = client.post("/api/layers/tourism_sites", content=b"file=x",
                           headers={**AUTH, "Content-Type": "multipart/form-data"})
    error = error_of(response, 422)
    assert error["detail"] == "không đọc được tệp gửi lên (biểu mẫu multipart)"
    assert error["context"] == {"reason": "Missing boundary in multipart."}
    assert "curl -F" in error["hint"]


def test_layer_json_that_is_not_utf8_is_an_encoding_error(client):
    content = '{"type": "Feature", "properties": {"name": "Đông"}}'.encode("cp1258")
    response = client.post("/api/layers/tourism_sites", content=content,
                           headers={**AUTH, "Content-Type": "application/json"})
    error = error_of(response, 422)
    assert error["detail"] == "nội dung yêu cầu không phải văn bản UTF-8: byte thứ 44 (b'\\xd0') không giải mã được"


def test_empty_feature_collection_stores_nothing(client):
    before = client.get("/api/layers/tourism_sites").json()["layer_version"]
    response = client.post("/api/layers/tourism_sites", json={"type": "FeatureCollection", "features": []},
                           headers=AUTH)
    assert error_of(response, 422)["detail"] == "FeatureCollection không có đối tượng nào"
    assert client.get("/api/layers/tourism_sites").json()["layer_version"] == before


def test_unknown_layer_kind_lists_the_kinds(client):
    error = error_of(client.get("/api/layers/parks"), 422)
    assert error["detail"] == ("path.kind: cần một trong các giá trị 'industrial_clusters', 'tourism_sites' hoặc "
                               "'night_streets'")
    error = error_of(client.get("/api/layers/parks?lang=en"), 422)
    assert error["detail"] == "path.kind: Input should be 'industrial_clusters', 'tourism_sites' or 'night_streets'"


# --------------------------------------------------------------------------- tiles, ids
@pytest.mark.parametrize(("path", "status"), [
    ("units/-1/0/0.mvt", 404), ("units/0/-1/0.mvt", 404), ("units/3/8/0.mvt", 404), ("units/40/0/0.mvt", 404),
    ("units/1.5/0/0.mvt", 422), ("units/a/0/0.mvt", 422), ("units/3/0/0.jpg", 422),
    ("scenario-nope/3/0/0.mvt", 404), ("parks/3/0/0.mvt", 404),
])
def test_bad_tile_addresses_are_json_errors(client, path, status):
    error_of(client.get(f"/api/tiles/{path}"), status)


def test_delete_then_every_read_of_the_scenario_is_a_404(client):
    created = create_scenario(client)
    scenario_id = created["id"]
    assert client.delete(f"/api/scenarios/{scenario_id}", headers=AUTH).status_code == 204
    for path in (f"/api/scenarios/{scenario_id}", f"/api/scenarios/{scenario_id}/evaluation",
                 f"/api/scenarios/{scenario_id}/export.csv", f"/api/scenarios/{scenario_id}/export.html",
                 f"/api/tiles/scenario-{scenario_id}.json", f"/api/tiles/scenario-{scenario_id}/14/13007/7199.mvt",
                 f"/api/indicators?scenario={scenario_id}"):
        assert error_of(client.get(path), 404)["detail"] == f"không có kịch bản '{scenario_id}'"
    assert client.delete(f"/api/scenarios/{scenario_id}", headers=AUTH).status_code == 404


def test_concurrent_puts_on_the_same_version_save_once_and_the_rest_get_409(client):
    created = create_scenario(client)
    body = {**scenario_body(name="Lưới sửa"), "version": 1}

    def put(_):
        return client.put(f"/api/scenarios/{created['id']}", json=body, headers=AUTH)

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(put, range(6)))
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409, 409]
    conflict = next(r.json() for r in responses if r.status_code == 409)
    assert conflict["current_version"] == 2
    assert client.get(f"/api/scenarios/{created['id']}").json()["version"] == 2


def test_reassign_of_an_unknown_code_names_it(client):
    created = create_scenario(client)
    response = client.post(f"/api/scenarios/{created['id']}/reassign",
                           json={"assignments": {"zzz": "n1", GRID_CODES[8]: "n1"}, "version": 1}, headers=AUTH)
    error = error_of(response, 422)
    assert error["detail"] == "1 mã đơn vị không có trong grid.geojson: zzz"
    assert error["code"] == "error.unknown_units"
    assert error["context"]["unknown_codes"] == ["zzz"]


# --------------------------------------------------------------------------- the schema tells the truth
def test_openapi_describes_the_422_body_actually_sent(client):
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(schema)
    audit_422 = schema["paths"]["/api/audit"]["get"]["responses"]["422"]
    assert audit_422["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    error = error_of(client.get("/api/audit?limit=many"), 422)
    assert error["context"]["errors"][0]["location"] == "query.limit"


def test_openapi_describes_the_geojson_export_as_a_feature_collection(client):
    schema = client.get("/openapi.json").json()
    content = schema["paths"]["/api/scenarios/{scenario_id}/export.{fmt}"]["get"]["responses"]["200"]["content"]
    assert content["application/geo+json"]["schema"] == {"$ref": "#/components/schemas/FeatureCollection"}
    assert content["text/csv; charset=utf-8"]["schema"] == {"type": "string", "format": "binary"}


def test_wrong_method_on_an_api_path_lists_the_allowed_methods_with_the_web_app_mounted(settings, tmp_path):
    from fastapi.testclient import TestClient

    from diagioi.api.app import create_app

    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<html></html>", encoding="utf-8")
    with TestClient(create_app(settings.model_copy(update={"web_dir": web}))) as client:
        response = client.delete("/api/analysis/polygon")
        assert error_of(response, 405)["detail"] == "địa chỉ /api/analysis/polygon không nhận phương thức DELETE"
        assert response.headers["allow"] == "POST"
        assert client.patch("/api/scenarios").headers["allow"] == "GET, POST"
        assert error_of(client.get("/api/nothing-here"), 404)["detail"] == "không có địa chỉ GET /api/nothing-here"
        assert client.get("/").text == "<html></html>"


def test_openapi_lists_the_drawn_area_types(client):
    schema = client.get("/openapi.json").json()
    request = schema["components"]["schemas"]["PolygonAnalysisRequest"]
    assert request["properties"]["type"]["enum"] == ["Polygon", "MultiPolygon", "Feature"]
    error = error_of(client.post("/api/analysis/polygon?lang=en", json={"type": "FeatureCollection", "features": []}),
                     422)
    assert error["hint"] == "send a single Feature (merge the parts into a MultiPolygon first)"
