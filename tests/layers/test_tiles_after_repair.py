"""After ``diagioi topology FILE --repair`` the real old layer tiles without slivers (issue 12 item 4).

The 2009 commune layer of Bắc Kạn overlaps and leaves thin gaps between neighbours. Repaired with
a 20 m tolerance it is a valid coverage: each district's dissolved units have no hole narrower than
the tolerance (the wider gaps the repair keeps are the layer's own holes), and the vector tiles —
simplified as a coverage — draw the same: no overlap between neighbours, no sliver hole in a
district's decoded units. The unrepaired layer fails both checks. Skips without ../shared/data.
"""
from __future__ import annotations

import json
import math

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import pytest
import shapely
from typer.testing import CliRunner

from diagioi.api.cli import app
from diagioi.geo.io import read_units
from diagioi.layers.sources import units_tile_source
from diagioi.layers.tms import tile_size_m
from diagioi.layers.vector_tiles import MVT_EXTENT

TOLERANCE_M = 20.0
TM3_BAC_KAN = 9213  # VN-2000 / TM-3 106°30' (Bắc Kạn's plane)
GRID = morecantile.tms.get("WebMercatorQuad")


@pytest.fixture(scope="module")
def bac_kan_layers(shared_data, tmp_path_factory):
    """(original, repaired) Bắc Kạn commune layers as UnitSets; the repair through the CLI."""
    folder = tmp_path_factory.mktemp("repair")
    layer = gpd.read_file(shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson")
    original = folder / "bac-kan.geojson"
    layer[layer["province"] == "Tỉnh Bắc Kạn"].to_file(original, driver="GeoJSON")
    repaired = folder / "bac-kan-sua.gpkg"
    result = CliRunner().invoke(app, ["topology", str(original), "--repair", "--tolerance", str(TOLERANCE_M),
                                      "--out-fixed", str(repaired), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["repair"]["coverage_valid"] is True
    assert report["repair"]["summary_after"]["n_overlaps"] == 0
    return read_units(original), read_units(repaired)


def _holes_narrower_than(geometries, width: float) -> list[float]:
    """Areas of the holes of the union of ``geometries`` that are narrower than ``width`` (same units)."""
    union = shapely.union_all(geometries)
    holes = []
    for polygon in getattr(union, "geoms", [union]):
        if polygon.geom_type != "Polygon":
            continue
        for ring in polygon.interiors:
            hole = shapely.Polygon(ring)
            if hole.buffer(-width / 2).is_empty:
                holes.append(hole.area)
    return holes


def _district_sliver_holes(units) -> dict[str, int]:
    plane = units.gdf.to_crs(TM3_BAC_KAN)
    return {district: len(_holes_narrower_than(group.geometry.values, TOLERANCE_M))
            for district, group in plane.groupby("district")}


def test_the_dissolved_districts_of_the_repaired_layer_have_no_sliver_holes(bac_kan_layers):
    original, repaired = bac_kan_layers
    assert sum(_district_sliver_holes(original).values()) > 0          # the raw layer has them
    assert set(_district_sliver_holes(repaired).values()) == {0}       # the repaired one has none
    assert shapely.coverage_is_valid(repaired.gdf.geometry.values)


def _decoded_tile_defects(units, z: int) -> tuple[int, float, int]:
    """(sliver holes, overlap share, tiles) over the tiles of zoom ``z``: per tile, the union of each
    district's decoded units; a hole narrower than half the tolerance is a sliver."""
    source = units_tile_source(units.gdf, version=units.version)
    west, south, east, north = units.gdf.total_bounds
    metres_per_unit = tile_size_m(z) / MVT_EXTENT * math.cos(math.radians((south + north) / 2))
    sliver_units = TOLERANCE_M / 2 / metres_per_unit
    inside = shapely.box(0, 0, MVT_EXTENT, MVT_EXTENT)
    slivers, overlap, area, tiles = 0, 0.0, 0.0, 0
    for tile in GRID.tiles(west, south, east, north, zooms=[z]):
        layer = mapbox_vector_tile.decode(source.render(tile.z, tile.x, tile.y, "mvt")).get("units")
        if not layer or not layer["features"]:
            continue
        tiles += 1
        by_district: dict[str, list] = {}
        for feature in layer["features"]:
            shape = shapely.geometry.shape(feature["geometry"]).intersection(inside)
            by_district.setdefault(feature["properties"]["district"], []).append(shape)
        for shapes in by_district.values():
            union = shapely.union_all(shapes)
            overlap += sum(s.area for s in shapes) - union.area
            area += union.area
            slivers += len(_holes_narrower_than(shapes, sliver_units))
    return slivers, overlap / area, tiles


@pytest.mark.parametrize("z", [12, 13])
def test_the_tiles_of_the_repaired_layer_have_no_slivers_between_neighbours(bac_kan_layers, z):
    original, repaired = bac_kan_layers
    slivers, overlap_share, tiles = _decoded_tile_defects(repaired, z)
    assert tiles > 50
    assert slivers == 0
    assert overlap_share < 1e-5       # shared edges drawn once: only integer-grid rounding remains
    raw_slivers, raw_overlap_share, _ = _decoded_tile_defects(original, z)
    assert raw_slivers > 0 and raw_overlap_share > 1e-3   # what the repair took away
