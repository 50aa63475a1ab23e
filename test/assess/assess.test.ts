/**
 * assess() on a region small enough to work out by hand. Lengths are given (not measured), the
 * default walk is 1 m/s (seconds = metres) and the elderly walk 0.8 m/s.
 *
 *    n0 ──e0 100── n1 ──e1 200── n2
 *     \                          │
 *      └───────e3 500────── n3 ──┘ e2 300 (n2–n3)
 *
 * Facilities (edge, offset from the edge's first node, access leg):
 *   F0 pharmacy "Adler Apotheke"  e1 50 m, 10 m   opening_hours 24/7
 *   F1 convenience "Eck"          e0 20 m,  0 m   Mo-Fr 08:00-18:00, brand=Eck
 *   F2 supermarket "Markt"        e2 100 m, 5 m   no opening hours (unknown)
 * Residences (access points):
 *   R0 e0 80 m, 10 m        population 100
 *   R1 e2 250 m, 20 m + one point not on the network   50
 *   R2 no point on the network (unreachable)            30
 *   R3 e1 60 m, 0 m                                      20
 * Node times from each facility (seconds): F0 n1 60, n2 160, n0 160, n3 460;
 * F1 n0 20, n1 80, n2 280, n3 520; F2 n2 105, n3 205, n1 305, n0 405.
 *
 * Profile: q0 pharmacy ≤ 5 min; q1 convenience ≤ 2 min; q2 supermarket ≤ 4 min for the elderly at
 * the elderly speed; q3 childcare ≤ 15 min for children (no childcare anywhere). Grades: basic =
 * pharmacy present; full = completeness 1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cellToBoundary, latLngToCell } from 'h3-js';
import { afterAll, describe, expect, test } from 'vitest';
import { assess, assessmentToJson, CHILDREN_SHARE } from '../../src/assess/assess.js';
import { explainResidence, explainText } from '../../src/assess/explain.js';
import type { AssessmentResult } from '../../src/assess/result.js';
import { validateStandardsProfile, type StandardsProfile } from '../../src/assess/standards.js';
import { ZoneFileError } from '../../src/assess/zones.js';
import { buildWalkGraph } from '../../src/engine/graph.js';
import { ACCESS_GATE, KIND_BUILDING, LEVELS_TAGGED, ResidenceTableBuilder, SOURCE_WAY } from '../../src/ingest/residences/table.js';
import { OSM_ATTRIBUTION, type Facility, type Region } from '../../src/region/region.js';
import { loadTaxonomy } from '../../src/taxonomy/formats.js';

const LON0 = 16.0;
const LAT0 = 48.0;
const KY = 6371008.8 * (Math.PI / 180);
const KX = KY * Math.cos(LAT0 * (Math.PI / 180));
const lonOf = (x: number) => LON0 + x / KX;
const latOf = (y: number) => LAT0 + y / KY;
const near = (a: number, b: number, eps = 1e-4) => expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(eps);

const taxonomy = loadTaxonomy();

function tinyRegion(): Region {
  const nodes: [number, number][] = [
    [0, 0],
    [100, 0],
    [300, 0],
    [300, 300],
  ];
  const edges: [number, number, number][] = [
    [0, 1, 100],
    [1, 2, 200],
    [2, 3, 300],
    [3, 0, 500],
  ];
  const geom: number[] = [];
  const geomOffsets = new Int32Array(edges.length + 1);
  edges.forEach(([a, b], i) => {
    geomOffsets[i] = geom.length / 2;
    geom.push(lonOf(nodes[a][0]), latOf(nodes[a][1]), lonOf(nodes[b][0]), latOf(nodes[b][1]));
  });
  geomOffsets[edges.length] = geom.length / 2;
  const graph = buildWalkGraph({
    nodeCoords: Float64Array.from(nodes.flatMap(([x, y]) => [lonOf(x), latOf(y)])),
    nodeOsmIds: Float64Array.from(nodes, (_, i) => 100 + i),
    edgeFrom: Int32Array.from(edges, (e) => e[0]),
    edgeTo: Int32Array.from(edges, (e) => e[1]),
    edgeLength: Float32Array.from(edges, (e) => e[2]),
    edgeWayId: Float64Array.from(edges, (_, i) => 1 + i),
    edgeClass: new Uint8Array(edges.length),
    edgeFlags: new Uint8Array(edges.length),
    geomOffsets,
    geomCoords: Float64Array.from(geom),
  });
  const fac = (id: number, format: string, name: string, x: number, y: number, tags: Record<string, string>): Facility => ({
    id,
    source: 'node',
    sourceId: 500 + id,
    formats: [format],
    name,
    lon: lonOf(x),
    lat: latOf(y),
    accessPoint: 'node',
    tags: { name, ...tags },
  });
  const facilities = [
    fac(0, 'pharmacy', 'Adler Apotheke', 150, 10, { opening_hours: '24/7' }),
    fac(1, 'convenience_store', 'Eck', 20, 0, { opening_hours: 'Mo-Fr 08:00-18:00', brand: 'Eck' }),
    fac(2, 'supermarket', 'Markt', 305, 100, {}),
  ];
  const b = new ResidenceTableBuilder();
  const home = (name: string, x: number, y: number, pop: number, floorArea: number, access: number[]) =>
    b.add({
      lon: lonOf(x),
      lat: latOf(y),
      footprint: floorArea / 2,
      levels: 2,
      levelsSource: LEVELS_TAGGED,
      floorArea,
      population: pop,
      elderly: pop * 0.5, // deliberately not the assessment's share: assess recomputes it
      kind: KIND_BUILDING,
      sourceType: SOURCE_WAY,
      sourceId: 900 + b.count,
      compound: -1,
      name,
      access,
      accessKind: ACCESS_GATE,
    });
  home('R0', 80, -10, 100, 1000, [lonOf(80), latOf(-10)]);
  home('R1', 320, 250, 50, 500, [lonOf(320), latOf(250), lonOf(2000), latOf(2000)]);
  home('R2', 960, 1000, 30, 300, [lonOf(960), latOf(1000)]);
  home('R3', 160, 0, 20, 200, [lonOf(160), latOf(0)]);
  const residences = b.finish();
  // access points in order: R0, R1a, R1b, R2, R3
  const residenceSnaps = {
    edge: Int32Array.from([0, 2, -1, -1, 1]),
    offset: Float32Array.from([80, 250, 0, 0, 60]),
    access: Float32Array.from([10, 20, 0, 0, 0]),
  };
  return {
    meta: {
      formatVersion: 1,
      name: 'Tiny',
      source: { file: 'tiny.osm', format: 'xml', bytes: 0, sha256: '' },
      importedAt: '2025-01-01T00:00:00Z',
      attribution: OSM_ATTRIBUTION,
      license: 'ODbL-1.0',
      bbox: [lonOf(0), latOf(-10), lonOf(960), latOf(1000)],
      snapLimitMetres: 300,
      report: {
        osm: {
          format: 'xml',
          nodesRead: 4,
          waysRead: 4,
          relationsRead: 0,
          walkableWays: 4,
          excludedWays: {},
          missingNodeRefs: 0,
          waysDroppedNoGeometry: 0,
          featuresWithoutGeometry: 0,
          relationsNotAreas: 0,
          clippedWays: 0,
          clippedFeatures: 0,
        },
        islands: { count: 0, largestNodes: 4, otherSizes: [] },
        facilities: { total: 3, byFormat: {}, unreachable: 0, onIslands: 0, accessPoints: { node: 3, entrance: 0, 'nearest-to-network': 0, centroid: 0 } },
        residences: {
          profile: 'generic',
          profileReason: 'test',
          featuresSeen: 4,
          ignored: 0,
          withoutGeometry: 0,
          homeBuildings: { seen: 4, kept: 4 },
          candidates: { seen: 0, kept: 0, inMask: 0, tooSmall: 0, tooLarge: 0, outsideResidentialLanduse: 0 },
          compounds: { total: 0, withBuildings: 0, withoutBuildings: 0, withGates: 0, tooLargeForGates: 0, nearbyGates: 0 },
          gateNodes: 0,
          masks: 0,
          levels: { tagged: 4, fromHeight: 0, default: 0 },
          footprintAssumed: 0,
          access: { gate: 4, entrance: 0, centroid: 0 },
          residences: 4,
          floorAreaM2: 2000,
          populationPrior: 200,
          warnings: [],
          unsnappedPoints: 2,
          unreachable: 1,
        },
        warnings: [],
      },
    },
    graph,
    facilities,
    facilitySnaps: {
      edge: Int32Array.from([1, 0, 2]),
      offset: Float32Array.from([50, 20, 100]),
      access: Float32Array.from([10, 0, 5]),
    },
    residences,
    residenceSnaps,
    compounds: [],
  };
}

function tinyProfile(overrides: { q2Minutes?: number; q2Walking?: string | null } = {}): StandardsProfile {
  const q2: Record<string, unknown> = { format: 'supermarket', withinMinutes: overrides.q2Minutes ?? 4, population: 'elderly' };
  if (overrides.q2Walking !== null) q2.walkingProfile = overrides.q2Walking ?? 'elderly';
  return validateStandardsProfile(
    {
      version: 1,
      id: 'tiny',
      name: { 'zh-CN': '测试', en: 'Test' },
      source: 'hand-made',
      walkingProfile: 'default',
      requirements: [
        { format: 'pharmacy', withinMinutes: 5 },
        { format: 'convenience_store', withinMinutes: 2 },
        q2,
        { format: 'childcare', withinMinutes: 15, population: 'children' },
      ],
      grades: [
        { id: 'basic', name: { 'zh-CN': '基础', en: 'Basic' }, rule: { requiredFormats: ['pharmacy'] } },
        { id: 'full', name: { 'zh-CN': '完整', en: 'Full' }, rule: { minCompleteness: 1 } },
      ],
      targets: [
        { indicator: 'coverage', value: 0.5, formats: ['pharmacy', 'convenience_store'] },
        { indicator: 'chain_outlet_share', value: 0.3 },
        { indicator: 'resident_satisfaction', value: 0.9 },
      ],
    },
    'tiny.json',
    taxonomy,
  );
}

const region = tinyRegion();
const profile = tinyProfile();
const F = taxonomy.formats.length;
const col = (f: string) => taxonomy.formats.findIndex((x) => x.id === f);
const minutesOf = (res: AssessmentResult, r: number, f: string) => res.residences.minutes[r * F + col(f)];
const nearestOf = (res: AssessmentResult, r: number, f: string) => res.residences.nearest[r * F + col(f)];
const metOf = (res: AssessmentResult, r: number) => Array.from(res.residences.met.subarray(r * 4, r * 4 + 4));
const base = assess(region, { profile, elderlyShare: 0.2, h3Resolutions: [] });

describe('residence times', () => {
  test('minutes and nearest facility per format, by hand', () => {
    // R0: pharmacy via n1 60 + 20 + 10 = 90 s; convenience same edge 10 + 60 + 0 = 70 s (via nodes 110);
    // supermarket via n1 305 + 20 + 10 = 335 s
    near(minutesOf(base, 0, 'pharmacy'), 90 / 60);
    near(minutesOf(base, 0, 'convenience_store'), 70 / 60);
    near(minutesOf(base, 0, 'supermarket'), 335 / 60);
    expect([nearestOf(base, 0, 'pharmacy'), nearestOf(base, 0, 'convenience_store'), nearestOf(base, 0, 'supermarket')]).toEqual([0, 1, 2]);
    // R1 (its second point is off the network): pharmacy via n2 160 + 250 + 20 = 430; convenience via n2 280 + 250 + 20 = 550;
    // supermarket same edge 20 + 150 + 5 = 175 (via n3 275)
    near(minutesOf(base, 1, 'pharmacy'), 430 / 60);
    near(minutesOf(base, 1, 'convenience_store'), 550 / 60);
    near(minutesOf(base, 1, 'supermarket'), 175 / 60);
    // R2: unreachable
    expect(base.residences.reachable[2]).toBe(0);
    expect(minutesOf(base, 2, 'pharmacy')).toBe(Infinity);
    expect(nearestOf(base, 2, 'pharmacy')).toBe(-1);
    // R3: pharmacy same edge 0 + 10 + 10 = 20 s (via n1 120); convenience via n1 80 + 60 = 140; supermarket via n2 105 + 140 = 245
    near(minutesOf(base, 3, 'pharmacy'), 20 / 60);
    near(minutesOf(base, 3, 'convenience_store'), 140 / 60);
    near(minutesOf(base, 3, 'supermarket'), 245 / 60);
    // a format the region does not have
    expect(minutesOf(base, 0, 'childcare')).toBe(Infinity);
    expect(Array.from(base.residences.reachable)).toEqual([1, 1, 0, 1]);
    expect(base.residences.formats).toEqual(taxonomy.formats.map((f) => f.id));
  });

  test('elderly requirement judged at the elderly speed (0.8 m/s)', () => {
    const Q = 4;
    const rm = base.residences.requirementMinutes!;
    near(rm[1 * Q + 2], 175 / 0.8 / 60); // 218.75 s ≤ 240: met
    near(rm[0 * Q + 2], 335 / 0.8 / 60); // 418.75 s
    near(rm[3 * Q + 2], 245 / 0.8 / 60); // 306.25 s
    expect(base.residences.met[1 * Q + 2]).toBe(1);
    // 3.5 minutes (210 s): at the default speed R1 (175 s) is in, at the elderly speed (218.75 s) it is out
    const strict = assess(region, { profile: tinyProfile({ q2Minutes: 3.5 }), elderlyShare: 0.2, h3Resolutions: [] });
    const adult = assess(region, { profile: tinyProfile({ q2Minutes: 3.5, q2Walking: null }), elderlyShare: 0.2, h3Resolutions: [] });
    expect(strict.residences.met[1 * Q + 2]).toBe(0);
    expect(adult.residences.met[1 * Q + 2]).toBe(1);
    expect(strict.requirements[2].walkingProfile).toBe('elderly');
    expect(adult.requirements[2].walkingProfile).toBe('default');
  });
});

describe('requirements, completeness, grades', () => {
  test('met per residence', () => {
    expect(metOf(base, 0)).toEqual([1, 1, 0, 0]);
    expect(metOf(base, 1)).toEqual([0, 0, 1, 0]);
    expect(metOf(base, 2)).toEqual([0, 0, 0, 0]);
    expect(metOf(base, 3)).toEqual([1, 0, 0, 0]);
    expect(Array.from(base.residences.completeness)).toEqual([0.5, 0.25, 0, 0.25]);
    expect(Array.from(base.residences.grade)).toEqual([0, -1, -1, 0]);
    expect(base.requirements.map((q) => q.seconds)).toEqual([300, 120, 240, 900]);
    expect(base.requirements[0].formats).toEqual(['pharmacy']);
  });

  test('population: the import estimate, elderly recomputed with the share; the region is untouched', () => {
    expect(Array.from(base.residences.population)).toEqual([100, 50, 30, 20]);
    expect(Array.from(base.residences.elderly).map((x) => Math.round(x * 1e4) / 1e4)).toEqual([20, 10, 6, 4]);
    expect(Array.from(region.residences.elderly)).toEqual([50, 25, 15, 10]);
  });

  test('region zone: coverage by population group, completeness, grade, distribution', () => {
    const z = base.zones[0];
    expect(z.kind).toBe('region');
    expect(z.residences).toBe(4);
    near(z.population, 200);
    near(z.elderly, 40);
    near(z.coverage[0], 120 / 200); // R0 + R3
    near(z.coverage[1], 100 / 200); // R0
    near(z.coverage[2], 10 / 40); // R1's elderly
    near(z.coverage[3], 0);
    near(z.completeness, (100 * 0.5 + 50 * 0.25 + 20 * 0.25) / 200);
    near(z.completeShare, 0);
    // zone rule: a requirement counts when ≥ 50 % are served: q0 0.6 and q1 0.5 yes → pharmacy present → basic
    expect(z.grade).toBe(0);
    expect(z.gradeDistribution.map((x) => Math.round(x))).toEqual([80, 120, 0]);
    // within MOFCOM minutes (default speed): pharmacy 8 min: R0, R1 (7.2), R3; convenience 5 min: R0, R3; supermarket 15: all reachable
    near(z.formatCoverage[col('pharmacy')], 170 / 200);
    near(z.formatCoverage[col('convenience_store')], 120 / 200);
    near(z.formatCoverage[col('supermarket')], 170 / 200);
    near(z.formatCoverage[col('childcare')], 0);
  });

  test('gaps: ranked, residents and elderly affected, centre, weighted median minutes', () => {
    const gaps = base.zones[0].gaps;
    expect(gaps.map((g) => g.format)).toEqual(['convenience_store', 'pharmacy', 'supermarket', 'childcare']);
    const [g1, g0, g2, g3] = gaps;
    // convenience: R1 50, R2 30, R3 20 unserved; minutes 9.17, ∞, 2.33 → weighted median 9.17
    near(g1.residentsAffected, 100);
    near(g1.elderlyAffected, 20);
    expect(g1.residences).toBe(3);
    near(g1.medianMinutes, 550 / 60);
    const t = region.residences;
    near(g1.lon, (50 * t.lon[1] + 30 * t.lon[2] + 20 * t.lon[3]) / 100, 1e-9);
    near(g1.lat, (50 * t.lat[1] + 30 * t.lat[2] + 20 * t.lat[3]) / 100, 1e-9);
    // pharmacy: R1 50 (7.17), R2 30 (∞)
    near(g0.residentsAffected, 80);
    near(g0.elderlyAffected, 16);
    expect(g0.residences).toBe(2);
    near(g0.medianMinutes, 430 / 60);
    // supermarket for the elderly: R0 20 (6.98), R2 6 (∞), R3 4 (5.10): median 6.98 at the elderly speed
    near(g2.residentsAffected, 30);
    near(g2.elderlyAffected, 30);
    expect(g2.residences).toBe(3);
    near(g2.medianMinutes, 418.75 / 60);
    // childcare for children: nobody served, children = population × 9.79 %
    near(g3.residentsAffected, 200 * CHILDREN_SHARE);
    near(g3.elderlyAffected, 40);
    expect(g3.residences).toBe(4);
    expect(g3.medianMinutes).toBe(Infinity);
  });

  test('headline indicators', () => {
    const h = base.headline;
    near(h.population, 200);
    expect(h.residences).toBe(4);
    expect(h.unreachableResidences).toBe(1);
    near(h.completeCircleShare, 0);
    near(h.meanCompleteness, 67.5 / 200);
    near(h.chainOutletShare ?? -1, 1 / 3);
    expect(h.openingHours).toBeNull();
    const basic = new Map(h.basicFormatCoverage.map((b) => [b.format, b.coverage]));
    expect([...basic.keys()]).toEqual(taxonomy.formats.filter((f) => f.class === 'basic').map((f) => f.id));
    near(basic.get('pharmacy') ?? -1, 0.85);
    near(basic.get('vegetable_market') ?? -1, 0);
    const [cov, chain, sat] = h.targets;
    // both pharmacy and convenience met: R0 only
    expect(cov).toMatchObject({ indicator: 'coverage', target: 0.5, met: true }); // 0.5 ≥ 0.5
    near(cov.value ?? -1, 0.5);
    expect(chain).toMatchObject({ indicator: 'chain_outlet_share', target: 0.3, met: true });
    expect(sat).toMatchObject({ indicator: 'resident_satisfaction', value: null, met: null });
    expect(base.warnings.some((w) => /1 residences reach no walkable way/.test(w))).toBe(true);
  });
});

describe('opening hours', () => {
  test('closed facilities are left out; unknown hours count as open and are counted', () => {
    const early = assess(region, { profile, elderlyShare: 0.2, h3Resolutions: [], at: 'Mo 07:00' });
    expect(early.headline.openingHours).toEqual({ open: 1, closed: 1, unknown: 1 });
    expect(early.settings.at).toBe('Mo 07:00');
    // the convenience store (Mo-Fr 08:00-18:00) is closed: nothing else of its format
    expect(minutesOf(early, 0, 'convenience_store')).toBe(Infinity);
    expect(metOf(early, 0)).toEqual([1, 0, 0, 0]);
    // the supermarket has no hours: still counted open
    near(minutesOf(early, 1, 'supermarket'), 175 / 60);
    expect(metOf(early, 1)).toEqual([0, 0, 1, 0]);
    const later = assess(region, { profile, elderlyShare: 0.2, h3Resolutions: [], at: 'Mo 09:00' });
    expect(later.headline.openingHours).toEqual({ open: 2, closed: 0, unknown: 1 });
    expect(Array.from(later.residences.met)).toEqual(Array.from(base.residences.met));
    const sunday = assess(region, { profile, elderlyShare: 0.2, h3Resolutions: [], at: new Date(2025, 10, 30, 10, 0) });
    expect(sunday.headline.openingHours?.closed).toBe(1);
    expect(sunday.settings.at).toBe('2025-11-30T10:00');
  });
});

describe('population', () => {
  test('a known total is spread by floor area; totals preserved; the region is not modified', () => {
    const before = Array.from(region.residences.population);
    const res = assess(region, { profile, population: 1000, h3Resolutions: [] });
    const pop = Array.from(res.residences.population);
    near(pop.reduce((s, x) => s + x, 0), 1000, 1e-3);
    // floor areas 1000, 500, 300, 200 of 2000 m²
    expect(pop.map((x) => Math.round(x * 1000) / 1000)).toEqual([500, 250, 150, 100]);
    near(Array.from(res.residences.elderly).reduce((s, x) => s + x, 0), 1000 * 0.2061, 1e-3);
    near(res.headline.population, 1000, 1e-3);
    expect(Array.from(region.residences.population)).toEqual(before);
    expect(res.settings.population).toBe(1000);
    // shares do not change with the total's size
    near(res.zones[0].coverage[0], (500 + 100) / 1000);
  });

  test('zone totals in the zones file are spread within each zone', () => {
    const doc = zonesDoc({ A: 400, B: 100, C: 60 });
    const res = assess(region, { profile, zones: doc, h3Resolutions: [] });
    const pop = Array.from(res.residences.population);
    // A holds R0 only (R3 lies outside every zone: 0), B holds R1, C holds R2
    expect(pop.map((x) => Math.round(x * 1000) / 1000)).toEqual([400, 100, 60, 0]);
    near(res.headline.population, 560, 1e-3);
    expect(res.warnings.some((w) => /lie in no zone/.test(w))).toBe(true);
  });
});

/** Zones: A around R0 (not R3), B around R1, C a bow-tie (self-intersecting) around R2. */
function zonesDoc(populations?: { A: number; B: number; C: number }) {
  const ring = (pts: [number, number][]) => [...pts, pts[0]].map(([x, y]) => [lonOf(x), latOf(y)]);
  const feat = (props: Record<string, unknown>, pts: [number, number][]) => ({ type: 'Feature', properties: props, geometry: { type: 'Polygon', coordinates: [ring(pts)] } });
  const pop = (k: 'A' | 'B' | 'C') => (populations ? { 人口: populations[k] } : {});
  return {
    type: 'FeatureCollection',
    features: [
      feat({ 名称: '甲', ...pop('A') }, [[-50, -50], [120, -50], [120, 50], [-50, 50]]),
      feat({ name: 'B-zone', ...pop('B') }, [[250, 200], [400, 200], [400, 350], [250, 350]]),
      feat({ NAME: 'Bow', ...pop('C') }, [[950, 950], [1050, 1050], [1050, 950], [950, 1050]]),
    ],
  };
}

