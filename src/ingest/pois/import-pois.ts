/**
 * Amap (高德) / Baidu POI export → Quarter facilities (WGS-84), with every row accounted for:
 * imported + rejected + merged = rowsRead, always.
 *
 * Per row, the first problem found rejects it (line = the line in the file):
 *   1. a duplicate id (the first row with that id wins);
 *   2. coordinates missing, not numbers, 0,0, out of range, or swapped (latitude in the
 *      longitude column and vice versa, judged by which order is plausible: inside the region
 *      bbox, or else inside China);
 *   3. outside the region bbox (after conversion to WGS-84);
 *   4. no format: the typecode (or, without one, the category names and the name keywords)
 *      matches no format of the taxonomy.
 * A row that passes is merged instead of added when an existing facility (OSM) of a shared
 * format lies within 50 m and has a similar name (see names.ts).
 *
 * CRS check: given a region snap function, the points are converted as each of WGS-84,
 * GCJ-02 and BD-09 and snapped to the walking network; when another system gives a clearly
 * smaller median distance than the claimed one (less than half, and at least 10 m less) a
 * warning says so. `crs: 'auto'` uses the best one instead.
 */
import Flatbush from 'flatbush';
import { haversineMetres, metresPerDegLon, METRES_PER_DEG_LAT } from '../../engine/geo.js';
import type { Facility } from '../../region/region.js';
import type { Classifier } from '../../taxonomy/classify.js';
import { CRS_IDS, CRS_LABEL, inChinaBbox, toWgs84, type Crs } from '../crs.js';
import type { Tags } from '../osm-types.js';
import { splitCategoryText, typecodeForCategories } from './categories.js';
import { nameSimilarity } from './names.js';
import { chineseOpeningHours } from './opening-hours.js';
import { readPoiTable, type PoiField, type PoiRow, type PoiTable, type TableEncoding } from './read-table.js';

export type PoiSource = 'amap' | 'baidu';

export interface PoiRegion {
  /** [minLon, minLat, maxLon, maxLat], WGS-84. */
  bbox: readonly [number, number, number, number];
  /** distance (metres) from a WGS-84 point to the walking network, or null when too far. */
  snap?: (lon: number, lat: number) => { distance: number } | null;
}

export interface ImportPoisOptions {
  /** the coordinate system the file is in; 'auto' picks it with the region's snap function. */
  crs: Crs | 'auto';
  source: PoiSource;
  classifier: Pick<Classifier, 'classifyAmap'>;
  region?: PoiRegion;
  /** facilities already in the region (OSM): a matching POI is merged, not added. */
  existing?: readonly Facility[];
  /** id of the first new facility (default: existing.length, or 0). */
  firstId?: number;
  /** merge radius, metres (default 50). */
  mergeMetres?: number;
  /** least name similarity for a merge, 0..1 (default 0.5). */
  minNameSimilarity?: number;
}

export interface PoiRejection {
  line: number;
  /** the field at fault: a PoiField ('lon', 'typecode', …) or 'coordinates' (both, or the region). */
  field: PoiField | 'coordinates';
  message: string;
}

export interface PoiMerge {
  line: number;
  /** Facility.id of the existing facility the row was merged into. */
  osmFacilityId: number;
  reason: string;
}

export interface CrsCheck {
  /** points snapped for each candidate CRS. */
  sampled: number;
  /** median distance to the network (metres; Infinity = most points beyond the snap limit). */
  medianMetres: Record<Crs, number>;
  /** the CRS with the smallest median. */
  best: Crs;
}

export interface ImportPoisResult {
  file: string;
  format: PoiTable['format'];
  encoding: TableEncoding;
  /** the CRS the coordinates were converted from. */
  crs: Crs;
  facilities: Facility[];
  rowsRead: number;
  imported: number;
  rejected: PoiRejection[];
  merged: PoiMerge[];
  warnings: string[];
  /** imported facilities per format id. */
  byFormat: Record<string, number>;
  crsCheck?: CrsCheck;
}

/** Read a CSV/XLSX export and import it. */
export async function importPois(file: string, opts: ImportPoisOptions): Promise<ImportPoisResult> {
  const table = await readPoiTable(file);
  return importPoiTable(table, opts);
}

