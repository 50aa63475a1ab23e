/**
 * A user's 小区 list (src/ingest/residences/compound-list.ts) as the demand side of one
 * assessment: `quarter assess --compounds <file>`. The list replaces the residences the import
 * estimated from OSM buildings; the loaded region is never modified: the result is a NEW Region
 * value sharing everything else (graph, facilities and their snaps, meta, compounds) with it.
 *
 * Decisions:
 * - Coordinates are WGS-84 unless the call (or a row's 坐标系) says GCJ-02 / BD-09; those are
 *   converted with src/ingest/crs.ts (identity outside China, as GCJ-02 applies only there).
 * - A row the list reader accepts but whose point (after conversion) lies outside the region's
 *   bbox is rejected with its line; when the point fits the bbox with lon and lat exchanged, the
 *   message says the columns look swapped. So imported + rejected = rows read, always.
 * - Each entry walks out from its given point, snapped like the import's homes (snapPreferMain
 *   within the region's snap limit). The region keeps no outlines of OSM's residential compounds
 *   (CompoundInfo holds counts, not geometry), so a listed 小区 inside a mapped compound cannot
 *   take that compound's gates: a note says so. Entries farther than the snap limit from every
 *   walkable way are kept and reported (lines), as the import does for homes.
 * - Population is the list's 人口, or 户数 × household size (2.36 by default); elderly is the
 *   list's 老年人口 or population × elderlyShare. (assess() spreads a given total over the
 *   entries in proportion to these populations instead, with a warning.)
 */
import { basename } from 'node:path';
import { haversineMetres } from '../engine/geo.js';
import { buildSnapIndex } from '../engine/snap.js';
import { CRS_LABEL, inChinaBbox, toWgs84, type Crs } from '../ingest/crs.js';
import { snapResidenceAccess } from '../ingest/residences/access.js';
import { readCompoundList, type CompoundField, type CompoundListResult, type RowIssue } from '../ingest/residences/compound-list.js';
import { CsvSyntaxError, type TextEncodingName } from '../ingest/text-table.js';
import { ResidenceTableBuilder, type ResidenceTable } from '../ingest/residences/table.js';
import type { Region } from '../region/region.js';

export interface CompoundListSpec {
  file: string;
  /** coordinate system of rows without a 坐标系 value (default wgs84). */
  crs?: Crs;
}

export interface CompoundListOptionsForAssess {
  /** share aged 65+ for rows without 老年人口 (default: the residence defaults, 0.2061). */
  elderlyShare?: number;
  /** persons per household for rows with only 户数 (default: the residence defaults, 2.36). */
  householdSize?: number;
}

/** What became of the list: plain JSON-able data. */
export interface CompoundListSummary {
  file: string;
  format: 'csv' | 'geojson';
  encoding: TextEncodingName;
  /** coordinate system of rows without a 坐标系 value. */
  crs: Crs;
  /** the column read for each field (null: absent). */
  columns: Record<CompoundField, string | null>;
  rowsRead: number;
  imported: number;
  /** every rejected row, by line (CSV: line in the file, header = 1; GeoJSON: feature number). */
  rejected: RowIssue[];
  /** accepted rows with a remark (no name, listed twice). */
  warnings: RowIssue[];
  /** residents of the imported entries, as listed (before any given total is spread). */
  population: number;
  /** rows whose population is 户数 × household size (counted before the bbox check). */
  populationFromHouseholds: number;
  /** rows converted from GCJ-02 / BD-09. */
  converted: number;
  /** entries farther than the snap limit from every walkable way: kept, every requirement unmet. */
  unreachable: { count: number; population: number; lines: number[] };
  snapLimitMetres: number;
  /** file-level remarks (encoding, columns not used, how entries meet the network). */
  notes: string[];
}

export interface CompoundListRegion {
  /** a new Region: the list's residences and their snaps; all else shared with the loaded one. */
  region: Region;
  summary: CompoundListSummary;
}

/** The list cannot be used: unreadable, no columns, no data rows, or every row rejected. */
export class CompoundListError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'CompoundListError';
  }
}

/** One line, whatever a cell quoted in a message held. */
const oneLine = (s: string): string => s.replace(/\s*[\r\n]+\s*/g, ' ');

const inBbox = (b: readonly number[], lon: number, lat: number): boolean => lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3];

/** Metres from a point to the nearest point of a bbox (0 inside). */
function metresOutside(b: readonly number[], lon: number, lat: number): number {
  const x = Math.min(Math.max(lon, b[0]), b[2]);
  const y = Math.min(Math.max(lat, b[1]), b[3]);
  return haversineMetres(lon, lat, x, y);
}

