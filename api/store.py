"""Persistence of the service: unit datasets, scenarios, zoning layers and the audit log.

The service talks to storage only through the small :class:`Store` protocol, so a PostGIS
store can be added later. :class:`SqliteStore` is the embedded default: one SQLite file in
the data directory, in WAL mode with ``synchronous=FULL``. Every write is one
``BEGIN IMMEDIATE`` transaction that also appends its audit row, so a crash (even
``kill -9``) leaves either the whole change or none of it.

Scenarios and zoning features carry an integer ``version`` for optimistic concurrency: a
write names the version it was based on, and a stale write raises
:class:`geo.errors.ConflictError` with the current version and object, never overwriting.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from diagioi.geo.errors import ConflictError, InputError, NotFoundError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS unit_datasets (
    version TEXT PRIMARY KEY,          -- content hash of the dataset (UnitSet.version)
    name TEXT NOT NULL,
    file_name TEXT NOT NULL,           -- copy inside <data_dir>/units/
    source_path TEXT NOT NULL,         -- where it was imported from
    unit_count INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0
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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class UnitsDatasetRecord:
    """A unit dataset imported into the store (a file copy plus its content-hash version)."""

    version: str
    name: str
    path: Path
    source_path: str
    unit_count: int
    imported_at: str
    active: bool


@dataclass(frozen=True)
class ScenarioRecord:
    """A stored scenario: its contract JSON (``body``) and its optimistic-concurrency ``version``."""

    scenario_id: str
    name: str
    version: int
    body: dict[str, Any]
    units_version: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class FeatureRecord:
    """One feature of a zoning layer."""

    kind: str
    feature_id: str
    version: int
    geometry: dict[str, Any]
    properties: dict[str, Any]
    created_at: str
    updated_at: str

    def to_geojson(self) -> dict[str, Any]:
        """GeoJSON Feature with ``id`` and the version in ``properties._version``-free form."""
        return {"type": "Feature", "id": self.feature_id, "geometry": self.geometry,
                "properties": dict(self.properties), "version": self.version}


@dataclass(frozen=True)
class AuditEntry:
    """One change: who, when, what (from → to), and against which unit data."""

    entry_id: int
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    before: Any
    after: Any
    base_data_version: str | None


@dataclass(frozen=True)
class NewFeature:
    """A feature to add: geometry and attributes already validated by ``layers.models``."""

    geometry: dict[str, Any]
    properties: dict[str, Any] = field(default_factory=dict)
    feature_id: str | None = None


class Store(Protocol):
    """What the service needs from storage. Implementations: :class:`SqliteStore` (PostGIS later)."""

    # unit datasets
    def import_units_dataset(self, source: Path, *, version: str, name: str, unit_count: int,
                             actor: str) -> UnitsDatasetRecord: ...
    def active_units_dataset(self) -> UnitsDatasetRecord | None: ...

    # scenarios
    def list_scenarios(self) -> list[ScenarioRecord]: ...
    def get_scenario(self, scenario_id: str) -> ScenarioRecord: ...
    def create_scenario(self, body: dict[str, Any], *, actor: str,
                        base_data_version: str | None) -> ScenarioRecord: ...
    def update_scenario(self, scenario_id: str, body: dict[str, Any], *, expected_version: int, actor: str,
                        base_data_version: str | None) -> ScenarioRecord: ...
    def delete_scenario(self, scenario_id: str, *, expected_version: int | None, actor: str,
                        base_data_version: str | None) -> None: ...

    # zoning layers
    def layer_version(self, kind: str) -> int: ...
    def list_features(self, kind: str) -> list[FeatureRecord]: ...
    def get_feature(self, kind: str, feature_id: str) -> FeatureRecord: ...
    def add_features(self, kind: str, features: list[NewFeature], *, actor: str,
                     base_data_version: str | None) -> list[FeatureRecord]: ...
    def update_feature(self, kind: str, feature_id: str, feature: NewFeature, *, expected_version: int | None,
                       actor: str, base_data_version: str | None) -> FeatureRecord: ...
    def delete_feature(self, kind: str, feature_id: str, *, expected_version: int | None, actor: str,
                       base_data_version: str | None) -> None: ...

    # audit
    def audit_log(self, *, object_type: str | None = None, object_id: str | None = None,
                  limit: int = 100) -> list[AuditEntry]: ...


class SqliteStore:
    """The embedded store: ``<data_dir>/diagioi.sqlite`` plus unit dataset copies in ``<data_dir>/units/``.

    Safe to share between threads: each operation opens its own connection, and SQLite's
    WAL lets readers run while one writer holds the ``BEGIN IMMEDIATE`` lock.
    """

    def __init__(self, data_dir: Path | str):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "units").mkdir(exist_ok=True)
        self.path = self.data_dir / "diagioi.sqlite"
        with self._connect() as connection:
            # WAL is a property of the file; set once, it stays.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
            connection.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                               (str(SCHEMA_VERSION),))

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: we issue BEGIN ourselves so the write lock is taken up front.
        connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA busy_timeout=30000")
            connection.row_factory = sqlite3.Row
            yield connection
        finally:
            connection.close()

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

    @staticmethod
    def _audit(connection: sqlite3.Connection, *, actor: str, action: str, object_type: str, object_id: str,
               before: Any, after: Any, base_data_version: str | None) -> None:
        connection.execute(
            "INSERT INTO audit_log (at, actor, action, object_type, object_id, before, after, base_data_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (_now(), actor, action, object_type, object_id,
             None if before is None else json.dumps(before, ensure_ascii=False),
             None if after is None else json.dumps(after, ensure_ascii=False),
             base_data_version),
        )

    # ------------------------------------------------------------------ unit datasets
    def import_units_dataset(self, source: Path, *, version: str, name: str, unit_count: int,
                             actor: str) -> UnitsDatasetRecord:
        """Copy a unit file into the store (if this version is new) and make it the active dataset."""
        source = Path(source)
        file_name = f"{version}{source.suffix.lower() or '.geojson'}"
        target = self.data_dir / "units" / file_name
        if not target.exists():
            _copy_atomically(source, target)
            if source.suffix.lower() == ".shp":
                # A shapefile is several files; copy its sidecars under the same stem.
                for sidecar in source.parent.glob(source.stem + ".*"):
                    if sidecar != source:
                        _copy_atomically(sidecar, target.with_suffix(sidecar.suffix))
        with self._write() as connection:
            existing = connection.execute("SELECT version FROM unit_datasets WHERE version = ?",
                                          (version,)).fetchone()
            previous = connection.execute("SELECT version FROM unit_datasets WHERE active = 1").fetchone()
            connection.execute("UPDATE unit_datasets SET active = 0 WHERE active = 1")
            if existing is None:
                connection.execute(
                    "INSERT INTO unit_datasets (version, name, file_name, source_path, unit_count, imported_at, active)"
                    " VALUES (?, ?, ?, ?, ?, ?, 1)",
                    (version, name, file_name, str(source), unit_count, _now()),
                )
            else:
                connection.execute("UPDATE unit_datasets SET active = 1 WHERE version = ?", (version,))
            if existing is None or previous is None or previous["version"] != version:
                self._audit(connection, actor=actor, action="import" if existing is None else "activate",
                            object_type="unit_dataset", object_id=version,
                            before=None if previous is None else {"version": previous["version"]},
                            after={"version": version, "name": name, "source_path": str(source),
                                   "unit_count": unit_count},
                            base_data_version=version)
        record = self.active_units_dataset()
        assert record is not None  # just written in the transaction above
        return record

    def active_units_dataset(self) -> UnitsDatasetRecord | None:
        """The dataset the service serves, or None in a fresh store."""
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM unit_datasets WHERE active = 1").fetchone()
        if row is None:
            return None
        return UnitsDatasetRecord(version=row["version"], name=row["name"],
                                  path=self.data_dir / "units" / row["file_name"], source_path=row["source_path"],
                                  unit_count=row["unit_count"], imported_at=row["imported_at"], active=True)

    # ------------------------------------------------------------------ scenarios
    @staticmethod
    def _scenario(row: sqlite3.Row) -> ScenarioRecord:
        return ScenarioRecord(scenario_id=row["scenario_id"], name=row["name"], version=row["version"],
                              body=json.loads(row["body"]), units_version=row["units_version"],
                              created_at=row["created_at"], updated_at=row["updated_at"])

    def list_scenarios(self) -> list[ScenarioRecord]:
        with self._connect() as connection:
            rows = connection.execute("SELECT * FROM scenarios ORDER BY created_at, scenario_id").fetchall()
        return [self._scenario(row) for row in rows]

    def get_scenario(self, scenario_id: str) -> ScenarioRecord:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM scenarios WHERE scenario_id = ?", (scenario_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no scenario {scenario_id!r}", hint="list scenarios with GET /api/scenarios",
                                context={"scenario_id": scenario_id})
        return self._scenario(row)

    def create_scenario(self, body: dict[str, Any], *, actor: str,
                        base_data_version: str | None) -> ScenarioRecord:
        """Store a new scenario at version 1."""
        scenario_id = _new_id()
        now = _now()
        with self._write() as connection:
            connection.execute(
                "INSERT INTO scenarios (scenario_id, name, version, body, units_version, created_at, updated_at)"
                " VALUES (?, ?, 1, ?, ?, ?, ?)",
                (scenario_id, str(body.get("name", "")), json.dumps(body, ensure_ascii=False),
                 base_data_version, now, now),
            )
            self._audit(connection, actor=actor, action="create", object_type="scenario", object_id=scenario_id,
                        before=None, after=body, base_data_version=base_data_version)
        return self.get_scenario(scenario_id)

    def update_scenario(self, scenario_id: str, body: dict[str, Any], *, expected_version: int, actor: str,
                        base_data_version: str | None) -> ScenarioRecord:
        """Replace a scenario's body if it is still at ``expected_version``; else ConflictError."""
        with self._write() as connection:
            row = connection.execute("SELECT * FROM scenarios WHERE scenario_id = ?", (scenario_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no scenario {scenario_id!r}", hint="it may have been deleted; reload the list",
                                    context={"scenario_id": scenario_id})
            current = self._scenario(row)
            if current.version != expected_version:
                raise _stale("scenario", scenario_id, expected_version, current.version, current.body)
            connection.execute(
                "UPDATE scenarios SET name = ?, version = version + 1, body = ?, units_version = ?, updated_at = ?"
                " WHERE scenario_id = ? AND version = ?",
                (str(body.get("name", "")), json.dumps(body, ensure_ascii=False), base_data_version, _now(),
                 scenario_id, expected_version),
            )
            self._audit(connection, actor=actor, action="update", object_type="scenario", object_id=scenario_id,
                        before=_diff_before(current.body, body), after=_diff_after(current.body, body),
                        base_data_version=base_data_version)
        return self.get_scenario(scenario_id)

    def delete_scenario(self, scenario_id: str, *, expected_version: int | None, actor: str,
                        base_data_version: str | None) -> None:
        """Delete a scenario (checking ``expected_version`` when given)."""
        with self._write() as connection:
            row = connection.execute("SELECT * FROM scenarios WHERE scenario_id = ?", (scenario_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no scenario {scenario_id!r}", hint="it may already have been deleted",
                                    context={"scenario_id": scenario_id})
            current = self._scenario(row)
            if expected_version is not None and current.version != expected_version:
                raise _stale("scenario", scenario_id, expected_version, current.version, current.body)
            connection.execute("DELETE FROM scenarios WHERE scenario_id = ?", (scenario_id,))
            self._audit(connection, actor=actor, action="delete", object_type="scenario", object_id=scenario_id,
                        before=current.body, after=None, base_data_version=base_data_version)

    # ------------------------------------------------------------------ zoning layers
    @staticmethod
    def _feature(row: sqlite3.Row) -> FeatureRecord:
        return FeatureRecord(kind=row["kind"], feature_id=row["feature_id"], version=row["version"],
                             geometry=json.loads(row["geometry"]), properties=json.loads(row["properties"]),
                             created_at=row["created_at"], updated_at=row["updated_at"])

    @staticmethod
    def _bump_layer(connection: sqlite3.Connection, kind: str) -> None:
        connection.execute(
            "INSERT INTO layer_versions (kind, version) VALUES (?, 1)"
            " ON CONFLICT(kind) DO UPDATE SET version = version + 1", (kind,))

    def layer_version(self, kind: str) -> int:
        """Counter bumped by every write to the layer (0 for a layer never written)."""
        with self._connect() as connection:
            row = connection.execute("SELECT version FROM layer_versions WHERE kind = ?", (kind,)).fetchone()
        return 0 if row is None else int(row["version"])

    def list_features(self, kind: str) -> list[FeatureRecord]:
        with self._connect() as connection:
            rows = connection.execute("SELECT * FROM layer_features WHERE kind = ? ORDER BY created_at, feature_id",
                                      (kind,)).fetchall()
        return [self._feature(row) for row in rows]

    def get_feature(self, kind: str, feature_id: str) -> FeatureRecord:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM layer_features WHERE kind = ? AND feature_id = ?",
                                     (kind, feature_id)).fetchone()
        if row is None:
            raise NotFoundError(f"no feature {feature_id!r} in layer {kind}",
                                hint=f"list the layer with GET /api/layers/{kind}",
                                context={"kind": kind, "feature_id": feature_id})
        return self._feature(row)

    def add_features(self, kind: str, features: list[NewFeature], *, actor: str,
                     base_data_version: str | None) -> list[FeatureRecord]:
        """Add features in one transaction: all are stored, or none (e.g. on a duplicate id)."""
        now = _now()
        ids: list[str] = []
        with self._write() as connection:
            for feature in features:
                feature_id = str(feature.feature_id) if feature.feature_id not in (None, "") else _new_id()
                existing = connection.execute("SELECT * FROM layer_features WHERE kind = ? AND feature_id = ?",
                                              (kind, feature_id)).fetchone()
                if existing is not None or feature_id in ids:
                    raise ConflictError(
                        f"layer {kind} already has a feature with id {feature_id!r}",
                        current_version=None if existing is None else existing["version"],
                        hint="give the feature another id, leave the id out to get a new one, "
                             f"or edit it with PUT /api/layers/{kind}/{feature_id}",
                        context={"kind": kind, "feature_id": feature_id})
                connection.execute(
                    "INSERT INTO layer_features (kind, feature_id, version, geometry, properties, created_at, updated_at)"
                    " VALUES (?, ?, 1, ?, ?, ?, ?)",
                    (kind, feature_id, json.dumps(feature.geometry), json.dumps(feature.properties, ensure_ascii=False),
                     now, now),
                )
                self._audit(connection, actor=actor, action="create", object_type="layer_feature",
                            object_id=f"{kind}/{feature_id}", before=None,
                            after={"geometry": feature.geometry, "properties": feature.properties},
                            base_data_version=base_data_version)
                ids.append(feature_id)
            if ids:
                self._bump_layer(connection, kind)
        return [self.get_feature(kind, feature_id) for feature_id in ids]

    def update_feature(self, kind: str, feature_id: str, feature: NewFeature, *, expected_version: int | None,
                       actor: str, base_data_version: str | None) -> FeatureRecord:
        """Replace a feature's geometry and attributes (checking ``expected_version`` when given)."""
        with self._write() as connection:
            row = connection.execute("SELECT * FROM layer_features WHERE kind = ? AND feature_id = ?",
                                     (kind, feature_id)).fetchone()
            if row is None:
                raise NotFoundError(f"no feature {feature_id!r} in layer {kind}",
                                    hint=f"create it with POST /api/layers/{kind}",
                                    context={"kind": kind, "feature_id": feature_id})
            current = self._feature(row)
            if expected_version is not None and current.version != expected_version:
                raise _stale("feature", feature_id, expected_version, current.version, current.to_geojson())
            connection.execute(
                "UPDATE layer_features SET version = version + 1, geometry = ?, properties = ?, updated_at = ?"
                " WHERE kind = ? AND feature_id = ?",
                (json.dumps(feature.geometry), json.dumps(feature.properties, ensure_ascii=False), _now(),
                 kind, feature_id),
            )
            before = {"geometry": current.geometry, "properties": current.properties}
            after = {"geometry": feature.geometry, "properties": feature.properties}
            self._audit(connection, actor=actor, action="update", object_type="layer_feature",
                        object_id=f"{kind}/{feature_id}", before=_diff_before(before, after),
                        after=_diff_after(before, after), base_data_version=base_data_version)
            self._bump_layer(connection, kind)
        return self.get_feature(kind, feature_id)

    def delete_feature(self, kind: str, feature_id: str, *, expected_version: int | None, actor: str,
                       base_data_version: str | None) -> None:
        with self._write() as connection:
            row = connection.execute("SELECT * FROM layer_features WHERE kind = ? AND feature_id = ?",
                                     (kind, feature_id)).fetchone()
            if row is None:
                raise NotFoundError(f"no feature {feature_id!r} in layer {kind}",
                                    hint="it may already have been deleted",
                                    context={"kind": kind, "feature_id": feature_id})
            current = self._feature(row)
            if expected_version is not None and current.version != expected_version:
                raise _stale("feature", feature_id, expected_version, current.version, current.to_geojson())
            connection.execute("DELETE FROM layer_features WHERE kind = ? AND feature_id = ?", (kind, feature_id))
            self._audit(connection, actor=actor, action="delete", object_type="layer_feature",
                        object_id=f"{kind}/{feature_id}",
                        before={"geometry": current.geometry, "properties": current.properties}, after=None,
                        base_data_version=base_data_version)
            self._bump_layer(connection, kind)

    # ------------------------------------------------------------------ audit
    def audit_log(self, *, object_type: str | None = None, object_id: str | None = None,
                  limit: int = 100) -> list[AuditEntry]:
        """Newest changes first."""
        clauses, params = [], []
        if object_type is not None:
            clauses.append("object_type = ?")
            params.append(object_type)
        if object_id is not None:
            clauses.append("object_id = ?")
            params.append(object_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as connection:
            rows = connection.execute(f"SELECT * FROM audit_log {where} ORDER BY entry_id DESC LIMIT ?",
                                      (*params, int(limit))).fetchall()
        return [AuditEntry(entry_id=row["entry_id"], at=row["at"], actor=row["actor"], action=row["action"],
                           object_type=row["object_type"], object_id=row["object_id"],
                           before=None if row["before"] is None else json.loads(row["before"]),
                           after=None if row["after"] is None else json.loads(row["after"]),
                           base_data_version=row["base_data_version"]) for row in rows]


def _stale(what: str, object_id: str, expected: int, current_version: int, current: Any) -> ConflictError:
    return ConflictError(
        f"{what} {object_id!r} was changed by someone else: you edited version {expected}, "
        f"the stored one is version {current_version}",
        current_version=current_version, current=current,
        hint="reload it (the current version is in this response), re-apply your change and save again",
        context={f"{what}_id": object_id, "your_version": expected, "current_version": current_version},
    )


def _diff_before(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The top-level keys that changed, with their old values (keeps the audit log small)."""
    return {k: before.get(k) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}


def _diff_after(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: after.get(k) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}


def _copy_atomically(source: Path, target: Path) -> None:
    """Copy via a temporary file, fsync, then rename: the target is complete or absent."""
    if not source.exists():
        raise InputError(f"file not found: {source}", hint="check the path of the unit dataset",
                         context={"file": str(source)})
    temporary = target.with_name(target.name + ".part")
    shutil.copyfile(source, temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, target)
