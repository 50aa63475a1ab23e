/**
 * Dasymetric disaggregation: known population totals (a district, 街道, 居委 or any zone)
 * spread over residential floor area. A residence in a zone gets
 *     total × floorArea / (sum of floorArea of the zone's residences)
 * and elderly = population × share. Nothing is lost silently: a zone without residences
 * keeps its total as unassigned population, and residences outside every zone are counted
 * (their population is set to 0).
 */
import { readFileSync } from 'node:fs';
import { clipFromGeoJson, pointInClip, type ClipPolygon } from '../clip.js';
import { normaliseHeader, parseNumberField } from './compound-list.js';
import type { ResidenceTable } from './table.js';

export interface PopulationZone {
  name?: string;
  /** WGS-84 polygon(s) with holes (clip.ts: clipFromGeoJson builds one from GeoJSON). */
  polygon: ClipPolygon;
  /** residents. */
  total: number;
  /** share aged 65+ in this zone; default: the call's elderlyShare. */
  elderlyShare?: number;
}

export type PopulationTotals = { total: number; elderlyShare?: number } | { zones: readonly PopulationZone[] };

export interface ZoneResult {
  name: string;
  total: number;
  residences: number;
  floorAreaM2: number;
  /** population put on residences (= total when it has residences). */
  assigned: number;
  /** population of a zone without residences: reported, never spread elsewhere. */
  unassigned: number;
  elderly: number;
}

export interface DistributionReport {
  zones: ZoneResult[];
  /** sum of the zone totals. */
  total: number;
  assigned: number;
  unassigned: number;
  elderly: number;
  /** names of zones that got no residence. */
  zonesWithoutResidences: string[];
  /** residences in no zone: population set to 0. */
  residencesOutside: number;
  floorAreaOutsideM2: number;
  /** residences inside more than one zone (overlapping zones): the first zone listed takes them. */
  residencesInSeveralZones: number;
  warnings: string[];
}

/**
 * Replace table.population and table.elderly by shares of known totals (in place).
 * Residences with zero floor area in a zone whose floor area sums to zero share it equally.
 */
