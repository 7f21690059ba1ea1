"""Boxes drawn in metres of the TM-3 plane of the 3×3 test grid (tests/conftest.py), returned in lon/lat."""
import numpy as np
import shapely
from pyproj import Transformer

from conftest import ORIGIN_E, ORIGIN_N, TM3_105_45 as TM3

_TO_LONLAT = Transformer.from_crs(TM3, 4326, always_xy=True)


def plane_box(x0, y0, x1, y1):
    """A box given in metres from the grid's south-west corner, densified and returned in EPSG:4326."""
    box = shapely.segmentize(shapely.box(ORIGIN_E + x0, ORIGIN_N + y0, ORIGIN_E + x1, ORIGIN_N + y1), 50.0)
    return shapely.transform(box, lambda xy: np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1])))
