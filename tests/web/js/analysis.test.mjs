// The draw panel's figures of a drawn polygon (web/analysis.js) read the documented answer of
// POST /api/analysis/polygon (PolygonAnalysisResult) and nothing else.
import test from "node:test";
import assert from "node:assert/strict";
import { analysisHtml } from "../../../web/analysis.js";

const answer = {
  area_km2: 2.2935, density: 1969.9,
  population: { value: 4518, method: "raster_rescaled_to_units", source: "population.tif", is_estimate: true,
    source_message: null, note: "", note_message: null },
  units: [{ code: "90001", name: "Kim An", kind: "ward", share_of_unit_pct: 27.16, share_of_polygon_pct: 99.99, area_km2: 2.2934 },
    { code: "90023", name: "Đức <Hiệp>", kind: "commune", share_of_unit_pct: null, share_of_polygon_pct: 0.002, area_km2: 0.00005 }],
  indicators: { industrial_cluster_count: 2, night_street_length_km: 1.25, source: "lớp quy hoạch" },
  warnings: ["vùng vẽ nhỏ"], warning_messages: [{ code: "analysis.small_area", params: { area_km2: 2.29 } }],
};

test("area, estimated population, density and the source are shown", () => {
  const html = analysisHtml(answer);
  assert.match(html, /<span id="draw-area">2[.,]29<\/span> km²/);
  assert.ok(html.includes("4") && html.includes("518"), "population value");
  assert.ok(html.includes("population.tif"), "population source");
});

test("every cut unit is a row with its shares; a missing share is a dash; names are escaped", () => {
  const html = analysisHtml(answer);
  assert.equal((html.match(/<tr><td>/g) || []).length, 2);
  assert.ok(html.includes("Đức &lt;Hiệp&gt;") && !html.includes("<Hiệp>"));
  assert.match(html, /<td class="num">–<\/td>/);
});

test("zoning indicators are rows (their source a note, not a row) and warnings come from the typed messages", () => {
  const html = analysisHtml(answer);
  assert.ok(html.includes("industrial_cluster_count") && html.includes("night_street_length_km"));   // label, or the field name
  // area, population, density, the header of the cut units, the two indicators (not their source)
  assert.equal((html.match(/<tr><th>/g) || []).length, 3 + 1 + 2);
  assert.ok(html.includes("lớp quy hoạch"));
  assert.ok(html.includes("analysis.small_area") && !html.includes("vùng vẽ nhỏ"));
});
