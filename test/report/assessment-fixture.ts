/**
 * A small hand-built region and AssessmentResult for the export and report tests (the engine in
 * src/assess/assess.ts is not used). The region: a 5 × 5 street grid in Krems (100 m blocks), a
 * few facilities and homes, hostile names throughout. The result: four requirements, two grades,
 * three targets, the region, two user zones (west / east half) and two H3-like hexagons; zone
 * numbers are aggregated from the per-residence arrays the same way for every zone, so tests can
 * cross-check them.
 */
import type {
  AssessmentResult,
  Gap,
  GeoJSONGeometry,
  RequirementInfo,
  ZoneKind,
  ZoneResult,
} from '../../src/assess/result.js';
import type { StandardsProfile } from '../../src/assess/standards.js';
import { buildWalkGraph, type WalkGraph } from '../../src/engine/graph.js';
import type { ImportReport } from '../../src/region/region.js';
import { OSM_ATTRIBUTION, type Facility, type Region } from '../../src/region/region.js';
import {
  ACCESS_CENTROID,
  KIND_BUILDING,
  LEVELS_DEFAULT,
  ResidenceTableBuilder,
  SOURCE_WAY,
} from '../../src/ingest/residences/table.js';

export const HOSTILE = {
  region: 'Krems <script>alert("region")</script> & "Co"',
  zoneA: '<img src=x onerror=alert(1)> 西区 "A" & \'B\'',
  zoneB: '=HYPERLINK("http://evil.example","东区")',
  residence: '=cmd|\' /C calc\'!A0',
  residence2: '@SUM(A1) <b>bold</b>',
  residence3: '+1 "quoted", comma\nnewline',
  poi: '<script>alert("poi")</script> 长者照护 "x"',
} as const;

export const LON0 = 15.6;
export const LAT0 = 48.41;
/** ≈ 100 m at 48.41° N. */
export const DLON = 0.00135;
export const DLAT = 0.0009;

/** An n × n grid of streets, straight edges with a middle point (so geometry has 3 points). */
export function gridGraph(n = 5): WalkGraph {
  const nodeCoords = new Float64Array(2 * n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      nodeCoords[2 * (j * n + i)] = LON0 + i * DLON;
      nodeCoords[2 * (j * n + i) + 1] = LAT0 + j * DLAT;
    }
  }
  const from: number[] = [];
  const to: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const u = j * n + i;
      if (i + 1 < n) (from.push(u), to.push(u + 1));
      if (j + 1 < n) (from.push(u), to.push(u + n));
    }
  }
  const m = from.length;
  const geomOffsets = new Int32Array(m + 1);
  const geomCoords = new Float64Array(m * 6);
  for (let e = 0; e < m; e++) {
    const ax = nodeCoords[2 * from[e]];
    const ay = nodeCoords[2 * from[e] + 1];
    const bx = nodeCoords[2 * to[e]];
    const by = nodeCoords[2 * to[e] + 1];
    geomCoords.set([ax, ay, (ax + bx) / 2, (ay + by) / 2, bx, by], 6 * e);
    geomOffsets[e + 1] = 3 * (e + 1);
  }
  return buildWalkGraph({
    nodeCoords,
    nodeOsmIds: Float64Array.from({ length: n * n }, (_, i) => 1000 + i),
    edgeFrom: Int32Array.from(from),
    edgeTo: Int32Array.from(to),
    edgeLength: new Float32Array(m).fill(100),
    edgeWayId: Float64Array.from({ length: m }, (_, e) => 500 + e),
    edgeClass: new Uint8Array(m),
    edgeFlags: new Uint8Array(m),
    geomOffsets,
    geomCoords,
  });
}

const facility = (id: number, name: string, formats: string[], i: number, j: number): Facility => ({
  id,
  source: 'node',
  sourceId: 9000 + id,
  formats,
  name,
  lon: LON0 + i * DLON + 0.0001,
  lat: LAT0 + j * DLAT + 0.0001,
  accessPoint: 'node',
  tags: {},
});

export interface FixtureOptions {
  /** residences (default 8; more are placed on a jittered lattice). */
  residences?: number;
  /** use hostile names (default true). */
  hostile?: boolean;
}

