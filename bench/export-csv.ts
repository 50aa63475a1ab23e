/**
 * Minimal writer of the export-directory CSV format, for benchmarks on synthetic graphs
 * (the product's `quarter export` writes the same columns from real regions):
 *
 *   nodes.csv       node,lon,lat,osm_id,component           (node = 0-based index)
 *   edges.csv       from,to,seconds,length_m,osm_way_id,class
 *                   (undirected: walk both ways; seconds under the chosen profile)
 *   facilities.csv  facility,format,name,lon,lat,access_point,edge,from_node,to_node,
 *                   seconds_to_from,seconds_to_to,access_m
 *                   (one row per facility × format; seconds_to_* include the access leg;
 *                   edge fields empty if the facility could not be snapped)
 *
 * Seconds and metres to 3 decimals, coordinates to 7. No BOM, LF line ends (the peers
 * also accept a BOM and CRLF). access_point is "lon lat" (space-separated).
 *
 * Run directly to generate a synthetic grid export:
 *   node dist/bench/export-csv.js --nodes 1000000 --seed 1 --facilities 200 --out /tmp/grid1m
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWalkGraph, componentSizes, type WalkGraph } from '../src/engine/graph.js';
import { edgeSeconds, getWalkingProfile } from '../src/engine/profile.js';
import { generateGridNetwork, mulberry32, randomFacilitySeeds } from './grid.js';

export interface FacilityCsvRow {
  facility: string;
  format: string;
  name: string;
  lon: number;
  lat: number;
  /** where the access leg meets the network, or null if not snapped. */
  accessLon: number | null;
  accessLat: number | null;
  /** snapped edge, or null: then the edge fields are written empty. */
  edge: number | null;
  fromNode: number;
  toNode: number;
  /** seconds from the facility to edgeFrom / edgeTo, including the access leg. */
  secondsToFrom: number;
  secondsToTo: number;
  /** access leg length, metres. */
  accessM: number;
}

const CHUNK = 1 << 20;

/** Buffered stream writer that respects back-pressure. */
class CsvSink {
  private buf = '';
  private readonly ws: WriteStream;
  constructor(path: string, header: string) {
    this.ws = createWriteStream(path, { encoding: 'utf8' });
    this.buf = header + '\n';
  }
  async line(s: string): Promise<void> {
    this.buf += s + '\n';
    if (this.buf.length >= CHUNK) await this.flush();
  }
  private async flush(): Promise<void> {
    const s = this.buf;
    this.buf = '';
    if (!this.ws.write(s)) await new Promise<void>((res) => this.ws.once('drain', res));
  }
  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((res, rej) => {
      this.ws.once('error', rej);
      this.ws.end(res);
    });
  }
}

