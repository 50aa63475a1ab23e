/**
 * Evaluate a scenario against its base: assess the base and the edited region with the same
 * options and compare — per format, population coverage within the format's MOFCOM minutes for
 * the region and every zone; completeness; the residents who gain or lose access (counts,
 * residents, elderly, residence indices); where walking times changed (GeoJSON); headline deltas.
 *
 * Decisions:
 * - The base assessment is cached per (region object, options): a planner trying edits one after
 *   another pays only for the scenario side. Options that cannot be keyed (`at: "now"`) are not
 *   cached.
 * - A residence has access to a format when its minutes (ResidenceResults.minutes, the standards
 *   profile's walking profile) are ≤ the format's MOFCOM minutes; gaining = not before, yes after.
 *   Residences are the same on both sides (edits never change homes), so index r means one home.
 * - A residence "changed" when some format's minutes moved by ≥ minChangeMinutes (default 1), or
 *   went from none within the search cap to some, or back.
 */
import { existsSync, statSync } from 'node:fs';
import { cellToBoundary, latLngToCell } from 'h3-js';
import { assess, type AssessmentWithList, type AssessOptions } from '../assess/assess.js';
import type { AssessmentResult, ZoneResult } from '../assess/result.js';
import { zoneStats, ZoneStatsScratch, type ZoneStatsInput } from '../assess/zone-stats.js';
import { h3Zones, type ZoneSpec } from '../assess/zones.js';
import type { StandardsProfile } from '../assess/standards.js';
import type { Region } from '../region/region.js';
import { loadTaxonomy, type Taxonomy } from '../taxonomy/formats.js';
import { applyScenarioDetailed, type AppliedScenario } from './apply.js';
import { nextEditId, parseEdits, textProblem, type AddFacilityEdit, type Edit } from './edits.js';

export interface EvaluateOptions extends AssessOptions {
  /** the changed area as residence points, H3 cells, or (auto) points unless more than AUTO_POINTS_MAX homes changed. */
  changedArea?: 'points' | 'h3' | 'auto';
  /** H3 resolution of the changed area in cell mode (default 9). */
  changedAreaResolution?: number;
  /** minutes a walk must change by to count (default 1). */
  minChangeMinutes?: number;
}

/** Above this many changed homes, 'auto' reports H3 cells rather than points. */
export const AUTO_POINTS_MAX = 5000;

export interface Delta {
  before: number;
  after: number;
  delta: number;
}

export interface AccessChange {
  residences: number;
  population: number;
  elderly: number;
  /** residence indices (same on both sides). */
  indices: Int32Array;
}

export interface FormatDiff extends Delta {
  format: string;
  name: { 'zh-CN': string; en: string };
  mofcomMinutes: number;
  /** homes not within the MOFCOM minutes before and within after. */
  gained: AccessChange;
  lost: AccessChange;
}

export interface ZoneDiff {
  id: string;
  name: string;
  kind: ZoneResult['kind'];
  resolution?: number;
  residences: number;
  population: number;
  /** per format (ScenarioEvaluation.formats order): population share within the MOFCOM minutes. */
  formatCoverage: { before: number[]; after: number[] };
  /** per requirement of the profile. */
  coverage: { before: number[]; after: number[] };
  completeness: Delta;
  completeShare: Delta;
}

export interface ChangedArea {
  mode: 'points' | 'h3';
  resolution: number | null;
  minChangeMinutes: number;
  residences: number;
  population: number;
  elderly: number;
  geojson: { type: 'FeatureCollection'; features: GeoFeature[] };
}

export interface GeoFeature {
  type: 'Feature';
  geometry: { type: 'Point'; coordinates: [number, number] } | { type: 'Polygon'; coordinates: number[][][] };
  properties: Record<string, unknown>;
}

