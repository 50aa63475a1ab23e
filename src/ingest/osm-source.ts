/**
 * One streaming interface over the OSM file formats (.osm.pbf, .osm XML, .osm.gz).
 *
 * A source is scanned once per import pass with a visitor; the visitor's callbacks say
 * which element kinds the pass needs, and a source skips decoding the others (PBF skips
 * whole blobs once it knows what they hold). Callbacks get reused buffers, never
 * per-element objects, except a tags object when an element has tags.
 */
import { open, stat } from 'node:fs/promises';
import type { Tags } from './osm-types.js';
import { PbfFile } from './pbf-reader.js';
import { scanXml } from './xml-reader.js';

/** A problem with the input file, as a one-line message naming the file and where. */
export class OsmInputError extends Error {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly byte?: number;
  constructor(file: string, detail: string, where: { line?: number; column?: number; byte?: number } = {}) {
    super(`${file}: ${detail}`);
    this.name = 'OsmInputError';
    this.file = file;
    if (where.line !== undefined) this.line = where.line;
    if (where.column !== undefined) this.column = where.column;
    if (where.byte !== undefined) this.byte = where.byte;
  }
}

/** Relation members in reused parallel arrays; valid only during the callback. */
export interface RelationMembers {
  count: number;
  /** MEMBER_NODE / MEMBER_WAY / MEMBER_RELATION (the PBF enum). */
  types: Uint8Array;
  ids: Float64Array;
  roles: string[];
}
export const MEMBER_NODE = 0;
export const MEMBER_WAY = 1;
export const MEMBER_RELATION = 2;

/**
 * Element callbacks. Leaving one out tells the source to skip that kind.
 * Buffers (refs, members) are reused: copy what you keep.
 */
export interface OsmVisitor {
  /** tags is null for untagged nodes (nearly all of them), so the hot path allocates nothing. */
  node?(id: number, lon: number, lat: number, tags: Tags | null): void;
  way?(id: number, refs: Float64Array, refCount: number, tags: Tags): void;
  relation?(id: number, members: RelationMembers, tags: Tags): void;
}

export type OsmFormat = 'pbf' | 'xml' | 'xml.gz';

export interface OsmSource {
  readonly file: string;
  readonly format: OsmFormat;
  readonly bytes: number;
  /** One pass over the file. onBytes reports file bytes consumed so far. */
  scan(visitor: OsmVisitor, onBytes?: (done: number, total: number) => void): Promise<void>;
}

/** Sniff the format from the first bytes (never from the extension). */
export function detectOsmFormat(file: string, head: Uint8Array, size: number): OsmFormat {
  if (size === 0) throw new OsmInputError(file, 'file is empty', { byte: 0 });
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'xml.gz';
  if (looksLikePbf(head)) return 'pbf';
  // XML: '<' after an optional UTF-8 BOM and whitespace.
  let i = 0;
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
  if (i < head.length && head[i] === 0x3c) return 'xml';
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) {
    throw new OsmInputError(file, 'bzip2-compressed files are not supported; decompress with bunzip2 or convert with `osmium cat -o x.osm.pbf`');
  }
  const hex = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new OsmInputError(file, `not an OSM file (expected .osm.pbf, .osm XML or .osm.gz; first bytes: ${hex})`, { byte: 0 });
}

const OSM_HEADER = 'OSMHeader';

/**
 * PBF: 4-byte big-endian header length, then a BlobHeader whose field 1 (tag 0x0a) is the
 * string "OSMHeader". A prefix of that is enough, so a file cut inside its first header is
 * still recognised as PBF and reported as truncated rather than as "not an OSM file".
 */
function looksLikePbf(head: Uint8Array): boolean {
  if (head.length < 6) return false;
  const len = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
  if (len === 0 || len > 64 * 1024) return false;
  if (head[4] !== 0x0a || head[5] !== OSM_HEADER.length) return false;
  for (let i = 0; i < OSM_HEADER.length && 6 + i < head.length; i++) {
    if (head[6 + i] !== OSM_HEADER.charCodeAt(i)) return false;
  }
  return true;
}

export async function openOsmSource(file: string): Promise<OsmSource> {
  let size: number;
  const head = new Uint8Array(64);
  let got = 0;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new OsmInputError(file, 'not a regular file');
    size = st.size;
    const fh = await open(file, 'r');
    try {
      got = (await fh.read(head, 0, head.length, 0)).bytesRead;
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof OsmInputError) throw e;
    throw new OsmInputError(file, `cannot read: ${(e as Error).message}`);
  }
  const format = detectOsmFormat(file, head.subarray(0, got), size);
  if (format === 'pbf') {
    const pbf = new PbfFile(file, size);
    return { file, format, bytes: size, scan: (v, onBytes) => pbf.scan(v, onBytes) };
  }
  const gz = format === 'xml.gz';
  return { file, format, bytes: size, scan: (v, onBytes) => scanXml(file, size, gz, v, onBytes) };
}
