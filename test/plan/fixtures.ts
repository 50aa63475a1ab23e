/**
 * Small hand-made regions for planning tests: nodes in metres east/north of (16°, 48°), edge
 * lengths given (so seconds = metres at the default 1 m/s), residences with explicit access
 * points on edges (edge, offset, access leg).
 */
import { buildWalkGraph } from '../../src/engine/graph.js';
import { ACCESS_GATE, KIND_BUILDING, LEVELS_TAGGED, ResidenceTableBuilder, SOURCE_WAY } from '../../src/ingest/residences/table.js';
import { OSM_ATTRIBUTION, type Facility, type Region } from '../../src/region/region.js';

const LON0 = 16.0;
const LAT0 = 48.0;
const KY = 6371008.8 * (Math.PI / 180);
const KX = KY * Math.cos(LAT0 * (Math.PI / 180));
export const lonOf = (x: number): number => LON0 + x / KX;
export const latOf = (y: number): number => LAT0 + y / KY;

export interface HomeSpec {
  population: number;
  /** access points: [edge, offset m, access m]; edge −1 = not on the network. */
  points: [number, number, number][];
  x?: number;
  y?: number;
}
export interface FacilitySpec {
  format: string;
  edge: number;
  offset: number;
  access: number;
  name?: string;
}

export function makeRegion(nodes: [number, number][], edges: [number, number, number][], homes: HomeSpec[], facilities: FacilitySpec[] = []): Region {
  const geom: number[] = [];
  const geomOffsets = new Int32Array(edges.length + 1);
  edges.forEach(([a, b], i) => {
    geomOffsets[i] = geom.length / 2;
    geom.push(lonOf(nodes[a][0]), latOf(nodes[a][1]), lonOf(nodes[b][0]), latOf(nodes[b][1]));
  });
  geomOffsets[edges.length] = geom.length / 2;
  const graph = buildWalkGraph({
    nodeCoords: Float64Array.from(nodes.flatMap(([x, y]) => [lonOf(x), latOf(y)])),
    nodeOsmIds: Float64Array.from(nodes, (_, i) => 100 + i),
    edgeFrom: Int32Array.from(edges, (e) => e[0]),
    edgeTo: Int32Array.from(edges, (e) => e[1]),
    edgeLength: Float32Array.from(edges, (e) => e[2]),
    edgeWayId: Float64Array.from(edges, (_, i) => 1 + i),
    edgeClass: new Uint8Array(edges.length),
    edgeFlags: new Uint8Array(edges.length),
    geomOffsets,
    geomCoords: Float64Array.from(geom),
  });
  // a point's position along an edge (straight edges): for names and maps only
  const along = (e: number, off: number): [number, number] => {
    const [a, b, len] = edges[e];
    const f = len > 0 ? off / len : 0;
    return [nodes[a][0] + f * (nodes[b][0] - nodes[a][0]), nodes[a][1] + f * (nodes[b][1] - nodes[a][1])];
  };
  const b = new ResidenceTableBuilder();
  const snapEdge: number[] = [];
  const snapOffset: number[] = [];
  const snapAccess: number[] = [];
  homes.forEach((h, i) => {
    const pos = h.points.map(([e, off]) => (e >= 0 ? along(e, off) : [h.x ?? 5000, h.y ?? 5000]));
    const [x, y] = [h.x ?? pos[0][0], h.y ?? pos[0][1]];
    b.add({
      lon: lonOf(x),
      lat: latOf(y),
      footprint: h.population,
      levels: 1,
      levelsSource: LEVELS_TAGGED,
      floorArea: h.population * 10,
      population: h.population,
      elderly: h.population * 0.2,
      kind: KIND_BUILDING,
      sourceType: SOURCE_WAY,
      sourceId: 900 + i,
      compound: -1,
      name: `H${i}`,
      access: pos.flatMap(([px, py]) => [lonOf(px), latOf(py)]),
      accessKind: ACCESS_GATE,
    });
    for (const [e, off, acc] of h.points) {
      snapEdge.push(e);
      snapOffset.push(e >= 0 ? off : 0);
      snapAccess.push(e >= 0 ? acc : 0);
    }
  });
  const facs: Facility[] = facilities.map((f, id) => {
    const [x, y] = along(f.edge, f.offset);
    return { id, source: 'node', sourceId: 500 + id, formats: [f.format], name: f.name ?? `F${id}`, lon: lonOf(x), lat: latOf(y), accessPoint: 'node', tags: {} };
  });
  const xs = nodes.map((n) => n[0]);
  const ys = nodes.map((n) => n[1]);
  return {
    meta: {
      formatVersion: 2,
      name: 'PlanTest',
      source: { file: 'test', format: 'xml', bytes: 0, sha256: '' },
      importedAt: '2026-01-01T00:00:00Z',
      attribution: OSM_ATTRIBUTION,
      license: 'ODbL-1.0',
      bbox: [lonOf(Math.min(...xs) - 100), latOf(Math.min(...ys) - 100), lonOf(Math.max(...xs) + 100), latOf(Math.max(...ys) + 100)],
      snapLimitMetres: 300,
      // the import report is not read by planning
      report: {} as Region['meta']['report'],
    },
    graph,
    facilities: facs,
    facilitySnaps: {
      edge: Int32Array.from(facilities, (f) => f.edge),
      offset: Float32Array.from(facilities, (f) => f.offset),
      access: Float32Array.from(facilities, (f) => f.access),
    },
    residences: b.finish(),
    residenceSnaps: { edge: Int32Array.from(snapEdge), offset: Float32Array.from(snapOffset), access: Float32Array.from(snapAccess) },
    compounds: [],
  };
}
