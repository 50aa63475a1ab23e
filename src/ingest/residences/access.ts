/**
 * Residences meet the walk network: every access point (gate, entrance or centroid) is
 * snapped like a facility (snapPreferMain: the main network unless an island is clearly
 * nearer). A residence is reachable when at least one of its points snapped; an assessment
 * starts from all of them and keeps the best.
 */
import { snapPreferMain, type SnapIndex } from '../../engine/snap.js';
import type { ResidenceTable } from './table.js';

/** Per access point (indexed like table.gateCoords pairs); edge −1 = farther than the limit. */
export interface ResidenceSnaps {
  edge: Int32Array;
  /** metres from edgeFrom along the edge. */
  offset: Float32Array;
  /** metres of the straight leg from the access point to the edge. */
  access: Float32Array;
}

export interface ResidenceSnapResult {
  snaps: ResidenceSnaps;
  /** access points farther than the limit from every walkable edge. */
  unsnappedPoints: number;
  /** residences none of whose access points snapped. */
  unreachableResidences: number;
  /** population of those residences. */
  unreachablePopulation: number;
}

export function snapResidenceAccess(table: ResidenceTable, index: SnapIndex, maxMetres = 300): ResidenceSnapResult {
  const points = table.gateCoords.length / 2;
  const edge = new Int32Array(points).fill(-1);
  const offset = new Float32Array(points);
  const access = new Float32Array(points);
  let unsnapped = 0;
  let unreachable = 0;
  let unreachablePopulation = 0;
  // Compound gates are shared by all of a compound's buildings: snap each distinct point once.
  const memo = new Map<string, number>();
  for (let r = 0; r < table.count; r++) {
    let any = false;
    for (let p = table.gateOffsets[r]; p < table.gateOffsets[r + 1]; p++) {
      const lon = table.gateCoords[2 * p];
      const lat = table.gateCoords[2 * p + 1];
      const key = `${lon},${lat}`;
      const done = memo.get(key);
      if (done !== undefined) {
        edge[p] = edge[done];
        offset[p] = offset[done];
        access[p] = access[done];
      } else {
        const s = snapPreferMain(index, lon, lat, maxMetres);
        if (s) {
          edge[p] = s.edge;
          offset[p] = s.offset;
          access[p] = s.distance;
        }
        memo.set(key, p);
      }
      if (edge[p] >= 0) any = true;
      else unsnapped++;
    }
    if (!any) {
      unreachable++;
      unreachablePopulation += table.population[r];
    }
  }
  return { snaps: { edge, offset, access }, unsnappedPoints: unsnapped, unreachableResidences: unreachable, unreachablePopulation };
}
