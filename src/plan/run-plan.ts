/**
 * A planning run from a region and a request: demand from the residences, candidates, coverage
 * sets from the engine's bounded searches, existing facilities counted, the model solved
 * (heuristic, exact, or both), and the answer explained site by site and home by home.
 *
 * Decisions:
 * - Thresholds: --minutes when given; else the standards profile's requirement for the format
 *   (its minutes or metres at its walking profile's speed); else the format's MOFCOM minutes.
 * - Coverage is searched under one walking profile: the first layer's requirement's (e.g. the
 *   elderly profile for elderly care in the xuhui profile); a bundle whose layers ask for
 *   different profiles is searched under the first and a warning says so.
 * - Demand weight: the first layer's requirement population — elderly residents for elderly
 *   services, residents × children share for childcare, residents otherwise; --elderly-weight w
 *   counts each elderly resident w times (w − 1 extra) where the group is all residents.
 * - Existing facilities of a layer's format stay and serve (existingSeconds), unless
 *   `relocatable`: then they become ordinary candidates and p counts them (one format only).
 *   For the capacitated model they are fixed sites with their own capacity.
 * - Residences with no weight are left out of the model; residences not on the network are
 *   counted in totals and reported as uncovered ('unreachable').
 */
import { readFileSync } from 'node:fs';
import { DijkstraWorkspace, runDijkstra, timeToSnap } from '../engine/dijkstra.js';
import { arcSeconds, edgeSeconds, getWalkingProfile, type WalkingProfile } from '../engine/profile.js';
import { writeSnapSeeds, type Snap } from '../engine/snap.js';
import { distributePopulation } from '../ingest/residences/distribute.js';
import { dataPath } from '../paths.js';
import type { Region } from '../region/region.js';
import { CHILDREN_SHARE, ELDERLY_SHARE } from '../assess/assess.js';
import { prepareNetwork, residenceTimes } from '../assess/residence-times.js';
import { loadStandardsProfile, requirementFormats, requirementSeconds, requirementWalkingProfile, type Requirement, type StandardsProfile } from '../assess/standards.js';
import { loadTaxonomy, type Taxonomy } from '../taxonomy/formats.js';
import { existingCandidates, type Candidate, type CandidateSet } from './candidates.js';
import { buildCoverage } from './coverage.js';
import { solveExact } from './exact.js';
import { solveHeuristic } from './heuristic.js';
import { PlanInputError, type CoverageLayer, type PlanInstance, type PlanModel, type PlanModelKind, type PlanSolution } from './instance.js';
import { nearestOpenSeconds } from './objective.js';
import { capacitatedAssignment } from './capacitated.js';

export type SolverChoice = 'heuristic' | 'exact' | 'both';

