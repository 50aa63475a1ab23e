/**
 * 片区划分 (zoneDistrict) against references written here:
 *  - hand-made line districts whose right zoning is evident (two clusters; a left-heavy line whose
 *    only balanced split is worked out by hand; facilities; an island);
 *  - additive-weight assignment checked node by node and residence by residence against per-site
 *    Bellman-Ford times (fixtures.ts) plus the returned offsets, on a random grid with snapped
 *    anchors mid-edge and on Krems (data/krems) with chosen anchors, k = 3..6;
 *  - contiguity by a BFS over each zone's own nodes; balance recomputed from residenceZone;
 *  - polygons: no point of a dense sample in two zones, exteriors counter-clockwise, residences'
 *    network points inside their own zone;
 *  - bad input: errors naming the field (and the anchor).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { GeoJSONGeometry } from '../../src/assess/result.js';
import { userZonesFromGeoJson } from '../../src/assess/zones.js';
import type { WalkGraph } from '../../src/engine/graph.js';
import { ACCESS_GATE, KIND_BUILDING, LEVELS_TAGGED, ResidenceTableBuilder, SOURCE_WAY } from '../../src/ingest/residences/table.js';
import { PlanInputError } from '../../src/plan/instance.js';
import { zoneDistrict, zoningToGeoJson, type ZoningOptions, type ZoningResult } from '../../src/plan/zoning.js';
import { importRegion } from '../../src/region/import-region.js';
import { OSM_ATTRIBUTION, type Facility, type Region } from '../../src/region/region.js';
import {
  bellmanFord,
  greatCircle,
  inMultiPolygon,
  makeGraph,
  randomGrid,
  refEdgeSeconds,
  rng,
  signedArea,
  TEST_PROFILE,
  toLat,
  toLon,
  type EdgeSpec,
} from '../engine/fixtures.js';

// ---------------------------------------------------------------------------------------------
// a region around a hand-made graph

interface HomeSpec {
  x: number;
  y: number;
  pop: number;
  eld?: number;
  /** where the home meets the network: edge, metres from its first node, access leg metres. */
  points: Array<{ edge: number; offset: number; access: number }>;
}
interface FacilitySpec {
  formats: string[];
  edge: number;
  offset: number;
  access: number;
}

function makeRegion(graph: WalkGraph, homes: readonly HomeSpec[], facilities: readonly FacilitySpec[] = []): Region {
  const b = new ResidenceTableBuilder();
  const edge: number[] = [];
  const offset: number[] = [];
  const access: number[] = [];
  for (const h of homes) {
    b.add({
      lon: toLon(h.x),
      lat: toLat(h.y),
      footprint: 100,
      levels: 2,
      levelsSource: LEVELS_TAGGED,
      floorArea: 200,
      population: h.pop,
      elderly: h.eld ?? 0,
      kind: KIND_BUILDING,
      sourceType: SOURCE_WAY,
      sourceId: 900 + b.count,
      compound: -1,
      name: `home ${b.count}`,
      access: h.points.flatMap(() => [toLon(h.x), toLat(h.y)]),
      accessKind: ACCESS_GATE,
    });
    for (const p of h.points) {
      edge.push(p.edge);
      offset.push(p.offset);
      access.push(p.access);
    }
  }
  const nc = graph.nodeCoords;
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  for (let u = 0; u < graph.nodeCount; u++) {
    w = Math.min(w, nc[2 * u]);
    e = Math.max(e, nc[2 * u]);
    s = Math.min(s, nc[2 * u + 1]);
    n = Math.max(n, nc[2 * u + 1]);
  }
  const facs: Facility[] = facilities.map((f, i) => ({
    id: i,
    source: 'node',
    sourceId: 500 + i,
    formats: f.formats,
    name: `facility ${i}`,
    lon: 0,
    lat: 0,
    accessPoint: 'node',
    tags: {},
  }));
  return {
    meta: {
      formatVersion: 1,
      name: 'Hand',
      source: { file: 'hand.osm', format: 'xml', bytes: 0, sha256: '' },
      importedAt: '2025-01-01T00:00:00Z',
      attribution: OSM_ATTRIBUTION,
      license: 'ODbL-1.0',
      bbox: [w, s, e, n],
      snapLimitMetres: 300,
      report: {
        osm: {
          format: 'xml',
          nodesRead: 0,
          waysRead: 0,
          relationsRead: 0,
          walkableWays: 0,
          excludedWays: {},
          missingNodeRefs: 0,
          waysDroppedNoGeometry: 0,
          featuresWithoutGeometry: 0,
          relationsNotAreas: 0,
          clippedWays: 0,
          clippedFeatures: 0,
        },
        islands: { count: 0, largestNodes: graph.nodeCount, otherSizes: [] },
        facilities: { total: facs.length, byFormat: {}, unreachable: 0, onIslands: 0, accessPoints: { node: facs.length, entrance: 0, 'nearest-to-network': 0, centroid: 0 } },
        residences: {
          profile: 'generic',
          profileReason: 'test',
          featuresSeen: homes.length,
          ignored: 0,
          withoutGeometry: 0,
          homeBuildings: { seen: homes.length, kept: homes.length },
          candidates: { seen: 0, kept: 0, inMask: 0, tooSmall: 0, tooLarge: 0, outsideResidentialLanduse: 0 },
          compounds: { total: 0, withBuildings: 0, withoutBuildings: 0, withGates: 0, tooLargeForGates: 0, nearbyGates: 0 },
          gateNodes: 0,
          masks: 0,
          levels: { tagged: homes.length, fromHeight: 0, default: 0 },
          footprintAssumed: 0,
          access: { gate: homes.length, entrance: 0, centroid: 0 },
          residences: homes.length,
          floorAreaM2: 200 * homes.length,
          populationPrior: 0,
          warnings: [],
          unsnappedPoints: 0,
          unreachable: 0,
        },
        warnings: [],
      },
    },
    graph,
    facilities: facs,
    facilitySnaps: {
      edge: Int32Array.from(facilities, (f) => f.edge),
      offset: Float32Array.from(facilities, (f) => f.offset),
      access: Float32Array.from(facilities, (f) => f.access),
    },
    residences: b.finish(),
    residenceSnaps: { edge: Int32Array.from(edge), offset: Float32Array.from(offset), access: Float32Array.from(access) },
    compounds: [],
  };
}

