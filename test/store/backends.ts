/**
 * The store backends the contract tests run against, each with a raw connection of its own (a
 * separate better-sqlite3 handle, or a separate pg client) so that tests read what the database
 * holds rather than what the store says it holds.
 *
 * forEachBackend(body) declares body's tests once per backend. PostgreSQL runs on a throwaway
 * cluster (pg-server.ts) started before the suite and stopped after it, or on QUARTER_TEST_PG_URL.
 * Without PostgreSQL the suite is skipped with the reason in its name — or fails, when CI is set.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { Migration } from '../../src/store/migrations.js';
import { type ScryptParams } from '../../src/store/passwords.js';
import { openPgStore } from '../../src/store/pg-store.js';
import { redactDatabaseUrl } from '../../src/store/redact.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { QuarterStore } from '../../src/store/store.js';
import { pgUnavailableReason, startPgTestServer, type PgTestServer } from './pg-server.js';

export interface OpenOptions {
  now?: () => Date;
  passwordParams?: ScryptParams;
  sessionTtlSeconds?: number;
  migrations?: readonly Migration[];
  /** SQLite only: an in-memory database instead of a file (ignored by PostgreSQL). */
  memory?: boolean;
}

/** A database read and written without the store. SQL uses ? placeholders in both dialects. */
export interface RawDb {
  rows(sql: string, ...params: unknown[]): Promise<Record<string, unknown>[]>;
  exec(sql: string): Promise<void>;
  /** every row of every table of the store, in a fixed order. */
  snapshot(): Promise<Record<string, unknown[]>>;
  /** make every insert into audit_log fail with "injected failure" / undo that. */
  injectAuditFailure(): Promise<void>;
  removeAuditFailure(): Promise<void>;
  /** an SQL expression for the UTF-8 bytes of a text column (read back as a Buffer). */
  utf8Bytes(column: string): string;
  close(): Promise<void>;
}

export interface FreshStore {
  store: QuarterStore;
  /** how the store names its database in messages (file path, or URL without password). */
  location: string;
  raw: RawDb;
  /** another store instance on the same database (a second server or connection). */
  reopen(opts?: OpenOptions): Promise<QuarterStore>;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** null when this backend can run here. */
  unavailable: string | null;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** a store on a new, empty database (with the raw connection, closed at teardown). */
  fresh(opts?: OpenOptions): Promise<FreshStore>;
}

const toDollar = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

function sqliteBackend(): Backend {
  let root = '';
  let n = 0;
  return {
    name: 'sqlite',
    unavailable: null,
    async setup() {
      root = mkdtempSync(join(tmpdir(), 'quarter-contract-'));
    },
    async teardown() {
      if (root) rmSync(root, { recursive: true, force: true });
    },
    async fresh(opts = {}) {
      const { memory, ...storeOpts } = opts;
      const path = memory ? ':memory:' : join(root, `s${++n}.db`);
      const store = await openSqliteStore(path, storeOpts);
      const open = (readonly: boolean): Database.Database => {
        if (memory) throw new Error('an in-memory SQLite store has no raw connection');
        return new Database(path, { readonly });
      };
      const withDb = <T>(readonly: boolean, fn: (db: Database.Database) => T): T => {
        const db = open(readonly);
        try {
          return fn(db);
        } finally {
          db.close();
        }
      };
      const raw: RawDb = {
        rows: async (sql, ...params) => withDb(true, (db) => db.prepare(sql).all(...params) as Record<string, unknown>[]),
        exec: async (sql) => withDb(false, (db) => void db.exec(sql)),
        snapshot: async () =>
          withDb(true, (db) => {
            const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
            return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]));
          }),
        injectAuditFailure: async () => withDb(false, (db) => void db.exec(`CREATE TRIGGER inject_failure BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'injected failure'); END`)),
        removeAuditFailure: async () => withDb(false, (db) => void db.exec('DROP TRIGGER inject_failure')),
        utf8Bytes: (column) => `CAST(${column} AS BLOB)`,
        close: async () => {},
      };
      return {
        store,
        location: memory ? ':memory:' : resolve(path),
        raw,
        reopen: (o = {}) => openSqliteStore(path, o),
      };
    },
  };
}

/** Raw pg clients read bigint as numbers (ids, counts), like the records do. */
const RAW_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format))) as pg.CustomTypesConfig['getTypeParser'],
};

export async function rawPgClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, types: RAW_TYPES });
  await c.connect();
  return c;
}

function postgresBackend(): Backend {
  let server: PgTestServer | null = null;
  const clients: pg.Client[] = [];
  return {
    name: 'postgres',
    unavailable: pgUnavailableReason(),
    async setup() {
      server = await startPgTestServer();
    },
    async teardown() {
      await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
      await server?.stop();
      server = null;
    },
    async fresh(opts = {}) {
      if (!server) throw new Error('the PostgreSQL test server is not running');
      const { memory: _memory, ...storeOpts } = opts;
      const url = await server.createDatabase();
      const store = await openPgStore(url, storeOpts);
      const client = await rawPgClient(url);
      clients.push(client);
      const rows = async (sql: string, ...params: unknown[]): Promise<Record<string, unknown>[]> => (await client.query(toDollar(sql), params)).rows as Record<string, unknown>[];
      const raw: RawDb = {
        rows,
        exec: async (sql) => void (await client.query(sql)),
        snapshot: async () => {
          // the store's tables: those of the schema not owned by an extension (PostGIS's spatial_ref_sys)
          const tables = (
            await rows(`SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = current_schema() AND c.relkind = 'r'
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
              ORDER BY c.relname`)
          ).map((r) => String(r.name));
          const out: Record<string, unknown[]> = {};
          for (const t of tables) out[t] = await rows(`SELECT * FROM "${t}" ORDER BY 1`);
          return out;
        },
        injectAuditFailure: async () =>
          void (await client.query(`CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
            CREATE TRIGGER inject_failure BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION inject_failure();`)),
        removeAuditFailure: async () => void (await client.query('DROP TRIGGER inject_failure ON audit_log; DROP FUNCTION inject_failure();')),
        utf8Bytes: (column) => `convert_to(${column}, 'UTF8')`,
        close: async () => {},
      };
      return { store, location: redactDatabaseUrl(url), raw, reopen: (o = {}) => openPgStore(url, o) };
    },
  };
}

let warned = false;

/** Declare `body`'s tests once per backend, inside describe('<backend>'). */
export function forEachBackend(body: (backend: Backend) => void): void {
  for (const backend of [sqliteBackend(), postgresBackend()]) {
    if (backend.unavailable !== null) {
      if (process.env.CI) {
        // a CI machine without PostgreSQL is a broken CI machine, not a reason to test less
        describe(backend.name, () => test(`${backend.name} is available`, () => void assertAvailable(backend)));
      } else {
        if (!warned) console.warn(`store tests: ${backend.name} skipped: ${backend.unavailable}`);
        warned = true;
        describe.skip(`${backend.name} (skipped: ${backend.unavailable})`, () => body(backend));
      }
      continue;
    }
    describe(backend.name, () => {
      beforeAll(() => backend.setup(), 180_000);
      afterAll(() => backend.teardown(), 60_000);
      body(backend);
    });
  }
}

function assertAvailable(backend: Backend): void {
  throw new Error(`${backend.name} tests cannot run on this CI machine: ${backend.unavailable}`);
}

export const rejection = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
};
