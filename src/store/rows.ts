/**
 * What both store backends share: the rows as their SQL returns them, their conversion to the
 * store's records, and the checks of inputs only the store sees (ratings, passwords, session
 * lifetimes). The backends differ only in how they talk to their database.
 */
import { BATCH_JOB_STATES, BATCH_KINDS, checkId, checkName, checkOneOf, checkOptionalName, checkText, MAX_BATCH_JOBS, toJsonText } from './validate.js';
import { MAX_PASSWORD_CHARS } from './passwords.js';
import {
  StoreInputError,
  type AuditEntry,
  type BatchJobPatch,
  type BatchJobRecord,
  type BatchJobState,
  type BatchKind,
  type BatchRecord,
  type NewBatch,
  type FacilityEditRecord,
  type PlanRunRecord,
  type PlanRunStatus,
  type RegionRecord,
  type ScenarioRecord,
  type SurveyResponseRecord,
  type UserRecord,
  type UserRole,
} from './store.js';

/** Session lifetimes the stores accept (seconds): a minute to 90 days. */
export const SESSION_TTL_MIN = 60;
export const SESSION_TTL_MAX = 90 * 86400;

export interface ScenarioRow {
  id: number;
  region: string;
  name: string;
  description: string;
  edits: string;
  version: number;
  created_at: string;
  updated_at: string;
  created_by: string | null;
}
export interface RegionRow {
  name: string;
  file: string;
  sha256: string;
  imported_at: string;
  meta: string;
}
export interface FacilityEditRow {
  id: number;
  region: string;
  kind: FacilityEditRecord['kind'];
  facility_ref: string;
  data: string;
  version: number;
  actor: string | null;
  at: string;
}
export interface PlanRunRow {
  id: number;
  region: string;
  model: string;
  params: string;
  status: PlanRunStatus;
  progress: number;
  result: string | null;
  error: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  actor: string | null;
}
export interface BatchRow {
  id: number;
  kind: BatchKind;
  params: string;
  created_at: string;
  actor: string | null;
}
/** one row per (batch, state) of the counting query, with the summed progress of those jobs. */
export interface BatchCountRow {
  batch_id: number;
  state: BatchJobState;
  n: number;
  progress_sum: number;
}
export interface BatchJobRow {
  batch_id: number;
  job_key: string;
  region: string;
  state: BatchJobState;
  progress: number;
  attempts: number;
  worker: string | null;
  error: string | null;
  result: string | null;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}
export interface SurveyRow {
  id: number;
  region: string;
  zone: string | null;
  lon: number | null;
  lat: number | null;
  overall: number;
  per_format: string;
  comment: string;
  created_at: string;
}
export interface UserRow {
  id: number;
  name: string;
  role: UserRole;
  password_hash: string;
  created_at: string;
  /** boolean in PostgreSQL, 0/1 in SQLite. */
  disabled: boolean | number;
  version: number;
}
export interface AuditRow {
  id: number;
  at: string;
  actor: string | null;
  action: string;
  entity: string;
  entity_id: string | null;
  detail: string;
}

export const toScenario = (r: ScenarioRow): ScenarioRecord => ({
  id: r.id,
  region: r.region,
  name: r.name,
  description: r.description,
  edits: JSON.parse(r.edits) as unknown[],
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  createdBy: r.created_by,
});
export const toRegion = (r: RegionRow): RegionRecord => ({ name: r.name, file: r.file, sha256: r.sha256, importedAt: r.imported_at, meta: JSON.parse(r.meta) as Record<string, unknown> });
export const toFacilityEdit = (r: FacilityEditRow): FacilityEditRecord => ({
  id: r.id,
  region: r.region,
  kind: r.kind,
  facilityRef: r.facility_ref,
  data: JSON.parse(r.data) as unknown,
  version: r.version,
  actor: r.actor,
  at: r.at,
});
export const toPlanRun = (r: PlanRunRow): PlanRunRecord => ({
  id: r.id,
  region: r.region,
  model: r.model,
  params: JSON.parse(r.params) as unknown,
  status: r.status,
  progress: r.progress,
  result: r.result === null ? null : (JSON.parse(r.result) as unknown),
  error: r.error,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
  actor: r.actor,
});
export const toBatchJob = (r: BatchJobRow): BatchJobRecord => ({
  batchId: r.batch_id,
  key: r.job_key,
  region: r.region,
  state: r.state,
  progress: r.progress,
  attempts: r.attempts,
  worker: r.worker,
  error: r.error,
  result: r.result === null ? null : (JSON.parse(r.result) as unknown),
  updatedAt: r.updated_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});