/** Nodes every 100 m along y = 0 from x = 0 to x = 100·(n−1), edges exactly 100 m. */
function lineGraph(n: number, extra: { nodes?: [number, number][]; edges?: EdgeSpec[] } = {}): WalkGraph {
  const nodes: [number, number][] = Array.from({ length: n }, (_, i) => [100 * i, 0]);
  const edges: EdgeSpec[] = Array.from({ length: n - 1 }, (_, i) => ({ a: i, b: i + 1, length: 100 }));
  return makeGraph([...nodes, ...(extra.nodes ?? [])], [...edges, ...(extra.edges ?? [])]);
}

/** A home at x metres along the line (on edge ⌊x/100⌋), `access` metres off it. */
const lineHome = (x: number, pop: number, access = 0, eld = 0, edges = 10): HomeSpec => {
  const e = Math.min(Math.floor(x / 100), edges - 1);
  return { x, y: access, pop, eld, points: [{ edge: e, offset: x - 100 * e, access }] };
};

// ---------------------------------------------------------------------------------------------
// independent checks

const sumOf = (xs: Iterable<number>): number => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
};

/** Every zone's nodes connected using only its own nodes (BFS over the edge list). */
function expectContiguous(g: WalkGraph, nodeZone: Int32Array, k: number): void {
  const adj: number[][] = Array.from({ length: g.nodeCount }, () => []);
  for (let e = 0; e < g.edgeCount; e++) {
    adj[g.edgeFrom[e]].push(g.edgeTo[e]);
    adj[g.edgeTo[e]].push(g.edgeFrom[e]);
  }
  for (let z = 0; z < k; z++) {
    const members: number[] = [];
    for (let u = 0; u < g.nodeCount; u++) if (nodeZone[u] === z) members.push(u);
    if (members.length === 0) continue;
    const seen = new Set<number>([members[0]]);
    const queue = [members[0]];
    while (queue.length > 0) {
      const u = queue.pop()!;
      for (const v of adj[u]) {
        if (nodeZone[v] === z && !seen.has(v)) {
          seen.add(v);
          queue.push(v);
        }
      }
    }
    expect(seen.size, `zone ${z}: ${members.length} nodes, ${seen.size} connected to node ${members[0]}`).toBe(members.length);
  }
}

interface SiteRef {
  /** edge and fraction for a site mid-edge (edge −1: the site is node `node`). */
  edge: number;
  frac: number;
  node: number;
}

/**
 * Brute force: per site, Bellman-Ford times to every node; node zone = argmin (time + offset);
 * residence cost per zone = best access point (edge ends + partial edge + leg, or straight along
 * the edge to a site on it) + offset. Compares labels wherever the runner-up is more than `margin`
 * seconds worse, and residence seconds to the own site everywhere.
 */
