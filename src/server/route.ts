/**
 * A walking route between two snapped points: the time is the engine's own (one search from the
 * origin's two seeds, then timeToSnap at the destination), and the path is read back from the
 * search's times: a node's predecessor is a neighbour u with dist[u] + arc = dist[v], which holds
 * exactly (same float operations as the search), so no predecessor array is kept in the hot loop.
 */
import type { RoutingContext } from '../access/context.js';
import { runDijkstra, timeToSnap } from '../engine/dijkstra.js';
import { writeSnapSeeds, type Snap } from '../engine/snap.js';

export interface RouteEnd {
  /** the point asked for (the access leg starts or ends here). */
  lon: number;
  lat: number;
  snap: Snap;
}

export interface WalkRoute {
  seconds: number;
  metres: number;
  /** [lon, lat] points: access leg, partial edge, whole edges, partial edge, access leg. */
  coordinates: Array<[number, number]>;
  /** where each end joins the network. */
  fromSnapped: [number, number];
  toSnapped: [number, number];
  /** graph nodes passed, in walking order (empty when both ends are on one edge and the walk stays on it). */
  nodes: number[];
}

const round7 = (x: number): number => Math.round(x * 1e7) / 1e7;

/** Point at `off` metres from edgeFrom along edge e, pushed onto out (lon, lat). */
function pushPointAt(ctx: RoutingContext, e: number, off: number, out: number[]): void {
  const g = ctx.region.graph;
  const pm = ctx.index.pointMetres;
  const gc = g.geomCoords;
  const first = g.geomOffsets[e];
  const last = g.geomOffsets[e + 1] - 1;
  let p = first;
  while (p < last - 1 && pm[p + 1] < off) p++;
  if (last === first) {
    out.push(gc[2 * first], gc[2 * first + 1]);
    return;
  }
  const span = pm[p + 1] - pm[p];
  let t = span > 0 ? (off - pm[p]) / span : 0;
  if (t < 0) t = 0;
  else if (t > 1) t = 1;
  out.push(gc[2 * p] + t * (gc[2 * p + 2] - gc[2 * p]), gc[2 * p + 1] + t * (gc[2 * p + 3] - gc[2 * p + 1]));
}

/** The stretch of edge e from offset a to offset b (metres from edgeFrom; a > b walks it backwards). */
function pushEdgePart(ctx: RoutingContext, e: number, a: number, b: number, out: number[]): void {
  const g = ctx.region.graph;
  const pm = ctx.index.pointMetres;
  const gc = g.geomCoords;
  const first = g.geomOffsets[e];
  const last = g.geomOffsets[e + 1] - 1;
  pushPointAt(ctx, e, a, out);
  if (a <= b) {
    for (let p = first; p <= last; p++) if (pm[p] > a && pm[p] < b) out.push(gc[2 * p], gc[2 * p + 1]);
  } else {
    for (let p = last; p >= first; p--) if (pm[p] < a && pm[p] > b) out.push(gc[2 * p], gc[2 * p + 1]);
  }
  pushPointAt(ctx, e, b, out);
}

/**
 * The fastest walk from `from` to `to` under the context's profile, or null when the two are on
 * parts of the network that do not connect. Uses the context's workspace (not re-entrant).
 */
