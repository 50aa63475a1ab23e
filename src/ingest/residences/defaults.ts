/**
 * data/residences/defaults.json: which OSM objects are homes and the figures used when nothing
 * better is known (levels, floor area per person, density, elderly share, household size).
 * The file's `notes` explain every choice. Loading validates it and names the field at fault.
 */
import { readFileSync } from 'node:fs';
import { dataPath } from '../../paths.js';

export const RESIDENCE_PROFILES = ['generic', 'cn'] as const;
/** generic: Europe and elsewhere (the Krems demo); cn: China (小区 mapped as landuse=residential). */
export type ResidenceProfileName = (typeof RESIDENCE_PROFILES)[number];

export type YesOutsideRule = 'keep' | 'drop' | 'drop-unless-no-residential-landuse';

export interface ResidenceProfile {
  /** default building:levels per building value. */
  levels: Record<string, number>;
  /** overrides of `levels` for buildings inside residential landuse. */
  levelsInResidentialLanduse: Record<string, number>;
  /** what to do with building=yes outside residential landuse. */
  yesOutsideResidentialLanduse: YesOutsideRule;
  /** gross floor area per resident (m²), for the population prior. */
  floorAreaPerPerson: number;
  /** residents per hectare of residential landuse without buildings. */
  landuseDensityPerHectare: number;
}

export interface ResidenceDefaults {
  version: number;
  notes: string[];
  residentialBuildingValues: string[];
  candidateBuildingValues: string[];
  residentialBuildingUse: string[];
  nonResidentialKeys: string[];
  /** key → values marking non-residential areas (a building=yes inside is not a home). */
  maskTags: Record<string, string[]>;
  /** barrier=* values of gate nodes that may serve a compound they lie near. */
  gateBarriers: string[];
  /** a gate node within this many metres of a compound's outline (and nearer to it than to any other) is its gate. */
  nearbyGateMetres: number;
  minFootprintM2: number;
  maxCandidateFootprintM2: number;
  nodeFootprintM2: number;
  metresPerLevel: number;
  maxCompoundAreaHa: number;
  elderlyShare: number;
  householdSize: number;
  profiles: Record<ResidenceProfileName, ResidenceProfile>;
}

const YES_RULES: readonly YesOutsideRule[] = ['keep', 'drop', 'drop-unless-no-residential-landuse'];

let cached: ResidenceDefaults | null = null;

/** The bundled defaults (read once). */
export function loadResidenceDefaults(file = dataPath('residences', 'defaults.json')): ResidenceDefaults {
  if (cached && file === dataPath('residences', 'defaults.json')) return cached;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read residence defaults: ${(e as Error).message}`);
  }
  const d = validateResidenceDefaults(doc, file);
  if (file === dataPath('residences', 'defaults.json')) cached = d;
  return d;
}

/** Check the shape of a parsed defaults document; throws naming the file and field. */
export function validateResidenceDefaults(doc: unknown, source = 'defaults'): ResidenceDefaults {
  const fail = (field: string, msg: string): never => {
    throw new Error(`${source}: field "${field}" ${msg}`);
  };
  const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (!isObj(doc)) fail('(root)', 'must be an object');
  const o = doc as Record<string, unknown>;
  const strings = (k: string): string[] => {
    const v = o[k];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(k, 'must be an array of strings');
    return v as string[];
  };
  const num = (obj: Record<string, unknown>, k: string, where: string, min = 0, max = Infinity): number => {
    const v = obj[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(where, `must be a number in [${min}, ${max}]`);
    return v as number;
  };
  const numMap = (v: unknown, where: string): Record<string, number> => {
    if (!isObj(v)) fail(where, 'must be an object of numbers');
    const out: Record<string, number> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (typeof x !== 'number' || !(x > 0)) fail(`${where}.${k}`, 'must be a positive number');
      out[k] = x as number;
    }
    return out;
  };
  const mask = o.maskTags;
  if (!isObj(mask)) fail('maskTags', 'must be an object of string arrays');
  const maskTags: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(mask as Record<string, unknown>)) {
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(`maskTags.${k}`, 'must be an array of strings');
    maskTags[k] = v as string[];
  }
  const profs = o.profiles;
  if (!isObj(profs)) fail('profiles', 'must be an object');
  const profiles = {} as Record<ResidenceProfileName, ResidenceProfile>;
  for (const name of RESIDENCE_PROFILES) {
    const p = (profs as Record<string, unknown>)[name];
    const w = `profiles.${name}`;
    if (!isObj(p)) fail(w, 'is missing');
    const pp = p as Record<string, unknown>;
    const rule = pp.yesOutsideResidentialLanduse;
    if (!YES_RULES.includes(rule as YesOutsideRule)) fail(`${w}.yesOutsideResidentialLanduse`, `must be one of ${YES_RULES.join(', ')}`);
    profiles[name] = {
      levels: numMap(pp.levels, `${w}.levels`),
      levelsInResidentialLanduse: numMap(pp.levelsInResidentialLanduse ?? {}, `${w}.levelsInResidentialLanduse`),
      yesOutsideResidentialLanduse: rule as YesOutsideRule,
      floorAreaPerPerson: num(pp, 'floorAreaPerPerson', `${w}.floorAreaPerPerson`, 1, 1000),
      landuseDensityPerHectare: num(pp, 'landuseDensityPerHectare', `${w}.landuseDensityPerHectare`, 0, 10000),
    };
  }
  const notes = o.notes;
  return {
    version: num(o, 'version', 'version', 1),
    notes: Array.isArray(notes) ? (notes as unknown[]).map(String) : [],
    residentialBuildingValues: strings('residentialBuildingValues'),
    candidateBuildingValues: strings('candidateBuildingValues'),
    residentialBuildingUse: strings('residentialBuildingUse'),
    nonResidentialKeys: strings('nonResidentialKeys'),
    maskTags,
    gateBarriers: strings('gateBarriers'),
    nearbyGateMetres: num(o, 'nearbyGateMetres', 'nearbyGateMetres', 0, 200),
    minFootprintM2: num(o, 'minFootprintM2', 'minFootprintM2'),
    maxCandidateFootprintM2: num(o, 'maxCandidateFootprintM2', 'maxCandidateFootprintM2'),
    nodeFootprintM2: num(o, 'nodeFootprintM2', 'nodeFootprintM2', 1),
    metresPerLevel: num(o, 'metresPerLevel', 'metresPerLevel', 1, 20),
    maxCompoundAreaHa: num(o, 'maxCompoundAreaHa', 'maxCompoundAreaHa'),
    elderlyShare: num(o, 'elderlyShare', 'elderlyShare', 0, 1),
    householdSize: num(o, 'householdSize', 'householdSize', 0.5, 20),
    profiles,
  };
}
