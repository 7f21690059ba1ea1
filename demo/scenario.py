"""An example merger scenario for the sample region."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from diagioi.geo.area import geodesic_areas_km2

from .common import SAMPLE_NOTICE

# Res. 76/2025/UBTVQH15 Art. 5 cl. 1 (see /shared/reference/standards-vn.yaml). Used only to pick
# members that illustrate pass / fail; the evaluation itself reads geo/rules.
_STANDARD_2025 = {("phuong", False): (5.5, 21_000), ("xa", False): (30.0, 16_000), ("xa", True): (100.0, 5_000)}


def _shared_border_pairs(geometries) -> list[tuple[int, int]]:
    """Pairs (i < j) of units that share a border line (not just a corner point)."""
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="touches")
    pairs = {(int(a), int(b)) for a, b in zip(left, right) if a < b}
    return sorted(p for p in pairs if shapely.relate_pattern(geometries[p[0]], geometries[p[1]], "****1****"))


def example_scenario(units: gpd.GeoDataFrame) -> dict:
    """A merger scenario (contracts.md shape) for the sample city: regime R76, parent provincial_city.

    New units: up to three 2-ward mergers that meet the 2025 ward standard, one 3-commune merger
    (exempt under Art. 5 cl. 2) and one 2-commune merger that fails the commune standard. All
    members share a border with another member.
    """
    frame = units.reset_index(drop=True)
    geometries = frame.geometry.values
    area_km2 = np.where(frame["area_km2_official"].notna(), frame["area_km2_official"], geodesic_areas_km2(geometries))
    population = frame["population"].to_numpy(dtype=float)
    kind = frame["kind"].to_numpy()
    mountainous = frame["mountainous"].to_numpy(dtype=bool)
    pairs = _shared_border_pairs(geometries)
    neighbours: dict[int, set[int]] = {}
    for a, b in pairs:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)

    def meets(members: list[int], new_kind: str) -> bool:
        mountain = new_kind == "xa" and all(mountainous[m] for m in members)
        min_area, min_population = _STANDARD_2025[(new_kind, mountain)]
        return area_km2[members].sum() >= min_area and population[members].sum() >= min_population

    used: set[int] = set()
    chosen: dict[str, list[tuple[list[int], str]]] = {"pass": [], "exempt": [], "fail": []}

    # The failing merger is picked first so that it exists whenever any pair fails:
    # two communes if such a pair fails, else two wards.
    candidates = [("xa", a, b) for a, b in pairs if kind[a] != "phuong" and kind[b] != "phuong"]
    candidates += [("phuong", a, b) for a, b in pairs if kind[a] == kind[b] == "phuong"]
    for new_kind, a, b in candidates:
        if not meets([a, b], new_kind):
            chosen["fail"].append(([a, b], new_kind))
            used.update((a, b))
            break

    for a, b in pairs:
        if len(chosen["pass"]) >= 3:
            break
        if kind[a] == kind[b] == "phuong" and not {a, b} & used and meets([a, b], "phuong"):
            chosen["pass"].append(([a, b], "phuong"))
            used.update((a, b))

    rural = [i for i in range(len(frame)) if kind[i] != "phuong"]
    triples = []
    for middle in rural:
        ends = sorted(n for n in neighbours.get(middle, ()) if kind[n] != "phuong")
        for x_index, x in enumerate(ends):
            for y in ends[x_index + 1:]:
                triples.append(sorted((x, middle, y)))
    triples = [t for t in triples if not set(t) & used]
    if triples:
        # Prefer a triple that would fail on its own figures: then the exemption is what carries it.
        failing = [t for t in triples if not meets(t, "xa")]
        chosen["exempt"].append(((failing or triples)[0], "xa"))

    new_units = []
    for members, new_kind in chosen["pass"] + chosen["exempt"] + chosen["fail"]:
        ordered = sorted(members, key=lambda m: frame["code"][m])
        label = "Phường" if new_kind == "phuong" else "Xã"
        new_units.append({
            "id": f"n{len(new_units) + 1}",
            "name": f"{label} {frame['name'][ordered[0]]} Mới",
            "kind": "ward" if new_kind == "phuong" else "commune",
            "members": [frame["code"][m] for m in ordered],
            "mountainous": bool(all(mountainous[m] for m in members)),
            "locked": False,
        })

    city = frame.loc[frame["kind"] == "phuong", "district"]
    parent_name = city.iloc[0] if len(city) else frame["district"].iloc[0]
    return {
        "name": f"{parent_name} 2025 (kịch bản mẫu)",
        "description": "Example merger scenario on generated sample data — " + SAMPLE_NOTICE,
        "regime": "R76",
        "parent": {"name": parent_name, "kind": "provincial_city"},
        "context": {"mountainous": False, "border": False, "central_city": False},
        "new_units": new_units,
    }
