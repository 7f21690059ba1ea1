"""API benchmark over real HTTP: reassign latency and tile throughput.

Run:  python benchmarks/bench_api.py [--quick]

Starts ``uvicorn`` on 127.0.0.1 in a subprocess (temporary data directory), then:

* reassign: one unit moved per request (``POST /api/scenarios/{id}/reassign``), sequential,
  end to end (JSON encode → HTTP → store write → incremental evaluation → response decode).
  Target: ≤ 30 ms p95 for a province.
* evaluation: ``GET /api/scenarios/{id}/evaluation`` (cached per version).
* tiles: MVT and PNG tiles over the province at zooms 9–13 — first pass (rendered),
  then concurrent load from client threads on cached tiles, and ETag revalidations (304).

Data: the real old communes of Thái Nguyên with the 2025 merger as scenario when
``../shared/data`` is present, else the sample region of ``diagioi.demo``. Loops are bounded in
count and time; the table is printed at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from _server import free_port, python_command, start_server, stats
import morecantile
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHARED = REPO.parent / "shared" / "data"
OLD_UNITS = SHARED / "pre2025_communes_census2009_bk_tn_bg_bn.geojson"
MAPPING = SHARED / "mapping_old_to_new_bk_tn_bg_bn.csv"
TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROWS: list[tuple[str, str, str, str]] = []


def _dataset(work: Path) -> tuple[Path, dict, str]:
    """Units file, scenario body and a label."""
    if OLD_UNITS.exists() and MAPPING.exists():
        from diagioi.geo.io import read_units

        units = read_units(OLD_UNITS)
        mapping = pd.read_csv(MAPPING, dtype=str)
        mapping = mapping[(mapping["old_province_code"] == "19") & mapping["old_code"].isin(units.gdf.index)]
        mapping = mapping.drop_duplicates("old_code")
        new_units = []
        for new_code, group in mapping.groupby("new_code", sort=True):
            name = group["new_name"].iloc[0]
            kind = "ward" if name.startswith("Phường") else "commune"
            new_units.append({"id": f"u{new_code}", "name": name, "kind": kind, "members": list(group["old_code"])})
        body = {"name": "Thái Nguyên 2025 (benchmark)", "regime": "R76", "new_units": new_units}
        label = f"real: Thái Nguyên old communes ({len(mapping)} units → {len(new_units)} new)"
        return OLD_UNITS, body, label
    from diagioi.demo import demo_dir

    folder = Path(demo_dir())
    body = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    return folder / "units.geojson", body, "sample region (diagioi.demo; ../shared/data absent)"


def _start_server(port: int, data_dir: Path, units: Path) -> subprocess.Popen:
    code = ("import uvicorn; from diagioi.api.app import create_app; from diagioi.api.settings import Settings; "
            f"uvicorn.run(create_app(Settings(data_dir={str(data_dir)!r}, units_path={str(units)!r}, "
            f"token={TOKEN!r}, seed_demo=False)), host='127.0.0.1', port={port}, log_level='warning')")
    return start_server(python_command(code), port)


def bench_reassign(client: httpx.Client, body: dict, n_requests: int, time_limit_s: float) -> str:
    created = client.post("/api/scenarios", json=body, headers=AUTH)
    created.raise_for_status()
    scenario_id, version = created.json()["id"], created.json()["version"]
    owner = {code: unit["id"] for unit in body["new_units"] for code in unit["members"]}
    members = {unit["id"]: list(unit["members"]) for unit in body["new_units"]}
    rng = random.Random(7)
    ids = list(members)
    # First reassign builds nothing new (the evaluation is cached at create); warm the HTTP path once.
    client.get(f"/api/scenarios/{scenario_id}/evaluation").raise_for_status()
    samples, sizes = [], []
    deadline = time.monotonic() + time_limit_s
    while len(samples) < n_requests and time.monotonic() < deadline:
        source = rng.choice([i for i in ids if len(members[i]) > 1])
        code = rng.choice(members[source])
        target = rng.choice([i for i in ids if i != source])
        start = time.perf_counter()
        response = client.post(f"/api/scenarios/{scenario_id}/reassign",
                               json={"assignments": {code: target}, "version": version}, headers=AUTH)
        result = response.json()
        samples.append(time.perf_counter() - start)
        response.raise_for_status()
        version = result["version"]
        sizes.append(len(result["changed"]))
        members[source].remove(code)
        members[target].append(code)
        owner[code] = target
    ROWS.append(("reassign (1 unit moved)", "POST …/reassign, sequential", stats(samples), "≤ 30 ms p95"))

    samples = []
    for _ in range(min(50, n_requests)):
        start = time.perf_counter()
        client.get(f"/api/scenarios/{scenario_id}/evaluation").raise_for_status()
        samples.append(time.perf_counter() - start)
    ROWS.append(("evaluation (cached version)", "GET …/evaluation", stats(samples), ""))
    return scenario_id


def bench_edit_visible(client: httpx.Client, scenario_id: str, body: dict, repeat: int) -> None:
    """Time from a write to the first tile that shows it (TileJSON, then one tile at the new version)."""
    from diagioi.layers.tms import tile_for_lnglat

    layer = f"scenario-{scenario_id}"
    version = client.get(f"/api/scenarios/{scenario_id}").json()["version"]
    current = client.get(f"/api/scenarios/{scenario_id}").json()["scenario"]["new_units"]
    movable = [(unit["id"], unit["members"][-1]) for unit in current if len(unit["members"]) > 1]
    samples = []
    for index in range(repeat):
        source_id, code = movable[index % len(movable)]
        target = next(unit["id"] for unit in current if unit["id"] != source_id)
        unit = client.get("/api/units", params={"q": code}).json()["features"][0]
        lon, lat = unit["geometry"]["coordinates"][0][0][0] if unit["geometry"]["type"] == "MultiPolygon" \
            else unit["geometry"]["coordinates"][0][0]
        z, x, y = tile_for_lnglat(lon, lat, 12)
        start = time.perf_counter()
        result = client.post(f"/api/scenarios/{scenario_id}/reassign",
                             json={"assignments": {code: target}, "version": version}, headers=AUTH).json()
        tiles_url = client.get(f"/api/tiles/{layer}.json").json()["tiles"][0]
        client.get(tiles_url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))).raise_for_status()
        samples.append(time.perf_counter() - start)
        version = result["version"]
        # move it back so the next round starts from the same partition
        result = client.post(f"/api/scenarios/{scenario_id}/reassign",
                             json={"assignments": {code: source_id}, "version": version}, headers=AUTH).json()
        version = result["version"]
    ROWS.append(("reassign → scenario tile", "POST reassign + TileJSON + 1 tile", stats(samples), "≤ 1 s"))

    west, south, east, north = client.get("/api/tiles/units.json").json()["bounds"]
    lon, lat = (west + east) / 2, (south + north) / 2
    z, x, y = tile_for_lnglat(lon, lat, 12)
    samples = []
    for index in range(repeat):
        start = time.perf_counter()
        client.post("/api/layers/tourism_sites", headers=AUTH, json={
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon + index * 1e-4, lat]},
            "properties": {"name": f"Điểm thử {index}"}}).raise_for_status()
        tiles_url = client.get("/api/tiles/units.json").json()["tiles"][0]
        client.get(tiles_url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))).raise_for_status()
        samples.append(time.perf_counter() - start)
    ROWS.append(("layer edit → units tile", "POST feature + TileJSON + 1 tile (indicators recomputed)",
                 stats(samples), "≤ 1 s"))


def _tiles(client: httpx.Client, layer: str, zooms: range) -> list[tuple[int, int, int]]:
    west, south, east, north = client.get(f"/api/tiles/{layer}.json").json()["bounds"]
    tms = morecantile.tms.get("WebMercatorQuad")
    return [(t.z, t.x, t.y) for t in tms.tiles(west, south, east, north, zooms=list(zooms))]


def bench_tiles(base_url: str, client: httpx.Client, layer: str, fmt: str, threads: int, n_requests: int,
                time_limit_s: float) -> None:
    tiles = _tiles(client, layer, range(9, 14))
    first = []
    for z, x, y in tiles:
        start = time.perf_counter()
        client.get(f"/api/tiles/{layer}/{z}/{x}/{y}.{fmt}").raise_for_status()
        first.append(time.perf_counter() - start)
    ROWS.append((f"{layer} .{fmt} first request", f"{len(tiles)} tiles z9–13, rendered", stats(first), ""))

    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + time_limit_s
    per_thread = max(1, n_requests // threads)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        local = []
        with httpx.Client(base_url=base_url, timeout=30) as own:
            for _ in range(per_thread):
                if time.monotonic() > stop_at:
                    break
                z, x, y = rng.choice(tiles)
                start = time.perf_counter()
                own.get(f"/api/tiles/{layer}/{z}/{x}/{y}.{fmt}").raise_for_status()
                local.append(time.perf_counter() - start)
        with lock:
            latencies.extend(local)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(seed,)) for seed in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    ROWS.append((f"{layer} .{fmt} cached, {threads} clients", f"{len(latencies) / elapsed:,.0f} tiles/s",
                 stats(latencies), ""))

    z, x, y = tiles[len(tiles) // 2]
    etag = client.get(f"/api/tiles/{layer}/{z}/{x}/{y}.{fmt}").headers["etag"]
    samples = []
    for _ in range(min(200, n_requests)):
        start = time.perf_counter()
        response = client.get(f"/api/tiles/{layer}/{z}/{x}/{y}.{fmt}", headers={"If-None-Match": etag})
        samples.append(time.perf_counter() - start)
        assert response.status_code == 304
    ROWS.append((f"{layer} .{fmt} revalidation", "If-None-Match → 304", stats(samples), ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (smoke run)")
    args = parser.parse_args()
    n_reassign, n_tiles, limit_s = (60, 300, 10.0) if args.quick else (300, 2000, 30.0)

    with tempfile.TemporaryDirectory(prefix="diagioi-bench-") as folder:
        work = Path(folder)
        units_path, body, label = _dataset(work)
        port = free_port()
        started = time.perf_counter()
        server = _start_server(port, work / "data", units_path)
        startup_s = time.perf_counter() - started
        base_url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base_url, timeout=60) as client:
                health = client.get("/api/health").json()
                ROWS.append(("server start-up", f"{health['units']} units loaded", f"{startup_s:.1f} s", ""))
                scenario_id = bench_reassign(client, body, n_reassign, limit_s)
                bench_edit_visible(client, scenario_id, body, repeat=5 if args.quick else 15)
                bench_tiles(base_url, client, "units", "mvt", threads=4, n_requests=n_tiles, time_limit_s=limit_s)
                bench_tiles(base_url, client, f"scenario-{scenario_id}", "mvt", threads=4, n_requests=n_tiles,
                            time_limit_s=limit_s)
                bench_tiles(base_url, client, "units", "png", threads=4, n_requests=n_tiles // 2,
                            time_limit_s=limit_s)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()

    print(f"\ndiagioi API benchmark — {label}; uvicorn, 1 worker, 127.0.0.1; {os.cpu_count()} CPU cores\n")
    widths = [max(len(row[i]) for row in ROWS + [("case", "what", "result", "target")]) for i in range(4)]
    header = ("case", "what", "result", "target")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-+-".join("-" * w for w in widths))
    for row in ROWS:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths)))


if __name__ == "__main__":
    main()
