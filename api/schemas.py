"""Request and response models of the HTTP API (they make /openapi.json complete).

Figures in these models are computed in geo/ and layers/; the models only describe them.
Units of measure are in the field names (``area_km2``) or descriptions (người, người/km²).
"""
from __future__ import annotations

from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from diagioi.geo.contract import EvaluationReport, NewUnitReport, Scenario, Totals, contract_problem

from .store.records import AuditEntry


# --------------------------------------------------------------------------- errors
class ErrorBody(BaseModel):
    """Every error response: what went wrong, what to do, and where."""

    detail: str = Field(description="What went wrong, in words a person can act on.")
    hint: str | None = Field(None, description="What to change to make the request succeed.")
    context: dict[str, Any] = Field(default_factory=dict, description="Where: file, unit_code, feature, errors…")
    code: str = Field("error", description="Stable identifier of the error, the same in every language "
                                           "(e.g. error.unknown_units, not_found, validation).")


class ConflictBody(ErrorBody):
    """409: the object was saved by someone else since the version you edited."""

    current_version: int | None = Field(None, description="The stored version; send it with your next write.")
    current: Any = Field(None, description="The stored object at current_version.")


# --------------------------------------------------------------------------- health
class HealthPublic(BaseModel):
    status: Literal["ok"] = "ok"
    version: str = Field(description="diagioi package version")
    units: int = Field(description="Number of units in the active dataset")
    units_version: str = Field(description="Content hash of the active unit dataset")
    units_name: str = Field(description="File name (never a path) of the active unit dataset")
    sample_data: bool = Field(description="True when the built-in sample region is served")
    scenarios: int = Field(description="Number of stored scenarios")
    layer_versions: dict[str, int] = Field(description="Version counter of each zoning layer")
    store: str = Field(description="Storage backend, e.g. sqlite (never a path of the server)")
    basemap_url: str | None = None


# --------------------------------------------------------------------------- scenarios
def builtin_regime(regime: str) -> str:
    """Only built-in regimes over HTTP: a rules-file path would make the server read its own files."""
    from diagioi.geo.errors import RuleSetError
    from diagioi.geo.i18n import Message
    from diagioi.geo.standards import RuleSet

    names = ", ".join(entry["id"] for entry in RuleSet.available())
    if regime.strip().lower().endswith((".yaml", ".yml")):
        raise contract_problem(Message("contract.rules_file_over_api"), Message("hint.one_of", {"values": names}))
    try:
        RuleSet.load(regime)
    except RuleSetError:
        raise contract_problem(Message("contract.unknown_regime", {"regime": repr(regime)}),
                               Message("hint.one_of", {"values": names})) from None
    return regime


class ScenarioCreate(Scenario):
    """A scenario as in the contract (docs/contract/scenario.schema.json): the file JSON/YAML is the body."""

    _builtin_regime = field_validator("regime")(builtin_regime)


#: ``GET /api/scenarios/{id}/evaluation``: the same JSON as ``diagioi evaluate --json``.
EvaluationPublic = EvaluationReport


class ScenarioUpdate(ScenarioCreate):
    """A full replacement of a scenario, naming the version it was based on."""

    version: int = Field(ge=1, description="The version you loaded; a stale version gets 409.")


class ScenarioPatch(BaseModel):
    """Change some top-level fields of a stored scenario; fields left out stay as they are, ``null`` clears one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"version": 3, "parent": {"name": "Thành phố Bắc Kạn", "kind": "provincial_city",
                                  "scope": {"districts": ["Thành phố Bắc Kạn"]}},
         "context": {"mountainous": True}, "unit_flags": {"01849": {"border": True}}}]})
    version: int = Field(ge=1, description="The version you loaded; a stale version gets 409.")
    name: str | None = None
    description: str | None = None
    regime: str | None = Field(None, description="R76 | R1211 | R112 | R35")
    parent: dict[str, Any] | None = Field(None, description="name, kind and scope (provinces, districts, codes)")
    context: dict[str, Any] | None = Field(None, description="region flags for the whole scenario")
    unit_flags: dict[str, dict[str, Any]] | None = Field(None, description="region flags per existing unit code")

    def changes(self) -> dict[str, Any]:
        """The fields the request names (``None`` for a field to clear)."""
        return {key: getattr(self, key) for key in self.model_fields_set if key != "version"}


class ScenarioPublic(BaseModel):
    id: str = Field(description="scenario_id")
    name: str
    version: int = Field(description="Optimistic-concurrency version; send it back on PUT/reassign/DELETE")
    units_version: str | None = Field(description="Units dataset the scenario is built on (and evaluated on)")
    dataset_outdated: bool = Field(False, description="True when the scenario is built on an older dataset than "
                                                      "the default one; move it with POST .../migrate")
    default_units_version: str | None = Field(None, description="The dataset the service serves by default")
    created_at: str
    updated_at: str
    scenario: dict[str, Any] = Field(description="The scenario in its canonical form "
                                                 "(docs/contract/scenario.schema.json)")
    tilejson: str = Field(description="URL of the scenario's TileJSON")


class ScenarioSummary(BaseModel):
    id: str
    name: str
    version: int
    new_units: int
    updated_at: str
    units_version: str | None = None
    dataset_outdated: bool = False


class ScenarioList(BaseModel):
    data: list[ScenarioSummary]
    count: int


class MigrateRequest(BaseModel):
    """Move a scenario onto another units dataset (the default one unless ``dataset`` names one)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"version": 3, "dry_run": True}]})
    version: int = Field(ge=1, description="The scenario version the move is based on (stale → 409)")
    dataset: str | None = Field(None, description="Target dataset version; the default dataset when left out")
    dry_run: bool = Field(False, description="Report what would change without saving")


