// Units datasets side by side (GET/POST /api/datasets): the upload form's import report and the
// labels of the datasets a new scenario can be built on. Pure functions; the page wires them.

import { formatNumber, t } from "./i18n.js";
import { escapeHtml } from "./text.js";

/** The topology summary's counts the report lists (diagioi topology --json "summary"), with their area. */
const TOPOLOGY_ROWS = [
  ["n_overlaps", "overlap_km2"], ["n_gaps", "gap_km2"], ["n_slivers", null], ["n_self_intersections", null],
  ["n_duplicate_codes", null], ["n_duplicate_geometries", null], ["n_area_mismatches", null],
];

/** "Tên (ngày) — n đơn vị" for a stored dataset (GET /api/datasets "data" item). */
export function datasetLabel(dataset) {
  const date = dataset.data_date ? ` (${dataset.data_date})` : "";
  return `${dataset.name}${date} — ${t("dataset.units", { n: formatNumber(dataset.unit_count) })}`;
}

/** Per-unit issues grouped by type: [{type, action, units: [{code, name}]}], most frequent first. */
export function groupIssues(issues) {
  const groups = new Map();
  for (const issue of issues) {
    const key = `${issue.type}|${issue.action}`;
    if (!groups.has(key)) groups.set(key, { type: issue.type, action: issue.action, units: [] });
    groups.get(key).units.push({ code: issue.code, name: issue.name });
  }
  return [...groups.values()].sort((a, b) => b.units.length - a.units.length || a.type.localeCompare(b.type));
}

/**
 * The import report of POST /api/datasets in the page's language: units and level, the topology
 * summary (gaps, overlaps… with their area in km², computed) and the per-unit issues by type.
 */
export function importReportHtml(report, { maxNames = 8 } = {}) {
  const topology = report.topology;
  const rows = TOPOLOGY_ROWS.map(([count, area]) => {
    const n = topology[count];
    const extra = area && n ? ` · ${formatNumber(topology[area], 3)} km²` : "";
    return `<tr class="${n ? "warn" : ""}"><th>${escapeHtml(t(`dataset.topology.${count}`))}</th><td>${formatNumber(n)}${extra}</td></tr>`;
  }).join("");
  const groups = groupIssues(report.issues).map((group) => {
    const names = group.units.slice(0, maxNames).map((u) => escapeHtml(u.code === "*" ? t("dataset.whole_layer") : `${u.code} ${u.name}`));
    const more = group.units.length > maxNames ? ` ${escapeHtml(t("dataset.and_more", { n: group.units.length - maxNames }))}` : "";
    return `<li data-issue="${escapeHtml(group.type)}"><strong>${escapeHtml(t(`issue.${group.type}`))}</strong>
      (${escapeHtml(t(`issue.action.${group.action}`))}, ${formatNumber(group.units.length)}): ${names.join(", ")}${more}</li>`;
  }).join("");
  return `<p class="import-summary">${escapeHtml(t("dataset.imported", { name: report.name, n: formatNumber(report.unit_count) }))}
    ${escapeHtml(t(`dataset.level.${report.level}`))}.</p>
    <table class="figures topology"><caption>${escapeHtml(t("dataset.topology.title"))}</caption>${rows}</table>
    ${groups ? `<h4>${escapeHtml(t("dataset.issues"))}</h4><ul class="issues">${groups}</ul>` : `<p>${escapeHtml(t("dataset.no_issues"))}</p>`}`;
}
