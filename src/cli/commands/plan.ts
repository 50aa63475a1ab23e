/**
 * `quarter plan mclp|lscp|pmedian|capacitated`: where the next sites of a format (or a bundle such
 * as the 邻里汇 four-piece set) should go, with existing facilities counted; a short Chinese
 * summary, and with --out the answer as GeoJSON / CSV / XLSX / JSON (by extension, repeatable).
 */
import { dirname, extname } from 'node:path';
import type { Command } from 'commander';
import { parseCrs } from '../../ingest/crs.js';
import { writeFileAtomic, ensureOutputDir } from '../../io/atomic-file.js';
import { homeCandidates, networkCandidates, onStreetClasses, readCandidateFile, type CandidateSet } from '../../plan/candidates.js';
import { PlanInputError, type PlanModelKind } from '../../plan/instance.js';
import { planSitesCsv, planSummaryZh, planToGeoJson, planWorkbook } from '../../plan/plan-export.js';
import { runPlan, type PlanReport, type SolverChoice } from '../../plan/run-plan.js';
import { loadTaxonomy } from '../../taxonomy/formats.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { printJson } from '../output.js';
import { parseNumber } from '../parse.js';
import { makeProgress } from '../progress.js';
import { loadRegionFlag } from '../region-option.js';

interface PlanFlags {
  region?: string;
  format?: string;
  sites?: string;
  minutes?: string;
  candidates: string;
  candidatesCrs?: string;
  spacing: string;
  streetClass?: string;
  share?: string;
  capacity?: string;
  existingCapacity?: string;
  relocatable?: boolean;
  profile: string;
  population?: string;
  elderlyWeight: string;
  solver: string;
  timeLimit: string;
  seed: string;
  horizon: string;
  out: string[];
  json?: boolean;
}

