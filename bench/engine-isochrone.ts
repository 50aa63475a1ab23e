/**
 * Engine benchmark: heap variants for Dijkstra, and isochrone latency.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/engine-isochrone.js [net.osm.pbf] [--grid-nodes N]
 *
 * 1. Lazy binary heap (src/engine/dijkstra.ts) vs an indexed decrease-key binary heap
 *    (below), on Krems (bounded 15-minute searches and full searches) and on a synthetic
 *    1M-node grid (bench/grid.ts). Both must give identical distances.
 * 2. Isochrones from 1,000 random origins on Krems: snap + bounded Dijkstra + contour
 *    (5/10/15 min), p50/p99.
 *
 * Krems is read with a minimal OSM PBF reader below (highway=* ways, split at junctions): a
 * stand-in until the project's importer lands; it is close to, not the same as, the real
 * import (walkability rules are simplified).
 */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { PbfReader } from 'pbf';
import { DijkstraWorkspace, runDijkstra } from '../src/engine/dijkstra.js';
import { haversineMetres } from '../src/engine/geo.js';
import { buildWalkGraph, EDGE_FLAG_STEPS, type EdgeList, type WalkGraph } from '../src/engine/graph.js';
import { isochrone, isochroneFromPoint } from '../src/engine/isochrone.js';
import { arcSeconds, edgeSeconds, type WalkingProfile } from '../src/engine/profile.js';
import { buildSnapIndex, snapPoint, writeSnapSeeds } from '../src/engine/snap.js';
import { generateGridNetwork, mulberry32 } from './grid.js';

const PROFILE: WalkingProfile = {
  id: 'default',
  name: { 'zh-CN': '一般步行', en: 'Adult walking' },
  speedMps: 1.0,
  stepsFactor: 2.0,
  rationale: 'as data/profiles/walking.json "default"',
};

// ---------------------------------------------------------------- minimal PBF reader

const WALK_HIGHWAYS = new Set([
  'footway', 'path', 'pedestrian', 'living_street', 'residential', 'service', 'unclassified',
  'tertiary', 'tertiary_link', 'secondary', 'secondary_link', 'primary', 'primary_link',
  'track', 'steps', 'cycleway', 'bridleway', 'road', 'corridor', 'platform',
]);

function walkable(tags: Map<string, string>): boolean {
  const hw = tags.get('highway');
  if (!hw || !WALK_HIGHWAYS.has(hw)) return false;
  const foot = tags.get('foot');
  if (foot === 'no') return false;
  const access = tags.get('access');
  if ((access === 'no' || access === 'private') && foot !== 'yes' && foot !== 'designated' && foot !== 'permissive') {
    return false;
  }
  return true;
}

