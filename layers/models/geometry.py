"""Checks on one geometry: GeoJSON coordinates, lon/lat range, validity (with the place of the fault)."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from diagioi.geo.errors import InputError, InvalidGeometryError, UnknownCRSError

_REASON_LOCATION = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)")


def invalid_reason_location(reason: str) -> tuple[float, float] | None:
    """Pull the ``[lon lat]`` position out of a ``shapely.is_valid_reason`` text."""
    match = _REASON_LOCATION.search(reason)
    if not match:
        return None
    return float(match.group(1)), float(match.group(2))


def geometry_from_geojson(obj: Any, *, what: str = "geometry") -> BaseGeometry:
    """Build a shapely geometry from a GeoJSON geometry object, refusing malformed input.

    Checks: a JSON object with a known ``type`` and ``coordinates``, finite numbers, lon
    in [-180, 180] and lat in [-90, 90], not empty. Validity (self-intersection) is checked
    separately by :func:`require_valid`.
    """
    if not isinstance(obj, Mapping):
        raise InputError(f"{what} must be a GeoJSON object, got {type(obj).__name__}",
                         hint='send {"type": "Polygon", "coordinates": [[[lon, lat], ...]]}')
    geom_type = obj.get("type")
    if geom_type not in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                         "GeometryCollection"):
        raise InputError(f"{what} has no valid GeoJSON geometry type (got {geom_type!r})",
                         hint="use Point, LineString, Polygon or their Multi* forms")
    if geom_type != "GeometryCollection" and "coordinates" not in obj:
        raise InputError(f"{what} of type {geom_type} has no 'coordinates'",
                         hint="GeoJSON geometries carry their positions in 'coordinates'")
    refuse_crs_member(obj, what=what)
    check_geojson_coordinates(obj, what=what)
    try:
        geometry = shape(obj)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise InputError(f"{what} is malformed GeoJSON {geom_type}: {exc}",
                         hint="a Polygon is a list of rings, each a closed list of [lon, lat] positions "
                              "(first position repeated at the end, at least 4 positions)") from exc
    if geometry.is_empty:
        raise InputError(f"{what} is empty", hint="draw or send at least one ring / position")
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise InputError(f"{what} has non-numeric or infinite coordinates",
                         hint="every position must be two finite numbers [lon, lat]")
    require_lonlat_range(geometry, what=what)
    return geometry


#: Nesting of each geometry type's ``coordinates`` down to the positions (0 = one position).
_POSITION_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
                   "MultiPolygon": 3}
#: Heights beyond this (metres) are not on Earth: refused rather than stored.
MAX_ABS_Z_M = 100_000.0
#: ``crs`` members that only restate GeoJSON's own lon/lat (RFC 7946); any other is refused.
_LONLAT_CRS_NAMES = {"urn:ogc:def:crs:ogc:1.3:crs84", "ogc:crs84", "crs84", "epsg:4326", "urn:ogc:def:crs:epsg::4326"}


def refuse_crs_member(obj: Mapping[str, Any], *, what: str = "geometry") -> None:
    """Refuse a ``crs`` member that names anything but WGS 84 lon/lat: it would otherwise be ignored
    and metres or another datum read as degrees."""
    if not isinstance(obj, Mapping) or "crs" not in obj:
        return
    crs = obj["crs"]
    name = crs.get("properties", {}).get("name") if isinstance(crs, Mapping) and isinstance(
        crs.get("properties"), Mapping) else None
    if isinstance(name, str) and name.strip().lower() in _LONLAT_CRS_NAMES:
        return
    raise UnknownCRSError(f"{what} declares a 'crs' ({name or crs!r}) other than WGS 84 lon/lat",
                          hint="GeoJSON is lon/lat on WGS 84 (RFC 7946): reproject to EPSG:4326 and drop the "
                               "'crs' member, or upload the file (GeoPackage keeps its CRS)",
                          context={"crs": name if isinstance(name, str) else None})


def _position_problem(position: Any) -> str | None:
    if not isinstance(position, (list, tuple)) or not 2 <= len(position) <= 3:
        return "a position must be [lon, lat] or [lon, lat, height]"
    for value in position:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"coordinates must be numbers, got {type(value).__name__} {value!r:.40}"
        if not math.isfinite(value):
            return f"coordinates must be finite numbers, got {value!r}"
    if len(position) == 3 and abs(position[2]) > MAX_ABS_Z_M:
        return f"height {position[2]:.6g} m is not on Earth (at most ±{MAX_ABS_Z_M:,.0f} m)"
    return None


def check_geojson_coordinates(obj: Mapping[str, Any], *, what: str = "geometry") -> None:
    """Check a GeoJSON geometry's ``coordinates`` strictly, before shapely coerces anything.

    Refused: positions that are not 2 or 3 numbers (strings such as ``"105.8"``, booleans,
    NaN/inf), heights beyond ±100 km, nesting that does not match the type, and polygon rings
    that are not closed (shapely would close them silently). Too few positions is left to
    :func:`require_valid`, which says where.
    """
    geom_type = obj.get("type")
    if geom_type == "GeometryCollection":
        geometries = obj.get("geometries")
        if not isinstance(geometries, list):
            raise InputError(f"{what}: a GeometryCollection needs a list 'geometries'",
                             hint="or send a single geometry")
        for member in geometries:
            if not isinstance(member, Mapping) or member.get("type") not in _POSITION_DEPTH:
                raise InputError(f"{what}: a GeometryCollection may hold only simple geometries",
                                 hint="send Points, LineStrings or Polygons (or their Multi* forms)")
            check_geojson_coordinates(member, what=what)
        return
    depth = _POSITION_DEPTH[geom_type]
    stack: list[tuple[Any, int, tuple[int, ...]]] = [(obj.get("coordinates"), depth, ())]
    while stack:
        value, level, path = stack.pop()
        where = "".join(f"[{i}]" for i in path)
        if level == 0:
            if value == [] and not path:
                continue  # an empty Point: refused as empty below, with that message
            problem = _position_problem(value)
            if problem:
                raise InputError(f"{what}: coordinates{where}: {problem}",
                                 hint="every position is [lon, lat] as plain JSON numbers (WGS 84 degrees)",
                                 context={"position": where})
            continue
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{what}: coordinates{where} must be a list for a {geom_type}",
                             hint="a Polygon is a list of rings, each a list of [lon, lat] positions")
        is_ring = geom_type in ("Polygon", "MultiPolygon") and level == 1
        if is_ring and len(value) >= 4:  # shorter rings are malformed whether closed or not
            first, last = value[0], value[-1]
            if _position_problem(first) is None and _position_problem(last) is None and \
                    list(first[:2]) != list(last[:2]):
                raise InputError(f"{what}: ring coordinates{where} is not closed: it starts at "
                                 f"{list(first[:2])} and ends at {list(last[:2])}",
                                 hint="repeat the ring's first position at its end (GeoJSON rings are closed "
                                      "explicitly; nothing is closed for you)",
                                 context={"ring": where, "first": list(first[:2]), "last": list(last[:2])})
        stack.extend((item, level - 1, (*path, i)) for i, item in enumerate(value))


def require_lonlat_range(geometry: BaseGeometry, *, what: str = "geometry") -> None:
    """Refuse coordinates outside lon [-180, 180] / lat [-90, 90] (projected metres, swapped axes)."""
    min_x, min_y, max_x, max_y = geometry.bounds
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise UnknownCRSError(
            f"{what} has coordinates outside the lon/lat range "
            f"(x {min_x:.6g}…{max_x:.6g}, y {min_y:.6g}…{max_y:.6g})",
            hint="send WGS 84 lon/lat (EPSG:4326) in [lon, lat] order; projected metres "
                 "(e.g. VN-2000) must be reprojected first",
            context={"bounds": [min_x, min_y, max_x, max_y]},
        )


def _validity_hint(reason: str) -> str:
    lowered = reason.lower()
    if "too few points" in lowered:
        return "a ring needs at least 4 positions: 3 corners and the first one repeated at the end"
    if "hole" in lowered or "nested shells" in lowered:
        return "holes must lie inside their outer ring, and outer rings must not lie inside each other"
    return ("redraw the outline so its edges do not cross or touch each other "
            "(a ring must not loop over itself)")


def require_valid(geometry: BaseGeometry, *, what: str = "geometry", context: dict | None = None) -> None:
    """Refuse an invalid geometry, naming the problem and where it is."""
    if shapely.is_valid(geometry):
        return
    reason = shapely.is_valid_reason(geometry)
    location = invalid_reason_location(reason)
    where = f" at lon {location[0]:.6f}, lat {location[1]:.6f}" if location else ""
    issue = {"problem": reason, "location": list(location) if location else None, **(context or {})}
    raise InvalidGeometryError(
        f"{what} is invalid: {reason.split('[')[0].strip()}{where}",
        issues=[issue],
        hint=_validity_hint(reason),
        context={"reason": reason, "location": list(location) if location else None, **(context or {})},
    )