export function walkRoute(ctx: RoutingContext, from: RouteEnd, to: RouteEnd): WalkRoute | null {
  const g = ctx.region.graph;
  const speed = ctx.profile.speedMps;
  const edgeSec = ctx.edgeSec;
  const ws = ctx.ws;
  const seedNodes = new Int32Array(2);
  const seedSeconds = new Float64Array(2);
  writeSnapSeeds(from.snap, edgeSec, g, speed, seedNodes, seedSeconds, 0);
  runDijkstra(g, ctx.arcSec, ws, seedNodes, seedSeconds);
  const seconds = timeToSnap(ws, to.snap, g, edgeSec, speed, from.snap);
  if (!Number.isFinite(seconds)) return null;

  const ef = from.snap.edge;
  const et = to.snap.edge;
  const lenF = g.edgeLength[ef];
  const lenT = g.edgeLength[et];
  const offF = Math.min(lenF, Math.max(0, from.snap.offset));
  const offT = Math.min(lenT, Math.max(0, to.snap.offset));
  const fT = lenT > 0 ? offT / lenT : 0;
  const fF = lenF > 0 ? offF / lenF : 0;
  const es = edgeSec[et];
  const dist = ws.dist;
  // the three ways timeToSnap considers; the path follows the one that gave its answer
  const viaFrom = dist[g.edgeFrom[et]] + fT * es;
  const viaTo = dist[g.edgeTo[et]] + (1 - fT) * es;
  const direct = et === ef ? from.snap.distance / speed + Math.abs(fT - fF) * es : Infinity;

  const pts: number[] = [from.lon, from.lat];
  const fromSnapped: number[] = [];
  pushPointAt(ctx, ef, offF, fromSnapped);
  const toSnapped: number[] = [];
  pushPointAt(ctx, et, offT, toSnapped);
  let metres = from.snap.distance + to.snap.distance;
  const nodes: number[] = [];

  if (direct <= viaFrom && direct <= viaTo) {
    pushEdgePart(ctx, ef, offF, offT, pts);
    metres += Math.abs(offT - offF);
  } else {
    const end = viaFrom <= viaTo ? g.edgeFrom[et] : g.edgeTo[et];
    // walk back from `end` to a seed along arcs the search made tight
    const back: number[] = [end];
    const backEdges: number[] = [];
    const onPath = new Set<number>([end]);
    let v = end;
    let seed = -1;
    for (;;) {
      for (let i = 0; i < 2; i++) if (seedNodes[i] === v && dist[v] === seedSeconds[i]) seed = i;
      if (seed >= 0) break;
      let pick = -1;
      let pickEdge = -1;
      for (let a = g.arcOffsets[v]; a < g.arcOffsets[v + 1]; a++) {
        const u = g.arcTarget[a];
        // arcs of one edge cost the same both ways, so v's arc back to u stands for u's arc to v
        if (dist[u] + ctx.arcSec[a] === dist[v] && !onPath.has(u) && (pick < 0 || dist[u] < dist[pick])) {
          pick = u;
          pickEdge = g.arcEdge[a];
        }
      }
      if (pick < 0) throw new Error(`route: cannot trace the path back from node ${v}`);
      back.push(pick);
      backEdges.push(pickEdge);
      onPath.add(pick);
      v = pick;
    }
    back.reverse();
    backEdges.reverse();
    // first stretch: from the snapped point to the seed node along the origin's edge
    const startOff = seed === 0 ? 0 : lenF;
    pushEdgePart(ctx, ef, offF, startOff, pts);
    metres += Math.abs(startOff - offF);
    for (let k = 0; k < backEdges.length; k++) {
      const e = backEdges[k];
      const forward = g.edgeFrom[e] === back[k];
      pushEdgePart(ctx, e, forward ? 0 : g.edgeLength[e], forward ? g.edgeLength[e] : 0, pts);
      metres += g.edgeLength[e];
    }
    const endOff = viaFrom <= viaTo ? 0 : lenT;
    pushEdgePart(ctx, et, endOff, offT, pts);
    metres += Math.abs(offT - endOff);
    nodes.push(...back);
  }
  pts.push(to.lon, to.lat);

  const coordinates: Array<[number, number]> = [];
  for (let i = 0; i < pts.length; i += 2) {
    const x = round7(pts[i]);
    const y = round7(pts[i + 1]);
    const prev = coordinates[coordinates.length - 1];
    if (prev && prev[0] === x && prev[1] === y) continue;
    coordinates.push([x, y]);
  }
  if (coordinates.length === 1) coordinates.push([coordinates[0][0], coordinates[0][1]]); // a LineString needs two positions
  return {
    seconds,
    metres,
    coordinates,
    fromSnapped: [round7(fromSnapped[0]), round7(fromSnapped[1])],
    toSnapped: [round7(toSnapped[0]), round7(toSnapped[1])],
    nodes,
  };
}
