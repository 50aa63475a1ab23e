/**
 * Raster isochrones (the method of GOAT's "heatmap" isochrones):
 *
 *  1. every reached edge — including partial edges (one end reached, the budget runs out
 *     along it) and the origin's own edge when the origin is mid-edge — is sampled along its
 *     geometry every ≤ cellMetres/2 with the travel time there;
 *  2. each sample writes into every grid cell (local metric grid) within offroadMetres the
 *     value time + offroad distance / speed, keeping the minimum;
 *  3. marching squares (d3-contour) at each threshold; rings go back to lon/lat.
 *
 * Cells farther than offroadMetres from every reached sample stay unreachable, so large
 * unreachable blocks inside the reach come out as holes.
 *
 * All per-sample and per-cell data live in typed scratch buffers reused across calls.
 */
import { contours } from 'd3-contour';
import type { DijkstraWorkspace } from './dijkstra.js';
import { runDijkstra } from './dijkstra.js';
import { LocalProjection } from './geo.js';
import type { WalkGraph } from './graph.js';
import { snapPoint, writeSnapSeeds, type Snap, type SnapIndex } from './snap.js';

/** GeoJSON output (RFC 7946: exterior rings counter-clockwise, holes clockwise). */
export interface IsochroneFeature {
  type: 'Feature';
  properties: { minutes: number };
  geometry: { type: 'MultiPolygon'; coordinates: number[][][][] };
}

export interface IsochroneCollection {
  type: 'FeatureCollection';
  features: IsochroneFeature[];
}

export interface IsochroneOptions {
  /** walking speed (m/s) for the off-network legs. */
  speedMps: number;
  /** grid cell size in metres (default 20). */
  cellMetres?: number;
  /** how far from the network a cell may be and still be reached on foot (default 60 m;
   * never less than half a cell diagonal, so that every reached street shows). */
  offroadMetres?: number;
  /** the snapped origin(s) of the search, so the part of their own edge between the origin
   * and the edge ends is timed directly rather than via the ends. */
  origins?: readonly Snap[];
  /** origin points themselves (lon,lat pairs), reachable at time 0. */
  originPoints?: ArrayLike<number>;
}

/** Refuse grids larger than this many cells (a whole-country search by mistake). */
const MAX_CELLS = 1 << 24;
/** Value of a cell that nothing reaches (grid holds negated seconds). */
const UNREACHED = -Infinity;

// ---- scratch (module-level, grown on demand) ----
let samples = new Float64Array(3 * 4096); // x, y, seconds
let grid = new Float64Array(1 << 14);
let originTerms = new Float64Array(16); // per origin edge: fraction, seconds
const edgeStamps = new WeakMap<WalkGraph, Int32Array>();
let epoch = 0;

function ensureSamples(n: number): void {
  if (3 * n > samples.length) {
    let cap = samples.length;
    while (cap < 3 * n) cap *= 2;
    const next = new Float64Array(cap);
    next.set(samples);
    samples = next;
  }
}

function stampsFor(g: WalkGraph): Int32Array {
  let s = edgeStamps.get(g);
  if (!s || s.length !== g.edgeCount) {
    s = new Int32Array(g.edgeCount);
    edgeStamps.set(g, s);
  }
  if (epoch >= 0x3fffffff) {
    epoch = 0;
    s.fill(0);
  }
  return s;
}

/**
 * Sample edge e (time at fraction f along it, from edgeFrom: min of the two ends and any
 * origin terms) every ≤ step metres, appending samples with time ≤ maxSec. Returns the new
 * sample count.
 */
