"""A population GeoTIFF whose zonal sums per unit reproduce the units' populations."""
from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.transform import Affine

from diagioi.geo.area import geodesic_area_km2
from diagioi.geo.crs import WGS84
from diagioi.geo.errors import InputError

from .common import POPULATION_YEAR, RASTER_NODATA, SAMPLE_NOTICE, _rng


def _density_surface(lon: np.ndarray, lat: np.ndarray, bounds, rng: np.random.Generator) -> np.ndarray:
    """A smooth positive surface (relative weights) from a few Gaussian bumps over a base level."""
    minx, miny, maxx, maxy = bounds
    span = max(maxx - minx, maxy - miny)
    surface = np.full(lon.shape, 0.35)
    for _ in range(12):
        cx, cy = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        width = span * rng.uniform(0.04, 0.18)
        surface += rng.uniform(0.3, 1.5) * np.exp(-((lon - cx) ** 2 + (lat - cy) ** 2) / (2 * width ** 2))
    return surface


def build_population_raster(units: gpd.GeoDataFrame, path, *, resolution_deg: float = 1 / 120,
                            seed: int = 2025) -> Path:
    """Write a GeoTIFF (EPSG:4326, float32 persons per cell, nodata -99999) whose zonal sums per
    unit match ``units.population`` (coverage-weighted, as exactextract's ``sum``).

    Each unit's people are spread over its cells by a smooth density surface; a cell straddling a
    border receives people from each unit pro rata to its coverage. A few rounds of iterative
    proportional fitting then make the coverage-weighted zonal sums equal the populations.
    """
    from exactextract import exact_extract

    path = Path(path)
    if units.crs is None or not units.crs.equals(WGS84, ignore_axis_order=True):
        raise InputError("the population raster is built from units in EPSG:4326",
                         hint="pass the GeoDataFrame from build_region()/build_country() or reproject it")
    population = units["population"].to_numpy(dtype=float)
    minx, miny, maxx, maxy = units.total_bounds
    west = math.floor(minx / resolution_deg) * resolution_deg
    north = math.ceil(maxy / resolution_deg) * resolution_deg
    width = int(math.ceil((maxx - west) / resolution_deg))
    height = int(math.ceil((north - miny) / resolution_deg))
    transform = Affine(resolution_deg, 0.0, west, 0.0, -resolution_deg, north)

    col_centres = west + (np.arange(width) + 0.5) * resolution_deg
    row_centres = north - (np.arange(height) + 0.5) * resolution_deg
    lon, lat = np.meshgrid(col_centres, row_centres)
    # Cells shrink towards the pole: weight by each row's geodesic cell area (km²).
    row_area_km2 = np.array([geodesic_area_km2(shapely.box(west, lat_c - resolution_deg / 2,
                                                           west + resolution_deg, lat_c + resolution_deg / 2))
                             for lat_c in row_centres])
    weight = _density_surface(lon, lat, (minx, miny, maxx, maxy), _rng(seed, "raster")) * row_area_km2[:, None]

    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "float32",
               "crs": "EPSG:4326", "transform": transform, "nodata": RASTER_NODATA}
    with rasterio.MemoryFile() as memory:
        with memory.open(**{**profile, "dtype": "float64", "nodata": None}) as dataset:
            dataset.write(weight, 1)
        with memory.open() as dataset:
            coverage = exact_extract(dataset, units[["geometry"]].reset_index(drop=True),
                                     ["cell_id", "coverage"], output="pandas")
    unit_index = np.repeat(np.arange(len(units)), coverage["cell_id"].map(len).to_numpy())
    cell_id = np.concatenate(coverage["cell_id"].to_numpy()).astype(np.int64)
    fraction = np.concatenate(coverage["coverage"].to_numpy()).astype(float)
    # exactextract numbers cells over the raster in row-major order
    cell_weight = weight.ravel()[cell_id]

    # Start: each unit's people pro rata to coverage × density weight.
    share = fraction * cell_weight
    unit_total = np.bincount(unit_index, weights=share, minlength=len(units))
    values = np.bincount(cell_id, weights=share * (population / np.where(unit_total > 0, unit_total, 1))[unit_index],
                         minlength=width * height)
    covered = np.bincount(cell_id, weights=fraction, minlength=width * height)
    for _ in range(60):  # iterative proportional fitting of the coverage-weighted zonal sums
        zonal = np.bincount(unit_index, weights=fraction * values[cell_id], minlength=len(units))
        factor = np.where(zonal > 0, population / np.where(zonal > 0, zonal, 1), 1.0)
        cell_factor = np.bincount(cell_id, weights=fraction * factor[unit_index], minlength=width * height)
        values = values * np.where(covered > 0, cell_factor / np.where(covered > 0, covered, 1), 1.0)

    grid = np.where(covered > 0, values, RASTER_NODATA).reshape(height, width).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile, compress="deflate", predictor=3) as dataset:
        dataset.write(grid, 1)
        dataset.update_tags(DESCRIPTION=SAMPLE_NOTICE, UNITS="persons per cell", POPULATION_YEAR=str(POPULATION_YEAR))
    return path
