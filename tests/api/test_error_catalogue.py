"""Errors of the stores, the JSON guard, layer bodies, uploads and forms come from the catalogue: Vietnamese by
default, English with ``?lang=en`` or ``Accept-Language: en``, with the status codes, ``code``s and context keys
they had when their texts were English (scripts read them)."""
from __future__ import annotations

import re

import pytest
from api_helpers import AUTH, scenario_body
from language_check import english_words

SITE = {"type": "Feature", "id": "chua-1", "geometry": {"type": "Point", "coordinates": [105.766, 21.619]},
        "properties": {"name": "Chùa Thạch Long", "rank": "provincial", "category": "pagoda"}}
JSON = {**AUTH, "Content-Type": "application/json"}
# JSON syntax quoted in a hint (keys such as "name"), the same in every language
FEATURE_EXAMPLE = '{"type": "Feature", "geometry": {...}, "properties": {"name": "..."}}'
# the tile layer ids, API identifiers in every language
TILE_LAYER_IDS = "units, units-{phiên bản bộ dữ liệu}, scenario-{id}, industrial_clusters, tourism_sites hoặc night_streets"


def _requests(client, scenario_id: str) -> dict[str, tuple]:
    """Name → (method, path, keyword arguments of the request) for each error."""
    deep = b"[" * 40 + b"]" * 40
    return {
        "missing scenario": ("GET", "/api/scenarios/nope", {}),
        "deleted scenario": ("DELETE", f"/api/scenarios/{scenario_id}?version=1", {"headers": AUTH}),
        "missing feature": ("GET", "/api/layers/tourism_sites/nope", {}),
        "feature id taken": ("POST", "/api/layers/tourism_sites", {"json": SITE, "headers": AUTH}),
        "missing feature on delete": ("DELETE", "/api/layers/tourism_sites/nope", {"headers": AUTH}),
        "stale feature": ("PUT", "/api/layers/tourism_sites/chua-1",
                          {"json": {**SITE, "version": 7}, "headers": AUTH}),
        "missing dataset": ("GET", "/api/datasets/nope", {}),
        "JSON too deep": ("POST", "/api/scenarios", {"content": deep, "headers": JSON}),
        "JSON number too long": ("POST", "/api/scenarios", {"content": b'{"name": ' + b"9" * 60 + b"}",
                                                            "headers": JSON}),
        "JSON lone surrogate": ("POST", "/api/scenarios", {"content": b'{"name": "\\ud800"}', "headers": JSON}),
        "layer body not JSON": ("POST", "/api/layers/tourism_sites", {"content": b'{"type": ', "headers": JSON}),
        "layer body not a feature": ("POST", "/api/layers/tourism_sites", {"json": {"type": "Point"},
                                                                           "headers": AUTH}),
        "empty collection": ("POST", "/api/layers/tourism_sites",
                             {"json": {"type": "FeatureCollection", "features": []}, "headers": AUTH}),
        "dataset form field too long": ("POST", "/api/datasets",
                                        {"files": {"file": ("lop.geojson", b"{}")}, "data": {"activate": "x" * 11},
                                         "headers": AUTH}),
        "flags table of a .docx": ("POST", "/api/flags/table?name=co.docx", {"content": b"x"}),
        "unknown language": ("GET", f"/api/scenarios/{scenario_id}/evaluation?lang=fr", {}),
        "stale reassign": ("POST", f"/api/scenarios/{scenario_id}/reassign",
                           {"json": {"assignments": {"00007": "n1"}, "version": 7}, "headers": AUTH}),
        "unknown tile layer": ("GET", "/api/tiles/khong-co/1/0/0.mvt", {}),
        "scenario on a missing dataset": ("POST", "/api/scenarios",
                                          {"json": scenario_body(dataset="0000000000000000"), "headers": AUTH}),
        "flags table of a .docx upload": ("POST", f"/api/scenarios/{scenario_id}/flags",
                                          {"files": {"file": ("co.docx", b"x")}, "data": {"version": "1"},
                                           "headers": AUTH}),
        "flags upload without version": ("POST", f"/api/scenarios/{scenario_id}/flags",
                                         {"files": {"file": ("co.csv", b"code\n")}, "headers": AUTH}),
    }


