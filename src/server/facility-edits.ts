/**
 * The region the server answers from: the imported (base) region plus the planners' facility
 * edits from the store. Each facility has a stable `ref` — its id in the base region ("17") or,
 * for one added over the API, the ref chosen when it was added ("added-…") — and a version (how
 * many edits it has had), which the next edit must name.
 *
 * A facility's history folds to its current state; the states become scenario edits
 * (add_facility, move_facility, remove_facility) applied through applyScenario, so an edited
 * facility is snapped by the import's rule, exactly as a scenario's would be. A new name or new
 * formats of an imported facility are not a scenario edit; they are set on the applied region's
 * facility afterwards (its position and snap are untouched by them).
 *
 * Ids in the served region are positions in its facility list: removing a facility renumbers
 * those after it. Refs do not change.
 */
import type { Region, Facility } from '../region/region.js';
import { applyScenarioDetailed } from '../scenario/apply.js';
import { ScenarioEditError, type Edit } from '../scenario/edits.js';
import type { FacilityEditRecord } from '../store/store.js';
import type { Taxonomy } from '../taxonomy/formats.js';

/** Refs of facilities added over the API: "added-" and 12 hex digits (also a valid scenario edit id). */
export const ADDED_REF = /^added-[0-9a-f]{12}$/;
/** A ref in a URL: a base facility id or an added ref. */
export const FACILITY_REF_PATTERN = '^(?:0|[1-9][0-9]{0,8}|added-[0-9a-f]{12})$';

export interface AddFacilityData {
  formats: string[];
  name: string;
  lon: number;
  lat: number;
  tags?: Record<string, string>;
}

export interface EditFacilityData {
  name?: string;
  formats?: string[];
  lon?: number;
  lat?: number;
}

/** A facility's history folded: what it is now. */
export interface FacilityState {
  ref: string;
  /** id in the base region; null for an added facility. */
  base: number | null;
  removed: boolean;
  /** edits so far (0: never edited). */
  version: number;
  /** set when the history gives them (always for an added facility). */
  name?: string;
  formats?: string[];
  lon?: number;
  lat?: number;
  tags?: Record<string, string>;
}

export interface EffectiveRegion {
  region: Region;
  /** per facility of `region`: its ref. */
  refs: string[];
  /** ref → facility id in `region` (removed facilities absent). */
  idOf: Map<string, number>;
  /** every ref with edits, removed ones included. */
  states: Map<string, FacilityState>;
  /** edits that could not be applied (a region re-imported under them, say): skipped, with why. */
  warnings: string[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** The facility a ref names in the base region, or null when the ref is not a base id. */
export function baseIdOf(ref: string, base: Region): number | null {
  if (!/^(?:0|[1-9][0-9]{0,8})$/.test(ref)) return null;
  const id = Number(ref);
  return id < base.facilities.length ? id : null;
}

/** Fold the edit records (id order) into one state per ref; malformed records are skipped with a warning. */
export function foldFacilityEdits(base: Region, records: readonly FacilityEditRecord[], warnings: string[] = []): Map<string, FacilityState> {
  const states = new Map<string, FacilityState>();
  for (const r of records) {
    const skip = (why: string): void => void warnings.push(`facility edit ${r.id} (${r.kind} of "${r.facilityRef}") skipped: ${why}`);
    let s = states.get(r.facilityRef);
    if (r.kind === 'add') {
      const d = r.data;
      if (s) {
        skip('the facility exists already');
        continue;
      }
      if (!ADDED_REF.test(r.facilityRef)) {
        skip('not a ref for an added facility');
        continue;
      }
      if (!isObj(d) || !isStrings(d.formats) || typeof d.name !== 'string' || typeof d.lon !== 'number' || typeof d.lat !== 'number') {
        skip('the data is not {formats, name, lon, lat}');
        continue;
      }
      states.set(r.facilityRef, {
        ref: r.facilityRef,
        base: null,
        removed: false,
        version: r.version,
        formats: [...d.formats],
        name: d.name,
        lon: d.lon,
        lat: d.lat,
        ...(isObj(d.tags) ? { tags: d.tags as Record<string, string> } : {}),
      });
      continue;
    }
    if (!s) {
      const b = baseIdOf(r.facilityRef, base);
      if (b === null) {
        skip('no such facility');
        continue;
      }
      states.set(r.facilityRef, (s = { ref: r.facilityRef, base: b, removed: false, version: 0 }));
    }
    if (s.removed) {
      skip('the facility was removed before');
      continue;
    }
    if (r.kind === 'delete') {
      s.removed = true;
      s.version = r.version;
      continue;
    }
    const d = r.data;
    if (!isObj(d)) {
      skip('the data is not an object');
      continue;
    }
    if (typeof d.name === 'string') s.name = d.name;
    if (isStrings(d.formats)) s.formats = [...d.formats];
    if (typeof d.lon === 'number' && typeof d.lat === 'number') {
      s.lon = d.lon;
      s.lat = d.lat;
    }
    s.version = r.version;
  }
  return states;
}

/** The scenario edits a set of states stands for, and which ref each edit came from. */
function statesToEdits(states: ReadonlyMap<string, FacilityState>): { edits: Edit[]; refOfEdit: string[] } {
  const edits: Edit[] = [];
  const refOfEdit: string[] = [];
  for (const s of states.values()) {
    if (s.base !== null) {
      if (s.removed) edits.push({ id: `remove-${s.ref}`, type: 'remove_facility', facility: { base: s.base } });
      else if (s.lon !== undefined && s.lat !== undefined) edits.push({ id: `move-${s.ref}`, type: 'move_facility', facility: { base: s.base }, lon: s.lon, lat: s.lat });
      else continue;
    } else {
      if (s.removed) continue;
      edits.push({
        id: s.ref,
        type: 'add_facility',
        formats: s.formats ?? [],
        name: s.name ?? '',
        lon: s.lon ?? NaN,
        lat: s.lat ?? NaN,
        ...(s.tags ? { tags: s.tags } : {}),
      });
    }
    refOfEdit.push(s.ref);
  }
  return { edits, refOfEdit };
}

/** An edit of one facility is invalid; `field` names the request field (name, formats, lon, …). */
export class FacilityEditError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'FacilityEditError';
  }
}

