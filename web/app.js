// Entry point: wires the map, the scenario session, the panel, the drawing tool, the
// comparison and the exports together. Figures always come from the API; the page only
// colours, lists and forwards the user's edits.

import { adoptTokenFromUrl, api, ApiError, getToken, itemsOf, scenarioOf, setToken } from "./api.js";
import { applyLabels, formatNumber, lang, loadLanguage, t, tOptional } from "./i18n.js";
import {
  addUnits, addZoning, classesFor, createMap, NEW_UNIT_COLOURS, setDrawnUnitColours, setScenarioOutlines, setZoningVisible,
  UNASSIGNED_COLOUR, UNITS_FILL, UNITS_SOURCE,
} from "./map.js";
import { ConflictReloaded, LockedError, ScenarioSession } from "./scenario.js";
import { Panel } from "./panel.js";
import { DrawTool } from "./draw.js";
import { compareEvaluations, comparisonHtml } from "./compare.js";
import { escapeHtml, fold } from "./text.js";

const $ = (selector) => document.querySelector(selector);
const SCENARIO_KEY = "diagioi.scenario";
// Room for the legend box at the top right when fitting the map to something.
const MAP_PADDING = { top: 40, bottom: 40, left: 50, right: 280 };

// Exposed for the browser tests and the benchmark: timings and handles, no behaviour.
const debug = { ready: false, timings: {}, errors: [] };
window.__diagioi = debug;

const state = {
  map: null,
  sourceLayer: null,
  session: new ScenarioSession(),
  panel: null,
  draw: null,
  units: new Map(),          // unit_code -> {code, name, kind, district, province, population, ..., bbox, folded}
  unitsLoaded: false,
  fills: new Map(),          // unit_code -> colour currently set through feature-state
  unassigned: new Set(),     // unit codes currently flagged unassigned
  indicator: "scenario",
  activeId: null,
  tab: "build",
  scenarios: [],
  selectedCode: null,
  hoveredCode: null,
};
debug.state = state;

// ---- messages -------------------------------------------------------------------------------

let toastTimer = null;
function toast(message, { error = false } = {}) {
  const el = $("#toast");
  el.textContent = message;
  el.classList.toggle("error", error);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, error ? 8000 : 4000);
}

function showError(error) {
  if (error instanceof ConflictReloaded) { toast(t("conflict.reloaded"), { error: true }); return; }
  if (error instanceof LockedError) { toast(t("newunit.locked_refused", { name: error.newUnitName }), { error: true }); return; }
  if (error instanceof ApiError && error.isAuth) {
    toast(t("token.needed"), { error: true });
    askToken();
    return;
  }
  debug.errors.push(String(error && error.message));
  const hint = error instanceof ApiError && error.hint ? ` — ${error.hint}` : "";
  toast(`${error.message || error}${hint}`, { error: true });
}

async function guarded(action) {
  try { return await action(); } catch (error) { showError(error); return undefined; }
}

function askToken() {
  const dialog = $("#token-dialog");
  $("#token-input").value = getToken();
  dialog.showModal();
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "ok") setToken($("#token-input").value);
  }, { once: true });
}

// ---- colours --------------------------------------------------------------------------------

function colourOfNewUnit(newUnitId) {
  const list = state.session.scenario ? state.session.scenario.new_units : [];
  const index = list.findIndex((nu) => nu.id === newUnitId);
  return index < 0 ? "#999999" : NEW_UNIT_COLOURS[index % NEW_UNIT_COLOURS.length];
}

function setUnitState(code, patch) {
  if (!state.sourceLayer) return;
  state.map.setFeatureState({ source: UNITS_SOURCE, sourceLayer: state.sourceLayer, id: code }, patch);
}

function setFill(code, colour) {
  if ((state.fills.get(code) ?? null) === colour) return;
  if (colour === null) state.fills.delete(code); else state.fills.set(code, colour);
  setUnitState(code, { fill: colour });
}

/** Districts the scenario touches: their units that no new unit has taken are "unassigned". */
function scopeDistricts() {
  const districts = new Set();
  for (const code of state.session.assignment.keys()) {
    const unit = state.units.get(code);
    if (unit && unit.district) districts.add(`${unit.province}|${unit.district}`);
  }
  return districts;
}

