/**
 * Residences from a hand-made layout (test/fixtures/residences/layout.ts): floor areas,
 * levels, compounds and their gates, the landuse-only residence, population split.
 * Expected numbers are worked out by hand from the rectangles' sizes in metres.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readOsm } from '../../src/ingest/read-osm.js';
import {
  ACCESS_CENTROID,
  ACCESS_ENTRANCE,
  ACCESS_GATE,
  accessPointsOf,
  attachCompoundGates,
  buildResidences,
  concatResidenceTables,
  isResidentialFeature,
  KIND_BUILDING,
  loadResidenceDefaults,
  validateResidenceDefaults,
  KIND_LANDUSE,
  LEVELS_DEFAULT,
  LEVELS_FROM_HEIGHT,
  LEVELS_TAGGED,
  parseCompoundList,
  parseHeight,
  parseLevels,
  residentialRole,
  type ResidenceBuild,
} from '../../src/ingest/residences/index.js';
import { layoutFeatures, layoutOsmXml, toLat, toLon } from '../fixtures/residences/layout.js';

/** |a − b| within a relative 1e-5 (the projections of the fixture and the code differ by ~1e-6). */
const near = (a: number, b: number, rel = 1e-5) => expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.abs(b) * rel + 1e-9);

/** Round numbers for hand checks: 25 m² per person, 300 residents per hectare. */
const OVERRIDES = { floorAreaPerPerson: 25, landuseDensityPerHectare: 300 };

const row = (b: ResidenceBuild, name: string) => {
  const i = b.table.names.indexOf(name);
  if (i < 0) throw new Error(`no residence named ${name}: ${b.table.names.join(', ')}`);
  return i;
};

describe('isResidentialFeature', () => {
  test.each([
    [{ building: 'apartments' }, 'home'],
    [{ building: 'residential', shop: 'convenience' }, 'home'], // 底商: shops below, flats above
    [{ building: 'commercial', 'building:use': 'residential' }, 'home'],
    [{ building: 'yes' }, 'candidate'],
    [{ building: 'yes', shop: 'bakery' }, null],
    [{ building: 'yes', 'building:use': 'commercial' }, null],
    [{ building: 'school' }, null],
    [{ building: 'garage' }, null],
    [{ building: 'no', landuse: 'residential' }, 'compound'],
    [{ landuse: 'residential' }, 'compound'],
    [{ landuse: 'industrial' }, 'mask'],
    [{ amenity: 'school' }, 'mask'],
    [{ place: 'neighbourhood' }, null],
    [{ amenity: 'pharmacy' }, null],
  ])('%o → %s', (tags, role) => {
    expect(residentialRole(tags)).toBe(role);
    expect(isResidentialFeature(tags)).toBe(role !== null);
  });

  test('levels and height values', () => {
    expect(parseLevels('6')).toBe(6);
    expect(parseLevels('5;6')).toBe(5);
    expect(parseLevels('5-6')).toBe(5);
    expect(parseLevels('2,5')).toBe(2.5);
    expect(parseLevels('0')).toBeNaN();
    expect(parseLevels('many')).toBeNaN();
    expect(parseHeight('18 m')).toBe(18);
    expect(parseHeight('18')).toBe(18);
    expect(parseHeight('60 ft')).toBeNaN();
  });
});

