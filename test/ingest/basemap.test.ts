/**
 * The basemap extracted at import, checked against facts computed another way:
 *  - Krems: layer counts, names and geometry against a plain reading of the same extract
 *    (`osmium cat -f opl`, a different parser; the project's XML reader on the .osm.gz copy when
 *    osmium is missing) with the layer rules written out here, not read from data/basemap.json;
 *  - a hand-made OSM file whose every feature has a known answer (split lines, unclosed areas,
 *    multipolygon assembly with a hole, ring orientation, skipped values, --clip);
 *  - Douglas–Peucker on hand-computed cases;
 *  - the region file with and without the basemap, and a file written the old way (by a writer
 *    in this test) that still loads.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { douglasPeucker, extractBasemap, type BasemapLayer } from '../../src/ingest/basemap.js';
import { clipFromGeoJson } from '../../src/ingest/clip.js';
import { MEMBER_NODE, MEMBER_WAY } from '../../src/ingest/osm-source.js';
import { scanXml } from '../../src/ingest/xml-reader.js';
import { RESIDENCE_ARRAYS } from '../../src/ingest/residences/index.js';
import { importRegion } from '../../src/region/import-region.js';
import { decodeRegion, encodeRegion, readRegion, REGION_FORMAT_VERSION, writeRegion } from '../../src/region/region-file.js';
import type { Region } from '../../src/region/region.js';
import { LAT0, LON0, toLat, toLon } from '../engine/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'quarter-basemap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------- helpers

type Position = [number, number];
interface Feature {
  type: 'Feature';
  properties: { layer: BasemapLayer; class?: string; name?: string };
  geometry: { type: 'LineString' | 'MultiLineString' | 'Polygon' | 'MultiPolygon'; coordinates: unknown };
}
interface FeatureCollection {
  type: 'FeatureCollection';
  source: string;
  features: Feature[];
}

const R = 6371008.8;
const RAD = Math.PI / 180;

/** Metres from a point to a polyline, in a local equirectangular metric about the point. */
function metresToLine(p: Position, line: Position[]): number {
  const kx = R * RAD * Math.cos(p[1] * RAD);
  const ky = R * RAD;
  let best = Infinity;
  for (let i = 0; i + 1 < line.length; i++) {
    const ax = (line[i][0] - p[0]) * kx;
    const ay = (line[i][1] - p[1]) * ky;
    const bx = (line[i + 1][0] - p[0]) * kx;
    const by = (line[i + 1][1] - p[1]) * ky;
    const dx = bx - ax;
    const dy = by - ay;
    const l2 = dx * dx + dy * dy;
    const t = l2 > 0 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / l2)) : 0;
    best = Math.min(best, Math.hypot(ax + t * dx, ay + t * dy));
  }
  if (line.length === 1) best = Math.hypot((line[0][0] - p[0]) * kx, (line[0][1] - p[1]) * ky);
  return best;
}

/** Every line (LineString parts, polygon rings) of a geometry. */
function linesOf(g: Feature['geometry']): Position[][] {
  switch (g.type) {
    case 'LineString':
      return [g.coordinates as Position[]];
    case 'MultiLineString':
    case 'Polygon':
      return g.coordinates as Position[][];
    case 'MultiPolygon':
      return (g.coordinates as Position[][][]).flat();
  }
}

/** Shoelace in lon/lat: > 0 counter-clockwise. */
const signedArea = (ring: Position[]): number => {
  let a = 0;
  for (let i = 0; i + 1 < ring.length; i++) a += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  return a / 2;
};

const isMicroDegree = (x: number): boolean => Math.abs(x * 1e6 - Math.round(x * 1e6)) < 1e-6;

