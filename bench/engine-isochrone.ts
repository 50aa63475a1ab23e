/**
 * Engine benchmark: heap variants for Dijkstra, and where isochrone time goes.
 *
 *   npm run build && node dist/bench/engine-isochrone.js [net.osm.pbf | region.quarter] [--grid-nodes N]
 *
 * 1. Lazy binary heap (src/engine/dijkstra.ts) vs an indexed decrease-key binary heap
 *    (below), single-source, bounded (15 min) and full searches, on a real region imported
 *    with the product's importRegion (default data/krems/krems.osm.pbf) and on a synthetic
 *    grid (bench/grid.ts, default 1M nodes; 0 = skip). Both must give identical distances.
 * 2. Isochrones (5/10/15 min) from 1,000 random positions on the network, split into
 *    snap / bounded Dijkstra / raster+contour, p50/p99, using the region's RoutingContext.
 *
 * `npm run bench` (bench/run.ts) runs both as one section of RESULTS.md.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createRoutingContext, type RoutingContext } from '../src/access/context.js';
import { DijkstraWorkspace, runDijkstra } from '../src/engine/dijkstra.js';
import { buildWalkGraph, type WalkGraph } from '../src/engine/graph.js';
import { isochrone } from '../src/engine/isochrone.js';
import { arcSeconds, getWalkingProfile } from '../src/engine/profile.js';
import { snapPoint, writeSnapSeeds } from '../src/engine/snap.js';
import { importRegion } from '../src/region/import-region.js';
import { readRegion } from '../src/region/region-file.js';
import type { Region } from '../src/region/region.js';
import { generateGridNetwork, mulberry32 } from './grid.js';
import { mean, percentile, sampleNetworkPoints, summarize, type Summary } from './util.js';

// ---------------------------------------------------------------- indexed decrease-key heap variant

/** Same contract as runDijkstra, with an indexed binary heap (decrease-key, no stale entries). */
export class IndexedHeapDijkstra {
  readonly dist: Float64Array;
  readonly label: Int32Array;
  readonly touched: Int32Array;
  touchedCount = 0;
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  private readonly key: Float64Array;

  constructor(n: number) {
    this.dist = new Float64Array(n).fill(Infinity);
    this.label = new Int32Array(n).fill(-1);
    this.touched = new Int32Array(n);
    this.heap = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
    this.key = this.dist; // keys are the tentative distances
  }

  run(g: WalkGraph, arcSec: Float32Array, seedNodes: Int32Array, seedSeconds: Float64Array, maxSeconds = Infinity): void {
    const { dist, label, touched, heap, pos, key } = this;
    for (let i = 0; i < this.touchedCount; i++) {
      const u = touched[i];
      dist[u] = Infinity;
      label[u] = -1;
    }
    let tc = 0;
    let size = 0;
    const up = (i: number, u: number, k: number): void => {
      while (i > 0) {
        const p = (i - 1) >> 1;
        const pu = heap[p];
        if (key[pu] <= k) break;
        heap[i] = pu;
        pos[pu] = i;
        i = p;
      }
      heap[i] = u;
      pos[u] = i;
    };
    for (let i = 0; i < seedNodes.length; i++) {
      const s = seedNodes[i];
      const t = seedSeconds[i];
      if (!(t <= maxSeconds) || !(t < dist[s])) continue;
      if (dist[s] === Infinity) {
        touched[tc++] = s;
        dist[s] = t;
        label[s] = i;
        up(size++, s, t);
      } else {
        dist[s] = t;
        label[s] = i;
        up(pos[s], s, t);
      }
    }
    const offsets = g.arcOffsets;
    const targets = g.arcTarget;
    while (size > 0) {
      const u = heap[0];
      pos[u] = -2; // settled
      size--;
      if (size > 0) {
        const last = heap[size];
        const lk = key[last];
        let i = 0;
        for (;;) {
          let c = 2 * i + 1;
          if (c >= size) break;
          if (c + 1 < size && key[heap[c + 1]] < key[heap[c]]) c++;
          const cu = heap[c];
          if (key[cu] >= lk) break;
          heap[i] = cu;
          pos[cu] = i;
          i = c;
        }
        heap[i] = last;
        pos[last] = i;
      }
      const d = dist[u];
      const lu = label[u];
      for (let a = offsets[u]; a < offsets[u + 1]; a++) {
        const v = targets[a];
        const nd = d + arcSec[a];
        if (nd < dist[v] && nd <= maxSeconds) {
          if (dist[v] === Infinity) {
            touched[tc++] = v;
            dist[v] = nd;
            label[v] = lu;
            up(size++, v, nd);
          } else {
            dist[v] = nd;
            label[v] = lu;
            up(pos[v], v, nd);
          }
        }
      }
    }
    for (let i = 0; i < tc; i++) pos[touched[i]] = -1;
    this.touchedCount = tc;
  }
}

