/**
 * The .quarter region file: one compact binary file with the walk graph, facility snaps,
 * facilities and metadata (source, attribution, import report).
 *
 * Layout (little-endian):
 *   "QUARTER\0" | u32 version | u32 headerBytes | header JSON (padded to 8) |
 *   optional byte blobs (header "blobs"), each 8-byte aligned |
 *   typed-array sections, each 8-byte aligned | u32 CRC-32 of everything before it.
 * Loading maps the sections as typed-array views over one buffer: no parsing per element,
 * so a city loads in milliseconds. The CRC refuses truncated or corrupted files.
 *
 * Blobs are optional parts added after version 2 was fixed (the basemap): files without them
 * load as before, and since every offset is relative to the data area and listed in the header,
 * a reader that knows no blobs still finds every section of a file that has them.
 */
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { WalkGraph } from '../engine/graph.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { RESIDENCE_ARRAYS, type CompoundInfo, type ResidenceTable } from '../ingest/residences/index.js';
import type { Facility, FacilitySnaps, Region, RegionMeta } from './region.js';

const MAGIC = Buffer.from('QUARTER\0', 'latin1');
export const REGION_FORMAT_VERSION = 2;

type ArrayKind = 'f64' | 'f32' | 'i32' | 'u8';
type TypedArray = Float64Array | Float32Array | Int32Array | Uint8Array;
const CTORS = { f64: Float64Array, f32: Float32Array, i32: Int32Array, u8: Uint8Array } as const;

interface SectionEntry {
  name: string;
  kind: ArrayKind;
  offset: number;
  length: number;
}

interface Header {
  meta: RegionMeta;
  facilities: Facility[];
  residenceCount: number;
  residenceNames: string[];
  compounds: CompoundInfo[];
  nodeCount: number;
  edgeCount: number;
  sections: SectionEntry[];
  /** optional byte blobs (u8), placed before the sections; absent in files written without any. */
  blobs?: SectionEntry[];
}

/** Blob names. */
const BLOB_BASEMAP = 'basemap.geojsonGz';

const GRAPH_ARRAYS: Array<[keyof WalkGraph, ArrayKind]> = [
  ['nodeCoords', 'f64'],
  ['nodeOsmIds', 'f64'],
  ['edgeFrom', 'i32'],
  ['edgeTo', 'i32'],
  ['edgeLength', 'f32'],
  ['edgeWayId', 'f64'],
  ['edgeClass', 'u8'],
  ['edgeFlags', 'u8'],
  ['geomOffsets', 'i32'],
  ['geomCoords', 'f64'],
  ['arcOffsets', 'i32'],
  ['arcTarget', 'i32'],
  ['arcEdge', 'i32'],
  ['nodeComponent', 'i32'],
];
const SNAP_ARRAYS: Array<[keyof FacilitySnaps, ArrayKind]> = [
  ['edge', 'i32'],
  ['offset', 'f32'],
  ['access', 'f32'],
];

export class RegionFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'RegionFileError';
  }
}

const pad8 = (n: number): number => (n + 7) & ~7;

export function encodeRegion(region: Region): Buffer[] {
  const arrays: Array<[string, ArrayKind, TypedArray]> = [
    ...GRAPH_ARRAYS.map(([k, t]): [string, ArrayKind, TypedArray] => [`graph.${k}`, t, region.graph[k] as TypedArray]),
    ...SNAP_ARRAYS.map(([k, t]): [string, ArrayKind, TypedArray] => [`snap.${k}`, t, region.facilitySnaps[k]]),
    ...RESIDENCE_ARRAYS.map(([k, t]): [string, ArrayKind, TypedArray] => [`residences.${k}`, t, region.residences[k]]),
    ...SNAP_ARRAYS.map(([k, t]): [string, ArrayKind, TypedArray] => [`rsnap.${k}`, t, region.residenceSnaps[k]]),
  ];
  const blobArrays: Array<[string, Uint8Array]> = region.basemap ? [[BLOB_BASEMAP, region.basemap.geojsonGz]] : [];
  // Offsets are relative to the start of the data area, which begins 8-aligned.
  const blobs: SectionEntry[] = [];
  let at = 0;
  for (const [name, arr] of blobArrays) {
    blobs.push({ name, kind: 'u8', offset: at, length: arr.length });
    at = pad8(at + arr.length);
  }
  const sections: SectionEntry[] = [];
  for (const [name, kind, arr] of arrays) {
    sections.push({ name, kind, offset: at, length: arr.length });
    at = pad8(at + arr.byteLength);
  }
  const header: Header = {
    meta: region.meta,
    facilities: region.facilities,
    residenceCount: region.residences.count,
    residenceNames: region.residences.names,
    compounds: region.compounds,
    nodeCount: region.graph.nodeCount,
    edgeCount: region.graph.edgeCount,
    sections,
    ...(blobs.length ? { blobs } : {}),
  };
  const headerBuf = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(16);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(REGION_FORMAT_VERSION, 8);
  prefix.writeUInt32LE(headerBuf.length, 12);
  const headerPad = Buffer.alloc(pad8(16 + headerBuf.length) - 16 - headerBuf.length);
  const out: Buffer[] = [prefix, headerBuf, headerPad];
  for (const [, arr] of [...blobArrays.map(([n, a]): [string, TypedArray] => [n, a]), ...arrays.map(([n, , a]): [string, TypedArray] => [n, a])]) {
    const b = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
    out.push(b);
    const p = pad8(b.length) - b.length;
    if (p) out.push(Buffer.alloc(p));
  }
  let crc = 0;
  // zlib.crc32 of an empty buffer returns 0 whatever the running value (Node 20), so skip those.
  for (const b of out) if (b.length > 0) crc = crc32(b, crc);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(crc >>> 0, 0);
  out.push(tail);
  return out;
}

