// Labels in Vietnamese (first) and English. Elements carry data-i18n="key" (text) or
// data-i18n-placeholder="key"; code calls t("key", {param}) for dynamic text.

const LANG_KEY = "diagioi.lang";
let labels = {};
let fallback = {};
let currentLang = "vi";

export function lang() { return currentLang; }

export async function loadLanguage(requested) {
  const wanted = requested || localStorage.getItem(LANG_KEY) || "vi";
  currentLang = wanted === "en" ? "en" : "vi";
  const [own, vi] = await Promise.all([
    fetch(`i18n/${currentLang}.json`).then((r) => r.json()),
    currentLang === "vi" ? null : fetch("i18n/vi.json").then((r) => r.json()),
  ]);
  labels = own;
  fallback = vi || own;
  localStorage.setItem(LANG_KEY, currentLang);
  document.documentElement.lang = currentLang;
  applyLabels(document);
}

/** Label for key with {name} placeholders filled from params; the key itself if unknown. */
export function t(key, params) {
  let text = labels[key] ?? fallback[key] ?? key;
  if (params) {
    for (const [name, value] of Object.entries(params)) text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

/** Same as t() but returns null when there is no label (for optional labels like criteria). */
export function tOptional(key) { return labels[key] ?? fallback[key] ?? null; }

export function applyLabels(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

const numberFormats = {};
/** Numbers in the page's language: 12 345,6 (vi) or 12,345.6 (en). */
export function formatNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const key = `${currentLang}:${digits}`;
  numberFormats[key] ??= new Intl.NumberFormat(currentLang === "vi" ? "vi-VN" : "en-GB",
    { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return numberFormats[key].format(value);
}
