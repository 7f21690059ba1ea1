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

import functools
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from mapbox_vector_tile.Mapbox import vector_tile_pb2
import numpy as np
import shapely
from shapely import GeometryType

from diagioi.layers.styles import GeometryKind
from diagioi.layers.tms import WEB_MERCATOR_TMS, check_tile, tile_bounds, tile_size_m

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


# Plain ints: comparing arrays with enum members costs an attribute lookup per call.
_POINT, _LINESTRING, _LINEARRING, _POLYGON, _MULTIPOINT, _MULTILINESTRING, _MULTIPOLYGON = (
    int(GeometryType.POINT), int(GeometryType.LINESTRING), int(GeometryType.LINEARRING), int(GeometryType.POLYGON),
    int(GeometryType.MULTIPOINT), int(GeometryType.MULTILINESTRING), int(GeometryType.MULTIPOLYGON))


def _is_polygonal(type_ids: np.ndarray) -> np.ndarray:
    return (type_ids == _POLYGON) | (type_ids == _MULTIPOLYGON)


def _is_linear(type_ids: np.ndarray) -> np.ndarray:
    return (type_ids == _LINESTRING) | (type_ids == _MULTILINESTRING) | (type_ids == _LINEARRING)


def geometry_kind_of(geometries: np.ndarray) -> GeometryKind:
    """The dominant kind of a layer's geometries (polygon if any polygon, else line, else point)."""
    type_ids = shapely.get_type_id(geometries)
    if _is_polygonal(type_ids).any():
        return GeometryKind.polygon
    if _is_linear(type_ids).any():
        return GeometryKind.line
    return GeometryKind.point


@functools.cache
def _grid_of_zoom(z: int) -> tuple[float, float, float, int, int] | None:
    """Origin (top-left, metres), cell size and tile size in pixels of zoom ``z``; ``None`` if the
    matrix is not a plain one (then :func:`layers.tms.tile_bounds` is used)."""
    matrix = WEB_MERCATOR_TMS.matrix(z)
    if matrix.variableMatrixWidths is not None or matrix.cornerOfOrigin != "topLeft":
        return None
    west, _, _, north = tile_bounds(z, 0, 0)
    return west, north, matrix.cellSize, matrix.tileWidth, matrix.tileHeight


