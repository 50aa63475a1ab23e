/**
 * Apply a scenario's edits to a base region: a NEW Region, the base untouched.
 *
 * Facility edits change the facility list (removed facilities drop out and the rest are
 * renumbered, since Facility.id is the index; added ones follow the base's) and snap only the
 * facilities that moved or were added, with the import's rule (snapPreferMain within
 * meta.snapLimitMetres). Unchanged arrays (graph, residences, their snaps) are shared.
 *
 * Network edits are replayed in order on a draft of the edge list, each seeing the network the
 * earlier ones left (a link can close a link added before it); the graph is built once at the end
 * (buildWalkGraph: arcs and components). Edge ids stay stable as far as possible: surviving base
 * edges keep their order (ids shift down past closed ones), split parts and new links come after
 * them; AppliedScenario.edgeMap says where each base edge went.
 *  - add_link: both ends snap to the nearest point of the current network (no preference for the
 *    main network: the user points at where the link joins); the edge there is split in two
 *    (lengths split at the snapped offset, so the parts add up to the original) unless the point
 *    is within SPLIT_END_METRES of an end node. The link runs end node → `from` → `to` → end node,
 *    flagged EDGE_FLAG_SYNTHETIC.
 *  - close_link: removes the current edge nearest `at`, or every edge of an OSM way.
 *  - close_gate: the node nearest `at` (among nodes where two or more edges meet) gets a copy of
 *    itself for every incident edge but the first: each edge stays walkable up to the gate, no
 *    path passes through it.
 * Afterwards every facility and residence access point keeps its place when its edge survived
 * (a point on a split edge moves to the part holding its offset, exactly); it is snapped again
 * (import rule) when its edge was closed, or when its edge joined or left the main network
 * (snapPreferMain's choice depends on that). Points that were off the network are tried again
 * when links were added. A new link does not move the door of a home whose own street is intact.
 */
import type Flatbush from 'flatbush';
import { haversineMetres, metresPerDegLon, METRES_PER_DEG_LAT } from '../engine/geo.js';
import { buildWalkGraph, componentSizes, EDGE_FLAG_SYNTHETIC, type EdgeList, type WalkGraph } from '../engine/graph.js';
import { snapIndexFor, snapPoint, snapPreferMain, type SnapIndex } from '../engine/snap.js';
import { WALK_CLASSES } from '../ingest/walkability.js';
import type { ResidenceSnaps } from '../ingest/residences/index.js';
import type { Facility, FacilitySnaps, Region, RegionMeta } from '../region/region.js';
import { loadTaxonomy, type Taxonomy } from '../taxonomy/formats.js';
import { parseEdits, ScenarioEditError, type AddFacilityEdit, type AddLinkEdit, type Edit, type FacilityRef, type LonLat } from './edits.js';

/** A link end this close (metres along the edge) to an end node joins that node: no sliver edges. */
export const SPLIT_END_METRES = 0.5;
/** New links are walked as footways (edgeClass only labels exports; it does not change times). */
const LINK_CLASS = Math.max(0, WALK_CLASSES.indexOf('footway'));
/** Looking this far for the nearest way, only to say how far off a rejected point is. */
const FAR_SEARCH_METRES = 50_000;

export interface AppliedScenario {
  region: Region;
  /** per facility of the new region: its id in the base region, −1 for an added one. */
  facilityBaseId: Int32Array;
  /** per base facility: its id in the new region, −1 when removed. */
  baseFacilityMap: Int32Array;
  /** add_facility edit id → facility id in the new region (removed ones absent). */
  addedFacilityIds: Map<string, number>;
  networkChanged: boolean;
  /** per base edge: its id in the new graph, −1 when closed or split (null when the network is unchanged). */
  edgeMap: Int32Array | null;
  /** facility snaps computed afresh (moved / added / their edge changed). */
  resnappedFacilities: number;
  /** residence access points snapped afresh. */
  resnappedPoints: number;
  warnings: string[];
  /** milliseconds. */
  timings: { parse: number; network: number; snap: number; total: number };
}

export interface ApplyOptions {
  taxonomy?: Taxonomy;
}

export { snapIndexFor } from '../engine/snap.js';

/** A new region with the edits applied (the base is not changed). Throws ScenarioEditError naming the edit at fault. */
export function applyScenario(base: Region, edits: readonly Edit[], opts: ApplyOptions = {}): Region {
  return applyScenarioDetailed(base, edits, opts).region;
}

