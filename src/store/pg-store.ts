/**
 * The shared store: one PostgreSQL database (with PostGIS) behind the asynchronous QuarterStore
 * interface, for a city where several stateless API servers share one database.
 *
 * Same guarantees as the SQLite store, made without a database-wide write lock:
 *  - every write is one transaction (READ COMMITTED) together with its audit row;
 *  - version checks sit in the WHERE clause of the UPDATE/DELETE itself, so two servers that read
 *    the same version cannot both write: the second UPDATE waits for the first one's row lock,
 *    re-reads the row and matches nothing. Rows read before a write that depends on them are read
 *    FOR UPDATE / FOR SHARE; appends of facility edits rely on UNIQUE (region, facility_ref,
 *    version) with ON CONFLICT DO NOTHING;
 *  - schema migrations run under an advisory lock, so servers starting together migrate once;
 *  - timestamps are timestamptz, written from and read back to the store's ISO strings (toISOString
 *    form: UTC, milliseconds), JSON is kept in text columns, exactly as given.
 * The database is named in messages by its URL with the password replaced by ***.
 */
import pg from 'pg';
import { checkMigrationList, migrationSql, MIGRATIONS, planMigrations, SCHEMA_MIGRATIONS_DDL, type AppliedMigration, type Migration } from './migrations.js';
import { DEFAULT_SCRYPT, hashPassword, MAX_PASSWORD_CHARS, verifyPassword, type ScryptParams } from './passwords.js';
import { toScenario, toRegion, toFacilityEdit, toPlanRun, toSurvey, toUser, toAudit, toBatch, toBatchJob, checkNewBatch, checkBatchJobPatch, compareZones, checkTtl, checkRating, checkPassword, type ScenarioRow, type RegionRow, type FacilityEditRow, type PlanRunRow, type SurveyRow, type UserRow, type AuditRow, type BatchRow, type BatchCountRow, type BatchJobRow } from './rows.js';
import { databaseUrlSecrets, redactDatabaseUrl, redactSecrets } from './redact.js';
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

export interface PgStoreOptions {
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
  /** connections this store keeps open at most; default 10. */
  poolSize?: number;
  /** how long to wait for a connection (opening or from the pool); default 10 000 ms. */
  connectTimeoutMs?: number;
  /** how long to wait for another server that is migrating the same database; default 120 000 ms. */
  migrationLockTimeoutMs?: number;
  /** the password, when the URL has none (e.g. read from a file); the URL's own password wins. */
  password?: string;
}

/*
 * The rules below are the SQLite store's (src/store/sqlite-store.ts), repeated here: the contract
 * tests run the same refused inputs against both backends.
 */
const MAX_COMMENT_CHARS = 5000;
const MAX_FORMAT_ID_CHARS = 64;
const CLIENT_HASH = /^[A-Za-z0-9+/=_-]{16,128}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** First key of the schema-migration advisory lock ("QrtR"); the second is the schema's hashtext. */
export const MIGRATION_LOCK_KEY = 0x51727452;
/** Generated columns (PostgreSQL 12) are used by the schema. */
const MIN_SERVER_VERSION = 120000;
/** A transaction that lost a deadlock or serialisation race is run again this many times at most. */
const MAX_ATTEMPTS = 3;

const PG_OID = { int8: 20, timestamptz: 1184 } as const;

/**
 * Column types as the records want them: bigint ids and counts as numbers (ids stay far below
 * 2^53; a larger value is an error, not a rounded number), timestamptz as toISOString() strings.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === PG_OID.int8) {
      return (text: string): number => {
        const n = Number(text);
        if (!Number.isSafeInteger(n)) throw new Error(`bigint ${text} is beyond the safe integer range`);
        return n;
      };
    }
    if (oid === PG_OID.timestamptz) {
      const toDate = pg.types.getTypeParser(PG_OID.timestamptz, 'text') as (text: string) => Date;
      return (text: string): string => toDate(text).toISOString();
    }
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const isPostgresUrl = (s: string): boolean => /^postgres(ql)?:\/\//i.test(s);

/** Open the store in the database at `url` (postgres://user:password@host:port/database), migrating it if needed. */
export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<QuarterStore> {
  if (typeof url !== 'string' || !isPostgresUrl(url)) throw new StoreInputError('url', 'must be a postgres:// or postgresql:// URL');
  const location = redactDatabaseUrl(url);
  const migrations = opts.migrations ?? MIGRATIONS;
  checkMigrationList(migrations);
  const now = opts.now ?? (() => new Date());
  const sessionTtlSeconds = checkTtl('sessionTtlSeconds', opts.sessionTtlSeconds ?? 86400);
  const maxJsonBytes = opts.maxJsonBytes ?? MAX_JSON_BYTES;
  if (!Number.isInteger(maxJsonBytes) || maxJsonBytes < 1) throw new StoreInputError('maxJsonBytes', `must be a positive integer, got ${maxJsonBytes}`);
  const poolSize = opts.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) throw new StoreInputError('poolSize', `must be an integer in [1, 1000], got ${poolSize}`);
  const connectTimeoutMs = checkMs('connectTimeoutMs', opts.connectTimeoutMs ?? 10_000);
  const lockTimeoutMs = checkMs('migrationLockTimeoutMs', opts.migrationLockTimeoutMs ?? 120_000);
  const secrets = databaseUrlSecrets(url);
  let connectionString = url;
  if (opts.password !== undefined && opts.password !== '') {
    secrets.push(opts.password);
    connectionString = withPassword(url, opts.password);
  }

  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'quarter',
    types: TYPES,
  });
  // An idle connection that dies (server restart, network) is dropped by the pool; the next query
  // opens a new one or reports the failure. Without a listener the error would end the process.
  pool.on('error', () => {});
  try {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw openFailure(location, err, secrets);
    }
    let broken: Error | undefined;
    try {
      await checkServer(client, location);
      await migrate(client, location, migrations, now, lockTimeoutMs, secrets);
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      // a connection that failed mid-migration is closed, not reused: it may hold the lock or a transaction
      client.release(broken);
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw err instanceof StoreOpenError ? err : openFailure(location, err, secrets);
  }
  return new PgQuarterStore(pool, location, secrets, { now, maxJsonBytes, passwordParams: opts.passwordParams ?? DEFAULT_SCRYPT, sessionTtlSeconds });
}

