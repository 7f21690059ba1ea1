"""The building tools in the browser on the sample region, one short test each: the brush and its sizes,
a box selection that takes only units of the scope, "gán phần chưa gán", a whole district assigned from a
unit's card, the compare map (moved units in red), and a real server restart survived without a reload.
Same server and browser fixtures as test_browser.py (Debian's Chromium; skipped without it)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
import shapely
from shapely.geometry import shape

from helpers.server import free_port
from test_browser import (  # noqa: F401 - fixtures
    REPO, TOKEN, api_client, browser, map_point, open_page, page, server,
)

pytestmark = pytest.mark.browser

CITY = "Thành phố Mẫu"          # 8 units of the sample region
MOVED_COLOUR, SAME_COLOUR = "#d7301f", "#bdbdbd"


def units_of(base: str) -> list[dict]:
    """The sample units with their district and a point inside each."""
    features = httpx.get(base + "api/units", timeout=60).json()["features"]
    return [{"code": f["properties"]["code"], "district": f["properties"]["district"], "geometry": shape(f["geometry"]),
             "inside": shapely.get_coordinates(shape(f["geometry"]).representative_point())[0].tolist()}
            for f in features]


def scenario_on(base: str, name: str, district: str | None, members: list[str] = ()) -> str:
    body = {"name": name, "new_units": [{"id": "n1", "name": "Phường Thử Công Cụ", "kind": "ward", "members": list(members)}]}
    if district:
        body["parent"] = {"name": district, "kind": "provincial_city", "scope": {"districts": [district]}}
    with api_client(base) as client:
        response = client.post("api/scenarios", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]


def members_of(base: str, scenario_id: str) -> set[str]:
    evaluation = httpx.get(base + f"api/scenarios/{scenario_id}/evaluation", timeout=60).json()
    return set(evaluation["new_units"][0]["members"])


def fit(page, geometry) -> None:
    west, south, east, north = geometry.bounds
    page.evaluate("([b, padding]) => window.__diagioi.map.fitBounds(b, { padding, duration: 0 })",
                  [[[west, south], [east, north]], page.evaluate("window.__diagioi.padding")])
    page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()", timeout=30_000)
    page.wait_for_timeout(400)


def open_with_active_unit(page, base: str, scenario_id: str) -> None:
    page.goto("about:blank")   # a new page load (the same URL with another #scenario= would not reload)
    open_page(page, base, scenario_id)
    page.locator('.nu-card[data-id="n1"] [data-action="activate"]').click()


def reassigned(page, count: int) -> None:
    page.wait_for_function(f"(window.__diagioi.reassignCount || 0) >= {count}", timeout=30_000)


def test_the_brush_paints_the_units_it_crosses_and_a_larger_size_reaches_more(page, server):
    units = units_of(server)
    city = [u for u in units if u["district"] == CITY]
    first, second = next((a, b) for a in city for b in city
                         if a is not b and a["geometry"].intersection(b["geometry"]).length > 0)
    scenario_id = scenario_on(server, "Cọ", CITY)
    open_with_active_unit(page, server, scenario_id)
    fit(page, shapely.union_all([u["geometry"] for u in units]))
    page.locator('input[name=mode][value=brush]').check()

    # The same spot under the small and the large brush: the large one previews more units.
    previews = {}
    for count, size in enumerate(("10", "50"), start=1):
        page.locator("#brush-size").select_option(size)
        page.mouse.move(*map_point(page, first["inside"]))
        page.mouse.down()
        previews[size] = page.evaluate("window.__diagioi.previewCount")
        page.mouse.up()
        reassigned(page, count)
    assert previews["10"] >= 1 and previews["50"] > previews["10"]

    # A stroke with the small brush from one unit into its neighbour takes both, and only units of the scope.
    scenario_id = scenario_on(server, "Cọ nét", CITY)
    open_with_active_unit(page, server, scenario_id)
    fit(page, shapely.union_all([u["geometry"] for u in units]))
    page.locator('input[name=mode][value=brush]').check()
    page.locator("#brush-size").select_option("10")
    start, end = map_point(page, first["inside"]), map_point(page, second["inside"])
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=12)
    page.mouse.up()
    reassigned(page, 1)
    taken = members_of(server, scenario_id)
    assert {first["code"], second["code"]} <= taken, page.locator("#toast").inner_text()
    assert taken <= {u["code"] for u in city}


def test_a_box_selection_takes_only_the_units_of_the_scope(page, server):
    units = units_of(server)
    city = {u["code"] for u in units if u["district"] == CITY}
    scenario_id = scenario_on(server, "Khoanh vùng", CITY)
    open_with_active_unit(page, server, scenario_id)
    fit(page, shapely.union_all([u["geometry"] for u in units]))
    box = page.locator("#map").bounding_box()
    page.keyboard.down("Shift")
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 300, box["y"] + box["height"] - 5, steps=8)
    # The preview outlines what the box will take: the whole visible city, nothing outside it.
    assert page.evaluate("window.__diagioi.previewCount") == len(city)
    assert page.locator("#hover-info").inner_text() == f"Sẽ gán {len(city)} xã/phường (thả chuột để gán)"
    page.mouse.up()
    page.keyboard.up("Shift")
    reassigned(page, 1)
    assert members_of(server, scenario_id) == city


def test_fill_the_unassigned_units_of_the_scope_into_the_selected_new_unit(page, server):
    units = units_of(server)
    city = sorted(u["code"] for u in units if u["district"] == CITY)
    scenario_id = scenario_on(server, "Gán phần còn lại", CITY, members=city[:1])
    open_with_active_unit(page, server, scenario_id)
    counter = page.locator("#scope-counter")
    assert f"Phạm vi: {len(city)} xã/phường · đã gán 1 · giữ nguyên {len(city) - 1}" in counter.inner_text()
    counter.locator("#btn-fill-unassigned").click()
    reassigned(page, 1)
    assert members_of(server, scenario_id) == set(city)
    page.wait_for_function("window.__diagioi.scopeCounter.kept === 0")
    assert f"đã gán {len(city)} · giữ nguyên 0" in counter.inner_text()
    assert counter.locator("#btn-fill-unassigned").is_disabled()


def test_assign_a_whole_district_from_a_unit_card(page, server):
    units = units_of(server)
    one = next(u for u in units if u["district"] == "Huyện Quý Hòa")
    district = {u["code"] for u in units if u["district"] == "Huyện Quý Hòa"}
    scenario_id = scenario_on(server, "Cả huyện", None)
    open_with_active_unit(page, server, scenario_id)
    page.locator('input[name=mode][value=inspect]').check()
    fit(page, one["geometry"].buffer(0.02))
    page.mouse.click(*map_point(page, one["inside"]))
    button = page.locator(f'#unit-info [data-unit-action="district"][data-code="{one["code"]}"]')
    assert button.inner_text().startswith("Gán cả Huyện Quý Hòa")
    button.click()
    reassigned(page, 1)
    assert members_of(server, scenario_id) == district


def test_the_compare_map_shows_the_moved_units_in_red(page, server):
    units = units_of(server)
    city = sorted(u["code"] for u in units if u["district"] == CITY)
    moved = city[-1]
    with api_client(server) as client:
        ids = [client.post("api/scenarios", json={"name": name, "new_units": [
            {"id": "n1", "name": "Phường Bắc", "kind": "ward", "members": city[:4] + extra},
            {"id": "n2", "name": "Phường Nam", "kind": "ward", "members": [c for c in city[4:] if c not in extra]}]}).json()["id"]
            for name, extra in (("So sánh A", []), ("So sánh B", [moved]))]
    open_page(page, server, ids[0])
    page.locator('.tab[data-tab="compare"]').click()
    page.locator("#compare-a").select_option(ids[0])
    page.locator("#compare-b").select_option(ids[1])
    page.locator("#btn-compare").click()
    page.wait_for_function("window.__diagioi.compare && window.__diagioi.compare.moved === 1")
    fill_of = ("code => window.__diagioi.map.getFeatureState({source: 'units', sourceLayer: "
               "window.__diagioi.state.sourceLayer, id: code}).fill")
    assert page.evaluate(fill_of, moved) == MOVED_COLOUR
    assert page.evaluate(fill_of, city[0]) == SAME_COLOUR
    assert "đổi đơn vị mới giữa A và B" in page.locator("#legend").inner_text()
    # Plan B on the map: the moved unit takes the colour of B's first new unit, like the others of it.
    page.locator('input[name=compare-view][value=b]').check()
    page.wait_for_timeout(200)
    assert page.evaluate(fill_of, moved) == page.evaluate(fill_of, city[0]) != MOVED_COLOUR


@pytest.fixture()
def restartable_server(tmp_path):
    """A server the test stops and starts again on the same port, data directory and key."""
    data_dir, port = tmp_path / "data", free_port()
    env = {**os.environ, "DIAGIOI_TOKEN": TOKEN, "DIAGIOI_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}
    code = f"from diagioi.api.server import run_server; run_server('127.0.0.1', {port}, {str(data_dir)!r}, None, None)"
    base = f"http://127.0.0.1:{port}/"
    processes = []

    def start():
        log = open(tmp_path / f"server-{len(processes)}.log", "w")
        processes.append(subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=log,
                                          stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert processes[-1].poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)

    def stop():
        processes[-1].terminate()
        processes[-1].wait(timeout=15)

    start()
    yield base, start, stop
    if processes[-1].poll() is None:
        stop()


def test_the_page_recovers_after_a_server_restart_without_a_reload(page, restartable_server):
    base, start, stop = restartable_server
    units = units_of(base)
    scenario_id = scenario_on(base, "Khởi động lại", None)
    open_with_active_unit(page, base, scenario_id)
    page.evaluate("window.__notReloaded = true")
    page.locator('input[name=mode][value=assign]').check()
    fit(page, units[0]["geometry"].buffer(0.02))

    stop()
    page.mouse.click(*map_point(page, units[0]["inside"]))
    toast = page.locator("#toast")
    toast.wait_for(state="visible")
    assert "Không kết nối được máy chủ" in toast.inner_text()

    start()
    # The page notices the server is back, reloads the scenario and offers the retry: the edit lands.
    page.locator("#toast", has_text="Đã kết nối lại máy chủ").wait_for(timeout=30_000)
    page.locator("#toast button", has_text="Thử lại").click()
    reassigned(page, 1)
    assert members_of(base, scenario_id) == {units[0]["code"]}
    assert page.evaluate("window.__notReloaded === true")
