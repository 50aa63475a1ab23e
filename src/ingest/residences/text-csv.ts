/**
 * Bytes → text (UTF-8 with or without BOM, UTF-16 with BOM, else GBK) and text → CSV records
 * with the line each record starts on, for messages users can find in their spreadsheet.
 *
 * The CSV reader follows RFC 4180 (quoted fields may hold delimiters, "" and line breaks;
 * CRLF, LF or CR line ends) and picks the delimiter from the header line: comma, tab
 * (Excel "Unicode text") or semicolon, whichever occurs most outside quotes.
 */
import iconv from 'iconv-lite';

export type TextEncodingName = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'gbk';

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
  /** what was detected, in words, when it is worth telling the user. */
  note?: string;
}

export function decodeText(buf: Uint8Array, source = 'file'): DecodedText {
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(3)), encoding: 'utf-8-bom' };
    } catch {
      throw new Error(`${source}: starts with a UTF-8 byte-order mark but is not valid UTF-8`);
    }
  }
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) {
    return { text: iconv.decode(Buffer.from(buf.subarray(2)), 'utf-16le'), encoding: 'utf-16le', note: 'UTF-16 (Excel "Unicode text")' };
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

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

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

/** Delimiter of the first line: the most frequent of , \t ; outside quotes (comma on ties). */
function sniffDelimiter(text: string): string {
  const counts = new Map<number, number>([
    [44, 0],
    [9, 0],
    [59, 0],
  ]);
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (!quoted && (c === LF || c === CR)) break;
    else if (!quoted && counts.has(c)) counts.set(c, counts.get(c)! + 1);
  }
  let best = 44;
  for (const [c, n] of counts) if (n > counts.get(best)!) best = c;
  return String.fromCharCode(best);
}

/**
 * Parse CSV text into records. Records whose fields are all empty (blank lines, ",,,," rows
 * Excel leaves) are skipped. An unterminated quote throws CsvSyntaxError naming the line it
 * opened on.
 */
export function parseCsv(text: string, delimiter?: string): CsvRecords {
  const records: string[][] = [];
  const lines: number[] = [];
  const { delimiter: delim } = scanCsv(
    text,
    (fields, line) => {
      records.push(fields);
      lines.push(line);
    },
    delimiter,
  );
  return { delimiter: delim, records, lines };
}

/**
 * Stream the non-blank records of CSV text to `onRecord` (fields, 1-based start line) without
 * keeping them: on 100 000-row lists this keeps the strings short-lived and the GC cheap.
 */
export function scanCsv(
  text: string,
  onRecord: (fields: string[], line: number) => void,
  delimiter?: string,
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
          if (i >= n) throw new CsvSyntaxError(openLine, `line ${openLine}: a quoted field is never closed (a " without its closing ")`);
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
        value = buf + text.slice(rest, i);
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
