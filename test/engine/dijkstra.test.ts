import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { countWithin, DijkstraWorkspace, nearestTimes, runDijkstra, timeToSnap } from '../../src/engine/dijkstra.js';
import { arcSeconds, edgeSeconds } from '../../src/engine/profile.js';
import { snapToSources, type Snap } from '../../src/engine/snap.js';
import type { WalkGraph } from '../../src/engine/graph.js';
import { bellmanFord, floydWarshall, makeGraph, randomGrid, refEdgeSeconds, rng, TEST_PROFILE, type EdgeSpec } from './fixtures.js';

const P = TEST_PROFILE; // 1 m/s, steps ×2
const TOL = 1e-3; // seconds: float32 arc costs vs float64 reference

/**
 * Check one search result against per-seed Bellman-Ford references: dist is the min over
 * seeds, labels name a seed that achieves it, bounded nodes are Infinity, touched = reached.
 */
function checkAgainstReference(
  g: WalkGraph,
  ws: DijkstraWorkspace,
  seedNodes: Int32Array,
  seedSeconds: Float64Array,
  maxSeconds: number,
  labels?: Int32Array,
): void {
  const es = refEdgeSeconds(g, P.speedMps, P.stepsFactor);
  const perSeed = Array.from(seedNodes, (s, i) => bellmanFord(g, es, [s], [seedSeconds[i]]));
  const touched = new Set(Array.from(ws.touched.subarray(0, ws.touchedCount)));
  expect(touched.size).toBe(ws.touchedCount);
  for (let u = 0; u < g.nodeCount; u++) {
    let ref = Infinity;
    for (let i = 0; i < seedNodes.length; i++) if (seedSeconds[i] <= maxSeconds) ref = Math.min(ref, perSeed[i][u]);
    if (ref !== Infinity && Math.abs(ref - maxSeconds) < 1e-2) continue; // on the bound: float32 rounding decides
    if (ref > maxSeconds || ref === Infinity) {
      expect(ws.dist[u]).toBe(Infinity);
      expect(ws.label[u]).toBe(-1);
      expect(touched.has(u)).toBe(false);
      continue;
    }
    expect(Math.abs(ws.dist[u] - ref)).toBeLessThan(TOL);
    expect(touched.has(u)).toBe(true);
    // the label names a seed whose own time to u is the minimum
    const l = ws.label[u];
    const seedIdx = labels ? Array.from(labels).findIndex((x, i) => x === l && Math.abs(perSeed[i][u] - ref) < TOL) : l;
    expect(seedIdx).toBeGreaterThanOrEqual(0);
    expect(Math.abs(perSeed[seedIdx][u] - ref)).toBeLessThan(TOL);
  }
}

