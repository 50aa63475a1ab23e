/**
 * The .quarter region file: exact round trip, the documented layout, and every kind of damage
 * (flipped bytes, truncation, wrong file, wrong version, inconsistent header) refused with a
 * RegionFileError naming the file. Writes are atomic.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { RESIDENCE_ARRAYS } from '../../src/ingest/residences/index.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OutputFileError } from '../../src/io/atomic-file.js';
import { importRegion } from '../../src/region/import-region.js';
import { REGION_FORMAT_VERSION, RegionFileError, decodeRegion, encodeRegion, readRegion, writeRegion } from '../../src/region/region-file.js';
import type { Region } from '../../src/region/region.js';

const tmp = mkdtempSync(join(tmpdir(), 'quarter-region-file-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let region: Region;
let bytes: Buffer;

beforeAll(async () => {
  region = await importRegion('test/fixtures/osm/krems-centre.osm.pbf', { name: 'Krems "centre", =1+1\nzwei' });
  bytes = Buffer.concat(encodeRegion(region));
});

const GRAPH_KEYS = [
  'nodeCoords', 'nodeOsmIds', 'edgeFrom', 'edgeTo', 'edgeLength', 'edgeWayId', 'edgeClass', 'edgeFlags',
  'geomOffsets', 'geomCoords', 'arcOffsets', 'arcTarget', 'arcEdge', 'nodeComponent',
] as const;

function expectSameRegion(a: Region, b: Region): void {
  expect(a.meta).toEqual(b.meta);
  expect(a.facilities).toEqual(b.facilities);
  expect(a.graph.nodeCount).toBe(b.graph.nodeCount);
  expect(a.graph.edgeCount).toBe(b.graph.edgeCount);
  for (const k of GRAPH_KEYS) {
    expect(a.graph[k].constructor, k).toBe(b.graph[k].constructor);
    expect(Array.from(a.graph[k]), k).toEqual(Array.from(b.graph[k]));
  }
  for (const k of ['edge', 'offset', 'access'] as const) {
    expect(a.facilitySnaps[k].constructor, k).toBe(b.facilitySnaps[k].constructor);
    expect(Array.from(a.facilitySnaps[k]), k).toEqual(Array.from(b.facilitySnaps[k]));
    expect(Array.from(a.residenceSnaps[k]), k).toEqual(Array.from(b.residenceSnaps[k]));
  }
  expect(a.residences.count).toBe(b.residences.count);
  expect(a.residences.names).toEqual(b.residences.names);
  for (const [k] of RESIDENCE_ARRAYS) expect(Array.from(a.residences[k]), k).toEqual(Array.from(b.residences[k]));
  expect(a.compounds).toEqual(b.compounds);
}

/** Rewrite the header JSON (same length) and fix the CRC, to build files damaged only inside. */
function withHeader(edit: (json: string) => string): Buffer {
  const b = Buffer.from(bytes);
  const len = b.readUInt32LE(12);
  const json = b.toString('utf8', 16, 16 + len);
  const next = Buffer.from(edit(json), 'utf8');
  expect(next.length).toBe(len);
  next.copy(b, 16);
  b.writeUInt32LE(crc32(b.subarray(0, b.length - 4)) >>> 0, b.length - 4);
  return b;
}

function decodeError(buf: Buffer, name = 'damaged.quarter'): RegionFileError {
  try {
    decodeRegion(buf, name);
  } catch (e) {
    expect(e).toBeInstanceOf(RegionFileError);
    const err = e as RegionFileError;
    expect(err.file).toBe(name);
    expect(err.message.startsWith(`${name}: `)).toBe(true);
    expect(err.message).not.toContain('\n');
    return err;
  }
  throw new Error('expected a RegionFileError');
}