export function buildRegion(opts: FixtureOptions = {}): Region {
  const n = opts.residences ?? 8;
  const hostile = opts.hostile ?? true;
  const graph = gridGraph();
  const b = new ResidenceTableBuilder();
  const names = hostile ? [HOSTILE.residence, HOSTILE.residence2, HOSTILE.residence3, '幸福小区 1 号楼'] : ['幸福小区 1 号楼'];
  for (let r = 0; r < n; r++) {
    // spread over the grid (0.3 … 3.7 blocks), deterministic
    const fx = 0.3 + ((r * 0.618034) % 1) * 3.4;
    const fy = 0.3 + ((r * 0.414214 + 0.2) % 1) * 3.4;
    const lon = LON0 + fx * DLON;
    const lat = LAT0 + fy * DLAT;
    b.add({
      lon,
      lat,
      footprint: 400,
      levels: 5,
      levelsSource: LEVELS_DEFAULT,
      floorArea: 2000,
      population: 40 + (r % 5) * 10,
      elderly: 8 + (r % 3) * 4,
      kind: KIND_BUILDING,
      sourceType: SOURCE_WAY,
      sourceId: 700000 + r,
      compound: -1,
      name: r < names.length ? names[r] : `住宅 ${r + 1}`,
      access: [lon, lat],
      accessKind: ACCESS_CENTROID,
    });
  }
  const residences = b.finish();
  const points = residences.gateCoords.length / 2;
  const facilities: Facility[] = [
    facility(0, '仁济药店', ['pharmacy'], 1, 1),
    facility(1, 'Spar', ['supermarket', 'convenience_store'], 3, 3),
    facility(2, 'BILLA', ['supermarket'], 0, 4),
    facility(3, '便利店 7-Eleven', ['convenience_store'], 2, 0),
    facility(4, hostile ? HOSTILE.poi : '长者照护之家', ['elderly_care'], 0, 0),
  ];
  return {
    meta: {
      formatVersion: 1,
      name: hostile ? HOSTILE.region : 'Krems',
      source: { file: 'fixture', format: 'pbf', bytes: 0, sha256: '' },
      importedAt: '2024-01-01T00:00:00.000Z',
      attribution: OSM_ATTRIBUTION,
      license: 'ODbL-1.0',
      bbox: [LON0, LAT0, LON0 + 4 * DLON, LAT0 + 4 * DLAT],
      snapLimitMetres: 300,
      // the exports never read the import report; a full one would be noise here
      report: {} as unknown as ImportReport,
    },
    graph,
    facilities,
    facilitySnaps: { edge: new Int32Array(facilities.length), offset: new Float32Array(facilities.length), access: new Float32Array(facilities.length) },
    residences,
    residenceSnaps: { edge: new Int32Array(points), offset: new Float32Array(points), access: new Float32Array(points) },
    compounds: [],
  };
}

export const FORMATS = ['convenience_store', 'supermarket', 'pharmacy', 'elderly_care'] as const;

export function fixtureProfile(): StandardsProfile {
  return {
    version: 1,
    id: 'fixture',
    name: { 'zh-CN': '测试标准 <i>"x"</i>', en: 'Fixture profile' },
    source: 'hand-built for tests',
    walkingProfile: 'default',
    defaultMinutes: 15,
    requirements: [
      { format: 'convenience_store', withinMinutes: 5, population: 'all', weight: 1, level: 'neighbourhood' },
      { format: 'pharmacy', withinMinutes: 8, population: 'all', weight: 1 },
      { format: 'supermarket', withinMinutes: 15, population: 'all', weight: 1 },
      { format: 'elderly_care', withinMinutes: 5, population: 'elderly', weight: 2, level: 5 },
    ],
    grades: [
      { id: 'basic', name: { 'zh-CN': '基础型', en: 'Basic' }, rule: { requiredFormats: ['convenience_store'] } },
      { id: 'quality', name: { 'zh-CN': '品质型', en: 'Quality' }, rule: { minCompleteness: 1 } },
    ],
    targets: [
      { indicator: 'coverage', value: 0.85, formats: ['convenience_store', 'pharmacy'] },
      { indicator: 'resident_satisfaction', value: 0.9 },
      { indicator: 'chain_outlet_share', value: 0.3, year: 2030 },
    ],
    notes: [],
  };
}

const rect = (x0: number, y0: number, x1: number, y1: number): GeoJSONGeometry => ({
  type: 'Polygon',
  coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
});

const hexagon = (cx: number, cy: number, r: number): GeoJSONGeometry => {
  const ring: number[][] = [];
  for (let k = 0; k <= 6; k++) {
    const a = (Math.PI / 3) * (k % 6);
    ring.push([cx + (r * Math.cos(a)) / Math.cos((LAT0 * Math.PI) / 180), cy + r * Math.sin(a)]);
  }
  return { type: 'Polygon', coordinates: [ring] };
};

