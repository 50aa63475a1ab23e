/** `quarter isochrone`: valid GeoJSON, nested bands, and polygons that agree with the network times. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { KREMS_PBF, dijkstra, expectOk, facilitySeeds, loadExport, quarter, scratch, type ExportedGraph } from './helpers.js';

const dir = scratch('isochrone');
const region = join(dir, 'krems.quarter');
const run = (args: string[]) => quarter(args, { cwd: dir, region });
const SPEED = 1.0; // default profile, m/s (data/profiles/walking.json)

type Position = [number, number];
interface Fc {
  type: string;
  properties: { profile: string; origins: number; attribution: string };
  features: Array<{ type: string; properties: { minutes: number }; geometry: { type: string; coordinates: unknown } }>;
}

let graph: ExportedGraph;
let bbox: [number, number, number, number];

beforeAll(() => {
  expectOk(quarter(['import', KREMS_PBF, '-o', region], { cwd: dir }));
  expectOk(run(['export', '-o', 'csv']));
  graph = loadExport(join(dir, 'csv'));
  bbox = JSON.parse(run(['info', '--json']).stdout).bbox;
});

/** Polygons of a Polygon or MultiPolygon, each a list of rings; checks the GeoJSON shape on the way. */
function polygonsOf(geometry: { type: string; coordinates: unknown }): Position[][][] {
  expect(['Polygon', 'MultiPolygon']).toContain(geometry.type);
  const polys = (geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates) as Position[][][];
  expect(Array.isArray(polys)).toBe(true);
  for (const rings of polys) {
    expect(rings.length).toBeGreaterThanOrEqual(1);
    for (const ring of rings) {
      expect(ring.length).toBeGreaterThanOrEqual(4);
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      for (const p of ring) {
        expect(p).toHaveLength(2);
        expect(Number.isFinite(p[0]) && Number.isFinite(p[1])).toBe(true);
        expect(p[0]).toBeGreaterThan(bbox[0] - 0.05);
        expect(p[0]).toBeLessThan(bbox[2] + 0.05);
        expect(p[1]).toBeGreaterThan(bbox[1] - 0.05);
        expect(p[1]).toBeLessThan(bbox[3] + 0.05);
      }
    }
  }
  return polys;
}

const KY = 111195;
const kx = (lat: number): number => KY * Math.cos((lat * Math.PI) / 180);

/** Area in m² (outer rings minus holes), shoelace in a local metric. */
function area(polys: Position[][][]): number {
  let total = 0;
  for (const rings of polys) {
    rings.forEach((ring, k) => {
      let a = 0;
      const k0 = kx(ring[0][1]);
      for (let i = 0; i + 1 < ring.length; i++) a += ring[i][0] * k0 * ring[i + 1][1] * KY - ring[i + 1][0] * k0 * ring[i][1] * KY;
      total += (k === 0 ? 1 : -1) * Math.abs(a / 2);
    });
  }
  return total;
}

/** Even-odd point in (multi)polygon. */
function inside(polys: Position[][][], [x, y]: Position): boolean {
  let c = false;
  for (const rings of polys) {
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
      }
    }
  }
  return c;
}

const metres = (a: Position, b: Position): number => Math.hypot((a[0] - b[0]) * kx(a[1]), (a[1] - b[1]) * KY);

/** Main-network node nearest to a point. */
function nodeNear(lon: number, lat: number): number {
  let best = -1;
  let bestD = Infinity;
  graph.nodes.forEach((n, i) => {
    if (n.component !== 0) return;
    const d = metres([Number(n.lon), Number(n.lat)], [lon, lat]);
    if (d < bestD) [best, bestD] = [i, d];
  });
  return best;
}

function parse(text: string): Fc {
  const fc = JSON.parse(text) as Fc;
  expect(fc.type).toBe('FeatureCollection');
  for (const f of fc.features) expect(f.type).toBe('Feature');
  return fc;
}

