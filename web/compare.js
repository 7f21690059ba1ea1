// Compare two scenarios from their evaluations (client side): plan-level figures side by side
// (regime, parent and its standards, units by kind, ward share, totals), new units matched by
// their member sets, standards matched by criterion, and which old units moved.

import { formatNumber, t, tOptional } from "./i18n.js";
import { escapeHtml } from "./text.js";

function memberSet(nu) { return new Set(nu.members.map(String)); }

function jaccard(a, b) {
  let common = 0;
  for (const x of a) if (b.has(x)) common += 1;
  const union = a.size + b.size - common;
  return union ? common / union : 0;
}

/**
 * Pair the new units of A and B: identical member sets first, then the largest overlap (at least
 * half of the union), then drawn units by name. Returns [{a, b, same}] with a or b null when unpaired.
 */
export function matchNewUnits(unitsA, unitsB) {
  const setsA = unitsA.map(memberSet);
  const setsB = unitsB.map(memberSet);
  const pairs = [];
  const usedB = new Set();
  const pairedA = new Set();
  const candidates = [];
  unitsA.forEach((a, i) => unitsB.forEach((b, j) => {
    const score = setsA[i].size || setsB[j].size ? jaccard(setsA[i], setsB[j]) : (a.name === b.name ? 1 : 0);
    if (score >= 0.5) candidates.push([score, i, j]);
  }));
  candidates.sort((x, y) => y[0] - x[0] || x[1] - y[1] || x[2] - y[2]);
  for (const [score, i, j] of candidates) {
    if (pairedA.has(i) || usedB.has(j)) continue;
    pairedA.add(i);
    usedB.add(j);
    pairs.push({ a: unitsA[i], b: unitsB[j], same: score === 1 });
  }
  unitsA.forEach((a, i) => { if (!pairedA.has(i)) pairs.push({ a, b: null, same: false }); });
  unitsB.forEach((b, j) => { if (!usedB.has(j)) pairs.push({ a: null, b, same: false }); });
  return pairs;
}

/** Standards of two lists matched by criterion (rule ids differ between regimes). */
export function matchStandards(listA, listB) {
  const byCriterion = new Map();
  for (const s of listA || []) byCriterion.set(s.criterion, { criterion: s.criterion, a: s, b: null });
  for (const s of listB || []) {
    const row = byCriterion.get(s.criterion) || { criterion: s.criterion, a: null, b: null };
    row.b = s;
    byCriterion.set(s.criterion, row);
  }
  return [...byCriterion.values()];
}

export function standardState(standard) {
  if (!standard) return null;
  if (standard.status) return standard.status;
  return standard.exempt ? "exempt" : standard.passed ? "pass" : "fail";
}

/** Pure comparison of two evaluations: {pairs, moved, standardChanges, parentStandards, totals}. */
export function compareEvaluations(evalA, evalB) {
  const pairs = matchNewUnits(evalA.new_units, evalB.new_units);
  const partner = new Map();   // "A:<id>" -> pair
  for (const pair of pairs) {
    if (pair.a) partner.set(`A:${pair.a.id}`, pair);
    if (pair.b) partner.set(`B:${pair.b.id}`, pair);
  }
  const placeA = new Map();
  const placeB = new Map();
  const names = new Map();
  for (const nu of evalA.new_units) nu.members.forEach((code, i) => {
    placeA.set(String(code), nu); names.set(String(code), nu.member_names[i]);
  });
  for (const nu of evalB.new_units) nu.members.forEach((code, i) => {
    placeB.set(String(code), nu); names.set(String(code), nu.member_names[i]);
  });
  const moved = [];
  for (const code of new Set([...placeA.keys(), ...placeB.keys()])) {
    const from = placeA.get(code) || null;
    const to = placeB.get(code) || null;
    const samePlace = from && to && partner.get(`A:${from.id}`) === partner.get(`B:${to.id}`);
    if (!samePlace) moved.push({ code, name: names.get(code), from: from ? from.name : null, to: to ? to.name : null });
  }
  moved.sort((x, y) => String(x.name).localeCompare(String(y.name), "vi"));

  const standardChanges = [];
  for (const { a, b } of pairs) {
    if (!a || !b) continue;
    for (const row of matchStandards(a.standards, b.standards)) {
      const stateA = standardState(row.a);
      const stateB = standardState(row.b);
      if (stateA !== stateB || (row.a && row.b && row.a.threshold !== row.b.threshold)) {
        standardChanges.push({ name: a.name === b.name ? a.name : `${a.name} / ${b.name}`, criterion: row.criterion,
          a: row.a, b: row.b, stateA, stateB });
      }
    }
  }
  const parentA = (evalA.totals && evalA.totals.parent) || null;
  const parentB = (evalB.totals && evalB.totals.parent) || null;
  return {
    pairs, moved, standardChanges,
    parent: { a: parentA, b: parentB, standards: matchStandards(parentA && parentA.standards, parentB && parentB.standards) },
    totals: { a: evalA.totals, b: evalB.totals },
    regime: { a: evalA.scenario.regime, b: evalB.scenario.regime },
  };
}

const num = (value, digits = 0) => `<td class="num">${formatNumber(value, digits)}</td>`;
const stateMark = (state) => (state === "pass" ? `<span class="ok">✔ ${escapeHtml(t("status.pass"))}</span>`
  : state === "fail" ? `<span class="bad">✘ ${escapeHtml(t("status.fail"))}</span>`
    : state ? escapeHtml(tOptional(`status.${state}`) || state) : "–");
const criterion = (name) => escapeHtml(tOptional(`criterion.${name}`) || name);

