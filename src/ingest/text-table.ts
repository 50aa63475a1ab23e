/**
 * Text tables: bytes → text (UTF-8 with or without BOM, UTF-16 with BOM, else GBK) and
 * text → CSV records with the line each record starts on, for messages users can find in a
 * text editor or spreadsheet. Shared by the POI importer and the 小区 (compound) list reader.
 *
 * Why not a library: a record's line is the physical line where it *starts* (a quoted field
 * may span lines), and an unterminated quote is reported at the line where the quote *opened*
 * — csv-parse reports the line where parsing stopped instead, and leaves '\r' in fields of
 * files that mix line endings.
 *
 * CSV rules (RFC 4180, lenient as Excel is): fields are separated by the delimiter; records
 * end at \r\n, \n or \r; a field that starts with '"' is quoted, '""' inside it is one '"',
 * and it may contain delimiters and line breaks. A '"' inside an unquoted field is a literal
 * character. Text after a closing quote and before the next delimiter is kept (with a warning
 * to `warn`, when given). Records whose fields are all blank (blank lines, the ",,,," rows
 * Excel leaves) are skipped.
 */
import iconv from 'iconv-lite';

// ---------------------------------------------------------------------------------------------
// Decoding

export type TextEncodingName = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'gbk';

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
  /** what was detected, in words, when it is worth telling the user. */
  note?: string;
}

export interface DecodeOptions {
  /**
   * A UTF-8 BOM followed by bytes that are not UTF-8: false (default) throws; true decodes
   * them as U+FFFD and says so in `note`.
   */
  lenientBom?: boolean;
}

/** `note` of a BOM file with invalid UTF-8 read with `lenientBom`. */
export const BAD_BOM_NOTE =
  'the file starts with a UTF-8 byte-order mark but has bytes that are not UTF-8; they were replaced with U+FFFD';

export function decodeText(buf: Uint8Array, source = 'file', opts: DecodeOptions = {}): DecodedText {
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    const body = buf.subarray(3);
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(body), encoding: 'utf-8-bom' };
    } catch {
      if (opts.lenientBom) return { text: new TextDecoder('utf-8').decode(body), encoding: 'utf-8-bom', note: BAD_BOM_NOTE };
      throw new Error(`${source}: starts with a UTF-8 byte-order mark but is not valid UTF-8`);
    }
  }
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) {
    // TextDecoder, not iconv: a broken surrogate pair or odd last byte becomes U+FFFD (and is
    // then visible as such) instead of a lone surrogate or a silently dropped byte.
    return { text: new TextDecoder('utf-16le').decode(buf.subarray(2)), encoding: 'utf-16le', note: 'UTF-16 (Excel "Unicode text")' };
  }
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    return { text: iconv.decode(Buffer.from(buf.subarray(2)), 'utf-16be'), encoding: 'utf-16be', note: 'UTF-16 big-endian' };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(buf), encoding: 'utf-8' };
  } catch {
    // GB18030 is a superset of GBK and GB2312: decoding as GB18030 reads all three.
    return {
      text: iconv.decode(Buffer.from(buf), 'gb18030'),
      encoding: 'gbk',
      note: 'not valid UTF-8: decoded as GBK (GB18030), the usual encoding of CSV saved by Chinese Excel',
    };
  }
}

// ---------------------------------------------------------------------------------------------
// CSV

/** The CSV cannot be read; `line` is where the problem starts (an unterminated quote: where it opened). */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    /** the problem without file or line. */
    readonly detail: string,
    /** file (or other source) named at the start of the message, if any. */
    readonly source?: string,
  ) {
    super(`${source !== undefined ? `${source}: ` : ''}line ${line}: ${detail}`);
    this.name = 'CsvSyntaxError';
  }
}

export const UNTERMINATED_QUOTE = 'a quoted field is never closed (a " without its closing ")';

export interface CsvRecords {
  delimiter: string;
  /** fields of each non-blank record, the header first. */
  records: string[][];
  /** 1-based line on which each record starts. */
  lines: number[];
}

const QUOTE = 34;
const LF = 10;
const CR = 13;

/**
 * The delimiter of a CSV/TSV text: of ',', '\t', ';' and '|', the one that occurs most often
 * (outside quotes) on a single line among the first ten non-blank lines — so a title line
 * above the header does not decide it; ',' on ties and when none occurs.
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

/**
 * Parse CSV text into its non-blank records. `delimiter` defaults to sniffDelimiter(text).
 * An unterminated quote throws CsvSyntaxError naming the line it opened on.
 */
export function parseCsv(text: string, delimiter?: string, warn?: (msg: string) => void): CsvRecords {
  const records: string[][] = [];
  const lines: number[] = [];
  const { delimiter: delim } = scanCsv(
    text,
    (fields, line) => {
      records.push(fields);
      lines.push(line);
    },
    delimiter,
    warn,
  );
  return { delimiter: delim, records, lines };
}

/**
 * Stream the non-blank records of CSV text to `onRecord` (fields, 1-based start line) without
 * keeping them: on 100 000-row lists this keeps the strings short-lived and the GC cheap.
 * `warn` receives one message per oddity (text after a closing quote).
 */
export function scanCsv(
  text: string,
  onRecord: (fields: string[], line: number) => void,
  delimiter?: string,
  warn?: (msg: string) => void,
): { delimiter: string; records: number } {
  const delim = delimiter ?? sniffDelimiter(text);
  const D = delim.charCodeAt(0);
  let count = 0;
  const emit = (fields: string[], line: number): void => {
    for (let k = 0; k < fields.length; k++) {
      if (fields[k].trim() !== '') {
        count++;
        onRecord(fields, line);
        return;
      }
    }
  };
  const n = text.length;
  if (text.indexOf('"') < 0) {
    // No quotes anywhere: every line is one record.
    let line = 1;
    let i = 0;
    while (i <= n) {
      let e = i;
      while (e < n) {
        const c = text.charCodeAt(e);
        if (c === LF || c === CR) break;
        e++;
      }
      if (e > i) emit(text.slice(i, e).split(delim), line);
      if (e >= n) break;
      i = text.charCodeAt(e) === CR && text.charCodeAt(e + 1) === LF ? e + 2 : e + 1;
      line++;
    }
    return { delimiter: delim, records: count };
  }
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
        let buf = '';
        let from = ++i;
        for (;;) {
          if (i >= n) throw new CsvSyntaxError(openLine, UNTERMINATED_QUOTE);
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (i + 1 < n && text.charCodeAt(i + 1) === QUOTE) {
              buf += text.slice(from, i + 1);
              i += 2;
              from = i;
              continue;
            }
            buf += text.slice(from, i);
            i++;
            break;
          }
          if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) line++;
          i++;
        }
        // text after the closing quote up to the delimiter is kept (lenient, as Excel does)
        const rest = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === D || c === LF || c === CR) break;
          i++;
        }
        if (i > rest) {
          const extra = text.slice(rest, i);
          if (warn && extra.trim().length > 0) warn(`line ${line}: text after a closing quote ("${extra.slice(0, 20)}") kept as part of the field`);
          value = buf + extra;
        } else value = buf;
      } else {
        const from = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === D || c === LF || c === CR) break;
          i++;
        }
        value = text.slice(from, i);
      }
      fields.push(value);
      if (i < n && text.charCodeAt(i) === D) {
        i++;
        continue;
      }
      // end of record: line break or end of text
      if (i < n) {
        if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF) i += 2;
        else i++;
        line++;
      }
      break;
    }
    emit(fields, startLine);
  }
  return { delimiter: delim, records: count };
}
