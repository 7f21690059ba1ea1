"""The unit model: a validated set of commune-level units with their figures."""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .area import plane_areas_km2
from .errors import NotFoundError
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
    level_reason: str = ""

    def __len__(self) -> int:
        return len(self.gdf)

    @cached_property
    def version(self) -> str:
        """Content hash of geometries and figures: changes whenever the data changes."""
        digest = hashlib.sha1()
        digest.update(",".join(self.gdf.index).encode())
        for column in ("name", "kind", "population", "official_area_km2", "mountainous"):
            digest.update(pd.util.hash_pandas_object(self.gdf[column], index=False).values.tobytes())
        digest.update(b"".join(shapely.to_wkb(self.gdf.geometry.values, output_dimension=2)))
        return digest.hexdigest()[:16]

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
        try:
            return self.gdf.loc[code]
        except KeyError:
            raise NotFoundError(f"unit {code!r} is not in {self.source or 'the units layer'}",
                                hint="use the GSO code as text, with leading zeros (e.g. '01840')",
                                context={"unit_code": code}) from None

    def require_codes(self, codes) -> None:
        missing = [c for c in codes if c not in self.gdf.index]
        if missing:
            raise NotFoundError(f"{len(missing)} unit code(s) not in {self.source or 'the units layer'}: "
                                + ", ".join(missing[:10]) + ("…" if len(missing) > 10 else ""),
                                hint="check the codes (text, leading zeros kept) against `diagioi units FILE`",
                                context={"missing_codes": missing})

    def density(self) -> pd.Series:
        """People per km² on the official area where known, else the computed one."""
        area = self.gdf["official_area_km2"].where(self.gdf["official_area_km2"] > 0, self.gdf["area_km2"])
        return self.gdf["population"] / area

    def plane_crs(self) -> pd.DataFrame:
        """Per unit: ``plane_crs`` ("EPSG:9213"), the official TM-3 zone of its province, and ``plane_crs_basis``.

        Zones come from the table of geo.tm3 (Circular 973/2001/TT-TCĐC); a layer without districts is
        read as 2025 provinces. Units of a province not in the table use the zone nearest to them.
        """
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
        zones = self.plane_crs()["plane_crs"]
        result = pd.Series(np.nan, index=self.gdf.index)
        for zone, codes in zones.groupby(zones).groups.items():
            result.loc[codes] = plane_areas_km2(self.gdf.geometry.loc[codes].values, zone)
        return result

    def plane_crs_of(self, codes) -> str | None:
        """The TM-3 zone of a group of units (a new unit): the zone holding most of their area."""
        codes = [c for c in codes if c in self.gdf.index]
        if not codes:
            return None
        zones = self.plane_crs().loc[codes, "plane_crs"]
        areas = self.gdf.loc[codes, "area_km2"].groupby(zones.values).sum()
        return str(areas.idxmax()) if len(areas) else None

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

    def subset(self, codes) -> "UnitSet":
        return UnitSet(self.gdf.loc[list(codes)].copy(), source=self.source, issues=list(self.issues),
                       field_mapping=dict(self.field_mapping), source_crs=self.source_crs, level=self.level,
                       level_reason=self.level_reason)

    @staticmethod
    def empty_geometry_array(n: int) -> np.ndarray:
        return np.array([shapely.Polygon()] * n, dtype=object)


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