export interface ScenarioEvaluation {
  regionName: string;
  profile: { id: string; name: StandardsProfile['name'] };
  /** counts of the edits by type. */
  edits: Record<Edit['type'], number> & { total: number };
  /** format ids, taxonomy order (columns of the zone arrays). */
  formats: string[];
  /** region-level per-format diff, taxonomy order. */
  coverage: FormatDiff[];
  /** region first, then user zones, then H3 cells (as in the assessment). */
  zones: ZoneDiff[];
  headline: {
    population: number;
    completeCircleShare: Delta;
    meanCompleteness: Delta;
    unreachableResidences: Delta;
    basicFormatCoverage: Array<Delta & { format: string }>;
    targets: Array<{ indicator: string; target: number; before: number | null; after: number | null }>;
    /** residents gaining / losing access to at least one format. */
    residentsGaining: number;
    residentsLosing: number;
  };
  changed: ChangedArea;
  scenario: {
    networkChanged: boolean;
    facilities: { before: number; after: number };
    resnappedFacilities: number;
    resnappedPoints: number;
  };
  warnings: string[];
  /** milliseconds; baseCached: the base assessment came from the cache. */
  timings: { baseAssess: number; baseCached: boolean; apply: number; scenarioAssess: number; diff: number; total: number };
  before: AssessmentResult;
  after: AssessmentResult;
  applied: AppliedScenario;
}

// ---- base assessment cache

const BASE_CACHE = new WeakMap<Region, Map<string, AssessmentWithList>>();
/** Option sets kept per region (oldest dropped first). */
const CACHE_PER_REGION = 8;
const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;
const objectKey = (o: object): string => {
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = nextObjectId++));
  return `#${id}`;
};
/** A path with its modification time, so an edited file is not answered from the cache. */
const fileKey = (p: string): string => {
  try {
    return existsSync(p) ? `${p}@${statSync(p).mtimeMs}` : p;
  } catch {
    return p;
  }
};

/** Cache key of the options that shape an assessment; null when they cannot be keyed. */
export function assessOptionsKey(o: AssessOptions): string | null {
  let at: string | null = null;
  if (o.at instanceof Date) at = o.at.toISOString();
  else if (typeof o.at === 'string') {
    if (/^\s*(now|现在)\s*$/i.test(o.at)) return null; // means a different moment each time
    at = o.at;
  }
  const compounds = o.compounds == null ? null : typeof o.compounds === 'string' ? fileKey(o.compounds) : { ...o.compounds, file: fileKey(o.compounds.file) };
  return JSON.stringify([
    typeof o.profile === 'string' ? fileKey(o.profile) : objectKey(o.profile),
    at,
    o.population ?? null,
    compounds,
    o.zones == null ? null : typeof o.zones === 'string' ? fileKey(o.zones) : objectKey(o.zones),
    o.h3Resolutions ?? null,
    o.elderlyShare ?? null,
    o.childrenShare ?? null,
    o.country ?? null,
    o.maxMinutes ?? null,
    o.taxonomy ? objectKey(o.taxonomy) : null,
  ]);
}

/** The base region's assessment under these options, from the cache when it was made before. */
export function baseAssessment(base: Region, opts: AssessOptions): { result: AssessmentWithList; cached: boolean } {
  const key = assessOptionsKey(opts);
  let perRegion = BASE_CACHE.get(base);
  const hit = key !== null ? perRegion?.get(key) : undefined;
  if (hit) return { result: hit, cached: true };
  const result = assess(base, opts);
  if (key !== null) {
    if (!perRegion) BASE_CACHE.set(base, (perRegion = new Map()));
    perRegion.set(key, result);
    if (perRegion.size > CACHE_PER_REGION) perRegion.delete(perRegion.keys().next().value as string);
  }
  return { result, cached: false };
}

// ---- evaluation

