// The live panel: one card per new unit (areas, population, density, members, contiguity,
// each standard pass/fail with % of standard) and the totals of the city/province.
// Cards are keyed by new-unit id so that a reassignment re-renders only the changed ones.

import { formatNumber, lang, t, tMessage, tOptional } from "./i18n.js";
import { escapeHtml } from "./text.js";

function kindLabel(kind, kindVi) {
  return tOptional(`kind.${kind}`) || kindVi || kind || "";
}

function criterionLabel(standard) {
  const label = tOptional(`criterion.${standard.criterion}`) || standard.criterion || standard.rule;
  // The variant says why this threshold applies (e.g. "miền núi").
  return standard.variant ? `${label} (${tOptional(`variant.${standard.variant}`) || standard.variant})` : label;
}

function statusBadge(status) {
  if (!status) return "";
  return `<span class="badge status-${escapeHtml(status)}">${escapeHtml(t(`status.${status}`))}</span>`;
}

function standardRow(standard) {
  const state = standard.status || (standard.exempt ? "exempt" : standard.passed ? "pass" : standard.passed === false ? "fail" : "unknown");
  const pct = Number.isFinite(standard.percent_of_standard) ? `${formatNumber(standard.percent_of_standard, 0)} %` : "–";
  const digits = Math.abs(standard.threshold ?? 0) < 100 ? 1 : 0;
  // The rules files state units in Vietnamese; show them in the page's language.
  const unconfirmed = standard.confirmed === false ? ` <span class="unconfirmed" title="${escapeHtml(t("standard.unconfirmed"))}">*</span>` : "";
  // The legal basis and notes come typed (citation_message, note_messages): shown in the page's language.
  const citation = standard.citation_message ? tMessage(standard.citation_message) : standard.citation;
  const notes = standard.note_messages ? standard.note_messages.map(tMessage).join("; ") : standard.note;
  const title = [citation, notes, standard.variant_reason].filter(Boolean).join(" — ");
  return `<tr class="std-${state}" title="${escapeHtml(title)}">
    <td>${escapeHtml(criterionLabel(standard))}${unconfirmed}${standard.variant_reason
      ? `<div class="muted reason">${escapeHtml(standard.variant_reason)}</div>` : ""}</td>
    <td class="num">${formatNumber(standard.value, digits)}</td>
    <td class="num">${escapeHtml(standard.comparison ? t(`comparison.${standard.comparison}`) : "")} ${formatNumber(standard.threshold, digits)} ${escapeHtml(unitLabel(standard.unit))}</td>
    <td class="num">${pct}</td>
    <td class="mark">${state === "pass" ? "✔" : state === "fail" ? "✘" : state === "unknown" ? "?" : "—"}</td></tr>`;
}

export function standardsTable(standards) {
  if (!standards || !standards.length) return "";
  return `<table class="standards"><thead><tr><th>${t("standard.criterion")}</th><th>${t("standard.value")}</th>
    <th>${t("standard.threshold")}</th><th>${t("standard.pct")}</th><th></th></tr></thead>
    <tbody>${standards.map(standardRow).join("")}</tbody></table>`;
}

function areaRow(figures) {
  const official = figures.official_area_km2;
  const computed = figures.area_km2;
  let warn = "";
  if (figures.area_differs) {
    warn = ` <span class="warn" title="${escapeHtml(t("area.differs_title"))}">⚠ ${formatNumber(figures.area_difference_pct, 1)} %</span>`;
  }
  const basis = figures.area_basis ? ` <span class="muted">(${escapeHtml(t(`area.basis_${figures.area_basis}`))})</span>` : "";
  return `<tr><th>${t("figure.area")}</th><td>${t("area.official")}: <span class="fig-area-official">${formatNumber(official, 2)}</span> km² · ${t("area.computed")}: <span class="fig-area-computed">${formatNumber(computed, 2)}</span> km²${warn}${basis}</td></tr>`;
}

/** Rows of non-zero zoning indicators for a unit or new unit (HTML), or "". */
export function indicatorRowsHtml(row, fields) {
  if (!row) return "";
  const rows = Object.entries(fields || {}).filter(([key]) => Number.isFinite(row[key]) && row[key] !== 0)
    .map(([key, meta]) => {
      const digits = meta.unit === "count" ? 0 : 2;
      const unit = meta.unit === "count" ? "" : meta.unit;
      return `<tr><th>${escapeHtml(lang() === "en" ? meta.label_en : meta.label_vi)}</th><td class="zoning-figure" data-field="${escapeHtml(key)}">${formatNumber(row[key], digits)} ${escapeHtml(unit)}</td></tr>`;
    });
  return rows.length ? rows.join("") : `<tr><th>${escapeHtml(t("draw.zoning"))}</th><td class="muted">${escapeHtml(t("zoning.none_here"))}</td></tr>`;
}

