/**
 * Covering heuristics (MCLP, LSCP) on a shared bookkeeping of how many open sites cover each
 * demand point in each layer.
 *
 * With count[i,l] kept up to date, every quantity a move needs is local:
 *  - gain[c]: value of the (i,l) that c would cover and nobody open covers (count = 0);
 *  - loss[j]: value of the (i,l) that only open site j covers (count = 1);
 *  - extra_j[c]: value of the (i,l) only j covers that c covers too,
 * so swapping j out for c changes the objective by gain[c] + extra_j[c] − loss[j]
 * (vertex substitution, Teitz–Bart style, with Whitaker's bookkeeping).
 * Demand already covered by an existing facility or a fixed site adds nothing and is left out.
 */
import { PlanInputError, freeCandidates, type PlanInstance } from './instance.js';
import { LazyGreedy, buildPairLists, seededRanks, shuffled, type PairLists } from './heuristic-common.js';

export type Progress = ((phase: string, done: number, total: number) => void) | undefined;

interface LayerSpec {
  thresholdSeconds: number;
  value: number;
  existingSeconds: Float64Array;
}

export class CoverageState {
  readonly n: number;
  readonly m: number;
  readonly layerCount: number;
  readonly threshold: Float64Array;
  readonly value: Float64Array;
  /** (i,l) at i·L + l: covered whatever the plan (existing facility or fixed site). */
  readonly pre: Uint8Array;
  /** (i,l): value × weight, 0 when pre-covered. */
  readonly worth: Float64Array;
  /** (i,l): open non-fixed sites covering it, and the sum of their ids (the only one's id when count = 1). */
  readonly count: Int32Array;
  readonly sumId: Float64Array;
  /** pairs of free candidates with demand that some layer could still gain (inverse rows nearest first when L > 1). */
  readonly pairs: PairLists;
  readonly isOpen: Uint8Array;
  readonly gain: Float64Array;
  readonly loss: Float64Array;
  /** gain / loss are maintained only after initTracking (the greedy phase needs neither). */
  private tracking = false;
  /** inner-loop steps spent on extra sums, for deterministic work budgets. */
  work = 0;

  constructor(
    private readonly inst: PlanInstance,
    layers: readonly LayerSpec[],
  ) {
    const n = (this.n = inst.candidateCount);
    const m = (this.m = inst.demandCount);
    const L = (this.layerCount = layers.length);
    this.threshold = Float64Array.from(layers, (l) => l.thresholdSeconds);
    this.value = Float64Array.from(layers, (l) => l.value);
    const pre = (this.pre = new Uint8Array(m * L));
    for (let l = 0; l < L; l++) {
      const e = layers[l].existingSeconds;
      const t = this.threshold[l];
      for (let i = 0; i < m; i++) if (e[i] <= t) pre[i * L + l] = 1;
    }
    for (let j = 0; j < n; j++) {
      if (!inst.fixed[j]) continue;
      for (let k = inst.start[j]; k < inst.start[j + 1]; k++) {
        for (let l = 0; l < L; l++) if (inst.seconds[k] <= this.threshold[l]) pre[inst.demand[k] * L + l] = 1;
      }
    }
    const worth = (this.worth = new Float64Array(m * L));
    for (let i = 0; i < m; i++) for (let l = 0; l < L; l++) if (!pre[i * L + l]) worth[i * L + l] = this.value[l] * inst.weight[i];
    const thr = this.threshold;
    const kept = new Uint8Array(inst.start[n]);
    for (let j = 0; j < n; j++) {
      if (inst.fixed[j]) continue;
      for (let k = inst.start[j]; k < inst.start[j + 1]; k++) {
        const i = inst.demand[k];
        if (!(inst.weight[i] > 0)) continue;
        const s = inst.seconds[k];
        for (let l = 0; l < L; l++) {
          if (s <= thr[l] && !pre[i * L + l]) {
            kept[k] = 1;
            break;
          }
        }
      }
    }
    // one layer: every kept pair is within its threshold, so the rows need no order
    this.pairs = buildPairLists(inst, kept, L > 1);
    this.count = new Int32Array(m * L);
    this.sumId = new Float64Array(m * L);
    this.isOpen = new Uint8Array(n);
    this.gain = new Float64Array(n);
    this.loss = new Float64Array(n);
  }

