/**
 * Tags → format ids, compiled once from the taxonomy.
 *
 * The importer calls the classifier for every tagged OSM object, so the rules are indexed by
 * an "anchor" tag key (the first key of a rule with explicit values, else its first key) and
 * value: each of the object's keys (about 3 on average) is looked up once in that index, and
 * only rules whose anchor tag and value the object has are checked further. Most objects
 * (highways, barriers, buildings without names) are rejected after those few lookups.
 */
import type { Tags } from '../ingest/osm-types.js';
import type { MatchRule, Taxonomy } from './formats.js';

export interface Classifier {
  /** format ids the tags match, in taxonomy order, without duplicates. */
  (tags: Tags): string[];
  /** cheap predicate: exactly `classify(tags).length > 0`, stopping at the first matching rule. */
  hasAnyFormat(tags: Tags): boolean;
  /**
   * Amap POI → format ids (taxonomy order). `typecode` may hold several codes separated by
   * '|' (as Amap exports do); `name` is the POI name.
   */
  classifyAmap(typecode: string, name: string): string[];
  /** all format ids, in taxonomy order. */
  readonly formatIds: readonly string[];
}

/** OSM name tags searched by nameAny / notNameAny. */
export const NAME_KEYS = ['name', 'name:zh', 'name:zh-Hans', 'name:zh-Hant', 'name:en', 'brand'] as const;

interface TagCondition {
  key: string;
  /** null = any value. */
  values: ReadonlySet<string> | null;
}

interface CompiledOsmRule {
  format: number;
  /** conditions besides the anchor. */
  others: TagCondition[];
  cuisineAny: ReadonlySet<string> | null;
  nameAny: string[] | null;
  notNameAny: string[] | null;
}

interface Anchor {
  key: string;
  byValue: Map<string, CompiledOsmRule[]>;
  /** rules accepting any value of the anchor key. */
  anyValue: CompiledOsmRule[];
}

interface CompiledAmapRule {
  format: number;
  /** null = any typecode. */
  prefixes: string[] | null;
  exclude: string[];
  nameAny: string[] | null;
  notNameAny: string[] | null;
}

const normKeyword = (s: string): string => s.normalize('NFC').toLowerCase();
/** OSM text is NFC already; only lower-case it (normalising every name would cost more than the rest). */
const normName = (s: string): string => s.toLowerCase();

/** Does one value (or one part of a ';'-separated value) belong to the set? */
function valueIn(v: string, set: ReadonlySet<string>): boolean {
  if (set.has(v)) return true;
  if (v.indexOf(';') < 0) return false;
  for (const part of v.split(';')) if (set.has(part.trim())) return true;
  return false;
}

function containsAny(haystacks: readonly string[], needles: readonly string[]): boolean {
  for (const h of haystacks) for (const n of needles) if (h.includes(n)) return true;
  return false;
}

/** Per-call cache of the lower-cased names, computed only when a name rule is reached. */
interface CallState {
  names: string[] | null;
}

/** tags[k] through hasOwn: cheap for absent keys, which are the common case here. */
const own = (tags: Tags, k: string): string | undefined => (Object.hasOwn(tags, k) ? tags[k] : undefined);

function osmNames(tags: Tags): string[] {
  const out: string[] = [];
  for (const k of NAME_KEYS) {
    const v = own(tags, k);
    if (v !== undefined && v.length > 0) out.push(normName(v));
  }
  return out;
}

function ruleHolds(r: CompiledOsmRule, tags: Tags, st: CallState): boolean {
  for (const c of r.others) {
    const v = own(tags, c.key);
    if (v === undefined) return false;
    if (c.values !== null && !valueIn(v, c.values)) return false;
  }
  if (r.cuisineAny !== null) {
    const c = own(tags, 'cuisine');
    if (c === undefined) return false;
    let hit = false;
    for (const part of c.split(';')) {
      if (r.cuisineAny.has(part.trim().toLowerCase())) {
        hit = true;
        break;
      }
    }
    if (!hit) return false;
  }
  if (r.nameAny !== null || r.notNameAny !== null) {
    const names = (st.names ??= osmNames(tags));
    if (r.nameAny !== null && !containsAny(names, r.nameAny)) return false;
    if (r.notNameAny !== null && containsAny(names, r.notNameAny)) return false;
  }
  return true;
}

function compileOsmRule(format: number, rule: MatchRule, anchors: Map<string, Anchor>): void {
  const tags = rule.tags!;
  const keys = Object.keys(tags);
  const anchorKey = keys.find((k) => tags[k] !== '*') ?? keys[0];
  const others: TagCondition[] = keys
    .filter((k) => k !== anchorKey)
    .map((k) => {
      const v = tags[k];
      return { key: k, values: v === '*' ? null : new Set(v) };
    });
  const compiled: CompiledOsmRule = {
    format,
    others,
    cuisineAny: rule.cuisineAny ? new Set(rule.cuisineAny.map((c) => c.toLowerCase())) : null,
    nameAny: rule.nameAny ? rule.nameAny.map(normKeyword) : null,
    notNameAny: rule.notNameAny ? rule.notNameAny.map(normKeyword) : null,
  };
  let a = anchors.get(anchorKey);
  if (!a) {
    a = { key: anchorKey, byValue: new Map(), anyValue: [] };
    anchors.set(anchorKey, a);
  }
  const av = tags[anchorKey];
  if (av === '*') a.anyValue.push(compiled);
  else {
    for (const v of av) {
      const list = a.byValue.get(v);
      if (list) list.push(compiled);
      else a.byValue.set(v, [compiled]);
    }
  }
}

