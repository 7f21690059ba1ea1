"""Bring your own data in the browser: upload a units layer with its name, date and source, read the import
report (level, per-unit warnings, gaps and overlaps, in Vietnamese), build a scenario on it and assign its
units on the map. Same server and browser fixtures as test_browser.py (its own server for this module)."""
from __future__ import annotations

import json

import httpx
import pytest
from shapely.geometry import box, mapping

from test_browser import TOKEN, browser, map_point, open_page, page, parse_vi_number, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

PROVINCE, DISTRICT = "Tỉnh Tải Lên", "Huyện Thử Nghiệm"
SIDE = 0.02   # degrees: squares of about 2 km


def uploaded_layer() -> tuple[bytes, dict]:
    """Four communes in a 2 × 2 block far from the sample region; 90004 has population 0 (reported)."""
    populations = {"90001": 4200, "90002": 3100, "90003": 2600, "90004": 0}
    names = {"90001": "Tân Mới", "90002": "Đồng Tâm", "90003": "Hữu Nghị", "90004": "Bản Mường"}
    features, geometries = [], {}
    for i, code in enumerate(populations):
        west, south = 106.40 + (i % 2) * SIDE, 21.10 + (i // 2) * SIDE
        geometries[code] = box(west, south, west + SIDE, south + SIDE)
        features.append({"type": "Feature", "geometry": mapping(geometries[code]), "properties": {
            "code": code, "name": names[code], "kind": "xa", "district": DISTRICT, "province": PROVINCE,
            "population": populations[code]}})
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()
    return body, {"populations": populations, "geometries": geometries}


def test_upload_a_units_layer_read_its_report_and_build_a_scenario_on_it(page, server):
    layer, truth = uploaded_layer()
    open_page(page, server)
    page.locator("#btn-datasets").click()
    page.locator("#dataset-file").set_input_files(files=[{"name": "xa-tai-len.geojson", "mimeType": "application/geo+json",
                                                          "buffer": layer}])
    page.locator("#dataset-name").fill("Xã tải lên 2024")
    page.locator("#dataset-date").fill("2024-12-31")
    page.locator("#dataset-source").fill("Cục Thống kê (thử)")
    page.locator("#btn-dataset-upload").click()

    report = page.locator("#dataset-report")
    report.locator(".import-summary").wait_for(timeout=60_000)
    assert "Đã nhập “Xã tải lên 2024”: 4 đơn vị" in report.inner_text()
    assert "cấp xã/phường" in report.inner_text()
    zero = report.locator('li[data-issue="zero_population"]')
    assert "Dân số bằng 0" in zero.inner_text() and "90004 Bản Mường" in zero.inner_text()
    assert "Chồng lấn giữa hai đơn vị" in report.locator("table.topology").inner_text()
    stored = page.locator("#dataset-list").inner_text()
    assert "Xã tải lên 2024 (2024-12-31) — 4 đơn vị" in stored and "Cục Thống kê (thử)" in stored
    version = next(d["version"] for d in httpx.get(server + "api/datasets", timeout=30).json()["data"]
                   if d["name"] == "Xã tải lên 2024")

    # A new scenario on it: the dataset is chosen, its district is the scope.
    page.locator("#btn-dataset-scenario").click()
    page.locator("#new-scenario-dialog").wait_for()
    assert page.locator("#ns-dataset").input_value() == version
    page.locator("#ns-district").select_option(f"{PROVINCE}|{DISTRICT}")
    page.locator("#ns-name").fill("Sắp xếp dữ liệu tải lên")
    page.locator("#new-scenario-dialog button[value=ok]").click()
    page.wait_for_function(f"window.__diagioi.unitsVersion === '{version}' && window.__diagioi.state.session.scenario"
                           " && window.__diagioi.state.session.scenario.name === 'Sắp xếp dữ liệu tải lên'", timeout=30_000)
    scenario_id = page.evaluate("window.__diagioi.state.session.id")
    page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()", timeout=30_000)
    page.wait_for_timeout(400)
    # The map shows the uploaded units (and only them).
    shown = page.evaluate("window.__diagioi.map.queryRenderedFeatures({layers: ['units-fill']}).map(f => f.properties.code)")
    assert set(shown) == set(truth["populations"])
    assert "Phạm vi: 4 xã/phường · đã gán 0 · giữ nguyên 4 (dân số 9.900 người)" in page.locator("#scope-counter").inner_text()
    assert "Dữ liệu: Xã tải lên 2024" in page.locator(".maplibregl-ctrl-attrib").inner_text()

    # Two units into one new commune: the first from the search, the second by a click on the map.
    page.locator("#search-input").fill("tan moi")
    page.locator('#search-results li[data-code="90001"] [data-action="commune"]').click()
    page.wait_for_function("(window.__diagioi.reassignCount || 0) >= 1 || window.__diagioi.state.session.scenario.new_units.length === 1",
                           timeout=20_000)
    card = page.locator(".nu-card").first
    card.wait_for()
    card.locator('[data-action="activate"]').click()
    before = page.evaluate("window.__diagioi.reassignCount || 0")
    page.mouse.click(*map_point(page, truth["geometries"]["90002"].centroid.coords[0]))
    page.wait_for_function(f"(window.__diagioi.reassignCount || 0) > {before}", timeout=20_000)

    evaluation = httpx.get(server + f"api/scenarios/{scenario_id}/evaluation", timeout=60).json()
    merged = evaluation["new_units"][0]
    assert sorted(merged["members"]) == ["90001", "90002"]
    assert merged["population"] == 4200 + 3100
    page.wait_for_function("document.querySelector('.nu-card .fig-population') && "
                           "document.querySelector('.nu-card .fig-population').innerText.includes('7.300')")
    assert parse_vi_number(card.locator(".fig-population").inner_text()) == 7300
    assert parse_vi_number(card.locator(".fig-area-computed").inner_text()) == pytest.approx(merged["area_km2"], abs=0.006)


def test_a_refused_upload_says_why_in_the_dialog_and_stores_nothing(page, server):
    before = len(httpx.get(server + "api/datasets", timeout=30).json()["data"])
    open_page(page, server)
    page.locator("#btn-datasets").click()
    page.locator("#dataset-file").set_input_files(files=[{"name": "khong-phai.geojson", "mimeType": "application/geo+json",
                                                          "buffer": b'{"type": "FeatureCollection", "features": []}'}])
    page.locator("#btn-dataset-upload").click()
    report = page.locator("#dataset-report.error")
    report.wait_for(timeout=30_000)
    assert report.inner_text().startswith("Không nhập được:") and "Chưa lưu gì" in report.inner_text()
    assert page.locator("#btn-dataset-scenario").is_hidden()
    assert len(httpx.get(server + "api/datasets", timeout=30).json()["data"]) == before


def test_switching_back_to_a_scenario_on_the_default_dataset_shows_its_units_again(page, server):
    layer, _truth = uploaded_layer()
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as client:
        uploaded = client.post("api/datasets", data={"name": "Lớp thứ hai"},
                               files={"file": ("lop-2.geojson", layer, "application/geo+json")}).json()
        on_upload = client.post("api/scenarios", json={"name": "Trên lớp thứ hai", "dataset": uploaded["version"],
                                                       "new_units": []}).json()["id"]
        default = client.get("api/datasets").json()["default"]
        on_default = next(s["id"] for s in client.get("api/scenarios").json()["data"] if s["units_version"] == default)
    open_page(page, server, on_upload)
    page.wait_for_function(f"window.__diagioi.unitsVersion === '{uploaded['version']}'")
    assert page.evaluate("window.__diagioi.map.getLayoutProperty('admin-district-line', 'visibility')") == "none"
    page.locator("#scenario-select").select_option(on_default)
    page.wait_for_function(f"window.__diagioi.unitsVersion === '{default}'", timeout=30_000)
    page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()", timeout=30_000)
    assert page.evaluate("window.__diagioi.map.getLayoutProperty('admin-district-line', 'visibility')") == "visible"
    assert "Dữ liệu: dữ liệu mẫu (diagioi.demo)" in page.locator(".maplibregl-ctrl-attrib").inner_text()
    codes = {f["properties"]["code"] for f in httpx.get(server + "api/units?geometry=false", timeout=60).json()["features"]}
    assert set(page.evaluate("[...window.__diagioi.state.units.keys()]")) == codes
