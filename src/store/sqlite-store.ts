/**
 * The embedded store: one SQLite file (better-sqlite3) behind the asynchronous QuarterStore
 * interface.
 *
 * WAL journal (readers do not block the writer), synchronous=FULL (an acknowledged write survives
 * a crash of the process and of the machine), foreign keys on, and a busy timeout so that two
 * processes sharing the file wait for each other instead of failing. Every write is one
 * BEGIN IMMEDIATE transaction that also appends its audit entry: the write lock is taken before
 * anything is read, so "read version, check, update" cannot interleave with another connection.
 *
 * better-sqlite3 is synchronous: a call holds the event loop for the duration of its statement
 * (microseconds here), or up to the busy timeout when another process holds the write lock.
 */
import Database from 'better-sqlite3';
import { accessSync, constants as fsConstants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkMigrationList, migrationSql, MIGRATIONS, planMigrations, SCHEMA_MIGRATIONS_DDL, type AppliedMigration, type Migration } from './migrations.js';
import { DEFAULT_SCRYPT, hashPassword, MAX_PASSWORD_CHARS, verifyPassword, type ScryptParams } from './passwords.js';
import { toScenario, toRegion, toFacilityEdit, toPlanRun, toSurvey, toUser, toAudit, toBatch, toBatchJob, checkNewBatch, checkBatchJobPatch, compareZones, checkTtl, checkRating, checkPassword, type ScenarioRow, type RegionRow, type FacilityEditRow, type PlanRunRow, type SurveyRow, type UserRow, type AuditRow, type BatchRow, type BatchCountRow, type BatchJobRow } from './rows.js';
import {
  DuplicateNameError,
  InvalidStateError,
  NotFoundError,
  StoreInputError,
  StoreOpenError,
  StoreUnavailableError,
  VersionConflictError,
  type Actor,
  type AuditEntry,
  type AuditFilter,
  type BatchJobPatch,
  type BatchJobRecord,
  type BatchRecord,
  type NewBatch,
  type FacilityEditRecord,
  type NewAuditEntry,
  type NewFacilityEdit,
  type NewPlanRun,
  type NewScenario,
  type NewSessionResult,
  type NewSurveyResponse,
  type NewUser,
  type PlanRunExpectation,
  type PlanRunFilter,
  type PlanRunPatch,
  type PlanRunRecord,
  type QuarterStore,
  type RegionInput,
  type RegionRecord,
  type ScenarioPatch,
  type ScenarioRecord,
  type SessionRecord,
  type SurveyResponseRecord,
  type SurveyZoneSummary,
  type UserPatch,
  type UserRecord,
  type UserRole,
} from './store.js';
import { hashToken, newSecretToken, SECRET_TOKEN_PATTERN } from './tokens.js';
import {
  checkId,
  checkJsonArray,
  checkJsonObject,
  checkLimit,
  checkName,
  checkOneOf,
  checkOptionalName,
  checkText,
  checkTime,
  checkVersion,
  FACILITY_EDIT_KINDS,
  isFinished,
  MAX_JSON_BYTES,
  PLAN_RUN_STATUSES,
  PLAN_RUN_TRANSITIONS,
  roundCoordinate,
  toJsonText,
  USER_ROLES,
  userNameKey,
} from './validate.js';

export interface SqliteStoreOptions {
  /** how long a write waits for another connection's write lock; default 5000 ms. */
  busyTimeoutMs?: number;
  /** the clock for every timestamp (tests move it); default the system clock. */
  now?: () => Date;
  /** the schema; default MIGRATIONS (tests pass longer or broken lists). */
  migrations?: readonly Migration[];
  /** limit of each JSON column; default 1 MiB. */
  maxJsonBytes?: number;
  /** cost of new password hashes; default DEFAULT_SCRYPT. */
  passwordParams?: ScryptParams;
  /** lifetime of a session unless createSession says otherwise; default 24 h. */
  sessionTtlSeconds?: number;
}

const MAX_COMMENT_CHARS = 5000;
const MAX_FORMAT_ID_CHARS = 64;
// A keyed hash in hex or base64: no dots or colons, so neither an IPv4 nor an IPv6 address fits.
const CLIENT_HASH = /^[A-Za-z0-9+/=_-]{16,128}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Open (creating if needed) the store at `path`, or an in-memory one for ':memory:'. */
export async function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): Promise<QuarterStore> {
  if (typeof path !== 'string' || path === '') throw new StoreInputError('path', 'must be a database file path or ":memory:"');
  const migrations = opts.migrations ?? MIGRATIONS;
  checkMigrationList(migrations);
  const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new StoreInputError('busyTimeoutMs', `must be an integer ≥ 0, got ${busyTimeoutMs}`);
  const now = opts.now ?? (() => new Date());
  const sessionTtlSeconds = checkTtl('sessionTtlSeconds', opts.sessionTtlSeconds ?? 86400);
  const maxJsonBytes = opts.maxJsonBytes ?? MAX_JSON_BYTES;
  if (!Number.isInteger(maxJsonBytes) || maxJsonBytes < 1) throw new StoreInputError('maxJsonBytes', `must be a positive integer, got ${maxJsonBytes}`);
  const inMemory = path === ':memory:';
  const location = inMemory ? path : resolve(path);
  if (!inMemory) prepareLocation(location);

  let db: Database.Database;
  try {
    db = new Database(location);
  } catch (err) {
    throw openFailure(location, err);
  }
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Before anything that writes (the journal mode is stored in the file): leave others' files alone.
    refuseForeignDatabase(db, location);
    if (!inMemory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') throw new StoreOpenError(location, `cannot switch to WAL journal mode (got "${String(mode)}"): is the file on a network file system?`);
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, location, migrations, now);
  } catch (err) {
    db.close();
    throw err instanceof StoreOpenError ? err : openFailure(location, err);
  }
  return new SqliteQuarterStore(db, location, { now, maxJsonBytes, passwordParams: opts.passwordParams ?? DEFAULT_SCRYPT, sessionTtlSeconds });
}

