/**
 * A synthetic city as an OSM PBF extract, for testing and benchmarking imports and assessments at
 * city scale (1–5 million nodes). Deterministic from the seed; written as it is generated, one
 * PBF block at a time, so memory does not grow with the city.
 *
 * The city (around Xuhui, Shanghai, so the import picks the Chinese residence profile):
 *  - an irregular street lattice: junctions jittered by up to ±15 % of the block size, a slight
 *    curve on every street (two shape nodes per block side), ~7 % of residential street segments
 *    missing; primary / secondary / residential classes by row and column, every street named;
 *  - blocks of four kinds: residential 小区 (apartment buildings with building:levels, half of
 *    them inside a landuse=residential compound with a gate and a service road to the street),
 *    mixed (shops in retail buildings and flats), parks (footpaths), and plain blocks; some blocks
 *    crossed by a footway;
 *  - shops and services as tagged nodes at per-block rates chosen so a district has a few of the
 *    rare formats (public bath, cinema) and many of the common ones (convenience, restaurants).
 *
 * Two passes over the same deterministic description: nodes first (junctions, then the rest unit
 * by unit), then ways, so ids are sorted by type then id as the PBF convention expects.
 *
 *   node dist/bench/city-osm.js --nodes 2000000 [--seed 1] -o /tmp/city.osm.pbf
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { PbfWriter } from 'pbf';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from './grid.js';

export interface CityOptions {
  /** target number of nodes; the city is sized to come within a few per cent of it. */
  nodes: number;
  seed?: number;
  centerLon?: number;
  centerLat?: number;
  /** block edge in metres (junction spacing), default 110. */
  blockMetres?: number;
}

export interface CityStats {
  file: string;
  nodes: number;
  ways: number;
  relations: number;
  blockRows: number;
  blockCols: number;
  junctions: number;
  streetWays: number;
  homeBuildings: number;
  compounds: number;
  pois: number;
  poisByTag: Record<string, number>;
  bytes: number;
  bbox: [number, number, number, number];
}

/** Shops and services: OSM tags that the taxonomy (data/taxonomy/formats.json) classifies, and how many per block on average. */
const POI_KINDS: ReadonlyArray<{ tags: Record<string, string>; perBlock: number; name: string; hours?: string }> = [
  { tags: { shop: 'convenience' }, perBlock: 0.22, name: '便利店', hours: 'Mo-Su 00:00-24:00' },
  { tags: { shop: 'supermarket' }, perBlock: 0.035, name: '超市', hours: 'Mo-Su 08:00-22:00' },
  { tags: { amenity: 'marketplace' }, perBlock: 0.01, name: '菜市场', hours: 'Mo-Su 06:00-18:00' },
  { tags: { shop: 'greengrocer' }, perBlock: 0.06, name: '生鲜店' },
  { tags: { amenity: 'fast_food' }, perBlock: 0.12, name: '快餐' },
  { tags: { amenity: 'restaurant' }, perBlock: 0.25, name: '饭店' },
  { tags: { amenity: 'cafe' }, perBlock: 0.06, name: '咖啡' },
  { tags: { shop: 'bakery' }, perBlock: 0.04, name: '面包房' },
  { tags: { shop: 'laundry' }, perBlock: 0.04, name: '洗衣店' },
  { tags: { shop: 'hairdresser' }, perBlock: 0.1, name: '美发' },
  { tags: { shop: 'copyshop' }, perBlock: 0.015, name: '图文快印' },
  { tags: { craft: 'key_cutter' }, perBlock: 0.015, name: '配钥匙' },
  { tags: { amenity: 'pharmacy' }, perBlock: 0.07, name: '药房', hours: 'Mo-Su 08:00-21:00' },
  { tags: { amenity: 'post_office' }, perBlock: 0.012, name: '邮局', hours: 'Mo-Fr 09:00-17:00' },
  { tags: { amenity: 'parcel_locker' }, perBlock: 0.05, name: '快递柜' },
  { tags: { amenity: 'recycling' }, perBlock: 0.025, name: '回收点' },
  { tags: { shop: 'hardware' }, perBlock: 0.03, name: '五金' },
  { tags: { amenity: 'clinic' }, perBlock: 0.02, name: '社区卫生服务站', hours: 'Mo-Sa 08:00-17:00' },
  { tags: { amenity: 'canteen' }, perBlock: 0.008, name: '社区食堂' },
  { tags: { amenity: 'community_centre' }, perBlock: 0.008, name: '社区中心' },
  { tags: { amenity: 'public_bath' }, perBlock: 0.002, name: '浴室' },
  { tags: { amenity: 'nursing_home' }, perBlock: 0.008, name: '养老院' },
  { tags: { amenity: 'kindergarten' }, perBlock: 0.025, name: '幼儿园' },
  { tags: { leisure: 'fitness_centre' }, perBlock: 0.02, name: '健身房' },
  { tags: { shop: 'florist' }, perBlock: 0.015, name: '花店' },
  { tags: { shop: 'books' }, perBlock: 0.008, name: '书店' },
  { tags: { amenity: 'language_school' }, perBlock: 0.01, name: '培训' },
  { tags: { shop: 'pet' }, perBlock: 0.012, name: '宠物' },
  { tags: { amenity: 'cinema' }, perBlock: 0.003, name: '影院' },
  { tags: { office: 'company' }, perBlock: 0.01, name: '家政服务' },
];

