import { describe, expect, it } from 'vitest';
import { DijkstraWorkspace, runDijkstra } from '../../src/engine/dijkstra.js';
import { isochrone, isochroneFromPoint, type IsochroneCollection } from '../../src/engine/isochrone.js';
import { arcSeconds, edgeSeconds } from '../../src/engine/profile.js';
import { buildSnapIndex, snapPoint, snapToSources } from '../../src/engine/snap.js';
import type { WalkGraph } from '../../src/engine/graph.js';
import {
  bellmanFord,
  inMultiPolygon,
  makeGraph,
  randomGrid,
  refEdgeSeconds,
  rng,
  signedArea,
  TEST_PROFILE,
  toLat,
  toLon,
  toX,
  toY,
} from './fixtures.js';

const P = TEST_PROFILE; // 1 m/s, steps ×2

function setup(g: WalkGraph) {
  return {
    idx: buildSnapIndex(g),
    arc: arcSeconds(g, P),
    es: edgeSeconds(g, P),
    ws: new DijkstraWorkspace(g.nodeCount),
  };
}

const inside = (fc: IsochroneCollection, minutes: number, x: number, y: number): boolean => {
  const f = fc.features.find((q) => q.properties.minutes === minutes)!;
  return inMultiPolygon(f.geometry.coordinates, toLon(x), toLat(y));
};

/** Max / min x (metres) over all vertices of a feature. */
function xExtent(fc: IsochroneCollection, minutes: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const poly of fc.features.find((q) => q.properties.minutes === minutes)!.geometry.coordinates) {
    for (const ring of poly) {
      for (const [lon] of ring) {
        lo = Math.min(lo, toX(lon));
        hi = Math.max(hi, toX(lon));
      }
    }
  }
  return [lo, hi];
}

