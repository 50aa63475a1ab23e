/**
 * The queue of batch jobs in Redis (BullMQ): one queue for every kind; a job's id is derived from
 * its batch and key, so submitting a job twice (a resumed batch) adds nothing.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BatchKind } from '../store/store.js';
import type { JobParams } from './job-kinds.js';

export const QUEUE_NAME = 'quarter-batch';

/** What a queued job carries: where its batch and row are in the store, and what to do. */
export interface BatchJobData {
  batchId: number;
  key: string;
  kind: BatchKind;
  region: string;
  params: JobParams;
}

/** BullMQ refuses ":" in custom ids; keys are line numbers, so "b12-7" is unique and readable. */
export const queueJobId = (batchId: number, key: string): string => `b${batchId}-${key}`;

/** Attempts per job; a worker killed mid-job costs one (the stalled job is retried elsewhere). */
export const JOB_ATTEMPTS = 3;

export const JOB_OPTIONS: JobsOptions = {
  attempts: JOB_ATTEMPTS,
  backoff: { type: 'exponential', delay: 2000 },
  // the store keeps results; Redis only needs recent history for inspection
  removeOnComplete: { age: 7 * 86400, count: 10_000 },
  removeOnFail: { age: 30 * 86400 },
};

export function openQueue(connection: Redis): Queue<BatchJobData> {
  return new Queue<BatchJobData>(QUEUE_NAME, { connection });
}

/** Adds the jobs (skipping those already in the queue under the same id); returns how many were given. */
export async function enqueueJobs(queue: Queue<BatchJobData>, jobs: readonly BatchJobData[]): Promise<number> {
  const CHUNK = 500;
  for (let i = 0; i < jobs.length; i += CHUNK) {
    await queue.addBulk(jobs.slice(i, i + CHUNK).map((data) => ({ name: data.kind, data, opts: { ...JOB_OPTIONS, jobId: queueJobId(data.batchId, data.key) } })));
  }
  return jobs.length;
}
