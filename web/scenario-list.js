// The scenario picker: list, open (on the units dataset it is built on), the map's data attribution.

import { api } from "./api.js";
import {
  loadScenarioOutlines, refreshNewUnitLabels, refreshScenarioOutlines, refreshUndoButtons,
} from "./assigning.js";
import { applyColours, colourOfNewUnit, scopeCodes } from "./colouring.js";
import { renderExports } from "./exports-ui.js";
import { t } from "./i18n.js";
import { attributionHtml, replaceUnits, setAdminVisible, setDrawnUnitColours } from "./map.js";
import { hideToast } from "./messages.js";
import { renderSettings } from "./settings-form.js";
import { $, debug, mapPadding, SCENARIO_KEY, state } from "./state.js";
import { escapeHtml } from "./text.js";
import { loadUnits, renderScopeCounter } from "./units.js";
import { refreshScenarioIndicators } from "./zoning.js";

export async function refreshScenarioList(selectedId) {
  state.scenarios = (await api.listScenarios()).data;
  const options = state.scenarios.map((s) => `<option value="${escapeHtml(s.id)}">${escapeHtml(s.name)}</option>`).join("");
  $("#scenario-select").innerHTML = options || `<option value="">${escapeHtml(t("scenario.none"))}</option>`;
  $("#compare-a").innerHTML = options;
  $("#compare-b").innerHTML = options;
  if (selectedId) $("#scenario-select").value = selectedId;
  if (state.scenarios.length > 1) $("#compare-b").selectedIndex = 1;
}

export async function openScenario(id) {
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
export async function datasetAttribution(version) {
  const dataset = await api.dataset(version);
  const years = new Map();
  for (const unit of state.units.values()) {
    if (unit.population_year) years.set(unit.population_year, (years.get(unit.population_year) || 0) + 1);
  }
  const year = [...years.entries()].sort((a, b) => b[1] - a[1])[0];
  return { source: dataset.name, licence: null, population_year: year ? year[0] : null };
}

/** The attribution control with the data line of the units shown (and the basemap's host). */
export async function showAttribution(attribution) {
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
export async function showScenarioDataset() {
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

export function onScenarioOpened() {
  hideToast();
  const ids = new Set(state.session.scenario.new_units.map((nu) => nu.id));
  if (!ids.has(state.activeId)) state.activeId = state.session.scenario.new_units.length ? state.session.scenario.new_units[0].id : null;
  state.panel.activeId = state.activeId;
  state.panel.renderAll(state.session);
  state.scopeSignature = [...scopeCodes()].sort().join(";");
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
