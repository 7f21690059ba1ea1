"""The typed contract of diagioi: a scenario (file/API body) and its evaluation, with JSON Schemas.

``python -m diagioi.geo.contract`` writes ``docs/contract/scenario.schema.json``,
``docs/contract/evaluation.schema.json`` and ``docs/contract/rules.schema.json`` (the rules files
``geo/rules/*.yaml``, from :class:`geo.standards.RulesFile`) from these models.
"""
from __future__ import annotations

import json

from .evaluation import EvaluationReport, MessageOut, NewUnitReport, ParentReport, StandardReport, Totals
from .scenario import (FLAG_NAMES, NewUnit, Parent, RegionFlags, Scenario, Scope, contract_error, contract_problem,
                       describe_errors)

__all__ = ["FLAG_NAMES", "EvaluationReport", "MessageOut", "NewUnit", "NewUnitReport", "Parent", "ParentReport",
           "RegionFlags", "Scenario", "Scope", "StandardReport", "Totals", "contract_error", "contract_problem",
           "describe_errors", "json_schemas", "schema_texts"]

SCHEMA_BASE = "https://github.com/diagioi/diagioi/docs/contract/"


def json_schemas() -> dict[str, dict]:
    """File name → JSON Schema (draft 2020-12) of the scenario (input), the evaluation (output) and a
    rules file (``geo/rules/*.yaml``)."""
    from ..standards import RulesFile

    scenario = Scenario.model_json_schema(mode="validation")
    evaluation = EvaluationReport.model_json_schema(mode="serialization")
    rules = RulesFile.model_json_schema(mode="validation")
    out = {}
    for name, schema, title in (("scenario.schema.json", scenario, "diagioi scenario"),
                                ("evaluation.schema.json", evaluation, "diagioi evaluation"),
                                ("rules.schema.json", rules, "diagioi rules file")):
        out[name] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_BASE + name,
                     **schema, "title": title}
    return out


def schema_texts() -> dict[str, str]:
    """The schema files' exact text (sorted keys, 2-space indent, UTF-8, final newline)."""
    return {name: json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
            for name, schema in json_schemas().items()}
