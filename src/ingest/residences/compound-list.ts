/**
 * A user's 小区 list → residences. CSV (UTF-8 with or without BOM, UTF-16, or GBK from Chinese
 * Excel) or GeoJSON, with Chinese or English headers:
 *
 *   name        小区名称 / 小区名 / 小区 / 名称 / name
 *   households  户数 / 总户数 / households            (population = households × household size)
 *   population  人口 / 人口数 / 常住人口 / 居住人口 / population
 *   lon, lat    经度 / lon / lng / longitude,  纬度 / lat / latitude
 *   elderly     老年人口 / 65岁以上 / 65岁及以上 / elderly   (optional; else population × share)
 *   crs         坐标系 / crs                    (optional: WGS84 / GCJ-02 / BD-09 per row)
 *
 * Headers may carry a unit in brackets ("人口（人）"). Every data row is either imported or
 * rejected with its line (CSV: the line in the file, header = line 1; GeoJSON: the feature's
 * 1-based number), the field and the reason: imported + rejected = rowsRead, always.
 * Coordinates are WGS-84 unless the file or the row says otherwise; GCJ-02 / BD-09 rows need
 * the caller's `convert`.
 */
import { readFileSync } from 'node:fs';
import { areaCentroid } from '../read-osm.js';
import { inChinaBox } from './build.js';
import { loadResidenceDefaults } from './defaults.js';
import {
  ACCESS_CENTROID,
  KIND_USER,
  LEVELS_NONE,
  ResidenceTableBuilder,
  SOURCE_ROW,
  type ResidenceTable,
} from './table.js';
import { CsvSyntaxError, decodeText, scanCsv, type TextEncodingName } from '../text-table.js';
import { haversineMetres } from '../../engine/geo.js';

export type Crs = 'wgs84' | 'gcj02' | 'bd09';

export interface CompoundListOptions {
  /** mean household size for rows with households but no population (default 2.36, Xuhui 2020). */
  householdSize?: number;
  /** share aged 65+ for rows without an elderly count (default 0.2061, Xuhui 2020). */
  elderlyShare?: number;
  /** coordinate system of rows without a 坐标系 value (default wgs84). */
  crs?: Crs;
  /** GCJ-02 / BD-09 → WGS-84. Without it, rows in those systems are rejected. */
  convert?: (lon: number, lat: number, from: Exclude<Crs, 'wgs84'>) => [number, number];
  /**
   * Flag coordinates that are in China only when lon and lat are exchanged (default true):
   * a Chinese list's lat column holding 121.4 is a swapped column, not a point near the pole.
   */
  china?: boolean;
  /** same name within this many metres of an earlier row → duplicate warning (default 100). */
  duplicateMetres?: number;
  /** floor area per person given to user rows (the weight when totals are spread; default cn 37 m²). */
  floorAreaPerPerson?: number;
  /** force the format instead of guessing from the name and content. */
  format?: 'csv' | 'geojson';
}

export interface RowIssue {
  /** CSV: line in the file (header = 1); GeoJSON: 1-based feature number. */
  line: number;
  /** the column as written in the file (or the canonical name when the column is absent). */
  field: string;
  message: string;
}

export type CompoundField = 'name' | 'households' | 'population' | 'lon' | 'lat' | 'elderly' | 'crs';

export interface CompoundListResult {
  table: ResidenceTable;
  format: 'csv' | 'geojson';
  encoding: TextEncodingName;
  delimiter?: string;
  /** which column was read for each field (null: absent). */
  columns: Record<CompoundField, string | null>;
  ignoredColumns: string[];
  rowsRead: number;
  imported: number;
  rejected: RowIssue[];
  warnings: RowIssue[];
  populationFromHouseholds: number;
  elderlyEstimated: number;
  converted: number;
  /** file-level remarks (encoding detected, columns ignored, …). */
  notes: string[];
}

