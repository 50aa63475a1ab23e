/**
 * `quarter import-pois`: an Amap export (UTF-8 with BOM, and GBK with Chinese headers) added to
 * the Krems region. Krems is outside China, where GCJ-02 and BD-09 coincide with WGS-84, so the
 * CRS conversions themselves are tested in test/pois; here: every row accounted for and printed,
 * rejections with their lines (on screen, in --rejected CSV, in --json), a duplicate of a real
 * Krems pharmacy merged, the region saved atomically and seen by `quarter nearest`, and every
 * failure leaving the region byte-identical.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildSnapIndex, snapPreferMain } from '../../src/engine/snap.js';
import { addFacilities } from '../../src/region/add-facilities.js';
import { readRegion } from '../../src/region/region-file.js';
import type { Facility, Region } from '../../src/region/region.js';
import { EXIT, KREMS_PBF, ROOT, expectFailure, expectOk, leftoverTemps, quarter, quarterAsync, readCsv, scratch } from './helpers.js';

const dir = scratch('import-pois');
const base = join(dir, 'krems.quarter');
let region: Region;
let baseBytes: Buffer;
/** Apotheke Mitterau, a real pharmacy in the Krems extract. */
let mitterau: Facility;
/** main-network node farthest from every OSM pharmacy (inside the bbox): where the new pharmacy goes. */
let pharmacyAt: [number, number];
/** other main-network nodes for the other rows. */
let spots: Array<[number, number]>;

const KY = 6371008.8 * (Math.PI / 180);
const metresApart = (a: [number, number], b: [number, number]): number => {
  const kx = KY * Math.cos((((a[1] + b[1]) / 2) * Math.PI) / 180);
  return Math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * KY);
};
/** x metres east, y metres north of p. */
const shift = (p: [number, number], x: number, y: number): [number, number] => [
  p[0] + x / (KY * Math.cos((p[1] * Math.PI) / 180)),
  p[1] + y / KY,
];
const c7 = (p: [number, number]): string => `${p[0].toFixed(7)},${p[1].toFixed(7)}`;
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

let copies = 0;
/** A fresh copy of the imported Krems region. */
function fresh(): string {
  const f = join(dir, `r${++copies}.quarter`);
  copyFileSync(base, f);
  return f;
}

/** The Amap export: UTF-8 with BOM, CRLF, Chinese headers; one usable row, one duplicate, one per rejection. */
function amapCsv(): string {
  const store = spots[0];
  const rows = [
    'id,名称,类型,typecode,经度,纬度,地址,营业时间',
    `B001,老百姓大药房(克雷姆斯店),医疗保健服务;医药保健销售店;药房,090601,${c7(shift(pharmacyAt, 2, 1))},Hafenstraße 1,周一至周日 08:00-20:00`,
    `B002,Mitterau Apotheke,医疗保健服务;医药保健销售店;药房,090601,${c7(shift([mitterau.lon, mitterau.lat], 0, 15))},Mitterau,`,
    // a quoted address over two lines: the next record starts on line 6
    `B003,全家便利店(克雷姆斯店),购物服务;便民商店/便利店;便利店,060200,${c7(shift(store, 1, 2))},"Obere Landstraße\r\n3",24小时`,
    'B004,上海药房,医疗保健服务;医药保健销售店;药房,090601,121.44,31.19,上海,',
    `B005,倒置便利店,购物服务;便民商店/便利店;便利店,060200,${store[1].toFixed(5)},${store[0].toFixed(5)},,`,
    `B006,某某小区,商务住宅;住宅区;住宅小区,120302,${c7(shift(spots[1], 1, 1))},,`,
    'B007,缺坐标药房,医疗保健服务;医药保健销售店;药房,090601,,,,',
    `B002,重复编号药房,医疗保健服务;医药保健销售店;药房,090601,${c7(shift(spots[2], 1, 1))},,`,
  ];
  return '\uFEFF' + rows.join('\r\n') + '\r\n';
}