const STREET_SYLLABLES_A = ['漕溪', '宜山', '虹桥', '天钥', '龙华', '田林', '康健', '长桥', '凌云', '枫林', '斜土', '徐家', '华泾', '桂林', '钦州', '柳州', '宛平', '衡山'];
const STREET_SYLLABLES_B = ['', '东', '西', '南', '北', '中', '新', '一', '二', '三', '四', '五'];
const LEVELS = [6, 6, 6, 7, 11, 14, 18, 24, 30];
const MERCHANT_NAMES = ['好德', '联华', '全家', '华联', '百联', '光明', '大众', '老凤', '新世纪', '万家'];

/** Nodes per block on average (streets, buildings, compounds, footways, shops): sizes the lattice. */
const NODES_PER_BLOCK = 28;
/** PBF convention: at most 8000 entities per block (what osmium writes). */
const ENTITIES_PER_BLOCK = 8000;
/** Vertical and horizontal streets are split into ways of at most this many blocks. */
const MAX_WAY_BLOCKS = 8;

/** A deterministic hash of small integers → [0, 1). */
function hash01(seed: number, a: number, b: number, salt: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ a ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ b ^ (h >>> 16), 0x27d4eb2f);
  h = Math.imul(h ^ salt ^ (h >>> 15), 0x165667b1);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

// ------------------------------------------------------------------ PBF writing

/** Writes an OSM PBF: header, then blocks of dense nodes, then blocks of ways, each zlib-compressed. */
class PbfOsmWriter {
  private readonly fd: number;
  bytes = 0;
  private strings = new Map<string, number>();
  private stringList: string[] = [''];
  // dense nodes of the open block
  private nodeIds: number[] = [];
  private nodeLat: number[] = [];
  private nodeLon: number[] = [];
  private nodeKv: number[] = [];
  private nodeTagged = false;
  // ways of the open block, each already encoded as (id, keys, vals, refs)
  private ways: Array<{ id: number; keys: number[]; vals: number[]; refs: number[] }> = [];
  private count = 0;

  constructor(
    file: string,
    bbox: [number, number, number, number],
  ) {
    this.fd = openSync(file, 'w');
    const h = new PbfWriter();
    h.writeMessage(1, (b: { w: number; s: number; e: number; n: number }, p: PbfWriter) => {
      p.writeSVarintField(1, Math.round(b.w * 1e9));
      p.writeSVarintField(2, Math.round(b.e * 1e9));
      p.writeSVarintField(3, Math.round(b.n * 1e9));
      p.writeSVarintField(4, Math.round(b.s * 1e9));
    }, { w: bbox[0], s: bbox[1], e: bbox[2], n: bbox[3] });
    h.writeStringField(4, 'OsmSchema-V0.6');
    h.writeStringField(4, 'DenseNodes');
    h.writeStringField(5, 'Sort.Type_then_ID');
    h.writeStringField(16, 'quarter bench/city-osm');
    this.blob('OSMHeader', h.finish());
  }

