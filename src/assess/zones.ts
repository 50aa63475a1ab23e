/**
 * Zones an assessment reports on: the region itself, the user's own polygons (街道, 居委, 片区 …
 * from a GeoJSON file) and H3 hexagon cells. Residences belong to a zone by their centroid
 * (point in polygon, holes honoured, even-odd rule); a residence may lie in several user zones
 * (overlapping zones each count it) or in none (counted and reported).
 *
 * User zones file: a GeoJSON FeatureCollection (or a single Feature / Polygon / MultiPolygon) of
 * Polygon / MultiPolygon features in WGS-84 lon/lat. Names come from the properties 名称 / name /
 * NAME (then 街道 / 居委 / zone), else "zone N". Problems that make a feature unusable throw a
 * ZoneFileError naming the file and the 1-based feature number; a self-intersecting ring is only a
 * warning (naming the feature): the zone is still used, with the even-odd rule deciding inside.
 */
import { readFileSync } from 'node:fs';
import { cellToBoundary, cellToLatLng, latLngToCell } from 'h3-js';
import { clipFromGeoJson, pointInClip, type ClipPolygon } from '../ingest/clip.js';
import { normaliseHeader } from '../ingest/residences/compound-list.js';
import type { GeoJSONGeometry, ZoneKind } from './result.js';

/** A user zone file cannot be used; `feature` is 1-based (null: the file as a whole). */
export class ZoneFileError extends Error {
  constructor(
    readonly file: string,
    readonly feature: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'ZoneFileError';
  }
}

export interface UserZone {
  /** "zone-N" (N = 1-based feature number). */
  id: string;
  name: string;
  /** 1-based feature number in the file. */
  feature: number;
  geometry: GeoJSONGeometry;
  polygon: ClipPolygon;
  properties: Record<string, unknown>;
}

export interface UserZones {
  source: string;
  zones: UserZone[];
  /** true when at least one feature carries a population total (population / 人口 / 常住人口 / total …). */
  hasPopulation: boolean;
  warnings: string[];
  /** the parsed document, for readPopulationZones-style use without reading the file again. */
  doc: unknown;
}

const NAME_KEYS = ['名称', 'name', 'NAME', 'Name'];
const NAME_FALLBACK = ['街道', '街道名称', '街镇', '居委', '居委会', 'zone'];
/** the property names distribute.ts reads as a zone's population total (after normaliseHeader). */
const POPULATION_KEYS = ['population', 'pop', 'total', '人口', '常住人口', '总人口', 'popu'];

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj | null => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : null);

