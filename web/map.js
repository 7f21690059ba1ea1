// The MapLibre map: a plain background (optional raster basemap), the units vector tiles with
// promoteId "code" so that colours are set per unit through feature-state, the scenario's
// dissolved new-unit outlines, district/province outlines, the three zoning layers and name
// labels. The style has no glyphs URL: MapLibre then draws every label glyph itself from the
// vendored Noto Sans faces (web/vendor/noto-sans), so Vietnamese diacritics render with no network.

/* global maplibregl */

export const UNITS_SOURCE = "units";
export const UNITS_FILL = "units-fill";
export const UNITS_LINE = "units-line";
// Zoom from which unit outlines are a line layer (widths by state); below it, the fill's edge.
export const OUTLINE_MINZOOM = 8;

// Colours come from layers/styles.py (the one source shared with the PNG tiles and the HTML export).
import { NEW_UNIT_COLOURS, OUTSIDE_COLOUR, UNASSIGNED_COLOUR, ZONING_STYLES } from "./colours.js";
import { t } from "./i18n.js";
import { escapeHtml } from "./text.js";

/** CIE76 colour difference (ΔE in CIELAB, D65) of two "#rrggbb" colours: below ~10 they look alike. */
export function colourDistance(first, second) {
  const lab = (hex) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    const x = (r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047;
    const y = r * 0.2126 + g * 0.7152 + b * 0.0722;
    const z = (r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883;
    const f = (v) => (v > 0.008856 ? Math.cbrt(v) : 7.787 * v + 16 / 116);
    return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
  };
  const [a, b] = [lab(first), lab(second)];
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

export { NEW_UNIT_COLOURS, OUTSIDE_COLOUR, UNASSIGNED_COLOUR };

// Map font stacks = the @font-face families of web/vendor/noto-sans/noto-sans.css.
export const LABEL_FONT = ["Noto Sans Regular"];
export const LABEL_FONT_BOLD = ["Noto Sans Bold"];
// Layers drawn above everything else; data layers added later go below the first of them.
const LABEL_LAYERS = ["admin-district-line", "admin-province-line", "unit-labels", "district-labels", "province-labels", "newunit-labels"];
const FONT_SAMPLE = "Aa Ăă Ââ Đđ Êê Ôô Ơơ Ưư Ạạ Ấấ Ữữ Ỹỹ";

/** Wait until the label faces are loaded (MapLibre would otherwise draw and keep a fallback font). */
export async function loadLabelFonts() {
  if (!document.fonts || !document.fonts.load) return;
  try {
    await Promise.all([
      document.fonts.load(`400 24px "${LABEL_FONT[0]}"`, FONT_SAMPLE),
      document.fonts.load(`700 24px "${LABEL_FONT_BOLD[0]}"`, FONT_SAMPLE),
    ]);
  } catch (error) {
    // A font that cannot load leaves the browser's sans-serif: labels still show.
  }
}

/** The id of the first label layer present (insert data layers below it), or undefined. */
export function firstLabelLayer(map) {
  return LABEL_LAYERS.find((id) => map.getLayer(id));
}

const halo = { "text-halo-color": "rgba(255,255,255,0.92)", "text-halo-width": 1.4, "text-halo-blur": 0.3 };

/**
 * District and province outlines and the name labels of units, districts and provinces, from
 * GET /api/outlines (features with role outline|label and level unit|district|province).
 */
export function addOutlines(map, collection) {
  map.addSource("admin", { type: "geojson", data: collection });
  const is = (level, role) => ["all", ["==", ["get", "level"], level], ["==", ["get", "role"], role]];
  map.addLayer({ id: "admin-district-line", type: "line", source: "admin", filter: is("district", "outline"),
    paint: { "line-color": "#4a3f7a", "line-width": ["interpolate", ["linear"], ["zoom"], 7, 1, 12, 2.2],
      "line-dasharray": [3, 1.5], "line-opacity": 0.85 } });
  map.addLayer({ id: "admin-province-line", type: "line", source: "admin", filter: is("province", "outline"),
    paint: { "line-color": "#2b1d57", "line-width": ["interpolate", ["linear"], ["zoom"], 6, 1.8, 12, 3.6], "line-opacity": 0.9 } });
  map.addLayer({ id: "unit-labels", type: "symbol", source: "admin", filter: is("unit", "label"), minzoom: 9,
    layout: { "text-field": ["get", "name"], "text-font": LABEL_FONT,
      "text-size": ["interpolate", ["linear"], ["zoom"], 9, 10.5, 13, 13.5], "text-padding": 3, "text-max-width": 8 },
    paint: { "text-color": "#333333", ...halo } });
  map.addLayer({ id: "district-labels", type: "symbol", source: "admin", filter: is("district", "label"), minzoom: 7, maxzoom: 11.5,
    layout: { "text-field": ["get", "name"], "text-font": LABEL_FONT_BOLD, "text-transform": "uppercase",
      "text-size": ["interpolate", ["linear"], ["zoom"], 7, 10.5, 11, 13], "text-letter-spacing": 0.05, "text-max-width": 9 },
    paint: { "text-color": "#4a3f7a", ...halo } });
  map.addLayer({ id: "province-labels", type: "symbol", source: "admin", filter: is("province", "label"), maxzoom: 8.5,
    layout: { "text-field": ["get", "name"], "text-font": LABEL_FONT_BOLD, "text-size": 14, "text-max-width": 10 },
    paint: { "text-color": "#2b1d57", ...halo } });
  // Last = placed first: a new unit's name wins over the names of its members.
  map.addLayer({ id: "newunit-labels", type: "symbol", source: { type: "geojson", data: emptyCollection() },
    layout: { "text-field": ["get", "name"], "text-font": LABEL_FONT_BOLD,
      "text-size": ["interpolate", ["linear"], ["zoom"], 8, 12, 13, 16], "text-allow-overlap": false,
      "text-padding": 4, "symbol-sort-key": 0 },
    paint: { "text-color": "#111111", ...halo, "text-halo-width": 2 } });
}

function emptyCollection() { return { type: "FeatureCollection", features: [] }; }

/** Labels of the scenario's new units: [{name, point: [lon, lat]}]. */
export function setNewUnitLabels(map, labels) {
  const source = map && map.getSource("newunit-labels");
  if (!source) return;
  source.setData({ type: "FeatureCollection", features: labels.filter((l) => l.point).map((l) => ({
    type: "Feature", properties: { name: l.name }, geometry: { type: "Point", coordinates: l.point } })) });
}

/**
 * Where a new unit's label goes: the member label point nearest to the members' mean (inside a
 * member, near the middle of the group). memberPoints: [[lon, lat], ...]; null when none.
 */
export function groupLabelPoint(memberPoints) {
  const points = memberPoints.filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]));
  if (!points.length) return null;
  const mean = [0, 1].map((i) => points.reduce((sum, p) => sum + p[i], 0) / points.length);
  let best = points[0];
  let bestDistance = Infinity;
  for (const p of points) {
    const d = (p[0] - mean[0]) ** 2 + (p[1] - mean[1]) ** 2;
    if (d < bestDistance) { best = p; bestDistance = d; }
  }
  return best;
}