// ---------------------------------------------------------------- heap comparison

export interface HeapComparison {
  name: string;
  searches: number;
  meanReached: number;
  /** milliseconds per search. */
  lazy: { p50: number; p99: number; mean: number };
  indexed: { p50: number; p99: number; mean: number };
}

/** Single-source searches from each of `sources`, `rounds` times, alternating which variant runs first. */
export function compareHeaps(name: string, g: WalkGraph, arc: Float32Array, sources: Int32Array, bound: number, rounds: number): HeapComparison {
  const ws = new DijkstraWorkspace(g.nodeCount);
  const ix = new IndexedHeapDijkstra(g.nodeCount);
  const seedSec = Float64Array.of(0);
  const one = new Int32Array(1);
  // correctness first (also the warm-up)
  for (let k = 0; k < Math.min(5, sources.length); k++) {
    one[0] = sources[k];
    runDijkstra(g, arc, ws, one, seedSec, bound);
    ix.run(g, arc, one, seedSec, bound);
    for (let u = 0; u < g.nodeCount; u++) {
      if (ws.dist[u] !== ix.dist[u]) throw new Error(`${name}: heaps disagree at node ${u}: ${ws.dist[u]} vs ${ix.dist[u]}`);
    }
  }
  const lazy: number[] = [];
  const indexed: number[] = [];
  let touched = 0;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < sources.length; k++) {
      one[0] = sources[k];
      // alternate the order so neither variant always runs on a warmer cache
      if ((k + r) % 2 === 0) {
        let t0 = performance.now();
        runDijkstra(g, arc, ws, one, seedSec, bound);
        lazy.push(performance.now() - t0);
        t0 = performance.now();
        ix.run(g, arc, one, seedSec, bound);
        indexed.push(performance.now() - t0);
      } else {
        let t0 = performance.now();
        ix.run(g, arc, one, seedSec, bound);
        indexed.push(performance.now() - t0);
        t0 = performance.now();
        runDijkstra(g, arc, ws, one, seedSec, bound);
        lazy.push(performance.now() - t0);
      }
      touched += ws.touchedCount;
    }
  }
  const stats = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), mean: mean(xs) });
  return { name, searches: lazy.length, meanReached: touched / lazy.length, lazy: stats(lazy), indexed: stats(indexed) };
}

/** `count` random nodes of the largest component (seeded). */
export function randomNodes(g: WalkGraph, count: number, seed: number): Int32Array {
  const r = mulberry32(seed);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let u: number;
    do u = Math.floor(r() * g.nodeCount);
    while (g.nodeComponent[u] !== 0);
    out[i] = u;
  }
  return out;
}

/** The heap comparisons run by the suite: a real region, and optionally a large grid. */
export function heapComparisons(regionName: string, region: Region, grid?: { name: string; graph: WalkGraph }): HeapComparison[] {
  const profile = getWalkingProfile('default');
  const g = region.graph;
  const arc = arcSeconds(g, profile);
  const out = [
    compareHeaps(`${regionName}, bounded 15 min`, g, arc, randomNodes(g, 1000, 1), 900, 3),
    compareHeaps(`${regionName}, full graph`, g, arc, randomNodes(g, 200, 2), Infinity, 3),
  ];
  if (grid) {
    const garc = arcSeconds(grid.graph, profile);
    out.push(compareHeaps(`${grid.name}, bounded 15 min`, grid.graph, garc, randomNodes(grid.graph, 500, 3), 900, 2));
    out.push(compareHeaps(`${grid.name}, full graph`, grid.graph, garc, randomNodes(grid.graph, 6, 4), Infinity, 2));
  }
  return out;
}

// ---------------------------------------------------------------- isochrone breakdown

export interface IsochroneBreakdown {
  /** origins timed (snapped). */
  n: number;
  notSnapped: number;
  meanReached: number;
  meanVertices: number;
  /** milliseconds. */
  total: Summary;
  snap: Summary;
  search: Summary;
  contour: Summary;
}

/**
 * The steps of isochroneFromPoint timed one by one (snap, bounded Dijkstra, raster+contour),
 * from `count` random positions on the network after `warmup` untimed ones.
 */
