/**
 * The facility-location models as mixed-integer programs in row-wise typed arrays, after
 * size reductions that keep every optimum. The same arrays go to HiGHS directly (exact.ts) and
 * to CPLEX LP text (writeLpText) for cross-checks with other solvers.
 *
 * Reductions (each keeps the set of optimal plans and the objective value):
 *  - demand already served whatever the plan (existing facility within the threshold, or a fixed
 *    candidate within it) is a constant in the objective, not a row;
 *  - demand no free candidate can serve is a constant too (0 covered, or its fallback seconds);
 *  - demand with zero weight (or zero layer value) contributes nothing and is left out;
 *  - demand rows with identical free-candidate sets are merged, weights summed: the model only
 *    sees "is this set touched", so two identical rows are one row with the summed weight. For the
 *    covering model this also merges across layers (one bundle site covers a set in any layer);
 *    for p-median the (candidate, seconds) lists and fallback seconds must be identical; for the
 *    capacitated model identical site sets (demand is splittable, so one merged point with the
 *    summed weight has the same feasible served amounts);
 *  - covering: a set with one candidate becomes that candidate's objective coefficient
 *    (y ≤ x_j with y maximised means y = x_j);
 *  - capacitated: a site's capacity is capped at the weight it can reach (no plan uses more).
 */
import type { PlanInstance, PlanModel, PlanModelKind } from './instance.js';
import { freeCandidates } from './instance.js';

/** A MIP: max/min colCost·x + offset, rowLower ≤ A x ≤ rowUpper, colLower ≤ x ≤ colUpper. */
export interface MipModel {
  kind: PlanModelKind;
  maximize: boolean;
  offset: number;
  numCols: number;
  colCost: Float64Array;
  colLower: Float64Array;
  colUpper: Float64Array;
  /** 1 = binary column (the site decisions). */
  colBinary: Uint8Array;
  /** column c < free.length opens candidate free[c]; later columns are auxiliary. */
  free: Int32Array;
  /** LP-text name prefix of the auxiliary columns. */
  auxPrefix: 'y' | 'u' | 'z';
  numRows: number;
  rowLower: Float64Array;
  rowUpper: Float64Array;
  rowStart: Int32Array;
  rowIndex: Int32Array;
  rowValue: Float64Array;
  /** LP-text names of some rows; the rest are r<index>. */
  rowNames: Map<number, string>;
  /** a feasible point (every column), given to the solver as its first incumbent; null when none is cheap. */
  start: Float64Array | null;
  /** a bound on the optimum that needs no solver (upper when maximising, lower when minimising). */
  trivialBound: number;
  /** capacitated only: how to read an assignment back. */
  capacitated?: CapacitatedMap;
  /** what was reduced, one line each. */
  log: string[];
}

/** Capacitated columns z (group g served by site) and the demand points in each group. */
export interface CapacitatedMap {
  /** first z column (after the site columns). */
  zFirst: number;
  zGroup: Int32Array;
  zSite: Int32Array;
  /** effective capacity of each candidate (min of capacity and reachable weight). */
  capacity: Float64Array;
  /** merged weight of each group. */
  groupWeight: Float64Array;
  /** group of each demand point, -1 when not modelled. */
  groupOfDemand: Int32Array;
  /** weight served whatever the plan (existing facilities). */
  served: number;
}

/** Growable typed arrays: the model sizes are not known until the rows are built. */
class GrowInt {
  a: Int32Array;
  n = 0;
  constructor(capacity = 1024) {
    this.a = new Int32Array(capacity);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  view(): Int32Array {
    return this.a.subarray(0, this.n);
  }
}

class GrowFloat {
  a: Float64Array;
  n = 0;
  constructor(capacity = 1024) {
    this.a = new Float64Array(capacity);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  view(): Float64Array {
    return this.a.subarray(0, this.n);
  }
}

/** Columns and rows of a model under construction. */
class Builder {
  readonly cost = new GrowFloat();
  readonly lower = new GrowFloat();
  readonly upper = new GrowFloat();
  readonly binary = new GrowInt();
  readonly rowLower = new GrowFloat();
  readonly rowUpper = new GrowFloat();
  readonly rowStart = new GrowInt();
  readonly rowIndex: GrowInt;
  readonly rowValue: GrowFloat;
  readonly rowNames = new Map<number, string>();

