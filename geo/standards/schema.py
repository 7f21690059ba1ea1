"""The rules-file schema: pydantic models of ``geo/rules/*.yaml`` (and of a user's copy of one).

Every object of a rules file is a model with ``extra="forbid"``, so a misspelt key is an error, not a
silently ignored line. :func:`read_rules_file` validates a parsed file and turns the first problem into
a :class:`RuleSetError` that names the file, the rule (its ``id``) and the field, with a hint.
``RulesFile.model_json_schema()`` is published as ``docs/contract/rules.schema.json``
(``python -m diagioi.geo.contract``).

A text a person reads has an English field and a Vietnamese companion (``citation`` / ``citation_vi``,
``note`` / ``note_vi``…): the legal wording of a result — citations, notes, exemption and fail notes,
derivations — comes from these fields, never from code.
"""
from __future__ import annotations

import functools
from typing import Annotated, Any, Literal
from collections.abc import Mapping

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, StrictBool, ValidationError,
                      WithJsonSchema, model_validator)
from pydantic_core import PydanticCustomError

from ..errors import RuleSetError
from ..kinds import ParentKind, UnitKind
from .figures import Text, figure_fields, missing

__all__ = ["SCHEMA", "Condition", "EthnicStep", "Exemption", "ExtendsFile", "ParentFallback", "Rule", "RulesFile",
           "SpecialFactor", "Trigger", "Variant", "read_extends_file", "read_rules_file"]

SCHEMA = "diagioi-standards/1"

UNIT_KINDS = tuple(k.value for k in UnitKind)
PARENT_KINDS = tuple(k.value for k in ParentKind)
# criterion -> (unit of measure, levels it may be used at)
CRITERIA: dict[str, tuple[str, frozenset[str]]] = {
    "area_km2": ("km²", frozenset({"unit", "parent"})),
    "population": ("người", frozenset({"unit", "parent"})),
    "subunits": ("đơn vị", frozenset({"parent"})),
    "ward_share": ("%", frozenset({"parent"})),
    "no_numeric_standard": ("", frozenset({"unit", "parent"})),
}
FLAG_CONDITIONS = ("mountainous", "border", "island", "central_city", "red_river_delta", "coastal_poor")

NonEmptyText = Annotated[str, Field(strict=True, pattern=r"\S")]
PositiveNumber = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]
Criterion = Literal["area_km2", "population", "subunits", "ward_share", "no_numeric_standard"]
Level = Literal["unit", "parent"]


def _one_or_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _kinds_schema(kinds: tuple[str, ...], what: str) -> WithJsonSchema:
    one = {"enum": list(kinds)}
    return WithJsonSchema({"anyOf": [one, {"type": "array", "items": one, "minItems": 1}],
                           "description": f"a {what} kind or a list of them"})


#: A kind or a list of kinds; which kinds are allowed depends on the element's level (checked after).
Kinds = Annotated[list[str], BeforeValidator(_one_or_list), Field(min_length=1),
                  _kinds_schema(UNIT_KINDS + PARENT_KINDS, "unit or parent")]
UnitKinds = Annotated[list[str], BeforeValidator(_one_or_list), Field(min_length=1), _kinds_schema(UNIT_KINDS, "unit")]
ParentKinds = Annotated[list[str], BeforeValidator(_one_or_list), Field(min_length=1),
                        _kinds_schema(PARENT_KINDS, "parent")]


def problem(text: str, *, field: str | None = None, hint: str | None = None,
            element: str | None = None) -> PydanticCustomError:
    """A rules-file problem raised inside a validator: the message, the field and a hint for the reader."""
    return PydanticCustomError("rules_file", "{problem}",
                               {"problem": text, "field": field, "hint": hint, "element": element})


def _check_kinds(kinds: list[str], allowed: tuple[str, ...], level: str, field: str = "kinds") -> None:
    bad = [k for k in kinds if k not in allowed]
    if bad:
        raise problem(f"unknown {level} kind(s) {bad}", field=field,
                      hint=f"{level} kinds: " + ", ".join(sorted(allowed)))


