/**
 * Brute-force optima of the facility-location models for small instances: every p-subset of the
 * free candidates is evaluated with the objective definitions (src/plan/objective.ts); the
 * capacitated model's best assignment per subset is a max-flow written here. Tests of any solver
 * compare against these.
 */
import type { PlanInstance, PlanModel } from '../../src/plan/instance.js';
import { freeCandidates } from '../../src/plan/instance.js';
import { coveredShare, coveredValue, totalWeightedSeconds } from '../../src/plan/objective.js';

/** Calls visit with every size-k subset of items (the array is reused between calls). */
export function forEachSubset(items: ArrayLike<number>, k: number, visit: (subset: number[]) => void): void {
  const n = items.length;
  if (k < 0 || k > n) return;
  const idx = Array.from({ length: k }, (_, x) => x);
  const subset = idx.map((x) => items[x]);
  for (;;) {
    visit(subset);
    let x = k - 1;
    while (x >= 0 && idx[x] === n - k + x) x--;
    if (x < 0) return;
    idx[x]++;
    for (let y = x + 1; y < k; y++) idx[y] = idx[y - 1] + 1;
    for (let y = x; y < k; y++) subset[y] = items[idx[y]];
  }
}

/**
 * Most weight the open sites (plus fixed ones) can serve in the capacitated model: demand served
 * by an existing facility (layer 0) counts whole; the rest flows source → demand (its weight) →
 * open or fixed site within layer 0's threshold → sink (site capacity). Edmonds–Karp on a dense
 * residual matrix (small instances only).
 */
export function capacitatedServed(inst: PlanInstance, open: ArrayLike<number>): number {
  const layer = inst.layers[0];
  const cap = inst.capacity;
  if (!cap) throw new Error('capacitatedServed needs capacities');
  const isOpen = new Uint8Array(inst.candidateCount);
  for (let j = 0; j < inst.candidateCount; j++) if (inst.fixed[j]) isOpen[j] = 1;
  for (let x = 0; x < open.length; x++) isOpen[open[x]] = 1;
  let served = 0;
  const waiting: number[] = [];
  for (let i = 0; i < inst.demandCount; i++) {
    if (layer.existingSeconds[i] <= layer.thresholdSeconds) served += inst.weight[i];
    else waiting.push(i);
  }
  // nodes: 0 source, 1..D demand, D+1..D+n sites, D+n+1 sink
  const D = waiting.length;
  const n = inst.candidateCount;
  const N = D + n + 2;
  const sink = N - 1;
  const r = Array.from({ length: N }, () => new Float64Array(N));
  const demandNode = new Map<number, number>();
  waiting.forEach((i, x) => {
    demandNode.set(i, 1 + x);
    r[0][1 + x] = inst.weight[i];
  });
  for (let j = 0; j < n; j++) {
    if (!isOpen[j]) continue;
    r[1 + D + j][sink] = cap[j];
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) {
      const node = demandNode.get(inst.demand[k]);
      if (node !== undefined && inst.seconds[k] <= layer.thresholdSeconds) r[node][1 + D + j] = Infinity;
    }
  }
  let flow = 0;
  const prev = new Int32Array(N);
  for (;;) {
    prev.fill(-1);
    prev[0] = 0;
    const queue = [0];
    for (let h = 0; h < queue.length && prev[sink] < 0; h++) {
      const u = queue[h];
      for (let v = 0; v < N; v++) {
        if (prev[v] < 0 && r[u][v] > 1e-12) {
          prev[v] = u;
          queue.push(v);
        }
      }
    }
    if (prev[sink] < 0) break;
    let push = Infinity;
    for (let v = sink; v !== 0; v = prev[v]) push = Math.min(push, r[prev[v]][v]);
    for (let v = sink; v !== 0; v = prev[v]) {
      r[prev[v]][v] -= push;
      r[v][prev[v]] += push;
    }
    flow += push;
  }
  return served + flow;
}

export interface BruteForceOptimum {
  objective: number;
  /** one optimal plan (free candidates). */
  open: number[];
}

/**
 * The optimum of mclp / pmedian / capacitated by enumerating every p-subset of free candidates;
 * lscp by increasing subset sizes until one reaches the share (null when none does).
 */
export function bruteForce(inst: PlanInstance, model: PlanModel): BruteForceOptimum | null {
  const free = freeCandidates(inst);
  if (model.kind === 'lscp') {
    for (let k = 0; k <= free.length; k++) {
      let found: number[] | null = null;
      forEachSubset(free, k, (s) => {
        if (!found && coveredShare(inst, s) >= model.coverShare) found = s.slice();
      });
      if (found) return { objective: k, open: found };
    }
    return null;
  }
  const maximise = model.kind !== 'pmedian';
  const value = (s: number[]): number => {
    switch (model.kind) {
      case 'mclp':
        return coveredValue(inst, s);
      case 'pmedian':
        return totalWeightedSeconds(inst, s, model.unreachedSeconds);
      case 'capacitated':
        return capacitatedServed(inst, s);
    }
  };
  let best: BruteForceOptimum | null = null;
  forEachSubset(free, model.p, (s) => {
    const v = value(s);
    if (!best || (maximise ? v > best.objective : v < best.objective)) best = { objective: v, open: s.slice() };
  });
  return best;
}
