"""The standalone HTML map: Leaflet inlined, no remote link, the scenario's figures in the page."""
from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from diagioi.geo.errors import MissingCRSError
from diagioi.layers.html_map import write_html_map

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture()
def old_units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["01840", "01834"], "name": ["Đức Xuân", "Nguyễn Thị Minh Khai"], "kind": ["ward", "ward"],
         "population": [4_500.0, 4_244.0], "area_km2": [3.1, 3.93]},
        geometry=[box(105.80, 22.10, 105.82, 22.12), box(105.82, 22.10, 105.84, 22.12)], crs="EPSG:4326",
    ).set_index("code")


@pytest.fixture()
def new_units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["n1"], "name": ["Phường Đức Xuân"], "kind": ["ward"], "members": [["01840", "01834"]],
         "area_km2": [7.03], "official_area_km2": [float("nan")], "population": [8_744.0], "density": [1243.3],
         "contiguous": [True], "status": ["fail"]},
        geometry=[box(105.80, 22.10, 105.84, 22.12)], crs="EPSG:4326")


def test_html_map_inlines_leaflet_and_links_nothing_remote(new_units, old_units, tmp_path):
    path = write_html_map(new_units, old_units, tmp_path / "map.html", title="Thành phố Bắc Kạn 2025")
    text = path.read_text(encoding="utf-8")

    assert re.findall(r'<(?:script|link)[^>]+(?:src|href)="[^"]*"', text) == []
    assert "Leaflet 1.9.4" in text or '"1.9.4"' in text   # the vendored library itself is in the page
    assert "<title>Thành phố Bắc Kạn 2025</title>" in text
    assert "data:image/png;base64," in text               # the layer-control icons, inlined
    assert 150_000 < len(text.encode("utf-8")) < 400_000


def embedded_feature_collections(text: str) -> list[dict]:
    """The GeoJSON layers folium writes into the page as ``geo_json_<id>_add({...});``."""
    return [json.loads(match) for match in re.findall(r"geo_json_\w+_add\((\{.*?\})\);\n", text, flags=re.S)]


def test_html_map_carries_the_new_units_figures_and_old_unit_names(new_units, old_units, tmp_path):
    text = write_html_map(new_units, old_units, tmp_path / "map.html").read_text(encoding="utf-8")
    old_layer, new_layer = embedded_feature_collections(text)

    assert [f["properties"]["name"] for f in old_layer["features"]] == ["Đức Xuân", "Nguyễn Thị Minh Khai"]
    assert [f["properties"]["code"] for f in old_layer["features"]] == ["01840", "01834"]
    (merged,) = new_layer["features"]
    assert merged["properties"]["name"] == "Phường Đức Xuân"
    assert merged["properties"]["population"] == "8.744"   # numbers as a Vietnamese reader writes them
    assert merged["properties"]["density"] == "1.243"
    assert merged["properties"]["area_km2"] == "7,03"
    assert merged["properties"]["kind"] == "Phường"         # never "ward"
    assert merged["properties"]["official_area_km2"] == "–"   # missing, shown as such, not 0
    assert merged["properties"]["members"] == "01840, 01834"
    assert merged["properties"]["status"] == "Không đạt"
    assert merged["properties"]["_outline"] == "#b2182b"   # red outline: fails a standard


def test_html_map_speaks_english_on_request(new_units, old_units, tmp_path):
    text = write_html_map(new_units, old_units, tmp_path / "map.html", lang="en").read_text(encoding="utf-8")
    (merged,) = embedded_feature_collections(text)[1]["features"]

    assert (merged["properties"]["population"], merged["properties"]["kind"]) == ("8,744", "Ward")
    assert merged["properties"]["status"] == "Fails"


def test_html_map_scale_bar_is_metric_only(new_units, old_units, tmp_path):
    text = write_html_map(new_units, old_units, tmp_path / "map.html").read_text(encoding="utf-8")

    assert re.findall(r"L\.control\.scale\(([^)]*)\)", text) == ["{metric: true, imperial: false}"]


def test_new_units_have_the_colours_of_the_web_map_and_the_tiles(old_units, tmp_path):
    from diagioi.layers.styles import NEW_UNIT_COLOURS, style_for

    squares = [box(105.80 + 0.01 * i, 22.10, 105.81 + 0.01 * i, 22.11) for i in range(13)]
    many = gpd.GeoDataFrame({"id": [f"n{i + 1}" for i in range(13)], "name": [f"Xã {i + 1}" for i in range(13)],
                             "status": ["pass"] * 13}, geometry=squares, crs="EPSG:4326")
    text = write_html_map(many, old_units, tmp_path / "map.html").read_text(encoding="utf-8")
    fills = [f["properties"]["_fill"] for f in embedded_feature_collections(text)[1]["features"]]

    tiles = style_for("scenario-s1").with_categories(list(many["id"]))  # the PNG/vector tile style
    assert fills == [tiles.colour_for(new_unit_id) for new_unit_id in many["id"]]
    assert fills[:12] == list(NEW_UNIT_COLOURS[:12]) and len(set(fills[:12])) == 12


def test_html_map_without_crs_is_refused(new_units, old_units, tmp_path):
    with pytest.raises(MissingCRSError, match="has no coordinate reference system"):
        write_html_map(new_units.set_crs(None, allow_override=True), old_units, tmp_path / "map.html")


@pytest.mark.browser
def test_html_map_opens_in_chromium_with_no_network(new_units, old_units, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    path = write_html_map(new_units, old_units, tmp_path / "map.html", lang="en")
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        page = browser.new_page()
        requested = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(path.as_uri())
        page.wait_for_selector("path.leaflet-interactive")
        drawn_shapes = page.locator("path.leaflet-interactive").count()
        browser.close()
    assert drawn_shapes == 3   # two old units and one new unit
    assert [url for url in requested if not url.startswith(("file:", "data:"))] == []


def test_html_map_popups_give_the_zoning_indicators_of_each_new_unit(new_units, old_units, tmp_path):
    import pandas as pd

    zoning = pd.DataFrame({"tourism_site_count": [2], "industrial_cluster_share_pct": [12.345],
                           "night_street_length_km": [1.5]}, index=pd.Index(["n1"], name="id"))
    text = write_html_map(new_units, old_units, tmp_path / "map.html", zoning=zoning).read_text(encoding="utf-8")
    (merged,) = embedded_feature_collections(text)[1]["features"]

    assert (merged["properties"]["tourism_site_count"], merged["properties"]["industrial_cluster_share_pct"],
            merged["properties"]["night_street_length_km"]) == ("2", "12,3", "1,50")
    aliases = json.loads(re.findall(r"let aliases = (\[.*?\]);", text)[-1])  # the popup of the new units
    assert aliases[-3:] == ["Tỉ lệ diện tích cụm công nghiệp (%)", "Số điểm du lịch", "Chiều dài phố đêm (km)"]