export interface PlanRequest {
  model: PlanModelKind;
  /** format ids (one layer each) or a bundle id from data/plan/bundles.json. */
  formats: string[];
  /** p: new sites (mclp, pmedian, capacitated). */
  sites?: number;
  /** one threshold for every layer, minutes. */
  minutes?: number;
  /** lscp: share of residents (0–1) to cover; default every resident some candidate can reach. */
  coverShare?: number;
  /** capacitated: what a new site serves (weight units), unless the candidate list gives one. */
  capacity?: number;
  /** capacitated: what each existing facility serves; default `capacity`. */
  existingCapacity?: number;
  candidates: CandidateSet;
  relocatable?: boolean;
  /** standards profile id or file; default 'xuhui'. */
  standards?: string;
  population?: number | null;
  elderlyShare?: number;
  elderlyWeight?: number;
  solver?: SolverChoice;
  timeLimitSeconds?: number;
  seed?: number;
  /** p-median: search horizon and the time charged beyond it, minutes (default 30). */
  horizonMinutes?: number;
  taxonomy?: Taxonomy;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface PlannedSite {
  /** rank in the solution (1 = chosen first by the heuristic, or by candidate order for the exact solver). */
  rank: number;
  candidate: number;
  name: string;
  lon: number;
  lat: number;
  source: Candidate['source'];
  ref: number;
  formats: string[];
  /** residents within the threshold not served by an existing facility (layer 0). */
  newlyCovered: { residents: number; elderly: number; residences: number };
  /** of those, residents no other chosen site covers (what is lost without this site). */
  onlyThisSite: number;
  /** capacitated: weight assigned to the site. */
  served?: number;
  capacity?: number;
  /** nearest existing facility of the first format, by walking time from the site. */
  nearestExisting: { id: number; name: string; minutes: number } | null;
}

export type UncoveredReason = 'unreachable' | 'no-candidate-within-threshold' | 'not-chosen' | 'capacity-full';

export interface LayerSummary {
  format: string;
  thresholdMinutes: number;
  value: number;
  /** share of all weight (residents in the demand group) covered. */
  before: number;
  after: number;
  residentsGaining: number;
}

export interface PlanReport {
  model: PlanModelKind;
  formats: string[];
  bundle: string | null;
  standards: string;
  walkingProfile: string;
  p: number | null;
  settings: Record<string, unknown>;
  solution: Omit<PlanSolution, 'open' | 'assignment' | 'log'> & { log: string[] };
  /** the other solver's answer when both ran. */
  alternative: { solver: string; objective: number; status: string; gap: number | null; seconds: number } | null;
  sites: PlannedSite[];
  layers: LayerSummary[];
  /** p-median: mean minutes to the nearest facility before and after. */
  meanMinutes: { before: number; after: number } | null;
  uncovered: {
    byReason: Record<UncoveredReason, { residences: number; residents: number }>;
    /** uncovered residences (layer 0), largest first, at most 2,000. */
    list: Array<{ residence: number; lon: number; lat: number; residents: number; reason: UncoveredReason; minutes: number | null }>;
  };
  instance: { demand: number; candidates: number; reachableCandidates: number; pairs: number; horizonMinutes: number };
  candidateFile: { rowsRead: number; rejected: CandidateSet['rejected']; notes: string[] };
  warnings: string[];
  timings: Record<string, number>;
  attribution: string;
}

export interface Bundle {
  id: string;
  name: { 'zh-CN': string; en: string };
  formats: string[];
}

export function loadBundles(): Bundle[] {
  const raw = JSON.parse(readFileSync(dataPath('plan', 'bundles.json'), 'utf8')) as { bundles: Bundle[] };
  return raw.bundles;
}

const findRequirement = (profile: StandardsProfile, format: string): Requirement | undefined =>
  profile.requirements.find((r) => requirementFormats(r).includes(format));

/** Everything a solver and the explanations need: the instance, the model, and how they map back to the region. */
export interface PreparedPlan {
  inst: PlanInstance;
  model: PlanModel;
  candidates: Candidate[];
  formats: string[];
  bundle: Bundle | null;
  standards: StandardsProfile;
  walking: WalkingProfile;
  /** demand point → residence. */
  demandRes: number[];
  /** residence → demand point, −1 when left out (no weight, or off the network). */
  demandOf: Int32Array;
  weightOf: (r: number) => number;
  population: Float32Array;
  elderly: Float32Array;
  totalWeight: number;
  /** existing facilities are candidates (relocatable or capacitated), not existingSeconds. */
  existingAsCandidates: boolean;
  net: ReturnType<typeof prepareNetwork>;
  group: string;
  warnings: string[];
  timings: Record<string, number>;
  reachableCandidates: number;
}

/** Build the instance and model for a request (no solving). Throws PlanInputError on bad input. */
export function preparePlan(region: Region, req: PlanRequest): PreparedPlan {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (k: string): void => {
    const now = performance.now();
    timings[k] = Math.round((now - t) * 10) / 10;
    t = now;
  };
  const progress = req.onProgress ?? (() => {});
  const warnings: string[] = [];
  const taxonomy = req.taxonomy ?? loadTaxonomy();
  const standards = loadStandardsProfile(req.standards ?? 'xuhui', { taxonomy });

  // ---- formats and layers
  if (req.formats.length === 0) throw new PlanInputError('name at least one format (or a bundle)', 'format');
  let bundle: Bundle | null = null;
  let formats = req.formats;
  if (formats.length === 1) {
    bundle = loadBundles().find((b) => b.id === formats[0]) ?? null;
    if (bundle) formats = bundle.formats;
  }
  for (const f of formats) {
    if (!taxonomy.byId.has(f)) {
      const known = [...taxonomy.byId.keys(), ...loadBundles().map((b) => b.id)];
      throw new PlanInputError(`unknown format "${f}" (known: ${known.join(', ')})`, 'format');
    }
  }
  if (new Set(formats).size !== formats.length) throw new PlanInputError(`a format is named twice in ${formats.join(', ')}`, 'format');
  if (req.relocatable && formats.length > 1) throw new PlanInputError('relocating existing facilities works for one format at a time, not for a bundle', 'relocatable');
  if (req.minutes !== undefined && !(req.minutes > 0 && req.minutes <= 120)) throw new PlanInputError(`minutes ${req.minutes} is not in (0, 120]`, 'minutes');

  const firstReq = findRequirement(standards, formats[0]);
  const walkingId = firstReq ? requirementWalkingProfile(standards, firstReq) : standards.walkingProfile;
  const walking: WalkingProfile = getWalkingProfile(walkingId);
  const layers = formats.map((f) => {
    const r = findRequirement(standards, f);
    if (r && requirementWalkingProfile(standards, r) !== walkingId) {
      warnings.push(`${f}: the ${standards.id} profile judges it at the ${requirementWalkingProfile(standards, r)} walking profile; this plan searches every layer at ${walkingId}`);
    }
    const seconds = req.minutes !== undefined ? req.minutes * 60 : r ? requirementSeconds(r, walking) : taxonomy.byId.get(f)!.mofcomMinutes * 60;
    return { format: f, seconds, value: r?.weight ?? 1, inProfile: !!r };
  });
  const horizon =
    req.model === 'pmedian' ? Math.max((req.horizonMinutes ?? 30) * 60, ...layers.map((l) => l.seconds)) : Math.max(...layers.map((l) => l.seconds));
  if (req.model === 'pmedian' && req.horizonMinutes !== undefined && !(req.horizonMinutes > 0 && req.horizonMinutes <= 240)) {
    throw new PlanInputError(`horizon ${req.horizonMinutes} minutes is not in (0, 240]`, 'horizonMinutes');
  }

  // ---- demand
  const table = region.residences;
  const n = table.count;
  const elderlyShare = req.elderlyShare ?? ELDERLY_SHARE;
  const population = table.population.slice();
  const elderly = new Float32Array(n);
  if (req.population != null) {
    if (!(req.population >= 0 && Number.isFinite(req.population))) throw new PlanInputError(`population ${req.population} is not a non-negative number`, 'population');
    const rep = distributePopulation({ ...table, population, elderly }, { total: req.population }, elderlyShare);
    warnings.push(...rep.warnings);
  } else for (let r = 0; r < n; r++) elderly[r] = population[r] * elderlyShare;
  const group = firstReq?.population ?? 'all';
  const ew = req.elderlyWeight ?? 1;
  if (!(ew >= 0 && ew <= 100)) throw new PlanInputError(`elderly weight ${ew} is not in [0, 100]`, 'elderlyWeight');
  const weightOf = (r: number): number =>
    group === 'elderly' ? elderly[r] : group === 'children' ? population[r] * CHILDREN_SHARE : population[r] + (ew - 1) * elderly[r];
  const reachable = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    for (let p = table.gateOffsets[r]; p < table.gateOffsets[r + 1]; p++) if (region.residenceSnaps.edge[p] >= 0) reachable[r] = 1;
  }
  const demandRes: number[] = [];
  const demandOf = new Int32Array(n).fill(-1);
  let totalWeight = 0;
  for (let r = 0; r < n; r++) {
    const w = weightOf(r);
    if (!(w > 0)) continue;
    totalWeight += w;
    if (!reachable[r]) continue;
    demandOf[r] = demandRes.length;
    demandRes.push(r);
  }
  const m = demandRes.length;
  if (m === 0) throw new PlanInputError('no residents on the network to plan for', 'demand');
  const weight = new Float64Array(m);
  for (let i = 0; i < m; i++) weight[i] = weightOf(demandRes[i]);
  lap('demand');