/** HTML of one new unit's card body. */
export function newUnitCard(nu, figures, { colour, active, locked, indicators = null, indicatorFields = null }) {
  const f = figures || { members: nu.members, member_names: [], standards: [] };
  const names = f.member_names && f.member_names.length ? f.member_names : f.members || [];
  const contiguity = f.contiguous === false
    ? `<p class="warn">⚠ ${escapeHtml(t("figure.not_contiguous", { n: (f.components || []).length }))}</p>` : "";
  const drawn = nu.geometry ? `<p class="muted">${escapeHtml(t("figure.drawn_geometry"))}</p>` : "";
  return `<div class="nu-head">
      <span class="swatch" style="background:${colour}"></span>
      <button class="nu-name link" data-action="activate" title="${escapeHtml(t("newunit.activate"))}">${escapeHtml(nu.name)}</button>
      <select class="nu-kind" data-action="kind" aria-label="${escapeHtml(t("newunit.kind"))}">${
        ["ward", "commune", "special_zone"].map((kind) => `<option value="${kind}"${kind === nu.kind ? " selected" : ""}>${escapeHtml(kindLabel(kind))}</option>`).join("")
      }</select>
      ${statusBadge(f.status)}
      <span class="spacer"></span>
      <button class="icon" data-action="lock" aria-pressed="${locked}" title="${escapeHtml(t(locked ? "newunit.unlock" : "newunit.lock"))}">${locked ? t("newunit.locked_label") : t("newunit.unlocked_label")}</button>
      <button class="icon" data-action="rename" title="${escapeHtml(t("newunit.rename"))}">✎</button>
      <button class="icon" data-action="remove" title="${escapeHtml(t("newunit.remove"))}">✕</button>
    </div>
    <table class="figures">
      ${areaRow(f)}
      <tr><th>${t("figure.population")}</th><td><span class="fig-population">${formatNumber(f.population)}</span> ${t("unit.people")}</td></tr>
      <tr><th>${t("figure.density")}</th><td><span class="fig-density">${formatNumber(f.density, 1)}</span> ${t("unit.per_km2")}</td></tr>
      <tr><th>${t("figure.members")} (${(f.members || []).length})</th><td class="members">${names.map(escapeHtml).join(", ") || "–"}</td></tr>
      ${indicators ? indicatorRowsHtml(indicators, indicatorFields) : ""}
    </table>
    ${contiguity}${drawn}
    ${flagsDetails(nu, f)}
    ${standardsTable(f.standards)}
    ${active ? `<p class="active-note">${escapeHtml(t("newunit.active_note"))}</p>` : ""}`;
}

const CARD_FLAGS = ["mountainous", "border", "island", "red_river_delta", "central_city", "coastal_poor"];

/** The new unit's region flags as evaluated, and a select per flag: the scenario's default, yes or no. */
function flagsDetails(nu, figures) {
  const reasons = figures.flag_reasons || {};
  const active = CARD_FLAGS.filter((flag) => figures[flag] === true)
    .map((flag) => (reasons[flag] ? `${t(`flag.${flag}`)} (${reasons[flag]})` : t(`flag.${flag}`)));
  const selects = CARD_FLAGS.map((flag) => {
    const own = nu[flag] === true ? "true" : nu[flag] === false ? "false" : "";
    const option = (value, key) => `<option value="${value}"${own === value ? " selected" : ""}>${escapeHtml(t(key))}</option>`;
    return `<label>${escapeHtml(t(`flag.${flag}`))} <select data-action="flag" data-flag="${flag}">
      ${option("", "flag.inherit")}${option("true", "flag.yes")}${option("false", "flag.no")}</select></label>`;
  }).join("");
  return `<details class="nu-flags"><summary>${escapeHtml(t("flag.region"))}: ${escapeHtml(active.length ? active.join(", ") : t("flag.none"))}</summary>
    <div class="checks">${selects}</div></details>`;
}

function byKindRows(before, after) {
  const kinds = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
  return kinds.map((kind) => `<tr><td>${escapeHtml(kindLabel(kind))}</td><td class="num">${formatNumber((before || {})[kind] ?? 0)}</td>
    <td class="num">${formatNumber((after || {})[kind] ?? 0)}</td></tr>`).join("");
}

/** HTML of the totals block. */
export function totalsHtml(totals) {
  if (!totals) return "";
  const share = (x) => (Number.isFinite(x) ? `${formatNumber(x * 100, 1)} %` : "–");
  const parent = totals.parent && totals.parent.standards && totals.parent.standards.length
    ? `<h4>${escapeHtml(totals.parent.name || t("totals.parent"))}</h4>${standardsTable(totals.parent.standards)}` : "";
  return `<table class="totals-table">
      <thead><tr><th></th><th>${t("totals.before")}</th><th>${t("totals.after")}</th></tr></thead>
      <tbody>
        <tr><th>${t("totals.units")}</th><td class="num">${formatNumber(totals.units_before)}</td><td class="num totals-after">${formatNumber(totals.units_after)}</td></tr>
        ${byKindRows(totals.by_kind_before, totals.by_kind_after)}
        <tr><th>${t("totals.ward_share")}</th><td class="num">${share(totals.ward_share_before)}</td><td class="num">${share(totals.ward_share_after)}</td></tr>
      </tbody></table>
    <p>${t("figure.population")}: ${formatNumber(totals.population)} ${t("unit.people")} · ${t("figure.area")}: ${formatNumber(totals.area_km2, 2)} km²
      · ${t("figure.density")}: ${formatNumber(totals.density, 1)} ${t("unit.per_km2")}</p>
    ${parent}`;
}