EXPECTED = {  # name → (status, code, context keys)
    "missing scenario": (404, "not_found", {"scenario_id"}),
    "deleted scenario": (404, "not_found", {"scenario_id"}),
    "missing feature": (404, "not_found", {"kind", "feature_id"}),
    "feature id taken": (409, "conflict", {"kind", "feature_id"}),
    "missing feature on delete": (404, "not_found", {"kind", "feature_id"}),
    "stale feature": (409, "conflict", {"feature_id", "your_version", "current_version"}),
    "missing dataset": (404, "not_found", {"dataset"}),
    "JSON too deep": (422, "error", {"depth", "max_depth"}),
    "JSON number too long": (422, "error", {"digits", "max_digits"}),
    "JSON lone surrogate": (422, "error", set()),
    "layer body not JSON": (422, "input", set()),
    "layer body not a feature": (422, "input", set()),
    "empty collection": (422, "input", set()),
    "dataset form field too long": (422, "input", {"field"}),
    "flags table of a .docx": (422, "input", {"file"}),
    "unknown language": (422, "input", {"lang", "languages"}),
    "stale reassign": (409, "conflict", {"scenario_id", "your_version", "current_version"}),
    "unknown tile layer": (404, "not_found", {"layer"}),
    "scenario on a missing dataset": (422, "scenario", {"dataset"}),
    "flags table of a .docx upload": (422, "input", {"file"}),
    "flags upload without version": (422, "input", set()),
}


def _answers(client, headers: dict[str, str], query: str = "") -> dict[str, dict]:
    scenario_id = client.post("/api/scenarios", json=scenario_body(), headers=AUTH).json()["id"]
    # 409 when the other language's round already stored it
    assert client.post("/api/layers/tourism_sites", json=SITE, headers=AUTH).status_code in (201, 409)
    deleted_id = client.post("/api/scenarios", json=scenario_body(), headers=AUTH).json()["id"]
    assert client.delete(f"/api/scenarios/{deleted_id}?version=1", headers=AUTH).status_code == 204
    bodies = {}
    for name, (method, path, arguments) in _requests(client, scenario_id).items():
        if name == "deleted scenario":
            path = path.replace(scenario_id, deleted_id)
        if query and "lang=" not in path:
            path += ("&" if "?" in path else "?") + query
        arguments = {**arguments, "headers": {**arguments.get("headers", {}), **headers}}
        response = client.request(method, path, **arguments)
        status, code, context_keys = EXPECTED[name]
        assert response.status_code == status, (name, response.text)
        body = response.json()
        assert body["code"] == code, (name, body)
        assert context_keys <= set(body["context"]), (name, body)
        bodies[name] = body
    return bodies


@pytest.fixture
def vietnamese(client) -> dict[str, dict]:
    return _answers(client, {})


def test_store_guard_and_upload_errors_are_vietnamese_by_default_without_an_english_word(vietnamese):
    for name, body in vietnamese.items():
        for text in (body["detail"], (body["hint"] or "").replace(FEATURE_EXAMPLE, "").replace(TILE_LAYER_IDS, "")):
            assert english_words(text) == [], (name, text)
    assert vietnamese["missing scenario"]["detail"] == "không có kịch bản 'nope'"
    assert vietnamese["missing scenario"]["hint"] == "xem danh sách kịch bản bằng GET /api/scenarios"
    assert vietnamese["feature id taken"]["detail"] == "lớp tourism_sites đã có một đối tượng mang mã 'chua-1'"
    assert vietnamese["feature id taken"]["hint"].endswith("bằng PUT /api/layers/tourism_sites/chua-1")
    assert vietnamese["stale feature"]["detail"] == ("đối tượng 'chua-1' đã được người khác sửa: bạn sửa từ phiên bản "
                                                    "7, bản đang lưu là phiên bản 1")
    assert vietnamese["JSON too deep"]["detail"] == "nội dung JSON lồng nhau 40 tầng; chỉ nhận tối đa 32 tầng"
    assert vietnamese["layer body not a feature"]["hint"] == f"gửi theo mẫu {FEATURE_EXAMPLE}"
    assert vietnamese["dataset form field too long"]["detail"] == "trường biểu mẫu 'activate' dài quá 10 ký tự"
    assert vietnamese["unknown language"]["hint"] == "dùng vi hoặc en"