function indicatorValue(code, unit) {
  switch (state.indicator) {
    case "population": return unit.population;
    case "area": return Number.isFinite(unit.official_area_km2) ? unit.official_area_km2 : unit.area_km2;
    case "density": return unit.density;
    case "pct_standard": {
      const newUnitId = state.session.assignment.get(code);
      const figures = newUnitId ? state.session.figures.get(newUnitId) : null;
      const pcts = (figures && figures.standards || []).filter((s) => !s.exempt).map((s) => s.percent_of_standard)
        .filter(Number.isFinite);
      return pcts.length ? Math.min(...pcts) : null;
    }
    default: return null;
  }
}

/** Recolour every unit (codes = null) or only the given ones; then the legend. */
function applyColours(codes = null) {
  const session = state.session;
  if (state.indicator === "scenario") {
    const scope = scopeDistricts();
    const targets = codes || new Set([...state.units.keys(), ...session.assignment.keys(), ...state.fills.keys()]);
    for (const code of targets) {
      const newUnitId = session.assignment.get(code);
      const unit = state.units.get(code);
      const inScope = Boolean(unit && scope.has(`${unit.province}|${unit.district}`));
      const unassigned = !newUnitId && inScope;
      setFill(code, newUnitId ? colourOfNewUnit(newUnitId) : unassigned ? UNASSIGNED_COLOUR : null);
      if (unassigned !== state.unassigned.has(code)) {
        if (unassigned) state.unassigned.add(code); else state.unassigned.delete(code);
        setUnitState(code, { unassigned });
      }
    }
    if (!codes) {
      // Units that left the scope (e.g. after undo) must lose the flag too.
      for (const code of [...state.unassigned]) {
        const unit = state.units.get(code);
        if (!unit || !scope.has(`${unit.province}|${unit.district}`) || session.assignment.has(code)) {
          state.unassigned.delete(code);
          setUnitState(code, { unassigned: false });
        }
      }
    }
  } else {
    const values = new Map();
    for (const [code, unit] of state.units) values.set(code, indicatorValue(code, unit));
    const classes = classesFor(state.indicator, [...values.values()], state.densityLegend);
    state.classes = classes;
    for (const [code, value] of values) setFill(code, classes.colourOf(value));
    for (const code of [...state.unassigned]) { state.unassigned.delete(code); setUnitState(code, { unassigned: false }); }
  }
  renderLegend();
}

function renderLegend() {
  const el = $("#legend");
  const rows = [];
  if (state.indicator === "scenario") {
    for (const nu of state.session.scenario ? state.session.scenario.new_units : []) {
      rows.push(`<div><span class="swatch" style="background:${colourOfNewUnit(nu.id)}"></span>${escapeHtml(nu.name)}</div>`);
    }
    rows.push(`<div><span class="swatch" style="background:${UNASSIGNED_COLOUR};border:2px solid #d95f02"></span>${t("legend.unassigned")}</div>`);
    rows.push(`<div><span class="swatch outside"></span>${t("legend.outside")}</div>`);
  } else if (state.classes) {
    const { breaks, colours } = state.classes;
    const digits = state.indicator === "area" ? 1 : 0;
    const unit = { density: t("unit.per_km2"), population: t("unit.people"), area: "km²", pct_standard: "%" }[state.indicator];
    colours.forEach((colour, i) => {
      const low = i === 0 ? null : breaks[i - 1];
      const high = i < breaks.length ? breaks[i] : null;
      const label = low === null ? `< ${formatNumber(high, digits)}` : high === null ? `≥ ${formatNumber(low, digits)}`
        : `${formatNumber(low, digits)} – ${formatNumber(high, digits)}`;
      rows.push(`<div><span class="swatch" style="background:${colour}"></span>${label}</div>`);
    });
    rows.unshift(`<div class="legend-title">${escapeHtml(t(`indicator.${state.indicator}`))} (${escapeHtml(unit)})</div>`);
    if (state.indicator === "pct_standard") rows.push(`<div class="muted">${t("legend.pct_note")}</div>`);
    rows.push(`<div><span class="swatch outside"></span>${t("legend.no_data")}</div>`);
  }
  el.innerHTML = rows.join("");
}

// ---- units index (figures for popups, search and indicators) -------------------------------

