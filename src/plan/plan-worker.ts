/**
 * A plan run off the main thread: the HTTP server starts this module as a worker_thread so that a
 * solver working for a minute does not stop the server answering. The worker gets the region (the
 * encoded region file in a SharedArrayBuffer, or a region file path) and the request as plain
 * JSON, runs runPlan, and posts progress (a fraction 0–1) and then the report or the failure.
 *
 * The same module exports what turns a request body into a PlanRequest (planRequestFromParams):
 * the server calls it before accepting a run, so that a bad request is a 400 naming the field,
 * and the worker calls it again on its copy of the region.
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { insideRegion } from '../access/context.js';
import { snapIndexFor, snapPreferMain } from '../engine/snap.js';
import { decodeRegion, readRegion } from '../region/region-file.js';
import type { Region } from '../region/region.js';
import { loadTaxonomy, type Taxonomy } from '../taxonomy/formats.js';
import { networkCandidates, type Candidate, type CandidateSet } from './candidates.js';
import { PlanInputError, type PlanModelKind } from './instance.js';
import { loadBundles, runPlan, type PlanReport, type PlanRequest, type SolverChoice } from './run-plan.js';

export const PLAN_MODELS: readonly PlanModelKind[] = ['mclp', 'lscp', 'pmedian', 'capacitated'];
export const PLAN_SOLVERS: readonly SolverChoice[] = ['heuristic', 'exact', 'both'];
/** A web request may keep a solver busy this long at most. */
export const MAX_PLAN_SECONDS = 120;
export const MAX_PLAN_SITES = 1000;
export const MAX_CANDIDATE_POINTS = 5000;

export interface CandidatePoint {
  lon: number;
  lat: number;
  name?: string;
  capacity?: number;
}

/** A plan request as it arrives over HTTP and is stored with the run (plain JSON). */
export interface PlanParams {
  model: PlanModelKind;
  /** format ids (one layer each) or one bundle id. */
  formats: string[];
  sites?: number;
  minutes?: number;
  /** lscp: share of residents to cover (0–1]. */
  share?: number;
  capacity?: number;
  candidates: 'network' | { points: CandidatePoint[] };
  /** network candidates: one per grid cell of this many metres. */
  spacing?: number;
  solver?: SolverChoice;
  timeLimitSeconds?: number;
  /** standards profile id (default: runPlan's, xuhui). */
  profile?: string;
  seed?: number;
}

/** Candidates at the given points, snapped as runPlan's candidate lists are (nearest main-network way within the snap limit). */
export function pointCandidates(region: Region, points: readonly CandidatePoint[]): CandidateSet {
  if (points.length === 0) throw new PlanInputError('candidates.points is empty: give at least one site', 'candidates');
  const idx = snapIndexFor(region.graph);
  const candidates: Candidate[] = points.map((p, i) => {
    if (!Number.isFinite(p.lon) || !Number.isFinite(p.lat) || Math.abs(p.lon) > 180 || Math.abs(p.lat) > 90) {
      throw new PlanInputError(`candidates.points[${i}]: ${p.lon},${p.lat} is not a WGS-84 lon,lat`, 'candidates');
    }
    if (!insideRegion(region, p.lon, p.lat)) {
      throw new PlanInputError(`candidates.points[${i}]: ${p.lon},${p.lat} is outside region ${JSON.stringify(region.meta.name)}`, 'candidates');
    }
    if (p.capacity !== undefined && !(p.capacity >= 0 && Number.isFinite(p.capacity))) {
      throw new PlanInputError(`candidates.points[${i}].capacity ${p.capacity} is not a number ≥ 0`, 'capacity');
    }
    return {
      lon: p.lon,
      lat: p.lat,
      name: p.name ?? `候选点 ${i + 1}`,
      source: 'file',
      ref: i + 1,
      ...(p.capacity !== undefined ? { capacity: p.capacity } : {}),
      snap: snapPreferMain(idx, p.lon, p.lat, region.meta.snapLimitMetres),
    };
  });
  const reachable = candidates.filter((c) => c.snap).length;
  const notes = [`${candidates.length} sites given, ${reachable} within ${region.meta.snapLimitMetres} m of a walkable way`];
  return { candidates, rejected: [], rowsRead: 0, reachable, notes };
}

