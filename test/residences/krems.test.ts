/**
 * The demo region: residences of data/krems/krems.osm.pbf (an Austrian town: almost every
 * building is building=yes, one landuse=residential, no mapped gates). The counts below follow
 * from data/residences/defaults.json (generic profile); change them together.
 */
import { describe, expect, test } from 'vitest';
import { buildWalkGraph } from '../../src/engine/graph.js';
import { buildSnapIndex } from '../../src/engine/snap.js';
import { readOsm } from '../../src/ingest/read-osm.js';
import {
  ACCESS_CENTROID,
  buildResidences,
  distributePopulation,
  isResidentialFeature,
  KIND_BUILDING,
  KIND_LANDUSE,
  snapResidenceAccess,
} from '../../src/ingest/residences/index.js';

const osm = await readOsm('data/krems/krems.osm.pbf', { keepFeature: isResidentialFeature });
const b = buildResidences(osm.features);
const s = b.stats;
const t = b.table;

describe('Krems', () => {
  test('counts', () => {
    console.log(
      `Krems residences: ${t.count} (${s.candidates.kept} building=yes kept of ${s.candidates.seen}: ` +
        `${s.candidates.inMask} in non-residential areas, ${s.candidates.tooSmall} < 30 m², ${s.candidates.tooLarge} > 3000 m²; ` +
        `${s.compounds.withoutBuildings} residential area without buildings); floor area ${Math.round(s.floorAreaM2)} m², ` +
        `prior population ${Math.round(s.populationPrior)}`,
    );
    expect(s.profile).toBe('generic');
    expect(osm.features.length).toBe(1235);
    expect(s.homeBuildings).toEqual({ seen: 0, kept: 0 }); // no building=house/apartments/… in this extract
    expect(s.candidates).toEqual({ seen: 1098, kept: 937, inMask: 142, tooSmall: 12, tooLarge: 7, outsideResidentialLanduse: 0 });
    expect(s.compounds).toEqual({ total: 1, withBuildings: 0, withoutBuildings: 1, withGates: 0, tooLargeForGates: 0, nearbyGates: 0 });
    expect(s.gateNodes).toBe(50);
    expect(s.masks).toBe(77);
    expect(t.count).toBe(938);
    // every feature is accounted for
    expect(s.ignored + s.withoutGeometry + s.homeBuildings.seen + s.candidates.seen + s.compounds.total + s.masks + s.gateNodes).toBe(s.featuresSeen);
    const c = s.candidates;
    expect(c.kept + c.inMask + c.tooSmall + c.tooLarge + c.outsideResidentialLanduse).toBe(c.seen);
    expect(s.access).toEqual({ gate: 0, entrance: 0, centroid: 938 });
    expect(t.kind.filter((k) => k === KIND_BUILDING).length).toBe(937);
    expect(t.kind.filter((k) => k === KIND_LANDUSE).length).toBe(1);
    expect(s.populationPrior).toBeGreaterThan(10_000);
    expect(s.populationPrior).toBeLessThan(15_000);
  });

  test('every residence has an access point and reaches the network', () => {
    for (let i = 0; i < t.count; i++) {
      expect(t.gateOffsets[i + 1] - t.gateOffsets[i]).toBeGreaterThanOrEqual(1);
      expect(t.accessKind[i]).toBe(ACCESS_CENTROID);
    }
    const index = buildSnapIndex(buildWalkGraph(osm.network));
    const r = snapResidenceAccess(t, index, 300);
    console.log(`Krems access points not within 300 m of a walkable way: ${r.unsnappedPoints}`);
    expect(r.snaps.edge.length).toBe(t.gateCoords.length / 2);
    expect(r.unreachableResidences).toBeLessThan(t.count * 0.02);
  });

  test('a known total spreads over the floor area', () => {
    const r = distributePopulation(t, { total: 24_000 }, 0.2061);
    expect(r.assigned).toBe(24_000);
    expect(r.residencesOutside).toBe(0);
    const sum = t.population.reduce((a, x) => a + x, 0);
    expect(Math.abs(sum - 24_000)).toBeLessThan(0.5);
  });
});
