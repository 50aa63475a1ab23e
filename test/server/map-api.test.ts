/**
 * The endpoints the web app draws from: /api/basemap, /api/route, /api/search.
 * References: routes against a plain O(n²) Dijkstra written here on a hand-made graph (points
 * placed at known fractions of straight edges) and, on Krems, against the engine's own
 * timeToSnap and /api/nearest; the basemap against the region's stored bytes and the walk
 * graph; search against lists filtered here.
 */
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRoutingContext } from '../../src/access/context.js';
import { runDijkstra, timeToSnap } from '../../src/engine/dijkstra.js';
import { EDGE_FLAG_STEPS, type WalkGraph } from '../../src/engine/graph.js';
import { snapPreferMain, writeSnapSeeds } from '../../src/engine/snap.js';
import { importRegion } from '../../src/region/import-region.js';
import type { Region } from '../../src/region/region.js';
import { buildServer } from '../../src/server/app.js';
import { greatCircle, toLat, toLon } from '../engine/fixtures.js';
import { handRegion, type HandRegion } from './hand-region.js';

interface ErrorBody {
  error: string;
  message: string;
  field?: string;
}
type Position = [number, number];

const PROFILES = JSON.parse(readFileSync('data/profiles/walking.json', 'utf8')) as Array<{ id: string; speedMps: number; stepsFactor: number }>;
const profile = (id: string) => PROFILES.find((p) => p.id === id)!;

async function getJson(app: FastifyInstance, url: string, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'GET', url, headers });
  return { res, status: res.statusCode, body: res.json() as any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
}

async function expectError(app: FastifyInstance, url: string, status: number, field: string): Promise<ErrorBody> {
  const res = await app.inject({ method: 'GET', url });
  expect(res.statusCode, url).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/application\/json/);
  const body = res.json() as ErrorBody;
  expect(body.field, url).toBe(field);
  expect(body.message.length).toBeGreaterThan(5);
  return body;
}

/** Metres from p to the nearest point of any edge geometry of g (local metric about p). */
function metresToGraph(g: WalkGraph, p: Position): number {
  const kx = 6371008.8 * (Math.PI / 180) * Math.cos((p[1] * Math.PI) / 180);
  const ky = 6371008.8 * (Math.PI / 180);
  let best = Infinity;
  for (let e = 0; e < g.edgeCount; e++) {
    for (let q = g.geomOffsets[e]; q < g.geomOffsets[e + 1] - 1; q++) {
      const ax = (g.geomCoords[2 * q] - p[0]) * kx;
      const ay = (g.geomCoords[2 * q + 1] - p[1]) * ky;
      const dx = (g.geomCoords[2 * q + 2] - p[0]) * kx - ax;
      const dy = (g.geomCoords[2 * q + 3] - p[1]) * ky - ay;
      const l2 = dx * dx + dy * dy;
      const t = l2 > 0 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / l2)) : 0;
      best = Math.min(best, Math.hypot(ax + t * dx, ay + t * dy));
    }
  }
  return best;
}

const lineMetres = (line: Position[]): number => line.slice(1).reduce((s, p, i) => s + greatCircle(line[i][0], line[i][1], p[0], p[1]), 0);

/** The route's geometry walks the network: every inner vertex and every inner segment's midpoint lies on an edge. */
function expectOnNetwork(g: WalkGraph, line: Position[], tol = 0.05): void {
  for (let i = 1; i < line.length - 1; i++) expect(metresToGraph(g, line[i]), `vertex ${i}`).toBeLessThan(tol);
  for (let i = 1; i < line.length - 2; i++) {
    const mid: Position = [(line[i][0] + line[i + 1][0]) / 2, (line[i][1] + line[i + 1][1]) / 2];
    expect(metresToGraph(g, mid), `segment ${i}`).toBeLessThan(tol);
  }
}

// ---------------------------------------------------------------- hand-made graph, independent Dijkstra