const inRange = (v: number | undefined, lo: number, hi: number, loOpen = false): boolean =>
  v === undefined || (typeof v === 'number' && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && v <= hi);

/**
 * The PlanRequest for a request body, after every check that needs no solver (formats, numbers
 * and ranges, candidate points inside the region, enough candidates for the sites asked for).
 * Throws PlanInputError naming the field; runPlan may still find a problem only the instance
 * shows (a cover share nobody can reach, say) and fail the run with one.
 */
export function planRequestFromParams(
  region: Region,
  p: PlanParams,
  opts: { taxonomy?: Taxonomy; onProgress?: PlanRequest['onProgress'] } = {},
): PlanRequest {
  const taxonomy = opts.taxonomy ?? loadTaxonomy();
  if (!PLAN_MODELS.includes(p.model)) throw new PlanInputError(`model must be one of ${PLAN_MODELS.join(', ')}, got ${JSON.stringify(p.model)}`, 'model');
  if (!Array.isArray(p.formats) || p.formats.length === 0) throw new PlanInputError('name at least one format (or a bundle)', 'format');
  const bundles = p.formats.length === 1 ? loadBundles() : [];
  for (const f of p.formats) {
    if (!taxonomy.byId.has(f) && !bundles.some((b) => b.id === f)) {
      throw new PlanInputError(`unknown format "${f}" (see /api/formats${bundles.length ? `; bundles: ${bundles.map((b) => b.id).join(', ')}` : ''})`, 'format');
    }
  }
  if (p.model !== 'lscp') {
    if (p.sites === undefined) throw new PlanInputError(`the ${p.model} model needs the number of sites`, 'sites');
    if (!Number.isInteger(p.sites) || p.sites < 0 || p.sites > MAX_PLAN_SITES) throw new PlanInputError(`sites must be a whole number in [0, ${MAX_PLAN_SITES}], got ${p.sites}`, 'sites');
  }
  if (!inRange(p.minutes, 0, 120, true)) throw new PlanInputError(`minutes must be in (0, 120], got ${p.minutes}`, 'minutes');
  if (!inRange(p.share, 0, 1, true)) throw new PlanInputError(`share must be in (0, 1], got ${p.share}`, 'share');
  if (!inRange(p.capacity, 0, 1e9)) throw new PlanInputError(`capacity must be a number ≥ 0, got ${p.capacity}`, 'capacity');
  if (!inRange(p.timeLimitSeconds, 0, MAX_PLAN_SECONDS, true)) {
    throw new PlanInputError(`timeLimitSeconds must be in (0, ${MAX_PLAN_SECONDS}], got ${p.timeLimitSeconds}`, 'timeLimitSeconds');
  }
  if (p.solver !== undefined && !PLAN_SOLVERS.includes(p.solver)) throw new PlanInputError(`solver must be one of ${PLAN_SOLVERS.join(', ')}`, 'solver');
  if (p.seed !== undefined && !Number.isSafeInteger(p.seed)) throw new PlanInputError(`seed must be an integer, got ${p.seed}`, 'seed');
  let candidates: CandidateSet;
  if (p.candidates === 'network') {
    candidates = networkCandidates(region, p.spacing !== undefined ? { spacingMetres: p.spacing } : {});
  } else if (p.candidates && typeof p.candidates === 'object' && Array.isArray(p.candidates.points)) {
    if (p.candidates.points.length > MAX_CANDIDATE_POINTS) throw new PlanInputError(`at most ${MAX_CANDIDATE_POINTS} candidate points`, 'candidates');
    candidates = pointCandidates(region, p.candidates.points);
  } else {
    throw new PlanInputError('candidates must be "network" or {"points": [{lon, lat, name?, capacity?}]}', 'candidates');
  }
  if (candidates.reachable === 0) throw new PlanInputError(`none of the ${candidates.candidates.length} candidates is within ${region.meta.snapLimitMetres} m of a walkable way`, 'candidates');
  if (p.sites !== undefined && p.model !== 'lscp' && p.sites > candidates.candidates.length) {
    throw new PlanInputError(`${p.sites} sites asked for but there are only ${candidates.candidates.length} candidates`, 'sites');
  }
  if (p.model === 'capacitated' && p.capacity === undefined && !candidates.candidates.every((c) => c.capacity !== undefined)) {
    throw new PlanInputError('the capacitated model needs a capacity (per site, or for every candidate point)', 'capacity');
  }
  return {
    model: p.model,
    formats: [...p.formats],
    ...(p.sites !== undefined ? { sites: p.sites } : {}),
    ...(p.minutes !== undefined ? { minutes: p.minutes } : {}),
    ...(p.share !== undefined ? { coverShare: p.share } : {}),
    ...(p.capacity !== undefined ? { capacity: p.capacity } : {}),
    candidates,
    ...(p.profile !== undefined ? { standards: p.profile } : {}),
    solver: p.solver ?? 'both',
    timeLimitSeconds: p.timeLimitSeconds ?? 60,
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    taxonomy,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  };
}

