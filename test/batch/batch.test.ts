/**
 * Distributed batch runs, end to end with the real pieces: the built `quarter batch` and
 * `quarter worker` processes, a throwaway redis-server (redis-server.ts) and a throwaway
 * PostgreSQL + PostGIS cluster as the shared store (test/store/pg-server.ts).
 *
 * - results equal assessing each region directly in this process (an independent path: no queue,
 *   no thread, no store);
 * - kill -9 of a worker mid-job: the other worker retries the job after the lock expires, and the
 *   store holds exactly one result for it;
 * - a job already done in the store is answered from it, not run again;
 * - Redis stopped and started during a run, PostgreSQL stopped and started during a run: the
 *   worker says so, stays up, and the batch completes with one result per job;
 * - a corrupted region file fails its job at once (no retries), the rest complete;
 * - bad lists, flags and addresses: clear errors, exit codes, nothing submitted.
 * Each test uses its own Redis database number and its own PostgreSQL database, so their queues
 * and results never meet.
 */
import { Queue } from 'bullmq';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { assess } from '../../src/assess/assess.js';
import { importRegion } from '../../src/region/import-region.js';
import { readRegion, writeRegion } from '../../src/region/region-file.js';
import { openPgStore } from '../../src/store/pg-store.js';
import type { BatchJobRecord, QuarterStore } from '../../src/store/store.js';
import { EXIT, FIXTURES, KREMS_PBF, parseCsv } from '../cli/helpers.js';
import { pgUnavailableReason, startPgTestServer, type PgTestServer } from '../store/pg-server.js';
import { redisUnavailableReason, startRedisTestServer, type RedisTestServer } from './redis-server.js';

const CLI = inject('quarterCli');
const unavailable = redisUnavailableReason() ?? pgUnavailableReason() ?? (process.env.QUARTER_TEST_PG_URL ? 'an external QUARTER_TEST_PG_URL server cannot be stopped by the test' : null);

if (unavailable !== null && process.env.CI && !process.env.QUARTER_TEST_PG_URL) {
  test('Redis and PostgreSQL are available on CI', () => {
    throw new Error(`the batch tests cannot run on this CI machine: ${unavailable}`);
  });
}

interface Proc {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

const tmp = mkdtempSync(join(tmpdir(), 'quarter-batch-'));
const procs: Proc[] = [];

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, QUARTER_DEBUG: '' } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const p = { child, log: () => out, exited };
  procs.push(p);
  return p;
}

async function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const p = start(args);
  const code = await p.exited;
  return { code, out: p.log() };
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A job's summary without its timing (which differs between runs of the same region). */
const stable = (j: BatchJobRecord): unknown => {
  const { seconds: _seconds, ...rest } = j.result as Record<string, unknown>;
  return rest;
};

