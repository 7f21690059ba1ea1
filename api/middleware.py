"""ASGI middleware: request-size limit, Host allow-list, write token checked before the body.

Request-size limit: bodies larger than ``max_upload_bytes`` get a 413 JSON error.

Checked twice: on the declared ``Content-Length`` (refused before reading), and on the
bytes actually streamed (for chunked uploads or a lying header).
"""
from __future__ import annotations

import json
import re

from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from diagioi.geo.i18n import Message as Text

from .auth import WriteKeyRefused, bearer_value, writer_identity
from .errors import RequestTooLargeError, error_body, error_response, scope_language, write_key_refused_response


class BodySizeLimitMiddleware:
    """Pure ASGI middleware; install it with ``app.add_middleware(BodySizeLimitMiddleware, max_bytes=...)``."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send, declared, scope_language(scope))
            return

        received_bytes = 0
        exceeded = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received_bytes, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received_bytes += len(message.get("body", b""))
                if received_bytes > self.max_bytes:
                    exceeded = True
                    raise RequestTooLargeError("request body too large")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded:
                return  # the app's reaction to the aborted read is replaced by our 413 below
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except RequestTooLargeError:
            if response_started:
                raise
        if exceeded and not response_started:
            await self._refuse(send, received_bytes, scope_language(scope))

    async def _refuse(self, send: Send, size_bytes: int, lang: str) -> None:
        body = error_body(Text("error.body_too_large", {"size": size_bytes, "limit": self.max_bytes}),
                          Text("hint.body_too_large"),
                          {"size_bytes": size_bytes, "max_upload_bytes": self.max_bytes}, lang=lang)
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# --------------------------------------------------------------------------- Host allow-list
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class HostCheckMiddleware:
    """Answer only requests whose ``Host`` names this server (a defence against DNS rebinding).

    A web page on ``evil.example`` whose name is made to resolve to 127.0.0.1 reaches the server
    with ``Host: evil.example``; it gets 400 here, before any route runs. Accepted: 127.0.0.1,
    localhost, [::1] and the configured names (``--host``, ``--allowed-host``, the host of
    ``--public-url``); ``*.example.org`` accepts the subdomains of example.org. Ports are ignored.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: list[str] | tuple[str, ...] = ()):
        self.app = app
        names = {_bare_host(host) for host in (*LOOPBACK_HOSTS, *allowed_hosts)}
        self.exact = {name for name in names if not name.startswith("*.")}
        self.suffixes = tuple(name[1:] for name in names if name.startswith("*."))

    def allows(self, host: str | None) -> bool:
        if host is None:
            return False
        return host in self.exact or (bool(self.suffixes) and host.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        values = [value for name, value in scope.get("headers", []) if name == b"host"]
        host = _host_name(values[0]) if len(values) == 1 else None
        if self.allows(host):
            await self.app(scope, receive, send)
            return
        shown = values[0].decode("latin-1")[:200] if len(values) == 1 else None
        detail = (Text("error.host_missing") if not values else
                  Text("error.host_several") if len(values) > 1 else
                  Text("error.host_unknown", {"host": repr(shown)}))
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await error_response(400, detail, Text("hint.host"), {"host": shown},
                             lang=scope_language(scope))(scope, receive, send)


def _bare_host(host: str) -> str:
    """A configured host name, lower-case, without IPv6 brackets."""
    host = host.strip().lower()
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _host_name(raw: bytes) -> str | None:
    """The host name of a ``Host`` header value, lower-case, without port or IPv6 brackets; None if malformed."""
    try:
        value = raw.decode("ascii").strip().lower()
    except UnicodeDecodeError:
        return None
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1:]
        if end < 0 or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        return value[1:end]
    name, colon, port = value.partition(":")
    if colon and not port.isdigit():
        return None
    if not name or any(not (c.isalnum() or c in "-._") for c in name):
        return None
    return name


# --------------------------------------------------------------------------- authenticate before the body
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteAuthMiddleware:
    """Check the write token of a write route before its body is read.

    FastAPI reads and parses a body before it runs the route's dependencies, so without this a bad
    body sent without a token got 422 (telling an anonymous caller how to shape a write) and an
    anonymous upload was read in full. Here a write route gets its 401/403 from the headers alone.

    Which routes are write routes is read from the routes' own declarations, through the OpenAPI
    document: an operation that declares the bearer scheme (it depends on
    :func:`~api.deps.require_writer`) is checked here; one that does not (drawing a polygon for
    figures) is open; a path matching both is checked.
    """

    def __init__(self, app: ASGIApp, api):
        self.app = app
        self.api = api  # the FastAPI application: its OpenAPI document and its service
        self._operations: list[tuple[str, re.Pattern, bool]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _WRITE_METHODS and self._needs_token(scope):
            header = next((value for name, value in scope.get("headers", []) if name == b"authorization"), None)
            try:
                writer_identity(bearer_value(header.decode("latin-1") if header else None),
                                self.api.state.service.token)
            except WriteKeyRefused as refused:
                refused.lang = scope_language(scope)
                await write_key_refused_response(refused)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _needs_token(self, scope: Scope) -> bool:
        if self._operations is None:
            self._operations = write_operations(self.api.openapi())
        path = scope["path"]
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root):]
        return any(secured and method == scope["method"] and pattern.match(path)
                   for method, pattern, secured in self._operations)


def write_operations(openapi: dict) -> list[tuple[str, re.Pattern, bool]]:
    """(method, path regex, needs the token) of every write operation of an OpenAPI document."""
    operations = []
    for path, methods in openapi.get("paths", {}).items():
        pattern = compile_path(path)[0]
        for method, operation in methods.items():
            if method.upper() in _WRITE_METHODS:
                operations.append((method.upper(), pattern, bool(operation.get("security"))))
    return operations
