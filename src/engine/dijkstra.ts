/**
 * Bounded, multi-source Dijkstra over the CSR arc arrays.
 *
 * A DijkstraWorkspace is allocated once per graph (and per thread) and reused: each search
 * records the nodes it reaches in `touched`, and the next search resets only those, so a
 * bounded 15-minute search costs what it touches, not what the city has.
 *
 * Heap: a binary min-heap in typed arrays with lazy deletion (an improved node is pushed
 * again; stale entries are skipped when popped). bench/engine-isochrone.ts compares it with
 * an indexed decrease-key heap: the lazy heap won on Krems (full search 0.096 vs 0.105 ms
 * p50) and on a 1M-node grid (full search 229 vs 281 ms p50), and tied on bounded searches.
 */
import type { WalkGraph } from './graph.js';
import { writeSnapSeeds, type Snap } from './snap.js';

export class DijkstraWorkspace {
  readonly nodeCount: number;
  /** seconds from the nearest seed; Infinity if not reached (within the bound). */
  readonly dist: Float64Array;
  /** label of the seed that reached the node first (seed index by default); -1 if not reached. */
  readonly label: Int32Array;
  /** nodes reached by the last search: touched[0 .. touchedCount-1]. */
  readonly touched: Int32Array;
  touchedCount = 0;
  /** heap entries: keys (seconds) and nodes; grows on demand and is kept. */
  heapKey: Float64Array;
  heapNode: Int32Array;

  constructor(nodeCount: number) {
    this.nodeCount = nodeCount;
    this.dist = new Float64Array(nodeCount).fill(Infinity);
    this.label = new Int32Array(nodeCount).fill(-1);
    this.touched = new Int32Array(nodeCount);
    const cap = Math.max(16, Math.min(nodeCount, 1 << 16));
    this.heapKey = new Float64Array(cap);
    this.heapNode = new Int32Array(cap);
  }

  /** Forget the last search (costs only what it touched). */
  reset(): void {
    const { dist, label, touched } = this;
    for (let i = 0; i < this.touchedCount; i++) {
      const u = touched[i];
      dist[u] = Infinity;
      label[u] = -1;
    }
    this.touchedCount = 0;
  }

  /** Double the heap's capacity, keeping its first `size` entries. */
  growHeap(size: number): void {
    const cap = this.heapKey.length * 2;
    const k = new Float64Array(cap);
    const n = new Int32Array(cap);
    k.set(this.heapKey.subarray(0, size));
    n.set(this.heapNode.subarray(0, size));
    this.heapKey = k;
    this.heapNode = n;
  }
}

/** Push (key, node) on the workspace heap of the given size; returns the new size. */
function heapPush(ws: DijkstraWorkspace, size: number, key: number, node: number): number {
  if (size === ws.heapKey.length) ws.growHeap(size);
  const keys = ws.heapKey;
  const nodes = ws.heapNode;
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const pk = keys[parent];
    if (pk <= key) break;
    keys[i] = pk;
    nodes[i] = nodes[parent];
    i = parent;
  }
  keys[i] = key;
  nodes[i] = node;
  return size + 1;
}

/**
 * Multi-source search, bounded by time. Seed i starts node seedNodes[i] at seedSeconds[i]
 * with label seedLabels?.[i] ?? i (seeds above maxSeconds are ignored; a node seeded twice
 * keeps the smaller time). Afterwards ws.dist[u] ≤ maxSeconds is the exact shortest time
 * from any seed for every node within the bound (Infinity otherwise), ws.label[u] names the
 * seed that reached it, and ws.touched lists the reached nodes.
 */
