"""The only place where areas and lengths are measured.

Computed figures are geodesic on the WGS 84 ellipsoid (pyproj ``Geod``, Karney's
algorithm), from geometries in geographic coordinates (EPSG:4326). On request the area
can also be taken in a VN-2000 plane (TM-3 zone of the province, see :mod:`geo.crs`).
No code path measures in degrees or in Web Mercator: :func:`require_geographic` refuses
projected input, and tests feed Web-Mercator geometries to prove it.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer

from .crs import WGS84
from .errors import UnknownCRSError

WGS84_GEOD = Geod(ellps="WGS84")
M2_PER_KM2 = 1_000_000.0


def require_geographic(crs: CRS | str | int | None) -> None:
    """Refuse to measure geometries whose coordinates are not WGS 84 lon/lat."""
    if crs is None:
        return  # callers pass None for geometries they already hold in EPSG:4326
    crs = CRS.from_user_input(crs)
    if not crs.equals(WGS84, ignore_axis_order=True):
        raise UnknownCRSError(
            f"areas are measured on WGS 84 lon/lat, got {crs.to_string()}",
            hint="reproject to EPSG:4326 first (geo.io does this on load)",
        )


def _check_lonlat_range(geoms: np.ndarray) -> None:
    bounds = shapely.bounds(geoms)
    if bounds.size and np.nanmax(np.abs(bounds[:, [0, 2]])) > 180.0 + 1e-9 or (
        bounds.size and np.nanmax(np.abs(bounds[:, [1, 3]])) > 90.0 + 1e-9
    ):
        raise UnknownCRSError(
            "coordinates are outside lon/lat range: these are projected metres, not degrees",
            hint="declare the layer's real CRS (e.g. EPSG:3405, EPSG:9210) so it can be reprojected",
        )


def geodesic_area_m2(geometry) -> float:
    """Geodesic area in m² of one (multi)polygon in lon/lat; 0 for non-areal geometry."""
    if geometry is None or geometry.is_empty:
        return 0.0
    # pyproj sums signed ring areas, so rings must be oriented (exterior CCW, holes CW);
    # files in the wild often have holes wound like their exterior.
    area, _perimeter = WGS84_GEOD.geometry_area_perimeter(shapely.orient_polygons(geometry))
    return abs(area)


def geodesic_area_km2(geometry, crs=None) -> float:
    """Geodesic area in km² of one polygon in EPSG:4326."""
    require_geographic(crs)
    _check_lonlat_range(np.asarray([geometry], dtype=object))
    return geodesic_area_m2(geometry) / M2_PER_KM2


def geodesic_areas_km2(geometries: Iterable, crs=None) -> np.ndarray:
    """Geodesic areas in km² for many polygons in EPSG:4326 (one float per geometry)."""
    require_geographic(crs)
    geoms = np.asarray(list(geometries), dtype=object)
    if geoms.size == 0:
        return np.zeros(0)
    _check_lonlat_range(geoms)
    return np.fromiter((geodesic_area_m2(g) for g in geoms), dtype=float, count=len(geoms)) / M2_PER_KM2


def geodesic_length_km(geometry, crs=None) -> float:
    """Geodesic length in km of a line (or a polygon's boundary) in EPSG:4326."""
    require_geographic(crs)
    if geometry is None or geometry.is_empty:
        return 0.0
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        geometry = geometry.boundary
    return WGS84_GEOD.geometry_length(geometry) / 1000.0


def geodesic_lengths_km(geometries: Iterable, crs=None) -> np.ndarray:
    """Geodesic lengths in km of many lines in EPSG:4326."""
    require_geographic(crs)
    return np.array([geodesic_length_km(g) for g in geometries], dtype=float)


def plane_areas_km2(geometries: Iterable, plane_crs: CRS | str | int) -> np.ndarray:
    """Areas in km² in a projected plane (VN-2000 TM-3 on request), from EPSG:4326 input."""
    plane = CRS.from_user_input(plane_crs)
    if not plane.is_projected:
        raise UnknownCRSError(f"{plane.to_string()} is not a projected CRS", hint="pick a VN-2000 TM-3 zone")
    if plane.to_epsg() in (3857, 900913, 3395):
        raise UnknownCRSError("Web Mercator distorts area; it is never used for measurement",
                              hint="pick a VN-2000 TM-3 zone or UTM")
    transformer = Transformer.from_crs(WGS84, plane, always_xy=True)
    geoms = np.asarray(list(geometries), dtype=object)
    projected = shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    return shapely.area(projected) / M2_PER_KM2
