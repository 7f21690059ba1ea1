"""The running service: the store, the active units, and caches keyed by versions.

Routes call these methods and turn the results into HTTP; every figure comes from geo/ or
layers/. Caches are keyed by versions (scenario version, unit dataset version, layer
versions), so an edit is visible on the next request and nothing stale is served.

* one :class:`geo.evaluation.Evaluation` per scenario (id + version + units version), so a
  reassign is incremental (``Evaluation.reassign``) rather than a full evaluation;
* tile sources per layer id and version;
* indicator tables per (areas, layer versions).
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from diagioi.geo.crs import WGS84
from diagioi.geo.errors import NotFoundError, ScenarioError
from diagioi.geo.i18n import Message
from diagioi.geo.io import read_units
from diagioi.geo.scenario import Scenario
from diagioi.geo.units import UnitSet
from diagioi.layers.caches import BoundedCache
from diagioi.layers.models import LayerKind

from .auth import load_or_create_token, tokens_match
from .settings import Settings
from .store import FeatureRecord, NewFeature, ScenarioRecord, Store, StoreVersions, open_store
from .store.records import stale_error

logger = logging.getLogger(__name__)

SCENARIO_LAYER_PREFIX = "scenario-"
UNITS_LAYER_PREFIX = "units-"          # units-{dataset version}: the units of another stored dataset
SYSTEM_ACTOR = "system"
SAMPLE_SOURCE = "geo.demo"  # stored in existing data stores: kept although the generator is now diagioi.demo



@dataclass(frozen=True)
class ReassignOutcome:
    record: ScenarioRecord
    evaluation: Any
    changed_ids: list[str]


class Service:
    """Everything a request needs; one instance per app (``app.state.service``)."""

    def __init__(self, settings: Settings, store: Store | None = None):
        self.settings = settings
        self.store: Store = store if store is not None else open_store(settings.store, data_dir=settings.data_dir,
                                                                          pool_size=settings.db_pool_size)
        # The write key: DIAGIOI_TOKEN, else the one kept in <data dir>/token (created on first start).
        self.token_generated = not settings.token
        self.token: str = settings.token or load_or_create_token(settings.data_dir)[0]
        self.sample_data = False
        self.demo_folder: Path | None = None
        self.units: UnitSet = self._load_units()
        self._scenario_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._evaluations = BoundedCache(64)
        self._sources = BoundedCache(16)
        self._indicators = BoundedCache(32)
        self._layer_frames = BoundedCache(16)
        self._units_geojson = BoundedCache(8)
        self._units_bboxes = BoundedCache(2)
        self._new_units = BoundedCache(16)   # dissolved new units per scenario version (tiles and indicators)
        self._unit_sets = BoundedCache(4)   # datasets other than the default, by content hash
        # (scenario, dataset) → (version, evaluation) of the newest version this process evaluated
        self._newest_evaluations = BoundedCache(64)
        # Bytes built from one scenario version: evaluation JSON per language (small) and downloads.
        self._documents = BoundedCache(64)
        self._downloads = BoundedCache(16)
        self._default_lock = threading.Lock()

    # ------------------------------------------------------------------ start-up
    def _load_units(self) -> UnitSet:
        settings = self.settings
        if settings.units_path is not None:
            units = read_units(settings.units_path)
            self.store.put_units_dataset(units, name=Path(settings.units_path).name,
                                         source=str(settings.units_path), actor=SYSTEM_ACTOR)
            return units
        active = self.store.active_units_dataset()
        if active is not None:
            units = self.store.load_units(active.version)
            self.sample_data = active.source == SAMPLE_SOURCE
            if self.sample_data:
                self.demo_folder = _demo_dir()
            return units
        # A fresh store and no --units: serve the sample region, clearly labelled as such.
        folder = _demo_dir()
        units = read_units(folder / "units.geojson")
        self.store.put_units_dataset(units, name="sample data (geo.demo)", source=SAMPLE_SOURCE, actor=SYSTEM_ACTOR)
        self.sample_data = True
        self.demo_folder = folder
        if settings.seed_demo:
            self._seed_demo(folder, units)
        return units

    def _seed_demo(self, folder: Path, units: UnitSet) -> None:
        from diagioi.layers.models import read_layer_file

        for kind in LayerKind:
            path = folder / f"{kind.value}.geojson"
            if path.exists() and self.store.layer_version(kind.value) == 0:
                features = read_layer_file(path, kind, allow_markers=True)
                self.store.add_features(kind.value, [_new_feature(f) for f in features], actor=SYSTEM_ACTOR,
                                        base_data_version=units.version)
        scenario_file = folder / "scenario.json"
        if scenario_file.exists() and not self.store.list_scenarios():
            scenario = Scenario.read(scenario_file)
            self.store.create_scenario(scenario.to_dict(), actor=SYSTEM_ACTOR, base_data_version=units.version)

    @property
    def raster_path(self) -> Path | None:
        """Population raster for drawn-polygon estimates (the sample one with sample units)."""
        if self.settings.raster_path is not None:
            return Path(self.settings.raster_path)
        if self.sample_data and self.demo_folder is not None and (self.demo_folder / "population.tif").exists():
            return self.demo_folder / "population.tif"
        return None

    # ------------------------------------------------------------------ auth
    def check_token(self, candidate: str) -> bool:
        return tokens_match(candidate, self.token)

    # ------------------------------------------------------------------ units
    def units_geojson_bytes(self, *, province: str | None, district: str | None, q: str | None,
                            geometry: bool = True, dataset: str | None = None) -> bytes:
        """The filtered units of a dataset (the default one when None) as GeoJSON bytes.

        Cached per dataset version, filters and ``geometry``.
        """
        import json

        units = self.units_for(dataset)
        key = (units.version, province, district, q, geometry)
        return self._units_geojson.get_or_build(key, lambda: json.dumps(
            self.units_geojson(units.search(province=province, district=district, q=q), geometry=geometry,
                               units=units),
            ensure_ascii=False, allow_nan=False).encode("utf-8"))

    def units_geojson(self, gdf: gpd.GeoDataFrame, *, geometry: bool = True,
                      units: UnitSet | None = None) -> dict[str, Any]:
        """GeoJSON FeatureCollection of units, with density (người/km²) from UnitSet.density().

        ``geometry=False`` gives the same features with ``"geometry": null`` and a ``bbox``
        ([min lon, min lat, max lon, max lat], 6 decimals, null for an empty geometry) each: the
        list a browser needs for search and zoom-to, without the boundaries the tiles already draw.
        """
        units = units or self.units
        density = units.density()
        frame = gdf.drop(columns=[c for c in gdf.columns if c == "code"]).copy()
        frame["density"] = density.reindex(gdf.index)
        if not geometry:
            frame[frame.geometry.name] = gpd.GeoSeries([None] * len(frame), index=frame.index, crs=frame.crs)
        frame.index.name = "code"
        frame = frame.reset_index()
        collection = frame.to_geo_dict(na="null", show_bbox=False, drop_id=True)
        if not geometry:
            bboxes = self.units_bboxes(units)
            for feature in collection["features"]:
                feature["bbox"] = bboxes.get(feature["properties"]["code"])
        return collection

    def units_bboxes(self, units: UnitSet | None = None) -> dict[str, list[float] | None]:
        """{unit code: [minx, miny, maxx, maxy] rounded to 6 decimals (~0.1 m) or None}, once per units version."""
        def build() -> dict[str, list[float] | None]:
            # Empty geometries have NaN bounds: no box rather than NaN (not JSON).
            bounds = units.gdf.geometry.bounds.round(6)
            values = bounds.to_numpy()
            valid = bounds.notna().all(axis=1).to_numpy()
            return {code: (row.tolist() if ok else None) for code, row, ok in zip(bounds.index, values, valid)}
        units = units or self.units
        return self._units_bboxes.get_or_build(units.version, build)

    # ------------------------------------------------------------------ datasets
    def units_for(self, version: str | None) -> UnitSet:
        """The units of a stored dataset version (the default dataset for None)."""
        current = self.units
        if version is None or version == current.version:
            return current
        return self._unit_sets.get_or_build(version, lambda: self.store.load_units(version))

    def dataset_of(self, record: ScenarioRecord) -> str:
        """The dataset a stored scenario is built on (scenarios saved before datasets were recorded: the default)."""
        return record.units_version or self.units.version

    def datasets(self) -> list[dict[str, Any]]:
        """Every stored dataset with how many scenarios are built on it."""
        counts: dict[str, int] = {}
        for record in self.store.list_scenarios():
            version = self.dataset_of(record)
            counts[version] = counts.get(version, 0) + 1
        return [{**record.to_json(), "scenarios": counts.get(record.version, 0)}
                for record in self.store.list_units_datasets()]

    def dataset(self, version: str) -> dict[str, Any]:
        record = self.store.get_units_dataset(version)
        scenarios = sum(1 for r in self.store.list_scenarios() if self.dataset_of(r) == version)
        return {**record.to_json(), "scenarios": scenarios}

    def import_dataset(self, path: Path, *, name: str, source: str, data_date: str | None, activate: bool,
                       actor: str) -> dict[str, Any]:
        """Read a units file and keep it beside the other datasets (optionally as the default)."""
        units = read_units(path)
        record = self.store.put_units_dataset(units, name=name, source=source, data_date=data_date, actor=actor,
                                              activate=activate)
        self._unit_sets.put(units.version, units)
        if activate:
            self._switch_default(units, record.source)
        from diagioi.geo.topology import check_topology

        # The import report the browser shows: the level read, the per-unit issues, gaps and overlaps.
        return {**self.dataset(record.version), "level": units.level, "level_reason": units.level_reason,
                "issues": [issue.to_dict() for issue in units.issues],
                "topology": check_topology(units).summary}

    def activate_dataset(self, version: str, *, actor: str) -> dict[str, Any]:
        """Serve a stored dataset by default; stored scenarios stay on the dataset they were built on."""
        units = self.units_for(version) if version != self.units.version else self.units
        record = self.store.activate_units_dataset(version, actor=actor)
        self._switch_default(units, record.source)
        return self.dataset(version)

    def follow_store_default(self, versions: StoreVersions | None = None) -> None:
        """Serve the store's default dataset, whichever worker activated it (called once per request).

        The store's ``active`` row is read on every request (in ``versions``, the request's one read of
        the store), so a dataset activated through another worker (or machine) is the one this request is
        served on; the other caches are keyed by versions.
        """
        active_version = (self.store.versions() if versions is None else versions).active_dataset
        if active_version is None or active_version == self.units.version:
            return
        with self._default_lock:  # one request loads the dataset, the others wait for it
            if active_version != self.units.version:
                active = self.store.get_units_dataset(active_version)
                self._switch_default(self.units_for(active.version), active.source)

    def _switch_default(self, units: UnitSet, source: str) -> None:
        previous = self.units
        self._unit_sets.put(previous.version, previous)
        self.units = units
        self.sample_data = source == SAMPLE_SOURCE
        self.demo_folder = _demo_dir() if self.sample_data else None

    # ------------------------------------------------------------------ scenarios
    def _lock_for(self, scenario_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._scenario_locks.setdefault(scenario_id, threading.Lock())

    def parse_scenario(self, body: dict[str, Any], units: UnitSet | None = None) -> Scenario:
        """Validate a scenario body against the contract and its units (the default dataset if not given)."""
        scenario = Scenario.from_dict(body, source="request body")
        (units or self.units).require_codes(scenario.member_codes())
        return scenario

    @property
    def context(self):
        """The evaluation context (units, population raster) shared by evaluations and the draw panel."""
        return self.context_for(self.units)

    def context_for(self, units: UnitSet):
        """The evaluation context of another stored dataset's units (same population raster)."""
        from diagioi.geo.evaluation import EvaluationContext

        return EvaluationContext(units, self.raster_path)

    def evaluate(self, scenario: Scenario, units: UnitSet | None = None):
        # The raster shares the population of a unit between the parts a drawn boundary cuts.
        return self.context_for(units or self.units).evaluate(scenario)

    def evaluation(self, record: ScenarioRecord):
        """The evaluation of a stored scenario version on its own dataset (cached; built once per version)."""
        units = self.units_for(self.dataset_of(record))
        key = (record.scenario_id, record.version, units.version)
        evaluation = self._evaluations.get_or_build(key, lambda: self._evaluate_record(record, units))
        self._remember_newest(record, units, evaluation)
        return evaluation

    def _keep_evaluation(self, record: ScenarioRecord, units: UnitSet, evaluation) -> None:
        self._evaluations.put((record.scenario_id, record.version, units.version), evaluation)
        self._remember_newest(record, units, evaluation)

    def _remember_newest(self, record: ScenarioRecord, units: UnitSet, evaluation) -> None:
        key = (record.scenario_id, units.version)
        with self._locks_guard:
            newest = self._newest_evaluations.get(key)
            if newest is None or newest[0] < record.version:
                self._newest_evaluations.put(key, (record.version, evaluation))

    def _evaluate_record(self, record: ScenarioRecord, units: UnitSet):
        """Evaluate a stored version, from this process's evaluation of an earlier version when the two
        differ only by units moved between new units (a reassign acknowledged by another worker):
        only the new units they touch are recomputed. Anything else is evaluated in full."""
        scenario = self.parse_scenario(record.body, units)
        newest = self._newest_evaluations.get((record.scenario_id, units.version))
        if newest is not None and newest[0] < record.version:
            earlier = newest[1]
            moves = scenario_moves(earlier.scenario, scenario)
            if moves:
                try:
                    caught_up, _ = earlier.reassign(moves)
                except ScenarioError:  # e.g. a locked new unit changed by a full save
                    caught_up = None
                # Exactly the stored body, or not used: names, kinds, drawn boundaries… may have changed too.
                if caught_up is not None and self._on_dataset(caught_up.scenario, units) == record.body:
                    return caught_up
        return self.evaluate(scenario, units)

    def evaluation_json(self, record: ScenarioRecord, lang: str) -> bytes:
        """The evaluation of a stored scenario version as JSON bytes in ``lang`` (built once per version)."""
        key = ("evaluation", record.scenario_id, record.version, self.dataset_of(record), lang)
        return self._documents.get_or_build(key, lambda: json_bytes(self.evaluation(record).to_json(lang)))

    def download(self, record: ScenarioRecord, kind: tuple, build: Callable[[], bytes], *,
                 uses_zoning: bool = False, versions: StoreVersions | None = None) -> bytes:
        """A download of a stored scenario version (``kind``: format, language…), built once per version.

        ``uses_zoning``: the file carries zoning indicators, so an edit of a zoning layer rebuilds it
        (``versions``: the request's read of the store, else read here).
        """
        layers = _layers_token(self.layer_versions(versions)) if uses_zoning else None
        key = (record.scenario_id, record.version, self.dataset_of(record), layers, *kind)
        return self._downloads.get_or_build(key, build)

    def _requested_dataset(self, body: dict[str, Any], *, current: str | None) -> UnitSet:
        """The dataset a body is built on: its ``dataset`` field, else the stored one, else the default."""
        requested = body.get("dataset")
        if current is not None and requested not in (None, current):
            raise ScenarioError(Message("error.dataset_move", {"current": current, "requested": requested}),
                                hint=Message("hint.dataset_move"),
                                context={"dataset": current, "requested_dataset": requested}, code="scenario")
        version = current or requested
        if version is None:
            return self.units
        if not isinstance(version, str):
            raise ScenarioError(Message("error.dataset_not_version"), hint=Message("hint.list_datasets"),
                                context={"dataset": version}, code="scenario")
        try:
            return self.units_for(version)
        except NotFoundError as error:
            raise _no_dataset_for_scenario(version) from error

    @staticmethod
    def _on_dataset(scenario: Scenario, units: UnitSet) -> dict[str, Any]:
        body = scenario.to_dict()
        body["dataset"] = units.version
        return body

    def create_scenario(self, body: dict[str, Any], *, actor: str) -> ScenarioRecord:
        units = self._requested_dataset(body, current=None)
        scenario = self.parse_scenario(body, units)
        evaluation = self.evaluate(scenario, units)
        record = self.store.create_scenario(self._on_dataset(scenario, units), actor=actor,
                                            base_data_version=units.version)
        self._keep_evaluation(record, units, evaluation)
        return record

    def update_scenario(self, scenario_id: str, body: dict[str, Any], *, expected_version: int,
                        actor: str) -> ScenarioRecord:
        with self._lock_for(scenario_id):
            current = self._require_version(scenario_id, expected_version)
            units = self._requested_dataset(body, current=self.dataset_of(current))
            scenario = self.parse_scenario(body, units)
            stored_body = self._on_dataset(scenario, units)
            if stored_body == current.body:
                return current  # an unchanged PUT is a no-op: same version, no audit row
            evaluation = self.evaluate(scenario, units)
            record = self.store.update_scenario(scenario_id, stored_body, expected_version=expected_version,
                                                actor=actor, base_data_version=units.version)
        self._keep_evaluation(record, units, evaluation)
        return record

    def patch_scenario(self, scenario_id: str, changes: dict[str, Any], *, expected_version: int,
                       actor: str) -> ScenarioRecord:
        """Change top-level fields of a stored scenario (``None`` clears a field) and save a new version."""
        from .schemas import ScenarioCreate

        body = dict(self._require_version(scenario_id, expected_version).body)
        for key, value in changes.items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        # Same checks as a PUT body (built-in regimes only), then the usual save.
        ScenarioCreate.from_dict(body, source="request body")
        return self.update_scenario(scenario_id, body, expected_version=expected_version, actor=actor)

    def upload_flags(self, scenario_id: str, path: Path, *, name: str | None, expected_version: int,
                     join_on: str, actor: str) -> tuple[ScenarioRecord, dict[str, Any]]:
        """Join a flags table to the units and merge it into the scenario's ``unit_flags`` (a new version)."""
        from diagioi.geo.flags import read_flags_table

        table, report = read_flags_table(path, self.units, join_on=join_on)
        body = self._require_version(scenario_id, expected_version).body
        merged = {code: dict(values) for code, values in (body.get("unit_flags") or {}).items()}
        for code, values in table.items():
            merged.setdefault(code, {}).update(values)
        record = self.patch_scenario(scenario_id, {"unit_flags": merged}, expected_version=expected_version,
                                     actor=actor)
        report_json = report.to_dict()
        report_json["table"] = name or report_json.get("table")
        return record, report_json

    def delete_scenario(self, scenario_id: str, *, expected_version: int | None, actor: str) -> None:
        with self._lock_for(scenario_id):
            record = self.store.get_scenario(scenario_id)
            self.store.delete_scenario(scenario_id, expected_version=expected_version, actor=actor,
                                       base_data_version=self.dataset_of(record))

    def reassign(self, scenario_id: str, assignments: dict[str, str | None], *, expected_version: int,
                 actor: str) -> ReassignOutcome:
        """Move units between new units of a stored scenario; only touched new units are recomputed."""
        with self._lock_for(scenario_id):
            record = self._require_version(scenario_id, expected_version)
            units = self.units_for(self.dataset_of(record))
            units.require_codes(list(assignments))
            evaluation = self.evaluation(record)
            new_evaluation, changed_ids = evaluation.reassign(assignments)
            body = self._on_dataset(new_evaluation.scenario, units)
            if not assignments or body == record.body:
                # Nothing moves (empty, or every unit already where it is sent): no new version, no audit row.
                return ReassignOutcome(record, evaluation, [])
            new_record = self.store.update_scenario(scenario_id, body, expected_version=expected_version,
                                                    actor=actor, base_data_version=units.version)
        self._keep_evaluation(new_record, units, new_evaluation)
        return ReassignOutcome(new_record, new_evaluation, list(changed_ids))

    def migrate_scenario(self, scenario_id: str, *, expected_version: int, target: str | None, dry_run: bool,
                         actor: str) -> dict[str, Any]:
        """Move a stored scenario onto another dataset (the default one unless ``target`` names one).

        Member codes the target dataset no longer has are taken out of their new units and
        reported; members whose figures changed are listed with before/after. ``dry_run``
        reports without saving.
        """
        with self._lock_for(scenario_id):
            record = self._require_version(scenario_id, expected_version)
            source_version = self.dataset_of(record)
            old_units = self.units_for(source_version)
            try:
                new_units = self.units_for(target or self.units.version)
            except NotFoundError as error:
                raise _no_dataset_for_scenario(target) from error
            body = dict(record.body)
            body.pop("dataset", None)
            scenario = Scenario.from_dict(body, source="stored scenario")
            new_index = new_units.gdf.index
            removed, changed = [], []
            old = old_units.lookup
            fresh = new_units.lookup
            for unit in scenario.new_units:
                for code in unit.members:
                    if code not in new_index:
                        removed.append({"code": code, "name": old.name.get(code), "new_unit_id": unit.id,
                                        "new_unit_name": unit.name})
                        continue
                    before = {"name": old.name.get(code), "population": old.population.get(code),
                              "area_km2": round(old.area_km2.get(code, 0.0), 4)}
                    after = {"name": fresh.name.get(code), "population": fresh.population.get(code),
                             "area_km2": round(fresh.area_km2.get(code, 0.0), 4)}
                    if before != after:
                        changed.append({"code": code, "new_unit_id": unit.id, "before": before, "after": after})
            if removed:
                gone = {item["code"] for item in removed}
                scenario, _ = scenario.with_assignments({code: None for code in gone})
            # Codes named elsewhere (the parent's scope, per-unit flags) that the target lacks go too.
            data = scenario.to_dict()
            scope = (data.get("parent") or {}).get("scope") or {}
            removed_scope = [code for code in scope.get("codes", []) if code not in new_index]
            if removed_scope:
                scope["codes"] = [code for code in scope["codes"] if code in new_index]
            removed_flags = [code for code in (data.get("unit_flags") or {}) if code not in new_index]
            for code in removed_flags:
                del data["unit_flags"][code]
            if removed_scope or removed_flags:
                scenario = Scenario.from_dict(data, source="stored scenario")
            report = {"scenario_id": scenario_id, "from_dataset": source_version, "to_dataset": new_units.version,
                      "removed_units": removed, "removed_scope_codes": removed_scope,
                      "removed_unit_flags": removed_flags, "changed_units": changed, "saved": False,
                      "version": record.version}
            if dry_run or source_version == new_units.version:
                return report
            evaluation = self.evaluate(scenario, new_units)
            new_record = self.store.update_scenario(scenario_id, self._on_dataset(scenario, new_units),
                                                    expected_version=expected_version, actor=actor,
                                                    base_data_version=new_units.version)
        self._keep_evaluation(new_record, new_units, evaluation)
        return {**report, "saved": True, "version": new_record.version}

    @staticmethod
    def reassign_result(outcome: ReassignOutcome) -> dict[str, Any]:
        """The reassign response: new version, the changed new units only, and the totals."""
        evaluation = outcome.evaluation
        return {"version": outcome.record.version,
                "changed": [evaluation.results[new_unit_id].to_json() for new_unit_id in outcome.changed_ids],
                "totals": evaluation.totals, "warnings": evaluation.warnings(),
                "warning_messages": [m.to_dict() for m in evaluation.warning_messages()]}

    def _require_version(self, scenario_id: str, expected_version: int) -> ScenarioRecord:
        record = self.store.get_scenario(scenario_id)
        if record.version != expected_version:
            raise stale_error("scenario", scenario_id, expected_version, record.version, record.body)
        return record

    def scenario_in(self, versions: StoreVersions, scenario_id: str) -> ScenarioRecord:
        """The scenario the request's read of the store found (read again if it named another one)."""
        if versions.scenario is not None and versions.scenario.scenario_id == scenario_id:
            return versions.scenario
        return self.store.get_scenario(scenario_id)  # the error of a missing scenario is the store's

    # ------------------------------------------------------------------ zoning layers
    def layer_versions(self, versions: StoreVersions | None = None) -> dict[str, int]:
        """Every zoning layer's version (0 if never written), from the request's read when given."""
        stored = self.store.layer_versions() if versions is None else versions.layers
        return {kind.value: stored.get(kind.value, 0) for kind in LayerKind}

    def layer_frame(self, kind: LayerKind, version: int | None = None) -> gpd.GeoDataFrame:
        """The stored features of one layer as a GeoDataFrame (the input of layers.indicators)."""
        version = self.store.layer_version(kind.value) if version is None else version
        return self._layer_frames.get_or_build((kind.value, version),
                                               lambda: _features_frame(kind, self.store.list_features(kind.value)))

    def layer_frames(self, store_versions: StoreVersions | None = None
                     ) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, int]]:
        versions = self.layer_versions(store_versions)
        return {kind: self.layer_frame(LayerKind(kind), version) for kind, version in versions.items()}, versions

    def add_features(self, kind: LayerKind, features: list, *, actor: str) -> list[FeatureRecord]:
        """Store validated ``layers.models.ZoningFeature`` objects (all or none)."""
        return self.store.add_features(kind.value, [_new_feature(f) for f in features], actor=actor,
                                       base_data_version=self.units.version)

    def update_feature(self, kind: LayerKind, feature_id: str, feature, *, expected_version: int | None,
                       actor: str) -> FeatureRecord:
        new = _new_feature(feature, feature_id=feature_id)
        current = self.store.get_feature(kind.value, feature_id)
        if (expected_version is None or expected_version == current.version) and \
                _as_json(new.geometry) == _as_json(current.geometry) and \
                _as_json(new.properties) == _as_json(current.properties):
            return current  # an unchanged PUT is a no-op: same version, no audit row
        return self.store.update_feature(kind.value, feature_id, new,
                                         expected_version=expected_version, actor=actor,
                                         base_data_version=self.units.version)

    def delete_feature(self, kind: LayerKind, feature_id: str, *, expected_version: int | None, actor: str) -> None:
        self.store.delete_feature(kind.value, feature_id, expected_version=expected_version, actor=actor,
                                  base_data_version=self.units.version)

    # ------------------------------------------------------------------ indicators
    def unit_indicators(self, store_versions: StoreVersions | None = None) -> tuple[pd.DataFrame, str]:
        """Indicators per existing unit, with the version they were computed for."""
        from diagioi.layers.indicators import compute_indicators

        frames, versions = self.layer_frames(store_versions)
        version = f"{self.units.version}.{_layers_token(versions)}"
        table = self._indicators.get_or_build(
            ("units", version), lambda: compute_indicators(self.units.gdf[["area_km2", "geometry"]], frames))
        return table, version

    def scenario_new_units(self, record: ScenarioRecord) -> gpd.GeoDataFrame:
        """The dissolved new units of a scenario version with their figures (built once per version)."""
        key = (record.scenario_id, record.version, self.dataset_of(record))
        return self._new_units.get_or_build(key, lambda: self.evaluation(record).new_units_gdf())

    def scenario_indicators(self, record: ScenarioRecord, layers=None) -> tuple[pd.DataFrame, str]:
        """Indicators per new unit of a scenario version (``layers``: the ``layer_frames()`` to use)."""
        from diagioi.layers.indicators import new_unit_indicators

        frames, versions = layers or self.layer_frames()
        version = f"{record.scenario_id}.{record.version}.{self.dataset_of(record)}.{_layers_token(versions)}"

        def build() -> pd.DataFrame:
            return new_unit_indicators(self.scenario_new_units(record), frames)

        return self._indicators.get_or_build(("scenario", version), build), version

    # ------------------------------------------------------------------ tiles
    def tile_source(self, layer_id: str, versions: StoreVersions | None = None):
        """The tile source of a layer id at its current version (built once per version).

        ``versions``: the request's read of the store (:meth:`Store.versions`), read here when not given.
        """
        if versions is None:
            named = layer_id[len(SCENARIO_LAYER_PREFIX):] if layer_id.startswith(SCENARIO_LAYER_PREFIX) else None
            versions = self.store.versions(named)
        if layer_id == "units":
            indicators, version = self.unit_indicators(versions)
            return self._sources.get_or_build(("units", version), lambda: self._units_source(indicators, version))
        if layer_id.startswith(UNITS_LAYER_PREFIX):
            # Another stored dataset's units, e.g. the old layer under the new one (no zoning indicators).
            from diagioi.layers.sources import units_tile_source

            units = self.units_for(layer_id[len(UNITS_LAYER_PREFIX):])
            return self._sources.get_or_build((layer_id, units.version), lambda: units_tile_source(
                units.gdf, version=units.version, source_id=layer_id))
        if layer_id.startswith(SCENARIO_LAYER_PREFIX):
            scenario_id = layer_id[len(SCENARIO_LAYER_PREFIX):]
            record = self.scenario_in(versions, scenario_id)
            # The zoning layers' versions too: the tiles carry the new units' zoning indicators.
            layers = self.layer_frames(versions)
            version = f"{record.version}.{self.dataset_of(record)}.{_layers_token(layers[1])}"
            return self._sources.get_or_build((layer_id, version),
                                              lambda: self._scenario_source(record, version, layers))
        try:
            kind = LayerKind(layer_id)
        except ValueError:
            raise NotFoundError(Message("error.no_tile_layer", {"layer": repr(layer_id)}),
                                hint=Message("hint.tile_layers"), context={"layer": layer_id},
                                code="not_found") from None
        from diagioi.layers.sources import zoning_tile_source

        layer_version = self.layer_versions(versions)[kind.value]
        version = str(layer_version)
        return self._sources.get_or_build((layer_id, version), lambda: zoning_tile_source(
            kind.value, self.layer_frame(kind, layer_version).drop(columns=["layer"]), version=version))

    def _units_source(self, indicators: pd.DataFrame, version: str):
        """Units with density (người/km²) and the per-unit zoning indicators as tile attributes."""
        from diagioi.layers.sources import units_tile_source

        units = self.units
        # Versions that differ only in zoning indicators share the simplified geometries (keyed by content hash).
        return units_tile_source(units.gdf, version=version, indicators=indicators, geometry_key=units.version)

    def _scenario_source(self, record: ScenarioRecord, version: str, layers):
        """Dissolved new units with their figures, members and indicators as tile attributes."""
        from diagioi.layers.sources import new_units_tile_source

        indicators, _ = self.scenario_indicators(record, layers)
        return new_units_tile_source(record.scenario_id, self.scenario_new_units(record), version=version,
                                     indicators=indicators)