  // ---- candidates: the request's, plus existing facilities (relocatable or capacitated)
  const cands: Candidate[] = [...req.candidates.candidates];
  const fixedList: number[] = [];
  const existingAsCandidates = req.relocatable || req.model === 'capacitated';
  if (existingAsCandidates) {
    for (const c of existingCandidates(region, [formats[0]])) {
      if (req.model === 'capacitated' && !req.relocatable) fixedList.push(cands.length);
      cands.push(c);
    }
  }
  const N = cands.length;
  const fixed = new Uint8Array(N);
  for (const j of fixedList) fixed[j] = 1;
  const freeCount = N - fixedList.length;
  const existingCount = existingAsCandidates ? N - req.candidates.candidates.length : 0;
  let p: number | null = null;
  if (req.model !== 'lscp') {
    if (req.sites === undefined) throw new PlanInputError(`the ${req.model} model needs the number of sites (--sites)`, 'sites');
    if (!(Number.isInteger(req.sites) && req.sites >= 0)) throw new PlanInputError(`sites ${req.sites} is not a whole number ≥ 0`, 'sites');
    p = req.relocatable ? req.sites + existingCount : req.sites;
    if (freeCount === 0) throw new PlanInputError('there are no candidate sites', 'candidates');
    if (p > freeCount) {
      throw new PlanInputError(`${req.sites} sites asked for but there are only ${freeCount - (req.relocatable ? existingCount : 0)} candidates${req.relocatable ? ` (plus ${existingCount} existing to relocate)` : ''}`, 'sites');
    }
  }
  const reachableCandidates = cands.filter((c) => c.snap).length;
  if (reachableCandidates === 0) throw new PlanInputError(`none of the ${N} candidates is within ${region.meta.snapLimitMetres} m of a walkable way`, 'candidates');
  lap('candidates');