  constructor(nnzHint: number) {
    this.rowStart.push(0);
    this.rowIndex = new GrowInt(Math.max(1024, nnzHint));
    this.rowValue = new GrowFloat(Math.max(1024, nnzHint));
  }
  col(cost: number, lower: number, upper: number, binary: boolean): number {
    this.cost.push(cost);
    this.lower.push(lower);
    this.upper.push(upper);
    this.binary.push(binary ? 1 : 0);
    return this.cost.n - 1;
  }
  entry(col: number, value: number): void {
    this.rowIndex.push(col);
    this.rowValue.push(value);
  }
  endRow(lower: number, upper: number, name?: string): void {
    if (name) this.rowNames.set(this.rowLower.n, name);
    this.rowLower.push(lower);
    this.rowUpper.push(upper);
    this.rowStart.push(this.rowIndex.n);
  }
  get rowCount(): number {
    return this.rowLower.n;
  }
  finish(
    base: Pick<MipModel, 'kind' | 'maximize' | 'offset' | 'free' | 'auxPrefix' | 'start' | 'trivialBound' | 'log' | 'capacitated'>,
  ): MipModel {
    const binary = new Uint8Array(this.binary.n);
    for (let c = 0; c < binary.length; c++) binary[c] = this.binary.a[c];
    return {
      ...base,
      numCols: this.cost.n,
      colCost: this.cost.view().slice(),
      colLower: this.lower.view().slice(),
      colUpper: this.upper.view().slice(),
      colBinary: binary,
      numRows: this.rowLower.n,
      rowLower: this.rowLower.view().slice(),
      rowUpper: this.rowUpper.view().slice(),
      rowStart: this.rowStart.view().slice(),
      rowIndex: this.rowIndex.view().slice(),
      rowValue: this.rowValue.view().slice(),
      rowNames: this.rowNames,
    };
  }
}

/** The instance demand-major: demand i is reached by cand[start[i] .. start[i+1]-1] (ascending) in sec[…]. */
interface DemandMajor {
  start: Int32Array;
  cand: Int32Array;
  sec: Float32Array;
}

function demandMajor(inst: PlanInstance): DemandMajor {
  const m = inst.demandCount;
  const nnz = inst.start[inst.candidateCount];
  const start = new Int32Array(m + 1);
  for (let k = 0; k < nnz; k++) start[inst.demand[k] + 1]++;
  for (let i = 0; i < m; i++) start[i + 1] += start[i];
  const fill = start.slice(0, m);
  const cand = new Int32Array(nnz);
  const sec = new Float32Array(nnz);
  for (let j = 0; j < inst.candidateCount; j++) {
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) {
      const at = fill[inst.demand[k]]++;
      cand[at] = j;
      sec[at] = inst.seconds[k];
    }
  }
  return { start, cand, sec };
}

/** Seconds from each demand point to the nearest fixed candidate (Infinity if none reaches it). */
function nearestFixed(inst: PlanInstance): Float64Array {
  const best = new Float64Array(inst.demandCount).fill(Infinity);
  for (let j = 0; j < inst.candidateCount; j++) {
    if (!inst.fixed[j]) continue;
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) {
      const i = inst.demand[k];
      if (inst.seconds[k] < best[i]) best[i] = inst.seconds[k];
    }
  }
  return best;
}

/**
 * Items (demand rows) described by int lists; items with identical lists share a group.
 * Hash of the list → first group with that hash, then a chain of groups for hash collisions,
 * each confirmed by comparing the lists.
 */
class ItemLists {
  readonly start = new GrowInt();
  readonly words: GrowInt;
  constructor(wordsHint: number) {
    this.start.push(0);
    this.words = new GrowInt(Math.max(1024, wordsHint));
  }
  get count(): number {
    return this.start.n - 1;
  }
  /** length of the list being written (since the last close). */
  get open(): number {
    return this.words.n - this.start.a[this.start.n - 1];
  }
  discard(): void {
    this.words.n = this.start.a[this.start.n - 1];
  }
  close(): void {
    this.start.push(this.words.n);
  }
  group(): { groupOf: Int32Array; groupCount: number; first: Int32Array } {
    const count = this.count;
    const s = this.start.a;
    const w = this.words.a;
    const groupOf = new Int32Array(count);
    const first = new Int32Array(count);
    const nextSameHash = new Int32Array(count).fill(-1);
    const byHash = new Map<number, number>();
    let groups = 0;
    const same = (a: number, b: number): boolean => {
      const la = s[a + 1] - s[a];
      if (la !== s[b + 1] - s[b]) return false;
      for (let k = 0; k < la; k++) if (w[s[a] + k] !== w[s[b] + k]) return false;
      return true;
    };
    for (let t = 0; t < count; t++) {
      let h1 = 0x811c9dc5;
      let h2 = s[t + 1] - s[t];
      for (let k = s[t]; k < s[t + 1]; k++) {
        h1 = Math.imul(h1 ^ w[k], 0x01000193);
        h2 = Math.imul(h2 ^ (w[k] + 0x7f4a7c15), 0x9e3779b1) ^ (h2 >>> 13);
      }
      // 32 + 21 bits: a safe integer key.
      const key = (h1 >>> 0) * 2097152 + ((h2 >>> 0) & 0x1fffff);
      let g = byHash.get(key);
      if (g === undefined) {
        byHash.set(key, groups);
        first[groups] = t;
        groupOf[t] = groups++;
        continue;
      }
      let last = g;
      while (g !== -1 && !same(first[g], t)) {
        last = g;
        g = nextSameHash[g];
      }
      if (g === -1) {
        nextSameHash[last] = groups;
        first[groups] = t;
        g = groups++;
      }
      groupOf[t] = g;
    }
    return { groupOf, groupCount: groups, first: first.subarray(0, groups) };
  }
  list(t: number): Int32Array {
    return this.words.a.subarray(this.start.a[t], this.start.a[t + 1]);
  }
}

