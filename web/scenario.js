// Scenario state of the page: the scenario (new units, locks, version), the latest figures of
// each new unit (evaluation JSON), which new unit every old unit belongs to, and undo/redo.
// Every change goes through the API; a 409 (someone else saved first) reloads and reports.

import { api, ApiError, scenarioOf } from "./api.js";
import { fold } from "./text.js";

export class ConflictReloaded extends Error {
  constructor() { super("scenario changed elsewhere; reloaded"); }
}

export class ScenarioSession {
  constructor() {
    this.scenario = null;          // {id, version, name, new_units: [{id, name, kind, members, locked, geometry?}]}
    this.figures = new Map();      // new_unit_id -> evaluation new-unit JSON
    this.totals = null;
    this.warnings = [];
    this.assignment = new Map();   // unit_code -> new_unit_id
    this.undoStack = [];
    this.redoStack = [];
    this.listeners = new Set();
  }

  get id() { return this.scenario ? this.scenario.id : null; }
  get version() { return this.scenario ? this.scenario.version : null; }

  onChange(listener) { this.listeners.add(listener); }
  emit(change) { for (const listener of this.listeners) listener(change); }

  /**
   * Load a scenario and its figures. The session switches only once both answers are in: while
   * loading (or if loading fails) every edit still goes to the scenario shown. Of two opens
   * started one after the other, the later one wins.
   */
  async open(scenarioId) {
    const ticket = (this.openTicket = (this.openTicket || 0) + 1);
    this.opening = true;
    let scenarioBody;
    let evaluation;
    try {
      [scenarioBody, evaluation] = await Promise.all([api.getScenario(scenarioId), api.evaluation(scenarioId)]);
    } finally {
      if (ticket === this.openTicket) this.opening = false;
    }
    if (ticket !== this.openTicket) throw new SupersededOpen();
    this.scenario = scenarioOf(scenarioBody);
    // The units dataset it is built on (the map shows that one) and the server's default.
    this.unitsVersion = scenarioBody.units_version;
    this.defaultUnitsVersion = scenarioBody.default_units_version;
    this.undoStack = [];
    this.redoStack = [];
    this.applyEvaluation(evaluation);
    this.emit({ kind: "opened" });
  }

  /** Reload after a conflict, keeping undo history out (it was based on the old version). */
  async reload() {
    const id = this.id;
    await this.open(id);
  }

  applyEvaluation(evaluation) {
    this.figures = new Map((evaluation.new_units || []).map((nu) => [nu.id, nu]));
    this.totals = evaluation.totals || null;
    this.warnings = evaluation.warning_messages || evaluation.warnings || [];  // typed: shown by tMessage
    this.applyArrangement(evaluation);
    this.rebuildAssignment();
  }

  /** Units of the scope that stay as they are, and the parents that lose units (evaluation JSON). */
  applyArrangement(evaluation) {
    this.unchanged = evaluation.unchanged_units || [];
    this.affected = evaluation.affected_parents || [];
  }

  rebuildAssignment() {
    this.assignment = new Map();
    for (const nu of this.scenario.new_units) {
      const members = this.figures.has(nu.id) ? this.figures.get(nu.id).members : nu.members;
      nu.members = [...(members || [])];
      for (const code of nu.members) this.assignment.set(String(code), nu.id);
    }
  }

  newUnit(newUnitId) { return this.scenario.new_units.find((nu) => nu.id === newUnitId) || null; }

  isLocked(newUnitId) {
    const nu = newUnitId ? this.newUnit(newUnitId) : null;
    return Boolean(nu && nu.locked);
  }

  /**
   * Move old units: assignments is {unit_code: new_unit_id | null}. Returns the ids of the
   * changed new units. Units in locked new units are refused before any request is sent.
   */
  async reassign(assignments, { record = true } = {}) {
    if (this.opening) throw new BusyError();
    const before = {};
    const effective = {};
    for (const [code, target] of Object.entries(assignments)) {
      const current = this.assignment.get(code) ?? null;
      if (current === target) continue;
      if (this.isLocked(current) || this.isLocked(target)) {
        throw new LockedError(this.newUnit(this.isLocked(current) ? current : target).name);
      }
      before[code] = current;
      effective[code] = target;
    }
    if (!Object.keys(effective).length) return [];
    let result;
    const requestStarted = performance.now();
    try {
      result = await api.reassign(this.id, effective, this.version);
      this.lastRequestMs = performance.now() - requestStarted;
    } catch (error) {
      if (error instanceof ApiError && error.isConflict) {
        await this.reload();
        throw new ConflictReloaded();
      }
      throw error;
    }
    this.scenario.version = result.version;
    const changedIds = [];
    for (const nu of result.changed || []) {
      this.figures.set(nu.id, nu);
      changedIds.push(nu.id);
    }
    if (result.totals) this.totals = result.totals;
    if (result.warning_messages || result.warnings) this.warnings = result.warning_messages || result.warnings;
    this.rebuildAssignment();
    if (record) {
      this.undoStack.push({ type: "reassign", before, after: effective });
      this.redoStack = [];
    }
    this.emit({ kind: "reassigned", changedIds, codes: Object.keys(effective) });
    return changedIds;
  }

