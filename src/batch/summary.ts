/**
 * The summary table of a batch: one row per job (line, file, state, attempts, the kind's own
 * columns), as text for the terminal, CSV (BOM, formula-safe) or XLSX for Excel, or JSON.
 */
import { basename } from 'node:path';
import { csvRow, UTF8_BOM, type Cell } from '../report/csv.js';
import { workbookBuffer, type ColumnKind } from '../report/xlsx.js';
import type { BatchJobRecord, BatchRecord } from '../store/store.js';
import { SUMMARY_COLUMNS, summaryCell, type JobSummary } from './job-kinds.js';

const STATE_ZH: Record<BatchJobRecord['state'], string> = { queued: '排队', running: '运行中', done: '完成', failed: '失败' };

export interface SummaryTable {
  headers: string[];
  kinds: ColumnKind[];
  rows: Cell[][];
}

/**
 * namesOnly: file paths (the list's files, an import's output) reduced to their names — for
 * answers that leave the server.
 */
export function summaryTable(batch: BatchRecord & { jobs: BatchJobRecord[] }, opts: { namesOnly?: boolean } = {}): SummaryTable {
  const cols = SUMMARY_COLUMNS[batch.kind];
  const headers = ['行 line', '文件 file', '状态 state', '尝试 attempts', ...cols.map((c) => c.header), '错误 error'];
  const kinds: ColumnKind[] = ['integer', 'text', 'text', 'integer', ...cols.map((): ColumnKind => 'text'), 'text'];
  const rows = batch.jobs.map((j): Cell[] => [
    Number(j.key),
    basename(j.region),
    `${STATE_ZH[j.state]} ${j.state}`,
    j.attempts,
    ...cols.map((c) => {
      const cell = j.result ? summaryCell(j.result as JobSummary, c.key) : '';
      return opts.namesOnly && c.key === 'output' && typeof cell === 'string' ? basename(cell) : cell;
    }),
    j.error ?? '',
  ]);
  // numbers stay numbers in the spreadsheet where every value of a column is one
  cols.forEach((_, i) => {
    if (rows.length && rows.every((r) => typeof r[4 + i] === 'number' || r[4 + i] === '')) kinds[4 + i] = 'number';
  });
  return { headers, kinds, rows };
}

export function summaryCsv(t: SummaryTable): string {
  return UTF8_BOM + csvRow(t.headers) + t.rows.map(csvRow).join('');
}

export async function summaryXlsx(t: SummaryTable, title: string): Promise<Buffer> {
  return workbookBuffer(
    [{ name: 'summary', columns: t.headers.map((header, i) => ({ header, kind: t.kinds[i] })), rows: t.rows.map((r) => r.map((c) => c ?? null)), freezeColumns: 2 }],
    { title },
  );
}
