/**
 * `quarter scenario …`: named sets of edits (方案) on top of a region, kept in the store
 * (--db, default $QUARTER_DB or out/quarter.db) and evaluated against the base region.
 *
 *   create <name> [--description] [--from-plan plan.geojson] [--edits edits.json]
 *   edit <name> --add-facility "format[,format]@lon,lat[:name]" | --move-facility "id@lon,lat" |
 *               --remove-facility id | --add-link "lon,lat;lon,lat" | --close-link lon,lat|way:ID |
 *               --close-gate lon,lat | --edits file.json | --drop-edit <edit id>   (each repeatable)
 *   evaluate <name> [--profile P] [--out file.json|.geojson|.csv] [--json]
 *   list · show <name> · delete <name>
 *
 * Every edit list is checked against the region before it is written: a scenario with an
 * invalid edit is never saved. An edit writes with the version it read; when someone else saved
 * in between, nothing is written and the command exits 5 saying so.
 * Exit codes: 2 bad flag / unknown or taken scenario name; 3 unreadable or invalid file (an
 * --edits or plan file, the database, a stored edit that no longer fits the region); 5 the
 * write was refused (version conflict) or an output file could not be written.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { MomentError } from '../../assess/opening-hours.js';
import { listStandardsProfiles, loadStandardsProfile, StandardsError, suggest, type StandardsProfile } from '../../assess/standards.js';
import { ZoneFileError } from '../../assess/zones.js';
import { CompoundListError } from '../../assess/compound-residences.js';
import { UTF8_BOM, csvRow } from '../../report/csv.js';
import type { Region } from '../../region/region.js';
import { describeProblem, ID_PREFIX, LINK_KINDS, nextEditId, ScenarioEditError, textProblem, type Edit, type FacilityRef, type LinkKind } from '../../scenario/edits.js';
import { createScenario, saveScenarioEdits, validateScenarioEdits } from '../../scenario/scenarios.js';
import { editsFromPlan, evaluateScenario, evaluationToJson, PlanDocumentError, type ScenarioEvaluation } from '../../scenario/evaluate.js';
import { describeStoreSpec, isPostgresSpec, openStore, storeBackendOf } from '../../store/open-store.js';
import {
  DuplicateNameError,
  NotFoundError,
  StoreInputError,
  StoreOpenError,
  VersionConflictError,
  type QuarterStore,
  type ScenarioRecord,
} from '../../store/store.js';
import { loadTaxonomy, type Taxonomy } from '../../taxonomy/formats.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { printJson, round, writeOutput } from '../output.js';
import { parseLonLat, parseNumber } from '../parse.js';
import { makeProgress } from '../progress.js';
import { loadRegionFlag, regionPath } from '../region-option.js';
import { padDisplay } from '../text.js';

export const DEFAULT_DB = 'out/quarter.db';
const DEFAULT_PROFILE = 'mofcom-2021';
/** Formats listed in the text summary when none changed. */
const FORMATS_LISTED = 12;

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

interface StoreFlags {
  db?: string;
  json?: boolean;
}
interface RegionFlags extends StoreFlags {
  region?: string;
}

export function dbPath(flag?: string): string {
  return flag ?? process.env.QUARTER_DB ?? DEFAULT_DB;
}

