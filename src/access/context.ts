/**
 * A region ready for walking-time questions under one walking profile: costs, snapping index
 * and a reusable Dijkstra workspace, built once and shared by every query.
 */
import { DijkstraWorkspace } from '../engine/dijkstra.js';
import { arcSeconds, edgeSeconds, getWalkingProfile, type WalkingProfile } from '../engine/profile.js';
import { buildSnapIndex, type Snap, type SnapIndex } from '../engine/snap.js';
import type { Region } from '../region/region.js';
import { loadTaxonomy } from '../taxonomy/formats.js';

export interface RoutingContext {
  region: Region;
  profile: WalkingProfile;
  edgeSec: Float32Array;
  arcSec: Float32Array;
  index: SnapIndex;
  ws: DijkstraWorkspace;
  /** facility snaps (null = unreachable), index = facility id; lon/lat here are the facility's access point. */
  facilitySnaps: (Snap | null)[];
  /** facility ids per format id. */
  facilitiesByFormat: Map<string, number[]>;
}

export function createRoutingContext(region: Region, profileId = 'default'): RoutingContext {
  const g = region.graph;
  const profile = getWalkingProfile(profileId);
  const edgeSec = edgeSeconds(g, profile);
  const arcSec = arcSeconds(g, profile, edgeSec);
  const s = region.facilitySnaps;
  const facilitySnaps = region.facilities.map((f, i): Snap | null =>
    s.edge[i] < 0 ? null : { edge: s.edge[i], offset: s.offset[i], distance: s.access[i], lon: f.lon, lat: f.lat },
  );
  // taxonomy order, so every listing of formats reads the same way
  const facilitiesByFormat = new Map<string, number[]>(loadTaxonomy().formats.map((f) => [f.id, []]));
  for (const f of region.facilities) {
    for (const fmt of f.formats) {
      let list = facilitiesByFormat.get(fmt);
      if (!list) facilitiesByFormat.set(fmt, (list = []));
      list.push(f.id);
    }
  }
  for (const [k, v] of facilitiesByFormat) if (v.length === 0) facilitiesByFormat.delete(k);
  let index: SnapIndex | undefined;
  return {
    region,
    profile,
    edgeSec,
    arcSec,
    // built on first use: all-nodes queries never snap, and at city scale the index costs most of the set-up
    get index(): SnapIndex {
      return (index ??= buildSnapIndex(g));
    },
    ws: new DijkstraWorkspace(g.nodeCount),
    facilitySnaps,
    facilitiesByFormat,
  };
}

/** Is a point inside the region's data extent (with a margin)? Used to say "outside the data" plainly. */
export function insideRegion(region: Region, lon: number, lat: number, marginDeg = 0.01): boolean {
  const [w, s, e, n] = region.meta.bbox;
  return lon >= w - marginDeg && lon <= e + marginDeg && lat >= s - marginDeg && lat <= n + marginDeg;
}
