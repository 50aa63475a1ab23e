/**
 * GET /api/heatmap on the hand region with homes laid out here (some with two gates, one on the
 * island, one beyond the snap limit). Reference: a brute force through a different code path —
 * per home, GET /api/route from each of its access points to every facility of the format (the
 * least minutes), homes grouped by h3-js latLngToCell of their centroid, the cell's figures
 * tallied here. Also: cache hit on the second request, a miss after invalidate() and after a
 * facility edit (whose figures equal a fresh brute force), and bad input → 400 naming the field.
 */
import type { FastifyInstance } from 'fastify';
import { latLngToCell } from 'h3-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildSnapIndex } from '../../src/engine/snap.js';
import { emptyResidenceTable, snapResidenceAccess } from '../../src/ingest/residences/index.js';
import type { Region } from '../../src/region/region.js';
import { buildServer } from '../../src/server/app.js';
import type { QuarterStore } from '../../src/store/store.js';
import { toLat, toLon } from '../engine/fixtures.js';
import { handRegion } from './hand-region.js';
import { expectError, login, storeWithUsers, USERS } from './session-helpers.js';

const round7 = (x: number): number => Math.round(x * 1e7) / 1e7;

interface Home {
  lon: number;
  lat: number;
  population: number;
  /** access points [lon, lat]. */
  gates: Array<[number, number]>;
}

/** Homes in metres of the hand region: a lattice over the grid, jittered, two gates on every seventh. */
function layHomes(): Home[] {
  const homes: Home[] = [];
  let i = 0;
  const at = (x: number, y: number): [number, number] => [round7(toLon(x)), round7(toLat(y))];
  for (let y = -40; y <= 560; y += 75) {
    for (let x = -40; x <= 560; x += 75) {
      const jx = x + ((i * 37) % 29) - 14;
      const jy = y + ((i * 53) % 31) - 15;
      const [lon, lat] = at(jx, jy);
      const gates: Array<[number, number]> = i % 7 === 3 ? [at(jx + 25, jy), at(jx, jy - 30)] : [[lon, lat]];
      homes.push({ lon, lat, population: i % 5 === 0 ? 0 : 1 + ((i * 7) % 13), gates });
      i++;
    }
  }
  const [ilon, ilat] = at(1560, 30); // near the island
  homes.push({ lon: ilon, lat: ilat, population: 4, gates: [[ilon, ilat]] });
  const [flon, flat] = at(950, 950); // beyond the snap limit of every way
  homes.push({ lon: flon, lat: flat, population: 6, gates: [[flon, flat]] });
  return homes;
}

/** The hand region with these homes (population zeroed when asked). */
function regionWith(homes: readonly Home[], withPopulation: boolean): Region {
  const hand = handRegion();
  const t = emptyResidenceTable(homes.length);
  const coords: number[] = [];
  homes.forEach((h, r) => {
    t.lon[r] = h.lon;
    t.lat[r] = h.lat;
    t.population[r] = withPopulation ? h.population : 0;
    for (const g of h.gates) coords.push(g[0], g[1]);
    t.gateOffsets[r + 1] = coords.length / 2;
  });
  t.gateCoords = Float64Array.from(coords);
  const snaps = snapResidenceAccess(t, buildSnapIndex(hand.graph), hand.region.meta.snapLimitMetres).snaps;
  return { ...hand.region, residences: t, residenceSnaps: snaps, compounds: [] };
}

const HOMES = layHomes();
let store: QuarterStore;
let app: FastifyInstance;
let homesOnly: FastifyInstance;

beforeAll(async () => {
  store = await storeWithUsers(Object.values(USERS));
  app = await buildServer({ region: regionWith(HOMES, true), store, rateLimit: false });
  homesOnly = await buildServer({ region: regionWith(HOMES, false), rateLimit: false });
});
afterAll(async () => {
  await app?.close();
  await homesOnly?.close();
  await store?.close();
});

interface Cell {
  h3: string;
  homes: number;
  residents?: number;
  unreached: number;
  meanMinutes: number | null;
  maxMinutes: number | null;
  within5: number;
  within10: number;
  within15: number;
}

const get = (server: FastifyInstance, url: string) => server.inject({ method: 'GET', url });

