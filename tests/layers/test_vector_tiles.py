"""Vector tiles: decode the MVT bytes and check layer, features, attributes and geometry."""
from __future__ import annotations

import logging

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pandas as pd
import pytest
import shapely
from tile_fixtures import jagged_grid, lnglat_to_tile_pixel

from diagioi.geo.errors import MissingCRSError, NotFoundError, TileOutsideBoundsError
from diagioi.layers.sources import (GeoDataFrameTileSource, TileSource, mvt_value, scenario_tile_source,
                            units_tile_source, zoning_tile_source)
from diagioi.layers.styles import NEW_UNIT_COLOURS
from diagioi.layers.tile_cache import TileCache
from diagioi.layers.tms import WEB_MERCATOR_TMS, tile_bounds, tile_for_lnglat
from diagioi.layers.vector_tiles import MEDIA_TYPE_MVT, MVT_BUFFER, MVT_EXTENT

# The whole 3×3 grid (105.77–105.80°E, 21.58–21.61°N) lies inside each of these tiles.
Z10_TILE = (10, 812, 449)
Z12_TILE = (12, 3251, 1796)


@pytest.fixture
def units_source() -> GeoDataFrameTileSource:
    return units_tile_source(jagged_grid(), version="v1", cache=TileCache())


def decode(content: bytes) -> dict:
    """Decoded tile with y pointing down, as the tile pixels are addressed."""
    return mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})


def polygon_of(feature: dict) -> shapely.Polygon:
    return shapely.geometry.shape(feature["geometry"])


def by_code(layer: dict) -> dict[str, dict]:
    return {f["properties"]["code"]: f for f in layer["features"]}


def test_grid_tile_holds_nine_units_in_a_layer_named_after_the_source(units_source):
    tile = units_source.tile(*Z10_TILE, "mvt")

    decoded = decode(tile.content)

    assert tile.media_type == MEDIA_TYPE_MVT == "application/vnd.mapbox-vector-tile"
    assert list(decoded) == ["units"]
    assert decoded["units"]["extent"] == 4096
    assert len(decoded["units"]["features"]) == 9
    assert sorted(f["id"] for f in decoded["units"]["features"]) == list(range(1, 10))


def test_attributes_are_mvt_safe_with_the_string_code_and_density_per_km2(units_source):
    features = by_code(decode(units_source.tile(*Z10_TILE, "mvt").content)["units"])

    middle = features["00005"]["properties"]
    assert middle["code"] == "00005"  # leading zeros kept as text
    assert middle["name"] == "Ô 5"
    assert middle["kind"] == "phuong"
    assert middle["population"] == pytest.approx(1500.0)
    assert middle["official_area_km2"] == pytest.approx(1.0)
    assert middle["density_per_km2"] == pytest.approx(1500.0)  # official area 1 km² → density = population
    assert middle["density_area_basis"] == "official"
    for feature in features.values():
        assert all(value is not None for value in feature["properties"].values())
        assert isinstance(feature["properties"]["population"], (int, float))


def test_missing_values_are_left_out_of_the_tile_not_written_as_null():
    grid = jagged_grid()
    grid.loc["00009", "population"] = np.nan
    source = units_tile_source(grid, version="v1", cache=TileCache())

    features = by_code(decode(source.tile(*Z10_TILE, "mvt").content)["units"])

    assert "population" not in features["00009"]["properties"]
    assert "density_per_km2" not in features["00009"]["properties"]
    assert features["00008"]["properties"]["population"] == pytest.approx(20000.0)


@pytest.mark.parametrize("value, expected", [
    (np.int64(7), 7), (np.float32(2.5), 2.5), (np.bool_(True), True), (float("nan"), None), (None, None),
    ("01840", "01840"), (3, 3)])
def test_mvt_value_keeps_numbers_as_numbers_and_drops_missing(value, expected):
    assert mvt_value(value) == expected
    assert type(mvt_value(value)) is type(expected)


