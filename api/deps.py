"""Dependencies of the routes, as ``Annotated`` aliases (``ServiceDep``, ``WriterDep``...)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from diagioi.layers.models import LayerKind

from .auth import writer_identity
from .service import SCENARIO_LAYER_PREFIX, Service
from .store import ScenarioRecord, StoreVersions

_bearer = HTTPBearer(auto_error=False, description="The write token printed at start-up (or DIAGIOI_TOKEN).")


def get_service(request: Request) -> Service:
    """The app's :class:`~api.service.Service`, on the store's current default dataset.

    The request's one read of the store (default dataset, layer versions, the scenario its path names)
    is kept in ``request.state.store_versions`` for the route: every cache it uses is keyed by those
    versions, so an edit acknowledged by another worker is served at once.
    """
    service = request.app.state.service
    versions = service.store.versions(_scenario_named(request.path_params))
    request.state.store_versions = versions
    service.follow_store_default(versions)  # another worker may have activated a dataset
    return service


def _scenario_named(path_params: dict) -> str | None:
    """The scenario id in the path: /api/scenarios/{scenario_id}/… or a tile layer scenario-{id}."""
    if isinstance(path_params.get("scenario_id"), str):
        return path_params["scenario_id"]
    layer_id = path_params.get("layer_id")
    if isinstance(layer_id, str) and layer_id.startswith(SCENARIO_LAYER_PREFIX):
        return layer_id[len(SCENARIO_LAYER_PREFIX):]
    return None


def store_versions(request: Request) -> StoreVersions:
    """The request's read of the store (made by :func:`get_service`, which every route depends on)."""
    versions = getattr(request.state, "store_versions", None)
    return versions if versions is not None else request.app.state.service.store.versions()


ServiceDep = Annotated[Service, Depends(get_service)]


def require_writer(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Check the write token; return who is writing, for the audit log.

    The identity comes from the key itself (see :func:`~api.auth.key_identity`), never from a header
    the client chooses. 401 without a token or with a wrong one. The same check already ran in
    :class:`~api.middleware.WriteAuthMiddleware` before the body was read; this keeps every write
    route safe on its own and documents the security scheme in /openapi.json.
    """
    return writer_identity(credentials.credentials if credentials else None, service.token)


WriterDep = Annotated[str, Depends(require_writer)]


def get_scenario_record(scenario_id: str, service: ServiceDep, request: Request) -> ScenarioRecord:
    """The stored scenario (404 if missing), as the request's read of the store found it."""
    return service.scenario_in(store_versions(request), scenario_id)


ScenarioDep = Annotated[ScenarioRecord, Depends(get_scenario_record)]


def get_layer_kind(kind: LayerKind) -> LayerKind:
    return kind


LayerKindDep = Annotated[LayerKind, Depends(get_layer_kind)]


def reader_language(
    request: Request,
    lang: Annotated[str | None, Query(description="Language of texts: vi (default) or en; "
                                                   "without it, the Accept-Language header decides")] = None,
) -> str:
    """The reader's language: ``?lang=``, else ``Accept-Language``, else Vietnamese (422-like 400 if unknown)."""
    from diagioi.geo.i18n import language_from

    return language_from(lang, request.headers.get("accept-language"))


LangDep = Annotated[str, Depends(reader_language)]
