/**
 * Load bench for the HTTP API (issue target: isochrone endpoint p50 ≤ 10 ms, p99 ≤ 50 ms at 100
 * concurrent connections on Krems), loopback only, bounded in time. The server runs in a child
 * process (its own event loop, as in production: `quarter serve`); autocannon drives it from this
 * one. Four runs: a new random network point on every request (every answer computed: the
 * engine's throughput, which bounds latency by Little's law), 2,000 points (each computed once,
 * then served from the response cache), 50 points, and 2,000 points asking for compressed answers
 * as browsers do (compressed once per cache entry).
 *
 * npm run build && node dist/bench/load-bench.js [--seconds 15] — prints a markdown table and
 * writes bench/out/load.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { importRegion } from '../src/region/import-region.js';
import { writeRegion } from '../src/region/region-file.js';
import { BENCH_OUT, describeMachine, ROOT, sampleNetworkPoints, startQuarterServer, writeSection } from './util.js';

const say = (s: string): void => void process.stderr.write(s + '\n');
export const LOAD_TARGETS = { p50Ms: 10, p99Ms: 50, connections: 100 } as const;

interface LoadRun {
  name: string;
  points: number;
  requests: number;
  errors: number;
  non2xx: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  rps: number;
}


async function drive(url: string, name: string, coords: Float64Array, count: number, seconds: number, headers: Record<string, string> = {}): Promise<LoadRun> {
  const paths: string[] = [];
  for (let i = 0; i < count; i++) paths.push(`/api/isochrone?at=${coords[2 * i].toFixed(6)},${coords[2 * i + 1].toFixed(6)}&minutes=5,10,15`);
  let k = 0;
  const res = await autocannon({
    url,
    connections: LOAD_TARGETS.connections,
    duration: seconds,
    headers,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths[k++ % paths.length] }) }],
  });
  return {
    name,
    points: count,
    requests: res.requests.total,
    errors: res.errors + res.timeouts,
    non2xx: res.non2xx,
    p50: res.latency.p50,
    p90: res.latency.p90,
    p99: res.latency.p99,
    max: res.latency.max,
    rps: res.requests.average,
  };
}

const args = process.argv.slice(2);
const si = args.indexOf('--seconds');
const seconds = si >= 0 ? Number(args[si + 1]) : 15;
mkdirSync(BENCH_OUT, { recursive: true });
const regionFile = join(BENCH_OUT, 'load-krems.quarter');
const region = await importRegion(join(ROOT, 'data', 'krems', 'krems.osm.pbf'));
writeRegion(regionFile, region);
// enough distinct points that the "new point every request" run never repeats one (≤ 25,000 req/s)
const FRESH = Math.max(2000, Math.ceil(seconds * 25_000));
const pts = sampleNetworkPoints(region.graph, FRESH, 5);
const fresh = sampleNetworkPoints(region.graph, FRESH, 6);
const server = await startQuarterServer(['--region', regionFile, '--db', join(BENCH_OUT, 'load.db'), '--no-rate-limit']);
say(`server at ${server.url}`);
const machine = describeMachine();
const load0 = loadavg()[0];
try {
  // warm-up: JIT and first allocations
  await drive(server.url, 'warm-up', pts.coords, 200, 3);
  // every request computes: the engine's throughput, which no cache changes
  const uncached = await drive(server.url, 'a new point every request (every answer computed)', fresh.coords, FRESH, seconds);
  const spread = await drive(server.url, '2,000 points (each computed once, then cached)', pts.coords, 2000, seconds);
  const warm = await drive(server.url, '50 points (cache)', pts.coords, 50, seconds);
  const browser = await drive(server.url, '2,000 points, Accept-Encoding: br, gzip (as browsers ask)', pts.coords, 2000, seconds, { 'accept-encoding': 'br, gzip' });
  const runs = [uncached, spread, warm, browser];
  writeFileSync(join(BENCH_OUT, 'load.json'), JSON.stringify({ machine, load: [load0, loadavg()[0]], seconds, runs }, null, 1));
  const L: string[] = [];
  L.push(`## 8. HTTP API under load: isochrone endpoint (bench/load-bench.ts; autocannon, ${LOAD_TARGETS.connections} connections, ${seconds} s per run, Krems, loopback)`);
  L.push('');
  L.push(`Measured ${machine.dateUtc}, ${machine.nproc} × ${machine.cpuModel}, Node ${machine.node}; server in its own process (\`quarter serve\`), autocannon in another; 1-minute load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}. Targets: p50 ≤ ${LOAD_TARGETS.p50Ms} ms, p99 ≤ ${LOAD_TARGETS.p99Ms} ms.`);
  L.push('');
  L.push('| run | points | requests | errors | non-2xx | req/s | p50 ms | p90 ms | p99 ms | max ms | target |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of runs) {
    const met = r.p50 <= LOAD_TARGETS.p50Ms && r.p99 <= LOAD_TARGETS.p99Ms && r.errors === 0 && r.non2xx === 0;
    L.push(`| ${r.name} | ${r.points} | ${r.requests} | ${r.errors} | ${r.non2xx} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${met ? 'met' : 'MISSED'} |`);
  }
  L.push('');
  L.push(
    `**Reading it.** With ${LOAD_TARGETS.connections} connections always busy, latency ≈ connections ÷ throughput (Little's law): p50 ≤ ${LOAD_TARGETS.p50Ms} ms needs about ${Math.round((1000 * LOAD_TARGETS.connections) / LOAD_TARGETS.p50Ms).toLocaleString('en')} answers a second. ` +
      `Computed answers top out at the first row's rate (the engine's search, raster and contours plus serialising tens of kB of GeoJSON, on CPUs shared with autocannon), so a point never asked before cannot meet the target on this machine whatever the server does; ` +
      `answers for points asked before are finished bytes in the response cache (identity, gzip and br each made once), which is what the other rows measure. Their p99 includes the first pass over the points, when every answer is still computed (or compressed) once.`,
  );
  process.stdout.write(L.join('\n') + '\n');
  writeSection('08-load.md', L.join('\n'));
} finally {
  server.stop();
}
