// The figures of a drawn polygon (POST /api/analysis/polygon) as the draw panel shows them. Pure: node --test.

import { formatNumber, t, tMessage, tOptional } from "./i18n.js";
import { escapeHtml } from "./text.js";

/**
 * The figures of a drawn polygon (POST /api/analysis/polygon, PolygonAnalysisResult): geodesic area,
 * estimated population and density, the units it cuts, zoning indicators and warnings.
 */
export function analysisHtml(result) {
  const population = result.population;
  const source = population.source_message ? tMessage(population.source_message) : population.source;
  const percent = (value) => (value === null ? "–" : `${formatNumber(value, 1)} %`);
  const unitRows = result.units.map((u) => `<tr><td>${escapeHtml(u.name || "")} <span class="muted">${escapeHtml(u.code)}</span></td>
      <td class="num">${formatNumber(u.area_km2, 2)}</td>
      <td class="num">${percent(u.share_of_unit_pct)}</td>
      <td class="num">${percent(u.share_of_polygon_pct)}</td></tr>`).join("");
  const { source: indicatorSource, ...indicators } = result.indicators;
  const indicatorRows = Object.entries(indicators).map(([name, value]) => `<tr><th>${escapeHtml(tOptional(`metric.${name}`) || name)}</th>
      <td>${formatNumber(value, /count/.test(name) ? 0 : 2)}</td></tr>`).join("");
  return `<table class="figures">
      <tr><th>${t("figure.area")}</th><td><span id="draw-area">${formatNumber(result.area_km2, 2)}</span> km²</td></tr>
      <tr><th>${t("figure.population")} (${t("draw.estimate")})</th><td>${formatNumber(population.value)} ${t("unit.people")}
        <div class="muted">${t("draw.source")}: ${escapeHtml(source || "–")}</div></td></tr>
      <tr><th>${t("figure.density")} (${t("draw.estimate")})</th><td>${formatNumber(result.density, 1)} ${t("unit.per_km2")}</td></tr>
    </table>
    <h4>${t("draw.intersected")} (${result.units.length})</h4>
    <table class="compare"><thead><tr><th>${t("compare.unit")}</th><th>km²</th><th>${t("draw.share_of_unit")}</th><th>${t("draw.share_of_polygon")}</th></tr></thead>
      <tbody>${unitRows}</tbody></table>
    ${indicatorRows ? `<h4>${t("draw.zoning")}</h4><table class="figures">${indicatorRows}</table>
      ${indicatorSource ? `<p class="muted">${t("draw.source")}: ${escapeHtml(indicatorSource)}</p>` : ""}` : ""}
    ${result.warning_messages.map((w) => `<p class="warn">⚠ ${escapeHtml(tMessage(w))}</p>`).join("")}`;
}
