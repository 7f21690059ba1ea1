"""The browser app driven by Playwright in Debian's Chromium against a real ``diagioi`` server.

The server runs in a subprocess on a free port with a temporary data directory and the sample
region; the write token is passed as DIAGIOI_TOKEN and the page is opened with the login URL
(``…/#token=…``) that ``diagioi serve`` prints, as a planner does. Skips cleanly when Chromium or Playwright is missing.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode, urlparse

import httpx
import pytest
import shapely
from helpers.server import serving
from shapely.geometry import shape

from diagioi.geo.area import geodesic_area_km2

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TOKEN = "browser-test-token"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Base URL of a diagioi server on the sample region, with its own data directory."""
    data_dir = tmp_path_factory.mktemp("data")
    env = {"DIAGIOI_TOKEN": TOKEN, "DIAGIOI_HOME": str(tmp_path_factory.mktemp("home"))}
    with serving("--data-dir", str(data_dir), log_path=data_dir / "server.log", env=env) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.requests_seen = []
    page.on("request", lambda request: page.requests_seen.append(request.url))
    yield page
    context.close()


def open_page(page, server, scenario_id: str | None = None, *, log_in: bool = True) -> None:
    """Open the app, by default through the login URL (the token in the fragment). ?debug=1 exposes
    window.__diagioi (timings and handles) for tests; the page works the same without it."""
    fragment = urlencode({**({"token": TOKEN} if log_in else {}), **({"scenario": scenario_id} if scenario_id else {})})
    page.goto(server + "?debug=1" + (f"#{fragment}" if fragment else ""))
    page.wait_for_function("window.__diagioi && window.__diagioi.ready === true", timeout=60_000)


def api_client(server) -> httpx.Client:
    return httpx.Client(base_url=server, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)


def two_neighbouring_units(server) -> list[dict]:
    """Two units of the sample layer that share a border, with a point inside each."""
    features = httpx.get(server + "api/units", timeout=60).json()["features"]
    geometries = [shape(f["geometry"]) for f in features]
    for i, first in enumerate(geometries):
        for j in range(i + 1, len(geometries)):
            if first.intersection(geometries[j]).length > 0:
                return [{"code": str(features[k]["properties"]["code"]), "geometry": geometries[k],
                         "inside": shapely.get_coordinates(geometries[k].representative_point())[0].tolist()}
                        for k in (i, j)]
    raise AssertionError("the sample layer has no two neighbouring units")


def parse_vi_number(text: str) -> float:
    """'67.141' → 67141, '18,77' → 18.77 (Vietnamese grouping and decimal marks)."""
    return float(text.strip().replace(".", "").replace("\u202f", "").replace(",", "."))


def map_point(page, lon_lat) -> tuple[float, float]:
    """Page coordinates of a lon/lat on the map canvas."""
    box = page.locator("#map").bounding_box()
    x, y = page.evaluate("([lon, lat]) => { const p = window.__diagioi.map.project([lon, lat]); return [p.x, p.y]; }",
                         list(lon_lat))
    return box["x"] + x, box["y"] + y


