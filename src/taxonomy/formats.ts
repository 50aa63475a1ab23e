/**
 * The 业态 taxonomy (data/taxonomy/formats.json): loading and validation.
 *
 * Every error names the file, the format (1-based position and id) and the field, e.g.
 *   formats.json: format #7 ("pharmacy"): field "class" must be one of basic, quality, public
 * All problems are collected and reported together (one per line) in a TaxonomyError.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { dataPath } from '../paths.js';

export const FORMAT_CLASSES = ['basic', 'quality', 'public'] as const;
export const FORMAT_LEVELS = ['neighbourhood', 5, 10, 15] as const;
export const MOFCOM_MINUTES = [5, 8, 15] as const;
export const GBT37915_KINDS = ['essential', 'supplementary', 'upgrading'] as const;

/** 基本保障类 / 品质提升类 (MOFCOM 2021) or a public-service facility (GB 50180-2018). */
export type FormatClass = (typeof FORMAT_CLASSES)[number];
/** GB 50180-2018 level: 居住街坊 or the 5 / 10 / 15-minute 生活圈居住区. */
export type FormatLevel = (typeof FORMAT_LEVELS)[number];
/** MOFCOM plain-language walking tier in minutes. */
export type MofcomMinutes = (typeof MOFCOM_MINUTES)[number];
/** GB/T 37915-2019 必备性 / 补充性 / 提升性. */
export type Gbt37915 = (typeof GBT37915_KINDS)[number];

/**
 * One way of recognising a format. Either an OSM rule (has `tags`) or an Amap rule (has
 * `amapTypecodes`), never both. All conditions of a rule must hold.
 */
export interface MatchRule {
  /** OSM: each key must be present with one of the listed values; '*' = any value. */
  tags?: Readonly<Record<string, readonly string[] | '*'>>;
  /** one keyword must occur (case-insensitive) in name / name:zh / name:en / brand (OSM) or the name (Amap). */
  nameAny?: readonly string[];
  /** none of these keywords may occur in those names. */
  notNameAny?: readonly string[];
  /** OSM only: one entry of the ';'-separated cuisine tag must equal one of these. */
  cuisineAny?: readonly string[];
  /** Amap: literal typecode prefixes ('0604' = mid-category, '060700' = exact); '*' = any (needs nameAny). */
  amapTypecodes?: readonly string[];
  /** Amap: typecode prefixes that never match, even when amapTypecodes does. */
  amapExclude?: readonly string[];
}

export interface Format {
  /** snake_case English id, stable: used in saved regions and reports. */
  id: string;
  name: { 'zh-CN': string; en: string };
  class: FormatClass;
  level: FormatLevel;
  mofcomMinutes: MofcomMinutes;
  gbt37915?: Gbt37915;
  /** sources and decisions, in prose. */
  note?: string;
  match: readonly MatchRule[];
}

export interface Taxonomy {
  version: number;
  note?: string | readonly string[];
  /** in file order; classification results follow this order. */
  formats: readonly Format[];
  byId: ReadonlyMap<string, Format>;
}

export class TaxonomyError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(errors.join('\n'));
    this.name = 'TaxonomyError';
  }
}

export const DEFAULT_TAXONOMY_FILE = dataPath('taxonomy', 'formats.json');

/** Read and validate a taxonomy file (default: the bundled data/taxonomy/formats.json). */
/** Parsed taxonomies by file, kept while the file is unchanged (every query and command asks for it). */
const cache = new Map<string, { mtimeMs: number; taxonomy: Taxonomy }>();

export function loadTaxonomy(file: string = DEFAULT_TAXONOMY_FILE): Taxonomy {
  let mtimeMs = -1;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    /* reported by readTaxonomyFile */
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.taxonomy;
  const taxonomy = readTaxonomyFile(file);
  cache.set(file, { mtimeMs, taxonomy });
  return taxonomy;
}

