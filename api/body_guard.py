"""JSON bodies that would crash the parser or the store are refused before any route sees them.

Python's ``json`` parses a lone surrogate (``"\\ud800"``) into a string that cannot be encoded
as UTF-8 later (SQLite, the response), recurses once per ``[``/``{`` (100,000 of them exhaust
the stack) and turns a 5,000-digit literal into a ValueError deep inside FastAPI. Each of those
used to end in a 500 and a reset connection. :class:`JsonBodyGuard` reads a JSON body once (its
size is already capped by :class:`~api.middleware.BodySizeLimitMiddleware`), checks it with
:func:`json_body_problem` and answers 422 with a hint; a sound body is handed on unchanged.
"""
from __future__ import annotations

import json
import re

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from diagioi.geo.i18n import Message as Text

from .errors import error_response, scope_language

#: Deepest nesting of arrays/objects accepted (a MultiPolygon in a FeatureCollection is 6 deep).
MAX_JSON_DEPTH = 32
#: Longest run of digits in a JSON number (a float64 needs 17 significant digits).
MAX_NUMBER_DIGITS = 40

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def _nesting_depth(skeleton: bytes) -> int:
    """Deepest ``[``/``{`` nesting in JSON text whose strings were removed."""
    data = np.frombuffer(skeleton, dtype=np.int8)
    steps = _STEP[data.view(np.uint8)]
    return int(np.cumsum(steps, dtype=np.int32).max()) if len(steps) else 0


def _longest_digit_run(text: bytes) -> int:
    """Length of the longest run of ASCII digits (numpy: a regex backtracks on every digit)."""
    data = np.frombuffer(text, dtype=np.uint8)
    mask = ((data >= ord("0")) & (data <= ord("9"))).astype(np.int8)
    if not mask.any():
        return 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask, [0]))))
    return int((edges[1::2] - edges[0::2]).max())


def _has_lone_surrogate(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_body_problem(body: bytes) -> tuple[Text, Text, dict] | None:
    """``(detail, hint, context)`` when a JSON body must be refused (catalogue messages), else None.

    Malformed JSON is left to the route's own parser (its message gives line and column).
    """
    # Fast path on the raw bytes; strings are only cut out (slow) when the raw text looks suspicious,
    # since brackets or digits inside a string could only make the raw figures larger.
    depth = _nesting_depth(body)
    digits = _longest_digit_run(body)
    skeleton = _STRING.sub(b'""', body) if depth > MAX_JSON_DEPTH or digits > MAX_NUMBER_DIGITS else body
    if skeleton is not body:
        depth, digits = _nesting_depth(skeleton), _longest_digit_run(skeleton)
    if depth > MAX_JSON_DEPTH:
        return (Text("error.json_too_deep", {"depth": depth, "max_depth": MAX_JSON_DEPTH}), Text("hint.json_too_deep"),
                {"depth": depth, "max_depth": MAX_JSON_DEPTH})
    if digits > MAX_NUMBER_DIGITS:
        return (Text("error.json_long_number", {"digits": digits, "max_digits": MAX_NUMBER_DIGITS}),
                Text("hint.json_long_number"), {"digits": digits, "max_digits": MAX_NUMBER_DIGITS})
    if _SURROGATE_ESCAPE.search(body):
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if _has_lone_surrogate(value):
            return Text("error.json_lone_surrogate"), Text("hint.json_lone_surrogate"), {}
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


class JsonBodyGuard:
    """Pure ASGI middleware: ``app.add_middleware(JsonBodyGuard)`` (inside the size limit)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = json_body_problem(body)
        if problem is not None:
            detail, hint, context = problem
            # code "error": what these refusals answered with before their texts moved into the catalogue
            await error_response(422, detail, hint, context, lang=scope_language(scope),
                                 code="error")(scope, disconnected, send)
            return
        await self.app(scope, replaying(body, receive), send)


def replaying(body: bytes, receive: Receive) -> Receive:
    """An ASGI ``receive`` that gives the already-read ``body`` once, then whatever the client sends next."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def disconnected() -> Message:
    """An ASGI ``receive`` for an answer sent before the body was read: the client is gone."""
    return {"type": "http.disconnect"}
