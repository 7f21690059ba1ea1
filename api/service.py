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
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS

from diagioi.geo.errors import ConflictError, NotFoundError, ScenarioError
from diagioi.geo.io import read_units
from diagioi.geo.scenario import Scenario
from diagioi.geo.units import UnitSet
from diagioi.layers.models import LayerKind

from .auth import load_or_create_token, tokens_match
from .settings import Settings
from .store import FeatureRecord, NewFeature, ScenarioRecord, SqliteStore, Store

logger = logging.getLogger(__name__)

WGS84 = CRS.from_epsg(4326)
SCENARIO_LAYER_PREFIX = "scenario-"
SYSTEM_ACTOR = "system"



@dataclass(frozen=True)
class ReassignOutcome:
    record: ScenarioRecord
    evaluation: Any
    changed_ids: list[str]


class _BoundedCache:
    """A small thread-safe LRU dict (tile sources and indicator tables are big-ish).

    Concurrent requests for a missing key build it once: the others wait for that build.
    """

    def __init__(self, max_items: int):
        self.max_items = max_items
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Any, threading.Lock] = {}

    def get_or_build(self, key: Any, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:  # built by another request while we waited
                    return self._items[key]
            try:
                value = build()  # outside the cache lock: builds can take a while
                self.put(key, value)
            finally:
                with self._lock:
                    self._building.pop(key, None)
        return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def get(self, key: Any) -> Any:
        with self._lock:
            return self._items.get(key)


class Service:
    """Everything a request needs; one instance per app (``app.state.service``)."""

    def __init__(self, settings: Settings, store: Store | None = None):
        self.settings = settings
        self.store: Store = store if store is not None else SqliteStore(settings.data_dir)
        # The write key: DIAGIOI_TOKEN, else the one kept in <data dir>/token (created on first start).
        self.token_generated = not settings.token
        self.token: str = settings.token or load_or_create_token(settings.data_dir)[0]
        self.sample_data = False
        self.demo_folder: Path | None = None
        self.units: UnitSet = self._load_units()
        self._scenario_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._evaluations = _BoundedCache(64)
        self._sources = _BoundedCache(16)
        self._indicators = _BoundedCache(32)
        self._layer_frames = _BoundedCache(16)
        self._units_geojson = _BoundedCache(8)
        self._units_bboxes = _BoundedCache(2)

    # ------------------------------------------------------------------ start-up
    def _load_units(self) -> UnitSet:
        settings = self.settings
        if settings.units_path is not None:
            units = read_units(settings.units_path)
            self.store.import_units_dataset(Path(settings.units_path), version=units.version,
                                            name=Path(settings.units_path).name, unit_count=len(units),
                                            actor=SYSTEM_ACTOR)
            return units
        active = self.store.active_units_dataset()
        if active is not None:
            units = read_units(active.path)
            self.sample_data = active.source_path.startswith(str(_demo_dir()))
            if self.sample_data:
                self.demo_folder = _demo_dir()
            return units
        # A fresh store and no --units: serve the sample region, clearly labelled as such.
        folder = _demo_dir()
        units_file = folder / "units.geojson"
        units = read_units(units_file)
        self.store.import_units_dataset(units_file, version=units.version, name="sample data (geo.demo)",
                                        unit_count=len(units), actor=SYSTEM_ACTOR)
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
    def filter_units(self, *, province: str | None, district: str | None, q: str | None) -> gpd.GeoDataFrame:
        """Units matching the filters (diacritic-insensitive, via geo.text.fold).

        Province and district match with or without their prefix ("Bắc Kạn" = "Tỉnh Bắc Kạn");
        ``q`` matches part of the name, or the start of the code.
        """
        from diagioi.geo.text import fold

        gdf = self.units.gdf
        mask = pd.Series(True, index=gdf.index)
        if province:
            mask &= gdf["province"].fillna("").map(_place_key) == _place_key(province)
        if district:
            mask &= gdf["district"].fillna("").map(_place_key) == _place_key(district)
        if q:
            needle = fold(q)
            mask &= gdf["name"].fillna("").map(fold).str.contains(needle, regex=False) | gdf.index.str.startswith(q)
        return gdf[mask]

    def units_geojson_bytes(self, *, province: str | None, district: str | None, q: str | None,
                            geometry: bool = True) -> bytes:
        """The filtered units as GeoJSON bytes (cached per dataset version, filters and ``geometry``)."""
        import json

        key = (self.units.version, province, district, q, geometry)
        return self._units_geojson.get_or_build(key, lambda: json.dumps(
            self.units_geojson(self.filter_units(province=province, district=district, q=q), geometry=geometry),
            ensure_ascii=False, allow_nan=False).encode("utf-8"))

    def units_geojson(self, gdf: gpd.GeoDataFrame, *, geometry: bool = True) -> dict[str, Any]:
        """GeoJSON FeatureCollection of units, with density (người/km²) from UnitSet.density().

        ``geometry=False`` gives the same features with ``"geometry": null`` and a ``bbox``
        ([min lon, min lat, max lon, max lat], 6 decimals, null for an empty geometry) each: the
        list a browser needs for search and zoom-to, without the boundaries the tiles already draw.
        """
        density = self.units.density()
        frame = gdf.drop(columns=[c for c in gdf.columns if c == "code"]).copy()
        frame["density"] = density.reindex(gdf.index)
        if not geometry:
            frame[frame.geometry.name] = gpd.GeoSeries([None] * len(frame), index=frame.index, crs=frame.crs)
        frame.index.name = "code"
        frame = frame.reset_index()
        collection = frame.to_geo_dict(na="null", show_bbox=False, drop_id=True)
        if not geometry:
            bboxes = self.units_bboxes()
            for feature in collection["features"]:
                feature["bbox"] = bboxes.get(feature["properties"]["code"])
        return collection

    def units_bboxes(self) -> dict[str, list[float] | None]:
        """{unit code: [minx, miny, maxx, maxy] rounded to 6 decimals (~0.1 m) or None}, once per units version."""
        def build() -> dict[str, list[float] | None]:
            # Empty geometries have NaN bounds: no box rather than NaN (not JSON).
            bounds = self.units.gdf.geometry.bounds.round(6)
            values = bounds.to_numpy()
            valid = bounds.notna().all(axis=1).to_numpy()
            return {code: (row.tolist() if ok else None) for code, row, ok in zip(bounds.index, values, valid)}
        return self._units_bboxes.get_or_build(self.units.version, build)

    # ------------------------------------------------------------------ scenarios
    def _lock_for(self, scenario_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._scenario_locks.setdefault(scenario_id, threading.Lock())

    def parse_scenario(self, body: dict[str, Any]) -> Scenario:
        """Validate a scenario body against the contract and the active units."""
        scenario = Scenario.from_dict(body, source="request body")
        unknown = [code for code in scenario.member_codes() if code not in self.units.gdf.index]
        if unknown:
            raise ScenarioError(
                f"{len(unknown)} member code(s) are not units of the active dataset: "
                + ", ".join(unknown[:10]) + ("…" if len(unknown) > 10 else ""),
                hint="use unit codes from GET /api/units (text, leading zeros kept)",
                context={"unknown_codes": unknown, "units_version": self.units.version})
        return scenario

    def evaluate(self, scenario: Scenario):
        from diagioi.geo.evaluation import evaluate

        # The raster shares the population of a unit between the parts a drawn boundary cuts.
        return evaluate(self.units, scenario, raster_path=self.raster_path)

    def evaluation(self, record: ScenarioRecord):
        """The evaluation of a stored scenario version (cached; built once per version)."""
        key = (record.scenario_id, record.version, self.units.version)
        return self._evaluations.get_or_build(
            key, lambda: self.evaluate(self.parse_scenario(record.body)))

    def create_scenario(self, body: dict[str, Any], *, actor: str) -> ScenarioRecord:
        scenario = self.parse_scenario(body)
        evaluation = self.evaluate(scenario)
        record = self.store.create_scenario(scenario.to_dict(), actor=actor, base_data_version=self.units.version)
        self._evaluations.put((record.scenario_id, record.version, self.units.version), evaluation)
        return record

    def update_scenario(self, scenario_id: str, body: dict[str, Any], *, expected_version: int,
                        actor: str) -> ScenarioRecord:
        scenario = self.parse_scenario(body)
        with self._lock_for(scenario_id):
            current = self._require_version(scenario_id, expected_version)
            if scenario.to_dict() == current.body:
                return current  # an unchanged PUT is a no-op: same version, no audit row
            evaluation = self.evaluate(scenario)
            record = self.store.update_scenario(scenario_id, scenario.to_dict(), expected_version=expected_version,
                                                actor=actor, base_data_version=self.units.version)
        self._evaluations.put((record.scenario_id, record.version, self.units.version), evaluation)
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
            self.store.delete_scenario(scenario_id, expected_version=expected_version, actor=actor,
                                       base_data_version=self.units.version)

    def reassign(self, scenario_id: str, assignments: dict[str, str | None], *, expected_version: int,
                 actor: str) -> ReassignOutcome:
        """Move units between new units of a stored scenario; only touched new units are recomputed."""
        unknown = [code for code in assignments if code not in self.units.gdf.index]
        if unknown:
            raise ScenarioError(f"unit code(s) not in the active dataset: {', '.join(unknown[:10])}",
                                hint="use unit codes from GET /api/units (text, leading zeros kept)",
                                context={"unknown_codes": unknown})
        with self._lock_for(scenario_id):
            record = self._require_version(scenario_id, expected_version)
            evaluation = self.evaluation(record)
            new_evaluation, changed_ids = evaluation.reassign(assignments)
            body = new_evaluation.scenario.to_dict()
            if not assignments or body == record.body:
                # Nothing moves (empty, or every unit already where it is sent): no new version, no audit row.
                return ReassignOutcome(record, evaluation, [])
            new_record = self.store.update_scenario(scenario_id, body, expected_version=expected_version,
                                                    actor=actor, base_data_version=self.units.version)
        self._evaluations.put((scenario_id, new_record.version, self.units.version), new_evaluation)
        return ReassignOutcome(new_record, new_evaluation, list(changed_ids))

    @staticmethod
    def reassign_result(outcome: ReassignOutcome) -> dict[str, Any]:
        """The reassign response: new version, the changed new units only, and the totals."""
        evaluation = outcome.evaluation
        return {"version": outcome.record.version,
                "changed": [evaluation.results[new_unit_id].to_json() for new_unit_id in outcome.changed_ids],
                "totals": evaluation.totals, "warnings": evaluation.warnings()}

    def _require_version(self, scenario_id: str, expected_version: int) -> ScenarioRecord:
        record = self.store.get_scenario(scenario_id)
        if record.version != expected_version:
            raise ConflictError(
                f"scenario {scenario_id!r} was changed by someone else: you edited version {expected_version}, "
                f"the stored one is version {record.version}",
                current_version=record.version, current=record.body,
                hint="reload it (the current version is in this response), re-apply your change and save again",
                context={"scenario_id": scenario_id, "your_version": expected_version,
                         "current_version": record.version})
        return record

    # ------------------------------------------------------------------ zoning layers
    def layer_versions(self) -> dict[str, int]:
        return {kind.value: self.store.layer_version(kind.value) for kind in LayerKind}

    def layer_frame(self, kind: LayerKind, version: int | None = None) -> gpd.GeoDataFrame:
        """The stored features of one layer as a GeoDataFrame (the input of layers.indicators)."""
        version = self.store.layer_version(kind.value) if version is None else version
        return self._layer_frames.get_or_build((kind.value, version),
                                               lambda: _features_frame(kind, self.store.list_features(kind.value)))

    def layer_frames(self) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, int]]:
        versions = self.layer_versions()
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
    def unit_indicators(self) -> tuple[pd.DataFrame, str]:
        """Indicators per existing unit, with the version they were computed for."""
        from diagioi.layers.indicators import compute_indicators

        frames, versions = self.layer_frames()
        version = f"{self.units.version}.{_layers_token(versions)}"
        table = self._indicators.get_or_build(
            ("units", version), lambda: compute_indicators(self.units.gdf[["area_km2", "geometry"]], frames))
        return table, version

    def scenario_indicators(self, record: ScenarioRecord) -> tuple[pd.DataFrame, str]:
        """Indicators per new unit of a scenario version."""
        from diagioi.layers.indicators import compute_indicators

        frames, versions = self.layer_frames()
        version = f"{record.scenario_id}.{record.version}.{self.units.version}.{_layers_token(versions)}"

        def build() -> pd.DataFrame:
            areas = self.evaluation(record).new_units_gdf()
            if "id" in areas.columns:
                areas = areas.set_index("id")
            return compute_indicators(areas, frames)

        return self._indicators.get_or_build(("scenario", version), build), version

    # ------------------------------------------------------------------ tiles
    def tile_source(self, layer_id: str):
        """The tile source of a layer id at its current version (built once per version)."""
        if layer_id == "units":
            indicators, version = self.unit_indicators()
            return self._sources.get_or_build(("units", version), lambda: self._units_source(indicators, version))
        if layer_id.startswith(SCENARIO_LAYER_PREFIX):
            scenario_id = layer_id[len(SCENARIO_LAYER_PREFIX):]
            record = self.store.get_scenario(scenario_id)
            version = f"{record.version}.{self.units.version}"
            return self._sources.get_or_build((layer_id, version), lambda: self._scenario_source(record, version))
        try:
            kind = LayerKind(layer_id)
        except ValueError:
            raise NotFoundError(
                f"no tile layer {layer_id!r}",
                hint="use units, scenario-{id}, industrial_clusters, tourism_sites or night_streets",
                context={"layer": layer_id}) from None
        from diagioi.layers.sources import zoning_tile_source

        layer_version = self.store.layer_version(kind.value)
        version = str(layer_version)
        return self._sources.get_or_build((layer_id, version), lambda: zoning_tile_source(
            kind.value, self.layer_frame(kind, layer_version).drop(columns=["layer"]), version=version))

    def _units_source(self, indicators: pd.DataFrame, version: str):
        """Units with density (người/km²) and the per-unit zoning indicators as tile attributes."""
        from diagioi.layers.sources import UNITS_TILE_PROPERTIES, GeoDataFrameTileSource, with_density_per_km2
        from diagioi.layers.styles import style_for

        data = with_density_per_km2(self.units.gdf)
        data["density"] = data["density_per_km2"]
        indicator_columns = [c for c in indicators.columns if c != "source"]
        for column in indicator_columns:
            data[column] = indicators[column].reindex(data.index)
        properties = [c for c in UNITS_TILE_PROPERTIES if c in data.columns] + ["density", *indicator_columns]
        return GeoDataFrameTileSource("units", data, version=version, properties=properties, id_column="code",
                                      style=style_for("units"))

    def _scenario_source(self, record: ScenarioRecord, version: str):
        """Dissolved new units with their figures, members and indicators as tile attributes."""
        from diagioi.layers.sources import scenario_tile_source

        from diagioi.geo.validity import polygonal_part

        evaluation = self.evaluation(record)
        data = evaluation.new_units_gdf()
        # A dissolve of members that touch only at a corner can come back as a GeometryCollection
        # (polygons plus a stray line or point); the map draws the polygons.
        data = data.set_geometry([polygonal_part(g) for g in data.geometry], crs=data.crs)
        data["new_unit_id"] = data["id"]
        data["members"] = [";".join(members) for members in data["members"]]
        indicators, _ = self.scenario_indicators(record)
        for column in indicators.columns:
            if column != "source":
                data[column] = indicators[column].reindex(data["id"]).to_numpy()
        return scenario_tile_source(record.scenario_id, data, version=version)


_PLACE_PREFIXES = ("tinh ", "thanh pho ", "huyen ", "quan ", "thi xa ", "tp ", "tp. ")


def _place_key(name: str) -> str:
    """Folded province/district name without its administrative prefix."""
    from diagioi.geo.text import fold

    key = fold(name)
    for prefix in _PLACE_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):].strip()
    return key


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
    from diagioi.geo.demo import demo_dir

    return Path(demo_dir())