class _Element(BaseModel):
    """An object of a rules file: no unknown key; a ``*_vi`` text only beside the text it translates."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _translations_have_their_text(self):
        for name in type(self).model_fields:
            if name.endswith("_vi") and getattr(self, name) is not None and getattr(self, name[:-3]) is None:
                raise problem(f"'{name}' is given without '{name[:-3]}'", field=name)
        return self

    def local(self, name: str) -> Text | None:
        """A text a person reads, ``{"en": name, "vi": name_vi}`` (the English one when no translation)."""
        english = getattr(self, name)
        if english is None:
            return None
        return {"en": english, "vi": getattr(self, f"{name}_vi", None) or english}


class Condition(_Element):
    """When a rule, variant or special factor applies: every key given must hold."""

    mountainous: StrictBool | None = None
    border: StrictBool | None = None
    island: StrictBool | None = None
    central_city: StrictBool | None = None
    red_river_delta: StrictBool | None = None
    coastal_poor: StrictBool | None = None
    parent_kind: ParentKinds | None = Field(None, description="the unit's parent is of one of these kinds")
    ethnic_minority_share_min: Annotated[float, Field(strict=True, ge=0, le=1)] | None = Field(
        None, description="ethnic-minority share of at least this fraction (0..1)")
    _tests: tuple[tuple[str, Any], ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _parent_kinds_known(self):
        if self.parent_kind is not None:
            _check_kinds(self.parent_kind, PARENT_KINDS, "parent", field="parent_kind")
        return self

    def model_post_init(self, context: Any) -> None:
        self._tests = tuple((key, value) for key, value in self.__dict__.items() if value is not None)

    def matches(self, figures: Any) -> bool:
        for key, expected in self._tests:
            if key == "ethnic_minority_share_min":
                share = getattr(figures, "ethnic_minority_share", None)
                if missing(share) or share < expected:
                    return False
            elif key == "parent_kind":
                value = getattr(figures, key, None)
                if value is None or str(value) not in expected:
                    return False
            elif bool(getattr(figures, key, None)) is not expected:
                return False
        return True


class _Conditional(_Element):
    when: Condition | None = Field(None, description="conditions that must all hold")
    when_any: list[Condition] = Field([], description="at least one of these conditions must hold")

    def applies_to(self, figures: Any) -> bool:
        if self.when is not None and not self.when.matches(figures):
            return False
        return not self.when_any or any(c.matches(figures) for c in self.when_any)

    def condition_tests(self) -> list[tuple[str, Any]]:
        """Every ``(figures field, expected value)`` its ``when`` and ``when_any`` test (why it applied)."""
        conditions = ([self.when] if self.when is not None else []) + list(self.when_any)
        return [test for condition in conditions for test in condition._tests]


class Variant(_Conditional):
    """Another threshold of a rule for units matching ``when`` (the first matching variant wins)."""

    name: NonEmptyText
    threshold: PositiveNumber
    citation: NonEmptyText | None = None
    citation_vi: NonEmptyText | None = None
    derivation: NonEmptyText | None = None
    derivation_vi: NonEmptyText | None = None
    statutory_threshold: PositiveNumber | None = Field(None, description="set when a user override replaced the "
                                                                         "file's threshold")


class EthnicStep(_Element):
    """1211 Art. 3a: the factor's percentage falls by ``pct_less`` for each further ``share_every`` of share."""

    share_from: PositiveNumber
    share_every: PositiveNumber
    pct_less: PositiveNumber
    floor_pct: PositiveNumber


class SpecialFactor(_Conditional):
    """A special-factor reduction a rule may name in ``reductions``: the floor becomes a % of the standard."""

    id: NonEmptyText
    criterion: Literal["area_km2", "population"]
    pct_of_standard: PositiveNumber
    of_variant: Literal["own", "base"] = Field("own", description="own: % of the unit's own variant; base: % of "
                                                                  "the plain standard")
    ethnic_step: EthnicStep | None = None
    citation: NonEmptyText
    citation_vi: NonEmptyText | None = None
    confirmed: StrictBool
    note: NonEmptyText | None = None
    note_vi: NonEmptyText | None = None
    statutory_pct: PositiveNumber | None = None

    @model_validator(mode="after")
    def _lowers_the_standard(self):
        if self.pct_of_standard > 100:
            raise problem(f"'pct_of_standard' {self.pct_of_standard:g} would raise the standard",
                          field="pct_of_standard", hint="a special factor gives a percentage of at most 100")
        return self

    def pct_for(self, figures: Any) -> float:
        """Percentage of the standard this factor allows for these figures (ethnic steps applied)."""
        import math

        pct = self.pct_of_standard
        share = getattr(figures, "ethnic_minority_share", None)
        step = self.ethnic_step
        if step and not missing(share) and share > step.share_from:
            # "each further 10 %" — the epsilon keeps 0.40 - 0.30 = 0.0999… from losing a step
            steps = math.floor((share - step.share_from) / step.share_every + 1e-9)
            pct = max(step.floor_pct, pct - steps * step.pct_less)
        return pct


