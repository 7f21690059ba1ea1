"""What a rule is checked against (the figures of a unit or a parent) and what a check gives back.

:class:`UnitFigures` / :class:`ParentFigures` are the inputs, :class:`RuleResult` the outcome of one
rule for one unit, :func:`overall_status` combines the outcomes into one :class:`Status`.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, fields
from typing import Any
from collections.abc import Mapping

from ..i18n import Message, join, translate
from ..kinds import ParentKind, Status, UnitKind

__all__ = ["ParentFigures", "RuleResult", "Text", "UnitFigures", "overall_status"]

#: A text from a rules file in each language: ``{"en": ..., "vi": ...}`` (``citation`` / ``citation_vi``).
Text = Mapping[str, str]

# Unit of measure of a criterion → its catalogue key (the unit itself is shown in the reader's language).
_UNIT_KEYS = {"km²": "unit.km2", "người": "unit.people", "đơn vị": "unit.units", "%": "unit.percent"}


@dataclass(frozen=True)
class UnitFigures:
    """Figures of one commune-level unit (a new unit of a scenario or an existing one).

    ``area_km2`` is the area used for standards (official if known, else computed geodesic);
    ``population`` counts permanent plus temporary residents. ``None``/NaN means missing.
    """

    kind: UnitKind
    area_km2: float | None
    population: float | None
    n_members: int = 1                 # old units merged into it (R76 Art. 5 cl. 2 exemption when >= 3)
    mountainous: bool = False          # miền núi / vùng cao
    border: bool = False               # has a land national border
    island: bool = False               # commune of an island district
    central_city: bool = False         # lies in a centrally governed city
    parent_kind: ParentKind | None = None  # R1211 ward population depends on it (default: provincial city)
    red_river_delta: bool = False
    ethnic_minority_share: float | None = None  # 0..1
    coastal_poor: bool = False         # xã đặc biệt khó khăn vùng bãi ngang, ven biển (1211 Art. 3a)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", UnitKind.parse(self.kind))
        if self.parent_kind is not None:
            object.__setattr__(self, "parent_kind", ParentKind.parse(self.parent_kind))


@dataclass(frozen=True)
class ParentFigures:
    """Figures of the city/province that the new units make up.

    ``n_units`` counts its commune-level units (district-level units for a province or a central
    city), ``n_wards`` the wards among them (urban district-level units for a central city).
    """

    kind: ParentKind
    area_km2: float | None
    population: float | None
    n_units: int
    n_wards: int
    mountainous: bool = False
    border: bool = False
    red_river_delta: bool = False
    ethnic_minority_share: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ParentKind.parse(self.kind))


@functools.cache
def figure_fields() -> frozenset[str]:
    """Names of the UnitFigures and ParentFigures fields (what a rule may depend on)."""
    return frozenset(f.name for f in fields(UnitFigures)) | frozenset(f.name for f in fields(ParentFigures))


@dataclass(frozen=True)
class RuleResult:
    """Outcome of one rule for one unit: value against threshold, with citation and status."""

    rule: str
    criterion: str
    passed: bool | None
    value: float | None
    threshold: float | None
    unit: str
    comparison: str
    margin: float | None
    percent_of_standard: float | None
    cite: Message | Text          # the legal basis, rendered in the reader's language
    confirmed: bool
    exempt: bool = False
    notes: tuple[Message, ...] = ()
    variant: str | None = None   # which variant of the rule set the threshold (e.g. "mountainous")

    @property
    def status(self) -> Status:
        """pass / fail / exempt (an exemption applies) / unknown (value missing) of this one result."""
        if self.exempt:
            return Status.EXEMPT
        if self.passed is None:
            return Status.UNKNOWN
        return Status.PASS if self.passed else Status.FAIL

    def citation_text(self, lang: str = "vi") -> str:
        return translate(self.cite, lang)

    def note_text(self, lang: str = "vi") -> str | None:
        return join(self.notes, lang)

    @property
    def citation(self) -> str:
        """The citation in English (logs, tests); :meth:`citation_text` gives it in a language."""
        return self.citation_text("en")

    @property
    def note(self) -> str | None:
        """The notes in English, joined with "; " (logs, tests); :meth:`note_text` for a language."""
        return self.note_text("en")

    def to_dict(self, lang: str = "vi") -> dict:
        """JSON-ready form (the ``standards`` items of the evaluation JSON).

        ``citation`` and ``note`` are rendered in ``lang``; ``citation_message`` and ``note_messages``
        are the typed forms (``{"code", "params"}``) that exports and the web render in their own language.
        """
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("cite", "notes")}
        data["citation"] = self.citation_text(lang)
        data["note"] = self.note_text(lang)
        data["citation_message"] = message_of(self.cite).to_dict()
        data["note_messages"] = [m.to_dict() for m in self.notes]
        data["status"] = self.status
        return data

    def with_note(self, note: Message, *, first: bool = False) -> "RuleResult":
        return dataclasses.replace(self, notes=(note, *self.notes) if first else (*self.notes, note))


def overall_status(results: list[RuleResult]) -> Status:
    """Combine results into a :class:`Status` (``"pass" | "fail" | "exempt" | "unknown"``).

    A non-exempt failure fails; a non-exempt missing value makes it unknown; a failed (or not
    numerically defined) exempt result makes it exempt; otherwise it passes. No results: unknown.
    """
    if not results:
        return Status.UNKNOWN
    binding = [r for r in results if not r.exempt]
    if any(r.passed is False for r in binding):
        return Status.FAIL
    if any(r.passed is None for r in binding):
        return Status.UNKNOWN
    if any(r.passed is not True for r in results if r.exempt):
        return Status.EXEMPT
    return Status.PASS


# ------------------------------------------------------------------------------------- helpers of the checks
def message_of(text: Message | Text) -> Message:
    """A rules-file text (``{"en", "vi"}``) as a typed message; a message stays itself."""
    return text if isinstance(text, Message) else Message("note.text", {"text": dict(text)})


def quantity(value: float, unit: str) -> Message:
    """A value with its unit of measure, both rendered in the reader's language."""
    key = _UNIT_KEYS.get(unit)
    return Message("quantity", {"value": value, "unit": Message(key) if key else unit})


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def round_margin(margin: float) -> float:
    # keeps 5.5 - 5.49 from printing as 0.010000000000000231
    return round(margin, 6)


def missing_message(criterion: str) -> Message:
    return Message("note.missing", {"criterion": Message(f"criterion.{criterion}"), "criterion_id": criterion})