const AMAP_REJECTIONS = [
  { line: 6, field: 'coordinates', message: expect.stringMatching(/^outside the region: 121\.\d+, 31\.\d+ \(WGS-84\) is not in bbox \[15\.\d+, 48\.\d+, 15\.\d+, 48\.\d+\]$/) },
  { line: 7, field: 'coordinates', message: expect.stringMatching(/^latitude and longitude look swapped \(longitude 48\.\d+, latitude 15\.\d+\)$/) },
  { line: 8, field: 'typecode', message: 'no format for typecode 120302' },
  { line: 9, field: 'coordinates', message: 'missing coordinates' },
  { line: 10, field: 'id', message: 'duplicate id B002 (first on line 3)' },
];

beforeAll(() => {
  expectOk(quarter(['import', KREMS_PBF, '-o', base], { cwd: dir }));
  baseBytes = readFileSync(base);
  region = readRegion(base);
  const m = region.facilities.find((f) => f.name === 'Apotheke Mitterau' && f.formats.includes('pharmacy'));
  if (!m) throw new Error('the Krems extract has no "Apotheke Mitterau" pharmacy');
  mitterau = m;
  const g = region.graph;
  const pharmacies = region.facilities.filter((f) => f.formats.includes('pharmacy')).map((f): [number, number] => [f.lon, f.lat]);
  const main: Array<[number, number]> = [];
  for (let u = 0; u < g.nodeCount; u++) if (g.nodeComponent[u] === 0) main.push([g.nodeCoords[2 * u], g.nodeCoords[2 * u + 1]]);
  // well inside the bbox, so that the rows placed a few metres off a node stay inside it
  const [w, s, e, n] = region.meta.bbox;
  const inner = main.filter(([lon, lat]) => lon > w + 0.01 && lon < e - 0.01 && lat > s + 0.01 && lat < n - 0.01);
  let best = -1;
  for (const p of inner) {
    const d = Math.min(...pharmacies.map((q) => metresApart(p, q)));
    if (d > best) {
      best = d;
      pharmacyAt = p;
    }
  }
  expect(best).toBeGreaterThan(500);
  spots = [1, 2, 3, 4].map((k) => inner[Math.floor((k * inner.length) / 5)]);
  writeFileSync(join(dir, 'amap.csv'), amapCsv());
});

const countsLine = /^read (\d+) rows: imported (\d+), merged (\d+) with OSM facilities, rejected (\d+)$/;

function expectCountsAddUp(stdout: string, expected: [number, number, number, number]): void {
  const m = countsLine.exec(stdout.split('\n')[0]);
  expect(m, stdout).not.toBeNull();
  const [read, imported, merged, rejected] = m!.slice(1).map(Number);
  expect([read, imported, merged, rejected]).toEqual(expected);
  expect(imported + merged + rejected).toBe(read);
}

interface NearestJson {
  formats: Array<{ format: string; nearest: { id: number; name: string; minutes: number } | null }>;
}
function nearestPharmacy(regionFile: string, at: [number, number]): NearestJson['formats'][number]['nearest'] {
  const r = quarter(['nearest', '--at', c7(at), '-r', regionFile, '--json'], { cwd: dir });
  expectOk(r);
  const json = JSON.parse(r.stdout) as NearestJson;
  const f = json.formats.find((x) => x.format === 'pharmacy');
  if (!f) throw new Error('nearest lists no pharmacy entry');
  return f.nearest;
}

