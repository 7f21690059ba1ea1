"""Geometry checks, reported per unit, and an explicit repair that says what it did."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import shapely

from .area import geodesic_area_km2

_LOCATION = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\]")


@dataclass(frozen=True)
class GeometryIssue:
    """One problem with one unit's geometry (or attributes) and what was done about it."""

    code: str
    name: str
    problem: str                 # e.g. "Self-intersection", "empty geometry", "missing population"
    location: tuple[float, float] | None = None   # lon, lat of the problem when known
    action: str = "reported"     # reported | repaired | refused
    detail: str | None = None    # e.g. "area 1.234 → 1.230 km²"
    type: str = ""               # machine-readable type (see ISSUE_TYPES); derived from ``problem`` when empty

    @property
    def issue_type(self) -> str:
        return self.type or issue_type(self.problem)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["location"] = list(self.location) if self.location else None
        data["type"] = self.issue_type
        return data

    def __str__(self) -> str:
        where = f" at {self.location[0]:.6f}, {self.location[1]:.6f}" if self.location else ""
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.code} {self.name}: {self.problem}{where} — {self.action}{extra}"


# Typed per-unit warnings: problem text (its start) → type. Geometry problems from GEOS are "invalid_geometry".
ISSUE_TYPES = {
    "missing unit code": "missing_code", "duplicate unit code": "duplicate_code", "padded unit code": "padded_code",
    "short unit code": "short_code", "unknown unit kind": "unknown_kind", "no population column": "no_population_column",
    "missing population": "missing_population", "zero population": "zero_population",
    "negative population": "negative_population", "not in table": "not_in_table",
    "population year unknown": "population_year_unknown", "coverage repair": "coverage_repaired",
    "empty or missing geometry": "empty_geometry",
}


def issue_type(problem: str) -> str:
    for start, kind in ISSUE_TYPES.items():
        if problem.startswith(start):
            return kind
    return "invalid_geometry"


def polygonal_part(geometry):
    """The areal part of a geometry: make_valid, unions and intersections may add stray lines/points."""
    if geometry is None or geometry.is_empty:
        return shapely.Polygon()
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def valid_polygons(geoms: np.ndarray) -> np.ndarray:
    """The polygons with the invalid ones repaired to their polygonal part: reprojection can make a
    valid ring touch itself (area unchanged to rounding). The input array is not modified."""
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = [polygonal_part(g) for g in shapely.make_valid(geoms[bad])]
    return geoms


def check_and_repair(codes, names, geometries: np.ndarray, *, repair: bool = True):
    """Check each geometry; repair invalid ones when ``repair`` is true.

    Returns ``(geometries, issues, refused_positions)``. Every repair is listed with the area
    before and after, so nothing is changed silently. With ``repair=False`` invalid units are
    refused (their positions returned) and the caller raises with the full list.
    """
    geometries = geometries.copy()
    issues: list[GeometryIssue] = []
    refused: list[int] = []
    missing = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    valid = shapely.is_valid(geometries)
    areal = np.array([g is not None and g.geom_type in ("Polygon", "MultiPolygon") for g in geometries])
    for i in np.flatnonzero(missing | ~valid | ~areal):
        code, name = str(codes[i]), str(names[i])
        geometry = geometries[i]
        if missing[i]:
            issues.append(GeometryIssue(code, name, "empty or missing geometry", action="refused"))
            refused.append(int(i))
            continue
        if not areal[i]:
            issues.append(GeometryIssue(code, name, f"{geometry.geom_type} is not an area", action="refused",
                                        detail="a ward/commune boundary must be a Polygon or MultiPolygon"))
            refused.append(int(i))
            continue
        reason = shapely.is_valid_reason(geometry)
        match = _LOCATION.search(reason)
        location = (float(match.group(1)), float(match.group(2))) if match else None
        problem = reason.split("[")[0].strip() or "invalid geometry"
        if not repair:
            issues.append(GeometryIssue(code, name, problem, location, action="refused"))
            refused.append(int(i))
            continue
        fixed = polygonal_part(shapely.make_valid(geometry, method="structure"))
        if fixed.is_empty:
            issues.append(GeometryIssue(code, name, problem, location, action="refused",
                                        detail="repair left no area"))
            refused.append(int(i))
            continue
        before = geodesic_area_km2(shapely.make_valid(geometry, method="linework").convex_hull)
        after = geodesic_area_km2(fixed)
        issues.append(GeometryIssue(code, name, problem, location, action="repaired",
                                    detail=f"make_valid(structure); area {after:.4f} km² (hull {before:.4f} km²)"))
        geometries[i] = fixed
    return geometries, issues, refused
