/**
 * Scenarios on a region small enough to work out by hand. Walking is 1 m/s (the default
 * profile), so seconds = metres; edge lengths are given exactly.
 *
 *   n4 (0,200) ──e4 300── n5 (300,200) ──e6 150── n6 (450,200)
 *    │         F0 at x=100        │          R1 at x=400, 10 m off
 *   e3 200                       e5 200 (F1 at y=100)
 *    │                            │
 *   n0 (0,0) ─e0 100─ n1 ─e1 100─ n2 ─e2 100─ n3 (300,0)
 *                        R0 at x=150
 *
 * F0 convenience store (5 min MOFCOM) on e4 100 m from n4; F1 supermarket (15 min) on e5 100 m from n3.
 * R0 (100 residents) on e1 50 m from n1; R1 (50 residents) on e6 100 m from n5, 10 m access leg.
 * Base times: R0→F0 150 (to n0) + 200 + 100 = 450 s; R0→F1 150 + 100 = 250 s;
 *             R1→F0 110 (to n5) + 200 = 310 s; R1→F1 110 + 100 = 210 s.
 */
import { describe, expect, test } from 'vitest';
import { assess } from '../../src/assess/assess.js';
import { EDGE_FLAG_SYNTHETIC } from '../../src/engine/graph.js';
import { ACCESS_GATE, KIND_BUILDING, LEVELS_TAGGED, ResidenceTableBuilder, SOURCE_WAY } from '../../src/ingest/residences/table.js';
import { OSM_ATTRIBUTION, type Facility, type Region } from '../../src/region/region.js';
import { applyScenario, applyScenarioDetailed } from '../../src/scenario/apply.js';
import { ScenarioEditError, type Edit } from '../../src/scenario/edits.js';
import { editsFromPlan, evaluateScenario, evaluationToJson, PlanDocumentError } from '../../src/scenario/evaluate.js';
import { appendScenarioEdits, createScenario, evaluateStoredScenario, saveScenarioEdits } from '../../src/scenario/scenarios.js';
import {
  DuplicateNameError,
  NotFoundError,
  VersionConflictError,
  type NewScenario,
  type ScenarioPatch,
  type ScenarioRecord,
  type ScenarioStore,
} from '../../src/store/store.js';
import { loadTaxonomy } from '../../src/taxonomy/formats.js';
import { makeGraph, toLat, toLon } from '../engine/fixtures.js';

const taxonomy = loadTaxonomy();
const F = taxonomy.formats.map((f) => f.id);
const CONV = F.indexOf('convenience_store');
const SUPER = F.indexOf('supermarket');
const ELDERLY_SHARE = 0.2061;

