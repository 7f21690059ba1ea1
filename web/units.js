// The units index (figures per unit from GET /api/units, for popups, search and colours), the unit card and
// its actions (own ward/commune, assign, assign a district), "gán phần chưa gán" and the scope counter.

import { api } from "./api.js";
import { assignCodes, setActive } from "./assigning.js";
import { applyColours, scopeCodes, setUnitState } from "./colouring.js";
import { formatNumber, t, tOptional } from "./i18n.js";
import { toast } from "./messages.js";
import { indicatorRowsHtml } from "./panel.js";
import { refuseDuplicate } from "./scenario-actions.js";
import { $, debug, state } from "./state.js";
import { escapeHtml, fold } from "./text.js";

export const toNumber = (v) => (v === null || v === undefined || v === "" ? null : Number(v));

export async function loadUnits(dataset = undefined) {
  const collection = await api.units(dataset);
  state.units.clear();
  for (const feature of collection.features) {
    const p = feature.properties;
    const code = p.code;
    const population = toNumber(p.population);
    const official = toNumber(p.official_area_km2);
    const computed = toNumber(p.area_km2);
    const density = toNumber(p.density);   // người/km², on the area the standards use (GET /api/units)
    state.units.set(code, {
      ...p, code, population, official_area_km2: official, area_km2: computed, density,
      bbox: feature.bbox, folded: fold(`${p.name || ""}`), foldedFull: fold(`${p.name || ""} ${p.district || ""}`),
    });
  }
  state.unitsLoaded = true;
  applyColours();
}

export function showUnitInfo(code) {
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
export function unitActionsHtml(unit) {
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

export async function onUnitAction(action, code) {
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
export async function makeOwnUnit(code, kind) {
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
export async function fillUnassigned() {
  if (!state.activeId) { toast(t("newunit.choose_first"), { error: true }); return; }
  const codes = [...scopeCodes()].filter((code) => !state.session.assignment.has(code));
  if (!codes.length) { toast(t("tools.nothing_unassigned")); return; }
  await assignCodes(codes, { toggle: false });
}

/** Live count of the scope: units and population taken, kept as they are, annexed from outside. */
export function renderScopeCounter() {
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