function sampleEdge(
  g: WalkGraph,
  e: number,
  da: number,
  db: number,
  es: number,
  nOrigin: number,
  maxSec: number,
  proj: LocalProjection,
  step: number,
  count: number,
): number {
  const gc = g.geomCoords;
  const first = g.geomOffsets[e];
  const last = g.geomOffsets[e + 1] - 1;
  if (last < first) return count;
  const kx = proj.kx;
  const ky = proj.ky;
  const lon0 = proj.lon0;
  const lat0 = proj.lat0;
  let total = 0;
  for (let p = first; p < last; p++) {
    const dx = (gc[2 * p + 2] - gc[2 * p]) * kx;
    const dy = (gc[2 * p + 3] - gc[2 * p + 1]) * ky;
    total += Math.sqrt(dx * dx + dy * dy);
  }
  const ot = originTerms;
  if (total === 0) {
    // degenerate geometry: a single point, reachable at the best of all terms
    let t = Math.min(da, db);
    for (let j = 0; j < nOrigin; j++) t = Math.min(t, ot[2 * j + 1]);
    if (t <= maxSec) {
      ensureSamples(count + 1);
      const b = 3 * count;
      samples[b] = (gc[2 * first] - lon0) * kx;
      samples[b + 1] = (gc[2 * first + 1] - lat0) * ky;
      samples[b + 2] = t;
      count++;
    }
    return count;
  }
  const inv = 1 / total;
  let cum = 0;
  for (let p = first; p <= last; p++) {
    const x0 = (gc[2 * p] - lon0) * kx;
    const y0 = (gc[2 * p + 1] - lat0) * ky;
    if (p === last) {
      // the end point itself (f = 1)
      let t = Math.min(da + es, db);
      for (let j = 0; j < nOrigin; j++) t = Math.min(t, ot[2 * j + 1] + (1 - ot[2 * j]) * es);
      if (t <= maxSec) {
        ensureSamples(count + 1);
        const b = 3 * count;
        samples[b] = x0;
        samples[b + 1] = y0;
        samples[b + 2] = t;
        count++;
      }
      break;
    }
    const dx = (gc[2 * p + 2] - lon0) * kx - x0;
    const dy = (gc[2 * p + 3] - lat0) * ky - y0;
    const len = Math.sqrt(dx * dx + dy * dy);
    const f0 = cum * inv;
    const f1 = Math.min(1, (cum + len) * inv);
    cum += len;
    // lower bound of the time over this segment: skip segments wholly beyond the budget
    let lo = Math.min(da + f0 * es, db + (1 - f1) * es);
    for (let j = 0; j < nOrigin; j++) {
      const fo = ot[2 * j];
      const gap = fo < f0 ? f0 - fo : fo > f1 ? fo - f1 : 0;
      lo = Math.min(lo, ot[2 * j + 1] + gap * es);
    }
    if (lo > maxSec) continue;
    const n = Math.max(1, Math.ceil(len / step));
    ensureSamples(count + n);
    const s = samples;
    for (let k = 0; k < n; k++) {
      const u = k / n;
      const f = f0 + u * (f1 - f0);
      let t = da + f * es;
      const tb = db + (1 - f) * es;
      if (tb < t) t = tb;
      for (let j = 0; j < nOrigin; j++) {
        const to = ot[2 * j + 1] + Math.abs(f - ot[2 * j]) * es;
        if (to < t) t = to;
      }
      if (t > maxSec) continue;
      const b = 3 * count;
      s[b] = x0 + u * dx;
      s[b + 1] = y0 + u * dy;
      s[b + 2] = t;
      count++;
    }
  }
  return count;
}

/**
 * Isochrone polygons from a finished search (ws after runDijkstra from the origin(s), with
 * a bound ≥ the largest threshold). One MultiPolygon feature per threshold, largest first;
 * a threshold nothing reaches gives an empty MultiPolygon.
 */
