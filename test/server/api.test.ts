/**
 * The HTTP API on the Krems region through app.inject: every route answers, and its answers are
 * checked against facts computed another way (per-node access times from the multi-source search
 * the CLI's `access` uses, facility lists filtered here, point-in-polygon for isochrones); every
 * bad input is a 4xx JSON body naming the field, never a 500.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRoutingContext } from '../../src/access/context.js';
import { formatAccess } from '../../src/access/format-access.js';
import { importRegion } from '../../src/region/import-region.js';
import type { Region } from '../../src/region/region.js';
import { buildServer } from '../../src/server/app.js';

let region: Region;
let app: FastifyInstance;

beforeAll(async () => {
  region = await importRegion('data/krems/krems.osm.pbf');
  app = await buildServer({ region, logger: false });
}, 120_000);

afterAll(async () => {
  await app?.close();
});

interface ErrorBody {
  error: string;
  message: string;
  field?: string;
}

async function get(url: string) {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), body: res.json() as any };
}

/** A 4xx JSON error naming `field`. */
async function expectRejected(res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }, status: number, field: string): Promise<ErrorBody> {
  expect(res.statusCode).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/application\/json/);
  const body = res.json() as ErrorBody;
  expect(typeof body.error).toBe('string');
  expect(typeof body.message).toBe('string');
  expect(body.message.length).toBeGreaterThan(5);
  expect(body.field).toBe(field);
  return body;
}
const rejectGet = async (url: string, status: number, field: string) => expectRejected(await app.inject({ method: 'GET', url }), status, field);

