"""Per-area indicators from the zoning layers (counts, areas, lengths, shares).

For every polygon of an *areas* frame — existing units indexed by ``code``, or new units
indexed by ``id`` — the zoning features are matched through an STRtree, intersected with
the area in lon/lat, and the pieces are measured geodesically by :mod:`geo.area`:

- a feature crossing two areas counts once in each, and its area / length is split;
- polygons (cluster outlines, tourism site outlines) count where the shared piece has a
  positive area (more than :data:`MIN_PIECE_AREA_KM2`), so an outline that only touches a
  boundary is not counted; lines count where the shared piece is longer than
  :data:`MIN_PIECE_LENGTH_KM`; points count in every area that contains them (on a shared
  boundary: in both);
- industrial clusters given as point markers (no outline, see :mod:`layers.models`) are
  counted but contribute no area; the ``source`` column (Vietnamese; ``attrs["source_message"]``
  for another language) says how many there were;
- the cluster area of an area is the area of the *union* of its pieces, so two
  overlapping outlines are not counted twice.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from diagioi.geo.area import geodesic_areas_km2, geodesic_lengths_km
from diagioi.geo.crs import to_lonlat
from diagioi.geo.errors import InputError
from diagioi.geo.exports import spreadsheet_text
from diagioi.geo.i18n import DEFAULT_LANGUAGE, Message, translate
from diagioi.geo.validity import polygonal_part

from .models import LayerKind, TourismRank


#: Pieces smaller than this (1 m²) are edge contacts or slivers, not shared territory.
MIN_PIECE_AREA_KM2 = 1e-6
#: Line pieces shorter than this (1 m) are crossings of a boundary, not a shared stretch.
MIN_PIECE_LENGTH_KM = 1e-3


@dataclass(frozen=True)
class IndicatorField:
    """Description of one indicator column (unit and labels for tables and legends)."""

    name: str
    unit: str
    label_vi: str
    label_en: str
    layer: LayerKind


INDICATOR_FIELDS: dict[str, IndicatorField] = {f.name: f for f in (
    IndicatorField("industrial_cluster_count", "count", "Số cụm công nghiệp", "Industrial clusters",
                   LayerKind.industrial_clusters),
    IndicatorField("industrial_cluster_area_km2", "km²", "Diện tích cụm công nghiệp", "Industrial cluster area",
                   LayerKind.industrial_clusters),
    IndicatorField("industrial_cluster_share_pct", "%", "Tỷ lệ diện tích cụm công nghiệp",
                   "Industrial cluster share of area", LayerKind.industrial_clusters),
    IndicatorField("tourism_site_count", "count", "Số điểm du lịch", "Tourism sites", LayerKind.tourism_sites),
    IndicatorField("tourism_site_count_national", "count", "Số điểm du lịch cấp quốc gia",
                   "National tourism sites", LayerKind.tourism_sites),
    IndicatorField("tourism_site_count_provincial", "count", "Số điểm du lịch cấp tỉnh",
                   "Provincial tourism sites", LayerKind.tourism_sites),
    IndicatorField("night_street_count", "count", "Số tuyến phố đêm", "Night streets", LayerKind.night_streets),
    IndicatorField("night_street_length_km", "km", "Chiều dài tuyến phố đêm", "Night street length",
                   LayerKind.night_streets),
)}

_COUNT_FIELDS = [name for name, f in INDICATOR_FIELDS.items() if f.unit == "count"]


def _require_wgs84(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    return to_lonlat(gdf, what, hint="set the CRS (EPSG:4326 for lon/lat) before computing")


def _pairs(tree: shapely.STRtree, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(feature index, area index) of every intersecting pair."""
    if len(geoms) == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    feature_idx, area_idx = tree.query(geoms, predicate="intersects")
    return feature_idx, area_idx


