"""Writes need the token; bodies have a size limit; every error is the one JSON shape."""
from __future__ import annotations

from api_helpers import AUTH, scenario_body
from fastapi.testclient import TestClient

from diagioi.api.app import create_app


def test_write_without_token_is_401_with_a_hint(client):
    response = client.post("/api/scenarios", json=scenario_body())
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "detail": "thay đổi này cần khoá ghi",
        "hint": "mở đường dẫn đăng nhập mà lệnh 'diagioi serve' in ra (http://127.0.0.1:8000/#token=…), "
                "hoặc gửi tiêu đề 'Authorization: Bearer <khoá>'",
        "context": {}, "code": "error.write_key_missing"}
    in_english = client.post("/api/scenarios?lang=en", json=scenario_body())
    assert in_english.json() == {
        "detail": "this change needs the write token",
        "hint": "open the login URL printed by 'diagioi serve' (http://127.0.0.1:8000/#token=…), "
                "or send 'Authorization: Bearer <token>'",
        "context": {}, "code": "error.write_key_missing"}


def test_write_with_wrong_token_is_403(client):
    response = client.post("/api/scenarios", json=scenario_body(), headers={"Authorization": "Bearer nope"})
    assert response.status_code == 403
    assert response.json()["detail"] == "khoá ghi không đúng"


def test_reads_need_no_token(client):
    assert client.get("/api/units").status_code == 200
    assert client.get("/api/scenarios").json() == {"data": [], "count": 0}


def test_token_is_generated_when_none_is_set(settings):
    app = create_app(settings.model_copy(update={"token": None}))
    service = app.state.service
    assert service.token_generated is True
    assert len(service.token) >= 24
    assert (settings.data_dir / "token").read_text().strip() == service.token  # kept for the next start
    with TestClient(app) as client:
        ok = client.post("/api/scenarios", json=scenario_body(),
                         headers={"Authorization": f"Bearer {service.token}"})
        assert ok.status_code == 201


def test_declared_oversize_body_is_413_before_reading(client):
    big = b"x" * 200_001  # the test settings allow 200 000 bytes
    response = client.post("/api/layers/tourism_sites", content=big,
                           headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 413
    body = response.json()
    assert body["context"] == {"size_bytes": 200_001, "max_upload_bytes": 200_000}
    assert "DIAGIOI_MAX_UPLOAD_BYTES" in body["hint"]


def test_streamed_oversize_body_without_length_is_413(client):
    def chunks():
        for _ in range(30):
            yield b" " * 10_000  # 300 000 bytes, sent chunked (no Content-Length)

    response = client.post("/api/scenarios", content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["detail"].startswith("nội dung yêu cầu quá lớn: ít nhất 300.000 byte")


def test_unknown_route_is_a_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["detail"] == "không có địa chỉ GET /api/nothing-here"
    assert client.get("/api/nothing-here", headers={"Accept-Language": "en"}).json()["detail"] == \
        "no route GET /api/nothing-here"


def test_placeholder_page_when_the_web_app_is_missing(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "/docs" in response.text and "web/index.html" in response.text


def test_web_app_is_served_at_root_when_present(settings, tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<html><body>diagioi web</body></html>", encoding="utf-8")
    with TestClient(create_app(settings.model_copy(update={"web_dir": web}))) as client:
        assert client.get("/").text == "<html><body>diagioi web</body></html>"
        assert client.get("/api/health").json()["units"] == 9  # the API still wins over the static mount


def test_an_unexpected_failure_is_still_a_json_500(settings, monkeypatch):
    app = create_app(settings)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(app.state.service, "units_geojson_bytes", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/units", params={"q": "x"})
    assert response.status_code == 500
    assert response.json()["detail"] == "lỗi nội bộ khi xử lý GET /api/units: RuntimeError"
    assert "lỗi của diagioi" in response.json()["hint"]
