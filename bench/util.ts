/**
 * Small helpers shared by the benchmark suite: statistics, process memory, child tasks,
 * machine description, and uniformly random positions on a walk network.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WalkGraph } from '../src/engine/graph.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { mulberry32 } from './grid.js';

export const ROOT = PACKAGE_ROOT;
export const BENCH_OUT = join(ROOT, 'bench', 'out');
export const PYTHON = '/usr/bin/python3';
/** Sections of RESULTS.md written by the benches that run on their own (load, first load, soak): one file each, in name order. */
export const SECTIONS_DIR = join(ROOT, 'bench', 'sections');

/** Keep a standalone bench's section (markdown, from its "## n." heading) for RESULTS.md; then re-render it (run.js --render-only) or splice it by hand. */
export function writeSection(file: string, markdown: string): void {
  mkdirSync(SECTIONS_DIR, { recursive: true });
  writeFileSync(join(SECTIONS_DIR, file), markdown.trimEnd() + '\n');
}

/** The kept sections, in file-name order. */
export function standaloneSections(): string[] {
  if (!existsSync(SECTIONS_DIR)) return [];
  return readdirSync(SECTIONS_DIR)
    .filter((f) => f.endsWith('.md'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((f) => readFileSync(join(SECTIONS_DIR, f), 'utf8'));
}

// ---------------------------------------------------------------- statistics

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

export function median(xs: ArrayLike<number>): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function mean(xs: ArrayLike<number>): number {
  let t = 0;
  for (let i = 0; i < xs.length; i++) t += xs[i];
  return t / xs.length;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
  min: number;
}

export function summarize(xs: ArrayLike<number>): Summary {
  const s = Array.from(xs);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: Math.max(...s), mean: mean(s), min: Math.min(...s) };
}

// ---------------------------------------------------------------- memory

/** VmHWM / VmRSS of this process, in KiB, from /proc/self/status. */
export function procMemKb(): { hwmKb: number; rssKb: number } {
  const s = readFileSync('/proc/self/status', 'utf8');
  const get = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { hwmKb: get('VmHWM'), rssKb: get('VmRSS') };
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

// ---------------------------------------------------------------- child processes

export interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** Run a command, collecting its output (stderr is also echoed, indented, for progress). */
export function run(cmd: string, args: string[], opts: { echoStderr?: boolean; timeoutMs?: number } = {}): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (opts.echoStderr) process.stderr.write(d.replace(/^(?=.)/gm, '    '));
    });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr, wallMs: performance.now() - t0 });
    });
  });
}

/** Last line of stdout as JSON (tasks and peers print one JSON report there). */
export function lastJson<T>(r: Spawned, what: string): T {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${what}: exit ${r.code}, no JSON report.\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-4000)}`);
  }
}

/** Run a bench/tasks.ts task in a fresh Node process (own heap, own VmHWM). */
export async function runTask<T>(task: string, args: object): Promise<T> {
  const script = join(ROOT, 'dist', 'bench', 'tasks.js');
  const r = await run(process.execPath, ['--expose-gc', script, task, JSON.stringify(args)], { echoStderr: true });
  if (r.code !== 0) throw new Error(`task ${task} failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
  return lastJson<T>(r, `task ${task}`);
}

// ---------------------------------------------------------------- machine

export interface Machine {
  dateUtc: string;
  nproc: number;
  cpuModel: string;
  memTotalGiB: number;
  node: string;
  python: string;
  igraph: string;
  networkx: string;
  numpy: string;
}

export function describeMachine(): Machine {
  const sh = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch (err) {
      return `unavailable (${(err as Error).message.split('\n')[0]})`;
    }
  };
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? NaN);
  const py = sh(PYTHON, [
    '-c',
    'import sys, igraph, networkx, numpy; print(sys.version.split()[0], igraph.__version__, networkx.__version__, numpy.__version__)',
  ]).split(' ');
  return {
    dateUtc: sh('date', ['-u']),
    nproc: Number(sh('nproc', [])),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memTotalGiB: memKb / 1024 / 1024,
    node: process.version,
    python: py[0] ?? '?',
    igraph: py[1] ?? '?',
    networkx: py[2] ?? '?',
    numpy: py[3] ?? '?',
  };
}

