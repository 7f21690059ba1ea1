"""Suggested plans (gợi ý phương án): whole merger plans for a scope that meet the standards.

Method (a documented heuristic, no external solver; deterministic for a given seed):

1. **Blocks.** The scope's units are split into blocks that no new unit may cross: connected parts of
   the adjacency graph (:mod:`geo.adjacency`), and old districts when ``keep_districts`` is set.
   Locked units stay as they are (one new unit each).
2. **Greedy agglomeration** (run 4 times with growing seeded noise; the best is kept). Starting from one group per unit, the pair of neighbouring groups whose
   merger lowers the objective most is merged (a little seeded noise breaks ties and makes the
   alternatives differ) until the target number of new units is reached.
3. **Local search.** A unit on the edge of a group is moved to a neighbouring group when both groups
   stay contiguous and the objective drops; passes repeat until nothing improves or time is up.
4. **Recombination** (ReCom-style, exact for two groups): the best start is polished by merging two
   neighbouring groups and re-splitting their units into the best two contiguous parts (all splits
   tried when they hold ≤ 10 units), then local search and recombination again with the balance
   weight lowered to 0.02 so that compactness leads once the failing units are settled.

Objective, in this order (weights keep the order lexicographic): new units that fail a standard and
are not exempt (×1000); then compactness, Σ (1 − Polsby–Popper) with the perimeter of a group taken
as its members' perimeters minus twice their shared borders; then balance, 0.05 × |ln(population /
mean population)| per group (the balance term also steers the search away from
over-large groups, which leave too few units for the others). The target count is met exactly whenever the blocks allow it.

Standards are those of the regime (:class:`geo.standards.RuleSet`), with its exemptions (76/2025:
3 or more units merged). A group's figures during the search are the members' sums less their
overlaps — what :func:`geo.evaluation.evaluate` computes — and every plan is then evaluated with the
normal evaluation, whose figures are the ones reported.

A lower bound on failing units is given: a unit that fails even merged with all its neighbours in its
block (or a locked unit that fails) forces at least one failing new unit.
"""
from __future__ import annotations

import math
import random
import statistics
import time
from dataclasses import dataclass

import numpy as np

from .area import geodesic_area_km2, geodesic_length_km, geodesic_lengths_km
from .errors import InputError
from .flags import layer_flag_values, resolve_flags
from .kinds import ParentKind, UnitKind
from .scenario import Scenario
from .standards import RuleSet, UnitFigures, overall_status

FAIL_WEIGHT = 1000.0
BALANCE_WEIGHT = 1.0
RECOMBINE_MAX = 10    # two groups with at most this many units together are re-split exhaustively
POLISH_BALANCE_WEIGHT = 0.02  # after the fails are settled, compactness leads and balance breaks ties
RESTARTS = 4          # seeded restarts per plan; the best objective is kept (a fixed count: deterministic)
NOISE = 0.15          # amplitude of the seeded noise on merge choices (alternatives differ by it)
KIND_RULES = ("all", "any", "majority")
METHOD = ("heuristic: greedy agglomeration of neighbouring units (4 seeded restarts), local search moving border "
          "units, ReCom-style recombination of two neighbouring groups (exact re-split), polish for compactness "
          "(seeded, deterministic unless the time limit stops it)")
METHOD_VI = ("Thuật toán heuristic: ghép dần các cặp đơn vị liền kề có lợi nhất, tìm kiếm cục bộ "
             "(chuyển đơn vị ở rìa sang đơn vị mới bên cạnh), tái tổ hợp hai đơn vị mới liền kề (chia lại tối ưu); "
             "cùng seed cho cùng kết quả")


@dataclass(frozen=True)
class GroupScore:
    fails: bool
    status: str
    compactness: float
    population: float | None

    def value(self, mean_population: float, balance_weight: float = BALANCE_WEIGHT) -> float:
        balance = 0.0
        if self.population and mean_population:
            balance = abs(math.log(self.population / mean_population))
        return FAIL_WEIGHT * self.fails + (1.0 - self.compactness) + balance_weight * balance


