/**
 * Assess a region against a standards profile: walking time from every residence to the nearest
 * open facility of every format, which requirements each home meets, its completeness and grade,
 * the same per zone (the region, the user's zones, H3 cells), and the district headline
 * indicators. The result is plain data (src/assess/result.ts); exports read only that.
 *
 * Decisions (see also residence-times.ts and zone-stats.ts):
 * - Facilities are checked open at `at` (opening-hours.ts openAt, at the facility's access point
 *   in the region's country): closed ones are left out; 'unknown' (no or unreadable tag) counts as
 *   open and is counted in headline.openingHours. Without `at` every facility counts and
 *   openingHours is null.
 * - ResidenceResults.minutes / nearest are under the profile's walking profile for EVERY format of
 *   the taxonomy (taxonomy order; Infinity / −1 where the region has none of a format, or none
 *   within the search cap). A requirement is judged under its own walking profile; the minutes it
 *   was judged on are in requirementMinutes / requirementNearest (optional fields).
 * - Searches are capped at maxMinutes (default 60, raised to the largest threshold if needed).
 * - Population: a known total (`population`) or zone totals (a zones file whose features carry
 *   population / 人口 / 常住人口 / total) are spread over residential floor area
 *   (distributePopulation) on a COPY of the region's arrays; otherwise the import's floor-area
 *   estimate is used with elderly = population × elderlyShare. The region is never modified.
 * - A 小区 list (`compounds`) replaces the residences on a new Region (compound-residences.ts); its
 *   population and elderly are used as listed, or a given total is spread over its entries in
 *   proportion to their listed population (floor area = population × m² per person), with a warning.
 * - Children (requirements with population 'children') weigh population × childrenShare, 9.79 %
 *   by default: the share aged 0–14 in Xuhui's 2020 census (data/census);
 *   so their coverage equals the all-residents coverage while residents affected are children.
 * - Residence grades use evaluateGrade itself, memoised per distinct pattern of met
 *   requirements (a district has few distinct patterns, so 200 000 homes cost a map lookup each).
 */
import { getWalkingProfile, type WalkingProfile } from '../engine/profile.js';
import { distributePopulation, populationZonesFromGeoJson, type PopulationZone } from '../ingest/residences/distribute.js';
import type { Region } from '../region/region.js';
import { loadTaxonomy, type Taxonomy } from '../taxonomy/formats.js';
import { openAt, parseMoment, type OpenState } from './opening-hours.js';
import { compoundListRegion, type CompoundListRegion, type CompoundListSpec } from './compound-residences.js';
import type { AssessmentResult, AssessmentSettings, HeadlineIndicators, RequirementInfo, ResidenceResults, ZoneResult } from './result.js';
import { runSearches, runSearchesParallel, type ParallelOptions, type SearchRequest } from './parallel-times.js';
import { prepareNetwork } from './residence-times.js';
import { evaluateGrade, loadStandardsProfile, requirementFormats, requirementSeconds, requirementWalkingProfile, type StandardsProfile } from './standards.js';
import { zoneStats, ZoneStatsScratch, type ZoneStatsInput } from './zone-stats.js';
import { assignUserZones, h3Zones, readUserZones, userZonesFromGeoJson, ZoneFileError, type UserZones, type ZoneSpec } from './zones.js';

export { assessmentToJson } from './serialise.js';

/** Share of residents aged 0–14: Xuhui, 2020 census (9.79 %). */
export const CHILDREN_SHARE = 0.0979;
/** Share of residents aged 65+: Xuhui, 2020 census (20.61 %). */
export const ELDERLY_SHARE = 0.2061;
export const DEFAULT_MAX_MINUTES = 60;