def test_tile_attributes_built_column_by_column_are_those_of_mvt_value_value_by_value():
    grid = jagged_grid().iloc[:4].copy()
    grid["population"] = [1000.0, np.nan, np.inf, -2.5]
    grid["rank"] = pd.array([1, None, -3, 4], dtype="Int64")          # nullable integers
    grid["count"] = np.array([0, 5, -7, 2**40], dtype=np.int64)
    grid["flag"] = np.array([True, False, True, False])
    grid["seen"] = pd.to_datetime(["2025-07-01", None, "2024-01-31", "2020-02-29"])
    grid["note"] = ["Đền", None, float("nan"), 3]
    source = GeoDataFrameTileSource("units", grid, version="v1", cache=TileCache())

    columns = [c for c in grid.columns if c != "geometry"]
    expected = [{c: mvt_value(grid.iloc[row][c]) for c in columns if mvt_value(grid.iloc[row][c]) is not None}
                for row in range(len(grid))]
    assert source.properties == expected
    for got, want in zip(source.properties, expected):
        assert [type(v) for v in got.values()] == [type(v) for v in want.values()]


@pytest.mark.parametrize("tile", [Z10_TILE, Z12_TILE, (14, 13006, 7184)])
def test_coordinates_stay_inside_the_extent_plus_buffer(units_source, tile):
    layer = decode(units_source.tile(*tile, "mvt").content)["units"]

    coords = np.vstack([shapely.get_coordinates(polygon_of(f)) for f in layer["features"]])

    assert coords.min() >= -MVT_BUFFER
    assert coords.max() <= MVT_EXTENT + MVT_BUFFER
    assert MVT_BUFFER == 64


def test_a_shared_corner_lands_on_the_expected_tile_pixel(units_source):
    # (105.78°E, 21.59°N) is the corner shared by cells 1, 2, 4 and 5.
    z, x, y = tile_for_lnglat(105.78, 21.59, 14)
    expected_x, expected_y = lnglat_to_tile_pixel(105.78, 21.59, z, x, y, MVT_EXTENT)

    features = by_code(decode(units_source.tile(z, x, y, "mvt").content)["units"])

    for code in ("00001", "00002", "00004", "00005"):
        coords = shapely.get_coordinates(polygon_of(features[code]))
        nearest = np.abs(coords - [expected_x, expected_y]).sum(axis=1).min()
        assert nearest <= 1.0, code  # rounding to the integer grid moves a vertex by at most half a unit each way


def test_simplified_neighbours_still_share_their_edges():
    source = units_tile_source(jagged_grid(), version="v1", cache=TileCache())
    assert source.index.is_coverage

    z10 = by_code(decode(source.tile(*Z10_TILE, "mvt").content)["units"])
    z12 = by_code(decode(source.tile(*Z12_TILE, "mvt").content)["units"])
    polygons = {code: polygon_of(feature) for code, feature in z10.items()}

    # Simplification removed vertices (each source cell has 161)…
    assert shapely.get_num_coordinates(polygons["00005"]) < 161
    assert shapely.get_num_coordinates(polygons["00005"]) < shapely.get_num_coordinates(polygon_of(z12["00005"]))
    # …but 5 and its east neighbour 6 still have the same vertices along their border,
    shared = ({tuple(c) for c in shapely.get_coordinates(polygons["00005"])}
              & {tuple(c) for c in shapely.get_coordinates(polygons["00006"])})
    assert len(shared) >= 2
    assert shapely.length(shapely.intersection(polygons["00005"].boundary, polygons["00006"].boundary)) > 30
    # and the nine cells neither overlap nor leave holes.
    union = shapely.union_all(list(polygons.values()))
    assert sum(p.area for p in polygons.values()) == pytest.approx(union.area, abs=0.5)
    assert union.geom_type == "Polygon"
    assert len(union.interiors) == 0


def test_overlapping_polygons_fall_back_to_simplifying_each_one_and_say_so(caplog):
    grid = jagged_grid()
    grid.loc["00005", "geometry"] = grid.loc["00005", "geometry"].buffer(0.001)  # overlaps every neighbour
    source = units_tile_source(grid, version="v1", cache=TileCache())

    with caplog.at_level(logging.WARNING, logger="diagioi.layers.vector_tiles"):
        layer = decode(source.tile(*Z10_TILE, "mvt").content)["units"]

    assert source.index.is_coverage is False
    assert "not a valid coverage" in caplog.text
    assert len(layer["features"]) == 9