function checkAgainstBruteForce(region: Region, res: ZoningResult, sites: readonly SiteRef[], speed: number, stepsFactor: number, margin: number): void {
  const g = region.graph;
  const es = refEdgeSeconds(g, speed, stepsFactor);
  const k = sites.length;
  const d: Float64Array[] = sites.map((s) =>
    s.edge < 0 ? bellmanFord(g, es, [s.node], [0]) : bellmanFord(g, es, [g.edgeFrom[s.edge], g.edgeTo[s.edge]], [s.frac * es[s.edge], (1 - s.frac) * es[s.edge]]),
  );
  const w = res.zones.map((z) => z.offsetSeconds);
  let compared = 0;
  for (let u = 0; u < g.nodeCount; u++) {
    const costs = d.map((dz, z) => dz[u] + w[z]).sort((a, b) => a - b);
    const best = d.map((dz, z) => dz[u] + w[z]);
    const bz = best.indexOf(costs[0]);
    if (costs[0] === Infinity) {
      expect(res.nodeZone[u], `node ${u} unreachable`).toBe(-1);
      continue;
    }
    if (k > 1 && costs[1] - costs[0] <= margin) continue;
    compared++;
    expect(res.nodeZone[u], `node ${u}`).toBe(bz);
  }
  // ties are rare: nearly every assigned node is compared
  const assigned = sumOf(Array.from(res.nodeZone, (z) => (z >= 0 ? 1 : 0)));
  expect(compared).toBeGreaterThan(0.9 * assigned);

  const t = region.residences;
  const rs = region.residenceSnaps;
  for (let r = 0; r < t.count; r++) {
    const cost = new Array<number>(k).fill(Infinity);
    for (let p = t.gateOffsets[r]; p < t.gateOffsets[r + 1]; p++) {
      const e = rs.edge[p];
      if (e < 0) continue;
      const f = g.edgeLength[e] > 0 ? Math.min(1, Math.max(0, rs.offset[p] / g.edgeLength[e])) : 0;
      const leg = rs.access[p] / speed;
      for (let z = 0; z < k; z++) {
        let c = Math.min(d[z][g.edgeFrom[e]] + f * es[e], d[z][g.edgeTo[e]] + (1 - f) * es[e]);
        if (sites[z].edge === e) c = Math.min(c, Math.abs(f - sites[z].frac) * es[e]);
        cost[z] = Math.min(cost[z], c + leg + w[z]);
      }
    }
    const sorted = [...cost].sort((a, b) => a - b);
    if (sorted[0] === Infinity) {
      expect(res.residenceZone[r], `residence ${r} unreachable`).toBe(-1);
      continue;
    }
    const z = res.residenceZone[r];
    expect(z, `residence ${r}`).toBeGreaterThanOrEqual(0);
    // its zone is (one of) the cheapest, and its seconds are the time to its own site
    expect(cost[z] - sorted[0], `residence ${r} zone ${z}`).toBeLessThanOrEqual(margin);
    if (k > 1 && sorted[1] - sorted[0] > margin) expect(z).toBe(cost.indexOf(sorted[0]));
    expect(Math.abs(res.residenceSeconds[r] - (cost[z] - w[z])), `residence ${r} seconds`).toBeLessThanOrEqual(1e-3);
  }
}

/** Zone populations from residenceZone; every zone within the tolerance of the mean. */
function expectBalanced(region: Region, res: ZoningResult, tol: number): void {
  const pops = new Array<number>(res.k).fill(0);
  const t = region.residences;
  for (let r = 0; r < t.count; r++) if (res.residenceZone[r] >= 0) pops[res.residenceZone[r]] += t.population[r];
  const mean = sumOf(pops) / res.k;
  for (let z = 0; z < res.k; z++) {
    expect(Math.abs(res.zones[z].population - pops[z])).toBeLessThan(1e-6 * mean + 1e-9);
    expect(Math.abs(pops[z] - mean), `zone ${z}: ${pops[z]} vs mean ${mean}`).toBeLessThanOrEqual(tol * mean + 1e-9);
  }
  expect(res.balance.met).toBe(true);
  expect(res.balance.min).toBeCloseTo(Math.min(...pops), 6);
  expect(res.balance.max).toBeCloseTo(Math.max(...pops), 6);
  expect(res.balance.target).toBeCloseTo(mean, 6);
}

const polys = (g: GeoJSONGeometry): number[][][][] => (g.type === 'Polygon' ? [g.coordinates] : g.coordinates);