describe('GET /api/route on a hand-made graph, against a plain Dijkstra', () => {
  let hand: HandRegion;
  let app: FastifyInstance;
  beforeAll(async () => {
    hand = handRegion({ seed: 11 });
    app = await buildServer({ region: hand.region, webRoot: '/nonexistent' });
  });
  afterAll(async () => app?.close());

  /** Seconds and metres along edges, computed here. */
  const edgeCost = (e: number, p: { speedMps: number; stepsFactor: number }) => {
    const g = hand.graph;
    return { sec: (g.edgeLength[e] / p.speedMps) * (g.edgeFlags[e] & EDGE_FLAG_STEPS ? p.stepsFactor : 1), m: g.edgeLength[e] };
  };
  /** O(n²) Dijkstra from several (node, seconds, metres) sources; returns seconds and the metres of the path found. */
  function dijkstra(sources: Array<[number, number, number]>, p: { speedMps: number; stepsFactor: number }) {
    const g = hand.graph;
    const n = g.nodeCount;
    const sec = new Array<number>(n).fill(Infinity);
    const m = new Array<number>(n).fill(Infinity);
    const done = new Array<boolean>(n).fill(false);
    for (const [u, s, mm] of sources) if (s < sec[u]) [sec[u], m[u]] = [s, mm];
    for (;;) {
      let u = -1;
      for (let v = 0; v < n; v++) if (!done[v] && sec[v] < Infinity && (u < 0 || sec[v] < sec[u])) u = v;
      if (u < 0) break;
      done[u] = true;
      for (let e = 0; e < g.edgeCount; e++) {
        const a = g.edgeFrom[e];
        const b = g.edgeTo[e];
        if (a !== u && b !== u) continue;
        const v = a === u ? b : a;
        const c = edgeCost(e, p);
        if (sec[u] + c.sec < sec[v]) [sec[v], m[v]] = [sec[u] + c.sec, m[u] + c.m];
      }
    }
    return { sec, m };
  }

  /** A point at fraction t of straight edge e, `off` metres to its left. */
  function pointOn(e: number, t: number, off: number): { lon: number; lat: number; e: number; t: number; off: number } {
    const a = hand.nodes[hand.edges[e].a];
    const b = hand.nodes[hand.edges[e].b];
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    const x = a[0] + t * (b[0] - a[0]) - (off * (b[1] - a[1])) / len;
    const y = a[1] + t * (b[1] - a[1]) + (off * (b[0] - a[0])) / len;
    return { lon: toLon(x), lat: toLat(y), e, t, off };
  }

  function reference(P: ReturnType<typeof pointOn>, Q: ReturnType<typeof pointOn>, p: { speedMps: number; stepsFactor: number }) {
    const g = hand.graph;
    const cP = edgeCost(P.e, p);
    const cQ = edgeCost(Q.e, p);
    const d = dijkstra(
      [
        [g.edgeFrom[P.e], P.t * cP.sec, P.t * cP.m],
        [g.edgeTo[P.e], (1 - P.t) * cP.sec, (1 - P.t) * cP.m],
      ],
      p,
    );
    let best = { sec: Infinity, m: Infinity };
    const consider = (sec: number, m: number) => {
      if (sec < best.sec) best = { sec, m };
    };
    consider(d.sec[g.edgeFrom[Q.e]] + Q.t * cQ.sec, d.m[g.edgeFrom[Q.e]] + Q.t * cQ.m);
    consider(d.sec[g.edgeTo[Q.e]] + (1 - Q.t) * cQ.sec, d.m[g.edgeTo[Q.e]] + (1 - Q.t) * cQ.m);
    if (P.e === Q.e) consider(Math.abs(P.t - Q.t) * cP.sec, Math.abs(P.t - Q.t) * cP.m);
    return { sec: best.sec + (P.off + Q.off) / p.speedMps, m: best.m + P.off + Q.off };
  }

  test('40 random point pairs, two profiles: time and length equal the reference; the geometry walks the network', async () => {
    const straight = hand.edges.map((e, i) => (e.via ? -1 : i)).filter((i) => i >= 0 && i < hand.edges.length - 1);
    let seed = 5;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    let routes = 0;
    let unreachable = 0;
    for (let k = 0; k < 40; k++) {
      const pid = k % 2 ? 'elderly' : 'default';
      const p = profile(pid);
      const P = pointOn(straight[Math.floor(rnd() * straight.length)], 0.3 + 0.4 * rnd(), 2 * rnd());
      const Q = pointOn(k % 10 === 3 ? P.e : straight[Math.floor(rnd() * straight.length)], 0.3 + 0.4 * rnd(), 2 * rnd());
      const ref = reference(P, Q, p);
      const url = `/api/route?from=${P.lon},${P.lat}&to=${Q.lon},${Q.lat}&profile=${pid}`;
      if (ref.sec === Infinity) {
        await expectError(app, url, 404, 'to');
        unreachable++;
        continue;
      }
      const r = await getJson(app, url);
      expect(r.status, url).toBe(200);
      expect(Math.abs(r.body.seconds - ref.sec), url).toBeLessThan(0.05);
      expect(Math.abs(r.body.metres - ref.m), url).toBeLessThan(0.05);
      expect(r.body.minutes).toBeCloseTo(r.body.seconds / 60, 9);
      expect(r.body.profile).toBe(pid);
      const line = r.body.geometry.coordinates as Position[];
      expect(r.body.geometry.type).toBe('LineString');
      expect(line[0][0]).toBeCloseTo(P.lon, 7);
      expect(line[0][1]).toBeCloseTo(P.lat, 7);
      expect(line[line.length - 1][0]).toBeCloseTo(Q.lon, 7);
      expect(line[line.length - 1][1]).toBeCloseTo(Q.lat, 7);
      expect(Math.abs(r.body.from.accessMetres - P.off)).toBeLessThan(0.01);
      expect(Math.abs(lineMetres(line) - r.body.metres)).toBeLessThan(0.002 * r.body.metres + 0.1);
      expectOnNetwork(hand.graph, line);
      expect(metresToGraph(hand.graph, r.body.from.snapped)).toBeLessThan(0.01);
      routes++;
    }
    expect(routes).toBeGreaterThan(25);
    expect(routes + unreachable).toBe(40);
  });

  test('same edge: the direct walk along it; same point: a two-position line of length ~0', async () => {
    const e = hand.edges.findIndex((x, i) => !x.via && i < hand.edges.length - 1);
    const P = pointOn(e, 0.2, 0);
    const Q = pointOn(e, 0.7, 0);
    const r = await getJson(app, `/api/route?from=${P.lon},${P.lat}&to=${Q.lon},${Q.lat}`);
    expect(r.status).toBe(200);
    expect(Math.abs(r.body.metres - 0.5 * hand.graph.edgeLength[e])).toBeLessThan(0.05);
    const same = await getJson(app, `/api/route?from=${P.lon},${P.lat}&to=${P.lon},${P.lat}`);
    expect(same.status).toBe(200);
    expect(same.body.seconds).toBeLessThan(0.02); // points are rounded to 1e-7° (≤ 1 cm off the edge)
    expect(same.body.geometry.coordinates).toHaveLength(2);
  });

  test('to a facility: the route ends at the facility; unreachable ones are 404 naming the field', async () => {
    const f = hand.region.facilities[1];
    const P = pointOn(hand.edges.findIndex((x) => !x.via), 0.5, 0);
    const r = await getJson(app, `/api/route?from=${P.lon},${P.lat}&facility=1`);
    expect(r.status).toBe(200);
    expect(r.body.facility).toEqual({ id: 1, name: f.name, formats: f.formats });
    const line = r.body.geometry.coordinates as Position[];
    expect(line[line.length - 1][0]).toBeCloseTo(f.lon, 7);
    expect(line[line.length - 1][1]).toBeCloseTo(f.lat, 7);
    // facility 2 is on the island: no route from the grid
    expect((await expectError(app, `/api/route?from=${P.lon},${P.lat}&facility=2`, 404, 'facility')).message).toMatch(/does not connect/);
    // a point on the island itself
    const [i0, i1] = hand.island;
    const mid = [(hand.nodes[i0][0] + hand.nodes[i1][0]) / 2, hand.nodes[i0][1]];
    await expectError(app, `/api/route?from=${P.lon},${P.lat}&to=${toLon(mid[0])},${toLat(mid[1])}`, 404, 'to');
    expect((await expectError(app, `/api/route?from=${P.lon},${P.lat}&facility=99`, 404, 'facility')).message).toMatch(/no facility with id 99/);
  });

  test('bad requests: 400 naming the field, never 500', async () => {
    const P = pointOn(0, 0.5, 0);
    const from = `${P.lon},${P.lat}`;
    await expectError(app, `/api/route?from=${from}`, 400, 'to');
    await expectError(app, `/api/route?from=${from}&to=${from}&facility=1`, 400, 'to');
    await expectError(app, `/api/route?to=${from}`, 400, 'from');
    await expectError(app, `/api/route?from=abc&to=${from}`, 400, 'from');
    await expectError(app, `/api/route?from=${from}&facility=-1`, 400, 'facility');
    await expectError(app, `/api/route?from=${from}&facility=abc`, 400, 'facility');
    await expectError(app, `/api/route?from=${from}&to=${P.lat},${P.lon}`, 400, 'to'); // swapped
    await expectError(app, `/api/route?from=${from}&to=121.4,31.2`, 404, 'to'); // outside the data
    await expectError(app, `/api/route?from=${from}&to=${from}&profile=sprinter`, 400, 'profile');
    const res = await app.inject({ method: 'GET', url: `/api/route?from=${encodeURIComponent('<script>')}&to=${from}` });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toMatch(/<script>/);
  });
});

