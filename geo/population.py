"""Population estimates for arbitrary polygons (drawn areas, new units).

Three methods, and the result always names the one used and its source:

- ``raster_exact_coverage``: sum of a population-count raster (persons per cell) with each
  cell weighted by the fraction of it covered by the polygon (exactextract). Raw raster
  figures, e.g. WorldPop 2020, are *model estimates* and are not official population.
- ``raster_rescaled_to_units``: the raster gives only the distribution inside each unit:
  a unit's known population is split in proportion to the raster mass inside and outside
  the polygon, i.e. ``Σ_u population_u × R(polygon ∩ u) / R(u)``. This follows the
  guidance of the WorldPop section of ``shared/data/README.md`` (use the raster for the
  relative distribution, rescale to an official total where one exists). Parts of the
  polygon outside every unit, and units without population, keep the raw raster figure
  and a warning says so.
- ``area_weighted_units``: without a raster, each unit's population is shared in
  proportion to its geodesic area inside the polygon (uniform density inside a unit).

Coverage fractions are computed by exactextract in the raster's own grid (degrees for a
lon/lat raster); at 1 km cells this differs from an ellipsoidal fraction by far less than
the model error of the raster itself.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from exactextract import exact_extract
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from .area import geodesic_area_km2, geodesic_areas_km2
from .crs import from_wgs84, to_lonlat
from .errors import InputError, MissingColumnError, MissingCRSError
from .i18n import Message, translate
from .validity import polygonal_part

logger = logging.getLogger(__name__)

#: Share of a polygon that may fall on nodata / outside the raster before a warning (1 %).
MISSING_COVERAGE_WARN_FRACTION = 0.01

#: "Số liệu ước tính, không phải dân số chính thức" (from the language catalogue).
ESTIMATE_NOTE_VI = translate("population.note", "vi")



class PopulationMethod(StrEnum):
    raster_exact_coverage = "raster_exact_coverage"
    raster_rescaled_to_units = "raster_rescaled_to_units"
    area_weighted_units = "area_weighted_units"


@dataclass(frozen=True)
class PopulationEstimate:
    """An estimated number of people (người) inside a polygon, with how it was obtained."""

    value: float
    method: str
    source: Message                   # files and columns the figure comes from, in the reader's language
    is_estimate: bool = True
    note: Message = Message("population.note")
    raster_sum: float | None = None   # raw raster persons inside the polygon (raster methods)
    warnings: tuple[Message, ...] = field(default_factory=tuple)

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        """JSON-ready: ``{value, method, source, is_estimate, note, raster_sum, warnings}`` with texts in
        ``lang``, plus their typed forms ``source_message``, ``note_message`` and ``warning_messages``."""
        return {"value": self.value, "method": self.method, "source": translate(self.source, lang),
                "is_estimate": self.is_estimate, "note": translate(self.note, lang), "raster_sum": self.raster_sum,
                "warnings": [translate(w, lang) for w in self.warnings],
                "source_message": self.source.to_dict(), "note_message": self.note.to_dict(),
                "warning_messages": [w.to_dict() for w in self.warnings]}


# --------------------------------------------------------------------------- raster access

@dataclass(frozen=True)
class _RasterInfo:
    path: Path
    crs: CRS
    cell_area: float           # in the raster CRS units squared
    bounds: tuple[float, float, float, float]


def _open_raster(raster_path: str | Path) -> _RasterInfo:
    path = Path(raster_path)
    if not path.exists():
        raise InputError(f"population raster not found: {path}", hint="check the raster path",
                         context={"file": str(path)})
    try:
        with rasterio.open(path) as dataset:
            crs = dataset.crs
            transform = dataset.transform
            bounds = tuple(dataset.bounds)
            count = dataset.count
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"cannot read {path.name} as a raster: {exc}", hint="use a GeoTIFF of persons per cell",
                         context={"file": str(path)}) from exc
    if crs is None:
        raise MissingCRSError(f"population raster {path.name} has no CRS",
                              hint="write the raster with its CRS (WorldPop rasters are EPSG:4326)",
                              context={"file": str(path)})
    if count != 1:
        raise InputError(f"population raster {path.name} has {count} bands, expected 1 (persons per cell)",
                         hint="extract the population band into its own GeoTIFF", context={"file": str(path)})
    return _RasterInfo(path=path, crs=CRS.from_user_input(crs), cell_area=abs(transform.a * transform.e),
                       bounds=bounds)


def _to_raster_crs(geoms: np.ndarray, raster: _RasterInfo) -> np.ndarray:
    return from_wgs84(geoms, raster.crs)


def _raster_sums(geoms: np.ndarray, raster: _RasterInfo) -> tuple[np.ndarray, np.ndarray]:
    """Coverage-weighted raster sums and the fraction of each geometry on valid cells.

    ``geoms`` are EPSG:4326. The valid fraction is (Σ coverage of non-nodata cells × cell
    area) / (planar area in the raster CRS): below 1 when a polygon reaches nodata cells or
    leaves the raster.
    """
    n = len(geoms)
    sums, valid_cells = np.zeros(n), np.zeros(n)
    if n == 0:
        return sums, np.zeros(0)
    areal = np.array([polygonal_part(g) for g in geoms], dtype=object)
    in_raster_crs = _to_raster_crs(areal, raster)
    planar = shapely.area(in_raster_crs)
    rows = np.flatnonzero(planar > 0)  # empty pieces have nothing to sum
    if len(rows):
        frame = gpd.GeoDataFrame({"piece_row": rows}, geometry=list(in_raster_crs[rows]), crs=raster.crs)
        table = exact_extract(str(raster.path), frame, ["sum", "count"], include_cols=["piece_row"],
                              output="pandas")
        piece_row = table["piece_row"].astype(int).to_numpy()
        sums[piece_row] = table["sum"].fillna(0.0).to_numpy(dtype=float)
        valid_cells[piece_row] = table["count"].fillna(0.0).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        valid_fraction = np.where(planar > 0, np.minimum(valid_cells * raster.cell_area / planar, 1.0), 1.0)
    return sums, valid_fraction


def zonal_population(units_gdf: gpd.GeoDataFrame, raster_path: str | Path) -> pd.Series:
    """Raster persons per unit (coverage-weighted sums), indexed like ``units_gdf``.

    The series is named ``raster_population`` and carries ``attrs["source"]`` (file name)
    and ``attrs["valid_fraction"]`` (per unit share on valid cells, see :func:`_raster_sums`).
    """
    raster = _open_raster(raster_path)
    units_gdf = _require_wgs84(units_gdf)
    sums, valid_fraction = _raster_sums(units_gdf.geometry.to_numpy(), raster)
    series = pd.Series(sums, index=units_gdf.index.copy(), name="raster_population")
    series.attrs["source"] = raster.path.name
    series.attrs["valid_fraction"] = pd.Series(valid_fraction, index=units_gdf.index.copy())
    return series


# --------------------------------------------------------------------------- estimates

def _require_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return to_lonlat(gdf, "units layer", hint="units are EPSG:4326 (geo.io sets this on load)")


def _unit_pieces(polygon: BaseGeometry, units: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``units`` intersecting the polygon, and the intersection pieces."""
    geoms = units.geometry.to_numpy()
    rows = shapely.STRtree(geoms).query(polygon, predicate="intersects")
    rows = np.sort(rows)
    pieces = shapely.intersection(geoms[rows], polygon)
    return rows, pieces


