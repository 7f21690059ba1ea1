// Wiring: tabs, map events (click, hover, box select, brush) and every control of the page.

import { assignCodes, mode, setActive, setMode } from "./assigning.js";
import { applyColours, renderLegend, scopeCodes, setUnitState } from "./colouring.js";
import { runCompare } from "./compare-view.js";
import { drawTarget, importZoningFile, saveZoningFeature, showSplitPreview, ZONING_KINDS } from "./drawing.js";
import { downloadExport, renderExports } from "./exports-ui.js";
import { lang, loadLanguage, t } from "./i18n.js";
import { setZoningVisible, UNITS_FILL } from "./map.js";
import { askToken, guarded, toast } from "./messages.js";
import {
  copyScenario, createScenario, deleteScenario, fillScopeChoices, refuseDuplicate, renameScenario, submitNewScenario,
  suggestScenarios,
} from "./scenario-actions.js";
import { openScenario } from "./scenario-list.js";
import { flyToUnit, renderSearch } from "./search.js";
import { loadFlagsFile, renderScopeDistricts, saveSettings } from "./settings-form.js";
import { $, debug, state } from "./state.js";
import { fillUnassigned, makeOwnUnit, onUnitAction, showUnitInfo } from "./units.js";
import { openDatasets, uploadDataset, uploadedDataset } from "./uploads.js";
import { showZoningInfo } from "./zoning.js";

export function switchTab(tab) {
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

export function wireMapEvents(map) {
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
    const code = String(feature.id);
    if (mode() === "assign") assignCodes([code]);
    else if (mode() !== "brush") showUnitInfo(code);
  });
  map.on("mousemove", UNITS_FILL, (e) => {
    const feature = e.features && e.features[0];
    const code = feature ? String(feature.id) : null;
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
    return features.map((f) => String(f.id)).filter((code) => !scope || scope.has(code));
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

/**
 * A button that opens and closes a panel by a class on its container (the phone's top-bar menu, the map's
 * legend). Escape or a click elsewhere closes it; so does choosing an action from the top-bar menu.
 */
function wireDisclosure(button, container, openClass, { closeOnAction = false } = {}) {
  const setOpen = (open) => {
    container.classList.toggle(openClass, open);
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", (e) => {
    e.stopPropagation();
    setOpen(!container.classList.contains(openClass));
  });
  document.addEventListener("click", (e) => {
    if (container.classList.contains(openClass) && !container.contains(e.target)) setOpen(false);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && container.classList.contains(openClass)) { setOpen(false); button.focus(); }
  });
  if (closeOnAction) {
    const menu = $(`#${button.getAttribute("aria-controls")}`);
    menu.addEventListener("click", (e) => { if (e.target.closest("button")) setOpen(false); });
    menu.addEventListener("change", () => setOpen(false));
  }
}

export function wireUi() {
  wireDisclosure($("#btn-topbar-menu"), $("#topbar"), "menu-open", { closeOnAction: true });
  wireDisclosure($("#btn-map-legend"), $("#map-controls"), "open");
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
    state.lastPolygon = state.splitPieces[Number(button.dataset.piece)].geometry;
    showSplitPreview(state.lastPolygon);
    $("#draw-save-form").hidden = false;
    $("#draw-save-name").focus();
  });
  $("#zoning-save-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(saveZoningFeature); });
  $("#zoning-import-form").addEventListener("submit", (e) => e.preventDefault());
  $("#zoning-import-file").addEventListener("change", () => guarded(importZoningFile));
  $("#btn-draw-clear").addEventListener("click", () => state.draw.clear());
  $("#draw-save-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!state.lastPolygon || !state.session.id) return;
    if (refuseDuplicate($("#draw-save-name").value.trim())) return;
    const id = await guarded(() => state.session.addNewUnit({
      name: $("#draw-save-name").value.trim(), kind: $("#draw-save-kind").value, geometry: state.lastPolygon,
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
