"""The embedded store: one SQLite file (``<data_dir>/diagioi.sqlite``).

:class:`SqliteStore` implements :class:`~.records.Store`. The file is in WAL mode with
``synchronous=FULL``. Every write is one
``BEGIN IMMEDIATE`` transaction that also appends its audit row, so a crash (even
``kill -9``) leaves either the whole change or none of it.

Scenarios and zoning features carry an integer ``version`` for optimistic concurrency: a
write names the version it was based on, and a stale write raises
:class:`geo.errors.ConflictError` with the current version and object, never overwriting.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from diagioi.geo.errors import NotFoundError
from diagioi.geo.units import UnitSet

from .codec import UnitRow, decode_units, encode_units

from .records import UnitsDatasetRecord, missing_dataset, now_text
from .sql import SqlStore, dumps

#: Version 1 kept copies of unit files in <data_dir>/units/ named by a hash of 5 columns;
#: version 2 keeps the units themselves (unit_rows), named by the full content hash.
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS units_datasets (
    version TEXT PRIMARY KEY,          -- content hash of the dataset (UnitSet.version)
    name TEXT NOT NULL,
    source TEXT NOT NULL,              -- where it came from, as text (file name, upload, sample…)
    data_date TEXT,                    -- date of the figures, when given
    unit_count INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0,
    meta TEXT NOT NULL                 -- columns, dtypes, source CRS, field mapping, load issues (JSON)
);
CREATE TABLE IF NOT EXISTS unit_rows (
    dataset_version TEXT NOT NULL REFERENCES units_datasets (version),
    position INTEGER NOT NULL,
    code TEXT NOT NULL,
    properties TEXT NOT NULL,          -- JSON object of the unit's attributes
    geometry BLOB NOT NULL,            -- WKB, EPSG:4326
    PRIMARY KEY (dataset_version, position)
);
CREATE TABLE IF NOT EXISTS scenarios (
    scenario_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,                -- Scenario.to_dict() as JSON
    units_version TEXT,                -- unit dataset the scenario was last saved against
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS layer_features (
    kind TEXT NOT NULL,
    feature_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    geometry TEXT NOT NULL,            -- GeoJSON geometry, EPSG:4326
    properties TEXT NOT NULL,          -- JSON object
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, feature_id)
);
CREATE TABLE IF NOT EXISTS layer_versions (
    kind TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_log (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,              -- create | update | delete | import | activate
    object_type TEXT NOT NULL,         -- scenario | layer_feature | unit_dataset
    object_id TEXT NOT NULL,
    before TEXT,                       -- JSON of the object before the change (null on create)
    after TEXT,                        -- JSON after the change (null on delete)
    base_data_version TEXT             -- unit dataset version the change was made against
);
CREATE INDEX IF NOT EXISTS audit_object ON audit_log (object_type, object_id);
"""