function inPolygon(x: number, y: number, g: GeoJSONGeometry): boolean {
  const ring = g.type === 'Polygon' ? g.coordinates[0] : g.coordinates[0][0];
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export interface Fixture {
  region: Region;
  result: AssessmentResult;
}

/** The region and a consistent assessment of it. */
export function buildFixture(opts: FixtureOptions = {}): Fixture {
  const region = buildRegion(opts);
  const profile = fixtureProfile();
  const T = region.residences;
  const n = T.count;
  const formats = [...FORMATS];
  const nf = formats.length;
  const requirements: RequirementInfo[] = profile.requirements.map((requirement, index) => ({
    index,
    requirement,
    formats: [requirement.format],
    seconds: (requirement.withinMinutes ?? 15) * 60,
    walkingProfile: 'default',
  }));
  const nq = requirements.length;

  // minutes: 1.3 × straight-line distance to the nearest facility of each format at 70 m/min
  const minutes = new Float32Array(n * nf);
  const nearest = new Int32Array(n * nf).fill(-1);
  const reachable = new Uint8Array(n).fill(1);
  if (n > 2) reachable[n - 1] = 0; // one home off the network
  for (let r = 0; r < n; r++) {
    formats.forEach((f, k) => {
      let best = Infinity;
      let id = -1;
      if (reachable[r]) {
        for (const fac of region.facilities) {
          if (!fac.formats.includes(f)) continue;
          const dx = (fac.lon - T.lon[r]) * 111320 * Math.cos((LAT0 * Math.PI) / 180);
          const dy = (fac.lat - T.lat[r]) * 111320;
          const m = (Math.hypot(dx, dy) * 1.3) / 70;
          if (m < best) (best = m), (id = fac.id);
        }
      }
      minutes[r * nf + k] = best;
      nearest[r * nf + k] = id;
    });
  }
  const met = new Uint8Array(n * nq);
  const completeness = new Float32Array(n);
  const grade = new Int8Array(n).fill(-1);
  const wsum = profile.requirements.reduce((s, q) => s + q.weight, 0);
  for (let r = 0; r < n; r++) {
    let w = 0;
    requirements.forEach((q) => {
      const m = minutes[r * nf + formats.indexOf(q.requirement.format as (typeof FORMATS)[number])];
      const ok = m <= q.seconds / 60 ? 1 : 0;
      met[r * nq + q.index] = ok;
      if (ok) w += q.requirement.weight;
    });
    completeness[r] = w / wsum;
    if (met[r * nq + 0]) grade[r] = completeness[r] >= 1 ? 1 : 0;
  }
  const R = {
    count: n,
    formats,
    minutes,
    nearest,
    met,
    completeness,
    grade,
    population: Float32Array.from(T.population),
    elderly: Float32Array.from(T.elderly),
    reachable,
  };

  const zone = (id: string, name: string, kind: ZoneKind, geometry: GeoJSONGeometry | null, resolution?: number): ZoneResult => {
    const members: number[] = [];
    for (let r = 0; r < n; r++) if (!geometry || inPolygon(T.lon[r], T.lat[r], geometry)) members.push(r);
    const pop = members.reduce((s, r) => s + R.population[r], 0);
    const eld = members.reduce((s, r) => s + R.elderly[r], 0);
    const group = (r: number, q: RequirementInfo) => (q.requirement.population === 'elderly' ? R.elderly[r] : R.population[r]);
    const coverage = requirements.map((q) => {
      const tot = members.reduce((s, r) => s + group(r, q), 0);
      const ok = members.reduce((s, r) => s + (met[r * nq + q.index] ? group(r, q) : 0), 0);
      return tot > 0 ? ok / tot : 0;
    });
    const formatCoverage = formats.map((_f, k) => {
      const ok = members.reduce((s, r) => s + (minutes[r * nf + k] <= 15 ? R.population[r] : 0), 0);
      return pop > 0 ? ok / pop : 0;
    });
    const gradeDistribution = new Array<number>(profile.grades.length + 1).fill(0);
    for (const r of members) gradeDistribution[grade[r] + 1] += R.population[r];
    const gaps: Gap[] = [];
    for (const q of requirements) {
      const un = members.filter((r) => !met[r * nq + q.index]);
      if (un.length === 0) continue;
      const w = un.reduce((s, r) => s + group(r, q), 0);
      const k = formats.indexOf(q.requirement.format as (typeof FORMATS)[number]);
      const mins = un.map((r) => minutes[r * nf + k]).sort((a, b) => a - b);
      gaps.push({
        requirement: q.index,
        format: q.requirement.format,
        residentsAffected: w,
        elderlyAffected: un.reduce((s, r) => s + R.elderly[r], 0),
        residences: un.length,
        lon: un.reduce((s, r) => s + T.lon[r] * group(r, q), 0) / Math.max(w, 1e-9),
        lat: un.reduce((s, r) => s + T.lat[r] * group(r, q), 0) / Math.max(w, 1e-9),
        medianMinutes: mins[Math.floor(mins.length / 2)],
      });
    }
    gaps.sort((a, b) => b.residentsAffected - a.residentsAffected);
    const completeShare = pop > 0 ? members.reduce((s, r) => s + (completeness[r] >= 1 ? R.population[r] : 0), 0) / pop : 0;
    const zoneGrade = coverage[0] >= 0.5 ? (coverage.every((c) => c >= 0.5) ? 1 : 0) : -1;
    return {
      id,
      name,
      kind,
      ...(resolution !== undefined ? { resolution } : {}),
      geometry,
      residences: members.length,
      population: pop,
      elderly: eld,
      coverage,
      formatCoverage,
      completeness: pop > 0 ? members.reduce((s, r) => s + completeness[r] * R.population[r], 0) / pop : 0,
      completeShare,
      grade: zoneGrade,
      gradeDistribution,
      gaps,
    };
  };

  const hostile = opts.hostile ?? true;
  const midLon = LON0 + 2 * DLON;
  const zones: ZoneResult[] = [
    zone('region', hostile ? HOSTILE.region : 'Krems', 'region', null),
    zone('west/../../etc', hostile ? HOSTILE.zoneA : '西区', 'zone', rect(LON0 - 0.0002, LAT0 - 0.0002, midLon, LAT0 + 4 * DLAT + 0.0002)),
    zone('东区', hostile ? HOSTILE.zoneB : '东区', 'zone', rect(midLon, LAT0 - 0.0002, LON0 + 4 * DLON + 0.0002, LAT0 + 4 * DLAT + 0.0002)),
    zone('891e15b7a2bffff', '891e15b7a2bffff', 'h3', hexagon(LON0 + DLON, LAT0 + DLAT, 0.0012), 9),
    zone('891e15b7a2fffff', '891e15b7a2fffff', 'h3', hexagon(LON0 + 3 * DLON, LAT0 + 3 * DLAT, 0.0012), 9),
  ];
  const rz = zones[0];
  const covOf = (fmt: string) => rz.coverage[requirements.find((q) => q.requirement.format === fmt)!.index];
  const both = (() => {
    let pop = 0;
    let ok = 0;
    for (let r = 0; r < n; r++) {
      pop += R.population[r];
      if (met[r * nq + 0] && met[r * nq + 1]) ok += R.population[r];
    }
    return ok / pop;
  })();
  const result: AssessmentResult = {
    regionName: region.meta.name,
    attribution: OSM_ATTRIBUTION,
    settings: {
      profile,
      at: '2024-05-06T08:00',
      population: null,
      elderlyShare: 0.206,
      zonesSource: 'fixture zones <x>',
      h3Resolutions: [9],
    },
    requirements,
    residences: R,
    zones,
    headline: {
      population: rz.population,
      elderly: rz.elderly,
      residences: n,
      unreachableResidences: n - reachable.reduce((s, x) => s + x, 0),
      basicFormatCoverage: ['convenience_store', 'supermarket', 'pharmacy'].map((f) => ({ format: f, coverage: covOf(f) })),
      completeCircleShare: rz.completeShare,
      meanCompleteness: rz.completeness,
      chainOutletShare: 0.5,
      targets: [
        { indicator: 'coverage', target: 0.85, value: both, met: both >= 0.85 },
        { indicator: 'resident_satisfaction', target: 0.9, value: null, met: null },
        { indicator: 'chain_outlet_share', target: 0.3, value: 0.5, met: true },
      ],
      openingHours: { open: 3, closed: 1, unknown: 0 },
    },
    warnings: ['1 residence is not on the walking network <check>'],
    timings: {},
  };
  return { region, result };
}
