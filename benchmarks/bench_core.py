"""Core benchmarks: load + geodesic area, full scenario evaluation, one reassignment.

Run:  python benchmarks/bench_core.py [--quick]

Prints a table. Real-data rows need ../shared/data (skipped with a note when absent).
Peer measured in the same run: a naive geopandas ``dissolve`` of the whole scenario plus
geodesic area of each dissolved unit — what a planner's script would do.
Targets (2-core machine): 10,000-unit load + area ≤ 5 s; full evaluation of a province
faster than the naive dissolve; one reassignment with all figures ≤ 5 ms p95 (province)
and ≤ 20 ms p95 (country).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from diagioi.geo.area import geodesic_areas_km2  # noqa: E402
from diagioi.geo.evaluation import evaluate  # noqa: E402
from diagioi.geo.io import read_units  # noqa: E402
from diagioi.geo.scenario import Scenario  # noqa: E402
from diagioi.geo.standards import RuleSet  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
OLD = SHARED / "pre2025_communes_census2009_bk_tn_bg_bn.geojson"
MAPPING = SHARED / "mapping_old_to_new_bk_tn_bg_bn.csv"
ROWS: list[tuple[str, str, str, str]] = []


def timed(fn, repeat=5):
    samples = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return result, samples


def record(case: str, what: str, samples: list[float], target: str = "") -> None:
    ms = np.array(samples) * 1000
    text = f"median {np.median(ms):.2f} ms, p95 {np.percentile(ms, 95):.2f} ms (n={len(ms)})"
    ROWS.append((case, what, text, target))


def naive_dissolve_ms(units, scenario, repeat=5):
    assignment = scenario.assignment()
    gdf = units.gdf.loc[list(assignment)].copy()
    gdf["new_id"] = [assignment[c] for c in gdf.index]
    gdf = gdf.reset_index(drop=True)

    def run():
        dissolved = gdf[["new_id", "population", "geometry"]].dissolve(by="new_id", aggfunc="sum")
        return geodesic_areas_km2(dissolved.geometry.values)

    return timed(run, repeat)[1]


def reassign_samples(evaluation, n=500, seed=3):
    """Move a random border unit into a neighbouring new unit; time reassign + JSON of what changed."""
    rng = random.Random(seed)
    graph = evaluation.units.graph
    samples = []
    current = evaluation
    for _ in range(n):
        assignment = current.scenario.assignment()
        code = rng.choice(list(assignment))
        targets = [assignment[nb] for nb in graph.neighbours.get(code, ()) if nb in assignment
                   and assignment[nb] != assignment[code]]
        if not targets:
            continue
        target = rng.choice(targets)
        if len(current.scenario.new_unit(assignment[code]).members) == 1:
            continue
        start = time.perf_counter()
        current, changed = current.reassign({code: target})
        payload = [current.results[i].to_json() for i in changed]
        totals = current.totals
        samples.append(time.perf_counter() - start)
        assert payload and totals["units_after"] > 0
    return samples


def province_scenario_from_mapping(units, province_codes, name):
    mapping = pd.read_csv(MAPPING, dtype=str)
    mapping = mapping[mapping["old_province_code"].isin(province_codes) & mapping["old_code"].isin(units.gdf.index)]
    mapping = mapping.drop_duplicates("old_code")  # 3 old units split across 2 new units: keep the first
    new_units = []
    for new_code, group in mapping.groupby("new_code", sort=True):
        kind = "ward" if group["new_name"].iat[0].startswith("Phường") else "commune"
        new_units.append({"id": new_code, "name": group["new_name"].iat[0], "kind": kind,
                          "members": group["old_code"].tolist()})
    return Scenario.from_dict({"name": name, "regime": "R76", "new_units": new_units})


def country_scenario(units, group_size=3, seed=5):
    """Greedy: grow groups of ~3 neighbouring units (the 2025 round cut units by 60–70 %)."""
    graph = units.graph
    unassigned = set(units.codes)
    rng = random.Random(seed)
    order = sorted(unassigned)
    rng.shuffle(order)
    new_units = []
    for code in order:
        if code not in unassigned:
            continue
        group = [code]
        unassigned.discard(code)
        for nb in sorted(graph.neighbours[code]):
            if len(group) >= group_size:
                break
            if nb in unassigned:
                group.append(nb)
                unassigned.discard(nb)
        new_units.append({"id": f"g{len(new_units)}", "name": f"Mới {len(new_units)}",
                          "kind": "commune", "members": group})
    return Scenario.from_dict({"name": "country", "new_units": new_units})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats and a 2,000-unit country")
    args = parser.parse_args()
    repeat = 3 if args.quick else 5
    n_country = 2000 if args.quick else 10_000
    ruleset = RuleSet.load("R76")

    if OLD.exists():
        units, samples = timed(lambda: read_units(OLD), repeat)
        record("real 661 units", "load + geodesic area", samples)
        _ = units.graph  # built once per dataset, like GerryChain's graph; timed on the next row
        _, samples = timed(lambda: read_units(OLD).graph, 3)
        record("real 661 units", "load + area + adjacency graph (once per dataset)", samples)
        for province_codes, label in ((["24", "27"], "new Bắc Ninh"), (["06", "19"], "new Thái Nguyên")):
            scenario = province_scenario_from_mapping(units, province_codes, label)
            n_old = len(scenario.member_codes())
            case = f"{label}: {n_old} → {len(scenario.new_units)}"
            evaluation, samples = timed(lambda: evaluate(units, scenario, ruleset).to_json(), repeat * 4)
            record(case, "full evaluation + standards + JSON (ours)", samples, "< naive dissolve")
            record(case, "naive geopandas dissolve + geodesic area (peer)", naive_dissolve_ms(units, scenario, repeat * 4))
            record(case, "one reassignment, all figures (p95)", reassign_samples(evaluate(units, scenario, ruleset)),
                   "≤ 5 ms p95")
    else:
        ROWS.append(("real data", "skipped", f"{SHARED} not found", ""))

    from diagioi.demo import build_country

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        country = build_country(n_country)
        build_s = time.perf_counter() - start
        path = Path(tmp) / "country.gpkg"
        country.to_file(path, driver="GPKG")
        ROWS.append((f"generated country {n_country}", "generate (not timed target)", f"{build_s:.2f} s", ""))
        units, samples = timed(lambda: read_units(path), 3)
        record(f"generated country {n_country}", "load (GeoPackage) + geodesic area", samples, "≤ 5 s")
        start = time.perf_counter()
        _ = units.graph
        ROWS.append((f"generated country {n_country}", "adjacency graph (once per dataset)",
                     f"{(time.perf_counter() - start):.2f} s", ""))
        scenario = country_scenario(units)
        case = f"country {len(units)} → {len(scenario.new_units)}"
        _, samples = timed(lambda: evaluate(units, scenario, ruleset).to_json(), repeat)
        record(case, "full evaluation + standards + JSON (ours)", samples)
        record(case, "naive geopandas dissolve + geodesic area (peer)", naive_dissolve_ms(units, scenario, repeat))
        record(case, "one reassignment, all figures (p95)", reassign_samples(evaluate(units, scenario, ruleset)),
               "≤ 20 ms p95")

    width = max(len(r[0]) for r in ROWS)
    what_width = max(len(r[1]) for r in ROWS)
    print(f"{'case':<{width}} | {'measure':<{what_width}} | result | target")
    print("-" * (width + what_width + 60))
    for case, what, text, target in ROWS:
        print(f"{case:<{width}} | {what:<{what_width}} | {text} | {target}")


if __name__ == "__main__":
    main()