/** The URL with `password` put in its user info (only when it has none), percent-encoded. */
function withPassword(url: string, password: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreInputError('url', `is not a valid URL: ${redactDatabaseUrl(url)}`);
  }
  if (u.password !== '') return url;
  if (u.username === '') throw new StoreInputError('url', 'names no user, so a password cannot be added to it (postgres://USER@host/db)');
  u.password = encodeURIComponent(password);
  return u.toString();
}

const checkMs = (field: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 3_600_000) throw new StoreInputError(field, `must be an integer number of milliseconds in [1, 3600000], got ${String(v)}`);
  return v;
};


const errorCode = (err: unknown): string => String((err as { code?: unknown })?.code ?? '');
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Network-level and server-availability failures: the database could not be reached or went away. */
function isConnectionFailure(err: unknown): boolean {
  const code = errorCode(err);
  return /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|57P0[1-3]|08)/.test(code) || /Connection terminated|timeout exceeded when trying to connect/i.test(errorText(err));
}

/** A clear one-line reason for a failure to open, naming the database (password redacted). */
function openFailure(location: string, err: unknown, secrets: readonly string[]): StoreOpenError {
  const code = errorCode(err);
  const message = redactSecrets(errorText(err), secrets);
  if (code === '28P01' || code === '28000') return new StoreOpenError(location, `the server refused the login (${message}): check the user and password`);
  if (code === '3D000') return new StoreOpenError(location, `${message}: create it first (createdb), or fix the database name in the URL`);
  if (code === 'ECONNREFUSED') return new StoreOpenError(location, `no PostgreSQL server answers at this address (${message})`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new StoreOpenError(location, `the host name does not resolve (${message})`);
  if (/timeout exceeded when trying to connect/i.test(message)) return new StoreOpenError(location, 'the server did not answer in time');
  return new StoreOpenError(location, `cannot open the database (${code ? `${code}: ` : ''}${message})`);
}

async function checkServer(client: pg.PoolClient, location: string): Promise<void> {
  const { rows } = await client.query<{ v: string; schema: string | null }>(`SELECT current_setting('server_version_num') AS v, current_schema() AS schema`);
  if (Number(rows[0].v) < MIN_SERVER_VERSION) throw new StoreOpenError(location, `PostgreSQL ${rows[0].v} is too old: the store needs PostgreSQL 12 or later`);
  if (rows[0].schema === null) throw new StoreOpenError(location, 'no schema is selected: the search_path names no existing schema');
}

/** Tables in the current schema that are not the store's bookkeeping and not owned by an extension (PostGIS has spatial_ref_sys). */
async function ownTables(client: pg.PoolClient): Promise<string[]> {
  const { rows } = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY c.relname`,
  );
  return rows.map((r) => r.relname);
}

/** Apply pending migrations under the advisory lock, one transaction each; refuse a database that is not ours or is newer. */
async function migrate(client: pg.PoolClient, location: string, list: readonly Migration[], now: () => Date, lockTimeoutMs: number, secrets: readonly string[]): Promise<void> {
  await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${lockTimeoutMs}ms`]);
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [MIGRATION_LOCK_KEY]);
  } catch (err) {
    if (errorCode(err) === '55P03') throw new StoreOpenError(location, `another server has been migrating this database for over ${Math.round(lockTimeoutMs / 1000)} s; try again when it has finished`);
    throw err;
  }
  try {
    await client.query(`SELECT set_config('lock_timeout', '0', false)`);
    const tables = await ownTables(client);
    if (tables.length > 0 && !tables.includes('schema_migrations')) {
      const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', …' : '');
      throw new StoreOpenError(location, `is a PostgreSQL database but not a Quarter store (its schema has tables ${shown} and no schema_migrations)`);
    }
    const latest = list.length ? `${list[list.length - 1].id} "${list[list.length - 1].name}"` : 'none';
    for (;;) {
      await client.query('BEGIN');
      try {
        // inside the transaction: a first migration that fails leaves not even the bookkeeping table
        await client.query(SCHEMA_MIGRATIONS_DDL.postgres);
        const applied = (await client.query<AppliedMigration>('SELECT id, name FROM schema_migrations ORDER BY id')).rows;
        const plan = planMigrations(applied, list);
        if (plan.unknown.length > 0) {
          const names = plan.unknown.map((m) => `${m.id} "${m.name}"`).join(', ');
          throw new StoreOpenError(location, `was written by a newer version of Quarter: it has schema migration ${names}, this version knows up to ${latest}; upgrade Quarter or open another database`);
        }
        if (plan.renamed.length > 0) {
          const r = plan.renamed[0];
          throw new StoreOpenError(location, `schema migration ${r.id} is "${r.applied}" in the database but "${r.known}" in this version: the database was made by another program or branch`);
        }
        const next = plan.pending[0];
        if (!next) {
          await client.query('COMMIT');
          break;
        }
        // a migration that creates PostGIS first checks that the server can (a clearer error than CREATE EXTENSION's)
        if (/\bpostgis\b/i.test(migrationSql(next, 'postgres'))) await requirePostgis(client, location);
        try {
          await client.query(migrationSql(next, 'postgres'));
        } catch (err) {
          if (errorCode(err) === '42501' && /extension/i.test(errorText(err))) {
            throw new StoreOpenError(
              location,
              `PostGIS is installed on the server but not enabled in this database, and this role may not enable it: ask a superuser to run CREATE EXTENSION postgis; in the database (${redactSecrets(errorText(err), secrets)})`,
            );
          }
          throw new StoreOpenError(location, `schema migration ${next.id} "${next.name}" failed, nothing of it was applied: ${redactSecrets(errorText(err), secrets)}`);
        }
        await client.query('INSERT INTO schema_migrations (id, name, description, applied_at) VALUES ($1, $2, $3, $4)', [next.id, next.name, next.description, now().toISOString()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [MIGRATION_LOCK_KEY]).catch(() => {});
    await client.query('RESET lock_timeout').catch(() => {});
  }
}

/** A clear error when the server has no PostGIS to create (the extension package is not installed). */
async function requirePostgis(client: pg.PoolClient, location: string): Promise<void> {
  const { rows } = await client.query<{ installed: boolean; available: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis') AS installed,
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis') AS available`,
  );
  if (!rows[0].installed && !rows[0].available) {
    throw new StoreOpenError(location, 'the PostgreSQL server has no PostGIS extension, which the store needs: install it on the database server (on Debian: apt-get install postgresql-15-postgis-3, matching the server version)');
  }
}

const isUniqueViolation = (err: unknown): boolean => errorCode(err) === '23505';

/** The point of a facility edit: its data's top-level lon/lat when both are numbers on the globe. */
export function facilityEditPoint(data: unknown): { lon: number; lat: number } | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  const { lon, lat } = data as { lon?: unknown; lat?: unknown };
  if (typeof lon !== 'number' || typeof lat !== 'number') return null;
  if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) return null;
  return { lon, lat };
}