describe('runDijkstra', () => {
  it('hand-computed: a path with a steps edge and a shortcut', () => {
    //  0 —100— 1 —100— 2
    //  |                |
    //  50 (steps: 100 s) 400
    //  |                |
    //  3 ——————————————— 4   (3–4: 10 m)
    const g = makeGraph(
      [
        [0, 0],
        [100, 0],
        [200, 0],
        [0, -50],
        [200, -50],
      ],
      [
        { a: 0, b: 1, length: 100 },
        { a: 1, b: 2, length: 100 },
        { a: 0, b: 3, length: 50, steps: true },
        { a: 2, b: 4, length: 400 },
        { a: 3, b: 4, length: 10 },
      ],
    );
    const ws = new DijkstraWorkspace(g.nodeCount);
    runDijkstra(g, arcSeconds(g, P), ws, Int32Array.of(0), Float64Array.of(0));
    expect(Array.from(ws.dist)).toEqual([0, 100, 200, 100, 110]);
    expect(ws.touchedCount).toBe(5);
    // bounded at 105 s: node 4 (110 s) and node 2 (200 s) are not reached
    runDijkstra(g, arcSeconds(g, P), ws, Int32Array.of(0), Float64Array.of(0), 105);
    expect(Array.from(ws.dist)).toEqual([0, 100, Infinity, 100, Infinity]);
    expect(ws.touchedCount).toBe(3);
    // two labelled sources (0 and 4): node 2 is 200 s from 0 (via 1) but 400 s from 4; node 3 is 10 s from 4
    runDijkstra(g, arcSeconds(g, P), ws, Int32Array.of(0, 4), Float64Array.of(0, 0), Infinity, Int32Array.of(7, 9));
    expect(Array.from(ws.dist)).toEqual([0, 100, 200, 10, 0]);
    expect(Array.from(ws.label)).toEqual([7, 7, 7, 9, 9]);
  });

  it('property: equals Bellman-Ford on random multigraphs (loops, parallel edges, islands, bounds)', () => {
    const edge = (n: number) =>
      fc.record({
        a: fc.integer({ min: 0, max: n - 1 }),
        b: fc.integer({ min: 0, max: n - 1 }),
        length: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 500, noNaN: true })),
        steps: fc.boolean(),
      });
    const arb = fc.integer({ min: 1, max: 25 }).chain((n) =>
      fc.record({
        n: fc.constant(n),
        edges: fc.array(edge(n), { maxLength: 70 }),
        seeds: fc.array(
          fc.record({ node: fc.integer({ min: 0, max: n - 1 }), sec: fc.double({ min: 0, max: 300, noNaN: true }) }),
          { minLength: 1, maxLength: 4 },
        ),
        bound: fc.oneof(fc.constant(Infinity), fc.double({ min: 0, max: 1500, noNaN: true })),
      }),
    );
    // one workspace per graph size, reused across runs (exercises the touched-list reset)
    const workspaces = new Map<number, DijkstraWorkspace>();
    fc.assert(
      fc.property(arb, ({ n, edges, seeds, bound }) => {
        const r = rng(n);
        const nodes: [number, number][] = Array.from({ length: n }, () => [r() * 1000, r() * 1000]);
        const g = makeGraph(nodes, edges as EdgeSpec[]);
        let ws = workspaces.get(n);
        if (!ws) workspaces.set(n, (ws = new DijkstraWorkspace(n)));
        const seedNodes = Int32Array.from(seeds, (s) => s.node);
        const seedSeconds = Float64Array.from(seeds, (s) => s.sec);
        const labels = Int32Array.from(seeds, (_, i) => 100 + (i % 2));
        runDijkstra(g, arcSeconds(g, P), ws, seedNodes, seedSeconds, bound, labels);
        checkAgainstReference(g, ws, seedNodes, seedSeconds, bound, labels);
      }),
      { numRuns: 400 },
    );
  });

  it('equals Bellman-Ford on a random street grid, reusing one workspace for many searches', () => {
    const { graph: g } = randomGrid(20, 15, 80, 42, { removeFraction: 0.15, stepsFraction: 0.1 });
    const arc = arcSeconds(g, P);
    const ws = new DijkstraWorkspace(g.nodeCount);
    const r = rng(5);
    for (let k = 0; k < 25; k++) {
      const m = 1 + Math.floor(r() * 3);
      const seedNodes = Int32Array.from({ length: m }, () => Math.floor(r() * g.nodeCount));
      const seedSeconds = Float64Array.from({ length: m }, () => r() * 60);
      const bound = k % 3 === 0 ? Infinity : 200 + r() * 600;
      runDijkstra(g, arc, ws, seedNodes, seedSeconds, bound);
      checkAgainstReference(g, ws, seedNodes, seedSeconds, bound);
    }
  });

  it('nearestTimes returns independent copies', () => {
    const { graph: g } = randomGrid(6, 6, 100, 1);
    const arc = arcSeconds(g, P);
    const ws = new DijkstraWorkspace(g.nodeCount);
    const a = nearestTimes(g, arc, Int32Array.of(0), Float64Array.of(0), Infinity, undefined, ws);
    const b = nearestTimes(g, arc, Int32Array.of(35), Float64Array.of(0), Infinity, undefined, ws);
    expect(a.dist[0]).toBe(0);
    expect(b.dist[35]).toBe(0);
    expect(a.label[0]).toBe(0);
    const es = refEdgeSeconds(g, 1, 2);
    const ref = bellmanFord(g, es, [0], [0]);
    for (let u = 0; u < g.nodeCount; u++) {
      if (ref[u] === Infinity) expect(a.dist[u]).toBe(Infinity);
      else expect(Math.abs(a.dist[u] - ref[u])).toBeLessThan(TOL);
    }
  });

  it('rejects a workspace of the wrong size', () => {
    const { graph: g } = randomGrid(3, 3, 100, 1);
    expect(() => runDijkstra(g, arcSeconds(g, P), new DijkstraWorkspace(2), Int32Array.of(0), Float64Array.of(0))).toThrow();
  });
});