FigureField = Literal[tuple(sorted(figure_fields()))]  # type: ignore[valid-type]


class Rule(_Conditional):
    """One criterion of some kinds of unit (or parent): threshold, comparison, variants, legal basis."""

    id: NonEmptyText
    level: Level
    kinds: Kinds
    criterion: Criterion
    comparison: Literal[">=", "<", "none"]
    threshold: PositiveNumber | None = Field(None, description="required unless comparison is none")
    unit: str | None = Field(None, description="the criterion's unit of measure (km², người, đơn vị, %)")
    variants: list[Variant] = []
    reductions: list[NonEmptyText] = Field([], description="ids of the special factors that may lower the floor")
    count: Literal["units", "wards"] = Field("units", description="subunits rules: count all units or the wards")
    assume_if_missing: dict[FigureField, NonEmptyText] = Field(
        {}, description="figures field → the note said when that figure is missing")
    assume_if_missing_vi: dict[FigureField, NonEmptyText] = {}
    citation: NonEmptyText
    citation_vi: NonEmptyText | None = None
    confirmed: StrictBool
    note: NonEmptyText | None = None
    note_vi: NonEmptyText | None = None
    derivation: NonEmptyText | None = None
    derivation_vi: NonEmptyText | None = None
    statutory_threshold: PositiveNumber | None = None

    @model_validator(mode="after")
    def _consistent(self):
        _check_kinds(self.kinds, UNIT_KINDS if self.level == "unit" else PARENT_KINDS, self.level)
        unit, levels = CRITERIA[self.criterion]
        if self.level not in levels:
            raise problem(f"criterion {self.criterion} is not checked at {self.level} level", field="criterion")
        if (self.comparison == "none") != (self.criterion == "no_numeric_standard"):
            raise problem("comparison 'none' goes with criterion no_numeric_standard only", field="comparison")
        if self.comparison != "none" and self.threshold is None:
            raise problem("'threshold' must be a positive number (missing)", field="threshold",
                          hint="write e.g. threshold: 5.5 (a plain number, no unit)")
        if self.unit is not None and self.unit != unit:
            raise problem(f"unit of {self.criterion} is {unit!r}, not {self.unit!r}", field="unit")
        self.unit = unit
        if self.count == "wards" and self.criterion != "subunits":
            raise problem("'count: wards' is for subunits rules only", field="count")
        if set(self.assume_if_missing_vi) - set(self.assume_if_missing):
            raise problem("'assume_if_missing_vi' translates fields 'assume_if_missing' does not have",
                          field="assume_if_missing_vi")
        return self

    @functools.cached_property
    def assumptions(self) -> dict[str, Text]:
        """Figures field → the note (in both languages) said when that figure is missing."""
        return {k: {"en": v, "vi": self.assume_if_missing_vi.get(k, v)} for k, v in self.assume_if_missing.items()}


class Exemption(_Element):
    """Units merged from at least ``n_members_min`` former units need not meet these criteria."""

    id: NonEmptyText
    n_members_min: PositiveNumber
    kinds: UnitKinds
    criteria: list[Criterion]
    citation: NonEmptyText
    citation_vi: NonEmptyText | None = None
    confirmed: StrictBool
    note: NonEmptyText | None = None
    note_vi: NonEmptyText | None = None

    @model_validator(mode="after")
    def _unit_kinds(self):
        _check_kinds(self.kinds, UNIT_KINDS, "unit")
        return self


class Trigger(_Element):
    """A "must be arranged" row (35/2023): area AND population below these % of the baseline standard."""

    id: NonEmptyText
    period: NonEmptyText
    period_vi: NonEmptyText | None = None
    level: Level
    kinds: Kinds
    area_pct_lt: PositiveNumber
    population_pct_lt: PositiveNumber
    citation: NonEmptyText
    citation_vi: NonEmptyText | None = None
    confirmed: StrictBool
    note: NonEmptyText | None = None
    note_vi: NonEmptyText | None = None
    statutory: dict[Literal["area_km2", "population"], PositiveNumber] = Field(
        {}, description="the file's percentages a user override replaced")

    @model_validator(mode="after")
    def _kinds_of_level(self):
        _check_kinds(self.kinds, UNIT_KINDS if self.level == "unit" else PARENT_KINDS, self.level)
        return self