function loadPbfEdgeList(file: string): EdgeList {
  const buf = readFileSync(file);
  const nodeIndex = new Map<number, number>();
  const lons: number[] = [];
  const lats: number[] = [];
  const ways: { id: number; refs: number[]; steps: boolean }[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const hl = buf.readUInt32BE(pos);
    pos += 4;
    const h = new PbfReader(buf.subarray(pos, pos + hl));
    let type = '';
    let size = 0;
    for (let f; (f = h.nextField()); ) {
      if (f === 1) type = h.readString();
      else if (f === 3) size = h.readVarint();
    }
    pos += hl;
    const b = new PbfReader(buf.subarray(pos, pos + size));
    pos += size;
    let data: Uint8Array | null = null;
    for (let f; (f = b.nextField()); ) {
      if (f === 1) data = b.readBytes();
      else if (f === 3) data = inflateSync(b.readBytes());
    }
    if (type !== 'OSMData' || !data) continue;
    const blk = new PbfReader(data);
    const strings: string[] = [];
    const groups: Uint8Array[] = [];
    let gran = 100;
    let latOff = 0;
    let lonOff = 0;
    for (let f; (f = blk.nextField()); ) {
      if (f === 1) {
        const st = new PbfReader(blk.readBytes());
        for (let g; (g = st.nextField()); ) if (g === 1) strings.push(new TextDecoder().decode(st.readBytes()));
      } else if (f === 2) groups.push(blk.readBytes());
      else if (f === 17) gran = blk.readVarint();
      else if (f === 19) latOff = blk.readVarint(true);
      else if (f === 20) lonOff = blk.readVarint(true);
    }
    const addNode = (id: number, lat: number, lon: number): void => {
      nodeIndex.set(id, lons.length);
      lons.push(1e-9 * (lonOff + gran * lon));
      lats.push(1e-9 * (latOff + gran * lat));
    };
    for (const gbuf of groups) {
      const g = new PbfReader(gbuf);
      for (let f; (f = g.nextField()); ) {
        if (f === 2) {
          const d = new PbfReader(g.readBytes());
          let ids: number[] = [];
          let la: number[] = [];
          let lo: number[] = [];
          for (let k; (k = d.nextField()); ) {
            if (k === 1) ids = d.readPackedSVarint();
            else if (k === 8) la = d.readPackedSVarint();
            else if (k === 9) lo = d.readPackedSVarint();
          }
          let id = 0;
          let lat = 0;
          let lon = 0;
          for (let i = 0; i < ids.length; i++) {
            id += ids[i];
            lat += la[i];
            lon += lo[i];
            addNode(id, lat, lon);
          }
        } else if (f === 1) {
          const n = new PbfReader(g.readBytes());
          let id = 0;
          let lat = 0;
          let lon = 0;
          for (let k; (k = n.nextField()); ) {
            if (k === 1) id = n.readSVarint();
            else if (k === 8) lat = n.readSVarint();
            else if (k === 9) lon = n.readSVarint();
          }
          addNode(id, lat, lon);
        } else if (f === 3) {
          const w = new PbfReader(g.readBytes());
          let id = 0;
          let keys: number[] = [];
          let vals: number[] = [];
          let deltas: number[] = [];
          for (let k; (k = w.nextField()); ) {
            if (k === 1) id = w.readVarint();
            else if (k === 2) keys = w.readPackedVarint();
            else if (k === 3) vals = w.readPackedVarint();
            else if (k === 8) deltas = w.readPackedSVarint();
          }
          const tags = new Map<string, string>();
          keys.forEach((kk, i) => tags.set(strings[kk], strings[vals[i]]));
          if (!walkable(tags)) continue;
          const refs: number[] = [];
          let r = 0;
          for (const dl of deltas) refs.push((r += dl));
          ways.push({ id, refs, steps: tags.get('highway') === 'steps' });
        }
      }
    }
  }

  // split ways at junctions (nodes used twice or more, and way ends)
  const uses = new Map<number, number>();
  for (const w of ways) {
    const refs = w.refs.filter((r) => nodeIndex.has(r));
    w.refs = refs;
    refs.forEach((r, i) => uses.set(r, (uses.get(r) ?? 0) + (i === 0 || i === refs.length - 1 ? 2 : 1)));
  }
  const vertex = new Map<number, number>();
  const vLon: number[] = [];
  const vLat: number[] = [];
  const vId: number[] = [];
  const vertexOf = (ref: number): number => {
    let v = vertex.get(ref);
    if (v === undefined) {
      v = vId.length;
      vertex.set(ref, v);
      const i = nodeIndex.get(ref)!;
      vLon.push(lons[i]);
      vLat.push(lats[i]);
      vId.push(ref);
    }
    return v;
  };
  const from: number[] = [];
  const to: number[] = [];
  const len: number[] = [];
  const wayId: number[] = [];
  const flags: number[] = [];
  const goff: number[] = [];
  const gco: number[] = [];
  for (const w of ways) {
    if (w.refs.length < 2) continue;
    let start = 0;
    for (let i = 1; i < w.refs.length; i++) {
      if (i < w.refs.length - 1 && (uses.get(w.refs[i]) ?? 0) < 2) continue;
      goff.push(gco.length / 2);
      let m = 0;
      for (let k = start; k <= i; k++) {
        const p = nodeIndex.get(w.refs[k])!;
        gco.push(lons[p], lats[p]);
        if (k > start) {
          const q = nodeIndex.get(w.refs[k - 1])!;
          m += haversineMetres(lons[q], lats[q], lons[p], lats[p]);
        }
      }
      from.push(vertexOf(w.refs[start]));
      to.push(vertexOf(w.refs[i]));
      len.push(m);
      wayId.push(w.id);
      flags.push(w.steps ? EDGE_FLAG_STEPS : 0);
      start = i;
    }
  }
  goff.push(gco.length / 2);
  const nodeCoords = new Float64Array(2 * vId.length);
  for (let i = 0; i < vId.length; i++) {
    nodeCoords[2 * i] = vLon[i];
    nodeCoords[2 * i + 1] = vLat[i];
  }
  return {
    nodeCoords,
    nodeOsmIds: Float64Array.from(vId),
    edgeFrom: Int32Array.from(from),
    edgeTo: Int32Array.from(to),
    edgeLength: Float32Array.from(len),
    edgeWayId: Float64Array.from(wayId),
    edgeClass: new Uint8Array(from.length),
    edgeFlags: Uint8Array.from(flags),
    geomOffsets: Int32Array.from(goff),
    geomCoords: Float64Array.from(gco),
  };
}

