"""The whole arrangement of a parent: its scope, the land each new unit takes, and scope-wide totals.

A scenario's parent (a city or province) governs the units of its *scope*. After the
arrangement it is made of

- the new units of the scenario (whole existing units by code, and the parts that drawn
  boundaries take, see :mod:`geo.parts`), and
- every unit of the scope that no new unit takes — it *stays as it is* and counts as itself;
  a unit cut by a drawn boundary stays with its remainder.

A unit taken from outside the scope is annexed; the parent it came from (its district, or
province) is an *affected parent* and loses that land.

Totals never count ground twice: the parent's area is the geodesic area of the union of its land
(overlaps between neighbouring polygons counted once), its population the exact sum of its
units' and parts' populations. A drawn unit inside the scope moves land within the parent and
leaves both unchanged.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import shapely

from .adjacency import DEFAULT_TOLERANCE_M
from .area import geodesic_area_km2
from .crs import from_wgs84, local_equal_area_crs
from .parts import Cut, cut_units
from .population import density_per_km2
from .validity import polygonal_part


def drawn_shape(new_unit):
    """The drawn boundary of a new unit as a shapely geometry, or ``None``."""
    geometry = getattr(new_unit, "geometry", None)
    if geometry is None:
        return None
    if hasattr(geometry, "geom_type"):
        return geometry
    if hasattr(geometry, "model_dump"):
        geometry = geometry.model_dump()
    return shapely.geometry.shape(geometry)


@dataclass(frozen=True)
class Allocation:
    """Where the land of every touched existing unit goes.

    ``cuts``: drawn new unit id → :class:`Cut`; ``remainders``: code → (geometry, population)
    left to a unit after all cuts; ``taken_whole``: code → id of the drawn new unit that took it
    whole.
    """

    cuts: dict = field(default_factory=dict)
    remainders: dict = field(default_factory=dict)
    taken_whole: dict = field(default_factory=dict)

    def parts_taken_from(self, code: str) -> list:
        """(new unit id, part) for every part taken from a unit."""
        return [(unit_id, part) for unit_id, cut in self.cuts.items() for part in cut.parts
                if part.code == code and not part.whole]

    def is_cut(self, code: str) -> bool:
        return code in self.remainders


def allocate(units, new_units, *, raster_path=None) -> Allocation:
    """Lay every drawn new unit over the layer, in scenario order (an earlier one takes first)."""
    cuts: dict[str, Cut] = {}
    land: dict = {}
    populations: dict = {}
    taken_whole: dict[str, str] = {}
    for new_unit in new_units:
        shape = drawn_shape(new_unit)
        if shape is None:
            continue
        cut = cut_units(units, shape, raster_path=raster_path, land=land, populations=populations)
        cuts[new_unit.id] = cut
        for part in cut.parts:
            if part.whole:
                taken_whole[part.code] = new_unit.id
                land[part.code] = shapely.Polygon()
                populations[part.code] = None if part.population is None else 0.0
            else:
                land[part.code] = part.remainder
                populations[part.code] = part.population_remainder
    remainders = {code: (land[code], populations[code]) for code in land if code not in taken_whole}
    return Allocation(cuts=cuts, remainders=remainders, taken_whole=taken_whole)


@dataclass(frozen=True)
class LandFigures:
    """Area, population and units of a piece of territory (a parent before/after)."""

    n_units: int
    by_kind: dict
    area_km2: float
    official_area_km2: float | None
    population: float | None
    missing_population: tuple[str, ...] = ()
    zero_population: tuple[str, ...] = ()

    @property
    def area_for_standards_km2(self) -> float:
        return self.official_area_km2 if self.official_area_km2 is not None else self.area_km2

    @property
    def density(self) -> float | None:
        return density_per_km2(self.population, self.area_for_standards_km2)

    @property
    def ward_share(self) -> float | None:
        return self.by_kind.get("ward", 0) / self.n_units if self.n_units else None


def union_area_km2(geometries) -> float:
    """Geodesic area of the union of polygons in EPSG:4326 (ground under two polygons counted once)."""
    geoms = [g for g in geometries if g is not None and not g.is_empty]
    if not geoms:
        return 0.0
    return geodesic_area_km2(polygonal_part(shapely.union_all(np.array(geoms, dtype=object))))


def population_sum(items) -> tuple[float | None, tuple[str, ...], tuple[str, ...]]:
    """Exact sum of ``(code, population)`` items; ``(None, missing codes, zero codes)`` when any is missing."""
    items = list(items)
    missing = tuple(code for code, value in items if value is None)
    zero = tuple(code for code, value in items if value is not None and value == 0)
    if missing:
        return None, missing, zero
    return math.fsum(value for _code, value in items), (), zero


@dataclass(frozen=True)
class Arrangement:
    """The parent after the arrangement: unchanged units, annexations, affected parents, totals."""

    scope_codes: tuple[str, ...]
    unchanged: tuple[str, ...]               # scope units no new unit takes (in layer order)
    reduced: tuple[str, ...]                 # unchanged units that lost a part to a drawn unit
    annexed: tuple[str, ...]                 # units from outside the scope taken whole
    annexed_parts: tuple[tuple[str, str], ...]  # (code, new unit id) of parts taken from outside
    before: LandFigures
    after: LandFigures
    affected: tuple[dict, ...]
    outside_km2: float = 0.0                 # drawn area lying in no unit (not counted)


def _unit_land(units, code: str, allocation: Allocation):
    if code in allocation.remainders:
        return allocation.remainders[code]
    return units.gdf.geometry.at[code], units.lookup.population[code]


def arrange(units, new_units, scope_codes, allocation: Allocation, *, land_cache: dict | None = None) -> Arrangement:
    """The parent's figures after the arrangement (every new unit belongs to the parent).

    ``land_cache`` (a dict kept by the caller) remembers the union areas between calls that
    change only which new unit holds which unit of the scope.
    """
    lookup = units.lookup
    scope = tuple(scope_codes)
    scope_set = frozenset(scope)
    new_units = list(new_units)
    members = {code: u.id for u in new_units for code in (u.members or ())}
    moved = set(members) | set(allocation.taken_whole)
    unchanged = tuple(c for c in scope if c not in moved)
    reduced = tuple(c for c in unchanged if allocation.is_cut(c))
    annexed = tuple(sorted(c for c in moved if c not in scope_set))
    annexed_parts = tuple(sorted((part.code, unit_id) for unit_id, cut in allocation.cuts.items()
                                 for part in cut.parts if not part.whole and part.code not in scope_set))

    # Before: the scope as it is in the layer.
    cache = land_cache if land_cache is not None else {}
    key_before = ("before", scope)
    if key_before not in cache:
        cache[key_before] = union_area_km2(units.gdf.geometry.loc[list(scope)].values)
    population, missing, zero = population_sum((c, lookup.population[c]) for c in scope)
    officials = [lookup.official_area_km2[c] for c in scope]
    before = LandFigures(
        n_units=len(scope), by_kind=dict(sorted(Counter(lookup.kind[c] for c in scope).items())),
        area_km2=cache[key_before],
        official_area_km2=math.fsum(officials) if scope and all(v is not None for v in officials) else None,
        population=population, missing_population=missing, zero_population=zero)

    # After: the scope's land, plus whole annexed units, plus parts taken from outside.
    outside_parts = [(part.code, part) for _unit_id, cut in allocation.cuts.items() for part in cut.parts
                     if not part.whole and part.code not in scope_set]
    key_after = ("after", scope, annexed, tuple((c, id(p.inside)) for c, p in outside_parts))
    if key_after not in cache:
        geoms = list(units.gdf.geometry.loc[list(scope) + list(annexed)].values) + [p.inside for _c, p in outside_parts]
        cache[key_after] = union_area_km2(geoms) if annexed or outside_parts else cache[key_before]
    items = [(c, lookup.population[c]) for c in scope] + [(c, lookup.population[c]) for c in annexed]
    items += [(c, p.population_inside) for c, p in outside_parts]
    population_after, missing_after, zero_after = population_sum(items)
    whole_codes = list(scope) + list(annexed)
    officials = [lookup.official_area_km2[c] for c in whole_codes]
    official_after = (math.fsum(officials) if whole_codes and not outside_parts
                      and all(v is not None for v in officials) else None)
    by_kind = Counter(str(getattr(u.kind, "value", u.kind)) for u in new_units)
    by_kind.update(lookup.kind[c] for c in unchanged)
    after = LandFigures(
        n_units=len(new_units) + len(unchanged), by_kind=dict(sorted(by_kind.items())), area_km2=cache[key_after],
        official_area_km2=official_after, population=population_after,
        missing_population=missing_after, zero_population=zero_after)
    affected = _affected_parents(units, scope_set, annexed, outside_parts, allocation, cache)
    outside_km2 = math.fsum(cut.outside_km2 for cut in allocation.cuts.values())
    return Arrangement(scope_codes=scope, unchanged=unchanged, reduced=reduced, annexed=annexed,
                       annexed_parts=annexed_parts, before=before, after=after, affected=affected,
                       outside_km2=outside_km2)


def _parent_of(gdf, code: str) -> tuple[str | None, str | None]:
    district = gdf.at[code, "district"]
    province = gdf.at[code, "province"]
    return (district if isinstance(district, str) else None, province if isinstance(province, str) else None)


def _affected_parents(units, scope_set, annexed, outside_parts, allocation, cache) -> tuple[dict, ...]:
    """Every other parent (district, else province) that loses land: before/after figures."""
    gdf = units.gdf
    lookup = units.lookup
    losing: dict[tuple, dict] = {}
    for code in annexed:
        losing.setdefault(_parent_of(gdf, code), {"whole": [], "parts": []})["whole"].append(code)
    for code, part in outside_parts:
        losing.setdefault(_parent_of(gdf, code), {"whole": [], "parts": []})["parts"].append(part)
    result = []
    for (district, province), lost in sorted(losing.items(), key=lambda kv: (kv[0][1] or "", kv[0][0] or "")):
        if district is not None:
            mask = (gdf["district"] == district) & (gdf["province"] == province if province else True)
        else:
            mask = gdf["province"] == province
        codes = [c for c in gdf.index[mask] if c not in scope_set]   # the rest is the parent's own
        key = ("affected", district, province)
        if key not in cache:
            cache[key] = union_area_km2(gdf.geometry.loc[codes].values)
        area_before = cache[key]
        pop_before, missing_before, _zero = population_sum((c, lookup.population[c]) for c in codes)
        lost_whole = set(lost["whole"])
        remaining = [c for c in codes if c not in lost_whole]
        geoms, items = [], []
        for code in remaining:
            geometry, population = _unit_land(units, code, allocation)
            geoms.append(geometry)
            items.append((code, population))
        pop_after, missing_after, _zero = population_sum(items)
        area_after = union_area_km2(geoms)
        result.append({
            "name": district or province, "district": district, "province": province,
            "units_before": len(codes), "units_after": len(remaining),
            "area_km2_before": round(area_before, 4), "area_km2_after": round(area_after, 4),
            "population_before": None if pop_before is None else int(round(pop_before)),
            "population_after": None if pop_after is None else int(round(pop_after)),
            "units_lost": sorted(lost_whole), "parts_lost": sorted(p.code for p in lost["parts"]),
            "missing_population": list(missing_after),
        })
    return tuple(result)


# ------------------------------------------------------------------------------- per new unit
@dataclass(frozen=True)
class UnitLand:
    """The land of one new unit: whole members, parts of cut units, and its figures."""

    members: tuple[str, ...]                 # existing units it takes whole
    parts: tuple                             # UnitPart of units it takes a part of
    reduced: tuple[str, ...]                 # members that lost a part to a drawn unit
    area_km2: float
    overlap_km2: float
    official_area_km2: float | None
    population: float | None
    missing_population: tuple[str, ...]
    zero_population: tuple[str, ...]
    population_is_estimate: bool
    population_method: str | None
    components: tuple[tuple[str, ...], ...]
    areas: dict                              # code → km² of its land in this unit (for flags)
    populations: dict                        # code → persons of its land in this unit
    geometries: dict                         # code → its land in this unit (EPSG:4326)


def land_of(units, code: str, allocation: Allocation) -> tuple:
    """``(geometry, km², population, reduced)`` of a unit's land after the drawn units took their parts."""
    if code in allocation.taken_whole:
        population = units.lookup.population[code]
        return shapely.Polygon(), 0.0, (None if population is None else 0.0), True
    if code in allocation.remainders:
        geometry, population = allocation.remainders[code]
        return geometry, geodesic_area_km2(geometry), population, True
    return units.gdf.geometry.at[code], units.lookup.area_km2[code], units.lookup.population[code], False


