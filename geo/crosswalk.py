"""Old → new crosswalk derived from the geometry of two layers, compared with a given mapping.

Each old unit is intersected with the new units in a Lambert azimuthal equal-area plane (areas
in m², never degrees). A piece counts when it holds at least ``min_share`` of the old unit's
area (smaller pieces are the slivers of two independently drawn layers and are only counted).
The relation is *toàn bộ* (whole) when one new unit holds at least ``whole_share`` of the old
unit, else *một phần* (part) for each piece. Population moves with area: the old unit's
population × its area share (an estimate, marked as such, with the year of the old figures).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from .crs import from_wgs84, local_equal_area_crs
from .errors import InputError, MissingColumnError
from .tables import header_key, normalise_code
from .units import UnitSet
from .exports.files import spreadsheet_text
from .validity import valid_polygons

WHOLE_SHARE = 0.8
MIN_SHARE = 0.05
RELATION_VI = {"whole": "toàn bộ", "part": "một phần"}

MAPPING_HEADERS = {
    "old_code": ["old code", "ma cu", "ma xa cu", "ma don vi cu", "old unit code"],
    "new_code": ["new code", "ma moi", "ma xa moi", "ma don vi moi", "new unit code"],
    "old_name": ["old name", "ten cu", "ten don vi cu"],
    "new_name": ["new name", "ten moi", "ten don vi moi"],
    "merge_type": ["merge type", "loai", "hinh thuc", "toan bo mot phan", "relation"],
}
_WHOLE_WORDS = {"full", "whole", "toan bo", "nguyen trang", "all"}


@dataclass
class CrosswalkRow:
    old_code: str
    old_name: str
    new_code: str
    new_name: str
    relation: str                 # whole | part
    intersection_km2: float
    area_share_of_old: float
    area_share_of_new: float
    population_estimate: float | None
    population_share_of_new: float | None = None

    def to_dict(self) -> dict:
        return {"old_code": self.old_code, "old_name": self.old_name, "new_code": self.new_code,
                "new_name": self.new_name, "relation": self.relation, "relation_vi": RELATION_VI[self.relation],
                "intersection_km2": round(self.intersection_km2, 4),
                "area_share_of_old": round(self.area_share_of_old, 4),
                "area_share_of_new": round(self.area_share_of_new, 4),
                "population_estimate": None if self.population_estimate is None else int(round(self.population_estimate)),
                "population_share_of_new": None if self.population_share_of_new is None
                else round(self.population_share_of_new, 4)}


@dataclass
class Crosswalk:
    rows: list[CrosswalkRow]
    old_source: str
    new_source: str
    unmatched_old: list[dict] = field(default_factory=list)   # old units no new unit covers (≥ min_share)
    ignored_pieces: int = 0
    ignored_km2: float = 0.0
    population_note: str = ""
    comparison: dict | None = None

    def by_old(self) -> dict[str, list[CrosswalkRow]]:
        result: dict[str, list[CrosswalkRow]] = {}
        for row in self.rows:
            result.setdefault(row.old_code, []).append(row)
        return result

    @property
    def summary(self) -> dict:
        groups = self.by_old()
        return {"n_old_units": len(groups) + len(self.unmatched_old), "n_rows": len(self.rows),
                "n_whole": sum(r.relation == "whole" for r in self.rows),
                "n_part": sum(r.relation == "part" for r in self.rows),
                "n_old_split": sum(len(rows) > 1 for rows in groups.values()),
                "n_old_uncovered": len(self.unmatched_old),
                "ignored_pieces": self.ignored_pieces, "ignored_km2": round(self.ignored_km2, 4),
                "whole_share": WHOLE_SHARE, "min_share": MIN_SHARE}

    def to_dict(self) -> dict:
        data = {"old": self.old_source, "new": self.new_source, "summary": self.summary,
                "area_method": "intersections in a Lambert azimuthal equal-area plane (km²)",
                "population_method": self.population_note,
                "rows": [r.to_dict() for r in self.rows], "unmatched_old": self.unmatched_old}
        if self.comparison is not None:
            data["comparison"] = self.comparison
        return data

    def write_csv(self, path) -> None:
        columns = ["old_code", "old_name", "new_code", "new_name", "relation", "relation_vi", "intersection_km2",
                   "area_share_of_old", "area_share_of_new", "population_estimate", "population_share_of_new"]
        with Path(path).open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in self.rows:
                writer.writerow({k: spreadsheet_text(v) for k, v in row.to_dict().items()})


def derive_crosswalk(old: UnitSet, new: UnitSet, *, whole_share: float = WHOLE_SHARE,
                     min_share: float = MIN_SHARE) -> Crosswalk:
    """Derive old → new from the geometry of the two layers (both in EPSG:4326)."""
    old_geoms = np.asarray(old.gdf.geometry.values, dtype=object)
    new_geoms = np.asarray(new.gdf.geometry.values, dtype=object)
    bounds = shapely.total_bounds(np.concatenate([old_geoms, new_geoms]))
    plane = local_equal_area_crs(tuple(bounds))
    old_p, new_p = valid_polygons(from_wgs84(old_geoms, plane)), valid_polygons(from_wgs84(new_geoms, plane))
    old_area, new_area = shapely.area(old_p), shapely.area(new_p)
    tree = shapely.STRtree(new_p)
    oi, ni = tree.query(old_p, predicate="intersects")
    inter = shapely.area(shapely.intersection(old_p[oi], new_p[ni]))
    old_codes, new_codes = list(old.gdf.index), list(new.gdf.index)
    old_names, new_names = old.gdf["name"].tolist(), new.gdf["name"].tolist()
    population = old.gdf["population"].to_numpy(dtype=float)
    years = sorted({int(y) for y in old.gdf["population_year"].dropna()})

    share = np.where(old_area[oi] > 0, inter / np.where(old_area[oi] > 0, old_area[oi], 1.0), 0.0)
    keep = share >= min_share
    rows: list[CrosswalkRow] = []
    for o, n, a, s in zip(oi[keep], ni[keep], inter[keep], share[keep]):
        pop = None if np.isnan(population[o]) else population[o] * s
        rows.append(CrosswalkRow(old_codes[o], old_names[o], new_codes[n], new_names[n],
                                 "whole" if s >= whole_share else "part", a / 1e6, float(s),
                                 float(a / new_area[n]) if new_area[n] else 0.0, pop))
    new_pop: dict[str, float] = {}
    for row in rows:
        if row.population_estimate is not None:
            new_pop[row.new_code] = new_pop.get(row.new_code, 0.0) + row.population_estimate
    for row in rows:
        total = new_pop.get(row.new_code)
        if row.population_estimate is not None and total:
            row.population_share_of_new = row.population_estimate / total
    covered = {r.old_code for r in rows}
    unmatched = [{"code": c, "name": old_names[i], "largest_share": round(float(share[oi == i].max()), 4)
                  if (oi == i).any() else 0.0}
                 for i, c in enumerate(old_codes) if c not in covered]
    rows.sort(key=lambda r: (r.old_code, -r.area_share_of_old))
    note = ("ước tính: dân số đơn vị cũ × tỷ lệ diện tích, số liệu năm "
            + (", ".join(map(str, years)) if years else "không rõ")
            + f" của {Path(old.source).name}")
    return Crosswalk(rows, old.source, new.source, unmatched_old=unmatched,
                     ignored_pieces=int((~keep).sum()), ignored_km2=float(inter[~keep].sum() / 1e6),
                     population_note=note)


def read_mapping(path) -> list[dict]:
    """A mapping CSV old → new (e.g. ``mapping_old_to_new_*.csv``): rows with old_code, new_code, whole."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"mapping not found: {path}", hint="check the path", context={"file": str(path)})
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        try:
            headers = next(reader)
        except StopIteration:
            raise InputError(f"{path.name}: empty mapping file", hint="give a CSV with old_code,new_code") from None
        keys = [header_key(h) for h in headers]
        index = {}
        for model_field, forms in MAPPING_HEADERS.items():
            for i, key in enumerate(keys):
                if key in forms or key.replace(" ", "") in [f.replace(" ", "") for f in forms]:
                    index[model_field] = i
                    break
        for required in ("old_code", "new_code"):
            if required not in index:
                raise MissingColumnError(f"{path.name}: no {required} column",
                                         hint="columns in the file: " + ", ".join(headers) +
                                              "; name them old_code and new_code (or Mã cũ, Mã mới)",
                                         context={"file": str(path)})
        rows = []
        for line_no, row in enumerate(reader, start=2):
            def cell(name, row=row):
                i = index.get(name)
                return row[i].strip() if i is not None and i < len(row) else None

            old_code, new_code = normalise_code(cell("old_code"))[0], normalise_code(cell("new_code"))[0]
            if not old_code or not new_code:
                continue
            kind = header_key(cell("merge_type") or "")
            rows.append({"line": line_no, "old_code": old_code, "new_code": new_code, "old_name": cell("old_name"),
                         "new_name": cell("new_name"), "whole": kind in _WHOLE_WORDS if kind else None})
            if len(rows) > 500_000:
                raise InputError(f"{path.name}: more than 500,000 rows", hint="split the mapping by province")
    return rows