const distanceText = (m: number): string => (m >= 10_000 ? `${Math.round(m / 1000)} km` : m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`);

/** Read a 小区 list and build the region an assessment of it runs on. Throws CompoundListError. */
export function compoundListRegion(region: Region, spec: string | CompoundListSpec, opts: CompoundListOptionsForAssess = {}): CompoundListRegion {
  const file = typeof spec === 'string' ? spec : spec.file;
  const crs: Crs = typeof spec === 'string' ? 'wgs84' : (spec.crs ?? 'wgs84');
  let list: CompoundListResult;
  try {
    list = readCompoundList(file, {
      crs,
      convert: (lon, lat, from) => toWgs84(lon, lat, from),
      ...(opts.elderlyShare !== undefined ? { elderlyShare: opts.elderlyShare } : {}),
      ...(opts.householdSize !== undefined ? { householdSize: opts.householdSize } : {}),
    });
  } catch (e) {
    // the reader's own refusals (cannot read, empty, no columns, bad CSV) are bad input, not bugs
    if (e instanceof CsvSyntaxError || (e instanceof Error && e.constructor === Error)) throw new CompoundListError(oneLine(e.message), file);
    throw e;
  }
  const t = list.table;
  const bbox = region.meta.bbox;
  const lonLabel = list.columns.lon ?? '经度';
  const latLabel = list.columns.lat ?? '纬度';
  const rejected: RowIssue[] = [...list.rejected];
  const keep = new ResidenceTableBuilder();
  for (let r = 0; r < t.count; r++) {
    const lon = t.lon[r];
    const lat = t.lat[r];
    const line = t.sourceId[r];
    if (!inBbox(bbox, lon, lat)) {
      if (inBbox(bbox, lat, lon)) {
        rejected.push({
          line,
          field: latLabel,
          message: `looks swapped: ${lonLabel} ${lon} and ${latLabel} ${lat} lie in the region the other way round (${lonLabel} ${lat}, ${latLabel} ${lon}); exchange the columns`,
        });
      } else {
        rejected.push({
          line,
          field: lonLabel,
          message: `${lon}, ${lat} (WGS-84) is outside the region ${region.meta.name} (bbox ${bbox.join(', ')}; ${distanceText(metresOutside(bbox, lon, lat))} beyond it)`,
        });
      }
      continue;
    }
    keep.add({
      lon,
      lat,
      footprint: t.footprint[r],
      levels: t.levels[r],
      levelsSource: t.levelsSource[r],
      floorArea: t.floorArea[r],
      population: t.population[r],
      elderly: t.elderly[r],
      kind: t.kind[r],
      sourceType: t.sourceType[r],
      sourceId: line,
      compound: -1,
      name: t.names[r],
      access: t.gateCoords.subarray(2 * t.gateOffsets[r], 2 * t.gateOffsets[r + 1]),
      accessKind: t.accessKind[r],
    });
  }
  rejected.sort((a, b) => a.line - b.line);
  const table: ResidenceTable = keep.finish();
  const imported = table.count;
  if (imported + rejected.length !== list.rowsRead) {
    throw new Error(`${file}: rows do not add up (imported ${imported} + rejected ${rejected.length} ≠ ${list.rowsRead} read)`);
  }
  if (list.rowsRead === 0) throw new CompoundListError(`${file}: no data rows below the header`, file);
  if (imported === 0) {
    const r = rejected[0];
    throw new CompoundListError(`${file}: all ${list.rowsRead} rows rejected (first: line ${r.line}, ${oneLine(r.message)})`, file);
  }

  const limit = region.meta.snapLimitMetres;
  const snapped = snapResidenceAccess(table, buildSnapIndex(region.graph), limit);
  const unreachableLines: number[] = [];
  for (let r = 0; r < table.count; r++) {
    let any = false;
    for (let p = table.gateOffsets[r]; p < table.gateOffsets[r + 1]; p++) if (snapped.snaps.edge[p] >= 0) any = true;
    if (!any) unreachableLines.push(table.sourceId[r]);
  }
  let population = 0;
  for (let r = 0; r < table.count; r++) population += table.population[r];

  const notes = [...list.notes];
  if (!inChinaBbox((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)) {
    if (crs !== 'wgs84' || list.converted > 0) {
      notes.push(`GCJ-02 / BD-09 offsets apply only inside China: ${region.meta.name} is outside, so the coordinates are used unchanged`);
    }
  } else if (list.converted > 0) {
    notes.push(`${list.converted} rows converted to WGS-84 (from ${crs === 'wgs84' ? 'the system in their 坐标系' : CRS_LABEL[crs]})`);
  }
  const mapped = region.compounds.length;
  const gated = region.compounds.filter((c) => c.gates > 0).length;
  notes.push(
    `小区 entries are reached from their given point, snapped to the nearest walkable way within ${limit} m` +
      (mapped > 0
        ? `: the region keeps no outlines of its ${mapped} mapped residential compounds (${gated} with gates), so a listed 小区 inside one does not use its gates`
        : ''),
  );

  const summary: CompoundListSummary = {
    file: basename(file),
    format: list.format,
    encoding: list.encoding,
    crs,
    columns: list.columns,
    rowsRead: list.rowsRead,
    imported,
    rejected,
    warnings: list.warnings,
    population,
    populationFromHouseholds: list.populationFromHouseholds,
    converted: list.converted,
    unreachable: { count: snapped.unreachableResidences, population: snapped.unreachablePopulation, lines: unreachableLines },
    snapLimitMetres: limit,
    notes,
  };
  return { region: { ...region, residences: table, residenceSnaps: snapped.snaps }, summary };
}
