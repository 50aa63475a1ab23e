/**
 * OSM file → walking network (edge list) + tagged features, in three streaming passes so
 * memory follows the size of what is kept, not the file:
 *   1. relations: multipolygon/building relations the caller keeps → their outer way ids;
 *   2. ways: walkable ways (refs into growable typed arrays), kept feature ways, member ways;
 *   3. nodes: coordinates of just the referenced nodes (sorted id array + binary search),
 *      point features, entrances on kept outlines.
 * Then the network is cut at junctions (nodes referenced ≥ 2 times) and way ends.
 */
import { EDGE_FLAG_CROSSES_CLIP, EDGE_FLAG_STEPS, type EdgeList } from '../engine/graph.js';
import { DEG_TO_RAD, haversineMetres } from '../engine/geo.js';
import { pointInClip, type ClipPolygon } from './clip.js';
import { MEMBER_WAY, openOsmSource, type RelationMembers } from './osm-source.js';
import type { OsmFeature, OsmReadResult, OsmReadStats, Tags } from './osm-types.js';
import { RULE_NOT_HIGHWAY, walkRule } from './walkability.js';

export interface ReadOsmOptions {
  keepFeature: (tags: Tags) => boolean;
  clip?: ClipPolygon;
  /** phase is 'relations' | 'ways' | 'nodes' (file bytes) then 'network' (ways processed). */
  onProgress?: (phase: string, done: number, total: number) => void;
}

// one geodesy for import and routing: edge lengths and snapping offsets must agree
export { EARTH_RADIUS_M, haversineMetres } from '../engine/geo.js';

/** Append-only typed arrays (amortised doubling). */
class GrowF64 {
  a: Float64Array;
  n = 0;
  constructor(cap = 1024) {
    this.a = new Float64Array(cap);
  }
  push(x: number): void {
    if (this.n === this.a.length) this.grow(this.n + 1);
    this.a[this.n++] = x;
  }
  push2(x: number, y: number): void {
    if (this.n + 2 > this.a.length) this.grow(this.n + 2);
    this.a[this.n++] = x;
    this.a[this.n++] = y;
  }
  grow(min: number): void {
    const b = new Float64Array(Math.max(min, this.a.length * 2));
    b.set(this.a);
    this.a = b;
  }
  view(): Float64Array {
    return this.a.subarray(0, this.n);
  }
  trimmed(): Float64Array {
    return this.a.slice(0, this.n);
  }
}
class GrowI32 {
  a: Int32Array;
  n = 0;
  constructor(cap = 1024) {
    this.a = new Int32Array(cap);
  }
  push(x: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = x;
  }
  trimmed(): Int32Array {
    return this.a.slice(0, this.n);
  }
}
class GrowU8 {
  a: Uint8Array;
  n = 0;
  constructor(cap = 1024) {
    this.a = new Uint8Array(cap);
  }
  push(x: number): void {
    if (this.n === this.a.length) {
      const b = new Uint8Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = x;
  }
  trimmed(): Uint8Array {
    return this.a.slice(0, this.n);
  }
}

/** Index of x in sorted a[0..n), or -1. */
function bsearch(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid];
    if (v < x) lo = mid + 1;
    else if (v > x) hi = mid - 1;
    else return mid;
  }
  return -1;
}

interface KeptRelation {
  id: number;
  tags: Tags;
  wayIds: number[];
}
interface KeptWay {
  id: number;
  tags: Tags;
  refs: Float64Array;
}

function isOuterRole(type: string | undefined, role: string): boolean {
  if (type === 'building') return role === 'outline';
  return role === 'outer' || role === ''; // old multipolygons leave the outer role empty.
}

