"""Gợi ý phương án in the app: the open scenario's scope goes to POST /api/scenarios/suggest, the plans come
back as new scenarios in the list and the first two are compared side by side. The solver runs in the
worker pool, so the server keeps answering while it searches. On the sample region (and on the real old
commune layer when ../shared/data is there)."""
from __future__ import annotations

import threading

import httpx
import pytest
from test_browser import TOKEN, api_client, browser, open_page, page, server  # noqa: F401 - fixtures
from test_browser_bac_kan import real_server  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

SAMPLE_DISTRICT = "Huyện Tự Sơn"          # 15 communes of the sample region
REAL_DISTRICT = "Huyện Chợ Đồn"           # 22 communes of the old layer


def scenario_with_scope(base: str, name: str, district: str) -> str:
    with api_client(base) as client:
        response = client.post("api/scenarios", json={
            "name": name, "regime": "R76", "new_units": [],
            "parent": {"name": district, "kind": "district", "scope": {"districts": [district]}}})
        assert response.status_code == 201, response.text
        return response.json()["id"]


def suggest_in_the_page(page, base: str, scenario_id: str, target: str) -> list[dict]:
    """Open the scenario, click Gợi ý phương án, answer the prompt; returns the scenarios made."""
    before = {s["id"] for s in httpx.get(base + "api/scenarios", timeout=30).json()["data"]}
    open_page(page, base, scenario_id)
    prompts = []

    def answer(dialog):
        prompts.append(dialog.message)
        dialog.accept(target)
    page.once("dialog", answer)
    page.locator("#btn-scenario-suggest").click()
    page.locator("#toast", has_text="phương án gợi ý").wait_for(timeout=120_000)
    page.wait_for_function("!document.querySelector('#btn-scenario-suggest').disabled")
    assert prompts and "Số đơn vị mới" in prompts[0]
    return [s for s in httpx.get(base + "api/scenarios", timeout=30).json()["data"] if s["id"] not in before]


def check_the_plans_are_listed_opened_and_compared(page, base: str, made: list[dict], district: str,
                                                   target: int) -> None:
    assert len(made) == 2
    assert all(s["name"].startswith("Gợi ý – ") for s in made)
    listed = page.locator("#scenario-select option").all_inner_texts()
    assert {s["name"] for s in made} <= set(listed)
    # The first plan is open: every unit of the district is in exactly one of its target-many new units.
    shown = page.evaluate("window.__diagioi.state.session.scenario")
    first = next(s["id"] for s in made if s["name"].endswith(" 1"))
    assert page.evaluate("window.__diagioi.state.session.id") == first
    assert page.locator("#scenario-select").input_value() == first
    district_codes = {f["properties"]["code"] for f in httpx.get(
        base + "api/units", params={"district": district, "geometry": "false"}, timeout=60).json()["features"]}
    members = [code for nu in shown["new_units"] for code in nu["members"]]
    assert sorted(members) == sorted(district_codes) and len(shown["new_units"]) == target
    # Compare is open on the two plans, with their names and the map's difference view.
    assert page.locator(".tab.active").get_attribute("data-tab") == "compare"
    assert {page.locator("#compare-a").input_value(), page.locator("#compare-b").input_value()} == {s["id"] for s in made}
    result = page.locator("#compare-result").inner_text()
    assert all(s["name"] in result for s in made)
    assert page.locator("#compare-view").is_visible()
    assert page.evaluate("window.__diagioi.compare.pairs") >= 1


def test_suggest_plans_for_the_scope_from_the_app_and_compare_them(page, server):
    scenario_id = scenario_with_scope(server, "Sắp xếp Tự Sơn", SAMPLE_DISTRICT)
    made = suggest_in_the_page(page, server, scenario_id, "4")
    check_the_plans_are_listed_opened_and_compared(page, server, made, SAMPLE_DISTRICT, 4)


def test_when_the_solver_finds_one_distinct_plan_it_opens_alone(page, server):
    scenario_id = scenario_with_scope(server, "Sắp xếp Tự Sơn (một)", SAMPLE_DISTRICT)
    made = suggest_in_the_page(page, server, scenario_id, "5")   # the second alternative repeats the first
    assert len(made) == 1
    assert page.locator("#toast").inner_text().startswith("Chỉ tìm được 1 phương án gợi ý")
    assert page.locator("#scenario-select").input_value() == made[0]["id"]
    assert len(page.evaluate("window.__diagioi.state.session.scenario.new_units")) == 5


def test_a_target_outside_the_scope_is_refused_in_the_page_and_nothing_is_made(page, server):
    scenario_id = scenario_with_scope(server, "Sắp xếp Tự Sơn (sai)", SAMPLE_DISTRICT)
    before = len(httpx.get(server + "api/scenarios", timeout=30).json()["data"])
    open_page(page, server, scenario_id)
    page.once("dialog", lambda dialog: dialog.accept("99"))
    page.locator("#btn-scenario-suggest").click()
    toast = page.locator("#toast")
    toast.wait_for(state="visible")
    assert "từ 1 đến 15" in toast.inner_text()
    assert len(httpx.get(server + "api/scenarios", timeout=30).json()["data"]) == before


def test_the_server_answers_health_while_a_suggestion_runs(server):
    finished = threading.Event()
    outcome = {}

    def suggest():
        with api_client(server) as client:
            outcome["response"] = client.post("api/scenarios/suggest", timeout=120, json={
                "scope": {"provinces": ["Tỉnh Mẫu (dữ liệu mẫu)"]}, "target_units": 10, "alternatives": 5,
                "seed": 3})
        finished.set()
    worker = threading.Thread(target=suggest)
    worker.start()
    answered_while_running = 0
    while not finished.is_set():
        if httpx.get(server + "api/health", timeout=30).status_code == 200 and not finished.is_set():
            answered_while_running += 1
    worker.join()
    assert outcome["response"].status_code == 200, outcome["response"].text
    assert len(outcome["response"].json()["scenarios"]) >= 2
    assert answered_while_running >= 1


@pytest.mark.real_data
def test_suggest_plans_on_the_real_layer(browser, real_server):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.add_init_script(f"localStorage.setItem('diagioi.token', '{TOKEN}')")
    page = context.new_page()
    try:
        scenario_id = scenario_with_scope(real_server, "Sắp xếp Chợ Đồn", REAL_DISTRICT)
        made = suggest_in_the_page(page, real_server, scenario_id, "7")
        check_the_plans_are_listed_opened_and_compared(page, real_server, made, REAL_DISTRICT, 7)
    finally:
        context.close()
