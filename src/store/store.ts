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

/* ------------------------------------------------------------------------------------------------
 * The whole store. Rules every backend follows so that callers never see the difference:
 *  - timestamps are ISO-8601 UTC strings made by the store's clock (not the database's);
 *  - text fields are well-formed Unicode without NUL (PostgreSQL text cannot hold NUL); JSON
 *    fields hold any JSON value, NUL included, kept exactly, at most 1 MiB each;
 *  - lists come back in id order (or newest first for the audit log), never in collation order,
 *    which differs between databases;
 *  - ids are never reused after a delete.
 * ---------------------------------------------------------------------------------------------- */

/** Bad input for a store call (HTTP 400); `field` names the argument at fault. */
export class StoreInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'StoreInputError';
  }
}

/** The record is in a state that forbids this change, e.g. progress on a cancelled plan run (HTTP 409). */
export class InvalidStateError extends Error {
  constructor(
    readonly entity: string,
    readonly id: number | string,
    readonly state: string,
    message: string,
  ) {
    super(`${entity} ${id} is ${state}: ${message}`);
    this.name = 'InvalidStateError';
  }
}

/** The database cannot be opened (not a database, not writable, written by a newer version, …); names the file. */
export class StoreOpenError extends Error {
  constructor(
    readonly location: string,
    message: string,
  ) {
    super(`${location}: ${message}`);
    this.name = 'StoreOpenError';
  }
}

/**
 * The database server cannot be reached just now (stopped, restarting, network): nothing of the
 * call was written. Transient: the same call succeeds once the server is back.
 */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    options?: { cause?: unknown },
    /** why: the server cannot be reached, another writer holds the lock, the disk is full, or it is read-only. */
    readonly reason: 'unreachable' | 'busy' | 'full' | 'read-only' = 'unreachable',
  ) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Most callers write on behalf of a user (by name); null = the command line or the system. */
export type Actor = string | null;

export interface RegionRecord {
  /** Region.meta.name. */
  name: string;
  /** where the region file lives (as given at import). */
  file: string;
  /** sha256 of the region file, 64 lower-case hex digits. */
  sha256: string;
  importedAt: string;
  meta: Record<string, unknown>;
}

export interface RegionInput {
  name: string;
  file: string;
  sha256: string;
  meta?: Record<string, unknown>;
  /** default: now. */
  importedAt?: string;
  actor?: Actor;
}

export type FacilityEditKind = 'add' | 'edit' | 'delete';

/** One edit of the planner to a region's facility list; the edits of a facility form a numbered history. */
export interface FacilityEditRecord {
  id: number;
  region: string;
  kind: FacilityEditKind;
  /** the facility edited: an id of the region's facility list, or a new ref chosen by the client for 'add'. */
  facilityRef: string;
  data: unknown;
  /** 1 for the first edit of this facility, +1 per edit. */
  version: number;
  actor: Actor;
  at: string;
}

export interface NewFacilityEdit {
  region: string;
  kind: FacilityEditKind;
  facilityRef: string;
  data?: unknown;
  actor?: Actor;
}

export type PlanRunStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface PlanRunRecord {
  id: number;
  region: string;
  /** which optimisation model (e.g. a coverage or p-median variant). */
  model: string;
  params: unknown;
  status: PlanRunStatus;
  /** 0–1. */
  progress: number;
  result: unknown;
  error: string | null;
  /** starts at 1, +1 per update. */
  version: number;
  createdAt: string;
  updatedAt: string;
  /** set when the run reaches done, failed or cancelled. */
  finishedAt: string | null;
  actor: Actor;
}

export interface NewPlanRun {
  region: string;
  model: string;
  params: unknown;
  actor?: Actor;
}

export interface PlanRunPatch {
  status?: PlanRunStatus;
  progress?: number;
  result?: unknown;
  error?: string | null;
}

/**
 * What an update of a plan run expects to find. Either or both: a version (no lost update) and/or
 * the statuses the writer believes the run is in (a solver reporting progress passes ['running'] and
 * learns with InvalidStateError that the run was cancelled). Illegal transitions always fail.
 */
