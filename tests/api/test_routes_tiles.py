"""Tiles over HTTP: TileJSON with versioned URLs, decoded MVT features, PNG pixels, ETag/304."""
from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pytest
from api_helpers import AUTH, GRID_CODES, grid_tile, scenario_body
from rasterio.io import MemoryFile

from diagioi.layers.tms import tile_bounds_lnglat


def _decode(content: bytes) -> dict:
    return mapbox_vector_tile.decode(content)


def test_tilejson_is_3_0_with_the_version_in_the_tile_url(client):
    tilejson = client.get("/api/tiles/units.json").json()
    assert tilejson["tilejson"] == "3.0.0"
    version = tilejson["data_version"]
    # Relative to the server root (absolute only with --public-url; never built from the Host header).
    assert tilejson["tiles"] == [f"/api/tiles/units/{{z}}/{{x}}/{{y}}.mvt?v={version}"]
    west, south, east, north = tilejson["bounds"]
    assert (west, north) == pytest.approx((105.7519, 21.6327), abs=2e-4)
    fields = tilejson["vector_layers"][0]["fields"]
    assert {"code", "name", "population", "area_km2", "density"} <= set(fields)
    assert client.get("/api/tiles/units.json?format=png").json()["tiles"][0].endswith(f".png?v={version}")


