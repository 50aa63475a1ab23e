/**
 * The basemap as vector tiles: GET /api/basemap/tiles.json and /api/basemap/tiles/{z}/{x}/{y}.pbf.
 * Reference: a Mapbox Vector Tile decoder written here on the bare protobuf reader (not the
 * encoder the server uses), tile numbers and tile-to-degree conversion from the slippy-map
 * formulas written here, and the hand-made region's own GeoJSON and walk graph.
 */
import type { FastifyInstance } from 'fastify';
import { PbfReader } from 'pbf';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/server/app.js';
import { toLat, toLon } from '../engine/fixtures.js';
import { handRegion, type HandRegion } from './hand-region.js';

type Position = [number, number];

interface DecodedFeature {
  type: number;
  properties: Record<string, string | number | boolean>;
  /** rings or lines in tile units. */
  geometry: Position[][];
}
interface DecodedLayer {
  name: string;
  extent: number;
  features: DecodedFeature[];
}

/** MVT 2.1 decoder (spec: github.com/mapbox/vector-tile-spec), independent of the server's encoder. */
function decodeTile(bytes: Uint8Array): DecodedLayer[] {
  const layers: DecodedLayer[] = [];
  new PbfReader(bytes).readFields((tag: number, _acc: unknown, pbf: PbfReader) => {
    if (tag !== 3) return;
    const end = pbf.readVarint() + pbf.pos;
    const keys: string[] = [];
    const values: Array<string | number | boolean> = [];
    const raw: Array<{ type: number; tags: number[]; geometry: number[] }> = [];
    let name = '';
    let extent = 4096;
    while (pbf.pos < end) {
      const field = pbf.readVarint();
      const t = field >> 3;
      if (t === 1) name = pbf.readString();
      else if (t === 3) keys.push(pbf.readString());
      else if (t === 5) extent = pbf.readVarint();
      else if (t === 4) {
        const vEnd = pbf.readVarint() + pbf.pos;
        let v: string | number | boolean = '';
        while (pbf.pos < vEnd) {
          const vt = pbf.readVarint() >> 3;
          if (vt === 1) v = pbf.readString();
          else if (vt === 2) v = pbf.readFloat();
          else if (vt === 3) v = pbf.readDouble();
          else if (vt === 4) v = pbf.readVarint(true);
          else if (vt === 5) v = pbf.readVarint();
          else if (vt === 6) v = pbf.readSVarint();
          else if (vt === 7) v = pbf.readBoolean();
        }
        values.push(v);
      } else if (t === 2) {
        const fEnd = pbf.readVarint() + pbf.pos;
        const f = { type: 0, tags: [] as number[], geometry: [] as number[] };
        while (pbf.pos < fEnd) {
          const ft = pbf.readVarint() >> 3;
          if (ft === 1) pbf.readVarint();
          else if (ft === 2) pbf.readPackedVarint(f.tags);
          else if (ft === 3) f.type = pbf.readVarint();
          else if (ft === 4) pbf.readPackedVarint(f.geometry);
        }
        raw.push(f);
      } else if (t === 15) pbf.readVarint();
      else pbf.skip(field);
    }
    const features = raw.map((f) => {
      const properties: DecodedFeature['properties'] = {};
      for (let i = 0; i < f.tags.length; i += 2) properties[keys[f.tags[i]]] = values[f.tags[i + 1]];
      // geometry commands: MoveTo 1, LineTo 2 (zig-zag deltas), ClosePath 7
      const parts: Position[][] = [];
      let x = 0;
      let y = 0;
      for (let i = 0; i < f.geometry.length; ) {
        const cmd = f.geometry[i] & 7;
        const count = f.geometry[i++] >> 3;
        if (cmd === 7) {
          parts[parts.length - 1].push([...parts[parts.length - 1][0]] as Position);
          continue;
        }
        for (let k = 0; k < count; k++) {
          const zz = (v: number) => (v >>> 1) ^ -(v & 1);
          x += zz(f.geometry[i++]);
          y += zz(f.geometry[i++]);
          if (cmd === 1) parts.push([]);
          parts[parts.length - 1].push([x, y]);
        }
      }
      return { type: f.type, properties, geometry: parts };
    });
    layers.push({ name, extent, features });
  }, null);
  return layers;
}

/** Slippy-map tile numbers of a point, and tile units back to degrees. */
const tileOf = (lon: number, lat: number, z: number): Position => {
  const n = 2 ** z;
  const r = (lat * Math.PI) / 180;
  return [Math.floor(((lon + 180) / 360) * n), Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)];
};
const toDegrees = (z: number, tx: number, ty: number, extent: number, [px, py]: Position): Position => {
  const n = 2 ** z;
  const lon = ((tx + px / extent) / n) * 360 - 180;
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * (ty + py / extent)) / n))) * 180) / Math.PI;
  return [lon, lat];
};
/** Distance from p to a polyline, in the units of its coordinates (here: degrees, scaled). */
function distanceToLine(p: Position, line: Position[], kx: number): number {
  let best = Infinity;
  for (let i = 0; i + 1 < line.length; i++) {
    const [ax, ay] = [line[i][0] * kx, line[i][1]];
    const [bx, by] = [line[i + 1][0] * kx, line[i + 1][1]];
    const [x, y] = [p[0] * kx, p[1]];
    const len2 = (bx - ax) ** 2 + (by - ay) ** 2;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / len2));
    best = Math.min(best, Math.hypot(x - (ax + t * (bx - ax)), y - (ay + t * (by - ay))));
  }
  return best;
}

