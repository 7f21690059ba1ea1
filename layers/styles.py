"""Map styles: class breaks, palettes and the legend JSON shared by PNG tiles, the web map and the HTML export.

This module is the one source of colours: the PNG tiles and MapLibre expressions come from the
:class:`LayerStyle` objects, the standalone HTML map (:mod:`layers.html_map`) imports the palettes,
and the web app reads ``web/colours.js``, generated from :func:`web_colours` by
``python -m diagioi.web`` (a test fails when it differs).

One :class:`LayerStyle` per layer id. The PNG renderer (:mod:`layers.raster_tiles`) asks it
for a colour per feature; the web app asks for :meth:`LayerStyle.legend`, so both draw the same colours.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from numbers import Number
from typing import Any

from diagioi.geo.errors import NotFoundError
from diagioi.geo.i18n import catalogue

RGBA = tuple[int, int, int, int]


class StyleKind(StrEnum):
    """How a layer is coloured."""

    choropleth = "choropleth"  # numeric property, class breaks → sequential palette
    categorical = "categorical"  # one colour per category value
    single = "single"  # one colour for every feature


class GeometryKind(StrEnum):
    """What a layer draws (decides fill / line / circle)."""

    polygon = "polygon"
    line = "line"
    point = "point"


# ColorBrewer YlOrRd, 8 classes (sequential, colour-blind safe).
_YL_OR_RD_8 = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
#: Colour of each new unit of a scenario, by its position (the n-th new unit gets the n-th colour),
#: picked greedily for the largest smallest CIE76 distance (27 ΔE) between any two and to the
#: unassigned/outside fills, so neighbouring new units never look alike.
NEW_UNIT_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#dcd300", "#654522", "#e377c2", "#17becf",
                    "#7b4173", "#ff9da7", "#882d17", "#ffbb78", "#2b3d26", "#dbdb8d", "#c5b0d5", "#8db600")
#: Outline of a new unit by its status (pass / fail / exempt / unknown).
STATUS_COLOURS = {"pass": "#1b7837", "fail": "#b2182b", "exempt": "#555555", "unknown": "#555555"}
OUTSIDE_COLOUR = "#e6e6e6"      # units outside the scenario
UNASSIGNED_COLOUR = "#fff7d9"   # units of the scenario's districts that no new unit has taken yet


def new_unit_colour(position: int) -> str:
    """Colour of the new unit at ``position`` (0-based) in its scenario."""
    return NEW_UNIT_COLOURS[position % len(NEW_UNIT_COLOURS)]

#: Density class upper bounds, người/km². Vietnamese communes range from a few dozen people
#: per km² (mountain communes) to well above 10,000 (inner-city wards).
DENSITY_BREAKS_PER_KM2 = (100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0)


def hex_to_rgba(colour: str, opacity: float = 1.0) -> RGBA:
    """``"#rrggbb"`` and an opacity in 0–1 → ``(r, g, b, a)`` bytes."""
    text = colour.lstrip("#")
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16), round(255 * opacity))


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _format_number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


@dataclass(frozen=True)
class LayerStyle:
    """Colours of one layer, for PNG rendering, the web map and its legend.

    ``breaks`` are class upper bounds (exclusive): a choropleth with ``n`` breaks has ``n + 1``
    classes and needs ``n + 1`` colours. ``categories`` fixes the colour order of a categorical
    layer; values not listed get a colour from a stable hash of the value.
    """

    layer_id: str
    kind: StyleKind
    geometry: GeometryKind
    title: str
    title_vi: str
    colours: tuple[str, ...]
    value_property: str | None = None
    unit: str | None = None
    breaks: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()
    missing_colour: str = "#bdbdbd"
    fill_opacity: float = 0.75
    line_colour: str = "#4d4d4d"
    line_width_px: float = 1.0
    point_radius_px: float = 5.0
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.kind is StyleKind.choropleth and len(self.colours) != len(self.breaks) + 1:
            raise ValueError(f"{self.layer_id}: {len(self.breaks)} breaks need {len(self.breaks) + 1} colours")
        if self.kind is not StyleKind.single and not self.value_property:
            raise ValueError(f"{self.layer_id}: a {self.kind} style needs a property")

    @property
    def fingerprint(self) -> str:
        """Short hash of everything that changes the rendered colours (part of tile ETags)."""
        payload = json.dumps(self.legend(), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.blake2b(payload, digest_size=6).hexdigest()

    def with_categories(self, categories: list[str] | tuple[str, ...]) -> LayerStyle:
        """The same style with a fixed category order (first category gets the first colour)."""
        return replace(self, categories=tuple(str(c) for c in categories))

    def class_index(self, value: Any) -> int | None:
        """Class of a numeric value (0 = lowest), or ``None`` when the value is missing."""
        if _is_missing(value) or not isinstance(value, Number):
            return None
        for index, upper in enumerate(self.breaks):
            if value < upper:
                return index
        return len(self.breaks)

    def colour_for(self, value: Any = None) -> str:
        """Fill colour (``#rrggbb``) of a feature whose styled property has ``value``."""
        if self.kind is StyleKind.single:
            return self.colours[0]
        if self.kind is StyleKind.choropleth:
            index = self.class_index(value)
            return self.missing_colour if index is None else self.colours[index]
        if _is_missing(value):
            return self.missing_colour
        text = str(value)
        if text in self.categories:
            return self.colours[self.categories.index(text) % len(self.colours)]
        digest = hashlib.blake2b(text.encode(), digest_size=4).digest()
        return self.colours[int.from_bytes(digest, "big") % len(self.colours)]

    def rgba_for(self, value: Any = None) -> RGBA:
        """Fill colour of a feature as RGBA bytes, with the style's fill opacity."""
        opacity = self.fill_opacity if self.geometry is GeometryKind.polygon else 1.0
        return hex_to_rgba(self.colour_for(value), opacity)

    @property
    def line_rgba(self) -> RGBA:
        """Outline / stroke colour as RGBA bytes."""
        return hex_to_rgba(self.line_colour)

    def legend(self) -> dict[str, Any]:
        """JSON for the web legend: title, unit and one item per class or category."""
        items: list[dict[str, Any]] = []
        if self.kind is StyleKind.choropleth:
            bounds = (None, *self.breaks, None)
            for index, colour in enumerate(self.colours):
                lower, upper = bounds[index], bounds[index + 1]
                if lower is None:
                    label = f"< {_format_number(upper)}"
                elif upper is None:
                    label = f"≥ {_format_number(lower)}"
                else:
                    label = f"{_format_number(lower)} – {_format_number(upper)}"
                items.append({"label": label, "min": lower, "max": upper, "color": colour})
        elif self.kind is StyleKind.categorical:
            items = [{"label": self.labels.get(c, c), "value": c, "color": self.colour_for(c)}
                     for c in self.categories]
        else:
            items = [{"label": self.title, "color": self.colours[0]}]
        return {
            "layer_id": self.layer_id,
            "title": self.title,
            "title_vi": self.title_vi,
            "kind": str(self.kind),
            "geometry": str(self.geometry),
            "property": self.value_property,
            "unit": self.unit,
            "items": items,
            "missing": {"label": "no data", "label_vi": "không có số liệu", "color": self.missing_colour},
            "fill_opacity": self.fill_opacity,
            "line_color": self.line_colour,
            "line_width_px": self.line_width_px,
            "point_radius_px": self.point_radius_px,
        }


UNITS_DENSITY_STYLE = LayerStyle(
    layer_id="units",
    kind=StyleKind.choropleth,
    geometry=GeometryKind.polygon,
    title="Population density",
    title_vi="Mật độ dân số",
    value_property="density_per_km2",
    unit="người/km²",
    breaks=DENSITY_BREAKS_PER_KM2,
    colours=_YL_OR_RD_8,
    line_colour="#636363",
    line_width_px=0.8,
)

INDUSTRIAL_CLUSTERS_STYLE = LayerStyle(
    layer_id="industrial_clusters",
    kind=StyleKind.single,
    geometry=GeometryKind.polygon,
    title=catalogue("en")["zoning.industrial_clusters"],
    title_vi=catalogue("vi")["zoning.industrial_clusters"],
    colours=("#7b3294",),
    fill_opacity=0.6,
    line_colour="#40004b",
    line_width_px=1.5,
    point_radius_px=6.0,
)

TOURISM_SITES_STYLE = LayerStyle(
    layer_id="tourism_sites",
    kind=StyleKind.single,
    geometry=GeometryKind.point,
    title=catalogue("en")["zoning.tourism_sites"],
    title_vi=catalogue("vi")["zoning.tourism_sites"],
    colours=("#1a9850",),
    line_colour="#ffffff",
    point_radius_px=6.0,
)

NIGHT_STREETS_STYLE = LayerStyle(
    layer_id="night_streets",
    kind=StyleKind.single,
    geometry=GeometryKind.line,
    title=catalogue("en")["zoning.night_streets"],
    title_vi=catalogue("vi")["zoning.night_streets"],
    colours=("#d95f02",),
    line_colour="#d95f02",
    line_width_px=3.0,
)

_SCENARIO_STYLE = LayerStyle(
    layer_id="scenario",
    kind=StyleKind.categorical,
    geometry=GeometryKind.polygon,
    title="New units of the scenario",
    title_vi="Đơn vị hành chính mới của phương án",
    value_property="new_unit_id",
    colours=NEW_UNIT_COLOURS,
    fill_opacity=0.55,
    line_colour="#252525",
    line_width_px=1.5,
)

_FIXED_STYLES = {style.layer_id: style for style in
                 (UNITS_DENSITY_STYLE, INDUSTRIAL_CLUSTERS_STYLE, TOURISM_SITES_STYLE, NIGHT_STREETS_STYLE)}

SCENARIO_LAYER_PREFIX = "scenario-"


def style_for(layer_id: str) -> LayerStyle:
    """The style of a tile layer: ``units``, ``scenario-{id}`` or a zoning layer.

    Raises :class:`geo.errors.NotFoundError` for an unknown layer id.
    """
    if layer_id in _FIXED_STYLES:
        return _FIXED_STYLES[layer_id]
    if layer_id.startswith(SCENARIO_LAYER_PREFIX) and len(layer_id) > len(SCENARIO_LAYER_PREFIX):
        return replace(_SCENARIO_STYLE, layer_id=layer_id)
    known = ", ".join([*_FIXED_STYLES, SCENARIO_LAYER_PREFIX + "{id}"])
    raise NotFoundError(f"No style for layer {layer_id!r}.", hint=f"Known layers: {known}.",
                        context={"layer_id": layer_id})


def default_style(layer_id: str, geometry: GeometryKind) -> LayerStyle:
    """A plain one-colour style for a layer without a named style (e.g. an uploaded layer)."""
    return LayerStyle(layer_id=layer_id, kind=StyleKind.single, geometry=geometry, title=layer_id,
                      title_vi=layer_id, colours=("#3182bd",), fill_opacity=0.4, line_colour="#08519c",
                      line_width_px=1.0 if geometry is GeometryKind.polygon else 2.0)


ZONING_STYLES = (INDUSTRIAL_CLUSTERS_STYLE, TOURISM_SITES_STYLE, NIGHT_STREETS_STYLE)


def web_colours() -> dict[str, Any]:
    """Every colour the web app draws with, from the styles above (written to ``web/colours.js``)."""
    zoning = {}
    for style in ZONING_STYLES:
        main = style.colours[0]
        zoning[style.layer_id] = {"fill": main, "circle": main,
                                  "line": style.line_colour if style.geometry is GeometryKind.polygon else main}
    return {"NEW_UNIT_COLOURS": list(NEW_UNIT_COLOURS), "STATUS_COLOURS": dict(STATUS_COLOURS),
            "OUTSIDE_COLOUR": OUTSIDE_COLOUR, "UNASSIGNED_COLOUR": UNASSIGNED_COLOUR, "ZONING_STYLES": zoning}


def web_colours_js() -> str:
    """The exact text of ``web/colours.js`` (an ES module of constants)."""
    lines = ["// Generated by `python -m diagioi.web` from layers/styles.py, the one source of colours "
             "(PNG tiles, HTML export, web). Do not edit.", ""]
    for name, value in web_colours().items():
        lines.append(f"export const {name} = {json.dumps(value)};")
    return "\n".join(lines) + "\n"
