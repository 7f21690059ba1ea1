"""POST /api/analysis/polygon: figures of a polygon drawn on the map.

The route is public (reading the map needs no key), so its work is bounded: without the write
token a polygon may have at most ``anonymous_max_vertices`` vertices and ``anonymous_max_area_km2``
km² (with it: 20,000 vertices and ``max_polygon_area_km2``), and at most ``analysis_workers``
analyses run at once, in worker processes (:mod:`api.workers`) — the others wait for a turn
without holding a thread (503 after ``analysis_wait_s``), so cheap routes such as
``/api/health`` stay responsive under load.
"""
from __future__ import annotations

import asyncio

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from diagioi.geo.errors import OversizeInputError
from diagioi.geo.i18n import Message
from diagioi.layers.analysis import _count_positions

from ..auth import bearer_value
from ..body_guard import disconnected, replaying
from ..deps import LangDep, ServiceDep
from ..errors import ServerBusyError, error_response, responses, scope_language
from ..schemas import PolygonAnalysisRequest, PolygonAnalysisResult
from ..workers import submit_analysis

router = APIRouter(prefix="/api/analysis", tags=["analysis"])
ROUTE_PATH = "/api/analysis/polygon"
#: Bytes a vertex may take in an anonymous body ("[105.12345678901234, 21.12345678901234], " is ~45).
BYTES_PER_VERTEX = 64

#: Vertex limit for callers with the write token (the analysis module's own ceiling).
TOKEN_MAX_VERTICES = 20_000
_TOKEN_HINT = Message("hint.analysis_token")


def _has_write_token(request: Request, service) -> bool:
    presented = bearer_value(request.headers.get("authorization"))
    return presented is not None and service.check_token(presented)


def _slots(app: FastAPI, workers: int) -> anyio.CapacityLimiter:
    limiter = getattr(app.state, "analysis_slots", None)
    if limiter is None:
        limiter = app.state.analysis_slots = anyio.CapacityLimiter(workers)
    return limiter


@router.post("/polygon", summary="Analyse a drawn polygon", response_model=PolygonAnalysisResult,
             responses=responses(413, 422, 503))
async def analyse_drawn_polygon(payload: PolygonAnalysisRequest, request: Request,
                                service: ServiceDep, lang: LangDep) -> JSONResponse:
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
        too_many = Message("error.drawn_vertices", {"n": vertices, "max": max_vertices})
        raise OversizeInputError(
            too_many if trusted else Message("error.without_write_token", {"problem": too_many}),
            hint=Message("hint.simplify") if trusted else _TOKEN_HINT,
            context={"vertices": vertices, "max_vertices": max_vertices}, code="oversize_input")
    slots = _slots(request.app, settings.analysis_workers)
    try:
        with anyio.fail_after(settings.analysis_wait_s):
            await slots.acquire()
    except TimeoutError:
        raise ServerBusyError(Message("error.busy", {"seconds": settings.analysis_wait_s}), hint=Message("hint.retry"),
                              context={"analysis_workers": settings.analysis_workers}) from None
    try:
        result = await _run_analysis(service, geojson, max_area_km2, max_vertices, lang)
    except OversizeInputError as error:
        if not trusted and "km²" in error.message:
            raise OversizeInputError(Message("error.for_anonymous_caller", {"problem": error.detail_message
                                                                            or error.message}),
                                     hint=_TOKEN_HINT, context=error.context, code="oversize_input") from None
        raise
    finally:
        slots.release()
    return JSONResponse(result)


async def _run_analysis(service, geojson: dict, max_area_km2: float, max_vertices: int, lang: str = "vi") -> dict:
    future = submit_analysis(service, service.settings.analysis_workers, geojson, max_area_km2, max_vertices, lang)
    return await asyncio.wrap_future(future)


def anonymous_body_limit(settings) -> int:
    """Largest analysis body accepted without the write token, in bytes (vertex cap × 64 B + 4 KiB)."""
    return settings.anonymous_max_vertices * BYTES_PER_VERTEX + 4096


class AnonymousAnalysisBodyCap:
    """Pure ASGI middleware: an anonymous analysis body too large to hold ``anonymous_max_vertices``
    vertices is refused from its ``Content-Length`` (or as it streams in), before any parsing —
    parsing a 400 KB polygon costs the event loop more than answering it."""

    def __init__(self, app, service):
        self.app = app
        self.service = service

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") != ROUTE_PATH:
            await self.app(scope, receive, send)
            return
        headers = {name: value for name, value in scope.get("headers", [])}
        presented = bearer_value(headers.get(b"authorization", b"").decode("latin-1"))
        if presented is not None and self.service.check_token(presented):
            await self.app(scope, receive, send)
            return
        limit = anonymous_body_limit(self.service.settings)
        declared = headers.get(b"content-length")
        size = int(declared) if declared and declared.isdigit() else None
        chunks: list[bytes] = []
        if size is None:  # chunked: read up to the limit
            size = 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > limit or not message.get("more_body", False):
                    break
        if size > limit:
            vertices = self.service.settings.anonymous_max_vertices
            # code "error": what this refusal answered with before its text moved into the catalogue
            response = error_response(
                422, Message("error.drawn_body_size", {"size": size, "vertices": vertices, "limit": limit}),
                _TOKEN_HINT, {"size_bytes": size, "max_bytes": limit, "max_vertices": vertices},
                lang=scope_language(scope), code="error")
            await response(scope, disconnected, send)
            return
        if not chunks:
            await self.app(scope, receive, send)
            return
        await self.app(scope, replaying(b"".join(chunks), receive), send)
