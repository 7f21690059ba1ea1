// Tab "Vẽ ranh giới": a drawn new-unit boundary with its figures, a line splitting a unit, zoning features drawn
// or imported from a file.

import { analysisHtml } from "./analysis.js";
import { api, ApiError } from "./api.js";
import { mode } from "./assigning.js";
import { formatNumber, t, tOptional } from "./i18n.js";
import { addZoning, UNITS_FILL } from "./map.js";
import { guarded, showError, toast } from "./messages.js";
import { $, debug, state } from "./state.js";
import { escapeHtml } from "./text.js";
import { loadIndicators, refreshScenarioIndicators } from "./zoning.js";

/** What the draw tab draws: {kind: null} for a new unit's boundary, else {kind: layer, mode}. */
export function drawTarget() {
  const [kind, mode] = $("#draw-target").value.split(":");
  return kind === "boundary" ? { kind: null, mode: "polygon" } : { kind, mode };
}

/** The unit under the middle of a drawn line (the one it is meant to split). */
export function unitUnderLineMiddle(line) {
  const c = line.coordinates;
  const i = Math.floor((c.length - 1) / 2);
  const middle = [(c[i][0] + c[i + 1][0]) / 2, (c[i][1] + c[i + 1][1]) / 2];
  const feature = state.map.queryRenderedFeatures(state.map.project(middle), { layers: [UNITS_FILL] })[0];
  return feature ? String(feature.id) : null;
}

export function showSplitPreview(geometry) {
  const data = { type: "FeatureCollection", features: geometry ? [{ type: "Feature", properties: {}, geometry }] : [] };
  const source = state.map.getSource("split-preview");
  if (source) { source.setData(data); return; }
  state.map.addSource("split-preview", { type: "geojson", data });
  state.map.addLayer({ id: "split-preview-fill", type: "fill", source: "split-preview", paint: { "fill-color": "#0b63ce", "fill-opacity": 0.35 } });
  state.map.addLayer({ id: "split-preview-line", type: "line", source: "split-preview", paint: { "line-color": "#0b63ce", "line-width": 2.5 } });
}

/** Split a unit by the drawn line: list its pieces; one of them can be saved as a drawn new unit. */
export async function onSplitLine(line) {
  const el = $("#draw-result");
  showSplitPreview(null);
  $("#draw-save-form").hidden = true;
  if (!line) { el.innerHTML = ""; return; }
  const code = unitUnderLineMiddle(line);
  if (!code) { el.innerHTML = `<p class="warn">${escapeHtml(t("split.no_unit"))}</p>`; return; }
  let result;
  try {
    result = await api.splitUnit(code, line);
  } catch (error) {
    el.innerHTML = error instanceof ApiError && error.status === 422
      ? `<p class="warn">${escapeHtml(t("split.not_across", { name: (state.units.get(code) || {}).name || code }))}</p>` : "";
    if (!(error instanceof ApiError && error.status === 422)) showError(error);
    return;
  }
  const unit = state.units.get(code) || { name: code };
  state.splitPieces = result.pieces;
  el.innerHTML = `<p>${escapeHtml(t("split.pieces", { name: unit.name, n: result.pieces.length }))}</p><ul class="split-pieces">${
    result.pieces.map((piece, i) => `<li>${escapeHtml(t("split.piece", { i: i + 1 }))}: ${formatNumber(piece.area_km2, 2)} km²
      <span class="muted">(${escapeHtml(t("area.computed"))})</span> <button data-piece="${i}">${escapeHtml(t("split.use_piece"))}</button></li>`).join("")}</ul>`;
  debug.splitPieces = result.pieces.length;
}

export function onDrawChanged(geometry) {
  const target = drawTarget();
  if (target.kind === "split") {
    state.lastZoningGeometry = null;
    $("#zoning-save-form").hidden = true;
    onSplitLine(geometry);
    return;
  }
  if (target.kind) {
    state.lastZoningGeometry = geometry;
    state.lastPolygon = null;
    $("#draw-save-form").hidden = true;
    $("#draw-result").innerHTML = "";
    $("#zoning-save-form").hidden = !geometry;
    for (const label of document.querySelectorAll("#zoning-save-form [data-for]")) label.hidden = label.dataset.for !== target.kind;
    return;
  }
  $("#zoning-save-form").hidden = true;
  onPolygonChanged(geometry);
}

export const ZONING_KINDS = ["industrial_clusters", "tourism_sites", "night_streets"];

