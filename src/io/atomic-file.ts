/**
 * Atomic file output: write to a sibling temp file, fsync, rename over the target.
 * A crash or Ctrl-C leaves either the old file or the new one, never half of one;
 * pending temp files are removed on SIGINT/SIGTERM and normal exit.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';

const pending = new Set<string>();
let hooked = false;

/** Writing an output failed because of the path or the disk (ENOTDIR, ENOSPC, EACCES, …); names the output. */
export class OutputFileError extends Error {
  readonly file: string;
  readonly code: string | undefined;
  constructor(file: string, cause: unknown, what = 'cannot write') {
    const e = cause as NodeJS.ErrnoException;
    // Node's text is "CODE: description, syscall 'path'": keep the description, drop the (temp) path.
    const desc = /^[A-Z0-9_]+: ([^,\n]+)/.exec(e?.message ?? '')?.[1] ?? String(e?.message ?? cause);
    super(`${file}: ${what} (${e?.code ? `${e.code}: ` : ''}${desc})`);
    this.name = 'OutputFileError';
    this.file = file;
    this.code = e?.code;
  }
}

const isErrno = (e: unknown): boolean => typeof (e as NodeJS.ErrnoException)?.code === 'string';

/** mkdir -p for an output directory; failures become OutputFileError. */
export function ensureOutputDir(dir: string): void {
  try {
    mkdirSync(dir || '.', { recursive: true });
  } catch (err) {
    if (!isErrno(err)) throw err;
    const inTheWay = (err as NodeJS.ErrnoException).code === 'EEXIST' || (err as NodeJS.ErrnoException).code === 'ENOTDIR';
    throw new OutputFileError(dir, err, inTheWay ? 'cannot create directory, a file is in the way' : 'cannot create directory');
  }
}

/** Best effort: a temp file that cannot be removed (its directory vanished, say) is not an error. */
function removeQuietly(f: string): void {
  try {
    rmSync(f, { force: true });
  } catch {
    /* nothing more to do */
  }
}

/**
 * Remove pending temp files on normal exit, and on SIGINT/SIGTERM before exiting 130/143.
 * writeFileAtomic calls it; a CLI calls it at start so an interrupt at any time exits the same way.
 */
export function installInterruptCleanup(): void {
  hookCleanup();
}

function hookCleanup(): void {
  if (hooked) return;
  hooked = true;
  const clean = (): void => {
    for (const f of pending) removeQuietly(f);
    pending.clear();
  };
  process.on('exit', clean);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      clean();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/** The part of a temp file's name that says which process and thread wrote it. */
const tempMark = (thread: number): string => `.tmp-${process.pid}-${thread}-`;

/** `.name.tmp-<pid>-<thread>-<random>`: the thread id lets a parent clean up after a thread it terminated. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}${tempMark(threadId)}${Math.random().toString(36).slice(2, 8)}`);
}

/**
 * Remove the temp files a worker thread of this process left in `dir`: a terminated thread runs
 * no cleanup of its own (its exit hooks never fire). Returns how many were removed.
 */
export function removeThreadTemps(dir: string, thread: number): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0; // no directory, no temp files
  }
  const mark = tempMark(thread);
  const left = names.filter((n) => n.startsWith('.') && n.includes(mark));
  for (const n of left) removeQuietly(join(dir, n));
  return left.length;
}

/** Write chunks to `target` atomically. */
export function writeFileAtomic(target: string, chunks: Iterable<Uint8Array | string>): void {
  hookCleanup();
  const tmp = tempPathFor(target);
  pending.add(tmp);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    for (const c of chunks) {
      const buf = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
      let off = 0;
      while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, target);
    pending.delete(tmp);
    syncDir(dirname(target));
  } catch (err) {
    if (fd !== -1) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    pending.delete(tmp);
    removeQuietly(tmp);
    throw isErrno(err) ? new OutputFileError(target, err) : err;
  }
}

/** Register a temp path produced elsewhere (streams) so it is cleaned on interruption. */
export function trackTemp(tmp: string): () => void {
  hookCleanup();
  pending.add(tmp);
  return () => pending.delete(tmp);
}

function syncDir(dir: string): void {
  // Directory fsync makes the rename itself durable; not supported everywhere, so best effort.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* platform without directory fsync */
  }
}
