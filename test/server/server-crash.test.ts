/**
 * Fault: the API server is killed (SIGKILL, no shutdown hook runs) while planners write
 * scenarios. Every write the server acknowledged (201 with an id) must be in the database when a
 * new server starts on it; the database passes SQLite's integrity check; the new server serves
 * and accepts writes. The server is the real built `quarter serve` (test build), in its own process.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { writeRegion } from '../../src/region/region-file.js';
import { handRegion } from './hand-region.js';

const CLI = inject('quarterCli');
const tmp = mkdtempSync(join(tmpdir(), 'quarter-crash-'));
const regionFile = join(tmp, 'hand.quarter');
const db = join(tmp, 'quarter.db');
const PLANNER = { name: 'planner', password: 'crash-test-password-1' };
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (out += b.toString()));
    c.on('exit', (code) => resolve({ code, out }));
  });
}

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--region', regionFile, '--db', db, '--port', '0', '--host', '127.0.0.1', '--no-rate-limit'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer): void => {
      out += b.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  return { url, child };
}

async function login(url: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(url + '/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(PLANNER) });
  expect(res.status).toBe(200);
  const cookie = /quarter_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')![0];
  return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
}

beforeAll(async () => {
  writeRegion(regionFile, handRegion().region);
  const made = await run(['user', 'create', PLANNER.name, '--role', 'planner', '--db', db], { QUARTER_PASSWORD: PLANNER.password });
  expect(made.code, made.out).toBe(0);
});

describe('API server killed during scenario writes', () => {
  test('every acknowledged write is there after a restart; the database is intact; the new server works', async () => {
    const first = await startServer();
    const session = await login(first.url);
    const acknowledged = new Map<number, string>();
    let failedAfterKill = 0;
    let killed = false;
    const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf, 'content-type': 'application/json' };
    // eight writers at once, each writing until the server dies under it
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; ; i++) {
        const name = `crash ${w}-${i} 方案`;
        try {
          const res = await fetch(first.url + '/api/scenarios', { method: 'POST', headers, body: JSON.stringify({ name, description: '断电测试', edits: [] }) });
          if (res.status !== 201) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
          acknowledged.set(((await res.json()) as { id: number }).id, name);
        } catch (err) {
          if (!killed) throw err;
          failedAfterKill++;
          return;
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    while (acknowledged.size < 150) await new Promise((r) => setTimeout(r, 10));
    killed = true;
    first.child.kill('SIGKILL');
    await Promise.all(writers);
    expect(failedAfterKill).toBe(8); // every writer saw the server go

    const integrity = new Database(db, { readonly: true });
    expect(integrity.pragma('integrity_check', { simple: true })).toBe('ok');
    integrity.close();

    const second = await startServer();
    const again = await login(second.url);
    const listed = (await (await fetch(second.url + '/api/scenarios', { headers: { cookie: again.cookie } })).json()) as { scenarios: { id: number; name: string }[] };
    const stored = new Map(listed.scenarios.map((s) => [s.id, s.name]));
    for (const [id, name] of acknowledged) expect(stored.get(id), `acknowledged scenario ${id}`).toBe(name);
    // at most one write per writer was in flight when the server died: it may or may not have landed
    expect(stored.size - acknowledged.size).toBeGreaterThanOrEqual(0);
    expect(stored.size - acknowledged.size).toBeLessThanOrEqual(8);
    // and the new server takes writes
    const res = await fetch(second.url + '/api/scenarios', { method: 'POST', headers: { cookie: again.cookie, 'x-csrf-token': again.csrf, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'after restart', edits: [] }) });
    expect(res.status).toBe(201);
    // a stop signal closes the server cleanly: exit 0, the database closed (no -wal left to replay)
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => second.child.once('exit', (code, signal) => r([code, signal])));
    second.child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    expect(existsSync(`${db}-wal`)).toBe(false);
  });
});
