"""Request-size limit: bodies larger than ``max_upload_bytes`` get a 413 JSON error.

Checked twice: on the declared ``Content-Length`` (refused before reading), and on the
bytes actually streamed (for chunked uploads or a lying header).
"""
from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import RequestTooLargeError, error_body


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
            await self._refuse(send, declared)
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
            await self._refuse(send, received_bytes)

    async def _refuse(self, send: Send, size_bytes: int) -> None:
        body = error_body(
            f"request body too large: at least {size_bytes:,} bytes, the limit is {self.max_bytes:,} bytes",
            "send a smaller file (simplify geometries or split the layer), or raise DIAGIOI_MAX_UPLOAD_BYTES",
            {"size_bytes": size_bytes, "max_upload_bytes": self.max_bytes},
        )
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
