/**
 * Fault: the disk fills up while a region file is being replaced. A small tmpfs is mounted, sized
 * so that the old region file fits but the old and the new one together do not (the new file is
 * written beside the old one and renamed over it). The import must fail with exit 5 and a message
 * saying the disk is full, leave the previous region file byte-identical, and leave no temporary
 * file behind. Then the database on the same full disk: a write that does not fit fails as a
 * StoreUnavailableError (reason "full", which the API answers with 503), and every write
 * acknowledged before is there once space is freed. Needs the right to mount (root with CAP_SYS_ADMIN); skipped with the reason otherwise.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { EXIT, FIXTURES, KREMS_PBF, quarter } from './helpers.js';

// not scratch(): the mount must be gone before the directory is removed
const dir = mkdtempSync(join(tmpdir(), 'quarter-disk-full-'));
const mnt = join(dir, 'small-disk');
const dbMnt = join(dir, 'db-disk');
const SMALL_PBF = join(FIXTURES, 'krems-centre.osm.pbf');

function tryMount(at: string, bytes: number): string | null {
  mkdirSync(at, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', at], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot mount a small tmpfs here (${String((err as { stderr?: Buffer }).stderr ?? err).trim().split('\n')[0]})`;
  }
}

let skipReason: string | null = null;
let smallBytes = 0;
beforeAll(() => {
  // sizes of the two region files, from a normal directory
  const small = quarter(['import', SMALL_PBF, '-o', join(dir, 'small.quarter')], { cwd: dir });
  expect(small.code, small.stderr).toBe(EXIT.ok);
  const big = quarter(['import', KREMS_PBF, '-o', join(dir, 'big.quarter')], { cwd: dir });
  expect(big.code, big.stderr).toBe(EXIT.ok);
  smallBytes = statSync(join(dir, 'small.quarter')).size;
  const bigBytes = statSync(join(dir, 'big.quarter')).size;
  expect(bigBytes).toBeGreaterThan(smallBytes * 2);
  // room for the old file and half the new one, in whole pages
  const page = 4096;
  skipReason = tryMount(mnt, Math.ceil((smallBytes + bigBytes / 2) / page) * page) ?? tryMount(dbMnt, 1024 * 1024);
}, 120_000);

afterAll(() => {
  if (skipReason === null) {
    for (const at of [mnt, dbMnt]) {
      try {
        execFileSync('umount', [at], { stdio: 'ignore' });
      } catch {
        // not mounted
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('disk full while a region file is replaced', () => {
  test('exit 5 naming the full disk; the previous region file intact; no temporary file left', (ctx) => {
    if (skipReason !== null) ctx.skip(skipReason);
    const target = join(mnt, 'district.quarter');
    const first = quarter(['import', SMALL_PBF, '-o', target], { cwd: dir });
    expect(first.code, first.stderr).toBe(EXIT.ok);
    const before = readFileSync(target);
    expect(before.length).toBe(smallBytes);

    const failed = quarter(['import', KREMS_PBF, '-o', target], { cwd: dir });
    expect(failed.code, failed.stderr).toBe(EXIT.output);
    expect(failed.stderr).toMatch(/no space|ENOSPC|disk is full|full/i);
    expect(failed.stderr).toContain('district.quarter');
    expect(readFileSync(target).equals(before)).toBe(true);
    expect(readdirSync(mnt)).toEqual(['district.quarter']);

    // the kept file still loads
    const info = quarter(['info', '-r', target, '--json'], { cwd: dir });
    expect(info.code, info.stderr).toBe(EXIT.ok);
  });
});

describe('disk full under the database', () => {
  test('the write that does not fit fails as "full"; every acknowledged write is kept; writes resume when space is freed', async (ctx) => {
    if (skipReason !== null) ctx.skip(skipReason);
    // a filler file to delete later, so space can be freed without touching the database
    const filler = join(dbMnt, 'filler.bin');
    writeFileSync(filler, Buffer.alloc(256 * 1024));
    const db = join(dbMnt, 'quarter.db');
    const store = await openSqliteStore(db);
    const acknowledged: number[] = [];
    let failure: unknown = null;
    try {
      await store.upsertRegion({ name: 'r', file: 'r.quarter', sha256: 'c'.repeat(64) });
      const edits = Array.from({ length: 40 }, (_, i) => ({ id: `e${i}`, note: '满'.repeat(60) })); // ~8 kB of JSON
      for (let i = 0; i < 10_000 && failure === null; i++) {
        try {
          acknowledged.push((await store.createScenario({ region: 'r', name: `s${i}`, edits })).id);
        } catch (err) {
          failure = err;
        }
      }
    } finally {
      await store.close();
    }
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect((failure as StoreUnavailableError).reason).toBe('full');
    expect((failure as Error).message).toMatch(/disk is full/);
    expect(acknowledged.length).toBeGreaterThan(10);

    rmSync(filler); // free space
    const check = new Database(db, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
    const again = await openSqliteStore(db);
    try {
      const kept = (await again.listScenarios('r')).map((x) => x.id);
      for (const id of acknowledged) expect(kept).toContain(id);
      await again.createScenario({ region: 'r', name: 'after', edits: [] });
    } finally {
      await again.close();
    }
  }, 120_000);
});