class _Problem:
    """Per-unit figures of the scope and a cached score of any group of its units."""

    def __init__(self, units, codes, ruleset: RuleSet, *, unit_flags: dict, context: dict, kind_rule: str,
                 parent_kind: ParentKind | None):
        self.units = units
        self.codes = list(codes)
        self.ruleset = ruleset
        self.unit_flags = unit_flags
        self.context = context
        self.kind_rule = kind_rule
        self.parent_kind = parent_kind
        lookup = units.lookup
        self.graph = units.graph
        self.area = {c: lookup.area_km2[c] for c in self.codes}
        self.official = {c: lookup.official_area_km2[c] for c in self.codes}
        self.population = {c: lookup.population[c] for c in self.codes}
        self.kind = {c: UnitKind.parse(lookup.kind[c]) if lookup.kind[c] else UnitKind.commune for c in self.codes}
        geoms = units.gdf.geometry.loc[self.codes].values
        self.perimeter = dict(zip(self.codes, (float(v) for v in geodesic_lengths_km(geoms))))
        self.layer_values, self.layer_has = layer_flag_values(units)
        pops = [p for p in self.population.values() if p]
        self.cache: dict[frozenset, GroupScore] = {}
        self.mean_population = 0.0
        self.balance_weight = BALANCE_WEIGHT
        self.total_population = math.fsum(pops)

    def kind_of(self, members) -> UnitKind:
        wards = [c for c in members if self.kind[c] == UnitKind.ward]
        if self.kind_rule == "any":
            ward = bool(wards)
        elif self.kind_rule == "majority":
            total = math.fsum(self.population[c] or 0 for c in members)
            ward = total > 0 and math.fsum(self.population[c] or 0 for c in wards) * 2 > total
        else:
            ward = len(wards) == len(members)
        return UnitKind.ward if ward else UnitKind.commune

    def score(self, members: frozenset) -> GroupScore:
        hit = self.cache.get(members)
        if hit is not None:
            return hit
        graph = self.graph
        area = math.fsum(self.area[c] for c in members) - graph.internal_overlap_km2(members)
        officials = [self.official[c] for c in members]
        area_std = math.fsum(officials) if all(v is not None for v in officials) else area
        pops = [self.population[c] for c in members]
        population = None if any(p is None or p == 0 for p in pops) else math.fsum(pops)
        shared = math.fsum(graph.shared_border_km(a, b) for a in members for b in graph.neighbours.get(a, ())
                           if b in members and a < b)
        perimeter = math.fsum(self.perimeter[c] for c in members) - 2 * shared
        compactness = min(1.0, 4 * math.pi * area / perimeter ** 2) if perimeter > 0 else 0.0
        flags = resolve_flags(sorted(members), areas={c: self.area[c] for c in members},
                              populations={c: self.population[c] for c in members}, unit_flags=self.unit_flags,
                              layer_values=self.layer_values, layer_has=self.layer_has, context=self.context,
                              defaults={"central_city": self.parent_kind == ParentKind.central_city})
        figures = UnitFigures(
            kind=self.kind_of(members), area_km2=area_std, population=population, n_members=len(members),
            mountainous=flags["mountainous"], border=flags["border"], island=flags["island"],
            central_city=flags["central_city"], red_river_delta=flags["red_river_delta"],
            coastal_poor=bool(flags["coastal_poor"]), ethnic_minority_share=flags["ethnic_minority_share"],
            parent_kind=self.parent_kind)
        status = overall_status(self.ruleset.check_unit(figures))
        if len(members) > 1 and not graph.is_contiguous(members):
            status = "fail"
        result = GroupScore(status == "fail", status, compactness, population)
        self.cache[members] = result
        return result

    def value(self, members: frozenset) -> float:
        return self.score(members).value(self.mean_population, self.balance_weight)


def _blocks(problem: _Problem, keep_districts: bool, locks: set) -> tuple[dict, list[list[str]]]:
    """code → block id, and the blocks (locked units are their own blocks)."""
    gdf = problem.units.gdf
    free = [c for c in problem.codes if c not in locks]
    district = {c: gdf.at[c, "district"] for c in problem.codes}
    free_set = set(free)
    block_of, blocks = {}, []
    for code in free:
        if code in block_of:
            continue
        stack, part = [code], []
        block_of[code] = len(blocks)
        while stack:
            current = stack.pop()
            part.append(current)
            for nb in sorted(problem.graph.neighbours.get(current, ())):
                if nb in free_set and nb not in block_of and (not keep_districts or district[nb] == district[current]):
                    block_of[nb] = len(blocks)
                    stack.append(nb)
        blocks.append(sorted(part))
    for code in sorted(locks):
        block_of[code] = len(blocks)
        blocks.append([code])
    return block_of, blocks


