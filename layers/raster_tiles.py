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

from layers.styles import RGBA
from layers.tms import tile_bounds

#: Width and height of a PNG tile in pixels.
TILE_SIZE_PX = 256
MEDIA_TYPE_PNG = "image/png"
# Geometry drawn around each PNG tile, in pixels, so strokes and discs are not cut at tile edges.
_MARGIN_PX = 16

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
_LINEAR = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING)


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


def _burn_indexed(geometries: Sequence, colours: np.ndarray, transform, *, all_touched: bool = False) -> np.ndarray:
    """Rasterise geometries with one RGBA colour each (later features drawn on top)."""
    shapes = [(geometry, row + 1) for row, geometry in enumerate(geometries) if geometry is not None]
    if not shapes:
        return np.zeros((TILE_SIZE_PX, TILE_SIZE_PX, 4), dtype=np.uint8)
    index = rasterize(shapes, out_shape=(TILE_SIZE_PX, TILE_SIZE_PX), transform=transform, fill=0,
                      dtype="uint32", all_touched=all_touched)
    palette = np.vstack([np.zeros((1, 4), dtype=np.uint8), np.asarray(colours, dtype=np.uint8)])
    return palette[index]


def _burn_single(geometries: Sequence, colour: RGBA, transform, *, all_touched: bool = False) -> np.ndarray:
    """Rasterise geometries in one RGBA colour."""
    shapes = [(geometry, 1) for geometry in geometries if geometry is not None]
    paint = np.zeros((TILE_SIZE_PX, TILE_SIZE_PX, 4), dtype=np.uint8)
    if shapes:
        mask = rasterize(shapes, out_shape=(TILE_SIZE_PX, TILE_SIZE_PX), transform=transform, fill=0,
                         dtype="uint8", all_touched=all_touched)
        paint[mask == 1] = colour
    return paint


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
    polygonal = present & np.isin(type_ids, _POLYGONAL)
    linear = present & np.isin(type_ids, _LINEAR)
    # Anything else left by clipping (points, collections) is drawn as discs around its parts.
    puntal = present & ~polygonal & ~linear

    if polygonal.any():
        polygons = geometries[polygonal]
        _composite(canvas, _burn_indexed(polygons, fill_rgba[polygonal], transform))
        outlines = shapely.boundary(polygons)
        if line_width_px > 1.5:
            outlines = shapely.buffer(outlines, line_width_px * pixel_m / 2, cap_style="flat")
        _composite(canvas, _burn_single(outlines, line_rgba, transform, all_touched=True))
    if linear.any():
        strokes = shapely.buffer(geometries[linear], max(line_width_px, 1.0) * pixel_m / 2, cap_style="round")
        _composite(canvas, _burn_indexed(strokes, fill_rgba[linear], transform, all_touched=True))
    if puntal.any():
        discs = shapely.buffer(geometries[puntal], point_radius_px * pixel_m, quad_segs=4)
        _composite(canvas, _burn_indexed(discs, fill_rgba[puntal], transform))
        rims = shapely.boundary(discs)
        _composite(canvas, _burn_single(rims, line_rgba, transform, all_touched=True))
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
