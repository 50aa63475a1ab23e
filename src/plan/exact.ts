/**
 * Exact solutions of the facility-location models with HiGHS (WebAssembly build, npm `highs`).
 * The reduced model (exact-model.ts) goes to HiGHS as row-wise typed arrays through the
 * persistent API: no LP text is written or parsed on the way, and the MIP gap and best bound are
 * read back at a time limit. HiGHS runs synchronously; the promise only covers loading the
 * WebAssembly module once.
 */
import highsImport from 'highs';
import type { Highs, Model } from 'highs';
import type { PlanInstance, PlanModel, PlanSolution, SolveOptions } from './instance.js';
import { PlanInputError, freeCandidates, validateInstance } from './instance.js';
import { coveredShare, evaluatePlan } from './objective.js';
import { buildMip, checkModel, writeLpText } from './exact-model.js';
import type { MipModel } from './exact-model.js';

const DEFAULT_TIME_LIMIT_SECONDS = 60;
/** covering models with at least this many nonzeros solve their root LP by interior point. */
const IPM_ROOT_NONZEROS = 100_000;

type HighsLoader = typeof highsImport.default;
// The typings describe the CommonJS build (loader under .default); Node's `import` condition loads
// the ES build, whose default export is the loader itself. Accept both.
const loadHighs: HighsLoader = typeof highsImport === 'function' ? (highsImport as unknown as HighsLoader) : highsImport.default;

let runtime: Promise<Highs> | null = null;

/** The HiGHS runtime, loaded once per process (reloaded after a failure, which may leave it unusable). */
function highsRuntime(): Promise<Highs> {
  if (!runtime) runtime = loadHighs();
  return runtime;
}

/** HiGHS log lines worth keeping in solution.log (the rest is per-node progress). */
const KEEP_LOG = /^(MIP has|MIP start|Model after restart|LP has|Presolve reductions|Presolving|Objective function is integral|\s*Status|\s*Primal bound|\s*Dual bound|\s*Gap|\s*Nodes|\s*LP iterations|\s*Timing|Model status)/;

/** Input checks shared by solveExact and writeLpModel; LSCP also checks its target is reachable. */
function checkInput(inst: PlanInstance, model: PlanModel): void {
  validateInstance(inst);
  checkModel(inst, model);
  if (model.kind === 'lscp') {
    const best = coveredShare(inst, freeCandidates(inst));
    if (best < model.coverShare) {
      throw new PlanInputError(
        `coverShare ${model.coverShare} cannot be reached: with every candidate open ${(best * 100).toFixed(4)}% of the weight ` +
          `is covered (best reachable share ${best})`,
        'coverShare',
      );
    }
  }
}

/**
 * The model as CPLEX LP text, after the same reductions solveExact makes. Its objective (with the
 * constant carried by a column `one` fixed to 1) equals solveExact's objective at the optimum;
 * x<j> = 1 opens candidate j. Readable by HiGHS, CBC (`cbc model.lp solve`), CPLEX, Gurobi, SCIP.
 */
export function writeLpModel(inst: PlanInstance, model: PlanModel): string {
  checkInput(inst, model);
  const mip = buildMip(inst, model);
  const what = model.kind === 'lscp' ? `coverShare = ${model.coverShare}` : `p = ${model.p}`;
  return writeLpText(mip, [
    `Quarter facility location: ${model.kind}, ${what}; x<j> = 1 opens candidate j`,
    ...mip.log,
    `${mip.numCols} columns, ${mip.numRows} rows, ${mip.rowIndex.length} nonzeros`,
  ]);
}