class ParentFallback(_Element):
    """Parents of these kinds, for which the regime sets no standard, are checked under another regime."""

    regime: NonEmptyText
    kinds: ParentKinds
    note: NonEmptyText
    note_vi: NonEmptyText | None = None

    @model_validator(mode="after")
    def _parent_kinds(self):
        _check_kinds(self.kinds, PARENT_KINDS, "parent")
        return self


class RulesFile(_Element):
    """A rule set: one regime's standards (``geo/rules/*.yaml``, or a user's complete copy of one)."""

    schema_: Literal["diagioi-standards/1"] | None = Field(None, alias="schema")
    id: NonEmptyText
    name: NonEmptyText
    citation: NonEmptyText
    citation_vi: NonEmptyText | None = None
    confirmed: StrictBool
    effective: NonEmptyText | None = None
    aliases: list[NonEmptyText] = Field([], description="other names RuleSet.load accepts (e.g. 76/2025)")
    note: NonEmptyText | None = None
    note_vi: NonEmptyText | None = None
    fail_note: NonEmptyText | None = Field(None, description="added to every failed, non-exempt result")
    fail_note_vi: NonEmptyText | None = None
    unconfirmed_note: NonEmptyText | None = Field(None, description="added to every result of an unconfirmed "
                                                                    "regime")
    unconfirmed_note_vi: NonEmptyText | None = None
    special_factors: list[SpecialFactor] = []
    exemptions: list[Exemption] = []
    parent_fallback: ParentFallback | None = None
    rules: list[Rule] = []
    baseline: NonEmptyText | None = Field(None, description="regime the trigger percentages refer to")
    triggers: list[Trigger] = []

    model_config = ConfigDict(extra="forbid", populate_by_name=True,
                              json_schema_extra={"description": "A diagioi rules file (geo/rules/*.yaml)."})

    @model_validator(mode="after")
    def _whole_file(self):
        if not self.rules and not self.triggers:
            raise problem("no 'rules' (or 'triggers') in the file", field="rules")
        if self.triggers and self.baseline is None:
            raise problem("a file with 'triggers' needs 'baseline' (the regime its percentages refer to)",
                          field="baseline", hint="add baseline: R1211")
        factors = {f.id: f for f in self.special_factors}
        for rule in self.rules:
            for factor_id in rule.reductions:
                if factor_id not in factors:
                    raise problem(f"unknown special factor {factor_id!r} in reductions", field="reductions",
                                  element=rule.id, hint=("declare it under special_factors: " + ", ".join(factors))
                                  if factors else "declare it under special_factors")
                if factors[factor_id].criterion != rule.criterion:
                    raise problem(f"special factor {factor_id!r} reduces {factors[factor_id].criterion},"
                                  f" not {rule.criterion}", field="reductions", element=rule.id)
        seen: set[str] = set()
        for element in [r.id for r in self.rules] + list(f.id for f in self.special_factors) \
                + [e.id for e in self.exemptions] + [t.id for t in self.triggers]:
            if element in seen:
                raise problem("duplicate id", field="id", element=element, hint="give every element its own id")
            seen.add(element)
        return self


class ExtendsFile(_Element):
    """A user file that changes a built-in regime: ``extends: R76`` plus threshold ``overrides``."""

    extends: NonEmptyText = Field(description="a regime (R76, R1211…) or the path of a .yaml rules file")
    overrides: dict[str, Any] = Field({}, description="rule id (or rule id@variant, factor id, trigger row) → "
                                                      "threshold")
    name: NonEmptyText | None = None
    note: NonEmptyText | None = None
    note_vi: NonEmptyText | None = None


# ---------------------------------------------------------------------------------------- reading and errors
_SECTIONS = {"rules": Rule, "special_factors": SpecialFactor, "exemptions": Exemption, "triggers": Trigger}
_CONTAINERS: dict[str, tuple[type[BaseModel], str]] = {
    "rules": (Rule, "a rule"), "special_factors": (SpecialFactor, "a special factor"),
    "exemptions": (Exemption, "an exemption"), "triggers": (Trigger, "a trigger"),
    "parent_fallback": (ParentFallback, "parent_fallback"), "variants": (Variant, "a variant"),
    "ethnic_step": (EthnicStep, "ethnic_step"), "when": (Condition, "a condition"),
    "when_any": (Condition, "a condition"),
}
_EXPECTED = {"bool": "true or false", "number": "a positive number", "text": "a non-empty text",
             "list": "a list", "dict": "a mapping"}


def read_rules_file(spec: Any, source: str) -> RulesFile:
    """Validate a parsed rules file; the first problem is a :class:`RuleSetError` naming file, rule and field."""
    try:
        return RulesFile.model_validate(spec)
    except ValidationError as exc:
        raise _rule_set_error(exc, spec, source, RulesFile, "the rules file") from None


