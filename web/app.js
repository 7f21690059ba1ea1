// Entry point: wires the map, the scenario session, the panel, the drawing tool, the
// comparison and the exports together. Figures always come from the API; the page only
// colours, lists and forwards the user's edits.

import { adoptTokenFromUrl, api, ApiError, getToken, itemsOf, scenarioOf, setToken } from "./api.js";
import { applyLabels, formatNumber, lang, loadLanguage, t, tMessage, tOptional } from "./i18n.js";
import {
  addOutlines, addUnits, addZoning, classesFor, clearScenarioOutlines, createMap, groupLabelPoint, loadLabelFonts, NEW_UNIT_COLOURS,
  replaceUnits, setAdminVisible, setDrawnUnitColours, setNewUnitLabels, setScenarioOutlines, setZoningVisible, UNASSIGNED_COLOUR,
  UNITS_FILL, UNITS_SOURCE,
} from "./map.js";
import { datasetLabel, importReportHtml } from "./datasets.js";
import {
  BusyError, ConflictReloaded, duplicateName, LockedError, ScenarioSession, SupersededOpen,
} from "./scenario.js";
import { indicatorRowsHtml, Panel } from "./panel.js";
import { DrawTool } from "./draw.js";
import { compareEvaluations, comparisonHtml } from "./compare.js";
import { escapeHtml, fold } from "./text.js";
import { applySettings, FLAGS, scopeOptions, unitsInScope } from "./settings.js";
import { openArchive, pmtilesUrlFromPage } from "./pmtiles-source.js";

const $ = (selector) => document.querySelector(selector);
const SCENARIO_KEY = "diagioi.scenario";
// Room for the legend box at the top right when fitting the map to something.
const MAP_PADDING = { top: 40, bottom: 40, left: 50, right: 280 };

// Exposed for the browser tests and the benchmark only when the page is opened with ?debug=1:
// timings and handles, no behaviour.
const debug = { ready: false, timings: {}, errors: [] };
if (new URLSearchParams(window.location.search).has("debug")) window.__diagioi = debug;

const state = {
  map: null,
  sourceLayer: null,
  unitsVersion: null,        // the units dataset the map shows (the open scenario's)
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
  labelPoints: new Map(),    // unit_code -> [lon, lat] of its name label (GET /api/outlines)
  unitIndicators: new Map(), // unit_code -> zoning indicators row (GET /api/indicators)
  indicatorFields: {},       // indicator field -> {unit, label_vi, label_en, layer}
  selectedZoning: null,      // {kind, featureId} shown in the info box
};
debug.state = state;

// ---- messages -------------------------------------------------------------------------------

let toastTimer = null;
/** A message over the map; action = {label, run} adds a button (retry, undo a delete). */
function toast(message, { error = false, action = null } = {}) {
  const el = $("#toast");
  const text = document.createElement("span");
  text.textContent = message;
  el.replaceChildren(text);
  if (action) {
    const button = document.createElement("button");
    button.className = "toast-action";
    button.textContent = action.label;
    button.addEventListener("click", () => { hideToast(); action.run(); });
    el.append(" ", button);
  }
  el.classList.toggle("error", error);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, action ? 15000 : error ? 8000 : 4000);
}

function hideToast() {
  clearTimeout(toastTimer);
  $("#toast").hidden = true;
}

// After a failed request: ask /api/health every few seconds. If the server was really down, say
// when it is back, take a restarted server's new key, reload the scenario and offer the retry.
let reconnectTimer = null;
function watchReconnect(retry) {
  clearInterval(reconnectTimer);
  let wasDown = false;
  const check = async () => {
    try {
      await api.health();
    } catch (error) {
      wasDown = true;
      return;
    }
    clearInterval(reconnectTimer);
    reconnectTimer = null;
    if (!wasDown) return;                  // only that request failed; its message stays
    if (state.session.id) await guarded(() => state.session.reload());
    toast(t("network.back"), { action: retry ? { label: t("action.retry"), run: retry } : null });
  };
  reconnectTimer = setInterval(check, 3000);
}

/** Tell the user what went wrong in the page's language; retry() repeats the failed action. */
async function showError(error, retry = null) {
  if (error instanceof SupersededOpen) return;
  if (error instanceof ConflictReloaded) { toast(t("conflict.reloaded"), { error: true }); return; }
  if (error instanceof LockedError) { toast(t("newunit.locked_refused", { name: error.newUnitName }), { error: true }); return; }
  if (error instanceof BusyError) { toast(t("scenario.busy"), { error: true }); return; }
  if (error instanceof ApiError && error.isNetwork) {
    debug.errors.push("network");
    toast(t("network.unreachable"), { error: true, action: retry ? { label: t("action.retry"), run: retry } : null });
    watchReconnect(retry);
    return;
  }
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
  try { return await action(); } catch (error) { showError(error, () => guarded(action)); return undefined; }
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

/**
 * Codes of the units in the scenario's scope: the parent's scope when set, else the districts the
 * scenario touches. Those no new unit has taken stay as they are ("giữ nguyên").
 */
function scopeCodes() {
  const scenario = state.session.scenario;
  const units = [...state.units.values()];
  const scope = scenario && scenario.parent && scenario.parent.scope;
  if (scope && ((scope.provinces || []).length || (scope.districts || []).length || (scope.codes || []).length)) {
    const inScope = new Set(unitsInScope(units, { provinces: scope.provinces, districts: scope.districts }));
    if (!(scope.districts || []).length && !(scope.provinces || []).length) inScope.clear();
    for (const code of scope.codes || []) inScope.add(String(code));
    return inScope;
  }
  const districts = new Set();
  for (const code of state.session.assignment.keys()) {
    const unit = state.units.get(code);
    if (unit && unit.district) districts.add(`${unit.province}|${unit.district}`);
  }
  return new Set(units.filter((u) => districts.has(`${u.province}|${u.district}`)).map((u) => u.code));
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
    default: {
      if (!state.indicator.startsWith("zoning:")) return null;
      const row = state.unitIndicators.get(code);
      const value = row ? row[state.indicator.slice("zoning:".length)] : null;
      return Number.isFinite(value) ? value : null;
    }
  }
}

const MOVED_COLOUR = "#d7301f";
const SAME_COLOUR = "#bdbdbd";