export function runDijkstra(
  g: WalkGraph,
  arcSec: Float32Array,
  ws: DijkstraWorkspace,
  seedNodes: Int32Array,
  seedSeconds: Float64Array,
  maxSeconds = Infinity,
  seedLabels?: Int32Array,
): void {
  if (ws.nodeCount !== g.nodeCount) {
    throw new Error(`DijkstraWorkspace is for ${ws.nodeCount} nodes, graph has ${g.nodeCount}`);
  }
  ws.reset();
  const dist = ws.dist;
  const label = ws.label;
  const touched = ws.touched;
  const offsets = g.arcOffsets;
  const targets = g.arcTarget;
  let tc = 0;
  let size = 0;

  for (let i = 0; i < seedNodes.length; i++) {
    const s = seedNodes[i];
    const t = seedSeconds[i];
    if (!(t <= maxSeconds) || !(t >= 0)) continue;
    if (t < dist[s]) {
      if (dist[s] === Infinity) touched[tc++] = s;
      dist[s] = t;
      label[s] = seedLabels ? seedLabels[i] : i;
      size = heapPush(ws, size, t, s);
    }
  }

  let keys = ws.heapKey;
  let nodes = ws.heapNode;
  while (size > 0) {
    // pop the root
    const d = keys[0];
    const u = nodes[0];
    size--;
    if (size > 0) {
      const lastKey = keys[size];
      const lastNode = nodes[size];
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= size) break;
        const r = c + 1;
        if (r < size && keys[r] < keys[c]) c = r;
        const ck = keys[c];
        if (ck >= lastKey) break;
        keys[i] = ck;
        nodes[i] = nodes[c];
        i = c;
      }
      keys[i] = lastKey;
      nodes[i] = lastNode;
    }
    if (d > dist[u]) continue; // stale entry

    const lu = label[u];
    const end = offsets[u + 1];
    for (let a = offsets[u]; a < end; a++) {
      const v = targets[a];
      const nd = d + arcSec[a];
      if (nd < dist[v] && nd <= maxSeconds) {
        if (dist[v] === Infinity) touched[tc++] = v;
        dist[v] = nd;
        label[v] = lu;
        size = heapPush(ws, size, nd, v);
        keys = ws.heapKey;
        nodes = ws.heapNode;
      }
    }
  }
  ws.touchedCount = tc;
}

/**
 * One search on a throwaway workspace (or the given one); returns fresh copies of the
 * times and labels for all nodes.
 */
export function nearestTimes(
  g: WalkGraph,
  arcSec: Float32Array,
  seedNodes: Int32Array,
  seedSeconds: Float64Array,
  maxSeconds = Infinity,
  seedLabels?: Int32Array,
  ws?: DijkstraWorkspace,
): { dist: Float64Array; label: Int32Array } {
  const w = ws ?? new DijkstraWorkspace(g.nodeCount);
  runDijkstra(g, arcSec, w, seedNodes, seedSeconds, maxSeconds, seedLabels);
  return { dist: w.dist.slice(), label: w.label.slice() };
}

/**
 * Seconds from the search origin(s) of ws to a snapped point: the better of the two edge
 * ends plus the partial edge, plus the access leg. If an origin snap lies on the same edge,
 * the direct walk along the edge (|offset difference|) is considered too, exactly.
 * Exact whenever the result is within the search's bound; otherwise the result is above the
 * bound (possibly Infinity).
 */
export function timeToSnap(
  ws: DijkstraWorkspace,
  snap: Snap,
  g: WalkGraph,
  edgeSec: Float32Array,
  speedMps: number,
  origin?: Snap | readonly Snap[],
): number {
  const e = snap.edge;
  const len = g.edgeLength[e];
  const es = edgeSec[e];
  const f = len > 0 ? Math.min(1, Math.max(0, snap.offset / len)) : 0;
  let best = Math.min(ws.dist[g.edgeFrom[e]] + f * es, ws.dist[g.edgeTo[e]] + (1 - f) * es);
  if (origin !== undefined) {
    const list: readonly Snap[] = Array.isArray(origin) ? (origin as readonly Snap[]) : [origin as Snap];
    for (const o of list) {
      if (o.edge !== e) continue;
      const fo = len > 0 ? Math.min(1, Math.max(0, o.offset / len)) : 0;
      const direct = o.distance / speedMps + Math.abs(f - fo) * es;
      if (direct < best) best = direct;
    }
  }
  return best + snap.distance / speedMps;
}

export interface CountWithinOptions {
  /** seconds per edge (edgeSeconds), for the partial edge at each target. */
  edgeSec: Float32Array;
  /** walking speed for the access legs. */
  speedMps: number;
  /** workspace to reuse. */
  ws?: DijkstraWorkspace;
}

/**
 * For every node, how many targets are reachable within maxSeconds (walking is symmetric,
 * so one bounded search from each target; counts saturate at 65535). Null targets are skipped.
 */
export function countWithin(
  g: WalkGraph,
  arcSec: Float32Array,
  targets: readonly (Snap | null)[],
  maxSeconds: number,
  opts: CountWithinOptions,
): Uint16Array {
  const counts = new Uint16Array(g.nodeCount);
  const ws = opts.ws ?? new DijkstraWorkspace(g.nodeCount);
  const nodes = new Int32Array(2);
  const seconds = new Float64Array(2);
  for (const t of targets) {
    if (!t) continue;
    writeSnapSeeds(t, opts.edgeSec, g, opts.speedMps, nodes, seconds, 0);
    runDijkstra(g, arcSec, ws, nodes, seconds, maxSeconds);
    const touched = ws.touched;
    for (let i = 0; i < ws.touchedCount; i++) {
      const u = touched[i];
      if (counts[u] !== 65535) counts[u]++;
    }
  }
  return counts;
}
