/**
 * Walking-time heatmap of one format on H3 cells (resolution 9, ~0.1 km²): for every cell where
 * people live (buildings of the basemap), the band of minutes to the nearest facility of the
 * format: ≤ 5, ≤ 10, ≤ 15 or more.
 *
 * Source: the API's assessment summary has no per-cell minutes, and /api/isochrone takes one
 * origin, so each facility of the format gets its own 5/10/15-minute isochrone (walking is
 * symmetric: the area within m minutes of a facility is where it is within m minutes). A
 * building's band is the smallest band of any facility whose polygon holds the building; a cell's
 * band is the median of its buildings' bands (the cell centre may lie in a courtyard or a field
 * the isochrones leave out, where nobody lives).
 */
import type { Feature, FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import { cellToBoundary, cellToLatLng, latLngToCell, polygonToCells } from 'h3-js';
import { api, ApiError, type BasemapCollection, type FacilityItem, type IsochroneCollection } from '../api.js';

export const HEAT_RESOLUTION = 9;
export const HEAT_MINUTES = [5, 10, 15] as const;
/** band id of cells beyond the last threshold. */
export const BEYOND = 99;
/** isochrone requests in flight at once. */
const CONCURRENCY = 4;

export interface HeatCellProps {
  cell: string;
  /** 5, 10, 15 or BEYOND: the median band of the cell's buildings. */
  band: number;
  /** buildings in the cell. */
  buildings: number;
}

export interface HeatResult {
  format: string;
  cells: FeatureCollection<Polygon, HeatCellProps>;
  /** cells per band id. */
  counts: Record<number, number>;
  facilities: number;
  /** facilities with no isochrone (off the walking network). */
  skipped: number;
}

/** A polygon ring set with its bounding box, for quick rejection. */
interface Area {
  rings: number[][][][];
  box: [number, number, number, number];
}

function toArea(geometry: Polygon | MultiPolygon): Area {
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const poly of polys)
    for (const [x, y] of poly[0] ?? []) {
      if (x < box[0]) box[0] = x;
      if (y < box[1]) box[1] = y;
      if (x > box[2]) box[2] = x;
      if (y > box[3]) box[3] = y;
    }
  return { rings: polys, box };
}

function inRing(ring: number[][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Outer rings minus holes. */
export function areaContains(a: Area, x: number, y: number): boolean {
  if (x < a.box[0] || x > a.box[2] || y < a.box[1] || y > a.box[3]) return false;
  return a.rings.some((poly) => inRing(poly[0], x, y) && !poly.slice(1).some((hole) => inRing(hole, x, y)));
}

/**
 * Where people live, by cell: the buildings of the basemap (mean of the outer ring's vertices),
 * as flat [lon, lat, lon, lat, …] per cell. Without buildings, the centres of the cells covering
 * the region's box stand in.
 */
export function residentialPoints(basemap: BasemapCollection, bbox: [number, number, number, number]): Map<string, number[]> {
  const cells = new Map<string, number[]>();
  for (const f of basemap.features) {
    if (f.properties.layer !== 'building') continue;
    const g = f.geometry;
    const ring = g.type === 'Polygon' ? g.coordinates[0] : g.type === 'MultiPolygon' ? g.coordinates[0]?.[0] : null;
    if (!ring || ring.length === 0) continue;
    // a closed ring repeats its first vertex: leave it out of the mean
    const n = ring.length > 1 && ring[0][0] === ring[ring.length - 1][0] && ring[0][1] === ring[ring.length - 1][1] ? ring.length - 1 : ring.length;
    let x = 0;
    let y = 0;
    for (let i = 0; i < n; i++) {
      x += ring[i][0];
      y += ring[i][1];
    }
    x /= n;
    y /= n;
    const cell = latLngToCell(y, x, HEAT_RESOLUTION);
    let list = cells.get(cell);
    if (!list) cells.set(cell, (list = []));
    list.push(x, y);
  }
  if (cells.size > 0) return cells;
  const [w, s, e, n] = bbox;
  for (const cell of polygonToCells([[[w, s], [e, s], [e, n], [w, n], [w, s]]], HEAT_RESOLUTION, true)) {
    const [lat, lon] = cellToLatLng(cell);
    cells.set(cell, [lon, lat]);
  }
  return cells;
}

/** The median of a list of band ids (lower middle for an even count). */
export function medianBand(bands: number[]): number {
  bands.sort((a, b) => a - b);
  return bands[Math.floor((bands.length - 1) / 2)];
}

/** Run `work` over items with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(runners);
}

export async function computeHeatmap(
  format: string,
  opts: { profile?: string; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<HeatResult> {
  const [all, basemap, region] = await Promise.all([api.facilities(), api.basemap().catch(() => ({ type: 'FeatureCollection', features: [] }) as BasemapCollection), api.region()]);
  const facilities: FacilityItem[] = all.facilities.filter((f) => f.formats.includes(format));
  // areas[b]: the band-b isochrones of every facility
  const areas: Area[][] = HEAT_MINUTES.map(() => []);
  let done = 0;
  let skipped = 0;
  opts.onProgress?.(0, facilities.length);
  await pool(facilities, CONCURRENCY, async (f) => {
    let iso: IsochroneCollection | null = null;
    try {
      iso = await api.isochrone([f.lon, f.lat], { minutes: [...HEAT_MINUTES], profile: opts.profile, signal: opts.signal });
    } catch (err) {
      // off the walking network or outside the data: this facility cannot be walked to
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      skipped++;
    }
    for (const feature of iso?.features ?? []) {
      const b = HEAT_MINUTES.indexOf(feature.properties.minutes as (typeof HEAT_MINUTES)[number]);
      if (b >= 0) areas[b].push(toArea(feature.geometry));
    }
    opts.onProgress?.(++done, facilities.length);
  });

  const counts: Record<number, number> = { [BEYOND]: 0 };
  for (const m of HEAT_MINUTES) counts[m] = 0;
  const features: Array<Feature<Polygon, HeatCellProps>> = [];
  const pointBand = (lon: number, lat: number): number => {
    for (let b = 0; b < HEAT_MINUTES.length; b++) if (areas[b].some((a) => areaContains(a, lon, lat))) return HEAT_MINUTES[b];
    return BEYOND;
  };
  const cells = residentialPoints(basemap, region.bbox);
  for (const cell of [...cells.keys()].sort()) {
    const xy = cells.get(cell)!;
    const bands: number[] = [];
    for (let i = 0; i < xy.length; i += 2) bands.push(pointBand(xy[i], xy[i + 1]));
    const band = medianBand(bands);
    counts[band]++;
    features.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [cellToBoundary(cell, true)] }, properties: { cell, band, buildings: bands.length } });
  }
  return { format, cells: { type: 'FeatureCollection', features }, counts, facilities: facilities.length, skipped };
}
