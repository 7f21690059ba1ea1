"""Statutory standards of Vietnamese administrative units: rule sets as data, checks as code.

The legal numbers live in ``geo/rules/*.yaml``, one file per regime (R1211, R76, R112, R35).
Each rule covers one criterion of one kind of unit (``r76.ward.population``) and carries its
threshold, unit, comparison, variants (mountainous, border, island, central city...), the
special-factor reductions that may replace its floor, its legal citation and whether the
number is confirmed. A user picks a regime, edits a copy of a file, or overrides thresholds::

    rules = RuleSet.load("R76").with_overrides({"r76.ward.population": 20000})
    results = rules.check_unit(UnitFigures(kind=UnitKind.ward, area_km2=12.1, population=23000))
    overall_status(results)   # "pass"

A user file may also extend a built-in regime::

    extends: R76
    name: "R76 with our own ward floor"
    overrides: {r76.ward.population: 20000}
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from collections.abc import Mapping

import yaml

from .errors import RuleSetError
from .i18n import Message, join, translate
from .kinds import ParentKind, Status, UnitKind
from .text import fold

__all__ = [
    "ParentFigures",
    "RuleResult",
    "RuleSet",
    "UnitFigures",
    "overall_status",
    "RULES_DIR",
]

RULES_DIR = Path(__file__).resolve().with_name("rules")
SCHEMA = "diagioi-standards/1"
DEFAULT_REGIME = "R76"

# criterion -> (unit of measure, levels it may be used at)
_CRITERIA: dict[str, tuple[str, frozenset[str]]] = {
    "area_km2": ("km²", frozenset({"unit", "parent"})),
    "population": ("người", frozenset({"unit", "parent"})),
    "subunits": ("đơn vị", frozenset({"parent"})),
    "ward_share": ("%", frozenset({"parent"})),
    "no_numeric_standard": ("", frozenset({"unit", "parent"})),
}
_COMPARISONS = (">=", "<", "none")
# Unit of measure of a criterion → its catalogue key (the unit itself is shown in the reader's language).
_UNIT_KEYS = {"km²": "unit.km2", "người": "unit.people", "đơn vị": "unit.units", "%": "unit.percent"}

#: A text from a rules file in each language: ``{"en": ..., "vi": ...}`` (``citation`` / ``citation_vi``).
Text = Mapping[str, str]
# Attributes a `when` condition may test (fields of UnitFigures / ParentFigures).
_FLAG_KEYS = frozenset({"mountainous", "border", "island", "central_city", "red_river_delta", "coastal_poor"})
_CONDITION_KEYS = _FLAG_KEYS | {"parent_kind", "ethnic_minority_share_min"}


# ----------------------------------------------------------------------------------------------
# Inputs and outputs
# ----------------------------------------------------------------------------------------------
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
        data["citation_message"] = _message(self.cite).to_dict()
        data["note_messages"] = [m.to_dict() for m in self.notes]
        data["status"] = self.status
        return data


def _message(text: Message | Text) -> Message:
    return text if isinstance(text, Message) else Message("note.text", {"text": dict(text)})


def _quantity(value: float, unit: str) -> Message:
    """A value with its unit of measure, both rendered in the reader's language."""
    key = _UNIT_KEYS.get(unit)
    return Message("quantity", {"value": value, "unit": Message(key) if key else unit})


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


# ----------------------------------------------------------------------------------------------
# Parsed rule-set elements (immutable)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Condition:
    all_of: tuple[tuple[str, Any], ...] = ()
    any_of: tuple["_Condition", ...] = ()

    def matches(self, figures: Any) -> bool:
        if not all(_test(figures, key, expected) for key, expected in self.all_of):
            return False
        return not self.any_of or any(sub.matches(figures) for sub in self.any_of)


def _test(figures: Any, key: str, expected: Any) -> bool:
    if key == "ethnic_minority_share_min":
        share = getattr(figures, "ethnic_minority_share", None)
        return not _missing(share) and share >= expected
    value = getattr(figures, key, None)
    if key == "parent_kind":
        return value is not None and str(value) in expected
    return bool(value) is expected


@dataclass(frozen=True)
class _Variant:
    name: str
    condition: _Condition
    threshold: float
    citation: Text | None
    derivation: Text | None
    statutory_threshold: float | None   # set when a user override replaced the file's value


@dataclass(frozen=True)
class _Factor:
    id: str
    criterion: str
    condition: _Condition
    pct_of_standard: float
    of_variant: str                     # "own": % of the unit's own variant; "base": % of the plain standard
    ethnic_step: Mapping[str, float] | None
    citation: Text
    confirmed: bool
    note: Text | None
    statutory_pct: float | None

    def pct_for(self, figures: Any) -> float:
        """Percentage of the standard this factor allows for these figures (ethnic steps applied)."""
        pct = self.pct_of_standard
        share = getattr(figures, "ethnic_minority_share", None)
        if self.ethnic_step and not _missing(share) and share > self.ethnic_step["share_from"]:
            # "each further 10 %" — the epsilon keeps 0.40 - 0.30 = 0.0999… from losing a step
            steps = math.floor((share - self.ethnic_step["share_from"]) / self.ethnic_step["share_every"] + 1e-9)
            pct = max(self.ethnic_step["floor_pct"], pct - steps * self.ethnic_step["pct_less"])
        return pct


@dataclass(frozen=True)
class _Rule:
    id: str
    level: str
    kinds: frozenset[str]
    criterion: str
    comparison: str
    threshold: float | None
    unit: str
    condition: _Condition
    variants: tuple[_Variant, ...]
    reductions: tuple[str, ...]
    count: str
    assume_if_missing: Mapping[str, Text]
    citation: Text
    confirmed: bool
    note: Text | None
    derivation: Text | None
    statutory_threshold: float | None