def scenario_moves(before: Scenario, after: Scenario) -> dict[str, str | None]:
    """The unit moves (``{code: new unit id or None}``) that turn ``before``'s members into ``after``'s.

    In the order the codes stand in ``after``'s member lists: a reassign appends a unit to its new
    unit's members, so replaying the moves in that order gives the same lists.
    """
    owner_before = {code: unit.id for unit in before.new_units for code in unit.members}
    owner_after = {code: (unit.id, position) for unit in after.new_units for position, code in enumerate(unit.members)}
    moved = [code for code in owner_before.keys() | owner_after.keys()
             if owner_before.get(code) != owner_after.get(code, (None,))[0]]
    moved.sort(key=lambda code: (owner_after.get(code, (None, -1))[1], code))
    return {code: owner_after.get(code, (None,))[0] for code in moved}


def _no_dataset_for_scenario(version: Any) -> ScenarioError:
    """A scenario names a units dataset the store does not hold (422, as any other mistake in its body)."""
    return ScenarioError(Message("error.no_dataset", {"dataset": repr(version)}), hint=Message("hint.list_datasets"),
                         context={"dataset": version}, code="scenario")


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON, as FastAPI's JSONResponse writes it (NaN refused)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _layers_token(versions: dict[str, int]) -> str:
    return "-".join(str(versions[kind.value]) for kind in LayerKind)


def _as_json(value: Any) -> Any:
    """The value as stored (tuples become lists), for comparing an edit with the stored row."""
    return json.loads(json.dumps(value, ensure_ascii=False))


def _new_feature(feature, *, feature_id: str | None = None) -> NewFeature:
    """A store row from a validated ``layers.models.ZoningFeature``."""
    return NewFeature(geometry=shapely.geometry.mapping(feature.geometry), properties=feature.properties(),
                      feature_id=feature_id if feature_id is not None else feature.feature_id)


def _features_frame(kind: LayerKind, records: list[FeatureRecord]) -> gpd.GeoDataFrame:
    rows, geometries = [], []
    for record in records:
        rows.append({"feature_id": record.feature_id, "layer": kind.value, "version": record.version,
                     **record.properties})
        geometries.append(shapely.geometry.shape(record.geometry))
    columns = ["feature_id", "layer", "version", "name", "geometry_note"]
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)
    for column in ("name", "geometry_note"):
        if column not in frame.columns:
            frame[column] = None
    return gpd.GeoDataFrame(frame, geometry=geometries, crs=WGS84)


def _demo_dir() -> Path:
    from diagioi.demo import demo_dir

    return Path(demo_dir())
