/**
 * capacitatedAssignment (Dinic) against a hand-reasoned case, an exhaustive search over integer
 * splits on tiny integer instances (max-flow optima are integral there, so this is the optimum
 * without any flow algorithm), and the dense Edmonds–Karp reference (test/plan/reference.ts) on
 * random fractional instances; the heuristic's incremental max-flow against the same reference.
 */
import { describe, expect, test } from 'vitest';
import type { PlanInstance } from '../../src/plan/instance.js';
import { PlanInputError, freeCandidates } from '../../src/plan/instance.js';
import { capacitatedAssignment, type CapacitatedAssignment } from '../../src/plan/capacitated.js';
import { IncrementalFlow } from '../../src/plan/heuristic-capacitated.js';
import { capacitatedServed } from './reference.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Spec {
  weights: number[];
  /** rows[j] = [[demand, seconds], …] */
  rows: [number, number][][];
  capacity: number[];
  fixed?: number[];
  existing?: number[];
  threshold?: number;
}

function makeInstance(s: Spec): PlanInstance {
  const start = [0];
  const demand: number[] = [];
  const seconds: number[] = [];
  for (const row of s.rows) {
    for (const [i, sec] of row.slice().sort((a, b) => a[0] - b[0])) {
      demand.push(i);
      seconds.push(sec);
    }
    start.push(demand.length);
  }
  const m = s.weights.length;
  const n = s.rows.length;
  const fixed = new Uint8Array(n);
  for (const j of s.fixed ?? []) fixed[j] = 1;
  return {
    demandCount: m,
    weight: Float64Array.from(s.weights),
    candidateCount: n,
    start: Int32Array.from(start),
    demand: Int32Array.from(demand),
    seconds: Float32Array.from(seconds),
    horizonSeconds: 1000,
    layers: [{ id: 'f', thresholdSeconds: s.threshold ?? 300, value: 1, existingSeconds: Float64Array.from(s.existing ?? new Array(m).fill(Infinity)) }],
    fixed,
    capacity: Float64Array.from(s.capacity),
  };
}

/** The assignment is feasible: pairs within the threshold, from open or fixed sites, within capacities and weights, summing to served. */
function checkAssignment(inst: PlanInstance, open: number[], r: CapacitatedAssignment): void {
  const { demand, site, amount } = r.assignment;
  expect(site.length).toBe(demand.length);
  expect(amount.length).toBe(demand.length);
  const T = inst.layers[0].thresholdSeconds;
  const perDemand = new Float64Array(inst.demandCount);
  const perSite = new Float64Array(inst.candidateCount);
  let pre = 0;
  for (let i = 0; i < inst.demandCount; i++) if (inst.layers[0].existingSeconds[i] <= T) pre += inst.weight[i];
  let total = pre;
  for (let x = 0; x < demand.length; x++) {
    const i = demand[x];
    const j = site[x];
    expect(amount[x]).toBeGreaterThan(0);
    expect(open.includes(j) || inst.fixed[j] === 1).toBe(true);
    expect(inst.layers[0].existingSeconds[i] <= T).toBe(false);
    let reach = Infinity;
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) if (inst.demand[k] === i) reach = inst.seconds[k];
    expect(reach).toBeLessThanOrEqual(T);
    perDemand[i] += amount[x];
    perSite[j] += amount[x];
    total += amount[x];
  }
  for (let i = 0; i < inst.demandCount; i++) expect(perDemand[i]).toBeLessThanOrEqual(inst.weight[i] * (1 + 1e-12) + 1e-12);
  for (let j = 0; j < inst.candidateCount; j++) expect(perSite[j]).toBeLessThanOrEqual(inst.capacity![j] * (1 + 1e-12) + 1e-12);
  expect(Math.abs(total - r.served)).toBeLessThanOrEqual(1e-9 * Math.max(1, r.served));
}

