/**
 * A small hand-made region for the server tests: a jittered street grid with bent edges and
 * steps (test/engine/fixtures.ts), a detached two-node island 1.5 km east, facilities and
 * compounds with Chinese names, and optionally a hand-written basemap with named streets.
 * Positions are in metres east/north of (LON0, LAT0).
 */
import { gzipSync } from 'node:zlib';
import { buildSnapIndex, snapPreferMain } from '../../src/engine/snap.js';
import type { WalkGraph } from '../../src/engine/graph.js';
import { emptyResidenceTable, type CompoundInfo } from '../../src/ingest/residences/index.js';
import { OSM_ATTRIBUTION, type Facility, type ImportReport, type Region } from '../../src/region/region.js';
import { makeGraph, randomGrid, toLat, toLon, type EdgeSpec } from '../engine/fixtures.js';

export interface HandRegion {
  region: Region;
  graph: WalkGraph;
  nodes: [number, number][];
  edges: EdgeSpec[];
  /** node indices of the island. */
  island: [number, number];
  /** streets of the basemap: name → its middle vertex [lon, lat]. */
  streets: Record<string, [number, number]>;
}

export function handRegion(opts: { basemap?: boolean; seed?: number } = {}): HandRegion {
  const grid = randomGrid(6, 6, 100, opts.seed ?? 11, { removeFraction: 0.12, stepsFraction: 0.12, bendFraction: 0.4 });
  const nodes: [number, number][] = [...grid.nodes, [1500, 0], [1600, 0]];
  const island: [number, number] = [nodes.length - 2, nodes.length - 1];
  const edges: EdgeSpec[] = [...grid.edges, { a: island[0], b: island[1] }];
  const graph = makeGraph(nodes, edges);
  const index = buildSnapIndex(graph);

  const fac = (id: number, format: string, name: string, x: number, y: number, tags: Record<string, string> = {}): Facility => ({
    id,
    source: 'node',
    sourceId: 700 + id,
    formats: [format],
    name,
    lon: toLon(x),
    lat: toLat(y),
    accessPoint: 'node',
    tags: { name, ...tags },
  });
  const facilities = [
    fac(0, 'supermarket', '华联超市', 150, 8),
    fac(1, 'pharmacy', '幸福药房', 310, 250),
    fac(2, 'convenience_store', '孤岛便利店', 1550, 3),
    fac(3, 'supermarket', 'Billa Supermarkt', 420, 480, { brand: 'BILLA' }),
    fac(4, 'pharmacy', '', 90, 330, { 'name:en': 'Riverside Pharmacy' }),
  ];
  const snaps = facilities.map((f) => snapPreferMain(index, f.lon, f.lat, 300));

  const residences = emptyResidenceTable(3);
  const put = (i: number, x: number, y: number, compound: number) => {
    residences.lon[i] = toLon(x);
    residences.lat[i] = toLat(y);
    residences.compound[i] = compound;
  };
  put(0, 120, 120, 0); // the whole area of 幸福小区
  put(1, 300, 300, 1); // two buildings of 阳光花园
  put(2, 340, 320, 1);
  const compound = (name: string, residence: number, buildings: number): CompoundInfo => ({
    sourceType: 'way',
    sourceId: 900 + residence,
    name,
    areaM2: 10000,
    gates: 0,
    nearbyGates: 0,
    buildings,
    gatesUsed: false,
    residence,
  });

  const streets: Record<string, [number, number]> = {};
  let basemap: Region['basemap'];
  if (opts.basemap) {
    const road = (name: string, pts: [number, number][]) => {
      const coords = pts.map(([x, y]) => [Math.round(toLon(x) * 1e6) / 1e6, Math.round(toLat(y) * 1e6) / 1e6]);
      streets[name] = coords[coords.length >> 1] as [number, number];
      return { type: 'Feature', properties: { layer: 'road', class: 'primary', name }, geometry: { type: 'LineString', coordinates: coords } };
    };
    const fc = {
      type: 'FeatureCollection',
      source: 'osm',
      attribution: OSM_ATTRIBUTION,
      features: [
        road('淮海中路', [[0, 0], [100, 0], [200, 0]]),
        road('淮海西路', [[0, 100], [100, 100], [200, 100], [300, 100], [400, 100]]),
        // a second, shorter way of the same street: the longer one gives the point
        road('淮海中路', [[300, 0], [400, 0]]),
        { type: 'Feature', properties: { layer: 'building' }, geometry: { type: 'Polygon', coordinates: [[[16, 48], [16.0001, 48], [16.0001, 48.0001], [16, 48]]] } },
      ],
    };
    // the shorter duplicate must not overwrite the longer way's point
    streets['淮海中路'] = [Math.round(toLon(100) * 1e6) / 1e6, Math.round(toLat(0) * 1e6) / 1e6];
    basemap = { geojsonGz: new Uint8Array(gzipSync(JSON.stringify(fc))) };
  }

  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  for (let u = 0; u < graph.nodeCount; u++) {
    w = Math.min(w, graph.nodeCoords[2 * u]);
    e = Math.max(e, graph.nodeCoords[2 * u]);
    s = Math.min(s, graph.nodeCoords[2 * u + 1]);
    n = Math.max(n, graph.nodeCoords[2 * u + 1]);
  }
  const region: Region = {
    meta: {
      formatVersion: 2,
      name: '测试区',
      source: { file: 'hand.osm', format: 'xml', bytes: 0, sha256: '' },
      importedAt: '2025-01-01T00:00:00Z',
      attribution: OSM_ATTRIBUTION,
      license: 'ODbL 1.0',
      bbox: [w, s, e, n],
      snapLimitMetres: 300,
      report: {} as ImportReport, // the server does not read the import report
    },
    graph,
    facilities,
    facilitySnaps: {
      edge: Int32Array.from(snaps, (x) => (x ? x.edge : -1)),
      offset: Float32Array.from(snaps, (x) => (x ? x.offset : 0)),
      access: Float32Array.from(snaps, (x) => (x ? x.distance : 0)),
    },
    residences,
    residenceSnaps: { edge: new Int32Array(0), offset: new Float32Array(0), access: new Float32Array(0) },
    compounds: [compound('幸福小区', 0, 0), compound('阳光花园', -1, 2)],
    ...(basemap ? { basemap } : {}),
  };
  return { region, graph, nodes, edges, island, streets };
}