function expectWellFormed(fc: FeatureCollection): void {
  for (const f of fc.features) {
    for (const line of linesOf(f.geometry)) {
      for (const [x, y] of line) {
        expect(isMicroDegree(x) && isMicroDegree(y), `${x},${y} is rounded to 1e-6`).toBe(true);
      }
      for (let i = 1; i < line.length; i++) expect(line[i][0] !== line[i - 1][0] || line[i][1] !== line[i - 1][1], 'no repeated points').toBe(true);
    }
    if (f.geometry.type === 'Polygon' || f.geometry.type === 'MultiPolygon') {
      const polygons = f.geometry.type === 'Polygon' ? [f.geometry.coordinates as Position[][]] : (f.geometry.coordinates as Position[][][]);
      for (const poly of polygons) {
        poly.forEach((ring, k) => {
          expect(ring.length).toBeGreaterThanOrEqual(4);
          expect(ring[0]).toEqual(ring[ring.length - 1]);
          // RFC 7946: exterior rings counter-clockwise, holes clockwise
          expect(Math.sign(signedArea(ring)), `ring ${k}`).toBe(k === 0 ? 1 : -1);
        });
      }
    } else {
      for (const line of linesOf(f.geometry)) expect(line.length).toBeGreaterThanOrEqual(2);
    }
  }
}

// ---------------------------------------------------------------- an independent reading of an OSM file

interface RefWay {
  id: number;
  tags: Record<string, string>;
  refs: number[];
}
interface RefRelation {
  id: number;
  tags: Record<string, string>;
  members: Array<{ type: 'n' | 'w' | 'r'; ref: number; role: string }>;
}
interface RefOsm {
  nodes: Map<number, Position>;
  ways: RefWay[];
  relations: RefRelation[];
}

const osmiumAvailable = spawnSync('osmium', ['--version']).status === 0;

/** OPL escapes: %hex% is a code point. */
const unescapeOpl = (s: string): string => s.replace(/%([0-9a-fA-F]+)%/g, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)));

function readWithOsmium(file: string): RefOsm {
  const text = execFileSync('osmium', ['cat', file, '-f', 'opl,add_metadata=false', '-o', '-'], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  const out: RefOsm = { nodes: new Map(), ways: [], relations: [] };
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const id = Number(fields[0].slice(1));
    const tags: Record<string, string> = {};
    let x = NaN;
    let y = NaN;
    let refs: number[] = [];
    let members: RefRelation['members'] = [];
    for (const f of fields.slice(1)) {
      const v = f.slice(1);
      if (f[0] === 'T' && v) {
        for (const kv of v.split(',')) {
          const eq = kv.indexOf('=');
          tags[unescapeOpl(kv.slice(0, eq))] = unescapeOpl(kv.slice(eq + 1));
        }
      } else if (f[0] === 'x') x = Number(v);
      else if (f[0] === 'y') y = Number(v);
      else if (f[0] === 'N' && v) refs = v.split(',').map((r) => Number(r.slice(1)));
      else if (f[0] === 'M' && v) {
        members = v.split(',').map((m) => {
          const at = m.indexOf('@');
          return { type: m[0] as 'n' | 'w' | 'r', ref: Number(m.slice(1, at)), role: unescapeOpl(m.slice(at + 1)) };
        });
      }
    }
    if (line[0] === 'n') out.nodes.set(id, [x, y]);
    else if (line[0] === 'w') out.ways.push({ id, tags, refs });
    else if (line[0] === 'r') out.relations.push({ id, tags, members });
  }
  return out;
}

async function readWithXmlReader(file: string, gz: boolean): Promise<RefOsm> {
  const out: RefOsm = { nodes: new Map(), ways: [], relations: [] };
  const { statSync } = await import('node:fs');
  await scanXml(file, statSync(file).size, gz, {
    node: (id, lon, lat) => void out.nodes.set(id, [lon, lat]),
    way: (id, refs, n, tags) => void out.ways.push({ id, tags: { ...tags }, refs: Array.from(refs.subarray(0, n)) }),
    relation: (id, m, tags) =>
      void out.relations.push({
        id,
        tags: { ...tags },
        members: Array.from({ length: m.count }, (_, i) => ({ type: m.types[i] === MEMBER_NODE ? 'n' : m.types[i] === MEMBER_WAY ? 'w' : 'r', ref: m.ids[i], role: m.roles[i] }) as const),
      }),
  });
  return out;
}

