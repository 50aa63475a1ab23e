/**
 * Benchmark tasks that run in a fresh Node process, so that their peak memory (VmHWM) is
 * their own: `node --expose-gc dist/bench/tasks.js TASK 'JSON-ARGS'`. Progress goes to
 * stderr, one JSON report to stdout. Started by bench/run.ts.
 *
 *   import      importRegion + writeRegion of one OSM extract: peak memory of the first
 *               (cold) import, then warm-up + timed imports, then readRegion timings.
 *   grid-prep   generate the synthetic grid, wrap it as a Region, write the .quarter file and
 *               the CSV export (product writer) with the synthetic facilities.
 *   grid-query  readRegion + createRoutingContext + formatAccess on the grid region: times
 *               and peak memory of serving the 1M-node network.
 */
import { statSync, writeFileSync } from 'node:fs';
import { createRoutingContext } from '../src/access/context.js';
import { formatAccess } from '../src/access/format-access.js';
import { DijkstraWorkspace, runDijkstra } from '../src/engine/dijkstra.js';
import { buildWalkGraph, componentSizes } from '../src/engine/graph.js';
import { edgeSeconds, getWalkingProfile } from '../src/engine/profile.js';
import { snapsToSources } from '../src/engine/snap.js';
import { importRegion } from '../src/region/import-region.js';
import { readRegion, writeRegion } from '../src/region/region-file.js';
import { writeGraphExport } from '../src/report/graph-export.js';
import { syntheticFacilities, syntheticRegion } from './export-csv.js';
import { generateGridNetwork, randomFacilitySeeds } from './grid.js';
import { gc, procMemKb } from './util.js';

const log = (s: string): void => void process.stderr.write(s + '\n');

export interface ImportTaskArgs {
  pbf: string;
  out: string;
  warmup: number;
  runs: number;
  loadWarmup: number;
  loadRuns: number;
}

export interface ImportTaskResult {
  pbf: string;
  out: string;
  nodes: number;
  edges: number;
  facilities: number;
  fileBytes: number;
  /** RSS of the process before the first import (modules loaded). */
  baselineRssKb: number;
  /** VmHWM right after the first (cold) import + write: the peak of one import. */
  importHwmKb: number;
  coldImportMs: number;
  coldWriteMs: number;
  importMs: number[];
  writeMs: number[];
  totalMs: number[];
  loadMs: number[];
}

async function importTask(a: ImportTaskArgs): Promise<ImportTaskResult> {
  gc();
  const baselineRssKb = procMemKb().rssKb;
  let t = performance.now();
  let region = await importRegion(a.pbf);
  const coldImportMs = performance.now() - t;
  t = performance.now();
  writeRegion(a.out, region);
  const coldWriteMs = performance.now() - t;
  const importHwmKb = procMemKb().hwmKb;
  log(`${a.pbf}: cold import ${coldImportMs.toFixed(0)} ms + write ${coldWriteMs.toFixed(1)} ms, VmHWM ${(importHwmKb / 1024).toFixed(0)} MiB`);
  const importMs: number[] = [];
  const writeMs: number[] = [];
  const totalMs: number[] = [];
  for (let i = 0; i < a.warmup + a.runs; i++) {
    gc();
    const t0 = performance.now();
    region = await importRegion(a.pbf);
    const t1 = performance.now();
    writeRegion(a.out, region);
    const t2 = performance.now();
    if (i < a.warmup) continue;
    importMs.push(t1 - t0);
    writeMs.push(t2 - t1);
    totalMs.push(t2 - t0);
  }
  const loadMs: number[] = [];
  for (let i = 0; i < a.loadWarmup + a.loadRuns; i++) {
    const t0 = performance.now();
    readRegion(a.out);
    const dt = performance.now() - t0;
    if (i >= a.loadWarmup) loadMs.push(dt);
  }
  const fileBytes = statSync(a.out).size;
  return {
    pbf: a.pbf,
    out: a.out,
    nodes: region.graph.nodeCount,
    edges: region.graph.edgeCount,
    facilities: region.facilities.length,
    fileBytes,
    baselineRssKb,
    importHwmKb,
    coldImportMs,
    coldWriteMs,
    importMs,
    writeMs,
    totalMs,
    loadMs,
  };
}

export interface GridPrepArgs {
  nodes: number;
  seed: number;
  facilities: number;
  format: string;
  regionOut: string;
  exportDir: string;
}

export interface GridPrepResult {
  nodes: number;
  edges: number;
  components: number;
  largestShare: number;
  facilities: number;
  generateMs: number;
  buildMs: number;
  writeRegionMs: number;
  writeCsvMs: number;
  hwmKb: number;
}

