"""Polygon analyses run in worker processes, so CPU-heavy geometry and raster work never holds the
server's GIL: a thread doing it would make every other request wait for the interpreter (cheap
routes such as ``/api/health`` went from ~0.1 s to several seconds under 8 abusive clients).

One pool per process, shared by the apps in it, keyed by the units dataset: the units go to each
worker once (at start-up), the zoning layers (small, and edited) with every request.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd

_lock = threading.Lock()
_pool: tuple[tuple, ProcessPoolExecutor] | None = None

# In a worker process: the units of the dataset it serves.
_worker_units: gpd.GeoDataFrame | None = None
_worker_raster: Path | None = None


#: Workers run at a lower CPU priority than the server, so its cheap routes come first.
WORKER_NICENESS = 10


def _init_worker(units: gpd.GeoDataFrame, raster_path: Path | None) -> None:
    global _worker_units, _worker_raster
    _worker_units, _worker_raster = units, raster_path
    try:
        os.nice(WORKER_NICENESS)
    except (AttributeError, OSError):  # not on this platform / not permitted: same priority
        pass


def _analyse_in_worker(geojson: dict, layers: dict, max_area_km2: float, max_vertices: int,
                       lang: str = "vi") -> dict:
    from diagioi.layers.analysis import analyse_polygon

    return analyse_polygon(geojson, units=_worker_units, raster_path=_worker_raster, layers=layers,
                           max_area_km2=max_area_km2, max_vertices=max_vertices, lang=lang)


def analysis_pool(service, workers: int) -> ProcessPoolExecutor:
    """The pool for the service's current units (a new one when the dataset changed)."""
    global _pool
    context = service.context  # the same units and raster as the scenario evaluations
    key = (context.units.version, str(context.raster_path), workers)
    with _lock:
        if _pool is not None and _pool[0] == key:
            return _pool[1]
        if _pool is not None:
            _pool[1].shutdown(wait=False, cancel_futures=True)
        executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_init_worker, initargs=(context.units.gdf, context.raster_path))
        _pool = (key, executor)
        return executor


def submit_analysis(service, workers: int, geojson: dict, max_area_km2: float, max_vertices: int,
                    lang: str = "vi") -> Any:
    """Start one analysis in the pool; returns a ``concurrent.futures.Future`` of the result dict."""
    frames, _versions = service.layer_frames()
    return analysis_pool(service, workers).submit(_analyse_in_worker, geojson, frames, max_area_km2, max_vertices,
                                                  lang)


# Suggested plans (gợi ý phương án) run in the same pool: the solver is pure CPU for up to
# ``time_limit_s`` and would otherwise hold the server's interpreter for that long.
_worker_unit_set = None


def _suggest_in_worker(version: str, attributes: dict, scope_codes: list[str], regime: str, options: dict) -> dict:
    from diagioi.geo.standards import RuleSet
    from diagioi.geo.suggest import suggest_plans
    from diagioi.geo.units import UnitSet

    global _worker_unit_set
    if _worker_unit_set is None or _worker_unit_set.gdf is not _worker_units:
        # The same unit set as the server's: its attributes say e.g. which region-flag columns the layer has.
        _worker_unit_set = UnitSet(_worker_units, **attributes)
    if _worker_unit_set.version != version:  # the pool is keyed by dataset, so this is a bug, not an input
        raise RuntimeError(f"the worker holds dataset {_worker_unit_set.version}, not {version}")
    return suggest_plans(_worker_unit_set, scope_codes, RuleSet.load(regime), **options)


def submit_suggest(service, workers: int, scope_codes: list[str], regime: str, options: dict) -> Any:
    """Start one ``geo.suggest.suggest_plans`` run on the service's current units in the pool; returns a
    ``concurrent.futures.Future`` of its ``{"scenarios", "report"}``."""
    units = service.context.units
    attributes = {"source": units.source, "field_mapping": dict(units.field_mapping), "source_crs": units.source_crs,
                  "level": units.level, "level_reason": units.level_reason}
    return analysis_pool(service, workers).submit(_suggest_in_worker, units.version, attributes, list(scope_codes),
                                                  regime, options)
