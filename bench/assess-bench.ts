/**
 * Benchmark section "Assessment" (assess(region, opts), src/assess/assess.ts):
 *
 *   1. Krems: importRegion('data/krems/krems.osm.pbf'), then assess with profile mofcom-2021, all
 *      formats, all residences, the region zone + H3 res 10, population 24,000: the first call in
 *      a fresh child process (cold) and the median of 10 warm calls (after 2 warm-ups);
 *   2. re-assessment after an edit, on Krems (same child process, warm): one pharmacy added at a
 *      seeded random network position (addFacilities), one facility removed (a Region without it:
 *      facilities and facilitySnaps filtered, ids renumbered): median of 20 warm assess runs each.
 *      This is a FULL re-assessment of the edited region; there is no incremental update yet;
 *   3. the 1M-node synthetic grid (bench/grid.ts) with 2,000 facilities of random taxonomy formats
 *      and 200,000 residences at random positions near edges (one access point each, snapped with
 *      snapResidenceAccess): prepared and written to a region file in one child process, then
 *      readRegion + assess (mofcom-2021, H3 res 10) timed in another, whose VmHWM is the peak.
 *
 * Alone:      npm run build && node dist/bench/assess-bench.js [--grid-nodes N] [--quick]
 *             (prints the section's markdown and writes bench/out/assess.json)
 * In the suite: `npm run bench` runs it as section 6; `node --expose-gc dist/bench/run.js --only assess`
 *             reruns just this section and splices it into bench/RESULTS.md / results.json.
 */
import { readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assess, type AssessOptions } from '../src/assess/assess.js';
import { buildWalkGraph } from '../src/engine/graph.js';
import { buildSnapIndex } from '../src/engine/snap.js';
import { ACCESS_CENTROID, KIND_USER, LEVELS_NONE, ResidenceTableBuilder, SOURCE_ROW, snapResidenceAccess } from '../src/ingest/residences/index.js';
import { addFacilities } from '../src/region/add-facilities.js';
import { importRegion } from '../src/region/import-region.js';
import { readRegion, writeRegion } from '../src/region/region-file.js';
import type { Facility, Region } from '../src/region/region.js';
import { loadTaxonomy } from '../src/taxonomy/formats.js';
import { syntheticFacilities, syntheticRegion } from './export-csv.js';
import { generateGridNetwork, mulberry32, randomFacilitySeeds } from './grid.js';
import { BENCH_OUT, describeMachine, gc, lastJson, median, procMemKb, ROOT, run, sampleNetworkPoints, type Machine } from './util.js';

export const ASSESS_TARGETS = { kremsWarmMs: 2000, kremsColdMs: 2000, gridMs: 60_000, editMs: 100 } as const;
const PROFILE = 'mofcom-2021';
const KREMS_PBF = 'data/krems/krems.osm.pbf';
const KREMS_POPULATION = 24_000;
const SEED = 7;

const say = (s: string): void => void process.stderr.write(s + '\n');

// ---------------------------------------------------------------- child tasks

export interface KremsAssessArgs {
  warmup: number;
  runs: number;
  editWarmup: number;
  editRuns: number;
}

export interface KremsAssessResult {
  nodes: number;
  edges: number;
  facilities: number;
  residences: number;
  zones: number;
  importMs: number;
  /** first assess call in this process. */
  coldMs: number;
  coldTimings: Record<string, number>;
  warmMs: number[];
  /** median per phase of the warm runs (result.timings). */
  warmTimings: Record<string, number>;
  /** the unedited region, timed interleaved with the edited ones (same rounds). */
  baselineMs: number[];
  added: { facility: string; lon: number; lat: number; edge: number; addMs: number; ms: number[]; changedResidences: number };
  removed: { facility: string; formats: string[]; buildMs: number; ms: number[]; changedResidences: number };
  hwmKb: number;
}

const baseOpts = (): AssessOptions => ({ profile: PROFILE, population: KREMS_POPULATION, h3Resolutions: [10] });

