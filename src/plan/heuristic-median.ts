/**
 * p-median heuristic: lazy greedy on the reduction of Σ w·cost, then vertex substitution with
 * nearest / second-nearest bookkeeping (Whitaker's fast interchange, Resende–Werneck gains):
 * cost_i = min(base_i, nearest open site) where base_i = min(existing, unreachedSeconds, fixed sites).
 * For an open site s and a closed c, swapping s out for c changes the cost by
 *   −gain[c] + loss[s] − extra_s[c], with
 *   gain[c]     = Σ_i w·max(0, d1 − d(i,c)),
 *   loss[s]     = Σ_{i served by s} w·(d2 − d1),
 *   extra_s[c]  = Σ_{i served by s, d(i,c) < d2} w·(d2 − max(d(i,c), d1)).
 */
import { freeCandidates, type PlanInstance } from './instance.js';
import { LazyGreedy, buildPairLists, seededRanks, shuffled } from './heuristic-common.js';
import type { HeuristicResult, Progress } from './heuristic-coverage.js';

/** Σ w·min(existing, nearest of open ∪ fixed, unreached), summed exactly as objective.ts does. */
function weightedSeconds(inst: PlanInstance, open: Int32Array, unreached: number): number {
  const near = new Float64Array(inst.demandCount).fill(Infinity);
  const visit = (j: number): void => {
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) if (inst.seconds[k] < near[inst.demand[k]]) near[inst.demand[k]] = inst.seconds[k];
  };
  for (let j = 0; j < inst.candidateCount; j++) if (inst.fixed[j]) visit(j);
  for (let x = 0; x < open.length; x++) if (!inst.fixed[open[x]]) visit(open[x]);
  const existing = inst.layers[0].existingSeconds;
  let s = 0;
  for (let i = 0; i < inst.demandCount; i++) s += inst.weight[i] * Math.min(near[i], existing[i], unreached);
  return s;
}

