/**
 * What only the PostgreSQL store has to show: its schema (the specified columns, typed as the
 * header of migrations.ts says, PostGIS points with GiST indexes), the version check holding across
 * two store instances (two API servers), migrations under the advisory lock, refusal of databases
 * from newer versions or other programs, clear errors without passwords, and the CLI on --db URL.
 * Everything is checked through a raw pg client of its own, never through the store.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { MIGRATIONS, type Migration } from '../../src/store/migrations.js';
import { MIGRATION_LOCK_KEY, openPgStore } from '../../src/store/pg-store.js';
import { StoreOpenError, VersionConflictError, type QuarterStore } from '../../src/store/store.js';
import { rawPgClient, rejection } from './backends.js';
import { pgUnavailableReason, startPgTestServer, type PgTestServer } from './pg-server.js';

const unavailable = pgUnavailableReason();
const SHA = 'cd'.repeat(32);
const FAST_PASSWORDS = { logN: 10, r: 8, p: 1, keyLength: 32, saltLength: 16 };

/** The columns the specification asks for (as in migrations.test.ts), plus the PostGIS points. */
const SPEC: Record<string, string[]> = {
  regions: ['name', 'file', 'sha256', 'imported_at', 'meta'],
  scenarios: ['id', 'region', 'name', 'description', 'edits', 'version', 'created_at', 'updated_at', 'created_by'],
  facility_edits: ['id', 'region', 'kind', 'facility_ref', 'data', 'version', 'actor', 'at', 'geom'],
  plan_runs: ['id', 'region', 'model', 'params', 'status', 'progress', 'result', 'error', 'version', 'created_at', 'updated_at', 'finished_at', 'actor'],
  survey_responses: ['id', 'region', 'zone', 'lon', 'lat', 'overall', 'per_format', 'comment', 'created_at', 'client_hash', 'geom'],
  users: ['id', 'name', 'name_key', 'role', 'password_hash', 'created_at', 'disabled', 'version'],
  sessions: ['token_hash', 'user_id', 'created_at', 'expires_at', 'csrf_token'],
  audit_log: ['id', 'at', 'actor', 'action', 'entity', 'entity_id', 'detail'],
  batches: ['id', 'kind', 'params', 'created_at', 'actor'],
  batch_jobs: ['batch_id', 'job_key', 'seq', 'region', 'state', 'progress', 'attempts', 'worker', 'error', 'result', 'updated_at', 'started_at', 'finished_at'],
  schema_migrations: ['id', 'name', 'description', 'applied_at'],
};

const EXTRA: Migration = {
  id: MIGRATIONS[MIGRATIONS.length - 1].id + 1,
  name: 'test-extra-column',
  description: 'a column added by a later version',
  sql: { sqlite: 'ALTER TABLE scenarios ADD COLUMN colour TEXT', postgres: 'ALTER TABLE scenarios ADD COLUMN colour text' },
};

if (unavailable !== null && process.env.CI) {
  test('PostgreSQL is available on CI', () => {
    throw new Error(`the PostgreSQL store tests cannot run on this CI machine: ${unavailable}`);
  });
}