  private str(s: string): number {
    let i = this.strings.get(s);
    if (i === undefined) {
      i = this.stringList.length;
      this.strings.set(s, i);
      this.stringList.push(s);
    }
    return i;
  }

  node(id: number, lon: number, lat: number, tags: Record<string, string> | null): void {
    if (this.ways.length > 0) throw new Error('nodes must come before ways');
    this.nodeIds.push(id);
    this.nodeLat.push(Math.round(lat * 1e7));
    this.nodeLon.push(Math.round(lon * 1e7));
    if (tags) {
      for (const k in tags) this.nodeKv.push(this.str(k), this.str(tags[k]));
      this.nodeTagged = true;
    }
    this.nodeKv.push(0);
    if (++this.count >= ENTITIES_PER_BLOCK) this.flush();
  }

  way(id: number, refs: number[], tags: Record<string, string>): void {
    if (this.nodeIds.length > 0) this.flush();
    const keys: number[] = [];
    const vals: number[] = [];
    for (const k in tags) {
      keys.push(this.str(k));
      vals.push(this.str(tags[k]));
    }
    this.ways.push({ id, keys, vals, refs });
    if (++this.count >= ENTITIES_PER_BLOCK) this.flush();
  }

  flush(): void {
    if (this.count === 0) return;
    const p = new PbfWriter();
    const strings = this.stringList;
    p.writeMessage(1, (list: string[], w: PbfWriter) => {
      for (const s of list) w.writeBytesField(1, Buffer.from(s, 'utf8'));
    }, strings);
    if (this.nodeIds.length > 0) {
      const ids = this.nodeIds;
      const lat = this.nodeLat;
      const lon = this.nodeLon;
      const kv = this.nodeTagged ? this.nodeKv : [];
      p.writeMessage(2, (_: null, g: PbfWriter) => {
        g.writeMessage(2, (__: null, d: PbfWriter) => {
          d.writePackedSVarint(1, deltas(ids));
          d.writePackedSVarint(8, deltas(lat));
          d.writePackedSVarint(9, deltas(lon));
          d.writePackedVarint(10, kv);
        }, null);
      }, null);
    } else {
      const ways = this.ways;
      p.writeMessage(2, (_: null, g: PbfWriter) => {
        for (const w of ways) {
          g.writeMessage(3, (__: null, m: PbfWriter) => {
            m.writeVarintField(1, w.id);
            m.writePackedVarint(2, w.keys);
            m.writePackedVarint(3, w.vals);
            m.writePackedSVarint(8, deltas(w.refs));
          }, null);
        }
      }, null);
    }
    p.writeVarintField(17, 100);
    this.blob('OSMData', p.finish());
    this.strings = new Map();
    this.stringList = [''];
    this.nodeIds = [];
    this.nodeLat = [];
    this.nodeLon = [];
    this.nodeKv = [];
    this.nodeTagged = false;
    this.ways = [];
    this.count = 0;
  }