// ---------------------------------------------------------------- search, basemap fallback (hand-made region)

describe('GET /api/search on a hand-made region with Chinese names', () => {
  let hand: HandRegion;
  let app: FastifyInstance;
  beforeAll(async () => {
    hand = handRegion({ basemap: true });
    app = await buildServer({ region: hand.region, webRoot: '/nonexistent' });
  });
  afterAll(async () => app?.close());
  const search = async (q: string, extra = '') => getJson(app, `/api/search?q=${encodeURIComponent(q)}${extra}`);

  test('Chinese substrings: compounds, streets and facilities, compounds first, each with its place', async () => {
    const r = await search('幸福');
    expect(r.status).toBe(200);
    expect(r.body.map((h: { name: string; kind: string }) => [h.name, h.kind])).toEqual([
      ['幸福小区', 'compound'],
      ['幸福药房', 'facility'],
    ]);
    // 幸福小区 has no buildings: its own area residence gives the point
    expect(r.body[0].lon).toBeCloseTo(hand.region.residences.lon[0], 7);
    expect(r.body[1]).toMatchObject({ id: 1, lon: hand.region.facilities[1].lon, lat: hand.region.facilities[1].lat });
    // 阳光花园: the mean of its two buildings
    const sun = await search('花园');
    expect(sun.body).toHaveLength(1);
    expect(sun.body[0].lon).toBeCloseTo((hand.region.residences.lon[1] + hand.region.residences.lon[2]) / 2, 7);
    expect(sun.body[0].lat).toBeCloseTo((hand.region.residences.lat[1] + hand.region.residences.lat[2]) / 2, 7);
  });

  test('streets from the basemap: one hit per name, at the middle of its longest way; exact before prefix before substring', async () => {
    const r = await search('淮海');
    expect(r.body.map((h: { name: string }) => h.name).sort()).toEqual(['淮海中路', '淮海西路']);
    for (const h of r.body) {
      expect(h.kind).toBe('street');
      expect([h.lon, h.lat]).toEqual(hand.streets[h.name]);
    }
    const exact = await search('淮海中路');
    expect(exact.body).toHaveLength(1);
    const mid = await search('中路');
    expect(mid.body.map((h: { name: string }) => h.name)).toEqual(['淮海中路']);
    const all = await search('路'); // 淮海中路, 淮海西路 as substrings
    expect(all.body).toHaveLength(2);
  });

  test('case-insensitive and width-insensitive Latin; other tagged names (brand, name:en) match too', async () => {
    for (const q of ['billa', 'BILLA', 'Ｂｉｌｌａ', 'supermarkt']) {
      const r = await search(q);
      expect(r.body.map((h: { name: string }) => h.name), q).toEqual(['Billa Supermarkt']);
    }
    const en = await search('riverside');
    expect(en.body).toEqual([expect.objectContaining({ name: 'Riverside Pharmacy', kind: 'facility', id: 4 })]);
  });

  test('limit caps the list; nothing found is an empty list', async () => {
    const one = await search('幸福', '&limit=1');
    expect(one.body).toHaveLength(1);
    expect((await search('不存在的地方')).body).toEqual([]);
  });

  test('hostile queries: quotes and markup are searched as text; too long, empty or bad limits are 400', async () => {
    for (const q of [`"'; DROP TABLE places; --`, '<script>alert(1)</script>', '%00', '\\', '.*', '(((']) {
      const r = await search(q);
      expect(r.status, q).toBe(200);
      expect(r.body, q).toEqual([]);
      expect(String(r.res.headers['content-type'])).toMatch(/application\/json/);
      expect(r.res.body).not.toMatch(/<script>/);
    }
    expect((await search('幸'.repeat(100))).status).toBe(200);
    expect((await expectError(app, `/api/search?q=${'x'.repeat(10_000)}`, 400, 'q')).message).toMatch(/at most 100 characters/);
    await expectError(app, `/api/search?q=${'幸'.repeat(101)}`, 400, 'q');
    await expectError(app, '/api/search', 400, 'q');
    await expectError(app, '/api/search?q=', 400, 'q');
    await expectError(app, '/api/search?q=%20%20%20', 400, 'q');
    expect((await expectError(app, '/api/search?q=a&limit=51', 400, 'limit')).message).toMatch(/at most 50/);
    await expectError(app, '/api/search?q=a&limit=0', 400, 'limit');
    await expectError(app, '/api/search?q=a&limit=x', 400, 'limit');
  });

  test('without a basemap there are no streets, but compounds and facilities are found', async () => {
    const bare = await buildServer({ region: handRegion().region, webRoot: '/nonexistent' });
    try {
      const r = await getJson(bare, `/api/search?q=${encodeURIComponent('淮海')}`);
      expect(r.body).toEqual([]);
      const f = await getJson(bare, `/api/search?q=${encodeURIComponent('幸福')}`);
      expect(f.body).toHaveLength(2);
    } finally {
      await bare.close();
    }
  });
});

