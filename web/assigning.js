// Assigning units to new units: the tool mode, the active new unit, reassign requests and what follows them
// (labels, outlines, undo buttons).

import { api } from "./api.js";
import { applyColours, scopeCodes } from "./colouring.js";
import { t } from "./i18n.js";
import { bboxOf, groupLabelPoint, setNewUnitLabels, setScenarioOutlines } from "./map.js";
import { guarded, toast } from "./messages.js";
import { $, debug, MAP_PADDING, state } from "./state.js";
import { renderScopeCounter, showUnitInfo } from "./units.js";
import { refreshArrangement, refreshScenarioIndicators } from "./zoning.js";

export function mode() { return document.querySelector("input[name=mode]:checked").value; }
export function setMode(value) { document.querySelector(`input[name=mode][value=${value}]`).checked = true; }

export function setActive(newUnitId) {
  state.activeId = newUnitId;
  state.panel.setActive(state.session, newUnitId);
  renderScopeCounter();
  if (state.selectedCode && !$("#unit-info").hidden) showUnitInfo(state.selectedCode);
}

export async function assignCodes(codes, { toggle = true } = {}) {
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

export function afterReassign({ changedIds, codes }) {
  const renderStarted = performance.now();
  state.panel.update(state.session, changedIds);
  if (state.indicator === "scenario") {
    // The scope (districts touched) can change with one click: recolour all units then.
    const before = state.scopeSignature;
    state.scopeSignature = [...scopeCodes()].sort().join(";");
    applyColours(before === state.scopeSignature ? new Set(codes) : null);
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

/** Labels of the new units at a member's label point near the middle of the group. */
export function refreshNewUnitLabels() {
  if (!state.map) return;
  const scenario = state.session.scenario;
  const labels = (scenario ? scenario.new_units : []).map((nu) => ({
    name: nu.name,
    point: groupLabelPoint(nu.members.map((code) => state.labelPoints.get(code))) || drawnLabelPoint(nu.geometry),
  }));
  setNewUnitLabels(state.map, labels);
}

export function drawnLabelPoint(geometry) {
  const box = geometry ? bboxOf(geometry) : null;
  return box ? [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2] : null;
}

export function refreshUndoButtons() {
  $("#btn-undo").disabled = !state.session.undoStack.length;
  $("#btn-redo").disabled = !state.session.redoStack.length;
}

export let outlineTimer = null;
export function refreshScenarioOutlines() {
  if (!state.session.id || !state.map || !state.sourceLayer) return;
  clearTimeout(outlineTimer);
  // Outlines are a nicety; the colours already moved. Wait until clicks settle, then take the
  // TileJSON again: its tile URLs carry the new scenario version.
  outlineTimer = setTimeout(() => loadScenarioOutlines({ fit: false }), 400);
}

export async function loadScenarioOutlines({ fit }) {
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