export function evaluateScenario(base: Region, edits: readonly Edit[] | readonly unknown[], opts: EvaluateOptions): ScenarioEvaluation {
  const t0 = performance.now();
  const taxonomy = opts.taxonomy ?? loadTaxonomy();
  const minChange = opts.minChangeMinutes ?? 1;
  if (!(minChange > 0 && Number.isFinite(minChange))) throw new RangeError(`minChangeMinutes ${minChange} is not a positive number`);
  const res = opts.changedAreaResolution ?? 9;
  if (!Number.isInteger(res) || res < 0 || res > 15) throw new RangeError(`changedAreaResolution ${res} is not an H3 resolution (0–15)`);
  const { changedArea: _mode, changedAreaResolution: _res, minChangeMinutes: _min, ...assessOpts } = opts;
  const keyed: AssessOptions = { ...assessOpts, taxonomy };

  // the scenario is applied first: an invalid edit fails before any assessment is paid for
  const applied = applyScenarioDetailed(base, edits, { taxonomy });
  const tApply = performance.now();
  const { result: before, cached } = baseAssessment(base, keyed);
  const tBase = performance.now();
  const after = scenarioAssessment(applied.region, keyed, before, regionTable(before, base));
  const tAfter = performance.now();

  const diff = diffAssessments(before, after, taxonomy, minChange, opts.changedArea ?? 'auto', res, regionTable(before, base));
  const tDiff = performance.now();
  const counts = { add_facility: 0, move_facility: 0, remove_facility: 0, add_link: 0, close_link: 0, close_gate: 0, total: 0 };
  for (const e of edits as readonly Edit[]) {
    if (e && typeof e === 'object' && e.type in counts) counts[e.type]++;
    counts.total++;
  }
  const warnings = [...applied.warnings, ...after.warnings.filter((w) => !before.warnings.includes(w))];
  return {
    regionName: base.meta.name,
    profile: { id: before.settings.profile.id, name: before.settings.profile.name },
    edits: counts,
    ...diff,
    scenario: {
      networkChanged: applied.networkChanged,
      facilities: { before: base.facilities.length, after: applied.region.facilities.length },
      resnappedFacilities: applied.resnappedFacilities,
      resnappedPoints: applied.resnappedPoints,
    },
    warnings,
    timings: {
      baseAssess: tBase - tApply,
      baseCached: cached,
      apply: tApply - t0,
      scenarioAssess: tAfter - tBase,
      diff: tDiff - tAfter,
      total: performance.now() - t0,
    },
    before,
    after,
    applied,
  };
}

/** H3 zone specs by residence positions and resolutions: the same homes on both sides, cut once. */
const H3_SPECS = new WeakMap<Float64Array, Map<string, ZoneSpec[]>>();

function h3SpecsFor(lon: Float64Array, lat: Float64Array, resolutions: readonly number[]): ZoneSpec[] {
  let perTable = H3_SPECS.get(lon);
  if (!perTable) H3_SPECS.set(lon, (perTable = new Map()));
  const key = resolutions.join(',');
  let specs = perTable.get(key);
  if (!specs) perTable.set(key, (specs = h3Zones(resolutions, lon, lat)));
  return specs;
}

/**
 * assess() on the scenario's region, with the H3 cells done incrementally: the region and user
 * zones come from assess itself; an H3 cell none of whose homes changed (minutes, requirement
 * minutes, requirements met, completeness, grade) keeps the base's figures, the others are
 * recomputed with zoneStats over the same cells. An edit changes a neighbourhood, so most cells
 * are reused. Format coverage in recomputed cells uses the minutes (≤ the format's MOFCOM minutes).
 */
