/**
 * Fault: the disk fills up while a region file is being replaced. A small tmpfs is mounted, sized
 * so that the old region file fits but the old and the new one together do not (the new file is
 * written beside the old one and renamed over it). The import must fail with exit 5 and a message
 * saying the disk is full, leave the previous region file byte-identical, and leave no temporary
 * file behind. Needs the right to mount (root with CAP_SYS_ADMIN); skipped with the reason otherwise.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT, FIXTURES, KREMS_PBF, quarter, scratch } from './helpers.js';

const dir = scratch('disk-full');
const mnt = join(dir, 'small-disk');
const SMALL_PBF = join(FIXTURES, 'krems-centre.osm.pbf');

function tryMount(bytes: number): string | null {
  mkdirSync(mnt, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', mnt], { stdio: 'pipe' });
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
  skipReason = tryMount(Math.ceil((smallBytes + bigBytes / 2) / page) * page);
}, 120_000);

afterAll(() => {
  if (skipReason === null) {
    try {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    } catch {
      // not mounted
    }
  }
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