@dataclass(frozen=True)
class _Exemption:
    id: str
    n_members_min: int
    kinds: frozenset[str]
    criteria: frozenset[str]
    citation: Text
    confirmed: bool
    note: Text | None


@dataclass(frozen=True)
class _Trigger:
    id: str
    period: Text
    level: str
    kinds: frozenset[str]
    area_pct_lt: float
    population_pct_lt: float
    citation: Text
    confirmed: bool
    note: Text | None
    statutory: Mapping[str, float]


@dataclass(frozen=True)
class _Threshold:
    """A rule's threshold resolved for one unit: variant picked, special factor applied."""

    value: float | None
    variant: str | None
    citation: Message | Text
    confirmed: bool
    notes: tuple[Message, ...]


# ----------------------------------------------------------------------------------------------
# The rule set
# ----------------------------------------------------------------------------------------------
class RuleSet:
    """One regime's standards, loaded from a YAML file; checks units and parents against them."""

    def __init__(self, spec: Mapping[str, Any], *, source: str | Path,
                 baseline: "RuleSet | None" = None, parent_fallback: "RuleSet | None" = None):
        """Build from an already-read spec; use :meth:`load` to read a regime or a file."""
        self.source = str(source)
        self._spec = copy.deepcopy(dict(spec))
        parser = _Parser(self.source)
        header = parser.header(self._spec)
        self.id: str = header["id"]
        self.name: str = header["name"]
        self.citation: Text = header["citation"]
        self.confirmed: bool = header["confirmed"]
        self.effective: str | None = header["effective"]
        self.note: Text | None = header["note"]
        self.unconfirmed_note: Message = (_message(header["unconfirmed_note"]) if header["unconfirmed_note"]
                                          else Message("note.regime_unconfirmed", {"regime": self.name}))
        self.fail_note: Text | None = header["fail_note"]
        self._factors = {f.id: f for f in parser.factors(self._spec)}
        self.rules: tuple[_Rule, ...] = tuple(parser.rules(self._spec, self._factors))
        self._exemptions = tuple(parser.exemptions(self._spec))
        self._triggers = tuple(parser.triggers(self._spec))
        fallback_spec = parser.parent_fallback(self._spec)
        self._fallback_kinds = frozenset(fallback_spec["kinds"]) if fallback_spec else frozenset()
        self._fallback_note = fallback_spec["note"] if fallback_spec else None
        base_dir = Path(self.source).parent if Path(self.source).is_file() else RULES_DIR
        if self._triggers and baseline is None:
            baseline = _resolve_reference(self._spec.get("baseline"), base_dir, self.source, "baseline")
        if fallback_spec and parent_fallback is None:
            parent_fallback = _resolve_reference(fallback_spec["regime"], base_dir, self.source, "parent_fallback")
        self.baseline = baseline
        self.parent_fallback = parent_fallback
        parser.check_unique_ids(self)

    # ---------------------------------------------------------------- loading
    @classmethod
    def load(cls, regime_or_path: str | Path = DEFAULT_REGIME) -> "RuleSet":
        """Load a built-in regime ("R76", "r76", "76/2025", "R1211", "R112", "R35") or a YAML path.

        A user file is either a complete rule set (same schema as ``geo/rules/*.yaml``) or
        ``extends: <regime or path>`` with ``overrides: {rule id: threshold}``.
        """
        if isinstance(regime_or_path, Path) or str(regime_or_path).lower().endswith((".yaml", ".yml")):
            return _load_path(Path(regime_or_path))
        key = _regime_key(str(regime_or_path))
        index = _builtin_index()
        if key not in index:
            raise RuleSetError(
                f"unknown standards regime {regime_or_path!r}",
                hint="use one of " + ", ".join(entry["id"] for entry in cls.available())
                     + " or the path of a .yaml rules file",
                context={"regime": str(regime_or_path)},
            )
        return _load_builtin(index[key])

    @staticmethod
    def available() -> list[dict]:
        """Built-in regimes: ``[{"id", "name", "confirmed", "effective", "citation", "path"}]``, R76 first."""
        entries = []
        for path in sorted(RULES_DIR.glob("*.yaml")):
            spec = _read_yaml(path)
            entries.append({"id": spec.get("id"), "name": spec.get("name"), "confirmed": spec.get("confirmed"),
                            "effective": spec.get("effective"), "citation": spec.get("citation"),
                            "path": str(path)})
        return sorted(entries, key=lambda e: (e["id"] != DEFAULT_REGIME, str(e["id"])))

    # ---------------------------------------------------------------- checks
    def check_unit(self, figures: UnitFigures) -> list[RuleResult]:
        """Check one commune-level unit; one result per applicable rule (or per R35 trigger row)."""
        kind = str(figures.kind)
        if self._triggers:
            return self._check_triggers(figures, "unit", kind)
        rules = [r for r in self.rules if r.level == "unit" and kind in r.kinds and r.condition.matches(figures)]
        if not rules:
            return [self._no_standard(kind)]
        return [self._check_rule(rule, figures, exemption=self._exemption_for(rule, figures, kind))
                for rule in rules]

    def check_parent(self, figures: ParentFigures) -> list[RuleResult]:
        """Check the city/province the new units make up (area, population, subunits, ward share)."""
        kind = str(figures.kind)
        if self._triggers:
            return self._check_triggers(figures, "parent", kind)
        rules = [r for r in self.rules if r.level == "parent" and kind in r.kinds and r.condition.matches(figures)]
        if not rules and kind in self._fallback_kinds and self.parent_fallback is not None:
            note = Message("note.fallback", {"text": self._fallback_note, "regime": self.parent_fallback.name})
            return [_with_note(r, note, first=True) for r in self.parent_fallback.check_parent(figures)]
        if not rules:
            return [self._no_standard(kind)]
        return [self._check_rule(rule, figures) for rule in rules]

    # ---------------------------------------------------------------- editing and export
    def with_overrides(self, thresholds: Mapping[str, float]) -> "RuleSet":
        """A copy with thresholds replaced: ``{rule id: value}``.

        Keys: a rule id (its base threshold), ``"<rule id>@<variant>"`` (a variant's threshold),
        a special-factor id (its percentage) or an R35 trigger row ``"<trigger id>.area_km2"`` /
        ``".population"`` (its percentage). Overridden results are reported as not confirmed,
        with the statutory value in their note.
        """
        spec = copy.deepcopy(self._spec)
        for key, value in thresholds.items():
            number = _override_number(key, value, self.source)
            _apply_override(spec, key, number, self)
        return RuleSet(spec, source=self.source, baseline=self.baseline, parent_fallback=self.parent_fallback)

    def override_keys(self) -> list[str]:
        """Every key :meth:`with_overrides` accepts."""
        keys: list[str] = []
        for rule in self.rules:
            if rule.threshold is not None:
                keys.append(rule.id)
            keys.extend(f"{rule.id}@{v.name}" for v in rule.variants)
        keys.extend(self._factors)
        for trigger in self._triggers:
            keys.extend([f"{trigger.id}.area_km2", f"{trigger.id}.population"])
        return keys

    def to_dict(self) -> dict:
        """The rule set as plain data (the YAML content plus its source)."""
        data = copy.deepcopy(self._spec)
        data["source"] = self.source
        return data

    def __repr__(self) -> str:
        return f"RuleSet({self.id!r}, rules={len(self.rules)}, triggers={len(self._triggers)}, source={self.source!r})"

    # ---------------------------------------------------------------- internals
    def _resolve_threshold(self, rule: _Rule, figures: Any) -> _Threshold:
        notes: list[Message] = []
        variant = next((v for v in rule.variants if v.condition.matches(figures)), None)
        threshold = variant.threshold if variant else rule.threshold
        citation = (variant.citation if variant and variant.citation else rule.citation)
        confirmed = rule.confirmed
        statutory = variant.statutory_threshold if variant else rule.statutory_threshold
        if statutory is not None:
            confirmed = False
            notes.append(Message("note.threshold_user", {"statutory": _quantity(statutory, rule.unit)}))
        derivation = variant.derivation if variant and variant.derivation else rule.derivation
        if derivation:
            notes.append(Message("note.derivation", {"derivation": dict(derivation)}))
        for key, assumption in rule.assume_if_missing.items():
            if getattr(figures, key, None) is None:
                notes.append(_message(assumption))
        if threshold is not None and rule.reductions:
            best: tuple[float, _Factor, float, float] | None = None
            for factor_id in rule.reductions:
                factor = self._factors[factor_id]
                if not factor.condition.matches(figures):
                    continue
                pct = factor.pct_for(figures)
                standard = rule.threshold if factor.of_variant == "base" else threshold
                reduced = pct * standard / 100
                if best is None or reduced < best[0]:
                    best = (reduced, factor, pct, standard)
            # one factor per standard; it replaces the floor, it never stacks with another
            if best is not None and best[0] < threshold:
                reduced, factor, pct, standard = best
                notes.append(Message("note.special_factor", {
                    "factor": factor.id, "pct": pct, "standard": _quantity(standard, rule.unit),
                    "threshold": _quantity(threshold, rule.unit)}))
                if factor.statutory_pct is not None:
                    notes.append(Message("note.factor_user", {"statutory": factor.statutory_pct}))
                    confirmed = False
                if factor.note:
                    notes.append(_message(factor.note))
                threshold = reduced
                citation = Message("citation.join", {"first": citation, "second": factor.citation})
                confirmed = confirmed and factor.confirmed
        return _Threshold(threshold, variant.name if variant else None, citation, confirmed, tuple(notes))

    def _check_rule(self, rule: _Rule, figures: Any, exemption: _Exemption | None = None) -> RuleResult:
        if rule.comparison == "none":
            return self._finish(RuleResult(
                rule=rule.id, criterion=rule.criterion, passed=None, value=None, threshold=None, unit=rule.unit,
                comparison="none", margin=None, percent_of_standard=None, cite=rule.citation,
                confirmed=rule.confirmed, exempt=True, notes=(_message(rule.note),) if rule.note else ()))
        resolved = self._resolve_threshold(rule, figures)
        value, missing_note = _criterion_value(rule, figures)
        notes = list(resolved.notes)
        if rule.note:
            notes.append(_message(rule.note))
        if missing_note:
            notes.append(missing_note)
        citation, confirmed = resolved.citation, resolved.confirmed
        if exemption is not None:
            counts = {"n": figures.n_members, "n_min": exemption.n_members_min}
            notes.append(Message("note.exempt_with", {**counts, "text": dict(exemption.note)}) if exemption.note
                         else Message("note.exempt", counts))
            citation = Message("citation.exempt", {"citation": citation, "exemption": exemption.citation})
            confirmed = confirmed and exemption.confirmed
        result = _compare(rule.id, rule.criterion, value, resolved.value, rule.unit, rule.comparison,
                          citation, confirmed, notes, resolved.variant, exempt=exemption is not None)
        return self._finish(result)

    def _finish(self, result: RuleResult) -> RuleResult:
        """Add the regime-wide notes: Art. 5 cl. 3 fallback on failure, unconfirmed regime."""
        if result.passed is False and not result.exempt and self.fail_note:
            result = _with_note(result, _message(self.fail_note))
        if not self.confirmed:
            result = _with_note(result, self.unconfirmed_note)
            result = _replace(result, confirmed=False)
        elif not result.confirmed and not any(m.code in ("note.not_confirmed", "note.regime_unconfirmed")
                                              for m in result.notes):
            result = _with_note(result, Message("note.not_confirmed"))
        return result

    def _exemption_for(self, rule: _Rule, figures: UnitFigures, kind: str) -> _Exemption | None:
        for exemption in self._exemptions:
            if (kind in exemption.kinds and rule.criterion in exemption.criteria
                    and figures.n_members >= exemption.n_members_min):
                return exemption
        return None

    def _no_standard(self, kind: str) -> RuleResult:
        return self._finish(RuleResult(
            rule=f"{self.id.lower()}.{kind}.no_standard", criterion="no_standard", passed=None, value=None,
            threshold=None, unit="", comparison="none", margin=None, percent_of_standard=None,
            cite=self.citation, confirmed=self.confirmed,
            notes=(Message("note.no_standard", {"regime": self.name, "kind_id": kind,
                                                "kind": Message(_kind_key(kind))}),)))

    def _baseline_threshold(self, level: str, kind: str, criterion: str,
                            figures: Any) -> tuple[_Rule, _Threshold] | None:
        assert self.baseline is not None
        for rule in self.baseline.rules:
            if (rule.level == level and kind in rule.kinds and rule.criterion == criterion
                    and rule.condition.matches(figures) and rule.threshold is not None):
                return rule, self.baseline._resolve_threshold(rule, figures)
        return None

    def _check_triggers(self, figures: Any, level: str, kind: str) -> list[RuleResult]:
        triggers = [t for t in self._triggers if t.level == level and kind in t.kinds]
        if not triggers:
            return [self._no_standard(kind)]
        area_base = self._baseline_threshold(level, kind, "area_km2", figures)
        population_base = self._baseline_threshold(level, kind, "population", figures)
        if area_base is None or population_base is None:
            return [self._no_standard(kind)]
        results: list[RuleResult] = []
        for trigger in triggers:
            rows = []
            for criterion, pct, (base_rule, base), value in (
                    ("area_km2", trigger.area_pct_lt, area_base, figures.area_km2),
                    ("population", trigger.population_pct_lt, population_base, figures.population)):
                threshold = pct * base.value / 100
                holds = None if _missing(value) else value < threshold
                rows.append((criterion, pct, base_rule, base, value, threshold, holds))
            conditions = [row[-1] for row in rows]
            if all(c is True for c in conditions):
                passed: bool | None = False
            elif any(c is False for c in conditions):
                passed = True      # one condition fails, so the row cannot fire whatever the other is
            else:
                passed = None
            for criterion, pct, base_rule, base, value, threshold, holds in rows:
                unit = base_rule.unit
                notes = [Message("note.trigger_base", {
                    "period": dict(trigger.period), "pct": pct, "base": _quantity(base.value, unit),
                    "rule": base_rule.id, "variant": f", {base.variant}" if base.variant else ""})]
                notes.extend(base.notes)
                if holds is None:
                    notes.append(_missing_message(criterion))
                elif holds:
                    notes.append(Message("note.trigger_below" if passed is False else "note.trigger_below_other"))
                if passed is False:
                    notes.append(Message("note.trigger_fires"))
                statutory = trigger.statutory.get(criterion)
                confirmed = trigger.confirmed and base.confirmed
                if statutory is not None:
                    notes.append(Message("note.trigger_user", {"statutory": statutory}))
                    confirmed = False
                results.append(self._finish(RuleResult(
                    rule=f"{trigger.id}.{criterion}", criterion="must_arrange", passed=passed,
                    value=None if _missing(value) else float(value), threshold=threshold, unit=unit,
                    comparison="<", margin=None if _missing(value) else _round_margin(value - threshold),
                    percent_of_standard=None if _missing(value) else round(100 * value / threshold, 1),
                    cite=Message("citation.trigger", {"trigger": dict(trigger.citation), "base": base.citation}),
                    confirmed=confirmed, notes=tuple(notes), variant=base.variant)))
        return results


