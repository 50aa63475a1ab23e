/**
 * GET /api/nearby on the hand-made region, with its facilities replaced by ones placed here at
 * known fractions of straight edges (and known metres off them), each with an opening_hours tag.
 * References: a plain O(n²) Dijkstra over the region's nodes and edges written here (minutes, the
 * set reached, bands, per-format counts), GET /api/route for a few facilities (a second code path),
 * open states evaluated by hand from the tags, and the region's wall clock from Intl.
 */
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildSnapIndex, snapPreferMain } from '../../src/engine/snap.js';
import { EDGE_FLAG_STEPS } from '../../src/engine/graph.js';
import type { Facility, Region } from '../../src/region/region.js';
import { buildServer } from '../../src/server/app.js';
import { rng, toLat, toLon } from '../engine/fixtures.js';
import { handRegion, type HandRegion } from './hand-region.js';

interface ErrorBody {
  error: string;
  message: string;
  field?: string;
}
interface NearbyFacilityBody {
  id: number;
  name: string;
  formats: string[];
  lon: number;
  lat: number;
  minutes: number;
  band: 5 | 10 | 15 | null;
  open: 'open' | 'closed' | 'unknown';
  openingHours: string | null;
}
interface NearbyBody {
  at: [number, number];
  profile: string;
  maxMinutes: number;
  time: string;
  timeZone: string | null;
  total: number;
  returned: number;
  truncated: boolean;
  facilities: NearbyFacilityBody[];
  formats: Array<{ format: string; name?: { 'zh-CN': string; en: string }; within: Record<string, number>; nearestMinutes: number | null }>;
  attribution: string;
}
type WalkProfile = { id: string; speedMps: number; stepsFactor: number };

const PROFILES = JSON.parse(readFileSync('data/profiles/walking.json', 'utf8')) as WalkProfile[];
const profile = (id: string): WalkProfile => PROFILES.find((p) => p.id === id)!;

/**
 * Tags and their states, read off the tags by hand, at three moments in the reference week
 * (Monday 24 November 2025, no holiday in Austria, where the hand region lies).
 */
const MOMENTS = ['2025-11-24T07:30', '周六 10:00', 'Mo 13:00'] as const;
const TAGS: Array<{ tag: string | undefined; states: [string, string, string] }> = [
  { tag: 'Mo-Fr 08:00-18:00', states: ['closed', 'closed', 'open'] },
  { tag: '24/7', states: ['open', 'open', 'open'] },
  { tag: 'Mo-Su 07:00-22:00', states: ['open', 'open', 'open'] },
  { tag: 'Sa,Su 09:00-17:00', states: ['closed', 'open', 'closed'] },
  { tag: 'off', states: ['closed', 'closed', 'closed'] },
  { tag: 'whenever the owner feels like it', states: ['unknown', 'unknown', 'unknown'] },
  { tag: undefined, states: ['unknown', 'unknown', 'unknown'] },
  { tag: 'Mo-Fr 07:00-12:00,14:00-18:00', states: ['open', 'closed', 'closed'] },
];
const FORMATS = ['supermarket', 'pharmacy', 'convenience_store', 'breakfast', 'community_canteen'];

/** A point at fraction t of straight edge e, `off` metres to its left. */
interface Placed {
  e: number;
  t: number;
  off: number;
  lon: number;
  lat: number;
}

function pointOn(hand: HandRegion, e: number, t: number, off: number): Placed {
  const a = hand.nodes[hand.edges[e].a];
  const b = hand.nodes[hand.edges[e].b];
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  const x = a[0] + t * (b[0] - a[0]) - (off * (b[1] - a[1])) / len;
  const y = a[1] + t * (b[1] - a[1]) + (off * (b[0] - a[0])) / len;
  return { lon: toLon(x), lat: toLat(y), e, t, off };
}

/** Metres (local plane) from (x, y) to the polyline of edge e. */
function metresToEdge(hand: HandRegion, e: number, x: number, y: number): number {
  const spec = hand.edges[e];
  const pts = [hand.nodes[spec.a], ...(spec.via ?? []), hand.nodes[spec.b]];
  let best = Infinity;
  for (let i = 0; i + 1 < pts.length; i++) {
    const [ax, ay] = pts[i];
    const [bx, by] = pts[i + 1];
    const dx = bx - ax;
    const dy = by - ay;
    const l2 = dx * dx + dy * dy;
    const t = l2 > 0 ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / l2)) : 0;
    best = Math.min(best, Math.hypot(x - ax - t * dx, y - ay - t * dy));
  }
  return best;
}

