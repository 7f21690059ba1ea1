"""Tile latency: diagioi tiles vs PostGIS ``ST_AsMVT`` on the same data, in the same run.

Run from the repository root::

    python benchmarks/bench_tiles.py [--tiles 30] [--no-postgis]

Prints one table (milliseconds, p50/p95) per dataset and zoom:

* **ours cold**: tile rendered from the data (cache miss). The per-zoom coverage simplification
  is built once per zoom beforehand and reported on its own ("zoom prep").
* **ours warm**: the same tile asked again (in-process LRU cache hit).
* **PostGIS**: ``ST_AsMVT(ST_AsMVTGeom(...), extent 4096, buffer 64)`` on a GiST-indexed table in a
  local PostgreSQL started by this script (initdb into a temporary directory, stopped at the end).
  "4326" stores lon/lat and transforms per request (the usual tipg/martin setup), "3857" queries a
  pre-projected column. PostGIS has no tile cache, so its "warm" is the same query run again
  (hot buffers, prepared plan). Times are wall clock at the client over a local TCP socket.

Datasets: the real commune layers of ../shared/data (skipped when absent), the generated
10,000-unit country of ``diagioi.demo.build_country`` and zoning layers (real points and a generated
layer of points, lines and polygons). Throughput under concurrent HTTP load is measured elsewhere.
"""
from __future__ import annotations

import argparse
import glob
import logging
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from diagioi.geo.area import geodesic_areas_km2  # noqa: E402
from diagioi.layers.sources import GeoDataFrameTileSource, with_density_per_km2  # noqa: E402
from diagioi.layers.tile_cache import TileCache  # noqa: E402
from diagioi.layers.tms import tile_for_lnglat  # noqa: E402

SHARED_DATA = REPO.parent / "shared" / "data"
ZOOMS = (6, 10, 14)
EXTENT, BUFFER = 4096, 64
UNIT_FIELDS = ["code", "name", "kind", "population", "area_km2", "density_per_km2"]

logging.basicConfig(level=logging.WARNING, format="  [log] %(name)s: %(message)s")


@dataclass
class Dataset:
    """A layer to benchmark: its features (EPSG:4326) and the attribute columns put in tiles."""

    name: str
    gdf: gpd.GeoDataFrame
    fields: list[str]
    note: str = ""


@dataclass
class Row:
    """Measurements of one dataset at one zoom (milliseconds)."""

    dataset: str
    z: int
    n_tiles: int
    features_per_tile: float = 0.0
    kb_per_tile: float = 0.0
    prep_ms: float = 0.0
    timings: dict[str, list[float]] = field(default_factory=dict)


# --- datasets ----------------------------------------------------------------------------------