@pytest.mark.parametrize("asking", [{"Accept-Language": "en-GB,en;q=0.8"}, "?lang=en"])
def test_the_same_errors_are_in_english_when_asked(client, vietnamese, asking):
    english = _answers(client, {}, "lang=en") if asking == "?lang=en" else _answers(client, asking)
    for name, body in english.items():
        if name == "unknown language" and asking == "?lang=en":
            continue  # the request asks for ?lang=fr itself, so it gets the default language
        assert body["detail"] != vietnamese[name]["detail"], name
    assert english["missing scenario"]["detail"] == "no scenario 'nope'"
    assert english["missing scenario"]["hint"] == "list scenarios with GET /api/scenarios"
    assert english["missing feature"]["detail"] == "no feature 'nope' in layer tourism_sites"
    assert english["JSON too deep"]["detail"] == "the JSON body is nested 40 levels deep; at most 32 are accepted"
    assert english["layer body not JSON"]["detail"].startswith("the request body is not valid JSON at line 1, column")
    assert english["empty collection"]["detail"] == "the FeatureCollection has no features"
    assert english["flags table of a .docx"]["detail"] == ("cannot read 'co.docx' as a flags table: only .csv and "
                                                          ".xlsx files")
    if asking != "?lang=en":
        assert english["unknown language"]["hint"] == "use vi or en"


def test_vietnamese_numbers_in_error_texts_use_the_vietnamese_thousands_separator(client):
    deep = b"[" * 1200 + b"]" * 1200
    vi = client.post("/api/scenarios", content=deep, headers=JSON).json()
    en = client.post("/api/scenarios", content=deep, headers={**JSON, "Accept-Language": "en"}).json()
    assert vi["detail"].startswith("nội dung JSON lồng nhau 1.200 tầng")
    assert en["detail"].startswith("the JSON body is nested 1,200 levels deep")
    assert vi["context"] == en["context"] == {"depth": 1200, "max_depth": 32}


SCENARIO_BODIES = {  # name → a scenario body the contract refuses
    "unknown regime": scenario_body(regime="R999"),
    "rules file as regime": scenario_body(regime="quy-chuan.yaml"),
    "unknown key": scenario_body(bogus=1),
    "missing name": {"new_units": []},
    "empty name": scenario_body(name="  "),
    "not a list": scenario_body(new_units={}),
    "not an object": [1, 2],
    "unit listed twice": scenario_body(new_units=[{"id": "n1", "name": "Xã Một", "kind": "commune",
                                                   "members": ["00001", "00001"]}]),
    "id used twice": scenario_body(new_units=[{"id": "n1", "name": "Xã Một", "members": ["00001"]},
                                              {"id": "n1", "name": "Xã Hai", "members": ["00002"]}]),
    "member of two new units": scenario_body(new_units=[{"id": "n1", "name": "Xã Một", "members": ["00001"]},
                                                        {"id": "n2", "name": "Xã Hai", "members": ["00001"]}]),
    "unknown unit kind": scenario_body(new_units=[{"id": "n1", "name": "Xã Một", "kind": "quan",
                                                   "members": ["00001"]}]),
    "not a unit code": scenario_body(new_units=[{"id": "n1", "name": "Xã Một", "members": [1.5]}]),
    "share above 1": scenario_body(new_units=[{"id": "n1", "name": "Xã Một", "members": ["00001"],
                                               "ethnic_minority_share": 2}]),
    "unknown parent kind": scenario_body(parent={"name": "Tỉnh X", "kind": "lang"}),
}
# Values one types as they are, listed in some hints: ward|commune|township|special_zone
VALUE_LIST = re.compile(r"\w+(?:\|\w+)+")
ALLOWED_KEYS = "các khoá được nhận: "  # followed by the contract's keys, as they are spelled in JSON
QUOTED_KEY = re.compile(r'"[\w.]+"')  # a field named as in JSON: "name", "ethnic_minority_share"