describe('isochrone: hand-made cases', () => {
  // one straight 1000 m edge along y = 0
  const line = makeGraph(
    [
      [0, 0],
      [1000, 0],
    ],
    [{ a: 0, b: 1 }],
  );

  it('walks a partial edge until the budget runs out', () => {
    const { idx, arc, es, ws } = setup(line);
    const fc = isochroneFromPoint(idx, arc, es, ws, toLon(0), toLat(0), [5], { speedMps: 1 })!;
    expect(fc.features).toHaveLength(1);
    expect(inside(fc, 5, 250, 0)).toBe(true);
    expect(inside(fc, 5, 250, 30)).toBe(true);
    expect(inside(fc, 5, 420, 0)).toBe(false);
    expect(inside(fc, 5, 150, 100)).toBe(false); // beyond the 60 m off-road reach
    const [, hi] = xExtent(fc, 5);
    expect(hi).toBeGreaterThan(300 - 10);
    expect(hi).toBeLessThan(300 + 10);
  });

  it('times the origin edge directly when the origin is mid-edge', () => {
    const { idx, arc, es, ws } = setup(line);
    // origin 10 m off the middle of the edge: both ends are 510 s away, beyond 5 minutes
    const fc = isochroneFromPoint(idx, arc, es, ws, toLon(500), toLat(10), [5], { speedMps: 1 })!;
    expect(ws.touchedCount).toBe(0);
    expect(inside(fc, 5, 500, 0)).toBe(true);
    expect(inside(fc, 5, 300, 0)).toBe(true); // 10 + 200
    expect(inside(fc, 5, 700, 0)).toBe(true);
    expect(inside(fc, 5, 150, 0)).toBe(false); // 10 + 350
    expect(inside(fc, 5, 850, 0)).toBe(false);
    const [lo, hi] = xExtent(fc, 5);
    expect(lo).toBeGreaterThan(210 - 10);
    expect(lo).toBeLessThan(210 + 10);
    expect(hi).toBeGreaterThan(790 - 10);
    expect(hi).toBeLessThan(790 + 10);
  });

  it('steps cost their factor along the edge', () => {
    const steps = makeGraph(
      [
        [0, 0],
        [1000, 0],
      ],
      [{ a: 0, b: 1, steps: true }],
    );
    const { idx, arc, es, ws } = setup(steps);
    const fc = isochroneFromPoint(idx, arc, es, ws, toLon(0), toLat(0), [5], {
      speedMps: 1,
      cellMetres: 10,
      offroadMetres: 15,
    })!;
    // 300 s at 2 s/m is 150 m; leaving the steps 15 m early and walking beside them: x ≤ 157.5
    const [, hi] = xExtent(fc, 5);
    expect(hi).toBeGreaterThan(157.5 - 10);
    expect(hi).toBeLessThan(157.5 + 10);
    // with the usual 60 m off-road reach, leaving the steps at x − 60 and walking beside them
    // is quicker (x + (x − 60) ≤ 300 → x ≤ 180): the model says so, and so must the polygon
    const wide = isochroneFromPoint(idx, arc, es, ws, toLon(0), toLat(0), [5], { speedMps: 1 })!;
    const [, hiWide] = xExtent(wide, 5);
    expect(hiWide).toBeGreaterThan(180 - 20);
    expect(hiWide).toBeLessThan(180 + 20);
  });

  it('leaves a hole for a big block inside a ring road', () => {
    // a 400 m square ring road: 1600 m around, every point ≤ 800 m from the origin
    const ring = makeGraph(
      [
        [0, 0],
        [400, 0],
        [400, 400],
        [0, 400],
      ],
      [
        { a: 0, b: 1 },
        { a: 1, b: 2 },
        { a: 2, b: 3 },
        { a: 3, b: 0 },
      ],
    );
    const { idx, arc, es, ws } = setup(ring);
    const fc = isochroneFromPoint(idx, arc, es, ws, toLon(200), toLat(-10), [15, 5], { speedMps: 1 })!;
    expect(fc.features.map((f) => f.properties.minutes)).toEqual([15, 5]);
    const big = fc.features[0].geometry.coordinates;
    expect(big.some((poly) => poly.length >= 2)).toBe(true);
    expect(inside(fc, 15, 200, 200)).toBe(false); // the block's middle
    expect(inside(fc, 15, 200, 380)).toBe(true); // the far side of the ring
    expect(inside(fc, 15, 30, 200)).toBe(true);
    expect(inside(fc, 5, 200, 380)).toBe(false);
    expect(inside(fc, 5, 200, 0)).toBe(true);
    // RFC 7946 winding: exteriors counter-clockwise, holes clockwise; rings closed
    for (const f of fc.features) {
      for (const poly of f.geometry.coordinates) {
        expect(signedArea(poly[0])).toBeGreaterThan(0);
        for (const hole of poly.slice(1)) expect(signedArea(hole)).toBeLessThan(0);
        for (const r of poly) expect(r[0]).toEqual(r[r.length - 1]);
      }
    }
  });

  it('returns null for a point beyond the snap limit and empty polygons when nothing is reached', () => {
    const { idx, arc, es, ws } = setup(line);
    expect(isochroneFromPoint(idx, arc, es, ws, toLon(500), toLat(900), [5], { speedMps: 1 })).toBeNull();
    ws.reset();
    const fc = isochrone(line, es, ws, [10, 5], { speedMps: 1 });
    expect(fc.features.map((f) => f.properties.minutes)).toEqual([10, 5]);
    for (const f of fc.features) expect(f.geometry.coordinates).toEqual([]);
  });

  it('contours a multi-source search', () => {
    const { arc, es, ws } = setup(line);
    runDijkstra(line, arc, ws, Int32Array.of(0, 1), Float64Array.of(0, 0), 300);
    const fc = isochrone(line, es, ws, [5], { speedMps: 1 });
    expect(inside(fc, 5, 100, 0)).toBe(true);
    expect(inside(fc, 5, 900, 0)).toBe(true);
    expect(inside(fc, 5, 500, 0)).toBe(false);
    expect(fc.features[0].geometry.coordinates).toHaveLength(2);
  });
});

