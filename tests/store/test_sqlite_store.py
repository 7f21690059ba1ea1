"""What only the embedded SQLite store does: WAL, crash safety under kill -9, migration of old stores."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from diagioi.api.store import SqliteStore
from diagioi.geo.io import read_units

REPO = Path(__file__).resolve().parents[2]


def test_the_store_file_is_in_wal_mode(tmp_path):
    SqliteStore(tmp_path)
    with sqlite3.connect(tmp_path / "diagioi.sqlite") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


_WRITER = textwrap.dedent("""
    import sys
    from diagioi.api.store import NewFeature, SqliteStore
    store = SqliteStore(sys.argv[1])
    point = {"type": "Point", "coordinates": [105.76, 21.61]}
    batch = 0
    while True:
        batch += 1
        features = [NewFeature(point, {"name": f"site {batch}-{i}", "note": "x" * 200}) for i in range(200)]
        store.add_features("tourism_sites", features, actor="writer", base_data_version=None)
        print("committed", batch, flush=True)
""")


def test_kill_9_during_writes_leaves_whole_batches_only(tmp_path):
    """A writer killed with SIGKILL mid-transaction leaves a readable store with every acknowledged batch whole."""
    process = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], cwd=REPO,
                               stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        acknowledged = 0
        while acknowledged < 3:  # kill while the next batches are being written
            line = process.stdout.readline()
            assert line.startswith(b"committed"), line
            acknowledged = int(line.split()[1])
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    store = SqliteStore(tmp_path)
    with sqlite3.connect(tmp_path / "diagioi.sqlite") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    features = store.list_features("tourism_sites")
    audit_rows = store.audit_log(object_type="layer_feature", limit=1_000_000)
    assert len(features) % 200 == 0
    assert len(features) >= 200 * acknowledged  # nothing acknowledged is lost
    assert len(audit_rows) == len(features)  # every stored feature has its audit row, and no more
    assert store.layer_version("tourism_sites") == len(features) // 200


def test_a_store_of_schema_version_1_is_migrated_with_its_units_and_scenarios(tmp_path, grid_path):
    """Version 1 kept file copies named by a 5-column hash; version 2 keeps the units under the full hash."""
    data_dir = tmp_path / "old"
    (data_dir / "units").mkdir(parents=True)
    (data_dir / "units" / "abc123.geojson").write_bytes(grid_path.read_bytes())
    with sqlite3.connect(data_dir / "diagioi.sqlite") as connection:
        connection.executescript("""
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta VALUES ('schema_version', '1');
            CREATE TABLE unit_datasets (version TEXT PRIMARY KEY, name TEXT NOT NULL, file_name TEXT NOT NULL,
                source_path TEXT NOT NULL, unit_count INTEGER NOT NULL, imported_at TEXT NOT NULL,
                active INTEGER NOT NULL DEFAULT 0);
            INSERT INTO unit_datasets VALUES ('abc123', 'grid.geojson', 'abc123.geojson', '/somewhere/grid.geojson',
                9, '2026-01-01T00:00:00.000+00:00', 1);
            CREATE TABLE scenarios (scenario_id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL,
                body TEXT NOT NULL, units_version TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        """)
        connection.execute("INSERT INTO scenarios VALUES ('s1', 'A', 3, ?, 'abc123', 'x', 'x')",
                           (json.dumps({"name": "A"}),))

    store = SqliteStore(data_dir)
    expected = read_units(data_dir / "units" / "abc123.geojson").version
    assert store.schema_version() == 2
    (dataset,) = store.list_units_datasets()
    assert (dataset.version, dataset.name, dataset.active, dataset.unit_count) == (expected, "grid.geojson", True, 9)
    assert store.load_units(expected).version == expected
    assert store.get_scenario("s1").units_version == expected
    assert (store.get_scenario("s1").version, store.get_scenario("s1").body) == (3, {"name": "A"})
