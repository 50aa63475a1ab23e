/**
 * Dasymetric split of known totals over floor area, on the hand-made layout (cn profile,
 * 25 m² per person, 300 per ha): floor areas A 2400, B 1800, C 3300, D (天平路 1) 300,
 * 空地 7500 m² — 15 300 m² in all.
 */
import { describe, expect, test } from 'vitest';
import { clipFromGeoJson } from '../../src/ingest/clip.js';
import { buildResidences, distributePopulation, populationZonesFromGeoJson, type ResidenceBuild } from '../../src/ingest/residences/index.js';
import { layoutFeatures, toLat, toLon } from '../fixtures/residences/layout.js';

const near = (a: number, b: number, rel = 1e-5) => expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.abs(b) * rel + 1e-6);
const XUHUI_65 = 0.2061;

const fresh = () => buildResidences(layoutFeatures(), { profile: 'cn', profileOverrides: { floorAreaPerPerson: 25, landuseDensityPerHectare: 300 } });
const pop = (b: ResidenceBuild, name: string) => b.table.population[b.table.names.indexOf(name)];
const old = (b: ResidenceBuild, name: string) => b.table.elderly[b.table.names.indexOf(name)];

/** A rectangle zone in the layout's metres. */
const rect = (x0: number, y0: number, x1: number, y1: number) =>
  clipFromGeoJson({
    type: 'Polygon',
    coordinates: [
      [
        [toLon(x0), toLat(y0)],
        [toLon(x1), toLat(y0)],
        [toLon(x1), toLat(y1)],
        [toLon(x0), toLat(y1)],
        [toLon(x0), toLat(y0)],
      ],
    ],
  });

describe('distributePopulation', () => {
  test('one total: exactly proportional to floor area', () => {
    const b = fresh();
    const r = distributePopulation(b.table, { total: 3060 }, XUHUI_65);
    // 3060 / 15 300 m² = 0.2 per m²
    near(pop(b, 'A'), 480);
    near(pop(b, 'B'), 360);
    near(pop(b, 'C'), 660);
    near(pop(b, '天平路 1'), 60);
    near(pop(b, '空地'), 1500);
    near(old(b, 'A'), 480 * XUHUI_65);
    expect(r.total).toBe(3060);
    expect(r.assigned).toBe(3060);
    expect(r.unassigned).toBe(0);
    expect(r.residencesOutside).toBe(0);
    expect(r.zones[0].residences).toBe(5);
    near(r.elderly, 3060 * XUHUI_65);
    const sum = Array.from(b.table.population).reduce((s, x) => s + x, 0);
    near(sum, 3060);
  });

  test('zones: per-zone split, elderly share per zone, a zone with no residences, a residence in no zone', () => {
    const b = fresh();
    const r = distributePopulation(
      b.table,
      {
        zones: [
          { name: '康乐', polygon: rect(-10, -5, 110, 100), total: 1000 }, // A, B, C: 7500 m²
          { name: '空地', polygon: rect(190, -10, 310, 110), total: 500, elderlyShare: 0.1 },
          { name: '荒地', polygon: rect(1000, 0, 1100, 100), total: 200 },
        ],
      },
      XUHUI_65,
    );
    near(pop(b, 'A'), (1000 * 2400) / 7500); // 320
    near(pop(b, 'B'), (1000 * 1800) / 7500); // 240
    near(pop(b, 'C'), (1000 * 3300) / 7500); // 440
    near(old(b, 'C'), 440 * XUHUI_65);
    near(pop(b, '空地'), 500);
    near(old(b, '空地'), 50);
    expect(pop(b, '天平路 1')).toBe(0); // y −50..−40: outside every zone
    expect(r.residencesOutside).toBe(1);
    near(r.floorAreaOutsideM2, 300);
    expect(r.zones.map((z) => [z.name, z.residences, z.assigned, z.unassigned])).toEqual([
      ['康乐', 3, 1000, 0],
      ['空地', 1, 500, 0],
      ['荒地', 0, 0, 200],
    ]);
    expect(r.total).toBe(1700);
    expect(r.assigned).toBe(1500);
    expect(r.unassigned).toBe(200);
    expect(r.assigned + r.unassigned).toBe(r.total);
    expect(r.zonesWithoutResidences).toEqual(['荒地']);
    expect(r.warnings.join('\n')).toMatch(/荒地: 200 residents but no residence inside/);
    expect(r.warnings.join('\n')).toMatch(/1 residences lie in no zone/);
  });

  test('overlapping zones: the first takes the residence, and it is counted', () => {
    const b = fresh();
    const r = distributePopulation(
      b.table,
      { zones: [{ polygon: rect(-100, -100, 400, 200), total: 100 }, { polygon: rect(0, 0, 100, 80), total: 50 }] },
      XUHUI_65,
    );
    expect(r.residencesInSeveralZones).toBe(3);
    expect(r.zones[1].residences).toBe(0);
    expect(r.unassigned).toBe(50);
  });

  test('bad input is refused', () => {
    const b = fresh();
    expect(() => distributePopulation(b.table, { total: -1 }, XUHUI_65)).toThrow(/non-negative/);
    expect(() => distributePopulation(b.table, { total: 10 }, 1.5)).toThrow(/elderly share/);
  });
});

