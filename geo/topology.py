"""Topology report of a units layer, and a repair applied only when asked.

Real layers are seldom a clean coverage: independently simplified polygons overlap their
neighbours and leave gaps. :func:`check_topology` lists, per problem, its kind, area (m²),
location (lon, lat) and the units involved:

- ``overlap``: two neighbours whose interiors intersect (the intersection);
- ``gap``: a hole in the union of the layer, with the units around it;
- ``sliver``: flag on a gap or overlap narrower than ``sliver_width_m`` (mean width 2·A/P), and
  ``sliver_part`` for a tiny separate part of a unit;
- ``self_intersection``: an invalid polygon (repaired on load; reported here again);
- ``duplicate_code`` and ``duplicate_geometry`` (two units covering the same ground);
- ``area_mismatch``: computed geodesic area and official area differ by more than 1 %.

Areas are measured in a Lambert azimuthal equal-area plane centred on the layer (metres;
never degrees or Web Mercator). :func:`repair_coverage` snaps vertices within a tolerance and
makes a valid coverage with GEOS's coverage cleaner (shapely 2.2 ``coverage_clean``): overlaps go to
one neighbour, gaps narrower than the tolerance are filled; it reports what it changed per unit.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .area import geodesic_areas_km2
from .crs import WGS84, from_wgs84, local_equal_area_crs, to_wgs84
from .errors import InputError
from .units import AREA_MISMATCH_PCT, UnitSet
from .validity import GeometryIssue, polygonal_part

MIN_AREA_M2 = 1.0
SLIVER_WIDTH_M = 50.0
SLIVER_PART_M2 = 1000.0
DUPLICATE_SHARE = 0.99

PROBLEM_LABEL_VI = {
    "overlap": "chồng lấn", "gap": "khe hở", "sliver_part": "mảnh vụn", "self_intersection": "tự cắt",
    "duplicate_code": "trùng mã", "duplicate_geometry": "trùng hình", "area_mismatch": "lệch diện tích",
}


@dataclass
class Problem:
    kind: str
    units: list[str]
    names: list[str]
    area_m2: float | None = None
    location: tuple[float, float] | None = None
    sliver: bool = False
    width_m: float | None = None
    detail: str | None = None
    geometry: object = None          # lon/lat, for --out

    def to_dict(self) -> dict:
        return {"kind": self.kind, "units": self.units, "names": self.names,
                "area_m2": None if self.area_m2 is None else round(self.area_m2, 1),
                "location": None if self.location is None else [round(self.location[0], 6), round(self.location[1], 6)],
                "sliver": self.sliver, "width_m": None if self.width_m is None else round(self.width_m, 1),
                "detail": self.detail}


@dataclass
class TopologyReport:
    source: str
    problems: list[Problem]
    n_units: int
    plane: str
    min_area_m2: float
    sliver_width_m: float
    repair: dict | None = None

    @property
    def summary(self) -> dict:
        def of(kind):
            return [p for p in self.problems if p.kind == kind]

        overlaps, gaps = of("overlap"), of("gap")
        return {
            "n_units": self.n_units,
            "n_overlaps": len(overlaps), "overlap_km2": round(sum(p.area_m2 for p in overlaps) / 1e6, 4),
            "n_gaps": len(gaps), "gap_km2": round(sum(p.area_m2 for p in gaps) / 1e6, 4),
            "n_slivers": int(sum(p.sliver for p in overlaps + gaps)) + len(of("sliver_part")),
            "n_sliver_parts": len(of("sliver_part")),
            "n_self_intersections": len(of("self_intersection")),
            "n_duplicate_codes": len(of("duplicate_code")),
            "n_duplicate_geometries": len(of("duplicate_geometry")),
            "n_area_mismatches": len(of("area_mismatch")),
            "min_area_m2": self.min_area_m2, "sliver_width_m": self.sliver_width_m,
            "measured_in": self.plane,
        }

    def to_dict(self) -> dict:
        data = {"source": self.source, "summary": self.summary,
                "problems": [p.to_dict() for p in self.problems]}
        if self.repair is not None:
            data["repair"] = self.repair
        return data

    def problems_gdf(self) -> gpd.GeoDataFrame:
        rows = []
        for p in self.problems:
            d = p.to_dict()
            rows.append({"kind": p.kind, "kind_vi": PROBLEM_LABEL_VI[p.kind], "units": ", ".join(p.units),
                         "names": ", ".join(p.names), "area_m2": d["area_m2"], "sliver": p.sliver,
                         "width_m": d["width_m"], "detail": p.detail,
                         "geometry": p.geometry if p.geometry is not None else (
                             shapely.Point(p.location) if p.location else None)})
        return gpd.GeoDataFrame(rows, columns=["kind", "kind_vi", "units", "names", "area_m2", "sliver", "width_m",
                                               "detail", "geometry"], geometry="geometry", crs=WGS84)


def _plane(unit_set: UnitSet):
    geoms = unit_set.gdf.geometry.values
    plane = local_equal_area_crs(tuple(shapely.total_bounds(geoms)))
    return plane, from_wgs84(np.asarray(geoms, dtype=object), plane)


def _width(geom) -> float:
    perimeter = shapely.length(geom)
    return 2.0 * shapely.area(geom) / perimeter if perimeter else 0.0


def _finish(problems: list["Problem"], plane) -> None:
    """Locations and lon/lat geometries of the problems found in the plane, in one reprojection."""
    pending = [p for p in problems if p.geometry is not None and getattr(p, "_planar", False)]
    if not pending:
        return
    planar = np.array([p.geometry for p in pending], dtype=object)
    points = to_wgs84(shapely.point_on_surface(planar), plane)
    lonlat = to_wgs84(planar, plane)
    for p, point, geometry in zip(pending, points, lonlat):
        p.location = (float(point.x), float(point.y))
        p.geometry = geometry
        p._planar = False


def _planar_problem(*args, **kwargs) -> "Problem":
    problem = Problem(*args, **kwargs)
    problem._planar = True
    return problem


def overlapping_pairs(planar: np.ndarray, min_area_m2: float = MIN_AREA_M2):
    """Pairs (i, j), i < j, of polygons whose intersection is larger than ``min_area_m2``, with it."""
    tree = shapely.STRtree(planar)
    left, right = tree.query(planar, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    pieces = shapely.intersection(planar[left], planar[right])
    pieces = np.array([polygonal_part(g) for g in pieces], dtype=object)
    areas = shapely.area(pieces)
    big = areas > min_area_m2
    return left[big], right[big], pieces[big], areas[big]


def check_topology(unit_set: UnitSet, *, min_area_m2: float = MIN_AREA_M2,
                   sliver_width_m: float = SLIVER_WIDTH_M) -> TopologyReport:
    """The topology report of a units layer (nothing is changed)."""
    gdf = unit_set.gdf
    codes, names = list(gdf.index), gdf["name"].tolist()
    plane, planar = _plane(unit_set)
    problems: list[Problem] = []

    for issue in unit_set.issues:
        text = issue.problem.lower()
        if "self-intersection" in text or "self intersection" in text or "invalid" in text:
            problems.append(Problem("self_intersection", [issue.code], [issue.name], location=issue.location,
                                    detail=f"{issue.problem} — {issue.action}" + (f" ({issue.detail})" if issue.detail else "")))
        elif text == "duplicate unit code":
            problems.append(Problem("duplicate_code", [issue.code], [issue.name], detail=issue.detail))

    left, right, pieces, areas = overlapping_pairs(planar, min_area_m2)
    unit_areas = shapely.area(planar)
    for i, j, piece, area in zip(left, right, pieces, areas):
        pair_codes, pair_names = [codes[i], codes[j]], [names[i], names[j]]
        if area >= DUPLICATE_SHARE * min(unit_areas[i], unit_areas[j]) and (
                area >= DUPLICATE_SHARE * max(unit_areas[i], unit_areas[j])):
            problems.append(_planar_problem("duplicate_geometry", pair_codes, pair_names, area_m2=float(area),
                                            geometry=piece,
                                    detail="hai đơn vị phủ cùng một vùng"))
            continue
        width = _width(piece)
        problems.append(_planar_problem("overlap", pair_codes, pair_names, area_m2=float(area),
                                        sliver=bool(width < sliver_width_m), width_m=width, geometry=piece))

    union = shapely.union_all(planar)
    holes = [shapely.Polygon(ring) for poly in getattr(union, "geoms", [union])
             if poly.geom_type == "Polygon" for ring in poly.interiors]
    if holes:
        holes_arr = np.array(holes, dtype=object)
        tree = shapely.STRtree(planar)
        hole_idx, unit_idx = tree.query(shapely.buffer(holes_arr, 1.0), predicate="intersects")
        around: dict[int, list[int]] = {}
        for h, u in zip(hole_idx, unit_idx):
            around.setdefault(int(h), []).append(int(u))
        for h, hole in enumerate(holes):
            area = shapely.area(hole)
            if area <= min_area_m2:
                continue
            neighbours = sorted(set(around.get(h, [])))
            width = _width(hole)
            problems.append(_planar_problem("gap", [codes[u] for u in neighbours], [names[u] for u in neighbours],
                                            area_m2=float(area), sliver=bool(width < sliver_width_m), width_m=width,
                                            geometry=hole))

    for i, geom in enumerate(planar):
        parts = shapely.get_parts(geom)
        if len(parts) < 2:
            continue
        part_areas = shapely.area(parts)
        for part, area in zip(parts, part_areas):
            if area < SLIVER_PART_M2 and area < part_areas.max():
                problems.append(_planar_problem("sliver_part", [codes[i]], [names[i]], area_m2=float(area),
                                                sliver=True, width_m=_width(part), geometry=part))

    _finish(problems, plane)
    diff = unit_set.area_difference_pct()
    for code in diff.index[diff.abs() > AREA_MISMATCH_PCT]:
        row = gdf.loc[code]
        problems.append(Problem("area_mismatch", [code], [row["name"]],
                                detail=f"tính {row['area_km2']:.3f} km² / chính thức {row['official_area_km2']:.3f} km² "
                                       f"({diff[code]:+.1f} %)", geometry=row.geometry))
    return TopologyReport(source=unit_set.source, problems=problems, n_units=len(gdf),
                          plane=f"Lambert azimuthal equal-area, metres ({plane.srs})", min_area_m2=min_area_m2,
                          sliver_width_m=sliver_width_m)


def repair_coverage(unit_set: UnitSet, *, tolerance_m: float, snap_m: float | None = None) -> tuple[UnitSet, dict]:
    """Make a valid coverage; returns the repaired units and what changed.

    Vertices closer than ``snap_m`` are snapped together (default: GEOS's automatic, very small
    distance — a large snap moves good corners too); overlaps are given to the neighbour sharing the
    longest border; gaps narrower than ``tolerance_m`` are filled; wider gaps stay (they are reported
    by :func:`check_topology`).
    Geodesic areas are recomputed; each unit whose area changed is listed.
    """
    if not (tolerance_m > 0 and np.isfinite(tolerance_m)) or tolerance_m > 1000:
        raise InputError(f"repair tolerance {tolerance_m!r} m is not usable",
                         hint="give --tolerance in metres, more than 0 and at most 1000 (e.g. 5)")
    plane, planar = _plane(unit_set)
    if snap_m is not None and not (0 <= snap_m <= tolerance_m):
        raise InputError(f"snapping distance {snap_m!r} m is not usable", hint="give --snap between 0 and --tolerance")
    cleaned = shapely.coverage_clean(planar, gap_width=tolerance_m, snapping_distance=-1 if snap_m is None else snap_m)
    cleaned = np.array([polygonal_part(g) for g in cleaned], dtype=object)
    cleaned = shapely.make_valid(cleaned)
    cleaned = np.array([polygonal_part(g) for g in cleaned], dtype=object)
    geometries = to_wgs84(cleaned, plane)
    gdf = unit_set.gdf.copy()
    before = gdf["area_km2"].to_numpy()
    after = geodesic_areas_km2(geometries)
    gdf = gdf.set_geometry(gpd.GeoSeries(geometries, index=gdf.index, crs=WGS84))
    gdf["area_km2"] = after
    changed = []
    issues = list(unit_set.issues)
    for code, a, b, empty in zip(gdf.index, before, after, shapely.is_empty(geometries)):
        if abs(b - a) > 1e-6 or empty:
            changed.append({"code": code, "name": gdf.at[code, "name"], "area_km2_before": round(float(a), 6),
                            "area_km2_after": round(float(b), 6), "change_m2": round(float(b - a) * 1e6, 1),
                            "empty": bool(empty)})
            issues.append(GeometryIssue(code, gdf.at[code, "name"], "coverage repair", action="repaired",
                                        detail=f"{a:.4f} → {b:.4f} km²"))
    repaired = UnitSet(gdf, source=unit_set.source, issues=issues, field_mapping=dict(unit_set.field_mapping),
                       source_crs=unit_set.source_crs, level=unit_set.level, level_reason=unit_set.level_reason,
                       level_reason_message=unit_set.level_reason_message)
    report = {"tolerance_m": tolerance_m, "snap_m": snap_m,
              "method": "GEOS CoverageCleaner (shapely.coverage_clean): vertices snapped, overlaps to the "
                        "neighbour with the longest shared border, gaps narrower than the tolerance filled",
              "n_changed": len(changed), "changed": changed,
              "coverage_valid": bool(shapely.coverage_is_valid(cleaned)),
              "area_km2_before": round(float(before.sum()), 4), "area_km2_after": round(float(after.sum()), 4)}
    return repaired, report


def write_problems_gpkg(report: TopologyReport, path) -> None:
    """The problems as one GeoPackage layer ``problems`` (EPSG:4326) to open in QGIS."""
    frame = report.problems_gdf()
    if frame.empty:
        frame = gpd.GeoDataFrame({"kind": pd.Series(dtype=str)}, geometry=gpd.GeoSeries([], crs=WGS84))
    frame.to_file(path, layer="problems", driver="GPKG", engine="pyogrio", promote_to_multi=True)
