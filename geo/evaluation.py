"""Scenario evaluation: figures and standards per new unit, totals per parent, incremental edits.

Like GerryChain's tallies, per-new-unit figures are computed from the members alone, so an edit
(:meth:`Evaluation.reassign`) recomputes only the new units it touches and returns exactly the
figures a full :func:`evaluate` would. Merged areas are the sum of the members' geodesic areas
minus the measured overlaps between members (real layers overlap), so no ground is counted twice.
The dissolved boundary is built lazily, only when geometry is asked for (exports, tiles).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property

import geopandas as gpd
import numpy as np
import shapely

from .area import geodesic_area_km2
from .crs import from_wgs84, local_equal_area_crs, to_wgs84
from .errors import ScenarioError
from .kinds import ParentKind, UnitKind
from .scenario import NewUnit, Scenario
from .standards import ParentFigures, RuleResult, RuleSet, UnitFigures, overall_status
from .units import AREA_MISMATCH_PCT, UnitSet
from .validity import polygonal_part

AREA_SOURCE_COMPUTED = "computed: geodesic area on the WGS 84 ellipsoid (pyproj Geod)"
SLIVER_TOLERANCE_M = 25.0        # gaps narrower than 2× this between members are closed when dissolving
SLIVER_HOLE_MAX_KM2 = 0.05       # interior holes smaller than this are slivers, not enclaves


def _round(value, digits):
    return None if value is None else round(float(value), digits)


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
    population_source: str
    overlap_km2: float
    components: tuple[tuple[str, ...], ...]
    flags: dict
    standards: tuple[RuleResult, ...]
    drawn: bool = False
    population_is_estimate: bool = False
    missing_population: tuple[str, ...] = ()

    @property
    def area_for_standards_km2(self) -> float:
        return self.official_area_km2 if self.official_area_km2 is not None else self.area_km2

    @property
    def area_basis(self) -> str:
        return "official" if self.official_area_km2 is not None else "computed"

    @property
    def density(self) -> float | None:
        area = self.area_for_standards_km2
        if self.population is None or not area:
            return None
        return self.population / area

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
        return overall_status(list(self.standards))

    def to_json(self) -> dict:
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
            "area_source": AREA_SOURCE_COMPUTED,
            "official_area_km2": _round(self.official_area_km2, 4),
            "official_area_source": "sum of the members' official areas" if self.official_area_km2 is not None else None,
            "area_for_standards_km2": _round(self.area_for_standards_km2, 4),
            "area_basis": self.area_basis,
            "area_difference_pct": _round(diff, 2),
            "area_differs": bool(diff is not None and abs(diff) > AREA_MISMATCH_PCT),
            "population": None if self.population is None else int(round(self.population)),
            "population_source": self.population_source,
            "population_is_estimate": self.population_is_estimate,
            "missing_population": list(self.missing_population),
            "density": _round(self.density, 1),
            "contiguous": self.contiguous,
            "components": [list(c) for c in self.components],
            "overlap_km2": _round(self.overlap_km2, 4),
            "mountainous": bool(self.flags.get("mountainous")),
            "border": bool(self.flags.get("border")),
            "island": bool(self.flags.get("island")),
            "standards": [r.to_dict() for r in self.standards],
            "status": self.status,
        }


class Evaluation:
    """A scenario evaluated on a unit set under a rule set. Immutable: edits return a new one."""

    def __init__(self, units: UnitSet, scenario: Scenario, ruleset: RuleSet, results: dict[str, NewUnitResult],
                 *, raster_path=None):
        self.units = units
        self.scenario = scenario
        self.ruleset = ruleset
        self.results = results
        self.raster_path = raster_path
        self._geometry_cache: dict[tuple, object] = {}

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
                results[new_unit.id] = _evaluate_new_unit(self.units, scenario, self.ruleset, new_unit, self.raster_path)
        child = Evaluation(self.units, scenario, self.ruleset, results, raster_path=self.raster_path)
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
            "density": _round(population / area_basis, 1) if population is not None and area_basis else None,
            "passing": t.statuses.get("pass", 0),
            "failing": t.statuses.get("fail", 0),
            "exempt": t.statuses.get("exempt", 0),
            "unknown": t.statuses.get("unknown", 0),
            "parent": None,
        }
        parent = self.scenario.parent
        if parent is not None:
            figures = ParentFigures(kind=parent.kind, area_km2=area_basis, population=population,
                                    n_units=n_after, n_wards=by_kind_after.get("ward", 0),
                                    mountainous=parent.mountainous or bool(self.scenario.context.mountainous),
                                    border=bool(self.scenario.context.border),
                                    red_river_delta=bool(self.scenario.context.red_river_delta))
            results_parent = self.ruleset.check_parent(figures)
            totals["parent"] = {
                "name": parent.name, "kind": parent.kind.value, "kind_vi": parent.kind.label_vi,
                "standards": [r.to_dict() for r in results_parent],
                "status": overall_status(results_parent),
            }
        return totals

    def warnings(self) -> list[str]:
        notes = []
        for r in self.new_unit_results():
            if not r.contiguous:
                notes.append(f"{r.name}: not contiguous — {len(r.components)} separate parts: "
                             + " | ".join(", ".join(c) for c in r.components))
            diff = r.area_difference_pct
            if diff is not None and abs(diff) > AREA_MISMATCH_PCT:
                notes.append(f"{r.name}: computed area {r.area_km2:.2f} km² differs from official "
                             f"{r.official_area_km2:.2f} km² by {diff:+.1f} %")
            if r.missing_population:
                notes.append(f"{r.name}: no population for {', '.join(r.missing_population)}; population unknown")
            if r.overlap_km2 > 0.001:
                notes.append(f"{r.name}: members overlap by {r.overlap_km2:.3f} km² in the source layer; counted once")
            if not r.members and not r.drawn:
                notes.append(f"{r.name}: has no member units")
        if not self.ruleset.confirmed:
            notes.append(f"{self.ruleset.name}: thresholds are NOT confirmed against the legal text (news only)")
        return notes

    def to_json(self) -> dict:
        """The stable machine-readable form (CLI ``evaluate --json``, API ``/evaluation``)."""
        return {
            "scenario": {"name": self.scenario.name, "description": self.scenario.description,
                         "regime": self.ruleset.id, "regime_name": self.ruleset.name,
                         "confirmed": self.ruleset.confirmed},
            "units_source": self.units.source,
            "units_version": self.units.version,
            "new_units": [{**r.to_json(), "plane_crs": self.units.plane_crs_of(r.members)}
                          for r in self.new_unit_results()],
            "totals": self.totals,
            "warnings": self.warnings(),
        }

    # ---- geometry (lazy) ---------------------------------------------------------------
    def new_unit_geometry(self, new_unit_id: str):
        """Dissolved boundary of a new unit in EPSG:4326 (slivers between members closed)."""
        new_unit = self.scenario.new_unit(new_unit_id)
        key = (new_unit.id, new_unit.members, bool(new_unit.geometry))
        if key not in self._geometry_cache:
            self._geometry_cache[key] = dissolve_members(self.units, new_unit)
        return self._geometry_cache[key][0]

    def sliver_km2(self, new_unit_id: str) -> float:
        """Area of the gaps between members (and small holes) closed by the dissolve, in km²."""
        self.new_unit_geometry(new_unit_id)
        new_unit = self.scenario.new_unit(new_unit_id)
        return self._geometry_cache[(new_unit.id, new_unit.members, bool(new_unit.geometry))][1]

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
            })
            geometries.append(self.new_unit_geometry(r.id))
            rows[-1]["sliver_closed_km2"] = round(self.sliver_km2(r.id), 6)
        # Named columns even with no rows: a scenario without new units still has a (empty) layer to draw.
        return gpd.GeoDataFrame(rows, columns=list(_NEW_UNIT_COLUMNS), geometry=geometries, crs="EPSG:4326")

    def crosswalk(self) -> list[dict]:
        """Old unit → new unit rows."""
        lookup = self.units.lookup
        gdf = self.units.gdf
        rows = []
        for r in self.new_unit_results():
            for code in r.members:
                rows.append({"old_code": code, "old_name": lookup.name[code], "old_kind": lookup.kind[code],
                             "district": gdf.at[code, "district"], "new_unit_id": r.id,
                             "new_name": r.name, "new_kind": r.kind.value})
        return rows


_NEW_UNIT_COLUMNS = ("id", "name", "kind", "members", "area_km2", "official_area_km2", "population", "density",
                     "contiguous", "status", "overlap_km2", "sliver_closed_km2")

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


def _flags_for(units: UnitSet, scenario: Scenario, new_unit: NewUnit) -> dict:
    """Region flags of a new unit: explicit > scenario context > derived from the members.

    A merged unit counts as mountainous (or in the Red River Delta) when more than half of its
    members' area is; it has a land border or is an island when any member has/is one.
    """
    lookup = units.lookup
    members = new_unit.members
    area_total = sum(lookup.area_km2[c] for c in members) or 0.0
    def majority(flag: dict) -> bool:
        return bool(area_total) and sum(lookup.area_km2[c] for c in members if flag[c]) > area_total / 2

    derived = {
        "mountainous": majority(lookup.mountainous),
        "border": any(lookup.border[c] for c in members),
        "island": any(lookup.island[c] for c in members),
        "central_city": scenario.parent is not None and scenario.parent.kind == ParentKind.central_city,
        "red_river_delta": majority(lookup.red_river_delta),
    }
    # Ethnic-minority share of a merged unit: population-weighted, known only if known for every member.
    shares = [lookup.ethnic_minority_share[c] for c in members]
    pops = [lookup.population[c] for c in members]
    if members and all(v is not None for v in shares) and all(p for p in pops):
        derived_share = sum(v * p for v, p in zip(shares, pops)) / sum(pops)
    else:
        derived_share = None
    context = scenario.context
    flags = {"ethnic_minority_share": (context.ethnic_minority_share if context.ethnic_minority_share is not None
                                       else derived_share)}
    for name, value in derived.items():
        explicit = getattr(new_unit, name)
        if explicit is not None:
            flags[name] = explicit
        elif getattr(context, name) is not None:
            flags[name] = getattr(context, name)
        else:
            flags[name] = value
    return flags


def _evaluate_new_unit(units: UnitSet, scenario: Scenario, ruleset: RuleSet, new_unit: NewUnit,
                       raster_path=None) -> NewUnitResult:
    lookup = units.lookup
    members = new_unit.members
    flags = _flags_for(units, scenario, new_unit)
    if new_unit.is_drawn:
        from .population import estimate_population

        shape = new_unit.shape()
        area = geodesic_area_km2(shape)
        estimate = estimate_population(shape, raster_path=raster_path, units=units.gdf)
        population, population_source = estimate.value, f"{estimate.method}: {estimate.source} (ước tính / estimate)"
        official, overlap, components, missing = None, 0.0, (), ()
        is_estimate = True
    else:
        graph = units.graph
        overlap = graph.internal_overlap_km2(members)
        area = math.fsum(lookup.area_km2[c] for c in members) - overlap
        officials = [lookup.official_area_km2[c] for c in members]
        official = math.fsum(officials) if members and all(v is not None for v in officials) else None
        pops = [lookup.population[c] for c in members]
        missing = tuple(c for c, p in zip(members, pops) if p is None)
        population = math.fsum(p for p in pops if p is not None) if members and not missing else None
        sources = sorted({lookup.population_source[c] for c in members})
        population_source = "sum of members: " + "; ".join(sources) if sources else "no members"
        components = tuple(tuple(c) for c in graph.components(members))
        is_estimate = False
    result = NewUnitResult(
        id=new_unit.id, name=new_unit.name, kind=new_unit.kind, members=members,
        member_names=tuple(lookup.name[c] for c in members), area_km2=area, official_area_km2=official,
        population=population, population_source=population_source, overlap_km2=overlap,
        components=components, flags=flags, standards=(), drawn=new_unit.is_drawn,
        population_is_estimate=is_estimate, missing_population=missing,
    )
    figures = UnitFigures(
        kind=new_unit.kind, area_km2=result.area_for_standards_km2, population=population,
        n_members=max(len(members), 1), mountainous=flags["mountainous"], border=flags["border"],
        island=flags["island"], central_city=flags["central_city"], red_river_delta=flags["red_river_delta"],
        ethnic_minority_share=flags["ethnic_minority_share"], parent_kind=scenario.parent.kind if scenario.parent else None,
    )
    return replace(result, standards=tuple(ruleset.check_unit(figures)))


def evaluate(units: UnitSet, scenario: Scenario, ruleset: RuleSet | None = None, *, raster_path=None) -> Evaluation:
    """Evaluate every new unit of a scenario and the parent totals.

    Raises NotFoundError when a member code is not in ``units`` and ScenarioError for an
    inconsistent scenario.
    """
    ruleset = ruleset or RuleSet.load(scenario.regime)
    units.require_codes(scenario.member_codes())
    results = {u.id: _evaluate_new_unit(units, scenario, ruleset, u, raster_path) for u in scenario.new_units}
    if len(results) != len(scenario.new_units):
        raise ScenarioError("duplicate new unit ids", hint="give each new unit its own id")
    return Evaluation(units, scenario, ruleset, results, raster_path=raster_path)
