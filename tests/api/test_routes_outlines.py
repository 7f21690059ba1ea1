"""GET /api/outlines: the map's district/province outlines, unit label points and data attribution."""
from __future__ import annotations

import pytest
import shapely
from shapely.geometry import shape

from diagioi.geo.area import geodesic_area_km2


def test_the_grid_district_outline_covers_its_nine_units_and_each_unit_has_a_label_inside_it(client):
    body = client.get("/api/outlines").json()
    outlines = [f for f in body["features"] if f["properties"]["role"] == "outline"]
    by_level = {f["properties"]["level"]: f for f in outlines}
    assert set(by_level) == {"district", "province"}
    district = by_level["district"]
    assert district["properties"]["name"] == "Huyện Mẫu" and district["properties"]["unit_count"] == 9
    # Nine 1 km squares dissolve into one 3 km square: one ring, about 9 km² (geodesic).
    geometry = shape(district["geometry"])
    assert geometry.geom_type == "Polygon" and len(geometry.interiors) == 0
    assert abs(geodesic_area_km2(geometry) - 9.0) < 0.05

    units = {f["properties"]["code"]: f for f in client.get("/api/units").json()["features"]}
    labels = [f for f in body["features"] if f["properties"]["level"] == "unit"]
    assert {f["properties"]["code"] for f in labels} == set(units)
    for label in labels:
        unit = units[label["properties"]["code"]]
        assert shape(unit["geometry"]).contains(shape(label["geometry"]))
        assert label["properties"]["name"] == unit["properties"]["name"]


def test_attribution_names_the_source_file_and_the_licence_when_configured(client, settings):
    attribution = client.get("/api/outlines").json()["attribution"]
    assert attribution["source"] == "grid.geojson"
    assert attribution["licence"] is None          # not configured: the page says the licence is not stated
    assert attribution["sample_data"] is False


def test_the_licence_setting_is_reported(tmp_path, units_file):
    from fastapi.testclient import TestClient

    from diagioi.api.app import create_app
    from diagioi.api.settings import Settings

    settings = Settings(data_dir=tmp_path / "d", units_path=units_file, token="t" * 20, web_dir=tmp_path / "w",
                        units_licence="MIT (censusVN2009)")
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/outlines").json()["attribution"]["licence"] == "MIT (censusVN2009)"


def test_outlines_of_the_real_old_layer_are_one_per_district(shared_data, tmp_path):
    from diagioi.geo.io import read_units
    from diagioi.geo.outlines import admin_outlines
    from diagioi.geo.text import fold

    units = read_units(shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson")
    outlines = admin_outlines(units)
    districts = [o for o in outlines if o.level == "district"]
    provinces = [o for o in outlines if o.level == "province"]
    assert len(provinces) == 4
    assert len(districts) == len({(u.province, u.district) for u in units.gdf.itertuples() if u.district})
    # The file spells it "Thành Phố Bắc Kạn"; its 8 wards/communes form one outline.
    bac_kan_city = next(o for o in districts if fold(o.name) == "thanh pho bac kan")
    assert bac_kan_city.unit_count == 8
    assert shapely.contains(bac_kan_city.geometry, shapely.Point(bac_kan_city.label_point))


def test_a_flags_table_is_read_for_the_page_and_unknown_codes_are_refused(client):
    csv = "Mã;mountainous;border;ethnic_minority_share\n00001;có;0;42%\n00002;1;không;\n".encode()
    body = client.post("/api/flags/table?name=vung.csv", content=csv, headers={"content-type": "text/csv"}).json()
    assert body["count"] == 2
    assert body["unit_flags"]["00001"] == {"mountainous": True, "border": False, "ethnic_minority_share": 0.42}

    refused = client.post("/api/flags/table", content=b"code,island\n99999,1\n", headers={"content-type": "text/csv"})
    assert refused.status_code == 422 and set(refused.json()) >= {"detail", "hint", "context"}
    bad = client.post("/api/flags/table", content=b"code,island\n00001,maybe\n", headers={"content-type": "text/csv"})
    assert bad.status_code == 422 and set(bad.json()) >= {"detail", "hint", "context"}
    wrong = client.post("/api/flags/table?name=vung.pdf", content=b"%PDF", headers={"content-type": "text/csv"})
    assert wrong.status_code == 422 and "csv" in wrong.json()["hint"].lower()


def test_real_outlines_have_no_holes_from_the_gaps_between_communes(shared_data):
    from diagioi.geo.io import read_units
    from diagioi.geo.outlines import admin_outlines

    units = read_units(shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson")
    # The layer has hundreds of gaps between neighbours (README of the data); none shows as a ring.
    outlines = admin_outlines(units)
    for outline in outlines:
        parts = list(getattr(outline.geometry, "geoms", [outline.geometry]))
        assert all(len(part.interiors) == 0 for part in parts), outline.name
    provinces = [o for o in outlines if o.level == "province"]
    assert all(len(getattr(o.geometry, "geoms", [o.geometry])) <= 3 for o in provinces)


def test_a_line_across_a_grid_square_splits_it_into_two_pieces_whose_areas_add_up(client):
    square = next(f for f in client.get("/api/units").json()["features"] if f["properties"]["code"] == "00005")
    west, south, east, north = shape(square["geometry"]).bounds
    middle = (west + east) / 2
    line = {"type": "LineString", "coordinates": [[middle, south - 0.001], [middle, north + 0.001]]}
    body = client.post("/api/units/00005/split", json=line).json()
    assert len(body["pieces"]) == 2
    total = sum(piece["area_km2"] for piece in body["pieces"])
    assert total == pytest.approx(geodesic_area_km2(shape(square["geometry"])), abs=2e-4)   # pieces rounded to 1e-4 km²
    assert body["pieces"][0]["area_km2"] == pytest.approx(0.5, abs=0.01)   # a 1 km² square cut in the middle

    inside = {"type": "LineString", "coordinates": [[middle, south + 0.001], [middle, north - 0.001]]}
    refused = client.post("/api/units/00005/split", json=inside)
    assert refused.status_code == 422 and "does not cut" in refused.json()["detail"]
    unknown = client.post("/api/units/99999/split", json=line)
    assert unknown.status_code == 422  # the one status for an unknown unit code (UnknownUnitError)
    assert unknown.json()["context"]["unknown_codes"] == ["99999"]