export function distributePopulation(table: ResidenceTable, totals: PopulationTotals, elderlyShare: number): DistributionReport {
  if (!(elderlyShare >= 0 && elderlyShare <= 1)) throw new Error(`elderly share ${elderlyShare} is not in [0, 1]`);
  const n = table.count;
  const zoneOf = new Int32Array(n).fill(-1);
  let zones: Array<{ name: string; total: number; share: number }>;
  let several = 0;
  if ('zones' in totals) {
    zones = totals.zones.map((z, i) => ({ name: z.name ?? `zone ${i + 1}`, total: z.total, share: z.elderlyShare ?? elderlyShare }));
    totals.zones.forEach((z, i) => {
      if (!(Number.isFinite(z.total) && z.total >= 0)) throw new Error(`${zones[i].name}: total ${z.total} is not a non-negative number`);
      if (!(zones[i].share >= 0 && zones[i].share <= 1)) throw new Error(`${zones[i].name}: elderly share ${zones[i].share} is not in [0, 1]`);
    });
    for (let r = 0; r < n; r++) {
      const lon = table.lon[r];
      const lat = table.lat[r];
      for (let z = 0; z < totals.zones.length; z++) {
        if (!pointInClip(totals.zones[z].polygon, lon, lat)) continue;
        if (zoneOf[r] < 0) zoneOf[r] = z;
        else {
          several++;
          break;
        }
      }
    }
  } else {
    if (!(Number.isFinite(totals.total) && totals.total >= 0)) throw new Error(`total ${totals.total} is not a non-negative number`);
    zones = [{ name: 'total', total: totals.total, share: totals.elderlyShare ?? elderlyShare }];
    zoneOf.fill(0);
  }

  const sumArea = new Float64Array(zones.length);
  const count = new Int32Array(zones.length);
  for (let r = 0; r < n; r++) {
    const z = zoneOf[r];
    if (z < 0) continue;
    sumArea[z] += Math.max(0, table.floorArea[r]);
    count[z]++;
  }
  const elderlyBy = new Float64Array(zones.length);
  let outside = 0;
  let areaOutside = 0;
  for (let r = 0; r < n; r++) {
    const z = zoneOf[r];
    if (z < 0) {
      outside++;
      areaOutside += table.floorArea[r];
      table.population[r] = 0;
      table.elderly[r] = 0;
      continue;
    }
    const w = sumArea[z] > 0 ? Math.max(0, table.floorArea[r]) / sumArea[z] : 1 / count[z];
    const p = zones[z].total * w;
    table.population[r] = p;
    table.elderly[r] = p * zones[z].share;
    elderlyBy[z] += p * zones[z].share;
  }

  const results: ZoneResult[] = zones.map((z, i) => ({
    name: z.name,
    total: z.total,
    residences: count[i],
    floorAreaM2: sumArea[i],
    assigned: count[i] > 0 ? z.total : 0,
    unassigned: count[i] > 0 ? 0 : z.total,
    elderly: elderlyBy[i],
  }));
  const report: DistributionReport = {
    zones: results,
    total: zones.reduce((s, z) => s + z.total, 0),
    assigned: results.reduce((s, z) => s + z.assigned, 0),
    unassigned: results.reduce((s, z) => s + z.unassigned, 0),
    elderly: results.reduce((s, z) => s + z.elderly, 0),
    zonesWithoutResidences: results.filter((z) => z.residences === 0).map((z) => z.name),
    residencesOutside: outside,
    floorAreaOutsideM2: areaOutside,
    residencesInSeveralZones: several,
    warnings: [],
  };
  for (const z of results) {
    if (z.residences === 0 && z.total > 0) {
      report.warnings.push(`${z.name}: ${fmt(z.total)} residents but no residence inside: population left unassigned`);
    }
  }
  if (outside > 0) report.warnings.push(`${outside} residences lie in no zone: given no population`);
  if (several > 0) report.warnings.push(`${several} residences lie in more than one zone: counted in the first`);
  return report;
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

const ZONE_NAME = ['name', '名称', '街道', '街道名称', '街镇', '居委', '居委会', 'zone'];
const ZONE_TOTAL = ['population', 'pop', 'total', '人口', '常住人口', '总人口', 'popu'];
const ZONE_ELDERLY = ['elderlyshare', 'elderly_share', '老年人口比例', '65岁以上比例', '65岁及以上比例', 'ages65p'];

/**
 * Population zones from GeoJSON: a FeatureCollection of Polygon / MultiPolygon features whose
 * properties give the total (population / 人口 / 常住人口 / total), optionally a name
 * (name / 名称 / 街道 / 居委) and the 65+ share (elderlyShare / 老年人口比例 / AGES_65P: 0–1, or
 * a percentage written with %). All problems are reported together, one per line.
 */
export function populationZonesFromGeoJson(doc: unknown, source = 'zones'): PopulationZone[] {
  const obj = (x: unknown): Record<string, unknown> | null =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null;
  const root = obj(doc);
  if (!root || root.type !== 'FeatureCollection' || !Array.isArray(root.features) || root.features.length === 0) {
    throw new Error(`${source}: population zones must be a GeoJSON FeatureCollection with at least one feature`);
  }
  const problems: string[] = [];
  const zones: PopulationZone[] = [];
  (root.features as unknown[]).forEach((f, i) => {
    const where = `feature ${i + 1}`;
    const props = obj(obj(f)?.properties) ?? {};
    const pick = (names: string[]): unknown => {
      for (const [k, v] of Object.entries(props)) if (names.includes(normaliseHeader(k)) && v !== null && v !== '') return v;
      return undefined;
    };
    const name = pick(ZONE_NAME);
    const label = name !== undefined ? `${where} (${String(name)})` : where;
    const rawTotal = pick(ZONE_TOTAL);
    const total = typeof rawTotal === 'number' ? rawTotal : parseNumberField(rawTotal === undefined ? undefined : String(rawTotal));
    if (total === null) problems.push(`${label}: no population (property population / 人口 / 常住人口 / total)`);
    else if (!Number.isFinite(total) || total < 0) problems.push(`${label}: population ${String(rawTotal)} is not a non-negative number`);
    let elderlyShare: number | undefined;
    const rawShare = pick(ZONE_ELDERLY);
    if (rawShare !== undefined) {
      const str = String(rawShare).trim();
      const pct = str.endsWith('%');
      const x = typeof rawShare === 'number' ? rawShare : parseNumberField(pct ? str.slice(0, -1) : str);
      const share = x === null ? NaN : pct ? x / 100 : x;
      if (!(share >= 0 && share <= 1)) problems.push(`${label}: elderly share ${str} is not in 0–1 (or 0–100 %)`);
      else elderlyShare = share;
    }
    let polygon: ClipPolygon | null = null;
    try {
      polygon = clipFromGeoJson({ type: 'Feature', geometry: obj(f)?.geometry ?? null }, `${source} ${label}`);
    } catch (e) {
      problems.push((e as Error).message.replace(`${source} `, ''));
    }
    if (polygon && total !== null && Number.isFinite(total) && total >= 0) {
      zones.push({ name: name !== undefined ? String(name) : where, polygon, total, elderlyShare });
    }
  });
  if (problems.length > 0) throw new Error(`${source}:\n${problems.join('\n')}`);
  return zones;
}

/** populationZonesFromGeoJson on a file. */
export function readPopulationZones(file: string): PopulationZone[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new Error(`${file}: cannot read population zones: ${(e as Error).message}`);
  }
  return populationZonesFromGeoJson(doc, file);
}
