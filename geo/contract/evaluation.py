"""The evaluation contract: the JSON of ``diagioi evaluate --json`` and ``GET /api/scenarios/{id}/evaluation``.

Produced by :meth:`diagioi.geo.evaluation.Evaluation.report` and read, typed, by the exports and
the API. Units of measure are in the field names (``area_km2``) or descriptions (người, người/km²);
every figure says whether it is official or computed (``area_basis``, ``population_source``,
``population_is_estimate``). Statuses use one vocabulary, :class:`~diagioi.geo.kinds.Status`:
``pass | fail | exempt | unknown`` (unknown = a figure is missing, shown as *thiếu số liệu*).
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..kinds import ParentKind, Status, UnitKind

__all__ = ["AffectedParentReport", "CandidateReport", "EvaluationReport", "MessageOut", "NewUnitReport", "PartReport",
           "ParentReport", "ScenarioInfo", "StandardReport", "Totals", "UnchangedUnitReport"]


class _Report(BaseModel):
    """Documented output objects: every key is described; an undocumented key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MessageOut(_Report):
    """A typed text: a catalogue key and its parameters, rendered in the reader's language at the edge."""

    code: str
    params: dict[str, Any] = Field(default_factory=dict)


class StandardReport(_Report):
    """One standard checked for one unit: value against threshold, with its legal basis."""

    rule: str = Field(description="rule id, e.g. r76.ward.population")
    criterion: str = Field(description="area_km2 | population | subunits | ward_share | no_numeric_standard")
    status: Status = Field(description="pass | fail | exempt | unknown (value missing: thiếu số liệu)")
    passed: bool | None = Field(description="true/false; null when the value is missing (status unknown)")
    value: float | None = Field(description="the unit's figure, in `unit`")
    threshold: float | None = Field(description="the threshold that applied, in `unit`")
    unit: str = Field(description="km² | người | đơn vị | %")
    comparison: str = Field(description=">= | < | none")
    margin: float | None = Field(description="value − threshold, in `unit`")
    percent_of_standard: float | None = Field(description="value / threshold × 100")
    citation: str = Field(description="legal basis")
    confirmed: bool = Field(description="false when the number is not confirmed against the legal text")
    exempt: bool = False
    note: str | None = None
    variant: str | None = Field(None, description="which variant set the threshold, e.g. mountainous")
    variant_reason: str | None = Field(None, description="why that variant applied, e.g. 'miền núi, vùng cao'")
    citation_message: MessageOut | None = Field(None, description="the citation as a typed message")
    note_messages: list[MessageOut] = Field(default_factory=list, description="the notes as typed messages")


class PartReport(_Report):
    """The part of an existing unit that a drawn new unit takes (*một phần*) or the whole of it (*toàn bộ*)."""

    new_unit_id: str | None = Field(None, description="the new unit that takes it (in unchanged_units.parts_taken)")
    code: str
    name: str
    share: str = Field(description="toàn bộ | một phần")
    area_km2: float = Field(description="km² taken")
    remainder_area_km2: float = Field(description="km² that stay with the unit")
    area_share: float = Field(description="0..1 of the unit's area taken")
    population: int | None = Field(description="người taken (ước tính)")
    remainder_population: int | None
    population_share: float | None = Field(description="0..1 of the unit's population taken")
    population_is_estimate: bool
    population_method: str | None
    population_note: str | None = None


class MemberShare(_Report):
    """What a reduced member keeps after drawn units took parts of it."""

    area_share: float | None
    population_share: float | None


class NewUnitReport(_Report):
    """Figures and standards of one new unit (areas km², population người, density người/km²)."""

    id: str
    name: str
    kind: UnitKind
    kind_vi: str
    members: list[str] = Field(description="codes of the existing units it is made of")
    member_names: list[str]
    n_members: int
    drawn: bool = Field(description="a boundary drawn by hand")
    area_km2: float | None = Field(description="computed: geodesic area on the WGS 84 ellipsoid, km²")
    area_source: str
    official_area_km2: float | None = Field(description="official: sum of the members' official areas, km²")
    official_area_source: str | None
    area_for_standards_km2: float | None = Field(description="official when known, else computed, km²")
    area_basis: str = Field(description="official | computed")
    area_difference_pct: float | None = Field(description="(computed − official) / official × 100")
    area_differs: bool = Field(description="the difference is above 1 %")
    population: int | None = Field(description="người; null when a member has none")
    population_source: str = Field(description="where the population comes from, in the reader's language")
    population_source_message: MessageOut | None = Field(None, description="the population source as a typed message")
    population_is_estimate: bool = Field(description="an estimate (ước tính), e.g. for a drawn boundary")
    population_method: str | None = Field(None, description="how an estimate was made (raster, area-weighted)")
    missing_population: list[str] = Field(description="member codes without a population")
    zero_population: list[str] = Field(default_factory=list, description="member codes with population 0")
    density: float | None = Field(description="người/km², population / area_for_standards_km2")
    contiguous: bool
    components: list[list[str]] = Field(description="member codes of each separate part")
    overlap_km2: float | None = Field(description="overlap between members in the source layer, counted once")
    parts: list[PartReport] = Field(default_factory=list, description="parts of existing units it takes")
    reduced_members: list[str] = Field(default_factory=list, description="members that lost a part to a drawn unit")
    member_shares: dict[str, MemberShare] = Field(default_factory=dict, description="what reduced members keep")
    mountainous: bool
    border: bool
    island: bool
    red_river_delta: bool = False
    ethnic_minority_share: float | None = None
    flag_reasons: dict[str, str] = Field(default_factory=dict, description="flag → why it is set (Vietnamese)")
    standards: list[StandardReport]
    status: Status
    status_reasons: list[str] = Field(default_factory=list,
                                      description="not_contiguous | missing_population | zero_population")
    plane_crs: str | None = Field(None, description="VN-2000 TM-3 plane of the unit's province, e.g. EPSG:9210")


