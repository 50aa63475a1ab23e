/**
 * Snapping points onto the walk network: the nearest *position on an edge* (not the nearest
 * node), found with a Flatbush index over every geometry segment.
 *
 * A point farther than the limit (default 300 m) from every walkable edge is never snapped:
 * `snapPoint` returns null.
 */
import Flatbush from 'flatbush';
import { haversineMetres, metresPerDegLon, METRES_PER_DEG_LAT } from './geo.js';
import type { WalkGraph } from './graph.js';

/** A point's place on the network. */
export interface Snap {
  /** edge index. */
  edge: number;
  /** metres from edgeFrom along the edge, in [0, edgeLength[edge]]. */
  offset: number;
  /** metres of the straight access leg from the point to the edge. */
  distance: number;
  /** the projected point on the edge (WGS-84). */
  lon: number;
  lat: number;
}

export interface SnapOptions {
  /** only snap to edges whose nodes are in this connected component (0 = the largest). */
  component?: number;
}

/** Two seeds (one per edge end) for a search that starts at a snapped point. */
export interface SnapSeeds {
  nodes: Int32Array;
  seconds: Float64Array;
}

/** First radius tried (metres); grows ×4 up to the caller's limit when nothing is that close. */
const FIRST_RADIUS_M = 40;

/**
 * Spatial index of a graph's edge geometry.
 *
 * Segment s runs from geometry point segStart[s] to segStart[s] + 1 of edge segEdge[s].
 * pointMetres[p] is the distance along its edge from edgeFrom to geometry point p, scaled so
 * that the last point of edge e sits exactly at edgeLength[e] (offsets agree with the
 * lengths the costs were computed from).
 */
export class SnapIndex {
  readonly graph: WalkGraph;
  /** null when the graph has no segments. */
  readonly tree: Flatbush | null;
  readonly segEdge: Int32Array;
  readonly segStart: Int32Array;
  readonly pointMetres: Float64Array;

  // Query state, read by the filter below (one bound closure per index, no per-query objects).
  private qLon = 0;
  private qLat = 0;
  private qKx = 1;
  private qKy = 1;
  private qComponent = -1;
  private bestD2 = Infinity;
  private bestSeg = -1;
  private bestT = 0;
  private readonly visit: (seg: number) => boolean;

  constructor(g: WalkGraph) {
    this.graph = g;
    const go = g.geomOffsets;
    const gc = g.geomCoords;
    const pointCount = gc.length >> 1;
    const pointMetres = new Float64Array(pointCount);
    let segCount = 0;
    for (let e = 0; e < g.edgeCount; e++) {
      const first = go[e];
      const last = go[e + 1] - 1;
      if (last > first) segCount += last - first;
      let m = 0;
      pointMetres[first] = 0;
      for (let p = first; p < last; p++) {
        m += haversineMetres(gc[2 * p], gc[2 * p + 1], gc[2 * p + 2], gc[2 * p + 3]);
        pointMetres[p + 1] = m;
      }
      const len = g.edgeLength[e];
      if (last > first) {
        if (m > 0) {
          const k = len / m;
          for (let p = first + 1; p <= last; p++) pointMetres[p] *= k;
        } else {
          // all points coincide: spread the stated length evenly
          for (let p = first + 1; p <= last; p++) pointMetres[p] = (len * (p - first)) / (last - first);
        }
        pointMetres[last] = len;
      }
    }
    this.pointMetres = pointMetres;
    this.segEdge = new Int32Array(segCount);
    this.segStart = new Int32Array(segCount);
    if (segCount === 0) {
      this.tree = null;
    } else {
      const tree = new Flatbush(segCount);
      let s = 0;
      for (let e = 0; e < g.edgeCount; e++) {
        for (let p = go[e]; p < go[e + 1] - 1; p++) {
          const x0 = gc[2 * p];
          const y0 = gc[2 * p + 1];
          const x1 = gc[2 * p + 2];
          const y1 = gc[2 * p + 3];
          tree.add(Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1));
          this.segEdge[s] = e;
          this.segStart[s] = p;
          s++;
        }
      }
      tree.finish();
      this.tree = tree;
    }
    this.visit = (seg: number): boolean => {
      this.consider(seg);
      return false; // never collect: the best candidate is tracked in the index's state
    };
  }

  /** Project the query point onto segment seg in the local metric; keep it if nearest so far. */
  private consider(seg: number): void {
    const e = this.segEdge[seg];
    const g = this.graph;
    if (this.qComponent >= 0 && g.nodeComponent[g.edgeFrom[e]] !== this.qComponent) return;
    const gc = g.geomCoords;
    const p = this.segStart[seg];
    const kx = this.qKx;
    const ky = this.qKy;
    const ax = (gc[2 * p] - this.qLon) * kx;
    const ay = (gc[2 * p + 1] - this.qLat) * ky;
    const dx = (gc[2 * p + 2] - this.qLon) * kx - ax;
    const dy = (gc[2 * p + 3] - this.qLat) * ky - ay;
    const l2 = dx * dx + dy * dy;
    let t = l2 > 0 ? -(ax * dx + ay * dy) / l2 : 0;
    if (t < 0) t = 0;
    else if (t > 1) t = 1;
    const px = ax + t * dx;
    const py = ay + t * dy;
    const d2 = px * px + py * py;
    if (d2 < this.bestD2 || (d2 === this.bestD2 && seg < this.bestSeg)) {
      this.bestD2 = d2;
      this.bestSeg = seg;
      this.bestT = t;
    }
  }

  /** Internal: nearest segment within maxMetres; see snapPoint. */
  nearest(lon: number, lat: number, maxMetres: number, component: number): Snap | null {
    const tree = this.tree;
    if (tree === null || !(maxMetres >= 0) || !Number.isFinite(lon) || !Number.isFinite(lat)) return null;
    this.qLon = lon;
    this.qLat = lat;
    this.qKy = METRES_PER_DEG_LAT;
    this.qKx = metresPerDegLon(lat);
    this.qComponent = component;
    // Every segment within r metres (local metric, kx ≤ ky) lies within r / kx degrees in the
    // plain lon/lat plane that Flatbush measures, so r / kx is a conservative search radius.
    const kMin = Math.min(this.qKx, this.qKy);
    let r = Math.min(maxMetres, FIRST_RADIUS_M);
    for (;;) {
      this.bestD2 = Infinity;
      this.bestSeg = -1;
      tree.neighbors(lon, lat, Infinity, (r / kMin) * (1 + 1e-9) + 1e-12, this.visit);
      if (this.bestSeg >= 0 && this.bestD2 <= r * r) break;
      if (r >= maxMetres) return null;
      r = Math.min(maxMetres, r * 4);
    }
    const seg = this.bestSeg;
    const t = this.bestT;
    const p = this.segStart[seg];
    const gc = this.graph.geomCoords;
    const pm = this.pointMetres;
    const edge = this.segEdge[seg];
    let offset = pm[p] + t * (pm[p + 1] - pm[p]);
    const len = this.graph.edgeLength[edge];
    if (offset > len) offset = len;
    return {
      edge,
      offset,
      distance: Math.sqrt(this.bestD2),
      lon: gc[2 * p] + t * (gc[2 * p + 2] - gc[2 * p]),
      lat: gc[2 * p + 1] + t * (gc[2 * p + 3] - gc[2 * p + 1]),
    };
  }
}

