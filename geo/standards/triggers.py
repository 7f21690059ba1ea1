""""Must be arranged" triggers (35/2023): a unit whose area AND population are below given percentages
of its baseline standard (R1211, its own kind and variant, special factor applied) must be arranged.

Each trigger gives two results (area, population), comparison ``<``; both have ``passed=False`` when
the trigger fires, ``passed=True`` when either condition fails, ``None`` when a figure is missing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..i18n import Message
from .figures import RuleResult, missing, missing_message, quantity, round_margin

if TYPE_CHECKING:
    from .ruleset import RuleSet, Threshold
    from .schema import Rule


def baseline_threshold(ruleset: "RuleSet", level: str, kind: str, criterion: str,
                       figures: Any) -> "tuple[Rule, Threshold] | None":
    """The baseline regime's rule and resolved threshold for this unit and criterion, if it has one."""
    baseline = ruleset.baseline
    assert baseline is not None
    for rule in baseline.rules:
        if (rule.level == level and kind in rule.kinds and rule.criterion == criterion
                and rule.applies_to(figures) and rule.threshold is not None):
            return rule, baseline.resolve_threshold(rule, figures)
    return None


def check_triggers(ruleset: "RuleSet", figures: Any, level: str, kind: str) -> list[RuleResult]:
    triggers = [t for t in ruleset.file.triggers if t.level == level and kind in t.kinds]
    if not triggers:
        return [ruleset.no_standard(kind)]
    area_base = baseline_threshold(ruleset, level, kind, "area_km2", figures)
    population_base = baseline_threshold(ruleset, level, kind, "population", figures)
    if area_base is None or population_base is None:
        return [ruleset.no_standard(kind)]
    results: list[RuleResult] = []
    for trigger in triggers:
        rows = []
        for criterion, pct, (base_rule, base), value in (
                ("area_km2", trigger.area_pct_lt, area_base, figures.area_km2),
                ("population", trigger.population_pct_lt, population_base, figures.population)):
            threshold = pct * base.value / 100
            holds = None if missing(value) else value < threshold
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
                "period": trigger.local("period"), "pct": pct, "base": quantity(base.value, unit),
                "rule": base_rule.id, "variant": f", {base.variant}" if base.variant else ""})]
            notes.extend(base.notes)
            if holds is None:
                notes.append(missing_message(criterion))
            elif holds:
                notes.append(Message("note.trigger_below" if passed is False else "note.trigger_below_other"))
            if passed is False:
                notes.append(Message("note.trigger_fires"))
            statutory = trigger.statutory.get(criterion)
            confirmed = trigger.confirmed and base.confirmed
            if statutory is not None:
                notes.append(Message("note.trigger_user", {"statutory": statutory}))
                confirmed = False
            results.append(ruleset.finish(RuleResult(
                rule=f"{trigger.id}.{criterion}", criterion="must_arrange", passed=passed,
                value=None if missing(value) else float(value), threshold=threshold, unit=unit,
                comparison="<", margin=None if missing(value) else round_margin(value - threshold),
                percent_of_standard=None if missing(value) else round(100 * value / threshold, 1),
                cite=Message("citation.trigger", {"trigger": trigger.local("citation"), "base": base.citation}),
                confirmed=confirmed, notes=tuple(notes), variant=base.variant)))
    return results

