// Comparing two scenarios (web/compare.js): units matched by members, standards by criterion.
import test from "node:test";
import assert from "node:assert/strict";
import { compareEvaluations, matchNewUnits } from "../../../web/compare.js";

const std = (rule, criterion, passed, threshold, value) => ({ rule, criterion, passed, threshold, value, exempt: false, comparison: ">=" });

const A = {
  scenario: { regime: "R76" },
  new_units: [
    { id: "n1", name: "Phường Đức Xuân", members: ["01840", "01834"], member_names: ["Đức Xuân", "NTM Khai"], status: "pass",
      standards: [std("r76.ward.area_km2", "area_km2", true, 5.5, 12)] },
    { id: "n2", name: "Xã Dương Quang", members: ["01849"], member_names: ["Dương Quang"], status: "pass",
      standards: [std("r76.commune.population", "population", true, 5000, 6000)] },
  ],
  totals: { units_after: 2, by_kind_after: { ward: 1, commune: 1 }, ward_share_after: 0.5,
    parent: { name: "TP Bắc Kạn", standards: [std("r76.city.subunits", "subunits", true, 2, 2)] } },
};
const B = {
  scenario: { regime: "R1211" },
  new_units: [
    // Renamed but the same members: the same unit.
    { id: "x", name: "Phường Dương Quang", members: ["01849"], member_names: ["Dương Quang"], status: "fail",
      standards: [std("r1211.ward.population", "population", false, 7000, 6000)] },
    { id: "y", name: "Phường Đức Xuân", members: ["01840", "01834", "01837"], member_names: ["Đức Xuân", "NTM Khai", "Sông Cầu"],
      status: "pass", standards: [std("r1211.ward.area_km2", "area_km2", true, 5.5, 15)] },
  ],
  totals: { units_after: 2, by_kind_after: { ward: 2 }, ward_share_after: 1,
    parent: { name: "TP Bắc Kạn", standards: [std("r1211.city.subunits", "subunits", false, 10, 2)] } },
};

test("new units are paired by their members, not their names", () => {
  const pairs = matchNewUnits(A.new_units, B.new_units);
  const byA = Object.fromEntries(pairs.map((p) => [p.a && p.a.id, p.b && p.b.id]));
  assert.deepEqual(byA, { n1: "y", n2: "x" });
  assert.equal(pairs.find((p) => p.a.id === "n2").same, true);
  assert.equal(pairs.find((p) => p.a.id === "n1").same, false);   // 2 of 3 members in common
});

test("a change of regime shows as standard changes matched by criterion, for units and the parent", () => {
  const result = compareEvaluations(A, B);
  assert.deepEqual(result.regime, { a: "R76", b: "R1211" });
  const change = result.standardChanges.find((c) => c.criterion === "population");
  assert.equal(change.stateA, "pass");
  assert.equal(change.stateB, "fail");
  assert.equal(change.name, "Xã Dương Quang / Phường Dương Quang");
  const parent = result.parent.standards.find((row) => row.criterion === "subunits");
  assert.equal(parent.a.passed, true);
  assert.equal(parent.b.passed, false);
});

test("only units whose new unit has no partner count as moved", () => {
  const result = compareEvaluations(A, B);
  assert.deepEqual(result.moved.map((m) => [m.code, m.from, m.to]), [["01837", null, "Phường Đức Xuân"]]);
});
