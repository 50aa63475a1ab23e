/**
 * 片区划分: partition a district's residences into k service zones, each anchored on a site (a
 * 邻里汇 neighbourhood centre, a planned one, or one chosen here), by population and walking time.
 *
 * Assignment — network Voronoi with additive weights: one multi-source search from all sites,
 * site z's seeds starting at offset w_z and labelled z, gives every node the zone minimising
 * (walking time to the site) + w_z. Dijkstra's labels follow its shortest-path tree (a node takes
 * the label of the node that reached it), so each zone is the union of the subtrees grown from its
 * own seeds; a site's two seeds are the ends of one edge, hence adjacent. Every zone is therefore
 * connected on the network by construction, whatever the offsets. Residences (and facilities) take
 * the zone of their best access point by the rule of assess/residence-times.ts: edge end time +
 * partial edge + access leg, or straight along the edge when the site is on the same edge.
 *
 * Balance — the offsets are the dual variables of the transport problem "send every resident to a
 * site at least total walking time, each site receiving the mean population": the dual function
 * Φ(w) = Σ_r pop_r·min_z (t_z(r) + w_z) − target·Σ_z w_z is concave and its supergradient in w_z is
 * pop_z(w) − target. We ascend it (raise w_z when zone z holds too many residents, lower it when
 * too few) with a per-zone step that grows while the sign holds and halves when it flips, until
 * every zone is within the tolerance or the iteration cap; the best offsets seen are kept. At the
 * optimum the zones are balanced and, among balanced additive-weight partitions, cheapest in
 * walking time — compact, not merely equal.
 *
 * Anchors (when none are given) — greedy k-means++ on the network: the first site drawn with
 * probability ∝ population at a node, each next one ∝ population × (time to the nearest site)²
 * (several draws, the one lowering Σ pop·time² most kept), times from bounded searches. Then a few
 * Lloyd steps: balance, then move each site to its zone's best candidate — most residents of the
 * zone within the service radius, then least total walking time (a population-weighted network
 * medoid). The exact medoid needs a search from every node of the zone; we try the current site
 * and the zone's nodes nearest (straight line) to its residents' population-weighted centre, each
 * with one search bounded at 3 × radius (farther residents count as 3 × radius). The best
 * configuration seen (most residents within the radius of their own site) is kept.
 */
import { insideRegion } from '../access/context.js';
import type { GeoJSONGeometry } from '../assess/result.js';
import { DijkstraWorkspace, runDijkstra } from '../engine/dijkstra.js';
import { haversineMetres } from '../engine/geo.js';
import { arcSeconds, edgeSeconds, getWalkingProfile, type WalkingProfile } from '../engine/profile.js';
import { buildSnapIndex, snapPreferMain } from '../engine/snap.js';
import { OSM_ATTRIBUTION, type Region } from '../region/region.js';
import { PlanInputError } from './instance.js';
import { mulberry32 } from './random.js';
import { zonePolygons } from './zoning-polygons.js';

/** A given site: where people walk to (snapped onto the network like a facility). */
export interface ZoningAnchor {
  lon: number;
  lat: number;
  /** e.g. the 邻里汇's name; zones are named after their anchors. */
  name?: string;
}

export interface ZoningOptions {
  /** number of zones; defaults to anchors.length when anchors are given. */
  k?: number;
  /** service radius in seconds under `walking` (e.g. 800 m ÷ speed). */
  radiusSeconds: number;
  /** default: the 'default' walking profile. */
  walking?: WalkingProfile;
  /** residents per residence (default region.residences.population). */
  population?: Float32Array | Float64Array;
  /** residents aged 65+ per residence (default region.residences.elderly). */
  elderly?: Float32Array | Float64Array;
  /** fixed sites, one per zone; when absent, k sites are chosen. */
  anchors?: readonly ZoningAnchor[];
  /** allowed deviation of each zone's population from the mean, as a fraction (default 0.2 = ±20 %). */
  tolerance?: number;
  /** random seed for choosing anchors (default 1). */
  seed?: number;
  /** cap on balancing iterations (one network search each; default 200). */
  maxBalanceIterations?: number;
  /** Lloyd steps when choosing anchors (default 5). */
  lloydSteps?: number;
  /** candidate sites tried per zone and Lloyd step (default 16). */
  medoidCandidates?: number;
  /** polygon grid cell in metres (default 25). */
  cellMetres?: number;
  /** how far from its streets a zone's polygon reaches (default 60 m). */
  offroadMetres?: number;
  /** false skips the polygons (geometry stays an empty MultiPolygon). */
  polygons?: boolean;
}

export interface ZoneSite {
  lon: number;
  lat: number;
  /** the network node the site is reached through (its nearer edge end for a given anchor). */
  node: number;
}

export interface Zone {
  /** index, as in residenceZone. */
  id: number;
  /** the anchor's name, else "片区 N". */
  name: string;
  site: ZoneSite;
  /** additive weight in seconds (normalised: the smallest is 0). */
  offsetSeconds: number;
  population: number;
  elderly: number;
  /** elderly ÷ population (0 when nobody lives in the zone). */
  elderlyShare: number;
  /** residences assigned (any population). */
  residences: number;
  /** network nodes assigned. */
  nodes: number;
  /** share of the zone's population within radiusSeconds of its own site; null when the zone has no residents. */
  withinRadiusShare: number | null;
  /** population-weighted 95th percentile of seconds to the site; null when no residents. */
  p95Seconds: number | null;
  /** farthest resident's seconds to the site; null when no residents. */
  maxSeconds: number | null;
  /** facilities whose access point falls in the zone, per format id. */
  facilitiesByFormat: Record<string, number>;
  /** false when other zones' offsets took the site's own node (the zone then grew from elsewhere or is empty). */
  siteInZone: boolean;
  geometry: GeoJSONGeometry;
}