export function applyScenarioDetailed(base: Region, rawEdits: readonly Edit[] | readonly unknown[], opts: ApplyOptions = {}): AppliedScenario {
  const t0 = performance.now();
  const taxonomy = opts.taxonomy ?? loadTaxonomy();
  const nf = base.facilities.length;
  // re-checked even when typed: a hand-built Edit[] gets the same guarantees as stored JSON
  const edits = parseEdits(rawEdits, { taxonomy, facilityCount: nf });
  const tParse = performance.now();
  const limit = base.meta.snapLimitMetres;

  // ---- replay
  const removedBase = new Uint8Array(nf);
  const movedBy = new Int32Array(nf).fill(-1);
  const movedLon = new Float64Array(nf);
  const movedLat = new Float64Array(nf);
  interface Added {
    edit: AddFacilityEdit;
    index: number;
    lon: number;
    lat: number;
    placedBy: number;
    removed: boolean;
  }
  const added = new Map<string, Added>();
  let draft: NetworkDraft | null = null;
  for (let i = 0; i < edits.length; i++) {
    const e = edits[i];
    switch (e.type) {
      case 'add_facility':
        added.set(e.id, { edit: e, index: i, lon: e.lon, lat: e.lat, placedBy: i, removed: false });
        break;
      case 'move_facility':
        placeRef(e.facility, (b) => {
          movedBy[b] = i;
          movedLon[b] = e.lon;
          movedLat[b] = e.lat;
        }, (a) => {
          a.lon = e.lon;
          a.lat = e.lat;
          a.placedBy = i;
        });
        break;
      case 'remove_facility':
        placeRef(e.facility, (b) => (removedBase[b] = 1), (a) => (a.removed = true));
        break;
      case 'add_link':
        (draft ??= new NetworkDraft(base, limit)).addLink(i, e);
        break;
      case 'close_link':
        draft ??= new NetworkDraft(base, limit);
        if ('way' in e) draft.closeWay(i, e, e.way);
        else draft.closeLinkAt(i, e, e.at);
        break;
      case 'close_gate':
        (draft ??= new NetworkDraft(base, limit)).closeGate(i, e, e.at);
        break;
    }
  }
  function placeRef(ref: FacilityRef, onBase: (id: number) => void, onAdded: (a: Added) => void): void {
    if ('base' in ref) onBase(ref.base);
    else onAdded(added.get(ref.added) as Added); // parseEdits guarantees the add came earlier
  }

  // ---- network
  const built = draft?.build() ?? null;
  const graph = built?.graph ?? base.graph;
  const tNetwork = performance.now();
  let index: SnapIndex | null = null;
  const idx = (): SnapIndex => (index ??= snapIndexFor(graph));

  // ---- facilities
  const facilities: Facility[] = [];
  const facilityBaseId: number[] = [];
  const baseFacilityMap = new Int32Array(nf).fill(-1);
  for (let b = 0; b < nf; b++) {
    if (removedBase[b]) continue;
    const id = facilities.length;
    baseFacilityMap[b] = id;
    facilityBaseId.push(b);
    const f = base.facilities[b];
    // a moved facility is reached at the point given (no longer at an entrance or outline)
    if (movedBy[b] >= 0) facilities.push({ ...f, id, lon: movedLon[b], lat: movedLat[b], accessPoint: 'node' });
    else facilities.push(f.id === id ? f : { ...f, id });
  }
  const addedFacilityIds = new Map<string, number>();
  const addedPlacedBy: number[] = [];
  for (const a of added.values()) {
    if (a.removed) continue;
    const id = facilities.length;
    addedFacilityIds.set(a.edit.id, id);
    facilityBaseId.push(-1);
    addedPlacedBy.push(a.placedBy);
    facilities.push({
      id,
      source: 'user',
      sourceId: a.index,
      formats: [...a.edit.formats],
      name: a.edit.name,
      lon: a.lon,
      lat: a.lat,
      accessPoint: 'node',
      tags: { ...(a.edit.tags ?? {}) },
    });
  }
  const n2 = facilities.length;
  const fEdge = new Int32Array(n2);
  const fOffset = new Float32Array(n2);
  const fAccess = new Float32Array(n2);
  const bs = base.facilitySnaps;
  let resnappedFacilities = 0;
  const warnings: string[] = [];
  const remap = built ? new PointRemapper(base.graph, built, limit, idx) : null;
  for (let id = 0; id < n2; id++) {
    const b = facilityBaseId[id];
    const f = facilities[id];
    if (b >= 0 && movedBy[b] < 0) {
      if (!remap) {
        fEdge[id] = bs.edge[b];
        fOffset[id] = bs.offset[b];
        fAccess[id] = bs.access[b];
      } else {
        if (remap.place(bs.edge[b], bs.offset[b], bs.access[b], f.lon, f.lat)) resnappedFacilities++;
        fEdge[id] = remap.edge;
        fOffset[id] = remap.offset;
        fAccess[id] = remap.access;
        if (remap.edge < 0 && bs.edge[b] >= 0) warnings.push(`facility ${b} "${f.name}" is cut off: no walkable way within ${limit} m after the network edits`);
      }
      continue;
    }
    resnappedFacilities++;
    const s = snapPreferMain(idx(), f.lon, f.lat, limit);
    if (!s) {
      const at = b >= 0 ? movedBy[b] : addedPlacedBy[id - (n2 - addedPlacedBy.length)];
      const e = edits[at];
      throw ScenarioEditError.at(at, e, 'lon', farMessage(idx(), f.lon, f.lat, limit, base.meta.bbox, draft !== null));
    }
    fEdge[id] = s.edge;
    fOffset[id] = s.offset;
    fAccess[id] = s.distance;
  }
  const facilitySnaps: FacilitySnaps = { edge: fEdge, offset: fOffset, access: fAccess };

  // ---- residence access points
  let residenceSnaps: ResidenceSnaps = base.residenceSnaps;
  let resnappedPoints = 0;
  if (remap) {
    const rs = base.residenceSnaps;
    const gc = base.residences.gateCoords;
    const points = rs.edge.length;
    const edge = new Int32Array(points);
    const offset = new Float32Array(points);
    const access = new Float32Array(points);
    for (let p = 0; p < points; p++) {
      if (remap.place(rs.edge[p], rs.offset[p], rs.access[p], gc[2 * p], gc[2 * p + 1])) resnappedPoints++;
      edge[p] = remap.edge;
      offset[p] = remap.offset;
      access[p] = remap.access;
    }
    residenceSnaps = { edge, offset, access };
  }
  const tSnap = performance.now();

  const meta = updatedMeta(base, taxonomy, graph, facilities, facilitySnaps, residenceSnaps, built !== null);
  return {
    region: { ...base, meta, graph, facilities, facilitySnaps, residenceSnaps },
    facilityBaseId: Int32Array.from(facilityBaseId),
    baseFacilityMap,
    addedFacilityIds,
    networkChanged: built !== null,
    edgeMap: built?.edgeMap ?? null,
    resnappedFacilities,
    resnappedPoints,
    warnings,
    timings: { parse: tParse - t0, network: tNetwork - tParse, snap: tSnap - tNetwork, total: performance.now() - t0 },
  };
}