  // ---- coverage sets, re-indexed to demand points
  const cov = buildCoverage(
    region,
    cands.map((c) => c.snap),
    { walking, horizonSeconds: horizon, onProgress: (d, tot) => progress('coverage', d, tot) },
  );
  const start = new Int32Array(N + 1);
  let nnz = 0;
  for (let k = 0; k < cov.residence.length; k++) if (demandOf[cov.residence[k]] >= 0) nnz++;
  const demand = new Int32Array(nnz);
  const seconds = new Float32Array(nnz);
  let x = 0;
  for (let j = 0; j < N; j++) {
    for (let k = cov.start[j]; k < cov.start[j + 1]; k++) {
      const i = demandOf[cov.residence[k]];
      if (i < 0) continue;
      demand[x] = i;
      seconds[x++] = cov.seconds[k];
    }
    start[j + 1] = x;
  }
  lap('coverage');

  // ---- existing facilities per layer (kept ones only)
  const net = prepareNetwork(region, new Uint8Array(region.facilities.length).fill(1));
  const existingByLayer: Float64Array[] = layers.map(() => new Float64Array(m).fill(Infinity));
  const existingNearest: Int32Array[] = layers.map(() => new Int32Array(m).fill(-1));
  if (!existingAsCandidates) {
    residenceTimes(net, {
      walking,
      formats,
      maxSeconds: horizon,
      onFormat: (fi, secs, near) => {
        for (let i = 0; i < m; i++) {
          existingByLayer[fi][i] = secs[demandRes[i]];
          existingNearest[fi][i] = near[demandRes[i]];
        }
      },
    });
  }
  const instLayers: CoverageLayer[] = layers.map((l, k) => ({ id: l.format, thresholdSeconds: l.seconds, value: l.value, existingSeconds: existingByLayer[k] }));
  let capacity: Float64Array | undefined;
  if (req.model === 'capacitated') {
    if (req.capacity === undefined && !cands.some((c) => c.capacity !== undefined)) {
      throw new PlanInputError('the capacitated model needs a capacity per site (--capacity, or a capacity column in the candidate list)', 'capacity');
    }
    capacity = new Float64Array(N);
    for (let j = 0; j < N; j++) {
      const c = cands[j];
      const cap = c.source === 'existing' ? (req.existingCapacity ?? req.capacity) : (c.capacity ?? req.capacity);
      if (cap === undefined || !(cap >= 0)) throw new PlanInputError(`candidate ${c.name} has no capacity`, 'capacity');
      capacity[j] = cap;
    }
  }
  const inst: PlanInstance = {
    demandCount: m,
    weight,
    candidateCount: N,
    start,
    demand,
    seconds,
    horizonSeconds: horizon,
    layers: instLayers,
    fixed,
    capacity,
  };
  lap('existing');

