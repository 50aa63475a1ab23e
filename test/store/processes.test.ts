/**
 * The store across processes, run from the test build (globalSetup compiles the project):
 *  - crash safety: a writer is killed with SIGKILL after acknowledging N writes; on reopen every
 *    acknowledged write is there, with its audit row, and the file passes integrity_check;
 *  - two processes doing read-modify-write increments on one scenario with retry on
 *    VersionConflictError: the final count is the number of increments (no lost update);
 *  - a read-only directory, as an unprivileged user (root ignores permission bits, so as root the
 *    child runs with the uid of `nobody`).
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite-store.js';

const STORE_MODULE = join(dirname(inject('quarterCli')), '..', 'store', 'sqlite-store.js');

/** The child: one of three jobs, chosen by argv[2]. Plain ESM so node runs it as is. */
const CHILD = `
const [mode, moduleUrl, dbPath, arg] = process.argv.slice(2);
const { openSqliteStore } = await import(moduleUrl);
const say = (line) => process.stdout.write(line + '\\n');

if (mode === 'open') {
  try {
    const store = await openSqliteStore(dbPath);
    await store.close();
    say(JSON.stringify({ ok: true }));
  } catch (e) {
    say(JSON.stringify({ name: e.name, message: e.message }));
  }
} else if (mode === 'crash') {
  const store = await openSqliteStore(dbPath);
  await store.getRegion('r').catch(() => store.upsertRegion({ name: 'r', file: 'r.quarter', sha256: 'c'.repeat(64) }));
  let counter = await store.getScenario({ region: 'r', name: 'counter' }).catch(() => store.createScenario({ region: 'r', name: 'counter', edits: [{ n: 0 }] }));
  say('ready');
  for (let i = Number(arg); ; i++) {
    await store.createScenario({ region: 'r', name: 's' + i, edits: [{ i }] });
    counter = await store.updateScenario(counter.id, counter.version, { edits: [{ n: counter.edits[0].n + 1 }] });
    say('ack ' + i + ' ' + counter.version);
  }
} else if (mode === 'increment') {
  const store = await openSqliteStore(dbPath, { busyTimeoutMs: 20000 });
  const [count, startAt] = arg.split('@').map(Number);
  const s0 = await store.getScenario({ region: 'r', name: 'shared' });
  // both processes start together, whatever their start-up times
  await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
  let conflicts = 0;
  for (let k = 0; k < count; k++) {
    for (;;) {
      const s = await store.getScenario(s0.id);
      // think for up to 2 ms between reading and writing, as an editor would (much longer)
      await new Promise((r) => setTimeout(r, Math.random() * 2));
      try {
        await store.updateScenario(s.id, s.version, { edits: [{ count: s.edits[0].count + 1 }] }, 'p' + process.pid);
        break;
      } catch (e) {
        if (e.name !== 'VersionConflictError') throw e;
        conflicts++;
      }
    }
  }
  await store.close();
  say(JSON.stringify({ conflicts }));
}
`;

let root = '';
let script = '';
const moduleUrl = pathToFileURL(STORE_MODULE).href;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'quarter-processes-'));
  chmodSync(root, 0o755); // the unprivileged child must reach the script
  script = join(root, 'child.mjs');
  writeFileSync(script, CHILD, { mode: 0o644 });
});
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  stderr: string;
}

/** Run the child; `onLine` may kill it. Only complete lines are reported. */
function runChild(args: string[], opts: { uid?: number; gid?: number; onLine?: (line: string, kill: () => void) => void; killAfterMs?: number } = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], uid: opts.uid, gid: opts.gid, cwd: root });
    const lines: string[] = [];
    let pending = '';
    let stderr = '';
    const kill = (): void => void child.kill('SIGKILL');
    if (opts.killAfterMs !== undefined) setTimeout(kill, opts.killAfterMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        lines.push(line);
        opts.onLine?.(line, kill);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, lines, stderr }));
  });
}

