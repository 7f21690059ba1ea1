"""Zoning layers over HTTP: add, import files, edit with versions, and clear validation errors."""
from __future__ import annotations

import json

import geopandas as gpd
import shapely
from api_helpers import AUTH

SITE = {"type": "Feature", "id": "chua-1", "geometry": {"type": "Point", "coordinates": [105.766, 21.619]},
        "properties": {"name": "Chùa Thạch Long", "rank": "provincial", "category": "pagoda"}}


def test_add_a_feature_then_read_the_layer(client):
    response = client.post("/api/layers/tourism_sites", json=SITE, headers=AUTH)
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["layer_version"] == 1
    assert [(f["id"], f["version"]) for f in result["created"]] == [("chua-1", 1)]

    layer = client.get("/api/layers/tourism_sites").json()
    assert layer["kind"] == "tourism_sites" and layer["label_vi"] == "Điểm du lịch"
    (feature,) = layer["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [105.766, 21.619]}
    assert feature["properties"]["rank"] == "provincial"


def test_wrong_geometry_type_is_422_saying_what_is_accepted(client):
    street = {**SITE, "geometry": {"type": "LineString", "coordinates": [[105.76, 21.61], [105.77, 21.62]]}}
    response = client.post("/api/layers/tourism_sites", json=street, headers=AUTH)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "lớp tourism_sites nhận Point hoặc Polygon, không nhận LineString"
    assert body["code"] == "input"
    english = client.post("/api/layers/tourism_sites", json=street, headers={**AUTH, "Accept-Language": "en"})
    assert english.json()["detail"] == "tourism_sites accept Point or Polygon, got LineString"
    assert body["context"]["geometry_type"] == "LineString"
    assert client.get("/api/layers/tourism_sites").json()["features"] == []


def test_missing_name_is_422_naming_the_attribute(client):
    nameless = {**SITE, "properties": {"rank": "national"}}
    response = client.post("/api/layers/tourism_sites", json=nameless, headers=AUTH)
    assert response.status_code == 422
    assert "name" in response.json()["detail"]


def test_a_collection_with_one_bad_feature_stores_nothing_and_lists_it(client):
    bad_polygon = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
        [105.76, 21.61], [105.77, 21.62], [105.77, 21.61], [105.76, 21.62], [105.76, 21.61]]]},
        "properties": {"name": "Nơ"}}
    collection = {"type": "FeatureCollection", "features": [SITE, bad_polygon]}
    response = client.post("/api/layers/tourism_sites", json=collection, headers=AUTH)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("1 trên 2 đối tượng của lớp tourism_sites bị từ chối: #2:")
    assert body["context"]["issues"][0]["position"] == 2
    assert body["context"]["issues"][0]["location"] == [105.765, 21.615]
    assert client.get("/api/layers/tourism_sites").json()["layer_version"] == 0


def test_import_a_geojson_file_by_multipart_upload(client, tmp_path):
    frame = gpd.GeoDataFrame(
        {"name": ["Cụm CN Huyền Tụng", "Cụm CN Thanh Bình"], "status": ["operating", "planned"]},
        geometry=[shapely.box(105.755, 21.608, 105.760, 21.612), shapely.box(105.770, 21.620, 105.775, 21.625)],
        crs=4326)
    path = tmp_path / "clusters.geojson"
    frame.to_file(path, driver="GeoJSON")
    with open(path, "rb") as handle:
        response = client.post("/api/layers/industrial_clusters", headers=AUTH,
                               files={"file": ("clusters.geojson", handle, "application/geo+json")})
    assert response.status_code == 201, response.text
    assert sorted(f["properties"]["name"] for f in response.json()["created"]) == [
        "Cụm CN Huyền Tụng", "Cụm CN Thanh Bình"]


def test_import_a_geopackage_in_another_crs(client, tmp_path):
    frame = gpd.GeoDataFrame({"name": ["Phố đêm Đức Xuân"], "hours": ["18:00-23:00"]},
                             geometry=[shapely.LineString([(105.758, 21.610), (105.772, 21.626)])],
                             crs=4326).to_crs(3405)
    path = tmp_path / "streets.gpkg"
    frame.to_file(path, driver="GPKG")
    response = client.post("/api/layers/night_streets", headers=AUTH,
                           files={"file": ("streets.gpkg", path.read_bytes(), "application/geopackage+sqlite3")})
    assert response.status_code == 201, response.text
    (created,) = response.json()["created"]
    assert created["geometry"]["type"] == "LineString"
    lon, lat = created["geometry"]["coordinates"][0]
    assert (round(lon, 5), round(lat, 5)) == (105.758, 21.61)  # reprojected back to lon/lat


def test_upload_of_an_unsupported_file_type_is_422(client):
    response = client.post("/api/layers/night_streets", headers=AUTH,
                           files={"file": ("streets.csv", b"name,wkt\n", "text/csv")})
    assert response.status_code == 422
    assert "GeoPackage" in response.json()["detail"]


def test_edit_with_a_stale_version_is_409_and_delete_removes(client):
    client.post("/api/layers/tourism_sites", json=SITE, headers=AUTH)
    moved = {**SITE, "geometry": {"type": "Point", "coordinates": [105.770, 21.615]}, "version": 1}
    first = client.put("/api/layers/tourism_sites/chua-1", json=moved, headers=AUTH)
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.put("/api/layers/tourism_sites/chua-1", json=moved, headers=AUTH)
    assert stale.status_code == 409 and stale.json()["current_version"] == 2

    assert client.delete("/api/layers/tourism_sites/chua-1?version=2", headers=AUTH).status_code == 204
    assert client.get("/api/layers/tourism_sites/chua-1").status_code == 404
    audit = client.get("/api/audit", params={"object_type": "layer_feature"}).json()
    assert [entry["action"] for entry in audit] == ["delete", "update", "create"]


def test_unknown_layer_kind_is_422_listing_the_kinds(client):
    response = client.get("/api/layers/parks")
    assert response.status_code == 422
    assert "industrial_clusters" in json.dumps(response.json())


def test_layer_writes_need_the_token(client):
    assert client.post("/api/layers/tourism_sites", json=SITE).status_code == 401
    assert client.delete("/api/layers/tourism_sites/chua-1").status_code == 401
