/**
 * OSM features → residences (who lives where), with a population prior from floor area.
 *
 * 1. Residential landuse areas are compounds (小区); non-residential areas are masks.
 * 2. Every home building (and every candidate building=yes that survives the rules of
 *    data/residences/defaults.json) becomes a residence: floor area = footprint × levels.
 * 3. Access: the gates of the compound it lies in (when the compound has gates and is not too
 *    large to be a walled compound), else its own entrances, else its centroid.
 * 4. A compound with no home inside becomes a residence itself (area × default density).
 * 5. Population prior = floor area / floorAreaPerPerson; elderly = population × elderlyShare.
 *    distributePopulation replaces the prior with known totals.
 *
 * Nothing is dropped without a count in the stats.
 */
import type { OsmFeature, Tags } from '../osm-types.js';
import {
  loadResidenceDefaults,
  type ResidenceDefaults,
  type ResidenceProfile,
  type ResidenceProfileName,
} from './defaults.js';
import { METRES_PER_DEG_LAT, metresPerDegLon } from '../../engine/geo.js';
import { AreaIndex, distanceToRingsM, isClosedRing, ringsAreaM2 } from './geometry.js';
import { residentialRole } from './predicate.js';
import {
  ACCESS_CENTROID,
  ACCESS_ENTRANCE,
  ACCESS_GATE,
  KIND_BUILDING,
  KIND_LANDUSE,
  LEVELS_DEFAULT,
  LEVELS_FROM_HEIGHT,
  LEVELS_NONE,
  LEVELS_TAGGED,
  ResidenceTableBuilder,
  SOURCE_NODE,
  SOURCE_RELATION,
  SOURCE_WAY,
  type ResidenceTable,
} from './table.js';

export interface BuildResidencesOptions {
  /** default: chosen from where the features lie (China's bbox → cn). */
  profile?: ResidenceProfileName;
  /** override single settings of the profile (tests, what-if). */
  profileOverrides?: Partial<ResidenceProfile>;
  /** share of residents aged 65+ for the prior (default: defaults.elderlyShare). */
  elderlyShare?: number;
  defaults?: ResidenceDefaults;
}

/** A residential landuse area. */
export interface CompoundInfo {
  sourceType: 'way' | 'relation';
  sourceId: number;
  name: string;
  areaM2: number;
  /** entrance=* / barrier=gate nodes on its outline, plus gate nodes near it. */
  gates: number;
  /** of those, gate nodes near the outline but not on it. */
  nearbyGates: number;
  /** home buildings inside. */
  buildings: number;
  /** whether residents inside walk out through its gates. */
  gatesUsed: boolean;
  /** row of the residence standing for the whole area (no buildings inside), else −1. */
  residence: number;
}

export interface ResidenceBuildStats {
  profile: ResidenceProfileName;
  profileReason: string;
  featuresSeen: number;
  /** features without a demand-side role (e.g. facilities passed in the same list). */
  ignored: number;
  /** homes and compounds with no usable geometry (an open outline compound, …). */
  withoutGeometry: number;
  homeBuildings: { seen: number; kept: number };
  candidates: {
    seen: number;
    kept: number;
    inMask: number;
    tooSmall: number;
    tooLarge: number;
    outsideResidentialLanduse: number;
  };
  compounds: {
    total: number;
    withBuildings: number;
    /** became residences themselves. */
    withoutBuildings: number;
    withGates: number;
    /** had gates but are larger than maxCompoundAreaHa: gates not used. */
    tooLargeForGates: number;
    /** gate nodes attached to a compound by nearness (not on its outline). */
    nearbyGates: number;
  };
  /** gate nodes (barrier=gate, …) read; those near no compound serve nobody here. */
  gateNodes: number;
  masks: number;
  levels: { tagged: number; fromHeight: number; default: number };
  /** node buildings (no outline): footprint assumed nodeFootprintM2. */
  footprintAssumed: number;
  access: { gate: number; entrance: number; centroid: number };
  residences: number;
  floorAreaM2: number;
  populationPrior: number;
  warnings: string[];
}