/** "is 812 m from the nearest walkable way (limit 300 m)", with a hint when lon and lat look swapped. */
function farMessage(index: SnapIndex, lon: number, lat: number, limit: number, bbox: readonly number[], edited: boolean): string {
  const s = snapPoint(index, lon, lat, FAR_SEARCH_METRES);
  const net = edited ? "the scenario's network" : 'the network';
  const far = s ? `is ${Math.round(s.distance)} m from the nearest walkable way of ${net}` : `is more than ${FAR_SEARCH_METRES / 1000} km from every walkable way of ${net}`;
  const [w, so, e, n] = bbox;
  const swapped = lat >= w && lat <= e && lon >= so && lon <= n && !(lon >= w && lon <= e && lat >= so && lat <= n);
  return `${lon},${lat} ${far} (limit ${limit} m)${swapped ? `; lon and lat look swapped (${lat},${lon} is inside the region)` : ''}`;
}

/** Nearest position on a draft edge. */
interface EdgeHit {
  /** draft edge (< base edge count: a base edge; else an extra). */
  edge: number;
  /** segment within the edge's own geometry (points seg, seg + 1). */
  seg: number;
  t: number;
  /** metres from the edge's from-node (in its length's scale). */
  offset: number;
  distance: number;
  lon: number;
  lat: number;
}

interface BuiltNetwork {
  graph: WalkGraph;
  /** per base edge: new id, −1 when closed or split. */
  edgeMap: Int32Array;
  /** base edge → its surviving parts: new ids and their [lo, hi] offsets along the base edge. */
  parts: Map<number, Array<{ id: number; lo: number; hi: number }>>;
  /** links were added (points off the network may reach one now). */
  linksAdded: boolean;
}

/**
 * The base edge list with edits on top: base edges can be closed or re-attached (gate copies),
 * extras (split parts, links) appended. Snapping queries see the current state: the base
 * index's segments minus closed edges, plus the extras by brute force (a scenario adds few).
 */
