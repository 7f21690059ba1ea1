"""User overrides of a rule set's numbers: ``{rule id | rule id@variant | factor id | trigger row: value}``.

An override rewrites the rule-set spec (the YAML content) and keeps the file's own number beside the
new one (``statutory_threshold``, ``statutory_pct``, ``statutory``), so the result says it was user set.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import RuleSetError
from .figures import missing

if TYPE_CHECKING:
    from .ruleset import RuleSet


def override_number(key: Any, value: Any, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or missing(value) or value <= 0:
        raise RuleSetError(f"override {key!r}: threshold must be a positive number, got {value!r}",
                           hint="give a number such as 20000 or 5.5", context={"file": source, "rule": str(key)})
    return float(value)


def override_keys(ruleset: "RuleSet") -> list[str]:
    """Every key :meth:`RuleSet.with_overrides` accepts."""
    keys: list[str] = []
    for rule in ruleset.rules:
        if rule.threshold is not None:
            keys.append(rule.id)
        keys.extend(f"{rule.id}@{v.name}" for v in rule.variants)
    keys.extend(f.id for f in ruleset.file.special_factors)
    for trigger in ruleset.file.triggers:
        keys.extend([f"{trigger.id}.area_km2", f"{trigger.id}.population"])
    return keys


def apply_override(spec: dict, key: str, number: float, ruleset: "RuleSet") -> None:
    """Write one override into ``spec`` (a deep copy of the rule set's YAML content)."""
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
                       hint="use one of: " + ", ".join(override_keys(ruleset)),
                       context={"file": ruleset.source, "rule": str(key)})