/** Is the placed point clearly nearest its own edge (every other edge ≥ 5 m farther)? Then its snap is known. */
function clearlyOnEdge(hand: HandRegion, p: Placed): boolean {
  const a = hand.nodes[hand.edges[p.e].a];
  const b = hand.nodes[hand.edges[p.e].b];
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  const x = a[0] + p.t * (b[0] - a[0]) - (p.off * (b[1] - a[1])) / len;
  const y = a[1] + p.t * (b[1] - a[1]) + (p.off * (b[0] - a[0])) / len;
  return hand.edges.every((_, e) => e === p.e || metresToEdge(hand, e, x, y) >= Math.abs(p.off) + 5);
}

/** The straight edges of the grid (not the island's). */
const straightEdges = (hand: HandRegion): number[] => hand.edges.map((x, i) => (x.via || i === hand.edges.length - 1 ? -1 : i)).filter((i) => i >= 0);

interface Built {
  region: Region;
  placed: Array<Placed | null>;
}

/**
 * The hand region with its facilities replaced: `count` placed on straight grid edges (cycling
 * formats and tags), the extra ones given, and one on the island (placed: null = not on the grid).
 */
function buildRegion(hand: HandRegion, count: number, seed: number, extra: Placed[] = []): Built {
  const r = rng(seed);
  const straight = straightEdges(hand);
  const placed: Array<Placed | null> = [...extra];
  while (placed.length < count + extra.length) {
    const p = pointOn(hand, straight[Math.floor(r() * straight.length)], 0.2 + 0.6 * r(), 0.5 + 2.5 * r());
    if (clearlyOnEdge(hand, p)) placed.push(p);
  }
  const [i0, i1] = hand.island;
  const islandPoint = { lon: toLon((hand.nodes[i0][0] + hand.nodes[i1][0]) / 2), lat: toLat(hand.nodes[i0][1] + 3) };
  placed.push(null);
  const facilities: Facility[] = placed.map((p, id) => {
    const { tag } = TAGS[id % TAGS.length];
    const name = p ? `设施${id}` : '孤岛商店';
    return {
      id,
      source: 'node',
      sourceId: 5000 + id,
      // some serve two formats; a few list pharmacy twice (broken data: still one pharmacy)
      formats: id % 7 === 3 ? [FORMATS[id % FORMATS.length], 'pharmacy'] : [FORMATS[id % FORMATS.length]],
      name,
      lon: p ? p.lon : islandPoint.lon,
      lat: p ? p.lat : islandPoint.lat,
      accessPoint: 'node',
      tags: { name, ...(tag !== undefined ? { opening_hours: tag } : {}) },
    };
  });
  // as an import does: each facility joins the network at its nearest way
  const index = buildSnapIndex(hand.graph);
  const snaps = facilities.map((f) => snapPreferMain(index, f.lon, f.lat, 300));
  const region: Region = {
    ...hand.region,
    facilities,
    facilitySnaps: {
      edge: Int32Array.from(snaps, (x) => (x ? x.edge : -1)),
      offset: Float32Array.from(snaps, (x) => (x ? x.offset : 0)),
      access: Float32Array.from(snaps, (x) => (x ? x.distance : 0)),
    },
  };
  return { region, placed };
}

