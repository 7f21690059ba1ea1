"""The typed contract of diagioi: a scenario (file/API body) and its evaluation, with JSON Schemas.

``python -m diagioi.geo.contract`` writes ``docs/contract/*.schema.json`` from these models.
"""
from .scenario import FLAG_NAMES, NewUnit, Parent, RegionFlags, Scenario, Scope, contract_error, contract_problem, describe_errors

__all__ = ["FLAG_NAMES", "NewUnit", "Parent", "RegionFlags", "Scenario", "Scope", "contract_error", "contract_problem",
           "describe_errors"]