describe('buildResidences on the layout (cn profile)', () => {
  const b = buildResidences(layoutFeatures(), { profile: 'cn', profileOverrides: OVERRIDES });
  const t = b.table;

  test('which residences', () => {
    // A, B, C in the compound; D outside; the empty 空地 area. Not: the shed (25 m² < 30),
    // E (building=yes outside residential landuse: cn drops it), F (a supermarket), G (industrial).
    expect([...t.names].sort()).toEqual(['A', 'B', 'C', '天平路 1', '空地']);
    expect(b.stats.candidates).toEqual({ seen: 4, kept: 1, inMask: 1, tooSmall: 1, tooLarge: 0, outsideResidentialLanduse: 1 });
    expect(b.stats.homeBuildings).toEqual({ seen: 3, kept: 3 });
    expect(b.stats.ignored).toBe(1); // F
    expect(b.stats.masks).toBe(1);
  });

  test('floor area = footprint × levels', () => {
    const expectRow = (name: string, footprint: number, levels: number, source: number) => {
      const i = row(b, name);
      near(t.footprint[i], footprint);
      expect(t.levels[i]).toBe(levels);
      expect(t.levelsSource[i]).toBe(source);
      near(t.floorArea[i], footprint * levels);
      expect(t.kind[i]).toBe(KIND_BUILDING);
    };
    expectRow('A', 400, 6, LEVELS_TAGGED); // 2400 m²
    expectRow('B', 300, 6, LEVELS_DEFAULT); // cn: building=yes in a 小区 → 6 levels → 1800 m²
    expectRow('C', 300, 11, LEVELS_TAGGED); // 3300 m²
    expectRow('天平路 1', 100, 3, LEVELS_DEFAULT); // cn house → 3 levels → 300 m²
    expect(b.stats.levels).toEqual({ tagged: 2, fromHeight: 0, default: 2 });
  });

  test('population prior: floor area / 25 m², the empty area 1 ha × 300', () => {
    near(t.population[row(b, 'A')], 96);
    near(t.population[row(b, 'B')], 72);
    near(t.population[row(b, 'C')], 132);
    const l = row(b, '空地');
    expect(t.kind[l]).toBe(KIND_LANDUSE);
    near(t.footprint[l], 10000);
    near(t.population[l], 300);
    near(t.floorArea[l], 7500); // 300 people × 25 m²: weighs like the buildings it stands for
    near(t.elderly[l], 300 * 0.2061);
    near(b.stats.floorAreaM2, 2400 + 1800 + 3300 + 300 + 7500);
  });

  test('residents of the compound walk out through its two gates', () => {
    const gates: Array<[number, number]> = [
      [toLon(50), toLat(0)],
      [toLon(100), toLat(40)],
    ];
    for (const name of ['A', 'B', 'C']) {
      const i = row(b, name);
      expect(t.accessKind[i]).toBe(ACCESS_GATE);
      expect(accessPointsOf(t, i)).toEqual(gates);
      expect(b.compounds[t.compound[i]].name).toBe('康乐小区');
    }
    const d = row(b, '天平路 1');
    expect(t.accessKind[d]).toBe(ACCESS_ENTRANCE);
    expect(accessPointsOf(t, d)).toEqual([[toLon(5), toLat(-40)]]);
    expect(t.compound[d]).toBe(-1);
    const l = row(b, '空地');
    expect(t.accessKind[l]).toBe(ACCESS_CENTROID);
    expect(accessPointsOf(t, l)).toEqual([[toLon(250), toLat(50)]]);
    expect(b.stats.access).toEqual({ gate: 3, entrance: 1, centroid: 1 });
    expect(t.gateOffsets.length).toBe(t.count + 1);
    expect(t.gateOffsets[t.count]).toBe(t.gateCoords.length / 2);
  });

  test('compounds', () => {
    const k = b.compounds.find((c) => c.name === '康乐小区')!;
    expect(k).toMatchObject({ sourceType: 'way', sourceId: 100, gates: 2, buildings: 3, gatesUsed: true, residence: -1 });
    near(k.areaM2, 8000);
    const e = b.compounds.find((c) => c.name === '空地')!;
    expect(e).toMatchObject({ gates: 0, buildings: 0, gatesUsed: false });
    expect(t.names[e.residence]).toBe('空地');
    expect(b.stats.compounds).toEqual({ total: 2, withBuildings: 1, withoutBuildings: 1, withGates: 1, tooLargeForGates: 0, nearbyGates: 0 });
  });
});

describe('buildResidences on the layout (generic profile)', () => {
  const b = buildResidences(layoutFeatures(), { profile: 'generic', profileOverrides: OVERRIDES });
  const t = b.table;
  test('building=yes outside residential landuse is kept, but not inside an industrial area', () => {
    expect([...t.names].sort()).toEqual(['A', 'B', 'C', 'E', '天平路 1', '空地']);
    expect(b.stats.candidates).toEqual({ seen: 4, kept: 2, inMask: 1, tooSmall: 1, tooLarge: 0, outsideResidentialLanduse: 0 });
    near(t.floorArea[row(b, 'E')], 400 * 2); // generic building=yes: 2 levels
    near(t.floorArea[row(b, 'B')], 300 * 2); // no 小区 override in generic
    expect(t.accessKind[row(b, 'E')]).toBe(ACCESS_CENTROID);
  });

  test('the profile follows the place when not given', () => {
    expect(buildResidences(layoutFeatures()).stats.profile).toBe('cn');
    const moved = layoutFeatures().map((f) => ({ ...f, lon: f.lon - 105, lat: f.lat + 17 }));
    expect(buildResidences(moved).stats.profile).toBe('generic');
  });
});

