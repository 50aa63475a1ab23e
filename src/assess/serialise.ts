/**
 * AssessmentResult → plain JSON (assessment.json): typed arrays become arrays, Infinity and NaN
 * become null (JSON has neither), Float32 values are rounded so that 9.2 prints as 9.2 and not
 * 9.199999809265137: minutes to 0.01, completeness to 0.0001, population to 0.001.
 * Per-residence arrays keep the result's layouts ([r * formats + f], [r * requirements + q]).
 * With the region, residence positions, names and source ids are added so the file stands alone.
 */
import type { Region } from '../region/region.js';
import { SOURCE_TYPES } from '../ingest/residences/table.js';
import type { AssessmentResult, Gap, ZoneResult } from './result.js';

export const ASSESSMENT_JSON_VERSION = 1;

export interface ResidenceResultsJson {
  count: number;
  formats: string[];
  /** how the flat arrays are laid out. */
  layout: { minutes: string; met: string };
  minutes: (number | null)[];
  nearest: number[];
  met: number[];
  completeness: number[];
  grade: number[];
  population: number[];
  elderly: number[];
  reachable: number[];
  walkingProfile?: string;
  requirementMinutes?: (number | null)[];
  requirementNearest?: number[];
  /** with the region: centroid lon / lat, name, source ("way/123", "row/4"). */
  lon?: number[];
  lat?: number[];
  name?: string[];
  source?: string[];
}

export type GapJson = Omit<Gap, 'medianMinutes'> & { medianMinutes: number | null };
export type ZoneResultJson = Omit<ZoneResult, 'gaps'> & { gaps: GapJson[] };

export type AssessmentJson = Omit<AssessmentResult, 'residences' | 'zones'> & {
  kind: 'quarter-assessment';
  version: number;
  residences: ResidenceResultsJson;
  zones: ZoneResultJson[];
};

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const rounder = (digits: number) => {
  const f = 10 ** digits;
  return (x: number): number | null => (Number.isFinite(x) ? Math.round(x * f) / f : null);
};
const r2 = rounder(2);
const r3 = rounder(3);
const r4 = rounder(4);

function mapArray<T>(a: ArrayLike<number>, fn: (x: number) => T): T[] {
  const out = new Array<T>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = fn(a[i]);
  return out;
}

/** The plain-JSON form of an assessment (JSON.stringify it). Pass the region to add residence positions and names. */
export function assessmentToJson(result: AssessmentResult, region?: Region): AssessmentJson {
  const res = result.residences;
  const residences: ResidenceResultsJson = {
    count: res.count,
    formats: [...res.formats],
    layout: { minutes: 'minutes[r * formats.length + f]', met: 'met[r * requirements.length + q]' },
    minutes: mapArray(res.minutes, r2),
    nearest: Array.from(res.nearest),
    met: Array.from(res.met),
    completeness: mapArray(res.completeness, (x) => r4(x) ?? 0),
    grade: Array.from(res.grade),
    population: mapArray(res.population, (x) => r3(x) ?? 0),
    elderly: mapArray(res.elderly, (x) => r3(x) ?? 0),
    reachable: Array.from(res.reachable),
  };
  if (res.walkingProfile !== undefined) residences.walkingProfile = res.walkingProfile;
  if (res.requirementMinutes) residences.requirementMinutes = mapArray(res.requirementMinutes, r2);
  if (res.requirementNearest) residences.requirementNearest = Array.from(res.requirementNearest);
  if (region && region.residences.count === res.count) {
    const t = region.residences;
    residences.lon = Array.from(t.lon);
    residences.lat = Array.from(t.lat);
    residences.name = [...t.names];
    residences.source = Array.from({ length: t.count }, (_, i) => `${SOURCE_TYPES[t.sourceType[i]] ?? 'row'}/${t.sourceId[i]}`);
  }
  const zones: ZoneResultJson[] = result.zones.map((z) => ({
    ...z,
    coverage: z.coverage.map((x) => finiteOrNull(x) ?? 0),
    formatCoverage: z.formatCoverage.map((x) => finiteOrNull(x) ?? 0),
    gaps: z.gaps.map((g) => ({ ...g, medianMinutes: r2(g.medianMinutes) })),
  }));
  return {
    kind: 'quarter-assessment',
    version: ASSESSMENT_JSON_VERSION,
    regionName: result.regionName,
    attribution: result.attribution,
    settings: result.settings,
    requirements: result.requirements,
    residences,
    zones,
    headline: result.headline,
    warnings: [...result.warnings],
    timings: { ...result.timings },
    ...(result.zoneAssignment ? { zoneAssignment: result.zoneAssignment } : {}),
  };
}

/** assessmentToJson as text, ready to write. */
export function assessmentJsonText(result: AssessmentResult, region?: Region): string {
  return JSON.stringify(assessmentToJson(result, region));
}