def compare_with_mapping(crosswalk: Crosswalk, mapping: list[dict]) -> dict:
    """Agreement of the derived crosswalk with a given mapping, and every disagreement listed.

    For a whole-unit row of the mapping the derived crosswalk agrees when the new unit holding the
    largest share of the old unit is the mapping's new unit. Partial rows agree when the mapping's
    new unit is among the derived pieces. Old units of the mapping that are not in the old layer
    (no polygon or no code) are counted, not compared.
    """
    derived = crosswalk.by_old()
    uncovered = {u["code"] for u in crosswalk.unmatched_old}
    result = {"whole_rows": 0, "whole_agree": 0, "part_rows": 0, "part_agree": 0, "not_in_old_layer": 0,
              "disagreements": []}
    for row in mapping:
        old_code = row["old_code"]
        whole = row["whole"] is not False
        if old_code not in derived and old_code not in uncovered:
            result["not_in_old_layer"] += 1
            continue
        pieces = derived.get(old_code, [])
        primary = max(pieces, key=lambda r: r.area_share_of_old) if pieces else None
        key = "whole" if whole else "part"
        result[f"{key}_rows"] += 1
        # codes compared as GSO text: a new layer's "5665" is the mapping's "05665" (a lost zero, warned on load)
        agree = (primary is not None and normalise_code(primary.new_code)[0] == row["new_code"]) if whole else any(
            normalise_code(p.new_code)[0] == row["new_code"] for p in pieces)
        if agree:
            result[f"{key}_agree"] += 1
            continue
        result["disagreements"].append({
            "line": row["line"], "old_code": old_code, "old_name": row["old_name"],
            "mapping_new_code": row["new_code"], "mapping_new_name": row["new_name"],
            "mapping_relation": key,
            "derived": [{"new_code": p.new_code, "new_name": p.new_name, "relation": p.relation,
                         "area_share_of_old": round(p.area_share_of_old, 4)} for p in pieces],
        })
    result["whole_agreement"] = round(result["whole_agree"] / result["whole_rows"], 4) if result["whole_rows"] else None
    crosswalk.comparison = result
    return result
