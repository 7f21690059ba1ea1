// The only fetch wrapper of the page: JSON in/out, the write token, and the API's error shape
// {"detail", "hint", "context"} turned into ApiError so the page can show it to the user.

const TOKEN_KEY = "diagioi.token";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.hint = body ? body.hint : null;
    this.context = body ? body.context : null;
    this.body = body;
  }
  get isNetwork() { return this.status === 0; }
  get isConflict() { return this.status === 409; }
  get isAuth() { return this.status === 401 || this.status === 403; }
}

export function getToken() { return localStorage.getItem(TOKEN_KEY) || ""; }
export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token.trim());
  else localStorage.removeItem(TOKEN_KEY);
}

/**
 * Log in from the URL printed by `diagioi serve` (http://127.0.0.1:8000/#token=…): keep the token
 * and take it out of the address bar and the history entry at once. The token travels in the
 * fragment, which the browser never sends to the server. Other fragment parameters (scenario=…)
 * stay. Returns true when a token was taken from the URL.
 */
export function adoptTokenFromUrl() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  if (!params.has("token")) return false;
  const token = params.get("token").trim();
  params.delete("token");
  const rest = params.toString();
  window.history.replaceState(window.history.state, "",
    window.location.pathname + window.location.search + (rest ? `#${rest}` : ""));
  if (!token) return false;
  setToken(token);
  return true;
}

async function request(method, path, body) {
  const headers = { accept: "application/json" };
  // Errors (and texts) in the page's language, not the browser's: the server reads Accept-Language.
  const pageLang = typeof document !== "undefined" ? document.documentElement.lang : "";
  if (pageLang) headers["accept-language"] = pageLang;
  // Forms and files go as they are (the browser sets their content type); the rest as JSON.
  const isForm = (typeof FormData !== "undefined" && body instanceof FormData) || (typeof Blob !== "undefined" && body instanceof Blob);
  if (body !== undefined && !isForm) headers["content-type"] = "application/json";
  if (method !== "GET") {
    const token = getToken();
    if (token) headers.authorization = `Bearer ${token}`;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined || isForm ? body : JSON.stringify(body) });
  } catch (error) {
    // The server is unreachable (stopped, restarting, network down): status 0, no body.
    throw new ApiError(0, null);
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try { parsed = JSON.parse(text); } catch (error) { parsed = { detail: text.slice(0, 300) }; }
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

// Paths are relative so the page works under any prefix the server mounts it at.
export const api = {
  health: () => request("GET", "api/health"),
  // The light list: figures and a bbox per unit; boundaries come from the vector tiles.
  units: (dataset) => request("GET", `api/units?geometry=false${dataset ? `&dataset=${encodeURIComponent(dataset)}` : ""}`),
  datasets: () => request("GET", "api/datasets"),
  dataset: (version) => request("GET", `api/datasets/${encodeURIComponent(version)}`),
  uploadDataset: (file, fields) => {
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [key, value] of Object.entries(fields)) if (value) form.append(key, value);
    return request("POST", "api/datasets", form);
  },
  // District/province outlines, unit label points and the data attribution.
  outlines: () => request("GET", "api/outlines"),
  tileJson: (layer) => request("GET", `api/tiles/${encodeURIComponent(layer)}.json`),
  listScenarios: () => request("GET", "api/scenarios"),
  getScenario: (id) => request("GET", `api/scenarios/${encodeURIComponent(id)}`),
  createScenario: (scenario) => request("POST", "api/scenarios", scenario),
  suggestScenarios: (body) => request("POST", "api/scenarios/suggest", body),
  updateScenario: (id, scenario) => request("PUT", `api/scenarios/${encodeURIComponent(id)}`, scenario),
  deleteScenario: (id, version) => request("DELETE", `api/scenarios/${encodeURIComponent(id)}${version ? `?version=${encodeURIComponent(version)}` : ""}`),
  layers: () => request("GET", "api/layers"),
  reassign: (id, assignments, version) =>
    request("POST", `api/scenarios/${encodeURIComponent(id)}/reassign`, { assignments, version }),
  evaluation: (id) => request("GET", `api/scenarios/${encodeURIComponent(id)}/evaluation`),
  indicators: (scenarioId) => request("GET", `api/indicators${scenarioId ? `?scenario=${encodeURIComponent(scenarioId)}` : ""}`),
  zoningFeature: (kind, id) => request("GET", `api/layers/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`),
  updateZoningFeature: (kind, id, feature) => request("PUT", `api/layers/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`, feature),
  deleteZoningFeature: (kind, id) => request("DELETE", `api/layers/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`),
  addZoningFeatures: (kind, featureOrCollection, { allowMarkers = false } = {}) =>
    request("POST", `api/layers/${encodeURIComponent(kind)}${allowMarkers ? "?allow_markers=true" : ""}`, featureOrCollection),
  importZoningFile: (kind, file, { allowMarkers = false } = {}) => {
    const form = new FormData();
    form.append("file", file, file.name);
    return request("POST", `api/layers/${encodeURIComponent(kind)}${allowMarkers ? "?allow_markers=true" : ""}`, form);
  },
  readFlagsTable: (bytes, name) => request("POST", `api/flags/table?name=${encodeURIComponent(name)}`, new Blob([bytes], { type: "text/csv" })),
  splitUnit: (code, line) => request("POST", `api/units/${encodeURIComponent(code)}/split`, line),
  analysePolygon: (geometry) => request("POST", "api/analysis/polygon", geometry),
  exportUrl: (id, format) => `api/scenarios/${encodeURIComponent(id)}/export.${format}`,
};