def _tile_bounds_m(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """:func:`layers.tms.tile_bounds`, bit for bit, without morecantile's per-call cost (a cold
    tile paid more for it than for clipping). Same arithmetic, in the same order, as morecantile."""
    check_tile(z, x, y)
    grid = _grid_of_zoom(z)
    if grid is None:
        return tile_bounds(z, x, y)
    west, north, cell_size, tile_width, tile_height = grid
    return (west + x * cell_size * tile_width, north - (y + 1) * cell_size * tile_height,
            west + (x + 1) * cell_size * tile_width, north - y * cell_size * tile_height)


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
        self._families = _family(self.type_ids)
        # A layer of single points (sites, clusters) is cut and encoded from this array alone.
        self._point_xy = (shapely.get_coordinates(self.geometries)
                          if len(self.geometries) and (self.type_ids == _POINT).all() else None)
        self.kind = geometry_kind_of(self.geometries)
        self.tree = shapely.STRtree(self.geometries)
        self._polygon_rows = np.flatnonzero(_is_polygonal(self.type_ids))
        self._line_rows = np.flatnonzero(_is_linear(self.type_ids))
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
        """Rows whose envelope meets ``bounds`` (metres, edges included), in ascending order."""
        rows = self.tree.query(shapely.box(*bounds))
        rows.sort()
        return rows

    def buffered_tile_bounds(self, z: int, x: int, y: int) -> tuple[float, float, float, float]:
        """Tile bounds in metres grown by the MVT buffer."""
        minx, miny, maxx, maxy = tile_bounds(z, x, y)
        buffer_m = (maxx - minx) * MVT_BUFFER / MVT_EXTENT
        return (minx - buffer_m, miny - buffer_m, maxx + buffer_m, maxy + buffer_m)

    def rows_in_tile(self, z: int, x: int, y: int, *,
                     tile_bounds_m: tuple[float, float, float, float] | None = None) -> np.ndarray:
        """Rows of the features that reach tile ``z/x/y`` (buffer included).

        ``tile_bounds_m`` is the tile's unbuffered :func:`layers.tms.tile_bounds`, when known already.
        """
        if tile_bounds_m is None:
            return self.query(self.buffered_tile_bounds(z, x, y))
        minx, miny, maxx, maxy = tile_bounds_m
        buffer_m = (maxx - minx) * MVT_BUFFER / MVT_EXTENT
        return self.query((minx - buffer_m, miny - buffer_m, maxx + buffer_m, maxy + buffer_m))


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


# Family of each GEOS type id (index ``type_id + 1``, so a missing geometry's -1 maps to slot 0):
# 0 polygonal, 1 linear, 2 puntal, -1 none (missing or a GeometryCollection).
_NO_FAMILY, _POLYGON_FAMILY, _LINE_FAMILY, _POINT_FAMILY = -1, 0, 1, 2
_FAMILY_BY_TYPE = np.full(9, _NO_FAMILY, dtype=np.int8)
for _types, _family_code in (((_POINT, _MULTIPOINT), _POINT_FAMILY),
                             ((_LINESTRING, _LINEARRING, _MULTILINESTRING), _LINE_FAMILY),
                             ((_POLYGON, _MULTIPOLYGON), _POLYGON_FAMILY)):
    _FAMILY_BY_TYPE[np.array(_types) + 1] = _family_code
_FAMILY_TYPES = {_POLYGON_FAMILY: _POLYGONAL, _LINE_FAMILY: _LINEAR, _POINT_FAMILY: _PUNTAL}


def _family(type_ids: np.ndarray) -> np.ndarray:
    return _FAMILY_BY_TYPE[type_ids + 1]


def _round_half_up(values: np.ndarray) -> np.ndarray:
    """Round to integers as GEOS does on a unit grid (Java ``Math.round``: halves go up).

    Same results as ``shapely.set_precision(..., 1.0, mode="pointwise")`` without its per-call cost.
    """
    floor = np.floor(values)
    return floor + ((values - floor) >= 0.5)


def clip_to_tile(geometries: np.ndarray, source_type_ids: np.ndarray, z: int, x: int, y: int, *,
                 tile_bounds_m: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """Clip geometries (metres) to the buffered tile and turn them into integer tile coordinates.

    Returns an object array of the same length, with ``None`` where nothing is left.
    Coordinates are y-down, on the 0..4096 grid, polygons oriented for MVT (exterior clockwise
    on screen). Rounding happens per vertex, so a vertex shared by two neighbours lands on the
    same tile pixel in both.

    ``tile_bounds_m`` (the tile's :func:`layers.tms.tile_bounds`) is an optional shortcut.
    """
    bounds_m = tile_bounds(z, x, y) if tile_bounds_m is None else tile_bounds_m
    out, _ = _clip_to_grid(geometries, _family(source_type_ids), bounds_m)
    return out


def _clip_to_grid(geometries: np.ndarray, wanted_family: np.ndarray,
                  bounds_m: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`clip_to_tile`, also returning each result's family (``_NO_FAMILY`` where nothing is left)."""
    minx, miny, maxx, maxy = bounds_m
    scale = MVT_EXTENT / (maxx - minx)
    buffer_m = MVT_BUFFER / scale
    rect = (minx - buffer_m, miny - buffer_m, maxx + buffer_m, maxy + buffer_m)
    clipped = shapely.clip_by_rect(geometries, *rect)
    # To tile units, y down, each vertex rounded on its own ("pointwise"), so a vertex shared by
    # two neighbours lands on the same tile pixel in both; validity is restored below.
    coords = shapely.get_coordinates(clipped)
    coords -= (minx, maxy)
    coords *= (scale, -scale)
    out = shapely.set_coordinates(clipped, _round_half_up(coords))

    family = _family(shapely.get_type_id(out))
    empty = shapely.is_empty(out)
    stray = family != wanted_family
    if stray.any():
        # Clipping may leave a GeometryCollection (a polygon touching the edge along a line, say).
        for row in np.flatnonzero(stray & ~empty):
            out[row] = _keep_dimension(out[row], _FAMILY_TYPES[int(wanted_family[row])])
            family[row] = _NO_FAMILY if out[row] is None else wanted_family[row]
    family[empty] = _NO_FAMILY
    _, n_polygonal, n_linear, _ = np.bincount(family + 1, minlength=4)

    if n_polygonal:
        polygonal = family == _POLYGON_FAMILY
        polygons = out[polygonal]
        # Rounding to the grid can collapse slivers to nothing or pinch a ring; drop the former,
        # repair the latter (MVT clients expect valid, simple polygons).
        invalid = ~shapely.is_valid(polygons)
        if invalid.any():
            # On the unit grid (as set_precision leaves it), so the repair snaps to whole tile units.
            on_grid = shapely.set_precision(polygons[invalid], 1.0, mode="pointwise")
            polygons[invalid] = [_keep_dimension(g, _POLYGONAL) for g in
                                 shapely.make_valid(on_grid, method="structure")]
        collapsed = ~(shapely.area(polygons) > 0)
        if collapsed.any():
            polygons[collapsed] = None
            family[np.flatnonzero(polygonal)[collapsed]] = _NO_FAMILY
        # Valid rings keep at least three distinct points, so dropping repeats is safe now.
        out[polygonal] = shapely.orient_polygons(shapely.remove_repeated_points(polygons), exterior_cw=False)
    if n_linear:
        linear = family == _LINE_FAMILY
        lines = out[linear]
        collapsed = ~(shapely.length(lines) > 0)
        if collapsed.any():
            lines[collapsed] = None
            family[np.flatnonzero(linear)[collapsed]] = _NO_FAMILY
        out[linear] = shapely.remove_repeated_points(lines)
    out[family == _NO_FAMILY] = None
    return out, family


# --- MVT encoding ------------------------------------------------------------------------------
# The tile message comes from mapbox-vector-tile's protobuf schema. Geometry commands are built
# with numpy for whole tiles at once, every geometry type in one pass: the package's own encoder
# walks every vertex in Python, which made dense low-zoom tiles several times slower than PostGIS,
# and a fixed number of array calls per tile keeps sparse tiles cheap. Tests decode our tiles
# with ``mapbox_vector_tile.decode``.

_MOVE_TO, _LINE_TO, _CLOSE_PATH = 1, 2, 7
_CLOSE_PATH_COMMAND = _CLOSE_PATH | (1 << 3)
_MOVE_TO_ONE = _MOVE_TO | (1 << 3)
_MVT_TYPE_BY_FAMILY = {_POLYGON_FAMILY: vector_tile_pb2.tile.Polygon,
                       _LINE_FAMILY: vector_tile_pb2.tile.LineString,
                       _POINT_FAMILY: vector_tile_pb2.tile.Point}


def _zigzag(values: np.ndarray) -> np.ndarray:
    return (values << 1) ^ (values >> 63)


#: Per GEOS type id: whether a geometry of that type may hold several drawing paths (a point's
#: parts are one MoveTo; holes are checked separately).
_IS_MULTI_PART = np.zeros(8, dtype=bool)
_IS_MULTI_PART[[_MULTILINESTRING, _MULTIPOLYGON]] = True


def _paths(geometries: np.ndarray, type_ids: np.ndarray,
           family: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The drawing paths of each geometry, in coordinate order.

    A path is a polygon ring, a linestring, or all points of a (multi)point. Returns per path the
    row of its geometry, its number of coordinates, and its family.
    """
    if not (_IS_MULTI_PART[type_ids].any() or shapely.get_num_interior_rings(geometries).any()):
        # The usual sparse tile: no holes, no multi-part lines or polygons; one path per geometry.
        return np.arange(len(geometries)), shapely.get_num_coordinates(geometries), family
    pieces = []
    rows = np.flatnonzero(family == _POLYGON_FAMILY)
    if len(rows):
        parts, part_row = shapely.get_parts(geometries[rows], return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        pieces.append((rows[part_row[ring_part]], shapely.get_num_coordinates(rings), _POLYGON_FAMILY))
    rows = np.flatnonzero(family == _LINE_FAMILY)
    if len(rows):
        parts, part_row = shapely.get_parts(geometries[rows], return_index=True)
        pieces.append((rows[part_row], shapely.get_num_coordinates(parts), _LINE_FAMILY))
    rows = np.flatnonzero(family == _POINT_FAMILY)
    if len(rows):
        pieces.append((rows, shapely.get_num_coordinates(geometries[rows]), _POINT_FAMILY))
    row = np.concatenate([p[0] for p in pieces])
    size = np.concatenate([p[1] for p in pieces])
    kind = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int8) for p in pieces])
    order = np.argsort(row, kind="stable")  # geometry order, paths of one geometry kept in sequence
    return row[order], size[order], kind[order]


def _commands(geometries: np.ndarray) -> tuple[list[list[int]], list[int]]:
    """Geometry command list and MVT geometry type per geometry.

    ``geometries`` are polygonal, linear or puntal (none missing), in integer tile coordinates.
    Rings: MoveTo(1) LineTo(n-1) ClosePath, the closing vertex left out; lines: MoveTo(1)
    LineTo(n-1); (multi)points: one MoveTo(n). The cursor restarts at (0, 0) for each feature.
    """
    type_ids = shapely.get_type_id(geometries)
    family = _family(type_ids)
    path_row, path_coords, path_family = _paths(geometries, type_ids, family)
    coords = shapely.get_coordinates(geometries)
    types = [_MVT_TYPE_BY_FAMILY[f] for f in family.tolist()]
    if len(coords) <= _PYTHON_ENCODER_MAX_COORDS:
        return _commands_in_python(coords, path_row, path_coords, path_family, len(geometries)), types
    coord_row = np.repeat(path_row, path_coords)

    is_ring = path_family == _POLYGON_FAMILY
    draws_lines = path_family != _POINT_FAMILY
    keep = np.ones(len(coords), dtype=bool)
    keep[np.cumsum(path_coords)[is_ring] - 1] = False  # a ring's closing vertex is implicit in MVT
    points = np.rint(coords[keep]).astype(np.int64)
    point_row = coord_row[keep]
    deltas = np.empty_like(points)
    deltas[0] = points[0]
    np.subtract(points[1:], points[:-1], out=deltas[1:])
    restart = np.flatnonzero(point_row[1:] != point_row[:-1]) + 1
    deltas[restart] = points[restart]

    n_vertices = path_coords - is_ring
    path_lengths = 2 * n_vertices + 1 + draws_lines + is_ring
    path_ends = np.cumsum(path_lengths)
    path_starts = path_ends - path_lengths
    line_to_at = path_starts[draws_lines] + 3
    close_at = path_ends[is_ring] - 1
    stream = np.empty(path_ends[-1], dtype=np.int64)
    is_vertex = np.ones(len(stream), dtype=bool)
    is_vertex[path_starts] = is_vertex[line_to_at] = is_vertex[close_at] = False
    stream[is_vertex] = _zigzag(deltas).ravel()  # x, y of each vertex fill the slots between commands
    stream[path_starts] = np.where(draws_lines, _MOVE_TO_ONE, _MOVE_TO | (n_vertices << 3))
    stream[line_to_at] = _LINE_TO | ((n_vertices[draws_lines] - 1) << 3)
    stream[close_at] = _CLOSE_PATH_COMMAND

    # One tolist, then plain list slices: cheaper than splitting the array per feature.
    values = stream.tolist()
    starts = path_starts[np.searchsorted(path_row, np.arange(len(geometries)))].tolist()
    commands = [values[start:end] for start, end in zip(starts, [*starts[1:], len(values)])]
    return commands, types


#: Up to this many coordinates in a tile, commands are built in plain Python: for a handful of
#: features that is faster than the fixed cost of the ~30 array operations of :func:`_commands`.
_PYTHON_ENCODER_MAX_COORDS = 256


def _commands_in_python(coords: np.ndarray, path_row: np.ndarray, path_coords: np.ndarray,
                        path_family: np.ndarray, n_geometries: int) -> list[list[int]]:
    """The command lists of :func:`_commands`, vertex by vertex (for tiles with few vertices)."""
    vertices = np.rint(coords).astype(np.int64).tolist()
    commands: list[list[int]] = [[] for _ in range(n_geometries)]
    start = 0
    previous_row = -1
    for row, size, family in zip(path_row.tolist(), path_coords.tolist(), path_family.tolist()):
        if row != previous_row:
            cursor_x = cursor_y = 0
            previous_row = row
        stream = commands[row]
        n_vertices = size - 1 if family == _POLYGON_FAMILY else size
        for number, (x, y) in enumerate(vertices[start:start + n_vertices]):
            if number == 0:
                stream.append(_MOVE_TO | (n_vertices << 3) if family == _POINT_FAMILY else _MOVE_TO_ONE)
            elif number == 1 and family != _POINT_FAMILY:
                stream.append(_LINE_TO | ((n_vertices - 1) << 3))
            dx, dy = x - cursor_x, y - cursor_y
            stream += ((dx << 1) ^ (dx >> 63), (dy << 1) ^ (dy >> 63))
            cursor_x, cursor_y = x, y
        if family == _POLYGON_FAMILY:
            stream.append(_CLOSE_PATH_COMMAND)
        start += size
    return commands


def _single_point_commands(xy: np.ndarray,
                           bounds_m: tuple[float, float, float, float]) -> tuple[np.ndarray, list[list[int]]]:
    """For points ``(n, 2)`` in metres: which lie strictly inside the buffered tile (as clipping
    keeps them) and, for those, their MoveTo command, rounded as :func:`clip_to_tile` does."""
    minx, miny, maxx, maxy = bounds_m
    scale = MVT_EXTENT / (maxx - minx)
    buffer_m = MVT_BUFFER / scale
    inside = ((xy > (minx - buffer_m, miny - buffer_m)) & (xy < (maxx + buffer_m, maxy + buffer_m))).all(axis=1)
    in_tile = _round_half_up((xy[inside] - (minx, maxy)) * (scale, -scale)).astype(np.int64)
    return inside, [[_MOVE_TO_ONE, x, y] for x, y in _zigzag(in_tile).tolist()]


#: One feature's attributes ready for encoding: ``((key, (value field, value)), ...)``.
FeatureAttributes = tuple[tuple[str, tuple[str, Any]], ...]


def _typed_value(value: Any) -> tuple[str, Any]:
    if isinstance(value, bool):
        return ("bool_value", value)
    if isinstance(value, int):
        return ("int_value" if value >= 0 else "sint_value", value)
    if isinstance(value, float):
        return ("double_value", value)
    return ("string_value", str(value))


def feature_attributes(properties: Mapping[str, Any]) -> FeatureAttributes:
    """Attributes (str, int, float, bool values; no ``None``) typed once for :func:`encode_mvt`."""
    return tuple((str(key), _typed_value(value)) for key, value in properties.items())


def encode_mvt(layer_name: str, index: TileGeometryIndex, z: int, x: int, y: int, *,
               feature_ids: Sequence[int] | np.ndarray, attributes: Sequence[FeatureAttributes]) -> bytes:
    """Encode tile ``z/x/y`` of one layer as MVT 2.1 bytes.

    Args:
        layer_name: name of the layer inside the tile (the source id, e.g. ``"units"``).
        index: the layer's geometries (see :class:`TileGeometryIndex`).
        feature_ids: integer feature id (≥ 0) per row of ``index``.
        attributes: per row, the output of :func:`feature_attributes`.

    Raises :class:`geo.errors.TileOutsideBoundsError` for an index outside the grid.
    """
    message = vector_tile_pb2.tile()
    layer = message.layers.add()
    layer.version = 2
    layer.name = layer_name
    layer.extent = MVT_EXTENT
    bounds_m = _tile_bounds_m(z, x, y)
    rows = index.rows_in_tile(z, x, y, tile_bounds_m=bounds_m)
    if len(rows) and index._point_xy is not None:
        kept, commands = _single_point_commands(index._point_xy[rows], bounds_m)
        rows = rows[kept]
        types = [vector_tile_pb2.tile.Point] * len(rows)
    elif len(rows):
        geometries, family = _clip_to_grid(index.geometries_for_zoom(z)[rows], index._families[rows], bounds_m)
        kept = family != _NO_FAMILY
        if not kept.all():
            geometries, rows = geometries[kept], rows[kept]
        commands, types = _commands(geometries) if len(rows) else ([], [])
    if len(rows):
        key_index: dict[str, int] = {}
        value_index: dict[tuple[str, Any], int] = {}
        for row, command, mvt_type in zip(rows.tolist(), commands, types):
            feature = layer.features.add()
            feature.id = int(feature_ids[row])
            feature.type = mvt_type
            feature.geometry.extend(command)
            tags = []
            for key, typed in attributes[row]:
                key_number = key_index.get(key)
                if key_number is None:
                    key_number = key_index[key] = len(key_index)
                    layer.keys.append(key)
                value_number = value_index.get(typed)
                if value_number is None:
                    value_number = value_index[typed] = len(value_index)
                    setattr(layer.values.add(), typed[0], typed[1])
                tags += (key_number, value_number)
            feature.tags.extend(tags)
    return message.SerializeToString()
