"""A standalone HTML map of a scenario (folium/Leaflet) that opens with no network.

Folium links Leaflet, jQuery, Bootstrap and fonts from CDNs by default; here those links are
dropped and Leaflet's JS and CSS (vendored from npm in ``web/vendor/leaflet``, images inlined as
data URIs) are written into the page itself, and no basemap is added. The file can be mailed or
put on a USB stick and still shows the new units over the old ones.

Everything the reader sees is in the reader's language (Vietnamese by default) from the language
catalogue: labels, kinds, statuses, and numbers written the Vietnamese way (1.234,5); the scale bar
is metric only. Colours come from :mod:`layers.styles`, as on the web map and the PNG tiles.
With the zoning indicators of the new units (``zoning``), each new unit's popup also gives its
industrial clusters, tourism sites and night streets (the figures of ``GET /api/indicators``).
"""
from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from diagioi.geo.crs import WGS84, to_lonlat
from diagioi.geo.errors import DiagioiError
from diagioi.geo.i18n import LANGUAGES, catalogue, format_number
from diagioi.geo.kinds import Status, UnitKind
from diagioi.layers.indicators import INDICATOR_FIELDS
from diagioi.layers.styles import NEW_UNIT_COLOURS, STATUS_COLOURS, new_unit_colour
from diagioi.web import web_dir

__all__ = ["LEAFLET_DIR", "NEW_UNIT_COLOURS", "write_html_map", "render_html_map"]

LEAFLET_DIR = web_dir() / "vendor" / "leaflet"

# Decimals shown for each figure of a popup (others are text).
_DIGITS = {"population": 0, "area_km2": 2, "official_area_km2": 2, "density": 0}
_LABEL_KEYS = ("new_units", "old_units", "name", "kind", "members", "population", "area_km2", "official_area_km2",
               "density", "status", "code", "legend")


