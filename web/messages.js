// Messages to the user: toasts, the loading indicator, errors in the page's language, the retry after a
// lost server (watching /api/health) and the write-key dialog.

import { api, ApiError, getToken, setToken } from "./api.js";
import { t } from "./i18n.js";
import { BusyError, ConflictReloaded, LockedError, SupersededOpen } from "./scenario.js";
import { $, debug, state } from "./state.js";

export let toastTimer = null;
/** A message over the map; action = {label, run} adds a button (retry, undo a delete). */
export function toast(message, { error = false, action = null } = {}) {
  const el = $("#toast");
  const text = document.createElement("span");
  text.textContent = message;
  el.replaceChildren(text);
  if (action) {
    const button = document.createElement("button");
    button.className = "toast-action";
    button.textContent = action.label;
    button.addEventListener("click", () => { hideToast(); action.run(); });
    el.append(" ", button);
  }
  el.classList.toggle("error", error);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, action ? 15000 : error ? 8000 : 4000);
}

export function hideToast() {
  clearTimeout(toastTimer);
  $("#toast").hidden = true;
}

// After a request that could not reach the server: ask /api/health every few seconds; once it
// answers, say so, reload the scenario (a restarted server may hold a newer version) and offer the
// retry. The failed request is the proof that the server was unreachable: a server that restarts
// within one polling interval must still be announced, or the retry is never offered.
export let reconnectTimer = null;
export function watchReconnect(retry) {
  clearInterval(reconnectTimer);
  const check = async () => {
    try {
      await api.health();
    } catch (error) {
      return;
    }
    clearInterval(reconnectTimer);
    reconnectTimer = null;
    if (state.session.id) await guarded(() => state.session.reload());
    toast(t("network.back"), { action: retry ? { label: t("action.retry"), run: retry } : null });
  };
  reconnectTimer = setInterval(check, 3000);
}

/** Tell the user what went wrong in the page's language; retry() repeats the failed action. */
export async function showError(error, retry = null) {
  if (error instanceof SupersededOpen) return;
  if (error instanceof ConflictReloaded) { toast(t("conflict.reloaded"), { error: true }); return; }
  if (error instanceof LockedError) { toast(t("newunit.locked_refused", { name: error.newUnitName }), { error: true }); return; }
  if (error instanceof BusyError) { toast(t("scenario.busy"), { error: true }); return; }
  if (error instanceof ApiError && error.isNetwork) {
    debug.errors.push("network");
    toast(t("network.unreachable"), { error: true, action: retry ? { label: t("action.retry"), run: retry } : null });
    watchReconnect(retry);
    return;
  }
  if (error instanceof ApiError && error.isAuth) {
    toast(t("token.needed"), { error: true });
    askToken();
    return;
  }
  debug.errors.push(String(error && error.message));
  const hint = error instanceof ApiError && error.hint ? ` — ${error.hint}` : "";
  toast(`${error.message || error}${hint}`, { error: true });
}

export async function guarded(action) {
  try { return await action(); } catch (error) { showError(error, () => guarded(action)); return undefined; }
}

export function askToken() {
  const dialog = $("#token-dialog");
  $("#token-input").value = getToken();
  dialog.showModal();
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "ok") setToken($("#token-input").value);
  }, { once: true });
}

/** The upload's refusal in the dialog itself (a toast would sit under the modal dialog). */
export function errorText(error) {
  if (error instanceof ApiError && error.isNetwork) return t("network.unreachable");
  if (error instanceof ApiError && error.isAuth) return t("token.needed");
  return `${error.message || error}${error instanceof ApiError && error.hint ? ` — ${error.hint}` : ""}`;
}

export function setLoading(message, { error = false, retry = null } = {}) {
  const el = $("#loading");
  if (message === null) { el.hidden = true; return; }
  el.hidden = false;
  el.classList.toggle("error", error);
  $("#loading-text").textContent = message;
  const button = $("#loading-retry");
  button.hidden = !retry;
  button.onclick = retry;
}
