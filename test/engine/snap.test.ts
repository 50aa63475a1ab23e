import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildSnapIndex, snapPoint, snapToSources, snapsToSources } from '../../src/engine/snap.js';
import { edgeSeconds } from '../../src/engine/profile.js';
import type { WalkGraph } from '../../src/engine/graph.js';
import { greatCircle, makeGraph, randomGrid, rng, TEST_PROFILE, toLat, toLon, toX, toY } from './fixtures.js';

/**
 * Brute force: distance to the nearest segment of any edge, in an equirectangular metric
 * centred on the query point (the metric snapPoint promises).
 */
function bruteNearest(g: WalkGraph, qx: number, qy: number, component = -1): { d: number; edge: number } {
  const qlon = toLon(qx);
  const qlat = toLat(qy);
  const ky = 6371008.8 * (Math.PI / 180);
  const kx = ky * Math.cos(qlat * (Math.PI / 180));
  const X = (lon: number): number => (lon - qlon) * kx;
  const Y = (lat: number): number => (lat - qlat) * ky;
  const x = 0;
  const y = 0;
  let best = Infinity;
  let edge = -1;
  for (let e = 0; e < g.edgeCount; e++) {
    if (component >= 0 && g.nodeComponent[g.edgeFrom[e]] !== component) continue;
    for (let p = g.geomOffsets[e]; p < g.geomOffsets[e + 1] - 1; p++) {
      const ax = X(g.geomCoords[2 * p]);
      const ay = Y(g.geomCoords[2 * p + 1]);
      const bx = X(g.geomCoords[2 * p + 2]);
      const by = Y(g.geomCoords[2 * p + 3]);
      const vx = bx - ax;
      const vy = by - ay;
      const l2 = vx * vx + vy * vy;
      const t = l2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / l2));
      const d = Math.hypot(ax + t * vx - x, ay + t * vy - y);
      if (d < best) {
        best = d;
        edge = e;
      }
    }
  }
  return { d: best, edge };
}

