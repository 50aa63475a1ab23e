/** Graph invariants on real extracts, bbox-cut files with dangling refs, timings. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { buildWalkGraph, componentSizes, type EdgeList } from '../../src/engine/graph.js';
import { openOsmSource } from '../../src/ingest/osm-source.js';
import type { OsmReadResult, Tags } from '../../src/ingest/osm-types.js';
import { haversineMetres, readOsm } from '../../src/ingest/read-osm.js';
import { WALK_CLASSES, walkRule } from '../../src/ingest/walkability.js';

const keepFeature = (t: Tags) => t.amenity !== undefined || t.shop !== undefined || t.healthcare !== undefined;
const tmp = mkdtempSync(join(tmpdir(), 'quarter-network-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Throws on the first broken invariant; returns a few numbers to look at. */
function checkInvariants(net: EdgeList): void {
  const n = net.nodeOsmIds.length;
  const m = net.edgeFrom.length;
  expect(net.nodeCoords.length).toBe(2 * n);
  for (const k of ['edgeTo', 'edgeLength', 'edgeWayId', 'edgeClass', 'edgeFlags'] as const) expect(net[k].length).toBe(m);
  expect(net.geomOffsets.length).toBe(m + 1);
  expect(net.geomOffsets[0]).toBe(0);
  expect(net.geomOffsets[m]).toBe(net.geomCoords.length / 2);
  expect(new Set(net.nodeOsmIds).size).toBe(n);
  const motorway = [WALK_CLASSES.indexOf('motorway'), WALK_CLASSES.indexOf('motorway_link')];
  const degree = new Int32Array(n);
  for (let e = 0; e < m; e++) {
    const a = net.edgeFrom[e];
    const b = net.edgeTo[e];
    const s = net.geomOffsets[e];
    const t = net.geomOffsets[e + 1];
    if (!(a >= 0 && a < n && b >= 0 && b < n)) throw new Error(`edge ${e}: endpoint out of range`);
    if (t - s < 2) throw new Error(`edge ${e}: ${t - s} geometry points`);
    const g = net.geomCoords;
    if (g[2 * s] !== net.nodeCoords[2 * a] || g[2 * s + 1] !== net.nodeCoords[2 * a + 1]) {
      throw new Error(`edge ${e}: geometry does not start at its from node`);
    }
    if (g[2 * t - 2] !== net.nodeCoords[2 * b] || g[2 * t - 1] !== net.nodeCoords[2 * b + 1]) {
      throw new Error(`edge ${e}: geometry does not end at its to node`);
    }
    let len = 0;
    for (let p = s; p + 1 < t; p++) len += haversineMetres(g[2 * p], g[2 * p + 1], g[2 * p + 2], g[2 * p + 3]);
    const stored = net.edgeLength[e];
    if (!(stored > 0)) throw new Error(`edge ${e}: length ${stored}`);
    // Float32 storage: allow its rounding on top of 1e-3 m.
    if (Math.abs(stored - len) > 1e-3 + len * 2 ** -23) throw new Error(`edge ${e}: length ${stored} vs geometry ${len}`);
    if (motorway.includes(net.edgeClass[e])) throw new Error(`edge ${e}: motorway class`);
    if (net.edgeClass[e] >= WALK_CLASSES.length) throw new Error(`edge ${e}: class ${net.edgeClass[e]}`);
    degree[a]++;
    degree[b]++;
  }
  for (let u = 0; u < n; u++) if (degree[u] === 0) throw new Error(`node ${u} has no edge`);
}

describe('krems network', async () => {
  const t0 = performance.now();
  const r: OsmReadResult = await readOsm('data/krems/krems.osm.pbf', { keepFeature });
  const ms = performance.now() - t0;

  test('invariants hold', () => {
    checkInvariants(r.network);
    console.log(`krems.osm.pbf: ${ms.toFixed(0)} ms, ${r.network.nodeOsmIds.length} nodes, ${r.network.edgeFrom.length} edges`);
  });

  test('sane size: junction nodes only, a large main component', () => {
    const n = r.network.nodeOsmIds.length;
    const m = r.network.edgeFrom.length;
    // 727 walkable ways reference ~7k nodes; only ends and junctions become graph nodes.
    expect(r.stats.walkableWays).toBe(727);
    expect(n).toBeGreaterThan(727);
    expect(n).toBeLessThan(3000);
    expect(m).toBeGreaterThanOrEqual(727);
    const g = buildWalkGraph(r.network);
    const sizes = componentSizes(g);
    expect(sizes[0]).toBeGreaterThan(0.8 * n);
    // total length in a plausible range for a 22 × 8.5 km extract (km)
    const km = r.network.edgeLength.reduce((s, x) => s + x, 0) / 1000;
    expect(km).toBeGreaterThan(100);
    expect(km).toBeLessThan(1000);
  });

  test('bbox covers the geometry and lies within the file bbox', () => {
    const [w, s, e, n] = r.bbox;
    expect(w).toBeGreaterThanOrEqual(15.5532503);
    expect(e).toBeLessThanOrEqual(15.8582212);
    expect(s).toBeGreaterThanOrEqual(48.3687127);
    expect(n).toBeLessThanOrEqual(48.4455284);
    const g = r.network.geomCoords;
    for (let i = 0; i < g.length; i += 2) {
      if (g[i] < w || g[i] > e || g[i + 1] < s || g[i + 1] > n) throw new Error(`point ${i / 2} outside bbox`);
    }
  });

  test('features have finite positions and plausible counts', () => {
    expect(r.features.length).toBeGreaterThan(200);
    for (const f of r.features) {
      expect(Number.isFinite(f.lon) && Number.isFinite(f.lat)).toBe(true);
      if (f.type === 'node') expect(f.rings).toEqual([]);
      else for (const ring of f.rings) expect(ring.length).toBeGreaterThanOrEqual(4);
    }
    expect(r.stats.missingNodeRefs).toBe(0);
  });

  test('progress is reported per pass, ending at the total', async () => {
    const seen: [string, number, number][] = [];
    await readOsm('data/krems/krems.osm.pbf', { keepFeature, onProgress: (p, d, t) => void seen.push([p, d, t]) });
    const phases = [...new Set(seen.map((s) => s[0]))];
    expect(phases).toEqual(['relations', 'ways', 'nodes', 'network']);
    for (const ph of ['relations', 'ways', 'nodes']) {
      const last = seen.filter((s) => s[0] === ph).at(-1)!;
      expect(last[1]).toBe(last[2]);
      expect(last[2]).toBe(237698);
    }
  });
});