export interface ZoningBalance {
  /** mean zone population (assigned residents ÷ k). */
  target: number;
  min: number;
  max: number;
  tolerance: number;
  /** every zone within target × (1 ± tolerance). */
  met: boolean;
  /** largest |population − target| ÷ target. */
  maxDeviation: number;
  /** network searches spent balancing the final sites. */
  iterations: number;
}

export interface ZoningResult {
  k: number;
  radiusSeconds: number;
  walkingProfile: string;
  /** true when the sites were chosen here (no anchors given). */
  anchorsChosen: boolean;
  zones: Zone[];
  /** per residence: zone index, −1 when unreachable from every site. */
  residenceZone: Int32Array;
  /** per residence: seconds to its own zone's site (Infinity when unassigned). */
  residenceSeconds: Float64Array;
  /** per network node: zone index, −1 when no site reaches it. */
  nodeZone: Int32Array;
  /** per facility: zone index, −1 when unsnapped or unreachable. */
  facilityZone: Int32Array;
  balance: ZoningBalance;
  /** grid cell of the polygons, metres (0 when polygons were skipped). */
  cellMetres: number;
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// network preparation

interface Network {
  region: Region;
  edgeSec: Float32Array;
  arcSec: Float32Array;
  speed: number;
  /** per access point: its edge's end nodes (pFrom −1 = unsnapped) and seconds to each incl. the access leg. */
  pFrom: Int32Array;
  pTo: Int32Array;
  pA: Float64Array;
  pB: Float64Array;
  pFrac: Float64Array;
  pop: Float64Array;
  eld: Float64Array;
  /** per residence: 1 when at least one access point snapped. */
  snapped: Uint8Array;
  ws: DijkstraWorkspace;
}

const fracOf = (offset: number, len: number): number => (len > 0 ? Math.min(1, Math.max(0, offset / len)) : 0);

function prepare(region: Region, walking: WalkingProfile, pop: Float64Array, eld: Float64Array): Network {
  const g = region.graph;
  const rs = region.residenceSnaps;
  const t = region.residences;
  const edgeSec = edgeSeconds(g, walking);
  const arcSec = arcSeconds(g, walking, edgeSec);
  const speed = walking.speedMps;
  const points = rs.edge.length;
  const pFrom = new Int32Array(points).fill(-1);
  const pTo = new Int32Array(points);
  const pA = new Float64Array(points);
  const pB = new Float64Array(points);
  const pFrac = new Float64Array(points);
  for (let p = 0; p < points; p++) {
    const e = rs.edge[p];
    if (e < 0) continue;
    const f = fracOf(rs.offset[p], g.edgeLength[e]);
    const acc = rs.access[p] / speed;
    pFrom[p] = g.edgeFrom[e];
    pTo[p] = g.edgeTo[e];
    pFrac[p] = f;
    pA[p] = acc + f * edgeSec[e];
    pB[p] = acc + (1 - f) * edgeSec[e];
  }
  const snapped = new Uint8Array(t.count);
  for (let r = 0; r < t.count; r++) {
    for (let p = t.gateOffsets[r]; p < t.gateOffsets[r + 1]; p++) {
      if (pFrom[p] >= 0) {
        snapped[r] = 1;
        break;
      }
    }
  }
  return { region, edgeSec, arcSec, speed, pFrom, pTo, pA, pB, pFrac, pop, eld, snapped, ws: new DijkstraWorkspace(g.nodeCount) };
}

// ---------------------------------------------------------------------------------------------
// sites and assignment

interface Sites {
  k: number;
  node: Int32Array;
  lon: Float64Array;
  lat: Float64Array;
  /** snapped edge of a given anchor, −1 for a site at a node. */
  edge: Int32Array;
  frac: Float64Array;
  /** seconds of the anchor's access leg. */
  accSec: Float64Array;
  seedNodes: Int32Array;
  seedBase: Float64Array;
  seedZone: Int32Array;
  /** access points on a site's edge: point sePoint[j] reaches zone seZone[j] directly in seSec[j] seconds. */
  sePoint: Int32Array;
  seZone: Int32Array;
  seSec: Float64Array;
}

function nodeSites(net: Network, nodes: Int32Array): Sites {
  const k = nodes.length;
  const nc = net.region.graph.nodeCoords;
  return {
    k,
    node: nodes.slice(),
    lon: Float64Array.from(nodes, (u) => nc[2 * u]),
    lat: Float64Array.from(nodes, (u) => nc[2 * u + 1]),
    edge: new Int32Array(k).fill(-1),
    frac: new Float64Array(k),
    accSec: new Float64Array(k),
    seedNodes: nodes.slice(),
    seedBase: new Float64Array(k),
    seedZone: Int32Array.from(nodes, (_, i) => i),
    sePoint: new Int32Array(0),
    seZone: new Int32Array(0),
    seSec: new Float64Array(0),
  };
}

/** Snap given anchors; errors name the anchor's index. */
function anchorSites(net: Network, anchors: readonly ZoningAnchor[]): Sites {
  const region = net.region;
  const g = region.graph;
  const k = anchors.length;
  const index = buildSnapIndex(g);
  const limit = region.meta.snapLimitMetres > 0 ? region.meta.snapLimitMetres : 300;
  const s: Sites = {
    k,
    node: new Int32Array(k),
    lon: new Float64Array(k),
    lat: new Float64Array(k),
    edge: new Int32Array(k),
    frac: new Float64Array(k),
    accSec: new Float64Array(k),
    seedNodes: new Int32Array(2 * k),
    seedBase: new Float64Array(2 * k),
    seedZone: new Int32Array(2 * k),
    sePoint: new Int32Array(0),
    seZone: new Int32Array(0),
    seSec: new Float64Array(0),
  };
  const offsets = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const a = anchors[i];
    if (a === null || typeof a !== 'object' || typeof a.lon !== 'number' || typeof a.lat !== 'number' || !Number.isFinite(a.lon) || !Number.isFinite(a.lat)) {
      throw new PlanInputError(`anchor ${i}: lon and lat must be finite numbers`, 'anchors');
    }
    if (Math.abs(a.lat) > 90 || Math.abs(a.lon) > 180 || !insideRegion(region, a.lon, a.lat)) {
      throw new PlanInputError(`anchor ${i} (${a.lon}, ${a.lat}) lies outside the region ${region.meta.name}`, 'anchors');
    }
    const snap = snapPreferMain(index, a.lon, a.lat, limit);
    if (!snap) throw new PlanInputError(`anchor ${i} (${a.lon}, ${a.lat}) is farther than ${limit} m from every walkable way`, 'anchors');
    const e = snap.edge;
    const f = fracOf(snap.offset, g.edgeLength[e]);
    for (let j = 0; j < i; j++) {
      if (s.edge[j] === e && Math.abs(offsets[j] - snap.offset) < 0.5) {
        throw new PlanInputError(`anchors ${j} and ${i} meet the network at the same point`, 'anchors');
      }
    }
    const acc = snap.distance / net.speed;
    const es = net.edgeSec[e];
    s.lon[i] = a.lon;
    s.lat[i] = a.lat;
    s.edge[i] = e;
    s.frac[i] = f;
    s.accSec[i] = acc;
    offsets[i] = snap.offset;
    s.seedNodes[2 * i] = g.edgeFrom[e];
    s.seedBase[2 * i] = acc + f * es;
    s.seedNodes[2 * i + 1] = g.edgeTo[e];
    s.seedBase[2 * i + 1] = acc + (1 - f) * es;
    s.seedZone[2 * i] = s.seedZone[2 * i + 1] = i;
    s.node[i] = f * es <= (1 - f) * es ? g.edgeFrom[e] : g.edgeTo[e];
  }
  // access points sharing an edge with a site reach it straight along the edge
  const byEdge = new Map<number, number[]>();
  for (let i = 0; i < k; i++) {
    let l = byEdge.get(s.edge[i]);
    if (!l) byEdge.set(s.edge[i], (l = []));
    l.push(i);
  }
  const rs = region.residenceSnaps;
  const sp: number[] = [];
  const sz: number[] = [];
  const ss: number[] = [];
  for (let p = 0; p < rs.edge.length; p++) {
    const e = rs.edge[p];
    if (e < 0) continue;
    const l = byEdge.get(e);
    if (!l) continue;
    for (const z of l) {
      sp.push(p);
      sz.push(z);
      ss.push(rs.access[p] / net.speed + Math.abs(net.pFrac[p] - s.frac[z]) * net.edgeSec[e] + s.accSec[z]);
    }
  }
  s.sePoint = Int32Array.from(sp);
  s.seZone = Int32Array.from(sz);
  s.seSec = Float64Array.from(ss);
  return s;
}

