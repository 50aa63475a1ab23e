/**
 * Batch runs over HTTP (planner, read-only): what `quarter batch` submitted and `quarter worker`s
 * are doing, read from the shared store — so any API server shows every batch's progress, whichever
 * machine runs its jobs. Files are shown by name only (server paths stay on the server): the
 * list's files, an import's output and output folder, a profile given as a file.
 */
import type { FastifyInstance } from 'fastify';
import { basename } from 'node:path';
import { summaryCsv, summaryTable, summaryXlsx } from '../../batch/summary.js';
import type { BatchJobRecord, BatchRecord } from '../../store/store.js';
import type { StoreRouteContext } from '../context.js';
import { ID_PARAMS, SECURITY_READ, STORE_ERRORS } from '../schemas.js';
import { sendAttachment } from './exports.js';

const COUNTS = {
  type: 'object',
  properties: { queued: { type: 'integer' }, running: { type: 'integer' }, done: { type: 'integer' }, failed: { type: 'integer' } },
} as const;
const BATCH_PROPS = {
  id: { type: 'integer' },
  kind: { type: 'string', enum: ['assess', 'plan', 'import'] },
  params: {},
  createdAt: { type: 'string' },
  actor: { type: ['string', 'null'] },
  counts: COUNTS,
  progress: { type: 'number', description: 'mean progress of the jobs, 0–1' },
  finished: { type: 'boolean', description: 'no job queued or running' },
} as const;
const JOB_PROPS = {
  key: { type: 'string', description: 'the line of the list file' },
  file: { type: 'string' },
  state: { type: 'string', enum: ['queued', 'running', 'done', 'failed'] },
  progress: { type: 'number' },
  attempts: { type: 'integer' },
  worker: { type: ['string', 'null'] },
  error: { type: ['string', 'null'] },
  result: { description: "the job's summary row (when done)" },
  startedAt: { type: ['string', 'null'] },
  finishedAt: { type: ['string', 'null'] },
} as const;

/** A path as its last part; other values as they are. */
const nameOnly = (v: unknown): unknown => (typeof v === 'string' && /[\\/]/.test(v) ? basename(v) : v);
/** Top-level path-valued fields of params and results (outDir, a profile file, an import's output) by name. */
const withoutPaths = (o: unknown): unknown =>
  o !== null && typeof o === 'object' && !Array.isArray(o) ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, nameOnly(v)])) : o;

const batchView = (b: BatchRecord) => ({ ...b, params: withoutPaths(b.params), finished: b.counts.queued + b.counts.running === 0 });
const jobView = (j: BatchJobRecord) => ({
  key: j.key,
  file: basename(j.region),
  state: j.state,
  progress: j.progress,
  attempts: j.attempts,
  worker: j.worker,
  error: j.error,
  result: withoutPaths(j.result),
  startedAt: j.startedAt,
  finishedAt: j.finishedAt,
});

export function registerBatchRoutes(app: FastifyInstance, ctx: StoreRouteContext): void {
  const { auth } = ctx;
  app.get<{ Querystring: { limit?: number } }>(
    '/api/batches',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'batch runs over many regions (planner), newest first, with jobs per state and progress',
        tags: ['batches'],
        security: [...SECURITY_READ],
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } } },
        response: { 200: { type: 'array', items: { type: 'object', properties: BATCH_PROPS } }, ...STORE_ERRORS },
      },
    },
    async (req) => (await auth.needStore().listBatches({ limit: req.query.limit ?? 50 })).map(batchView),
  );

  app.get<{ Params: { id: number } }>(
    '/api/batches/:id',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'one batch (planner) with every job: state, progress, attempts, worker, error, and its summary when done',
        tags: ['batches'],
        security: [...SECURITY_READ],
        params: ID_PARAMS,
        response: { 200: { type: 'object', properties: { ...BATCH_PROPS, jobs: { type: 'array', items: { type: 'object', properties: JOB_PROPS } } } }, ...STORE_ERRORS },
      },
    },
    async (req) => {
      const b = await auth.needStore().getBatch(req.params.id);
      return { ...batchView(b), jobs: b.jobs.map(jobView) };
    },
  );

  for (const ext of ['csv', 'xlsx'] as const) {
    app.get<{ Params: { id: number } }>(
      `/api/batches/:id/summary.${ext}`,
      {
        onRequest: auth.require('planner'),
        schema: {
          summary: `the summary table of a batch (planner) as ${ext === 'csv' ? 'CSV (UTF-8 with BOM)' : 'an Excel workbook'}`,
          tags: ['batches'],
          security: [...SECURITY_READ],
          params: ID_PARAMS,
          response: STORE_ERRORS,
        },
      },
      async (req, reply) => {
        const b = await auth.needStore().getBatch(req.params.id);
        const table = summaryTable(b, { namesOnly: true });
        return sendAttachment(reply, `batch-${b.id}`, ext, ext === 'csv' ? summaryCsv(table) : await summaryXlsx(table, `batch ${b.id}`));
      },
    );
  }
}
