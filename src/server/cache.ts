/**
 * A bounded LRU cache of finished responses. Bounded twice: by entries and by bytes, since an
 * isochrone is a hundred times the size of a nearest answer. A Map keeps insertion order, so
 * re-inserting on every hit makes its first key the least recently used.
 *
 * Responses are kept as the bytes sent (ResponseBody): the JSON once encoded, and its gzip and
 * brotli forms made on the first request that asks for them — a cache hit then writes bytes
 * without stringifying, encoding or compressing anything.
 */
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import type { BodyEncoding } from './basemap.js';

export interface LruStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

/** What a value costs in memory, in bytes (near enough). */
export type CostOf<V> = (value: V) => number;

/** UTF-16 code units × 2: what a string costs in memory, near enough. */
const stringCost: CostOf<unknown> = (v) => 2 * String(v).length;

export class LruCache<V = string> {
  /** value and the cost counted for it when stored (a value may grow in place: see set()). */
  private readonly map = new Map<string, { value: V; cost: number }>();
  private bytesUsed = 0;
  private hitCount = 0;
  private missCount = 0;
  private evictionCount = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
    private readonly costOf: CostOf<V> = stringCost,
  ) {
    if (!(maxEntries >= 0) || !(maxBytes >= 0)) throw new Error('LruCache: limits must be ≥ 0');
  }

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) {
      this.missCount++;
      return undefined;
    }
    this.hitCount++;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  /** Store (or replace) a value; call again after a value grew in place to count its new cost. */
  set(key: string, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.bytesUsed -= old.cost;
    }
    const cost = 2 * key.length + this.costOf(value);
    if (cost > this.maxBytes || this.maxEntries === 0) return; // larger than the whole cache: not kept
    this.map.set(key, { value, cost });
    this.bytesUsed += cost;
    while (this.map.size > this.maxEntries || this.bytesUsed > this.maxBytes) {
      const oldest = this.map.keys().next().value as string;
      this.bytesUsed -= this.map.get(oldest)!.cost;
      this.map.delete(oldest);
      this.evictionCount++;
    }
  }

  clear(): void {
    this.map.clear();
    this.bytesUsed = 0;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  stats(): LruStats {
    return { entries: this.map.size, bytes: this.bytesUsed, hits: this.hitCount, misses: this.missCount, evictions: this.evictionCount };
  }
}

/** Bodies shorter than this are sent as they are (compression would not pay). */
export const COMPRESS_THRESHOLD = 1024;
/**
 * Brotli quality for cached answers: 11 (the default) takes tens of milliseconds on an isochrone;
 * 5 is a few times faster than that for a few per cent more bytes, and still beats gzip.
 */
const BROTLI_QUALITY = 5;

/** One finished response: the identity bytes and, once asked for, its compressed forms. */
export class ResponseBody {
  readonly raw: Buffer;
  private gz: Buffer | null = null;
  private brotli: Buffer | null = null;

  constructor(json: string) {
    this.raw = Buffer.from(json, 'utf8');
  }

  get bytes(): number {
    return this.raw.length + (this.gz?.length ?? 0) + (this.brotli?.length ?? 0);
  }

  /**
   * The best form for a client accepting these encodings (best first, identity last) and whether
   * it is new (the caller re-stores the entry so its cache cost is counted again).
   */
  encode(accepted: readonly BodyEncoding[]): { encoding: BodyEncoding; bytes: Buffer; grew: boolean } {
    if (this.raw.length >= COMPRESS_THRESHOLD) {
      for (const enc of accepted) {
        if (enc === 'br') {
          const grew = this.brotli === null;
          this.brotli ??= brotliCompressSync(this.raw, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: this.raw.length } });
          return { encoding: 'br', bytes: this.brotli, grew };
        }
        if (enc === 'gzip') {
          const grew = this.gz === null;
          this.gz ??= gzipSync(this.raw);
          return { encoding: 'gzip', bytes: this.gz, grew };
        }
        if (enc === 'identity') break;
      }
    }
    return { encoding: 'identity', bytes: this.raw, grew: false };
  }
}