  // ---- model
  let model: PlanModel;
  switch (req.model) {
    case 'mclp':
      model = { kind: 'mclp', p: p! };
      break;
    case 'pmedian':
      model = { kind: 'pmedian', p: p!, unreachedSeconds: horizon };
      break;
    case 'capacitated':
      model = { kind: 'capacitated', p: p! };
      break;
    case 'lscp': {
      // default target: everyone some candidate (or an existing facility) can reach
      let coverable = 0;
      const can = new Uint8Array(m);
      const T = instLayers[0].thresholdSeconds;
      for (let i = 0; i < m; i++) if (instLayers[0].existingSeconds[i] <= T) can[i] = 1;
      for (let k = 0; k < nnz; k++) if (seconds[k] <= T) can[demand[k]] = 1;
      for (let i = 0; i < m; i++) if (can[i]) coverable += weight[i];
      const share = req.coverShare ?? coverable / Math.max(totalWeight, 1e-12);
      if (!(share >= 0 && share <= 1)) throw new PlanInputError(`cover share ${share} is not in [0, 1]`, 'coverShare');
      if (req.coverShare === undefined && coverable < totalWeight - 1e-9) {
        warnings.push(`${Math.round(totalWeight - coverable)} residents cannot be covered by any candidate within ${Math.round(T / 60)} minutes (or are off the network): the target is the ${(share * 100).toFixed(1)} % that can`);
      }
      // the instance's weight misses residents off the network: scale the share to the demand's total
      const demandTotal = weight.reduce((a, b) => a + b, 0);
      const instShare = Math.min(1, (share * totalWeight) / Math.max(demandTotal, 1e-12));
      if (share * totalWeight > demandTotal + 1e-6) {
        throw new PlanInputError(
          `a cover share of ${(share * 100).toFixed(1)} % cannot be reached: ${Math.round(totalWeight - demandTotal)} of ${Math.round(totalWeight)} residents are not on the walking network`,
          'coverShare',
        );
      }
      model = { kind: 'lscp', coverShare: instShare };
      break;
    }
  }

  return {
    inst,
    model,
    candidates: cands,
    formats,
    bundle,
    standards,
    walking,
    demandRes,
    demandOf,
    weightOf,
    population,
    elderly,
    totalWeight,
    existingAsCandidates,
    net,
    group,
    warnings,
    timings,
    reachableCandidates,
  };
}

