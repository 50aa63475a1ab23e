/**
 * Opening the store: the schema against the table list of the specification (written out here by
 * hand), migrations applied once, databases from the future or from elsewhere refused, and every
 * bad location a clear error naming the file. Databases are inspected with a separate raw
 * better-sqlite3 connection, never through the store.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { MIGRATIONS, planMigrations, type Migration } from '../../src/store/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { StoreOpenError } from '../../src/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'quarter-migrations-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(root, `db-${++n}`, 'store.db');

/** The columns the specification asks for, per table (extra bookkeeping columns are listed too). */
const SPEC: Record<string, string[]> = {
  regions: ['name', 'file', 'sha256', 'imported_at', 'meta'],
  scenarios: ['id', 'region', 'name', 'description', 'edits', 'version', 'created_at', 'updated_at', 'created_by'],
  facility_edits: ['id', 'region', 'kind', 'facility_ref', 'data', 'version', 'actor', 'at'],
  plan_runs: ['id', 'region', 'model', 'params', 'status', 'progress', 'result', 'error', 'version', 'created_at', 'updated_at', 'finished_at', 'actor'],
  survey_responses: ['id', 'region', 'zone', 'lon', 'lat', 'overall', 'per_format', 'comment', 'created_at', 'client_hash'],
  users: ['id', 'name', 'name_key', 'role', 'password_hash', 'created_at', 'disabled', 'version'],
  sessions: ['token_hash', 'user_id', 'created_at', 'expires_at', 'csrf_token'],
  audit_log: ['id', 'at', 'actor', 'action', 'entity', 'entity_id', 'detail'],
  batches: ['id', 'kind', 'params', 'created_at', 'actor'],
  batch_jobs: ['batch_id', 'job_key', 'seq', 'region', 'state', 'progress', 'attempts', 'worker', 'error', 'result', 'updated_at', 'started_at', 'finished_at'],
  schema_migrations: ['id', 'name', 'description', 'applied_at'],
};

function inspect(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    const columns = Object.fromEntries(tables.map((t) => [t, (db.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name)]));
    const migrations = tables.includes('schema_migrations')
      ? (db.prepare('SELECT id, name, applied_at FROM schema_migrations ORDER BY id').all() as { id: number; name: string; applied_at: string }[])
      : [];
    const journal = db.pragma('journal_mode', { simple: true });
    return { tables, columns, migrations, journal };
  } finally {
    db.close();
  }
}

const EXTRA: Migration = {
  id: 3,
  name: 'test-extra-column',
  description: 'a column added by a later version',
  sql: { sqlite: 'ALTER TABLE scenarios ADD COLUMN colour TEXT' },
};