export function compileClassifier(taxonomy: Taxonomy): Classifier {
  const ids = taxonomy.formats.map((f) => f.id);
  const anchorMap = new Map<string, Anchor>();
  const amapRules: CompiledAmapRule[] = [];
  taxonomy.formats.forEach((f, i) => {
    for (const rule of f.match) {
      if (rule.tags) compileOsmRule(i, rule, anchorMap);
      else if (rule.amapTypecodes) {
        amapRules.push({
          format: i,
          prefixes: rule.amapTypecodes.includes('*') ? null : [...rule.amapTypecodes],
          exclude: rule.amapExclude ? [...rule.amapExclude] : [],
          nameAny: rule.nameAny ? rule.nameAny.map(normKeyword) : null,
          notNameAny: rule.notNameAny ? rule.notNameAny.map(normKeyword) : null,
        });
      }
    }
  });
  const nFormats = ids.length;
  // Scratch marks for de-duplication; safe because a call never yields midway.
  const seen = new Uint8Array(nFormats);

  // Per-call state, reset at the start of each scan (calls never interleave: no awaits).
  const st: CallState = { names: null };

  let anyHit = false;

  /** Checks one candidate list, marking `seen`; true only when `first` and a rule matched. */
  function check(list: CompiledOsmRule[], tags: Tags, first: boolean): boolean {
    for (let r = 0; r < list.length; r++) {
      const rule = list[r];
      if (seen[rule.format] === 1) continue;
      if (!ruleHolds(rule, tags, st)) continue;
      if (first) return true;
      seen[rule.format] = 1;
      anyHit = true;
    }
    return false;
  }

  /** Walks the candidate rules; stops at the first match when `first`, else marks `seen`. */
  function scan(tags: Tags, first: boolean): boolean {
    st.names = null;
    anyHit = false;
    // Walk the object's own keys (3 on average) rather than probe each anchor key: looking up
    // absent keys on objects of many shapes is several times slower in V8.
    for (const k in tags) {
      const a = anchorMap.get(k);
      if (a === undefined) continue;
      const v = tags[k];
      if (typeof v !== 'string') continue;
      if (a.anyValue.length > 0 && check(a.anyValue, tags, first)) return true;
      const list = a.byValue.get(v);
      if (list !== undefined) {
        if (check(list, tags, first)) return true;
      } else if (v.indexOf(';') >= 0) {
        for (const part of v.split(';')) {
          const l = a.byValue.get(part.trim());
          if (l !== undefined && check(l, tags, first)) return true;
        }
      }
    }
    return anyHit;
  }

  function collect(): string[] {
    const out: string[] = [];
    for (let i = 0; i < nFormats; i++) {
      if (seen[i] === 1) {
        out.push(ids[i]);
        seen[i] = 0;
      }
    }
    return out;
  }

  const classify = ((tags: Tags): string[] => {
    let matched: boolean;
    try {
      matched = scan(tags, false);
    } catch (e) {
      seen.fill(0); // e.g. a non-string tag value from a malformed caller: leave no marks behind
      throw e;
    }
    return matched ? collect() : [];
  }) as Classifier;

  const hasAnyFormat = (tags: Tags): boolean => scan(tags, true);

  const classifyAmap = (typecode: string, name: string): string[] => {
    const codes = typecode
      .split(/[|;,]/)
      .map((c) => c.trim())
      .filter((c) => c.length > 0);
    const lname = [normKeyword(name)];
    const hit = new Uint8Array(nFormats);
    for (const r of amapRules) {
      if (hit[r.format] === 1) continue;
      let codeOk: boolean;
      if (r.prefixes === null) codeOk = true;
      else {
        codeOk = codes.some(
          (c) => r.prefixes!.some((p) => c.startsWith(p)) && !r.exclude.some((e) => c.startsWith(e)),
        );
      }
      if (!codeOk) continue;
      if (r.nameAny !== null && !containsAny(lname, r.nameAny)) continue;
      if (r.notNameAny !== null && containsAny(lname, r.notNameAny)) continue;
      hit[r.format] = 1;
    }
    const out: string[] = [];
    for (let i = 0; i < nFormats; i++) if (hit[i] === 1) out.push(ids[i]);
    return out;
  };

  Object.defineProperties(classify, {
    hasAnyFormat: { value: hasAnyFormat, enumerable: true },
    classifyAmap: { value: classifyAmap, enumerable: true },
    formatIds: { value: Object.freeze([...ids]), enumerable: true },
  });
  return classify;
}
