// Scenario settings of the page (web/settings.js): scope choices and the body written back.
import test from "node:test";
import assert from "node:assert/strict";
import { applySettings, scopeOptions, unitsInScope } from "../../../web/settings.js";

test("scope choices are the layer's provinces with their districts in Vietnamese order", () => {
  const units = [
    { code: "1", province: "Tỉnh Bắc Kạn", district: "Thành Phố Bắc Kạn" },
    { code: "2", province: "Tỉnh Bắc Kạn", district: "Huyện Chợ Mới" },
    { code: "3", province: "Tỉnh Bắc Giang", district: "Huyện Yên Thế" },
  ];
  assert.deepEqual(scopeOptions(units), [
    { province: "Tỉnh Bắc Giang", districts: ["Huyện Yên Thế"] },
    { province: "Tỉnh Bắc Kạn", districts: ["Huyện Chợ Mới", "Thành Phố Bắc Kạn"] },
  ]);
  assert.deepEqual(unitsInScope(units, { districts: ["Thành Phố Bắc Kạn", "Huyện Chợ Mới"] }), ["1", "2"]);
});

test("settings go into the body; what the form leaves empty is removed, other fields stay", () => {
  const body = { name: "Bắc Kạn", regime: "R76", parent: { name: "", kind: "province", note: "giữ" },
    context: { island: true }, unit_flags: { "01849": { border: true } }, new_units: [] };
  applySettings(body, { regime: "R1211", description: "", parentName: "Thành phố Bắc Kạn", parentKind: "provincial_city",
    provinces: ["Tỉnh Bắc Kạn"], districts: ["Thành Phố Bắc Kạn"], flags: { mountainous: true, island: false },
    ethnicShare: NaN });
  assert.equal(body.regime, "R1211");
  assert.equal(body.description, undefined);
  assert.deepEqual(body.parent, { name: "Thành phố Bắc Kạn", kind: "provincial_city", note: "giữ",
    scope: { provinces: ["Tỉnh Bắc Kạn"], districts: ["Thành Phố Bắc Kạn"] } });
  assert.deepEqual(body.context, { mountainous: true });
  assert.deepEqual(body.unit_flags, { "01849": { border: true } });
  applySettings(body, { regime: "R76", parentKind: "", provinces: [], districts: [], flags: {}, ethnicShare: NaN });
  assert.equal(body.parent, undefined);
  assert.equal(body.context, undefined);
});

test("the parent kind follows the district's name, with or without diacritics", async () => {
  const { parentKindOf } = await import("../../../web/settings.js");
  assert.equal(parentKindOf("Thành phố Bắc Kạn"), "provincial_city");
  assert.equal(parentKindOf("TP. Thái Nguyên"), "provincial_city");
  assert.equal(parentKindOf("Thị xã Phổ Yên"), "town");
  assert.equal(parentKindOf("Quận Ba Đình"), "urban_district");
  assert.equal(parentKindOf("Huyện Chợ Mới"), "district");
});
