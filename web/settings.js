// Scenario settings: parent (name, kind), scope (provinces, districts), regime, description,
// region flags of the scenario (context) and of single units (unit_flags, from a CSV file).
// Pure functions: app.js reads the form and saves through the session.

import { fold } from "./text.js";

export const FLAGS = ["mountainous", "border", "island", "red_river_delta", "central_city", "coastal_poor"];
const TRUE_WORDS = new Set(["1", "true", "yes", "y", "x", "co", "có", "dung", "đúng"]);
const FALSE_WORDS = new Set(["0", "false", "no", "n", "khong", "không", "sai", ""]);

/** Provinces of the unit layer and the districts of each, sorted in Vietnamese order. */
export function scopeOptions(units) {
  const byProvince = new Map();
  for (const unit of units) {
    if (!unit.province) continue;
    if (!byProvince.has(unit.province)) byProvince.set(unit.province, new Set());
    if (unit.district) byProvince.get(unit.province).add(unit.district);
  }
  const collator = new Intl.Collator("vi");
  return [...byProvince.entries()].sort((a, b) => collator.compare(a[0], b[0]))
    .map(([province, districts]) => ({ province, districts: [...districts].sort(collator.compare) }));
}

/** Codes of the units inside a scope ({provinces, districts}); all units when the scope is empty. */
export function unitsInScope(units, scope) {
  const provinces = new Set((scope && scope.provinces) || []);
  const districts = new Set((scope && scope.districts) || []);
  return units.filter((u) => (!provinces.size || provinces.has(u.province)) && (!districts.size || districts.has(u.district)))
    .map((u) => u.code);
}

function parseBoolean(text) {
  const key = fold(String(text ?? "")).trim();
  if (TRUE_WORDS.has(key) || TRUE_WORDS.has(String(text).trim().toLowerCase())) return true;
  if (FALSE_WORDS.has(key)) return false;
  return undefined;
}

function splitLine(line, separator) {
  const cells = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; i += 1; } else if (ch === '"') quoted = false; else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === separator) { cells.push(cell.trim()); cell = ""; } else cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

/**
 * Per-unit flags from CSV text: a "code" (or "ma") column and flag columns named as in
 * FLAGS (plus ethnic_minority_share, 0..1 or a percent). Returns {flags: {code: {...}}, problems: [...]}
 * where each problem is {line, column, value} of a cell that is not a yes/no (or a share).
 */
export function parseFlagsCsv(text) {
  const lines = String(text).replace(/^\uFEFF/, "").split(/\r?\n/).filter((line) => line.trim());
  if (!lines.length) return { flags: {}, problems: [{ line: 1, column: null, value: "" }], codeColumnMissing: true };
  const separator = [";", ",", "\t"].map((s) => [s, lines[0].split(s).length]).sort((a, b) => b[1] - a[1])[0][0];
  const header = splitLine(lines[0], separator).map((h) => fold(h).replace(/\s+/g, "_"));
  const codeIndex = header.findIndex((h) => ["code", "ma", "ma_xa", "unit_code"].includes(h));
  if (codeIndex < 0) return { flags: {}, problems: [], codeColumnMissing: true };
  const columns = header.map((h, i) => [h, i]).filter(([h]) => FLAGS.includes(h) || h === "ethnic_minority_share");
  const flags = {};
  const problems = [];
  lines.slice(1).forEach((line, offset) => {
    const cells = splitLine(line, separator);
    let code = cells[codeIndex];
    if (!code) return;
    if (/^\d+$/.test(code) && code.length < 5) code = code.padStart(5, "0");   // a spreadsheet dropped the zeros
    const entry = {};
    for (const [name, index] of columns) {
      const raw = cells[index] ?? "";
      if (name === "ethnic_minority_share") {
        if (raw === "") continue;
        let share = Number(raw.replace("%", "").replace(",", "."));
        if (Number.isFinite(share) && share > 1) share /= 100;
        if (!Number.isFinite(share) || share < 0 || share > 1) { problems.push({ line: offset + 2, column: name, value: raw }); continue; }
        entry[name] = Math.round(share * 10000) / 10000;
      } else {
        const value = parseBoolean(raw);
        if (value === undefined) { problems.push({ line: offset + 2, column: name, value: raw }); continue; }
        if (raw !== "") entry[name] = value;
      }
    }
    if (Object.keys(entry).length) flags[code] = { ...(flags[code] || {}), ...entry };
  });
  return { flags, problems, codeColumnMissing: false };
}

/** Write the form's values into a scenario body (fields left empty are removed, not sent empty). */
export function applySettings(body, values) {
  body.regime = values.regime;
  if (values.description) body.description = values.description; else delete body.description;
  if (values.parentKind) {
    const parent = { ...(body.parent || {}), name: values.parentName || "", kind: values.parentKind };
    const scope = {};
    if (values.provinces.length) scope.provinces = values.provinces;
    if (values.districts.length) scope.districts = values.districts;
    if (Object.keys(scope).length) parent.scope = scope; else delete parent.scope;
    body.parent = parent;
  } else {
    delete body.parent;
  }
  const context = { ...(body.context || {}) };
  for (const flag of FLAGS) {
    if (values.flags[flag]) context[flag] = true; else delete context[flag];
  }
  if (Number.isFinite(values.ethnicShare)) context.ethnic_minority_share = values.ethnicShare; else delete context.ethnic_minority_share;
  if (Object.keys(context).length) body.context = context; else delete body.context;
  return body;
}