/** Position (lon, lat) `offset` metres along edge e's geometry, lengths rescaled to edgeLength. */
function pointOnEdge(g: WalkGraph, e: number, offset: number): [number, number] {
  const gc = g.geomCoords;
  const first = g.geomOffsets[e];
  const last = g.geomOffsets[e + 1] - 1;
  let total = 0;
  for (let p = first; p < last; p++) total += greatCircle(gc[2 * p], gc[2 * p + 1], gc[2 * p + 2], gc[2 * p + 3]);
  let want = g.edgeLength[e] > 0 ? (offset / g.edgeLength[e]) * total : 0;
  for (let p = first; p < last; p++) {
    const l = greatCircle(gc[2 * p], gc[2 * p + 1], gc[2 * p + 2], gc[2 * p + 3]);
    if (want <= l || p === last - 1) {
      const u = l > 0 ? Math.min(1, want / l) : 0;
      return [gc[2 * p] + u * (gc[2 * p + 2] - gc[2 * p]), gc[2 * p + 1] + u * (gc[2 * p + 3] - gc[2 * p + 1])];
    }
    want -= l;
  }
  return [gc[2 * first], gc[2 * first + 1]];
}

/** No sampled point inside two zones' polygons; exteriors counter-clockwise, holes clockwise. */
function expectNonOverlapping(res: ZoningResult, samples: number, seed: number): void {
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  for (const z of res.zones) {
    for (const poly of polys(z.geometry)) {
      expect(signedArea(poly[0])).toBeGreaterThan(0);
      for (let h = 1; h < poly.length; h++) expect(signedArea(poly[h])).toBeLessThan(0);
      for (const [lon, lat] of poly[0]) {
        w = Math.min(w, lon);
        e = Math.max(e, lon);
        s = Math.min(s, lat);
        n = Math.max(n, lat);
      }
    }
  }
  const rand = rng(seed);
  let covered = 0;
  for (let i = 0; i < samples; i++) {
    const lon = w + rand() * (e - w);
    const lat = s + rand() * (n - s);
    let c = 0;
    for (const z of res.zones) if (inMultiPolygon(polys(z.geometry), lon, lat)) c++;
    expect(c, `point ${lon},${lat}`).toBeLessThanOrEqual(1);
    covered += c;
  }
  expect(covered).toBeGreaterThan(0);
}

// ---------------------------------------------------------------------------------------------