function integrity(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

describe('crash safety', () => {
  test('killed with SIGKILL after N acknowledged writes: all N are there on reopen, with their audit rows', async () => {
    const path = join(root, 'crash', 'store.db');
    mkdirSync(dirname(path), { recursive: true });

    // killed almost at once, perhaps while creating the schema: the file must still open
    await runChild(['crash', moduleUrl, path, '0'], { killAfterMs: 40 });
    (await openSqliteStore(path)).close();

    let next = 0;
    let totalAcks = 0;
    let totalMs = 0;
    for (const killAfter of [100, 1, 40, 200]) {
      const acked: { i: number; counterVersion: number }[] = [];
      let t0 = 0;
      const run = await runChild(['crash', moduleUrl, path, String(next)], {
        onLine: (line, kill) => {
          if (line === 'ready') t0 = performance.now();
          const m = /^ack (\d+) (\d+)$/.exec(line);
          if (!m) return;
          acked.push({ i: Number(m[1]), counterVersion: Number(m[2]) });
          if (acked.length === killAfter) {
            totalMs += performance.now() - t0;
            kill();
          }
        },
      });
      expect(run.signal, run.stderr).toBe('SIGKILL');
      expect(acked.length).toBeGreaterThanOrEqual(killAfter);
      totalAcks += acked.length;

      expect(integrity(path)).toBe('ok');
      const store = await openSqliteStore(path);
      const scenarios = await store.listScenarios('r');
      const byName = new Map(scenarios.map((s) => [s.name, s]));
      for (const a of acked) expect(byName.get(`s${a.i}`)?.edits, `s${a.i}`).toEqual([{ i: a.i }]);
      const counter = byName.get('counter')!;
      expect(counter.version).toBeGreaterThanOrEqual(acked[acked.length - 1].counterVersion);
      // the count and the version moved together: no half-applied update
      expect((counter.edits[0] as { n: number }).n).toBe(counter.version - 1);
      // one audit row per committed write, no more, no fewer
      const creates = await store.listAudit({ action: 'scenario.create', limit: 1000 });
      const updates = await store.listAudit({ action: 'scenario.update', entityId: counter.id, limit: 1000 });
      expect(creates.length).toBe(scenarios.length);
      expect(updates.length).toBe(counter.version - 1);
      next = Math.max(...scenarios.filter((s) => s.name !== 'counter').map((s) => Number(s.name.slice(1)))) + 1;
      await store.close();
    }
    console.log(`crash test: ${totalAcks} acknowledged write pairs survived 4 SIGKILLs (plus one kill at start-up); ~${((2 * totalAcks) / (totalMs / 1000)).toFixed(0)} durable writes/s (synchronous=FULL)`);
  });
});

describe('two processes on one file', () => {
  test('read-modify-write with retry on version conflict loses no increment', async () => {
    const path = join(root, 'shared', 'store.db');
    const store = await openSqliteStore(path);
    await store.upsertRegion({ name: 'r', file: 'r.quarter', sha256: 'c'.repeat(64) });
    const s = await store.createScenario({ region: 'r', name: 'shared', edits: [{ count: 0 }] });
    await store.close();
    const PER_PROCESS = 150;
    const startAt = Date.now() + 2000;
    const runs = await Promise.all([0, 1].map(() => runChild(['increment', moduleUrl, path, `${PER_PROCESS}@${startAt}`])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const conflicts = runs.map((r) => (JSON.parse(r.lines[0]) as { conflicts: number }).conflicts);
    // the processes did overlap (otherwise this test would show nothing)
    expect(conflicts[0] + conflicts[1]).toBeGreaterThan(0);
    const after = await openSqliteStore(path);
    const final = await after.getScenario(s.id);
    expect(final.edits).toEqual([{ count: 2 * PER_PROCESS }]);
    expect(final.version).toBe(2 * PER_PROCESS + 1);
    const audit = await after.listAudit({ action: 'scenario.update', limit: 1000 });
    expect(audit.length).toBe(2 * PER_PROCESS);
    expect(new Set(audit.map((a) => a.actor)).size).toBe(2);
    await after.close();
    console.log(`two processes × ${PER_PROCESS} increments: version conflicts retried ${conflicts.join(' + ')}`);
  });
});

describe('read-only directory', () => {
  test('a new or an existing database in a directory the user cannot write: clear error naming the file', async () => {
    const isRoot = process.getuid?.() === 0;
    const as = isRoot ? { uid: 65534, gid: 65534 } : {};
    const dir = join(root, 'readonly');
    mkdirSync(dir);
    const existing = join(dir, 'existing.db');
    await (await openSqliteStore(existing)).close();
    chmodSync(existing, 0o444);
    chmodSync(dir, 0o555);
    try {
      const fresh = join(dir, 'new.db');
      const a = await runChild(['open', moduleUrl, fresh], as);
      expect(a.stderr).toBe('');
      expect(JSON.parse(a.lines[0])).toMatchObject({ name: 'StoreOpenError' });
      expect(JSON.parse(a.lines[0]).message).toMatch(new RegExp(`^${fresh}: cannot open the database for writing: directory ${dir} is not writable`));
      expect(existsSync(fresh)).toBe(false);

      const b = await runChild(['open', moduleUrl, existing], as);
      expect(JSON.parse(b.lines[0]).name).toBe('StoreOpenError');
      expect(JSON.parse(b.lines[0]).message).toMatch(new RegExp(`^${existing}: cannot open the database for writing: directory ${dir} is not writable`));
    } finally {
      chmodSync(dir, 0o755);
    }
  });
});