export interface PlanRunExpectation {
  version?: number;
  status?: readonly PlanRunStatus[];
}

export interface PlanRunFilter {
  region?: string;
  status?: PlanRunStatus;
  /** default 100, at most 1000. */
  limit?: number;
}

/** A batch: one kind of job (assess, plan, import) over many regions, run by `quarter worker`s. */
export type BatchKind = 'assess' | 'plan' | 'import';
/** queued → running → done | failed; a failed attempt that will be retried goes back to queued. */
export type BatchJobState = 'queued' | 'running' | 'done' | 'failed';

export interface BatchJobRecord {
  batchId: number;
  /** unique within the batch (the line of the list file it came from). */
  key: string;
  /** what the job works on: a region file path (assess, plan) or an OSM extract (import). */
  region: string;
  state: BatchJobState;
  /** 0–1. */
  progress: number;
  /** attempts started so far (a retry after a worker died counts). */
  attempts: number;
  /** host:pid of the worker that last took the job. */
  worker: string | null;
  error: string | null;
  /** set exactly once, when the job first reaches done; never changed afterwards. */
  result: unknown;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface BatchRecord {
  id: number;
  kind: BatchKind;
  params: unknown;
  createdAt: string;
  actor: Actor;
  /** jobs per state. */
  counts: Record<BatchJobState, number>;
  /** mean progress of the jobs, 0–1. */
  progress: number;
}

export interface NewBatch {
  kind: BatchKind;
  params: unknown;
  jobs: readonly { key: string; region: string }[];
  actor?: Actor;
}

/**
 * A change of a batch job. A job that is done never changes again (the answer says changed: false),
 * so a retried job — its first worker killed after writing the result, say — keeps exactly one result.
 */
export interface BatchJobPatch {
  state: BatchJobState;
  progress?: number;
  /** counts one more attempt (with state running). */
  newAttempt?: boolean;
  worker?: string | null;
  error?: string | null;
  /** required with state done, refused otherwise. */
  result?: unknown;
}

export interface NewSurveyResponse {
  region: string;
  /** the zone (街道/社区) the respondent chose or was located in; null when none. */
  zone?: string | null;
  /** rounded by the store to 0.001° (~100 m) before it is kept; both or neither. */
  lon?: number | null;
  lat?: number | null;
  /** overall satisfaction, integer 1–5. */
  overall: number;
  /** satisfaction per format id, integers 1–5. */
  perFormat?: Record<string, number>;
  comment?: string;
  /** a keyed hash of the client (never a raw IP) for rate limiting; not returned by reads. */
  clientHash: string;
}

export interface SurveyResponseRecord {
  id: number;
  region: string;
  zone: string | null;
  lon: number | null;
  lat: number | null;
  overall: number;
  perFormat: Record<string, number>;
  comment: string;
  createdAt: string;
}

export interface SurveyZoneSummary {
  zone: string | null;
  count: number;
  /** mean of overall. */
  meanOverall: number;
  /** share of responses with overall ≥ 4. */
  shareSatisfied: number;
}

export type UserRole = 'public' | 'planner' | 'admin';

/** A user as the store hands it out: never the password hash. */
export interface UserRecord {
  id: number;
  name: string;
  role: UserRole;
  disabled: boolean;
  version: number;
  createdAt: string;
}

export interface NewUser {
  /** unique ignoring case and Unicode compatibility forms (NFKC), so "Admin" cannot impersonate "admin". */
  name: string;
  password: string;
  role: UserRole;
  actor?: Actor;
}

export interface UserPatch {
  role?: UserRole;
  /** disabling a user also ends all their sessions. */
  disabled?: boolean;
  password?: string;
}

/** What getSession answers: the session and its (enabled) user. */
export interface SessionRecord {
  userId: number;
  userName: string;
  role: UserRole;
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
}

/** createSession's answer: the only time the raw session token is seen (the store keeps its hash). */
export interface NewSessionResult extends SessionRecord {
  token: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: Actor;
  /** "<entity>.<verb>", e.g. scenario.update. */
  action: string;
  entity: string;
  entityId: string | null;
  detail: unknown;
}

export interface NewAuditEntry {
  actor?: Actor;
  action: string;
  entity: string;
  entityId?: string | number | null;
  detail?: unknown;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  entity?: string;
  entityId?: string | number;
  /** ISO timestamps, inclusive. */
  since?: string;
  until?: string;
  /** entries with a smaller id only (paging backwards). */
  beforeId?: number;
  /** default 100, at most 1000. */
  limit?: number;
}

export interface QuarterStore extends ScenarioStore {
  /** insert or replace the record of an imported region. */
  upsertRegion(input: RegionInput): Promise<RegionRecord>;
  listRegions(): Promise<RegionRecord[]>;
  getRegion(name: string): Promise<RegionRecord>;