/** What one assignment produced (buffers reused across iterations). */
interface Assignment {
  resZone: Int32Array;
  /** seconds incl. the zone's (shifted) offset. */
  resCost: Float64Array;
  /** seconds to the own site (resCost minus the offset). */
  resSec: Float64Array;
  zonePop: Float64Array;
  /** per access point scratch. */
  ptCost: Float64Array;
  ptZone: Int32Array;
  seedSecs: Float64Array;
  /** offsets as applied (shifted so that the smallest is 0). */
  shifted: Float64Array;
}

function newAssignment(net: Network, k: number, seeds: number): Assignment {
  const n = net.region.residences.count;
  const points = net.pFrom.length;
  return {
    resZone: new Int32Array(n),
    resCost: new Float64Array(n),
    resSec: new Float64Array(n),
    zonePop: new Float64Array(k),
    ptCost: new Float64Array(points),
    ptZone: new Int32Array(points),
    seedSecs: new Float64Array(seeds),
    shifted: new Float64Array(k),
  };
}

/** One additive-weight Voronoi assignment; leaves the search in net.ws. */
function assign(net: Network, s: Sites, offsets: Float64Array, out: Assignment): void {
  const k = s.k;
  let minW = Infinity;
  for (let z = 0; z < k; z++) if (offsets[z] < minW) minW = offsets[z];
  for (let z = 0; z < k; z++) out.shifted[z] = offsets[z] - minW;
  for (let i = 0; i < s.seedNodes.length; i++) out.seedSecs[i] = s.seedBase[i] + out.shifted[s.seedZone[i]];
  runDijkstra(net.region.graph, net.arcSec, net.ws, s.seedNodes, out.seedSecs, Infinity, s.seedZone);
  const dist = net.ws.dist;
  const label = net.ws.label;
  const { pFrom, pTo, pA, pB } = net;
  const { ptCost, ptZone } = out;
  for (let p = 0; p < pFrom.length; p++) {
    const u = pFrom[p];
    if (u < 0) {
      ptCost[p] = Infinity;
      ptZone[p] = -1;
      continue;
    }
    const v = pTo[p];
    const a = dist[u] + pA[p];
    const b = dist[v] + pB[p];
    if (a <= b) {
      ptCost[p] = a;
      ptZone[p] = label[u];
    } else {
      ptCost[p] = b;
      ptZone[p] = label[v];
    }
  }
  for (let j = 0; j < s.sePoint.length; j++) {
    const p = s.sePoint[j];
    const z = s.seZone[j];
    const c = s.seSec[j] + out.shifted[z];
    if (c < ptCost[p]) {
      ptCost[p] = c;
      ptZone[p] = z;
    }
  }
  const t = net.region.residences;
  const go = t.gateOffsets;
  out.zonePop.fill(0);
  for (let r = 0; r < t.count; r++) {
    let best = Infinity;
    let bz = -1;
    for (let p = go[r]; p < go[r + 1]; p++) {
      if (ptCost[p] < best) {
        best = ptCost[p];
        bz = ptZone[p];
      }
    }
    out.resZone[r] = bz;
    out.resCost[r] = best;
    if (bz >= 0) {
      out.resSec[r] = best - out.shifted[bz];
      out.zonePop[bz] += net.pop[r];
    } else {
      out.resSec[r] = Infinity;
    }
  }
}

