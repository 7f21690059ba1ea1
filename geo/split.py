"""Split one unit by a drawn line: the pieces a planner can turn into a drawn new unit ("một phần").

The line must cross the unit from edge to edge. Each piece comes with its geodesic area (km²,
WGS 84 ellipsoid); a drawn new unit made of a piece takes that part out of the unit it cuts
(:mod:`geo.arrangement`).
"""
from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.ops import split

from .area import geodesic_area_km2
from .errors import InputError
from .validity import polygonal_part

MAX_LINE_VERTICES = 2_000


@dataclass(frozen=True)
class Piece:
    geometry: object   # shapely Polygon/MultiPolygon, EPSG:4326
    area_km2: float    # geodesic (computed)


def split_unit(units, code: str, line: dict) -> list[Piece]:
    """Pieces of unit ``code`` cut by a GeoJSON LineString, largest first."""
    units.require_codes([code])
    if not isinstance(line, dict) or line.get("type") != "LineString" or not isinstance(line.get("coordinates"), list):
        raise InputError("the split line must be a GeoJSON LineString", hint='send {"type": "LineString", "coordinates": [[lon, lat], ...]}')
    coordinates = line["coordinates"]
    if not 2 <= len(coordinates) <= MAX_LINE_VERTICES:
        raise InputError(f"the split line needs 2 to {MAX_LINE_VERTICES} points, got {len(coordinates)}",
                         hint="draw the line across the unit, from outside one edge to outside another")
    try:
        cut = shapely.LineString(coordinates)
    except (TypeError, ValueError, shapely.errors.GEOSException):
        raise InputError("the split line has invalid coordinates", hint="use [longitude, latitude] pairs") from None
    if not cut.is_valid or cut.is_empty:
        raise InputError("the split line is not a valid line", hint="draw it again without repeating a point")
    unit = polygonal_part(units.gdf.geometry.loc[code])
    pieces = [polygonal_part(piece) for piece in split(unit, cut).geoms]
    pieces = [piece for piece in pieces if not piece.is_empty]
    if len(pieces) < 2:
        raise InputError(f"the line does not cut unit {code} in two",
                         hint="draw the line across the whole unit, starting and ending outside it",
                         context={"unit_code": code})
    result = [Piece(piece, round(geodesic_area_km2(piece), 4)) for piece in pieces]
    return sorted(result, key=lambda piece: -piece.area_km2)