function handRegion(): Region {
  const nodes: [number, number][] = [
    [0, 0],
    [100, 0],
    [200, 0],
    [300, 0],
    [0, 200],
    [300, 200],
    [450, 200],
  ];
  const graph = makeGraph(nodes, [
    { a: 0, b: 1, length: 100 },
    { a: 1, b: 2, length: 100 },
    { a: 2, b: 3, length: 100 },
    { a: 0, b: 4, length: 200 },
    { a: 4, b: 5, length: 300 },
    { a: 3, b: 5, length: 200 },
    { a: 5, b: 6, length: 150 },
  ]);
  const fac = (id: number, format: string, name: string, x: number, y: number): Facility => ({
    id,
    source: 'node',
    sourceId: 500 + id,
    formats: [format],
    name,
    lon: toLon(x),
    lat: toLat(y),
    accessPoint: 'node',
    tags: { name },
  });
  const b = new ResidenceTableBuilder();
  const home = (name: string, x: number, y: number, pop: number, ax: number, ay: number) =>
    b.add({
      lon: toLon(x),
      lat: toLat(y),
      footprint: 100,
      levels: 2,
      levelsSource: LEVELS_TAGGED,
      floorArea: pop * 10,
      population: pop,
      elderly: 0,
      kind: KIND_BUILDING,
      sourceType: SOURCE_WAY,
      sourceId: 900 + b.count,
      compound: -1,
      name,
      access: [toLon(ax), toLat(ay)],
      accessKind: ACCESS_GATE,
    });
  home('R0', 150, -20, 100, 150, 0);
  home('R1', 400, 230, 50, 400, 210);
  return {
    meta: {
      formatVersion: 2,
      name: 'Hand',
      source: { file: 'hand.osm', format: 'xml', bytes: 0, sha256: '' },
      importedAt: '2025-01-01T00:00:00Z',
      attribution: OSM_ATTRIBUTION,
      license: 'ODbL-1.0',
      bbox: [toLon(0), toLat(-20), toLon(450), toLat(230)],
      snapLimitMetres: 300,
      report: {
        osm: {
          format: 'xml',
          nodesRead: 7,
          waysRead: 7,
          relationsRead: 0,
          walkableWays: 7,
          excludedWays: {},
          missingNodeRefs: 0,
          waysDroppedNoGeometry: 0,
          featuresWithoutGeometry: 0,
          relationsNotAreas: 0,
          clippedWays: 0,
          clippedFeatures: 0,
        },
        islands: { count: 0, largestNodes: 7, otherSizes: [] },
        facilities: { total: 2, byFormat: {}, unreachable: 0, onIslands: 0, accessPoints: { node: 2, entrance: 0, 'nearest-to-network': 0, centroid: 0 } },
        residences: {
          profile: 'generic',
          profileReason: 'test',
          featuresSeen: 2,
          ignored: 0,
          withoutGeometry: 0,
          homeBuildings: { seen: 2, kept: 2 },
          candidates: { seen: 0, kept: 0, inMask: 0, tooSmall: 0, tooLarge: 0, outsideResidentialLanduse: 0 },
          compounds: { total: 0, withBuildings: 0, withoutBuildings: 0, withGates: 0, tooLargeForGates: 0, nearbyGates: 0 },
          gateNodes: 0,
          masks: 0,
          levels: { tagged: 2, fromHeight: 0, default: 0 },
          footprintAssumed: 0,
          access: { gate: 2, entrance: 0, centroid: 0 },
          residences: 2,
          floorAreaM2: 1500,
          populationPrior: 150,
          warnings: [],
          unsnappedPoints: 0,
          unreachable: 0,
        },
        warnings: [],
      },
    },
    graph,
    facilities: [fac(0, 'convenience_store', 'Eck', 100, 200), fac(1, 'supermarket', 'Markt', 300, 100)],
    facilitySnaps: { edge: Int32Array.from([4, 5]), offset: Float32Array.from([100, 100]), access: Float32Array.from([0, 0]) },
    residences: b.finish(),
    residenceSnaps: { edge: Int32Array.from([1, 6]), offset: Float32Array.from([50, 100]), access: Float32Array.from([0, 10]) },
    compounds: [],
  };
}

const OPTS = { profile: 'mofcom-2021', h3Resolutions: [] as number[], taxonomy };
/** minutes[residence][format] of an assessment. */
function minutes(region: Region): (r: number, f: number) => number {
  const res = assess(region, OPTS).residences;
  return (r, f) => res.minutes[r * res.formats.length + f];
}
const near = (a: number, b: number, eps = 1e-3) => {
  if (a === b) return; // also both Infinity
  expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(eps);
};

const LINK: Edit = { id: 'l1', type: 'add_link', from: [toLon(150), toLat(0)], to: [toLon(150), toLat(200)], kind: 'passage' };
const GATE_N0: Edit = { id: 'g0', type: 'close_gate', at: [toLon(2), toLat(1)] };
const GATE_N3: Edit = { id: 'g3', type: 'close_gate', at: [toLon(299), toLat(-2)] };
const ADD_CONV: Edit = { id: 'a1', type: 'add_facility', formats: ['convenience_store'], name: 'Neu', lon: toLon(0), lat: toLat(100) };

/** Every typed array and the JSON of a region, to compare before/after. */
function snapshot(r: Region): unknown {
  const arrays = (o: object) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v]));
  return JSON.parse(
    JSON.stringify({
      meta: r.meta,
      graph: arrays(r.graph),
      facilities: r.facilities,
      facilitySnaps: arrays(r.facilitySnaps),
      residences: arrays(r.residences),
      residenceSnaps: arrays(r.residenceSnaps),
    }),
  );
}