function timeAssess(region: Region, opts: AssessOptions, warmup: number, runs: number): { ms: number[]; timings: Record<string, number>[]; last: ReturnType<typeof assess> } {
  const ms: number[] = [];
  const timings: Record<string, number>[] = [];
  let last = assess(region, opts);
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = performance.now();
    last = assess(region, opts);
    const dt = performance.now() - t0;
    if (i >= warmup) {
      ms.push(dt);
      timings.push(last.timings);
    }
  }
  return { ms, timings, last };
}

function medianTimings(ts: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(ts[0] ?? {})) out[k] = median(ts.map((t) => t[k] ?? 0));
  return out;
}

/** residences whose minutes (any format) differ between two results of the same region's residences. */
function changedResidences(a: Float32Array, b: Float32Array, F: number): number {
  let changed = 0;
  for (let r = 0; r < a.length / F; r++) {
    for (let c = 0; c < F; c++) {
      if (a[r * F + c] !== b[r * F + c]) {
        changed++;
        break;
      }
    }
  }
  return changed;
}

/** A Region without facility k: facilities and facilitySnaps filtered, ids renumbered, report counts updated. */
export function withoutFacility(region: Region, k: number): Region {
  const n = region.facilities.length;
  const keep = (i: number): boolean => i !== k;
  const facilities: Facility[] = region.facilities.filter((_, i) => keep(i)).map((f, id) => ({ ...f, id }));
  const s = region.facilitySnaps;
  const edge = new Int32Array(n - 1);
  const offset = new Float32Array(n - 1);
  const access = new Float32Array(n - 1);
  for (let i = 0, j = 0; i < n; i++) {
    if (!keep(i)) continue;
    edge[j] = s.edge[i];
    offset[j] = s.offset[i];
    access[j++] = s.access[i];
  }
  const rep = region.meta.report.facilities;
  const byFormat = { ...rep.byFormat };
  for (const f of region.facilities[k].formats) byFormat[f] = Math.max(0, (byFormat[f] ?? 0) - 1);
  return {
    ...region,
    meta: { ...region.meta, report: { ...region.meta.report, facilities: { ...rep, total: rep.total - 1, byFormat, unreachable: rep.unreachable - (s.edge[k] < 0 ? 1 : 0) } } },
    facilities,
    facilitySnaps: { edge, offset, access },
  };
}

