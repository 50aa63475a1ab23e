/**
 * runPlan end to end on a region small enough to work out by hand:
 *
 *   n0 ─e0 100─ n1 ─e1 100─ n2 ─e2 100─ n3        (1 m/s: seconds = metres)
 *   H0 e0@50 (100 residents)   H2 e1@50 (10)   H1 e2@50 (50)   H3 off the network (5)
 *   candidates C0 e0@50, C1 e2@50, C2 far out of reach (unsnapped)
 *
 * With a 1-minute threshold C0 covers only H0, C1 only H1; H2 is 100 s from either.
 */
import { describe, expect, test } from 'vitest';
import type { Candidate, CandidateSet } from '../../src/plan/candidates.js';
import { PlanInputError } from '../../src/plan/instance.js';
import { runPlan, type PlanRequest } from '../../src/plan/run-plan.js';
import { latOf, lonOf, makeRegion, type FacilitySpec } from './fixtures.js';

const nodes: [number, number][] = [
  [0, 0],
  [100, 0],
  [200, 0],
  [300, 0],
];
const edges: [number, number, number][] = [
  [0, 1, 100],
  [1, 2, 100],
  [2, 3, 100],
];
const homes = [
  { population: 100, points: [[0, 50, 0]] as [number, number, number][] },
  { population: 50, points: [[2, 50, 0]] as [number, number, number][] },
  { population: 10, points: [[1, 50, 0]] as [number, number, number][] },
  { population: 5, points: [[-1, 0, 0]] as [number, number, number][] },
];
const cand = (name: string, x: number, edge: number, offset: number): Candidate => ({
  lon: lonOf(x),
  lat: latOf(0),
  name,
  source: 'file',
  ref: 1,
  snap: edge < 0 ? null : { edge, offset, distance: 0, lon: lonOf(x), lat: latOf(0) },
});
const candidates = (): CandidateSet => ({
  candidates: [cand('C0', 50, 0, 50), cand('C1', 250, 2, 50), cand('C2', 5000, -1, 0)],
  rejected: [],
  rowsRead: 3,
  reachable: 2,
  notes: [],
});
const base = (facilities: FacilitySpec[] = []) => makeRegion(nodes, edges, homes, facilities);
const req = (over: Partial<PlanRequest>): PlanRequest => ({
  model: 'mclp',
  formats: ['community_canteen'],
  sites: 1,
  minutes: 1,
  candidates: candidates(),
  standards: 'mofcom-2021',
  solver: 'both',
  ...over,
});