/* ------------------------------------------------------------------------------------------------
 * Rows and records. Columns are listed, not *, so the geometry columns stay in the database.
 * ---------------------------------------------------------------------------------------------- */

const SCENARIO_COLUMNS = 'id, region, name, description, edits, version, created_at, updated_at, created_by';
const REGION_COLUMNS = 'name, file, sha256, imported_at, meta';
const FACILITY_COLUMNS = 'id, region, kind, facility_ref, data, version, actor, at';
const BATCH_COLUMNS = 'id, kind, params, created_at, actor';
const BATCH_JOB_COLUMNS = 'batch_id, job_key, region, state, progress, attempts, worker, error, result, updated_at, started_at, finished_at';
const BATCH_COUNTS = 'SELECT batch_id, state, COUNT(*)::int AS n, SUM(progress) AS progress_sum FROM batch_jobs';
const PLAN_RUN_COLUMNS = 'id, region, model, params, status, progress, result, error, version, created_at, updated_at, finished_at, actor';
const SURVEY_COLUMNS = 'id, region, zone, lon, lat, overall, per_format, comment, created_at';
const USER_COLUMNS = 'id, name, role, password_hash, created_at, disabled, version';



/** Positional parameters for a WHERE clause built piece by piece. */
class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** One statement runner: the pool (reads) or the connection of a transaction (writes). */
type Run = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

interface StoreSettings {
  now: () => Date;
  maxJsonBytes: number;
  passwordParams: ScryptParams;
  sessionTtlSeconds: number;
}

