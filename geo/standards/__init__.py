"""Statutory standards of Vietnamese administrative units: rule sets as data, checks as code.

The legal numbers and their wording live in ``geo/rules/*.yaml``, one file per regime (R1211, R76,
R112, R35), validated by the pydantic models of :mod:`.schema` (published as
``docs/contract/rules.schema.json``). Each rule covers one criterion of one kind of unit
(``r76.ward.population``) and carries its threshold, unit, comparison, variants (mountainous, border,
island, central city...), the special-factor reductions that may replace its floor, its legal citation
and whether the number is confirmed. A user picks a regime, edits a copy of a file, or overrides
thresholds::

    rules = RuleSet.load("R76").with_overrides({"r76.ward.population": 20000})
    results = rules.check_unit(UnitFigures(kind=UnitKind.ward, area_km2=12.1, population=23000))
    overall_status(results)   # "pass"

A user file may also extend a built-in regime::

    extends: R76
    name: "R76 with our own ward floor"
    overrides: {r76.ward.population: 20000}

Modules: :mod:`.figures` (inputs and results), :mod:`.schema` (the rules-file models),
:mod:`.ruleset` (the rule set and the check of one rule), :mod:`.triggers` (35/2023 "must be
arranged"), :mod:`.overrides` (user-set numbers), :mod:`.loading` (regimes and files).
"""
from __future__ import annotations

from .figures import ParentFigures, RuleResult, UnitFigures, overall_status
from .loading import RULES_DIR
from .ruleset import DEFAULT_REGIME, RuleSet
from .schema import SCHEMA, RulesFile

__all__ = [
    "DEFAULT_REGIME",
    "ParentFigures",
    "RULES_DIR",
    "RuleResult",
    "RuleSet",
    "RulesFile",
    "SCHEMA",
    "UnitFigures",
    "overall_status",
]
