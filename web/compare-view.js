// Tab "So sánh": two plans side by side and the map's difference view (moved units in red).

import { api } from "./api.js";
import { applyColours, MOVED_COLOUR, SAME_COLOUR, setFill, setUnitState } from "./colouring.js";
import { compareEvaluations, comparisonHtml } from "./compare.js";
import { NEW_UNIT_COLOURS } from "./map.js";
import { $, debug, state } from "./state.js";

export async function runCompare() {
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
    evaluation.new_units.forEach((nu, i) => {
      for (const code of nu.members) byCode.set(String(code), NEW_UNIT_COLOURS[i % NEW_UNIT_COLOURS.length]);
    });
    return byCode;
  };
  state.compare = { a: colours(evalA), b: colours(evalB), moved: new Set(result.moved.map((m) => m.code)) };
  $("#compare-view").hidden = false;
  debug.compare = { moved: result.moved.length, pairs: result.pairs.length, standardChanges: result.standardChanges.length };
  applyColours();
}

/** Colours of the compare view: A's or B's new units, or the moved units in red over the others in grey. */
export function applyCompareColours() {
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
