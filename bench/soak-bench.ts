/**
 * Soak test of the API (loopback only, bounded: it stops by itself after --seconds): a mixed load of
 * isochrones, nearest answers, assessment reads and scenario writes on the Krems demo, with
 * --connections in all (default 200), for --seconds (default 300), against one `quarter serve`
 * process or --servers 2 sharing one database (--db: a SQLite file by default, or a PostgreSQL URL).
 *
 * Checked, not only timed:
 * - no transport errors, no timeouts, no 5xx (and no other non-2xx: the load only asks what is valid);
 * - nothing lost: every scenario write answered 201 is in the database afterwards, counted there;
 * - memory: every server's resident set is sampled every 2 s; its growth from the end of the first
 *   minute (caches filled, JIT warm) to the end must stay under --rss-bound-mb (default 200 MB).
 *
 * npm run build && node dist/bench/soak-bench.js [--seconds 300] [--connections 200] [--servers 1|2] [--db <file|postgres://…>]
 * — prints a markdown table and writes bench/out/soak.json. Exit code 1 when a check fails.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { importRegion } from '../src/region/import-region.js';
import { writeRegion } from '../src/region/region-file.js';
import { BENCH_OUT, describeMachine, ROOT, sampleNetworkPoints, startQuarterServer, writeSection, type ServerProcess } from './util.js';

const say = (s: string): void => void process.stderr.write(s + '\n');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const PLANNER = { name: 'soak-planner', password: 'soak-password-123' };

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const seconds = Number(flag('--seconds', '300'));
const connections = Number(flag('--connections', '200'));
const servers = Number(flag('--servers', '1'));
const rssBoundMb = Number(flag('--rss-bound-mb', '200'));
if (!(seconds >= 10 && seconds <= 3600)) throw new Error('--seconds must be 10–3600');
if (!(connections >= 10 && connections <= 2000)) throw new Error('--connections must be 10–2000');
if (servers !== 1 && servers !== 2) throw new Error('--servers must be 1 or 2');
const dbSpec = flag('--db', join(BENCH_OUT, 'soak.db'));
const dbIsFile = !/^postgres(ql)?:\/\//.test(dbSpec);

/** Share of the connections per kind of request (sums to 1). */
const MIX = [
  { kind: 'isochrone', share: 0.45 },
  { kind: 'nearest', share: 0.3 },
  { kind: 'assessment read', share: 0.1 },
  { kind: 'scenario write', share: 0.15 },
] as const;
type Kind = (typeof MIX)[number]['kind'];

interface Server extends ServerProcess {
  rss: { t: number; mb: number }[];
}


/** Resident set of a process in MB, from /proc (Linux). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function login(url: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(url + '/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(PLANNER) });
  if (res.status !== 200) throw new Error(`login: HTTP ${res.status} ${await res.text()}`);
  const cookie = /quarter_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0];
  if (!cookie) throw new Error('login: no session cookie');
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie, csrf: csrfToken };
}

mkdirSync(BENCH_OUT, { recursive: true });
const regionFile = join(BENCH_OUT, 'soak-krems.quarter');
const region = await importRegion(join(ROOT, 'data', 'krems', 'krems.osm.pbf'));
writeRegion(regionFile, region);
if (dbIsFile) for (const ext of ['', '-wal', '-shm']) rmSync(dbSpec + ext, { force: true });
await new Promise<void>((resolve, reject) => {
  const c = spawn(process.execPath, [CLI, 'user', 'create', PLANNER.name, '--role', 'planner', '--db', dbSpec], { env: { ...process.env, QUARTER_PASSWORD: PLANNER.password }, stdio: ['ignore', 'ignore', 'inherit'] });
  c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`quarter user create exited ${code}`))));
});
const pts = sampleNetworkPoints(region.graph, 5000, 11);
const at = (i: number): string => `${pts.coords[2 * (i % 5000)].toFixed(6)},${pts.coords[2 * (i % 5000) + 1].toFixed(6)}`;
const facility = region.facilities.find((f) => f.formats.length > 0)!;
const format = facility.formats[0];

const started: Server[] = [];
for (let s = 0; s < servers; s++) started.push({ ...(await startQuarterServer(['--region', regionFile, '--db', dbSpec, '--no-rate-limit'])), rss: [] });
say(`servers: ${started.map((s) => s.url).join(', ')}`);
const sessions = await Promise.all(started.map((s) => login(s.url)));
const machine = describeMachine();
const load0 = loadavg()[0];
const t0 = Date.now();
const sampler = setInterval(() => {
  for (const s of started) if (s.child.pid) s.rss.push({ t: (Date.now() - t0) / 1000, mb: rssMb(s.child.pid) });
}, 2000);

let writeSeq = 0;
/** ids of the scenarios the servers acknowledged (201), from the answers' bodies. */
const acknowledgedIds = new Set<number>();
/** One autocannon instance per kind of request and server: each has its own latency histogram. */
function drive(server: Server, session: { cookie: string; csrf: string }, kind: Kind, conns: number): Promise<autocannon.Result> {
  let k = Math.floor(Math.random() * 5000);
  const common = { url: server.url, connections: conns, duration: seconds, timeout: 30 };
  switch (kind) {
    case 'isochrone':
      return autocannon({ ...common, requests: [{ setupRequest: (r) => ({ ...r, path: `/api/isochrone?at=${at(k++)}&minutes=5,10,15` }) }] });
    case 'nearest':
      return autocannon({ ...common, requests: [{ setupRequest: (r) => ({ ...r, path: `/api/nearest?at=${at(k++)}` }) }] });
    case 'assessment read':
      // the planners' reads of assessment results: the region's formats, facilities by format and the region summary
      return autocannon({
        ...common,
        requests: [
          { method: 'GET', path: '/api/formats' },
          { method: 'GET', path: `/api/facilities?format=${format}` },
          { method: 'GET', path: '/api/regions' },
        ],
      });
    case 'scenario write':
      return autocannon({
        ...common,
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, 'content-type': 'application/json' },
        requests: [
          {
            method: 'POST',
            path: '/api/scenarios',
            setupRequest: (r) => {
              const n = writeSeq++;
              const [lon, lat] = at(n).split(',').map(Number);
              return { ...r, body: JSON.stringify({ name: `soak ${process.pid} ${n}`, edits: [{ id: 'a1', type: 'add_facility', formats: [format], name: `新点 ${n}`, lon, lat }] }) };
            },
            onResponse: (status, body) => {
              if (status === 201) acknowledgedIds.add((JSON.parse(body) as { id: number }).id);
            },
          },
        ],
      });
  }
}

