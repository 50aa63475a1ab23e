/** What the OSM passes hand to the rest of the import. Plain data; no behaviour. */
import type { EdgeList } from '../engine/graph.js';

export type OsmType = 'node' | 'way' | 'relation';
export type Tags = Record<string, string>;

/**
 * A tagged OSM object kept because a caller's predicate wanted it (facilities now,
 * residences later). Geometry is in WGS-84 lon/lat.
 */
export interface OsmFeature {
  type: OsmType;
  id: number;
  tags: Tags;
  /** node: its position; way/relation: centroid of the (outer) area or line. */
  lon: number;
  lat: number;
  /** way/relation: outer rings (closed) or the line, as flat [lon,lat,lon,lat,...] arrays; node: []. */
  rings: Float64Array[];
  /** `entrance=*` or `barrier=gate` nodes lying on the outline, as [lon,lat,...] pairs. */
  entrances: Float64Array;
}

/** Counts for the import report: nothing is dropped without being counted here. */
export interface OsmReadStats {
  format: 'pbf' | 'xml' | 'xml.gz';
  nodesRead: number;
  waysRead: number;
  relationsRead: number;
  walkableWays: number;
  /** why ways with highway=* were not walked: rule id → count. */
  excludedWays: Record<string, number>;
  /** node references of kept ways whose node is absent from the file (bbox cuts). */
  missingNodeRefs: number;
  /** kept ways left with fewer than 2 known nodes after dropping missing refs. */
  waysDroppedNoGeometry: number;
  /** features whose geometry could not be built (all nodes missing, broken multipolygon). */
  featuresWithoutGeometry: number;
  /** relations with wanted tags whose type (site, route, …) has no area geometry to build: not kept, counted. */
  relationsNotAreas: number;
  /** ways/features outside --clip, not kept. */
  clippedWays: number;
  clippedFeatures: number;
}

export interface OsmReadResult {
  network: EdgeList;
  features: OsmFeature[];
  stats: OsmReadStats;
  /** lon/lat bbox of the network: [minLon, minLat, maxLon, maxLat]. */
  bbox: [number, number, number, number];
}
