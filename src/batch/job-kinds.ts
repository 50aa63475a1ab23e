/**
 * What a batch job does, per kind: its parameters (checked once, when the batch is submitted) and
 * the work itself, which runs in a worker thread (job-thread.ts) so that the worker's event loop
 * stays free to keep the job's lock in Redis alive. Each kind returns a small summary — the row
 * of the batch's summary table — not its whole output: results land in the shared store.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { assess } from '../assess/assess.js';
import { ensureOutputDir } from '../io/atomic-file.js';
import { dataPath } from '../paths.js';
import { loadStandardsProfile } from '../assess/standards.js';
import { networkCandidates } from '../plan/candidates.js';
import { runPlan } from '../plan/run-plan.js';
import { importRegion } from '../region/import-region.js';
import { readRegion, writeRegion } from '../region/region-file.js';
import type { BatchKind } from '../store/store.js';

export interface AssessJobParams {
  /** standards profile id or file. */
  profile: string;
  population: number | null;
  /** opening-hours moment (parseMoment text) or null for "every facility counts". */
  at: string | null;
}
export interface PlanJobParams {
  model: 'mclp' | 'lscp' | 'pmedian';
  formats: string[];
  sites: number | null;
  minutes: number | null;
  profile: string;
  /** network candidates: one per grid cell of this size (metres). */
  spacing: number;
}
export interface ImportJobParams {
  /** where region files are written, one per extract (<name>.quarter). */
  outDir: string;
}
export type JobParams = AssessJobParams | PlanJobParams | ImportJobParams;

export interface AssessSummary {
  name: string;
  residences: number;
  population: number;
  unreachableResidences: number;
  /** share of residents in a complete circle. */
  completeShare: number;
  meanCompleteness: number;
  /** the region's grade under the profile (zh-CN name), or null when no grade is reached. */
  grade: string | null;
  targetsMet: number;
  targets: number;
  /** population share within its minutes, per basic format. */
  basicCoverage: Record<string, number>;
  seconds: number;
}
export interface PlanSummary {
  name: string;
  sites: number;
  /** first layer: covered share before and after, residents gaining. */
  before: number;
  after: number;
  residentsGaining: number;
  seconds: number;
}
export interface ImportSummary {
  name: string;
  output: string;
  nodes: number;
  edges: number;
  facilities: number;
  residences: number;
  seconds: number;
}
export type JobSummary = AssessSummary | PlanSummary | ImportSummary;

/** An error in the job's input (bad file, unknown profile): retrying cannot help. */
export class JobInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobInputError';
  }
}

export type JobProgress = (share: number, phase: string) => void;

const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;

async function assessJob(file: string, p: AssessJobParams, progress: JobProgress): Promise<AssessSummary> {
  const t0 = performance.now();
  const region = readRegion(file);
  const profile = loadStandardsProfile(p.profile);
  progress(0.1, 'loaded');
  const res = assess(region, {
    profile,
    population: p.population,
    at: p.at,
    h3Resolutions: [],
    onProgress: (phase, done, total) => progress(0.1 + 0.85 * (total ? done / total : 0), phase),
  });
  const zone = res.zones[0];
  const h = res.headline;
  return {
    name: region.meta.name,
    residences: h.residences,
    population: Math.round(h.population),
    unreachableResidences: h.unreachableResidences,
    completeShare: round(h.completeCircleShare),
    meanCompleteness: round(h.meanCompleteness),
    grade: zone && zone.grade >= 0 ? profile.grades[zone.grade].name['zh-CN'] : null,
    targetsMet: h.targets.filter((t) => t.met === true).length,
    targets: h.targets.length,
    basicCoverage: Object.fromEntries(h.basicFormatCoverage.map((c) => [c.format, round(c.coverage)])),
    seconds: round((performance.now() - t0) / 1000, 2),
  };
}

async function planJob(file: string, p: PlanJobParams, progress: JobProgress): Promise<PlanSummary> {
  const t0 = performance.now();
  const region = readRegion(file);
  progress(0.05, 'loaded');
  const report = await runPlan(region, {
    model: p.model,
    formats: p.formats,
    sites: p.sites ?? undefined,
    minutes: p.minutes ?? undefined,
    candidates: networkCandidates(region, { spacingMetres: p.spacing }),
    standards: p.profile,
    solver: 'heuristic',
    onProgress: (phase, done, total) => progress(0.05 + 0.9 * (total ? done / total : 0), phase),
  });
  const layer = report.layers[0];
  return {
    name: region.meta.name,
    sites: report.sites.length,
    before: round(layer?.before ?? 0),
    after: round(layer?.after ?? 0),
    residentsGaining: Math.round(layer?.residentsGaining ?? 0),
    seconds: round((performance.now() - t0) / 1000, 2),
  };
}

/** The region an extract becomes: its file name without the OSM extensions (<name>.quarter in the output folder). */
export const regionNameOf = (file: string): string => basename(file).replace(/\.(osm\.pbf|osm\.gz|osm\.bz2|pbf|osm|xml)$/i, '') || 'region';

async function importJob(file: string, p: ImportJobParams, progress: JobProgress): Promise<ImportSummary> {
  const t0 = performance.now();
  const name = regionNameOf(file);
  const region = await importRegion(file, { name, onProgress: (phase, done, total) => progress(0.9 * (total ? done / total : 0), phase) });
  const output = join(p.outDir, `${name}.quarter`);
  ensureOutputDir(p.outDir);
  writeRegion(output, region);
  return {
    name,
    output,
    nodes: region.graph.nodeCount,
    edges: region.graph.edgeCount,
    facilities: region.facilities.length,
    residences: region.residences.count,
    seconds: round((performance.now() - t0) / 1000, 2),
  };
}

/** The work of one job; runs in a worker thread. */
export function runJob(kind: BatchKind, file: string, params: JobParams, progress: JobProgress): Promise<JobSummary> {
  switch (kind) {
    case 'assess':
      return assessJob(file, params as AssessJobParams, progress);
    case 'plan':
      return planJob(file, params as PlanJobParams, progress);
    case 'import':
      return importJob(file, params as ImportJobParams, progress);
  }
}

/** Summary-table columns per kind (data/batch/summary-columns.json, shared with the web app): key and header. */
export const SUMMARY_COLUMNS: Record<BatchKind, readonly { key: string; header: string }[]> = (
  JSON.parse(readFileSync(dataPath('batch', 'summary-columns.json'), 'utf8')) as { kinds: Record<BatchKind, { key: string; header: string }[]> }
).kinds;

/** One cell of the summary table. */
export function summaryCell(summary: JobSummary, key: string): string | number {
  const s = summary as unknown as Record<string, unknown>;
  if (key === 'targets') return `${String(s.targetsMet)}/${String(s.targets)}`;
  const v = s[key];
  return typeof v === 'number' || typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v);
}