describe('hand-made lines', () => {
  test('two clusters, k = 2: each cluster a zone, sites at the clusters’ medoids', () => {
    const g = lineGraph(11);
    const homes = [0, 100, 200, 800, 900, 1000].map((x) => lineHome(x, 100, 10, 20));
    const region = makeRegion(g, homes);
    const res = zoneDistrict(region, { k: 2, radiusSeconds: 1000, walking: TEST_PROFILE, seed: 3 });
    const [a, b] = [res.residenceZone[0], res.residenceZone[3]];
    expect(a).not.toBe(b);
    expect(Array.from(res.residenceZone)).toEqual([a, a, a, b, b, b]);
    // medoid of nodes 0,1,2 (equal residents) is node 1: 100 + 100 s against 300 s from node 0 or 2
    expect(res.zones[a].site.node).toBe(1);
    expect(res.zones[b].site.node).toBe(9);
    expect(res.zones[a].site.lon).toBeCloseTo(toLon(100), 9);
    for (const z of res.zones) {
      expect(z.population).toBe(300);
      expect(z.elderly).toBe(60);
      expect(z.elderlyShare).toBeCloseTo(0.2, 12);
      expect(z.residences).toBe(3);
      expect(z.withinRadiusShare).toBe(1);
      // times 10, 110, 110 s (access leg 10 m at 1 m/s): the 95th percentile resident is at 110
      expect(z.p95Seconds).toBeCloseTo(110, 3);
      expect(z.maxSeconds).toBeCloseTo(110, 3);
    }
    expect(Array.from(res.residenceSeconds)).toEqual([110, 10, 110, 110, 10, 110].map((x) => expect.closeTo(x, 3)));
    expect(res.balance).toMatchObject({ met: true, min: 300, max: 300, target: 300, tolerance: 0.2 });
    expectContiguous(g, res.nodeZone, 2);
    // radius 50 s: only the residents at the sites are within it
    const tight = zoneDistrict(region, { k: 2, radiusSeconds: 50, walking: TEST_PROFILE, seed: 3 });
    for (const z of tight.zones) expect(z.withinRadiusShare).toBeCloseTo(1 / 3, 12);
    expect(tight.warnings.some((w) => /400 residents .* beyond the 50 s service radius/.test(w))).toBe(true);
  });

  test('polygons: the line split at the balanced boundary, homes inside their own zone, GeoJSON', () => {
    const g = lineGraph(11);
    const homes = [0, 100, 200, 800, 900, 1000].map((x) => lineHome(x, 100, 10, 20));
    const region = makeRegion(g, homes);
    const res = zoneDistrict(region, { k: 2, radiusSeconds: 1000, walking: TEST_PROFILE, seed: 3 });
    const left = res.residenceZone[0];
    // equal populations, sites at 100 and 900: the boundary is the middle of the line, x = 500
    for (let x = -40; x <= 1040; x += 7) {
      const lon = toLon(x);
      const lat = toLat(3);
      const inside = res.zones.map((z) => inMultiPolygon(polys(z.geometry), lon, lat));
      expect(inside.filter(Boolean).length, `x = ${x}`).toBeLessThanOrEqual(1);
      if (Math.abs(x - 500) > 30) expect(inside[x < 500 ? left : 1 - left], `x = ${x}`).toBe(true);
    }
    // 200 m off the line is in no zone (60 m reach)
    expect(res.zones.some((z) => inMultiPolygon(polys(z.geometry), toLon(300), toLat(200)))).toBe(false);
    expectNonOverlapping(res, 4000, 5);

    const fc = zoningToGeoJson(res, region) as { type: string; features: Array<{ properties: Record<string, unknown>; geometry: GeoJSONGeometry }> };
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features).toHaveLength(2);
    const p = fc.features[left].properties;
    expect(p).toMatchObject({ zone: left, 片区: left + 1, population: 300, 人口: 300, elderly: 60, 老年人口: 60, residences: 3, 住宅数: 3 });
    expect(p.name).toBe(p.名称);
    expect(p.siteLon).toBeCloseTo(toLon(100), 6);
    // reads back as a zones file for assess --zones
    const back = userZonesFromGeoJson(fc);
    expect(back.zones.map((z) => z.name)).toEqual(res.zones.map((z) => z.name));
    expect(back.hasPopulation).toBe(true);
  });

  test('given anchors, left-heavy line: the one balanced split, consistent with the offsets', () => {
    const g = lineGraph(11);
    // homes mid-edge at 50, 150, …, 950; residents 400, 200, 100 ×3, 50 ×5: 1150, mean 575
    const pops = [400, 200, 100, 100, 100, 50, 50, 50, 50, 50];
    const region = makeRegion(
      g,
      pops.map((p, i) => lineHome(50 + 100 * i, p)),
      [
        { formats: ['pharmacy'], edge: 0, offset: 30, access: 5 },
        { formats: ['pharmacy', 'supermarket'], edge: 9, offset: 60, access: 5 },
        { formats: ['supermarket'], edge: 2, offset: 10, access: 5 },
      ],
    );
    const anchors = [
      { lon: toLon(0), lat: toLat(20), name: '邻里汇 西' },
      { lon: toLon(1000), lat: toLat(20), name: '邻里汇 东' },
    ];
    const res = zoneDistrict(region, { anchors, radiusSeconds: 600, walking: TEST_PROFILE, tolerance: 0.1 });
    // within 575 ± 57.5 only {50, 150} | rest: 600 / 550 (x ≤ 250 gives 700, x ≤ 50 gives 400)
    expect(Array.from(res.residenceZone)).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(res.zones.map((z) => z.population)).toEqual([600, 550]);
    expect(res.zones.map((z) => z.name)).toEqual(['邻里汇 西', '邻里汇 东']);
    expect(res.anchorsChosen).toBe(false);
    expect(res.balance.met).toBe(true);
    // additive rule by hand: x in zone 0 iff 20 + x + w0 < 20 + (1000 − x) + w1
    const [w0, w1] = res.zones.map((z) => z.offsetSeconds);
    expect(Math.min(w0, w1)).toBe(0);
    for (let i = 0; i < 10; i++) {
      const x = 50 + 100 * i;
      expect(res.residenceZone[i]).toBe(x + w0 < 1000 - x + w1 ? 0 : 1);
      expect(res.residenceSeconds[i]).toBeCloseTo(20 + (res.residenceZone[i] === 0 ? x : 1000 - x), 3);
    }
    // the boundary between 150 and 250: the pharmacy at 30 and supermarket at 210 are west's
    // only when 210 is west of the boundary (w1 − w0 ∈ (−700, −300) puts it in (150, 350))
    const boundary = (1000 + w1 - w0) / 2;
    expect(boundary).toBeGreaterThan(150);
    expect(boundary).toBeLessThan(250);
    expect(res.zones[0].facilitiesByFormat).toEqual(boundary > 210 ? { pharmacy: 1, supermarket: 1 } : { pharmacy: 1 });
    expect(res.zones[1].facilitiesByFormat).toEqual(boundary > 210 ? { pharmacy: 1, supermarket: 1 } : { pharmacy: 1, supermarket: 2 });
    expect(Array.from(res.facilityZone)).toEqual([0, 1, boundary > 210 ? 0 : 1]);
    // sites: the anchors themselves, reached through node 0 and node 10
    expect(res.zones.map((z) => z.site.node)).toEqual([0, 10]);
    expect(res.zones[0].site.lat).toBe(anchors[0].lat);
    // within 600 s: zone 0 all (max 20 + 150 s); zone 1 the homes at 450 (20 + 550 s) … 950
    expect(res.zones[0].withinRadiusShare).toBe(1);
    expect(res.zones[1].withinRadiusShare).toBeCloseTo(350 / 550, 12);
    expect(res.zones[1].maxSeconds).toBeCloseTo(20 + 750, 3);
    expectContiguous(g, res.nodeZone, 2);
  });

  test('an island with residents: unassigned, warned; a site on the island', () => {
    const g = lineGraph(11, { nodes: [[500, 400], [600, 400]], edges: [{ a: 11, b: 12, length: 100 }] });
    const homes = [lineHome(100, 100), lineHome(900, 100), { x: 550, y: 400, pop: 30, points: [{ edge: 10, offset: 50, access: 0 }] }];
    const region = makeRegion(g, homes);
    const res = zoneDistrict(region, { k: 2, radiusSeconds: 1000, walking: TEST_PROFILE });
    expect(res.residenceZone[2]).toBe(-1);
    expect(res.residenceSeconds[2]).toBe(Infinity);
    expect(res.nodeZone[11]).toBe(-1);
    expect(res.nodeZone[12]).toBe(-1);
    expect(res.warnings.some((w) => /1 residences \(30 residents\) .*islands/.test(w))).toBe(true);
    expect(res.balance.target).toBe(100);
    // an anchor on the island: the island is its zone, and the warning says so
    const onIsland = zoneDistrict(region, {
      anchors: [
        { lon: toLon(300), lat: toLat(0) },
        { lon: toLon(550), lat: toLat(400) },
      ],
      radiusSeconds: 1000,
      walking: TEST_PROFILE,
    });
    expect(Array.from(onIsland.residenceZone)).toEqual([0, 0, 1]);
    expect(onIsland.warnings.some((w) => /片区 2: its site is on a network island/.test(w))).toBe(true);
    expect(onIsland.balance.met).toBe(false);
  });

  test('bad input: errors name the field (and the anchor)', () => {
    const g = lineGraph(11);
    const region = makeRegion(g, [lineHome(100, 100), lineHome(500, 100), lineHome(900, 0)]);
    const base: ZoningOptions = { k: 2, radiusSeconds: 600, walking: TEST_PROFILE };
    const fails = (opts: Partial<ZoningOptions> & Record<string, unknown>, field: string, message: RegExp): void => {
      let err: unknown;
      try {
        zoneDistrict(region, { ...base, ...opts } as ZoningOptions);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(opts)).toBeInstanceOf(PlanInputError);
      expect((err as PlanInputError).field).toBe(field);
      expect((err as Error).message).toMatch(message);
    };
    fails({ k: 0 }, 'k', /at least 1/);
    fails({ k: 1.5 }, 'k', /integer/);
    fails({ k: 3 }, 'k', /k = 3 is more than the 2 residences with residents/);
    fails({ k: undefined }, 'k', /required/);
    fails({ radiusSeconds: 0 }, 'radiusSeconds', /positive/);
    fails({ radiusSeconds: -5 }, 'radiusSeconds', /positive/);
    fails({ radiusSeconds: Number.NaN }, 'radiusSeconds', /positive/);
    fails({ tolerance: 0 }, 'tolerance', /\(0, 1\]/);
    fails({ tolerance: 1.5 }, 'tolerance', /\(0, 1\]/);
    fails({ population: new Float64Array(2) }, 'population', /2 entries for 3 residences/);
    fails({ population: Float64Array.from([1, Number.NaN, 1]) }, 'population', /population\[1\] is NaN/);
    fails({ elderly: Float32Array.from([1, -1, 1]) }, 'elderly', /elderly\[1\]/);
    fails({ seed: 0.5 }, 'seed', /integer/);
    fails({ maxBalanceIterations: 0 }, 'maxBalanceIterations', /integer ≥ 1/);
    const near = { lon: toLon(100), lat: toLat(10) };
    fails({ anchors: [near] }, 'anchors', /k = 2 but 1 anchors/);
    fails({ anchors: [near, { lon: toLon(20000), lat: toLat(0) }] }, 'anchors', /anchor 1 .* outside the region/);
    // inside the extent's margin but 600 m from the line
    fails({ anchors: [near, { lon: toLon(500), lat: toLat(600) }] }, 'anchors', /anchor 1 .* farther than 300 m/);
    fails({ anchors: [{ lon: Number.NaN, lat: 0 }, near] }, 'anchors', /anchor 0: lon and lat must be finite/);
    fails({ anchors: [near, { lon: toLon(100), lat: toLat(-10) }] }, 'anchors', /anchors 0 and 1 meet the network at the same point/);
    // a caller's population: zero residents everywhere but one home → k = 2 impossible
    fails({ population: Float32Array.from([0, 0, 5]) }, 'k', /more than the 1 residences/);
  });
});