/** Indices of the `p` largest scores (ties: lower index first). */
function topP(score: Float64Array, p: number): Int32Array {
  const order = Int32Array.from({ length: score.length }, (_, c) => c);
  order.sort((a, b) => score[b] - score[a] || a - b);
  return order.slice(0, p);
}

/**
 * Greedy for a submodular gain (coverage, savings): p times, take the column with the largest
 * gain. Gains only shrink as columns are taken, so a stale heap key is an upper bound: recompute
 * the top's gain and take it only if it is still the top (lazy evaluation).
 */
function lazyGreedy(
  initial: Float64Array,
  p: number,
  gainOf: (c: number) => number,
  take: (c: number) => void,
  enough: () => boolean = () => false,
): Int32Array {
  const n = initial.length;
  const key = initial.slice();
  const heap = Int32Array.from({ length: n }, (_, c) => c);
  const fresh = new Int32Array(n); // number of columns taken when key[c] was computed
  const above = (a: number, b: number): boolean => key[a] > key[b] || (key[a] === key[b] && a < b);
  const down = (at: number, size: number): void => {
    for (;;) {
      const l = 2 * at + 1;
      if (l >= size) return;
      const r = l + 1;
      const c = r < size && above(heap[r], heap[l]) ? r : l;
      if (!above(heap[c], heap[at])) return;
      const t = heap[c];
      heap[c] = heap[at];
      heap[at] = t;
      at = c;
    }
  };
  for (let at = (n >> 1) - 1; at >= 0; at--) down(at, n);
  const picked = new Int32Array(Math.min(p, n));
  let size = n;
  let taken = 0;
  while (taken < picked.length && !enough()) {
    const c = heap[0];
    if (fresh[c] === taken) {
      take(c);
      picked[taken++] = c;
      heap[0] = heap[--size];
      down(0, size);
    } else {
      key[c] = gainOf(c);
      fresh[c] = taken;
      down(0, size);
    }
  }
  return picked.subarray(0, taken);
}

/**
 * For each column, the groups whose lists contain it: group[k] and at[k], the index of the column's
 * word in items.words (lists hold a column every `stride` words from `offset`).
 */
function columnsToGroups(
  columns: number,
  items: ItemLists,
  first: Int32Array,
  stride: number,
  offset: number,
): { start: Int32Array; group: Int32Array; at: Int32Array } {
  const s = items.start.a;
  const w = items.words.a;
  const start = new Int32Array(columns + 1);
  for (let g = 0; g < first.length; g++) {
    for (let k = s[first[g]] + offset; k < s[first[g] + 1]; k += stride) start[w[k] + 1]++;
  }
  for (let c = 0; c < columns; c++) start[c + 1] += start[c];
  const fill = start.slice(0, columns);
  const group = new Int32Array(start[columns]);
  const at = new Int32Array(start[columns]);
  for (let g = 0; g < first.length; g++) {
    for (let k = s[first[g]] + offset; k < s[first[g] + 1]; k += stride) {
      const x = fill[w[k]]++;
      group[x] = g;
      at[x] = k;
    }
  }
  return { start, group, at };
}

export { checkModel } from './instance.js';

/** Build the reduced MIP of a model; inst and model must have passed validateInstance and checkModel. */
export function buildMip(inst: PlanInstance, model: PlanModel): MipModel {
  const dm = demandMajor(inst);
  switch (model.kind) {
    case 'mclp':
      return buildCovering(inst, model.p, dm);
    case 'lscp':
      return buildSetCover(inst, model.coverShare, dm);
    case 'pmedian':
      return buildMedian(inst, model.p, model.unreachedSeconds, dm);
    case 'capacitated':
      return buildCapacitated(inst, model.p, dm);
  }
}

/** Column of each free candidate (-1 for fixed). */
function freeColumns(inst: PlanInstance, free: Int32Array): Int32Array {
  const col = new Int32Array(inst.candidateCount).fill(-1);
  for (let c = 0; c < free.length; c++) col[free[c]] = c;
  return col;
}

/** Σ free x = p. */
function sitesRow(b: Builder, freeCount: number, p: number): void {
  for (let c = 0; c < freeCount; c++) b.entry(c, 1);
  b.endRow(p, p, 'sites');
}

/**
 * MCLP: max Σ_g coef_g y_g + constant, y_g ≤ Σ_{c ∈ set g} x_c, Σ x = p. A group is one set of free
 * candidates; its coefficient sums value × weight over every (demand, layer) with that set.
 */