class NetworkDraft {
  private readonly g: WalkGraph;
  private readonly index: SnapIndex;
  private readonly m: number;
  private readonly from: Int32Array;
  private readonly to: Int32Array;
  private readonly alive: Uint8Array;
  private readonly deg: Int32Array;
  // extra nodes
  private readonly xLon: number[] = [];
  private readonly xLat: number[] = [];
  private readonly xOsm: number[] = [];
  private readonly xDeg: number[] = [];
  // extra edges
  private readonly xFrom: number[] = [];
  private readonly xTo: number[] = [];
  private readonly xLen: number[] = [];
  private readonly xWay: number[] = [];
  private readonly xClass: number[] = [];
  private readonly xFlags: number[] = [];
  private readonly xGeom: number[][] = [];
  private readonly xOrig: number[] = [];
  private readonly xLo: number[] = [];
  private readonly xAlive: number[] = [];
  private nextNodeId: number;
  private nextWayId: number;
  private linksAdded = false;

  constructor(
    private readonly base: Region,
    private readonly limit: number,
  ) {
    const g = (this.g = base.graph);
    this.index = snapIndexFor(g);
    this.m = g.edgeCount;
    this.from = g.edgeFrom.slice();
    this.to = g.edgeTo.slice();
    this.alive = new Uint8Array(this.m).fill(1);
    this.deg = new Int32Array(g.nodeCount);
    for (let u = 0; u < g.nodeCount; u++) this.deg[u] = g.arcOffsets[u + 1] - g.arcOffsets[u];
    // synthetic ids below every id in use (negative: not OSM), so scenarios applied on top of scenarios never collide
    let minNode = 0;
    for (let u = 0; u < g.nodeCount; u++) if (g.nodeOsmIds[u] < minNode) minNode = g.nodeOsmIds[u];
    let minWay = 0;
    for (let e = 0; e < this.m; e++) if (g.edgeWayId[e] < minWay) minWay = g.edgeWayId[e];
    this.nextNodeId = minNode - 1;
    this.nextWayId = minWay - 1;
  }

  // ---- accessors over base and extra edges / nodes
  private isAlive(d: number): boolean {
    return d < this.m ? this.alive[d] === 1 : this.xAlive[d - this.m] === 1;
  }
  private fromOf(d: number): number {
    return d < this.m ? this.from[d] : this.xFrom[d - this.m];
  }
  private toOf(d: number): number {
    return d < this.m ? this.to[d] : this.xTo[d - this.m];
  }
  private setEnds(d: number, a: number, b: number): void {
    if (d < this.m) {
      this.from[d] = a;
      this.to[d] = b;
    } else {
      this.xFrom[d - this.m] = a;
      this.xTo[d - this.m] = b;
    }
  }
  private lengthOf(d: number): number {
    return d < this.m ? this.g.edgeLength[d] : this.xLen[d - this.m];
  }
  private wayOf(d: number): number {
    return d < this.m ? this.g.edgeWayId[d] : this.xWay[d - this.m];
  }
  private nodeLon(u: number): number {
    return u < this.g.nodeCount ? this.g.nodeCoords[2 * u] : this.xLon[u - this.g.nodeCount];
  }
  private nodeLat(u: number): number {
    return u < this.g.nodeCount ? this.g.nodeCoords[2 * u + 1] : this.xLat[u - this.g.nodeCount];
  }
  private degree(u: number): number {
    return u < this.g.nodeCount ? this.deg[u] : this.xDeg[u - this.g.nodeCount];
  }
  private addDegree(u: number, k: number): void {
    if (u < this.g.nodeCount) this.deg[u] += k;
    else this.xDeg[u - this.g.nodeCount] += k;
  }
  /** Geometry points of draft edge d: coords[2 * (start + k)], k < count. */
  private points(d: number): { coords: ArrayLike<number>; start: number; count: number } {
    if (d < this.m) {
      const go = this.g.geomOffsets;
      return { coords: this.g.geomCoords, start: go[d], count: go[d + 1] - go[d] };
    }
    const c = this.xGeom[d - this.m];
    return { coords: c, start: 0, count: c.length / 2 };
  }
  private get edgeTotal(): number {
    return this.m + this.xFrom.length;
  }

  private addNode(lon: number, lat: number): number {
    const u = this.g.nodeCount + this.xLon.length;
    this.xLon.push(lon);
    this.xLat.push(lat);
    this.xOsm.push(this.nextNodeId--);
    this.xDeg.push(0);
    return u;
  }