export interface ResidenceBuild {
  table: ResidenceTable;
  /** one per residential landuse area (plain data, for reports). */
  compounds: CompoundInfo[];
  /** geometry of compounds[i]: its closed outer rings, and its gates as lon/lat pairs (empty when not used). */
  compoundGeometry: Array<{ rings: Float64Array[]; gates: Float64Array }>;
  stats: ResidenceBuildStats;
}

/** Rough bbox of China (lon 73–135, lat 18–54): picks the cn profile. */
export function inChinaBox(lon: number, lat: number): boolean {
  return lon >= 73 && lon <= 135 && lat >= 18 && lat <= 54;
}

/** First number of a levels value ('5', '5.5', '5;6', '5-6', ' 12 '); NaN when none. */
export function parseLevels(v: string | undefined): number {
  if (v === undefined) return NaN;
  const m = /^\s*(\d+(?:[.,]\d+)?)/.exec(v);
  if (!m) return NaN;
  const x = Number(m[1].replace(',', '.'));
  return x > 0 && x <= 200 ? x : NaN;
}

/** Metres from a height value ('12', '12 m', '12.5m'); NaN when none. */
export function parseHeight(v: string | undefined): number {
  if (v === undefined) return NaN;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(m|metres|meters)?\s*$/i.exec(v);
  if (!m) return NaN;
  const x = Number(m[1]);
  return x > 0 && x < 1000 ? x : NaN;
}

export function residenceName(tags: Tags): string {
  const n = tags['name:zh'] ?? tags['name:zh-Hans'] ?? tags.name ?? tags['addr:housename'];
  if (n) return n;
  const street = tags['addr:street'] ?? tags['addr:place'];
  const num = tags['addr:housenumber'];
  if (street && num) return `${street} ${num}`;
  return street ?? num ?? '';
}

const SOURCE_OF = { node: SOURCE_NODE, way: SOURCE_WAY, relation: SOURCE_RELATION } as const;

function chooseProfile(features: readonly OsmFeature[], opts: BuildResidencesOptions): [ResidenceProfileName, string] {
  if (opts.profile) return [opts.profile, 'given by the caller'];
  const lons: number[] = [];
  const lats: number[] = [];
  for (const f of features) {
    if (Number.isFinite(f.lon) && Number.isFinite(f.lat)) {
      lons.push(f.lon);
      lats.push(f.lat);
    }
  }
  if (lons.length === 0) return ['generic', 'no features: generic'];
  const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
  const lon = med(lons);
  const lat = med(lats);
  return inChinaBox(lon, lat)
    ? ['cn', `features lie in China (median ${lon.toFixed(3)}, ${lat.toFixed(3)})`]
    : ['generic', `features lie outside China (median ${lon.toFixed(3)}, ${lat.toFixed(3)})`];
}

interface Compound {
  f: OsmFeature;
  rings: Float64Array[];
  areaM2: number;
  /** outline entrances, then nearby gate nodes: lon/lat pairs. */
  gates: number[];
  nearbyGates: number;
  buildings: number;
  gatesUsed: boolean;
}