export async function runPlan(region: Region, req: PlanRequest): Promise<PlanReport> {
  const prep = preparePlan(region, req);
  const { inst, model, candidates: cands, formats, bundle, standards, walking, demandRes, demandOf, weightOf, population, elderly, totalWeight, existingAsCandidates, net, group, warnings, timings, reachableCandidates } = prep;
  const m = inst.demandCount;
  const weight = inst.weight;
  const N = inst.candidateCount;
  const instLayers = inst.layers;
  const horizon = inst.horizonSeconds;
  const progress = req.onProgress ?? (() => {});
  let t = performance.now();
  const lap = (k: string): void => {
    const now = performance.now();
    timings[k] = Math.round((now - t) * 10) / 10;
    t = now;
  };
  const ew = req.elderlyWeight ?? 1;

  // ---- solve
  const solver = req.solver ?? 'both';
  const opts = { timeLimitSeconds: req.timeLimitSeconds ?? 60, seed: req.seed ?? 1, onProgress: progress };
  let heuristic: PlanSolution | null = null;
  let exact: PlanSolution | null = null;
  if (solver !== 'exact') heuristic = solveHeuristic(inst, model, opts);
  lap('heuristic');
  if (solver !== 'heuristic') exact = await solveExact(inst, model, opts);
  lap('exact');
  const maximise = model.kind === 'mclp' || model.kind === 'capacitated';
  let chosen: PlanSolution;
  let other: PlanSolution | null = null;
  if (heuristic && exact) {
    const exactBetterOrEqual = maximise ? exact.objective >= heuristic.objective - 1e-9 : exact.objective <= heuristic.objective + 1e-9;
    chosen = exact.status === 'optimal' || exactBetterOrEqual ? exact : heuristic;
    other = chosen === exact ? heuristic : exact;
    // a time-limited exact run that found less than the heuristic still proves a bound on it
    if (chosen === heuristic && exact.bound !== null) {
      chosen = { ...heuristic, bound: exact.bound, gap: Math.abs(exact.bound - heuristic.objective) / Math.max(Math.abs(heuristic.objective), 1) };
    }
  } else chosen = (exact ?? heuristic)!;

  // ---- explain
  const sites = explainSites(region, inst, model, chosen, cands, formats, demandRes, population, elderly, walking, net);
  const after = nearestOpenSeconds(inst, chosen.open);
  const layerSummaries: LayerSummary[] = instLayers.map((l) => {
    let before = 0;
    let aft = 0;
    let gaining = 0;
    for (let i = 0; i < m; i++) {
      const b = l.existingSeconds[i] <= l.thresholdSeconds;
      const a = b || after[i] <= l.thresholdSeconds;
      if (b) before += weight[i];
      if (a) aft += weight[i];
      if (a && !b) gaining += population[demandRes[i]];
    }
    return { format: l.id, thresholdMinutes: l.thresholdSeconds / 60, value: l.value, before: before / totalWeight, after: aft / totalWeight, residentsGaining: Math.round(gaining) };
  });
  // capacitated / relocatable: "before" is what the existing facilities alone reach
  if (existingAsCandidates) {
    const existingOnly = cands.map((c, j) => (c.source === 'existing' ? j : -1)).filter((j) => j >= 0);
    const base = nearestOpenSeconds({ ...inst, fixed: new Uint8Array(N) }, existingOnly);
    const T = instLayers[0].thresholdSeconds;
    let b = 0;
    for (let i = 0; i < m; i++) if (base[i] <= T) b += weight[i];
    layerSummaries[0].before = b / totalWeight;
  }
  let meanMinutes: PlanReport['meanMinutes'] = null;
  if (model.kind === 'pmedian') {
    let sb = 0;
    let sa = 0;
    let w = 0;
    for (let i = 0; i < m; i++) {
      sb += weight[i] * Math.min(instLayers[0].existingSeconds[i], horizon);
      sa += weight[i] * Math.min(instLayers[0].existingSeconds[i], after[i], horizon);
      w += weight[i];
    }
    meanMinutes = { before: sb / w / 60, after: sa / w / 60 };
  }
  const uncovered = explainUncovered(region, inst, model, chosen, demandOf, weightOf, population, after);
  lap('explain');

  const { open: _open, assignment: _assignment, ...solInfo } = chosen; // eslint-style discard: the report carries sites instead
  return {
    model: req.model,
    formats,
    bundle: bundle?.id ?? null,
    standards: standards.id,
    walkingProfile: walking.id,
    p: req.model === 'lscp' ? null : req.sites!,
    settings: {
      minutes: req.minutes ?? null,
      coverShare: req.coverShare ?? null,
      capacity: req.capacity ?? null,
      relocatable: !!req.relocatable,
      elderlyWeight: ew,
      population: req.population ?? null,
      solver,
      timeLimitSeconds: opts.timeLimitSeconds,
      seed: opts.seed,
      demandGroup: group,
    },
    solution: solInfo,
    alternative: other ? { solver: other.solver, objective: other.objective, status: other.status, gap: other.gap, seconds: other.seconds } : null,
    sites,
    layers: layerSummaries,
    meanMinutes,
    uncovered,
    instance: { demand: m, candidates: N, reachableCandidates, pairs: inst.demand.length, horizonMinutes: horizon / 60 },
    candidateFile: { rowsRead: req.candidates.rowsRead, rejected: req.candidates.rejected, notes: req.candidates.notes },
    warnings,
    timings,
    attribution: region.meta.attribution,
  };
}

