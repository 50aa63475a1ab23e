/**
 * A small RFC 4180 CSV tokenizer that knows where each record starts.
 *
 * Why not a library: the importer reports every problem by the line a person sees in a text
 * editor, so a record's line is the physical line where it *starts* (a quoted field may span
 * lines), and an unterminated quote is reported at the line where the quote *opened* —
 * csv-parse reports the line where parsing stopped instead, and leaves '\r' in fields of
 * files that mix line endings.
 *
 * Rules: fields are separated by `delimiter`; records end at \r\n, \n or \r; a field that
 * starts with '"' is quoted, '""' inside it is one '"', and it may contain delimiters and line
 * breaks. A '"' inside an unquoted field is kept as a literal character (as Excel does). Text
 * after a closing quote and before the next delimiter is kept too, with a warning.
 */

export class CsvSyntaxError extends Error {
  readonly line: number;
  constructor(line: number, detail: string) {
    super(`line ${line}: ${detail}`);
    this.name = 'CsvSyntaxError';
    this.line = line;
  }
}

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  fields: string[];
}

const QUOTE = 34;
const CR = 13;
const LF = 10;

/**
 * Split text into records. Records whose fields are all empty (blank lines) are dropped.
 * `warn` receives one message per oddity (text after a closing quote).
 */
export function parseCsv(text: string, delimiter: string, warn: (msg: string) => void = () => {}): CsvRecord[] {
  const D = delimiter.charCodeAt(0);
  const n = text.length;
  const out: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    // one record
    for (;;) {
      let value: string;
      if (i < n && text.charCodeAt(i) === QUOTE) {
        const openLine = line;
        i++;
        let buf = '';
        let from = i;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) {
            throw new CsvSyntaxError(openLine, 'unterminated quoted field: the quote opened on this line is never closed');
          }
          // count line breaks inside the quoted stretch for line numbering
          for (let k = i; k < q; k++) {
            const c = text.charCodeAt(k);
            if (c === LF) line++;
            else if (c === CR && text.charCodeAt(k + 1) !== LF) line++;
          }
          if (text.charCodeAt(q + 1) === QUOTE) {
            buf += text.slice(from, q + 1);
            i = q + 2;
            from = i;
            continue;
          }
          buf += text.slice(from, q);
          i = q + 1;
          break;
        }
        // anything up to the delimiter / end of line after the closing quote
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === D || c === LF || c === CR) break;
          j++;
        }
        if (j > i) {
          const extra = text.slice(i, j);
          if (extra.trim().length > 0) warn(`line ${line}: text after a closing quote ("${extra.slice(0, 20)}") kept as part of the field`);
          buf += extra;
        }
        i = j;
        value = buf;
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === D || c === LF || c === CR) break;
          j++;
        }
        value = text.slice(i, j);
        i = j;
      }
      fields.push(value);
      if (i >= n) break;
      const c = text.charCodeAt(i);
      if (c === D) {
        i++;
        if (i >= n) {
          fields.push('');
          break;
        }
        continue;
      }
      // line break ends the record
      if (c === CR && text.charCodeAt(i + 1) === LF) i += 2;
      else i++;
      line++;
      break;
    }
    let blank = true;
    for (const f of fields) {
      if (f.trim().length > 0) {
        blank = false;
        break;
      }
    }
    if (!blank) out.push({ line: startLine, fields });
  }
  return out;
}

/**
 * The delimiter of a CSV/TSV text: of ',', '\t', ';' and '|', the one that occurs most often
 * (outside quotes) on a single line among the first ten non-blank lines — so a title line
 * above the header does not decide it; ',' when none occurs.
 */
export function sniffDelimiter(text: string): string {
  const candidates = [',', '\t', ';', '|'];
  const best = new Map<string, number>(candidates.map((d) => [d, 0]));
  const n = text.length;
  let start = 0;
  let seen = 0;
  while (start < n && seen < 10) {
    let end = start;
    while (end < n && text.charCodeAt(end) !== LF && text.charCodeAt(end) !== CR) end++;
    if (text.slice(start, end).trim().length > 0) {
      seen++;
      const counts = new Map<string, number>(candidates.map((d) => [d, 0]));
      let inQuote = false;
      for (let k = start; k < end; k++) {
        const ch = text[k];
        if (ch === '"') inQuote = !inQuote;
        else if (!inQuote && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
      }
      for (const [d, c] of counts) if (c > best.get(d)!) best.set(d, c);
    }
    start = end + 1;
  }
  let out = ',';
  let outCount = 0;
  for (const d of candidates) {
    const c = best.get(d)!;
    if (c > outCount) {
      out = d;
      outCount = c;
    }
  }
  return out;
}
