"""The web app opens a PMTiles archive read-only: ``/?pmtiles=URL`` (issue 13).

The archive is written by ``diagioi tiles export`` from a store holding the sample region, its
example scenario and zoning layers; the browser fetches it with HTTP range requests (answered by
a Playwright route, as a static host or CDN would) and draws its layers without a single API request.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from test_browser import browser, server  # noqa: F401  (fixtures: Chromium, a diagioi server for the page)

from diagioi.api.service import Service
from diagioi.api.settings import Settings
from diagioi.api.tiles_export import export_tiles

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, str, dict]:
    """(file, scenario id, {unit code: population}) of an archive of the seeded sample store."""
    folder = tmp_path_factory.mktemp("archive")
    service = Service(Settings(data_dir=folder / "data", token="t"))
    scenario_id = service.store.list_scenarios()[0].scenario_id
    out = folder / "ban-do.pmtiles"
    export_tiles(out, scenario=scenario_id, minzoom=6, maxzoom=13, data_dir=folder / "data")
    populations = {str(code): int(population) for code, population in service.units.gdf["population"].items()}
    return out, scenario_id, populations


def _serve_with_ranges(page, url_path: str, path: Path) -> list[str]:
    """Answer requests for ``url_path`` with the file ``path``, honouring Range requests (206); returns the
    ranges asked."""
    content = path.read_bytes()
    asked: list[str] = []

    def handle(route):
        header = route.request.headers.get("range")
        asked.append(header or "")
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", header or "")
        if not match:
            route.fulfill(status=200, body=content, headers={"Content-Type": "application/octet-stream"})
            return
        start, end = int(match[1]), min(int(match[2]), len(content) - 1)
        route.fulfill(status=206, body=content[start:end + 1], headers={
            "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes",
            "Content-Range": f"bytes {start}-{end}/{len(content)}", "Content-Length": str(end - start + 1)})

    page.route(lambda url: urlparse(url).path == url_path, handle)
    return asked


@pytest.mark.parametrize("width,height", [(1400, 900), (390, 844)])
def test_the_page_shows_a_pmtiles_archive_read_only_without_the_api(browser, server, archive, width, height):  # noqa: F811
    path, scenario_id, populations = archive
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    asked = _serve_with_ranges(page, "/static/ban-do.pmtiles", path)
    try:
        page.goto(server + "?debug=1&pmtiles=/static/ban-do.pmtiles")
        page.wait_for_function("window.__diagioi && window.__diagioi.ready === true", timeout=60_000)

        # Read with range requests, and nothing asked of the API: the page is a static viewer here.
        assert asked and all(a.startswith("bytes=") for a in asked)
        assert not [url for url in requests if "/api/" in url]
        # Every layer of the archive is drawn; the edit controls are gone; the notice says "view only".
        layers = page.evaluate("window.__diagioi.map.getStyle().layers.map((l) => l.id)")
        for expected in ("units-fill", f"scenario-{scenario_id}-fill", "industrial_clusters-fill",
                         "tourism_sites-point", "night_streets-line"):
            assert expected in layers
        assert page.locator("#btn-scenario-new").is_hidden()
        assert page.locator("#side").is_hidden()
        assert "Chỉ xem" in page.locator("#basemap-note").inner_text()

        # The units in the archive carry the store's figures.
        shown = page.evaluate("""() => window.__diagioi.map.querySourceFeatures('archive', {sourceLayer: 'units'})
            .map((f) => [f.properties.code, f.properties.population])""")
        assert shown
        for code, population in shown:
            assert population == populations[code]
        new_units = page.evaluate(f"""() => window.__diagioi.map.querySourceFeatures('archive',
            {{sourceLayer: 'scenario-{scenario_id}'}}).map((f) => f.properties.new_unit_id)""")
        assert new_units

        # A click on the map shows the attributes of what is under it.
        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector(".maplibregl-popup", timeout=10_000)
        assert "Dân số (người)" in page.locator(".maplibregl-popup").inner_text()
        page.screenshot(path=f"/tmp/diagioi-pmtiles-{width}.png")
    finally:
        context.close()
