"""The rule set: one regime's standards read from its rules file, and the check of a unit against them."""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Mapping

from ..errors import RuleSetError
from ..i18n import Message
from .figures import (ParentFigures, RuleResult, Text, UnitFigures, message_of, missing, missing_message, quantity,
                      round_margin)
from .loading import RULES_DIR, builtin_index, load_builtin, load_path, read_yaml, regime_key, resolve_reference
from .overrides import apply_override, override_keys, override_number
from .schema import UNIT_KINDS, Exemption, Rule, RulesFile, SpecialFactor, read_rules_file
from .triggers import check_triggers

DEFAULT_REGIME = "R76"


@dataclass(frozen=True)
class Threshold:
    """A rule's threshold resolved for one unit: variant picked, special factor applied."""

    value: float | None
    variant: str | None
    citation: Message | Text
    confirmed: bool
    notes: tuple[Message, ...]


class RuleSet:
    """One regime's standards, loaded from a YAML file; checks units and parents against them."""

    def __init__(self, spec: Mapping[str, Any], *, source: str | Path,
                 baseline: "RuleSet | None" = None, parent_fallback: "RuleSet | None" = None):
        """Build from an already-read spec (validated against :class:`RulesFile`); :meth:`load` reads one."""
        self.source = str(source)
        self._spec = copy.deepcopy(dict(spec))
        self.file: RulesFile = read_rules_file(self._spec, self.source)
        self.id: str = self.file.id
        self.name: str = self.file.name
        self.citation: Text = self.file.local("citation")
        self.confirmed: bool = self.file.confirmed
        self.effective: str | None = self.file.effective
        self.note: Text | None = self.file.local("note")
        self.unconfirmed_note: Message = (message_of(self.file.local("unconfirmed_note")) if self.file.unconfirmed_note
                                          else Message("note.regime_unconfirmed", {"regime": self.name}))
        self.fail_note: Text | None = self.file.local("fail_note")
        self.rules: tuple[Rule, ...] = tuple(self.file.rules)
        self._factors: dict[str, SpecialFactor] = {f.id: f for f in self.file.special_factors}
        fallback = self.file.parent_fallback
        self._fallback_kinds = frozenset(fallback.kinds) if fallback else frozenset()
        base_dir = Path(self.source).parent if Path(self.source).is_file() else RULES_DIR
        if self.file.triggers and baseline is None:
            baseline = resolve_reference(self.file.baseline, base_dir, self.source, "baseline")
        if fallback and parent_fallback is None:
            parent_fallback = resolve_reference(fallback.regime, base_dir, self.source, "parent_fallback")
        self.baseline = baseline
        self.parent_fallback = parent_fallback

    # ---------------------------------------------------------------- loading
    @classmethod
    def load(cls, regime_or_path: str | Path = DEFAULT_REGIME) -> "RuleSet":
        """Load a built-in regime ("R76", "r76", "76/2025", "R1211", "R112", "R35") or a YAML path.

        A user file is either a complete rule set (same schema as ``geo/rules/*.yaml``) or
        ``extends: <regime or path>`` with ``overrides: {rule id: threshold}``.
        """
        if isinstance(regime_or_path, Path) or str(regime_or_path).lower().endswith((".yaml", ".yml")):
            return load_path(Path(regime_or_path))
        key = regime_key(str(regime_or_path))
        index = builtin_index()
        if key not in index:
            raise RuleSetError(
                f"unknown standards regime {regime_or_path!r}",
                hint="use one of " + ", ".join(entry["id"] for entry in cls.available())
                     + " or the path of a .yaml rules file",
                context={"regime": str(regime_or_path)},
            )
        return load_builtin(index[key])

    @staticmethod
    def available() -> list[dict]:
        """Built-in regimes: ``[{"id", "name", "confirmed", "effective", "citation", "path"}]``, R76 first."""
        entries = []
        for path in sorted(RULES_DIR.glob("*.yaml")):
            spec = read_yaml(path)
            entries.append({"id": spec.get("id"), "name": spec.get("name"), "confirmed": spec.get("confirmed"),
                            "effective": spec.get("effective"), "citation": spec.get("citation"),
                            "path": str(path)})
        return sorted(entries, key=lambda e: (e["id"] != DEFAULT_REGIME, str(e["id"])))

    # ---------------------------------------------------------------- checks
    def check_unit(self, figures: UnitFigures) -> list[RuleResult]:
        """Check one commune-level unit; one result per applicable rule (or per R35 trigger row)."""
        kind = str(figures.kind)
        if self.file.triggers:
            return check_triggers(self, figures, "unit", kind)
        rules = [r for r in self.rules if r.level == "unit" and kind in r.kinds and r.applies_to(figures)]
        if not rules:
            return [self.no_standard(kind)]
        return [self._check_rule(rule, figures, exemption=self._exemption_for(rule, figures, kind))
                for rule in rules]

    def check_parent(self, figures: ParentFigures) -> list[RuleResult]:
        """Check the city/province the new units make up (area, population, subunits, ward share)."""
        kind = str(figures.kind)
        if self.file.triggers:
            return check_triggers(self, figures, "parent", kind)
        rules = [r for r in self.rules if r.level == "parent" and kind in r.kinds and r.applies_to(figures)]
        if not rules and kind in self._fallback_kinds and self.parent_fallback is not None:
            note = Message("note.fallback", {"text": self.file.parent_fallback.local("note"),
                                             "regime": self.parent_fallback.name})
            return [r.with_note(note, first=True) for r in self.parent_fallback.check_parent(figures)]
        if not rules:
            return [self.no_standard(kind)]
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
            apply_override(spec, key, override_number(key, value, self.source), self)
        return RuleSet(spec, source=self.source, baseline=self.baseline, parent_fallback=self.parent_fallback)

    def override_keys(self) -> list[str]:
        """Every key :meth:`with_overrides` accepts."""
        return override_keys(self)

    def to_dict(self) -> dict:
        """The rule set as plain data (the YAML content plus its source)."""
        data = copy.deepcopy(self._spec)
        data["source"] = self.source
        return data

    def __repr__(self) -> str:
        return (f"RuleSet({self.id!r}, rules={len(self.rules)}, triggers={len(self.file.triggers)}, "
                f"source={self.source!r})")

    # ---------------------------------------------------------------- evaluation of one rule
    def resolve_threshold(self, rule: Rule, figures: Any) -> Threshold:
        """The threshold that applies to these figures: the first matching variant, then the lowest
        special-factor reduction (one factor per standard; it replaces the floor, never stacks)."""
        notes: list[Message] = []
        variant = next((v for v in rule.variants if v.applies_to(figures)), None)
        threshold = variant.threshold if variant else rule.threshold
        citation = variant.local("citation") if variant and variant.citation else rule.local("citation")
        confirmed = rule.confirmed
        statutory = variant.statutory_threshold if variant else rule.statutory_threshold
        if statutory is not None:
            confirmed = False
            notes.append(Message("note.threshold_user", {"statutory": quantity(statutory, rule.unit)}))
        derivation = variant.local("derivation") if variant and variant.derivation else rule.local("derivation")
        if derivation:
            notes.append(Message("note.derivation", {"derivation": derivation}))
        for key, assumption in rule.assumptions.items():
            if getattr(figures, key, None) is None:
                notes.append(message_of(assumption))
        if threshold is not None and rule.reductions:
            best: tuple[float, SpecialFactor, float, float] | None = None
            for factor_id in rule.reductions:
                factor = self._factors[factor_id]
                if not factor.applies_to(figures):
                    continue
                pct = factor.pct_for(figures)
                standard = rule.threshold if factor.of_variant == "base" else threshold
                reduced = pct * standard / 100
                if best is None or reduced < best[0]:
                    best = (reduced, factor, pct, standard)
            if best is not None and best[0] < threshold:
                reduced, factor, pct, standard = best
                notes.append(Message("note.special_factor", {
                    "factor": factor.id, "pct": pct, "standard": quantity(standard, rule.unit),
                    "threshold": quantity(threshold, rule.unit)}))
                if factor.statutory_pct is not None:
                    notes.append(Message("note.factor_user", {"statutory": factor.statutory_pct}))
                    confirmed = False
                if factor.note:
                    notes.append(message_of(factor.local("note")))
                threshold = reduced
                citation = Message("citation.join", {"first": citation, "second": factor.local("citation")})
                confirmed = confirmed and factor.confirmed
        return Threshold(threshold, variant.name if variant else None, citation, confirmed, tuple(notes))

    def _check_rule(self, rule: Rule, figures: Any, exemption: Exemption | None = None) -> RuleResult:
        rule_note = (message_of(rule.local("note")),) if rule.note else ()
        if rule.comparison == "none":
            return self.finish(RuleResult(
                rule=rule.id, criterion=rule.criterion, passed=None, value=None, threshold=None, unit=rule.unit,
                comparison="none", margin=None, percent_of_standard=None, cite=rule.local("citation"),
                confirmed=rule.confirmed, exempt=True, notes=rule_note))
        resolved = self.resolve_threshold(rule, figures)
        value, missing_note = _criterion_value(rule, figures)
        notes = [*resolved.notes, *rule_note]
        if missing_note:
            notes.append(missing_note)
        citation, confirmed = resolved.citation, resolved.confirmed
        if exemption is not None:
            counts = {"n": figures.n_members, "n_min": int(exemption.n_members_min)}
            notes.append(Message("note.exempt_with", {**counts, "text": exemption.local("note")}) if exemption.note
                         else Message("note.exempt", counts))
            citation = Message("citation.exempt", {"citation": citation, "exemption": exemption.local("citation")})
            confirmed = confirmed and exemption.confirmed
        if value is None or resolved.value is None:
            passed = margin = percent = None
        else:
            passed = value >= resolved.value if rule.comparison == ">=" else value < resolved.value
            margin = round_margin(value - resolved.value)
            percent = round(100 * value / resolved.value, 1)
        return self.finish(RuleResult(
            rule=rule.id, criterion=rule.criterion, passed=passed, value=value, threshold=resolved.value,
            unit=rule.unit, comparison=rule.comparison, margin=margin, percent_of_standard=percent, cite=citation,
            confirmed=confirmed, exempt=exemption is not None, notes=tuple(notes), variant=resolved.variant))

    def finish(self, result: RuleResult) -> RuleResult:
        """Add the regime-wide notes of the rules file: its fail note on failure, the unconfirmed note."""
        if result.passed is False and not result.exempt and self.fail_note:
            result = result.with_note(message_of(self.fail_note))
        if not self.confirmed:
            result = dataclasses.replace(result.with_note(self.unconfirmed_note), confirmed=False)
        elif not result.confirmed and not any(m.code in ("note.not_confirmed", "note.regime_unconfirmed")
                                              for m in result.notes):
            result = result.with_note(Message("note.not_confirmed"))
        return result

    def _exemption_for(self, rule: Rule, figures: UnitFigures, kind: str) -> Exemption | None:
        for exemption in self.file.exemptions:
            if (kind in exemption.kinds and rule.criterion in exemption.criteria
                    and figures.n_members >= exemption.n_members_min):
                return exemption
        return None

    def no_standard(self, kind: str) -> RuleResult:
        """The result for a kind this regime sets no standard for."""
        kind_key = f"kind.{kind}" if kind in UNIT_KINDS else f"parent_kind.{kind}"
        return self.finish(RuleResult(
            rule=f"{self.id.lower()}.{kind}.no_standard", criterion="no_standard", passed=None, value=None,
            threshold=None, unit="", comparison="none", margin=None, percent_of_standard=None,
            cite=self.citation, confirmed=self.confirmed,
            notes=(Message("note.no_standard", {"regime": self.name, "kind_id": kind, "kind": Message(kind_key)}),)))


def _criterion_value(rule: Rule, figures: Any) -> tuple[float | None, Message | None]:
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
    if missing(value):
        return None, missing_message(rule.criterion)
    return float(value), None
