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
from diagioi.geo.i18n import Message

#: What is checked, when the caller does not say (``what`` is a catalogue message or a localised text).
GEOMETRY = Message("layers.what.geometry")
# Errors keep the code they had as plain English texts: scripts match on it.
_INPUT, _UNKNOWN_CRS, _INVALID = "input", "unknown_crs", "invalid_geometry"

_REASON_LOCATION = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)")


def invalid_reason_location(reason: str) -> tuple[float, float] | None:
    """Pull the ``[lon lat]`` position out of a ``shapely.is_valid_reason`` text."""
    match = _REASON_LOCATION.search(reason)
    if not match:
        return None
    return float(match.group(1)), float(match.group(2))


def geometry_from_geojson(obj: Any, *, what: Any = GEOMETRY) -> BaseGeometry:
    """Build a shapely geometry from a GeoJSON geometry object, refusing malformed input.

    Checks: a JSON object with a known ``type`` and ``coordinates``, finite numbers, lon
    in [-180, 180] and lat in [-90, 90], not empty. Validity (self-intersection) is checked
    separately by :func:`require_valid`.
    """
    if not isinstance(obj, Mapping):
        raise InputError(Message("error.geojson_not_object", {"what": what, "type": type(obj).__name__}),
                         hint=Message("hint.layer_body_example", {"example": _POLYGON_EXAMPLE}), code=_INPUT)
    geom_type = obj.get("type")
    if geom_type not in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                         "GeometryCollection"):
        raise InputError(Message("error.geojson_type", {"what": what, "type": repr(geom_type)}),
                         hint=Message("hint.geojson_type"), code=_INPUT)
    if geom_type != "GeometryCollection" and "coordinates" not in obj:
        raise InputError(Message("error.geojson_no_coordinates", {"what": what, "type": geom_type}),
                         hint=Message("hint.geojson_coordinates"), code=_INPUT)
    refuse_crs_member(obj, what=what)
    check_geojson_coordinates(obj, what=what)
    try:
        geometry = shape(obj)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise InputError(Message("error.geojson_malformed", {"what": what, "type": geom_type, "reason": str(exc)}),
                         hint=Message("hint.geojson_polygon"), code=_INPUT) from exc
    if geometry.is_empty:
        raise InputError(Message("error.geometry_empty", {"what": what}), hint=Message("hint.geometry_empty"),
                         code=_INPUT)
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise InputError(Message("error.geometry_not_finite", {"what": what}), hint=Message("hint.position_numbers"),
                         code=_INPUT)
    require_lonlat_range(geometry, what=what)
    return geometry


#: Nesting of each geometry type's ``coordinates`` down to the positions (0 = one position).
_POLYGON_EXAMPLE = '{"type": "Polygon", "coordinates": [[[lon, lat], ...]]}'
_POSITION_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
                   "MultiPolygon": 3}
#: Heights beyond this (metres) are not on Earth: refused rather than stored.
MAX_ABS_Z_M = 100_000.0
#: ``crs`` members that only restate GeoJSON's own lon/lat (RFC 7946); any other is refused.
_LONLAT_CRS_NAMES = {"urn:ogc:def:crs:ogc:1.3:crs84", "ogc:crs84", "crs84", "epsg:4326", "urn:ogc:def:crs:epsg::4326"}


def refuse_crs_member(obj: Mapping[str, Any], *, what: Any = GEOMETRY) -> None:
    """Refuse a ``crs`` member that names anything but WGS 84 lon/lat: it would otherwise be ignored
    and metres or another datum read as degrees."""
    if not isinstance(obj, Mapping) or "crs" not in obj:
        return
    crs = obj["crs"]
    name = crs.get("properties", {}).get("name") if isinstance(crs, Mapping) and isinstance(
        crs.get("properties"), Mapping) else None
    if isinstance(name, str) and name.strip().lower() in _LONLAT_CRS_NAMES:
        return
    raise UnknownCRSError(Message("error.crs_member", {"what": what, "crs": name or repr(crs)}),
                          hint=Message("hint.crs_member"), context={"crs": name if isinstance(name, str) else None},
                          code=_UNKNOWN_CRS)


def _position_problem(position: Any) -> Message | None:
    if not isinstance(position, (list, tuple)) or not 2 <= len(position) <= 3:
        return Message("position.shape")
    for value in position:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return Message("position.not_number", {"type": type(value).__name__, "value": f"{value!r:.40}"})
        if not math.isfinite(value):
            return Message("position.not_finite", {"value": repr(value)})
    if len(position) == 3 and abs(position[2]) > MAX_ABS_Z_M:
        return Message("position.height", {"height": f"{position[2]:.6g}", "max": MAX_ABS_Z_M})
    return None