def test_points_and_lines_are_encoded_with_their_own_geometry_types():
    features = gpd.GeoDataFrame(
        {"name": ["Chùa Dâu", "Phố đêm"], "kind": ["pagoda", "street"]},
        geometry=[shapely.Point(105.785, 21.595), shapely.LineString([(105.775, 21.585), (105.795, 21.605)])],
        crs="EPSG:4326")
    source = GeoDataFrameTileSource("tourism_sites", features, version="3", cache=TileCache())

    layer = decode(source.tile(*Z12_TILE, "mvt").content)["tourism_sites"]

    types = sorted(f["geometry"]["type"] for f in layer["features"])
    assert types == ["LineString", "Point"]
    point = next(f for f in layer["features"] if f["geometry"]["type"] == "Point")
    expected = lnglat_to_tile_pixel(105.785, 21.595, *Z12_TILE, MVT_EXTENT)
    assert point["geometry"]["coordinates"] == pytest.approx(list(expected), abs=0.5)
    assert point["properties"] == {"name": "Chùa Dâu", "kind": "pagoda"}


def test_rows_without_geometry_are_not_drawn():
    streets = gpd.GeoDataFrame({"name": ["Đàm Văn Lễ", "Sông Cầu"]},
                               geometry=[None, shapely.LineString([(105.775, 21.585), (105.795, 21.605)])],
                               crs="EPSG:4326")
    source = zoning_tile_source("night_streets", streets, version="1", cache=TileCache())

    layer = decode(source.tile(*Z12_TILE, "mvt").content)["night_streets"]

    assert source.feature_count == 1
    assert [f["properties"]["name"] for f in layer["features"]] == ["Sông Cầu"]


def test_a_tile_away_from_the_data_is_a_valid_empty_tile(units_source):
    tile = units_source.tile(10, 0, 0, "mvt")

    assert decode(tile.content) == {"units": {"extent": 4096, "version": 2, "type": "FeatureCollection",
                                              "features": []}}


def test_scenario_tiles_carry_the_new_unit_id_and_its_colour():
    grid = jagged_grid()
    new_units = gpd.GeoDataFrame(
        {"new_unit_id": ["n1", "n2"], "name": ["Phường Bắc", "Phường Nam"]},
        geometry=[shapely.union_all(grid.geometry.iloc[3:9].values), shapely.union_all(grid.geometry.iloc[0:3].values)],
        crs="EPSG:4326")
    source = scenario_tile_source("42", new_units, version="7", cache=TileCache())

    layer = decode(source.tile(*Z10_TILE, "mvt").content)["scenario-42"]

    colours = {f["properties"]["new_unit_id"]: f["properties"]["color"] for f in layer["features"]}
    assert colours == {"n1": NEW_UNIT_COLOURS[0], "n2": NEW_UNIT_COLOURS[1]}  # the web map's colours (layers.styles)


def test_version_is_in_the_tile_url_and_changes_the_etag():
    v1 = units_tile_source(jagged_grid(), version="v1", cache=TileCache())
    v2 = units_tile_source(jagged_grid(), version="v2", cache=TileCache())

    url_v1 = v1.tilejson("/api/tiles/units/{z}/{x}/{y}.mvt?v={version}")["tiles"][0]
    url_v2 = v2.tilejson("/api/tiles/units/{z}/{x}/{y}.mvt")["tiles"][0]

    assert url_v1 == "/api/tiles/units/{z}/{x}/{y}.mvt?v=v1"
    assert url_v2 == "/api/tiles/units/{z}/{x}/{y}.mvt?v=v2"
    assert v1.tile(*Z10_TILE, "mvt").etag != v2.tile(*Z10_TILE, "mvt").etag
    assert v1.tile(*Z10_TILE, "mvt").etag == v1.tile(*Z10_TILE, "mvt").etag
    assert v1.tile(*Z10_TILE, "mvt").etag.startswith('"')


def test_a_second_request_is_served_from_the_cache_keyed_by_version():
    cache = TileCache()
    source = units_tile_source(jagged_grid(), version="v1", cache=cache)

    first = source.tile(*Z10_TILE, "mvt")
    second = source.tile(*Z10_TILE, "mvt")
    edited = units_tile_source(jagged_grid().drop(index="00009"), version="v2", cache=cache).tile(*Z10_TILE, "mvt")

    assert second is first
    assert (cache.hits, cache.misses, len(cache)) == (1, 2, 2)
    assert len(decode(edited.content)["units"]["features"]) == 8