/** Bounds of a GeoJSON geometry, for lists served with geometry (the light list carries its bbox). */
function bboxOf(geometry) {
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

const toNumber = (v) => (v === null || v === undefined || v === "" ? null : Number(v));

async function loadUnits() {
  const collection = await api.units();
  for (const feature of collection.features || []) {
    const p = feature.properties || {};
    const code = String(p.code ?? feature.id);
    const population = toNumber(p.population);
    const official = toNumber(p.official_area_km2);
    const computed = toNumber(p.area_km2);
    const areaForDensity = Number.isFinite(official) ? official : computed;
    const density = toNumber(p.density) ?? (Number.isFinite(population) && areaForDensity > 0 ? population / areaForDensity : null);
    state.units.set(code, {
      ...p, code, population, official_area_km2: official, area_km2: computed, density,
      bbox: feature.bbox || bboxOf(feature.geometry), folded: fold(`${p.name || ""}`), foldedFull: fold(`${p.name || ""} ${p.district || ""}`),
    });
  }
  state.unitsLoaded = true;
  applyColours();
}

// ---- unit details -------------------------------------------------------------------------

function showUnitInfo(code) {
  const unit = state.units.get(code);
  const el = $("#unit-info");
  if (state.selectedCode) setUnitState(state.selectedCode, { selected: false });
  state.selectedCode = code;
  setUnitState(code, { selected: true });
  if (!unit) { el.hidden = true; return; }
  const newUnitId = state.session.assignment.get(code);
  const newUnit = newUnitId ? state.session.newUnit(newUnitId) : null;
  const kind = tOptional(`kind.${unit.kind}`) || unit.kind || "";
  el.innerHTML = `<button class="icon close" data-close>✕</button>
    <h4>${escapeHtml(kind)} ${escapeHtml(unit.name)} <span class="muted">${escapeHtml(code)}</span></h4>
    <p class="muted">${escapeHtml([unit.district, unit.province].filter(Boolean).join(", "))}</p>
    <table class="figures">
      <tr><th>${t("figure.population")}</th><td>${formatNumber(unit.population)} ${t("unit.people")}
        ${unit.population_year ? `<span class="muted">(${escapeHtml(unit.population_year)})</span>` : ""}</td></tr>
      <tr><th>${t("area.official")}</th><td>${formatNumber(unit.official_area_km2, 2)} km²</td></tr>
      <tr><th>${t("area.computed")}</th><td>${formatNumber(unit.area_km2, 2)} km²</td></tr>
      <tr><th>${t("figure.density")}</th><td>${formatNumber(unit.density, 1)} ${t("unit.per_km2")}</td></tr>
      <tr><th>${t("figure.new_unit")}</th><td>${newUnit ? escapeHtml(newUnit.name) : `<i>${t("figure.not_assigned")}</i>`}</td></tr>
    </table>`;
  el.hidden = false;
  el.querySelector("[data-close]").addEventListener("click", () => {
    el.hidden = true;
    setUnitState(code, { selected: false });
    state.selectedCode = null;
  });
}

// ---- assigning ------------------------------------------------------------------------------

function mode() { return document.querySelector("input[name=mode]:checked").value; }
function setMode(value) { document.querySelector(`input[name=mode][value=${value}]`).checked = true; }

function setActive(newUnitId) {
  state.activeId = newUnitId;
  state.panel.setActive(state.session, newUnitId);
}

async function assignCodes(codes, { toggle = true } = {}) {
  const started = performance.now();
  if (!state.activeId) { toast(t("newunit.choose_first"), { error: true }); return; }
  const assignments = {};
  for (const code of codes) {
    const current = state.session.assignment.get(code) ?? null;
    assignments[code] = toggle && codes.length === 1 && current === state.activeId ? null : state.activeId;
  }
  debug.pendingStartedAt = started;
  await guarded(() => state.session.reassign(assignments));
}

function afterReassign({ changedIds, codes }) {
  const renderStarted = performance.now();
  state.panel.update(state.session, changedIds);
  if (state.indicator === "scenario") {
    // The scope (districts touched) can change with one click: recolour all units then.
    const before = scopeSignature;
    scopeSignature = [...scopeDistricts()].sort().join(";");
    applyColours(before === scopeSignature ? new Set(codes) : null);
  } else {
    applyColours();
  }
  if (state.selectedCode && codes.includes(state.selectedCode)) showUnitInfo(state.selectedCode);
  refreshUndoButtons();
  refreshScenarioOutlines();
  debug.timings.lastPanelRenderMs = performance.now() - renderStarted;
  if (debug.pendingStartedAt) {
    debug.timings.lastPanelUpdateMs = performance.now() - debug.pendingStartedAt;
    debug.timings.lastReassignRequestMs = state.session.lastRequestMs;
    debug.pendingStartedAt = null;
  }
  debug.reassignCount = (debug.reassignCount || 0) + 1;
}
let scopeSignature = "";

function refreshUndoButtons() {
  $("#btn-undo").disabled = !state.session.undoStack.length;
  $("#btn-redo").disabled = !state.session.redoStack.length;
}

let outlineTimer = null;
function refreshScenarioOutlines() {
  if (!state.session.id || !state.map || !state.sourceLayer) return;
  clearTimeout(outlineTimer);
  // Outlines are a nicety; the colours already moved. Wait until clicks settle, then take the
  // TileJSON again: its tile URLs carry the new scenario version.
  outlineTimer = setTimeout(() => loadScenarioOutlines({ fit: false }), 400);
}

async function loadScenarioOutlines({ fit }) {
  const id = state.session.id;
  if (!id) return;
  let tilejson;
  try {
    tilejson = await api.tileJson(`scenario-${id}`);
  } catch (error) {
    return;   // no outlines for this scenario: the colours still show the new units
  }
  if (id !== state.session.id) return;
  setScenarioOutlines(state.map, tilejson);
  const b = tilejson.bounds;
  if (fit && b && state.session.scenario.new_units.some((nu) => nu.members.length || nu.geometry)) {
    state.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: MAP_PADDING, maxZoom: 13, duration: 0 });
  }
}

