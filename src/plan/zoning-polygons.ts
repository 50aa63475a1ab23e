/**
 * Zone polygons from a network Voronoi labelling.
 *
 *  1. Every edge with a labelled end is sampled along its geometry every ≤ cell/2. An edge whose
 *     two ends belong to different zones is split where the two zones' (offset) times meet —
 *     fraction f* = (dist[to] − dist[from] + edgeSec) / (2·edgeSec) from its first node — so a
 *     long street shared by two zones is cut at the network Voronoi boundary, not at its middle
 *     node (finer than labelling each cell with its nearest node's zone).
 *  2. Each grid cell (local metric) within offroadMetres of a sample takes the zone of the
 *     nearest sample; cells near an island (label −1) stay out of every zone.
 *  3. Per zone, a 0/1 grid over the zone's cells goes through marching squares (d3-contour,
 *     threshold 0.5, no smoothing): every boundary vertex lies on a cell edge midpoint, computed
 *     from the same grid coordinates for both zones sharing it, and d3 always resolves saddles by
 *     separating the corners, so two zones' polygons share boundaries but never overlap.
 *
 * Everything per sample and per cell lives in typed arrays.
 */
import { contours } from 'd3-contour';
import type { GeoJSONGeometry } from '../assess/result.js';
import { LocalProjection } from '../engine/geo.js';
import type { WalkGraph } from '../engine/graph.js';

export interface ZonePolygonOptions {
  /** grid cell size in metres (default 25). */
  cellMetres?: number;
  /** how far from the network a cell may lie and still belong to a zone (default 60 m; at least half a cell diagonal). */
  offroadMetres?: number;
  /** refuse grids above this many cells by coarsening the cell (default 4 Mi cells). */
  maxCells?: number;
}

export interface ZonePolygons {
  /** one geometry per zone (empty MultiPolygon for a zone with no network). */
  geometries: GeoJSONGeometry[];
  /** cell size actually used (larger than asked when the grid would exceed maxCells). */
  cellMetres: number;
}

const NO_CELL = -2;

/**
 * Polygons of k zones. nodeZone[u] is the zone of node u (−1 unassigned); dist[u] the search's
 * time at u including the zone's offset (what decided the label); edgeSec seconds per edge.
 */
