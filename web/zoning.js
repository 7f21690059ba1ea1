// Zoning indicators per unit, per new unit and per parent, "Tô màu theo" fields, and a clicked zoning
// feature's attributes (edit, delete).

import { api, ApiError } from "./api.js";
import { applyColours, setUnitState } from "./colouring.js";
import { refreshZoning, zoningErrorText } from "./drawing.js";
import { formatNumber, lang, t, tOptional } from "./i18n.js";
import { guarded, toast } from "./messages.js";
import { $, state } from "./state.js";
import { escapeHtml } from "./text.js";
import { showUnitInfo } from "./units.js";

/** Per-unit zoning indicators (GET /api/indicators): fields with labels and units, rows by code. */
export async function loadIndicators() {
  try {
    const body = await api.indicators();
    state.indicatorFields = body.fields;
    state.unitIndicators = new Map(body.data.map((row) => [String(row.code), row]));
  } catch (error) {
    state.unitIndicators = new Map();
  }
  renderIndicatorOptions();
  if (state.selectedCode && !$("#unit-info").hidden && !state.selectedZoning) showUnitInfo(state.selectedCode);
  if (state.indicator.startsWith("zoning:")) applyColours();
}

/** A function that fetches for the open scenario ``delay`` ms after its last call, and applies the
 * answer only if that scenario is still open (a failed fetch changes nothing). */
function debouncedScenarioFetch(fetchFor, apply, delay) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const id = state.session.id;
      if (!id) return;
      let answer;
      try { answer = await fetchFor(id); } catch (error) { return; }
      if (id === state.session.id) apply(answer);
    }, delay);
  };
}

// The reassign answer carries the changed new units and totals; the units kept as they are and
// the parents that lose units come with the full evaluation, fetched once the clicks settle.
export const refreshArrangement = debouncedScenarioFetch((id) => api.evaluation(id), (evaluation) => {
  state.session.applyArrangement(evaluation);
  state.panel.renderTotals(state.session);
}, 500);

export const refreshScenarioIndicators = debouncedScenarioFetch((id) => api.indicators(id), (body) => {
  state.session.indicators = new Map(body.data.map((row) => [String(row.id), row]));
  state.session.indicatorFields = body.fields;
  state.panel.renderAll(state.session);
}, 300);

export const COLOURING_FIELDS = ["industrial_cluster_share_pct", "industrial_cluster_count", "tourism_site_count", "night_street_length_km"];

export function renderIndicatorOptions() {
  const select = $("#indicator-select");
  for (const option of [...select.querySelectorAll("option[data-zoning-field]")]) option.remove();
  for (const field of COLOURING_FIELDS) {
    const meta = (state.indicatorFields || {})[field];
    if (!meta) continue;
    const option = document.createElement("option");
    option.value = `zoning:${field}`;
    option.dataset.zoningField = field;
    option.textContent = lang() === "en" ? meta.label_en : meta.label_vi;
    select.append(option);
  }
  select.value = state.indicator;
}

export const ZONING_ATTRIBUTE_KEYS = ["name", "status", "area_ha", "occupancy_pct", "investor", "category", "rank", "ward", "hours", "geometry_note"];

