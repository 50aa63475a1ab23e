/**
 * Candidate sites for planning: the user's list of available sites (vacant shops, community
 * buildings: CSV or GeoJSON, WGS-84 / GCJ-02 / BD-09), network positions (street junctions of
 * the main network thinned to one per grid cell), or existing facilities (to relocate them).
 * Every candidate is snapped like a facility at import (snapPreferMain within the region's snap
 * limit); one farther than that is kept in the report as unreachable, never silently dropped.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { snapIndexFor, snapPreferMain, type Snap } from '../engine/snap.js';
import { CRS_IDS, parseCrs, toWgs84, type Crs } from '../ingest/crs.js';
import { decodeText, parseCsv } from '../ingest/text-table.js';
import { WALK_CLASSES } from '../ingest/walkability.js';
import type { Region } from '../region/region.js';
import { PlanInputError } from './instance.js';

export interface Candidate {
  lon: number;
  lat: number;
  name: string;
  source: 'file' | 'network' | 'homes' | 'existing';
  /** line (file, header = 1) or feature number; graph node; facility id. */
  ref: number;
  /** seats / residents it can serve (from the list's capacity column), if given. */
  capacity?: number;
  /** where it meets the network; null = farther than the snap limit. */
  snap: Snap | null;
}

export interface CandidateIssue {
  /** CSV line (header = 1) or GeoJSON feature number (1-based). */
  line: number;
  field: string;
  message: string;
}

export interface CandidateSet {
  candidates: Candidate[];
  /** rows not used, with why; rowsRead = candidates from the file + rejected. */
  rejected: CandidateIssue[];
  rowsRead: number;
  /** snapped candidates. */
  reachable: number;
  notes: string[];
}

const COLUMN_NAMES: Record<'lon' | 'lat' | 'name' | 'capacity' | 'crs', string[]> = {
  lon: ['lon', 'lng', 'longitude', 'x', '经度'],
  lat: ['lat', 'latitude', 'y', '纬度'],
  name: ['name', '名称', '地址', 'address', 'site', '站点'],
  capacity: ['capacity', '容量', '座位', '座位数', 'seats'],
  crs: ['crs', '坐标系'],
};

/**
 * Thin points to the one nearest each grid cell's centre (cells of `spacing` metres in a local
 * equirectangular frame at the region's middle latitude); returns the kept indices, ascending.
 * `keep(i)` false skips a point.
 */
function thinToGrid(region: Region, count: number, lon: (i: number) => number, lat: (i: number) => number, spacing: number, keep: (i: number) => boolean): number[] {
  const lat0 = (region.meta.bbox[1] + region.meta.bbox[3]) / 2;
  const ky = 111_195;
  const kx = ky * Math.cos((lat0 * Math.PI) / 180);
  const cells = new Map<string, { i: number; d: number }>();
  for (let i = 0; i < count; i++) {
    if (!keep(i)) continue;
    const x = lon(i) * kx;
    const y = lat(i) * ky;
    const cx = Math.floor(x / spacing);
    const cy = Math.floor(y / spacing);
    const d = Math.hypot(x - (cx + 0.5) * spacing, y - (cy + 0.5) * spacing);
    const key = `${cx},${cy}`;
    const cur = cells.get(key);
    if (!cur || d < cur.d) cells.set(key, { i, d });
  }
  return [...cells.values()].map((c) => c.i).sort((a, b) => a - b);
}

function checkSpacing(spacing: number): void {
  if (!(spacing >= 5 && spacing <= 10_000)) throw new PlanInputError(`candidate spacing ${spacing} m is not in [5, 10000]`, 'spacing');
}

function snapAll(region: Region, list: Omit<Candidate, 'snap'>[]): Candidate[] {
  const idx = snapIndexFor(region.graph);
  return list.map((c) => ({ ...c, snap: snapPreferMain(idx, c.lon, c.lat, region.meta.snapLimitMetres) }));
}

const inBbox = (b: readonly number[], lon: number, lat: number, pad = 0.01): boolean =>
  lon >= b[0] - pad && lon <= b[2] + pad && lat >= b[1] - pad && lat <= b[3] + pad;

