/**
 * `quarter worker`: takes batch jobs from the queue, runs each in a worker thread, and records
 * progress and the result in the shared store.
 *
 * Exactly one result per job, whatever dies when:
 *  - the result is written to the store BEFORE the job is acknowledged in Redis, and the store
 *    keeps the first result only (a done job never changes: store.updateBatchJob);
 *  - a worker killed mid-job stops renewing the job's lock; BullMQ hands the job to another worker
 *    after lockSeconds; that attempt first asks the store — a job already done there is answered
 *    from the store without running again;
 *  - a Redis outage pauses taking and acknowledging jobs (clients reconnect for ever); a job
 *    finished meanwhile is in the store, and its repeat after the outage changes nothing.
 * Input errors (bad region file, unknown profile) fail the job at once; anything else is retried
 * up to JOB_ATTEMPTS times with back-off.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import { StoreUnavailableError, type QuarterStore } from '../store/store.js';
import { removeThreadTemps } from '../io/atomic-file.js';
import type { ImportJobParams, JobSummary } from './job-kinds.js';
import type { JobThreadInput, JobThreadMessage } from './job-thread.js';
import { QUEUE_NAME, type BatchJobData } from './queue.js';
import { openRedis, type RedisTarget } from './redis.js';

export interface BatchWorkerOptions {
  redis: RedisTarget;
  store: QuarterStore;
  /** jobs at once in this process, each in its own thread (default 1). */
  concurrency?: number;
  /** a job whose worker has not renewed its lock for this long is retried elsewhere (default 30). */
  lockSeconds?: number;
  /** how long to keep retrying a store write the database refuses for now (default 300). */
  storeRetrySeconds?: number;
  log: (line: string) => void;
}

export interface BatchWorker {
  /** stop taking jobs; wait for running ones (force: stop them now — they will be retried elsewhere). */
  close(force?: boolean): Promise<void>;
  readonly id: string;
}

/** The compiled thread entry next to this module. */
function threadScript(): string {
  const path = fileURLToPath(new URL('./job-thread.js', import.meta.url));
  if (!existsSync(path)) throw new Error(`the batch job thread ${path} is missing (run npm run build)`);
  return path;
}

/** How often progress goes to the store (Redis hears every tick the thread sends). */
const STORE_PROGRESS_MS = 1000;

export async function startBatchWorker(opts: BatchWorkerOptions): Promise<BatchWorker> {
  const me = `${hostname()}:${process.pid}`;
  const { store, log } = opts;
  const lockMs = Math.round((opts.lockSeconds ?? 30) * 1000);
  const storeRetryMs = (opts.storeRetrySeconds ?? 300) * 1000;
  const script = threadScript();
  const threads = new Set<Thread>();
  let storeDown = false;

  /** A store write, retried while the database is unavailable (stopped, restarting, full). */
  async function storeWrite<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let wait = 500; ; wait = Math.min(wait * 2, 10_000)) {
      try {
        const out = await fn();
        if (storeDown) log(`store is back; ${what} written`);
        storeDown = false;
        return out;
      } catch (err) {
        if (!(err instanceof StoreUnavailableError) || Date.now() - started > storeRetryMs) throw err;
        if (!storeDown) log(`store unavailable (${err.message}); retrying ${what}`);
        storeDown = true;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  function runThread(job: Job<BatchJobData>, input: JobThreadInput): Promise<JobSummary> {
    return new Promise((resolve, reject) => {
      const thread = new Thread(script, { workerData: input });
      const tid = thread.threadId; // kept: read after the exit it may no longer be there
      threads.add(thread);
      let lastStore = 0;
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        threads.delete(thread);
        fn();
      };
      thread.on('message', (m: JobThreadMessage) => {
        if (m.type === 'progress') {
          job.updateProgress(Math.round(m.share * 1000) / 1000).catch(() => {});
          const now = Date.now();
          if (now - lastStore >= STORE_PROGRESS_MS) {
            lastStore = now;
            // progress is best effort: a refused write is not worth failing the job for
            store.updateBatchJob(job.data.batchId, job.data.key, { state: 'running', progress: m.share }).catch(() => {});
          }
        } else if (m.type === 'done') {
          settle(() => resolve(m.summary as JobSummary));
          void thread.terminate();
        } else {
          settle(() => reject(m.input ? new UnrecoverableError(m.message) : new Error(m.message)));
          void thread.terminate();
        }
      });
      thread.on('error', (err) => settle(() => reject(err)));
      thread.on('exit', (code) => {
        // an import stopped mid-write (forced stop, crash) leaves its temp file: the region file is intact
        if (input.kind === 'import') removeThreadTemps((input.params as ImportJobParams).outDir, tid);
        settle(() => reject(new Error(`the job's thread stopped (exit code ${code}) before it finished`)));
      });
    });
  }

  async function processJob(job: Job<BatchJobData>): Promise<JobSummary> {
    const { batchId, key, kind, region, params } = job.data;
    const label = `job ${job.id} (${kind} ${region})`;
    const start = await storeWrite(`the start of ${label}`, () => store.updateBatchJob(batchId, key, { state: 'running', newAttempt: true, worker: me }));
    if (!start.changed) {
      log(`${label} is already done in the store; not run again`);
      return start.job.result as JobSummary;
    }
    const attempt = start.job.attempts;
    log(`${label} attempt ${attempt} started`);
    const t0 = Date.now();
    try {
      const summary = await runThread(job, { kind, region, params });
      const end = await storeWrite(`the result of ${label}`, () => store.updateBatchJob(batchId, key, { state: 'done', result: summary, worker: me }));
      log(`${label} done in ${((Date.now() - t0) / 1000).toFixed(1)} s${end.changed ? '' : ' (another attempt had already recorded its result; that one is kept)'}`);
      return end.job.result as JobSummary;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const final = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      log(`${label} attempt ${attempt} failed: ${message}${final ? '' : '; will be retried'}`);
      await storeWrite(`the failure of ${label}`, () =>
        store.updateBatchJob(batchId, key, final ? { state: 'failed', error: message } : { state: 'queued', error: `attempt ${attempt}: ${message}` }),
      ).catch((e: unknown) => log(`could not record the failure of ${label}: ${e instanceof Error ? e.message : String(e)}`));
      throw err;
    }
  }

  const connection = openRedis(opts.redis, (_state, detail) => log(detail));
  const worker = new Worker<BatchJobData, JobSummary>(QUEUE_NAME, processJob, {
    connection,
    concurrency: opts.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // a job may lose two workers before it is given up on
    maxStalledCount: 2,
  });
  // Errors of the worker's own Redis traffic: the connection's listener already said Redis is down.
  worker.on('error', (err) => {
    if (!/ECONNREFUSED|ECONNRESET|Connection is closed|ETIMEDOUT|EPIPE/.test(err.message)) log(`worker: ${err.message}`);
  });
  // A job BullMQ gives up on without our processor failing it (stalled too often): mark it failed.
  worker.on('failed', (job, err) => {
    if (!job || !/stalled/i.test(err.message)) return;
    store.updateBatchJob(job.data.batchId, job.data.key, { state: 'failed', error: err.message }).catch(() => {});
  });
  await worker.waitUntilReady();
  log(`worker ${me} taking ${opts.concurrency ?? 1} job(s) at a time from ${opts.redis.shown} (lock ${lockMs / 1000} s)`);

  return {
    id: me,
    async close(force = false) {
      if (force) await Promise.all([...threads].map((t) => t.terminate()));
      await worker.close(force);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