export async function showZoningInfo(kind, feature) {
  const el = $("#unit-info");
  if (state.selectedCode) setUnitState(state.selectedCode, { selected: false });
  state.selectedCode = null;
  const featureId = feature.properties.feature_id;
  state.selectedZoning = { kind, featureId };
  let properties = { ...feature.properties };
  let record = null;
  try {
    if (featureId !== undefined && featureId !== null) {
      record = await api.zoningFeature(kind, featureId);
      properties = record.properties || properties;
    }
  } catch (error) { /* the tile's attributes are shown */ }
  const rows = ZONING_ATTRIBUTE_KEYS.filter((key) => properties[key] !== undefined && properties[key] !== null && properties[key] !== "")
    .map((key) => {
      let value = properties[key];
      if (key === "status" || key === "rank") value = tOptional(`zoning.${key}_${value}`) || value;
      if (key === "area_ha") value = `${formatNumber(value, 2)} ha`;
      if (key === "occupancy_pct") value = `${formatNumber(value, 1)} %`;
      return `<tr><th>${escapeHtml(tOptional(`zoning.${key}`) || key)}</th><td>${escapeHtml(value)}</td></tr>`;
    }).join("");
  el.innerHTML = `<button class="icon close" data-close>✕</button>
    <h4>${escapeHtml(t(`zoning.${kind}`))}: ${escapeHtml(properties.name || "")}</h4>
    <table class="figures zoning-attributes">${rows}</table>
    <div class="row-form">${record ? `<button data-zoning-edit>${escapeHtml(t("zoning.edit"))}</button>` : ""}
      <button data-zoning-delete>${escapeHtml(t("zoning.delete"))}</button></div>
    <form class="zoning-form zoning-edit" hidden>
      <label><span>${escapeHtml(t("zoning.name"))}</span> <input name="name" required value="${escapeHtml(properties.name || "")}"></label>
      ${kind === "industrial_clusters" ? `<label><span>${escapeHtml(t("zoning.status"))}</span> <select name="status">
        ${["", "planned", "operating"].map((v) => `<option value="${v}"${properties.status === v ? " selected" : ""}>${v ? escapeHtml(t(`zoning.status_${v}`)) : ""}</option>`).join("")}</select></label>` : ""}
      ${kind === "tourism_sites" ? `<label><span>${escapeHtml(t("zoning.rank"))}</span> <select name="rank">
        ${["", "provincial", "national"].map((v) => `<option value="${v}"${properties.rank === v ? " selected" : ""}>${v ? escapeHtml(t(`zoning.rank_${v}`)) : ""}</option>`).join("")}</select></label>` : ""}
      ${kind === "night_streets" ? `<label><span>${escapeHtml(t("zoning.hours"))}</span> <input name="hours" value="${escapeHtml(properties.hours || "")}" placeholder="18:00-23:30"></label>` : ""}
      <button type="submit">${escapeHtml(t("zoning.save_edit"))}</button>
      <div class="zoning-errors" role="alert"></div>
    </form>`;
  el.hidden = false;
  el.querySelector("[data-close]").addEventListener("click", () => { el.hidden = true; state.selectedZoning = null; });
  const form = el.querySelector(".zoning-edit");
  const editButton = el.querySelector("[data-zoning-edit]");
  if (editButton) editButton.addEventListener("click", () => { form.hidden = false; form.elements.name.focus(); });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      // Attributes the form does not show (area_ha, investor, …) are kept; the form's own are replaced.
      const edited = { ...properties, name: form.elements.name.value.trim() };
      for (const key of ["status", "rank", "hours"]) {
        if (!form.elements[key]) continue;
        const value = form.elements[key].value.trim();
        if (value) edited[key] = value; else delete edited[key];
      }
      const errors = form.querySelector(".zoning-errors");
      try {
        await api.updateZoningFeature(kind, featureId, { type: "Feature", geometry: record.geometry, properties: edited, version: record.version });
      } catch (error) {
        if (error instanceof ApiError && error.status === 422) {
          errors.innerHTML = `<ul>${zoningErrorText(error, kind).map((line) => `<li>${escapeHtml(line)}</li>`).join("")}</ul>`;
          return;
        }
        throw error;
      }
      toast(t("zoning.saved", { name: edited.name }));
      await refreshZoning(kind);
      await showZoningInfo(kind, { id: featureId, properties: { ...edited, feature_id: featureId } });
    });
  });
  el.querySelector("[data-zoning-delete]").addEventListener("click", () => guarded(async () => {
    if (!window.confirm(t("zoning.confirm_delete", { name: properties.name || "" }))) return;
    await api.deleteZoningFeature(kind, featureId);
    el.hidden = true;
    state.selectedZoning = null;
    toast(t("zoning.deleted", { name: properties.name || "" }));
    await refreshZoning(kind);
  }));
  if (window.innerWidth < 700) document.body.classList.add("panel-open");
}