  /** Value c would add to the current open set. */
  gainOf(c: number): number {
    const { fStart, fDemand, fSeconds } = this.pairs;
    const L = this.layerCount;
    let g = 0;
    for (let q = fStart[c]; q < fStart[c + 1]; q++) {
      const base = fDemand[q] * L;
      const s = fSeconds[q];
      for (let l = 0; l < L; l++) {
        const x = base + l;
        if (s <= this.threshold[l] && !this.pre[x] && this.count[x] === 0) g += this.worth[x];
      }
    }
    return g;
  }

  /** Add `delta` to the gain of every candidate covering (i,l). */
  private spread(i: number, l: number, delta: number): void {
    const { iStart, iCand, iSeconds } = this.pairs;
    const t = this.threshold[l];
    for (let x = iStart[i]; x < iStart[i + 1] && iSeconds[x] <= t; x++) this.gain[iCand[x]] += delta;
  }

  add(c: number): void {
    const { fStart, fDemand, fSeconds } = this.pairs;
    const L = this.layerCount;
    this.isOpen[c] = 1;
    this.loss[c] = 0;
    for (let q = fStart[c]; q < fStart[c + 1]; q++) {
      const i = fDemand[q];
      const s = fSeconds[q];
      for (let l = 0; l < L; l++) {
        const x = i * L + l;
        if (s > this.threshold[l] || this.pre[x]) continue;
        const before = this.count[x];
        const only = this.sumId[x];
        this.count[x] = before + 1;
        this.sumId[x] = only + c;
        if (!this.tracking) continue;
        const v = this.worth[x];
        if (before === 0) {
          this.loss[c] += v;
          this.spread(i, l, -v);
        } else if (before === 1) this.loss[only] -= v;
      }
    }
  }

  remove(c: number): void {
    const { fStart, fDemand, fSeconds } = this.pairs;
    const L = this.layerCount;
    this.isOpen[c] = 0;
    for (let q = fStart[c]; q < fStart[c + 1]; q++) {
      const i = fDemand[q];
      const s = fSeconds[q];
      for (let l = 0; l < L; l++) {
        const x = i * L + l;
        if (s > this.threshold[l] || this.pre[x]) continue;
        const after = --this.count[x];
        this.sumId[x] -= c;
        if (!this.tracking) continue;
        const v = this.worth[x];
        if (after === 0) this.spread(i, l, v);
        else if (after === 1) this.loss[this.sumId[x]] += v;
      }
    }
    this.loss[c] = 0;
  }

  /** Compute gain (every free candidate) and loss (open ones) afresh and keep them up to date from now on. */
  initTracking(): void {
    this.tracking = true;
    const { fStart, fDemand, fSeconds } = this.pairs;
    const L = this.layerCount;
    for (let c = 0; c < this.n; c++) {
      this.gain[c] = this.gainOf(c);
      let loss = 0;
      if (this.isOpen[c]) {
        for (let q = fStart[c]; q < fStart[c + 1]; q++) {
          const base = fDemand[q] * L;
          for (let l = 0; l < L; l++) {
            const x = base + l;
            if (fSeconds[q] <= this.threshold[l] && !this.pre[x] && this.count[x] === 1) loss += this.worth[x];
          }
        }
      }
      this.loss[c] = loss;
    }
  }

  /**
   * extra[c] += value of the (i,l) only open site j covers and c covers too; the candidates
   * touched are listed in `touched` (returns how many) so the caller can reset them.
   */
  extraFor(j: number, extra: Float64Array, touched: Int32Array): number {
    const { fStart, fDemand, fSeconds, iStart, iCand, iSeconds } = this.pairs;
    const L = this.layerCount;
    let t = 0;
    let work = 0;
    for (let q = fStart[j]; q < fStart[j + 1]; q++) {
      const i = fDemand[q];
      const s = fSeconds[q];
      for (let l = 0; l < L; l++) {
        const x = i * L + l;
        const thr = this.threshold[l];
        if (s > thr || this.pre[x] || this.count[x] !== 1) continue;
        const v = this.worth[x];
        if (!(v > 0)) continue;
        let y = iStart[i];
        for (; y < iStart[i + 1] && iSeconds[y] <= thr; y++) {
          const c = iCand[y];
          if (extra[c] === 0) touched[t++] = c;
          extra[c] += v;
        }
        work += y - iStart[i];
      }
    }
    this.work += work;
    return t;
  }

  /** Σ layers value × covered weight, summed exactly as objective.ts does (same order, same terms). */
  coveredValue(): number {
    const L = this.layerCount;
    let v = 0;
    for (let l = 0; l < L; l++) {
      let w = 0;
      for (let i = 0; i < this.m; i++) if (this.pre[i * L + l] || this.count[i * L + l] > 0) w += this.inst.weight[i];
      v += this.value[l] * w;
    }
    return v;
  }

