"""Two service processes on one PostGIS (two workers, or two API machines behind a proxy).

Each process has its own caches (evaluations, tile sources, rendered tiles, the default units);
an edit or a dataset activation acknowledged by one is what the other serves on its next request.
Runs when DIAGIOI_TEST_POSTGRES names a PostGIS server (``.ci/run`` starts one), else skips.
"""
from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import mapbox_vector_tile
import pytest
from api_helpers import AUTH, TOKEN, scenario_body
from helpers.server import serving

from diagioi.layers.tms import tile_for_lnglat
from helpers.grid import grid_frame


@pytest.fixture
def postgis_store(request):
    from tests.store.store_helpers import fresh_schema, postgis_dsn_or_skip

    dsn = postgis_dsn_or_skip(request.config)
    schema, cleanup = fresh_schema(dsn)
    yield f"{dsn}#{schema}"
    cleanup()


def _tile(client: httpx.Client, layer: str) -> dict:
    """The decoded tile (z, x, y: the smallest tile holding the grid) named by the layer's TileJSON."""
    tilejson = client.get(f"/api/tiles/{layer}.json").json()
    west, south, east, north = tilejson["bounds"]
    for z in range(16, 0, -1):
        corners = {tile_for_lnglat(lon, lat, z) for lon in (west, east) for lat in (south, north)}
        if len(corners) == 1:
            z, x, y = corners.pop()
            break
    url = tilejson["tiles"][0].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    response = client.get(url)
    assert response.status_code == 200
    return mapbox_vector_tile.decode(response.content)[layer]


def test_two_processes_on_one_postgis_serve_each_others_acknowledged_edits(postgis_store, grid_path, tmp_path):
    newer = grid_frame("EPSG:4326")
    newer["population"] = newer["population"] * 2
    newer_path = tmp_path / "grid-2024.geojson"
    newer.to_file(newer_path, driver="GeoJSON")
    common = ["--store", postgis_store, "--token", TOKEN]

    with serving(*common, "--units", str(grid_path), "--data-dir", str(tmp_path / "a"),
                 log_path=tmp_path / "a.log") as server_a, \
            serving(*common, "--data-dir", str(tmp_path / "b"), log_path=tmp_path / "b.log") as server_b, \
            httpx.Client(base_url=server_a.url, headers=AUTH, timeout=60) as a, \
            httpx.Client(base_url=server_b.url, timeout=60) as b:
        created = a.post("/api/scenarios", json=scenario_body()).json()
        layer = f"scenario-{created['id']}"
        # B renders and caches version 1 of the scenario tile.
        members = {f["properties"]["new_unit_id"]: f["properties"]["members"] for f in _tile(b, layer)["features"]}
        assert members["n1"] == "00001;00002;00003"

        moved = a.post(f"/api/scenarios/{created['id']}/reassign",
                       json={"assignments": {"00004": "n1"}, "version": 1})
        assert moved.status_code == 200

        # The edit acknowledged by A is in B's next tile and evaluation.
        features = {f["properties"]["new_unit_id"]: f["properties"] for f in _tile(b, layer)["features"]}
        assert features["n1"]["members"] == "00001;00002;00003;00004"
        assert features["n1"]["population"] == 10_000
        assert b.get(f"/api/scenarios/{created['id']}/evaluation").json()["new_units"][0]["population"] == 10_000

        # A activates another dataset: B serves it at once (units, tiles, health).
        assert {f["properties"]["code"]: f["properties"]["population"]
                for f in _tile(b, "units")["features"]}["00001"] == 1000
        uploaded = a.post("/api/datasets", data={"name": "Lưới 2024", "activate": "true"},
                          files={"file": (newer_path.name, newer_path.read_bytes(), "application/geo+json")})
        assert uploaded.status_code == 201, uploaded.text
        assert b.get("/api/health").json()["units_version"] == uploaded.json()["version"]
        assert {f["properties"]["code"]: f["properties"]["population"]
                for f in _tile(b, "units")["features"]}["00001"] == 2000


def test_kill_9_of_one_worker_in_the_middle_of_writes_loses_no_acknowledged_write(postgis_store, grid_path,
                                                                                    tmp_path):
    with serving("--store", postgis_store, "--token", TOKEN, "--units", str(grid_path), "--workers", "2",
                 "--data-dir", str(tmp_path / "data"), log_path=tmp_path / "server.log") as server, \
            httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as client:
        deadline = time.monotonic() + 60
        while len(server.worker_pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        victim = server.worker_pids()[0]
        scenario_ids = [client.post("/api/scenarios", json=scenario_body(name=f"Phương án {i}")).json()["id"]
                        for i in range(4)]
        acknowledged: dict[str, list[tuple[int, str]]] = {sid: [] for sid in scenario_ids}
        failed_requests = []
        stop = threading.Event()

        def editor(scenario_id: str) -> None:
            # Moves unit 00007 back and forth between the two new units, one acknowledged version after another.
            with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as own:
                version, target = 1, "n1"
                while not stop.is_set():
                    try:
                        response = own.post(f"/api/scenarios/{scenario_id}/reassign",
                                            json={"assignments": {"00007": target}, "version": version})
                    except httpx.HTTPError as error:  # the worker died under this request: not acknowledged
                        failed_requests.append(type(error).__name__)
                        response = None
                    if response is not None and response.status_code == 200:
                        version = response.json()["version"]
                        acknowledged[scenario_id].append((version, target))
                        target = "n2" if target == "n1" else "n1"
                    else:  # re-read the stored version (a write may have committed without its answer)
                        try:
                            version = own.get(f"/api/scenarios/{scenario_id}").json()["version"]
                        except httpx.HTTPError:
                            time.sleep(0.05)

        threads = [threading.Thread(target=editor, args=(sid,)) for sid in scenario_ids]
        for thread in threads:
            thread.start()
        time.sleep(2.0)
        before_kill = sum(len(v) for v in acknowledged.values())
        os.kill(victim, signal.SIGKILL)
        time.sleep(3.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

        assert before_kill > 0
        assert victim not in server.worker_pids()
        assert sum(len(v) for v in acknowledged.values()) > before_kill  # the other worker went on serving
        for scenario_id, writes in acknowledged.items():
            stored = client.get(f"/api/scenarios/{scenario_id}").json()
            last_version, last_target = writes[-1]
            # Every acknowledged version is stored; nothing after it was acknowledged, so it is the last one.
            assert stored["version"] == last_version
            where = {u["id"]: u["members"] for u in stored["scenario"]["new_units"]}
            assert "00007" in where[last_target]
            # Each stored version has its audit row (creation + one per write): nothing half-written.
            audit = client.get("/api/audit", params={"object_type": "scenario", "object_id": scenario_id,
                                                     "limit": 1000}).json()
            assert len(audit) == stored["version"]