  private addEdge(a: number, b: number, geom: number[], length: number, way: number, cls: number, flags: number, orig: number, lo: number): number {
    const d = this.edgeTotal;
    this.xFrom.push(a);
    this.xTo.push(b);
    this.xLen.push(length);
    this.xWay.push(way);
    this.xClass.push(cls);
    this.xFlags.push(flags);
    this.xGeom.push(geom);
    this.xOrig.push(orig);
    this.xLo.push(lo);
    this.xAlive.push(1);
    this.addDegree(a, 1);
    this.addDegree(b, 1);
    return d;
  }

  private kill(d: number): void {
    if (d < this.m) this.alive[d] = 0;
    else this.xAlive[d - this.m] = 0;
    this.addDegree(this.fromOf(d), -1);
    this.addDegree(this.toOf(d), -1);
  }

  /** Nearest position on a live edge within maxMetres (local equirectangular metric, as SnapIndex). */
  nearestEdge(lon: number, lat: number, maxMetres: number): EdgeHit | null {
    const kx = metresPerDegLon(lat);
    const ky = METRES_PER_DEG_LAT;
    let bestD2 = maxMetres * maxMetres;
    let best = -1;
    let bestSeg = -1;
    let bestT = 0;
    let found = false;
    const consider = (d: number, coords: ArrayLike<number>, p: number, k: number): void => {
      const ax = (coords[2 * p] - lon) * kx;
      const ay = (coords[2 * p + 1] - lat) * ky;
      const dx = (coords[2 * p + 2] - lon) * kx - ax;
      const dy = (coords[2 * p + 3] - lat) * ky - ay;
      const l2 = dx * dx + dy * dy;
      let t = l2 > 0 ? -(ax * dx + ay * dy) / l2 : 0;
      if (t < 0) t = 0;
      else if (t > 1) t = 1;
      const px = ax + t * dx;
      const py = ay + t * dy;
      const d2 = px * px + py * py;
      if (d2 < bestD2 || (!found && d2 === bestD2)) {
        bestD2 = d2;
        best = d;
        bestSeg = k;
        bestT = t;
        found = true;
      }
    };
    const tree: Flatbush | null = this.index.tree;
    if (tree) {
      const rx = (maxMetres / kx) * (1 + 1e-9) + 1e-12;
      const ry = (maxMetres / ky) * (1 + 1e-9) + 1e-12;
      const segEdge = this.index.segEdge;
      const segStart = this.index.segStart;
      const go = this.g.geomOffsets;
      const gc = this.g.geomCoords;
      // lowest segment first among equals, as SnapIndex does: search order is not index order
      const hits = tree.search(lon - rx, lat - ry, lon + rx, lat + ry, (s) => this.alive[segEdge[s]] === 1);
      hits.sort((a, b) => a - b);
      for (const s of hits) {
        const e = segEdge[s];
        consider(e, gc, segStart[s], segStart[s] - go[e]);
      }
    }
    for (let x = 0; x < this.xFrom.length; x++) {
      if (!this.xAlive[x]) continue;
      const c = this.xGeom[x];
      for (let k = 0; k + 1 < c.length / 2; k++) consider(this.m + x, c, k, k);
    }
    if (!found) return null;
    const { coords, start } = this.points(best);
    const p = start + bestSeg;
    const lonP = coords[2 * p] + bestT * (coords[2 * p + 2] - coords[2 * p]);
    const latP = coords[2 * p + 1] + bestT * (coords[2 * p + 3] - coords[2 * p + 1]);
    let offset: number;
    if (best < this.m) {
      const pm = this.index.pointMetres;
      offset = pm[p] + bestT * (pm[p + 1] - pm[p]);
    } else {
      const cum = this.cumulative(best);
      offset = cum[bestSeg] + bestT * (cum[bestSeg + 1] - cum[bestSeg]);
    }
    const len = this.lengthOf(best);
    if (offset > len) offset = len;
    return { edge: best, seg: bestSeg, t: bestT, offset, distance: Math.sqrt(bestD2), lon: lonP, lat: latP };
  }

  /** Metres from the from-node to each geometry point of an extra edge, scaled to its length (as SnapIndex.pointMetres). */
  private cumulative(d: number): Float64Array {
    const { coords, start, count } = this.points(d);
    const out = new Float64Array(count);
    for (let k = 1; k < count; k++) {
      const p = start + k - 1;
      out[k] = out[k - 1] + haversineMetres(coords[2 * p], coords[2 * p + 1], coords[2 * p + 2], coords[2 * p + 3]);
    }
    const len = this.lengthOf(d);
    const total = out[count - 1];
    for (let k = 1; k < count; k++) out[k] = total > 0 ? (out[k] * len) / total : (len * k) / (count - 1);
    return out;
  }