// The layer rules, written out independently of data/basemap.json.
const POLYGON_LAYERS: BasemapLayer[] = ['building', 'water', 'green'];
function refLayers(tags: Record<string, string>): BasemapLayer[] {
  const out: BasemapLayer[] = [];
  const hw = tags.highway;
  if (hw !== undefined && !['proposed', 'planned', 'abandoned', 'disused', 'razed', 'no', 'services', 'rest_area'].includes(hw)) out.push('road');
  if (['rail', 'narrow_gauge', 'preserved', 'light_rail', 'monorail', 'subway', 'tram', 'funicular'].includes(tags.railway)) out.push('rail');
  if (tags.building !== undefined && tags.building !== 'no') out.push('building');
  if (tags.natural === 'water' || ['riverbank', 'dock'].includes(tags.waterway) || ['reservoir', 'basin'].includes(tags.landuse)) out.push('water');
  if (['river', 'stream', 'canal'].includes(tags.waterway)) out.push('waterway');
  if (['park', 'garden'].includes(tags.leisure) || ['grass', 'forest', 'meadow', 'recreation_ground'].includes(tags.landuse) || tags.natural === 'wood') out.push('green');
  return out;
}

/** Can this way be drawn in this layer (nodes present; areas closed with 3 distinct points)? */
function drawable(w: RefWay, layer: BasemapLayer, nodes: Map<number, Position>): boolean {
  if (POLYGON_LAYERS.includes(layer)) {
    if (!(w.refs.length >= 4 && w.refs[0] === w.refs[w.refs.length - 1])) return false;
    return new Set(w.refs.filter((r) => nodes.has(r))).size >= 3;
  }
  for (let i = 0; i + 1 < w.refs.length; i++) if (nodes.has(w.refs[i]) && nodes.has(w.refs[i + 1]) && w.refs[i] !== w.refs[i + 1]) return true;
  return false;
}

// ---------------------------------------------------------------- Krems