  private blob(type: string, raw: Uint8Array): void {
    const z = deflateSync(raw);
    const b = new PbfWriter();
    b.writeVarintField(2, raw.length);
    b.writeBytesField(3, z);
    const blob = b.finish();
    const h = new PbfWriter();
    h.writeStringField(1, type);
    h.writeVarintField(3, blob.length);
    const header = h.finish();
    const len = Buffer.alloc(4);
    len.writeUInt32BE(header.length, 0);
    for (const part of [len, header, blob]) {
      let off = 0;
      while (off < part.length) off += writeSync(this.fd, part, off, part.length - off);
      this.bytes += part.length;
    }
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function deltas(xs: number[]): number[] {
  const out = new Array<number>(xs.length);
  let prev = 0;
  for (let i = 0; i < xs.length; i++) {
    out[i] = xs[i] - prev;
    prev = xs[i];
  }
  return out;
}

// ------------------------------------------------------------------ the city

type Tags = Record<string, string>;
interface UnitNode {
  id: number;
  lon: number;
  lat: number;
  tags: Tags | null;
}
interface UnitWay {
  refs: number[];
  tags: Tags;
}
/** One unit = junction row u: its horizontal street shape nodes, and (u < rows) the vertical shape nodes up to row u+1 and block row u. */
interface Unit {
  nodes: UnitNode[];
  /** shape node ids of horizontal segment (u, c) → (u, c+1); null when the segment is missing. */
  hShape: Array<number[] | null>;
  /** shape node ids of vertical segment (u, c) → (u+1, c); null when missing (or u = rows). */
  vShape: Array<number[] | null>;
  /** buildings, compounds, footways, service roads of block row u. */
  ways: UnitWay[];
  homeBuildings: number;
  compounds: number;
  pois: number;
}

class City {
  readonly rows: number;
  readonly cols: number;
  private readonly seed: number;
  private readonly lon0: number;
  private readonly lat0: number;
  private readonly dLon: number;
  private readonly dLat: number;
  readonly poisByTag: Record<string, number> = {};

  constructor(opts: CityOptions) {
    this.seed = (opts.seed ?? 1) >>> 0;
    const blocks = Math.max(4, opts.nodes / NODES_PER_BLOCK);
    this.rows = Math.max(2, Math.round(Math.sqrt(blocks)));
    this.cols = Math.max(2, Math.round(blocks / this.rows));
    const S = opts.blockMetres ?? 110;
    const lat = opts.centerLat ?? 31.18;
    const lon = opts.centerLon ?? 121.43;
    this.dLat = S / 111320;
    this.dLon = S / (111320 * Math.cos((lat * Math.PI) / 180));
    this.lat0 = lat - (this.rows * this.dLat) / 2;
    this.lon0 = lon - (this.cols * this.dLon) / 2;
  }

  get junctions(): number {
    return (this.rows + 1) * (this.cols + 1);
  }
  junctionId(r: number, c: number): number {
    return 1 + r * (this.cols + 1) + c;
  }
  /** Junction position: lattice point, jittered, on a gently warped plane. */
  junction(r: number, c: number): [number, number] {
    const jx = (hash01(this.seed, r, c, 1) - 0.5) * 0.3;
    const jy = (hash01(this.seed, r, c, 2) - 0.5) * 0.3;
    const wx = 0.35 * Math.sin(r / 7.3 + this.seed);
    const wy = 0.35 * Math.sin(c / 9.1 + this.seed * 0.5);
    return [round7(this.lon0 + (c + jx + wx) * this.dLon), round7(this.lat0 + (r + jy + wy) * this.dLat)];
  }
  bbox(): [number, number, number, number] {
    return [this.lon0 - this.dLon, this.lat0 - this.dLat, this.lon0 + (this.cols + 1) * this.dLon, this.lat0 + (this.rows + 1) * this.dLat];
  }

  /** Street class of junction row r (horizontal) or column c (vertical). */
  streetClass(i: number): 'primary' | 'secondary' | 'residential' {
    if (i % 12 === 0) return 'primary';
    if (i % 4 === 0) return 'secondary';
    return 'residential';
  }
  streetName(i: number, horizontal: boolean): string {
    const a = STREET_SYLLABLES_A[i % STREET_SYLLABLES_A.length];
    const b = STREET_SYLLABLES_B[Math.floor(i / STREET_SYLLABLES_A.length) % STREET_SYLLABLES_B.length];
    const cls = this.streetClass(i);
    const suffix = cls === 'primary' ? '大道' : horizontal ? '路' : cls === 'secondary' ? '路' : '街';
    const n = Math.floor(i / (STREET_SYLLABLES_A.length * STREET_SYLLABLES_B.length));
    return `${a}${b}${horizontal ? '' : '南北'}${suffix}${n > 0 ? String(n + 1) : ''}`;
  }
  hExists(r: number, c: number): boolean {
    return this.streetClass(r) !== 'residential' || hash01(this.seed, r, c, 3) >= 0.07;
  }
  vExists(r: number, c: number): boolean {
    return this.streetClass(c) !== 'residential' || hash01(this.seed, r, c, 4) >= 0.07;
  }

  /** Everything of unit u, with non-junction node ids from `firstId` on. Pure: the same every time. */
  unit(u: number, firstId: number): Unit {
    const rnd = mulberry32((this.seed * 7919 + u * 104729) >>> 0);
    let next = firstId;
    const nodes: UnitNode[] = [];
    const add = (lon: number, lat: number, tags: Tags | null = null): number => {
      const id = next++;
      nodes.push({ id, lon: round7(lon), lat: round7(lat), tags });
      return id;
    };
    const curve = (a: [number, number], b: [number, number], bend: number): number[] => {
      // two shape nodes at thirds, pushed sideways by `bend` of the segment length
      const dx = b[0] - a[0];
      const dy = b[1] - a[1];
      return [1 / 3, 2 / 3].map((t) => add(a[0] + dx * t - dy * bend, a[1] + dy * t + dx * bend));
    };
    const hShape: Array<number[] | null> = [];
    for (let c = 0; c < this.cols; c++) {
      hShape.push(this.hExists(u, c) ? curve(this.junction(u, c), this.junction(u, c + 1), (rnd() - 0.5) * 0.06) : null);
    }
    const vShape: Array<number[] | null> = [];
    const ways: UnitWay[] = [];
    const out: Unit = { nodes, hShape, vShape, ways, homeBuildings: 0, compounds: 0, pois: 0 };
    if (u >= this.rows) return out;
    for (let c = 0; c <= this.cols; c++) {
      vShape.push(this.vExists(u, c) ? curve(this.junction(u, c), this.junction(u + 1, c), (rnd() - 0.5) * 0.06) : null);
    }
    for (let c = 0; c < this.cols; c++) this.block(u, c, rnd, add, out);
    return out;
  }

  private block(u: number, c: number, rnd: () => number, add: (lon: number, lat: number, tags?: Tags | null) => number, out: Unit): void {
    const p00 = this.junction(u, c);
    const p01 = this.junction(u, c + 1);
    const p10 = this.junction(u + 1, c);
    const p11 = this.junction(u + 1, c + 1);
    // (s, t) in the unit square of the block → lon, lat (bilinear between its four junctions)
    const at = (s: number, t: number): [number, number] => {
      const x0 = p00[0] + (p01[0] - p00[0]) * s;
      const y0 = p00[1] + (p01[1] - p00[1]) * s;
      const x1 = p10[0] + (p11[0] - p10[0]) * s;
      const y1 = p10[1] + (p11[1] - p10[1]) * s;
      return [x0 + (x1 - x0) * t, y0 + (y1 - y0) * t];
    };
    const rect = (s0: number, t0: number, s1: number, t1: number, tags: Tags): void => {
      const a = add(...at(s0, t0));
      const b = add(...at(s1, t0));
      const d = add(...at(s1, t1));
      const e = add(...at(s0, t1));
      out.ways.push({ refs: [a, b, d, e, a], tags });
    };
    const kind = rnd();
    const south = out.hShape[c];
    if (kind < 0.66) {
      // residential: 2 × 3 apartment buildings, half of the blocks walled compounds with a gate
      const walled = rnd() < 0.5 && south !== null;
      if (walled && south) {
        const a = add(...at(0.08, 0.08));
        const gate = add(...at(1 / 3, 0.08), { barrier: 'gate' });
        const b = add(...at(0.92, 0.08));
        const d = add(...at(0.92, 0.92));
        const e = add(...at(0.08, 0.92));
        out.ways.push({ refs: [a, gate, b, d, e, a], tags: { landuse: 'residential', name: `${MERCHANT_NAMES[(u + c) % MERCHANT_NAMES.length]}${u}-${c}小区` } });
        const inner = add(...at(1 / 3, 0.3));
        out.ways.push({ refs: [south[0], gate, inner], tags: { highway: 'service', service: 'driveway' } });
        out.compounds++;
      }
      const levels = LEVELS[Math.floor(rnd() * LEVELS.length)];
      const value = rnd() < 0.6 ? 'apartments' : 'residential';
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 3; j++) {
          const s0 = 0.16 + j * 0.24 + rnd() * 0.03;
          const t0 = 0.2 + i * 0.34 + rnd() * 0.03;
          rect(s0, t0, s0 + 0.17, t0 + 0.2, { building: value, 'building:levels': String(levels) });
          out.homeBuildings++;
        }
      }
    } else if (kind < 0.86) {
      // mixed: a retail building with shops, two blocks of flats above shops
      rect(0.15, 0.15, 0.5, 0.45, { building: 'retail' });
      rect(0.55, 0.2, 0.85, 0.45, { building: 'apartments', 'building:levels': '8' });
      rect(0.2, 0.55, 0.8, 0.8, { building: 'apartments', 'building:levels': '12' });
      out.homeBuildings += 2;
      this.pois(u, c, rnd, at, add, out, 3);
    } else if (kind < 0.93) {
      // park: a loop of footpaths and an entrance from the south street
      const a = add(...at(0.3, 0.3));
      const b = add(...at(0.7, 0.3));
      const d = add(...at(0.7, 0.7));
      const e = add(...at(0.3, 0.7));
      out.ways.push({ refs: [a, b, d, e, a], tags: { highway: 'footway' } });
      if (south) out.ways.push({ refs: [south[1], b], tags: { highway: 'footway' } });
      out.ways.push({ refs: [add(...at(0.1, 0.1)), add(...at(0.9, 0.1)), add(...at(0.9, 0.9)), add(...at(0.1, 0.9))], tags: { leisure: 'park', name: `${u}-${c}公园` } });
      out.ways[out.ways.length - 1].refs.push(out.ways[out.ways.length - 1].refs[0]);
    }
    // a footway across the block between the shape nodes of its west and east sides
    const west = out.vShape[c];
    const east = out.vShape[c + 1];
    if (west && east && rnd() < 0.35) {
      out.ways.push({ refs: [west[0], add(...at(0.35, 0.12)), add(...at(0.65, 0.12)), east[0]], tags: { highway: 'footway' } });
    }
    this.pois(u, c, rnd, at, add, out, 1);
  }