export function isochrone(
  g: WalkGraph,
  edgeSec: Float32Array,
  ws: DijkstraWorkspace,
  minutesList: readonly number[],
  opts: IsochroneOptions,
): IsochroneCollection {
  const speed = opts.speedMps;
  const cell = opts.cellMetres ?? 20;
  // a network line must cover at least the cells it crosses: the reach is never below
  // half a cell diagonal, whatever the caller asks
  const offroad = Math.max(opts.offroadMetres ?? 60, (opts.cellMetres ?? 20) * Math.SQRT1_2);
  if (!(speed > 0)) throw new RangeError('isochrone: speedMps must be > 0');
  if (!(cell > 0)) throw new RangeError('isochrone: cellMetres must be > 0');
  if (!((opts.offroadMetres ?? 0) >= 0)) throw new RangeError('isochrone: offroadMetres must be ≥ 0');
  const minutes = [...minutesList].filter((m) => m > 0).sort((a, b) => b - a);
  const empty = (): IsochroneCollection => ({
    type: 'FeatureCollection',
    features: minutes.map((m) => ({
      type: 'Feature',
      properties: { minutes: m },
      geometry: { type: 'MultiPolygon', coordinates: [] },
    })),
  });
  if (minutes.length === 0) return empty();
  const maxSec = minutes[0] * 60;
  const dist = ws.dist;
  const touched = ws.touched;
  const nc = g.nodeCoords;
  const origins = opts.origins ?? [];
  const oPts = opts.originPoints ?? [];

  // projection centre: middle of the reached nodes, origins and origin points
  let minLon = Infinity;
  let minLat = Infinity;
  let maxLon = -Infinity;
  let maxLat = -Infinity;
  for (let i = 0; i < ws.touchedCount; i++) {
    const u = touched[i];
    if (dist[u] > maxSec) continue;
    const lon = nc[2 * u];
    const lat = nc[2 * u + 1];
    if (lon < minLon) minLon = lon;
    if (lon > maxLon) maxLon = lon;
    if (lat < minLat) minLat = lat;
    if (lat > maxLat) maxLat = lat;
  }
  for (const o of origins) {
    minLon = Math.min(minLon, o.lon);
    maxLon = Math.max(maxLon, o.lon);
    minLat = Math.min(minLat, o.lat);
    maxLat = Math.max(maxLat, o.lat);
  }
  for (let i = 0; i + 1 < oPts.length; i += 2) {
    minLon = Math.min(minLon, oPts[i]);
    maxLon = Math.max(maxLon, oPts[i]);
    minLat = Math.min(minLat, oPts[i + 1]);
    maxLat = Math.max(maxLat, oPts[i + 1]);
  }
  if (!(minLon <= maxLon)) return empty();
  const proj = new LocalProjection((minLon + maxLon) / 2, (minLat + maxLat) / 2);
  const step = cell / 2;

  // ---- 1. samples ----
  const stamps = stampsFor(g);
  const ep = ++epoch;
  let count = 0;
  const ef = g.edgeFrom;
  const et = g.edgeTo;
  for (let i = 0; i < oPts.length - 1; i += 2) {
    ensureSamples(count + 1);
    samples[3 * count] = proj.x(oPts[i]);
    samples[3 * count + 1] = proj.y(oPts[i + 1]);
    samples[3 * count + 2] = 0;
    count++;
  }
  for (let i = 0; i < origins.length; i++) {
    const e = origins[i].edge;
    if (stamps[e] === ep) continue;
    stamps[e] = ep;
    // all origins on this edge
    let n = 0;
    const len = g.edgeLength[e];
    for (let j = i; j < origins.length; j++) {
      const o = origins[j];
      if (o.edge !== e) continue;
      if (2 * n + 2 > originTerms.length) {
        const next = new Float64Array(originTerms.length * 2);
        next.set(originTerms);
        originTerms = next;
      }
      originTerms[2 * n] = len > 0 ? Math.min(1, Math.max(0, o.offset / len)) : 0;
      originTerms[2 * n + 1] = o.distance / speed;
      n++;
    }
    count = sampleEdge(g, e, dist[ef[e]], dist[et[e]], edgeSec[e], n, maxSec, proj, step, count);
  }
  const offsets = g.arcOffsets;
  const arcEdge = g.arcEdge;
  for (let i = 0; i < ws.touchedCount; i++) {
    const u = touched[i];
    if (dist[u] > maxSec) continue;
    for (let a = offsets[u]; a < offsets[u + 1]; a++) {
      const e = arcEdge[a];
      if (stamps[e] === ep) continue;
      stamps[e] = ep;
      count = sampleEdge(g, e, dist[ef[e]], dist[et[e]], edgeSec[e], 0, maxSec, proj, step, count);
    }
  }
  if (count === 0) return empty();

  // ---- 2. grid ----
  let sx0 = Infinity;
  let sy0 = Infinity;
  let sx1 = -Infinity;
  let sy1 = -Infinity;
  const s = samples;
  for (let k = 0; k < count; k++) {
    const x = s[3 * k];
    const y = s[3 * k + 1];
    if (x < sx0) sx0 = x;
    if (x > sx1) sx1 = x;
    if (y < sy0) sy0 = y;
    if (y > sy1) sy1 = y;
  }
  const margin = offroad + 2 * cell;
  const X0 = sx0 - margin;
  const Y0 = sy0 - margin;
  const nx = Math.ceil((sx1 + margin - X0) / cell) + 1;
  const ny = Math.ceil((sy1 + margin - Y0) / cell) + 1;
  if (nx * ny > MAX_CELLS) {
    throw new RangeError(`isochrone: grid of ${nx}×${ny} cells is too large; use a larger cellMetres`);
  }
  if (grid.length < nx * ny) {
    let cap = grid.length;
    while (cap < nx * ny) cap *= 2;
    grid = new Float64Array(cap);
  }
  const values = grid.subarray(0, nx * ny);
  values.fill(UNREACHED);
  const invSpeed = 1 / speed;
  const invCell = 1 / cell;
  const reachPad = 1.5 * cell;
  for (let k = 0; k < count; k++) {
    const x = s[3 * k];
    const y = s[3 * k + 1];
    const t = s[3 * k + 2];
    const negT = -t;
    // reach a cell and a half beyond the budget, so that the contour can interpolate where the
    // time crosses the threshold instead of stopping at the last cell inside it
    const r = Math.min(offroad, (maxSec - t) * speed + reachPad);
    const r2 = r * r;
    const fx = (x - X0) * invCell - 0.5;
    const fy = (y - Y0) * invCell - 0.5;
    const rc = r * invCell;
    const i0 = Math.max(0, Math.ceil(fx - rc));
    const i1 = Math.min(nx - 1, Math.floor(fx + rc));
    const j0 = Math.max(0, Math.ceil(fy - rc));
    const j1 = Math.min(ny - 1, Math.floor(fy + rc));
    for (let j = j0; j <= j1; j++) {
      const dy = (j - fy) * cell;
      const dy2 = dy * dy;
      if (dy2 > r2) continue;
      const row = j * nx;
      for (let i = i0; i <= i1; i++) {
        const dx = (i - fx) * cell;
        const d2 = dx * dx + dy2;
        if (d2 > r2) continue;
        const v = negT - Math.sqrt(d2) * invSpeed;
        if (v > values[row + i]) values[row + i] = v;
      }
    }
  }

  // ---- 3. contours ----
  const gen = contours().size([nx, ny]).smooth(true);
  const features: IsochroneFeature[] = [];
  for (const m of minutes) {
    // d3-contour reads any indexable array; its typings ask for number[].
    const mp = gen.contour(values as unknown as number[], -m * 60);
    const coordinates: number[][][][] = [];
    for (const poly of mp.coordinates) {
      const outPoly: number[][][] = [];
      for (const ring of poly) {
        // d3 rings are clockwise (exteriors) in this y-up grid: reverse for RFC 7946.
        const out: number[][] = new Array<number[]>(ring.length);
        for (let q = 0, r = ring.length - 1; r >= 0; q++, r--) {
          const pt = ring[r];
          const lon = proj.lon(X0 + pt[0] * cell);
          const lat = proj.lat(Y0 + pt[1] * cell);
          out[q] = [Math.round(lon * 1e7) / 1e7, Math.round(lat * 1e7) / 1e7];
        }
        outPoly.push(out);
      }
      coordinates.push(outPoly);
    }
    features.push({ type: 'Feature', properties: { minutes: m }, geometry: { type: 'MultiPolygon', coordinates } });
  }
  return { type: 'FeatureCollection', features };
}