/**
 * Share of the run a phase of runPlan covers: coverage sets (one bounded search per candidate)
 * dominate small runs, the solvers large ones. Only used to draw a progress bar.
 */
const PHASES: Readonly<Record<string, readonly [number, number]>> = {
  coverage: [0.05, 0.5],
  greedy: [0.5, 0.62],
  swap: [0.62, 0.72],
  model: [0.72, 0.78],
  solve: [0.78, 0.95],
};

export function phaseFraction(phase: string, done: number, total: number): number | null {
  const span = PHASES[phase];
  if (!span || !(total > 0)) return null;
  const f = Math.min(1, Math.max(0, done / total));
  return span[0] + (span[1] - span[0]) * f;
}

/* ------------------------------------------------------------------------------------------------
 * The worker side.
 * ---------------------------------------------------------------------------------------------- */

export const PLAN_WORKER_KIND = 'quarter-plan';

export interface PlanWorkerData {
  kind: typeof PLAN_WORKER_KIND;
  /** an encoded region file (encodeRegion's bytes), or a path to one. */
  region: SharedArrayBuffer | ArrayBuffer | { file: string };
  params: PlanParams;
}

export type PlanWorkerMessage =
  | { type: 'progress'; fraction: number; phase: string }
  | { type: 'done'; report: PlanReport }
  | { type: 'failed'; message: string; field: string | null };

/** Post progress when it moved by a percent or the phase changed: a solver may call back thousands of times. */
const PROGRESS_STEP = 0.01;

async function runInWorker(port: MessagePort, data: PlanWorkerData): Promise<void> {
  try {
    const region = 'file' in data.region ? readRegion(data.region.file) : decodeRegion(Buffer.from(data.region));
    let last = 0;
    let lastPhase = '';
    const onProgress = (phase: string, done: number, total: number): void => {
      const f = phaseFraction(phase, done, total);
      if (f === null || f <= last || (f - last < PROGRESS_STEP && phase === lastPhase)) return;
      last = f;
      lastPhase = phase;
      port.postMessage({ type: 'progress', fraction: f, phase } satisfies PlanWorkerMessage);
    };
    const request = planRequestFromParams(region, data.params, { onProgress });
    const report = await runPlan(region, request);
    // plain JSON (non-finite numbers become null), as the store keeps it
    const plain = JSON.parse(JSON.stringify(report)) as PlanReport;
    port.postMessage({ type: 'done', report: plain } satisfies PlanWorkerMessage);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const field = err instanceof PlanInputError ? err.field : null;
    port.postMessage({ type: 'failed', message, field } satisfies PlanWorkerMessage);
  }
}

const isPlanWorkerData = (d: unknown): d is PlanWorkerData =>
  typeof d === 'object' && d !== null && (d as { kind?: unknown }).kind === PLAN_WORKER_KIND;

// Only when started as a plan worker: importing this module elsewhere (the server, a test running
// in a worker pool) must not start a run.
if (!isMainThread && parentPort && isPlanWorkerData(workerData)) void runInWorker(parentPort, workerData);
