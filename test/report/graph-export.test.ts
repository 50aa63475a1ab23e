/**
 * The graph as CSV: headers, one row per node / edge / facility × format, the seconds columns
 * (access leg + part of the edge), unreachable facilities, hostile names, big files written
 * in chunks, atomic writes and output errors.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { EDGE_FLAG_STEPS, buildWalkGraph, type WalkGraph } from '../../src/engine/graph.js';
import { WALK_CLASSES } from '../../src/ingest/walkability.js';
import { OutputFileError } from '../../src/io/atomic-file.js';
import type { Facility, FacilitySnaps } from '../../src/region/region.js';
import { writeGraphExport } from '../../src/report/graph-export.js';
import { readCsv } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'quarter-graph-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A path of n nodes along a parallel, `step` metres apart (edge lengths given, straight geometry). */
function pathGraph(n: number, step = 50, opts: { steps?: number[] } = {}): WalkGraph {
  const coords = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    coords[2 * i] = 15.6 + i * 0.0005;
    coords[2 * i + 1] = 48.4;
  }
  const m = n - 1;
  const geom = new Float64Array(4 * m);
  const offsets = new Int32Array(m + 1);
  for (let e = 0; e < m; e++) {
    geom.set([coords[2 * e], coords[2 * e + 1], coords[2 * e + 2], coords[2 * e + 3]], 4 * e);
    offsets[e + 1] = 2 * (e + 1);
  }
  return buildWalkGraph({
    nodeCoords: coords,
    nodeOsmIds: Float64Array.from({ length: n }, (_, i) => 9_000_000_000 + i),
    edgeFrom: Int32Array.from({ length: m }, (_, e) => e),
    edgeTo: Int32Array.from({ length: m }, (_, e) => e + 1),
    edgeLength: new Float32Array(m).fill(step),
    edgeWayId: Float64Array.from({ length: m }, (_, e) => 100 + e),
    edgeClass: Uint8Array.from({ length: m }, (_, e) => e % WALK_CLASSES.length),
    edgeFlags: Uint8Array.from({ length: m }, (_, e) => (opts.steps?.includes(e) ? EDGE_FLAG_STEPS : 0)),
    geomOffsets: offsets,
    geomCoords: geom,
  });
}

const facility = (id: number, name: string, formats: string[]): Facility => ({
  id,
  source: 'node',
  sourceId: 500 + id,
  formats,
  name,
  lon: 15.6 + id * 0.001,
  lat: 48.4001,
  accessPoint: 'node',
  tags: {},
});