describe('zones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quarter-assess-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('user zones: names, membership by centroid, residences outside counted, self-intersection warned', () => {
    const file = join(dir, 'zones.geojson');
    writeFileSync(file, JSON.stringify(zonesDoc()));
    const res = assess(region, { profile, zones: file, elderlyShare: 0.2, h3Resolutions: [] });
    const user = res.zones.filter((z) => z.kind === 'zone');
    expect(user.map((z) => [z.id, z.name, z.residences])).toEqual([
      ['zone-1', '甲', 1],
      ['zone-2', 'B-zone', 1],
      ['zone-3', 'Bow', 1],
    ]);
    expect(res.settings.zonesSource).toBe(file);
    expect(res.zoneAssignment).toEqual({ zones: 3, outside: 1, outsidePopulation: 20, inSeveral: 0 });
    expect(res.warnings.some((w) => w.includes('feature 3 (Bow)') && /self-intersects/.test(w))).toBe(true);
    const a = user[0];
    expect(a.coverage.map((x) => Math.round(x * 1e6) / 1e6)).toEqual([1, 1, 0, 0]);
    expect(a.grade).toBe(0);
    near(a.completeness, 0.5);
    expect(a.geometry?.type).toBe('Polygon');
    const c = user[2];
    expect(c.coverage).toEqual([0, 0, 0, 0]);
    expect(c.gaps.every((g) => g.residences === 1)).toBe(true);
    // the region still counts everyone
    expect(res.zones[0].residences).toBe(4);
  });

  test('a broken zone file names the file and the feature', () => {
    const file = join(dir, 'bad.geojson');
    const doc = zonesDoc();
    (doc.features[1] as { geometry: unknown }).geometry = { type: 'LineString', coordinates: [[0, 0], [1, 1]] };
    writeFileSync(file, JSON.stringify(doc));
    let err: unknown;
    try {
      assess(region, { profile, zones: file, h3Resolutions: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ZoneFileError);
    expect((err as ZoneFileError).feature).toBe(2);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('feature 2');
    const partial = join(dir, 'partial.geojson');
    const d2 = zonesDoc({ A: 1, B: 2, C: 3 });
    delete (d2.features[2].properties as Record<string, unknown>)['人口'];
    writeFileSync(partial, JSON.stringify(d2));
    expect(() => assess(region, { profile, zones: partial, h3Resolutions: [] })).toThrow(/feature 3.*no population/);
  });

  test('H3 cells at resolutions 9 and 10', () => {
    const res = assess(region, { profile, elderlyShare: 0.2, h3Resolutions: [9, 10] });
    const t = region.residences;
    for (const resolution of [9, 10]) {
      const cells = res.zones.filter((z) => z.kind === 'h3' && z.resolution === resolution);
      const expected = new Map<string, number[]>();
      for (let r = 0; r < t.count; r++) {
        const c = latLngToCell(t.lat[r], t.lon[r], resolution);
        expected.set(c, [...(expected.get(c) ?? []), r]);
      }
      expect(cells.map((z) => z.id).sort()).toEqual([...expected.keys()].sort());
      for (const z of cells) {
        expect(z.residences).toBe(expected.get(z.id)?.length);
        near(z.population, (expected.get(z.id) ?? []).reduce((s, r) => s + t.population[r], 0));
        expect(z.geometry).toEqual({ type: 'Polygon', coordinates: [cellToBoundary(z.id, true)] });
        const ring = z.geometry?.coordinates[0] as number[][];
        expect(ring[0]).toEqual(ring[ring.length - 1]);
      }
      expect(cells.reduce((s, z) => s + z.residences, 0)).toBe(4);
    }
  });
});