function standardCell(standard, state) {
  if (!standard) return "<td>–</td>";
  const digits = Math.abs(standard.threshold ?? 0) < 100 ? 1 : 0;
  return `<td>${stateMark(state)} <span class="muted">${formatNumber(standard.value, digits)} / ${escapeHtml(standard.comparison || "")} ${formatNumber(standard.threshold, digits)}</span></td>`;
}

export function comparisonHtml(result, nameA, nameB) {
  const { totals, parent } = result;
  const share = (x) => (Number.isFinite(x) ? `${formatNumber(x * 100, 1)} %` : "–");
  const kinds = [...new Set([...Object.keys(totals.a.by_kind_after), ...Object.keys(totals.b.by_kind_after)])];
  const plan = `<table class="compare compare-plan"><thead><tr><th></th><th>A</th><th>B</th></tr></thead><tbody>
      <tr><th>${escapeHtml(t("settings.regime"))}</th><td>${escapeHtml(result.regime.a ? t(`regime.${result.regime.a}`) : "–")}</td>
        <td>${escapeHtml(result.regime.b ? t(`regime.${result.regime.b}`) : "–")}</td></tr>
      <tr><th>${escapeHtml(t("settings.parent"))}</th><td>${escapeHtml(parent.a ? parent.a.name || "" : "–")}</td><td>${escapeHtml(parent.b ? parent.b.name || "" : "–")}</td></tr>
      <tr><th>${escapeHtml(t("totals.units"))}</th>${num(totals.a.units_after)}${num(totals.b.units_after)}</tr>
      ${kinds.map((kind) => `<tr><th>${escapeHtml(tOptional(`kind.${kind}`) || kind)}</th>${num(totals.a.by_kind_after[kind] ?? 0)}${num(totals.b.by_kind_after[kind] ?? 0)}</tr>`).join("")}
      <tr><th>${escapeHtml(t("totals.ward_share"))}</th><td class="num">${share(totals.a.ward_share_after)}</td><td class="num">${share(totals.b.ward_share_after)}</td></tr>
      <tr><th>${escapeHtml(t("figure.area"))} (km²)</th>${num(totals.a.area_km2, 2)}${num(totals.b.area_km2, 2)}</tr>
      <tr><th>${escapeHtml(t("figure.population"))}</th>${num(totals.a.population)}${num(totals.b.population)}</tr>
      <tr><th>${escapeHtml(t("figure.density"))}</th>${num(totals.a.density, 1)}${num(totals.b.density, 1)}</tr>
    </tbody></table>`;
  const parentRows = parent.standards.map((row) => `<tr><td>${criterion(row.criterion)}</td>${standardCell(row.a, standardState(row.a))}${standardCell(row.b, standardState(row.b))}</tr>`).join("");
  const parentTable = parentRows ? `<h4>${escapeHtml(t("compare.parent_standards"))}</h4>
    <table class="compare compare-parent"><thead><tr><th>${escapeHtml(t("standard.criterion"))}</th><th>A</th><th>B</th></tr></thead><tbody>${parentRows}</tbody></table>` : "";
  const pairRows = result.pairs.map(({ a, b, same }) => `<tr><th>${escapeHtml(a ? a.name : "–")}${same ? "" : " ≠"}</th><th>${escapeHtml(b ? b.name : "–")}</th>
      ${num(a && a.population)}${num(b && b.population)}${num(a && a.area_for_standards_km2, 2)}${num(b && b.area_for_standards_km2, 2)}
      <td>${a ? stateMark(a.status) : "–"}</td><td>${b ? stateMark(b.status) : "–"}</td></tr>`).join("");
  const moved = result.moved.length
    ? `<table class="compare"><thead><tr><th>${escapeHtml(t("compare.unit"))}</th><th>A</th><th>B</th></tr></thead><tbody>${
      result.moved.map((m) => `<tr><td>${escapeHtml(m.name)} <span class="muted">${escapeHtml(m.code)}</span></td>
        <td>${escapeHtml(m.from ?? t("compare.outside"))}</td><td>${escapeHtml(m.to ?? t("compare.outside"))}</td></tr>`).join("")}</tbody></table>`
    : `<p class="muted">${escapeHtml(t("compare.none_moved"))}</p>`;
  const changes = result.standardChanges.length
    ? `<table class="compare"><thead><tr><th>${escapeHtml(t("compare.new_unit"))}</th><th>${escapeHtml(t("standard.criterion"))}</th><th>A</th><th>B</th></tr></thead><tbody>${
      result.standardChanges.map((c) => `<tr><td>${escapeHtml(c.name)}</td><td>${criterion(c.criterion)}</td>${standardCell(c.a, c.stateA)}${standardCell(c.b, c.stateB)}</tr>`).join("")}</tbody></table>`
    : `<p class="muted">${escapeHtml(t("compare.no_standard_changes"))}</p>`;
  return `<p><b>A</b> = ${escapeHtml(nameA)} · <b>B</b> = ${escapeHtml(nameB)}</p>
    <h4>${escapeHtml(t("compare.plan"))}</h4>${plan}${parentTable}
    <h4>${escapeHtml(t("compare.pairs"))}</h4>
    <table class="compare"><thead><tr><th>${escapeHtml(t("compare.new_unit"))} A</th><th>B</th>
      <th>${escapeHtml(t("figure.population"))} A</th><th>B</th><th>${escapeHtml(t("figure.area"))} A</th><th>B</th>
      <th>${escapeHtml(t("compare.status"))} A</th><th>B</th></tr></thead>
    <tbody>${pairRows}</tbody></table>
    <h4>${escapeHtml(t("compare.moved"))} (${result.moved.length})</h4>${moved}
    <h4>${escapeHtml(t("compare.standard_changes"))} (${result.standardChanges.length})</h4>${changes}`;
}