class ReassignRequest(BaseModel):
    """Move units between new units: ``{"01840": "n2"}`` moves 01840 into n2; ``null`` takes it out."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"assignments": {"01840": "n2", "01834": None}, "version": 3}]})
    assignments: dict[str, str | None] = Field(description="unit_code → new_unit_id (null = outside)")
    version: int = Field(ge=1, description="The scenario version the edit is based on")


class ReassignResult(BaseModel):
    """The changed new units only, with the scenario's new totals (shapes of the evaluation contract)."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(description="The new scenario version")
    changed: list[NewUnitReport] = Field(description="Only the new units whose members changed")
    totals: Totals
    warnings: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- units (GeoJSON)
class Feature(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"] = "Feature"
    id: str | int | None = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None = Field(default_factory=dict)


class FeatureCollection(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]


class Geometry(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = Field(description="Polygon | MultiPolygon | Point | LineString | …")
    coordinates: Any


# --------------------------------------------------------------------------- layers
class LayerFeatureIn(Feature):
    """One zoning feature; ``version`` (on PUT) is the version you edited, for conflict checks."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [105.83, 22.15]},
        "properties": {"name": "Hồ Ba Bể", "rank": "national"}}]})
    version: int | None = Field(None, description="On PUT/DELETE: the version you edited (optional)")


class LayerFeaturePublic(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    version: int
    geometry: dict[str, Any]
    properties: dict[str, Any]


class LayerPublic(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    kind: str
    label_vi: str
    layer_version: int
    features: list[LayerFeaturePublic]


class LayerWriteResult(BaseModel):
    kind: str
    layer_version: int
    created: list[LayerFeaturePublic]


# --------------------------------------------------------------------------- tiles
class TileJSON(BaseModel):
    """TileJSON 3.0.0 (tile URLs carry ``?v=<version>`` so edits show on the next request)."""

    model_config = ConfigDict(extra="allow")
    tilejson: str = "3.0.0"
    name: str | None = None
    tiles: list[str]
    minzoom: int = 0
    maxzoom: int = 22
    bounds: list[float] | None = None
    center: list[float] | None = None
    vector_layers: list[dict[str, Any]] | None = None
    version: str | None = None


# --------------------------------------------------------------------------- analysis
class PolygonAnalysisRequest(BaseModel):
    """A drawn polygon: a GeoJSON Polygon/MultiPolygon geometry or a Feature holding one (EPSG:4326)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "Polygon",
        "coordinates": [[[105.80, 22.13], [105.86, 22.13], [105.86, 22.17], [105.80, 22.17], [105.80, 22.13]]]}]})
    # Checked by layers.analysis (its 422 says what to send instead); the enum tells clients up front.
    type: str = Field(description="Polygon | MultiPolygon | Feature (other types are refused with a 422 "
                                  "that says what to send)",
                      json_schema_extra={"enum": ["Polygon", "MultiPolygon", "Feature"]})
    coordinates: Any = None
    geometry: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None


#: One entry of ``GET /api/audit``: the fields of the store's :class:`~api.store.AuditEntry` record.
AuditEntryPublic = create_model("AuditEntryPublic", __doc__=AuditEntry.__doc__,
                                **{name: (hint, ...) for name, hint in get_type_hints(AuditEntry).items()})


class PopulationEstimatePublic(BaseModel):
    model_config = ConfigDict(extra="allow")
    value: float | None = Field(None, description="Estimated people (người)")
    method: str | None = None
    source: str | None = None
    is_estimate: bool = True
    note: str | None = None


class IntersectedUnit(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    name: str | None = None
    kind: str | None = None
    share_of_unit_pct: float | None = None
    share_of_polygon_pct: float | None = None
    area_km2: float | None = None


class PolygonAnalysisResult(BaseModel):
    """Figures of a drawn polygon: geodesic area (km²), population estimate (người), density (người/km²)."""

    model_config = ConfigDict(extra="allow")
    area_km2: float
    population: PopulationEstimatePublic
    density: float | None = None
    units: list[IntersectedUnit]
    indicators: dict[str, Any]
    warnings: list[str] = Field(default_factory=list)


class IndicatorField(BaseModel):
    unit: str
    label_vi: str
    label_en: str
    layer: str


class IndicatorsPublic(BaseModel):
    """Per-area zoning indicators (counts, km², %, km), for units or a scenario's new units."""

    scope: Literal["units", "scenario"]
    scenario_id: str | None = None
    version: str = Field(description="Versions the table was computed for (changes after any edit)")
    key: str = Field(description="Row key: 'code' (units) or 'id' (new units)")
    fields: dict[str, IndicatorField]
    source: str | None = None
    data: list[dict[str, Any]]
