// Pure helpers of web/map.js: new-unit colours, classes of "Tô màu theo", label placement.
import test from "node:test";
import assert from "node:assert/strict";
import {
  classesFor, colourDistance, groupLabelPoint, NEW_UNIT_COLOURS, OUTSIDE_COLOUR, quantileBreaks, UNASSIGNED_COLOUR,
} from "../../../web/map.js";

test("no two new-unit colours look alike, nor like the unassigned or outside fills", () => {
  const pairs = [];
  NEW_UNIT_COLOURS.forEach((a, i) => NEW_UNIT_COLOURS.slice(i + 1).forEach((b) => pairs.push([a, b])));
  for (const [a, b] of pairs) assert.ok(colourDistance(a, b) >= 20, `${a} and ${b} are too close`);
  for (const colour of NEW_UNIT_COLOURS) {
    assert.ok(colourDistance(colour, UNASSIGNED_COLOUR) >= 20);
    assert.ok(colourDistance(colour, OUTSIDE_COLOUR) >= 20);
  }
  // The 5th and the 10th were nearly the same teal before.
  assert.ok(colourDistance(NEW_UNIT_COLOURS[4], NEW_UNIT_COLOURS[9]) > 40);
});

test("colour distance is zero for one colour and large for black and white", () => {
  assert.equal(colourDistance("#4e79a7", "#4e79a7"), 0);
  assert.ok(Math.abs(colourDistance("#000000", "#ffffff") - 100) < 0.5);
});

test("quantile breaks skip repeated values and classes colour every finite value", () => {
  assert.deepEqual(quantileBreaks([1, 1, 1, 1, 1]), [1]);
  assert.deepEqual(quantileBreaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), [3, 5, 7, 9]);
  const classes = classesFor("population", [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  assert.equal(classes.colours.length, classes.breaks.length + 1);
  assert.equal(classes.colourOf(null), null);
  assert.notEqual(classes.colourOf(10), classes.colourOf(100));
});

test("% of standard is red below 100 % and green from 100 %", () => {
  const { colourOf } = classesFor("pct_standard", []);
  assert.equal(colourOf(99.9), "#fddbc7");
  assert.equal(colourOf(100), "#a6dba0");
});

test("a new unit's label sits on the member label point nearest the group's middle", () => {
  const points = [[105.80, 22.10], [105.82, 22.12], [105.84, 22.14], null];
  assert.deepEqual(groupLabelPoint(points), [105.82, 22.12]);
  assert.equal(groupLabelPoint([]), null);
  assert.equal(groupLabelPoint([undefined, [Number.NaN, 1]]), null);
});

test("the bounds of a geometry cover every ring and part; none for an empty one", async () => {
  const { bboxOf } = await import("../../../web/map.js");
  const multi = { type: "MultiPolygon", coordinates: [[[[105, 21], [106, 21], [106, 22], [105, 21]]], [[[107, 20], [108, 20], [107, 21], [107, 20]]]] };
  assert.deepEqual(bboxOf(multi), [105, 20, 108, 22]);
  assert.equal(bboxOf({ type: "Polygon", coordinates: [] }), null);
});

test("the attribution line names the data, its licence (or that it is unknown), the year and the basemap host", async () => {
  const { attributionHtml } = await import("../../../web/map.js");
  const line = attributionHtml({ source: "xã <2009>.geojson", licence: "MIT", population_year: 2009 }, "https://tiles.example.org/{z}/{x}/{y}.png");
  assert.ok(line.includes("xã &lt;2009&gt;.geojson") && line.includes("MIT") && line.includes("2009") && line.includes("tiles.example.org"));
  assert.ok(attributionHtml({ source: "a", licence: null, population_year: null }, null).includes("attribution.licence_unknown"));
  assert.equal(attributionHtml(null, null), "");
  // The generated sample region: named and licensed by the page's catalogue, whatever name the store keeps.
  const sample = attributionHtml({ source: "sample data (geo.demo)", licence: null, population_year: 2024, sample_data: true }, null);
  assert.ok(sample.includes("attribution.sample_source") && sample.includes("attribution.sample_licence"));
  assert.ok(!sample.includes("geo.demo") && !sample.includes("attribution.licence_unknown"));
});
