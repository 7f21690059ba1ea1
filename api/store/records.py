"""Records and the Store protocol (see the package docstring: what every implementation promises)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, UTC
from typing import Any, Protocol

from diagioi.geo.errors import ConflictError, NotFoundError
from diagioi.geo.i18n import Message
from diagioi.geo.units import UnitSet

@dataclass(frozen=True)
class UnitsDatasetRecord:
    """A units dataset kept by the store, named by its content hash (:attr:`geo.units.UnitSet.version`).

    ``source`` says where it came from (a file name, "upload", the sample region…) as text;
    ``data_date`` is the date of the figures when the importer gave one (e.g. "2009-04-01").
    """

    version: str
    name: str
    source: str
    unit_count: int
    imported_at: str
    active: bool
    data_date: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "name": self.name, "source": self.source, "data_date": self.data_date,
                "unit_count": self.unit_count, "imported_at": self.imported_at, "active": self.active}


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
class StoreVersions:
    """What a request needs to know which cached objects are current, read in one round trip.

    ``active_dataset``: the default units dataset's version (None in a fresh store); ``layers``: the
    counter of every zoning layer ever written; ``scenario``: the scenario the request names (None when
    it names none, or one that does not exist).
    """

    active_dataset: str | None
    layers: dict[str, int]
    scenario: ScenarioRecord | None = None


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
    """What the service needs from storage."""

    # units datasets, keyed by content hash
    def put_units_dataset(self, units: UnitSet, *, name: str, source: str, actor: str,
                          data_date: str | None = None, activate: bool = True) -> UnitsDatasetRecord: ...
    def list_units_datasets(self) -> list[UnitsDatasetRecord]: ...
    def get_units_dataset(self, version: str) -> UnitsDatasetRecord: ...
    def load_units(self, version: str) -> UnitSet: ...
    def active_units_dataset(self) -> UnitsDatasetRecord | None: ...
    def activate_units_dataset(self, version: str, *, actor: str) -> UnitsDatasetRecord: ...

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
    def layer_versions(self) -> dict[str, int]: ...
    def versions(self, scenario_id: str | None = None) -> StoreVersions: ...
    def list_features(self, kind: str) -> list[FeatureRecord]: ...
    def get_feature(self, kind: str, feature_id: str) -> FeatureRecord: ...
    def add_features(self, kind: str, features: list[NewFeature], *, actor: str,
                     base_data_version: str | None) -> list[FeatureRecord]: ...
    def update_feature(self, kind: str, feature_id: str, feature: NewFeature, *, expected_version: int | None,
                       actor: str, base_data_version: str | None) -> FeatureRecord: ...
    def delete_feature(self, kind: str, feature_id: str, *, expected_version: int | None, actor: str,
                       base_data_version: str | None) -> None: ...

    # audit and identity
    def audit_log(self, *, object_type: str | None = None, object_id: str | None = None,
                  limit: int = 100) -> list[AuditEntry]: ...
    def schema_version(self) -> int: ...
    def describe(self) -> str: ...


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def stale_error(what: str, object_id: str, expected: int, current_version: int, current: Any) -> ConflictError:
    """``what`` is "scenario" or "feature"; the code stays "conflict" whatever the language."""
    return ConflictError(
        Message(f"error.stale_{what}", {"id": repr(object_id), "expected": expected, "current": current_version}),
        current_version=current_version, current=current, hint=Message("hint.stale"),
        context={f"{what}_id": object_id, "your_version": expected, "current_version": current_version},
        code="conflict",
    )


# Shared by both stores, so that SQLite and PostGIS answer a missing object in the same words and with the same
# codes as when these were plain English texts ("not_found", "conflict"): scripts match on the codes.
def missing_scenario(scenario_id: str, hint_key: str = "hint.list_scenarios") -> NotFoundError:
    return NotFoundError(Message("error.no_scenario", {"scenario_id": repr(scenario_id)}), hint=Message(hint_key),
                         context={"scenario_id": scenario_id}, code="not_found")


def missing_feature(kind: str, feature_id: str, hint_key: str = "hint.list_layer") -> NotFoundError:
    return NotFoundError(Message("error.no_feature", {"kind": kind, "feature_id": repr(feature_id)}),
                         hint=Message(hint_key, {"kind": kind}), context={"kind": kind, "feature_id": feature_id},
                         code="not_found")


def missing_dataset(version: str) -> NotFoundError:
    return NotFoundError(Message("error.no_dataset", {"dataset": repr(version)}), hint=Message("hint.list_datasets"),
                         context={"dataset": version}, code="not_found")


def feature_id_taken(kind: str, feature_id: str, current_version: int | None) -> ConflictError:
    return ConflictError(Message("error.feature_id_taken", {"kind": kind, "feature_id": repr(feature_id)}),
                         current_version=current_version,
                         hint=Message("hint.feature_id_taken", {"path": f"/api/layers/{kind}/{feature_id}"}),
                         context={"kind": kind, "feature_id": feature_id}, code="conflict")


def diff_before(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The top-level keys that changed, with their old values (keeps the audit log small)."""
    return {k: before.get(k) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}


def diff_after(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: after.get(k) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}
