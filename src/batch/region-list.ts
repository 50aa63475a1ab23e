/**
 * The list of a batch: one file per line (a region file for assess/plan, an OSM extract for
 * import), blank lines and # comments ignored, paths relative to the list's own folder. Every
 * problem is reported with its line, all at once, and nothing is submitted while any remains.
 * Workers on other machines must see the files at the same absolute paths (a shared mount).
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MAX_BATCH_JOBS } from '../store/validate.js';

export class RegionListError extends Error {
  constructor(
    message: string,
    /** every problem, "file:line: what". */
    readonly problems: readonly string[],
  ) {
    super(message);
    this.name = 'RegionListError';
  }
}

export interface ListedFile {
  /** the line number, also the job's key. */
  line: number;
  path: string;
}

export type ListedKind = 'region' | 'osm';

const REGION_MAGIC = Buffer.from('QUARTER\0', 'latin1');
/** A list longer than this is not a list of paths. */
const MAX_LIST_BYTES = 16 * 1024 * 1024;

function head(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(bytes);
    const n = readSync(fd, b, 0, bytes, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Why a listed file cannot be a job's input, or null when it looks right (its checksum is checked by the job). */
function fileProblem(path: string, kind: ListedKind): string | null {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`;
  }
  if (!st.isFile()) return 'is not a file';
  if (st.size === 0) return 'is empty';
  try {
    if (kind === 'region' && !head(path, 8).equals(REGION_MAGIC)) return 'is not a Quarter region file (run `quarter import` on it first)';
  } catch (err) {
    return `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  return null;
}

export function readRegionList(listFile: string, kind: ListedKind): ListedFile[] {
  let buf: Buffer;
  try {
    const st = statSync(listFile);
    if (!st.isFile()) throw new RegionListError(`${listFile}: is not a file`, []);
    if (st.size > MAX_LIST_BYTES) throw new RegionListError(`${listFile}: is ${st.size} bytes; a list of files should be far smaller (limit ${MAX_LIST_BYTES})`, []);
    buf = readFileSync(listFile);
  } catch (err) {
    if (err instanceof RegionListError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new RegionListError(`${listFile}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`}`, []);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new RegionListError(`${listFile}: is not UTF-8 text (save the list as UTF-8; GBK file names are not supported)`, []);
  }
  if (text.includes('\u0000')) throw new RegionListError(`${listFile}: contains NUL bytes: not a text list of files`, []);
  const base = dirname(resolve(listFile));
  const problems: string[] = [];
  const out: ListedFile[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) return;
    const path = resolve(base, entry);
    const first = seen.get(path);
    if (first !== undefined) {
      problems.push(`${listFile}:${line}: ${entry} is listed already on line ${first}`);
      return;
    }
    seen.set(path, line);
    const problem = fileProblem(path, kind);
    if (problem) problems.push(`${listFile}:${line}: ${entry}: ${problem}`);
    else out.push({ line, path });
  });
  if (problems.length === 0 && out.length === 0) throw new RegionListError(`${listFile}: lists no files (one path per line; # starts a comment)`, []);
  if (out.length + problems.length > MAX_BATCH_JOBS) throw new RegionListError(`${listFile}: lists ${out.length + problems.length} files; one batch takes at most ${MAX_BATCH_JOBS}`, []);
  if (problems.length) {
    const shown = problems.slice(0, 20).join('\n');
    throw new RegionListError(`${problems.length} of ${out.length + problems.length} listed files cannot be used; nothing was submitted:\n${shown}${problems.length > 20 ? `\n… and ${problems.length - 20} more` : ''}`, problems);
  }
  return out;
}