def _labels(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise DiagioiError(f"unknown language {lang!r}", hint="use vi or en", context={"lang": lang})
    messages = catalogue(lang)
    labels = {key: messages[f"html.{key}"] for key in _LABEL_KEYS}
    labels.update({status: messages[f"status.{status}"] for status in Status})
    return labels


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only (folium's control_scale adds miles)."""

    _template = Template("""{% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
    {% endmacro %}""")


def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS, the CSS images turned into data URIs."""
    js_path, css_path = LEAFLET_DIR / "leaflet.js", LEAFLET_DIR / "leaflet.css"
    if not js_path.exists() or not css_path.exists():
        raise DiagioiError(f"Leaflet is not vendored at {LEAFLET_DIR}",
                           hint="copy leaflet/dist/leaflet.js, leaflet.css and images/ from the npm package "
                                "into web/vendor/leaflet (see web/vendor/README.md)",
                           context={"path": str(LEAFLET_DIR)})
    css = css_path.read_text(encoding="utf-8")

    def inline_image(match: re.Match) -> str:
        image = LEAFLET_DIR / match.group(1)
        if not image.exists():
            return match.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(image.read_bytes()).decode('ascii')})"

    css = re.sub(r"url\((images/[^)]+\.png)\)", inline_image, css)
    # The vendored file ends with a sourceMappingURL comment: the map file is not shipped.
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js_path.read_text(encoding="utf-8"))
    return js, css


def _in_wgs84(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    # Leaflet draws lon/lat; reprojecting for display changes no figure (figures come from columns).
    return to_lonlat(frame, what, hint="set it (units are EPSG:4326 in diagioi)")


def _display_value(column: str, value: Any, lang: str) -> Any:
    """A cell as the reader reads it: numbers in the reader's format, kinds and statuses as words."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if column in _DIGITS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value, _DIGITS[column], lang)
    if column == "kind":
        try:
            return catalogue(lang)[f"kind.{UnitKind.parse(value).value}"]
        except DiagioiError:
            return str(value)
    if column == "status":
        return catalogue(lang).get(f"status.{value}", str(value))
    return value


def _display_frame(frame: gpd.GeoDataFrame, columns: list[str], lang: str) -> gpd.GeoDataFrame:
    """The columns shown in tooltips and popups, as the reader reads them. folium puts them into the page
    as HTML, so every text (unit and scenario names are user input) is HTML-escaped here."""
    present = [c for c in columns if c in frame.columns]
    shown = gpd.GeoDataFrame({c: [_display_value(c, v, lang) for v in frame[c]] for c in present},
                             geometry=frame.geometry.values, crs=frame.crs)
    for column in present:
        shown[column] = [html.escape(v) if isinstance(v, str) else v for v in shown[column]]
    return shown


# Decimals shown for an indicator, by its unit of measure.
_INDICATOR_DIGITS = {"count": 0, "km²": 2, "%": 1, "km": 2}


def _zoning_columns(new_units: gpd.GeoDataFrame, zoning: pd.DataFrame, lang: str) -> dict[str, tuple[str, list]]:
    """Indicator name → (label, value of each new unit as the reader reads it), matched by new-unit id."""
    ids = [str(i) for i in new_units["id"]] if "id" in new_units.columns else [None] * len(new_units)
    table = zoning.set_axis([str(i) for i in zoning.index])
    words = catalogue(lang)
    columns = {}
    for name, field in INDICATOR_FIELDS.items():
        if name not in table.columns:
            continue
        values = [format_number(table.at[i, name], _INDICATOR_DIGITS[field.unit], lang) if i in table.index
                  else "–" for i in ids]
        columns[name] = (words.get(f"metric.{name}", name), values)
    return columns


def render_html_map(new_units_gdf: gpd.GeoDataFrame, units_gdf: gpd.GeoDataFrame, *,
                    title: str = "diagioi", lang: str = "vi", zoning: pd.DataFrame | None = None) -> str:
    """The HTML text of the map (see :func:`write_html_map`)."""
    labels = _labels(lang)
    new_units = _in_wgs84(new_units_gdf, "the new units")
    units = _in_wgs84(units_gdf, "the units")
    units = units.reset_index() if "code" not in units.columns and units.index.name == "code" else units

    fmap = folium.Map(tiles=None, control_scale=False, prefer_canvas=False)
    fmap.add_child(_MetricScale())
    # No CDN: drop folium's default links; Leaflet is inlined below.
    fmap.default_js = []
    fmap.default_css = []
    js, css = _leaflet_assets()
    fmap.get_root().header.add_child(folium.Element(f"<style>{css}</style>\n<script>{js}</script>"), name="leaflet_inline")
    fmap.get_root().header.add_child(folium.Element(
        "<style>html,body{margin:0;height:100%;font-family:system-ui,Arial,sans-serif}"
        ".diagioi-title{position:fixed;top:10px;left:60px;z-index:1000;background:#fff;padding:6px 10px;"
        "border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);font-size:14px;max-width:60%}"
        ".leaflet-container{background:#f4f1ea}</style>"), name="diagioi_style")

    unit_columns = ["code", "name", "kind", "population", "area_km2", "official_area_km2"]
    old = _display_frame(units, unit_columns, lang)
    folium.GeoJson(
        json.loads(old.to_json(na="null")), name=labels["old_units"],
        style_function=lambda _f: {"color": "#6b6b6b", "weight": 0.8, "fillColor": "#e6e6e6", "fillOpacity": 0.4},
        tooltip=folium.GeoJsonTooltip(fields=[c for c in ("name", "code") if c in old.columns],
                                      aliases=[labels[c] for c in ("name", "code") if c in old.columns]),
    ).add_to(fmap)

    new_columns = ["name", "kind", "members", "population", "area_km2", "official_area_km2", "density", "status"]
    shown = _display_frame(new_units, new_columns, lang)
    shown["_fill"] = [new_unit_colour(i) for i in range(len(shown))]  # as on the web map and the tiles
    raw_status = list(new_units["status"]) if "status" in new_units.columns else [None] * len(shown)
    shown["_outline"] = [STATUS_COLOURS.get(str(s), "#222222") for s in raw_status]
    fields = [c for c in new_columns if c in shown.columns]
    aliases = [labels[c] for c in fields]
    if zoning is not None:
        for name, (label, values) in _zoning_columns(new_units, zoning, lang).items():
            shown[name] = values
            fields.append(name)
            aliases.append(label)
    # A scenario without new units yet has no layer to add (folium refuses tooltips on no features).
    if len(shown):
        folium.GeoJson(
            json.loads(shown.to_json(na="null")), name=labels["new_units"],
            style_function=lambda f: {"color": f["properties"]["_outline"], "weight": 3,
                                      "fillColor": f["properties"]["_fill"], "fillOpacity": 0.6},
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[labels["name"]]),
            popup=folium.GeoJsonPopup(fields=fields, aliases=aliases),
        ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)

    # Open on the new units (the scenario), or on all units when there is none yet.
    focus = new_units.geometry if len(new_units) and not new_units.geometry.is_empty.all() else units.geometry
    west, south, east, north = gpd.GeoSeries(focus, crs=WGS84).total_bounds
    if all(map(pd.notna, (west, south, east, north))):
        fmap.fit_bounds([[south, west], [north, east]])
    fmap.get_root().html.add_child(folium.Element(
        f'<div class="diagioi-title"><b>{html.escape(title)}</b><br><small>{html.escape(labels["legend"])}</small></div>'))
    fmap.get_root().title = html.escape(title)  # folium writes <title> without escaping
    text = fmap.get_root().render()
    remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', text)
    if remote:
        raise DiagioiError("the HTML map still links remote files", hint="a folium element added a CDN link",
                           context={"links": remote[:5]})
    return text


def write_html_map(new_units_gdf: gpd.GeoDataFrame, units_gdf: gpd.GeoDataFrame, path: str | Path, *,
                   title: str = "diagioi", lang: str = "vi", zoning: pd.DataFrame | None = None) -> Path:
    """Write a standalone HTML map: new units (coloured, outlined by pass/fail, popups with their
    figures) over the old units. Leaflet is inlined, no basemap: it opens with no network.

    ``new_units_gdf`` is ``Evaluation.new_units_gdf()`` (columns name, kind, members, population,
    area_km2, official_area_km2, density, status; missing columns are skipped); ``units_gdf`` is
    ``UnitSet.gdf``. Both need a CRS. ``zoning``: the zoning indicators per new unit (indexed by new-unit
    id, :func:`layers.indicators.new_unit_indicators`), shown in the popups. Returns the path written.
    """
    text = render_html_map(new_units_gdf, units_gdf, title=title, lang=lang, zoning=zoning)
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path