/**
 * The base region with the folded states applied. An edit that does not apply is dropped with a
 * warning — unless it belongs to `strictRef` (the facility being edited right now): then a
 * FacilityEditError names the field at fault and nothing is returned.
 */
export function applyFacilityStates(
  base: Region,
  states: Map<string, FacilityState>,
  opts: { taxonomy?: Taxonomy; strictRef?: string; warnings?: string[] } = {},
): EffectiveRegion {
  const warnings = opts.warnings ?? [];
  const dropped = new Set<string>();
  for (;;) {
    const live = new Map([...states].filter(([ref]) => !dropped.has(ref)));
    const { edits, refOfEdit } = statesToEdits(live);
    const overrides = [...live.values()].some((s) => s.base !== null && !s.removed && (s.name !== undefined || s.formats !== undefined));
    if (edits.length === 0 && !overrides) {
      return { region: base, refs: base.facilities.map((f) => String(f.id)), idOf: new Map(base.facilities.map((f) => [String(f.id), f.id])), states, warnings };
    }
    let applied;
    try {
      applied = applyScenarioDetailed(base, edits, { taxonomy: opts.taxonomy });
    } catch (err) {
      if (!(err instanceof ScenarioEditError) || err.index === null) throw err;
      const ref = refOfEdit[err.index];
      const problem = err.problems[0];
      if (ref === opts.strictRef) throw new FacilityEditError(problem.field?.replace(/\[.*$/, '') ?? 'body', problem.message);
      warnings.push(`edits of facility "${ref}" skipped: ${problem.field ? `${problem.field}: ` : ''}${problem.message}`);
      dropped.add(ref);
      continue;
    }
    const region = applied.region;
    const refs: string[] = new Array<string>(region.facilities.length);
    const addedRef = new Map<number, string>([...applied.addedFacilityIds].map(([editId, id]) => [id, editId]));
    for (let id = 0; id < region.facilities.length; id++) {
      const b = applied.facilityBaseId[id];
      refs[id] = b >= 0 ? String(b) : (addedRef.get(id) ?? `new-${id}`);
    }
    // names and formats of imported facilities: on a copy of the list (the base's objects are shared)
    if (overrides) {
      const facilities: Facility[] = region.facilities.slice();
      for (const s of live.values()) {
        if (s.base === null || s.removed || (s.name === undefined && s.formats === undefined)) continue;
        const id = applied.baseFacilityMap[s.base];
        if (id < 0) continue;
        const f = facilities[id];
        facilities[id] = { ...f, ...(s.name !== undefined ? { name: s.name } : {}), ...(s.formats !== undefined ? { formats: [...s.formats] } : {}) };
      }
      region.facilities = facilities;
    }
    return { region, refs, idOf: new Map(refs.map((r, i) => [r, i])), states, warnings };
  }
}

/** The served region for the store's facility edit records. */
export function effectiveRegion(base: Region, records: readonly FacilityEditRecord[], opts: { taxonomy?: Taxonomy } = {}): EffectiveRegion {
  const warnings: string[] = [];
  const states = foldFacilityEdits(base, records, warnings);
  return applyFacilityStates(base, states, { taxonomy: opts.taxonomy, warnings });
}
