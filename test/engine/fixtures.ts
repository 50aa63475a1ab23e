/**
 * Hand-made walk graphs for the engine tests, written independently of src/engine/geo.ts:
 * nodes are given in metres east/north of (LON0, LAT0) and converted with a plain spherical
 * equirectangular formula; edge lengths are great-circle sums computed here.
 */
import { buildWalkGraph, EDGE_FLAG_STEPS, type WalkGraph } from '../../src/engine/graph.js';
import type { WalkingProfile } from '../../src/engine/profile.js';

export const LON0 = 16.0;
export const LAT0 = 48.0;
const R = 6371008.8;
const RAD = Math.PI / 180;
const KY = R * RAD;
const KX = KY * Math.cos(LAT0 * RAD);

export const toLon = (x: number): number => LON0 + x / KX;
export const toLat = (y: number): number => LAT0 + y / KY;
/** metres east/north of (LON0, LAT0). */
export const toX = (lon: number): number => (lon - LON0) * KX;
export const toY = (lat: number): number => (lat - LAT0) * KY;

export function greatCircle(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const a =
    Math.sin(((lat2 - lat1) * RAD) / 2) ** 2 +
    Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(((lon2 - lon1) * RAD) / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(a));
}

export interface EdgeSpec {
  a: number;
  b: number;
  /** intermediate geometry points, metres. */
  via?: [number, number][];
  steps?: boolean;
  /** override the geometric length (metres). */
  length?: number;
}

/** Build a graph from node positions (metres) and edges. */
export function makeGraph(nodes: readonly [number, number][], edges: readonly EdgeSpec[]): WalkGraph {
  const nodeCoords = new Float64Array(2 * nodes.length);
  nodes.forEach(([x, y], i) => {
    nodeCoords[2 * i] = toLon(x);
    nodeCoords[2 * i + 1] = toLat(y);
  });
  const geomOffsets = new Int32Array(edges.length + 1);
  const pts: number[] = [];
  const edgeLength = new Float32Array(edges.length);
  edges.forEach((e, i) => {
    geomOffsets[i] = pts.length / 2;
    const line: [number, number][] = [nodes[e.a], ...(e.via ?? []), nodes[e.b]];
    let len = 0;
    for (let k = 0; k < line.length; k++) {
      pts.push(toLon(line[k][0]), toLat(line[k][1]));
      if (k > 0) len += greatCircle(toLon(line[k - 1][0]), toLat(line[k - 1][1]), toLon(line[k][0]), toLat(line[k][1]));
    }
    edgeLength[i] = e.length ?? len;
  });
  geomOffsets[edges.length] = pts.length / 2;
  return buildWalkGraph({
    nodeCoords,
    nodeOsmIds: Float64Array.from(nodes, (_, i) => 1000 + i),
    edgeFrom: Int32Array.from(edges, (e) => e.a),
    edgeTo: Int32Array.from(edges, (e) => e.b),
    edgeLength,
    edgeWayId: Float64Array.from(edges, (_, i) => 1 + i),
    edgeClass: new Uint8Array(edges.length),
    edgeFlags: Uint8Array.from(edges, (e) => (e.steps ? EDGE_FLAG_STEPS : 0)),
    geomOffsets,
    geomCoords: Float64Array.from(pts),
  });
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A w×h street grid, spacing metres apart, nodes jittered, some edges bent (one via point),
 * some steps, and a fraction of edges removed. Lengths follow the geometry.
 */
export function randomGrid(
  w: number,
  h: number,
  spacing: number,
  seed: number,
  opts: { removeFraction?: number; stepsFraction?: number; bendFraction?: number } = {},
): { graph: WalkGraph; nodes: [number, number][]; edges: EdgeSpec[] } {
  const r = rng(seed);
  const nodes: [number, number][] = [];
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      nodes.push([i * spacing + (r() - 0.5) * spacing * 0.4, j * spacing + (r() - 0.5) * spacing * 0.4]);
    }
  }
  const edges: EdgeSpec[] = [];
  const add = (a: number, b: number): void => {
    if (r() < (opts.removeFraction ?? 0.1)) return;
    const e: EdgeSpec = { a, b };
    if (r() < (opts.bendFraction ?? 0.3)) {
      const [ax, ay] = nodes[a];
      const [bx, by] = nodes[b];
      e.via = [[(ax + bx) / 2 + (r() - 0.5) * spacing * 0.5, (ay + by) / 2 + (r() - 0.5) * spacing * 0.5]];
    }
    if (r() < (opts.stepsFraction ?? 0.05)) e.steps = true;
    edges.push(e);
  };
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const u = j * w + i;
      if (i + 1 < w) add(u, u + 1);
      if (j + 1 < h) add(u, u + w);
    }
  }
  return { graph: makeGraph(nodes, edges), nodes, edges };
}

