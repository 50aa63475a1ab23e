/**
 * The store: everything users create on top of an imported region (scenarios, plan runs, facility
 * edits, survey responses, users, the audit log). One interface, asynchronous so that a shared
 * server database can implement it as well as the embedded SQLite file.
 *
 * Guarantees every backend gives: each write is one transaction; an update names the version it
 * read and fails with VersionConflictError when someone else wrote in between (no lost update);
 * every write that changes user data leaves an audit entry in the same transaction.
 */

/** A named set of edits on top of a base region (JSON kept as given; src/scenario validates it). */
export interface ScenarioRecord {
  id: number;
  /** region name (Region.meta.name) the scenario applies to. */
  region: string;
  name: string;
  description: string;
  edits: unknown[];
  /** starts at 1, +1 per successful update. */
  version: number;
  createdAt: string;
  updatedAt: string;
  /** user name of the creator, null from the command line. */
  createdBy: string | null;
}

export interface NewScenario {
  region: string;
  name: string;
  description?: string;
  edits: unknown[];
  actor?: string | null;
}

export interface ScenarioPatch {
  name?: string;
  description?: string;
  edits?: unknown[];
}

/** The write lost a race: the record changed since `expected` was read (HTTP 409). */
export class VersionConflictError extends Error {
  constructor(
    readonly entity: string,
    readonly id: number | string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`${entity} ${id} was changed by someone else (version ${actual}, you edited version ${expected}): reload and apply your edit again`);
    this.name = 'VersionConflictError';
  }
}

/** A unique name is taken (HTTP 409). */
export class DuplicateNameError extends Error {
  constructor(
    readonly entity: string,
    readonly nameTaken: string,
  ) {
    super(`a ${entity} named "${nameTaken}" already exists`);
    this.name = 'DuplicateNameError';
  }
}

/** No such record (HTTP 404). */
export class NotFoundError extends Error {
  constructor(
    readonly entity: string,
    readonly id: number | string,
  ) {
    super(`no ${entity} ${typeof id === 'string' ? `"${id}"` : id}`);
    this.name = 'NotFoundError';
  }
}

export interface ScenarioStore {
  listScenarios(region?: string): Promise<ScenarioRecord[]>;
  /** by id, or by name within a region. */
  getScenario(ref: number | { region: string; name: string }): Promise<ScenarioRecord>;
  createScenario(input: NewScenario): Promise<ScenarioRecord>;
  /** fails with VersionConflictError unless the stored version is expectedVersion. */
  updateScenario(id: number, expectedVersion: number, patch: ScenarioPatch, actor?: string | null): Promise<ScenarioRecord>;
  deleteScenario(id: number, expectedVersion: number, actor?: string | null): Promise<void>;
}