  /** Apply one side of an undo step: a reassignment, or a whole edited scenario body. */
  async applyStep(step, side) {
    if (step.type === "edit") {
      await this.save((body) => {
        for (const key of Object.keys(body)) delete body[key];
        Object.assign(body, structuredClone(step[side]));
      }, { record: false });
    }
    else await this.reassign(step[side], { record: false });
  }

  async undo() {
    const step = this.undoStack.pop();
    if (!step) return;
    try {
      await this.applyStep(step, "before");
      this.redoStack.push(step);
    } catch (error) {
      if (!(error instanceof ConflictReloaded)) this.undoStack.push(step);
      throw error;
    }
    this.emit({ kind: "history" });
  }

  async redo() {
    const step = this.redoStack.pop();
    if (!step) return;
    try {
      await this.applyStep(step, "after");
      this.undoStack.push(step);
    } catch (error) {
      if (!(error instanceof ConflictReloaded)) this.redoStack.push(step);
      throw error;
    }
    this.emit({ kind: "history" });
  }

  /**
   * The scenario body for PUT/POST: the stored scenario (docs/contract/scenario.schema.json) as it is,
   * so fields this page does not edit (flags, notes, parent scope, context, unit_flags, dataset) survive
   * a save; id/version are the store's, not the scenario's.
   */
  body(overrides = {}) {
    return { ...scenarioBody(this.scenario), ...overrides };
  }

  /**
   * Save a changed scenario (mutate(body) edits a copy) and reload the figures. The change is
   * one undo step (record: false for undo/redo themselves).
   */
  async save(mutate, { record = true } = {}) {
    if (this.opening) throw new BusyError();
    const before = this.body();
    const body = this.body();
    mutate(body);
    const after = structuredClone(body);
    body.version = this.version;
    try {
      await api.updateScenario(this.id, body);
    } catch (error) {
      if (error instanceof ApiError && error.isConflict) {
        await this.reload();
        throw new ConflictReloaded();
      }
      throw error;
    }
    // Edits of names, kinds or geometry change figures anywhere: take the full evaluation.
    const keepUndo = this.undoStack;
    const keepRedo = this.redoStack;
    await this.open(this.id);
    this.undoStack = keepUndo;
    this.redoStack = record ? [] : keepRedo;
    if (record) this.undoStack.push({ type: "edit", before, after });
    this.emit({ kind: "history" });
  }

  nextNewUnitId() {
    const used = new Set(this.scenario.new_units.map((nu) => nu.id));
    let i = this.scenario.new_units.length + 1;
    while (used.has(`n${i}`)) i += 1;
    return `n${i}`;
  }

  async addNewUnit({ name, kind, geometry = null }) {
    const id = this.nextNewUnitId();
    await this.save((body) => {
      const nu = { id, name, kind, members: [], locked: false };
      if (geometry) nu.geometry = geometry;
      body.new_units.push(nu);
    });
    return id;
  }

  async setLocked(newUnitId, locked) {
    await this.save((body) => { body.new_units.find((nu) => nu.id === newUnitId).locked = locked; });
  }

  async renameNewUnit(newUnitId, name) {
    await this.save((body) => { body.new_units.find((nu) => nu.id === newUnitId).name = name; });
  }

  async removeNewUnit(newUnitId) {
    await this.save((body) => { body.new_units = body.new_units.filter((nu) => nu.id !== newUnitId); });
  }
}

/** A copy of the scenario without the store's id and version: what PUT/POST take. */
export function scenarioBody(scenario) {
  const { id, version, ...rest } = scenario;
  const body = structuredClone(rest);
  body.new_units = (scenario.new_units || []).map((nu) => ({ ...structuredClone(nu), members: [...(nu.members || [])] }));
  return body;
}

/** Names already used by another new unit of the scenario (diacritic- and case-insensitive). */
export function duplicateName(scenario, name, exceptId = null) {
  const key = fold(name);
  return (scenario ? scenario.new_units : []).find((nu) => nu.id !== exceptId && fold(nu.name) === key) || null;
}

/** An edit was tried while another scenario was being opened: nothing was sent. */
export class BusyError extends Error {
  constructor() { super("scenario is loading"); }
}

/** A scenario open that a later open replaced (the user picked again meanwhile). */
export class SupersededOpen extends Error {
  constructor() { super("superseded"); }
}

export class LockedError extends Error {
  constructor(newUnitName) { super(newUnitName); this.newUnitName = newUnitName; }
}