describe('isochrone --at', () => {
  test('features for 15, 10 and 5 minutes, nested, containing what the network reaches', () => {
    const node = nodeNear(15.6001, 48.4098);
    const origin: Position = [Number(graph.nodes[node].lon), Number(graph.nodes[node].lat)];
    const r = run(['isochrone', '--at', `${graph.nodes[node].lon},${graph.nodes[node].lat}`]);
    expectOk(r);
    expect(r.stderr).toBe('');
    const fc = parse(r.stdout);
    expect(fc.properties).toMatchObject({ profile: 'default', origins: 1 });
    expect(fc.properties.attribution).toContain('OpenStreetMap');
    expect(fc.features.map((f) => f.properties.minutes)).toEqual([15, 10, 5]);
    const polys = new Map(fc.features.map((f) => [f.properties.minutes, polygonsOf(f.geometry)]));
    const a = (m: number): number => area(polys.get(m) as Position[][][]);
    expect(a(5)).toBeGreaterThan(0);
    expect(a(5)).toBeLessThanOrEqual(a(10));
    expect(a(10)).toBeLessThanOrEqual(a(15));
    // no band is bigger than a disc of its walking radius (walking is never shorter than the crow's line)
    for (const m of [5, 10, 15]) expect(a(m)).toBeLessThan(Math.PI * (m * 60 * SPEED + 40) ** 2);

    const dist = dijkstra(graph.adj, [[node, 0]]);
    for (const m of [5, 10, 15]) {
      const p = polys.get(m) as Position[][][];
      expect(inside(p, origin)).toBe(true);
      // every vertex within walking radius + a cell or two of the origin
      for (const rings of p) for (const ring of rings) for (const v of ring) expect(metres(v, origin)).toBeLessThan(m * 60 * SPEED + 45);
      // every node the network reaches a minute inside the band lies in its polygon
      let checked = 0;
      graph.nodes.forEach((n, u) => {
        if (dist[u] / 60 <= m - 1) {
          checked++;
          expect(inside(p, [Number(n.lon), Number(n.lat)]), `node ${u} at ${(dist[u] / 60).toFixed(2)} min, band ${m}`).toBe(true);
        }
      });
      expect(checked).toBeGreaterThan(3);
    }
  });

  test('--minutes picks the bands (sorted, deduplicated); --cell changes the raster', () => {
    const r = run(['isochrone', '--at', '15.6001,48.4098', '--minutes', '12,3,12', '--cell', '40']);
    expectOk(r);
    const fc = parse(r.stdout);
    expect(fc.features.map((f) => f.properties.minutes)).toEqual([12, 3]);
    const [a12, a3] = fc.features.map((f) => area(polygonsOf(f.geometry)));
    expect(a3).toBeGreaterThan(0);
    expect(a3).toBeLessThanOrEqual(a12);
  });

  test('two origins cover at least what each covers alone', () => {
    const one = parse(run(['isochrone', '--at', '15.6001,48.4098', '--minutes', '5']).stdout);
    const other = parse(run(['isochrone', '--at', '15.6135,48.4105', '--minutes', '5']).stdout);
    const both = parse(run(['isochrone', '--at', '15.6001,48.4098', '--at', '15.6135,48.4105', '--minutes', '5']).stdout);
    expect(both.properties.origins).toBe(2);
    const [a1, a2, ab] = [one, other, both].map((fc) => area(polygonsOf(fc.features[0].geometry)));
    expect(ab).toBeGreaterThanOrEqual(Math.max(a1, a2) * 0.99);
    expect(ab).toBeLessThanOrEqual((a1 + a2) * 1.01);
  });
});

describe('isochrone --facilities', () => {
  test('--facilities pharmacy -o file: a catchment from every reachable pharmacy', () => {
    const r = run(['isochrone', '--facilities', 'pharmacy', '-o', 'out/pharmacy.geojson']);
    expectOk(r);
    expect(r.stdout).toBe('');
    const pharmacies = graph.facilities.filter((f) => f.format === 'pharmacy' && f.from_node !== '');
    expect(pharmacies.length).toBeGreaterThan(1);
    expect(r.stderr).toBe(`wrote 5/10/15-minute isochrones from ${pharmacies.length} origin(s) → out/pharmacy.geojson\n`);
    expect(existsSync(join(dir, 'out', 'pharmacy.geojson'))).toBe(true);
    const fc = parse(readFileSync(join(dir, 'out', 'pharmacy.geojson'), 'utf8'));
    expect(fc.properties.origins).toBe(pharmacies.length);
    expect(fc.features.map((f) => f.properties.minutes)).toEqual([15, 10, 5]);
    const polys = fc.features.map((f) => polygonsOf(f.geometry));
    const [a15, a10, a5] = polys.map(area);
    expect(a5).toBeGreaterThan(0);
    expect(a5).toBeLessThanOrEqual(a10);
    expect(a10).toBeLessThanOrEqual(a15);
    // every pharmacy's access point is inside the 5-minute band, and every node the
    // multi-source search reaches in 9 minutes is inside the 10-minute band
    for (const p of pharmacies) expect(inside(polys[2], [Number(p.lon), Number(p.lat)]), p.name).toBe(true);
    const dist = dijkstra(graph.adj, pharmacies.flatMap(facilitySeeds));
    graph.nodes.forEach((n, u) => {
      if (dist[u] <= 9 * 60) expect(inside(polys[1], [Number(n.lon), Number(n.lat)]), `node ${u}`).toBe(true);
    });
  });

  test('--at and --facilities together', () => {
    const r = run(['isochrone', '--facilities', 'pharmacy', '--at', '15.6135,48.4105', '--minutes', '5']);
    expectOk(r);
    const pharmacies = new Set(graph.facilities.filter((f) => f.format === 'pharmacy' && f.from_node !== '').map((f) => f.facility));
    expect(parse(r.stdout).properties.origins).toBe(pharmacies.size + 1);
  });
});