  /** The node at a hit: an end node when within SPLIT_END_METRES of it, else a new node splitting the edge. */
  private nodeAt(h: EdgeHit): number {
    const d = h.edge;
    const len = this.lengthOf(d);
    if (h.offset <= SPLIT_END_METRES) return this.fromOf(d);
    if (len - h.offset <= SPLIT_END_METRES) return this.toOf(d);
    const u = this.addNode(h.lon, h.lat);
    const { coords, start, count } = this.points(d);
    const first: number[] = [];
    for (let k = 0; k <= h.seg; k++) first.push(coords[2 * (start + k)], coords[2 * (start + k) + 1]);
    pushPoint(first, h.lon, h.lat);
    const second: number[] = [h.lon, h.lat];
    for (let k = h.seg + 1; k < count; k++) pushPoint(second, coords[2 * (start + k)], coords[2 * (start + k) + 1]);
    const orig = d < this.m ? d : this.xOrig[d - this.m];
    const lo = d < this.m ? 0 : this.xLo[d - this.m];
    const cls = d < this.m ? this.g.edgeClass[d] : this.xClass[d - this.m];
    const flags = d < this.m ? this.g.edgeFlags[d] : this.xFlags[d - this.m];
    const way = this.wayOf(d);
    const a = this.fromOf(d);
    const b = this.toOf(d);
    this.kill(d);
    this.addEdge(a, u, first, h.offset, way, cls, flags, orig, lo);
    this.addEdge(u, b, second, len - h.offset, way, cls, flags, orig, lo + h.offset);
    return u;
  }

  private farText(lon: number, lat: number): string {
    return farMessage(this.index, lon, lat, this.limit, this.base.meta.bbox, true);
  }

  addLink(i: number, e: AddLinkEdit): void {
    const ha = this.nearestEdge(e.from[0], e.from[1], this.limit);
    if (!ha) throw ScenarioEditError.at(i, e, 'from', this.farText(e.from[0], e.from[1]));
    // the second end is snapped after the first split: both ends may fall on the same edge
    const hb0 = this.nearestEdge(e.to[0], e.to[1], this.limit);
    if (!hb0) throw ScenarioEditError.at(i, e, 'to', this.farText(e.to[0], e.to[1]));
    const a = this.nodeAt(ha);
    const hb = this.nearestEdge(e.to[0], e.to[1], this.limit) as EdgeHit;
    const b = this.nodeAt(hb);
    if (a === b) throw ScenarioEditError.at(i, e, 'to', 'both ends join the network at the same point: the link would lead nowhere');
    const geom: number[] = [this.nodeLon(a), this.nodeLat(a)];
    pushPoint(geom, e.from[0], e.from[1]);
    pushPoint(geom, e.to[0], e.to[1]);
    pushPoint(geom, this.nodeLon(b), this.nodeLat(b));
    let length = 0;
    for (let k = 2; k < geom.length; k += 2) length += haversineMetres(geom[k - 2], geom[k - 1], geom[k], geom[k + 1]);
    this.addEdge(a, b, geom, length, this.nextWayId--, LINK_CLASS, EDGE_FLAG_SYNTHETIC, -1, 0);
    this.linksAdded = true;
  }

  closeLinkAt(i: number, e: Edit, at: LonLat): void {
    const h = this.nearestEdge(at[0], at[1], this.limit);
    if (!h) throw ScenarioEditError.at(i, e, 'at', this.farText(at[0], at[1]));
    this.kill(h.edge);
  }

  closeWay(i: number, e: Edit, way: number): void {
    let known = false;
    for (let d = 0; d < this.m; d++) {
      if (this.g.edgeWayId[d] !== way) continue;
      known = true;
      if (this.alive[d]) this.kill(d);
    }
    for (let x = 0; x < this.xFrom.length; x++) {
      if (this.xWay[x] !== way) continue;
      known = true;
      if (this.xAlive[x]) this.kill(this.m + x);
    }
    if (!known) throw ScenarioEditError.at(i, e, 'way', `way ${way} is not part of the region's walking network`);
  }