def test_scenario_body_problems_are_worded_in_vietnamese_by_default_and_in_english_on_request(client):
    for name, body in SCENARIO_BODIES.items():
        vi = client.post("/api/scenarios", json=body, headers=AUTH)
        en = client.post("/api/scenarios", json=body, headers={**AUTH, "Accept-Language": "en"})
        assert vi.status_code == en.status_code == 422, (name, vi.text)
        vi, en = vi.json(), en.json()
        assert vi["code"] == en["code"] == "scenario_body", name
        assert [e["location"] for e in vi["context"]["errors"]] == [e["location"] for e in en["context"]["errors"]]
        hint = VALUE_LIST.sub("", vi["hint"].split(ALLOWED_KEYS)[0])
        detail, hint = QUOTED_KEY.sub("", vi["detail"]), QUOTED_KEY.sub("", hint)
        assert english_words(detail) == [] and english_words(hint) == [], (name, vi["detail"], vi["hint"])
        assert vi["detail"] != en["detail"], name
    unit_listed_twice = client.post("/api/scenarios", json=SCENARIO_BODIES["unit listed twice"], headers=AUTH).json()
    assert unit_listed_twice["detail"] == ("nội dung yêu cầu: đơn vị mới thứ 1 (Xã Một): đơn vị 00001 được liệt kê hai "
                                           "lần trong trường \"members\"")
    english = client.post("/api/scenarios?lang=en", json=SCENARIO_BODIES["share above 1"], headers=AUTH).json()
    assert english["detail"] == ('request body: new unit #1 (Xã Một), "ethnic_minority_share": Input should be '
                                 'less than or equal to 1')
    vietnamese = client.post("/api/scenarios", json=SCENARIO_BODIES["share above 1"], headers=AUTH).json()
    assert vietnamese["detail"] == 'nội dung yêu cầu: đơn vị mới thứ 1 (Xã Một), trường "ethnic_minority_share": phải ≤ 1'


BOWTIE = [[105.82, 22.14], [105.84, 22.16], [105.84, 22.14], [105.82, 22.16], [105.82, 22.14]]
OPEN_RING = [[105.82, 22.14], [105.84, 22.14], [105.84, 22.16], [105.82, 22.16]]


def _site(**changes) -> dict:
    return {**SITE, "id": "chua-2", **changes}


FEATURE_AND_AREA_ERRORS = {  # name → (path, body, status, code)
    "wrong geometry type": ("/api/layers/tourism_sites", _site(geometry={
        "type": "LineString", "coordinates": [[105.76, 21.61], [105.77, 21.62]]}), 422, "input"),
    "bad attribute": ("/api/layers/tourism_sites", _site(properties={"name": "Chùa", "rank": "vũ trụ"}), 422, "input"),
    "id with a slash": ("/api/layers/tourism_sites", _site(id="a/b"), 422, "input"),
    "projected crs": ("/api/layers/tourism_sites", {**_site(), "crs": {
        "type": "name", "properties": {"name": "EPSG:3405"}}}, 422, "unknown_crs"),
    "open ring": ("/api/layers/tourism_sites", _site(geometry={"type": "Polygon", "coordinates": [OPEN_RING]}),
                  422, "input"),
    "two bad features": ("/api/layers/tourism_sites", {"type": "FeatureCollection", "features": [
        _site(geometry={"type": "Polygon", "coordinates": [BOWTIE]}), _site(id="x/y")]}, 422, "input"),
    "self-intersecting drawn area": ("/api/analysis/polygon", {"type": "Polygon", "coordinates": [BOWTIE]},
                                     422, "invalid_geometry"),
    "drawn collection": ("/api/analysis/polygon", {"type": "FeatureCollection", "features": []}, 422, "input"),
    "drawn area too large": ("/api/analysis/polygon", {"type": "Polygon", "coordinates": [[
        [105.0, 21.0], [106.0, 21.0], [106.0, 22.0], [105.0, 22.0], [105.0, 21.0]]]}, 422, "oversize_input"),
}