export function registerScenario(program: Command): void {
  const sc = program.command('scenario').description('scenarios 方案: named sets of edits (new facilities, links, closures) on top of a region, evaluated against it');
  const dbOpt = ['--db <file|url>', `scenario database: an SQLite file or a postgres:// URL (default $QUARTER_DB, else ${DEFAULT_DB})`] as const;
  const regionOpt = ['-r, --region <file>', 'region file (default $QUARTER_REGION, else out/demo.quarter)'] as const;

  sc.command('create')
    .description('create a scenario, optionally from a plan result and/or an edits file')
    .argument('<name>', 'scenario name (unique within the region)')
    .option(...regionOpt)
    .option(...dbOpt)
    .option('--description <text>', 'what the scenario tries')
    .option('--from-plan <plan.geojson>', 'start from the chosen sites of a plan result (add_facility edits)')
    .option('--edits <edits.json>', 'edits to start with (a JSON array, or {"edits": [...]})')
    .option('--json', 'print the saved scenario as JSON')
    .action(async (name: string, flags: RegionFlags & { description?: string; fromPlan?: string; edits?: string }) => {
      checkScenarioName(name);
      if (flags.description !== undefined) checkDescription(flags.description);
      const taxonomy = loadTaxonomy();
      const region = loadRegionFlag(flags.region);
      const edits: unknown[] = [];
      const sources: EditSource[] = [];
      if (flags.fromPlan !== undefined) {
        const plan = editsFromPlanFile(flags.fromPlan, taxonomy);
        plan.forEach((e, k) => {
          edits.push(e);
          sources.push({ label: `${flags.fromPlan} site ${k + 1}`, exit: EXIT.input });
        });
      }
      if (flags.edits !== undefined) appendEditsFile(flags.edits, edits, sources);
      // checked before the database is opened: a bad edit costs nothing and is never saved
      withEditSources(sources, () => validateScenarioEdits(region, edits, { taxonomy }));
      const record = await withStore(flags.db, false, async (store) => {
        await registerRegion(store, region, regionPath(flags.region));
        return withEditSources(sources, () => createScenario(store, region, { name, description: flags.description ?? '', edits }, { taxonomy }));
      }, { region: region.meta.name, name });
      report(record, flags.json, `created scenario 已创建方案 "${record.name}" for region ${record.region} with ${record.edits.length} edit${record.edits.length === 1 ? '' : 's'} (version ${record.version})`);
    });

  sc.command('edit')
    .description('append edits to a scenario (or drop some); every flag may be repeated')
    .argument('<name>', 'scenario name')
    .option(...regionOpt)
    .option(...dbOpt)
    .option('--add-facility <spec>', 'new facility: "format[,format]@lon,lat[:name]" (format ids or names, e.g. pharmacy@15.60,48.41:新药店)', collect)
    .option('--move-facility <spec>', 'move a facility: "id@lon,lat" (a facility id of the region, or the id of an add-facility edit)', collect)
    .option('--remove-facility <id>', 'remove a facility (region facility id, or add-facility edit id)', collect)
    .option('--add-link <spec>', 'new walkable link between two points: "lon,lat;lon,lat"', collect)
    .option('--link-kind <kind>', `kind of the links added: ${LINK_KINDS.join(', ')}`, 'passage')
    .option('--close-link <at>', 'close the way segment nearest "lon,lat", or a whole OSM way: "way:123"', collect)
    .option('--close-gate <at>', 'close the network node nearest "lon,lat" (no walking through it)', collect)
    .option('--edits <file>', 'append the edits of a JSON file', collect)
    .option('--drop-edit <id>', 'remove an edit by its id', collect)
    .option('--description <text>', 'replace the description')
    .option('--json', 'print the saved scenario as JSON')
    .action(async (name: string, flags: EditFlags) => {
      checkScenarioName(name);
      if (flags.description !== undefined) checkDescription(flags.description);
      const linkKind = flags.linkKind as LinkKind;
      if (!(LINK_KINDS as readonly string[]).includes(linkKind)) throw usageError(`--link-kind: "${flags.linkKind}" is not one of ${LINK_KINDS.join(', ')}`);
      const any = [flags.addFacility, flags.moveFacility, flags.removeFacility, flags.addLink, flags.closeLink, flags.closeGate, flags.edits, flags.dropEdit].some((l) => l && l.length > 0);
      if (!any && flags.description === undefined) {
        throw usageError('nothing to do: give --add-facility, --move-facility, --remove-facility, --add-link, --close-link, --close-gate, --edits, --drop-edit or --description');
      }
      const taxonomy = loadTaxonomy();
      // flags are parsed before anything is loaded: a typo costs nothing
      const drafted = draftFlagEdits(flags, taxonomy, linkKind);
      const region = loadRegionFlag(flags.region);
      const record = await withStore(flags.db, true, async (store) => {
        const current = await store.getScenario({ region: region.meta.name, name });
        const edits: unknown[] = [...current.edits];
        const sources: EditSource[] = current.edits.map((_, k) => ({ label: `scenario "${name}" stored edits[${k}]`, exit: EXIT.input }));
        for (const id of flags.dropEdit ?? []) {
          const k = edits.findIndex((e) => typeof e === 'object' && e !== null && (e as { id?: unknown }).id === id);
          if (k < 0) {
            const ids = edits.map((e) => (e as { id?: unknown }).id).filter((x): x is string => typeof x === 'string');
            throw usageError(`--drop-edit: scenario "${name}" has no edit "${id}"${ids.length > 0 ? ` (edits: ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', …' : ''})` : ' (it has no edits)'}`);
          }
          edits.splice(k, 1);
          sources.splice(k, 1);
        }
        const taken = (): string[] => edits.map((e) => (e as { id?: unknown }).id).filter((x): x is string => typeof x === 'string');
        for (const d of drafted) {
          if (d.edit === null) {
            appendEditsFile(d.file, edits, sources, taken());
            continue;
          }
          edits.push({ ...d.edit, id: nextEditId(taken(), ID_PREFIX[d.edit.type]) });
          sources.push({ label: d.label, exit: EXIT.usage });
        }
        const dropped = (flags.dropEdit ?? []).length > 0 ? ` (after dropping ${(flags.dropEdit ?? []).join(', ')})` : '';
        return withEditSources(sources, () => saveScenarioEdits(store, region, current, edits, { description: flags.description, taxonomy }), dropped);
      }, { region: region.meta.name, name });
      report(record, flags.json, `saved scenario 已保存方案 "${record.name}": ${record.edits.length} edit${record.edits.length === 1 ? '' : 's'} (version ${record.version})`);
    });

  sc.command('evaluate')
    .description('assess the region with and without the scenario: coverage per format before → after, residents gaining / losing access')
    .argument('<name>', 'scenario name')
    .option(...regionOpt)
    .option(...dbOpt)
    .option('--profile <id|file.json>', `standards profile (default ${DEFAULT_PROFILE})`, DEFAULT_PROFILE)
    .option('--population <n>', 'known total population, spread over homes by floor area')
    .option('--at <moment>', 'only facilities open then: "Mo 07:00", "2026-02-17T09:00"')
    .option('--zones <file.geojson>', 'zones to compare (街道 / 居委 polygons)')
    .option('--h3 <resolutions>', 'H3 resolutions of the zone comparison, or "none"', '9,10')
    .option('--changed <mode>', 'changed area as residence "points", "h3" cells, or "auto"', 'auto')
    .option('--min-change <minutes>', 'a home counts as changed when a walk changes by at least this many minutes', '1')
    .option('--out <file>', 'write the evaluation: .json (everything), .geojson (changed area) or .csv (coverage per zone and format)')
    .option('--json', 'print the evaluation as JSON')
    .action(async (name: string, flags: EvaluateFlags) => {
      checkScenarioName(name);
      const outKind = flags.out === undefined ? null : OUT_KINDS[extname(flags.out).toLowerCase()];
      if (outKind === undefined) throw usageError(`--out: "${flags.out}" must end in .json, .geojson or .csv`);
      const population = flags.population === undefined ? null : parseNumber('--population', flags.population.replace(/[,_\s]/g, ''), 0, 2e9);
      const h3Resolutions = parseH3(flags.h3);
      const minChange = parseNumber('--min-change', flags.minChange, 0.01, 60);
      const changed = flags.changed;
      if (changed !== 'points' && changed !== 'h3' && changed !== 'auto') throw usageError(`--changed: "${changed}" is not one of points, h3, auto`);
      const taxonomy = loadTaxonomy();
      const profile = loadProfile(flags.profile, taxonomy);
      const region = loadRegionFlag(flags.region);
      const record = await withStore(flags.db, true, (store) => store.getScenario({ region: region.meta.name, name }), { region: region.meta.name, name });
      const progress = makeProgress(!flags.json);
      let ev: ScenarioEvaluation;
      try {
        ev = evaluateScenario(region, record.edits, {
          profile,
          population,
          at: flags.at ?? null,
          zones: flags.zones ?? null,
          h3Resolutions,
          taxonomy,
          changedArea: changed,
          minChangeMinutes: minChange,
          onProgress: progress.update,
        });
      } catch (err) {
        if (err instanceof ScenarioEditError) throw new CliError(`scenario "${name}": ${err.message} (the region may have changed since it was saved; fix it with \`quarter scenario edit\`)`, EXIT.input);
        if (err instanceof ZoneFileError || err instanceof CompoundListError) throw new CliError(err.message, EXIT.input);
        if (err instanceof MomentError) throw usageError(`--at: ${err.message}`);
        throw err;
      } finally {
        progress.stop();
      }
      const written: string[] = [];
      if (flags.out !== undefined && outKind) {
        writeOutput(flags.out, renderOut(ev, outKind, taxonomy));
        written.push(flags.out);
      }
      if (flags.json) {
        printJson({ scenario: { id: record.id, name: record.name, version: record.version }, ...(evaluationToJson(ev, { indices: false }) as object), out: written });
        return;
      }
      console.log(evaluationText(ev, record, taxonomy, written));
    });

  sc.command('list')
    .description('list scenarios (of one region with --region)')
    .option('-r, --region <file>', 'only scenarios of this region file')
    .option(...dbOpt)
    .option('--json', 'print as JSON')
    .action(async (flags: RegionFlags) => {
      const regionName = flags.region !== undefined ? loadRegionFlag(flags.region).meta.name : undefined;
      const path = dbPath(flags.db);
      const list = isPostgresSpec(path) || existsSync(path) ? await withStore(flags.db, true, (store) => store.listScenarios(regionName)) : [];
      if (flags.json) {
        printJson(list.map((r) => ({ id: r.id, region: r.region, name: r.name, description: r.description, edits: r.edits.length, version: r.version, createdAt: r.createdAt, updatedAt: r.updatedAt, createdBy: r.createdBy })));
        return;
      }
      if (list.length === 0) {
        console.log(`no scenarios 无方案${regionName !== undefined ? ` for region ${regionName}` : ''} in ${describeStoreSpec(path)}`);
        return;
      }
      console.log(`${list.length} scenario${list.length === 1 ? '' : 's'} 方案 in ${describeStoreSpec(path)}:`);
      for (const r of list) {
        console.log(`  ${padDisplay(r.name, 24)} ${padDisplay(r.region, 16)} ${String(r.edits.length).padStart(4)} edits  v${r.version}  ${r.updatedAt}${r.description ? `  ${oneLine(r.description).slice(0, 60)}` : ''}`);
      }
    });

  sc.command('show')
    .description('show a scenario and its edits')
    .argument('<name>', 'scenario name')
    .option('-r, --region <file>', 'region file (needed when several regions have a scenario of this name)')
    .option(...dbOpt)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags: RegionFlags) => {
      checkScenarioName(name);
      const record = await withStore(flags.db, true, (store) => findByName(store, name, flags.region), { name });
      if (flags.json) {
        printJson(record);
        return;
      }
      const out = [`scenario 方案 "${record.name}" · region ${record.region} · version ${record.version} · created ${record.createdAt}${record.createdBy ? ` by ${record.createdBy}` : ''} · updated ${record.updatedAt}`];
      if (record.description) out.push(`  ${oneLine(record.description)}`);
      out.push(`  ${record.edits.length} edit${record.edits.length === 1 ? '' : 's'}:`);
      record.edits.forEach((e, k) => out.push(`  ${String(k + 1).padStart(4)}. ${editLine(e)}`));
      console.log(out.join('\n'));
    });

  sc.command('delete')
    .description('delete a scenario')
    .argument('<name>', 'scenario name')
    .option('-r, --region <file>', 'region file (needed when several regions have a scenario of this name)')
    .option(...dbOpt)
    .option('--json', 'print the deleted scenario as JSON')
    .action(async (name: string, flags: RegionFlags) => {
      checkScenarioName(name);
      const record = await withStore(flags.db, true, async (store) => {
        const r = await findByName(store, name, flags.region);
        await store.deleteScenario(r.id, r.version);
        return r;
      }, { name });
      if (flags.json) printJson({ deleted: { id: record.id, region: record.region, name: record.name, version: record.version } });
      else console.log(`deleted scenario 已删除方案 "${record.name}" (region ${record.region}, ${record.edits.length} edits)`);
    });

  for (const c of [sc, ...sc.commands]) c.exitOverride();
}

