"""The deterministic, generated SAMPLE region of diagioi (not real geography).

Everything here is made up from a seeded random generator so that the first run needs no
download and so that tests and benchmarks have data with exact shared borders:

* :func:`build_region` — "Tỉnh Mẫu (dữ liệu mẫu)", 20–40 wards/communes: a city of small dense
  wards, lowland communes around it and larger, sparsely populated mountainous communes.
* :func:`build_country` — the same generator at scale (10,000 units by default), grouped into
  provinces of about 150 units and districts of about 15.
* :func:`build_population_raster`, :func:`build_zoning`, :func:`example_scenario` — a population
  GeoTIFF, zoning features of each kind and a merger scenario for the region.
* :func:`write_demo` / :func:`demo_dir` — the files on disk (cached under ``$DIAGIOI_HOME``).

How the units are drawn: seed points on a jittered hexagonal lattice inside a smooth outline
(the "lattice space", where every unit has the same area), then radial maps that shrink the
city (dense wards) and stretch mountain zones (large communes). The Voronoi edges of the seeds
are noded once with the outline and polygonized, so neighbouring units are built from the very
same vertices; every later step (a smooth "wiggle" that makes borders look hand-drawn, the
projection from VN-2000 / UTM 48N to EPSG:4326, rounding) is a function of the coordinate alone,
so shared borders stay exactly shared.
"""
from __future__ import annotations

from .common import DEMO_VERSION
from .files import DemoPaths, demo_dir, file_digest, write_demo
from .raster import build_population_raster
from .scenario import example_scenario
from .units import build_country, build_region
from .zoning import build_zoning

__all__ = [
    "DEMO_VERSION",
    "DemoPaths",
    "build_country",
    "build_population_raster",
    "build_region",
    "build_zoning",
    "demo_dir",
    "example_scenario",
    "file_digest",
    "write_demo",
]
