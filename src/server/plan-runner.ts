/**
 * Plan runs in worker threads, at most a few at once (the rest wait in order). Each run gets its
 * own worker (src/plan/plan-worker.ts) with the region as it was when the run was asked for — the
 * encoded region file in a SharedArrayBuffer that every worker reads without copying — and the
 * request. Progress, the report or the failure go to the store (updatePlanRun) in the order they
 * happened; progress writes are thinned to a few per second. Cancelling terminates the worker.
 *
 * Status changes name the status they expect (queued → running → done), so a run cancelled
 * meanwhile stays cancelled whatever its worker still sends.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PLAN_WORKER_KIND, type PlanParams, type PlanWorkerData, type PlanWorkerMessage } from '../plan/plan-worker.js';
import { encodeRegion } from '../region/region-file.js';
import type { Region } from '../region/region.js';
import { InvalidStateError, type PlanRunRecord, type QuarterStore } from '../store/store.js';

export const DEFAULT_PLAN_WORKERS = 2;
/** Progress is written to the store at most this often per run (the first value at once). */
const PROGRESS_WRITE_MS = 200;

/** Where the compiled worker lives next to this module (dist/src/plan/plan-worker.js). */
export function defaultPlanWorkerScript(): string | null {
  const url = new URL('../plan/plan-worker.js', import.meta.url);
  const path = fileURLToPath(url);
  return existsSync(path) ? path : null;
}

interface Run {
  id: number;
  params: PlanParams;
  region: SharedArrayBuffer;
  worker: Worker | null;
  cancelled: boolean;
  finished: boolean;
  /** store writes of this run, in order. */
  chain: Promise<unknown>;
  lastProgressWrite: number;
  pendingProgress: number | null;
  progressTimer: NodeJS.Timeout | null;
}

export interface PlanRunnerOptions {
  store: QuarterStore;
  /** the compiled plan-worker.js; null = plans cannot run (503). */
  workerScript: string | null;
  maxWorkers?: number;
  log?: (message: string) => void;
}

export class PlanRunner {
  private readonly queue: Run[] = [];
  private readonly runs = new Map<number, Run>();
  private running = 0;
  private readonly maxWorkers: number;
  private readonly encoded = new WeakMap<Region, SharedArrayBuffer>();
  private closed = false;

  constructor(private readonly opts: PlanRunnerOptions) {
    this.maxWorkers = Math.max(1, opts.maxWorkers ?? DEFAULT_PLAN_WORKERS);
  }

  get available(): boolean {
    return this.opts.workerScript !== null;
  }

