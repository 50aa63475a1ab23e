/**
 * Place search for the web app: 小区 (compounds), street names and facility names, matched as
 * case-insensitive substrings after Unicode NFKC folding (so full-width ＡＢＣ１ finds ABC1 and
 * Chinese needs no word splitting). Pinyin is not supported.
 * Ranking: exact name, then prefix, then substring; compounds before streets before facilities;
 * shorter names first.
 */
import type { Region } from '../region/region.js';

export const SEARCH_KINDS = ['compound', 'street', 'facility'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

export interface SearchHit {
  name: string;
  kind: SearchKind;
  lon: number;
  lat: number;
  /** facility id (for /api/route?facility=), facilities only. */
  id?: number;
}

export interface StreetPoint {
  name: string;
  lon: number;
  lat: number;
}

/** Fold a name or query for matching: NFKC, lower case, runs of white space → one space. */
export function normaliseForSearch(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.normalize('NFKC').toLowerCase().replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim();
}

/** Separates a place's alternative names inside its match key; never in a folded query. */
const SEP = '\n';

export class SearchIndex {
  private readonly names: string[] = [];
  /** SEP + alternatives joined by SEP + SEP, folded. */
  private readonly keys: string[] = [];
  private readonly kinds: number[] = [];
  private readonly lon: number[] = [];
  private readonly lat: number[] = [];
  private readonly ids: number[] = [];

  get size(): number {
    return this.names.length;
  }

  add(name: string, alternatives: readonly string[], kind: SearchKind, lon: number, lat: number, id = -1): void {
    const folded = [...new Set([name, ...alternatives].map(normaliseForSearch).filter((s) => s !== ''))];
    if (folded.length === 0 || !Number.isFinite(lon) || !Number.isFinite(lat)) return;
    this.names.push(name);
    this.keys.push(SEP + folded.join(SEP) + SEP);
    this.kinds.push(SEARCH_KINDS.indexOf(kind));
    this.lon.push(lon);
    this.lat.push(lat);
    this.ids.push(id);
  }

  /** Up to `limit` places whose name contains q (folded); [] for a query that folds to nothing. */
  search(q: string, limit: number): SearchHit[] {
    const needle = normaliseForSearch(q);
    if (needle === '' || limit <= 0) return [];
    const exact = SEP + needle + SEP;
    const prefix = SEP + needle;
    const found: Array<{ i: number; rank: number }> = [];
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i];
      if (!key.includes(needle)) continue;
      const rank = key.includes(exact) ? 0 : key.includes(prefix) ? 1 : 2;
      found.push({ i, rank });
    }
    found.sort(
      (a, b) =>
        a.rank - b.rank ||
        this.kinds[a.i] - this.kinds[b.i] ||
        this.names[a.i].length - this.names[b.i].length ||
        (this.names[a.i] < this.names[b.i] ? -1 : this.names[a.i] > this.names[b.i] ? 1 : a.i - b.i),
    );
    return found.slice(0, limit).map(({ i }) => {
      const hit: SearchHit = { name: this.names[i], kind: SEARCH_KINDS[this.kinds[i]], lon: this.lon[i], lat: this.lat[i] };
      if (this.ids[i] >= 0) hit.id = this.ids[i];
      return hit;
    });
  }
}

const round7 = (x: number): number => Math.round(x * 1e7) / 1e7;

/** Where to put a compound on the map: its own residence (area without buildings) or the mean of its buildings. */
function compoundPoints(region: Region): Array<[number, number] | null> {
  const t = region.residences;
  const n = region.compounds.length;
  const sx = new Float64Array(n);
  const sy = new Float64Array(n);
  const cnt = new Int32Array(n);
  for (let r = 0; r < t.count; r++) {
    const c = t.compound[r];
    if (c < 0 || c >= n) continue;
    sx[c] += t.lon[r];
    sy[c] += t.lat[r];
    cnt[c]++;
  }
  return region.compounds.map((c, i) => {
    if (c.residence >= 0 && c.residence < t.count) return [t.lon[c.residence], t.lat[c.residence]];
    return cnt[i] > 0 ? [sx[i] / cnt[i], sy[i] / cnt[i]] : null;
  });
}

/** The index over a region's compounds and facilities, and the street names of its basemap. */
export function buildSearchIndex(region: Region, streets: readonly StreetPoint[]): SearchIndex {
  const index = new SearchIndex();
  const points = compoundPoints(region);
  region.compounds.forEach((c, i) => {
    const p = points[i];
    if (c.name && p) index.add(c.name, [], 'compound', round7(p[0]), round7(p[1]));
  });
  for (const s of streets) index.add(s.name, [], 'street', round7(s.lon), round7(s.lat));
  for (const f of region.facilities) {
    const alt = [f.tags.name, f.tags['name:zh'], f.tags['name:zh-Hans'], f.tags['name:en'], f.tags.brand].filter((x): x is string => typeof x === 'string' && x !== '');
    if (f.name || alt.length) index.add(f.name || alt[0], alt, 'facility', f.lon, f.lat, f.id);
  }
  return index;
}