# ----------------------------------------------------------------------------------------------
# Comparison helpers
# ----------------------------------------------------------------------------------------------
def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _round_margin(margin: float) -> float:
    # keeps 5.5 - 5.49 from printing as 0.010000000000000231
    return round(margin, 6)


def _kind_key(kind: str) -> str:
    return f"kind.{kind}" if kind in _UNIT_KINDS else f"parent_kind.{kind}"


def _missing_message(criterion: str) -> Message:
    return Message("note.missing", {"criterion": Message(f"criterion.{criterion}"), "criterion_id": criterion})


def _criterion_value(rule: _Rule, figures: Any) -> tuple[float | None, Message | None]:
    if rule.criterion == "area_km2":
        value = figures.area_km2
    elif rule.criterion == "population":
        value = figures.population
    elif rule.criterion == "subunits":
        value = figures.n_wards if rule.count == "wards" else figures.n_units
    else:  # ward_share, in percent
        if not figures.n_units:
            return None, Message("note.no_subunits")
        value = 100 * figures.n_wards / figures.n_units
    if _missing(value):
        return None, _missing_message(rule.criterion)
    return float(value), None


def _compare(rule_id: str, criterion: str, value: float | None, threshold: float | None, unit: str,
             comparison: str, citation: Message | Text, confirmed: bool, notes: list[Message], variant: str | None,
             *, exempt: bool = False) -> RuleResult:
    if value is None or threshold is None:
        passed = margin = percent = None
    else:
        passed = value >= threshold if comparison == ">=" else value < threshold
        margin = _round_margin(value - threshold)
        percent = round(100 * value / threshold, 1)
    return RuleResult(rule=rule_id, criterion=criterion, passed=passed, value=value, threshold=threshold,
                      unit=unit, comparison=comparison, margin=margin, percent_of_standard=percent,
                      cite=citation, confirmed=confirmed, exempt=exempt, notes=tuple(notes), variant=variant)


