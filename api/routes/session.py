"""GET /api/session: hand the write token to a browser on the same machine.

The local tool is meant to be used by the person who started it: the page on
http://127.0.0.1:8000 asks for the token so they need not copy it from the terminal.
It is given only when the request comes from the loopback interface, names a loopback
host (which defeats DNS rebinding from a web page), and carries no proxy headers (behind
a reverse proxy every client would look local). ``DIAGIOI_SHARE_TOKEN_LOCALLY=false``
turns it off.
"""
from __future__ import annotations

from ipaddress import ip_address

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from ..deps import ServiceDep
from ..errors import responses

router = APIRouter(prefix="/api", tags=["auth"])

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
_PROXY_HEADERS = ("x-forwarded-for", "x-real-ip", "forwarded", "x-forwarded-host")


class SessionPublic(BaseModel):
    token: str
    generated: bool


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/session", summary="The write token, for a browser on this machine only",
            response_model=SessionPublic, responses=responses(403))
def read_session(request: Request, service: ServiceDep) -> SessionPublic:
    """Answered only to loopback clients addressing a loopback host name without proxy headers."""
    host_name = (request.url.hostname or "").lower()  # from the Host header, brackets of IPv6 removed
    local = (service.settings.share_token_locally
             and _is_loopback(request.client.host if request.client else None)
             and host_name in _LOOPBACK_NAMES
             and not any(header in request.headers for header in _PROXY_HEADERS))
    if not local:
        raise HTTPException(403, "the write token is only handed to a browser on the server's own machine")
    return SessionPublic(token=service.token, generated=service.token_generated)
