/**
 * Download OSM XML for an area from an Overpass API endpoint, for places without a
 * ready-made extract. The response streams to a temp file beside the target and is renamed
 * only when complete, so an interrupted download never leaves a plausible-looking file.
 */
import { tempPathFor, trackTemp } from '../io/atomic-file.js';
import { createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ClipPolygon } from './clip.js';

export const DEFAULT_OVERPASS_ENDPOINT = 'https://overpass-api.de/api/interpreter';

/** bbox is [minLon, minLat, maxLon, maxLat]; a polygon's holes are ignored (clip afterwards). */
export type OverpassArea = { bbox: [number, number, number, number] } | { polygon: ClipPolygon };

export interface OverpassQueryOptions {
  /** server-side time limit, seconds (Overpass [timeout:]). */
  timeoutSeconds?: number;
  /** server-side memory limit, bytes (Overpass [maxsize:]). */
  maxBytes?: number;
}

const f7 = (x: number) => x.toFixed(7).replace(/\.?0+$/, '');

/**
 * Overpass QL for everything the importer reads in an area: all nodes and ways (ways found
 * by geometry, so streets crossing the edge are included), multipolygon/building relations,
 * then `(._;>;)` to pull in every node of those ways and every member way of those relations,
 * even outside the area, so geometry is complete. Other relation types (routes, boundaries)
 * are not fetched: the importer ignores them and their members can span a country.
 */
export function buildOverpassQuery(area: OverpassArea, opts: OverpassQueryOptions = {}): string {
  const timeout = Math.round(opts.timeoutSeconds ?? 180);
  const maxsize = Math.round(opts.maxBytes ?? 1024 * 1024 * 1024);
  const filters: string[] = [];
  if ('bbox' in area) {
    const [w, s, e, n] = area.bbox;
    if (![w, s, e, n].every(Number.isFinite) || w >= e || s >= n || Math.abs(s) > 90 || Math.abs(n) > 90) {
      throw new Error(`bad bbox [${area.bbox.join(', ')}]: need [minLon, minLat, maxLon, maxLat] in WGS-84`);
    }
    filters.push(`(${f7(s)},${f7(w)},${f7(n)},${f7(e)})`);
  } else {
    if (area.polygon.polygons.length === 0) throw new Error(`${area.polygon.source}: polygon has no rings`);
    for (const rings of area.polygon.polygons) {
      const r = rings[0];
      const pts: string[] = [];
      // Overpass wants "lat lon" pairs; the closing point is implied.
      for (let i = 0; i + 2 < r.length; i += 2) pts.push(`${f7(r[i + 1])} ${f7(r[i])}`);
      filters.push(`(poly:"${pts.join(' ')}")`);
    }
  }
  const lines = [`[out:xml][timeout:${timeout}][maxsize:${maxsize}];`, '('];
  for (const f of filters) {
    lines.push(`  node${f};`, `  way${f};`, `  rel${f}[type~"^(multipolygon|building)$"];`);
  }
  lines.push(');', '(._;>;);', 'out body;');
  return lines.join('\n') + '\n';
}

export class OverpassError extends Error {
  readonly endpoint: string;
  readonly status?: number;
  constructor(endpoint: string, message: string, status?: number) {
    super(message);
    this.name = 'OverpassError';
    this.endpoint = endpoint;
    if (status !== undefined) this.status = status;
  }
}

export interface FetchOverpassOptions {
  /** file to write (OSM XML). */
  out: string;
  endpoint?: string;
  /** whole request, including the download. Default 10 minutes. */
  timeoutMs?: number;
  onBytes?: (bytes: number) => void;
}

/** POST the query, stream the XML to `out` atomically. Returns bytes written. */
export async function fetchOverpass(query: string, opts: FetchOverpassOptions): Promise<{ file: string; bytes: number }> {
  const endpoint = opts.endpoint ?? DEFAULT_OVERPASS_ENDPOINT;
  const timeoutMs = opts.timeoutMs ?? 10 * 60 * 1000;
  const signal = AbortSignal.timeout(timeoutMs);
  const fail = (msg: string, status?: number): never => {
    throw new OverpassError(endpoint, msg, status);
  };
  const why = (e: unknown): string => {
    if (signal.aborted) return `timed out after ${timeoutMs} ms`;
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const c = err.cause;
    return c ? `${c.code ?? ''}${c.code && c.message ? ' ' : ''}${c.message ?? ''}`.trim() || err.message : err.message;
  };

  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      body: new URLSearchParams({ data: query }),
      headers: { 'user-agent': 'quarter/0.1 (15-minute living circle accessibility)', accept: 'application/osm3s+xml, */*' },
      signal,
    });
  } catch (e) {
    return fail(`cannot reach Overpass endpoint ${endpoint}: ${why(e)}`);
  }
  if (res.status !== 200) {
    let body = '';
    try {
      body = (await res.text()).replace(/\s+/g, ' ').trim().slice(0, 200);
    } catch {
      // the body is only for the message
    }
    const hint =
      res.status === 429 ? ' (rate limited: wait, or use another endpoint)' : res.status === 504 ? ' (server busy or query too large)' : '';
    return fail(`Overpass endpoint ${endpoint} answered HTTP ${res.status}${hint}: ${body}`, res.status);
  }
  if (!res.body) return fail(`Overpass endpoint ${endpoint} sent an empty response`, res.status);

  const tmp = tempPathFor(opts.out);
  let bytes = 0;
  const untrack = trackTemp(tmp); // removed on Ctrl-C too
  try {
    // Cast: DOM and node:stream/web ReadableStream types differ only nominally.
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    body.on('data', (c: Buffer) => {
      bytes += c.length;
      opts.onBytes?.(bytes);
    });
    await pipeline(body, createWriteStream(tmp));
    await checkDownloaded(tmp, bytes, endpoint);
    await rename(tmp, opts.out);
    untrack();
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    untrack();
    if (e instanceof OverpassError) throw e;
    return fail(`download from Overpass endpoint ${endpoint} failed after ${bytes} bytes: ${why(e)}`);
  }
  return { file: opts.out, bytes };
}

/** Overpass reports timeouts and out-of-memory inside a 200 answer; refuse such partial data. */
async function checkDownloaded(file: string, bytes: number, endpoint: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(bytes, 2048));
    await fh.read(head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(bytes, 4096));
    await fh.read(tail, 0, tail.length, bytes - tail.length);
    const h = head.toString('utf8');
    if (!/<osm[\s>]/.test(h)) {
      throw new OverpassError(endpoint, `Overpass endpoint ${endpoint} did not send OSM XML: ${h.replace(/\s+/g, ' ').slice(0, 200)}`);
    }
    const m = /<remark>([^<]*)<\/remark>/.exec(tail.toString('utf8'));
    if (m && /error/i.test(m[1])) {
      throw new OverpassError(endpoint, `Overpass endpoint ${endpoint} stopped with an error, data incomplete: ${m[1].trim().slice(0, 200)}`);
    }
  } finally {
    await fh.close();
  }
}