@pytest.mark.parametrize("name", FEATURE_AND_AREA_ERRORS)
def test_feature_and_drawn_area_errors_are_vietnamese_by_default_and_english_on_request(client, name):
    path, body, status, code = FEATURE_AND_AREA_ERRORS[name]
    headers = AUTH if path.startswith("/api/layers") else {}
    vi = client.post(path, json=body, headers=headers)
    en = client.post(path, json=body, headers={**headers, "Accept-Language": "en"})
    assert vi.status_code == en.status_code == status, vi.text
    vi, en = vi.json(), en.json()
    assert vi["code"] == en["code"] == code and set(vi["context"]) == set(en["context"])
    hint = QUOTED_KEY.sub("", VALUE_LIST.sub("", vi["hint"] or "").replace(FEATURE_EXAMPLE, ""))
    assert english_words(vi["detail"]) == [] and english_words(hint) == [], (vi["detail"], vi["hint"])
    assert vi["detail"] != en["detail"]


def test_a_refused_collection_lists_each_feature_in_the_readers_language(client):
    path, body, _status, _code = FEATURE_AND_AREA_ERRORS["two bad features"]
    vi = client.post(path, json=body, headers=AUTH).json()
    en = client.post(path, json=body, headers={**AUTH, "Accept-Language": "en"}).json()
    assert vi["detail"] == ("2 trên 2 đối tượng của lớp tourism_sites bị từ chối: #1: đối tượng 'Chùa Thạch Long' của "
                            "lớp tourism_sites không hợp lệ: tự cắt tại kinh độ 105,83, vĩ độ 22,15; #2: mã đối tượng "
                            "'x/y' chứa ký tự '/': không thể dùng trong địa chỉ /api/layers/<lớp>/<mã>")
    assert en["detail"].startswith("2 of 2 tourism_sites features refused: #1: tourism_sites feature 'Chùa Thạch Long' "
                                   "is invalid: Self-intersection at lon 105.830000, lat 22.150000; #2: feature id")
    assert vi["context"] == en["context"]  # the issues listed for scripts do not depend on the language


def _layer_file(*geometries) -> bytes:
    import json

    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": geometry, "properties": {"name": f"Điểm {number}"}}
        for number, geometry in enumerate(geometries, start=1)]}).encode()


def test_a_layer_file_with_refused_rows_is_told_row_by_row_in_the_readers_language(client):
    content = _layer_file({"type": "Point", "coordinates": [105.76, 21.61]},
                          {"type": "LineString", "coordinates": [[105.76, 21.61], [105.77, 21.62]]})
    vi = client.post("/api/layers/tourism_sites", files={"file": ("diem.geojson", content)}, headers=AUTH)
    en = client.post("/api/layers/tourism_sites", files={"file": ("diem.geojson", content)},
                     headers={**AUTH, "Accept-Language": "en"})
    assert vi.status_code == en.status_code == 422
    vi, en = vi.json(), en.json()
    assert vi["code"] == en["code"] == "invalid_geometry"
    assert vi["detail"] == ("diem.geojson: 1 trên 2 đối tượng của lớp tourism_sites bị từ chối — dòng 2 (Điểm 2): "
                            "lớp tourism_sites nhận Point hoặc Polygon, không nhận LineString")
    assert en["detail"] == ("diem.geojson: 1 of 2 tourism_sites features refused — row 2 (Điểm 2): "
                            "tourism_sites accept Point or Polygon, got LineString")
    assert english_words(vi["hint"]) == []
    assert vi["context"]["issues"] == en["context"]["issues"]


def test_an_unreadable_layer_file_is_told_in_vietnamese(client):
    vi = client.post("/api/layers/tourism_sites", files={"file": ("hong.geojson", b"{not json")}, headers=AUTH)
    assert vi.status_code == 422 and vi.json()["code"] == "input"
    assert vi.json()["detail"] == "hong.geojson: không mở được tệp GeoJSON"
    assert english_words(vi.json()["hint"]) == []