describe('an Amap export (UTF-8 with BOM) into the Krems region, in place', () => {
  let file: string;
  let stdout: string;

  beforeAll(() => {
    file = fresh();
    const ino = statSync(file).ino;
    const r = quarter(['import-pois', 'amap.csv', '-r', file, '--source', 'amap', '--rejected', 'out/rejected.csv'], { cwd: dir });
    expectOk(r);
    expect(r.stderr).toBe('');
    stdout = r.stdout;
    // saved by rename (a new file), not rewritten in place; nothing left behind
    expect(statSync(file).ino).not.toBe(ino);
    expect(leftoverTemps(dir)).toEqual([]);
  });

  test('prints the counts, which add up; the file, the warnings and every rejection with its line', () => {
    expectCountsAddUp(stdout, [8, 2, 1, 5]);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[1]).toBe('  amap.csv: Amap CSV (utf-8-bom), coordinates GCJ-02 → WGS-84');
    expect(lines[2]).toBe('  new facilities: 便利店 1 · 药店 1');
    expect(lines.filter((l) => l.startsWith('  rejected line '))).toEqual([
      expect.stringMatching(/^ {2}rejected line 6 \(coordinates\): outside the region: 121\.\d+, 31\.\d+ \(WGS-84\) is not in bbox/),
      expect.stringMatching(/^ {2}rejected line 7 \(coordinates\): latitude and longitude look swapped/),
      '  rejected line 8 (typecode): no format for typecode 120302',
      '  rejected line 9 (coordinates): missing coordinates',
      '  rejected line 10 (id): duplicate id B002 (first on line 3)',
    ]);
    expect(stdout).toContain('  all 5 rejections → out/rejected.csv\n');
    expect(lines.at(-1)).toBe(`  → ${file}: ${region.facilities.length + 2} facilities`);
  });

  test('the duplicate of Apotheke Mitterau (same format, 15 m away, similar name) is merged, not added', () => {
    expect(stdout).toMatch(
      new RegExp(`^ {2}merged line 3 into facility ${mitterau.id}: pharmacy "Mitterau Apotheke" is 1\\d m from existing node ${mitterau.sourceId} "Apotheke Mitterau" \\(name similarity 0\\.\\d+\\)$`, 'm'),
    );
    const after = readRegion(file);
    const mitterauNamed = (r: Region): number => r.facilities.filter((f) => /mitterau/i.test(f.name)).length;
    expect(mitterauNamed(after)).toBe(mitterauNamed(region));
  });

  test('the region file holds the new facilities, snapped, with the report and the import record updated', () => {
    const after = readRegion(file);
    const n = region.facilities.length;
    expect(after.facilities).toHaveLength(n + 2);
    expect(after.facilities.slice(0, n)).toEqual(region.facilities);
    const added = after.facilities.slice(n);
    expect(added.map((f) => [f.id, f.source, f.sourceId, f.name, f.formats])).toEqual([
      [n, 'amap', 2, '老百姓大药房(克雷姆斯店)', ['pharmacy']],
      [n + 1, 'amap', 4, '全家便利店(克雷姆斯店)', ['convenience_store']],
    ]);
    expect(added[0].tags).toMatchObject({ source: 'amap', 'ref:amap': 'B001', 'amap:typecode': '090601', opening_hours: '08:00-20:00', 'opening_hours:raw': '周一至周日 08:00-20:00' });
    expect(added[1].tags['addr:full']).toBe('Obere Landstraße\r\n3'); // a quoted cell keeps its line break as written
    expect(added[0].lon).toBeCloseTo(shift(pharmacyAt, 2, 1)[0], 6);

    const s = after.facilitySnaps;
    expect([s.edge.length, s.offset.length, s.access.length]).toEqual([n + 2, n + 2, n + 2]);
    expect(Array.from(s.edge.subarray(0, n))).toEqual(Array.from(region.facilitySnaps.edge));
    for (const id of [n, n + 1]) {
      expect(s.edge[id]).toBeGreaterThanOrEqual(0);
      expect(s.access[id]).toBeLessThan(10); // a couple of metres from a network node
      expect(after.graph.nodeComponent[after.graph.edgeFrom[s.edge[id]]]).toBe(0);
    }

    const before = region.meta.report.facilities;
    const rep = after.meta.report.facilities;
    expect(rep.total).toBe(before.total + 2);
    expect(rep.byFormat).toEqual({ ...before.byFormat, pharmacy: before.byFormat.pharmacy + 1, convenience_store: before.byFormat.convenience_store + 1 });
    expect([rep.unreachable, rep.onIslands]).toEqual([before.unreachable, before.onIslands]);
    expect(rep.accessPoints.node).toBe(before.accessPoints.node + 2);
    expect(after.meta.poiImports).toEqual([
      { file: 'amap.csv', source: 'amap', crs: 'gcj02', rowsRead: 8, imported: 2, rejected: 5, merged: 1, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    ]);
    // the rest of the region is as it was
    expect(after.graph.edgeCount).toBe(region.graph.edgeCount);
    expect(after.residences.count).toBe(region.residences.count);
    expect(after.meta.bbox).toEqual(region.meta.bbox);
  });

  test('--rejected: every rejection as CSV (UTF-8 with BOM): line, field, message', () => {
    const csv = readCsv(join(dir, 'out', 'rejected.csv'));
    expect(csv.bom).toBe(true);
    expect(csv.header).toEqual(['line', 'field', 'message']);
    expect(csv.rows.map((r) => ({ line: Number(r.line), field: r.field, message: r.message }))).toEqual(AMAP_REJECTIONS);
  });

  test('`quarter nearest` and `quarter info` see the new pharmacy', () => {
    const before = nearestPharmacy(base, pharmacyAt);
    expect(before?.name).not.toBe('老百姓大药房(克雷姆斯店)');
    const after = nearestPharmacy(file, pharmacyAt);
    expect(after).toMatchObject({ id: region.facilities.length, name: '老百姓大药房(克雷姆斯店)' });
    expect(after!.minutes).toBeLessThan(1);
    if (before) expect(after!.minutes).toBeLessThan(before.minutes);

    const info = quarter(['info', '--json', '-r', file], { cwd: dir });
    expectOk(info);
    const meta = JSON.parse(info.stdout) as { report: { facilities: { total: number } }; poiImports: unknown[] };
    expect(meta.report.facilities.total).toBe(region.facilities.length + 2);
    expect(meta.poiImports).toHaveLength(1);
  });

  test('importing the same file again adds nothing: its rows merge with the facilities imported the first time', () => {
    const r = quarter(['import-pois', 'amap.csv', '-r', file, '--source', 'amap'], { cwd: dir });
    expectOk(r);
    expectCountsAddUp(r.stdout, [8, 0, 3, 5]);
    expect(r.stdout).toMatch(new RegExp(`^ {2}merged line 2 into facility ${region.facilities.length}: pharmacy "老百姓大药房\\(克雷姆斯店\\)" is 0 m from existing amap 2 .*\\(same name\\)$`, 'm'));
    const after = readRegion(file);
    expect(after.facilities).toHaveLength(region.facilities.length + 2);
    expect(after.meta.poiImports?.map((p) => [p.imported, p.merged, p.rejected])).toEqual([
      [2, 1, 5],
      [0, 3, 5],
    ]);
  });
});