describe('writeGraphExport', () => {
  const g = pathGraph(5);
  const speed = 1.25;
  const edgeSec = Float32Array.from({ length: g.edgeCount }, (_, e) => g.edgeLength[e] / speed);
  const facilities = [
    facility(0, 'Apotheke "Am Markt", Krems', ['pharmacy']),
    facility(1, '=HYPERLINK("http://evil.example")', ['supermarket', 'convenience_store']),
    facility(2, 'far away\nin the woods', ['pharmacy']),
  ];
  const snaps: FacilitySnaps = {
    edge: Int32Array.from([1, 3, -1]),
    offset: Float32Array.from([10, 50, 0]),
    access: Float32Array.from([5, 2.5, 0]),
  };
  const dir = join(tmp, 'small');
  const counts = writeGraphExport(dir, { graph: g, edgeSec, speedMps: speed, facilities, snaps });

  test('counts and files', () => {
    expect(counts).toEqual({ nodes: 5, edges: 4, facilityRows: 4 });
    expect(readdirSync(dir).sort()).toEqual(['edges.csv', 'facilities.csv', 'nodes.csv']);
    for (const f of readdirSync(dir)) {
      const t = readCsv(join(dir, f));
      expect(t.bom, f).toBe(true);
      expect(t.crlf, f).toBe(true);
    }
  });

  test('nodes.csv', () => {
    const t = readCsv(join(dir, 'nodes.csv'));
    expect(t.header).toEqual(['node', 'lon', 'lat', 'osm_id', 'component']);
    expect(t.rows).toHaveLength(5);
    t.rows.forEach((r, i) => {
      expect(r).toEqual({ node: String(i), lon: String(Math.round((15.6 + i * 0.0005) * 1e7) / 1e7), lat: '48.4', osm_id: String(9_000_000_000 + i), component: '0' });
    });
  });

  test('edges.csv', () => {
    const t = readCsv(join(dir, 'edges.csv'));
    expect(t.header).toEqual(['from', 'to', 'seconds', 'length_m', 'osm_way_id', 'class']);
    t.rows.forEach((r, e) => {
      expect(r).toEqual({ from: String(e), to: String(e + 1), seconds: '40', length_m: '50', osm_way_id: String(100 + e), class: WALK_CLASSES[e % WALK_CLASSES.length] });
    });
  });

  test('facilities.csv: one row per format, seconds to each edge end with the access leg, empty when unreachable', () => {
    const t = readCsv(join(dir, 'facilities.csv'));
    expect(t.header).toEqual(['facility', 'format', 'name', 'lon', 'lat', 'access_point', 'edge', 'from_node', 'to_node', 'seconds_to_from', 'seconds_to_to', 'access_m']);
    expect(t.rows.map((r) => [r.facility, r.format])).toEqual([
      ['0', 'pharmacy'],
      ['1', 'supermarket'],
      ['1', 'convenience_store'],
      ['2', 'pharmacy'],
    ]);
    // facility 0: edge 1 (nodes 1→2, 50 m = 40 s), 10 m from node 1, 5 m off the way (4 s)
    expect(t.rows[0]).toMatchObject({ name: 'Apotheke "Am Markt", Krems', edge: '1', from_node: '1', to_node: '2', seconds_to_from: '12', seconds_to_to: '36', access_m: '5' });
    // facility 1: at the far end of edge 3 (offset = length), 2.5 m off (2 s); the formula is defused
    for (const r of t.rows.slice(1, 3)) {
      expect(r).toMatchObject({ name: `'=HYPERLINK("http://evil.example")`, edge: '3', from_node: '3', to_node: '4', seconds_to_from: '42', seconds_to_to: '2', access_m: '2.5' });
    }
    expect(t.rows[3]).toMatchObject({ name: 'far away\nin the woods', edge: '', from_node: '', to_node: '', seconds_to_from: '', seconds_to_to: '', access_m: '' });
    expect(t.rows[3].lon).toBe(String(15.602));
  });

  test('without snaps every facility row has empty edge fields; without facilities only the header', () => {
    const d1 = join(tmp, 'nosnaps');
    expect(writeGraphExport(d1, { graph: g, edgeSec, speedMps: speed, facilities }).facilityRows).toBe(4);
    expect(readCsv(join(d1, 'facilities.csv')).rows.every((r) => r.edge === '' && r.seconds_to_from === '')).toBe(true);
    const d2 = join(tmp, 'nofacilities');
    expect(writeGraphExport(d2, { graph: g, edgeSec, speedMps: speed })).toEqual({ nodes: 5, edges: 4, facilityRows: 0 });
    expect(readCsv(join(d2, 'facilities.csv')).rows).toEqual([]);
  });

  test('re-export over existing files replaces them atomically, no temp files left', () => {
    writeFileSync(join(dir, 'nodes.csv'), 'stale');
    writeGraphExport(dir, { graph: g, edgeSec, speedMps: speed, facilities, snaps });
    expect(readCsv(join(dir, 'nodes.csv')).rows).toHaveLength(5);
    expect(readdirSync(dir).sort()).toEqual(['edges.csv', 'facilities.csv', 'nodes.csv']);
  });

  test('an output directory under a regular file: OutputFileError naming it', () => {
    writeFileSync(join(tmp, 'plain'), 'x');
    expect(() => writeGraphExport(join(tmp, 'plain', 'csv'), { graph: g, edgeSec, speedMps: speed })).toThrow(OutputFileError);
    expect(() => writeGraphExport(join(tmp, 'plain', 'csv'), { graph: g, edgeSec, speedMps: speed })).toThrow(/plain\/csv: cannot create directory/);
    expect(readFileSync(join(tmp, 'plain'), 'utf8')).toBe('x');
  });
});

describe('big graphs', () => {
  test('files larger than one write chunk keep every row whole', () => {
    const n = 40_000; // nodes.csv ≈ 1.6 MB, over the 1 MB chunk
    const g = pathGraph(n, 7.5, { steps: [3] });
    const edgeSec = Float32Array.from({ length: g.edgeCount }, (_, e) => (g.edgeFlags[e] & EDGE_FLAG_STEPS ? 15 : 7.5));
    const dir = join(tmp, 'big');
    expect(writeGraphExport(dir, { graph: g, edgeSec, speedMps: 1 })).toEqual({ nodes: n, edges: n - 1, facilityRows: 0 });
    expect(readFileSync(join(dir, 'nodes.csv')).length).toBeGreaterThan(1 << 20);
    const nodes = readCsv(join(dir, 'nodes.csv')).rows;
    expect(nodes).toHaveLength(n);
    nodes.forEach((r, i) => expect(r.node).toBe(String(i)));
    const edges = readCsv(join(dir, 'edges.csv')).rows;
    expect(edges).toHaveLength(n - 1);
    expect(edges[3].seconds).toBe('15');
    expect(edges[n - 2]).toMatchObject({ from: String(n - 2), to: String(n - 1), seconds: '7.5', length_m: '7.5' });
  });
});