/** Save atomically: the previous file (if any) stays intact until the new one is complete. */
export function writeRegion(file: string, region: Region): void {
  writeFileAtomic(file, encodeRegion(region));
}

export function readRegion(file: string): Region {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RegionFileError(file, code === 'ENOENT' ? 'no such region file (run `quarter import` first)' : `cannot read (${code ?? String(err)})`);
  }
  return decodeRegion(buf, file);
}

export function decodeRegion(input: Buffer, file = '<buffer>'): Region {
  if (input.length < 20 || !input.subarray(0, 8).equals(MAGIC)) {
    throw new RegionFileError(file, 'not a Quarter region file (bad magic bytes)');
  }
  const version = input.readUInt32LE(8);
  if (version !== REGION_FORMAT_VERSION) {
    throw new RegionFileError(file, `region file version ${version} is not supported (this build reads ${REGION_FORMAT_VERSION}); re-import the OSM extract`);
  }
  const stored = input.readUInt32LE(input.length - 4);
  const actual = crc32(input.subarray(0, input.length - 4)) >>> 0;
  if (stored !== actual) {
    throw new RegionFileError(file, 'checksum mismatch: the file is truncated or corrupted; re-import it');
  }
  // Typed-array views need 8-byte alignment of the underlying buffer.
  const buf = input.byteOffset % 8 === 0 ? input : Buffer.from(input);
  const headerBytes = buf.readUInt32LE(12);
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 16, 16 + headerBytes)) as Header;
  } catch {
    throw new RegionFileError(file, 'header is not valid JSON');
  }
  const dataStart = pad8(16 + headerBytes);
  const view = new Map<string, TypedArray>();
  if (header.blobs !== undefined && !Array.isArray(header.blobs)) throw new RegionFileError(file, 'header field "blobs" is not a list');
  for (const s of [...(header.blobs ?? []), ...header.sections]) {
    const Ctor = CTORS[s.kind];
    if (!Ctor) throw new RegionFileError(file, `section ${s.name} has unknown kind "${String(s.kind)}"`);
    const start = dataStart + s.offset;
    if (start + s.length * Ctor.BYTES_PER_ELEMENT > buf.length - 4) {
      throw new RegionFileError(file, `section ${s.name} runs past the end of the file`);
    }
    view.set(s.name, new Ctor(buf.buffer as ArrayBuffer, buf.byteOffset + start, s.length));
  }
  const get = <T extends TypedArray>(name: string): T => {
    const a = view.get(name);
    if (!a) throw new RegionFileError(file, `section ${name} is missing`);
    return a as T;
  };
  const graph = { nodeCount: header.nodeCount, edgeCount: header.edgeCount } as Record<string, unknown>;
  for (const [k] of GRAPH_ARRAYS) graph[k] = get(`graph.${k}`);
  const residences: Record<string, unknown> = { count: header.residenceCount, names: header.residenceNames };
  for (const [k] of RESIDENCE_ARRAYS) residences[k] = get(`residences.${k}`);
  return {
    meta: header.meta,
    facilities: header.facilities,
    graph: graph as unknown as WalkGraph,
    facilitySnaps: { edge: get('snap.edge'), offset: get('snap.offset'), access: get('snap.access') },
    residences: residences as unknown as ResidenceTable,
    residenceSnaps: { edge: get('rsnap.edge'), offset: get('rsnap.offset'), access: get('rsnap.access') },
    compounds: header.compounds,
    ...(view.has(BLOB_BASEMAP) ? { basemap: { geojsonGz: get<Uint8Array>(BLOB_BASEMAP) } } : {}),
  };
}