interface EditFlags extends RegionFlags {
  addFacility?: string[];
  moveFacility?: string[];
  removeFacility?: string[];
  addLink?: string[];
  linkKind: string;
  closeLink?: string[];
  closeGate?: string[];
  edits?: string[];
  dropEdit?: string[];
  description?: string;
}

interface EvaluateFlags extends RegionFlags {
  profile: string;
  population?: string;
  at?: string;
  zones?: string;
  h3: string;
  changed: string;
  minChange: string;
  out?: string;
}

type OutKind = 'json' | 'geojson' | 'csv';
const OUT_KINDS: Readonly<Record<string, OutKind>> = { '.json': 'json', '.geojson': 'geojson', '.csv': 'csv' };

/** Where an edit came from, for messages, and the exit code its problems carry. */
interface EditSource {
  label: string;
  exit: number;
}

// ---- flags → edits

type Drafted = { edit: Edit; label: string } | { edit: null; file: string; label: string };

/** Edits from the flags, in a fixed order (adds, moves, removals, links, closures, files); ids are given later. */
function draftFlagEdits(flags: EditFlags, taxonomy: Taxonomy, linkKind: LinkKind): Drafted[] {
  const out: Drafted[] = [];
  for (const spec of flags.addFacility ?? []) {
    const label = `--add-facility ${JSON.stringify(spec)}`;
    const at = spec.indexOf('@');
    if (at < 0) throw usageError(`${label}: expected "format[,format]@lon,lat[:name]", e.g. pharmacy@15.60,48.41:新药店`);
    const formats = spec
      .slice(0, at)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((f) => resolveFormat(label, f, taxonomy));
    if (formats.length === 0) throw usageError(`${label}: no format before "@"`);
    const rest = spec.slice(at + 1);
    const colon = rest.indexOf(':');
    const coords = colon < 0 ? rest : rest.slice(0, colon);
    const [lon, lat] = parseLonLat('--add-facility', coords);
    let name = colon < 0 ? '' : rest.slice(colon + 1).trim();
    if (name === '') name = `新增 ${formats.map((f) => taxonomy.byId.get(f)?.name['zh-CN'] ?? f).join('/')}`;
    out.push({ edit: { id: '', type: 'add_facility', formats, name, lon, lat }, label });
  }
  for (const spec of flags.moveFacility ?? []) {
    const label = `--move-facility ${JSON.stringify(spec)}`;
    const at = spec.indexOf('@');
    if (at < 0) throw usageError(`${label}: expected "id@lon,lat" (a facility id of the region, or an add-facility edit id)`);
    const [lon, lat] = parseLonLat('--move-facility', spec.slice(at + 1));
    out.push({ edit: { id: '', type: 'move_facility', facility: facilityRef(label, spec.slice(0, at)), lon, lat }, label });
  }
  for (const spec of flags.removeFacility ?? []) {
    const label = `--remove-facility ${JSON.stringify(spec)}`;
    out.push({ edit: { id: '', type: 'remove_facility', facility: facilityRef(label, spec) }, label });
  }
  for (const spec of flags.addLink ?? []) {
    const label = `--add-link ${JSON.stringify(spec)}`;
    const parts = spec.split(';');
    if (parts.length !== 2) throw usageError(`${label}: expected "lon,lat;lon,lat" (quote it: the shell reads ; as the end of a command)`);
    out.push({ edit: { id: '', type: 'add_link', from: parseLonLat('--add-link from', parts[0]), to: parseLonLat('--add-link to', parts[1]), kind: linkKind }, label });
  }
  for (const spec of flags.closeLink ?? []) {
    const label = `--close-link ${JSON.stringify(spec)}`;
    const way = /^\s*way[:/](\d+)\s*$/i.exec(spec);
    if (way) out.push({ edit: { id: '', type: 'close_link', way: Number(way[1]) }, label });
    else out.push({ edit: { id: '', type: 'close_link', at: parseLonLat('--close-link', spec) }, label });
  }
  for (const spec of flags.closeGate ?? []) {
    out.push({ edit: { id: '', type: 'close_gate', at: parseLonLat('--close-gate', spec) }, label: `--close-gate ${JSON.stringify(spec)}` });
  }
  for (const file of flags.edits ?? []) out.push({ edit: null, file, label: file });
  return out;
}

