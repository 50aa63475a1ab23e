/**
 * Which highway=* ways the walking network uses, loaded from data/walkability.json so the
 * policy is reviewable data, not code. See that file for each rule and its reason.
 */
import { readFileSync } from 'node:fs';
import { dataPath } from '../paths.js';
import type { Tags } from './osm-types.js';

export type WalkRuleResult = { walk: true; classIndex: number; steps: boolean } | { walk: false; rule: string };

interface HighwayEntry {
  walk: 'yes' | 'no' | 'if-foot';
  rule?: string;
  steps?: boolean;
  why: string;
}

export interface WalkabilityTable {
  highway: Record<string, HighwayEntry>;
  footExclude: string[];
  footAllow: string[];
  accessExclude: string[];
}

const FILE = dataPath('walkability.json');

export function loadWalkability(file = FILE): WalkabilityTable {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<WalkabilityTable>;
  if (!raw || typeof raw.highway !== 'object' || raw.highway === null) throw new Error(`${file}: missing "highway" table`);
  for (const k of ['footExclude', 'footAllow', 'accessExclude'] as const) {
    if (!Array.isArray(raw[k])) throw new Error(`${file}: "${k}" must be an array of strings`);
  }
  for (const [value, e] of Object.entries(raw.highway)) {
    if (e.walk !== 'yes' && e.walk !== 'no' && e.walk !== 'if-foot') {
      throw new Error(`${file}: highway "${value}" has walk "${String(e.walk)}"; need "yes", "no" or "if-foot"`);
    }
    if (e.walk !== 'yes' && !e.rule) throw new Error(`${file}: highway "${value}" needs a "rule" id`);
  }
  return raw as WalkabilityTable;
}

const TABLE = loadWalkability();

/** Edge classes: walkable highway values in file order. edgeClass indexes this. */
export const WALK_CLASSES: readonly string[] = Object.entries(TABLE.highway)
  .filter(([, e]) => e.walk !== 'no')
  .map(([k]) => k);
if (WALK_CLASSES.length > 255) throw new Error('walkability.json: more than 255 walkable classes do not fit edgeClass (Uint8)');

interface Compiled {
  walk: 'yes' | 'no' | 'if-foot';
  rule: string;
  classIndex: number;
  steps: boolean;
}
const BY_VALUE = new Map<string, Compiled>(
  Object.entries(TABLE.highway).map(([k, e]) => [
    k,
    { walk: e.walk, rule: e.rule ?? '', classIndex: WALK_CLASSES.indexOf(k), steps: e.steps === true },
  ]),
);
const FOOT_EXCLUDE = new Set(TABLE.footExclude);
const FOOT_ALLOW = new Set(TABLE.footAllow);
const ACCESS_EXCLUDE = new Set(TABLE.accessExclude);

/** Rule id for ways without highway=* (not counted as an exclusion by the importer). */
export const RULE_NOT_HIGHWAY = 'not-highway';
/** Rule id prefix for highway values the table does not list, e.g. "unlisted:highway=bus_stop". */
export const RULE_UNLISTED = 'unlisted:highway=';

/** Decide whether a way is walked. Order of the checks: see "order" in walkability.json. */
export function walkRule(tags: Tags): WalkRuleResult {
  const hw = tags.highway;
  if (hw === undefined) return { walk: false, rule: RULE_NOT_HIGHWAY };
  const c = BY_VALUE.get(hw);
  if (c === undefined) return { walk: false, rule: RULE_UNLISTED + hw };
  if (c.walk === 'no') return { walk: false, rule: c.rule };
  const foot = tags.foot;
  if (foot !== undefined && FOOT_EXCLUDE.has(foot)) return { walk: false, rule: `foot=${foot}` };
  const footOk = foot !== undefined && FOOT_ALLOW.has(foot);
  const access = tags.access;
  if (access !== undefined && ACCESS_EXCLUDE.has(access) && !footOk) return { walk: false, rule: `access=${access}` };
  if (c.walk === 'if-foot' && !footOk) return { walk: false, rule: c.rule };
  return { walk: true, classIndex: c.classIndex, steps: c.steps };
}
