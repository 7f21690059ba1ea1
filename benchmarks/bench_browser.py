"""Browser timings of the web app in headless Debian Chromium (software rendering, no GPU).

    python benchmarks/bench_browser.py            # demo region + 10,000-unit generated country
    python benchmarks/bench_browser.py --no-country

Prints a table; asserts nothing. Budgets (issue 5): first map paint on the demo ≤ 2 s; panel
update after a reassignment ≤ 150 ms; panning the 10,000-unit country smooth.

* first paint: ``performance.now()`` at the first map "idle" after the units layer was added
  (time since navigation start; tiles, style and figures loaded and drawn), median of runs.
* panel update: from the click handler to the panel and the colours being updated with the
  answer of POST /reassign (``window.__diagioi.timings.lastPanelUpdateMs``), median and max.
* click → panel: from the browser's click event on a unit (inspect mode) to its figures in the
  panel (``window.__diagioi.timings.lastClickToPanelMs``), median and max.
* real layer: the same on the 661-unit old commune layer of ../shared/data when present.
* panning: frame intervals (requestAnimationFrame) while the map pans by 600 px in 1.5 s,
  several times, at a zoom where every unit of a province is drawn; fps and slowest frame.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import shapely
from shapely.geometry import shape

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``run_server`` in a subprocess on a free port with a temporary data directory."""

    def __init__(self, units_path: Path | None, workdir: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        data_dir = workdir / f"data-{self.port}"
        env = {**os.environ, "DIAGIOI_TOKEN": TOKEN, "DIAGIOI_HOME": str(workdir / "home"), "PYTHONPATH": str(REPO)}
        units = repr(str(units_path)) if units_path else "None"
        code = f"from diagioi.api.server import run_server; run_server('127.0.0.1', {self.port}, {str(data_dir)!r}, {units}, None)"
        self.log = open(workdir / f"server-{self.port}.log", "w")
        self.process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(self.base + "api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start; see {self.log.name}")
            time.sleep(0.5)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


def new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    return context, context.new_page()


def open_ready(page, url: str) -> tuple[float, float]:
    """(first map paint, page ready with the scenario's colours and figures), ms since navigation.
    The page is opened with the login URL that ``diagioi serve`` prints (the token in the fragment), and
    ?debug=1, which exposes window.__diagioi (timings, map)."""
    base, _, fragment = url.partition("#")
    page.goto(base + ("&" if "?" in base else "?") + "debug=1#" + (f"{fragment}&" if fragment else "") + f"token={TOKEN}")
    page.wait_for_function("window.__diagioi && window.__diagioi.ready === true", timeout=300_000)
    timings = page.evaluate("window.__diagioi.timings")
    return timings["firstPaintMs"], timings["readyMs"]


def first_paint(browser, server: Server, runs: int) -> tuple[list[float], list[float]]:
    paints, readies = [], []
    for _ in range(runs):
        context, page = new_page(browser)
        paint, ready = open_ready(page, server.base)
        paints.append(paint)
        readies.append(ready)
        context.close()
    return paints, readies


def click_to_panel(browser, server: Server, clicks: int, pause_ms: int) -> list[float]:
    """Per click on a unit in inspect mode, ms from the click event to its figures in the panel."""
    features = httpx.get(server.base + "api/units", timeout=120).json()["features"]
    first = shape(features[0]["geometry"])
    near = [f for f in features if shape(f["geometry"]).distance(first) < 0.05][:6]
    context, page = new_page(browser)
    open_ready(page, server.base)
    west, south, east, north = shapely.union_all([shape(f["geometry"]) for f in near]).bounds
    page.evaluate("([b, padding]) => window.__diagioi.map.fitBounds(b, { padding, duration: 0 })",
                  [[[west, south], [east, north]], page.evaluate("window.__diagioi.padding")])
    page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()", timeout=120_000)
    # Zoning features answer a click with their own attributes: hide them to time the unit panel.
    page.evaluate("""() => document.querySelectorAll('[data-zoning]').forEach((input) => {
        input.checked = false; input.dispatchEvent(new Event('change')); })""")
    box = page.locator("#map").bounding_box()
    times = []
    for i in range(clicks):
        lon, lat = shapely.get_coordinates(shape(near[i % len(near)]["geometry"]).representative_point())[0]
        x, y = page.evaluate("([lon, lat]) => { const p = window.__diagioi.map.project([lon, lat]); return [p.x, p.y]; }",
                             [lon, lat])
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_function(f"(window.__diagioi.infoCount || 0) >= {i + 1}", timeout=60_000)
        times.append(page.evaluate("window.__diagioi.timings.lastClickToPanelMs"))
        page.wait_for_timeout(pause_ms)
    context.close()
    return times


def panel_updates(browser, server: Server, clicks: int, pause_ms: int, *, drag_pan: bool = True
                  ) -> tuple[list[float], list[float], list[float]]:
    """Per click, ms: click handler → panel and colours updated; the POST /reassign HTTP round trip;
    the panel's DOM update. The rest of the first is the main thread waiting (map repaints)."""
    features = httpx.get(server.base + "api/units", timeout=120).json()["features"]
    first = features[0]
    codes = [str(first["properties"]["code"])]
    geometry = shape(first["geometry"])
    # A compact group of units around the first one, to click on in turn.
    for feature in features[1:]:
        if shape(feature["geometry"]).distance(geometry) == 0:
            codes.append(str(feature["properties"]["code"]))
        if len(codes) == 4:
            break
    by_code = {str(f["properties"]["code"]): shape(f["geometry"]) for f in features}
    with server.client() as client:
        scenario_id = client.post("api/scenarios", json={"name": "bench", "new_units": [
            {"id": "n1", "name": "Phường Bench", "kind": "ward", "members": []}]}).json()["id"]
    context, page = new_page(browser)
    open_ready(page, server.base + f"#scenario={scenario_id}")
    west, south, east, north = shapely.union_all([by_code[c] for c in codes]).bounds
    page.evaluate("([b, padding]) => window.__diagioi.map.fitBounds(b, { padding, duration: 0 })",
                  [[[west, south], [east, north]], page.evaluate("window.__diagioi.padding")])
    page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()")
    page.locator('.nu-card[data-id="n1"] [data-action="activate"]').click()
    if not drag_pan:
        # MapLibre's drag-pan handler repaints the map on mouse-up; in software WebGL that frame
        # holds the main thread ~200 ms. Without it the click shows the page's own latency.
        page.evaluate("window.__diagioi.map.dragPan.disable()")
    box = page.locator("#map").bounding_box()
    times, networks, renders = [], [], []
    for i in range(clicks):
        code = codes[i % len(codes)]
        lon, lat = shapely.get_coordinates(by_code[code].representative_point())[0]
        x, y = page.evaluate("([lon, lat]) => { const p = window.__diagioi.map.project([lon, lat]); return [p.x, p.y]; }",
                             [lon, lat])
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_function(f"(window.__diagioi.reassignCount || 0) >= {i + 1}", timeout=60_000)
        # A person clicks about once a second; meanwhile the page refreshes the outline tiles.
        page.wait_for_timeout(pause_ms)
        timings = page.evaluate("window.__diagioi.timings")
        times.append(timings["lastPanelUpdateMs"])
        renders.append(timings["lastPanelRenderMs"])
        networks.append(page.evaluate(NETWORK_MS))
    context.close()
    return times, networks, renders


# Resource Timing of the last POST /reassign: the HTTP round trip itself, without main-thread waits.
NETWORK_MS = """(() => { const e = performance.getEntriesByType('resource').filter((r) => r.name.includes('/reassign')).pop();
  return e.responseEnd - e.startTime; })()"""


PAN_SCRIPT = """async ([dx, durationMs, repeats]) => {
  const map = window.__diagioi.map;
  const frames = [];
  for (let r = 0; r < repeats; r += 1) {
    await new Promise((done) => {
      let last = performance.now();
      let running = true;
      const tick = (now) => { frames.push(now - last); last = now; if (running) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
      map.panBy([r % 2 ? -dx : dx, 0], { duration: durationMs, easing: (t) => t });
      map.once('moveend', () => { running = false; done(); });
    });
  }
  return frames.slice(1);
}"""


def panning(browser, server: Server, zoom: float) -> dict[str, float]:
    context, page = new_page(browser)
    open_ready(page, server.base)
    page.evaluate(f"window.__diagioi.map.setZoom({zoom})")
    page.wait_for_function("window.__diagioi.map.loaded() && !window.__diagioi.map.isMoving()", timeout=300_000)
    frames = page.evaluate(PAN_SCRIPT, [600, 1500, 4])
    rendered = page.evaluate("window.__diagioi.map.queryRenderedFeatures({layers: ['units-fill']}).length")
    # Calibration: the same pans with only the plain background drawn (the renderer's own floor).
    page.evaluate("""() => { const map = window.__diagioi.map;
        for (const layer of map.getStyle().layers) if (layer.id !== 'background') map.setLayoutProperty(layer.id, 'visibility', 'none'); }""")
    empty = page.evaluate(PAN_SCRIPT, [600, 1500, 2])
    context.close()
    frames.sort()
    return {"fps": 1000.0 / statistics.mean(frames), "p95_ms": frames[int(0.95 * (len(frames) - 1))],
            "max_ms": frames[-1], "features": rendered, "empty_fps": 1000.0 / statistics.mean(empty)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clicks", type=int, default=12)
    parser.add_argument("--pause-ms", type=int, default=1000, help="time between two clicks")
    parser.add_argument("--no-country", action="store_true", help="skip the 10,000-unit country")
    parser.add_argument("--country-units", type=int, default=10_000)
    parser.add_argument("--no-real", action="store_true", help="skip the real 661-unit layer of ../shared/data")
    options = parser.parse_args()

    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory(prefix="diagioi-bench-") as folder, sync_playwright() as playwright:
        workdir = Path(folder)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        demo = Server(None, workdir)
        try:
            paints, readies = first_paint(browser, demo, options.runs)
            rows.append(("demo: first map paint", f"{statistics.median(paints):.0f} ms (median of {len(paints)}; "
                                                  f"max {max(paints):.0f})", "≤ 2000 ms"))
            rows.append(("demo: scenario coloured, panel filled", f"{statistics.median(readies):.0f} ms (median; "
                                                                  f"max {max(readies):.0f})", ""))
            updates, networks, renders = panel_updates(browser, demo, options.clicks, options.pause_ms)
            rows.append((f"demo: panel update after a click ({options.pause_ms} ms apart)",
                         f"{statistics.median(updates):.0f} ms (median of "
                                                             f"{len(updates)}; max {max(updates):.0f})", "≤ 150 ms"))
            rows.append(("  POST /reassign HTTP round trip", f"{statistics.median(networks):.0f} ms (median; "
                                                            f"max {max(networks):.0f})", ""))
            rows.append(("  panel + colours DOM update", f"{statistics.median(renders):.1f} ms (median; "
                                                        f"max {max(renders):.1f})", ""))
            still, _networks, _renders = panel_updates(browser, demo, options.clicks, options.pause_ms, drag_pan=False)
            rows.append(("  same, no map repaint at the click (drag-pan off)", f"{statistics.median(still):.0f} ms "
                                                                               f"(median; max {max(still):.0f})", "≤ 150 ms"))
            clicks = click_to_panel(browser, demo, options.clicks, options.pause_ms)
            rows.append(("demo: click → panel (unit info)", f"{statistics.median(clicks):.0f} ms (median of {len(clicks)}; "
                                                            f"max {max(clicks):.0f})", "≤ 100 ms"))
            pan = panning(browser, demo, 11)
            rows.append(("demo: panning at z11", f"{pan['fps']:.0f} fps, p95 frame {pan['p95_ms']:.0f} ms, "
                                                 f"max {pan['max_ms']:.0f} ms (empty map {pan['empty_fps']:.0f} fps)",
                         "smooth"))
        finally:
            demo.stop()
        real_layer = REPO.parent / "shared" / "data" / "pre2025_communes_census2009_bk_tn_bg_bn.geojson"
        if real_layer.exists() and not options.no_real:
            real = Server(real_layer, workdir)
            try:
                paints, readies = first_paint(browser, real, options.runs)
                rows.append(("real layer (661 old communes): first map paint",
                             f"{statistics.median(paints):.0f} ms (median of {len(paints)}; max {max(paints):.0f})",
                             "≤ 2000 ms"))
                rows.append(("  real layer: scenario coloured, panel filled", f"{statistics.median(readies):.0f} ms (median)", ""))
                clicks = click_to_panel(browser, real, options.clicks, options.pause_ms)
                rows.append(("  real layer: click → panel (unit info)", f"{statistics.median(clicks):.0f} ms (median of "
                                                                          f"{len(clicks)}; max {max(clicks):.0f})", ""))
                pan = panning(browser, real, 9)
                rows.append(("  real layer: panning at z9", f"{pan['fps']:.0f} fps, p95 frame {pan['p95_ms']:.0f} ms, "
                                                            f"max {pan['max_ms']:.0f} ms (empty map {pan['empty_fps']:.0f} fps)",
                             "smooth"))
            finally:
                real.stop()
        if not options.no_country:
            from diagioi.demo import build_country

            started = time.perf_counter()
            country_path = workdir / "country.geojson"
            build_country(options.country_units).to_file(country_path, driver="GeoJSON")
            country = Server(country_path, workdir)
            setup_s = time.perf_counter() - started
            try:
                paints, readies = first_paint(browser, country, 1)
                rows.append((f"country ({options.country_units:,} units): first map paint",
                             f"{paints[0]:.0f} ms (ready {readies[0]:.0f} ms)", f"(server start-up {setup_s:.0f} s)"))
                for zoom in (7, 9):
                    pan = panning(browser, country, zoom)
                    rows.append((f"country: panning at z{zoom} ({pan['features']:,} unit pieces drawn)",
                                 f"{pan['fps']:.0f} fps, p95 frame {pan['p95_ms']:.0f} ms, max {pan['max_ms']:.0f} ms "
                                 f"(empty map {pan['empty_fps']:.0f} fps)",
                                 "smooth"))
            finally:
                country.stop()
        browser.close()

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':<75}  budget")
    for name, result, budget in rows:
        print(f"{name:<{width}}  {result:<75}  {budget}")
    print("Headless Chromium with --disable-gpu renders WebGL in software (SwiftShader) on 2 shared cores; "
          "a desktop browser with a GPU is faster.")


if __name__ == "__main__":
    main()
