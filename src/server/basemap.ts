/**
 * GET /api/basemap: the region's basemap as GeoJSON, in the encoding the client accepts; and the
 * same basemap as Mapbox vector tiles (GET /api/basemap/tiles/{z}/{x}/{y}.pbf, TileJSON at
 * /api/basemap/tiles.json), which the web app draws: cut here once per region and cached, so the
 * browser's map worker parses small tiles instead of tiling the whole GeoJSON itself.
 * The region file stores it gzip-compressed, so gzip clients get the stored bytes unchanged;
 * brotli is made once in the background (zlib's thread pool) and used once ready; identity is
 * inflated on first use. A region imported before basemaps existed gets its walk-graph edges as
 * roads instead, marked source "walk-graph".
 */
import { GeoJSONVT } from '@maplibre/geojson-vt';
import { fromGeojsonVt } from '@maplibre/vt-pbf';
import type { FastifyInstance } from 'fastify';
import type { FeatureCollection } from 'geojson';
import { createHash } from 'node:crypto';
import { brotliCompress, constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { LruCache } from './cache.js';
import { badRequest } from './errors.js';
import { layerClass, loadBasemapSpec } from '../ingest/basemap.js';
import { WALK_CLASSES } from '../ingest/walkability.js';
import type { Region } from '../region/region.js';
import type { StreetPoint } from './search.js';

const brotli = promisify(brotliCompress);

export type BasemapSource = 'osm' | 'walk-graph';
export type BodyEncoding = 'br' | 'gzip' | 'identity';

/**
 * Brotli for the one-off compression of the basemap. On coordinate text qualities up to 9 are no
 * smaller than gzip; 10 is ~37 % smaller (Andorra 1.17 MB: gzip 282 kB, br-9 281 kB, br-10 177 kB)
 * at ~3 s per MB of one thread-pool thread, so it is made in the background and only for
 * basemaps up to BROTLI_MAX_BYTES; larger ones are sent gzip-compressed.
 */
const BROTLI_QUALITY = 10;
export const BROTLI_MAX_BYTES = 16 * 1024 * 1024;

/** Tiles are cut up to this zoom; the map draws closer zooms from them (over-zoomed). */
export const TILE_MAX_ZOOM = 14;
const TILE_EXTENT = 4096;
const TILE_CACHE_ENTRIES = 20_000;
const TILE_CACHE_BYTES = 96 * 1024 * 1024;

/** A cut tile: the MVT bytes and their gzip form (both empty where the region has nothing). */
export interface TileBody {
  raw: Buffer;
  gzip: Buffer;
}

export class BasemapPayload {
  readonly source: BasemapSource;
  readonly etag: string;
  private gzip: Buffer;
  private identity: Buffer | null = null;
  private br: Buffer | null = null;
  private brPending: Promise<void> | null = null;
  private streetList: StreetPoint[] | null = null;
  private tileIndex: Map<string, GeoJSONVT> | null = null;
  private readonly tiles = new LruCache<TileBody>(TILE_CACHE_ENTRIES, TILE_CACHE_BYTES, (t) => t.raw.byteLength + t.gzip.byteLength + 64);

  constructor(region: Region) {
    if (region.basemap) {
      const gz = region.basemap.geojsonGz;
      this.source = 'osm';
      this.gzip = Buffer.from(gz.buffer, gz.byteOffset, gz.byteLength);
    } else {
      this.source = 'walk-graph';
      this.identity = walkGraphGeoJson(region);
      this.gzip = gzipSync(this.identity, { level: 6 });
    }
    this.etag = `W/"basemap-${createHash('sha1').update(this.gzip).digest('base64url')}"`;
  }

  /** Start making the brotli body (once); resolves when it is ready (or failed: then gzip stays). */
  prepare(): Promise<void> {
    if (this.identityBody().length > BROTLI_MAX_BYTES) return Promise.resolve();
    const body = this.identityBody();
    const params = { [zlibConstants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length, [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT };
    this.brPending ??= brotli(body, { params }).then(
      (b) => {
        this.br = b;
      },
      () => {},
    );
    return this.brPending;
  }

  identityBody(): Buffer {
    return (this.identity ??= gunzipSync(this.gzip));
  }

  /** The body in the best encoding the client accepts that is ready now. */
  body(accepted: readonly BodyEncoding[]): { encoding: BodyEncoding; bytes: Buffer } {
    for (const enc of accepted) {
      if (enc === 'br') {
        if (this.br) return { encoding: 'br', bytes: this.br };
        void this.prepare();
      } else if (enc === 'gzip') return { encoding: 'gzip', bytes: this.gzip };
      else return { encoding: 'identity', bytes: this.identityBody() };
    }
    return { encoding: 'identity', bytes: this.identityBody() };
  }

  /** The version tile URLs carry (the GeoJSON's ETag, shortened): a new basemap is new URLs. */
  get tileVersion(): string {
    return this.etag.slice(11, 27);
  }

  /**
   * Tile z/x/y as an MVT with one layer per basemap layer (road, building, water…), each feature
   * keeping its properties; an empty body where the region has nothing. Cut on first request
   * (the index is built once, on the first tile asked for) and kept in an LRU cache.
   */
  tile(z: number, x: number, y: number): TileBody {
    const key = `${z}/${x}/${y}`;
    const hit = this.tiles.get(key);
    if (hit) return hit;
    const layers: Record<string, NonNullable<ReturnType<GeoJSONVT['getTile']>>> = {};
    for (const [name, index] of this.tileLayers()) {
      const t = index.getTile(z, x, y);
      if (t && t.features.length > 0) layers[name] = t;
    }
    const raw = Object.keys(layers).length > 0 ? Buffer.from(fromGeojsonVt(layers, { version: 2, extent: TILE_EXTENT })) : Buffer.alloc(0);
    const body: TileBody = { raw, gzip: raw.length > 0 ? gzipSync(raw, { level: 6 }) : raw };
    this.tiles.set(key, body);
    return body;
  }

  /** One tile index per basemap layer, so that every style layer reads only its own features. */
  private tileLayers(): Map<string, GeoJSONVT> {
    if (this.tileIndex) return this.tileIndex;
    const fc = JSON.parse(this.identityBody().toString('utf8')) as FeatureCollection;
    const byLayer = new Map<string, FeatureCollection['features']>();
    for (const f of fc.features) {
      const layer = typeof f.properties?.layer === 'string' ? f.properties.layer : 'other';
      let list = byLayer.get(layer);
      if (!list) byLayer.set(layer, (list = []));
      list.push(f);
    }
    const options = { maxZoom: TILE_MAX_ZOOM, indexMaxZoom: 5, tolerance: 3, extent: TILE_EXTENT, buffer: 64, wrap: false };
    this.tileIndex = new Map([...byLayer].map(([layer, features]) => [layer, new GeoJSONVT({ type: 'FeatureCollection', features }, options)]));
    return this.tileIndex;
  }

  /** Named roads, one point each (the middle vertex of the longest way of that name), for search. */
  streets(): StreetPoint[] {
    if (this.streetList) return this.streetList;
    const best = new Map<string, { n: number; lon: number; lat: number }>();
    const fc = JSON.parse(this.identityBody().toString('utf8')) as {
      features: Array<{ properties: { layer: string; name?: string }; geometry: { type: string; coordinates: unknown } }>;
    };
    for (const f of fc.features) {
      const name = f.properties.name;
      if (f.properties.layer !== 'road' || !name) continue;
      const line = (f.geometry.type === 'LineString' ? f.geometry.coordinates : (f.geometry.coordinates as unknown[])[0]) as number[][];
      if (!Array.isArray(line) || line.length === 0) continue;
      const prev = best.get(name);
      if (prev && prev.n >= line.length) continue;
      const mid = line[line.length >> 1];
      best.set(name, { n: line.length, lon: mid[0], lat: mid[1] });
    }
    this.streetList = [...best].map(([name, p]) => ({ name, lon: p.lon, lat: p.lat }));
    return this.streetList;
  }
}

/** The walk graph's edges as road features (class from the basemap table by highway value). */
export function walkGraphGeoJson(region: Region): Buffer {
  const g = region.graph;
  const road = loadBasemapSpec().layers.find((l) => l.layer === 'road');
  const classOfWalk = WALK_CLASSES.map((hw) => (road ? layerClass(road, { highway: hw }) : null) ?? '');
  const parts: string[] = [`{"type":"FeatureCollection","source":"walk-graph","attribution":${JSON.stringify(region.meta.attribution)},"features":[`];
  const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;
  for (let e = 0; e < g.edgeCount; e++) {
    const cls = classOfWalk[g.edgeClass[e]] ?? '';
    let coords = '';
    for (let p = g.geomOffsets[e]; p < g.geomOffsets[e + 1]; p++) coords += `${coords ? ',' : ''}[${r6(g.geomCoords[2 * p])},${r6(g.geomCoords[2 * p + 1])}]`;
    parts.push(`${e ? ',' : ''}{"type":"Feature","properties":{"layer":"road"${cls ? `,"class":${JSON.stringify(cls)}` : ''}},"geometry":{"type":"LineString","coordinates":[${coords}]}}`);
  }
  parts.push(']}');
  return Buffer.from(parts.join(''), 'utf8');
}

/**
 * Encodings the client accepts, best first (br, gzip, identity), from Accept-Encoding with
 * q-values; identity is always the last resort.
 */
export function acceptedEncodings(header: string | undefined): BodyEncoding[] {
  const q = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [token, ...params] = part.trim().toLowerCase().split(';');
    if (!token) continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) weight = Number(m[1]);
    }
    if (Number.isFinite(weight)) q.set(token, weight);
  }
  const star = q.get('*');
  const weight = (enc: string): number => q.get(enc) ?? (enc === 'identity' ? 0.001 : star ?? 0);
  const usable: BodyEncoding[] = (['br', 'gzip'] as const).filter((e) => weight(e) > 0).sort((a, b) => weight(b) - weight(a));
  usable.push('identity');
  return usable;
}

