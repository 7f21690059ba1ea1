"""Sample zoning features of each layer kind (industrial clusters, tourism sites, night streets)."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely import affinity

from diagioi.geo.area import geodesic_areas_km2
from diagioi.geo.crs import WGS84
from diagioi.geo.errors import InputError

from .common import COORDINATE_DECIMALS, PLANE_CRS, _rng

_INVESTORS = ("Công ty CP Hạ tầng Khu công nghiệp Mẫu (mẫu)", "Công ty TNHH Phát triển Công nghiệp Mẫu Bắc (mẫu)",
              "Tổng công ty Đầu tư Xây dựng Mẫu (mẫu)", "Công ty CP Đầu tư Mẫu Xanh (mẫu)")
_TOURISM_POINTS = (("Đền {}", "spiritual"), ("Thác {}", "nature"), ("Hang {}", "nature"),
                   ("Chợ phiên {}", "cultural"), ("Làng nghề {}", "craft_village"))
_NIGHT_HOURS = ("18:00–24:00", "17:00–23:00", "19:00–01:00")


def _sample_point_inside(polygon, rng: np.random.Generator, margin_m: float):
    """A random point at least ``margin_m`` inside a plane polygon (its surface point as fallback)."""
    inner = shapely.buffer(polygon, -margin_m)
    if inner.is_empty:
        return shapely.point_on_surface(polygon)
    minx, miny, maxx, maxy = inner.bounds
    for _ in range(200):
        candidate = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if inner.contains(candidate):
            return candidate
    return shapely.point_on_surface(inner)


def _rectangle(centre, width_m: float, height_m: float, angle: float):
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * [width_m / 2, height_m / 2]
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return shapely.polygons(corners @ rotation.T + [centre.x, centre.y])


def build_zoning(units: gpd.GeoDataFrame, seed: int = 2025) -> dict[str, gpd.GeoDataFrame]:
    """Sample zoning features inside ``units`` (EPSG:4326), one GeoDataFrame per layer kind.

    ``industrial_clusters``: Polygons (name, status planned|operating, area_ha, occupancy_pct,
    investor), one of them straddling a commune border; ``tourism_sites``: Points and one Polygon
    (name, category, rank provincial|national); ``night_streets``: LineStrings in wards (name,
    ward, ward_code, hours). All carry ``sample: true``.
    """
    rng = _rng(seed, "zoning")
    plane = units.to_crs(PLANE_CRS).reset_index(drop=True)
    to_lonlat = Transformer.from_crs(PLANE_CRS, WGS84, always_xy=True)

    def lonlat(geometries):
        moved = shapely.transform(np.asarray(geometries, dtype=object),
                                  lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
        return shapely.transform(moved, lambda xy: np.round(xy, COORDINATE_DECIMALS))

    wards = plane.index[plane["kind"] == "phuong"].to_numpy()
    lowland = plane.index[(plane["kind"] != "phuong") & ~plane["mountainous"]].to_numpy()
    mountain = plane.index[plane["mountainous"]].to_numpy()
    if len(wards) < 3 or len(lowland) < 4 or len(mountain) < 2:
        raise InputError("sample zoning needs ≥3 wards, ≥4 lowland and ≥2 mountainous units",
                         hint="pass the units of build_region()")

    # Industrial clusters: three inside lowland communes, one across a border of two of them.
    clusters, cluster_rows = [], []
    hosts = rng.choice(lowland, size=3, replace=False)
    for host in hosts:
        polygon = plane.geometry[host]
        for shrink in (1.0, 0.7, 0.5, 0.35):
            centre = _sample_point_inside(polygon, rng, 600.0 * shrink)
            shape = _rectangle(centre, rng.uniform(500, 900) * shrink, rng.uniform(500, 1000) * shrink,
                               rng.uniform(0, np.pi))
            if polygon.contains(shape):
                break
        clusters.append(shape)
        cluster_rows.append(plane["name"][host])
    tree = shapely.STRtree(plane.geometry.values)
    first = next(int(i) for i in lowland if i not in hosts)
    neighbour = next(int(j) for j in tree.query(plane.geometry[first], predicate="touches")
                     if j in set(lowland.tolist()) and j != first
                     and shapely.relate_pattern(plane.geometry[first], plane.geometry[j], "****1****"))
    border = shapely.intersection(plane.geometry[first].boundary, plane.geometry[neighbour].boundary)
    centre = shapely.line_interpolate_point(shapely.line_merge(border), 0.5, normalized=True) \
        if border.geom_type != "LineString" else border.interpolate(0.5, normalized=True)
    if centre.is_empty or centre.geom_type != "Point":
        centre = shapely.get_parts(shapely.get_parts(border))[0].interpolate(0.5, normalized=True)
    clusters.append(_rectangle(centre, 700.0, 600.0, rng.uniform(0, np.pi)))
    cluster_rows.append(f"{plane['name'][first]} – {plane['name'][neighbour]}")
    cluster_geometry = lonlat(clusters)
    status = ["operating", "operating", "planned", "planned"]
    occupancy = [round(float(rng.uniform(55, 95)), 1), round(float(rng.uniform(40, 80)), 1), 0.0, 0.0]
    industrial = gpd.GeoDataFrame({
        "name": [f"Cụm công nghiệp {host}" for host in cluster_rows],
        "status": status,
        "area_ha": np.round(geodesic_areas_km2(cluster_geometry) * 100.0, 2),
        "occupancy_pct": occupancy,
        "investor": [_INVESTORS[i % len(_INVESTORS)] for i in range(len(clusters))],
        "sample": True,
    }, geometry=cluster_geometry, crs=WGS84)

    # Tourism: points in a ward, lowland and mountain communes; one lake area in the mountains.
    point_hosts = [wards[0], mountain[0], mountain[-1], lowland[-1], lowland[len(lowland) // 2]]
    sites, site_rows = [], []
    for (template, category), host in zip(_TOURISM_POINTS, point_hosts):
        sites.append(_sample_point_inside(plane.geometry[host], rng, 300.0))
        site_rows.append((template.format(plane["name"][host]), category))
    lake_host = plane.geometry[mountain[len(mountain) // 2]]
    lake_centre = _sample_point_inside(lake_host, rng, 1500.0)
    lake = affinity.rotate(affinity.scale(lake_centre.buffer(600.0, quad_segs=16), 1.6, 0.8),
                                   float(rng.uniform(0, 180)))
    lake = shapely.intersection(lake, shapely.buffer(lake_host, -100.0))
    sites.append(lake)
    site_rows.append((f"Khu du lịch sinh thái Hồ {plane['name'][mountain[len(mountain) // 2]]}", "ecotourism"))
    ranks = ["provincial", "national", "provincial", "provincial", "provincial", "national"]
    tourism = gpd.GeoDataFrame({
        "name": [row[0] for row in site_rows],
        "category": [row[1] for row in site_rows],
        "rank": ranks,
        "sample": True,
    }, geometry=lonlat(sites), crs=WGS84)

    # Night streets: short bent lines inside three wards.
    streets, street_rows = [], []
    for number, host in enumerate(wards[:3]):
        polygon = plane.geometry[host]
        for length in (900.0, 600.0, 400.0, 250.0):
            start = _sample_point_inside(polygon, rng, length / 3)
            heading = rng.uniform(0, 2 * np.pi)
            bend = rng.uniform(-0.6, 0.6)
            legs = [0.0, length / 2, length / 2]
            points = [np.array([start.x, start.y])]
            for leg, turn in zip(legs[1:], (0.0, bend)):
                heading += turn
                points.append(points[-1] + leg * np.array([math.cos(heading), math.sin(heading)]))
            line = shapely.linestrings(points)
            if polygon.contains(line):
                break
        streets.append(line)
        street_rows.append((plane["name"][host], plane["code"][host], _NIGHT_HOURS[number % len(_NIGHT_HOURS)]))
    night = gpd.GeoDataFrame({
        "name": [f"Phố đêm {row[0]}" for row in street_rows],
        "ward": [row[0] for row in street_rows],
        "ward_code": [row[1] for row in street_rows],
        "hours": [row[2] for row in street_rows],
        "sample": True,
    }, geometry=lonlat(streets), crs=WGS84)
    return {"industrial_clusters": industrial, "tourism_sites": tourism, "night_streets": night}