// ---------------------------------------------------------------- random positions on a network

export interface NetworkPoints {
  /** lon,lat pairs. */
  coords: Float64Array;
  /** edge each point lies on. */
  edges: Int32Array;
}

/**
 * `count` points uniformly distributed over the network's length (seeded): an edge is drawn
 * with probability proportional to its geometric length, then a position uniformly along
 * its polyline. Every edge counts, islands included.
 */
export function sampleNetworkPoints(g: WalkGraph, count: number, seed: number): NetworkPoints {
  const go = g.geomOffsets;
  const gc = g.geomCoords;
  const segLen = (p: number): number => {
    const kx = Math.cos(gc[2 * p + 1] * (Math.PI / 180));
    const dx = (gc[2 * p + 2] - gc[2 * p]) * kx;
    const dy = gc[2 * p + 3] - gc[2 * p + 1];
    return Math.sqrt(dx * dx + dy * dy); // degrees of latitude: only ratios matter
  };
  const cum = new Float64Array(g.edgeCount + 1);
  for (let e = 0; e < g.edgeCount; e++) {
    let l = 0;
    for (let p = go[e]; p < go[e + 1] - 1; p++) l += segLen(p);
    cum[e + 1] = cum[e] + l;
  }
  const total = cum[g.edgeCount];
  const rnd = mulberry32(seed);
  const coords = new Float64Array(2 * count);
  const edges = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const x = rnd() * total;
    let lo = 0;
    let hi = g.edgeCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid + 1] <= x) lo = mid + 1;
      else hi = mid;
    }
    const e = lo;
    let rest = x - cum[e];
    let p = go[e];
    const last = go[e + 1] - 1;
    for (; p < last - 1; p++) {
      const l = segLen(p);
      if (rest <= l) break;
      rest -= l;
    }
    const l = last > p ? segLen(p) : 0;
    const t = l > 0 ? Math.min(1, rest / l) : 0;
    const q = last > p ? p + 1 : p;
    coords[2 * i] = gc[2 * p] + t * (gc[2 * q] - gc[2 * p]);
    coords[2 * i + 1] = gc[2 * p + 1] + t * (gc[2 * q + 1] - gc[2 * p + 1]);
    edges[i] = e;
  }
  return { coords, edges };
}

/** Read a little-endian float64 file (the peers' --out). */
export function readF64(file: string): Float64Array {
  const b = readFileSync(file);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export interface Agreement {
  /** max |a − b| over nodes finite in both. */
  maxAbs: number;
  /** nodes reached by one and not the other. */
  reachMismatch: number;
  compared: number;
}

export function agreement(a: ArrayLike<number>, b: ArrayLike<number>): Agreement {
  if (a.length !== b.length) throw new Error(`agreement: lengths differ (${a.length} vs ${b.length})`);
  let maxAbs = 0;
  let reachMismatch = 0;
  let compared = 0;
  for (let i = 0; i < a.length; i++) {
    const fa = Number.isFinite(a[i]);
    const fb = Number.isFinite(b[i]);
    if (fa !== fb) reachMismatch++;
    else if (fa) {
      compared++;
      const d = Math.abs(a[i] - b[i]);
      if (d > maxAbs) maxAbs = d;
    }
  }
  return { maxAbs, reachMismatch, compared };
}

export function mergeAgreement(xs: Agreement[]): Agreement {
  return xs.reduce(
    (acc, x) => ({ maxAbs: Math.max(acc.maxAbs, x.maxAbs), reachMismatch: acc.reachMismatch + x.reachMismatch, compared: acc.compared + x.compared }),
    { maxAbs: 0, reachMismatch: 0, compared: 0 },
  );
}

// ---------------------------------------------------------------- the API server in its own process

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(): void;
}

/** `quarter serve` (the built CLI) on a free loopback port with these extra flags; resolves once it listens. */
export async function startQuarterServer(args: readonly string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'serve', '--port', '0', '--host', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
  });
  return { url, child, stop: () => void child.kill('SIGTERM') };
}
