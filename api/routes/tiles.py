"""Map tiles: TileJSON 3.0 and {z}/{x}/{y}.mvt|.png for units, scenarios and zoning layers.

Tile URLs in the TileJSON carry the layer's data version (``?v=<version>``): after an edit
the TileJSON names new URLs, and a request naming the current version may be cached for a
long time. Requests without (or with an old) version are answered with the current data and
``no-cache`` plus an ETag, so a client revalidates cheaply (304).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from diagioi.layers.sources import TileFormat

from ..deps import ServiceDep, store_versions
from ..errors import responses
from ..schemas import TileJSON

router = APIRouter(prefix="/api/tiles", tags=["tiles"])

_LAYER_DESCRIPTION = "units, scenario-{id}, industrial_clusters, tourism_sites or night_streets"


@router.get("/{layer_id}.json", summary="TileJSON 3.0 of a layer", response_model=TileJSON,
            responses=responses(404))
def read_tilejson(
    layer_id: str, request: Request, service: ServiceDep,
    format: Annotated[TileFormat, Query(description="Tile format named in the URLs: mvt (default) or png")]
    = TileFormat.mvt,
) -> dict:
    """TileJSON with versioned tile URLs (absolute with --public-url, else relative to the server root),
    bounds, fields of the vector layer and the legend."""
    source = service.tile_source(layer_id, store_versions(request))
    template = f"{_base_url(request, service)}/api/tiles/{layer_id}/{{z}}/{{x}}/{{y}}.{format.value}?v={{version}}"
    return source.tilejson(template)


def _base_url(request: Request, service) -> str:
    """Where the API is, from configuration only — never from the request's Host header.

    ``--public-url`` (DIAGIOI_PUBLIC_URL) gives absolute URLs; without it they are relative to the
    server root (``/api/tiles/…``, under the ASGI root_path when one is configured).
    """
    if service.settings.public_url:
        return service.settings.public_url
    return str(request.scope.get("root_path") or "").rstrip("/")


@router.get("/{layer_id}/{z}/{x}/{y}.{fmt}", summary="One map tile (Mapbox Vector Tile or PNG)",
            response_class=Response,
            responses={**responses(404, 422), 304: {"description": "Not modified (If-None-Match matched the ETag)"},
                       200: {"description": "The tile",
                             "content": {"application/vnd.mapbox-vector-tile": {"schema": {"type": "string",
                                                                                             "format": "binary"}},
                                         "image/png": {"schema": {"type": "string", "format": "binary"}}}}})
def read_tile(
    layer_id: str, z: int, x: int, y: int, fmt: TileFormat, service: ServiceDep, request: Request,
    v: Annotated[str | None, Query(description="Data version from the TileJSON (cache busting)")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    accept_encoding: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Tile ``z/x/y`` (XYZ, Web Mercator) of ``layer_id`` (one of: units, scenario-{id}, zoning layer ids)."""
    # A plain function: FastAPI runs it in one worker thread (the most frequent request: one hop, not three).
    source = service.tile_source(layer_id, store_versions(request))
    if v is not None and v == source.version:
        cache_control = f"public, max-age={service.settings.tile_max_age_s}, immutable"
    else:
        cache_control = "no-cache"
    etag = source.etag(z, x, y, fmt.value)
    headers = {"ETag": etag, "Cache-Control": cache_control, "X-Data-Version": source.version,
               "Access-Control-Allow-Origin": "*"}
    if if_none_match is not None and _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    tile = source.tile(z, x, y, fmt.value)
    headers["ETag"] = tile.etag
    if tile.content_gzip is not None and _accepts_gzip(accept_encoding):
        # Compressed once when rendered; GZipMiddleware leaves a response with Content-Encoding alone
        # (and adds Vary: Accept-Encoding to the plain one).
        headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        return Response(tile.content_gzip, media_type=tile.media_type, headers=headers)
    return Response(tile.content, media_type=tile.media_type, headers=headers)


def _accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding names gzip: the test GZipMiddleware applies to the other responses."""
    return "gzip" in (accept_encoding or "").lower()


def _etag_matches(if_none_match: str, etag: str) -> bool:
    candidates = [part.strip() for part in if_none_match.split(",")]
    bare = etag.removeprefix("W/")
    return "*" in candidates or any(candidate.removeprefix("W/") == bare for candidate in candidates)
