/**
 * Fast heuristic solutions of the facility-location models, for interactive use and instances too
 * large for the exact solver: greedy construction, then vertex-substitution swap local search.
 * Seeded and deterministic: ties and move order follow a mulberry32 stream, and every budget is
 * counted in work, never in wall-clock time, so the same seed gives the same answer.
 */
import { PlanInputError, validateInstance, type PlanInstance, type PlanModel, type PlanSolution, type SolveOptions } from './instance.js';
import { checkModelInput, mulberry32 } from './heuristic-common.js';
import { solveLscp, solveMclp } from './heuristic-coverage.js';
import { solvePmedian } from './heuristic-median.js';
import { solveCapacitated } from './heuristic-capacitated.js';

export function solveHeuristic(inst: PlanInstance, model: PlanModel, opts: SolveOptions = {}): PlanSolution {
  const t0 = performance.now();
  validateInstance(inst);
  checkModelInput(inst, model);
  const seed = opts.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new PlanInputError(`seed must be a finite number, got ${seed}`, 'seed');
  const random = mulberry32(Math.trunc(seed));
  const log: string[] = [
    `instance: ${inst.demandCount} demand, ${inst.candidateCount} candidates, ${inst.start[inst.candidateCount]} pairs, ${inst.layers.length} layers; seed ${seed}`,
  ];
  const progress = opts.onProgress;
  const solution = (open: Int32Array, objective: number, assignment?: PlanSolution['assignment']): PlanSolution => ({
    model: model.kind,
    open,
    objective,
    bound: null,
    gap: null,
    status: 'heuristic',
    solver: 'greedy-swap',
    seconds: (performance.now() - t0) / 1000,
    ...(assignment ? { assignment } : {}),
    log,
  });
  switch (model.kind) {
    case 'mclp': {
      const r = solveMclp(inst, model.p, random, progress, log);
      return solution(r.open, r.objective);
    }
    case 'lscp': {
      const r = solveLscp(inst, model.coverShare, random, progress, log);
      return solution(r.open, r.objective);
    }
    case 'pmedian': {
      const r = solvePmedian(inst, model.p, model.unreachedSeconds, random, progress, log);
      return solution(r.open, r.objective);
    }
    case 'capacitated': {
      const r = solveCapacitated(inst, model.p, random, progress, log);
      return solution(r.open, r.objective, r.assignment);
    }
  }
}