def _replace(result: RuleResult, **changes: Any) -> RuleResult:
    return dataclasses.replace(result, **changes)


def _with_note(result: RuleResult, note: Message, *, first: bool = False) -> RuleResult:
    return _replace(result, notes=(note, *result.notes) if first else (*result.notes, note))


# ----------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------
def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuleSetError(f"rules file not found: {path}", hint="check the path of the .yaml rules file",
                           context={"file": str(path)}) from None
    except UnicodeDecodeError as exc:
        raise RuleSetError(f"{path}: not UTF-8 text ({exc.reason})", hint="save the rules file as UTF-8",
                           context={"file": str(path)}) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RuleSetError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}",
                           hint="fix the YAML syntax (indentation, quotes, colons)",
                           context={"file": str(path), "line": mark.line + 1 if mark else None}) from None
    if not isinstance(data, dict):
        raise RuleSetError(f"{path}: a rules file must be a YAML mapping, got {type(data).__name__}",
                           hint="start the file with 'id:', 'name:', 'rules:' … or 'extends:'",
                           context={"file": str(path)})
    return data


def _regime_key(text: str) -> str:
    key = fold(text).replace(" ", "")
    return key[1:] if key.startswith("r") and key[1:2].isdigit() else key


@functools.lru_cache(maxsize=1)
def _builtin_index() -> dict[str, Path]:
    index: dict[str, Path] = {}
    for path in sorted(RULES_DIR.glob("*.yaml")):
        spec = _read_yaml(path)
        for name in [spec.get("id", path.stem), *spec.get("aliases", [])]:
            index[_regime_key(str(name))] = path
    return index