describe('random grid, snapped anchors mid-edge: brute force', () => {
  test.each([11, 12, 13])('seed %i', (seed) => {
    const { graph: g, edges } = randomGrid(12, 12, 100, seed, { removeFraction: 0.12 });
    const rand = rng(seed * 7 + 1);
    const homes: HomeSpec[] = [];
    for (let i = 0; i < 220; i++) {
      const points = Array.from({ length: rand() < 0.25 ? 2 : 1 }, () => {
        const e = Math.floor(rand() * g.edgeCount);
        return { edge: e, offset: rand() * g.edgeLength[e], access: rand() * 30 };
      });
      homes.push({ x: 0, y: 0, pop: 5 + Math.floor(rand() * 100), eld: rand() * 5, points });
    }
    // anchors at the middle of straight edges (exactly on them: no snapping guesswork in the reference)
    const straight = edges.map((e, i) => (e.via ? -1 : i)).filter((i) => i >= 0 && g.nodeComponent[g.edgeFrom[i]] === 0);
    const k = 4;
    const chosen: number[] = [];
    while (chosen.length < k) {
      const e = straight[Math.floor(rand() * straight.length)];
      if (!chosen.includes(e)) chosen.push(e);
    }
    const gc = g.geomCoords;
    const anchors = chosen.map((e) => {
      const p = g.geomOffsets[e];
      return { lon: (gc[2 * p] + gc[2 * p + 2]) / 2, lat: (gc[2 * p + 1] + gc[2 * p + 3]) / 2 };
    });
    // a home on an anchor's edge, to exercise the straight-along-the-edge rule
    homes.push({ x: 0, y: 0, pop: 40, points: [{ edge: chosen[0], offset: 0.3 * g.edgeLength[chosen[0]], access: 3 }] });
    const region = makeRegion(g, homes);
    const res = zoneDistrict(region, { anchors, radiusSeconds: 500, walking: TEST_PROFILE, tolerance: 0.2 });
    checkAgainstBruteForce(
      region,
      res,
      chosen.map((e) => ({ edge: e, frac: 0.5, node: -1 })),
      TEST_PROFILE.speedMps,
      TEST_PROFILE.stepsFactor,
      1e-3,
    );
    expectContiguous(g, res.nodeZone, k);
    const t = region.residences;
    const pops = new Array<number>(k).fill(0);
    for (let r = 0; r < t.count; r++) if (res.residenceZone[r] >= 0) pops[res.residenceZone[r]] += t.population[r];
    const mean = sumOf(pops) / k;
    const dev = Math.max(...pops.map((p) => Math.abs(p / mean - 1)));
    expect(res.balance.maxDeviation).toBeCloseTo(dev, 9);
    expect(res.balance.met).toBe(dev <= 0.2);
    expect(res.zones.map((z) => z.population)).toEqual(pops.map((p) => expect.closeTo(p, 6)));
  });
});