/** Ray casting over a MultiPolygon (outer rings minus holes). */
function inMultiPolygon(coords: number[][][][], x: number, y: number): boolean {
  const inRing = (ring: number[][]): boolean => {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
  return coords.some((poly) => inRing(poly[0]) && !poly.slice(1).some(inRing));
}

function node(u: number): [number, number] {
  return [region.graph.nodeCoords[2 * u], region.graph.nodeCoords[2 * u + 1]];
}

/** The `skip`-th node nearest the mean position of the facilities (the town centre, where shops are in reach). */
function centralNode(skip = 0): number {
  const cx = region.facilities.reduce((a, f) => a + f.lon, 0) / region.facilities.length;
  const cy = region.facilities.reduce((a, f) => a + f.lat, 0) / region.facilities.length;
  const g = region.graph;
  const order = Array.from({ length: g.nodeCount }, (_, u) => u).sort((a, b) => Math.hypot(node(a)[0] - cx, node(a)[1] - cy) - Math.hypot(node(b)[0] - cx, node(b)[1] - cy));
  return order[skip];
}

describe('valid requests', () => {
  test('GET /api/regions: the loaded region with its counts', async () => {
    const r = await get('/api/regions');
    expect(r.status).toBe(200);
    expect(r.body.regions).toHaveLength(1);
    const m = r.body.regions[0];
    expect(m.name).toBe(region.meta.name);
    expect(m.attribution).toMatch(/OpenStreetMap/);
    expect(m.counts.facilities).toBe(region.facilities.length);
    expect(m.counts.nodes).toBe(region.graph.nodeCount);
    expect(m.counts.residences).toBe(region.residences.count);
    // every facility lies in the bbox reported
    const [w, s, e, n] = m.bbox;
    for (const f of region.facilities) {
      expect(f.lon).toBeGreaterThanOrEqual(w - 0.01);
      expect(f.lon).toBeLessThanOrEqual(e + 0.01);
      expect(f.lat).toBeGreaterThanOrEqual(s - 0.01);
      expect(f.lat).toBeLessThanOrEqual(n + 0.01);
    }
  });

  test('GET /api/formats: the taxonomy with counts equal to a count over the facilities', async () => {
    const r = await get('/api/formats');
    expect(r.status).toBe(200);
    expect(r.body.formats.length).toBeGreaterThan(10);
    for (const f of r.body.formats) {
      expect(f.name['zh-CN']).toBeTruthy();
      expect(f.count).toBe(region.facilities.filter((x) => x.formats.includes(f.id)).length);
    }
    expect(r.body.formats.find((f: { id: string }) => f.id === 'pharmacy').count).toBeGreaterThan(0);
  });

  test('GET /api/facilities: filtered by format and bbox, capped, with names', async () => {
    const [w, s, e, n] = region.meta.bbox;
    const box = [w, s, (w + e) / 2, (s + n) / 2].map((x) => x.toFixed(6));
    const r = await get(`/api/facilities?format=pharmacy&bbox=${box.join(',')}`);
    expect(r.status).toBe(200);
    const b = box.map(Number);
    const expected = region.facilities.filter((f) => f.formats.includes('pharmacy') && f.lon >= b[0] && f.lon <= b[2] && f.lat >= b[1] && f.lat <= b[3]);
    expect(r.body.total).toBe(expected.length);
    expect(r.body.facilities.map((f: { id: number }) => f.id).sort()).toEqual(expected.map((f) => f.id).sort());
    for (const f of r.body.facilities) expect(typeof f.name).toBe('string');

    const capped = await get('/api/facilities?limit=3');
    expect(capped.status).toBe(200);
    expect(capped.body.returned).toBe(3);
    expect(capped.body.total).toBe(region.facilities.length);
    expect(capped.body.truncated).toBe(true);
  });

  test('GET /api/nearest from graph nodes: minutes equal the per-node times of the `access` search', async () => {
    const ctx = createRoutingContext(region, 'default');
    const formats = [...ctx.facilitiesByFormat.keys()];
    const access = new Map(formats.map((f) => [f, formatAccess(ctx, f).seconds.slice()]));
    let checked = 0;
    let compared = 0;
    for (let k = 0; checked < 3 && k < 50; k++) {
      const u = centralNode(k);
      const [lon, lat] = node(u);
      const r = await get(`/api/nearest?at=${lon},${lat}&profile=default&maxMinutes=30`);
      expect(r.status).toBe(200);
      if (r.body.accessMetres > 0.01) continue; // snapped to another (main) way: not this node
      checked++;
      expect(r.body.profile).toBe('default');
      for (const f of formats) {
        const got = r.body.formats.find((x: { format: string }) => x.format === f);
        const sec = access.get(f)![u];
        if (sec / 60 <= 30 - 1e-6) {
          expect(got.nearest.minutes).toBeCloseTo(sec / 60, 2);
          compared++;
        }
        else if (sec / 60 > 30 + 1e-6) expect(got.nearest).toBeNull();
      }
    }
    expect(checked).toBe(3);
    expect(compared).toBeGreaterThan(3 * 5);
  });

  test('GET /api/isochrone: GeoJSON whose polygons contain the origin and not a far corner', async () => {
    const [lon, lat] = node(centralNode());
    const r = await get(`/api/isochrone?at=${lon},${lat}&minutes=5,10,15&profile=elderly`);
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('FeatureCollection');
    const byMinutes = (m: number) => r.body.features.find((f: { properties: { minutes: number } }) => f.properties.minutes === m);
    expect(r.body.features.map((f: { properties: { minutes: number } }) => f.properties.minutes).sort((a: number, b: number) => a - b)).toEqual([5, 10, 15]);
    const [w, s] = region.meta.bbox;
    for (const f of r.body.features) {
      expect(f.geometry.type).toBe('MultiPolygon');
      expect(inMultiPolygon(f.geometry.coordinates, lon, lat)).toBe(true);
      expect(inMultiPolygon(f.geometry.coordinates, w, s)).toBe(false);
    }
    // elderly 15 minutes at 0.8 m/s: nothing beyond 720 m + 60 m off-road, as the crow flies
    const cosLat = Math.cos((lat * Math.PI) / 180);
    for (const poly of byMinutes(15).geometry.coordinates) {
      for (const [x, y] of poly[0]) expect(Math.hypot((x - lon) * cosLat, y - lat) * 111_320).toBeLessThan(720 + 60 + 30);
    }
  });

  test('POST /api/assess: the summary, with the given population spread over the homes', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/assess', payload: { profile: 'mofcom-2021', population: 24000 } });
    expect(res.statusCode).toBe(200);
    const body = res.json() as any;
    expect(body.profile.id).toBe('mofcom-2021');
    expect(body.headline.population).toBeCloseTo(24000, -1);
    expect(body.headline.residences).toBe(region.residences.count);
    expect(body.zone.kind).toBe('region');
    expect(body.zone.gaps.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < body.zone.gaps.length; i++) expect(body.zone.gaps[i - 1].residentsAffected).toBeGreaterThanOrEqual(body.zone.gaps[i].residentsAffected);
    expect(body.headline.meanCompleteness).toBeGreaterThanOrEqual(0);
    expect(body.headline.meanCompleteness).toBeLessThanOrEqual(1);
  });

  test('GET /openapi.json lists every route; /docs is served locally', async () => {
    const r = await get('/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toMatch(/^3\./);
    for (const p of ['/api/regions', '/api/formats', '/api/facilities', '/api/nearest', '/api/isochrone', '/api/assess']) expect(r.body.paths).toHaveProperty(p);
    expect(r.body.paths['/api/assess']).toHaveProperty('post');
    const docs = await app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(docs.statusCode);
    const page = docs.statusCode === 302 ? await app.inject({ method: 'GET', url: `/docs/${String(docs.headers.location).replace(/^\.?\/?(docs\/)?/, '')}` }) : docs;
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/swagger/i);
    expect(page.body).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs)/);
    const css = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui.css' });
    expect(css.statusCode).toBe(200);
  });
});

