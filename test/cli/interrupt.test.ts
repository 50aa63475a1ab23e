/**
 * Ctrl-C during a long import: exit 130, no region file (or the old one untouched), no temp
 * files. The input is a generated ~300k-node OSM XML grid, big enough to take seconds.
 */
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, test } from 'vitest';
import { KREMS_PBF, expectOk, finished, leftoverTemps, quarter, scratch, spawnQuarter } from './helpers.js';

const dir = scratch('interrupt');
const BIG = join(dir, 'big.osm');
const N = 550; // 550 × 550 = 302,500 nodes, 1,100 footways

beforeAll(() => {
  const parts: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="quarter-test">\n'];
  for (let r = 0; r < N; r++) {
    const lat = (48.3 + r * 0.0001).toFixed(7);
    let s = '';
    for (let c = 0; c < N; c++) s += `<node id="${r * N + c + 1}" lat="${lat}" lon="${(15.5 + c * 0.0001).toFixed(7)}"/>\n`;
    parts.push(s);
  }
  let way = 1;
  for (let r = 0; r < N; r++) {
    let s = `<way id="${way++}">`;
    for (let c = 0; c < N; c++) s += `<nd ref="${r * N + c + 1}"/>`;
    parts.push(`${s}<tag k="highway" v="footway"/></way>\n`);
  }
  for (let c = 0; c < N; c++) {
    let s = `<way id="${way++}">`;
    for (let r = 0; r < N; r++) s += `<nd ref="${r * N + c + 1}"/>`;
    parts.push(`${s}<tag k="highway" v="footway"/></way>\n`);
  }
  parts.push('</osm>\n');
  writeFileSync(BIG, parts.join(''));
});

/** Has the process opened `file` yet (Linux /proc)? Then main() has run and the import is under way. */
function hasOpen(pid: number, file: string): boolean {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === file) return true;
      } catch {
        /* fd closed meanwhile */
      }
    }
  } catch {
    return true; // no /proc: fall back to the plain delay
  }
  return false;
}

/** Start an import of BIG into `out`, send SIGINT ~300 ms in (once it is reading), wait for the exit. */
async function interruptedImport(out: string) {
  const t0 = Date.now();
  const child = spawnQuarter(['import', BIG, '-o', out], { cwd: dir });
  const done = finished(child);
  let exited = false;
  child.on('exit', () => (exited = true));
  const pid = child.pid as number;
  while (!exited && (Date.now() - t0 < 300 || !hasOpen(pid, BIG)) && Date.now() - t0 < 20000) await sleep(10);
  expect(exited, 'the import finished before it could be interrupted').toBe(false);
  child.kill('SIGINT');
  const res = await done;
  return { ...res, ms: Date.now() - t0 };
}

describe('SIGINT during import', () => {
  test('exits 130 and leaves no region file and no temp file', async () => {
    const res = await interruptedImport('out/big.quarter');
    expect({ code: res.code, signal: res.signal }).toEqual({ code: 130, signal: null });
    expect(existsSync(join(dir, 'out', 'big.quarter'))).toBe(false);
    expect(leftoverTemps(dir)).toEqual([]);
    if (existsSync(join(dir, 'out'))) expect(readdirSync(join(dir, 'out'))).toEqual([]);
  });

  test('an existing region file at the target stays byte-identical', async () => {
    expectOk(quarter(['import', KREMS_PBF, '-o', 'keep/region.quarter'], { cwd: dir }));
    const before = readFileSync(join(dir, 'keep', 'region.quarter'));
    const res = await interruptedImport('keep/region.quarter');
    expect(res.code).toBe(130);
    expect(readFileSync(join(dir, 'keep', 'region.quarter')).equals(before)).toBe(true);
    expect(readdirSync(join(dir, 'keep'))).toEqual(['region.quarter']);
  });

  test('the same file imports fine when left alone (the interrupt, not the input, stopped it)', async () => {
    const r = quarter(['import', BIG, '-o', 'whole/big.quarter', '--json'], { cwd: dir });
    expectOk(r);
    expect(JSON.parse(r.stdout).meta.report.osm.nodesRead).toBe(N * N);
    expect(leftoverTemps(join(dir, 'whole'))).toEqual([]);
  });
});
