/**
 * The demand side as columns: one row per residence (a building, a residential area without
 * mapped buildings, or a row of a user's 小区 list), typed arrays throughout so a region file
 * can store them as sections and a district's tens of thousands of homes cost little.
 *
 * Access points: residence i walks out through points gateOffsets[i] … gateOffsets[i+1]−1
 * (offsets count points, not numbers, as the graph's geomOffsets do); point p is
 * gateCoords[2p], gateCoords[2p+1] (WGS-84 lon, lat). Every residence has at least one point:
 * its compound's gates, its own entrances, or its centroid (accessKind says which). When
 * there are several, they are alternatives: an assessment takes the best.
 */

export const RESIDENCE_KINDS = ['building', 'landuse', 'user'] as const;
export type ResidenceKind = (typeof RESIDENCE_KINDS)[number];
export const KIND_BUILDING = 0;
export const KIND_LANDUSE = 1;
export const KIND_USER = 2;

export const ACCESS_KINDS = ['gate', 'entrance', 'centroid'] as const;
export type AccessKind = (typeof ACCESS_KINDS)[number];
/** the gates of the compound (landuse=residential) the residence lies in, or its own gates. */
export const ACCESS_GATE = 0;
/** the building's own entrance=* nodes. */
export const ACCESS_ENTRANCE = 1;
/** the centroid (or the user's point): to be snapped to the network. */
export const ACCESS_CENTROID = 2;

export const SOURCE_TYPES = ['node', 'way', 'relation', 'row'] as const;
export type ResidenceSourceType = (typeof SOURCE_TYPES)[number];
export const SOURCE_NODE = 0;
export const SOURCE_WAY = 1;
export const SOURCE_RELATION = 2;
/** a row of a user list: sourceId is its line (CSV) or feature number (GeoJSON). */
export const SOURCE_ROW = 3;

export const LEVELS_TAGGED = 0;
export const LEVELS_FROM_HEIGHT = 1;
export const LEVELS_DEFAULT = 2;
/** landuse and user rows: no levels. */
export const LEVELS_NONE = 3;

export interface ResidenceTable {
  count: number;
  /** centroid (buildings, areas) or the given point (user rows), WGS-84. */
  lon: Float64Array;
  lat: Float64Array;
  /** footprint m² (0 for user rows; the area for landuse residences). */
  footprint: Float64Array;
  /** levels used for floor area (0 where none). */
  levels: Float32Array;
  /** LEVELS_TAGGED / _FROM_HEIGHT / _DEFAULT / _NONE. */
  levelsSource: Uint8Array;
  /** residential floor area m², the weight that spreads known population totals. */
  floorArea: Float64Array;
  population: Float32Array;
  /** residents aged 65+. */
  elderly: Float32Array;
  /** KIND_BUILDING / KIND_LANDUSE / KIND_USER. */
  kind: Uint8Array;
  /** SOURCE_NODE / _WAY / _RELATION / _ROW. */
  sourceType: Uint8Array;
  /** OSM id, or the line / feature number of a user row. */
  sourceId: Float64Array;
  /** index of the compound (see ResidenceBuild.compounds) the residence lies in, −1 if none. */
  compound: Int32Array;
  names: string[];
  /** count + 1 entries, in points. */
  gateOffsets: Int32Array;
  /** lon/lat pairs. */
  gateCoords: Float64Array;
  /** ACCESS_GATE / _ENTRANCE / _CENTROID. */
  accessKind: Uint8Array;
}

/** Storage kinds of the table's arrays, for a region file (names go in its JSON header). */
export const RESIDENCE_ARRAYS: ReadonlyArray<[Exclude<keyof ResidenceTable, 'count' | 'names'>, 'f64' | 'f32' | 'i32' | 'u8']> = [
  ['lon', 'f64'],
  ['lat', 'f64'],
  ['footprint', 'f64'],
  ['levels', 'f32'],
  ['levelsSource', 'u8'],
  ['floorArea', 'f64'],
  ['population', 'f32'],
  ['elderly', 'f32'],
  ['kind', 'u8'],
  ['sourceType', 'u8'],
  ['sourceId', 'f64'],
  ['compound', 'i32'],
  ['gateOffsets', 'i32'],
  ['gateCoords', 'f64'],
  ['accessKind', 'u8'],
];

export interface ResidenceRow {
  lon: number;
  lat: number;
  footprint: number;
  levels: number;
  levelsSource: number;
  floorArea: number;
  population: number;
  elderly: number;
  kind: number;
  sourceType: number;
  sourceId: number;
  compound: number;
  name: string;
  /** lon/lat pairs, at least one point. */
  access: ArrayLike<number>;
  accessKind: number;
}

/** A growable Float64Array (amortised doubling). */
class Column {
  a: Float64Array;
  n = 0;
  constructor(cap = 256) {
    this.a = new Float64Array(cap);
  }
  push(x: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = x;
  }
  view(): Float64Array {
    return this.a.subarray(0, this.n);
  }
}