function buildCovering(inst: PlanInstance, p: number, dm: DemandMajor): MipModel {
  const free = freeCandidates(inst);
  const colOf = freeColumns(inst, free);
  const fixedNear = nearestFixed(inst);
  const items = new ItemLists(dm.cand.length);
  const itemCoef = new GrowFloat();
  let offset = 0;
  let constantRows = 0;
  let unreachedRows = 0;
  let zeroRows = 0;
  for (const layer of inst.layers) {
    const thr = layer.thresholdSeconds;
    for (let i = 0; i < inst.demandCount; i++) {
      const coef = layer.value * inst.weight[i];
      if (layer.existingSeconds[i] <= thr || fixedNear[i] <= thr) {
        offset += coef;
        constantRows++;
        continue;
      }
      if (coef === 0) {
        zeroRows++;
        continue;
      }
      for (let k = dm.start[i]; k < dm.start[i + 1]; k++) {
        const c = colOf[dm.cand[k]];
        if (c >= 0 && dm.sec[k] <= thr) items.words.push(c);
      }
      if (items.open === 0) {
        unreachedRows++;
        continue;
      }
      items.close();
      itemCoef.push(coef);
    }
  }
  const { groupOf, groupCount, first } = items.group();
  const groupCoef = new Float64Array(groupCount);
  for (let t = 0; t < items.count; t++) groupCoef[groupOf[t]] += itemCoef.a[t];

  const b = new Builder(items.words.n);
  const score = new Float64Array(free.length);
  for (let c = 0; c < free.length; c++) b.col(0, 0, 1, true);
  let singletons = 0;
  let allCoef = 0;
  for (let g = 0; g < groupCount; g++) {
    const set = items.list(first[g]);
    for (let k = 0; k < set.length; k++) score[set[k]] += groupCoef[g];
    allCoef += groupCoef[g];
    if (set.length === 1) {
      b.cost.a[set[0]] += groupCoef[g];
      singletons++;
    }
  }
  sitesRow(b, free.length, p);
  const yOfGroup = new Int32Array(groupCount).fill(-1);
  for (let g = 0; g < groupCount; g++) {
    const set = items.list(first[g]);
    if (set.length === 1) continue;
    const y = b.col(groupCoef[g], 0, 1, false);
    yOfGroup[g] = y;
    b.entry(y, 1);
    for (let k = 0; k < set.length; k++) b.entry(set[k], -1);
    b.endRow(-Infinity, 0);
  }

  // Start: greedy coverage. Bound: coverage is submodular, so no p-set covers more than the p
  // largest single-site coverages together.
  const byCol = columnsToGroups(free.length, items, first, 1, 0);
  const covered = new Uint8Array(groupCount);
  const pick = lazyGreedy(
    score,
    p,
    (c) => {
      let gain = 0;
      for (let k = byCol.start[c]; k < byCol.start[c + 1]; k++) if (!covered[byCol.group[k]]) gain += groupCoef[byCol.group[k]];
      return gain;
    },
    (c) => {
      for (let k = byCol.start[c]; k < byCol.start[c + 1]; k++) covered[byCol.group[k]] = 1;
    },
  );
  const start = new Float64Array(b.cost.n);
  let greedyValue = offset;
  for (const c of pick) start[c] = 1;
  for (let g = 0; g < groupCount; g++) {
    if (!covered[g]) continue;
    greedyValue += groupCoef[g];
    if (yOfGroup[g] >= 0) start[yOfGroup[g]] = 1;
  }
  const singles = score.slice().sort().reverse();
  let bestSingles = 0;
  for (let x = 0; x < p; x++) bestSingles += singles[x];
  const log = [
    `mclp: ${inst.demandCount} demand × ${inst.layers.length} layers; ${constantRows} served already (constant ${offset}), ` +
      `${unreachedRows} out of reach, ${zeroRows} of zero weight; ${items.count} rows merged into ${groupCount} candidate sets, ` +
      `${singletons} single-candidate sets folded into site values; greedy start ${greedyValue}`,
  ];
  return b.finish({
    kind: 'mclp',
    maximize: true,
    offset,
    free,
    auxPrefix: 'y',
    start,
    trivialBound: offset + Math.min(allCoef, bestSingles),
    log,
  });
}

/**
 * LSCP: min Σ x. coverShare = 1: every positive-weight set not served already has Σ x ≥ 1.
 * Otherwise Σ (W_g / total) y_g ≥ coverShare − constant share, y_g ≤ Σ x (weights scaled to
 * shares so the solver's feasibility tolerance is a share, whatever the weight units).
 * The caller has checked that the target is reachable.
 */
