/**
 * The resident survey: answers from many addresses at known points, the summary against a tally
 * made here (count, mean, share ≥ 4 per H3 cell, the cell found with h3-js directly), the 90 %
 * target read from data/standards/xuhui.json, the per-client limit (429 with Retry-After), bad
 * answers (400 naming the field), and that no address reaches the database (read with SQLite).
 */
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { latLngToCell } from 'h3-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/server/app.js';
import type { QuarterStore } from '../../src/store/store.js';
import { toLat, toLon } from '../engine/fixtures.js';
import { handRegion } from './hand-region.js';
import { expectError, login, storeWithUsers, USERS } from './session-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'quarter-survey-'));
const dbFile = join(tmp, 'survey.db');
const hand = handRegion();
let store: QuarterStore;
let app: FastifyInstance;

beforeAll(async () => {
  store = await storeWithUsers(Object.values(USERS), dbFile);
  app = await buildServer({ region: hand.region, store });
});
afterAll(async () => {
  await app?.close();
  await store?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const TARGET = (JSON.parse(readFileSync('data/standards/xuhui.json', 'utf8')) as { targets: Array<{ indicator: string; value: number }> }).targets.find(
  (t) => t.indicator === 'resident_satisfaction',
)!.value;

const answer = (body: unknown, ip: string) => app.inject({ method: 'POST', url: '/api/survey', payload: body as Record<string, unknown>, remoteAddress: ip });

/** Points (metres in the hand region) far enough apart to fall in different resolution-8 cells, or close to share one. */
const POINTS: Array<[number, number]> = [
  [50, 50],
  [60, 40],
  [480, 480],
  [1550, 0],
];

describe('answers and the summary', () => {
  test('the summary per H3 cell equals a tally made here; the target is the Xuhui profile’s', async () => {
    const ratings = [5, 4, 3, 5, 2, 4, 4, 1, 5, 5, 3];
    const tally = new Map<string, number[]>();
    for (let i = 0; i < ratings.length; i++) {
      const [x, y] = POINTS[i % POINTS.length];
      const lon = toLon(x);
      const lat = toLat(y);
      const res = await answer({ lon, lat, overall: ratings[i], perFormat: { pharmacy: 3, supermarket: 5 }, comment: `第 ${i} 条\n意见` }, `10.0.0.${i + 1}`);
      expect(res.statusCode, res.body).toBe(201);
      const cell = latLngToCell(lat, lon, 8);
      expect(res.json().zone).toBe(cell);
      tally.set(cell, [...(tally.get(cell) ?? []), ratings[i]]);
    }
    expect(tally.size).toBeGreaterThan(1);
    const planner = await login(app, USERS.planner);
    const res = await planner.req('GET', '/api/survey/summary');
    expect(res.statusCode, res.body).toBe(200);
    const s = res.json();
    expect(s.target).toEqual({ indicator: 'resident_satisfaction', value: TARGET, profile: 'xuhui' });
    expect(TARGET).toBe(0.9);
    const expected = [...tally]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([zone, r]) => {
        const share = r.filter((x) => x >= 4).length / r.length;
        return { zone, count: r.length, meanOverall: r.reduce((a, b) => a + b, 0) / r.length, shareSatisfied: share, meetsTarget: share >= 0.9 };
      });
    expect(s.zones.map((z: Record<string, unknown>) => ({ zone: z.zone, count: z.count, meanOverall: z.meanOverall, shareSatisfied: z.shareSatisfied, meetsTarget: z.meetsTarget }))).toEqual(
      expected,
    );
    for (const z of s.zones) expect(z.center).toHaveLength(2);
    const all = ratings.filter((x) => x >= 4).length / ratings.length;
    expect(s.total.count).toBe(ratings.length);
    expect(s.total.meanOverall).toBeCloseTo(ratings.reduce((a, b) => a + b, 0) / ratings.length, 12);
    expect(s.total.shareSatisfied).toBeCloseTo(all, 12);
    expect(s.total.meetsTarget).toBe(all >= 0.9);
  });

  test('the summary needs a planner', async () => {
    expectError(await app.inject({ method: 'GET', url: '/api/survey/summary' }), 401);
    const reader = await login(app, USERS.reader);
    expectError(await reader.req('GET', '/api/survey/summary'), 403, 'role');
  });

  test('no address is stored: the client column holds a keyed hash, nothing in any table holds the address', async () => {
    const db = new Database(dbFile, { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM survey_responses').all() as Array<Record<string, unknown>>;
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        expect(String(r.client_hash)).toMatch(/^[A-Za-z0-9_-]{32}$/);
        expect(JSON.stringify(r)).not.toMatch(/10\.0\.0\.\d/);
      }
      const audit = db.prepare('SELECT * FROM audit_log').all();
      expect(JSON.stringify(audit)).not.toMatch(/10\.0\.0\.\d/);
      // one address, one hash (same day); two addresses, two hashes
      const hashes = new Set(rows.map((r) => r.client_hash));
      expect(hashes.size).toBe(rows.length);
    } finally {
      db.close();
    }
  });
});

describe('limits and bad answers', () => {
  const ok = { lon: toLon(100), lat: toLat(100), overall: 4 };

  test('five answers an hour per client; the sixth is 429 with Retry-After; another client is not limited', async () => {
    for (let i = 0; i < 5; i++) expect((await answer(ok, '192.0.2.7')).statusCode).toBe(201);
    const res = await answer(ok, '192.0.2.7');
    expectError(res, 429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect((await answer(ok, '192.0.2.8')).statusCode).toBe(201);
  });

  test('bad answers: 400 naming the field, nothing stored', async () => {
    const before = (await store.listSurveyResponses(hand.region.meta.name, { limit: 1000 })).length;
    let ip = 0;
    const bad = async (body: unknown, status: number, field?: string) => expectError(await answer(body, `203.0.113.${++ip}`), status, field);
    await bad({ ...ok, overall: 0 }, 400, 'overall');
    await bad({ ...ok, overall: 6 }, 400, 'overall');
    await bad({ ...ok, overall: 2.5 }, 400, 'overall');
    await bad({ ...ok, overall: 'great' }, 400, 'overall');
    await bad({ lon: ok.lon, lat: ok.lat }, 400, 'overall');
    await bad({ ...ok, lon: 121.47, lat: 31.23 }, 400, 'lon');
    await bad({ ...ok, lat: 95 }, 400, 'lat');
    await bad({ ...ok, perFormat: { pharmacy: 7 } }, 400, 'perFormat');
    await bad({ ...ok, perFormat: { no_such_format: 3 } }, 400, 'perFormat');
    await bad({ ...ok, perFormat: { 'Bad Key!': 3 } }, 400, 'perFormat');
    await bad({ ...ok, perFormat: [5] }, 400, 'perFormat');
    await bad({ ...ok, comment: '好'.repeat(501) }, 400, 'comment');
    await bad({ ...ok, comment: 'abc\u0000def' }, 400, 'comment');
    await bad({ ...ok, comment: 'abc\u202Edef' }, 400, 'comment');
    await bad({ ...ok, comment: 'x'.repeat(20_000) }, 413, 'body');
    const poisoned = `{"lon": ${ok.lon}, "lat": ${ok.lat}, "overall": 4, "__proto__": {"overall": 5}}`;
    expectError(await app.inject({ method: 'POST', url: '/api/survey', payload: poisoned, headers: { 'content-type': 'application/json' }, remoteAddress: '203.0.113.99' }), 400);
    expectError(await answer('not json', '203.0.113.200'), 415);
    // 500 characters (emoji count once) are fine
    expect((await answer({ ...ok, comment: '😀'.repeat(500) }, '203.0.113.201')).statusCode).toBe(201);
    expect((await store.listSurveyResponses(hand.region.meta.name, { limit: 1000 })).length).toBe(before + 1);
  });
});