/** Build the segment index (O(points log points); ~ms for a town, reuse it). */
export function buildSnapIndex(g: WalkGraph): SnapIndex {
  return new SnapIndex(g);
}

/** Snap indexes by graph: graphs are immutable, and building one costs more than many snaps. */
const INDEXES = new WeakMap<WalkGraph, SnapIndex>();

/** The graph's snap index, built on first use and kept as long as the graph lives. */
export function snapIndexFor(g: WalkGraph): SnapIndex {
  let idx = INDEXES.get(g);
  if (!idx) INDEXES.set(g, (idx = buildSnapIndex(g)));
  return idx;
}

/**
 * Nearest position on the nearest walkable edge, or null if no edge is within maxMetres.
 * Distances use a local equirectangular metric about the query point.
 */
export function snapPoint(
  idx: SnapIndex,
  lon: number,
  lat: number,
  maxMetres = 300,
  opts?: SnapOptions,
): Snap | null {
  return idx.nearest(lon, lat, maxMetres, opts?.component ?? -1);
}

/**
 * Write the two seeds of a snap into nodes/seconds at positions at and at + 1:
 * from-node: access/speed + offset/len·edgeSec; to-node: access/speed + (1 − offset/len)·edgeSec.
 */
export function writeSnapSeeds(
  snap: Snap,
  edgeSec: Float32Array,
  g: WalkGraph,
  speedMps: number,
  nodes: Int32Array,
  seconds: Float64Array,
  at: number,
): void {
  const e = snap.edge;
  const len = g.edgeLength[e];
  const f = len > 0 ? Math.min(1, Math.max(0, snap.offset / len)) : 0;
  const access = snap.distance / speedMps;
  const es = edgeSec[e];
  nodes[at] = g.edgeFrom[e];
  seconds[at] = access + f * es;
  nodes[at + 1] = g.edgeTo[e];
  seconds[at + 1] = access + (1 - f) * es;
}

/** The two (node, seconds) seeds for a search starting (or ending) at a snapped point. */
export function snapToSources(snap: Snap, edgeSec: Float32Array, g: WalkGraph, speedMps: number): SnapSeeds {
  const nodes = new Int32Array(2);
  const seconds = new Float64Array(2);
  writeSnapSeeds(snap, edgeSec, g, speedMps, nodes, seconds, 0);
  return { nodes, seconds };
}

/**
 * Seeds for a multi-source search from many snapped points (null entries are skipped):
 * two seeds per snap, labelled with the snap's index in the input (or labels[i] if given).
 */
export function snapsToSources(
  snaps: readonly (Snap | null)[],
  edgeSec: Float32Array,
  g: WalkGraph,
  speedMps: number,
  labels?: ArrayLike<number>,
): SnapSeeds & { labels: Int32Array } {
  let n = 0;
  for (const s of snaps) if (s) n++;
  const nodes = new Int32Array(2 * n);
  const seconds = new Float64Array(2 * n);
  const out = new Int32Array(2 * n);
  let k = 0;
  for (let i = 0; i < snaps.length; i++) {
    const s = snaps[i];
    if (!s) continue;
    writeSnapSeeds(s, edgeSec, g, speedMps, nodes, seconds, k);
    out[k] = out[k + 1] = labels ? labels[i] : i;
    k += 2;
  }
  return { nodes, seconds, labels: out };
}

/**
 * A point prefers the main network: an island (a detached footway, a courtyard path) is used
 * only when it is clearly nearer — more than this many metres nearer than the main network.
 */
export const ISLAND_PREFERENCE_METRES = 30;

/** Snap a point, preferring the main component (see ISLAND_PREFERENCE_METRES). */
export function snapPreferMain(index: SnapIndex, lon: number, lat: number, maxMetres = 300): Snap | null {
  const any = snapPoint(index, lon, lat, maxMetres);
  if (!any) return null;
  const g = index.graph;
  if (g.nodeComponent[g.edgeFrom[any.edge]] === 0) return any;
  const main = snapPoint(index, lon, lat, Math.min(maxMetres, any.distance + ISLAND_PREFERENCE_METRES), { component: 0 });
  return main ?? any;
}