describe('hand-made region: minutes after each kind of edit, computed by hand', () => {
  const base = handRegion();
  const before = snapshot(base);
  const m0 = minutes(base);

  test('the base itself: 450 / 250 / 310 / 210 s', () => {
    near(m0(0, CONV), 450 / 60);
    near(m0(0, SUPER), 250 / 60);
    near(m0(1, CONV), 310 / 60);
    near(m0(1, SUPER), 210 / 60);
  });

  test('add_facility: a convenience store on e3 100 m from n0 brings R0 to 150 + 100 = 250 s; R1 keeps 310 s', () => {
    const a = applyScenarioDetailed(base, [ADD_CONV]);
    expect(a.region.graph).toBe(base.graph);
    expect(a.region.residenceSnaps).toBe(base.residenceSnaps);
    expect(a.region.facilities).toHaveLength(3);
    expect(a.region.facilities[2]).toMatchObject({ id: 2, source: 'user', formats: ['convenience_store'], name: 'Neu' });
    expect(a.region.facilitySnaps.edge[2]).toBe(3);
    near(a.region.facilitySnaps.offset[2], 100, 1e-3);
    near(a.region.facilitySnaps.access[2], 0, 1e-3);
    expect(a.addedFacilityIds.get('a1')).toBe(2);
    expect(a.region.meta.report.facilities.total).toBe(3);
    expect(a.region.meta.report.facilities.byFormat.convenience_store).toBe(2);
    const m = minutes(a.region);
    near(m(0, CONV), 250 / 60);
    near(m(1, CONV), 310 / 60);
    near(m(0, SUPER), 250 / 60);
  });

  test('add_link: a 200 m passage from R0 straight north meets e4 50 m from F0: 250 s; edges split, lengths kept', () => {
    const a = applyScenarioDetailed(base, [LINK]);
    const g = a.region.graph;
    expect(g.nodeCount).toBe(9);
    expect(g.edgeCount).toBe(7 - 2 + 4 + 1);
    expect(Array.from(a.edgeMap ?? [])).toEqual([0, -1, 1, 2, -1, 3, 4]);
    // e1 → edges 5, 6 (50 + 50); e4 → 7, 8 (150 + 150); the link is 9
    expect(Array.from(g.edgeLength.subarray(5, 10), (x) => Math.round(x * 1000) / 1000)).toEqual([50, 50, 150, 150, 200]);
    expect(g.edgeFlags[9] & EDGE_FLAG_SYNTHETIC).toBe(EDGE_FLAG_SYNTHETIC);
    for (let e = 0; e < 9; e++) expect(g.edgeFlags[e] & EDGE_FLAG_SYNTHETIC).toBe(0);
    expect(g.edgeWayId[9]).toBeLessThan(0);
    expect([g.edgeFrom[9], g.edgeTo[9]].sort()).toEqual([7, 8]);
    expect(g.nodeOsmIds[7]).toBeLessThan(0);
    // R0 lies exactly at the split: kept on a part of e1 at its new offset
    const rs = a.region.residenceSnaps;
    expect([5, 6]).toContain(rs.edge[0]);
    near(rs.offset[0], rs.edge[0] === 5 ? 50 : 0, 1e-3);
    // F0 at 100 m of e4 → part 7 (n4 → split node) at 100 m
    expect(a.region.facilitySnaps.edge[0]).toBe(7);
    near(a.region.facilitySnaps.offset[0], 100, 1e-3);
    expect(a.resnappedPoints).toBe(0);
    const m = minutes(a.region);
    near(m(0, CONV), 250 / 60);
    near(m(1, CONV), 310 / 60);
    near(m(0, SUPER), 250 / 60);
    near(m(1, SUPER), 210 / 60);
  });

  test('close_gate at n0: R0 goes round by n3: 150 + 200 + 200 = 550 s to F0; supermarket unchanged', () => {
    const a = applyScenarioDetailed(base, [GATE_N0]);
    expect(a.region.graph.nodeCount).toBe(8);
    expect(a.region.graph.edgeCount).toBe(7);
    const m = minutes(a.region);
    near(m(0, CONV), 550 / 60);
    near(m(0, SUPER), 250 / 60);
    near(m(1, CONV), 310 / 60);
  });

  test('close_gate at n3: R0 to F1 via n0, n4, n5: 150 + 200 + 300 + 100 = 750 s', () => {
    const m = minutes(applyScenario(base, [GATE_N3]));
    near(m(0, SUPER), 750 / 60);
    near(m(0, CONV), 450 / 60);
  });

  test('closing both gates cuts R0 off (its street is an island, the main network > 30 m away): no format reachable', () => {
    const a = applyScenarioDetailed(base, [GATE_N0, GATE_N3]);
    const g = a.region.graph;
    const e = a.region.residenceSnaps.edge[0];
    expect(e).toBe(1);
    expect(g.nodeComponent[g.edgeFrom[e]]).not.toBe(0);
    expect(a.region.meta.report.islands.count).toBe(1);
    const m = minutes(a.region);
    expect(m(0, CONV)).toBe(Infinity);
    expect(m(0, SUPER)).toBe(Infinity);
    near(m(1, CONV), 310 / 60);
    near(m(1, SUPER), 210 / 60);
  });

  test('close_link at a point (e0) and by way id (way 1 = e0): both as the gate at n0', () => {
    for (const edit of [{ id: 'c', type: 'close_link', at: [toLon(50), toLat(8)] }, { id: 'c', type: 'close_link', way: 1 }] as Edit[]) {
      const a = applyScenarioDetailed(base, [edit]);
      expect(a.region.graph.edgeCount).toBe(6);
      expect(a.edgeMap?.[0]).toBe(-1);
      near(minutes(a.region)(0, CONV), 550 / 60);
    }
  });

  test('move_facility F0 to e3: R0 250 s, R1 110 + 300 + 100 = 510 s; remove_facility F0: none left', () => {
    const moved = minutes(applyScenario(base, [{ id: 'm', type: 'move_facility', facility: { base: 0 }, lon: toLon(0), lat: toLat(100) }]));
    near(moved(0, CONV), 250 / 60);
    near(moved(1, CONV), 510 / 60);
    const a = applyScenarioDetailed(base, [{ id: 'r', type: 'remove_facility', facility: { base: 0 } }]);
    expect(a.region.facilities.map((f) => [f.id, f.name])).toEqual([[0, 'Markt']]);
    expect(Array.from(a.baseFacilityMap)).toEqual([-1, 0]);
    expect(Array.from(a.region.facilitySnaps.edge)).toEqual([5]);
    const removed = minutes(a.region);
    expect(removed(0, CONV)).toBe(Infinity);
    near(removed(0, SUPER), 250 / 60);
  });

  test('applying A then B equals applying A + B at once', () => {
    const A: Edit[] = [LINK, ADD_CONV];
    // in the region after A the added store is facility 2
    const B1: Edit[] = [GATE_N3, { id: 'm1', type: 'move_facility', facility: { base: 2 }, lon: toLon(0), lat: toLat(150) }];
    const B2: Edit[] = [GATE_N3, { id: 'm1', type: 'move_facility', facility: { added: 'a1' }, lon: toLon(0), lat: toLat(150) }];
    const seq = applyScenario(applyScenario(base, A), B1);
    const once = applyScenario(base, [...A, ...B2]);
    expect(seq.graph.nodeCount).toBe(once.graph.nodeCount);
    expect(seq.graph.edgeCount).toBe(once.graph.edgeCount);
    expect(Array.from(seq.graph.edgeFrom)).toEqual(Array.from(once.graph.edgeFrom));
    expect(Array.from(seq.graph.nodeOsmIds)).toEqual(Array.from(once.graph.nodeOsmIds));
    for (let e = 0; e < seq.graph.edgeCount; e++) near(seq.graph.edgeLength[e], once.graph.edgeLength[e], 1e-3);
    expect(seq.facilities.map((f) => [f.name, f.lon, f.lat])).toEqual(once.facilities.map((f) => [f.name, f.lon, f.lat]));
    const ms = minutes(seq);
    const mo = minutes(once);
    for (let r = 0; r < 2; r++) for (let f = 0; f < F.length; f++) near(ms(r, f), mo(r, f), 1e-4);
    // by hand: R0 → the moved store (e3, 150 m from n0) = 150 + 150 = 300 s; gate n3 makes the supermarket 750 s
    near(mo(0, CONV), 250 / 60); // the link to F0 is still shorter: 200 + 50
    near(mo(0, SUPER), Math.min(750, 200 + 150 + 100) / 60); // or over the link: 200 to e4, 150 to n5, 100 down e5
  });

  test('the base region is never modified', () => {
    applyScenario(base, [LINK, ADD_CONV, GATE_N0, GATE_N3, { id: 'r', type: 'remove_facility', facility: { base: 1 } }]);
    evaluateScenario(base, [LINK], OPTS);
    expect(snapshot(base)).toEqual(before);
  });
});

