/**
 * `quarter batch assess|plan|import <list.txt>`: one job per listed file, queued in Redis for
 * `quarter worker`s on any number of machines; results land in the shared store (--db). The
 * command waits (progress on stderr) and prints the summary table, or with --no-wait prints the
 * batch id for `quarter batch show <id>` later. `quarter batch resume <id>` queues again the jobs of
 * a batch that are not done (after Redis lost its data, say); jobs already queued are not doubled.
 *
 * `quarter worker`: takes jobs until stopped. Ctrl-C / SIGTERM once: finish the running jobs and
 * stop; twice: stop now (the jobs are retried by other workers).
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { regionNameOf, type AssessJobParams, type ImportJobParams, type JobParams, type PlanJobParams } from '../../batch/job-kinds.js';
import { enqueueJobs, openQueue, type BatchJobData } from '../../batch/queue.js';
import { openRedis, parseRedisUrl, pingRedis, RedisConfigError, DEFAULT_REDIS_URL, type RedisTarget } from '../../batch/redis.js';
import { readRegionList, RegionListError } from '../../batch/region-list.js';
import { summaryCsv, summaryTable, summaryXlsx } from '../../batch/summary.js';
import { startBatchWorker } from '../../batch/worker.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { openStore } from '../../store/open-store.js';
import { NotFoundError, StoreInputError, StoreOpenError, type BatchJobRecord, type BatchKind, type BatchRecord, type QuarterStore } from '../../store/store.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { printJson, writeOutput } from '../output.js';
import { parseNumber } from '../parse.js';
import { displayWidth, padDisplay } from '../text.js';
import { dbPath } from './scenario.js';

interface CommonFlags {
  db?: string;
  redis?: string;
  wait: boolean;
  out?: string;
  json?: boolean;
}
interface AssessFlags extends CommonFlags {
  profile: string;
  population?: string;
  at?: string;
}
interface PlanFlags extends CommonFlags {
  model: string;
  format?: string;
  sites?: string;
  minutes?: string;
  profile: string;
  spacing: string;
}
interface ImportFlags extends CommonFlags {
  outDir?: string;
}

const OUT_KINDS = ['.csv', '.xlsx', '.json'];
const PLAN_MODELS: readonly PlanJobParams['model'][] = ['mclp', 'lscp', 'pmedian'];
/** How often a waiting `quarter batch` reads the store. */
const POLL_MS = 1000;

const say = (s: string): void => void process.stderr.write(`${s}\n`);

function redisTarget(flag: string | undefined): RedisTarget {
  try {
    return parseRedisUrl(flag ?? process.env.QUARTER_REDIS ?? DEFAULT_REDIS_URL);
  } catch (e) {
    if (e instanceof RedisConfigError) throw usageError(e.message);
    throw e;
  }
}

async function openDb(flag: string | undefined): Promise<QuarterStore> {
  try {
    return await openStore(dbPath(flag), { passwordFile: process.env.QUARTER_DB_PASSWORD_FILE });
  } catch (e) {
    if (e instanceof StoreOpenError || e instanceof StoreInputError) throw new CliError(e.message, EXIT.input);
    throw e;
  }
}

function checkOut(out: string | undefined): void {
  if (out !== undefined && !OUT_KINDS.includes(extname(out).toLowerCase())) throw usageError(`--out ${out}: the extension must be one of ${OUT_KINDS.join(', ')}`);
}

function readList(file: string, kind: BatchKind): { line: number; path: string }[] {
  try {
    return readRegionList(file, kind === 'import' ? 'osm' : 'region');
  } catch (e) {
    if (e instanceof RegionListError) {
      // main prints the first line only: every problem goes to stderr here
      for (const p of e.problems) say(p);
      throw new CliError(e.message.split('\n')[0], EXIT.input);
    }
    throw e;
  }
}

/** Two extracts that would become the same <name>.quarter: refused before anything is submitted. */
function checkDistinctOutputs(listFile: string, files: readonly { line: number; path: string }[]): void {
  const byName = new Map<string, number>();
  const clashes: string[] = [];
  for (const f of files) {
    const name = regionNameOf(f.path);
    const first = byName.get(name);
    if (first === undefined) byName.set(name, f.line);
    else clashes.push(`${listFile}:${f.line}: would write ${name}.quarter like line ${first}; rename one extract`);
  }
  if (clashes.length === 0) return;
  for (const c of clashes) say(c);
  throw new CliError(`${clashes.length} extract(s) would overwrite another's region file; nothing was submitted`, EXIT.input);
}

