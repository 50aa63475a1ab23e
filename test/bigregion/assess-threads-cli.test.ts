/**
 * `quarter assess --threads`: bad values refused with exit 2 naming the flag; 1 and 2 threads
 * print the same assessment; Ctrl-C while the worker threads search exits 130 (the CLI's
 * interrupt code) and writes nothing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, test } from 'vitest';
import { writeCityOsm } from '../../bench/city-osm.js';
import { EXIT, KREMS_PBF, expectFailure, expectOk, finished, leftoverTemps, quarter, scratch, spawnQuarter } from '../cli/helpers.js';

const dir = scratch('threads');
const KREMS = join(dir, 'krems.quarter');
const CITY = join(dir, 'city.quarter');

beforeAll(() => {
  expectOk(quarter(['import', KREMS_PBF, '-o', KREMS], { cwd: dir }));
  writeCityOsm(join(dir, 'city.osm.pbf'), { nodes: 400_000, seed: 5 });
  expectOk(quarter(['import', join(dir, 'city.osm.pbf'), '-o', CITY], { cwd: dir }));
}, 120_000);

/** OS threads of a running process and whether it catches SIGINT yet (Linux /proc), or null once it has gone. */
function statusOf(pid: number): { threads: number; catchesSigint: boolean } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const caught = BigInt(`0x${/^SigCgt:\s+([0-9a-f]+)/m.exec(s)?.[1] ?? '0'}`);
    return { threads: Number(/^Threads:\s+(\d+)/m.exec(s)?.[1] ?? NaN), catchesSigint: (caught & (1n << 1n)) !== 0n };
  } catch {
    return null;
  }
}

describe('quarter assess --threads', () => {
  test.each([
    ['0', /--threads: 0 is out of range: use 1–\d+ threads/],
    ['abc', /--threads: "abc" is not a whole number of threads/],
    ['10000', /--threads: 10000 is out of range/],
    ['1.5', /--threads: "1.5" is not a whole number/],
    ['-2', /--threads: "-2" is not a whole number/],
  ])('--threads %s is refused (exit 2)', (value, message) => {
    expectFailure(quarter(['assess', KREMS, '--profile', 'mofcom-2021', `--threads=${value}`], { cwd: dir }), EXIT.usage, message);
  });

  test('1 and 2 threads print the same assessment', () => {
    const one = quarter(['assess', KREMS, '--profile', 'mofcom-2021', '--threads', '1', '--json'], { cwd: dir });
    const two = quarter(['assess', KREMS, '--profile', 'mofcom-2021', '--threads', '2', '--json'], { cwd: dir });
    expectOk(one);
    expectOk(two);
    const a = JSON.parse(one.stdout) as { headline: unknown; zones: unknown };
    const b = JSON.parse(two.stdout) as { headline: unknown; zones: unknown };
    expect(b.headline).toEqual(a.headline);
    expect(b.zones).toEqual(a.zones);
  });

  test('SIGINT while the workers search: exit 130, no output written', { timeout: 180_000 }, async () => {
    const out = join(dir, 'interrupted');
    const t0 = Date.now();
    const child = spawnQuarter(['assess', CITY, '--profile', 'mofcom-2021', '--threads', '2', '--out', out], { cwd: dir });
    const done = finished(child);
    const pid = child.pid as number;
    // the threads Node runs with once started (the interrupt handler installed, the count steady
    // for STEADY_MS while the region loads); the walking-time workers add to them
    const STEADY_MS = 400;
    let base: number | null = null;
    let last = -1;
    let since = Date.now();
    let started = false;
    while (Date.now() - t0 < 120_000) {
      const st = statusOf(pid);
      if (st === null) break;
      const n = st.threads;
      if (base === null) {
        if (n !== last || !st.catchesSigint) (last = n), (since = Date.now());
        else if (Date.now() - since >= STEADY_MS) base = n;
      } else if (n > base) {
        started = true;
        break;
      }
      await sleep(5);
    }
    expect(started, 'the workers never started (or the assessment ended first)').toBe(true);
    child.kill('SIGINT');
    const res = await done;
    expect({ code: res.code, signal: res.signal }).toEqual({ code: 130, signal: null });
    expect(res.stdout).toBe('');
    if (existsSync(out)) expect(readdirSync(out)).toEqual([]);
    expect(leftoverTemps(dir)).toEqual([]);
  });

  test('the same assessment left alone completes and writes its files', { timeout: 300_000 }, async () => {
    const out = join(dir, 'whole');
    const r = await finished(spawnQuarter(['assess', CITY, '--profile', 'mofcom-2021', '--threads', '2', '--h3', 'none', '--out', out], { cwd: dir }));
    expectOk(r);
    expect(readdirSync(out)).toContain('assessment.json');
  });
});