// URL() percent-encodes the {z}/{x}/{y} placeholders that MapLibre must see literally.
function absoluteUrl(url) { return decodeURI(new URL(url, window.location.href).href); }

/** A map on a plain background; basemapUrl is an optional {z}/{x}/{y} raster template. */
export function createMap(container, { basemapUrl = null, bounds = null, padding = 20 } = {}) {
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": "#f4f1ea" } }],
  };
  if (basemapUrl) {
    style.sources.basemap = { type: "raster", tiles: [basemapUrl], tileSize: 256 };
    style.layers.push({ id: "basemap", type: "raster", source: "basemap", paint: { "raster-opacity": 0.6 } });
  }
  const map = new maplibregl.Map({
    container,
    style,
    bounds: bounds || [[102.1, 8.4], [109.5, 23.4]],
    fitBoundsOptions: { padding, maxZoom: 13 },
    boxZoom: false,            // shift-drag is our box selection
    // The data attribution (source file, licence, year; the basemap's) is added with the outlines.
    attributionControl: false,
    fadeDuration: 0,
    renderWorldCopies: false,  // Vietnam never needs the world repeated beside it
    // Screenshots in tests and benchmarks read the canvas back. No multisampling: MapLibre
    // already smooths lines and circles in its shaders, and MSAA halves the frame rate of
    // software rendering (measured: panning the demo at z11 10 → 19 fps).
    canvasContextAttributes: { preserveDrawingBuffer: true, antialias: false },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  return map;
}

function vectorSourceFrom(tilejson, extra = {}) {
  return {
    type: "vector",
    tiles: tilejson.tiles.map(absoluteUrl),
    minzoom: tilejson.minzoom ?? 0,
    maxzoom: tilejson.maxzoom ?? 14,
    ...(tilejson.bounds ? { bounds: tilejson.bounds } : {}),
    ...extra,
  };
}

function sourceLayerOf(tilejson, fallback) {
  const layers = tilejson.vector_layers || [];
  return layers.length ? layers[0].id : fallback;
}

/**
 * The units of another dataset (TileJSON of units-{version}) in place of the ones shown, at the same
 * place in the layer order; returns the new source-layer name. Feature-state goes with the old source.
 */
export function replaceUnits(map, tilejson) {
  const order = map.getStyle().layers.map((layer) => layer.id);
  const beforeId = order[order.indexOf(UNITS_LINE) + 1];
  for (const id of [UNITS_LINE, UNITS_FILL]) if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource(UNITS_SOURCE)) map.removeSource(UNITS_SOURCE);
  return addUnits(map, tilejson, beforeId);
}

