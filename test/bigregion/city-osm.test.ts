/**
 * The synthetic city extract (bench/city-osm.ts): a valid OSM PBF by osmium's reading (counts,
 * sort order), deterministic from its seed, and imported by our reader with every node and way
 * read, every shop classified (counted per tag by `osmium tags-count`, an independent reader) and
 * every residential building a residence.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { writeCityOsm } from '../../bench/city-osm.js';
import { importRegion } from '../../src/region/import-region.js';

const dir = mkdtempSync(join(tmpdir(), 'quarter-city-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FILE = join(dir, 'city.osm.pbf');
const stats = writeCityOsm(FILE, { nodes: 40_000, seed: 7 });

const osmium = (args: string[]): string => {
  const r = spawnSync('osmium', args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`osmium ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

describe('generated city extract', () => {
  test('osmium reads it: the counts the generator reports, sorted by type then id', () => {
    const info = JSON.parse(osmium(['fileinfo', '-e', '-j', FILE])) as {
      data: { count: { nodes: number; ways: number; relations: number }; objects_ordered: boolean; maxid: { nodes: number; ways: number } };
      header: { option: Record<string, string> };
    };
    expect(info.data.count).toEqual({ nodes: stats.nodes, ways: stats.ways, relations: 0, changesets: 0 });
    expect(info.data.objects_ordered).toBe(true);
    expect(info.data.maxid.nodes).toBe(stats.nodes);
    expect(info.data.maxid.ways).toBe(stats.ways);
    expect(info.header.option.pbf_dense_nodes).toBe('true');
    expect(stats.nodes).toBeGreaterThan(36_000);
    expect(stats.nodes).toBeLessThan(44_000);
  });

  test('deterministic from the seed', () => {
    const again = join(dir, 'again.osm.pbf');
    const other = join(dir, 'other.osm.pbf');
    writeCityOsm(again, { nodes: 40_000, seed: 7 });
    writeCityOsm(other, { nodes: 40_000, seed: 8 });
    expect(readFileSync(again).equals(readFileSync(FILE))).toBe(true);
    expect(readFileSync(other).equals(readFileSync(FILE))).toBe(false);
  });

  test('our import reads every element, classifies every shop, finds every home', async () => {
    const region = await importRegion(FILE, { basemap: false });
    const rep = region.meta.report;
    expect(rep.osm.nodesRead).toBe(stats.nodes);
    expect(rep.osm.waysRead).toBe(stats.ways);
    expect(rep.osm.missingNodeRefs).toBe(0);
    expect(rep.residences.unreachable).toBe(0);
    // every apartment / residential building is one residence (no landuse without buildings)
    const buildings = osmium(['tags-count', '-t', 'way', FILE, 'building=apartments', 'building=residential'])
      .trim()
      .split('\n')
      .reduce((s, l) => s + Number(l.split('\t')[0]), 0);
    expect(region.residences.count).toBe(buildings);
    // shops per format against osmium's tag counts
    const count = (expr: string): number => Number(osmium(['tags-count', '-t', 'node', FILE, expr]).trim().split('\t')[0] || 0);
    expect(rep.facilities.byFormat.convenience_store).toBe(count('shop=convenience'));
    expect(rep.facilities.byFormat.pharmacy).toBe(count('amenity=pharmacy'));
    expect(rep.facilities.byFormat.supermarket).toBe(count('shop=supermarket'));
    expect(rep.facilities.byFormat.community_health).toBe(count('amenity=clinic'));
    expect(rep.facilities.byFormat.post_express).toBe(count('amenity=post_office') + count('amenity=parcel_locker'));
    const taggedNodes = osmium(['tags-count', '-t', 'node', FILE, 'shop', 'amenity', 'leisure', 'craft', 'office'])
      .trim()
      .split('\n')
      .reduce((s, l) => s + Number(l.split('\t')[0]), 0);
    expect(rep.facilities.total).toBe(taggedNodes);
    expect(rep.facilities.unreachable).toBe(0);
    expect(Object.values(rep.facilities.byFormat).filter((n) => n > 0).length).toBeGreaterThanOrEqual(25);
  });
});