class ScopeReport(_Report):
    """The parent's scope as given, and the existing units it resolved to."""

    provinces: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    codes: list[str] = Field(default_factory=list)
    unit_codes: list[str] = Field(default_factory=list, description="the units of the scope")
    n_units: int | None = None


class ParentAfter(_Report):
    units: int
    wards: int
    ward_share: float | None
    area_km2: float | None = Field(description="km²")
    population: int | None = Field(description="người")


class CandidateReport(_Report):
    """A bordering unit outside the scope whose whole annexation closes a failing parent standard."""

    code: str
    name: str
    kind: str
    district: str | None
    area_km2: float | None
    added_area_km2: float | None
    population: int | None
    parent_after: ParentAfter
    closes: list[str] = Field(description="criteria it closes")
    still_failing: list[str]


class ParentReport(_Report):
    """The city/province the new units make up, checked against its own standards (scope-wide figures)."""

    name: str
    kind: ParentKind
    kind_vi: str
    scope: ScopeReport | None = None
    units_before: int | None = None
    units_after: int | None = None
    by_kind_before: dict[str, int] | None = None
    by_kind_after: dict[str, int] | None = None
    ward_share_before: float | None = None
    ward_share_after: float | None = None
    area_km2: float | None = Field(None, description="km², geodesic area of the union of its land")
    area_km2_before: float | None = Field(None, description="km²")
    official_area_km2: float | None = Field(None, description="km²")
    area_for_standards_km2: float | None = Field(None, description="km²")
    area_basis: str | None = None
    area_source: str | None = None
    outside_km2: float | None = Field(None, description="km² of new units' land outside the scope")
    population: int | None = Field(None, description="người")
    population_before: int | None = Field(None, description="người")
    population_source: str | None = None
    missing_population: list[str] = Field(default_factory=list)
    zero_population: list[str] = Field(default_factory=list)
    density: float | None = Field(None, description="người/km²")
    mountainous: bool | None = None
    border: bool | None = None
    flag_reasons: dict[str, str] = Field(default_factory=dict)
    standards: list[StandardReport]
    status: Status
    candidates: list[CandidateReport] = Field(default_factory=list,
                                              description="annexations that would close a failing standard")


class UnchangedUnitReport(_Report):
    """An existing unit of the scope that no new unit takes whole: it stays, and counts as itself."""

    code: str
    name: str
    kind: str
    district: str | None
    reduced: bool = Field(description="drawn new units took parts of it")
    parts_taken: list[PartReport]
    area_km2: float | None = Field(description="km², what remains")
    official_area_km2: float | None
    area_for_standards_km2: float | None
    population: int | None = Field(description="người, what remains")
    population_is_estimate: bool
    zero_population: bool
    missing_population: bool
    density: float | None = Field(description="người/km²")
    mountainous: bool
    flag_reasons: dict[str, str] = Field(default_factory=dict)
    standards: list[StandardReport]
    status: Status
    must_arrange: bool = Field(description="a 35/2023 trigger says it must be arranged")
    triggers: list[StandardReport]


class AffectedParentReport(_Report):
    """Another parent (district) that loses land to the scenario: before and after."""

    name: str
    district: str | None
    province: str | None
    units_before: int
    units_after: int
    area_km2_before: float | None = Field(description="km²")
    area_km2_after: float | None = Field(description="km²")
    population_before: int | None = Field(description="người")
    population_after: int | None = Field(description="người")
    units_lost: list[str]
    parts_lost: list[str]
    missing_population: list[str] = Field(default_factory=list)


class Totals(_Report):
    """Scenario-wide counts and sums."""

    units_before: int
    units_after: int
    by_kind_before: dict[str, int]
    by_kind_after: dict[str, int]
    wards_before: int
    wards_after: int
    ward_share_before: float | None = Field(description="0..1")
    ward_share_after: float | None = Field(description="0..1")
    reduction_pct: float | None
    area_km2: float | None = Field(description="km², computed")
    official_area_km2: float | None = Field(description="km², official")
    population: int | None = Field(description="người")
    density: float | None = Field(description="người/km²")
    passing: int
    failing: int
    exempt: int
    unknown: int
    parent: ParentReport | None


class ScenarioInfo(_Report):
    name: str
    description: str | None
    regime: str = Field(description="rule set id, e.g. R76")
    regime_name: str
    confirmed: bool = Field(description="false when the rule set's numbers are not confirmed")


class EvaluationReport(_Report):
    """A scenario evaluated on a units dataset under a rule set."""

    scenario: ScenarioInfo
    units_source: str
    units_version: str = Field(description="content hash of the units dataset")
    new_units: list[NewUnitReport]
    totals: Totals
    warnings: list[str] = Field(description="data-quality notes as text")
    warning_messages: list[MessageOut] = Field(default_factory=list, description="the warnings as typed messages")
    unchanged_units: list[UnchangedUnitReport] = Field(
        default_factory=list, description="units of the parent's scope that no new unit takes, as they stay")
    affected_parents: list[AffectedParentReport] = Field(
        default_factory=list, description="other parents that lose land: before/after units, area, population")
    flags_join: dict[str, Any] | None = Field(None, description="CLI --flags: how the flags table joined the units")