describe('edits that do not fit the region', () => {
  const base = handRegion();
  const expectEditError = (edits: Edit[], index: number, field: string, message: RegExp) => {
    try {
      applyScenario(base, edits);
    } catch (err) {
      expect(err).toBeInstanceOf(ScenarioEditError);
      const e = err as ScenarioEditError;
      expect(e.index, e.message).toBe(index);
      expect(e.field, e.message).toBe(field);
      expect(e.message).toMatch(message);
      return;
    }
    throw new Error('accepted');
  };

  test('a facility, link end or closure farther than the snap limit (300 m) names the edit and field', () => {
    expectEditError([ADD_CONV, { ...ADD_CONV, id: 'far', lat: toLat(700) }], 1, 'lon', /is 500 m from the nearest walkable way.*limit 300 m/);
    expectEditError([LINK, { id: 'l2', type: 'add_link', from: [toLon(150), toLat(-400)], to: [toLon(150), toLat(0)], kind: 'gate' }], 1, 'from', /400 m/);
    expectEditError([{ id: 'l2', type: 'add_link', from: [toLon(150), toLat(0)], to: [toLon(150), toLat(-450)], kind: 'gate' }], 0, 'to', /450 m/);
    expectEditError([{ id: 'g', type: 'close_gate', at: [toLon(900), toLat(0)] }], 0, 'at', /no network node/);
    expectEditError([{ id: 'c', type: 'close_link', at: [toLon(150), toLat(-900)] }], 0, 'at', /900 m/);
    expectEditError([{ id: 'c', type: 'close_link', way: 99 }], 0, 'way', /way 99 is not part/);
    expectEditError([{ id: 'r', type: 'remove_facility', facility: { base: 2 } }], 0, 'facility.base', /not in the region/);
  });

  test('a link whose ends meet the network at one node is refused', () => {
    expectEditError([{ id: 'l', type: 'add_link', from: [toLon(0.1), toLat(0.1)], to: [toLon(-0.2), toLat(0)], kind: 'passage' }], 0, 'to', /same point/);
  });

  test('swapped lon/lat are pointed out', () => {
    expectEditError([{ ...ADD_CONV, lon: toLat(100), lat: toLon(0) }], 0, 'lon', /look swapped/);
  });
});

