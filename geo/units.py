"""The unit model: a validated set of commune-level units with their figures."""
from __future__ import annotations

import hashlib
import os
import math
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .area import plane_areas_km2
from .errors import UnknownUnitError
from .i18n import Message
from .population import density_per_km2
from .validity import GeometryIssue

UNIT_COLUMNS = [
    "code", "name", "kind", "district", "province", "population", "population_year", "population_source",
    "official_area_km2", "official_area_source", "area_km2", "mountainous", "border", "island", "red_river_delta",
    "ethnic_minority_share",
]
AREA_MISMATCH_PCT = 1.0  # official vs computed areas differing by more than this are flagged


def _num(value) -> float | None:
    """NaN → None for JSON; keep floats otherwise."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


@dataclass
class UnitSet:
    """Commune-level units in EPSG:4326 indexed by their code (``str``, leading zeros kept).

    ``gdf`` has the columns of :data:`UNIT_COLUMNS` plus ``geometry``. ``area_km2`` is the
    geodesic area on the WGS 84 ellipsoid (computed); ``official_area_km2`` comes from the source
    file (NaN when absent). ``issues`` lists what was found (and repaired) while loading.
    """

    gdf: gpd.GeoDataFrame
    source: str = ""
    issues: list[GeometryIssue] = field(default_factory=list)
    field_mapping: dict[str, str | None] = field(default_factory=dict)
    source_crs: str = "EPSG:4326"
    level: str = "commune"        # commune | district | province (geo.io.detect_level)
    level_reason: str = ""        # why that level, in English (the stable text of JSON outputs)
    level_reason_message: Message | None = None   # the same, to render in the reader's language

    def __len__(self) -> int:
        return len(self.gdf)

    @cached_property
    def version(self) -> str:
        """Content hash of the dataset: every attribute column and every geometry (WKB).

        Any change to a value that can change a figure or a threshold — code, name, kind,
        district, province, population (and its year/source), official area, region flags,
        ethnic-minority share, or a column added later — gives another version. Values are
        hashed in a canonical text form (see :func:`dataset_version`), so the same content
        read back from a store with other dtypes hashes the same.
        """
        return dataset_version(self.gdf)

    @cached_property
    def lookup(self) -> "UnitLookup":
        """Per-unit figures as plain dicts (built once)."""
        return build_lookup(self.gdf)

    @cached_property
    def graph(self):
        """Adjacency graph of the units (built once per unit set; frozen)."""
        from .adjacency import build_adjacency

        return build_adjacency(self.gdf.index, self.gdf.geometry.values)

    @property
    def codes(self) -> list[str]:
        return list(self.gdf.index)

    def unit(self, code: str) -> pd.Series:
        self.require_codes([code])
        return self.gdf.loc[code]

    def require_codes(self, codes) -> None:
        """Raise :class:`UnknownUnitError` naming every code (text, leading zeros) the dataset lacks."""
        index = self.gdf.index
        missing = list(dict.fromkeys(str(c) for c in codes if c not in index))
        if missing:
            layer = os.path.basename(self.source)
            codes = ", ".join(missing[:10]) + ("…" if len(missing) > 10 else "")
            raise UnknownUnitError(
                Message("error.unknown_units" if layer else "error.unknown_units_layer",
                        {"n": len(missing), "layer": layer, "codes": codes}),
                hint=Message("hint.unknown_units"),
                context={"unknown_codes": missing, "units_version": self.version})

    def search(self, *, province: str | None = None, district: str | None = None,
               q: str | None = None) -> gpd.GeoDataFrame:
        """Units matching every filter given, without diacritics or case.

        Province and district match with or without their administrative prefix ("Bắc Kạn" =
        "Tỉnh Bắc Kạn", "TP. Bắc Kạn" = "Thành phố Bắc Kạn", as :func:`geo.scope.strip_admin_prefix`);
        ``q`` matches part of the name ("duc xuan" finds "Đức Xuân") or the start of the code.
        """
        from .scope import strip_admin_prefix
        from .text import fold

        gdf = self.gdf
        mask = pd.Series(True, index=gdf.index)
        if province:
            mask &= gdf["province"].fillna("").map(strip_admin_prefix) == strip_admin_prefix(province)
        if district:
            mask &= gdf["district"].fillna("").map(strip_admin_prefix) == strip_admin_prefix(district)
        if q:
            needle = fold(q)
            mask &= gdf["name"].fillna("").map(fold).str.contains(needle, regex=False) | gdf.index.str.startswith(q)
        return gdf[mask]

    def density(self) -> pd.Series:
        """People per km² on the official area where known, else the computed one."""
        area = self.gdf["official_area_km2"].where(self.gdf["official_area_km2"] > 0, self.gdf["area_km2"])
        return density_per_km2(self.gdf["population"], area)

    def plane_crs(self) -> pd.DataFrame:
        """Per unit: ``plane_crs`` ("EPSG:9213"), the official TM-3 zone of its province, and ``plane_crs_basis``.

        Zones come from the table of geo.tm3 (Circular 973/2001/TT-TCĐC); a layer without districts is
        read as 2025 provinces. Units of a province not in the table use the zone nearest to them.
        """
        return self._plane_crs_table.copy()

    @cached_property
    def _plane_crs_table(self) -> pd.DataFrame:
        # Built once: every new unit of every evaluation asks for its zone (plane_crs_of).
        from .crs import tm3_zone

        post_2025 = bool(len(self.gdf)) and self.gdf["district"].isna().all()
        lons = shapely.get_x(shapely.centroid(self.gdf.geometry.values))
        cache: dict = {}
        codes, bases = [], []
        for province, lon in zip(self.gdf["province"].tolist(), lons):
            province = province if isinstance(province, str) else None
            key = (province, None if province and not post_2025 else round(float(lon), 2))
            if key not in cache:
                try:
                    epsg, basis = tm3_zone(province, lon=float(lon), post_2025=post_2025)
                    cache[key] = (f"EPSG:{epsg}", basis)
                except Exception:  # empty geometry: no centroid, no zone
                    cache[key] = (None, "không xác định được múi")
            codes.append(cache[key][0])
            bases.append(cache[key][1])
        return pd.DataFrame({"plane_crs": codes, "plane_crs_basis": bases}, index=self.gdf.index)

    def plane_area_km2(self, crs=None) -> pd.Series:
        """Area in km² in each unit's VN-2000 TM-3 plane (:meth:`plane_crs`), or all in the given projected CRS."""
        if crs is not None:
            return pd.Series(plane_areas_km2(self.gdf.geometry.values, crs), index=self.gdf.index)
        zones = self._plane_crs_table["plane_crs"]
        result = pd.Series(np.nan, index=self.gdf.index)
        for zone, codes in zones.groupby(zones).groups.items():
            result.loc[codes] = plane_areas_km2(self.gdf.geometry.loc[codes].values, zone)
        return result

    def plane_crs_of(self, codes) -> str | None:
        """The TM-3 zone of a group of units (a new unit): the zone holding most of their area."""
        zone_of, area_of = self._zone_and_area
        areas: dict = {}
        for code in codes:
            if code in zone_of:
                zone = zone_of[code]
                area = area_of[code]
                areas[zone] = areas.get(zone, 0.0) + (0.0 if area != area else area)  # NaN counts 0
        if not areas:
            return None
        # Zones in sorted order, so that a tie goes to the same zone whatever the members' order.
        return str(max(sorted(areas, key=str), key=lambda zone: areas[zone]))

    @cached_property
    def _zone_and_area(self) -> tuple[dict, dict]:
        # Plain dicts: plane_crs_of runs for every new unit of every evaluation response.
        table = self._plane_crs_table
        return dict(zip(table.index, table["plane_crs"])), dict(zip(self.gdf.index, self.gdf["area_km2"]))

    def area_difference_pct(self) -> pd.Series:
        official = self.gdf["official_area_km2"]
        return (self.gdf["area_km2"] - official) / official * 100.0

    def to_records(self) -> list[dict]:
        """Rows for ``diagioi units --json`` (stable keys; areas km², density người/km²)."""
        density = self.density()
        diff = self.area_difference_pct()
        records = []
        for code, row in self.gdf.iterrows():
            d = _num(diff.at[code])
            records.append({
                "code": code,
                "name": row["name"],
                "kind": row["kind"],
                "district": row["district"] if isinstance(row["district"], str) else None,
                "province": row["province"] if isinstance(row["province"], str) else None,
                "area_km2": round(float(row["area_km2"]), 4),
                "official_area_km2": _num(row["official_area_km2"]),
                "area_difference_pct": None if d is None else round(d, 2),
                "area_differs": bool(d is not None and abs(d) > AREA_MISMATCH_PCT),
                "population": None if _num(row["population"]) is None else int(row["population"]),
                "population_year": None if _num(row["population_year"]) is None else int(row["population_year"]),
                "population_source": row["population_source"] if isinstance(row["population_source"], str) else None,
                "density": None if _num(density.at[code]) is None else round(float(density.at[code]), 1),
                "mountainous": bool(row["mountainous"]),
            })
        return records