  /** Layer-0 covered weight and total weight, summed as objective.ts's coveredShare does. */
  coveredWeight(): { covered: number; total: number } {
    const L = this.layerCount;
    let total = 0;
    let covered = 0;
    for (let i = 0; i < this.m; i++) {
      total += this.inst.weight[i];
      if (this.pre[i * L] || this.count[i * L] > 0) covered += this.inst.weight[i];
    }
    return { covered, total };
  }

  /** Σ worth over every (i,l): the scale for "no real improvement" thresholds. */
  totalWorth(): number {
    let s = 0;
    for (let x = 0; x < this.worth.length; x++) s += this.worth[x];
    return s;
  }
}

/** Best closed free candidate by gain + extra, ties to the earlier one in the seeded order. */
function bestEntering(state: CoverageState, order: Int32Array, extra: Float64Array): { site: number; value: number } {
  let site = -1;
  let value = -Infinity;
  for (let r = 0; r < order.length; r++) {
    const c = order[r];
    if (state.isOpen[c]) continue;
    const v = state.gain[c] + extra[c];
    if (v > value) {
      value = v;
      site = c;
    }
  }
  return { site, value };
}

export interface HeuristicResult {
  open: Int32Array;
  objective: number;
}

/** MCLP: lazy greedy, then first-improvement vertex substitution over the open sites. */
export function solveMclp(inst: PlanInstance, p: number, random: () => number, onProgress: Progress, log: string[]): HeuristicResult {
  const state = new CoverageState(inst, inst.layers);
  const free = freeCandidates(inst);
  const { rank, order } = seededRanks(inst.candidateCount, free, random);
  log.push(`coverage pairs kept: ${state.pairs.fDemand.length} of ${inst.start[inst.candidateCount]}`);

  const greedy = new LazyGreedy(inst.candidateCount, free, rank, (c) => state.gainOf(c));
  const open = new Int32Array(p);
  for (let k = 0; k < p; k++) {
    const { site } = greedy.next();
    open[k] = site;
    state.add(site);
    onProgress?.('greedy', k + 1, p);
  }
  log.push(`greedy: ${p} sites, objective ${state.coveredValue()}`);
  if (p === 0 || p === free.length) return { open, objective: state.coveredValue() };

  state.initTracking();
  const eps = 1e-10 * state.totalWorth();
  const extra = new Float64Array(inst.candidateCount);
  const touched = new Int32Array(inst.candidateCount);
  const slotOrder = shuffled(Int32Array.from({ length: p }, (_, s) => s), random);
  const maxEvaluations = 50 * p + 500;
  let stale = 0;
  let evaluations = 0;
  let moves = 0;
  for (let s = 0; stale < p && evaluations < maxEvaluations; s = (s + 1) % p) {
    const slot = slotOrder[s];
    const j = open[slot];
    const t = state.extraFor(j, extra, touched);
    const best = bestEntering(state, order, extra);
    for (let x = 0; x < t; x++) extra[touched[x]] = 0;
    evaluations++;
    if (best.site >= 0 && best.value - state.loss[j] > eps) {
      state.remove(j);
      state.add(best.site);
      open[slot] = best.site;
      moves++;
      stale = 0;
    } else stale++;
    onProgress?.('swap', Math.min(stale, p), p);
  }
  const objective = state.coveredValue();
  log.push(`swap: ${moves} improving swaps in ${evaluations} site evaluations${evaluations >= maxEvaluations ? ' (evaluation budget reached)' : ''}, objective ${objective}`);
  return { open, objective };
}

/**
 * LSCP: greedy until the layer-0 share is reached, drop redundant sites, then look for 2-for-1
 * exchanges (two open sites replaced by one closed one) within a deterministic work budget.
 * Every candidate move is screened with the bookkeeping and accepted only after the share is
 * recomputed exactly as objective.ts computes it.
 */
