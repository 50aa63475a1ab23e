/**
 * Streaming .osm.pbf decoder on top of mapbox `pbf` (wire-format primitives only).
 *
 * The file is read blob by blob through a file handle, so memory is one blob (≤ 32 MiB by
 * the spec, ~1 MiB in practice), not the file. The first scan notes which element kinds each
 * blob holds; later scans seek straight to the blobs they need and never inflate the rest
 * (the ways pass skips the node blobs that make up most of a file).
 *
 * Format: https://wiki.openstreetmap.org/wiki/PBF_Format (fileformat.proto, osmformat.proto).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { PbfReader } from 'pbf';
import type { Tags } from './osm-types.js';
import { OsmInputError, type OsmVisitor, type RelationMembers } from './osm-source.js';

const KIND_NODES = 1;
const KIND_WAYS = 2;
const KIND_RELATIONS = 4;
const KIND_UNKNOWN = 8;

const MAX_HEADER = 64 * 1024;
const MAX_BLOB = 32 * 1024 * 1024;
const WIRE_BYTES = 2;

/** Features this reader understands; anything else in required_features is refused. */
const KNOWN_REQUIRED = new Set(['OsmSchema-V0.6', 'DenseNodes']);

interface BlobEntry {
  /** file offset of the blob's 4-byte length prefix. */
  offset: number;
  /** KIND_* bits of what the blob holds. */
  kinds: number;
}

export class PbfFile {
  private index: BlobEntry[] | null = null;
  private readonly dec = new BlockDecoder();

  constructor(
    readonly file: string,
    readonly size: number,
  ) {}

  async scan(visitor: OsmVisitor, onBytes?: (done: number, total: number) => void): Promise<void> {
    const want =
      (visitor.node ? KIND_NODES : 0) | (visitor.way ? KIND_WAYS : 0) | (visitor.relation ? KIND_RELATIONS : 0);
    const fh = await open(this.file, 'r').catch((e: Error) => {
      throw new OsmInputError(this.file, `cannot read: ${e.message}`);
    });
    const io = new BlobIo(this.file, this.size, fh);
    try {
      if (this.index) {
        // Later passes: only the blobs holding a wanted kind (unknown kinds are re-read to be safe).
        for (const b of this.index) {
          if (!(b.kinds & (want | KIND_UNKNOWN))) continue;
          const blob = await io.readAt(b.offset);
          if (blob.type === 'OSMData') this.dec.decode(blob.data, blob.offset, this.file, visitor, want);
          onBytes?.(blob.next, this.size);
        }
        onBytes?.(this.size, this.size);
        return;
      }
      const index: BlobEntry[] = [];
      let pos = 0;
      let first = true;
      while (pos < this.size) {
        const blob = await io.readAt(pos);
        let kinds = 0;
        if (first) {
          if (blob.type !== 'OSMHeader') {
            throw new OsmInputError(this.file, `first blob is "${blob.type}", expected "OSMHeader" (not an OSM PBF file?)`, {
              byte: pos,
            });
          }
          checkHeader(blob.data, this.file, pos);
          first = false;
        } else if (blob.type === 'OSMData') {
          kinds = this.dec.decode(blob.data, pos, this.file, visitor, want);
        } // other blob types: the spec says skip them.
        index.push({ offset: pos, kinds });
        pos = blob.next;
        onBytes?.(pos, this.size);
      }
      this.index = index;
    } finally {
      await fh.close();
    }
  }
}

interface Blob {
  type: string;
  data: Uint8Array;
  offset: number;
  next: number;
}

/** Reads and unpacks one blob at a time into a reused buffer. */
class BlobIo {
  private buf = new Uint8Array(1 << 16);
  constructor(
    private readonly file: string,
    private readonly size: number,
    private readonly fh: FileHandle,
  ) {}

  private async read(pos: number, len: number): Promise<Uint8Array> {
    if (this.buf.length < len) this.buf = new Uint8Array(Math.max(len, this.buf.length * 2));
    let got = 0;
    while (got < len) {
      const r = await this.fh.read(this.buf, got, len - got, pos + got);
      if (r.bytesRead === 0) break;
      got += r.bytesRead;
    }
    if (got < len) this.truncated(pos + got, `expected ${len} bytes at byte ${pos}, file ended`);
    return this.buf.subarray(0, len);
  }