def test_a_refused_zip_is_told_in_vietnamese_with_its_members_as_data(client):
    import io
    import zipfile

    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("diem.shp", b"\x00\x00\x27\x0a" + b"\x00" * 96)
        archive.writestr("ghi-chu.vrt", b"<OGRVRTDataSource/>")
    files = {"file": ("diem.zip", packed.getvalue())}
    vi = client.post("/api/layers/tourism_sites", files=files, headers=AUTH).json()
    en = client.post("/api/layers/tourism_sites", files=files, headers={**AUTH, "Accept-Language": "en"}).json()
    assert vi["detail"] == "diem.zip: tệp zip chứa các tệp không thuộc Shapefile: ghi-chu.vrt"
    assert en["detail"] == "diem.zip: the zip holds files that are not part of a Shapefile: ghi-chu.vrt"
    assert vi["code"] == en["code"] == "input" and english_words(vi["hint"]) == []


def test_a_refused_reassignment_is_told_in_the_readers_language(client):
    body = scenario_body(new_units=[
        {"id": "n1", "name": "Xã Nam", "kind": "commune", "members": ["00001"], "locked": True},
        {"id": "n2", "name": "Phường Giữa", "kind": "ward", "members": ["00004"]}])
    scenario_id = client.post("/api/scenarios", json=body, headers=AUTH).json()["id"]
    path = f"/api/scenarios/{scenario_id}/reassign"
    answers = {}
    for lang in ("vi", "en"):
        headers = {**AUTH, "Accept-Language": lang}
        answers[lang] = [client.post(path, json={"assignments": assignments, "version": 1}, headers=headers)
                         for assignments in ({"00002": "n9"}, {"00001": "n2"})]
    for response in answers["vi"] + answers["en"]:
        assert response.status_code == 422, response.text
    (missing_vi, locked_vi), (missing_en, locked_en) = ([r.json() for r in answers[lang]] for lang in ("vi", "en"))
    assert missing_vi["detail"] == "không có đơn vị mới 'n9' để gán 00002 vào"
    assert missing_en["detail"] == "no new unit 'n9' to assign 00002 to"
    assert locked_vi["detail"] == "đơn vị mới 'n1' đang bị khoá; không thể chuyển đơn vị 00001"
    assert locked_en["detail"] == "new unit 'n1' is locked; unit 00001 cannot move"
    assert {missing_vi["code"], missing_en["code"], locked_vi["code"], locked_en["code"]} == {"scenario"}
    assert english_words(missing_vi["hint"]) == [] and english_words(locked_vi["hint"]) == []


def test_a_units_dataset_without_a_code_column_is_refused_in_vietnamese(client):
    import json

    square = {"type": "Polygon", "coordinates": [[[105.8, 22.1], [105.81, 22.1], [105.81, 22.11], [105.8, 22.11],
                                                  [105.8, 22.1]]]}
    content = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": square, "properties": {"ghi_chu": "x"}}]}).encode()
    files = {"file": ("xa.geojson", content)}
    vi = client.post("/api/datasets", files=files, headers=AUTH)
    en = client.post("/api/datasets", files=files, headers={**AUTH, "Accept-Language": "en"})
    assert vi.status_code == en.status_code == 422, vi.text
    vi, en = vi.json(), en.json()
    assert vi["code"] == en["code"] == "missing_column" and set(vi["context"]) == set(en["context"])
    assert vi["detail"].endswith("không có cột cho mã của đơn vị")
    assert en["detail"].endswith("no column for the unit code")
    assert english_words(re.sub(r"--[\w-]+", "", vi["hint"])) == []


def test_a_flags_table_with_a_bad_cell_is_refused_in_the_readers_language(client):
    table = "code,mountainous,ethnic_minority_share\n00001,có lẽ,0.2\n".encode()
    vi = client.post("/api/flags/table?name=co.csv", content=table)
    en = client.post("/api/flags/table?name=co.csv", content=table, headers={"Accept-Language": "en"})
    assert vi.status_code == en.status_code == 422
    vi, en = vi.json(), en.json()
    assert vi["detail"] == "co.csv: dòng 2, cột mountainous: 'có lẽ' không phải có/không"
    assert en["detail"] == "co.csv: row 2, column mountainous: 'có lẽ' is not yes/no"
    assert vi["code"] == en["code"] == "input" and vi["context"] == en["context"] == {"row": 2, "column": "mountainous"}
    assert english_words(vi["hint"]) == []