test('andorra imports well under 3 s and keeps its invariants', async () => {
  const t0 = performance.now();
  const r = await readOsm('data/andorra/andorra.osm.pbf', { keepFeature });
  const ms = performance.now() - t0;
  console.log(`andorra.osm.pbf: ${ms.toFixed(0)} ms, ${r.network.nodeOsmIds.length} nodes, ${r.network.edgeFrom.length} edges, ${r.features.length} features`);
  expect(ms).toBeLessThan(3000);
  expect(r.stats.nodesRead).toBe(69644);
  checkInvariants(r.network);
});

describe('bbox cuts with dangling references', () => {
  test('krems-dangling.osm (osmium extract -s simple): missing refs counted, no crash', async () => {
    const file = 'test/fixtures/osm/krems-dangling.osm';
    const r = await readOsm(file, { keepFeature });
    // Count independently: walkable-way refs whose node is not in the file.
    const src = await openOsmSource(file);
    const present = new Set<number>();
    await src.scan({ node: (id) => void present.add(id) });
    let missing = 0;
    let dropped = 0;
    await src.scan({
      way(id, refs, n, tags) {
        if (!walkRule(tags).walk) return;
        let run = 0;
        let best = 0;
        for (let i = 0; i < n; i++) {
          if (present.has(refs[i])) best = Math.max(best, ++run);
          else (missing++, (run = 0));
        }
        if (best < 2) dropped++;
      },
    });
    expect(missing).toBeGreaterThan(0);
    expect(r.stats.missingNodeRefs).toBeGreaterThanOrEqual(missing); // plus feature-way refs
    expect(r.stats.waysDroppedNoGeometry).toBe(dropped);
    checkInvariants(r.network);
  });

  test('a way is split at a missing node, not joined across the gap', async () => {
    const f = join(tmp, 'gap.osm');
    writeFileSync(
      f,
      `<osm version="0.6">
  <node id="1" lat="48.0" lon="15.0"/><node id="2" lat="48.0" lon="15.001"/>
  <node id="4" lat="48.0" lon="15.003"/><node id="5" lat="48.0" lon="15.004"/>
  <node id="7" lat="48.1" lon="15.0"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="5"/><tag k="highway" v="footway"/></way>
  <way id="11"><nd ref="6"/><nd ref="7"/><nd ref="8"/><tag k="highway" v="footway"/></way>
  <way id="12"><nd ref="98"/><nd ref="99"/><tag k="highway" v="footway"/></way>
</osm>`,
    );
    const r = await readOsm(f, { keepFeature });
    expect(r.stats.missingNodeRefs).toBe(1 + 2 + 2);
    expect(r.stats.waysDroppedNoGeometry).toBe(2);
    expect(Array.from(r.network.edgeWayId)).toEqual([10, 10]);
    const ids = r.network.nodeOsmIds;
    const ends = [0, 1].map((e) => [ids[r.network.edgeFrom[e]], ids[r.network.edgeTo[e]]]);
    expect(ends).toEqual([
      [1, 2],
      [4, 5],
    ]);
    checkInvariants(r.network);
  });

  test('consecutive duplicate refs and a zero-length loop leave no zero-length edge', async () => {
    const f = join(tmp, 'dup.osm');
    writeFileSync(
      f,
      `<osm version="0.6">
  <node id="1" lat="48.0" lon="15.0"/><node id="2" lat="48.0" lon="15.001"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="2"/><tag k="highway" v="footway"/></way>
  <way id="11"><nd ref="2"/><nd ref="2"/><tag k="highway" v="footway"/></way>
</osm>`,
    );
    const r = await readOsm(f, { keepFeature });
    expect(Array.from(r.network.edgeWayId)).toEqual([10]);
    expect(r.stats.waysDroppedNoGeometry).toBe(1);
    checkInvariants(r.network);
  });
});

test('helsinki (a bbox-cut extract with separately mapped sidewalks) imports with invariants', async () => {
  const r = await readOsm('data/helsinki/Helsinki.osm.pbf', { keepFeature });
  expect(r.stats.missingNodeRefs).toBeGreaterThan(0);
  checkInvariants(r.network);
  expect(r.network.edgeFrom.length).toBeGreaterThan(3000);
});