def test_page_loads_with_no_request_to_other_hosts_and_draws_the_map(page, server):
    open_page(page, server)

    hosts = {urlparse(url).hostname for url in page.requests_seen if urlparse(url).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {"127.0.0.1"}
    other_schemes = {urlparse(url).scheme for url in page.requests_seen} - {"http", "blob", "data"}
    assert other_schemes == set()
    # The units tiles were fetched, so the map is drawn from vector tiles.
    assert any(re.search(r"/api/tiles/units/\d+/\d+/\d+\.mvt", url) for url in page.requests_seen)

    # Not blank: the canvas has several colours and a real spread of brightness.
    stats = page.evaluate("""() => {
        const source = window.__diagioi.map.getCanvas();
        const canvas = document.createElement('canvas');
        canvas.width = source.width; canvas.height = source.height;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(source, 0, 0);
        const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let sum = 0, sumSq = 0, n = 0; const colours = new Set();
        for (let i = 0; i < data.length; i += 4 * 7) {
            const lum = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
            sum += lum; sumSq += lum * lum; n += 1;
            colours.add((data[i] >> 4) * 256 + (data[i + 1] >> 4) * 16 + (data[i + 2] >> 4));
        }
        const mean = sum / n;
        return { variance: sumSq / n - mean * mean, colours: colours.size };
    }""")
    assert stats["variance"] > 100.0
    assert stats["colours"] >= 6
    page.screenshot(path="/tmp/diagioi-test-map.png")


def test_the_login_url_keeps_the_token_and_leaves_the_address_bar(browser, server):
    context = browser.new_context()   # a browser that has never seen the token
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    open_page(page, server, "no-such-scenario")
    # Stored for later visits; gone from the address bar and from the history entry; other
    # fragment parameters stay; never sent to the server.
    assert page.evaluate("localStorage.getItem('diagioi.token')") == TOKEN
    assert page.evaluate("window.location.href") == server + "?debug=1#scenario=no-such-scenario"
    assert TOKEN not in page.evaluate("JSON.stringify(history.state)")
    assert not any(TOKEN in url for url in requests)
    # Next visit without the login URL: still logged in, no dialog.
    open_page(page, server, log_in=False)
    assert page.evaluate("localStorage.getItem('diagioi.token')") == TOKEN
    assert not page.locator("#token-dialog").evaluate("d => d.open")
    context.close()


def test_assigning_two_units_shows_the_merged_area_and_population_of_the_api(page, server):
    first, second = two_neighbouring_units(server)
    with api_client(server) as client:
        created = client.post("api/scenarios", json={
            "name": "Browser test merger", "new_units": [{"id": "n1", "name": "Phường Ghép Thử", "kind": "ward",
                                                          "members": []}]})
        assert created.status_code == 201
        scenario_id = created.json()["id"]
    open_page(page, server, scenario_id)
    union = first["geometry"].union(second["geometry"])
    west, south, east, north = union.bounds
    page.evaluate("([b, padding]) => window.__diagioi.map.fitBounds(b, { padding, duration: 0 })",
                  [[[west, south], [east, north]], page.evaluate("window.__diagioi.padding")])
    page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()")
    page.wait_for_timeout(300)

    page.locator('.nu-card[data-id="n1"] [data-action="activate"]').click()
    for count, unit in enumerate((first, second), start=1):
        page.mouse.click(*map_point(page, unit["inside"]))
        page.wait_for_function(f"(window.__diagioi.reassignCount || 0) >= {count}", timeout=20_000)

    evaluation = httpx.get(server + f"api/scenarios/{scenario_id}/evaluation", timeout=60).json()
    merged = evaluation["new_units"][0]
    assert sorted(merged["members"]) == sorted([first["code"], second["code"]])
    card = page.locator('.nu-card[data-id="n1"]')
    assert parse_vi_number(card.locator(".fig-population").inner_text()) == pytest.approx(merged["population"], abs=0.5)
    assert parse_vi_number(card.locator(".fig-area-computed").inner_text()) == pytest.approx(merged["area_km2"], abs=0.006)
    # The merged area is the two units' geodesic areas added (they share a border, no overlap).
    assert merged["area_km2"] == pytest.approx(geodesic_area_km2(first["geometry"]) + geodesic_area_km2(second["geometry"]),
                                               rel=1e-3)
    update_ms = page.evaluate("window.__diagioi.timings.lastPanelUpdateMs")
    assert update_ms > 0.0  # measured (the budget is checked in benchmarks/bench_browser.py)


def test_stale_page_reloads_and_tells_the_user_after_a_conflict(page, server):
    first, _second = two_neighbouring_units(server)
    with api_client(server) as client:
        scenario = client.post("api/scenarios", json={
            "name": "Conflict test", "new_units": [{"id": "n1", "name": "Xã Thử", "kind": "commune", "members": []}]}).json()
        open_page(page, server, scenario["id"])
        # Someone else saves a new version while the page is open.
        body = {**scenario["scenario"], "name": "Conflict test (edited elsewhere)", "version": scenario["version"]}
        assert client.put(f"api/scenarios/{scenario['id']}", json=body).status_code == 200
    page.locator('.nu-card[data-id="n1"] [data-action="activate"]').click()
    page.evaluate("(code) => window.__diagioi.state.session.reassign({[code]: 'n1'}).catch((e) => { window.__lastError = e.message; })",
                  first["code"])
    page.wait_for_function("window.__lastError !== undefined", timeout=20_000)
    assert page.evaluate("window.__diagioi.state.session.scenario.name") == "Conflict test (edited elsewhere)"
    assert page.evaluate("window.__diagioi.state.session.version") == scenario["version"] + 1


def test_drawing_a_polygon_shows_its_geodesic_area(page, server):
    open_page(page, server)
    page.locator('.tab[data-tab="draw"]').click()
    page.locator("#draw-snap").uncheck()   # exact clicks, so the area can be checked independently
    page.locator("#btn-draw-start").click()
    box = page.locator("#map").bounding_box()
    corners = [(0.30, 0.30), (0.55, 0.28), (0.58, 0.60), (0.32, 0.65)]
    points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in corners]
    for x, y in points[:-1]:
        page.mouse.click(x, y)
    page.mouse.dblclick(*points[-1])
    page.wait_for_selector("#draw-area", timeout=20_000)

    polygon = page.evaluate("window.__diagioi.state.draw.polygon()")
    assert len(polygon["coordinates"][0]) == 5  # four vertices, closed
    expected_km2 = geodesic_area_km2(shape(polygon))
    shown_km2 = parse_vi_number(page.locator("#draw-area").inner_text())
    assert shown_km2 == pytest.approx(expected_km2, abs=0.006)
    assert expected_km2 > 1.0
    assert page.locator("#draw-result").inner_text().count("ước tính") == 2  # population and density


