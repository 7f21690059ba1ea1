"""Geometry generator: the outline, the seed lattice, the Voronoi tessellation and the smooth wiggle.

Every step after the tessellation is a function of the coordinate alone, so shared borders stay shared."""
from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer

from diagioi.geo.crs import WGS84

from .common import _WIGGLE_COMPONENTS, COORDINATE_DECIMALS, PLANE_CRS, _rng

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Zone:
    """A radial map around ``centre`` (metres): factor < 1 shrinks (city), > 1 stretches
    (mountains); see :func:`_apply_zone`."""

    centre_xy: np.ndarray
    radius_m: float
    factor: float
    province: int          # for city zones: the province whose city this is; -1 for mountains


@dataclass
class _Layout:
    seeds_xy: np.ndarray                 # (n, 2) plane metres around the origin
    outline_xy: np.ndarray               # closed ring, plane metres
    province: np.ndarray                 # (n,) province index
    is_city: np.ndarray                  # (n,) bool: ward of its province's city
    is_mountain: np.ndarray              # (n,) bool
    lattice_xy: np.ndarray               # (n, 2) seeds before the radial maps (equal-area space)
    city_centres_xy: np.ndarray          # (provinces, 2) plane metres
    province_centres_lattice: np.ndarray  # (provinces, 2)


def _outline_ring(rng: np.random.Generator, area_m2: float, aspect: float, n_vertices: int) -> np.ndarray:
    """A smooth, irregular, star-shaped outline of the given area (lattice space)."""
    theta = np.linspace(0.0, 2.0 * np.pi, n_vertices, endpoint=False)
    radius = np.ones_like(theta)
    for harmonic in range(2, 7):
        amplitude = rng.uniform(0.02, 0.16) / harmonic ** 0.8
        radius += amplitude * np.cos(harmonic * theta + rng.uniform(0, 2 * np.pi))
    ring = np.column_stack([radius * np.cos(theta) / math.sqrt(aspect), radius * np.sin(theta) * math.sqrt(aspect)])
    scale = math.sqrt(area_m2 / shapely.area(shapely.polygons(ring)))
    return ring * scale


def _hex_lattice(bounds: tuple[float, float, float, float], spacing_m: float,
                 rng: np.random.Generator, jitter: float = 0.28) -> np.ndarray:
    """Jittered triangular lattice (Voronoi cells ≈ hexagons of area spacing²·√3/2)."""
    minx, miny, maxx, maxy = bounds
    row_step = spacing_m * math.sqrt(3.0) / 2.0
    rows = np.arange(math.floor(miny / row_step) - 1, math.ceil(maxy / row_step) + 2)
    cols = np.arange(math.floor(minx / spacing_m) - 1, math.ceil(maxx / spacing_m) + 2)
    col_grid, row_grid = np.meshgrid(cols, rows)
    x = (col_grid + 0.5 * (row_grid % 2)) * spacing_m
    y = row_grid * row_step
    xy = np.column_stack([x.ravel(), y.ravel()])
    return xy + rng.uniform(-jitter, jitter, size=xy.shape) * spacing_m


def _apply_zone(xy: np.ndarray, zone: _Zone) -> tuple[np.ndarray, np.ndarray]:
    """Apply one radial map; returns the moved points and which of them lay inside the zone.

    Distances d from the centre become f(d): f' = factor inside the radius R, a constant
    compensating slope over the ring R..3R, and f(d) = d beyond 3R. f is increasing, so the map
    is one-to-one, and nothing outside the ring moves (no far-field pull between zones).
    """
    offset = xy - zone.centre_xy
    distance = np.hypot(offset[:, 0], offset[:, 1])
    k, radius = zone.factor, zone.radius_m
    ring_slope = (3.0 - k) / 2.0
    new_distance = np.where(distance < radius, k * distance,
                            np.where(distance < 3.0 * radius, k * radius + ring_slope * (distance - radius), distance))
    ratio = np.divide(new_distance, distance, out=np.ones_like(distance), where=distance > 0)
    return zone.centre_xy + offset * ratio[:, None], distance < radius