/** Per home: the least minutes of /api/route from any of its gates to any facility of the format (Infinity when none routes). */
async function bruteMinutes(server: FastifyInstance, format: string): Promise<number[]> {
  const list = (await get(server, `/api/facilities?format=${format}&limit=5000`)).json() as { facilities: Array<{ id: number }> };
  expect(list.facilities.length).toBeGreaterThan(0);
  const out: number[] = [];
  for (const h of HOMES) {
    let best = Infinity;
    for (const [lon, lat] of h.gates) {
      for (const f of list.facilities) {
        const res = await get(server, `/api/route?from=${lon},${lat}&facility=${f.id}`);
        if (res.statusCode === 404) continue; // off the network, or not connected
        expect(res.statusCode, res.body).toBe(200);
        best = Math.min(best, (res.json() as { minutes: number }).minutes);
      }
    }
    out.push(best);
  }
  return out;
}

/** The cells tallied from per-home minutes, weighted by residents (a cell with none: by homes) or by homes. */
function expectedCells(minutes: readonly number[], resolution: number, maxMinutes: number, byResidents: boolean): Map<string, Cell> {
  const groups = new Map<string, number[]>();
  HOMES.forEach((h, r) => {
    const c = latLngToCell(h.lat, h.lon, resolution);
    groups.set(c, [...(groups.get(c) ?? []), r]);
  });
  const out = new Map<string, Cell>();
  for (const [h3, members] of groups) {
    const residents = members.reduce((a, r) => a + HOMES[r].population, 0);
    const w = (r: number): number => (byResidents && residents > 0 ? HOMES[r].population : 1);
    const reached = members.filter((r) => minutes[r] <= maxMinutes);
    const total = members.reduce((a, r) => a + w(r), 0);
    const rw = reached.reduce((a, r) => a + w(r), 0);
    const share = (band: number): number => reached.filter((r) => minutes[r] <= band).reduce((a, r) => a + w(r), 0) / total;
    out.set(h3, {
      h3,
      homes: members.length,
      ...(byResidents ? { residents } : {}),
      unreached: members.length - reached.length,
      meanMinutes: reached.length === 0 ? null : rw > 0 ? reached.reduce((a, r) => a + w(r) * minutes[r], 0) / rw : reached.reduce((a, r) => a + minutes[r], 0) / reached.length,
      maxMinutes: reached.length === 0 ? null : Math.max(...reached.map((r) => minutes[r])),
      within5: share(5),
      within10: share(10),
      within15: share(15),
    });
  }
  return out;
}

function compare(cells: Cell[], expected: Map<string, Cell>): void {
  expect(cells.map((c) => c.h3).sort()).toEqual([...expected.keys()].sort());
  for (const c of cells) {
    const e = expected.get(c.h3)!;
    const where = `cell ${c.h3}`;
    expect(c.homes, where).toBe(e.homes);
    expect(c.unreached, where).toBe(e.unreached);
    if (e.residents === undefined) expect(c.residents, where).toBeUndefined();
    else expect(c.residents!, where).toBeCloseTo(e.residents, 1);
    for (const k of ['meanMinutes', 'maxMinutes'] as const) {
      if (e[k] === null) expect(c[k], `${where} ${k}`).toBeNull();
      else expect(Math.abs(c[k]! - e[k]!), `${where} ${k}: ${c[k]} vs ${e[k]}`).toBeLessThanOrEqual(0.0006);
    }
    for (const k of ['within5', 'within10', 'within15'] as const) expect(Math.abs(c[k] - e[k]), `${where} ${k}`).toBeLessThanOrEqual(0.00006);
  }
}