export interface AssessOptions {
  /** a loaded profile, or a bundled id / a path for loadStandardsProfile. */
  profile: StandardsProfile | string;
  /** moment facilities must be open: parseMoment text ("Mo 07:00", ISO, "now") or a wall-clock Date. */
  at?: string | Date | null;
  /** known total population to spread over residences by floor area. */
  population?: number | null;
  /**
   * a user's 小区 list (CSV / GeoJSON path, optionally with the coordinate system of its rows):
   * its entries replace the region's residences for this assessment (compound-residences.ts).
   */
  compounds?: string | CompoundListSpec | null;
  /** user zones: a GeoJSON file path or a parsed GeoJSON document. */
  zones?: string | object | null;
  /** default [9, 10]; [] for none. */
  h3Resolutions?: number[];
  /** share aged 65+, default 0.2061 (Xuhui 2020). */
  elderlyShare?: number;
  /** share aged 0–14 for 'children' requirements, default 0.0979 (Xuhui 2020). */
  childrenShare?: number;
  /** ISO country code for public holidays and time zone in opening hours; default guessed from the region's position. */
  country?: string;
  /** search cap in minutes (default 60). */
  maxMinutes?: number;
  taxonomy?: Taxonomy;
  onProgress?: (phase: string, done: number, total: number) => void;
}

/** With `compounds`: what became of the list, and the region the assessment ran on (exports need it). */
export type AssessmentWithList = AssessmentResult & { compoundList?: CompoundListRegion };

/** The assessment, searches in this thread. */
export function assess(loadedRegion: Region, opts: AssessOptions): AssessmentWithList {
  const steps = assessSteps(loadedRegion, opts);
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    runSearches(step.value);
  }
}

/**
 * The same assessment with its walking-time searches spread over worker threads
 * (parallel-times.ts): identical results; `signal` cancels it (the workers are terminated and the
 * promise rejects with an AbortError).
 */
export async function assessParallel(loadedRegion: Region, opts: AssessOptions & ParallelOptions): Promise<AssessmentWithList> {
  const steps = assessSteps(loadedRegion, opts);
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    await runSearchesParallel(step.value, opts);
  }
}