/** The API's validation error of a zoning feature, said in the page's language from its context. */
export function zoningErrorText(error, kind) {
  const context = (error && error.context) || {};
  const layer = t(`zoning.${kind}`);
  const lines = [];
  const issues = Array.isArray(context.issues) ? context.issues : [context];
  for (const issue of issues) {
    const where = issue.feature && issue.feature !== "feature" ? `“${issue.feature}”: ` : "";
    if (issue.geometry_type) {
      lines.push(where + t("zoning.error_geometry", { layer, got: t(`geometry.${issue.geometry_type}`) }));
    }
    for (const field of issue.errors || []) {
      const message = /field required/i.test(field.message || "") ? t("zoning.error_required") : field.message;
      lines.push(where + t("zoning.error_field", { field: tOptional(`zoning.${field.field}`) || field.field, message }));
    }
  }
  if (!lines.length) lines.push(`${error.message}${error.hint ? ` — ${error.hint}` : ""}`);
  return lines;
}

export function showZoningErrors(error, kind) {
  const el = $("#zoning-errors");
  if (!(error instanceof ApiError) || error.isNetwork || error.isAuth || error.status >= 500) {
    el.innerHTML = "";
    showError(error);
    return;
  }
  el.innerHTML = `<p class="warn">${escapeHtml(t("zoning.refused"))}</p><ul>${
    zoningErrorText(error, kind).map((line) => `<li>${escapeHtml(line)}</li>`).join("")}</ul>`;
}

/** After a zoning edit: new tiles (the TileJSON names the new version), counts and indicators. */
export async function refreshZoning(kind) {
  const tilejson = await api.tileJson(kind);
  const source = state.map.getSource(kind);
  if (source && source.setTiles) source.setTiles(tilejson.tiles.map((url) => decodeURI(new URL(url, window.location.href).href)));
  else if (!source) addZoning(state.map, kind, tilejson);
  const input = document.querySelector(`[data-zoning=${kind}]`);
  input.disabled = false;
  const label = input.closest("label");
  label.classList.remove("muted", "empty");
  label.title = "";
  await loadIndicators();
  refreshScenarioIndicators();
}

export async function saveZoningFeature() {
  const { kind, mode } = drawTarget();
  if (!kind || !state.lastZoningGeometry) return;
  const properties = { name: $("#zoning-name").value.trim() };
  if (kind === "industrial_clusters" && $("#zoning-status").value) properties.status = $("#zoning-status").value;
  if (kind === "tourism_sites" && $("#zoning-rank").value) properties.rank = $("#zoning-rank").value;
  if (kind === "night_streets" && $("#zoning-hours").value.trim()) properties.hours = $("#zoning-hours").value.trim();
  $("#zoning-errors").innerHTML = "";
  try {
    await api.addZoningFeatures(kind, { type: "Feature", geometry: state.lastZoningGeometry, properties },
      { allowMarkers: kind === "industrial_clusters" && mode === "point" });
  } catch (error) {
    showZoningErrors(error, kind);
    return;
  }
  toast(t("zoning.saved", { name: properties.name }));
  $("#zoning-name").value = "";
  state.draw.clear();
  await guarded(() => refreshZoning(kind));
}

export async function importZoningFile() {
  const kind = $("#zoning-import-kind").value;
  const file = $("#zoning-import-file").files[0];
  if (!file) return;
  $("#zoning-errors").innerHTML = "";
  let result;
  try {
    result = await api.importZoningFile(kind, file, { allowMarkers: kind === "industrial_clusters" });
  } catch (error) {
    showZoningErrors(error, kind);
    return;
  }
  toast(t("zoning.imported", { n: (result.created || []).length, layer: t(`zoning.${kind}`) }));
  $("#zoning-import-file").value = "";
  await guarded(() => refreshZoning(kind));
}

export async function onPolygonChanged(polygon) {
  state.lastPolygon = polygon;
  const el = $("#draw-result");
  $("#draw-save-form").hidden = !polygon;
  if (!polygon) { el.innerHTML = ""; return; }
  el.innerHTML = `<p class="muted">${t("draw.computing")}</p>`;
  let result;
  try {
    result = await api.analysePolygon(polygon);
  } catch (error) {
    el.innerHTML = "";
    showError(error);
    return;
  }
  if (polygon !== state.lastPolygon) return;    // edited again meanwhile
  el.innerHTML = analysisHtml(result);
  debug.lastAnalysis = result;
}