@functools.lru_cache(maxsize=16)
def _load_builtin(path: Path) -> RuleSet:
    # built-in files are immutable package data; a RuleSet has no mutating methods, so share it
    return RuleSet(_read_yaml(path), source=path)


def _load_path(path: Path) -> RuleSet:
    spec = _read_yaml(path)
    if "extends" not in spec:
        return RuleSet(spec, source=path)
    extra = set(spec) - {"extends", "overrides", "name", "note", "note_vi"}
    if extra:
        raise RuleSetError(f"{path}: unknown key(s) {sorted(extra)} in an 'extends' file",
                           hint="an extending file has only extends, overrides, name and note (note_vi)",
                           context={"file": str(path)})
    base = _resolve_reference(spec["extends"], path.parent, str(path), "extends")
    overrides = spec.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise RuleSetError(f"{path}: 'overrides' must be a mapping of rule id to threshold",
                           hint="write e.g. overrides: {r76.ward.population: 20000}", context={"file": str(path)})
    derived = base.with_overrides(overrides)
    merged = derived.to_dict()
    merged.pop("source", None)
    if "note" in spec:
        merged.pop("note_vi", None)  # the base file's Vietnamese note does not translate the new note
    for key in ("name", "note", "note_vi"):
        if key in spec:
            merged[key] = spec[key]
    return RuleSet(merged, source=path, baseline=derived.baseline, parent_fallback=derived.parent_fallback)


def _resolve_reference(reference: Any, base_dir: Path, source: str, field_name: str) -> RuleSet:
    if not isinstance(reference, str) or not reference.strip():
        raise RuleSetError(f"{source}: '{field_name}' must name a regime (e.g. R1211) or a .yaml path",
                           hint=f"set {field_name}: R1211", context={"file": source, "field": field_name})
    if reference.lower().endswith((".yaml", ".yml")):
        return _load_path((base_dir / reference).resolve())
    return RuleSet.load(reference)