@dataclass(frozen=True)
class UnitLookup:
    """Plain dicts of per-unit figures, for fast scenario tallies (no pandas in the hot path)."""

    name: dict
    kind: dict
    area_km2: dict
    official_area_km2: dict   # NaN → None
    population: dict          # NaN → None
    mountainous: dict
    border: dict
    island: dict
    red_river_delta: dict
    ethnic_minority_share: dict  # NaN → None
    population_source: dict


def _canonical(value) -> str:
    """One text form per value: missing → "null", numbers by their float repr, text as JSON."""
    import json

    if value is None or value is pd.NA or value is pd.NaT:
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return "null" if math.isnan(number) else repr(number)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return json.dumps(str(value), ensure_ascii=False)


def dataset_version(gdf: gpd.GeoDataFrame) -> str:
    """Content hash (16 hex digits) of a units frame: codes, every attribute column, geometries.

    Columns are taken in sorted order with their names, so the hash does not depend on the
    column order of the source file; the row order (the codes) is part of the content.
    """
    digest = hashlib.sha256(b"diagioi-units-v2\n")
    digest.update("\x1f".join(map(str, gdf.index)).encode())
    geometry_name = gdf.geometry.name
    for column in sorted(str(c) for c in gdf.columns if c != geometry_name):
        digest.update(b"\x1e" + column.encode() + b"\x1d")
        digest.update("\x1f".join(_canonical(v) for v in gdf[column].tolist()).encode())
    digest.update(b"\x1e")
    for wkb in shapely.to_wkb(gdf.geometry.values, output_dimension=2):
        digest.update(len(wkb).to_bytes(8, "little") if wkb is not None else b"\xff" * 8)
        if wkb is not None:
            digest.update(wkb)
    return digest.hexdigest()[:16]


def build_lookup(gdf: gpd.GeoDataFrame) -> UnitLookup:
    codes = list(gdf.index)

    def col(name, convert=lambda v: v):
        return dict(zip(codes, (convert(v) for v in gdf[name].tolist())))

    return UnitLookup(
        name=col("name"), kind=col("kind"), area_km2=col("area_km2", float),
        official_area_km2=col("official_area_km2", _num), population=col("population", _num),
        mountainous=col("mountainous", bool), border=col("border", bool), island=col("island", bool),
        red_river_delta=col("red_river_delta", bool), ethnic_minority_share=col("ethnic_minority_share", _num),
        population_source=col("population_source", str),
    )