export const TEST_PROFILE: WalkingProfile = {
  id: 'test',
  name: { 'zh-CN': '测试', en: 'test' },
  speedMps: 1,
  stepsFactor: 2,
  rationale: 'round numbers for hand computation',
};

/** Seconds per edge computed plainly in float64 (independent of profile.ts). */
export function refEdgeSeconds(g: WalkGraph, speed: number, stepsFactor: number): Float64Array {
  const out = new Float64Array(g.edgeCount);
  for (let e = 0; e < g.edgeCount; e++) {
    out[e] = (g.edgeLength[e] / speed) * (g.edgeFlags[e] & EDGE_FLAG_STEPS ? stepsFactor : 1);
  }
  return out;
}

/** Bellman-Ford from seeds over the undirected edge list: plain, O(n·m). */
export function bellmanFord(
  g: WalkGraph,
  edgeSec: Float64Array,
  seedNodes: ArrayLike<number>,
  seedSeconds: ArrayLike<number>,
): Float64Array {
  const d = new Float64Array(g.nodeCount).fill(Infinity);
  for (let i = 0; i < seedNodes.length; i++) d[seedNodes[i]] = Math.min(d[seedNodes[i]], seedSeconds[i]);
  for (let round = 0; round < g.nodeCount; round++) {
    let changed = false;
    for (let e = 0; e < g.edgeCount; e++) {
      const a = g.edgeFrom[e];
      const b = g.edgeTo[e];
      if (d[a] + edgeSec[e] < d[b]) {
        d[b] = d[a] + edgeSec[e];
        changed = true;
      }
      if (d[b] + edgeSec[e] < d[a]) {
        d[a] = d[b] + edgeSec[e];
        changed = true;
      }
    }
    if (!changed) break;
  }
  return d;
}

/** All-pairs shortest times (Floyd–Warshall), row-major n×n. */
export function floydWarshall(g: WalkGraph, edgeSec: Float64Array): Float64Array {
  const n = g.nodeCount;
  const d = new Float64Array(n * n).fill(Infinity);
  for (let i = 0; i < n; i++) d[i * n + i] = 0;
  for (let e = 0; e < g.edgeCount; e++) {
    const a = g.edgeFrom[e];
    const b = g.edgeTo[e];
    d[a * n + b] = Math.min(d[a * n + b], edgeSec[e]);
    d[b * n + a] = Math.min(d[b * n + a], edgeSec[e]);
  }
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      const dik = d[i * n + k];
      if (dik === Infinity) continue;
      for (let j = 0; j < n; j++) {
        const v = dik + d[k * n + j];
        if (v < d[i * n + j]) d[i * n + j] = v;
      }
    }
  }
  return d;
}

/** Even-odd point-in-MultiPolygon (all rings), lon/lat. */
export function inMultiPolygon(coords: number[][][][], lon: number, lat: number): boolean {
  let inside = false;
  for (const poly of coords) {
    for (const ring of poly) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
  }
  return inside;
}

/** Signed area (shoelace, lon/lat units): > 0 counter-clockwise. */
export function signedArea(ring: number[][]): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return a / 2;
}
