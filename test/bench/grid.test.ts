import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { facilityRowsAtSeeds, writeGraphCsv } from '../../bench/export-csv.js';
import { generateGridNetwork, haversineM, randomFacilitySeeds } from '../../bench/grid.js';
import { buildWalkGraph, componentSizes, type WalkGraph } from '../../src/engine/graph.js';
import { edgeSeconds, getWalkingProfile } from '../../src/engine/profile.js';

const PY = '/usr/bin/python3';
const IGRAPH_PEER = fileURLToPath(new URL('../../bench/peers/igraph_nearest.py', import.meta.url));

/** Why the igraph peer cannot run here, or null if it can. */
function igraphUnavailable(): string | null {
  const r = spawnSync(PY, ['-c', 'import igraph, numpy'], { encoding: 'utf8' });
  if (r.error) return `${PY} not runnable (${r.error.message})`;
  if (r.status !== 0) return `${PY} cannot import igraph/numpy (apt-get install python3-igraph python3-numpy): ${r.stderr.trim().split('\n').pop()}`;
  return null;
}

/**
 * Reference: plain O(n²) Dijkstra (linear scan for the minimum), independent of the engine.
 * Weights are the 3-decimal seconds the CSV carries, so the peer sees the same numbers.
 */
function bruteForceDijkstra(g: WalkGraph, edgeW: Float64Array, init: Map<number, number>): Float64Array {
  const n = g.nodeCount;
  const dist = new Float64Array(n).fill(Infinity);
  const done = new Uint8Array(n);
  for (const [u, s] of init) dist[u] = Math.min(dist[u], s);
  for (;;) {
    let u = -1;
    let best = Infinity;
    for (let v = 0; v < n; v++) if (!done[v] && dist[v] < best) (best = dist[v]), (u = v);
    if (u < 0) break;
    done[u] = 1;
    for (let a = g.arcOffsets[u]; a < g.arcOffsets[u + 1]; a++) {
      const v = g.arcTarget[a];
      const d = best + edgeW[g.arcEdge[a]];
      if (d < dist[v]) dist[v] = d;
    }
  }
  return dist;
}