/** Read user zones from a GeoJSON file. */
export function readUserZones(file: string): UserZones {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ZoneFileError(file, null, `${file}: cannot read the zones file${code ? ` (${code})` : ''}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new ZoneFileError(file, null, `${file}: zones file is not valid JSON: ${(e as Error).message}`);
  }
  return userZonesFromGeoJson(doc, file);
}

/** User zones from a parsed GeoJSON document; `source` names it in messages. */
export function userZonesFromGeoJson(doc: unknown, source = 'zones'): UserZones {
  const root = obj(doc);
  if (!root) throw new ZoneFileError(source, null, `${source}: zones file is not a GeoJSON object`);
  let features: unknown[];
  if (root.type === 'FeatureCollection') {
    if (!Array.isArray(root.features) || root.features.length === 0) {
      throw new ZoneFileError(source, null, `${source}: FeatureCollection has no features`);
    }
    features = root.features;
  } else if (root.type === 'Feature') features = [root];
  else if (root.type === 'Polygon' || root.type === 'MultiPolygon') features = [{ type: 'Feature', properties: {}, geometry: root }];
  else throw new ZoneFileError(source, null, `${source}: GeoJSON type ${String(root.type)}; need a FeatureCollection of Polygon / MultiPolygon features`);

  const zones: UserZone[] = [];
  const warnings: string[] = [];
  let hasPopulation = false;
  features.forEach((f, i) => {
    const n = i + 1;
    const fo = obj(f);
    if (!fo || fo.type !== 'Feature') throw new ZoneFileError(source, n, `${source}: feature ${n} is not a GeoJSON Feature`);
    const props = obj(fo.properties) ?? {};
    const name = zoneName(props) ?? `zone ${n}`;
    const label = `feature ${n} (${name})`;
    const geom = obj(fo.geometry);
    if (!geom) throw new ZoneFileError(source, n, `${source}: ${label} has no geometry`);
    if (geom.type !== 'Polygon' && geom.type !== 'MultiPolygon') {
      throw new ZoneFileError(source, n, `${source}: ${label} has geometry type ${String(geom.type)}; need Polygon or MultiPolygon`);
    }
    let polygon: ClipPolygon;
    try {
      polygon = clipFromGeoJson(geom, `${source} ${label}`);
    } catch (e) {
      // clip.ts says "<source>: geometry (Polygon) outer ring …": keep the part after the label
      const msg = (e as Error).message.replace(`${source} ${label}: `, '');
      throw new ZoneFileError(source, n, `${source}: ${label}: ${msg}`);
    }
    for (const k of Object.keys(props)) if (POPULATION_KEYS.includes(normaliseHeader(k)) && props[k] !== null && props[k] !== '') hasPopulation = true;
    const crossing = selfIntersection(polygon);
    if (crossing) {
      warnings.push(
        `${source}: ${label}: ${crossing.ring} self-intersects (edges ${crossing.a} and ${crossing.b} cross); used as given, inside decided by the even-odd rule — check the boundary`,
      );
    }
    zones.push({ id: `zone-${n}`, name, feature: n, geometry: geometryOf(polygon, geom.type), polygon, properties: props });
  });
  return { source, zones, hasPopulation, warnings, doc };
}

function zoneName(props: Obj): string | undefined {
  for (const k of NAME_KEYS) {
    const v = props[k];
    if ((typeof v === 'string' && v.trim() !== '') || typeof v === 'number') return String(v).trim();
  }
  for (const [k, v] of Object.entries(props)) {
    if (NAME_FALLBACK.includes(normaliseHeader(k)) && ((typeof v === 'string' && v.trim() !== '') || typeof v === 'number')) return String(v).trim();
  }
  return undefined;
}

/** Closed rings as GeoJSON (clip.ts closed any unclosed ring already). */
function geometryOf(clip: ClipPolygon, type: 'Polygon' | 'MultiPolygon'): GeoJSONGeometry {
  const ring = (r: Float64Array): number[][] => {
    const out: number[][] = [];
    for (let i = 0; i < r.length; i += 2) out.push([r[i], r[i + 1]]);
    return out;
  };
  const polys = clip.polygons.map((rings) => rings.map(ring));
  return type === 'Polygon' && polys.length === 1 ? { type: 'Polygon', coordinates: polys[0] } : { type: 'MultiPolygon', coordinates: polys };
}

/**
 * First pair of crossing edges within one ring (a sweep over edges sorted by west end; edges that
 * share a vertex along the ring are not compared). Null when every ring is simple.
 */
export function selfIntersection(clip: ClipPolygon): { ring: string; a: number; b: number } | null {
  for (let p = 0; p < clip.polygons.length; p++) {
    const rings = clip.polygons[p];
    for (let k = 0; k < rings.length; k++) {
      const hit = ringCrossing(rings[k]);
      if (hit) {
        const part = clip.polygons.length > 1 ? `polygon ${p + 1} ` : '';
        return { ring: `${part}${k === 0 ? 'outer ring' : `hole ${k}`}`, a: hit[0] + 1, b: hit[1] + 1 };
      }
    }
  }
  return null;
}

function ringCrossing(r: Float64Array): [number, number] | null {
  const m = r.length / 2 - 1; // edges of the closed ring
  if (m < 4) return null;
  const order = Array.from({ length: m }, (_, i) => i);
  const minX = (i: number) => Math.min(r[2 * i], r[2 * i + 2]);
  const maxX = (i: number) => Math.max(r[2 * i], r[2 * i + 2]);
  order.sort((a, b) => minX(a) - minX(b));
  for (let s = 0; s < m; s++) {
    const i = order[s];
    const xi = maxX(i);
    for (let t = s + 1; t < m; t++) {
      const j = order[t];
      if (minX(j) > xi) break;
      const d = Math.abs(i - j);
      if (d <= 1 || d === m - 1) continue; // neighbours share a vertex
      if (segmentsCross(r, i, j)) return i < j ? [i, j] : [j, i];
    }
  }
  return null;
}

function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const v = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

function onSegment(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): boolean {
  return Math.min(ax, bx) <= cx && cx <= Math.max(ax, bx) && Math.min(ay, by) <= cy && cy <= Math.max(ay, by);
}

function segmentsCross(r: Float64Array, i: number, j: number): boolean {
  const [ax, ay, bx, by] = [r[2 * i], r[2 * i + 1], r[2 * i + 2], r[2 * i + 3]];
  const [cx, cy, dx, dy] = [r[2 * j], r[2 * j + 1], r[2 * j + 2], r[2 * j + 3]];
  const o1 = orient(ax, ay, bx, by, cx, cy);
  const o2 = orient(ax, ay, bx, by, dx, dy);
  const o3 = orient(cx, cy, dx, dy, ax, ay);
  const o4 = orient(cx, cy, dx, dy, bx, by);
  if (o1 !== o2 && o3 !== o4) return true;
  if (o1 === 0 && onSegment(ax, ay, bx, by, cx, cy)) return true;
  if (o2 === 0 && onSegment(ax, ay, bx, by, dx, dy)) return true;
  if (o3 === 0 && onSegment(cx, cy, dx, dy, ax, ay)) return true;
  if (o4 === 0 && onSegment(cx, cy, dx, dy, bx, by)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// membership

/** A zone to report on, with its members (residence indices, ascending). */
export interface ZoneSpec {
  id: string;
  name: string;
  kind: ZoneKind;
  resolution?: number;
  geometry: GeoJSONGeometry | null;
  members: Int32Array;
}

export interface UserZoneAssignment {
  zones: ZoneSpec[];
  /** residences in no zone. */
  outside: number;
  /** residences in more than one zone (each zone counts them). */
  inSeveral: number;
}

/** Residences (by centroid) in each user zone. */
export function assignUserZones(zones: readonly UserZone[], lon: Float64Array, lat: Float64Array): UserZoneAssignment {
  const n = lon.length;
  const hits = new Uint8Array(n);
  const lists: number[][] = zones.map(() => []);
  for (let r = 0; r < n; r++) {
    const x = lon[r];
    const y = lat[r];
    for (let z = 0; z < zones.length; z++) {
      if (pointInClip(zones[z].polygon, x, y)) {
        lists[z].push(r);
        if (hits[r] < 255) hits[r]++;
      }
    }
  }
  let outside = 0;
  let inSeveral = 0;
  for (let r = 0; r < n; r++) {
    if (hits[r] === 0) outside++;
    else if (hits[r] > 1) inSeveral++;
  }
  return {
    zones: zones.map((z, i) => ({ id: z.id, name: z.name, kind: 'zone', geometry: z.geometry, members: Int32Array.from(lists[i]) })),
    outside,
    inSeveral,
  };
}

/**
 * H3 cells holding at least one residence (by centroid), at each resolution. H3 cells do not nest
 * exactly (a child hexagon can straddle its parent's edge), so a residence's cell at every
 * resolution is its own latLngToCell, never a parent of a finer cell. To spare most of those
 * calls, residences are grouped by their finest cell first; a finest cell whose centre and
 * vertices all fall in one coarser cell lies wholly inside it (cells are convex), and its members
 * take that cell; the others are looked up one by one.
 * Order: resolutions as given, cells sorted by index within each.
 */
export function h3Zones(resolutions: readonly number[], lon: Float64Array, lat: Float64Array): ZoneSpec[] {
  const res = [...new Set(resolutions)];
  for (const r of res) if (!Number.isInteger(r) || r < 0 || r > 15) throw new RangeError(`H3 resolution ${r} is not an integer in 0–15`);
  if (res.length === 0 || lon.length === 0) return [];
  const finest = Math.max(...res);
  const n = lon.length;
  const byFine = new Map<string, number[]>();
  for (let r = 0; r < n; r++) {
    const c = latLngToCell(lat[r], lon[r], finest);
    let list = byFine.get(c);
    if (!list) byFine.set(c, (list = []));
    list.push(r);
  }
  const out: ZoneSpec[] = [];
  for (const resolution of res) {
    let groups: Map<string, number[]>;
    if (resolution === finest) groups = byFine;
    else {
      groups = new Map();
      const add = (cell: string, r: number) => {
        let list = groups.get(cell);
        if (!list) groups.set(cell, (list = []));
        list.push(r);
      };
      for (const [c, members] of byFine) {
        const whole = members.length > 1 ? wholeIn(c, resolution) : null;
        if (whole !== null) for (const m of members) add(whole, m);
        else for (const m of members) add(latLngToCell(lat[m], lon[m], resolution), m);
      }
    }
    const cells = [...groups.keys()].sort();
    for (const cell of cells) {
      const members = Int32Array.from(groups.get(cell) ?? []).sort();
      out.push({ id: cell, name: cell, kind: 'h3', resolution, geometry: { type: 'Polygon', coordinates: [cellToBoundary(cell, true)] }, members });
    }
  }
  return out;
}

/** The cell at `resolution` that holds all of `cell` (centre and every vertex in it), or null. */
function wholeIn(cell: string, resolution: number): string | null {
  const [clat, clng] = cellToLatLng(cell);
  const home = latLngToCell(clat, clng, resolution);
  for (const [vlat, vlng] of cellToBoundary(cell)) if (latLngToCell(vlat, vlng, resolution) !== home) return null;
  return home;
}
