"""The browser panel speaks Vietnamese: cards, standards (with their tooltips), totals and warnings."""
from __future__ import annotations

import pytest

from tests.language_check import check_texts, english_words
from tests.web.test_browser import browser, open_page, page, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_the_panel_of_the_example_scenario_has_no_english(page, server):
    open_page(page, server)
    page.wait_for_selector("#new-units tr.std-pass, #new-units tr.std-fail, #new-units tr.std-exempt", timeout=60_000)

    texts = page.evaluate("""() => {
        const parts = [];
        for (const id of ["new-units", "totals", "warnings"]) {
            const el = document.getElementById(id);
            if (el) parts.push(...el.innerText.split("\\n"));
        }
        // a standard's legal basis and notes are read as a tooltip
        for (const el of document.querySelectorAll("#new-units [title]")) parts.push(el.getAttribute("title"));
        return parts.map((t) => t.trim()).filter(Boolean);
    }""")
    assert len(texts) > 10
    check_texts(texts, "the browser panel")
    assert any("Nghị quyết" in text for text in texts)      # citations in Vietnamese
    assert not any("≥" not in text and ">=" in text for text in texts)


def test_the_panel_speaks_english_when_the_reader_switches(page, server):
    open_page(page, server)
    page.select_option("#lang-select", "en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.wait_for_selector("#new-units tr.std-pass, #new-units tr.std-fail, #new-units tr.std-exempt")
    tooltips = page.evaluate("""() => [...document.querySelectorAll("#new-units [title]")]
        .map((el) => el.getAttribute("title")).filter(Boolean)""")
    assert any("Res. 76/2025/UBTVQH15" in text for text in tooltips)
    assert any(english_words(text) for text in tooltips)