/** Solve a model to optimality or to the time limit with HiGHS. */
export async function solveExact(inst: PlanInstance, model: PlanModel, opts: SolveOptions = {}): Promise<PlanSolution> {
  const t0 = performance.now();
  const limit = opts.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS;
  if (typeof limit !== 'number' || !(limit > 0)) throw new PlanInputError(`timeLimitSeconds must be > 0, got ${limit}`, 'timeLimitSeconds');
  checkInput(inst, model);
  const free = freeCandidates(inst);
  const log: string[] = [`instance: ${inst.demandCount} demand, ${inst.candidateCount} candidates (${free.length} free), ${inst.start[inst.candidateCount]} pairs, ${inst.layers.length} layers`];
  const done = (open: Int32Array, objective: number): PlanSolution => ({
    model: model.kind,
    open,
    objective,
    bound: objective,
    gap: 0,
    status: 'optimal',
    solver: 'highs',
    seconds: (performance.now() - t0) / 1000,
    log,
  });

  // Plans with no choice left need no solver.
  if (model.kind === 'lscp' && coveredShare(inst, []) >= model.coverShare) {
    log.push(`target share ${model.coverShare} is met without new sites`);
    return done(new Int32Array(0), 0);
  }
  if ((model.kind === 'mclp' || model.kind === 'pmedian') && (model.p === 0 || model.p === free.length)) {
    const open = model.p === 0 ? new Int32Array(0) : free;
    log.push(`p = ${model.p} of ${free.length} free candidates: the plan is forced`);
    return done(open, evaluatePlan(inst, model, open));
  }

  opts.onProgress?.('model', 0, 1);
  const mip = buildMip(inst, model);
  log.push(...mip.log, `model: ${mip.numCols} columns (${mip.free.length} binary), ${mip.numRows} rows, ${mip.rowIndex.length} nonzeros`);
  const buildSeconds = (performance.now() - t0) / 1000;
  log.push(`model built in ${buildSeconds.toFixed(2)} s`);
  opts.onProgress?.('model', 1, 1);
  if (mip.numCols === 0) {
    log.push('nothing to decide: the objective is the constant');
    return finish(inst, model, mip, new Float64Array(0), true, mip.offset, log, t0);
  }

  const remaining = limit - (performance.now() - t0) / 1000;
  if (remaining <= 0 && mip.start) {
    log.push('the time limit ran out while building the model: the start plan is the incumbent');
    return finish(inst, model, mip, mip.start, false, Number.NaN, log, t0);
  }
  const highs = await highsRuntime();
  let hm: Model | null = null;
  let result: { colValue: Float64Array; optimal: boolean; dualBound: number };
  try {
    hm = highs.createModel({
      numCols: mip.numCols,
      numRows: mip.numRows,
      sense: mip.maximize ? highs.constants.objectiveSense.maximize : highs.constants.objectiveSense.minimize,
      offset: mip.offset,
      colCost: mip.colCost,
      colLower: mip.colLower,
      colUpper: mip.colUpper,
      rowLower: mip.rowLower,
      rowUpper: mip.rowUpper,
      matrix: { format: 'csr', numRows: mip.numRows, numCols: mip.numCols, starts: mip.rowStart, indices: mip.rowIndex, values: mip.rowValue },
      integrality: Int32Array.from(mip.colBinary),
    });
    hm.options.set({
      output_flag: true,
      log_to_console: false,
      // the model building counts against the limit too (HiGHS takes only finite limits).
      ...(Number.isFinite(limit) ? { time_limit: Math.max(0.001, limit - (performance.now() - t0) / 1000) } : {}),
      // exact: stop only when the bound meets the incumbent (to HiGHS's absolute gap, 1e-6).
      mip_rel_gap: 0,
      // The root LP of a large covering model is highly degenerate: dual simplex stalls for minutes
      // where the interior-point method (root only; nodes still use simplex) takes seconds.
      mip_lp_solver: (mip.kind === 'mclp' || mip.kind === 'lscp') && mip.rowIndex.length >= IPM_ROOT_NONZEROS ? 'ipm' : 'choose',
      random_seed: Math.abs(Math.trunc(opts.seed ?? 1)) % 2147483647,
    });
    if (mip.start) hm.setSolution({ colValue: mip.start });
    const highsLog: string[] = [];
    const progress = opts.onProgress;
    hm.run({
      [highs.constants.callbackType.logging]: (e) => {
        for (const line of e.message.split('\n')) if (KEEP_LOG.test(line)) highsLog.push(`highs: ${line.trimEnd()}`);
        return undefined;
      },
      ...(progress
        ? {
            [highs.constants.callbackType.mipLogging]: (e) => {
              progress('solve', Math.min(limit, e.data.running_time ?? 0), limit);
              return undefined;
            },
          }
        : {}),
    });
    log.push(...highsLog);
    const status = hm.getModelStatus();
    const hasSolution = Number(hm.info.get('primal_solution_status')) === 2;
    const dualBound = Number(hm.info.get('mip_dual_bound'));
    const nodes = hm.info.get('mip_node_count');
    const statusName = Object.entries(highs.constants.modelStatus).find(([, v]) => v === status)?.[0] ?? String(status);
    log.push(`highs status ${statusName}, dual bound ${dualBound}, nodes ${nodes}`);
    const optimal = status === highs.constants.modelStatus.optimal;
    let colValue: Float64Array;
    if (optimal || hasSolution) {
      colValue = hm.getSolution().colValue;
    } else if (mip.start && status !== highs.constants.modelStatus.infeasible) {
      // stopped before HiGHS took up the start: it is feasible by construction, so it is the incumbent.
      log.push('HiGHS stopped before reporting a plan: the start plan is the incumbent');
      colValue = mip.start;
    } else if (status === highs.constants.modelStatus.timeLimit || status === highs.constants.modelStatus.interrupted) {
      throw new Error(`HiGHS found no feasible plan within the time limit of ${limit} s (model: ${mip.numCols} columns, ${mip.numRows} rows)`);
    } else {
      throw new Error(`HiGHS ended with status ${statusName} and no plan (${model.kind})`);
    }
    result = { colValue, optimal, dualBound };
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('HiGHS ')) throw err;
    // Anything but the wrapper's own errors is a WebAssembly abort (out of its 2 GB memory, say),
    // which leaves the runtime unusable: load a fresh one next time.
    const errors = Object.values(highs.errors);
    if (!errors.some((E) => err instanceof E)) runtime = null;
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(
      `HiGHS failed on the ${model.kind} model (${mip.numCols} columns, ${mip.numRows} rows, ${mip.rowIndex.length} nonzeros): ${message}`,
      { cause: err },
    );
  } finally {
    try {
      hm?.dispose();
    } catch {
      // after an abort the instance is gone with the runtime.
    }
  }
  return finish(inst, model, mip, result.colValue, result.optimal, result.dualBound, log, t0);
}

