/**
 * Walking time from every residence to the nearest usable facility of a format: one bounded
 * multi-source search per format (every usable facility of the format a seed, labelled with its
 * facility id), then, per residence access point, the better of its edge's two ends plus the
 * partial edge plus its access leg; a facility on the same edge as the access point is also
 * reached directly along the edge (|offset difference| plus both access legs), exactly as
 * engine/dijkstra.ts timeToSnap does for one origin. A residence takes its best access point.
 *
 * Everything is typed arrays; nothing is allocated per residence. Times above the search cap are
 * Infinity (label −1), so a result never depends on how far a search happened to run.
 */
import { DijkstraWorkspace, runDijkstra } from '../engine/dijkstra.js';
import { arcSeconds, edgeSeconds, type WalkingProfile } from '../engine/profile.js';
import type { Region } from '../region/region.js';

/** Profile-independent preparation: where access points and usable facilities meet the network. */
export interface PreparedNetwork {
  region: Region;
  /** per access point: position along its edge as a fraction 0–1 (−1 edge = unsnapped). */
  pointFrac: Float64Array;
  /** per facility: 1 = seeded (usable and snapped). */
  usable: Uint8Array;
  facFrac: Float64Array;
  /** facility ids per format (usable and snapped only). */
  seedsByFormat: Map<string, Int32Array>;
  /** access points whose edge carries a usable facility: sePoint[k], facilities seFac[seStart[k] .. seStart[k+1]-1]. */
  sePoint: Int32Array;
  seStart: Int32Array;
  seFac: Int32Array;
  /** per residence: 1 when at least one access point snapped. */
  reachable: Uint8Array;
  ws: DijkstraWorkspace;
}

const frac = (offset: number, len: number): number => (len > 0 ? Math.min(1, Math.max(0, offset / len)) : 0);

/** `usable[i]` = 0 excludes facility i (closed at the moment asked); unsnapped facilities are never seeded. */
export function prepareNetwork(region: Region, usable: Uint8Array): PreparedNetwork {
  const g = region.graph;
  const rs = region.residenceSnaps;
  const fs = region.facilitySnaps;
  const t = region.residences;
  const points = rs.edge.length;
  const pointFrac = new Float64Array(points);
  for (let p = 0; p < points; p++) if (rs.edge[p] >= 0) pointFrac[p] = frac(rs.offset[p], g.edgeLength[rs.edge[p]]);

  const nf = region.facilities.length;
  const seeded = new Uint8Array(nf);
  const facFrac = new Float64Array(nf);
  const lists = new Map<string, number[]>();
  const facByEdge = new Map<number, number[]>();
  for (let i = 0; i < nf; i++) {
    const e = fs.edge[i];
    if (!usable[i] || e < 0) continue;
    seeded[i] = 1;
    facFrac[i] = frac(fs.offset[i], g.edgeLength[e]);
    for (const fmt of region.facilities[i].formats) {
      let l = lists.get(fmt);
      if (!l) lists.set(fmt, (l = []));
      l.push(i);
    }
    let l = facByEdge.get(e);
    if (!l) facByEdge.set(e, (l = []));
    l.push(i);
  }
  const seedsByFormat = new Map<string, Int32Array>();
  for (const [k, v] of lists) seedsByFormat.set(k, Int32Array.from(v));

  const sePointList: number[] = [];
  const seStartList: number[] = [0];
  const seFacList: number[] = [];
  if (facByEdge.size > 0) {
    for (let p = 0; p < points; p++) {
      const e = rs.edge[p];
      if (e < 0) continue;
      const l = facByEdge.get(e);
      if (!l) continue;
      sePointList.push(p);
      for (const f of l) seFacList.push(f);
      seStartList.push(seFacList.length);
    }
  }

  const reachable = new Uint8Array(t.count);
  for (let r = 0; r < t.count; r++) {
    for (let p = t.gateOffsets[r]; p < t.gateOffsets[r + 1]; p++) {
      if (rs.edge[p] >= 0) {
        reachable[r] = 1;
        break;
      }
    }
  }
  return {
    region,
    pointFrac,
    usable: seeded,
    facFrac,
    seedsByFormat,
    sePoint: Int32Array.from(sePointList),
    seStart: Int32Array.from(seStartList),
    seFac: Int32Array.from(seFacList),
    reachable,
    ws: new DijkstraWorkspace(g.nodeCount),
  };
}

export interface TimesOptions {
  walking: WalkingProfile;
  /** formats to search, in the caller's column order. */
  formats: readonly string[];
  maxSeconds: number;
  /**
   * Called once per format (index into `formats`) with seconds and the nearest facility id per
   * residence (Infinity / −1 when none within maxSeconds). The arrays are reused: copy what you keep.
   */
  onFormat: (formatIndex: number, seconds: Float64Array, nearest: Int32Array) => void;
  onProgress?: (done: number, total: number) => void;
}

