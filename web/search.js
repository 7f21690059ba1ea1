// Search units by name without diacritics (or by code) and act on a result.

import { t, tOptional } from "./i18n.js";
import { $, MAP_PADDING, state } from "./state.js";
import { escapeHtml, fold } from "./text.js";

export function renderSearch() {
  const query = fold($("#search-input").value);
  const list = $("#search-results");
  if (query.length < 2) { list.innerHTML = ""; return; }
  const hits = [];
  for (const unit of state.units.values()) {
    if (unit.folded.includes(query) || unit.foldedFull.includes(query) || unit.code === query) hits.push(unit);
    if (hits.length >= 30) break;
  }
  hits.sort((a, b) => (a.folded.startsWith(query) ? 0 : 1) - (b.folded.startsWith(query) ? 0 : 1));
  list.innerHTML = hits.map((u) => {
    const owner = state.session.assignment.get(u.code);
    const ownerName = owner ? state.session.newUnit(owner)?.name : null;
    return `<li data-code="${escapeHtml(u.code)}">
      <button class="link" data-action="show">${escapeHtml(tOptional(`kind.${u.kind}`) || "")} ${escapeHtml(u.name)}</button>
      <span class="muted">${escapeHtml(u.district || "")}${ownerName ? ` → ${escapeHtml(ownerName)}` : ""}</span>
      <button data-action="assign" title="${escapeHtml(t("search.assign_title"))}">${t("search.assign")}</button>
      <button data-action="ward" title="${escapeHtml(t("tools.make_ward"))}">${escapeHtml(t("tools.to_ward"))}</button>
      <button data-action="commune" title="${escapeHtml(t("tools.make_commune"))}">${escapeHtml(t("tools.to_commune"))}</button></li>`;
  }).join("") || `<li class="muted">${t("search.none")}</li>`;
}

export function flyToUnit(code) {
  const unit = state.units.get(code);
  if (unit && unit.bbox) {
    state.map.fitBounds([[unit.bbox[0], unit.bbox[1]], [unit.bbox[2], unit.bbox[3]]], { padding: MAP_PADDING, maxZoom: 13, duration: 600 });
  }
}
