/**
 * A facility-location problem in plain typed arrays, independent of where it came from:
 * demand points with weights, candidate sites, and which demand each candidate reaches and in
 * how many seconds (from the engine's bounded network searches, never straight lines).
 *
 * Existing facilities enter in one of two ways:
 *  - kept where they are: through each layer's existingSeconds (demand already served is
 *    served whatever the plan does), or as `fixed` candidates where they must take part in the
 *    model (capacities, p-median assignment);
 *  - relocatable: as ordinary candidates, and p counts them.
 */

/** One coverage layer: a format with its threshold (a bundle site such as a 邻里汇 adds several). */
export interface CoverageLayer {
  /** format id (or any label). */
  id: string;
  /** demand is covered when seconds ≤ thresholdSeconds. */
  thresholdSeconds: number;
  /** value of covering one unit of demand weight in this layer (1 for one format; requirement weights for bundles). */
  value: number;
  /** seconds from each demand point to the nearest existing facility of this layer that stays; Infinity if none within the horizon. */
  existingSeconds: Float64Array;
}

export interface PlanInstance {
  demandCount: number;
  /** weight of each demand point (residents, elderly counted extra where the profile asks), ≥ 0. */
  weight: Float64Array;
  candidateCount: number;
  /** CSR: candidate j reaches demand[start[j] .. start[j+1]-1] in seconds[…]; demand ascending within a row; only pairs within horizonSeconds. */
  start: Int32Array;
  demand: Int32Array;
  seconds: Float32Array;
  /** pairs farther than this were not searched. */
  horizonSeconds: number;
  /** at least one. */
  layers: CoverageLayer[];
  /** 1 = candidate is an existing facility that stays open: always in the solution, not counted in p. */
  fixed: Uint8Array;
  /** optional per-candidate capacity in weight units (capacitated model). */
  capacity?: Float64Array;
}

export type PlanModel =
  /** maximal covering: p new sites maximising Σ layers value × covered weight. */
  | { kind: 'mclp'; p: number }
  /** set covering: fewest new sites so that covered weight (layer 0) ≥ coverShare × total weight. */
  | { kind: 'lscp'; coverShare: number }
  /**
   * p-median: p new sites minimising Σ weight × seconds to the nearest open site, existing facility
   * (layer 0 existingSeconds) or, when none is within the horizon, unreachedSeconds.
   */
  | { kind: 'pmedian'; p: number; unreachedSeconds: number }
  /**
   * capacitated covering: p new sites; each open site (fixed ones too) serves at most capacity[j]
   * weight of demand within layer 0's threshold (demand may be split between sites); maximise
   * served weight. Demand served by existingSeconds is served already and uses no capacity.
   */
  | { kind: 'capacitated'; p: number };

export type PlanModelKind = PlanModel['kind'];

