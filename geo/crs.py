"""Coordinate reference systems of Vietnamese boundary data.

Input layers come in WGS 84 (EPSG:4326), VN-2000 geographic (EPSG:4756), VN-2000 UTM 48N/49N
(EPSG:3405/3406) or a provincial VN-2000 TM-3 zone (EPSG:9205–9218, 5896–5899). Everything is
reprojected to EPSG:4326 on load; areas are then measured on the ellipsoid (geo.area), and on request
in the province's TM-3 plane.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

from .errors import MissingCRSError, UnknownCRSError
from .i18n import Message

WGS84 = CRS.from_epsg(4326)
VN2000_GEOGRAPHIC = CRS.from_epsg(4756)
VN2000_UTM = {48: CRS.from_epsg(3405), 49: CRS.from_epsg(3406)}

# Central meridian (degrees) → EPSG code of the VN-2000 TM-3 zone with that meridian.
TM3_ZONES: dict[float, int] = {
    103.0: 9205, 104.0: 9206, 104.5: 9207, 104.75: 9208, 105.0: 5897, 105.5: 9209, 105.75: 9210,
    106.0: 9211, 106.25: 9212, 106.5: 9213, 107.0: 9214, 107.25: 9215, 107.5: 9216, 107.75: 5899,
    108.0: 5898, 108.25: 9217, 108.5: 9218, 102.0: 5896,
}

def to_lonlat(frame, what: str = "layer", *, hint=None, context: dict | None = None):
    """``frame`` (a GeoDataFrame or GeoSeries) in WGS 84 lon/lat, the CRS every figure is measured from.

    A frame already in EPSG:4326 (either axis order) is returned as it is, one in another CRS is
    reprojected, and one without a CRS is refused (:class:`MissingCRSError` naming ``what``) unless it
    is empty: an empty layer has nothing to place.
    """
    if frame.crs is None:
        if len(frame) == 0:
            return frame
        raise MissingCRSError(Message("error.no_crs", {"what": what}), hint=hint or Message("hint.declare_crs"),
                              context=dict(context or {}), code="missing_crs")
    if frame.crs.equals(WGS84, ignore_axis_order=True):
        return frame
    return frame.to_crs(WGS84)


def require_crs(crs, *, source: str = "layer") -> CRS:
    """Return the CRS as a pyproj CRS, or raise MissingCRSError naming the source."""
    if crs is None:
        raise MissingCRSError(Message("error.missing_crs", {"layer": source}), hint=Message("hint.missing_crs"),
                              context={"file": source})
    try:
        return CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises CRSError with a long text; keep it as context
        raise UnknownCRSError(Message("error.crs_not_understood", {"source": source, "crs": repr(crs)}),
                              hint=Message("hint.epsg_code"), context={"file": source, "reason": str(exc)},
                              code="unknown_crs") from exc


@lru_cache(maxsize=64)
def _transformer(source_wkt: str, target_wkt: str) -> Transformer:
    # Building a Transformer costs milliseconds; reprojection happens on every edit.
    return Transformer.from_crs(CRS.from_wkt(source_wkt), CRS.from_wkt(target_wkt), always_xy=True)


def to_wgs84(geometries: np.ndarray, crs: CRS) -> np.ndarray:
    """Reproject an array of shapely geometries from ``crs`` to EPSG:4326 (lon/lat order)."""
    if crs.equals(WGS84, ignore_axis_order=True):
        return geometries
    transformer = _transformer(crs.to_wkt(), WGS84.to_wkt())
    return shapely.transform(geometries, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def from_wgs84(geometries: np.ndarray, crs: CRS) -> np.ndarray:
    """Reproject an array of shapely geometries from EPSG:4326 into ``crs``."""
    if crs.equals(WGS84, ignore_axis_order=True):
        return geometries
    transformer = _transformer(WGS84.to_wkt(), crs.to_wkt())
    return shapely.transform(geometries, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def tm3_crs_for(province: str | None = None, *, lon: float | None = None, post_2025: bool = False) -> CRS:
    """The VN-2000 TM-3 plane of a province (official table in geo.tm3), or of the zone nearest to a longitude."""
    return CRS.from_epsg(tm3_zone(province, lon=lon, post_2025=post_2025)[0])


def tm3_zone(province: str | None = None, *, lon: float | None = None, post_2025: bool = False) -> tuple[int, str]:
    """EPSG code of the province's TM-3 zone and how it was chosen (``plane_crs_basis``)."""
    from .tm3 import zone_for

    meridian, basis = zone_for(province, lon=lon, post_2025=post_2025)
    if meridian is not None:
        return TM3_ZONES[meridian], basis
    if lon is None:
        raise UnknownCRSError(f"no VN-2000 TM-3 zone known for province {province!r}",
                              hint="pass the plane explicitly, e.g. --plane-crs EPSG:9210")
    meridian = min(TM3_ZONES, key=lambda m: abs(m - lon))
    return TM3_ZONES[meridian], f"{basis}; dùng múi TM-3 gần nhất với kinh độ của đơn vị"


def local_equal_area_crs(bounds: tuple[float, float, float, float]) -> CRS:
    """A Lambert azimuthal equal-area plane centred on the data, for topology work in metres.

    Used for tolerances (snapping, slivers, adjacency buffers); figures reported to users are
    still measured geodesically by geo.area.
    """
    minx, miny, maxx, maxy = bounds
    # Rounded centre: nearby extents share one plane (and one cached transformer).
    lon0, lat0 = round((minx + maxx) / 2.0, 1), round((miny + maxy) / 2.0, 1)
    return _laea(lon0, lat0)


@lru_cache(maxsize=256)
def _laea(lon0: float, lat0: float) -> CRS:
    return CRS.from_proj4(f"+proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m +no_defs")
