"""Constants and request bodies shared by the API tests (imported by name: tests/api is on sys.path)."""
from __future__ import annotations

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
