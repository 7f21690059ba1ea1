"""The embedded SQLite store: versions, conflicts, audit log, atomic writes, crash safety."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from diagioi.api.store import NewFeature, SqliteStore
from diagioi.geo.errors import ConflictError, NotFoundError

REPO = Path(__file__).resolve().parents[2]
POINT = {"type": "Point", "coordinates": [105.76, 21.61]}


def test_scenario_versions_increase_and_stale_update_is_refused(tmp_path):
    store = SqliteStore(tmp_path)
    created = store.create_scenario({"name": "A", "new_units": []}, actor="lan", base_data_version="u1")
    assert created.version == 1
    updated = store.update_scenario(created.scenario_id, {"name": "B", "new_units": []}, expected_version=1,
                                    actor="lan", base_data_version="u1")
    assert (updated.version, updated.name) == (2, "B")

    with pytest.raises(ConflictError, match="version 1.*version 2") as caught:
        store.update_scenario(created.scenario_id, {"name": "C", "new_units": []}, expected_version=1,
                              actor="minh", base_data_version="u1")
    assert caught.value.current_version == 2
    assert caught.value.current == {"name": "B", "new_units": []}
    assert store.get_scenario(created.scenario_id).name == "B"  # never silently overwritten


def test_audit_log_records_who_what_from_to_and_data_version(tmp_path):
    store = SqliteStore(tmp_path)
    record = store.create_scenario({"name": "A", "regime": "R76"}, actor="lan", base_data_version="u1")
    store.update_scenario(record.scenario_id, {"name": "A2", "regime": "R76"}, expected_version=1,
                          actor="minh", base_data_version="u2")
    newest, oldest = store.audit_log(object_type="scenario", object_id=record.scenario_id)
    assert (oldest.action, oldest.actor, oldest.before, oldest.after) == (
        "create", "lan", None, {"name": "A", "regime": "R76"})
    assert (newest.action, newest.actor, newest.base_data_version) == ("update", "minh", "u2")
    assert (newest.before, newest.after) == ({"name": "A"}, {"name": "A2"})  # only what changed


def test_data_survives_reopening_the_store(tmp_path):
    store = SqliteStore(tmp_path)
    record = store.create_scenario({"name": "A"}, actor="lan", base_data_version=None)
    store.add_features("tourism_sites", [NewFeature(POINT, {"name": "Chùa"}, "site-1")], actor="lan",
                       base_data_version=None)

    reopened = SqliteStore(tmp_path)
    assert reopened.get_scenario(record.scenario_id).body == {"name": "A"}
    assert [f.feature_id for f in reopened.list_features("tourism_sites")] == ["site-1"]
    assert reopened.layer_version("tourism_sites") == 1
    with sqlite3.connect(tmp_path / "diagioi.sqlite") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_batch_with_a_duplicate_id_stores_nothing(tmp_path):
    store = SqliteStore(tmp_path)
    store.add_features("tourism_sites", [NewFeature(POINT, {"name": "A"}, "x")], actor="t", base_data_version=None)
    with pytest.raises(ConflictError, match="already has a feature with id 'x'"):
        store.add_features("tourism_sites", [NewFeature(POINT, {"name": "B"}, "y"),
                                             NewFeature(POINT, {"name": "C"}, "x")],
                           actor="t", base_data_version=None)
    assert [f.feature_id for f in store.list_features("tourism_sites")] == ["x"]
    assert store.layer_version("tourism_sites") == 1


def test_feature_update_and_delete_check_versions(tmp_path):
    store = SqliteStore(tmp_path)
    (feature,) = store.add_features("tourism_sites", [NewFeature(POINT, {"name": "A"}, "x")], actor="t",
                                    base_data_version=None)
    moved = {"type": "Point", "coordinates": [105.77, 21.62]}
    updated = store.update_feature("tourism_sites", "x", NewFeature(moved, {"name": "A"}), expected_version=1,
                                   actor="t", base_data_version=None)
    assert (updated.version, updated.geometry) == (2, moved)
    with pytest.raises(ConflictError):
        store.delete_feature("tourism_sites", "x", expected_version=1, actor="t", base_data_version=None)
    store.delete_feature("tourism_sites", "x", expected_version=2, actor="t", base_data_version=None)
    with pytest.raises(NotFoundError, match="no feature 'x'"):
        store.get_feature("tourism_sites", "x")
    assert store.layer_version("tourism_sites") == 3  # add, update, delete


_WRITER = textwrap.dedent("""
    import sys
    from diagioi.api.store import NewFeature, SqliteStore
    store = SqliteStore(sys.argv[1])
    point = {"type": "Point", "coordinates": [105.76, 21.61]}
    print("ready", flush=True)
    batch = 0
    while True:
        batch += 1
        features = [NewFeature(point, {"name": f"site {batch}-{i}", "note": "x" * 200}) for i in range(200)]
        store.add_features("tourism_sites", features, actor="writer", base_data_version=None)
""")


def test_kill_9_during_writes_leaves_whole_batches_only(tmp_path):
    """A writer killed with SIGKILL mid-transaction leaves a readable store with no half batch."""
    process = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], cwd=REPO,
                               stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert process.stdout.readline().strip() == b"ready"
        time.sleep(1.5)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    store = SqliteStore(tmp_path)
    with sqlite3.connect(tmp_path / "diagioi.sqlite") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    features = store.list_features("tourism_sites")
    audit_rows = store.audit_log(object_type="layer_feature", limit=1_000_000)
    assert len(features) % 200 == 0
    assert len(features) >= 200  # at least one batch committed in 1.5 s
    assert len(audit_rows) == len(features)  # every stored feature has its audit row, and no more
    assert store.layer_version("tourism_sites") == len(features) // 200