export interface SolveOptions {
  /** exact solver wall-clock limit (seconds); at the limit the best solution and its gap are returned. Default 60. */
  timeLimitSeconds?: number;
  /** heuristic random seed (same seed → same answer). Default 1. */
  seed?: number;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface PlanSolution {
  model: PlanModelKind;
  /** chosen non-fixed candidates (selection order for heuristics, ascending for exact). */
  open: Int32Array;
  /** objective as defined for the model (evaluatePlan gives the same figure for `open`). */
  objective: number;
  /** best bound proven by the exact solver (≥ objective when maximising, ≤ when minimising); null for heuristics. */
  bound: number | null;
  /** relative gap |bound − objective| / max(|objective|, 1); 0 when proven optimal; null for heuristics. */
  gap: number | null;
  status: 'optimal' | 'time-limit' | 'heuristic';
  solver: 'highs' | 'greedy-swap';
  seconds: number;
  /** capacitated only: how much of each demand point each open site serves (triples). */
  assignment?: { demand: Int32Array; site: Int32Array; amount: Float64Array };
  log: string[];
}

/** Bad input to a model (p larger than the candidates, empty candidate set, unreachable target…). */
export class PlanInputError extends Error {
  constructor(
    message: string,
    /** the option / field at fault, e.g. 'p', 'candidates', 'coverShare', 'capacity'. */
    readonly field: string,
  ) {
    super(message);
    this.name = 'PlanInputError';
  }
}

/** Check an instance's shape; throws PlanInputError naming the field. */
export function validateInstance(inst: PlanInstance): void {
  const { demandCount: m, candidateCount: n } = inst;
  if (!(Number.isInteger(m) && m >= 0)) throw new PlanInputError(`demand count ${m} is not a non-negative integer`, 'demand');
  if (!(Number.isInteger(n) && n >= 0)) throw new PlanInputError(`candidate count ${n} is not a non-negative integer`, 'candidates');
  if (inst.weight.length !== m) throw new PlanInputError(`weight has ${inst.weight.length} entries for ${m} demand points`, 'weight');
  for (let i = 0; i < m; i++) {
    if (!(inst.weight[i] >= 0 && Number.isFinite(inst.weight[i]))) throw new PlanInputError(`weight of demand ${i} is ${inst.weight[i]}`, 'weight');
  }
  if (inst.start.length !== n + 1 || inst.start[0] !== 0) throw new PlanInputError(`start must have ${n + 1} entries starting at 0`, 'start');
  const nnz = inst.start[n];
  if (inst.demand.length !== nnz || inst.seconds.length !== nnz) throw new PlanInputError(`demand/seconds must have ${nnz} entries`, 'demand');
  for (let j = 0; j < n; j++) {
    if (inst.start[j + 1] < inst.start[j]) throw new PlanInputError(`start is not ascending at candidate ${j}`, 'start');
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) {
      const i = inst.demand[k];
      if (!(i >= 0 && i < m)) throw new PlanInputError(`candidate ${j} reaches demand ${i}, outside 0..${m - 1}`, 'demand');
      if (k > inst.start[j] && inst.demand[k - 1] >= i) throw new PlanInputError(`candidate ${j}'s demand is not strictly ascending`, 'demand');
      if (!(inst.seconds[k] >= 0)) throw new PlanInputError(`candidate ${j} reaches demand ${i} in ${inst.seconds[k]} s`, 'seconds');
    }
  }
  if (inst.layers.length === 0) throw new PlanInputError('an instance needs at least one coverage layer', 'layers');
  for (const l of inst.layers) {
    if (l.existingSeconds.length !== m) throw new PlanInputError(`layer ${l.id}: existingSeconds has ${l.existingSeconds.length} entries for ${m} demand points`, 'layers');
    if (!(l.thresholdSeconds >= 0)) throw new PlanInputError(`layer ${l.id}: threshold ${l.thresholdSeconds} s`, 'layers');
    if (!(l.value >= 0 && Number.isFinite(l.value))) throw new PlanInputError(`layer ${l.id}: value ${l.value}`, 'layers');
  }
  if (inst.fixed.length !== n) throw new PlanInputError(`fixed has ${inst.fixed.length} entries for ${n} candidates`, 'fixed');
  if (inst.capacity && inst.capacity.length !== n) throw new PlanInputError(`capacity has ${inst.capacity.length} entries for ${n} candidates`, 'capacity');
}

/** Candidates the model may choose (not fixed). */
export function freeCandidates(inst: PlanInstance): Int32Array {
  const out: number[] = [];
  for (let j = 0; j < inst.candidateCount; j++) if (!inst.fixed[j]) out.push(j);
  return Int32Array.from(out);
}

/** Model checks after validateInstance, shared by both solvers; returns the number of free candidates. */
export function checkModel(inst: PlanInstance, model: PlanModel): number {
  if (typeof model !== 'object' || model === null) throw new PlanInputError('no model given', 'model');
  if (inst.candidateCount === 0) throw new PlanInputError('the instance has no candidate sites', 'candidates');
  const freeCount = freeCandidates(inst).length;
  switch (model.kind) {
    case 'mclp':
    case 'pmedian':
    case 'capacitated': {
      const p = model.p;
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 0) throw new PlanInputError(`p must be a non-negative integer, got ${p}`, 'p');
      if (p > freeCount) throw new PlanInputError(`p = ${p} but only ${freeCount} candidates are not fixed`, 'p');
      break;
    }
    case 'lscp': {
      const s = model.coverShare;
      if (typeof s !== 'number' || !(s >= 0 && s <= 1)) throw new PlanInputError(`coverShare must be within [0, 1], got ${s}`, 'coverShare');
      break;
    }
    default:
      throw new PlanInputError(`unknown model kind ${(model as { kind: unknown }).kind}`, 'model');
  }
  if (model.kind === 'pmedian') {
    const u = model.unreachedSeconds;
    if (typeof u !== 'number' || !(u >= 0 && Number.isFinite(u))) {
      throw new PlanInputError(`unreachedSeconds must be a finite number ≥ 0, got ${u}`, 'unreachedSeconds');
    }
  }
  if (model.kind === 'capacitated') checkCapacity(inst);
  return freeCount;
}

/** The capacitated model needs a capacity ≥ 0 (Infinity allowed: unlimited) for every candidate. */
export function checkCapacity(inst: PlanInstance): Float64Array {
  const cap = inst.capacity;
  if (!cap) throw new PlanInputError('the capacitated model needs a capacity for every candidate', 'capacity');
  if (cap.length !== inst.candidateCount) throw new PlanInputError(`capacity has ${cap.length} entries for ${inst.candidateCount} candidates`, 'capacity');
  for (let j = 0; j < inst.candidateCount; j++) {
    if (!(cap[j] >= 0)) throw new PlanInputError(`capacity of candidate ${j} is ${cap[j]}`, 'capacity');
  }
  return cap;
}
