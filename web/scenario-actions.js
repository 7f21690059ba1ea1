// Scenario actions: new (dataset, scope, regime), rename, copy, delete/restore, suggested plans, and the
// new-unit card actions of the panel.

import { api } from "./api.js";
import { refreshNewUnitLabels, refreshUndoButtons, setActive, setMode } from "./assigning.js";
import { applyColours, scopeCodes } from "./colouring.js";
import { runCompare } from "./compare-view.js";
import { datasetLabel } from "./datasets.js";
import { switchTab } from "./events.js";
import { renderExports } from "./exports-ui.js";
import { formatNumber, t } from "./i18n.js";
import { clearScenarioOutlines } from "./map.js";
import { guarded, toast } from "./messages.js";
import { openScenario, refreshScenarioList } from "./scenario-list.js";
import { duplicateName } from "./scenario.js";
import { renderSettings } from "./settings-form.js";
import { parentKindOf, scopeOptions } from "./settings.js";
import { $, mapPadding, SCENARIO_KEY, state } from "./state.js";
import { escapeHtml } from "./text.js";

/** No scenario left (the last one was deleted): empty panel, plain map. */
export function closeScenario() {
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

export async function deleteScenario() {
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
    const restored = (await api.createScenario(body));
    await refreshScenarioList(restored.id);
    await openScenario(restored.id);
    toast(t("scenario.restored", { name }));
  }) } });
}

/**
 * "Mới": a dialog with the units dataset (the one the map shows, or another stored one), the scope (a
 * district of that dataset), name, regime and mountainous flag.
 */
export async function createScenario(dataset = state.unitsVersion) {
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
export async function fillScopeChoices(dataset) {
  const units = dataset === state.unitsVersion ? [...state.units.values()]
    : ((await api.units(dataset)).features).map((feature) => feature.properties);
  const options = scopeOptions(units);
  $("#ns-district").innerHTML = `<option value="">${escapeHtml(t("newscenario.no_scope"))}</option>${options.map((o) =>
    `<optgroup label="${escapeHtml(o.province)}">${o.districts.map((d) =>
      `<option value="${escapeHtml(`${o.province}|${d}`)}">${escapeHtml(d)}</option>`).join("")}</optgroup>`).join("")}`;
}

export async function submitNewScenario() {
  const name = $("#ns-name").value.trim();
  if (!name) return;
  const [province, district] = $("#ns-district").value ? $("#ns-district").value.split("|") : [null, null];
  const body = { name, regime: $("#ns-regime").value, new_units: [], dataset: $("#ns-dataset").value };
  if (district) {
    body.parent = { name: district, kind: parentKindOf(district), scope: { provinces: [province], districts: [district] } };
  }
  if ($("#ns-mountainous").checked) body.context = { mountainous: true };
  const created = (await api.createScenario(body));
  await refreshScenarioList(created.id);
  await openScenario(created.id);
  const codes = district ? [...state.units.values()].filter((u) => u.province === province && u.district === district) : [];
  const box = boundsOfCodes(codes.map((u) => u.code));
  if (box && state.map) state.map.fitBounds(box, { padding: mapPadding(), maxZoom: 13, duration: 0 });
}

export function boundsOfCodes(codes) {
  let box = null;
  for (const code of codes) {
    const b = (state.units.get(code) || {}).bbox;
    if (!b) continue;
    box = box ? [Math.min(box[0], b[0]), Math.min(box[1], b[1]), Math.max(box[2], b[2]), Math.max(box[3], b[3])] : [...b];
  }
  return box ? [[box[0], box[1]], [box[2], box[3]]] : null;
}

export async function renameScenario() {
  if (!state.session.id) return;
  const name = window.prompt(t("scenario.prompt_name"), state.session.scenario.name);
  if (!name) return;
  await state.session.save((body) => { body.name = name; });
  await refreshScenarioList(state.session.id);
}

export async function copyScenario() {
  if (!state.session.id) return;
  const name = window.prompt(t("scenario.prompt_name"), `${state.session.scenario.name} (${t("scenario.copy_suffix")})`);
  if (!name) return;
  const created = (await api.createScenario(state.session.body({ name })));
  await refreshScenarioList(created.id);
  await openScenario(created.id);
}

/** True (and says so) when another new unit already has this name. */
export function refuseDuplicate(name, exceptId = null) {
  const other = duplicateName(state.session.scenario, name, exceptId);
  if (other) toast(t("newunit.duplicate", { name: other.name }), { error: true });
  return Boolean(other);
}

// Gợi ý phương án: the server proposes whole plans for the open scenario's scope (its parent scope,
// else its member units) and stores them as new scenarios; the first opens and the two are compared.
export async function suggestScenarios() {
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

export async function onPanelAction(action, newUnitId, value) {
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
