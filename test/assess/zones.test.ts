/** User zone files, centroid assignment and H3 cells (src/assess/zones.ts). */
import { cellToParent, latLngToCell } from 'h3-js';
import { describe, expect, test } from 'vitest';
import { clipFromGeoJson } from '../../src/ingest/clip.js';
import { weightedMedian } from '../../src/assess/zone-stats.js';
import { assignUserZones, h3Zones, selfIntersection, userZonesFromGeoJson, ZoneFileError } from '../../src/assess/zones.js';

const square = (x0: number, y0: number, x1: number, y1: number) => [
  [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
    [x0, y0],
  ],
];
const feature = (properties: Record<string, unknown>, coordinates: unknown, type = 'Polygon') => ({ type: 'Feature', properties, geometry: { type, coordinates } });
const fc = (...features: unknown[]) => ({ type: 'FeatureCollection', features });

function thrown(fn: () => unknown): ZoneFileError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ZoneFileError) return e;
    throw e;
  }
  throw new Error('no error thrown');
}

describe('user zone files', () => {
  test('names from 名称 / name / NAME, then 街道 / 居委, else "zone N"; ids by feature number', () => {
    const z = userZonesFromGeoJson(
      fc(
        feature({ 名称: '天平路街道', name: 'Tianping' }, square(0, 0, 1, 1)),
        feature({ name: 'Xujiahui' }, square(1, 0, 2, 1)),
        feature({ NAME: 'Hunan Rd' }, square(2, 0, 3, 1)),
        feature({ 居委: '建襄' }, square(3, 0, 4, 1)),
        feature({}, square(4, 0, 5, 1)),
      ),
      'streets.geojson',
    );
    expect(z.zones.map((x) => [x.id, x.name, x.feature])).toEqual([
      ['zone-1', '天平路街道', 1],
      ['zone-2', 'Xujiahui', 2],
      ['zone-3', 'Hunan Rd', 3],
      ['zone-4', '建襄', 4],
      ['zone-5', 'zone 5', 5],
    ]);
    expect(z.hasPopulation).toBe(false);
    expect(z.warnings).toEqual([]);
    expect(z.zones[0].geometry).toEqual({ type: 'Polygon', coordinates: square(0, 0, 1, 1) });
  });

  test('population totals are noticed; MultiPolygon kept; an unclosed ring is closed', () => {
    const open = [[[0, 0], [1, 0], [1, 1], [0, 1]]];
    const z = userZonesFromGeoJson(
      fc(feature({ name: 'a', 常住人口: 1200 }, [square(0, 0, 1, 1), square(5, 5, 6, 6)], 'MultiPolygon'), feature({ name: 'b' }, open)),
    );
    expect(z.hasPopulation).toBe(true);
    expect(z.zones[0].geometry?.type).toBe('MultiPolygon');
    expect(z.zones[1].geometry).toEqual({ type: 'Polygon', coordinates: square(0, 0, 1, 1) });
  });

  test('errors name the source and the 1-based feature', () => {
    const e1 = thrown(() => userZonesFromGeoJson(fc(feature({ name: 'ok' }, square(0, 0, 1, 1)), feature({ name: 'line' }, [[0, 0], [1, 1]], 'LineString')), 'z.geojson'));
    expect(e1.feature).toBe(2);
    expect(e1.message).toBe('z.geojson: feature 2 (line) has geometry type LineString; need Polygon or MultiPolygon');
    const e2 = thrown(() => userZonesFromGeoJson(fc(feature({}, [[[0, 0], [1, 0], [200, 1], [0, 0]]])), 'z.geojson'));
    expect(e2.feature).toBe(1);
    expect(e2.message).toMatch(/^z\.geojson: feature 1 \(zone 1\): .*position 3 is \[200, 1\]: not WGS-84/);
    const e3 = thrown(() => userZonesFromGeoJson(fc(feature({}, [[[0, 0], [1, 0], [0, 0]]])), 'z.geojson'));
    expect(e3.message).toMatch(/feature 1 .*a ring needs at least 4/);
    const e4 = thrown(() => userZonesFromGeoJson({ type: 'FeatureCollection', features: [] }, 'z.geojson'));
    expect(e4.feature).toBeNull();
    const e5 = thrown(() => userZonesFromGeoJson(fc({ type: 'Feature', properties: {}, geometry: null }), 'z.geojson'));
    expect(e5.message).toBe('z.geojson: feature 1 (zone 1) has no geometry');
  });

  test('a self-intersecting ring is a warning naming the feature, and the zone is still used', () => {
    const bow = [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]];
    const z = userZonesFromGeoJson(fc(feature({ name: 'fine' }, square(0, 0, 1, 1)), feature({ 名称: '蝴蝶' }, bow)), 'z.geojson');
    expect(z.zones).toHaveLength(2);
    expect(z.warnings).toHaveLength(1);
    expect(z.warnings[0]).toMatch(/^z\.geojson: feature 2 \(蝴蝶\): outer ring self-intersects \(edges 1 and 3 cross\)/);
  });

  test('selfIntersection: simple rings, touching and crossing edges, holes', () => {
    const clip = (coords: unknown) => clipFromGeoJson({ type: 'Polygon', coordinates: coords });
    expect(selfIntersection(clip(square(0, 0, 1, 1)))).toBeNull();
    // a concave but simple ring
    expect(selfIntersection(clip([[[0, 0], [4, 0], [4, 4], [2, 1], [0, 4], [0, 0]]]))).toBeNull();
    // a ring that touches itself at a vertex
    expect(selfIntersection(clip([[[0, 0], [4, 0], [2, 2], [4, 4], [0, 4], [2, 2], [0, 0]]]))).not.toBeNull();
    // a hole crossing itself
    const hole = [[1, 1], [3, 3], [3, 1], [1, 3], [1, 1]];
    expect(selfIntersection(clip([square(0, 0, 4, 4)[0], hole]))).toEqual({ ring: 'hole 1', a: 1, b: 3 });
  });
});

