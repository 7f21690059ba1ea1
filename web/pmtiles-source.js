// Read-only map of a PMTiles archive (`diagioi tiles export --format pmtiles`): the page opened with
// ?pmtiles=URL shows the archive's layers (units, a scenario's new units, zoning layers) with the
// colours of their legends and the attributes of a clicked feature, and sends nothing to the API.
// The pmtiles library is vendored (web/vendor/pmtiles) and loaded only in this mode.
import { formatNumber, t } from "./i18n.js";
import { createMap } from "./map.js";
import { escapeHtml } from "./text.js";

const LIBRARY = "vendor/pmtiles/pmtiles.js";
const SOURCE = "archive";

/** The archive URL of ?pmtiles=…, made absolute; null when the page is the normal editor. */
export function pmtilesUrlFromPage(location = window.location) {
  const value = new URLSearchParams(location.search).get("pmtiles");
  if (!value) return null;
  const url = new URL(value, location.href);
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}

function loadLibrary() {
  if (window.pmtiles) return Promise.resolve(window.pmtiles);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = LIBRARY;
    script.onload = () => resolve(window.pmtiles);
    script.onerror = () => reject(new Error(LIBRARY));
    document.head.appendChild(script);
  });
}

/** A MapLibre colour expression from a layer's legend (choropleth steps, categories or one colour). */
export function colourExpression(legend, fallback = "#888888") {
  if (!legend || !legend.items || !legend.items.length) return fallback;
  const missing = (legend.missing && legend.missing.color) || fallback;
  const property = legend.property;
  if (legend.kind === "choropleth" && property) {
    const steps = ["step", ["to-number", ["get", property], -1], legend.items[0].color];
    for (const item of legend.items.slice(1)) steps.push(item.min, item.color);
    return ["case", ["has", property], steps, missing];
  }
  if (legend.kind === "categorical" && property) {
    const match = ["match", ["to-string", ["get", property]]];
    for (const item of legend.items) match.push(String(item.value), item.color);
    match.push(missing);
    return match;
  }
  return legend.items[0].color;
}

/** MapLibre layers drawing one vector layer of the archive: areas, lines and points (a layer may mix them). */
export function styleLayers(vectorLayer) {
  const legend = vectorLayer.legend || {};
  const id = vectorLayer.id;
  const colour = id.startsWith("scenario-") ? ["coalesce", ["get", "color"], colourExpression(legend)] : colourExpression(legend);
  const common = { source: SOURCE, "source-layer": id };
  const isArea = ["==", ["geometry-type"], "Polygon"];
  return [
    { id: `${id}-fill`, type: "fill", ...common, filter: isArea,
      paint: { "fill-color": colour, "fill-opacity": legend.fill_opacity ?? 0.6 } },
    { id: `${id}-line`, type: "line", ...common, filter: ["!=", ["geometry-type"], "Point"], paint: {
      "line-color": ["case", isArea, legend.line_color || "#555555", colour],
      "line-width": ["case", isArea, id.startsWith("scenario-") ? 2 : 0.6, legend.line_width_px || 2] } },
    { id: `${id}-point`, type: "circle", ...common, filter: ["==", ["geometry-type"], "Point"], paint: {
      "circle-color": colour, "circle-radius": legend.point_radius_px || 5,
      "circle-stroke-color": "#ffffff", "circle-stroke-width": 1 } },
  ];
}

function hideEditing(root) {
  for (const selector of [".scenario-picker", "#btn-scenario-new", "#btn-scenario-rename", "#btn-scenario-copy",
    "#btn-scenario-delete", ".tabs", "#btn-token", ".map-controls", "#btn-panel", "#side"]) {
    for (const element of root.querySelectorAll(selector)) element.hidden = true;
  }
  root.body.classList.add("read-only");
}

/** The figures of a clicked feature, labelled in the page's language (numbers in its format). */
function popupFields() {
  return [
    ["population", t("pmtiles.field.population"), 0], ["area_km2", t("pmtiles.field.area_km2"), 2],
    ["official_area_km2", t("pmtiles.field.official_area_km2"), 2], ["density", t("pmtiles.field.density"), 1],
    ["district", t("pmtiles.field.district")], ["province", t("pmtiles.field.province")],
    ["members", t("pmtiles.field.members")],
  ];
}

function popupHtml(feature) {
  const properties = feature.properties;
  const rows = popupFields().filter(([key]) => properties[key] !== undefined).map(([key, label, digits]) => {
    const value = digits === undefined ? String(properties[key]).replaceAll(";", ", ") : formatNumber(Number(properties[key]), digits);
    return `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`;
  });
  return `<strong>${escapeHtml(properties.name ?? "")}</strong><table class="pmtiles-popup">${rows.join("")}</table>`;
}

/**
 * Show the archive at `url` read-only in the page: no API request, no edit control.
 * Returns {map, header, metadata} once the map has loaded the archive's layers.
 */
export async function openArchive(url, { container = "map", notice = document.getElementById("basemap-note") } = {}) {
  hideEditing(document);
  const library = await loadLibrary();
  const archive = new library.PMTiles(url);
  const protocol = new library.Protocol();
  protocol.add(archive);
  maplibregl.addProtocol("pmtiles", protocol.tile);
  const [header, metadata] = await Promise.all([archive.getHeader(), archive.getMetadata()]);
  const bounds = [[header.minLon, header.minLat], [header.maxLon, header.maxLat]];
  const map = createMap(container, { bounds });
  await new Promise((resolve) => map.once("load", resolve));
  map.addSource(SOURCE, { type: "vector", url: `pmtiles://${url}` });
  const clickable = [];
  for (const vectorLayer of metadata.vector_layers || []) {
    for (const layer of styleLayers(vectorLayer)) {
      map.addLayer(layer);
      clickable.push(layer.id);
    }
  }
  map.on("click", (event) => {
    const [feature] = map.queryRenderedFeatures(event.point, { layers: clickable });
    if (feature) new maplibregl.Popup().setLngLat(event.lngLat).setHTML(popupHtml(feature)).addTo(map);
  });
  if (notice) {  // the map's small corner note (not the loading box over the map) says "view only"
    notice.textContent = t("pmtiles.read_only", { url });
    notice.hidden = false;
  }
  const loading = document.getElementById("loading");
  if (loading) loading.hidden = true;
  return { map, header, metadata };
}
