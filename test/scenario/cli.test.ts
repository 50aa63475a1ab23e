/**
 * `quarter scenario …` end to end on Krems with a real SQLite database: create, edit (every
 * flag), evaluate (summary, --json, --out .json/.geojson/.csv), list, show, delete, and the
 * failures scripts rely on (exit code, one line naming the flag/file/edit, nothing saved).
 *
 * Runs the built CLI. Until `scenario` is registered in src/cli/main.ts the same command is run
 * through a launcher written here that registers it on a bare commander program and maps errors
 * to exit codes as main.ts does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { assess } from '../../src/assess/assess.js';
import { importRegion } from '../../src/region/import-region.js';
import { writeRegion } from '../../src/region/region-file.js';
import { CLI, EXIT, expectFailure, expectOk, KREMS_PBF, parseCsv, ROOT, scratch, type CliResult } from '../cli/helpers.js';

const dir = scratch('scenario');
const regionFile = join(dir, 'krems.quarter');
const region = await importRegion(KREMS_PBF, { name: 'Krems' });
writeRegion(regionFile, region);
const db = join(dir, 'scenarios.db');

const registered = /^\s+scenario\b/m.test(spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout);
const launcher = join(dir, 'launch-scenario.mjs');
if (!registered) {
  const cliDir = dirname(CLI);
  const url = (p: string) => JSON.stringify(pathToFileURL(join(cliDir, p)).href);
  writeFileSync(
    launcher,
    `import { createRequire } from 'node:module';
const { Command, CommanderError } = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('commander');
const { registerScenario } = await import(${url('commands/scenario.js')});
const { CliError } = await import(${url('errors.js')});
const { OutputFileError } = await import(${url('../io/atomic-file.js')});
const program = new Command().name('quarter').exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
registerScenario(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else {
    const code = err instanceof CliError ? err.exitCode : err instanceof OutputFileError ? 5 : 1;
    process.stderr.write('quarter: ' + (code === 1 ? 'internal error: ' : '') + String(err?.message ?? err).split('\\n')[0] + '\\n');
    process.exitCode = code;
  }
}
`,
  );
}
const entry = registered ? CLI : launcher;
const env = { ...process.env };
delete env.QUARTER_REGION;
delete env.QUARTER_DB;
delete env.QUARTER_DEBUG;

function sc(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [entry, 'scenario', ...args], { cwd: dir, env, encoding: 'utf8', timeout: 55000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
function scAsync(...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, 'scenario', ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
const R = ['-r', regionFile, '--db', db];
const show = (name: string) => {
  const r = sc('show', name, '--db', db, '--json');
  expectOk(r);
  return JSON.parse(r.stdout) as { id: number; version: number; edits: Array<Record<string, unknown>>; description: string; region: string };
};

// the home farthest from any pharmacy (finite): where a new one matters
const t = region.residences;
const base = assess(region, { profile: 'mofcom-2021', h3Resolutions: [] }).residences;
const PH = base.formats.indexOf('pharmacy');
let far = 0;
for (let r = 0; r < t.count; r++) {
  const v = base.minutes[r * base.formats.length + PH];
  if (Number.isFinite(v) && v > base.minutes[far * base.formats.length + PH]) far = r;
}
const p0 = t.gateOffsets[far];
const at = `${t.gateCoords[2 * p0].toFixed(6)},${t.gateCoords[2 * p0 + 1].toFixed(6)}`;
const g = region.graph;
const nodeAt = (u: number) => `${g.nodeCoords[2 * u].toFixed(7)},${g.nodeCoords[2 * u + 1].toFixed(7)}`;
let busyNode = 0;
for (let u = 0; u < g.nodeCount; u++) if (g.arcOffsets[u + 1] - g.arcOffsets[u] > g.arcOffsets[busyNode + 1] - g.arcOffsets[busyNode]) busyNode = u;

describe('quarter scenario', () => {
  test(`create, edit with every flag, show (${registered ? 'registered command' : 'through the launcher'})`, () => {
    let r = sc('create', 'north', ...R, '--description', '药店补点');
    expectOk(r);
    expect(r.stdout).toMatch(/created scenario 已创建方案 "north" for region Krems with 0 edits \(version 1\)/);
    expectFailure(sc('create', 'north', ...R), EXIT.usage, /a scenario named "north" already exists for region Krems/);

    r = sc('edit', 'north', ...R, '--add-facility', `pharmacy@${at}:新药店`, '--add-facility', `药店,supermarket@${at}`);
    expectOk(r);
    expect(r.stdout).toMatch(/2 edits \(version 2\)/);
    let s = show('north');
    expect(s.edits).toEqual([
      { id: 'add-1', type: 'add_facility', formats: ['pharmacy'], name: '新药店', lon: Number(at.split(',')[0]), lat: Number(at.split(',')[1]) },
      { id: 'add-2', type: 'add_facility', formats: ['pharmacy', 'supermarket'], name: '新增 药店/综合超市', lon: Number(at.split(',')[0]), lat: Number(at.split(',')[1]) },
    ]);

    r = sc('edit', 'north', ...R, '--move-facility', `add-2@${nodeAt(busyNode)}`, '--remove-facility', '0', '--close-gate', nodeAt(busyNode), '--close-link', `way:${g.edgeWayId[0]}`);
    expectOk(r);
    r = sc('edit', 'north', ...R, '--add-link', `${nodeAt(g.edgeFrom[5])};${nodeAt(g.edgeTo[7])}`, '--link-kind', 'crossing', '--drop-edit', 'add-1');
    expectOk(r);
    s = show('north');
    expect(s.version).toBe(4);
    expect(s.edits.map((e) => [e.id, e.type])).toEqual([
      ['add-2', 'add_facility'],
      ['move-1', 'move_facility'],
      ['remove-1', 'remove_facility'],
      ['close-1', 'close_link'],
      ['gate-1', 'close_gate'],
      ['link-1', 'add_link'],
    ]);
    expect(s.edits[1].facility).toEqual({ added: 'add-2' });
    expect(s.edits[2].facility).toEqual({ base: 0 });
    expect(s.edits[3].way).toBe(g.edgeWayId[0]);
    expect(s.edits[5].kind).toBe('crossing');
    const text = sc('show', 'north', '--db', db);
    expectOk(text);
    expect(text.stdout).toMatch(/\[link-1\] add crossing 新增通道/);
    expect(text.stdout).toMatch(/6 edits/);
  }, 180_000);

  test('bad flags name the flag and the field; nothing is saved', () => {
    const v = show('north').version;
    expectFailure(sc('edit', 'north', ...R, '--add-facility', `pharmcy@${at}`), EXIT.usage, /--add-facility "pharmcy@.*": unknown format "pharmcy"; did you mean "pharmacy"/);
    expectFailure(sc('edit', 'north', ...R, '--add-facility', 'pharmacy@15.6,91'), EXIT.usage, /--add-facility: latitude 91 is out of range/);
    expectFailure(sc('edit', 'north', ...R, '--add-facility', 'pharmacy@15.0,48.41'), EXIT.usage, /--add-facility "pharmacy@15.0,48.41": field "lon": 15,48.41 is \d+ m from the nearest walkable way .*limit 300 m.*nothing saved/);
    expectFailure(sc('edit', 'north', ...R, '--add-facility', 'pharmacy@48.41,15.6'), EXIT.usage, /latitude|swapped/);
    expectFailure(sc('edit', 'north', ...R, '--move-facility', `add-9@${at}`), EXIT.usage, /--move-facility "add-9@.*": field "facility.added": no add_facility edit has id "add-9"/);
    expectFailure(sc('edit', 'north', ...R, '--remove-facility', '0'), EXIT.usage, /--remove-facility "0": field "facility": facility 0 was removed by edits\[2\]/);
    expectFailure(sc('edit', 'north', ...R, '--remove-facility', '99999'), EXIT.usage, /field "facility.base": facility 99999 is not in the region/);
    expectFailure(sc('edit', 'north', ...R, '--close-link', 'way:1'), EXIT.usage, /--close-link "way:1": field "way": way 1 is not part of the region's walking network/);
    expectFailure(sc('edit', 'north', ...R, '--add-link', '15.6,48.41'), EXIT.usage, /expected "lon,lat;lon,lat"/);
    expect(show('north').version).toBe(v);
  }, 180_000);

  test('bad files, drops and names; nothing is saved', () => {
    const v = show('north').version;
    expectFailure(sc('edit', 'north', ...R, '--drop-edit', 'add-2'), EXIT.input, /stored edits\[\d\]: field "facility.added": no add_facility edit has id "add-2" \(after dropping add-2\); nothing saved/);
    expectFailure(sc('edit', 'north', ...R, '--drop-edit', 'nope'), EXIT.usage, /--drop-edit: scenario "north" has no edit "nope" \(edits: add-2, move-1/);
    expectFailure(sc('edit', 'north', ...R), EXIT.usage, /nothing to do/);
    const file = join(dir, 'bad-edits.json');
    writeFileSync(file, JSON.stringify([{ id: 'x1', type: 'add_facility', formats: ['pharmacy'], name: 'ok', lon: 15.6, lat: 48.41 }, { id: 'x2', type: 'close_gate', at: [15.6, '48.41'] }]));
    expectFailure(sc('edit', 'north', ...R, '--edits', file), EXIT.input, /bad-edits\.json: edits\[1\] \(close_gate "x2"\): field "at\[1\]": must be a number, got a string/);
    writeFileSync(file, '{ not json');
    expectFailure(sc('edit', 'north', ...R, '--edits', file), EXIT.input, /bad-edits\.json: not valid JSON/);
    expectFailure(sc('edit', 'north', ...R, '--edits', join(dir, 'missing.json')), EXIT.input, /missing\.json: cannot read the edits: ENOENT/);
    expect(show('north').version).toBe(v);
  }, 180_000);

  test('unknown scenarios, hostile names, a missing database', () => {
    expectFailure(sc('edit', 'nope', ...R, '--close-gate', at), EXIT.usage, /no scenario "nope" for region Krems.*north/);
    expectFailure(sc('create', 'bad\nname', ...R), EXIT.usage, /scenario name contains a control/);
    expectFailure(sc('show', 'north', '--db', join(dir, 'none.db')), EXIT.input, /none\.db: no scenario database here yet/);
  }, 180_000);

  test('create from a plan and an edits file; list; delete', () => {
    const plan = join(dir, 'plan.geojson');
    const [lon, lat] = at.split(',').map(Number);
    writeFileSync(
      plan,
      JSON.stringify({
        type: 'FeatureCollection',
        features: [
          { type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties: { role: 'chosen', formats: ['pharmacy'], name: '规划药店' } },
          { type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties: { role: 'candidate', formats: ['pharmacy'], name: 'not chosen' } },
        ],
      }),
    );
    const edits = join(dir, 'edits.json');
    writeFileSync(edits, JSON.stringify({ edits: [{ id: 'g1', type: 'close_gate', at: [g.nodeCoords[2 * busyNode], g.nodeCoords[2 * busyNode + 1]] }] }));
    expectOk(sc('create', 'planned', ...R, '--from-plan', plan, '--edits', edits));
    expect(show('planned').edits.map((e) => e.id)).toEqual(['plan-1', 'g1']);
    const list = sc('list', '--db', db, '--json');
    expectOk(list);
    expect((JSON.parse(list.stdout) as Array<{ name: string; edits: number }>).map((x) => [x.name, x.edits])).toEqual([
      ['north', 6],
      ['planned', 2],
    ]);
    const text = sc('list', '--db', db);
    expect(text.stdout).toMatch(/2 scenarios 方案/);
    expectOk(sc('delete', 'planned', '--db', db));
    expectFailure(sc('show', 'planned', '--db', db), EXIT.usage, /no scenario "planned"/);
  }, 180_000);

  test('concurrent edits: each succeeds or fails with a conflict, none is lost', async () => {
    expectOk(sc('create', 'race', ...R));
    const [lon, lat] = at.split(',').map(Number);
    const runs = await Promise.all(Array.from({ length: 5 }, (_, i) => scAsync('edit', 'race', ...R, '--add-facility', `pharmacy@${(lon + i * 1e-5).toFixed(6)},${lat}:P${i}`)));
    let ok = 0;
    for (const r of runs) {
      if (r.code === 0) ok++;
      else expectFailure(r, EXIT.output, /scenario "race" was saved by someone else while you edited it \(now version \d+, you read \d+\): nothing written/);
    }
    console.log(`concurrent scenario edits: ${ok} saved, ${runs.length - ok} refused with a version conflict`);
    const s = show('race');
    expect(s.edits).toHaveLength(ok);
    expect(s.version).toBe(1 + ok);
    expect(ok).toBeGreaterThan(0);
  }, 180_000);

  test('evaluate: summary, --json, and --out .json / .geojson / .csv agreeing with each other', () => {
    expectOk(sc('create', 'one', ...R));
    expectOk(sc('edit', 'one', ...R, '--add-facility', `pharmacy@${at}:新药店`));
    const r = sc('evaluate', 'one', ...R, '--h3', '9');
    expectOk(r);
    expect(r.stdout).toMatch(/scenario 方案 "one" · region Krems · profile mofcom-2021/);
    expect(r.stdout).toMatch(/药店 Pharmacy\s+8 min\s+[\d.]+ % →\s+[\d.]+ %\s+\+[\d.]+ pt\s+\+[\d,]+ residents 居民 gain 获得 · −0 lose 失去/);
    expect(r.stdout).toMatch(/© OpenStreetMap contributors/);
    const j = sc('evaluate', 'one', ...R, '--json', '--h3', 'none');
    expectOk(j);
    const ev = JSON.parse(j.stdout) as { coverage: Array<{ format: string; before: number; after: number; gained: { residences: number; population: number } }>; scenario: { networkChanged: boolean } };
    const ph = ev.coverage.find((c) => c.format === 'pharmacy')!;
    expect(ph.after).toBeGreaterThan(ph.before);
    expect(ph.gained.residences).toBeGreaterThan(0);
    expect(ev.scenario.networkChanged).toBe(false);
    for (const c of ev.coverage) if (c.format !== 'pharmacy') expect(c.after).toBe(c.before);

    const outJson = join(dir, 'ev.json');
    const outGeo = join(dir, 'ev.geojson');
    const outCsv = join(dir, 'ev.csv');
    for (const f of [outJson, outGeo, outCsv]) expectOk(sc('evaluate', 'one', ...R, '--h3', 'none', '--out', f));
    const full = JSON.parse(readFileSync(outJson, 'utf8')) as { coverage: Array<{ format: string; gained: { indices: number[] } }>; changed: { residences: number } };
    const gainedIdx = full.coverage.find((c) => c.format === 'pharmacy')!.gained.indices;
    expect(gainedIdx).toHaveLength(ph.gained.residences);
    const geo = JSON.parse(readFileSync(outGeo, 'utf8')) as { type: string; features: Array<{ properties: { residence: number; gained: string[] } }> };
    expect(geo.type).toBe('FeatureCollection');
    expect(geo.features).toHaveLength(full.changed.residences);
    // every home that gains pharmacy access walks ≥ 1 min less, so it is in the changed area
    const inArea = new Set(geo.features.filter((f) => f.properties.gained.includes('pharmacy')).map((f) => f.properties.residence));
    expect([...inArea].sort((a, b) => a - b)).toEqual([...gainedIdx].sort((a, b) => a - b));
    const csv = parseCsv(readFileSync(outCsv, 'utf8').replace(/^\uFEFF/, ''));
    const head = csv[0];
    const row = csv.find((x) => x[head.indexOf('zone_id')] === 'region' && x[head.indexOf('format')] === 'pharmacy')!;
    expect(Number(row[head.indexOf('gained_residences')])).toBe(ph.gained.residences);
    expect(Math.abs(Number(row[head.indexOf('coverage_after')]) - ph.after)).toBeLessThan(1e-6);

    expectFailure(sc('evaluate', 'one', ...R, '--out', join(dir, 'ev.txt')), EXIT.usage, /--out: ".*ev\.txt" must end in \.json, \.geojson or \.csv/);
    expectFailure(sc('evaluate', 'one', ...R, '--profile', 'nope'), EXIT.usage, /--profile: unknown standards profile/);
  }, 180_000);
});