describe('a GBK file with Chinese headers, to another region file (--out)', () => {
  test('decoded as GBK (said so), names intact, the header\'s WGS-84 against the claimed GCJ-02 warned about; the input region untouched', () => {
    const input = fresh();
    const text = [
      '名称,类型,类型编码,经度(WGS84),纬度(WGS84),地址',
      `华联超市(克雷姆斯),购物服务;超级市场;超市,060400,${c7(shift(spots[1], 3, 0))},克雷姆斯市场路`,
      `象牙洗衣店,生活服务;洗衣店;洗衣店,071500,${c7(shift(spots[3], 0, 3))},"多瑙河路"`,
      '北京药房,医疗保健服务;医药保健销售店;药房,090601,116.40,39.90,北京',
      '',
    ].join('\n');
    const bytes = iconv.encode(text, 'gbk');
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow(); // really not UTF-8
    writeFileSync(join(dir, 'gbk.csv'), bytes);

    const r = quarter(['import-pois', 'gbk.csv', '-r', input, '--source', 'amap', '--out', 'gbk-out/krems.quarter'], { cwd: dir });
    expectOk(r);
    expectCountsAddUp(r.stdout, [3, 2, 0, 1]);
    expect(r.stdout).toContain('  gbk.csv: Amap CSV (gbk), coordinates GCJ-02 → WGS-84\n');
    expect(r.stdout).toContain('  warning: decoded as GBK: the file is not valid UTF-8\n');
    expect(r.stdout).toContain('  warning: the coordinate header names WGS-84, but the import was told GCJ-02\n');
    expect(r.stdout).toMatch(/^ {2}rejected line 4 \(coordinates\): outside the region: 116\.\d+, 39\.\d+ \(WGS-84\)/m);
    expect(r.stdout).toContain('  new facilities: 综合超市 1 · 洗染店 1\n');

    expect(readFileSync(input).equals(baseBytes)).toBe(true);
    const out = readRegion(join(dir, 'gbk-out', 'krems.quarter'));
    expect(out.facilities.slice(region.facilities.length).map((f) => [f.name, f.formats, f.tags['addr:full']])).toEqual([
      ['华联超市(克雷姆斯)', ['supermarket'], '克雷姆斯市场路'],
      ['象牙洗衣店', ['laundry'], '多瑙河路'],
    ]);
    expect(out.meta.poiImports).toEqual([expect.objectContaining({ file: 'gbk.csv', rowsRead: 3, imported: 2, merged: 0, rejected: 1 })]);
  });
});