async function kremsTask(a: KremsAssessArgs): Promise<KremsAssessResult> {
  let t = performance.now();
  const region = await importRegion(join(ROOT, KREMS_PBF));
  const importMs = performance.now() - t;
  log(`krems: imported in ${importMs.toFixed(0)} ms: ${region.residences.count} residences, ${region.facilities.length} facilities`);
  t = performance.now();
  const cold = assess(region, baseOpts());
  const coldMs = performance.now() - t;
  log(`krems: cold assess ${coldMs.toFixed(0)} ms`);
  const warm = timeAssess(region, baseOpts(), a.warmup - 1, a.runs);
  log(`krems: warm assess median ${median(warm.ms).toFixed(1)} ms`);
  const F = cold.residences.formats.length;

  // ---- add one pharmacy at a random network position
  // a seeded random position on the main network (islands skipped: an edit there changes nothing)
  const g = region.graph;
  const cand = sampleNetworkPoints(g, 64, SEED);
  let pick = 0;
  while (pick < 63 && g.nodeComponent[g.edgeFrom[cand.edges[pick]]] !== 0) pick++;
  const lon = Math.round(cand.coords[2 * pick] * 1e7) / 1e7;
  const lat = Math.round(cand.coords[2 * pick + 1] * 1e7) / 1e7;
  const pharmacy: Facility = {
    id: -1,
    source: 'user',
    sourceId: 1,
    formats: ['pharmacy'],
    name: 'bench pharmacy',
    lon,
    lat,
    accessPoint: 'node',
    tags: {},
  };
  t = performance.now();
  const addedRegion = addFacilities(region, [pharmacy], region.meta.snapLimitMetres);
  const addMs = performance.now() - t;

  // ---- remove one facility: a seeded random one among the snapped facilities
  const snapped = region.facilities.map((f) => f.id).filter((i) => region.facilitySnaps.edge[i] >= 0);
  const k = snapped[Math.floor(mulberry32(SEED)() * snapped.length)];
  t = performance.now();
  const removedRegion = withoutFacility(region, k);
  const buildMs = performance.now() - t;
  // interleaved rounds (unedited, +1, −1), so all three see the same JIT state and machine load
  const baseline = { ms: [] as number[] };
  const added = { ms: [] as number[], last: assess(addedRegion, baseOpts()) };
  const removed = { ms: [] as number[], last: assess(removedRegion, baseOpts()) };
  for (let i = 0; i < a.editWarmup + a.editRuns; i++) {
    let t1 = performance.now();
    assess(region, baseOpts());
    let t2 = performance.now();
    if (i >= a.editWarmup) baseline.ms.push(t2 - t1);
    t1 = performance.now();
    added.last = assess(addedRegion, baseOpts());
    t2 = performance.now();
    if (i >= a.editWarmup) added.ms.push(t2 - t1);
    t1 = performance.now();
    removed.last = assess(removedRegion, baseOpts());
    t2 = performance.now();
    if (i >= a.editWarmup) removed.ms.push(t2 - t1);
  }
  log(`krems: interleaved medians: unedited ${median(baseline.ms).toFixed(1)} ms, +1 pharmacy ${median(added.ms).toFixed(1)} ms, −1 facility (${region.facilities[k].formats.join('+')}) ${median(removed.ms).toFixed(1)} ms`);

  return {
    nodes: region.graph.nodeCount,
    edges: region.graph.edgeCount,
    facilities: region.facilities.length,
    residences: region.residences.count,
    zones: cold.zones.length,
    importMs,
    coldMs,
    coldTimings: cold.timings,
    warmMs: warm.ms,
    warmTimings: medianTimings(warm.timings),
    baselineMs: baseline.ms,
    added: {
      facility: `pharmacy at ${lon}, ${lat}`,
      lon,
      lat,
      edge: addedRegion.facilitySnaps.edge[region.facilities.length],
      addMs,
      ms: added.ms,
      changedResidences: changedResidences(cold.residences.minutes, added.last.residences.minutes, F),
    },
    removed: {
      facility: `#${k} ${region.facilities[k].name || '(no name)'}`,
      formats: region.facilities[k].formats,
      buildMs,
      ms: removed.ms,
      changedResidences: changedResidences(cold.residences.minutes, removed.last.residences.minutes, F),
    },
    hwmKb: procMemKb().hwmKb,
  };
}

export interface GridAssessPrepArgs {
  nodes: number;
  facilities: number;
  residences: number;
  seed: number;
  regionOut: string;
}

export interface GridAssessPrepResult {
  nodes: number;
  edges: number;
  facilities: number;
  formats: number;
  residences: number;
  unsnappedPoints: number;
  generateMs: number;
  snapIndexMs: number;
  snapMs: number;
  writeMs: number;
  fileBytes: number;
  hwmKb: number;
}

/**
 * The synthetic grid (bench/grid.ts) as a Region with facilities of random taxonomy formats and
 * residences at random positions near edges (one access point each), snapped like the import's.
 */
