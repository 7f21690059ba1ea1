"""Static map tiles: several tile sources written into one PMTiles (v3) archive.

The archive holds, per tile, one MVT with a layer per source (``units``, ``scenario-{id}``,
``industrial_clusters``…). Each layer is encoded by the source's own :meth:`render` — the same
encoder, attributes, simplification and feature ids as the live ``/api/tiles`` route — so a map
reading the archive shows what the server shows, without a server (static hosting or a CDN).

    from diagioi.layers.pmtiles_archive import write_pmtiles
    report = write_pmtiles([units_source, scenario_source], "plan.pmtiles", minzoom=6, maxzoom=14)

The file is written next to its destination and renamed into place when complete, so a reader
never sees half an archive. Web Mercator is the tile grid only; nothing here measures area.
"""
from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import morecantile

from diagioi.geo.errors import InputError
from diagioi.layers.sources import GeoDataFrameTileSource, TileFormat
from diagioi.layers.tms import clamp_lnglat_bounds

#: Highest zoom written by default: from here on the live tiles are unsimplified, and map clients
#: over-zoom the last level of an archive.
DEFAULT_MAXZOOM = 14
#: Most tiles one archive may hold (a guard against a zoom range far beyond the data).
MAX_TILES = 500_000

_GRID = morecantile.tms.get("WebMercatorQuad")


@dataclass
class PmtilesReport:
    """What was written: the file, zooms, tiles (addressed / distinct contents) and the layers."""

    path: Path
    minzoom: int
    maxzoom: int
    tiles: int = 0
    distinct_tiles: int = 0
    bytes: int = 0
    layers: dict[str, str] = field(default_factory=dict)  # layer id → data version

    def to_dict(self) -> dict:
        return {"path": str(self.path), "minzoom": self.minzoom, "maxzoom": self.maxzoom, "tiles": self.tiles,
                "distinct_tiles": self.distinct_tiles, "bytes": self.bytes, "layers": dict(self.layers)}


def _union_bounds(sources: Sequence[GeoDataFrameTileSource]) -> tuple[float, float, float, float]:
    drawn = [s.bounds for s in sources if s.feature_count]
    if not drawn:
        raise InputError("no layer to export has any feature", hint="add units, features or new units first",
                         context={"layers": [s.id for s in sources]})
    return clamp_lnglat_bounds((min(b[0] for b in drawn), min(b[1] for b in drawn),
                                max(b[2] for b in drawn), max(b[3] for b in drawn)))


def tile_layers(sources: Sequence[GeoDataFrameTileSource], z: int, x: int, y: int) -> bytes:
    """One archive tile: the MVT layers of the sources that have features reaching ``z/x/y``.

    MVT layers are a repeated protobuf field, so the sources' encoded tiles put one after the
    other are one valid tile with all their layers. Empty when no source reaches the tile.
    """
    parts = [source.render(z, x, y, TileFormat.mvt) for source in sources
             if source.minzoom <= z <= source.maxzoom and len(source.index.rows_in_tile(z, x, y))]
    return b"".join(parts)


def write_pmtiles(sources: Sequence[GeoDataFrameTileSource], path: str | Path, *, minzoom: int = 0,
                  maxzoom: int = DEFAULT_MAXZOOM, name: str = "diagioi", description: str = "",
                  attribution: str = "") -> PmtilesReport:
    """Write ``sources`` (vector layers) for zooms ``minzoom..maxzoom`` into the PMTiles file ``path``.

    Tiles are gzip-compressed MVT; the metadata carries TileJSON-style ``vector_layers`` (ids,
    fields), each layer's legend and data version. Raises :class:`InputError` for a bad zoom range,
    no source, duplicate layer ids or more than :data:`MAX_TILES` tiles.
    """
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    if not sources:
        raise InputError("no layer to export", hint="name at least one layer")
    ids = [source.id for source in sources]
    if len(set(ids)) != len(ids):
        raise InputError(f"a layer is named twice: {', '.join(ids)}", hint="name each layer once",
                         context={"layers": ids})
    if not (0 <= minzoom <= maxzoom <= 20):
        raise InputError(f"invalid zoom range {minzoom}–{maxzoom}", hint="use 0 <= minzoom <= maxzoom <= 20",
                         context={"minzoom": minzoom, "maxzoom": maxzoom})
    west, south, east, north = _union_bounds(sources)
    destination = Path(path)
    report = PmtilesReport(path=destination, minzoom=minzoom, maxzoom=maxzoom,
                           layers={source.id: source.version for source in sources})

    grid = [(tile.z, tile.x, tile.y) for z in range(minzoom, maxzoom + 1)
            for tile in _GRID.tiles(west, south, east, north, zooms=[z])]
    if len(grid) > MAX_TILES:
        raise InputError(f"zooms {minzoom}–{maxzoom} need {len(grid):,} tiles over these layers (at most "
                         f"{MAX_TILES:,})", hint="lower --maxzoom (clients over-zoom the last level)",
                         context={"tiles": len(grid)})
    grid.sort(key=lambda zxy: zxy_to_tileid(*zxy))  # clustered archive: tiles in tile-id order

    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            writer = Writer(file)
            contents: set[bytes] = set()
            for z, x, y in grid:
                tile = tile_layers(sources, z, x, y)
                if not tile:
                    continue
                compressed = gzip.compress(tile, mtime=0)
                writer.write_tile(zxy_to_tileid(z, x, y), compressed)
                contents.add(compressed)
                report.tiles += 1
            if not report.tiles:
                raise InputError("no tile to write in this zoom range", hint="widen --minzoom/--maxzoom")
            report.distinct_tiles = len(contents)
            writer.finalize({
                "tile_type": TileType.MVT, "tile_compression": Compression.GZIP,
                "min_zoom": minzoom, "max_zoom": maxzoom,
                "min_lon_e7": int(west * 1e7), "min_lat_e7": int(south * 1e7),
                "max_lon_e7": int(east * 1e7), "max_lat_e7": int(north * 1e7),
                "center_zoom": minzoom, "center_lon_e7": int((west + east) / 2 * 1e7),
                "center_lat_e7": int((south + north) / 2 * 1e7),
            }, _metadata(sources, minzoom, maxzoom, name=name, description=description, attribution=attribution))
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # a file for static hosting: readable like any other (mkstemp made it 0600)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    report.bytes = destination.stat().st_size
    return report


def _metadata(sources: Sequence[GeoDataFrameTileSource], minzoom: int, maxzoom: int, *, name: str,
              description: str, attribution: str) -> dict:
    layers = []
    for source in sources:
        tilejson = source.tilejson("{z}/{x}/{y}")
        layer = dict(tilejson["vector_layers"][0])
        layer["minzoom"] = max(minzoom, source.minzoom)
        layer["maxzoom"] = min(maxzoom, source.maxzoom)
        layer["data_version"] = source.version
        layer["legend"] = tilejson["legend"]
        layers.append(layer)
    return {"name": name, "description": description, "attribution": attribution, "format": "pbf",
            "type": "overlay", "vector_layers": layers, "generator": "diagioi tiles export"}