// ---- scenarios ------------------------------------------------------------------------------

async function refreshScenarioList(selectedId) {
  state.scenarios = itemsOf(await api.listScenarios()).map((s) => scenarioOf(s));
  const options = state.scenarios.map((s) => `<option value="${escapeHtml(s.id)}">${escapeHtml(s.name)}</option>`).join("");
  $("#scenario-select").innerHTML = options || `<option value="">${escapeHtml(t("scenario.none"))}</option>`;
  $("#compare-a").innerHTML = options;
  $("#compare-b").innerHTML = options;
  if (selectedId) $("#scenario-select").value = selectedId;
  if (state.scenarios.length > 1) $("#compare-b").selectedIndex = 1;
}

async function openScenario(id) {
  await state.session.open(id);
  localStorage.setItem(SCENARIO_KEY, id);
  $("#scenario-select").value = id;
  renderExports();
  await loadScenarioOutlines({ fit: true });
}

function onScenarioOpened() {
  const ids = new Set(state.session.scenario.new_units.map((nu) => nu.id));
  if (!ids.has(state.activeId)) state.activeId = state.session.scenario.new_units.length ? state.session.scenario.new_units[0].id : null;
  state.panel.activeId = state.activeId;
  state.panel.renderAll(state.session);
  scopeSignature = [...scopeDistricts()].sort().join(";");
  applyColours();
  refreshUndoButtons();
  setDrawnUnitColours(state.map, Object.fromEntries(state.session.scenario.new_units
    .filter((nu) => nu.geometry).map((nu) => [nu.id, colourOfNewUnit(nu.id)])));
  refreshScenarioOutlines();
}

async function createScenario() {
  const name = window.prompt(t("scenario.prompt_name"), t("scenario.default_name"));
  if (!name) return;
  const created = scenarioOf(await api.createScenario({ name, regime: "R76", new_units: [] }));
  await refreshScenarioList(created.id);
  await openScenario(created.id);
}

async function renameScenario() {
  if (!state.session.id) return;
  const name = window.prompt(t("scenario.prompt_name"), state.session.scenario.name);
  if (!name) return;
  await state.session.save((body) => { body.name = name; });
  await refreshScenarioList(state.session.id);
}

async function copyScenario() {
  if (!state.session.id) return;
  const name = window.prompt(t("scenario.prompt_name"), `${state.session.scenario.name} (${t("scenario.copy_suffix")})`);
  if (!name) return;
  const created = scenarioOf(await api.createScenario(state.session.body({ name })));
  await refreshScenarioList(created.id);
  await openScenario(created.id);
}

async function onPanelAction(action, newUnitId, value) {
  const nu = state.session.newUnit(newUnitId);
  if (!nu) return;
  if (action === "activate") {
    setActive(newUnitId);
    setMode("assign");
  } else if (action === "lock") {
    await guarded(() => state.session.setLocked(newUnitId, !nu.locked));
  } else if (action === "kind") {
    await guarded(() => state.session.save((body) => { body.new_units.find((n) => n.id === newUnitId).kind = value; }));
  } else if (action === "rename") {
    const name = window.prompt(t("newunit.name_placeholder"), nu.name);
    if (name && name.trim()) await guarded(() => state.session.renameNewUnit(newUnitId, name.trim()));
  } else if (action === "remove") {
    if (window.confirm(t("newunit.confirm_remove", { name: nu.name }))) {
      await guarded(() => state.session.removeNewUnit(newUnitId));
    }
  }
}