/** Seconds from P to every placed facility: plain Dijkstra from P's edge ends, then each facility's edge ends or P's own edge. */
function referenceSeconds(hand: HandRegion, P: Placed, placed: Array<Placed | null>, p: WalkProfile): number[] {
  const g = hand.graph;
  const n = g.nodeCount;
  const cost = (e: number): number => (g.edgeLength[e] / p.speedMps) * (g.edgeFlags[e] & EDGE_FLAG_STEPS ? p.stepsFactor : 1);
  const dist = new Array<number>(n).fill(Infinity);
  const done = new Array<boolean>(n).fill(false);
  dist[g.edgeFrom[P.e]] = Math.min(dist[g.edgeFrom[P.e]], P.t * cost(P.e));
  dist[g.edgeTo[P.e]] = Math.min(dist[g.edgeTo[P.e]], (1 - P.t) * cost(P.e));
  for (;;) {
    let u = -1;
    for (let v = 0; v < n; v++) if (!done[v] && dist[v] < Infinity && (u < 0 || dist[v] < dist[u])) u = v;
    if (u < 0) break;
    done[u] = true;
    for (let e = 0; e < g.edgeCount; e++) {
      const a = g.edgeFrom[e];
      const b = g.edgeTo[e];
      if (a !== u && b !== u) continue;
      const v = a === u ? b : a;
      if (dist[u] + cost(e) < dist[v]) dist[v] = dist[u] + cost(e);
    }
  }
  return placed.map((Q) => {
    if (!Q) return Infinity;
    const c = cost(Q.e);
    let best = Math.min(dist[g.edgeFrom[Q.e]] + Q.t * c, dist[g.edgeTo[Q.e]] + (1 - Q.t) * c);
    if (Q.e === P.e) best = Math.min(best, Math.abs(P.t - Q.t) * c);
    return best + (Math.abs(P.off) + Math.abs(Q.off)) / p.speedMps;
  });
}

const refBand = (minutes: number): number | null => (minutes <= 5 ? 5 : minutes <= 10 ? 10 : minutes <= 15 ? 15 : null);

async function getJson<T>(app: FastifyInstance, url: string) {
  const res = await app.inject({ method: 'GET', url });
  expect(res.statusCode, `${url}: ${res.body.slice(0, 300)}`).toBe(200);
  return { res, body: res.json() as T };
}

async function expectError(app: FastifyInstance, url: string, status: number, field: string): Promise<ErrorBody> {
  const res = await app.inject({ method: 'GET', url });
  expect(res.statusCode, `${url.slice(0, 200)} → ${res.body.slice(0, 200)}`).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/application\/json/);
  const body = res.json() as ErrorBody;
  expect(body.field, url.slice(0, 200)).toBe(field);
  expect(body.message.length).toBeGreaterThan(5);
  return body;
}

/** Seconds within this of a threshold are not asserted on either side (float noise of the two computations). */
const EDGE_TOL_SEC = 0.05;

