/**
 * Minutes from every network node to the nearest facility of a format: one multi-source
 * search with every facility of the format as a seed (partial edge + access leg included).
 */
import { nearestTimes } from '../engine/dijkstra.js';
import { snapsToSources, type Snap } from '../engine/snap.js';
import type { RoutingContext } from './context.js';

export interface FormatAccess {
  format: string;
  /** seconds per node; Infinity where no facility is within maxMinutes. */
  seconds: Float64Array;
  /** facility id of the nearest facility per node; -1 where none. */
  nearest: Int32Array;
  /** facilities of the format that could be seeded (reachable from the network). */
  seeded: number;
  unreachableFacilities: number;
}

export function formatAccess(ctx: RoutingContext, format: string, maxMinutes = Infinity): FormatAccess {
  const ids = ctx.facilitiesByFormat.get(format) ?? [];
  const snaps: (Snap | null)[] = ids.map((id) => ctx.facilitySnaps[id]);
  const seeds = snapsToSources(snaps, ctx.edgeSec, ctx.region.graph, ctx.profile.speedMps, ids);
  const { dist, label } = nearestTimes(ctx.region.graph, ctx.arcSec, seeds.nodes, seeds.seconds, maxMinutes * 60, seeds.labels, ctx.ws);
  const seeded = seeds.nodes.length / 2;
  return { format, seconds: dist, nearest: label, seeded, unreachableFacilities: ids.length - seeded };
}
