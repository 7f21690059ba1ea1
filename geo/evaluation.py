"""Scenario evaluation: figures and standards per new unit, totals per parent, incremental edits.

Like GerryChain's tallies, per-new-unit figures are computed from the members alone, so an edit
(:meth:`Evaluation.reassign`) recomputes only the new units it touches and returns exactly the
figures a full :func:`evaluate` would. Merged areas are the sum of the members' geodesic areas
minus the measured overlaps between members (real layers overlap), so no ground is counted twice.
The dissolved boundary is built lazily, only when geometry is asked for (exports, tiles).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import geopandas as gpd
import numpy as np
import shapely

from .arrangement import (Layout, arrange, build_layout, flags_for, land_area_of, land_of, new_unit_land,
                          union_area_km2)
from .area import geodesic_area_km2
from .contract.evaluation import EvaluationReport
from .crs import WGS84, from_wgs84, local_equal_area_crs, to_wgs84
from .errors import ScenarioError
from .i18n import Message, translate
from .kinds import Status, UnitKind
from .scenario import NewUnit, Scenario
from .candidates import annexation_candidates
from .parts import PARTIAL, WHOLE
from .population import density_per_km2
from .flags import variant_reason
from .standards import ParentFigures, RuleResult, RuleSet, UnitFigures, overall_status
from .units import AREA_MISMATCH_PCT, UnitSet
from .validity import polygonal_part

#: Provenance of the figures (``area_source``, ``official_area_source`` …): catalogue keys, rendered in the reader's
#: language like every other text of the evaluation JSON.
AREA_SOURCE_COMPUTED = "source.area_computed"
SLIVER_TOLERANCE_M = 25.0        # gaps narrower than 2× this between members are closed when dissolving
SLIVER_HOLE_MAX_KM2 = 0.05       # interior holes smaller than this are slivers, not enclaves


def _round(value, digits):
    return None if value is None else round(float(value), digits)


def _int(value):
    return None if value is None else int(round(value))


@dataclass(frozen=True)
class NewUnitResult:
    """Figures and standards of one new unit."""

    id: str
    name: str
    kind: UnitKind
    members: tuple[str, ...]
    member_names: tuple[str, ...]
    area_km2: float
    official_area_km2: float | None
    population: float | None
    population_source: Message       # where the population comes from, rendered in the reader's language
    overlap_km2: float
    components: tuple[tuple[str, ...], ...]
    flags: dict
    standards: tuple[RuleResult, ...]
    drawn: bool = False
    population_is_estimate: bool = False
    missing_population: tuple[str, ...] = ()
    parts: tuple = ()                        # UnitPart: units it takes a part of (một phần)
    reduced_members: tuple[str, ...] = ()    # members that lost a part to a drawn unit
    zero_population: tuple[str, ...] = ()    # members whose source population is 0 (missing data)
    flag_reasons: dict = field(default_factory=dict)
    variant_reasons: tuple = ()              # per standard: why its variant applied
    population_method: str | None = None
    member_shares: dict = field(default_factory=dict)   # reduced member → (area share, population share) kept

    @property
    def area_for_standards_km2(self) -> float:
        return self.official_area_km2 if self.official_area_km2 is not None else self.area_km2

    @property
    def area_basis(self) -> str:
        return "official" if self.official_area_km2 is not None else "computed"

    @property
    def density(self) -> float | None:
        return density_per_km2(self.population, self.area_for_standards_km2)

    @property
    def contiguous(self) -> bool:
        return len(self.components) <= 1

    @property
    def area_difference_pct(self) -> float | None:
        if not self.official_area_km2:
            return None
        return (self.area_km2 - self.official_area_km2) / self.official_area_km2 * 100.0

    @cached_property
    def status(self) -> str:
        """The standards' status; a unit in separate pieces is not a valid unit, so never "pass"."""
        status = overall_status(list(self.standards))
        if not self.contiguous and status in (Status.PASS, Status.EXEMPT):
            return Status.FAIL
        return status

    @property
    def status_reasons(self) -> list[str]:
        """Why the status is what it is beyond the standards: not_contiguous, missing/zero population."""
        reasons = []
        if not self.contiguous:
            reasons.append("not_contiguous")
        if self.missing_population:
            reasons.append("missing_population")
        if self.zero_population:
            reasons.append("zero_population")
        return reasons

    def to_json(self, lang: str = "vi") -> dict:
        """The new unit's part of the evaluation JSON, in ``lang``.

        Built once per language: a result is immutable and shared by the evaluations of the scenario
        versions that did not touch it. Callers get their own top-level dict; nested values are shared
        and must not be changed.
        """
        cache = self.__dict__.setdefault("_json_by_lang", {})
        if lang not in cache:
            cache[lang] = self._build_json(lang)
        return dict(cache[lang])

    def _build_json(self, lang: str) -> dict:
        diff = self.area_difference_pct
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind.value,
            "kind_vi": self.kind.label_vi,
            "members": list(self.members),
            "member_names": list(self.member_names),
            "n_members": len(self.members),
            "drawn": self.drawn,
            "area_km2": _round(self.area_km2, 4),
            "area_source": translate(AREA_SOURCE_COMPUTED, lang),
            "official_area_km2": _round(self.official_area_km2, 4),
            "official_area_source": translate("source.official_sum", lang) if self.official_area_km2 is not None
            else None,
            "area_for_standards_km2": _round(self.area_for_standards_km2, 4),
            "area_basis": self.area_basis,
            "area_difference_pct": _round(diff, 2),
            "area_differs": bool(diff is not None and abs(diff) > AREA_MISMATCH_PCT),
            "population": None if self.population is None else int(round(self.population)),
            "population_source": translate(self.population_source, lang),
            "population_source_message": self.population_source.to_dict(),
            "population_is_estimate": self.population_is_estimate,
            "population_method": self.population_method,
            "missing_population": list(self.missing_population),
            "zero_population": list(self.zero_population),
            "density": _round(self.density, 1),
            "contiguous": self.contiguous,
            "components": [list(c) for c in self.components],
            "overlap_km2": _round(self.overlap_km2, 4),
            "parts": [p.to_json() for p in self.parts],
            "reduced_members": list(self.reduced_members),
            "member_shares": {code: {"area_share": _round(share[0], 4), "population_share": _round(share[1], 4)}
                              for code, share in self.member_shares.items()},
            "mountainous": bool(self.flags.get("mountainous")),
            "border": bool(self.flags.get("border")),
            "island": bool(self.flags.get("island")),
            "red_river_delta": bool(self.flags.get("red_river_delta")),
            "ethnic_minority_share": _round(self.flags.get("ethnic_minority_share"), 4),
            "flag_reasons": {k: v for k, v in self.flag_reasons.items() if v},
            "standards": _standards_json(self.standards, self.variant_reasons, lang),
            "status": self.status,
            "status_reasons": self.status_reasons,
        }