const runs: { server: number; kind: Kind; result: Promise<autocannon.Result> }[] = [];
started.forEach((server, si) => {
  for (const m of MIX) {
    const conns = Math.max(1, Math.round((connections * m.share) / servers));
    runs.push({ server: si, kind: m.kind, result: drive(server, sessions[si], m.kind, conns) });
  }
});
const results = await Promise.all(runs.map(async (r) => ({ ...r, result: await r.result })));
clearInterval(sampler);

// nothing lost: every scenario acknowledged (201) is in the database; writes still in flight when
// the load stopped may be there too, unacknowledged (at most one per write connection)
const listed = await fetch(started[0].url + '/api/scenarios', { headers: { cookie: sessions[0].cookie } });
const storedIds = new Set(((await listed.json()) as { scenarios: { id: number; name: string }[] }).scenarios.filter((s) => s.name.startsWith(`soak ${process.pid} `)).map((s) => s.id));
const acknowledged = acknowledgedIds.size;
const missing = [...acknowledgedIds].filter((id) => !storedIds.has(id));
const stored = storedIds.size;
for (const s of started) s.child.kill('SIGTERM');

const L: string[] = [];
const failures: string[] = [];
L.push(`## ${dbIsFile ? '10' : '11'}. Soak (bench/soak-bench.ts): mixed load, ${connections} connections, ${seconds} s, ${servers} server${servers > 1 ? 's' : ''} on one ${dbIsFile ? 'SQLite file' : 'PostgreSQL database'} (Krems, loopback)`);
L.push('');
L.push(
  `Measured ${machine.dateUtc}, ${machine.nproc} × ${machine.cpuModel}, Node ${machine.node}; servers (\`quarter serve\`) in their own processes, autocannon in this one; 1-minute load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}. ` +
    `Mix of connections: ${MIX.map((m) => `${m.kind} ${Math.round(m.share * 100)} %`).join(', ')}; isochrone and nearest over 5,000 random network points; each scenario write creates a scenario with one added facility.`,
);
L.push('');
L.push('| server | kind | connections | requests | req/s | errors + timeouts | non-2xx | p50 ms | p99 ms | max ms |');
L.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const x = r.result;
  const bad = x.errors + x.timeouts;
  if (bad > 0 || x.non2xx > 0) failures.push(`server ${r.server + 1} ${r.kind}: ${bad} errors/timeouts, ${x.non2xx} non-2xx (${JSON.stringify(x.statusCodeStats)})`);
  L.push(`| ${r.server + 1} | ${r.kind} | ${x.connections} | ${x.requests.total} | ${x.requests.average.toFixed(0)} | ${bad} | ${x.non2xx} | ${x.latency.p50} | ${x.latency.p99} | ${x.latency.max} |`);
}
L.push('');
if (missing.length > 0) failures.push(`scenario writes: ${missing.length} of ${acknowledged} acknowledged (201) are not in the database (ids ${missing.slice(0, 10).join(', ')}…)`);
L.push(`Scenario writes acknowledged (201): ${acknowledged}, every one found in the database afterwards: ${missing.length === 0 ? 'yes' : `NO, ${missing.length} missing`} (${stored} stored: writes in flight at the stop may land unacknowledged).`);
started.forEach((s, i) => {
  const after = s.rss.filter((x) => x.t >= Math.min(60, seconds / 2));
  const base = after[0]?.mb ?? NaN;
  const end = after[after.length - 1]?.mb ?? NaN;
  const peak = Math.max(...s.rss.map((x) => x.mb));
  const growth = end - base;
  if (!(growth <= rssBoundMb)) failures.push(`server ${i + 1}: resident set grew ${growth.toFixed(0)} MB after the first minute (bound ${rssBoundMb} MB)`);
  L.push(`Server ${i + 1} resident set: ${base.toFixed(0)} MB after the first minute, ${end.toFixed(0)} MB at the end (growth ${growth.toFixed(0)} MB, bound ${rssBoundMb} MB), peak ${peak.toFixed(0)} MB.`);
});
L.push('');
L.push(failures.length === 0 ? 'All checks passed.' : `FAILED: ${failures.join('; ')}`);
writeFileSync(join(BENCH_OUT, 'soak.json'), JSON.stringify({ machine, load: [load0, loadavg()[0]], seconds, connections, servers, results: results.map((r) => ({ server: r.server, kind: r.kind, latency: r.result.latency, requests: r.result.requests, errors: r.result.errors, timeouts: r.result.timeouts, non2xx: r.result.non2xx, statusCodeStats: r.result.statusCodeStats })), acknowledged, stored, missing, rss: started.map((s) => s.rss) }, null, 1));
process.stdout.write(L.join('\n') + '\n');
writeSection(`${dbIsFile ? '10' : '11'}-soak-${dbIsFile ? 'sqlite' : 'postgres'}-${servers}.md`, L.join('\n'));
process.exitCode = failures.length === 0 ? 0 : 1;