/** District/province outlines and unit labels (GET /api/outlines: the default dataset's) shown or hidden. */
export function setAdminVisible(map, visible) {
  for (const id of ["admin-district-line", "admin-province-line", "unit-labels", "district-labels", "province-labels"]) {
    if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
  }
}

/** Units as vector tiles (below ``beforeId`` when given); returns the source-layer name needed for feature-state. */
export function addUnits(map, tilejson, beforeId = undefined) {
  const sourceLayer = sourceLayerOf(tilejson, "units");
  map.addSource(UNITS_SOURCE, vectorSourceFrom(tilejson, { promoteId: "code" }));
  const selected = ["boolean", ["feature-state", "selected"], false];
  const unassigned = ["boolean", ["feature-state", "unassigned"], false];
  // "preview": units a box or the brush is about to take.
  const preview = ["boolean", ["feature-state", "preview"], false];
  const outlineColour = ["case", preview, "#0b63ce", selected, "#111111", unassigned, "#d95f02", "#6b6b6b"];
  // The fill's edge is a full pixel, not the line layer's thinner one: a lighter grey reads the same.
  const edgeColour = ["case", preview, "#0b63ce", selected, "#111111", unassigned, "#d95f02", "#a3a3a3"];
  map.addLayer({
    id: UNITS_FILL, type: "fill", source: UNITS_SOURCE, "source-layer": sourceLayer,
    paint: {
      "fill-color": ["to-color", ["coalesce", ["feature-state", "fill"], OUTSIDE_COLOUR]],
      "fill-opacity": 0.78,
      // Below OUTLINE_MINZOOM the fill's own 1-pixel edge (drawn anyway: fill-antialias is on by
      // default) is the unit outline, coloured like the line layer; the line layer would cost
      // about as much as the fill at a whole-country zoom in software rendering.
      "fill-outline-color": edgeColour,
    },
  }, beforeId);
  // One line layer for all unit outlines from OUTLINE_MINZOOM; selected and unassigned units
  // are told apart by feature-state (fewer layers to draw per frame than separate, mostly
  // invisible ones).
  map.addLayer({
    id: UNITS_LINE, type: "line", source: UNITS_SOURCE, "source-layer": sourceLayer, minzoom: OUTLINE_MINZOOM,
    paint: {
      "line-color": outlineColour,
      "line-width": ["interpolate", ["linear"], ["zoom"],
        OUTLINE_MINZOOM, ["case", preview, 3, selected, 3, unassigned, 1.4, 0.6],
        12, ["case", preview, 3.5, selected, 3.5, unassigned, 2, 1]],
    },
  }, beforeId);
  return sourceLayer;
}