const DEFAULT_MERGE_METRES = 50;
const DEFAULT_MIN_SIMILARITY = 0.5;
/** points snapped per candidate CRS (evenly spread over the file). */
const CRS_CHECK_SAMPLE = 1000;
const CRS_CHECK_MIN_POINTS = 5;
/** "clearly smaller": below this fraction of the claimed median, and this many metres less. */
const CRS_CHECK_RATIO = 0.5;
const CRS_CHECK_MIN_GAIN_METRES = 10;

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const round7 = (x: number): number => Math.round(x * 1e7) / 1e7;
const fmt = (x: number): string => String(round7(x));

type Coords = { ok: true; lon: number; lat: number } | { ok: false; field: PoiRejection['field']; message: string };

const ASCII = /^[\x00-\x7f]*$/;
/** NFKC only when needed (full-width digits, ideographic spaces): most cells are ASCII. */
const nfkc = (s: string): string => (ASCII.test(s) ? s : s.normalize('NFKC'));

function parseNumber(s: string): number | null {
  const t = nfkc(s).trim();
  if (!NUMBER.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/** Is a WGS-84-ish point where we expect points: inside the region bbox, or else inside China? */
function plausible(lon: number, lat: number, bbox: PoiRegion['bbox'] | undefined): boolean {
  if (bbox) {
    // the file's CRS offsets are < 1 km: allow that much slack around the bbox
    const slack = 0.01;
    return lon >= bbox[0] - slack && lon <= bbox[2] + slack && lat >= bbox[1] - slack && lat <= bbox[3] + slack;
  }
  return inChinaBbox(lon, lat);
}

function rowCoords(v: PoiRow['values'], bbox: PoiRegion['bbox'] | undefined): Coords {
  let lonText = v.lon ?? '';
  let latText = v.lat ?? '';
  let lonField: PoiRejection['field'] = 'lon';
  let latField: PoiRejection['field'] = 'lat';
  const hasColumns = v.lon !== undefined && v.lat !== undefined;
  if ((!hasColumns || (lonText === '' && latText === '')) && v.location !== undefined && v.location !== '') {
    const parts = nfkc(v.location).trim().split(/\s*[,;\s]\s*/);
    if (parts.length !== 2) {
      return { ok: false, field: 'location', message: `location "${v.location}" is not "longitude,latitude"` };
    }
    [lonText, latText] = parts;
    lonField = latField = 'location';
  }
  if (lonText === '' && latText === '') {
    return { ok: false, field: 'coordinates', message: 'missing coordinates' };
  }
  if (lonText === '') return { ok: false, field: lonField, message: 'missing longitude' };
  if (latText === '') return { ok: false, field: latField, message: 'missing latitude' };
  const lon = parseNumber(lonText);
  if (lon === null) return { ok: false, field: lonField, message: `longitude "${lonText}" is not a number` };
  const lat = parseNumber(latText);
  if (lat === null) return { ok: false, field: latField, message: `latitude "${latText}" is not a number` };
  if (lon === 0 && lat === 0) return { ok: false, field: 'coordinates', message: 'coordinates are 0, 0 (missing)' };
  const inRange = Math.abs(lon) <= 180 && Math.abs(lat) <= 90;
  const swappedInRange = Math.abs(lat) <= 180 && Math.abs(lon) <= 90;
  if ((!inRange || !plausible(lon, lat, bbox)) && swappedInRange && plausible(lat, lon, bbox)) {
    return {
      ok: false,
      field: 'coordinates',
      message: `latitude and longitude look swapped (longitude ${lonText}, latitude ${latText})`,
    };
  }
  if (Math.abs(lon) > 180) return { ok: false, field: lonField, message: `longitude ${lonText} is out of range (−180…180)` };
  if (Math.abs(lat) > 90) return { ok: false, field: latField, message: `latitude ${latText} is out of range (−90…90)` };
  return { ok: true, lon, lat };
}

interface RowCode {
  /** typecode(s) for the classifier, '|'-separated; '' = none. */
  code: string;
  /** true when the code came from a typecode column (not derived from category names). */
  fromColumn: boolean;
  /** the typecode cell when it held something that is not a typecode. */
  bad?: string;
  /** a 5-digit code restored to 6 digits (Excel drops the leading 0). */
  repaired?: { from: string; to: string };
  /** category names (大类, 中类, 小类 or the parts of the type text), general → specific. */
  categories: string[];
}

const TYPECODE_LIST = /^\d{5,6}(?:\s*[|;,]\s*\d{5,6})*$/;

function rowCode(v: PoiRow['values']): RowCode {
  const categories = [v.category1, v.category2, v.category3].filter((s): s is string => s !== undefined && s !== '');
  let typeText = v.type ?? '';
  let raw = nfkc(v.typecode ?? '').trim();
  // a 类型 column holding codes is a typecode column
  if (raw === '' && TYPECODE_LIST.test(typeText.trim())) {
    raw = typeText.trim();
    typeText = '';
  }
  if (categories.length === 0 && typeText !== '') categories.push(...splitCategoryText(typeText));
  const out: RowCode = { code: '', fromColumn: false, categories };
  if (raw !== '') {
    const parts = raw.split(/\s*[|;,]\s*/).filter((p) => p.length > 0);
    const codes: string[] = [];
    for (const p of parts) {
      if (/^\d{6}$/.test(p)) codes.push(p);
      else if (/^\d{5}$/.test(p)) {
        const fixed = `0${p}`;
        codes.push(fixed);
        out.repaired ??= { from: p, to: fixed };
      } else {
        out.bad = raw;
        break;
      }
    }
    if (out.bad === undefined && codes.length > 0) {
      out.code = codes.join('|');
      out.fromColumn = true;
      return out;
    }
    delete out.repaired;
  }
  out.code = typecodeForCategories(categories) ?? '';
  return out;
}

/** Sorted-copy median; Infinity entries count as larger than everything. */
function median(values: number[]): number {
  if (values.length === 0) return Infinity;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const metresText = (m: number): string => (Number.isFinite(m) ? `${Math.round(m)} m` : 'beyond the snap limit');

function checkCrs(
  points: readonly { lon: number; lat: number }[],
  snap: NonNullable<PoiRegion['snap']>,
): CrsCheck | null {
  if (points.length < CRS_CHECK_MIN_POINTS) return null;
  const step = Math.max(1, points.length / CRS_CHECK_SAMPLE);
  const sample: { lon: number; lat: number }[] = [];
  for (let k = 0; Math.floor(k) < points.length && sample.length < CRS_CHECK_SAMPLE; k += step) {
    sample.push(points[Math.floor(k)]);
  }
  const medianMetres = {} as Record<Crs, number>;
  let best: Crs = 'wgs84';
  for (const crs of CRS_IDS) {
    const d: number[] = [];
    for (const p of sample) {
      const [lon, lat] = toWgs84(p.lon, p.lat, crs);
      const s = snap(lon, lat);
      d.push(s === null ? Infinity : s.distance);
    }
    medianMetres[crs] = median(d);
    if (medianMetres[crs] < medianMetres[best]) best = crs;
  }
  return { sampled: sample.length, medianMetres, best };
}

interface ExistingIndex {
  tree: Flatbush;
  facilities: readonly Facility[];
}

function indexExisting(existing: readonly Facility[] | undefined): ExistingIndex | null {
  if (!existing || existing.length === 0) return null;
  const tree = new Flatbush(existing.length);
  for (const f of existing) tree.add(f.lon, f.lat, f.lon, f.lat);
  tree.finish();
  return { tree, facilities: existing };
}

function facilityNames(f: Facility): string[] {
  const names = new Set<string>();
  for (const n of [f.name, f.tags.name, f.tags['name:zh'], f.tags['name:zh-Hans'], f.tags['name:zh-Hant'], f.tags.brand]) {
    if (n !== undefined && n.trim().length > 0) names.add(n);
  }
  return [...names];
}

interface MergeHit {
  facility: Facility;
  metres: number;
  similarity: number;
  format: string;
  otherName: string;
}

function findMerge(
  idx: ExistingIndex,
  lon: number,
  lat: number,
  name: string,
  formats: readonly string[],
  radius: number,
  minSimilarity: number,
): MergeHit | null {
  if (name.trim().length === 0) return null;
  const dLat = radius / METRES_PER_DEG_LAT;
  const dLon = radius / metresPerDegLon(lat);
  let best: MergeHit | null = null;
  for (const i of idx.tree.search(lon - dLon, lat - dLat, lon + dLon, lat + dLat)) {
    const f = idx.facilities[i];
    const format = formats.find((x) => f.formats.includes(x));
    if (format === undefined) continue;
    const metres = haversineMetres(lon, lat, f.lon, f.lat);
    if (metres > radius) continue;
    let similarity = 0;
    let otherName = '';
    for (const n of facilityNames(f)) {
      const s = nameSimilarity(name, n);
      if (s > similarity) {
        similarity = s;
        otherName = n;
      }
    }
    if (similarity < minSimilarity) continue;
    if (best === null || similarity > best.similarity || (similarity === best.similarity && metres < best.metres)) {
      best = { facility: f, metres, similarity, format, otherName };
    }
  }
  return best;
}

/** Import an already-read table (see importPois). */
export function importPoiTable(table: PoiTable, opts: ImportPoisOptions): ImportPoisResult {
  const { source, classifier, region } = opts;
  const bbox = region?.bbox;
  const warnings = [...table.warnings];
  const rejected: PoiRejection[] = [];
  const merged: PoiMerge[] = [];
  const facilities: Facility[] = [];
  const byFormat: Record<string, number> = {};
  const rows = table.rows;

  // Pass 1: coordinates (needed for the CRS check before anything is converted).
  const coords: Coords[] = rows.map((r) => rowCoords(r.values, bbox));

  let crs: Crs;
  let crsCheck: CrsCheck | null = null;
  if (region?.snap) {
    const pts: { lon: number; lat: number }[] = [];
    for (const c of coords) if (c.ok) pts.push({ lon: c.lon, lat: c.lat });
    crsCheck = checkCrs(pts, region.snap);
  }
  if (opts.crs === 'auto') {
    if (!region?.snap) throw new Error('crs "auto" needs a region with a snap function');
    if (crsCheck === null) throw new Error(`${table.file}: crs "auto": too few points with coordinates to tell the coordinate system`);
    crs = crsCheck.best;
    const m = crsCheck.medianMetres;
    warnings.push(
      `coordinates taken as ${CRS_LABEL[crs]} (median distance to the network ${CRS_IDS.map((c) => `${CRS_LABEL[c]} ${metresText(m[c])}`).join(', ')})`,
    );
  } else {
    crs = opts.crs;
    if (crsCheck !== null) {
      const m = crsCheck.medianMetres;
      const claimed = m[crs];
      const best = crsCheck.best;
      if (best !== crs && m[best] < CRS_CHECK_RATIO * claimed && claimed - m[best] >= CRS_CHECK_MIN_GAIN_METRES) {
        warnings.push(
          `coordinates look like ${CRS_LABEL[best]}, not ${CRS_LABEL[crs]} as claimed ` +
            `(median distance to the network ${metresText(claimed)} vs ${metresText(m[best])})`,
        );
      } else if (!Number.isFinite(m[best])) {
        warnings.push('most points are beyond the snap limit from the walking network whatever their coordinate system: is this the right region?');
      }
    }
    if (table.crsHint !== undefined && table.crsHint !== crs) {
      warnings.push(`the coordinate header names ${CRS_LABEL[table.crsHint]}, but the import was told ${CRS_LABEL[crs]}`);
    }
  }

  const mergeIndex = indexExisting(opts.existing);
  const radius = opts.mergeMetres ?? DEFAULT_MERGE_METRES;
  const minSimilarity = opts.minNameSimilarity ?? DEFAULT_MIN_SIMILARITY;
  const firstLineOfId = new Map<string, number>();
  let nextId = opts.firstId ?? opts.existing?.length ?? 0;
  let repairedCount = 0;
  let repairedExample = '';
  let hoursUnconverted = 0;
  // the same few hours texts recur across a city's POIs
  const hoursCache = new Map<string, string | null>();
  let hoursExample = '';
  let byCategory = 0;
  const refKey = `ref:${source}`;
  const categoryKey = `${source}:category`;

  for (let r = 0; r < rows.length; r++) {
    const { line, values } = rows[r];
    const reject = (field: PoiRejection['field'], message: string): void => {
      rejected.push({ line, field, message });
    };

    const id = values.id ?? '';
    if (id !== '') {
      const first = firstLineOfId.get(id);
      if (first !== undefined) {
        reject('id', `duplicate id ${id} (first on line ${first})`);
        continue;
      }
      firstLineOfId.set(id, line);
    }

    const c = coords[r];
    if (!c.ok) {
      reject(c.field, c.message);
      continue;
    }
    const [lon, lat] = toWgs84(c.lon, c.lat, crs);
    if (bbox && !(lon >= bbox[0] && lon <= bbox[2] && lat >= bbox[1] && lat <= bbox[3])) {
      reject('coordinates', `outside the region: ${fmt(lon)}, ${fmt(lat)} (WGS-84) is not in bbox [${bbox.map(fmt).join(', ')}]`);
      continue;
    }

    const name = (values.name ?? '').trim();
    const code = rowCode(values);
    const keywordText = code.fromColumn || code.categories.length === 0 ? name : `${name}\n${code.categories.join(' ')}`;
    const formats = classifier.classifyAmap(code.code, keywordText);
    if (formats.length === 0) {
      if (code.fromColumn) reject('typecode', `no format for typecode ${code.code}`);
      else if (code.bad !== undefined) reject('typecode', `typecode "${code.bad}" is not an Amap typecode (6 digits)`);
      else if (code.categories.length > 0) {
        const field: PoiField = values.category3 ? 'category3' : values.category2 ? 'category2' : values.category1 ? 'category1' : 'type';
        const cat = code.categories.join(';');
        reject(field, `no format for category "${cat}"${code.code !== '' ? ` (typecode ${code.code})` : ''}`);
      } else {
        reject('name', `no format: no typecode or category, and the name "${name}" has no format keyword`);
      }
      continue;
    }
    if (code.repaired) {
      repairedCount++;
      if (repairedExample === '') repairedExample = `${code.repaired.from} → ${code.repaired.to} on line ${line}`;
    }
    if (!code.fromColumn && code.categories.length > 0) byCategory++;

    if (mergeIndex !== null) {
      const hit = findMerge(mergeIndex, lon, lat, name, formats, radius, minSimilarity);
      if (hit !== null) {
        const sim = hit.similarity >= 1 ? 'same name' : `name similarity ${hit.similarity.toFixed(2)}`;
        merged.push({
          line,
          osmFacilityId: hit.facility.id,
          reason:
            `${hit.format} "${name}" is ${Math.round(hit.metres)} m from existing ${hit.facility.source} ` +
            `${hit.facility.sourceId} "${hit.otherName}" (${sim})`,
        });
        continue;
      }
    }

    const tags: Tags = { source };
    if (name !== '') tags.name = name;
    if (values.brand) tags.brand = values.brand;
    if (values.address) tags['addr:full'] = values.address;
    if (values.phone) tags.phone = values.phone;
    if (id !== '') tags[refKey] = id;
    if (code.fromColumn) tags['amap:typecode'] = code.code;
    if (code.categories.length > 0) tags[categoryKey] = code.categories.join(';');
    const hoursText = values.opentime ?? '';
    if (hoursText !== '') {
      let oh = hoursCache.get(hoursText);
      if (oh === undefined) {
        oh = chineseOpeningHours(hoursText);
        if (hoursCache.size < 10000) hoursCache.set(hoursText, oh);
      }
      if (oh !== null) tags.opening_hours = oh;
      else {
        hoursUnconverted++;
        if (hoursExample === '') hoursExample = `line ${line}: "${hoursText}"`;
      }
      if (oh !== hoursText) tags['opening_hours:raw'] = hoursText;
    }
    facilities.push({
      id: nextId++,
      source,
      sourceId: line,
      formats,
      name,
      lon: round7(lon),
      lat: round7(lat),
      accessPoint: 'node',
      tags,
    });
    for (const f of formats) byFormat[f] = (byFormat[f] ?? 0) + 1;
  }

  if (repairedCount > 0) {
    warnings.push(
      `${repairedCount} typecode${repairedCount > 1 ? 's' : ''} had lost the leading 0 (${repairedExample}), ` +
        'probably after the file went through Excel: restored',
    );
  }
  if (hoursUnconverted > 0) {
    warnings.push(
      `${hoursUnconverted} opening-hours text${hoursUnconverted > 1 ? 's' : ''} could not be turned into OSM opening_hours ` +
        `(e.g. ${hoursExample}); kept as opening_hours:raw`,
    );
  }
  if (byCategory > 0) warnings.push(`${byCategory} row${byCategory > 1 ? 's' : ''} classified from category names (no typecode)`);

  const result: ImportPoisResult = {
    file: table.file,
    format: table.format,
    encoding: table.encoding,
    crs,
    facilities,
    rowsRead: rows.length,
    imported: facilities.length,
    rejected,
    merged,
    warnings,
    byFormat,
  };
  if (crsCheck !== null) result.crsCheck = crsCheck;
  return result;
}
