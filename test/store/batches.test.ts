/**
 * Batches and their jobs, against every backend: the life cycle of a job by hand, the one-result
 * rule under racing finishers (two store instances, as two workers on two machines), counts and
 * progress against a tally made here, and refusals of bad input with nothing written.
 */
import { describe, expect, test } from 'vitest';
import { NotFoundError, StoreInputError, type BatchJobState } from '../../src/store/store.js';
import { forEachBackend, rejection } from './backends.js';

const jobs = (n: number) => Array.from({ length: n }, (_, i) => ({ key: String(i + 1), region: `regions/区${i + 1}.quarter` }));

forEachBackend((backend) => {
  describe('batches', () => {
    test('a new batch has every job queued, in list order, and its params and actor', async () => {
      const { store } = await backend.fresh({ memory: true });
      const b = await store.createBatch({ kind: 'assess', params: { profile: 'xuhui', population: null }, jobs: jobs(3), actor: '规划师' });
      expect(b.counts).toEqual({ queued: 3, running: 0, done: 0, failed: 0 });
      expect(b.progress).toBe(0);
      const got = await store.getBatch(b.id);
      expect(got.kind).toBe('assess');
      expect(got.params).toEqual({ profile: 'xuhui', population: null });
      expect(got.actor).toBe('规划师');
      expect(got.jobs.map((j) => [j.key, j.region, j.state, j.attempts, j.result])).toEqual([
        ['1', 'regions/区1.quarter', 'queued', 0, null],
        ['2', 'regions/区2.quarter', 'queued', 0, null],
        ['3', 'regions/区3.quarter', 'queued', 0, null],
      ]);
    });

    test('running → progress → done records the result once; a later done or failed changes nothing', async () => {
      const { store } = await backend.fresh({ memory: true });
      const b = await store.createBatch({ kind: 'assess', params: {}, jobs: jobs(2) });
      const start = await store.updateBatchJob(b.id, '1', { state: 'running', newAttempt: true, worker: 'host-a:101' });
      expect(start.changed).toBe(true);
      expect([start.job.state, start.job.attempts, start.job.worker, start.job.progress]).toEqual(['running', 1, 'host-a:101', 0]);
      expect(start.job.startedAt).not.toBeNull();
      await store.updateBatchJob(b.id, '1', { state: 'running', progress: 0.5 });
      expect((await store.getBatch(b.id)).progress).toBeCloseTo(0.25, 12); // (0.5 + 0) / 2
      const done = await store.updateBatchJob(b.id, '1', { state: 'done', result: { residents: 1200 }, worker: 'host-a:101' });
      expect([done.changed, done.job.state, done.job.progress, done.job.result]).toEqual([true, 'done', 1, { residents: 1200 }]);
      expect(done.job.finishedAt).not.toBeNull();
      // a second worker finishing the same job (a retry after the first seemed dead) is refused quietly
      const again = await store.updateBatchJob(b.id, '1', { state: 'done', result: { residents: 9999 }, worker: 'host-b:202' });
      expect([again.changed, again.job.result, again.job.worker]).toEqual([false, { residents: 1200 }, 'host-a:101']);
      const failed = await store.updateBatchJob(b.id, '1', { state: 'failed', error: 'late failure' });
      expect([failed.changed, failed.job.state, failed.job.error]).toEqual([false, 'done', null]);
      const restart = await store.updateBatchJob(b.id, '1', { state: 'running', newAttempt: true });
      expect([restart.changed, restart.job.attempts]).toEqual([false, 1]);
    });

    test('a retried attempt counts, clears the previous error and starts from 0', async () => {
      const { store } = await backend.fresh({ memory: true });
      const b = await store.createBatch({ kind: 'plan', params: {}, jobs: jobs(1) });
      await store.updateBatchJob(b.id, '1', { state: 'running', newAttempt: true, worker: 'a:1' });
      await store.updateBatchJob(b.id, '1', { state: 'running', progress: 0.7 });
      await store.updateBatchJob(b.id, '1', { state: 'queued', error: 'attempt 1: worker stopped' });
      const second = await store.updateBatchJob(b.id, '1', { state: 'running', newAttempt: true, worker: 'b:2' });
      expect([second.job.attempts, second.job.error, second.job.progress, second.job.worker]).toEqual([2, null, 0, 'b:2']);
      const failed = await store.updateBatchJob(b.id, '1', { state: 'failed', error: 'region file changed on disk' });
      expect([failed.changed, failed.job.state, failed.job.error]).toEqual([true, 'failed', 'region file changed on disk']);
      expect(failed.job.finishedAt).not.toBeNull();
    });

    test('racing finishers on two store instances: exactly one result per job, and it is the one that says changed', async () => {
      const fresh = await backend.fresh();
      const other = await fresh.reopen();
      const n = 25;
      const b = await fresh.store.createBatch({ kind: 'assess', params: {}, jobs: jobs(n) });
      const winners = new Map<string, string>();
      await Promise.all(
        jobs(n).flatMap((j) =>
          (['A', 'B'] as const).map(async (who) => {
            const s = who === 'A' ? fresh.store : other;
            const r = await s.updateBatchJob(b.id, j.key, { state: 'done', result: { by: who }, worker: who });
            if (r.changed) {
              expect(winners.has(j.key), `job ${j.key} recorded twice`).toBe(false);
              winners.set(j.key, who);
            }
          }),
        ),
      );
      expect(winners.size).toBe(n);
      const got = await other.getBatch(b.id);
      for (const j of got.jobs) expect(j.result).toEqual({ by: winners.get(j.key) });
      expect(got.counts.done).toBe(n);
      await other.close();
    });

    test('counts and progress per batch match a tally; list is newest first', async () => {
      const { store } = await backend.fresh({ memory: true });
      const first = await store.createBatch({ kind: 'import', params: {}, jobs: jobs(2) });
      const second = await store.createBatch({ kind: 'assess', params: {}, jobs: jobs(5) });
      const plan: [string, BatchJobState, number][] = [
        ['1', 'running', 0.2],
        ['2', 'done', 1],
        ['3', 'failed', 0.4],
        ['4', 'running', 0.9],
      ];
      for (const [key, state, progress] of plan) {
        await store.updateBatchJob(second.id, key, { state: 'running', newAttempt: true });
        if (state === 'done') await store.updateBatchJob(second.id, key, { state, result: {} });
        else if (state === 'failed') await store.updateBatchJob(second.id, key, { state, progress, error: 'x' });
        else await store.updateBatchJob(second.id, key, { state, progress });
      }
      const list = await store.listBatches();
      expect(list.map((b) => b.id)).toEqual([second.id, first.id]);
      expect(list[0].counts).toEqual({ queued: 1, running: 2, done: 1, failed: 1 });
      expect(list[0].progress).toBeCloseTo((0.2 + 1 + 0.4 + 0.9 + 0) / 5, 12);
      expect(list[1].counts).toEqual({ queued: 2, running: 0, done: 0, failed: 0 });
      expect((await store.listBatches({ limit: 1 })).map((b) => b.id)).toEqual([second.id]);
    });

    test('bad input is refused naming the field, and nothing is written', async () => {
      const { store, raw } = await backend.fresh();
      const b = await store.createBatch({ kind: 'assess', params: {}, jobs: jobs(1) });
      const before = await raw.snapshot();
      const refusals: [Promise<unknown>, string][] = [
        [store.createBatch({ kind: 'assess', params: {}, jobs: [] }), 'jobs'],
        [store.createBatch({ kind: 'assess', params: {}, jobs: [{ key: '1', region: 'a' }, { key: '1', region: 'b' }] }), 'jobs[1].key'],
        [store.createBatch({ kind: 'sing' as 'assess', params: {}, jobs: jobs(1) }), 'kind'],
        [store.createBatch({ kind: 'assess', params: {}, jobs: [{ key: '', region: 'a' }] }), 'jobs[0].key'],
        [store.createBatch({ kind: 'assess', params: {}, jobs: [{ key: 'k', region: 'a\u0000b' }] }), 'jobs[0].region'],
        [store.createBatch({ kind: 'assess', params: {}, jobs: Array.from({ length: 10_001 }, (_, i) => ({ key: String(i), region: 'r' })) }), 'jobs'],
        [store.updateBatchJob(b.id, '1', { state: 'done' }), 'result'],
        [store.updateBatchJob(b.id, '1', { state: 'running', result: {} }), 'result'],
        [store.updateBatchJob(b.id, '1', { state: 'running', progress: 1.5 }), 'progress'],
        [store.updateBatchJob(b.id, '1', { state: 'queued', newAttempt: true }), 'newAttempt'],
        [store.updateBatchJob(b.id, '1', { state: 'paused' as 'queued' }), 'state'],
        [store.updateBatchJob(-1, '1', { state: 'queued' }), 'batchId'],
      ];
      for (const [p, field] of refusals) {
        const err = await rejection(p);
        expect(err, field).toBeInstanceOf(StoreInputError);
        expect((err as StoreInputError).field).toBe(field);
      }
      expect(await rejection(store.updateBatchJob(b.id, 'no such', { state: 'queued' }))).toBeInstanceOf(NotFoundError);
      expect(await rejection(store.getBatch(b.id + 100))).toBeInstanceOf(NotFoundError);
      expect(await raw.snapshot()).toEqual(before);
    });
  });
});