export interface IsochroneFromPointOptions extends IsochroneOptions {
  /** snap limit in metres (default 300). */
  maxSnapMetres?: number;
  /** only snap to this connected component. */
  component?: number;
}

/**
 * Snap a point, search up to the largest threshold, and contour. Null if the point is
 * farther than the snap limit from the network.
 */
export function isochroneFromPoint(
  idx: SnapIndex,
  arcSec: Float32Array,
  edgeSec: Float32Array,
  ws: DijkstraWorkspace,
  lon: number,
  lat: number,
  minutesList: readonly number[],
  opts: IsochroneFromPointOptions,
): IsochroneCollection | null {
  const g = idx.graph;
  const snap = snapPoint(idx, lon, lat, opts.maxSnapMetres ?? 300, { component: opts.component });
  if (!snap) return null;
  const nodes = new Int32Array(2);
  const seconds = new Float64Array(2);
  writeSnapSeeds(snap, edgeSec, g, opts.speedMps, nodes, seconds, 0);
  const maxSec = Math.max(0, ...minutesList) * 60;
  runDijkstra(g, arcSec, ws, nodes, seconds, maxSec);
  return isochrone(g, edgeSec, ws, minutesList, {
    ...opts,
    origins: opts.origins ?? [snap],
    originPoints: opts.originPoints ?? [lon, lat],
  });
}
