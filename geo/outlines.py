"""District and province outlines dissolved from a unit layer, and one label point per unit.

For orientation on a map: the outlines are the units of each district (and province) merged
with :func:`geo.evaluation.dissolve_members` (the same sliver closing as a new unit, so the
gaps between independently simplified polygons do not show as lines inside a district), and a
label point is the point of a unit's largest part farthest from its edge (``polylabel``).
Display only: no figure is computed here.
"""
from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.ops import polylabel

from .evaluation import dissolve_members
from .kinds import UnitKind
from .scenario import NewUnit
from .units import UnitSet
from .validity import polygonal_part

# polylabel precision in degrees (~50 m): a label position, never a measurement.
_LABEL_TOLERANCE_DEG = 0.0005


@dataclass(frozen=True)
class Outline:
    """One dissolved district or province: its level, name, province and member count."""

    level: str                 # "district" | "province"
    name: str
    province: str | None
    unit_count: int
    geometry: object           # shapely (Multi)Polygon, EPSG:4326
    label_point: tuple[float, float] | None


def label_point(geometry) -> tuple[float, float] | None:
    """(lon, lat) inside the largest polygon of ``geometry``, far from its edges; None when empty."""
    polygon = polygonal_part(geometry) if geometry is not None else None
    if polygon is None or polygon.is_empty:
        return None
    parts = list(getattr(polygon, "geoms", [polygon]))
    largest = max(parts, key=lambda part: part.area)  # degrees² only to rank parts of one unit
    try:
        point = polylabel(largest, tolerance=_LABEL_TOLERANCE_DEG)
    except Exception:  # noqa: BLE001 - a degenerate ring: fall back to any interior point
        point = shapely.point_on_surface(largest)
    return (round(point.x, 6), round(point.y, 6))


# Parts of a dissolved outline smaller than this share of its largest part are gaps' slivers.
_MIN_PART_SHARE = 0.005


def _dissolve(units: UnitSet, codes: list[str]):
    """The members merged, without holes and sliver parts: the gaps and overlaps of independently
    simplified unit polygons would otherwise draw as stray lines inside a district or province."""
    new_unit = NewUnit(id="outline", name="outline", kind=UnitKind("commune"), members=tuple(codes))
    geometry, _sliver = dissolve_members(units, new_unit)
    parts = [shapely.Polygon(part.exterior) for part in getattr(geometry, "geoms", [geometry]) if not part.is_empty]
    if not parts:
        return geometry
    largest = max(part.area for part in parts)   # degrees² only to compare parts of one outline
    kept = [part for part in parts if part.area >= _MIN_PART_SHARE * largest]
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


def admin_outlines(units: UnitSet) -> list[Outline]:
    """Districts (grouped by province and district name) and provinces of the layer, dissolved.

    Units without a district (or province) value take part in no district (or province) outline.
    """
    gdf = units.gdf
    outlines: list[Outline] = []
    provinces: dict[str, list[str]] = {}
    districts: dict[tuple[str | None, str], list[str]] = {}
    for code, district, province in zip(gdf.index, gdf["district"], gdf["province"]):
        province = province if isinstance(province, str) and province.strip() else None
        if province:
            provinces.setdefault(province, []).append(code)
        if isinstance(district, str) and district.strip():
            districts.setdefault((province, district), []).append(code)
    for (province, district), codes in sorted(districts.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        geometry = _dissolve(units, codes)
        outlines.append(Outline("district", district, province, len(codes), geometry, label_point(geometry)))
    for province, codes in sorted(provinces.items()):
        geometry = _dissolve(units, codes)
        outlines.append(Outline("province", province, province, len(codes), geometry, label_point(geometry)))
    return outlines


def unit_label_points(units: UnitSet) -> dict[str, tuple[float, float] | None]:
    """{unit code: (lon, lat)} where the unit's name label goes."""
    return {code: label_point(geometry) for code, geometry in zip(units.gdf.index, units.gdf.geometry)}
