/**
 * Coverage sets for planning, from the engine's bounded network searches: for every candidate
 * site, the residences it reaches within the horizon and in how many seconds.
 *
 * One bounded search per candidate (walking is symmetric, so site → home equals home → site).
 * Residences are reached through their access points exactly as in assess/residence-times.ts:
 * the better edge end plus the partial edge plus the access leg, or straight along the edge when
 * the site stands on the same edge; a residence takes its best access point. Only the access
 * points on edges next to a reached node are looked at (a node → points index), so a search
 * costs what it touches, not what the district has.
 */
import { DijkstraWorkspace, runDijkstra } from '../engine/dijkstra.js';
import { arcSeconds, edgeSeconds, type WalkingProfile } from '../engine/profile.js';
import { writeSnapSeeds, type Snap } from '../engine/snap.js';
import type { Region } from '../region/region.js';

export interface CoverageMatrix {
  /** CSR over sites: site j reaches residence[start[j] .. start[j+1]-1] in seconds[…], residence ascending. */
  start: Int32Array;
  residence: Int32Array;
  seconds: Float32Array;
  horizonSeconds: number;
}

export interface CoverageOptions {
  walking: WalkingProfile;
  horizonSeconds: number;
  onProgress?: (done: number, total: number) => void;
}

/** Growable typed-array buffer (doubling), so millions of pairs cost no per-pair objects. */
class PairBuffer {
  residence = new Int32Array(1 << 16);
  seconds = new Float32Array(1 << 16);
  length = 0;
  push(r: number, s: number): void {
    if (this.length === this.residence.length) {
      const res = new Int32Array(this.length * 2);
      res.set(this.residence);
      const sec = new Float32Array(this.length * 2);
      sec.set(this.seconds);
      this.residence = res;
      this.seconds = sec;
    }
    this.residence[this.length] = r;
    this.seconds[this.length] = s;
    this.length++;
  }
}

/** Sites are snaps onto the region's graph; null = unreachable (an empty row). */
export function buildCoverage(region: Region, sites: readonly (Snap | null)[], opts: CoverageOptions): CoverageMatrix {
  const g = region.graph;
  const rs = region.residenceSnaps;
  const t = region.residences;
  const speed = opts.walking.speedMps;
  const horizon = opts.horizonSeconds;
  const edgeSec = edgeSeconds(g, opts.walking);
  const arcSec = arcSeconds(g, opts.walking, edgeSec);

  // access point → residence, and node → access points on its edges (CSR)
  const points = rs.edge.length;
  const pointRes = new Int32Array(points);
  for (let r = 0; r < t.count; r++) for (let p = t.gateOffsets[r]; p < t.gateOffsets[r + 1]; p++) pointRes[p] = r;
  const nodeStart = new Int32Array(g.nodeCount + 1);
  for (let p = 0; p < points; p++) {
    const e = rs.edge[p];
    if (e < 0) continue;
    nodeStart[g.edgeFrom[e] + 1]++;
    nodeStart[g.edgeTo[e] + 1]++;
  }
  for (let u = 0; u < g.nodeCount; u++) nodeStart[u + 1] += nodeStart[u];
  const fill = nodeStart.slice(0, g.nodeCount);
  const nodePoints = new Int32Array(nodeStart[g.nodeCount]);
  for (let p = 0; p < points; p++) {
    const e = rs.edge[p];
    if (e < 0) continue;
    nodePoints[fill[g.edgeFrom[e]]++] = p;
    nodePoints[fill[g.edgeTo[e]]++] = p;
  }
  // per access point: seconds to its edge's from / to node (partial edge + access leg)
  const pA = new Float64Array(points);
  const pB = new Float64Array(points);
  const pFrac = new Float64Array(points);
  for (let p = 0; p < points; p++) {
    const e = rs.edge[p];
    if (e < 0) continue;
    const len = g.edgeLength[e];
    const f = len > 0 ? Math.min(1, Math.max(0, rs.offset[p] / len)) : 0;
    const acc = rs.access[p] / speed;
    pFrac[p] = f;
    pA[p] = acc + f * edgeSec[e];
    pB[p] = acc + (1 - f) * edgeSec[e];
  }
  // points per edge, for the same-edge case (a site standing on a home's own street segment)
  const edgeStart = new Int32Array(g.edgeCount + 1);
  for (let p = 0; p < points; p++) if (rs.edge[p] >= 0) edgeStart[rs.edge[p] + 1]++;
  for (let e = 0; e < g.edgeCount; e++) edgeStart[e + 1] += edgeStart[e];
  const efill = edgeStart.slice(0, g.edgeCount);
  const edgePoints = new Int32Array(edgeStart[g.edgeCount]);
  for (let p = 0; p < points; p++) if (rs.edge[p] >= 0) edgePoints[efill[rs.edge[p]]++] = p;

  const ws = new DijkstraWorkspace(g.nodeCount);
  const seedNodes = new Int32Array(2);
  const seedSecs = new Float64Array(2);
  const pointStamp = new Int32Array(points).fill(-1);
  const resStamp = new Int32Array(t.count).fill(-1);
  const best = new Float64Array(t.count);
  let reached = new Int32Array(1024);
  const out = new PairBuffer();
  const start = new Int32Array(sites.length + 1);
  const dist = ws.dist;

  for (let j = 0; j < sites.length; j++) {
    const s = sites[j];
    let nReached = 0;
    const reach = (r: number, sec: number): void => {
      if (resStamp[r] !== j) {
        resStamp[r] = j;
        best[r] = sec;
        if (nReached === reached.length) {
          const bigger = new Int32Array(reached.length * 2);
          bigger.set(reached);
          reached = bigger;
        }
        reached[nReached++] = r;
      } else if (sec < best[r]) best[r] = sec;
    };
    if (s) {
      writeSnapSeeds(s, edgeSec, g, speed, seedNodes, seedSecs, 0);
      runDijkstra(g, arcSec, ws, seedNodes, seedSecs, horizon);
      for (let k = 0; k < ws.touchedCount; k++) {
        const u = ws.touched[k];
        for (let x = nodeStart[u]; x < nodeStart[u + 1]; x++) {
          const p = nodePoints[x];
          if (pointStamp[p] === j) continue;
          pointStamp[p] = j;
          const e = rs.edge[p];
          const sec = Math.min(dist[g.edgeFrom[e]] + pA[p], dist[g.edgeTo[e]] + pB[p]);
          if (sec <= horizon) reach(pointRes[p], sec);
        }
      }
      // straight along the site's own edge
      const e = s.edge;
      const len = g.edgeLength[e];
      const fs = len > 0 ? Math.min(1, Math.max(0, s.offset / len)) : 0;
      const sAcc = s.distance / speed;
      for (let x = edgeStart[e]; x < edgeStart[e + 1]; x++) {
        const p = edgePoints[x];
        const sec = sAcc + Math.abs(pFrac[p] - fs) * edgeSec[e] + rs.access[p] / speed;
        if (sec <= horizon) reach(pointRes[p], sec);
      }
    }
    const row = reached.subarray(0, nReached).sort();
    for (let k = 0; k < nReached; k++) out.push(row[k], best[row[k]]);
    start[j + 1] = out.length;
    if ((j & 63) === 63 || j === sites.length - 1) opts.onProgress?.(j + 1, sites.length);
  }
  return {
    start,
    residence: out.residence.slice(0, out.length),
    seconds: out.seconds.slice(0, out.length),
    horizonSeconds: horizon,
  };
}
