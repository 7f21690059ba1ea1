"""Partial moves (một phần): a drawn boundary takes the parts of the units it cuts.

Each unit that a drawn polygon cuts is split into the part inside (it goes to the drawn new
unit) and the remainder (it stays where it was). Areas of both are geodesic. The population of
the unit is shared between the two so that they add up to the unit's population exactly:

- with a population raster: in proportion to the raster persons of each part, each cell weighted
  by the exact fraction of it that the part covers (exactextract) — the raster gives only the
  distribution inside the unit, its own totals are never reported;
- without a raster (or where the raster holds nobody in the unit): in proportion to the
  geodesic area of each part (uniform density inside the unit).

Both are estimates (*ước tính*) and say which method made them.

A piece narrower than twice the adjacency tolerance everywhere (a sliver from snapping the
drawn corners onto the unit's border) is not a move: a unit touched only by such a sliver stays
whole, and a unit whose remainder would be such a sliver moves whole (*toàn bộ*).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from .adjacency import DEFAULT_TOLERANCE_M
from .area import geodesic_area_km2
from .crs import from_wgs84, local_equal_area_crs
from .population import ESTIMATE_NOTE_VI, PopulationMethod, _open_raster, _raster_sums
from .validity import polygonal_part

WHOLE = "toàn bộ"
PARTIAL = "một phần"
_METHOD_NOTE_VI = {
    PopulationMethod.raster_rescaled_to_units.value:
        "chia dân số của đơn vị theo lưới dân số (trọng số phủ ô chính xác), tổng các phần bằng dân số đơn vị",
    PopulationMethod.area_weighted_units.value:
        "chia dân số của đơn vị theo tỷ lệ diện tích (mật độ đều trong đơn vị)",
}


@dataclass(frozen=True)
class UnitPart:
    """What a drawn boundary takes from one existing unit."""

    code: str
    name: str
    whole: bool                      # the unit moves whole (toàn bộ)
    inside: object                   # shapely geometry (EPSG:4326) of the part that moves
    remainder: object                # what stays (empty when whole)
    inside_km2: float
    remainder_km2: float
    population: float | None         # population of the land before the cut (None: missing)
    population_inside: float | None
    population_remainder: float | None
    population_method: str | None    # None when whole (no estimate needed) or population missing

    @property
    def share(self) -> str:
        return WHOLE if self.whole else PARTIAL

    @property
    def area_share(self) -> float:
        total = self.inside_km2 + self.remainder_km2
        return 1.0 if self.whole or total <= 0 else self.inside_km2 / total

    @property
    def population_share(self) -> float | None:
        if self.whole:
            return 1.0
        if self.population_inside is None or not self.population:
            return None
        return self.population_inside / self.population

    @property
    def population_is_estimate(self) -> bool:
        return not self.whole and self.population_method is not None

    @property
    def population_note(self) -> str | None:
        if not self.population_is_estimate:
            return None
        return f"{ESTIMATE_NOTE_VI}: {_METHOD_NOTE_VI[self.population_method]}"

    def to_json(self) -> dict:
        return {
            "code": self.code, "name": self.name, "share": self.share,
            "area_km2": round(self.inside_km2, 4), "remainder_area_km2": round(self.remainder_km2, 4),
            "area_share": round(self.area_share, 4),
            "population": None if self.population_inside is None else int(round(self.population_inside)),
            "remainder_population": None if self.population_remainder is None
            else int(round(self.population_remainder)),
            "population_share": None if self.population_share is None else round(self.population_share, 4),
            "population_is_estimate": self.population_is_estimate,
            "population_method": self.population_method,
            "population_note": self.population_note,
        }


@dataclass(frozen=True)
class Cut:
    """A drawn boundary laid over the units: the parts it takes, and what it leaves out."""

    parts: tuple[UnitPart, ...]
    outside_km2: float                        # drawn area that lies in no unit (taken from nobody)
    slivers: tuple[tuple[str, float], ...] = field(default_factory=tuple)  # (code, km²) touches ignored

    @property
    def geometry(self):
        """The land the drawn unit takes: the union of the parts (EPSG:4326)."""
        if not self.parts:
            return shapely.Polygon()
        return polygonal_part(shapely.union_all([p.inside for p in self.parts]))

    def part(self, code: str) -> UnitPart | None:
        return next((p for p in self.parts if p.code == code), None)


def _is_sliver(geometry, plane, tolerance_m: float) -> bool:
    """True when the piece is narrower than 2 × tolerance everywhere (nothing left after an inward buffer)."""
    if geometry.is_empty:
        return True
    planar = from_wgs84(np.array([geometry], dtype=object), plane)[0]
    return shapely.buffer(planar, -tolerance_m, quad_segs=2).is_empty


def _split_population(population: float | None, inside_weight: float, remainder_weight: float) -> tuple:
    """Whole persons for the part inside; the remainder gets the rest, so the two add up exactly."""
    if population is None:
        return None, None
    total = inside_weight + remainder_weight
    inside = float(round(population * inside_weight / total)) if total > 0 else 0.0
    inside = min(max(inside, 0.0), population)
    return inside, population - inside


def cut_units(units, drawn, *, raster_path=None, land: dict | None = None, populations: dict | None = None,
              tolerance_m: float = DEFAULT_TOLERANCE_M) -> Cut:
    """Lay the drawn polygon (EPSG:4326) over ``units`` (a :class:`geo.units.UnitSet`).

    ``land`` / ``populations`` give the current land and population of units already cut by an
    earlier drawn unit of the same scenario (code → geometry / persons); other units are taken
    from the layer as they are.
    """
    drawn = polygonal_part(drawn)
    land = land or {}
    populations = populations or {}
    if drawn.is_empty:
        return Cut(parts=(), outside_km2=0.0)
    gdf = units.gdf
    lookup = units.lookup
    layer_geoms = gdf.geometry.values
    rows = np.sort(units_tree(units).query(drawn, predicate="intersects"))
    codes = [gdf.index[i] for i in rows]
    current = [land.get(c, layer_geoms[i]) for c, i in zip(codes, rows)]
    plane = local_equal_area_crs(tuple(shapely.total_bounds(np.array([drawn], dtype=object))))
    pieces, slivers = [], []
    for code, geometry in zip(codes, current):
        if geometry is None or geometry.is_empty:
            continue
        inside = polygonal_part(shapely.intersection(geometry, drawn))
        if inside.is_empty:
            continue
        if _is_sliver(inside, plane, tolerance_m):
            slivers.append((code, geodesic_area_km2(inside)))
            continue
        remainder = polygonal_part(shapely.difference(geometry, drawn))
        whole = _is_sliver(remainder, plane, tolerance_m)
        if whole:
            inside, remainder = geometry, shapely.Polygon()
        pieces.append((code, geometry, inside, remainder, whole))
    # Population weights: the raster persons of each part (one exactextract pass for all parts).
    weights = {}
    method = None
    splits = [p for p in pieces if not p[4]]
    if raster_path is not None and splits:
        geoms = np.array([g for p in splits for g in (p[2], p[3])], dtype=object)
        sums, _valid = _raster_sums(geoms, _open_raster(raster_path))
        for k, piece in enumerate(splits):
            weights[piece[0]] = (float(sums[2 * k]), float(sums[2 * k + 1]))
        method = PopulationMethod.raster_rescaled_to_units.value
    parts = []
    for code, _geometry, inside, remainder, whole in pieces:
        population = populations.get(code, lookup.population[code])
        inside_km2 = geodesic_area_km2(inside)
        remainder_km2 = 0.0 if whole else geodesic_area_km2(remainder)
        if whole:
            pop_in, pop_rest, used = population, (None if population is None else 0.0), None
        else:
            raster_in, raster_rest = weights.get(code, (0.0, 0.0))
            if method and raster_in + raster_rest > 0:
                pop_in, pop_rest = _split_population(population, raster_in, raster_rest)
                used = method
            else:
                pop_in, pop_rest = _split_population(population, inside_km2, remainder_km2)
                used = PopulationMethod.area_weighted_units.value
            if population is None:
                used = None
        parts.append(UnitPart(code=code, name=lookup.name[code], whole=whole, inside=inside, remainder=remainder,
                              inside_km2=inside_km2, remainder_km2=remainder_km2, population=population,
                              population_inside=pop_in, population_remainder=pop_rest, population_method=used))
    taken = shapely.union_all([p[1] for p in pieces]) if pieces else shapely.Polygon()
    outside = polygonal_part(shapely.difference(drawn, taken))
    outside_km2 = 0.0 if outside.is_empty or _is_sliver(outside, plane, tolerance_m) else geodesic_area_km2(outside)
    return Cut(parts=tuple(parts), outside_km2=outside_km2, slivers=tuple(slivers))


def units_tree(units) -> shapely.STRtree:
    """A spatial index of the layer's polygons (built once per unit set)."""
    tree = units.__dict__.get("_parts_tree")
    if tree is None:
        tree = shapely.STRtree(units.gdf.geometry.values)
        units.__dict__["_parts_tree"] = tree
    return tree

