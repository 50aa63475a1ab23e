/** The three formats decode to the same elements and the same network. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { EdgeList } from '../../src/engine/graph.js';
import { openOsmSource, type OsmSource } from '../../src/ingest/osm-source.js';
import type { Tags } from '../../src/ingest/osm-types.js';
import { readOsm } from '../../src/ingest/read-osm.js';

const FX = 'test/fixtures/osm';
const KREMS_PBF = 'data/krems/krems.osm.pbf';
const keepFeature = (t: Tags) => t.amenity !== undefined || t.shop !== undefined || t.healthcare !== undefined;

const tmp = mkdtempSync(join(tmpdir(), 'quarter-readers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** First differing array in two edge lists, or null. */
function diffNetworks(a: EdgeList, b: EdgeList): string | null {
  for (const k of Object.keys(a) as (keyof EdgeList)[]) {
    const x = a[k];
    const y = b[k];
    if (x.length !== y.length) return `${k}: length ${x.length} vs ${y.length}`;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `${k}[${i}]: ${x[i]} vs ${y[i]}`;
  }
  return null;
}

/** Counts and a checksum of everything a source yields. */
async function digest(src: OsmSource) {
  const d = { nodes: 0, ways: 0, relations: 0, tagged: 0, refs: 0, members: 0, idSum: 0, coordSum: 0, tagChars: 0 };
  const tagLen = (t: Tags) => Object.entries(t).reduce((s, [k, v]) => s + k.length + v.length, 0);
  await src.scan({
    node(id, lon, lat, tags) {
      d.nodes++;
      d.idSum += id;
      d.coordSum += lon + lat;
      if (tags) (d.tagged++, (d.tagChars += tagLen(tags)));
    },
    way(id, refs, n, tags) {
      d.ways++;
      d.refs += n;
      for (let i = 0; i < n; i++) d.idSum += refs[i];
      d.tagChars += tagLen(tags);
    },
    relation(id, m, tags) {
      d.relations++;
      d.members += m.count;
      for (let i = 0; i < m.count; i++) d.idSum += m.ids[i] + m.types[i] + m.roles[i].length;
      d.tagChars += tagLen(tags);
    },
  });
  return d;
}

describe('format detection and element decoding', () => {
  test('krems: PBF and gzipped XML yield the same elements, counts as osmium reports', async () => {
    const pbf = await openOsmSource(KREMS_PBF);
    const gz = await openOsmSource(`${FX}/krems.osm.gz`);
    expect(pbf.format).toBe('pbf');
    expect(gz.format).toBe('xml.gz');
    const a = await digest(pbf);
    const b = await digest(gz);
    expect(a).toEqual(b);
    // osmium fileinfo -e data/krems/krems.osm.pbf
    expect([a.nodes, a.ways, a.relations]).toEqual([15042, 2402, 73]);
  });

  test('dense and plain nodes, zlib and raw blobs agree with XML', async () => {
    const xml = await digest(await openOsmSource(`${FX}/krems-centre.osm`));
    const dense = await digest(await openOsmSource(`${FX}/krems-centre.osm.pbf`));
    const plain = await digest(await openOsmSource(`${FX}/krems-centre-plain.osm.pbf`));
    expect(dense).toEqual(xml);
    expect(plain).toEqual(xml);
  });

  test('a pass only decodes the kinds it asks for, and later passes still see everything', async () => {
    const src = await openOsmSource(KREMS_PBF);
    let ways = 0;
    await src.scan({ way: () => void ways++ });
    let nodes = 0;
    await src.scan({ node: () => void nodes++ });
    let rels = 0;
    await src.scan({ relation: () => void rels++ });
    expect([nodes, ways, rels]).toEqual([15042, 2402, 73]);
  });

  test('format is sniffed from bytes, not the extension (BOM + whitespace before XML)', async () => {
    const f = join(tmp, 'looks-like.pbf');
    writeFileSync(f, '\uFEFF\n  <osm version="0.6"><node id="1" lat="1" lon="2"/></osm>');
    const src = await openOsmSource(f);
    expect(src.format).toBe('xml');
    const got: number[] = [];
    await src.scan({ node: (id, lon, lat) => void got.push(id, lon, lat) });
    expect(got).toEqual([1, 2, 1]);
    const g = join(tmp, 'really-pbf.osm');
    writeFileSync(g, readFileSync(`${FX}/rules.osm.pbf`));
    expect((await openOsmSource(g)).format).toBe('pbf');
  });

  test('XML entities and attribute quoting decode', async () => {
    const src = await openOsmSource(`${FX}/rules.osm`);
    let name = '';
    await src.scan({ node: (id, _lon, _lat, tags) => void (id === 200 && (name = tags!.name)) });
    expect(name).toBe('Café "Zur Post" & Co');
  });
});

describe('same network from every format', () => {
  test('krems: PBF and .osm.gz give identical networks, features and stats', async () => {
    const a = await readOsm(KREMS_PBF, { keepFeature });
    const b = await readOsm(`${FX}/krems.osm.gz`, { keepFeature });
    expect(diffNetworks(a.network, b.network)).toBeNull();
    expect(a.network.edgeFrom.length).toBeGreaterThan(1000);
    expect(b.features).toEqual(a.features);
    expect({ ...b.stats, format: 'pbf' }).toEqual(a.stats);
    expect(b.bbox).toEqual(a.bbox);
  });

  test('krems centre: XML, dense PBF and plain PBF give identical networks', async () => {
    const x = await readOsm(`${FX}/krems-centre.osm`, { keepFeature });
    const d = await readOsm(`${FX}/krems-centre.osm.pbf`, { keepFeature });
    const p = await readOsm(`${FX}/krems-centre-plain.osm.pbf`, { keepFeature });
    expect(x.stats.format).toBe('xml');
    expect(diffNetworks(x.network, d.network)).toBeNull();
    expect(diffNetworks(x.network, p.network)).toBeNull();
    expect(d.features).toEqual(x.features);
    expect(p.features).toEqual(x.features);
    expect(x.network.edgeFrom.length).toBeGreaterThan(100);
  });
});
