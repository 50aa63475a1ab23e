/**
 * OSM extract → Region: read the network and tagged features, build the graph, classify
 * facilities, choose their access points, snap them, and account for every one in a report.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { buildWalkGraph, componentSizes, type WalkGraph } from '../engine/graph.js';
import { buildSnapIndex, snapPreferMain } from '../engine/snap.js';
import { extractBasemap, type BasemapResult } from '../ingest/basemap.js';
import { loadClipPolygon } from '../ingest/clip.js';
import { OsmInputError } from '../ingest/osm-source.js';
import type { OsmFeature, Tags } from '../ingest/osm-types.js';
import { readOsm } from '../ingest/read-osm.js';
import { buildResidences, isResidentialFeature, snapResidenceAccess } from '../ingest/residences/index.js';
import { chooseAccessPoint } from '../taxonomy/access-point.js';
import { compileClassifier, type Classifier } from '../taxonomy/classify.js';
import { loadTaxonomy, type Taxonomy } from '../taxonomy/formats.js';
import { REGION_FORMAT_VERSION } from './region-file.js';
import { OSM_ATTRIBUTION, type Facility, type ImportReport, type Region } from './region.js';

export interface ImportOptions {
  /** polygon GeoJSON to cut the region to. */
  clip?: string;
  /** a facility farther than this from any walkable edge is unreachable (metres). */
  snapLimitMetres?: number;
  name?: string;
  /** also extract the basemap (roads, rail, buildings, water, green) for the web app; default true. */
  basemap?: boolean;
  onProgress?: (phase: string, done: number, total: number) => void;
}

/** Tags worth keeping on a facility for later stages (hours, chains, display, classification). */
const KEPT_TAGS = [
  'name', 'name:zh', 'name:zh-Hans', 'name:en', 'opening_hours', 'brand', 'brand:wikidata', 'operator',
  'amenity', 'shop', 'cuisine', 'healthcare', 'leisure', 'social_facility', 'social_facility:for', 'craft',
  'office', 'building', 'addr:street', 'addr:housenumber', 'phone', 'website', 'wheelchair', 'capacity',
];

export async function importRegion(file: string, opts: ImportOptions = {}): Promise<Region> {
  const snapLimit = opts.snapLimitMetres ?? 300;
  const taxonomy = loadTaxonomy();
  const classify = compileClassifier(taxonomy);
  const clip = opts.clip ? loadClipPolygon(opts.clip) : undefined;
  const sha256 = await hashFile(file);

  const osm = await readOsm(file, {
    keepFeature: (tags) => classify.hasAnyFormat(tags) || isResidentialFeature(tags),
    clip,
    onProgress: opts.onProgress,
  });
  // The features (with their rings and tags, most of the import's heap) are held only here, and
  // dropped once classified and placed, before the basemap pass reads the file again.
  let features: OsmFeature[] = osm.features;
  osm.features = [];
  const warnings: string[] = [];
  if (osm.network.edgeFrom.length === 0) {
    throw new Error(`${file}: no walkable ways found (read ${osm.stats.waysRead} ways); is this the right area?`);
  }
  const graph = buildWalkGraph(osm.network);
  // in a function of its own, so the snap index is freed before the basemap pass
  const { facilities, edge, offset, access, byFormat, accessPoints, unreachable, onIslands, homes, homeSnaps } = placeFeatures(
    features, graph, classify, taxonomy, snapLimit, opts.onProgress,
  );
  features = [];
  const basemap: BasemapResult | null = opts.basemap === false ? null : await extractBasemap(file, { clip, onProgress: opts.onProgress });

  const sizes = componentSizes(graph);
  const report: ImportReport = {
    osm: osm.stats,
    islands: { count: Math.max(0, sizes.length - 1), largestNodes: sizes[0] ?? 0, otherSizes: sizes.slice(1, 51) },
    facilities: { total: facilities.length, byFormat, unreachable, onIslands, accessPoints },
    residences: { ...homes.stats, unsnappedPoints: homeSnaps.unsnappedPoints, unreachable: homeSnaps.unreachableResidences },
    warnings,
    ...(basemap ? { basemap: basemap.report } : {}),
  };
  if (unreachable > 0) warnings.push(`${unreachable} facilities are more than ${snapLimit} m from any walkable way: kept, marked unreachable`);
  if (onIslands > 0) warnings.push(`${onIslands} facilities sit on ${report.islands.count} small network islands disconnected from the main network: kept, reachable only from their island`);
  if (osm.stats.missingNodeRefs > 0) warnings.push(`${osm.stats.missingNodeRefs} node references point outside the extract (cut at its edge): ways split there`);
  if (facilities.length === 0) warnings.push('no facilities of any format found in this extract');
  if (homes.table.count === 0) warnings.push('no residential buildings or areas found: assessments need a 小区 list (--compounds)');
  if (homeSnaps.unreachableResidences > 0) warnings.push(`${homeSnaps.unreachableResidences} residences are more than ${snapLimit} m from any walkable way: kept, marked unreachable`);
  if (osm.stats.relationsNotAreas > 0) warnings.push(`${osm.stats.relationsNotAreas} tagged relations are not areas (type=site, …): not imported`);
  for (const w of homes.stats.warnings) warnings.push(`residences: ${w}`);
  if (basemap) {
    const undrawn = Object.entries(basemap.report.withoutGeometry).filter(([, n]) => n > 0);
    if (undrawn.length) warnings.push(`basemap: not drawn for lack of geometry (nodes outside the extract, unclosed areas): ${undrawn.map(([l, n]) => `${l} ${n}`).join(', ')}`);
  }

  const size = statSync(file).size;
  return {
    meta: {
      formatVersion: REGION_FORMAT_VERSION,
      name: opts.name ?? basename(file).replace(/\.osm(\.pbf|\.gz)?$|\.pbf$|\.xml$/i, ''),
      source: { file: basename(file), format: osm.stats.format, bytes: size, sha256 },
      importedAt: new Date().toISOString(),
      attribution: OSM_ATTRIBUTION,
      license: 'ODbL 1.0 (https://www.openstreetmap.org/copyright)',
      bbox: osm.bbox,
      clip: opts.clip ? basename(opts.clip) : undefined,
      snapLimitMetres: snapLimit,
      report,
    },
    graph,
    facilities,
    facilitySnaps: { edge: Int32Array.from(edge), offset: Float32Array.from(offset), access: Float32Array.from(access) },
    residences: homes.table,
    residenceSnaps: homeSnaps.snaps,
    compounds: homes.compounds,
    ...(basemap ? { basemap: { geojsonGz: basemap.geojsonGz } } : {}),
  };
}

