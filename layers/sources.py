"""Tile sources: one contract (id, version, zooms, bounds, TileJSON, tile bytes) for every map layer.

:class:`GeoDataFrameTileSource` serves any GeoDataFrame as ``{z}/{x}/{y}.mvt`` and ``.png``
tiles. The factories :func:`units_tile_source`, :func:`scenario_tile_source` and
:func:`zoning_tile_source` prepare the attributes the named styles need.

The version is part of every tile URL and cache key, so an edit shows on the next request::

    source = units_tile_source(unit_set.gdf, version=unit_set.version)
    source.tilejson("https://host/api/tiles/units/{z}/{x}/{y}.mvt?v={version}")
    tile = source.tile(10, 813, 448, "mvt")   # TileData(content=b"...", media_type=..., etag='"..."')
"""
from __future__ import annotations

import gzip
import hashlib
import logging
import math
from dataclasses import dataclass, replace
from enum import StrEnum
from numbers import Integral, Real
from typing import Any, Protocol, runtime_checkable

import geopandas as gpd
import numpy as np
import pandas as pd

from diagioi.geo.crs import to_lonlat
from diagioi.geo.errors import InputError, MissingColumnError, MissingCRSError, NotFoundError
from diagioi.geo.population import density_per_km2
from diagioi.layers.caches import BoundedCache
from diagioi.layers.raster_tiles import MEDIA_TYPE_PNG, PNG_SIMPLIFY_ZOOM_OFFSET, render_png
from diagioi.layers.styles import LayerStyle, default_style, style_for
from diagioi.layers.tile_cache import SHARED_TILE_CACHE, TileCache
from diagioi.layers.tms import MAX_LATITUDE, WEB_MERCATOR_TMS, check_tile, clamp_lnglat_bounds
from diagioi.layers.vector_tiles import MEDIA_TYPE_MVT, TileGeometryIndex, encode_mvt, feature_attributes

logger = logging.getLogger(__name__)

BBox = tuple[float, float, float, float]
WORLD_BOUNDS: BBox = (-180.0, -MAX_LATITUDE, 180.0, MAX_LATITUDE)

#: Geometry indexes shared by the versions of a source whose geometries did not change (see ``geometry_key``).
_GEOMETRY_INDEXES = BoundedCache(8)


class TileFormat(StrEnum):
    """Tile encodings served."""

    mvt = "mvt"
    png = "png"


MEDIA_TYPES = {TileFormat.mvt: MEDIA_TYPE_MVT, TileFormat.png: MEDIA_TYPE_PNG}


#: Vector tiles smaller than this are sent as they are (as GZipMiddleware's minimum_size).
GZIP_MIN_BYTES = 1024


@dataclass(frozen=True)
class TileData:
    """One rendered tile: bytes, HTTP media type and a strong ETag (quoted).

    ``content_gzip``: the same bytes gzip-compressed, for a vector tile of at least
    :data:`GZIP_MIN_BYTES` (compressed once, when rendered, rather than on every response).
    """

    content: bytes
    media_type: str
    etag: str
    content_gzip: bytes | None = None


@runtime_checkable
class TileSource(Protocol):
    """What the API needs from a map layer to serve TileJSON and tiles."""

    id: str
    version: str
    minzoom: int
    maxzoom: int
    bounds: BBox

    def tilejson(self, tiles_url_template: str) -> dict:
        """TileJSON 3.0 document; ``{version}`` in the template is filled in."""
        ...

    def tile(self, z: int, x: int, y: int, fmt: str) -> TileData:
        """Tile ``z/x/y`` as ``"mvt"`` or ``"png"``; raises ``TileOutsideBoundsError`` for a bad index."""
        ...


def mvt_value(value: Any) -> str | int | float | bool | None:
    """An attribute value in a form MVT can store, or ``None`` to leave the attribute out.

    MVT has no null: missing values (``None``, NaN, NaT) are omitted. Numbers stay numbers,
    booleans stay booleans, everything else becomes text.
    """
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # plain str, also for StrEnum members
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass  # arrays, lists: not scalar, stored as text below
    return str(value)


