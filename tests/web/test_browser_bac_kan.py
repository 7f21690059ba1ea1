"""The Bắc Kạn case in the browser on the real old commune layer (skipped without ../shared/data):
scope = Thành phố Bắc Kạn, R1211, mountainous; Dương Quang becomes a ward; Cẩm Giàng (Bạch Thông)
is annexed as a ward — in at most 10 user actions from an empty scenario, with the city's four
standards read from the page."""
from __future__ import annotations


import httpx
import pytest

from helpers.server import serving
from test_browser import CHROMIUM_ARGS, TOKEN, browser, open_page, parse_vi_number  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.real_data]

OLD_LAYER = "pre2025_communes_census2009_bk_tn_bg_bn.geojson"


@pytest.fixture(scope="module")
def real_server(shared_data, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data-real")
    env = {"DIAGIOI_TOKEN": TOKEN, "DIAGIOI_HOME": str(tmp_path_factory.mktemp("home"))}
    with serving("--data-dir", str(data_dir), "--units", str(shared_data / OLD_LAYER),
                 log_path=data_dir / "server.log", env=env, start_timeout_s=180) as server:
        yield server.url


class Actions:
    """Counts what the planner does: each click, choice or typed search is one action."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def click(self, selector):
        self.count += 1
        self.page.locator(selector).first.click()

    def select(self, selector, value):
        self.count += 1
        self.page.locator(selector).select_option(value)

    def check(self, selector):
        self.count += 1
        self.page.locator(selector).check()

    def type(self, selector, text):
        self.count += 1
        self.page.locator(selector).fill(text)


def test_the_bac_kan_case_in_at_most_ten_actions_with_the_city_standards_on_the_page(browser, real_server):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.add_init_script(f"localStorage.setItem('diagioi.token', '{TOKEN}')")
    page = context.new_page()
    try:
        open_page(page, real_server)
        act = Actions(page)
        act.click("#btn-scenario-new")
        act.select("#ns-district", "Tỉnh Bắc Kạn|Thành Phố Bắc Kạn")
        act.select("#ns-regime", "R1211")
        act.check("#ns-mountainous")
        act.click("#new-scenario-form button[value=ok]")
        page.wait_for_function("window.__diagioi.state.session.scenario && window.__diagioi.state.session.scenario.regime === 'R1211'",
                               timeout=60_000)
        for query, code in (("duong quang", "01849"), ("cam giang", "02008")):
            act.type("#search-input", query)
            before = page.evaluate("window.__diagioi.state.session.scenario.new_units.length")
            act.click(f'#search-results li[data-code="{code}"] [data-action="ward"]')
            page.wait_for_function(f"window.__diagioi.state.session.scenario.new_units.length === {before + 1}", timeout=60_000)
        assert act.count <= 10

        scenario_id = page.evaluate("window.__diagioi.state.session.id")
        stored = httpx.get(real_server + f"api/scenarios/{scenario_id}", timeout=60).json()["scenario"]
        assert stored["regime"] == "R1211" and stored["context"] == {"mountainous": True}
        assert stored["parent"]["kind"] == "provincial_city" and stored["parent"]["name"] == "Thành Phố Bắc Kạn"
        assert sorted((nu["name"], nu["kind"], nu["members"]) for nu in stored["new_units"]) == [
            ("Phường Cẩm Giàng", "ward", ["02008"]), ("Phường Dương Quang", "ward", ["01849"])]

        # The city's standards, as the page shows them, are those of the API's evaluation.
        evaluation = httpx.get(real_server + f"api/scenarios/{scenario_id}/evaluation", timeout=120).json()
        expected = {s["criterion"]: s for s in evaluation["totals"]["parent"]["standards"]}
        assert set(expected) == {"area_km2", "population", "subunits", "ward_share"}
        rows = page.locator("#totals table.standards tbody tr")
        assert rows.count() == 4
        shown = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(4)]
        for text, standard in zip(shown, evaluation["totals"]["parent"]["standards"]):
            digits = 1 if abs(standard["threshold"]) < 100 else 0
            assert parse_vi_number(text) == pytest.approx(standard["value"], abs=0.6 * 10 ** -digits)
        # The scope counter: 8 units of the city, 1 taken (Dương Quang), 7 kept; 1 annexed from Bạch Thông.
        assert stored["parent"]["scope"] == {"provinces": ["Tỉnh Bắc Kạn"], "districts": ["Thành Phố Bắc Kạn"]}
        assert page.evaluate("window.__diagioi.scopeCounter") == {
            "scope": 8, "taken": 1, "kept": 7, "keptPopulation": 5121 + 3623 + 5798 + 3159 + 3458 + 2757 + 2400,
            "annexed": 1}
        page.screenshot(path="/tmp/diagioi-bac-kan.png")
    finally:
        context.close()