function buildSetCover(inst: PlanInstance, coverShare: number, dm: DemandMajor): MipModel {
  const free = freeCandidates(inst);
  const colOf = freeColumns(inst, free);
  const fixedNear = nearestFixed(inst);
  const layer = inst.layers[0];
  const thr = layer.thresholdSeconds;
  const items = new ItemLists(dm.cand.length);
  const itemWeight = new GrowFloat();
  let total = 0;
  let served = 0;
  let unreached = 0;
  for (let i = 0; i < inst.demandCount; i++) {
    const w = inst.weight[i];
    total += w;
    if (layer.existingSeconds[i] <= thr || fixedNear[i] <= thr) {
      served += w;
      continue;
    }
    if (w === 0) continue;
    for (let k = dm.start[i]; k < dm.start[i + 1]; k++) {
      const c = colOf[dm.cand[k]];
      if (c >= 0 && dm.sec[k] <= thr) items.words.push(c);
    }
    if (items.open === 0) {
      unreached++;
      continue;
    }
    items.close();
    itemWeight.push(w);
  }
  const { groupOf, groupCount, first } = items.group();
  const groupWeight = new Float64Array(groupCount);
  for (let t = 0; t < items.count; t++) groupWeight[groupOf[t]] += itemWeight.a[t];

  const b = new Builder(items.words.n + groupCount);
  for (let c = 0; c < free.length; c++) b.col(1, 0, 1, true);
  const start = new Float64Array(free.length + (coverShare < 1 ? groupCount : 0));
  // Start: greedy, the candidate adding most uncovered weight until the target is met (the caller
  // checked that all candidates together meet it).
  const byCol = columnsToGroups(free.length, items, first, 1, 0);
  const covered = new Uint8Array(groupCount);
  const score = new Float64Array(free.length);
  for (let c = 0; c < free.length; c++) for (let k = byCol.start[c]; k < byCol.start[c + 1]; k++) score[c] += groupWeight[byCol.group[k]];
  let uncovered = groupCount;
  let share = 0; // Σ W_g / total over covered groups, as in the share row
  const need = total > 0 ? coverShare - served / total : 0;
  const pick = lazyGreedy(
    score,
    free.length,
    (c) => {
      let gain = 0;
      for (let k = byCol.start[c]; k < byCol.start[c + 1]; k++) if (!covered[byCol.group[k]]) gain += groupWeight[byCol.group[k]];
      return gain;
    },
    (c) => {
      for (let k = byCol.start[c]; k < byCol.start[c + 1]; k++) {
        const g = byCol.group[k];
        if (covered[g]) continue;
        covered[g] = 1;
        uncovered--;
        share += groupWeight[g] / total;
      }
    },
    () => (coverShare === 1 ? uncovered === 0 : share >= need),
  );
  for (const c of pick) start[c] = 1;
  if (coverShare === 1) {
    for (let g = 0; g < groupCount; g++) {
      const set = items.list(first[g]);
      for (let k = 0; k < set.length; k++) b.entry(set[k], 1);
      b.endRow(1, Infinity);
    }
  } else {
    const y0 = free.length;
    for (let g = 0; g < groupCount; g++) {
      b.col(0, 0, 1, false);
      start[y0 + g] = covered[g];
    }
    for (let g = 0; g < groupCount; g++) b.entry(y0 + g, groupWeight[g] / total);
    b.endRow(need, Infinity, 'share');
    for (let g = 0; g < groupCount; g++) {
      const set = items.list(first[g]);
      b.entry(y0 + g, 1);
      for (let k = 0; k < set.length; k++) b.entry(set[k], -1);
      b.endRow(-Infinity, 0);
    }
  }
  const log = [
    `lscp: ${inst.demandCount} demand, target share ${coverShare}; share ${total > 0 ? served / total : 1} served already, ` +
      `${unreached} positive-weight points out of reach; ${items.count} rows merged into ${groupCount} candidate sets; greedy start ${pick.length} sites`,
  ];
  return b.finish({
    kind: 'lscp',
    maximize: false,
    offset: 0,
    free,
    auxPrefix: 'y',
    start,
    trivialBound: groupCount > 0 && coverShare * total > served ? 1 : 0,
    log,
  });
}

/**
 * p-median, with demand i's fallback c_i = min(existing, nearest fixed, unreachedSeconds) and its
 * useful free candidates (closer than c_i) at distinct seconds D_1 < … < D_K (D_{K+1} = c_i):
 *   cost_i = w_i (D_1 + Σ_k (D_{k+1} − D_k) u_k),  u_k ≥ 0,
 *   u_1 + Σ_{s_ij = D_1} x_j ≥ 1,  u_k − u_{k−1} + Σ_{s_ij = D_k} x_j ≥ 0.
 * u_k = max(0, 1 − Σ_{s_ij ≤ D_k} x_j) at the optimum (the chain telescopes because x ≥ 0), so
 * this is the radius formulation (same LP bound as the classical z_ij ≤ x_j one) with one row per
 * distinct distance instead of one per pair.
 */