def _unit_areas_km2(units: gpd.GeoDataFrame, rows: np.ndarray) -> np.ndarray:
    if "area_km2" in units.columns:
        areas = units["area_km2"].to_numpy(dtype=float)[rows]
        if not np.isnan(areas).any():
            return areas
    return geodesic_areas_km2(units.geometry.to_numpy()[rows])


def _units_label(units: gpd.GeoDataFrame) -> Message:
    if "population_year" in units.columns:
        years = sorted({int(y) for y in units["population_year"].dropna()})
        if years:  # years as text: 2024, not 2.024
            return Message("population.units_label_years", {"years": ", ".join(str(y) for y in years)})
    return Message("population.units_label")


def _require_population(units: gpd.GeoDataFrame) -> None:
    if "population" not in units.columns:
        raise MissingColumnError("units layer has no 'population' column",
                                 hint="load units with their population, or pass a population raster")


def _area_weighted(polygon: BaseGeometry, units: gpd.GeoDataFrame) -> PopulationEstimate:
    _require_population(units)
    rows, pieces = _unit_pieces(polygon, units)
    warnings: list[Message] = []
    piece_km2 = geodesic_areas_km2(pieces) if len(rows) else np.zeros(0)
    unit_km2 = _unit_areas_km2(units, rows)
    population = units["population"].to_numpy(dtype=float)[rows]
    missing = np.isnan(population) & (piece_km2 > 0)
    if missing.any():
        codes = [str(c) for c in units.index[rows[missing]]]
        warnings.append(Message("population.units_left_out", {"n": len(codes), "codes": ", ".join(codes[:10])}))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(unit_km2 > 0, np.minimum(piece_km2 / unit_km2, 1.0), 0.0)
    value = float(np.nansum(population * share))
    polygon_km2 = geodesic_area_km2(polygon)
    outside_km2 = polygon_km2 - float(geodesic_area_km2(shapely.union_all(pieces))) if len(rows) else polygon_km2
    if polygon_km2 > 0 and outside_km2 / polygon_km2 > MISSING_COVERAGE_WARN_FRACTION:
        warnings.append(Message("population.outside_units", {
            "outside_km2": round(outside_km2, 2), "pct": round(100 * outside_km2 / polygon_km2)}))
    return PopulationEstimate(
        value=value, method=PopulationMethod.area_weighted_units.value, source=_units_label(units),
        note=Message("population.note_area_weighted"), warnings=tuple(warnings))