function scenarioAssessment(region: Region, opts: AssessOptions, before: AssessmentWithList, table: { lon: Float64Array; lat: Float64Array }): AssessmentWithList {
  const resolutions = before.settings.h3Resolutions;
  // the loaded profile object, so the scenario side does not read the file again
  const partial = assess(region, { ...opts, profile: before.settings.profile, h3Resolutions: [] });
  if (resolutions.length === 0) return partial;
  const t0 = performance.now();
  const B = before.residences;
  const A = partial.residences;
  const n = A.count;
  const F = A.formats.length;
  const Q = partial.requirements.length;
  const changed = new Uint8Array(n);
  const bq = B.requirementMinutes;
  const aq = A.requirementMinutes;
  for (let r = 0; r < n; r++) {
    let c = A.completeness[r] !== B.completeness[r] || A.grade[r] !== B.grade[r] || A.reachable[r] !== B.reachable[r] || A.population[r] !== B.population[r];
    for (let f = 0; !c && f < F; f++) c = A.minutes[r * F + f] !== B.minutes[r * F + f];
    for (let q = 0; !c && q < Q; q++) c = A.met[r * Q + q] !== B.met[r * Q + q] || (aq !== undefined && bq !== undefined && aq[r * Q + q] !== bq[r * Q + q]);
    if (c) changed[r] = 1;
  }
  const taxonomy = opts.taxonomy ?? loadTaxonomy();
  const mofcom = Float64Array.from(A.formats, (f) => taxonomy.byId.get(f)?.mofcomMinutes ?? 15);
  const withinMofcom = new Uint8Array(n * F);
  const complete = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    if (!changed[r]) continue; // only recomputed cells read these, and only their changed homes can differ
    for (let f = 0; f < F; f++) if (A.minutes[r * F + f] <= mofcom[f]) withinMofcom[r * F + f] = 1;
    let all = 1;
    for (let q = 0; q < Q; q++) if (!A.met[r * Q + q]) all = 0;
    complete[r] = all;
  }
  // unchanged homes in a recomputed cell: their flags as the base had them (equal to the scenario's)
  const beforeFlags = (r: number): void => {
    for (let f = 0; f < F; f++) withinMofcom[r * F + f] = B.minutes[r * F + f] <= mofcom[f] ? 1 : 0;
    let all = 1;
    for (let q = 0; q < Q; q++) if (!B.met[r * Q + q]) all = 0;
    complete[r] = all;
  };
  const input: ZoneStatsInput = {
    profile: partial.settings.profile,
    taxonomy,
    requirements: partial.requirements,
    formatCount: F,
    met: A.met,
    requirementMinutes: aq ?? new Float32Array(n * Q),
    complete,
    completeness: A.completeness,
    grade: A.grade,
    population: A.population,
    elderly: A.elderly,
    childrenShare: partial.settings.childrenShare ?? 0,
    withinMofcom,
    lon: table.lon,
    lat: table.lat,
  };
  const baseCells = new Map<string, ZoneResult>();
  for (const z of before.zones) if (z.kind === 'h3') baseCells.set(`${z.resolution}:${z.id}`, z);
  const scratch = new ZoneStatsScratch();
  const filled = new Uint8Array(n);
  const cells = h3SpecsFor(table.lon, table.lat, resolutions).map((spec) => {
    const m = spec.members;
    let any = false;
    for (let i = 0; i < m.length && !any; i++) any = changed[m[i]] === 1;
    const reuse = any ? undefined : baseCells.get(`${spec.resolution}:${spec.id}`);
    if (reuse) return reuse;
    for (let i = 0; i < m.length; i++) {
      const r = m[i];
      if (!changed[r] && !filled[r]) {
        beforeFlags(r);
        filled[r] = 1;
      }
    }
    return zoneStats(spec, input, scratch);
  });
  return {
    ...partial,
    settings: { ...partial.settings, h3Resolutions: [...resolutions] },
    zones: [...partial.zones, ...cells],
    timings: { ...partial.timings, h3Cells: performance.now() - t0 },
  };
}

/** Residence positions and names the assessment ran on (a 小区 list replaces the region's). */
function regionTable(before: AssessmentWithList, base: Region): { lon: Float64Array; lat: Float64Array; names: string[] } {
  const t = before.compoundList?.region.residences ?? base.residences;
  return { lon: t.lon, lat: t.lat, names: t.names };
}

const delta = (before: number, after: number): Delta => ({ before, after, delta: after - before });
const round2 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);

type Diff = Pick<ScenarioEvaluation, 'formats' | 'coverage' | 'zones' | 'headline' | 'changed'>;

