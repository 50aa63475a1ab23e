/**
 * The walk graph as plain CSV, so anyone can check Quarter's answers with another tool:
 *
 *   nodes.csv       node,lon,lat,osm_id,component            (node = 0-based index)
 *   edges.csv       from,to,seconds,length_m,osm_way_id,class (undirected: walk both ways)
 *   facilities.csv  facility,format,name,lon,lat,access_point,edge,from_node,to_node,
 *                   seconds_to_from,seconds_to_to,access_m
 *                   one row per facility × format; seconds_to_* = seconds from the facility to
 *                   that edge end, access leg included; edge fields empty when unreachable.
 *
 * UTF-8 with BOM (Excel shows Chinese names), CRLF, each file written atomically.
 */
import { join } from 'node:path';
import type { WalkGraph } from '../engine/graph.js';
import { WALK_CLASSES } from '../ingest/walkability.js';
import { ensureOutputDir, writeFileAtomic } from '../io/atomic-file.js';
import type { Facility, FacilitySnaps } from '../region/region.js';
import { UTF8_BOM, csvRow, type Cell } from './csv.js';

const CHUNK_CHARS = 1 << 20;

/** Join rows into ~1 MB chunks so a million-edge graph never becomes one giant string. */
function* chunked(header: Cell[], rows: Iterable<Cell[]>): Generator<string> {
  let buf = UTF8_BOM + csvRow(header);
  for (const r of rows) {
    buf += csvRow(r);
    if (buf.length >= CHUNK_CHARS) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const r7 = (x: number): number => Math.round(x * 1e7) / 1e7;

export interface GraphExportInput {
  graph: WalkGraph;
  edgeSec: Float32Array;
  speedMps: number;
  facilities?: readonly Facility[];
  snaps?: FacilitySnaps;
}

export function* nodeRows(g: WalkGraph): Generator<Cell[]> {
  for (let u = 0; u < g.nodeCount; u++) {
    yield [u, r7(g.nodeCoords[2 * u]), r7(g.nodeCoords[2 * u + 1]), g.nodeOsmIds[u], g.nodeComponent[u]];
  }
}

export function* edgeRows(g: WalkGraph, edgeSec: Float32Array): Generator<Cell[]> {
  for (let e = 0; e < g.edgeCount; e++) {
    yield [g.edgeFrom[e], g.edgeTo[e], r3(edgeSec[e]), r3(g.edgeLength[e]), g.edgeWayId[e], WALK_CLASSES[g.edgeClass[e]] ?? g.edgeClass[e]];
  }
}

export function* facilityRows(input: GraphExportInput): Generator<Cell[]> {
  const { graph: g, edgeSec, speedMps, facilities = [], snaps } = input;
  for (const f of facilities) {
    const e = snaps ? snaps.edge[f.id] : -1;
    let cells: Cell[] = ['', '', '', '', '', ''];
    if (snaps && e >= 0) {
      const len = g.edgeLength[e];
      const frac = len > 0 ? Math.min(1, Math.max(0, snaps.offset[f.id] / len)) : 0;
      const leg = snaps.access[f.id] / speedMps;
      cells = [e, g.edgeFrom[e], g.edgeTo[e], r3(leg + frac * edgeSec[e]), r3(leg + (1 - frac) * edgeSec[e]), r3(snaps.access[f.id])];
    }
    for (const fmt of f.formats) yield [f.id, fmt, f.name, f.lon, f.lat, f.accessPoint, ...cells];
  }
}

export interface GraphExportCounts {
  nodes: number;
  edges: number;
  facilityRows: number;
}

export function writeGraphExport(dir: string, input: GraphExportInput): GraphExportCounts {
  ensureOutputDir(dir);
  const g = input.graph;
  writeFileAtomic(join(dir, 'nodes.csv'), chunked(['node', 'lon', 'lat', 'osm_id', 'component'], nodeRows(g)));
  writeFileAtomic(
    join(dir, 'edges.csv'),
    chunked(['from', 'to', 'seconds', 'length_m', 'osm_way_id', 'class'], edgeRows(g, input.edgeSec)),
  );
  let facilityRowCount = 0;
  const counted = function* (): Generator<Cell[]> {
    for (const r of facilityRows(input)) {
      facilityRowCount++;
      yield r;
    }
  };
  writeFileAtomic(
    join(dir, 'facilities.csv'),
    chunked(
      ['facility', 'format', 'name', 'lon', 'lat', 'access_point', 'edge', 'from_node', 'to_node', 'seconds_to_from', 'seconds_to_to', 'access_m'],
      counted(),
    ),
  );
  return { nodes: g.nodeCount, edges: g.edgeCount, facilityRows: facilityRowCount };
}