describe('--json and --crs', () => {
  test('--json: the counts, every merge and rejection with its line, the warnings; nothing else on stdout', () => {
    const file = fresh();
    const r = quarter(['import-pois', 'amap.csv', '-r', file, '--source', 'amap', '--json'], { cwd: dir });
    expectOk(r);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout) as Record<string, unknown> & {
      rowsRead: number; imported: number; merged: number; rejected: number;
      merges: Array<{ line: number; osmFacilityId: number; reason: string }>;
      rejections: unknown[];
      newFacilities: { firstId: number; count: number; byFormat: Record<string, number>; unreachableLines: number[]; islandLines: number[] };
    };
    expect(j).toMatchObject({ file: 'amap.csv', source: 'amap', format: 'csv', encoding: 'utf-8-bom', crs: 'gcj02', out: file });
    expect([j.rowsRead, j.imported, j.merged, j.rejected]).toEqual([8, 2, 1, 5]);
    expect(j.imported + j.merged + j.rejected).toBe(j.rowsRead);
    expect(j.merges).toEqual([{ line: 3, osmFacilityId: mitterau.id, reason: expect.stringContaining('"Apotheke Mitterau"') }]);
    expect(j.rejections).toEqual(AMAP_REJECTIONS);
    expect(j.newFacilities).toEqual({
      firstId: region.facilities.length,
      count: 2,
      byFormat: { pharmacy: 1, convenience_store: 1 },
      unreachableLines: [],
      islandLines: [],
    });
    expect(j.facilities).toBe(region.facilities.length + 2);
    expect(j.rejectedFile).toBeNull();
    expect(readRegion(file).facilities).toHaveLength(region.facilities.length + 2);
  });

  test('--crs auto: outside China the three systems coincide, so WGS-84, and the output says how it chose', () => {
    const file = fresh();
    const r = quarter(['import-pois', 'amap.csv', '-r', file, '--source', 'amap', '--crs', 'auto'], { cwd: dir });
    expectOk(r);
    expectCountsAddUp(r.stdout, [8, 2, 1, 5]);
    expect(r.stdout).toContain('coordinates WGS-84 → WGS-84');
    expect(r.stdout).toMatch(/^ {2}warning: coordinates taken as WGS-84 \(median distance to the network WGS-84 \d+ m, GCJ-02 \d+ m, BD-09 \d+ m\)$/m);
    expect(readRegion(file).meta.poiImports?.[0].crs).toBe('wgs84');
  });

  test('more than ten rejections: the first ten on screen, the rest counted and pointed to --rejected', () => {
    const file = fresh();
    const rows = ['名称,typecode,经度,纬度', `好邻居便利店,060200,${c7(shift(spots[0], 2, 2))}`];
    for (let k = 0; k < 12; k++) rows.push(`坏行${k},060200,abc,48.4`);
    writeFileSync(join(dir, 'many-bad.csv'), rows.join('\n') + '\n');
    const r = quarter(['import-pois', 'many-bad.csv', '-r', file, '--source', 'amap'], { cwd: dir });
    expectOk(r);
    expectCountsAddUp(r.stdout, [13, 1, 0, 12]);
    const shown = r.stdout.split('\n').filter((l) => l.startsWith('  rejected line '));
    expect(shown).toEqual(Array.from({ length: 10 }, (_, k) => `  rejected line ${k + 3} (lon): longitude "abc" is not a number`));
    expect(r.stdout).toContain('  … and 2 more rejected rows (write them all with --rejected <file.csv>)\n');
  });

  test('a row beyond the snap limit is imported, marked unreachable and reported by line', () => {
    const file = fresh();
    // inside the bbox but far from every way: the corner of the bbox that is farthest from the network
    const [w, s, e, n] = region.meta.bbox;
    const corners: Array<[number, number]> = [[w, s], [w, n], [e, s], [e, n]];
    const g = region.graph;
    let far: [number, number] = corners[0];
    let farD = -1;
    for (const c of corners) {
      let d = Infinity;
      for (let u = 0; u < g.nodeCount; u++) d = Math.min(d, metresApart(c, [g.nodeCoords[2 * u], g.nodeCoords[2 * u + 1]]));
      if (d > farD) {
        farD = d;
        far = c;
      }
    }
    expect(farD).toBeGreaterThan(400);
    const inside = shift(far, far[0] === w ? 1 : -1, far[1] === s ? 1 : -1);
    writeFileSync(join(dir, 'far.csv'), `名称,typecode,经度,纬度\n远郊药房,090601,${c7(inside)}\n`);
    const r = quarter(['import-pois', 'far.csv', '-r', file, '--source', 'amap', '--crs', 'wgs84'], { cwd: dir });
    expectOk(r);
    expectCountsAddUp(r.stdout, [1, 1, 0, 0]);
    expect(r.stdout).toContain('  1 new facility is more than 300 m from any walkable way (line 2): kept, marked unreachable\n');
    const after = readRegion(file);
    expect(after.facilitySnaps.edge[region.facilities.length]).toBe(-1);
    expect(after.meta.report.facilities.unreachable).toBe(region.meta.report.facilities.unreachable + 1);
  });
});

