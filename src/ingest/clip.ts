/**
 * Clip polygons (--clip): GeoJSON Polygon / MultiPolygon with holes, WGS-84 lon/lat.
 * Point tests are even-odd ray casting per ring after a bbox reject, so they are cheap
 * enough to run per node during import.
 */
import { readFileSync } from 'node:fs';

export interface ClipPolygon {
  /** where it came from, for messages. */
  source: string;
  /** polygons[p] = rings, ring 0 the outer, the rest holes; each ring flat [lon,lat,...] closed. */
  polygons: Float64Array[][];
  /** [minLon, minLat, maxLon, maxLat] over all outer rings. */
  bbox: [number, number, number, number];
}

type Json = unknown;

export function loadClipPolygon(file: string): ClipPolygon {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read: ${(e as Error).message}`);
  }
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  return clipFromGeoJson(doc, file);
}

/** Build a clip from a parsed GeoJSON object (Feature, FeatureCollection, Polygon, MultiPolygon). */
export function clipFromGeoJson(doc: Json, source = 'clip'): ClipPolygon {
  const polygons: Float64Array[][] = [];
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  const obj = (x: Json): Record<string, Json> | null =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, Json>) : null;

  const addGeometry = (g: Json, where: string): void => {
    const o = obj(g);
    if (!o) fail(`${where} has no geometry`);
    const type = o!.type;
    if (type === 'Polygon') polygons.push(readPolygon(o!.coordinates, `${where} (Polygon)`, fail));
    else if (type === 'MultiPolygon') {
      const parts = o!.coordinates;
      if (!Array.isArray(parts) || parts.length === 0) fail(`${where} (MultiPolygon) has no polygons`);
      (parts as Json[]).forEach((p, i) => polygons.push(readPolygon(p, `${where} polygon ${i + 1}`, fail)));
    } else fail(`${where} has geometry type ${String(type)}; need Polygon or MultiPolygon`);
  };

  const root = obj(doc);
  if (!root) fail('not a GeoJSON object');
  const type = root!.type;
  if (type === 'FeatureCollection') {
    const feats = root!.features;
    if (!Array.isArray(feats) || feats.length === 0) fail('FeatureCollection has no features');
    (feats as Json[]).forEach((f, i) => {
      const fo = obj(f);
      if (!fo || fo.type !== 'Feature') fail(`feature ${i + 1} is not a GeoJSON Feature`);
      addGeometry(fo!.geometry, `feature ${i + 1}`);
    });
  } else if (type === 'Feature') addGeometry(root!.geometry, 'feature');
  else if (type === 'Polygon' || type === 'MultiPolygon') addGeometry(root, 'geometry');
  else fail(`GeoJSON type ${String(type)}; need Feature, FeatureCollection, Polygon or MultiPolygon`);

  const bbox: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const p of polygons) {
    const r = p[0];
    for (let i = 0; i < r.length; i += 2) {
      if (r[i] < bbox[0]) bbox[0] = r[i];
      if (r[i + 1] < bbox[1]) bbox[1] = r[i + 1];
      if (r[i] > bbox[2]) bbox[2] = r[i];
      if (r[i + 1] > bbox[3]) bbox[3] = r[i + 1];
    }
  }
  return { source, polygons, bbox };
}

function readPolygon(coords: Json, where: string, fail: (m: string) => never): Float64Array[] {
  if (!Array.isArray(coords) || coords.length === 0) fail(`${where} has no rings`);
  return (coords as Json[]).map((ring, ri) => {
    const rw = `${where} ${ri === 0 ? 'outer ring' : `hole ${ri}`}`;
    if (!Array.isArray(ring)) fail(`${rw} is not an array of positions`);
    const pts = ring as Json[];
    const flat: number[] = [];
    pts.forEach((p, pi) => {
      if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') {
        fail(`${rw} position ${pi + 1} is not [lon, lat]`);
      }
      const [lon, lat] = p as number[];
      if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
        fail(`${rw} position ${pi + 1} is [${lon}, ${lat}]: not WGS-84 lon/lat (projected coordinates are not supported)`);
      }
      flat.push(lon, lat);
    });
    // Close an unclosed ring rather than refusing it: the intent is unambiguous.
    const n = flat.length;
    if (n >= 2 && (flat[0] !== flat[n - 2] || flat[1] !== flat[n - 1])) flat.push(flat[0], flat[1]);
    if (flat.length < 8) fail(`${rw} has ${pts.length} positions; a ring needs at least 4 (3 distinct, closed)`);
    return Float64Array.from(flat);
  });
}

/** Even-odd test over closed rings (an outer ring and its holes, or several areas' rings). */
export function pointInRings(rings: readonly Float64Array[], x: number, y: number): boolean {
  let inside = false;
  for (const r of rings) {
    const n = r.length;
    for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
      const yi = r[i + 1];
      const yj = r[j + 1];
      if (yi > y !== yj > y) {
        const xi = r[i];
        const xj = r[j];
        if (x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
  }
  return inside;
}

export function pointInClip(clip: ClipPolygon, lon: number, lat: number): boolean {
  const b = clip.bbox;
  if (lon < b[0] || lon > b[2] || lat < b[1] || lat > b[3]) return false;
  // holes lie inside their outer ring, so even-odd over a polygon's rings is "in outer, not in a hole"
  for (const rings of clip.polygons) if (pointInRings(rings, lon, lat)) return true;
  return false;
}
