"""The one tile grid of diagioi: Web Mercator quad (XYZ, 256 px tiles).

Web Mercator (EPSG:3857) is used for display only. Never measure an area or a length
in it: areas come from :mod:`geo.area`.
"""
from __future__ import annotations

import morecantile

from diagioi.geo.errors import TileOutsideBoundsError

#: The tile matrix set used by every tile source (``{z}/{x}/{y}`` in XYZ order, y down).
WEB_MERCATOR_TMS = morecantile.tms.get("WebMercatorQuad")

#: Deepest zoom a client may ask for (the matrix set itself goes to 24).
MAX_ZOOM = 24

#: Latitude limit of Web Mercator, degrees.
MAX_LATITUDE = 85.0511287798066

BBox = tuple[float, float, float, float]


def check_tile(z: int, x: int, y: int, *, minzoom: int = 0, maxzoom: int = MAX_ZOOM) -> None:
    """Raise :class:`TileOutsideBoundsError` unless ``z/x/y`` is a tile of the grid between the zooms given."""
    context = {"z": z, "x": x, "y": y, "minzoom": minzoom, "maxzoom": maxzoom}
    if not (minzoom <= z <= maxzoom):
        raise TileOutsideBoundsError(
            f"Zoom {z} is outside this layer's zoom range {minzoom}–{maxzoom}.",
            hint="Ask for a zoom between the TileJSON 'minzoom' and 'maxzoom'.",
            context=context,
        )
    n_tiles = 1 << z
    if not (0 <= x < n_tiles and 0 <= y < n_tiles):
        raise TileOutsideBoundsError(
            f"Tile {z}/{x}/{y} does not exist: at zoom {z}, x and y run from 0 to {n_tiles - 1}.",
            hint="Use XYZ tile indices (y counted from the north).",
            context=context,
        )


def tile_bounds(z: int, x: int, y: int) -> BBox:
    """Bounds of tile ``z/x/y`` in Web Mercator metres ``(minx, miny, maxx, maxy)``.

    Raises :class:`TileOutsideBoundsError` for an index outside the grid.
    """
    check_tile(z, x, y)
    bbox = WEB_MERCATOR_TMS.xy_bounds(morecantile.Tile(x, y, z))
    return (bbox.left, bbox.bottom, bbox.right, bbox.top)


def tile_bounds_lnglat(z: int, x: int, y: int) -> BBox:
    """Bounds of tile ``z/x/y`` in degrees (west, south, east, north)."""
    check_tile(z, x, y)
    bbox = WEB_MERCATOR_TMS.bounds(morecantile.Tile(x, y, z))
    return (bbox.left, bbox.bottom, bbox.right, bbox.top)


def tile_size_m(z: int) -> float:
    """Width of one tile at zoom ``z`` in Web Mercator metres (display units, not ground distance)."""
    left, _, right, _ = tile_bounds(z, 0, 0)
    return right - left


def tile_for_lnglat(lng: float, lat: float, z: int) -> tuple[int, int, int]:
    """The ``(z, x, y)`` of the tile that holds a lon/lat point."""
    tile = WEB_MERCATOR_TMS.tile(lng, lat, z)
    return (tile.z, tile.x, tile.y)


def clamp_lnglat_bounds(bounds: BBox) -> BBox:
    """Clip lon/lat bounds to the extent Web Mercator can show."""
    west, south, east, north = bounds
    return (
        max(west, -180.0),
        max(south, -MAX_LATITUDE),
        min(east, 180.0),
        min(north, MAX_LATITUDE),
    )