/** Read the plan from the solver's columns; the objective comes from the plan itself. */
function finish(
  inst: PlanInstance,
  model: PlanModel,
  mip: MipModel,
  colValue: Float64Array,
  optimal: boolean,
  dualBound: number,
  log: string[],
  t0: number,
): PlanSolution {
  const chosen: number[] = [];
  for (let c = 0; c < mip.free.length; c++) if (colValue[c] > 0.5) chosen.push(mip.free[c]);
  const open = Int32Array.from(chosen);
  let objective: number;
  let assignment: PlanSolution['assignment'];
  if (model.kind === 'capacitated') {
    ({ objective, assignment } = readAssignment(inst, mip, colValue));
  } else {
    objective = evaluatePlan(inst, model, open);
  }
  if (model.kind === 'lscp' && coveredShare(inst, open) < model.coverShare) {
    log.push(`warning: the plan covers share ${coveredShare(inst, open)}, below the target by the solver's feasibility tolerance`);
  }
  // Both HiGHS's bound and the model's own are valid; keep the tighter, never past the incumbent.
  let bound: number;
  if (mip.maximize) {
    bound = Number.isFinite(dualBound) ? Math.min(dualBound, mip.trivialBound) : mip.trivialBound;
    bound = Math.max(bound, objective);
  } else {
    bound = Number.isFinite(dualBound) ? Math.max(dualBound, mip.trivialBound) : mip.trivialBound;
    bound = Math.min(bound, objective);
  }
  let gap = Math.abs(bound - objective) / Math.max(Math.abs(objective), 1);
  // a bound that meets the plan proves it optimal, whoever found the bound.
  const proven = optimal || gap <= 1e-9;
  if (proven) {
    bound = objective;
    gap = 0;
  }
  log.push(`objective ${objective}, bound ${bound}, gap ${gap}`);
  return {
    model: model.kind,
    open,
    objective,
    bound,
    gap,
    status: proven ? 'optimal' : 'time-limit',
    solver: 'highs',
    seconds: (performance.now() - t0) / 1000,
    ...(assignment ? { assignment } : {}),
    log,
  };
}

/**
 * The capacitated assignment from the z columns, made exactly feasible: fractions clipped to
 * [0, 1], closed sites serve nothing, then scaled down where a demand point or a site is over
 * by the solver's tolerance. Merged groups are split back to their demand points by weight.
 */
function readAssignment(inst: PlanInstance, mip: MipModel, colValue: Float64Array): { objective: number; assignment: NonNullable<PlanSolution['assignment']> } {
  const map = mip.capacitated as NonNullable<MipModel['capacitated']>; // built for capacitated models
  const zCount = map.zGroup.length;
  const open = new Uint8Array(inst.candidateCount);
  for (let j = 0; j < inst.candidateCount; j++) if (inst.fixed[j]) open[j] = 1;
  for (let c = 0; c < mip.free.length; c++) if (colValue[c] > 0.5) open[mip.free[c]] = 1;
  const frac = new Float64Array(zCount);
  const groupSum = new Float64Array(map.groupWeight.length);
  for (let q = 0; q < zCount; q++) {
    const v = colValue[map.zFirst + q];
    frac[q] = open[map.zSite[q]] && v > 1e-9 ? Math.min(1, v) : 0;
    groupSum[map.zGroup[q]] += frac[q];
  }
  const load = new Float64Array(inst.candidateCount);
  for (let q = 0; q < zCount; q++) {
    const g = map.zGroup[q];
    if (groupSum[g] > 1) frac[q] /= groupSum[g];
    load[map.zSite[q]] += frac[q] * map.groupWeight[g];
  }
  for (let q = 0; q < zCount; q++) {
    const j = map.zSite[q];
    if (load[j] > map.capacity[j]) frac[q] *= map.capacity[j] / load[j];
  }
  // z columns of each group are contiguous: first column of group g.
  const groupFirst = new Int32Array(map.groupWeight.length + 1).fill(-1);
  for (let q = zCount - 1; q >= 0; q--) groupFirst[map.zGroup[q]] = q;
  groupFirst[map.groupWeight.length] = zCount;
  const demand: number[] = [];
  const site: number[] = [];
  const amount: number[] = [];
  let served = 0;
  for (let i = 0; i < inst.demandCount; i++) {
    const g = map.groupOfDemand[i];
    if (g < 0) continue;
    for (let q = groupFirst[g]; q < zCount && map.zGroup[q] === g; q++) {
      if (frac[q] <= 0) continue;
      const a = inst.weight[i] * frac[q];
      demand.push(i);
      site.push(map.zSite[q]);
      amount.push(a);
      served += a;
    }
  }
  return {
    objective: map.served + served,
    assignment: { demand: Int32Array.from(demand), site: Int32Array.from(site), amount: Float64Array.from(amount) },
  };
}
