/**
 * Parallel assessment (src/assess/parallel-times.ts): the walking-time searches spread over
 * worker threads give exactly the single-thread result (every per-residence array compared byte
 * for byte, on Krems and on a generated city with two walking profiles and opening hours), and
 * cancelling terminates every worker and rejects with an AbortError.
 *
 * The workers run the build made by the test setup (test/cli/global-setup.ts), as in production.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { writeCityOsm } from '../../bench/city-osm.js';
import { assess, assessParallel, type AssessmentWithList } from '../../src/assess/assess.js';
import { liveTimesWorkers } from '../../src/assess/parallel-times.js';
import { importRegion } from '../../src/region/import-region.js';
import type { Region } from '../../src/region/region.js';

const WORKER = join(dirname(inject('quarterCli')), '..', 'assess', 'times-worker.js');
const dir = mkdtempSync(join(tmpdir(), 'quarter-parallel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const krems = await importRegion('data/krems/krems.osm.pbf', { basemap: false });
const cityFile = join(dir, 'city.osm.pbf');
writeCityOsm(cityFile, { nodes: 60_000, seed: 3 });
const city = await importRegion(cityFile, { basemap: false });

type Typed = Float32Array | Int32Array | Uint8Array | Int8Array | Float64Array;
const bytes = (a: Typed): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectIdentical(a: AssessmentWithList, b: AssessmentWithList): void {
  const ra = a.residences;
  const rb = b.residences;
  expect(rb.count).toBe(ra.count);
  for (const k of ['minutes', 'nearest', 'met', 'completeness', 'grade', 'population', 'elderly', 'reachable', 'requirementMinutes', 'requirementNearest'] as const) {
    const x = ra[k] as Typed | undefined;
    const y = rb[k] as Typed | undefined;
    expect(x, k).toBeDefined();
    expect(bytes(y as Typed).equals(bytes(x as Typed)), k).toBe(true);
  }
  expect(b.headline).toEqual(a.headline);
  expect(b.zones).toEqual(a.zones);
}

async function check(region: Region, profile: string, at: string | null, threads: number): Promise<void> {
  const serial = assess(region, { profile, at, h3Resolutions: [9] });
  const phases: Array<[number, number]> = [];
  const parallel = await assessParallel(region, {
    profile,
    at,
    h3Resolutions: [9],
    threads,
    workerScript: WORKER,
    onProgress: (phase, done, total) => {
      if (phase === 'walking times') phases.push([done, total]);
    },
  });
  expectIdentical(serial, parallel);
  // progress: every search once, in order
  expect(phases.length).toBeGreaterThan(0);
  expect(phases.map(([d]) => d)).toEqual(phases.map((_, i) => i + 1));
  expect(phases.every(([, t]) => t === phases.length)).toBe(true);
  expect(liveTimesWorkers()).toBe(0);
}

describe('parallel walking times equal the single-thread ones exactly', () => {
  test('Krems, mofcom-2021, 2 and 3 threads', async () => {
    await check(krems, 'mofcom-2021', null, 2);
    await check(krems, 'mofcom-2021', null, 3);
  });

  test('generated city, xuhui (default and elderly walking), at Mo 07:00, 2 threads', async () => {
    expect(city.residences.count).toBeGreaterThan(4000);
    await check(city, 'xuhui', 'Mo 07:00', 2);
  });

  test('more threads than searches: one worker per search at most, same result', async () => {
    await check(city, 'gb50180-2018', null, 64);
  });
});

describe('cancel', () => {
  test('abort during the searches: rejects with AbortError, every worker gone', async () => {
    const ac = new AbortController();
    let seen = 0;
    const run = assessParallel(city, {
      profile: 'mofcom-2021',
      h3Resolutions: [],
      threads: 2,
      workerScript: WORKER,
      signal: ac.signal,
      onProgress: (phase) => {
        if (phase === 'walking times' && ++seen === 1) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toBe(1);
    expect(liveTimesWorkers()).toBe(0);
  });

  test('an already aborted signal starts no worker', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(assessParallel(krems, { profile: 'mofcom-2021', h3Resolutions: [], threads: 2, workerScript: WORKER, signal: ac.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(liveTimesWorkers()).toBe(0);
  });

  test('a worker that cannot start fails the assessment, nothing left running', async () => {
    await expect(assessParallel(krems, { profile: 'mofcom-2021', h3Resolutions: [], threads: 2, workerScript: join(dir, 'missing-worker.js') })).rejects.toThrow(/missing-worker/);
    expect(liveTimesWorkers()).toBe(0);
  });
});