/** A batch with its per-state counts (rows of this batch only; states without jobs count 0). */
export function toBatch(r: BatchRow, counts: readonly BatchCountRow[]): BatchRecord {
  const byState: Record<BatchJobState, number> = { queued: 0, running: 0, done: 0, failed: 0 };
  let total = 0;
  let progress = 0;
  for (const c of counts) {
    byState[c.state] += Number(c.n);
    total += Number(c.n);
    progress += Number(c.progress_sum);
  }
  return { id: r.id, kind: r.kind, params: JSON.parse(r.params) as unknown, createdAt: r.created_at, actor: r.actor, counts: byState, progress: total ? progress / total : 0 };
}
export const toSurvey = (r: SurveyRow): SurveyResponseRecord => ({
  id: r.id,
  region: r.region,
  zone: r.zone,
  lon: r.lon,
  lat: r.lat,
  overall: r.overall,
  perFormat: JSON.parse(r.per_format) as Record<string, number>,
  comment: r.comment,
  createdAt: r.created_at,
});
export const toUser = (r: UserRow): UserRecord => ({ id: r.id, name: r.name, role: r.role, disabled: r.disabled === true || r.disabled === 1, version: r.version, createdAt: r.created_at });
export const toAudit = (r: AuditRow): AuditEntry => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, entity: r.entity, entityId: r.entity_id, detail: JSON.parse(r.detail) as unknown });

/** Code-point order with null last: the same in every backend, unlike database collations. */
export const compareZones = (a: string | null, b: string | null): number => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1);

export const checkTtl = (field: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < SESSION_TTL_MIN || v > SESSION_TTL_MAX) {
    throw new StoreInputError(field, `must be an integer number of seconds in [${SESSION_TTL_MIN}, ${SESSION_TTL_MAX}], got ${String(v)}`);
  }
  return v;
};

export function checkRating(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 5) throw new StoreInputError(field, `must be an integer from 1 to 5, got ${String(v)}`);
  return v;
}

export function checkPassword(field: string, v: unknown): string {
  if (typeof v !== 'string') throw new StoreInputError(field, 'must be a string');
  if ([...v].length < 8) throw new StoreInputError(field, 'must be at least 8 characters');
  if (v.length > MAX_PASSWORD_CHARS) throw new StoreInputError(field, `must be at most ${MAX_PASSWORD_CHARS} characters`);
  return checkText(field, v, MAX_PASSWORD_CHARS);
}

/** A new batch, checked: at least one job, keys unique within the batch. */
export function checkNewBatch(input: NewBatch, maxJsonBytes: number): { kind: NewBatch['kind']; params: string; jobs: { key: string; region: string }[]; actor: string | null } {
  if (input === null || typeof input !== 'object') throw new StoreInputError('batch', 'must be an object ({ kind, params, jobs })');
  const kind = checkOneOf('kind', input.kind, BATCH_KINDS);
  const params = toJsonText('params', input.params === undefined ? null : input.params, maxJsonBytes);
  if (!Array.isArray(input.jobs) || input.jobs.length === 0) throw new StoreInputError('jobs', 'must be a non-empty list');
  if (input.jobs.length > MAX_BATCH_JOBS) throw new StoreInputError('jobs', `has ${input.jobs.length} jobs, the limit is ${MAX_BATCH_JOBS}`);
  const seen = new Set<string>();
  const jobs = input.jobs.map((j, i) => {
    const key = checkName(`jobs[${i}].key`, j?.key);
    if (seen.has(key)) throw new StoreInputError(`jobs[${i}].key`, `"${key}" is used twice`);
    seen.add(key);
    return { key, region: checkText(`jobs[${i}].region`, j.region, 4096) };
  });
  return { kind, params, jobs, actor: checkOptionalName('actor', input.actor) };
}

/** A batch job change, checked; `result` is JSON text (present exactly when state is done). */
export function checkBatchJobPatch(
  batchId: unknown,
  key: unknown,
  patch: BatchJobPatch,
  maxJsonBytes: number,
): { batchId: number; key: string; state: BatchJobPatch['state']; progress: number | undefined; newAttempt: boolean; worker: string | null | undefined; error: string | null | undefined; result: string | null } {
  const id = checkId('batchId', batchId);
  const k = checkName('key', key);
  if (patch === null || typeof patch !== 'object') throw new StoreInputError('patch', 'must be an object');
  const state = checkOneOf('state', patch.state, BATCH_JOB_STATES);
  if (patch.progress !== undefined && (typeof patch.progress !== 'number' || !(patch.progress >= 0 && patch.progress <= 1))) {
    throw new StoreInputError('progress', `must be a number in [0, 1], got ${String(patch.progress)}`);
  }
  if (patch.newAttempt !== undefined && typeof patch.newAttempt !== 'boolean') throw new StoreInputError('newAttempt', 'must be true or false');
  if (patch.newAttempt && state !== 'running') throw new StoreInputError('newAttempt', 'a new attempt starts running');
  if ((state === 'done') !== (patch.result !== undefined)) throw new StoreInputError('result', state === 'done' ? 'a done job needs its result' : 'only a done job has a result');
  const result = patch.result === undefined ? null : toJsonText('result', patch.result, maxJsonBytes);
  const worker = patch.worker === undefined || patch.worker === null ? patch.worker : checkName('worker', patch.worker);
  const error = patch.error === undefined || patch.error === null ? patch.error : checkText('error', patch.error, 10_000);
  return { batchId: id, key: k, state, progress: patch.progress, newAttempt: patch.newAttempt ?? false, worker, error, result };
}
