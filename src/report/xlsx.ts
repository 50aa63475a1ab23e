/**
 * Typed sheets → an .xlsx buffer (exceljs). Each column has a kind that sets its number format
 * (percentages as 0.0%, minutes as 0.0, counts with thousands separators); the header row is
 * bold, frozen and filterable, and column widths follow the content (CJK counts double).
 *
 * Formula safety: data is only ever written as a plain string or number value, never as a
 * formula object, so exceljs stores text as a (shared) string and Excel never evaluates it. Text
 * that starts like a formula (= + - @) also gets the Text number format ("@"), so editing the
 * cell in Excel keeps it text. Characters XML cannot hold are replaced, over-long text is cut to
 * Excel's 32,767-character cell limit, non-finite numbers become empty cells.
 *
 * Written with exceljs' streaming WorkbookWriter into memory, then returned as one buffer (the
 * caller writes it atomically). The in-memory Workbook + writeBuffer() took 2.3 GB and 27 s for
 * 50,000 rows × 40 columns; streaming takes 0.3 GB and 8 s, with the same file features.
 */
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';

export type ColumnKind = 'text' | 'integer' | 'number' | 'percent' | 'minutes' | 'coordinate';

/** A cell: its column's kind applies; `{ value, kind }` overrides the kind for one cell (summary sheets). */
export type XCell = string | number | boolean | null | undefined | { value: string | number | null; kind: ColumnKind };

export interface SheetColumn {
  header: string;
  kind: ColumnKind;
  /** characters; default from the header and the first rows. */
  width?: number;
}

export interface SheetSpec {
  /** ≤ 31 characters, none of \ / ? * [ ] : (checked). */
  name: string;
  columns: SheetColumn[];
  rows: Iterable<XCell[]>;
  /** columns frozen left of the data (default 0); the header row is always frozen. */
  freezeColumns?: number;
  /** header row bold + frozen + autofilter; default true. Off for key/value sheets. */
  headerRow?: boolean;
}

export const NUM_FMT: Record<ColumnKind, string | undefined> = {
  text: undefined,
  integer: '#,##0',
  number: '#,##0.0',
  percent: '0.0%',
  minutes: '0.0',
  coordinate: '0.000000',
};

/** Excel's row limit, header included. */
export const XLSX_MAX_ROWS = 1_048_576;
const MAX_CELL_CHARS = 32_767;
const FORMULA_START = /^[=+\-@\t\r]/;

/** Text safe for a cell: XML-valid characters only, at most 32,767 of them. */
export function cellText(s: string): string {
  const clean = s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  return clean.length > MAX_CELL_CHARS ? clean.slice(0, MAX_CELL_CHARS - 1) + '…' : clean;
}

/** Display width in "characters" as Excel counts them roughly: CJK double. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += (ch.codePointAt(0) ?? 0) >= 0x2e80 ? 2 : 1;
  return w;
}

export class SheetNameError extends Error {
  constructor(name: string, why: string) {
    super(`sheet name "${name}": ${why}`);
    this.name = 'SheetNameError';
  }
}

function checkSheetName(name: string, seen: Set<string>): void {
  if (name.length === 0 || name.length > 31) throw new SheetNameError(name, 'must be 1–31 characters');
  if (/[\\/?*[\]:]/.test(name)) throw new SheetNameError(name, 'must not contain \\ / ? * [ ] :');
  const key = name.toLowerCase();
  if (seen.has(key)) throw new SheetNameError(name, 'is used twice');
  seen.add(key);
}

/** value, kind and display text of one cell (null value = leave empty). */
function resolve(raw: XCell, colKind: ColumnKind): { value: string | number | boolean | null; kind: ColumnKind; override: boolean } {
  let v: string | number | boolean | null | undefined;
  let kind = colKind;
  let override = false;
  if (raw !== null && typeof raw === 'object') {
    v = raw.value;
    kind = raw.kind;
    override = true;
  } else v = raw;
  if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) v = null;
  if (typeof v === 'string') v = cellText(v);
  return { value: v, kind, override };
}

