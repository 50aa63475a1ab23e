/**
 * Add facilities (an Amap/Baidu POI import) to a region: a new Region with the facilities
 * appended, ids continuing from the region's, each snapped to the walk network the way
 * `importRegion` snaps OSM facilities (snapPreferMain within the snap limit; farther = edge −1,
 * unreachable), the facility counts of the import report updated and, when given, a record
 * of the POI import appended to meta.poiImports.
 *
 * The input region is not changed: its facility list, snap arrays, meta and report are
 * copied; the graph, residences and compounds (not touched here) are shared.
 */
import { buildSnapIndex, snapPreferMain, type SnapIndex } from '../engine/snap.js';
import type { Facility, Region, RegionMeta } from './region.js';

export type PoiImportRecord = NonNullable<RegionMeta['poiImports']>[number];

export interface AddFacilitiesOptions {
  /** the region graph's snap index, when the caller already built one (saves rebuilding it). */
  index?: SnapIndex;
  /** appended to meta.poiImports. */
  poiImport?: PoiImportRecord;
}

export interface AddedFacilities {
  region: Region;
  /** ids (in the new region) of the added facilities farther than the snap limit from every walkable edge. */
  unreachable: number[];
  /** ids of the added facilities snapped to a network island rather than the main network. */
  onIslands: number[];
}

/** As addFacilities, and which of the added facilities are unreachable or on islands. */
export function addFacilitiesReport(
  region: Region,
  newFacilities: readonly Facility[],
  snapLimitMetres: number,
  opts: AddFacilitiesOptions = {},
): AddedFacilities {
  const g = region.graph;
  const index = opts.index ?? buildSnapIndex(g);
  if (index.graph !== g) throw new Error('addFacilities: the snap index was built for another graph');
  const base = region.facilities.length;
  const n = newFacilities.length;
  const old = region.facilitySnaps;
  if (old.edge.length !== base || old.offset.length !== base || old.access.length !== base) {
    throw new Error(`addFacilities: the region has ${base} facilities but ${old.edge.length} facility snaps`);
  }
  const edge = new Int32Array(base + n);
  const offset = new Float32Array(base + n);
  const access = new Float32Array(base + n);
  edge.set(old.edge);
  offset.set(old.offset);
  access.set(old.access);

  const report = region.meta.report.facilities;
  const byFormat = { ...report.byFormat };
  const accessPoints = { ...report.accessPoints };
  const unreachable: number[] = [];
  const onIslands: number[] = [];
  const added: Facility[] = [];
  for (let k = 0; k < n; k++) {
    const id = base + k;
    // Facility.id is the index in Region.facilities: renumber (a copy; the caller's object is left alone)
    const f: Facility = { ...newFacilities[k], id, formats: [...newFacilities[k].formats], tags: { ...newFacilities[k].tags } };
    added.push(f);
    for (const fmt of f.formats) byFormat[fmt] = (byFormat[fmt] ?? 0) + 1;
    accessPoints[f.accessPoint] = (accessPoints[f.accessPoint] ?? 0) + 1;
    const snap = snapPreferMain(index, f.lon, f.lat, snapLimitMetres);
    if (snap) {
      edge[id] = snap.edge;
      offset[id] = snap.offset;
      access[id] = snap.distance;
      if (g.nodeComponent[g.edgeFrom[snap.edge]] !== 0) onIslands.push(id);
    } else {
      edge[id] = -1;
      offset[id] = 0;
      access[id] = 0;
      unreachable.push(id);
    }
  }

  const meta: RegionMeta = {
    ...region.meta,
    report: {
      ...region.meta.report,
      facilities: {
        ...report,
        total: report.total + n,
        byFormat,
        unreachable: report.unreachable + unreachable.length,
        onIslands: report.onIslands + onIslands.length,
        accessPoints,
      },
    },
  };
  if (opts.poiImport) meta.poiImports = [...(region.meta.poiImports ?? []), { ...opts.poiImport }];
  return {
    region: {
      ...region,
      meta,
      facilities: [...region.facilities, ...added],
      facilitySnaps: { edge, offset, access },
    },
    unreachable,
    onIslands,
  };
}

/**
 * A new Region with `newFacilities` appended (ids continuing), snapped within snapLimitMetres,
 * the report's facility counts updated and opts.poiImport recorded. The input is not changed.
 */
export function addFacilities(
  region: Region,
  newFacilities: readonly Facility[],
  snapLimitMetres: number,
  opts: AddFacilitiesOptions = {},
): Region {
  return addFacilitiesReport(region, newFacilities, snapLimitMetres, opts).region;
}