function buildMedian(inst: PlanInstance, p: number, unreachedSeconds: number, dm: DemandMajor): MipModel {
  const free = freeCandidates(inst);
  const colOf = freeColumns(inst, free);
  const fixedNear = nearestFixed(inst);
  const existing = inst.layers[0].existingSeconds;
  // Words of an item: fallback seconds (float64 as two ints), then (column, float32 bits of seconds).
  const f64 = new Float64Array(1);
  const f64Words = new Int32Array(f64.buffer);
  const f32 = new Float32Array(1);
  const f32Word = new Int32Array(f32.buffer);
  const items = new ItemLists(2 * dm.cand.length);
  const itemWeight = new GrowFloat();
  let offset = 0;
  let constantRows = 0;
  for (let i = 0; i < inst.demandCount; i++) {
    const w = inst.weight[i];
    if (w === 0) continue;
    const fallback = Math.min(existing[i], fixedNear[i], unreachedSeconds);
    f64[0] = fallback;
    items.words.push(f64Words[0]);
    items.words.push(f64Words[1]);
    for (let k = dm.start[i]; k < dm.start[i + 1]; k++) {
      const c = colOf[dm.cand[k]];
      if (c < 0 || !(dm.sec[k] < fallback)) continue;
      f32[0] = dm.sec[k];
      items.words.push(c);
      items.words.push(f32Word[0]);
    }
    if (items.open === 2) {
      items.discard();
      offset += w * fallback;
      constantRows++;
      continue;
    }
    items.close();
    itemWeight.push(w);
  }
  const { groupOf, groupCount, first } = items.group();
  const groupWeight = new Float64Array(groupCount);
  for (let t = 0; t < items.count; t++) groupWeight[groupOf[t]] += itemWeight.a[t];

  const b = new Builder(items.words.n / 2 + 2 * groupCount);
  for (let c = 0; c < free.length; c++) b.col(0, 0, 1, true);
  sitesRow(b, free.length, p);
  // Start: greedy savings (weight × seconds saved against each group's current nearest).
  const score = new Float64Array(free.length);
  const current = new Float64Array(groupCount);
  for (let g = 0; g < groupCount; g++) {
    const words = items.list(first[g]);
    f64Words[0] = words[0];
    f64Words[1] = words[1];
    current[g] = f64[0];
    for (let k = 2; k < words.length; k += 2) {
      f32Word[0] = words[k + 1];
      score[words[k]] += groupWeight[g] * (current[g] - f32[0]);
    }
  }
  const byCol = columnsToGroups(free.length, items, first, 2, 2);
  const allWords = items.words.a;
  const secondsAt = (at: number): number => {
    f32Word[0] = allWords[at + 1];
    return f32[0];
  };
  const chosen = new Uint8Array(free.length);
  const pick = lazyGreedy(
    score,
    p,
    (c) => {
      let gain = 0;
      for (let k = byCol.start[c]; k < byCol.start[c + 1]; k++) {
        const g = byCol.group[k];
        const s = secondsAt(byCol.at[k]);
        if (s < current[g]) gain += groupWeight[g] * (current[g] - s);
      }
      return gain;
    },
    (c) => {
      for (let k = byCol.start[c]; k < byCol.start[c + 1]; k++) {
        const g = byCol.group[k];
        current[g] = Math.min(current[g], secondsAt(byCol.at[k]));
      }
    },
  );
  for (const c of pick) chosen[c] = 1;
  let greedyValue = offset;
  for (let g = 0; g < groupCount; g++) greedyValue += groupWeight[g] * current[g];
  const startValues = new GrowFloat();
  for (let c = 0; c < free.length; c++) startValues.push(chosen[c]);

  let levelsTotal = 0;
  let order = new Int32Array(64);
  let secs = new Float64Array(64);
  for (let g = 0; g < groupCount; g++) {
    const words = items.list(first[g]);
    f64Words[0] = words[0];
    f64Words[1] = words[1];
    const fallback = f64[0];
    const n = (words.length - 2) / 2;
    if (order.length < n) {
      order = new Int32Array(n * 2);
      secs = new Float64Array(n * 2);
    }
    for (let x = 0; x < n; x++) {
      f32Word[0] = words[2 + 2 * x + 1];
      secs[x] = f32[0];
      order[x] = x;
    }
    const ord = order.subarray(0, n);
    ord.sort((a, c) => secs[a] - secs[c] || a - c);
    const W = groupWeight[g];
    offset += W * secs[ord[0]];
    let prevU = -1;
    let reached = false; // a chosen start candidate at or below the current level
    for (let x = 0; x < n; ) {
      const level = secs[ord[x]];
      let y = x;
      while (y < n && secs[ord[y]] === level) y++;
      const next = y < n ? secs[ord[y]] : fallback;
      const u = b.col(W * (next - level), 0, 1, false);
      b.entry(u, 1);
      if (prevU >= 0) b.entry(prevU, -1);
      for (let z = x; z < y; z++) {
        const c = words[2 + 2 * ord[z]];
        b.entry(c, 1);
        if (chosen[c]) reached = true;
      }
      b.endRow(prevU >= 0 ? 0 : 1, Infinity);
      startValues.push(reached ? 0 : 1);
      prevU = u;
      levelsTotal++;
      x = y;
    }
  }
  const log = [
    `pmedian: ${inst.demandCount} demand; ${constantRows} with no free candidate closer than their fallback (constant); ` +
      `${items.count} rows merged into ${groupCount}; ${levelsTotal} distance levels; greedy start ${greedyValue}`,
  ];
  return b.finish({
    kind: 'pmedian',
    maximize: false,
    offset,
    free,
    auxPrefix: 'u',
    start: startValues.view().slice(),
    // every u ≥ 0: the offset (everyone at their nearest useful candidate) is a lower bound.
    trivialBound: offset,
    log,
  });
}

