// Labels in Vietnamese (first) and English. Elements carry data-i18n="key" (text) or
// data-i18n-placeholder="key" / data-i18n-title="key" / data-i18n-aria="key" (aria-label); code calls
// t("key", {param}) for dynamic text.

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

/**
 * A typed message {code, params} from the API, in the page's language. A parameter may be a message,
 * a text in each language ({vi, en}), a number (written in the page's format) or plain text — the same
 * rules as geo/i18n translate(). Plain strings are returned as they are.
 */
export function tMessage(message) {
  if (message === null || message === undefined) return "";
  if (typeof message === "string") return message;
  const params = {};
  for (const [name, value] of Object.entries(message.params || {})) params[name] = renderParam(value);
  return t(message.code, params);
}

function renderParam(value) {
  if (Array.isArray(value)) return value.map(renderParam).join(", ");
  if (value && typeof value === "object") {
    if ("code" in value && "params" in value) return tMessage(value);
    return value[currentLang] ?? value.vi ?? Object.values(value).find(Boolean) ?? "";
  }
  if (typeof value === "number") return formatFree(value);
  return value;
}

const freeFormats = {};
/** Up to 6 decimals, trailing zeros dropped (as geo/i18n format_number with digits=None). */
function formatFree(value) {
  freeFormats[currentLang] ??= new Intl.NumberFormat(currentLang === "vi" ? "vi-VN" : "en-GB",
    { maximumFractionDigits: 6 });
  return freeFormats[currentLang].format(value);
}

/** Same as t() but returns null when there is no label (for optional labels like criteria). */
export function tOptional(key) { return labels[key] ?? fallback[key] ?? null; }

export function applyLabels(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
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