/** Dissolved outlines of the scenario's new units; the version in the TileJSON's URLs refreshes them. */
export function setScenarioOutlines(map, tilejson) {
  const tiles = tilejson.tiles.map(absoluteUrl);
  const existing = map.getSource("scenario");
  if (existing) {
    // A new scenario has a new source-layer name: rebuild; a new version only swaps the URLs.
    if (map.getLayer("scenario-line") && map.getLayer("scenario-line").sourceLayer === sourceLayerOf(tilejson, "scenario")) {
      existing.setTiles(tiles);
      return;
    }
    map.removeLayer("scenario-line");
    map.removeLayer("scenario-fill");
    map.removeSource("scenario");
  }
  map.addSource("scenario", { ...vectorSourceFrom(tilejson), tiles });
  // Drawn new units have no member to colour: their own polygon is filled (see setDrawnUnitColours).
  const below = firstLabelLayer(map);
  map.addLayer({
    id: "scenario-fill", type: "fill", source: "scenario", "source-layer": sourceLayerOf(tilejson, "scenario"),
    paint: { "fill-color": drawnColourExpression, "fill-opacity": 0.5 },
  }, below);
  map.addLayer({
    id: "scenario-line", type: "line", source: "scenario", "source-layer": sourceLayerOf(tilejson, "scenario"),
    paint: { "line-color": "#222222", "line-width": ["interpolate", ["linear"], ["zoom"], 6, 1.2, 12, 2.8] },
  }, below);
}

/** Remove the new-unit outlines (no scenario open). */
export function clearScenarioOutlines(map) {
  for (const id of ["scenario-line", "scenario-fill"]) if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource("scenario")) map.removeSource("scenario");
}

let drawnColourExpression = "rgba(0,0,0,0)";

/** Fill colours of drawn new units by id ({new_unit_id: colour}); others stay transparent. */
export function setDrawnUnitColours(map, colourById) {
  const pairs = Object.entries(colourById).flat();
  drawnColourExpression = pairs.length ? ["match", ["get", "id"], ...pairs, "rgba(0,0,0,0)"] : "rgba(0,0,0,0)";
  if (map && map.getLayer("scenario-fill")) map.setPaintProperty("scenario-fill", "fill-color", drawnColourExpression);
}

