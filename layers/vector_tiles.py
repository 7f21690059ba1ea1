"""Mapbox Vector Tiles (MVT 2.1): clip with a buffer, simplify per zoom as a coverage, encode.

:class:`TileGeometryIndex` holds a layer's geometries in Web Mercator metres with an STRtree,
and builds simplified copies per zoom on first use. Polygon layers are simplified with
:func:`shapely.coverage_simplify`, so neighbouring units keep identical shared edges (no gaps,
no overlaps between them on screen). When the polygons are not a valid coverage (overlaps or
unmatched edges, common in independently simplified boundary files) each polygon is simplified
on its own with ``preserve_topology`` and a warning is logged.

:func:`encode_mvt` cuts one tile out of such an index and encodes it with the
``mapbox-vector-tile`` package. Web Mercator is for display only: nothing here measures area.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from shapely import GeometryType

from layers.styles import GeometryKind
from layers.tms import tile_bounds, tile_size_m

logger = logging.getLogger(__name__)

#: Tile coordinate extent (MVT default).
MVT_EXTENT = 4096
#: Geometry kept around each tile, in tile units of a 4096 extent (as ``ST_AsMVTGeom(..., 4096, 64)``).
MVT_BUFFER = 64
#: Simplification tolerance in tile units: one unit of the 4096 grid at the tile's zoom.
SIMPLIFY_TOLERANCE_UNITS = 1.0
#: From this zoom on, geometries are drawn as stored: one tile unit is under 1 m there, below the
#: precision of any boundary file we handle.
FULL_DETAIL_ZOOM = 14

MEDIA_TYPE_MVT = "application/vnd.mapbox-vector-tile"

_POLYGONAL = (GeometryType.POLYGON, GeometryType.MULTIPOLYGON)
_LINEAR = (GeometryType.LINESTRING, GeometryType.MULTILINESTRING, GeometryType.LINEARRING)
_PUNTAL = (GeometryType.POINT, GeometryType.MULTIPOINT)


def geometry_kind_of(geometries: np.ndarray) -> GeometryKind:
    """The dominant kind of a layer's geometries (polygon if any polygon, else line, else point)."""
    type_ids = shapely.get_type_id(geometries)
    if np.isin(type_ids, _POLYGONAL).any():
        return GeometryKind.polygon
    if np.isin(type_ids, _LINEAR).any():
        return GeometryKind.line
    return GeometryKind.point


class TileGeometryIndex:
    """A layer's geometries in Web Mercator metres, an STRtree, and per-zoom simplified copies.

    Args:
        geometries_3857: shapely geometries in EPSG:3857 (no missing or empty ones).
        name: layer name used in log messages.
        full_detail_zoom: zoom from which geometries are used unsimplified.

    Thread-safe: simplified copies are built once per zoom under a lock.
    """

    def __init__(self, geometries_3857: Sequence[Any] | np.ndarray, *, name: str = "layer",
                 full_detail_zoom: int = FULL_DETAIL_ZOOM):
        self.geometries = np.asarray(geometries_3857, dtype=object)
        self.name = name
        self.full_detail_zoom = full_detail_zoom
        self.type_ids = shapely.get_type_id(self.geometries)
        self.kind = geometry_kind_of(self.geometries)
        self.tree = shapely.STRtree(self.geometries)
        self._polygon_rows = np.flatnonzero(np.isin(self.type_ids, _POLYGONAL))
        self._line_rows = np.flatnonzero(np.isin(self.type_ids, _LINEAR))
        self._by_zoom: dict[int, np.ndarray] = {}
        self._is_coverage: bool | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.geometries)

    @property
    def is_coverage(self) -> bool:
        """Whether the polygons form a valid coverage (no overlaps, matched shared edges)."""
        if self._is_coverage is None:
            polygons = self.geometries[self._polygon_rows]
            self._is_coverage = bool(len(polygons) == 0 or shapely.coverage_is_valid(polygons))
            if not self._is_coverage:
                logger.warning(
                    "Layer %r: the %d polygons are not a valid coverage (overlaps or unmatched shared "
                    "edges); simplifying each polygon on its own, so neighbours may show slivers.",
                    self.name, len(polygons))
        return self._is_coverage

    def tolerance_m(self, z: int) -> float:
        """Simplification tolerance at zoom ``z`` in Web Mercator metres (display units)."""
        return tile_size_m(z) / MVT_EXTENT * SIMPLIFY_TOLERANCE_UNITS

    def geometries_for_zoom(self, z: int) -> np.ndarray:
        """All geometries simplified for zoom ``z`` (built on first use, then cached)."""
        if z >= self.full_detail_zoom:
            return self.geometries
        cached = self._by_zoom.get(z)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._by_zoom.get(z)
            if cached is None:
                cached = self._simplify(self.tolerance_m(z))
                self._by_zoom[z] = cached
        return cached

    def _simplify(self, tolerance_m: float) -> np.ndarray:
        simplified = self.geometries.copy()
        if len(self._polygon_rows):
            polygons = self.geometries[self._polygon_rows]
            if self.is_coverage:
                simplified[self._polygon_rows] = shapely.coverage_simplify(polygons, tolerance_m)
            else:
                simplified[self._polygon_rows] = shapely.simplify(polygons, tolerance_m, preserve_topology=True)
        if len(self._line_rows):
            lines = self.geometries[self._line_rows]
            simplified[self._line_rows] = shapely.simplify(lines, tolerance_m, preserve_topology=True)
        return simplified

    def query(self, bounds: tuple[float, float, float, float]) -> np.ndarray:
        """Rows whose envelope meets ``bounds`` (metres), in ascending order."""
        rows = self.tree.query(shapely.box(*bounds))
        rows.sort()
        return rows

    def buffered_tile_bounds(self, z: int, x: int, y: int) -> tuple[float, float, float, float]:
        """Tile bounds in metres grown by the MVT buffer."""
        minx, miny, maxx, maxy = tile_bounds(z, x, y)
        buffer_m = (maxx - minx) * MVT_BUFFER / MVT_EXTENT
        return (minx - buffer_m, miny - buffer_m, maxx + buffer_m, maxy + buffer_m)

    def rows_in_tile(self, z: int, x: int, y: int) -> np.ndarray:
        """Rows of the features that reach tile ``z/x/y`` (buffer included)."""
        return self.query(self.buffered_tile_bounds(z, x, y))


