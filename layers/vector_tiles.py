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

from mapbox_vector_tile.Mapbox import vector_tile_pb2
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


# Plain ints: comparing arrays with enum members costs an attribute lookup per call.
_POINT, _LINESTRING, _LINEARRING, _POLYGON, _MULTIPOINT, _MULTILINESTRING, _MULTIPOLYGON = (
    int(GeometryType.POINT), int(GeometryType.LINESTRING), int(GeometryType.LINEARRING), int(GeometryType.POLYGON),
    int(GeometryType.MULTIPOINT), int(GeometryType.MULTILINESTRING), int(GeometryType.MULTIPOLYGON))


def _is_polygonal(type_ids: np.ndarray) -> np.ndarray:
    return (type_ids == _POLYGON) | (type_ids == _MULTIPOLYGON)


def _is_linear(type_ids: np.ndarray) -> np.ndarray:
    return (type_ids == _LINESTRING) | (type_ids == _MULTILINESTRING) | (type_ids == _LINEARRING)


def _is_puntal(type_ids: np.ndarray) -> np.ndarray:
    return (type_ids == _POINT) | (type_ids == _MULTIPOINT)


_FAMILY_TESTS = ((_POLYGONAL, _is_polygonal), (_LINEAR, _is_linear), (_PUNTAL, _is_puntal))


def geometry_kind_of(geometries: np.ndarray) -> GeometryKind:
    """The dominant kind of a layer's geometries (polygon if any polygon, else line, else point)."""
    type_ids = shapely.get_type_id(geometries)
    if _is_polygonal(type_ids).any():
        return GeometryKind.polygon
    if _is_linear(type_ids).any():
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
    for wanted, is_family in _FAMILY_TESTS:
        # Clipping may leave a GeometryCollection (a polygon touching the edge along a line, say).
        stray = np.flatnonzero(is_family(source_type_ids) & ~is_family(clipped_types) & ~shapely.is_missing(out))
        for row in stray:
            out[row] = _keep_dimension(out[row], wanted)

    present = np.flatnonzero(~shapely.is_missing(out))
    if len(present) == 0:
        return out
    kept = out[present]
    polygonal = _is_polygonal(shapely.get_type_id(kept))
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
    linear = _is_linear(shapely.get_type_id(kept))
    if linear.any():
        lines = kept[linear]
        lines[~(shapely.length(lines) > 0)] = None
        kept[linear] = shapely.remove_repeated_points(lines)
    out[present] = kept
    return out


# --- MVT encoding ------------------------------------------------------------------------------
# The tile message comes from mapbox-vector-tile's protobuf schema. Geometry commands are built
# with numpy for whole tiles at once: the package's own encoder walks every vertex in Python,
# which made dense low-zoom tiles several times slower than PostGIS. Tests decode our tiles with
# ``mapbox_vector_tile.decode``.

_MOVE_TO, _LINE_TO, _CLOSE_PATH = 1, 2, 7
_CLOSE_PATH_COMMAND = _CLOSE_PATH | (1 << 3)
_MOVE_TO_ONE = _MOVE_TO | (1 << 3)


def _zigzag(values: np.ndarray) -> np.ndarray:
    return (values << 1) ^ (values >> 63)


def _split(stream: np.ndarray, feature_starts: np.ndarray) -> list[list[int]]:
    """Cut one command stream into per-feature Python lists (what protobuf ``extend`` wants)."""
    return [part.tolist() for part in np.split(stream, feature_starts[1:-1])]


def _point_deltas(points: np.ndarray, first_of_feature: np.ndarray) -> np.ndarray:
    """Zig-zagged moves from the previous vertex; the cursor restarts at (0, 0) for each feature."""
    deltas = np.empty_like(points)
    deltas[0] = points[0]
    deltas[1:] = points[1:] - points[:-1]
    deltas[first_of_feature] = points[first_of_feature]
    return _zigzag(deltas)