#: The parent's provenance texts (catalogue keys): area over a scope / over the new units only; population.
_PARENT_SOURCES = {"area_source": ("source.parent_area_scope", "source.parent_area_new_units"),
                   "population_source": "source.parent_population_exact"}


def _standards_json(results, reasons, lang: str = "vi") -> list[dict]:
    rows = []
    for index, result in enumerate(results):
        row = result.to_dict(lang)
        row["variant_reason"] = reasons[index] if index < len(reasons) else None
        rows.append(row)
    return rows


class Evaluation:
    """A scenario evaluated on a unit set under a rule set. Immutable: edits return a new one."""

    def __init__(self, units: UnitSet, scenario: Scenario, ruleset: RuleSet, results: dict[str, NewUnitResult],
                 *, raster_path=None, layout: Layout | None = None):
        self.units = units
        self.scenario = scenario
        self.ruleset = ruleset
        self.results = results
        self.raster_path = raster_path
        self.layout = layout if layout is not None else build_layout(units, scenario, raster_path=raster_path)
        self._geometry_cache: dict[tuple, object] = {}
        self._parent_standards: tuple[list, list] = ([], [])  # the parent's results, set with ``totals``

    # ---- incremental edits --------------------------------------------------------------
    def reassign(self, assignments: dict[str, str | None]) -> tuple["Evaluation", list[str]]:
        """Move units between new units; recompute only the touched new units.

        Returns the new evaluation and the ids of the new units whose figures changed.
        """
        self.units.require_codes(list(assignments))
        scenario, touched = self.scenario.with_assignments(assignments)
        results = dict(self.results)
        for new_unit in scenario.new_units:
            if new_unit.id in touched:
                results[new_unit.id] = _evaluate_new_unit(self.units, scenario, self.ruleset, new_unit, self.layout)
        child = Evaluation(self.units, scenario, self.ruleset, results, raster_path=self.raster_path,
                           layout=self.layout)
        tally = self.tally.copy()
        for new_unit_id in touched:
            tally.add(self.results[new_unit_id], self.units.lookup.kind, -1)
            tally.add(results[new_unit_id], self.units.lookup.kind, +1)
        child.__dict__["tally"] = tally
        # Untouched new units keep their dissolved geometry.
        child._geometry_cache = {k: v for k, v in self._geometry_cache.items() if k[0] not in touched}
        order = [u.id for u in scenario.new_units if u.id in touched]
        return child, order

    # ---- figures ------------------------------------------------------------------------
    def new_unit_results(self) -> list[NewUnitResult]:
        return [self.results[u.id] for u in self.scenario.new_units]

    @cached_property
    def tally(self) -> "_Tally":
        """Scenario-wide sums; updated incrementally by :meth:`reassign`."""
        tally = _Tally()
        for result in self.results.values():
            tally.add(result, self.units.lookup.kind, +1)
        return tally

    @cached_property
    def totals(self) -> dict:
        t = self.tally
        by_kind_before = {k: v for k, v in sorted(t.kinds_before.items()) if v}
        by_kind_after = {k: v for k, v in sorted(t.kinds_after.items()) if v}
        n_before, n_after = sum(by_kind_before.values()), t.n_results
        area = t.area_km2
        official = t.official_area_km2
        population = t.population
        area_basis = official if official is not None else area
        totals = {
            "units_before": n_before,
            "units_after": n_after,
            "by_kind_before": by_kind_before,
            "by_kind_after": by_kind_after,
            "wards_before": by_kind_before.get(UnitKind.ward.value, 0),
            "wards_after": by_kind_after.get(UnitKind.ward.value, 0),
            "ward_share_before": _round(by_kind_before.get("ward", 0) / n_before, 4) if n_before else None,
            "ward_share_after": _round(by_kind_after.get("ward", 0) / n_after, 4) if n_after else None,
            "reduction_pct": _round((n_before - n_after) / n_before * 100.0, 1) if n_before else None,
            "area_km2": _round(area, 4),
            "official_area_km2": _round(official, 4),
            "population": None if population is None else int(round(population)),
            "density": _round(density_per_km2(population, area_basis), 1),
            "passing": t.statuses.get("pass", 0),
            "failing": t.statuses.get("fail", 0),
            "exempt": t.statuses.get("exempt", 0),
            "unknown": t.statuses.get("unknown", 0),
            "parent": None,
        }
        if self.scenario.parent is not None:
            totals["parent"] = self._parent_totals(totals)
        return totals

    @cached_property
    def arrangement(self):
        """The parent's scope after the scenario (:class:`geo.arrangement.Arrangement`); None without a scope."""
        scope = self.layout.scope
        if scope is None:
            return None
        return arrange(self.units, self.scenario.new_units, scope.codes, self.layout.allocation,
                       land_cache=self.layout.land_cache)

    def _parent_totals(self, totals: dict) -> dict:
        """The parent's figures and standards: over its whole scope when it has one, else over the new units."""
        parent = self.scenario.parent
        lookup = self.units.lookup
        arrangement = self.arrangement
        if arrangement is not None:
            before, after = arrangement.before, arrangement.after
            land = list(arrangement.scope_codes) + list(arrangement.annexed)
            figures = {
                "units_before": before.n_units, "units_after": after.n_units,
                "by_kind_before": before.by_kind, "by_kind_after": after.by_kind,
                "ward_share_before": _round(before.ward_share, 4), "ward_share_after": _round(after.ward_share, 4),
                "area_km2_before": _round(before.area_km2, 4), "population_before": _int(before.population),
                "area_km2": _round(after.area_km2, 4), "official_area_km2": _round(after.official_area_km2, 4),
                "area_for_standards_km2": _round(after.area_for_standards_km2, 4),
                "area_basis": "official" if after.official_area_km2 is not None else "computed",
                "area_source": translate(_PARENT_SOURCES["area_source"][0], "vi"),
                "population": _int(after.population),
                "population_source": translate(_PARENT_SOURCES["population_source"], "vi"),
                "missing_population": list(after.missing_population),
                "zero_population": list(after.zero_population),
                "density": _round(after.density, 1),
                "outside_km2": _round(arrangement.outside_km2, 4),
            }
            area_for_standards, population = after.area_for_standards_km2, after.population
            n_units, n_wards = after.n_units, after.by_kind.get("ward", 0)
            zero = after.zero_population
            areas = {c: land_area_of(self.units, c, self.layout.allocation) for c in land}
        else:
            land = list(self.scenario.member_codes())
            figures = {key: totals[key] for key in ("units_before", "units_after", "by_kind_before", "by_kind_after",
                                                    "ward_share_before", "ward_share_after", "area_km2",
                                                    "official_area_km2", "population", "density")}
            # No scope: the parent is its new units; their land measured as a union (no ground counted twice).
            key = ("new units", frozenset(land), tuple(sorted(self.layout.allocation.cuts)))
            cache = self.layout.land_cache
            if key not in cache:
                pieces = [g for r in self.new_unit_results() for g in
                          ([self.new_unit_geometry(r.id)] if r.drawn or r.reduced_members
                           else list(self.units.gdf.geometry.loc[list(r.members)].values))]
                cache[key] = union_area_km2(pieces)
            figures["area_km2"] = _round(cache[key], 4)
            figures["area_source"] = translate(_PARENT_SOURCES["area_source"][1], "vi")
            area_for_standards = totals["official_area_km2"] if totals["official_area_km2"] is not None \
                else cache[key]
            population, n_units = totals["population"], totals["units_after"]
            figures["density"] = _round(density_per_km2(population, area_for_standards), 1)
            n_wards = totals["by_kind_after"].get("ward", 0)
            zero = tuple(c for c in land if lookup.population[c] == 0)
            areas = {c: lookup.area_km2[c] for c in land}
        own = {"mountainous": True} if parent.mountainous else {}
        flags = flags_for(self.units, self.scenario, self.layout, land, areas,
                          {c: lookup.population[c] for c in land}, own=own)
        parent_figures = ParentFigures(
            kind=parent.kind, area_km2=area_for_standards, population=None if zero else population,
            n_units=n_units, n_wards=n_wards, mountainous=bool(flags["mountainous"]), border=bool(flags["border"]),
            red_river_delta=bool(flags["red_river_delta"]), ethnic_minority_share=flags["ethnic_minority_share"])
        results = self.ruleset.check_parent(parent_figures)
        self._parent_standards = (results, [variant_reason(self.ruleset, r, flags) for r in results])
        status = overall_status(results)
        body = {
            "name": parent.name, "kind": parent.kind.value, "kind_vi": parent.kind.label_vi,
            "scope": self.layout.scope.to_dict() if self.layout.scope is not None else None,
            **figures,
            "mountainous": bool(flags["mountainous"]), "border": bool(flags["border"]),
            "flag_reasons": {k: v for k, v in flags.reasons.items() if v},
            "standards": _standards_json(*self._parent_standards),
            "status": status,
        }
        self._parent_inputs = (parent_figures, land) if arrangement is not None and status == "fail" else None
        return body

    def _totals_with_candidates(self, totals: dict | None = None) -> dict:
        totals = self.totals if totals is None else totals
        if totals.get("parent") is None or self.arrangement is None:
            return totals
        return {**totals, "parent": {**totals["parent"], "candidates": self.candidates()}}

    def candidates(self) -> list[dict]:
        """Bordering units whose whole annexation closes a failing parent standard (scope only)."""
        _ = self.totals  # computing the totals records the parent's inputs
        inputs = getattr(self, "_parent_inputs", None)
        if inputs is None:
            return []
        return annexation_candidates(self.units, self.ruleset, *inputs)

    def unchanged_units(self, lang: str = "vi") -> list[dict]:
        """Units of the scope that no new unit takes: figures, standards under the regime, 35/2023 triggers."""
        arrangement = self.arrangement
        if arrangement is None:
            return []
        r35 = RuleSet.load("R35") if self.ruleset.id != "R35" else None
        return [self._unchanged_unit(code, r35, lang) for code in arrangement.unchanged]

    def _unchanged_unit(self, code: str, r35, lang: str = "vi") -> dict:
        units, lookup, allocation = self.units, self.units.lookup, self.layout.allocation
        _geometry, area, population, reduced = land_of(units, code, allocation)
        official = None if reduced else lookup.official_area_km2[code]
        area_for_standards = official if official is not None else area
        zero = lookup.population[code] == 0
        flags = flags_for(units, self.scenario, self.layout, [code], {code: area}, {code: population})
        parent = self.scenario.parent
        figures = UnitFigures(
            kind=lookup.kind[code], area_km2=area_for_standards, population=None if zero else population,
            n_members=1, mountainous=flags["mountainous"], border=flags["border"], island=flags["island"],
            central_city=flags["central_city"], red_river_delta=flags["red_river_delta"],
            coastal_poor=bool(flags["coastal_poor"]), ethnic_minority_share=flags["ethnic_minority_share"],
            parent_kind=parent.kind if parent else None)
        standards = self.ruleset.check_unit(figures)
        triggers = r35.check_unit(figures) if r35 is not None else []
        reasons = [variant_reason(self.ruleset, r, flags) for r in standards]
        district = units.gdf.at[code, "district"]
        return {
            "code": code, "name": lookup.name[code], "kind": lookup.kind[code],
            "district": district if isinstance(district, str) else None,
            "reduced": reduced,
            "parts_taken": [{"new_unit_id": unit_id, **part.to_json()}
                            for unit_id, part in allocation.parts_taken_from(code)],
            "area_km2": _round(area, 4), "official_area_km2": _round(official, 4),
            "area_for_standards_km2": _round(area_for_standards, 4),
            "population": _int(population), "population_is_estimate": reduced,
            "zero_population": zero, "missing_population": population is None,
            "density": _round(density_per_km2(population, area_for_standards), 1),
            "mountainous": bool(flags["mountainous"]),
            "flag_reasons": {k: v for k, v in flags.reasons.items() if v},
            "standards": _standards_json(standards, reasons, lang),
            "status": overall_status(standards),
            "must_arrange": any(r.passed is False for r in triggers),
            "triggers": [r.to_dict(lang) for r in triggers],
        }

    def warning_messages(self) -> list[Message]:
        """Typed warnings (``code`` + ``params``), rendered in the reader's language at the edge."""
        messages = []
        for r in self.new_unit_results():
            unit = {"name": r.name, "new_unit_id": r.id}
            if not r.contiguous:
                messages.append(Message("warning.not_contiguous", {
                    **unit, "n": len(r.components), "parts": " | ".join(", ".join(c) for c in r.components)}))
            diff = r.area_difference_pct
            if diff is not None and abs(diff) > AREA_MISMATCH_PCT:
                messages.append(Message("warning.area_differs", {
                    **unit, "area_km2": round(r.area_km2, 2), "official_area_km2": round(r.official_area_km2, 2),
                    "difference_pct": round(diff, 1)}))
            if r.missing_population:
                messages.append(Message("warning.missing_population", {
                    **unit, "codes": ", ".join(r.missing_population)}))
            if r.overlap_km2 > 0.001:
                messages.append(Message("warning.members_overlap", {**unit, "overlap_km2": round(r.overlap_km2, 3)}))
            if not r.members and not r.drawn:
                messages.append(Message("warning.no_members", unit))
            if r.zero_population:
                messages.append(Message("warning.zero_population", {**unit, "codes": ", ".join(r.zero_population)}))
            cut = self.layout.allocation.cuts.get(r.id)
            if cut is not None and cut.outside_km2 > 0:
                messages.append(Message("warning.drawn_outside", {**unit, "outside_km2": round(cut.outside_km2, 3)}))
        if self.scenario.parent is not None and self.layout.scope is None:
            name = self.scenario.parent.name
            messages.append(Message("warning.no_scope", {"name": name}) if name else Message("warning.no_scope_unnamed"))
        for unit in self.unchanged_units():
            if unit["zero_population"] or unit["missing_population"]:
                messages.append(Message("warning.unchanged_population", {"name": unit["name"], "code": unit["code"]}))
        if not self.ruleset.confirmed:
            messages.append(Message("warning.regime_unconfirmed", {"regime": self.ruleset.name}))
        return messages

    def report(self, lang: str = "vi") -> EvaluationReport:
        """The evaluation as the typed contract (docs/contract/evaluation.schema.json), texts in ``lang``."""
        return EvaluationReport.model_validate(self.to_json(lang))

    def warnings(self, lang: str = "vi") -> list[str]:
        """The warnings as text in ``lang`` (Vietnamese by default)."""
        return [translate(message, lang) for message in self.warning_messages()]

    def to_json(self, lang: str = "vi") -> dict:
        """The stable machine-readable form (CLI ``evaluate --json``, API ``/evaluation``).

        Its shape is :class:`~diagioi.geo.contract.evaluation.EvaluationReport` (see :meth:`report`).
        Texts (warnings, notes and citations of standards) are rendered in ``lang``; ``warning_messages``
        and the standards' ``note_messages`` / ``citation_message`` are the typed forms.
        """
        totals = self.totals
        if totals.get("parent") and lang != "vi":
            parent = totals["parent"]
            sources = {}  # the provenance texts, stored in Vietnamese, in the reader's language
            for field, keys in _PARENT_SOURCES.items():
                for key in (keys,) if isinstance(keys, str) else keys:
                    if parent.get(field) == translate(key, "vi"):
                        sources[field] = translate(key, lang)
            totals = {**totals, "parent": {**parent, **sources,
                                           "standards": _standards_json(*self._parent_standards, lang)}}
        return {
            "scenario": {"name": self.scenario.name, "description": self.scenario.description,
                         "regime": self.ruleset.id, "regime_name": self.ruleset.name,
                         "confirmed": self.ruleset.confirmed},
            "units_source": self.units.source,
            "units_version": self.units.version,
            "new_units": [{**r.to_json(lang), "plane_crs": self.units.plane_crs_of(r.members)}
                          for r in self.new_unit_results()],
            "totals": self._totals_with_candidates(totals),
            "unchanged_units": self.unchanged_units(lang),
            "affected_parents": list(self.arrangement.affected) if self.arrangement is not None else [],
            "warnings": self.warnings(lang),
            "warning_messages": [m.to_dict() for m in self.warning_messages()],
        }

    # ---- geometry (lazy) ---------------------------------------------------------------
    def new_unit_geometry(self, new_unit_id: str):
        """Dissolved boundary of a new unit in EPSG:4326 (slivers between members closed)."""
        new_unit = self.scenario.new_unit(new_unit_id)
        key = self._geometry_key(new_unit)
        if key not in self._geometry_cache:
            result = self.results[new_unit.id]
            if result.drawn or result.reduced_members:
                # The land it really takes: the parts of the units it cuts and what its members keep.
                land = new_unit_land(self.units, new_unit, self.layout.allocation)
                pieces = [g for g in land.geometries.values() if g is not None and not g.is_empty]
                geometry = polygonal_part(shapely.union_all(np.array(pieces, dtype=object))) if pieces \
                    else shapely.Polygon()
                self._geometry_cache[key] = (geometry, 0.0)
            else:
                self._geometry_cache[key] = dissolve_members(self.units, new_unit)
        return self._geometry_cache[key][0]

    def _geometry_key(self, new_unit) -> tuple:
        return (new_unit.id, new_unit.members, bool(new_unit.geometry))

    def sliver_km2(self, new_unit_id: str) -> float:
        """Area of the gaps between members (and small holes) closed by the dissolve, in km²."""
        self.new_unit_geometry(new_unit_id)
        return self._geometry_cache[self._geometry_key(self.scenario.new_unit(new_unit_id))][1]

    def new_units_gdf(self) -> gpd.GeoDataFrame:
        """New units with their dissolved boundaries and main figures (EPSG:4326)."""
        rows, geometries = [], []
        for r in self.new_unit_results():
            data = r.to_json()
            rows.append({
                "id": r.id, "name": r.name, "kind": r.kind.value, "members": list(r.members),
                "area_km2": data["area_km2"], "official_area_km2": data["official_area_km2"],
                "population": data["population"], "density": data["density"],
                "contiguous": r.contiguous, "status": r.status,
                "overlap_km2": data["overlap_km2"],
                # Units it takes a part of (một phần), with the share of their area; the geometry is the cut land.
                "parts": [f"{p.code} ({p.area_share:.1%})" for p in r.parts],
                "population_is_estimate": r.population_is_estimate,
            })
            geometries.append(self.new_unit_geometry(r.id))
            rows[-1]["sliver_closed_km2"] = round(self.sliver_km2(r.id), 6)
        # Named columns even with no rows: a scenario without new units still has a (empty) layer to draw.
        return gpd.GeoDataFrame(rows, columns=list(_NEW_UNIT_COLUMNS), geometry=geometries, crs=WGS84)

    def crosswalk(self) -> list[dict]:
        """Old unit → new unit rows: ``share`` is "toàn bộ" (whole) or "một phần" (part), with the
        shares of the old unit's area and population that move."""
        lookup = self.units.lookup
        gdf = self.units.gdf
        rows = []

        def row(code, r, share, area_share, population_share, estimate):
            return {"old_code": code, "old_name": lookup.name[code], "old_kind": lookup.kind[code],
                    "district": gdf.at[code, "district"], "new_unit_id": r.id,
                    "new_name": r.name, "new_kind": r.kind.value, "share": share,
                    "area_share": _round(area_share, 4), "population_share": _round(population_share, 4),
                    "population_is_estimate": estimate}

        for r in self.new_unit_results():
            for code in r.members:
                if code in r.reduced_members:
                    area_share, population_share = r.member_shares[code]
                    rows.append(row(code, r, PARTIAL, area_share, population_share, True))
                else:
                    rows.append(row(code, r, WHOLE, 1.0, 1.0, False))
            for part in r.parts:
                rows.append(row(part.code, r, PARTIAL, part.inside_km2 / lookup.area_km2[part.code]
                                if lookup.area_km2[part.code] else None,
                                part.population_inside / lookup.population[part.code]
                                if part.population_inside is not None and lookup.population[part.code] else None,
                                part.population_is_estimate))
        return rows