export function solvePmedian(inst: PlanInstance, p: number, unreached: number, random: () => number, onProgress: Progress, log: string[]): HeuristicResult {
  const n = inst.candidateCount;
  const m = inst.demandCount;
  const w = inst.weight;
  const existing = inst.layers[0].existingSeconds;
  const base = new Float64Array(m);
  for (let i = 0; i < m; i++) base[i] = Math.min(existing[i], unreached);
  for (let j = 0; j < n; j++) {
    if (!inst.fixed[j]) continue;
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) base[inst.demand[k]] = Math.min(base[inst.demand[k]], inst.seconds[k]);
  }
  // a pair no nearer than the base can never lower a cost
  const kept = new Uint8Array(inst.start[n]);
  for (let j = 0; j < n; j++) {
    if (inst.fixed[j]) continue;
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) if (w[inst.demand[k]] > 0 && inst.seconds[k] < base[inst.demand[k]]) kept[k] = 1;
  }
  const pairs = buildPairLists(inst, kept, true);
  const { fStart, fDemand, fSeconds, iStart, iCand, iSeconds } = pairs;
  log.push(`pairs kept: ${fDemand.length} of ${inst.start[n]}`);

  const d1 = base.slice();
  const free = freeCandidates(inst);
  const { rank, order } = seededRanks(n, free, random);
  const gainOf = (c: number): number => {
    let g = 0;
    for (let q = fStart[c]; q < fStart[c + 1]; q++) {
      const i = fDemand[q];
      const d = d1[i] - fSeconds[q];
      if (d > 0) g += w[i] * d;
    }
    return g;
  };
  const greedy = new LazyGreedy(n, free, rank, gainOf);
  const open = new Int32Array(p);
  const isOpen = new Uint8Array(n);
  for (let k = 0; k < p; k++) {
    const { site } = greedy.next();
    open[k] = site;
    isOpen[site] = 1;
    for (let q = fStart[site]; q < fStart[site + 1]; q++) if (fSeconds[q] < d1[fDemand[q]]) d1[fDemand[q]] = fSeconds[q];
    onProgress?.('greedy', k + 1, p);
  }
  log.push(`greedy: ${p} sites, objective ${weightedSeconds(inst, open, unreached)}`);
  if (p === 0 || p === free.length) return { open, objective: weightedSeconds(inst, open, unreached) };

  // nearest (d1, owner; −1 = the base) and second nearest (d2) of every demand point
  const owner = new Int32Array(m).fill(-1);
  const d2 = new Float64Array(m);
  const nearest = (i: number): void => {
    let a = base[i];
    let o = -1;
    let b = Infinity;
    // rows are nearest first: past the second nearest nothing changes
    for (let x = iStart[i]; x < iStart[i + 1]; x++) {
      if (!isOpen[iCand[x]]) continue;
      const s = iSeconds[x];
      if (s >= b) break;
      if (s < a) {
        b = a;
        a = s;
        o = iCand[x];
      } else b = s;
    }
    d1[i] = a;
    owner[i] = o;
    d2[i] = b;
  };
  const gain = new Float64Array(n);
  const loss = new Float64Array(n);
  /** add (sign 1) or remove (−1) demand i's share of gain and loss. */
  const contribute = (i: number, sign: number): void => {
    const wi = w[i] * sign;
    for (let x = iStart[i]; x < iStart[i + 1]; x++) {
      const d = d1[i] - iSeconds[x];
      if (!(d > 0)) break;
      gain[iCand[x]] += wi * d;
    }
    if (owner[i] >= 0) loss[owner[i]] += wi * (d2[i] - d1[i]);
  };
  for (let i = 0; i < m; i++) {
    nearest(i);
    if (w[i] > 0) contribute(i, 1);
  }

  let baseCost = 0;
  for (let i = 0; i < m; i++) baseCost += w[i] * base[i];
  const eps = 1e-10 * baseCost;
  const extra = new Float64Array(n);
  const touched = new Int32Array(n);
  const stamp = new Int32Array(m);
  const affected = new Int32Array(m);
  let round = 0;
  const slotOrder = shuffled(Int32Array.from({ length: p }, (_, s) => s), random);
  const maxEvaluations = 50 * p + 500;
  let stale = 0;
  let evaluations = 0;
  let moves = 0;
  for (let k = 0; stale < p && evaluations < maxEvaluations; k = (k + 1) % p) {
    const slot = slotOrder[k];
    const s = open[slot];
    let t = 0;
    for (let q = fStart[s]; q < fStart[s + 1]; q++) {
      const i = fDemand[q];
      if (owner[i] !== s) continue;
      const a = d1[i];
      const b = d2[i];
      for (let x = iStart[i]; x < iStart[i + 1]; x++) {
        const sc = iSeconds[x];
        if (sc >= b) break;
        const c = iCand[x];
        if (extra[c] === 0) touched[t++] = c;
        extra[c] += w[i] * (b - (sc > a ? sc : a));
      }
    }
    let best = -1;
    let bestValue = -Infinity;
    for (let r = 0; r < order.length; r++) {
      const c = order[r];
      if (isOpen[c]) continue;
      const v = gain[c] + extra[c];
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    for (let x = 0; x < t; x++) extra[touched[x]] = 0;
    evaluations++;
    if (best >= 0 && bestValue - loss[s] > eps) {
      // only demand reached by s or best changes its nearest / second nearest
      round++;
      let count = 0;
      for (const site of [s, best]) {
        for (let q = fStart[site]; q < fStart[site + 1]; q++) {
          const i = fDemand[q];
          if (stamp[i] === round) continue;
          stamp[i] = round;
          affected[count++] = i;
        }
      }
      for (let x = 0; x < count; x++) contribute(affected[x], -1);
      isOpen[s] = 0;
      isOpen[best] = 1;
      for (let x = 0; x < count; x++) {
        nearest(affected[x]);
        contribute(affected[x], 1);
      }
      loss[s] = 0;
      open[slot] = best;
      moves++;
      stale = 0;
    } else stale++;
    onProgress?.('swap', Math.min(stale, p), p);
  }
  const objective = weightedSeconds(inst, open, unreached);
  log.push(`swap: ${moves} improving swaps in ${evaluations} site evaluations${evaluations >= maxEvaluations ? ' (evaluation budget reached)' : ''}, objective ${objective}`);
  return { open, objective };
}
