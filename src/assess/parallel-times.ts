/**
 * The walking-time searches of an assessment (one per walking profile and format), run either
 * here, one after the other (runSearches), or spread over worker threads (runSearchesParallel).
 *
 * Parallel: the arrays the searches read are copied once into a SharedArrayBuffer that every
 * worker maps (a few tens of MB for a city; cheaper than each worker reading the region file,
 * which parses the whole header and holds a private copy: see bench/big-region-bench.ts). Tasks
 * are handed out one at a time to whichever worker is free, and their results are passed on in
 * task order, the order of the single-thread loop, so ties (two formats equally near) resolve
 * the same way and the assessment is identical bit for bit.
 *
 * Cancel: aborting the signal terminates every worker and rejects with the signal's reason (an
 * AbortError); the promise settles only once all workers have exited.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WalkingProfile } from '../engine/profile.js';
import { residenceTimes, type PreparedNetwork } from './residence-times.js';
import { shareArrays } from './shared-arrays.js';
import { TIMES_WORKER_KIND, type TimesTask, type TimesWorkerData, type TimesWorkerMessage } from './times-worker.js';

/** One walking profile's searches: a format per search, in the caller's column order. */
export interface SearchJob {
  walking: WalkingProfile;
  formats: string[];
}

/** What an assessment asks to be searched, and where each result goes. */
export interface SearchRequest {
  net: PreparedNetwork;
  jobs: SearchJob[];
  maxSeconds: number;
  /** result of jobs[job].formats[k]; the arrays may be reused afterwards: copy what you keep. */
  onFormat: (job: number, k: number, seconds: Float64Array, nearest: Int32Array) => void;
  /** after each search. */
  onSearched: () => void;
}

export interface ParallelOptions {
  /** worker threads (≥ 1); fewer are started when there are fewer searches. */
  threads: number;
  signal?: AbortSignal;
  /** the compiled times-worker.js; default: next to this module. */
  workerScript?: string;
}

/** The single-thread path: residenceTimes per job, in order. */
export function runSearches(req: SearchRequest): void {
  req.jobs.forEach((job, j) => {
    residenceTimes(req.net, {
      walking: job.walking,
      formats: job.formats,
      maxSeconds: req.maxSeconds,
      onFormat: (k, s, n) => req.onFormat(j, k, s, n),
      onProgress: () => req.onSearched(),
    });
  });
}

/** Where the compiled worker lives next to this module (dist/src/assess/times-worker.js). */
export function defaultTimesWorkerScript(): string {
  const path = fileURLToPath(new URL('./times-worker.js', import.meta.url));
  if (!existsSync(path)) throw new Error(`${path}: the compiled times worker is missing (run \`npm run build\`)`);
  return path;
}

/** Tasks per thread: a few, for balance; each costs one set-up pass over the edges and access points. */
const TASKS_PER_THREAD = 3;

let live = 0;
/** Times workers started and not yet exited, in this process (tests check none are left). */
export function liveTimesWorkers(): number {
  return live;
}

const abortReason = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException('the assessment was cancelled', 'AbortError');

