"""GET /api/units?geometry=false: the units list without boundaries, a bbox per unit for zoom-to.

The browser draws boundaries from the vector tiles; it only needs the figures (search, unit details)
and a box to zoom to. The grid of tests/conftest.py is 3×3 squares of 1 km near 105.75°E, 21.6°N.
"""
from __future__ import annotations

import pytest
from shapely.geometry import shape

from api_helpers import GRID_CODES


def by_code(collection: dict) -> dict[str, dict]:
    return {feature["properties"]["code"]: feature for feature in collection["features"]}


def test_light_list_has_the_same_properties_no_geometry_and_the_bounds_of_each_unit(client):
    full = client.get("/api/units")
    light = client.get("/api/units", params={"geometry": "false"})

    assert light.status_code == 200
    assert light.headers["content-type"] == "application/geo+json"
    assert light.headers["X-Units-Version"] == full.headers["X-Units-Version"]
    full_units, light_units = by_code(full.json()), by_code(light.json())
    assert sorted(light_units) == GRID_CODES
    for code in GRID_CODES:
        light_feature = light_units[code]
        assert light_feature["properties"] == full_units[code]["properties"]
        assert light_feature["geometry"] is None
        # bbox = bounds of the full geometry, rounded to 6 decimals (~0.1 m).
        assert light_feature["bbox"] == pytest.approx(list(shape(full_units[code]["geometry"]).bounds), abs=5e-7)
        assert light_feature["bbox"] == [round(v, 6) for v in light_feature["bbox"]]


def test_light_list_bbox_is_the_one_km_square_of_the_middle_unit(client):
    (ward,) = client.get("/api/units", params={"geometry": "false", "q": "Ô 5"}).json()["features"]

    min_lon, min_lat, max_lon, max_lat = ward["bbox"]
    assert ward["properties"]["code"] == "00005"
    assert ward["properties"]["population"] == 5000
    # 1 km is ~0.00967° of longitude at 21.6°N and ~0.00903° of latitude.
    assert max_lon - min_lon == pytest.approx(0.00967, rel=0.02)
    assert max_lat - min_lat == pytest.approx(0.00903, rel=0.02)
    assert (min_lon + max_lon) / 2 == pytest.approx(105.75, abs=0.05)
    assert (min_lat + max_lat) / 2 == pytest.approx(21.6, abs=0.05)


def test_filters_apply_to_the_light_list_as_to_the_full_one(client):
    light = client.get("/api/units", params={"geometry": "false", "district": "mau", "q": "o 1"}).json()
    full = client.get("/api/units", params={"district": "mau", "q": "o 1"}).json()

    assert [f["properties"]["code"] for f in light["features"]] == ["00001"]
    assert [f["properties"]["code"] for f in full["features"]] == ["00001"]


def test_default_list_keeps_the_geometry_and_has_no_bbox(client):
    features = client.get("/api/units").json()["features"]

    assert len(features) == 9
    assert {feature["geometry"]["type"] for feature in features} == {"Polygon"}
    assert [feature for feature in features if "bbox" in feature] == []


def test_geometry_parameter_is_documented_with_default_true(client):
    parameters = client.get("/openapi.json").json()["paths"]["/api/units"]["get"]["parameters"]

    (geometry,) = [p for p in parameters if p["name"] == "geometry"]
    assert geometry["schema"]["default"] is True
    assert "bbox" in geometry["description"]


def test_not_a_boolean_is_refused_with_a_hint(client):
    response = client.get("/api/units", params={"geometry": "maybe"})

    assert response.status_code == 422
    assert response.json()["context"]["errors"][0]["location"] == "query.geometry"
    assert response.json()["hint"].startswith("sửa các trường nêu trong context.errors")