describe('timeToSnap', () => {
  // 0 ——(100 m)—— 1 ——(100 m)—— 2 ;  1 —(100 m, steps)— 3
  const g = makeGraph(
    [
      [0, 0],
      [100, 0],
      [200, 0],
      [100, 100],
    ],
    [
      { a: 0, b: 1, length: 100 },
      { a: 1, b: 2, length: 100 },
      { a: 1, b: 3, length: 100, steps: true },
    ],
  );
  const es = edgeSeconds(g, P);
  const arc = arcSeconds(g, P);
  const snap = (edge: number, offset: number, distance = 0): Snap => ({ edge, offset, distance, lon: 0, lat: 0 });
  const searchFrom = (o: Snap, bound = Infinity): DijkstraWorkspace => {
    const ws = new DijkstraWorkspace(g.nodeCount);
    const s = snapToSources(o, es, g, P.speedMps);
    runDijkstra(g, arc, ws, s.nodes, s.seconds, bound);
    return ws;
  };

  it('same edge: the direct walk along the edge', () => {
    const o = snap(0, 30, 5);
    const ws = searchFrom(o);
    // 5 (origin access) + 40 along + 7 (target access)
    expect(timeToSnap(ws, snap(0, 70, 7), g, es, 1, o)).toBeCloseTo(52, 5);
    // without telling it the origin, the best it can do is via a node: 5 + 30 + 70 + 7 (via 0) or 5 + 70 + 30 + 7 (via 1)
    expect(timeToSnap(ws, snap(0, 70, 7), g, es, 1)).toBeCloseTo(112, 5);
    // an array of origins works too
    expect(timeToSnap(ws, snap(0, 10, 0), g, es, 1, [snap(2, 50), o])).toBeCloseTo(25, 5);
  });

  it('other edges: via the better end, partial edge, access legs, steps factor', () => {
    const o = snap(0, 30, 5);
    const ws = searchFrom(o);
    // to (150, 0): 5 + 70 to node 1, + 50, + 3 access
    expect(timeToSnap(ws, snap(1, 50, 3), g, es, 1, o)).toBeCloseTo(128, 5);
    // onto the steps edge 40 m up: 5 + 70 + 40×2
    expect(timeToSnap(ws, snap(2, 40, 0), g, es, 1, o)).toBeCloseTo(155, 5);
    // at half speed the access legs double but edge times are the given edgeSec
    expect(timeToSnap(ws, snap(2, 40, 10), g, es, 0.5, o)).toBeCloseTo(155 + 20, 5);
  });

  it('bounded search: exact within the bound, above it otherwise', () => {
    const o = snap(0, 30, 0);
    const ws = searchFrom(o, 100);
    expect(timeToSnap(ws, snap(1, 20, 0), g, es, 1, o)).toBeCloseTo(90, 5);
    expect(timeToSnap(ws, snap(1, 60, 0), g, es, 1, o)).toBeGreaterThan(100);
  });
});

describe('countWithin', () => {
  it('matches a Floyd–Warshall reference on a random grid', () => {
    const { graph: g } = randomGrid(9, 7, 70, 9, { stepsFraction: 0.15 });
    const es32 = edgeSeconds(g, P);
    const arc = arcSeconds(g, P);
    const r = rng(3);
    const targets: (Snap | null)[] = [];
    for (let k = 0; k < 25; k++) {
      const e = Math.floor(r() * g.edgeCount);
      targets.push(k === 3 ? null : snap(e, r() * g.edgeLength[e], r() * 40));
    }
    const max = 240;
    const counts = countWithin(g, arc, targets, max, { edgeSec: es32, speedMps: 1 });
    const es = refEdgeSeconds(g, 1, 2);
    const fw = floydWarshall(g, es);
    const n = g.nodeCount;
    for (let u = 0; u < n; u++) {
      let c = 0;
      let borderline = false;
      for (const t of targets) {
        if (!t) continue;
        const len = g.edgeLength[t.edge];
        const f = t.offset / len;
        const time =
          t.distance +
          Math.min(fw[u * n + g.edgeFrom[t.edge]] + f * es[t.edge], fw[u * n + g.edgeTo[t.edge]] + (1 - f) * es[t.edge]);
        if (Math.abs(time - max) < 1e-2) borderline = true;
        if (time <= max) c++;
      }
      if (!borderline) expect(counts[u]).toBe(c);
    }
  });

  function snap(edge: number, offset: number, distance: number): Snap {
    return { edge, offset, distance, lon: 0, lat: 0 };
  }
});
