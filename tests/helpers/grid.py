"""A 3×3 grid of 1 km squares in the VN-2000 TM-3 plane: a unit layer small enough to check by hand."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

TM3_105_45 = CRS.from_epsg(9210)  # VN-2000 / TM-3 105°45'
ORIGIN_E, ORIGIN_N = 500_000.0, 2_390_000.0  # near 105.75°E, 21.6°N


def grid_frame(crs=TM3_105_45, size_m: float = 1000.0) -> gpd.GeoDataFrame:
    """A 3×3 grid of 1 km squares in the TM-3 plane, reprojected into ``crs``::

        +-----+-----+-----+
        | 007 | 008 | 009 |   row 3 (north)
        +-----+-----+-----+
        | 004 | 005 | 006 |   005 is a ward in the middle
        +-----+-----+-----+
        | 001 | 002 | 003 |   row 1 (south)
        +-----+-----+-----+

    Codes are "00001".."00009"; population 1000 × code number; official area 1.0 km²
    except unit 00009 which has none.
    """
    rows = []
    for k in range(9):
        col, row = k % 3, k // 3
        x0, y0 = ORIGIN_E + col * size_m, ORIGIN_N + row * size_m
        rows.append({
            "code": f"{k + 1:05d}", "name": f"Ô {k + 1}", "kind": "phuong" if k == 4 else "xa",
            "district": "Huyện Mẫu", "province": "Tỉnh Mẫu", "population": 1000 * (k + 1),
            "area_km2_official": None if k == 8 else 1.0,
            "geometry": shapely.box(x0, y0, x0 + size_m, y0 + size_m),
        })
    frame = gpd.GeoDataFrame(rows, crs=TM3_105_45)
    if CRS.from_user_input(crs) != TM3_105_45:
        transformer = Transformer.from_crs(TM3_105_45, crs, always_xy=True)
        frame = frame.set_geometry(shapely.transform(
            shapely.segmentize(frame.geometry.values, 50.0),
            lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))), crs=crs)
    return frame


def grid_box(x0: float, y0: float, x1: float, y1: float):
    """A box in metres from the 3×3 grid's south-west corner (TM-3 plane), densified, in EPSG:4326."""
    box = shapely.segmentize(shapely.box(ORIGIN_E + x0, ORIGIN_N + y0, ORIGIN_E + x1, ORIGIN_N + y1), 50.0)
    transformer = Transformer.from_crs(TM3_105_45, "EPSG:4326", always_xy=True)
    return shapely.transform(box, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
