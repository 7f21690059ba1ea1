// Colours of the map: new units, unassigned units of the scope, "Tô màu theo" indicators and the legend.

import { applyCompareColours } from "./compare-view.js";
import { formatNumber, lang, t } from "./i18n.js";
import { classesFor, NEW_UNIT_COLOURS, UNASSIGNED_COLOUR, UNITS_SOURCE } from "./map.js";
import { unitsInScope } from "./settings.js";
import { $, state } from "./state.js";
import { escapeHtml } from "./text.js";

export function colourOfNewUnit(newUnitId) {
  const list = state.session.scenario ? state.session.scenario.new_units : [];
  const index = list.findIndex((nu) => nu.id === newUnitId);
  return index < 0 ? "#999999" : NEW_UNIT_COLOURS[index % NEW_UNIT_COLOURS.length];
}

export function setUnitState(code, patch) {
  if (!state.sourceLayer) return;
  state.map.setFeatureState({ source: UNITS_SOURCE, sourceLayer: state.sourceLayer, id: code }, patch);
}

export function setFill(code, colour) {
  if ((state.fills.get(code) ?? null) === colour) return;
  if (colour === null) state.fills.delete(code); else state.fills.set(code, colour);
  setUnitState(code, { fill: colour });
}

/**
 * Codes of the units in the scenario's scope: the parent's scope when set, else the districts the
 * scenario touches. Those no new unit has taken stay as they are ("giữ nguyên").
 */
export function scopeCodes() {
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

export function indicatorValue(code, unit) {
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

export const MOVED_COLOUR = "#d7301f";
export const SAME_COLOUR = "#bdbdbd";

/** Recolour every unit (codes = null) or only the given ones; then the legend. */
export function applyColours(codes = null) {
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

export function renderLegend() {
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
