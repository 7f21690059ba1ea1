"""Search for what is missing (first step): which neighbouring unit would close a parent's gap.

For a parent (city/province) that fails a standard, every unit outside it that borders its land
is tried as a whole annexation, keeping its kind: the parent gains the unit's area (less the
ground it already overlaps, so nothing counts twice), its population, one unit and — for a
ward — one ward. The candidates whose annexation makes a failing standard pass are listed,
most standards closed first, then the smallest change (least area added).
"""
from __future__ import annotations

import math
from dataclasses import replace

from .standards import ParentFigures, RuleSet

_CRITERIA = ("area_km2", "population", "subunits", "ward_share")


def annexed_figures(units, figures: ParentFigures, land, codes, *, n_wards_added: int):
    """(area added, parent figures) after annexing the whole units ``codes`` to ``land``.

    The area added is the units' geodesic areas less their overlaps with the land and with each
    other (nothing counts twice); population, units and wards are added.
    """
    graph = units.graph
    lookup = units.lookup
    land = set(land)
    codes = list(codes)
    overlap = sum(graph.overlap_km2(code, other) for code in codes for other in graph.overlaps.get(code, {})
                  if other in land)
    added_km2 = sum(lookup.area_km2[c] for c in codes) - overlap - graph.internal_overlap_km2(codes)
    populations = [lookup.population[c] for c in codes]
    population = None if figures.population is None or any(p is None for p in populations) \
        else figures.population + sum(populations)
    after = replace(figures, area_km2=None if figures.area_km2 is None else figures.area_km2 + added_km2,
                    population=population, n_units=figures.n_units + len(codes),
                    n_wards=figures.n_wards + n_wards_added)
    return added_km2, after


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
        population = lookup.population[code]
        added_km2, after = annexed_figures(units, figures, land, [code],
                                           n_wards_added=1 if lookup.kind[code] == "ward" else 0)
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


def parent_target_candidates(units, ruleset: RuleSet, scope_codes, parent: dict, *, unit_flags: dict | None = None,
                             max_annex: int = 2, limit: int = 10) -> dict:
    """Smallest annexations (whole bordering units) and kind changes that close a parent's failing standards.

    Generalises :func:`annexation_candidates` to sets of up to ``max_annex`` bordering units, plus
    the kind changes the ward share needs: annexed communes become wards first, then the scope's
    communes with the highest density. Ranked by standards still failing, then units annexed, kind
    changes and area added (the smallest change first). Figures are computed (geodesic area of the
    scope's union plus what the annexed units add without overlap; population = exact sums).
    """
    from itertools import combinations

    from .arrangement import union_area_km2
    from .kinds import ParentKind

    lookup = units.lookup
    graph = units.graph
    scope = [c for c in units.gdf.index if c in set(scope_codes)]
    kind = ParentKind.parse(parent["kind"])
    flags = unit_flags or {}
    mountainous = bool(parent.get("mountainous")) or (bool(scope) and all(
        flags.get(c, {}).get("mountainous", lookup.mountainous[c]) for c in scope))
    population = None if any(lookup.population[c] is None for c in scope) else sum(lookup.population[c] for c in scope)
    before = ParentFigures(kind=kind, area_km2=union_area_km2(units.gdf.geometry.loc[scope].values),
                           population=population, n_units=len(scope),
                           n_wards=sum(1 for c in scope if lookup.kind[c] == "ward"), mountainous=mountainous)
    results = {r.criterion: r for r in ruleset.check_parent(before)}
    failing = sorted(c for c, r in results.items() if r.passed is False and not r.exempt and c in _CRITERIA)
    base = {"parent": {"name": parent.get("name"), "kind": kind.value}, "regime": ruleset.id,
            "before": {"units": before.n_units, "wards": before.n_wards,
                       "ward_share": round(before.n_wards / before.n_units, 4) if before.n_units else None,
                       "area_km2": round(before.area_km2, 4),
                       "population": None if population is None else int(population)},
            "standards": [{"criterion": r.criterion, "value": r.value, "threshold": r.threshold,
                           "passed": r.passed} for r in results.values()],
            "failing": failing, "figures_source": "computed (geodesic area, exact population sums)",
            "candidates": []}
    if not failing:
        return base
    land = set(scope)
    neighbours = sorted({n for code in land for n in graph.neighbours.get(code, ())} - land)
    communes_in_scope = sorted((c for c in scope if lookup.kind[c] != "ward"),
                               key=lambda c: (-(lookup.population[c] or 0) / (lookup.area_km2[c] or 1), c))
    ward_share_rule = results.get("ward_share")
    rows = []
    for size in range(0, max(0, max_annex) + 1):
        for annexed in combinations(neighbours, size):
            if size > 1 and not graph.is_contiguous(list(land) + list(annexed)):
                continue
            wards_added = sum(1 for c in annexed if lookup.kind[c] == "ward")
            changes = []
            n_units, n_wards = before.n_units + size, before.n_wards + wards_added
            if ward_share_rule is not None and ward_share_rule.threshold is not None:
                share = ward_share_rule.threshold / 100.0 if ward_share_rule.threshold > 1 else ward_share_rule.threshold
                need = max(0, math.ceil(share * n_units - 1e-9) - n_wards)
                pool = [c for c in annexed if lookup.kind[c] != "ward"] + communes_in_scope
                if need > len(pool):
                    need = len(pool)
                changes = pool[:need]
            added_km2, after = annexed_figures(units, before, land, annexed, n_wards_added=wards_added + len(changes))
            checked = {r.criterion: r for r in ruleset.check_parent(after)}
            still = sorted(c for c in failing if not (c in checked and checked[c].passed is True))
            if len(still) == len(failing):
                continue
            names = ", ".join(f"{lookup.kind[c] == 'ward' and 'phường' or 'xã'} {lookup.name[c]}" for c in annexed)
            text = (f"Nhập nguyên {names}" if annexed else "Không nhập thêm đơn vị") + (
                f"; chuyển thành phường: {', '.join(lookup.name[c] for c in changes)}" if changes else "") + (
                f" — còn không đạt: {', '.join(still)}" if still else " — đạt mọi tiêu chuẩn đang thiếu")
            rows.append({
                "annex": [{"code": c, "name": lookup.name[c], "kind": lookup.kind[c],
                           "district": units.gdf.at[c, "district"] if isinstance(units.gdf.at[c, "district"], str)
                           else None, "area_km2": round(lookup.area_km2[c], 4),
                           "population": None if lookup.population[c] is None else int(lookup.population[c])}
                          for c in annexed],
                "make_wards": [{"code": c, "name": lookup.name[c]} for c in changes],
                "added_area_km2": round(added_km2, 4),
                "parent_after": {"units": after.n_units, "wards": after.n_wards,
                                 "ward_share": round(after.n_wards / after.n_units, 4) if after.n_units else None,
                                 "area_km2": round(after.area_km2, 4),
                                 "population": None if after.population is None else int(round(after.population))},
                "closes": sorted(set(failing) - set(still)), "still_failing": still, "description_vi": text,
            })
    rows.sort(key=lambda r: (len(r["still_failing"]), len(r["annex"]), len(r["make_wards"]), r["added_area_km2"],
                             [a["code"] for a in r["annex"]]))
    for rank, row in enumerate(rows[:limit], start=1):
        row["rank"] = rank
    base["candidates"] = rows[:limit]
    return base
