/**
 * GET /api/basemap: the region's basemap as GeoJSON, in the encoding the client accepts.
 * The region file stores it gzip-compressed, so gzip clients get the stored bytes unchanged;
 * brotli is made once in the background (zlib's thread pool) and used once ready; identity is
 * inflated on first use. A region imported before basemaps existed gets its walk-graph edges as
 * roads instead, marked source "walk-graph".
 */
import { createHash } from 'node:crypto';
import { brotliCompress, constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
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

export class BasemapPayload {
  readonly source: BasemapSource;
  readonly etag: string;
  private gzip: Buffer;
  private identity: Buffer | null = null;
  private br: Buffer | null = null;
  private brPending: Promise<void> | null = null;
  private streetList: StreetPoint[] | null = null;

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
