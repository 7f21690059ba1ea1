"""``create_app(settings) -> FastAPI``: routers, error handlers, size limit and the static web app."""
from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from diagioi.layers.sources import GZIP_MIN_BYTES

from .body_guard import JsonBodyGuard
from .errors import add_exception_handlers
from .middleware import BodySizeLimitMiddleware, HostCheckMiddleware, WriteAuthMiddleware
from .routes import (analysis, datasets, exports, flags, health, indicators, layers, outlines, scenarios, suggest,
                     tiles, units)
from .service import Service
from .settings import Settings
from .store import Store

logger = logging.getLogger(__name__)

_PLACEHOLDER = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>diagioi</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>diagioi</h1>
<p>The API is running. The browser app (<code>web/index.html</code>) is not installed here.</p>
<p>API documentation: <a href="/docs">/docs</a> · <a href="/openapi.json">/openapi.json</a> ·
status: <a href="/api/health">/api/health</a></p>
</body></html>
"""

_DESCRIPTION = """Planning tool for merging Vietnamese wards (phường) and communes (xã).

Reads are open. Writes need `Authorization: Bearer <token>` (the token in the login URL printed by
`diagioi serve`, kept in `<data dir>/token`, or `DIAGIOI_TOKEN`); no route hands it out. Every error is JSON: `{"detail", "hint", "context"}`; a stale write gets
409 with `current_version`. Areas are geodesic (km²), population in người, density in người/km².
"""


def _operation_id(route: APIRoute) -> str:
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """Build the service: load the units, open the store, mount the API and the web app."""
    settings = settings or Settings()
    service = Service(settings, store=store)
    # /docs is served from vendored Swagger UI files (FastAPI's default page loads them from a CDN).
    app = FastAPI(title="diagioi", description=_DESCRIPTION, version=_version(),
                  generate_unique_id_function=_operation_id, docs_url=None, redoc_url=None)
    app.state.service = service
    add_exception_handlers(app)
    # Innermost first: JSON bodies are checked (depth, huge numbers, lone surrogates) after the size limit.
    app.add_middleware(JsonBodyGuard)
    # An anonymous polygon analysis too large for its vertex cap is refused before its body is parsed.
    app.add_middleware(analysis.AnonymousAnalysisBodyCap, service=service)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes)
    # Before the body is read: a write without the right token is refused from its headers alone.
    app.add_middleware(WriteAuthMiddleware, api=app)
    # Unit lists and evaluations are verbose JSON (MBs for a country); tiles are small and compress well too.
    # Level 6 (zlib's default) rather than 9: most of the gain for a third of the CPU on every response.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=6)
    # Outermost: a request naming a host this server is not (DNS rebinding) gets no further.
    app.add_middleware(HostCheckMiddleware, allowed_hosts=settings.accepted_host_names)
    for module in (health, units, outlines, flags, datasets, suggest, scenarios, exports, layers, indicators, tiles,
                   analysis):
        app.include_router(module.router)
    _document_errors_as_served(app)
    _add_offline_docs(app, settings.web_dir / "vendor" / "swagger-ui")

    index = settings.web_dir / "index.html"
    if index.exists():
        app.mount("/", _WebFiles(app, directory=settings.web_dir, html=True), name="web")
    else:
        logger.warning("no web app at %s; serving a placeholder page at /", index)

        @app.get("/", include_in_schema=False, response_class=HTMLResponse)
        def placeholder() -> str:
            return _PLACEHOLDER
    return app


def _add_offline_docs(app: FastAPI, swagger_dir: Path) -> None:
    """Interactive API documentation at /docs, with Swagger UI from web/vendor (works offline)."""
    if not (swagger_dir / "swagger-ui-bundle.js").exists():
        logger.warning("no vendored Swagger UI at %s; /docs is not served", swagger_dir)
        return
    app.mount("/_docs-assets", StaticFiles(directory=swagger_dir), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="diagioi — API",
                                   swagger_js_url="/_docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/_docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/_docs-assets/favicon-32x32.png")


_HTTP_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


class _WebFiles(StaticFiles):
    """The browser app at ``/``. An ``/api/`` request reaching it matched no API route with its method:
    answer for the API (405 with the methods the path does accept, or 404), not for the static files."""

    def __init__(self, api: FastAPI, **kwargs):
        super().__init__(**kwargs)
        self._api = api

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == "/api" or path.startswith("/api/")):
            allowed = [method for method in _HTTP_METHODS
                       if any(route.matches({**scope, "method": method})[0] is Match.FULL
                              for route in self._api.router.routes if getattr(route, "app", None) is not self)]
            if allowed:
                raise StarletteHTTPException(405, headers={"Allow": ", ".join(allowed)})
            raise StarletteHTTPException(404)
        await super().__call__(scope, receive, send)


_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


def _document_errors_as_served(app: FastAPI) -> None:
    """Make /openapi.json describe the 422 bodies actually sent.

    FastAPI documents its own ``HTTPValidationError`` (``detail`` as a list) for every route with
    parameters that does not declare a 422; our handler answers ``ErrorBody`` instead.
    """
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                response = operation.get("responses", {}).get("422")
                content = (response or {}).get("content", {}).get("application/json", {})
                if content.get("schema", {}).get("$ref") == _FASTAPI_422:
                    response["description"] = "Invalid input: detail says what, hint says how to fix it"
                    content["schema"] = {"$ref": "#/components/schemas/ErrorBody"}
        components = schema.get("components", {}).get("schemas", {})
        if "ErrorBody" in components:
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def _version() -> str:
    from .routes.health import _package_version

    return _package_version()