describe('round trip', () => {
  test('encode → decode gives the same region, typed arrays and all', () => {
    expect(region.graph.nodeCount).toBeGreaterThan(100);
    expect(region.facilities.length).toBeGreaterThan(5);
    expectSameRegion(decodeRegion(bytes), region);
  });

  test('decodes from a buffer at an odd byte offset (copies to align the typed arrays)', () => {
    const shifted = Buffer.concat([Buffer.alloc(3), bytes]).subarray(3);
    expect(shifted.byteOffset % 8).not.toBe(0);
    expectSameRegion(decodeRegion(shifted), region);
  });

  test('writeRegion → readRegion, atomically, overwriting the previous file', () => {
    const f = join(tmp, 'rt', 'a.quarter');
    mkdirSync(join(tmp, 'rt'));
    writeFileSync(f, 'old contents');
    writeRegion(f, region);
    expect(readFileSync(f).equals(bytes)).toBe(true);
    expect(readdirSync(join(tmp, 'rt'))).toEqual(['a.quarter']);
    expectSameRegion(readRegion(f), region);
  });

  test('hostile region and facility names survive unchanged', () => {
    const evil: Region = {
      ...region,
      meta: { ...region.meta, name: '"\u0000\n\u2028=cmd|\' /C calc\'!A0 \uD83D\uDE00' },
      facilities: region.facilities.map((f, i) => (i === 0 ? { ...f, name: '=HYPERLINK("x"),\r\n"' } : f)),
    };
    const back = decodeRegion(Buffer.concat(encodeRegion(evil)));
    expect(back.meta.name).toBe(evil.meta.name);
    expect(back.facilities[0].name).toBe('=HYPERLINK("x"),\r\n"');
  });
});

describe('layout', () => {
  test('magic, version, header length, 8-aligned sections, CRC-32 trailer', () => {
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('QUARTER\0');
    expect(bytes.readUInt32LE(8)).toBe(REGION_FORMAT_VERSION);
    const len = bytes.readUInt32LE(12);
    const header = JSON.parse(bytes.toString('utf8', 16, 16 + len)) as {
      nodeCount: number;
      edgeCount: number;
      sections: Array<{ name: string; kind: string; offset: number; length: number }>;
    };
    expect(header.nodeCount).toBe(region.graph.nodeCount);
    expect(header.edgeCount).toBe(region.graph.edgeCount);
    const dataStart = (16 + len + 7) & ~7;
    const size = { f64: 8, f32: 4, i32: 4, u8: 1 } as Record<string, number>;
    let end = 0;
    for (const s of header.sections) {
      expect((dataStart + s.offset) % 8, s.name).toBe(0);
      expect(s.offset).toBeGreaterThanOrEqual(end);
      end = s.offset + s.length * size[s.kind];
    }
    expect(header.sections.map((s) => s.name)).toEqual([
      ...GRAPH_KEYS.map((k) => `graph.${k}`),
      'snap.edge', 'snap.offset', 'snap.access',
      ...RESIDENCE_ARRAYS.map(([k]) => `residences.${k}`),
      'rsnap.edge', 'rsnap.offset', 'rsnap.access',
    ]);
    expect(bytes.length).toBe(((dataStart + end + 7) & ~7) + 4);
    expect(bytes.readUInt32LE(bytes.length - 4)).toBe(crc32(bytes.subarray(0, bytes.length - 4)) >>> 0);
  });
});

