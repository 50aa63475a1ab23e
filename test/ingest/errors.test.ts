/** Bad input gives one clear OsmInputError naming the file and where; crafted PBFs check the decoder. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { PbfWriter } from 'pbf';
import { afterAll, describe, expect, test } from 'vitest';
import { OsmInputError } from '../../src/ingest/osm-source.js';
import type { Tags } from '../../src/ingest/osm-types.js';
import { readOsm } from '../../src/ingest/read-osm.js';

const keepFeature = (t: Tags) => t.amenity !== undefined;
const tmp = mkdtempSync(join(tmpdir(), 'quarter-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function put(name: string, data: string | Uint8Array): string {
  const f = join(tmp, name);
  writeFileSync(f, data);
  return f;
}

async function failure(file: string): Promise<OsmInputError> {
  try {
    await readOsm(file, { keepFeature });
  } catch (e) {
    expect(e).toBeInstanceOf(OsmInputError);
    const err = e as OsmInputError;
    expect(err.file).toBe(file);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(err.message).not.toContain('\n');
    return err;
  }
  throw new Error(`${file}: expected an OsmInputError`);
}

describe('truncated and corrupt PBF', () => {
  const krems = readFileSync('data/krems/krems.osm.pbf');
  // Blob boundaries in krems are 0, 104, 84745, 131806, 213954; these cut inside blobs and headers.
  test.each([10, 60, 110, 5000, 84747, 131830, 200000, krems.length - 1])('cut at %i bytes', async (cut) => {
    const f = put(`cut-${cut}.osm.pbf`, krems.subarray(0, cut));
    const err = await failure(f);
    expect(err.message).toMatch(new RegExp(`: truncated at byte ${cut}: .* \\d+ bytes, \\d+ remain$`));
    expect(err.byte).toBe(cut);
  });

  test('message shape: blob header says N bytes, M remain', async () => {
    const f = put('cut-msg.osm.pbf', krems.subarray(0, 5000));
    const err = await failure(f);
    expect(err.message).toBe(`${f}: truncated at byte 5000: blob header says 84624 bytes, 4879 remain`);
  });

  test('corrupt zlib data names the blob', async () => {
    const bad = Buffer.from(krems);
    for (let i = 2000; i < 2100; i++) bad[i] ^= 0x5a;
    const err = await failure(put('bad-zlib.osm.pbf', bad));
    expect(err.message).toMatch(/: corrupt zlib data in blob at byte 104: /);
    expect(err.byte).toBe(104);
  });

  test('unknown required feature is refused', async () => {
    const f = put('feature.osm.pbf', craftPbf({ required: ['OsmSchema-V0.6', 'DenseNodes', 'Sort.Everything'] }));
    const err = await failure(f);
    expect(err.message).toBe(`${f}: requires PBF feature "Sort.Everything", which this reader does not support`);
  });

  test('history files are refused with a hint', async () => {
    const err = await failure(put('history.osm.pbf', craftPbf({ required: ['OsmSchema-V0.6', 'HistoricalInformation'] })));
    expect(err.message).toMatch(/history file/);
  });
});

describe('not OSM at all', () => {
  test('empty file', async () => {
    const f = put('empty.osm', '');
    expect((await failure(f)).message).toBe(`${f}: file is empty`);
  });

  test('random garbage bytes', async () => {
    let x = 12345;
    const junk = new Uint8Array(4096).map(() => ((x = (x * 1103515245 + 12345) >>> 0), x >>> 24));
    junk[0] = 0x37; // not '<', not gzip, not a plausible PBF length
    const err = await failure(put('junk.osm.pbf', junk));
    expect(err.message).toMatch(/: not an OSM file \(expected .osm.pbf, .osm XML or .osm.gz; first bytes: 37 /);
  });

  test('bzip2 is named', async () => {
    expect((await failure(put('x.osm.bz2', 'BZh91AY&SY....'))).message).toMatch(/bzip2/);
  });

  test('a missing file is an input error too', async () => {
    const err = await failure(join(tmp, 'nope.osm.pbf'));
    expect(err.message).toMatch(/cannot read/);
  });
});

describe('XML errors', () => {
  test('XML whose root is not <osm>, with its line', async () => {
    const f = put('kml.osm', '<?xml version="1.0"?>\n\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>\n');
    const err = await failure(f);
    expect(err.message).toMatch(new RegExp(`^${f}: line 3, column \\d+: root element is <kml>, expected <osm>`));
    expect(err.line).toBe(3);
  });

  test('malformed XML reports line and column', async () => {
    const f = put(
      'broken.osm',
      '<osm version="0.6">\n  <node id="1" lat="1" lon="1"/>\n  <way id="2">\n    <nd ref="1"/>\n  </node>\n</osm>\n',
    );
    const err = await failure(f);
    expect(err.message).toMatch(new RegExp(`^${f}: line 5, column \\d+: malformed XML: `));
    expect(err.line).toBe(5);
    expect(err.column).toBeGreaterThan(0);
  });

  test('XML cut short is malformed (unclosed root)', async () => {
    const text = readFileSync('test/fixtures/osm/rules.osm', 'utf8');
    const err = await failure(put('cut.osm', text.slice(0, 2000)));
    expect(err.message).toMatch(/malformed XML/);
  });

  test('gzip of non-XML and corrupt gzip', async () => {
    const e1 = await failure(put('notxml.osm.gz', gzipSync('hello world')));
    expect(e1.message).toMatch(/line 1, column \d+: malformed XML/);
    const gz = gzipSync(readFileSync('test/fixtures/osm/rules.osm'));
    const e2 = await failure(put('trunc.osm.gz', gz.subarray(0, gz.length - 40)));
    expect(e2.message).toMatch(/: gzip data ends early \(truncated\?\) near byte \d+$/);
  });

  test('a node with a bad coordinate names the attribute', async () => {
    const err = await failure(put('badlat.osm', '<osm>\n<node id="1" lat="north" lon="1"/>\n</osm>'));
    expect(err.message).toMatch(/line 2, column \d+: <node> has a bad "lat" attribute/);
  });
});

describe('crafted PBF: granularity, offsets, plain blobs, skipped blobs', () => {
  test('coordinates use granularity and lat/lon offsets; strings, tags and ways decode', async () => {
    const f = put(
      'crafted.osm.pbf',
      craftPbf({
        required: ['OsmSchema-V0.6', 'DenseNodes'],
        granularity: 1000,
        latOffset: 2_000_000_000, // +2°
        lonOffset: -1_000_000_000, // −1°
      }),
    );
    const r = await readOsm(f, { keepFeature });
    expect(r.stats).toMatchObject({ nodesRead: 3, waysRead: 1, format: 'pbf' });
    // lat = (2e9 + 1000 * 48_000_000) / 1e9 = 50; lon = (−1e9 + 1000 * 16_000_000) / 1e9 = 15
    expect(Array.from(r.network.nodeCoords)).toEqual([15, 50, 15.002, 50]);
    expect(Array.from(r.network.nodeOsmIds)).toEqual([1_000_000_000_001, 1_000_000_000_003]);
    expect(r.network.geomOffsets[1]).toBe(3);
    expect(r.features).toHaveLength(1);
    expect(r.features[0]).toMatchObject({ type: 'node', id: 1_000_000_000_002, tags: { amenity: 'café', name: '小卖部' } });
  });
});

/** A minimal PBF: header blob (raw) + dense nodes blob (zlib) + way blob (raw). */
function craftPbf(o: { required: string[]; granularity?: number; latOffset?: number; lonOffset?: number }): Uint8Array {
  const enc = new TextEncoder();
  const blobs: Uint8Array[] = [];
  const h = new PbfWriter();
  for (const s of o.required) h.writeStringField(4, s);
  h.writeStringField(16, 'quarter-test');
  blobs.push(frame('OSMHeader', h.finish().slice(), false));

  const strings = ['', 'amenity', 'café', 'name', '小卖部', 'highway', 'footway'];
  const block = (write: (p: PbfWriter) => void): Uint8Array => {
    const p = new PbfWriter();
    p.writeMessage(1, (_: null, q: PbfWriter) => strings.forEach((s) => q.writeBytesField(1, enc.encode(s))), null);
    p.writeMessage(2, (_: null, g: PbfWriter) => write(g), null);
    if (o.granularity) p.writeVarintField(17, o.granularity);
    if (o.latOffset) p.writeVarintField(19, o.latOffset);
    if (o.lonOffset) p.writeVarintField(20, o.lonOffset);
    return p.finish().slice();
  };
  const base = 1_000_000_000_001;
  const dense = block((g) =>
    g.writeMessage(
      2,
      (_: null, d: PbfWriter) => {
        d.writePackedSVarint(1, [base, 1, 1]);
        d.writePackedSVarint(8, [48_000_000, 0, 0]);
        d.writePackedSVarint(9, [16_000_000, 1000, 1000]);
        d.writePackedVarint(10, [0, 1, 2, 3, 4, 0, 0]);
      },
      null,
    ),
  );
  blobs.push(frame('OSMData', dense, true));
  const ways = block((g) =>
    g.writeMessage(
      3,
      (_: null, w: PbfWriter) => {
        w.writeVarintField(1, 77);
        w.writePackedVarint(2, [5]);
        w.writePackedVarint(3, [6]);
        w.writePackedSVarint(8, [base, 1, 1]);
      },
      null,
    ),
  );
  blobs.push(frame('OSMData', ways, false));
  return Buffer.concat(blobs);
}

function frame(type: string, payload: Uint8Array, zlib: boolean): Uint8Array {
  const b = new PbfWriter();
  if (zlib) {
    b.writeVarintField(2, payload.length);
    b.writeBytesField(3, deflateSync(payload));
  } else b.writeBytesField(1, payload);
  const blob = b.finish().slice();
  const hdr = new PbfWriter();
  hdr.writeStringField(1, type);
  hdr.writeVarintField(3, blob.length);
  const hb = hdr.finish().slice();
  const len = Buffer.alloc(4);
  len.writeUInt32BE(hb.length);
  return Buffer.concat([len, hb, blob]);
}