# ----------------------------------------------------------------------------------------------
# Overrides
# ----------------------------------------------------------------------------------------------
def _override_number(key: Any, value: Any, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or _missing(value) or value <= 0:
        raise RuleSetError(f"override {key!r}: threshold must be a positive number, got {value!r}",
                           hint="give a number such as 20000 or 5.5", context={"file": source, "rule": str(key)})
    return float(value)


def _apply_override(spec: dict, key: str, number: float, ruleset: RuleSet) -> None:
    rule_id, _, variant_name = str(key).partition("@")
    for rule in spec.get("rules") or []:
        if rule.get("id") != rule_id:
            continue
        if not variant_name and "threshold" in rule:
            rule.setdefault("statutory_threshold", rule["threshold"])
            rule["threshold"] = number
            return
        for variant in rule.get("variants") or []:
            if variant_name and variant.get("name") == variant_name:
                variant.setdefault("statutory_threshold", variant["threshold"])
                variant["threshold"] = number
                return
    for factor in spec.get("special_factors") or []:
        if not variant_name and factor.get("id") == rule_id:
            factor.setdefault("statutory_pct", factor["pct_of_standard"])
            factor["pct_of_standard"] = number
            return
    for trigger in spec.get("triggers") or []:
        for criterion in ("area_km2", "population"):
            if not variant_name and key == f"{trigger.get('id')}.{criterion}":
                field_name = "area_pct_lt" if criterion == "area_km2" else "population_pct_lt"
                trigger.setdefault("statutory", {}).setdefault(criterion, trigger[field_name])
                trigger[field_name] = number
                return
    raise RuleSetError(f"override {key!r}: no such rule in {ruleset.id}",
                       hint="use one of: " + ", ".join(ruleset.override_keys()),
                       context={"file": ruleset.source, "rule": str(key)})


# ----------------------------------------------------------------------------------------------
# Validation of a rules file (every error names the file and the rule)
# ----------------------------------------------------------------------------------------------
# Texts a person reads have a Vietnamese companion field: citation → citation_vi, note → note_vi...
_LOCAL_KEYS = {"citation", "note", "fail_note", "unconfirmed_note", "derivation", "period", "assume_if_missing"}


def _with_vi(keys: set[str]) -> set[str]:
    return keys | {f"{key}_vi" for key in keys & _LOCAL_KEYS}


_HEADER_KEYS = _with_vi({"schema", "id", "name", "citation", "confirmed", "effective", "aliases", "note", "fail_note",
                         "unconfirmed_note", "special_factors", "exemptions", "parent_fallback", "rules", "baseline",
                         "triggers"})
_RULE_KEYS = _with_vi({"id", "level", "kinds", "criterion", "comparison", "threshold", "unit", "when", "when_any",
                       "variants", "reductions", "count", "assume_if_missing", "citation", "confirmed", "note",
                       "derivation", "statutory_threshold"})
_VARIANT_KEYS = _with_vi({"name", "when", "when_any", "threshold", "citation", "derivation", "statutory_threshold"})
_FACTOR_KEYS = _with_vi({"id", "criterion", "when", "when_any", "pct_of_standard", "of_variant", "ethnic_step",
                         "citation", "confirmed", "note", "statutory_pct"})
_STEP_KEYS = {"share_from", "share_every", "pct_less", "floor_pct"}
_EXEMPTION_KEYS = _with_vi({"id", "n_members_min", "kinds", "criteria", "citation", "confirmed", "note"})
_TRIGGER_KEYS = _with_vi({"id", "period", "level", "kinds", "area_pct_lt", "population_pct_lt", "citation",
                          "confirmed", "note", "statutory"})
_FALLBACK_KEYS = _with_vi({"regime", "kinds", "note"})
_UNIT_KINDS = frozenset(k.value for k in UnitKind)
_PARENT_KINDS = frozenset(k.value for k in ParentKind)


class _Parser:
    def __init__(self, source: str):
        self.source = source

    def fail(self, element: str | None, problem: str, *, field: str | None = None, hint: str | None = None):
        where = f"rule {element!r}: " if element else ""
        raise RuleSetError(f"{self.source}: {where}{problem}",
                           hint=hint or "fix the rules file (see geo/rules/r76.yaml for the format)",
                           context={"file": self.source, "rule": element, "field": field})

    # -- primitive readers
    def keys(self, data: Any, allowed: set[str], element: str | None, what: str) -> dict:
        if not isinstance(data, dict):
            self.fail(element, f"{what} must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - allowed)
        if unknown:
            self.fail(element, f"unknown key(s) {unknown} in {what}", field=unknown[0],
                      hint="allowed keys: " + ", ".join(sorted(allowed)))
        return data

    def text(self, data: dict, key: str, element: str | None, *, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(element, f"'{key}' must be a non-empty text" + (" (missing)" if value is None else ""),
                      field=key)
        return value

    def local(self, data: dict, key: str, element: str | None, *, required: bool = True) -> Text | None:
        """A text a person reads, ``{"en": key, "vi": key_vi}`` (the one given when only one is)."""
        english = self.text(data, key, element, required=required)
        vietnamese = self.text(data, f"{key}_vi", element, required=False)
        if english is None:
            if vietnamese is not None:
                self.fail(element, f"'{key}_vi' is given without '{key}'", field=f"{key}_vi")
            return None
        return {"en": english, "vi": vietnamese or english}

    def flag(self, data: dict, key: str, element: str | None) -> bool:
        value = data.get(key)
        if not isinstance(value, bool):
            self.fail(element, f"'{key}' must be true or false, got {value!r}", field=key)
        return value

    def number(self, data: dict, key: str, element: str | None, *, required: bool = True) -> float | None:
        value = data.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or _missing(value) or value <= 0:
            self.fail(element, f"'{key}' must be a positive number, got {value!r}", field=key,
                      hint=f"write e.g. {key}: 5.5 (a plain number, no unit)")
        return float(value)

    def kinds(self, data: dict, key: str, level: str, element: str) -> frozenset[str]:
        value = data.get(key)
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values:
            self.fail(element, f"'{key}' must be a kind or a list of kinds", field=key)
        allowed = _UNIT_KINDS if level == "unit" else _PARENT_KINDS
        bad = [v for v in values if v not in allowed]
        if bad:
            self.fail(element, f"unknown {level} kind(s) {bad}", field=key,
                      hint=f"{level} kinds: " + ", ".join(sorted(allowed)))
        return frozenset(values)

    def level(self, data: dict, element: str) -> str:
        level = data.get("level")
        if level not in ("unit", "parent"):
            self.fail(element, f"'level' must be unit or parent, got {level!r}", field="level")
        return level

    def condition(self, data: dict, element: str) -> _Condition:
        when = data.get("when") or {}
        when_any = data.get("when_any") or []
        if not isinstance(when_any, list):
            self.fail(element, "'when_any' must be a list of conditions", field="when_any")
        return _Condition(self._all_of(when, element), tuple(_Condition(self._all_of(c, element)) for c in when_any))

    def _all_of(self, when: Any, element: str) -> tuple[tuple[str, Any], ...]:
        if not isinstance(when, dict):
            self.fail(element, f"a condition must be a mapping, got {when!r}", field="when")
        items = []
        for key, expected in when.items():
            if key not in _CONDITION_KEYS:
                self.fail(element, f"unknown condition {key!r}", field="when",
                          hint="conditions: " + ", ".join(sorted(_CONDITION_KEYS)))
            if key in _FLAG_KEYS and not isinstance(expected, bool):
                self.fail(element, f"condition {key!r} must be true or false", field="when")
            if key == "parent_kind":
                expected = [expected] if isinstance(expected, str) else expected
                if not isinstance(expected, list) or any(v not in _PARENT_KINDS for v in expected):
                    self.fail(element, f"condition parent_kind must list parent kinds, got {expected!r}",
                              field="when", hint="parent kinds: " + ", ".join(sorted(_PARENT_KINDS)))
                expected = frozenset(expected)
            if key == "ethnic_minority_share_min" and (
                    isinstance(expected, bool) or not isinstance(expected, (int, float)) or not 0 <= expected <= 1):
                self.fail(element, "condition ethnic_minority_share_min must be a share between 0 and 1",
                          field="when")
            items.append((key, expected))
        return tuple(items)

    # -- sections
    def header(self, spec: dict) -> dict:
        self.keys(spec, _HEADER_KEYS, None, "the rules file")
        if "schema" in spec and spec["schema"] != SCHEMA:
            self.fail(None, f"unsupported schema {spec['schema']!r}", field="schema", hint=f"use schema: {SCHEMA}")
        if not spec.get("rules") and not spec.get("triggers"):
            self.fail(None, "no 'rules' (or 'triggers') in the file", field="rules")
        return {"id": self.text(spec, "id", None), "name": self.text(spec, "name", None),
                "citation": self.local(spec, "citation", None), "confirmed": self.flag(spec, "confirmed", None),
                "effective": self.text(spec, "effective", None, required=False),
                "note": self.local(spec, "note", None, required=False),
                "unconfirmed_note": self.local(spec, "unconfirmed_note", None, required=False),
                "fail_note": self.local(spec, "fail_note", None, required=False)}

    def _items(self, spec: dict, section: str) -> list:
        items = spec.get(section) or []
        if not isinstance(items, list):
            self.fail(None, f"'{section}' must be a list", field=section)
        return items

    def _id(self, data: Any, section: str, index: int) -> str:
        element = data.get("id") if isinstance(data, dict) else None
        if not isinstance(element, str) or not element.strip():
            self.fail(f"{section}[{index}]", "'id' must be a non-empty text", field="id")
        return element

    def factors(self, spec: dict) -> list[_Factor]:
        result = []
        for index, data in enumerate(self._items(spec, "special_factors")):
            element = self._id(data, "special_factors", index)
            self.keys(data, _FACTOR_KEYS, element, "a special factor")
            criterion = data.get("criterion")
            if criterion not in ("area_km2", "population"):
                self.fail(element, f"a special factor reduces area_km2 or population, got {criterion!r}",
                          field="criterion")
            of_variant = data.get("of_variant", "own")
            if of_variant not in ("own", "base"):
                self.fail(element, f"'of_variant' must be own or base, got {of_variant!r}", field="of_variant")
            step = data.get("ethnic_step")
            if step is not None:
                self.keys(step, _STEP_KEYS, element, "ethnic_step")
                step = {k: self.number(step, k, element) for k in sorted(_STEP_KEYS)}
            pct = self.number(data, "pct_of_standard", element)
            if pct > 100:
                self.fail(element, f"'pct_of_standard' {pct:g} would raise the standard", field="pct_of_standard")
            result.append(_Factor(
                id=element, criterion=criterion, condition=self.condition(data, element), pct_of_standard=pct,
                of_variant=of_variant, ethnic_step=step, citation=self.local(data, "citation", element),
                confirmed=self.flag(data, "confirmed", element), note=self.local(data, "note", element, required=False),
                statutory_pct=self.number(data, "statutory_pct", element, required=False)))
        return result

    def rules(self, spec: dict, factors: Mapping[str, _Factor]) -> list[_Rule]:
        result = []
        for index, data in enumerate(self._items(spec, "rules")):
            element = self._id(data, "rules", index)
            self.keys(data, _RULE_KEYS, element, "a rule")
            level = self.level(data, element)
            criterion = data.get("criterion")
            if criterion not in _CRITERIA:
                self.fail(element, f"unknown criterion {criterion!r}", field="criterion",
                          hint="criteria: " + ", ".join(_CRITERIA))
            unit, levels = _CRITERIA[criterion]
            if level not in levels:
                self.fail(element, f"criterion {criterion} is not checked at {level} level", field="criterion")
            comparison = data.get("comparison")
            if comparison not in _COMPARISONS:
                self.fail(element, f"'comparison' must be one of {list(_COMPARISONS)}, got {comparison!r}",
                          field="comparison")
            if (comparison == "none") != (criterion == "no_numeric_standard"):
                self.fail(element, "comparison 'none' goes with criterion no_numeric_standard only",
                          field="comparison")
            threshold = None if comparison == "none" else self.number(data, "threshold", element)
            variants = []
            for vindex, vdata in enumerate(data.get("variants") or []):
                self.keys(vdata, _VARIANT_KEYS, element, f"variant {vindex}")
                name = self.text(vdata, "name", element)
                variants.append(_Variant(
                    name=name, condition=self.condition(vdata, element),
                    threshold=self.number(vdata, "threshold", element),
                    citation=self.local(vdata, "citation", element, required=False),
                    derivation=self.local(vdata, "derivation", element, required=False),
                    statutory_threshold=self.number(vdata, "statutory_threshold", element, required=False)))
            reductions = data.get("reductions") or []
            for factor_id in reductions:
                if factor_id not in factors:
                    self.fail(element, f"unknown special factor {factor_id!r} in reductions", field="reductions",
                              hint="declare it under special_factors: " + ", ".join(factors) if factors else None)
                if factors[factor_id].criterion != criterion:
                    self.fail(element, f"special factor {factor_id!r} reduces {factors[factor_id].criterion},"
                                       f" not {criterion}", field="reductions")
            count = data.get("count", "units")
            if count not in ("units", "wards") or (count == "wards" and criterion != "subunits"):
                self.fail(element, f"'count' must be units or wards (subunits rules only), got {count!r}",
                          field="count")
            assume = data.get("assume_if_missing") or {}
            assume_vi = data.get("assume_if_missing_vi") or {}
            for name, mapping in (("assume_if_missing", assume), ("assume_if_missing_vi", assume_vi)):
                if not isinstance(mapping, dict) or any(k not in _figure_fields() or not isinstance(v, str)
                                                        for k, v in mapping.items()):
                    self.fail(element, f"'{name}' maps a figures field to a note", field=name)
            if set(assume_vi) - set(assume):
                self.fail(element, "'assume_if_missing_vi' translates fields 'assume_if_missing' does not have",
                          field="assume_if_missing_vi")
            assume = {k: {"en": v, "vi": assume_vi.get(k, v)} for k, v in assume.items()}
            declared_unit = data.get("unit", unit)
            if declared_unit != unit:
                self.fail(element, f"unit of {criterion} is {unit!r}, not {declared_unit!r}", field="unit")
            result.append(_Rule(
                id=element, level=level, kinds=self.kinds(data, "kinds", level, element), criterion=criterion,
                comparison=comparison, threshold=threshold, unit=unit, condition=self.condition(data, element),
                variants=tuple(variants), reductions=tuple(reductions), count=count, assume_if_missing=assume,
                citation=self.local(data, "citation", element), confirmed=self.flag(data, "confirmed", element),
                note=self.local(data, "note", element, required=False),
                derivation=self.local(data, "derivation", element, required=False),
                statutory_threshold=self.number(data, "statutory_threshold", element, required=False)))
        return result

    def exemptions(self, spec: dict) -> list[_Exemption]:
        result = []
        for index, data in enumerate(self._items(spec, "exemptions")):
            element = self._id(data, "exemptions", index)
            self.keys(data, _EXEMPTION_KEYS, element, "an exemption")
            minimum = self.number(data, "n_members_min", element)
            criteria = data.get("criteria")
            if not isinstance(criteria, list) or any(c not in _CRITERIA for c in criteria):
                self.fail(element, f"'criteria' must list criteria, got {criteria!r}", field="criteria")
            result.append(_Exemption(
                id=element, n_members_min=int(minimum), kinds=self.kinds(data, "kinds", "unit", element),
                criteria=frozenset(criteria), citation=self.local(data, "citation", element),
                confirmed=self.flag(data, "confirmed", element),
                note=self.local(data, "note", element, required=False)))
        return result

    def triggers(self, spec: dict) -> list[_Trigger]:
        result = []
        for index, data in enumerate(self._items(spec, "triggers")):
            element = self._id(data, "triggers", index)
            self.keys(data, _TRIGGER_KEYS, element, "a trigger")
            level = self.level(data, element)
            statutory = data.get("statutory") or {}
            if not isinstance(statutory, dict):
                self.fail(element, "'statutory' must be a mapping", field="statutory")
            result.append(_Trigger(
                id=element, period=self.local(data, "period", element), level=level,
                kinds=self.kinds(data, "kinds", level, element),
                area_pct_lt=self.number(data, "area_pct_lt", element),
                population_pct_lt=self.number(data, "population_pct_lt", element),
                citation=self.local(data, "citation", element), confirmed=self.flag(data, "confirmed", element),
                note=self.local(data, "note", element, required=False), statutory=dict(statutory)))
        if result and not isinstance(spec.get("baseline"), str):
            self.fail(None, "a file with 'triggers' needs 'baseline' (the regime its percentages refer to)",
                      field="baseline", hint="add baseline: R1211")
        return result

    def parent_fallback(self, spec: dict) -> dict | None:
        data = spec.get("parent_fallback")
        if data is None:
            return None
        self.keys(data, _FALLBACK_KEYS, "parent_fallback", "parent_fallback")
        return {"regime": self.text(data, "regime", "parent_fallback"),
                "kinds": self.kinds(data, "kinds", "parent", "parent_fallback"),
                "note": self.local(data, "note", "parent_fallback")}

    def check_unique_ids(self, ruleset: RuleSet) -> None:
        seen: set[str] = set()
        ids = [r.id for r in ruleset.rules] + list(ruleset._factors) + [e.id for e in ruleset._exemptions] \
            + [t.id for t in ruleset._triggers]
        for element in ids:
            if element in seen:
                self.fail(element, "duplicate id", field="id")
            seen.add(element)
        if len(ruleset._factors) != len(self._items(ruleset._spec, "special_factors")):
            self.fail(None, "duplicate special-factor id", field="special_factors")


@functools.cache
def _figure_fields() -> frozenset[str]:
    """Names of the UnitFigures and ParentFigures fields (what a rule may depend on)."""
    return frozenset(f.name for f in fields(UnitFigures)) | frozenset(f.name for f in fields(ParentFigures))
