/**
 * Scenario edits: what a user may change on top of an imported region, as plain JSON that the
 * store keeps verbatim. Every edit carries an `id` unique in its scenario so that later edits
 * (and people) can refer to it.
 *
 * parseEdits checks untrusted JSON (a file, an HTTP body, a store row) structurally and the
 * references between edits; every problem names the edit (`edits[3]`, its id and type) and the
 * field. Checks that need the region's network (a point too far from any walkable way, a way id
 * not in the region) are made while applying (apply.ts), which throws the same error type.
 *
 * Example list (WGS-84 degrees):
 *   [{"id": "add-1", "type": "add_facility", "formats": ["pharmacy"], "name": "新药店", "lon": 121.43, "lat": 31.18},
 *    {"id": "move-1", "type": "move_facility", "facility": {"added": "add-1"}, "lon": 121.431, "lat": 31.18},
 *    {"id": "remove-1", "type": "remove_facility", "facility": {"base": 17}},
 *    {"id": "link-1", "type": "add_link", "from": [121.43, 31.18], "to": [121.432, 31.181], "kind": "passage"},
 *    {"id": "close-1", "type": "close_link", "way": 123456}, {"id": "gate-1", "type": "close_gate", "at": [121.43, 31.18]}]
 */
import { suggest } from '../assess/standards.js';
import { loadTaxonomy, type Taxonomy } from '../taxonomy/formats.js';

export type LonLat = [number, number];

/** A facility of the base region (its id there) or one added by an earlier edit (that edit's id). */
export type FacilityRef = { base: number } | { added: string };

export interface AddFacilityEdit {
  id: string;
  type: 'add_facility';
  formats: string[];
  name: string;
  lon: number;
  lat: number;
  tags?: Record<string, string>;
}

export interface MoveFacilityEdit {
  id: string;
  type: 'move_facility';
  facility: FacilityRef;
  lon: number;
  lat: number;
}

export interface RemoveFacilityEdit {
  id: string;
  type: 'remove_facility';
  facility: FacilityRef;
}