/** Units of the scope kept as they are (judged too) and the parents that lose units. */
export function arrangementHtml(unchanged, affected) {
  const parts = [];
  if (unchanged && unchanged.length) {
    parts.push(`<h4>${escapeHtml(t("arrangement.unchanged", { n: unchanged.length }))}</h4>
      <table class="compare unchanged-units"><thead><tr><th>${escapeHtml(t("compare.unit"))}</th><th>${escapeHtml(t("figure.population"))}</th>
        <th>km²</th><th>${escapeHtml(t("compare.status"))}</th></tr></thead><tbody>${unchanged.map((u) => `<tr data-code="${escapeHtml(u.code)}">
        <td>${escapeHtml(kindLabel(u.kind))} ${escapeHtml(u.name)}${u.must_arrange ? ` <span class="warn" title="${escapeHtml(t("arrangement.must_arrange_title"))}">⚠</span>` : ""}${u.reduced ? ` <span class="muted">(${escapeHtml(t("arrangement.reduced"))})</span>` : ""}</td>
        <td class="num">${formatNumber(u.population)}</td><td class="num">${formatNumber(u.area_for_standards_km2, 2)}</td>
        <td>${statusBadge(u.status)}</td></tr>`).join("")}</tbody></table>`);
  }
  if (affected && affected.length) {
    parts.push(`<h4>${escapeHtml(t("arrangement.affected"))}</h4><ul class="affected-parents">${affected.map((a) => `<li>${escapeHtml(a.name || "")}:
      ${escapeHtml(t("arrangement.affected_units", { before: formatNumber(a.units_before), after: formatNumber(a.units_after) }))}${
        Number.isFinite(a.population_before) && Number.isFinite(a.population_after)
          ? ` · ${escapeHtml(t("arrangement.affected_population", { before: formatNumber(a.population_before), after: formatNumber(a.population_after) }))}` : ""}</li>`).join("")}</ul>`);
  }
  return parts.join("");
}

export class Panel {
  constructor({ cardsEl, totalsEl, warningsEl, colourOf, onAction }) {
    this.cardsEl = cardsEl;
    this.totalsEl = totalsEl;
    this.warningsEl = warningsEl;
    this.colourOf = colourOf;
    this.activeId = null;
    cardsEl.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      const card = event.target.closest(".nu-card");
      if (button && card) onAction(button.dataset.action, card.dataset.id);
    });
    cardsEl.addEventListener("change", (event) => {
      const select = event.target.closest("select[data-action]");
      const card = event.target.closest(".nu-card");
      if (!select || !card) return;
      onAction(select.dataset.action, card.dataset.id, select.dataset.flag ? `${select.dataset.flag}=${select.value}` : select.value);
    });
  }

  cardElement(id) { return this.cardsEl.querySelector(`.nu-card[data-id="${CSS.escape(id)}"]`); }

  renderCard(session, nu) {
    let el = this.cardElement(nu.id);
    if (!el) {
      el = document.createElement("div");
      el.className = "nu-card";
      el.dataset.id = nu.id;
    }
    el.classList.toggle("active", nu.id === this.activeId);
    const figures = session.figures.get(nu.id);
    el.classList.toggle("fail", Boolean(figures && figures.status === "fail"));
    el.innerHTML = newUnitCard(nu, figures, {
      colour: this.colourOf(nu.id), active: nu.id === this.activeId, locked: Boolean(nu.locked),
      indicators: session.indicators ? session.indicators.get(nu.id) : null, indicatorFields: session.indicatorFields,
    });
    return el;
  }

  renderAll(session) {
    this.cardsEl.replaceChildren(...(session.scenario ? session.scenario.new_units.map((nu) => this.renderCard(session, nu)) : []));
    if (session.scenario && !session.scenario.new_units.length) {
      this.cardsEl.innerHTML = `<p class="muted">${escapeHtml(t("newunit.none"))}</p>`;
    }
    this.renderTotals(session);
  }

  /** Re-render only the cards of changed new units and the totals. */
  update(session, changedIds) {
    for (const id of changedIds) {
      const nu = session.newUnit(id);
      if (nu) this.renderCard(session, nu);
    }
    this.renderTotals(session);
  }

  renderTotals(session) {
    this.totalsEl.innerHTML = totalsHtml(session.totals) + arrangementHtml(session.unchanged, session.affected);
    this.warningsEl.innerHTML = (session.warnings || []).map((w) => `<p class="warn">⚠ ${escapeHtml(tMessage(w))}</p>`).join("");
  }

  setActive(session, id) {
    const previous = this.activeId;
    this.activeId = id;
    for (const changed of [previous, id]) {
      const nu = changed ? session.newUnit(changed) : null;
      if (nu) this.renderCard(session, nu);
    }
  }
}

const UNIT_KEYS = { "người": "unit.people", "đơn vị": "unit.units" };

function unitLabel(unit) {
  const key = UNIT_KEYS[unit];
  return key ? t(key) : (unit || "");
}