/** Does If-None-Match name this ETag (weak comparison, lists and * allowed)? */
function sameTag(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const bare = (t: string): string => t.trim().replace(/^W\//, '');
  return (Array.isArray(header) ? header.join(',') : header).split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag));
}

/** A tile coordinate from the URL: digits only, within the zoom's range; else 400 naming it. */
function tileCoordinate(field: 'z' | 'x' | 'y', raw: string, max: number): number {
  if (!/^\d{1,5}$/.test(raw)) throw badRequest(field, `${field} must be an integer from 0 to ${max}`);
  const n = Number(raw);
  if (n > max) throw badRequest(field, `${field} must be an integer from 0 to ${max}`);
  return n;
}

/**
 * GET /api/basemap/tiles.json (TileJSON) and GET /api/basemap/tiles/{z}/{x}/{y}.pbf. Tile URLs
 * carry the basemap's version (?v=): asked with the current one, a tile may be cached for good;
 * without it (or with an old one) it is revalidated by ETag. Tiles have their own per-client limit
 * (tilesPerMinute, null = only the global one), so panning a map does not use up the reads limit.
 */
export function registerBasemapTiles(
  app: FastifyInstance,
  payload: () => BasemapPayload,
  bbox: () => readonly number[],
  attribution: () => string,
  tilesPerMinute: number | null,
): void {
  app.get(
    '/api/basemap/tiles.json',
    {
      schema: {
        summary: 'the basemap as vector tiles: TileJSON (tile URL template, zoom range, bounds, layers)',
        description: 'Tile URLs are relative to this server. Layers: road, rail, building, water, waterway, green; properties as in /api/basemap.',
        tags: ['map'],
      },
    },
    async (_req, reply) => {
      const bm = payload();
      reply.header('cache-control', 'no-cache');
      return {
        tilejson: '3.0.0',
        name: 'Quarter basemap',
        source: bm.source,
        attribution: attribution(),
        tiles: [`/api/basemap/tiles/{z}/{x}/{y}.pbf?v=${bm.tileVersion}`],
        minzoom: 0,
        maxzoom: TILE_MAX_ZOOM,
        bounds: bbox(),
        vector_layers: ['green', 'water', 'waterway', 'building', 'rail', 'road'].map((id) => ({ id, fields: { class: 'String', name: 'String' } })),
      };
    },
  );
  app.get<{ Params: { z: string; x: string; y: string }; Querystring: { v?: string } }>(
    '/api/basemap/tiles/:z/:x/:y',
    {
      config: tilesPerMinute !== null ? { rateLimit: { max: tilesPerMinute, timeWindow: 60_000 } } : {},
      schema: {
        summary: 'one basemap vector tile (Mapbox Vector Tile 2.1; y as "{y}.pbf"); empty where the region has nothing',
        tags: ['map'],
        params: { type: 'object', properties: { z: { type: 'string', maxLength: 8 }, x: { type: 'string', maxLength: 8 }, y: { type: 'string', maxLength: 12 } } },
        querystring: { type: 'object', properties: { v: { type: 'string', maxLength: 64, pattern: '^[A-Za-z0-9_-]*$' } } },
      },
    },
    async (req, reply) => {
      const yName = /^(.*)\.pbf$/.exec(req.params.y);
      if (!yName) throw badRequest('y', 'the tile must be named {y}.pbf');
      const z = tileCoordinate('z', req.params.z, TILE_MAX_ZOOM);
      const max = 2 ** z - 1;
      const x = tileCoordinate('x', req.params.x, max);
      const y = tileCoordinate('y', yName[1], max);
      const bm = payload();
      const etag = `W/"tile-${bm.tileVersion}-${z}-${x}-${y}"`;
      const current = req.query.v === bm.tileVersion;
      reply
        .header('etag', etag)
        .header('cache-control', current ? 'public, max-age=31536000, immutable' : 'no-cache')
        .header('vary', 'accept-encoding')
        .header('x-quarter-basemap', bm.source);
      if (sameTag(req.headers['if-none-match'], etag)) return reply.code(304).send();
      const tile = bm.tile(z, x, y);
      const gzip = acceptedEncodings(req.headers['accept-encoding']).includes('gzip') && tile.gzip.length > 0;
      if (gzip) reply.header('content-encoding', 'gzip');
      return reply.type('application/vnd.mapbox-vector-tile').send(gzip ? tile.gzip : tile.raw);
    },
  );
}
