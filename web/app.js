// Entry point: the map setup (units, outlines, zoning, the open scenario at once) and start-up. The
// modules beside it hold the rest (state, messages, colouring, units, assigning, scenario list and actions,
// settings form, search, drawing, zoning, uploads, compare, exports, events). No build step.

import { adoptTokenFromUrl, api, ApiError } from "./api.js";
import { afterReassign, refreshNewUnitLabels, refreshUndoButtons } from "./assigning.js";
import { applyColours, colourOfNewUnit } from "./colouring.js";
import { DrawTool } from "./draw.js";
import { onDrawChanged } from "./drawing.js";
import { wireMapEvents, wireUi } from "./events.js";
import { renderExports } from "./exports-ui.js";
import { applyLabels, loadLanguage, t } from "./i18n.js";
import { addOutlines, addUnits, addZoning, createMap, loadLabelFonts, setScenarioOutlines, UNITS_FILL } from "./map.js";
import { guarded, setLoading, showError } from "./messages.js";
import { Panel } from "./panel.js";
import { openArchive, pmtilesUrlFromPage } from "./pmtiles-source.js";
import { onPanelAction } from "./scenario-actions.js";
import { onScenarioOpened, refreshScenarioList, showAttribution, showScenarioDataset } from "./scenario-list.js";
import { $, debug, mapPadding, SCENARIO_KEY, state } from "./state.js";
import { loadUnits } from "./units.js";
import { loadIndicators } from "./zoning.js";

export async function startMap() {
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
  const basemapUrl = health.basemap_url || null;   // null too when /api/health did not answer
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
      for (const feature of adminOutlines.features) {
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

export async function main() {
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