describe('assignment', () => {
  test('by centroid, holes honoured; outside and overlaps counted', () => {
    const z = userZonesFromGeoJson(
      fc(
        feature({ name: 'donut' }, [square(0, 0, 10, 10)[0], square(4, 4, 6, 6)[0]]),
        feature({ name: 'east' }, square(8, 0, 20, 10)),
      ),
    );
    const lon = Float64Array.from([1, 5, 9, 15, 30]);
    const lat = Float64Array.from([1, 5, 5, 5, 30]);
    const a = assignUserZones(z.zones, lon, lat);
    expect(a.zones.map((x) => Array.from(x.members))).toEqual([
      [0, 2],
      [2, 3],
    ]);
    expect(a.outside).toBe(2); // in the hole, and far away
    expect(a.inSeveral).toBe(1);
    expect(a.zones[0].kind).toBe('zone');
  });
});

describe('H3 cells', () => {
  // points around Krems, a few metres to a few kilometres apart
  const lon = Float64Array.from({ length: 400 }, (_, i) => 15.58 + ((i * 37) % 97) * 0.0006);
  const lat = Float64Array.from({ length: 400 }, (_, i) => 48.4 + ((i * 53) % 89) * 0.0004);

  test('membership equals latLngToCell at each resolution (cells do not nest)', () => {
    const zones = h3Zones([9, 10], lon, lat);
    for (const res of [9, 10]) {
      const cells = zones.filter((z) => z.resolution === res);
      expect(cells.every((z) => z.kind === 'h3' && z.name === z.id)).toBe(true);
      expect(cells.map((z) => z.id)).toEqual([...cells.map((z) => z.id)].sort());
      let total = 0;
      for (const z of cells) {
        for (const r of z.members) expect(latLngToCell(lat[r], lon[r], res)).toBe(z.id);
        total += z.members.length;
        const ring = z.geometry?.coordinates[0] as number[][];
        expect(ring.length).toBeGreaterThanOrEqual(7); // hexagon (or pentagon) closed
        expect(ring[0]).toEqual(ring[ring.length - 1]);
        // GeoJSON order: [lon, lat] near the points
        expect(Math.abs(ring[0][0] - 15.6)).toBeLessThan(0.1);
        expect(Math.abs(ring[0][1] - 48.41)).toBeLessThan(0.1);
      }
      expect(total).toBe(400);
    }
    // res 9 first (as asked)
    expect(zones[0].resolution).toBe(9);
    // H3 cells do not nest: somewhere here a point's res-9 cell is not its res-10 cell's parent, and
    // the assignment above still followed each resolution's own cell
    let straddling = 0;
    for (let r = 0; r < 400; r++) if (cellToParent(latLngToCell(lat[r], lon[r], 10), 9) !== latLngToCell(lat[r], lon[r], 9)) straddling++;
    expect(straddling).toBeGreaterThan(0);
  });

  test('no resolutions or no residences: no cells; a bad resolution is refused', () => {
    expect(h3Zones([], lon, lat)).toEqual([]);
    expect(h3Zones([9], new Float64Array(0), new Float64Array(0))).toEqual([]);
    expect(() => h3Zones([16], lon, lat)).toThrow(/resolution 16/);
  });
});

describe('weightedMedian (gap minutes)', () => {
  test('equals the sorted cumulative-weight definition, with ties, zeros and Infinity', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rnd() * 40);
      const v = Float64Array.from({ length: n }, () => (rnd() < 0.15 ? Infinity : Math.floor(rnd() * 12)));
      const w = Float64Array.from({ length: n }, () => (rnd() < 0.2 ? 0 : rnd() * 100));
      const unweighted = w.every((x) => x === 0);
      const pairs = Array.from(v, (x, i) => [x, unweighted ? 1 : w[i]] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const half = pairs.reduce((s, p) => s + p[1], 0) / 2;
      let acc = 0;
      let expected = NaN;
      for (const [x, wt] of pairs) {
        acc += wt;
        if (acc >= half) {
          expected = x;
          break;
        }
      }
      expect(weightedMedian(v, w, n, unweighted)).toBe(expected);
    }
  });
});
