"""One table from error classes to HTTP status codes, and one JSON error shape.

Every error body is ``{"detail": str, "hint": str | null, "context": {...}, "code": str}``; a 409
also carries ``current_version`` (and ``current``, the stored object) so the client can merge.
``detail`` and ``hint`` are in the reader's language (``?lang=``, else ``Accept-Language``, else
Vietnamese) wherever the error is a catalogue message; ``code`` is stable across languages.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from diagioi.geo.i18n import DEFAULT_LANGUAGE, Message, translate, validation_problem
from diagioi.geo.errors import (
    ConflictError,
    DiagioiError,
    InputError,
    NotFoundError,
    UnknownUnitError,
    RuleSetError,
)

from .auth import WriteKeyRefused

logger = logging.getLogger(__name__)


class RequestTooLargeError(DiagioiError):
    """The request body is larger than ``max_upload_bytes`` (a byte count, not a polygon area)."""


class ServerBusyError(DiagioiError):
    """Every slot for heavy work (polygon analysis) stayed taken for the whole wait: try again shortly."""


# Most specific first: the first class an error is an instance of wins.
# OversizeInputError (a drawn polygon's *area*) is an InputError → 422 on purpose:
# 413 is only for the byte size of a request.
STATUS_CODES: list[tuple[type[DiagioiError], int]] = [
    (RequestTooLargeError, 413),
    (ServerBusyError, 503),
    (ConflictError, 409),
    (UnknownUnitError, 422),   # a code in a request that the dataset lacks: the request is to fix
    (NotFoundError, 404),
    (InputError, 422),
    (RuleSetError, 500),
    (DiagioiError, 400),
]


def status_for(error: DiagioiError) -> int:
    """HTTP status of a domain error."""
    for error_class, status in STATUS_CODES:
        if isinstance(error, error_class):
            return status
    return 400


def scope_language(scope) -> str:
    """The reader's language of a request (``?lang=``, else ``Accept-Language``), Vietnamese by default.

    Never raises: an error answer is given even to a request with an unknown ``?lang=``.
    """
    from urllib.parse import parse_qs

    from diagioi.geo.i18n import language_from

    query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
    accept = next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"accept-language"),
                  None)
    try:
        return language_from(query, accept)
    except DiagioiError:
        return language_from(None, accept)


def error_body(detail: str | Message, hint: str | Message | None = None, context: dict[str, Any] | None = None,
               *, lang: str = DEFAULT_LANGUAGE, code: str | None = None) -> dict[str, Any]:
    """The one JSON error shape; catalogue messages are rendered in ``lang`` and give the ``code``."""
    return {"detail": translate(detail, lang) if isinstance(detail, Message) else detail,
            "hint": translate(hint, lang) if isinstance(hint, Message) else hint,
            "context": dict(context or {}),
            "code": code or (detail.code if isinstance(detail, Message) else "error")}


def error_response(status: int, detail: str | Message, hint: str | Message | None = None,
                   context: dict[str, Any] | None = None, headers: dict[str, str] | None = None, *,
                   lang: str = DEFAULT_LANGUAGE, code: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(detail, hint, context, lang=lang, code=code), status_code=status, headers=headers)


def _location(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


async def _diagioi_error_handler(request: Request, error: DiagioiError) -> JSONResponse:
    status = status_for(error)
    if status >= 500:
        logger.error("server-side error on %s %s: %s", request.method, request.url.path, error)
    return JSONResponse(_jsonable(error.to_dict(scope_language(request.scope))), status_code=status)


def _scenario_body_problems(request: Request, error: RequestValidationError) -> JSONResponse | None:
    """A scenario body is described in the words of the scenario contract (which new unit, which field)."""
    from diagioi.geo.contract import Scenario, describe_errors

    field = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", None)
    errors = error.errors()
    if not (isinstance(model, type) and issubclass(model, Scenario)) or not errors or any(
            tuple(e.get("loc", ()))[:1] != ("body",) or e.get("type") == "json_invalid" for e in errors):
        return None
    stripped = [{**e, "loc": tuple(e["loc"])[1:]} for e in errors]
    lang = scope_language(request.scope)
    problems = describe_errors(stripped, error.body, source=Message("contract.source.body"), lang=lang)
    detail = "; ".join(p["problem"] for p in problems)
    return error_response(422, detail, problems[0]["hint"],
                          {"errors": [{k: p[k] for k in ("location", "problem", "hint")} for p in problems]},
                          lang=lang, code="scenario_body")


def _problem_text(item: dict, lang: str) -> str:
    """One validation problem in the reader's language; the model's own words when it wrote them (the contract's)."""
    if lang != "en" and item.get("type") in ("diagioi", "value_error", "assertion_error"):
        return item.get("msg", "")
    return validation_problem(item, lang)


async def _validation_error_handler(request: Request, error: RequestValidationError) -> JSONResponse:
    scenario_response = _scenario_body_problems(request, error)
    if scenario_response is not None:
        return scenario_response
    lang = scope_language(request.scope)
    problems = []
    for item in error.errors():
        if item.get("type") == "json_invalid":  # loc is ("body", character offset)
            problems.append({"location": "body", "problem": (item.get("ctx") or {}).get("error") or item.get("msg", ""),
                             "type": "json_invalid", "position": item.get("loc", (None,))[-1]})
            continue
        problems.append({"location": _location(item.get("loc", ())), "problem": _problem_text(item, lang),
                         "type": item.get("type", "")})
    invalid_json = [p for p in problems if p["type"] == "json_invalid"]
    if invalid_json:
        position, problem = invalid_json[0]["position"], invalid_json[0]["problem"]
        detail = (Message("error.json_invalid_at", {"problem": problem, "position": position})
                  if isinstance(position, int) else Message("error.json_invalid", {"problem": problem}))
        return error_response(422, detail, Message("hint.json_invalid"), {"errors": problems}, lang=lang)
    detail = "; ".join(f"{p['location']}: {p['problem']}" for p in problems) or translate("error.invalid_request", lang)
    return error_response(422, detail, Message("hint.validation"), {"errors": problems}, lang=lang,
                          code="validation")


_HINTS = {404: "hint.check_route", 405: "hint.check_method"}


async def _http_error_handler(request: Request, error: StarletteHTTPException) -> JSONResponse:
    if error.status_code == 400 and error.detail == _UNREADABLE_BODY:
        return _unreadable_body_response(request, error.__cause__)
    where = {"method": request.method, "path": request.url.path}
    detail = error.detail if isinstance(error.detail, str) else "request failed"
    if detail == "Not Found":
        detail = Message("error.no_route", where)
    elif error.status_code == 405:
        detail = Message("error.method_not_allowed", where)
    hint = Message(_HINTS[error.status_code]) if error.status_code in _HINTS else None
    return error_response(error.status_code, detail, hint, headers=getattr(error, "headers", None),
                          lang=scope_language(request.scope), code=None if isinstance(detail, Message) else
                          f"http_{error.status_code}")


# FastAPI's words when a body cannot be decoded at all (e.g. bytes that are not UTF-8 on a JSON route).
_UNREADABLE_BODY = "There was an error parsing the body"


def _unreadable_body_response(request: Request, cause: BaseException | None) -> JSONResponse:
    """An unreadable body is invalid input like any other: 422 with what to fix, not a bare 400."""
    content_type = request.headers.get("content-type", "")
    if isinstance(cause, UnicodeDecodeError):
        detail = Message("error.body_not_utf8", {"position": str(cause.start),
                                                 "byte": repr(cause.object[cause.start:cause.start + 1])})
        hint = Message("hint.body_not_utf8")
    else:
        detail = Message("error.body_unreadable", {"content_type": content_type or "?"})
        hint = Message("hint.send_json")
    return error_response(422, detail, hint, {"content_type": content_type,
                                              "error": type(cause).__name__ if cause else None},
                          lang=scope_language(request.scope))


def write_key_refused_response(refused: WriteKeyRefused) -> JSONResponse:
    """401 for a write without the right key (also sent by the middleware, before the body is read)."""
    return error_response(refused.status_code, refused.detail, refused.hint, headers=refused.headers,
                          lang=refused.lang)


async def _write_key_refused_handler(request: Request, refused: WriteKeyRefused) -> JSONResponse:
    refused.lang = scope_language(request.scope)
    return write_key_refused_response(refused)


async def _unexpected_error_handler(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, Message("error.internal", {"method": request.method, "path": request.url.path,
                                                          "error": type(error).__name__}),
                          Message("hint.internal"), lang=scope_language(request.scope))


def _jsonable(value: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)


def add_exception_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every error into the one JSON shape."""
    app.add_exception_handler(DiagioiError, _diagioi_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(WriteKeyRefused, _write_key_refused_handler)
    app.add_exception_handler(Exception, _unexpected_error_handler)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Write without a token", "model": None},
    403: {"description": "Wrong write token"},
    404: {"description": "Object not found"},
    409: {"description": "Stale version: body carries current_version and current"},
    413: {"description": "Request body larger than max_upload_bytes"},
    422: {"description": "Invalid input: detail says what, hint says how to fix it"},
    503: {"description": "Busy: every analysis slot stayed taken; retry in a few seconds"},
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the given error codes, all with the ErrorBody model."""
    from .schemas import ErrorBody, ConflictBody

    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry = {k: v for k, v in ERROR_RESPONSES[code].items() if k != "model"}
        entry["model"] = ConflictBody if code == 409 else ErrorBody
        out[code] = entry
    return out