/** Recolour every unit (codes = null) or only the given ones; then the legend. */
function applyColours(codes = null) {
  const session = state.session;
  if (state.tab === "compare" && state.compare) {
    applyCompareColours();
    renderLegend();
    return;
  }
  if (state.indicator === "scenario") {
    const scope = scopeCodes();
    const targets = codes || new Set([...state.units.keys(), ...session.assignment.keys(), ...state.fills.keys()]);
    for (const code of targets) {
      const newUnitId = session.assignment.get(code);
      const unit = state.units.get(code);
      const unassigned = !newUnitId && Boolean(unit) && scope.has(code);
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
        if (!unit || !scope.has(code) || session.assignment.has(code)) {
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
  if (state.tab === "compare" && state.compare) {
    const view = document.querySelector("input[name=compare-view]:checked").value;
    if (view === "diff") {
      rows.push(`<div><span class="swatch" style="background:${MOVED_COLOUR}"></span>${escapeHtml(t("compare.legend_moved"))}</div>`);
      rows.push(`<div><span class="swatch" style="background:${SAME_COLOUR}"></span>${escapeHtml(t("compare.legend_same"))}</div>`);
    } else {
      rows.push(`<div class="legend-title">${escapeHtml(t("compare.legend_showing", { side: view.toUpperCase() }))}</div>`);
    }
  } else if (state.indicator === "scenario") {
    for (const nu of state.session.scenario ? state.session.scenario.new_units : []) {
      rows.push(`<div><span class="swatch" style="background:${colourOfNewUnit(nu.id)}"></span>${escapeHtml(nu.name)}</div>`);
    }
    const scoped = Boolean(state.session.scenario && state.session.scenario.parent && state.session.scenario.parent.scope);
    rows.push(`<div><span class="swatch" style="background:${UNASSIGNED_COLOUR};border:2px solid #d95f02"></span>${t(scoped ? "legend.kept" : "legend.unassigned")}</div>`);
    rows.push(`<div><span class="swatch outside"></span>${t("legend.outside")}</div>`);
  } else if (state.classes) {
    const { breaks, colours } = state.classes;
    const digits = state.indicator === "area" ? 1 : 0;
    const zoningMeta = state.indicator.startsWith("zoning:") ? (state.indicatorFields || {})[state.indicator.slice(7)] : null;
    const unit = zoningMeta ? (zoningMeta.unit === "count" ? "" : zoningMeta.unit)
      : { density: t("unit.per_km2"), population: t("unit.people"), area: "km²", pct_standard: "%" }[state.indicator];
    colours.forEach((colour, i) => {
      const low = i === 0 ? null : breaks[i - 1];
      const high = i < breaks.length ? breaks[i] : null;
      const label = low === null ? `< ${formatNumber(high, digits)}` : high === null ? `≥ ${formatNumber(low, digits)}`
        : `${formatNumber(low, digits)} – ${formatNumber(high, digits)}`;
      rows.push(`<div><span class="swatch" style="background:${colour}"></span>${label}</div>`);
    });
    const title = zoningMeta ? (lang() === "en" ? zoningMeta.label_en : zoningMeta.label_vi) : t(`indicator.${state.indicator}`);
    rows.unshift(`<div class="legend-title">${escapeHtml(title)}${unit ? ` (${escapeHtml(unit)})` : ""}</div>`);
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

async function loadUnits(dataset = undefined) {
  const collection = await api.units(dataset);
  state.units.clear();
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
  state.selectedZoning = null;
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
      ${indicatorRowsHtml(state.unitIndicators.get(code), state.indicatorFields)}
    </table>
    ${unitActionsHtml(unit)}`;
  el.hidden = false;
  if (debug.clickAt) {
    // Click → panel: from the browser's click event to the unit's figures in the panel.
    debug.timings.lastClickToPanelMs = performance.now() - debug.clickAt;
    debug.clickAt = null;
    debug.infoCount = (debug.infoCount || 0) + 1;
  }
  el.querySelector("[data-close]").addEventListener("click", () => {
    el.hidden = true;
    setUnitState(code, { selected: false });
    state.selectedCode = null;
  });
}

/** One-action tools on a unit: make it a ward/commune of its own, put it or its whole district into the active new unit. */
function unitActionsHtml(unit) {
  if (!state.session.scenario) return "";
  const active = state.activeId ? state.session.newUnit(state.activeId) : null;
  const buttons = [
    `<button data-unit-action="ward" data-code="${escapeHtml(unit.code)}">${escapeHtml(t("tools.make_ward"))}</button>`,
    `<button data-unit-action="commune" data-code="${escapeHtml(unit.code)}">${escapeHtml(t("tools.make_commune"))}</button>`,
  ];
  if (active) {
    buttons.push(`<button data-unit-action="assign" data-code="${escapeHtml(unit.code)}">${escapeHtml(t("tools.assign_to", { name: active.name }))}</button>`);
    if (unit.district) {
      buttons.push(`<button data-unit-action="district" data-code="${escapeHtml(unit.code)}">${escapeHtml(t("tools.assign_district", { district: unit.district, name: active.name }))}</button>`);
    }
  }
  return `<div class="row-form unit-actions">${buttons.join("")}</div>`;
}

async function onUnitAction(action, code) {
  const unit = state.units.get(code);
  if (!unit) return;
  if (action === "ward" || action === "commune") {
    await makeOwnUnit(code, action);
  } else if (action === "assign") {
    await assignCodes([code], { toggle: false });
  } else if (action === "district") {
    const codes = [...state.units.values()].filter((u) => u.province === unit.province && u.district === unit.district).map((u) => u.code);
    await assignCodes(codes, { toggle: false });
  }
}

/**
 * Make-a-ward / make-a-commune in one action: a new unit of that kind with this unit as its only
 * member (taken out of any other new unit), named "Phường …" / "Xã …". One undo step.
 */
async function makeOwnUnit(code, kind) {
  const unit = state.units.get(code);
  const session = state.session;
  if (!session.id) { toast(t("scenario.none"), { error: true }); return null; }
  const owner = session.assignment.get(code);
  if (owner && session.isLocked(owner)) { toast(t("newunit.locked_refused", { name: session.newUnit(owner).name }), { error: true }); return null; }
  const name = `${t(`kind.${kind}`)} ${unit.name}`;
  if (refuseDuplicate(name)) return null;
  const id = session.nextNewUnitId();
  await session.save((body) => {
    for (const nu of body.new_units) nu.members = nu.members.filter((member) => member !== code);
    body.new_units.push({ id, name, kind, members: [code] });
  });
  setActive(id);
  toast(t("tools.made", { name }));
  return id;
}

/** Assign every unit of the scope that no new unit has taken to the active new unit. */
async function fillUnassigned() {
  if (!state.activeId) { toast(t("newunit.choose_first"), { error: true }); return; }
  const codes = [...scopeCodes()].filter((code) => !state.session.assignment.has(code));
  if (!codes.length) { toast(t("tools.nothing_unassigned")); return; }
  await assignCodes(codes, { toggle: false });
}

/** Live count of the scope: units and population taken, kept as they are, annexed from outside. */
function renderScopeCounter() {
  const el = $("#scope-counter");
  const scenario = state.session.scenario;
  if (!scenario) { el.innerHTML = ""; return; }
  const scope = scopeCodes();
  let keptUnits = 0;
  let keptPopulation = 0;
  let takenUnits = 0;
  let annexed = 0;
  for (const code of scope) {
    if (state.session.assignment.has(code)) { takenUnits += 1; continue; }
    keptUnits += 1;
    keptPopulation += (state.units.get(code) || {}).population || 0;
  }
  for (const code of state.session.assignment.keys()) if (!scope.has(code)) annexed += 1;
  el.innerHTML = scope.size
    ? `${escapeHtml(t("tools.counter", { scope: formatNumber(scope.size), taken: formatNumber(takenUnits), kept: formatNumber(keptUnits),
      population: formatNumber(keptPopulation) }))}${annexed ? ` · ${escapeHtml(t("tools.counter_annexed", { n: formatNumber(annexed) }))}` : ""}
      <button id="btn-fill-unassigned" ${keptUnits && state.activeId ? "" : "disabled"}>${escapeHtml(t("tools.fill_unassigned"))}</button>`
    : escapeHtml(t("tools.counter_no_scope"));
  debug.scopeCounter = { scope: scope.size, taken: takenUnits, kept: keptUnits, keptPopulation, annexed };
}

// ---- assigning ------------------------------------------------------------------------------

function mode() { return document.querySelector("input[name=mode]:checked").value; }
function setMode(value) { document.querySelector(`input[name=mode][value=${value}]`).checked = true; }

function setActive(newUnitId) {
  state.activeId = newUnitId;
  state.panel.setActive(state.session, newUnitId);
  renderScopeCounter();
  if (state.selectedCode && !$("#unit-info").hidden) showUnitInfo(state.selectedCode);
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
    scopeSignature = [...scopeCodes()].sort().join(";");
    applyColours(before === scopeSignature ? new Set(codes) : null);
  } else {
    applyColours();
  }
  if (state.selectedCode && codes.includes(state.selectedCode)) showUnitInfo(state.selectedCode);
  refreshUndoButtons();
  refreshScenarioOutlines();
  refreshNewUnitLabels();
  refreshScenarioIndicators();
  refreshArrangement();
  renderScopeCounter();
  debug.timings.lastPanelRenderMs = performance.now() - renderStarted;
  if (debug.pendingStartedAt) {
    debug.timings.lastPanelUpdateMs = performance.now() - debug.pendingStartedAt;
    debug.timings.lastReassignRequestMs = state.session.lastRequestMs;
    debug.pendingStartedAt = null;
  }
  debug.reassignCount = (debug.reassignCount || 0) + 1;
}
let scopeSignature = "";

/** Labels of the new units at a member's label point near the middle of the group. */
function refreshNewUnitLabels() {
  if (!state.map) return;
  const scenario = state.session.scenario;
  const labels = (scenario ? scenario.new_units : []).map((nu) => ({
    name: nu.name,
    point: groupLabelPoint(nu.members.map((code) => state.labelPoints.get(code))) || drawnLabelPoint(nu.geometry),
  }));
  setNewUnitLabels(state.map, labels);
}

function drawnLabelPoint(geometry) {
  const box = geometry ? bboxOf(geometry) : null;
  return box ? [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2] : null;
}

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
  try {
    await state.session.open(id);
  } finally {
    // The picker always names the scenario the panel shows (and the edits go to).
    $("#scenario-select").value = state.session.id || "";
  }
  localStorage.setItem(SCENARIO_KEY, id);
  $("#scenario-select").value = id;
  await showScenarioDataset();
  renderExports();
  await loadScenarioOutlines({ fit: true });
}

/** The map's data line for a stored dataset that is not the default: its name and population year. */
async function datasetAttribution(version) {
  const dataset = await api.dataset(version);
  const years = new Map();
  for (const unit of state.units.values()) {
    if (unit.population_year) years.set(unit.population_year, (years.get(unit.population_year) || 0) + 1);
  }
  const year = [...years.entries()].sort((a, b) => b[1] - a[1])[0];
  return { source: dataset.name, licence: null, population_year: year ? year[0] : null };
}

/** The attribution control with the data line of the units shown (and the basemap's host). */
async function showAttribution(attribution) {
  if (!state.map) return;
  if (state.attributionControl) state.map.removeControl(state.attributionControl);
  state.attributionControl = new maplibregl.AttributionControl({
    compact: window.innerWidth < 700, customAttribution: attributionHtml(attribution, state.basemapUrl),
  });
  state.map.addControl(state.attributionControl);
}

/**
 * The map shows the units dataset the open scenario is built on: another dataset's units (list and
 * tiles units-{version}) replace the ones shown; the district outlines and unit labels, drawn from
 * the default dataset, are hidden meanwhile.
 */
async function showScenarioDataset() {
  const wanted = state.session.unitsVersion;
  if (!wanted || !state.map || wanted === state.unitsVersion) return;
  const isDefault = wanted === state.session.defaultUnitsVersion;
  const [tilejson] = await Promise.all([api.tileJson(isDefault ? "units" : `units-${wanted}`), loadUnits(wanted)]);
  state.sourceLayer = replaceUnits(state.map, tilejson);
  state.unitsVersion = wanted;
  debug.unitsVersion = wanted;
  setAdminVisible(state.map, isDefault);
  state.fills.clear();
  state.unassigned.clear();
  onScenarioOpened();             // counters, scope and colours of the units now shown
  await showAttribution(isDefault ? state.defaultAttribution : await datasetAttribution(wanted));
  const b = tilejson.bounds;
  if (b) state.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: mapPadding(), maxZoom: 13, duration: 0 });
}

function onScenarioOpened() {
  hideToast();
  const ids = new Set(state.session.scenario.new_units.map((nu) => nu.id));
  if (!ids.has(state.activeId)) state.activeId = state.session.scenario.new_units.length ? state.session.scenario.new_units[0].id : null;
  state.panel.activeId = state.activeId;
  state.panel.renderAll(state.session);
  scopeSignature = [...scopeCodes()].sort().join(";");
  applyColours();
  refreshUndoButtons();
  setDrawnUnitColours(state.map, Object.fromEntries(state.session.scenario.new_units
    .filter((nu) => nu.geometry).map((nu) => [nu.id, colourOfNewUnit(nu.id)])));
  refreshScenarioOutlines();
  refreshNewUnitLabels();
  refreshScenarioIndicators();
  renderSettings();
  renderScopeCounter();
}

// ---- scenario settings ------------------------------------------------------------------------

/** Fill the settings form from the open scenario. */
function renderSettings() {
  const scenario = state.session.scenario;
  const form = $("#settings-form");
  form.querySelectorAll("input, select, textarea, button").forEach((el) => { el.disabled = !scenario; });
  if (!scenario) { $("#settings-summary").textContent = ""; renderThresholdsWhy(); return; }
  $("#set-description").value = scenario.description || "";
  $("#set-regime").value = scenario.regime || "R76";
  const parent = scenario.parent || {};
  $("#set-parent-name").value = parent.name || "";
  $("#set-parent-kind").value = parent.kind || "";
  const scope = parent.scope || {};
  const options = scopeOptions([...state.units.values()]);
  const chosenProvince = (scope.provinces || [])[0]
    || (options.find((o) => (scope.districts || []).some((d) => o.districts.includes(d))) || {}).province || "";
  $("#set-scope-province").innerHTML = `<option value="">${escapeHtml(t("settings.scope_all"))}</option>${
    options.map((o) => `<option value="${escapeHtml(o.province)}">${escapeHtml(o.province)}</option>`).join("")}`;
  $("#set-scope-province").value = chosenProvince;
  renderScopeDistricts(new Set(scope.districts || []));
  const context = scenario.context || {};
  for (const input of document.querySelectorAll("#set-flags [data-flag]")) input.checked = context[input.dataset.flag] === true;
  $("#set-ethnic").value = Number.isFinite(context.ethnic_minority_share) ? String(Math.round(context.ethnic_minority_share * 1000) / 10) : "";
  const flagged = Object.keys(scenario.unit_flags || {}).length;
  $("#set-flags-note").textContent = flagged ? t("settings.flags_loaded", { n: flagged }) : t("settings.flags_csv_help");
  const summary = [t(`regime.${scenario.regime || "R76"}`)];
  if (parent.kind) summary.push(`${parent.name || ""} (${t(`parent_kind.${parent.kind}`)})`);
  $("#settings-summary").textContent = `— ${summary.join(" · ")}`;
  renderThresholdsWhy();
}

function renderScopeDistricts(checked) {
  const province = $("#set-scope-province").value;
  const option = scopeOptions([...state.units.values()]).find((o) => o.province === province);
  $("#set-scope-districts").innerHTML = (option ? option.districts : []).map((district) => `<label><input type="checkbox"
    data-district="${escapeHtml(district)}"${checked.has(district) ? " checked" : ""}> ${escapeHtml(district)}</label>`).join("");
}

function readSettingsForm() {
  const share = $("#set-ethnic").value.trim();
  const province = $("#set-scope-province").value;
  return {
    description: $("#set-description").value.trim(),
    regime: $("#set-regime").value,
    parentName: $("#set-parent-name").value.trim(),
    parentKind: $("#set-parent-kind").value,
    provinces: province ? [province] : [],
    districts: [...document.querySelectorAll("#set-scope-districts [data-district]:checked")].map((el) => el.dataset.district),
    flags: Object.fromEntries([...document.querySelectorAll("#set-flags [data-flag]")].map((el) => [el.dataset.flag, el.checked])),
    ethnicShare: share === "" ? NaN : Number(share.replace(",", ".")) / 100,
  };
}

async function saveSettings() {
  if (!state.session.id) { toast(t("scenario.none"), { error: true }); return; }
  const values = readSettingsForm();
  if (!Number.isNaN(values.ethnicShare) && !(values.ethnicShare >= 0 && values.ethnicShare <= 1)) {
    toast(t("settings.ethnic_invalid"), { error: true });
    return;
  }
  await state.session.save((body) => applySettings(body, values));
  toast(t("settings.saved"));
}

/** Per-unit flags from a CSV file: read and checked by the server, then saved into the scenario. */
async function loadFlagsFile(file) {
  if (!state.session.id) return;
  const { unit_flags: flags, count } = await api.readFlagsTable(await file.arrayBuffer(), file.name);
  await state.session.save((body) => { body.unit_flags = { ...(body.unit_flags || {}), ...flags }; });
  toast(t("settings.flags_saved", { n: count }));
}

/** Which thresholds apply and why: the regime, the parent, the region flags and where they come from. */
function renderThresholdsWhy() {
  const el = $("#thresholds-why");
  const scenario = state.session.scenario;
  if (!scenario) { el.innerHTML = ""; return; }
  const parts = [`<b>${escapeHtml(t("settings.applies"))}</b> ${escapeHtml(t(`regime.${scenario.regime || "R76"}`))}`];
  const parent = scenario.parent;
  parts.push(parent && parent.kind
    ? escapeHtml(t("settings.why_parent", { name: parent.name || "", kind: t(`parent_kind.${parent.kind}`) }))
    : escapeHtml(t("settings.why_no_parent")));
  const context = scenario.context || {};
  const regionFlags = FLAGS.filter((flag) => context[flag] === true).map((flag) => t(`flag.${flag}`));
  parts.push(escapeHtml(regionFlags.length ? t("settings.why_region", { flags: regionFlags.join(", ") }) : t("settings.why_no_region")));
  const flagged = Object.keys(scenario.unit_flags || {}).length;
  if (flagged) parts.push(escapeHtml(t("settings.why_unit_flags", { n: flagged })));
  el.innerHTML = `<p>${parts.join(" · ")}</p>`;
}

/** No scenario left (the last one was deleted): empty panel, plain map. */
function closeScenario() {
  const session = state.session;
  session.scenario = null;
  session.figures = new Map();
  session.totals = null;
  session.warnings = [];
  session.assignment = new Map();
  session.undoStack = [];
  session.redoStack = [];
  state.activeId = null;
  state.panel.renderAll(session);
  applyColours();
  refreshUndoButtons();
  renderExports();
  refreshNewUnitLabels();
  renderSettings();
  if (state.map) clearScenarioOutlines(state.map);
}

async function deleteScenario() {
  const session = state.session;
  if (!session.id) return;
  const name = session.scenario.name;
  if (!window.confirm(t("scenario.confirm_delete", { name }))) return;
  const body = session.body();
  await api.deleteScenario(session.id, session.version);
  localStorage.removeItem(SCENARIO_KEY);
  await refreshScenarioList();
  if (state.scenarios.length) await openScenario(state.scenarios[0].id);
  else closeScenario();
  toast(t("scenario.deleted", { name }), { action: { label: t("action.undo"), run: () => guarded(async () => {
    const restored = scenarioOf(await api.createScenario(body));
    await refreshScenarioList(restored.id);
    await openScenario(restored.id);
    toast(t("scenario.restored", { name }));
  }) } });
}

/** The parent kind a district name implies ("Thành phố …" → provincial_city, "Huyện …" → district). */
function parentKindOf(districtName) {
  const key = fold(districtName);
  if (key.startsWith("thanh pho") || key.startsWith("tp ")) return "provincial_city";
  if (key.startsWith("thi xa")) return "town";
  if (key.startsWith("quan")) return "urban_district";
  return "district";
}

/**
 * "Mới": a dialog with the units dataset (the one the map shows, or another stored one), the scope (a
 * district of that dataset), name, regime and mountainous flag.
 */
async function createScenario(dataset = state.unitsVersion) {
  const dialog = $("#new-scenario-dialog");
  const listing = await api.datasets();
  const wanted = listing.data.some((d) => d.version === dataset) ? dataset : listing.default;
  $("#ns-dataset").innerHTML = listing.data.map((d) => `<option value="${escapeHtml(d.version)}">${escapeHtml(datasetLabel(d))}${
    d.version === listing.default ? ` ${escapeHtml(t("dataset.default"))}` : ""}</option>`).join("");
  $("#ns-dataset").value = wanted;
  await fillScopeChoices(wanted);
  $("#ns-name").value = t("scenario.default_name");
  $("#ns-regime").value = "R76";
  $("#ns-mountainous").checked = false;
  dialog.showModal();
}

/** The districts of a dataset as scope choices of the "Mới" dialog (the shown units, or fetched). */
async function fillScopeChoices(dataset) {
  const units = dataset === state.unitsVersion ? [...state.units.values()]
    : ((await api.units(dataset)).features).map((feature) => feature.properties);
  const options = scopeOptions(units);
  $("#ns-district").innerHTML = `<option value="">${escapeHtml(t("newscenario.no_scope"))}</option>${options.map((o) =>
    `<optgroup label="${escapeHtml(o.province)}">${o.districts.map((d) =>
      `<option value="${escapeHtml(`${o.province}|${d}`)}">${escapeHtml(d)}</option>`).join("")}</optgroup>`).join("")}`;
}

async function submitNewScenario() {
  const name = $("#ns-name").value.trim();
  if (!name) return;
  const [province, district] = $("#ns-district").value ? $("#ns-district").value.split("|") : [null, null];
  const body = { name, regime: $("#ns-regime").value, new_units: [], dataset: $("#ns-dataset").value };
  if (district) {
    body.parent = { name: district, kind: parentKindOf(district), scope: { provinces: [province], districts: [district] } };
  }
  if ($("#ns-mountainous").checked) body.context = { mountainous: true };
  const created = scenarioOf(await api.createScenario(body));
  await refreshScenarioList(created.id);
  await openScenario(created.id);
  const codes = district ? [...state.units.values()].filter((u) => u.province === province && u.district === district) : [];
  const box = boundsOfCodes(codes.map((u) => u.code));
  if (box && state.map) state.map.fitBounds(box, { padding: mapPadding(), maxZoom: 13, duration: 0 });
}

function boundsOfCodes(codes) {
  let box = null;
  for (const code of codes) {
    const b = (state.units.get(code) || {}).bbox;
    if (!b) continue;
    box = box ? [Math.min(box[0], b[0]), Math.min(box[1], b[1]), Math.max(box[2], b[2]), Math.max(box[3], b[3])] : [...b];
  }
  return box ? [[box[0], box[1]], [box[2], box[3]]] : null;
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

/** True (and says so) when another new unit already has this name. */
function refuseDuplicate(name, exceptId = null) {
  const other = duplicateName(state.session.scenario, name, exceptId);
  if (other) toast(t("newunit.duplicate", { name: other.name }), { error: true });
  return Boolean(other);
}

// Gợi ý phương án: the server proposes whole plans for the open scenario's scope (its parent scope,
// else its member units) and stores them as new scenarios; the first opens and the two are compared.
async function suggestScenarios() {
  const current = state.session.scenario;
  if (!current) { toast(t("scenario.suggest_no_scope"), { error: true }); return; }
  const scope = current.parent && current.parent.scope;
  const members = current.new_units.flatMap((nu) => nu.members || []);
  const hasScope = scope && ["provinces", "districts", "codes"].some((key) => (scope[key] || []).length);
  if (!hasScope && !members.length) { toast(t("scenario.suggest_no_scope"), { error: true }); return; }
  const inScope = hasScope ? scopeCodes().size : new Set(members).size;
  const answer = window.prompt(t("scenario.suggest_prompt", { count: inScope }), String(Math.max(1, Math.round(inScope / 3))));
  if (answer === null || !answer.trim()) return;
  const target = Number(answer.trim());
  if (!Number.isInteger(target) || target < 1 || target > inScope) {
    toast(t("scenario.suggest_bad_target", { count: inScope }), { error: true });
    return;
  }
  const body = { scope: hasScope ? scope : { codes: [...new Set(members)] }, target_units: target,
                 regime: current.regime || "R76", alternatives: 2, save: true,
                 name: t("scenario.suggest_name", { name: current.name }) };
  if (current.parent && current.parent.kind) body.parent = { name: current.parent.name || "", kind: current.parent.kind };
  if (current.context && Object.keys(current.context).length) body.context = current.context;
  if (current.unit_flags && Object.keys(current.unit_flags).length) body.unit_flags = current.unit_flags;
  const button = $("#btn-scenario-suggest");
  button.disabled = true;
  toast(t("scenario.suggest_running"));
  let result;
  try { result = await api.suggestScenarios(body); } finally { button.disabled = false; }
  const saved = result.saved;
  await refreshScenarioList(saved[0].id);
  await openScenario(saved[0].id);
  if (saved.length > 1) {
    $("#compare-a").value = saved[0].id;
    $("#compare-b").value = saved[1].id;
    switchTab("compare");
    await runCompare();
  }
  const plan = result.report.plans[0];
  toast(t(saved.length > 1 ? "scenario.suggest_done" : "scenario.suggest_one",
          { count: saved.length, failing: plan.failing_units, seconds: formatNumber(result.report.time_s, 1) }));
}

async function onPanelAction(action, newUnitId, value) {
  const nu = state.session.newUnit(newUnitId);
  if (!nu) return;
  if (action === "activate") {
    setActive(newUnitId);
    setMode("assign");
  } else if (action === "lock") {
    await guarded(() => state.session.setLocked(newUnitId, !nu.locked));
  } else if (action === "flag") {
    const [flag, choice] = value.split("=");
    await guarded(() => state.session.save((body) => {
      const target = body.new_units.find((n) => n.id === newUnitId);
      if (choice === "") delete target[flag]; else target[flag] = choice === "true";
    }));
  } else if (action === "kind") {
    await guarded(() => state.session.save((body) => { body.new_units.find((n) => n.id === newUnitId).kind = value; }));
  } else if (action === "rename") {
    const name = window.prompt(t("newunit.name_placeholder"), nu.name);
    if (name && name.trim() && !refuseDuplicate(name, newUnitId)) await guarded(() => state.session.renameNewUnit(newUnitId, name.trim()));
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
      <button data-action="assign" title="${escapeHtml(t("search.assign_title"))}">${t("search.assign")}</button>
      <button data-action="ward" title="${escapeHtml(t("tools.make_ward"))}">${escapeHtml(t("tools.to_ward"))}</button>
      <button data-action="commune" title="${escapeHtml(t("tools.make_commune"))}">${escapeHtml(t("tools.to_commune"))}</button></li>`;
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
let lastZoningGeometry = null;

/** What the draw tab draws: {kind: null} for a new unit's boundary, else {kind: layer, mode}. */
function drawTarget() {
  const [kind, mode] = $("#draw-target").value.split(":");
  return kind === "boundary" ? { kind: null, mode: "polygon" } : { kind, mode };
}

/** The unit under the middle of a drawn line (the one it is meant to split). */
function unitUnderLineMiddle(line) {
  const c = line.coordinates;
  const i = Math.floor((c.length - 1) / 2);
  const middle = [(c[i][0] + c[i + 1][0]) / 2, (c[i][1] + c[i + 1][1]) / 2];
  const feature = state.map.queryRenderedFeatures(state.map.project(middle), { layers: [UNITS_FILL] })[0];
  return feature ? String(feature.id ?? feature.properties.code) : null;
}

function showSplitPreview(geometry) {
  const data = { type: "FeatureCollection", features: geometry ? [{ type: "Feature", properties: {}, geometry }] : [] };
  const source = state.map.getSource("split-preview");
  if (source) { source.setData(data); return; }
  state.map.addSource("split-preview", { type: "geojson", data });
  state.map.addLayer({ id: "split-preview-fill", type: "fill", source: "split-preview", paint: { "fill-color": "#0b63ce", "fill-opacity": 0.35 } });
  state.map.addLayer({ id: "split-preview-line", type: "line", source: "split-preview", paint: { "line-color": "#0b63ce", "line-width": 2.5 } });
}

/** Split a unit by the drawn line: list its pieces; one of them can be saved as a drawn new unit. */
async function onSplitLine(line) {
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

function onDrawChanged(geometry) {
  const target = drawTarget();
  if (target.kind === "split") {
    lastZoningGeometry = null;
    $("#zoning-save-form").hidden = true;
    onSplitLine(geometry);
    return;
  }
  if (target.kind) {
    lastZoningGeometry = geometry;
    lastPolygon = null;
    $("#draw-save-form").hidden = true;
    $("#draw-result").innerHTML = "";
    $("#zoning-save-form").hidden = !geometry;
    for (const label of document.querySelectorAll("#zoning-save-form [data-for]")) label.hidden = label.dataset.for !== target.kind;
    return;
  }
  $("#zoning-save-form").hidden = true;
  onPolygonChanged(geometry);
}

const ZONING_KINDS = ["industrial_clusters", "tourism_sites", "night_streets"];

/** The API's validation error of a zoning feature, said in the page's language from its context. */
function zoningErrorText(error, kind) {
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

function showZoningErrors(error, kind) {
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
async function refreshZoning(kind) {
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

async function saveZoningFeature() {
  const { kind, mode } = drawTarget();
  if (!kind || !lastZoningGeometry) return;
  const properties = { name: $("#zoning-name").value.trim() };
  if (kind === "industrial_clusters" && $("#zoning-status").value) properties.status = $("#zoning-status").value;
  if (kind === "tourism_sites" && $("#zoning-rank").value) properties.rank = $("#zoning-rank").value;
  if (kind === "night_streets" && $("#zoning-hours").value.trim()) properties.hours = $("#zoning-hours").value.trim();
  $("#zoning-errors").innerHTML = "";
  try {
    await api.addZoningFeatures(kind, { type: "Feature", geometry: lastZoningGeometry, properties },
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

async function importZoningFile() {
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

// ---- zoning indicators ----------------------------------------------------------------------

/** Per-unit zoning indicators (GET /api/indicators): fields with labels and units, rows by code. */
async function loadIndicators() {
  try {
    const body = await api.indicators();
    state.indicatorFields = body.fields || {};
    state.unitIndicators = new Map((body.data || []).map((row) => [String(row.code), row]));
  } catch (error) {
    state.unitIndicators = new Map();
  }
  renderIndicatorOptions();
  if (state.selectedCode && !$("#unit-info").hidden && !state.selectedZoning) showUnitInfo(state.selectedCode);
  if (state.indicator.startsWith("zoning:")) applyColours();
}

// The reassign answer carries the changed new units and totals; the units kept as they are and
// the parents that lose units come with the full evaluation, fetched once the clicks settle.
let arrangementTimer = null;
function refreshArrangement() {
  clearTimeout(arrangementTimer);
  arrangementTimer = setTimeout(async () => {
    const id = state.session.id;
    if (!id) return;
    let evaluation;
    try { evaluation = await api.evaluation(id); } catch (error) { return; }
    if (id !== state.session.id) return;
    state.session.applyArrangement(evaluation);
    state.panel.renderTotals(state.session);
  }, 500);
}

let scenarioIndicatorTimer = null;
function refreshScenarioIndicators() {
  clearTimeout(scenarioIndicatorTimer);
  scenarioIndicatorTimer = setTimeout(async () => {
    const id = state.session.id;
    if (!id) return;
    let body;
    try { body = await api.indicators(id); } catch (error) { return; }
    if (id !== state.session.id) return;
    state.session.indicators = new Map((body.data || []).map((row) => [String(row.id), row]));
    state.session.indicatorFields = body.fields || {};
    state.panel.renderAll(state.session);
  }, 300);
}

const COLOURING_FIELDS = ["industrial_cluster_share_pct", "industrial_cluster_count", "tourism_site_count", "night_street_length_km"];

function renderIndicatorOptions() {
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

// ---- zoning feature details ------------------------------------------------------------------

const ZONING_ATTRIBUTE_KEYS = ["name", "status", "area_ha", "occupancy_pct", "investor", "category", "rank", "ward", "hours", "geometry_note"];

async function showZoningInfo(kind, feature) {
  const el = $("#unit-info");
  if (state.selectedCode) setUnitState(state.selectedCode, { selected: false });
  state.selectedCode = null;
  const featureId = feature.properties.feature_id ?? feature.id;
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
  const source = populationField?.source_message ? tMessage(populationField.source_message)
    : (typeof populationField === "object" && populationField !== null
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
    ${(result.warning_messages || result.warnings || []).map((w) => `<p class="warn">⚠ ${escapeHtml(tMessage(w))}</p>`).join("")}`;
}

// ---- datasets: upload a units layer, read its import report, build a scenario on it ------------

let uploadedDataset = null;

async function openDatasets() {
  $("#dataset-report").hidden = true;
  $("#btn-dataset-scenario").hidden = true;
  $("#dataset-dialog").showModal();
  await renderDatasetList();
}

async function renderDatasetList() {
  const listing = await api.datasets();
  $("#dataset-list").innerHTML = listing.data.map((d) => `<li data-version="${escapeHtml(d.version)}">${escapeHtml(datasetLabel(d))}${
    d.version === listing.default ? ` <em>${escapeHtml(t("dataset.default"))}</em>` : ""}<br><small>${escapeHtml(t("dataset.source_of", { source: d.source }))}</small></li>`).join("");
}

/** The upload's refusal in the dialog itself (a toast would sit under the modal dialog). */
function errorText(error) {
  if (error instanceof ApiError && error.isNetwork) return t("network.unreachable");
  if (error instanceof ApiError && error.isAuth) return t("token.needed");
  return `${error.message || error}${error instanceof ApiError && error.hint ? ` — ${error.hint}` : ""}`;
}

async function uploadDataset() {
  const file = $("#dataset-file").files[0];
  const report = $("#dataset-report");
  report.hidden = false;
  report.classList.remove("error");
  $("#btn-dataset-scenario").hidden = true;
  if (!file) { report.textContent = t("dataset.no_file"); report.classList.add("error"); return; }
  report.textContent = t("dataset.uploading");
  $("#btn-dataset-upload").disabled = true;
  try {
    uploadedDataset = await api.uploadDataset(file, {
      name: $("#dataset-name").value.trim(), data_date: $("#dataset-date").value, source: $("#dataset-source").value.trim(),
    });
    report.innerHTML = importReportHtml(uploadedDataset);
    // A district or province layer names scopes, it is not a layer of communes to arrange.
    $("#btn-dataset-scenario").hidden = uploadedDataset.level !== "commune";
    await renderDatasetList();
  } catch (error) {
    report.classList.add("error");
    report.textContent = t("dataset.refused", { reason: errorText(error) });
  } finally {
    $("#btn-dataset-upload").disabled = false;
  }
}

// ---- compare & exports ----------------------------------------------------------------------

async function runCompare() {
  const idA = $("#compare-a").value;
  const idB = $("#compare-b").value;
  if (!idA || !idB) return;
  const [evalA, evalB] = await Promise.all([api.evaluation(idA), api.evaluation(idB)]);
  const nameOf = (id) => (state.scenarios.find((s) => s.id === id) || { name: id }).name;
  const result = compareEvaluations(evalA, evalB);
  $("#compare-result").innerHTML = comparisonHtml(result, nameOf(idA), nameOf(idB));
  // The map shows A, B or the difference (units that moved) while the compare tab is open.
  const colours = (evaluation) => {
    const byCode = new Map();
    (evaluation.new_units || []).forEach((nu, i) => {
      for (const code of nu.members || []) byCode.set(String(code), NEW_UNIT_COLOURS[i % NEW_UNIT_COLOURS.length]);
    });
    return byCode;
  };
  state.compare = { a: colours(evalA), b: colours(evalB), moved: new Set(result.moved.map((m) => m.code)) };
  $("#compare-view").hidden = false;
  debug.compare = { moved: result.moved.length, pairs: result.pairs.length, standardChanges: result.standardChanges.length };
  applyColours();
}

/** Colours of the compare view: A's or B's new units, or the moved units in red over the others in grey. */
function applyCompareColours() {
  const view = document.querySelector("input[name=compare-view]:checked").value;
  const { a, b, moved } = state.compare;
  for (const code of state.units.keys()) {
    let colour = null;
    if (view === "a") colour = a.get(code) || null;
    else if (view === "b") colour = b.get(code) || null;
    else if (moved.has(code)) colour = MOVED_COLOUR;
    else if (a.has(code) || b.has(code)) colour = SAME_COLOUR;
    setFill(code, colour);
  }
  for (const code of [...state.unassigned]) { state.unassigned.delete(code); setUnitState(code, { unassigned: false }); }
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

/** Download an export through fetch, so that a failure is reported instead of silently lost. */
async function downloadExport(link) {
  const url = link.getAttribute("href");
  link.classList.add("busy");
  try {
    let response;
    try {
      response = await fetch(url);
    } catch (error) {
      throw new ApiError(0, null);
    }
    if (!response.ok) {
      let body = null;
      try { body = await response.json(); } catch (error) { body = null; }
      throw new ApiError(response.status, body);
    }
    const blob = await response.blob();
    const disposition = response.headers.get("content-disposition") || "";
    const match = /filename\*=UTF-8''([^;]+)/i.exec(disposition) || /filename="?([^";]+)"?/i.exec(disposition);
    const anchor = document.createElement("a");
    anchor.href = URL.createObjectURL(blob);
    anchor.download = match ? decodeURIComponent(match[1]) : `export.${link.dataset.format.split("?")[0]}`;
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(anchor.href), 60_000);
    debug.lastDownload = { format: link.dataset.format, bytes: blob.size };
  } catch (error) {
    if (error instanceof ApiError && !error.isNetwork && !error.isAuth) {
      const hint = error.hint ? ` — ${error.hint}` : "";
      toast(`${t("export.failed")}: ${error.message}${hint}`, { error: true, action: { label: t("action.retry"), run: () => downloadExport(link) } });
    } else {
      showError(error, () => downloadExport(link));
    }
  } finally {
    link.classList.remove("busy");
  }
}

// ---- tabs, events -------------------------------------------------------------------------

function switchTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll(".tab")) button.classList.toggle("active", button.dataset.tab === tab);
  for (const pane of document.querySelectorAll(".pane")) pane.hidden = pane.dataset.pane !== tab;
  document.querySelector(".side").classList.toggle("wide", tab === "compare");
  if (state.map) setTimeout(() => state.map.resize(), 0);
  if (state.draw) { if (tab === "draw") state.draw.resume(); else state.draw.pause(); }
  if (state.compare && state.map) {
    // Leaving or entering the compare view: the whole map changes colours.
    state.fills.clear();
    for (const code of state.units.keys()) setUnitState(code, { fill: null });
    applyColours();
  }
}

function wireMapEvents(map) {
  map.on("click", (e) => {
    if (state.tab === "draw") return;
    debug.clickAt = e.originalEvent ? e.originalEvent.timeStamp : performance.now();
    if (mode() !== "assign") {
      // A zoning feature drawn over a unit answers the click with its own attributes.
      const layers = ZONING_KINDS.flatMap((kind) => [`${kind}-circle`, `${kind}-line`, `${kind}-fill`])
        .filter((id) => map.getLayer(id) && map.getLayoutProperty(id, "visibility") !== "none");
      const box = [[e.point.x - 4, e.point.y - 4], [e.point.x + 4, e.point.y + 4]];
      const zoning = layers.length ? map.queryRenderedFeatures(box, { layers }) : [];
      if (zoning.length) { showZoningInfo(zoning[0].layer.source, zoning[0]); return; }
    }
    const feature = map.queryRenderedFeatures(e.point, { layers: [UNITS_FILL] })[0];
    if (!feature) return;
    const code = String(feature.id ?? feature.properties.code);
    if (mode() === "assign") assignCodes([code]);
    else if (mode() !== "brush") showUnitInfo(code);
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

  // Shift-drag: box selection; in brush mode, a plain drag paints the units under a circle. Both
  // preview the units they will take (outlined) and, when the scenario has a scope, take only
  // units inside it; on release the previewed units go to the active new unit.
  const canvas = map.getCanvasContainer();
  const box = $("#box-select");
  const ring = $("#brush-ring");
  let gesture = null;   // {kind: "box" | "brush", start, codes: Set}
  const position = (event) => {
    const rect = canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };
  const brushRadius = () => Number($("#brush-size").value) || 20;
  const takeable = (features) => {
    const scenario = state.session.scenario;
    const scope = scenario && scenario.parent && scenario.parent.scope ? scopeCodes() : null;
    return features.map((f) => String(f.id ?? f.properties.code)).filter((code) => !scope || scope.has(code));
  };
  const setPreview = (codes) => {
    for (const code of gesture.codes) if (!codes.has(code)) setUnitState(code, { preview: false });
    for (const code of codes) if (!gesture.codes.has(code)) setUnitState(code, { preview: true });
    gesture.codes = codes;
    $("#hover-info").textContent = t("tools.preview", { n: codes.size });
    debug.previewCount = codes.size;
  };
  const onMove = (event) => {
    const p = position(event);
    if (gesture.kind === "box") {
      const s = gesture.start;
      Object.assign(box.style, { left: `${Math.min(s.x, p.x)}px`, top: `${Math.min(s.y, p.y)}px`,
        width: `${Math.abs(p.x - s.x)}px`, height: `${Math.abs(p.y - s.y)}px` });
      const features = map.queryRenderedFeatures([[Math.min(s.x, p.x), Math.min(s.y, p.y)], [Math.max(s.x, p.x), Math.max(s.y, p.y)]],
        { layers: [UNITS_FILL] });
      setPreview(new Set(takeable(features)));
    } else {
      const r = brushRadius();
      Object.assign(ring.style, { left: `${p.x - r}px`, top: `${p.y - r}px`, width: `${2 * r}px`, height: `${2 * r}px` });
      const features = map.queryRenderedFeatures([[p.x - r, p.y - r], [p.x + r, p.y + r]], { layers: [UNITS_FILL] });
      setPreview(new Set([...gesture.codes, ...takeable(features)]));
    }
  };
  const onUp = () => {
    document.removeEventListener("mousemove", onMove);
    document.removeEventListener("mouseup", onUp);
    box.hidden = true;
    ring.hidden = true;
    map.dragPan.enable();
    const codes = [...gesture.codes];
    for (const code of codes) setUnitState(code, { preview: false });
    gesture = null;
    $("#hover-info").textContent = "";
    if (codes.length) assignCodes(codes, { toggle: false });
  };
  canvas.addEventListener("mousedown", (event) => {
    if (event.button !== 0 || state.tab === "draw") return;
    const brush = mode() === "brush" && !event.shiftKey;
    if (!event.shiftKey && !brush) return;
    if (!state.activeId) { toast(t("newunit.choose_first"), { error: true }); return; }
    event.preventDefault();
    event.stopPropagation();
    map.dragPan.disable();
    gesture = { kind: brush ? "brush" : "box", start: position(event), codes: new Set() };
    if (brush) { ring.hidden = false; onMove(event); } else {
      Object.assign(box.style, { left: `${gesture.start.x}px`, top: `${gesture.start.y}px`, width: "0px", height: "0px" });
      box.hidden = false;
    }
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
  $("#btn-scenario-delete").addEventListener("click", () => guarded(deleteScenario));
  $("#settings-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(saveSettings); });
  $("#set-scope-province").addEventListener("change", () => renderScopeDistricts(new Set()));
  $("#set-flags-file").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (file) guarded(() => loadFlagsFile(file)).finally(() => { e.target.value = ""; });
  });
  $("#export-links").addEventListener("click", (e) => {
    const link = e.target.closest("a[data-format]");
    if (!link) return;
    e.preventDefault();
    downloadExport(link);
  });
  $("#btn-panel").addEventListener("click", () => {
    document.body.classList.toggle("panel-open");
    if (state.map) setTimeout(() => state.map.resize(), 250);
  });
  $("#basemap-toggle").addEventListener("change", (e) => {
    if (state.map && state.map.getLayer("basemap")) state.map.setLayoutProperty("basemap", "visibility", e.target.checked ? "visible" : "none");
  });
  $("#btn-scenario-new").addEventListener("click", () => guarded(() => createScenario()));
  $("#ns-dataset").addEventListener("change", () => guarded(() => fillScopeChoices($("#ns-dataset").value)));
  $("#btn-datasets").addEventListener("click", () => guarded(openDatasets));
  $("#dataset-form").addEventListener("submit", (e) => { e.preventDefault(); uploadDataset(); });
  $("#btn-dataset-close").addEventListener("click", () => $("#dataset-dialog").close());
  $("#btn-dataset-scenario").addEventListener("click", () => {
    $("#dataset-dialog").close();
    guarded(() => createScenario(uploadedDataset.version));
  });
  $("#ns-district").addEventListener("change", () => {
    const district = $("#ns-district").value.split("|")[1];
    if (district) $("#ns-name").value = t("newscenario.default_name", { district });
  });
  $("#new-scenario-dialog").addEventListener("close", () => {
    if ($("#new-scenario-dialog").returnValue === "ok") guarded(submitNewScenario);
  });
  $("#btn-scenario-rename").addEventListener("click", () => guarded(renameScenario));
  $("#btn-scenario-copy").addEventListener("click", () => guarded(copyScenario));
  $("#btn-scenario-suggest").addEventListener("click", () => guarded(suggestScenarios));
  $("#btn-token").addEventListener("click", askToken);
  $("#indicator-select").addEventListener("change", (e) => { state.indicator = e.target.value; applyColours(); });
  for (const input of document.querySelectorAll("[data-zoning]")) {
    input.addEventListener("change", () => setZoningVisible(state.map, input.dataset.zoning, input.checked));
  }
  $("#btn-undo").addEventListener("click", () => guarded(() => state.session.undo()));
  $("#btn-redo").addEventListener("click", () => guarded(() => state.session.redo()));
  document.addEventListener("keydown", (e) => {
    if (e.target.matches("input, textarea, select")) return;
    if (state.tab === "draw" && state.draw && state.draw.handleKey(e)) { e.preventDefault(); return; }
    if (!(e.ctrlKey || e.metaKey)) return;
    if (e.key === "z" && !e.shiftKey) { e.preventDefault(); guarded(() => state.session.undo()); }
    if (e.key === "y" || (e.key === "z" && e.shiftKey)) { e.preventDefault(); guarded(() => state.session.redo()); }
  });
  $("#new-unit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!state.session.id) { toast(t("scenario.none"), { error: true }); return; }
    const name = $("#new-unit-name").value.trim();
    if (refuseDuplicate(name)) return;
    const id = await guarded(() => state.session.addNewUnit({ name, kind: $("#new-unit-kind").value }));
    if (id) {
      $("#new-unit-name").value = "";
      setActive(id);
      setMode("assign");
      renderLegend();
    }
  });
  $("#search-input").addEventListener("input", renderSearch);
  $("#unit-info").addEventListener("click", (e) => {
    const button = e.target.closest("[data-unit-action]");
    if (button) guarded(() => onUnitAction(button.dataset.unitAction, button.dataset.code));
  });
  $("#scope-counter").addEventListener("click", (e) => {
    if (e.target.closest("#btn-fill-unassigned")) guarded(fillUnassigned);
  });
  $("#search-results").addEventListener("click", (e) => {
    const button = e.target.closest("[data-action]");
    const item = e.target.closest("[data-code]");
    if (!button || !item) return;
    const code = item.dataset.code;
    flyToUnit(code);
    if (button.dataset.action === "assign") assignCodes([code], { toggle: false });
    else if (button.dataset.action === "ward" || button.dataset.action === "commune") {
      guarded(() => makeOwnUnit(code, button.dataset.action)).then(() => renderSearch());
    } else showUnitInfo(code);
  });
  $("#btn-draw-start").addEventListener("click", () => {
    $("#zoning-errors").innerHTML = "";
    state.draw.start(drawTarget().mode);
  });
  $("#draw-target").addEventListener("change", () => {
    state.draw.clear();
    $("#zoning-errors").innerHTML = "";
    if (state.map.getSource("split-preview")) showSplitPreview(null);
  });
  $("#draw-result").addEventListener("click", (e) => {
    const button = e.target.closest("[data-piece]");
    if (!button || !state.splitPieces) return;
    // The chosen piece becomes the boundary to save as a new unit (it takes that part of the unit).
    lastPolygon = state.splitPieces[Number(button.dataset.piece)].geometry;
    showSplitPreview(lastPolygon);
    $("#draw-save-form").hidden = false;
    $("#draw-save-name").focus();
  });
  $("#zoning-save-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(saveZoningFeature); });
  $("#zoning-import-form").addEventListener("submit", (e) => e.preventDefault());
  $("#zoning-import-file").addEventListener("change", () => guarded(importZoningFile));
  $("#btn-draw-clear").addEventListener("click", () => state.draw.clear());
  $("#draw-save-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!lastPolygon || !state.session.id) return;
    if (refuseDuplicate($("#draw-save-name").value.trim())) return;
    const id = await guarded(() => state.session.addNewUnit({
      name: $("#draw-save-name").value.trim(), kind: $("#draw-save-kind").value, geometry: lastPolygon,
    }));
    if (id) {
      toast(t("draw.saved"));
      $("#draw-save-name").value = "";
      state.draw.clear();
      if (state.map.getSource("split-preview")) showSplitPreview(null);
    }
  });
  $("#btn-compare").addEventListener("click", () => guarded(runCompare));
  for (const input of document.querySelectorAll("input[name=compare-view]")) input.addEventListener("change", () => applyColours());
}

// ---- start ----------------------------------------------------------------------------------

/** The map's attribution line: the unit layer's file, licence and population year (and the basemap's). */
function attributionHtml(attribution, basemapUrl) {
  const parts = [];
  if (attribution) {
    parts.push(`${escapeHtml(t("attribution.data"))}: ${escapeHtml(attribution.source || "–")}`);
    parts.push(attribution.licence ? `${escapeHtml(t("attribution.licence"))}: ${escapeHtml(attribution.licence)}`
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

function setLoading(message, { error = false, retry = null } = {}) {
  const el = $("#loading");
  if (message === null) { el.hidden = true; return; }
  el.hidden = false;
  el.classList.toggle("error", error);
  $("#loading-text").textContent = message;
  const button = $("#loading-retry");
  button.hidden = !retry;
  button.onclick = retry;
}

async function startMap() {
  setLoading(t("loading.map"));
  // Everything the first picture needs is asked for at once: the scenario too, so that the map
  // opens on it (tiles are loaded once, at the right zoom).
  const unitsPromise = loadUnits();
  const outlinesPromise = api.outlines().catch(() => null);
  const zoningKinds = ["industrial_clusters", "tourism_sites", "night_streets"];
  const zoningPromise = Promise.all(zoningKinds.map((kind) => api.tileJson(kind).catch(() => null)));
  const zoningCountsPromise = api.layers().catch(() => []);
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
  // The outlines (dissolved on the server, slow the first time) do not hold up the first picture.
  const [health, unitsTileJson, opened] = await Promise.all([
    api.health().catch(() => ({})), api.tileJson("units"), openPromise.catch((error) => {
      showError(error);
      return { wanted: null, outlines: null };
    }),
  ]);
  state.unitsVersion = health.units_version || null;
  debug.unitsVersion = state.unitsVersion;
  state.densityLegend = unitsTileJson.legend && unitsTileJson.legend.property === "density_per_km2" ? unitsTileJson.legend : null;
  const basemapUrl = health.basemap_url || (health.basemap && health.basemap.url) || null;
  state.basemapUrl = basemapUrl;
  $("#basemap-note").hidden = Boolean(basemapUrl);
  $("#basemap-note").title = t("map.no_basemap_title");
  $("#basemap-control").hidden = !basemapUrl;
  state.labelPoints = new Map();
  const hasContent = state.session.scenario && state.session.scenario.new_units.some((nu) => nu.members.length || nu.geometry);
  const b = (hasContent && opened.outlines && opened.outlines.bounds) || unitsTileJson.bounds;
  if (state.map) state.map.remove();
  const map = createMap("map", {
    basemapUrl, bounds: b ? [[b[0], b[1]], [b[2], b[3]]] : null, padding: mapPadding(),
  });
  state.map = map;
  debug.map = map;
  debug.padding = mapPadding();
  const fontsPromise = loadLabelFonts();

  map.on("load", async () => {
    state.sourceLayer = addUnits(map, unitsTileJson);
    map.once("idle", () => { debug.timings.firstPaintMs = performance.now(); });
    const outlinesAdded = Promise.all([outlinesPromise, fontsPromise]).then(([adminOutlines]) => {
      if (state.map !== map) return;
      state.defaultAttribution = adminOutlines && adminOutlines.attribution;
      state.attributionControl = null;
      showAttribution(state.defaultAttribution);
      if (!adminOutlines) return;
      for (const feature of adminOutlines.features || []) {
        if (feature.properties.level === "unit") state.labelPoints.set(String(feature.properties.code), feature.geometry.coordinates);
      }
      addOutlines(map, adminOutlines);
      refreshNewUnitLabels();
    });
    const zoning = await zoningPromise;
    const counts = new Map((await zoningCountsPromise).map((layer) => [layer.kind, layer.feature_count]));
    zoningKinds.forEach((kind, i) => {
      const input = document.querySelector(`[data-zoning=${kind}]`);
      const label = input.closest("label");
      const empty = counts.get(kind) === 0;
      label.classList.toggle("empty", empty);
      label.title = empty ? t("zoning.empty") : "";
      if (zoning[i]) { addZoning(map, kind, zoning[i]); return; }
      input.disabled = true;
      label.classList.add("muted");
    });
    state.draw = new DrawTool(map, {
      snapLayers: [UNITS_FILL], onChange: (geometry) => onDrawChanged(geometry),
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
    try {
      await unitsPromise;
    } catch (error) {
      showError(error, () => location.reload());
    }
    applyColours();
    refreshNewUnitLabels();
    loadIndicators();
    applyLabels(document);
    map.once("idle", () => {
      debug.timings.readyMs = performance.now();
      setLoading(null);
    });
    map.triggerRepaint();
    // Ready for tests: figures, colours, outlines and labels in place.
    await outlinesAdded;
    // A scenario built on another units dataset: the map shows that one.
    await guarded(showScenarioDataset);
    map.once("idle", () => { debug.ready = true; });
    map.triggerRepaint();
  });
}

/** Room for the map controls when fitting the map to something (less on a phone). */
function mapPadding() {
  return window.innerWidth < 700 ? { top: 30, bottom: 30, left: 20, right: 20 } : MAP_PADDING;
}

async function main() {
  adoptTokenFromUrl();  // first: the login URL's token leaves the address bar before anything else runs
  await loadLanguage();
  const archiveUrl = pmtilesUrlFromPage();
  if (archiveUrl) {  // ?pmtiles=URL: a static archive, read-only, no API (web/pmtiles-source.js)
    const { map } = await openArchive(archiveUrl);
    debug.map = map;
    map.once("idle", () => { debug.ready = true; });
    return;
  }
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
  const start = async () => {
    try {
      await startMap();
    } catch (error) {
      const unreachable = error instanceof ApiError && error.isNetwork;
      setLoading(unreachable ? t("network.unreachable") : `${t("loading.failed")}: ${error.message || error}`,
        { error: true, retry: start });
      debug.errors.push(String(error && error.message));
    }
  };
  await start();
}

main().catch((error) => { showError(error); debug.fatal = String(error); });