_NEW_UNIT_COLUMNS = ("id", "name", "kind", "members", "area_km2", "official_area_km2", "population", "density",
                     "contiguous", "status", "overlap_km2", "parts", "population_is_estimate", "sliver_closed_km2")

_NANO = 1e9  # sums are kept as integers of 1e-9 km² / 1e-9 people: exact when added and taken away


@dataclass
class _Tally:
    """Scenario-wide counts and sums, exact under add/remove (integers), like GerryChain's Tally."""

    n_results: int = 0
    kinds_before: dict = field(default_factory=dict)
    kinds_after: dict = field(default_factory=dict)
    statuses: dict = field(default_factory=dict)
    area_nano: int = 0
    official_nano: int = 0
    official_missing: int = 0
    population_nano: int = 0
    population_missing: int = 0

    def copy(self) -> "_Tally":
        return _Tally(self.n_results, dict(self.kinds_before), dict(self.kinds_after), dict(self.statuses),
                      self.area_nano, self.official_nano, self.official_missing, self.population_nano,
                      self.population_missing)

    def add(self, result: NewUnitResult, kind_of: dict, sign: int) -> None:
        self.n_results += sign
        for code in result.members:
            kind = kind_of[code]
            self.kinds_before[kind] = self.kinds_before.get(kind, 0) + sign
        self.kinds_after[result.kind.value] = self.kinds_after.get(result.kind.value, 0) + sign
        self.statuses[result.status] = self.statuses.get(result.status, 0) + sign
        self.area_nano += sign * round(result.area_km2 * _NANO)
        if result.official_area_km2 is None:
            self.official_missing += sign
        else:
            self.official_nano += sign * round(result.official_area_km2 * _NANO)
        if result.population is None:
            self.population_missing += sign
        else:
            self.population_nano += sign * round(result.population * _NANO)

    @property
    def area_km2(self) -> float:
        return self.area_nano / _NANO

    @property
    def official_area_km2(self) -> float | None:
        return None if self.official_missing or not self.n_results else self.official_nano / _NANO

    @property
    def population(self) -> float | None:
        return None if self.population_missing or not self.n_results else self.population_nano / _NANO


