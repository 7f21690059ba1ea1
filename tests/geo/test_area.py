"""Areas are geodesic on WGS 84 — checked against closed-form values; degrees and Web Mercator are refused."""
import math

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from diagioi.geo.area import geodesic_area_km2, geodesic_areas_km2, geodesic_length_km, plane_areas_km2, require_geographic
from diagioi.geo.errors import UnknownCRSError

A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)
E = math.sqrt(E2)


def _ellipsoid_band_area_m2(lat1, lat2, dlon_deg):
    """Closed-form area of a lat/lon quadrangle on the ellipsoid (authalic formula)."""
    def q(phi):
        s = math.sin(phi)
        return (1 - E2) * (s / (1 - E2 * s * s) - (1 / (2 * E)) * math.log((1 - E * s) / (1 + E * s)))
    return A * A / 2 * math.radians(dlon_deg) * (q(math.radians(lat2)) - q(math.radians(lat1)))


def test_one_degree_cell_matches_closed_form_ellipsoid_area():
    cell = shapely.segmentize(shapely.box(105.0, 21.0, 106.0, 22.0), 0.001)  # edges follow the parallels
    expected_km2 = _ellipsoid_band_area_m2(21.0, 22.0, 1.0) / 1e6
    assert expected_km2 == pytest.approx(11_473.2, abs=0.5)
    assert geodesic_area_km2(cell) == pytest.approx(expected_km2, rel=1e-6)


def test_square_kilometre_in_vn2000_plane_is_one_km2_on_the_ellipsoid():
    to_lonlat = Transformer.from_crs("EPSG:9210", "EPSG:4326", always_xy=True)
    square = shapely.segmentize(shapely.box(500_000, 2_390_000, 501_000, 2_391_000), 10)
    lonlat = shapely.transform(square, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
    # TM-3 scale factor 0.9999 on the central meridian: 1 km² of grid is 1/0.9999² km² of ground.
    assert geodesic_area_km2(lonlat) == pytest.approx(1 / 0.9999**2, rel=2e-5)
    assert plane_areas_km2([lonlat], "EPSG:9210")[0] == pytest.approx(1.0, rel=1e-6)


def test_hole_is_subtracted_and_multipolygon_parts_add_up():
    outer = shapely.segmentize(shapely.box(105.0, 21.0, 105.1, 21.1), 0.001)
    hole = shapely.segmentize(shapely.box(105.02, 21.02, 105.04, 21.04), 0.001)
    with_hole = shapely.Polygon(outer.exterior, [hole.exterior])
    assert geodesic_area_km2(with_hole) == pytest.approx(geodesic_area_km2(outer) - geodesic_area_km2(hole), rel=1e-9)
    two = shapely.MultiPolygon([outer, shapely.box(106, 21, 106.1, 21.1)])
    assert geodesic_area_km2(two) == pytest.approx(
        geodesic_area_km2(outer) + geodesic_area_km2(shapely.box(106, 21, 106.1, 21.1)), rel=1e-9)


def test_orientation_does_not_change_the_sign():
    ccw = shapely.box(105.0, 21.0, 105.1, 21.1)
    cw = shapely.Polygon(list(ccw.exterior.coords)[::-1])
    assert geodesic_area_km2(cw) == pytest.approx(geodesic_area_km2(ccw), rel=1e-12)
    assert geodesic_area_km2(ccw) > 100


def test_web_mercator_or_projected_metres_are_refused():
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    cell = shapely.box(105.0, 21.0, 105.1, 21.1)
    mercator = shapely.transform(cell, lambda xy: np.column_stack(to_mercator.transform(xy[:, 0], xy[:, 1])))
    with pytest.raises(UnknownCRSError, match="lon/lat"):
        geodesic_areas_km2([mercator])
    with pytest.raises(UnknownCRSError, match="EPSG:3857"):
        require_geographic("EPSG:3857")
    with pytest.raises(UnknownCRSError, match="Web Mercator"):
        plane_areas_km2([cell], "EPSG:3857")


def test_area_in_degrees_would_be_wrong_by_orders_of_magnitude():
    cell = shapely.box(105.0, 21.0, 105.1, 21.1)
    assert cell.area == pytest.approx(0.01)  # square degrees: what a naive .area gives
    assert geodesic_area_km2(cell) == pytest.approx(114.9, abs=0.5)


def test_length_of_one_degree_of_meridian():
    meridian = shapely.LineString([(105.0, 21.0), (105.0, 22.0)])
    assert geodesic_length_km(meridian) == pytest.approx(110.71, abs=0.02)