  private truncated(at: number, detail: string): never {
    throw new OsmInputError(this.file, `truncated at byte ${at}: ${detail}`, { byte: at });
  }

  async readAt(pos: number): Promise<Blob> {
    const file = this.file;
    const remain = this.size - pos;
    if (remain < 4) this.truncated(this.size, `blob length prefix needs 4 bytes, ${remain} remain`);
    const pre = await this.read(pos, 4);
    const hlen = ((pre[0] << 24) | (pre[1] << 16) | (pre[2] << 8) | pre[3]) >>> 0;
    if (hlen === 0 || hlen > MAX_HEADER) {
      throw new OsmInputError(file, `corrupt PBF at byte ${pos}: blob header length ${hlen} is outside 1..${MAX_HEADER}`, {
        byte: pos,
      });
    }
    if (remain - 4 < hlen) this.truncated(this.size, `blob length prefix says ${hlen} bytes, ${remain - 4} remain`);
    const hbytes = await this.read(pos + 4, hlen);
    let type = '';
    let datasize = -1;
    try {
      const r = new PbfReader(hbytes);
      let f: number;
      while ((f = r.nextField())) {
        if (f === 1) type = r.readString();
        else if (f === 3) datasize = r.readVarint();
      }
    } catch (e) {
      throw new OsmInputError(file, `corrupt blob header at byte ${pos}: ${(e as Error).message}`, { byte: pos });
    }
    if (!type || !(datasize >= 0) || datasize > MAX_BLOB) {
      throw new OsmInputError(file, `corrupt blob header at byte ${pos} (type "${type}", datasize ${datasize})`, {
        byte: pos,
      });
    }
    const dataPos = pos + 4 + hlen;
    const left = this.size - dataPos;
    if (left < datasize) this.truncated(this.size, `blob header says ${datasize} bytes, ${left} remain`);
    const next = dataPos + datasize;
    // Skipped blob types need no reading.
    if (type !== 'OSMData' && type !== 'OSMHeader') return { type, data: new Uint8Array(0), offset: pos, next };
    const raw = await this.read(dataPos, datasize);
    return { type, data: unpackBlob(raw, file, pos), offset: pos, next };
  }
}

/** Blob message → uncompressed bytes (raw or zlib; zstd when this Node has it). */
function unpackBlob(blob: Uint8Array, file: string, at: number): Uint8Array {
  const r = new PbfReader(blob);
  let rawSize = -1;
  let raw: Uint8Array | null = null;
  let zdata: Uint8Array | null = null;
  let zstd: Uint8Array | null = null;
  let other = '';
  try {
    let f: number;
    while ((f = r.nextField())) {
      if (f === 1) raw = r.readBytes();
      else if (f === 2) rawSize = r.readVarint();
      else if (f === 3) zdata = r.readBytes();
      else if (f === 4) other = 'lzma';
      else if (f === 5) other = 'bzip2';
      else if (f === 6) other = 'lz4';
      else if (f === 7) zstd = r.readBytes();
    }
  } catch (e) {
    throw new OsmInputError(file, `corrupt blob at byte ${at}: ${(e as Error).message}`, { byte: at });
  }
  let out: Uint8Array;
  if (raw) out = raw;
  else if (zdata) {
    try {
      out = inflateSync(zdata);
    } catch (e) {
      throw new OsmInputError(file, `corrupt zlib data in blob at byte ${at}: ${(e as Error).message}`, { byte: at });
    }
  } else if (zstd) {
    // zstd landed in node:zlib in Node 22.15; look it up at run time so Node 20 still type-checks.
    const z = zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Uint8Array };
    if (!z.zstdDecompressSync) {
      throw new OsmInputError(file, `blob at byte ${at} is zstd-compressed, which this Node version cannot inflate; re-encode with \`osmium cat -o out.osm.pbf\``, { byte: at });
    }
    try {
      out = z.zstdDecompressSync(zstd);
    } catch (e) {
      throw new OsmInputError(file, `corrupt zstd data in blob at byte ${at}: ${(e as Error).message}`, { byte: at });
    }
  } else {
    const what = other || 'no data';
    throw new OsmInputError(file, `blob at byte ${at} uses unsupported compression (${what}); re-encode with \`osmium cat -o out.osm.pbf\``, { byte: at });
  }
  if (rawSize >= 0 && out.length !== rawSize) {
    throw new OsmInputError(file, `corrupt blob at byte ${at}: inflated to ${out.length} bytes, header says ${rawSize}`, {
      byte: at,
    });
  }
  return out;
}