export function zonePolygons(
  g: WalkGraph,
  nodeZone: Int32Array,
  dist: Float64Array,
  edgeSec: Float32Array,
  k: number,
  opts: ZonePolygonOptions = {},
): ZonePolygons {
  const askedCell = opts.cellMetres ?? 25;
  if (!(askedCell > 0 && Number.isFinite(askedCell))) throw new RangeError(`cellMetres must be a positive number, got ${askedCell}`);
  const offroadAsked = opts.offroadMetres ?? 60;
  if (!(offroadAsked >= 0 && Number.isFinite(offroadAsked))) throw new RangeError(`offroadMetres must be ≥ 0, got ${offroadAsked}`);
  const maxCells = opts.maxCells ?? 1 << 22;
  const empty = (): GeoJSONGeometry => ({ type: 'MultiPolygon', coordinates: [] });

  // extent of the labelled edges' geometry
  const go = g.geomOffsets;
  const gc = g.geomCoords;
  let minLon = Infinity;
  let minLat = Infinity;
  let maxLon = -Infinity;
  let maxLat = -Infinity;
  for (let e = 0; e < g.edgeCount; e++) {
    if (nodeZone[g.edgeFrom[e]] < 0 && nodeZone[g.edgeTo[e]] < 0) continue;
    for (let p = go[e]; p < go[e + 1]; p++) {
      const lon = gc[2 * p];
      const lat = gc[2 * p + 1];
      if (lon < minLon) minLon = lon;
      if (lon > maxLon) maxLon = lon;
      if (lat < minLat) minLat = lat;
      if (lat > maxLat) maxLat = lat;
    }
  }
  if (!(minLon <= maxLon)) return { geometries: Array.from({ length: k }, empty), cellMetres: askedCell };
  const proj = new LocalProjection((minLon + maxLon) / 2, (minLat + maxLat) / 2);
  const w0 = proj.x(maxLon) - proj.x(minLon);
  const h0 = proj.y(maxLat) - proj.y(minLat);
  // coarsen the cell when the district is too large for the asked one
  let cell = askedCell;
  for (;;) {
    const margin = Math.max(offroadAsked, cell * Math.SQRT1_2) + 2 * cell;
    const cells = (Math.ceil((w0 + 2 * margin) / cell) + 1) * (Math.ceil((h0 + 2 * margin) / cell) + 1);
    if (cells <= maxCells) break;
    cell *= Math.sqrt(cells / maxCells) * 1.01;
  }
  // a street must at least cover the cells it crosses
  const offroad = Math.max(offroadAsked, cell * Math.SQRT1_2);
  const margin = offroad + 2 * cell;
  const X0 = proj.x(minLon) - margin;
  const Y0 = proj.y(minLat) - margin;
  const nx = Math.ceil((w0 + 2 * margin) / cell) + 1;
  const ny = Math.ceil((h0 + 2 * margin) / cell) + 1;
  const best = new Float32Array(nx * ny).fill(Infinity);
  const label = new Int32Array(nx * ny).fill(NO_CELL);
  const invCell = 1 / cell;
  const r2 = offroad * offroad;
  const rc = offroad * invCell;

  /** Write one sample (metres) with its zone into every cell within offroad whose nearest sample it is. */
  const splat = (x: number, y: number, z: number): void => {
    const fx = (x - X0) * invCell - 0.5;
    const fy = (y - Y0) * invCell - 0.5;
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
        if (d2 > r2 || d2 >= best[row + i]) continue;
        best[row + i] = d2;
        label[row + i] = z;
      }
    }
  };

  const step = cell / 2;
  const kx = proj.kx;
  const ky = proj.ky;
  const lon0 = proj.lon0;
  const lat0 = proj.lat0;
  for (let e = 0; e < g.edgeCount; e++) {
    const a = g.edgeFrom[e];
    const b = g.edgeTo[e];
    const za = nodeZone[a];
    const zb = nodeZone[b];
    if (za < 0 && zb < 0) {
      // islands near a zone keep their cells out of it; far ones fall outside the grid
      const lon = gc[2 * go[e]];
      const lat = gc[2 * go[e] + 1];
      if (lon < minLon - 0.01 || lon > maxLon + 0.01 || lat < minLat - 0.01 || lat > maxLat + 0.01) continue;
    }
    const first = go[e];
    const last = go[e + 1] - 1;
    let split = 2; // fraction at which the zone changes from za to zb (beyond 1: never)
    if (za !== zb) {
      const es = edgeSec[e];
      split = es > 0 ? (dist[b] - dist[a] + es) / (2 * es) : 0.5;
    }
    let total = 0;
    for (let p = first; p < last; p++) {
      const dx = (gc[2 * p + 2] - gc[2 * p]) * kx;
      const dy = (gc[2 * p + 3] - gc[2 * p + 1]) * ky;
      total += Math.sqrt(dx * dx + dy * dy);
    }
    if (total === 0) {
      splat((gc[2 * first] - lon0) * kx, (gc[2 * first + 1] - lat0) * ky, za);
      if (zb !== za) splat((gc[2 * last] - lon0) * kx, (gc[2 * last + 1] - lat0) * ky, zb);
      continue;
    }
    let cum = 0;
    for (let p = first; p < last; p++) {
      const x0 = (gc[2 * p] - lon0) * kx;
      const y0 = (gc[2 * p + 1] - lat0) * ky;
      const dx = (gc[2 * p + 2] - lon0) * kx - x0;
      const dy = (gc[2 * p + 3] - lat0) * ky - y0;
      const len = Math.sqrt(dx * dx + dy * dy);
      const n = Math.max(1, Math.ceil(len / step));
      for (let s = 0; s <= n; s++) {
        if (s === n && p + 1 < last) break; // the next segment starts here
        const u = s / n;
        const f = (cum + u * len) / total;
        splat(x0 + u * dx, y0 + u * dy, f < split ? za : zb);
      }
      cum += len;
    }
  }

  // per zone: cell bounding boxes
  const bi0 = new Int32Array(k).fill(nx);
  const bi1 = new Int32Array(k).fill(-1);
  const bj0 = new Int32Array(k).fill(ny);
  const bj1 = new Int32Array(k).fill(-1);
  for (let j = 0; j < ny; j++) {
    const row = j * nx;
    for (let i = 0; i < nx; i++) {
      const z = label[row + i];
      if (z < 0) continue;
      if (i < bi0[z]) bi0[z] = i;
      if (i > bi1[z]) bi1[z] = i;
      if (j < bj0[z]) bj0[z] = j;
      if (j > bj1[z]) bj1[z] = j;
    }
  }

  const geometries: GeoJSONGeometry[] = [];
  for (let z = 0; z < k; z++) {
    if (bi1[z] < 0) {
      geometries.push(empty());
      continue;
    }
    // sub-grid with a one-cell frame of zeros so that every ring closes inside it
    const i0 = bi0[z] - 1;
    const j0 = bj0[z] - 1;
    const w = bi1[z] - bi0[z] + 3;
    const h = bj1[z] - bj0[z] + 3;
    const values = new Float64Array(w * h);
    for (let j = 1; j < h - 1; j++) {
      const src = (j0 + j) * nx + i0;
      for (let i = 1; i < w - 1; i++) if (label[src + i] === z) values[j * w + i] = 1;
    }
    // d3-contour reads any indexable array; its typings ask for number[].
    const mp = contours().size([w, h]).smooth(false).contour(values as unknown as number[], 0.5);
    const polys: number[][][][] = [];
    for (const poly of mp.coordinates) {
      const outPoly: number[][][] = [];
      for (const ring of poly) {
        // d3 rings are clockwise (exteriors) in this y-up grid: reverse for RFC 7946.
        const out: number[][] = new Array<number[]>(ring.length);
        for (let q = 0, r = ring.length - 1; r >= 0; q++, r--) {
          const pt = ring[r];
          const lon = proj.lon(X0 + (pt[0] + i0) * cell);
          const lat = proj.lat(Y0 + (pt[1] + j0) * cell);
          out[q] = [Math.round(lon * 1e7) / 1e7, Math.round(lat * 1e7) / 1e7];
        }
        outPoly.push(out);
      }
      polys.push(outPoly);
    }
    geometries.push(polys.length === 1 ? { type: 'Polygon', coordinates: polys[0] } : { type: 'MultiPolygon', coordinates: polys });
  }
  return { geometries, cellMetres: cell };
}