/** One walking profile: a search per format, residence times handed to onFormat. */
export function residenceTimes(net: PreparedNetwork, opts: TimesOptions): void {
  const region = net.region;
  const g = region.graph;
  const rs = region.residenceSnaps;
  const fsn = region.facilitySnaps;
  const t = region.residences;
  const speed = opts.walking.speedMps;
  const edgeSec = edgeSeconds(g, opts.walking);
  const arcSec = arcSeconds(g, opts.walking);
  const maxSeconds = opts.maxSeconds;

  // per access point: seconds from it to its edge's from / to node (partial edge + access leg)
  const points = rs.edge.length;
  const pFrom = new Int32Array(points).fill(-1);
  const pTo = new Int32Array(points);
  const pA = new Float64Array(points);
  const pB = new Float64Array(points);
  for (let p = 0; p < points; p++) {
    const e = rs.edge[p];
    if (e < 0) continue;
    const es = edgeSec[e];
    const acc = rs.access[p] / speed;
    pFrom[p] = g.edgeFrom[e];
    pTo[p] = g.edgeTo[e];
    pA[p] = acc + net.pointFrac[p] * es;
    pB[p] = acc + (1 - net.pointFrac[p]) * es;
  }

  const nf = region.facilities.length;
  const ofFormat = new Uint8Array(nf);
  const pt = new Float64Array(points);
  const pl = new Int32Array(points);
  const secs = new Float64Array(t.count);
  const near = new Int32Array(t.count);
  const ws = net.ws;
  const total = opts.formats.length;

  for (let fi = 0; fi < total; fi++) {
    const ids = net.seedsByFormat.get(opts.formats[fi]);
    if (!ids || ids.length === 0) {
      secs.fill(Infinity);
      near.fill(-1);
      opts.onFormat(fi, secs, near);
      opts.onProgress?.(fi + 1, total);
      continue;
    }
    // seeds: both ends of each facility's edge, labelled with the facility id
    const seedNodes = new Int32Array(2 * ids.length);
    const seedSecs = new Float64Array(2 * ids.length);
    const seedLabels = new Int32Array(2 * ids.length);
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      const e = fsn.edge[id];
      const es = edgeSec[e];
      const acc = fsn.access[id] / speed;
      const f = net.facFrac[id];
      seedNodes[2 * k] = g.edgeFrom[e];
      seedSecs[2 * k] = acc + f * es;
      seedNodes[2 * k + 1] = g.edgeTo[e];
      seedSecs[2 * k + 1] = acc + (1 - f) * es;
      seedLabels[2 * k] = seedLabels[2 * k + 1] = id;
      ofFormat[id] = 1;
    }
    runDijkstra(g, arcSec, ws, seedNodes, seedSecs, maxSeconds, seedLabels);
    const dist = ws.dist;
    const label = ws.label;

    for (let p = 0; p < points; p++) {
      const u = pFrom[p];
      if (u < 0) {
        pt[p] = Infinity;
        pl[p] = -1;
        continue;
      }
      const v = pTo[p];
      const a = dist[u] + pA[p];
      const b = dist[v] + pB[p];
      if (a <= b) {
        pt[p] = a;
        pl[p] = label[u];
      } else {
        pt[p] = b;
        pl[p] = label[v];
      }
    }
    // same edge: straight along it, no node in between
    for (let k = 0; k < net.sePoint.length; k++) {
      const p = net.sePoint[k];
      const e = rs.edge[p];
      const es = edgeSec[e];
      const pacc = rs.access[p] / speed;
      const pf = net.pointFrac[p];
      for (let j = net.seStart[k]; j < net.seStart[k + 1]; j++) {
        const id = net.seFac[j];
        if (!ofFormat[id]) continue;
        const direct = pacc + Math.abs(pf - net.facFrac[id]) * es + fsn.access[id] / speed;
        if (direct < pt[p]) {
          pt[p] = direct;
          pl[p] = id;
        }
      }
    }
    // residence: its best access point
    const go = t.gateOffsets;
    for (let r = 0; r < t.count; r++) {
      let best = Infinity;
      let bl = -1;
      for (let p = go[r]; p < go[r + 1]; p++) {
        if (pt[p] < best) {
          best = pt[p];
          bl = pl[p];
        }
      }
      if (best > maxSeconds) {
        best = Infinity;
        bl = -1;
      }
      secs[r] = best;
      near[r] = bl;
    }
    for (let k = 0; k < ids.length; k++) ofFormat[ids[k]] = 0;
    opts.onFormat(fi, secs, near);
    opts.onProgress?.(fi + 1, total);
  }
}