export function isochroneBreakdown(ctx: RoutingContext, count = 1000, warmup = 200, seed = 7, minutes = [5, 10, 15]): IsochroneBreakdown {
  const g = ctx.region.graph;
  const speed = ctx.profile.speedMps;
  const pts = sampleNetworkPoints(g, warmup + count, seed).coords;
  const maxSec = Math.max(...minutes) * 60;
  const seedN = new Int32Array(2);
  const seedS = new Float64Array(2);
  const total: number[] = [];
  const tSnap: number[] = [];
  const tSearch: number[] = [];
  const tContour: number[] = [];
  let notSnapped = 0;
  let vertices = 0;
  let reached = 0;
  for (let i = 0; i < warmup + count; i++) {
    const lon = pts[2 * i];
    const lat = pts[2 * i + 1];
    const a = performance.now();
    const snap = snapPoint(ctx.index, lon, lat, 300);
    const b = performance.now();
    if (!snap) {
      if (i >= warmup) notSnapped++;
      continue;
    }
    writeSnapSeeds(snap, ctx.edgeSec, g, speed, seedN, seedS, 0);
    runDijkstra(g, ctx.arcSec, ctx.ws, seedN, seedS, maxSec);
    const c = performance.now();
    const fc = isochrone(g, ctx.edgeSec, ctx.ws, minutes, { speedMps: speed, origins: [snap], originPoints: [lon, lat] });
    const d = performance.now();
    if (i < warmup) continue;
    tSnap.push(b - a);
    tSearch.push(c - b);
    tContour.push(d - c);
    total.push(d - a);
    reached += ctx.ws.touchedCount;
    for (const f of fc.features) for (const p of f.geometry.coordinates) for (const ring of p) vertices += ring.length;
  }
  const n = total.length;
  return {
    n,
    notSnapped,
    meanReached: reached / n,
    meanVertices: vertices / n,
    total: summarize(total),
    snap: summarize(tSnap),
    search: summarize(tSearch),
    contour: summarize(tContour),
  };
}

// ---------------------------------------------------------------- CLI

const fmt = (ms: number): string => `${ms.toFixed(3)} ms`;

export function printHeapComparison(h: HeapComparison): void {
  console.log(
    `${h.name}: ${h.searches} searches, mean reached ${h.meanReached.toFixed(0)} nodes\n` +
      `  lazy heap     p50 ${fmt(h.lazy.p50)}  p99 ${fmt(h.lazy.p99)}  mean ${fmt(h.lazy.mean)}\n` +
      `  indexed heap  p50 ${fmt(h.indexed.p50)}  p99 ${fmt(h.indexed.p99)}  mean ${fmt(h.indexed.mean)}`,
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const gi = args.indexOf('--grid-nodes');
  const gridNodes = gi >= 0 ? Number(args[gi + 1]) : 1_000_000;
  const file = args.find((a, i) => !a.startsWith('--') && (gi < 0 || i !== gi + 1)) ?? 'data/krems/krems.osm.pbf';
  const name = file.replace(/^.*\//, '').replace(/\.osm\.pbf$|\.quarter$/, '');

  let t0 = performance.now();
  const region = file.endsWith('.quarter') ? readRegion(file) : await importRegion(file);
  const g = region.graph;
  let comp0 = 0;
  for (let u = 0; u < g.nodeCount; u++) if (g.nodeComponent[u] === 0) comp0++;
  console.log(`${file}: ${g.nodeCount} nodes, ${g.edgeCount} edges, largest component ${comp0} nodes; loaded in ${(performance.now() - t0).toFixed(0)} ms`);

  console.log('\n== heap variants (single source, default walking profile) ==');
  let grid: { name: string; graph: WalkGraph } | undefined;
  if (gridNodes > 0) {
    t0 = performance.now();
    grid = { name: `grid ${gridNodes}`, graph: buildWalkGraph(generateGridNetwork(gridNodes, 1)) };
    console.log(`grid: ${grid.graph.nodeCount} nodes, ${grid.graph.edgeCount} edges (${(performance.now() - t0).toFixed(0)} ms)`);
  }
  for (const h of heapComparisons(name, region, grid)) printHeapComparison(h);

  console.log(`\n== isochrones on ${name}: 1,000 random positions on the network, 5/10/15 min, 20 m cells, 60 m off-road ==`);
  const b = isochroneBreakdown(createRoutingContext(region));
  console.log(
    `  ${b.n} isochrones (${b.notSnapped} origins not snapped), mean ${b.meanReached.toFixed(0)} nodes reached, ` +
      `mean ${b.meanVertices.toFixed(0)} vertices per result\n` +
      `  total (snap+search+contour)  p50 ${fmt(b.total.p50)}  p99 ${fmt(b.total.p99)}  max ${fmt(b.total.max)}\n` +
      `  snap                         p50 ${fmt(b.snap.p50)}  p99 ${fmt(b.snap.p99)}\n` +
      `  Dijkstra (900 s)             p50 ${fmt(b.search.p50)}  p99 ${fmt(b.search.p99)}\n` +
      `  isochrone (grid+contours)    p50 ${fmt(b.contour.p50)}  p99 ${fmt(b.contour.p99)}`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