function readTaxonomyFile(file: string): Taxonomy {
  const label = basename(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TaxonomyError([`${label}: cannot read ${file}: ${(e as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TaxonomyError([`${label}: not valid JSON: ${(e as Error).message}`]);
  }
  return parseTaxonomy(raw, label);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;
const isStringList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.length > 0 && v.every(isNonEmptyString);

const TOP_FIELDS = new Set(['version', 'note', 'formats']);
const FORMAT_FIELDS = new Set(['id', 'name', 'class', 'level', 'mofcomMinutes', 'gbt37915', 'note', 'match']);
const REQUIRED_FIELDS = ['id', 'name', 'class', 'level', 'mofcomMinutes', 'match'] as const;
const RULE_FIELDS = new Set(['tags', 'nameAny', 'notNameAny', 'cuisineAny', 'amapTypecodes', 'amapExclude']);
const ID_RE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
const TYPECODE_RE = /^(\d{2}|\d{4}|\d{6})$/;

const oneOf = (values: readonly (string | number)[]): string => values.join(', ');
const quotedOneOf = (values: readonly (string | number)[]): string =>
  values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(', ');

/** Validate an already-parsed taxonomy; `label` prefixes every message (the file name). */
export function parseTaxonomy(raw: unknown, label = 'formats.json'): Taxonomy {
  const errors: string[] = [];
  if (!isObj(raw)) {
    throw new TaxonomyError([`${label}: top level must be an object with "version" and "formats"`]);
  }
  for (const k of Object.keys(raw)) {
    if (!TOP_FIELDS.has(k)) errors.push(`${label}: unknown top-level field "${k}"`);
  }
  const version = raw.version;
  if (version === undefined) errors.push(`${label}: missing field "version"`);
  else if (!Number.isInteger(version) || (version as number) < 1) {
    errors.push(`${label}: field "version" must be a positive integer`);
  }
  const note = raw.note;
  if (note !== undefined && !isNonEmptyString(note) && !isStringList(note)) {
    errors.push(`${label}: field "note" must be a string or an array of strings`);
  }
  const list = raw.formats;
  if (list === undefined) {
    errors.push(`${label}: missing field "formats"`);
    throw new TaxonomyError(errors);
  }
  if (!Array.isArray(list) || list.length === 0) {
    errors.push(`${label}: field "formats" must be a non-empty array`);
    throw new TaxonomyError(errors);
  }

  const formats: Format[] = [];
  const firstIndex = new Map<string, number>();
  list.forEach((f: unknown, i: number) => {
    const fmt = validateFormat(f, i, label, errors);
    if (!fmt) return;
    const prev = firstIndex.get(fmt.id);
    if (prev !== undefined) {
      errors.push(`${label}: format #${i + 1} ("${fmt.id}"): duplicate id, already used by format #${prev + 1}`);
      return;
    }
    firstIndex.set(fmt.id, i);
    formats.push(fmt);
  });
  if (errors.length > 0) throw new TaxonomyError(errors);

  const byId = new Map<string, Format>();
  for (const f of formats) byId.set(f.id, f);
  return {
    version: version as number,
    ...(note !== undefined ? { note: note as string | string[] } : {}),
    formats,
    byId,
  };
}

function validateFormat(f: unknown, i: number, label: string, errors: string[]): Format | null {
  if (!isObj(f)) {
    errors.push(`${label}: format #${i + 1}: must be an object`);
    return null;
  }
  const idOk = isNonEmptyString(f.id);
  const where = idOk ? `${label}: format #${i + 1} ("${f.id as string}")` : `${label}: format #${i + 1}`;
  const before = errors.length;
  const err = (msg: string) => errors.push(`${where}: ${msg}`);

  for (const k of REQUIRED_FIELDS) if (f[k] === undefined) err(`missing field "${k}"`);
  for (const k of Object.keys(f)) if (!FORMAT_FIELDS.has(k)) err(`unknown field "${k}"`);

  if (f.id !== undefined && (typeof f.id !== 'string' || !ID_RE.test(f.id))) {
    err('field "id" must be a snake_case string (a-z, 0-9, _)');
  }
  if (f.name !== undefined) {
    const n = f.name;
    const ok =
      isObj(n) &&
      isNonEmptyString(n['zh-CN']) &&
      isNonEmptyString(n.en) &&
      Object.keys(n).every((k) => k === 'zh-CN' || k === 'en');
    if (!ok) err('field "name" must be an object with non-empty "zh-CN" and "en" strings');
  }
  if (f.class !== undefined && !(FORMAT_CLASSES as readonly unknown[]).includes(f.class)) {
    err(`field "class" must be one of ${oneOf(FORMAT_CLASSES)}`);
  }
  if (f.level !== undefined && !(FORMAT_LEVELS as readonly unknown[]).includes(f.level)) {
    err(`field "level" must be one of ${quotedOneOf(FORMAT_LEVELS)}`);
  }
  if (f.mofcomMinutes !== undefined && !(MOFCOM_MINUTES as readonly unknown[]).includes(f.mofcomMinutes)) {
    err(`field "mofcomMinutes" must be one of ${oneOf(MOFCOM_MINUTES)}`);
  }
  if (f.gbt37915 !== undefined && !(GBT37915_KINDS as readonly unknown[]).includes(f.gbt37915)) {
    err(`field "gbt37915" must be one of ${oneOf(GBT37915_KINDS)}`);
  }
  if (f.note !== undefined && !isNonEmptyString(f.note)) err('field "note" must be a non-empty string');

  const rules: MatchRule[] = [];
  if (f.match !== undefined) {
    if (!Array.isArray(f.match) || f.match.length === 0) {
      err('field "match" must be a non-empty array of rules');
    } else {
      f.match.forEach((r: unknown, j: number) => {
        const rule = validateRule(r, (msg) => err(`match[${j}]: ${msg}`));
        if (rule) rules.push(rule);
      });
    }
  }
  if (errors.length > before) return null;

  const out: Format = {
    id: f.id as string,
    name: { 'zh-CN': (f.name as Obj)['zh-CN'] as string, en: (f.name as Obj).en as string },
    class: f.class as FormatClass,
    level: f.level as FormatLevel,
    mofcomMinutes: f.mofcomMinutes as MofcomMinutes,
    match: rules,
  };
  if (f.gbt37915 !== undefined) out.gbt37915 = f.gbt37915 as Gbt37915;
  if (f.note !== undefined) out.note = f.note as string;
  return out;
}

