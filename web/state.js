// The page's shared state (map, session, units, colours, tab…), the ?debug=1 test hook and small helpers
// every module uses. One object, imported by the modules that read or change it.

import { ScenarioSession } from "./scenario.js";

export const $ = (selector) => document.querySelector(selector);
export const SCENARIO_KEY = "diagioi.scenario";
// Room for the legend box at the top right when fitting the map to something.
export const MAP_PADDING = { top: 40, bottom: 40, left: 50, right: 280 };

// Exposed for the browser tests and the benchmark only when the page is opened with ?debug=1:
// timings and handles, no behaviour.
export const debug = { ready: false, timings: {}, errors: [] };
if (new URLSearchParams(window.location.search).has("debug")) window.__diagioi = debug;

export const state = {
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
  scopeSignature: "",        // the scope's unit codes, to tell an edit that changed the scope
  lastPolygon: null,         // the drawn (or split) boundary the draw panel shows
  lastZoningGeometry: null,  // the drawn zoning feature not yet saved
};
debug.state = state;

/** Room for the map controls when fitting the map to something (less on a phone). */
export function mapPadding() {
  return window.innerWidth < 700 ? { top: 30, bottom: 30, left: 20, right: 20 } : MAP_PADDING;
}