describe.skipIf(unavailable !== null)(`batch runs over Redis with workers${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let redis: RedisTestServer;
  let pgServer: PgTestServer;
  const stores: QuarterStore[] = [];
  const regions: string[] = [];
  let redisDb = 0;
  let expected: { residences: number; population: number; completeShare: number; meanCompleteness: number };

  beforeAll(async () => {
    [redis, pgServer] = await Promise.all([startRedisTestServer(), startPgTestServer()]);
    const region = await importRegion(KREMS_PBF, { name: 'krems' });
    const base = join(tmp, 'krems.quarter');
    writeRegion(base, region);
    for (const name of ['北区', 'south', 'east', 'west']) {
      const f = join(tmp, `${name}.quarter`);
      copyFileSync(base, f);
      regions.push(f);
    }
    // the reference: the assessment run directly, in this process
    const res = assess(readRegion(base), { profile: 'xuhui', h3Resolutions: [] });
    expected = {
      residences: res.headline.residences,
      population: Math.round(res.headline.population),
      completeShare: Math.round(res.headline.completeCircleShare * 1e4) / 1e4,
      meanCompleteness: Math.round(res.headline.meanCompleteness * 1e4) / 1e4,
    };
  }, 240_000);

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(stores.map((s) => s.close().catch(() => {})));
    await Promise.all([redis?.stop(), pgServer?.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  /** A fresh store database and Redis database number for one test. */
  async function fresh(): Promise<{ db: string; redisUrl: string; store: QuarterStore }> {
    const db = await pgServer.createDatabase();
    const store = await openPgStore(db);
    stores.push(store);
    return { db, redisUrl: `${redis.url}/${++redisDb}`, store };
  }

  function listOf(files: readonly string[], name = `list-${redisDb}.txt`): string {
    const f = join(tmp, name);
    writeFileSync(f, `# regions of this test\n${files.join('\n')}\n`);
    return f;
  }

  async function startWorker(db: string, redisUrl: string, extra: string[] = []): Promise<Proc & { id: string }> {
    const w = start(['worker', '--db', db, '--redis', redisUrl, '--lock-seconds', '2', ...extra]);
    const line = await until('the worker to start', () => /worker (\S+:\d+) taking/.exec(w.log()));
    return { ...w, id: line[1] };
  }

  async function redisCounts(redisUrl: string): Promise<Record<string, number>> {
    const u = new URL(redisUrl);
    const q = new Queue('quarter-batch', { connection: { host: u.hostname, port: Number(u.port), db: Number(u.pathname.slice(1)), maxRetriesPerRequest: null } });
    try {
      return await q.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    } finally {
      await q.close();
    }
  }

  test('a batch over four regions: one result each, equal to assessing the region directly; summary as CSV', async () => {
    const { db, redisUrl, store } = await fresh();
    await startWorker(db, redisUrl);
    const csv = join(tmp, 'summary.csv');
    const r = await run(['batch', 'assess', listOf(regions), '--db', db, '--redis', redisUrl, '--profile', 'xuhui', '-o', csv]);
    expect(r.code, r.out).toBe(EXIT.ok);
    const [batch] = await store.listBatches();
    const got = await store.getBatch(batch.id);
    expect(got.counts).toEqual({ queued: 0, running: 0, done: 4, failed: 0 });
    for (const j of got.jobs) {
      const s = j.result as typeof expected;
      expect({ residences: s.residences, population: s.population, completeShare: s.completeShare, meanCompleteness: s.meanCompleteness }).toEqual(expected);
      expect(j.attempts).toBe(1);
    }
    const text = readFileSync(csv, 'utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    const rows = parseCsv(text.slice(1));
    expect(rows[0].slice(0, 3)).toEqual(['行 line', '文件 file', '状态 state']);
    expect(rows.slice(1).map((row) => [row[1], row[4]])).toEqual(['北区', 'south', 'east', 'west'].map((n) => [`${n}.quarter`, String(expected.residences)]));
    expect(await redisCounts(redisUrl)).toMatchObject({ completed: 4, failed: 0, waiting: 0, active: 0 });
  }, 180_000);

  test('kill -9 of a worker mid-job: the other worker retries it and the store holds exactly one result', async () => {
    const { db, redisUrl, store } = await fresh();
    const victim = await startWorker(db, redisUrl);
    const r = await run(['batch', 'assess', listOf(regions.slice(0, 3)), '--db', db, '--redis', redisUrl, '--no-wait']);
    expect(r.code, r.out).toBe(EXIT.ok);
    const id = Number(r.out.trim().split('\n').pop());
    // the moment the victim has started a job (its row says running, by it), kill it
    const job = await until('the victim to start a job', async () => (await store.getBatch(id)).jobs.find((j) => j.state === 'running' && j.worker === victim.id));
    victim.child.kill('SIGKILL');
    await victim.exited;
    const atKill = (await store.getBatch(id)).jobs.find((j) => j.key === job.key)!;
    expect(atKill.state, 'the job must still be unfinished when its worker dies').toBe('running');
    const survivor = await startWorker(db, redisUrl);
    const done = await until('every job to finish', async () => {
      const b = await store.getBatch(id);
      return b.counts.queued + b.counts.running === 0 ? b : null;
    }, 120_000);
    expect(done.counts).toEqual({ queued: 0, running: 0, done: 3, failed: 0 });
    const retried = done.jobs.find((j) => j.key === job.key)!;
    expect(retried.attempts).toBe(2);
    expect(retried.worker).toBe(survivor.id);
    for (const j of done.jobs) expect(stable(j)).toEqual(stable(done.jobs[0]));
    expect((retried.result as typeof expected).population).toBe(expected.population);
    expect(await redisCounts(redisUrl)).toMatchObject({ completed: 3, failed: 0, waiting: 0, active: 0 });
  }, 180_000);

  test('a job already done in the store is answered from it and not run again', async () => {
    const { db, redisUrl, store } = await fresh();
    const batch = await store.createBatch({ kind: 'assess', params: { profile: 'xuhui', population: null, at: null }, jobs: [{ key: '1', region: regions[0] }, { key: '2', region: regions[1] }] });
    const recorded = { name: 'recorded before', residences: 1 };
    await store.updateBatchJob(batch.id, '1', { state: 'running', newAttempt: true, worker: 'gone:1' });
    await store.updateBatchJob(batch.id, '1', { state: 'done', result: recorded, worker: 'gone:1' });
    const w = await startWorker(db, redisUrl);
    const r = await run(['batch', 'resume', String(batch.id), '--db', db, '--redis', redisUrl]);
    expect(r.code, r.out).toBe(EXIT.ok);
    expect(r.out).toMatch(/1 job\(s\) not done queued again/);
    const done = await until('the open job to finish', async () => ((await store.getBatch(batch.id)).counts.done === 2 ? store.getBatch(batch.id) : null));
    expect(done.jobs[0].result).toEqual(recorded);
    expect(done.jobs[0].attempts).toBe(1);
    expect((done.jobs[1].result as typeof expected).population).toBe(expected.population);
    expect(w.log()).not.toMatch(/b\d+-1 .*started/);
  }, 120_000);

  test('Redis stopped during a run: the worker says so, stays up, and the batch completes once Redis is back', async () => {
    const { db, redisUrl, store } = await fresh();
    const w = await startWorker(db, redisUrl);
    const r = await run(['batch', 'assess', listOf(regions), '--db', db, '--redis', redisUrl, '--no-wait']);
    const id = Number(r.out.trim().split('\n').pop());
    await until('a job to start', async () => (await store.getBatch(id)).counts.running > 0);
    await redis.down();
    await until('the worker to notice', () => /Redis at redis:\/\/127\.0\.0\.1:\d+\/\d+ is unreachable/.test(w.log()), 30_000);
    await new Promise((res) => setTimeout(res, 3000));
    expect(w.child.exitCode, w.log()).toBeNull();
    await redis.up();
    const done = await until('every job to finish', async () => {
      const b = await store.getBatch(id);
      return b.counts.queued + b.counts.running === 0 ? b : null;
    }, 120_000);
    expect(done.counts).toEqual({ queued: 0, running: 0, done: 4, failed: 0 });
    for (const j of done.jobs) expect((j.result as typeof expected).population).toBe(expected.population);
    expect(w.log()).toMatch(/is back/);
    expect(w.log()).not.toMatch(/internal error|Unhandled|TypeError/);
  }, 180_000);

  test('PostgreSQL stopped during a run: writes wait for it, and every job has its one result once it is back', async () => {
    const { db, redisUrl, store } = await fresh();
    const w = await startWorker(db, redisUrl);
    const r = await run(['batch', 'assess', listOf(regions.slice(0, 3)), '--db', db, '--redis', redisUrl, '--no-wait']);
    const id = Number(r.out.trim().split('\n').pop());
    await until('a job to start', async () => (await store.getBatch(id)).counts.running > 0);
    pgServer.outage!.down();
    await until('the worker to notice', () => /store unavailable/.test(w.log()), 60_000);
    expect(w.child.exitCode, w.log()).toBeNull();
    pgServer.outage!.up();
    const done = await until('every job to finish', async () => {
      try {
        const b = await store.getBatch(id);
        return b.counts.queued + b.counts.running === 0 ? b : null;
      } catch {
        return null; // the test's own pool reconnecting
      }
    }, 120_000);
    expect(done.counts).toEqual({ queued: 0, running: 0, done: 3, failed: 0 });
    for (const j of done.jobs) expect((j.result as typeof expected).population).toBe(expected.population);
    expect(w.log()).toMatch(/store is back/);
  }, 180_000);

  test('a corrupted region file fails its job at once, named, without retries; the others complete; exit 4', async () => {
    const { db, redisUrl, store } = await fresh();
    const bad = join(tmp, 'corrupt.quarter');
    const bytes = readFileSync(regions[0]);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(bad, bytes);
    await startWorker(db, redisUrl);
    const r = await run(['batch', 'assess', listOf([regions[0], bad]), '--db', db, '--redis', redisUrl]);
    expect(r.code, r.out).toBe(EXIT.noResult);
    expect(r.out).toMatch(/1 of 2 jobs of batch \d+ failed/);
    const [b] = await store.listBatches();
    const got = await store.getBatch(b.id);
    const failed = got.jobs.find((j) => j.region === bad)!;
    expect(failed.state).toBe('failed');
    expect(failed.attempts).toBe(1);
    expect(failed.error).toMatch(/checksum mismatch/);
    expect(got.jobs.find((j) => j.region === regions[0])!.state).toBe('done');
  }, 120_000);

  test('import then plan as batches: region files equal a direct import; plans equal `quarter plan` on the same file', async () => {
    const { db, redisUrl, store } = await fresh();
    await startWorker(db, redisUrl, ['--concurrency', '2']);
    const extracts = [join(FIXTURES, 'krems-centre.osm.pbf'), join(FIXTURES, 'krems-dangling.osm')];
    const outDir = join(tmp, 'imported');
    const imp = await run(['batch', 'import', listOf(extracts, 'extracts.txt'), '--out-dir', outDir, '--db', db, '--redis', redisUrl, '--json']);
    expect(imp.code, imp.out).toBe(EXIT.ok);
    const [ib] = await store.listBatches();
    const imported = await store.getBatch(ib.id);
    expect(imported.counts.done).toBe(2);
    for (const [i, j] of imported.jobs.entries()) {
      const direct = await importRegion(extracts[i], { name: 'direct' });
      const s = j.result as { output: string; nodes: number; edges: number; facilities: number; residences: number };
      expect([s.nodes, s.edges, s.facilities, s.residences]).toEqual([direct.graph.nodeCount, direct.graph.edgeCount, direct.facilities.length, direct.residences.count]);
      const written = readRegion(s.output);
      expect(written.graph.nodeCount).toBe(direct.graph.nodeCount);
    }
    const outputs = imported.jobs.map((j) => (j.result as { output: string }).output);
    expect(new Set(outputs).size).toBe(2);

    const plan = await run(['batch', 'plan', listOf([outputs[0]], 'plans.txt'), '--format', 'pharmacy', '--sites', '2', '--minutes', '5', '--db', db, '--redis', redisUrl]);
    expect(plan.code, plan.out).toBe(EXIT.ok);
    const [pb] = await store.listBatches();
    const planned = (await store.getBatch(pb.id)).jobs[0].result as { sites: number; before: number; after: number; residentsGaining: number };
    const direct = await run(['plan', 'mclp', '-r', outputs[0], '--format', 'pharmacy', '--sites', '2', '--minutes', '5', '--solver', 'heuristic', '--json']);
    expect(direct.code, direct.out).toBe(EXIT.ok);
    const report = JSON.parse(direct.out.slice(direct.out.indexOf('{'), direct.out.lastIndexOf('}') + 1)) as { sites: unknown[]; layers: { before: number; after: number; residentsGaining: number }[] };
    expect(planned.sites).toBe(report.sites.length);
    expect(planned.before).toBeCloseTo(report.layers[0].before, 4);
    expect(planned.after).toBeCloseTo(report.layers[0].after, 4);
    expect(planned.residentsGaining).toBe(Math.round(report.layers[0].residentsGaining));
    expect(planned.after).toBeGreaterThanOrEqual(planned.before);
  }, 240_000);

  test('bad lists, flags and addresses: clear errors and nothing submitted', async () => {
    const { db, redisUrl, store } = await fresh();
    const latin1 = join(tmp, 'latin1.txt');
    writeFileSync(latin1, Buffer.from([0x72, 0xe9, 0x67, 0x69, 0x6f, 0x6e, 0x0a]));
    const notRegion = join(tmp, 'notes.quarter');
    writeFileSync(notRegion, 'just some text\n');
    const cases: [string[], number, RegExp][] = [
      [['batch', 'assess', join(tmp, 'missing.txt')], EXIT.input, /missing\.txt: no such file/],
      [['batch', 'assess', listOf([], 'empty.txt')], EXIT.input, /lists no files/],
      [['batch', 'assess', listOf([regions[0], join(tmp, 'nowhere.quarter')], 'gap.txt')], EXIT.input, /1 of 2 listed files cannot be used; nothing was submitted/],
      [['batch', 'assess', latin1], EXIT.input, /is not UTF-8 text/],
      [['batch', 'assess', listOf([notRegion], 'notregion.txt')], EXIT.input, /not a Quarter region file/],
      [['batch', 'assess', listOf([regions[0], regions[0]], 'twice.txt')], EXIT.input, /listed already on line 2/],
      [['batch', 'assess', listOf([regions[0]], 'ok.txt'), '--redis', 'http://127.0.0.1:1'], EXIT.usage, /not a Redis URL/],
      [['batch', 'assess', listOf([regions[0]], 'ok.txt'), '--redis', 'redis://127.0.0.1:1'], EXIT.network, /did not answer.*nothing was submitted/],
      [['batch', 'assess', listOf([regions[0]], 'ok.txt'), '-o', join(tmp, 'x.pdf')], EXIT.usage, /extension must be one of/],
      [['batch', 'plan', listOf([regions[0]], 'ok.txt'), '--sites', '3'], EXIT.usage, /--format: required/],
      [['batch', 'plan', listOf([regions[0]], 'ok.txt'), '--format', 'pharmacy', '--sites', '2.5'], EXIT.usage, /not a whole number/],
      [['batch', 'import', listOf([join(FIXTURES, 'krems-centre.osm.pbf'), join(FIXTURES, 'krems-centre.osm')], 'samename.txt'), '--out-dir', tmp], EXIT.input, /would overwrite another's region file; nothing was submitted/],
      [['batch', 'import', listOf([join(FIXTURES, 'krems-centre.osm')], 'noout.txt')], EXIT.usage, /--out-dir: required/],
      [['worker', '--concurrency', '0'], EXIT.usage, /--concurrency/],
      [['worker', '--lock-seconds', 'abc'], EXIT.usage, /--lock-seconds/],
      [['batch', 'show', '999'], EXIT.noResult, /no batch 999/],
      [['batch', 'show', 'abc'], EXIT.usage, /<id>/],
    ];
    for (const [args, code, message] of cases) {
      const withDb = args[0] === 'worker' ? args : [...args, '--db', db, ...(args.includes('--redis') || args[1] === 'show' ? [] : ['--redis', redisUrl])];
      const r = await run(withDb);
      expect(r.code, `${args.join(' ')}\n${r.out}`).toBe(code);
      expect(r.out, args.join(' ')).toMatch(message);
      expect(r.out).not.toMatch(/internal error|at .*\.js:\d+/);
    }
    expect(await store.listBatches()).toEqual([]);
    // the line at fault is named
    const gap = await run(['batch', 'assess', join(tmp, 'gap.txt'), '--db', db, '--redis', redisUrl]);
    expect(gap.out).toMatch(/gap\.txt:3: .*nowhere\.quarter: no such file/);
  }, 180_000);
});
