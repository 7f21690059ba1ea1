"""A district or province layer used as the parents of a commune layer.

Each commune/ward gets the parent that holds the largest share of its area (intersections in a
Lambert azimuthal equal-area plane). A missing ``district``/``province`` is filled from it; an
existing one is kept and, when it names another parent, listed as a disagreement. Nothing is
overwritten silently.
"""
from __future__ import annotations

import numpy as np
import shapely

from .crs import from_wgs84, local_equal_area_crs
from .errors import InputError
from .tables import name_keys
from .units import UnitSet
from .validity import GeometryIssue, valid_polygons

MIN_PARENT_SHARE = 0.5


def assign_parents(units: UnitSet, parents: UnitSet) -> tuple[UnitSet, dict]:
    """Fill each unit's district (or province) from the parent layer; returns the units and a report."""
    if units.level != "commune":
        raise InputError(f"{units.source}: parents are given to a commune/ward layer, this is a {units.level} layer",
                         hint="pass the commune layer as FILE and the district/province layer as --parents")
    if parents.level not in ("district", "province"):
        raise InputError(f"{parents.source}: not a district or province layer (detected: {parents.level})",
                         hint="pass a district or province layer, or force it with its kinds/codes")
    column = parents.level
    if column == "district" and len(units.gdf) and units.gdf["district"].isna().all():
        raise InputError(f"{units.source}: the layer has no districts at all, as a layer after 2025-07-01",
                         hint="districts were abolished on 2025-07-01; relate a 2025 layer to the old one with "
                              "`diagioi crosswalk OLD NEW` instead")
    unit_geoms = np.asarray(units.gdf.geometry.values, dtype=object)
    parent_geoms = np.asarray(parents.gdf.geometry.values, dtype=object)
    plane = local_equal_area_crs(tuple(shapely.total_bounds(np.concatenate([unit_geoms, parent_geoms]))))
    unit_p, parent_p = valid_polygons(from_wgs84(unit_geoms, plane)), valid_polygons(from_wgs84(parent_geoms, plane))
    ui, pi = shapely.STRtree(parent_p).query(unit_p, predicate="intersects")
    inter = shapely.area(shapely.intersection(unit_p[ui], parent_p[pi]))
    unit_area = shapely.area(unit_p)
    best: dict[int, tuple[int, float]] = {}
    for u, p, a in zip(ui, pi, inter):
        if u not in best or a > best[u][1]:
            best[int(u)] = (int(p), float(a))
    gdf = units.gdf.copy()
    issues = list(units.issues)
    parent_names = parents.gdf["name"].tolist()
    parent_provinces = parents.gdf["province"].tolist()
    filled, agree, disagree, outside = [], 0, [], []
    for u, code in enumerate(gdf.index):
        p, area = best.get(u, (None, 0.0))
        share = area / unit_area[u] if unit_area[u] else 0.0
        if p is None or share < MIN_PARENT_SHARE:
            outside.append({"code": code, "name": gdf.at[code, "name"], "largest_share": round(float(share), 4)})
            continue
        parent = parent_names[p]
        current = gdf.at[code, column]
        if not isinstance(current, str) or not current.strip():
            gdf.at[code, column] = parent
            filled.append({"code": code, "name": gdf.at[code, "name"], column: parent, "share": round(float(share), 4)})
            issues.append(GeometryIssue(code, gdf.at[code, "name"], f"{column} filled from parents", action="repaired",
                                        detail=f"{parent} ({share:.0%} of the area)"))
        elif name_keys(current, parent=True)[1] == name_keys(parent, parent=True)[1]:
            agree += 1
        else:
            disagree.append({"code": code, "name": gdf.at[code, "name"], "in_layer": current, "by_geometry": parent,
                             "share": round(float(share), 4)})
        if column == "district" and not isinstance(gdf.at[code, "province"], str) and isinstance(parent_provinces[p], str):
            gdf.at[code, "province"] = parent_provinces[p]
    result = UnitSet(gdf, source=units.source, issues=issues, field_mapping=dict(units.field_mapping),
                     source_crs=units.source_crs, level=units.level, level_reason=units.level_reason,
                     level_reason_message=units.level_reason_message)
    report = {"parents": parents.source, "level": column, "n_filled": len(filled), "n_agree": agree,
              "filled": filled, "disagreements": disagree, "outside": outside,
              "min_share": MIN_PARENT_SHARE}
    return result, report