export async function readOsm(file: string, opts: ReadOsmOptions): Promise<OsmReadResult> {
  const { keepFeature, clip, onProgress } = opts;
  const src = await openOsmSource(file);
  const stats: OsmReadStats = {
    format: src.format,
    nodesRead: 0,
    waysRead: 0,
    relationsRead: 0,
    walkableWays: 0,
    excludedWays: {},
    missingNodeRefs: 0,
    waysDroppedNoGeometry: 0,
    featuresWithoutGeometry: 0,
    relationsNotAreas: 0,
    clippedWays: 0,
    clippedFeatures: 0,
  };
  const progress = (phase: string) =>
    onProgress ? (done: number, total: number) => onProgress(phase, done, total) : undefined;

  // ---- pass 1: relations ----
  const relations: KeptRelation[] = [];
  /** member way id → its refs, filled in pass 2 (null until seen). */
  const memberWays = new Map<number, Float64Array | null>();
  await src.scan(
    {
      relation(id: number, m: RelationMembers, tags: Tags) {
        stats.relationsRead++;
        const type = tags.type;
        if (type !== 'multipolygon' && type !== 'building') {
          if (keepFeature(tags)) stats.relationsNotAreas++;
          return;
        }
        if (!keepFeature(tags)) return;
        const wayIds: number[] = [];
        for (let i = 0; i < m.count; i++) {
          if (m.types[i] === MEMBER_WAY && isOuterRole(type, m.roles[i])) {
            wayIds.push(m.ids[i]);
            memberWays.set(m.ids[i], null);
          }
        }
        relations.push({ id, tags, wayIds });
      },
    },
    progress('relations'),
  );

  // ---- pass 2: ways ----
  const wWayId = new GrowF64(1024);
  const wClass = new GrowU8(1024);
  const wSteps = new GrowU8(1024);
  const wStart = new GrowI32(1024); // ref offset of each walkable way; final sentinel added after.
  const wRefs = new GrowF64(16384);
  const featureWays: KeptWay[] = [];
  const excluded = stats.excludedWays;
  await src.scan(
    {
      way(id: number, refs: Float64Array, n: number, tags: Tags) {
        stats.waysRead++;
        if (tags.highway !== undefined) {
          const r = walkRule(tags);
          if (r.walk) {
            stats.walkableWays++;
            wWayId.push(id);
            wClass.push(r.classIndex);
            wSteps.push(r.steps ? 1 : 0);
            wStart.push(wRefs.n);
            let prev = NaN;
            for (let i = 0; i < n; i++) {
              const x = refs[i];
              if (x !== prev) wRefs.push(x); // consecutive duplicates are mapping errors: drop.
              prev = x;
            }
          } else if (r.rule !== RULE_NOT_HIGHWAY) excluded[r.rule] = (excluded[r.rule] ?? 0) + 1;
        }
        const member = memberWays.has(id);
        const feature = keepFeature(tags);
        if (member || feature) {
          const copy = refs.slice(0, n);
          if (member) memberWays.set(id, copy);
          if (feature) featureWays.push({ id, tags, refs: copy });
        }
      },
    },
    progress('ways'),
  );
  const nWalk = wWayId.n;
  wStart.push(wRefs.n);
  const wayStart = wStart.a;

  // Needed node ids: sorted, unique.
  let total = wRefs.n;
  for (const w of featureWays) total += w.refs.length;
  for (const r of memberWays.values()) if (r) total += r.length;
  const ids = new Float64Array(total);
  ids.set(wRefs.view(), 0);
  let k = wRefs.n;
  for (const w of featureWays) {
    ids.set(w.refs, k);
    k += w.refs.length;
  }
  for (const r of memberWays.values()) {
    if (r) {
      ids.set(r, k);
      k += r.length;
    }
  }
  ids.sort();
  let nIds = 0;
  for (let i = 0; i < total; i++) if (i === 0 || ids[i] !== ids[i - 1]) ids[nIds++] = ids[i];
  /** Outline nodes of kept features: entrances are remembered only for these. */
  const outline = new Uint8Array(nIds);
  for (const w of featureWays) for (const x of w.refs) outline[bsearch(ids, nIds, x)] = 1;
  for (const r of memberWays.values()) if (r) for (const x of r) outline[bsearch(ids, nIds, x)] = 1;

  // ---- pass 3: nodes ----
  const coords = new Float64Array(2 * nIds).fill(NaN);
  const features: OsmFeature[] = [];
  const entrances = new Map<number, [number, number]>();
  const EMPTY = new Float64Array(0);
  await src.scan(
    {
      node(id: number, lon: number, lat: number, tags: Tags | null) {
        stats.nodesRead++;
        const i = bsearch(ids, nIds, id);
        if (i >= 0) {
          coords[2 * i] = lon;
          coords[2 * i + 1] = lat;
        }
        if (tags === null) return;
        if (i >= 0 && outline[i] && (tags.entrance !== undefined || tags.barrier === 'gate')) entrances.set(id, [lon, lat]);
        if (keepFeature(tags)) {
          if (clip && !pointInClip(clip, lon, lat)) {
            stats.clippedFeatures++;
            return;
          }
          features.push({ type: 'node', id, tags, lon, lat, rings: [], entrances: EMPTY });
        }
      },
    },
    progress('nodes'),
  );

  // ---- network ----
  const report = progress('network');
  /** per needed node: 0 unknown, 1 inside clip, 2 outside. */
  const side = clip ? new Uint8Array(nIds) : null;
  const inside = (i: number): boolean => {
    if (!side) return true;
    if (side[i] === 0) side[i] = pointInClip(clip!, coords[2 * i], coords[2 * i + 1]) ? 1 : 2;
    return side[i] === 1;
  };
  // Resolve refs to needed-node indices (-1 = missing from the file).
  const wRef = wRefs.a;
  const refIdx = new Int32Array(wRefs.n);
  for (let j = 0; j < wRefs.n; j++) {
    const i = bsearch(ids, nIds, wRef[j]);
    refIdx[j] = i >= 0 && coords[2 * i] === coords[2 * i] ? i : -1;
  }
  // Decide which walkable ways are kept, and count references among kept ways.
  const keep = new Uint8Array(nWalk);
  const refCount = new Int32Array(nIds);
  for (let w = 0; w < nWalk; w++) {
    let present = 0;
    let anyIn = false;
    let missing = 0;
    let longest = 0;
    let run = 0;
    for (let j = wayStart[w]; j < wayStart[w + 1]; j++) {
      const i = refIdx[j];
      if (i < 0) {
        missing++;
        run = 0;
        continue;
      }
      present++;
      if (++run > longest) longest = run;
      if (!anyIn && inside(i)) anyIn = true;
    }
    stats.missingNodeRefs += missing;
    if (longest < 2) {
      stats.waysDroppedNoGeometry++;
      continue;
    }
    if (!anyIn) {
      stats.clippedWays++;
      continue;
    }
    keep[w] = 1;
    for (let j = wayStart[w]; j < wayStart[w + 1]; j++) if (refIdx[j] >= 0) refCount[refIdx[j]]++;
  }

  // Cut kept ways into edges at junctions, way ends and gaps.
  const graphId = new Int32Array(nIds).fill(-1);
  const nodeCoords = new GrowF64(4096);
  const nodeOsmIds = new GrowF64(2048);
  const eFrom = new GrowI32(2048);
  const eTo = new GrowI32(2048);
  const eLen = new GrowF64(2048);
  const eWay = new GrowF64(2048);
  const eClass = new GrowU8(2048);
  const eFlags = new GrowU8(2048);
  const gOff = new GrowI32(2048);
  const gCoords = new GrowF64(16384);
  const gid = (i: number): number => {
    let g = graphId[i];
    if (g < 0) {
      g = graphId[i] = nodeOsmIds.n;
      nodeOsmIds.push(ids[i]);
      nodeCoords.push2(coords[2 * i], coords[2 * i + 1]);
    }
    return g;
  };
  let minLon = Infinity,
    minLat = Infinity,
    maxLon = -Infinity,
    maxLat = -Infinity;
  for (let w = 0; w < nWalk; w++) {
    if (!keep[w]) continue;
    if ((w & 1023) === 0) report?.(w, nWalk);
    const end = wayStart[w + 1];
    const baseFlags = wSteps.a[w] ? EDGE_FLAG_STEPS : 0;
    let j = wayStart[w];
    while (j < end) {
      // one run of present nodes [j, runEnd)
      while (j < end && refIdx[j] < 0) j++;
      let runEnd = j;
      while (runEnd < end && refIdx[runEnd] >= 0) runEnd++;
      if (runEnd - j >= 2) {
        let a = refIdx[j];
        let geomStart = gCoords.n;
        let len = 0;
        let out = side !== null && !inside(a);
        gCoords.push2(coords[2 * a], coords[2 * a + 1]);
        for (let t = j + 1; t < runEnd; t++) {
          const b = refIdx[t];
          const lon = coords[2 * b];
          const lat = coords[2 * b + 1];
          len += haversineMetres(gCoords.a[gCoords.n - 2], gCoords.a[gCoords.n - 1], lon, lat);
          gCoords.push2(lon, lat);
          if (side !== null && !out && !inside(b)) out = true;
          if (t === runEnd - 1 || refCount[b] >= 2) {
            const from = gid(a);
            const to = gid(b);
            if (from === to && len === 0) {
              gCoords.n = geomStart; // zero-length self-loop: drop it.
            } else {
              eFrom.push(from);
              eTo.push(to);
              eLen.push(len);
              eWay.push(wWayId.a[w]);
              eClass.push(wClass.a[w]);
              eFlags.push(baseFlags | (out ? EDGE_FLAG_CROSSES_CLIP : 0));
              gOff.push(geomStart / 2); // offsets count points, not numbers
              for (let q = geomStart; q < gCoords.n; q += 2) {
                const x = gCoords.a[q];
                const y = gCoords.a[q + 1];
                if (x < minLon) minLon = x;
                if (x > maxLon) maxLon = x;
                if (y < minLat) minLat = y;
                if (y > maxLat) maxLat = y;
              }
            }
            if (t < runEnd - 1) {
              a = b;
              geomStart = gCoords.n;
              len = 0;
              out = side !== null && !inside(a);
              gCoords.push2(lon, lat);
            }
          }
        }
      }
      j = runEnd;
    }
  }
  report?.(nWalk, nWalk);
  gOff.push(gCoords.n / 2);

  const edgeLength = new Float32Array(eLen.n);
  for (let e = 0; e < eLen.n; e++) edgeLength[e] = eLen.a[e];
  const network: EdgeList = {
    nodeCoords: nodeCoords.trimmed(),
    nodeOsmIds: nodeOsmIds.trimmed(),
    edgeFrom: eFrom.trimmed(),
    edgeTo: eTo.trimmed(),
    edgeLength,
    edgeWayId: eWay.trimmed(),
    edgeClass: eClass.trimmed(),
    edgeFlags: eFlags.trimmed(),
    geomOffsets: gOff.trimmed(),
    geomCoords: gCoords.trimmed(),
  };

  // ---- features from ways and relations ----
  const pointAt = (x: number): number => {
    const i = bsearch(ids, nIds, x);
    return i >= 0 && coords[2 * i] === coords[2 * i] ? i : -1;
  };
  const entrancesOf = (refLists: Float64Array[]): Float64Array => {
    if (entrances.size === 0) return EMPTY;
    const out: number[] = [];
    const seen = new Set<number>();
    for (const refs of refLists) {
      for (const x of refs) {
        const p = entrances.get(x);
        if (p && !seen.has(x)) {
          seen.add(x);
          out.push(p[0], p[1]);
        }
      }
    }
    return out.length ? Float64Array.from(out) : EMPTY;
  };
  const emit = (f: OsmFeature): void => {
    if (clip && !pointInClip(clip, f.lon, f.lat)) stats.clippedFeatures++;
    else features.push(f);
  };

  for (const w of featureWays) {
    const pts: number[] = [];
    for (const x of w.refs) {
      const i = pointAt(x);
      if (i < 0) stats.missingNodeRefs++;
      else pts.push(coords[2 * i], coords[2 * i + 1]);
    }
    if (pts.length === 0) {
      stats.featuresWithoutGeometry++;
      continue;
    }
    const n = w.refs.length;
    const closed = n >= 4 && w.refs[0] === w.refs[n - 1];
    let ring: Float64Array;
    let c: [number, number];
    if (closed && closeRing(pts) >= 4) {
      ring = Float64Array.from(pts);
      c = areaCentroid([ring]) ?? meanPoint([ring]);
    } else {
      ring = Float64Array.from(pts);
      c = meanPoint([ring]);
    }
    emit({ type: 'way', id: w.id, tags: w.tags, lon: c[0], lat: c[1], rings: [ring], entrances: entrancesOf([w.refs]) });
  }

  for (const r of relations) {
    const parts: Float64Array[] = [];
    for (const id of r.wayIds) {
      const refs = memberWays.get(id);
      if (refs && refs.length >= 2) parts.push(refs);
    }
    const { closed, open } = assembleRings(parts);
    const rings: Float64Array[] = [];
    const loose: Float64Array[] = [];
    let broken = open.length > 0 || parts.length < r.wayIds.length;
    for (const chain of closed) {
      const pts: number[] = [];
      for (const x of chain) {
        const i = pointAt(x);
        if (i < 0) stats.missingNodeRefs++;
        else pts.push(coords[2 * i], coords[2 * i + 1]);
      }
      if (closeRing(pts) >= 4) rings.push(Float64Array.from(pts));
      else {
        broken = true;
        if (pts.length) loose.push(Float64Array.from(pts));
      }
    }
    for (const chain of open) {
      const pts: number[] = [];
      for (const x of chain) {
        const i = pointAt(x);
        if (i < 0) stats.missingNodeRefs++;
        else pts.push(coords[2 * i], coords[2 * i + 1]);
      }
      if (pts.length) loose.push(Float64Array.from(pts));
    }
    if (broken) stats.featuresWithoutGeometry++;
    let c: [number, number] | null = rings.length ? areaCentroid(rings) : null;
    if (!c && (rings.length || loose.length)) c = meanPoint([...rings, ...loose]);
    if (!c) {
      if (!broken) stats.featuresWithoutGeometry++;
      continue; // nothing to place it by.
    }
    emit({ type: 'relation', id: r.id, tags: r.tags, lon: c[0], lat: c[1], rings, entrances: entrancesOf(parts) });
  }

  const bbox: [number, number, number, number] =
    minLon <= maxLon ? [minLon, minLat, maxLon, maxLat] : [0, 0, 0, 0];
  return { network, features, stats, bbox };
}

