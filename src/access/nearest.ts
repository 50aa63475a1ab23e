/**
 * "What is near this point": minutes to the nearest facility of every format, and how many
 * of each are within 5 / 10 / 15 minutes, from one bounded search.
 */
import { runDijkstra, timeToSnap } from '../engine/dijkstra.js';
import { snapPreferMain, writeSnapSeeds, type Snap } from '../engine/snap.js';
import type { RoutingContext } from './context.js';

export interface NearestFacility {
  id: number;
  name: string;
  lon: number;
  lat: number;
  minutes: number;
}

export interface NearestByFormat {
  format: string;
  /** null when nothing of this format is within maxMinutes. */
  nearest: NearestFacility | null;
  /** facilities of this format within each of the `bands` (minutes). */
  within: Record<string, number>;
}

export interface NearestResult {
  origin: Snap;
  maxMinutes: number;
  formats: NearestByFormat[];
}

export interface NearestOptions {
  maxMinutes?: number;
  bands?: number[];
  snapLimitMetres?: number;
  /** formats to report; default every format of the taxonomy that exists in the region, in taxonomy order. */
  formats?: string[];
}

/** null when the point is farther than the snap limit from any walkable way. */
export function nearestFromPoint(ctx: RoutingContext, lon: number, lat: number, opts: NearestOptions = {}): NearestResult | null {
  const maxMinutes = opts.maxMinutes ?? 30;
  const bands = opts.bands ?? [5, 10, 15];
  const g = ctx.region.graph;
  const origin = snapPreferMain(ctx.index, lon, lat, opts.snapLimitMetres ?? ctx.region.meta.snapLimitMetres);
  if (!origin) return null;
  const nodes = new Int32Array(2);
  const seconds = new Float64Array(2);
  writeSnapSeeds(origin, ctx.edgeSec, g, ctx.profile.speedMps, nodes, seconds, 0);
  const maxSec = maxMinutes * 60;
  runDijkstra(g, ctx.arcSec, ctx.ws, nodes, seconds, maxSec);

  const formats = opts.formats ?? [...ctx.facilitiesByFormat.keys()];
  const out: NearestByFormat[] = [];
  for (const format of formats) {
    const ids = ctx.facilitiesByFormat.get(format) ?? [];
    let best: NearestFacility | null = null;
    const within: Record<string, number> = {};
    for (const b of bands) within[String(b)] = 0;
    for (const id of ids) {
      const snap = ctx.facilitySnaps[id];
      if (!snap) continue;
      const sec = timeToSnap(ctx.ws, snap, g, ctx.edgeSec, ctx.profile.speedMps, origin);
      if (!(sec <= maxSec)) continue;
      const minutes = sec / 60;
      for (const b of bands) if (minutes <= b) within[String(b)]++;
      if (!best || minutes < best.minutes) {
        const f = ctx.region.facilities[id];
        best = { id, name: f.name, lon: f.lon, lat: f.lat, minutes };
      }
    }
    out.push({ format, nearest: best, within });
  }
  return { origin, maxMinutes, formats: out };
}
