/**
 * Standards profiles (data/standards/*.json): what a 一刻钟便民生活圈 must offer, within which walk,
 * and how a place is graded. Data, not code: a district selects a bundled profile or edits a copy.
 *
 * Profile file, one per profile, `<id>.json` (the id must match the file name):
 *
 *   { version?: 1, id, name: {zh-CN, en}, source, walkingProfile, defaultMinutes?,
 *     requirements: [{ format, alternatives?, withinMinutes?, withinMetres?, level?, population?,
 *                      weight?, walkingProfile?, note? }],
 *     grades: [{ id, name: {zh-CN, en}, rule: { minBasic?, minQuality?, requiredFormats?,
 *                                               requiredLevels?, minCompleteness? }, note? }],
 *     targets?: [{ indicator, value, formats?, level?, year?, note? }],
 *     notes?: string | string[] }
 *
 * Semantics (the assessment and `evaluateGrade` follow them; the bundled files' notes repeat them):
 *
 * - A requirement is met at a place when a facility of `format` (or of one of its `alternatives`,
 *   e.g. GB 50180's 菜市场或生鲜超市) is reached within the requirement's threshold along the walking
 *   network, using the requirement's walking profile (`walkingProfile`, else the profile's).
 * - Threshold (`requirementSeconds`): `withinMinutes` is walking time; `withinMetres` is converted
 *   to time at the walking profile's flat-ground speed (seconds = metres / speedMps, i.e. minutes =
 *   metres / (speed·60)) and compared with the same network walking time (so steps cost extra in
 *   both). When both are given BOTH must hold: the threshold is the smaller of the two. When neither
 *   is given the profile's `defaultMinutes` is filled in at load time (an error if there is none).
 * - Requirements are independent: the same format may be required at several levels (GB 50180-2018
 *   lists 社区卫生服务站 at 5 minutes and 社区卫生服务中心 at 15); meeting the 15-minute one never
 *   satisfies the 5-minute one. Two requirements with the same format, level and population are a
 *   duplicate (an error).
 * - `population` ('all' by default) says whom the requirement serves: the assessment weights homes
 *   by that group (elderly residents, children). `weight` (default 1) weighs it in completeness.
 * - A format is *present* at a place when every requirement whose `format` it is, is met.
 *   minBasic / minQuality count present formats of taxonomy class basic / quality (public-service
 *   formats count in neither; they enter grades through requiredFormats, requiredLevels and
 *   completeness). requiredFormats: every entry present; an entry that is an array is "any one of".
 *   requiredLevels: every requirement at those levels met. minCompleteness: weighted share of met
 *   requirements (0–1].
 * - Grades are ordered lowest → highest and cumulative: a place earns a grade when it meets that
 *   grade's rule and the rules of every lower grade; its grade is the highest earned (or none).
 *
 * Validation collects every problem and names the file and the exact field, e.g.
 *   xuhui.json: requirements[3].format: unknown format "canteen" (did you mean "community_canteen"?)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { dataPath } from '../paths.js';
import { loadWalkingProfiles, type WalkingProfile } from '../engine/profile.js';
import { FORMAT_LEVELS, loadTaxonomy, type FormatLevel, type Taxonomy } from '../taxonomy/formats.js';

export const POPULATIONS = ['all', 'elderly', 'children'] as const;
export type Population = (typeof POPULATIONS)[number];

/** coverage: share of residents for whom the named requirements are met; the others are shares too. */
export const TARGET_INDICATORS = ['coverage', 'resident_satisfaction', 'chain_outlet_share'] as const;
export type TargetIndicator = (typeof TARGET_INDICATORS)[number];

export interface LocalName {
  'zh-CN': string;
  en: string;
}

export interface Requirement {
  /** format id from the taxonomy. */
  format: string;
  /** other formats that also satisfy this requirement (e.g. 菜市场或生鲜超市). */
  alternatives?: string[];
  /** walking-time limit. At least one of withinMinutes / withinMetres is set after loading. */
  withinMinutes?: number;
  /** network walking-distance limit, converted to time at the walking profile's speed. */
  withinMetres?: number;
  /** the planning level this requirement belongs to (GB 50180-2018: 居住街坊, 5, 10, 15 minutes). */
  level?: FormatLevel;
  /** whom it serves; 'all' when the file omits it. */
  population: Population;
  /** weight in completeness; 1 when the file omits it. */
  weight: number;
  /** walking profile for this requirement; the profile's walkingProfile when absent. */
  walkingProfile?: string;
  note?: string;
}