/** Close a flat point list in place if its ends differ; returns the point count. */
function closeRing(pts: number[]): number {
  const n = pts.length;
  if (n >= 4 && (pts[0] !== pts[n - 2] || pts[1] !== pts[n - 1])) pts.push(pts[0], pts[1]);
  return pts.length / 2;
}

/**
 * Join member ways into rings by shared end node ids. Closed ways are rings already; open
 * ones are chained greedily. Chains that cannot close are returned in `open`.
 */
export function assembleRings(parts: Float64Array[]): { closed: Float64Array[]; open: Float64Array[] } {
  const closed: Float64Array[] = [];
  const open: Float64Array[] = [];
  const pending: Float64Array[] = [];
  for (const p of parts) {
    if (p.length >= 4 && p[0] === p[p.length - 1]) closed.push(p);
    else pending.push(p);
  }
  const byEnd = new Map<number, number[]>();
  const add = (k: number, i: number) => {
    const l = byEnd.get(k);
    if (l) l.push(i);
    else byEnd.set(k, [i]);
  };
  pending.forEach((p, i) => {
    add(p[0], i);
    add(p[p.length - 1], i);
  });
  const used = new Uint8Array(pending.length);
  for (let s = 0; s < pending.length; s++) {
    if (used[s]) continue;
    used[s] = 1;
    const chain: number[] = Array.from(pending[s]);
    for (;;) {
      const last = chain[chain.length - 1];
      if (chain.length >= 4 && last === chain[0]) break;
      const cands = byEnd.get(last) ?? [];
      let next = -1;
      for (const c of cands) {
        if (!used[c]) {
          next = c;
          break;
        }
      }
      if (next < 0) break;
      used[next] = 1;
      const p = pending[next];
      if (p[0] === last) for (let i = 1; i < p.length; i++) chain.push(p[i]);
      else for (let i = p.length - 2; i >= 0; i--) chain.push(p[i]);
    }
    const arr = Float64Array.from(chain);
    if (chain.length >= 4 && chain[0] === chain[chain.length - 1]) closed.push(arr);
    else open.push(arr);
  }
  return { closed, open };
}

