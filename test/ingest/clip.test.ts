/** Clip polygons: GeoJSON parsing and validation, point tests, and a clipped Krems import. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { EDGE_FLAG_CROSSES_CLIP } from '../../src/engine/graph.js';
import { clipFromGeoJson, loadClipPolygon, pointInClip, type ClipPolygon } from '../../src/ingest/clip.js';
import type { Tags } from '../../src/ingest/osm-types.js';
import { readOsm } from '../../src/ingest/read-osm.js';

const DIR = 'data/xuhui-boundaries';
const tmp = mkdtempSync(join(tmpdir(), 'quarter-clip-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const put = (name: string, doc: unknown) => {
  const f = join(tmp, name);
  writeFileSync(f, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return f;
};

/** km², outer rings minus holes, local equirectangular projection (fine at district scale). */
function areaKm2(c: ClipPolygon): number {
  let total = 0;
  for (const rings of c.polygons) {
    rings.forEach((r, i) => {
      const k = Math.cos((r[1] * Math.PI) / 180) * 111.32;
      let a = 0;
      for (let j = 0; j + 3 < r.length; j += 2) a += r[j] * k * (r[j + 3] * 110.574) - r[j + 2] * k * (r[j + 1] * 110.574);
      total += (i === 0 ? 1 : -1) * Math.abs(a / 2);
    });
  }
  return total;
}

describe('Xuhui boundaries', () => {
  const district = loadClipPolygon(`${DIR}/xuhui-district-R1278188.geojson`);
  const tianping = loadClipPolygon(`${DIR}/tianping-road-street.geojson`);
  const union = loadClipPolygon(`${DIR}/daxujiahui-four-streets-union.geojson`);

  test('parse: parts, vertices and areas as documented in SOURCE.md', () => {
    expect(district.polygons).toHaveLength(3);
    expect(tianping.polygons).toHaveLength(1);
    expect(union.polygons).toHaveLength(1);
    expect(areaKm2(district)).toBeCloseTo(55.2, 0);
    expect(areaKm2(tianping)).toBeCloseTo(2.7, 0);
    expect(areaKm2(union)).toBeCloseTo(11.2, 0);
    expect(district.bbox[0]).toBeCloseTo(121.3869, 3);
    expect(district.bbox[3]).toBeCloseTo(31.222, 3);
  });

  test.each([
    ['Xujiahui (徐家汇)', 121.4365, 31.1951, true, true],
    ['Longhua Temple (龙华寺)', 121.4469, 31.1758, true, false],
    ['Shanghai South Railway Station', 121.4297, 31.1545, true, false],
    ["People's Square (Huangpu)", 121.4737, 31.2304, false, false],
    ['Lujiazui (Pudong)', 121.5055, 31.2397, false, false],
  ])('%s: in district %s, in the four-street union %s', (_name, lon, lat, inDistrict, inUnion) => {
    expect(pointInClip(district, lon, lat)).toBe(inDistrict);
    expect(pointInClip(union, lon, lat)).toBe(inUnion);
  });

  test('Tianping Road street lies inside the union and the district', () => {
    const r = tianping.polygons[0][0];
    let inside = 0;
    let pts = 0;
    // points slightly pulled towards the centroid of the street's bbox
    const cx = (tianping.bbox[0] + tianping.bbox[2]) / 2;
    const cy = (tianping.bbox[1] + tianping.bbox[3]) / 2;
    for (let i = 0; i < r.length; i += 2) {
      const lon = r[i] + (cx - r[i]) * 0.05;
      const lat = r[i + 1] + (cy - r[i + 1]) * 0.05;
      pts++;
      if (pointInClip(union, lon, lat) && pointInClip(district, lon, lat)) inside++;
    }
    expect(inside / pts).toBeGreaterThan(0.9);
  });

  test('the exclaves count: a point in each small part is inside the district', () => {
    for (const part of district.polygons.slice(1)) {
      const r = part[0];
      let sx = 0;
      let sy = 0;
      const n = r.length / 2 - 1;
      for (let i = 0; i < 2 * n; i += 2) (sx += r[i]), (sy += r[i + 1]);
      expect(pointInClip(district, sx / n, sy / n)).toBe(true);
    }
  });
});