const krems = await importRegion('data/krems/krems.osm.pbf');

describe('Krems', () => {
  const region = krems;
  const walking = (JSON.parse(readFileSync('data/profiles/walking.json', 'utf8')) as Array<{ id: string; speedMps: number; stepsFactor: number }>).find(
    (p) => p.id === 'default',
  )!;
  const radius = 800 / walking.speedMps;
  const g = region.graph;

  test.each([3, 4, 5, 6])('k = %i: balanced, contiguous, equal to brute force', (k) => {
    const t0 = performance.now();
    const res = zoneDistrict(region, { k, radiusSeconds: radius, seed: 7, polygons: k === 6 });
    const ms = performance.now() - t0;
    expect(res.zones).toHaveLength(k);
    expectBalanced(region, res, 0.2);
    expectContiguous(g, res.nodeZone, k);
    checkAgainstBruteForce(
      region,
      res,
      res.zones.map((z) => ({ edge: -1, frac: 0, node: z.site.node })),
      walking.speedMps,
      walking.stepsFactor,
      1e-3,
    );
    // chosen sites are distinct nodes, in their own zones, at the nodes' coordinates
    expect(new Set(res.zones.map((z) => z.site.node)).size).toBe(k);
    for (const z of res.zones) {
      expect(res.nodeZone[z.site.node]).toBe(z.id);
      expect(z.site.lon).toBe(g.nodeCoords[2 * z.site.node]);
    }
    // per-zone figures recomputed from residenceZone / residenceSeconds
    const t = region.residences;
    for (const z of res.zones) {
      const rows: Array<[number, number]> = [];
      let eld = 0;
      for (let r = 0; r < t.count; r++) {
        if (res.residenceZone[r] !== z.id) continue;
        eld += t.elderly[r];
        if (t.population[r] > 0) rows.push([res.residenceSeconds[r], t.population[r]]);
      }
      rows.sort((a, b) => a[0] - b[0]);
      const pop = sumOf(rows.map((x) => x[1]));
      expect(z.elderly).toBeCloseTo(eld, 6);
      expect(z.elderlyShare).toBeCloseTo(eld / pop, 9);
      expect(z.withinRadiusShare).toBeCloseTo(sumOf(rows.filter((x) => x[0] <= radius).map((x) => x[1])) / pop, 9);
      let cum = 0;
      const p95 = rows.find((x) => (cum += x[1]) >= 0.95 * pop - 1e-6)![0];
      expect(z.p95Seconds).toBeCloseTo(p95, 6);
      expect(z.maxSeconds).toBeCloseTo(rows[rows.length - 1][0], 6);
    }
    // facilities: zone of the cheaper edge end (time + partial edge + offset), counted per format
    const es = refEdgeSeconds(g, walking.speedMps, walking.stepsFactor);
    const d = res.zones.map((z) => bellmanFord(g, es, [z.site.node], [0]));
    const fs = region.facilitySnaps;
    const want = res.zones.map(() => new Map<string, number>());
    for (let i = 0; i < region.facilities.length; i++) {
      const e = fs.edge[i];
      if (e < 0) continue;
      const f = Math.min(1, Math.max(0, fs.offset[i] / g.edgeLength[e]));
      const cost = d.map((dz, z) => Math.min(dz[g.edgeFrom[e]] + f * es[e], dz[g.edgeTo[e]] + (1 - f) * es[e]) + res.zones[z].offsetSeconds);
      const sorted = [...cost].sort((a, b) => a - b);
      if (sorted[1] - sorted[0] < 1e-3) continue;
      const z = cost.indexOf(sorted[0]);
      expect(res.facilityZone[i], `facility ${i}`).toBe(z);
      for (const fmt of region.facilities[i].formats) want[z].set(fmt, (want[z].get(fmt) ?? 0) + 1);
    }
    for (const z of res.zones) for (const [fmt, n] of want[z.id]) expect(z.facilitiesByFormat[fmt], `zone ${z.id} ${fmt}`).toBe(n);
    expect(sumOf(res.zones.map((z) => sumOf(Object.values(z.facilitiesByFormat))))).toBeGreaterThanOrEqual(
      sumOf(want.map((m) => sumOf(m.values()))),
    );

    if (k === 6) {
      expectNonOverlapping(res, 12000, 17);
      // residences' network points (gates within 15 m of a street) lie inside their own zone
      const rs = region.residenceSnaps;
      let tried = 0;
      let own = 0;
      let other = 0;
      for (let r = 0; r < t.count; r++) {
        const z = res.residenceZone[r];
        if (z < 0) continue;
        const p = t.gateOffsets[r];
        if (t.gateOffsets[r + 1] - p !== 1 || rs.edge[p] < 0 || rs.access[p] > 15) continue;
        const [lon, lat] = pointOnEdge(g, rs.edge[p], rs.offset[p]);
        tried++;
        res.zones.forEach((zz) => {
          if (!inMultiPolygon(polys(zz.geometry), lon, lat)) return;
          if (zz.id === z) own++;
          else other++;
        });
      }
      console.log(
        `Krems k = 6 (${g.nodeCount} nodes, ${t.count} residences): ${ms.toFixed(0)} ms with polygons; ` +
          `${own} of ${tried} residences' network points inside their own zone, ${other} in another`,
      );
      expect(tried).toBeGreaterThan(100);
      expect(own / tried, `${own} of ${tried}`).toBeGreaterThan(0.97);
      expect(other / tried).toBeLessThan(0.03);
      const fc = zoningToGeoJson(res, region) as { features: unknown[] };
      expect(fc.features).toHaveLength(6);
    }
  });

  test('same seed, same zoning; tighter tolerance still met', () => {
    const a = zoneDistrict(region, { k: 4, radiusSeconds: radius, seed: 2, polygons: false, tolerance: 0.05 });
    const b = zoneDistrict(region, { k: 4, radiusSeconds: radius, seed: 2, polygons: false, tolerance: 0.05 });
    expect(Array.from(a.residenceZone)).toEqual(Array.from(b.residenceZone));
    expect(a.zones.map((z) => z.site.node)).toEqual(b.zones.map((z) => z.site.node));
    expectBalanced(region, a, 0.05);
  });
});