// ---------------------------------------------------------------- Krems

describe('Krems: basemap, routes and search on real data', () => {
  let region: Region;
  let app: FastifyInstance;
  beforeAll(async () => {
    region = await importRegion('data/krems/krems.osm.pbf');
    app = await buildServer({ region, webRoot: '/nonexistent' });
  }, 120_000);
  afterAll(async () => app?.close());

  const node = (u: number): Position => [region.graph.nodeCoords[2 * u], region.graph.nodeCoords[2 * u + 1]];
  /** Main-network nodes near the facilities' mean position (the town centre). */
  function centralNodes(k: number): number[] {
    const cx = region.facilities.reduce((a, f) => a + f.lon, 0) / region.facilities.length;
    const cy = region.facilities.reduce((a, f) => a + f.lat, 0) / region.facilities.length;
    const g = region.graph;
    return Array.from({ length: g.nodeCount }, (_, u) => u)
      .filter((u) => g.nodeComponent[u] === 0)
      .sort((a, b) => Math.hypot(node(a)[0] - cx, node(a)[1] - cy) - Math.hypot(node(b)[0] - cx, node(b)[1] - cy))
      .slice(0, k);
  }

  test('basemap: gzip is the stored bytes, with an ETag that answers 304; identity and br decode to the same GeoJSON', async () => {
    const gz = await app.inject({ method: 'GET', url: '/api/basemap', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.statusCode).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(String(gz.headers['content-type'])).toMatch(/application\/geo\+json/);
    expect(gz.headers['x-quarter-basemap']).toBe('osm');
    expect(String(gz.headers.vary)).toMatch(/accept-encoding/i);
    expect(gz.headers['cache-control']).toBe('no-cache');
    expect(gz.rawPayload.equals(Buffer.from(region.basemap!.geojsonGz))).toBe(true);
    const json = gunzipSync(gz.rawPayload).toString('utf8');
    const fc = JSON.parse(json) as { type: string; source: string; features: Array<{ properties: { layer: string } }> };
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.source).toBe('osm');
    const byLayer: Record<string, number> = {};
    for (const f of fc.features) byLayer[f.properties.layer] = (byLayer[f.properties.layer] ?? 0) + 1;
    expect(byLayer).toEqual(region.meta.report.basemap!.features);

    const etag = String(gz.headers.etag);
    expect(etag).toMatch(/^W\/".+"$/);
    for (const inm of [etag, `"other", ${etag}`, etag.replace(/^W\//, ''), '*']) {
      const again = await app.inject({ method: 'GET', url: '/api/basemap', headers: { 'accept-encoding': 'gzip', 'if-none-match': inm } });
      expect(again.statusCode, inm).toBe(304);
      expect(again.rawPayload.length).toBe(0);
      expect(again.headers.etag).toBe(etag);
    }
    const stale = await app.inject({ method: 'GET', url: '/api/basemap', headers: { 'if-none-match': 'W/"stale"' } });
    expect(stale.statusCode).toBe(200);

    const plain = await app.inject({ method: 'GET', url: '/api/basemap' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(json);

    await app.quarter.warm();
    const br = await app.inject({ method: 'GET', url: '/api/basemap', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString('utf8')).toBe(json);
    expect(br.rawPayload.length).toBeLessThan(gz.rawPayload.length);
    const noBr = await app.inject({ method: 'GET', url: '/api/basemap', headers: { 'accept-encoding': 'br;q=0, gzip' } });
    expect(noBr.headers['content-encoding']).toBe('gzip');
  });

  test('a region without a basemap: the walk graph drawn as roads, said so in a header and in the collection', async () => {
    const old = await buildServer({ region: { ...region, basemap: undefined }, webRoot: '/nonexistent' });
    try {
      const res = await old.inject({ method: 'GET', url: '/api/basemap', headers: { 'accept-encoding': 'gzip' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-quarter-basemap']).toBe('walk-graph');
      const fc = JSON.parse(gunzipSync(res.rawPayload).toString('utf8')) as { source: string; features: Array<{ properties: { layer: string; class?: string }; geometry: { coordinates: Position[] } }> };
      expect(fc.source).toBe('walk-graph');
      const g = region.graph;
      expect(fc.features).toHaveLength(g.edgeCount);
      fc.features.forEach((f, e) => {
        expect(f.properties.layer).toBe('road');
        const pts = f.geometry.coordinates;
        expect(pts).toHaveLength(g.geomOffsets[e + 1] - g.geomOffsets[e]);
        expect(Math.abs(pts[0][0] - g.geomCoords[2 * g.geomOffsets[e]])).toBeLessThanOrEqual(5e-7 + 1e-12);
      });
      expect(new Set(fc.features.map((f) => f.properties.class))).toContain('residential');
      const etag = String(res.headers.etag);
      expect((await old.inject({ method: 'GET', url: '/api/basemap', headers: { 'if-none-match': etag } })).statusCode).toBe(304);
    } finally {
      await old.close();
    }
  });

  test('routes between town-centre points: seconds equal the engine’s own timeToSnap from a separate search', async () => {
    const ctx = createRoutingContext(region, 'default');
    const g = region.graph;
    const nodes = centralNodes(300);
    let checked = 0;
    for (let k = 0; k < 12; k++) {
      const a = node(nodes[(k * 37) % nodes.length]);
      const b = node(nodes[(k * 91 + 150) % nodes.length]);
      // nudge off the node so the access legs and partial edges are exercised
      const from: Position = [a[0] + 0.00003, a[1] + 0.00002];
      const to: Position = [b[0] - 0.00002, b[1] + 0.00003];
      const r = await getJson(app, `/api/route?from=${from.join(',')}&to=${to.join(',')}`);
      const sa = snapPreferMain(ctx.index, from[0], from[1], 300)!;
      const sb = snapPreferMain(ctx.index, to[0], to[1], 300)!;
      const seedNodes = new Int32Array(2);
      const seedSec = new Float64Array(2);
      writeSnapSeeds(sa, ctx.edgeSec, g, ctx.profile.speedMps, seedNodes, seedSec, 0);
      runDijkstra(g, ctx.arcSec, ctx.ws, seedNodes, seedSec);
      const expected = timeToSnap(ctx.ws, sb, g, ctx.edgeSec, ctx.profile.speedMps, sa);
      expect(r.status).toBe(200);
      expect(r.body.seconds).toBeCloseTo(expected, 6);
      const line = r.body.geometry.coordinates as Position[];
      expectOnNetwork(g, line);
      expect(Math.abs(lineMetres(line) - r.body.metres)).toBeLessThan(0.003 * r.body.metres + 0.5);
      // walking at 1 m/s without steps, time is length; with steps it is more
      expect(r.body.seconds).toBeGreaterThanOrEqual(r.body.metres - 1e-6);
      checked++;
    }
    expect(checked).toBe(12);
  });

  test('routes to facilities take as long as /api/nearest says the nearest of each format is', async () => {
    let compared = 0;
    for (const u of centralNodes(3)) {
      const at = node(u).join(',');
      const near = await getJson(app, `/api/nearest?at=${at}&profile=elderly&maxMinutes=30`);
      for (const f of near.body.formats as Array<{ format: string; nearest: { id: number; minutes: number } | null }>) {
        if (!f.nearest) continue;
        const r = await getJson(app, `/api/route?from=${at}&facility=${f.nearest.id}&profile=elderly`);
        expect(r.status).toBe(200);
        expect(r.body.minutes, f.format).toBeCloseTo(f.nearest.minutes, 6);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });

  test('street search finds exactly the named highway ways containing the text, case-insensitively', async () => {
    const fc = JSON.parse(gunzipSync(Buffer.from(region.basemap!.geojsonGz)).toString('utf8')) as { features: Array<{ properties: { layer: string; name?: string } }> };
    const names = new Set(fc.features.filter((f) => f.properties.layer === 'road' && f.properties.name).map((f) => f.properties.name!));
    for (const q of ['kremser', 'STRAßE', 'gasse', 'Ring']) {
      const expected = [...names].filter((n) => n.toLowerCase().includes(q.toLowerCase())).sort();
      const r = await getJson(app, `/api/search?q=${encodeURIComponent(q)}&limit=50`);
      expect(r.status).toBe(200);
      const streets = (r.body as Array<{ name: string; kind: string }>).filter((h) => h.kind === 'street').map((h) => h.name).sort();
      if (expected.length < 50) expect(streets, q).toEqual(expected);
    }
    const facility = region.facilities.find((f) => f.name.length > 4)!;
    const r = await getJson(app, `/api/search?q=${encodeURIComponent(facility.name.toUpperCase())}&limit=50`);
    expect(r.body.some((h: { kind: string; id?: number }) => h.kind === 'facility' && h.id === facility.id)).toBe(true);
  });
});
