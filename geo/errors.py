"""Errors and warnings of diagioi.

One root, :class:`DiagioiError`, carries a ``message`` (what went wrong), a ``hint``
(what the user should do) and a ``context`` (file, unit code, name, location...).
Errors are split by cause, not by package; the CLI and the API map them to one line of
text / one JSON body with the same fields.

The message and the hint may be catalogue messages (:class:`geo.i18n.Message`, a key with
parameters): the edge (CLI ``--lang``, API ``?lang=`` / ``Accept-Language``) renders them in the
reader's language, and the key is the error's stable ``code``. ``message`` and ``hint`` hold the
English text, for logs and for code that reads them.
"""
from __future__ import annotations

import re
from typing import Any


def _code_of(error_class: type) -> str:
    """``MissingCRSError`` → ``missing_crs``: the stable code of an error raised with a plain text."""
    name = error_class.__name__.removesuffix("Error") or "diagioi"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


class DiagioiError(Exception):
    """Root of every error raised on purpose by diagioi."""

    def __init__(self, message, *, hint=None, context: dict[str, Any] | None = None, code: str | None = None):
        from .i18n import Message, translate

        # ``code`` keeps the code an error had before its text moved into the catalogue: scripts match on it.
        self.fixed_code = code
        self.detail_message = message if isinstance(message, Message) else None
        self.hint_message = hint if isinstance(hint, Message) else None
        message = translate(message, "en") if self.detail_message else message
        super().__init__(message)
        self.message = message
        self.hint = translate(hint, "en") if self.hint_message else hint
        self.context = dict(context or {})

    @property
    def code(self) -> str:
        """Stable identifier of the error: the one given, else its catalogue key, else one derived from its class."""
        if self.fixed_code:
            return self.fixed_code
        return self.detail_message.code if self.detail_message else _code_of(type(self))

    def detail_in(self, lang: str | None) -> str:
        """What went wrong, in ``lang`` when the error carries a catalogue message (else as raised)."""
        from .i18n import translate

        return translate(self.detail_message, lang) if self.detail_message and lang else self.message

    def hint_in(self, lang: str | None) -> str | None:
        """What to do, in ``lang`` when the hint is a catalogue message (else as raised)."""
        from .i18n import translate

        return translate(self.hint_message, lang) if self.hint_message and lang else self.hint

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """JSON-ready form: ``{"detail", "hint", "context", "code"}``, texts in ``lang`` where translated."""
        return {"detail": self.detail_in(lang), "hint": self.hint_in(lang), "context": self.context,
                "code": self.code}

    def __reduce__(self):
        # Keep hint, context (and subclasses' fields) when the error crosses a process boundary
        # (polygon analyses run in worker processes); Exception pickles only ``args``.
        return _restore_error, (type(self), self.message), dict(self.__dict__)

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text += f" — {self.hint}"
        return text


class InputError(DiagioiError):
    """The user's input (file, scenario, request body) cannot be used as it is."""


class MissingCRSError(InputError):
    """A layer has no coordinate reference system."""


class UnknownCRSError(InputError):
    """A layer's CRS is not one we can place on the ellipsoid, or coordinates are out of range."""


class MissingColumnError(InputError):
    """A required attribute column is not in the file."""


class EncodingError(InputError):
    """Text attributes could not be decoded."""


class InvalidGeometryError(InputError):
    """One or more geometries are invalid and were refused (see ``issues``)."""

    def __init__(self, message, *, issues: list | None = None, hint=None,
                 context: dict[str, Any] | None = None, code: str | None = None):
        super().__init__(message, hint=hint, context=context, code=code)
        self.issues = list(issues or [])

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        body = super().to_dict(lang)
        body["context"] = {**body["context"], "issues": [i.to_dict() if hasattr(i, "to_dict") else i for i in self.issues]}
        return body


class OversizeInputError(InputError):
    """An upload or a drawn polygon is larger than the configured limit."""


class ScenarioError(InputError):
    """A scenario is inconsistent with the units it refers to."""


class RuleSetError(DiagioiError):
    """A standards (rules) file is malformed."""


class NotFoundError(DiagioiError):
    """A requested object (scenario, unit, feature, layer) does not exist."""


class UnknownUnitError(NotFoundError, InputError):
    """Unit code(s) that the units dataset does not have — the one error for an unknown code.

    Raised by :meth:`geo.units.UnitSet.require_codes` wherever codes come in (scenario files and
    bodies, reassignments, scopes, flag tables); the API answers 422 with ``context.unknown_codes``.
    """


class ConflictError(DiagioiError):
    """A write was based on a stale version (optimistic concurrency)."""

    def __init__(self, message, *, current_version: int | None = None, current: Any = None,
                 hint=None, context: dict[str, Any] | None = None, code: str | None = None):
        super().__init__(message, hint=hint, context=context, code=code)
        self.current_version = current_version
        self.current = current

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        body = super().to_dict(lang)
        body["current_version"] = self.current_version
        if self.current is not None:
            body["current"] = self.current
        return body


class TileOutsideBoundsError(NotFoundError):
    """A tile index is outside the tile matrix."""


def _restore_error(cls: type[DiagioiError], message: str) -> DiagioiError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    return error
