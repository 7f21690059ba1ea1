"""The browser app shows hostile names as text (issue 8, item 4): a scenario and new units named
with HTML that would run script if put into the page as markup."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from helpers.server import serving

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "web-escaping-token"
SCRIPTED = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    env = {"DIAGIOI_TOKEN": TOKEN, "DIAGIOI_HOME": str(tmp_path_factory.mktemp("home"))}
    with serving("--data-dir", str(data_dir), log_path=data_dir / "server.log", env=env) as server:
        yield server.url


def test_hostile_names_are_shown_as_text_not_run(web_server):
    codes = [f["properties"]["code"] for f in httpx.get(web_server + "api/units", timeout=60).json()["features"]][:2]
    scenario = httpx.post(web_server + "api/scenarios", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60, json={
        "name": "</title><script>window.__xss=1</script>" + SCRIPTED,
        "new_units": [{"id": "n1", "name": SCRIPTED, "kind": "commune", "members": codes}]})
    assert scenario.status_code == 201, scenario.text
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        # ?debug=1 exposes the test hook (window.__diagioi) the wait below reads.
        page.goto(web_server + "?debug=1#" + urlencode({"token": TOKEN, "scenario": scenario.json()["id"]}))
        page.wait_for_function("window.__diagioi && window.__diagioi.ready === true", timeout=90_000)
        page.wait_for_timeout(500)  # let the panel render the cards
        injected = page.evaluate("document.querySelectorAll('img[src=\"x\"], script:not([src])').length")
        scripted = page.evaluate("window.__xss")
        shown = page.evaluate("document.body.innerText")
        browser.close()
    assert scripted is None
    assert injected == 0  # the page ships no inline script and no <img src=x>
    assert SCRIPTED in shown