class PgQuarterStore implements QuarterStore {
  private closed = false;
  /** verified against when a login names no user, so that an unknown name costs the same time. */
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly location: string,
    private readonly secrets: readonly string[],
    private readonly settings: StoreSettings,
  ) {}

  /* ---------------------------------------------------------------- plumbing */

  private checkOpen(): void {
    if (this.closed) throw new Error(`the store ${this.location} is closed`);
  }

  /** A failure to reach the database, restated with the database's name; anything else as it is. */
  private translate(err: unknown): unknown {
    if (!isConnectionFailure(err)) return err;
    return new StoreUnavailableError(`${this.location}: lost or could not get a connection to the database (${redactSecrets(errorText(err), this.secrets)}); nothing was written`, { cause: err });
  }

  /** A read outside any transaction. */
  private readonly read: Run = async (text, values) => {
    this.checkOpen();
    try {
      return await this.pool.query(text, values);
    } catch (err) {
      throw this.translate(err);
    }
  };

  /**
   * One write: BEGIN … COMMIT on one connection, rolled back entirely when `step` throws. A
   * transaction that lost a deadlock is run again (step only touches the database).
   */
  private async write<T>(step: (run: Run) => Promise<T>): Promise<T> {
    this.checkOpen();
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw this.translate(err);
      }
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const run: Run = (text, values) => client.query(text, values);
        const result = await step(run);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
        const code = errorCode(err);
        if ((code === '40P01' || code === '40001') && attempt < MAX_ATTEMPTS) continue;
        throw this.translate(err);
      } finally {
        client.release(broken);
      }
    }
  }

  private nowIso(): string {
    return this.settings.now().toISOString();
  }

  private json(field: string, value: unknown): string {
    return toJsonText(field, value, this.settings.maxJsonBytes);
  }

  private async audit(run: Run, actor: Actor, action: string, entity: string, entityId: string | number | null, detail: unknown, at = this.nowIso()): Promise<AuditEntry> {
    const eid = entityId === null ? null : String(entityId);
    const { rows } = await run<{ id: number }>('INSERT INTO audit_log (at, actor, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id', [
      at,
      actor,
      action,
      entity,
      eid,
      JSON.stringify(detail ?? null),
    ]);
    return { id: rows[0].id, at, actor, action, entity, entityId: eid, detail: detail ?? null };
  }

  private async requireRegion(run: Run, region: string): Promise<void> {
    if ((await run('SELECT 1 FROM regions WHERE name = $1', [region])).rowCount === 0) throw new NotFoundError('region', region);
  }

  /* ---------------------------------------------------------------- regions */

  async upsertRegion(input: RegionInput): Promise<RegionRecord> {
    const name = checkName('name', input?.name);
    const file = checkName('file', input.file, 4096);
    if (typeof input.sha256 !== 'string' || !SHA256_HEX.test(input.sha256)) throw new StoreInputError('sha256', 'must be 64 lower-case hexadecimal digits');
    const meta = this.json('meta', checkJsonObject('meta', input.meta ?? {}));
    const actor = checkOptionalName('actor', input.actor);
    const importedAtGiven = input.importedAt === undefined ? undefined : checkTime('importedAt', input.importedAt);
    const sha256 = input.sha256;
    return this.write(async (run) => {
      const at = this.nowIso();
      // xmax = 0 on a row this statement inserted: create or update is decided by the database, not by a read before it
      const { rows } = await run<RegionRow & { inserted: boolean }>(
        `INSERT INTO regions (name, file, sha256, imported_at, meta) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET file = EXCLUDED.file, sha256 = EXCLUDED.sha256, imported_at = EXCLUDED.imported_at, meta = EXCLUDED.meta
         RETURNING ${REGION_COLUMNS}, (xmax::text = '0') AS inserted`,
        [name, file, sha256, importedAtGiven ?? at, meta],
      );
      await this.audit(run, actor, rows[0].inserted ? 'region.create' : 'region.update', 'region', name, { file, sha256 }, at);
      return toRegion(rows[0]);
    });
  }

  async listRegions(): Promise<RegionRecord[]> {
    const { rows } = await this.read<RegionRow>(`SELECT ${REGION_COLUMNS} FROM regions`);
    return rows.map(toRegion).sort((a, b) => compareZones(a.name, b.name));
  }

  async getRegion(name: string): Promise<RegionRecord> {
    const { rows } = await this.read<RegionRow>(`SELECT ${REGION_COLUMNS} FROM regions WHERE name = $1`, [checkName('name', name)]);
    if (!rows[0]) throw new NotFoundError('region', name);
    return toRegion(rows[0]);
  }

  /* ---------------------------------------------------------------- scenarios */

  async listScenarios(region?: string): Promise<ScenarioRecord[]> {
    const { rows } =
      region === undefined
        ? await this.read<ScenarioRow>(`SELECT ${SCENARIO_COLUMNS} FROM scenarios ORDER BY id`)
        : await this.read<ScenarioRow>(`SELECT ${SCENARIO_COLUMNS} FROM scenarios WHERE region = $1 ORDER BY id`, [checkName('region', region)]);
    return rows.map(toScenario);
  }

  async getScenario(ref: number | { region: string; name: string }): Promise<ScenarioRecord> {
    if (typeof ref === 'number') {
      const { rows } = await this.read<ScenarioRow>(`SELECT ${SCENARIO_COLUMNS} FROM scenarios WHERE id = $1`, [checkId('id', ref)]);
      if (!rows[0]) throw new NotFoundError('scenario', ref);
      return toScenario(rows[0]);
    }
    if (ref === null || typeof ref !== 'object') throw new StoreInputError('ref', 'must be a scenario id or { region, name }');
    const region = checkName('region', ref.region);
    const name = checkName('name', ref.name);
    const { rows } = await this.read<ScenarioRow>(`SELECT ${SCENARIO_COLUMNS} FROM scenarios WHERE region = $1 AND name = $2`, [region, name]);
    if (!rows[0]) throw new NotFoundError('scenario', `${region}/${name}`);
    return toScenario(rows[0]);
  }

  async createScenario(input: NewScenario): Promise<ScenarioRecord> {
    const region = checkName('region', input?.region);
    const name = checkName('name', input.name);
    const description = checkText('description', input.description ?? '');
    const edits = this.json('edits', checkJsonArray('edits', input.edits));
    const actor = checkOptionalName('actor', input.actor);
    // One statement, so one round trip and atomic without BEGIN/COMMIT: under load every round trip
    // waits a turn of the server's event loop. The scenario and its audit row are written together
    // or not at all; a missing region or a taken name writes nothing and is told apart afterwards.
    const at = this.nowIso();
    const { rows } = await this.read<ScenarioRow>(
      `WITH created AS (
         INSERT INTO scenarios (region, name, description, edits, version, created_at, updated_at, created_by)
         SELECT $1, $2, $3, $4, 1, $5, $5, $6 WHERE EXISTS (SELECT 1 FROM regions WHERE name = $1)
         ON CONFLICT (region, name) DO NOTHING
         RETURNING ${SCENARIO_COLUMNS}),
       audited AS (
         INSERT INTO audit_log (at, actor, action, entity, entity_id, detail)
         SELECT $5, $6, 'scenario.create', 'scenario', id::text, $7 FROM created)
       SELECT ${SCENARIO_COLUMNS} FROM created`,
      [region, name, description, edits, at, actor, JSON.stringify({ region, name })],
    );
    if (rows[0]) return toScenario(rows[0]);
    await this.requireRegion(this.read, region);
    throw new DuplicateNameError('scenario', name);
  }

  async updateScenario(id: number, expectedVersion: number, patch: ScenarioPatch, actor?: Actor): Promise<ScenarioRecord> {
    checkId('id', id);
    checkVersion('expectedVersion', expectedVersion);
    if (patch === null || typeof patch !== 'object') throw new StoreInputError('patch', 'must be an object');
    const p = new Params();
    const sets: string[] = [];
    if (patch.name !== undefined) sets.push(`name = ${p.add(checkName('name', patch.name))}`);
    if (patch.description !== undefined) sets.push(`description = ${p.add(checkText('description', patch.description))}`);
    if (patch.edits !== undefined) sets.push(`edits = ${p.add(this.json('edits', checkJsonArray('edits', patch.edits)))}`);
    if (sets.length === 0) throw new StoreInputError('patch', 'changes nothing (give name, description or edits)');
    const who = checkOptionalName('actor', actor);
    const at = this.nowIso();
    const detail = JSON.stringify({ fromVersion: expectedVersion, fields: Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined) });
    // one statement (see createScenario): the versioned UPDATE and its audit row, or neither
    const sql = `WITH updated AS (
        UPDATE scenarios SET ${sets.join(', ')}, version = version + 1, updated_at = ${p.add(at)} WHERE id = ${p.add(id)} AND version = ${p.add(expectedVersion)} RETURNING ${SCENARIO_COLUMNS}),
      audited AS (
        INSERT INTO audit_log (at, actor, action, entity, entity_id, detail)
        SELECT updated_at, ${p.add(who)}, 'scenario.update', 'scenario', id::text, ${p.add(detail)} FROM updated)
      SELECT ${SCENARIO_COLUMNS} FROM updated`;
    let rows: ScenarioRow[];
    try {
      ({ rows } = await this.read<ScenarioRow>(sql, p.values));
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateNameError('scenario', patch.name ?? '');
      throw err;
    }
    if (rows.length !== 1) return this.explainMissedUpdate(this.read, 'scenarios', 'scenario', id, expectedVersion);
    return toScenario(rows[0]);
  }

  async deleteScenario(id: number, expectedVersion: number, actor?: Actor): Promise<void> {
    checkId('id', id);
    checkVersion('expectedVersion', expectedVersion);
    const who = checkOptionalName('actor', actor);
    await this.write(async (run) => {
      const { rows } = await run<{ region: string; name: string }>('DELETE FROM scenarios WHERE id = $1 AND version = $2 RETURNING region, name', [id, expectedVersion]);
      if (rows.length !== 1) await this.explainMissedUpdate(run, 'scenarios', 'scenario', id, expectedVersion);
      await this.audit(run, who, 'scenario.delete', 'scenario', id, { region: rows[0].region, name: rows[0].name, version: expectedVersion });
    });
  }

  /** An UPDATE/DELETE … WHERE id = $ AND version = $ touched nothing: say why. Always throws. */
  private async explainMissedUpdate(run: Run, table: 'scenarios' | 'users', entity: string, id: number, expected: number): Promise<never> {
    const { rows } = await run<{ version: number }>(`SELECT version FROM ${table} WHERE id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError(entity, id);
    throw new VersionConflictError(entity, id, expected, rows[0].version);
  }

  /* ---------------------------------------------------------------- facility edits */

  async appendFacilityEdit(input: NewFacilityEdit, expectedVersion: number): Promise<FacilityEditRecord> {
    const region = checkName('region', input?.region);
    const kind = checkOneOf('kind', input.kind, FACILITY_EDIT_KINDS);
    const ref = checkName('facilityRef', input.facilityRef);
    const dataValue = input.data === undefined ? null : input.data;
    const data = this.json('data', dataValue);
    const point = facilityEditPoint(dataValue);
    const actor = checkOptionalName('actor', input.actor);
    checkVersion('expectedVersion', expectedVersion, 0);
    return this.write(async (run) => {
      await this.requireRegion(run, region);
      const current = await this.facilityVersion(run, region, ref);
      if (current !== expectedVersion) throw new VersionConflictError('facility', ref, expectedVersion, current);
      const at = this.nowIso();
      // Two servers that both read `current` both insert version current+1: the unique key lets one
      // in, the other waits for it to commit and then inserts nothing.
      const { rows } = await run<FacilityEditRow>(
        `INSERT INTO facility_edits (region, kind, facility_ref, data, version, actor, at, geom)
         VALUES ($1, $2, $3, $4, $5, $6, $7, ST_SetSRID(ST_MakePoint($8::double precision, $9::double precision), 4326))
         ON CONFLICT (region, facility_ref, version) DO NOTHING RETURNING ${FACILITY_COLUMNS}`,
        [region, kind, ref, data, expectedVersion + 1, actor, at, point?.lon ?? null, point?.lat ?? null],
      );
      if (rows.length !== 1) throw new VersionConflictError('facility', ref, expectedVersion, await this.facilityVersion(run, region, ref));
      await this.audit(run, actor, `facility.${kind}`, 'facility', ref, { region, version: expectedVersion + 1, editId: rows[0].id }, at);
      return toFacilityEdit(rows[0]);
    });
  }

  private async facilityVersion(run: Run, region: string, ref: string): Promise<number> {
    const { rows } = await run<{ v: number | null }>('SELECT MAX(version) AS v FROM facility_edits WHERE region = $1 AND facility_ref = $2', [region, ref]);
    return rows[0].v ?? 0;
  }

  async listFacilityEdits(region: string, facilityRef?: string): Promise<FacilityEditRecord[]> {
    const r = checkName('region', region);
    const { rows } =
      facilityRef === undefined
        ? await this.read<FacilityEditRow>(`SELECT ${FACILITY_COLUMNS} FROM facility_edits WHERE region = $1 ORDER BY id`, [r])
        : await this.read<FacilityEditRow>(`SELECT ${FACILITY_COLUMNS} FROM facility_edits WHERE region = $1 AND facility_ref = $2 ORDER BY id`, [r, checkName('facilityRef', facilityRef)]);
    return rows.map(toFacilityEdit);
  }

  /* ---------------------------------------------------------------- plan runs */

  async createPlanRun(input: NewPlanRun): Promise<PlanRunRecord> {
    const region = checkName('region', input?.region);
    const model = checkName('model', input.model);
    const params = this.json('params', input.params === undefined ? null : input.params);
    const actor = checkOptionalName('actor', input.actor);
    return this.write(async (run) => {
      await this.requireRegion(run, region);
      const at = this.nowIso();
      const { rows } = await run<PlanRunRow>(
        `INSERT INTO plan_runs (region, model, params, status, progress, version, created_at, updated_at, actor) VALUES ($1, $2, $3, 'queued', 0, 1, $4, $4, $5) RETURNING ${PLAN_RUN_COLUMNS}`,
        [region, model, params, at, actor],
      );
      await this.audit(run, actor, 'plan_run.create', 'plan_run', rows[0].id, { region, model }, at);
      return toPlanRun(rows[0]);
    });
  }

  private async planRunRow(run: Run, id: number, lock = ''): Promise<PlanRunRecord> {
    const { rows } = await run<PlanRunRow>(`SELECT ${PLAN_RUN_COLUMNS} FROM plan_runs WHERE id = $1${lock}`, [id]);
    if (!rows[0]) throw new NotFoundError('plan run', id);
    return toPlanRun(rows[0]);
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
    return this.write(async (run) => {
      // FOR UPDATE: the status and version checked below cannot change before the UPDATE
      const cur = await this.planRunRow(run, id, ' FOR UPDATE');
      if (expect.version !== undefined && cur.version !== expect.version) throw new VersionConflictError('plan run', id, expect.version, cur.version);
      if (expectStatus && !expectStatus.includes(cur.status)) throw new InvalidStateError('plan run', id, cur.status, `expected ${expectStatus.join(' or ')}`);
      const to = newStatus ?? cur.status;
      if (!PLAN_RUN_TRANSITIONS[cur.status].includes(to)) {
        throw new InvalidStateError('plan run', id, cur.status, isFinished(cur.status) ? 'a finished run cannot change' : `cannot become ${to}`);
      }
      const at = this.nowIso();
      const progress = patch.progress ?? (to === 'done' ? 1 : cur.progress);
      const finishedAt = isFinished(to) ? at : null;
      const p = new Params();
      const sets = [`status = ${p.add(to)}`, `progress = ${p.add(progress)}`, `finished_at = ${p.add(finishedAt)}`, `updated_at = ${p.add(at)}`];
      // result and error are written only when given: a progress tick does not rewrite a large result
      if (result !== undefined) sets.push(`result = ${p.add(result)}`);
      if (error !== undefined) sets.push(`error = ${p.add(error)}`);
      const { rows } = await run<PlanRunRow>(
        `UPDATE plan_runs SET ${sets.join(', ')}, version = version + 1 WHERE id = ${p.add(id)} AND version = ${p.add(cur.version)} RETURNING ${PLAN_RUN_COLUMNS}`,
        p.values,
      );
      if (rows.length !== 1) throw new VersionConflictError('plan run', id, cur.version, (await this.planRunRow(run, id)).version);
      const action = to === cur.status ? 'plan_run.progress' : `plan_run.${to}`;
      await this.audit(run, who, action, 'plan_run', id, { from: cur.status, to, progress }, at);
      return toPlanRun(rows[0]);
    });
  }

  async getPlanRun(id: number): Promise<PlanRunRecord> {
    return this.planRunRow(this.read, checkId('id', id));
  }

  async listPlanRuns(filter: PlanRunFilter = {}): Promise<PlanRunRecord[]> {
    const p = new Params();
    const where: string[] = [];
    if (filter.region !== undefined) where.push(`region = ${p.add(checkName('region', filter.region))}`);
    if (filter.status !== undefined) where.push(`status = ${p.add(checkOneOf('status', filter.status, PLAN_RUN_STATUSES))}`);
    const limit = checkLimit('limit', filter.limit);
    const { rows } = await this.read<PlanRunRow>(`SELECT ${PLAN_RUN_COLUMNS} FROM plan_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${p.add(limit)}`, p.values);
    return rows.map(toPlanRun);
  }

  /* ---------------------------------------------------------------- batches */

  async createBatch(input: NewBatch): Promise<BatchRecord> {
    const b = checkNewBatch(input, this.settings.maxJsonBytes);
    return this.write(async (run) => {
      const at = this.nowIso();
      const { rows } = await run<BatchRow>(`INSERT INTO batches (kind, params, created_at, actor) VALUES ($1, $2, $3, $4) RETURNING ${BATCH_COLUMNS}`, [b.kind, b.params, at, b.actor]);
      const id = rows[0].id;
      // all jobs in one statement: arrays unnested, seq = position in the list
      await run(
        `INSERT INTO batch_jobs (batch_id, job_key, seq, region, state, progress, attempts, updated_at)
         SELECT $1, k, s - 1, r, 'queued', 0, 0, $2 FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS j (k, r, s)`,
        [id, at, b.jobs.map((j) => j.key), b.jobs.map((j) => j.region)],
      );
      await this.audit(run, b.actor, 'batch.create', 'batch', id, { kind: b.kind, jobs: b.jobs.length }, at);
      return toBatch(rows[0], [{ batch_id: id, state: 'queued', n: b.jobs.length, progress_sum: 0 }]);
    });
  }

  private async batchRecord(id: number): Promise<BatchRecord> {
    const { rows } = await this.read<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM batches WHERE id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError('batch', id);
    const counts = await this.read<BatchCountRow>(`${BATCH_COUNTS} WHERE batch_id = $1 GROUP BY batch_id, state`, [id]);
    return toBatch(rows[0], counts.rows);
  }

  async getBatch(id: number): Promise<BatchRecord & { jobs: BatchJobRecord[] }> {
    const batch = await this.batchRecord(checkId('id', id));
    const { rows } = await this.read<BatchJobRow>(`SELECT ${BATCH_JOB_COLUMNS} FROM batch_jobs WHERE batch_id = $1 ORDER BY seq`, [id]);
    return { ...batch, jobs: rows.map(toBatchJob) };
  }

  async listBatches(opts: { limit?: number } = {}): Promise<BatchRecord[]> {
    const limit = checkLimit('limit', opts.limit);
    const { rows } = await this.read<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM batches ORDER BY id DESC LIMIT $1`, [limit]);
    if (rows.length === 0) return [];
    const counts = await this.read<BatchCountRow>(`${BATCH_COUNTS} WHERE batch_id >= $1 GROUP BY batch_id, state`, [rows[rows.length - 1].id]);
    return rows.map((r) => toBatch(r, counts.rows.filter((c) => c.batch_id === r.id)));
  }

  async updateBatchJob(batchId: number, key: string, patch: BatchJobPatch): Promise<{ changed: boolean; job: BatchJobRecord }> {
    const c = checkBatchJobPatch(batchId, key, patch, this.settings.maxJsonBytes);
    const at = this.nowIso();
    const p = new Params();
    const sets = [`state = ${p.add(c.state)}`, `updated_at = ${p.add(at)}`];
    const progress = c.progress ?? (c.state === 'done' ? 1 : c.newAttempt ? 0 : undefined);
    if (progress !== undefined) sets.push(`progress = ${p.add(progress)}`);
    if (c.newAttempt) sets.push('attempts = attempts + 1', `started_at = ${p.add(at)}`, 'error = NULL');
    if (c.worker !== undefined) sets.push(`worker = ${p.add(c.worker)}`);
    if (c.error !== undefined) sets.push(`error = ${p.add(c.error)}`);
    if (c.result !== null) sets.push(`result = ${p.add(c.result)}`);
    sets.push(`finished_at = ${p.add(c.state === 'done' || c.state === 'failed' ? at : null)}`);
    // One autocommitted statement, no read first: "not done yet" is the guard, so of two workers
    // finishing the same job exactly one records its result (the row lock serialises them).
    const { rows } = await this.read<BatchJobRow>(
      `UPDATE batch_jobs SET ${sets.join(', ')} WHERE batch_id = ${p.add(c.batchId)} AND job_key = ${p.add(c.key)} AND state <> 'done' RETURNING ${BATCH_JOB_COLUMNS}`,
      p.values,
    );
    if (rows[0]) return { changed: true, job: toBatchJob(rows[0]) };
    const cur = await this.read<BatchJobRow>(`SELECT ${BATCH_JOB_COLUMNS} FROM batch_jobs WHERE batch_id = $1 AND job_key = $2`, [c.batchId, c.key]);
    if (!cur.rows[0]) throw new NotFoundError('batch job', `${c.batchId}/${c.key}`);
    return { changed: false, job: toBatchJob(cur.rows[0]) };
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
    return this.write(async (run) => {
      await this.requireRegion(run, region);
      const at = this.nowIso();
      const { rows } = await run<SurveyRow>(
        `INSERT INTO survey_responses (region, zone, lon, lat, overall, per_format, comment, created_at, client_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${SURVEY_COLUMNS}`,
        [region, zone, lon, lat, overall, perFormatText, comment, at, clientHash],
      );
      // The respondent is anonymous: no actor, and the audit detail carries nothing personal.
      await this.audit(run, null, 'survey.add', 'survey_response', rows[0].id, { region, zone }, at);
      return toSurvey(rows[0]);
    });
  }

  async listSurveyResponses(region: string, opts: { zone?: string | null; limit?: number; afterId?: number } = {}): Promise<SurveyResponseRecord[]> {
    const p = new Params();
    const where = [`region = ${p.add(checkName('region', region))}`];
    if (opts.zone === null) where.push('zone IS NULL');
    else if (opts.zone !== undefined) where.push(`zone = ${p.add(checkName('zone', opts.zone))}`);
    if (opts.afterId !== undefined) where.push(`id > ${p.add(checkVersion('afterId', opts.afterId, 0))}`);
    const limit = checkLimit('limit', opts.limit);
    const { rows } = await this.read<SurveyRow>(`SELECT ${SURVEY_COLUMNS} FROM survey_responses WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${p.add(limit)}`, p.values);
    return rows.map(toSurvey);
  }

  async summarizeSurvey(region: string): Promise<SurveyZoneSummary[]> {
    // Sums, not AVG: integer sums are exact in every database, and the division happens here once.
    const { rows } = await this.read<{ zone: string | null; n: number; total: number; satisfied: number }>(
      `SELECT zone, COUNT(*) AS n, SUM(overall) AS total, SUM(CASE WHEN overall >= 4 THEN 1 ELSE 0 END) AS satisfied
       FROM survey_responses WHERE region = $1 GROUP BY zone`,
      [checkName('region', region)],
    );
    return rows
      .map((r) => ({ zone: r.zone, count: r.n, meanOverall: r.total / r.n, shareSatisfied: r.satisfied / r.n }))
      .sort((a, b) => compareZones(a.zone, b.zone));
  }

  async countSurveyResponsesByClient(clientHash: string, since: string): Promise<number> {
    if (typeof clientHash !== 'string' || !CLIENT_HASH.test(clientHash)) throw new StoreInputError('clientHash', 'must be 16–128 characters of a keyed hash');
    const { rows } = await this.read<{ n: number }>('SELECT COUNT(*) AS n FROM survey_responses WHERE client_hash = $1 AND created_at >= $2', [clientHash, checkTime('since', since)]);
    return rows[0].n;
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
    return this.write(async (run) => {
      if ((await run('SELECT 1 FROM users WHERE name_key = $1', [key])).rowCount) throw new DuplicateNameError('user', name);
      const at = this.nowIso();
      let row: UserRow;
      try {
        ({
          rows: [row],
        } = await run<UserRow>(`INSERT INTO users (name, name_key, role, password_hash, created_at, disabled, version) VALUES ($1, $2, $3, $4, $5, false, 1) RETURNING ${USER_COLUMNS}`, [
          name,
          key,
          role,
          hash,
          at,
        ]));
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateNameError('user', name);
        throw err;
      }
      await this.audit(run, actor, 'user.create', 'user', row.id, { name, role }, at);
      return toUser(row);
    });
  }

  private async userRow(run: Run, ref: number | string, lock = ''): Promise<UserRow | undefined> {
    const { rows } =
      typeof ref === 'number'
        ? await run<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1${lock}`, [ref])
        : await run<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name_key = $1${lock}`, [userNameKey(ref)]);
    return rows[0];
  }

  async getUser(ref: number | string): Promise<UserRecord> {
    const row = await this.userRow(this.read, typeof ref === 'number' ? checkId('id', ref) : checkName('name', ref));
    if (!row) throw new NotFoundError('user', ref);
    return toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.read<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY id`)).rows.map(toUser);
  }

  async updateUser(id: number, expectedVersion: number, patch: UserPatch, actor?: Actor): Promise<UserRecord> {
    checkId('id', id);
    checkVersion('expectedVersion', expectedVersion);
    if (patch === null || typeof patch !== 'object') throw new StoreInputError('patch', 'must be an object');
    const p = new Params();
    const sets: string[] = [];
    const fields: string[] = [];
    if (patch.role !== undefined) sets.push(`role = ${p.add(checkOneOf('role', patch.role, USER_ROLES))}`), fields.push('role');
    if (patch.disabled !== undefined) {
      if (typeof patch.disabled !== 'boolean') throw new StoreInputError('disabled', 'must be true or false');
      sets.push(`disabled = ${p.add(patch.disabled)}`), fields.push('disabled');
    }
    if (patch.password !== undefined) {
      const hash = await hashPassword(checkPassword('password', patch.password), this.settings.passwordParams);
      sets.push(`password_hash = ${p.add(hash)}`), fields.push('password');
    }
    if (sets.length === 0) throw new StoreInputError('patch', 'changes nothing (give role, disabled or password)');
    const who = checkOptionalName('actor', actor);
    return this.write(async (run) => {
      const { rows } = await run<UserRow>(`UPDATE users SET ${sets.join(', ')}, version = version + 1 WHERE id = ${p.add(id)} AND version = ${p.add(expectedVersion)} RETURNING ${USER_COLUMNS}`, p.values);
      if (rows.length !== 1) await this.explainMissedUpdate(run, 'users', 'user', id, expectedVersion);
      // A disabled user or a changed password ends every session of that user.
      let sessionsEnded = 0;
      if (patch.disabled === true || patch.password !== undefined) sessionsEnded = (await run('DELETE FROM sessions WHERE user_id = $1', [id])).rowCount ?? 0;
      await this.audit(run, who, 'user.update', 'user', id, { fromVersion: expectedVersion, fields, role: patch.role, disabled: patch.disabled, sessionsEnded });
      return toUser(rows[0]);
    });
  }

  async verifyUserPassword(name: string, password: string): Promise<UserRecord | null> {
    if (typeof name !== 'string' || typeof password !== 'string') throw new StoreInputError(typeof name !== 'string' ? 'name' : 'password', 'must be a string');
    if (password.length > MAX_PASSWORD_CHARS || name.length > 100) return null;
    const row = await this.userRow(this.read, name);
    // Run scrypt even for an unknown name, so response time does not tell which names exist.
    this.dummyHash ??= hashPassword('not a password of anyone', this.settings.passwordParams);
    const ok = await verifyPassword(password, row?.password_hash ?? (await this.dummyHash));
    return row && ok && !row.disabled ? toUser(row) : null;
  }

  /* ---------------------------------------------------------------- sessions */

  async createSession(userId: number, opts: { ttlSeconds?: number; actor?: Actor } = {}): Promise<NewSessionResult> {
    checkId('userId', userId);
    const ttl = checkTtl('ttlSeconds', opts.ttlSeconds ?? this.settings.sessionTtlSeconds);
    const actorGiven = opts.actor === undefined ? undefined : checkOptionalName('actor', opts.actor);
    const token = newSecretToken();
    const csrfToken = newSecretToken();
    return this.write(async (run) => {
      // FOR SHARE: a concurrent "disable this user" waits until this session exists, then ends it
      const user = await this.userRow(run, userId, ' FOR SHARE');
      if (!user) throw new NotFoundError('user', userId);
      if (user.disabled) throw new InvalidStateError('user', userId, 'disabled', 'cannot log in');
      const now = this.settings.now();
      const createdAt = now.toISOString();
      const expiresAt = new Date(now.getTime() + ttl * 1000).toISOString();
      await run('INSERT INTO sessions (token_hash, user_id, created_at, expires_at, csrf_token) VALUES ($1, $2, $3, $4, $5)', [hashToken(token), userId, createdAt, expiresAt, csrfToken]);
      await this.audit(run, actorGiven === undefined ? user.name : actorGiven, 'session.create', 'user', userId, { expiresAt }, createdAt);
      return { token, userId, userName: user.name, role: user.role, csrfToken, createdAt, expiresAt };
    });
  }

  async getSession(token: string): Promise<SessionRecord | null> {
    if (typeof token !== 'string' || !SECRET_TOKEN_PATTERN.test(token)) return null;
    const { rows } = await this.read<{ user_id: number; created_at: string; expires_at: string; csrf_token: string; name: string; role: UserRole; disabled: boolean }>(
      `SELECT s.user_id, s.created_at, s.expires_at, s.csrf_token, u.name, u.role, u.disabled
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`,
      [hashToken(token)],
    );
    const row = rows[0];
    if (!row || row.disabled || Date.parse(row.expires_at) <= this.settings.now().getTime()) return null;
    return { userId: row.user_id, userName: row.name, role: row.role, csrfToken: row.csrf_token, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  async deleteSession(token: string, actor?: Actor): Promise<boolean> {
    if (typeof token !== 'string' || !SECRET_TOKEN_PATTERN.test(token)) return false;
    const who = actor === undefined ? undefined : checkOptionalName('actor', actor);
    return this.write(async (run) => {
      // the DELETE decides: of two logouts of one session, only the one that removed it is audited
      const { rows } = await run<{ user_id: number; name: string }>(
        `WITH gone AS (DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id)
         SELECT gone.user_id, u.name FROM gone JOIN users u ON u.id = gone.user_id`,
        [hashToken(token)],
      );
      if (!rows[0]) return false;
      await this.audit(run, who === undefined ? rows[0].name : who, 'session.delete', 'user', rows[0].user_id, null);
      return true;
    });
  }

  async expireSessions(): Promise<number> {
    return this.write(async (run) => {
      const at = this.nowIso();
      const count = (await run('DELETE FROM sessions WHERE expires_at <= $1', [at])).rowCount ?? 0;
      if (count > 0) await this.audit(run, null, 'session.expire', 'session', null, { count }, at);
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
    return this.write((run) => this.audit(run, actor, action, entity, entityId, detail));
  }

  async listAudit(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const p = new Params();
    const where: string[] = [];
    if (filter.actor !== undefined) where.push(`actor = ${p.add(checkName('actor', filter.actor))}`);
    if (filter.action !== undefined) where.push(`action = ${p.add(checkName('action', filter.action))}`);
    if (filter.entity !== undefined) where.push(`entity = ${p.add(checkName('entity', filter.entity))}`);
    if (filter.entityId !== undefined) where.push(`entity_id = ${p.add(checkName('entityId', String(filter.entityId)))}`);
    if (filter.since !== undefined) where.push(`at >= ${p.add(checkTime('since', filter.since))}`);
    if (filter.until !== undefined) where.push(`at <= ${p.add(checkTime('until', filter.until))}`);
    if (filter.beforeId !== undefined) where.push(`id < ${p.add(checkId('beforeId', filter.beforeId))}`);
    const limit = checkLimit('limit', filter.limit);
    const { rows } = await this.read<AuditRow>(
      `SELECT id, at, actor, action, entity, entity_id, detail FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${p.add(limit)}`,
      p.values,
    );
    return rows.map(toAudit);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}