describe('GET /api/heatmap', () => {
  let supermarket: number[];
  let pharmacy: number[];
  beforeAll(async () => {
    supermarket = await bruteMinutes(app, 'supermarket');
    pharmacy = await bruteMinutes(app, 'pharmacy');
  });

  test('every cell’s figures equal the brute force over /api/route (resident-weighted), at resolutions 8–10 and two search caps', async () => {
    // the layout is what the test means: reached and unreached homes, several cells
    expect(supermarket.filter(Number.isFinite).length).toBeGreaterThan(50);
    expect(supermarket.some((m) => !Number.isFinite(m))).toBe(true);
    for (const [format, minutes] of [['supermarket', supermarket], ['pharmacy', pharmacy]] as const) {
      for (const resolution of [8, 9, 10]) {
        for (const maxMinutes of [30, 4]) {
          const res = await get(app, `/api/heatmap?format=${format}&resolution=${resolution}&maxMinutes=${maxMinutes}`);
          expect(res.statusCode, res.body).toBe(200);
          const body = res.json() as { format: string; profile: string; resolution: number; maxMinutes: number; weighting: string; homes: number; unreached: number; cells: Cell[] };
          expect(body).toMatchObject({ format, profile: 'default', resolution, maxMinutes, weighting: 'residents', homes: HOMES.length });
          const expected = expectedCells(minutes, resolution, maxMinutes, true);
          compare(body.cells, expected);
          expect(body.unreached).toBe(minutes.filter((m) => !(m <= maxMinutes)).length);
          if (resolution === 10) expect(body.cells.length).toBeGreaterThan(10);
          if (maxMinutes === 4) expect(body.cells.some((c) => c.unreached > 0 && c.unreached < c.homes)).toBe(true);
        }
      }
    }
  });

  test('without population per home the figures are home-weighted and no residents are reported', async () => {
    const res = await get(homesOnly, '/api/heatmap?format=supermarket&resolution=10&maxMinutes=6');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { weighting: string; cells: Cell[] };
    expect(body.weighting).toBe('homes');
    compare(body.cells, expectedCells(supermarket, 10, 6, false));
  });

  test('the elderly profile (0.8 m/s, steps ×3) gives every cell at least 1.25× the default (1.0 m/s, steps ×2) mean minutes', async () => {
    const def = (await get(app, '/api/heatmap?format=supermarket&resolution=10&maxMinutes=60')).json() as { cells: Cell[] };
    const old = (await get(app, '/api/heatmap?format=supermarket&resolution=10&maxMinutes=60&profile=elderly')).json() as { profile: string; cells: Cell[] };
    expect(old.profile).toBe('elderly');
    const byId = new Map(def.cells.map((c) => [c.h3, c]));
    for (const c of old.cells) {
      const d = byId.get(c.h3)!;
      if (d.meanMinutes === null) continue;
      expect(c.meanMinutes!).toBeGreaterThanOrEqual(d.meanMinutes * 1.25 - 0.001);
    }
  });

  test('the second request is a cache hit; invalidate() and a facility edit make it a miss, and the edited figures equal a fresh brute force', async () => {
    const url = '/api/heatmap?format=supermarket&resolution=9&maxMinutes=20';
    const first = await get(app, url);
    const second = await get(app, url);
    expect(first.statusCode).toBe(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toBe(first.body);
    app.quarter.invalidate();
    expect((await get(app, url)).headers['x-cache']).toBe('MISS');
    expect((await get(app, url)).headers['x-cache']).toBe('HIT');

    // a new supermarket in the far corner of the grid
    const planner = await login(app, USERS.planner);
    const added = await planner.req('POST', '/api/facilities', { formats: ['supermarket'], name: '新开超市', lon: toLon(500), lat: toLat(480) });
    expect(added.statusCode, added.body).toBe(201);
    const after = await get(app, url);
    expect(after.headers['x-cache']).toBe('MISS');
    const cells = (after.json() as { cells: Cell[] }).cells;
    const fresh = await bruteMinutes(app, 'supermarket');
    expect(fresh.some((m, r) => m < supermarket[r] - 0.01)).toBe(true);
    compare(cells, expectedCells(fresh, 9, 20, true));
    expect(after.body).not.toBe(first.body);
  });

  test('bad input: 400 naming the field', async () => {
    const bad = async (query: string, field: string) => expectError(await get(app, `/api/heatmap?${query}`), 400, field);
    await bad('', 'format');
    await bad('format=', 'format');
    await bad('format=no_such_format', 'format');
    await bad('format=Bad!', 'format');
    await bad(`format=${'a'.repeat(5000)}`, 'format');
    await bad('format=supermarket&resolution=6', 'resolution');
    await bad('format=supermarket&resolution=11', 'resolution');
    await bad('format=supermarket&resolution=9.5', 'resolution');
    await bad('format=supermarket&resolution=nine', 'resolution');
    await bad('format=supermarket&maxMinutes=61', 'maxMinutes');
    await bad('format=supermarket&maxMinutes=0', 'maxMinutes');
    await bad('format=supermarket&maxMinutes=-5', 'maxMinutes');
    await bad('format=supermarket&maxMinutes=abc', 'maxMinutes');
    await bad('format=supermarket&maxMinutes=1e400', 'maxMinutes');
    await bad('format=supermarket&profile=runner', 'profile');
    await bad('format=supermarket&profile=../etc', 'profile');
    await bad(`format=supermarket&profile=${'p'.repeat(100)}`, 'profile');
  });
});
