/**
 * Input checks shared by every store backend, so that what one database accepts the other accepts
 * too. Each failure is a StoreInputError naming the field.
 */
import { StoreInputError, type BatchJobState, type BatchKind, type FacilityEditKind, type PlanRunStatus, type UserRole } from './store.js';

/** Limit of one JSON column, in UTF-8 bytes of its serialised text. */
export const MAX_JSON_BYTES = 1 << 20;
/** Names: scenario, region, user, zone, facility ref, model, actor. */
export const MAX_NAME_CHARS = 200;
/** Free text: descriptions, comments, error messages, file paths. */
export const MAX_TEXT_CHARS = 100_000;
/** Nesting deeper than this is refused rather than risking the stack on a hostile body. */
export const MAX_JSON_DEPTH = 200;

// A surrogate half without its partner cannot be encoded as UTF-8: the database would store U+FFFD.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Names are shown in lists and logs; a newline or escape character in one is never intended.
const CONTROL_CHAR = /[\u0000-\u001F\u007F]/;

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

function checkUnicode(field: string, value: string): void {
  // PostgreSQL text cannot hold NUL; refusing it everywhere keeps the backends interchangeable.
  if (value.includes('\u0000')) throw new StoreInputError(field, 'must not contain the NUL character (U+0000)');
  if (LONE_SURROGATE.test(value)) throw new StoreInputError(field, 'is not valid Unicode (a lone surrogate code unit)');
}

/** Free text up to maxChars UTF-16 units; may be empty. */
export function checkText(field: string, value: unknown, maxChars = MAX_TEXT_CHARS): string {
  if (typeof value !== 'string') throw new StoreInputError(field, `must be a string, got ${describe(value)}`);
  if (value.length > maxChars) throw new StoreInputError(field, `is ${value.length} characters long, the limit is ${maxChars}`);
  checkUnicode(field, value);
  return value;
}

/** A name: non-blank, one line, at most maxChars. Kept exactly as given (no trimming). */
export function checkName(field: string, value: unknown, maxChars = MAX_NAME_CHARS): string {
  if (typeof value !== 'string') throw new StoreInputError(field, `must be a string, got ${describe(value)}`);
  if (value.trim() === '') throw new StoreInputError(field, 'must not be empty');
  if (value.length > maxChars) throw new StoreInputError(field, `is ${value.length} characters long, the limit is ${maxChars}`);
  checkUnicode(field, value);
  if (CONTROL_CHAR.test(value)) throw new StoreInputError(field, 'must not contain control characters (newline, tab, …)');
  return value;
}

export function checkOptionalName(field: string, value: unknown): string | null {
  return value === undefined || value === null ? null : checkName(field, value);
}

export function checkId(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new StoreInputError(field, `must be a positive integer, got ${String(value)}`);
  return value;
}

export function checkVersion(field: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new StoreInputError(field, `must be an integer ≥ ${min}, got ${String(value)}`);
  return value;
}

export function checkLimit(field: string, value: unknown, fallback = 100, max = 1000): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) throw new StoreInputError(field, `must be an integer in [1, ${max}], got ${String(value)}`);
  return value;
}

export function checkOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new StoreInputError(field, `must be one of ${allowed.join(', ')}, got ${typeof value === 'string' ? `"${value.slice(0, 40)}"` : describe(value)}`);
  }
  return value as T;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 date-time with zone; returned normalised to toISOString() form (UTC, milliseconds). */
export function checkTime(field: string, value: unknown): string {
  if (typeof value !== 'string' || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    throw new StoreInputError(field, `must be an ISO-8601 time with zone such as 2025-01-31T08:00:00Z, got ${typeof value === 'string' ? `"${value.slice(0, 40)}"` : describe(value)}`);
  }
  return new Date(value).toISOString();
}

/**
 * Serialise a JSON value after checking that it is plain JSON (so it comes back exactly as given:
 * no Dates turned into strings, no NaN turned into null, no functions silently dropped) and that
 * its text fits in maxBytes.
 */
export function toJsonText(field: string, value: unknown, maxBytes = MAX_JSON_BYTES): string {
  const problem = findNonJson(value, 0);
  if (problem) {
    // the path is assembled only on failure: a clean megabyte of edits costs no string building
    const path = problem.path.reverse().map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
    throw new StoreInputError(`${field}${path}`, problem.message);
  }
  const text = JSON.stringify(value);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new StoreInputError(field, `is ${(bytes / 1048576).toFixed(2)} MiB as JSON (${bytes} bytes), the limit is ${(maxBytes / 1048576).toFixed(2)} MiB (${maxBytes} bytes)`);
  }
  return text;
}

interface JsonProblem {
  /** innermost key first. */
  path: (string | number)[];
  message: string;
}

function findNonJson(value: unknown, depth: number): JsonProblem | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : { path: [], message: `must be a finite number (JSON has no ${String(value)})` };
  if (depth >= MAX_JSON_DEPTH) return { path: [], message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      // a hole in a sparse array would come back as null
      if (!(i in value)) return { path: [i], message: 'is missing (sparse array)' };
      const p = findNonJson(value[i], depth + 1);
      if (p) return p.path.push(i), p;
    }
    return null;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return { path: [], message: `must be plain JSON, got an instance of ${(value as object).constructor?.name ?? 'a class'}` };
    for (const k in value) {
      if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
      const p = findNonJson((value as Record<string, unknown>)[k], depth + 1);
      if (p) return p.path.push(k), p;
    }
    return null;
  }
  return { path: [], message: `must be a JSON value, got ${typeof value}` };
}

/** A JSON object (not array, not null). */
export function checkJsonObject(field: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new StoreInputError(field, `must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

export function checkJsonArray(field: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new StoreInputError(field, `must be an array, got ${describe(value)}`);
  return value;
}

/* The enumerations and the plan-run life cycle, shared by every backend. */

export const FACILITY_EDIT_KINDS = ['add', 'edit', 'delete'] as const satisfies readonly FacilityEditKind[];
export const USER_ROLES = ['public', 'planner', 'admin'] as const satisfies readonly UserRole[];
export const PLAN_RUN_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const satisfies readonly PlanRunStatus[];

/** Which status may follow which (staying in a status is listed when a progress update may keep it). */
export const PLAN_RUN_TRANSITIONS: Readonly<Record<PlanRunStatus, readonly PlanRunStatus[]>> = {
  queued: ['queued', 'running', 'failed', 'cancelled'],
  running: ['running', 'done', 'failed', 'cancelled'],
  done: [],
  failed: [],
  cancelled: [],
};

export const isFinished = (s: PlanRunStatus): boolean => PLAN_RUN_TRANSITIONS[s].length === 0;

/** The key that makes user names unique: "Admin", "admin" and full-width "ａｄｍｉｎ" are one name. */
export const userNameKey = (name: string): string => name.normalize('NFKC').toLowerCase();

/** 0.001° is about 110 m north–south: enough for a zone map, too coarse to find a door. */
export function roundCoordinate(x: number): number {
  const r = Math.round(x * 1000) / 1000;
  return r === 0 ? 0 : r; // no -0
}

export const BATCH_KINDS = ['assess', 'plan', 'import'] as const satisfies readonly BatchKind[];
export const BATCH_JOB_STATES = ['queued', 'running', 'done', 'failed'] as const satisfies readonly BatchJobState[];
/** Jobs in one batch: a city has ~1,600 community units, the national programme a few hundred pilots. */
export const MAX_BATCH_JOBS = 10_000;