def _keep_dimension(geometry: Any, type_ids: tuple[int, ...]) -> Any:
    """From a GeometryCollection left by clipping, keep only parts of the feature's own kind."""
    parts = [part for part in shapely.get_parts(geometry) if shapely.get_type_id(part) in type_ids]
    if not parts:
        return None
    if type_ids == _POLYGONAL:
        return shapely.multipolygons(shapely.get_parts(parts)) if len(parts) > 1 else parts[0]
    if type_ids == _LINEAR:
        return shapely.multilinestrings(shapely.get_parts(parts)) if len(parts) > 1 else parts[0]
    return shapely.multipoints(shapely.get_parts(parts)) if len(parts) > 1 else parts[0]


def clip_to_tile(geometries: np.ndarray, source_type_ids: np.ndarray, z: int, x: int, y: int) -> np.ndarray:
    """Clip geometries (metres) to the buffered tile and turn them into integer tile coordinates.

    Returns an object array of the same length, with ``None`` where nothing is left.
    Coordinates are y-down, on the 0..4096 grid, polygons oriented for MVT (exterior clockwise
    on screen). Rounding happens per vertex, so a vertex shared by two neighbours lands on the
    same tile pixel in both.
    """
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    scale = MVT_EXTENT / (maxx - minx)
    buffer_m = MVT_BUFFER / scale
    clipped = shapely.clip_by_rect(geometries, minx - buffer_m, miny - buffer_m, maxx + buffer_m, maxy + buffer_m)
    origin = np.array([minx, maxy])
    factor = np.array([scale, -scale])
    in_tile = shapely.transform(clipped, lambda coords: (coords - origin) * factor)
    # Round each vertex to the integer grid on its own ("pointwise"), so a vertex shared by two
    # neighbours lands on the same tile pixel in both; validity is restored below.
    in_tile = shapely.set_precision(in_tile, 1.0, mode="pointwise")

    out = np.asarray(in_tile, dtype=object).copy()
    clipped_types = shapely.get_type_id(out)  # -1 where missing
    out[(clipped_types < 0) | shapely.is_empty(out)] = None
    for wanted in (_POLYGONAL, _LINEAR, _PUNTAL):
        # Clipping may leave a GeometryCollection (a polygon touching the edge along a line, say).
        stray = np.flatnonzero(np.isin(source_type_ids, wanted) & ~np.isin(clipped_types, wanted) & ~shapely.is_missing(out))
        for row in stray:
            out[row] = _keep_dimension(out[row], wanted)

    present = np.flatnonzero(~shapely.is_missing(out))
    if len(present) == 0:
        return out
    kept = out[present]
    polygonal = np.isin(shapely.get_type_id(kept), _POLYGONAL)
    if polygonal.any():
        polygons = kept[polygonal]
        # Rounding to the grid can collapse slivers to nothing or pinch a ring; drop the former,
        # repair the latter (MVT clients expect valid, simple polygons).
        invalid = ~shapely.is_valid(polygons)
        if invalid.any():
            polygons[invalid] = [_keep_dimension(g, _POLYGONAL) for g in
                                 shapely.make_valid(polygons[invalid], method="structure")]
        polygons[~(shapely.area(polygons) > 0)] = None
        # Valid rings keep at least three distinct points, so dropping repeats is safe now.
        polygons = shapely.orient_polygons(shapely.remove_repeated_points(polygons), exterior_cw=False)
        kept[polygonal] = polygons
    linear = np.isin(shapely.get_type_id(kept), _LINEAR)
    if linear.any():
        lines = kept[linear]
        lines[~(shapely.length(lines) > 0)] = None
        kept[linear] = shapely.remove_repeated_points(lines)
    out[present] = kept
    return out


def encode_mvt(layer_name: str, index: TileGeometryIndex, z: int, x: int, y: int, *,
               feature_ids: Sequence[int] | np.ndarray, properties: Sequence[Mapping[str, Any]]) -> bytes:
    """Encode tile ``z/x/y`` of one layer as MVT bytes.

    Args:
        layer_name: name of the layer inside the tile (the source id, e.g. ``"units"``).
        index: the layer's geometries (see :class:`TileGeometryIndex`).
        feature_ids: integer feature id per row of ``index``.
        properties: MVT-safe attributes per row (str, int, float, bool; no ``None``).

    Raises :class:`geo.errors.TileOutsideBoundsError` for an index outside the grid.
    """
    rows = index.rows_in_tile(z, x, y)
    features = []
    if len(rows):
        geometries = clip_to_tile(index.geometries_for_zoom(z)[rows], index.type_ids[rows], z, x, y)
        for row, geometry in zip(rows, geometries):
            if geometry is not None:
                features.append({"geometry": geometry, "id": int(feature_ids[row]), "properties": properties[row]})
    return mapbox_vector_tile.encode(
        {"name": layer_name, "features": features},
        default_options={"extents": MVT_EXTENT, "y_coord_down": True, "check_winding_order": False},
    )