def _agglomerate(problem: _Problem, block_of: dict, locks: set, target: int, rng: random.Random,
                 noise: float) -> list[frozenset]:
    groups: dict[int, frozenset] = {i: frozenset([c]) for i, c in enumerate(problem.codes)}
    group_of = {c: i for i, c in enumerate(problem.codes)}
    noise_of: dict[tuple, float] = {}

    def pair_delta(a: int, b: int) -> float:
        merged = groups[a] | groups[b]
        key = (min(a, b), max(a, b))
        if key not in noise_of:
            noise_of[key] = rng.random() * noise
        return problem.value(merged) - problem.value(groups[a]) - problem.value(groups[b]) + noise_of[key]

    def neighbours_of(i: int) -> set[int]:
        found = set()
        for c in groups[i]:
            for nb in problem.graph.neighbours.get(c, ()):
                j = group_of.get(nb)
                if j is not None and j != i and block_of[nb] == block_of[c] and nb not in locks:
                    found.add(j)
        return found

    deltas: dict[tuple, float] = {}
    for i in groups:
        if problem.codes[i] in locks:
            continue
        for j in neighbours_of(i):
            if i < j:
                deltas[(i, j)] = pair_delta(i, j)
    next_id = len(groups)
    while len(groups) > target and deltas:
        (a, b) = min(deltas, key=lambda k: (deltas[k], k))
        merged = groups.pop(a) | groups.pop(b)
        deltas = {k: v for k, v in deltas.items() if a not in k and b not in k}
        groups[next_id] = merged
        for c in merged:
            group_of[c] = next_id
        for j in neighbours_of(next_id):
            deltas[(j, next_id)] = pair_delta(j, next_id)
        next_id += 1
    return list(groups.values())


def _local_search(problem: _Problem, groups: list[frozenset], block_of: dict, locks: set, rng: random.Random,
                  deadline: float) -> tuple[list[frozenset], int]:
    group_of = {c: i for i, g in enumerate(groups) for c in g}
    groups = list(groups)
    moves = 0
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        order = [c for c in problem.codes if c not in locks]
        rng.shuffle(order)
        for code in order:
            if time.perf_counter() >= deadline:
                break
            a = group_of[code]
            source = groups[a]
            if len(source) == 1:
                continue
            targets = sorted({group_of[nb] for nb in problem.graph.neighbours.get(code, ())
                              if nb in group_of and group_of[nb] != a and nb not in locks
                              and block_of[nb] == block_of[code]})
            if not targets:
                continue
            rest = source - {code}
            if not problem.graph.is_contiguous(rest):
                continue
            before_a = problem.value(source)
            after_a = problem.value(rest)
            best, best_delta = None, -1e-9
            for b in targets:
                delta = after_a + problem.value(groups[b] | {code}) - before_a - problem.value(groups[b])
                if delta < best_delta:
                    best, best_delta = b, delta
            if best is not None:
                groups[a] = rest
                groups[best] = groups[best] | {code}
                group_of[code] = best
                moves += 1
                improved = True
    return groups, moves


def _recombine(problem: _Problem, groups: list[frozenset], block_of: dict, locks: set, deadline: float,
               max_size: int = RECOMBINE_MAX) -> tuple[list[frozenset], int]:
    """ReCom-style step, exact for two groups: merge two neighbouring groups and split their units again
    into the best two contiguous parts (every split is tried when they hold at most ``max_size`` units)."""
    from itertools import combinations

    groups = list(groups)
    changed = 0
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        group_of = {c: i for i, g in enumerate(groups) for c in g}
        pairs = sorted({(min(group_of[c], group_of[nb]), max(group_of[c], group_of[nb]))
                        for c in problem.codes if c not in locks
                        for nb in problem.graph.neighbours.get(c, ())
                        if nb in group_of and nb not in locks and block_of[nb] == block_of[c]
                        and group_of[nb] != group_of[c]})
        done: set[int] = set()
        for a, b in pairs:
            if time.perf_counter() >= deadline:
                break
            if a in done or b in done:
                continue
            union = groups[a] | groups[b]
            if len(union) > max_size:
                continue
            current = problem.value(groups[a]) + problem.value(groups[b])
            anchor, others = min(union), sorted(union - {min(union)})
            best, best_value = None, current - 1e-9
            for size in range(0, len(others)):
                for extra in combinations(others, size):
                    part = frozenset((anchor, *extra))
                    rest = union - part
                    if not problem.graph.is_contiguous(part) or not problem.graph.is_contiguous(rest):
                        continue
                    value = problem.value(part) + problem.value(rest)
                    if value < best_value:
                        best, best_value = (part, rest), value
            if best is not None:
                groups[a], groups[b] = best
                done.update((a, b))
                changed += 1
                improved = True
    return groups, changed