function diffAssessments(
  before: AssessmentResult,
  after: AssessmentResult,
  taxonomy: Taxonomy,
  minChange: number,
  mode: 'points' | 'h3' | 'auto',
  resolution: number,
  table: { lon: Float64Array; lat: Float64Array; names: string[] },
): Diff {
  const B = before.residences;
  const A = after.residences;
  if (A.count !== B.count || A.formats.join() !== B.formats.join()) {
    throw new Error(`scenario evaluation: the two assessments cover different homes or formats (${B.count} vs ${A.count})`);
  }
  const n = B.count;
  const formats = B.formats;
  const F = formats.length;
  const pop = B.population;
  const eld = B.elderly;
  const thr = Float64Array.from(formats, (f) => taxonomy.byId.get(f)?.mofcomMinutes ?? 15);

  // ---- gains / losses per format, changed homes
  const gainCount = new Int32Array(F);
  const lossCount = new Int32Array(F);
  const gainPop = new Float64Array(F);
  const lossPop = new Float64Array(F);
  const gainEld = new Float64Array(F);
  const lossEld = new Float64Array(F);
  const gainIdx: number[][] = formats.map(() => []);
  const lossIdx: number[][] = formats.map(() => []);
  const changedFlag = new Uint8Array(n);
  const gainsAny = new Uint8Array(n);
  const lossesAny = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const o = r * F;
    for (let f = 0; f < F; f++) {
      const b = B.minutes[o + f];
      const a = A.minutes[o + f];
      const wb = b <= thr[f];
      const wa = a <= thr[f];
      if (wa && !wb) {
        gainCount[f]++;
        gainPop[f] += pop[r];
        gainEld[f] += eld[r];
        gainIdx[f].push(r);
        gainsAny[r] = 1;
      } else if (wb && !wa) {
        lossCount[f]++;
        lossPop[f] += pop[r];
        lossEld[f] += eld[r];
        lossIdx[f].push(r);
        lossesAny[r] = 1;
      }
      if (minutesChanged(b, a, minChange)) changedFlag[r] = 1;
    }
  }
  let residentsGaining = 0;
  let residentsLosing = 0;
  for (let r = 0; r < n; r++) {
    if (gainsAny[r]) residentsGaining += pop[r];
    if (lossesAny[r]) residentsLosing += pop[r];
  }

  const rb = before.zones[0];
  const ra = after.zones[0];
  const coverage: FormatDiff[] = formats.map((id, f) => {
    const fmt = taxonomy.byId.get(id);
    return {
      format: id,
      name: fmt ? { 'zh-CN': fmt.name['zh-CN'], en: fmt.name.en } : { 'zh-CN': id, en: id },
      mofcomMinutes: thr[f],
      ...delta(rb.formatCoverage[f], ra.formatCoverage[f]),
      gained: { residences: gainCount[f], population: gainPop[f], elderly: gainEld[f], indices: Int32Array.from(gainIdx[f]) },
      lost: { residences: lossCount[f], population: lossPop[f], elderly: lossEld[f], indices: Int32Array.from(lossIdx[f]) },
    };
  });

  // ---- zones (same specs on both sides: pair by id)
  const afterById = new Map(after.zones.map((z) => [z.id, z]));
  const zones: ZoneDiff[] = [];
  for (const zb of before.zones) {
    const za = afterById.get(zb.id);
    if (!za) continue;
    zones.push({
      id: zb.id,
      name: zb.name,
      kind: zb.kind,
      ...(zb.resolution !== undefined ? { resolution: zb.resolution } : {}),
      residences: zb.residences,
      population: zb.population,
      formatCoverage: { before: zb.formatCoverage, after: za.formatCoverage },
      coverage: { before: zb.coverage, after: za.coverage },
      completeness: delta(zb.completeness, za.completeness),
      completeShare: delta(zb.completeShare, za.completeShare),
    });
  }

  // ---- headline
  const hb = before.headline;
  const ha = after.headline;
  const basicAfter = new Map(ha.basicFormatCoverage.map((b) => [b.format, b.coverage]));
  const headline: Diff['headline'] = {
    population: hb.population,
    completeCircleShare: delta(hb.completeCircleShare, ha.completeCircleShare),
    meanCompleteness: delta(hb.meanCompleteness, ha.meanCompleteness),
    unreachableResidences: delta(hb.unreachableResidences, ha.unreachableResidences),
    basicFormatCoverage: hb.basicFormatCoverage.map((b) => ({ format: b.format, ...delta(b.coverage, basicAfter.get(b.format) ?? 0) })),
    targets: hb.targets.map((t, i) => ({ indicator: t.indicator, target: t.target, before: t.value, after: ha.targets[i]?.value ?? null })),
    residentsGaining,
    residentsLosing,
  };

  // ---- changed area
  let changedCount = 0;
  let changedPop = 0;
  let changedEld = 0;
  for (let r = 0; r < n; r++) {
    if (!changedFlag[r]) continue;
    changedCount++;
    changedPop += pop[r];
    changedEld += eld[r];
  }
  const useH3 = mode === 'h3' || (mode === 'auto' && changedCount > AUTO_POINTS_MAX);
  const features: GeoFeature[] = useH3
    ? changedCells(B.minutes, A.minutes, F, formats, thr, changedFlag, pop, eld, table, minChange, resolution)
    : changedPoints(B.minutes, A.minutes, F, formats, thr, changedFlag, pop, eld, table, minChange);
  return {
    formats: [...formats],
    coverage,
    zones,
    headline,
    changed: {
      mode: useH3 ? 'h3' : 'points',
      resolution: useH3 ? resolution : null,
      minChangeMinutes: minChange,
      residences: changedCount,
      population: changedPop,
      elderly: changedEld,
      geojson: { type: 'FeatureCollection', features },
    },
  };
}

