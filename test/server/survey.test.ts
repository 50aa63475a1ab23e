/**
 * The resident survey: answers from many addresses at known points, the summary against a tally
 * made here (count, mean, share ≥ 4 per H3 cell, the cell found with h3-js directly), the 90 %
 * target read from data/standards/xuhui.json, the per-client limit (429 with Retry-After), bad
 * answers (400 naming the field), and that no address reaches the database (every table read
 * without the store, on each backend).
 * Zone names against a hand-made case: homes of named 小区 placed in known cells, the streets of
 * the hand basemap, distances from the cell centres worked out here.
 */
import type { FastifyInstance } from 'fastify';
import { cellToLatLng, latLngToCell } from 'h3-js';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { emptyResidenceTable, type CompoundInfo } from '../../src/ingest/residences/index.js';
import type { Region } from '../../src/region/region.js';
import { buildServer } from '../../src/server/app.js';
import { STREET_NAME_MAX_METRES } from '../../src/server/routes/survey.js';
import type { QuarterStore } from '../../src/store/store.js';
import { toLat, toLon, toX, toY } from '../engine/fixtures.js';
import type { RawDb } from '../store/backends.js';
import { handRegion } from './hand-region.js';
import { expectError, forEachStoreBackend, login, USERS } from './session-helpers.js';

const hand = handRegion();

const TARGET = (JSON.parse(readFileSync('data/standards/xuhui.json', 'utf8')) as { targets: Array<{ indicator: string; value: number }> }).targets.find(
  (t) => t.indicator === 'resident_satisfaction',
)!.value;

