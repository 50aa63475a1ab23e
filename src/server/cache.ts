/**
 * A bounded LRU cache of serialised responses. Bounded twice: by entries and by bytes, since an
 * isochrone is a hundred times the size of a nearest answer. A Map keeps insertion order, so
 * re-inserting on every hit makes its first key the least recently used.
 */
export interface LruStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

export class LruCache {
  private readonly map = new Map<string, string>();
  private bytesUsed = 0;
  private hitCount = 0;
  private missCount = 0;
  private evictionCount = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {
    if (!(maxEntries >= 0) || !(maxBytes >= 0)) throw new Error('LruCache: limits must be ≥ 0');
  }

  /** UTF-16 code units × 2: what the string costs in memory, near enough. */
  private static cost(key: string, value: string): number {
    return 2 * (key.length + value.length);
  }

  get(key: string): string | undefined {
    const v = this.map.get(key);
    if (v === undefined) {
      this.missCount++;
      return undefined;
    }
    this.hitCount++;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: string): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.bytesUsed -= LruCache.cost(key, old);
    }
    const c = LruCache.cost(key, value);
    if (c > this.maxBytes || this.maxEntries === 0) return; // larger than the whole cache: not kept
    this.map.set(key, value);
    this.bytesUsed += c;
    while (this.map.size > this.maxEntries || this.bytesUsed > this.maxBytes) {
      const oldest = this.map.keys().next().value as string;
      this.bytesUsed -= LruCache.cost(oldest, this.map.get(oldest)!);
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