/** Classify the features and snap facilities and homes to the network. */
function placeFeatures(
  features: OsmFeature[],
  graph: WalkGraph,
  classify: Classifier,
  taxonomy: Taxonomy,
  snapLimit: number,
  onProgress: ImportOptions['onProgress'],
) {
  onProgress?.('snap', 0, features.length);
  const index = buildSnapIndex(graph);

  const facilities: Facility[] = [];
  const edge: number[] = [];
  const offset: number[] = [];
  const access: number[] = [];
  const byFormat: Record<string, number> = {};
  for (const f of taxonomy.formats) byFormat[f.id] = 0;
  const accessPoints: ImportReport['facilities']['accessPoints'] = { node: 0, entrance: 0, 'nearest-to-network': 0, centroid: 0 };
  let unreachable = 0;
  let onIslands = 0;
  const nearestOnNetwork = (lon: number, lat: number) => {
    const s = snapPreferMain(index, lon, lat, snapLimit);
    return s ? { lon: s.lon, lat: s.lat, distance: s.distance } : null;
  };
  for (const feature of features) {
    const formats = classify(feature.tags);
    if (formats.length === 0) continue;
    const ap = chooseAccessPoint(feature, nearestOnNetwork);
    const snap = snapPreferMain(index, ap.lon, ap.lat, snapLimit);
    const id = facilities.length;
    facilities.push({
      id,
      source: feature.type,
      sourceId: feature.id,
      formats,
      name: displayName(feature.tags),
      lon: round7(ap.lon),
      lat: round7(ap.lat),
      accessPoint: ap.kind,
      tags: keepTags(feature.tags),
    });
    for (const fmt of formats) byFormat[fmt] = (byFormat[fmt] ?? 0) + 1;
    accessPoints[ap.kind]++;
    if (snap) {
      edge.push(snap.edge);
      offset.push(snap.offset);
      access.push(snap.distance);
      if (graph.nodeComponent[graph.edgeFrom[snap.edge]] !== 0) onIslands++;
    } else {
      edge.push(-1);
      offset.push(0);
      access.push(0);
      unreachable++;
    }
  }
  onProgress?.('snap', features.length, features.length);

  onProgress?.('residences', 0, 1);
  const homes = buildResidences(features);
  const homeSnaps = snapResidenceAccess(homes.table, index, snapLimit);
  onProgress?.('residences', 1, 1);
  return { facilities, edge, offset, access, byFormat, accessPoints, unreachable, onIslands, homes, homeSnaps };
}

function displayName(tags: Tags): string {
  return tags['name:zh'] ?? tags['name:zh-Hans'] ?? tags.name ?? tags.brand ?? tags['name:en'] ?? tags.operator ?? '';
}

function keepTags(tags: Tags): Tags {
  const out: Tags = {};
  for (const k of KEPT_TAGS) if (tags[k] !== undefined) out[k] = tags[k];
  return out;
}

const round7 = (x: number): number => Math.round(x * 1e7) / 1e7;

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('error', (e: Error) => reject(new OsmInputError(file, `cannot read: ${e.message}`)))
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')));
  });
}

export type { OsmFeature };