function text(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Write nodes.csv, edges.csv and facilities.csv (header only if no rows) into dir. */
export async function writeGraphCsv(
  dir: string,
  graph: WalkGraph,
  edgeSec: Float32Array,
  facilities: readonly FacilityCsvRow[] = [],
): Promise<void> {
  if (edgeSec.length !== graph.edgeCount) {
    throw new Error(`writeGraphCsv: edgeSec has ${edgeSec.length} entries, graph has ${graph.edgeCount} edges`);
  }
  mkdirSync(dir, { recursive: true });

  const nodes = new CsvSink(join(dir, 'nodes.csv'), 'node,lon,lat,osm_id,component');
  const c = graph.nodeCoords;
  for (let u = 0; u < graph.nodeCount; u++) {
    await nodes.line(
      `${u},${c[2 * u].toFixed(7)},${c[2 * u + 1].toFixed(7)},${graph.nodeOsmIds[u]},${graph.nodeComponent[u]}`,
    );
  }
  await nodes.close();

  const edges = new CsvSink(join(dir, 'edges.csv'), 'from,to,seconds,length_m,osm_way_id,class');
  for (let e = 0; e < graph.edgeCount; e++) {
    await edges.line(
      `${graph.edgeFrom[e]},${graph.edgeTo[e]},${edgeSec[e].toFixed(3)},${graph.edgeLength[e].toFixed(3)},` +
        `${graph.edgeWayId[e]},${graph.edgeClass[e]}`,
    );
  }
  await edges.close();

  const fac = new CsvSink(
    join(dir, 'facilities.csv'),
    'facility,format,name,lon,lat,access_point,edge,from_node,to_node,seconds_to_from,seconds_to_to,access_m',
  );
  for (const f of facilities) {
    const head = `${text(f.facility)},${text(f.format)},${text(f.name)},${f.lon.toFixed(7)},${f.lat.toFixed(7)}`;
    const snapped = f.edge !== null && f.accessLon !== null && f.accessLat !== null;
    await fac.line(
      snapped
        ? `${head},${f.accessLon!.toFixed(7)} ${f.accessLat!.toFixed(7)},${f.edge},${f.fromNode},${f.toNode},` +
            `${f.secondsToFrom.toFixed(3)},${f.secondsToTo.toFixed(3)},${f.accessM.toFixed(3)}`
        : `${head},,,,,,,`,
    );
  }
  await fac.close();
}

export interface SeedRowOptions {
  format?: string;
  /** if set, place each facility at a random point of an incident edge with a random access leg. */
  alongEdge?: { seed: number; maxAccessM: number; speedMps: number };
}

/**
 * Facility rows for seed nodes. By default each facility sits exactly on its node (access
 * leg 0, on the first incident edge); with `alongEdge` its access point is at a random
 * fraction t of that edge and the facility stands `access_m` ∈ [0, maxAccessM) north of it,
 * so seconds_to_from = access/speed + t·sec and seconds_to_to = access/speed + (1−t)·sec.
 * Nodes without edges produce an unsnapped row.
 */
export function facilityRowsAtSeeds(
  graph: WalkGraph,
  edgeSec: Float32Array,
  seeds: ArrayLike<number>,
  opts: SeedRowOptions = {},
): FacilityCsvRow[] {
  const format = opts.format ?? 'grid';
  const rnd = opts.alongEdge ? mulberry32(opts.alongEdge.seed) : null;
  const rows: FacilityCsvRow[] = [];
  for (let k = 0; k < seeds.length; k++) {
    const u = seeds[k];
    const lon = graph.nodeCoords[2 * u];
    const lat = graph.nodeCoords[2 * u + 1];
    const base = { facility: `f${k}`, format, name: `synthetic ${k}`, lon, lat };
    if (graph.arcOffsets[u] === graph.arcOffsets[u + 1]) {
      rows.push({ ...base, accessLon: null, accessLat: null, edge: null, fromNode: -1, toNode: -1, secondsToFrom: 0, secondsToTo: 0, accessM: 0 });
      continue;
    }
    const e = graph.arcEdge[graph.arcOffsets[u]];
    const a = graph.edgeFrom[e];
    const b = graph.edgeTo[e];
    const sec = Number(edgeSec[e].toFixed(3)); // what edges.csv says, so t·sec adds up exactly
    if (!rnd || !opts.alongEdge) {
      const atFrom = a === u;
      rows.push({
        ...base,
        accessLon: lon,
        accessLat: lat,
        edge: e,
        fromNode: a,
        toNode: b,
        secondsToFrom: atFrom ? 0 : sec,
        secondsToTo: atFrom ? sec : 0,
        accessM: 0,
      });
      continue;
    }
    const t = rnd();
    const accessM = rnd() * opts.alongEdge.maxAccessM;
    const accessS = accessM / opts.alongEdge.speedMps;
    const c = graph.nodeCoords;
    const px = c[2 * a] + t * (c[2 * b] - c[2 * a]);
    const py = c[2 * a + 1] + t * (c[2 * b + 1] - c[2 * a + 1]);
    rows.push({
      ...base,
      lon: px,
      lat: py + accessM / 111195.08, // the facility stands accessM north of its access point
      accessLon: px,
      accessLat: py,
      edge: e,
      fromNode: a,
      toNode: b,
      secondsToFrom: accessS + t * sec,
      secondsToTo: accessS + (1 - t) * sec,
      accessM,
    });
  }
  return rows;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

async function main(): Promise<void> {
  const nodes = Number(arg('nodes', '1000000'));
  const seed = Number(arg('seed', '1'));
  const nFac = Number(arg('facilities', '200'));
  const format = arg('format', 'grid');
  const out = arg('out', '');
  const along = process.argv.includes('--along-edge');
  if (!out) throw new Error('usage: export-csv.js --out DIR [--nodes N] [--seed S] [--facilities K] [--format ID] [--along-edge]');
  const profile = getWalkingProfile('default');
  let t = performance.now();
  const list = generateGridNetwork(nodes, seed);
  const genMs = performance.now() - t;
  t = performance.now();
  const g = buildWalkGraph(list);
  const buildMs = performance.now() - t;
  const sec = edgeSeconds(g, profile);
  const seeds = randomFacilitySeeds(g, nFac, seed);
  const rows = facilityRowsAtSeeds(g, sec, seeds, {
    format,
    alongEdge: along ? { seed, maxAccessM: 50, speedMps: profile.speedMps } : undefined,
  });
  t = performance.now();
  await writeGraphCsv(out, g, sec, rows);
  const writeMs = performance.now() - t;
  const sizes = componentSizes(g);
  console.log(
    JSON.stringify({
      nodes: g.nodeCount,
      edges: g.edgeCount,
      components: sizes.length,
      largest_component_share: sizes[0] / g.nodeCount,
      facilities: rows.length,
      generate_s: genMs / 1000,
      build_s: buildMs / 1000,
      write_csv_s: writeMs / 1000,
      out,
    }),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