def read_extends_file(spec: Any, source: str) -> ExtendsFile:
    """Validate a file that extends a regime (``extends``, ``overrides``, ``name``, ``note``)."""
    try:
        return ExtendsFile.model_validate(spec)
    except ValidationError as exc:
        raise _rule_set_error(exc, spec, source, ExtendsFile, "an 'extends' file") from None


def _rule_set_error(exc: ValidationError, spec: Any, source: str, model: type[BaseModel], what: str) -> RuleSetError:
    error = exc.errors(include_url=False)[0]
    loc = tuple(error["loc"])
    element = _element_of(loc, spec)
    container = next((part for part in reversed(loc[:-1]) if isinstance(part, str) and part in _CONTAINERS), None)
    owner, owner_name = _CONTAINERS.get(container, (model, what))
    field = next((part for part in reversed(loc) if isinstance(part, str) and not part.startswith("[")), None)
    if error["type"] == "extra_forbidden" and owner is Condition:
        text, hint = (f"unknown condition {field!r}",
                      "conditions: " + ", ".join(sorted(Condition.model_fields)))
    elif error["type"] == "extra_forbidden":
        text, hint = (f"unknown key(s) [{field!r}] in {owner_name}",
                      "allowed keys: " + ", ".join(sorted(f.alias or name for name, f in owner.model_fields.items())))
    else:
        text, hint, field, element = _described(error, field, element, owner)
    where = f"rule {element!r}: " if element else ""
    more = len(exc.errors()) - 1
    return RuleSetError(f"{source}: {where}{text}" + (f" (and {more} more problem(s))" if more > 0 else ""),
                        hint=hint or "fix the rules file (see geo/rules/r76.yaml for the format)",
                        context={"file": source, "rule": element, "field": field})


def _element_of(loc: tuple, spec: Any) -> str | None:
    """The id of the element a location points into (``rules[3]`` when it has none), or None (the header)."""
    if len(loc) >= 2 and loc[0] in _SECTIONS and isinstance(loc[1], int):
        items = spec.get(loc[0]) if isinstance(spec, Mapping) else None
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        identifier = item.get("id") if isinstance(item, Mapping) else None
        return identifier if isinstance(identifier, str) and identifier.strip() else f"{loc[0]}[{loc[1]}]"
    if loc and loc[0] == "parent_fallback":
        return "parent_fallback"
    return None


def _described(error: Mapping[str, Any], field: str | None, element: str | None,
               owner: type[BaseModel]) -> tuple[str, str | None, str | None, str | None]:
    """(problem, hint, field, element) of one pydantic error, in the words of a rules file."""
    kind, value = error["type"], error.get("input")
    if kind == "rules_file":
        ctx = error["ctx"]
        return ctx["problem"], ctx.get("hint"), ctx.get("field") or field, ctx.get("element") or element
    if field == "criterion" and kind == "literal_error":
        return f"unknown criterion {value!r}", "criteria: " + ", ".join(CRITERIA), field, element
    if kind == "literal_error":
        return f"'{field}' must be one of {error['ctx']['expected']}, got {value!r}", None, field, element
    if kind.startswith("bool"):
        expected = _EXPECTED["bool"]
    elif kind.startswith(("float", "int", "greater_than", "less_than", "finite_number")):
        expected = "a share between 0 and 1" if field == "ethnic_minority_share_min" else _EXPECTED["number"]
    elif kind.startswith("string"):
        expected = _EXPECTED["text"]
    elif kind.startswith(("list", "too_short")):
        expected = "a non-empty list" if kind == "too_short" else _EXPECTED["list"]
    elif kind.startswith(("dict", "model")):
        expected = _EXPECTED["dict"]
    elif kind == "missing":
        info = owner.model_fields.get(field) or next(
            (f for f in owner.model_fields.values() if f.alias == field), None)
        annotation = getattr(info, "annotation", None)
        expected = {bool: _EXPECTED["bool"], float: _EXPECTED["number"], str: _EXPECTED["text"]}.get(
            annotation, "given")
        return f"'{field}' must be {expected} (missing)", f"add {field}: … (see geo/rules/r76.yaml)", field, element
    else:
        return f"'{field}': {error['msg']}", None, field, element
    hint = f"write e.g. {field}: 5.5 (a plain number, no unit)" if expected == _EXPECTED["number"] else None
    return f"'{field}' must be {expected}, got {value!r}", hint, field, element