function validateRule(r: unknown, err: (msg: string) => void): MatchRule | null {
  if (!isObj(r)) {
    err('must be an object');
    return null;
  }
  let ok = true;
  const fail = (msg: string) => {
    ok = false;
    err(msg);
  };
  for (const k of Object.keys(r)) if (!RULE_FIELDS.has(k)) fail(`unknown field "${k}"`);

  const hasTags = r.tags !== undefined;
  const hasAmap = r.amapTypecodes !== undefined;
  if (hasTags && hasAmap) fail('a rule has either "tags" (OSM) or "amapTypecodes" (Amap), not both');
  if (!hasTags && !hasAmap) fail('a rule needs "tags" (OSM) or "amapTypecodes" (Amap)');

  const rule: MatchRule = {};
  if (hasTags) {
    const t = r.tags;
    const entries = isObj(t) ? Object.entries(t) : [];
    const valid =
      entries.length > 0 &&
      entries.every(([k, v]) => k.length > 0 && (v === '*' || isStringList(v)));
    if (!valid) fail('field "tags" must map each key to "*" or a non-empty array of strings');
    else rule.tags = Object.fromEntries(entries.map(([k, v]) => [k, v === '*' ? '*' : [...(v as string[])]]));
  }
  for (const k of ['nameAny', 'notNameAny', 'cuisineAny', 'amapExclude'] as const) {
    const v = r[k];
    if (v === undefined) continue;
    if (!isStringList(v)) fail(`field "${k}" must be a non-empty array of non-empty strings`);
    else rule[k] = [...v];
  }
  if (r.cuisineAny !== undefined && !hasTags) fail('field "cuisineAny" only applies to OSM rules (with "tags")');
  if (r.amapExclude !== undefined && !hasAmap) fail('field "amapExclude" only applies to Amap rules (with "amapTypecodes")');
  if (hasAmap) {
    const codes = r.amapTypecodes;
    const valid =
      Array.isArray(codes) &&
      codes.length > 0 &&
      codes.every((c) => typeof c === 'string' && (c === '*' || TYPECODE_RE.test(c)));
    if (!valid) fail('field "amapTypecodes" must be a non-empty array of 2-, 4- or 6-digit typecode prefixes or "*"');
    else {
      rule.amapTypecodes = [...(codes as string[])];
      if (rule.amapTypecodes.includes('*') && r.nameAny === undefined) {
        fail('field "amapTypecodes" "*" (any typecode) needs "nameAny"');
      }
    }
    if (isStringList(r.amapExclude) && !r.amapExclude.every((c) => TYPECODE_RE.test(c))) {
      fail('field "amapExclude" must hold 2-, 4- or 6-digit typecode prefixes');
    }
  }
  return ok ? rule : null;
}
