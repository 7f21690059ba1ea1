"""The page as a planner uses it on the sample region: a readable map (labels, outlines, attribution),
a phone layout, a lost server, scenario switching, delete/restore, undo of a kind change, refused
duplicate names, draw-mode keys and failed downloads. Same server and browser fixtures as
test_browser.py (Debian's Chromium; skipped without it)."""
from __future__ import annotations

import httpx
import pytest
from shapely.geometry import shape

from diagioi.geo.area import geodesic_area_km2

from test_browser import (  # noqa: F401 - fixtures
    TOKEN, api_client, browser, map_point, open_page, page, server, two_neighbouring_units,
)

pytestmark = pytest.mark.browser


def new_scenario(server, name: str, new_units: list[dict]) -> str:
    with api_client(server) as client:
        response = client.post("api/scenarios", json={"name": name, "new_units": new_units})
        assert response.status_code == 201, response.text
        return response.json()["id"]


def zoom_to(page, zoom: float) -> None:
    page.evaluate(f"window.__diagioi.map.setZoom({zoom})")
    page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()", timeout=30_000)
    page.wait_for_timeout(400)


def test_the_map_shows_unit_names_with_diacritics_district_outlines_and_the_data_source(page, server):
    open_page(page, server)
    zoom_to(page, 11)
    labels = page.evaluate("window.__diagioi.map.queryRenderedFeatures({layers: ['unit-labels']}).map(f => f.properties.name)")
    names = {f["properties"]["name"] for f in httpx.get(server + "api/units?geometry=false", timeout=60).json()["features"]}
    assert len(labels) >= 5 and set(labels) <= names
    assert any(ch in "".join(labels) for ch in "ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")
    # The labels are drawn from the vendored Noto Sans (no glyph server): the face is loaded.
    assert page.evaluate("document.fonts.check('24px \"Noto Sans Regular\"', 'Đức Xuân Ữ')")
    outlines = page.evaluate("window.__diagioi.map.queryRenderedFeatures({layers: ['admin-district-line']}).length")
    assert outlines > 0
    attribution = page.locator(".maplibregl-ctrl-attrib").inner_text()
    assert "Dữ liệu" in attribution and "giấy phép" in attribution and "dân số năm" in attribution
    assert page.locator("#basemap-note").is_visible()          # no basemap configured: said so on the map
    assert page.locator("#basemap-note").inner_text() == "Không có bản đồ nền"
    assert page.locator("#loading").is_hidden()


def test_on_a_phone_the_map_fills_the_screen_and_the_panel_is_a_drawer(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    context.add_init_script(f"localStorage.setItem('diagioi.token', '{TOKEN}')")
    page = context.new_page()
    try:
        open_page(page, server)
        canvas = page.locator("#map canvas").bounding_box()
        assert canvas["width"] >= 380 and canvas["height"] >= 500
        side = page.locator("#side")
        assert side.bounding_box()["y"] >= 830           # closed: below the screen
        page.locator("#btn-panel").click()
        page.wait_for_timeout(400)
        box = side.bounding_box()
        assert 300 <= box["y"] <= 600 and box["width"] == pytest.approx(390, abs=2)
        assert page.locator("#new-units .nu-card").first.is_visible()
    finally:
        context.close()


TOP_BAR_ROWS = """() => {
    // The boxes laid out in the top bar (the menu's items are the bar's own on a wide screen), grouped into rows.
    const bar = document.querySelector('.topbar');
    const boxes = [...bar.querySelectorAll(':scope > *, :scope > .topbar-menu > *')]
        .filter((el) => getComputedStyle(el).display !== 'contents')
        .map((el) => el.getBoundingClientRect())
        .filter((r) => r.width > 0 && r.height > 0 && r.bottom <= bar.getBoundingClientRect().bottom);
    const rows = [];  // [top, bottom] of each row; a box whose middle is inside one is on that row
    for (const r of boxes) {
        const middle = (r.top + r.bottom) / 2;
        const row = rows.find(([top, bottom]) => top <= middle && middle <= bottom);
        if (row) { row[0] = Math.min(row[0], r.top); row[1] = Math.max(row[1], r.bottom); }
        else rows.push([r.top, r.bottom]);
    }
    return {rows: rows.length, height: bar.getBoundingClientRect().height,
            tallest: Math.max(...boxes.map((r) => r.height))};
}"""


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


@pytest.mark.parametrize(("width", "height", "most_rows"), [(390, 844, 2), (1366, 768, 1)])
def test_the_top_bar_stays_short_and_the_legend_never_covers_the_attribution(browser, server, width, height, most_rows):
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=width < 700)
    context.add_init_script(f"localStorage.setItem('diagioi.token', '{TOKEN}')")
    page = context.new_page()
    try:
        open_page(page, server)
        bar = page.evaluate(TOP_BAR_ROWS)
        assert bar["rows"] <= most_rows, bar
        assert bar["height"] <= most_rows * bar["tallest"] + 16, bar  # the rows and the bar's padding, no more

        legend_button = page.locator("#btn-map-legend")
        if width < 700:  # the legend opens on demand on a phone
            assert page.locator("#legend").is_hidden()
            legend_button.click()
            assert legend_button.get_attribute("aria-expanded") == "true"
        else:
            assert legend_button.is_hidden()
        legend = page.locator("#legend")
        legend.locator("div").first.wait_for()
        attribution = page.locator(".maplibregl-ctrl-attrib").bounding_box()
        for covering in ("#legend", ".map-controls", "#btn-panel", "#basemap-note"):
            box = page.locator(covering).bounding_box()
            assert box is None or not overlap(box, attribution), (covering, box, attribution)
        assert page.locator(".maplibregl-ctrl-attrib").inner_text().startswith("Dữ liệu")
    finally:
        context.close()


