"""API error answers and CLI error lines speak the reader's language: Vietnamese by default, English with
``?lang=en`` / ``Accept-Language: en`` / ``--lang en``; the JSON shape keeps a stable ``code`` in both."""
from __future__ import annotations

import pytest
from api_helpers import AUTH, scenario_body
from fastapi.testclient import TestClient
from language_check import english_words
from typer.testing import CliRunner

from diagioi.api.app import create_app
from diagioi.api.cli import app as cli_app


def _oversize_chunks():
    for _ in range(30):
        yield b" " * 10_000  # 300 000 bytes, more than the tests' 200 000-byte limit


def representative_errors(client: TestClient, lang_headers: dict[str, str]) -> dict[str, dict]:
    """One answer of each kind a planner or a script meets, as (status, body)."""
    scenario = client.post("/api/scenarios", json=scenario_body(), headers=AUTH).json()
    h = lang_headers
    answers = {
        "no route": client.get("/api/nothing-here", headers=h),
        "wrong method": client.patch("/api/scenarios", headers=h),
        "no write token": client.post("/api/scenarios", json=scenario_body(), headers=h),
        "wrong write token": client.post("/api/scenarios", json=scenario_body(),
                                         headers={**h, "Authorization": "Bearer nope"}),
        "not JSON": client.post("/api/scenarios", content=b'{"name": "A",',
                                headers={**AUTH, **h, "Content-Type": "application/json"}),
        "not UTF-8": client.post("/api/scenarios", content='{"name": "Đông Anh"}'.encode("cp1258"),
                                 headers={**AUTH, **h, "Content-Type": "application/json"}),
        "unknown layer kind": client.get("/api/layers/parks", headers=h),
        "missing field": client.post(f"/api/scenarios/{scenario['id']}/reassign", json={"assignments": {}},
                                     headers={**AUTH, **h}),
        "unreadable upload": client.post("/api/layers/tourism_sites", content=b"file=x",
                                         headers={**AUTH, **h, "Content-Type": "multipart/form-data"}),
        "upload without file": client.post("/api/layers/tourism_sites", files={"other": ("a.txt", b"x")},
                                           headers={**AUTH, **h}),
        "upload of a .docx": client.post("/api/layers/tourism_sites", files={"file": ("a.docx", b"x")},
                                         headers={**AUTH, **h}),
        "unknown unit code": client.post(f"/api/scenarios/{scenario['id']}/reassign",
                                         json={"assignments": {"zzz": "n1"}, "version": 1}, headers={**AUTH, **h}),
        "body too large": client.post("/api/scenarios", content=_oversize_chunks(),
                                      headers={**AUTH, **h, "Content-Type": "application/json"}),
    }
    bodies = {}
    for name, response in answers.items():
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
        body = response.json()
        assert {"detail", "hint", "context", "code"} <= set(body), name
        bodies[name] = body
    return bodies


def test_error_answers_are_in_vietnamese_by_default_with_no_english_word(client):
    bodies = representative_errors(client, {})
    for name, body in bodies.items():
        detail = body["detail"]
        if body["code"] == "validation":  # "path.kind: …": the field is named as the API spells it
            detail = "; ".join(error["problem"] for error in body["context"]["errors"])
        assert english_words(detail) == [], (name, detail)
        assert english_words(body["hint"] or "") == [], (name, body["hint"])
    assert bodies["no write token"]["detail"] == "thay đổi này cần khoá ghi"
    assert bodies["unknown unit code"]["detail"] == "1 mã đơn vị không có trong grid.geojson: zzz"