/** The same searches as runSearches, over worker threads; results reach onFormat in the same order. */
export async function runSearchesParallel(req: SearchRequest, opts: ParallelOptions): Promise<void> {
  const { signal } = opts;
  if (signal?.aborted) throw abortReason(signal);
  // searches numbered in the single-thread order; place[s] = [job, format index]
  const place: Array<[number, number]> = [];
  req.jobs.forEach((job, j) => job.formats.forEach((_f, k) => place.push([j, k])));
  if (place.length === 0) return;
  const threads = Math.max(1, Math.min(Math.floor(opts.threads), place.length));
  // tasks: runs of a job's formats, about TASKS_PER_THREAD per thread, so a worker pays the
  // per-run set-up (edge and arc seconds) a few times rather than once per format, and a slow
  // search still leaves the others something to take
  const size = Math.max(1, Math.ceil(place.length / (threads * TASKS_PER_THREAD)));
  const tasks: TimesTask[] = [];
  let first = 0;
  req.jobs.forEach((job, j) => {
    for (let k = 0; k < job.formats.length; k += size) {
      tasks.push({ task: tasks.length, job: j, formats: job.formats.slice(k, k + size), first: first + k });
    }
    first += job.formats.length;
  });
  const script = opts.workerScript ?? defaultTimesWorkerScript();
  const data = workerDataFor(req);

  const workers: Worker[] = [];
  const exited: Array<Promise<void>> = [];
  /** results that arrived before an earlier search's, by search number */
  const pending = new Map<number, { seconds: Float64Array; nearest: Int32Array }>();
  let nextTask = 0;
  let committed = 0;
  let settled = false;

  await new Promise<void>((resolve, reject) => {
    const stopAll = (then: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      for (const w of workers) void w.terminate();
      void Promise.all(exited).then(then);
    };
    const fail = (err: unknown): void => stopAll(() => reject(err));
    const onAbort = (): void => fail(abortReason(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });

    const give = (w: Worker): void => {
      if (nextTask < tasks.length) w.postMessage(tasks[nextTask++]);
    };
    const commit = (): void => {
      // pass results on in task order: the single-thread order
      for (let r = pending.get(committed); r; r = pending.get(committed)) {
        pending.delete(committed);
        const [j, k] = place[committed];
        try {
          req.onFormat(j, k, r.seconds, r.nearest);
          req.onSearched();
        } catch (err) {
          fail(err);
          return;
        }
        committed++;
      }
      if (committed === place.length) stopAll(resolve);
    };

    for (let i = 0; i < threads; i++) {
      // a worker that fails to load (bad script path) surfaces as 'error': handled below
      let w: Worker;
      try {
        w = new Worker(script, { workerData: data });
      } catch (err) {
        fail(err);
        return;
      }
      live++;
      workers.push(w);
      exited.push(new Promise<void>((done) => w.once('exit', () => (live--, done()))));
      w.on('message', (m: TimesWorkerMessage) => {
        if (settled) return;
        if (m.type === 'failed') {
          fail(new Error(`walking-time search (${tasks[m.task]?.formats.join(', ') ?? m.task}) failed in a worker: ${m.message}`));
        } else if (m.type === 'done') {
          give(w);
        } else {
          pending.set(m.search, { seconds: m.seconds, nearest: m.nearest });
          commit();
        }
      });
      w.on('error', (err) => fail(err));
      w.on('exit', (code) => {
        if (!settled && code !== 0) fail(new Error(`a walking-time worker exited with code ${code}`));
      });
      give(w);
    }
  });
}

/** Everything a worker needs: the search arrays shared once, profiles, cap and seeds. */
function workerDataFor(req: SearchRequest): TimesWorkerData {
  const { net } = req;
  const g = net.region.graph;
  const rs = net.region.residenceSnaps;
  const fs = net.region.facilitySnaps;
  const shared = shareArrays({
    arcOffsets: g.arcOffsets,
    arcTarget: g.arcTarget,
    arcEdge: g.arcEdge,
    edgeFrom: g.edgeFrom,
    edgeTo: g.edgeTo,
    edgeLength: g.edgeLength,
    edgeFlags: g.edgeFlags,
    pointEdge: rs.edge,
    pointAccess: rs.access,
    facilityEdge: fs.edge,
    facilityAccess: fs.access,
    gateOffsets: net.region.residences.gateOffsets,
    pointFrac: net.pointFrac,
    facFrac: net.facFrac,
    sePoint: net.sePoint,
    seStart: net.seStart,
    seFac: net.seFac,
  });
  const seeds: Record<string, Int32Array> = {};
  for (const job of req.jobs) for (const f of job.formats) seeds[f] = net.seedsByFormat.get(f) ?? new Int32Array(0);
  return {
    kind: TIMES_WORKER_KIND,
    shared,
    nodeCount: g.nodeCount,
    edgeCount: g.edgeCount,
    residenceCount: net.region.residences.count,
    facilityCount: net.region.facilities.length,
    walking: req.jobs.map((j) => j.walking),
    maxSeconds: req.maxSeconds,
    seeds,
  };
}
