"""What the SQLite and PostGIS stores share: scenarios, zoning features, layer versions and the audit log.

The rules of the :class:`~.records.Store` contract are written here once — a write names the version it
read and a stale one raises :class:`~geo.errors.ConflictError`; each write and its audit row are one
transaction; a batch of features is stored whole or not at all; every write to a layer bumps its
version. A subclass gives its connection handling and its dialect:

* ``_read()`` / ``_write()``: context managers yielding an object with ``execute(sql, params)``
  (autocommit reads; one transaction per write);
* ``PARAM``: the driver's placeholder (the SQL here is written with ``%s``);
* ``_SCENARIO_COLUMNS`` / ``_FEATURE_COLUMNS`` / ``_AUDIT_COLUMNS``: the columns in the order the
  records are read, JSON as text;
* ``_FOR_UPDATE``: the row lock a read-then-write takes (PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
  already holds the file's write lock);
* ``_lock_layer(db, kind)``: serialises the writers of one layer (PostgreSQL advisory lock);
* ``_GEOM_*``: an indexed geometry column kept beside the GeoJSON (PostGIS).

Units datasets differ too much between the two (PostGIS geometry rows, advisory locks) and stay in
the subclasses.
"""
from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any

from .records import (AuditEntry, FeatureRecord, NewFeature, ScenarioRecord, StoreVersions, diff_after,
                      diff_before, feature_id_taken, missing_feature, missing_scenario, new_id, now_text,
                      stale_error)


def dumps(value: Any) -> str:
    """JSON text as stored (UTF-8 kept, so Vietnamese names stay readable in the database)."""
    return json.dumps(value, ensure_ascii=False)


