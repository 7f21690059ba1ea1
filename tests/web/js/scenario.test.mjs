// The scenario session of the page (web/scenario.js) against a stand-in of the API module.
import test from "node:test";
import assert from "node:assert/strict";
import { api } from "../../../web/api.js";
import { BusyError, duplicateName, ScenarioSession, scenarioBody } from "../../../web/scenario.js";

function fakeServer(initial) {
  let stored = structuredClone(initial);
  let version = 1;
  const puts = [];
  api.getScenario = async (id) => ({ id, version, scenario: structuredClone(stored) });
  api.evaluation = async () => ({ new_units: stored.new_units.map((nu) => ({ id: nu.id, members: nu.members })), totals: {},
    warning_messages: [] });
  api.updateScenario = async (id, body) => {
    puts.push(structuredClone(body));
    const { version: _sent, ...rest } = body;
    stored = rest;
    version += 1;
    return { id, version, scenario: stored };
  };
  return { puts, stored: () => stored };
}

const SCENARIO = {
  name: "Bắc Kạn", regime: "R1211",
  parent: { name: "Thành phố Bắc Kạn", kind: "provincial_city", scope: { districts: ["Thành phố Bắc Kạn"] } },
  context: { mountainous: true }, unit_flags: { "01849": { border: true } },
  new_units: [{ id: "n1", name: "Phường Dương Quang", kind: "commune", members: ["01849"], note: "giữ" }],
};

test("the body sent back keeps every field the page does not edit", () => {
  const body = scenarioBody({ id: "s1", version: 7, ...SCENARIO });
  assert.equal(body.id, undefined);
  assert.equal(body.version, undefined);
  assert.deepEqual(body.parent, SCENARIO.parent);
  assert.deepEqual(body.unit_flags, SCENARIO.unit_flags);
  assert.equal(body.new_units[0].note, "giữ");
});

test("a kind change is one undo step: undo puts the old kind back, redo the new one", async () => {
  const server = fakeServer(SCENARIO);
  const session = new ScenarioSession();
  await session.open("s1");
  await session.save((body) => { body.new_units[0].kind = "ward"; });
  assert.equal(server.stored().new_units[0].kind, "ward");
  assert.equal(session.undoStack.length, 1);
  await session.undo();
  assert.equal(server.stored().new_units[0].kind, "commune");
  assert.equal(session.newUnit("n1").kind, "commune");
  await session.redo();
  assert.equal(server.stored().new_units[0].kind, "ward");
  // Fields the page never touched went back unchanged every time.
  for (const put of server.puts) assert.deepEqual(put.parent, SCENARIO.parent);
});

test("no edit is sent while another scenario is opening", async () => {
  fakeServer(SCENARIO);
  const session = new ScenarioSession();
  await session.open("s1");
  let release;
  api.getScenario = () => new Promise((resolve) => { release = () => resolve({ id: "s2", version: 1, scenario: SCENARIO }); });
  const opening = session.open("s2");
  await assert.rejects(session.reassign({ "01849": null }), BusyError);
  await assert.rejects(session.save((body) => { body.name = "x"; }), BusyError);
  assert.equal(session.id, "s1");          // the panel still shows s1, and edits would go there
  release();
  await opening;
  assert.equal(session.id, "s2");
});

test("duplicate new-unit names are found without regard to case or diacritics", () => {
  const scenario = { new_units: [{ id: "n1", name: "Phường Đức Xuân" }, { id: "n2", name: "Xã Nông Thượng" }] };
  assert.equal(duplicateName(scenario, "phuong duc xuan").id, "n1");
  assert.equal(duplicateName(scenario, "Phường Đức Xuân", "n1"), null);   // renaming itself
  assert.equal(duplicateName(scenario, "Phường Sông Cầu"), null);
});

test("a scenario of the API (ScenarioPublic) opens with its id and version and copies of the member lists", async () => {
  const { scenarioFromPublic } = await import("../../../web/scenario.js");
  const body = { id: "abc", version: 3, units_version: "v1", scenario: { name: "P", regime: "R76",
    new_units: [{ id: "n1", name: "Phường A", kind: "ward", members: ["01"] }] } };
  const scenario = scenarioFromPublic(body);
  assert.equal(scenario.id, "abc");
  assert.equal(scenario.version, 3);
  assert.equal(scenario.name, "P");
  scenario.new_units[0].members.push("02");
  assert.deepEqual(body.scenario.new_units[0].members, ["01"]);
});