describe('damage is refused with a RegionFileError naming the file', () => {
  test('any flipped byte', () => {
    const positions = new Set<number>();
    for (let k = 0; k < 64; k++) positions.add(Math.floor((k * (bytes.length - 1)) / 63));
    for (const at of [0, 7, 8, 11, 12, 15, 16, bytes.length - 4, bytes.length - 1]) positions.add(at);
    for (const at of positions) {
      const b = Buffer.from(bytes);
      b[at] ^= 0x01;
      const err = decodeError(b);
      if (at < 8) expect(err.message, `byte ${at}`).toMatch(/not a Quarter region file \(bad magic bytes\)/);
      else if (at < 12) expect(err.message, `byte ${at}`).toMatch(/region file version \d+ is not supported/);
      else expect(err.message, `byte ${at}`).toMatch(/checksum mismatch: the file is truncated or corrupted; re-import it/);
    }
  });

  test('truncated anywhere', () => {
    for (const cut of [0, 1, 8, 16, 19, 20, 24, 100, Math.floor(bytes.length / 3), Math.floor(bytes.length / 2), bytes.length - 5, bytes.length - 1]) {
      const err = decodeError(bytes.subarray(0, cut));
      expect(err.message, `cut at ${cut}`).toMatch(cut < 20 ? /bad magic bytes/ : /checksum mismatch/);
    }
  });

  test('appended garbage', () => {
    expect(decodeError(Buffer.concat([bytes, Buffer.from('junk')])).message).toMatch(/checksum mismatch/);
  });

  test('not a region file, empty, another version', () => {
    expect(decodeError(Buffer.from('{"type":"FeatureCollection","features":[]}')).message).toMatch(/not a Quarter region file/);
    expect(decodeError(Buffer.alloc(0)).message).toMatch(/not a Quarter region file/);
    expect(decodeError(readFileSync('data/krems/krems.osm.pbf')).message).toMatch(/not a Quarter region file/);
    const v2 = Buffer.from(bytes);
    v2.writeUInt32LE(REGION_FORMAT_VERSION + 1, 8);
    expect(decodeError(v2).message).toMatch(new RegExp(`version ${REGION_FORMAT_VERSION + 1} is not supported \\(this build reads ${REGION_FORMAT_VERSION}\\); re-import`));
  });

  test('a header that is not JSON (with a valid checksum)', () => {
    const b = withHeader((json) => `x${json.slice(1)}`);
    expect(decodeError(b).message).toMatch(/header is not valid JSON/);
  });

  test('a section that runs past the end (with a valid checksum)', () => {
    const b = withHeader((json) =>
      json.replace(/("name":"rsnap\.access","kind":"f32","offset":\d+,"length":)(\d+)/, (_m, head: string, n: string) => head + '9'.repeat(n.length)),
    );
    expect(decodeError(b).message).toMatch(/section rsnap\.access runs past the end of the file/);
  });

  test('a missing section (with a valid checksum)', () => {
    const b = withHeader((json) => json.replace('"graph.edgeTo"', '"graph.edgeTX"'));
    expect(decodeError(b).message).toMatch(/section graph\.edgeTo is missing/);
  });
});

describe('readRegion / writeRegion on the file system', () => {
  test('missing file and a directory: RegionFileError naming the path', () => {
    expect(() => readRegion(join(tmp, 'nope.quarter'))).toThrow(RegionFileError);
    expect(() => readRegion(join(tmp, 'nope.quarter'))).toThrow(/nope\.quarter: no such region file/);
    expect(() => readRegion(tmp)).toThrow(/cannot read \(EISDIR\)/);
  });

  test('a failed write leaves no temp file and the old file untouched', () => {
    mkdirSync(join(tmp, 'w'));
    writeFileSync(join(tmp, 'w', 'blocker'), 'a regular file');
    expect(() => writeRegion(join(tmp, 'w', 'blocker', 'x.quarter'), region)).toThrow(OutputFileError);
    expect(() => writeRegion(join(tmp, 'w', 'blocker', 'x.quarter'), region)).toThrow(/blocker\/x\.quarter: cannot write \(ENOTDIR/);
    // the target is a directory: rename fails, the temp file is removed
    mkdirSync(join(tmp, 'w', 'isdir.quarter'));
    expect(() => writeRegion(join(tmp, 'w', 'isdir.quarter'), region)).toThrow(OutputFileError);
    expect(readdirSync(join(tmp, 'w')).sort()).toEqual(['blocker', 'isdir.quarter']);
    expect(readFileSync(join(tmp, 'w', 'blocker'), 'utf8')).toBe('a regular file');
  });
});