/** Changed by at least `min` minutes, or reachable on one side only. */
function minutesChanged(b: number, a: number, min: number): boolean {
  const fb = Number.isFinite(b);
  const fa = Number.isFinite(a);
  if (fb !== fa) return true;
  return fb && Math.abs(a - b) >= min;
}

function changedPoints(
  mb: Float32Array,
  ma: Float32Array,
  F: number,
  formats: readonly string[],
  thr: Float64Array,
  changed: Uint8Array,
  pop: Float32Array,
  eld: Float32Array,
  table: { lon: Float64Array; lat: Float64Array; names: string[] },
  min: number,
): GeoFeature[] {
  const out: GeoFeature[] = [];
  for (let r = 0; r < changed.length; r++) {
    if (!changed[r]) continue;
    const minutes: Record<string, { before: number | null; after: number | null }> = {};
    const gained: string[] = [];
    const lost: string[] = [];
    for (let f = 0; f < F; f++) {
      const b = mb[r * F + f];
      const a = ma[r * F + f];
      if (!minutesChanged(b, a, min)) continue;
      minutes[formats[f]] = { before: round2(b), after: round2(a) };
      if (a <= thr[f] && !(b <= thr[f])) gained.push(formats[f]);
      if (b <= thr[f] && !(a <= thr[f])) lost.push(formats[f]);
    }
    out.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [round7(table.lon[r]), round7(table.lat[r])] },
      properties: { residence: r, name: table.names[r] ?? '', population: round1(pop[r]), elderly: round1(eld[r]), minutes, gained, lost },
    });
  }
  return out;
}

