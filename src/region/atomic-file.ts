/**
 * Atomic file output: write to a sibling temp file, fsync, rename over the target.
 * A crash or Ctrl-C leaves either the old file or the new one, never half of one;
 * pending temp files are removed on SIGINT/SIGTERM and normal exit.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const pending = new Set<string>();
let hooked = false;

function hookCleanup(): void {
  if (hooked) return;
  hooked = true;
  const clean = (): void => {
    for (const f of pending) rmSync(f, { force: true });
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

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
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
    if (fd !== -1) closeSync(fd);
    rmSync(tmp, { force: true });
    pending.delete(tmp);
    throw err;
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
