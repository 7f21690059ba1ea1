"""Analysis of a polygon drawn on the map: area, population, density, units hit, indicators.

:func:`analyse_polygon` is what ``POST /api/analysis/polygon`` calls. It checks the input
before measuring anything (type, GeoJSON shape, lon/lat range, vertex count, validity,
area), each with a message that says what to fix, and returns plain JSON-ready data.
Areas are geodesic on WGS 84 (:mod:`geo.area`); population comes from
:func:`geo.population.estimate_population` and is always flagged as an estimate.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from diagioi.geo.area import geodesic_area_km2, geodesic_areas_km2
from diagioi.geo.crs import WGS84, to_lonlat
from diagioi.geo.errors import InputError, OversizeInputError
from diagioi.geo.i18n import LANGUAGES, Message, format_number, translate
from diagioi.geo.population import density_per_km2, estimate_population
from diagioi.geo.validity import polygonal_part

from .indicators import INDICATOR_FIELDS, MIN_PIECE_AREA_KM2, compute_indicators
from .models import LayerKind, geometry_from_geojson, refuse_crs_member, require_valid

#: The subject of the drawn polygon's errors ("the drawn area" / "vùng vẽ").
DRAWN_AREA = Message("layers.what.drawn_area")
_DRAWN_EXAMPLE = '{"type": "Polygon", "coordinates": [[[lon, lat], ...]]}'


#: Below this area a ~1 km population raster cannot resolve the polygon well.
SMALL_POLYGON_FOR_RASTER_KM2 = 5.0
#: Share of the polygon outside every unit that is worth a warning.
OUTSIDE_UNITS_WARN_FRACTION = 0.01


def polygon_from_geojson(geometry_geojson: Any, *, max_vertices: int = 20000):
    """Parse a drawn GeoJSON Polygon / MultiPolygon (bare geometry or Feature) into shapely.

    Raises :class:`~geo.errors.InputError` (not GeoJSON, wrong type),
    :class:`~geo.errors.UnknownCRSError` (outside lon/lat), :class:`~geo.errors.OversizeInputError`
    (too many vertices) or :class:`~geo.errors.InvalidGeometryError` (with the location).
    """
    if not isinstance(geometry_geojson, Mapping):
        raise InputError(Message("error.drawn_not_object", {"type": type(geometry_geojson).__name__}),
                         hint=Message("hint.layer_body_example", {"example": _DRAWN_EXAMPLE}), code="input")
    geojson_type = geometry_geojson.get("type")
    if geojson_type == "FeatureCollection":
        raise InputError(Message("error.drawn_collection"), hint=Message("hint.drawn_collection"), code="input")
    refuse_crs_member(geometry_geojson, what=DRAWN_AREA)
    if geojson_type == "Feature":
        if geometry_geojson.get("geometry") is None:
            raise InputError(Message("error.drawn_no_geometry"), hint=Message("hint.drawn_no_geometry"), code="input")
        geometry_geojson = geometry_geojson["geometry"]
        geojson_type = geometry_geojson.get("type") if isinstance(geometry_geojson, Mapping) else None
    if geojson_type not in ("Polygon", "MultiPolygon"):
        raise InputError(Message("error.drawn_not_polygon", {"type": str(geojson_type)}),
                         hint=Message("hint.drawn_not_polygon"), code="input")
    coordinates = geometry_geojson.get("coordinates")
    vertex_count = _count_positions(coordinates)
    if vertex_count > max_vertices:
        raise OversizeInputError(Message("error.drawn_vertices", {"n": vertex_count, "max": max_vertices}),
                                 hint=Message("hint.simplify"), context={"vertices": vertex_count,
                                                                         "max_vertices": max_vertices},
                                 code="oversize_input")
    polygon = geometry_from_geojson(geometry_geojson, what=DRAWN_AREA)
    require_valid(polygon, what=DRAWN_AREA)
    return polygon


def _count_positions(coordinates: Any) -> int:
    """Positions in nested GeoJSON coordinate lists, counted without building a geometry."""
    if not isinstance(coordinates, (list, tuple)):
        return 0
    if coordinates and all(isinstance(c, (int, float)) for c in coordinates):
        return 1
    return sum(_count_positions(c) for c in coordinates)


def _units_frame(units: Any) -> gpd.GeoDataFrame:
    frame = getattr(units, "gdf", units)  # a UnitSet or its GeoDataFrame
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError("units must be a UnitSet or a GeoDataFrame of units",
                         hint="load them with geo.io.read_units")
    return to_lonlat(frame, "units layer")


def _intersected_units(polygon, polygon_km2: float, units: gpd.GeoDataFrame) -> tuple[list[dict], float]:
    """Units the polygon covers, largest shared area first; and the km² covered by any unit."""
    geoms = units.geometry.to_numpy()
    rows = np.sort(shapely.STRtree(geoms).query(polygon, predicate="intersects"))
    if len(rows) == 0:
        return [], 0.0
    pieces = np.array([polygonal_part(p) for p in shapely.intersection(geoms[rows], polygon)], dtype=object)
    piece_km2 = geodesic_areas_km2(pieces)
    if "area_km2" in units.columns and not units["area_km2"].iloc[rows].isna().any():
        unit_km2 = units["area_km2"].to_numpy(dtype=float)[rows]
    else:
        unit_km2 = geodesic_areas_km2(geoms[rows])
    keep = piece_km2 > MIN_PIECE_AREA_KM2
    covered_km2 = geodesic_area_km2(shapely.union_all(pieces[keep])) if keep.any() else 0.0
    result = []
    for row, area_km2, whole_km2 in zip(rows[keep], piece_km2[keep], unit_km2[keep]):
        record = units.iloc[row]
        result.append({
            "code": str(record["code"]) if "code" in units.columns else str(units.index[row]),
            "name": record.get("name"),
            "kind": None if record.get("kind") is None else str(record.get("kind")),
            "share_of_unit_pct": float(min(area_km2 / whole_km2 * 100.0, 100.0)) if whole_km2 > 0 else None,
            "share_of_polygon_pct": float(area_km2 / polygon_km2 * 100.0),
            "area_km2": float(area_km2),
        })
    result.sort(key=lambda item: -item["area_km2"])
    return result, covered_km2


def analyse_polygon(geometry_geojson: Mapping[str, Any], *, units: Any, raster_path: str | Path | None = None,
                    layers: Mapping[LayerKind | str, gpd.GeoDataFrame] | None = None,
                    max_area_km2: float = 5000.0, max_vertices: int = 20000, lang: str = "vi") -> dict[str, Any]:
    """Analyse a drawn polygon against the units, a population raster and the zoning layers.

    Texts (population note and source, warnings) are in ``lang``; ``warning_messages`` and the
    population's ``source_message`` / ``note_message`` are their typed forms.

    Returns ``{"area_km2", "population": {value, method, source, is_estimate, note},
    "density", "units": [{code, name, kind, share_of_unit_pct, share_of_polygon_pct,
    area_km2}], "indicators": {field: value}, "warnings": [...]}``. ``density`` is people per
    km² (người/km²) of the geodesic area. ``population["value"]`` and ``density`` are None
    (with a warning) when neither a raster nor unit populations are available; ``indicators`` is
    empty when no layers are given.
    """
    polygon = polygon_from_geojson(geometry_geojson, max_vertices=max_vertices)
    area_km2 = geodesic_area_km2(polygon)
    if area_km2 > max_area_km2:
        raise OversizeInputError(
            Message("error.drawn_area", {"area": {lang: format_number(area_km2, 1, lang) for lang in LANGUAGES},
                                         "max": max_area_km2}),
            hint=Message("hint.drawn_area"), context={"area_km2": area_km2, "max_area_km2": max_area_km2},
            code="oversize_input")
    frame = _units_frame(units)
    warnings: list[Message] = []

    unit_rows, covered_km2 = _intersected_units(polygon, area_km2, frame)
    outside_km2 = max(area_km2 - covered_km2, 0.0)
    if area_km2 > 0 and outside_km2 / area_km2 > OUTSIDE_UNITS_WARN_FRACTION:
        warnings.append(Message("analysis.outside_units", {"outside_km2": round(outside_km2, 2),
                                                           "pct": round(100 * outside_km2 / area_km2)}))

    has_unit_population = "population" in frame.columns and frame["population"].notna().any()
    no_source = Message("analysis.no_population")
    population: dict[str, Any] = {"value": None, "method": None, "source": None, "is_estimate": True,
                                  "note": translate(no_source, lang), "raster_sum": None,
                                  "source_message": None, "note_message": no_source.to_dict()}
    density = None
    if raster_path is not None or has_unit_population:
        estimate = estimate_population(polygon, raster_path=raster_path,
                                       units=frame if has_unit_population else None)
        warnings.extend(estimate.warnings)
        population = {key: value for key, value in estimate.to_dict(lang).items()
                      if key not in ("warnings", "warning_messages")}
        density = density_per_km2(estimate.value, area_km2)
        if raster_path is not None and area_km2 < SMALL_POLYGON_FOR_RASTER_KM2:
            warnings.append(Message("analysis.small_area", {"area_km2": round(area_km2, 2)}))
    else:
        warnings.append(no_source)

    indicators: dict[str, Any] = {}
    if layers:
        drawn = gpd.GeoDataFrame({"area_km2": [area_km2]}, geometry=[polygon], crs=WGS84,
                                 index=["drawn"])
        table = compute_indicators(drawn, layers)
        row = table.iloc[0]
        indicators = {name: (int(row[name]) if INDICATOR_FIELDS[name].unit == "count" else float(row[name]))
                      for name in INDICATOR_FIELDS}
        message = table.attrs.get("source_message")
        indicators["source"] = translate(message, lang) if message is not None else row["source"]

    return {
        "area_km2": area_km2,
        "population": population,
        "density": density,
        "units": unit_rows,
        "indicators": indicators,
        "warnings": [translate(w, lang) for w in warnings],
        "warning_messages": [w.to_dict() for w in warnings],
    }