// ---------------------------------------------------------------- indexed decrease-key heap variant

/** Same contract as runDijkstra, with an indexed binary heap (decrease-key, no stale entries). */
class IndexedHeapDijkstra {
  readonly dist: Float64Array;
  readonly label: Int32Array;
  readonly touched: Int32Array;
  touchedCount = 0;
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  private readonly key: Float64Array;

  constructor(n: number) {
    this.dist = new Float64Array(n).fill(Infinity);
    this.label = new Int32Array(n).fill(-1);
    this.touched = new Int32Array(n);
    this.heap = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
    this.key = this.dist; // keys are the tentative distances
  }

  run(g: WalkGraph, arcSec: Float32Array, seedNodes: Int32Array, seedSeconds: Float64Array, maxSeconds = Infinity): void {
    const { dist, label, touched, heap, pos, key } = this;
    for (let i = 0; i < this.touchedCount; i++) {
      const u = touched[i];
      dist[u] = Infinity;
      label[u] = -1;
    }
    let tc = 0;
    let size = 0;
    const up = (i: number, u: number, k: number): void => {
      while (i > 0) {
        const p = (i - 1) >> 1;
        const pu = heap[p];
        if (key[pu] <= k) break;
        heap[i] = pu;
        pos[pu] = i;
        i = p;
      }
      heap[i] = u;
      pos[u] = i;
    };
    for (let i = 0; i < seedNodes.length; i++) {
      const s = seedNodes[i];
      const t = seedSeconds[i];
      if (!(t <= maxSeconds) || !(t < dist[s])) continue;
      if (dist[s] === Infinity) {
        touched[tc++] = s;
        dist[s] = t;
        label[s] = i;
        up(size++, s, t);
      } else {
        dist[s] = t;
        label[s] = i;
        up(pos[s], s, t);
      }
    }
    const offsets = g.arcOffsets;
    const targets = g.arcTarget;
    while (size > 0) {
      const u = heap[0];
      pos[u] = -2; // settled
      size--;
      if (size > 0) {
        const last = heap[size];
        const lk = key[last];
        let i = 0;
        for (;;) {
          let c = 2 * i + 1;
          if (c >= size) break;
          if (c + 1 < size && key[heap[c + 1]] < key[heap[c]]) c++;
          const cu = heap[c];
          if (key[cu] >= lk) break;
          heap[i] = cu;
          pos[cu] = i;
          i = c;
        }
        heap[i] = last;
        pos[last] = i;
      }
      const d = dist[u];
      const lu = label[u];
      for (let a = offsets[u]; a < offsets[u + 1]; a++) {
        const v = targets[a];
        const nd = d + arcSec[a];
        if (nd < dist[v] && nd <= maxSeconds) {
          if (dist[v] === Infinity) {
            touched[tc++] = v;
            dist[v] = nd;
            label[v] = lu;
            up(size++, v, nd);
          } else {
            dist[v] = nd;
            label[v] = lu;
            up(pos[v], v, nd);
          }
        }
      }
    }
    for (let i = 0; i < tc; i++) pos[touched[i]] = -1;
    this.touchedCount = tc;
  }
}