export function buildResidences(features: readonly OsmFeature[], opts: BuildResidencesOptions = {}): ResidenceBuild {
  const d = opts.defaults ?? loadResidenceDefaults();
  const [profileName, profileReason] = chooseProfile(features, opts);
  const prof: ResidenceProfile = { ...d.profiles[profileName], ...opts.profileOverrides };
  const elderlyShare = opts.elderlyShare ?? d.elderlyShare;
  const stats: ResidenceBuildStats = {
    profile: profileName,
    profileReason,
    featuresSeen: features.length,
    ignored: 0,
    withoutGeometry: 0,
    homeBuildings: { seen: 0, kept: 0 },
    candidates: { seen: 0, kept: 0, inMask: 0, tooSmall: 0, tooLarge: 0, outsideResidentialLanduse: 0 },
    compounds: { total: 0, withBuildings: 0, withoutBuildings: 0, withGates: 0, tooLargeForGates: 0, nearbyGates: 0 },
    gateNodes: 0,
    masks: 0,
    levels: { tagged: 0, fromHeight: 0, default: 0 },
    footprintAssumed: 0,
    access: { gate: 0, entrance: 0, centroid: 0 },
    residences: 0,
    floorAreaM2: 0,
    populationPrior: 0,
    warnings: [],
  };

  // ---- sort features by role ----
  const compounds: Compound[] = [];
  const masks: Float64Array[][] = [];
  const buildings: Array<{ f: OsmFeature; candidate: boolean }> = [];
  const gateNodes: OsmFeature[] = [];
  for (const f of features) {
    const role = residentialRole(f.tags, d);
    if (role === null) {
      stats.ignored++;
      continue;
    }
    if (role === 'home' || role === 'candidate') {
      if (!Number.isFinite(f.lon) || !Number.isFinite(f.lat)) {
        stats.withoutGeometry++;
        continue;
      }
      buildings.push({ f, candidate: role === 'candidate' });
      continue;
    }
    if (role === 'gate') {
      if (f.type === 'node' && Number.isFinite(f.lon) && Number.isFinite(f.lat)) gateNodes.push(f);
      else stats.ignored++;
      continue;
    }
    const rings = f.rings.filter(isClosedRing);
    if (rings.length === 0) {
      if (role === 'compound') stats.withoutGeometry++;
      else stats.ignored++; // a mask tag on a node or a line: nothing to lie inside
      continue;
    }
    if (role === 'mask') {
      masks.push(rings);
      stats.masks++;
    } else {
      const areaM2 = ringsAreaM2(rings, f.lon, f.lat);
      compounds.push({ f, rings, areaM2, gates: Array.from(f.entrances), nearbyGates: 0, buildings: 0, gatesUsed: false });
    }
  }
  stats.compounds.total = compounds.length;
  const compoundIndex = new AreaIndex(compounds.map((c) => c.rings));
  const maskIndex = new AreaIndex(masks);
  const maxCompoundM2 = d.maxCompoundAreaHa * 10000;
  // Gate nodes near a compound's outline (its wall drawn as a separate way): each goes to the
  // nearest compound within nearbyGateMetres, unless it is already one of its outline gates.
  stats.gateNodes = gateNodes.length;
  const reach = d.nearbyGateMetres;
  if (reach > 0) {
    for (const g of gateNodes) {
      const dLat = reach / METRES_PER_DEG_LAT;
      const dLon = reach / metresPerDegLon(g.lat);
      let best = -1;
      let bestD = Infinity;
      for (const i of compoundIndex.near(g.lon, g.lat, dLon, dLat)) {
        const dist = distanceToRingsM(compounds[i].rings, g.lon, g.lat);
        if (dist <= reach && dist < bestD) {
          best = i;
          bestD = dist;
        }
      }
      if (best < 0) continue;
      const c = compounds[best];
      let known = false;
      for (let k = 0; k + 1 < c.gates.length && !known; k += 2) known = c.gates[k] === g.lon && c.gates[k + 1] === g.lat;
      if (known) continue;
      c.gates.push(g.lon, g.lat);
      c.nearbyGates++;
      stats.compounds.nearbyGates++;
    }
  }
  for (const c of compounds) {
    if (c.gates.length >= 2) {
      stats.compounds.withGates++;
      if (c.areaM2 <= maxCompoundM2) c.gatesUsed = true;
      else stats.compounds.tooLargeForGates++;
    }
  }
  const keepYesOutside =
    prof.yesOutsideResidentialLanduse === 'keep' ||
    (prof.yesOutsideResidentialLanduse === 'drop-unless-no-residential-landuse' && compounds.length === 0);
  if (prof.yesOutsideResidentialLanduse === 'drop-unless-no-residential-landuse' && compounds.length === 0 && buildings.some((b) => b.candidate)) {
    stats.warnings.push(
      'no residential landuse (小区) is mapped here: every building=yes is taken as a candidate home, offices and shops included',
    );
  }

  const out = new ResidenceTableBuilder();
  const personsOf = (floorArea: number) => floorArea / prof.floorAreaPerPerson;

  // ---- buildings ----
  for (const { f, candidate } of buildings) {
    const tags = f.tags;
    if (candidate) stats.candidates.seen++;
    else stats.homeBuildings.seen++;
    // the smallest compound containing the centroid (compounds may nest)
    let ci = -1;
    for (const i of compoundIndex.containing(f.lon, f.lat)) if (ci < 0 || compounds[i].areaM2 < compounds[ci].areaM2) ci = i;

    const closed = f.rings.filter(isClosedRing);
    let footprint: number;
    let assumed = false;
    if (closed.length > 0) footprint = ringsAreaM2(closed, f.lon, f.lat);
    else {
      footprint = d.nodeFootprintM2;
      assumed = true;
    }
    if (candidate) {
      if (ci < 0) {
        if (maskIndex.containing(f.lon, f.lat).length > 0) {
          stats.candidates.inMask++;
          continue;
        }
        if (!keepYesOutside) {
          stats.candidates.outsideResidentialLanduse++;
          continue;
        }
        if (footprint > d.maxCandidateFootprintM2) {
          stats.candidates.tooLarge++;
          continue;
        }
      }
      if (footprint < d.minFootprintM2) {
        stats.candidates.tooSmall++;
        continue;
      }
      stats.candidates.kept++;
    } else stats.homeBuildings.kept++;
    if (assumed) stats.footprintAssumed++;

    // levels
    let levels = parseLevels(tags['building:levels']);
    let levelsSource = LEVELS_TAGGED;
    if (!Number.isFinite(levels)) {
      const h = parseHeight(tags.height);
      if (Number.isFinite(h)) {
        levels = Math.max(1, Math.round(h / d.metresPerLevel));
        levelsSource = LEVELS_FROM_HEIGHT;
      } else {
        const b = tags.building;
        levels = (ci >= 0 ? prof.levelsInResidentialLanduse[b] : undefined) ?? prof.levels[b] ?? prof.levels.yes ?? 1;
        levelsSource = LEVELS_DEFAULT;
      }
    }
    if (levelsSource === LEVELS_TAGGED) stats.levels.tagged++;
    else if (levelsSource === LEVELS_FROM_HEIGHT) stats.levels.fromHeight++;
    else stats.levels.default++;

    const floorArea = footprint * levels;
    const population = personsOf(floorArea);
    let access: ArrayLike<number>;
    let accessKind: number;
    if (ci >= 0 && compounds[ci].gatesUsed) {
      access = compounds[ci].gates;
      accessKind = ACCESS_GATE;
    } else if (f.entrances.length >= 2) {
      access = f.entrances;
      accessKind = ACCESS_ENTRANCE;
    } else {
      access = [f.lon, f.lat];
      accessKind = ACCESS_CENTROID;
    }
    if (ci >= 0) compounds[ci].buildings++;
    out.add({
      lon: f.lon,
      lat: f.lat,
      footprint,
      levels,
      levelsSource,
      floorArea,
      population,
      elderly: population * elderlyShare,
      kind: KIND_BUILDING,
      sourceType: SOURCE_OF[f.type],
      sourceId: f.id,
      compound: ci,
      name: residenceName(tags),
      access,
      accessKind,
    });
  }

  // ---- compounds without buildings: residences themselves ----
  const infos: CompoundInfo[] = compounds.map((c, i) => {
    let residence = -1;
    if (c.buildings === 0) {
      const population = (c.areaM2 / 10000) * prof.landuseDensityPerHectare;
      const gates = c.gatesUsed;
      residence = out.add({
        lon: c.f.lon,
        lat: c.f.lat,
        footprint: c.areaM2,
        levels: 0,
        levelsSource: LEVELS_NONE,
        floorArea: population * prof.floorAreaPerPerson,
        population,
        elderly: population * elderlyShare,
        kind: KIND_LANDUSE,
        sourceType: SOURCE_OF[c.f.type],
        sourceId: c.f.id,
        compound: i,
        name: residenceName(c.f.tags),
        access: gates ? c.gates : [c.f.lon, c.f.lat],
        accessKind: gates ? ACCESS_GATE : ACCESS_CENTROID,
      });
      stats.compounds.withoutBuildings++;
    } else stats.compounds.withBuildings++;
    return {
      sourceType: c.f.type === 'relation' ? 'relation' : 'way',
      sourceId: c.f.id,
      name: residenceName(c.f.tags),
      areaM2: c.areaM2,
      gates: c.gates.length / 2,
      nearbyGates: c.nearbyGates,
      buildings: c.buildings,
      gatesUsed: c.gatesUsed,
      residence,
    };
  });

  const table = out.finish();
  stats.residences = table.count;
  for (let i = 0; i < table.count; i++) {
    stats.floorAreaM2 += table.floorArea[i];
    stats.populationPrior += table.population[i];
    const k = table.accessKind[i];
    if (k === ACCESS_GATE) stats.access.gate++;
    else if (k === ACCESS_ENTRANCE) stats.access.entrance++;
    else stats.access.centroid++;
  }
  if (stats.compounds.tooLargeForGates > 0) {
    stats.warnings.push(
      `${stats.compounds.tooLargeForGates} residential areas with gates are larger than ${d.maxCompoundAreaHa} ha: taken as districts, not walled compounds; their gates are not forced on residents`,
    );
  }
  if (table.count === 0) stats.warnings.push('no residences found: no residential buildings or residential landuse in this extract');
  const compoundGeometry = compounds.map((c) => ({ rings: c.rings, gates: c.gatesUsed ? Float64Array.from(c.gates) : new Float64Array(0) }));
  return { table, compounds: infos, compoundGeometry, stats };
}