function changedCells(
  mb: Float32Array,
  ma: Float32Array,
  F: number,
  formats: readonly string[],
  thr: Float64Array,
  changed: Uint8Array,
  pop: Float32Array,
  eld: Float32Array,
  table: { lon: Float64Array; lat: Float64Array },
  min: number,
  resolution: number,
): GeoFeature[] {
  interface Cell {
    residences: number;
    population: number;
    elderly: number;
    /** per format: changed homes, gained, lost, Σ before / after over homes finite on both sides, and their count. */
    stats: Float64Array;
  }
  const W = 6;
  const cells = new Map<string, Cell>();
  for (let r = 0; r < changed.length; r++) {
    if (!changed[r]) continue;
    const id = latLngToCell(table.lat[r], table.lon[r], resolution);
    let c = cells.get(id);
    if (!c) cells.set(id, (c = { residences: 0, population: 0, elderly: 0, stats: new Float64Array(F * W) }));
    c.residences++;
    c.population += pop[r];
    c.elderly += eld[r];
    for (let f = 0; f < F; f++) {
      const b = mb[r * F + f];
      const a = ma[r * F + f];
      if (!minutesChanged(b, a, min)) continue;
      const s = f * W;
      c.stats[s]++;
      if (a <= thr[f] && !(b <= thr[f])) c.stats[s + 1]++;
      if (b <= thr[f] && !(a <= thr[f])) c.stats[s + 2]++;
      if (Number.isFinite(a) && Number.isFinite(b)) {
        c.stats[s + 3] += b;
        c.stats[s + 4] += a;
        c.stats[s + 5]++;
      }
    }
  }
  const out: GeoFeature[] = [];
  for (const [cell, c] of [...cells].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    const perFormat: Record<string, unknown> = {};
    for (let f = 0; f < F; f++) {
      const s = f * W;
      if (c.stats[s] === 0) continue;
      const k = c.stats[s + 5];
      perFormat[formats[f]] = {
        residences: c.stats[s],
        gained: c.stats[s + 1],
        lost: c.stats[s + 2],
        meanBefore: k > 0 ? round2(c.stats[s + 3] / k) : null,
        meanAfter: k > 0 ? round2(c.stats[s + 4] / k) : null,
      };
    }
    out.push({
      type: 'Feature',
      geometry: { type: 'Polygon', coordinates: [cellToBoundary(cell, true)] },
      properties: { cell, resolution, residences: c.residences, population: round1(c.population), elderly: round1(c.elderly), formats: perFormat },
    });
  }
  return out;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round7 = (x: number): number => Math.round(x * 1e7) / 1e7;

/** Plain JSON of an evaluation: no assessments, typed arrays as arrays, Infinity as null. */
export function evaluationToJson(ev: ScenarioEvaluation, opts: { indices?: boolean } = {}): unknown {
  const withIdx = opts.indices ?? true;
  const change = (c: AccessChange) => ({
    residences: c.residences,
    population: c.population,
    elderly: c.elderly,
    ...(withIdx ? { indices: Array.from(c.indices) } : {}),
  });
  return {
    regionName: ev.regionName,
    profile: ev.profile,
    edits: ev.edits,
    formats: ev.formats,
    coverage: ev.coverage.map((c) => ({ ...c, gained: change(c.gained), lost: change(c.lost) })),
    zones: ev.zones,
    headline: ev.headline,
    changed: ev.changed,
    scenario: ev.scenario,
    warnings: ev.warnings,
    timings: ev.timings,
    attribution: ev.before.attribution,
  };
}

// ---- plans as edits

/** A plan document that cannot become edits: names the feature and field. */
export class PlanDocumentError extends Error {
  constructor(
    readonly feature: number | null,
    readonly field: string | null,
    message: string,
  ) {
    super(`${feature === null ? 'plan' : `plan features[${feature}]`}${field ? ` field "${field}"` : ''}: ${message}`);
    this.name = 'PlanDocumentError';
  }
}

/**
 * add_facility edits from a plan result (GeoJSON FeatureCollection; Point features whose
 * properties have role "chosen", formats: string[], name). Features with another role (existing
 * facilities, candidates not chosen) are skipped. Ids are `plan-1`, `plan-2`, … avoiding
 * `takenIds`, so a plan can be appended to a scenario and edited further.
 */
export function editsFromPlan(doc: unknown, opts: { takenIds?: Iterable<string>; taxonomy?: Taxonomy } = {}): Edit[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(doc) || doc.type !== 'FeatureCollection' || !Array.isArray(doc.features)) {
    throw new PlanDocumentError(null, null, 'must be a GeoJSON FeatureCollection (a plan result)');
  }
  const taken = new Set(opts.takenIds ?? []);
  const out: AddFacilityEdit[] = [];
  doc.features.forEach((f: unknown, k: number) => {
    if (!isObj(f)) throw new PlanDocumentError(k, null, 'must be a GeoJSON Feature');
    const p = f.properties;
    if (!isObj(p) || p.role !== 'chosen') return;
    const g = f.geometry;
    if (!isObj(g) || g.type !== 'Point' || !Array.isArray(g.coordinates) || g.coordinates.length < 2) {
      throw new PlanDocumentError(k, 'geometry', 'a chosen site must be a Point [lon, lat]');
    }
    const [lon, lat] = g.coordinates as unknown[];
    if (typeof lon !== 'number' || typeof lat !== 'number' || !Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
      throw new PlanDocumentError(k, 'geometry.coordinates', `must be [lon, lat] in degrees, got ${JSON.stringify(g.coordinates).slice(0, 60)}`);
    }
    const formats = p.formats;
    if (!Array.isArray(formats) || formats.length === 0 || !formats.every((x) => typeof x === 'string')) {
      throw new PlanDocumentError(k, 'properties.formats', 'must be a non-empty array of format ids');
    }
    let name = p.name;
    if (name === undefined || name === null || name === '') name = (formats as string[]).join('+');
    const bad = textProblem(name, 200);
    if (bad) throw new PlanDocumentError(k, 'properties.name', bad);
    const id = nextEditId(taken, 'plan-');
    taken.add(id);
    out.push({ id, type: 'add_facility', formats: [...(formats as string[])], name: name as string, lon, lat });
  });
  // formats and the rest checked as any edit is (names the edit; its id says which site)
  return parseEdits(out, { taxonomy: opts.taxonomy });
}
