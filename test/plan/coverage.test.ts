/**
 * Coverage sets against hand-computed times on a small line, and against the assessment's
 * residence times (a separately tested code path) on the real Krems network.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { getWalkingProfile } from '../../src/engine/profile.js';
import type { Snap } from '../../src/engine/snap.js';
import { prepareNetwork, residenceTimes } from '../../src/assess/residence-times.js';
import { buildCoverage } from '../../src/plan/coverage.js';
import { homeCandidates, networkCandidates, onStreetClasses } from '../../src/plan/candidates.js';
import { PlanInputError } from '../../src/plan/instance.js';
import { importRegion } from '../../src/region/import-region.js';
import { makeRegion } from './fixtures.js';

const walking = getWalkingProfile('default');
const site = (edge: number, offset: number, distance: number): Snap => ({ edge, offset, distance, lon: 0, lat: 0 });

describe('buildCoverage on a hand-made line', () => {
  // n0 —e0 100— n1 —e1 200— n2
  const region = makeRegion(
    [
      [0, 0],
      [100, 0],
      [300, 0],
    ],
    [
      [0, 1, 100],
      [1, 2, 200],
    ],
    [
      { population: 10, points: [[1, 50, 10]] }, // A: via n1
      { population: 10, points: [[0, 80, 0]] }, // B: same edge as the site
      { population: 10, points: [[1, 190, 0], [0, 0, 20]] }, // C: two gates, the second better
      { population: 10, points: [[-1, 0, 0]] }, // D: off the network
    ],
  );
  test('times: partial edges, access legs, same edge, best gate', () => {
    const cov = buildCoverage(region, [site(0, 30, 5), null], { walking, horizonSeconds: 1000 });
    expect(Array.from(cov.start)).toEqual([0, 3, 3]);
    expect(Array.from(cov.residence)).toEqual([0, 1, 2]);
    // A 5 + 70 + 50 + 10; B 5 + 50; C min(5 + 70 + 190, 5 + 30 + 20)
    expect(Array.from(cov.seconds)).toEqual([135, 55, 55]);
  });
  test('the horizon cuts', () => {
    const cov = buildCoverage(region, [site(0, 30, 5)], { walking, horizonSeconds: 100 });
    expect(Array.from(cov.residence)).toEqual([1, 2]);
  });
  test('elderly speed scales every part', () => {
    const cov = buildCoverage(region, [site(0, 30, 5)], { walking: getWalkingProfile('elderly'), horizonSeconds: 1000 });
    const v = getWalkingProfile('elderly').speedMps;
    expect(Array.from(cov.seconds).map((s) => Math.round(s * v))).toEqual([135, 55, 55]);
  });
});

describe('buildCoverage on Krems agrees with the assessment’s residence times', async () => {
  const region = await importRegion('data/krems/krems.osm.pbf');
  const cands = networkCandidates(region, { spacingMetres: 400 }).candidates.filter((c) => c.snap).slice(0, 12);
  const horizon = 600;
  const cov = buildCoverage(region, cands.map((c) => c.snap), { walking, horizonSeconds: horizon });
  test('each site equals a one-facility residence-times search', () => {
    expect(cands.length).toBeGreaterThan(5);
    let total = 0;
    for (let j = 0; j < cands.length; j++) {
      const s = cands[j].snap!;
      // the site as the region's only facility
      const one = {
        ...region,
        facilities: [{ ...region.facilities[0], id: 0, formats: ['pharmacy'] }],
        facilitySnaps: { edge: Int32Array.of(s.edge), offset: Float32Array.of(s.offset), access: Float32Array.of(s.distance) },
      };
      let ref = new Float64Array(0);
      residenceTimes(prepareNetwork(one, Uint8Array.of(1)), {
        walking,
        formats: ['pharmacy'],
        maxSeconds: horizon,
        onFormat: (_f, secs) => (ref = secs.slice()),
      });
      const got = new Map<number, number>();
      for (let k = cov.start[j]; k < cov.start[j + 1]; k++) got.set(cov.residence[k], cov.seconds[k]);
      let within = 0;
      for (let r = 0; r < ref.length; r++) {
        if (ref[r] <= horizon - 1e-3) {
          within++;
          expect(got.has(r), `site ${j} residence ${r}`).toBe(true);
          expect(Math.abs(got.get(r)! - ref[r])).toBeLessThan(1e-2);
        } else if (ref[r] > horizon + 1e-3) expect(got.has(r)).toBe(false);
      }
      total += within;
    }
    expect(total).toBeGreaterThan(50);
  });
  test('OSM-derived candidates: buildings, kept only on streets of the named classes', () => {
    const homes = homeCandidates(region, { spacingMetres: 50 });
    expect(homes.candidates.length).toBeGreaterThan(100);
    const res = onStreetClasses(region, homes, ['residential']);
    expect(res.candidates.length).toBeGreaterThan(0);
    expect(res.candidates.length).toBeLessThan(homes.candidates.length);
    // independent: the class of the edge each kept candidate snapped to, read from the raw graph and the walkability table
    const residentialIndex = Object.entries(JSON.parse(readFileSync('data/walkability.json', 'utf8')).highway as Record<string, { walk: string }>)
      .filter(([, e]) => e.walk !== 'no')
      .map(([k]) => k)
      .indexOf('residential');
    for (const c of res.candidates) expect(region.graph.edgeClass[c.snap!.edge]).toBe(residentialIndex);
    expect(() => onStreetClasses(region, homes, ['runway'])).toThrow(PlanInputError);
  });
});
