/**
 * What both store backends share: the rows as their SQL returns them, their conversion to the
 * store's records, and the checks of inputs only the store sees (ratings, passwords, session
 * lifetimes). The backends differ only in how they talk to their database.
 */
import { checkText } from './validate.js';
import { MAX_PASSWORD_CHARS } from './passwords.js';
import {
  StoreInputError,
  type AuditEntry,
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
