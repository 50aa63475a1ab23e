/**
 * The point people walk to for a facility.
 *
 * - a node is its own access point ('node');
 * - an area with mapped entrances (entrance=* / barrier=gate nodes on its outline, given in
 *   feature.entrances) uses an entrance: the only one, or the one nearest the network ('entrance');
 * - otherwise the point of the outline nearest the network: ring vertices and segment midpoints
 *   are tried, then the network points they found are projected back onto the outline
 *   segments and tried too ('nearest-to-network');
 * - when nothing on the outline is within reach, the centroid ('centroid').
 *
 * `nearestOnNetwork` is supplied by the caller (backed by the snapping index); it returns the
 * nearest network point and its distance, or null when nothing is within the snap limit.
 */
import type { OsmFeature } from '../ingest/osm-types.js';
import type { Facility } from '../region/region.js';

export type AccessPointKind = Facility['accessPoint'];

export interface AccessPoint {
  lon: number;
  lat: number;
  kind: AccessPointKind;
}

export interface NetworkHit {
  lon: number;
  lat: number;
  /** distance from the queried point to the network (metres, or any unit: only compared). */
  distance: number;
}

export type NearestOnNetwork = (lon: number, lat: number) => NetworkHit | null;

export interface AccessPointOptions {
  /**
   * Most outline segments tried in the first pass (default 256). Longer outlines are sampled
   * every k-th segment, then all segments around the best sample are refined.
   */
  maxSamples?: number;
}

interface Candidate {
  lon: number;
  lat: number;
  distance: number;
}

const isPoint = (lon: number, lat: number): boolean => Number.isFinite(lon) && Number.isFinite(lat);

export function chooseAccessPoint(
  feature: OsmFeature,
  nearestOnNetwork: NearestOnNetwork,
  options: AccessPointOptions = {},
): AccessPoint {
  if (feature.type === 'node') return { lon: feature.lon, lat: feature.lat, kind: 'node' };

  const entrance = chooseEntrance(feature.entrances, nearestOnNetwork);
  if (entrance) return { ...entrance, kind: 'entrance' };

  const onOutline = nearestOutlinePoint(feature.rings, nearestOnNetwork, options.maxSamples ?? 256);
  if (onOutline) return { lon: onOutline.lon, lat: onOutline.lat, kind: 'nearest-to-network' };

  return { lon: feature.lon, lat: feature.lat, kind: 'centroid' };
}

/** The only entrance, or the one nearest the network (first in order on ties or when none is in reach). */
function chooseEntrance(
  entrances: Float64Array,
  nearest: NearestOnNetwork,
): { lon: number; lat: number } | null {
  const pts: { lon: number; lat: number }[] = [];
  for (let i = 0; i + 1 < entrances.length; i += 2) {
    const lon = entrances[i];
    const lat = entrances[i + 1];
    if (isPoint(lon, lat)) pts.push({ lon, lat });
  }
  if (pts.length === 0) return null;
  if (pts.length === 1) return pts[0];
  let best = pts[0];
  let bestDist = Infinity;
  for (const p of pts) {
    const hit = nearest(p.lon, p.lat);
    if (hit && hit.distance < bestDist) {
      bestDist = hit.distance;
      best = p;
    }
  }
  return best;
}

/** Point on the rings/lines nearest the network, or null when no sampled point is within reach. */
export function nearestOutlinePoint(
  rings: readonly Float64Array[],
  nearest: NearestOnNetwork,
  maxSamples = 256,
): Candidate | null {
  // Flatten to one vertex list with segments (a, a+1) inside each ring.
  const xs: number[] = [];
  const ys: number[] = [];
  const segStart: number[] = [];
  for (const ring of rings) {
    const first = xs.length;
    for (let i = 0; i + 1 < ring.length; i += 2) {
      if (!isPoint(ring[i], ring[i + 1])) continue;
      xs.push(ring[i]);
      ys.push(ring[i + 1]);
    }
    for (let v = first; v + 1 < xs.length; v++) segStart.push(v);
    if (xs.length - first === 1) segStart.push(-first - 1); // a lone point: encoded as negative
  }
  if (xs.length === 0) return null;

  let best: Candidate | null = null;
  const consider = (lon: number, lat: number, hit: NetworkHit | null): void => {
    if (hit && Number.isFinite(hit.distance) && (best === null || hit.distance < best.distance)) {
      best = { lon, lat, distance: hit.distance };
    }
  };
  const vertexHit: (NetworkHit | null | undefined)[] = new Array(xs.length);
  const queryVertex = (v: number): NetworkHit | null => {
    let h = vertexHit[v];
    if (h === undefined) {
      h = nearest(xs[v], ys[v]);
      vertexHit[v] = h;
      consider(xs[v], ys[v], h);
    }
    return h;
  };
  const midHit = new Map<number, NetworkHit | null>();
  const queryMid = (s: number): NetworkHit | null => {
    let h = midHit.get(s);
    if (h === undefined) {
      const a = segStart[s];
      const lon = (xs[a] + xs[a + 1]) / 2;
      const lat = (ys[a] + ys[a + 1]) / 2;
      h = nearest(lon, lat);
      midHit.set(s, h);
      consider(lon, lat, h);
    }
    return h;
  };
  const refine = (s: number): void => {
    const a = segStart[s];
    const b = a + 1;
    for (const h of [queryVertex(a), queryMid(s), queryVertex(b)]) {
      if (!h) continue;
      const p = projectOntoSegment(h.lon, h.lat, xs[a], ys[a], xs[b], ys[b]);
      if (p.t <= 1e-9 || p.t >= 1 - 1e-9) continue; // an end vertex: already tried
      consider(p.lon, p.lat, nearest(p.lon, p.lat));
    }
  };

  const nSeg = segStart.length;
  const step = Math.max(1, Math.ceil(nSeg / Math.max(1, maxSamples)));
  let bestSeg = -1;
  let bestSegDist = Infinity;
  for (let s = 0; s < nSeg; s += step) {
    const a = segStart[s];
    if (a < 0) {
      queryVertex(-a - 1);
      continue;
    }
    const d = Math.min(queryVertex(a)?.distance ?? Infinity, queryMid(s)?.distance ?? Infinity, queryVertex(a + 1)?.distance ?? Infinity);
    if (d < bestSegDist) {
      bestSegDist = d;
      bestSeg = s;
    }
  }
  if (step === 1) {
    for (let s = 0; s < nSeg; s++) if (segStart[s] >= 0) refine(s);
  } else if (bestSeg >= 0) {
    const lo = Math.max(0, bestSeg - step);
    const hi = Math.min(nSeg - 1, bestSeg + step);
    for (let s = lo; s <= hi; s++) if (segStart[s] >= 0) refine(s);
  }
  return best;
}

/** Projection of p onto segment a–b in a local equirectangular frame; t in [0, 1]. */
export function projectOntoSegment(
  px: number,
  py: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
): { lon: number; lat: number; t: number } {
  const k = Math.cos(((ay + by) / 2) * (Math.PI / 180));
  const dx = (bx - ax) * k;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? (((px - ax) * k) * dx + (py - ay) * dy) / len2 : 0;
  if (t < 0) t = 0;
  else if (t > 1) t = 1;
  return { lon: ax + (bx - ax) * t, lat: ay + (by - ay) * t, t };
}