def dissolve_members(units: UnitSet, new_unit: NewUnit):
    """Merge member polygons as a coverage; fall back to a robust union for overlapping layers.

    Returns ``(geometry, sliver_km2)`` where ``sliver_km2`` is the area of gaps between members
    that were closed (and of small interior holes filled).
    """
    if new_unit.geometry is not None:
        return new_unit.shape(), 0.0
    if not new_unit.members:
        return shapely.Polygon(), 0.0
    geoms = units.gdf.geometry.loc[list(new_unit.members)].values
    graph = units.graph
    clean = graph.internal_overlap_km2(new_unit.members) == 0.0
    merged = shapely.coverage_union_all(geoms) if clean else None
    if merged is None or not merged.is_valid:
        merged = shapely.union_all(geoms)
    merged = polygonal_part(merged)
    if len(geoms) == 1 and clean:
        return merged, 0.0
    # Close slivers (gaps between members narrower than 2 × tolerance) in a local metric plane.
    plane = local_equal_area_crs(tuple(shapely.total_bounds(geoms)))
    planar = from_wgs84(np.array([merged], dtype=object), plane)[0]
    closed = shapely.buffer(shapely.buffer(planar, SLIVER_TOLERANCE_M, join_style="mitre"),
                            -SLIVER_TOLERANCE_M, join_style="mitre")
    closed = _fill_small_holes(closed, SLIVER_HOLE_MAX_KM2 * 1e6)
    closed = shapely.union(closed, planar)  # never lose member area to the closing
    result = to_wgs84(np.array([closed], dtype=object), plane)[0]
    if not result.is_valid:
        result = shapely.make_valid(result)
    result = polygonal_part(result)
    sliver_km2 = max(0.0, geodesic_area_km2(result) - geodesic_area_km2(merged))
    return result, sliver_km2