/**
 * Residents of a user's 小区 list walk out through the gates of the OSM compound their point
 * lies in (when that compound's gates are used): the list says how many live there, OSM says
 * where its gates are. Rows outside every gated compound keep their point. Returns a new table.
 */
export function attachCompoundGates(list: ResidenceTable, osm: ResidenceBuild): { table: ResidenceTable; attached: number } {
  const index = new AreaIndex(osm.compoundGeometry.map((g) => g.rings));
  const out = new ResidenceTableBuilder();
  let attached = 0;
  for (let i = 0; i < list.count; i++) {
    let ci = -1;
    let area = Infinity;
    for (const k of index.containing(list.lon[i], list.lat[i])) {
      if (osm.compoundGeometry[k].gates.length >= 2 && osm.compounds[k].areaM2 < area) {
        ci = k;
        area = osm.compounds[k].areaM2;
      }
    }
    const own: number[] = [];
    for (let p = list.gateOffsets[i]; p < list.gateOffsets[i + 1]; p++) own.push(list.gateCoords[2 * p], list.gateCoords[2 * p + 1]);
    if (ci >= 0) attached++;
    out.add({
      lon: list.lon[i],
      lat: list.lat[i],
      footprint: list.footprint[i],
      levels: list.levels[i],
      levelsSource: list.levelsSource[i],
      floorArea: list.floorArea[i],
      population: list.population[i],
      elderly: list.elderly[i],
      kind: list.kind[i],
      sourceType: list.sourceType[i],
      sourceId: list.sourceId[i],
      compound: ci >= 0 ? ci : list.compound[i],
      name: list.names[i],
      access: ci >= 0 ? osm.compoundGeometry[ci].gates : own,
      accessKind: ci >= 0 ? ACCESS_GATE : list.accessKind[i],
    });
  }
  return { table: out.finish(), attached };
}