  closeGate(i: number, e: Edit, at: LonLat): void {
    const [lon, lat] = at;
    const kx = metresPerDegLon(lat);
    const ky = METRES_PER_DEG_LAT;
    const n = this.g.nodeCount + this.xLon.length;
    let best = -1;
    let bestD2 = this.limit * this.limit;
    for (let u = 0; u < n; u++) {
      if (this.degree(u) < 2) continue; // a dead end or a closed node: nothing passes through it
      const dx = (this.nodeLon(u) - lon) * kx;
      const dy = (this.nodeLat(u) - lat) * ky;
      const d2 = dx * dx + dy * dy;
      if (d2 < bestD2 || (best < 0 && d2 === bestD2)) {
        bestD2 = d2;
        best = u;
      }
    }
    if (best < 0) {
      throw ScenarioEditError.at(i, e, 'at', `no network node where two or more ways meet is within ${this.limit} m of ${lon},${lat}`);
    }
    let kept = false;
    const total = this.edgeTotal;
    for (let d = 0; d < total; d++) {
      if (!this.isAlive(d)) continue;
      const a = this.fromOf(d);
      const b = this.toOf(d);
      if (a !== best && b !== best) continue;
      if (!kept) {
        kept = true;
        continue;
      }
      const copy = this.addNode(this.nodeLon(best), this.nodeLat(best));
      const na = a === best ? copy : a;
      const nb = b === best ? copy : b;
      const moved = (a === best ? 1 : 0) + (b === best ? 1 : 0);
      this.setEnds(d, na, nb);
      this.addDegree(best, -moved);
      this.addDegree(copy, moved);
    }
  }

  build(): BuiltNetwork {
    const g = this.g;
    const m = this.m;
    const xCount = this.xFrom.length;
    const edgeMap = new Int32Array(m).fill(-1);
    let M = 0;
    let points = 0;
    const go = g.geomOffsets;
    for (let d = 0; d < m; d++) {
      if (!this.alive[d]) continue;
      edgeMap[d] = M++;
      points += go[d + 1] - go[d];
    }
    const xId = new Int32Array(xCount).fill(-1);
    for (let x = 0; x < xCount; x++) {
      if (!this.xAlive[x]) continue;
      xId[x] = M++;
      points += this.xGeom[x].length / 2;
    }
    const nBase = g.nodeCount;
    const xn = this.xLon.length;
    let nodeCoords = g.nodeCoords;
    let nodeOsmIds = g.nodeOsmIds;
    if (xn > 0) {
      nodeCoords = new Float64Array(2 * (nBase + xn));
      nodeCoords.set(g.nodeCoords);
      nodeOsmIds = new Float64Array(nBase + xn);
      nodeOsmIds.set(g.nodeOsmIds);
      for (let k = 0; k < xn; k++) {
        nodeCoords[2 * (nBase + k)] = this.xLon[k];
        nodeCoords[2 * (nBase + k) + 1] = this.xLat[k];
        nodeOsmIds[nBase + k] = this.xOsm[k];
      }
    }
    const list: EdgeList = {
      nodeCoords,
      nodeOsmIds,
      edgeFrom: new Int32Array(M),
      edgeTo: new Int32Array(M),
      edgeLength: new Float32Array(M),
      edgeWayId: new Float64Array(M),
      edgeClass: new Uint8Array(M),
      edgeFlags: new Uint8Array(M),
      geomOffsets: new Int32Array(M + 1),
      geomCoords: new Float64Array(2 * points),
    };
    let p = 0;
    for (let d = 0; d < m; d++) {
      const id = edgeMap[d];
      if (id < 0) continue;
      list.edgeFrom[id] = this.from[d];
      list.edgeTo[id] = this.to[d];
      list.edgeLength[id] = g.edgeLength[d];
      list.edgeWayId[id] = g.edgeWayId[d];
      list.edgeClass[id] = g.edgeClass[d];
      list.edgeFlags[id] = g.edgeFlags[d];
      list.geomOffsets[id] = p;
      list.geomCoords.set(g.geomCoords.subarray(2 * go[d], 2 * go[d + 1]), 2 * p);
      p += go[d + 1] - go[d];
    }
    const parts = new Map<number, Array<{ id: number; lo: number; hi: number }>>();
    for (let x = 0; x < xCount; x++) {
      const id = xId[x];
      if (id < 0) continue;
      list.edgeFrom[id] = this.xFrom[x];
      list.edgeTo[id] = this.xTo[x];
      list.edgeLength[id] = this.xLen[x];
      list.edgeWayId[id] = this.xWay[x];
      list.edgeClass[id] = this.xClass[x];
      list.edgeFlags[id] = this.xFlags[x];
      list.geomOffsets[id] = p;
      list.geomCoords.set(this.xGeom[x], 2 * p);
      p += this.xGeom[x].length / 2;
      const orig = this.xOrig[x];
      if (orig >= 0) {
        let l = parts.get(orig);
        if (!l) parts.set(orig, (l = []));
        l.push({ id, lo: this.xLo[x], hi: this.xLo[x] + this.xLen[x] });
      }
    }
    list.geomOffsets[M] = p;
    return { graph: buildWalkGraph(list), edgeMap, parts, linksAdded: this.linksAdded };
  }
}

