"""PNG tiles rendered server-side with rasterio, for clients without vector tiles (Leaflet, QGIS XYZ).

A tile is 256 × 256 RGBA with a transparent background. Polygons are filled with one colour
per feature and outlined; lines are stroked; points are drawn as discs. Geometries are burnt with
:func:`rasterio.features.rasterize` in Web Mercator metres (display only, never for measuring).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.io import MemoryFile
from affine import Affine

from diagioi.layers.styles import RGBA
from diagioi.layers.tms import tile_bounds

#: Width and height of a PNG tile in pixels.
TILE_SIZE_PX = 256
MEDIA_TYPE_PNG = "image/png"
# Geometry drawn around each PNG tile, in pixels, so strokes and discs are not cut at tile edges.
_MARGIN_PX = 16

_POLYGON, _MULTIPOLYGON = int(shapely.GeometryType.POLYGON), int(shapely.GeometryType.MULTIPOLYGON)
_LINESTRING, _MULTILINESTRING = int(shapely.GeometryType.LINESTRING), int(shapely.GeometryType.MULTILINESTRING)


def _composite(canvas: np.ndarray, paint: np.ndarray) -> None:
    """Draw ``paint`` (H×W×4, straight alpha) over ``canvas`` in place ("source over")."""
    src_alpha = paint[..., 3]
    dst_alpha = canvas[..., 3]
    # Where the paint is opaque or the canvas still empty, "over" is a plain copy.
    copy = (src_alpha == 255) | ((dst_alpha == 0) & (src_alpha > 0))
    np.copyto(canvas, paint, where=copy[..., None])
    blend = (src_alpha > 0) & ~copy
    if not blend.any():
        return
    src = paint[blend].astype(np.float32)
    dst = canvas[blend].astype(np.float32)
    src_a = src[:, 3:4] / 255.0
    dst_a = dst[:, 3:4] / 255.0
    out_a = src_a + dst_a * (1.0 - src_a)
    out_rgb = (src[:, :3] * src_a + dst[:, :3] * dst_a * (1.0 - src_a)) / np.where(out_a > 0, out_a, 1.0)
    canvas[blend] = np.rint(np.hstack([out_rgb, out_a * 255.0])).astype(np.uint8)


def _rasterize_index(geometries: Sequence, transform) -> np.ndarray:
    """Raster of 1-based feature numbers (0 = no feature; later features drawn on top)."""
    shapes = [(geometry, row + 1) for row, geometry in enumerate(geometries) if geometry is not None]
    if not shapes:
        return np.zeros((TILE_SIZE_PX, TILE_SIZE_PX), dtype=np.uint32)
    return rasterize(shapes, out_shape=(TILE_SIZE_PX, TILE_SIZE_PX), transform=transform, fill=0, dtype="uint32")


def _outline_paint(index: np.ndarray, colour: RGBA, width_px: float) -> np.ndarray:
    """Outlines where the feature number changes between neighbouring pixels (found on the index
    raster, so no second rasterisation); pixels on the feature side of each change are painted."""
    edge = np.zeros(index.shape, dtype=bool)
    vertical = index[1:, :] != index[:-1, :]
    horizontal = index[:, 1:] != index[:, :-1]
    edge[1:, :] |= vertical
    edge[:-1, :] |= vertical
    edge[:, 1:] |= horizontal
    edge[:, :-1] |= horizontal
    edge &= index > 0
    for _ in range(max(0, int(round(width_px)) - 2) // 2):  # thicker outlines: grow by one pixel a pass
        grown = edge.copy()
        grown[1:, :] |= edge[:-1, :]
        grown[:-1, :] |= edge[1:, :]
        grown[:, 1:] |= edge[:, :-1]
        grown[:, :-1] |= edge[:, 1:]
        edge = grown & (index > 0)
    paint = np.zeros((*index.shape, 4), dtype=np.uint8)
    paint[edge] = colour
    return paint


def _paint_indexed(geometries: Sequence, colours: np.ndarray, transform) -> tuple[np.ndarray, np.ndarray]:
    """RGBA paint with one colour per geometry, and the index raster it came from."""
    index = _rasterize_index(geometries, transform)
    palette = np.vstack([np.zeros((1, 4), dtype=np.uint8), np.asarray(colours, dtype=np.uint8).reshape(-1, 4)])
    return palette[index], index


def render_png_array(geometries_3857: np.ndarray, fill_rgba: np.ndarray, z: int, x: int, y: int, *,
                     line_rgba: RGBA, line_width_px: float = 1.0, point_radius_px: float = 5.0) -> np.ndarray:
    """Draw features on tile ``z/x/y`` and return the 256 × 256 × 4 ``uint8`` RGBA array.

    Args:
        geometries_3857: the features reaching the tile, in Web Mercator metres.
        fill_rgba: ``(n, 4)`` RGBA fill colour per feature (stroke colour of lines, disc colour of points).
        line_rgba: outline colour of polygons and of point discs.
        line_width_px: width of polygon outlines and of lines, in pixels.
        point_radius_px: radius of point discs, in pixels.
    """
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    pixel_m = (maxx - minx) / TILE_SIZE_PX
    transform = Affine(pixel_m, 0.0, minx, 0.0, -pixel_m, maxy)
    margin_m = _MARGIN_PX * pixel_m
    canvas = np.zeros((TILE_SIZE_PX, TILE_SIZE_PX, 4), dtype=np.uint8)
    if len(geometries_3857) == 0:
        return canvas
    geometries = shapely.clip_by_rect(np.asarray(geometries_3857, dtype=object),
                                      minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m)
    fill_rgba = np.asarray(fill_rgba, dtype=np.uint8)
    type_ids = shapely.get_type_id(geometries)
    present = ~shapely.is_missing(geometries) & ~shapely.is_empty(geometries)
    polygonal = present & ((type_ids == _POLYGON) | (type_ids == _MULTIPOLYGON))
    linear = present & ((type_ids == _LINESTRING) | (type_ids == _MULTILINESTRING))
    # Anything else left by clipping (points, collections) is drawn as discs around its parts.
    puntal = present & ~polygonal & ~linear

    if polygonal.any():
        polygons = geometries[polygonal]
        paint, index = _paint_indexed(polygons, fill_rgba[polygonal], transform)
        _composite(canvas, paint)
        _composite(canvas, _outline_paint(index, line_rgba, line_width_px))
    if linear.any():
        strokes = shapely.buffer(geometries[linear], max(line_width_px, 1.0) * pixel_m / 2, cap_style="round")
        _composite(canvas, _paint_indexed(strokes, fill_rgba[linear], transform)[0])
    if puntal.any():
        discs = shapely.buffer(geometries[puntal], point_radius_px * pixel_m, quad_segs=4)
        paint, index = _paint_indexed(discs, fill_rgba[puntal], transform)
        _composite(canvas, paint)
        _composite(canvas, _outline_paint(index, line_rgba, 1.0))
    return canvas


def encode_png(rgba: np.ndarray) -> bytes:
    """Encode an ``H × W × 4`` ``uint8`` RGBA array as PNG bytes (rasterio's PNG driver)."""
    height, width, _ = rgba.shape
    # A non-identity transform keeps rasterio from warning about a non-georeferenced image;
    # PAM is off, so nothing but the PNG itself is written.
    transform = Affine(1.0, 0.0, 0.0, 0.0, -1.0, float(height))
    with rasterio.Env(GDAL_PAM_ENABLED="NO"):
        with MemoryFile() as memory_file:
            with memory_file.open(driver="PNG", width=width, height=height, count=4, dtype="uint8",
                                  transform=transform, ZLEVEL=6) as dataset:
                dataset.write(np.moveaxis(rgba, 2, 0))
            return memory_file.read()


#: PNG pixels are 16 MVT units wide (256 vs 4096), so PNG tiles of zoom z can reuse the
#: geometries simplified for vector tiles four zooms up (tolerance: one PNG pixel).
PNG_SIMPLIFY_ZOOM_OFFSET = 4


def render_png(geometries_3857: np.ndarray, fill_rgba: np.ndarray, z: int, x: int, y: int, *,
               line_rgba: RGBA, line_width_px: float = 1.0, point_radius_px: float = 5.0) -> bytes:
    """Render tile ``z/x/y`` as PNG bytes (see :func:`render_png_array` for the arguments)."""
    return encode_png(render_png_array(geometries_3857, fill_rgba, z, x, y, line_rgba=line_rgba,
                                       line_width_px=line_width_px, point_radius_px=point_radius_px))
