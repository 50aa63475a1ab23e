/**
 * Capacitated covering heuristic. Served weight is the maximum flow of the open set, and that
 * function of the set is submodular (a polymatroid rank), so lazy greedy applies and a site's gain
 * with only the fixed sites open bounds its gain later. A site's gain is found by augmenting the
 * current maximum flow into that site alone: with the rest already at maximum, every new
 * augmenting path ends there. The reported objective and assignment come from
 * capacitatedAssignment (an independent max-flow) on the final set.
 */
import { freeCandidates, type PlanInstance, type PlanSolution } from './instance.js';
import { LazyGreedy, buildPairLists, seededRanks, shuffled, checkCapacity, type PairLists } from './heuristic-common.js';
import { alreadyServed, capacitatedAssignment } from './capacitated.js';
import type { Progress } from './heuristic-coverage.js';

/** A maximum flow of demand to open sites, kept up to date as sites open and close. */
export class IncrementalFlow {
  readonly pairs: PairLists;
  /** flow on each kept pair (forward index). */
  readonly flow: Float64Array;
  /** weight of each demand point not served yet. */
  readonly resid: Float64Array;
  readonly load: Float64Array;
  readonly isOpen: Uint8Array;
  readonly capacity: Float64Array;
  /** served weight by open sites (the already-served demand excluded). */
  total = 0;
  /** weight the sites could serve at most. */
  readonly servable: number;
  private readonly eps: number;
  private stampCounter = 0;
  private readonly seen: Int32Array;
  private readonly siteSeen: Int32Array;
  private readonly queue: Int32Array;
  private readonly viaAdd: Int32Array;
  private readonly viaRemove: Int32Array;
  private readonly nextDemand: Int32Array;
  private readonly found: Int32Array;
  /**
   * Per demand point, a linked list of its pairs that carry flow (a superset: entries whose flow
   * fell to 0 are dropped lazily, never while journaling, so a rollback cannot lose one; entries
   * linked while journaling sit at the list heads and are popped again by the rollback).
   */
  private readonly flowHead: Int32Array;
  private readonly flowNext: Int32Array;
  private readonly listed: Uint8Array;
  private readonly fCand: Int32Array;
  private journaling = false;
  private readonly journalFlow: number[] = [];
  private readonly journalResid: number[] = [];
  private readonly journalLinks: number[] = [];

  constructor(inst: PlanInstance) {
    const m = inst.demandCount;
    const n = inst.candidateCount;
    this.capacity = checkCapacity(inst);
    const T = inst.layers[0].thresholdSeconds;
    const served0 = alreadyServed(inst);
    const kept = new Uint8Array(inst.start[n]);
    for (let k = 0; k < kept.length; k++) {
      const i = inst.demand[k];
      if (inst.seconds[k] <= T && !served0[i] && inst.weight[i] > 0) kept[k] = 1;
    }
    this.pairs = buildPairLists(inst, kept, false);
    this.flow = new Float64Array(this.pairs.fDemand.length);
    this.resid = new Float64Array(m);
    let servable = 0;
    for (let i = 0; i < m; i++) {
      if (this.pairs.iStart[i + 1] > this.pairs.iStart[i]) {
        this.resid[i] = inst.weight[i];
        servable += inst.weight[i];
      }
    }
    this.servable = servable;
    this.eps = 1e-12 * Math.max(servable, 1e-300);
    this.load = new Float64Array(n);
    this.isOpen = new Uint8Array(n);
    this.seen = new Int32Array(m);
    this.siteSeen = new Int32Array(n);
    this.queue = new Int32Array(m);
    this.viaAdd = new Int32Array(m);
    this.viaRemove = new Int32Array(m);
    this.nextDemand = new Int32Array(m);
    this.found = new Int32Array(m);
    const pairCount = this.pairs.fDemand.length;
    this.flowHead = new Int32Array(m).fill(-1);
    this.flowNext = new Int32Array(pairCount);
    this.listed = new Uint8Array(pairCount);
    this.fCand = new Int32Array(pairCount);
    for (let j = 0; j < n; j++) this.fCand.fill(j, this.pairs.fStart[j], this.pairs.fStart[j + 1]);
  }

  private setFlow(q: number, v: number): void {
    if (this.journaling) this.journalFlow.push(q, this.flow[q]);
    this.flow[q] = v;
    if (v > 0 && !this.listed[q]) {
      const i = this.pairs.fDemand[q];
      this.listed[q] = 1;
      this.flowNext[q] = this.flowHead[i];
      this.flowHead[i] = q;
      if (this.journaling) this.journalLinks.push(q);
    }
  }