def _raster_only(polygon: BaseGeometry, raster: _RasterInfo) -> PopulationEstimate:
    sums, valid_fraction = _raster_sums(np.array([polygon], dtype=object), raster)
    warnings = _coverage_warnings(valid_fraction[0])
    value = float(sums[0])
    return PopulationEstimate(
        value=value, method=PopulationMethod.raster_exact_coverage.value,
        source=Message("population.raster_label", {"file": raster.path.name}),
        note=Message("population.note_raster"), raster_sum=value, warnings=tuple(warnings))


def _coverage_warnings(valid_fraction: float) -> list[Message]:
    missing = 1.0 - valid_fraction
    if missing > MISSING_COVERAGE_WARN_FRACTION:
        return [Message("population.nodata", {"pct": round(100 * missing)})]
    return []


def _raster_rescaled(polygon: BaseGeometry, units: gpd.GeoDataFrame, raster: _RasterInfo) -> PopulationEstimate:
    _require_population(units)
    rows, pieces = _unit_pieces(polygon, units)
    unit_geoms = units.geometry.to_numpy()[rows]
    outside = shapely.difference(polygon, shapely.union_all(unit_geoms)) if len(rows) else polygon
    # One exactextract pass: pieces, whole units, the polygon itself, the part outside all units.
    geoms = np.concatenate([pieces, unit_geoms, np.array([polygon, outside], dtype=object)])
    sums, valid_fraction = _raster_sums(geoms, raster)
    n = len(rows)
    piece_raster, unit_raster = sums[:n], sums[n:2 * n]
    polygon_raster, outside_raster = float(sums[2 * n]), float(sums[2 * n + 1])
    population = units["population"].to_numpy(dtype=float)[rows]
    warnings = _coverage_warnings(valid_fraction[2 * n])
    can_rescale = ~np.isnan(population) & (unit_raster > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rescaled = np.where(can_rescale, population * piece_raster / unit_raster, piece_raster)
    if (~can_rescale & (piece_raster > 0)).any():
        codes = [str(c) for c in units.index[rows[~can_rescale & (piece_raster > 0)]]]
        warnings.append(Message("population.raw_raster_used", {"n": len(codes), "codes": ", ".join(codes[:10])}))
    value = float(rescaled.sum()) + outside_raster
    # Gaps between simplified unit outlines leave slivers outside every unit; warn only when
    # the outside part is a real share of the polygon.
    outside_part = polygonal_part(outside)
    outside_share = 0.0 if outside_part.is_empty else \
        geodesic_area_km2(outside_part) / max(geodesic_area_km2(polygon), 1e-12)
    if outside_share > MISSING_COVERAGE_WARN_FRACTION:
        warnings.append(Message("population.outside_added", {"pct": round(100 * outside_share),
                                                             "persons": round(outside_raster)}))
    return PopulationEstimate(
        value=value, method=PopulationMethod.raster_rescaled_to_units.value,
        source=Message("population.rescaled_label", {"file": raster.path.name, "units": _units_label(units)}),
        note=Message("population.note_rescaled"), raster_sum=polygon_raster, warnings=tuple(warnings))


def estimate_population(polygon: BaseGeometry, *, raster_path: str | Path | None = None,
                        units: gpd.GeoDataFrame | None = None, rescale_to_units: bool = True
                        ) -> PopulationEstimate:
    """Estimate the people (người) inside ``polygon`` (EPSG:4326).

    With ``raster_path`` alone: exact-coverage raster sum. With a raster and ``units``
    carrying ``population``: the raster distribution rescaled to the units' populations
    (set ``rescale_to_units=False`` for the raw raster sum). With ``units`` alone:
    area-weighted from the units' populations. Always ``is_estimate=True``.
    """
    if polygon is None or polygon.is_empty:
        raise InputError("cannot estimate population of an empty polygon", hint="pass a polygon with an area")
    if polygon.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(f"population is estimated for a Polygon or MultiPolygon, got {polygon.geom_type}",
                         hint="draw an area, not a line or a point")
    if units is not None:
        units = _require_wgs84(getattr(units, "gdf", units))
    if raster_path is not None:
        raster = _open_raster(raster_path)
        if units is not None and rescale_to_units and "population" in units.columns \
                and units["population"].notna().any():
            return _raster_rescaled(polygon, units, raster)
        return _raster_only(polygon, raster)
    if units is not None:
        return _area_weighted(polygon, units)
    raise InputError("no population source: pass raster_path or units with a population column",
                     hint="e.g. the WorldPop raster in shared/data, or the UnitSet of the area")


def density_per_km2(population, area_km2):
    """People per km² (người/km²): ``population / area_km2``, the one density of diagioi.

    Missing (None/NaN) when the population or the area is missing, or the area is not positive.
    Takes numbers, or pandas Series (one value per unit) for the whole-layer columns.
    """
    if isinstance(area_km2, pd.Series) or isinstance(population, pd.Series):
        area = pd.to_numeric(area_km2, errors="coerce")
        return pd.to_numeric(population, errors="coerce") / area.where(area > 0)
    if population is None or area_km2 is None or math.isnan(area_km2) or math.isnan(population) or area_km2 <= 0:
        return None
    return population / area_km2