/** Area-weighted centroid of rings, planar in a local equirectangular projection. */
export function areaCentroid(rings: Float64Array[]): [number, number] | null {
  const lat0 = rings[0][1];
  const lon0 = rings[0][0];
  const kx = Math.cos(lat0 * DEG_TO_RAD);
  let A = 0;
  let cx = 0;
  let cy = 0;
  for (const r of rings) {
    let a = 0;
    let x = 0;
    let y = 0;
    for (let i = 0; i + 3 < r.length; i += 2) {
      const x0 = (r[i] - lon0) * kx;
      const y0 = r[i + 1] - lat0;
      const x1 = (r[i + 2] - lon0) * kx;
      const y1 = r[i + 3] - lat0;
      const cr = x0 * y1 - x1 * y0;
      a += cr;
      x += (x0 + x1) * cr;
      y += (y0 + y1) * cr;
    }
    // Ring orientation is arbitrary in OSM: weight each ring by its absolute area.
    if (a === 0) continue;
    const sgn = a < 0 ? -1 : 1;
    A += Math.abs(a);
    cx += sgn * x;
    cy += sgn * y;
  }
  if (A === 0) return null;
  return [lon0 + cx / (3 * A) / kx, lat0 + cy / (3 * A)];
}

/** Mean of all points (lines, and areas whose rings did not close). */
export function meanPoint(lines: Float64Array[]): [number, number] {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (const l of lines) {
    for (let i = 0; i + 1 < l.length; i += 2) {
      sx += l[i];
      sy += l[i + 1];
      n++;
    }
  }
  return [sx / n, sy / n];
}