def land_area_of(units, code: str, allocation: Allocation) -> float:
    """km² of a unit's land after the drawn units took their parts (no geometry fetched for untouched units)."""
    if code in allocation.taken_whole or code in allocation.remainders:
        return land_of(units, code, allocation)[1]
    return units.lookup.area_km2[code]


def new_unit_land(units, new_unit, allocation: Allocation) -> UnitLand:
    """Figures of the land a new unit is made of (members whole, minus what drawn units took)."""
    lookup = units.lookup
    graph = units.graph
    cut = allocation.cuts.get(new_unit.id)
    explicit = tuple(new_unit.members or ())
    if cut is None:
        members, parts = explicit, ()
    else:
        members = explicit + tuple(p.code for p in cut.parts if p.whole and p.code not in explicit)
        parts = tuple(p for p in cut.parts if not p.whole and p.code not in explicit)
    areas, populations, geometries, reduced = {}, {}, {}, []
    for code in members:
        if cut is not None and code not in explicit:      # taken whole by this drawn unit
            part = cut.part(code)
            geometries[code], areas[code], populations[code] = part.inside, part.inside_km2, part.population_inside
            continue
        if code in allocation.taken_whole or code in allocation.remainders:
            geometry, km2, population, _cut = land_of(units, code, allocation)
            geometries[code], areas[code], populations[code] = geometry, km2, population
            reduced.append(code)
        else:   # untouched: figures from the lookup, geometry only if the land must be measured as a union
            areas[code], populations[code] = lookup.area_km2[code], lookup.population[code]
    for part in parts:
        geometries[part.code], areas[part.code], populations[part.code] = part.inside, part.inside_km2, \
            part.population_inside
    codes = list(members) + [p.code for p in parts]
    if cut is None and not reduced:
        overlap = graph.internal_overlap_km2(members)
        area = math.fsum(areas[c] for c in members) - overlap
        components = tuple(tuple(c) for c in graph.components(members))
    else:
        # Drawn or cut land: measure the union (parts of neighbours may overlap), contiguity from its polygons.
        for code in codes:
            if code not in geometries:
                geometries[code] = units.gdf.geometry.at[code]
        union = polygonal_part(shapely.union_all(np.array([geometries[c] for c in codes], dtype=object))) \
            if codes else shapely.Polygon()
        area = geodesic_area_km2(union)
        overlap = max(0.0, math.fsum(areas.values()) - area)
        components = _components(union, codes, geometries)
    official = None
    if cut is None and not reduced:
        officials = [lookup.official_area_km2[c] for c in members]
        official = math.fsum(officials) if members and all(v is not None for v in officials) else None
    population, missing, zero = population_sum((c, populations[c]) for c in codes)
    # A unit whose source population is 0 is missing data, not an empty unit.
    zero = tuple(c for c in codes if lookup.population[c] == 0)
    methods = sorted({p.population_method for p in parts if p.population_method})
    if reduced:
        methods = sorted(set(methods) | {m for code in reduced for _u, p in allocation.parts_taken_from(code)
                                         if (m := p.population_method)})
    return UnitLand(members=members, parts=parts, reduced=tuple(reduced), area_km2=area, overlap_km2=overlap,
                    official_area_km2=official, population=population, missing_population=missing,
                    zero_population=zero, population_is_estimate=bool(parts or reduced),
                    population_method=", ".join(methods) or None, components=components, areas=areas,
                    populations=populations, geometries=geometries)