def _unit_names(units, groups: list[frozenset], kinds: list[UnitKind]) -> list[str]:
    from .text import fold

    lookup = units.lookup
    used: set[str] = set()
    names = []
    for group, kind in zip(groups, kinds):
        prefix = "Phường" if kind == UnitKind.ward else "Xã"
        ranked = sorted(group, key=lambda c: (-(lookup.population[c] or 0), c))
        name = f"{prefix} {lookup.name[ranked[0]]}"
        extra = 1
        while fold(name) in used and extra < len(ranked):
            name = f"{prefix} {lookup.name[ranked[0]]} – {lookup.name[ranked[extra]]}"
            extra += 1
        base, n = name, 2
        while fold(name) in used:
            name = f"{base} {n}"
            n += 1
        used.add(fold(name))
        names.append(name)
    return names


def pair_difference(plan_a: list[frozenset], plan_b: list[frozenset]) -> float:
    """Share of unit pairs grouped together in one plan but not in the other (0 = same plan, 1 = disjoint).

    Counted over the pairs that share a new unit in at least one of the two plans.
    """
    def pairs(plan):
        return {(a, b) for g in plan for a in g for b in g if a < b}
    pa, pb = pairs(plan_a), pairs(plan_b)
    union = pa | pb
    return 0.0 if not union else len(pa ^ pb) / len(union)


def polsby_popper(geometry) -> float | None:
    """4πA/P² with the geodesic area and perimeter (1 = a disc)."""
    if geometry is None or geometry.is_empty:
        return None
    area = geodesic_area_km2(geometry)
    perimeter = geodesic_length_km(geometry.boundary)
    return None if perimeter <= 0 else 4 * math.pi * area / perimeter ** 2


def _quantile(values, q):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    return float(np.quantile(values, q))


def plan_metrics(evaluation) -> dict:
    """Failing (not exempt), exempt, non-contiguous new units and Polsby–Popper of an evaluated plan."""
    results = evaluation.new_unit_results()
    failing = [r for r in results if r.status == "fail"]
    pp = {r.id: polsby_popper(evaluation.new_unit_geometry(r.id)) for r in results}
    values = [v for v in pp.values() if v is not None]
    return {
        "units_after": len(results),
        "failing_units": len(failing),
        "exempt_units": sum(1 for r in results if r.status == "exempt"),
        "unknown_units": sum(1 for r in results if r.status == "unknown"),
        "non_contiguous_units": sum(1 for r in results if not r.contiguous),
        "polsby_popper_median": None if not values else round(statistics.median(values), 4),
        "polsby_popper_p10": None if not values else round(_quantile(values, 0.1), 4),
        "polsby_popper": {k: None if v is None else round(v, 4) for k, v in pp.items()},
    }