describe('schema and migrations', () => {
  test('a new file gets exactly the specified tables and columns, in WAL mode', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path);
    await store.close();
    const got = inspect(path);
    expect(got.tables).toEqual(Object.keys(SPEC).sort());
    for (const [t, cols] of Object.entries(SPEC)) expect([...got.columns[t]].sort(), t).toEqual([...cols].sort());
    expect(got.migrations.map((m) => [m.id, m.name])).toEqual([[1, 'initial-schema'], [2, 'batches']]);
    expect(got.journal).toBe('wal');
  });

  test('reopening applies nothing again and keeps the data', async () => {
    const path = freshPath();
    let store = await openSqliteStore(path);
    await store.upsertRegion({ name: 'r', file: 'r.quarter', sha256: 'a'.repeat(64) });
    await store.createScenario({ region: 'r', name: 'keep me', edits: [{ a: 1 }] });
    await store.close();
    const first = inspect(path).migrations;
    for (let i = 0; i < 3; i++) {
      store = await openSqliteStore(path, { now: () => new Date(Date.UTC(2031, 0, 1)) });
      await store.close();
    }
    const again = inspect(path).migrations;
    expect(again).toEqual(first); // same rows, same applied_at: nothing re-run
    store = await openSqliteStore(path);
    expect((await store.listScenarios()).map((s) => [s.name, s.edits])).toEqual([['keep me', [{ a: 1 }]]]);
    await store.close();
  });

  test('a longer list applies only the new migration, once', async () => {
    const path = freshPath();
    await (await openSqliteStore(path)).close();
    const longer = [...MIGRATIONS, EXTRA];
    await (await openSqliteStore(path, { migrations: longer })).close();
    await (await openSqliteStore(path, { migrations: longer })).close();
    const got = inspect(path);
    expect(got.migrations.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(got.columns.scenarios).toContain('colour');
  });

  test('a database of the first version gains the batch tables and keeps its data', async () => {
    const path = freshPath();
    let store = await openSqliteStore(path, { migrations: [MIGRATIONS[0]] });
    await store.upsertRegion({ name: 'r', file: 'r.quarter', sha256: 'a'.repeat(64) });
    await store.close();
    expect(inspect(path).tables).not.toContain('batch_jobs');
    store = await openSqliteStore(path);
    expect((await store.listRegions()).map((r) => r.name)).toEqual(['r']);
    const batch = await store.createBatch({ kind: 'assess', params: {}, jobs: [{ key: '1', region: 'r.quarter' }] });
    expect(batch.counts).toEqual({ queued: 1, running: 0, done: 0, failed: 0 });
    await store.close();
    expect(inspect(path).migrations.map((m) => m.id)).toEqual([1, 2]);
  });

  test('a database from a newer version is refused, naming the file and the unknown migration, and left untouched', async () => {
    const path = freshPath();
    await (await openSqliteStore(path, { migrations: [...MIGRATIONS, EXTRA] })).close();
    const before = readFileSync(path);
    const err = await openSqliteStore(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreOpenError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(/newer version of Quarter.*migration 3 "test-extra-column".*knows up to 2 "batches"/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(inspect(path).migrations.map((m) => m.id)).toEqual([1, 2, 3]);
  });

  test('a recorded migration under another name is refused', async () => {
    const path = freshPath();
    await (await openSqliteStore(path)).close();
    const renamed: Migration[] = [{ ...MIGRATIONS[0], name: 'something-else' }, ...MIGRATIONS.slice(1)];
    await expect(openSqliteStore(path, { migrations: renamed })).rejects.toThrow(/migration 1 is "initial-schema" in the database but "something-else"/);
  });

  test('a failing migration leaves nothing of itself behind', async () => {
    const path = freshPath();
    await (await openSqliteStore(path)).close();
    const broken: Migration = { id: 3, name: 'broken', description: 'second statement fails', sql: { sqlite: 'CREATE TABLE half_done (x INTEGER); THIS IS NOT SQL;' } };
    const err = await openSqliteStore(path, { migrations: [...MIGRATIONS, broken] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreOpenError);
    expect((err as Error).message).toMatch(/schema migration 3 "broken" failed, nothing of it was applied/);
    const got = inspect(path);
    expect(got.tables).not.toContain('half_done');
    expect(got.migrations.map((m) => m.id)).toEqual([1, 2]);
    // and the file still opens with the good list
    await (await openSqliteStore(path)).close();
  });

  test('planMigrations: pending in order, unknown and renamed reported', () => {
    const list: Migration[] = [1, 2, 3].map((id) => ({ id, name: `m${id}`, description: '', sql: { sqlite: '' } }));
    expect(planMigrations([], list).pending.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(planMigrations([{ id: 1, name: 'm1' }, { id: 3, name: 'm3' }], list).pending.map((m) => m.id)).toEqual([2]);
    const p = planMigrations([{ id: 2, name: 'x' }, { id: 9, name: 'm9' }], list);
    expect(p.unknown).toEqual([{ id: 9, name: 'm9' }]);
    expect(p.renamed).toEqual([{ id: 2, applied: 'x', known: 'm2' }]);
  });

  test('migration lists out of order are refused', async () => {
    const list: Migration[] = [EXTRA, MIGRATIONS[0]];
    await expect(openSqliteStore(':memory:', { migrations: list })).rejects.toThrow(/ascending/);
  });
});

describe('opening bad locations', () => {
  test('a missing directory is created', async () => {
    const path = join(root, 'deep', 'er', 'still', 'store.db');
    const store = await openSqliteStore(path);
    await store.close();
    expect(existsSync(path)).toBe(true);
  });

  test('a text file is refused as not a database, naming it, and not modified', async () => {
    const path = join(root, 'notes.txt');
    const text = 'these are my notes, not a database\n'.repeat(50);
    writeFileSync(path, text);
    const err = await openSqliteStore(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreOpenError);
    expect((err as Error).message).toBe(`${path}: is not an SQLite database (wrong file?)`);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  test('a file of random bytes and a truncated header are refused, not crashed on', async () => {
    const path = join(root, 'random.bin');
    writeFileSync(path, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256)));
    await expect(openSqliteStore(path)).rejects.toThrow(StoreOpenError);
    const half = join(root, 'half.db');
    writeFileSync(half, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(200, 0xff)]));
    await expect(openSqliteStore(half)).rejects.toThrow(new RegExp(`^${half.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  });

  test("another program's SQLite database is refused, not migrated into", async () => {
    const path = join(root, 'other.sqlite');
    const raw = new Database(path);
    raw.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)');
    raw.close();
    await expect(openSqliteStore(path)).rejects.toThrow(`${path}: is an SQLite database but not a Quarter store (it has tables invoices and no schema_migrations)`);
    const after = inspect(path);
    expect(after.tables).toEqual(['invoices']);
    expect(after.journal).toBe('delete'); // not even switched to WAL
  });

  test('a directory at the path, or a file where the directory should be', async () => {
    const dir = join(root, 'is-a-dir');
    mkdirSync(dir);
    await expect(openSqliteStore(dir)).rejects.toThrow(`${dir}: is a directory, not a database file`);
    const blocker = join(root, 'blocker');
    writeFileSync(blocker, 'x');
    await expect(openSqliteStore(join(blocker, 'store.db'))).rejects.toThrow(/cannot create directory .*blocker: a file is in the way/);
  });

  test('a read-only directory gives a clear error (unprivileged users only; root ignores modes — see processes.test.ts)', async () => {
    if (process.getuid?.() === 0) return;
    const dir = join(root, 'readonly');
    mkdirSync(dir);
    chmodSync(dir, 0o555);
    try {
      const path = join(dir, 'store.db');
      await expect(openSqliteStore(path)).rejects.toThrow(`${path}: cannot open the database for writing: directory ${dir} is not writable`);
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  test('an empty path is a clear error', async () => {
    await expect(openSqliteStore('')).rejects.toThrow(/path: must be a database file path/);
  });
});