def _components(union, codes, geometries, tolerance_m: float = DEFAULT_TOLERANCE_M) -> tuple[tuple[str, ...], ...]:
    """Codes per separate piece of a unit's land (one entry when contiguous).

    Pieces closer than twice the adjacency tolerance are one piece: real layers leave gaps of
    tens of metres between neighbours, and a drawn unit over two neighbours is still one area.
    """
    polygons = list(union.geoms) if union.geom_type == "MultiPolygon" else ([union] if not union.is_empty else [])
    if len(polygons) <= 1:
        return (tuple(sorted(codes)),) if codes else ()
    plane = local_equal_area_crs(tuple(shapely.total_bounds(np.array(polygons, dtype=object))))
    planar = from_wgs84(np.array(polygons, dtype=object), plane)
    merged = shapely.union_all(shapely.buffer(planar, tolerance_m, quad_segs=2))
    pieces = list(merged.geoms) if merged.geom_type == "MultiPolygon" else [merged]
    if len(pieces) <= 1:
        return (tuple(sorted(codes)),)
    planar_land = {c: from_wgs84(np.array([geometries[c]], dtype=object), plane)[0] for c in codes}
    groups = []
    for piece in sorted(pieces, key=lambda p: -p.area):
        groups.append(tuple(sorted(c for c in codes if shapely.intersects(planar_land[c], piece))))
    return tuple(g for g in groups if g)