function explainSites(
  region: Region,
  inst: PlanInstance,
  model: PlanModel,
  sol: PlanSolution,
  cands: Candidate[],
  formats: string[],
  demandRes: number[],
  population: Float32Array,
  elderly: Float32Array,
  walking: WalkingProfile,
  net: ReturnType<typeof prepareNetwork>,
): PlannedSite[] {
  const T = inst.layers[0].thresholdSeconds;
  const existing = inst.layers[0].existingSeconds;
  // how many chosen (and fixed) sites cover each demand point within T
  const count = new Int32Array(inst.demandCount);
  const openAll = [...sol.open, ...Array.from(inst.fixed.keys()).filter((j) => inst.fixed[j])];
  for (const j of openAll) for (let k = inst.start[j]; k < inst.start[j + 1]; k++) if (inst.seconds[k] <= T) count[inst.demand[k]]++;
  const served = new Map<number, number>();
  if (model.kind === 'capacitated') {
    const a = sol.assignment ?? capacitatedAssignment(inst, sol.open).assignment;
    for (let k = 0; k < a.site.length; k++) served.set(a.site[k], (served.get(a.site[k]) ?? 0) + a.amount[k]);
  }
  const nearest = nearestExistingFacility(region, formats[0], Array.from(sol.open, (j) => cands[j].snap), walking, net);
  return Array.from(sol.open, (j, rank) => {
    const c = cands[j];
    let residents = 0;
    let eld = 0;
    let homes = 0;
    let only = 0;
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) {
      const i = inst.demand[k];
      if (inst.seconds[k] > T || existing[i] <= T) continue;
      const r = demandRes[i];
      residents += population[r];
      eld += elderly[r];
      homes++;
      if (count[i] === 1) only += population[r];
    }
    return {
      rank: rank + 1,
      candidate: j,
      name: c.name,
      lon: c.lon,
      lat: c.lat,
      source: c.source,
      ref: c.ref,
      formats,
      newlyCovered: { residents: Math.round(residents), elderly: Math.round(eld), residences: homes },
      onlyThisSite: Math.round(only),
      ...(model.kind === 'capacitated' ? { served: Math.round(served.get(j) ?? 0), capacity: inst.capacity?.[j] } : {}),
      nearestExisting: nearest[rank],
    };
  });
}