/**
 * Capacitated covering: max Σ W_g z_gj + served, Σ_j z_gj ≤ 1, Σ_g W_g z_gj ≤ cap_j x_j (free
 * sites) or ≤ cap_j (fixed), Σ x = p, 0 ≤ z ≤ 1. Groups merge demand points with identical
 * layer-0 site sets (free and fixed).
 */
function buildCapacitated(inst: PlanInstance, p: number, dm: DemandMajor): MipModel {
  const free = freeCandidates(inst);
  const colOf = freeColumns(inst, free);
  const cap = inst.capacity as Float64Array; // checkModel requires it
  const layer = inst.layers[0];
  const thr = layer.thresholdSeconds;
  const items = new ItemLists(dm.cand.length);
  const itemDemand = new GrowInt();
  let served = 0;
  let unreached = 0;
  for (let i = 0; i < inst.demandCount; i++) {
    const w = inst.weight[i];
    if (layer.existingSeconds[i] <= thr) {
      served += w;
      continue;
    }
    if (w === 0) continue;
    for (let k = dm.start[i]; k < dm.start[i + 1]; k++) {
      if (dm.sec[k] <= thr && cap[dm.cand[k]] > 0) items.words.push(dm.cand[k]);
    }
    if (items.open === 0) {
      unreached++;
      continue;
    }
    items.close();
    itemDemand.push(i);
  }
  const { groupOf, groupCount, first } = items.group();
  const groupWeight = new Float64Array(groupCount);
  const groupOfDemand = new Int32Array(inst.demandCount).fill(-1);
  for (let t = 0; t < items.count; t++) {
    groupWeight[groupOf[t]] += inst.weight[itemDemand.a[t]];
    groupOfDemand[itemDemand.a[t]] = groupOf[t];
  }
  const reach = new Float64Array(inst.candidateCount);
  let zCount = 0;
  for (let g = 0; g < groupCount; g++) {
    const set = items.list(first[g]);
    zCount += set.length;
    for (let k = 0; k < set.length; k++) reach[set[k]] += groupWeight[g];
  }
  const capEff = new Float64Array(inst.candidateCount);
  for (let j = 0; j < inst.candidateCount; j++) capEff[j] = Math.min(cap[j], reach[j]);

  const b = new Builder(3 * zCount + free.length);
  for (let c = 0; c < free.length; c++) b.col(0, 0, 1, true);
  const zFirst = free.length;
  const zGroup = new Int32Array(zCount);
  const zSite = new Int32Array(zCount);
  // Site-major lists of z columns, for the capacity rows.
  const siteStart = new Int32Array(inst.candidateCount + 1);
  let z = 0;
  for (let g = 0; g < groupCount; g++) {
    const set = items.list(first[g]);
    for (let k = 0; k < set.length; k++) {
      b.col(groupWeight[g], 0, 1, false);
      zGroup[z] = g;
      zSite[z] = set[k];
      siteStart[set[k] + 1]++;
      z++;
    }
  }
  for (let j = 0; j < inst.candidateCount; j++) siteStart[j + 1] += siteStart[j];
  const siteFill = siteStart.slice(0, inst.candidateCount);
  const siteZ = new Int32Array(zCount);
  for (let q = 0; q < zCount; q++) siteZ[siteFill[zSite[q]]++] = q;

  sitesRow(b, free.length, p);
  for (let g = 0, q = 0; g < groupCount; g++) {
    const n = items.list(first[g]).length;
    if (n > 1) {
      for (let k = 0; k < n; k++) b.entry(zFirst + q + k, 1);
      b.endRow(-Infinity, 1);
    }
    q += n;
  }
  let fixedRowsDropped = 0;
  for (let j = 0; j < inst.candidateCount; j++) {
    if (siteStart[j] === siteStart[j + 1]) continue;
    const c = colOf[j];
    // a fixed site that can take everything it reaches needs no row (z ≤ 1 bounds it).
    if (c < 0 && capEff[j] >= reach[j]) {
      fixedRowsDropped++;
      continue;
    }
    for (let k = siteStart[j]; k < siteStart[j + 1]; k++) {
      const q = siteZ[k];
      b.entry(zFirst + q, groupWeight[zGroup[q]]);
    }
    if (c >= 0) {
      b.entry(c, -capEff[j]);
      b.endRow(-Infinity, 0);
    } else {
      b.endRow(-Infinity, capEff[j]);
    }
  }

  // Start: the p sites with most effective capacity, demand poured in group order.
  const score = new Float64Array(free.length);
  for (let c = 0; c < free.length; c++) score[c] = capEff[free[c]];
  const start = new Float64Array(b.cost.n);
  const left = new Float64Array(inst.candidateCount);
  for (let j = 0; j < inst.candidateCount; j++) if (inst.fixed[j]) left[j] = capEff[j];
  for (const c of topP(score, p)) {
    start[c] = 1;
    left[free[c]] = capEff[free[c]];
  }
  let capSum = 0;
  for (let j = 0; j < inst.candidateCount; j++) capSum += left[j];
  let reachable = 0;
  for (let g = 0; g < groupCount; g++) reachable += groupWeight[g];
  for (let q = 0; q < zCount; ) {
    const g = zGroup[q];
    let need = groupWeight[g];
    for (; q < zCount && zGroup[q] === g; q++) {
      const j = zSite[q];
      const amount = Math.min(need, left[j]);
      if (amount <= 0) continue;
      // slightly under the capacity so rounding of amount / W × W never overfills it.
      const frac = Math.min(1, (amount / groupWeight[g]) * (1 - 1e-12));
      start[zFirst + q] = frac;
      left[j] -= amount;
      need -= amount;
    }
  }
  const log = [
    `capacitated: ${inst.demandCount} demand; weight ${served} served by existing facilities, ${unreached} points out of reach; ` +
      `${items.count} rows merged into ${groupCount}; ${zCount} assignment columns; ${fixedRowsDropped} fixed sites never full`,
  ];
  return b.finish({
    kind: 'capacitated',
    maximize: true,
    offset: served,
    free,
    auxPrefix: 'z',
    start,
    trivialBound: served + Math.min(reachable, capSum),
    capacitated: { zFirst, zGroup, zSite, capacity: capEff, groupWeight, groupOfDemand, served },
    log,
  });
}