// ---- search ---------------------------------------------------------------------------------

function renderSearch() {
  const query = fold($("#search-input").value);
  const list = $("#search-results");
  if (query.length < 2) { list.innerHTML = ""; return; }
  const hits = [];
  for (const unit of state.units.values()) {
    if (unit.folded.includes(query) || unit.foldedFull.includes(query) || unit.code === query) hits.push(unit);
    if (hits.length >= 30) break;
  }
  hits.sort((a, b) => (a.folded.startsWith(query) ? 0 : 1) - (b.folded.startsWith(query) ? 0 : 1));
  list.innerHTML = hits.map((u) => {
    const owner = state.session.assignment.get(u.code);
    const ownerName = owner ? state.session.newUnit(owner)?.name : null;
    return `<li data-code="${escapeHtml(u.code)}">
      <button class="link" data-action="show">${escapeHtml(tOptional(`kind.${u.kind}`) || "")} ${escapeHtml(u.name)}</button>
      <span class="muted">${escapeHtml(u.district || "")}${ownerName ? ` → ${escapeHtml(ownerName)}` : ""}</span>
      <button data-action="assign" title="${escapeHtml(t("search.assign_title"))}">${t("search.assign")}</button></li>`;
  }).join("") || `<li class="muted">${t("search.none")}</li>`;
}

function flyToUnit(code) {
  const unit = state.units.get(code);
  if (unit && unit.bbox) {
    state.map.fitBounds([[unit.bbox[0], unit.bbox[1]], [unit.bbox[2], unit.bbox[3]]], { padding: MAP_PADDING, maxZoom: 13, duration: 600 });
  }
}

// ---- drawing --------------------------------------------------------------------------------

let lastPolygon = null;
async function onPolygonChanged(polygon) {
  lastPolygon = polygon;
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
  if (polygon !== lastPolygon) return;    // edited again meanwhile
  el.innerHTML = analysisHtml(result);
  debug.lastAnalysis = result;
}

function pick(object, ...keys) {
  for (const key of keys) if (object && object[key] !== undefined && object[key] !== null) return object[key];
  return null;
}

/** Tolerant reader of the polygon analysis answer (field names may vary slightly). */
export function analysisHtml(result) {
  const populationField = result.population;
  const estimate = typeof populationField === "object" && populationField !== null
    ? pick(populationField, "estimate", "value", "population") : pick(result, "population_estimate", "population");
  const source = (typeof populationField === "object" && populationField !== null
    ? pick(populationField, "source", "raster", "method") : null) ?? pick(result, "population_source", "raster", "population_method");
  const area = pick(result, "area_km2");
  const density = pick(result, "density_per_km2", "density");
  const units = pick(result, "intersected_units", "units", "intersections") || [];
  const indicators = pick(result, "indicators", "zoning") || {};
  const unitRows = units.map((u) => {
    const share = pick(u, "share_pct", "area_share_pct", "share_of_unit_pct");
    const shareValue = share ?? (Number.isFinite(u.share) ? u.share * 100 : null);
    const ofPolygon = pick(u, "share_of_polygon_pct", "polygon_share_pct");
    return `<tr><td>${escapeHtml(u.name || "")} <span class="muted">${escapeHtml(u.code || "")}</span></td>
      <td class="num">${formatNumber(pick(u, "area_km2", "intersection_km2", "overlap_km2"), 2)}</td>
      <td class="num">${shareValue === null ? "–" : `${formatNumber(shareValue, 1)} %`}</td>
      <td class="num">${ofPolygon === null ? "–" : `${formatNumber(ofPolygon, 1)} %`}</td></tr>`;
  }).join("");
  const indicatorRows = (Array.isArray(indicators) ? indicators.map((i) => [i.name || i.metric || i.id, i.value, i.unit])
    : Object.entries(indicators).map(([k, v]) => (typeof v === "object" && v !== null ? [k, pick(v, "value", "count"), v.unit] : [k, v, ""])))
    .map(([name, value, unit]) => `<tr><th>${escapeHtml(tOptional(`metric.${name}`) || name)}</th>
      <td>${typeof value === "number" ? formatNumber(value, /count/.test(name) ? 0 : 2) : escapeHtml(value)} ${escapeHtml(unit || "")}</td></tr>`).join("");
  return `<table class="figures">
      <tr><th>${t("figure.area")}</th><td><span id="draw-area">${formatNumber(area, 2)}</span> km²</td></tr>
      <tr><th>${t("figure.population")} (${t("draw.estimate")})</th><td>${formatNumber(estimate)} ${t("unit.people")}
        <div class="muted">${t("draw.source")}: ${escapeHtml(source || "–")}</div></td></tr>
      <tr><th>${t("figure.density")} (${t("draw.estimate")})</th><td>${formatNumber(density, 1)} ${t("unit.per_km2")}</td></tr>
    </table>
    <h4>${t("draw.intersected")} (${units.length})</h4>
    <table class="compare"><thead><tr><th>${t("compare.unit")}</th><th>km²</th><th>${t("draw.share_of_unit")}</th><th>${t("draw.share_of_polygon")}</th></tr></thead>
      <tbody>${unitRows}</tbody></table>
    ${indicatorRows ? `<h4>${t("draw.zoning")}</h4><table class="figures">${indicatorRows}</table>` : ""}
    ${(result.warnings || []).map((w) => `<p class="warn">⚠ ${escapeHtml(w)}</p>`).join("")}`;
}

