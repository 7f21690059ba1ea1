"""Dependencies of the routes, as ``Annotated`` aliases (``ServiceDep``, ``WriterDep``...)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from diagioi.layers.models import LayerKind

from .service import Service
from .store import ScenarioRecord

_bearer = HTTPBearer(auto_error=False, description="The write token printed at start-up (or DIAGIOI_TOKEN).")


def get_service(request: Request) -> Service:
    """The app's :class:`~api.service.Service`."""
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


def require_writer(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    actor: Annotated[str | None, Header(alias="X-Diagioi-Actor",
                                        description="Name recorded in the audit log (optional)")] = None,
) -> str:
    """Check the write token; return who is writing (for the audit log).

    401 without a token, 403 with a wrong one.
    """
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "this change needs the write token",
                            headers={"WWW-Authenticate": "Bearer"})
    if not service.check_token(credentials.credentials):
        raise HTTPException(403, "the write token is wrong")
    return (actor or "token").strip()[:100] or "token"


WriterDep = Annotated[str, Depends(require_writer)]


def get_scenario_record(scenario_id: str, service: ServiceDep) -> ScenarioRecord:
    """The stored scenario (404 if missing)."""
    return service.store.get_scenario(scenario_id)


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
