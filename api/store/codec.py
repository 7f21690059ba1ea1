"""A units dataset as plain rows (JSON attributes + WKB geometry), the form every store keeps.

A store never holds a path to the user's file: it keeps the normalised units themselves
(what :func:`geo.io.read_units` produced), keyed by their content hash
(:attr:`geo.units.UnitSet.version`). Reading them back gives the same ``UnitSet`` — the
same figures and the same version, checked on every load — however the store holds them.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from diagioi.geo.crs import WGS84
from diagioi.geo.errors import DiagioiError
from diagioi.geo.units import UnitSet
from diagioi.geo.validity import GeometryIssue


@dataclass(frozen=True)
class UnitRow:
    """One unit as stored: position in the dataset, code, attributes (JSON text) and WKB geometry."""

    position: int
    code: str
    properties: str
    geometry: bytes


def _plain(value: Any) -> Any:
    """JSON-ready scalar: NaN/NA → None, numpy scalars → Python."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def encode_units(units: UnitSet) -> tuple[dict[str, Any], list[UnitRow]]:
    """(metadata, rows) of a unit set; ``metadata`` keeps column order, dtypes, source and issues."""
    gdf = units.gdf
    geometry_name = gdf.geometry.name
    columns = [c for c in gdf.columns if c != geometry_name]
    meta = {
        "version": units.version,
        "columns": [[str(c), str(gdf[c].dtype)] for c in columns],
        "index_name": gdf.index.name,
        "source": units.source,
        "source_crs": units.source_crs,
        "field_mapping": dict(units.field_mapping),
        "issues": [issue.to_dict() for issue in units.issues],
    }
    values = {c: gdf[c].tolist() for c in columns}
    wkbs = shapely.to_wkb(gdf.geometry.values, output_dimension=2)
    rows = []
    for position, code in enumerate(gdf.index):
        properties = {c: _plain(values[c][position]) for c in columns}
        rows.append(UnitRow(position, str(code), json.dumps(properties, ensure_ascii=False, allow_nan=False,
                                                            default=str), bytes(wkbs[position])))
    return meta, rows


def decode_units(meta: dict[str, Any], rows: list[UnitRow]) -> UnitSet:
    """The unit set back from its stored form; raises if its content hash is not ``meta["version"]``."""
    rows = sorted(rows, key=lambda row: row.position)
    columns = [name for name, _ in meta["columns"]]
    records = [json.loads(row.properties) for row in rows]
    frame = pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(columns=columns)
    for name, dtype in meta["columns"]:
        if dtype != "object" and str(frame[name].dtype) != dtype:
            try:
                frame[name] = frame[name].astype(dtype)
            except (TypeError, ValueError):
                pass  # keep the values as read; the version check below decides
    frame.index = pd.Index([row.code for row in rows], name=meta.get("index_name"), dtype=object)
    geometry = shapely.from_wkb([row.geometry for row in rows]) if rows else []
    gdf = gpd.GeoDataFrame(frame, geometry=list(geometry), crs=WGS84)
    issues = [GeometryIssue(**{**issue, "location": tuple(issue["location"]) if issue.get("location") else None})
              for issue in meta.get("issues", [])]
    units = UnitSet(gdf, source=meta.get("source", ""), issues=issues,
                    field_mapping=dict(meta.get("field_mapping") or {}),
                    source_crs=meta.get("source_crs") or "EPSG:4326")
    if units.version != meta["version"]:
        raise DiagioiError(
            f"the stored units dataset {meta['version']} reads back with another content hash ({units.version})",
            hint="the store is damaged or was edited by hand; import the units file again (diagioi serve --units)",
            context={"units_version": meta["version"], "read_back_version": units.version})
    return units
