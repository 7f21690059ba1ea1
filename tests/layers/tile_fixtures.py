"""A tiny unit layer for tile tests: a 3×3 coverage of jagged cells around 105.78°E 21.60°N."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

WEST, SOUTH, CELL_DEG = 105.77, 21.58, 0.01
#: Population per cell; official area is 1.0 km² for every cell, so density (người/km²) = population.
POPULATIONS = [50, 200, 400, 800, 1500, 3000, 8000, 20000, 120]


def _corner(i: int, j: int) -> tuple[float, float]:
    return (WEST + i * CELL_DEG, SOUTH + j * CELL_DEG)


def _edge(a: tuple[int, int], b: tuple[int, int]) -> list[tuple[float, float]]:
    """Points from corner ``a`` to corner ``b`` (exclusive of ``b``), with a few metres of jitter.

    The jitter depends only on the edge, so the two cells sharing it get identical vertices
    (a valid coverage), and simplification has something to remove.
    """
    forward = a <= b
    start, end = (a, b) if forward else (b, a)
    (x0, y0), (x1, y1) = _corner(*start), _corner(*end)
    n_steps = 40
    rng = np.random.default_rng(hash((start, end)) % 2**32)
    points = []
    for step in range(n_steps):
        t = step / n_steps
        jitter_deg = 0.0 if step == 0 else rng.uniform(-6e-5, 6e-5)  # about ±6 m
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy)
        points.append((x0 + t * dx - dy / length * jitter_deg, y0 + t * dy + dx / length * jitter_deg))
    points.append((x1, y1))
    if not forward:
        points.reverse()
    return points[:-1]


def jagged_grid() -> gpd.GeoDataFrame:
    """Nine cells, codes "00001".."00009" numbered from the south-west corner, row by row::

        007 008 009
        004 005 006
        001 002 003
    """
    rows = []
    for k in range(9):
        i, j = k % 3, k // 3
        ring = (_edge((i, j), (i + 1, j)) + _edge((i + 1, j), (i + 1, j + 1))
                + _edge((i + 1, j + 1), (i, j + 1)) + _edge((i, j + 1), (i, j)))
        rows.append({"code": f"{k + 1:05d}", "name": f"Ô {k + 1}", "kind": "phuong" if k == 4 else "xa",
                     "population": float(POPULATIONS[k]), "official_area_km2": 1.0,
                     "area_km2": 1.1, "mountainous": k % 2 == 0,
                     "geometry": shapely.Polygon(ring)})
    return gpd.GeoDataFrame(rows, crs="EPSG:4326").set_index("code", drop=False)


def lnglat_to_tile_pixel(lng: float, lat: float, z: int, x: int, y: int, extent: int) -> tuple[float, float]:
    """Closed-form Web Mercator position of a point inside tile z/x/y, y down, in ``extent`` units."""
    n = 2 ** z
    world_x = (lng + 180.0) / 360.0 * n
    lat_rad = math.radians(lat)
    world_y = (1.0 - math.log(math.tan(lat_rad) + 1.0 / math.cos(lat_rad)) / math.pi) / 2.0 * n
    return ((world_x - x) * extent, (world_y - y) * extent)