function resolveFormat(label: string, token: string, taxonomy: Taxonomy): string {
  if (taxonomy.byId.has(token)) return token;
  const lower = token.toLowerCase();
  const byName = taxonomy.formats.find((f) => f.name['zh-CN'] === token || f.name.en.toLowerCase() === lower);
  if (byName) return byName.id;
  const hint = suggest(token, taxonomy.formats.map((f) => ({ id: f.id, names: [f.name['zh-CN'], f.name.en] })));
  throw usageError(`${label}: unknown format "${token}"${hint ? `; did you mean "${hint}"?` : ''} (see \`quarter formats\`)`);
}

function facilityRef(label: string, raw: string): FacilityRef {
  const s = raw.trim();
  if (/^\d+$/.test(s)) return { base: Number(s) };
  if (/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(s)) return { added: s };
  throw usageError(`${label}: "${raw}" is neither a facility id (a number) nor an add-facility edit id`);
}

// ---- files

function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`${file}: cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.input);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new CliError(`${file}: not valid JSON: ${(err as Error).message}`, EXIT.input);
  }
}

/** Append a file's edits; ids already used in the scenario are renumbered only when they clash. */
function appendEditsFile(file: string, edits: unknown[], sources: EditSource[], taken: string[] = []): void {
  const doc = readJsonFile(file, 'the edits');
  const list = Array.isArray(doc) ? doc : typeof doc === 'object' && doc !== null && Array.isArray((doc as { edits?: unknown }).edits) ? (doc as { edits: unknown[] }).edits : null;
  if (list === null) throw new CliError(`${file}: expected a JSON array of edits (or {"edits": [...]})`, EXIT.input);
  // checked with the whole list (it may refer to the scenario's own edits); problems name the file's positions
  list.forEach((e, k) => {
    const o = (typeof e === 'object' && e !== null ? e : {}) as { id?: unknown; type?: unknown };
    const id = typeof o.id === 'string' ? o.id : null;
    if (id !== null && taken.includes(id)) throw new CliError(`${file}: edits[${k}]: edit id "${id}" is already used in the scenario; rename it in the file`, EXIT.input);
    const what = [typeof o.type === 'string' ? o.type : null, id !== null ? JSON.stringify(id) : null].filter(Boolean).join(' ');
    edits.push(e);
    sources.push({ label: `${file}: edits[${k}]${what ? ` (${what})` : ''}`, exit: EXIT.input });
  });
}

function editsFromPlanFile(file: string, taxonomy: Taxonomy): Edit[] {
  const doc = readJsonFile(file, 'the plan');
  try {
    return editsFromPlan(doc, { taxonomy });
  } catch (err) {
    if (err instanceof PlanDocumentError || err instanceof ScenarioEditError) throw new CliError(`${file}: ${err.message}`, EXIT.input);
    throw err;
  }
}

/**
 * Run a check or a save of an edit list; a ScenarioEditError becomes a one-line error naming where
 * the bad edit came from (flag, file position, stored position) with that source's exit code.
 */
function withEditSources<T>(sources: readonly EditSource[], fn: () => T, note = ''): T {
  try {
    const out = fn();
    if (out instanceof Promise) return out.catch((err: unknown) => Promise.reject(editSourceError(err, sources, note))) as T;
    return out;
  } catch (err) {
    throw editSourceError(err, sources, note);
  }
}

function editSourceError(err: unknown, sources: readonly EditSource[], note: string): unknown {
  if (!(err instanceof ScenarioEditError)) return err;
  const p = err.problems[0];
  const src = p.index !== null ? sources[p.index] : undefined;
  const others = err.problems.length - 1 + err.more;
  const more = others > 0 ? ` (and ${others} more problem${others > 1 ? 's' : ''})` : '';
  if (!src) return new CliError(`${err.message}${note}; nothing saved`, EXIT.input);
  const detail = describeProblem({ ...p, index: null }).replace(/^edits: /, '');
  return new CliError(`${src.label}: ${detail}${more}${note}; nothing saved`, src.exit);
}

// ---- store

async function withStore<T>(flag: string | undefined, mustExist: boolean, fn: (store: QuarterStore) => Promise<T>, about: { region?: string; name?: string } = {}): Promise<T> {
  const path = dbPath(flag);
  let store: QuarterStore;
  try {
    // a database server is always there to ask; a missing file is a missing database
    if (mustExist && storeBackendOf(path) === 'sqlite' && !existsSync(path)) {
      throw new CliError(`${path}: no scenario database here yet (create a scenario with \`quarter scenario create\`, or give --db)`, EXIT.input);
    }
    store = await openStore(path, { passwordFile: process.env.QUARTER_DB_PASSWORD_FILE });
  } catch (err) {
    if (err instanceof StoreOpenError || err instanceof StoreInputError) throw new CliError(err.message, EXIT.input);
    throw err;
  }
  try {
    return await fn(store);
  } catch (err) {
    throw await storeError(err, store, about);
  } finally {
    await store.close();
  }
}