function gridPrepTask(a: GridPrepArgs): GridPrepResult {
  const profile = getWalkingProfile('default');
  let t = performance.now();
  const list = generateGridNetwork(a.nodes, a.seed);
  const generateMs = performance.now() - t;
  t = performance.now();
  const g = buildWalkGraph(list);
  const buildMs = performance.now() - t;
  const seeds = randomFacilitySeeds(g, a.facilities, a.seed);
  const { facilities, snaps } = syntheticFacilities(g, seeds, { format: a.format, alongEdge: { seed: a.seed, maxAccessM: 50 } });
  const region = syntheticRegion(g, facilities, snaps, `grid-${a.nodes}-seed${a.seed}`);
  t = performance.now();
  writeRegion(a.regionOut, region);
  const writeRegionMs = performance.now() - t;
  log(`grid: ${g.nodeCount} nodes, ${g.edgeCount} edges; generate ${generateMs.toFixed(0)} ms, build ${buildMs.toFixed(0)} ms, region file ${writeRegionMs.toFixed(0)} ms`);
  t = performance.now();
  writeGraphExport(a.exportDir, { graph: g, edgeSec: edgeSeconds(g, profile), speedMps: profile.speedMps, facilities, snaps });
  const writeCsvMs = performance.now() - t;
  log(`grid: CSV export (product writer) ${writeCsvMs.toFixed(0)} ms`);
  const sizes = componentSizes(g);
  return {
    nodes: g.nodeCount,
    edges: g.edgeCount,
    components: sizes.length,
    largestShare: sizes[0] / g.nodeCount,
    facilities: facilities.length,
    generateMs,
    buildMs,
    writeRegionMs,
    writeCsvMs,
    hwmKb: procMemKb().hwmKb,
  };
}

export interface GridQueryArgs {
  region: string;
  format: string;
  warmup: number;
  runs: number;
  outF64: string;
}

export interface GridQueryResult {
  baselineRssKb: number;
  loadMs: number;
  contextMs: number;
  /** formatAccess (seeding + multi-source Dijkstra + copies of the result arrays). */
  queryMs: number[];
  /** runDijkstra alone with the same seeds, on the context's workspace. */
  dijkstraMs: number[];
  seeded: number;
  reached: number;
  rssAfterLoadKb: number;
  hwmKb: number;
}

function gridQueryTask(a: GridQueryArgs): GridQueryResult {
  gc();
  const baselineRssKb = procMemKb().rssKb;
  let t = performance.now();
  const region = readRegion(a.region);
  const loadMs = performance.now() - t;
  t = performance.now();
  const ctx = createRoutingContext(region);
  const contextMs = performance.now() - t;
  const rssAfterLoadKb = procMemKb().rssKb;
  log(`grid query: readRegion ${loadMs.toFixed(0)} ms, createRoutingContext ${contextMs.toFixed(0)} ms`);
  const queryMs: number[] = [];
  let last = formatAccess(ctx, a.format);
  for (let i = 0; i < a.warmup + a.runs; i++) {
    const t0 = performance.now();
    last = formatAccess(ctx, a.format);
    const dt = performance.now() - t0;
    if (i >= a.warmup) queryMs.push(dt);
  }
  writeFileSync(a.outF64, new Uint8Array(last.seconds.buffer, last.seconds.byteOffset, last.seconds.byteLength));
  let reached = 0;
  for (const s of last.seconds) if (Number.isFinite(s)) reached++;
  // the search alone, without seeding and result copies
  const ids = ctx.facilitiesByFormat.get(a.format) ?? [];
  const seeds = snapsToSources(ids.map((id) => ctx.facilitySnaps[id]), ctx.edgeSec, region.graph, ctx.profile.speedMps, ids);
  const ws: DijkstraWorkspace = ctx.ws;
  const dijkstraMs: number[] = [];
  for (let i = 0; i < a.warmup + a.runs; i++) {
    const t0 = performance.now();
    runDijkstra(region.graph, ctx.arcSec, ws, seeds.nodes, seeds.seconds, Infinity, seeds.labels);
    const dt = performance.now() - t0;
    if (i >= a.warmup) dijkstraMs.push(dt);
  }
  return { baselineRssKb, loadMs, contextMs, queryMs, dijkstraMs, seeded: last.seeded, reached, rssAfterLoadKb, hwmKb: procMemKb().hwmKb };
}

async function main(): Promise<void> {
  const [task, json] = process.argv.slice(2);
  const args = JSON.parse(json ?? '{}') as never;
  let out: unknown;
  if (task === 'import') out = await importTask(args);
  else if (task === 'grid-prep') out = gridPrepTask(args);
  else if (task === 'grid-query') out = gridQueryTask(args);
  else throw new Error(`unknown task ${task} (import | grid-prep | grid-query)`);
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
