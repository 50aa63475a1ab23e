/**
 * Synthetic walking networks for benchmarks: a jittered, irregular square lattice around
 * Xuhui, Shanghai (lon 121.43, lat 31.18) with ~10 % of street segments missing and a few
 * diagonal cut-throughs. Deterministic from the seed; typed arrays only (1M nodes in ~1 s).
 *
 * Not a model of any real place: it only has the size, degree distribution (mostly 3–4,
 * some 1–2 and 5–6), edge lengths (60–170 m) and near-connectivity of a dense city grid.
 */
import type { EdgeList, WalkGraph } from '../src/engine/graph.js';

/** Small, fast, deterministic PRNG (mulberry32). Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mean Earth radius (IUGG), metres. */
const EARTH_R = 6371008.8;
const DEG = Math.PI / 180;

/** Great-circle distance in metres. */
export function haversineM(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const dLat = (lat2 - lat1) * DEG;
  const dLon = (lon2 - lon1) * DEG;
  const s1 = Math.sin(dLat / 2);
  const s2 = Math.sin(dLon / 2);
  const h = s1 * s1 + Math.cos(lat1 * DEG) * Math.cos(lat2 * DEG) * s2 * s2;
  return 2 * EARTH_R * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface GridOptions {
  /** centre of the lattice, default 121.43, 31.18. */
  centerLon?: number;
  centerLat?: number;
  /** block spacing range in metres (each row / column gap drawn uniformly), default 80..120. */
  minSpacingM?: number;
  maxSpacingM?: number;
  /** node jitter, ± metres on each axis, default 12. */
  jitterM?: number;
  /** probability that a lattice edge is dropped (never isolating a node), default 0.10. */
  removeFraction?: number;
  /** probability that a block gets a diagonal cut-through, default 0.05. */
  diagonalFraction?: number;
}

/**
 * A grid-like walking network of exactly `targetNodes` nodes (row-major, last row partial).
 * Edges: lattice neighbours minus ~removeFraction (an edge is only dropped while both ends
 * keep degree ≥ 1, so no node becomes isolated; a handful of tiny islands can still occur),
 * plus diagonals. Each edge is a straight 2-point polyline from edgeFrom to edgeTo; length =
 * haversine of the endpoints; class 0, flags 0. Way ids: one per row street, one per column
 * street, one per diagonal. nodeOsmIds = 1..n.
 */
export function generateGridNetwork(targetNodes: number, seed: number, opts: GridOptions = {}): EdgeList {
  const n = Math.floor(targetNodes);
  if (!(n >= 2)) throw new Error(`generateGridNetwork: targetNodes must be ≥ 2 (got ${targetNodes})`);
  const lon0 = opts.centerLon ?? 121.43;
  const lat0 = opts.centerLat ?? 31.18;
  const sMin = opts.minSpacingM ?? 80;
  const sMax = opts.maxSpacingM ?? 120;
  const jitter = opts.jitterM ?? 12;
  const pRemove = opts.removeFraction ?? 0.1;
  const pDiag = opts.diagonalFraction ?? 0.05;
  const rnd = mulberry32(seed);

  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const exists = (r: number, c: number) => r * cols + c < n;

  // Irregular street spacing: cumulative offsets of columns (x) and rows (y), centred.
  const colX = new Float64Array(cols);
  const rowY = new Float64Array(rows);
  for (let c = 1; c < cols; c++) colX[c] = colX[c - 1] + sMin + (sMax - sMin) * rnd();
  for (let r = 1; r < rows; r++) rowY[r] = rowY[r - 1] + sMin + (sMax - sMin) * rnd();
  const midX = colX[cols - 1] / 2;
  const midY = rowY[rows - 1] / 2;
  const mPerDegLat = EARTH_R * DEG;
  const mPerDegLon = mPerDegLat * Math.cos(lat0 * DEG);

  const nodeCoords = new Float64Array(2 * n);
  const nodeOsmIds = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = (i / cols) | 0;
    const c = i - r * cols;
    const x = colX[c] - midX + (2 * rnd() - 1) * jitter;
    const y = rowY[r] - midY + (2 * rnd() - 1) * jitter;
    nodeCoords[2 * i] = lon0 + x / mPerDegLon;
    nodeCoords[2 * i + 1] = lat0 + y / mPerDegLat;
    nodeOsmIds[i] = i + 1;
  }

  // Lattice degree, so removal can avoid isolating nodes.
  const deg = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = (i / cols) | 0;
    const c = i - r * cols;
    if (c + 1 < cols && exists(r, c + 1)) (deg[i]++, deg[i + 1]++);
    if (exists(r + 1, c)) (deg[i]++, deg[i + cols]++);
  }

  const maxEdges = 2 * n + rows * cols; // lattice (< 2n) + at most one diagonal per block
  const from = new Int32Array(maxEdges);
  const to = new Int32Array(maxEdges);
  const way = new Float64Array(maxEdges);
  let m = 0;
  const tryLattice = (a: number, b: number, wayId: number) => {
    if (rnd() < pRemove && deg[a] > 1 && deg[b] > 1) {
      deg[a]--;
      deg[b]--;
      return;
    }
    from[m] = a;
    to[m] = b;
    way[m++] = wayId;
  };
  // Row streets (way id r+1), column streets (rows+c+1), diagonals (rows+cols+1+k).
  for (let i = 0; i < n; i++) {
    const r = (i / cols) | 0;
    const c = i - r * cols;
    if (c + 1 < cols && exists(r, c + 1)) tryLattice(i, i + 1, r + 1);
    if (exists(r + 1, c)) tryLattice(i, i + cols, rows + c + 1);
  }
  let diagWay = rows + cols + 1;
  for (let r = 0; r + 1 < rows; r++) {
    for (let c = 0; c + 1 < cols; c++) {
      if (!exists(r + 1, c + 1)) continue;
      if (rnd() >= pDiag) continue;
      const i = r * cols + c;
      if (rnd() < 0.5) {
        from[m] = i;
        to[m] = i + cols + 1;
      } else {
        from[m] = i + 1;
        to[m] = i + cols;
      }
      way[m++] = diagWay++;
    }
  }

  const edgeFrom = from.slice(0, m);
  const edgeTo = to.slice(0, m);
  const edgeWayId = way.slice(0, m);
  const edgeLength = new Float32Array(m);
  const geomOffsets = new Int32Array(m + 1);
  const geomCoords = new Float64Array(4 * m);
  for (let e = 0; e < m; e++) {
    const a = edgeFrom[e];
    const b = edgeTo[e];
    const ax = nodeCoords[2 * a];
    const ay = nodeCoords[2 * a + 1];
    const bx = nodeCoords[2 * b];
    const by = nodeCoords[2 * b + 1];
    geomOffsets[e + 1] = 2 * (e + 1);
    geomCoords[4 * e] = ax;
    geomCoords[4 * e + 1] = ay;
    geomCoords[4 * e + 2] = bx;
    geomCoords[4 * e + 3] = by;
    edgeLength[e] = haversineM(ax, ay, bx, by);
  }
  return {
    nodeCoords,
    nodeOsmIds,
    edgeFrom,
    edgeTo,
    edgeLength,
    edgeWayId,
    edgeClass: new Uint8Array(m),
    edgeFlags: new Uint8Array(m),
    geomOffsets,
    geomCoords,
  };
}

/**
 * `count` distinct node indices drawn uniformly from the largest component (component 0),
 * in draw order — facility positions that can always reach most of the graph.
 */
export function randomFacilitySeeds(graph: WalkGraph, count: number, seed: number): Int32Array {
  let pool = 0;
  for (let u = 0; u < graph.nodeCount; u++) if (graph.nodeComponent[u] === 0) pool++;
  if (count > pool) {
    throw new Error(`randomFacilitySeeds: asked for ${count} seeds but the largest component has ${pool} nodes`);
  }
  const rnd = mulberry32(seed ^ 0x5eed5eed);
  const taken = new Uint8Array(graph.nodeCount);
  const out = new Int32Array(count);
  let k = 0;
  while (k < count) {
    const u = Math.floor(rnd() * graph.nodeCount);
    if (taken[u] || graph.nodeComponent[u] !== 0) continue;
    taken[u] = 1;
    out[k++] = u;
  }
  return out;
}