async function storeError(err: unknown, store: QuarterStore, about: { region?: string; name?: string }): Promise<unknown> {
  if (err instanceof VersionConflictError) {
    return new CliError(`scenario "${about.name ?? err.id}" was saved by someone else while you edited it (now version ${err.actual}, you read ${err.expected}): nothing written; run the command again`, EXIT.output);
  }
  if (err instanceof NotFoundError && err.entity === 'scenario') {
    const known = (await store.listScenarios(about.region).catch(() => [])).map((r) => r.name);
    const hint = about.name !== undefined ? suggest(about.name, known.map((id) => ({ id }))) : undefined;
    return usageError(
      `no scenario "${about.name ?? err.id}"${about.region !== undefined ? ` for region ${about.region}` : ''}` +
        (hint ? `; did you mean "${hint}"?` : known.length > 0 ? ` (scenarios: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''})` : ' (there are none yet: `quarter scenario create`)'),
    );
  }
  if (err instanceof DuplicateNameError) {
    return usageError(`a scenario named "${err.nameTaken}" already exists${about.region !== undefined ? ` for region ${about.region}` : ''}: change it with \`quarter scenario edit\`, or pick another name`);
  }
  if (err instanceof StoreInputError) return usageError(err.message);
  return err;
}

/** Record the region in the store (scenarios refer to it by name) unless it is there with this file's content. */
async function registerRegion(store: QuarterStore, region: Region, file: string): Promise<void> {
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  try {
    const known = await store.getRegion(region.meta.name);
    if (known.sha256 === sha256) return;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  await store.upsertRegion({ name: region.meta.name, file: resolve(file), sha256, importedAt: region.meta.importedAt, meta: { source: region.meta.source, bbox: region.meta.bbox } });
}

/** By name: within the --region file's region, else the one region that has a scenario of that name. */
async function findByName(store: QuarterStore, name: string, regionFlag: string | undefined): Promise<ScenarioRecord> {
  if (regionFlag !== undefined) return store.getScenario({ region: loadRegionFlag(regionFlag).meta.name, name });
  const matches = (await store.listScenarios()).filter((r) => r.name === name);
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw usageError(`scenarios named "${name}" exist for ${matches.length} regions (${matches.map((r) => r.region).join(', ')}): give --region`);
  throw new NotFoundError('scenario', name);
}

// ---- checks and output

function checkScenarioName(name: string): void {
  const p = textProblem(name, 200);
  if (p) throw usageError(`scenario name ${p}`);
}

function checkDescription(text: string): void {
  const p = textProblem(text, 5000, true);
  if (p) throw usageError(`--description ${p}`);
}

function parseH3(raw: string): number[] {
  const s = raw.trim().toLowerCase();
  if (s === 'none' || s === '' || s === 'off') return [];
  const out = s.split(',').map((p) => {
    const v = parseNumber('--h3', p, 0, 15);
    if (!Number.isInteger(v)) throw usageError(`--h3: ${v} is not an H3 resolution (an integer 0–15)`);
    return v;
  });
  return [...new Set(out)];
}

function loadProfile(idOrPath: string, taxonomy: Taxonomy): StandardsProfile {
  try {
    return loadStandardsProfile(idOrPath, { taxonomy });
  } catch (err) {
    if (!(err instanceof StandardsError)) throw err;
    const first = err.errors[0] ?? err.message;
    if (/^unknown standards profile/.test(first)) throw usageError(`--profile: ${first} (known: ${listStandardsProfiles().map((p) => p.id).join(', ')})`);
    throw new CliError(`--profile: ${first}`, EXIT.input);
  }
}

const oneLine = (s: string): string => s.replace(/\s*[\r\n]+\s*/g, ' ');

function report(record: ScenarioRecord, json: boolean | undefined, text: string): void {
  if (json) printJson(record);
  else console.log(text);
}

/** One stored edit in words (stored JSON was validated when saved; shown defensively). */
function editLine(e: unknown): string {
  if (typeof e !== 'object' || e === null) return JSON.stringify(e);
  const x = e as Record<string, unknown>;
  const id = typeof x.id === 'string' ? x.id : '?';
  const ref = (r: unknown): string => {
    const o = (r ?? {}) as { base?: unknown; added?: unknown };
    return o.base !== undefined ? `facility ${String(o.base)}` : `added facility "${String(o.added)}"`;
  };
  const pt = (p: unknown): string => (Array.isArray(p) ? p.join(',') : String(p));
  switch (x.type) {
    case 'add_facility':
      return `[${id}] add facility 新增设施 ${JSON.stringify(x.name)} (${Array.isArray(x.formats) ? x.formats.join(', ') : ''}) at ${String(x.lon)},${String(x.lat)}`;
    case 'move_facility':
      return `[${id}] move 移动 ${ref(x.facility)} to ${String(x.lon)},${String(x.lat)}`;
    case 'remove_facility':
      return `[${id}] remove 移除 ${ref(x.facility)}`;
    case 'add_link':
      return `[${id}] add ${String(x.kind)} 新增通道 ${pt(x.from)} → ${pt(x.to)}${typeof x.name === 'string' ? ` ${JSON.stringify(x.name)}` : ''}`;
    case 'close_link':
      return `[${id}] close link 封闭路段 ${x.way !== undefined ? `way ${String(x.way)}` : `nearest ${pt(x.at)}`}`;
    case 'close_gate':
      return `[${id}] close gate 关闭出入口 nearest ${pt(x.at)}`;
    default:
      return `[${id}] ${JSON.stringify(e).slice(0, 120)}`;
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const pts = (d: number): string => `${d >= 0 ? '+' : '−'}${Math.abs(d * 100).toFixed(1)} pt`;
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

function evaluationText(ev: ScenarioEvaluation, record: ScenarioRecord, taxonomy: Taxonomy, written: string[]): string {
  const kinds = (Object.entries(ev.edits) as Array<[string, number]>).filter(([k, v]) => k !== 'total' && v > 0).map(([k, v]) => `${v} ${k.replace('_', ' ')}`);
  const out = [
    `scenario 方案 "${record.name}" · region ${ev.regionName} · profile ${ev.profile.id} (${ev.profile.name['zh-CN']}) · ${ev.edits.total} edit${ev.edits.total === 1 ? '' : 's'}${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`,
    `coverage within the MOFCOM walk 步行覆盖率, before → after 前 → 后:`,
  ];
  const changed = ev.coverage.filter((c) => c.gained.residences > 0 || c.lost.residences > 0 || Math.abs(c.delta) > 1e-9);
  const shown = changed.length > 0 ? changed : ev.coverage.filter((c) => taxonomy.byId.get(c.format)?.class === 'basic').slice(0, FORMATS_LISTED);
  for (const c of shown) {
    const label = padDisplay(`${c.name['zh-CN']} ${c.name.en}`, 40);
    const gain = c.gained.residences > 0 || c.lost.residences > 0 ? `   +${int(c.gained.population)} residents 居民 gain 获得 · −${int(c.lost.population)} lose 失去` : '';
    out.push(`  ${label} ${String(c.mofcomMinutes).padStart(2)} min ${pct(c.before).padStart(8)} → ${pct(c.after).padStart(8)}  ${pts(c.delta).padStart(9)}${gain}`);
  }
  if (changed.length === 0) out.push('  no format changed 各业态覆盖率无变化 (basic formats shown)');
  else if (changed.length < ev.coverage.length) out.push(`  (${ev.coverage.length - changed.length} formats unchanged 其余业态无变化)`);
  const h = ev.headline;
  out.push(
    `complete circle 完整生活圈 ${pct(h.completeCircleShare.before)} → ${pct(h.completeCircleShare.after)} · ` +
      `mean completeness 平均完整度 ${pct(h.meanCompleteness.before)} → ${pct(h.meanCompleteness.after)}` +
      (h.unreachableResidences.delta !== 0 ? ` · homes off the network 无法步行到达的住所 ${h.unreachableResidences.before} → ${h.unreachableResidences.after}` : ''),
  );
  out.push(`residents gaining access to a format 获得服务的居民 ${int(h.residentsGaining)} · losing 失去服务的居民 ${int(h.residentsLosing)} (of ${int(h.population)})`);
  const ch = ev.changed;
  out.push(`changed area 变化范围: ${int(ch.residences)} homes (${int(ch.population)} residents) whose walk to some format changed by ≥ ${ch.minChangeMinutes} min`);
  const userZones = ev.zones.filter((z) => z.kind === 'zone');
  for (const z of userZones.slice(0, 20)) {
    out.push(`  zone 分区 ${z.name}: completeness 完整度 ${pct(z.completeness.before)} → ${pct(z.completeness.after)}`);
  }
  for (const w of ev.warnings) out.push(`warning: ${w}`);
  const t = ev.timings;
  out.push(`evaluated in ${round(t.total / 1000, 2)} s (base ${t.baseCached ? 'cached 基线已缓存' : `${round(t.baseAssess / 1000, 2)} s`}, scenario ${round(t.scenarioAssess / 1000, 2)} s)`);
  for (const f of written) out.push(`→ ${f}`);
  out.push(ev.before.attribution);
  return out.join('\n');
}

function renderOut(ev: ScenarioEvaluation, kind: OutKind, taxonomy: Taxonomy): string {
  if (kind === 'json') return JSON.stringify(evaluationToJson(ev));
  if (kind === 'geojson') {
    return JSON.stringify({ ...ev.changed.geojson, properties: { region: ev.regionName, profile: ev.profile.id, mode: ev.changed.mode, minChangeMinutes: ev.changed.minChangeMinutes, attribution: ev.before.attribution } });
  }
  const rows: string[] = [UTF8_BOM];
  rows.push(
    csvRow([
      'zone_id', 'zone_name', 'zone_kind', 'format', 'format_zh', 'mofcom_minutes', 'coverage_before', 'coverage_after', 'delta',
      'gained_residences', 'gained_population', 'lost_residences', 'lost_population',
    ]),
  );
  for (const z of ev.zones) {
    ev.formats.forEach((f, k) => {
      const region = z.kind === 'region' ? ev.coverage[k] : null;
      const fmt = taxonomy.byId.get(f);
      rows.push(
        csvRow([
          z.id, z.name, z.kind, f, fmt?.name['zh-CN'] ?? f, fmt?.mofcomMinutes ?? null,
          round(z.formatCoverage.before[k], 6), round(z.formatCoverage.after[k], 6), round(z.formatCoverage.after[k] - z.formatCoverage.before[k], 6),
          region?.gained.residences ?? null, region ? round(region.gained.population, 1) : null, region?.lost.residences ?? null, region ? round(region.lost.population, 1) : null,
        ]),
      );
    });
  }
  return rows.join('');
}