/** balancing gives up after this many iterations without a better worst deviation. */
const STAGNATION_ITERATIONS = 60;

interface BalanceOutcome {
  iterations: number;
  met: boolean;
  maxDeviation: number;
  target: number;
}

/**
 * Ascend the dual (see the header) from the given offsets; on return `offsets` hold the best
 * offsets seen and `out` / net.ws the assignment under them.
 */
function balance(net: Network, s: Sites, offsets: Float64Array, out: Assignment, tol: number, maxIter: number, step0: number): BalanceOutcome {
  const k = s.k;
  const step = new Float64Array(k).fill(step0);
  const prevSign = new Int8Array(k);
  const bestOffsets = offsets.slice();
  let bestDev = Infinity;
  let bestIter = 0;
  let target = 0;
  let it = 0;
  let met = false;
  for (;;) {
    assign(net, s, offsets, out);
    it++;
    let total = 0;
    for (let z = 0; z < k; z++) total += out.zonePop[z];
    target = total / k;
    if (!(target > 0)) return { iterations: it, met: false, maxDeviation: 0, target: 0 };
    let maxDev = 0;
    for (let z = 0; z < k; z++) maxDev = Math.max(maxDev, Math.abs(out.zonePop[z] / target - 1));
    if (maxDev < bestDev) {
      bestDev = maxDev;
      bestOffsets.set(offsets);
      bestIter = it;
    }
    if (maxDev <= tol) {
      met = true;
      break;
    }
    // stop at the cap, or when the best has not improved for a while (lumpy populations can make
    // the tolerance unreachable for these sites: the ascent then only circles the best it found)
    if (it >= maxIter || it - bestIter >= STAGNATION_ITERATIONS) break;
    for (let z = 0; z < k; z++) {
      const dev = Math.min(1, out.zonePop[z] / target - 1);
      const sign = dev > 0 ? 1 : dev < 0 ? -1 : 0;
      if (sign !== 0 && sign === -prevSign[z]) step[z] *= 0.5;
      else if (sign !== 0 && sign === prevSign[z]) step[z] = Math.min(step[z] * 1.2, 50 * step0);
      offsets[z] += step[z] * dev;
      prevSign[z] = sign;
    }
  }
  if (bestIter !== it) {
    offsets.set(bestOffsets);
    assign(net, s, offsets, out);
  }
  return { iterations: it, met, maxDeviation: bestDev, target };
}

// ---------------------------------------------------------------------------------------------
// choosing anchors


/** Index drawn with probability ∝ weight[cands[i]] (null when every weight is 0). */
function draw(cands: Int32Array, weight: Float64Array, rand: () => number): number | null {
  let total = 0;
  for (let i = 0; i < cands.length; i++) total += weight[cands[i]];
  if (!(total > 0)) return null;
  let x = rand() * total;
  for (let i = 0; i < cands.length; i++) {
    x -= weight[cands[i]];
    if (x < 0) return cands[i];
  }
  for (let i = cands.length - 1; i >= 0; i--) if (weight[cands[i]] > 0) return cands[i];
  return null;
}

/**
 * Population at nodes: each residence's residents at the nearer end of its access point with the
 * shortest leg. Only components holding at least half a zone's worth of residents are candidates
 * (a footpath island with a few homes does not get a zone of its own).
 */