def test_cache_evicts_the_least_recently_used_tile_beyond_its_budget():
    cache = TileCache(max_entries=2)
    source = units_tile_source(jagged_grid(), version="v1", cache=cache)

    source.tile(*Z10_TILE, "mvt")
    source.tile(*Z12_TILE, "mvt")
    source.tile(*Z10_TILE, "mvt")  # most recent again
    source.tile(14, 13006, 7184, "mvt")

    assert len(cache) == 2
    assert cache.get(("units", source._render_version, *Z12_TILE, "mvt")) is None


@pytest.mark.parametrize("z, x, y", [(10, 1024, 0), (10, 0, -1), (-1, 0, 0), (17, 0, 0), (3, 8, 8)])
def test_a_tile_outside_the_grid_or_zoom_range_is_refused(units_source, z, x, y):
    with pytest.raises(TileOutsideBoundsError) as raised:
        units_source.tile(z, x, y, "mvt")

    assert raised.value.hint
    assert raised.value.context["z"] == z


def test_an_unknown_format_is_refused(units_source):
    with pytest.raises(NotFoundError, match="Unknown tile format 'jpg'"):
        units_source.tile(*Z10_TILE, "jpg")


def test_a_layer_without_crs_is_refused():
    grid = jagged_grid()
    grid = grid.set_crs(None, allow_override=True)

    with pytest.raises(MissingCRSError, match="no coordinate reference system"):
        GeoDataFrameTileSource("units", grid, version="1")


def test_tilejson_describes_the_layer_for_maplibre(units_source):
    document = units_source.tilejson("https://example.org/api/tiles/units/{z}/{x}/{y}.mvt?v={version}")

    assert isinstance(units_source, TileSource)
    assert document["tilejson"] == "3.0.0"
    assert document["tiles"] == ["https://example.org/api/tiles/units/{z}/{x}/{y}.mvt?v=v1"]
    assert (document["minzoom"], document["maxzoom"]) == (0, 16)
    assert document["bounds"] == pytest.approx([105.77, 21.58, 105.80, 21.61], abs=1e-4)
    assert document["center"][:2] == pytest.approx([105.785, 21.595], abs=1e-4)
    layer = document["vector_layers"][0]
    assert layer["id"] == "units"
    assert layer["fields"]["code"] == "String"
    assert layer["fields"]["density_per_km2"] == "Number"
    assert layer["fields"]["name"] == "String"
    assert document["legend"]["unit"] == "người/km²"


def test_the_grid_constant_is_web_mercator_quad():
    assert WEB_MERCATOR_TMS.id == "WebMercatorQuad"
    minx, miny, maxx, maxy = tile_bounds(0, 0, 0)
    assert (minx, maxx) == pytest.approx((-20037508.342789244, 20037508.342789244))


def test_fast_geometry_encoding_decodes_like_the_reference_encoder():
    """Our numpy command streams give the same shapes as mapbox_vector_tile.encode for every geometry type."""
    from diagioi.layers.vector_tiles import clip_to_tile

    ring = shapely.Polygon([(105.772, 21.582), (105.798, 21.582), (105.798, 21.608), (105.772, 21.608)],
                           holes=[[(105.78, 21.59), (105.78, 21.60), (105.79, 21.60), (105.79, 21.59)]])
    shapes = [
        ring,
        shapely.MultiPolygon([shapely.box(105.771, 21.581, 105.775, 21.585), shapely.box(105.795, 21.605, 105.799, 21.609)]),
        shapely.MultiLineString([[(105.771, 21.6), (105.779, 21.601)], [(105.781, 21.59), (105.789, 21.591), (105.79, 21.58)]]),
        shapely.MultiPoint([(105.775, 21.595), (105.795, 21.595)]),
        shapely.Point(105.785, 21.585),
    ]
    frame = gpd.GeoDataFrame({"name": ["ring", "islands", "streets", "sites", "site"]}, geometry=shapes, crs="EPSG:4326")
    source = GeoDataFrameTileSource("mixed", frame, version="1", cache=TileCache())
    ours = decode(source.tile(*Z12_TILE, "mvt").content)["mixed"]["features"]

    in_tile = clip_to_tile(source.index.geometries_for_zoom(12), source.index.type_ids, *Z12_TILE)
    reference = decode(mapbox_vector_tile.encode(
        {"name": "mixed", "features": [{"geometry": g, "properties": {}} for g in in_tile]},
        default_options={"y_coord_down": True, "extents": MVT_EXTENT}))["mixed"]["features"]

    assert [f["geometry"]["type"] for f in ours] == ["Polygon", "MultiPolygon", "MultiLineString", "MultiPoint", "Point"]
    for mine, theirs in zip(ours, reference):
        assert shapely.geometry.shape(mine["geometry"]).equals(shapely.geometry.shape(theirs["geometry"])), mine["properties"]
    hole = shapely.geometry.shape(ours[0]["geometry"])
    assert len(hole.interiors) == 1
    assert hole.area == pytest.approx(shapely.geometry.shape(reference[0]["geometry"]).area)


