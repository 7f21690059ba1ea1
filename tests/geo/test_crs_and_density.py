"""One WGS 84 constant, one "to lon/lat" helper and one density function, used everywhere."""
import geopandas as gpd
import pandas as pd
import pytest
import shapely

from diagioi.geo.crs import WGS84, to_lonlat
from diagioi.geo.errors import MissingCRSError
from diagioi.geo.population import density_per_km2


def test_a_layer_in_vn2000_utm_is_brought_to_lon_lat():
    # A 1 km square in VN-2000 / UTM 48N near Bắc Kạn.
    layer = gpd.GeoDataFrame({"name": ["ô"]}, geometry=[shapely.box(580_000, 2_440_000, 581_000, 2_441_000)],
                             crs="EPSG:3405")
    lonlat = to_lonlat(layer, "units layer")
    assert lonlat.crs.equals(WGS84)
    west, south, east, north = lonlat.total_bounds
    assert 105.7 < west < east < 105.9 and 22.0 < south < north < 22.1


def test_a_layer_already_in_lon_lat_is_returned_as_it_is():
    layer = gpd.GeoDataFrame(geometry=[shapely.box(105.8, 22.1, 105.9, 22.2)], crs="EPSG:4326")
    assert to_lonlat(layer) is layer


def test_a_layer_without_crs_is_refused_by_name_unless_it_is_empty():
    layer = gpd.GeoDataFrame(geometry=[shapely.box(105.8, 22.1, 105.9, 22.2)])
    with pytest.raises(MissingCRSError, match="tourism_sites layer has no coordinate reference system"):
        to_lonlat(layer, "tourism_sites layer")
    empty = gpd.GeoDataFrame(geometry=[])
    assert to_lonlat(empty, "tourism_sites layer") is empty


def test_density_is_people_per_km2_and_missing_without_a_positive_area():
    assert density_per_km2(12_000, 40.0) == 300.0
    assert density_per_km2(0, 40.0) == 0.0
    assert density_per_km2(None, 40.0) is None
    assert density_per_km2(12_000, 0.0) is None
    assert density_per_km2(12_000, None) is None
    assert density_per_km2(12_000, float("nan")) is None


def test_density_of_a_whole_layer_is_one_value_per_unit():
    population = pd.Series([12_000, 5_000, None], index=["001", "002", "003"])
    area = pd.Series([40.0, 0.0, 10.0], index=population.index)
    density = density_per_km2(population, area)
    assert density["001"] == 300.0
    assert pd.isna(density["002"]) and pd.isna(density["003"])