def suggest_plans(units, scope_codes, ruleset: RuleSet, *, target_units: int | None = None,
                  target_reduction: float | None = None, unit_flags: dict | None = None,
                  context: dict | None = None, locks=(), keep_districts: bool = False, alternatives: int = 1,
                  seed: int = 0, kind_rule: str = "all", parent: dict | None = None, scope: dict | None = None,
                  time_limit_s: float = 50.0, name: str = "Gợi ý") -> dict:
    """Propose ``alternatives`` complete plans for the units ``scope_codes``.

    Returns ``{"scenarios": [scenario dict…], "report": {…}}``; every scenario holds every unit of the
    scope in exactly one new unit, and the report's figures per plan are those of the normal evaluation
    of that scenario (:func:`geo.evaluation.evaluate`).
    """
    from .evaluation import evaluate

    start = time.perf_counter()
    codes = [c for c in units.gdf.index if c in set(scope_codes)]
    if not codes:
        raise InputError("the scope holds no unit", hint="check --scope-province/--scope-district/--scope-codes")
    if kind_rule not in KIND_RULES:
        raise InputError(f"unknown kind rule {kind_rule!r}", hint="use all | any | majority")
    locks = set(locks)
    units.require_codes(sorted(locks))
    outside = sorted(locks - set(codes))
    if outside:
        raise InputError(f"locked unit(s) outside the scope: {', '.join(outside)}",
                         hint="lock only units of the scope", context={"codes": outside})
    n = len(codes)
    if (target_units is None) == (target_reduction is None):
        raise InputError("give exactly one of --target-units and --target-reduction",
                         hint="e.g. --target-units 92 or --target-reduction 65")
    if target_units is None:
        if not 0 <= target_reduction < 100:
            raise InputError(f"target reduction {target_reduction} % is not in [0, 100)", hint="e.g. 65")
        target_units = max(1, round(n * (1 - target_reduction / 100.0)))
    if not 1 <= target_units <= n:
        raise InputError(f"target of {target_units} new units is not between 1 and the {n} units of the scope",
                         hint=f"choose a number from 1 to {n}")
    if alternatives < 1 or alternatives > 10:
        raise InputError("--alternatives must be from 1 to 10", hint="e.g. --alternatives 3")
    parent_kind = ParentKind.parse(parent["kind"]) if parent and parent.get("kind") else None
    problem = _Problem(units, codes, ruleset, unit_flags=unit_flags or {}, context=context or {},
                       kind_rule=kind_rule, parent_kind=parent_kind)
    block_of, blocks = _blocks(problem, keep_districts, locks)
    minimum = len(blocks)
    reachable_target = max(target_units, minimum)
    problem.mean_population = problem.total_population / reachable_target if reachable_target else 0.0

    # Units that fail even merged with all their block neighbours: no plan can make them pass.
    unreachable = []
    for code in codes:
        if code in locks:
            group = frozenset([code])
        else:
            group = frozenset([code] + [nb for nb in problem.graph.neighbours.get(code, ())
                                        if nb in block_of and nb not in locks and block_of[nb] == block_of[code]])
        if problem.score(group).fails:
            unreachable.append(code)
    bound = sum(1 for c in unreachable if c in locks) + (1 if any(c not in locks for c in unreachable) else 0)

    per_plan_budget = time_limit_s / alternatives
    plans, search = [], []
    for k in range(alternatives):
        rng = random.Random(f"{seed}:{k}")
        t0 = time.perf_counter()
        best = None
        for restart in range(RESTARTS):
            noise = NOISE * (restart + 2 * k) / 2
            candidate = _agglomerate(problem, block_of, locks, reachable_target, rng, noise)
            candidate, moves = _local_search(problem, candidate, block_of, locks, rng,
                                             deadline=min(start + time_limit_s, t0 + per_plan_budget))
            total = math.fsum(problem.value(g) for g in candidate)
            if best is None or total < best[0] - 1e-9:
                best = (total, candidate, moves)
        _total, groups, moves = best
        # Polish the best start: recombination, then compactness first (balance only breaks ties).
        deadline = min(start + time_limit_s, t0 + per_plan_budget)
        groups, recombined = _recombine(problem, groups, block_of, locks, deadline)
        problem.balance_weight = POLISH_BALANCE_WEIGHT
        groups, polish_moves = _local_search(problem, groups, block_of, locks, rng, deadline)
        groups, polish_recombined = _recombine(problem, groups, block_of, locks, deadline)
        problem.balance_weight = BALANCE_WEIGHT
        moves += polish_moves
        recombined += polish_recombined
        groups = sorted(groups, key=lambda g: min(g))
        if any(pair_difference(groups, other) == 0.0 for other in plans):
            search.append({"alternative": k + 1, "duplicate": True, "local_moves": moves,
                           "recombinations": recombined})
            continue
        plans.append(groups)
        search.append({"alternative": k + 1, "duplicate": False, "local_moves": moves, "recombinations": recombined,
                       "search_s": round(time.perf_counter() - t0, 3),
                       "stopped_by_time_limit": time.perf_counter() >= deadline})
    solve_s = time.perf_counter() - start

    parent_out = None
    if parent:
        parent_out = {k: v for k, v in parent.items() if v is not None}
        if scope:
            parent_out["scope"] = scope
    scope_flags = {c: v for c, v in (unit_flags or {}).items() if c in set(codes)}
    scenarios, reports = [], []
    for index, groups in enumerate(plans, start=1):
        kinds = [problem.kind_of(g) for g in groups]
        names = _unit_names(units, groups, kinds)
        data = {
            "name": f"{name} {index}" if len(plans) > 1 else name,
            "description": f"Gợi ý tự động (seed {seed}, phương án {index}); {METHOD_VI}.",
            "regime": ruleset.id,
            "dataset": units.version,
            "new_units": [{"id": f"g{i}", "name": nm, "kind": kd.value, "members": sorted(g),
                           **({"locked": True} if len(g) == 1 and next(iter(g)) in locks else {})}
                          for i, (g, kd, nm) in enumerate(zip(groups, kinds, names), start=1)],
        }
        if parent_out:
            data["parent"] = parent_out
        if context:
            data["context"] = {k: v for k, v in context.items() if v is not None}
        if scope_flags:
            data["unit_flags"] = scope_flags
        scenario = Scenario.from_dict(data, source="suggest")
        evaluation = evaluate(units, scenario, ruleset)
        metrics = plan_metrics(evaluation)
        fails = []
        for r in evaluation.new_unit_results():
            if r.status == "fail":
                fails.append({"id": r.id, "name": r.name, "members": list(r.members),
                              "not_contiguous": not r.contiguous,
                              "failing": [s.criterion for s in r.standards if s.passed is False and not s.exempt]})
        new_units = [{"id": r.id, "name": r.name, "kind": r.kind.value, "members": list(r.members),
                      "area_km2": None if r.area_km2 is None else round(r.area_km2, 4),
                      "population": None if r.population is None else int(round(r.population)),
                      "status": r.status, "contiguous": r.contiguous,
                      "polsby_popper": metrics["polsby_popper"][r.id]} for r in evaluation.new_unit_results()]
        metrics.pop("polsby_popper")
        reports.append({"scenario": data["name"], **metrics, "still_failing": fails, "new_units": new_units,
                        "difference_from_first": round(pair_difference(plans[0], groups), 4)})
        scenarios.append(scenario.to_dict())

    best_failing = min((r["failing_units"] for r in reports), default=None)
    report = {
        "method": METHOD,
        "method_vi": METHOD_VI,
        "solver": "diagioi heuristic (no MIP/CP solver)",
        "objective": ["failing units (not exempt)", "target count (met exactly when the blocks allow)",
                      "compactness: Σ(1 − Polsby–Popper)", "balance: |ln(population / mean)|"],
        "regime": ruleset.id,
        "seed": seed,
        "kind_rule": kind_rule,
        "keep_districts": keep_districts,
        "locked": sorted(locks),
        "units_before": n,
        "target_units": target_units,
        "target_met": reachable_target == target_units,
        "minimum_units": minimum,
        "failing_lower_bound": bound,
        "gap": None if best_failing is None else best_failing - bound,
        "unreachable_units": [{"code": c, "name": units.lookup.name[c], "locked": c in locks,
                               "explanation_vi": ("đơn vị giữ nguyên (khóa) không đạt tiêu chuẩn" if c in locks else
                                                  "không đạt tiêu chuẩn kể cả khi nhập với mọi đơn vị liền kề")}
                              for c in unreachable],
        "time_s": round(time.perf_counter() - start, 3),
        "solve_s": round(solve_s, 3),
        "time_limit_s": time_limit_s,
        "search": search,
        "plans": reports,
        "diversity": [{"a": reports[i]["scenario"], "b": reports[j]["scenario"],
                       "pairs_grouped_differently": round(pair_difference(plans[i], plans[j]), 4)}
                      for i in range(len(plans)) for j in range(i + 1, len(plans))],
    }
    if reachable_target != target_units:
        report["target_note_vi"] = (f"Không thể đạt {target_units} đơn vị: phạm vi có {minimum} khối tách rời "
                                    "(đơn vị khóa, phần không liền kề hoặc huyện giữ nguyên), mỗi khối ít nhất "
                                    "một đơn vị mới")
    return {"scenarios": scenarios, "report": report}