def _fill_small_holes(geometry, max_hole_m2: float):
    polygons = geometry.geoms if geometry.geom_type == "MultiPolygon" else [geometry]
    kept = []
    for polygon in polygons:
        holes = [ring for ring in polygon.interiors if shapely.Polygon(ring).area >= max_hole_m2]
        kept.append(shapely.Polygon(polygon.exterior, holes))
    return shapely.union_all(kept) if len(kept) > 1 else kept[0]


def _evaluate_new_unit(units: UnitSet, scenario: Scenario, ruleset: RuleSet, new_unit: NewUnit,
                       layout: Layout) -> NewUnitResult:
    lookup = units.lookup
    land = new_unit_land(units, new_unit, layout.allocation)
    codes = list(land.members) + [p.code for p in land.parts]
    flags = flags_for(units, scenario, layout, codes, land.areas, land.populations, own=new_unit.flags_dict())
    if land.population_is_estimate:
        methods = [m.strip() for m in (land.population_method or "").split(",") if m.strip()]
        population_source = Message("source.estimate_parts", {"methods": [Message(f"method.{m}") for m in methods]})
    else:
        sources = sorted({lookup.population_source[c] for c in land.members})
        population_source = (Message("source.sum_of_members", {"sources": "; ".join(sources)}) if sources
                             else Message("source.no_members"))
    result = NewUnitResult(
        id=new_unit.id, name=new_unit.name, kind=new_unit.kind, members=land.members,
        member_names=tuple(lookup.name[c] for c in land.members), area_km2=land.area_km2,
        official_area_km2=land.official_area_km2, population=land.population, population_source=population_source,
        overlap_km2=land.overlap_km2, components=land.components, flags=flags.values, standards=(),
        drawn=new_unit.is_drawn, population_is_estimate=land.population_is_estimate,
        missing_population=land.missing_population, parts=land.parts, reduced_members=land.reduced,
        zero_population=land.zero_population, flag_reasons=flags.reasons, population_method=land.population_method,
        member_shares={c: (land.areas[c] / lookup.area_km2[c] if lookup.area_km2[c] else None,
                           land.populations[c] / lookup.population[c]
                           if land.populations[c] is not None and lookup.population[c] else None)
                       for c in land.reduced},
    )
    figures = UnitFigures(
        kind=new_unit.kind, area_km2=result.area_for_standards_km2,
        population=None if land.zero_population else land.population,
        n_members=max(len(codes), 1), mountainous=flags["mountainous"], border=flags["border"],
        island=flags["island"], central_city=flags["central_city"], red_river_delta=flags["red_river_delta"],
        coastal_poor=bool(flags["coastal_poor"]), ethnic_minority_share=flags["ethnic_minority_share"],
        parent_kind=scenario.parent.kind if scenario.parent else None,
    )
    standards = tuple(ruleset.check_unit(figures))
    return replace(result, standards=standards,
                   variant_reasons=tuple(variant_reason(ruleset, r, flags) for r in standards))