describe('invalid requests: 4xx JSON naming the field, never 500', () => {
  const at = () => node(centralNode()).join(',');

  test('non-numeric, swapped, missing or outside points', async () => {
    const b = await rejectGet('/api/nearest?at=abc,def', 400, 'at');
    expect(b.message).toBe('querystring/at must be "lon,lat" (e.g. 15.6,48.41)');
    await rejectGet('/api/nearest?at=15.6', 400, 'at');
    await rejectGet('/api/nearest', 400, 'at');
    await rejectGet('/api/isochrone?minutes=5', 400, 'at');
    const [lon, lat] = node(centralNode());
    expect((await rejectGet(`/api/nearest?at=${lat},${lon}`, 400, 'at')).message).toMatch(/swapped/);
    expect((await rejectGet('/api/nearest?at=121.437,31.188', 404, 'at')).message).toMatch(/outside the data of region/);
    await rejectGet('/api/isochrone?at=121.437,31.188', 404, 'at');
    await rejectGet('/api/nearest?at=15.6,95', 400, 'at');
  });

  test('unknown format or profile is named', async () => {
    expect((await rejectGet('/api/facilities?format=unicorn_shop', 400, 'format')).message).toMatch(/unicorn_shop/);
    expect((await rejectGet(`/api/nearest?at=${at()}&profile=sprinter`, 400, 'profile')).message).toMatch(/sprinter/);
    expect((await rejectGet(`/api/isochrone?at=${at()}&profile=sprinter`, 400, 'profile')).message).toMatch(/sprinter/);
    const res = await app.inject({ method: 'POST', url: '/api/assess', payload: { profile: 'no-such-standard' } });
    expect((await expectRejected(res, 400, 'profile')).message).toMatch(/no-such-standard/);
  });

  test('a body field the schema does not know is refused and named, not silently dropped', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/assess', payload: { profile: 'mofcom-2021', populaton: 24000 } });
    expect((await expectRejected(res, 400, 'populaton')).message).toMatch(/populaton/);
  });

  test('bad numbers and lists', async () => {
    await rejectGet(`/api/nearest?at=${at()}&maxMinutes=abc`, 400, 'maxMinutes');
    await rejectGet(`/api/nearest?at=${at()}&maxMinutes=100000`, 400, 'maxMinutes');
    await rejectGet(`/api/nearest?at=${at()}&maxMinutes=Infinity`, 400, 'maxMinutes');
    await rejectGet(`/api/nearest?at=${at()}&maxMinutes=1e400`, 400, 'maxMinutes');
    await rejectGet(`/api/isochrone?at=${at()}&cell=Infinity`, 400, 'cell');
    const huge = Array.from({ length: 500 }, (_, i) => i + 1).join(',');
    await rejectGet(`/api/isochrone?at=${at()}&minutes=${huge}`, 400, 'minutes');
    await rejectGet(`/api/isochrone?at=${at()}&minutes=5,,10`, 400, 'minutes');
    await rejectGet(`/api/isochrone?at=${at()}&minutes=500`, 400, 'minutes');
    await rejectGet('/api/facilities?bbox=1,2,3', 400, 'bbox');
    await rejectGet('/api/facilities?bbox=16,48,15,49', 400, 'bbox');
    await rejectGet('/api/facilities?limit=999999', 400, 'limit');
  });

  test('hostile strings are rejected by the schema and not echoed', async () => {
    const script = encodeURIComponent('<script>alert(1)</script>');
    for (const url of [`/api/facilities?format=${script}`, `/api/nearest?at=${script}`, `/api/nearest?at=${at()}&profile=${script}`, `/api/isochrone?at=${at()}&minutes=${script}`]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(400);
      expect(res.body).not.toMatch(/<script>/);
      expect((res.json() as ErrorBody).field).toBeTruthy();
    }
    const res = await app.inject({ method: 'POST', url: '/api/assess', payload: { profile: '../../etc/passwd' } });
    await expectRejected(res, 400, 'profile');
    const res2 = await app.inject({ method: 'POST', url: '/api/assess', payload: { profile: 'mofcom-2021', at: '<script>' } });
    await expectRejected(res2, 400, 'at');
    const nf = await app.inject({ method: 'GET', url: `/api/${script}` });
    expect(nf.statusCode).toBe(404);
    expect(nf.body).not.toMatch(/<script>/);
  });

  test('assess bodies: missing, wrong types, unparseable, oversized', async () => {
    await expectRejected(await app.inject({ method: 'POST', url: '/api/assess', payload: {} }), 400, 'profile');
    await expectRejected(await app.inject({ method: 'POST', url: '/api/assess', payload: { profile: 'mofcom-2021', population: 'many' } }), 400, 'population');
    await expectRejected(await app.inject({ method: 'POST', url: '/api/assess', payload: { profile: 'mofcom-2021', population: -5 } }), 400, 'population');
    await expectRejected(await app.inject({ method: 'POST', url: '/api/assess', payload: { profile: 'mofcom-2021', at: 'Xx 99:99' } }), 400, 'at');
    await expectRejected(await app.inject({ method: 'POST', url: '/api/assess', headers: { 'content-type': 'application/json' }, payload: '{"profile":' }), 400, 'body');
    const big = JSON.stringify({ profile: 'mofcom-2021', pad: 'x'.repeat(1024 * 1024 + 10) });
    const res = await app.inject({ method: 'POST', url: '/api/assess', headers: { 'content-type': 'application/json' }, payload: big });
    const body = await expectRejected(res, 413, 'body');
    expect(body.message).toMatch(/1 MB/);
  });
});
