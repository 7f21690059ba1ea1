"""The API on the real old communes of ../shared/data (skipped when the folder is absent)."""
from __future__ import annotations

import mapbox_vector_tile
import pytest
from api_helpers import AUTH, TOKEN
from fastapi.testclient import TestClient

from diagioi.api.app import create_app
from diagioi.api.settings import Settings
from diagioi.layers.tms import tile_for_lnglat

pytestmark = pytest.mark.real_data


@pytest.fixture
def real_client(shared_data, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", token=TOKEN, web_dir=tmp_path / "no-web",
                        units_path=shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson")
    with TestClient(create_app(settings)) as client:
        yield client


def test_search_and_province_filter_on_real_names(real_client):
    (feature,) = real_client.get("/api/units", params={"q": "duc xuan"}).json()["features"]
    assert (feature["properties"]["code"], feature["properties"]["name"]) == ("01840", "Đức Xuân")
    bac_kan = real_client.get("/api/units", params={"province": "bac kan"}).json()["features"]
    assert len(bac_kan) == 122                       # the 2009 polygons of Bắc Kạn (README of shared/data)


def test_bac_kan_city_merger_over_http(real_client):
    scenario = {"name": "TP Bắc Kạn 2025", "regime": "R76",
                "parent": {"name": "Thành phố Bắc Kạn", "kind": "provincial_city"},
                "new_units": [{"id": "n1", "name": "Phường Đức Xuân", "kind": "ward", "members": ["01840", "01834"]},
                              {"id": "n2", "name": "Phường Bắc Kạn", "kind": "ward", "members": ["01837", "01843"]}]}
    created = real_client.post("/api/scenarios", json=scenario, headers=AUTH).json()
    evaluation = real_client.get(f"/api/scenarios/{created['id']}/evaluation").json()
    duc_xuan = evaluation["new_units"][0]
    units = {f["properties"]["code"]: f["properties"] for f in real_client.get(
        "/api/units", params={"district": "bac kan"}).json()["features"]}
    assert duc_xuan["population"] == pytest.approx(units["01840"]["population"] + units["01834"]["population"])
    assert duc_xuan["area_km2"] == pytest.approx(units["01840"]["area_km2"] + units["01834"]["area_km2"], rel=0.01)

    moved = real_client.post(f"/api/scenarios/{created['id']}/reassign", headers=AUTH,
                             json={"assignments": {"01834": "n2"}, "version": 1}).json()
    changed = {unit["id"]: unit for unit in moved["changed"]}
    assert changed["n1"]["population"] == pytest.approx(units["01840"]["population"])
    assert changed["n2"]["members"] == ["01837", "01843", "01834"]

    z, x, y = tile_for_lnglat(105.834, 22.147, 11)   # Bắc Kạn city
    tile = mapbox_vector_tile.decode(real_client.get(f"/api/tiles/units/{z}/{x}/{y}.mvt").content)
    codes = {f["properties"]["code"] for f in tile["units"]["features"]}
    assert {"01840", "01834", "01837", "01843"} <= codes
