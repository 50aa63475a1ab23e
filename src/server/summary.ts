/** The assessment as the API returns it: headline, the region zone and its largest gaps (no per-home arrays). */
import type { AssessmentResult, ZoneResult } from '../assess/result.js';
import type { Taxonomy } from '../taxonomy/formats.js';

/** Gaps listed for the region. */
export const TOP_GAPS = 5;

const finite = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : x);

export function summariseAssessment(result: AssessmentResult, taxonomy: Taxonomy) {
  const p = result.settings.profile;
  const reqName = (q: number) => {
    const info = result.requirements[q];
    return { formats: info.formats, names: info.formats.map((f) => taxonomy.byId.get(f)?.name ?? { 'zh-CN': f, en: f }) };
  };
  const zone = (z: ZoneResult) => ({
    id: z.id,
    name: z.name,
    kind: z.kind,
    residences: z.residences,
    population: z.population,
    elderly: z.elderly,
    grade: z.grade >= 0 ? { index: z.grade, name: p.grades[z.grade]?.name ?? null } : null,
    completeness: finite(z.completeness),
    completeShare: finite(z.completeShare),
    coverage: z.coverage.map((c, q) => ({ requirement: q, ...reqName(q), withinMinutes: result.requirements[q].seconds / 60, coverage: finite(c) })),
    gaps: z.gaps.slice(0, TOP_GAPS).map((g) => ({ ...g, ...reqName(g.requirement), medianMinutes: finite(g.medianMinutes) })),
  });
  const h = result.headline;
  return {
    region: result.regionName,
    profile: { id: p.id, name: p.name },
    settings: { at: result.settings.at, population: result.settings.population, elderlyShare: result.settings.elderlyShare },
    headline: {
      ...h,
      completeCircleShare: finite(h.completeCircleShare),
      meanCompleteness: finite(h.meanCompleteness),
      basicFormatCoverage: h.basicFormatCoverage.map((b) => ({ ...b, name: taxonomy.byId.get(b.format)?.name, coverage: finite(b.coverage) })),
    },
    zone: zone(result.zones[0]),
    warnings: result.warnings,
    attribution: result.attribution,
  };
}
