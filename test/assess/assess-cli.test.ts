/** `quarter assess` end to end on Krems: summary, assessment.json, --explain, and its failures. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { importRegion } from '../../src/region/import-region.js';
import { writeRegion } from '../../src/region/region-file.js';
import { EXIT, expectFailure, expectOk, KREMS_PBF, leftoverTemps, quarter, scratch } from '../cli/helpers.js';

const dir = scratch('assess');
const regionFile = join(dir, 'krems.quarter');
writeRegion(regionFile, await importRegion(KREMS_PBF, { name: 'Krems' }));
const run = (...args: string[]) => quarter(['assess', '-r', regionFile, ...args], { cwd: dir });

const zones = join(dir, 'zones.geojson');
writeFileSync(
  zones,
  JSON.stringify({
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        properties: { 名称: 'Altstadt' },
        geometry: { type: 'Polygon', coordinates: [[[15.59, 48.405], [15.62, 48.405], [15.62, 48.42], [15.59, 48.42], [15.59, 48.405]]] },
      },
      {
        type: 'Feature',
        properties: { name: 'Bow' },
        geometry: { type: 'Polygon', coordinates: [[[15.62, 48.4], [15.66, 48.44], [15.66, 48.4], [15.62, 48.44], [15.62, 48.4]]] },
      },
    ],
  }),
);

describe('quarter assess', () => {
  test('summary, assessment.json and an explained home', () => {
    const out = join(dir, 'out');
    const r = run('--profile', 'mofcom-2021', '--population', '24000', '--zones', zones, '--at', 'Mo 07:00', '--out', out, '--explain', '15.6001,48.4098');
    expectOk(r);
    expect(r.stdout).toMatch(/assessment of Krems against mofcom-2021/);
    expect(r.stdout).toMatch(/24,000 residents/);
    expect(r.stdout).toMatch(/药店 Pharmacy +8 min +\d+\.\d %/);
    expect(r.stdout).toMatch(/Altstadt: \d+ homes/);
    expect(r.stdout).toMatch(/warning: .*feature 2 \(Bow\): outer ring self-intersects/);
    expect(r.stdout).toMatch(/^ {2}药店：.*步行 [\d.]+ 分钟/m);
    expect(r.stdout).toMatch(/^ {2}Pharmacy: /m);
    expect(r.stdout).toMatch(/© OpenStreetMap contributors/);
    const file = join(out, 'assessment.json');
    expect(existsSync(file)).toBe(true);
    expect(leftoverTemps(out)).toEqual([]);
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      kind: string;
      residences: { count: number; formats: string[]; minutes: (number | null)[]; lon: number[] };
      zones: Array<{ kind: string; name: string }>;
      headline: { population: number; openingHours: { open: number; closed: number; unknown: number } };
      settings: { at: string; h3Resolutions: number[] };
    };
    expect(json.kind).toBe('quarter-assessment');
    expect(json.residences.minutes).toHaveLength(json.residences.count * json.residences.formats.length);
    expect(json.residences.lon).toHaveLength(json.residences.count);
    expect(Math.round(json.headline.population)).toBe(24000);
    expect(json.settings).toMatchObject({ at: 'Mo 07:00', h3Resolutions: [9, 10] });
    expect(json.headline.openingHours.closed).toBeGreaterThan(0);
    expect(json.zones.filter((z) => z.kind === 'zone').map((z) => z.name)).toEqual(['Altstadt', 'Bow']);
    expect(json.zones.some((z) => z.kind === 'h3')).toBe(true);
  });

  test('--json prints a summary on stdout only', () => {
    const r = run('--profile', 'gb50180-2018', '--json', '--h3', 'none');
    expectOk(r);
    const s = JSON.parse(r.stdout) as { profile: { id: string }; zones: unknown[]; h3Cells: Record<string, number>; headline: { residences: number } };
    expect(s.profile.id).toBe('gb50180-2018');
    expect(s.zones).toHaveLength(1);
    expect(s.h3Cells).toEqual({});
    expect(s.headline.residences).toBeGreaterThan(900);
  });

  test('bad flags: exit 2 naming the flag; unknown profile lists the known', () => {
    expectFailure(run(), EXIT.usage, /--profile: required; known profiles: .*mofcom-2021/);
    expectFailure(run('--profile', 'mofcom'), EXIT.usage, /--profile: unknown standards profile "mofcom" \(known: .*mofcom-2021.*\).*did you mean "mofcom-2021"/);
    expectFailure(run('--profile', 'mofcom-2021', '--population', 'many'), EXIT.usage, /--population: "many" is not a number/);
    expectFailure(run('--profile', 'mofcom-2021', '--elderly-share', '20'), EXIT.usage, /--elderly-share: 20 is not a share/);
    expectFailure(run('--profile', 'mofcom-2021', '--at', 'someday'), EXIT.usage, /--at: cannot read the moment "someday"/);
    expectFailure(run('--profile', 'mofcom-2021', '--h3', '9,x'), EXIT.usage, /--h3: "x" is not a number/);
    expectFailure(run('--profile', 'mofcom-2021', '--explain', '48.4098,15.6001'), EXIT.usage, /--explain .* looks swapped/);
  });

  test('zone file errors: exit 3 with the file and the feature number; no home near --explain: exit 4', () => {
    const bad = join(dir, 'bad.geojson');
    writeFileSync(
      bad,
      JSON.stringify({
        type: 'FeatureCollection',
        features: [
          { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[15.6, 48.4], [15.7, 48.4], [15.7, 48.5], [15.6, 48.4]]] } },
          { type: 'Feature', properties: { name: 'Pt' }, geometry: { type: 'Point', coordinates: [15.6, 48.4] } },
        ],
      }),
    );
    expectFailure(run('--profile', 'mofcom-2021', '--zones', bad), EXIT.input, /bad\.geojson: feature 2 \(Pt\) has geometry type Point/);
    expectFailure(run('--profile', 'mofcom-2021', '--zones', join(dir, 'missing.geojson')), EXIT.input, /missing\.geojson: cannot read the zones file/);
    const noPop = join(dir, 'nopop.geojson');
    const doc = JSON.parse(readFileSync(zones, 'utf8')) as { features: Array<{ properties: Record<string, unknown> }> };
    doc.features[0].properties['人口'] = 1000;
    writeFileSync(noPop, JSON.stringify(doc));
    expectFailure(run('--profile', 'mofcom-2021', '--zones', noPop), EXIT.input, /nopop\.geojson: feature 2 \(Bow\): no population/);
    expectFailure(run('--profile', 'mofcom-2021', '--explain', '16.5,48.4'), EXIT.noResult, /--explain 16\.5,48\.4: no home within 300 m/);
  });
});