export const LINK_KINDS = ['passage', 'crossing', 'gate'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

/** A new straight walkable link; both ends join the network at their nearest point (edges split there). */
export interface AddLinkEdit {
  id: string;
  type: 'add_link';
  from: LonLat;
  to: LonLat;
  name?: string;
  kind: LinkKind;
}

/** Close the network edge nearest `at`, or every edge of an OSM way. */
export type CloseLinkEdit = { id: string; type: 'close_link'; at: LonLat } | { id: string; type: 'close_link'; way: number };

/** Close the network node nearest `at`: its edges stay walkable up to it, nobody passes through. */
export interface CloseGateEdit {
  id: string;
  type: 'close_gate';
  at: LonLat;
}

export type Edit = AddFacilityEdit | MoveFacilityEdit | RemoveFacilityEdit | AddLinkEdit | CloseLinkEdit | CloseGateEdit;
export type EditType = Edit['type'];

export const EDIT_TYPES: readonly EditType[] = ['add_facility', 'move_facility', 'remove_facility', 'add_link', 'close_link', 'close_gate'];
export const NETWORK_EDIT_TYPES: ReadonlySet<EditType> = new Set(['add_link', 'close_link', 'close_gate']);

/** Fields each edit type may carry (anything else is a typo such as "lng" and is refused). */
const FIELDS: Readonly<Record<EditType, readonly string[]>> = {
  add_facility: ['id', 'type', 'formats', 'name', 'lon', 'lat', 'tags'],
  move_facility: ['id', 'type', 'facility', 'lon', 'lat'],
  remove_facility: ['id', 'type', 'facility'],
  add_link: ['id', 'type', 'from', 'to', 'name', 'kind'],
  close_link: ['id', 'type', 'at', 'way'],
  close_gate: ['id', 'type', 'at'],
};

/** More edits than a planner makes by hand or a plan proposes; beyond it a list is a mistake or an attack. */
export const MAX_EDITS = 2000;
export const MAX_NAME_CHARS = 200;
export const MAX_FORMATS_PER_FACILITY = 10;
export const MAX_TAGS = 50;
export const MAX_TAG_KEY_CHARS = 100;
/** OSM's own limit on a tag value. */
export const MAX_TAG_VALUE_CHARS = 255;
/** Problems listed in one error; the rest are counted. */
const MAX_PROBLEMS = 50;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export interface EditProblem {
  /** position in the edit list (0-based), null for the list itself. */
  index: number | null;
  editId: string | null;
  editType: string | null;
  /** path of the field within the edit ("lon", "formats[1]", "facility.base"), null for the whole edit. */
  field: string | null;
  message: string;
}

/** One or more edits are invalid: the message names the first (index, id, field); `problems` lists them all. */
export class ScenarioEditError extends Error {
  readonly problems: readonly EditProblem[];
  readonly index: number | null;
  readonly editId: string | null;
  readonly field: string | null;
  /** problems not listed (beyond MAX_PROBLEMS). */
  readonly more: number;

  constructor(problems: readonly EditProblem[], more = 0) {
    const first = problems[0];
    const others = problems.length - 1 + more;
    super(`${describeProblem(first)}${others > 0 ? ` (and ${others} more problem${others > 1 ? 's' : ''})` : ''}`);
    this.name = 'ScenarioEditError';
    this.problems = problems;
    this.index = first.index;
    this.editId = first.editId;
    this.field = first.field;
    this.more = more;
  }

  /** A single problem with one edit. */
  static at(index: number, edit: { id?: unknown; type?: unknown } | null, field: string | null, message: string): ScenarioEditError {
    return new ScenarioEditError([
      { index, editId: typeof edit?.id === 'string' ? edit.id : null, editType: typeof edit?.type === 'string' ? edit.type : null, field, message },
    ]);
  }
}

/** `edits[3] (add_facility "add-2"): field "lon": must be a number, got a string`. */
export function describeProblem(p: EditProblem): string {
  const where =
    p.index === null
      ? 'edits'
      : `edits[${p.index}]${p.editType || p.editId ? ` (${[p.editType, p.editId !== null ? JSON.stringify(p.editId) : null].filter(Boolean).join(' ')})` : ''}`;
  return `${where}: ${p.field !== null ? `field "${p.field}": ` : ''}${p.message}`;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a value is, for messages ("a string", "null", "an array"). */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? `the number ${v}` : String(v);
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * Control characters, line/paragraph separators, bidirectional overrides and isolates, the BOM,
 * and unpaired surrogates: characters that let a name rewrite how a report line or a terminal
 * reads. Ordinary punctuation, HTML and emoji are text and are escaped where they are shown.
 */
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Problem with a text field, or null when it is fine. */
export function textProblem(v: unknown, maxChars: number, allowEmpty = false): string | null {
  if (typeof v !== 'string') return `must be text, got ${kindOf(v)}`;
  if (!allowEmpty && v.trim() === '') return 'must not be empty';
  const bad = UNSAFE_TEXT.exec(v);
  if (bad) return `contains a control or direction-changing character (U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}) at position ${bad.index}`;
  let chars = 0;
  for (const _ of v) chars++;
  if (chars > maxChars) return `is ${chars} characters long; at most ${maxChars}`;
  return null;
}

export interface ParseEditsOptions {
  taxonomy?: Taxonomy;
  /** facilities in the base region: `{base: id}` must be below it. */
  facilityCount?: number;
}

/** Context while checking one edit: collects problems. */
class Checker {
  readonly problems: EditProblem[] = [];
  more = 0;
  index = 0;
  editId: string | null = null;
  editType: string | null = null;

  add(field: string | null, message: string): void {
    if (this.problems.length >= MAX_PROBLEMS) {
      this.more++;
      return;
    }
    this.problems.push({ index: this.index, editId: this.editId, editType: this.editType, field, message });
  }

  number(o: Obj, field: string, min: number, max: number, label = field): number | null {
    return this.numberValue(o[field], label, min, max);
  }

  numberValue(v: unknown, label: string, min: number, max: number): number | null {
    if (v === undefined) {
      this.add(label, 'is missing');
      return null;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.add(label, `must be a number, got ${kindOf(v)}`);
      return null;
    }
    if (v < min || v > max) {
      this.add(label, `${v} is out of range [${min}, ${max}]`);
      return null;
    }
    return v;
  }

  lonLatPair(o: Obj, field: string): LonLat | null {
    const v = o[field];
    if (v === undefined) {
      this.add(field, 'is missing');
      return null;
    }
    if (!Array.isArray(v) || v.length !== 2) {
      this.add(field, `must be [lon, lat], got ${kindOf(v)}${Array.isArray(v) ? ` of ${v.length} items` : ''}`);
      return null;
    }
    const lon = this.numberValue(v[0], `${field}[0]`, -180, 180);
    const lat = this.numberValue(v[1], `${field}[1]`, -90, 90);
    return lon === null || lat === null ? null : [lon, lat];
  }

  text(o: Obj, field: string, maxChars: number, required: boolean): string | null {
    const v = o[field];
    if (v === undefined) {
      if (required) this.add(field, 'is missing');
      return null;
    }
    const p = textProblem(v, maxChars);
    if (p) {
      this.add(field, p);
      return null;
    }
    return v as string;
  }
}

/**
 * Check an untrusted edit list. Returns fresh, typed copies (unknown fields refused, nothing of
 * the input shared); throws ScenarioEditError listing every problem found.
 *
 * Checked here: shapes, types and ranges of every field; formats against the taxonomy; ids
 * unique; `{added}` refers to an add_facility edit earlier in the list; no edit refers to a
 * facility an earlier edit removed; `{base}` below opts.facilityCount when given.
 */
export function parseEdits(raw: unknown, opts: ParseEditsOptions = {}): Edit[] {
  const c = new Checker();
  if (!Array.isArray(raw)) {
    throw new ScenarioEditError([{ index: null, editId: null, editType: null, field: null, message: `must be a JSON array of edits, got ${kindOf(raw)}` }]);
  }
  if (raw.length > MAX_EDITS) {
    throw new ScenarioEditError([{ index: null, editId: null, editType: null, field: null, message: `${raw.length} edits: at most ${MAX_EDITS} per scenario` }]);
  }
  const taxonomy = opts.taxonomy ?? loadTaxonomy();
  const formatCandidates = taxonomy.formats.map((f) => ({ id: f.id, names: [f.name['zh-CN'], f.name.en] }));
  const seenIds = new Map<string, number>();
  const seenTypes = new Map<string, string | null>();
  /** add_facility edit ids so far → their index. */
  const addedIds = new Map<string, number>();
  /** "base:3" / "added:add-1" → index of the edit that removed it. */
  const removed = new Map<string, number>();
  const out: Edit[] = [];

  const facilityRef = (o: Obj, field: string): FacilityRef | null => {
    const v = o[field];
    if (v === undefined) {
      c.add(field, 'is missing');
      return null;
    }
    if (!isObj(v)) {
      c.add(field, `must be {"base": facility id} or {"added": edit id}, got ${kindOf(v)}`);
      return null;
    }
    const keys = Object.keys(v);
    if (keys.length !== 1 || (keys[0] !== 'base' && keys[0] !== 'added')) {
      c.add(field, `must have exactly one of "base" (a facility id of the region) or "added" (the id of an add_facility edit), got ${keys.length === 0 ? 'no field' : keys.map((k) => `"${k}"`).join(', ')}`);
      return null;
    }
    let ref: FacilityRef;
    let key: string;
    if (keys[0] === 'base') {
      const id = v.base;
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
        c.add(`${field}.base`, `must be a facility id (an integer ≥ 0), got ${kindOf(id)}`);
        return null;
      }
      if (opts.facilityCount !== undefined && id >= opts.facilityCount) {
        c.add(`${field}.base`, `facility ${id} is not in the region (it has ${opts.facilityCount} facilities, ids 0–${opts.facilityCount - 1})`);
        return null;
      }
      ref = { base: id };
      key = `base:${id}`;
    } else {
      const id = v.added;
      if (typeof id !== 'string' || !ID_RE.test(id)) {
        c.add(`${field}.added`, `must be the id of an add_facility edit, got ${kindOf(id)}`);
        return null;
      }
      if (!addedIds.has(id)) {
        const at = seenIds.get(id);
        if (at !== undefined && seenTypes.get(id) === 'add_facility') {
          c.add(`${field}.added`, `edit "${id}" (edits[${at}]) that adds it is invalid`);
          return null;
        }
        const later = (raw as unknown[]).findIndex((e, k) => k > c.index && isObj(e) && e.id === id);
        c.add(
          `${field}.added`,
          at !== undefined
            ? `edit "${id}" (edits[${at}]) is not an add_facility edit`
            : later >= 0
              ? `edit "${id}" comes later (edits[${later}]): a facility must be added before it is referred to`
              : `no add_facility edit has id "${id}"`,
        );
        return null;
      }
      ref = { added: id };
      key = `added:${id}`;
    }
    const gone = removed.get(key);
    if (gone !== undefined) {
      c.add(field, `facility ${'base' in ref ? ref.base : `"${ref.added}"`} was removed by edits[${gone}]`);
      return null;
    }
    return ref;
  };

  for (let i = 0; i < raw.length; i++) {
    const e: unknown = raw[i];
    c.index = i;
    c.editId = null;
    c.editType = null;
    if (!isObj(e)) {
      c.add(null, `must be an object with "id" and "type", got ${kindOf(e)}`);
      continue;
    }
    const type = e.type;
    if (typeof type === 'string' && (EDIT_TYPES as readonly string[]).includes(type)) c.editType = type;
    const id = e.id;
    let idOk = false;
    if (typeof id === 'string' && ID_RE.test(id)) {
      c.editId = id;
      const prev = seenIds.get(id);
      if (prev !== undefined) c.add('id', `"${id}" is already the id of edits[${prev}]; ids must be unique in a scenario`);
      else {
        seenIds.set(id, i);
        seenTypes.set(id, c.editType);
        idOk = true;
      }
    } else if (id === undefined) c.add('id', 'is missing');
    else c.add('id', `must be 1–64 letters, digits or _ . : - (starting with a letter or digit), got ${kindOf(id)}`);
    if (c.editType === null) {
      c.add('type', type === undefined ? `is missing; one of ${EDIT_TYPES.join(', ')}` : `must be one of ${EDIT_TYPES.join(', ')}, got ${kindOf(type)}`);
      continue;
    }
    const t = c.editType as EditType;
    const allowed = FIELDS[t];
    for (const k of Object.keys(e)) if (!allowed.includes(k)) c.add(k, `is not a field of ${t} (fields: ${allowed.join(', ')})`);
    const before = c.problems.length + c.more;
    const editId = idOk ? (id as string) : '';
    let edit: Edit | null = null;
    switch (t) {
      case 'add_facility': {
        const formats: string[] = [];
        const f = e.formats;
        if (f === undefined) c.add('formats', 'is missing');
        else if (!Array.isArray(f) || f.length === 0) c.add('formats', `must be a non-empty array of format ids, got ${kindOf(f)}`);
        else if (f.length > MAX_FORMATS_PER_FACILITY) c.add('formats', `${f.length} formats: at most ${MAX_FORMATS_PER_FACILITY}`);
        else {
          f.forEach((x: unknown, k: number) => {
            if (typeof x !== 'string') return c.add(`formats[${k}]`, `must be a format id, got ${kindOf(x)}`);
            if (!taxonomy.byId.has(x)) {
              const hint = x.length <= 100 ? suggest(x, formatCandidates) : undefined;
              return c.add(`formats[${k}]`, `unknown format ${JSON.stringify(x.length > 60 ? `${x.slice(0, 60)}…` : x)}${hint ? `; did you mean "${hint}"?` : ''} (see \`quarter formats\`)`);
            }
            if (formats.includes(x)) return c.add(`formats[${k}]`, `"${x}" is listed twice`);
            formats.push(x);
          });
        }
        const name = c.text(e, 'name', MAX_NAME_CHARS, true);
        const lon = c.number(e, 'lon', -180, 180);
        const lat = c.number(e, 'lat', -90, 90);
        let tags: Record<string, string> | undefined;
        if (e.tags !== undefined) {
          if (!isObj(e.tags)) c.add('tags', `must be an object of text values, got ${kindOf(e.tags)}`);
          else {
            const entries = Object.entries(e.tags);
            if (entries.length > MAX_TAGS) c.add('tags', `${entries.length} tags: at most ${MAX_TAGS}`);
            else {
              tags = {};
              for (const [k, v] of entries) {
                const pk = textProblem(k, MAX_TAG_KEY_CHARS);
                if (pk) {
                  c.add('tags', `key ${JSON.stringify(k.slice(0, 40))} ${pk}`);
                  continue;
                }
                const pv = textProblem(v, MAX_TAG_VALUE_CHARS, true);
                if (pv) {
                  c.add(`tags.${k}`, pv);
                  continue;
                }
                tags[k] = v as string;
              }
            }
          }
        }
        if (idOk && typeof e.name === 'string' && name !== null && lon !== null && lat !== null) {
          edit = { id: editId, type: 'add_facility', formats, name, lon, lat, ...(tags ? { tags } : {}) };
        }
        break;
      }
      case 'move_facility': {
        const facility = facilityRef(e, 'facility');
        const lon = c.number(e, 'lon', -180, 180);
        const lat = c.number(e, 'lat', -90, 90);
        if (facility && lon !== null && lat !== null) edit = { id: editId, type: 'move_facility', facility, lon, lat };
        break;
      }
      case 'remove_facility': {
        const facility = facilityRef(e, 'facility');
        if (facility) {
          edit = { id: editId, type: 'remove_facility', facility };
          if (c.problems.length + c.more === before) removed.set('base' in facility ? `base:${facility.base}` : `added:${facility.added}`, i);
        }
        break;
      }
      case 'add_link': {
        const from = c.lonLatPair(e, 'from');
        const to = c.lonLatPair(e, 'to');
        const name = c.text(e, 'name', MAX_NAME_CHARS, false);
        const kind = e.kind;
        if (kind === undefined) c.add('kind', `is missing; one of ${LINK_KINDS.join(', ')}`);
        else if (!(LINK_KINDS as readonly unknown[]).includes(kind)) c.add('kind', `must be one of ${LINK_KINDS.join(', ')}, got ${kindOf(kind)}`);
        if (from && to) {
          if (from[0] === to[0] && from[1] === to[1]) c.add('to', 'is the same point as "from"');
          else edit = { id: editId, type: 'add_link', from, to, kind: kind as LinkKind, ...(name !== null ? { name } : {}) };
        }
        break;
      }
      case 'close_link': {
        const hasAt = e.at !== undefined;
        const hasWay = e.way !== undefined;
        if (hasAt === hasWay) {
          c.add(hasAt ? 'way' : 'at', hasAt ? 'give either "at" or "way", not both' : 'is missing: give "at": [lon, lat] (the link nearest it) or "way": OSM way id');
          break;
        }
        if (hasAt) {
          const at = c.lonLatPair(e, 'at');
          if (at) edit = { id: editId, type: 'close_link', at };
        } else {
          const way = e.way;
          if (typeof way !== 'number' || !Number.isSafeInteger(way) || way <= 0) c.add('way', `must be an OSM way id (a positive integer), got ${kindOf(way)}`);
          else edit = { id: editId, type: 'close_link', way };
        }
        break;
      }
      case 'close_gate': {
        const at = c.lonLatPair(e, 'at');
        if (at) edit = { id: editId, type: 'close_gate', at };
        break;
      }
    }
    if (edit && idOk && c.problems.length + c.more === before) {
      out.push(edit);
      if (edit.type === 'add_facility') addedIds.set(edit.id, i);
    }
  }
  if (c.problems.length > 0) throw new ScenarioEditError(c.problems, c.more);
  return out;
}

/** Prefix of generated edit ids per type ("add-3"). */
export const ID_PREFIX: Readonly<Record<EditType, string>> = {
  add_facility: 'add-',
  move_facility: 'move-',
  remove_facility: 'remove-',
  add_link: 'link-',
  close_link: 'close-',
  close_gate: 'gate-',
};

/** A fresh id `prefix + n`, n one more than the largest already used with that prefix. */
export function nextEditId(taken: Iterable<string>, prefix: string): string {
  let max = 0;
  const set = new Set(taken);
  for (const id of set) {
    if (!id.startsWith(prefix)) continue;
    const n = Number(id.slice(prefix.length));
    if (Number.isSafeInteger(n) && n > max) max = n;
  }
  let k = max + 1;
  while (set.has(`${prefix}${k}`)) k++;
  return `${prefix}${k}`;
}

/** True for an edit that changes the walking network (the graph is rebuilt). */
export const isNetworkEdit = (e: Edit): boolean => NETWORK_EDIT_TYPES.has(e.type);