async function getTile(app: FastifyInstance, z: number, x: number, y: number, headers: Record<string, string> = {}) {
  return app.inject({ method: 'GET', url: `/api/basemap/tiles/${z}/${x}/${y}.pbf`, headers });
}

describe('basemap vector tiles (hand-made region with an OSM basemap)', () => {
  let hand: HandRegion;
  let app: FastifyInstance;
  beforeAll(async () => {
    hand = handRegion({ basemap: true });
    app = await buildServer({ region: hand.region, webRoot: '/nonexistent' });
  });
  afterAll(async () => app?.close());

  test('tiles.json: a TileJSON naming the tile URL (with the basemap version), zoom range and the region bounds', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/basemap/tiles.json' });
    expect(res.statusCode).toBe(200);
    const tj = res.json() as { tiles: string[]; minzoom: number; maxzoom: number; bounds: number[]; source: string; attribution: string };
    expect(tj.tiles).toHaveLength(1);
    expect(tj.tiles[0]).toMatch(/^\/api\/basemap\/tiles\/\{z\}\/\{x\}\/\{y\}\.pbf\?v=[A-Za-z0-9_-]{8,}$/);
    expect(tj.minzoom).toBe(0);
    expect(tj.maxzoom).toBe(14);
    expect(tj.bounds).toEqual(hand.region.meta.bbox);
    expect(tj.source).toBe('osm');
    expect(tj.attribution).toBe('© OpenStreetMap contributors');
  });

  test('a road comes back in its tile: same name and class, every vertex on the drawn line and every drawn vertex on the road', async () => {
    // 淮海西路: (0,100) → (400,100) metres; the lowest zoom ≤ 14 whose one tile holds both ends
    const line: Position[] = [0, 100, 200, 300, 400].map((x) => [toLon(x), toLat(100)]);
    let z = 14;
    while (tileOf(...line[0], z).join() !== tileOf(...line[line.length - 1], z).join()) z--;
    const [tx, ty] = tileOf(...line[0], z);
    const res = await getTile(app, z, tx, ty);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/vnd\.mapbox-vector-tile/);
    const layers = decodeTile(res.rawPayload);
    const road = layers.find((l) => l.name === 'road');
    expect(road).toBeDefined();
    const ways = road!.features.filter((f) => f.properties.name === '淮海西路');
    expect(ways).toHaveLength(1);
    expect(ways[0].type).toBe(2); // LINESTRING
    expect(ways[0].properties.class).toBe('primary');
    expect(ways[0].properties.layer).toBe('road');
    const drawn = ways[0].geometry[0].map((p) => toDegrees(z, tx, ty, road!.extent, p));
    // one tile unit at this zoom, in degrees of latitude (longitude scaled by cos φ)
    const kx = Math.cos((48 * Math.PI) / 180);
    const unit = 360 / 2 ** z / road!.extent;
    for (const p of drawn) expect(distanceToLine(p, line, kx)).toBeLessThan(4 * unit);
    for (const p of line) expect(distanceToLine(p, drawn, kx)).toBeLessThan(4 * unit);
    // every layer in the tile is one the basemap has, and the building is in its own layer
    expect(layers.map((l) => l.name).sort()).toEqual(['building', 'road'].filter((n) => layers.some((l) => l.name === n)).sort());
  });

  test('every named road of the basemap is in the tiles that cover it (z14, union over the region)', async () => {
    const names = new Set<string>();
    const [w, s, e, n] = hand.region.meta.bbox;
    const [x0, y0] = tileOf(w, n, 14);
    const [x1, y1] = tileOf(e, s, 14);
    expect((x1 - x0 + 1) * (y1 - y0 + 1)).toBeLessThan(50);
    for (let x = x0; x <= x1; x++)
      for (let y = y0; y <= y1; y++) {
        const res = await getTile(app, 14, x, y);
        expect(res.statusCode).toBe(200);
        for (const l of decodeTile(res.rawPayload)) if (l.name === 'road') for (const f of l.features) names.add(String(f.properties.name));
      }
    expect([...names].sort()).toEqual(['淮海中路', '淮海西路'].sort());
  });

  test('the building polygon: its own layer, a closed ring around the hand-written corners', async () => {
    const corner: Position = [16.00005, 48.00005];
    const [tx, ty] = tileOf(...corner, 14);
    const layers = decodeTile((await getTile(app, 14, tx, ty)).rawPayload);
    const building = layers.find((l) => l.name === 'building');
    expect(building?.features).toHaveLength(1);
    const f = building!.features[0];
    expect(f.type).toBe(3); // POLYGON
    const ring = f.geometry[0].map((p) => toDegrees(14, tx, ty, building!.extent, p));
    expect(ring[0]).toEqual(ring[ring.length - 1]);
    const unit = 360 / 2 ** 14 / building!.extent;
    for (const [lon, lat] of ring) {
      expect(lon).toBeGreaterThan(16 - 2 * unit);
      expect(lon).toBeLessThan(16.0001 + 2 * unit);
      expect(lat).toBeGreaterThan(48 - 2 * unit);
      expect(lat).toBeLessThan(48.0001 + 2 * unit);
    }
  });

  test('a tile where the region has nothing is an empty 200, not an error', async () => {
    const res = await getTile(app, 14, 0, 0);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.length).toBe(0);
    expect(decodeTile(res.rawPayload)).toEqual([]);
  });

  test('gzip when accepted (the same tile inflated); ETag answers 304; long caching only with the current version', async () => {
    const [tx, ty] = tileOf(toLon(100), toLat(0), 14);
    const plain = await getTile(app, 14, tx, ty, { 'accept-encoding': 'identity' });
    const gz = await getTile(app, 14, tx, ty, { 'accept-encoding': 'gzip, deflate, br' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(Buffer.compare(gunzipSync(gz.rawPayload), plain.rawPayload)).toBe(0);
    expect(plain.rawPayload.length).toBeGreaterThan(0);
    expect(plain.headers['cache-control']).toBe('no-cache');
    const again = await getTile(app, 14, tx, ty, { 'if-none-match': String(plain.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);

    const template = ((await app.inject({ method: 'GET', url: '/api/basemap/tiles.json' })).json() as { tiles: string[] }).tiles[0];
    const current = await app.inject({ method: 'GET', url: template.replace('{z}', '14').replace('{x}', String(tx)).replace('{y}', String(ty)) });
    expect(current.headers['cache-control']).toMatch(/max-age=31536000/);
    const stale = await app.inject({ method: 'GET', url: `/api/basemap/tiles/14/${tx}/${ty}.pbf?v=older` });
    expect(stale.headers['cache-control']).toBe('no-cache');
    expect(Buffer.compare(stale.rawPayload, current.rawPayload)).toBe(0);
  });

  test.each([
    ['15/0/0.pbf', 'z'],
    ['-1/0/0.pbf', 'z'],
    ['99999999/0/0.pbf', 'z'],
    ['1.5/0/0.pbf', 'z'],
    ['abc/0/0.pbf', 'z'],
    ['%20/0/0.pbf', 'z'],
    ['3/8/0.pbf', 'x'],
    ['3/0/8.pbf', 'y'],
    ['3/1e1/0.pbf', 'x'],
    ['3/0x1/0.pbf', 'x'],
    ['14/16384/0.pbf', 'x'],
    ['3/0/0', 'y'],
    ['3/0/0.png', 'y'],
    ['3/0/.pbf', 'y'],
    ['3/0/0.pbf.pbf', 'y'],
    [`3/0/${'9'.repeat(5000)}.pbf`, 'y'],
    ['3/0/0.pbf?v=%3Cscript%3E', 'v'],
    [`3/0/0.pbf?v=${'a'.repeat(100)}`, 'v'],
  ])('%s → 400 naming %s', async (path, field) => {
    const res = await app.inject({ method: 'GET', url: `/api/basemap/tiles/${path}` });
    expect([400, 414]).toContain(res.statusCode);
    if (res.statusCode === 400) {
      expect(String(res.headers['content-type'])).toMatch(/application\/json/);
      const body = res.json() as { error: string; message: string; field?: string };
      expect(body.field).toBe(field);
      expect(body.message.length).toBeGreaterThan(5);
    }
  });
});

describe('basemap vector tiles without a basemap: the walk graph as roads', () => {
  let hand: HandRegion;
  let app: FastifyInstance;
  beforeAll(async () => {
    hand = handRegion();
    app = await buildServer({ region: hand.region, webRoot: '/nonexistent' });
  });
  afterAll(async () => app?.close());

  test('tiles.json says walk-graph; the tiles hold one road line per walk-graph edge', async () => {
    const tj = (await app.inject({ method: 'GET', url: '/api/basemap/tiles.json' })).json() as { source: string };
    expect(tj.source).toBe('walk-graph');
    // the lowest zoom whose one tile holds the whole region: every edge is in it, none split
    const [w, s, e, n] = hand.region.meta.bbox;
    let z = 14;
    while (tileOf(w, n, z).join() !== tileOf(e, s, z).join()) z--;
    const [tx, ty] = tileOf(w, n, z);
    const layers = decodeTile((await getTile(app, z, tx, ty)).rawPayload);
    expect(layers.map((l) => l.name)).toEqual(['road']);
    expect(layers[0].features).toHaveLength(hand.graph.edgeCount);
    for (const f of layers[0].features) expect(f.type).toBe(2);
  });
});