describe('hand-reasoned case', () => {
  // a w4, b w3, c w5, d w7 (served already: existing facility at 100 s), e w2 (X reaches it in 400 s > 300), f w6 (only Z).
  // X cap 5 reaches a, b, d, e; Y cap 4 reaches b, c; Z cap 10 reaches f; W cap 1 (fixed) reaches c.
  const spec: Spec = {
    weights: [4, 3, 5, 7, 2, 6],
    rows: [
      [
        [0, 100],
        [1, 200],
        [3, 50],
        [4, 400],
      ],
      [
        [1, 100],
        [2, 150],
      ],
      [[5, 100]],
      [[2, 10]],
    ],
    capacity: [5, 4, 10, 1],
    fixed: [3],
    existing: [Infinity, Infinity, Infinity, 100, Infinity, Infinity],
  };
  const inst = makeInstance(spec);

  test('X and Y open: capacities 5 + 4 + 1 are all used (a 4, b 3, c 3) plus d served already', () => {
    const r = capacitatedAssignment(inst, [0, 1]);
    expect(r.served).toBe(17);
    checkAssignment(inst, [0, 1], r);
    // d takes no capacity and e is out of reach, so X serves only a and b
    const xDemand = Array.from(r.assignment.demand).filter((_, x) => r.assignment.site[x] === 0);
    expect(xDemand.every((i) => i === 0 || i === 1)).toBe(true);
  });

  test('only the fixed site: c 1 + d 7', () => {
    const r = capacitatedAssignment(inst, []);
    expect(r.served).toBe(8);
    checkAssignment(inst, [], r);
  });

  test('all open: f adds 6; duplicates and a fixed site in `open` change nothing', () => {
    expect(capacitatedAssignment(inst, [0, 1, 2]).served).toBe(23);
    expect(capacitatedAssignment(inst, [2, 1, 0, 0, 3]).served).toBe(23);
  });

  test('unlimited and zero capacities', () => {
    const unlimited = makeInstance({ ...spec, capacity: [Infinity, Infinity, Infinity, Infinity] });
    // a 4 + b 3 + c 5 + d 7 + f 6 (e out of reach)
    expect(capacitatedAssignment(unlimited, [0, 1, 2]).served).toBe(25);
    const none = makeInstance({ ...spec, capacity: [0, 0, 0, 0] });
    const r = capacitatedAssignment(none, [0, 1, 2]);
    expect(r.served).toBe(7);
    expect(r.assignment.demand.length).toBe(0);
  });
});

/** Most weight integer splits can serve (exhaustive), for tiny instances with integer weights and capacities. */
function exhaustiveServed(inst: PlanInstance, open: number[]): number {
  const T = inst.layers[0].thresholdSeconds;
  const isOn = (j: number): boolean => open.includes(j) || inst.fixed[j] === 1;
  let pre = 0;
  const sitesOf: number[][] = [];
  for (let i = 0; i < inst.demandCount; i++) {
    if (inst.layers[0].existingSeconds[i] <= T) {
      pre += inst.weight[i];
      sitesOf.push([]);
      continue;
    }
    const s: number[] = [];
    for (let j = 0; j < inst.candidateCount; j++) {
      if (!isOn(j)) continue;
      for (let k = inst.start[j]; k < inst.start[j + 1]; k++) if (inst.demand[k] === i && inst.seconds[k] <= T) s.push(j);
    }
    sitesOf.push(s);
  }
  const left = Array.from(inst.capacity!);
  let best = 0;
  // demand i gives amounts to its sites one by one (site index x within sitesOf[i])
  const visit = (i: number, x: number, remaining: number, served: number): void => {
    if (i === inst.demandCount) {
      best = Math.max(best, served);
      return;
    }
    const sites = sitesOf[i];
    if (x === sites.length) {
      visit(i + 1, 0, i + 1 < inst.demandCount ? inst.weight[i + 1] : 0, served);
      return;
    }
    const j = sites[x];
    for (let a = 0; a <= Math.min(remaining, left[j]); a++) {
      left[j] -= a;
      visit(i, x + 1, remaining - a, served + a);
      left[j] += a;
    }
  };
  visit(0, 0, inst.demandCount > 0 ? inst.weight[0] : 0, 0);
  return pre + best;
}