/** Append-only row builder (growable number columns, no object kept per row); `finish` makes the table. */
export class ResidenceTableBuilder {
  private readonly cols = {
    lon: new Column(),
    lat: new Column(),
    footprint: new Column(),
    levels: new Column(),
    levelsSource: new Column(),
    floorArea: new Column(),
    population: new Column(),
    elderly: new Column(),
    kind: new Column(),
    sourceType: new Column(),
    sourceId: new Column(),
    compound: new Column(),
    accessKind: new Column(),
  };
  private readonly names: string[] = [];
  private readonly offsets = new Column();
  private readonly coords = new Column(512);

  constructor() {
    this.offsets.push(0);
  }

  get count(): number {
    return this.names.length;
  }

  add(r: ResidenceRow): number {
    const { access } = r;
    if (access.length < 2 || access.length % 2 !== 0) throw new Error('a residence needs at least one access point (lon/lat pairs)');
    for (let i = 0; i < access.length; i++) this.coords.push(access[i]);
    this.offsets.push(this.coords.n / 2);
    const c = this.cols;
    c.lon.push(r.lon);
    c.lat.push(r.lat);
    c.footprint.push(r.footprint);
    c.levels.push(r.levels);
    c.levelsSource.push(r.levelsSource);
    c.floorArea.push(r.floorArea);
    c.population.push(r.population);
    c.elderly.push(r.elderly);
    c.kind.push(r.kind);
    c.sourceType.push(r.sourceType);
    c.sourceId.push(r.sourceId);
    c.compound.push(r.compound);
    c.accessKind.push(r.accessKind);
    this.names.push(r.name);
    return this.names.length - 1;
  }

  finish(): ResidenceTable {
    const c = this.cols;
    return {
      count: this.names.length,
      lon: c.lon.view().slice(),
      lat: c.lat.view().slice(),
      footprint: c.footprint.view().slice(),
      levels: new Float32Array(c.levels.view()),
      levelsSource: new Uint8Array(c.levelsSource.view()),
      floorArea: c.floorArea.view().slice(),
      population: new Float32Array(c.population.view()),
      elderly: new Float32Array(c.elderly.view()),
      kind: new Uint8Array(c.kind.view()),
      sourceType: new Uint8Array(c.sourceType.view()),
      sourceId: c.sourceId.view().slice(),
      compound: new Int32Array(c.compound.view()),
      names: this.names.slice(),
      gateOffsets: new Int32Array(this.offsets.view()),
      gateCoords: this.coords.view().slice(),
      accessKind: new Uint8Array(c.accessKind.view()),
    };
  }
}

export function emptyResidenceTable(n = 0): ResidenceTable {
  return {
    count: n,
    lon: new Float64Array(n),
    lat: new Float64Array(n),
    footprint: new Float64Array(n),
    levels: new Float32Array(n),
    levelsSource: new Uint8Array(n),
    floorArea: new Float64Array(n),
    population: new Float32Array(n),
    elderly: new Float32Array(n),
    kind: new Uint8Array(n),
    sourceType: new Uint8Array(n),
    sourceId: new Float64Array(n),
    compound: new Int32Array(n).fill(-1),
    names: new Array<string>(n).fill(''),
    gateOffsets: new Int32Array(n + 1),
    gateCoords: new Float64Array(0),
    accessKind: new Uint8Array(n),
  };
}

/** Rows of several tables, one after the other (compound indices are kept as they are). */
export function concatResidenceTables(tables: readonly ResidenceTable[]): ResidenceTable {
  const n = tables.reduce((s, t) => s + t.count, 0);
  const pts = tables.reduce((s, t) => s + t.gateCoords.length, 0);
  const out = emptyResidenceTable(n);
  out.gateCoords = new Float64Array(pts);
  let at = 0;
  let pAt = 0;
  for (const t of tables) {
    for (const [k] of RESIDENCE_ARRAYS) {
      if (k === 'gateOffsets' || k === 'gateCoords') continue;
      (out[k] as Float64Array).set(t[k] as Float64Array, at); // same element kind on both sides
    }
    for (let i = 0; i < t.count; i++) {
      out.names[at + i] = t.names[i];
      out.gateOffsets[at + i] = t.gateOffsets[i] + pAt / 2;
    }
    out.gateCoords.set(t.gateCoords, pAt);
    at += t.count;
    pAt += t.gateCoords.length;
  }
  out.gateOffsets[n] = pAt / 2;
  return out;
}

/** Access points of residence i as [lon, lat] pairs. */
export function accessPointsOf(t: ResidenceTable, i: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let p = t.gateOffsets[i]; p < t.gateOffsets[i + 1]; p++) out.push([t.gateCoords[2 * p], t.gateCoords[2 * p + 1]]);
  return out;
}