describe('population zones from GeoJSON', () => {
  const poly = (x0: number, y0: number, x1: number, y1: number) => ({
    type: 'Polygon',
    coordinates: [
      [
        [toLon(x0), toLat(y0)],
        [toLon(x1), toLat(y0)],
        [toLon(x1), toLat(y1)],
        [toLon(x0), toLat(y1)],
        [toLon(x0), toLat(y0)],
      ],
    ],
  });

  test('Chinese property names, a percentage share, then the split', () => {
    const zones = populationZonesFromGeoJson({
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { 街道: '康乐', 常住人口: '1,000', 老年人口比例: '10%' }, geometry: poly(-10, -5, 110, 100) },
        { type: 'Feature', properties: { name: '空地', population: 500 }, geometry: poly(190, -10, 310, 110) },
      ],
    });
    expect(zones.map((z) => [z.name, z.total, z.elderlyShare])).toEqual([
      ['康乐', 1000, 0.1],
      ['空地', 500, undefined],
    ]);
    const b = fresh();
    const r = distributePopulation(b.table, { zones }, XUHUI_65);
    near(pop(b, 'A'), 320);
    near(old(b, 'A'), 32);
    near(old(b, '空地'), 500 * XUHUI_65);
    expect(r.residencesOutside).toBe(1);
  });

  test('all problems at once, each with its feature', () => {
    expect(() =>
      populationZonesFromGeoJson(
        {
          type: 'FeatureCollection',
          features: [
            { type: 'Feature', properties: { name: 'a' }, geometry: poly(0, 0, 10, 10) },
            { type: 'Feature', properties: { name: 'b', 人口: -3 }, geometry: poly(0, 0, 10, 10) },
            { type: 'Feature', properties: { name: 'c', 人口: 3, elderlyShare: 20.6 }, geometry: poly(0, 0, 10, 10) },
            { type: 'Feature', properties: { name: 'd', 人口: 3 }, geometry: { type: 'Point', coordinates: [121.4, 31.2] } },
          ],
        },
        'z.geojson',
      ),
    ).toThrow(
      [
        'z.geojson:',
        'feature 1 (a): no population (property population / 人口 / 常住人口 / total)',
        'feature 2 (b): population -3 is not a non-negative number',
        'feature 3 (c): elderly share 20.6 is not in 0–1 (or 0–100 %)',
        'feature 4 (d): feature has geometry type Point; need Polygon or MultiPolygon',
      ].join('\n'),
    );
  });
});