const SYNONYMS: Record<CompoundField, string[]> = {
  name: ['小区名称', '小区名', '小区', '名称', '住宅小区', '小区名字', 'name', 'compound', 'compoundname'],
  households: ['户数', '总户数', '住户数', '户', 'households', 'household', 'hh'],
  population: ['人口', '人口数', '常住人口', '居住人口', '总人口', '人数', 'population', 'pop', 'residents'],
  lon: ['经度', 'lon', 'lng', 'long', 'longitude', 'x'],
  lat: ['纬度', 'lat', 'latitude', 'y'],
  elderly: ['老年人口', '65岁以上', '65岁及以上', '65岁以上人口', '65岁及以上人口', '老年人', 'elderly', 'elderly65', 'age65plus', 'pop65'],
  crs: ['坐标系', '坐标系统', 'crs', 'srs', 'coordinatesystem'],
};
const FIELD_OF = new Map<string, CompoundField>();
for (const [f, names] of Object.entries(SYNONYMS) as Array<[CompoundField, string[]]>) for (const n of names) FIELD_OF.set(n, f);

/** Header → canonical key: trimmed, lower case, no spaces/underscores, unit in brackets dropped. */
export function normaliseHeader(h: string): string {
  return h
    .replace(/^\uFEFF/, '')
    .trim()
    .replace(/\s*[（(][^）)]*[）)]\s*$/, '')
    .toLowerCase()
    .replace(/[\s_\-:]/g, '');
}

const PLAIN_NUMBER = /^\s*-?\d+(\.\d+)?\s*$/;

