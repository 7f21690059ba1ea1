// Compare two scenarios from their evaluations (client side): new units side by side, which
// old units moved to a differently named new unit, and which standards changed state.

import { t, formatNumber } from "./i18n.js";
import { escapeHtml } from "./text.js";

function memberNames(nu) {
  const names = new Map();
  (nu.members || []).forEach((code, i) => names.set(String(code), (nu.member_names || [])[i] || String(code)));
  return names;
}

/** Pure comparison: {rows, moved, standardChanges}; new units are matched by name. */
export function compareEvaluations(evalA, evalB) {
  const unitsA = evalA.new_units || [];
  const unitsB = evalB.new_units || [];
  const byNameB = new Map(unitsB.map((nu) => [nu.name, nu]));
  const rows = [];
  const seenB = new Set();
  for (const a of unitsA) {
    const b = byNameB.get(a.name) || null;
    if (b) seenB.add(b.name);
    rows.push({ name: a.name, a, b });
  }
  for (const b of unitsB) if (!seenB.has(b.name)) rows.push({ name: b.name, a: null, b });

  const placeA = new Map();
  const placeB = new Map();
  const names = new Map();
  for (const nu of unitsA) for (const [code, name] of memberNames(nu)) { placeA.set(code, nu.name); names.set(code, name); }
  for (const nu of unitsB) for (const [code, name] of memberNames(nu)) { placeB.set(code, nu.name); names.set(code, name); }
  const moved = [];
  for (const code of new Set([...placeA.keys(), ...placeB.keys()])) {
    const from = placeA.get(code) ?? null;
    const to = placeB.get(code) ?? null;
    if (from !== to) moved.push({ code, name: names.get(code), from, to });
  }
  moved.sort((x, y) => String(x.name).localeCompare(String(y.name), "vi"));

  const standardChanges = [];
  for (const { name, a, b } of rows) {
    if (!a || !b) continue;
    const rulesB = new Map((b.standards || []).map((s) => [s.rule, s]));
    for (const sa of a.standards || []) {
      const sb = rulesB.get(sa.rule);
      if (sb && Boolean(sa.passed) !== Boolean(sb.passed)) {
        standardChanges.push({ name, rule: sa.rule, criterion: sa.criterion, passedA: sa.passed, passedB: sb.passed,
          pctA: sa.percent_of_standard, pctB: sb.percent_of_standard });
      }
    }
  }
  return { rows, moved, standardChanges };
}

const cell = (nu, key, digits = 0) => `<td class="num">${nu ? formatNumber(nu[key], digits) : "–"}</td>`;
const status = (nu) => `<td>${nu ? escapeHtml(t(`status.${nu.status}`)) : "–"}</td>`;
const passText = (passed) => (passed ? `✔ ${t("status.pass")}` : `✘ ${t("status.fail")}`);

export function comparisonHtml(result, nameA, nameB) {
  const rows = result.rows.map(({ name, a, b }) => `<tr><th>${escapeHtml(name)}</th>
      ${cell(a, "population")}${cell(b, "population")}${cell(a, "area_for_standards_km2", 2)}${cell(b, "area_for_standards_km2", 2)}
      ${cell(a, "density", 0)}${cell(b, "density", 0)}${status(a)}${status(b)}</tr>`).join("");
  const moved = result.moved.length
    ? `<table class="compare"><thead><tr><th>${t("compare.unit")}</th><th>A</th><th>B</th></tr></thead><tbody>${
      result.moved.map((m) => `<tr><td>${escapeHtml(m.name)} <span class="muted">${escapeHtml(m.code)}</span></td>
        <td>${escapeHtml(m.from ?? t("compare.outside"))}</td><td>${escapeHtml(m.to ?? t("compare.outside"))}</td></tr>`).join("")}</tbody></table>`
    : `<p class="muted">${t("compare.none_moved")}</p>`;
  const changes = result.standardChanges.length
    ? `<table class="compare"><thead><tr><th>${t("compare.new_unit")}</th><th>${t("standard.criterion")}</th><th>A</th><th>B</th></tr></thead><tbody>${
      result.standardChanges.map((c) => `<tr><td>${escapeHtml(c.name)}</td><td>${escapeHtml(t(`criterion.${c.criterion}`))}</td>
        <td class="${c.passedA ? "ok" : "bad"}">${passText(c.passedA)} (${formatNumber(c.pctA)} %)</td>
        <td class="${c.passedB ? "ok" : "bad"}">${passText(c.passedB)} (${formatNumber(c.pctB)} %)</td></tr>`).join("")}</tbody></table>`
    : `<p class="muted">${t("compare.no_standard_changes")}</p>`;
  return `<p><b>A</b> = ${escapeHtml(nameA)} · <b>B</b> = ${escapeHtml(nameB)}</p>
    <table class="compare"><thead><tr><th>${t("compare.new_unit")}</th>
      <th>${t("figure.population")} A</th><th>B</th><th>${t("figure.area")} A</th><th>B</th>
      <th>${t("figure.density")} A</th><th>B</th><th>${t("compare.status")} A</th><th>B</th></tr></thead>
    <tbody>${rows}</tbody></table>
    <h4>${t("compare.moved")} (${result.moved.length})</h4>${moved}
    <h4>${t("compare.standard_changes")} (${result.standardChanges.length})</h4>${changes}`;
}