const MODELS: readonly PlanModelKind[] = ['mclp', 'lscp', 'pmedian', 'capacitated'];
const SOLVERS: readonly SolverChoice[] = ['heuristic', 'exact', 'both'];
const OUT_KINDS = ['.geojson', '.json', '.csv', '.xlsx'];

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('choose sites for new facilities: maximal covering (mclp), set covering (lscp), p-median, capacitated covering')
    .argument('<model>', `model: ${MODELS.join(', ')}`)
    .option('-r, --region <file>', 'region file')
    .option('--format <ids>', 'format id, several separated by commas, or a bundle (linlihui = 邻里汇 four-piece set)')
    .option('--sites <p>', 'number of new sites (mclp, pmedian, capacitated)')
    .option('--minutes <m>', "walking-time threshold for every format (default: the standards profile's, else the format's MOFCOM minutes)")
    .option('--candidates <file|network|homes>', 'candidate sites: a CSV/GeoJSON list (经度, 纬度, 名称, 容量), "network" (street junctions) or "homes" (buildings)', 'network')
    .option('--candidates-crs <wgs84|gcj02|bd09>', "coordinate system of the list's rows (a 坐标系 column overrides it)")
    .option('--spacing <metres>', 'network / homes candidates: one per grid cell of this size', '100')
    .option('--street-class <classes>', 'keep candidates on streets of these classes (e.g. residential,tertiary,pedestrian)')
    .option('--share <0-1|percent>', 'lscp: share of residents to cover (default: everyone a candidate can reach)')
    .option('--capacity <n>', 'capacitated: residents (weight) one new site can serve, unless the list has a 容量 column')
    .option('--existing-capacity <n>', 'capacitated: what each existing facility serves (default --capacity)')
    .option('--relocatable', 'existing facilities may move: they become candidates and count in --sites')
    .option('--profile <id|file.json>', 'standards profile for thresholds, weights and whom a format serves', 'xuhui')
    .option('--population <n>', 'known total population, spread over homes by floor area')
    .option('--elderly-weight <w>', 'count each resident aged 65+ w times', '1')
    .option('--solver <heuristic|exact|both>', 'heuristic (greedy + swap, fast), exact (HiGHS MILP), or both', 'both')
    .option('--time-limit <seconds>', 'exact solver time limit; at the limit the best plan and its optimality gap are reported', '60')
    .option('--seed <n>', 'heuristic random seed (same seed, same answer)', '1')
    .option('--horizon <minutes>', 'pmedian: search horizon; homes farther count this many minutes', '30')
    .option('-o, --out <file>', 'write the plan: .geojson, .json, .csv (sites), .xlsx (repeatable)', collect, [])
    .option('--json', 'print the whole plan as JSON')
    .action(async (modelArg: string, flags: PlanFlags) => {
      const model = modelArg.toLowerCase() as PlanModelKind;
      if (!MODELS.includes(model)) throw usageError(`model "${modelArg}" is not one of ${MODELS.join(', ')}`);
      if (!flags.format) throw usageError('--format: required (a format id such as community_canteen, or linlihui)');
      const formats = flags.format.split(',').map((s) => s.trim()).filter(Boolean);
      if (model !== 'lscp' && flags.sites === undefined) throw usageError(`--sites: required for ${model}`);
      if (model === 'lscp' && flags.sites !== undefined) throw usageError('--sites: lscp finds the fewest sites itself; use --share for the target');
      const sites = flags.sites === undefined ? undefined : parseNumber('--sites', flags.sites, 0, 100_000);
      if (sites !== undefined && !Number.isInteger(sites)) throw usageError(`--sites: ${sites} is not a whole number`);
      const minutes = flags.minutes === undefined ? undefined : parseNumber('--minutes', flags.minutes, 0.5, 120);
      const spacing = parseNumber('--spacing', flags.spacing, 5, 10_000);
      let share: number | undefined;
      if (flags.share !== undefined) {
        const pctForm = /%\s*$/.test(flags.share);
        share = parseNumber('--share', flags.share.replace(/%\s*$/, ''), 0, pctForm ? 100 : 1) / (pctForm ? 100 : 1);
        if (model !== 'lscp') throw usageError('--share: only for lscp');
      }
      const capacity = flags.capacity === undefined ? undefined : parseNumber('--capacity', flags.capacity, 0, 1e9);
      const existingCapacity = flags.existingCapacity === undefined ? undefined : parseNumber('--existing-capacity', flags.existingCapacity, 0, 1e9);
      if ((capacity !== undefined || existingCapacity !== undefined) && model !== 'capacitated') throw usageError('--capacity: only for the capacitated model');
      const population = flags.population === undefined ? null : parseNumber('--population', flags.population.replace(/[,_\s]/g, ''), 0, 2e9);
      const elderlyWeight = parseNumber('--elderly-weight', flags.elderlyWeight, 0, 100);
      const solver = flags.solver as SolverChoice;
      if (!SOLVERS.includes(solver)) throw usageError(`--solver: "${flags.solver}" is not one of ${SOLVERS.join(', ')}`);
      const timeLimit = parseNumber('--time-limit', flags.timeLimit, 0.1, 86_400);
      const seed = parseNumber('--seed', flags.seed, 0, 2 ** 31 - 1);
      const horizon = parseNumber('--horizon', flags.horizon, 1, 240);
      let crs = undefined;
      if (flags.candidatesCrs !== undefined) {
        crs = parseCrs(flags.candidatesCrs) ?? undefined;
        if (!crs) throw usageError(`--candidates-crs: "${flags.candidatesCrs}" is not a coordinate system; use wgs84, gcj02 or bd09`);
      }
      for (const o of flags.out) {
        if (!OUT_KINDS.includes(extname(o).toLowerCase())) throw usageError(`--out ${o}: the extension must be one of ${OUT_KINDS.join(', ')}`);
      }

      const region = loadRegionFlag(flags.region);
      const taxonomy = loadTaxonomy();
      const progress = makeProgress(!flags.json);
      let report: PlanReport;
      try {
        let candidates: CandidateSet =
          flags.candidates === 'network'
            ? networkCandidates(region, { spacingMetres: spacing })
            : flags.candidates === 'homes'
              ? homeCandidates(region, { spacingMetres: spacing })
              : readCandidateFile(region, flags.candidates, { crs });
        if (flags.streetClass) candidates = onStreetClasses(region, candidates, flags.streetClass.split(',').map((x) => x.trim()).filter(Boolean));
        report = await runPlan(region, {
          model,
          formats,
          sites,
          minutes,
          coverShare: share,
          capacity,
          existingCapacity,
          candidates,
          relocatable: !!flags.relocatable,
          standards: flags.profile,
          population,
          elderlyWeight,
          solver,
          timeLimitSeconds: timeLimit,
          seed,
          horizonMinutes: horizon,
          taxonomy,
          onProgress: progress.update,
        });
      } catch (err) {
        if (err instanceof PlanInputError) {
          // a bad candidate file is bad input; anything else is a flag that asks the impossible
          const code = ['candidates', 'lon', 'lat', 'crs'].includes(err.field) ? EXIT.input : EXIT.usage;
          throw new CliError(flagFor(err.field) + err.message, code);
        }
        throw err;
      } finally {
        progress.stop();
      }

      const written: string[] = [];
      for (const o of flags.out) {
        ensureOutputDir(dirname(o));
        const ext = extname(o).toLowerCase();
        if (ext === '.geojson') writeFileAtomic(o, [JSON.stringify(planToGeoJson(report))]);
        else if (ext === '.json') writeFileAtomic(o, [JSON.stringify(report, jsonSafe)]);
        else if (ext === '.csv') writeFileAtomic(o, [planSitesCsv(report, taxonomy)]);
        else writeFileAtomic(o, [await planWorkbook(report, taxonomy)]);
        written.push(o);
      }
      if (flags.json) printJson(JSON.parse(JSON.stringify(report, jsonSafe)));
      else {
        process.stdout.write(planSummaryZh(report, taxonomy) + '\n');
        for (const f of written) process.stdout.write(`写出 ${f}\n`);
      }
    });
}

const FIELD_FLAG: Record<string, string> = {
  sites: '--sites',
  format: '--format',
  minutes: '--minutes',
  coverShare: '--share',
  capacity: '--capacity',
  candidates: '--candidates',
  spacing: '--spacing',
  streetClass: '--street-class',
  population: '--population',
  elderlyWeight: '--elderly-weight',
  relocatable: '--relocatable',
  horizonMinutes: '--horizon',
};
const flagFor = (field: string): string => (FIELD_FLAG[field] ? `${FIELD_FLAG[field]}: ` : '');

/** Infinity is not JSON: write null. */
const jsonSafe = (_k: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? null : v);