def _polygon_commands(geometries: np.ndarray) -> list[list[int]]:
    """MoveTo / LineTo / ClosePath streams of (multi)polygons already in integer tile coordinates."""
    _, coords, offsets = shapely.to_ragged_array(geometries)
    if len(offsets) == 2:  # only single polygons: each geometry is one part
        offsets = (*offsets, np.arange(len(geometries) + 1))
    ring_offsets, part_offsets, geom_offsets = offsets
    coords = np.rint(coords).astype(np.int64)
    ring_sizes = np.diff(ring_offsets) - 1  # the closing vertex is implicit in MVT
    n_rings = len(ring_sizes)
    ring_of_geom_start = part_offsets[geom_offsets]
    keep = np.ones(len(coords), dtype=bool)
    keep[ring_offsets[1:] - 1] = False
    points = coords[keep]
    ring_of_point = np.repeat(np.arange(n_rings), ring_sizes)
    first_in_ring = np.concatenate([[0], np.cumsum(ring_sizes)[:-1]])
    local = np.arange(len(points)) - first_in_ring[ring_of_point]
    first_of_feature = first_in_ring[ring_of_geom_start[:-1]]
    deltas = _point_deltas(points, first_of_feature)

    ring_lengths = 2 * ring_sizes + 3
    ring_starts = np.concatenate([[0], np.cumsum(ring_lengths)])
    stream = np.empty(ring_starts[-1], dtype=np.int64)
    stream[ring_starts[:-1]] = _MOVE_TO_ONE
    stream[ring_starts[:-1] + 3] = _LINE_TO | ((ring_sizes - 1) << 3)
    stream[ring_starts[1:] - 1] = _CLOSE_PATH_COMMAND
    position = ring_starts[ring_of_point] + 1 + 2 * local + (local > 0)
    stream[position] = deltas[:, 0]
    stream[position + 1] = deltas[:, 1]
    return _split(stream, ring_starts[ring_of_geom_start])


def _line_commands(geometries: np.ndarray) -> list[list[int]]:
    """MoveTo / LineTo streams of (multi)linestrings in integer tile coordinates."""
    _, coords, offsets = shapely.to_ragged_array(geometries)
    if len(offsets) == 1:  # only single linestrings
        offsets = (*offsets, np.arange(len(geometries) + 1))
    line_offsets, geom_offsets = offsets
    points = np.rint(coords).astype(np.int64)
    line_sizes = np.diff(line_offsets)
    line_of_point = np.repeat(np.arange(len(line_sizes)), line_sizes)
    local = np.arange(len(points)) - line_offsets[:-1][line_of_point]
    deltas = _point_deltas(points, line_offsets[geom_offsets[:-1]])
    line_starts = np.concatenate([[0], np.cumsum(2 * line_sizes + 2)])
    stream = np.empty(line_starts[-1], dtype=np.int64)
    stream[line_starts[:-1]] = _MOVE_TO_ONE
    stream[line_starts[:-1] + 3] = _LINE_TO | ((line_sizes - 1) << 3)
    position = line_starts[line_of_point] + 1 + 2 * local + (local > 0)
    stream[position] = deltas[:, 0]
    stream[position + 1] = deltas[:, 1]
    return _split(stream, line_starts[geom_offsets])


def _point_commands(geometries: np.ndarray) -> list[list[int]]:
    """One MoveTo(n) stream per (multi)point in integer tile coordinates."""
    _, coords, offsets = shapely.to_ragged_array(geometries)
    geom_offsets = offsets[0] if offsets else np.arange(len(geometries) + 1)
    points = np.rint(coords).astype(np.int64)
    sizes = np.diff(geom_offsets)
    feature_of_point = np.repeat(np.arange(len(sizes)), sizes)
    local = np.arange(len(points)) - geom_offsets[:-1][feature_of_point]
    deltas = _point_deltas(points, geom_offsets[:-1])
    starts = np.concatenate([[0], np.cumsum(2 * sizes + 1)])
    stream = np.empty(starts[-1], dtype=np.int64)
    stream[starts[:-1]] = _MOVE_TO | (sizes << 3)
    position = starts[feature_of_point] + 1 + 2 * local
    stream[position] = deltas[:, 0]
    stream[position + 1] = deltas[:, 1]
    return _split(stream, starts)


def _commands(geometries: np.ndarray) -> tuple[list[list[int] | None], list[int]]:
    """Geometry command list and MVT geometry type per geometry (None where there is none)."""
    commands: list[list[int] | None] = [None] * len(geometries)
    types = [0] * len(geometries)
    type_ids = shapely.get_type_id(geometries)
    families = ((_is_polygonal(type_ids), _polygon_commands, vector_tile_pb2.tile.Polygon),
                (_is_linear(type_ids), _line_commands, vector_tile_pb2.tile.LineString),
                (_is_puntal(type_ids), _point_commands, vector_tile_pb2.tile.Point))
    for selected, build, mvt_type in families:
        rows = np.flatnonzero(selected)
        if len(rows):
            for row, command in zip(rows, build(geometries[rows])):
                commands[row] = command
                types[row] = mvt_type
    return commands, types


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
    rows = index.rows_in_tile(z, x, y)
    if len(rows):
        geometries = clip_to_tile(index.geometries_for_zoom(z)[rows], index.type_ids[rows], z, x, y)
        present = np.flatnonzero(~shapely.is_missing(geometries))
        commands, types = _commands(geometries[present])
        key_index: dict[str, int] = {}
        value_index: dict[tuple[str, Any], int] = {}
        for position, row in enumerate(rows[present]):
            feature = layer.features.add()
            feature.id = int(feature_ids[row])
            feature.type = types[position]
            feature.geometry.extend(commands[position])
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