describe('GeoJSON shapes and validation', () => {
  const square = (x: number, y: number, d: number) => [
    [x, y],
    [x + d, y],
    [x + d, y + d],
    [x, y + d],
    [x, y],
  ];
  test('holes are outside', () => {
    const c = clipFromGeoJson({ type: 'Polygon', coordinates: [square(0, 0, 10), square(4, 4, 2)] });
    expect(pointInClip(c, 1, 1)).toBe(true);
    expect(pointInClip(c, 5, 5)).toBe(false);
    expect(pointInClip(c, 11, 5)).toBe(false);
  });

  test('FeatureCollection of Polygon and MultiPolygon features', () => {
    const c = clipFromGeoJson({
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [square(0, 0, 1)] } },
        { type: 'Feature', properties: {}, geometry: { type: 'MultiPolygon', coordinates: [[square(5, 5, 1)], [square(8, 8, 1)]] } },
      ],
    });
    expect(c.polygons).toHaveLength(3);
    expect([pointInClip(c, 0.5, 0.5), pointInClip(c, 5.5, 5.5), pointInClip(c, 8.5, 8.5), pointInClip(c, 3, 3)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  test('an unclosed ring is closed', () => {
    const c = clipFromGeoJson({ type: 'Polygon', coordinates: [square(0, 0, 1).slice(0, 4)] });
    expect(c.polygons[0][0]).toHaveLength(10);
  });

  test.each([
    [
      'feature 2 has geometry type LineString',
      {
        type: 'FeatureCollection',
        features: [
          { type: 'Feature', geometry: { type: 'Polygon', coordinates: [square(0, 0, 1)] } },
          { type: 'Feature', geometry: { type: 'LineString', coordinates: [[0, 0], [1, 1]] } },
        ],
      },
      ': feature 2 has geometry type LineString; need Polygon or MultiPolygon',
    ],
    ['empty collection', { type: 'FeatureCollection', features: [] }, ': FeatureCollection has no features'],
    ['null geometry', { type: 'Feature', geometry: null }, ': feature has no geometry'],
    ['projected', { type: 'Polygon', coordinates: [square(500000, 3400000, 1000)] }, 'not WGS-84 lon/lat'],
    ['short ring', { type: 'Polygon', coordinates: [[[0, 0], [1, 1], [0, 0]]] }, 'a ring needs at least 4'],
    ['bad position', { type: 'Polygon', coordinates: [[[0, 0], ['a', 1], [1, 1], [0, 0]]] }, 'position 2 is not [lon, lat]'],
    ['not GeoJSON', { hello: 1 }, 'GeoJSON type undefined'],
  ])('%s', (_name, doc, msg) => {
    const f = put('bad.geojson', doc);
    let message = '';
    try {
      loadClipPolygon(f);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.startsWith(`${f}: `)).toBe(true);
    expect(message).toContain(msg);
  });

  test('invalid JSON and missing files', () => {
    const f = put('broken.geojson', '{"type": "Polygon",');
    expect(() => loadClipPolygon(f)).toThrow(new RegExp(`^${f}: not valid JSON`));
    expect(() => loadClipPolygon(join(tmp, 'missing.geojson'))).toThrow(/cannot read/);
  });
});

describe('clipped Krems import', async () => {
  const keepFeature = (t: Tags) => t.amenity !== undefined || t.shop !== undefined || t.healthcare !== undefined;
  // Krems old town and Stein, with a hole (the Stadtpark area) to exercise holes too.
  const file = put('krems-centre.geojson', {
    type: 'Feature',
    properties: { name: 'Krems centre' },
    geometry: {
      type: 'Polygon',
      coordinates: [
        [
          [15.590, 48.402],
          [15.625, 48.402],
          [15.625, 48.420],
          [15.590, 48.420],
          [15.590, 48.402],
        ],
        [
          [15.6105, 48.4075],
          [15.6125, 48.4075],
          [15.6125, 48.4090],
          [15.6105, 48.4090],
          [15.6105, 48.4075],
        ],
      ],
    },
  });
  const clip = loadClipPolygon(file);
  const full = await readOsm('data/krems/krems.osm.pbf', { keepFeature });
  const cut = await readOsm('data/krems/krems.osm.pbf', { keepFeature, clip });
  const net = cut.network;

  test('fewer ways and features, every drop counted', () => {
    const keptWays = new Set(net.edgeWayId).size;
    expect(cut.stats.clippedWays).toBeGreaterThan(100);
    expect(keptWays + cut.stats.clippedWays).toBe(full.stats.walkableWays);
    expect(cut.stats.clippedFeatures).toBeGreaterThan(10);
    expect(cut.features.length + cut.stats.clippedFeatures).toBe(full.features.length);
    expect(cut.features.length).toBeGreaterThan(50);
  });

  test('features kept by centroid', () => {
    for (const f of cut.features) expect(pointInClip(clip, f.lon, f.lat)).toBe(true);
  });

  test('ways crossing the boundary stay whole, their outside edges flagged', () => {
    const byWayFull = new Map<number, number>();
    for (let e = 0; e < full.network.edgeWayId.length; e++) {
      const w = full.network.edgeWayId[e];
      byWayFull.set(w, (byWayFull.get(w) ?? 0) + full.network.edgeLength[e]);
    }
    const byWayCut = new Map<number, number>();
    let flagged = 0;
    for (let e = 0; e < net.edgeWayId.length; e++) {
      const w = net.edgeWayId[e];
      byWayCut.set(w, (byWayCut.get(w) ?? 0) + net.edgeLength[e]);
      let out = 0;
      for (let p = net.geomOffsets[e]; p < net.geomOffsets[e + 1]; p++) {
        if (!pointInClip(clip, net.geomCoords[2 * p], net.geomCoords[2 * p + 1])) out++;
      }
      expect(net.edgeFlags[e] & EDGE_FLAG_CROSSES_CLIP, `edge ${e}`).toBe(out > 0 ? EDGE_FLAG_CROSSES_CLIP : 0);
      if (out) flagged++;
    }
    expect(flagged).toBeGreaterThan(10);
    // each kept way is as long as without the clip (junction splits may differ, length does not)
    for (const [w, len] of byWayCut) expect(len, `way ${w}`).toBeCloseTo(byWayFull.get(w)!, 1);
    expect(byWayCut.size).toBeGreaterThan(100);
    // every kept way has a node inside
    const inside = new Set<number>();
    for (let e = 0; e < net.edgeWayId.length; e++) {
      for (let p = net.geomOffsets[e]; p < net.geomOffsets[e + 1]; p++) {
        if (pointInClip(clip, net.geomCoords[2 * p], net.geomCoords[2 * p + 1])) inside.add(net.edgeWayId[e]);
      }
    }
    expect(inside.size).toBe(byWayCut.size);
  });
});
