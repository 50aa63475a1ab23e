/** A region: everything one imported city needs, as saved in one .quarter file. */
import type { WalkGraph } from '../engine/graph.js';
import type { BasemapReport } from '../ingest/basemap.js';
import type { OsmReadStats, OsmType, Tags } from '../ingest/osm-types.js';
import type { CompoundInfo, ResidenceBuildStats, ResidenceSnaps, ResidenceTable } from '../ingest/residences/index.js';

export interface Facility {
  /** index in Region.facilities. */
  id: number;
  source: OsmType | 'amap' | 'baidu' | 'user';
  /** OSM id (or source row id). */
  sourceId: number;
  /** format ids from the taxonomy (a facility may serve several). */
  formats: string[];
  name: string;
  /** the point people walk to: an entrance, the node itself, or the area point nearest the network. */
  lon: number;
  lat: number;
  accessPoint: 'node' | 'entrance' | 'nearest-to-network' | 'centroid';
  /** tags kept for later stages: opening_hours, brand, operator, name:zh, name:en, … */
  tags: Tags;
}

/** Where each facility meets the network; edge −1 = unreachable (farther than the snap limit). */
export interface FacilitySnaps {
  edge: Int32Array;
  /** metres from edgeFrom along the edge. */
  offset: Float32Array;
  /** metres of the straight access leg from the facility to the edge. */
  access: Float32Array;
}

export interface ImportReport {
  osm: OsmReadStats;
  islands: { count: number; largestNodes: number; otherSizes: number[] };
  facilities: {
    total: number;
    byFormat: Record<string, number>;
    unreachable: number;
    onIslands: number;
    accessPoints: Record<Facility['accessPoint'], number>;
  };
  residences: ResidenceBuildStats & {
    /** access points farther than the snap limit from every walkable way. */
    unsnappedPoints: number;
    /** residences none of whose access points reach the network (kept, reported). */
    unreachable: number;
  };
  warnings: string[];
  /** the basemap layers written (absent when the region was imported without a basemap). */
  basemap?: BasemapReport;
}

export interface RegionMeta {
  formatVersion: number;
  name: string;
  source: { file: string; format: string; bytes: number; sha256: string };
  importedAt: string;
  attribution: string;
  license: string;
  bbox: [number, number, number, number];
  clip?: string;
  snapLimitMetres: number;
  report: ImportReport;
  /** Amap/Baidu POI files added to the region (`quarter import-pois`), oldest first; counts are rows. */
  poiImports?: Array<{
    file: string;
    source: 'amap' | 'baidu';
    crs: 'wgs84' | 'gcj02' | 'bd09';
    rowsRead: number;
    imported: number;
    rejected: number;
    merged: number;
    /** ISO time of the import. */
    at: string;
  }>;
}

export interface Region {
  meta: RegionMeta;
  graph: WalkGraph;
  facilities: Facility[];
  facilitySnaps: FacilitySnaps;
  /** homes: buildings, residential areas or a user's 小区 list (demand side). */
  residences: ResidenceTable;
  /** per residence access point (indexed like residences.gateCoords pairs). */
  residenceSnaps: ResidenceSnaps;
  /** residential compounds (小区 / landuse=residential), for reports. */
  compounds: CompoundInfo[];
  /** the map drawn under the results (roads, rail, buildings, water, green); optional: older files have none. */
  basemap?: RegionBasemap;
}

/** See src/ingest/basemap.ts for what it holds and why it is stored this way. */
export interface RegionBasemap {
  /** gzip-compressed GeoJSON FeatureCollection (UTF-8); features carry {layer, class?, name?}. */
  geojsonGz: Uint8Array;
}

export const OSM_ATTRIBUTION = '© OpenStreetMap contributors';