/** Read a candidate list (CSV or GeoJSON). Throws PlanInputError when nothing is usable. */
export function readCandidateFile(region: Region, file: string, opts: { crs?: Crs } = {}): CandidateSet {
  const defaultCrs = opts.crs ?? 'wgs84';
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new PlanInputError(`${file}: cannot read the candidate list (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'candidates');
  }
  if (buf.length === 0) throw new PlanInputError(`${file}: the candidate list is empty`, 'candidates');
  let text: string;
  try {
    text = decodeText(buf, file).text;
  } catch (e) {
    throw new PlanInputError((e as Error).message, 'candidates');
  }
  const rows: Array<{ line: number; lon: unknown; lat: unknown; name: unknown; capacity: unknown; crs: unknown }> = [];
  const rejected: CandidateIssue[] = [];
  const notes: string[] = [];
  const trimmed = text.trimStart();
  const isJson = extname(file).toLowerCase() === '.geojson' || extname(file).toLowerCase() === '.json' || trimmed.startsWith('{');
  if (isJson) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new PlanInputError(`${file}: not valid JSON (${(e as Error).message})`, 'candidates');
    }
    const features = (doc as { type?: unknown; features?: unknown })?.features;
    if ((doc as { type?: unknown })?.type !== 'FeatureCollection' || !Array.isArray(features)) {
      throw new PlanInputError(`${file}: expected a GeoJSON FeatureCollection of Point features`, 'candidates');
    }
    features.forEach((f: unknown, i: number) => {
      const geom = (f as { geometry?: { type?: unknown; coordinates?: unknown } })?.geometry;
      const props = ((f as { properties?: unknown })?.properties ?? {}) as Record<string, unknown>;
      if (geom?.type !== 'Point' || !Array.isArray(geom.coordinates)) {
        rejected.push({ line: i + 1, field: 'geometry', message: `feature ${i + 1} is not a Point (${String(geom?.type ?? 'no geometry')})` });
        return;
      }
      const [lon, lat] = geom.coordinates as unknown[];
      rows.push({ line: i + 1, lon, lat, name: pick(props, COLUMN_NAMES.name), capacity: pick(props, COLUMN_NAMES.capacity), crs: pick(props, COLUMN_NAMES.crs) });
    });
  } else {
    let parsed;
    try {
      parsed = parseCsv(text);
    } catch (e) {
      throw new PlanInputError(`${file}: ${(e as Error).message}`, 'candidates');
    }
    const [header, ...body] = parsed.records;
    if (!header) throw new PlanInputError(`${file}: no header row`, 'candidates');
    const col = (names: string[]): number => header.findIndex((h) => names.includes(h.trim().toLowerCase()));
    const cLon = col(COLUMN_NAMES.lon);
    const cLat = col(COLUMN_NAMES.lat);
    if (cLon < 0 || cLat < 0) {
      throw new PlanInputError(
        `${file}: line 1: no ${cLon < 0 ? 'longitude' : 'latitude'} column (expected one of ${(cLon < 0 ? COLUMN_NAMES.lon : COLUMN_NAMES.lat).join(', ')}; found ${header.join(', ')})`,
        cLon < 0 ? 'lon' : 'lat',
      );
    }
    const cName = col(COLUMN_NAMES.name);
    const cCap = col(COLUMN_NAMES.capacity);
    const cCrs = col(COLUMN_NAMES.crs);
    body.forEach((fields, k) => {
      rows.push({
        line: parsed.lines[k + 1],
        lon: fields[cLon],
        lat: fields[cLat],
        name: cName >= 0 ? fields[cName] : undefined,
        capacity: cCap >= 0 ? fields[cCap] : undefined,
        crs: cCrs >= 0 ? fields[cCrs] : undefined,
      });
    });
  }
  const rowsRead = rows.length + rejected.length;
  if (rowsRead === 0) throw new PlanInputError(`${file}: the candidate list has no rows`, 'candidates');

  const bbox = region.meta.bbox;
  const ok: Omit<Candidate, 'snap'>[] = [];
  for (const r of rows) {
    const lon = toNumber(r.lon);
    const lat = toNumber(r.lat);
    if (lon === null || lat === null) {
      rejected.push({ line: r.line, field: lon === null ? 'lon' : 'lat', message: lon === null ? `longitude "${short(r.lon)}" is not a number` : `latitude "${short(r.lat)}" is not a number` });
      continue;
    }
    let crs: Crs = defaultCrs;
    if (r.crs != null && String(r.crs).trim() !== '') {
      const c = parseCrs(String(r.crs));
      if (!c) {
        rejected.push({ line: r.line, field: 'crs', message: `coordinate system "${short(r.crs)}" is not one of ${CRS_IDS.join(', ')}` });
        continue;
      }
      crs = c;
    }
    const [wlon, wlat] = toWgs84(lon, lat, crs);
    if (!inBbox(bbox, wlon, wlat)) {
      const swapped = inBbox(bbox, lat, lon);
      rejected.push({
        line: r.line,
        field: 'lon',
        message: swapped ? `${lon},${lat} lies outside the region; the longitude and latitude look swapped` : `${lon},${lat} lies outside the region`,
      });
      continue;
    }
    let capacity: number | undefined;
    if (r.capacity != null && String(r.capacity).trim() !== '') {
      const c = toNumber(r.capacity);
      if (c === null || c < 0) {
        rejected.push({ line: r.line, field: 'capacity', message: `capacity "${short(r.capacity)}" is not a non-negative number` });
        continue;
      }
      capacity = c;
    }
    const name = r.name == null ? '' : String(r.name).replace(/\s+/g, ' ').trim().slice(0, 200);
    ok.push({ lon: wlon, lat: wlat, name: name || `${basename(file)}:${r.line}`, source: 'file', ref: r.line, capacity });
  }
  if (ok.length === 0) {
    const first = rejected.slice(0, 3).map((x) => `line ${x.line}: ${x.message}`).join('; ');
    throw new PlanInputError(`${file}: no usable candidate among ${rowsRead} rows (${first})`, 'candidates');
  }
  const candidates = snapAll(region, ok);
  const reachable = candidates.filter((c) => c.snap).length;
  if (reachable < candidates.length) {
    notes.push(`${candidates.length - reachable} candidates are farther than ${region.meta.snapLimitMetres} m from any walkable way and cannot serve anyone`);
  }
  return { candidates, rejected, rowsRead, reachable, notes };
}

/**
 * Network positions: junctions (degree ≠ 2) and dead ends of the main network, thinned to the
 * one nearest each grid cell's centre (spacing in metres), so candidates spread evenly.
 */
export function networkCandidates(region: Region, opts: { spacingMetres?: number } = {}): CandidateSet {
  const spacing = opts.spacingMetres ?? 100;
  checkSpacing(spacing);
  const g = region.graph;
  const nodes = thinToGrid(region, g.nodeCount, (u) => g.nodeCoords[2 * u], (u) => g.nodeCoords[2 * u + 1], spacing, (u) => g.nodeComponent[u] === 0);
  const idx = snapIndexFor(region.graph);
  const candidates: Candidate[] = nodes.map((u) => {
    const lon = g.nodeCoords[2 * u];
    const lat = g.nodeCoords[2 * u + 1];
    return { lon, lat, name: `路网点 ${u}`, source: 'network', ref: u, snap: snapPreferMain(idx, lon, lat, region.meta.snapLimitMetres) };
  });
  if (candidates.length === 0) throw new PlanInputError('the region has no main network to place candidates on', 'candidates');
  return { candidates, rejected: [], rowsRead: 0, reachable: candidates.filter((c) => c.snap).length, notes: [`${candidates.length} network positions, one per ${spacing} m cell`] };
}

/**
 * Buildings from the region's homes (their centroids; e.g. ground-floor shop units 底商 of
 * residential blocks), thinned like network positions. Unreachable homes are left out (counted).
 */
export function homeCandidates(region: Region, opts: { spacingMetres?: number } = {}): CandidateSet {
  const spacing = opts.spacingMetres ?? 100;
  checkSpacing(spacing);
  const t = region.residences;
  const rows = thinToGrid(region, t.count, (r) => t.lon[r], (r) => t.lat[r], spacing, () => true);
  const all = snapAll(
    region,
    rows.map((r) => ({ lon: t.lon[r], lat: t.lat[r], name: t.names[r] || `住宅 ${r}`, source: 'homes' as const, ref: r })),
  );
  const candidates = all.filter((c) => c.snap);
  if (candidates.length === 0) throw new PlanInputError('no home of the region is on the walking network', 'candidates');
  const notes = [`${candidates.length} buildings (one per ${spacing} m cell)`];
  if (all.length > candidates.length) notes.push(`${all.length - candidates.length} buildings off the network left out`);
  return { candidates, rejected: [], rowsRead: 0, reachable: candidates.length, notes };
}

/**
 * Keep the candidates on streets of the given classes (highway values, e.g. residential,
 * tertiary: a shop on a quiet street rather than on a trunk road). Unknown classes are an error.
 */
export function onStreetClasses(region: Region, set: CandidateSet, classes: readonly string[]): CandidateSet {
  const wanted = new Set<number>();
  for (const c of classes) {
    const k = WALK_CLASSES.indexOf(c);
    if (k < 0) throw new PlanInputError(`street class "${c}" is not one of ${WALK_CLASSES.join(', ')}`, 'streetClass');
    wanted.add(k);
  }
  const g = region.graph;
  const kept = set.candidates.filter((c) => c.snap && wanted.has(g.edgeClass[c.snap.edge]));
  if (kept.length === 0) throw new PlanInputError(`no candidate stands on a ${classes.join(' / ')} street`, 'streetClass');
  return {
    ...set,
    candidates: kept,
    reachable: kept.length,
    notes: [...set.notes, `${set.candidates.length - kept.length} candidates not on a ${classes.join(' / ')} street left out`],
  };
}

/** Existing facilities of any of `formats`, as candidates (to relocate them). */
export function existingCandidates(region: Region, formats: readonly string[]): Candidate[] {
  const out: Candidate[] = [];
  const fs = region.facilitySnaps;
  for (const f of region.facilities) {
    if (!f.formats.some((x) => formats.includes(x))) continue;
    const e = fs.edge[f.id];
    const snap: Snap | null =
      e < 0 ? null : { edge: e, offset: fs.offset[f.id], distance: fs.access[f.id], lon: f.lon, lat: f.lat };
    out.push({ lon: f.lon, lat: f.lat, name: f.name || `#${f.id}`, source: 'existing', ref: f.id, snap });
  }
  return out;
}

function pick(props: Record<string, unknown>, names: string[]): unknown {
  for (const [k, v] of Object.entries(props)) if (names.includes(k.toLowerCase())) return v;
  return undefined;
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (s === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return null;
  return Number(s);
}

const short = (v: unknown): string => {
  const s = String(v ?? '').replace(/\s+/g, ' ');
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};