class SqliteStore(SqlStore):
    """The embedded store: ``<data_dir>/diagioi.sqlite``.

    Safe to share between threads: each thread has its own connection (opened on its first
    operation, kept for the next ones), and SQLite's WAL lets readers run while one writer holds
    the ``BEGIN IMMEDIATE`` lock.
    """

    PARAM = "?"

    def __init__(self, data_dir: Path | str):
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        self._file = data_dir / "diagioi.sqlite"
        self._local = threading.local()
        with self._connect() as connection:
            # WAL is a property of the file; set once, it stays.
            connection.execute("PRAGMA journal_mode=WAL")
        with self._write() as connection:
            _create_schema(connection)
            _migrate(connection, data_dir)

    def describe(self) -> str:
        """Which store this is, for /api/health and logs."""
        return f"sqlite:{self._file}"

    def schema_version(self) -> int:
        """The schema version written in the store (read back, not assumed)."""
        with self._connect() as connection:
            row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row["value"])

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Opening a connection (and its pragmas) costs more than most queries of a request, so each
        # thread keeps one; in autocommit mode every statement sees the latest committed writes.
        connection = getattr(self._local, "connection", None)
        if connection is None:
            # isolation_level=None: we issue BEGIN ourselves so the write lock is taken up front.
            connection = sqlite3.connect(self._file, timeout=30.0, isolation_level=None)
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA busy_timeout=30000")
            connection.row_factory = sqlite3.Row
            self._local.connection = connection
        yield connection

    _read = _connect  # reads are autocommit statements on the thread's connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction (commit on success, roll back on any error)."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    # ------------------------------------------------------------------ units datasets
    @staticmethod
    def _dataset(row: sqlite3.Row) -> UnitsDatasetRecord:
        return UnitsDatasetRecord(version=row["version"], name=row["name"], source=row["source"],
                                  unit_count=row["unit_count"], imported_at=row["imported_at"],
                                  active=bool(row["active"]), data_date=row["data_date"])

    def put_units_dataset(self, units: UnitSet, *, name: str, source: str, actor: str,
                          data_date: str | None = None, activate: bool = True) -> UnitsDatasetRecord:
        """Keep a units dataset under its content hash (once) and, by default, make it the active one.

        The rows, the dataset record, the switch of the active dataset and the audit row are
        one transaction. Putting content that is already stored only (re)activates it.
        """
        version = units.version
        meta, rows = encode_units(units)
        with self._write() as connection:
            existing = connection.execute("SELECT * FROM units_datasets WHERE version = ?", (version,)).fetchone()
            previous = connection.execute("SELECT version FROM units_datasets WHERE active = 1").fetchone()
            if existing is None:
                connection.execute(
                    "INSERT INTO units_datasets (version, name, source, data_date, unit_count, imported_at, active,"
                    " meta) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                    (version, name, source, data_date, len(rows), now_text(), dumps(meta)))
                connection.executemany(
                    "INSERT INTO unit_rows (dataset_version, position, code, properties, geometry)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(version, row.position, row.code, row.properties, row.geometry) for row in rows])
                self._audit(connection, actor=actor, action="import", object_type="unit_dataset", object_id=version,
                            before=None, after={"version": version, "name": name, "source": source,
                                                "data_date": data_date, "unit_count": len(rows)},
                            base_data_version=version)
            if activate and (previous is None or previous["version"] != version):
                connection.execute("UPDATE units_datasets SET active = (version = ?)", (version,))
                self._audit(connection, actor=actor, action="activate", object_type="unit_dataset",
                            object_id=version, before=None if previous is None else {"version": previous["version"]},
                            after={"version": version}, base_data_version=version)
        return self.get_units_dataset(version)

    def list_units_datasets(self) -> list[UnitsDatasetRecord]:
        """Every stored units dataset, oldest first."""
        with self._connect() as connection:
            rows = connection.execute("SELECT * FROM units_datasets ORDER BY imported_at, version").fetchall()
        return [self._dataset(row) for row in rows]

    def get_units_dataset(self, version: str) -> UnitsDatasetRecord:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM units_datasets WHERE version = ?", (version,)).fetchone()
        if row is None:
            raise _no_dataset(version)
        return self._dataset(row)

    def load_units(self, version: str) -> UnitSet:
        """The stored units of a dataset version (same figures and content hash as when stored)."""
        with self._connect() as connection:
            record = connection.execute("SELECT meta FROM units_datasets WHERE version = ?", (version,)).fetchone()
            if record is None:
                raise _no_dataset(version)
            rows = connection.execute(
                "SELECT position, code, properties, geometry FROM unit_rows WHERE dataset_version = ?"
                " ORDER BY position", (version,)).fetchall()
        return decode_units(json.loads(record["meta"]),
                            [UnitRow(r["position"], r["code"], r["properties"], bytes(r["geometry"])) for r in rows])

    def active_units_dataset(self) -> UnitsDatasetRecord | None:
        """The dataset the service serves by default, or None in a fresh store."""
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM units_datasets WHERE active = 1").fetchone()
        return None if row is None else self._dataset(row)

    def activate_units_dataset(self, version: str, *, actor: str) -> UnitsDatasetRecord:
        """Make a stored dataset the default one (audited)."""
        with self._write() as connection:
            if connection.execute("SELECT 1 FROM units_datasets WHERE version = ?", (version,)).fetchone() is None:
                raise _no_dataset(version)
            previous = connection.execute("SELECT version FROM units_datasets WHERE active = 1").fetchone()
            if previous is None or previous["version"] != version:
                connection.execute("UPDATE units_datasets SET active = (version = ?)", (version,))
                self._audit(connection, actor=actor, action="activate", object_type="unit_dataset",
                            object_id=version, before=None if previous is None else {"version": previous["version"]},
                            after={"version": version}, base_data_version=version)
        return self.get_units_dataset(version)


def _no_dataset(version: str) -> NotFoundError:
    return missing_dataset(version)


def _create_schema(connection: sqlite3.Connection) -> None:
    """Create missing tables inside the caller's transaction (``executescript`` would commit)."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            connection.execute(statement)
    connection.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                       (str(SCHEMA_VERSION),))


def _migrate(connection: sqlite3.Connection, data_dir: Path) -> None:
    """Bring a store written by an older diagioi to :data:`SCHEMA_VERSION` (in the caller's transaction).

    1 → 2: each unit file copy of ``<data_dir>/units/`` is read again and kept as rows under its
    full content hash; scenarios and the audit log are re-pointed from the old short hash to it.
    A copy that can no longer be read is dropped from the list (scenarios on it keep the old
    version and are reported as on a dataset the store no longer has).
    """
    current = int(connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()["value"])
    has_v1 = connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'unit_datasets'").fetchone() is not None
    if current >= SCHEMA_VERSION and not has_v1:
        return
    if has_v1:
        from diagioi.geo.errors import DiagioiError
        from diagioi.geo.io import read_units

        old_rows = connection.execute("SELECT * FROM unit_datasets ORDER BY imported_at").fetchall()
        for old in old_rows:
            try:
                units = read_units(data_dir / "units" / old["file_name"])
            except (DiagioiError, OSError):
                continue
            meta, rows = encode_units(units)
            version = units.version
            connection.execute(
                "INSERT OR IGNORE INTO units_datasets (version, name, source, data_date, unit_count, imported_at,"
                " active, meta) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
                (version, old["name"], old["source_path"], len(rows), old["imported_at"], int(old["active"]),
                 dumps(meta)))
            connection.executemany(
                "INSERT OR IGNORE INTO unit_rows (dataset_version, position, code, properties, geometry)"
                " VALUES (?, ?, ?, ?, ?)",
                [(version, row.position, row.code, row.properties, row.geometry) for row in rows])
            connection.execute("UPDATE scenarios SET units_version = ? WHERE units_version = ?",
                               (version, old["version"]))
        connection.execute("DROP TABLE unit_datasets")
    connection.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