function populationNodes(net: Network, k: number): { nodeW: Float64Array; cands: Int32Array } {
  const region = net.region;
  const g = region.graph;
  const t = region.residences;
  const rs = region.residenceSnaps;
  const nodeW = new Float64Array(g.nodeCount);
  for (let r = 0; r < t.count; r++) {
    if (!(net.pop[r] > 0)) continue;
    let bp = -1;
    for (let p = t.gateOffsets[r]; p < t.gateOffsets[r + 1]; p++) {
      if (net.pFrom[p] >= 0 && (bp < 0 || rs.access[p] < rs.access[bp])) bp = p;
    }
    if (bp < 0) continue;
    nodeW[net.pA[bp] <= net.pB[bp] ? net.pFrom[bp] : net.pTo[bp]] += net.pop[r];
  }
  const compPop = new Map<number, number>();
  let total = 0;
  for (let u = 0; u < g.nodeCount; u++) {
    if (nodeW[u] > 0) {
      const c = g.nodeComponent[u];
      compPop.set(c, (compPop.get(c) ?? 0) + nodeW[u]);
      total += nodeW[u];
    }
  }
  let largest = 0;
  for (const v of compPop.values()) largest = Math.max(largest, v);
  const minComp = Math.min(largest, (0.5 * total) / k);
  const list: number[] = [];
  for (let u = 0; u < g.nodeCount; u++) if (nodeW[u] > 0 && (compPop.get(g.nodeComponent[u]) ?? 0) >= minComp) list.push(u);
  return { nodeW, cands: Int32Array.from(list) };
}

/** Greedy k-means++ seeding on network times (bounded at `cap` seconds). */
function seedAnchors(net: Network, k: number, cap: number, rand: () => number): Int32Array {
  const g = net.region.graph;
  const { nodeW, cands } = populationNodes(net, k);
  if (cands.length < k) {
    throw new PlanInputError(`k = ${k} but residents live at only ${cands.length} places on the connected network`, 'k');
  }
  const D = new Float64Array(g.nodeCount).fill(cap);
  const trialD = new Float64Array(g.nodeCount);
  const bestD = new Float64Array(g.nodeCount);
  const weight = new Float64Array(g.nodeCount);
  const chosen = new Int32Array(k);
  const taken = new Uint8Array(g.nodeCount);
  const one = new Int32Array(1);
  const zero = new Float64Array(1);
  const trials = 2 + Math.floor(Math.log(k));
  const ws = net.ws;
  /** D after adding node c, into out; returns Σ w·D². */
  const potentialWith = (c: number, out: Float64Array): number => {
    one[0] = c;
    runDijkstra(g, net.arcSec, ws, one, zero, cap);
    out.set(D);
    for (let i = 0; i < ws.touchedCount; i++) {
      const u = ws.touched[i];
      if (ws.dist[u] < out[u]) out[u] = ws.dist[u];
    }
    let phi = 0;
    for (let i = 0; i < cands.length; i++) {
      const u = cands[i];
      phi += nodeW[u] * out[u] * out[u];
    }
    return phi;
  };
  for (let z = 0; z < k; z++) {
    for (let i = 0; i < cands.length; i++) {
      const u = cands[i];
      weight[u] = taken[u] ? 0 : z === 0 ? nodeW[u] : nodeW[u] * D[u] * D[u];
    }
    let bestC = -1;
    let bestPhi = Infinity;
    for (let tr = 0; tr < (z === 0 ? 1 : trials); tr++) {
      let c = draw(cands, weight, rand);
      if (c === null) {
        // every remaining place is as close as can be: take the most populous one not yet taken
        for (let i = 0; i < cands.length; i++) if (!taken[cands[i]] && (c === null || nodeW[cands[i]] > nodeW[c])) c = cands[i];
      }
      if (c === null || c === bestC) continue;
      const phi = potentialWith(c, trialD);
      if (phi < bestPhi) {
        bestPhi = phi;
        bestC = c;
        bestD.set(trialD);
      }
    }
    chosen[z] = bestC;
    taken[bestC] = 1;
    D.set(bestD);
  }
  return chosen;
}

/** Population within the radius of its own site (the score Lloyd keeps the best of), and Σ pop·seconds. */
function coverage(net: Network, a: Assignment, radius: number): { within: number; seconds: number } {
  let within = 0;
  let seconds = 0;
  for (let r = 0; r < a.resZone.length; r++) {
    if (a.resZone[r] < 0) continue;
    if (a.resSec[r] <= radius) within += net.pop[r];
    seconds += net.pop[r] * a.resSec[r];
  }
  return { within, seconds };
}

