"""Mixed load over real HTTP on SQLite (1 process) and PostGIS (N workers): the Districtr-style stress mix.

Run:  python benchmarks/bench_load.py [--users 50 200] [--think 1-3 0] [--seconds 20] [--workers 2] [--postgres DSN]
      [--server-cpus 1]   # the server on CPU 1 only, the load generator on the others

For each store, each user count and each think time, a fresh server on 127.0.0.1 (``diagioi serve``;
temporary data directory or PostGIS schema) gets, from that many client threads for a bounded time:

* viewers (70 %): a units or scenario vector tile at zoom 9–13 (half each), or the light units list;
* evaluators (20 %): the scenario's evaluation or its CSV table;
* editors (10 %): a reassign (one unit moved between two new units, with the version they read;
  a 409 is a lost race, re-read and retried — not an error; an editor that loses 20 races in a row gives
  up, counted in "409 ×20") or a zoning point added.

A user waits a random think time between two actions (``--think 1-3``: 1 to 3 s, as a person
looks at the map or the figures before the next click, and as Locust users usually do); ``--think 0``
sends the next request as soon as the last one is answered, which saturates the server and measures
its capacity rather than what a user waits.

Printed per store × users × think time: requests/s, p50/p95/p99 per request type, errors (any non-2xx/304
other than an editor's 409), acknowledged writes lost (reassigns acknowledged with a new version, + 1, must equal
the final scenario version — a reassign sending a unit where it already is gets 200 with the same version and is
not counted —, acknowledged points must all be in the layer), and edit → visible tile
latency (a reassign acknowledged by one worker until the scenario's TileJSON names the new version
at another request), and the cores each part used during the run (CPU seconds per second, from /proc: the
server and its workers, every PostgreSQL process, this load generator). Without ``--postgres`` a throw-away
cluster is started with ``.ci/start-postgis`` when PostgreSQL is installed. Each run follows an untimed warm-up
(``--warmup`` s, 10 users, no think time) so that every worker has built its caches. Loops are bounded in time;
figures on a shared machine are noisy.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from _server import free_port, start_server
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TOKEN = "bench-load-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _start(port: int, data_dir: Path, units: Path, store: str | None, workers: int,
           cpus: str | None = None) -> subprocess.Popen:
    # taskset pins the server and the workers it starts to the given CPUs (the load generator keeps the others).
    command = (["taskset", "-c", cpus] if cpus else []) + [sys.executable, "-m", "diagioi.api.cli", "serve", "--port", str(port), "--data-dir", str(data_dir),
               "--units", str(units), "--token", TOKEN, "--workers", str(workers)]
    if store:
        command += ["--store", store]
    process = start_server(command, port, env={"DIAGIOI_SEED_DEMO": "false"}, timeout_s=180)
    time.sleep(2.0 if workers > 1 else 0.0)  # let every worker finish starting
    return process


def _tiles(bounds: list[float], zooms=range(9, 14)) -> list[tuple[int, int, int]]:
    import morecantile

    tms = morecantile.tms.get("WebMercatorQuad")
    return [(t.z, t.x, t.y) for z in zooms for t in tms.tiles(*bounds, zooms=[z])]


def run_mix(base: str, users: int, seconds: float, scenario: dict, tiles: list, units: list[str],
            think: tuple[float, float] = (0.0, 0.0)) -> dict:
    samples: dict[str, list[float]] = {k: [] for k in ("units_tile", "scenario_tile", "units", "evaluation", "export",
                                                         "reassign", "point")}
    errors: list[str] = []
    acked_reassigns = [0]
    gave_up = [0]
    acked_points: list[str] = []
    visible_s: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    sid = scenario["id"]

    def timed(kind: str, call) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = call()
        except httpx.HTTPError as error:
            with lock:
                errors.append(f"{kind}: {type(error).__name__}")
            return None
        with lock:
            samples[kind].append(time.perf_counter() - start)
        return response

    def user(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base, timeout=60) as client:
            time.sleep(rng.uniform(0, think[1]))  # users arrive spread over one think time, not all at once
            while time.monotonic() < stop_at:
                if think[1] > 0:
                    time.sleep(rng.uniform(*think))
                roll = rng.random()
                if roll < 0.7:
                    if rng.random() < 0.85:
                        z, x, y = rng.choice(tiles)
                        scenario_tile = rng.random() >= 0.5
                        layer = f"scenario-{sid}" if scenario_tile else "units"
                        response = timed("scenario_tile" if scenario_tile else "units_tile",
                                         lambda: client.get(f"/api/tiles/{layer}/{z}/{x}/{y}.mvt"))
                    else:
                        response = timed("units", lambda: client.get("/api/units", params={"geometry": "false"}))
                    ok = (200, 204, 304)
                elif roll < 0.9:
                    if rng.random() < 0.7:
                        response = timed("evaluation", lambda: client.get(f"/api/scenarios/{sid}/evaluation"))
                    else:
                        response = timed("export", lambda: client.get(f"/api/scenarios/{sid}/export.csv"))
                    ok = (200,)
                elif rng.random() < 0.7:
                    response = None
                    for _ in range(20):  # re-read and retry after a lost race (409)
                        current = client.get(f"/api/scenarios/{sid}").json()
                        code = rng.choice(units)
                        target = rng.choice([u["id"] for u in current["scenario"]["new_units"]])
                        response = timed("reassign", lambda: client.post(
                            f"/api/scenarios/{sid}/reassign", headers=AUTH,
                            json={"assignments": {code: target}, "version": current["version"]}))
                        if response is None or response.status_code != 409:
                            break
                    if response is not None and response.status_code == 409:
                        with lock:
                            gave_up[0] += 1  # lost the race 20 times in a row: contention, not a server error
                        response = None
                    if response is not None and response.status_code == 200 and \
                            response.json()["version"] == current["version"]:
                        response = None  # the unit was already there: acknowledged, but no new version
                    if response is not None and response.status_code == 200:
                        new_version = response.json()["version"]
                        with lock:
                            acked_reassigns[0] += 1
                        start = time.perf_counter()
                        while time.perf_counter() - start < 10:
                            tilejson = client.get(f"/api/tiles/scenario-{sid}.json").json()
                            if str(tilejson.get("data_version", "")).startswith(f"{new_version}.") or \
                                    client.get(f"/api/scenarios/{sid}").json()["version"] > new_version:
                                break
                        with lock:
                            visible_s.append(time.perf_counter() - start)
                    ok = (200,)
                else:
                    point_id = uuid.uuid4().hex[:12]
                    lon, lat = rng.uniform(bounds_box[0], bounds_box[2]), rng.uniform(bounds_box[1], bounds_box[3])
                    response = timed("point", lambda: client.post("/api/layers/tourism_sites", headers=AUTH, json={
                        "type": "Feature", "id": point_id, "geometry": {"type": "Point", "coordinates": [lon, lat]},
                        "properties": {"name": f"Điểm {point_id}"}}))
                    if response is not None and response.status_code in (200, 201):
                        with lock:
                            acked_points.append(point_id)
                    ok = (200, 201)
                if response is not None and response.status_code not in ok:
                    with lock:
                        errors.append(f"{response.request.method} {response.request.url.path}: {response.status_code}")

    bounds_box = scenario["bounds"]
    with httpx.Client(base_url=base, timeout=60) as client:
        first_version = client.get(f"/api/scenarios/{sid}").json()["version"]
    started = time.monotonic()
    threads = [threading.Thread(target=user, args=(seed,), daemon=True) for seed in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - started
    with httpx.Client(base_url=base, timeout=60) as client:
        final_version = client.get(f"/api/scenarios/{sid}").json()["version"]
        stored_points = {f["id"] for f in client.get("/api/layers/tourism_sites").json()["features"]}
    lost = (acked_reassigns[0] + first_version - final_version) + len(set(acked_points) - stored_points)
    return {"samples": samples, "errors": errors, "elapsed": elapsed, "lost": lost,
            "acked": acked_reassigns[0] + len(acked_points), "visible": visible_s, "gave_up": gave_up[0]}


def _cpu_seconds(root_pid: int | None = None, name: str | None = None) -> float:
    """CPU time (user + system, s) of a process and its descendants, or of every process called ``name``."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue  # ended meanwhile
            command, fields = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
            stats[int(entry.name)] = (command, int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    if name is not None:
        return sum(cpu for command, _parent, cpu in stats.values() if command == name)
    tree, grew = {root_pid}, True
    while grew:
        children = {pid for pid, (_c, parent, _cpu) in stats.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return sum(stats[pid][2] for pid in tree if pid in stats)


def _cpu_list(text: str) -> set[int]:
    """'0,2-3' → {0, 2, 3} (taskset's list form)."""
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def _think_range(text: str) -> tuple[float, float]:
    """'1-3' → (1.0, 3.0); '0' → (0.0, 0.0)."""
    low, _, high = text.partition("-")
    low_s, high_s = float(low), float(high or low)
    if not 0 <= low_s <= high_s:
        raise SystemExit(f"--think {text!r}: give MIN-MAX seconds with 0 <= MIN <= MAX, or 0")
    return low_s, high_s


def _pct(values: list[float]) -> str:
    if not values:
        return "—"
    ms = np.asarray(values) * 1000
    return f"{np.percentile(ms, 50):.0f}/{np.percentile(ms, 95):.0f}/{np.percentile(ms, 99):.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--think", nargs="+", default=["1-3", "0"],
                        help="think time(s) between a user's actions, in s: 'MIN-MAX' or 0 (saturation)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0, help="untimed seconds of the mix before each run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes on PostGIS")
    parser.add_argument("--postgres", help="PostGIS DSN (default: start a throw-away cluster)")
    parser.add_argument("--no-postgis", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostGIS runs only")
    parser.add_argument("--server-cpus", help="CPUs for the server processes, e.g. '1' (taskset list); the load "
                        "generator then runs on the other CPUs: what one API machine of that many cores serves")
    args = parser.parse_args()

    from benchmarks.bench_api import _dataset

    work = Path(tempfile.mkdtemp(prefix="diagioi-load-"))
    units_path, body, label = _dataset(work)
    from diagioi.geo.io import read_units

    units = read_units(units_path)
    west, south, east, north = units.gdf.total_bounds.tolist()
    tiles = _tiles([west, south, east, north])
    member_codes = [code for unit in body["new_units"] for code in unit["members"]]

    stores: list[tuple[str, str | None, int]] = [] if args.no_sqlite else [("SQLite, 1 process", None, 1)]
    dsn = args.postgres
    cluster = None
    if not args.no_postgis and dsn is None and Path(REPO / ".ci/start-postgis").exists():
        cluster = work / "pg"
        dsn = subprocess.run(["bash", str(REPO / ".ci/start-postgis"), str(cluster), str(free_port())],
                             capture_output=True, text=True, check=True).stdout.strip()
    if not args.no_postgis and dsn:
        stores.append((f"PostGIS, {args.workers} worker{'s' if args.workers > 1 else ''}", dsn, args.workers))

    thinks = [_think_range(text) for text in args.think]
    if args.server_cpus:
        server_cpus = _cpu_list(args.server_cpus)
        others = set(range(os.cpu_count() or 1)) - server_cpus
        if not others:
            raise SystemExit("--server-cpus leaves no CPU for the load generator")
        os.sched_setaffinity(0, others)
    rows = []
    try:
        for store_label, dsn_base, workers in stores:
            for users, think in ((u, t) for t in thinks for u in args.users):
                port = free_port()
                store = None if dsn_base is None else f"{dsn_base}#load_{uuid.uuid4().hex[:8]}"
                server = _start(port, work / f"data-{port}", units_path, store, workers, args.server_cpus)
                try:
                    base = f"http://127.0.0.1:{port}"
                    with httpx.Client(base_url=base, timeout=120) as client:
                        created = client.post("/api/scenarios", json=body, headers=AUTH).json()
                    created["bounds"] = [west, south, east, north]
                    # Untimed warm-up: every worker builds its caches (a server runs for hours, not 20 s).
                    run_mix(base, 10, args.warmup, created, tiles, member_codes)
                    load_before = os.getloadavg()[0]
                    cpu_before = (_cpu_seconds(server.pid), _cpu_seconds(name="postgres"), time.process_time())
                    result = run_mix(base, users, args.seconds, created, tiles, member_codes, think)
                    cpu_after = (_cpu_seconds(server.pid), _cpu_seconds(name="postgres"), time.process_time())
                    result["load"] = (load_before, os.getloadavg()[0])
                    result["cores"] = [(after - before) / result["elapsed"] for before, after in zip(cpu_before, cpu_after)]
                finally:
                    server.terminate()
                    server.wait(timeout=30)
                total = sum(len(v) for v in result["samples"].values())
                rows.append((store_label, users, think, total / result["elapsed"], result))
    finally:
        if cluster is not None:
            subprocess.run(["bash", "-c", f"runuser -u postgres -- $(ls /usr/lib/postgresql/*/bin/pg_ctl | tail -1) "
                            f"-D {cluster}/data -m fast -w stop"], capture_output=True)

    pinned = f"; server pinned to CPU {args.server_cpus}, load generator on the others" if args.server_cpus else ""
    print(f"\nLoad test — {label}; {args.seconds:.0f} s per run; p50/p95/p99 in ms; {os.cpu_count()} CPUs{pinned}; "
          "the load average (1 min, before → after each run) says how busy the machine was\n")
    print("| store | users | think s | req/s | units tile | scenario tile | units list | evaluation | export | reassign | point | "
          "errors | 409 ×20 | lost writes (of acked) | edit → visible p50/p95/p99 | cores used: server / PostgreSQL / "
          "load generator | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for store_label, users, think, rate, r in rows:
        s = r["samples"]
        think_text = f"{think[0]:g}–{think[1]:g}" if think[1] else "0"
        print(f"| {store_label} | {users} | {think_text} | {rate:.1f} | {_pct(s['units_tile'])} | {_pct(s['scenario_tile'])} | "
              f"{_pct(s['units'])} | "
              f"{_pct(s['evaluation'])} | {_pct(s['export'])} | {_pct(s['reassign'])} | {_pct(s['point'])} | "
              f"{len(r['errors'])} | {r['gave_up']} | {r['lost']} (of {r['acked']}) | {_pct(r['visible'])} | "
              f"{' / '.join(f'{c:.2f}' for c in r['cores'])} | {r['load'][0]:.1f} → {r['load'][1]:.1f} |")
        if r["errors"]:
            print(f"|  | errors: {', '.join(sorted(set(r['errors']))[:5])} |")


if __name__ == "__main__":
    main()
