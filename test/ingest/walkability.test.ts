/** Walkability rules: unit cases on tags, then each rule end-to-end on the hand-made rules.osm. */
import { describe, expect, test } from 'vitest';
import { buildWalkGraph, EDGE_FLAG_STEPS } from '../../src/engine/graph.js';
import type { Tags } from '../../src/ingest/osm-types.js';
import { haversineMetres, readOsm } from '../../src/ingest/read-osm.js';
import { WALK_CLASSES, walkRule } from '../../src/ingest/walkability.js';

const cls = (name: string) => WALK_CLASSES.indexOf(name);

describe('walkRule', () => {
  const cases: [Tags, string | true][] = [
    [{ highway: 'residential' }, true],
    [{ highway: 'primary_link' }, true],
    [{ highway: 'footway', oneway: 'yes' }, true],
    [{ highway: 'residential', foot: 'no' }, 'foot=no'],
    [{ highway: 'primary', foot: 'use_sidepath' }, 'foot=use_sidepath'],
    [{ highway: 'service', access: 'private' }, 'access=private'],
    [{ highway: 'service', access: 'no' }, 'access=no'],
    [{ highway: 'service', access: 'private', foot: 'yes' }, true],
    [{ highway: 'service', access: 'private', foot: 'designated' }, true],
    [{ highway: 'service', access: 'no', foot: 'permissive' }, true],
    [{ highway: 'service', access: 'destination' }, true],
    [{ highway: 'motorway' }, 'motorway'],
    [{ highway: 'motorway_link', foot: 'yes' }, 'motorway'],
    [{ highway: 'trunk' }, 'trunk-without-foot'],
    [{ highway: 'trunk_link', foot: 'designated' }, true],
    [{ highway: 'trunk', foot: 'yes', access: 'no' }, true],
    [{ highway: 'construction' }, 'construction'],
    [{ highway: 'proposed' }, 'proposed'],
    [{ highway: 'abandoned' }, 'abandoned'],
    [{ highway: 'cycleway' }, true],
    [{ highway: 'cycleway', foot: 'no' }, 'foot=no'],
    [{ highway: 'pedestrian', area: 'yes' }, true],
    [{ highway: 'platform' }, true],
    [{ highway: 'bus_stop' }, 'unlisted:highway=bus_stop'],
    [{ building: 'yes' }, 'not-highway'],
  ];
  test.each(cases)('%o → %s', (tags, want) => {
    const r = walkRule(tags);
    if (want === true) {
      expect(r.walk).toBe(true);
      if (r.walk) expect(WALK_CLASSES[r.classIndex]).toBe(tags.highway);
    } else {
      expect(r).toEqual({ walk: false, rule: want });
    }
  });

  test('steps are walkable with the steps flag; nothing else has it', () => {
    expect(walkRule({ highway: 'steps' })).toEqual({ walk: true, classIndex: cls('steps'), steps: true });
    expect(walkRule({ highway: 'footway' })).toMatchObject({ walk: true, steps: false });
  });

  test('classes: no motorway, fit a Uint8, every walkable highway value has a class', () => {
    expect(WALK_CLASSES).not.toContain('motorway');
    expect(WALK_CLASSES).not.toContain('motorway_link');
    expect(WALK_CLASSES.length).toBeLessThan(256);
    expect(new Set(WALK_CLASSES).size).toBe(WALK_CLASSES.length);
  });
});

