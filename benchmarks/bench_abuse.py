"""Does /api/health stay responsive while anonymous clients flood the polygon analysis?

Run:  python benchmarks/bench_abuse.py [--clients 8] [--seconds 20]

Starts ``uvicorn`` on 127.0.0.1 in a subprocess (temporary data directory, the sample region of
``diagioi.demo`` or the real old communes of ``../shared/data`` when present), then measures the
latency of ``GET /api/health`` — sequential requests, one at a time:

1. idle;
2. while N "abusive" clients (default 8) post, without the write token and in a loop, the costliest
   polygon an anonymous caller may send (``anonymous_max_vertices`` vertices, just under
   ``anonymous_max_area_km2``) and, every other request, one over the caps (refused before any work).

Issue 8 asks for the health p95 under abuse to stay within 2× of idle. The machine may be shared:
figures are noisy, so the script prints them rather than asserting.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import tempfile
import time
from pathlib import Path

import httpx
from _server import free_port, python_command, start_server, stats
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_UNITS = REPO.parent / "shared" / "data" / "pre2025_communes_census2009_bk_tn_bg_bn.geojson"


def _ellipse(centre: tuple[float, float], area_km2: float, vertices: int) -> dict:
    """A closed ring of ``vertices`` positions around ``centre`` with about ``area_km2`` km²."""
    lat = math.radians(centre[1])
    radius_km = math.sqrt(area_km2 / math.pi)
    dlon, dlat = radius_km / (111.32 * math.cos(lat)), radius_km / 110.57
    ring = [[centre[0] + dlon * math.cos(2 * math.pi * k / vertices), centre[1] + dlat * math.sin(2 * math.pi * k / vertices)]
            for k in range(vertices)]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


def _health_samples(client: httpx.Client, seconds: float) -> list[float]:
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.perf_counter()
        client.get("/api/health").raise_for_status()
        samples.append(time.perf_counter() - start)
        time.sleep(0.02)
    return samples


def _abuse(base: str, bodies: list[bytes], seed: int, stop, counts) -> None:
    """One abusive client: posts the heavy and the over-cap polygon in turn until told to stop."""
    with httpx.Client(base_url=base, timeout=120, headers={"Content-Type": "application/json"}) as abuser:
        n = seed
        while not stop.is_set():
            body = bodies[n % 2]
            n += 1
            try:
                status = abuser.post("/api/analysis/polygon", content=body).status_code
            except httpx.TransportError:
                status = -1
            slot = {200: 0, 422: 1, 503: 2}.get(status, 3)
            with counts.get_lock():
                counts[slot] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--abuse", choices=("both", "heavy", "over-cap"), default="both",
                        help="what the abusive clients send (default: the heavy and the over-cap polygon in turn)")
    args = parser.parse_args()

    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="diagioi-bench-abuse-"))
    units = SHARED_UNITS if SHARED_UNITS.exists() else None
    code = (f"from diagioi.api.server import run_server; run_server('127.0.0.1', {port}, {str(work / 'data')!r}, "
            f"{str(units) if units else None!r}, 'bench-token')")
    log = (work / "server.log").open("w")
    try:
        process = start_server(python_command(code), port, env={"PYTHONUNBUFFERED": "1"}, timeout_s=300, log=log)
    except RuntimeError as error:
        raise SystemExit(f"{error}; see {work / 'server.log'}") from None
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            from diagioi.api.settings import Settings

            defaults = Settings()
            features = client.get("/api/units", params={"geometry": "false"}).json()["features"]
            boxes = np.array([f["bbox"] for f in features if f.get("bbox")])
            centre = ((boxes[:, 0].min() + boxes[:, 2].max()) / 2, (boxes[:, 1].min() + boxes[:, 3].max()) / 2)
            heavy = _ellipse(centre, defaults.anonymous_max_area_km2 * 0.9, defaults.anonymous_max_vertices - 1)
            over = _ellipse(centre, 10.0, defaults.anonymous_max_vertices * 5)
            check = client.post("/api/analysis/polygon", json=heavy)
            print(f"units: {'real ' + SHARED_UNITS.name if units else 'sample region'}; heavy polygon "
                  f"{defaults.anonymous_max_vertices - 1} vertices, {defaults.anonymous_max_area_km2 * 0.9:g} km² → "
                  f"{check.status_code}; over-cap polygon → {client.post('/api/analysis/polygon', json=over).status_code}")

            idle = _health_samples(client, args.seconds / 2)
            # Abusers are separate processes with pre-encoded bodies: in this process their JSON
            # encoding would hold the GIL and slow the health client itself, not the server.
            bodies = {"both": [heavy, over], "heavy": [heavy, heavy], "over-cap": [over, over]}[args.abuse]
            bodies = [json.dumps(body).encode() for body in bodies]
            stop = multiprocessing.Event()
            counts = multiprocessing.Array("i", 4)
            abusers = [multiprocessing.Process(target=_abuse, args=(base, bodies, i, stop, counts), daemon=True)
                       for i in range(args.clients)]
            for abuser in abusers:
                abuser.start()
            time.sleep(2.0)
            loaded = _health_samples(client, args.seconds)
            stop.set()
            for abuser in abusers:
                abuser.join(timeout=130)
            counts = dict(zip(("analysed", "refused", "busy", "errors"), counts[:]))
        p95_idle, p95_loaded = np.percentile(idle, 95), np.percentile(loaded, 95)
        print(f"/api/health idle:                      {stats(idle)}")
        print(f"/api/health under {args.clients} abusive clients ({args.abuse}):  {stats(loaded)}")
        print(f"p95 ratio loaded/idle: {p95_loaded / p95_idle:.2f}× (target ≤ 2×); abusive requests: {counts}")
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    main()
