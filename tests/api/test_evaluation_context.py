"""One evaluation context: the draw panel and a saved scenario compute a drawn boundary's figures alike."""
from __future__ import annotations

from fastapi.testclient import TestClient

from diagioi.api.app import create_app
from diagioi.api.settings import Settings

from api_helpers import AUTH


def test_a_drawn_polygon_has_the_same_population_in_the_draw_panel_and_once_saved(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", token=AUTH["Authorization"].split()[-1],
                        web_dir=tmp_path / "no-web")
    with TestClient(create_app(settings)) as client:                    # the sample region and its raster
        west, south, east, north = client.get("/api/tiles/units.json").json()["bounds"]
        lon, lat = (west + east) / 2, (south + north) / 2
        drawn = {"type": "Polygon", "coordinates": [[[lon - 0.03, lat - 0.02], [lon + 0.04, lat - 0.02],
                                                     [lon + 0.02, lat + 0.03], [lon - 0.03, lat - 0.02]]]}
        analysis = client.post("/api/analysis/polygon", json=drawn).json()
        assert analysis["population"]["method"].startswith("raster")
        created = client.post("/api/scenarios", headers=AUTH, json={
            "name": "Vẽ tay", "new_units": [{"id": "d1", "name": "Khu vẽ", "kind": "ward", "geometry": drawn}]})
        assert created.status_code == 201, created.text
        [saved] = client.get(f"/api/scenarios/{created.json()['id']}/evaluation").json()["new_units"]
    assert saved["population"] == round(analysis["population"]["value"])
    assert saved["population_is_estimate"] is True and analysis["population"]["is_estimate"] is True
