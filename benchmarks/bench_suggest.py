"""Suggested plans against the official 2025 plans (issue 14).

Run:  python benchmarks/bench_suggest.py [--seed S] [--time-limit SECONDS]

Needs ../shared/data (skips with a note when absent). For the old units (2009 layer, units with a
GSO code) that became new Thái Nguyên (old Bắc Kạn + Thái Nguyên, 267 → 92) and new Bắc Ninh (old
Bắc Giang + Bắc Ninh, 300 → 98), with the official count as target, regime R76 and the same 2009
population figures for both plans, prints for the official plan (rebuilt from the mapping CSV; the
3 old units split between two new units go whole to the first listed) and the suggested plan: new
units that fail a standard (not exempt), non-contiguous new units, median and p10 Polsby–Popper
(geodesic area and perimeter of the dissolved unit) and the solver time. Wall times are noisy on a
shared machine.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO.parent))

SHARED = REPO.parent / "shared" / "data"
OLD = SHARED / "pre2025_communes_census2009_bk_tn_bg_bn.geojson"
MAPPING = SHARED / "mapping_old_to_new_bk_tn_bg_bn.csv"
CASES = (("Thái Nguyên (mới)", ("06", "19"), 92), ("Bắc Ninh (mới)", ("24", "27"), 98))


def official_scenario(units, province_codes, name):
    from diagioi.geo.scenario import Scenario
    from diagioi.geo.text import fold

    mapping = pd.read_csv(MAPPING, dtype=str)
    mapping = mapping[mapping["old_province_code"].isin(province_codes) & mapping["old_code"].isin(units.gdf.index)]
    mapping = mapping.drop_duplicates("old_code")
    new_units = []
    names = mapping.drop_duplicates("new_code")["new_name"].value_counts()
    for new_code, group in mapping.groupby("new_code", sort=True):
        label = group["new_name"].iat[0]
        kind = "ward" if label.startswith("Phường") else "commune"
        # Two new units whose names differ only by a tone mark (Văn Lang, Văn Lăng) get their code added.
        folded = [n for n in names.index if fold(n) == fold(label)]
        new_units.append({"id": new_code, "name": label if len(folded) == 1 else f"{label} ({new_code})",
                          "kind": kind,
                          "members": group["old_code"].tolist()})
    return Scenario.from_dict({"name": name, "regime": "R76", "new_units": new_units}), mapping["old_code"].tolist()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=50.0)
    args = parser.parse_args()
    if not OLD.exists() or not MAPPING.exists():
        print(f"skipped: {OLD} or {MAPPING} not present")
        return
    from diagioi.geo.evaluation import evaluate
    from diagioi.geo.io import read_units
    from diagioi.geo.standards import RuleSet
    from diagioi.geo.suggest import plan_metrics, suggest_plans

    units = read_units(OLD)
    _ = units.graph  # built once, like the CLI does before solving
    ruleset = RuleSet.load("R76")
    rows = []
    for name, provinces, target in CASES:
        official, codes = official_scenario(units, provinces, f"Chính thức {name}")
        om = plan_metrics(evaluate(units, official, ruleset))
        start = time.perf_counter()
        result = suggest_plans(units, codes, ruleset, target_units=target, seed=args.seed,
                               time_limit_s=args.time_limit)
        elapsed = time.perf_counter() - start
        sm = result["report"]["plans"][0]
        rows.append((name, f"chính thức ({len(codes)} → {om['units_after']})", om, "—"))
        rows.append((name, f"gợi ý ({len(codes)} → {sm['units_after']})", sm,
                     f"{result['report']['solve_s']:.1f} s (total with evaluation {elapsed:.1f} s)"))
    print("| tỉnh mới | phương án | không đạt (không miễn) | miễn (≥ 3 đơn vị) | không liền kề | "
          "Polsby–Popper trung vị | p10 | thời gian giải |")
    print("|---|---|---|---|---|---|---|---|")
    for name, label, m, t in rows:
        print(f"| {name} | {label} | {m['failing_units']} | {m['exempt_units']} | {m['non_contiguous_units']} | "
              f"{m['polsby_popper_median']:.3f} | {m['polsby_popper_p10']:.3f} | {t} |")


if __name__ == "__main__":
    main()