// ---- compare & exports ----------------------------------------------------------------------

async function runCompare() {
  const idA = $("#compare-a").value;
  const idB = $("#compare-b").value;
  if (!idA || !idB) return;
  const [evalA, evalB] = await Promise.all([api.evaluation(idA), api.evaluation(idB)]);
  const nameOf = (id) => (state.scenarios.find((s) => s.id === id) || { name: id }).name;
  $("#compare-result").innerHTML = comparisonHtml(compareEvaluations(evalA, evalB), nameOf(idA), nameOf(idB));
}

function renderExports() {
  const id = state.session.id;
  const list = $("#export-links");
  if (!id) { list.innerHTML = ""; return; }
  const items = [
    ["xlsx", "export.xlsx"], ["csv", "export.csv"], ["csv?table=crosswalk", "export.crosswalk"],
    ["gpkg", "export.gpkg"], ["geojson", "export.geojson"], ["html", "export.html"],
  ];
  const withLang = (url) => `${url}${url.includes("?") ? "&" : "?"}lang=${lang()}`;
  list.innerHTML = items.map(([format, key]) => `<li><a href="${withLang(api.exportUrl(id, format))}" download data-format="${escapeHtml(format)}">${t(key)}</a>
    <span class="muted">${t(`${key}_note`)}</span></li>`).join("");
}

// ---- tabs, events -------------------------------------------------------------------------

function switchTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll(".tab")) button.classList.toggle("active", button.dataset.tab === tab);
  for (const pane of document.querySelectorAll(".pane")) pane.hidden = pane.dataset.pane !== tab;
  document.querySelector(".side").classList.toggle("wide", tab === "compare");
  if (state.map) setTimeout(() => state.map.resize(), 0);
  if (state.draw) { if (tab === "draw") state.draw.resume(); else state.draw.pause(); }
}