  /**
   * Append an edit to a facility's history. `expectedVersion` is the version of the latest edit of
   * this facility the client saw (0 when it has none); otherwise VersionConflictError.
   */
  appendFacilityEdit(input: NewFacilityEdit, expectedVersion: number): Promise<FacilityEditRecord>;
  /** in id order; optionally one facility's history only. */
  listFacilityEdits(region: string, facilityRef?: string): Promise<FacilityEditRecord[]>;

  createPlanRun(input: NewPlanRun): Promise<PlanRunRecord>;
  updatePlanRun(id: number, expect: PlanRunExpectation, patch: PlanRunPatch, actor?: Actor): Promise<PlanRunRecord>;
  getPlanRun(id: number): Promise<PlanRunRecord>;
  /** newest first. */
  listPlanRuns(filter?: PlanRunFilter): Promise<PlanRunRecord[]>;

  /** the batch and all its jobs, in one transaction. */
  createBatch(input: NewBatch): Promise<BatchRecord>;
  getBatch(id: number): Promise<BatchRecord & { jobs: BatchJobRecord[] }>;
  /** newest first. */
  listBatches(opts?: { limit?: number }): Promise<BatchRecord[]>;
  /** one statement; see BatchJobPatch. NotFoundError for an unknown job. */
  updateBatchJob(batchId: number, key: string, patch: BatchJobPatch): Promise<{ changed: boolean; job: BatchJobRecord }>;

  addSurveyResponse(input: NewSurveyResponse): Promise<SurveyResponseRecord>;
  /** in id order; zone null = only responses without a zone; afterId pages forward; limit default 100, at most 1000. */
  listSurveyResponses(region: string, opts?: { zone?: string | null; limit?: number; afterId?: number }): Promise<SurveyResponseRecord[]>;
  /** one summary per zone (null zone included), zones in code-point order, null last. */
  summarizeSurvey(region: string): Promise<SurveyZoneSummary[]>;
  /** responses of one client hash since an ISO time, for rate limiting. */
  countSurveyResponsesByClient(clientHash: string, since: string): Promise<number>;

  createUser(input: NewUser): Promise<UserRecord>;
  getUser(ref: number | string): Promise<UserRecord>;
  listUsers(): Promise<UserRecord[]>;
  updateUser(id: number, expectedVersion: number, patch: UserPatch, actor?: Actor): Promise<UserRecord>;
  /** the user when name and password match and the user is enabled; null otherwise (same work either way). */
  verifyUserPassword(name: string, password: string): Promise<UserRecord | null>;

  createSession(userId: number, opts?: { ttlSeconds?: number; actor?: Actor }): Promise<NewSessionResult>;
  /** null when unknown, expired, or the user is disabled. */
  getSession(token: string): Promise<SessionRecord | null>;
  /** true when a session was ended. */
  deleteSession(token: string, actor?: Actor): Promise<boolean>;
  /** remove expired sessions; returns how many. */
  expireSessions(): Promise<number>;

  /** for events that are not a store write (e.g. a failed login); its own transaction. */
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** newest first. */
  listAudit(filter?: AuditFilter): Promise<AuditEntry[]>;

  close(): Promise<void>;
}