/** One entry of requiredFormats: a format id, or an array meaning "any one of these". */
export type RequiredFormat = string | string[];

export interface GradeRule {
  minBasic?: number;
  minQuality?: number;
  requiredFormats?: RequiredFormat[];
  requiredLevels?: FormatLevel[];
  minCompleteness?: number;
}

export interface Grade {
  id: string;
  name: LocalName;
  rule: GradeRule;
  note?: string;
}

export interface Target {
  indicator: TargetIndicator;
  /** a share in [0, 1] (0.85 = 85 %). */
  value: number;
  /** coverage: the formats whose requirements it counts (all requirements when absent). */
  formats?: string[];
  /** coverage: only requirements at this level. */
  level?: FormatLevel;
  /** the year the target is for. */
  year?: number;
  note?: string;
}

export interface StandardsProfile {
  version?: 1;
  id: string;
  name: LocalName;
  /** citation of the standard or practice the profile encodes. */
  source: string;
  /** id in data/profiles/walking.json. */
  walkingProfile: string;
  /** threshold for requirements that give none (already filled in on loaded requirements). */
  defaultMinutes?: number;
  requirements: Requirement[];
  /** lowest → highest. */
  grades: Grade[];
  targets: Target[];
  notes: string[];
}

export class StandardsError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(errors.join('\n'));
    this.name = 'StandardsError';
  }
}

export const STANDARDS_DIR = dataPath('standards');

export interface LoadOptions {
  /** default: the bundled taxonomy. */
  taxonomy?: Taxonomy;
  /** default: data/profiles/walking.json. */
  walkingProfiles?: readonly WalkingProfile[];
  /** where ids are looked up; default data/standards. */
  dir?: string;
}

export interface StandardsProfileInfo {
  id: string;
  file: string;
  /** null when the file cannot be read as JSON or has no usable name. */
  name: LocalName | null;
}

/** The profiles in a folder (default: the bundled ones), sorted by id. Does not validate them. */
export function listStandardsProfiles(dir: string = STANDARDS_DIR): StandardsProfileInfo[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      let name: LocalName | null = null;
      try {
        const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
        if (isObj(raw) && isName(raw.name)) name = { 'zh-CN': raw.name['zh-CN'], en: raw.name.en };
      } catch {
        name = null;
      }
      return { id: f.slice(0, -'.json'.length), file, name };
    });
}

/**
 * Load and validate a profile: a bundled id ("xuhui") or a path to a JSON file (anything with a
 * slash or ending in .json). Throws StandardsError listing every problem.
 */