function wireMapEvents(map) {
  map.on("click", UNITS_FILL, (e) => {
    if (state.tab === "draw") return;
    const feature = e.features && e.features[0];
    if (!feature) return;
    const code = String(feature.id ?? feature.properties.code);
    if (mode() === "assign") assignCodes([code]);
    else showUnitInfo(code);
  });
  map.on("mousemove", UNITS_FILL, (e) => {
    const feature = e.features && e.features[0];
    const code = feature ? String(feature.id ?? feature.properties.code) : null;
    if (code === state.hoveredCode) return;
    // No hover highlight through feature-state: each change would repaint the whole map, which
    // on software rendering delays the answer to the click that usually follows.
    state.hoveredCode = code;
    const unit = code ? state.units.get(code) : null;
    const name = unit ? unit.name : feature ? feature.properties.name : "";
    $("#hover-info").textContent = name ? `${name} (${code})` : "";
    if (state.tab !== "draw") map.getCanvas().style.cursor = "pointer";
  });
  map.on("mouseleave", UNITS_FILL, () => {
    state.hoveredCode = null;
    $("#hover-info").textContent = "";
    if (state.tab !== "draw") map.getCanvas().style.cursor = "";
  });

  // Shift-drag: box selection of units, assigned to the active new unit.
  const canvas = map.getCanvasContainer();
  const box = $("#box-select");
  let start = null;
  const position = (event) => {
    const rect = canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };
  const onMove = (event) => {
    const p = position(event);
    Object.assign(box.style, {
      left: `${Math.min(start.x, p.x)}px`, top: `${Math.min(start.y, p.y)}px`,
      width: `${Math.abs(p.x - start.x)}px`, height: `${Math.abs(p.y - start.y)}px`,
    });
  };
  const onUp = (event) => {
    document.removeEventListener("mousemove", onMove);
    document.removeEventListener("mouseup", onUp);
    box.hidden = true;
    map.dragPan.enable();
    const end = position(event);
    const first = start;
    start = null;
    if (Math.abs(end.x - first.x) < 4 || Math.abs(end.y - first.y) < 4) return;
    const features = map.queryRenderedFeatures([[Math.min(first.x, end.x), Math.min(first.y, end.y)],
      [Math.max(first.x, end.x), Math.max(first.y, end.y)]], { layers: [UNITS_FILL] });
    const codes = [...new Set(features.map((f) => String(f.id ?? f.properties.code)))];
    if (codes.length) {
      setMode("assign");
      assignCodes(codes, { toggle: false });
    }
  };
  canvas.addEventListener("mousedown", (event) => {
    if (!(event.shiftKey && event.button === 0) || state.tab === "draw") return;
    map.dragPan.disable();
    start = position(event);
    Object.assign(box.style, { left: `${start.x}px`, top: `${start.y}px`, width: "0px", height: "0px" });
    box.hidden = false;
    document.addEventListener("mousemove", onMove);
    document.addEventListener("mouseup", onUp);
  }, true);
}

function wireUi() {
  $("#lang-select").value = document.documentElement.lang;
  $("#lang-select").addEventListener("change", async (e) => {
    await loadLanguage(e.target.value);
    state.panel.renderAll(state.session);
    renderLegend();
    renderExports();
    renderSearch();
  });
  for (const button of document.querySelectorAll(".tab")) button.addEventListener("click", () => switchTab(button.dataset.tab));
  $("#scenario-select").addEventListener("change", (e) => e.target.value && guarded(() => openScenario(e.target.value)));
  $("#btn-scenario-new").addEventListener("click", () => guarded(createScenario));
  $("#btn-scenario-rename").addEventListener("click", () => guarded(renameScenario));
  $("#btn-scenario-copy").addEventListener("click", () => guarded(copyScenario));
  $("#btn-token").addEventListener("click", askToken);
  $("#indicator-select").addEventListener("change", (e) => { state.indicator = e.target.value; applyColours(); });
  for (const input of document.querySelectorAll("[data-zoning]")) {
    input.addEventListener("change", () => setZoningVisible(state.map, input.dataset.zoning, input.checked));
  }
  $("#btn-undo").addEventListener("click", () => guarded(() => state.session.undo()));
  $("#btn-redo").addEventListener("click", () => guarded(() => state.session.redo()));
  document.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.target.matches("input, textarea")) return;
    if (e.key === "z" && !e.shiftKey) { e.preventDefault(); guarded(() => state.session.undo()); }
    if (e.key === "y" || (e.key === "z" && e.shiftKey)) { e.preventDefault(); guarded(() => state.session.redo()); }
  });
  $("#new-unit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!state.session.id) { toast(t("scenario.none"), { error: true }); return; }
    const name = $("#new-unit-name").value.trim();
    const id = await guarded(() => state.session.addNewUnit({ name, kind: $("#new-unit-kind").value }));
    if (id) {
      $("#new-unit-name").value = "";
      setActive(id);
      setMode("assign");
      renderLegend();
    }
  });
  $("#search-input").addEventListener("input", renderSearch);
  $("#search-results").addEventListener("click", (e) => {
    const button = e.target.closest("[data-action]");
    const item = e.target.closest("[data-code]");
    if (!button || !item) return;
    const code = item.dataset.code;
    flyToUnit(code);
    if (button.dataset.action === "assign") assignCodes([code], { toggle: false });
    else showUnitInfo(code);
  });
  $("#btn-draw-start").addEventListener("click", () => state.draw.start());
  $("#btn-draw-clear").addEventListener("click", () => state.draw.clear());
  $("#draw-save-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!lastPolygon || !state.session.id) return;
    const id = await guarded(() => state.session.addNewUnit({
      name: $("#draw-save-name").value.trim(), kind: $("#draw-save-kind").value, geometry: lastPolygon,
    }));
    if (id) {
      toast(t("draw.saved"));
      $("#draw-save-name").value = "";
      state.draw.clear();
    }
  });
  $("#btn-compare").addEventListener("click", () => guarded(runCompare));
}

