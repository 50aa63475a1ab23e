/**
 * Which OSM objects matter for the demand side, from their tags alone (so it can be the
 * `keepFeature` predicate of readOsm). See the notes in data/residences/defaults.json.
 *
 * - 'home':      a building whose tags say people live there (building=apartments, house, …,
 *                or building:use=residential);
 * - 'candidate': building=yes without a tag saying it is something else — a home unless its
 *                place or size says otherwise (decided in buildResidences);
 * - 'compound':  landuse=residential — a 小区 / residential area: its gates are the residents'
 *                way out, and without buildings inside it is a residence itself;
 * - 'mask':      a non-residential area (landuse=industrial, amenity=school, …): building=yes
 *                inside it is not a home;
 * - 'gate':      a gate node (barrier=gate, lift_gate, …): compounds often draw their wall as a
 *                separate way, so a gate near a compound's outline but not on it is still one of
 *                its gates (readOsm only reports entrances lying on the outline).
 */
import type { Tags } from '../osm-types.js';
import { loadResidenceDefaults, type ResidenceDefaults } from './defaults.js';

export type ResidentialRole = 'home' | 'candidate' | 'compound' | 'mask' | 'gate';

interface Compiled {
  home: Set<string>;
  candidate: Set<string>;
  use: Set<string>;
  nonRes: string[];
  mask: Array<[string, Set<string>]>;
  gate: Set<string>;
}

const compiledFor = new WeakMap<ResidenceDefaults, Compiled>();

function compile(d: ResidenceDefaults): Compiled {
  let c = compiledFor.get(d);
  if (!c) {
    c = {
      home: new Set(d.residentialBuildingValues),
      candidate: new Set(d.candidateBuildingValues),
      use: new Set(d.residentialBuildingUse),
      nonRes: d.nonResidentialKeys,
      mask: Object.entries(d.maskTags).map(([k, v]) => [k, new Set(v)]),
      gate: new Set(d.gateBarriers),
    };
    compiledFor.set(d, c);
  }
  return c;
}

/** The role of an object for the demand side, or null when it plays none. */
export function residentialRole(tags: Tags, defaults: ResidenceDefaults = loadResidenceDefaults()): ResidentialRole | null {
  const c = compile(defaults);
  const b = tags.building;
  if (b !== undefined && b !== 'no') {
    const use = tags['building:use'];
    if (c.home.has(b) || (use !== undefined && c.use.has(use))) return 'home';
    if (c.candidate.has(b)) {
      for (const k of c.nonRes) if (tags[k] !== undefined) return null;
      if (use !== undefined) return null; // building:use=commercial, …: says what else it is
      return 'candidate';
    }
    return null; // building=school, church, garage, …
  }
  if (tags.landuse === 'residential') return 'compound';
  if (tags.barrier !== undefined && c.gate.has(tags.barrier)) return 'gate';
  for (const [k, values] of c.mask) {
    const v = tags[k];
    if (v !== undefined && values.has(v)) return 'mask';
  }
  return null;
}

/**
 * readOsm keepFeature predicate for the demand side: homes, candidate homes, residential
 * landuse, the non-residential areas that rule candidates out, and gate nodes.
 */
export function isResidentialFeature(tags: Tags): boolean {
  return residentialRole(tags) !== null;
}