def evaluate(units: UnitSet, scenario: Scenario, ruleset: RuleSet | None = None, *, raster_path=None,
             flags_table: dict | None = None, flags_name: str | None = None) -> Evaluation:
    """Evaluate every new unit of a scenario and the parent totals.

    ``flags_table`` (``{code: {flag: value}}``, e.g. from :func:`geo.flags.read_flags_table`, named
    ``flags_name``) gives region flags per existing unit below the scenario's own ``unit_flags``.
    Raises NotFoundError when a member code is not in ``units`` and ScenarioError for an
    inconsistent scenario (also: two new units with one name).
    """
    ruleset = ruleset or RuleSet.load(scenario.regime)
    units.require_codes(scenario.member_codes())
    _refuse_duplicate_names(scenario)
    layout = build_layout(units, scenario, raster_path=raster_path, flags_table=flags_table, flags_name=flags_name)
    results = {u.id: _evaluate_new_unit(units, scenario, ruleset, u, layout) for u in scenario.new_units}
    if len(results) != len(scenario.new_units):
        raise ScenarioError("duplicate new unit ids", hint="give each new unit its own id")
    return Evaluation(units, scenario, ruleset, results, raster_path=raster_path, layout=layout)


def _refuse_duplicate_names(scenario: Scenario) -> None:
    """Two new units of one scenario may not share a name (compared ignoring case and spacing, not
    diacritics: "Văn Lang" and "Văn Lăng" are two names)."""
    from .text import nfc

    seen: dict[str, str] = {}
    for unit in scenario.new_units:
        key = " ".join(nfc(unit.name).casefold().split())
        if key in seen:
            raise ScenarioError(f"new units {seen[key]!r} and {unit.id!r} are both named {unit.name!r}",
                                hint="give each new unit its own name", context={"name": unit.name})
        seen[key] = unit.id


@dataclass(frozen=True)
class EvaluationContext:
    """What every figure is computed from: the units, the population raster and (optionally) a rule set.

    The CLI, the API and the draw panel each build one and compute through it, so a drawn boundary's
    population is the same figure in the draw panel, in the saved scenario and in the exports.
    ``ruleset`` None means each scenario's own regime.
    """

    units: UnitSet
    raster_path: object = None   # str | Path | None: population raster for drawn boundaries
    ruleset: RuleSet | None = None
    flags_table: dict | None = None  # {code: {flag: value}} region flags per existing unit (e.g. --flags)
    flags_name: str | None = None

    def rules_for(self, scenario: Scenario) -> RuleSet:
        return self.ruleset or RuleSet.load(scenario.regime)

    def evaluate(self, scenario: Scenario) -> Evaluation:
        return evaluate(self.units, scenario, self.rules_for(scenario), raster_path=self.raster_path,
                        flags_table=self.flags_table, flags_name=self.flags_name)