export function loadStandardsProfile(idOrPath: string, opts: LoadOptions = {}): StandardsProfile {
  const dir = opts.dir ?? STANDARDS_DIR;
  const isPath = /[/\\]/.test(idOrPath) || idOrPath.endsWith('.json');
  let file: string;
  if (isPath) {
    file = resolve(idOrPath);
  } else {
    file = join(dir, `${idOrPath}.json`);
    if (!existsSync(file)) {
      const known = listStandardsProfiles(dir).map((p) => p.id);
      const hint = suggest(idOrPath, known.map((id) => ({ id })));
      throw new StandardsError([
        `unknown standards profile "${idOrPath}" (known: ${known.join(', ') || 'none'})` +
          (hint ? ` (did you mean "${hint}"?)` : ''),
      ]);
    }
  }
  const label = basename(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new StandardsError([`${label}: cannot read ${file}: ${(e as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new StandardsError([`${label}: not valid JSON: ${(e as Error).message}`]);
  }
  const expectedId = label.endsWith('.json') ? label.slice(0, -'.json'.length) : undefined;
  return validateStandardsProfile(raw, label, opts.taxonomy ?? loadTaxonomy(), {
    walkingProfiles: opts.walkingProfiles,
    expectedId,
  });
}

export interface ValidateOptions {
  /** default: data/profiles/walking.json. */
  walkingProfiles?: readonly WalkingProfile[];
  /** when set, `id` must equal it (the file name without .json). */
  expectedId?: string;
}

/** Seconds of network walking within which `req` is met (see the module comment for the rule). */
export function requirementSeconds(req: Pick<Requirement, 'withinMinutes' | 'withinMetres'>, walking: Pick<WalkingProfile, 'speedMps'>): number {
  let s = Infinity;
  if (req.withinMinutes !== undefined) s = Math.min(s, req.withinMinutes * 60);
  if (req.withinMetres !== undefined) s = Math.min(s, req.withinMetres / walking.speedMps);
  if (s === Infinity) throw new Error(`requirement for "${String((req as Partial<Requirement>).format)}" has neither withinMinutes nor withinMetres`);
  return s;
}

/** The walking profile id a requirement is evaluated with. */
export const requirementWalkingProfile = (profile: Pick<StandardsProfile, 'walkingProfile'>, req: Requirement): string =>
  req.walkingProfile ?? profile.walkingProfile;

/** Every format a requirement accepts: its format, then its alternatives. */
export const requirementFormats = (req: Requirement): string[] => [req.format, ...(req.alternatives ?? [])];

// ---------------------------------------------------------------------------------------------
// grading

export interface GradeResult {
  /** highest grade earned, or null. */
  grade: Grade | null;
  /** its index in profile.grades, -1 for none. */
  gradeIndex: number;
  /** present formats of class basic / quality. */
  basic: number;
  quality: number;
  /** weighted share of met requirements, 0–1. */
  completeness: number;
  /** formats present (every requirement of the format met), in requirement order. */
  present: string[];
}

/**
 * Grade one place. `met(req, i)` tells whether requirement i is met there (the caller decides
 * what a population-specific requirement means for a place without that population).
 */
export function evaluateGrade(
  profile: StandardsProfile,
  taxonomy: Taxonomy,
  met: (req: Requirement, index: number) => boolean,
): GradeResult {
  const isMet = profile.requirements.map((r, i) => met(r, i));
  const allMet = new Map<string, boolean>();
  profile.requirements.forEach((r, i) => allMet.set(r.format, (allMet.get(r.format) ?? true) && isMet[i]));
  const present = [...allMet].filter(([, ok]) => ok).map(([f]) => f);
  const presentSet = new Set(present);
  const countClass = (cls: string) => present.filter((f) => taxonomy.byId.get(f)?.class === cls).length;
  const basic = countClass('basic');
  const quality = countClass('quality');
  let total = 0;
  let got = 0;
  profile.requirements.forEach((r, i) => {
    total += r.weight;
    if (isMet[i]) got += r.weight;
  });
  const completeness = total > 0 ? got / total : 0;

  const holds = (rule: GradeRule): boolean => {
    if (rule.minBasic !== undefined && basic < rule.minBasic) return false;
    if (rule.minQuality !== undefined && quality < rule.minQuality) return false;
    if (rule.minCompleteness !== undefined && completeness < rule.minCompleteness - 1e-12) return false;
    for (const entry of rule.requiredFormats ?? []) {
      const anyOf = typeof entry === 'string' ? [entry] : entry;
      if (!anyOf.some((f) => presentSet.has(f))) return false;
    }
    for (const level of rule.requiredLevels ?? []) {
      if (profile.requirements.some((r, i) => r.level === level && !isMet[i])) return false;
    }
    return true;
  };
  let gradeIndex = -1;
  for (let g = 0; g < profile.grades.length; g++) {
    if (!holds(profile.grades[g].rule)) break;
    gradeIndex = g;
  }
  return { grade: gradeIndex >= 0 ? profile.grades[gradeIndex] : null, gradeIndex, basic, quality, completeness, present };
}

// ---------------------------------------------------------------------------------------------
// validation

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;
const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isName = (v: unknown): v is LocalName =>
  isObj(v) && isNonEmptyString(v['zh-CN']) && isNonEmptyString(v.en) && Object.keys(v).every((k) => k === 'zh-CN' || k === 'en');

const TOP_FIELDS = ['version', 'id', 'name', 'source', 'walkingProfile', 'defaultMinutes', 'requirements', 'grades', 'targets', 'notes'];
const TOP_REQUIRED = ['id', 'name', 'source', 'walkingProfile', 'requirements', 'grades'];
const REQ_FIELDS = ['format', 'alternatives', 'withinMinutes', 'withinMetres', 'level', 'population', 'weight', 'walkingProfile', 'note'];
const GRADE_FIELDS = ['id', 'name', 'rule', 'note'];
const RULE_FIELDS = ['minBasic', 'minQuality', 'requiredFormats', 'requiredLevels', 'minCompleteness'];
const TARGET_FIELDS = ['indicator', 'value', 'formats', 'level', 'year', 'note'];
const ID_RE = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;

const quoted = (values: readonly (string | number)[]): string =>
  values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(', ');
const LEVELS_TEXT = quoted(FORMAT_LEVELS);
const levelText = (l: FormatLevel): string => (typeof l === 'string' ? `"${l}"` : String(l));
const isLevel = (v: unknown): v is FormatLevel => (FORMAT_LEVELS as readonly unknown[]).includes(v);

/**
 * Validate an already-parsed profile. `label` (the file name) prefixes every message. Returns the
 * profile with defaults resolved (population 'all', weight 1, defaultMinutes filled in, notes as an
 * array) or throws a StandardsError with all problems, one per line.
 */
export function validateStandardsProfile(
  raw: unknown,
  label: string,
  taxonomy: Taxonomy,
  opts: ValidateOptions = {},
): StandardsProfile {
  const errors: string[] = [];
  const err = (path: string, msg: string) => errors.push(path ? `${label}: ${path}${msg}` : `${label}: ${msg}`);
  if (!isObj(raw)) throw new StandardsError([`${label}: must be a JSON object`]);

  const walking = opts.walkingProfiles ?? loadWalkingProfiles();
  const walkingIds = walking.map((w) => w.id);
  const formatCandidates = taxonomy.formats.map((f) => ({ id: f.id, names: [f.name['zh-CN'], f.name.en] }));

  checkKeys(raw, TOP_FIELDS, '', err);
  for (const k of TOP_REQUIRED) if (raw[k] === undefined) err('', `missing field "${k}"`);

  if (raw.version !== undefined && raw.version !== 1) err('version', ' must be 1');
  if (raw.id !== undefined) {
    if (typeof raw.id !== 'string' || !ID_RE.test(raw.id)) err('id', ' must be a lower-case id (a-z, 0-9, "-", "_")');
    else if (opts.expectedId !== undefined && raw.id !== opts.expectedId) {
      err('id', `: "${raw.id}" does not match the file name (expected "${opts.expectedId}")`);
    }
  }
  if (raw.name !== undefined && !isName(raw.name)) err('name', ' must be an object with non-empty "zh-CN" and "en" strings');
  if (raw.source !== undefined && !isNonEmptyString(raw.source)) err('source', ' must be a non-empty string (the citation)');

  const checkWalking = (v: unknown, path: string) => {
    if (!isNonEmptyString(v)) err(path, ' must be a walking profile id (string)');
    else if (!walkingIds.includes(v)) {
      const hint = suggest(v, walking.map((w) => ({ id: w.id, names: [w.name['zh-CN'], w.name.en] })));
      err(path, `: unknown walking profile "${v}" (known: ${walkingIds.join(', ')})${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
  };
  if (raw.walkingProfile !== undefined) checkWalking(raw.walkingProfile, 'walkingProfile');

  const defaultMinutes = raw.defaultMinutes;
  if (defaultMinutes !== undefined && !isPositive(defaultMinutes)) err('defaultMinutes', ' must be a number > 0');

  /** format id check; returns true when known. */
  const checkFormat = (v: unknown, path: string): v is string => {
    if (typeof v !== 'string' || v.length === 0) {
      err(path, ' must be a format id (string)');
      return false;
    }
    if (taxonomy.byId.has(v)) return true;
    const hint = suggest(v, formatCandidates);
    err(path, `: unknown format "${v}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    return false;
  };

  // requirements
  const requirements: Requirement[] = [];
  const reqFormats = new Set<string>();
  const reqLevels = new Set<FormatLevel>();
  if (raw.requirements !== undefined) {
    if (!Array.isArray(raw.requirements) || raw.requirements.length === 0) {
      err('requirements', ' must be a non-empty array');
    } else {
      const seen = new Map<string, number>();
      raw.requirements.forEach((r: unknown, i: number) => {
        const p = `requirements[${i}]`;
        if (!isObj(r)) {
          err(p, ' must be an object');
          return;
        }
        const before = errors.length;
        checkKeys(r, REQ_FIELDS, p, err);
        if (r.format === undefined) err(p, ': missing field "format"');
        else checkFormat(r.format, `${p}.format`);
        if (r.alternatives !== undefined) {
          if (!Array.isArray(r.alternatives) || r.alternatives.length === 0) {
            err(`${p}.alternatives`, ' must be a non-empty array of format ids');
          } else {
            const alts = new Set<string>();
            r.alternatives.forEach((a: unknown, j: number) => {
              const ap = `${p}.alternatives[${j}]`;
              if (!checkFormat(a, ap)) return;
              if (a === r.format) err(ap, `: "${a}" is the requirement's own format`);
              else if (alts.has(a)) err(ap, `: "${a}" is listed twice`);
              alts.add(a);
            });
          }
        }
        if (r.withinMinutes !== undefined && !isPositive(r.withinMinutes)) err(`${p}.withinMinutes`, ' must be a number > 0');
        if (r.withinMetres !== undefined && !isPositive(r.withinMetres)) err(`${p}.withinMetres`, ' must be a number > 0');
        if (r.withinMinutes === undefined && r.withinMetres === undefined && defaultMinutes === undefined) {
          err(p, ': needs withinMinutes or withinMetres (the profile has no defaultMinutes)');
        }
        if (r.level !== undefined && !isLevel(r.level)) err(`${p}.level`, ` must be one of ${LEVELS_TEXT}`);
        if (r.population !== undefined && !(POPULATIONS as readonly unknown[]).includes(r.population)) {
          err(`${p}.population`, ` must be one of ${quoted(POPULATIONS)}`);
        }
        if (r.weight !== undefined && !isPositive(r.weight)) err(`${p}.weight`, ' must be a number > 0');
        if (r.walkingProfile !== undefined) checkWalking(r.walkingProfile, `${p}.walkingProfile`);
        if (r.note !== undefined && !isNonEmptyString(r.note)) err(`${p}.note`, ' must be a non-empty string');
        if (errors.length > before) return;

        const req: Requirement = {
          format: r.format as string,
          population: (r.population as Population | undefined) ?? 'all',
          weight: (r.weight as number | undefined) ?? 1,
        };
        if (r.alternatives !== undefined) req.alternatives = [...(r.alternatives as string[])];
        if (r.withinMinutes !== undefined) req.withinMinutes = r.withinMinutes as number;
        if (r.withinMetres !== undefined) req.withinMetres = r.withinMetres as number;
        if (req.withinMinutes === undefined && req.withinMetres === undefined && isPositive(defaultMinutes)) {
          req.withinMinutes = defaultMinutes;
        }
        if (r.level !== undefined) req.level = r.level as FormatLevel;
        if (r.walkingProfile !== undefined) req.walkingProfile = r.walkingProfile as string;
        if (r.note !== undefined) req.note = r.note as string;

        const key = `${req.format}\u0000${req.level ?? ''}\u0000${req.population}`;
        const prev = seen.get(key);
        if (prev !== undefined) {
          const at = req.level === undefined ? 'with no level' : `at level ${levelText(req.level)}`;
          err(p, `: duplicate requirement: format "${req.format}" ${at} for population "${req.population}" is already required by requirements[${prev}]`);
          return;
        }
        seen.set(key, i);
        requirements.push(req);
        reqFormats.add(req.format);
        if (req.level !== undefined) reqLevels.add(req.level);
      });
    }
  }
  const classCount = (cls: string) => [...reqFormats].filter((f) => taxonomy.byId.get(f)?.class === cls).length;

  // grades
  const grades: Grade[] = [];
  if (raw.grades !== undefined) {
    if (!Array.isArray(raw.grades) || raw.grades.length === 0) {
      err('grades', ' must be a non-empty array (lowest grade first)');
    } else {
      const ids = new Map<string, number>();
      raw.grades.forEach((g: unknown, i: number) => {
        const p = `grades[${i}]`;
        if (!isObj(g)) {
          err(p, ' must be an object');
          return;
        }
        const before = errors.length;
        checkKeys(g, GRADE_FIELDS, p, err);
        for (const k of ['id', 'name', 'rule']) if (g[k] === undefined) err(p, `: missing field "${k}"`);
        if (g.id !== undefined) {
          if (typeof g.id !== 'string' || !ID_RE.test(g.id)) err(`${p}.id`, ' must be a lower-case id (a-z, 0-9, "-", "_")');
          else if (ids.has(g.id)) err(`${p}.id`, `: duplicate grade id "${g.id}" (also grades[${ids.get(g.id)}])`);
          else ids.set(g.id, i);
        }
        if (g.name !== undefined && !isName(g.name)) err(`${p}.name`, ' must be an object with non-empty "zh-CN" and "en" strings');
        if (g.note !== undefined && !isNonEmptyString(g.note)) err(`${p}.note`, ' must be a non-empty string');
        let rule: GradeRule | null = null;
        if (g.rule !== undefined) rule = validateRule(g.rule, `${p}.rule`);
        if (errors.length > before || !rule) return;
        const grade: Grade = { id: g.id as string, name: { ...(g.name as LocalName) }, rule };
        if (g.note !== undefined) grade.note = g.note as string;
        grades.push(grade);
      });
    }
  }

  function validateRule(rule: unknown, p: string): GradeRule | null {
    if (!isObj(rule)) {
      err(p, ' must be an object');
      return null;
    }
    const before = errors.length;
    checkKeys(rule, RULE_FIELDS, p, err);
    if (!RULE_FIELDS.some((k) => rule[k] !== undefined)) err(p, ` must set at least one of ${RULE_FIELDS.join(', ')}`);
    const out: GradeRule = {};
    for (const [k, cls] of [['minBasic', 'basic'], ['minQuality', 'quality']] as const) {
      const v = rule[k];
      if (v === undefined) continue;
      if (!Number.isInteger(v) || (v as number) < 0) err(`${p}.${k}`, ' must be an integer ≥ 0');
      else {
        const have = classCount(cls);
        if ((v as number) > have) err(`${p}.${k}`, `: ${v as number} is more than the ${have} ${cls} formats this profile requires`);
        out[k] = v as number;
      }
    }
    if (rule.minCompleteness !== undefined) {
      const v = rule.minCompleteness;
      if (!isPositive(v) || v > 1) err(`${p}.minCompleteness`, ' must be a number in (0, 1]');
      else out.minCompleteness = v;
    }
    if (rule.requiredFormats !== undefined) {
      const list = rule.requiredFormats;
      if (!Array.isArray(list) || list.length === 0) {
        err(`${p}.requiredFormats`, ' must be a non-empty array of format ids or of arrays of format ids (any one of)');
      } else {
        const checkRequired = (f: unknown, fp: string): boolean => {
          if (!checkFormat(f, fp)) return false;
          if (!reqFormats.has(f)) {
            err(fp, `: format "${f}" has no requirement in this profile`);
            return false;
          }
          return true;
        };
        const formats: RequiredFormat[] = [];
        list.forEach((entry: unknown, j: number) => {
          const ep = `${p}.requiredFormats[${j}]`;
          if (Array.isArray(entry)) {
            if (entry.length < 2) err(ep, ' must list at least two formats when it is an array (any one of)');
            else if (entry.every((f: unknown, k: number) => checkRequired(f, `${ep}[${k}]`))) formats.push([...(entry as string[])]);
          } else if (checkRequired(entry, ep)) formats.push(entry as string);
        });
        out.requiredFormats = formats;
      }
    }
    if (rule.requiredLevels !== undefined) {
      const list = rule.requiredLevels;
      if (!Array.isArray(list) || list.length === 0) err(`${p}.requiredLevels`, ` must be a non-empty array of levels (${LEVELS_TEXT})`);
      else {
        const levels: FormatLevel[] = [];
        list.forEach((l: unknown, j: number) => {
          const lp = `${p}.requiredLevels[${j}]`;
          if (!isLevel(l)) err(lp, ` must be one of ${LEVELS_TEXT}`);
          else if (!reqLevels.has(l)) err(lp, `: no requirement in this profile is at level ${levelText(l)}`);
          else levels.push(l);
        });
        out.requiredLevels = levels;
      }
    }
    return errors.length > before ? null : out;
  }

  // targets
  const targets: Target[] = [];
  if (raw.targets !== undefined) {
    if (!Array.isArray(raw.targets)) err('targets', ' must be an array');
    else {
      raw.targets.forEach((t: unknown, i: number) => {
        const p = `targets[${i}]`;
        if (!isObj(t)) {
          err(p, ' must be an object');
          return;
        }
        const before = errors.length;
        checkKeys(t, TARGET_FIELDS, p, err);
        for (const k of ['indicator', 'value']) if (t[k] === undefined) err(p, `: missing field "${k}"`);
        if (t.indicator !== undefined && !(TARGET_INDICATORS as readonly unknown[]).includes(t.indicator)) {
          err(`${p}.indicator`, ` must be one of ${quoted(TARGET_INDICATORS)}`);
        }
        if (t.value !== undefined && (typeof t.value !== 'number' || !(t.value >= 0 && t.value <= 1))) {
          err(`${p}.value`, ' must be a number in [0, 1] (a share: 0.85 = 85 %)');
        }
        if (t.formats !== undefined) {
          if (!Array.isArray(t.formats) || t.formats.length === 0) err(`${p}.formats`, ' must be a non-empty array of format ids');
          else
            t.formats.forEach((f: unknown, j: number) => {
              if (checkFormat(f, `${p}.formats[${j}]`) && !reqFormats.has(f)) {
                err(`${p}.formats[${j}]`, `: format "${f}" has no requirement in this profile`);
              }
            });
        }
        if (t.level !== undefined && !isLevel(t.level)) err(`${p}.level`, ` must be one of ${LEVELS_TEXT}`);
        if (t.year !== undefined && (!Number.isInteger(t.year) || (t.year as number) < 2000 || (t.year as number) > 2100)) {
          err(`${p}.year`, ' must be a year (integer 2000–2100)');
        }
        if (t.note !== undefined && !isNonEmptyString(t.note)) err(`${p}.note`, ' must be a non-empty string');
        if (errors.length > before) return;
        const target: Target = { indicator: t.indicator as TargetIndicator, value: t.value as number };
        if (t.formats !== undefined) target.formats = [...(t.formats as string[])];
        if (t.level !== undefined) target.level = t.level as FormatLevel;
        if (t.year !== undefined) target.year = t.year as number;
        if (t.note !== undefined) target.note = t.note as string;
        targets.push(target);
      });
    }
  }

  let notes: string[] = [];
  if (raw.notes !== undefined) {
    if (isNonEmptyString(raw.notes)) notes = [raw.notes];
    else if (Array.isArray(raw.notes) && raw.notes.length > 0 && raw.notes.every(isNonEmptyString)) notes = [...(raw.notes as string[])];
    else err('notes', ' must be a string or a non-empty array of non-empty strings');
  }

  if (errors.length > 0) throw new StandardsError(errors);
  const profile: StandardsProfile = {
    id: raw.id as string,
    name: { ...(raw.name as LocalName) },
    source: raw.source as string,
    walkingProfile: raw.walkingProfile as string,
    requirements,
    grades,
    targets,
    notes,
  };
  if (raw.version === 1) profile.version = 1;
  if (isPositive(defaultMinutes)) profile.defaultMinutes = defaultMinutes;
  return profile;
}

