"""The sample units with their attributes: :func:`build_region` and :func:`build_country`."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from diagioi.geo.area import geodesic_areas_km2
from diagioi.geo.crs import WGS84
from diagioi.geo.errors import InputError

from .common import (
    COUNTRY_CENTRE_LONLAT,
    POPULATION_YEAR,
    REGION_CENTRE_LONLAT,
    REGION_PROVINCE_BASE,
    SAMPLE_LABEL,
    _rng,
)
from .geometry import _kmeans, _Layout, _layout, _plane_to_lonlat, _tessellate
from .names import _NameMaker

_UNIT_COLUMNS = ["code", "name", "kind", "district", "district_code", "province", "province_code", "population",
                 "population_year", "area_km2_official", "mountainous", "sample", "geometry"]


def _districts(layout: _Layout, rng: np.random.Generator, units_per_district: float,
               min_rural_districts: int) -> tuple[np.ndarray, np.ndarray]:
    """District index per unit (0 = the province's city) and the township (district seat) mask."""
    district = np.zeros(len(layout.seeds_xy), dtype=int)
    township = np.zeros(len(layout.seeds_xy), dtype=bool)
    for province in np.unique(layout.province):
        rural = np.flatnonzero((layout.province == province) & ~layout.is_city)
        if len(rural) == 0:
            continue
        k = max(min_rural_districts, int(round(len(rural) / units_per_district)))
        k = min(k, len(rural))
        centres, labels = _kmeans(layout.lattice_xy[rural], k, rng)
        district[rural] = labels + 1
        for label in range(k):
            members = rural[labels == label]
            if len(members):
                gap = np.sum((layout.lattice_xy[members] - centres[label]) ** 2, axis=1)
                township[members[np.argmin(gap)]] = True
    return district, township


def _populations(layout: _Layout, kinds: np.ndarray, area_km2: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """People per unit from a density model: dense city, sparse mountains (people/km² × km²)."""
    n = len(kinds)
    city_centre = layout.city_centres_xy[layout.province]
    distance_km = np.hypot(*(layout.seeds_xy - city_centre).T) / 1000.0
    density = np.empty(n)
    ward = kinds == "phuong"
    township = kinds == "thi_tran"
    mountain = layout.is_mountain & ~ward & ~township
    lowland = ~(ward | township | mountain)
    density[ward] = rng.uniform(2300, 4600, ward.sum()) * np.exp(-distance_km[ward] / 12.0)
    density[township] = rng.uniform(700, 1400, township.sum()) * np.where(layout.is_mountain[township], 0.35, 1.0)
    density[lowland] = rng.uniform(230, 520, lowland.sum()) * (1.0 + 1.2 * np.exp(-distance_km[lowland] / 10.0))
    density[mountain] = rng.uniform(35, 110, mountain.sum())
    return np.rint(density * area_km2).astype(np.int64)


def _build(n_units: int, n_provinces: int, seed: int, *, centre_lonlat, aspect: float, lattice_unit_area_km2: float,
           city_units: float, mountain_units: float, mountain_share: float, segment_m: float,
           region_style: bool, first_code: int, first_province_code: int, province_names: list[str] | None,
           units_per_district: float, min_rural_districts: int, missing_official_area: int) -> gpd.GeoDataFrame:
    layout = _layout(n_units, n_provinces, seed, lattice_unit_area_km2=lattice_unit_area_km2, aspect=aspect,
                     city_units=city_units, city_factor=0.4, mountain_units=mountain_units, mountain_factor=1.6,
                     mountain_share=mountain_share, region_style=region_style)
    cells = _tessellate(layout.seeds_xy, layout.outline_xy, segment_m)
    geometry = shapely.transform(cells, _plane_to_lonlat(centre_lonlat, seed))
    area_km2 = geodesic_areas_km2(geometry)

    names_rng = _rng(seed, "names")
    district, township = _districts(layout, names_rng, units_per_district, min_rural_districts)
    kinds = np.where(layout.is_city, "phuong", np.where(township, "thi_tran", "xa"))

    # Codes run province by province, district by district, north to south as GSO lists roughly do.
    order = np.lexsort((layout.seeds_xy[:, 0], -layout.seeds_xy[:, 1], district, layout.province))
    namer = _NameMaker(names_rng)
    n_prov = int(layout.province.max()) + 1
    if province_names is None:
        province_names = [namer.draw() for _ in range(n_prov)]
    district_names: dict[tuple[int, int], str] = {}
    district_codes: dict[tuple[int, int], str] = {}
    for p, d in sorted(set(zip(layout.province.tolist(), district.tolist()))):
        base = province_names[p] if d == 0 else namer.draw()
        district_names[(p, d)] = ("Thành phố " if d == 0 else "Huyện ") + base
        district_codes[(p, d)] = f"{len(district_codes) + 1:03d}"
    unit_names = np.empty(n_units, dtype=object)
    for i in order:
        unit_names[i] = namer.draw(upland=bool(layout.is_mountain[i]) and names_rng.random() < 0.6)

    pop_rng = _rng(seed, "population")
    population = _populations(layout, kinds, area_km2, pop_rng)
    official = np.round(area_km2 * (1.0 + pop_rng.uniform(-0.02, 0.02, n_units)), 2)
    communes = np.flatnonzero(kinds[order] != "phuong")
    missing = order[communes[pop_rng.choice(len(communes), size=min(missing_official_area, len(communes)),
                                            replace=False)]] if missing_official_area else []
    official[missing] = np.nan

    frame = pd.DataFrame({
        "code": [f"{first_code + rank:05d}" for rank in range(n_units)],
        "name": unit_names[order],
        "kind": kinds[order],
        "district": [district_names[(layout.province[i], district[i])] for i in order],
        "district_code": [district_codes[(layout.province[i], district[i])] for i in order],
        "province": [f"Tỉnh {province_names[layout.province[i]]} ({SAMPLE_LABEL})" for i in order],
        "province_code": [f"{first_province_code + layout.province[i]:02d}" for i in order],
        "population": population[order],
        "population_year": np.full(n_units, POPULATION_YEAR, dtype=np.int64),
        "area_km2_official": official[order],
        "mountainous": layout.is_mountain[order],
        "sample": np.ones(n_units, dtype=bool),
    })
    return gpd.GeoDataFrame(frame, geometry=geometry[order], crs=WGS84)[_UNIT_COLUMNS]


def build_region(seed: int = 2025) -> gpd.GeoDataFrame:
    """The sample province "Tỉnh Mẫu (dữ liệu mẫu)": 32 wards/communes in EPSG:4326.

    A city of small dense wards (``kind`` phuong), lowland communes around it with a township as
    each district's seat, and large, thinly populated communes flagged ``mountainous``. Borders
    are exactly shared; ``area_km2_official`` is the geodesic area perturbed by up to ±2 % (two
    communes have none, to show the missing path); ``population`` is in people (year 2024).
    """
    return _build(32, 1, seed, centre_lonlat=REGION_CENTRE_LONLAT, aspect=1.7, lattice_unit_area_km2=20.0,
                  city_units=9.0, mountain_units=0.0, mountain_share=0.3, segment_m=150.0, region_style=True,
                  first_code=90001, first_province_code=90, province_names=[REGION_PROVINCE_BASE], units_per_district=11.0,
                  min_rural_districts=2, missing_official_area=2)


def build_country(n_units: int = 10_000, seed: int = 1) -> gpd.GeoDataFrame:
    """A generated sample country of ``n_units`` units (same generator and columns as the region).

    Provinces hold about 150 units (each with a city of wards), districts about 15; about a
    quarter of the land is in mountain zones. Codes are "40001", "40002", ... (never real codes).
    """
    if not 30 <= n_units <= 59_999:
        raise InputError(f"build_country needs 30–59,999 units, got {n_units}",
                         hint="the sample codes run from 40001 to 99999")
    return _build(n_units, max(1, int(round(n_units / 150))), seed, centre_lonlat=COUNTRY_CENTRE_LONLAT,
                  aspect=2.2, lattice_unit_area_km2=30.0, city_units=12.0, mountain_units=40.0,
                  mountain_share=0.3, segment_m=600.0, region_style=False, first_code=40001, first_province_code=1, province_names=None,
                  units_per_district=15.0, min_rural_districts=2, missing_official_area=max(2, n_units // 500))