describe.skipIf(unavailable !== null)(`PostgreSQL store${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let server: PgTestServer;
  const clients: pg.Client[] = [];
  const stores: QuarterStore[] = [];
  beforeAll(async () => {
    server = await startPgTestServer();
  }, 180_000);
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => {})));
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    await server?.stop();
  }, 60_000);

  const raw = async (url: string): Promise<pg.Client> => {
    const c = await rawPgClient(url);
    clients.push(c);
    return c;
  };
  const open = async (url: string, opts: Parameters<typeof openPgStore>[1] = {}): Promise<QuarterStore> => {
    const s = await openPgStore(url, { passwordParams: FAST_PASSWORDS, ...opts });
    stores.push(s);
    return s;
  };
  const appliedMigrations = async (c: pg.Client): Promise<[number, string][]> =>
    (await c.query<{ id: number; name: string }>('SELECT id, name FROM schema_migrations ORDER BY id')).rows.map((r) => [r.id, r.name]);
  /** backends of this database waiting for a lock of the given type. */
  const waitingOn = async (c: pg.Client, lockType: string): Promise<number> =>
    Number(
      (
        await c.query(
          `SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE NOT l.granted AND l.locktype = $1 AND a.datname = current_database()`,
          [lockType],
        )
      ).rows[0].n,
    );
  const until = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    for (let i = 0; i < 600; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`gave up waiting for ${what}`);
  };

  describe('schema', () => {
    test('the specified tables and columns, typed for PostgreSQL; JSON as text; PostGIS points with GiST indexes', async () => {
      const url = await server.createDatabase();
      await open(url);
      const c = await raw(url);
      const cols = (
        await c.query<{ table_name: string; column_name: string; data_type: string; udt_name: string; is_identity: string }>(
          `SELECT table_name, column_name, data_type, udt_name, is_identity FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name <> 'spatial_ref_sys' AND table_name NOT LIKE 'geo%' ORDER BY table_name, ordinal_position`,
        )
      ).rows;
      const byTable = new Map<string, typeof cols>();
      for (const r of cols) byTable.set(r.table_name, [...(byTable.get(r.table_name) ?? []), r]);
      expect([...byTable.keys()].sort()).toEqual(Object.keys(SPEC).sort());
      for (const [t, want] of Object.entries(SPEC)) expect(byTable.get(t)!.map((r) => r.column_name).sort(), t).toEqual([...want].sort());
      const type = (t: string, col: string): string => byTable.get(t)!.find((r) => r.column_name === col)!.udt_name;
      // timestamps are timestamptz, JSON is text (jsonb would refuse \u0000), flags are boolean
      for (const [t, col] of [
        ['regions', 'imported_at'],
        ['scenarios', 'created_at'],
        ['plan_runs', 'finished_at'],
        ['sessions', 'expires_at'],
        ['audit_log', 'at'],
        ['batch_jobs', 'finished_at'],
        ['schema_migrations', 'applied_at'],
      ]) {
        expect(type(t, col), `${t}.${col}`).toBe('timestamptz');
      }
      for (const [t, col] of [
        ['regions', 'meta'],
        ['scenarios', 'edits'],
        ['facility_edits', 'data'],
        ['plan_runs', 'params'],
        ['plan_runs', 'result'],
        ['survey_responses', 'per_format'],
        ['audit_log', 'detail'],
      ]) {
        expect(type(t, col), `${t}.${col}`).toBe('text');
      }
      expect(type('users', 'disabled')).toBe('bool');
      expect(type('plan_runs', 'progress')).toBe('float8');
      expect(type('survey_responses', 'lon')).toBe('float8');
      expect(type('facility_edits', 'geom')).toBe('geometry');
      for (const t of ['scenarios', 'facility_edits', 'plan_runs', 'survey_responses', 'users', 'audit_log']) {
        const id = byTable.get(t)!.find((r) => r.column_name === 'id')!;
        expect([id.udt_name, id.is_identity], t).toEqual(['int8', 'YES']);
      }
      const geo = (await c.query(`SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns ORDER BY f_table_name`)).rows;
      expect(geo).toEqual([
        { f_table_name: 'facility_edits', f_geometry_column: 'geom', srid: 4326, type: 'POINT' },
        { f_table_name: 'survey_responses', f_geometry_column: 'geom', srid: 4326, type: 'POINT' },
      ]);
      const gist = (await c.query(`SELECT tablename, indexname FROM pg_indexes WHERE indexdef LIKE '%USING gist%' ORDER BY tablename`)).rows;
      expect(gist).toEqual([
        { tablename: 'facility_edits', indexname: 'facility_edits_geom' },
        { tablename: 'survey_responses', indexname: 'survey_responses_geom' },
      ]);
      expect(await appliedMigrations(c)).toEqual(MIGRATIONS.map((m) => [m.id, m.name]));
    });

    test('points: survey lon/lat and facility-edit data lon/lat become EPSG:4326 points; a box query through the GiST index finds exactly the points in it', async () => {
      const url = await server.createDatabase();
      const store = await open(url);
      await store.upsertRegion({ name: 'wuhan', file: 'w.quarter', sha256: SHA });
      // a 5 × 5 grid of survey answers around Wuhan, and facility edits with and without points
      const answers: { id: number; lon: number; lat: number }[] = [];
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 5; j++) {
          const r = await store.addSurveyResponse({ region: 'wuhan', lon: 114.3 + i * 0.01, lat: 30.5 + j * 0.01, overall: 3, clientHash: 'a'.repeat(32) });
          answers.push({ id: r.id, lon: r.lon!, lat: r.lat! });
        }
      }
      const none = await store.addSurveyResponse({ region: 'wuhan', overall: 4, clientHash: 'a'.repeat(32) });
      const add = await store.appendFacilityEdit({ region: 'wuhan', kind: 'add', facilityRef: 'new:1', data: { formats: ['pharmacy'], lon: 114.305, lat: 30.515 } }, 0);
      const rename = await store.appendFacilityEdit({ region: 'wuhan', kind: 'edit', facilityRef: 'new:1', data: { name: '药店' } }, 1);
      const odd = await store.appendFacilityEdit({ region: 'wuhan', kind: 'add', facilityRef: 'new:2', data: { lon: '114.3', lat: 30.5 } }, 0);
      const off = await store.appendFacilityEdit({ region: 'wuhan', kind: 'add', facilityRef: 'new:3', data: { lon: 500, lat: 30.5 } }, 0);
      const c = await raw(url);

      const pts = (await c.query<{ id: number; x: number | null; y: number | null; srid: number | null }>('SELECT id, ST_X(geom) AS x, ST_Y(geom) AS y, ST_SRID(geom) AS srid FROM survey_responses ORDER BY id')).rows;
      expect(pts).toEqual([...answers.map((a) => ({ id: a.id, x: a.lon, y: a.lat, srid: 4326 })), { id: none.id, x: null, y: null, srid: null }]);
      const edits = (await c.query<{ id: number; x: number | null; y: number | null }>('SELECT id, ST_X(geom) AS x, ST_Y(geom) AS y FROM facility_edits ORDER BY id')).rows;
      expect(edits).toEqual([
        { id: add.id, x: 114.305, y: 30.515 },
        { id: rename.id, x: null, y: null },
        { id: odd.id, x: null, y: null }, // a string is not a coordinate
        { id: off.id, x: null, y: null }, // nor a longitude of 500
      ]);

      // the box [114.315, 114.335] × [30.505, 30.525]: brute force over the grid says which answers
      const box = [114.315, 30.505, 114.335, 30.525];
      const expected = answers.filter((a) => a.lon >= box[0] && a.lon <= box[2] && a.lat >= box[1] && a.lat <= box[3]).map((a) => a.id);
      expect(expected).toHaveLength(4);
      await c.query('SET enable_seqscan = off');
      const query = 'SELECT id FROM survey_responses WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) ORDER BY id';
      expect((await c.query<{ id: number }>(query, box)).rows.map((r) => r.id)).toEqual(expected);
      const plan = (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query}`, box)).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toContain('survey_responses_geom');
      await c.query('RESET enable_seqscan');
    });

    test('timestamps: timestamptz in the database, the same instant as the ISO string in the record', async () => {
      const url = await server.createDatabase();
      const store = await open(url, { now: () => new Date(Date.UTC(2025, 6, 1, 23, 59, 59, 987)) });
      const region = await store.upsertRegion({ name: 'r', file: 'f', sha256: SHA, importedAt: '2025-03-01T12:00:00.5+08:00' });
      expect(region.importedAt).toBe('2025-03-01T04:00:00.500Z');
      const s = await store.createScenario({ region: 'r', name: 's', edits: [] });
      expect([s.createdAt, s.updatedAt]).toEqual(['2025-07-01T23:59:59.987Z', '2025-07-01T23:59:59.987Z']);
      const c = await raw(url);
      // read in another time zone: the instant is the same
      await c.query(`SET TimeZone = 'Asia/Shanghai'`);
      const row = (await c.query<{ t: string; e: string }>(`SELECT created_at::text AS t, extract(epoch FROM created_at)::text AS e FROM scenarios`)).rows[0];
      expect(row.t).toBe('2025-07-02 07:59:59.987+08');
      expect(Number(row.e) * 1000).toBe(Date.UTC(2025, 6, 1, 23, 59, 59, 987));
      expect((await store.getScenario(s.id)).createdAt).toBe('2025-07-01T23:59:59.987Z');
    });
  });

  describe('two API servers on one database', () => {
    test('both updates queued behind one row lock: exactly one wins, the other is a VersionConflictError', async () => {
      const url = await server.createDatabase();
      const a = await open(url);
      const b = await open(url);
      await a.upsertRegion({ name: 'r', file: 'f', sha256: SHA });
      const c = await raw(url);
      for (let round = 0; round < 5; round++) {
        const s = await a.createScenario({ region: 'r', name: `s${round}`, edits: ['base'] });
        const seenByA = await a.getScenario(s.id);
        const seenByB = await b.getScenario(s.id);
        // Hold the row so that both updates have started (and read whatever they read) before either can write.
        await c.query('BEGIN');
        await c.query('SELECT 1 FROM scenarios WHERE id = $1 FOR UPDATE', [s.id]);
        const settled = Promise.allSettled([
          a.updateScenario(s.id, seenByA.version, { edits: [...seenByA.edits, 'A'] }, 'server-a'),
          b.updateScenario(s.id, seenByB.version, { edits: [...seenByB.edits, 'B'] }, 'server-b'),
        ]);
        await until('both updates to wait for the row', async () => (await waitingOn(c, 'transactionid')) + (await waitingOn(c, 'tuple')) >= 2);
        await c.query('COMMIT');
        const [ra, rb] = await settled;
        const won = [ra, rb].filter((r) => r.status === 'fulfilled');
        const lost = [ra, rb].filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0].reason).toBeInstanceOf(VersionConflictError);
        expect(lost[0].reason).toMatchObject({ expected: 1, actual: 2 });
        const winner = ra.status === 'fulfilled' ? 'A' : 'B';
        const row = (await c.query<{ version: number; edits: string }>('SELECT version, edits FROM scenarios WHERE id = $1', [s.id])).rows[0];
        expect(row).toEqual({ version: 2, edits: JSON.stringify(['base', winner]) });
        const audit = (await c.query<{ actor: string }>(`SELECT actor FROM audit_log WHERE action = 'scenario.update' AND entity_id = $1`, [String(s.id)])).rows;
        expect(audit).toEqual([{ actor: winner === 'A' ? 'server-a' : 'server-b' }]);
      }
    });

    test('facility edits, plan runs and users: of two writers expecting the same version, exactly one wins', async () => {
      const url = await server.createDatabase();
      const a = await open(url);
      const b = await open(url);
      await a.upsertRegion({ name: 'r', file: 'f', sha256: SHA });
      const c = await raw(url);
      const oneWins = async (calls: [Promise<unknown>, Promise<unknown>]): Promise<void> => {
        const settled = await Promise.allSettled(calls);
        expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = settled.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(lost.reason).toBeInstanceOf(VersionConflictError);
      };
      for (let round = 0; round < 10; round++) {
        const ref = `new:${round}`;
        await oneWins([
          a.appendFacilityEdit({ region: 'r', kind: 'add', facilityRef: ref, data: { by: 'a' } }, 0),
          b.appendFacilityEdit({ region: 'r', kind: 'add', facilityRef: ref, data: { by: 'b' } }, 0),
        ]);
        await oneWins([
          a.appendFacilityEdit({ region: 'r', kind: 'edit', facilityRef: ref, data: { by: 'a' } }, 1),
          b.appendFacilityEdit({ region: 'r', kind: 'delete', facilityRef: ref }, 1),
        ]);
        const run = await a.createPlanRun({ region: 'r', model: 'mclp', params: {} });
        await oneWins([a.updatePlanRun(run.id, { version: 1 }, { status: 'running' }), b.updatePlanRun(run.id, { version: 1 }, { status: 'cancelled' })]);
        const user = await a.createUser({ name: `u${round}`, password: 'long enough', role: 'public' });
        await oneWins([a.updateUser(user.id, 1, { role: 'planner' }), b.updateUser(user.id, 1, { role: 'admin' })]);
      }
      const versions = (await c.query<{ facility_ref: string; versions: string }>(`SELECT facility_ref, string_agg(version::text, ',' ORDER BY version) AS versions FROM facility_edits GROUP BY facility_ref`)).rows;
      expect(versions).toHaveLength(10);
      for (const v of versions) expect(v.versions, v.facility_ref).toBe('1,2');
      // one audit row per winning write, none for the losers
      const counts = Object.fromEntries(
        (await c.query<{ action: string; n: number }>(`SELECT action, count(*) AS n FROM audit_log GROUP BY action`)).rows.map((r) => [r.action, r.n]),
      );
      expect((counts['facility.add'] ?? 0) + (counts['facility.edit'] ?? 0) + (counts['facility.delete'] ?? 0)).toBe(20);
      expect((counts['plan_run.running'] ?? 0) + (counts['plan_run.cancelled'] ?? 0)).toBe(10);
      expect(counts['user.update']).toBe(10);
    });

    test('read-modify-write with retry from two store instances loses no increment', async () => {
      const url = await server.createDatabase();
      const a = await open(url, { poolSize: 2 });
      const b = await open(url, { poolSize: 2 });
      await a.upsertRegion({ name: 'r', file: 'f', sha256: SHA });
      const s = await a.createScenario({ region: 'r', name: 'counter', edits: [{ count: 0 }] });
      const PER_SERVER = 60;
      let conflicts = 0;
      const worker = async (store: QuarterStore, actor: string): Promise<void> => {
        for (let k = 0; k < PER_SERVER; k++) {
          for (;;) {
            const cur = await store.getScenario(s.id);
            try {
              await store.updateScenario(s.id, cur.version, { edits: [{ count: (cur.edits[0] as { count: number }).count + 1 }] }, actor);
              break;
            } catch (err) {
              if (!(err instanceof VersionConflictError)) throw err;
              conflicts++;
            }
          }
        }
      };
      await Promise.all([worker(a, 'a'), worker(b, 'b')]);
      const c = await raw(url);
      const row = (await c.query<{ version: number; edits: string }>('SELECT version, edits FROM scenarios WHERE id = $1', [s.id])).rows[0];
      expect(row).toEqual({ version: 2 * PER_SERVER + 1, edits: JSON.stringify([{ count: 2 * PER_SERVER }]) });
      expect(Number((await c.query(`SELECT count(*) AS n FROM audit_log WHERE action = 'scenario.update'`)).rows[0].n)).toBe(2 * PER_SERVER);
      console.log(`two store instances × ${PER_SERVER} increments: ${conflicts} version conflicts retried`);
    });
  });

  describe('migrations', () => {
    test('several servers opening a fresh database at once: all succeed, each migration applied once', async () => {
      const url = await server.createDatabase();
      const opened = await Promise.all([0, 1, 2, 3].map(() => open(url)));
      const c = await raw(url);
      expect(await appliedMigrations(c)).toEqual(MIGRATIONS.map((m) => [m.id, m.name]));
      // all four work on the one schema
      await opened[0].upsertRegion({ name: 'r', file: 'f', sha256: SHA });
      for (const [i, s] of opened.entries()) await s.createScenario({ region: 'r', name: `from ${i}`, edits: [] });
      expect((await opened[3].listScenarios()).map((s) => s.name)).toEqual(['from 0', 'from 1', 'from 2', 'from 3']);
    });

    test('a server waits while another holds the migration lock, then finds the schema and applies nothing twice', async () => {
      const url = await server.createDatabase();
      const holder = await raw(url);
      await holder.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [MIGRATION_LOCK_KEY]);
      let settled = false;
      const opening = openPgStore(url).finally(() => (settled = true));
      await until('the opening server to wait on the advisory lock', async () => (await waitingOn(holder, 'advisory')) === 1);
      expect(settled).toBe(false);
      // nothing was created while it waited
      expect((await holder.query(`SELECT to_regclass('schema_migrations') AS t`)).rows[0].t).toBeNull();
      await holder.query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [MIGRATION_LOCK_KEY]);
      const store = await opening;
      stores.push(store);
      expect(await appliedMigrations(holder)).toEqual(MIGRATIONS.map((m) => [m.id, m.name]));
      // the lock is released after opening: another server gets it at once
      expect((await holder.query('SELECT pg_try_advisory_lock($1, hashtext(current_schema())) AS ok', [MIGRATION_LOCK_KEY])).rows[0].ok).toBe(true);
      await holder.query('SELECT pg_advisory_unlock_all()');
    });

    test('a lock held for longer than the migration lock timeout is a clear error', async () => {
      const url = await server.createDatabase();
      const holder = await raw(url);
      await holder.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [MIGRATION_LOCK_KEY]);
      const err = await rejection(openPgStore(url, { migrationLockTimeoutMs: 200 }));
      expect(err).toBeInstanceOf(StoreOpenError);
      expect(err.message).toMatch(/another server has been migrating this database/);
      await holder.query('SELECT pg_advisory_unlock_all()');
    });

    test('a database from a newer version is refused, naming it and the unknown migration, and left untouched', async () => {
      const url = await server.createDatabase();
      await (await openPgStore(url, { migrations: [...MIGRATIONS, EXTRA] })).close();
      const c = await raw(url);
      const columns = async (): Promise<string[]> =>
        (await c.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'scenarios' ORDER BY column_name`)).rows.map((r) => r.column_name);
      expect(await columns()).toContain('colour');
      const before = await c.query('SELECT * FROM schema_migrations ORDER BY id');
      const err = await rejection(openPgStore(url));
      expect(err).toBeInstanceOf(StoreOpenError);
      expect(err.message.startsWith(url.replace(/:[^:@/]+@/, ':***@'))).toBe(true);
      expect(err.message).toMatch(new RegExp(`newer version of Quarter.*migration ${EXTRA.id} "test-extra-column".*knows up to ${MIGRATIONS.length} "${MIGRATIONS[MIGRATIONS.length - 1].name}"`));
      expect((await c.query('SELECT * FROM schema_migrations ORDER BY id')).rows).toEqual(before.rows);
      expect(await columns()).toContain('colour');
    });

    test('a renamed migration is refused; a failing one leaves nothing of itself; a longer list applies only the new one', async () => {
      const url = await server.createDatabase();
      await (await openPgStore(url)).close();
      const c = await raw(url);
      await expect(openPgStore(url, { migrations: [{ ...MIGRATIONS[0], name: 'something-else' }, ...MIGRATIONS.slice(1)] })).rejects.toThrow(/migration 1 is "initial-schema" in the database but "something-else"/);
      const broken: Migration = { id: EXTRA.id, name: 'broken', description: 'second statement fails', sql: { sqlite: '', postgres: 'CREATE TABLE half_done (x integer); THIS IS NOT SQL;' } };
      const err = await rejection(openPgStore(url, { migrations: [...MIGRATIONS, broken] }));
      expect(err).toBeInstanceOf(StoreOpenError);
      expect(err.message).toMatch(/schema migration \d+ "broken" failed, nothing of it was applied: syntax error/);
      expect((await c.query(`SELECT to_regclass('half_done') AS t`)).rows[0].t).toBeNull();
      expect(await appliedMigrations(c)).toEqual(MIGRATIONS.map((m) => [m.id, m.name]));
      // and the lock was released by the failed opening: the longer list applies at once, once
      for (let i = 0; i < 2; i++) await (await openPgStore(url, { migrations: [...MIGRATIONS, EXTRA] })).close();
      expect(await appliedMigrations(c)).toEqual([...MIGRATIONS, EXTRA].map((m) => [m.id, m.name]));
    });

    test("another program's database is refused, not migrated into", async () => {
      const url = await server.createDatabase();
      const c = await raw(url);
      await c.query('CREATE TABLE invoices (id integer PRIMARY KEY, amount numeric)');
      const err = await rejection(openPgStore(url));
      expect(err).toBeInstanceOf(StoreOpenError);
      expect(err.message).toMatch(/is a PostgreSQL database but not a Quarter store \(its schema has tables invoices and no schema_migrations\)$/);
      expect((await c.query(`SELECT to_regclass('schema_migrations') AS t`)).rows[0].t).toBeNull();
    });
  });

  describe('opening errors say what is wrong, never the password', () => {
    test('wrong password, missing database, and a role that may not enable PostGIS', async () => {
      const url = await server.createDatabase();
      const u = new URL(url);
      const wrong = `postgres://postgres:not-the-Passw0rd@${u.host}${u.pathname}`;
      const e1 = await rejection(openPgStore(wrong));
      expect(e1).toBeInstanceOf(StoreOpenError);
      expect(e1.message).toMatch(/refused the login .*password authentication failed/);
      expect(e1.message).not.toContain('not-the-Passw0rd');
      expect(e1.message).toContain('postgres://postgres:***@');

      const missing = new URL(url);
      missing.pathname = '/no_such_database';
      const e2 = await rejection(openPgStore(missing.toString()));
      expect(e2.message).toMatch(/database "no_such_database" does not exist: create it first/);
      expect(e2.message).not.toContain(decodeURIComponent(u.password));

      // an ordinary role owning a database without PostGIS cannot create the extension
      const admin = await raw(server.adminUrl);
      await admin.query(`CREATE ROLE plain LOGIN PASSWORD 'plain-pw-123'`);
      const plainDb = new URL(await server.createDatabase({ postgis: false, owner: 'plain' }));
      plainDb.username = 'plain';
      plainDb.password = 'plain-pw-123';
      const e3 = await rejection(openPgStore(plainDb.toString()));
      expect(e3).toBeInstanceOf(StoreOpenError);
      expect(e3.message).toMatch(/PostGIS is installed on the server but not enabled in this database, and this role may not enable it: ask a superuser to run CREATE EXTENSION postgis/);
      expect(e3.message).not.toContain('plain-pw-123');
      const pc = await raw(plainDb.toString());
      expect((await pc.query(`SELECT to_regclass('schema_migrations') AS t`)).rows[0].t).toBeNull(); // nothing half-made
      // once a superuser has enabled it, the ordinary role can open and migrate
      const asAdmin = new URL(url);
      asAdmin.pathname = plainDb.pathname;
      const ac = await raw(asAdmin.toString());
      await ac.query('CREATE EXTENSION postgis');
      const store = await open(plainDb.toString());
      await store.upsertRegion({ name: 'r', file: 'f', sha256: SHA });
    });

    test('the password from a file (QUARTER_DB_PASSWORD_FILE) when the URL has none', async () => {
      const url = new URL(await server.createDatabase());
      const password = decodeURIComponent(url.password);
      url.password = '';
      const dir = mkdtempSync(join(tmpdir(), 'quarter-pwfile-'));
      try {
        const file = join(dir, 'pw');
        writeFileSync(file, `${password}\n`, { mode: 0o600 });
        const store = await openStore(url.toString(), { passwordFile: file });
        stores.push(store);
        await store.upsertRegion({ name: 'r', file: 'f', sha256: SHA });
        writeFileSync(file, 'wrong-password\n');
        const err = await rejection(openStore(url.toString(), { passwordFile: file }));
        expect(err.message).toMatch(/refused the login/);
        expect(err.message).not.toContain('wrong-password');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('the command line on --db postgres://…', () => {
    test('user create / list through a URL; the password never printed, also on errors', async () => {
      const cli = inject('quarterCli');
      const url = await server.createDatabase();
      const password = decodeURIComponent(new URL(url).password);
      const quarter = (args: string[], env: Record<string, string> = {}) => {
        const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
        expect(`${r.stdout}${r.stderr}`).not.toContain(password);
        return r;
      };
      const created = quarter(['user', 'create', 'planner-li', '--role', 'planner', '--db', url], { QUARTER_PASSWORD: 'a long password' });
      expect(created.status, created.stderr).toBe(0);
      expect(created.stdout).toMatch(/created planner "planner-li"/);
      const listed = quarter(['user', 'list', '--json'], { QUARTER_DB: url });
      expect(listed.status, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as { name: string; role: string }[]).map((u) => [u.name, u.role])).toEqual([['planner-li', 'planner']]);
      // read back without the CLI
      const c = await raw(url);
      expect((await c.query(`SELECT name, role FROM users`)).rows).toEqual([{ name: 'planner-li', role: 'planner' }]);
      // a wrong database name: an error naming the URL with *** for the password
      const bad = new URL(url);
      bad.pathname = '/nowhere';
      const failed = quarter(['user', 'list', '--db', bad.toString()]);
      expect(failed.status).not.toBe(0);
      expect(failed.stderr).toMatch(/postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/nowhere: database "nowhere" does not exist/);
    });
  });
});
