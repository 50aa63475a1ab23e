/**
 * Scenarios in a store: every write checks the whole edit list against the region first (shape,
 * references, distances to the network — a dry run of applyScenario), so an invalid edit is
 * never saved; an update names the version it read, so a concurrent edit is never lost
 * (VersionConflictError from the store).
 */
import type { Region } from '../region/region.js';
import type { ScenarioRecord, ScenarioStore } from '../store/store.js';
import type { Taxonomy } from '../taxonomy/formats.js';
import { applyScenarioDetailed } from './apply.js';
import { ID_PREFIX, nextEditId, parseEdits, ScenarioEditError, type Edit, type EditType } from './edits.js';
import { evaluateScenario, type EvaluateOptions, type ScenarioEvaluation } from './evaluate.js';

/** The scenario belongs to another region than the one given. */
export class ScenarioRegionError extends Error {
  constructor(
    readonly scenario: string,
    readonly scenarioRegion: string,
    readonly regionName: string,
  ) {
    super(`scenario "${scenario}" is for region "${scenarioRegion}", not "${regionName}"`);
    this.name = 'ScenarioRegionError';
  }
}

/** Parse and dry-run the edits on the region; throws ScenarioEditError naming the first bad edit. */
export function validateScenarioEdits(region: Region, edits: readonly unknown[], opts: { taxonomy?: Taxonomy } = {}): Edit[] {
  const parsed = parseEdits(edits, { taxonomy: opts.taxonomy, facilityCount: region.facilities.length });
  applyScenarioDetailed(region, parsed, opts);
  return parsed;
}

export interface CreateScenarioInput {
  name: string;
  description?: string;
  edits?: readonly unknown[];
  actor?: string | null;
}

export async function createScenario(store: ScenarioStore, region: Region, input: CreateScenarioInput, opts: { taxonomy?: Taxonomy } = {}): Promise<ScenarioRecord> {
  const edits = validateScenarioEdits(region, input.edits ?? [], opts);
  return store.createScenario({ region: region.meta.name, name: input.name, description: input.description ?? '', edits, actor: input.actor ?? null });
}

/** Replace the edits of `current` (as read, with its version) after checking them against the region. */
export async function saveScenarioEdits(
  store: ScenarioStore,
  region: Region,
  current: ScenarioRecord,
  edits: readonly unknown[],
  opts: { description?: string; actor?: string | null; taxonomy?: Taxonomy } = {},
): Promise<ScenarioRecord> {
  if (current.region !== region.meta.name) throw new ScenarioRegionError(current.name, current.region, region.meta.name);
  const parsed = validateScenarioEdits(region, edits, opts);
  return store.updateScenario(current.id, current.version, { edits: parsed, ...(opts.description !== undefined ? { description: opts.description } : {}) }, opts.actor ?? null);
}

/** An edit to append: its id may be left out (one is made up: add-3, link-1, …). */
export type NewEdit = (Edit extends infer E ? (E extends Edit ? Omit<E, 'id'> : never) : never) & { id?: string };

/**
 * Read the scenario, drop the edits with ids in `drop`, append `add` (ids made up where missing)
 * and save with the version read. Returns the saved record.
 */
export async function appendScenarioEdits(
  store: ScenarioStore,
  region: Region,
  name: string,
  add: readonly NewEdit[],
  opts: { drop?: readonly string[]; actor?: string | null; taxonomy?: Taxonomy } = {},
): Promise<ScenarioRecord> {
  const current = await store.getScenario({ region: region.meta.name, name });
  const edits: unknown[] = [...current.edits];
  const idOf = (e: unknown): unknown => (typeof e === 'object' && e !== null ? (e as { id?: unknown }).id : undefined);
  for (const id of opts.drop ?? []) {
    const k = edits.findIndex((e) => idOf(e) === id);
    if (k < 0) {
      throw new ScenarioEditError([{ index: null, editId: id, editType: null, field: null, message: `scenario "${name}" has no edit "${id}" to drop` }]);
    }
    edits.splice(k, 1);
  }
  for (const e of add) {
    const taken = edits.map(idOf).filter((x): x is string => typeof x === 'string');
    edits.push({ ...e, id: e.id ?? nextEditId(taken, ID_PREFIX[e.type as EditType] ?? 'edit-') });
  }
  return saveScenarioEdits(store, region, current, edits, opts);
}

/** Evaluate a stored scenario against the region it was made for. */
export async function evaluateStoredScenario(
  store: ScenarioStore,
  region: Region,
  ref: number | string,
  opts: EvaluateOptions,
): Promise<{ record: ScenarioRecord; evaluation: ScenarioEvaluation }> {
  const record = await store.getScenario(typeof ref === 'number' ? ref : { region: region.meta.name, name: ref });
  if (record.region !== region.meta.name) throw new ScenarioRegionError(record.name, record.region, region.meta.name);
  return { record, evaluation: evaluateScenario(region, record.edits, opts) };
}