describe('random instances', () => {
  test('tiny integer instances: equal to the exhaustive search over integer splits (300 seeds)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const m = 2 + Math.floor(r() * 3);
      const n = 1 + Math.floor(r() * 3);
      const rows: [number, number][][] = Array.from({ length: n }, () => {
        const row: [number, number][] = [];
        for (let i = 0; i < m; i++) if (r() < 0.6) row.push([i, Math.floor(r() * 40) * 10]);
        return row;
      });
      const spec: Spec = {
        weights: Array.from({ length: m }, () => Math.floor(r() * 4)),
        rows,
        capacity: Array.from({ length: n }, () => Math.floor(r() * 5)),
        fixed: r() < 0.3 ? [n - 1] : [],
        existing: Array.from({ length: m }, () => (r() < 0.15 ? 100 : Infinity)),
      };
      const inst = makeInstance(spec);
      const open = Array.from(freeCandidates(inst)).filter(() => r() < 0.7);
      const got = capacitatedAssignment(inst, open);
      expect(got.served).toBeCloseTo(exhaustiveServed(inst, open), 9);
      checkAssignment(inst, open, got);
    }
  });

  test('fractional instances: equal to the dense Edmonds–Karp reference (200 seeds)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(1000 + seed);
      const m = 5 + Math.floor(r() * 30);
      const n = 2 + Math.floor(r() * 9);
      const rows: [number, number][][] = Array.from({ length: n }, () => {
        const row: [number, number][] = [];
        for (let i = 0; i < m; i++) if (r() < 0.35) row.push([i, Math.floor(r() * 60) * 10]);
        return row;
      });
      const spec: Spec = {
        weights: Array.from({ length: m }, () => (r() < 0.1 ? 0 : r() * 50)),
        rows,
        capacity: Array.from({ length: n }, () => (r() < 0.1 ? Infinity : r() * 120)),
        fixed: r() < 0.3 ? [0] : [],
        existing: Array.from({ length: m }, () => (r() < 0.15 ? r() * 500 : Infinity)),
      };
      const inst = makeInstance(spec);
      const open = Array.from(freeCandidates(inst)).filter(() => r() < 0.6);
      const got = capacitatedAssignment(inst, open);
      const want = capacitatedServed(inst, open);
      expect(Math.abs(got.served - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, want));
      checkAssignment(inst, open, got);
    }
  });

  test('incremental flow: open, close and evaluate keep the maximum flow of the open set (100 seeds)', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const r = rng(5000 + seed);
      const m = 10 + Math.floor(r() * 30);
      const n = 4 + Math.floor(r() * 8);
      const rows: [number, number][][] = Array.from({ length: n }, () => {
        const row: [number, number][] = [];
        for (let i = 0; i < m; i++) if (r() < 0.4) row.push([i, Math.floor(r() * 50) * 10]);
        return row;
      });
      const inst = makeInstance({
        weights: Array.from({ length: m }, () => (r() < 0.1 ? 0 : 1 + Math.floor(r() * 20))),
        rows,
        capacity: Array.from({ length: n }, () => (r() < 0.1 ? Infinity : Math.floor(r() * 60))),
        fixed: r() < 0.4 ? [0] : [],
        existing: Array.from({ length: m }, () => (r() < 0.1 ? 100 : Infinity)),
      });
      const flow = new IncrementalFlow(inst);
      let pre = 0;
      for (let i = 0; i < m; i++) if (inst.layers[0].existingSeconds[i] <= 300) pre += inst.weight[i];
      const on: number[] = [];
      for (let j = 0; j < n; j++) if (inst.fixed[j]) flow.open(j);
      const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
      for (let step = 0; step < 25; step++) {
        const free = Array.from(freeCandidates(inst));
        const closed = free.filter((j) => !on.includes(j));
        const base = capacitatedServed(inst, on);
        if (closed.length > 0 && r() < 0.35) {
          const c = closed[Math.floor(r() * closed.length)];
          const flowBefore = flow.flow.slice();
          const residBefore = flow.resid.slice();
          const g = flow.evaluate(c);
          expect(near(pre + flow.total + g, capacitatedServed(inst, [...on, c]))).toBe(true);
          // evaluating leaves no trace
          expect(Array.from(flow.flow)).toEqual(Array.from(flowBefore));
          expect(Array.from(flow.resid)).toEqual(Array.from(residBefore));
          expect(near(pre + flow.total, base)).toBe(true);
        } else if (closed.length > 0 && (on.length === 0 || r() < 0.6)) {
          const c = closed[Math.floor(r() * closed.length)];
          flow.open(c);
          on.push(c);
        } else if (on.length > 0) {
          const c = on.splice(Math.floor(r() * on.length), 1)[0];
          const stillOpen = [...on];
          for (let j = 0; j < n; j++) if (inst.fixed[j]) stillOpen.push(j);
          flow.close(c, stillOpen);
        }
        expect(near(pre + flow.total, capacitatedServed(inst, on))).toBe(true);
        // the flow itself is feasible and adds up to the total
        let sum = 0;
        const perSite = new Float64Array(n);
        for (let j = 0; j < n; j++) {
          for (let q = flow.pairs.fStart[j]; q < flow.pairs.fStart[j + 1]; q++) {
            const f = flow.flow[q];
            expect(f).toBeGreaterThanOrEqual(-1e-12);
            if (f > 0) expect(on.includes(j) || inst.fixed[j] === 1).toBe(true);
            perSite[j] += f;
            sum += f;
          }
          expect(perSite[j]).toBeLessThanOrEqual(inst.capacity![j] + 1e-9);
        }
        expect(near(sum, flow.total)).toBe(true);
      }
    }
  });
});

describe('bad input', () => {
  const inst = makeInstance({
    weights: [1, 2],
    rows: [[[0, 10]], [[1, 10]]],
    capacity: [1, 1],
  });
  const field = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(PlanInputError);
      return (e as PlanInputError).field;
    }
    throw new Error('no error thrown');
  };
  test('capacity missing, negative, NaN, wrong length', () => {
    expect(field(() => capacitatedAssignment({ ...inst, capacity: undefined }, [0]))).toBe('capacity');
    expect(field(() => capacitatedAssignment({ ...inst, capacity: Float64Array.from([1, -2]) }, [0]))).toBe('capacity');
    expect(field(() => capacitatedAssignment({ ...inst, capacity: Float64Array.from([NaN, 1]) }, [0]))).toBe('capacity');
    expect(field(() => capacitatedAssignment({ ...inst, capacity: Float64Array.from([1]) }, [0]))).toBe('capacity');
  });
  test('open sites outside the candidates or not integers', () => {
    expect(field(() => capacitatedAssignment(inst, [2]))).toBe('open');
    expect(field(() => capacitatedAssignment(inst, [-1]))).toBe('open');
    expect(field(() => capacitatedAssignment(inst, [0.5]))).toBe('open');
  });
  test('malformed instance', () => {
    expect(field(() => capacitatedAssignment({ ...inst, weight: Float64Array.from([1, -1]) }, [0]))).toBe('weight');
  });
});
