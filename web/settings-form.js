// "Thiết lập phương án": the settings form (description, standards, parent, scope, region flags, flags CSV)
// and why each threshold applies.

import { api } from "./api.js";
import { t } from "./i18n.js";
import { toast } from "./messages.js";
import { applySettings, FLAGS, scopeOptions } from "./settings.js";
import { $, state } from "./state.js";
import { escapeHtml } from "./text.js";

/** Fill the settings form from the open scenario. */
export function renderSettings() {
  const scenario = state.session.scenario;
  const form = $("#settings-form");
  form.querySelectorAll("input, select, textarea, button").forEach((el) => { el.disabled = !scenario; });
  if (!scenario) { $("#settings-summary").textContent = ""; renderThresholdsWhy(); return; }
  $("#set-description").value = scenario.description || "";
  $("#set-regime").value = scenario.regime || "R76";
  const parent = scenario.parent || {};
  $("#set-parent-name").value = parent.name || "";
  $("#set-parent-kind").value = parent.kind || "";
  const scope = parent.scope || {};
  const options = scopeOptions([...state.units.values()]);
  const chosenProvince = (scope.provinces || [])[0]
    || (options.find((o) => (scope.districts || []).some((d) => o.districts.includes(d))) || {}).province || "";
  $("#set-scope-province").innerHTML = `<option value="">${escapeHtml(t("settings.scope_all"))}</option>${
    options.map((o) => `<option value="${escapeHtml(o.province)}">${escapeHtml(o.province)}</option>`).join("")}`;
  $("#set-scope-province").value = chosenProvince;
  renderScopeDistricts(new Set(scope.districts || []));
  const context = scenario.context || {};
  for (const input of document.querySelectorAll("#set-flags [data-flag]")) input.checked = context[input.dataset.flag] === true;
  $("#set-ethnic").value = Number.isFinite(context.ethnic_minority_share) ? String(Math.round(context.ethnic_minority_share * 1000) / 10) : "";
  const flagged = Object.keys(scenario.unit_flags || {}).length;
  $("#set-flags-note").textContent = flagged ? t("settings.flags_loaded", { n: flagged }) : t("settings.flags_csv_help");
  const summary = [t(`regime.${scenario.regime || "R76"}`)];
  if (parent.kind) summary.push(`${parent.name || ""} (${t(`parent_kind.${parent.kind}`)})`);
  $("#settings-summary").textContent = `— ${summary.join(" · ")}`;
  renderThresholdsWhy();
}

export function renderScopeDistricts(checked) {
  const province = $("#set-scope-province").value;
  const option = scopeOptions([...state.units.values()]).find((o) => o.province === province);
  $("#set-scope-districts").innerHTML = (option ? option.districts : []).map((district) => `<label><input type="checkbox"
    data-district="${escapeHtml(district)}"${checked.has(district) ? " checked" : ""}> ${escapeHtml(district)}</label>`).join("");
}

export function readSettingsForm() {
  const share = $("#set-ethnic").value.trim();
  const province = $("#set-scope-province").value;
  return {
    description: $("#set-description").value.trim(),
    regime: $("#set-regime").value,
    parentName: $("#set-parent-name").value.trim(),
    parentKind: $("#set-parent-kind").value,
    provinces: province ? [province] : [],
    districts: [...document.querySelectorAll("#set-scope-districts [data-district]:checked")].map((el) => el.dataset.district),
    flags: Object.fromEntries([...document.querySelectorAll("#set-flags [data-flag]")].map((el) => [el.dataset.flag, el.checked])),
    ethnicShare: share === "" ? NaN : Number(share.replace(",", ".")) / 100,
  };
}

export async function saveSettings() {
  if (!state.session.id) { toast(t("scenario.none"), { error: true }); return; }
  const values = readSettingsForm();
  if (!Number.isNaN(values.ethnicShare) && !(values.ethnicShare >= 0 && values.ethnicShare <= 1)) {
    toast(t("settings.ethnic_invalid"), { error: true });
    return;
  }
  await state.session.save((body) => applySettings(body, values));
  toast(t("settings.saved"));
}

/** Per-unit flags from a CSV file: read and checked by the server, then saved into the scenario. */
export async function loadFlagsFile(file) {
  if (!state.session.id) return;
  const { unit_flags: flags, count } = await api.readFlagsTable(await file.arrayBuffer(), file.name);
  await state.session.save((body) => { body.unit_flags = { ...(body.unit_flags || {}), ...flags }; });
  toast(t("settings.flags_saved", { n: count }));
}

/** Which thresholds apply and why: the regime, the parent, the region flags and where they come from. */
export function renderThresholdsWhy() {
  const el = $("#thresholds-why");
  const scenario = state.session.scenario;
  if (!scenario) { el.innerHTML = ""; return; }
  const parts = [`<b>${escapeHtml(t("settings.applies"))}</b> ${escapeHtml(t(`regime.${scenario.regime || "R76"}`))}`];
  const parent = scenario.parent;
  parts.push(parent && parent.kind
    ? escapeHtml(t("settings.why_parent", { name: parent.name || "", kind: t(`parent_kind.${parent.kind}`) }))
    : escapeHtml(t("settings.why_no_parent")));
  const context = scenario.context || {};
  const regionFlags = FLAGS.filter((flag) => context[flag] === true).map((flag) => t(`flag.${flag}`));
  parts.push(escapeHtml(regionFlags.length ? t("settings.why_region", { flags: regionFlags.join(", ") }) : t("settings.why_no_region")));
  const flagged = Object.keys(scenario.unit_flags || {}).length;
  if (flagged) parts.push(escapeHtml(t("settings.why_unit_flags", { n: flagged })));
  el.innerHTML = `<p>${parts.join(" · ")}</p>`;
}