def _apply_stretch(xy: np.ndarray, direction: np.ndarray, start_m: float, band_m: float,
                   factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Stretch the side of the line ``xy·direction = start`` away from the origin by ``factor``.

    The stretch ramps up over a band (so no cell is cut by a kink) and never moves points on
    the near side; returns the moved points and which lie past the middle of the band.
    """
    t = xy @ direction
    band = np.clip(t - start_m, 0.0, band_m)
    beyond = np.maximum(t - start_m - band_m, 0.0)
    shift = (factor - 1.0) * (band ** 2 / (2.0 * band_m) + beyond)
    return xy + shift[:, None] * direction[None, :], t > start_m + band_m / 2


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Plain k-means (k-means++ start); in lattice space it yields groups of nearly equal size."""
    if k <= 1:
        return points.mean(axis=0, keepdims=True), np.zeros(len(points), dtype=int)
    centres = [points[rng.integers(len(points))]]
    nearest_sq = np.sum((points - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        chosen = rng.choice(len(points), p=nearest_sq / nearest_sq.sum())
        centres.append(points[chosen])
        nearest_sq = np.minimum(nearest_sq, np.sum((points - points[chosen]) ** 2, axis=1))
    centres = np.array(centres)
    labels = np.zeros(len(points), dtype=int)
    for _ in range(iterations):
        # |p - c|² without the |p|² term, which is the same for every centre
        distance_sq = (centres ** 2).sum(axis=1)[None, :] - 2.0 * points @ centres.T
        labels = distance_sq.argmin(axis=1)
        counts = np.bincount(labels, minlength=k)
        for axis in range(2):
            sums = np.bincount(labels, weights=points[:, axis], minlength=k)
            centres[:, axis] = np.where(counts > 0, sums / np.maximum(counts, 1), centres[:, axis])
    return centres, labels


def _layout(n_units: int, n_provinces: int, seed: int, *, lattice_unit_area_km2: float, aspect: float,
            city_units: float, city_factor: float, mountain_units: float, mountain_factor: float,
            mountain_share: float, region_style: bool) -> _Layout:
    """Seed points, outline, provinces, city and mountain membership (see module docstring)."""
    rng = _rng(seed, "layout")
    unit_area_m2 = lattice_unit_area_km2 * 1e6
    spacing = math.sqrt(unit_area_m2 * 2.0 / math.sqrt(3.0))
    ring = _outline_ring(rng, n_units * unit_area_m2 * 1.03, aspect, n_vertices=720)
    lattice = _hex_lattice(tuple(shapely.bounds(shapely.polygons(ring * 1.3))), spacing, rng)

    # Grow the outline until it holds enough lattice points, then drop the surplus at random.
    scale = 1.0
    for _ in range(20):
        # Seeds keep ~0.4 spacing from the outline so that edge cells are not cut to slivers.
        selection_area = shapely.buffer(shapely.polygons(ring * scale), -0.4 * spacing)
        inside = shapely.contains_xy(selection_area, lattice[:, 0], lattice[:, 1])
        if inside.sum() >= n_units:
            break
        scale *= math.sqrt(n_units / max(inside.sum(), 1)) * 1.01
    else:  # pragma: no cover - the outline grows geometrically, 20 rounds is plenty
        raise RuntimeError("could not place enough seed points")
    ring = ring * scale
    points = lattice[inside]
    if len(points) > n_units:
        keep = np.sort(rng.choice(len(points), size=n_units, replace=False))
        points = points[keep]

    province_centres, province = _kmeans(points, n_provinces, rng)
    city_radius = math.sqrt(city_units * unit_area_m2 / math.pi)
    mountain_radius = math.sqrt(mountain_units * unit_area_m2 / math.pi)

    zones: list[_Zone] = []
    mountain_stretch = None
    if region_style:
        # One city a little off-centre; mountains on the far side, made by a one-sided stretch
        # across a line (so the city keeps its size).
        direction = np.pi / 2 + rng.uniform(-0.4, 0.4)  # mountains to the north, along the long axis
        unit_vector = np.array([math.cos(direction), math.sin(direction)])
        reach = np.max(ring @ unit_vector)
        city_centre = points[np.argmin(np.sum((points + 0.25 * reach * unit_vector) ** 2, axis=1))]
        city_zones = [_Zone(city_centre.copy(), city_radius, city_factor, 0)]
        city_reach = float(np.max((points @ unit_vector)[np.hypot(*(points - city_centre).T) < city_radius]))
        start = max(float(np.quantile(points @ unit_vector, 1.0 - mountain_share)) - spacing / 2, city_reach + spacing / 2)
        mountain_stretch = (unit_vector, start, spacing, mountain_factor)
    else:
        city_zones = [_Zone(centre.copy(), city_radius, city_factor, p) for p, centre in enumerate(province_centres)]
        outline_polygon = shapely.polygons(ring)
        n_mountain = int(round(mountain_share * shapely.area(outline_polygon) / (math.pi * mountain_radius ** 2)))
        candidates = points[rng.permutation(len(points))]
        clearance = city_radius + mountain_radius * 0.9
        for candidate in candidates:
            if len(zones) >= n_mountain:
                break
            if np.min(np.hypot(*(province_centres - candidate).T)) < clearance:
                continue
            if zones and np.min([np.hypot(*(z.centre_xy - candidate)) for z in zones]) < 1.2 * mountain_radius:
                continue
            zones.append(_Zone(candidate.copy(), mountain_radius, mountain_factor, -1))
    # Cities first: their membership is then decided in equal-area space, so each city gets the
    # intended number of wards; mountain zones lie away from cities and are applied after.
    zones = city_zones + zones

    # Densify the outline so that it follows the maps as closely as the seeds do.
    outline_xy = shapely.get_coordinates(shapely.segmentize(shapely.linearrings(ring), spacing / 10.0))
    seeds = points.copy()
    centres = np.array([z.centre_xy for z in zones])
    is_city = np.zeros(len(points), dtype=bool)
    is_mountain = np.zeros(len(points), dtype=bool)
    for index, zone in enumerate(zones):
        zone = _Zone(centres[index].copy(), zone.radius_m, zone.factor, zone.province)
        seeds, inside = _apply_zone(seeds, zone)
        outline_xy, _ = _apply_zone(outline_xy, zone)
        centres, _ = _apply_zone(centres, zone)
        if zone.province >= 0:
            is_city |= inside & (province == zone.province)
        else:
            is_mountain |= inside
    if mountain_stretch is not None:
        seeds, inside = _apply_stretch(seeds, *mountain_stretch)
        outline_xy, _ = _apply_stretch(outline_xy, *mountain_stretch)
        centres, _ = _apply_stretch(centres, *mountain_stretch)
        is_mountain |= inside
    is_mountain &= ~is_city
    city_centres = centres[:len(city_zones)]
    return _Layout(seeds, outline_xy, province, is_city, is_mountain, points, city_centres, province_centres)


def _tessellate(seeds: np.ndarray, outline_xy: np.ndarray, segment_m: float) -> np.ndarray:
    """Voronoi cells of the seeds clipped to the outline, as one noded coverage (index = seed)."""
    outline = shapely.polygons(outline_xy)
    shapely.prepare(outline)
    edges = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline, only_edges=True)
    # Node Voronoi edges and outline together once: every face below is built from these vertices.
    noded = shapely.node(shapely.multilinestrings([*shapely.get_parts(edges), shapely.linestrings(outline_xy)]))
    noded = shapely.segmentize(noded, segment_m)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.contains(outline, shapely.point_on_surface(faces))
    faces = faces[inside]

    tree = shapely.STRtree(faces)
    seed_index, face_index = tree.query(shapely.points(seeds), predicate="within")
    cells = np.empty(len(seeds), dtype=object)
    cells[seed_index] = faces[face_index]
    if len(seed_index) != len(seeds):  # pragma: no cover - a seed on a face edge is a measure-zero event
        raise RuntimeError("a seed point did not fall inside exactly one face")

    # A Voronoi cell cut in two by a bay of the outline leaves a face with no seed: give it to the
    # neighbour it shares the longest border with (coverage_union keeps the shared vertices).
    orphan = np.setdiff1d(np.arange(len(faces)), face_index)
    owner_of_face = dict(zip(face_index.tolist(), seed_index.tolist()))
    for face in orphan:
        neighbours = [f for f in tree.query(faces[face], predicate="touches") if f in owner_of_face]
        shared = [shapely.length(shapely.intersection(faces[face].boundary, faces[f].boundary)) for f in neighbours]
        owner = owner_of_face[neighbours[int(np.argmax(shared))]]
        cells[owner] = shapely.coverage_union(cells[owner], faces[face])
        log.debug("demo: orphan face %d given to seed %d", face, owner)
    return cells


def _wiggle(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """A smooth one-to-one displacement of plane coordinates (the same for every vertex)."""
    rng = _rng(seed, "wiggle")
    waves = []
    for wavelength, amplitude in _WIGGLE_COMPONENTS:
        for _ in range(2):
            angle, push_angle, phase = rng.uniform(0, 2 * np.pi, size=3)
            waves.append((2 * np.pi / wavelength * np.array([math.cos(angle), math.sin(angle)]),
                          amplitude / math.sqrt(2) * np.array([math.cos(push_angle), math.sin(push_angle)]), phase))

    def displace(xy: np.ndarray) -> np.ndarray:
        moved = xy.copy()
        for wave_vector, push, phase in waves:
            moved += np.sin(xy @ wave_vector + phase)[:, None] * push[None, :]
        return moved

    return displace


def _plane_to_lonlat(centre_lonlat: tuple[float, float], seed: int):
    """Function (n, 2) local metres → (n, 2) lon/lat rounded; a pure function of each coordinate."""
    to_plane = Transformer.from_crs(WGS84, PLANE_CRS, always_xy=True)
    to_lonlat = Transformer.from_crs(PLANE_CRS, WGS84, always_xy=True)
    origin = np.array(to_plane.transform(*centre_lonlat))
    displace = _wiggle(seed)

    def transform(xy: np.ndarray) -> np.ndarray:
        plane = displace(xy) + origin
        lon, lat = to_lonlat.transform(plane[:, 0], plane[:, 1])
        return np.round(np.column_stack([lon, lat]), COORDINATE_DECIMALS)

    return transform