def _units_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Unit columns as in UnitSet.gdf (code, area_km2, official_area_km2) plus density_per_km2."""
    out = gdf.rename(columns={"area_km2_official": "official_area_km2"}).copy()
    out = out[~out.geometry.isna()].reset_index(drop=True)
    out["code"] = out["code"].fillna("").astype(str)
    out["area_km2"] = geodesic_areas_km2(out.geometry.values)
    out["population"] = pd.to_numeric(out["population"], errors="coerce")
    return with_density_per_km2(out)


def _generated_zoning(country: gpd.GeoDataFrame, seed: int = 7) -> gpd.GeoDataFrame:
    """Points, lines and small polygons spread over the generated country (display-only test data)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = country.total_bounds
    outline = shapely.union_all(shapely.envelope(country.geometry.values))
    rows = []
    while len(rows) < 3000:
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not outline.contains(shapely.Point(lon, lat)):
            continue
        k = len(rows)
        if k % 6 == 0:
            geometry = shapely.box(lon, lat, lon + rng.uniform(0.005, 0.03), lat + rng.uniform(0.005, 0.02))
            kind = "industrial_cluster"
        elif k % 6 == 1:
            steps = rng.normal(0, 0.002, size=(30, 2)).cumsum(axis=0)
            geometry = shapely.LineString(steps + [lon, lat])
            kind = "night_street"
        else:
            geometry = shapely.Point(lon, lat)
            kind = "tourism_site"
        rows.append({"code": f"z{k}", "name": f"Sample {kind} {k}", "kind": kind, "geometry": geometry})
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def load_datasets() -> list[Dataset]:
    """The layers to measure; real data only when ../shared/data is present."""
    datasets: list[Dataset] = []
    files = {"pre2025 (661)": "pre2025_communes_census2009_bk_tn_bg_bn.geojson",
             "post2025 (191)": "post2025_communes_thai_nguyen_bac_ninh.geojson"}
    for name, filename in files.items():
        path = SHARED_DATA / filename
        if path.exists():
            datasets.append(Dataset(name, _units_frame(gpd.read_file(path)), UNIT_FIELDS))
        else:
            print(f"skip {name}: {path} not found")
    try:
        from diagioi.demo import build_country, build_region, build_zoning
    except ImportError:
        print("skip generated country: diagioi.demo.build_country not available")
    else:
        started = time.perf_counter()
        country = build_country(10_000, seed=1)
        note = f"generated in {time.perf_counter() - started:.1f} s"
        datasets.append(Dataset("country (10,000)", _units_frame(country), UNIT_FIELDS, note))
        datasets.append(Dataset("zoning gen. (3,000)", _generated_zoning(country), ["code", "name", "kind"]))
        zoning = build_zoning(build_region())
        demo_zoning = pd.concat([frame.assign(layer=kind)[["name", "layer", "geometry"]]
                                 for kind, frame in zoning.items()], ignore_index=True)
        datasets.append(Dataset("zoning demo (13)", gpd.GeoDataFrame(demo_zoning, crs="EPSG:4326"),
                                ["name", "layer"]))
    path = SHARED_DATA / "zoning_real_bn_bk.geojson"
    if path.exists():
        real = gpd.read_file(path)
        real = real[~real.geometry.isna()].reset_index(drop=True)
        datasets.append(Dataset(f"zoning real ({len(real)})", real[["name", "layer", "geometry"]], ["name", "layer"]))
    return datasets


def sample_tiles(gdf: gpd.GeoDataFrame, z: int, n_tiles: int, seed: int = 1) -> list[tuple[int, int, int]]:
    """Up to ``n_tiles`` distinct tiles holding a feature's representative point (seeded)."""
    points = gdf.geometry.representative_point()
    tiles = sorted({tile_for_lnglat(p.x, p.y, z) for p in points})
    rng = np.random.default_rng(seed)
    if len(tiles) > n_tiles:
        tiles = [tiles[i] for i in sorted(rng.choice(len(tiles), n_tiles, replace=False))]
    return tiles


# --- PostGIS peer ------------------------------------------------------------------------------

