// Scenario settings: parent (name, kind), scope (provinces, districts), regime, description,
// region flags of the scenario (context). Pure functions: app.js reads the form and saves
// through the session; a per-unit flags CSV is read by the server (POST /api/flags/table).

import { fold } from "./text.js";

export const FLAGS = ["mountainous", "border", "island", "red_river_delta", "central_city", "coastal_poor"];
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

/** The parent kind a district name implies ("Thành phố …" → provincial_city, "Huyện …" → district). */
export function parentKindOf(districtName) {
  const key = fold(districtName);
  if (key.startsWith("thanh pho") || key.startsWith("tp ") || key.startsWith("tp.")) return "provincial_city";
  if (key.startsWith("thi xa")) return "town";
  if (key.startsWith("quan")) return "urban_district";
  return "district";
}