describe('GET /api/nearby on a hand-made region, against a plain Dijkstra', () => {
  let hand: HandRegion;
  let built: Built;
  let app: FastifyInstance;
  let origin: Placed;
  beforeAll(async () => {
    hand = handRegion({ seed: 11 });
    const straight = straightEdges(hand);
    // the origin, and two facilities on its own edge (one each way along it)
    origin = pointOn(hand, straight[Math.floor(straight.length / 2)], 0.45, 1.5);
    const same = [pointOn(hand, origin.e, 0.15, 2), pointOn(hand, origin.e, 0.8, 1)];
    expect(same.every((p) => clearlyOnEdge(hand, p)) && clearlyOnEdge(hand, origin)).toBe(true);
    built = buildRegion(hand, 40, 7, same);
    app = await buildServer({ region: built.region, webRoot: '/nonexistent', rateLimit: false });
  });
  afterAll(async () => app?.close());

  const at = (): string => `${origin.lon},${origin.lat}`;

  test('minutes, the set reached and the bands equal the reference, for several limits and both profiles', async () => {
    let listed = 0;
    let left = 0;
    for (const pid of ['default', 'elderly']) {
      const ref = referenceSeconds(hand, origin, built.placed, profile(pid));
      for (const maxMinutes of [2, 4, 7, 15, 60]) {
        const maxSec = maxMinutes * 60;
        const { body } = await getJson<NearbyBody>(app, `/api/nearby?at=${at()}&profile=${pid}&maxMinutes=${maxMinutes}&time=Mo%2012:00`);
        expect(body.profile).toBe(pid);
        expect(body.maxMinutes).toBe(maxMinutes);
        const ids = new Set(body.facilities.map((f) => f.id));
        expect(ids.size).toBe(body.facilities.length);
        // everything listed is reached within the limit, at the reference's minutes, in its band
        for (const f of body.facilities) {
          expect(Math.abs(f.minutes * 60 - ref[f.id]), `facility ${f.id}`).toBeLessThan(EDGE_TOL_SEC);
          expect(f.minutes * 60).toBeLessThanOrEqual(maxSec);
          const b = refBand(ref[f.id] / 60);
          if ([5, 10, 15].every((x) => Math.abs(ref[f.id] - x * 60) > EDGE_TOL_SEC)) expect(f.band, `band of ${f.id}`).toBe(b);
        }
        // and everything the brute force reaches clearly within the limit is listed; nothing clearly beyond is
        built.placed.forEach((_, id) => {
          if (ref[id] < maxSec - EDGE_TOL_SEC) expect(ids.has(id), `facility ${id} at ${ref[id]} s`).toBe(true);
          if (!(ref[id] <= maxSec + EDGE_TOL_SEC)) expect(ids.has(id)).toBe(false);
        });
        // nearest first
        for (let i = 1; i < body.facilities.length; i++) expect(body.facilities[i].minutes).toBeGreaterThanOrEqual(body.facilities[i - 1].minutes);
        expect(body.total).toBe(body.facilities.length);
        expect(body.truncated).toBe(false);
        listed += body.facilities.length;
        left += built.placed.length - body.facilities.length;
      }
    }
    // the limits cut the set somewhere in between: both sides were exercised
    expect(listed).toBeGreaterThan(40);
    expect(left).toBeGreaterThan(40);
  });

  test('facilities on the origin\'s own edge are walked to along it', async () => {
    const ref = referenceSeconds(hand, origin, built.placed, profile('default'));
    const { body } = await getJson<NearbyBody>(app, `/api/nearby?at=${at()}&maxMinutes=2`);
    for (const id of [0, 1]) {
      const f = body.facilities.find((x) => x.id === id)!;
      expect(f, `facility ${id}`).toBeDefined();
      expect(Math.abs(f.minutes * 60 - ref[id])).toBeLessThan(EDGE_TOL_SEC);
      // the direct walk along the shared edge, by hand
      const e = built.placed[id]!;
      const direct = (Math.abs(e.t - origin.t) * hand.graph.edgeLength[origin.e]) / profile('default').speedMps + (origin.off + e.off) / profile('default').speedMps;
      expect(Math.abs(f.minutes * 60 - direct)).toBeLessThan(EDGE_TOL_SEC + 0.01 * direct);
    }
  });

  test('minutes equal GET /api/route\'s seconds to each facility', async () => {
    const { body } = await getJson<NearbyBody>(app, `/api/nearby?at=${at()}&maxMinutes=60&profile=elderly`);
    expect(body.facilities.length).toBeGreaterThan(20);
    for (const f of body.facilities.filter((_, i) => i % 5 === 0)) {
      const { body: r } = await getJson<{ seconds: number }>(app, `/api/route?from=${at()}&facility=${f.id}&profile=elderly`);
      expect(Math.abs(r.seconds - f.minutes * 60)).toBeLessThan(1e-6);
    }
    // the island's shop is unreachable from the grid: not listed, and no route
    const island = built.region.facilities.length - 1;
    expect(body.facilities.some((f) => f.id === island)).toBe(false);
    await expectError(app, `/api/route?from=${at()}&facility=${island}`, 404, 'facility');
  });

  test('per-format summary: counts within 5/10/15 and the nearest, against the reference', async () => {
    const ref = referenceSeconds(hand, origin, built.placed, profile('elderly'));
    const { body } = await getJson<NearbyBody>(app, `/api/nearby?at=${at()}&maxMinutes=15&profile=elderly`);
    const present = [...new Set(built.region.facilities.flatMap((f) => f.formats))];
    expect(body.formats.map((s) => s.format).sort()).toEqual(present.sort());
    for (const s of body.formats) {
      const ids = built.region.facilities.filter((f) => f.formats.includes(s.format)).map((f) => f.id);
      for (const b of [5, 10, 15]) {
        const sure = ids.filter((id) => Math.abs(ref[id] - b * 60) > EDGE_TOL_SEC);
        const within = sure.filter((id) => ref[id] <= b * 60).length;
        const unsure = ids.length - sure.length;
        expect(s.within[String(b)], `${s.format} within ${b}`).toBeGreaterThanOrEqual(within);
        expect(s.within[String(b)]).toBeLessThanOrEqual(within + unsure);
      }
      const best = Math.min(...ids.map((id) => ref[id]));
      if (best <= 15 * 60 - EDGE_TOL_SEC) expect(Math.abs(s.nearestMinutes! * 60 - best)).toBeLessThan(EDGE_TOL_SEC);
      else if (best > 15 * 60 + EDGE_TOL_SEC) expect(s.nearestMinutes).toBeNull();
      expect(s.name?.['zh-CN']).toMatch(/\p{Script=Han}/u);
    }
    // bands above maxMinutes are not counted (they would be undercounts)
    const short = await getJson<NearbyBody>(app, `/api/nearby?at=${at()}&maxMinutes=7`);
    for (const s of short.body.formats) expect(Object.keys(s.within).sort()).toEqual(['5']);
  });

  test('one format: only its facilities, and its summary alone; a format absent from the region answers empty', async () => {
    const { body } = await getJson<NearbyBody>(app, `/api/nearby?at=${at()}&maxMinutes=60&format=pharmacy`);
    const expected = built.region.facilities.filter((f) => f.formats.includes('pharmacy') && built.placed[f.id] !== null).map((f) => f.id);
    expect(body.facilities.map((f) => f.id).sort((a, b) => a - b)).toEqual(expected);
    expect(body.formats.map((s) => s.format)).toEqual(['pharmacy']);
    const none = await getJson<NearbyBody>(app, `/api/nearby?at=${at()}&format=laundry`);
    expect(none.body.facilities).toEqual([]);
    expect(none.body.formats).toEqual([{ format: 'laundry', name: expect.anything(), within: { '5': 0, '10': 0, '15': 0 }, nearestMinutes: null }]);
  });

  test('open states at fixed moments equal the tags read by hand; the cache never serves another moment\'s states', async () => {
    for (let m = 0; m < MOMENTS.length; m++) {
      const url = `/api/nearby?at=${at()}&maxMinutes=60&time=${encodeURIComponent(MOMENTS[m])}`;
      const { res, body } = await getJson<NearbyBody>(app, url);
      expect(res.headers['x-cache']).toBe('MISS');
      expect(body.time).toBe(['2025-11-24T07:30', '2025-11-29T10:00', '2025-11-24T13:00'][m]);
      expect(body.timeZone).toBe('Europe/Vienna');
      expect(body.facilities.length).toBeGreaterThan(30);
      for (const f of body.facilities) {
        const { tag, states } = TAGS[f.id % TAGS.length];
        expect(f.openingHours).toBe(tag ?? null);
        expect(f.open, `${tag} at ${MOMENTS[m]}`).toBe(states[m]);
      }
      const again = await app.inject({ method: 'GET', url });
      expect(again.headers['x-cache']).toBe('HIT');
      expect(again.body).toBe(res.body);
    }
  });

  test('time: absolute instants are read on the region\'s clocks; "now" is the Vienna wall clock', async () => {
    // 08:30 at +02:00 = 06:30 UTC = 07:30 in Vienna (UTC+1 in November)
    for (const t of ['2025-11-24T08:30+02:00', '2025-11-24T06:30Z', '2025-11-24T07:30:59']) {
      const { body } = await getJson<NearbyBody>(app, `/api/nearby?at=${at()}&time=${encodeURIComponent(t)}`);
      expect(body.time, t).toBe('2025-11-24T07:30');
    }
    const vienna = (): string => {
      const p = Object.fromEntries(
        new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Vienna', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
          .formatToParts(new Date())
          .map((x) => [x.type, x.value]),
      );
      return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
    };
    const before = vienna();
    const { body } = await getJson<NearbyBody>(app, `/api/nearby?at=${at()}`);
    const after = vienna();
    expect([before, after]).toContain(body.time);
    expect(body.timeZone).toBe('Europe/Vienna');
  });

  test('documented in /openapi.json with each parameter', async () => {
    const { body } = await getJson<{ paths: Record<string, { get?: { parameters?: Array<{ name: string; in: string }> } }> }>(app, '/openapi.json');
    const params = body.paths['/api/nearby']?.get?.parameters ?? [];
    expect(params.filter((x) => x.in === 'query').map((x) => x.name).sort()).toEqual(['at', 'format', 'maxMinutes', 'profile', 'time']);
  });

  test('from the island: only the island\'s shop', async () => {
    const [i0, i1] = hand.island;
    const x = (hand.nodes[i0][0] + hand.nodes[i1][0]) / 2;
    const { body } = await getJson<NearbyBody>(app, `/api/nearby?at=${toLon(x + 20)},${toLat(hand.nodes[i0][1] - 2)}`);
    expect(body.facilities.map((f) => f.name)).toEqual(['孤岛商店']);
  });

  test('bad input: 4xx naming the field, never 500', async () => {
    const a = at();
    await expectError(app, '/api/nearby', 400, 'at');
    await expectError(app, '/api/nearby?at=abc', 400, 'at');
    await expectError(app, '/api/nearby?at=', 400, 'at');
    await expectError(app, `/api/nearby?at=${origin.lat},${origin.lon}`, 400, 'at'); // swapped
    await expectError(app, '/api/nearby?at=121.4,31.2', 404, 'at'); // outside the data
    await expectError(app, `/api/nearby?at=${toLon(1000)},${toLat(0)}`, 404, 'at'); // inside the extent, 500 m from any way
    await expectError(app, `/api/nearby?at=${'1'.repeat(10000)},1`, 400, 'at');
    for (const m of ['0', '0.5', '1000', '61', 'NaN', 'abc', '-5', '', 'Infinity', '1e400']) {
      const e = await expectError(app, `/api/nearby?at=${a}&maxMinutes=${m}`, 400, 'maxMinutes');
      expect(e.message).toMatch(/maxMinutes/);
    }
    expect((await expectError(app, `/api/nearby?at=${a}&maxMinutes=1000`, 400, 'maxMinutes')).message).toMatch(/60/);
    for (const f of ['<script>alert(1)</script>', 'Supermarket', 'a'.repeat(5000), '../../etc', '']) {
      const res = await app.inject({ method: 'GET', url: `/api/nearby?at=${a}&format=${encodeURIComponent(f)}` });
      expect(res.statusCode, f.slice(0, 30)).toBe(400);
      expect((res.json() as ErrorBody).field).toBe('format');
      expect(res.body).not.toMatch(/<script>/);
    }
    expect((await expectError(app, `/api/nearby?at=${a}&format=moon_base`, 400, 'format')).message).toMatch(/unknown format/);
    for (const t of ['tomorrow', '2025-02-30T10:00', 'Mo 25:00', '周八 10:00', '<img src=x onerror=alert(1)>', 'x'.repeat(5000), '', '2025-11-24T07:30+0800:99', '\u202enow']) {
      const res = await app.inject({ method: 'GET', url: `/api/nearby?at=${a}&time=${encodeURIComponent(t)}` });
      expect(res.statusCode, t.slice(0, 30)).toBe(400);
      expect((res.json() as ErrorBody).field, t.slice(0, 30)).toBe('time');
      expect(res.body).not.toMatch(/<img/);
    }
    await expectError(app, `/api/nearby?at=${a}&profile=sprinter`, 400, 'profile');
    await expectError(app, `/api/nearby?at=${a}&profile=${encodeURIComponent('../x')}`, 400, 'profile');
  });
});