describe('evaluateScenario on the hand-made region', () => {
  const base = handRegion();

  test('the passage: convenience coverage 0 → 100/150; R0 gains (100 residents, 20.61 elderly); changed area R0 only', () => {
    const ev = evaluateScenario(base, [LINK], OPTS);
    const conv = ev.coverage[CONV];
    near(conv.before, 0, 1e-9);
    near(conv.after, 100 / 150, 1e-6);
    expect(Array.from(conv.gained.indices)).toEqual([0]);
    near(conv.gained.population, 100, 1e-4);
    near(conv.gained.elderly, 100 * ELDERLY_SHARE, 1e-3);
    expect(conv.lost.residences).toBe(0);
    near(ev.headline.residentsGaining, 100, 1e-4);
    expect(ev.headline.residentsLosing).toBe(0);
    expect(ev.changed.mode).toBe('points');
    expect(ev.changed.residences).toBe(1);
    const feat = ev.changed.geojson.features[0];
    expect(feat.properties.residence).toBe(0);
    expect(feat.properties.minutes).toEqual({ convenience_store: { before: 7.5, after: 4.17 } });
    expect(feat.properties.gained).toEqual(['convenience_store']);
    expect(ev.zones[0].id).toBe('region');
    near(ev.zones[0].formatCoverage.after[CONV], 100 / 150, 1e-6);
    // every other format: unchanged
    for (const c of ev.coverage) if (c.format !== 'convenience_store') expect(c.delta).toBe(0);
    expect(ev.scenario.networkChanged).toBe(true);
  });

  test('both gates closed: R0 loses the supermarket (15 min) and its minutes become unreachable', () => {
    const ev = evaluateScenario(base, [GATE_N0, GATE_N3], OPTS);
    expect(Array.from(ev.coverage[SUPER].lost.indices)).toEqual([0]);
    near(ev.coverage[SUPER].before, 1, 1e-9);
    near(ev.coverage[SUPER].after, 50 / 150, 1e-6);
    expect(ev.coverage[CONV].lost.residences).toBe(0); // 7.5 min was already beyond 5
    const feat = ev.changed.geojson.features[0];
    expect(feat.properties.minutes).toEqual({ convenience_store: { before: 7.5, after: null }, supermarket: { before: 4.17, after: null } });
    const json = JSON.parse(JSON.stringify(evaluationToJson(ev))) as { coverage: Array<{ lost: { indices: number[] } }> };
    expect(json.coverage[SUPER].lost.indices).toEqual([0]);
  });

  test('the base assessment is cached per region and options; the scenario side is always fresh', () => {
    const region = handRegion();
    const first = evaluateScenario(region, [ADD_CONV], OPTS);
    const second = evaluateScenario(region, [LINK], OPTS);
    expect(first.timings.baseCached).toBe(false);
    expect(second.timings.baseCached).toBe(true);
    expect(second.before).toBe(first.before);
    expect(second.after).not.toBe(first.after);
    const other = evaluateScenario(region, [LINK], { ...OPTS, population: 300 });
    expect(other.timings.baseCached).toBe(false);
    near(other.coverage[CONV].gained.population, 200, 1e-3); // R0 holds 2/3 of the floor area
  });

  test('H3 cells as the changed area', () => {
    const ev = evaluateScenario(base, [LINK], { ...OPTS, changedArea: 'h3', changedAreaResolution: 9 });
    expect(ev.changed.mode).toBe('h3');
    expect(ev.changed.geojson.features).toHaveLength(1);
    const p = ev.changed.geojson.features[0].properties as { residences: number; formats: Record<string, { gained: number; meanBefore: number; meanAfter: number }> };
    expect(p.residences).toBe(1);
    expect(p.formats.convenience_store).toMatchObject({ gained: 1, meanBefore: 7.5, meanAfter: 4.17 });
  });

  test('an invalid edit fails before anything is assessed', () => {
    expect(() => evaluateScenario(base, [{ ...ADD_CONV, formats: ['nope'] }] as Edit[], OPTS)).toThrow(/edits\[0\].*formats\[0\]/);
  });
});