export function solveLscp(inst: PlanInstance, coverShare: number, random: () => number, onProgress: Progress, log: string[]): HeuristicResult {
  const layer0 = inst.layers[0];
  const state = new CoverageState(inst, [{ thresholdSeconds: layer0.thresholdSeconds, value: 1, existingSeconds: layer0.existingSeconds }]);
  const { iStart } = state.pairs;
  const reachable = (): number => {
    let total = 0;
    let covered = 0;
    for (let i = 0; i < inst.demandCount; i++) {
      total += inst.weight[i];
      if (state.pre[i] || iStart[i + 1] > iStart[i]) covered += inst.weight[i];
    }
    return total > 0 ? covered / total : 1;
  };
  const best = reachable();
  if (best < coverShare) {
    throw new PlanInputError(
      `coverShare ${coverShare} cannot be reached: with every candidate open ${(best * 100).toFixed(4)}% of the weight is covered (best reachable share ${best})`,
      'coverShare',
    );
  }
  const share = (): number => {
    const { covered, total } = state.coveredWeight();
    return total > 0 ? covered / total : 1;
  };
  const permille = (x: number): number => Math.floor(x * 1000);
  if (share() >= coverShare) {
    log.push(`target share ${coverShare} is met without new sites`);
    return { open: new Int32Array(0), objective: 0 };
  }

  const free = freeCandidates(inst);
  const { rank, order } = seededRanks(inst.candidateCount, free, random);
  const greedy = new LazyGreedy(inst.candidateCount, free, rank, (c) => state.gainOf(c));
  let sel: number[] = [];
  for (let reached = share(); reached < coverShare; ) {
    const { site } = greedy.next();
    // unreachable targets were rejected above; this guards against an inconsistent instance
    if (site < 0) throw new PlanInputError(`coverShare ${coverShare} cannot be reached (greedy stopped at ${reached})`, 'coverShare');
    sel.push(site);
    state.add(site);
    reached = share();
    onProgress?.('greedy', permille(reached), permille(coverShare));
  }
  log.push(`greedy: ${sel.length} sites, share ${share()}`);

  state.initTracking();
  const { total } = state.coveredWeight();
  const target = coverShare * total;
  // the bookkeeping screens moves with a little slack; share() decides
  const tol = 1e-9 * total;

  const dropRedundant = (): number => {
    let dropped = 0;
    const byLoss = sel.slice().sort((a, b) => state.loss[a] - state.loss[b] || rank[a] - rank[b]);
    for (const j of byLoss) {
      if (state.coveredWeight().covered - state.loss[j] < target - tol) continue;
      state.remove(j);
      if (share() >= coverShare) dropped++;
      else state.add(j);
    }
    if (dropped > 0) sel = sel.filter((j) => state.isOpen[j]);
    return dropped;
  };
  const redundant = dropRedundant();
  log.push(`redundant sites dropped: ${redundant}, ${sel.length} left`);

  const extra = new Float64Array(inst.candidateCount);
  const touched = new Int32Array(inst.candidateCount);
  const workBudget = 2e7 + 20 * state.pairs.fDemand.length;
  let exchanges = 0;
  let improved = true;
  while (improved && state.work < workBudget) {
    improved = false;
    for (const j1 of shuffled(Int32Array.from(sel), random)) {
      if (state.work >= workBudget) break;
      state.remove(j1);
      if (share() >= coverShare) {
        sel = sel.filter((j) => j !== j1);
        improved = true;
        break;
      }
      const deficit = target - state.coveredWeight().covered;
      // one site must at least cover j1's deficit on its own
      const entering: number[] = [];
      for (let r = 0; r < order.length; r++) {
        const c = order[r];
        if (c !== j1 && !state.isOpen[c] && state.gain[c] >= deficit - tol) entering.push(c);
      }
      let done = false;
      if (entering.length > 0) {
        for (const j2 of sel) {
          if (j2 === j1 || state.work >= workBudget) continue;
          const t = state.extraFor(j2, extra, touched);
          const need = deficit + state.loss[j2] - tol;
          let c = -1;
          let cv = -Infinity;
          for (const e of entering) {
            const v = state.gain[e] + extra[e];
            if (v >= need && v > cv) {
              cv = v;
              c = e;
            }
          }
          for (let x = 0; x < t; x++) extra[touched[x]] = 0;
          if (c < 0) continue;
          state.remove(j2);
          state.add(c);
          if (share() >= coverShare) {
            sel = sel.filter((j) => j !== j1 && j !== j2);
            sel.push(c);
            done = true;
            break;
          }
          state.remove(c);
          state.add(j2);
        }
      }
      if (done) {
        exchanges++;
        dropRedundant();
        improved = true;
        onProgress?.('swap', exchanges, exchanges);
        break;
      }
      state.add(j1);
    }
  }
  log.push(`2-for-1 exchanges: ${exchanges}${state.work >= workBudget ? ' (work budget reached)' : ''}; ${sel.length} sites, share ${share()}`);
  return { open: Int32Array.from(sel), objective: sel.length };
}