describe('rules', () => {
  test('cn with no residential landuse at all keeps building=yes, and says so', () => {
    const f = layoutFeatures((tags) => tags.landuse !== 'residential');
    const b = buildResidences(f, { profile: 'cn' });
    expect(b.table.names).toContain('E');
    expect(b.stats.warnings.join('\n')).toMatch(/no residential landuse/);
  });

  test('levels from height; a node building gets the assumed footprint', () => {
    const b = buildResidences(
      [
        { type: 'way', id: 1, tags: { building: 'apartments', height: '59' }, ...square(0, 0, 20) },
        { type: 'node', id: 2, tags: { building: 'house' }, lon: toLon(500), lat: toLat(500), rings: [], entrances: new Float64Array(0) },
      ],
      { profile: 'cn' },
    );
    expect(b.table.levels[0]).toBe(20); // round(59 / 3)
    expect(b.table.levelsSource[0]).toBe(LEVELS_FROM_HEIGHT);
    near(b.table.footprint[1], 100);
    expect(b.stats.footprintAssumed).toBe(1);
  });

  test('a compound larger than 50 ha does not force its gates on residents', () => {
    const big = { type: 'way' as const, id: 9, tags: { landuse: 'residential' }, ...square(0, 0, 1000) };
    big.entrances = Float64Array.from([toLon(500), toLat(0), toLon(0), toLat(500)]);
    const house = { type: 'way' as const, id: 10, tags: { building: 'apartments' }, ...square(100, 100, 20) };
    const b = buildResidences([big, house], { profile: 'cn' });
    expect(b.table.accessKind[0]).toBe(ACCESS_CENTROID);
    expect(b.stats.compounds.tooLargeForGates).toBe(1);
    expect(b.stats.warnings.join('\n')).toMatch(/larger than 50 ha/);
  });

  test('a gate near the outline (wall drawn separately) is a compound gate; a door or a far gate is not', () => {
    const node = (id: number, x: number, y: number, tags: Record<string, string>) => ({
      type: 'node' as const,
      id,
      tags,
      lon: toLon(x),
      lat: toLat(y),
      rings: [],
      entrances: new Float64Array(0),
    });
    const walled = { type: 'way' as const, id: 1, tags: { landuse: 'residential', name: '围墙小区' }, ...square(0, 0, 100) };
    const next = { type: 'way' as const, id: 2, tags: { landuse: 'residential', name: '隔壁' }, ...square(0, 110, 100) };
    const house = { type: 'way' as const, id: 3, tags: { building: 'apartments' }, ...square(40, 40, 20) };
    const features = [
      walled,
      next,
      house,
      node(10, 50, -5, { barrier: 'gate' }), // 5 m south of 围墙小区: its gate
      node(11, 20, 104, { barrier: 'lift_gate' }), // 4 m from 围墙小区, 6 m from 隔壁: 围墙小区's
      node(12, 80, -3, { entrance: 'yes' }), // a door: not a gate (not kept as a gate at all)
      node(13, 50, -40, { barrier: 'gate' }), // 40 m away: nobody's
    ];
    expect(isResidentialFeature(features[5].tags)).toBe(false);
    const b = buildResidences(features, { profile: 'cn' });
    const i = b.table.sourceId.indexOf(3);
    expect(b.table.accessKind[i]).toBe(ACCESS_GATE);
    expect(accessPointsOf(b.table, i)).toEqual([
      [toLon(50), toLat(-5)],
      [toLon(20), toLat(104)],
    ]);
    expect(b.compounds[0]).toMatchObject({ name: '围墙小区', gates: 2, nearbyGates: 2, gatesUsed: true });
    expect(b.compounds[1]).toMatchObject({ name: '隔壁', gates: 0, nearbyGates: 0 });
    expect(b.stats.gateNodes).toBe(3);
    expect(b.stats.compounds.nearbyGates).toBe(2);
  });

  test("a user's 小区 list takes the gates of the OSM compound its points lie in", () => {
    const osm = buildResidences(layoutFeatures(), { profile: 'cn' });
    const list = parseCompoundList(
      Buffer.from(`小区名称,人口,经度,纬度\n康乐小区,2000,${toLon(30)},${toLat(50)}\n空地新村,300,${toLon(250)},${toLat(50)}\n`),
      'list.csv',
    ).table;
    const { table, attached } = attachCompoundGates(list, osm);
    expect(attached).toBe(1); // 空地 has no gates: its row keeps its own point
    expect(table.accessKind[0]).toBe(ACCESS_GATE);
    expect(accessPointsOf(table, 0)).toEqual([
      [toLon(50), toLat(0)],
      [toLon(100), toLat(40)],
    ]);
    expect(osm.compounds[table.compound[0]].name).toBe('康乐小区');
    expect(table.population[0]).toBe(2000);
    expect(table.accessKind[1]).toBe(ACCESS_CENTROID);
    expect(accessPointsOf(table, 1)).toEqual([[toLon(250), toLat(50)]]);
  });

  test('concatenation keeps access points aligned', () => {
    const a = buildResidences(layoutFeatures(), { profile: 'cn' }).table;
    const c = concatResidenceTables([a, a]);
    expect(c.count).toBe(2 * a.count);
    for (let i = 0; i < a.count; i++) expect(accessPointsOf(c, a.count + i)).toEqual(accessPointsOf(a, i));
  });
});

