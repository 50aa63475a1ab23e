/**
 * Helpers for the tests of the store-backed API: a store with users (cheap scrypt so logins are
 * fast) on each backend, logging in through POST /api/login, and requests carrying the session
 * cookie and CSRF token.
 *
 * forEachStoreBackend(body) declares body's tests once per store backend (SQLite, PostgreSQL), as
 * the store contract tests do (test/store/backends.ts): one throwaway PostgreSQL cluster for the
 * file's PostgreSQL suite, a new database for every store made in it; skipped without PostgreSQL,
 * failing when CI is set.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { QuarterStore, UserRole } from '../../src/store/store.js';
import { forEachBackend, type FreshStore } from '../store/backends.js';

/** The cheapest scrypt the store accepts: tests log in hundreds of times. */
export const TEST_SCRYPT = { logN: 10, r: 8, p: 1, keyLength: 32, saltLength: 16 };

export interface TestUser {
  name: string;
  password: string;
  role: UserRole;
}

export const USERS: Record<'admin' | 'planner' | 'reader', TestUser> = {
  admin: { name: 'admin', password: 'admin-password-1', role: 'admin' },
  planner: { name: '规划师', password: 'planner-password-1', role: 'planner' },
  reader: { name: 'reader', password: 'reader-password-1', role: 'public' },
};

async function addUsers(store: QuarterStore, users: readonly TestUser[]): Promise<void> {
  for (const u of users) await store.createUser({ name: u.name, password: u.password, role: u.role });
}

/** An SQLite store with users (in memory unless a path is given). */
export async function storeWithUsers(users: readonly TestUser[] = Object.values(USERS), path = ':memory:'): Promise<QuarterStore> {
  const store = await openSqliteStore(path, { passwordParams: TEST_SCRYPT });
  await addUsers(store, users);
  return store;
}

export interface ApiStoreBackend {
  name: 'sqlite' | 'postgres';
  /**
   * A store on a new, empty database with these users, and a raw connection to read it without
   * the store. SQLite keeps it in memory unless `file` is set (only a file has a raw connection).
   */
  storeWithUsers(users?: readonly TestUser[], opts?: { file?: boolean }): Promise<FreshStore>;
}

/** Declare `body`'s tests once per store backend, inside describe('sqlite') / describe('postgres'). */
export function forEachStoreBackend(body: (backend: ApiStoreBackend) => void): void {
  forEachBackend((backend) =>
    body({
      name: backend.name,
      async storeWithUsers(users = Object.values(USERS), opts = {}) {
        const fresh = await backend.fresh({ passwordParams: TEST_SCRYPT, memory: !opts.file });
        await addUsers(fresh.store, users);
        return fresh;
      },
    }),
  );
}

export interface Session {
  cookie: string;
  csrf: string;
  /** a request as this user: cookie always, CSRF header on writes unless `csrf: null`. */
  req(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, opts?: { csrf?: string | null; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
}

export async function login(app: FastifyInstance, user: TestUser): Promise<Session> {
  const res = await app.inject({ method: 'POST', url: '/api/login', payload: { name: user.name, password: user.password } });
  expect(res.statusCode, res.body).toBe(200);
  const cookie = res.cookies.find((c) => c.name === 'quarter_session');
  expect(cookie).toBeDefined();
  const csrf = (res.json() as { csrfToken: string }).csrfToken;
  return {
    cookie: cookie!.value,
    csrf,
    req: (method, url, payload, opts = {}) => {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const token = opts.csrf === undefined ? csrf : opts.csrf;
      if (method !== 'GET' && token !== null) headers['x-csrf-token'] = token;
      return app.inject({
        method,
        url,
        cookies: { quarter_session: cookie!.value },
        headers,
        ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
      });
    },
  };
}

export interface ErrorBody {
  error: string;
  message: string;
  field?: string;
}

/** A 4xx (or 503) JSON error with a message; naming `field` when given. */
export function expectError(res: LightMyRequestResponse, status: number, field?: string): ErrorBody {
  expect(res.statusCode, res.body.slice(0, 400)).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/application\/json/);
  const body = res.json() as ErrorBody;
  expect(typeof body.error).toBe('string');
  expect(typeof body.message).toBe('string');
  expect(body.message.length).toBeGreaterThan(5);
  if (field !== undefined) expect(body.field, body.message).toBe(field);
  return body;
}