/** The assessment as steps: it yields its walking-time searches for the caller to run, then returns the result. */
function* assessSteps(loadedRegion: Region, opts: AssessOptions): Generator<SearchRequest, AssessmentWithList, void> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  let tStep = t0;
  const lap = (name: string): void => {
    const now = performance.now();
    timings[name] = now - tStep;
    tStep = now;
  };
  const progress = opts.onProgress ?? (() => {});
  const taxonomy = opts.taxonomy ?? loadTaxonomy();
  const profile = typeof opts.profile === 'string' ? loadStandardsProfile(opts.profile, { taxonomy }) : opts.profile;
  const elderlyShare = opts.elderlyShare ?? ELDERLY_SHARE;
  const childrenShare = opts.childrenShare ?? CHILDREN_SHARE;
  if (!(elderlyShare >= 0 && elderlyShare <= 1)) throw new RangeError(`elderly share ${elderlyShare} is not in [0, 1]`);
  if (!(childrenShare >= 0 && childrenShare <= 1)) throw new RangeError(`children share ${childrenShare} is not in [0, 1]`);
  if (opts.population != null && !(Number.isFinite(opts.population) && opts.population >= 0)) {
    throw new RangeError(`population ${opts.population} is not a non-negative number`);
  }
  const h3Resolutions = opts.h3Resolutions ?? [9, 10];
  const warnings: string[] = [];
  // ---- a 小区 list replaces the residences (a new Region; the loaded one is not touched)
  const list = opts.compounds != null ? compoundListRegion(loadedRegion, opts.compounds, { elderlyShare }) : null;
  const region = list ? list.region : loadedRegion;
  if (list) {
    const u = list.summary.unreachable;
    if (u.count > 0) {
      warnings.push(`${list.summary.file}: ${u.count} 小区 more than ${list.summary.snapLimitMetres} m from any walkable way (line${u.count > 1 ? 's' : ''} ${u.lines.slice(0, 10).join(', ')}${u.count > 10 ? ', …' : ''})`);
    }
  }
  if (list) lap('compoundList');
  const table = region.residences;
  const n = table.count;

  // ---- user zones (read first: a bad file should fail before any work)
  let userZones: UserZones | null = null;
  let zonesSource: string | null = null;
  if (opts.zones != null) {
    if (typeof opts.zones === 'string') {
      userZones = readUserZones(opts.zones);
      zonesSource = opts.zones;
    } else {
      userZones = userZonesFromGeoJson(opts.zones, 'zones');
      zonesSource = 'zones';
    }
    warnings.push(...userZones.warnings);
  }
  lap('zonesFile');

  // ---- population (on copies)
  const population = table.population.slice();
  const elderly = new Float32Array(n);
  const copy = { ...table, population, elderly };
  if (opts.population != null) {
    const rep = distributePopulation(copy, { total: opts.population }, elderlyShare);
    warnings.push(...rep.warnings);
    if (userZones?.hasPopulation) warnings.push(`${zonesSource}: the zones' population figures are not used: the given total ${opts.population} is`);
    if (list) {
      warnings.push(
        `${list.summary.file}: the given total population ${opts.population} replaces the list's ${Math.round(list.summary.population)}: ` +
          `spread over its ${n} 小区 in proportion to their listed population`,
      );
    }
  } else if (list) {
    // the list's figures as they are (population already copied; elderly from 老年人口 or the share)
    elderly.set(table.elderly);
    if (userZones?.hasPopulation) warnings.push(`${zonesSource}: the zones' population figures are not used: the 小区 list's are`);
  } else if (userZones?.hasPopulation) {
    let popZones: PopulationZone[];
    try {
      popZones = populationZonesFromGeoJson(userZones.doc, zonesSource ?? 'zones');
    } catch (e) {
      const lines = (e as Error).message.split('\n');
      const first = lines.length > 1 ? lines[1] : lines[0];
      const feature = /feature (\d+)/.exec(first);
      const more = lines.length > 2 ? ` (and ${lines.length - 2} more problems)` : '';
      throw new ZoneFileError(zonesSource ?? 'zones', feature ? Number(feature[1]) : null, `${zonesSource}: ${first.replace(`${zonesSource}: `, '')}${more}`);
    }
    const rep = distributePopulation(copy, { zones: popZones }, elderlyShare);
    warnings.push(...rep.warnings.map((w) => `population: ${w}`));
  } else {
    for (let r = 0; r < n; r++) elderly[r] = population[r] * elderlyShare;
  }
  lap('population');

  // ---- opening hours
  let moment: Date | null = null;
  let atText: string | null = null;
  const country = (opts.country ?? guessCountry(region)).toLowerCase();
  if (opts.at != null) {
    if (opts.at instanceof Date) {
      moment = opts.at;
      atText = localIso(opts.at);
    } else {
      moment = parseMoment(opts.at, { timeZone: TIME_ZONES[country] });
      // "now" is kept with the wall-clock time it meant, so the result says when it was checked
      atText = /^(now|现在)$/i.test(opts.at.trim()) ? `${opts.at.trim()} (${localIso(moment)})` : opts.at;
    }
  }
  const nf = region.facilities.length;
  const usable = new Uint8Array(nf).fill(1);
  let openingHours: HeadlineIndicators['openingHours'] = null;
  if (moment) {
    openingHours = { open: 0, closed: 0, unknown: 0 };
    for (let i = 0; i < nf; i++) {
      const f = region.facilities[i];
      const state: OpenState = openAt(f.tags.opening_hours, moment, { lat: f.lat, lon: f.lon, country });
      openingHours[state]++;
      if (state === 'closed') usable[i] = 0;
      if ((i & 1023) === 1023) progress('opening hours', i + 1, nf);
    }
  }
  lap('openingHours');

  // ---- requirements and formats
  const formats = taxonomy.formats.map((f) => f.id);
  const F = formats.length;
  const colOf = new Map(formats.map((f, i) => [f, i]));
  const walkingCache = new Map<string, WalkingProfile>();
  const walking = (id: string): WalkingProfile => {
    let w = walkingCache.get(id);
    if (!w) walkingCache.set(id, (w = getWalkingProfile(id)));
    return w;
  };
  const requirements: RequirementInfo[] = profile.requirements.map((req, index) => {
    const wp = requirementWalkingProfile(profile, req);
    return { index, requirement: req, formats: requirementFormats(req), seconds: requirementSeconds(req, walking(wp)), walkingProfile: wp };
  });
  const Q = requirements.length;
  const mainWp = profile.walkingProfile;
  const maxSeconds = Math.max(opts.maxMinutes ?? DEFAULT_MAX_MINUTES, 15, ...requirements.map((q) => q.seconds / 60)) * 60;
  const mofcomSec = Float64Array.from(taxonomy.formats, (f) => f.mofcomMinutes * 60);

  // ---- walking times
  const net = prepareNetwork(region, usable);
  const minutes = new Float32Array(n * F).fill(Infinity);
  const nearest = new Int32Array(n * F).fill(-1);
  const withinMofcom = new Uint8Array(n * F);
  const reqSec = new Float64Array(n * Q).fill(Infinity);
  const reqNear = new Int32Array(n * Q).fill(-1);
  // the walking profiles to search under, and which formats under each
  const plan = new Map<string, Set<string>>();
  plan.set(mainWp, new Set(formats.filter((f) => (net.seedsByFormat.get(f)?.length ?? 0) > 0)));
  for (const q of requirements) {
    if (q.walkingProfile === mainWp) continue;
    let set = plan.get(q.walkingProfile);
    if (!set) plan.set(q.walkingProfile, (set = new Set()));
    for (const f of q.formats) if ((net.seedsByFormat.get(f)?.length ?? 0) > 0) set.add(f);
  }
  const searches = [...plan.values()].reduce((s, set) => s + set.size, 0);
  let searched = 0;
  const wpIds = [...plan.keys()];
  const lists = wpIds.map((wpId) => formats.filter((f) => plan.get(wpId)?.has(f)));
  // requirements judged under each profile, per format column
  const reqsOfJob = wpIds.map((wpId, j) => lists[j].map((f) => requirements.filter((q) => q.walkingProfile === wpId && q.formats.includes(f)).map((q) => q.index)));
  yield {
    net,
    jobs: wpIds.map((wpId, j) => ({ walking: walking(wpId), formats: lists[j] })),
    maxSeconds,
    onSearched: () => progress('walking times', ++searched, searches),
    onFormat: (j, k, secs, near) => {
      const wpId = wpIds[j];
      const list = lists[j];
      const reqsOf = reqsOfJob[j];
      if (wpId === mainWp) {
        const c = colOf.get(list[k]) ?? -1;
        const lim = mofcomSec[c];
        for (let r = 0; r < n; r++) {
          const s = secs[r];
          minutes[r * F + c] = s / 60;
          nearest[r * F + c] = near[r];
          if (s <= lim) withinMofcom[r * F + c] = 1;
        }
      }
      for (const q of reqsOf[k]) {
        for (let r = 0; r < n; r++) {
          const s = secs[r];
          if (s < reqSec[r * Q + q]) {
            reqSec[r * Q + q] = s;
            reqNear[r * Q + q] = near[r];
          }
        }
      }
    },
  };
  lap('walkingTimes');

  // ---- requirements met, completeness, grade
  const met = new Uint8Array(n * Q);
  const requirementMinutes = new Float32Array(n * Q);
  const completeness = new Float32Array(n);
  const grade = new Int8Array(n);
  const complete = new Uint8Array(n);
  const thresholds = Float64Array.from(requirements, (q) => q.seconds);
  // memo key: the met pattern as a number (two 26-bit halves) when Q ≤ 52, else as a string
  type Graded = { grade: number; completeness: number; complete: boolean };
  const memoNum = new Map<number, Graded>();
  const memoStr = new Map<string, Graded>();
  const patternMet = new Uint8Array(Q);
  for (let r = 0; r < n; r++) {
    const reach = net.reachable[r] === 1;
    let lo = 0;
    let hi = 0;
    let key: number | string = 0;
    for (let q = 0; q < Q; q++) {
      const s = reqSec[r * Q + q];
      requirementMinutes[r * Q + q] = s / 60;
      if (reach && s <= thresholds[q]) {
        met[r * Q + q] = 1;
        if (q < 26) lo |= 1 << q;
        else if (q < 52) hi |= 1 << (q - 26);
      }
    }
    if (Q <= 52) key = lo + hi * 67108864;
    else {
      let str = '';
      for (let q = 0; q < Q; q++) str += met[r * Q + q] ? '1' : '0';
      key = str;
    }
    let g = typeof key === 'number' ? memoNum.get(key) : memoStr.get(key);
    if (!g) {
      for (let q = 0; q < Q; q++) patternMet[q] = met[r * Q + q];
      const res = evaluateGrade(profile, taxonomy, (_req, i) => patternMet[i] === 1);
      g = { grade: res.gradeIndex, completeness: res.completeness, complete: patternMet.every((x) => x === 1) };
      if (typeof key === 'number') memoNum.set(key, g);
      else memoStr.set(key, g);
    }
    completeness[r] = g.completeness;
    grade[r] = g.grade;
    complete[r] = g.complete ? 1 : 0;
  }
  let unreachable = 0;
  for (let r = 0; r < n; r++) if (!net.reachable[r]) unreachable++;
  lap('requirements');

  // ---- zones
  const all = new Int32Array(n);
  for (let r = 0; r < n; r++) all[r] = r;
  const specs: ZoneSpec[] = [{ id: 'region', name: region.meta.name, kind: 'region', geometry: null, members: all }];
  let zoneAssignment: AssessmentResult['zoneAssignment'];
  if (userZones) {
    const a = assignUserZones(userZones.zones, table.lon, table.lat);
    for (const z of a.zones) specs.push(z);
    let outsidePop = 0;
    if (a.outside > 0) {
      const inAny = new Uint8Array(n);
      for (const z of a.zones) for (const r of z.members) inAny[r] = 1;
      for (let r = 0; r < n; r++) if (!inAny[r]) outsidePop += population[r];
      warnings.push(`${zonesSource}: ${a.outside} of ${n} residences (${Math.round(outsidePop)} residents) lie in no zone: counted in the region only`);
    }
    if (a.inSeveral > 0) warnings.push(`${zonesSource}: ${a.inSeveral} residences lie in more than one zone: each of those zones counts them`);
    for (const z of a.zones) if (z.members.length === 0) warnings.push(`${zonesSource}: zone "${z.name}" holds no residence`);
    zoneAssignment = { zones: a.zones.length, outside: a.outside, outsidePopulation: outsidePop, inSeveral: a.inSeveral };
  }
  lap('userZones');
  // a loop, not push(...cells): a city has more H3 cells than V8 allows as call arguments
  for (const z of h3Zones(h3Resolutions, table.lon, table.lat)) specs.push(z);
  lap('h3');
  const statsInput: ZoneStatsInput = {
    profile,
    taxonomy,
    requirements,
    formatCount: F,
    met,
    requirementMinutes,
    complete,
    completeness,
    grade,
    population,
    elderly,
    childrenShare,
    withinMofcom,
    lon: table.lon,
    lat: table.lat,
  };
  const scratch = new ZoneStatsScratch();
  const zones: ZoneResult[] = specs.map((spec, i) => {
    if ((i & 63) === 63) progress('zones', i + 1, specs.length);
    return zoneStats(spec, statsInput, scratch);
  });
  lap('zones');

  // ---- headline
  const regionZone = zones[0];
  const basicFormats = taxonomy.formats.filter((f) => f.class === 'basic').map((f) => f.id);
  let branded = 0;
  let outlets = 0;
  for (const f of region.facilities) {
    if (!f.formats.some((x) => taxonomy.byId.get(x)?.class === 'basic')) continue;
    outlets++;
    const t = f.tags;
    if (nonEmpty(t.brand) || nonEmpty(t['brand:wikidata']) || nonEmpty(t.operator)) branded++;
  }
  const chainOutletShare = branded > 0 && outlets > 0 ? branded / outlets : null;
  const targets: HeadlineIndicators['targets'] = profile.targets.map((t) => {
    if (t.indicator === 'coverage') {
      const qs = requirements.filter(
        (q) => (t.formats === undefined || t.formats.includes(q.requirement.format)) && (t.level === undefined || q.requirement.level === t.level),
      );
      if (qs.length === 0) return { indicator: t.indicator, target: t.value, value: null, met: null, note: 'no requirement of the profile matches this target' };
      // share of residents for whom every named requirement is met
      let got = 0;
      let tot = 0;
      for (let r = 0; r < n; r++) {
        const w = population[r];
        tot += w;
        if (qs.every((q) => met[r * Q + q.index] === 1)) got += w;
      }
      const value = tot > 0 ? got / tot : 0;
      const each = qs.map((q) => `${q.requirement.format}${q.requirement.level !== undefined ? `@${q.requirement.level}` : ''} ${(regionZone.coverage[q.index] * 100).toFixed(1)} %`).join(', ');
      return { indicator: t.indicator, target: t.value, value, met: value >= t.value, note: `share of residents with all of: ${each}` };
    }
    if (t.indicator === 'chain_outlet_share') {
      return {
        indicator: t.indicator,
        target: t.value,
        value: chainOutletShare,
        met: chainOutletShare === null ? null : chainOutletShare >= t.value,
        ...(chainOutletShare === null ? { note: 'no outlet of a basic format carries brand / operator tags' } : {}),
      };
    }
    return { indicator: t.indicator, target: t.value, value: null, met: null, note: 'from resident surveys: not collected yet' };
  });
  const headline: HeadlineIndicators = {
    population: regionZone.population,
    elderly: regionZone.elderly,
    residences: n,
    unreachableResidences: unreachable,
    basicFormatCoverage: basicFormats.map((f) => ({ format: f, coverage: regionZone.formatCoverage[colOf.get(f) ?? 0] })),
    completeCircleShare: regionZone.completeShare,
    meanCompleteness: regionZone.completeness,
    chainOutletShare,
    targets,
    openingHours,
  };
  if (unreachable > 0) warnings.push(`${unreachable} residences reach no walkable way: every requirement counted unmet`);
  lap('headline');
  timings.total = performance.now() - t0;

  const settings: AssessmentSettings = {
    profile,
    at: atText,
    population: opts.population ?? null,
    elderlyShare,
    zonesSource,
    h3Resolutions: [...new Set(h3Resolutions)],
    childrenShare,
    country: country || null,
    maxMinutes: maxSeconds / 60,
  };
  const residences: ResidenceResults = {
    count: n,
    formats,
    minutes,
    nearest,
    met,
    completeness,
    grade,
    population,
    elderly,
    reachable: net.reachable,
    walkingProfile: mainWp,
    requirementMinutes,
    requirementNearest: reqNear,
  };
  return {
    regionName: region.meta.name,
    attribution: region.meta.attribution,
    settings,
    requirements,
    residences,
    zones,
    headline,
    warnings,
    timings,
    ...(zoneAssignment ? { zoneAssignment } : {}),
    ...(list ? { compoundList: list } : {}),
  };
}

const nonEmpty = (v: string | undefined): boolean => v !== undefined && v.trim() !== '';

const TIME_ZONES: Readonly<Record<string, string>> = {
  cn: 'Asia/Shanghai',
  at: 'Europe/Vienna',
  fi: 'Europe/Helsinki',
  ad: 'Europe/Andorra',
};

/**
 * The country of the region's centre, for public holidays in opening hours: only the countries
 * of the bundled data (China, Austria, Finland, Andorra) by bounding box; '' (no holidays: "PH"
 * rules answer unknown) elsewhere. Pass `country` to be sure.
 */
export function guessCountry(region: Region): string {
  const [w, s, e, n] = region.meta.bbox;
  const x = (w + e) / 2;
  const y = (s + n) / 2;
  if (x >= 1.4 && x <= 1.8 && y >= 42.4 && y <= 42.7) return 'ad';
  if (x >= 9.5 && x <= 17.2 && y >= 46.4 && y <= 49.0) return 'at';
  if (x >= 20.5 && x <= 31.6 && y >= 59.7 && y <= 70.1) return 'fi';
  if (x >= 73 && x <= 135 && y >= 18 && y <= 53.6) return 'cn';
  return '';
}

function localIso(d: Date): string {
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
