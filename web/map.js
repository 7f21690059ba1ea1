// The MapLibre map: a plain background (optional raster basemap), the units vector tiles with
// promoteId "code" so that colours are set per unit through feature-state, the scenario's
// dissolved new-unit outlines, and the three zoning layers. No symbol/text layers: the style
// needs no glyphs or sprites, so the page works with no network at all.

/* global maplibregl */

export const UNITS_SOURCE = "units";
export const UNITS_FILL = "units-fill";
export const UNITS_LINE = "units-line";
// Zoom from which unit outlines are a line layer (widths by state); below it, the fill's edge.
export const OUTLINE_MINZOOM = 8;

// Colours come from layers/styles.py (the one source shared with the PNG tiles and the HTML export).
import { NEW_UNIT_COLOURS, OUTSIDE_COLOUR, UNASSIGNED_COLOUR, ZONING_STYLES } from "./colours.js";

export { NEW_UNIT_COLOURS, OUTSIDE_COLOUR, UNASSIGNED_COLOUR };

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
    style.sources.basemap = {
      type: "raster", tiles: [basemapUrl], tileSize: 256,
      attribution: "© OpenStreetMap contributors",
    };
    style.layers.push({ id: "basemap", type: "raster", source: "basemap", paint: { "raster-opacity": 0.6 } });
  }
  const map = new maplibregl.Map({
    container,
    style,
    bounds: bounds || [[102.1, 8.4], [109.5, 23.4]],
    fitBoundsOptions: { padding, maxZoom: 13 },
    boxZoom: false,            // shift-drag is our box selection
    attributionControl: basemapUrl ? {} : false,
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

/** Units as vector tiles; returns the source-layer name needed for feature-state. */
export function addUnits(map, tilejson) {
  const sourceLayer = sourceLayerOf(tilejson, "units");
  map.addSource(UNITS_SOURCE, vectorSourceFrom(tilejson, { promoteId: "code" }));
  const selected = ["boolean", ["feature-state", "selected"], false];
  const unassigned = ["boolean", ["feature-state", "unassigned"], false];
  const outlineColour = ["case", selected, "#111111", unassigned, "#d95f02", "#6b6b6b"];
  // The fill's edge is a full pixel, not the line layer's thinner one: a lighter grey reads the same.
  const edgeColour = ["case", selected, "#111111", unassigned, "#d95f02", "#a3a3a3"];
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
  });
  // One line layer for all unit outlines from OUTLINE_MINZOOM; selected and unassigned units
  // are told apart by feature-state (fewer layers to draw per frame than separate, mostly
  // invisible ones).
  map.addLayer({
    id: UNITS_LINE, type: "line", source: UNITS_SOURCE, "source-layer": sourceLayer, minzoom: OUTLINE_MINZOOM,
    paint: {
      "line-color": outlineColour,
      "line-width": ["interpolate", ["linear"], ["zoom"],
        OUTLINE_MINZOOM, ["case", selected, 3, unassigned, 1.4, 0.6],
        12, ["case", selected, 3.5, unassigned, 2, 1]],
    },
  });
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
  map.addLayer({
    id: "scenario-fill", type: "fill", source: "scenario", "source-layer": sourceLayerOf(tilejson, "scenario"),
    paint: { "fill-color": drawnColourExpression, "fill-opacity": 0.5 },
  });
  map.addLayer({
    id: "scenario-line", type: "line", source: "scenario", "source-layer": sourceLayerOf(tilejson, "scenario"),
    paint: { "line-color": "#222222", "line-width": ["interpolate", ["linear"], ["zoom"], 6, 1.2, 12, 2.8] },
  });
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
  const polygons = ["==", ["geometry-type"], "Polygon"];
  map.addLayer({ id: `${kind}-fill`, type: "fill", source: kind, "source-layer": sourceLayer, filter: polygons,
    paint: { "fill-color": style.fill, "fill-opacity": 0.35 } });
  map.addLayer({ id: `${kind}-line`, type: "line", source: kind, "source-layer": sourceLayer,
    filter: ["!=", ["geometry-type"], "Point"],
    paint: { "line-color": style.line, "line-width": ["case", polygons, 1.2, 3] } });
  map.addLayer({ id: `${kind}-circle`, type: "circle", source: kind, "source-layer": sourceLayer,
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-color": style.circle, "circle-radius": 5, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } });
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