export function gridRegionWithHomes(a: { nodes: number; facilities: number; residences: number; seed: number }): {
  region: Region;
  unsnappedPoints: number;
  generateMs: number;
  snapIndexMs: number;
  snapMs: number;
} {
  let t = performance.now();
  const g = buildWalkGraph(generateGridNetwork(a.nodes, a.seed));
  // facilities: random nodes of the main component, part-way along an edge, each a random format of the taxonomy
  const seeds = randomFacilitySeeds(g, a.facilities, a.seed);
  const { facilities, snaps } = syntheticFacilities(g, seeds, { format: 'grid', alongEdge: { seed: a.seed, maxAccessM: 50 } });
  const formats = loadTaxonomy().formats.map((f) => f.id);
  const rnd = mulberry32(a.seed ^ 0x0f0f0f0f);
  for (const f of facilities) f.formats = [formats[Math.floor(rnd() * formats.length)]];
  // residences: uniformly random positions on the network (∝ length), moved up to 40 m off it
  const pts = sampleNetworkPoints(g, a.residences, a.seed + 1);
  const b = new ResidenceTableBuilder();
  const mPerDeg = 111_195;
  const kx = 1 / Math.cos((31.18 * Math.PI) / 180);
  for (let i = 0; i < a.residences; i++) {
    const lon = pts.coords[2 * i] + ((2 * rnd() - 1) * 40 * kx) / mPerDeg;
    const lat = pts.coords[2 * i + 1] + ((2 * rnd() - 1) * 40) / mPerDeg;
    const floorArea = 500 + 4500 * rnd();
    const population = floorArea / 35;
    b.add({
      lon,
      lat,
      footprint: 0,
      levels: 0,
      levelsSource: LEVELS_NONE,
      floorArea,
      population,
      elderly: population * 0.2061,
      kind: KIND_USER,
      sourceType: SOURCE_ROW,
      sourceId: i + 1,
      compound: -1,
      name: '',
      access: [lon, lat],
      accessKind: ACCESS_CENTROID,
    });
  }
  const table = b.finish();
  const generateMs = performance.now() - t;
  t = performance.now();
  const index = buildSnapIndex(g);
  const snapIndexMs = performance.now() - t;
  t = performance.now();
  const rs = snapResidenceAccess(table, index, 300);
  const snapMs = performance.now() - t;
  const region: Region = { ...syntheticRegion(g, facilities, snaps, `grid-${a.nodes}-assess`), residences: table, residenceSnaps: rs.snaps };
  return { region, unsnappedPoints: rs.unsnappedPoints, generateMs, snapIndexMs, snapMs };
}

function gridPrepTask(a: GridAssessPrepArgs): GridAssessPrepResult {
  const { region, unsnappedPoints, generateMs, snapIndexMs, snapMs } = gridRegionWithHomes(a);
  const g = region.graph;
  const facilities = region.facilities;
  const table = region.residences;
  log(`grid assess prep: ${g.nodeCount} nodes, ${facilities.length} facilities, ${table.count} residences; generate ${generateMs.toFixed(0)} ms, snap index ${snapIndexMs.toFixed(0)} ms, snap ${snapMs.toFixed(0)} ms`);
  const t = performance.now();
  writeRegion(a.regionOut, region);
  const writeMs = performance.now() - t;
  return {
    nodes: g.nodeCount,
    edges: g.edgeCount,
    facilities: facilities.length,
    formats: new Set(facilities.map((f) => f.formats[0])).size,
    residences: table.count,
    unsnappedPoints,
    generateMs,
    snapIndexMs,
    snapMs,
    writeMs,
    fileBytes: statSync(a.regionOut).size,
    hwmKb: procMemKb().hwmKb,
  };
}

export interface GridAssessResult {
  baselineRssKb: number;
  loadMs: number;
  rssAfterLoadKb: number;
  assessMs: number;
  timings: Record<string, number>;
  zones: number;
  unreachableResidences: number;
  meanCompleteness: number;
  hwmKb: number;
}

function gridAssessTask(a: { region: string }): GridAssessResult {
  gc();
  const baselineRssKb = procMemKb().rssKb;
  let t = performance.now();
  const region = readRegion(a.region);
  const loadMs = performance.now() - t;
  const rssAfterLoadKb = procMemKb().rssKb;
  t = performance.now();
  const res = assess(region, { profile: PROFILE, h3Resolutions: [10] });
  const assessMs = performance.now() - t;
  log(`grid assess: readRegion ${loadMs.toFixed(0)} ms, assess ${assessMs.toFixed(0)} ms, ${res.zones.length} zones`);
  return {
    baselineRssKb,
    loadMs,
    rssAfterLoadKb,
    assessMs,
    timings: res.timings,
    zones: res.zones.length,
    unreachableResidences: res.headline.unreachableResidences,
    meanCompleteness: res.headline.meanCompleteness,
    hwmKb: procMemKb().hwmKb,
  };
}

function log(s: string): void {
  process.stderr.write(s + '\n');
}