def test_features_inside_the_tile_keep_their_shape_and_crossing_ones_are_cut_at_the_buffer():
    """Clipping leaves features strictly inside the buffered tile as they are and cuts edge-crossing
    ones at the buffer; the tile decodes to what the reference encoder gives for the same clip."""
    from diagioi.layers.vector_tiles import clip_to_tile, encode_mvt

    east_edge = 105.8203125  # east edge of Z12_TILE (105.732–105.820°E, 21.535–21.617°N)
    inside = [shapely.box(105.74 + 0.008 * i, 21.56, 105.745 + 0.008 * i, 21.565) for i in range(8)]
    crossing = [shapely.box(east_edge - 0.004, 21.57, east_edge + 0.004, 21.575),
                shapely.LineString([(east_edge - 0.01, 21.59), (east_edge + 0.01, 21.592)])]
    frame = gpd.GeoDataFrame({"name": [f"site {i}" for i in range(10)]}, geometry=inside + crossing, crs="EPSG:4326")
    source = GeoDataFrameTileSource("sites", frame, version="1", cache=TileCache())
    index = source.index
    rows = index.rows_in_tile(*Z12_TILE)
    geometries, type_ids = index.geometries_for_zoom(12)[rows], index.type_ids[rows]

    clipped_all = clip_to_tile(geometries, type_ids, *Z12_TILE)

    assert list(rows) == list(range(10))
    # The crossing box is cut at the buffer (4096 + 64 units), the inside boxes keep their 5 corners.
    assert shapely.bounds(clipped_all[8])[2] == MVT_EXTENT + MVT_BUFFER
    assert [shapely.get_num_coordinates(g) for g in clipped_all[:8]] == [5] * 8
    # The whole tile decodes to the same shapes as the reference encoder gives for the clip-everything result.
    ours = decode(encode_mvt("sites", index, *Z12_TILE, feature_ids=source.feature_ids,
                             attributes=source._attributes))["sites"]["features"]
    reference = decode(mapbox_vector_tile.encode(
        {"name": "sites", "features": [{"geometry": g, "properties": {}} for g in clipped_all]},
        default_options={"y_coord_down": True, "extents": MVT_EXTENT}))["sites"]["features"]
    assert len(ours) == len(reference) == 10
    for mine, theirs in zip(ours, reference):
        assert shapely.geometry.shape(mine["geometry"]).equals(shapely.geometry.shape(theirs["geometry"]))


ALL_TYPES = {"Polygon", "MultiPolygon", "LineString", "MultiLineString", "Point", "MultiPoint"}


