// Scenario state of the page: the scenario (new units, locks, version), the latest figures of
// each new unit (evaluation JSON), which new unit every old unit belongs to, and undo/redo.
// Every change goes through the API; a 409 (someone else saved first) reloads and reports.

import { api, ApiError, scenarioOf } from "./api.js";

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

  async open(scenarioId) {
    const [scenarioBody, evaluation] = await Promise.all([api.getScenario(scenarioId), api.evaluation(scenarioId)]);
    this.scenario = scenarioOf(scenarioBody);
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
    this.warnings = evaluation.warnings || [];
    this.rebuildAssignment();
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
    if (result.warnings) this.warnings = result.warnings;
    this.rebuildAssignment();
    if (record) {
      this.undoStack.push({ before, after: effective });
      this.redoStack = [];
    }
    this.emit({ kind: "reassigned", changedIds, codes: Object.keys(effective) });
    return changedIds;
  }

  async undo() {
    const step = this.undoStack.pop();
    if (!step) return;
    try {
      await this.reassign(step.before, { record: false });
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
      await this.reassign(step.after, { record: false });
      this.undoStack.push(step);
    } catch (error) {
      if (!(error instanceof ConflictReloaded)) this.redoStack.push(step);
      throw error;
    }
    this.emit({ kind: "history" });
  }

  /**
   * The scenario body for PUT/POST: the stored scenario (docs/contract/scenario.schema.json) as it is,
   * so fields this page does not edit (flags, notes, parent scope, context, unit_flags, dataset) survive a save.
   */
  body(overrides = {}) {
    const { id, version, ...stored } = structuredClone(this.scenario); // id/version are the store's, not the scenario's
    return { ...stored, ...overrides };
  }

  /** Save a changed scenario (mutate(body) edits a copy) and reload the figures. */
  async save(mutate) {
    const body = this.body();
    mutate(body);
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
    await this.open(this.id);
    this.undoStack = keepUndo.filter((step) => Object.values(step.after).every((id) => id === null || this.newUnit(id)));
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

export class LockedError extends Error {
  constructor(newUnitName) { super(newUnitName); this.newUnitName = newUnitName; }
}
