/**
 * CSV output that Excel opens correctly: UTF-8 with BOM (Chinese names stay readable),
 * RFC 4180 quoting, and cells that would start a formula (= + - @ tab CR) neutralised
 * with a leading apostrophe so a POI named "=HYPERLINK(...)" stays text.
 */
export const UTF8_BOM = '\uFEFF';

export type Cell = string | number | null | undefined;

export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(cells: Cell[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}