function runPeer(args: string[]): Record<string, unknown> {
  const r = spawnSync(PY, [IGRAPH_PEER, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`igraph peer failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function readF64(file: string): Float64Array {
  const b = readFileSync(file);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function expectSameDistances(peer: Float64Array, ref: Float64Array): void {
  expect(peer.length).toBe(ref.length);
  let worst = 0;
  let mismatchedReach = 0;
  for (let u = 0; u < ref.length; u++) {
    if (Number.isFinite(ref[u]) !== Number.isFinite(peer[u])) mismatchedReach++;
    else if (Number.isFinite(ref[u])) worst = Math.max(worst, Math.abs(ref[u] - peer[u]));
  }
  expect(mismatchedReach).toBe(0);
  expect(worst).toBeLessThan(1e-3);
}

describe('bench: synthetic grid network', () => {
  const N = 10_000;
  const list = generateGridNetwork(N, 42);
  const g = buildWalkGraph(list);
  const tmp = mkdtempSync(join(tmpdir(), 'quarter-grid-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('has the requested size, sane coordinates, lengths and geometry', () => {
    expect(g.nodeCount).toBe(N);
    for (let u = 0; u < N; u++) {
      const lon = g.nodeCoords[2 * u];
      const lat = g.nodeCoords[2 * u + 1];
      if (!(Math.abs(lon - 121.43) < 0.2 && Math.abs(lat - 31.18) < 0.2)) throw new Error(`node ${u} at ${lon},${lat}`);
      if (g.nodeOsmIds[u] !== u + 1) throw new Error(`nodeOsmIds[${u}] = ${g.nodeOsmIds[u]}`);
    }
    expect(g.geomOffsets.length).toBe(g.edgeCount + 1);
    expect(g.geomCoords.length).toBe(2 * g.geomOffsets[g.edgeCount]);
    for (let e = 0; e < g.edgeCount; e++) {
      const a = g.edgeFrom[e];
      const b = g.edgeTo[e];
      if (!(a >= 0 && a < N && b >= 0 && b < N && a !== b)) throw new Error(`edge ${e}: ${a}-${b}`);
      const len = g.edgeLength[e];
      if (!(len > 40 && len < 250)) throw new Error(`edge ${e}: length ${len}`);
      const p = 2 * g.geomOffsets[e];
      const h = haversineM(g.nodeCoords[2 * a], g.nodeCoords[2 * a + 1], g.nodeCoords[2 * b], g.nodeCoords[2 * b + 1]);
      const ok =
        g.geomOffsets[e + 1] - g.geomOffsets[e] === 2 &&
        g.geomCoords[p] === g.nodeCoords[2 * a] &&
        g.geomCoords[p + 1] === g.nodeCoords[2 * a + 1] &&
        g.geomCoords[p + 2] === g.nodeCoords[2 * b] &&
        g.geomCoords[p + 3] === g.nodeCoords[2 * b + 1] &&
        Math.abs(h - len) < 1e-3 &&
        g.edgeClass[e] === 0 &&
        g.edgeFlags[e] === 0;
      if (!ok) throw new Error(`edge ${e}: bad geometry, length (${len} vs ${h}), class or flags`);
    }
  });

  it('is grid-like: ~10 % of lattice edges gone, some diagonals, ≥ 95 % in one component', () => {
    const lattice = 2 * N - 2 * Math.sqrt(N);
    expect(g.edgeCount).toBeGreaterThan(0.88 * lattice);
    expect(g.edgeCount).toBeLessThan(0.98 * lattice);
    let isolated = 0;
    for (let u = 0; u < N; u++) if (g.arcOffsets[u + 1] === g.arcOffsets[u]) isolated++;
    expect(isolated).toBe(0);
    const sizes = componentSizes(g);
    expect(sizes[0] / N).toBeGreaterThanOrEqual(0.95);
  });

  it('is deterministic from the seed', () => {
    const again = generateGridNetwork(N, 42);
    expect(Buffer.from(again.nodeCoords.buffer).equals(Buffer.from(list.nodeCoords.buffer))).toBe(true);
    expect(Buffer.from(again.edgeFrom.buffer).equals(Buffer.from(list.edgeFrom.buffer))).toBe(true);
    const other = generateGridNetwork(N, 43);
    expect(Buffer.from(other.nodeCoords.buffer).equals(Buffer.from(list.nodeCoords.buffer))).toBe(false);
    expect(Array.from(randomFacilitySeeds(g, 5, 7))).toEqual(Array.from(randomFacilitySeeds(g, 5, 7)));
  });

  const sec = edgeSeconds(g, getWalkingProfile('default'));
  const seeds = randomFacilitySeeds(g, 5, 7);
  const rows = facilityRowsAtSeeds(g, sec, seeds, {
    format: 'grid',
    alongEdge: { seed: 7, maxAccessM: 50, speedMps: 1 },
  });
  const csvW = Float64Array.from(sec, (s) => Number(s.toFixed(3)));

  it('exports nodes.csv / edges.csv / facilities.csv', async () => {
    await writeGraphCsv(tmp, g, sec, rows);
    const nodes = readFileSync(join(tmp, 'nodes.csv'), 'utf8').replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(nodes[0]).toBe('node,lon,lat,osm_id,component');
    expect(nodes.length).toBe(N + 1);
    const edges = readFileSync(join(tmp, 'edges.csv'), 'utf8').replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(edges[0]).toBe('from,to,seconds,length_m,osm_way_id,class');
    expect(edges.length).toBe(g.edgeCount + 1);
    const [f, t, s] = edges[1].split(',');
    expect([Number(f), Number(t), Number(s)]).toEqual([g.edgeFrom[0], g.edgeTo[0], csvW[0]]);
    const fac = readFileSync(join(tmp, 'facilities.csv'), 'utf8').replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(fac[0]).toBe(
      'facility,format,name,lon,lat,access_point,edge,from_node,to_node,seconds_to_from,seconds_to_to,access_m',
    );
    expect(fac.length).toBe(rows.length + 1);
  });

  const why = igraphUnavailable();
  if (why) console.warn(`[test/bench/grid] igraph peer tests skipped: ${why}`);

  it('igraph peer (5 seed nodes, seconds 0) matches a brute-force Dijkstra to 1e-3 s', (ctx) => {
    ctx.skip(why !== null, why ?? '');
    const seedFile = join(tmp, 'seeds.csv');
    writeFileSync(seedFile, 'node,seconds\n' + Array.from(seeds, (u) => `${u},0`).join('\n') + '\n');
    const out = join(tmp, 'igraph-seeds.f64');
    const rep = runPeer([tmp, '--seeds', seedFile, '--out', out]);
    expect(rep.peer).toBe('igraph');
    expect(rep.nodes).toBe(N);
    expect(rep.edges).toBe(g.edgeCount);
    const ref = bruteForceDijkstra(g, csvW, new Map(Array.from(seeds, (u) => [u, 0])));
    expectSameDistances(readF64(out), ref);
    let reached = 0;
    for (const d of ref) if (Number.isFinite(d)) reached++;
    expect(rep.reached).toBe(reached);
  });

  it('igraph peer (--format, facilities part-way along edges) matches a brute-force Dijkstra', (ctx) => {
    ctx.skip(why !== null, why ?? '');
    const out = join(tmp, 'igraph-format.f64');
    const rep = runPeer([tmp, '--format', 'grid', '--out', out]);
    expect(rep.seeds).toBeLessThanOrEqual(10);
    const init = new Map<number, number>();
    const put = (u: number, s: number) => init.set(u, Math.min(init.get(u) ?? Infinity, Number(s.toFixed(3))));
    for (const r of rows) {
      put(r.fromNode, r.secondsToFrom);
      put(r.toNode, r.secondsToTo);
    }
    expectSameDistances(readF64(out), bruteForceDijkstra(g, csvW, init));
  });
});