describe('rules.osm end to end', async () => {
  const keepFeature = (t: Tags) => t.amenity !== undefined || t.shop !== undefined;
  const xml = await readOsm('test/fixtures/osm/rules.osm', { keepFeature });
  const pbf = await readOsm('test/fixtures/osm/rules.osm.pbf', { keepFeature });
  const net = xml.network;
  const edgesOf = (wayId: number) => {
    const out: number[] = [];
    for (let e = 0; e < net.edgeWayId.length; e++) if (net.edgeWayId[e] === wayId) out.push(e);
    return out;
  };

  test('PBF and XML agree', () => {
    expect(pbf.network).toEqual(xml.network);
    expect(pbf.features).toEqual(xml.features);
  });

  test('excluded ways are absent and counted by rule', () => {
    for (const w of [2, 3, 5, 8, 10, 11, 19, 20, 21]) expect(edgesOf(w), `way ${w}`).toEqual([]);
    expect(xml.stats.excludedWays).toEqual({
      'foot=no': 2,
      'access=private': 1,
      'access=no': 1,
      motorway: 2,
      'trunk-without-foot': 1,
      construction: 1,
      'unlisted:highway=bus_stop': 1,
    });
    // building, multipolygon members and other untagged ways are not "excluded highways".
    expect(xml.stats.walkableWays).toBe(7);
  });

  test('access=private with foot=yes, trunk with foot=yes and cycleway are walked', () => {
    expect(edgesOf(4)).toHaveLength(1);
    expect(edgesOf(9)).toHaveLength(1);
    expect(net.edgeClass[edgesOf(9)[0]]).toBe(cls('trunk'));
    expect(edgesOf(12)).toHaveLength(1);
  });

  test('steps carry the steps flag and class', () => {
    const [e] = edgesOf(6);
    expect(net.edgeFlags[e] & EDGE_FLAG_STEPS).toBe(EDGE_FLAG_STEPS);
    expect(net.edgeClass[e]).toBe(cls('steps'));
    for (const o of edgesOf(1)) expect(net.edgeFlags[o] & EDGE_FLAG_STEPS).toBe(0);
  });

  test('one-way street is walked both ways, and split where the footway crosses it', () => {
    expect(edgesOf(7)).toHaveLength(2);
    expect(edgesOf(1)).toHaveLength(2); // 1-2 and 2-3-4: node 3 is not a junction
    const g = buildWalkGraph(net);
    const nodeOf = (osm: number) => Array.from(g.nodeOsmIds).indexOf(osm);
    const five = nodeOf(5);
    const two = nodeOf(2);
    const six = nodeOf(6);
    expect(nodeOf(3)).toBe(-1);
    const targets = (u: number) => Array.from(g.arcTarget.subarray(g.arcOffsets[u], g.arcOffsets[u + 1]));
    expect(targets(five)).toEqual([two]);
    expect(targets(six)).toEqual([two]); // against the one-way direction
    expect(targets(two).sort()).toEqual([nodeOf(1), nodeOf(4), five, six].sort());
  });

  test('pedestrian square (area=yes) is walked along its outline as one closed loop', () => {
    const es = edgesOf(13);
    expect(es).toHaveLength(1);
    expect(net.edgeFrom[es[0]]).toBe(net.edgeTo[es[0]]);
    const h = haversineMetres;
    const perimeter = h(15, 48.02, 15.001, 48.02) + h(15.001, 48.02, 15.001, 48.021) + h(15.001, 48.021, 15, 48.021) + h(15, 48.021, 15, 48.02);
    expect(net.edgeLength[es[0]]).toBeCloseTo(perimeter, 3);
  });

  test('features: point, building with entrance, multipolygon ring, broken multipolygon', () => {
    const byId = new Map(xml.features.map((f) => [`${f.type}/${f.id}`, f]));
    expect([...byId.keys()].sort()).toEqual(['node/200', 'relation/1', 'relation/2', 'way/14']);
    const cafe = byId.get('node/200')!;
    expect([cafe.lon, cafe.lat]).toEqual([15.01, 48]);
    const school = byId.get('way/14')!;
    expect(school.rings).toHaveLength(1);
    expect(school.rings[0]).toHaveLength(10);
    expect(Array.from(school.entrances)).toEqual([15.001, 48.03]); // node 144 is not on the outline
    expect(school.lon).toBeCloseTo(15.0005, 9);
    expect(school.lat).toBeCloseTo(48.0305, 9);
    const hospital = byId.get('relation/1')!;
    expect(hospital.rings).toHaveLength(1); // outer only, assembled from two ways
    expect(hospital.rings[0]).toHaveLength(10);
    expect(hospital.lon).toBeCloseTo(15.001, 9);
    expect(hospital.lat).toBeCloseTo(48.041, 9);
    const mall = byId.get('relation/2')!;
    expect(mall.rings).toHaveLength(0);
    expect(mall.lon).toBeCloseTo((15 + 15.001 + 15.001) / 3, 9);
    expect(xml.stats.featuresWithoutGeometry).toBe(1);
  });
});