def test_xlsx_export_downloads_and_opens(page, server, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    with api_client(server) as client:
        scenario_id = client.post("api/scenarios", json={
            "name": "Export test", "new_units": [{"id": "n1", "name": "Phường Xuất Thử", "kind": "ward",
                                                  "members": [two_neighbouring_units(server)[0]["code"]]}]}).json()["id"]
    open_page(page, server, scenario_id)
    page.locator('.tab[data-tab="export"]').click()
    with page.expect_download() as download_info:
        page.locator('#export-links a[data-format="xlsx"]').click()
    path = tmp_path / "export.xlsx"
    download_info.value.save_as(path)

    workbook = openpyxl.load_workbook(path)
    cells = [str(cell.value) for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row
             if cell.value is not None]
    assert any("Phường Xuất Thử" in value for value in cells)


def test_a_browser_save_keeps_the_fields_the_page_does_not_edit(page, server):
    first, second = two_neighbouring_units(server)
    body = {
        "name": "Giữ cờ vùng", "regime": "R1211",
        "parent": {"name": "Thành phố Mẫu", "kind": "provincial_city", "scope": {"codes": [first["code"]]}},
        "context": {"mountainous": True, "ethnic_minority_share": 0.4},
        "unit_flags": {second["code"]: {"border": True}},
        "new_units": [{"id": "n1", "name": "Xã Thử", "kind": "commune", "members": [first["code"]],
                       "mountainous": True, "border": True, "island": False, "central_city": False,
                       "red_river_delta": True, "note": "ghi chú của người lập"}],
    }
    with api_client(server) as client:
        created = client.post("api/scenarios", json=body)
        assert created.status_code == 201, created.text
        scenario = created.json()
        open_page(page, server, scenario["id"])
        page.evaluate("() => window.__diagioi.state.session.renameNewUnit('n1', 'Xã Đổi Tên')")
        stored = client.get(f"api/scenarios/{scenario['id']}").json()
    assert stored["version"] == scenario["version"] + 1
    expected = {**body, "new_units": [{**body["new_units"][0], "name": "Xã Đổi Tên"}],
                "dataset": scenario["units_version"]}  # recorded by the service on the first save
    assert stored["scenario"] == expected