  private pois(u: number, c: number, rnd: () => number, at: (s: number, t: number) => [number, number], add: (lon: number, lat: number, tags?: Tags | null) => number, out: Unit, factor: number): void {
    for (const k of POI_KINDS) {
      const rate = k.perBlock * factor;
      const n = Math.floor(rate) + (rnd() < rate - Math.floor(rate) ? 1 : 0);
      for (let i = 0; i < n; i++) {
        const brand = MERCHANT_NAMES[Math.floor(rnd() * MERCHANT_NAMES.length)];
        const tags: Tags = { ...k.tags, name: `${brand}${k.name}(${u}-${c})` };
        if (k.hours) tags.opening_hours = k.hours;
        add(...at(0.1 + rnd() * 0.8, 0.1 + rnd() * 0.8), tags);
        const key = Object.entries(k.tags).map(([a, b]) => `${a}=${b}`).join(';');
        this.poisByTag[key] = (this.poisByTag[key] ?? 0) + 1;
        out.pois++;
      }
    }
  }
}

const round7 = (x: number): number => Math.round(x * 1e7) / 1e7;

/** Generate the city and write it to `file` as OSM PBF. Memory: one unit (a row of blocks) and one PBF block. */
export function writeCityOsm(file: string, opts: CityOptions): CityStats {
  const city = new City(opts);
  const w = new PbfOsmWriter(file, city.bbox());
  let nodes = 0;
  // ---- nodes: junctions, then every unit's own nodes
  for (let r = 0; r <= city.rows; r++) {
    for (let c = 0; c <= city.cols; c++) {
      const [lon, lat] = city.junction(r, c);
      w.node(city.junctionId(r, c), lon, lat, null);
      nodes++;
    }
  }
  const firstIds = new Float64Array(city.rows + 2);
  let next = city.junctions + 1;
  let homeBuildings = 0;
  let compounds = 0;
  let pois = 0;
  for (let u = 0; u <= city.rows; u++) {
    firstIds[u] = next;
    const unit = city.unit(u, next);
    for (const n of unit.nodes) w.node(n.id, n.lon, n.lat, n.tags);
    nodes += unit.nodes.length;
    next += unit.nodes.length;
    homeBuildings += unit.homeBuildings;
    compounds += unit.compounds;
    pois += unit.pois;
  }
  const poisByTag = { ...city.poisByTag };
  w.flush();
  // ---- ways: regenerate each unit with the same ids
  let wayId = 1;
  let ways = 0;
  let streetWays = 0;
  const emit = (refs: number[], tags: Tags): void => {
    w.way(wayId++, refs, tags);
    ways++;
  };
  const streetTags = (i: number, horizontal: boolean): Tags => ({ highway: city.streetClass(i), name: city.streetName(i, horizontal) });
  /** open vertical street runs, per column */
  const vRun: number[][] = Array.from({ length: city.cols + 1 }, () => []);
  const vBlocks = new Int32Array(city.cols + 1);
  const flushV = (c: number): void => {
    if (vRun[c].length >= 2) {
      emit(vRun[c], streetTags(c, false));
      streetWays++;
    }
    vRun[c] = [];
    vBlocks[c] = 0;
  };
  for (let u = 0; u <= city.rows; u++) {
    const unit = city.unit(u, firstIds[u]);
    // horizontal streets along junction row u, split at missing segments and every MAX_WAY_BLOCKS
    let run: number[] = [];
    let blocks = 0;
    for (let c = 0; c < city.cols; c++) {
      const shape = unit.hShape[c];
      if (!shape || blocks === MAX_WAY_BLOCKS) {
        if (run.length >= 2) {
          emit(run, streetTags(u, true));
          streetWays++;
        }
        run = [];
        blocks = 0;
      }
      if (!shape) continue;
      if (run.length === 0) run.push(city.junctionId(u, c));
      run.push(...shape, city.junctionId(u, c + 1));
      blocks++;
    }
    if (run.length >= 2) {
      emit(run, streetTags(u, true));
      streetWays++;
    }
    // vertical streets: extend each column's run by segment (u, c) → (u+1, c)
    for (let c = 0; c <= city.cols && u < city.rows; c++) {
      const shape = unit.vShape[c];
      if (!shape || vBlocks[c] === MAX_WAY_BLOCKS) flushV(c);
      if (!shape) continue;
      if (vRun[c].length === 0) vRun[c].push(city.junctionId(u, c));
      vRun[c].push(...shape, city.junctionId(u + 1, c));
      vBlocks[c]++;
    }
    for (const wy of unit.ways) emit(wy.refs, wy.tags);
  }
  for (let c = 0; c <= city.cols; c++) flushV(c);
  w.close();
  return {
    file,
    nodes,
    ways,
    relations: 0,
    blockRows: city.rows,
    blockCols: city.cols,
    junctions: city.junctions,
    streetWays,
    homeBuildings,
    compounds,
    pois,
    poisByTag,
    bytes: w.bytes,
    bbox: city.bbox(),
  };
}

function parseArgs(argv: string[]): { nodes: number; seed: number; out: string } {
  let nodes = 1_000_000;
  let seed = 1;
  let out = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--nodes') (nodes = Number(v)), i++;
    else if (a === '--seed') (seed = Number(v)), i++;
    else if (a === '-o' || a === '--out') (out = v ?? ''), i++;
    else throw new Error(`unknown argument "${a}" (use --nodes N --seed S -o file.osm.pbf)`);
  }
  if (!(Number.isInteger(nodes) && nodes >= 1000 && nodes <= 50_000_000)) throw new Error(`--nodes: "${nodes}" is not an integer in [1000, 50000000]`);
  if (!Number.isInteger(seed)) throw new Error(`--seed: "${seed}" is not an integer`);
  if (!out.endsWith('.osm.pbf')) throw new Error('-o: give an output file ending in .osm.pbf');
  return { nodes, seed, out };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const a = parseArgs(process.argv.slice(2));
    const t0 = performance.now();
    const stats = writeCityOsm(a.out, { nodes: a.nodes, seed: a.seed });
    console.log(JSON.stringify({ ...stats, seconds: Math.round((performance.now() - t0) / 100) / 10, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }, null, 1));
  } catch (err) {
    console.error(`city-osm: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