  private setResid(i: number, v: number): void {
    if (this.journaling) this.journalResid.push(i, this.resid[i]);
    this.resid[i] = v;
  }

  /** Push as much more flow as possible into open site j; returns the amount. */
  private augmentInto(j: number): number {
    const { fStart, fDemand } = this.pairs;
    const { flow, resid, eps, seen, siteSeen, queue, viaAdd, viaRemove, nextDemand, flowHead, flowNext, listed, fCand } = this;
    let left = this.capacity[j] - this.load[j];
    let added = 0;
    // paths of one edge first: unserved demand j reaches
    for (let q = fStart[j]; q < fStart[j + 1] && left > eps; q++) {
      const i = fDemand[q];
      const r = resid[i];
      if (r > eps) {
        const x = Math.min(r, left);
        this.setFlow(q, flow[q] + x);
        this.setResid(i, r - x);
        left -= x;
        added += x;
      }
    }
    // then reroutes: demand j reaches hands its flow at site s to j and s takes unserved demand
    // instead. One BFS (shortest paths first) collects several unserved ends; each tree path is
    // then augmented by its current bottleneck (the first always moves flow, so this terminates).
    const found = this.found;
    while (left > eps) {
      const stamp = ++this.stampCounter;
      siteSeen[j] = stamp;
      let qh = 0;
      let qt = 0;
      let foundCount = 0;
      let supply = 0;
      for (let q = fStart[j]; q < fStart[j + 1]; q++) {
        const i = fDemand[q];
        if (seen[i] === stamp) continue;
        seen[i] = stamp;
        viaAdd[i] = q;
        viaRemove[i] = -1;
        nextDemand[i] = -1;
        queue[qt++] = i;
      }
      search: while (qh < qt) {
        const i = queue[qh++];
        for (let p = flowHead[i], prev = -1; p >= 0; p = flowNext[p]) {
          if (!(flow[p] > eps)) {
            if (!this.journaling && flow[p] === 0) {
              // drop the stale entry
              listed[p] = 0;
              if (prev < 0) flowHead[i] = flowNext[p];
              else flowNext[prev] = flowNext[p];
            } else prev = p;
            continue;
          }
          prev = p;
          const s = fCand[p];
          if (siteSeen[s] === stamp) continue;
          siteSeen[s] = stamp;
          for (let q = fStart[s]; q < fStart[s + 1]; q++) {
            const i2 = fDemand[q];
            if (seen[i2] === stamp) continue;
            seen[i2] = stamp;
            viaAdd[i2] = q;
            viaRemove[i2] = p;
            nextDemand[i2] = i;
            if (resid[i2] > eps) {
              found[foundCount++] = i2;
              supply += resid[i2];
              if (supply >= left) break search;
            } else queue[qt++] = i2;
          }
        }
      }
      if (foundCount === 0) break;
      for (let f = 0; f < foundCount && left > eps; f++) {
        const end = found[f];
        let b = Math.min(resid[end], left);
        for (let u = end; u >= 0 && b > eps; u = nextDemand[u]) if (viaRemove[u] >= 0 && flow[viaRemove[u]] < b) b = flow[viaRemove[u]];
        if (!(b > eps)) continue;
        this.setResid(end, resid[end] - b);
        for (let u = end; u >= 0; u = nextDemand[u]) {
          this.setFlow(viaAdd[u], flow[viaAdd[u]] + b);
          if (viaRemove[u] >= 0) this.setFlow(viaRemove[u], flow[viaRemove[u]] - b);
        }
        left -= b;
        added += b;
      }
    }
    this.load[j] += added;
    this.total += added;
    return added;
  }

  /** What j would serve from unserved demand it reaches directly: a lower bound on its gain. */
  directGain(j: number): number {
    const { fStart, fDemand } = this.pairs;
    const left = this.capacity[j] - this.load[j];
    let r = 0;
    for (let q = fStart[j]; q < fStart[j + 1] && r < left; q++) r += this.resid[fDemand[q]];
    return Math.min(r, left);
  }

  open(j: number): number {
    this.isOpen[j] = 1;
    return this.augmentInto(j);
  }

  /** Served weight j would add, without changing the state. */
  evaluate(j: number): number {
    this.journaling = true;
    this.isOpen[j] = 1;
    const load = this.load[j];
    const total = this.total;
    const g = this.augmentInto(j);
    this.journaling = false;
    const jf = this.journalFlow;
    for (let x = jf.length - 2; x >= 0; x -= 2) this.flow[jf[x]] = jf[x + 1];
    const jr = this.journalResid;
    for (let x = jr.length - 2; x >= 0; x -= 2) this.resid[jr[x]] = jr[x + 1];
    const jl = this.journalLinks;
    for (let x = jl.length - 1; x >= 0; x--) {
      const q = jl[x];
      this.flowHead[this.pairs.fDemand[q]] = this.flowNext[q];
      this.listed[q] = 0;
    }
    jf.length = 0;
    jr.length = 0;
    jl.length = 0;
    this.load[j] = load;
    this.total = total;
    this.isOpen[j] = 0;
    return g;
  }