# ------------------------------------------------------------------------------- the layout
@dataclass
class Layout:
    """What an evaluation needs beyond the scenario: the resolved scope, the cuts, the flags table."""

    scope: object                              # geo.scope.Scope or None
    allocation: Allocation
    unit_flags: dict                           # code → {flag: value}: dataset table under the scenario's own
    flags_name: str | None = None
    land_cache: dict = field(default_factory=dict)


def build_layout(units, scenario, *, raster_path=None, flags_table: dict | None = None,
                 flags_name: str | None = None) -> Layout:
    """Resolve the parent's scope, lay the drawn units over the layer and merge the flag tables."""
    from .scope import resolve_scope

    parent = scenario.parent
    raw_scope = getattr(parent, "scope", None) if parent is not None else None
    if raw_scope is not None and hasattr(raw_scope, "to_dict"):
        raw_scope = raw_scope.to_dict()
    scope = resolve_scope(units, raw_scope, source=scenario.name) if raw_scope else None
    scenario_flags = {code: (f.flags_dict() if hasattr(f, "flags_dict") else dict(f))
                      for code, f in (getattr(scenario, "unit_flags", None) or {}).items()}
    units.require_codes(list(scenario_flags))
    table = {code: dict(values) for code, values in (flags_table or {}).items()}
    for code, values in scenario_flags.items():
        table.setdefault(code, {}).update(values)
    allocation = allocate(units, scenario.new_units, raster_path=raster_path)
    return Layout(scope=scope, allocation=allocation, unit_flags=table, flags_name=flags_name)


def flags_for(units, scenario, layout: Layout, codes, areas: dict, populations: dict, own: dict | None = None):
    """Resolved region flags of land made of ``codes`` (see :mod:`geo.flags` for the precedence)."""
    from .flags import layer_flag_values, resolve_flags
    from .kinds import ParentKind

    layer_values, layer_has = layer_flag_values(units)
    parent = scenario.parent
    context = scenario.context.flags_dict() if hasattr(scenario.context, "flags_dict") else dict(scenario.context)
    return resolve_flags(codes, areas=areas, populations=populations, unit_flags=layout.unit_flags,
                         layer_values=layer_values, layer_has=layer_has, context=context, own=own,
                         defaults={"central_city": parent is not None and parent.kind == ParentKind.central_city},
                         flags_name=layout.flags_name)
