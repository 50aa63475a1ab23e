/**
 * Every bad input fails with its exit code (2 usage, 3 input, 4 no result, 5 output) and one
 * line on stderr that names the flag or the file; nothing half-written is left behind.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { EXIT, KREMS_PBF, expectFailure, expectOk, leftoverTemps, quarter, quarterAsync, scratch } from './helpers.js';

const dir = scratch('errors');
const region = join(dir, 'krems.quarter');
const CENTRE = '15.6001,48.4098';
// async, so the tables below can run their cases side by side (describe.concurrent)
const run = (args: string[]) => quarterAsync(args, { cwd: dir, region });
/** every network command gets a dead local endpoint: these tests must never reach the internet */
const NO_NET = ['--endpoint', 'http://127.0.0.1:9/api/interpreter'];

beforeAll(() => {
  expectOk(quarter(['import', KREMS_PBF, '-o', region], { cwd: dir }));
});

describe.concurrent('usage errors: exit 2, naming the flag', () => {
  test.each<[string, string[], RegExp]>([
    ['--minutes abc', ['isochrone', '--at', CENTRE, '--minutes', 'abc'], /--minutes: "abc" is not a number/],
    ['--minutes 5,,10', ['isochrone', '--at', CENTRE, '--minutes', '5,,10'], /--minutes/],
    ['--minutes 0', ['isochrone', '--at', CENTRE, '--minutes', '0'], /--minutes: 0 is out of range/],
    ['--cell abc', ['isochrone', '--at', CENTRE, '--cell', 'abc'], /--cell: "abc" is not a number/],
    ['--max-minutes -3', ['nearest', '--at', CENTRE, '--max-minutes', '-3'], /--max-minutes: -3 is out of range/],
    ['--max-minutes 1e9', ['nearest', '--at', CENTRE, '--max-minutes', '1e9'], /--max-minutes: .* out of range/],
    ['access --max-minutes x', ['access', '--format', 'pharmacy', '--max-minutes', 'x'], /--max-minutes: "x" is not a number/],
    ['--at 1,2,3', ['nearest', '--at', '1,2,3'], /--at: expected "lon,lat".*"1,2,3"/],
    ['--at abc', ['nearest', '--at', 'abc'], /--at: expected "lon,lat"/],
    ['--at x,48', ['nearest', '--at', 'x,48'], /--at longitude: "x" is not a number/],
    ['--at lat,lon (swapped, inside the data when swapped)', ['nearest', '--at', '48.4098,15.6001'], /--at 48\.4098,15\.6001 looks swapped: write lon,lat \(15\.6001,48\.4098\)/],
    ['--at lat,lon (latitude out of range)', ['isochrone', '--at', '15.6,148'], /--at: latitude 148 is out of range; did you swap them/],
    ['--at 200,10', ['nearest', '--at', '200,10'], /--at longitude: 200 is out of range/],
    ['--format unknown', ['access', '--format', 'no_such_format'], /--format: unknown format "no_such_format"/],
    ['isochrone --facilities unknown', ['isochrone', '--facilities', 'no_such_format'], /--format: unknown format "no_such_format"/],
    ['--profile unknown (nearest)', ['nearest', '--at', CENTRE, '--profile', 'jogger'], /--profile: unknown walking profile "jogger"/],
    ['--profile unknown (access)', ['access', '--format', 'pharmacy', '--profile', 'jogger'], /--profile: unknown walking profile "jogger"/],
    ['--profile unknown (export)', ['export', '-o', 'never', '--profile', 'jogger'], /--profile: unknown walking profile "jogger"/],
    ['isochrone without an origin', ['isochrone'], /isochrone: give --at lon,lat or --facilities/],
    ['--snap-limit xyz', ['import', KREMS_PBF, '-o', 'never.quarter', '--snap-limit', 'xyz'], /--snap-limit: expected a distance .*"xyz"/],
    ['--snap-limit 0', ['import', KREMS_PBF, '-o', 'never.quarter', '--snap-limit', '0'], /--snap-limit: 0 m is out of range/],
    ['--bbox w > e', ['fetch', '--bbox', '15.7,48.3,15.5,48.4', '-o', 'never.osm', ...NO_NET], /--bbox: west must be < east/],
    ['--bbox s > n', ['fetch', '--bbox', '15.5,48.4,15.7,48.3', '-o', 'never.osm', ...NO_NET], /--bbox: .*south < north/],
    ['--bbox 3 numbers', ['fetch', '--bbox', '15.5,48.3,15.7', '-o', 'never.osm', ...NO_NET], /--bbox: expected "west,south,east,north"/],
    ['--bbox not numbers', ['fetch', '--bbox', 'a,b,c,d', '-o', 'never.osm', ...NO_NET], /--bbox west: "a" is not a number/],
    ['fetch without an area', ['fetch', '-o', 'never.osm', ...NO_NET], /fetch: give exactly one of --bbox or --boundary/],
    ['--endpoint not a URL', ['fetch', '--bbox', '15.5,48.3,15.7,48.4', '-o', 'never.osm', '--endpoint', 'not a url'], /--endpoint: "not a url" is not a URL/],
    ['--timeout 0', ['fetch', '--bbox', '15.5,48.3,15.7,48.4', '-o', 'never.osm', '--timeout', '0', ...NO_NET], /--timeout: 0 is out of range/],
  ])('%s', async (_name, args, message) => {
    expectFailure(await run(args), EXIT.usage, message);
    expect(existsSync(join(dir, 'never'))).toBe(false);
    expect(existsSync(join(dir, 'never.quarter'))).toBe(false);
    expect(existsSync(join(dir, 'never.osm'))).toBe(false);
  });

  test.each<[string, string[], RegExp]>([
    ['unknown command', ['frobnicate'], /^error: unknown command 'frobnicate'/],
    ['unknown option', ['nearest', '--at', CENTRE, '--snap-limit', '10'], /^error: unknown option '--snap-limit'/],
    ['missing --at', ['nearest'], /^error: required option '--at <lon,lat>' not specified/],
    ['missing argument', ['import'], /^error: missing required argument 'osm-file'/],
  ])('commander: %s', async (_name, args, message) => {
    const r = await run(args);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});

describe.concurrent('no result: exit 4', () => {
  test('--at outside the data', async () => {
    expectFailure(await run(['nearest', '--at', '10,10']), EXIT.noResult, /--at 10,10 is outside the data of region "krems" \(lon 15\.\d+…15\.\d+, lat 48\.\d+…48\.\d+\)/);
    expectFailure(await run(['isochrone', '--at', '16.5,47.5']), EXIT.noResult, /--at 16\.5,47\.5 is outside the data/);
  });

  test('a format the taxonomy knows but the region lacks', async () => {
    const info = JSON.parse((await run(['info', '--json'])).stdout) as { report: { facilities: { byFormat: Record<string, number> } } };
    const missing = Object.entries(info.report.facilities.byFormat).find(([, n]) => n === 0)?.[0];
    expect(missing).toBeDefined();
    expectFailure(await run(['access', '--format', missing as string]), EXIT.noResult, new RegExp(`--format: region "krems" has no facility of format "${missing}"`));
  });
});

describe.concurrent('region file errors: exit 3, naming the file', () => {
  const good = () => readFileSync(region);

  test('missing region file (flag and environment)', async () => {
    expectFailure(await run(['nearest', '--at', CENTRE, '-r', 'missing.quarter']), EXIT.input, /^quarter: missing\.quarter: no such region file/);
    const viaEnv = await quarterAsync(['info'], { cwd: dir, region: join(dir, 'gone.quarter') });
    expectFailure(viaEnv, EXIT.input, /gone\.quarter: no such region file/);
  });

  test('no region anywhere: points at the demo region and how to make one', async () => {
    const empty = join(dir, 'empty-cwd');
    mkdirSync(empty, { recursive: true });
    expectFailure(await quarterAsync(['info'], { cwd: empty }), EXIT.input, /out\/demo\.quarter: no such region file \(run `npm start` or `quarter import/);
  });

  test('one flipped byte: checksum mismatch', async () => {
    const b = good();
    for (const at of [20, Math.floor(b.length / 2), b.length - 10]) {
      const f = join(dir, `flip-${at}.quarter`);
      const c = Buffer.from(b);
      c[at] ^= 0x40;
      writeFileSync(f, c);
      expectFailure(await run(['info', '-r', f]), EXIT.input, new RegExp(`flip-${at}\\.quarter: checksum mismatch`));
    }
  });

  test('truncated file', async () => {
    const b = good();
    for (const cut of [Math.floor(b.length / 2), b.length - 1, 24]) {
      const f = join(dir, `cut-${cut}.quarter`);
      writeFileSync(f, b.subarray(0, cut));
      expectFailure(await run(['nearest', '--at', CENTRE, '-r', f]), EXIT.input, new RegExp(`cut-${cut}\\.quarter: checksum mismatch: the file is truncated or corrupted`));
    }
  });

  test('not a region file at all, too short, empty', async () => {
    const cases: Array<[string, Buffer | string]> = [
      ['text.quarter', 'hello, this is a shopping list and not a region file at all\n'],
      ['pbf.quarter', readFileSync(KREMS_PBF)],
      ['short.quarter', 'QUARTER\0'],
      ['empty.quarter', ''],
    ];
    for (const [name, data] of cases) {
      writeFileSync(join(dir, name), data);
      expectFailure(await run(['info', '-r', name]), EXIT.input, new RegExp(`${name.replace('.', '\\.')}: not a Quarter region file`));
    }
  });

  test('a region file from another format version', async () => {
    const c = Buffer.from(good());
    c.writeUInt32LE(99, 8);
    writeFileSync(join(dir, 'v99.quarter'), c);
    expectFailure(await run(['info', '-r', 'v99.quarter']), EXIT.input, /v99\.quarter: region file version 99 is not supported .*re-import/);
  });

  test('a directory given as region file', async () => {
    mkdirSync(join(dir, 'adir.quarter'), { recursive: true });
    expectFailure(await run(['info', '-r', 'adir.quarter']), EXIT.input, /adir\.quarter: /);
  });
});

describe.concurrent('OSM input errors: exit 3, naming the file, and no region file written', () => {
  const outDir = join(dir, 'imports');
  beforeAll(() => mkdirSync(outDir, { recursive: true }));
  const importInto = async (input: string, name: string) => {
    const r = await quarterAsync(['import', input, '-o', join('imports', name)], { cwd: dir });
    expect(existsSync(join(outDir, name))).toBe(false);
    expect(leftoverTemps(outDir)).toEqual([]);
    return r;
  };

  test('PBF cut at half', async () => {
    const pbf = readFileSync(KREMS_PBF);
    writeFileSync(join(dir, 'half.osm.pbf'), pbf.subarray(0, Math.floor(pbf.length / 2)));
    expectFailure(await importInto('half.osm.pbf', 'half.quarter'), EXIT.input, /^quarter: half\.osm\.pbf: truncated/);
    expect(readdirSync(outDir)).toEqual([]);
  });

  test('XML that is not OSM', async () => {
    writeFileSync(join(dir, 'page.osm'), '<?xml version="1.0"?>\n<html><body><p>Not found</p></body></html>\n');
    expectFailure(await importInto('page.osm', 'page.quarter'), EXIT.input, /page\.osm: line \d+, column \d+: root element is <html>, expected <osm>/);
  });

  test('broken XML', async () => {
    writeFileSync(join(dir, 'broken.osm'), '<?xml version="1.0"?>\n<osm version="0.6">\n<node id="1" lat="48.4" lon="15.6">\n</osm>\n');
    expectFailure(await importInto('broken.osm', 'broken.quarter'), EXIT.input, /broken\.osm: line \d+/);
  });

  test('empty file', async () => {
    writeFileSync(join(dir, 'empty.osm.pbf'), '');
    expectFailure(await importInto('empty.osm.pbf', 'empty.quarter'), EXIT.input, /empty\.osm\.pbf: file is empty/);
  });

  test('binary that is no OSM format', async () => {
    writeFileSync(join(dir, 'random.osm.pbf'), Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]));
    expectFailure(await importInto('random.osm.pbf', 'random.quarter'), EXIT.input, /random\.osm\.pbf: not an OSM file .*first bytes: de ad be ef/);
  });

  test('an OSM file with no walkable ways: a clear error', async () => {
    writeFileSync(join(dir, 'one-node.osm'), '<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="48.4" lon="15.6"><tag k="amenity" v="pharmacy"/></node></osm>\n');
    expectFailure(await importInto('one-node.osm', 'one-node.quarter'), EXIT.input, /one-node\.osm: no walkable ways found \(read 0 ways\)/);
  });

  test('missing input and a directory as input', async () => {
    expectFailure(await importInto('nothing-here.osm.pbf', 'nothing.quarter'), EXIT.input, /nothing-here\.osm\.pbf: .*(ENOENT|no such file)/);
    mkdirSync(join(dir, 'a-dir.osm'), { recursive: true });
    expectFailure(await importInto('a-dir.osm', 'a-dir.quarter'), EXIT.input, /a-dir\.osm: /);
  });
});

describe('output errors: exit 5, naming the path', () => {
  // Tests run as root, so a chmod 555 directory would not stop them: a regular file where a
  // directory should be fails for everyone (ENOTDIR / EEXIST).
  beforeAll(() => writeFileSync(join(dir, 'plain-file'), 'I am a file, not a directory\n'));

  test.each<[string, string[]]>([
    ['import -o', ['import', KREMS_PBF, '-o', 'plain-file/x.quarter']],
    ['import -o (deeper)', ['import', KREMS_PBF, '-o', 'plain-file/sub/x.quarter']],
    ['export -o', ['export', '-o', 'plain-file/csv']],
    ['access -o', ['access', '--format', 'pharmacy', '-o', 'plain-file/pharmacy.csv']],
    ['isochrone -o', ['isochrone', '--at', CENTRE, '-o', 'plain-file/iso.geojson']],
    ['fetch -o', ['fetch', '--bbox', '15.5,48.3,15.7,48.4', '-o', 'plain-file/x.osm', ...NO_NET]],
  ])('%s under a regular file', async (_name, args) => {
    const before = readFileSync(join(dir, 'plain-file'), 'utf8');
    expectFailure(await run(args), EXIT.output, /^quarter: plain-file(\/sub|\/csv)?: cannot create directory/);
    expect(readFileSync(join(dir, 'plain-file'), 'utf8')).toBe(before);
    expect(leftoverTemps(dir)).toEqual([]);
  });

  test('an output path that is a directory', async () => {
    mkdirSync(join(dir, 'taken.csv'), { recursive: true });
    expectFailure(await run(['access', '--format', 'pharmacy', '-o', 'taken.csv']), EXIT.output, /^quarter: taken\.csv: cannot write \(/);
    expect(leftoverTemps(dir)).toEqual([]);
  });

  test('output into a directory that does not exist yet is created', async () => {
    expectOk(await run(['access', '--format', 'pharmacy', '-o', 'new/dir/pharmacy.csv']));
    expect(existsSync(join(dir, 'new', 'dir', 'pharmacy.csv'))).toBe(true);
  });
});

describe('atomic re-import', () => {
  test('a failing re-import leaves the existing region file byte-identical', async () => {
    const target = join(dir, 'keep', 'krems.quarter');
    mkdirSync(join(dir, 'keep'), { recursive: true });
    copyFileSync(region, target);
    const before = readFileSync(target);
    const pbf = readFileSync(KREMS_PBF);
    writeFileSync(join(dir, 'cut.osm.pbf'), pbf.subarray(0, pbf.length - 1000));
    expectFailure(quarter(['import', 'cut.osm.pbf', '-o', 'keep/krems.quarter'], { cwd: dir }), EXIT.input, /cut\.osm\.pbf: truncated/);
    expect(readFileSync(target).equals(before)).toBe(true);
    expect(readdirSync(join(dir, 'keep'))).toEqual(['krems.quarter']);
    // and the kept file still works
    expectOk(quarter(['info', '-r', 'keep/krems.quarter'], { cwd: dir }));
  });
});