def check_geojson_coordinates(obj: Mapping[str, Any], *, what: Any = GEOMETRY) -> None:
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
            raise InputError(Message("error.collection_geometries", {"what": what}),
                             hint=Message("hint.collection_geometries"), code=_INPUT)
        for member in geometries:
            if not isinstance(member, Mapping) or member.get("type") not in _POSITION_DEPTH:
                raise InputError(Message("error.collection_simple", {"what": what}),
                                 hint=Message("hint.collection_simple"), code=_INPUT)
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
                raise InputError(Message("error.coordinates_at", {"what": what, "where": where, "problem": problem}),
                                 hint=Message("hint.position_json"), context={"position": where}, code=_INPUT)
            continue
        if not isinstance(value, (list, tuple)):
            raise InputError(Message("error.coordinates_not_list", {"what": what, "where": where, "type": geom_type}),
                             hint=Message("hint.polygon_rings"), code=_INPUT)
        is_ring = geom_type in ("Polygon", "MultiPolygon") and level == 1
        if is_ring and len(value) >= 4:  # shorter rings are malformed whether closed or not
            first, last = value[0], value[-1]
            if _position_problem(first) is None and _position_problem(last) is None and \
                    list(first[:2]) != list(last[:2]):
                raise InputError(Message("error.ring_not_closed", {"what": what, "where": where,
                                                                   "first": str(list(first[:2])),
                                                                   "last": str(list(last[:2]))}),
                                 hint=Message("hint.ring_closed"),
                                 context={"ring": where, "first": list(first[:2]), "last": list(last[:2])},
                                 code=_INPUT)
        stack.extend((item, level - 1, (*path, i)) for i, item in enumerate(value))


def require_lonlat_range(geometry: BaseGeometry, *, what: Any = GEOMETRY) -> None:
    """Refuse coordinates outside lon [-180, 180] / lat [-90, 90] (projected metres, swapped axes)."""
    min_x, min_y, max_x, max_y = geometry.bounds
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise UnknownCRSError(
            Message("error.lonlat_range", {"what": what, "x": f"{min_x:.6g}…{max_x:.6g}",
                                           "y": f"{min_y:.6g}…{max_y:.6g}"}),
            hint=Message("hint.lonlat_range"), context={"bounds": [min_x, min_y, max_x, max_y]}, code=_UNKNOWN_CRS,
        )


def _validity_hint(reason: str) -> Message:
    lowered = reason.lower()
    if "too few points" in lowered:
        return Message("hint.ring_too_few")
    if "hole" in lowered or "nested shells" in lowered:
        return Message("hint.holes")
    return Message("hint.redraw_outline")


#: GEOS's reasons (``shapely.is_valid_reason``) in the catalogue; an unlisted one is quoted as GEOS words it.
_REASONS = {"self-intersection": "self_intersection", "ring self-intersection": "ring_self_intersection",
            "too few points in geometry component": "too_few_points", "hole lies outside shell": "hole_outside",
            "nested shells": "nested_shells", "interior is disconnected": "interior_disconnected",
            "invalid coordinate": "invalid_coordinate", "nested holes": "nested_holes"}


def _reason_text(reason: str) -> Any:
    key = _REASONS.get(reason.lower())
    return Message(f"geometry.reason.{key}") if key else reason


def _where_text(location: tuple[float, float] | None) -> Any:
    """" at lon 105.830000, lat 22.150000" in English; the Vietnamese way in Vietnamese."""
    if location is None:
        return ""
    return {"en": f" at lon {location[0]:.6f}, lat {location[1]:.6f}",
            "vi": Message("geometry.at", {"lon": location[0], "lat": location[1]}).text("vi")}


def require_valid(geometry: BaseGeometry, *, what: Any = GEOMETRY, context: dict | None = None) -> None:
    """Refuse an invalid geometry, naming the problem and where it is."""
    if shapely.is_valid(geometry):
        return
    reason = shapely.is_valid_reason(geometry)
    location = invalid_reason_location(reason)
    issue = {"problem": reason, "location": list(location) if location else None, **(context or {})}
    raise InvalidGeometryError(
        Message("error.geometry_invalid", {"what": what, "reason": _reason_text(reason.split("[")[0].strip()),
                                           "where": _where_text(location)}),
        issues=[issue],
        hint=_validity_hint(reason),
        context={"reason": reason, "location": list(location) if location else None, **(context or {})},
        code=_INVALID,
    )
