"""Geometries drawn in km offsets of a VN-2000-like TM-3 plane (105°30'), returned in lon/lat.

Shared by the indicator and analysis tests, whose expected figures are worked out in that plane.
"""
import numpy as np
import shapely
from pyproj import Transformer

TM3_BAC_NINH = "+proj=tmerc +lat_0=0 +lon_0=105.5 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs"
ORIGIN_X, ORIGIN_Y = 550_000.0, 2_330_000.0
_TO_LONLAT = Transformer.from_crs(TM3_BAC_NINH, 4326, always_xy=True)


def km(geometry):
    """A geometry drawn in km offsets of the TM-3 plane, returned in lon/lat."""
    return shapely.transform(geometry, lambda xy: np.column_stack(
        _TO_LONLAT.transform(ORIGIN_X + xy[:, 0] * 1000, ORIGIN_Y + xy[:, 1] * 1000)))