function shownWidth(value: string | number | boolean, kind: ColumnKind): number {
  if (typeof value === 'string') return displayWidth(value);
  if (typeof value === 'boolean') return 5;
  if (kind === 'percent') return (value * 100).toFixed(1).length + 1;
  if (kind === 'coordinate') return value.toFixed(6).length;
  return (kind === 'integer' ? Math.round(value).toLocaleString('en') : value.toFixed(1)).length;
}

/**
 * Stream the sheets into an .xlsx held in memory (exceljs' streaming WorkbookWriter: rows are
 * committed as they are added, so a district's 100,000 residences do not become millions of
 * cell objects). Column widths come from the header and the first 500 rows.
 */
export async function workbookBuffer(sheets: readonly SheetSpec[], props: { title?: string; creator?: string } = {}): Promise<Buffer> {
  const names = new Set<string>();
  for (const spec of sheets) checkSheetName(spec.name, names);
  const sink = new PassThrough();
  const parts: Buffer[] = [];
  sink.on('data', (c: Buffer) => parts.push(c));
  const ended = new Promise<void>((res, rej) => {
    sink.on('end', () => res());
    sink.on('error', rej);
  });
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: sink, useStyles: true, useSharedStrings: true });
  wb.creator = props.creator ?? 'Quarter';
  if (props.title) wb.title = cellText(props.title);
  const fixed = new Date(0);
  wb.created = fixed;
  wb.modified = fixed;

  for (const spec of sheets) {
    const header = spec.headerRow ?? true;
    const ws = wb.addWorksheet(spec.name, {
      views: header ? [{ state: 'frozen', xSplit: spec.freezeColumns ?? 0, ySplit: 1 }] : [],
    });
    // look ahead at the first rows for the column widths (they are written before any row)
    const it = spec.rows[Symbol.iterator]();
    const head: XCell[][] = [];
    const widths = spec.columns.map((c) => displayWidth(c.header) + 2);
    for (let k = 0; k < 500; k++) {
      const n = it.next();
      if (n.done) break;
      head.push(n.value);
      n.value.forEach((raw, j) => {
        if (j >= widths.length) return;
        const { value, kind } = resolve(raw, spec.columns[j].kind);
        if (value !== null) widths[j] = Math.max(widths[j], Math.min(shownWidth(value, kind), 60) + 2);
      });
    }
    ws.columns = spec.columns.map((c, j) => {
      const fmt = NUM_FMT[c.kind];
      return {
        ...(header ? { header: c.header } : {}),
        width: c.width ?? Math.max(8, Math.min(widths[j], 60)),
        ...(fmt ? { style: { numFmt: fmt } } : {}),
      };
    });
    if (header) {
      const h = ws.getRow(1);
      h.font = { bold: true };
      h.eachCell((cell) => {
        cell.font = { bold: true };
        cell.numFmt = '@';
      });
      ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: Math.max(1, spec.columns.length) } };
      h.commit();
    }
    let rows = header ? 1 : 0;
    const addRow = (cells: XCell[]): void => {
      const row = ws.addRow([]);
      cells.forEach((raw, j) => {
        const { value, kind, override } = resolve(raw, spec.columns[j]?.kind ?? 'text');
        if (value === null) return;
        const cell = row.getCell(j + 1);
        cell.value = value; // a plain string / number value: text is stored as text, never as a formula
        if (typeof value === 'string') {
          if (FORMULA_START.test(value) || kind !== 'text') cell.numFmt = '@';
        } else if (override && typeof value === 'number') {
          const fmt = NUM_FMT[kind];
          if (fmt) cell.numFmt = fmt;
        }
      });
      row.commit();
      rows++;
    };
    for (const m of head) {
      if (rows >= XLSX_MAX_ROWS) break;
      addRow(m);
    }
    for (let n = it.next(); !n.done && rows < XLSX_MAX_ROWS; n = it.next()) addRow(n.value);
    ws.commit();
  }
  await wb.commit();
  await ended;
  return Buffer.concat(parts);
}