forEachStoreBackend((backend) => {
  let store: QuarterStore;
  let raw: RawDb;
  let app: FastifyInstance;

  beforeAll(async () => {
    // a file for SQLite: the address test reads the database without the store
    ({ store, raw } = await backend.storeWithUsers(Object.values(USERS), { file: true }));
    app = await buildServer({ region: hand.region, store });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

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
      const rows = await raw.rows('SELECT * FROM survey_responses');
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        expect(String(r.client_hash)).toMatch(/^[A-Za-z0-9_-]{32}$/);
        expect(JSON.stringify(r)).not.toMatch(/10\.0\.0\.\d/);
      }
      // every row of every table, the audit log and the sessions among them
      const tables = await raw.snapshot();
      expect(Object.keys(tables)).toEqual(expect.arrayContaining(['survey_responses', 'audit_log', 'sessions']));
      expect(JSON.stringify(tables)).not.toMatch(/10\.0\.0\.\d/);
      // one address, one hash (same day); two addresses, two hashes
      const hashes = new Set(rows.map((r) => r.client_hash));
      expect(hashes.size).toBe(rows.length);
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

  describe('zone names', () => {
    /** Homes in metres of the hand region, with the 小区 they belong to ('' = none). */
    const HOMES: Array<[number, number, string]> = [
      // cell of (950, 600): 康乐小区 twice, 安居苑 once, two homes in no 小区 → 康乐小区
      [950, 600, '康乐小区'],
      [1000, 620, '康乐小区'],
      [980, 650, '安居苑'],
      [960, 580, ''],
      [1010, 590, ''],
      // cell of (100, 800): one home each of 望江苑 and 东湖小区, a tie → the first in code-point order (东 U+4E1C < 望 U+671B)
      [80, 820, '望江苑'],
      [120, 790, '东湖小区'],
      // cell of (300, 0): one home in no 小区 → the nearest named street
      [280, -10, ''],
    ];
    const names = [...new Set(HOMES.map((h) => h[2]).filter((n) => n !== ''))];
    const cellAt = (x: number, y: number): string => latLngToCell(toLat(y), toLon(x), 8);
    let named: FastifyInstance;
    let namedStore: QuarterStore;

    beforeAll(async () => {
      const hand = handRegion({ basemap: true });
      const t = emptyResidenceTable(HOMES.length);
      HOMES.forEach(([x, y, name], r) => {
        t.lon[r] = toLon(x);
        t.lat[r] = toLat(y);
        t.compound[r] = names.indexOf(name);
      });
      const compounds: CompoundInfo[] = names.map((name, i) => ({ sourceType: 'way', sourceId: 500 + i, name, areaM2: 5000, gates: 0, nearbyGates: 0, buildings: 1, gatesUsed: false, residence: -1 }));
      const region: Region = { ...hand.region, residences: t, compounds };
      ({ store: namedStore } = await backend.storeWithUsers([USERS.planner]));
      named = await buildServer({ region, store: namedStore, rateLimit: false });
    });
    afterAll(async () => {
      await named?.close();
      await namedStore?.close();
    });

    test('a zone is named by its most frequent 小区, else the nearest named street within reach, else "H3 <id>"; the id and centre stay', async () => {
      const compoundCell = cellAt(950, 600);
      const tieCell = cellAt(100, 800);
      const streetCell = cellAt(300, 0);
      const bareCell = cellAt(1150, -250);
      // the case is laid out as meant: four different cells, each home in the cell of its group
      expect(new Set([compoundCell, tieCell, streetCell, bareCell]).size).toBe(4);
      for (const [x, y] of HOMES.slice(0, 5)) expect(cellAt(x, y)).toBe(compoundCell);
      for (const [x, y] of HOMES.slice(5, 7)) expect(cellAt(x, y)).toBe(tieCell);
      expect(cellAt(280, -10)).toBe(streetCell);

      // streets of the hand basemap: 淮海中路 on y = 0 (x 0–200 and 300–400), 淮海西路 on y = 100 (x 0–400)
      const centre = (cell: string): [number, number] => {
        const [lat, lon] = cellToLatLng(cell);
        return [toX(lon), toY(lat)];
      };
      const toSegment = ([x, y]: [number, number], x0: number, x1: number, sy: number): number => Math.hypot(x < x0 ? x0 - x : x > x1 ? x - x1 : 0, y - sy);
      const streetsFrom = (p: [number, number]) => ({
        淮海中路: Math.min(toSegment(p, 0, 200, 0), toSegment(p, 300, 400, 0)),
        淮海西路: toSegment(p, 0, 400, 100),
      });
      const near = streetsFrom(centre(streetCell));
      expect(near.淮海中路).toBeLessThan(near.淮海西路 - 20);
      expect(near.淮海中路).toBeLessThan(STREET_NAME_MAX_METRES);
      const far = streetsFrom(centre(bareCell));
      expect(Math.min(far.淮海中路, far.淮海西路)).toBeGreaterThan(STREET_NAME_MAX_METRES + 50);

      const points: Array<[number, number]> = [
        [950, 600],
        [100, 800],
        [300, 0],
        [1150, -250],
      ];
      for (const [i, [x, y]] of points.entries()) {
        const res = await named.inject({ method: 'POST', url: '/api/survey', payload: { lon: toLon(x), lat: toLat(y), overall: 4 }, remoteAddress: `198.51.100.${i + 1}` });
        expect(res.statusCode, res.body).toBe(201);
      }
      const planner = await login(named, USERS.planner);
      const s = (await planner.req('GET', '/api/survey/summary')).json() as { zones: Array<{ zone: string; name: string; nameSource: string; center: [number, number] }>; total: { name: unknown } };
      const byZone = new Map(s.zones.map((z) => [z.zone, z]));
      expect(byZone.get(compoundCell)).toMatchObject({ name: '康乐小区', nameSource: 'compound' });
      expect(byZone.get(tieCell)).toMatchObject({ name: '东湖小区', nameSource: 'compound' });
      expect(byZone.get(streetCell)).toMatchObject({ name: '淮海中路', nameSource: 'street' });
      expect(byZone.get(bareCell)).toMatchObject({ name: `H3 ${bareCell}`, nameSource: 'cell' });
      for (const z of s.zones) {
        const [lat, lon] = cellToLatLng(z.zone);
        expect(z.center).toEqual([lon, lat]);
      }
      expect(s.total.name).toBeNull();
    });
  });
});