/** Each zone's best candidate site (see the header); returns the new site nodes. */
function medoidStep(net: Network, s: Sites, a: Assignment, radius: number, candidates: number): Int32Array {
  const region = net.region;
  const g = region.graph;
  const t = region.residences;
  const k = s.k;
  const label = net.ws.label.slice();
  const go = t.gateOffsets;
  // residents' population-weighted centre per zone (straight line, local degrees are fine for ranking)
  const cx = new Float64Array(k);
  const cy = new Float64Array(k);
  const cw = new Float64Array(k);
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let r = 0; r < t.count; r++) {
    const z = a.resZone[r];
    if (z < 0 || !(net.pop[r] > 0)) continue;
    members[z].push(r);
    cx[z] += net.pop[r] * t.lon[r];
    cy[z] += net.pop[r] * t.lat[r];
    cw[z] += net.pop[r];
  }
  const zoneNodes: number[][] = Array.from({ length: k }, () => []);
  for (let u = 0; u < g.nodeCount; u++) if (label[u] >= 0) zoneNodes[label[u]].push(u);
  const nc = g.nodeCoords;
  const bound = 3 * radius;
  const next = s.node.slice();
  const one = new Int32Array(1);
  const zero = new Float64Array(1);
  const ws = net.ws;
  for (let z = 0; z < k; z++) {
    if (!(cw[z] > 0) || zoneNodes[z].length === 0) continue;
    const mx = cx[z] / cw[z];
    const my = cy[z] / cw[z];
    const kx = Math.cos((my * Math.PI) / 180);
    const nodes = zoneNodes[z];
    const d2 = (u: number): number => ((nc[2 * u] - mx) * kx) ** 2 + (nc[2 * u + 1] - my) ** 2;
    const ranked = nodes.slice().sort((p, q) => d2(p) - d2(q) || p - q);
    const cands = [s.node[z], ...ranked.filter((u) => u !== s.node[z]).slice(0, Math.max(0, candidates - 1))];
    let bestNode = s.node[z];
    let bestWithin = -1;
    let bestSec = Infinity;
    for (const c of cands) {
      one[0] = c;
      runDijkstra(g, net.arcSec, ws, one, zero, bound);
      const dist = ws.dist;
      let within = 0;
      let sec = 0;
      for (const r of members[z]) {
        let best = Infinity;
        for (let p = go[r]; p < go[r + 1]; p++) {
          const u = net.pFrom[p];
          if (u < 0) continue;
          const x = Math.min(dist[u] + net.pA[p], dist[net.pTo[p]] + net.pB[p]);
          if (x < best) best = x;
        }
        if (best <= radius) within += net.pop[r];
        sec += net.pop[r] * Math.min(best, bound);
      }
      // more residents within the radius first; within a hair of each other, less walking
      const eps = 1e-9 * cw[z];
      if (within > bestWithin + eps || (within >= bestWithin - eps && sec < bestSec - 1e-9 * Math.max(1, bestSec))) {
        bestWithin = within;
        bestSec = sec;
        bestNode = c;
      }
    }
    next[z] = bestNode;
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
// entry point

function checkArray(name: string, a: unknown, n: number): Float64Array {
  if (!(a instanceof Float32Array || a instanceof Float64Array)) throw new PlanInputError(`${name} must be a Float32Array or Float64Array`, name);
  if (a.length !== n) throw new PlanInputError(`${name} has ${a.length} entries for ${n} residences`, name);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (!(v >= 0 && Number.isFinite(v))) throw new PlanInputError(`${name}[${i}] is ${v}: must be a finite number ≥ 0`, name);
    out[i] = v;
  }
  return out;
}

function positiveInt(name: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!(Number.isInteger(v) && v >= min)) throw new PlanInputError(`${name} must be an integer ≥ ${min}, got ${v}`, name);
  return v;
}

