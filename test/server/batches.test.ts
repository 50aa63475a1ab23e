/**
 * GET /api/batches, /api/batches/:id and the summary downloads: planners only, answers equal to
 * what was written to the store by hand here, file paths reduced to names, bad ids and queries
 * refused with 4xx naming the field.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/server/app.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { QuarterStore } from '../../src/store/store.js';
import { parseCsv } from '../cli/helpers.js';
import { handRegion } from './hand-region.js';
import { login, TEST_SCRYPT, USERS, type Session } from './session-helpers.js';

describe('batch routes', () => {
  let store: QuarterStore;
  let app: FastifyInstance;
  let planner: Session;
  let reader: Session;
  let id: number;

  beforeAll(async () => {
    store = await openSqliteStore(':memory:', { passwordParams: TEST_SCRYPT });
    for (const u of [USERS.planner, USERS.reader]) await store.createUser({ name: u.name, password: u.password, role: u.role });
    app = await buildServer({ region: handRegion().region, store, rateLimit: false, plans: { workerScript: null } });
    planner = await login(app, USERS.planner);
    reader = await login(app, USERS.reader);
    const imp = await store.createBatch({ kind: 'import', params: { outDir: '/srv/secret/regions' }, jobs: [{ key: '1', region: '/srv/osm/a.osm.pbf' }] });
    await store.updateBatchJob(imp.id, '1', { state: 'done', result: { name: 'a', output: '/srv/secret/regions/a.quarter', nodes: 1, edges: 1, facilities: 0, residences: 0, seconds: 1 } });
    const b = await store.createBatch({
      kind: 'assess',
      params: { profile: 'xuhui', population: null, at: null },
      jobs: [
        { key: '2', region: '/srv/secret/path/徐汇.quarter' },
        { key: '3', region: '/srv/secret/path/=cmd.quarter' },
        { key: '5', region: '/srv/secret/path/c.quarter' },
      ],
    });
    id = b.id;
    await store.updateBatchJob(id, '2', { state: 'running', newAttempt: true, worker: 'w1:10' });
    await store.updateBatchJob(id, '2', {
      state: 'done',
      result: { name: '徐汇', residences: 120, population: 3400, completeShare: 0.5, meanCompleteness: 0.75, grade: '基础型', targetsMet: 1, targets: 2, basicCoverage: {}, seconds: 1 },
    });
    await store.updateBatchJob(id, '3', { state: 'running', newAttempt: true, worker: 'w2:20' });
    await store.updateBatchJob(id, '3', { state: 'running', progress: 0.4 });
  });

  afterAll(async () => {
    await app.close();
    await store.close();
  });

  test('the list and one batch say what the store holds, newest first, with names instead of paths', async () => {
    const list = await planner.req('GET', '/api/batches');
    expect(list.statusCode, list.body).toBe(200);
    const rows = list.json() as { id: number; kind: string; counts: Record<string, number>; progress: number; finished: boolean }[];
    expect(rows.map((r) => [r.id, r.kind, r.finished])).toEqual([
      [id, 'assess', false],
      [id - 1, 'import', true],
    ]);
    expect(rows[0].counts).toEqual({ queued: 1, running: 1, done: 1, failed: 0 });
    expect(list.body).not.toContain('/srv/secret');
    const imported = await planner.req('GET', `/api/batches/${id - 1}`);
    expect(imported.json()).toMatchObject({ params: { outDir: 'regions' }, jobs: [{ file: 'a.osm.pbf', result: { output: 'a.quarter' } }] });
    const importCsv = await planner.req('GET', `/api/batches/${id - 1}/summary.csv`);
    expect(parseCsv(importCsv.body.slice(1))[1]).toContain('a.quarter');
    expect(importCsv.body).not.toContain('/srv/secret');
    expect(rows[0].progress).toBeCloseTo((1 + 0.4 + 0) / 3, 12);

    const one = await planner.req('GET', `/api/batches/${id}`);
    expect(one.statusCode, one.body).toBe(200);
    const b = one.json() as { jobs: { key: string; file: string; state: string; attempts: number; worker: string | null; result: unknown }[] };
    expect(b.jobs.map((j) => [j.key, j.file, j.state, j.attempts, j.worker])).toEqual([
      ['2', '徐汇.quarter', 'done', 1, 'w1:10'],
      ['3', '=cmd.quarter', 'running', 1, 'w2:20'],
      ['5', 'c.quarter', 'queued', 0, null],
    ]);
    expect((b.jobs[0].result as { population: number }).population).toBe(3400);
    expect(one.body).not.toContain('/srv/secret');
  });

  test('the summary as CSV: BOM, one row per job, formula-looking names neutralised', async () => {
    const res = await planner.req('GET', `/api/batches/${id}/summary.csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    expect(res.body.startsWith('\uFEFF')).toBe(true);
    const rows = parseCsv(res.body.slice(1));
    expect(rows).toHaveLength(4);
    expect(rows.slice(1).map((r) => [r[0], r[1], r[4], r[5]])).toEqual([
      ['2', '徐汇.quarter', '120', '3400'],
      ['3', "'=cmd.quarter", '', ''],
      ['5', 'c.quarter', '', ''],
    ]);
    const xlsx = await planner.req('GET', `/api/batches/${id}/summary.xlsx`);
    expect(xlsx.statusCode).toBe(200);
    expect(xlsx.rawPayload.subarray(0, 2).toString('latin1')).toBe('PK');
  });

  test('planners only; bad ids and queries are 4xx naming the field', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/batches' })).statusCode).toBe(401);
    expect((await reader.req('GET', '/api/batches')).statusCode).toBe(403);
    expect((await reader.req('GET', `/api/batches/${id}`)).statusCode).toBe(403);
    const cases: [string, number, RegExp][] = [
      ['/api/batches/0', 400, /id/],
      ['/api/batches/abc', 400, /id/],
      ['/api/batches/1e400', 400, /id/],
      ['/api/batches/99999', 404, /no batch 99999/],
      ['/api/batches?limit=0', 400, /limit/],
      ['/api/batches?limit=Infinity', 400, /limit/],
      ['/api/batches?colour=red', 400, /colour/],
      ['/api/batches/99999/summary.csv', 404, /no batch/],
    ];
    for (const [url, code, message] of cases) {
      const r = await planner.req('GET', url);
      expect(r.statusCode, `${url}: ${r.body}`).toBe(code);
      expect((r.json() as { message: string }).message, url).toMatch(message);
    }
  });
});