// ---------------------------------------------------------------- helpers

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const fmt = (ms: number): string => `${ms.toFixed(3)} ms`;

function compareHeaps(name: string, g: WalkGraph, arc: Float32Array, sources: Int32Array, bound: number, rounds: number): void {
  const ws = new DijkstraWorkspace(g.nodeCount);
  const ix = new IndexedHeapDijkstra(g.nodeCount);
  const seedSec = Float64Array.of(0);
  const one = new Int32Array(1);
  // correctness first
  for (let k = 0; k < Math.min(5, sources.length); k++) {
    one[0] = sources[k];
    runDijkstra(g, arc, ws, one, seedSec, bound);
    ix.run(g, arc, one, seedSec, bound);
    for (let u = 0; u < g.nodeCount; u++) {
      if (ws.dist[u] !== ix.dist[u]) throw new Error(`${name}: heaps disagree at node ${u}: ${ws.dist[u]} vs ${ix.dist[u]}`);
    }
  }
  const lazy: number[] = [];
  const indexed: number[] = [];
  let touched = 0;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < sources.length; k++) {
      one[0] = sources[k];
      // alternate the order so neither variant always runs on a warmer cache
      if ((k + r) % 2 === 0) {
        let t0 = performance.now();
        runDijkstra(g, arc, ws, one, seedSec, bound);
        lazy.push(performance.now() - t0);
        t0 = performance.now();
        ix.run(g, arc, one, seedSec, bound);
        indexed.push(performance.now() - t0);
      } else {
        let t0 = performance.now();
        ix.run(g, arc, one, seedSec, bound);
        indexed.push(performance.now() - t0);
        t0 = performance.now();
        runDijkstra(g, arc, ws, one, seedSec, bound);
        lazy.push(performance.now() - t0);
      }
      touched += ws.touchedCount;
    }
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    `${name}: ${lazy.length} searches, mean reached ${(touched / lazy.length).toFixed(0)} nodes\n` +
      `  lazy heap     p50 ${fmt(pct(lazy, 50))}  p99 ${fmt(pct(lazy, 99))}  mean ${fmt(mean(lazy))}\n` +
      `  indexed heap  p50 ${fmt(pct(indexed, 50))}  p99 ${fmt(pct(indexed, 99))}  mean ${fmt(mean(indexed))}`,
  );
}

function randomNodes(g: WalkGraph, count: number, seed: number): Int32Array {
  const r = mulberry32(seed);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let u: number;
    do u = Math.floor(r() * g.nodeCount);
    while (g.nodeComponent[u] !== 0);
    out[i] = u;
  }
  return out;
}

// ---------------------------------------------------------------- main