describe('editsFromPlan', () => {
  const plan = {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', geometry: { type: 'Point', coordinates: [toLon(0), toLat(100)] }, properties: { role: 'chosen', formats: ['convenience_store'], name: '规划便利店' } },
      { type: 'Feature', geometry: { type: 'Point', coordinates: [toLon(300), toLat(150)] }, properties: { role: 'existing', formats: ['supermarket'], name: 'Markt' } },
      { type: 'Feature', geometry: { type: 'Point', coordinates: [toLon(150), toLat(200)] }, properties: { role: 'chosen', formats: ['pharmacy', 'convenience_store'], name: 'Both' } },
    ],
  };

  test('chosen sites become add_facility edits; plans compose with further edits', () => {
    const edits = editsFromPlan(plan, { takenIds: ['plan-1'] });
    expect(edits).toEqual([
      { id: 'plan-2', type: 'add_facility', formats: ['convenience_store'], name: '规划便利店', lon: toLon(0), lat: toLat(100) },
      { id: 'plan-3', type: 'add_facility', formats: ['pharmacy', 'convenience_store'], name: 'Both', lon: toLon(150), lat: toLat(200) },
    ]);
    // then edited further: the second site moved away again
    const region = applyScenario(handRegion(), [...edits, { id: 'r', type: 'remove_facility', facility: { added: 'plan-3' } }]);
    expect(region.facilities.map((f) => f.name)).toEqual(['Eck', 'Markt', '规划便利店']);
    near(minutes(region)(0, CONV), 250 / 60);
  });

  test('a bad plan names the feature and field', () => {
    expect(() => editsFromPlan({ type: 'Feature' })).toThrow(PlanDocumentError);
    const bad = structuredClone(plan);
    (bad.features[2].geometry as { coordinates: unknown[] }).coordinates = ['x', 1];
    expect(() => editsFromPlan(bad)).toThrow(/features\[2\] field "geometry.coordinates"/);
    const badFormat = structuredClone(plan);
    badFormat.features[0].properties.formats = ['nope'];
    expect(() => editsFromPlan(badFormat)).toThrow(/edits\[0\].*formats\[0\].*unknown format "nope"/);
  });
});