def test_units_mvt_tile_holds_the_nine_units_with_their_figures(client):
    z, x, y = grid_tile(client)
    response = client.get(f"/api/tiles/units/{z}/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    features = _decode(response.content)["units"]["features"]
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    assert sorted(by_code) == GRID_CODES
    ward = by_code["00005"]
    assert (ward["name"], ward["kind"], ward["population"]) == ("Ô 5", "ward", 5000)
    assert ward["density"] == pytest.approx(5000.0)                # người/km² on the official 1 km²
    assert ward["area_km2"] == pytest.approx(1.0, rel=1e-3)
    assert ward["tourism_site_count"] == 0                          # indicators ride along as attributes


def test_a_vector_tile_is_sent_gzip_compressed_to_a_client_that_accepts_it_and_plain_otherwise(client):
    z, x, y = grid_tile(client)
    url = f"/api/tiles/units/{z}/{x}/{y}.mvt"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    for accept in ("gzip", "br, gzip;q=0.8"):
        compressed = client.get(url, headers={"Accept-Encoding": accept})
        assert compressed.headers["content-encoding"] == "gzip", accept
        assert compressed.headers["vary"] == "Accept-Encoding"
        assert compressed.content == plain.content  # the client decompresses: the same tile
        assert int(compressed.headers["content-length"]) < len(plain.content)


def test_png_tile_paints_units_and_leaves_the_outside_transparent(client):
    z, x, y = grid_tile(client)
    response = client.get(f"/api/tiles/units/{z}/{x}/{y}.png")
    assert response.headers["content-type"] == "image/png"
    with MemoryFile(response.content) as memory, memory.open() as image:
        rgba = np.moveaxis(image.read(), 0, -1)
    height, width, _ = rgba.shape
    west, south, east, north = tile_bounds_lnglat(z, x, y)

    def pixel(lon: float, lat: float) -> np.ndarray:
        # Linear in lon; Mercator in lat (the grid is small, so linear in lat is close enough here).
        col = int((lon - west) / (east - west) * width)
        def merc(phi):
            return np.log(np.tan(np.pi / 4 + np.radians(phi) / 2))
        row = int((merc(north) - merc(lat)) / (merc(north) - merc(south)) * height)
        return rgba[row, col]

    units = client.get("/api/units", params={"q": "Ô 5"}).json()["features"][0]
    ring = np.asarray(units["geometry"]["coordinates"][0])
    centre_lon, centre_lat = ring[:, 0].mean(), ring[:, 1].mean()
    inside = pixel(centre_lon, centre_lat)
    assert inside[3] > 0                                             # painted
    outside = pixel(west + (east - west) * 0.01, south + (north - south) * 0.01)
    assert outside[3] == 0                                           # nothing there: transparent


def test_etag_revalidation_gives_304(client):
    z, x, y = grid_tile(client)
    first = client.get(f"/api/tiles/units/{z}/{x}/{y}.mvt")
    again = client.get(f"/api/tiles/units/{z}/{x}/{y}.mvt", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert first.headers["cache-control"] == "no-cache"              # unversioned URL: revalidate


def test_versioned_url_is_cacheable(client):
    z, x, y = grid_tile(client)
    version = client.get("/api/tiles/units.json").json()["data_version"]
    response = client.get(f"/api/tiles/units/{z}/{x}/{y}.mvt", params={"v": version})
    assert response.headers["cache-control"].startswith("public, max-age=3600")


def test_a_layer_edit_changes_the_version_and_shows_on_the_next_request(client):
    z, x, y = grid_tile(client)
    before = client.get("/api/tiles/tourism_sites.json").json()["data_version"]
    old_tile = client.get(f"/api/tiles/tourism_sites/{z}/{x}/{y}.mvt")
    assert _decode(old_tile.content) == {} or _decode(old_tile.content)["tourism_sites"]["features"] == []

    site = {"type": "Feature", "id": "s1", "geometry": {"type": "Point", "coordinates": [105.766, 21.619]},
            "properties": {"name": "Đền", "rank": "national"}}
    assert client.post("/api/layers/tourism_sites", json=site, headers=AUTH).status_code == 201

    tilejson = client.get("/api/tiles/tourism_sites.json").json()
    assert tilejson["data_version"] != before
    new_tile = client.get(f"/api/tiles/tourism_sites/{z}/{x}/{y}.mvt",
                          headers={"If-None-Match": old_tile.headers["etag"]})
    assert new_tile.status_code == 200                               # the old ETag no longer matches
    (feature,) = _decode(new_tile.content)["tourism_sites"]["features"]
    assert feature["properties"]["name"] == "Đền" and feature["properties"]["feature_id"] == "s1"
    units_tile = _decode(client.get(f"/api/tiles/units/{z}/{x}/{y}.mvt").content)["units"]["features"]
    counts = {f["properties"]["code"]: f["properties"]["tourism_site_count"] for f in units_tile}
    assert counts["00005"] == 1 and sum(counts.values()) == 1        # the site lies in the middle unit


def test_scenario_tiles_follow_reassignments(client):
    created = client.post("/api/scenarios", json=scenario_body(), headers=AUTH).json()
    layer = f"scenario-{created['id']}"
    z, x, y = grid_tile(client)

    def new_units() -> dict:
        features = _decode(client.get(f"/api/tiles/{layer}/{z}/{x}/{y}.mvt").content)[layer]["features"]
        return {f["properties"]["new_unit_id"]: f["properties"] for f in features}

    before = new_units()
    assert before["n1"]["members"] == "00001;00002;00003"
    evaluation = client.get(f"/api/scenarios/{created['id']}/evaluation").json()
    assert (before["n1"]["population"], before["n1"]["status"]) == (6000, evaluation["new_units"][0]["status"])
    assert before["n2"]["name"] == "Phường Giữa" and before["n2"]["kind"] == "ward"

    client.post(f"/api/scenarios/{created['id']}/reassign", json={"assignments": {"00004": "n1"}, "version": 1},
                headers=AUTH)
    after = new_units()
    assert after["n1"]["members"] == "00001;00002;00003;00004"
    assert after["n1"]["population"] == 10000 and after["n2"]["population"] == 11000
    tilejson = client.get(f"/api/tiles/{layer}.json").json()
    assert tilejson["data_version"].startswith("2.")                 # scenario version 2 after the reassign
    assert tilejson["tiles"][0].endswith("?v=" + tilejson["data_version"])


def test_unknown_layer_and_bad_tile_index_are_404_json(client):
    missing = client.get("/api/tiles/parks.json")
    assert missing.status_code == 404 and "tourism_sites" in missing.json()["hint"]
    assert client.get("/api/tiles/scenario-nope.json").status_code == 404
    outside = client.get("/api/tiles/units/3/9/0.mvt")
    assert outside.status_code == 404
    assert outside.json()["detail"].startswith("Tile 3/9/0 does not exist")