describe('snapPoint', () => {
  // one long east-west edge, 1000 m, and a bent edge (0,200)→(100,200)→(100,300)
  const g = makeGraph(
    [
      [0, 0],
      [1000, 0],
      [0, 200],
      [100, 300],
    ],
    [
      { a: 0, b: 1 },
      { a: 2, b: 3, via: [[100, 200]] },
    ],
  );
  const idx = buildSnapIndex(g);

  it('snaps next to the middle of a long edge to mid-edge, not to a node', () => {
    const s = snapPoint(idx, toLon(500), toLat(20));
    expect(s).not.toBeNull();
    expect(s!.edge).toBe(0);
    expect(s!.offset).toBeCloseTo(500, 0);
    expect(s!.distance).toBeCloseTo(20, 1);
    expect(toX(s!.lon)).toBeCloseTo(500, 1);
    expect(toY(s!.lat)).toBeCloseTo(0, 1);
  });

  it('returns null beyond maxMetres and snaps when the limit allows', () => {
    expect(snapPoint(idx, toLon(500), toLat(-400))).toBeNull();
    expect(snapPoint(idx, toLon(500), toLat(-400), 300)).toBeNull();
    const s = snapPoint(idx, toLon(500), toLat(-400), 450);
    expect(s).not.toBeNull();
    expect(s!.distance).toBeCloseTo(400, 0);
    // just inside / just outside a small limit
    expect(snapPoint(idx, toLon(500), toLat(-29), 30)).not.toBeNull();
    expect(snapPoint(idx, toLon(500), toLat(-31), 30)).toBeNull();
  });

  it('picks the right segment next to a bend, with the offset along the whole edge', () => {
    // (95, 260): 5 m west of the second segment (x = 100), 60 m up it
    const a = snapPoint(idx, toLon(95), toLat(260))!;
    expect(a.edge).toBe(1);
    expect(a.distance).toBeCloseTo(5, 1);
    expect(a.offset).toBeCloseTo(160, 0);
    // (60, 195): 5 m south of the first segment, 60 m along
    const b = snapPoint(idx, toLon(60), toLat(195))!;
    expect(b.edge).toBe(1);
    expect(b.offset).toBeCloseTo(60, 0);
    expect(b.distance).toBeCloseTo(5, 1);
    // the offset is consistent with the edge's own length at the far end
    const c = snapPoint(idx, toLon(100), toLat(320))!;
    expect(c.offset).toBeCloseTo(g.edgeLength[1], 3);
  });

  it('offsets are exact great-circle metres along the geometry', () => {
    const s = snapPoint(idx, toLon(100), toLat(250))!;
    const expected =
      greatCircle(toLon(0), toLat(200), toLon(100), toLat(200)) +
      greatCircle(toLon(100), toLat(200), toLon(100), toLat(250));
    expect(Math.abs(s.offset - expected)).toBeLessThan(0.01);
  });

  it('matches a brute-force nearest segment on random points', () => {
    const { graph } = randomGrid(12, 9, 90, 7, { bendFraction: 0.5 });
    const index = buildSnapIndex(graph);
    const r = rng(11);
    for (let k = 0; k < 600; k++) {
      const x = -200 + r() * 1400;
      const y = -200 + r() * 1100;
      const limit = [30, 100, 300][k % 3];
      const s = snapPoint(index, toLon(x), toLat(y), limit);
      const ref = bruteNearest(graph, x, y);
      if (ref.d > limit + 0.01) {
        expect(s).toBeNull();
      } else if (ref.d < limit - 0.01) {
        expect(s).not.toBeNull();
        expect(Math.abs(s!.distance - ref.d)).toBeLessThan(0.01);
        expect(Math.hypot(toX(s!.lon) - x, toY(s!.lat) - y)).toBeCloseTo(s!.distance, 1);
        expect(s!.offset).toBeGreaterThanOrEqual(0);
        expect(s!.offset).toBeLessThanOrEqual(graph.edgeLength[s!.edge]);
      }
    }
  });

  it('property: never farther than the limit, never worse than brute force', () => {
    const { graph } = randomGrid(6, 6, 120, 3);
    const index = buildSnapIndex(graph);
    fc.assert(
      fc.property(
        fc.double({ min: -400, max: 1000, noNaN: true }),
        fc.double({ min: -400, max: 1000, noNaN: true }),
        fc.double({ min: 1, max: 400, noNaN: true }),
        (x, y, limit) => {
          const s = snapPoint(index, toLon(x), toLat(y), limit);
          const ref = bruteNearest(graph, x, y);
          if (s) {
            expect(s.distance).toBeLessThanOrEqual(limit + 1e-9);
            expect(s.distance).toBeLessThan(ref.d + 0.01);
          } else {
            expect(ref.d).toBeGreaterThan(limit - 0.01);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('respects the component option', () => {
    // big component: a path of 3 nodes; island: one edge close to the query point
    const h = makeGraph(
      [
        [0, 0],
        [100, 0],
        [200, 0],
        [0, 50],
        [100, 50],
      ],
      [
        { a: 0, b: 1 },
        { a: 1, b: 2 },
        { a: 3, b: 4 },
      ],
    );
    const index = buildSnapIndex(h);
    const any = snapPoint(index, toLon(50), toLat(40))!;
    expect(any.edge).toBe(2);
    const main = snapPoint(index, toLon(50), toLat(40), 300, { component: 0 })!;
    expect(main.edge).toBe(0);
    expect(main.distance).toBeCloseTo(40, 1);
    expect(snapPoint(index, toLon(50), toLat(40), 30, { component: 0 })).toBeNull();
  });

  it('handles an empty graph', () => {
    const e = makeGraph([], []);
    expect(snapPoint(buildSnapIndex(e), 16, 48)).toBeNull();
  });
});

describe('snapToSources', () => {
  const g = makeGraph(
    [
      [0, 0],
      [100, 0],
      [100, 100],
    ],
    [
      { a: 0, b: 1, length: 100 },
      { a: 1, b: 2, length: 100, steps: true },
    ],
  );
  const es = edgeSeconds(g, TEST_PROFILE);

  it('splits the edge time at the offset and adds the access leg', () => {
    const s = snapToSources({ edge: 0, offset: 30, distance: 10, lon: 0, lat: 0 }, es, g, 1);
    expect(Array.from(s.nodes)).toEqual([0, 1]);
    expect(s.seconds[0]).toBeCloseTo(40, 5);
    expect(s.seconds[1]).toBeCloseTo(80, 5);
  });

  it('applies the steps factor to the partial edge only, not to the access leg', () => {
    const s = snapToSources({ edge: 1, offset: 30, distance: 10, lon: 0, lat: 0 }, es, g, 1);
    expect(Array.from(s.nodes)).toEqual([1, 2]);
    expect(s.seconds[0]).toBeCloseTo(10 + 60, 5);
    expect(s.seconds[1]).toBeCloseTo(10 + 140, 5);
    const slow = snapToSources({ edge: 1, offset: 30, distance: 10, lon: 0, lat: 0 }, es, g, 0.5);
    expect(slow.seconds[0]).toBeCloseTo(20 + 60, 5);
  });

  it('builds labelled multi-source seeds and skips unsnapped points', () => {
    const s = snapsToSources(
      [{ edge: 0, offset: 0, distance: 0, lon: 0, lat: 0 }, null, { edge: 1, offset: 100, distance: 5, lon: 0, lat: 0 }],
      es,
      g,
      1,
    );
    expect(Array.from(s.nodes)).toEqual([0, 1, 1, 2]);
    expect(Array.from(s.labels)).toEqual([0, 0, 2, 2]);
    expect(Array.from(s.seconds)).toEqual([0, 100, 205, 5]);
  });
});