/** Create the directory (mkdir -p) and make sure the path is not a directory itself. */
function prepareLocation(file: string): void {
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const inTheWay = code === 'EEXIST' || code === 'ENOTDIR';
    throw new StoreOpenError(file, inTheWay ? `cannot create directory ${dir}: a file is in the way` : `cannot create directory ${dir} (${code ?? String(err)})`);
  }
  try {
    if (statSync(file).isDirectory()) throw new StoreOpenError(file, 'is a directory, not a database file');
  } catch (err) {
    if (err instanceof StoreOpenError) throw err;
    // ENOENT: a new database, created by SQLite.
  }
}

const writable = (p: string): boolean => {
  try {
    accessSync(p, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
};

/** A clear one-line reason for a failure to open, naming the file. */
function openFailure(location: string, err: unknown): StoreOpenError {
  const code = String((err as { code?: unknown })?.code ?? '');
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_NOTADB') return new StoreOpenError(location, 'is not an SQLite database (wrong file?)');
  if (code.startsWith('SQLITE_CORRUPT')) return new StoreOpenError(location, `the database file is damaged (${message}); restore it from a backup`);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new StoreOpenError(location, 'is locked by another process; try again');
  if (/^SQLITE_(CANTOPEN|READONLY|PERM|AUTH|IOERR)/.test(code)) {
    const dir = dirname(location);
    const why = !writable(dir)
      ? `directory ${dir} is not writable`
      : `the file or its -wal/-shm companions are not writable`;
    return new StoreOpenError(location, `cannot open the database for writing: ${why} (${code}: ${message})`);
  }
  return new StoreOpenError(location, `cannot open the database (${code ? `${code}: ` : ''}${message})`);
}

/** A database with tables but no schema_migrations belongs to some other program. */
function refuseForeignDatabase(db: Database.Database, location: string): void {
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
  if (tables.length > 0 && !tables.includes('schema_migrations')) {
    const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', …' : '');
    throw new StoreOpenError(location, `is an SQLite database but not a Quarter store (it has tables ${shown} and no schema_migrations)`);
  }
}

/** Apply pending migrations, one transaction each; refuse a database that is not ours or is newer. */
function migrate(db: Database.Database, location: string, list: readonly Migration[], now: () => Date): void {
  const inTransaction = db.transaction((step: () => boolean): boolean => step());
  inTransaction.immediate(() => {
    refuseForeignDatabase(db, location); // again, now under the write lock
    db.exec(SCHEMA_MIGRATIONS_DDL.sqlite);
    return true;
  });
  const latest = list.length ? `${list[list.length - 1].id} "${list[list.length - 1].name}"` : 'none';
  // Re-read what is applied inside each transaction: another process may be migrating the same file.
  for (let done = false; !done; ) {
    done = inTransaction.immediate(() => {
      const applied = db.prepare('SELECT id, name FROM schema_migrations ORDER BY id').all() as AppliedMigration[];
      const plan = planMigrations(applied, list);
      if (plan.unknown.length > 0) {
        const names = plan.unknown.map((m) => `${m.id} "${m.name}"`).join(', ');
        throw new StoreOpenError(location, `was written by a newer version of Quarter: it has schema migration ${names}, this version knows up to ${latest}; upgrade Quarter or open another file`);
      }
      if (plan.renamed.length > 0) {
        const r = plan.renamed[0];
        throw new StoreOpenError(location, `schema migration ${r.id} is "${r.applied}" in the database but "${r.known}" in this version: the file was made by another program or branch`);
      }
      const next = plan.pending[0];
      if (!next) return true;
      try {
        db.exec(migrationSql(next, 'sqlite'));
      } catch (err) {
        throw new StoreOpenError(location, `schema migration ${next.id} "${next.name}" failed, nothing of it was applied: ${err instanceof Error ? err.message : String(err)}`);
      }
      db.prepare('INSERT INTO schema_migrations (id, name, description, applied_at) VALUES (?, ?, ?, ?)').run(next.id, next.name, next.description, now().toISOString());
      return false;
    });
  }
}


const isUniqueViolation = (err: unknown): boolean => {
  const code = (err as { code?: unknown })?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
};



interface StoreSettings {
  now: () => Date;
  maxJsonBytes: number;
  passwordParams: ScryptParams;
  sessionTtlSeconds: number;
}

class SqliteQuarterStore implements QuarterStore {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly inTransaction: Database.Transaction<(step: () => unknown) => unknown>;
  /** verified against when a login names no user, so that an unknown name costs the same time. */
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly db: Database.Database,
    private readonly location: string,
    private readonly settings: StoreSettings,
  ) {
    this.inTransaction = db.transaction((step: () => unknown) => step());
  }

  /* ---------------------------------------------------------------- plumbing */

  private sql(text: string): Database.Statement {
    if (!this.db.open) throw new Error(`the store ${this.location} is closed`);
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  /** One write: BEGIN IMMEDIATE … COMMIT, rolled back entirely when `step` throws. */
  private write<T>(step: () => T): T {
    if (!this.db.open) throw new Error(`the store ${this.location} is closed`);
    try {
      return this.inTransaction.immediate(step) as T;
    } catch (err) {
      const code = String((err as { code?: unknown })?.code ?? '');
      if (code.startsWith('SQLITE_BUSY')) throw new StoreUnavailableError(`${this.location}: the database stayed locked by another writer; nothing was written, try again`, { cause: err }, 'busy');
      if (code === 'SQLITE_FULL') throw new StoreUnavailableError(`${this.location}: the disk is full; nothing was written`, { cause: err }, 'full');
      if (code.startsWith('SQLITE_READONLY')) throw new StoreUnavailableError(`${this.location}: the database cannot be written (read-only file or directory); nothing was written`, { cause: err }, 'read-only');
      throw err;
    }
  }

  private nowIso(): string {
    return this.settings.now().toISOString();
  }

  private json(field: string, value: unknown): string {
    return toJsonText(field, value, this.settings.maxJsonBytes);
  }

  private audit(actor: Actor, action: string, entity: string, entityId: string | number | null, detail: unknown, at = this.nowIso()): AuditEntry {
    const id = Number(
      this.sql('INSERT INTO audit_log (at, actor, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)').run(
        at,
        actor,
        action,
        entity,
        entityId === null ? null : String(entityId),
        JSON.stringify(detail ?? null),
      ).lastInsertRowid,
    );
    return { id, at, actor, action, entity, entityId: entityId === null ? null : String(entityId), detail: detail ?? null };
  }

  private requireRegion(region: string): void {
    if (!this.sql('SELECT 1 FROM regions WHERE name = ?').get(region)) throw new NotFoundError('region', region);
  }

  /* ---------------------------------------------------------------- regions */

  async upsertRegion(input: RegionInput): Promise<RegionRecord> {
    const name = checkName('name', input?.name);
    const file = checkName('file', input.file, 4096);
    if (typeof input.sha256 !== 'string' || !SHA256_HEX.test(input.sha256)) throw new StoreInputError('sha256', 'must be 64 lower-case hexadecimal digits');
    const meta = this.json('meta', checkJsonObject('meta', input.meta ?? {}));
    const actor = checkOptionalName('actor', input.actor);
    const importedAtGiven = input.importedAt === undefined ? undefined : checkTime('importedAt', input.importedAt);
    return this.write(() => {
      const at = this.nowIso();
      const importedAt = importedAtGiven ?? at;
      const existed = this.sql('SELECT 1 FROM regions WHERE name = ?').get(name) !== undefined;
      this.sql(
        `INSERT INTO regions (name, file, sha256, imported_at, meta) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET file = excluded.file, sha256 = excluded.sha256, imported_at = excluded.imported_at, meta = excluded.meta`,
      ).run(name, file, input.sha256, importedAt, meta);
      this.audit(actor, existed ? 'region.update' : 'region.create', 'region', name, { file, sha256: input.sha256 }, at);
      return toRegion(this.sql('SELECT * FROM regions WHERE name = ?').get(name) as RegionRow);
    });
  }

  async listRegions(): Promise<RegionRecord[]> {
    const rows = (this.sql('SELECT * FROM regions').all() as RegionRow[]).map(toRegion);
    return rows.sort((a, b) => compareZones(a.name, b.name));
  }

  async getRegion(name: string): Promise<RegionRecord> {
    const row = this.sql('SELECT * FROM regions WHERE name = ?').get(checkName('name', name)) as RegionRow | undefined;
    if (!row) throw new NotFoundError('region', name);
    return toRegion(row);
  }

  /* ---------------------------------------------------------------- scenarios */

  async listScenarios(region?: string): Promise<ScenarioRecord[]> {
    const rows =
      region === undefined
        ? (this.sql('SELECT * FROM scenarios ORDER BY id').all() as ScenarioRow[])
        : (this.sql('SELECT * FROM scenarios WHERE region = ? ORDER BY id').all(checkName('region', region)) as ScenarioRow[]);
    return rows.map(toScenario);
  }

  async getScenario(ref: number | { region: string; name: string }): Promise<ScenarioRecord> {
    if (typeof ref === 'number') {
      const row = this.sql('SELECT * FROM scenarios WHERE id = ?').get(checkId('id', ref)) as ScenarioRow | undefined;
      if (!row) throw new NotFoundError('scenario', ref);
      return toScenario(row);
    }
    if (ref === null || typeof ref !== 'object') throw new StoreInputError('ref', 'must be a scenario id or { region, name }');
    const region = checkName('region', ref.region);
    const name = checkName('name', ref.name);
    const row = this.sql('SELECT * FROM scenarios WHERE region = ? AND name = ?').get(region, name) as ScenarioRow | undefined;
    if (!row) throw new NotFoundError('scenario', `${region}/${name}`);
    return toScenario(row);
  }

  async createScenario(input: NewScenario): Promise<ScenarioRecord> {
    const region = checkName('region', input?.region);
    const name = checkName('name', input.name);
    const description = checkText('description', input.description ?? '');
    const edits = this.json('edits', checkJsonArray('edits', input.edits));
    const actor = checkOptionalName('actor', input.actor);
    return this.write(() => {
      this.requireRegion(region);
      if (this.sql('SELECT 1 FROM scenarios WHERE region = ? AND name = ?').get(region, name)) throw new DuplicateNameError('scenario', name);
      const at = this.nowIso();
      let id: number;
      try {
        id = Number(
          this.sql('INSERT INTO scenarios (region, name, description, edits, version, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, 1, ?, ?, ?)').run(
            region,
            name,
            description,
            edits,
            at,
            at,
            actor,
          ).lastInsertRowid,
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateNameError('scenario', name);
        throw err;
      }
      this.audit(actor, 'scenario.create', 'scenario', id, { region, name }, at);
      return toScenario(this.sql('SELECT * FROM scenarios WHERE id = ?').get(id) as ScenarioRow);
    });
  }

  async updateScenario(id: number, expectedVersion: number, patch: ScenarioPatch, actor?: Actor): Promise<ScenarioRecord> {
    checkId('id', id);
    checkVersion('expectedVersion', expectedVersion);
    if (patch === null || typeof patch !== 'object') throw new StoreInputError('patch', 'must be an object');
    const sets: string[] = [];
    const values: unknown[] = [];
    // Fixed column order, so at most 7 distinct statements get prepared and cached.
    if (patch.name !== undefined) sets.push('name = ?'), values.push(checkName('name', patch.name));
    if (patch.description !== undefined) sets.push('description = ?'), values.push(checkText('description', patch.description));
    if (patch.edits !== undefined) sets.push('edits = ?'), values.push(this.json('edits', checkJsonArray('edits', patch.edits)));
    if (sets.length === 0) throw new StoreInputError('patch', 'changes nothing (give name, description or edits)');
    const who = checkOptionalName('actor', actor);
    return this.write(() => {
      const at = this.nowIso();
      let changes: number;
      try {
        changes = this.sql(`UPDATE scenarios SET ${sets.join(', ')}, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`).run(...values, at, id, expectedVersion).changes;
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateNameError('scenario', patch.name ?? '');
        throw err;
      }
      if (changes !== 1) this.explainMissedUpdate('scenarios', 'scenario', id, expectedVersion);
      this.audit(who, 'scenario.update', 'scenario', id, { fromVersion: expectedVersion, fields: Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined) }, at);
      return toScenario(this.sql('SELECT * FROM scenarios WHERE id = ?').get(id) as ScenarioRow);
    });
  }

  async deleteScenario(id: number, expectedVersion: number, actor?: Actor): Promise<void> {
    checkId('id', id);
    checkVersion('expectedVersion', expectedVersion);
    const who = checkOptionalName('actor', actor);
    this.write(() => {
      const row = this.sql('SELECT region, name FROM scenarios WHERE id = ?').get(id) as { region: string; name: string } | undefined;
      const changes = this.sql('DELETE FROM scenarios WHERE id = ? AND version = ?').run(id, expectedVersion).changes;
      if (changes !== 1) this.explainMissedUpdate('scenarios', 'scenario', id, expectedVersion);
      this.audit(who, 'scenario.delete', 'scenario', id, { region: row?.region, name: row?.name, version: expectedVersion });
    });
  }

  /** An UPDATE/DELETE … WHERE id = ? AND version = ? touched nothing: say why. Always throws. */
  private explainMissedUpdate(table: 'scenarios' | 'users', entity: string, id: number, expected: number): never {
    const row = this.sql(`SELECT version FROM ${table} WHERE id = ?`).get(id) as { version: number } | undefined;
    if (!row) throw new NotFoundError(entity, id);
    throw new VersionConflictError(entity, id, expected, row.version);
  }

  /* ---------------------------------------------------------------- facility edits */

  async appendFacilityEdit(input: NewFacilityEdit, expectedVersion: number): Promise<FacilityEditRecord> {
    const region = checkName('region', input?.region);
    const kind = checkOneOf('kind', input.kind, FACILITY_EDIT_KINDS);
    const ref = checkName('facilityRef', input.facilityRef);
    const data = this.json('data', input.data === undefined ? null : input.data);
    const actor = checkOptionalName('actor', input.actor);
    checkVersion('expectedVersion', expectedVersion, 0);
    return this.write(() => {
      this.requireRegion(region);
      const current = this.facilityVersion(region, ref);
      if (current !== expectedVersion) throw new VersionConflictError('facility', ref, expectedVersion, current);
      const at = this.nowIso();
      let id: number;
      try {
        id = Number(
          this.sql('INSERT INTO facility_edits (region, kind, facility_ref, data, version, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(region, kind, ref, data, expectedVersion + 1, actor, at)
            .lastInsertRowid,
        );
      } catch (err) {
        // Only reachable where writes are not serialised (a server database): someone appended first.
        if (isUniqueViolation(err)) throw new VersionConflictError('facility', ref, expectedVersion, this.facilityVersion(region, ref));
        throw err;
      }
      this.audit(actor, `facility.${kind}`, 'facility', ref, { region, version: expectedVersion + 1, editId: id }, at);
      return toFacilityEdit(this.sql('SELECT * FROM facility_edits WHERE id = ?').get(id) as FacilityEditRow);
    });
  }

  private facilityVersion(region: string, ref: string): number {
    const row = this.sql('SELECT MAX(version) AS v FROM facility_edits WHERE region = ? AND facility_ref = ?').get(region, ref) as { v: number | null };
    return row.v ?? 0;
  }

  async listFacilityEdits(region: string, facilityRef?: string): Promise<FacilityEditRecord[]> {
    const r = checkName('region', region);
    const rows =
      facilityRef === undefined
        ? (this.sql('SELECT * FROM facility_edits WHERE region = ? ORDER BY id').all(r) as FacilityEditRow[])
        : (this.sql('SELECT * FROM facility_edits WHERE region = ? AND facility_ref = ? ORDER BY id').all(r, checkName('facilityRef', facilityRef)) as FacilityEditRow[]);
    return rows.map(toFacilityEdit);
  }

  /* ---------------------------------------------------------------- plan runs */

  async createPlanRun(input: NewPlanRun): Promise<PlanRunRecord> {
    const region = checkName('region', input?.region);
    const model = checkName('model', input.model);
    const params = this.json('params', input.params === undefined ? null : input.params);
    const actor = checkOptionalName('actor', input.actor);
    return this.write(() => {
      this.requireRegion(region);
      const at = this.nowIso();
      const id = Number(
        this.sql(`INSERT INTO plan_runs (region, model, params, status, progress, version, created_at, updated_at, actor) VALUES (?, ?, ?, 'queued', 0, 1, ?, ?, ?)`).run(
          region,
          model,
          params,
          at,
          at,
          actor,
        ).lastInsertRowid,
      );
      this.audit(actor, 'plan_run.create', 'plan_run', id, { region, model }, at);
      return this.planRunRow(id);
    });
  }

  private planRunRow(id: number): PlanRunRecord {
    const row = this.sql('SELECT * FROM plan_runs WHERE id = ?').get(id) as PlanRunRow | undefined;
    if (!row) throw new NotFoundError('plan run', id);
    return toPlanRun(row);
  }

  async updatePlanRun(id: number, expect: PlanRunExpectation, patch: PlanRunPatch, actor?: Actor): Promise<PlanRunRecord> {
    checkId('id', id);
    if (expect === null || typeof expect !== 'object') throw new StoreInputError('expect', 'must be an object ({ version?, status? })');
    if (expect.version !== undefined) checkVersion('expect.version', expect.version);
    if (expect.status !== undefined && (!Array.isArray(expect.status) || expect.status.length === 0)) throw new StoreInputError('expect.status', 'must be a non-empty list of statuses');
    const expectStatus = expect.status === undefined ? undefined : expect.status.map((s, i) => checkOneOf(`expect.status[${i}]`, s, PLAN_RUN_STATUSES));
    if (patch === null || typeof patch !== 'object') throw new StoreInputError('patch', 'must be an object');
    const newStatus = patch.status === undefined ? undefined : checkOneOf('status', patch.status, PLAN_RUN_STATUSES);
    if (patch.progress !== undefined && (typeof patch.progress !== 'number' || !(patch.progress >= 0 && patch.progress <= 1))) {
      throw new StoreInputError('progress', `must be a number in [0, 1], got ${String(patch.progress)}`);
    }
    const result = patch.result === undefined ? undefined : this.json('result', patch.result);
    const error = patch.error === undefined || patch.error === null ? patch.error : checkText('error', patch.error, 10_000);
    if (newStatus === undefined && patch.progress === undefined && result === undefined && error === undefined) {
      throw new StoreInputError('patch', 'changes nothing (give status, progress, result or error)');
    }
    const who = checkOptionalName('actor', actor);
    return this.write(() => {
      const cur = this.planRunRow(id);
      if (expect.version !== undefined && cur.version !== expect.version) throw new VersionConflictError('plan run', id, expect.version, cur.version);
      if (expectStatus && !expectStatus.includes(cur.status)) throw new InvalidStateError('plan run', id, cur.status, `expected ${expectStatus.join(' or ')}`);
      const to = newStatus ?? cur.status;
      if (!PLAN_RUN_TRANSITIONS[cur.status].includes(to)) {
        throw new InvalidStateError('plan run', id, cur.status, isFinished(cur.status) ? 'a finished run cannot change' : `cannot become ${to}`);
      }
      const at = this.nowIso();
      const progress = patch.progress ?? (to === 'done' ? 1 : cur.progress);
      const finishedAt = isFinished(to) ? at : null;
      const sets = ['status = ?', 'progress = ?', 'finished_at = ?', 'updated_at = ?'];
      const values: unknown[] = [to, progress, finishedAt, at];
      // result and error are written only when given: a progress tick does not rewrite a large result
      if (result !== undefined) sets.push('result = ?'), values.push(result);
      if (error !== undefined) sets.push('error = ?'), values.push(error);
      // The version read above guards the UPDATE too, so the check-and-set holds even where the
      // database does not serialise whole transactions.
      const changes = this.sql(`UPDATE plan_runs SET ${sets.join(', ')}, version = version + 1 WHERE id = ? AND version = ?`).run(...values, id, cur.version).changes;
      if (changes !== 1) throw new VersionConflictError('plan run', id, cur.version, this.planRunRow(id).version);
      const action = to === cur.status ? 'plan_run.progress' : `plan_run.${to}`;
      this.audit(who, action, 'plan_run', id, { from: cur.status, to, progress }, at);
      return this.planRunRow(id);
    });
  }

  async getPlanRun(id: number): Promise<PlanRunRecord> {
    return this.planRunRow(checkId('id', id));
  }

  async listPlanRuns(filter: PlanRunFilter = {}): Promise<PlanRunRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.region !== undefined) where.push('region = ?'), values.push(checkName('region', filter.region));
    if (filter.status !== undefined) where.push('status = ?'), values.push(checkOneOf('status', filter.status, PLAN_RUN_STATUSES));
    const limit = checkLimit('limit', filter.limit);
    const rows = this.sql(`SELECT * FROM plan_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(...values, limit) as PlanRunRow[];
    return rows.map(toPlanRun);
  }

  /* ---------------------------------------------------------------- batches */

  async createBatch(input: NewBatch): Promise<BatchRecord> {
    const b = checkNewBatch(input, this.settings.maxJsonBytes);
    return this.write(() => {
      const at = this.nowIso();
      const id = Number(this.sql('INSERT INTO batches (kind, params, created_at, actor) VALUES (?, ?, ?, ?)').run(b.kind, b.params, at, b.actor).lastInsertRowid);
      const insert = this.sql(`INSERT INTO batch_jobs (batch_id, job_key, seq, region, state, progress, attempts, updated_at) VALUES (?, ?, ?, ?, 'queued', 0, 0, ?)`);
      b.jobs.forEach((j, seq) => insert.run(id, j.key, seq, j.region, at));
      this.audit(b.actor, 'batch.create', 'batch', id, { kind: b.kind, jobs: b.jobs.length }, at);
      return this.batchRecord(id);
    });
  }

  private batchRecord(id: number): BatchRecord {
    const row = this.sql('SELECT * FROM batches WHERE id = ?').get(id) as BatchRow | undefined;
    if (!row) throw new NotFoundError('batch', id);
    const counts = this.sql('SELECT batch_id, state, COUNT(*) AS n, SUM(progress) AS progress_sum FROM batch_jobs WHERE batch_id = ? GROUP BY state').all(id) as BatchCountRow[];
    return toBatch(row, counts);
  }

  async getBatch(id: number): Promise<BatchRecord & { jobs: BatchJobRecord[] }> {
    const batch = this.batchRecord(checkId('id', id));
    const jobs = (this.sql('SELECT * FROM batch_jobs WHERE batch_id = ? ORDER BY seq').all(id) as BatchJobRow[]).map(toBatchJob);
    return { ...batch, jobs };
  }

  async listBatches(opts: { limit?: number } = {}): Promise<BatchRecord[]> {
    const limit = checkLimit('limit', opts.limit);
    const rows = this.sql('SELECT * FROM batches ORDER BY id DESC LIMIT ?').all(limit) as BatchRow[];
    if (rows.length === 0) return [];
    const counts = this.sql('SELECT batch_id, state, COUNT(*) AS n, SUM(progress) AS progress_sum FROM batch_jobs WHERE batch_id >= ? GROUP BY batch_id, state').all(rows[rows.length - 1].id) as BatchCountRow[];
    return rows.map((r) => toBatch(r, counts.filter((c) => c.batch_id === r.id)));
  }

  async updateBatchJob(batchId: number, key: string, patch: BatchJobPatch): Promise<{ changed: boolean; job: BatchJobRecord }> {
    const p = checkBatchJobPatch(batchId, key, patch, this.settings.maxJsonBytes);
    const at = this.nowIso();
    const sets = ['state = ?', 'updated_at = ?'];
    const values: unknown[] = [p.state, at];
    const progress = p.progress ?? (p.state === 'done' ? 1 : p.newAttempt ? 0 : undefined);
    if (progress !== undefined) sets.push('progress = ?'), values.push(progress);
    if (p.newAttempt) sets.push('attempts = attempts + 1', 'started_at = ?', 'error = NULL'), values.push(at);
    if (p.worker !== undefined) sets.push('worker = ?'), values.push(p.worker);
    if (p.error !== undefined) sets.push('error = ?'), values.push(p.error);
    if (p.result !== null) sets.push('result = ?'), values.push(p.result);
    sets.push('finished_at = ?'), values.push(p.state === 'done' || p.state === 'failed' ? at : null);
    // One statement, no read first: "not done yet" is the guard, so of two workers finishing the
    // same job exactly one records its result.
    const row = this.write(() => this.sql(`UPDATE batch_jobs SET ${sets.join(', ')} WHERE batch_id = ? AND job_key = ? AND state <> 'done' RETURNING *`).get(...values, p.batchId, p.key)) as BatchJobRow | undefined;
    if (row) return { changed: true, job: toBatchJob(row) };
    const cur = this.sql('SELECT * FROM batch_jobs WHERE batch_id = ? AND job_key = ?').get(p.batchId, p.key) as BatchJobRow | undefined;
    if (!cur) throw new NotFoundError('batch job', `${p.batchId}/${p.key}`);
    return { changed: false, job: toBatchJob(cur) };
  }

  /* ---------------------------------------------------------------- survey */

  async addSurveyResponse(input: NewSurveyResponse): Promise<SurveyResponseRecord> {
    const region = checkName('region', input?.region);
    const zone = checkOptionalName('zone', input.zone);
    const hasLon = input.lon !== undefined && input.lon !== null;
    const hasLat = input.lat !== undefined && input.lat !== null;
    if (hasLon !== hasLat) throw new StoreInputError(hasLon ? 'lat' : 'lon', 'give both lon and lat, or neither');
    let lon: number | null = null;
    let lat: number | null = null;
    if (hasLon) {
      if (typeof input.lon !== 'number' || !(input.lon >= -180 && input.lon <= 180)) throw new StoreInputError('lon', `must be a longitude in [-180, 180], got ${String(input.lon)}`);
      if (typeof input.lat !== 'number' || !(input.lat >= -90 && input.lat <= 90)) throw new StoreInputError('lat', `must be a latitude in [-90, 90], got ${String(input.lat)}`);
      lon = roundCoordinate(input.lon);
      lat = roundCoordinate(input.lat);
    }
    const overall = checkRating('overall', input.overall);
    const perFormat = checkJsonObject('perFormat', input.perFormat ?? {});
    for (const [k, v] of Object.entries(perFormat)) {
      checkName('perFormat key', k, MAX_FORMAT_ID_CHARS);
      checkRating(`perFormat.${k}`, v);
    }
    const perFormatText = this.json('perFormat', perFormat);
    const comment = checkText('comment', input.comment ?? '', MAX_COMMENT_CHARS);
    if (typeof input.clientHash !== 'string' || !CLIENT_HASH.test(input.clientHash)) {
      throw new StoreInputError('clientHash', 'must be 16–128 characters of a keyed hash (letters, digits, + / = _ -), never a raw address');
    }
    const clientHash = input.clientHash;
    return this.write(() => {
      this.requireRegion(region);
      const at = this.nowIso();
      const id = Number(
        this.sql('INSERT INTO survey_responses (region, zone, lon, lat, overall, per_format, comment, created_at, client_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
          region,
          zone,
          lon,
          lat,
          overall,
          perFormatText,
          comment,
          at,
          clientHash,
        ).lastInsertRowid,
      );
      // The respondent is anonymous: no actor, and the audit detail carries nothing personal.
      this.audit(null, 'survey.add', 'survey_response', id, { region, zone }, at);
      return toSurvey(this.sql('SELECT * FROM survey_responses WHERE id = ?').get(id) as SurveyRow);
    });
  }

  async listSurveyResponses(region: string, opts: { zone?: string | null; limit?: number; afterId?: number } = {}): Promise<SurveyResponseRecord[]> {
    const where = ['region = ?'];
    const values: unknown[] = [checkName('region', region)];
    if (opts.zone === null) where.push('zone IS NULL');
    else if (opts.zone !== undefined) where.push('zone = ?'), values.push(checkName('zone', opts.zone));
    if (opts.afterId !== undefined) where.push('id > ?'), values.push(checkVersion('afterId', opts.afterId, 0));
    const limit = checkLimit('limit', opts.limit);
    return (this.sql(`SELECT * FROM survey_responses WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`).all(...values, limit) as SurveyRow[]).map(toSurvey);
  }

  async summarizeSurvey(region: string): Promise<SurveyZoneSummary[]> {
    // Sums, not AVG: integer sums are exact in every database, and the division happens here once.
    const rows = this.sql(
      `SELECT zone, COUNT(*) AS n, SUM(overall) AS total, SUM(CASE WHEN overall >= 4 THEN 1 ELSE 0 END) AS satisfied
       FROM survey_responses WHERE region = ? GROUP BY zone`,
    ).all(checkName('region', region)) as { zone: string | null; n: number; total: number; satisfied: number }[];
    return rows
      .map((r) => ({ zone: r.zone, count: r.n, meanOverall: r.total / r.n, shareSatisfied: r.satisfied / r.n }))
      .sort((a, b) => compareZones(a.zone, b.zone));
  }

  async countSurveyResponsesByClient(clientHash: string, since: string): Promise<number> {
    if (typeof clientHash !== 'string' || !CLIENT_HASH.test(clientHash)) throw new StoreInputError('clientHash', 'must be 16–128 characters of a keyed hash');
    const row = this.sql('SELECT COUNT(*) AS n FROM survey_responses WHERE client_hash = ? AND created_at >= ?').get(clientHash, checkTime('since', since)) as { n: number };
    return row.n;
  }

  /* ---------------------------------------------------------------- users */

  async createUser(input: NewUser): Promise<UserRecord> {
    const name = checkName('name', input?.name, 100);
    if (name !== name.trim()) throw new StoreInputError('name', 'must not begin or end with spaces');
    const role = checkOneOf('role', input.role, USER_ROLES);
    const password = checkPassword('password', input.password);
    const actor = checkOptionalName('actor', input.actor);
    const key = userNameKey(name);
    const hash = await hashPassword(password, this.settings.passwordParams);
    return this.write(() => {
      if (this.sql('SELECT 1 FROM users WHERE name_key = ?').get(key)) throw new DuplicateNameError('user', name);
      const at = this.nowIso();
      let id: number;
      try {
        id = Number(
          this.sql('INSERT INTO users (name, name_key, role, password_hash, created_at, disabled, version) VALUES (?, ?, ?, ?, ?, 0, 1)').run(name, key, role, hash, at).lastInsertRowid,
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateNameError('user', name);
        throw err;
      }
      this.audit(actor, 'user.create', 'user', id, { name, role }, at);
      return toUser(this.sql('SELECT * FROM users WHERE id = ?').get(id) as UserRow);
    });
  }

  private userRow(ref: number | string): UserRow | undefined {
    return typeof ref === 'number'
      ? (this.sql('SELECT * FROM users WHERE id = ?').get(ref) as UserRow | undefined)
      : (this.sql('SELECT * FROM users WHERE name_key = ?').get(userNameKey(ref)) as UserRow | undefined);
  }

  async getUser(ref: number | string): Promise<UserRecord> {
    const row = this.userRow(typeof ref === 'number' ? checkId('id', ref) : checkName('name', ref));
    if (!row) throw new NotFoundError('user', ref);
    return toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (this.sql('SELECT * FROM users ORDER BY id').all() as UserRow[]).map(toUser);
  }

  async updateUser(id: number, expectedVersion: number, patch: UserPatch, actor?: Actor): Promise<UserRecord> {
    checkId('id', id);
    checkVersion('expectedVersion', expectedVersion);
    if (patch === null || typeof patch !== 'object') throw new StoreInputError('patch', 'must be an object');
    const sets: string[] = [];
    const values: unknown[] = [];
    const fields: string[] = [];
    if (patch.role !== undefined) sets.push('role = ?'), values.push(checkOneOf('role', patch.role, USER_ROLES)), fields.push('role');
    if (patch.disabled !== undefined) {
      if (typeof patch.disabled !== 'boolean') throw new StoreInputError('disabled', 'must be true or false');
      sets.push('disabled = ?'), values.push(patch.disabled ? 1 : 0), fields.push('disabled');
    }
    if (patch.password !== undefined) {
      const hash = await hashPassword(checkPassword('password', patch.password), this.settings.passwordParams);
      sets.push('password_hash = ?'), values.push(hash), fields.push('password');
    }
    if (sets.length === 0) throw new StoreInputError('patch', 'changes nothing (give role, disabled or password)');
    const who = checkOptionalName('actor', actor);
    return this.write(() => {
      const changes = this.sql(`UPDATE users SET ${sets.join(', ')}, version = version + 1 WHERE id = ? AND version = ?`).run(...values, id, expectedVersion).changes;
      if (changes !== 1) this.explainMissedUpdate('users', 'user', id, expectedVersion);
      // A disabled user or a changed password ends every session of that user.
      let sessionsEnded = 0;
      if (patch.disabled === true || patch.password !== undefined) sessionsEnded = this.sql('DELETE FROM sessions WHERE user_id = ?').run(id).changes;
      this.audit(who, 'user.update', 'user', id, { fromVersion: expectedVersion, fields, role: patch.role, disabled: patch.disabled, sessionsEnded });
      return toUser(this.sql('SELECT * FROM users WHERE id = ?').get(id) as UserRow);
    });
  }

  async verifyUserPassword(name: string, password: string): Promise<UserRecord | null> {
    if (typeof name !== 'string' || typeof password !== 'string') throw new StoreInputError(typeof name !== 'string' ? 'name' : 'password', 'must be a string');
    if (password.length > MAX_PASSWORD_CHARS || name.length > 100) return null;
    const row = this.userRow(name);
    // Run scrypt even for an unknown name, so response time does not tell which names exist.
    this.dummyHash ??= hashPassword('not a password of anyone', this.settings.passwordParams);
    const ok = await verifyPassword(password, row?.password_hash ?? (await this.dummyHash));
    return row && ok && row.disabled === 0 ? toUser(row) : null;
  }

  /* ---------------------------------------------------------------- sessions */

  async createSession(userId: number, opts: { ttlSeconds?: number; actor?: Actor } = {}): Promise<NewSessionResult> {
    checkId('userId', userId);
    const ttl = checkTtl('ttlSeconds', opts.ttlSeconds ?? this.settings.sessionTtlSeconds);
    const actorGiven = opts.actor === undefined ? undefined : checkOptionalName('actor', opts.actor);
    const token = newSecretToken();
    const csrfToken = newSecretToken();
    return this.write(() => {
      const user = this.userRow(userId);
      if (!user) throw new NotFoundError('user', userId);
      if (user.disabled === 1) throw new InvalidStateError('user', userId, 'disabled', 'cannot log in');
      const now = this.settings.now();
      const createdAt = now.toISOString();
      const expiresAt = new Date(now.getTime() + ttl * 1000).toISOString();
      this.sql('INSERT INTO sessions (token_hash, user_id, created_at, expires_at, csrf_token) VALUES (?, ?, ?, ?, ?)').run(hashToken(token), userId, createdAt, expiresAt, csrfToken);
      this.audit(actorGiven === undefined ? user.name : actorGiven, 'session.create', 'user', userId, { expiresAt }, createdAt);
      return { token, userId, userName: user.name, role: user.role, csrfToken, createdAt, expiresAt };
    });
  }

  async getSession(token: string): Promise<SessionRecord | null> {
    if (typeof token !== 'string' || !SECRET_TOKEN_PATTERN.test(token)) return null;
    const row = this.sql(
      `SELECT s.user_id, s.created_at, s.expires_at, s.csrf_token, u.name, u.role, u.disabled
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`,
    ).get(hashToken(token)) as
      | { user_id: number; created_at: string; expires_at: string; csrf_token: string; name: string; role: UserRole; disabled: number }
      | undefined;
    if (!row || row.disabled === 1 || Date.parse(row.expires_at) <= this.settings.now().getTime()) return null;
    return { userId: row.user_id, userName: row.name, role: row.role, csrfToken: row.csrf_token, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  async deleteSession(token: string, actor?: Actor): Promise<boolean> {
    if (typeof token !== 'string' || !SECRET_TOKEN_PATTERN.test(token)) return false;
    const who = actor === undefined ? undefined : checkOptionalName('actor', actor);
    return this.write(() => {
      const hash = hashToken(token);
      const row = this.sql('SELECT s.user_id, u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?').get(hash) as { user_id: number; name: string } | undefined;
      if (!row) return false;
      this.sql('DELETE FROM sessions WHERE token_hash = ?').run(hash);
      this.audit(who === undefined ? row.name : who, 'session.delete', 'user', row.user_id, null);
      return true;
    });
  }

  async expireSessions(): Promise<number> {
    return this.write(() => {
      const at = this.nowIso();
      // ISO strings of one fixed format order like the times they name.
      const count = this.sql('DELETE FROM sessions WHERE expires_at <= ?').run(at).changes;
      if (count > 0) this.audit(null, 'session.expire', 'session', null, { count }, at);
      return count;
    });
  }

  /* ---------------------------------------------------------------- audit */

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const action = checkName('action', entry?.action, 100);
    const entity = checkName('entity', entry.entity, 100);
    const entityId = entry.entityId === undefined || entry.entityId === null ? null : checkName('entityId', String(entry.entityId));
    const actor = checkOptionalName('actor', entry.actor);
    const detail = entry.detail === undefined ? null : entry.detail;
    this.json('detail', detail);
    return this.write(() => this.audit(actor, action, entity, entityId, detail));
  }

  async listAudit(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.actor !== undefined) where.push('actor = ?'), values.push(checkName('actor', filter.actor));
    if (filter.action !== undefined) where.push('action = ?'), values.push(checkName('action', filter.action));
    if (filter.entity !== undefined) where.push('entity = ?'), values.push(checkName('entity', filter.entity));
    if (filter.entityId !== undefined) where.push('entity_id = ?'), values.push(checkName('entityId', String(filter.entityId)));
    if (filter.since !== undefined) where.push('at >= ?'), values.push(checkTime('since', filter.since));
    if (filter.until !== undefined) where.push('at <= ?'), values.push(checkTime('until', filter.until));
    if (filter.beforeId !== undefined) where.push('id < ?'), values.push(checkId('beforeId', filter.beforeId));
    const limit = checkLimit('limit', filter.limit);
    const rows = this.sql(`SELECT * FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(...values, limit) as AuditRow[];
    return rows.map(toAudit);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}