@pytest.mark.parametrize("tile, types", [
    (Z10_TILE, ALL_TYPES - {"LineString"}),
    (Z12_TILE, ALL_TYPES - {"LineString"}),
    ((14, 13006, 7184), {"Polygon", "LineString"}),  # the z14 tile keeps one part of the multi-line
])
def test_small_tiles_encoded_in_plain_python_match_the_array_encoder(monkeypatch, tile, types):
    """Tiles with few vertices skip the array encoder; both give the same bytes, holes and multi-parts included."""
    import diagioi.layers.vector_tiles as vector_tiles

    grid = jagged_grid()
    holed = shapely.Polygon([(105.772, 21.582), (105.798, 21.582), (105.798, 21.608), (105.772, 21.608)],
                            holes=[[(105.78, 21.59), (105.78, 21.60), (105.79, 21.60), (105.79, 21.59)]])
    extras = gpd.GeoDataFrame(
        {"name": ["holed", "islands", "streets", "sites", "site"]},
        geometry=[holed,
                  shapely.MultiPolygon([shapely.box(105.771, 21.581, 105.775, 21.585),
                                        shapely.box(105.795, 21.605, 105.799, 21.609)]),
                  shapely.MultiLineString([[(105.771, 21.6), (105.779, 21.601)],
                                           [(105.781, 21.59), (105.789, 21.591), (105.79, 21.58)]]),
                  shapely.MultiPoint([(105.775, 21.595), (105.795, 21.595)]),
                  shapely.Point(105.785, 21.585)],
        crs="EPSG:4326")
    mixed = gpd.GeoDataFrame(pd.concat([grid[["name", "geometry"]], extras], ignore_index=True), crs="EPSG:4326")
    source = GeoDataFrameTileSource("mixed", mixed, version="1", cache=TileCache())

    monkeypatch.setattr(vector_tiles, "_PYTHON_ENCODER_MAX_COORDS", 10**9)
    in_python = source.render(*tile, "mvt")
    monkeypatch.setattr(vector_tiles, "_PYTHON_ENCODER_MAX_COORDS", -1)
    with_arrays = source.render(*tile, "mvt")

    assert in_python == with_arrays
    features = decode(in_python)["mixed"]["features"]
    assert {f["geometry"]["type"] for f in features} == types


@pytest.mark.parametrize("z", [0, 1, 6, 10, 14, 18, 24])
def test_the_encoder_s_own_tile_bounds_equal_the_grid_s_to_the_last_bit(z):
    from diagioi.layers.vector_tiles import _tile_bounds_m

    last = 2**z - 1
    for x, y in [(0, 0), (last, last), (last // 3, last // 2), (last, 0)]:
        assert _tile_bounds_m(z, x, y) == tile_bounds(z, x, y)  # exact: the bytes of a tile depend on it
    with pytest.raises(TileOutsideBoundsError):
        _tile_bounds_m(z, last + 1, 0)


def test_a_tile_query_finds_the_rows_whose_envelopes_meet_it_edges_included():
    source = units_tile_source(jagged_grid(), version="v1", cache=TileCache())
    index = source.index
    envelopes = shapely.bounds(index.geometries)
    # A box touching the north-east corner of cell 00005's envelope.
    corner_box = (envelopes[4, 2], envelopes[4, 3], envelopes[4, 2] + 500.0, envelopes[4, 3] + 500.0)

    assert len(index) == 9
    assert 4 in index.query(corner_box)
    assert list(index.query(index.buffered_tile_bounds(*Z12_TILE))) == sorted(index.query(
        index.buffered_tile_bounds(*Z12_TILE)))  # ascending rows


def test_a_layer_of_single_points_is_encoded_without_geometry_objects_yet_identically():
    """Point layers skip clipping objects: kept strictly inside the buffered tile, rounded half up."""
    from diagioi.layers.vector_tiles import TileGeometryIndex, encode_mvt

    west, south, east, north = tile_bounds(*Z12_TILE)
    unit_m = (east - west) / MVT_EXTENT
    buffer_m = MVT_BUFFER * unit_m
    points = [
        (west + 100.5 * unit_m, north - 200.5 * unit_m),  # (100.5, 200.5) units: halves go up, as in GEOS
        (west - 3.4 * unit_m, north + 0.6 * unit_m),  # in the buffer, left of and above the tile
        (west - buffer_m, (north + south) / 2),  # on the buffer's edge: clipping drops it
        (east + buffer_m * 0.99, south - buffer_m * 0.99),  # just inside the buffer's corner
        (east + buffer_m * 1.01, (north + south) / 2),  # just outside
    ]
    index = TileGeometryIndex(shapely.points(points), name="sites")
    encode = lambda: decode(encode_mvt("sites", index, *Z12_TILE, feature_ids=np.arange(1, 6),  # noqa: E731
                                       attributes=[(("n", ("int_value", i)),) for i in range(5)]))
    fast = encode()
    index._point_xy = None  # the general path: clip_to_tile and the command encoder
    general = encode()

    assert fast == general
    coordinates = {f["id"]: f["geometry"]["coordinates"] for f in fast["sites"]["features"]}
    assert coordinates == {1: [101, 201], 2: [-3, -1], 4: [4096 + 63, 4096 + 63]}
