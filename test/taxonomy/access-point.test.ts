import { describe, expect, it } from 'vitest';
import type { OsmFeature } from '../../src/ingest/osm-types.js';
import {
  chooseAccessPoint,
  projectOntoSegment,
  type NearestOnNetwork,
  type NetworkHit,
} from '../../src/taxonomy/access-point.js';

// Hand-made geometry around Krems. A "square" is 0.001° of latitude high (≈111 m) and as wide in metres.
const LAT0 = 48.41;
const K = Math.cos((LAT0 * Math.PI) / 180);
const M_PER_DEG = 111_320;
const W = 0.001 / K; // 0.001° lat in degrees of longitude at LAT0
const X0 = 15.6;

/** Closed square ring, counter-clockwise from the south-west corner. */
function squareRing(x0 = X0, y0 = LAT0, side = 0.001): Float64Array {
  const w = side / K;
  return Float64Array.from([x0, y0, x0 + w, y0, x0 + w, y0 + side, x0, y0 + side, x0, y0]);
}

function area(rings: Float64Array[], entrances: number[] = []): OsmFeature {
  const r = rings[0];
  return {
    type: 'way',
    id: 1,
    tags: { amenity: 'pharmacy' },
    lon: (r[0] + r[2]) / 2,
    lat: (r[1] + r[5]) / 2,
    rings,
    entrances: Float64Array.from(entrances),
  };
}

/**
 * nearestOnNetwork over straight street segments [lon1, lat1, lon2, lat2], with a snap limit in
 * metres; counts its calls.
 */
function network(streets: number[][], limit = 500): NearestOnNetwork & { calls: number } {
  const fn = ((lon: number, lat: number): NetworkHit | null => {
    fn.calls++;
    let best: NetworkHit | null = null;
    for (const [ax, ay, bx, by] of streets) {
      const p = projectOntoSegment(lon, lat, ax, ay, bx, by);
      const d = Math.hypot((p.lon - lon) * K, p.lat - lat) * M_PER_DEG;
      if (d <= limit && (best === null || d < best.distance)) best = { lon: p.lon, lat: p.lat, distance: d };
    }
    return best;
  }) as NearestOnNetwork & { calls: number };
  fn.calls = 0;
  return fn;
}

/** metres between two lon/lat points (local approximation). */
const metres = (a: { lon: number; lat: number }, b: { lon: number; lat: number }) =>
  Math.hypot((a.lon - b.lon) * K, a.lat - b.lat) * M_PER_DEG;

// A street 20 m south of the square, running east–west far beyond it.
const southStreet = [X0 - 0.01, LAT0 - 20 / M_PER_DEG, X0 + 0.01, LAT0 - 20 / M_PER_DEG];