// ---- start ----------------------------------------------------------------------------------

async function main() {
  adoptTokenFromUrl();  // first: the login URL's token leaves the address bar before anything else runs
  await loadLanguage();
  state.panel = new Panel({
    cardsEl: $("#new-units"), totalsEl: $("#totals"), warningsEl: $("#warnings"),
    colourOf: colourOfNewUnit, onAction: (action, id, value) => guarded(() => onPanelAction(action, id, value)),
  });
  state.session.onChange((change) => {
    if (change.kind === "opened") onScenarioOpened();
    else if (change.kind === "reassigned") afterReassign(change);
    else if (change.kind === "history") refreshUndoButtons();
  });
  wireUi();

  // Everything the first picture needs is asked for at once: the scenario too, so that the map
  // opens on it (tiles are loaded once, at the right zoom).
  const unitsPromise = loadUnits().catch(showError);
  const zoningKinds = ["industrial_clusters", "tourism_sites", "night_streets"];
  const zoningPromise = Promise.all(zoningKinds.map((kind) => api.tileJson(kind).catch(() => null)));
  const openPromise = (async () => {
    await refreshScenarioList();
    const remembered = localStorage.getItem(SCENARIO_KEY);
    const fromHash = new URLSearchParams(window.location.hash.slice(1)).get("scenario");
    const wanted = [fromHash, remembered].find((id) => id && state.scenarios.some((s) => s.id === id))
      || (state.scenarios[0] && state.scenarios[0].id);
    if (!wanted) return { wanted: null, outlines: null };
    const [outlines] = await Promise.all([api.tileJson(`scenario-${wanted}`).catch(() => null), state.session.open(wanted)]);
    return { wanted, outlines };
  })();
  const [health, unitsTileJson, opened] = await Promise.all([
    api.health().catch(() => ({})), api.tileJson("units"), openPromise.catch((error) => {
      showError(error);
      return { wanted: null, outlines: null };
    }),
  ]);
  state.densityLegend = unitsTileJson.legend && unitsTileJson.legend.property === "density_per_km2" ? unitsTileJson.legend : null;
  const basemapUrl = health.basemap_url || (health.basemap && health.basemap.url) || null;
  const hasContent = state.session.scenario && state.session.scenario.new_units.some((nu) => nu.members.length || nu.geometry);
  const b = (hasContent && opened.outlines && opened.outlines.bounds) || unitsTileJson.bounds;
  const map = createMap("map", { basemapUrl, bounds: b ? [[b[0], b[1]], [b[2], b[3]]] : null, padding: MAP_PADDING });
  state.map = map;
  debug.map = map;
  debug.padding = MAP_PADDING;

  map.on("load", async () => {
    state.sourceLayer = addUnits(map, unitsTileJson);
    map.once("idle", () => { debug.timings.firstPaintMs = performance.now(); });
    const zoning = await zoningPromise;
    zoningKinds.forEach((kind, i) => {
      if (zoning[i]) { addZoning(map, kind, zoning[i]); return; }
      const input = document.querySelector(`[data-zoning=${kind}]`);
      input.disabled = true;
      input.closest("label").classList.add("muted");
    });
    state.draw = new DrawTool(map, {
      snapLayers: [UNITS_FILL], onChange: (polygon) => onPolygonChanged(polygon),
      isSnapOn: () => $("#draw-snap").checked,
    });
    state.draw.pause();
    // Feature-state set before the source existed is lost: colour again now.
    state.fills.clear();
    state.unassigned.clear();
    wireMapEvents(map);
    if (opened.wanted) {
      localStorage.setItem(SCENARIO_KEY, opened.wanted);
      $("#scenario-select").value = opened.wanted;
      renderExports();
      applyColours();
      if (opened.outlines) setScenarioOutlines(map, opened.outlines);
    }
    await unitsPromise;
    applyColours();
    applyLabels(document);
    map.once("idle", () => { debug.timings.readyMs = performance.now(); debug.ready = true; });
    map.triggerRepaint();
  });
}

main().catch((error) => { showError(error); debug.fatal = String(error); });
