"""Merger scenarios: pure data that a person can write by hand (JSON or YAML).

The models live in :mod:`diagioi.geo.contract.scenario` (one typed contract for files, API bodies
and the published JSON Schema); this module is the name callers import them by.
"""
from __future__ import annotations

from .contract.scenario import DEFAULT_REGIME, FLAG_NAMES, NewUnit, Parent, RegionFlags, Scenario, Scope

__all__ = ["DEFAULT_REGIME", "FLAG_NAMES", "NewUnit", "Parent", "RegionFlags", "Scenario", "Scope"]
