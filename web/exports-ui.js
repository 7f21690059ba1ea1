// Tab "Xuất": the export links of the open scenario and downloads that say when they fail.

import { api, ApiError } from "./api.js";
import { lang, t } from "./i18n.js";
import { showError, toast } from "./messages.js";
import { $, debug, state } from "./state.js";
import { escapeHtml } from "./text.js";

export function renderExports() {
  const id = state.session.id;
  const list = $("#export-links");
  if (!id) { list.innerHTML = ""; return; }
  const items = [
    ["xlsx", "export.xlsx"], ["csv", "export.csv"], ["csv?table=crosswalk", "export.crosswalk"],
    ["gpkg", "export.gpkg"], ["geojson", "export.geojson"], ["html", "export.html"],
  ];
  const withLang = (url) => `${url}${url.includes("?") ? "&" : "?"}lang=${lang()}`;
  list.innerHTML = items.map(([format, key]) => `<li><a href="${withLang(api.exportUrl(id, format))}" download data-format="${escapeHtml(format)}">${t(key)}</a>
    <span class="muted">${t(`${key}_note`)}</span></li>`).join("");
}

/** Download an export through fetch, so that a failure is reported instead of silently lost. */
export async function downloadExport(link) {
  const url = link.getAttribute("href");
  link.classList.add("busy");
  try {
    let response;
    try {
      response = await fetch(url);
    } catch (error) {
      throw new ApiError(0, null);
    }
    if (!response.ok) {
      let body = null;
      try { body = await response.json(); } catch (error) { body = null; }
      throw new ApiError(response.status, body);
    }
    const blob = await response.blob();
    const disposition = response.headers.get("content-disposition") || "";
    const match = /filename\*=UTF-8''([^;]+)/i.exec(disposition) || /filename="?([^";]+)"?/i.exec(disposition);
    const anchor = document.createElement("a");
    anchor.href = URL.createObjectURL(blob);
    anchor.download = match ? decodeURIComponent(match[1]) : `export.${link.dataset.format.split("?")[0]}`;
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(anchor.href), 60_000);
    debug.lastDownload = { format: link.dataset.format, bytes: blob.size };
  } catch (error) {
    if (error instanceof ApiError && !error.isNetwork && !error.isAuth) {
      const hint = error.hint ? ` — ${error.hint}` : "";
      toast(`${t("export.failed")}: ${error.message}${hint}`, { error: true, action: { label: t("action.retry"), run: () => downloadExport(link) } });
    } else {
      showError(error, () => downloadExport(link));
    }
  } finally {
    link.classList.remove("busy");
  }
}