/** Partition the region's residences into k zones; see the module header. */
export function zoneDistrict(region: Region, opts: ZoningOptions): ZoningResult {
  const t = region.residences;
  const g = region.graph;
  if (opts === null || typeof opts !== 'object') throw new PlanInputError('options must be an object', 'options');
  const anchors = opts.anchors;
  if (anchors !== undefined && !Array.isArray(anchors)) throw new PlanInputError('anchors must be an array of {lon, lat}', 'anchors');
  const k = opts.k ?? anchors?.length;
  if (k === undefined) throw new PlanInputError('k (number of zones) is required when no anchors are given', 'k');
  if (typeof k !== 'number' || !Number.isInteger(k)) throw new PlanInputError(`k must be an integer, got ${String(k)}`, 'k');
  if (k < 1) throw new PlanInputError(`k must be at least 1, got ${k}`, 'k');
  if (anchors !== undefined && anchors.length !== k) throw new PlanInputError(`k = ${k} but ${anchors.length} anchors were given`, 'anchors');
  const radius = opts.radiusSeconds;
  if (typeof radius !== 'number' || !(radius > 0) || !Number.isFinite(radius)) {
    throw new PlanInputError(`radiusSeconds must be a positive number of seconds, got ${String(radius)}`, 'radiusSeconds');
  }
  const tol = opts.tolerance ?? 0.2;
  if (typeof tol !== 'number' || !(tol > 0 && tol <= 1)) throw new PlanInputError(`tolerance must be in (0, 1], got ${String(tol)}`, 'tolerance');
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed)) throw new PlanInputError(`seed must be an integer, got ${seed}`, 'seed');
  const maxIter = positiveInt('maxBalanceIterations', opts.maxBalanceIterations, 200, 1);
  const lloydSteps = positiveInt('lloydSteps', opts.lloydSteps, 5, 0);
  const medoidCandidates = positiveInt('medoidCandidates', opts.medoidCandidates, 16, 1);
  const pop = checkArray('population', opts.population ?? t.population, t.count);
  const eld = checkArray('elderly', opts.elderly ?? t.elderly, t.count);
  const walking = opts.walking ?? getWalkingProfile('default');
  const net = prepare(region, walking, pop, eld);

  let populated = 0;
  for (let r = 0; r < t.count; r++) if (pop[r] > 0 && net.snapped[r]) populated++;
  if (k > populated) {
    throw new PlanInputError(`k = ${k} is more than the ${populated} residences with residents that reach the network`, 'k');
  }

  const warnings: string[] = [];
  const offsets = new Float64Array(k);
  const step0 = 0.1 * radius;
  let sites: Sites;
  if (anchors !== undefined) {
    sites = anchorSites(net, anchors);
  } else {
    const rand = mulberry32(seed);
    // k-means++ needs "far" told from "near" at the scale of a zone: a zone's width (from the
    // region's extent) or a few radii, whichever is larger; beyond it searches need not go
    const [w, s, e, n] = region.meta.bbox;
    const diag = haversineMetres(w, s, e, n);
    const cap = Math.max(4 * radius, (2 * diag) / Math.sqrt(k) / walking.speedMps);
    sites = nodeSites(net, seedAnchors(net, k, Number.isFinite(cap) ? cap : 4 * radius, rand));
    let bestNodes = sites.node.slice();
    const bestOffsets = offsets.slice();
    let bestWithin = -1;
    let bestSec = Infinity;
    const scratch = newAssignment(net, k, sites.seedNodes.length);
    for (let step = 0; step <= lloydSteps; step++) {
      balance(net, sites, offsets, scratch, tol, Math.min(maxIter, 60), step0);
      const c = coverage(net, scratch, radius);
      if (c.within > bestWithin + 1e-9 || (c.within >= bestWithin - 1e-9 && c.seconds < bestSec)) {
        bestWithin = c.within;
        bestSec = c.seconds;
        bestNodes = sites.node.slice();
        bestOffsets.set(offsets);
      }
      if (step === lloydSteps) break;
      const next = medoidStep(net, sites, scratch, radius, medoidCandidates);
      let moved = false;
      for (let z = 0; z < k; z++) if (next[z] !== sites.node[z]) moved = true;
      if (!moved) break;
      sites = nodeSites(net, next);
    }
    sites = nodeSites(net, bestNodes);
    offsets.set(bestOffsets);
  }

  const a = newAssignment(net, k, sites.seedNodes.length);
  const bal = balance(net, sites, offsets, a, tol, maxIter, step0);
  const dist = net.ws.dist.slice();
  const nodeZone = net.ws.label.slice();

  // facilities: the residences' rule, including a site on the facility's own edge
  const fs = region.facilitySnaps;
  const facilityZone = new Int32Array(region.facilities.length).fill(-1);
  for (let i = 0; i < region.facilities.length; i++) {
    const e = fs.edge[i];
    if (e < 0) continue;
    const f = fracOf(fs.offset[i], g.edgeLength[e]);
    const es = net.edgeSec[e];
    const u = g.edgeFrom[e];
    const v = g.edgeTo[e];
    let best = dist[u] + f * es;
    let bz = nodeZone[u];
    if (dist[v] + (1 - f) * es < best) {
      best = dist[v] + (1 - f) * es;
      bz = nodeZone[v];
    }
    for (let z = 0; z < k; z++) {
      if (sites.edge[z] !== e) continue;
      const direct = Math.abs(f - sites.frac[z]) * es + sites.accSec[z] + a.shifted[z];
      if (direct < best) {
        best = direct;
        bz = z;
      }
    }
    facilityZone[i] = best < Infinity ? bz : -1;
  }

  // per-zone statistics
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let r = 0; r < t.count; r++) if (a.resZone[r] >= 0) members[a.resZone[r]].push(r);
  const nodeCounts = new Int32Array(k);
  for (let u = 0; u < g.nodeCount; u++) if (nodeZone[u] >= 0) nodeCounts[nodeZone[u]]++;
  let polys: GeoJSONGeometry[] | null = null;
  let cellMetres = 0;
  if (opts.polygons !== false) {
    const pr = zonePolygons(g, nodeZone, dist, net.edgeSec, k, { cellMetres: opts.cellMetres, offroadMetres: opts.offroadMetres });
    polys = pr.geometries;
    cellMetres = pr.cellMetres;
    if (opts.cellMetres !== undefined && pr.cellMetres > opts.cellMetres) {
      warnings.push(`polygon grid coarsened from ${opts.cellMetres} m to ${pr.cellMetres.toFixed(1)} m cells: the district is large`);
    }
  }
  const zones: Zone[] = [];
  for (let z = 0; z < k; z++) {
    let population = 0;
    let elderly = 0;
    let within = 0;
    const list = members[z].filter((r) => pop[r] > 0).sort((p, q) => a.resSec[p] - a.resSec[q] || p - q);
    for (const r of members[z]) {
      population += pop[r];
      elderly += eld[r];
      if (pop[r] > 0 && a.resSec[r] <= radius) within += pop[r];
    }
    let p95: number | null = null;
    let max: number | null = null;
    if (population > 0 && list.length > 0) {
      let cum = 0;
      for (const r of list) {
        cum += pop[r];
        if (cum >= 0.95 * population - 1e-9 * population) {
          p95 = a.resSec[r];
          break;
        }
      }
      p95 ??= a.resSec[list[list.length - 1]];
      max = a.resSec[list[list.length - 1]];
    }
    const facilitiesByFormat: Record<string, number> = {};
    for (let i = 0; i < region.facilities.length; i++) {
      if (facilityZone[i] !== z) continue;
      for (const fmt of region.facilities[i].formats) facilitiesByFormat[fmt] = (facilitiesByFormat[fmt] ?? 0) + 1;
    }
    const siteInZone =
      sites.edge[z] >= 0
        ? nodeZone[sites.seedNodes[2 * z]] === z || nodeZone[sites.seedNodes[2 * z + 1]] === z
        : nodeZone[sites.node[z]] === z;
    zones.push({
      id: z,
      name: anchors?.[z]?.name ?? `片区 ${z + 1}`,
      site: { lon: sites.lon[z], lat: sites.lat[z], node: sites.node[z] },
      offsetSeconds: a.shifted[z],
      population,
      elderly,
      elderlyShare: population > 0 ? elderly / population : 0,
      residences: members[z].length,
      nodes: nodeCounts[z],
      withinRadiusShare: population > 0 ? within / population : null,
      p95Seconds: p95,
      maxSeconds: max,
      facilitiesByFormat,
      siteInZone,
      geometry: polys ? polys[z] : { type: 'MultiPolygon', coordinates: [] },
    });
  }

  // warnings
  let minPop = Infinity;
  let maxPop = -Infinity;
  for (const z of zones) {
    minPop = Math.min(minPop, z.population);
    maxPop = Math.max(maxPop, z.population);
  }
  let lostRes = 0;
  let lostPop = 0;
  let beyond = 0;
  let assignedPop = 0;
  for (let r = 0; r < t.count; r++) {
    if (a.resZone[r] < 0) {
      if (pop[r] > 0) {
        lostRes++;
        lostPop += pop[r];
      }
    } else {
      assignedPop += pop[r];
      if (a.resSec[r] > radius) beyond += pop[r];
    }
  }
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  if (lostRes > 0) {
    warnings.push(`${lostRes} residences (${fmt(lostPop)} residents) are on network islands or off the network, reached by no site: left without a zone`);
  }
  if (beyond > 0) {
    warnings.push(
      `${fmt(beyond)} residents (${((100 * beyond) / Math.max(assignedPop, 1e-9)).toFixed(1)} %) live beyond the ${Math.round(radius)} s service radius of their zone's site`,
    );
  }
  if (!bal.met) {
    warnings.push(
      `zone populations ${fmt(minPop)}–${fmt(maxPop)} are not all within ±${Math.round(tol * 100)} % of the mean ${fmt(bal.target)} after ${bal.iterations} iterations (largest deviation ${(bal.maxDeviation * 100).toFixed(1)} %)` +
        (anchors !== undefined ? '; a zone always keeps the residents whose way to every other site passes its own, so some given sites cannot be balanced' : ''),
    );
  }
  for (const z of zones) {
    if (!z.siteInZone) warnings.push(`${z.name}: its site lies in another zone (offsets pushed it out); the zone grew from elsewhere`);
    if (z.population === 0) warnings.push(`${z.name}: no residents`);
    if (g.nodeComponent[z.site.node] !== 0) warnings.push(`${z.name}: its site is on a network island (component ${g.nodeComponent[z.site.node]})`);
  }

  return {
    k,
    radiusSeconds: radius,
    walkingProfile: walking.id,
    anchorsChosen: anchors === undefined,
    zones,
    residenceZone: a.resZone.slice(),
    residenceSeconds: a.resSec.slice(),
    nodeZone,
    facilityZone,
    balance: {
      target: bal.target,
      min: minPop,
      max: maxPop,
      tolerance: tol,
      met: bal.met,
      maxDeviation: bal.maxDeviation,
      iterations: bal.iterations,
    },
    cellMetres,
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------
// GeoJSON

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Zones as a FeatureCollection: one Polygon / MultiPolygon feature per zone, properties in Chinese
 * and English, the site as coordinates in the properties (not a Point feature) so that the file
 * reads back as a zones file (assess --zones: 名称 names the zone, 人口 is its population).
 */
export function zoningToGeoJson(result: ZoningResult, region: Region): object {
  const features: object[] = [];
  for (const z of result.zones) {
    const props = {
      zone: z.id,
      片区: z.id + 1,
      name: z.name,
      名称: z.name,
      population: round(z.population, 1),
      人口: round(z.population, 1),
      elderly: round(z.elderly, 1),
      老年人口: round(z.elderly, 1),
      elderlyShare: round(z.elderlyShare, 4),
      老龄化率: round(z.elderlyShare, 4),
      residences: z.residences,
      住宅数: z.residences,
      withinRadiusShare: z.withinRadiusShare === null ? null : round(z.withinRadiusShare, 4),
      服务半径内人口占比: z.withinRadiusShare === null ? null : round(z.withinRadiusShare, 4),
      p95Seconds: z.p95Seconds === null ? null : round(z.p95Seconds, 1),
      '95%步行秒数': z.p95Seconds === null ? null : round(z.p95Seconds, 1),
      maxSeconds: z.maxSeconds === null ? null : round(z.maxSeconds, 1),
      最远步行秒数: z.maxSeconds === null ? null : round(z.maxSeconds, 1),
      siteLon: round(z.site.lon, 7),
      站点经度: round(z.site.lon, 7),
      siteLat: round(z.site.lat, 7),
      站点纬度: round(z.site.lat, 7),
      siteInZone: z.siteInZone,
      offsetSeconds: round(z.offsetSeconds, 2),
      facilitiesByFormat: z.facilitiesByFormat,
      设施: z.facilitiesByFormat,
      radiusSeconds: result.radiusSeconds,
      服务半径秒数: result.radiusSeconds,
    };
    features.push({ type: 'Feature', properties: props, geometry: z.geometry });
  }
  return {
    type: 'FeatureCollection',
    name: `${region.meta.name} 片区划分 / zoning`,
    attribution: region.meta.attribution || OSM_ATTRIBUTION,
    properties: {
      region: region.meta.name,
      k: result.k,
      walkingProfile: result.walkingProfile,
      radiusSeconds: result.radiusSeconds,
      balance: result.balance,
      anchorsChosen: result.anchorsChosen,
      warnings: result.warnings,
    },
    features,
  };
}