def _mvt_column(series: pd.Series) -> list:
    """:func:`mvt_value` of every value of a column; NumPy bool, integer and float columns in one pass."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return series.tolist()  # Python bools and ints
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = series.to_numpy()
        return [value if finite else None for value, finite in zip(values.tolist(), np.isfinite(values).tolist())]
    return [mvt_value(value) for value in series.tolist()]


def _field_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "Boolean"
    if pd.api.types.is_numeric_dtype(series):
        return "Number"
    return "String"


def _tiles_url(template: str, version: str) -> str:
    if "{version}" in template:
        return template.replace("{version}", version)
    separator = "&" if "?" in template else "?"
    return f"{template}{separator}v={version}"


def _center(bounds: BBox, minzoom: int, maxzoom: int) -> list[float]:
    west, south, east, north = bounds
    span_deg = max(east - west, north - south, 1e-6)
    zoom = int(max(minzoom, min(maxzoom, math.floor(math.log2(360.0 / span_deg)))))
    return [round((west + east) / 2, 6), round((south + north) / 2, 6), zoom]


class GeoDataFrameTileSource:
    """Vector and raster tiles for any GeoDataFrame (EPSG:4326, or any CRS that is set).

    Args:
        source_id: tile layer id (``units``, ``scenario-{id}``, ``industrial_clusters``…); also
            the layer name inside MVT tiles.
        gdf: the features. Rows without geometry are not drawn (logged).
        version: data version; goes into tile URLs, cache keys and ETags.
        properties: attribute columns put in the tiles (default: all non-geometry columns).
        id_column: column (or index name) holding the feature's string code; written as the
            ``code`` attribute. MVT feature ids are integers: the 1-based row number.
        style: colours for PNG tiles and the legend (default: :func:`layers.styles.style_for`
            of ``source_id``, or a plain style for an unknown id).
        minzoom, maxzoom: zoom range served.
        attribution: data credit for TileJSON.
        description: TileJSON description.
        cache: tile cache (default: the process-wide shared cache).
        geometry_key: a key that names the geometries exactly (e.g. a units dataset's content hash).
            Sources with the same ``source_id`` and key share one :class:`TileGeometryIndex` — its
            Web Mercator copy, tree and per-zoom simplifications — so a new version that changes only
            attributes (a zoning edit changes the units' indicators) is not simplified again.
    """

    def __init__(self, source_id: str, gdf: gpd.GeoDataFrame, *, version: str,
                 properties: list[str] | None = None, id_column: str | None = None,
                 style: LayerStyle | None = None, minzoom: int = 0, maxzoom: int = 16,
                 attribution: str = "", description: str = "", cache: TileCache | None = None,
                 geometry_key: str | None = None):
        if gdf.crs is None:
            raise MissingCRSError(f"Layer {source_id!r} has no coordinate reference system.",
                                  hint="Set the CRS of the data (EPSG:4326 for lon/lat).",
                                  context={"layer_id": source_id})
        if not (0 <= minzoom <= maxzoom <= 24):
            raise InputError(f"Invalid zoom range {minzoom}–{maxzoom} for layer {source_id!r}.",
                             hint="Use 0 <= minzoom <= maxzoom <= 24.", context={"layer_id": source_id})
        self.id = source_id
        self.version = str(version)
        self.minzoom = minzoom
        self.maxzoom = maxzoom
        self.attribution = attribution
        self.description = description
        self._cache = SHARED_TILE_CACHE if cache is None else cache

        geometry = gdf.geometry
        drawable = ~(geometry.isna() | geometry.is_empty).to_numpy()
        if not drawable.all():
            logger.info("Layer %r: %d of %d features have no geometry and are not drawn.",
                        source_id, int((~drawable).sum()), len(gdf))
        data = gdf.loc[drawable]
        self.feature_count = len(data)

        def geometry_index() -> tuple[TileGeometryIndex, BBox]:
            index = TileGeometryIndex(data.geometry.to_crs(3857).to_numpy(), name=source_id)
            if len(data):
                return index, clamp_lnglat_bounds(tuple(float(v) for v in to_lonlat(data.geometry).total_bounds))
            return index, WORLD_BOUNDS

        if geometry_key is None:
            self.index, self.bounds = geometry_index()
        else:
            self.index, self.bounds = _GEOMETRY_INDEXES.get_or_build((source_id, geometry_key, len(data)),
                                                                     geometry_index)
        self.geometry_kind = self.index.kind

        if style is None:
            try:
                style = style_for(source_id)
            except NotFoundError:
                style = default_style(source_id, self.geometry_kind)
        if len(data) and style.geometry is not self.geometry_kind:
            # e.g. industrial clusters known only as points: draw discs, and say so in the legend.
            style = replace(style, geometry=self.geometry_kind)
        self.style = style

        codes = self._codes(data, id_column)
        columns = [c for c in (properties if properties is not None else data.columns)
                   if c != data.geometry.name]
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise MissingColumnError(f"Layer {source_id!r} has no column(s) {', '.join(missing)}.",
                                     hint=f"Available columns: {', '.join(map(str, data.columns))}.",
                                     context={"layer_id": source_id, "missing": missing})
        self.fields = {str(c): _field_type(data[c]) for c in columns}
        if codes is not None:
            self.fields["code"] = "String"
        self.feature_ids = np.arange(1, len(data) + 1, dtype=np.int64)
        self.properties = self._mvt_properties(data, columns, codes)
        self._attributes = [feature_attributes(p) for p in self.properties]
        self.fill_rgba = self._fill_colours(data)

        # Everything that changes tile bytes for the same data version.
        fingerprint = "|".join([self.version, style.fingerprint, ",".join(self.fields), str(id_column)])
        self._render_version = hashlib.blake2b(fingerprint.encode(), digest_size=8).hexdigest()

    @staticmethod
    def _codes(data: gpd.GeoDataFrame, id_column: str | None) -> list[str] | None:
        if id_column is None:
            return None
        if id_column in data.columns:
            values = data[id_column]
        elif id_column == data.index.name:
            values = data.index.to_series()
        else:
            raise MissingColumnError(f"No column or index named {id_column!r} for feature codes.",
                                     hint="Pass id_column=None or the name of the code column.",
                                     context={"id_column": id_column})
        return [str(v) for v in values]

    @staticmethod
    def _mvt_properties(data: gpd.GeoDataFrame, columns: list, codes: list[str] | None) -> list[dict]:
        # Column by column: a new scenario version or zoning edit rebuilds these for every feature.
        named = [(str(column), _mvt_column(data[column])) for column in columns]
        properties = []
        for row in range(len(data)):
            clean = {name: values[row] for name, values in named if values[row] is not None}
            if codes is not None:
                clean["code"] = codes[row]
            properties.append(clean)
        return properties

    def _fill_colours(self, data: gpd.GeoDataFrame) -> np.ndarray:
        prop = self.style.value_property
        if prop is None:
            return np.tile(np.array(self.style.rgba_for(), dtype=np.uint8), (len(data), 1))
        if prop not in data.columns:
            logger.warning("Layer %r: style property %r is not a column; PNG tiles use the 'no data' colour.",
                           self.id, prop)
            return np.tile(np.array(self.style.rgba_for(None), dtype=np.uint8), (len(data), 1))
        return np.array([self.style.rgba_for(mvt_value(v)) for v in data[prop]], dtype=np.uint8).reshape(-1, 4)

    def tilejson(self, tiles_url_template: str) -> dict:
        """TileJSON 3.0.0 for this layer.

        ``tiles_url_template`` keeps ``{z}/{x}/{y}``; ``{version}`` in it is replaced by the data
        version (without it, ``?v=<version>`` is appended) so clients refetch after an edit.
        """
        return {
            "tilejson": "3.0.0",
            "name": self.id,
            "description": self.description or self.style.title,
            "version": "1.0.0",
            "attribution": self.attribution,
            "scheme": "xyz",
            "tiles": [_tiles_url(tiles_url_template, self.version)],
            "minzoom": self.minzoom,
            "maxzoom": self.maxzoom,
            "bounds": [round(v, 6) for v in self.bounds],
            "center": _center(self.bounds, self.minzoom, self.maxzoom),
            "vector_layers": [{
                "id": self.id,
                "description": self.style.title,
                "minzoom": self.minzoom,
                "maxzoom": self.maxzoom,
                "fields": dict(self.fields),
            }],
            "data_version": self.version,
            "tile_matrix_set": WEB_MERCATOR_TMS.id,
            "legend": self.style.legend(),
        }

    def etag(self, z: int, x: int, y: int, fmt: str) -> str:
        """Strong ETag of a tile: changes with the data version and the style."""
        digest = hashlib.blake2b(f"{self.id}/{self._render_version}/{z}/{x}/{y}.{fmt}".encode(), digest_size=10)
        return f'"{digest.hexdigest()}"'

    def tile(self, z: int, x: int, y: int, fmt: str) -> TileData:
        """Tile ``z/x/y`` as MVT or PNG, from the cache when it was rendered before.

        Raises :class:`geo.errors.TileOutsideBoundsError` for a zoom outside ``minzoom..maxzoom`` or
        an x/y outside the grid, and :class:`geo.errors.NotFoundError` for an unknown format.
        """
        try:
            tile_format = TileFormat(fmt)
        except ValueError:
            raise NotFoundError(f"Unknown tile format {fmt!r}.", hint="Use .mvt or .png.",
                                context={"layer_id": self.id, "format": fmt}) from None
        check_tile(z, x, y, minzoom=self.minzoom, maxzoom=self.maxzoom)
        key = (self.id, self._render_version, z, x, y, str(tile_format))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        content = self.render(z, x, y, tile_format)
        compressed = (gzip.compress(content, compresslevel=6, mtime=0)
                      if tile_format is TileFormat.mvt and len(content) >= GZIP_MIN_BYTES else None)
        data = TileData(content=content, media_type=MEDIA_TYPES[tile_format], etag=self.etag(z, x, y, str(tile_format)),
                        content_gzip=compressed)
        self._cache.put(key, data)
        return data

    def render(self, z: int, x: int, y: int, fmt: TileFormat | str) -> bytes:
        """Render a tile without the cache (the benchmark's "cold" path)."""
        if TileFormat(fmt) is TileFormat.mvt:
            return encode_mvt(self.id, self.index, z, x, y, feature_ids=self.feature_ids,
                              attributes=self._attributes)
        rows = self.index.rows_in_tile(z, x, y)
        simplified = self.index.geometries_for_zoom(max(z - PNG_SIMPLIFY_ZOOM_OFFSET, 0))
        return render_png(simplified[rows], self.fill_rgba[rows], z, x, y,
                          line_rgba=self.style.line_rgba, line_width_px=self.style.line_width_px,
                          point_radius_px=self.style.point_radius_px)


# --- factories for the named layers -------------------------------------------------------------

UNITS_TILE_PROPERTIES = ["name", "kind", "district", "province", "population", "population_year",
                         "area_km2", "official_area_km2", "density_per_km2", "density_area_basis"]


def with_density_per_km2(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy with ``density_per_km2`` (người/km²) and ``density_area_basis`` for the choropleth.

    Density uses the official area when there is one, else the computed geodesic ``area_km2``
    (the same basis as the evaluation). Missing population or area leaves the density missing.
    """
    for column in ("population", "area_km2"):
        if column not in gdf.columns:
            raise MissingColumnError(f"Units have no {column!r} column; density cannot be shown.",
                                     hint="Read units with geo.io.read_units (it adds population and area_km2).",
                                     context={"missing": column})
    out = gdf.copy()
    official = out["official_area_km2"] if "official_area_km2" in out.columns else pd.Series(np.nan, index=out.index)
    official = pd.to_numeric(official, errors="coerce")
    use_official = official.notna() & (official > 0)
    area_km2 = official.where(use_official, pd.to_numeric(out["area_km2"], errors="coerce"))
    out["density_per_km2"] = density_per_km2(out["population"], area_km2).round(1)
    out["density_area_basis"] = np.where(use_official, "official", "computed")
    return out


def units_tile_source(gdf: gpd.GeoDataFrame, *, version: str, source_id: str = "units",
                      indicators: pd.DataFrame | None = None, attribution: str = "", cache: TileCache | None = None,
                      **kwargs: Any) -> GeoDataFrameTileSource:
    """Tiles of administrative units (a ``UnitSet.gdf``), styled by population density.

    Each unit carries ``density`` (= ``density_per_km2``, người/km²) and, when ``indicators``
    (one row per unit code, from ``layers.indicators``) is given, its zoning indicators.
    """
    data = with_density_per_km2(gdf)
    data["density"] = data["density_per_km2"]
    indicators = _without_attrs(indicators)
    indicator_columns = [] if indicators is None else [c for c in indicators.columns if c != "source"]
    for column in indicator_columns:
        data[column] = indicators[column].reindex(data.index)
    properties = [c for c in UNITS_TILE_PROPERTIES if c in data.columns] + ["density", *indicator_columns]
    id_column = "code" if ("code" in data.columns or data.index.name == "code") else None
    return GeoDataFrameTileSource(source_id, data, version=version, properties=properties, id_column=id_column,
                                  style=style_for("units"),
                                  attribution=attribution, cache=cache, **kwargs)


def _without_attrs(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """A shallow copy without ``attrs``: pandas deep-copies them into every column taken from the frame."""
    if frame is None or not frame.attrs:
        return frame
    plain = frame.copy(deep=False)
    plain.attrs = {}
    return plain


def new_units_tile_source(scenario_id: str, new_units: gpd.GeoDataFrame, *, version: str,
                          indicators: pd.DataFrame | None = None, **kwargs: Any) -> GeoDataFrameTileSource:
    """Tiles of an evaluation's new units (``Evaluation.new_units_gdf()``: ``id``, ``members``, figures).

    Only the polygonal part of each dissolved geometry is drawn (members touching at a corner can
    dissolve into a collection with a stray line or point); ``members`` becomes "code;code";
    ``indicators`` (one row per new-unit id) adds the zoning indicators.
    """
    from diagioi.geo.validity import polygonal_part

    data = new_units.set_geometry([polygonal_part(g) for g in new_units.geometry], crs=new_units.crs)
    data["new_unit_id"] = data["id"]
    data["members"] = [";".join(members) for members in data["members"]]
    if indicators is not None:
        indicators = _without_attrs(indicators)
        for column in indicators.columns:
            if column != "source":
                data[column] = indicators[column].reindex(data["id"]).to_numpy()
    return scenario_tile_source(scenario_id, data, version=version, **kwargs)


def scenario_tile_source(scenario_id: str, new_units: gpd.GeoDataFrame, *, version: str,
                         attribution: str = "", cache: TileCache | None = None,
                         **kwargs: Any) -> GeoDataFrameTileSource:
    """Tiles of a scenario's new units (dissolved geometry, one row per new unit).

    ``new_units`` needs a ``new_unit_id`` column (or index); each feature also gets a ``color``
    attribute so the web map and the PNG tiles use the same categorical colour.
    """
    source_id = f"scenario-{scenario_id}"
    data = new_units.copy()
    if "new_unit_id" not in data.columns:
        if data.index.name != "new_unit_id":
            raise MissingColumnError("New units have no 'new_unit_id' column.",
                                     hint="Give one row per new unit with its id in 'new_unit_id'.",
                                     context={"scenario_id": scenario_id})
        data = data.reset_index()
    data["new_unit_id"] = data["new_unit_id"].astype(str)
    style = style_for(source_id).with_categories(list(data["new_unit_id"]))
    data["color"] = [style.colour_for(v) for v in data["new_unit_id"]]
    return GeoDataFrameTileSource(source_id, data, version=version, style=style, attribution=attribution,
                                  cache=cache, **kwargs)


def zoning_tile_source(kind: str, features: gpd.GeoDataFrame, *, version: str, attribution: str = "",
                       cache: TileCache | None = None, **kwargs: Any) -> GeoDataFrameTileSource:
    """Tiles of a zoning layer: ``industrial_clusters``, ``tourism_sites`` or ``night_streets``."""
    style = style_for(kind)
    return GeoDataFrameTileSource(kind, features, version=version, style=style, attribution=attribution,
                                  cache=cache, **kwargs)


__all__ = ["GeoDataFrameTileSource", "TileData", "TileFormat", "TileSource", "mvt_value",
           "new_units_tile_source", "scenario_tile_source", "units_tile_source", "with_density_per_km2", "zoning_tile_source"]