function main(): void {
  const args = process.argv.slice(2);
  const gi = args.indexOf('--grid-nodes');
  const gridNodes = gi >= 0 ? Number(args[gi + 1]) : 1_000_000;
  const file = args.find((a, i) => !a.startsWith('--') && (gi < 0 || i !== gi + 1)) ?? 'data/krems/krems.osm.pbf';

  const name = file.replace(/^.*\//, '').replace(/\.osm\.pbf$/, '');
  let t0 = performance.now();
  const net = buildWalkGraph(loadPbfEdgeList(file));
  const loadMs = performance.now() - t0;
  let comp0 = 0;
  for (let u = 0; u < net.nodeCount; u++) if (net.nodeComponent[u] === 0) comp0++;
  console.log(
    `graph (${file}): ${net.nodeCount} nodes, ${net.edgeCount} edges, largest component ${comp0} nodes; read+build ${loadMs.toFixed(0)} ms`,
  );
  const arc = arcSeconds(net, PROFILE);
  const es = edgeSeconds(net, PROFILE);
  t0 = performance.now();
  const idx = buildSnapIndex(net);
  console.log(`snap index: ${idx.segEdge.length} segments in ${(performance.now() - t0).toFixed(1)} ms`);

  // 1. heaps
  console.log('\n== heap variants (single source, seconds at 1.0 m/s) ==');
  compareHeaps(`${name}, bounded 15 min`, net, arc, randomNodes(net, 1000, 1), 900, 3);
  compareHeaps(`${name}, full graph`, net, arc, randomNodes(net, 200, 2), Infinity, 3);
  if (gridNodes > 0) {
    t0 = performance.now();
    const grid = buildWalkGraph(generateGridNetwork(gridNodes, 1));
    console.log(`grid: ${grid.nodeCount} nodes, ${grid.edgeCount} edges (${(performance.now() - t0).toFixed(0)} ms)`);
    const garc = arcSeconds(grid, PROFILE);
    compareHeaps(`grid ${grid.nodeCount}, bounded 15 min`, grid, garc, randomNodes(grid, 500, 3), 900, 2);
    compareHeaps(`grid ${grid.nodeCount}, full graph`, grid, garc, randomNodes(grid, 6, 4), Infinity, 2);
  }

  // 2. isochrones
  console.log(`\n== isochrones on ${name}: 1,000 random origins, thresholds 5/10/15 min, 20 m cells, 60 m off-road ==`);
  const r = mulberry32(7);
  const ws = new DijkstraWorkspace(net.nodeCount);
  const origins: number[] = [];
  // random points within 100 m of random nodes of the main component (so they snap)
  const nodes = randomNodes(net, 4000, 8);
  for (let i = 0; origins.length < 2000 && i < nodes.length; i++) {
    const u = nodes[i];
    const lon = net.nodeCoords[2 * u] + (r() - 0.5) * 0.0027;
    const lat = net.nodeCoords[2 * u + 1] + (r() - 0.5) * 0.0018;
    origins.push(lon, lat);
  }
  const minutes = [15, 10, 5];
  const opts = { speedMps: PROFILE.speedMps, component: 0 };
  // warm-up
  for (let i = 0; i < 200; i++) isochroneFromPoint(idx, arc, es, ws, origins[2 * i], origins[2 * i + 1], minutes, opts);
  const total: number[] = [];
  const tSnap: number[] = [];
  const tSearch: number[] = [];
  const tContour: number[] = [];
  const seedN = new Int32Array(2);
  const seedS = new Float64Array(2);
  let nullSnaps = 0;
  let vertices = 0;
  let reached = 0;
  for (let i = 0; i < 1000; i++) {
    const lon = origins[2 * i];
    const lat = origins[2 * i + 1];
    const a = performance.now();
    const snap = snapPoint(idx, lon, lat, 300, { component: 0 });
    const b = performance.now();
    if (!snap) {
      nullSnaps++;
      continue;
    }
    writeSnapSeeds(snap, es, net, PROFILE.speedMps, seedN, seedS, 0);
    runDijkstra(net, arc, ws, seedN, seedS, 900);
    const c = performance.now();
    const fc = isochrone(net, es, ws, minutes, { speedMps: PROFILE.speedMps, origins: [snap], originPoints: [lon, lat] });
    const d = performance.now();
    tSnap.push(b - a);
    tSearch.push(c - b);
    tContour.push(d - c);
    total.push(d - a);
    reached += ws.touchedCount;
    for (const f of fc.features) for (const p of f.geometry.coordinates) for (const ring of p) vertices += ring.length;
  }
  const n = total.length;
  console.log(
    `  ${n} isochrones (${nullSnaps} origins not snapped), mean ${(reached / n).toFixed(0)} nodes reached, ` +
      `mean ${(vertices / n).toFixed(0)} vertices per result\n` +
      `  total (snap+search+contour)  p50 ${fmt(pct(total, 50))}  p99 ${fmt(pct(total, 99))}  max ${fmt(pct(total, 100))}\n` +
      `  snap                         p50 ${fmt(pct(tSnap, 50))}  p99 ${fmt(pct(tSnap, 99))}\n` +
      `  Dijkstra (900 s)             p50 ${fmt(pct(tSearch, 50))}  p99 ${fmt(pct(tSearch, 99))}\n` +
      `  isochrone (grid+contours)    p50 ${fmt(pct(tContour, 50))}  p99 ${fmt(pct(tContour, 99))}`,
  );
}

main();
