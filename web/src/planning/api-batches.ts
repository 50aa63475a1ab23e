/**
 * Client of the batch API (planner, read-only): the batches `quarter batch` submitted and the
 * progress of their jobs as `quarter worker`s report it to the shared store, and the summary
 * downloads. Only the batch panel (its own chunk) imports this module.
 */
import summaryColumns from '../../../data/batch/summary-columns.json';
import { query, request } from '../api.js';

export type BatchKind = 'assess' | 'plan' | 'import';
export type BatchJobState = 'queued' | 'running' | 'done' | 'failed';
/** in the order a job goes through them (the order counts are shown in). */
export const JOB_STATES: readonly BatchJobState[] = ['queued', 'running', 'done', 'failed'];

export interface BatchInfo {
  id: number;
  kind: BatchKind;
  /** the parameters the batch was submitted with (per kind, see src/batch/job-kinds.ts). */
  params: unknown;
  createdAt: string;
  actor: string | null;
  counts: Record<BatchJobState, number>;
  /** mean progress of the jobs, 0–1. */
  progress: number;
  /** no job queued or running. */
  finished: boolean;
}

export interface BatchJob {
  /** the line of the list file the job came from. */
  key: string;
  /** the region file's name (the server keeps its path). */
  file: string;
  state: BatchJobState;
  progress: number;
  attempts: number;
  worker: string | null;
  error: string | null;
  /** the job's summary row once done (AssessSummary, PlanSummary or ImportSummary). */
  result: Record<string, unknown> | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface BatchDetail extends BatchInfo {
  jobs: BatchJob[];
}

/** How a summary cell is shown. */
export type SummaryCellKind = 'count' | 'share' | 'text' | 'ratio' | 'file';

/**
 * The summary columns of each kind (data/batch/summary-columns.json, shared with the server's
 * summary table): the key in the result, and how it is shown. Headers are `batches.columns.<key>`
 * in the planning messages. 'ratio' reads `<key>Met`/`<key>`.
 */
export const SUMMARY_COLUMNS: Record<BatchKind, readonly { key: string; kind: SummaryCellKind }[]> = (
  summaryColumns as { kinds: Record<BatchKind, { key: string; kind: SummaryCellKind }[]> }
).kinds;

/**
 * The parameters shown for a batch of each kind (labels `batches.params.<key>`). A standards
 * profile may be given as a file: only its name is shown. The import's output folder is a server
 * path and is not shown.
 */
export const PARAM_FIELDS: Record<BatchKind, readonly { key: string; kind: 'text' | 'file' }[]> = {
  assess: [
    { key: 'profile', kind: 'file' },
    { key: 'population', kind: 'text' },
    { key: 'at', kind: 'text' },
  ],
  plan: [
    { key: 'model', kind: 'text' },
    { key: 'formats', kind: 'text' },
    { key: 'sites', kind: 'text' },
    { key: 'minutes', kind: 'text' },
    { key: 'profile', kind: 'file' },
    { key: 'spacing', kind: 'text' },
  ],
  import: [],
};

/** The last part of a path ("/srv/regions/a.quarter" → "a.quarter"). */
export const fileName = (path: string): string => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);

/** batches listed by the panel (the API's default). */
export const BATCH_LIST_LIMIT = 50;

export const batchApi = {
  /** newest first. */
  list: (signal?: AbortSignal) => request<BatchInfo[]>(`/api/batches?${query({ limit: BATCH_LIST_LIMIT })}`, { signal }),
  batch: (id: number, signal?: AbortSignal) => request<BatchDetail>(`/api/batches/${id}`, { signal }),
};

export const batchSummaryUrl = (id: number, ext: 'csv' | 'xlsx'): string => `/api/batches/${id}/summary.${ext}`;
