/**
 * What an assessment produces: per residence (columnar, typed arrays), per zone / H3 cell,
 * and the district headline indicators. Plain data: exports and reports read only this.
 */
import type { Requirement, StandardsProfile } from './standards.js';

export interface AssessmentSettings {
  profile: StandardsProfile;
  /** the moment facilities were checked open (null = opening hours ignored). */
  at: string | null;
  /** known total population spread over residences (null = estimated from floor area). */
  population: number | null;
  elderlyShare: number;
  zonesSource: string | null;
  h3Resolutions: number[];
  /** share of residents counted as children for requirements with population 'children' (default 0.0979, Xuhui 2020 census, ages 0–14). */
  childrenShare?: number;
  /** ISO country code used for public holidays in opening hours (null: none known). */
  country?: string | null;
  /** search cap: times above it are Infinity. */
  maxMinutes?: number;
}

/** One requirement of the profile as evaluated (index = position in profile.requirements). */
export interface RequirementInfo {
  index: number;
  requirement: Requirement;
  /** formats that satisfy it (format + alternatives). */
  formats: string[];
  /** threshold in seconds under its walking profile. */
  seconds: number;
  walkingProfile: string;
}

/** Per residence, columnar. Index r = residence index in the region. */
export interface ResidenceResults {
  count: number;
  /** the formats columns of `minutes` refer to, in taxonomy order. */
  formats: string[];
  /** minutes to the nearest open facility of formats[f], at [r * formats.length + f]; Infinity if none within the search cap. Default walking profile. */
  minutes: Float32Array;
  /** facility id of that nearest facility, −1 if none. Same layout. */
  nearest: Int32Array;
  /** 1 if requirement q is met for residence r, at [r * requirements + q]. */
  met: Uint8Array;
  /** weighted share of requirements met, 0–1. */
  completeness: Float32Array;
  /** index into profile.grades of the highest grade earned, −1 none. */
  grade: Int8Array;
  population: Float32Array;
  elderly: Float32Array;
  /** 0 when no access point of the residence reaches the network. */
  reachable: Uint8Array;
  /** the walking profile `minutes` is under (the standards profile's walkingProfile). */
  walkingProfile?: string;
  /** minutes the requirement was judged on, at [r * requirements + q]: nearest open facility of any of its formats under the requirement's walking profile; Infinity if none within the search cap. */
  requirementMinutes?: Float32Array;
  /** facility id of that facility, −1 if none. Same layout. */
  requirementNearest?: Int32Array;
}

export interface Gap {
  requirement: number;
  format: string;
  /** residents (population of the requirement's group) not served. */
  residentsAffected: number;
  elderlyAffected: number;
  residences: number;
  /** population-weighted centre of the unserved residences (where to look). */
  lon: number;
  lat: number;
  /** median minutes to the nearest facility for the unserved (Infinity if none anywhere). */
  medianMinutes: number;
}

export type ZoneKind = 'region' | 'zone' | 'h3';

export interface ZoneResult {
  id: string;
  name: string;
  kind: ZoneKind;
  /** H3 resolution for kind h3. */
  resolution?: number;
  /** GeoJSON geometry (Polygon/MultiPolygon) of the zone; null for the region. */
  geometry: GeoJSONGeometry | null;
  residences: number;
  population: number;
  elderly: number;
  /** per requirement: share of its population group served within the threshold, 0–1. */
  coverage: number[];
  /** per format (ResidenceResults.formats order): population share with one within the format's MOFCOM minutes. */
  formatCoverage: number[];
  /** population-weighted mean completeness, 0–1. */
  completeness: number;
  /** share of residents whose circle meets every requirement. */
  completeShare: number;
  /** index into profile.grades from the zone-level rule (a format counts present when ≥ 50 % of residents are served), −1 none. */
  grade: number;
  /** population per residence grade index (+1 offset: [none, grade0, grade1, …]). */
  gradeDistribution: number[];
  /** ranked by residents affected, largest first. */
  gaps: Gap[];
}

export interface HeadlineIndicators {
  population: number;
  elderly: number;
  residences: number;
  unreachableResidences: number;
  /** per basic format: population share within its MOFCOM minutes. */
  basicFormatCoverage: Array<{ format: string; coverage: number }>;
  /** share of residents in a complete circle (every requirement met). */
  completeCircleShare: number;
  meanCompleteness: number;
  /** outlets with a brand / operator tag over all outlets of basic formats (null when none carry brand tags). */
  chainOutletShare: number | null;
  /** profile targets evaluated: value reached vs target. */
  targets: Array<{ indicator: string; target: number; value: number | null; met: boolean | null; note?: string }>;
  openingHours: { open: number; closed: number; unknown: number } | null;
}

export interface AssessmentResult {
  regionName: string;
  attribution: string;
  settings: AssessmentSettings;
  requirements: RequirementInfo[];
  residences: ResidenceResults;
  /** region first, then user zones, then H3 cells. */
  zones: ZoneResult[];
  headline: HeadlineIndicators;
  warnings: string[];
  /** milliseconds per step. */
  timings: Record<string, number>;
  /** user zones: how residences fell into them (absent without user zones). */
  zoneAssignment?: {
    zones: number;
    /** residences in no user zone (counted in the region only). */
    outside: number;
    outsidePopulation: number;
    /** residences in more than one zone (each counts them). */
    inSeveral: number;
  };
}

/** Minimal GeoJSON geometry type (avoids a dependency for two shapes). */
export type GeoJSONGeometry =
  | { type: 'Polygon'; coordinates: number[][][] }
  | { type: 'MultiPolygon'; coordinates: number[][][][] };

/** Why a residence fails a requirement, for explanations down to one home. */
export interface RequirementExplanation {
  requirement: number;
  format: string;
  met: boolean;
  /** 'met' · 'missing' (no facility of the format anywhere reachable) · 'too-far' (nearest is N minutes away) · 'unreachable' (home not on the network). */
  status: 'met' | 'missing' | 'too-far' | 'unreachable';
  minutes: number | null;
  thresholdMinutes: number;
  facility: { id: number; name: string; lon: number; lat: number } | null;
}