class PostGIS:
    """A throw-away PostgreSQL + PostGIS server on 127.0.0.1 (initdb into a temporary directory)."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
        self.bin = Path(bins[-1]).parent
        self.tmp = Path(tempfile.mkdtemp(prefix="diagioi-bench-pg-"))
        self.data = self.tmp / "data"
        self.port = self._free_port()
        self.conn = None
        self._as_postgres = os.geteuid() == 0  # the server refuses to run as root
        if self._as_postgres:
            shutil.chown(self.tmp, "postgres")

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> PostGIS:
        import psycopg

        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.tmp} "
                   "-c fsync=off -c synchronous_commit=off -c shared_buffers=256MB -c jit=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.tmp / "server.log"), "-w", "start")
        self.conn = psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                                    autocommit=True)
        self.conn.execute("CREATE EXTENSION postgis")
        self.version = self.conn.execute("SELECT postgis_lib_version()").fetchone()[0]
        self.pg_version = self.conn.execute("SHOW server_version").fetchone()[0]
        return self

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.data.exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            except subprocess.CalledProcessError as error:
                print(f"could not stop PostgreSQL cleanly: {error.stderr.strip()}")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def load(self, table: str, gdf: gpd.GeoDataFrame, fields: list[str]) -> None:
        """Create ``table`` (fid, fields, geom 4326, geom3857) with GiST indexes; rows in the same order as ours."""
        columns = ", ".join(f"{c} {'float8' if pd.api.types.is_numeric_dtype(gdf[c]) else 'text'}" for c in fields)
        self.conn.execute(f"DROP TABLE IF EXISTS {table}")
        self.conn.execute(f"CREATE TABLE {table} (fid integer PRIMARY KEY, {columns}, geom geometry(Geometry, 4326))")
        wkb = shapely.to_wkb(shapely.set_srid(gdf.geometry.values, 4326), hex=True, include_srid=True)
        records = gdf[fields].astype(object).where(gdf[fields].notna(), None).to_numpy()
        with self.conn.cursor() as cursor:
            with cursor.copy(f"COPY {table} (fid, {', '.join(fields)}, geom) FROM STDIN") as copy:
                for row, (values, geometry) in enumerate(zip(records, wkb)):
                    copy.write_row((row + 1, *values, geometry))
        self.conn.execute(f"ALTER TABLE {table} ADD COLUMN geom3857 geometry(Geometry, 3857)")
        self.conn.execute(f"UPDATE {table} SET geom3857 = ST_Transform(geom, 3857)")
        self.conn.execute(f"CREATE INDEX ON {table} USING gist (geom)")
        self.conn.execute(f"CREATE INDEX ON {table} USING gist (geom3857)")
        self.conn.execute(f"VACUUM ANALYZE {table}")

    def tile_sql(self, table: str, fields: list[str], projected: bool) -> str:
        """The ST_AsMVT query of one tile (parameters z, x, y)."""
        attributes = ", ".join(fields)
        margin = f"{BUFFER}.0 / {EXTENT}"
        if projected:
            geometry = "t.geom3857"
            where = f"t.geom3857 && ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {margin})"
        else:
            geometry = "ST_Transform(t.geom, 3857)"
            where = f"t.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {margin}), 4326)"
        return (f"SELECT ST_AsMVT(q, '{table}', {EXTENT}, 'geom', 'fid') FROM ("
                f"SELECT fid, {attributes}, ST_AsMVTGeom({geometry}, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), "
                f"{EXTENT}, {BUFFER}, true) AS geom FROM {table} t WHERE {where}) q WHERE q.geom IS NOT NULL")

    def tile(self, sql: str, z: int, x: int, y: int) -> bytes:
        return self.conn.execute(sql, {"z": z, "x": x, "y": y}, prepare=True).fetchone()[0] or b""


# --- measuring ---------------------------------------------------------------------------------

def _ms(start_ns: int) -> float:
    return (time.perf_counter_ns() - start_ns) / 1e6


def measure(dataset: Dataset, n_tiles: int, peer: PostGIS | None, table: str) -> list[Row]:
    """Time every tile kind for one dataset at each zoom."""
    import mapbox_vector_tile

    cache = TileCache()
    source = GeoDataFrameTileSource(table, dataset.gdf, version="bench", properties=dataset.fields,
                                    cache=cache, maxzoom=16)
    sql = {}
    if peer is not None:
        peer.load(table, dataset.gdf, dataset.fields)
        sql = {"pg4326": peer.tile_sql(table, dataset.fields, projected=False),
               "pg3857": peer.tile_sql(table, dataset.fields, projected=True)}
    rows = []
    for z in ZOOMS:
        tiles = sample_tiles(dataset.gdf, z, n_tiles)
        # Few tiles at low zoom: repeat them so every percentile has at least ~20 samples.
        repeats = max(1, -(-20 // len(tiles)))
        row = Row(dataset.name, z, len(tiles))
        start = time.perf_counter_ns()
        source.index.geometries_for_zoom(z)
        source.index.geometries_for_zoom(max(z - 4, 0))  # PNG tiles use the one-pixel simplification
        row.prep_ms = _ms(start)
        timings: dict[str, list[float]] = {k: [] for k in
                                           ("ours cold", "ours warm", "png cold", "png warm",
                                            "pg4326 cold", "pg4326 warm", "pg3857 cold", "pg3857 warm")}
        sizes, counts = [], []
        for repeat in range(repeats):
            cache.clear()
            for z_, x, y in tiles:
                start = time.perf_counter_ns()
                tile = source.tile(z_, x, y, "mvt")
                timings["ours cold"].append(_ms(start))
                start = time.perf_counter_ns()
                source.tile(z_, x, y, "mvt")
                timings["ours warm"].append(_ms(start))
                start = time.perf_counter_ns()
                source.tile(z_, x, y, "png")
                timings["png cold"].append(_ms(start))
                start = time.perf_counter_ns()
                source.tile(z_, x, y, "png")
                timings["png warm"].append(_ms(start))
                if repeat == 0:
                    sizes.append(len(tile.content))
                    counts.append(len(mapbox_vector_tile.decode(tile.content)[table]["features"]))
                for name, query in sql.items():
                    start = time.perf_counter_ns()
                    peer.tile(query, z_, x, y)
                    timings[f"{name} cold"].append(_ms(start))
                    start = time.perf_counter_ns()
                    peer.tile(query, z_, x, y)
                    timings[f"{name} warm"].append(_ms(start))
        row.features_per_tile = statistics.fmean(counts)
        row.kb_per_tile = statistics.fmean(sizes) / 1024
        row.timings = {k: v for k, v in timings.items() if v}
        rows.append(row)
    return rows


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def print_table(rows: list[Row], with_peer: bool) -> None:
    """Markdown table: p50/p95 per column, plus the ratios the targets are about."""
    columns = ["ours cold", "ours warm", "png cold", "png warm"]
    if with_peer:
        columns += ["pg4326 cold", "pg4326 warm", "pg3857 cold", "pg3857 warm"]
    header = ["dataset", "z", "tiles", "feat/tile", "KB/tile", "zoom prep ms",
              *[f"{c} p50/p95" for c in columns]]
    if with_peer:
        header += ["cold p95 ours/pg3857", "warm p95 ours/pg3857"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [row.dataset, str(row.z), str(row.n_tiles), f"{row.features_per_tile:.0f}",
                 f"{row.kb_per_tile:.1f}", f"{row.prep_ms:.0f}"]
        for column in columns:
            values = row.timings.get(column, [])
            cells.append(f"{_pct(values, 50):.2f} / {_pct(values, 95):.2f}")
        if with_peer:
            cold = _pct(row.timings["ours cold"], 95) / _pct(row.timings["pg3857 cold"], 95)
            warm = _pct(row.timings["ours warm"], 95) / _pct(row.timings["pg3857 warm"], 95)
            cells += [f"{cold:.2f}×", f"{warm:.3f}×"]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    """Load the datasets, start PostGIS, measure, print, stop PostGIS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=30, help="tiles sampled per dataset and zoom")
    parser.add_argument("--no-postgis", action="store_true", help="skip the PostGIS peer")
    args = parser.parse_args()

    datasets = load_datasets()
    peer = None
    if not args.no_postgis:
        try:
            import psycopg  # noqa: F401  (benchmark-only dependency: pip install "psycopg[binary]")

            peer = PostGIS().start()
        except (ImportError, RuntimeError, subprocess.CalledProcessError) as error:
            detail = getattr(error, "stderr", "") or error
            print(f"PostGIS peer skipped: {detail}")
            peer = None
    try:
        rows: list[Row] = []
        for number, dataset in enumerate(datasets):
            started = time.perf_counter()
            rows += measure(dataset, args.tiles, peer, f"layer{number}")
            print(f"measured {dataset.name}: {len(dataset.gdf)} features, "
                  f"{int(shapely.get_num_coordinates(dataset.gdf.geometry.values).sum())} vertices "
                  f"in {time.perf_counter() - started:.1f} s {dataset.note}", flush=True)
    finally:
        if peer is not None:
            peer.stop()

    print()
    print(f"Python {platform.python_version()}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
          f"{os.cpu_count()} CPUs" + (f"; PostgreSQL {peer.pg_version}, PostGIS {peer.version}" if peer else ""))
    print("ms per tile; cold = rendered from data, warm = same tile again; PNG = 256 px RGBA (ours only)")
    print()
    print_table(rows, with_peer=peer is not None)


if __name__ == "__main__":
    main()
