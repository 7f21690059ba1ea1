"""POST /api/analysis/polygon: figures of a polygon drawn on the map.

The route is public (reading the map needs no key), so its work is bounded: without the write
token a polygon may have at most ``anonymous_max_vertices`` vertices and ``anonymous_max_area_km2``
km² (with it: 20,000 vertices and ``max_polygon_area_km2``), and at most ``analysis_workers``
analyses run at once — the others wait for a turn without holding a thread (503 after
``analysis_wait_s``), so cheap routes such as ``/api/health`` stay responsive under load.
"""
from __future__ import annotations

from functools import partial

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from diagioi.geo.errors import OversizeInputError
from diagioi.layers.analysis import _count_positions, analyse_polygon

from ..deps import ServiceDep
from ..errors import ServerBusyError, responses
from ..schemas import PolygonAnalysisRequest, PolygonAnalysisResult

router = APIRouter(prefix="/api/analysis", tags=["analysis"])

#: Vertex limit for callers with the write token (the analysis module's own ceiling).
TOKEN_MAX_VERTICES = 20_000
_TOKEN_HINT = "send the write token (Authorization: Bearer …) to analyse larger polygons, or simplify the outline"


def _has_write_token(request: Request, service) -> bool:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(credentials.strip()) and service.check_token(credentials.strip())


def _slots(app: FastAPI, workers: int) -> anyio.CapacityLimiter:
    limiter = getattr(app.state, "analysis_slots", None)
    if limiter is None:
        limiter = app.state.analysis_slots = anyio.CapacityLimiter(workers)
    return limiter


@router.post("/polygon", summary="Analyse a drawn polygon", response_model=PolygonAnalysisResult,
             responses=responses(413, 422, 503))
async def analyse_drawn_polygon(payload: PolygonAnalysisRequest, request: Request,
                                service: ServiceDep) -> JSONResponse:
    """Geodesic area (km²), estimated population (người), density (người/km²), units intersected and
    zoning indicators. A self-intersecting polygon, or one over the vertex or area limit → 422."""
    settings = service.settings
    trusted = _has_write_token(request, service)
    max_vertices = TOKEN_MAX_VERTICES if trusted else settings.anonymous_max_vertices
    max_area_km2 = settings.max_polygon_area_km2 if trusted else min(settings.anonymous_max_area_km2,
                                                                     settings.max_polygon_area_km2)
    geojson = payload.model_dump(mode="json", exclude_none=True)
    coordinates = (geojson.get("geometry") or {}).get("coordinates") if geojson.get("type") == "Feature" \
        else geojson.get("coordinates")
    vertices = _count_positions(coordinates)
    if vertices > max_vertices:  # refused before waiting for a slot
        raise OversizeInputError(
            f"the drawn area has {vertices:,} vertices, more than the limit of {max_vertices:,}"
            + ("" if trusted else " without the write token"),
            hint="simplify the outline before sending it" if trusted else _TOKEN_HINT,
            context={"vertices": vertices, "max_vertices": max_vertices})
    slots = _slots(request.app, settings.analysis_workers)
    try:
        with anyio.fail_after(settings.analysis_wait_s):
            await slots.acquire()
    except TimeoutError:
        raise ServerBusyError(
            f"the server is busy with other polygon analyses (waited {settings.analysis_wait_s:g} s for a turn)",
            hint="try again in a few seconds", context={"analysis_workers": settings.analysis_workers}) from None
    try:
        result = await anyio.to_thread.run_sync(partial(_analyse, service, geojson, max_area_km2, max_vertices))
    except OversizeInputError as error:
        if not trusted and "km²" in error.message:
            raise OversizeInputError(error.message + " for a caller without the write token", hint=_TOKEN_HINT,
                                     context=error.context) from None
        raise
    finally:
        slots.release()
    return JSONResponse(result)


def _analyse(service, geojson: dict, max_area_km2: float, max_vertices: int) -> dict:
    frames, _versions = service.layer_frames()
    return analyse_polygon(geojson, units=service.units, raster_path=service.raster_path, layers=frames,
                           max_area_km2=max_area_km2, max_vertices=max_vertices)