/** Full-width digits and signs → ASCII. */
function halfWidth(s: string): string {
  return s.replace(/[\uFF0B-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/**
 * A count or coordinate: trims, accepts full-width digits, thousands separators (1,234), units
 * 人/户/口 and 万 (×10 000). '' → null (missing); unparseable → NaN.
 */
export function parseNumberField(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  if (raw === '') return null;
  if (PLAIN_NUMBER.test(raw)) return Number(raw);
  let s = halfWidth(raw.trim());
  if (s === '') return null;
  let scale = 1;
  s = s.replace(/\s*(人口|人|户|口)$/, '');
  if (s.endsWith('万')) {
    scale = 10000;
    s = s.slice(0, -1).trim();
  }
  if (/^[+-]?\d{1,3}([,，]\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/[,，]/g, '');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return NaN;
  return Number(s) * scale;
}

export function parseCrs(raw: string | undefined): Crs | null | undefined {
  if (raw === undefined) return undefined;
  const s = halfWidth(raw).trim().toLowerCase().replace(/[\s_\-:]/g, '');
  if (s === '') return undefined;
  if (['wgs84', 'wgs1984', 'epsg4326', '4326', 'gps', 'wgs'].includes(s)) return 'wgs84';
  if (['gcj02', 'gcj', '火星', '火星坐标', '火星坐标系', '国测局', '高德', '腾讯', 'amap', 'tencent'].includes(s)) return 'gcj02';
  if (['bd09', 'bd09ll', '百度', 'baidu', 'bd'].includes(s)) return 'bd09';
  return null;
}

/** rows above the header that may be skipped as a title. */
const MAX_TITLE_ROWS = 3;

const CRS_LABEL: Record<Crs, string> = { wgs84: 'WGS-84', gcj02: 'GCJ-02', bd09: 'BD-09' };

/** Read a 小区 list from a file (CSV or GeoJSON, guessed from the name, then the content). */
export function readCompoundList(file: string, opts: CompoundListOptions = {}): CompoundListResult {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read: ${(e as Error).message}`);
  }
  return parseCompoundList(buf, file, opts);
}

type RowValues = Record<CompoundField, string | undefined>;

/** Values of one row in a fixed shape (one hidden class for all rows: fast on 100k rows). */
function rowValues(cell: (f: CompoundField) => string | undefined): RowValues {
  return {
    name: cell('name'),
    households: cell('households'),
    population: cell('population'),
    lon: cell('lon'),
    lat: cell('lat'),
    elderly: cell('elderly'),
    crs: cell('crs'),
  };
}

/** One data row, whatever the format: raw strings per field (undefined when absent). */
interface RawRow {
  line: number;
  values: RowValues;
  /** a geometry's point (GeoJSON), used when no lon/lat properties are given. */
  point?: [number, number];
  /** a GeoJSON feature (its geometry may stand in for lon/lat). */
  geojson?: boolean;
}

export function parseCompoundList(bytes: Uint8Array, source = 'list', opts: CompoundListOptions = {}): CompoundListResult {
  if (bytes.length === 0) throw new Error(`${source}: the file is empty`);
  const dec = decodeText(bytes, source);
  const text = dec.text;
  if (text.trim() === '') throw new Error(`${source}: the file is empty (only blanks)`);
  const format = opts.format ?? (/\.(geo)?json$/i.test(source) || /^\s*\{/.test(text) ? 'geojson' : 'csv');
  const notes: string[] = [];
  if (dec.note) notes.push(`${source}: ${dec.note}`);
  const columns: Record<CompoundField, string | null> = { name: null, households: null, population: null, lon: null, lat: null, elderly: null, crs: null };
  const ignoredColumns: string[] = [];
  let delimiter: string | undefined;

  const mapHeaders = (headers: string[]): Array<CompoundField | null> =>
    headers.map((h) => {
      const f = FIELD_OF.get(normaliseHeader(h)) ?? null;
      if (f && columns[f] === null) {
        columns[f] = h.replace(/^\uFEFF/, '').trim();
        return f;
      }
      if (h.trim() !== '') ignoredColumns.push(h.trim());
      return null;
    });
  /** After the header: refuse a list without coordinates or counts; note ignored columns. */
  const checkColumns = (): void => {
    const missing: string[] = [];
    if (format === 'csv' && (columns.lon === null || columns.lat === null)) missing.push('经度/lon and 纬度/lat');
    if (columns.population === null && columns.households === null) missing.push('人口/population or 户数/households');
    if (missing.length > 0) {
      const found = [...Object.values(columns).filter((x): x is string => x !== null), ...ignoredColumns];
      throw new Error(`${source}: no column for ${missing.join(', nor ')}; columns found: ${found.join(', ') || '(none)'}`);
    }
    for (const h of ignoredColumns) {
      if (/^60岁/.test(normaliseHeader(h))) notes.push(`column "${h}" ignored: Quarter counts the elderly as 65+ (老年人口 / 65岁以上)`);
    }
    if (ignoredColumns.length > 0) notes.push(`columns not used: ${ignoredColumns.join(', ')}`);
  };

  let validator: ReturnType<typeof rowValidator> | null = null;
  if (format === 'csv') {
    const ci: Record<CompoundField, number> = { name: -1, households: -1, population: -1, lon: -1, lat: -1, elderly: -1, crs: -1 };
    let rec: string[] = [];
    const cell = (f: CompoundField): string | undefined => (ci[f] >= 0 ? rec[ci[f]] : undefined);
    // Chinese spreadsheets often have a title row (徐汇区小区名单) above the header: the header
    // is the first of the first MAX_TITLE_ROWS + 1 records naming at least two known columns.
    let first: string[] | null = null;
    const titleLines: number[] = [];
    const useHeader = (fields: string[]): void => {
      mapHeaders(fields).forEach((f, c) => {
        if (f) ci[f] = c;
      });
      checkColumns();
      validator = rowValidator(columns, opts);
    };
    let scanned: { delimiter: string };
    try {
      scanned = scanCsv(text, (fields, line) => {
        if (validator === null) {
          first ??= fields;
          let known = 0;
          for (const h of fields) if (FIELD_OF.has(normaliseHeader(h))) known++;
          if (known >= 2) {
            if (titleLines.length > 0) notes.push(`${source}: line${titleLines.length > 1 ? 's' : ''} ${titleLines.join(', ')} above the header skipped (a title?)`);
            useHeader(fields);
          } else if (titleLines.length < MAX_TITLE_ROWS) titleLines.push(line);
          else useHeader(first); // no header anywhere: fails naming the columns of the first line
          return;
        }
        rec = fields;
        validator.add({ line, values: rowValues(cell) });
      });
    } catch (e) {
      if (e instanceof CsvSyntaxError) throw new CsvSyntaxError(e.line, e.detail, source);
      throw e;
    }
    if (validator === null && first !== null) useHeader(first);
    delimiter = scanned.delimiter;
  } else {
    const rows: RawRow[] = [];
    readGeoJsonRows(text, source, mapHeaders, rows, notes);
    checkColumns();
    validator = rowValidator(columns, opts);
    for (const r of rows) validator.add(r);
  }
  const result = (validator ?? rowValidator(columns, opts)).finish();
  if (result.rowsRead === 0) notes.push(`${source}: no data rows (header only)`);
  return { ...result, format, encoding: dec.encoding, delimiter, columns, ignoredColumns, notes };
}

function readGeoJsonRows(
  text: string,
  source: string,
  mapHeaders: (h: string[]) => Array<CompoundField | null>,
  rows: RawRow[],
  notes: string[],
): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  const obj = (x: unknown): Record<string, unknown> | null =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null;
  const root = obj(doc);
  if (!root || root.type !== 'FeatureCollection' || !Array.isArray(root.features)) {
    throw new Error(`${source}: a GeoJSON 小区 list must be a FeatureCollection`);
  }
  const feats = root.features as unknown[];
  // Column names: the union of property keys, in order of first appearance.
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const f of feats) {
    const p = obj(obj(f)?.properties);
    if (!p) continue;
    for (const k of Object.keys(p)) {
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  const fields = mapHeaders(keys);
  const crsName = obj(obj(root.crs)?.properties)?.name;
  if (typeof crsName === 'string' && !/4326|CRS84/i.test(crsName)) {
    notes.push(`${source}: declares crs "${crsName}"; coordinates are read as lon/lat degrees`);
  }
  feats.forEach((f, i) => {
    const fo = obj(f);
    const p = obj(fo?.properties) ?? {};
    const values = rowValues((f) => {
      const c = fields.indexOf(f);
      const v = c >= 0 ? p[keys[c]] : undefined;
      return v === undefined || v === null ? undefined : typeof v === 'string' ? v : String(v);
    });
    rows.push({ line: i + 1, values, point: geometryPoint(obj(fo?.geometry)), geojson: true });
  });
}

/** Point of a Point / MultiPoint (first) / Polygon / MultiPolygon (area centroid) geometry. */
function geometryPoint(g: Record<string, unknown> | null): [number, number] | undefined {
  if (!g) return undefined;
  const c = g.coordinates;
  const pt = (x: unknown): [number, number] | undefined =>
    Array.isArray(x) && typeof x[0] === 'number' && typeof x[1] === 'number' ? [x[0], x[1]] : undefined;
  const ring = (x: unknown): Float64Array | null => {
    if (!Array.isArray(x)) return null;
    const flat: number[] = [];
    for (const p of x) {
      const q = pt(p);
      if (q) flat.push(q[0], q[1]);
    }
    return flat.length >= 8 ? Float64Array.from(flat) : null;
  };
  switch (g.type) {
    case 'Point':
      return pt(c);
    case 'MultiPoint':
      return Array.isArray(c) ? pt(c[0]) : undefined;
    case 'Polygon': {
      const r = Array.isArray(c) ? ring(c[0]) : null;
      return r ? (areaCentroid([r]) ?? undefined) : undefined;
    }
    case 'MultiPolygon': {
      const rs = Array.isArray(c) ? c.map((poly) => (Array.isArray(poly) ? ring(poly[0]) : null)).filter((r): r is Float64Array => r !== null) : [];
      return rs.length ? (areaCentroid(rs) ?? undefined) : undefined;
    }
    default:
      return undefined;
  }
}

type ValidatedPart = Pick<
  CompoundListResult,
  'table' | 'rowsRead' | 'imported' | 'rejected' | 'warnings' | 'populationFromHouseholds' | 'elderlyEstimated' | 'converted'
>;

/** Checks rows one at a time (CSV rows are streamed, never all held as strings). */
function rowValidator(
  columns: Record<CompoundField, string | null>,
  opts: CompoundListOptions,
): { add: (row: RawRow) => void; finish: () => ValidatedPart } {
  const d = loadResidenceDefaults();
  const householdSize = opts.householdSize ?? d.householdSize;
  const elderlyShare = opts.elderlyShare ?? d.elderlyShare;
  const defaultCrs = opts.crs ?? 'wgs84';
  const china = opts.china ?? true;
  const dupMetres = opts.duplicateMetres ?? 100;
  const fapp = opts.floorAreaPerPerson ?? d.profiles.cn.floorAreaPerPerson;
  const label = (f: CompoundField): string => columns[f] ?? f;

  const out = new ResidenceTableBuilder();
  /** problems of the current row (reused: no allocation per clean row). */
  const problems: Array<[CompoundField, string]> = [];
  const bad = (f: CompoundField, msg: string) => problems.push([f, msg]);
  const rejected: RowIssue[] = [];
  const warnings: RowIssue[] = [];
  const lastOfName = new Map<string, number>();
  const seenLon: number[] = [];
  const seenLat: number[] = [];
  const seenLine: number[] = [];
  const prevSame: number[] = [];
  let fromHouseholds = 0;
  let elderlyEstimated = 0;
  let converted = 0;
  let rowsRead = 0;

  const add = (row: RawRow): void => {
    rowsRead++;
    const v = row.values;
    problems.length = 0;

    // coordinates
    let lon = NaN;
    let lat = NaN;
    const lonRaw = v.lon;
    const latRaw = v.lat;
    const hasCols = (lonRaw !== undefined && lonRaw.trim() !== '') || (latRaw !== undefined && latRaw.trim() !== '');
    if (!hasCols && row.point) {
      lon = row.point[0];
      lat = row.point[1];
    }
    else if (!hasCols && row.geojson) bad('lon', 'no coordinates (no 经度/纬度 and no geometry)');
    else {
      const x = parseNumberField(lonRaw);
      const y = parseNumberField(latRaw);
      if (x === null) bad('lon', 'missing');
      else if (Number.isNaN(x)) bad('lon', `"${lonRaw!.trim()}" is not a number`);
      if (y === null) bad('lat', 'missing');
      else if (Number.isNaN(y)) bad('lat', `"${latRaw!.trim()}" is not a number`);
      if (x !== null && y !== null && !Number.isNaN(x) && !Number.isNaN(y)) {
        lon = x;
        lat = y;
      }
    }
    if (problems.length === 0) {
      if (!Number.isFinite(lon) || !Number.isFinite(lat)) bad('lon', 'the geometry has no usable point');
      else {
        const swapMsg = () => `looks swapped: ${label('lon')} ${lon} and ${label('lat')} ${lat} fit the other way round (${label('lon')} ${lat}, ${label('lat')} ${lon}); exchange the columns`;
        if (Math.abs(lat) > 90) {
          if (Math.abs(lon) <= 90 && Math.abs(lat) <= 180) bad('lat', swapMsg());
          else bad('lat', `${lat} is not a latitude (−90…90)${Math.abs(lat) > 1000 ? ': projected coordinates are not supported, give degrees' : ''}`);
        } else if (Math.abs(lon) > 180) {
          bad('lon', `${lon} is not a longitude (−180…180)${Math.abs(lon) > 1000 ? ': projected coordinates are not supported, give degrees' : ''}`);
        } else if (china && !inChinaBox(lon, lat) && inChinaBox(lat, lon)) {
          bad('lat', swapMsg());
        } else if (lon === 0 && lat === 0) bad('lon', '0, 0 is a placeholder, not a place');
      }
    }
    // coordinate system
    if (problems.length === 0) {
      const rowCrs = parseCrs(v.crs);
      if (rowCrs === null) bad('crs', `unknown coordinate system "${v.crs!.trim()}" (use WGS84, GCJ-02 or BD-09)`);
      else {
        const crs = rowCrs ?? defaultCrs;
        if (crs !== 'wgs84') {
          if (!opts.convert) bad('crs', `coordinates are ${CRS_LABEL[crs]} and no converter to WGS-84 is available`);
          else {
            try {
              const [a, b] = opts.convert(lon, lat, crs);
              if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error('no result');
              lon = a;
              lat = b;
              converted++;
            } catch (e) {
              bad('crs', `cannot convert from ${CRS_LABEL[crs]}: ${(e as Error).message}`);
            }
          }
        }
      }
    }

    // population
    let population = NaN;
    let viaHouseholds = false;
    const pop = parseNumberField(v.population);
    const hh = parseNumberField(v.households);
    if (pop !== null) {
      if (Number.isNaN(pop)) bad('population', `"${v.population!.trim()}" is not a number`);
      else if (pop < 0) bad('population', `${pop} is negative`);
      else population = pop;
    } else if (hh !== null) {
      if (Number.isNaN(hh)) bad('households', `"${v.households!.trim()}" is not a number`);
      else if (hh < 0) bad('households', `${hh} is negative`);
      else {
        population = hh * householdSize;
        viaHouseholds = true;
      }
    } else bad(columns.population ? 'population' : 'households', 'missing (no population and no households)');

    // elderly
    let elderly = NaN;
    const old = parseNumberField(v.elderly);
    if (old !== null) {
      if (Number.isNaN(old)) bad('elderly', `"${v.elderly!.trim()}" is not a number`);
      else if (old < 0) bad('elderly', `${old} is negative`);
      else if (Number.isFinite(population) && old > population) bad('elderly', `${old} is more than the population ${round1(population)}`);
      else elderly = old;
    }

    if (problems.length > 0) {
      rejected.push({ line: row.line, field: label(problems[0][0]), message: problems.map(([f, m]) => `${label(f)}: ${m}`).join('; ') });
      return;
    }
    if (viaHouseholds) fromHouseholds++;
    if (Number.isNaN(elderly)) {
      elderly = population * elderlyShare;
      elderlyEstimated++;
    }
    const name = (v.name ?? '').trim();
    if (name === '') warnings.push({ line: row.line, field: label('name'), message: 'no name' });
    else {
      // rows of the same name form a chain: lastOfName → previous → … (−1 ends it)
      const me = seenLine.length;
      const last = lastOfName.get(name);
      for (let p = last ?? -1; p >= 0; p = prevSame[p]) {
        const m = haversineMetres(seenLon[p], seenLat[p], lon, lat);
        if (m <= dupMetres) {
          warnings.push({
            line: row.line,
            field: label('name'),
            message: `"${name}" is also on line ${seenLine[p]}, ${Math.round(m)} m away: the same 小区 listed twice?`,
          });
          break;
        }
      }
      seenLon.push(lon);
      seenLat.push(lat);
      seenLine.push(row.line);
      prevSame.push(last ?? -1);
      lastOfName.set(name, me);
    }
    out.add({
      lon,
      lat,
      footprint: 0,
      levels: 0,
      levelsSource: LEVELS_NONE,
      floorArea: population * fapp,
      population,
      elderly,
      kind: KIND_USER,
      sourceType: SOURCE_ROW,
      sourceId: row.line,
      compound: -1,
      name,
      access: [lon, lat],
      accessKind: ACCESS_CENTROID,
    });
  };
  const finish = (): ValidatedPart => {
    const table = out.finish();
    return {
      table,
      rowsRead,
      imported: table.count,
      rejected,
      warnings,
      populationFromHouseholds: fromHouseholds,
      elderlyEstimated,
      converted,
    };
  };
  return { add, finish };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
