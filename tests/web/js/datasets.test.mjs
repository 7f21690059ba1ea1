// The upload's import report (web/datasets.js): per-unit issues grouped by type, topology counts listed.
import test from "node:test";
import assert from "node:assert/strict";
import { groupIssues, importReportHtml } from "../../../web/datasets.js";

const issue = (code, name, type, action = "reported") => ({ code, name, type, action, problem: type, location: null, detail: null });

test("issues are grouped by type and action, the most frequent first", () => {
  const groups = groupIssues([issue("01", "A", "zero_population"), issue("02", "B", "padded_code", "repaired"),
    issue("03", "C", "zero_population")]);
  assert.deepEqual(groups.map((g) => [g.type, g.action, g.units.map((u) => u.code)]),
    [["zero_population", "reported", ["01", "03"]], ["padded_code", "repaired", ["02"]]]);
});

test("the report lists every topology count and names at most maxNames units per issue", () => {
  const report = {
    name: "Lớp <thử>", unit_count: 5, level: "commune", level_reason: "",
    issues: ["1", "2", "3"].map((code) => issue(code, `Xã ${code}`, "missing_population")),
    topology: { n_overlaps: 2, overlap_km2: 0.5, n_gaps: 0, gap_km2: 0, n_slivers: 1, n_self_intersections: 0,
      n_duplicate_codes: 0, n_duplicate_geometries: 0, n_area_mismatches: 0 },
  };
  const html = importReportHtml(report, { maxNames: 2 });
  assert.ok(!html.includes("<thử>"), "names are escaped");
  for (const key of ["n_overlaps", "n_gaps", "n_slivers", "n_self_intersections", "n_duplicate_codes",
    "n_duplicate_geometries", "n_area_mismatches"]) assert.ok(html.includes(`dataset.topology.${key}`), key);
  assert.match(html, /data-issue="missing_population"/);
  assert.ok(html.includes("1 Xã 1, 2 Xã 2") && !html.includes("3 Xã 3"));
  assert.equal((html.match(/class="warn"/g) || []).length, 2);   // the overlaps and the slivers
});
