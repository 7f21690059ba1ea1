"""Errors and warnings of diagioi.

One root, :class:`DiagioiError`, carries a ``message`` (what went wrong), a ``hint``
(what the user should do) and a ``context`` (file, unit code, name, location...).
Errors are split by cause, not by package; the CLI and the API map them to one line of
text / one JSON body with the same three fields.
"""
from __future__ import annotations

from typing import Any


class DiagioiError(Exception):
    """Root of every error raised on purpose by diagioi."""

    def __init__(self, message: str, *, hint: str | None = None, context: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.context = dict(context or {})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"detail", "hint", "context"}``."""
        return {"detail": self.message, "hint": self.hint, "context": self.context}

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

    def __init__(self, message: str, *, issues: list | None = None, hint: str | None = None,
                 context: dict[str, Any] | None = None):
        super().__init__(message, hint=hint, context=context)
        self.issues = list(issues or [])

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
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

    def __init__(self, message: str, *, current_version: int | None = None, current: Any = None,
                 hint: str | None = None, context: dict[str, Any] | None = None):
        super().__init__(message, hint=hint, context=context)
        self.current_version = current_version
        self.current = current

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
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