@pytest.mark.parametrize("asking", [{"Accept-Language": "en-GB,en;q=0.8"}, "?lang=en"])
def test_the_same_errors_are_in_english_when_asked_with_the_same_codes(client, asking):
    if isinstance(asking, str):  # ?lang=en on every request: through a client that adds it
        client.params = {"lang": "en"}
        asking = {}
    english = representative_errors(client, asking)
    client.params = {}
    vietnamese = representative_errors(client, {})
    assert {name: body["code"] for name, body in english.items()} == \
        {name: body["code"] for name, body in vietnamese.items()}
    assert english["no route"]["detail"] == "no route GET /api/nothing-here"
    assert english["no write token"]["detail"] == "this change needs the write token"
    assert english["unknown unit code"]["detail"] == "1 unit code(s) not in grid.geojson: zzz"
    assert english["upload of a .docx"]["code"] == "error.upload_format"
    for name, body in english.items():
        assert body["detail"] != vietnamese[name]["detail"], name


def test_an_unknown_lang_still_gets_its_error_answer_in_vietnamese(client):
    body = client.get("/api/nothing-here?lang=xx").json()
    assert body["detail"] == "không có địa chỉ GET /api/nothing-here"


def test_a_rebound_host_is_refused_in_the_readers_language(settings):
    with TestClient(create_app(settings), base_url="http://evil.example") as rebound:
        vi = rebound.get("/api/health").json()
        en = rebound.get("/api/health", headers={"Accept-Language": "en"}).json()
    assert vi["detail"] == "máy chủ này không trả lời tên máy 'evil.example'" and english_words(vi["hint"]) == []
    assert en["detail"] == "this server does not answer to the host name 'evil.example'"


runner = CliRunner()


def cli_error_lines(arguments: list[str]) -> tuple[str, str]:
    result = runner.invoke(cli_app, arguments)
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    (error,) = [line for line in lines if line.startswith("error:")]
    (hint,) = [line for line in lines if line.startswith("hint:")]
    return error.removeprefix("error:").strip(), hint.removeprefix("hint:").strip()


def cli_cases(tmp_path, grid_path) -> dict[str, list[str]]:
    from helpers.grid import grid_frame

    no_prj = tmp_path / "noprj.shp"
    grid_frame()[["code", "name", "population", "geometry"]].to_file(no_prj)
    no_prj.with_suffix(".prj").unlink()
    scenario = tmp_path / "s.json"
    scenario.write_text('{"name": "thử", "new_units": [{"name": "Xã Mới", "kind": "xa", "members": ["00001"]}]}',
                        encoding="utf-8")
    return {
        "missing file": ["units", str(tmp_path / "nowhere.geojson")],
        "missing CRS": ["units", str(no_prj)],
        "unknown output format": ["evaluate", str(scenario), "--units", str(grid_path), "--out", "t.docx"],
        "unwritable output": ["evaluate", str(scenario), "--units", str(grid_path), "--out", "/proc/nope/x.csv"],
        "missing file in topology": ["topology", str(tmp_path / "nowhere.geojson")],
        "missing file in crosswalk": ["crosswalk", str(tmp_path / "a.geojson"), str(tmp_path / "b.geojson")],
    }


def test_cli_errors_are_in_vietnamese_by_default_and_in_english_with_lang_en(tmp_path, grid_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short paths: the console wraps long lines
    for name, arguments in cli_cases(tmp_path, grid_path).items():
        error_vi, hint_vi = cli_error_lines(arguments)
        assert english_words(error_vi) == [] and english_words(hint_vi) == [], (name, error_vi, hint_vi)
        error_en, hint_en = cli_error_lines([*arguments, "--lang", "en"])
        assert (error_en, hint_en) != (error_vi, hint_vi), name
    assert cli_error_lines(["units", "nowhere.geojson"])[0] == "không tìm thấy tệp: nowhere.geojson"
    assert cli_error_lines(["units", "nowhere.geojson", "--lang", "en"])[0] == "file not found: nowhere.geojson"


def test_an_unknown_cli_language_is_refused_in_vietnamese(grid_path):
    error, hint = cli_error_lines(["units", str(grid_path), "--lang", "fr"])
    assert (error, hint) == ("ngôn ngữ 'fr' không được hỗ trợ", "dùng --lang vi hoặc --lang en")