/** For each site, the nearest existing facility of `format` by walking time (one multi-source search). */
function nearestExistingFacility(
  region: Region,
  format: string,
  sites: (Snap | null)[],
  walking: WalkingProfile,
  net: ReturnType<typeof prepareNetwork>,
): Array<PlannedSite['nearestExisting']> {
  const ids = net.seedsByFormat.get(format);
  if (!ids || ids.length === 0) return sites.map(() => null);
  const g = region.graph;
  const fs = region.facilitySnaps;
  const edgeSec = edgeSeconds(g, walking);
  const arcSec = arcSeconds(g, walking, edgeSec);
  const nodes = new Int32Array(2 * ids.length);
  const secs = new Float64Array(2 * ids.length);
  const labels = new Int32Array(2 * ids.length);
  ids.forEach((id, k) => {
    const f = region.facilities[id];
    writeSnapSeeds({ edge: fs.edge[id], offset: fs.offset[id], distance: fs.access[id], lon: f.lon, lat: f.lat }, edgeSec, g, walking.speedMps, nodes, secs, 2 * k);
    labels[2 * k] = labels[2 * k + 1] = id;
  });
  const ws = new DijkstraWorkspace(g.nodeCount);
  runDijkstra(g, arcSec, ws, nodes, secs, 3600, labels);
  return sites.map((s) => {
    if (!s) return null;
    const sec = timeToSnap(ws, s, g, edgeSec, walking.speedMps);
    if (!(sec <= 3600)) return null;
    const e = s.edge;
    const len = g.edgeLength[e];
    const f = len > 0 ? s.offset / len : 0;
    const viaFrom = ws.dist[g.edgeFrom[e]] + f * edgeSec[e];
    const viaTo = ws.dist[g.edgeTo[e]] + (1 - f) * edgeSec[e];
    const id = viaFrom <= viaTo ? ws.label[g.edgeFrom[e]] : ws.label[g.edgeTo[e]];
    if (id < 0) return null;
    return { id, name: region.facilities[id].name, minutes: Math.round((sec / 60) * 10) / 10 };
  });
}

function explainUncovered(
  region: Region,
  inst: PlanInstance,
  model: PlanModel,
  sol: PlanSolution,
  demandOf: Int32Array,
  weightOf: (r: number) => number,
  population: Float32Array,
  after: Float64Array,
): PlanReport['uncovered'] {
  const T = inst.layers[0].thresholdSeconds;
  const existing = inst.layers[0].existingSeconds;
  const anyCandidate = new Float64Array(inst.demandCount).fill(Infinity);
  for (let k = 0; k < inst.demand.length; k++) if (inst.seconds[k] < anyCandidate[inst.demand[k]]) anyCandidate[inst.demand[k]] = inst.seconds[k];
  // capacitated: served share per demand from the assignment
  let servedShare: Float64Array | null = null;
  if (model.kind === 'capacitated') {
    servedShare = new Float64Array(inst.demandCount);
    const a = sol.assignment ?? capacitatedAssignment(inst, sol.open).assignment;
    for (let k = 0; k < a.demand.length; k++) servedShare[a.demand[k]] += a.amount[k] / Math.max(inst.weight[a.demand[k]], 1e-12);
  }
  const byReason: PlanReport['uncovered']['byReason'] = {
    unreachable: { residences: 0, residents: 0 },
    'no-candidate-within-threshold': { residences: 0, residents: 0 },
    'not-chosen': { residences: 0, residents: 0 },
    'capacity-full': { residences: 0, residents: 0 },
  };
  const list: PlanReport['uncovered']['list'] = [];
  const t = region.residences;
  for (let r = 0; r < t.count; r++) {
    if (!(weightOf(r) > 0)) continue;
    const i = demandOf[r];
    let reason: UncoveredReason | null = null;
    let minutes: number | null = null;
    if (i < 0) reason = 'unreachable';
    else {
      const best = Math.min(existing[i], after[i]);
      minutes = Number.isFinite(best) ? Math.round((best / 60) * 10) / 10 : null;
      if (existing[i] <= T) continue;
      if (servedShare) {
        if (servedShare[i] >= 1 - 1e-6) continue;
        if (after[i] <= T) reason = 'capacity-full';
      } else if (after[i] <= T) continue;
      if (!reason) reason = anyCandidate[i] <= T ? 'not-chosen' : 'no-candidate-within-threshold';
    }
    byReason[reason].residences++;
    byReason[reason].residents += population[r];
    list.push({ residence: r, lon: t.lon[r], lat: t.lat[r], residents: Math.round(population[r]), reason, minutes });
  }
  for (const k of Object.keys(byReason) as UncoveredReason[]) byReason[k].residents = Math.round(byReason[k].residents);
  list.sort((a, b) => b.residents - a.residents || a.residence - b.residence);
  return { byReason, list: list.slice(0, 2000) };
}
