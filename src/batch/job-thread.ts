/**
 * Worker-thread entry of one batch job: runs job-kinds.ts runJob on workerData and posts
 * progress, then the summary or the error (with whether retrying could help). The thread exists
 * so the worker's own event loop stays free: BullMQ renews the job's lock from it, and a job
 * whose lock is not renewed is taken to be dead and handed to another worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MomentError } from '../assess/opening-hours.js';
import { StandardsError } from '../assess/standards.js';
import { OsmInputError } from '../ingest/osm-source.js';
import { PlanInputError } from '../plan/instance.js';
import { RegionFileError } from '../region/region-file.js';
import { TaxonomyError } from '../taxonomy/formats.js';
import type { BatchKind } from '../store/store.js';
import { runJob, type JobParams } from './job-kinds.js';

export interface JobThreadInput {
  kind: BatchKind;
  region: string;
  params: JobParams;
}
export type JobThreadMessage =
  | { type: 'progress'; share: number; phase: string }
  | { type: 'done'; summary: unknown }
  | { type: 'error'; message: string; input: boolean };

const INPUT_ERRORS = [RegionFileError, OsmInputError, StandardsError, TaxonomyError, PlanInputError, MomentError];
const INPUT_CODES = new Set(['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES']);

function isInputError(err: unknown): boolean {
  return INPUT_ERRORS.some((E) => err instanceof E) || INPUT_CODES.has(String((err as NodeJS.ErrnoException)?.code));
}

const port = parentPort;
if (port) {
  const input = workerData as JobThreadInput;
  const send = (m: JobThreadMessage): void => port.postMessage(m);
  let last = 0;
  runJob(input.kind, input.region, input.params, (share, phase) => {
    // at most ten messages a second: progress is for people
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    send({ type: 'progress', share: Math.max(0, Math.min(1, share)), phase });
  })
    .then((summary) => send({ type: 'done', summary }))
    .catch((err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err), input: isInputError(err) }));
}