describe('runPlan on a hand-made line', () => {
  test('MCLP p=1 picks the site with most residents and explains every uncovered home', async () => {
    const r = await runPlan(base(), req({}));
    expect(r.sites.map((s) => s.name)).toEqual(['C0']);
    expect(r.solution.objective).toBeCloseTo(100, 6);
    expect(r.solution.status).toBe('optimal');
    // elderly: the default 20.61 % share (Xuhui 2020), not the fixture's own figure
    expect(r.sites[0].newlyCovered).toEqual({ residents: 100, elderly: Math.round(100 * 0.2061), residences: 1 });
    expect(r.sites[0].onlyThisSite).toBe(100);
    expect(r.uncovered.byReason['not-chosen']).toEqual({ residences: 1, residents: 50 });
    expect(r.uncovered.byReason['no-candidate-within-threshold']).toEqual({ residences: 1, residents: 10 });
    expect(r.uncovered.byReason.unreachable).toEqual({ residences: 1, residents: 5 });
    // shares over all 165 residents (the off-network home counts in the total)
    expect(r.layers[0].before).toBe(0);
    expect(r.layers[0].after).toBeCloseTo(100 / 165, 9);
    expect(r.instance).toMatchObject({ demand: 3, candidates: 3, reachableCandidates: 2 });
  });

  test('an existing canteen at H2 serves it: it is neither newly covered nor uncovered', async () => {
    const r = await runPlan(base([{ format: 'community_canteen', edge: 1, offset: 50, access: 0, name: 'Old canteen' }]), req({ sites: 2 }));
    expect(r.sites.map((s) => s.name).sort()).toEqual(['C0', 'C1']);
    expect(r.layers[0].before).toBeCloseTo(10 / 165, 9);
    expect(r.layers[0].after).toBeCloseTo(160 / 165, 9);
    expect(r.uncovered.byReason['no-candidate-within-threshold'].residences).toBe(0);
    // the nearest existing canteen from C0: 50 m to n1 + 50 m along e1
    const c0 = r.sites.find((s) => s.name === 'C0')!;
    expect(c0.nearestExisting).toEqual({ id: 0, name: 'Old canteen', minutes: Math.round((100 / 60) * 10) / 10 });
  });

  test('LSCP covers everyone a candidate can reach with the fewest sites', async () => {
    const r = await runPlan(base(), req({ model: 'lscp', sites: undefined }));
    expect(r.sites.length).toBe(2);
    expect(r.warnings.join(' ')).toMatch(/cannot be covered/);
    await expect(runPlan(base(), req({ model: 'lscp', sites: undefined, coverShare: 0.99 }))).rejects.toMatchObject({ field: 'coverShare' });
  });

  test('p-median with a 5-minute horizon: total weighted seconds by hand', async () => {
    const r = await runPlan(base(), req({ model: 'pmedian', sites: 1, horizonMinutes: 5, minutes: undefined }));
    // C0: H0 0, H2 100, H1 200 → 100·0 + 10·100 + 50·200 = 11000; C1: 100·200 + 10·100 + 0 = 21000
    expect(r.sites.map((s) => s.name)).toEqual(['C0']);
    expect(r.solution.objective).toBeCloseTo(11000, 3);
    expect(r.meanMinutes!.after).toBeCloseTo(11000 / 160 / 60, 6);
  });

  test('capacitated: one site of capacity 60 serves 60 of H0, and the rest is capacity-full', async () => {
    const r = await runPlan(base(), req({ model: 'capacitated', sites: 1, capacity: 60 }));
    expect(r.solution.objective).toBeCloseTo(60, 6);
    expect(r.sites[0].served).toBe(60);
    expect(r.uncovered.byReason['capacity-full'].residents).toBe(100);
  });

  test('bad requests name the field', async () => {
    const bad: Array<[Partial<PlanRequest>, string]> = [
      [{ sites: 4 }, 'sites'],
      [{ sites: -1 }, 'sites'],
      [{ sites: 1.5 }, 'sites'],
      [{ formats: ['no_such_format'] }, 'format'],
      [{ formats: [] }, 'format'],
      [{ minutes: 0 }, 'minutes'],
      [{ model: 'capacitated', capacity: undefined }, 'capacity'],
      [{ formats: ['linlihui'], relocatable: true }, 'relocatable'],
      [{ candidates: { ...candidates(), candidates: [cand('far', 5000, -1, 0)] } }, 'candidates'],
      [{ candidates: { ...candidates(), candidates: [] } }, 'candidates'],
    ];
    for (const [over, field] of bad) {
      const err = await runPlan(base(), req(over)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, JSON.stringify(over)).toBeInstanceOf(PlanInputError);
      expect((err as PlanInputError).field, JSON.stringify(over)).toBe(field);
    }
  });

  test('the 邻里汇 bundle adds every four-piece format at once', async () => {
    const r = await runPlan(base(), req({ formats: ['linlihui'] }));
    expect(r.bundle).toBe('linlihui');
    expect(r.layers.map((l) => l.format)).toEqual(['community_centre', 'community_canteen', 'community_health', 'fitness_culture', 'bathing_point']);
    for (const l of r.layers) expect(l.after).toBeCloseTo(100 / 165, 9);
    expect(r.sites[0].formats.length).toBe(5);
  });
});