describe('chooseAccessPoint', () => {
  it('a node is its own access point, without asking the network', () => {
    const net = network([southStreet]);
    const f: OsmFeature = { type: 'node', id: 7, tags: { shop: 'convenience' }, lon: 15.61, lat: 48.42, rings: [], entrances: new Float64Array() };
    expect(chooseAccessPoint(f, net)).toEqual({ lon: 15.61, lat: 48.42, kind: 'node' });
    expect(net.calls).toBe(0);
  });

  it('an area with one entrance uses it, wherever the network is', () => {
    const e = [X0 + W / 2, LAT0 + 0.001]; // middle of the north side, away from the street
    expect(chooseAccessPoint(area([squareRing()], e), network([southStreet]))).toEqual({ lon: e[0], lat: e[1], kind: 'entrance' });
  });

  it('an area with several entrances uses the one nearest the network', () => {
    const north = [X0 + W / 2, LAT0 + 0.001];
    const south = [X0 + W / 4, LAT0];
    const east = [X0 + W, LAT0 + 0.0005];
    const got = chooseAccessPoint(area([squareRing()], [...north, ...south, ...east]), network([southStreet]));
    expect(got).toEqual({ lon: south[0], lat: south[1], kind: 'entrance' });
  });

  it('several entrances, none within reach: the first one (still the mapped way in)', () => {
    const a = [X0, LAT0 + 0.001];
    const b = [X0 + W, LAT0];
    expect(chooseAccessPoint(area([squareRing()], [...a, ...b]), network([]))).toEqual({ lon: a[0], lat: a[1], kind: 'entrance' });
  });

  it('ignores non-finite and dangling entrance coordinates', () => {
    const got = chooseAccessPoint(area([squareRing()], [NaN, LAT0, X0 + W, LAT0 + 0.001, X0]), network([southStreet]));
    expect(got).toEqual({ lon: X0 + W, lat: LAT0 + 0.001, kind: 'entrance' });
  });

  it('no entrance, street along the south side: a point on the south side', () => {
    const got = chooseAccessPoint(area([squareRing()]), network([southStreet]));
    expect(got.kind).toBe('nearest-to-network');
    expect(got.lat).toBeCloseTo(LAT0, 12);
    expect(got.lon).toBeGreaterThanOrEqual(X0);
    expect(got.lon).toBeLessThanOrEqual(X0 + W);
  });

  it('a lane ending at the east side, a third of the way up: that point, found by projection', () => {
    // the lane comes from the east and stops 5 m before the wall, a third of the way up the side
    // (neither a vertex nor a segment midpoint)
    const midLat = LAT0 + 0.001 / 3;
    const lane = [X0 + W + 5 / M_PER_DEG / K, midLat, X0 + W + 200 / M_PER_DEG / K, midLat];
    const got = chooseAccessPoint(area([squareRing()]), network([lane], 100));
    expect(got.kind).toBe('nearest-to-network');
    expect(metres(got, { lon: X0 + W, lat: midLat })).toBeLessThan(0.01);
  });

  it('a street passing a corner diagonally: that corner', () => {
    // line x + y = const passing 10 m outside the north-east corner
    const cx = X0 + W;
    const cy = LAT0 + 0.001;
    const off = 10 / M_PER_DEG / Math.SQRT2;
    const street = [cx + off / K - 0.002 / K, cy + off + 0.002, cx + off / K + 0.002 / K, cy + off - 0.002];
    const got = chooseAccessPoint(area([squareRing()]), network([street]));
    expect(got.kind).toBe('nearest-to-network');
    expect(metres(got, { lon: cx, lat: cy })).toBeLessThan(0.01);
  });

  it('nothing within reach: the centroid', () => {
    const f = area([squareRing()]);
    const far = [X0 + 1, LAT0 + 1, X0 + 1.1, LAT0 + 1];
    expect(chooseAccessPoint(f, network([far], 500))).toEqual({ lon: f.lon, lat: f.lat, kind: 'centroid' });
    expect(chooseAccessPoint({ ...f, rings: [] }, network([southStreet]))).toEqual({ lon: f.lon, lat: f.lat, kind: 'centroid' });
  });

  it('a multipolygon: the outer ring nearer the network wins', () => {
    const near = squareRing(X0, LAT0);
    const farRing = squareRing(X0, LAT0 + 0.003);
    const got = chooseAccessPoint(area([farRing, near]), network([southStreet]));
    expect(got.kind).toBe('nearest-to-network');
    expect(got.lat).toBeCloseTo(LAT0, 12);
  });

  it('an open line (a way that is not closed) works like a ring', () => {
    const line = Float64Array.from([X0, LAT0 + 0.0005, X0 + W, LAT0 + 0.0002]);
    const got = chooseAccessPoint(area([line]), network([southStreet]));
    expect(got).toEqual({ lon: X0 + W, lat: LAT0 + 0.0002, kind: 'nearest-to-network' });
  });

  it('a long outline is sampled, then refined around the best sample', () => {
    // a 2000-vertex circle of radius ≈111 m; a lane ends 3 m from it at angle 1 rad (not a vertex)
    const n = 2000;
    const ring = new Float64Array((n + 1) * 2);
    for (let i = 0; i <= n; i++) {
      const a = (2 * Math.PI * i) / n;
      ring[2 * i] = X0 + (0.001 * Math.cos(a)) / K;
      ring[2 * i + 1] = LAT0 + 0.001 * Math.sin(a);
    }
    const a = 1.0003;
    const r1 = 0.001 + 3 / M_PER_DEG;
    const r2 = 0.001 + 300 / M_PER_DEG;
    const lane = [X0 + (r1 * Math.cos(a)) / K, LAT0 + r1 * Math.sin(a), X0 + (r2 * Math.cos(a)) / K, LAT0 + r2 * Math.sin(a)];
    const net = network([lane], 400);
    const f = { ...area([ring]), lon: X0, lat: LAT0 };
    const got = chooseAccessPoint(f, net, { maxSamples: 64 });
    expect(got.kind).toBe('nearest-to-network');
    const onCircle = { lon: X0 + (0.001 * Math.cos(a)) / K, lat: LAT0 + 0.001 * Math.sin(a) };
    expect(metres(got, onCircle)).toBeLessThan(0.005); // vertices are 0.35 m apart: needs the projection
    expect(net.calls).toBeLessThan(600); // not all 2000 vertices and 2000 midpoints
  });
});

describe('projectOntoSegment', () => {
  it('clamps to the ends and is exact in the middle', () => {
    expect(projectOntoSegment(0, 1, -1, 0, 1, 0)).toEqual({ lon: 0, lat: 0, t: 0.5 });
    expect(projectOntoSegment(-5, 1, -1, 0, 1, 0).t).toBe(0);
    expect(projectOntoSegment(5, 1, -1, 0, 1, 0).t).toBe(1);
    expect(projectOntoSegment(3, 3, 2, 2, 2, 2)).toEqual({ lon: 2, lat: 2, t: 0 });
  });
});