function checkHeader(data: Uint8Array, file: string, at: number): void {
  const r = new PbfReader(data);
  const required: string[] = [];
  try {
    let f: number;
    while ((f = r.nextField())) if (f === 4) required.push(r.readString());
  } catch (e) {
    throw new OsmInputError(file, `corrupt OSMHeader at byte ${at}: ${(e as Error).message}`, { byte: at });
  }
  for (const feat of required) {
    if (KNOWN_REQUIRED.has(feat)) continue;
    if (feat === 'HistoricalInformation') {
      throw new OsmInputError(file, 'is a history file (required feature "HistoricalInformation"); use a current extract', {
        byte: at,
      });
    }
    throw new OsmInputError(file, `requires PBF feature "${feat}", which this reader does not support`, { byte: at });
  }
}

/** Growable scratch arrays, reused across blocks so decoding allocates almost nothing. */
class Scratch {
  f64a: Float64Array = new Float64Array(8192);
  f64b: Float64Array = new Float64Array(8192);
  f64c: Float64Array = new Float64Array(8192);
  i32a: Int32Array = new Int32Array(1024);
}

function growF64(a: Float64Array, n: number): Float64Array {
  if (a.length >= n) return a;
  const b = new Float64Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}
function growI32(a: Int32Array, n: number): Int32Array {
  if (a.length >= n) return a;
  const b = new Int32Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

/** Decodes PrimitiveBlocks. One instance per file; holds reused scratch state. */
class BlockDecoder {
  private s = new Scratch();
  private strStart: Int32Array = new Int32Array(1024);
  private strEnd: Int32Array = new Int32Array(1024);
  private strCache: (string | undefined)[] = [];
  private strCount = 0;
  private data: Uint8Array = new Uint8Array(0);
  private gran = 100;
  private latOff = 0;
  private lonOff = 0;
  private groupStart: number[] = [];
  private groupEnd: number[] = [];
  private readonly members: RelationMembers = {
    count: 0,
    types: new Uint8Array(64),
    ids: new Float64Array(64),
    roles: [],
  };
  private readonly td = new TextDecoder();

  /** Returns the KIND_* bits present in the block. */
  decode(data: Uint8Array, at: number, file: string, v: OsmVisitor, want: number): number {
    try {
      return this.decodeBlock(data, v, want);
    } catch (e) {
      if (e instanceof OsmInputError) throw e;
      throw new OsmInputError(file, `corrupt data block in blob at byte ${at}: ${(e as Error).message}`, { byte: at });
    }
  }

  private str(i: number): string {
    if (i >= this.strCount || i < 0) throw new Error(`string index ${i} outside table of ${this.strCount}`);
    let s = this.strCache[i];
    if (s === undefined) {
      s = this.td.decode(this.data.subarray(this.strStart[i], this.strEnd[i]));
      this.strCache[i] = s;
    }
    return s;
  }

  private decodeBlock(data: Uint8Array, v: OsmVisitor, want: number): number {
    const pbf = new PbfReader(data);
    this.data = data;
    this.gran = 100;
    this.latOff = 0;
    this.lonOff = 0;
    this.strCount = 0;
    this.groupStart.length = 0;
    this.groupEnd.length = 0;
    // Groups come before granularity/offsets on the wire: collect their ranges first.
    let f: number;
    while ((f = pbf.nextField())) {
      if (f === 1) this.readStringTable(pbf);
      else if (f === 2) {
        const len = pbf.readVarint();
        this.groupStart.push(pbf.pos);
        this.groupEnd.push(pbf.pos + len);
        pbf.pos += len;
      } else if (f === 17) this.gran = pbf.readVarint();
      else if (f === 19) this.latOff = pbf.readVarint(true);
      else if (f === 20) this.lonOff = pbf.readVarint(true);
    }
    this.strCache = new Array<string | undefined>(this.strCount);
    let kinds = 0;
    for (let g = 0; g < this.groupStart.length; g++) {
      pbf.pos = this.groupStart[g];
      const end = this.groupEnd[g];
      while ((f = pbf.nextField(end))) {
        if (f === 1) {
          kinds |= KIND_NODES;
          if (want & KIND_NODES) this.plainNode(pbf, v);
        } else if (f === 2) {
          kinds |= KIND_NODES;
          if (want & KIND_NODES) this.denseNodes(pbf, v);
        } else if (f === 3) {
          kinds |= KIND_WAYS;
          if (want & KIND_WAYS) this.way(pbf, v);
        } else if (f === 4) {
          kinds |= KIND_RELATIONS;
          if (want & KIND_RELATIONS) this.relation(pbf, v);
        } else if (f !== 5) kinds |= KIND_UNKNOWN; // 5 = changesets: never needed.
      }
    }
    return kinds;
  }

  private readStringTable(pbf: PbfReader): void {
    const end = pbf.readVarint() + pbf.pos;
    let n = 0;
    let f: number;
    while ((f = pbf.nextField(end))) {
      if (f !== 1) continue;
      const len = pbf.readVarint();
      if (n >= this.strStart.length) {
        this.strStart = growI32(this.strStart, n + 1);
        this.strEnd = growI32(this.strEnd, n + 1);
      }
      this.strStart[n] = pbf.pos;
      this.strEnd[n] = pbf.pos + len;
      pbf.pos += len;
      n++;
    }
    this.strCount = n;
  }

  private lat(v: number): number {
    // Divide (not multiply by 1e-9) so the result is the correctly rounded decimal, identical
    // to parsing the same coordinate from XML.
    return (this.latOff + this.gran * v) / 1e9;
  }
  private lon(v: number): number {
    return (this.lonOff + this.gran * v) / 1e9;
  }

  /** Decodes packed sint64 deltas into out[0..n), returns n. */
  private packedDelta(pbf: PbfReader, start: number, end: number, out: Float64Array): number {
    pbf.pos = start;
    let n = 0;
    let acc = 0;
    while (pbf.pos < end) {
      acc += pbf.readSVarint();
      out[n++] = acc;
    }
    return n;
  }

  private countVarints(start: number, end: number): number {
    const d = this.data;
    let n = 0;
    for (let i = start; i < end; i++) if (d[i] < 0x80) n++;
    return n;
  }

  private denseNodes(pbf: PbfReader, v: OsmVisitor): void {
    const end = pbf.readVarint() + pbf.pos;
    let idS = 0,
      idE = 0,
      latS = 0,
      latE = 0,
      lonS = 0,
      lonE = 0,
      kvS = -1,
      kvE = -1;
    let f: number;
    while ((f = pbf.nextField(end))) {
      if (pbf.type !== WIRE_BYTES) continue;
      const len = pbf.readVarint();
      const s = pbf.pos;
      pbf.pos += len;
      if (f === 1) (idS = s), (idE = s + len);
      else if (f === 8) (latS = s), (latE = s + len);
      else if (f === 9) (lonS = s), (lonE = s + len);
      else if (f === 10) (kvS = s), (kvE = s + len);
    }
    pbf.pos = end;
    const max = this.countVarints(idS, idE);
    const sc = this.s;
    sc.f64a = growF64(sc.f64a, max);
    sc.f64b = growF64(sc.f64b, max);
    sc.f64c = growF64(sc.f64c, max);
    const ids = sc.f64a;
    const lats = sc.f64b;
    const lons = sc.f64c;
    const n = this.packedDelta(pbf, idS, idE, ids);
    if (this.packedDelta(pbf, latS, latE, lats) !== n || this.packedDelta(pbf, lonS, lonE, lons) !== n) {
      throw new Error('dense nodes have id/lat/lon arrays of different lengths');
    }
    const cb = v.node;
    if (!cb) return;
    pbf.pos = kvS;
    for (let i = 0; i < n; i++) {
      let tags: Tags | null = null;
      if (kvS >= 0 && pbf.pos < kvE) {
        let k = pbf.readVarint();
        while (k !== 0) {
          if (tags === null) tags = {};
          tags[this.str(k)] = this.str(pbf.readVarint());
          if (pbf.pos >= kvE) break;
          k = pbf.readVarint();
        }
      }
      cb(ids[i], this.lon(lons[i]), this.lat(lats[i]), tags);
    }
    pbf.pos = end;
  }

  /** keys/vals packed uint32 ranges → tags object. */
  private tags(pbf: PbfReader, kS: number, kE: number, vS: number, vE: number): Tags {
    const tags: Tags = {};
    if (kS === kE) return tags;
    const n = this.countVarints(kS, kE);
    const sc = this.s;
    sc.i32a = growI32(sc.i32a, n);
    pbf.pos = kS;
    for (let i = 0; i < n; i++) sc.i32a[i] = pbf.readVarint();
    pbf.pos = vS;
    for (let i = 0; i < n && pbf.pos < vE; i++) tags[this.str(sc.i32a[i])] = this.str(pbf.readVarint());
    return tags;
  }

  private plainNode(pbf: PbfReader, v: OsmVisitor): void {
    const end = pbf.readVarint() + pbf.pos;
    let id = 0,
      lat = 0,
      lon = 0,
      kS = 0,
      kE = 0,
      vS = 0,
      vE = 0;
    let f: number;
    while ((f = pbf.nextField(end))) {
      if (f === 1) id = pbf.readSVarint();
      else if (f === 8) lat = pbf.readSVarint();
      else if (f === 9) lon = pbf.readSVarint();
      else if ((f === 2 || f === 3) && pbf.type === WIRE_BYTES) {
        const len = pbf.readVarint();
        if (f === 2) (kS = pbf.pos), (kE = pbf.pos + len);
        else (vS = pbf.pos), (vE = pbf.pos + len);
        pbf.pos += len;
      }
    }
    const tags = kS === kE ? null : this.tags(pbf, kS, kE, vS, vE);
    pbf.pos = end;
    v.node?.(id, this.lon(lon), this.lat(lat), tags);
  }

  private way(pbf: PbfReader, v: OsmVisitor): void {
    const end = pbf.readVarint() + pbf.pos;
    let id = 0,
      kS = 0,
      kE = 0,
      vS = 0,
      vE = 0,
      rS = 0,
      rE = 0;
    let f: number;
    while ((f = pbf.nextField(end))) {
      if (f === 1) id = pbf.readVarint();
      else if ((f === 2 || f === 3 || f === 8) && pbf.type === WIRE_BYTES) {
        const len = pbf.readVarint();
        const s = pbf.pos;
        pbf.pos += len;
        if (f === 2) (kS = s), (kE = s + len);
        else if (f === 3) (vS = s), (vE = s + len);
        else (rS = s), (rE = s + len);
      }
    }
    const sc = this.s;
    sc.f64a = growF64(sc.f64a, this.countVarints(rS, rE));
    const n = this.packedDelta(pbf, rS, rE, sc.f64a);
    const tags = this.tags(pbf, kS, kE, vS, vE);
    pbf.pos = end;
    v.way?.(id, sc.f64a, n, tags);
  }

  private relation(pbf: PbfReader, v: OsmVisitor): void {
    const end = pbf.readVarint() + pbf.pos;
    let id = 0,
      kS = 0,
      kE = 0,
      vS = 0,
      vE = 0,
      rS = 0,
      rE = 0,
      mS = 0,
      mE = 0,
      tS = 0,
      tE = 0;
    let f: number;
    while ((f = pbf.nextField(end))) {
      if (f === 1) id = pbf.readVarint();
      else if (pbf.type === WIRE_BYTES && (f === 2 || f === 3 || f === 8 || f === 9 || f === 10)) {
        const len = pbf.readVarint();
        const s = pbf.pos;
        pbf.pos += len;
        if (f === 2) (kS = s), (kE = s + len);
        else if (f === 3) (vS = s), (vE = s + len);
        else if (f === 8) (rS = s), (rE = s + len);
        else if (f === 9) (mS = s), (mE = s + len);
        else (tS = s), (tE = s + len);
      }
    }
    const m = this.members;
    const n = this.countVarints(mS, mE);
    if (m.ids.length < n) {
      m.ids = new Float64Array(Math.max(n, m.ids.length * 2));
      m.types = new Uint8Array(m.ids.length);
    }
    this.packedDelta(pbf, mS, mE, m.ids);
    pbf.pos = tS;
    for (let i = 0; i < n; i++) m.types[i] = pbf.pos < tE ? pbf.readVarint() : 0;
    pbf.pos = rS;
    m.roles.length = n;
    for (let i = 0; i < n; i++) m.roles[i] = pbf.pos < rE ? this.str(pbf.readVarint()) : '';
    m.count = n;
    const tags = this.tags(pbf, kS, kE, vS, vE);
    pbf.pos = end;
    v.relation?.(id, m, tags);
  }
}
