/** `quarter import` of the Krems extract, then `info`, `formats` and `export` agree with its report. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { KREMS_PBF, ROOT, expectOk, leftoverTemps, quarter, readCsv, scratch } from './helpers.js';

interface Meta {
  name: string;
  source: { file: string; format: string; bytes: number; sha256: string };
  attribution: string;
  bbox: [number, number, number, number];
  snapLimitMetres: number;
  report: {
    osm: { nodesRead: number; waysRead: number; relationsRead: number; walkableWays: number };
    islands: { count: number; largestNodes: number; otherSizes: number[] };
    facilities: { total: number; byFormat: Record<string, number>; unreachable: number; onIslands: number };
    warnings: string[];
  };
}

const PROFILES: Array<{ id: string; speedMps: number; stepsFactor: number }> = JSON.parse(
  readFileSync(join(ROOT, 'data', 'profiles', 'walking.json'), 'utf8'),
);
const profile = (id: string): { speedMps: number; stepsFactor: number } => {
  const p = PROFILES.find((x) => x.id === id);
  if (!p) throw new Error(`no walking profile ${id}`);
  return p;
};

const dir = scratch('import');
const regionFile = join(dir, 'r', 'krems.quarter');
let imported: { out: string; seconds: number; meta: Meta };
let info: Meta & { nodes: number; edges: number; loadMs: number };

beforeAll(() => {
  const r = quarter(['import', KREMS_PBF, '-o', 'r/krems.quarter', '--json'], { cwd: dir });
  expectOk(r);
  expect(r.stderr).toBe(''); // no progress bar when stderr is not a terminal
  imported = JSON.parse(r.stdout);
  const i = quarter(['info', '--json'], { cwd: dir, region: regionFile });
  expectOk(i);
  info = JSON.parse(i.stdout);
});

describe('import', () => {
  test('writes a region file with the report of what it read', () => {
    expect(imported.out).toBe('r/krems.quarter');
    expect(imported.seconds).toBeGreaterThan(0);
    const bytes = readFileSync(regionFile);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('QUARTER\0');
    expect(leftoverTemps(join(dir, 'r'))).toEqual([]);

    const m = imported.meta;
    const pbf = readFileSync(KREMS_PBF);
    expect(m.source).toEqual({ file: 'krems.osm.pbf', format: 'pbf', bytes: pbf.length, sha256: createHash('sha256').update(pbf).digest('hex') });
    expect(m.name).toBe('krems');
    expect(m.attribution).toBe('© OpenStreetMap contributors');
    expect(m.snapLimitMetres).toBe(300);
    // data/krems/SOURCE.md: 15,042 nodes, 2,402 ways, 73 relations; bbox 15.5532503–15.8582212, 48.3687127–48.4455284
    expect(m.report.osm).toMatchObject({ nodesRead: 15042, waysRead: 2402, relationsRead: 73 });
    const [w, s, e, n] = m.bbox;
    expect(w).toBeGreaterThanOrEqual(15.5532503);
    expect(e).toBeLessThanOrEqual(15.8582212);
    expect(s).toBeGreaterThanOrEqual(48.3687127);
    expect(n).toBeLessThanOrEqual(48.4455284);
    expect(w < e && s < n).toBe(true);
    const byFormat = m.report.facilities.byFormat;
    expect(m.report.facilities.total).toBeGreaterThan(50);
    expect(Object.values(byFormat).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(m.report.facilities.total);
    expect(byFormat.pharmacy).toBeGreaterThan(0);
  });

  test('the text summary names the output and the counts; the default output is out/<name>.quarter', () => {
    const r = quarter(['import', KREMS_PBF], { cwd: dir });
    expectOk(r);
    expect(existsSync(join(dir, 'out', 'krems.quarter'))).toBe(true);
    expect(r.stdout).toMatch(/^imported krems\.osm\.pbf \(pbf\) in \d+\.\d\d s → out\/krems\.quarter$/m);
    const net = /network: (\d+) nodes, (\d+) edges from (\d+) walkable ways; (\d+) islands/.exec(r.stdout);
    expect(net).not.toBeNull();
    const [, nodes, edges, ways, islands] = (net as RegExpExecArray).map(Number);
    expect({ nodes, edges, ways, islands }).toEqual({
      nodes: info.nodes,
      edges: info.edges,
      ways: imported.meta.report.osm.walkableWays,
      islands: imported.meta.report.islands.count,
    });
    expect(r.stdout).toMatch(new RegExp(`facilities: ${imported.meta.report.facilities.total} \\(`));
    expect(r.stdout).toContain('© OpenStreetMap contributors');
  });
});

describe('info', () => {
  test('--json is the import report plus graph counts and the load time', () => {
    const { nodes, edges, loadMs, ...meta } = info;
    expect(meta).toEqual(imported.meta);
    const isl = imported.meta.report.islands;
    expect(isl.otherSizes.length).toBe(isl.count); // few islands: every size listed
    expect(nodes).toBe(isl.largestNodes + isl.otherSizes.reduce((a, b) => a + b, 0));
    expect(edges).toBeGreaterThanOrEqual(nodes - 1 - isl.count);
    expect(typeof loadMs).toBe('number');
    expect(loadMs).toBeGreaterThanOrEqual(0);
    expect(loadMs).toBeLessThan(5000);
  });

  test('text output reports counts and the load time; --region overrides QUARTER_REGION', () => {
    const r = quarter(['info', '--region', regionFile], { cwd: dir, region: join(dir, 'nowhere.quarter') });
    expectOk(r);
    expect(r.stdout).toContain(`network: ${info.nodes} nodes, ${info.edges} edges`);
    expect(r.stdout).toMatch(/loaded in \d+\.\d ms/);
    expect(r.stdout).not.toContain(' in 0.00 s');
  });
});

describe('formats', () => {
  test('--json lists the taxonomy with the counts of the region', () => {
    const r = quarter(['formats', '--json'], { cwd: dir, region: regionFile });
    expectOk(r);
    const rows: Array<{ id: string; name: { 'zh-CN': string; en: string }; count: number | null }> = JSON.parse(r.stdout);
    const byFormat = imported.meta.report.facilities.byFormat;
    expect(rows.map((f) => f.id).sort()).toEqual(Object.keys(byFormat).sort());
    expect(new Set(rows.map((f) => f.id)).size).toBe(rows.length);
    for (const f of rows) {
      expect(f.count, f.id).toBe(byFormat[f.id]);
      expect(f.name['zh-CN'].length).toBeGreaterThan(0);
      expect(f.name.en.length).toBeGreaterThan(0);
    }
  });

  test('without a region file the counts are null, not an error', () => {
    const r = quarter(['formats', '--json'], { cwd: dir, region: join(dir, 'nowhere.quarter') });
    expectOk(r);
    const rows: Array<{ count: number | null }> = JSON.parse(r.stdout);
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.every((f) => f.count === null)).toBe(true);
  });

  test('text output has one line per format plus a header', () => {
    const r = quarter(['formats', '-r', regionFile], { cwd: dir });
    expectOk(r);
    const rows = JSON.parse(quarter(['formats', '--json'], { cwd: dir }).stdout) as unknown[];
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(rows.length + 1);
  });
});

describe('export', () => {
  const out = join(dir, 'export');
  let counts: { out: string; profile: string; nodes: number; edges: number; facilityRows: number };
  beforeAll(() => {
    const r = quarter(['export', '-o', 'export', '--json'], { cwd: dir, region: regionFile });
    expectOk(r);
    counts = JSON.parse(r.stdout);
  });

  test('writes nodes.csv, edges.csv, facilities.csv with their headers, BOM and CRLF', () => {
    expect(counts).toEqual({ out: 'export', profile: 'default', nodes: info.nodes, edges: info.edges, facilityRows: counts.facilityRows });
    expect(leftoverTemps(out)).toEqual([]);
    const expected: Record<string, string[]> = {
      'nodes.csv': ['node', 'lon', 'lat', 'osm_id', 'component'],
      'edges.csv': ['from', 'to', 'seconds', 'length_m', 'osm_way_id', 'class'],
      'facilities.csv': ['facility', 'format', 'name', 'lon', 'lat', 'access_point', 'edge', 'from_node', 'to_node', 'seconds_to_from', 'seconds_to_to', 'access_m'],
    };
    for (const [file, header] of Object.entries(expected)) {
      const t = readCsv(join(out, file));
      expect(t.header, file).toEqual(header);
      expect(t.bom, file).toBe(true);
      expect(t.crlf, file).toBe(true);
    }
  });

  test('row counts: every node, every edge, one row per facility × format', () => {
    const nodes = readCsv(join(out, 'nodes.csv')).rows;
    const edges = readCsv(join(out, 'edges.csv')).rows;
    const fac = readCsv(join(out, 'facilities.csv')).rows;
    expect(nodes).toHaveLength(info.nodes);
    expect(edges).toHaveLength(info.edges);
    const byFormat = imported.meta.report.facilities.byFormat;
    expect(fac).toHaveLength(Object.values(byFormat).reduce((a, b) => a + b, 0));
    expect(fac).toHaveLength(counts.facilityRows);
    const seen: Record<string, number> = {};
    for (const f of fac) seen[f.format] = (seen[f.format] ?? 0) + 1;
    for (const [fmt, n] of Object.entries(byFormat)) expect(seen[fmt] ?? 0, fmt).toBe(n);
    expect(new Set(fac.map((f) => f.facility)).size).toBe(imported.meta.report.facilities.total);

    const isl = imported.meta.report.islands;
    expect(nodes.filter((n) => n.component === '0')).toHaveLength(isl.largestNodes);
    for (const e of edges) {
      const a = Number(e.from);
      const b = Number(e.to);
      expect(Number.isInteger(a) && a >= 0 && a < info.nodes && Number.isInteger(b) && b >= 0 && b < info.nodes).toBe(true);
      expect(Number(e.length_m)).toBeGreaterThanOrEqual(0);
    }
    const unreachable = fac.filter((f) => f.edge === '');
    expect(new Set(unreachable.map((f) => f.facility)).size).toBe(imported.meta.report.facilities.unreachable);
    const { speedMps } = profile('default');
    for (const f of fac) {
      if (f.edge === '') continue;
      const leg = Number(f.access_m) / speedMps;
      // the access leg is part of the way to either end of the snapped edge
      expect(Number(f.seconds_to_from)).toBeGreaterThanOrEqual(leg - 0.002);
      expect(Number(f.seconds_to_to)).toBeGreaterThanOrEqual(leg - 0.002);
      const e = edges[Number(f.edge)];
      expect([e.from, e.to]).toEqual([f.from_node, f.to_node]);
      // to one end plus to the other = the whole edge + the access leg twice
      expect(Math.abs(Number(f.seconds_to_from) + Number(f.seconds_to_to) - Number(e.seconds) - 2 * leg)).toBeLessThan(0.005);
    }
  });

  test('seconds follow the walking profile: length ÷ speed, × stepsFactor on steps', () => {
    const { speedMps, stepsFactor } = profile('elderly');
    const r = quarter(['export', '-o', 'export-elderly', '--profile', 'elderly', '--json'], { cwd: dir, region: regionFile });
    expectOk(r);
    expect(JSON.parse(r.stdout)).toMatchObject({ profile: 'elderly', nodes: info.nodes, edges: info.edges });
    const edges = readCsv(join(dir, 'export-elderly', 'edges.csv')).rows;
    for (const e of edges) {
      const factor = e.class === 'steps' ? stepsFactor : 1;
      expect(Math.abs(Number(e.seconds) - (Number(e.length_m) / speedMps) * factor)).toBeLessThan(0.01);
    }
  });

  test('text output names the counts and the directory', () => {
    const r = quarter(['export', '-o', 'export-text'], { cwd: dir, region: regionFile });
    expectOk(r);
    expect(r.stdout).toContain(`exported ${info.nodes} nodes, ${info.edges} edges, ${counts.facilityRows} facility rows (default profile) → export-text/`);
    expect(statSync(join(dir, 'export-text', 'nodes.csv')).size).toBeGreaterThan(0);
  });
});
