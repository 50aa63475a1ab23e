/**
 * Helpers for the CLI tests: run the built `quarter` (built by global-setup.ts with
 * `npm run build`) in a temp directory, check its failures, read its CSV with an independent
 * RFC 4180 parser, and a plain Dijkstra over the exported graph to check its answers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, inject } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The CLI built by global-setup.ts for this run (falls back to dist/ when run without it). */
export const CLI = inject('quarterCli') ?? join(ROOT, 'dist', 'src', 'cli', 'main.js');
export const KREMS_PBF = join(ROOT, 'data', 'krems', 'krems.osm.pbf');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'osm');

export const EXIT = { ok: 0, internal: 1, usage: 2, input: 3, noResult: 4, output: 5, network: 6 } as const;

/** A fresh temp directory, removed after the file's tests. */
export function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `quarter-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface RunOptions {
  cwd: string;
  /** QUARTER_REGION for the child; omitted = unset (commands then look for out/demo.quarter in cwd). */
  region?: string;
  env?: Record<string, string>;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function childEnv(opts: RunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // nothing from the developer's shell may redirect the CLI (a region elsewhere, the real Overpass, stack dumps)
  delete env.QUARTER_REGION;
  delete env.QUARTER_OVERPASS;
  delete env.QUARTER_DEBUG;
  if (opts.region !== undefined) env.QUARTER_REGION = opts.region;
  Object.assign(env, opts.env);
  return env;
}

/** Run `quarter …` synchronously. Not for talking to a server in this process (use quarterAsync). */
export function quarter(args: string[], opts: RunOptions): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: childEnv(opts),
    encoding: 'utf8',
    timeout: 55000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Start `quarter …` without waiting. */
export function spawnQuarter(args: string[], opts: RunOptions): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: childEnv(opts), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collect a child's output until it exits. */
export function finished(child: ChildProcess): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

export function quarterAsync(args: string[], opts: RunOptions): Promise<CliResult> {
  return finished(spawnQuarter(args, opts));
}

/** Succeeded: exit 0, and show stderr when it did not. */
export function expectOk(r: CliResult): void {
  expect(r.code, `exit ${r.code} (signal ${r.signal}): ${r.stderr}`).toBe(0);
}

/**
 * Failed the way a script can rely on: the exact exit code, nothing on stdout, and exactly one
 * line on stderr, `quarter: …`, matching `message` (which should name the flag or file).
 */
export function expectFailure(r: CliResult, code: number, message: RegExp): string {
  expect(r.code, `stderr: ${r.stderr}`).toBe(code);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  const lines = r.stderr.slice(0, -1).split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^quarter: /);
  expect(lines[0]).not.toMatch(/internal error|\bat .*\.js:\d+/);
  expect(lines[0]).toMatch(message);
  return lines[0];
}

/** Temp files a writer left behind (`.name.tmp-pid-xxxx`). */
export function leftoverTemps(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('.tmp-'));
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180), written here independently of src/report/csv.ts

/** Parse RFC 4180 text into records; throws on a stray quote or an unterminated quoted field. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let fieldStarted = false;
  const endField = (): void => {
    record.push(field);
    field = '';
    fieldStarted = false;
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        if (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
          throw new Error(`CSV: text after a closing quote at offset ${i}`);
        }
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (fieldStarted || field !== '') throw new Error(`CSV: quote inside an unquoted field at offset ${i}`);
      quoted = true;
      fieldStarted = true;
      i++;
    } else if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' || c === '\n') {
      endField();
      records.push(record);
      record = [];
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      fieldStarted = true;
      i++;
    }
  }
  if (quoted) throw new Error('CSV: unterminated quoted field');
  if (fieldStarted || field !== '' || record.length > 0) {
    endField();
    records.push(record);
  }
  return records;
}

export interface CsvTable {
  bom: boolean;
  crlf: boolean;
  header: string[];
  rows: Record<string, string>[];
}

/** Read a CSV file: BOM noted and stripped, every record checked to have the header's width. */
export function readCsv(file: string): CsvTable {
  let text = readFileSync(file, 'utf8');
  const bom = text.startsWith('\uFEFF');
  if (bom) text = text.slice(1);
  const crlf = /^[^\n]*\r\n/.test(text);
  const [header, ...records] = parseCsv(text);
  const rows = records.map((r, k) => {
    if (r.length !== header.length) throw new Error(`${file}: record ${k + 1} has ${r.length} fields, header has ${header.length}`);
    return Object.fromEntries(header.map((h, j) => [h, r[j]]));
  });
  return { bom, crlf, header, rows };
}

// ---------------------------------------------------------------------------------------------
// The exported graph and a plain Dijkstra over it

export interface ExportedGraph {
  nodes: Array<{ lon: string; lat: string; component: number }>;
  /** adjacency: per node, [neighbour, seconds] pairs (edges are walkable both ways). */
  adj: Array<Array<[number, number]>>;
  edgeCount: number;
  facilities: Record<string, string>[];
}

export function loadExport(dir: string): ExportedGraph {
  const nodes = readCsv(join(dir, 'nodes.csv')).rows.map((r, k) => {
    if (Number(r.node) !== k) throw new Error(`nodes.csv: row ${k} is node ${r.node}`);
    return { lon: r.lon, lat: r.lat, component: Number(r.component) };
  });
  const adj: Array<Array<[number, number]>> = nodes.map(() => []);
  const edges = readCsv(join(dir, 'edges.csv')).rows;
  for (const e of edges) {
    const a = Number(e.from);
    const b = Number(e.to);
    const s = Number(e.seconds);
    adj[a].push([b, s]);
    adj[b].push([a, s]);
  }
  return { nodes, adj, edgeCount: edges.length, facilities: readCsv(join(dir, 'facilities.csv')).rows };
}

/** Textbook Dijkstra with a binary heap (lazy deletion) from several (node, seconds) seeds. */
export function dijkstra(adj: ExportedGraph['adj'], seeds: Array<[number, number]>): Float64Array {
  const dist = new Float64Array(adj.length).fill(Infinity);
  const heap: Array<[number, number]> = [];
  const push = (item: [number, number]): void => {
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p][0] <= heap[i][0]) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  };
  const pop = (): [number, number] => {
    const top = heap[0];
    const last = heap.pop() as [number, number];
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l][0] < heap[m][0]) m = l;
        if (r < heap.length && heap[r][0] < heap[m][0]) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    }
    return top;
  };
  for (const [node, sec] of seeds) {
    if (sec < dist[node]) {
      dist[node] = sec;
      push([sec, node]);
    }
  }
  while (heap.length > 0) {
    const [d, u] = pop();
    if (d > dist[u]) continue;
    for (const [v, s] of adj[u]) {
      if (d + s < dist[v]) {
        dist[v] = d + s;
        push([d + s, v]);
      }
    }
  }
  return dist;
}

/** The two seeds of a facilities.csv row (empty when the facility is unreachable). */
export function facilitySeeds(row: Record<string, string>): Array<[number, number]> {
  if (row.from_node === '') return [];
  return [
    [Number(row.from_node), Number(row.seconds_to_from)],
    [Number(row.to_node), Number(row.seconds_to_to)],
  ];
}

/** Seconds from a search (dist over nodes) to a facility: the better edge end plus its part of the edge. */
export function secondsToFacility(dist: Float64Array, row: Record<string, string>): number {
  if (row.from_node === '') return Infinity;
  return Math.min(dist[Number(row.from_node)] + Number(row.seconds_to_from), dist[Number(row.to_node)] + Number(row.seconds_to_to));
}

// ---------------------------------------------------------------------------------------------
// Hand-made OSM XML

export const xmlAttr = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');

export interface TinyPoi {
  name: string;
  tags: Record<string, string>;
  /** metres east/north of the grid's south-west corner. */
  at: [number, number];
}

/**
 * A small OSM XML: a rows × cols grid of footways, `spacing` metres apart, at (lon0, lat0),
 * plus POI nodes. Enough for a region with a connected network and named facilities.
 */
export function tinyOsm(pois: TinyPoi[], opts: { rows?: number; cols?: number; spacing?: number; lon0?: number; lat0?: number } = {}): string {
  const { rows = 4, cols = 4, spacing = 100, lon0 = 15.6, lat0 = 48.4 } = opts;
  const ky = 111195;
  const kx = ky * Math.cos((lat0 * Math.PI) / 180);
  const lon = (x: number): string => (lon0 + x / kx).toFixed(7);
  const lat = (y: number): string => (lat0 + y / ky).toFixed(7);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="quarter-test">'];
  const id = (r: number, c: number): number => 1000 + r * cols + c;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out.push(`  <node id="${id(r, c)}" lat="${lat(r * spacing)}" lon="${lon(c * spacing)}"/>`);
  pois.forEach((p, k) => {
    out.push(`  <node id="${5000 + k}" lat="${lat(p.at[1])}" lon="${lon(p.at[0])}">`);
    for (const [key, v] of Object.entries({ ...p.tags, name: p.name })) out.push(`    <tag k="${xmlAttr(key)}" v="${xmlAttr(v)}"/>`);
    out.push('  </node>');
  });
  let way = 1;
  for (let r = 0; r < rows; r++) {
    out.push(`  <way id="${way++}">`);
    for (let c = 0; c < cols; c++) out.push(`    <nd ref="${id(r, c)}"/>`);
    out.push('    <tag k="highway" v="footway"/>', '  </way>');
  }
  for (let c = 0; c < cols; c++) {
    out.push(`  <way id="${way++}">`);
    for (let r = 0; r < rows; r++) out.push(`    <nd ref="${id(r, c)}"/>`);
    out.push('    <tag k="highway" v="footway"/>', '  </way>');
  }
  out.push('</osm>', '');
  return out.join('\n');
}
