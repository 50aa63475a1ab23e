/**
 * The objective of a plan, computed directly from its definition for a given set of open sites.
 * The solvers' reported objectives are checked against this in tests; explanations use the
 * per-demand figures.
 */
import type { PlanInstance, PlanModel } from './instance.js';

/** Seconds from each demand point to the nearest of `open` ∪ fixed candidates (Infinity beyond the horizon). */
export function nearestOpenSeconds(inst: PlanInstance, open: ArrayLike<number>): Float64Array {
  const best = new Float64Array(inst.demandCount).fill(Infinity);
  const visit = (j: number): void => {
    for (let k = inst.start[j]; k < inst.start[j + 1]; k++) {
      const i = inst.demand[k];
      if (inst.seconds[k] < best[i]) best[i] = inst.seconds[k];
    }
  };
  for (let j = 0; j < inst.candidateCount; j++) if (inst.fixed[j]) visit(j);
  for (let x = 0; x < open.length; x++) if (!inst.fixed[open[x]]) visit(open[x]);
  return best;
}

/** Per layer, 1 where demand i is covered (existing facility or an open / fixed site within the threshold). */
export function coveredByLayer(inst: PlanInstance, open: ArrayLike<number>): Uint8Array[] {
  const near = nearestOpenSeconds(inst, open);
  return inst.layers.map((l) => {
    const c = new Uint8Array(inst.demandCount);
    for (let i = 0; i < inst.demandCount; i++) if (l.existingSeconds[i] <= l.thresholdSeconds || near[i] <= l.thresholdSeconds) c[i] = 1;
    return c;
  });
}

/** Σ layers value × covered weight. */
export function coveredValue(inst: PlanInstance, open: ArrayLike<number>): number {
  const covered = coveredByLayer(inst, open);
  let v = 0;
  inst.layers.forEach((l, x) => {
    let w = 0;
    for (let i = 0; i < inst.demandCount; i++) if (covered[x][i]) w += inst.weight[i];
    v += l.value * w;
  });
  return v;
}

/** Share of total weight covered in layer 0 (1 when there is no weight). */
export function coveredShare(inst: PlanInstance, open: ArrayLike<number>): number {
  const c = coveredByLayer(inst, open)[0];
  let total = 0;
  let cov = 0;
  for (let i = 0; i < inst.demandCount; i++) {
    total += inst.weight[i];
    if (c[i]) cov += inst.weight[i];
  }
  return total > 0 ? cov / total : 1;
}

/** Σ weight × min(existing, nearest open, unreachedSeconds). */
export function totalWeightedSeconds(inst: PlanInstance, open: ArrayLike<number>, unreachedSeconds: number): number {
  const near = nearestOpenSeconds(inst, open);
  const existing = inst.layers[0].existingSeconds;
  let s = 0;
  for (let i = 0; i < inst.demandCount; i++) s += inst.weight[i] * Math.min(near[i], existing[i], unreachedSeconds);
  return s;
}

/**
 * The model's objective for `open` (non-fixed candidates): mclp covered value, lscp number of
 * sites, pmedian total weighted seconds. Capacitated plans need an assignment (capacitated.ts).
 */
export function evaluatePlan(inst: PlanInstance, model: PlanModel, open: ArrayLike<number>): number {
  switch (model.kind) {
    case 'mclp':
      return coveredValue(inst, open);
    case 'lscp':
      return open.length;
    case 'pmedian':
      return totalWeightedSeconds(inst, open, model.unreachedSeconds);
    case 'capacitated':
      throw new Error('evaluatePlan: a capacitated plan is evaluated with its assignment (see capacitated.ts)');
  }
}
