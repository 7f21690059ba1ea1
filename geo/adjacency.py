"""Which units share a border, how long it is, how much neighbours overlap, and contiguity.

Real layers are not clean coverages: independently simplified polygons overlap and leave
gaps of tens of metres. Neighbours are therefore found with a tolerance (default 25 m) in a
local equal-area plane; the shared border is the part of one boundary lying within the
tolerance of the other, measured geodesically. Overlaps between neighbours are measured
geodesically too, so merged areas never count the same ground twice.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import shapely

from .area import geodesic_area_m2, geodesic_length_km
from .crs import from_wgs84, local_equal_area_crs, to_wgs84

DEFAULT_TOLERANCE_M = 25.0
MIN_SHARED_BORDER_M = 2 * DEFAULT_TOLERANCE_M  # shorter contacts are corners, not borders
OVERLAP_REPORT_M2 = 1.0


@dataclass(frozen=True)
class Edge:
    """A border between two units."""

    a: str
    b: str
    shared_border_km: float
    overlap_km2: float


@dataclass(frozen=True)
class AdjacencyGraph:
    """Frozen adjacency of a unit set (rook contiguity with a tolerance)."""

    neighbours: MappingProxyType  # code -> frozenset of neighbour codes
    edges: MappingProxyType       # frozenset({a, b}) -> Edge
    overlaps: MappingProxyType    # code -> {other code: overlap km²} for every overlapping pair (incl. non-neighbours)
    parts: MappingProxyType       # code -> number of polygon parts (islands/exclaves when > 1)
    tolerance_m: float = DEFAULT_TOLERANCE_M
    notes: tuple = field(default_factory=tuple)

    def are_neighbours(self, a: str, b: str) -> bool:
        return b in self.neighbours.get(a, ())

    def shared_border_km(self, a: str, b: str) -> float:
        edge = self.edges.get(frozenset((a, b)))
        return edge.shared_border_km if edge else 0.0

    def overlap_km2(self, a: str, b: str) -> float:
        return self.overlaps.get(a, {}).get(b, 0.0)

    def internal_overlap_km2(self, codes) -> float:
        """Total overlap area between pairs of the given units (counted once per pair)."""
        codes = set(codes)
        total = 0.0
        for code in codes:
            for other, km2 in self.overlaps.get(code, {}).items():
                if other in codes and code < other:
                    total += km2
        return total

    def components(self, codes) -> list[list[str]]:
        """Connected parts of a set of units, largest first (a contiguous set has one)."""
        remaining = set(codes)
        parts: list[list[str]] = []
        while remaining:
            start = min(remaining)
            queue = deque([start])
            remaining.discard(start)
            part = [start]
            while queue:
                current = queue.popleft()
                for nxt in self.neighbours.get(current, ()):
                    if nxt in remaining:
                        remaining.discard(nxt)
                        queue.append(nxt)
                        part.append(nxt)
            parts.append(sorted(part))
        parts.sort(key=lambda p: (-len(p), p[0]))
        return parts

    def is_contiguous(self, codes) -> bool:
        return len(self.components(codes)) <= 1

    def to_records(self) -> list[dict]:
        return [{"a": e.a, "b": e.b, "shared_border_km": round(e.shared_border_km, 4),
                 "overlap_km2": round(e.overlap_km2, 6)} for e in self.edges.values()]


def build_adjacency(codes, geometries, *, tolerance_m: float = DEFAULT_TOLERANCE_M) -> AdjacencyGraph:
    """Build the adjacency graph of polygons given in EPSG:4326."""
    codes = [str(c) for c in codes]
    geoms = np.asarray(list(geometries), dtype=object)
    n = len(codes)
    if n == 0:
        empty = MappingProxyType({})
        return AdjacencyGraph(empty, empty, empty, empty, tolerance_m)
    plane = local_equal_area_crs(tuple(shapely.total_bounds(geoms)))
    planar = from_wgs84(geoms, plane)
    # Reprojection can make near-degenerate rings invalid; these planar copies serve topology only.
    invalid = ~shapely.is_valid(planar)
    if invalid.any():
        planar[invalid] = shapely.buffer(planar[invalid], 0)
    buffered = shapely.buffer(planar, tolerance_m, quad_segs=2)
    tree = shapely.STRtree(planar)
    left, right = tree.query(buffered, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]

    # Shared border: the part of A's boundary within the tolerance of B (and vice versa, averaged).
    boundaries = shapely.boundary(planar)
    line_ab = shapely.line_merge(shapely.intersection(boundaries[left], buffered[right]))
    line_ba = shapely.line_merge(shapely.intersection(boundaries[right], buffered[left]))
    # Where a shared border ends, each boundary runs on for about one tolerance inside the other's
    # buffer (the turn at a T-junction); take that off at both ends of each merged piece.
    end_effect_km = 2 * (shapely.get_num_geometries(line_ab) + shapely.get_num_geometries(line_ba)) * tolerance_m / 1000.0
    lines_lonlat_ab = to_wgs84(line_ab, plane)
    lines_lonlat_ba = to_wgs84(line_ba, plane)

    # Overlap between the two polygons themselves (measured geodesically).
    overlap_planar = shapely.intersection(planar[left], planar[right])
    has_overlap = ~shapely.is_empty(overlap_planar) & (shapely.area(overlap_planar) > 0)
    overlap_lonlat = np.empty(len(left), dtype=object)
    if has_overlap.any():
        overlap_lonlat[has_overlap] = to_wgs84(overlap_planar[has_overlap], plane)

    neighbours: dict[str, set[str]] = {c: set() for c in codes}
    edges: dict[frozenset, Edge] = {}
    overlaps: dict[str, dict[str, float]] = {c: {} for c in codes}
    for k, (i, j) in enumerate(zip(left, right)):
        overlap_m2 = geodesic_area_m2(overlap_lonlat[k]) if has_overlap[k] else 0.0
        if overlap_m2 >= OVERLAP_REPORT_M2:
            overlaps[codes[i]][codes[j]] = overlap_m2 / 1e6
            overlaps[codes[j]][codes[i]] = overlap_m2 / 1e6
        border_km = max(0.0, 0.5 * (geodesic_length_km(lines_lonlat_ab[k]) + geodesic_length_km(lines_lonlat_ba[k])
                                    - end_effect_km[k]))
        if border_km * 1000.0 < MIN_SHARED_BORDER_M and overlap_m2 < OVERLAP_REPORT_M2 * 1000:
            continue
        a, b = codes[i], codes[j]
        neighbours[a].add(b)
        neighbours[b].add(a)
        edges[frozenset((a, b))] = Edge(a, b, border_km, overlap_m2 / 1e6)
    parts = {c: (len(g.geoms) if g.geom_type == "MultiPolygon" else 1) for c, g in zip(codes, geoms)}
    notes = tuple(f"{c} has {p} separate parts (island/exclave)" for c, p in parts.items() if p > 1)
    return AdjacencyGraph(
        MappingProxyType({c: frozenset(v) for c, v in neighbours.items()}),
        MappingProxyType(edges),
        MappingProxyType({c: MappingProxyType(v) for c, v in overlaps.items()}),
        MappingProxyType(parts),
        tolerance_m,
        notes,
    )