class SqlStore:
    """The scenario, zoning-layer and audit half of a :class:`~.records.Store` on SQL (see the module)."""

    PARAM = "%s"
    _SCENARIO_COLUMNS = "scenario_id, name, version, body, units_version, created_at, updated_at"
    _FEATURE_COLUMNS = "kind, feature_id, version, geometry, properties, created_at, updated_at"
    _AUDIT_COLUMNS = "entry_id, at, actor, action, object_type, object_id, before, after, base_data_version"
    _FEATURE_ORDER = "created_at, feature_id"
    _FOR_UPDATE = ""
    _GEOM_COLUMN = ""   # "geom" where the store keeps an indexed geometry beside the GeoJSON
    _GEOM_VALUE = ""    # its value from the GeoJSON parameter, e.g. "ST_GeomFromGeoJSON(%s)"
    _ACTIVE_DATASET = "active = 1"                            # the default dataset's row
    _LAYER_VERSIONS_JSON = "json_group_object(kind, version)"  # every layer counter as one JSON text

    # ------------------------------------------------------------------ plumbing (given by the subclass)
    def _read(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _lock_layer(self, db: Any, kind: str) -> None:
        """Hold the layer's writers off until this transaction ends (nothing to do where writes are serial)."""

    def _sql(self, text: str) -> str:
        return text if self.PARAM == "%s" else text.replace("%s", self.PARAM)

    def _execute(self, db: Any, text: str, params: tuple = ()):
        return db.execute(self._sql(text), params)

    def _audit(self, db: Any, *, actor: str, action: str, object_type: str, object_id: str, before: Any,
               after: Any, base_data_version: str | None) -> None:
        self._execute(
            db, "INSERT INTO audit_log (at, actor, action, object_type, object_id, before, after, base_data_version)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (now_text(), actor, action, object_type, object_id, None if before is None else dumps(before),
             None if after is None else dumps(after), base_data_version))

    # ------------------------------------------------------------------ versions
    def versions(self, scenario_id: str | None = None) -> StoreVersions:
        """The default dataset, the layer counters and the named scenario in one statement: every request
        reads them (an edit acknowledged by another worker is served at once), so one round trip, not three."""
        scenario_columns = ", ".join(f"s.{column.strip()}" for column in self._SCENARIO_COLUMNS.split(","))
        with self._read() as db:
            row = self._execute(
                db, f"SELECT (SELECT version FROM units_datasets WHERE {self._ACTIVE_DATASET}),"
                    f" (SELECT {self._LAYER_VERSIONS_JSON} FROM layer_versions), {scenario_columns}"
                    " FROM (SELECT 1 AS one) AS request LEFT JOIN scenarios AS s ON s.scenario_id = %s",
                (scenario_id,)).fetchone()
        layers = {str(kind): int(version) for kind, version in json.loads(row[1] or "{}").items()}
        scenario = self._scenario(row[2:]) if row[2] is not None else None
        return StoreVersions(active_dataset=row[0], layers=layers, scenario=scenario)

    # ------------------------------------------------------------------ scenarios
    @staticmethod
    def _scenario(row) -> ScenarioRecord:
        return ScenarioRecord(scenario_id=row[0], name=row[1], version=row[2], body=json.loads(row[3]),
                              units_version=row[4], created_at=row[5], updated_at=row[6])

    def list_scenarios(self) -> list[ScenarioRecord]:
        with self._read() as db:
            rows = self._execute(db, f"SELECT {self._SCENARIO_COLUMNS} FROM scenarios"
                                     " ORDER BY created_at, scenario_id").fetchall()
        return [self._scenario(row) for row in rows]

    def get_scenario(self, scenario_id: str) -> ScenarioRecord:
        with self._read() as db:
            row = self._execute(db, f"SELECT {self._SCENARIO_COLUMNS} FROM scenarios WHERE scenario_id = %s",
                                (scenario_id,)).fetchone()
        if row is None:
            raise missing_scenario(scenario_id, "hint.list_scenarios")
        return self._scenario(row)

    def create_scenario(self, body: dict[str, Any], *, actor: str,
                        base_data_version: str | None) -> ScenarioRecord:
        """Store a new scenario at version 1."""
        scenario_id = new_id()
        now = now_text()
        with self._write() as db:
            self._execute(db, "INSERT INTO scenarios (scenario_id, name, version, body, units_version, created_at,"
                              " updated_at) VALUES (%s, %s, 1, %s, %s, %s, %s)",
                          (scenario_id, str(body.get("name", "")), dumps(body), base_data_version, now, now))
            self._audit(db, actor=actor, action="create", object_type="scenario", object_id=scenario_id,
                        before=None, after=body, base_data_version=base_data_version)
        return self.get_scenario(scenario_id)

    def _current_scenario(self, db: Any, scenario_id: str, hint: str) -> ScenarioRecord:
        row = self._execute(db, f"SELECT {self._SCENARIO_COLUMNS} FROM scenarios WHERE scenario_id = %s"
                                f"{self._FOR_UPDATE}", (scenario_id,)).fetchone()
        if row is None:
            raise missing_scenario(scenario_id, hint)
        return self._scenario(row)

    def update_scenario(self, scenario_id: str, body: dict[str, Any], *, expected_version: int, actor: str,
                        base_data_version: str | None) -> ScenarioRecord:
        """Replace a scenario's body if it is still at ``expected_version``; else ConflictError."""
        with self._write() as db:
            current = self._current_scenario(db, scenario_id, "hint.deleted_reload")
            if current.version != expected_version:
                raise stale_error("scenario", scenario_id, expected_version, current.version, current.body)
            self._execute(db, "UPDATE scenarios SET name = %s, version = version + 1, body = %s, units_version = %s,"
                              " updated_at = %s WHERE scenario_id = %s AND version = %s",
                          (str(body.get("name", "")), dumps(body), base_data_version, now_text(), scenario_id,
                           expected_version))
            self._audit(db, actor=actor, action="update", object_type="scenario", object_id=scenario_id,
                        before=diff_before(current.body, body), after=diff_after(current.body, body),
                        base_data_version=base_data_version)
        return self.get_scenario(scenario_id)

    def delete_scenario(self, scenario_id: str, *, expected_version: int | None, actor: str,
                        base_data_version: str | None) -> None:
        """Delete a scenario (checking ``expected_version`` when given)."""
        with self._write() as db:
            current = self._current_scenario(db, scenario_id, "hint.already_deleted")
            if expected_version is not None and current.version != expected_version:
                raise stale_error("scenario", scenario_id, expected_version, current.version, current.body)
            self._execute(db, "DELETE FROM scenarios WHERE scenario_id = %s", (scenario_id,))
            self._audit(db, actor=actor, action="delete", object_type="scenario", object_id=scenario_id,
                        before=current.body, after=None, base_data_version=base_data_version)

    # ------------------------------------------------------------------ zoning layers
    @staticmethod
    def _feature(row) -> FeatureRecord:
        return FeatureRecord(kind=row[0], feature_id=row[1], version=row[2], geometry=json.loads(row[3]),
                             properties=json.loads(row[4]), created_at=row[5], updated_at=row[6])

    def _bump_layer(self, db: Any, kind: str) -> None:
        self._execute(db, "INSERT INTO layer_versions (kind, version) VALUES (%s, 1)"
                          " ON CONFLICT (kind) DO UPDATE SET version = layer_versions.version + 1", (kind,))

    def layer_version(self, kind: str) -> int:
        """Counter bumped by every write to the layer (0 for a layer never written)."""
        with self._read() as db:
            row = self._execute(db, "SELECT version FROM layer_versions WHERE kind = %s", (kind,)).fetchone()
        return 0 if row is None else int(row[0])

    def layer_versions(self) -> dict[str, int]:
        """Every written layer's counter in one query (a layer never written is absent)."""
        with self._read() as db:
            rows = self._execute(db, "SELECT kind, version FROM layer_versions").fetchall()
        return {str(row[0]): int(row[1]) for row in rows}

    def list_features(self, kind: str) -> list[FeatureRecord]:
        with self._read() as db:
            rows = self._execute(db, f"SELECT {self._FEATURE_COLUMNS} FROM layer_features WHERE kind = %s"
                                     f" ORDER BY {self._FEATURE_ORDER}", (kind,)).fetchall()
        return [self._feature(row) for row in rows]

    def get_feature(self, kind: str, feature_id: str) -> FeatureRecord:
        with self._read() as db:
            row = self._execute(db, f"SELECT {self._FEATURE_COLUMNS} FROM layer_features"
                                    " WHERE kind = %s AND feature_id = %s", (kind, feature_id)).fetchone()
        if row is None:
            raise missing_feature(kind, feature_id, "hint.list_layer")
        return self._feature(row)

    def _geometry_params(self, geometry_json: str) -> tuple:
        return (geometry_json,) if self._GEOM_COLUMN else ()

    def _geometry_sql(self, template: str) -> str:
        """``template`` with {column}/{value}/{assign} filled for the indexed geometry ("" without one)."""
        if not self._GEOM_COLUMN:
            return template.format(column="", value="", assign="")
        return template.format(column=f", {self._GEOM_COLUMN}", value=f", {self._GEOM_VALUE}",
                               assign=f"{self._GEOM_COLUMN} = {self._GEOM_VALUE}, ")

    def add_features(self, kind: str, features: list[NewFeature], *, actor: str,
                     base_data_version: str | None) -> list[FeatureRecord]:
        """Add features in one transaction: all are stored, or none (e.g. on a duplicate id)."""
        now = now_text()
        ids: list[str] = []
        with self._write() as db:
            self._lock_layer(db, kind)  # ids are checked and the version bumped in order
            for feature in features:
                feature_id = str(feature.feature_id) if feature.feature_id not in (None, "") else new_id()
                existing = self._execute(db, "SELECT version FROM layer_features WHERE kind = %s AND feature_id = %s",
                                         (kind, feature_id)).fetchone()
                if existing is not None or feature_id in ids:
                    raise feature_id_taken(kind, feature_id, None if existing is None else existing[0])
                geometry = dumps(feature.geometry)
                self._execute(
                    db, self._geometry_sql(
                        "INSERT INTO layer_features (kind, feature_id, version, geometry, properties, created_at,"
                        " updated_at{column}) VALUES (%s, %s, 1, %s, %s, %s, %s{value})"),
                    (kind, feature_id, geometry, dumps(feature.properties), now, now,
                     *self._geometry_params(geometry)))
                self._audit(db, actor=actor, action="create", object_type="layer_feature",
                            object_id=f"{kind}/{feature_id}", before=None,
                            after={"geometry": feature.geometry, "properties": feature.properties},
                            base_data_version=base_data_version)
                ids.append(feature_id)
            if ids:
                self._bump_layer(db, kind)
        return [self.get_feature(kind, feature_id) for feature_id in ids]

    def _current_feature(self, db: Any, kind: str, feature_id: str, hint: str) -> FeatureRecord:
        self._lock_layer(db, kind)
        row = self._execute(db, f"SELECT {self._FEATURE_COLUMNS} FROM layer_features"
                                f" WHERE kind = %s AND feature_id = %s{self._FOR_UPDATE}",
                            (kind, feature_id)).fetchone()
        if row is None:
            raise missing_feature(kind, feature_id, hint)
        return self._feature(row)

    def update_feature(self, kind: str, feature_id: str, feature: NewFeature, *, expected_version: int | None,
                       actor: str, base_data_version: str | None) -> FeatureRecord:
        """Replace a feature's geometry and attributes (checking ``expected_version`` when given)."""
        with self._write() as db:
            current = self._current_feature(db, kind, feature_id, "hint.create_feature")
            if expected_version is not None and current.version != expected_version:
                raise stale_error("feature", feature_id, expected_version, current.version, current.to_geojson())
            geometry = dumps(feature.geometry)
            self._execute(
                db, self._geometry_sql("UPDATE layer_features SET {assign}version = version + 1, geometry = %s,"
                                       " properties = %s, updated_at = %s WHERE kind = %s AND feature_id = %s"),
                (*self._geometry_params(geometry), geometry, dumps(feature.properties), now_text(), kind,
                 feature_id))
            before = {"geometry": current.geometry, "properties": current.properties}
            after = {"geometry": feature.geometry, "properties": feature.properties}
            self._audit(db, actor=actor, action="update", object_type="layer_feature",
                        object_id=f"{kind}/{feature_id}", before=diff_before(before, after),
                        after=diff_after(before, after), base_data_version=base_data_version)
            self._bump_layer(db, kind)
        return self.get_feature(kind, feature_id)

    def delete_feature(self, kind: str, feature_id: str, *, expected_version: int | None, actor: str,
                       base_data_version: str | None) -> None:
        with self._write() as db:
            current = self._current_feature(db, kind, feature_id, "hint.already_deleted")
            if expected_version is not None and current.version != expected_version:
                raise stale_error("feature", feature_id, expected_version, current.version, current.to_geojson())
            self._execute(db, "DELETE FROM layer_features WHERE kind = %s AND feature_id = %s", (kind, feature_id))
            self._audit(db, actor=actor, action="delete", object_type="layer_feature",
                        object_id=f"{kind}/{feature_id}",
                        before={"geometry": current.geometry, "properties": current.properties}, after=None,
                        base_data_version=base_data_version)
            self._bump_layer(db, kind)

    # ------------------------------------------------------------------ audit
    def audit_log(self, *, object_type: str | None = None, object_id: str | None = None,
                  limit: int = 100) -> list[AuditEntry]:
        """Newest changes first."""
        clauses, params = [], []
        if object_type is not None:
            clauses.append("object_type = %s")
            params.append(object_type)
        if object_id is not None:
            clauses.append("object_id = %s")
            params.append(object_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._read() as db:
            rows = self._execute(db, f"SELECT {self._AUDIT_COLUMNS} FROM audit_log {where}"
                                     " ORDER BY entry_id DESC LIMIT %s", (*params, int(limit))).fetchall()
        return [AuditEntry(entry_id=r[0], at=r[1], actor=r[2], action=r[3], object_type=r[4], object_id=r[5],
                           before=None if r[6] is None else json.loads(r[6]),
                           after=None if r[7] is None else json.loads(r[7]), base_data_version=r[8])
                for r in rows]