const finished = (b: BatchRecord): boolean => b.counts.queued + b.counts.running === 0;
const total = (b: BatchRecord): number => b.counts.queued + b.counts.running + b.counts.done + b.counts.failed;

/** Polls the store until every job is done or failed; one line per finished job on stderr. */
async function waitFor(store: QuarterStore, id: number): Promise<BatchRecord & { jobs: BatchJobRecord[] }> {
  const seen = new Set<string>();
  let lastLine = 0;
  for (;;) {
    let batch;
    try {
      batch = await store.getBatch(id);
    } catch (e) {
      // a database restarting under a long batch is not the batch's failure: keep waiting
      if (Date.now() - lastLine > 10_000) say(`batch ${id}: ${(e as Error).message}; still waiting`), (lastLine = Date.now());
      await new Promise((r) => setTimeout(r, POLL_MS));
      continue;
    }
    const n = total(batch);
    for (const j of batch.jobs) {
      if ((j.state === 'done' || j.state === 'failed') && !seen.has(j.key)) {
        seen.add(j.key);
        say(`[${seen.size}/${n}] ${j.state === 'done' ? 'done  ' : 'FAILED'} line ${j.key} ${j.region}${j.attempts > 1 ? ` (${j.attempts} attempts)` : ''}${j.error && j.state === 'failed' ? `: ${j.error}` : ''}`);
      }
    }
    if (finished(batch)) return batch;
    if (Date.now() - lastLine > 10_000) {
      lastLine = Date.now();
      say(`batch ${id}: ${batch.counts.done} done, ${batch.counts.running} running, ${batch.counts.queued} queued, ${batch.counts.failed} failed — ${(batch.progress * 100).toFixed(0)} %`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function report(batch: BatchRecord & { jobs: BatchJobRecord[] }, flags: Pick<CommonFlags, 'out' | 'json'>): Promise<void> {
  const table = summaryTable(batch);
  if (flags.out) {
    const ext = extname(flags.out).toLowerCase();
    if (ext === '.json') writeOutput(flags.out, JSON.stringify(batch, null, 2));
    else if (ext === '.csv') writeOutput(flags.out, summaryCsv(table));
    else writeFileAtomic(flags.out, [await summaryXlsx(table, `batch ${batch.id}`)]);
  }
  if (flags.json) return printJson(batch);
  const cells = [table.headers, ...table.rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = table.headers.map((_, i) => Math.min(60, Math.max(...cells.map((r) => displayWidth(r[i] as string)))));
  const lines = cells.map((r) => r.map((c, i) => padDisplay((c as string).length > 60 ? `${(c as string).slice(0, 57)}…` : (c as string), widths[i])).join('  ').trimEnd());
  process.stdout.write(`batch ${batch.id} (${batch.kind}): ${batch.counts.done} done, ${batch.counts.failed} failed, ${batch.counts.running} running, ${batch.counts.queued} queued\n${lines.join('\n')}\n`);
}

/** Records the batch, then queues its jobs; a batch whose jobs could not be queued can be resumed. */
async function submit(kind: BatchKind, listFile: string, params: JobParams, flags: CommonFlags): Promise<void> {
  checkOut(flags.out);
  const target = redisTarget(flags.redis);
  const files = readList(listFile, kind);
  if (kind === 'import') checkDistinctOutputs(listFile, files);
  const redis = openRedis(target);
  try {
    try {
      await pingRedis(redis, target);
    } catch (e) {
      throw new CliError(`${(e as Error).message}; nothing was submitted`, EXIT.network);
    }
    const store = await openDb(flags.db);
    try {
      const batch = await store.createBatch({ kind, params, jobs: files.map((f) => ({ key: String(f.line), region: f.path })), actor: 'cli' });
      const queue = openQueue(redis);
      try {
        await enqueueJobs(queue, files.map((f): BatchJobData => ({ batchId: batch.id, key: String(f.line), kind, region: f.path, params })));
      } catch (e) {
        throw new CliError(`batch ${batch.id} is recorded but its jobs could not be queued (${(e as Error).message}); run \`quarter batch resume ${batch.id}\` when Redis is reachable`, EXIT.network);
      } finally {
        await queue.close();
      }
      say(`batch ${batch.id}: ${files.length} ${kind} job(s) queued on ${target.shown}${flags.wait ? ' — waiting for workers (Ctrl-C stops waiting, not the batch)' : ''}`);
      if (!flags.wait) {
        if (flags.json) printJson(batch);
        else process.stdout.write(`${batch.id}\n`);
        return;
      }
      const done = await waitFor(store, batch.id);
      await report(done, flags);
      if (done.counts.failed > 0) throw new CliError(`${done.counts.failed} of ${total(done)} jobs of batch ${batch.id} failed (see the table)`, EXIT.noResult);
    } finally {
      await store.close();
    }
  } finally {
    redis.disconnect();
  }
}

function positiveInt(flag: string, raw: string, max: number): number {
  const n = parseNumber(flag, raw, 1, max);
  if (!Number.isInteger(n)) throw usageError(`${flag}: ${raw} is not a whole number`);
  return n;
}

export function registerBatch(program: Command): void {
  const b = program.command('batch').description('assess, plan or import many regions as jobs for `quarter worker`s (Redis queue, results in the shared --db)');
  const common = (c: Command): Command =>
    c
      .option('--db <file|url>', 'shared database for the results (default $QUARTER_DB, else out/quarter.db)')
      .option('--redis <url>', `Redis of the job queue (default $QUARTER_REDIS, else ${DEFAULT_REDIS_URL})`)
      .option('--no-wait', 'queue the jobs, print the batch id and return')
      .option('-o, --out <file>', 'write the summary table: .csv, .xlsx or .json')
      .option('--json', 'print the batch with every job as JSON');

  common(b.command('assess').argument('<list>', 'text file: one region file per line (# comments)'))
    .option('--profile <id|file.json>', 'standards profile', 'xuhui')
    .option('--population <n>', 'known total population of EACH region, spread over its homes')
    .option('--at <moment>', 'only facilities open at this moment count ("Mo 07:00", ISO time)')
    .action(async (list: string, flags: AssessFlags) => {
      const params: AssessJobParams = {
        profile: flags.profile,
        population: flags.population === undefined ? null : parseNumber('--population', flags.population.replace(/[,_\s]/g, ''), 0, 2e9),
        at: flags.at ?? null,
      };
      await submit('assess', list, params, flags);
    });

  common(b.command('plan').argument('<list>', 'text file: one region file per line (# comments)'))
    .option('--model <m>', `model: ${PLAN_MODELS.join(', ')}`, 'mclp')
    .option('--format <ids>', 'format id(s) or a bundle (linlihui)')
    .option('--sites <p>', 'new sites per region (mclp, pmedian)')
    .option('--minutes <m>', 'walking-time threshold')
    .option('--profile <id|file.json>', 'standards profile', 'xuhui')
    .option('--spacing <metres>', 'network candidates: one per grid cell of this size', '100')
    .action(async (list: string, flags: PlanFlags) => {
      const model = flags.model as PlanJobParams['model'];
      if (!PLAN_MODELS.includes(model)) throw usageError(`--model: "${flags.model}" is not one of ${PLAN_MODELS.join(', ')}`);
      if (!flags.format) throw usageError('--format: required (a format id such as community_canteen, or linlihui)');
      if (model !== 'lscp' && flags.sites === undefined) throw usageError(`--sites: required for ${model}`);
      const params: PlanJobParams = {
        model,
        formats: flags.format.split(',').map((s) => s.trim()).filter(Boolean),
        sites: flags.sites === undefined ? null : positiveInt('--sites', flags.sites, 100_000),
        minutes: flags.minutes === undefined ? null : parseNumber('--minutes', flags.minutes, 0.5, 120),
        profile: flags.profile,
        spacing: parseNumber('--spacing', flags.spacing, 5, 10_000),
      };
      await submit('plan', list, params, flags);
    });

  common(b.command('import').argument('<list>', 'text file: one OSM extract (.osm.pbf, .osm, .osm.gz) per line'))
    .option('--out-dir <dir>', 'where the region files go (<name>.quarter each); must be visible to every worker')
    .action(async (list: string, flags: ImportFlags) => {
      if (!flags.outDir) throw usageError('--out-dir: required');
      const outDir = resolve(flags.outDir);
      if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw usageError(`--out-dir ${flags.outDir}: is not a directory`);
      const params: ImportJobParams = { outDir };
      await submit('import', list, params, flags);
    });

  b.command('show')
    .argument('<id>', 'batch id')
    .option('--db <file|url>', 'shared database (default $QUARTER_DB, else out/quarter.db)')
    .option('--wait', 'wait until every job is done or failed')
    .option('-o, --out <file>', 'write the summary table: .csv, .xlsx or .json')
    .option('--json', 'print the batch with every job as JSON')
    .action(async (idArg: string, flags: { db?: string; wait?: boolean; out?: string; json?: boolean }) => {
      const id = positiveInt('<id>', idArg, Number.MAX_SAFE_INTEGER);
      checkOut(flags.out);
      const store = await openDb(flags.db);
      try {
        const batch = flags.wait ? await waitFor(store, await store.getBatch(id).then((x) => x.id)) : await store.getBatch(id);
        await report(batch, flags);
      } catch (e) {
        if (e instanceof NotFoundError) throw new CliError(e.message, EXIT.noResult);
        throw e;
      } finally {
        await store.close();
      }
    });

  b.command('list')
    .option('--db <file|url>', 'shared database (default $QUARTER_DB, else out/quarter.db)')
    .option('--json', 'print as JSON')
    .action(async (flags: { db?: string; json?: boolean }) => {
      const store = await openDb(flags.db);
      try {
        const list = await store.listBatches();
        if (flags.json) return printJson(list);
        for (const x of list) {
          process.stdout.write(`${x.id}\t${x.kind}\t${x.createdAt}\t${x.counts.done}/${total(x)} done\t${x.counts.failed} failed\t${(x.progress * 100).toFixed(0)} %\n`);
        }
      } finally {
        await store.close();
      }
    });

  b.command('resume')
    .argument('<id>', 'batch id')
    .option('--db <file|url>', 'shared database (default $QUARTER_DB, else out/quarter.db)')
    .option('--redis <url>', `Redis of the job queue (default $QUARTER_REDIS, else ${DEFAULT_REDIS_URL})`)
    .action(async (idArg: string, flags: { db?: string; redis?: string }) => {
      const id = positiveInt('<id>', idArg, Number.MAX_SAFE_INTEGER);
      const target = redisTarget(flags.redis);
      const store = await openDb(flags.db);
      const redis = openRedis(target);
      try {
        await pingRedis(redis, target).catch((e: Error) => {
          throw new CliError(e.message, EXIT.network);
        });
        const batch = await store.getBatch(id).catch((e: unknown) => {
          throw e instanceof NotFoundError ? new CliError(e.message, EXIT.noResult) : e;
        });
        const open = batch.jobs.filter((j) => j.state !== 'done');
        const queue = openQueue(redis);
        try {
          await enqueueJobs(queue, open.map((j): BatchJobData => ({ batchId: id, key: j.key, kind: batch.kind, region: j.region, params: batch.params as JobParams })));
        } finally {
          await queue.close();
        }
        say(`batch ${id}: ${open.length} job(s) not done queued again (those still in the queue are not doubled)`);
      } finally {
        redis.disconnect();
        await store.close();
      }
    });
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('take batch jobs from the Redis queue and write results to the shared database, until stopped')
    .option('--db <file|url>', 'shared database (default $QUARTER_DB, else out/quarter.db)')
    .option('--redis <url>', `Redis of the job queue (default $QUARTER_REDIS, else ${DEFAULT_REDIS_URL})`)
    .option('--concurrency <n>', 'jobs at once, each in its own thread', '1')
    .option('--lock-seconds <s>', 'a job whose worker is silent this long is retried by another', '30')
    .action(async (flags: { db?: string; redis?: string; concurrency: string; lockSeconds: string }) => {
      const concurrency = positiveInt('--concurrency', flags.concurrency, 64);
      const lockSeconds = parseNumber('--lock-seconds', flags.lockSeconds, 1, 3600);
      const target = redisTarget(flags.redis);
      const store = await openDb(flags.db);
      const log = (line: string): void => say(`${new Date().toISOString()} ${line}`);
      const worker = await startBatchWorker({ redis: target, store, concurrency, lockSeconds, log });
      // The CLI's default Ctrl-C exits at once; a worker first lets its running jobs finish.
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
      await new Promise<void>((resolveStop) => {
        let stopping = false;
        const stop = (): void => {
          if (stopping) {
            log('stopping now; running jobs will be retried by other workers');
            void worker.close(true).finally(() => resolveStop());
            return;
          }
          stopping = true;
          log('finishing running jobs, then stopping (again to stop now)');
          void worker.close(false).finally(() => resolveStop());
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await store.close();
      log('worker stopped');
    });
}

