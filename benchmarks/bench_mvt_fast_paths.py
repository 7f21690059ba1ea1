"""Each fast path of the hand-written MVT encoder (layers/vector_tiles.py) against its plain path.

Run from the repository root::

    python benchmarks/bench_mvt_fast_paths.py [--rounds 5]

For every fast path, the same tiles are encoded with the path on and with it switched off (the
module constant or attribute that selects it), alternating on/off in each round so that machine
load hits both alike; the table gives the median time per tile over the rounds and the ratio
plain/fast (> 1: the fast path earns its code). Simplified geometries per zoom are built before
timing (they are cached per layer), so the figures are the per-tile cut-and-encode cost.

Layers: the real 2009 commune layer of ../shared/data (661 units; the generated 32-unit sample region
when absent), a generated 3,000-unit layer (``diagioi.demo.build_country``), and points: the real
zoning points when present, plus 5,000 generated points.
"""
from __future__ import annotations

import argparse
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import shapely

from diagioi.layers import vector_tiles as vt
from diagioi.layers.tms import WEB_MERCATOR_TMS

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def _index_of(gdf, name: str) -> vt.TileGeometryIndex:
    return vt.TileGeometryIndex(gdf.geometry.to_crs(3857).to_numpy(), name=name)


def layers() -> dict[str, vt.TileGeometryIndex]:
    import geopandas as gpd

    from diagioi.demo import build_country, build_region

    out = {}
    old = SHARED / "pre2025_communes_census2009_bk_tn_bg_bn.geojson"
    out["communes (real, 661)" if old.exists() else "sample region (32)"] = _index_of(
        gpd.read_file(old) if old.exists() else build_region(), "units")
    out["country (generated, 3,000)"] = _index_of(build_country(n_units=3000), "units")
    zoning = SHARED / "zoning_real_bn_bk.geojson"
    if zoning.exists():
        frame = gpd.read_file(zoning)
        points = frame[frame.geometry.geom_type == "Point"]
        if len(points):
            out[f"points (real, {len(points)})"] = _index_of(points, "points")
    rng = np.random.default_rng(1)
    generated = shapely.points(rng.uniform(105.5, 106.5, 5000), rng.uniform(21.0, 22.5, 5000))
    out["points (generated, 5,000)"] = _index_of(gpd.GeoDataFrame(geometry=generated, crs=4326), "points")
    return out


def tiles_of(index: vt.TileGeometryIndex, zooms=range(8, 15), per_zoom: int = 40) -> list[tuple[int, int, int]]:
    import morecantile

    from diagioi.geo.crs import WGS84

    west, south, east, north = shapely.transform(
        shapely.box(*shapely.total_bounds(index.geometries)), lambda xy: np.column_stack(
            __import__("pyproj").Transformer.from_crs(3857, WGS84, always_xy=True).transform(xy[:, 0], xy[:, 1]))).bounds
    tms = morecantile.tms.get("WebMercatorQuad")
    rng = np.random.default_rng(7)
    chosen = []
    for z in zooms:
        tiles = [(t.z, t.x, t.y) for t in tms.tiles(west, south, east, north, zooms=[z])]
        picked = rng.choice(len(tiles), size=min(per_zoom, len(tiles)), replace=False)
        chosen += [tiles[i] for i in sorted(picked)]
    assert WEB_MERCATOR_TMS is not None
    return chosen


@contextmanager
def switched_off(path: str, index: vt.TileGeometryIndex):
    """The plain path instead of the fast one, for the length of the block."""
    if path == "Python command encoder (≤ 256 vertices)":
        saved, vt._PYTHON_ENCODER_MAX_COORDS = vt._PYTHON_ENCODER_MAX_COORDS, -1
        try:
            yield
        finally:
            vt._PYTHON_ENCODER_MAX_COORDS = saved
    elif path == "point layer cut from its coordinates":
        saved, index._point_xy = index._point_xy, None
        try:
            yield
        finally:
            index._point_xy = saved
    else:
        raise ValueError(path)


PATHS = ("Python command encoder (≤ 256 vertices)", "point layer cut from its coordinates")


def encode_all(index, tiles, ids, attributes) -> float:
    start = time.perf_counter()
    for z, x, y in tiles:
        vt.encode_mvt(index.name, index, z, x, y, feature_ids=ids, attributes=attributes)
    return (time.perf_counter() - start) / len(tiles) * 1000.0


def encode_all_with_the_library(index, tiles, attributes_as_dicts) -> float:
    """The peer: the same rows clipped by shapely, then ``mapbox_vector_tile.encode`` (its own quantisation)."""
    import mapbox_vector_tile

    start = time.perf_counter()
    for z, x, y in tiles:
        bounds = vt._tile_bounds_m(z, x, y)
        buffered = index.buffered_tile_bounds(z, x, y)
        rows = index.rows_in_tile(z, x, y, tile_bounds_m=bounds)
        clipped = shapely.clip_by_rect(index.geometries_for_zoom(z)[rows], *buffered)
        features = [{"geometry": geometry, "properties": attributes_as_dicts[row], "id": int(row)}
                    for row, geometry in zip(rows.tolist(), clipped) if not geometry.is_empty]
        mapbox_vector_tile.encode([{"name": index.name, "features": features}],
                                  default_options={"quantize_bounds": bounds, "extents": vt.MVT_EXTENT})
    return (time.perf_counter() - start) / len(tiles) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for name, index in layers().items():
        tiles = tiles_of(index)
        ids = np.arange(len(index))
        attributes = [vt.feature_attributes({"code": f"{i:05d}"}) for i in range(len(index))]
        for z in sorted({t[0] for t in tiles}):
            index.geometries_for_zoom(z)
        encode_all(index, tiles, ids, attributes)  # warm-up
        for path in PATHS:
            if path == "point layer cut from its coordinates" and index._point_xy is None:
                continue
            if path != "point layer cut from its coordinates" and index._point_xy is not None:
                continue  # a point layer never reaches the clip or the command encoder
            fast, plain = [], []
            for _ in range(args.rounds):
                fast.append(encode_all(index, tiles, ids, attributes))
                with switched_off(path, index):
                    plain.append(encode_all(index, tiles, ids, attributes))
            f, p = statistics.median(fast), statistics.median(plain)
            rows.append((name, path, len(tiles), f, p, p / f))
        dicts = [{"code": f"{i:05d}"} for i in range(len(index))]
        ours, library = [], []
        for _ in range(args.rounds):
            ours.append(encode_all(index, tiles, ids, attributes))
            library.append(encode_all_with_the_library(index, tiles, dicts))
        f, p = statistics.median(ours), statistics.median(library)
        rows.append((name, "whole encoder vs mapbox_vector_tile.encode (peer)", len(tiles), f, p, p / f))
    print(f"\nMVT fast paths — median ms per tile over {args.rounds} alternating rounds (z8–14); "
          "shared 2-core machine under load (noisy)\n")
    print("| layer | fast path | tiles | fast (ms/tile) | plain (ms/tile) | plain / fast |")
    print("|---|---|---|---|---|---|")
    for name, path, n, f, p, ratio in rows:
        print(f"| {name} | {path} | {n} | {f:.3f} | {p:.3f} | {ratio:.2f}× |")


if __name__ == "__main__":
    main()