describe('GET /api/nearby caps the list', () => {
  let hand: HandRegion;
  let built: Built;
  let app: FastifyInstance;
  beforeAll(async () => {
    hand = handRegion({ seed: 11 });
    built = buildRegion(hand, 620, 3);
    app = await buildServer({ region: built.region, webRoot: '/nonexistent', rateLimit: false });
  });
  afterAll(async () => app?.close());

  test('at most 500 listed, the nearest ones, with truncated set; the summary counts all', async () => {
    const P = built.placed[0]!;
    const ref = referenceSeconds(hand, P, built.placed, profile('default'));
    const { body } = await getJson<NearbyBody>(app, `/api/nearby?at=${P.lon},${P.lat}&maxMinutes=60`);
    const reached = ref.filter((s) => s <= 3600);
    expect(reached.length).toBe(620);
    expect(body.total).toBe(620);
    expect(body.returned).toBe(500);
    expect(body.facilities).toHaveLength(500);
    expect(body.truncated).toBe(true);
    // the 500 listed are the 500 nearest: every one left out is no nearer than the last listed
    const last = body.facilities[499].minutes * 60;
    const listed = new Set(body.facilities.map((f) => f.id));
    ref.forEach((s, id) => {
      if (s < 3600 && !listed.has(id)) expect(s).toBeGreaterThanOrEqual(last - EDGE_TOL_SEC);
    });
    const counted = body.formats.reduce((n, s) => n + (s.within['15'] ?? 0), 0);
    const byRef = built.region.facilities.reduce((n, f) => n + (ref[f.id] <= 900 ? new Set(f.formats).size : 0), 0);
    expect(counted).toBe(byRef);
  });
});