describe.concurrent('failures: exit code, one line on stderr, the region byte-identical', () => {
  beforeAll(() => {
    writeFileSync(
      join(dir, 'all-bad.csv'),
      `\uFEFF名称,typecode,经度,纬度\n上海便利店,060200,121.44,31.19\n无坐标便利店,060200,,\n小区,120302,${c7(spots[0])}\n`,
    );
    writeFileSync(join(dir, 'a-file'), 'not a directory');
  });

  test.each<[string, (f: string) => string[], number, RegExp]>([
    ['all rows rejected', (f) => ['all-bad.csv', '-r', f, '--source', 'amap'], EXIT.input,
      /^quarter: all-bad\.csv: all 3 rows rejected \(first: line 2, coordinates: outside the region: .*\); region not changed$/],
    ['a POI file that does not exist', (f) => ['no-such.csv', '-r', f, '--source', 'amap'], EXIT.input, /^quarter: no-such\.csv: cannot read/],
    ['an unterminated quote', (f) => [join(ROOT, 'test/fixtures/pois/unterminated-quote.csv'), '-r', f, '--source', 'amap'], EXIT.input, /unterminated-quote\.csv: line 3: /],
    ['a header and no rows', (f) => [join(ROOT, 'test/fixtures/pois/header-only.csv'), '-r', f, '--source', 'amap'], EXIT.input, /header-only\.csv: no data rows below the header; region not changed/],
    ['an empty file', (f) => [join(ROOT, 'test/fixtures/pois/empty.csv'), '-r', f, '--source', 'amap'], EXIT.input, /empty\.csv: the file is empty/],
    ['--source google', (f) => ['amap.csv', '-r', f, '--source', 'google'], EXIT.usage, /--source: "google" is not a POI source; use amap \(高德\) or baidu \(百度\)/],
    ['--crs mars', (f) => ['amap.csv', '-r', f, '--source', 'amap', '--crs', 'mars'], EXIT.usage, /--crs: "mars" is not a coordinate system/],
    ['--rejected onto the region file', (f) => ['amap.csv', '-r', f, '--source', 'amap', '--rejected', f], EXIT.usage, /--rejected: .* is the region file/],
    ['--out under a file', (f) => ['amap.csv', '-r', f, '--source', 'amap', '--out', 'a-file/krems.quarter'], EXIT.output, /^quarter: a-file: cannot create directory/],
    ['--rejected under a file', (f) => ['amap.csv', '-r', f, '--source', 'amap', '--rejected', 'a-file/r.csv'], EXIT.output, /^quarter: a-file: cannot create directory/],
  ])('%s', async (_name, args, code, message) => {
    const file = fresh();
    const before = sha(file);
    expectFailure(await quarterAsync(['import-pois', ...args(file)], { cwd: dir }), code, message);
    expect(sha(file)).toBe(before);
    expect(leftoverTemps(dir)).toEqual([]);
  });

  test('all rows rejected with --rejected: the rejections are written, the region is not', async () => {
    const file = fresh();
    const before = sha(file);
    const r = await quarterAsync(['import-pois', 'all-bad.csv', '-r', file, '--source', 'amap', '--rejected', 'all-bad-rejected.csv'], { cwd: dir });
    expectFailure(r, EXIT.input, /all 3 rows rejected .*; region not changed; every rejection is in all-bad-rejected\.csv$/);
    expect(sha(file)).toBe(before);
    expect(readCsv(join(dir, 'all-bad-rejected.csv')).rows).toEqual([
      { line: '2', field: 'coordinates', message: expect.stringMatching(/^outside the region: /) },
      { line: '3', field: 'coordinates', message: 'missing coordinates' },
      { line: '4', field: 'typecode', message: 'no format for typecode 120302' },
    ]);
  });

  test('no region file: exit 3, nothing created', async () => {
    const r = await quarterAsync(['import-pois', 'amap.csv', '-r', 'missing.quarter', '--source', 'amap'], { cwd: dir });
    expectFailure(r, EXIT.input, /^quarter: missing\.quarter: no such region file/);
    expect(existsSync(join(dir, 'missing.quarter'))).toBe(false);
  });

  test('--source defaults to amap (GCJ-02)', async () => {
    const file = fresh();
    const before = sha(file);
    const r = await quarterAsync(['import-pois', 'amap.csv', '-r', file, '-o', join(dir, 'default-source.quarter')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Amap|高德/);
    expect(sha(file)).toBe(before);
  });
});

describe('addFacilities (the library call behind the command)', () => {
  test('a new region: ids continue, snaps as snapPreferMain gives them, counts and record updated; the input untouched', () => {
    const input = readRegion(base);
    const edge = Int32Array.from(input.facilitySnaps.edge);
    const offset = Float32Array.from(input.facilitySnaps.offset);
    const access = Float32Array.from(input.facilitySnaps.access);
    const metaJson = JSON.stringify(input.meta);
    const n = input.facilities.length;
    const [w, s] = input.meta.bbox;
    const mk = (id: number, name: string, formats: string[], at: [number, number]): Facility => ({
      id, source: 'baidu', sourceId: id, formats, name, lon: at[0], lat: at[1], accessPoint: 'node', tags: { source: 'baidu' },
    });
    // ids as the caller had them (wrong on purpose): renumbered to continue the region's
    const fresh = [mk(0, '药店甲', ['pharmacy'], shift(spots[0], 3, 3)), mk(7, '远处的店', ['pharmacy', 'convenience_store'], [w, s])];
    const record = { file: 'x.csv', source: 'baidu' as const, crs: 'bd09' as const, rowsRead: 3, imported: 2, rejected: 1, merged: 0, at: '2025-01-01T00:00:00.000Z' };
    const out = addFacilities(input, fresh, 300, { poiImport: record });

    expect(out).not.toBe(input);
    expect(out.facilities.map((f) => f.id)).toEqual(Array.from({ length: n + 2 }, (_, k) => k));
    expect(fresh.map((f) => f.id)).toEqual([0, 7]); // the caller's objects are not renumbered in place
    const index = buildSnapIndex(input.graph);
    const near = snapPreferMain(index, fresh[0].lon, fresh[0].lat, 300)!;
    expect([out.facilitySnaps.edge[n], out.facilitySnaps.offset[n], out.facilitySnaps.access[n]]).toEqual([
      near.edge, Math.fround(near.offset), Math.fround(near.distance),
    ]);
    expect(snapPreferMain(index, w, s, 300)).toBeNull();
    expect([out.facilitySnaps.edge[n + 1], out.facilitySnaps.offset[n + 1], out.facilitySnaps.access[n + 1]]).toEqual([-1, 0, 0]);
    const before = input.meta.report.facilities;
    expect(out.meta.report.facilities).toMatchObject({
      total: before.total + 2,
      unreachable: before.unreachable + 1,
      onIslands: before.onIslands,
      byFormat: { ...before.byFormat, pharmacy: before.byFormat.pharmacy + 2, convenience_store: before.byFormat.convenience_store + 1 },
    });
    expect(out.meta.poiImports).toEqual([record]);
    expect(addFacilities(out, [], 300, { poiImport: record }).meta.poiImports).toEqual([record, record]);

    // the input region, its typed arrays and its meta are as they were
    expect(input.facilities).toHaveLength(n);
    expect(input.facilitySnaps.edge).toEqual(edge);
    expect(input.facilitySnaps.offset).toEqual(offset);
    expect(input.facilitySnaps.access).toEqual(access);
    expect(JSON.stringify(input.meta)).toBe(metaJson);
    expect(out.graph).toBe(input.graph); // shared, not copied
  });
});