function checkKeys(o: Obj, allowed: readonly string[], path: string, err: (path: string, msg: string) => void): void {
  for (const k of Object.keys(o)) {
    if (allowed.includes(k)) continue;
    const hint = suggest(k, allowed.map((id) => ({ id })));
    err(path, `${path ? ': ' : ''}unknown field "${k}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }
}

/**
 * The most likely intended id for a misspelt `input`: an exact (case-insensitive) match of an id or
 * a name, else an id or name containing the input (or an id contained in it; shortest edit distance
 * first), else an id within edit distance max(1, ⌊length/3⌋).
 */
export function suggest(input: string, candidates: readonly { id: string; names?: readonly string[] }[]): string | undefined {
  const q = input.trim().toLowerCase();
  if (q.length === 0) return undefined;
  const byName = candidates.find((c) => c.id.toLowerCase() === q || (c.names ?? []).some((n) => n.toLowerCase() === q));
  if (byName) return byName.id;
  const dist = (c: { id: string }) => levenshtein(q, c.id.toLowerCase());
  const best = (list: readonly { id: string }[]) => [...list].sort((a, b) => dist(a) - dist(b) || a.id.localeCompare(b.id))[0]?.id;
  // containment needs 3 letters, or 2 characters of CJK (食堂 → 社区食堂)
  if (q.length >= 3 || (q.length >= 2 && /[^\u0000-\u007f]/.test(q))) {
    const containing = candidates.filter((c) => {
      const id = c.id.toLowerCase();
      return id.includes(q) || (id.length >= 3 && q.includes(id)) || (c.names ?? []).some((n) => n.toLowerCase().includes(q));
    });
    if (containing.length > 0) return best(containing);
  }
  const close = candidates.filter((c) => dist(c) <= Math.max(1, Math.floor(q.length / 3)));
  return close.length > 0 ? best(close) : undefined;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}
