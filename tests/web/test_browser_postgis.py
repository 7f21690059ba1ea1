"""The browser app end to end on the PostGIS store: ``diagioi serve --store postgresql://…`` (issue 13).

A planner creates a scenario, makes a unit a ward, assigns its neighbour by clicking the map, reads
the figures, reloads the page and finds the scenario as it was — stored in PostGIS (read back with
SQL). Runs when DIAGIOI_TEST_POSTGRES names a PostGIS server (``.ci/run`` starts one), else skips.
"""
from __future__ import annotations

import httpx
import pytest
from test_browser import CHROMIUM_ARGS, CHROMIUM, TOKEN, map_point, open_page, parse_vi_number, two_neighbouring_units

from helpers.server import serving
from tests.store.store_helpers import fresh_schema, postgis_dsn_or_skip

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")


@pytest.fixture(scope="module")
def postgis_server(request, tmp_path_factory):
    dsn = postgis_dsn_or_skip(request.config)
    schema, cleanup = fresh_schema(dsn)
    folder = tmp_path_factory.mktemp("postgis-server")
    try:
        with serving("--store", f"{dsn}#{schema}", "--data-dir", str(folder / "data"),
                     log_path=folder / "server.log", env={"DIAGIOI_TOKEN": TOKEN}) as server:
            yield server.url, dsn, schema
    finally:
        cleanup()


def test_an_edit_in_the_browser_on_postgis_is_stored_and_still_there_after_a_reload(postgis_server):
    import psycopg

    base, dsn, schema = postgis_server
    assert httpx.get(base + "api/health", timeout=30).json()["store"] == "postgis"
    first, second = two_neighbouring_units(base)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            open_page(page, base)
            # 1. A new scenario from the "Mới" dialog.
            page.click("#btn-scenario-new")
            page.fill("#ns-name", "Phương án trên PostGIS")
            page.click("#new-scenario-form button[value=ok]")
            page.wait_for_function("window.__diagioi.state.session.scenario && "
                                   "window.__diagioi.state.session.scenario.name === 'Phương án trên PostGIS'",
                                   timeout=60_000)
            scenario_id = page.evaluate("window.__diagioi.state.session.id")
            # 2. The first unit becomes a ward of its own (search → "→ Phường").
            unit_name = next(f["properties"]["name"] for f in httpx.get(base + "api/units", timeout=30).json()["features"]
                             if str(f["properties"]["code"]) == first["code"])
            page.fill("#search-input", unit_name)
            page.click(f'#search-results li[data-code="{first["code"]}"] [data-action="ward"]')
            page.wait_for_function("window.__diagioi.state.session.scenario.new_units.length === 1", timeout=60_000)
            # 3. Its neighbour joins it by a click on the map.
            union = first["geometry"].union(second["geometry"])
            west, south, east, north = union.bounds
            page.evaluate("([b, padding]) => window.__diagioi.map.fitBounds(b, { padding, duration: 0 })",
                          [[[west, south], [east, north]], page.evaluate("window.__diagioi.padding")])
            page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()")
            page.wait_for_timeout(300)
            new_unit_id = page.evaluate("window.__diagioi.state.session.scenario.new_units[0].id")
            page.locator(f'.nu-card[data-id="{new_unit_id}"] [data-action="activate"]').click()
            before = page.evaluate("window.__diagioi.reassignCount || 0")
            page.mouse.click(*map_point(page, second["inside"]))
            page.wait_for_function(f"(window.__diagioi.reassignCount || 0) > {before}", timeout=30_000)

            # 4. The figures on the card are the API's evaluation of the stored scenario.
            evaluation = httpx.get(base + f"api/scenarios/{scenario_id}/evaluation", timeout=60).json()
            merged = evaluation["new_units"][0]
            assert sorted(merged["members"]) == sorted([first["code"], second["code"]])
            card = page.locator(f'.nu-card[data-id="{new_unit_id}"]')
            assert parse_vi_number(card.locator(".fig-population").inner_text()) == pytest.approx(
                merged["population"], abs=0.5)

            # 5. Reload: the same scenario, members and figures, from the store.
            page.reload()
            page.wait_for_function("window.__diagioi && window.__diagioi.ready === true", timeout=60_000)
            assert page.evaluate("window.__diagioi.state.session.id") == scenario_id
            members = page.evaluate("window.__diagioi.state.session.scenario.new_units[0].members")
            assert sorted(members) == sorted([first["code"], second["code"]])
            card = page.locator(f'.nu-card[data-id="{new_unit_id}"]')
            assert parse_vi_number(card.locator(".fig-population").inner_text()) == pytest.approx(
                merged["population"], abs=0.5)
            page.screenshot(path="/tmp/diagioi-postgis-browser.png")
        finally:
            browser.close()

    # The scenario is in PostGIS, not in a file of the data folder.
    with psycopg.connect(dsn) as connection:
        body = connection.execute(f'SELECT body::text FROM "{schema}".scenarios WHERE scenario_id = %s',
                                  (scenario_id,)).fetchone()
    assert body is not None and first["code"] in body[0] and second["code"] in body[0]