describe('isochrone: containment against a brute-force reference', () => {
  /**
   * Reference travel time to a point: min over (a) the origin point itself and (b) every
   * position along every edge (0.5 m steps) of network time there + straight distance/speed,
   * counting only positions within `limit` metres. Network times come from Bellman-Ford.
   */
  function reference(g: WalkGraph, originX: number, originY: number, maxSnap = 300) {
    const origin = snapPoint(buildSnapIndex(g), toLon(originX), toLat(originY), maxSnap)!;
    const es = refEdgeSeconds(g, P.speedMps, P.stepsFactor);
    const f0 = origin.offset / g.edgeLength[origin.edge];
    const access = origin.distance / P.speedMps;
    const D = bellmanFord(
      g,
      es,
      [g.edgeFrom[origin.edge], g.edgeTo[origin.edge]],
      [access + f0 * es[origin.edge], access + (1 - f0) * es[origin.edge]],
    );
    const xs: number[] = [];
    const ys: number[] = [];
    const ts: number[] = [];
    for (let e = 0; e < g.edgeCount; e++) {
      const pts: [number, number][] = [];
      for (let p = g.geomOffsets[e]; p < g.geomOffsets[e + 1]; p++) {
        pts.push([toX(g.geomCoords[2 * p]), toY(g.geomCoords[2 * p + 1])]);
      }
      let total = 0;
      for (let k = 1; k < pts.length; k++) total += Math.hypot(pts[k][0] - pts[k - 1][0], pts[k][1] - pts[k - 1][1]);
      let cum = 0;
      for (let k = 1; k < pts.length; k++) {
        const [ax, ay] = pts[k - 1];
        const [bx, by] = pts[k];
        const len = Math.hypot(bx - ax, by - ay);
        const n = Math.max(1, Math.ceil(len / 0.5));
        for (let i = 0; i <= n; i++) {
          const f = (cum + (len * i) / n) / total;
          let t = Math.min(D[g.edgeFrom[e]] + f * es[e], D[g.edgeTo[e]] + (1 - f) * es[e]);
          if (e === origin.edge) t = Math.min(t, access + Math.abs(f - f0) * es[e]);
          if (t === Infinity) continue;
          xs.push(ax + ((bx - ax) * i) / n);
          ys.push(ay + ((by - ay) * i) / n);
          ts.push(t);
        }
        cum += len;
      }
    }
    return (qx: number, qy: number, limit: number): number => {
      let best = Infinity;
      const d0 = Math.hypot(qx - originX, qy - originY);
      if (d0 <= limit) best = d0 / P.speedMps;
      for (let k = 0; k < xs.length; k++) {
        const d = Math.hypot(qx - xs[k], qy - ys[k]);
        if (d <= limit && ts[k] + d / P.speedMps < best) best = ts[k] + d / P.speedMps;
      }
      return best;
    };
  }

  const cases = [
    { name: '16×16 grid, 20 m cells, 60 m off-road', seed: 21, cell: 20, offroad: 60, minutes: [10, 5] },
    { name: '14×14 grid, 10 m cells, 40 m off-road', seed: 8, cell: 10, offroad: 40, minutes: [8] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const n = c.cell === 20 ? 16 : 14;
      const { graph: g } = randomGrid(n, n, 80, c.seed, { removeFraction: 0.2, stepsFraction: 0.15, bendFraction: 0.4 });
      const { idx, arc, es, ws } = setup(g);
      const ox = (n / 2) * 80 + 13;
      const oy = (n / 2) * 80 - 21;
      const fc = isochroneFromPoint(idx, arc, es, ws, toLon(ox), toLat(oy), c.minutes, {
        speedMps: 1,
        cellMetres: c.cell,
        offroadMetres: c.offroad,
      })!;
      const ref = reference(g, ox, oy);
      const diag = c.cell * Math.SQRT2;
      const delta = diag + 1; // metres of position slack (one cell diagonal)
      const tol = (diag + c.cell) / P.speedMps + 1; // seconds: one cell's walk plus sampling
      const r = rng(c.seed + 1);
      for (const m of c.minutes) {
        const tau = m * 60;
        let nIn = 0;
        let nOut = 0;
        for (let k = 0; k < 300; k++) {
          const x = ox + (r() - 0.5) * 2 * (tau + 100);
          const y = oy + (r() - 0.5) * 2 * (tau + 100);
          if (inside(fc, m, x, y)) {
            nIn++;
            expect(ref(x, y, c.offroad + delta), `inside (${x.toFixed(1)}, ${y.toFixed(1)})`).toBeLessThanOrEqual(tau + tol);
          } else {
            nOut++;
            expect(ref(x, y, c.offroad - delta), `outside (${x.toFixed(1)}, ${y.toFixed(1)})`).toBeGreaterThan(tau - tol);
          }
        }
        expect(nIn).toBeGreaterThan(30);
        expect(nOut).toBeGreaterThan(30);
      }
    });
  }
});

describe('isochrone: search and contour agree with snapToSources seeding', () => {
  it('isochrone() on a manual search equals isochroneFromPoint', () => {
    const { graph: g } = randomGrid(8, 8, 90, 4);
    const { idx, arc, es, ws } = setup(g);
    const lon = toLon(333);
    const lat = toLat(317);
    const a = isochroneFromPoint(idx, arc, es, ws, lon, lat, [5, 3], { speedMps: 1 })!;
    const s = snapPoint(idx, lon, lat)!;
    const seeds = snapToSources(s, es, g, 1);
    runDijkstra(g, arc, ws, seeds.nodes, seeds.seconds, 300);
    const b = isochrone(g, es, ws, [3, 5], { speedMps: 1, origins: [s], originPoints: [lon, lat] });
    expect(b).toEqual(a);
  });
});