/** A plain in-memory ScenarioStore: one map, versions, the store's errors. */
class MemoryStore implements ScenarioStore {
  rows = new Map<number, ScenarioRecord>();
  private nextId = 1;
  writes = 0;
  async listScenarios(region?: string): Promise<ScenarioRecord[]> {
    return [...this.rows.values()].filter((r) => region === undefined || r.region === region).map((r) => structuredClone(r));
  }
  async getScenario(ref: number | { region: string; name: string }): Promise<ScenarioRecord> {
    const row = typeof ref === 'number' ? this.rows.get(ref) : [...this.rows.values()].find((r) => r.region === ref.region && r.name === ref.name);
    if (!row) throw new NotFoundError('scenario', typeof ref === 'number' ? ref : `${ref.region}/${ref.name}`);
    return structuredClone(row);
  }
  async createScenario(input: NewScenario): Promise<ScenarioRecord> {
    if ([...this.rows.values()].some((r) => r.region === input.region && r.name === input.name)) throw new DuplicateNameError('scenario', input.name);
    const at = new Date().toISOString();
    const row: ScenarioRecord = { id: this.nextId++, region: input.region, name: input.name, description: input.description ?? '', edits: structuredClone(input.edits), version: 1, createdAt: at, updatedAt: at, createdBy: input.actor ?? null };
    this.rows.set(row.id, row);
    this.writes++;
    return structuredClone(row);
  }
  async updateScenario(id: number, expectedVersion: number, patch: ScenarioPatch): Promise<ScenarioRecord> {
    const row = this.rows.get(id);
    if (!row) throw new NotFoundError('scenario', id);
    if (row.version !== expectedVersion) throw new VersionConflictError('scenario', id, expectedVersion, row.version);
    Object.assign(row, structuredClone(patch), { version: row.version + 1, updatedAt: new Date().toISOString() });
    this.writes++;
    return structuredClone(row);
  }
  async deleteScenario(id: number, expectedVersion: number): Promise<void> {
    const row = this.rows.get(id);
    if (!row) throw new NotFoundError('scenario', id);
    if (row.version !== expectedVersion) throw new VersionConflictError('scenario', id, expectedVersion, row.version);
    this.rows.delete(id);
    this.writes++;
  }
}

describe('scenarios in a store', () => {
  const base = handRegion();

  test('an invalid edit anywhere in the list: nothing is written', async () => {
    const store = new MemoryStore();
    await expect(createScenario(store, base, { name: 's', edits: [ADD_CONV, { id: 'far', type: 'close_gate', at: [toLon(5000), toLat(0)] }] })).rejects.toThrow(/edits\[1\].*"at"/);
    expect(store.writes).toBe(0);
    const s = await createScenario(store, base, { name: 's', edits: [ADD_CONV] });
    await expect(appendScenarioEdits(store, base, 's', [{ type: 'move_facility', facility: { added: 'nope' }, lon: 16, lat: 48 }])).rejects.toThrow(ScenarioEditError);
    expect((await store.getScenario(s.id)).version).toBe(1);
    expect(store.writes).toBe(1);
  });

  test('appending makes up ids; a concurrent write in between is a conflict, not a lost update', async () => {
    const store = new MemoryStore();
    await createScenario(store, base, { name: 's', edits: [] });
    const r1 = await appendScenarioEdits(store, base, 's', [{ ...ADD_CONV, id: undefined }, { type: 'close_gate', at: GATE_N0.type === 'close_gate' ? GATE_N0.at : [0, 0] }]);
    expect(r1.edits.map((e) => (e as Edit).id)).toEqual(['add-1', 'gate-1']);
    expect(r1.version).toBe(2);
    const read = await store.getScenario({ region: 'Hand', name: 's' });
    await appendScenarioEdits(store, base, 's', [LINK]); // someone else
    await expect(saveScenarioEdits(store, base, read, [...read.edits, GATE_N3])).rejects.toThrow(VersionConflictError);
    const now = await store.getScenario(read.id);
    expect(now.edits.map((e) => (e as Edit).id)).toEqual(['add-1', 'gate-1', 'l1']);
    const dropped = await appendScenarioEdits(store, base, 's', [], { drop: ['gate-1'] });
    expect(dropped.edits.map((e) => (e as Edit).id)).toEqual(['add-1', 'l1']);
    await expect(appendScenarioEdits(store, base, 's', [], { drop: ['nope'] })).rejects.toThrow(/no edit "nope"/);
    const { evaluation } = await evaluateStoredScenario(store, base, 's', OPTS);
    expect(evaluation.edits.total).toBe(2);
    expect(Array.from(evaluation.coverage[CONV].gained.indices)).toEqual([0]);
  });
});