describe('explain', () => {
  test('statuses: met, too-far with the nearest facility, missing, unreachable', () => {
    const r1 = explainResidence(base, region, 1);
    expect(r1.map((e) => e.status)).toEqual(['too-far', 'too-far', 'met', 'missing']);
    expect(r1[0]).toMatchObject({ requirement: 0, format: 'pharmacy', met: false, thresholdMinutes: 5, facility: { id: 0, name: 'Adler Apotheke' } });
    near(r1[0].minutes ?? -1, 430 / 60);
    expect(r1[3]).toMatchObject({ status: 'missing', minutes: null, facility: null });
    expect(explainResidence(base, region, 2).every((e) => e.status === 'unreachable' && !e.met)).toBe(true);
    const r3 = explainResidence(base, region, 3);
    expect(r3[0]).toMatchObject({ status: 'met', facility: { name: 'Adler Apotheke' } });
  });

  test('one line per requirement, Chinese and English', () => {
    const zh = explainText(base, region, 1, 'zh-CN').split('\n');
    expect(zh).toHaveLength(4);
    expect(zh[0]).toBe('药店：最近的“Adler Apotheke”步行 7.2 分钟，超过 5 分钟');
    expect(zh[2]).toBe('综合超市（老年人，老年人步速）：“Markt”步行 3.6 分钟，在 4 分钟内');
    expect(zh[3]).toBe('托育/幼儿园（儿童）：区域内没有此类设施（要求 15 分钟内）');
    const en = explainText(base, region, 1, 'en').split('\n');
    expect(en[0]).toBe('Pharmacy: the nearest, “Adler Apotheke”, is a 7.2-minute walk, more than 5 minutes');
    expect(en[1]).toBe('Convenience store: the nearest, “Eck”, is a 9.2-minute walk, more than 2 minutes');
    expect(en[3]).toBe('Childcare / kindergarten (for children): none in the region (needed within 15 minutes)');
    // a facility exists but is closed at the moment asked
    const early = assess(region, { profile, elderlyShare: 0.2, h3Resolutions: [], at: 'Mo 07:00' });
    expect(explainText(early, region, 0, 'zh-CN').split('\n')[1]).toBe('便利店：步行 60 分钟内没有在 Mo 07:00 营业的此类设施（要求 2 分钟内）');
    expect(explainText(early, region, 0, 'en').split('\n')[1]).toBe('Convenience store: none open at Mo 07:00 within a 60-minute walk (needed within 2 minutes)');
    expect(explainText(base, region, 2, 'en').split('\n')[0]).toMatch(/no walkable way/);
  });
});

describe('assessmentToJson', () => {
  test('typed arrays to plain arrays, Infinity to null, round trip through JSON', () => {
    const json = assessmentToJson(base, region);
    const back = JSON.parse(JSON.stringify(json)) as typeof json;
    expect(back.kind).toBe('quarter-assessment');
    expect(back.residences.count).toBe(4);
    expect(back.residences.minutes).toHaveLength(4 * F);
    expect(back.residences.minutes[0 * F + col('pharmacy')]).toBe(1.5);
    expect(back.residences.minutes[2 * F + col('pharmacy')]).toBeNull();
    expect(back.residences.met).toEqual(Array.from(base.residences.met));
    expect(back.residences.name).toEqual(['R0', 'R1', 'R2', 'R3']);
    expect(back.residences.source?.[0]).toBe('way/900');
    expect(back.zones[0].gaps.find((g) => g.format === 'childcare')?.medianMinutes).toBeNull();
    expect(back.settings.profile.id).toBe('tiny');
    expect(back.attribution).toBe(OSM_ATTRIBUTION);
  });
});