def test_on_a_phone_the_scenario_actions_open_from_a_menu_named_in_vietnamese(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    context.add_init_script(f"localStorage.setItem('diagioi.token', '{TOKEN}')")
    page = context.new_page()
    try:
        open_page(page, server)
        menu_button = page.locator("#btn-topbar-menu")
        assert menu_button.get_attribute("aria-label") == "Các thao tác khác"
        assert menu_button.get_attribute("title") == "Các thao tác khác"
        actions = ["#btn-scenario-new", "#btn-scenario-rename", "#btn-scenario-copy", "#btn-scenario-suggest",
                   "#btn-scenario-delete", "#btn-datasets", "#btn-token", "#lang-select"]
        assert all(page.locator(action).is_hidden() for action in actions)
        menu_button.click()
        assert menu_button.get_attribute("aria-expanded") == "true"
        assert all(page.locator(action).is_visible() for action in actions)
        page.keyboard.press("Escape")
        assert page.locator("#btn-scenario-rename").is_hidden()
        assert menu_button.get_attribute("aria-expanded") == "false"
        menu_button.click()  # choosing an action closes the menu
        page.locator("#btn-token").click()
        assert page.locator("#token-dialog").is_visible()
        assert page.locator("#btn-scenario-rename").is_hidden()
    finally:
        context.close()


def test_a_lost_server_is_said_in_vietnamese_and_the_edit_lands_after_retry(page, server):
    first, _second = two_neighbouring_units(server)
    scenario_id = new_scenario(server, "Mất kết nối", [{"id": "n1", "name": "Phường Thử Lại", "kind": "ward", "members": []}])
    open_page(page, server, scenario_id)
    page.route("**/reassign", lambda route: route.abort("connectionrefused"))
    page.locator('.nu-card[data-id="n1"] [data-action="activate"]').click()
    page.locator("#search-input").fill(first["code"])
    page.locator(f'#search-results li[data-code="{first["code"]}"] [data-action="assign"]').click()
    toast = page.locator("#toast")
    toast.wait_for(state="visible")
    assert "Không kết nối được máy chủ" in toast.inner_text()
    assert "Failed to fetch" not in toast.inner_text()
    page.unroute("**/reassign")
    toast.locator("button", has_text="Thử lại").click()
    page.wait_for_function("(window.__diagioi.reassignCount || 0) >= 1", timeout=20_000)
    members = httpx.get(server + f"api/scenarios/{scenario_id}/evaluation", timeout=60).json()["new_units"][0]["members"]
    assert members == [first["code"]]


def test_a_scenario_that_fails_to_open_leaves_picker_panel_and_edits_on_the_one_shown(page, server):
    shown = new_scenario(server, "Phương án đang xem", [{"id": "n1", "name": "Phường Đang Xem", "kind": "ward", "members": []}])
    other = new_scenario(server, "Phương án khác", [{"id": "n1", "name": "Phường Khác", "kind": "ward", "members": []}])
    open_page(page, server, shown)
    page.route(f"**/api/scenarios/{other}", lambda route: route.abort("connectionrefused"))
    page.locator("#scenario-select").select_option(other)
    page.locator("#toast").wait_for(state="visible")
    assert page.locator("#scenario-select").input_value() == shown
    assert page.locator('.nu-card[data-id="n1"] .nu-name').inner_text() == "Phường Đang Xem"
    assert page.evaluate("window.__diagioi.state.session.id") == shown


def test_delete_a_scenario_then_restore_it(page, server):
    scenario_id = new_scenario(server, "Phương án sẽ xoá", [{"id": "n1", "name": "Phường Xoá Thử", "kind": "ward",
                                                              "members": [two_neighbouring_units(server)[0]["code"]]}])
    open_page(page, server, scenario_id)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#btn-scenario-delete").click()
    toast = page.locator("#toast")
    toast.locator("button", has_text="Hoàn tác").wait_for()
    names = [s["name"] for s in httpx.get(server + "api/scenarios", timeout=30).json()["data"]]
    assert "Phương án sẽ xoá" not in names
    toast.locator("button", has_text="Hoàn tác").click()
    page.wait_for_function("window.__diagioi.state.session.scenario && window.__diagioi.state.session.scenario.name === 'Phương án sẽ xoá'")
    restored = [s for s in httpx.get(server + "api/scenarios", timeout=30).json()["data"] if s["name"] == "Phương án sẽ xoá"]
    assert len(restored) == 1
    evaluation = httpx.get(server + f"api/scenarios/{restored[0]['id']}/evaluation", timeout=60).json()
    assert evaluation["new_units"][0]["name"] == "Phường Xoá Thử" and len(evaluation["new_units"][0]["members"]) == 1


def test_a_kind_change_is_undone_and_a_duplicate_name_is_refused(page, server):
    scenario_id = new_scenario(server, "Đổi loại", [{"id": "n1", "name": "Xã Đổi Loại", "kind": "commune", "members": []}])
    open_page(page, server, scenario_id)
    page.locator('.nu-card[data-id="n1"] select.nu-kind').select_option("ward")
    page.wait_for_function("window.__diagioi.state.session.newUnit('n1').kind === 'ward'")
    page.locator("#btn-undo").click()
    page.wait_for_function("window.__diagioi.state.session.newUnit('n1').kind === 'commune'")
    scenario = httpx.get(server + f"api/scenarios/{scenario_id}", timeout=30).json()["scenario"]
    assert scenario["new_units"][0]["kind"] == "commune"

    page.locator("#new-unit-name").fill("xã đổi loại")
    page.locator("#new-unit-form button[type=submit]").click()
    assert "Đã có đơn vị mới tên “Xã Đổi Loại”" in page.locator("#toast").inner_text()
    assert len(httpx.get(server + f"api/scenarios/{scenario_id}", timeout=30).json()["scenario"]["new_units"]) == 1


def test_draw_mode_backspace_removes_a_corner_and_escape_cancels(page, server):
    open_page(page, server)
    page.locator('.tab[data-tab="draw"]').click()
    page.locator("#draw-snap").uncheck()
    page.locator("#btn-draw-start").click()
    box = page.locator("#map").bounding_box()
    for fx, fy in [(0.3, 0.3), (0.5, 0.3), (0.5, 0.5)]:
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    assert page.evaluate("window.__diagioi.state.draw.vertices.length") == 3
    page.keyboard.press("Backspace")
    assert page.evaluate("window.__diagioi.state.draw.vertices.length") == 2
    page.keyboard.press("Control+z")
    assert page.evaluate("window.__diagioi.state.draw.vertices.length") == 1
    page.keyboard.press("Escape")
    assert page.evaluate("window.__diagioi.state.draw.state") == "idle"
    assert page.evaluate("window.__diagioi.state.draw.vertices.length") == 0


def test_a_failed_download_is_reported(page, server):
    scenario_id = new_scenario(server, "Tải lỗi", [{"id": "n1", "name": "Phường Tải", "kind": "ward",
                                                     "members": [two_neighbouring_units(server)[0]["code"]]}])
    open_page(page, server, scenario_id)
    page.route("**/export.xlsx*", lambda route: route.fulfill(
        status=500, content_type="application/json",
        body='{"detail": "ổ đĩa đầy", "hint": "giải phóng chỗ trống", "context": {}}'))
    page.locator('.tab[data-tab="export"]').click()
    page.locator('#export-links a[data-format="xlsx"]').click()
    toast = page.locator("#toast")
    toast.wait_for(state="visible")
    assert "Không tải được tệp xuất: ổ đĩa đầy — giải phóng chỗ trống" in toast.inner_text()


def inside_triangle(page, lon_lat, size_px: float = 14) -> list[tuple[float, float]]:
    x, y = map_point(page, lon_lat)
    return [(x - size_px, y + size_px), (x + size_px, y + size_px), (x, y - size_px)]


def test_a_cluster_drawn_in_the_page_shows_in_the_new_unit_card_and_a_bad_feature_is_explained(page, server):
    unit = two_neighbouring_units(server)[0]
    scenario_id = new_scenario(server, "Quy hoạch trong thẻ", [{"id": "n1", "name": "Phường Có Cụm", "kind": "ward",
                                                                "members": [unit["code"]]}])
    open_page(page, server, scenario_id)
    west, south, east, north = unit["geometry"].bounds
    page.evaluate("([b, padding]) => window.__diagioi.map.fitBounds(b, { padding, duration: 0 })",
                  [[[west, south], [east, north]], page.evaluate("window.__diagioi.padding")])
    page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()")
    before = page.locator('.nu-card[data-id="n1"] .zoning-figure[data-field="industrial_cluster_count"]')
    count_before = int(before.inner_text().split()[0]) if before.count() else 0

    page.locator('.tab[data-tab="draw"]').click()
    page.locator("#draw-snap").uncheck()
    page.locator("#draw-target").select_option("industrial_clusters:polygon")
    page.locator("#btn-draw-start").click()
    corners = inside_triangle(page, unit["inside"])
    for x, y in corners[:-1]:
        page.mouse.click(x, y)
    page.mouse.dblclick(*corners[-1])
    page.locator("#zoning-name").fill("Cụm công nghiệp Vẽ Thử")
    page.locator("#zoning-status").select_option("planned")
    page.locator("#zoning-save-form button[type=submit]").click()
    page.locator("#toast", has_text="Đã lưu “Cụm công nghiệp Vẽ Thử”").wait_for()

    stored = httpx.get(server + "api/layers/industrial_clusters", timeout=30).json()["features"]
    assert any(f["properties"]["name"] == "Cụm công nghiệp Vẽ Thử" for f in stored)
    page.locator('.tab[data-tab="build"]').click()
    figure = page.locator('.nu-card[data-id="n1"] .zoning-figure[data-field="industrial_cluster_count"]')
    figure.wait_for(timeout=20_000)
    assert int(figure.inner_text().split()[0]) == count_before + 1

    # A night street with impossible hours: refused, said in Vietnamese, nothing stored.
    page.locator('.tab[data-tab="draw"]').click()
    page.locator("#draw-target").select_option("night_streets:line")
    page.locator("#btn-draw-start").click()
    page.mouse.click(*corners[0])
    page.mouse.dblclick(*corners[1])
    page.locator("#zoning-name").fill("Phố đêm Giờ Sai")
    page.locator("#zoning-hours").fill("25:00-26:00")
    page.locator("#zoning-save-form button[type=submit]").click()
    errors = page.locator("#zoning-errors")
    errors.locator("li").first.wait_for()
    assert "chưa lưu gì" in errors.inner_text() and "Giờ hoạt động:" in errors.inner_text()
    names = [f["properties"]["name"] for f in httpx.get(server + "api/layers/night_streets", timeout=30).json()["features"]]
    assert "Phố đêm Giờ Sai" not in names


def test_a_point_cluster_is_accepted_and_clicking_it_shows_its_attributes_not_the_commune(page, server):
    unit = two_neighbouring_units(server)[1]
    open_page(page, server)
    west, south, east, north = unit["geometry"].bounds
    page.evaluate("([b, padding]) => window.__diagioi.map.fitBounds(b, { padding, duration: 0 })",
                  [[[west, south], [east, north]], page.evaluate("window.__diagioi.padding")])
    page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()")
    page.locator('.tab[data-tab="draw"]').click()
    page.locator("#draw-snap").uncheck()
    page.locator("#draw-target").select_option("industrial_clusters:point")
    page.locator("#btn-draw-start").click()
    page.mouse.click(*map_point(page, unit["inside"]))
    page.locator("#zoning-name").fill("Khu công nghiệp Điểm")
    page.locator("#zoning-save-form button[type=submit]").click()
    page.locator("#toast", has_text="Đã lưu “Khu công nghiệp Điểm”").wait_for()

    page.locator('.tab[data-tab="build"]').click()
    page.wait_for_timeout(1500)   # the new tiles are fetched and drawn
    page.wait_for_function("window.__diagioi.map.loaded()")
    page.mouse.click(*map_point(page, unit["inside"]))
    info = page.locator("#unit-info")
    info.locator("h4", has_text="Khu công nghiệp Điểm").wait_for(timeout=20_000)
    assert info.locator("h4").inner_text().startswith("Cụm công nghiệp")
    # Its attributes are edited in place: the server stores the new name, the other attributes stay.
    info.locator("[data-zoning-edit]").click()
    info.locator(".zoning-edit input[name=name]").fill("Khu công nghiệp Điểm Mới")
    info.locator(".zoning-edit select[name=status]").select_option("operating")
    info.locator(".zoning-edit button[type=submit]").click()
    info.locator("h4", has_text="Khu công nghiệp Điểm Mới").wait_for(timeout=20_000)
    stored = [f for f in httpx.get(server + "api/layers/industrial_clusters", timeout=30).json()["features"]
              if f["properties"]["name"] == "Khu công nghiệp Điểm Mới"]
    assert len(stored) == 1 and stored[0]["properties"]["status"] == "operating"
    assert stored[0]["geometry"]["type"] == "Point"


def test_a_line_across_a_unit_splits_it_and_one_piece_becomes_a_drawn_new_unit(page, server):
    unit = two_neighbouring_units(server)[0]
    scenario_id = new_scenario(server, "Chia đôi", [])
    open_page(page, server, scenario_id)
    west, south, east, north = unit["geometry"].bounds
    pad = 0.15 * (east - west)
    page.evaluate("([b, padding]) => window.__diagioi.map.fitBounds(b, { padding, duration: 0 })",
                  [[[west - 2 * pad, south], [east + 2 * pad, north]], page.evaluate("window.__diagioi.padding")])
    page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()")
    page.locator('.tab[data-tab="draw"]').click()
    page.locator("#draw-snap").uncheck()
    page.locator("#draw-target").select_option("split:line")
    page.locator("#btn-draw-start").click()
    x, y = unit["inside"]
    eps = 0.02 * (east - west)
    points = [map_point(page, p) for p in ([west - pad, y], [x - eps, y], [x + eps, y], [east + pad, y])]
    for point in points[:-1]:
        page.mouse.click(*point)
    page.mouse.dblclick(*points[-1])
    pieces = page.locator(".split-pieces li")
    pieces.first.wait_for(timeout=20_000)
    assert pieces.count() >= 2
    first_area = float(pieces.first.inner_text().split(":")[1].split("km²")[0].strip().replace(".", "").replace(",", "."))
    pieces.first.locator("button").click()
    page.locator("#draw-save-name").fill("Phường Nửa Bắc")
    page.locator("#draw-save-form button[type=submit]").click()
    page.locator("#toast").wait_for(state="visible")
    page.wait_for_function("window.__diagioi.state.session.scenario.new_units.length === 1", timeout=30_000)
    stored = httpx.get(server + f"api/scenarios/{scenario_id}", timeout=30).json()["scenario"]["new_units"][0]
    assert stored["name"] == "Phường Nửa Bắc" and stored["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert geodesic_area_km2(shape(stored["geometry"])) == pytest.approx(first_area, abs=0.006)
    assert shape(stored["geometry"]).within(unit["geometry"].buffer(1e-9))


def test_api_errors_follow_the_pages_language_not_the_browsers(browser, server, tmp_path):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")  # an English browser
    context.add_init_script(f"localStorage.setItem('diagioi.token', '{TOKEN}')")
    page = context.new_page()
    table = tmp_path / "co.csv"
    table.write_text("code,mountainous\n99999,1\n", encoding="utf-8")
    try:
        open_page(page, server)
        toast = page.locator("#toast")
        page.locator("#set-flags-file").set_input_files(str(table))
        toast.wait_for(state="visible")
        assert "không khớp với đơn vị nào" in toast.inner_text()  # the page is in Vietnamese
        page.locator("#toast").evaluate("(el) => { el.hidden = true; }")
        page.locator("#lang-select").select_option("en")
        page.wait_for_function("document.documentElement.lang === 'en'")
        page.locator("#set-flags-file").set_input_files(str(table))
        toast.wait_for(state="visible")
        assert "match no unit" in toast.inner_text()
    finally:
        context.close()