  /** Runs working now and waiting. */
  stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.queue.length };
  }

  /** The region's file bytes in shared memory (made once per region object). */
  private regionBytes(region: Region): SharedArrayBuffer {
    let sab = this.encoded.get(region);
    if (!sab) {
      const parts = encodeRegion(region);
      sab = new SharedArrayBuffer(parts.reduce((n, b) => n + b.length, 0));
      const view = new Uint8Array(sab);
      let at = 0;
      for (const b of parts) {
        view.set(b, at);
        at += b.length;
      }
      this.encoded.set(region, sab);
    }
    return sab;
  }

  /** Queue a run already created in the store (status queued). */
  enqueue(id: number, region: Region, params: PlanParams): void {
    const run: Run = {
      id,
      params,
      region: this.regionBytes(region),
      worker: null,
      cancelled: false,
      finished: false,
      chain: Promise.resolve(),
      lastProgressWrite: 0,
      pendingProgress: null,
      progressTimer: null,
    };
    this.runs.set(id, run);
    this.queue.push(run);
    this.pump();
  }

  /** Append a store write to the run's chain (writes of a run happen in order); the answer, or its error. */
  private writeInOrder<T>(run: Run, step: () => Promise<T>): Promise<T> {
    const next = run.chain.then(step);
    run.chain = next.then(
      () => undefined,
      (err: unknown) => {
        // a run cancelled meanwhile refuses later writes: expected, not worth a log line
        if (!(err instanceof InvalidStateError)) this.opts.log?.(`plan run ${run.id}: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    return next;
  }

  /** A store write nobody waits for (its failure is logged by the chain). */
  private write(run: Run, step: () => Promise<unknown>): void {
    this.writeInOrder(run, step).catch(() => undefined);
  }

  private pump(): void {
    while (!this.closed && this.running < this.maxWorkers && this.queue.length > 0) {
      const run = this.queue.shift()!;
      if (run.cancelled) continue;
      this.start(run);
    }
  }

  private start(run: Run): void {
    const script = this.opts.workerScript;
    this.running++;
    if (script === null) {
      this.finish(run, { type: 'failed', message: 'the plan solver is not available (build with npm run build)', field: null });
      return;
    }
    this.write(run, () => this.opts.store.updatePlanRun(run.id, { status: ['queued'] }, { status: 'running', progress: 0 }));
    const data: PlanWorkerData = { kind: PLAN_WORKER_KIND, region: run.region, params: run.params };
    let worker: Worker;
    try {
      worker = new Worker(script, { workerData: data });
    } catch (err) {
      this.finish(run, { type: 'failed', message: `cannot start the plan worker: ${err instanceof Error ? err.message : String(err)}`, field: null });
      return;
    }
    run.worker = worker;
    worker.on('message', (m: PlanWorkerMessage) => {
      if (run.cancelled || run.finished) return;
      if (m.type === 'progress') this.progress(run, m.fraction);
      else this.finish(run, m);
    });
    worker.on('error', (err) => {
      if (!run.cancelled && !run.finished) this.finish(run, { type: 'failed', message: `the plan worker failed: ${err.message}`, field: null });
    });
    worker.on('exit', (code) => {
      if (!run.cancelled && !run.finished) this.finish(run, { type: 'failed', message: `the plan worker stopped (exit code ${code}) before it finished`, field: null });
      this.release(run);
    });
  }

  private progress(run: Run, fraction: number): void {
    run.pendingProgress = fraction;
    const wait = run.lastProgressWrite + PROGRESS_WRITE_MS - Date.now();
    if (wait <= 0) this.flushProgress(run);
    else run.progressTimer ??= setTimeout(() => this.flushProgress(run), wait);
  }

  private flushProgress(run: Run): void {
    if (run.progressTimer) clearTimeout(run.progressTimer);
    run.progressTimer = null;
    const p = run.pendingProgress;
    run.pendingProgress = null;
    if (p === null || run.cancelled || run.finished) return;
    run.lastProgressWrite = Date.now();
    this.write(run, () => this.opts.store.updatePlanRun(run.id, { status: ['running'] }, { progress: Math.min(0.99, p) }));
  }

  private finish(run: Run, m: Exclude<PlanWorkerMessage, { type: 'progress' }>): void {
    if (run.finished) return;
    run.finished = true;
    if (run.progressTimer) clearTimeout(run.progressTimer);
    run.pendingProgress = null;
    const store = this.opts.store;
    if (m.type === 'done') {
      this.writeInOrder(run, () => store.updatePlanRun(run.id, { status: ['running'] }, { status: 'done', progress: 1, result: m.report })).catch((err: unknown) => {
        // a report the store refuses (too large, say) still ends the run
        if (!(err instanceof InvalidStateError)) {
          this.write(run, () => store.updatePlanRun(run.id, { status: ['running'] }, { status: 'failed', error: `the report could not be saved: ${err instanceof Error ? err.message : String(err)}` }));
        }
      });
    } else {
      const error = m.field ? `${m.field}: ${m.message}` : m.message;
      this.write(run, () => store.updatePlanRun(run.id, { status: ['queued', 'running'] }, { status: 'failed', error }));
    }
    if (!run.worker) this.release(run);
    else void run.worker.terminate();
  }

  /** The worker is gone: free its slot and start the next run. */
  private release(run: Run): void {
    if (!this.runs.has(run.id)) return;
    this.runs.delete(run.id);
    this.running--;
    this.pump();
  }

  /**
   * Cancel a run: taken off the queue, or its worker terminated; the store says cancelled.
   * InvalidStateError when it had finished already.
   */
  async cancel(id: number, actor: string | null): Promise<PlanRunRecord> {
    const run = this.runs.get(id);
    const store = this.opts.store;
    if (!run) return store.updatePlanRun(id, { status: ['queued', 'running'] }, { status: 'cancelled' }, actor);
    const wasFinished = run.finished;
    run.cancelled = true;
    if (run.progressTimer) clearTimeout(run.progressTimer);
    const queued = this.queue.indexOf(run);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.runs.delete(id);
    } else if (run.worker && !wasFinished) void run.worker.terminate();
    return this.writeInOrder(run, () => store.updatePlanRun(id, { status: ['queued', 'running'] }, { status: 'cancelled' }, actor));
  }

  /** Stop every worker; runs not finished are marked failed. */
  async close(): Promise<void> {
    this.closed = true;
    const runs = [...this.runs.values()];
    this.queue.length = 0;
    const exits: Promise<unknown>[] = [];
    for (const run of runs) {
      if (run.progressTimer) clearTimeout(run.progressTimer);
      if (!run.finished && !run.cancelled) {
        run.finished = true;
        this.write(run, () => this.opts.store.updatePlanRun(run.id, { status: ['queued', 'running'] }, { status: 'failed', error: 'the server stopped before the run finished; start it again' }));
      }
      if (run.worker) exits.push(run.worker.terminate());
    }
    await Promise.allSettled(exits);
    await Promise.allSettled(runs.map((r) => r.chain));
  }
}