/** Append a point unless it repeats the last one. */
function pushPoint(geom: number[], lon: number, lat: number): void {
  const n = geom.length;
  if (n >= 2 && geom[n - 2] === lon && geom[n - 1] === lat) return;
  geom.push(lon, lat);
}

/** Slack (metres) when finding the split part that holds an offset (offsets are stored as float32). */
const PART_SLACK_METRES = 1e-3;

/** Where a base snap lands on the new network (see the module comment); results in edge / offset / access. */
class PointRemapper {
  edge = -1;
  offset = 0;
  access = 0;
  private readonly memo = new Map<string, { edge: number; offset: number; access: number }>();

  constructor(
    private readonly baseGraph: WalkGraph,
    private readonly built: BuiltNetwork,
    private readonly limit: number,
    private readonly index: () => SnapIndex,
  ) {}

  /** Returns true when the point was snapped afresh. */
  place(e: number, off: number, acc: number, lon: number, lat: number): boolean {
    if (e < 0) {
      if (!this.built.linksAdded) {
        this.edge = -1;
        this.offset = 0;
        this.access = 0;
        return false;
      }
      return this.resnap(lon, lat);
    }
    let ne = this.built.edgeMap[e];
    let no = off;
    if (ne < 0) {
      const parts = this.built.parts.get(e);
      if (parts) {
        for (const q of parts) {
          if (off >= q.lo - PART_SLACK_METRES && off <= q.hi + PART_SLACK_METRES) {
            ne = q.id;
            no = Math.min(q.hi - q.lo, Math.max(0, off - q.lo));
            break;
          }
        }
      }
    }
    if (ne < 0) return this.resnap(lon, lat);
    const g = this.built.graph;
    const wasMain = this.baseGraph.nodeComponent[this.baseGraph.edgeFrom[e]] === 0;
    const isMain = g.nodeComponent[g.edgeFrom[ne]] === 0;
    if (wasMain !== isMain) return this.resnap(lon, lat);
    this.edge = ne;
    this.offset = no;
    this.access = acc;
    return false;
  }

  private resnap(lon: number, lat: number): boolean {
    // compound gates are shared by many homes: snap each distinct point once, as the import does
    const key = `${lon},${lat}`;
    let r = this.memo.get(key);
    if (!r) {
      const s = snapPreferMain(this.index(), lon, lat, this.limit);
      r = s ? { edge: s.edge, offset: s.offset, access: s.distance } : { edge: -1, offset: 0, access: 0 };
      this.memo.set(key, r);
    }
    this.edge = r.edge;
    this.offset = r.offset;
    this.access = r.access;
    return true;
  }
}

/** The import report's counts, recomputed for what changed (facilities; islands and access points when the network did). */
function updatedMeta(
  base: Region,
  taxonomy: Taxonomy,
  graph: WalkGraph,
  facilities: readonly Facility[],
  snaps: FacilitySnaps,
  residenceSnaps: ResidenceSnaps,
  networkChanged: boolean,
): RegionMeta {
  const rep = base.meta.report;
  const byFormat: Record<string, number> = {};
  for (const f of taxonomy.formats) byFormat[f.id] = 0;
  const accessPoints = { node: 0, entrance: 0, 'nearest-to-network': 0, centroid: 0 };
  let unreachable = 0;
  let onIslands = 0;
  for (let i = 0; i < facilities.length; i++) {
    const f = facilities[i];
    for (const fmt of f.formats) byFormat[fmt] = (byFormat[fmt] ?? 0) + 1;
    accessPoints[f.accessPoint]++;
    const e = snaps.edge[i];
    if (e < 0) unreachable++;
    else if (graph.nodeComponent[graph.edgeFrom[e]] !== 0) onIslands++;
  }
  const report = { ...rep, facilities: { total: facilities.length, byFormat, unreachable, onIslands, accessPoints } };
  if (networkChanged) {
    const sizes = componentSizes(graph);
    report.islands = { count: Math.max(0, sizes.length - 1), largestNodes: sizes[0] ?? 0, otherSizes: sizes.slice(1, 51) };
    const t = base.residences;
    let unsnapped = 0;
    let cut = 0;
    for (let r = 0; r < t.count; r++) {
      let any = false;
      for (let p = t.gateOffsets[r]; p < t.gateOffsets[r + 1]; p++) {
        if (residenceSnaps.edge[p] >= 0) any = true;
        else unsnapped++;
      }
      if (!any) cut++;
    }
    report.residences = { ...rep.residences, unsnappedPoints: unsnapped, unreachable: cut };
  }
  return { ...base.meta, report };
}