/** LP-text name of a column. */
function colName(mip: MipModel, c: number): string {
  return c < mip.free.length ? `x${mip.free[c]}` : `${mip.auxPrefix}${c - mip.free.length}`;
}

/** A term " + 3 x12" in CPLEX LP syntax; the first of a row has no "+" (String(v) round-trips every double). */
function term(v: number, name: string, first: boolean): string {
  const size = Math.abs(v) === 1 ? '' : `${String(Math.abs(v))} `;
  if (first) return ` ${v < 0 ? '-' : ''}${size}${name}`;
  return ` ${v < 0 ? '-' : '+'} ${size}${name}`;
}

const TERMS_PER_LINE = 8;

/**
 * CPLEX LP text of a MIP. Columns x<j> open candidate j; the objective constant is carried by a
 * column `one` fixed to 1 (constant terms in the objective are not read the same by every LP
 * reader). Lines hold at most a few terms so readers with line-length limits accept the file.
 */
export function writeLpText(mip: MipModel, header: string[]): string {
  const out: string[] = header.map((h) => `\\ ${h}`);
  out.push(mip.maximize ? 'Maximize' : 'Minimize');
  const obj: string[] = [' obj:'];
  let n = 0;
  for (let c = 0; c < mip.numCols; c++) {
    if (mip.colCost[c] === 0) continue;
    obj.push(term(mip.colCost[c], colName(mip, c), n === 0));
    if (++n % TERMS_PER_LINE === 0) obj.push('\n ');
  }
  obj.push(term(mip.offset, 'one', n === 0));
  out.push(obj.join(''));
  out.push('Subject To');
  for (let r = 0; r < mip.numRows; r++) {
    const line: string[] = [` ${mip.rowNames.get(r) ?? `r${r}`}:`];
    const s = mip.rowStart[r];
    const e = mip.rowStart[r + 1];
    for (let k = s; k < e; k++) {
      line.push(term(mip.rowValue[k], colName(mip, mip.rowIndex[k]), k === s));
      if ((k - s + 1) % TERMS_PER_LINE === 0 && k + 1 < e) line.push('\n ');
    }
    if (s === e) line.push(' 0 one');
    const lo = mip.rowLower[r];
    const hi = mip.rowUpper[r];
    if (lo === hi) line.push(` = ${String(lo)}`);
    else if (lo === -Infinity) line.push(` <= ${String(hi)}`);
    else if (hi === Infinity) line.push(` >= ${String(lo)}`);
    else {
      // a ranged row as two rows keeps to the plainest LP syntax.
      out.push(`${line.join('')} >= ${String(lo)}`);
      line[0] = ` ${mip.rowNames.get(r) ?? `r${r}`}_hi:`;
      line.push(` <= ${String(hi)}`);
    }
    out.push(line.join(''));
  }
  out.push('Bounds');
  for (let c = 0; c < mip.numCols; c++) {
    if (mip.colBinary[c]) continue;
    const lo = mip.colLower[c];
    const hi = mip.colUpper[c];
    const name = colName(mip, c);
    if (lo === 0 && hi === Infinity) continue;
    if (lo === 0) out.push(` ${name} <= ${String(hi)}`);
    else out.push(` ${lo === -Infinity ? '-inf' : String(lo)} <= ${name} <= ${hi === Infinity ? '+inf' : String(hi)}`);
  }
  out.push(' one = 1');
  const bin: string[] = [];
  for (let c = 0; c < mip.numCols; c++) {
    if (!mip.colBinary[c]) continue;
    bin.push(colName(mip, c));
  }
  if (bin.length > 0) {
    out.push('Binaries');
    for (let k = 0; k < bin.length; k += TERMS_PER_LINE) out.push(` ${bin.slice(k, k + TERMS_PER_LINE).join(' ')}`);
  }
  out.push('End', '');
  return out.join('\n');
}