/** A zoning layer (any geometry type) with its own colours; ids are "<kind>-fill|line|circle". */
export function addZoning(map, kind, tilejson) {
  const style = ZONING_STYLES[kind];
  const sourceLayer = sourceLayerOf(tilejson, kind);
  map.addSource(kind, vectorSourceFrom(tilejson));
  const below = firstLabelLayer(map);
  const polygons = ["==", ["geometry-type"], "Polygon"];
  map.addLayer({ id: `${kind}-fill`, type: "fill", source: kind, "source-layer": sourceLayer, filter: polygons,
    paint: { "fill-color": style.fill, "fill-opacity": 0.35 } }, below);
  map.addLayer({ id: `${kind}-line`, type: "line", source: kind, "source-layer": sourceLayer,
    filter: ["!=", ["geometry-type"], "Point"],
    paint: { "line-color": style.line, "line-width": ["case", polygons, 1.2, 3] } }, below);
  map.addLayer({ id: `${kind}-circle`, type: "circle", source: kind, "source-layer": sourceLayer,
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-color": style.circle, "circle-radius": 5, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } }, below);
  return [`${kind}-fill`, `${kind}-line`, `${kind}-circle`];
}

export function setZoningVisible(map, kind, visible) {
  for (const suffix of ["fill", "line", "circle"]) {
    const id = `${kind}-${suffix}`;
    if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
  }
}

// ---- choropleth classes -------------------------------------------------------------------

const SEQUENTIAL = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"];
// % of standard: red below 100 %, green at or above.
const PCT_BREAKS = [50, 80, 100, 150];
const PCT_COLOURS = ["#b2182b", "#ef8a62", "#fddbc7", "#a6dba0", "#1b7837"];

/** Quantile breaks (n classes) of the finite values; fewer when values repeat. */
export function quantileBreaks(values, classes = 5) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return [];
  const breaks = [];
  for (let i = 1; i < classes; i += 1) {
    const b = sorted[Math.min(sorted.length - 1, Math.floor((i * sorted.length) / classes))];
    if (!breaks.length || b > breaks[breaks.length - 1]) breaks.push(b);
  }
  return breaks;
}

/**
 * {breaks, colours, colourOf(value)} for an indicator. Density uses the server's legend
 * (layers/styles, the same classes as the PNG tiles) when given; pct_standard has fixed breaks;
 * the others use quantiles of the values.
 */
export function classesFor(indicator, values, densityLegend = null) {
  let breaks;
  let colours;
  if (indicator === "density" && densityLegend && densityLegend.items && densityLegend.items.length) {
    breaks = densityLegend.items.slice(1).map((item) => item.min);
    colours = densityLegend.items.map((item) => item.color);
  } else if (indicator === "pct_standard") {
    breaks = PCT_BREAKS;
    colours = PCT_COLOURS;
  } else {
    breaks = quantileBreaks(values);
    colours = SEQUENTIAL.slice(SEQUENTIAL.length - breaks.length - 1);
  }
  const colourOf = (value) => {
    if (!Number.isFinite(value)) return null;
    let i = 0;
    while (i < breaks.length && value >= breaks[i]) i += 1;
    return colours[i];
  };
  return { breaks, colours, colourOf };
}

/** Bounds of a GeoJSON geometry, for lists served with geometry (the light list carries its bbox). */
export function bboxOf(geometry) {
  let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
  const visit = (coords) => {
    if (typeof coords[0] === "number") {
      minX = Math.min(minX, coords[0]); maxX = Math.max(maxX, coords[0]);
      minY = Math.min(minY, coords[1]); maxY = Math.max(maxY, coords[1]);
    } else coords.forEach(visit);
  };
  if (geometry && geometry.coordinates) visit(geometry.coordinates);
  return Number.isFinite(minX) ? [minX, minY, maxX, maxY] : null;
}

/** The map's attribution line: the unit layer's file, licence and population year (and the basemap's). */
export function attributionHtml(attribution, basemapUrl) {
  const parts = [];
  if (attribution) {
    // The generated sample region is named and licensed in the page's language, not by its stored name.
    const source = attribution.sample_data ? t("attribution.sample_source") : attribution.source;
    const licence = attribution.licence || (attribution.sample_data ? t("attribution.sample_licence") : null);
    parts.push(`${escapeHtml(t("attribution.data"))}: ${escapeHtml(source || "–")}`);
    parts.push(licence ? `${escapeHtml(t("attribution.licence"))}: ${escapeHtml(licence)}`
      : escapeHtml(t("attribution.licence_unknown")));
    if (attribution.population_year) parts.push(`${escapeHtml(t("attribution.population_year"))} ${escapeHtml(attribution.population_year)}`);
  }
  if (basemapUrl) {
    let host = basemapUrl;
    try { host = new URL(basemapUrl.replace(/[{}]/g, "")).host; } catch (error) { /* a relative template */ }
    parts.push(`${escapeHtml(t("attribution.basemap"))}: ${escapeHtml(host)}`);
  }
  return parts.join(" · ");
}
