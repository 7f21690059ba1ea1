"""PNG tiles: decode with rasterio and check the size, colours inside units and transparency outside."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from rasterio.io import MemoryFile
from tile_fixtures import jagged_grid, lnglat_to_tile_pixel

from diagioi.geo.errors import NotFoundError, TileOutsideBoundsError
from diagioi.layers.raster_tiles import MEDIA_TYPE_PNG, TILE_SIZE_PX
from diagioi.layers.sources import units_tile_source, zoning_tile_source
from diagioi.layers.styles import DENSITY_BREAKS_PER_KM2, NEW_UNIT_COLOURS, StyleKind, hex_to_rgba, style_for
from diagioi.layers.tile_cache import TileCache

Z12_TILE = (12, 3251, 1796)  # holds the whole 3×3 grid

# Tiles are plain images: rasterio says so when it reads them back.
pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")


def read_png(content: bytes) -> np.ndarray:
    """PNG bytes → H × W × 4 array."""
    with MemoryFile(content) as memory_file, memory_file.open() as dataset:
        assert dataset.driver == "PNG"
        assert (dataset.count, dataset.width, dataset.height) == (4, TILE_SIZE_PX, TILE_SIZE_PX)
        return np.moveaxis(dataset.read(), 0, 2)


def pixel_at(image: np.ndarray, lng: float, lat: float, tile=Z12_TILE) -> tuple[int, ...]:
    column, row = lnglat_to_tile_pixel(lng, lat, *tile, TILE_SIZE_PX)
    return tuple(int(v) for v in image[int(row), int(column)])


@pytest.fixture
def units_png() -> np.ndarray:
    source = units_tile_source(jagged_grid(), version="v1", cache=TileCache())
    tile = source.tile(*Z12_TILE, "png")
    assert tile.media_type == MEDIA_TYPE_PNG == "image/png"
    return read_png(tile.content)


def test_a_unit_is_filled_with_its_density_class_colour(units_png):
    # Cell 5 (centre 105.785°E, 21.595°N): 1,500 người on 1 km² → class 1,000–2,000 → #fd8d3c at 75 % opacity.
    assert pixel_at(units_png, 105.785, 21.595) == (0xfd, 0x8d, 0x3c, 191)
    # Cell 8 (north middle): 20,000 người/km² → top class #b10026.
    assert pixel_at(units_png, 105.785, 21.605) == (0xb1, 0x00, 0x26, 191)
    # Cell 1 (south-west): 50 người/km² → lowest class #ffffcc.
    assert pixel_at(units_png, 105.775, 21.585) == (0xff, 0xff, 0xcc, 191)


def test_outside_the_units_the_tile_is_transparent(units_png):
    assert pixel_at(units_png, 105.75, 21.595) == (0, 0, 0, 0)
    assert pixel_at(units_png, 105.785, 21.55) == (0, 0, 0, 0)
    transparent_share = (units_png[..., 3] == 0).mean()
    # The grid covers 0.03° × 0.03° of a 0.088° × 0.082° tile: about 12 % of the pixels.
    assert transparent_share == pytest.approx(0.87, abs=0.03)


def test_unit_borders_are_drawn_in_the_outline_colour(units_png):
    # The border between cells 5 and 6 runs along 105.79°E (± a few metres of jitter).
    column, row = lnglat_to_tile_pixel(105.79, 21.595, *Z12_TILE, TILE_SIZE_PX)
    strip = units_png[int(row), int(column) - 1:int(column) + 2]
    outline = hex_to_rgba(style_for("units").line_colour)
    assert any(tuple(int(v) for v in pixel) == outline for pixel in strip)


def test_a_tile_away_from_the_data_is_fully_transparent():
    source = units_tile_source(jagged_grid(), version="v1", cache=TileCache())

    image = read_png(source.tile(12, 0, 0, "png").content)

    assert image.shape == (256, 256, 4)
    assert int(image[..., 3].max()) == 0


def test_points_are_drawn_as_discs_in_the_layer_colour():
    sites = gpd.GeoDataFrame({"name": ["Chùa Phật Tích"]}, geometry=[shapely.Point(105.785, 21.595)], crs="EPSG:4326")
    source = zoning_tile_source("tourism_sites", sites, version="1", cache=TileCache())

    image = read_png(source.tile(*Z12_TILE, "png").content)

    assert pixel_at(image, 105.785, 21.595) == hex_to_rgba("#1a9850")
    column, row = lnglat_to_tile_pixel(105.785, 21.595, *Z12_TILE, TILE_SIZE_PX)
    assert int(image[int(row), int(column) + 20, 3]) == 0  # 20 px away: outside the 6 px disc
    assert 80 <= int((image[..., 3] > 0).sum()) <= 200  # a disc of radius 6 px ≈ 113 px² with its rim


def test_lines_are_stroked_with_the_style_width():
    streets = gpd.GeoDataFrame({"name": ["Phố đi bộ Sông Cầu"]},
                               geometry=[shapely.LineString([(105.775, 21.595), (105.795, 21.595)])], crs="EPSG:4326")
    source = zoning_tile_source("night_streets", streets, version="1", cache=TileCache())

    image = read_png(source.tile(*Z12_TILE, "png").content)

    assert pixel_at(image, 105.785, 21.595) == hex_to_rgba("#d95f02")
    column, row = lnglat_to_tile_pixel(105.785, 21.595, *Z12_TILE, TILE_SIZE_PX)
    painted_rows = np.flatnonzero(image[:, int(column), 3] > 0)
    assert 3 <= len(painted_rows) <= 5  # 3 px wide, plus at most one partly touched row each side


def test_new_version_gives_a_new_png_etag_and_a_bad_index_is_refused():
    v1 = units_tile_source(jagged_grid(), version="v1", cache=TileCache())
    v2 = units_tile_source(jagged_grid(), version="v2", cache=TileCache())

    assert v1.tile(*Z12_TILE, "png").etag != v2.tile(*Z12_TILE, "png").etag
    assert v1.tile(*Z12_TILE, "png").etag != v1.tile(*Z12_TILE, "mvt").etag
    with pytest.raises(TileOutsideBoundsError, match="x and y run from 0 to 4095"):
        v1.tile(12, 4096, 0, "png")


def test_density_style_has_one_colour_per_class_and_a_legend():
    style = style_for("units")

    legend = style.legend()

    assert style.kind is StyleKind.choropleth
    assert len(legend["items"]) == len(DENSITY_BREAKS_PER_KM2) + 1 == 8
    assert legend["items"][0] == {"label": "< 100", "min": None, "max": 100.0, "color": "#ffffcc"}
    assert legend["items"][-1]["label"] == "≥ 10,000"
    assert style.colour_for(999.9) == "#feb24c"
    assert style.colour_for(1000) == "#fd8d3c"
    assert style.colour_for(float("nan")) == style.missing_colour


def test_scenario_style_gives_each_new_unit_a_stable_colour():
    style = style_for("scenario-7").with_categories(["n1", "n2"])

    assert style.layer_id == "scenario-7"
    assert [style.colour_for("n1"), style.colour_for("n2")] == list(NEW_UNIT_COLOURS[:2])  # as on the web map
    assert style.colour_for("n99") == style.colour_for("n99")
    assert [item["value"] for item in style.legend()["items"]] == ["n1", "n2"]


def test_unknown_layer_has_no_style():
    with pytest.raises(NotFoundError, match="No style for layer 'roads'"):
        style_for("roads")