describe('through readOsm', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'quarter-residences-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('the layout as an .osm file gives the same residences, gates found on the outline', async () => {
    const file = join(tmp, 'layout.osm');
    writeFileSync(file, layoutOsmXml());
    const osm = await readOsm(file, { keepFeature: isResidentialFeature });
    // F (a supermarket) is not kept by the predicate; node 2 is the barrier=gate on 康乐小区's outline
    // (kept as a gate node too, and not counted twice).
    expect(osm.features.map((f) => f.id).sort((x, y) => x - y)).toEqual([2, 100, 201, 202, 203, 204, 300, 400, 401, 500, 501]);
    const b = buildResidences(osm.features, { profileOverrides: OVERRIDES });
    expect(b.stats.profile).toBe('cn');
    expect([...b.table.names].sort()).toEqual(['A', 'B', 'C', '天平路 1', '空地']);
    const a = row(b, 'A');
    near(b.table.floorArea[a], 2400, 1e-4); // coordinates rounded to 1e-9°
    expect(b.table.accessKind[a]).toBe(ACCESS_GATE);
    expect(b.table.gateOffsets[a + 1] - b.table.gateOffsets[a]).toBe(2);
    expect(b.stats.access).toEqual({ gate: 3, entrance: 1, centroid: 1 });
  });
});

function square(x: number, y: number, side: number) {
  const ring = Float64Array.from([
    toLon(x), toLat(y), toLon(x + side), toLat(y), toLon(x + side), toLat(y + side), toLon(x), toLat(y + side), toLon(x), toLat(y),
  ]);
  return { lon: toLon(x + side / 2), lat: toLat(y + side / 2), rings: [ring], entrances: new Float64Array(0) };
}

describe('defaults file', () => {
  test('the bundled file is valid and documented', () => {
    const d = loadResidenceDefaults();
    expect(d.notes.length).toBeGreaterThan(5);
    expect(d.elderlyShare).toBe(0.2061);
    expect(d.householdSize).toBe(2.36);
    expect(d.profiles.cn.levelsInResidentialLanduse.yes).toBe(6);
  });

  test('errors name the field', () => {
    const doc = JSON.parse(readFileSync('data/residences/defaults.json', 'utf8')) as Record<string, unknown>;
    const profiles = doc.profiles as Record<string, Record<string, unknown>>;
    profiles.cn.yesOutsideResidentialLanduse = 'maybe';
    expect(() => validateResidenceDefaults(doc, 'x.json')).toThrow(
      'x.json: field "profiles.cn.yesOutsideResidentialLanduse" must be one of keep, drop, drop-unless-no-residential-landuse',
    );
    delete profiles.generic;
    expect(() => validateResidenceDefaults(doc, 'x.json')).toThrow('x.json: field "profiles.generic" is missing');
  });
});