async function runChild<T>(task: string, args: object, nodeFlags: string[] = []): Promise<T> {
  const r = await spawnChild(task, args, nodeFlags);
  if (r.code !== 0) throw new Error(`assess task ${task} failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
  return lastJson<T>(r, `assess task ${task}`);
}

function spawnChild(task: string, args: object, nodeFlags: string[] = []): ReturnType<typeof run> {
  const script = join(ROOT, 'dist', 'bench', 'assess-bench.js');
  return run(process.execPath, ['--expose-gc', ...nodeFlags, script, '--task', task, JSON.stringify(args)], { echoStderr: true });
}

/** V8 stack for the fallback run (KiB; the default is ~984). The main thread's OS stack (ulimit -s, 8 MiB) must exceed it. */
const FALLBACK_STACK_KB = 4000;

// ---------------------------------------------------------------- the section

export interface AssessSectionResult {
  machine: Machine;
  loadBefore: string;
  loadAfter: string;
  wallS: number;
  quick: boolean;
  krems: KremsAssessResult;
  gridPrep: GridAssessPrepResult;
  /** the run with default Node flags, or null when it failed (then `grid` is the fallback run). */
  grid: GridAssessResult | null;
  /** why the default run failed (first line of its error), or null. */
  gridError: string | null;
  /** the run with --stack-size (only when the default run failed with a stack overflow). */
  gridFallback: GridAssessResult | null;
}

function loadAvg(): string {
  return readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
}

export async function assessSection(opts: { gridNodes?: number; quick?: boolean; machine?: Machine } = {}): Promise<AssessSectionResult> {
  const t0 = performance.now();
  mkdirSync(BENCH_OUT, { recursive: true });
  const quick = opts.quick ?? false;
  const loadBefore = loadAvg();
  const machine = opts.machine ?? describeMachine();
  say('[6] assessment: Krems (child process: import, cold + warm assess, edits)');
  const krems = await runChild<KremsAssessResult>('krems', { warmup: 2, runs: quick ? 3 : 10, editWarmup: 2, editRuns: quick ? 5 : 20 });
  const nodes = opts.gridNodes ?? (quick ? 100_000 : 1_000_000);
  const residences = quick ? 20_000 : 200_000;
  const regionOut = join(BENCH_OUT, 'assess-grid.quarter');
  say(`[6] assessment: grid ${nodes} nodes, ${residences} residences: prepare (child process)`);
  const gridPrep = await runChild<GridAssessPrepResult>('grid-prep', { nodes, facilities: quick ? 200 : 2000, residences, seed: 1, regionOut });
  say('[6] assessment: grid: readRegion + assess (child process)');
  const first = await spawnChild('grid-assess', { region: regionOut });
  let grid: GridAssessResult | null = null;
  let gridError: string | null = null;
  let gridFallback: GridAssessResult | null = null;
  if (first.code === 0) grid = lastJson<GridAssessResult>(first, 'assess task grid-assess');
  else {
    gridError = /^\w*Error: .*$/m.exec(first.stderr)?.[0] ?? `exit ${first.code}`;
    const where = /^\s+at (assess|h3Zones|zoneStats) .*$/m.exec(first.stderr)?.[0]?.trim();
    if (where) gridError += ` (${where.replace(`file://${ROOT}/`, '')})`;
    say(`[6] assessment: grid assess failed: ${gridError}`);
    if (/Maximum call stack size exceeded/.test(first.stderr)) {
      say(`[6] assessment: grid: again with node --stack-size=${FALLBACK_STACK_KB} (measures the rest of assess past the overflow)`);
      gridFallback = await runChild<GridAssessResult>('grid-assess', { region: regionOut }, [`--stack-size=${FALLBACK_STACK_KB}`]);
    }
  }
  return { machine, loadBefore, loadAfter: loadAvg(), wallS: (performance.now() - t0) / 1000, quick, krems, gridPrep, grid, gridError, gridFallback };
}

// ---------------------------------------------------------------- report

const f0 = (x: number): string => x.toFixed(0);
const ms = (x: number): string => (x >= 100 ? `${f0(x)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`);
const sec = (x: number): string => `${(x / 1000).toFixed(x >= 10_000 ? 1 : 2)} s`;
const mib = (kb: number): string => `${f0(kb / 1024)} MiB`;
const int = (x: number): string => x.toLocaleString('en-US');
const met = (ok: boolean): string => (ok ? '**met**' : '**MISSED**');
const range = (xs: number[]): string => `${ms(Math.min(...xs))} – ${ms(Math.max(...xs))}`;
const phases = (t: Record<string, number>): string =>
  Object.entries(t)
    .filter(([k, v]) => k !== 'total' && v >= 0.05 * (t.total ?? Infinity))
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${ms(v)}`)
    .join(', ');

/** Rows for the Targets table. */
export function assessTargetRows(r: AssessSectionResult): string[] {
  const k = r.krems;
  const warm = median(k.warmMs);
  const add = median(k.added.ms);
  const rem = median(k.removed.ms);
  const g = r.grid;
  const fb = r.gridFallback;
  const gridRow = g
    ? `| ${int(r.gridPrep.nodes)}-node grid, ${int(r.gridPrep.residences)} residences, assess ≤ 60 s | ${sec(g.assessMs)} (peak ${mib(g.hwmKb)} VmHWM, load + assess) | ${met(g.assessMs <= ASSESS_TARGETS.gridMs)} |`
    : `| ${int(r.gridPrep.nodes)}-node grid, ${int(r.gridPrep.residences)} residences, assess ≤ 60 s | fails: ${r.gridError ?? '?'}` +
      (fb ? `; with \`node --stack-size=${FALLBACK_STACK_KB}\` it finishes in ${sec(fb.assessMs)} (peak ${mib(fb.hwmKb)})` : '') +
      ` | **MISSED**: assess throws with default Node settings, see §6 |`;
  return [
    `| Krems full assessment (mofcom-2021, all formats, all residences, region + H3 res 10) ≤ 2 s | warm ${sec(warm)} (median of ${k.warmMs.length}), cold ${sec(k.coldMs)} (first call in a fresh process) | ${met(warm <= ASSESS_TARGETS.kremsWarmMs && k.coldMs <= ASSESS_TARGETS.kremsColdMs)} |`,
    gridRow,
    `| Krems re-assessment after one facility added / removed ≤ 100 ms (full re-assessment, no incremental update yet) | +1: ${ms(add)}, −1: ${ms(rem)} (medians of ${k.added.ms.length}) | ${met(add <= ASSESS_TARGETS.editMs && rem <= ASSESS_TARGETS.editMs)} |`,
  ];
}

/** The section's markdown (heading included). */
export function renderAssess(r: AssessSectionResult, num = '6'): string {
  const L: string[] = [];
  const P = (s = ''): void => void L.push(s);
  const k = r.krems;
  const gp = r.gridPrep;
  const fb = r.gridFallback;
  const g = r.grid ?? fb;
  const warm = median(k.warmMs);
  const add = median(k.added.ms);
  const rem = median(k.removed.ms);
  P(`## ${num}. Assessment`);
  P();
  P(`assess(region, opts) (src/assess/assess.ts), profile ${PROFILE}, every format of the taxonomy, every residence, zones = the region + H3 resolution 10, no opening-hours check. ` +
    `This section ran ${r.quick ? 'with **--quick** (not for comparison) ' : ''}on ${r.machine.dateUtc}, ${r.machine.nproc} CPUs (${r.machine.cpuModel}), Node ${r.machine.node}, ` +
    `load average before ${r.loadBefore}, after ${r.loadAfter}; it took ${f0(r.wallS)} s.`);
  P();
  P('| case | network | facilities | residences | zones | time | target | status |');
  P('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  P(`| Krems, population ${int(KREMS_POPULATION)}: cold (first call in a fresh process, after importRegion ${ms(k.importMs)}) | ${int(k.nodes)} nodes | ${k.facilities} | ${int(k.residences)} | ${k.zones} | **${ms(k.coldMs)}** | ≤ 2 s | ${met(k.coldMs <= ASSESS_TARGETS.kremsColdMs)} |`);
  P(`| Krems: warm (median of ${k.warmMs.length} after 2 warm-ups; ${range(k.warmMs)}) | ${int(k.nodes)} nodes | ${k.facilities} | ${int(k.residences)} | ${k.zones} | **${ms(warm)}** | ≤ 2 s | ${met(warm <= ASSESS_TARGETS.kremsWarmMs)} |`);
  P(`| Krems unedited, timed in the same interleaved rounds as the two edits below (median of ${k.baselineMs.length}; ${range(k.baselineMs)}) | ${int(k.nodes)} nodes | ${k.facilities} | ${int(k.residences)} | ${k.zones} | ${ms(median(k.baselineMs))} | | |`);
  P(`| Krems + 1 pharmacy (addFacilities ${ms(k.added.addMs)}), full re-assessment, median of ${k.added.ms.length} warm runs (${range(k.added.ms)}) | ${int(k.nodes)} nodes | ${k.facilities + 1} | ${int(k.residences)} | ${k.zones} | **${ms(add)}** | ≤ 100 ms | ${met(add <= ASSESS_TARGETS.editMs)} |`);
  P(`| Krems − 1 facility (${k.removed.formats.join(' + ')}), full re-assessment, median of ${k.removed.ms.length} warm runs (${range(k.removed.ms)}) | ${int(k.nodes)} nodes | ${k.facilities - 1} | ${int(k.residences)} | ${k.zones} | **${ms(rem)}** | ≤ 100 ms | ${met(rem <= ASSESS_TARGETS.editMs)} |`);
  if (r.grid) {
    P(`| grid, ${gp.formats} formats, one run in a fresh process (after readRegion ${ms(r.grid.loadMs)}) | ${int(gp.nodes)} nodes | ${int(gp.facilities)} | ${int(gp.residences)} | ${int(r.grid.zones)} | **${sec(r.grid.assessMs)}** | ≤ 60 s | ${met(r.grid.assessMs <= ASSESS_TARGETS.gridMs)} |`);
  } else {
    P(`| grid, ${gp.formats} formats, one run in a fresh process (default Node settings) | ${int(gp.nodes)} nodes | ${int(gp.facilities)} | ${int(gp.residences)} | | **fails**: ${r.gridError ?? '?'} | ≤ 60 s | **MISSED** |`);
    if (fb) {
      P(`| grid, the same with \`node --stack-size=${FALLBACK_STACK_KB}\` (not a product setting: measures the rest of assess; after readRegion ${ms(fb.loadMs)}) | ${int(gp.nodes)} nodes | ${int(gp.facilities)} | ${int(gp.residences)} | ${int(fb.zones)} | ${sec(fb.assessMs)} | (≤ 60 s) | would be ${fb.assessMs <= ASSESS_TARGETS.gridMs ? 'met' : 'missed'} |`);
    }
  }
  P();
  if (g) P(`Peak memory of the grid process (readRegion + assess${r.grid ? '' : `, the --stack-size run`}): **${mib(g.hwmKb)}** VmHWM (Node baseline ${mib(g.baselineRssKb)}, RSS after readRegion ${mib(g.rssAfterLoadKb)}). Krems process (import + all runs above): ${mib(k.hwmKb)}.`);
  if (!r.grid) {
    P();
    P(`**The grid assessment fails with default Node settings.** \`${r.gridError ?? '?'}\`: assess collects the H3 zones with \`specs.push(...h3Zones(h3Resolutions, table.lon, table.lat))\` (src/assess/assess.ts), ` +
      `which passes every H3 cell as one call argument; ${int(gp.residences)} residences spread over the grid fall into ${fb ? int(fb.zones - 1) : 'about as many'} distinct resolution-10 cells, more arguments than V8's default stack (~984 KiB) holds. ` +
      'A loop (or concat) instead of the spread would fix it; src/ is outside this benchmark, so the section reports the miss and, to show what the rest of assess costs at this size, reruns the same child with a larger V8 stack.');
  }
  P();
  P('Where the time goes (result.timings, phases ≥ 5 % of the total):');
  P();
  P(`- Krems cold: ${phases(k.coldTimings)}.`);
  P(`- Krems warm (median per phase): ${phases(k.warmTimings)}.`);
  if (g) P(`- grid${r.grid ? '' : ' (--stack-size run)'}: ${phases(g.timings)}.`);
  P();
  P(`Order in the Krems process: import, the cold call, 2 warm-ups, the ${k.warmMs.length} warm runs, then ${2} warm-up rounds and ${k.baselineMs.length} timed rounds of (unedited, +1, −1). ` +
    'The later rounds run on code V8 has optimised further, so compare the edits with the unedited row timed beside them, not with the "warm" row.');
  P();
  P(`**Edits are full re-assessments.** There is no incremental update yet: after addFacilities or the removal, assess recomputes every format's search, every residence's requirements and every zone; ` +
    `the +1 / −1 rows time exactly that on the edited Region. The pharmacy (${k.added.facility}, snapped to edge ${k.added.edge}) changed the walking times of ${int(k.added.changedResidences)} of ${int(k.residences)} residences; ` +
    `removing ${k.removed.facility} changed ${int(k.removed.changedResidences)}. ` +
    (add <= ASSESS_TARGETS.editMs && rem <= ASSESS_TARGETS.editMs
      ? `Even so, both re-assessments meet the 100 ms target on Krems (${ms(add)} / ${ms(rem)}); the cost is that of a whole assessment, so it grows with the region (see the grid row), not with the edit.`
      : `The re-assessments miss the 100 ms target (${ms(add)} / ${ms(rem)}): their cost is that of a whole assessment; an incremental update (re-searching only the edited facility's format, re-judging only the residences whose times changed and the zones holding them) is what would meet it.`));
  P();
  P(`Grid inputs (bench/assess-bench.ts): bench/grid.ts seed 1; ${int(gp.facilities)} facilities on random main-component nodes, part-way along an edge with an access leg ≤ 50 m, each given one random format of the taxonomy (${gp.formats} distinct); ` +
    `${int(gp.residences)} residences at uniformly random positions on the network (edge ∝ length) moved up to ±40 m on each axis, one access point each (centroid), snapped with snapResidenceAccess (${int(gp.unsnappedPoints)} not snapped), population = floor area / 35 m² (floor area 500–5,000 m²). ` +
    `Preparation (another child process, not timed by the target): generate + build ${ms(gp.generateMs)}, snap index ${ms(gp.snapIndexMs)}, snapping ${ms(gp.snapMs)}, writeRegion ${ms(gp.writeMs)} (${f0(gp.fileBytes / 2 ** 20)} MiB), peak ${mib(gp.hwmKb)}. ` +
    `With ${Math.round(gp.facilities / Math.max(1, gp.formats))} facilities per format on a square about ${f0(Math.sqrt(gp.nodes) * 0.1)} km on a side, most residences have none of a format within the 60-minute search cap${g ? ` (mean completeness ${(g.meanCompleteness * 100).toFixed(1)} %)` : ''}; ` +
    'the searches are bounded by that cap, so the time is dominated by the number of searches and the per-residence and per-zone work, which is what this case is for.');
  P();
  return L.join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const ti = process.argv.indexOf('--task');
  if (ti >= 0) {
    const task = process.argv[ti + 1];
    const args = JSON.parse(process.argv[ti + 2] ?? '{}') as never;
    let out: unknown;
    if (task === 'krems') out = await kremsTask(args);
    else if (task === 'grid-prep') out = gridPrepTask(args);
    else if (task === 'grid-assess') out = gridAssessTask(args);
    else throw new Error(`unknown task ${task} (krems | grid-prep | grid-assess)`);
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  const gi = process.argv.indexOf('--grid-nodes');
  const r = await assessSection({ gridNodes: gi >= 0 ? Number(process.argv[gi + 1]) : undefined, quick: process.argv.includes('--quick') });
  writeFileSync(join(BENCH_OUT, 'assess.json'), JSON.stringify(r, null, 1));
  process.stdout.write(renderAssess(r) + '\n\n| target | measured | status |\n| --- | --- | --- |\n' + assessTargetRows(r).join('\n') + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