describe('Krems: the basemap against an independent reading of the extract', () => {
  let ref: RefOsm;
  let fc: FeatureCollection;
  let report: Awaited<ReturnType<typeof extractBasemap>>['report'];

  beforeAll(async () => {
    ref = osmiumAvailable ? readWithOsmium('data/krems/krems.osm.pbf') : await readWithXmlReader('test/fixtures/osm/krems.osm.gz', true);
    const res = await extractBasemap('data/krems/krems.osm.pbf');
    report = res.report;
    fc = JSON.parse(gunzipSync(res.geojsonGz).toString('utf8')) as FeatureCollection;
  }, 120_000);

  test('the reference read the whole extract (SOURCE.md: 15,042 nodes, 2,402 ways, 73 relations)', () => {
    expect([ref.nodes.size, ref.ways.length, ref.relations.length]).toEqual([15042, 2402, 73]);
  });

  test('per layer: written + not drawable = every tagged way and multipolygon; ways alone account for the rest', () => {
    const counts = (l: BasemapLayer) => {
      const ways = ref.ways.filter((w) => refLayers(w.tags).includes(l));
      const rels = POLYGON_LAYERS.includes(l) ? ref.relations.filter((r) => r.tags.type === 'multipolygon' && refLayers(r.tags).includes(l)) : [];
      return { tagged: ways.length + rels.length, drawableWays: ways.filter((w) => drawable(w, l, ref.nodes)).length, relations: rels.length };
    };
    const layers: BasemapLayer[] = ['road', 'rail', 'building', 'water', 'waterway', 'green'];
    for (const l of layers) {
      const c = counts(l);
      expect(report.features[l] + report.withoutGeometry[l], l).toBe(c.tagged);
      expect(report.features[l], l).toBeGreaterThanOrEqual(c.drawableWays);
      expect(report.features[l] - c.drawableWays, l).toBeLessThanOrEqual(c.relations);
      expect(fc.features.filter((f) => f.properties.layer === l).length, l).toBe(report.features[l]);
    }
    // osmium tags-count on way tags (Krems has these values): 838 highway ways, 109 railway=rail, 1195 buildings
    expect(report.features.road).toBe(838);
    expect(report.features.rail).toBe(109);
    expect(report.features.building).toBe(1195);
    expect(fc.source).toBe('osm');
  });

  test('the Danube: the riverbank multipolygon, assembled from its member ways, is a large named water area', () => {
    const donau = fc.features.filter((f) => f.properties.layer === 'water' && f.properties.name === 'Donau');
    expect(donau.length).toBeGreaterThanOrEqual(1);
    const big = donau.find((f) => f.properties.class === 'riverbank')!;
    expect(big).toBeTruthy();
    const kx = R * RAD * Math.cos(48.4 * RAD);
    const ky = R * RAD;
    const polys = big.geometry.type === 'Polygon' ? [big.geometry.coordinates as Position[][]] : (big.geometry.coordinates as Position[][][]);
    const m2 = polys.reduce((s, p) => s + Math.abs(signedArea(p[0])) * kx * ky - p.slice(1).reduce((h, r) => h + Math.abs(signedArea(r)) * kx * ky, 0), 0);
    expect(m2).toBeGreaterThan(1e6);
  });

  test('way features follow their ways: same order, same names, every vertex within the 1 m tolerance (+ rounding)', () => {
    let checked = 0;
    for (const l of ['road', 'rail', 'building', 'water', 'waterway', 'green'] as BasemapLayer[]) {
      const ways = ref.ways.filter((w) => refLayers(w.tags).includes(l) && drawable(w, l, ref.nodes));
      const feats = fc.features.filter((f) => f.properties.layer === l);
      ways.forEach((w, k) => {
        const f = feats[k];
        if (['road', 'water', 'waterway'].includes(l)) expect(f.properties.name, `${l} way ${w.id}`).toBe(w.tags['name:zh'] ?? w.tags.name);
        else expect(f.properties.name).toBeUndefined();
        const lines = linesOf(f.geometry);
        for (const r of w.refs) {
          const p = ref.nodes.get(r);
          if (!p) continue;
          expect(Math.min(...lines.map((line) => metresToLine(p, line))), `${l} way ${w.id} node ${r}`).toBeLessThan(1 + 0.15);
        }
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(2000);
  });

  test('well-formed GeoJSON: 1e-6 rounding, closed and oriented rings, inside the extract', () => {
    expectWellFormed(fc);
    let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
    for (const [x, y] of ref.nodes.values()) {
      w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y);
    }
    for (const f of fc.features) for (const line of linesOf(f.geometry)) for (const [x, y] of line) {
      expect(x >= w - 1e-6 && x <= e + 1e-6 && y >= s - 1e-6 && y <= n + 1e-6).toBe(true);
    }
    // simplification removed points, and the report counts what was written
    const written = fc.features.reduce((a, f) => a + linesOf(f.geometry).reduce((b, l) => b + l.length, 0), 0);
    expect(report.vertices).toBe(written);
    expect(report.gzipBytes).toBeLessThan(report.geojsonBytes / 3);
  });
});

// ---------------------------------------------------------------- a hand-made file

describe('hand-made OSM file: every feature has a known answer', () => {
  // metres east/north of (LON0, LAT0)
  const nodes = new Map<number, [number, number]>();
  const ways: Array<{ id: number; refs: number[]; tags: Record<string, string> }> = [];
  const relations: Array<{ id: number; members: Array<[number, string]>; tags: Record<string, string> }> = [];
  let nextNode = 1;
  const nodeAt = (x: number, y: number): number => {
    const id = nextNode++;
    nodes.set(id, [x, y]);
    return id;
  };
  const way = (id: number, pts: Array<[number, number] | number>, tags: Record<string, string>, close = false): number[] => {
    const refs = pts.map((p) => (typeof p === 'number' ? p : nodeAt(p[0], p[1])));
    if (close) refs.push(refs[0]);
    ways.push({ id, refs, tags });
    return refs;
  };
  const MISSING = 999999;
  const square = (x0: number, y0: number, size: number): Array<[number, number]> => [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size]];

  const roadA = way(1, [[0, 0], [50, 0.3], [100, 0], [150, 0]], { highway: 'primary', name: 'Huaihai Road', 'name:zh': '淮海中路' });
  way(2, [[0, 50], [50, 50], MISSING, [100, 50], [150, 50]], { highway: 'footway' });
  way(3, [[0, 100], [100, 100]], { highway: 'proposed', name: 'never built' });
  way(4, [[0, 150], [100, 150]], { highway: 'elevator' });
  way(5, [MISSING, [0, 200]], { highway: 'service' });
  const buildingF = way(6, [[500, 0], [500, 10], [510, 10], [510, 0]], { building: 'yes', name: 'not drawn' }, true); // clockwise
  way(7, [[600, 0], [600, 10], [610, 10]], { building: 'yes' }); // not closed
  way(8, square(700, 0, 10), { building: 'no' }, true);
  // a lake as a multipolygon: the outer ring from two open ways, a hole given counter-clockwise
  const c = [nodeAt(1000, 0), nodeAt(1100, 0), nodeAt(1100, 100), nodeAt(1000, 100)];
  way(10, [c[0], c[1], c[2]], {});
  way(11, [c[2], c[3], c[0]], {});
  way(12, square(1040, 40, 20), {}, true);
  relations.push({ id: 1, members: [[10, 'outer'], [11, 'outer'], [12, 'inner']], tags: { type: 'multipolygon', natural: 'water', name: '湖' } });
  // old-style multipolygon: tags on the outer way only → drawn from the way
  way(13, square(1300, 0, 100), { landuse: 'forest' }, true);
  relations.push({ id: 2, members: [[13, 'outer']], tags: { type: 'multipolygon' } });
  way(14, [[0, 500], [150, 500], [300, 500]], { waterway: 'river', name: '黄浦江' });
  way(15, [[0, 600], [300, 600]], { railway: 'tram' });
  way(16, [[0, 700], [300, 700]], { railway: 'abandoned' });
  const arc: Array<[number, number]> = [];
  for (let deg = 0; deg <= 180; deg++) arc.push([2000 + 60 * Math.cos(deg * RAD), 60 * Math.sin(deg * RAD)]);
  const curve = way(17, arc, { highway: 'residential' });
  way(18, square(1500, 0, 50), { leisure: 'park', name: '公园' }, true);

  const file = join(tmp, 'hand.osm');
  beforeAll(() => {
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    const tagXml = (t: Record<string, string>) => Object.entries(t).map(([k, v]) => `<tag k="${esc(k)}" v="${esc(v)}"/>`).join('');
    const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">'];
    for (const [id, [x, y]] of nodes) lines.push(`<node id="${id}" lon="${toLon(x).toFixed(7)}" lat="${toLat(y).toFixed(7)}"/>`);
    for (const w of ways) lines.push(`<way id="${w.id}">${w.refs.map((r) => `<nd ref="${r}"/>`).join('')}${tagXml(w.tags)}</way>`);
    for (const r of relations) lines.push(`<relation id="${r.id}">${r.members.map(([ref, role]) => `<member type="way" ref="${ref}" role="${role}"/>`).join('')}${tagXml(r.tags)}</relation>`);
    lines.push('</osm>');
    writeFileSync(file, lines.join('\n'));
  });

  const pos = (id: number): Position => {
    const [x, y] = nodes.get(id)!;
    return [Math.round(Number(toLon(x).toFixed(7)) * 1e6) / 1e6, Math.round(Number(toLat(y).toFixed(7)) * 1e6) / 1e6];
  };
  const read = async (clipBox?: [number, number, number, number]) => {
    const clip = clipBox
      ? clipFromGeoJson({ type: 'Polygon', coordinates: [[[clipBox[0], clipBox[1]], [clipBox[2], clipBox[1]], [clipBox[2], clipBox[3]], [clipBox[0], clipBox[3]], [clipBox[0], clipBox[1]]]] })
      : undefined;
    const res = await extractBasemap(file, { clip });
    return { report: res.report, fc: JSON.parse(gunzipSync(res.geojsonGz).toString('utf8')) as FeatureCollection };
  };

  test('counts per layer, and what could not be drawn', async () => {
    const { report, fc } = await read();
    expect(report.features).toEqual({ road: 4, rail: 1, building: 1, water: 1, waterway: 1, green: 2 });
    expect(report.withoutGeometry).toEqual({ road: 1, rail: 0, building: 1, water: 0, waterway: 0, green: 0 });
    expect(report.clipped).toBe(0);
    expectWellFormed(fc);
    // draw order: green, water, waterway, building, rail, road
    const order = fc.features.map((f) => f.properties.layer);
    expect([...new Set(order)]).toEqual(['green', 'water', 'waterway', 'building', 'rail', 'road']);
  });

  test('lines: the Chinese name wins, a 0.3 m wiggle and collinear points go, a missing node splits the line', async () => {
    const { fc } = await read();
    const roads = fc.features.filter((f) => f.properties.layer === 'road');
    const a = roads.find((f) => f.properties.name === '淮海中路')!;
    expect(a.properties.class).toBe('primary');
    expect(a.geometry).toEqual({ type: 'LineString', coordinates: [pos(roadA[0]), pos(roadA[3])] });
    const b = roads.find((f) => f.properties.class === 'footway-path')!;
    expect(b.geometry.type).toBe('MultiLineString');
    expect((b.geometry.coordinates as Position[][]).map((l) => l.length)).toEqual([2, 2]);
    expect(roads.find((f) => f.properties.class === 'other')).toBeTruthy(); // highway=elevator: unlisted value
    expect(roads.some((f) => f.properties.name === 'never built')).toBe(false);
    const river = fc.features.find((f) => f.properties.layer === 'waterway')!;
    expect(river.properties).toEqual({ layer: 'waterway', class: 'river', name: '黄浦江' });
    expect(fc.features.find((f) => f.properties.layer === 'rail')!.properties).toEqual({ layer: 'rail', class: 'tram' });
  });

  test('a curve keeps every original point within 1 m while dropping most of them', async () => {
    const { fc } = await read();
    const f = fc.features.find((x) => x.properties.layer === 'road' && x.properties.class === 'residential')!;
    const line = f.geometry.coordinates as Position[];
    expect(line[0]).toEqual(pos(curve[0]));
    expect(line[line.length - 1]).toEqual(pos(curve[curve.length - 1]));
    // a chord of a 60 m circle deviates by 60(1 − cos(θ/2)) ≤ 1 m for θ ≤ 20.9°: at least 9 pieces for 180°
    expect(line.length).toBeGreaterThanOrEqual(10);
    expect(line.length).toBeLessThan(40);
    for (const r of curve) expect(metresToLine(pos(r), line)).toBeLessThan(1 + 0.15);
  });

  test('areas: closed ways oriented counter-clockwise; unclosed and building=no not drawn; old-style multipolygon from its way', async () => {
    const { fc } = await read();
    const b = fc.features.filter((f) => f.properties.layer === 'building');
    expect(b).toHaveLength(1);
    expect(b[0].properties).toEqual({ layer: 'building' });
    const ring = (b[0].geometry.coordinates as Position[][])[0];
    expect(new Set(ring.map((p) => p.join()))).toEqual(new Set(buildingF.map((id) => pos(id).join())));
    expect(signedArea(ring)).toBeGreaterThan(0); // drawn clockwise, written counter-clockwise
    const green = fc.features.filter((f) => f.properties.layer === 'green');
    expect(green.map((f) => f.properties).sort((x, y) => String(x.class).localeCompare(String(y.class)))).toEqual([
      { layer: 'green', class: 'forest' },
      { layer: 'green', class: 'park' }, // green carries no names
    ]);
  });

  test('multipolygon: outer ring assembled from two ways, the hole kept and turned clockwise', async () => {
    const { fc } = await read();
    const lake = fc.features.find((f) => f.properties.layer === 'water')!;
    expect(lake.properties).toEqual({ layer: 'water', class: 'water', name: '湖' });
    expect(lake.geometry.type).toBe('Polygon');
    const [outer, hole] = lake.geometry.coordinates as Position[][];
    expect(new Set(outer.map((p) => p.join()))).toEqual(new Set(c.map((id) => pos(id).join())));
    expect(hole).toHaveLength(5);
    expect(signedArea(outer)).toBeGreaterThan(0);
    expect(signedArea(hole)).toBeLessThan(0);
    const hx = hole.map((p) => p[0]);
    expect(Math.min(...hx)).toBeCloseTo(toLon(1040), 5);
  });

  test('--clip: only features whose bbox meets the clip bbox are written; the rest are counted', async () => {
    const all = await read();
    const { report, fc } = await read([toLon(490), toLat(-10), toLon(520), toLat(20)]);
    expect(fc.features).toHaveLength(1);
    expect(fc.features[0].properties.layer).toBe('building');
    const total = Object.values(all.report.features).reduce((a, b) => a + b, 0);
    expect(report.clipped).toBe(total - 1);
  });
});

describe('douglasPeucker: hand-computed cases', () => {
  const KX = R * RAD * Math.cos(LAT0 * RAD);
  const KY = R * RAD;
  const pts = (xy: Array<[number, number]>) => Float64Array.from(xy.flatMap(([x, y]) => [LON0 + x / KX, LAT0 + y / KY]));
  test('a point 0.9 m off the chord goes, 1.1 m off stays; ends always stay', () => {
    const keep = new Uint8Array(8);
    expect(douglasPeucker(pts([[0, 0], [50, 0.9], [100, 0]]), 3, 1, keep)).toBe(2);
    expect(Array.from(keep.subarray(0, 3))).toEqual([1, 0, 1]);
    expect(douglasPeucker(pts([[0, 0], [50, 1.1], [100, 0]]), 3, 1, keep)).toBe(3);
    expect(douglasPeucker(pts([[0, 0], [100, 0]]), 2, 1, keep)).toBe(2);
  });
  test('the farthest point splits first: an L keeps its corner and loses 0.5 m noise on both legs', () => {
    const keep = new Uint8Array(16);
    const n = douglasPeucker(pts([[0, 0], [25, 0.5], [50, 0], [50, 25], [50.5, 37], [50, 50]]), 6, 1, keep);
    expect(Array.from(keep.subarray(0, 6))).toEqual([1, 0, 1, 0, 0, 1]);
    expect(n).toBe(3);
  });
  test('a closed ring (first = last) keeps its corners', () => {
    const keep = new Uint8Array(8);
    expect(douglasPeucker(pts([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]), 5, 1, keep)).toBe(5);
  });
});

// ---------------------------------------------------------------- region files

describe('region file: with and without the basemap', () => {
  let withMap: Region;
  let without: Region;
  beforeAll(async () => {
    withMap = await importRegion('test/fixtures/osm/krems-centre.osm.pbf');
    without = await importRegion('test/fixtures/osm/krems-centre.osm.pbf', { basemap: false });
  }, 120_000);

  test('import: the basemap and its report; basemap: false leaves both out', () => {
    expect(withMap.basemap?.geojsonGz.length).toBeGreaterThan(1000);
    expect(withMap.meta.report.basemap?.features.road).toBeGreaterThan(10);
    expect(without.basemap).toBeUndefined();
    expect(without.meta.report.basemap).toBeUndefined();
    // the rest of the import does not change
    expect(Array.from(without.graph.edgeFrom)).toEqual(Array.from(withMap.graph.edgeFrom));
    expect(without.facilities).toEqual(withMap.facilities);
  });

  test('round trip with the basemap: same bytes back, and the file is written and read atomically', () => {
    const f = join(tmp, 'with.quarter');
    writeRegion(f, withMap);
    const back = readRegion(f);
    expect(Buffer.from(back.basemap!.geojsonGz).equals(Buffer.from(withMap.basemap!.geojsonGz))).toBe(true);
    expect(back.meta).toEqual(withMap.meta);
    expect(Array.from(back.graph.geomCoords)).toEqual(Array.from(withMap.graph.geomCoords));
    expect(Array.from(back.residences.lon)).toEqual(Array.from(withMap.residences.lon));
  });

  test('round trip without the basemap: none back, and no blobs in the header', () => {
    const bytes = Buffer.concat(encodeRegion(without));
    const header = JSON.parse(bytes.toString('utf8', 16, 16 + bytes.readUInt32LE(12))) as Record<string, unknown>;
    expect(header.blobs).toBeUndefined();
    const back = decodeRegion(bytes);
    expect(back.basemap).toBeUndefined();
    expect(Array.from(back.graph.edgeTo)).toEqual(Array.from(without.graph.edgeTo));
  });

  test('a file written the old way (before basemaps, by the writer below) still loads', () => {
    const back = decodeRegion(writeOldRegionFile(without), 'old.quarter');
    expect(back.basemap).toBeUndefined();
    expect(back.meta).toEqual(without.meta);
    expect(back.facilities).toEqual(without.facilities);
    expect(Array.from(back.graph.nodeCoords)).toEqual(Array.from(without.graph.nodeCoords));
    expect(Array.from(back.facilitySnaps.offset)).toEqual(Array.from(without.facilitySnaps.offset));
  });

  test('a reader that knows nothing of blobs still finds every section of a file with a basemap', () => {
    const bytes = Buffer.concat(encodeRegion(withMap));
    const len = bytes.readUInt32LE(12);
    const header = JSON.parse(bytes.toString('utf8', 16, 16 + len)) as { sections: Array<{ name: string; offset: number; length: number }> };
    const dataStart = (16 + len + 7) & ~7;
    const s = header.sections.find((x) => x.name === 'graph.nodeCoords')!;
    const copy = Buffer.from(bytes.subarray(dataStart + s.offset, dataStart + s.offset + 8 * s.length));
    const coords = new Float64Array(copy.buffer, copy.byteOffset, s.length);
    expect(Array.from(coords)).toEqual(Array.from(withMap.graph.nodeCoords));
  });
});

/**
 * The region file as it was written before basemaps: magic, version, header JSON without
 * "blobs", 8-aligned typed-array sections, CRC-32. Written here from the layout description so
 * the test does not depend on today's encoder.
 */
function writeOldRegionFile(region: Region): Buffer {
  const graphKeys = ['nodeCoords', 'nodeOsmIds', 'edgeFrom', 'edgeTo', 'edgeLength', 'edgeWayId', 'edgeClass', 'edgeFlags', 'geomOffsets', 'geomCoords', 'arcOffsets', 'arcTarget', 'arcEdge', 'nodeComponent'] as const;
  const kindOf = (a: ArrayBufferView): string =>
    a instanceof Float64Array ? 'f64' : a instanceof Float32Array ? 'f32' : a instanceof Int32Array ? 'i32' : 'u8';
  const arrays: Array<[string, Float64Array | Float32Array | Int32Array | Uint8Array]> = [
    ...graphKeys.map((k): [string, Float64Array | Float32Array | Int32Array | Uint8Array] => [`graph.${k}`, region.graph[k]]),
    ...(['edge', 'offset', 'access'] as const).map((k): [string, Float32Array | Int32Array] => [`snap.${k}`, region.facilitySnaps[k]]),
    ...RESIDENCE_ARRAYS.map(([k]): [string, Float64Array | Float32Array | Int32Array | Uint8Array] => [`residences.${k}`, region.residences[k]]),
    ...(['edge', 'offset', 'access'] as const).map((k): [string, Float32Array | Int32Array] => [`rsnap.${k}`, region.residenceSnaps[k]]),
  ];
  let at = 0;
  const sections = arrays.map(([name, a]) => {
    const s = { name, kind: kindOf(a), offset: at, length: a.length };
    at = (at + a.byteLength + 7) & ~7;
    return s;
  });
  const header = Buffer.from(
    JSON.stringify({
      meta: region.meta,
      facilities: region.facilities,
      residenceCount: region.residences.count,
      residenceNames: region.residences.names,
      compounds: region.compounds,
      nodeCount: region.graph.nodeCount,
      edgeCount: region.graph.edgeCount,
      sections,
    }),
  );
  const dataStart = (16 + header.length + 7) & ~7;
  const body = Buffer.alloc(dataStart + at + 4);
  body.write('QUARTER\0', 0, 'latin1');
  body.writeUInt32LE(REGION_FORMAT_VERSION, 8);
  body.writeUInt32LE(header.length, 12);
  header.copy(body, 16);
  arrays.forEach(([, a], i) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(body, dataStart + sections[i].offset));
  body.writeUInt32LE(crc32(body.subarray(0, body.length - 4)) >>> 0, body.length - 4);
  return body;
}
