"""Search for what is missing (first step): which neighbouring unit would close a parent's gap.

For a parent (city/province) that fails a standard, every unit outside it that borders its land
is tried as a whole annexation, keeping its kind: the parent gains the unit's area (less the
ground it already overlaps, so nothing counts twice), its population, one unit and — for a
ward — one ward. The candidates whose annexation makes a failing standard pass are listed,
most standards closed first, then the smallest change (least area added).
"""
from __future__ import annotations

from dataclasses import replace

from .standards import ParentFigures, RuleSet

_CRITERIA = ("area_km2", "population", "subunits", "ward_share")


def annexation_candidates(units, ruleset: RuleSet, figures: ParentFigures, land_codes, *,
                          limit: int = 10) -> list[dict]:
    """Neighbours of ``land_codes`` whose whole annexation closes at least one failing standard.

    ``figures`` are the parent's figures after the scenario; ``land_codes`` the existing units
    whose land the parent holds (scope and annexed units). Each row gives the unit, what it adds,
    the parent's figures after it, and which failing standards it closes (``closes``) or leaves
    (``still_failing``).
    """
    failing = {r.criterion for r in ruleset.check_parent(figures) if r.passed is False and not r.exempt}
    failing &= set(_CRITERIA)
    if not failing:
        return []
    land = set(land_codes)
    graph = units.graph
    lookup = units.lookup
    gdf = units.gdf
    neighbours = sorted({n for code in land for n in graph.neighbours.get(code, ())} - land)
    rows = []
    for code in neighbours:
        overlap = sum(graph.overlap_km2(code, other) for other in graph.overlaps.get(code, {}) if other in land)
        added_km2 = lookup.area_km2[code] - overlap
        population = lookup.population[code]
        is_ward = lookup.kind[code] == "ward"
        after = replace(
            figures,
            area_km2=None if figures.area_km2 is None else figures.area_km2 + added_km2,
            population=None if figures.population is None or population is None else figures.population + population,
            n_units=figures.n_units + 1, n_wards=figures.n_wards + (1 if is_ward else 0))
        results = {r.criterion: r for r in ruleset.check_parent(after)}
        closes = sorted(c for c in failing if c in results and results[c].passed is True)
        if not closes:
            continue
        still = sorted(c for c in failing if c not in closes)
        district = gdf.at[code, "district"]
        rows.append({
            "code": code, "name": lookup.name[code], "kind": lookup.kind[code],
            "district": district if isinstance(district, str) else None,
            "area_km2": round(lookup.area_km2[code], 4), "added_area_km2": round(added_km2, 4),
            "population": None if population is None else int(population),
            "parent_after": {
                "units": after.n_units, "wards": after.n_wards,
                "ward_share": round(after.n_wards / after.n_units, 4) if after.n_units else None,
                "area_km2": None if after.area_km2 is None else round(after.area_km2, 4),
                "population": None if after.population is None else int(round(after.population)),
            },
            "closes": closes, "still_failing": still,
        })
    rows.sort(key=lambda r: (-len(r["closes"]), r["added_area_km2"], r["code"]))
    return rows[:limit]