  /** Close j and re-serve what it served elsewhere where capacity allows; `openSites` are the sites still open. */
  close(j: number, openSites: ArrayLike<number>): void {
    const { fStart, fDemand } = this.pairs;
    for (let q = fStart[j]; q < fStart[j + 1]; q++) {
      const f = this.flow[q];
      if (f !== 0) {
        this.resid[fDemand[q]] += f;
        this.flow[q] = 0;
      }
    }
    this.total -= this.load[j];
    this.load[j] = 0;
    this.isOpen[j] = 0;
    // augmenting into each site with room in turn reaches the maximum (no path to a finished site reappears)
    for (let x = 0; x < openSites.length; x++) {
      const s = openSites[x];
      if (s !== j && this.isOpen[s] && this.capacity[s] - this.load[s] > this.eps) this.augmentInto(s);
    }
  }
}

export function solveCapacitated(
  inst: PlanInstance,
  p: number,
  random: () => number,
  onProgress: Progress,
  log: string[],
): { open: Int32Array; objective: number; assignment: NonNullable<PlanSolution['assignment']> } {
  const n = inst.candidateCount;
  const flow = new IncrementalFlow(inst);
  const fixedSites: number[] = [];
  for (let j = 0; j < n; j++) {
    if (inst.fixed[j]) {
      fixedSites.push(j);
      flow.open(j);
    }
  }
  const free = freeCandidates(inst);
  const { rank } = seededRanks(n, free, random);
  // gain with only the fixed sites open: an upper bound on any later gain
  const bound = new Float64Array(n);
  const bounded = new Uint8Array(n);
  let greedyEvaluations = 0;
  const greedy = new LazyGreedy(n, free, rank, (c) => {
    greedyEvaluations++;
    const g = flow.evaluate(c);
    if (!bounded[c]) {
      bounded[c] = 1;
      bound[c] = g;
    }
    return g;
  }, (c) => flow.directGain(c));
  const open = new Int32Array(p);
  for (let k = 0; k < p; k++) {
    const { site } = greedy.next();
    open[k] = site;
    flow.open(site);
    onProgress?.('greedy', k + 1, p);
  }
  const served0 = alreadyServed(inst);
  let preServed = 0;
  for (let i = 0; i < inst.demandCount; i++) if (served0[i]) preServed += inst.weight[i];
  log.push(`greedy: ${p} sites, served ${preServed + flow.total} (${preServed} already served, ${flow.servable} more within reach; ${greedyEvaluations} gain evaluations)`);

  let moves = 0;
  let evaluations = 0;
  const maxEvaluations = 5 * free.length + 50 * p;
  if (p > 0 && p < free.length) {
    const byBound = free.slice().sort((a, b) => bound[b] - bound[a] || rank[a] - rank[b]);
    const eps = 1e-9 * Math.max(1, flow.servable);
    const current = (): Int32Array => Int32Array.from([...fixedSites, ...open]);
    const slotOrder = shuffled(Int32Array.from({ length: p }, (_, s) => s), random);
    let stale = 0;
    for (let k = 0; stale < p && evaluations < maxEvaluations; k = (k + 1) % p) {
      const slot = slotOrder[k];
      const j = open[slot];
      const before = flow.total;
      flow.close(j, current());
      const loss = before - flow.total;
      let entering = -1;
      for (let x = 0; x < byBound.length && evaluations < maxEvaluations; x++) {
        const c = byBound[x];
        if (bound[c] <= loss + eps) break;
        if (c === j || flow.isOpen[c]) continue;
        evaluations++;
        if (flow.evaluate(c) > loss + eps) {
          entering = c;
          break;
        }
      }
      if (entering >= 0) {
        flow.open(entering);
        open[slot] = entering;
        moves++;
        stale = 0;
      } else {
        flow.open(j);
        stale++;
      }
      onProgress?.('swap', Math.min(stale, p), p);
    }
  }
  const { served, assignment } = capacitatedAssignment(inst, open);
  log.push(`swap: ${moves} improving swaps, ${evaluations} gain evaluations${evaluations >= maxEvaluations ? ' (evaluation budget reached)' : ''}; served ${served}`);
  return { open, objective: served, assignment };
}
