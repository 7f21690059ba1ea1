"""Constants and request bodies shared by the API tests (imported by name: tests/api is on sys.path)."""
from __future__ import annotations

from diagioi.layers.tms import tile_for_lnglat

TOKEN = "test-write-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GRID_CODES = [f"{k:05d}" for k in range(1, 10)]


def scenario_body(**overrides) -> dict:
    """Two new units over the grid: n1 = the south row, n2 = the middle row."""
    body = {
        "name": "Lưới mẫu 2025",
        "regime": "R76",
        "new_units": [
            {"id": "n1", "name": "Xã Nam", "kind": "commune", "members": ["00001", "00002", "00003"]},
            {"id": "n2", "name": "Phường Giữa", "kind": "ward", "members": ["00004", "00005", "00006"]},
        ],
    }
    body.update(overrides)
    return body


def grid_tile(client) -> tuple[int, int, int]:
    """The deepest tile (z, x, y) that holds the whole 3×3 grid the app serves."""
    west, south, east, north = client.get("/api/tiles/units.json").json()["bounds"]
    for z in range(16, 0, -1):
        corners = {tile_for_lnglat(lon, lat, z) for lon in (west, east) for lat in (south, north)}
        if len(corners) == 1:
            return corners.pop()
    raise AssertionError("grid not inside one tile")