def _polygonal_pieces(area_geoms: np.ndarray, feature_geoms: np.ndarray, feature_idx: np.ndarray,
                      area_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersect polygon features with areas; keep pieces with a positive geodesic area."""
    pieces = shapely.intersection(feature_geoms[feature_idx], area_geoms[area_idx])
    # Intersections of polygons can include stray lines/points; only the areal part counts.
    pieces = np.array([polygonal_part(p) for p in pieces], dtype=object)
    piece_area = geodesic_areas_km2(pieces) if len(pieces) else np.zeros(0)
    keep = piece_area > MIN_PIECE_AREA_KM2
    return feature_idx[keep], area_idx[keep], pieces[keep]


def _union_area_by_area(area_idx: np.ndarray, pieces: np.ndarray, n_areas: int) -> np.ndarray:
    """Geodesic area per area of the union of its pieces (overlapping outlines count once)."""
    result = np.zeros(n_areas)
    if len(pieces) == 0:
        return result
    order = np.argsort(area_idx, kind="stable")
    sorted_idx = area_idx[order]
    boundaries = np.flatnonzero(np.diff(sorted_idx)) + 1
    groups = np.split(order, boundaries)
    merged = [pieces[g[0]] if len(g) == 1 else shapely.union_all(pieces[g]) for g in groups]
    result[sorted_idx[np.r_[0, boundaries]]] = geodesic_areas_km2(merged)
    return result


def _count_distinct(feature_idx: np.ndarray, area_idx: np.ndarray, n_areas: int,
                    mask: np.ndarray | None = None) -> np.ndarray:
    if mask is not None:
        feature_idx, area_idx = feature_idx[mask], area_idx[mask]
    if len(area_idx) == 0:
        return np.zeros(n_areas, dtype=int)
    unique_pairs = np.unique(np.column_stack([area_idx, feature_idx]), axis=0)
    return np.bincount(unique_pairs[:, 0], minlength=n_areas).astype(int)


def _split_by_type(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    geoms = gdf.geometry.to_numpy()
    types = shapely.get_type_id(geoms)
    # shapely type ids: 0 Point, 4 MultiPoint, 3 Polygon, 6 MultiPolygon, 1/5 lines.
    point_rows = np.flatnonzero(np.isin(types, (0, 4)))
    polygon_rows = np.flatnonzero(np.isin(types, (3, 6)))
    return point_rows, polygon_rows


def _layer_counts_and_areas(area_geoms: np.ndarray, tree: shapely.STRtree, layer: gpd.GeoDataFrame
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(area idx, feature row) of counted pairs, plus the union area of polygon pieces per area."""
    n_areas = len(area_geoms)
    geoms = layer.geometry.to_numpy()
    point_rows, polygon_rows = _split_by_type(layer)
    f_pt, a_pt = _pairs(tree, geoms[point_rows])
    f_pg, a_pg = _pairs(tree, geoms[polygon_rows])
    f_pg, a_pg, pieces = _polygonal_pieces(area_geoms, geoms[polygon_rows], f_pg, a_pg)
    feature_rows = np.concatenate([point_rows[f_pt], polygon_rows[f_pg]]).astype(int)
    area_rows = np.concatenate([a_pt, a_pg]).astype(int)
    return area_rows, feature_rows, _union_area_by_area(a_pg, pieces, n_areas)


def compute_indicators(areas: gpd.GeoDataFrame, layers: Mapping[LayerKind | str, gpd.GeoDataFrame]
                       ) -> pd.DataFrame:
    """Indicators of :data:`INDICATOR_FIELDS` for every polygon of ``areas``.

    ``areas``: GeoDataFrame (any CRS, reprojected to EPSG:4326) with an ``area_km2`` column
    (geodesic, used as the denominator of the share; computed when missing). ``layers``:
    frames from :func:`layers.models.features_to_gdf`; a missing layer gives zeros and the
    ``source`` note says it was not loaded. Returns a DataFrame indexed like ``areas``.
    """
    areas = _require_wgs84(areas, "areas layer")
    area_geoms = areas.geometry.to_numpy()
    n_areas = len(areas)
    if "area_km2" in areas.columns and not areas["area_km2"].isna().any():
        area_km2 = areas["area_km2"].to_numpy(dtype=float)
    else:
        area_km2 = geodesic_areas_km2(area_geoms)
    tree = shapely.STRtree(area_geoms)
    given = {LayerKind.parse(kind): frame for kind, frame in layers.items()}
    messages = []  # where the figures come from, typed (result.attrs["source_message"])
    result = pd.DataFrame(index=areas.index.copy())

    clusters = given.get(LayerKind.industrial_clusters)
    if clusters is not None:
        clusters = _require_wgs84(clusters, "industrial_clusters layer")
        area_rows, _features, cluster_area = _layer_counts_and_areas(
            area_geoms, tree, clusters)
        result["industrial_cluster_count"] = _count_distinct(_features, area_rows, n_areas)
        result["industrial_cluster_area_km2"] = cluster_area
        point_count = int(np.isin(shapely.get_type_id(clusters.geometry.to_numpy()), (0, 4)).sum())
        messages.append(_layer_message(LayerKind.industrial_clusters, len(clusters), point_count))
    else:
        result["industrial_cluster_count"] = 0
        result["industrial_cluster_area_km2"] = 0.0
        messages.append(_layer_message(LayerKind.industrial_clusters, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(area_km2 > 0, result["industrial_cluster_area_km2"].to_numpy() / area_km2 * 100.0, np.nan)
    result["industrial_cluster_share_pct"] = share

    sites = given.get(LayerKind.tourism_sites)
    if sites is not None:
        sites = _require_wgs84(sites, "tourism_sites layer")
        area_rows, feature_rows, _site_area = _layer_counts_and_areas(area_geoms, tree, sites)
        rank = (sites["rank"].where(sites["rank"].notna(), "").astype(str).to_numpy()
                if "rank" in sites else np.full(len(sites), "", dtype=object))
        result["tourism_site_count"] = _count_distinct(feature_rows, area_rows, n_areas)
        result["tourism_site_count_national"] = _count_distinct(
            feature_rows, area_rows, n_areas, mask=rank[feature_rows] == TourismRank.national.value)
        result["tourism_site_count_provincial"] = _count_distinct(
            feature_rows, area_rows, n_areas, mask=rank[feature_rows] == TourismRank.provincial.value)
        unranked = int((rank == "").sum())
        messages.append(Message("indicators.layer_unranked", {"layer": Message("zoning.tourism_sites"),
                                                              "n": len(sites), "unranked": unranked})
                        if unranked else _layer_message(LayerKind.tourism_sites, len(sites)))
    else:
        for name in ("tourism_site_count", "tourism_site_count_national", "tourism_site_count_provincial"):
            result[name] = 0
        messages.append(_layer_message(LayerKind.tourism_sites, None))

    streets = given.get(LayerKind.night_streets)
    if streets is not None:
        streets = _require_wgs84(streets, "night_streets layer")
        geoms = streets.geometry.to_numpy()
        feature_idx, area_idx = _pairs(tree, geoms)
        pieces = shapely.intersection(geoms[feature_idx], area_geoms[area_idx])
        piece_km = geodesic_lengths_km(_linear_part(p) for p in pieces) if len(pieces) else np.zeros(0)
        keep = piece_km > MIN_PIECE_LENGTH_KM
        result["night_street_count"] = _count_distinct(feature_idx[keep], area_idx[keep], n_areas)
        result["night_street_length_km"] = np.bincount(area_idx[keep], weights=piece_km[keep], minlength=n_areas)
        messages.append(_layer_message(LayerKind.night_streets, len(streets)))
    else:
        result["night_street_count"] = 0
        result["night_street_length_km"] = 0.0
        messages.append(_layer_message(LayerKind.night_streets, None))

    result = result[list(INDICATOR_FIELDS)]
    for name in _COUNT_FIELDS:
        result[name] = result[name].astype(int)
    # The provenance in the default language (CSV, /api/indicators); attrs["source_message"] for any other.
    result.attrs["source_message"] = Message("indicators.source", {"layers": messages})
    result["source"] = translate(result.attrs["source_message"], DEFAULT_LANGUAGE)
    return result


def new_unit_indicators(new_units: gpd.GeoDataFrame, layers: Mapping[LayerKind | str, gpd.GeoDataFrame]
                        ) -> pd.DataFrame:
    """Indicators per new unit of a scenario (``Evaluation.new_units_gdf()``), indexed by the new-unit id:
    the figures of ``GET /api/indicators?scenario=…``, the annex's zoning sheet and the HTML map's popups."""
    areas = new_units.set_index("id") if "id" in new_units.columns else new_units
    return compute_indicators(areas, layers)


def has_features(layers: Mapping[LayerKind | str, gpd.GeoDataFrame]) -> bool:
    """Whether any zoning layer holds a feature (else exports carry no zoning figures: all would be 0)."""
    return any(len(frame) for frame in layers.values())


def read_zoning_layers(folder: str | Path) -> dict[LayerKind, gpd.GeoDataFrame]:
    """The zoning layers of a folder written like the sample data (``<layer kind>.geojson``), validated as
    on upload (:func:`layers.models.read_layer_file`)."""
    from .models import features_to_gdf, read_layer_file

    layers = {}
    for kind in LayerKind:
        path = Path(folder) / f"{kind.value}.geojson"
        if path.exists():
            layers[kind] = features_to_gdf(read_layer_file(path, kind, allow_markers=True))
    return layers


def _layer_message(kind: LayerKind, n_features: int | None, n_points: int = 0) -> Message:
    layer = Message(f"zoning.{kind.value}")
    if n_features is None:
        return Message("indicators.layer_missing", {"layer": layer})
    if n_points:
        return Message("indicators.layer_points", {"layer": layer, "n": n_features, "points": n_points})
    return Message("indicators.layer_features", {"layer": layer, "n": n_features})


def _linear_part(geometry):
    if geometry.geom_type in ("LineString", "MultiLineString"):
        return geometry
    if geometry.geom_type == "GeometryCollection":
        lines = [g for g in geometry.geoms if g.geom_type in ("LineString", "MultiLineString")]
        return shapely.line_merge(shapely.union_all(lines)) if lines else shapely.LineString()
    return shapely.LineString()


def indicators_to_csv(indicators: pd.DataFrame, path_or_buffer: str | IO[str] | object) -> None:
    """Write indicators as CSV (UTF-8; with a BOM when written to a path, so Excel reads the Vietnamese).

    The index keeps its name (``code`` or ``id``); codes stay text, so leading zeros survive. Text that
    a spreadsheet would run as a formula is neutralised (:func:`geo.exports.spreadsheet_text`).
    Floats are written with 6 decimals (km² and km to the mm² / mm scale).
    """
    if not isinstance(indicators, pd.DataFrame):
        raise InputError("indicators must be the DataFrame returned by compute_indicators",
                         hint="call compute_indicators(areas, layers) first")
    frame = indicators.copy()
    if frame.index.name is None:
        frame.index.name = "code"
    frame.index = frame.index.astype(str).map(spreadsheet_text)
    for column in frame.columns:
        if pd.api.types.is_object_dtype(frame[column]) or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(spreadsheet_text)
    encoding = "utf-8-sig" if isinstance(path_or_buffer, (str, bytes)) or hasattr(path_or_buffer, "__fspath__") \
        else None
    frame.to_csv(path_or_buffer, float_format="%.6f", encoding=encoding, lineterminator="\n")
