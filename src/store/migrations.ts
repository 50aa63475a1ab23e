/**
 * The store's schema as an ordered list of migrations. Each migration is applied once, in its own
 * transaction, and recorded in schema_migrations; a database that records a migration this code
 * does not know was written by a newer version and is refused rather than guessed at.
 *
 * Each migration carries its SQL per dialect. The SQLite text sticks to what PostgreSQL also
 * understands where it can (CHECK … IN, UNIQUE (a, b), REFERENCES, CREATE INDEX); the differences a
 * PostgreSQL dialect has to translate are: INTEGER PRIMARY KEY AUTOINCREMENT → bigint GENERATED
 * ALWAYS AS IDENTITY, STRICT tables → plain tables, REAL → double precision, disabled 0/1 →
 * boolean, timestamps TEXT → timestamptz. JSON columns must stay `text` or `json` there, not
 * `jsonb`: jsonb refuses "\u0000" inside strings, and the store promises JSON round-trips exactly.
 *
 * Rules for adding a migration: append, never edit or renumber one that has shipped; ids ascend.
 */

export type SqlDialect = 'sqlite' | 'postgres';

export interface Migration {
  /** positive, strictly ascending along the list, never reused. */
  id: number;
  /** short stable key, recorded with the id (a database whose migration 3 has another name is not ours). */
  name: string;
  description: string;
  /** the SQL per dialect; a dialect may be missing until its backend exists. */
  sql: { sqlite: string } & Partial<Record<SqlDialect, string>>;
}

/** The bookkeeping table itself, outside the list (it must exist before the list can be read against it). */
export const SCHEMA_MIGRATIONS_DDL: Record<SqlDialect, string> = {
  sqlite: `CREATE TABLE IF NOT EXISTS schema_migrations (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  applied_at TEXT NOT NULL
) STRICT`,
  postgres: `CREATE TABLE IF NOT EXISTS schema_migrations (
  id integer PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL,
  applied_at timestamptz NOT NULL
)`,
};

/*
 * Notes on the first schema:
 *  - AUTOINCREMENT so that ids of deleted rows are never handed out again: a stale browser tab
 *    holding "scenario 5, version 1" must not be able to overwrite a newer scenario 5.
 *  - JSON lives in TEXT columns, validated and size-checked by the store before it gets here.
 *  - actor / created_by are user names kept as text without a foreign key: the audit trail must
 *    outlive the user, and the command line writes with no user at all (NULL).
 *  - users.name_key is the name folded by the store (NFKC + lower case) and carries uniqueness, so
 *    the rule is the same in every database (SQLite's lower() only folds ASCII).
 *  - facility_edits UNIQUE (region, facility_ref, version): two writers appending "version n+1"
 *    for the same facility cannot both succeed, even where the database does not serialise writes.
 */
const INITIAL_SCHEMA_SQLITE = `
CREATE TABLE regions (
  name TEXT PRIMARY KEY,
  file TEXT NOT NULL,
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  imported_at TEXT NOT NULL,
  meta TEXT NOT NULL
) STRICT;

CREATE TABLE scenarios (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  region TEXT NOT NULL REFERENCES regions (name) ON UPDATE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  edits TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  created_by TEXT,
  UNIQUE (region, name)
) STRICT;

CREATE TABLE facility_edits (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  region TEXT NOT NULL REFERENCES regions (name) ON UPDATE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('add', 'edit', 'delete')),
  facility_ref TEXT NOT NULL,
  data TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  actor TEXT,
  at TEXT NOT NULL,
  UNIQUE (region, facility_ref, version)
) STRICT;

CREATE TABLE plan_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  region TEXT NOT NULL REFERENCES regions (name) ON UPDATE CASCADE,
  model TEXT NOT NULL,
  params TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  progress REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  result TEXT,
  error TEXT,
  version INTEGER NOT NULL CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finished_at TEXT,
  actor TEXT
) STRICT;
CREATE INDEX plan_runs_by_region ON plan_runs (region, id);
CREATE INDEX plan_runs_by_status ON plan_runs (status, id);

CREATE TABLE survey_responses (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  region TEXT NOT NULL REFERENCES regions (name) ON UPDATE CASCADE,
  zone TEXT,
  lon REAL,
  lat REAL,
  overall INTEGER NOT NULL CHECK (overall >= 1 AND overall <= 5),
  per_format TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  client_hash TEXT NOT NULL,
  CHECK ((lon IS NULL) = (lat IS NULL))
) STRICT;
CREATE INDEX survey_responses_by_zone ON survey_responses (region, zone);
CREATE INDEX survey_responses_by_client ON survey_responses (client_hash, created_at);

CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  name_key TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('public', 'planner', 'admin')),
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  version INTEGER NOT NULL CHECK (version >= 1)
) STRICT;

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  csrf_token TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT,
  detail TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_by_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_by_actor ON audit_log (actor);
CREATE INDEX audit_log_by_time ON audit_log (at);
`;

/*
 * The same schema for PostgreSQL (translated as the header says), plus what only PostGIS has:
 *  - survey_responses.geom, a point generated from lon/lat, and facility_edits.geom, the point of
 *    an edit whose data carries numeric lon/lat (set by the store, which parses the JSON), both
 *    EPSG:4326 with GiST indexes, for "responses / edits inside this zone or box" queries.
 *    They live in this first migration because no PostgreSQL store existed before it: SQLite files
 *    keep exactly the schema (and migration list) they had.
 *  - the postgis extension is created here, under the migration lock; the store checks before
 *    migrating that the server has it, and says what to install when it does not.
 */
const INITIAL_SCHEMA_POSTGRES = `
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE regions (
  name text PRIMARY KEY,
  file text NOT NULL,
  sha256 text NOT NULL CHECK (length(sha256) = 64),
  imported_at timestamptz NOT NULL,
  meta text NOT NULL
);

CREATE TABLE scenarios (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  region text NOT NULL REFERENCES regions (name) ON UPDATE CASCADE,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  edits text NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  created_by text,
  UNIQUE (region, name)
);

CREATE TABLE facility_edits (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  region text NOT NULL REFERENCES regions (name) ON UPDATE CASCADE,
  kind text NOT NULL CHECK (kind IN ('add', 'edit', 'delete')),
  facility_ref text NOT NULL,
  data text NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  actor text,
  at timestamptz NOT NULL,
  geom geometry(Point, 4326),
  UNIQUE (region, facility_ref, version)
);
CREATE INDEX facility_edits_geom ON facility_edits USING gist (geom);

CREATE TABLE plan_runs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  region text NOT NULL REFERENCES regions (name) ON UPDATE CASCADE,
  model text NOT NULL,
  params text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  progress double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  result text,
  error text,
  version integer NOT NULL CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  finished_at timestamptz,
  actor text
);
CREATE INDEX plan_runs_by_region ON plan_runs (region, id);
CREATE INDEX plan_runs_by_status ON plan_runs (status, id);

CREATE TABLE survey_responses (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  region text NOT NULL REFERENCES regions (name) ON UPDATE CASCADE,
  zone text,
  lon double precision,
  lat double precision,
  overall integer NOT NULL CHECK (overall >= 1 AND overall <= 5),
  per_format text NOT NULL,
  comment text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  client_hash text NOT NULL,
  geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
  CHECK ((lon IS NULL) = (lat IS NULL))
);
CREATE INDEX survey_responses_by_zone ON survey_responses (region, zone);
CREATE INDEX survey_responses_by_client ON survey_responses (client_hash, created_at);
CREATE INDEX survey_responses_geom ON survey_responses USING gist (geom);

CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  name_key text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('public', 'planner', 'admin')),
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  version integer NOT NULL CHECK (version >= 1)
);

CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  csrf_token text NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text,
  action text NOT NULL,
  entity text NOT NULL,
  entity_id text,
  detail text NOT NULL
);
CREATE INDEX audit_log_by_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_by_actor ON audit_log (actor);
CREATE INDEX audit_log_by_time ON audit_log (at);
`;

/**
 * Batches (many regions, one kind of job, run by workers over a queue): the queue only carries work;
 * the truth of what is done lives here. batch_jobs.result is set once (state done ⇔ result present),
 * so a job retried after its worker died still has exactly one result.
 */
const BATCHES_SQLITE = `
CREATE TABLE batches (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('assess', 'plan', 'import')),
  params TEXT NOT NULL,
  created_at TEXT NOT NULL,
  actor TEXT
) STRICT;
CREATE TABLE batch_jobs (
  batch_id INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  job_key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  region TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
  progress REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  worker TEXT,
  error TEXT,
  result TEXT,
  updated_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  PRIMARY KEY (batch_id, job_key),
  CHECK ((state = 'done') = (result IS NOT NULL))
) STRICT;
`;
const BATCHES_POSTGRES = `
CREATE TABLE batches (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('assess', 'plan', 'import')),
  params text NOT NULL,
  created_at timestamptz NOT NULL,
  actor text
);
CREATE TABLE batch_jobs (
  batch_id bigint NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  job_key text NOT NULL,
  seq integer NOT NULL,
  region text NOT NULL,
  state text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
  progress double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  worker text,
  error text,
  result text,
  updated_at timestamptz NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (batch_id, job_key),
  CHECK ((state = 'done') = (result IS NOT NULL))
);
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'initial-schema',
    description: 'regions, scenarios, facility edits, plan runs, survey responses, users, sessions, audit log',
    sql: { sqlite: INITIAL_SCHEMA_SQLITE, postgres: INITIAL_SCHEMA_POSTGRES },
  },
  {
    id: 2,
    name: 'batches',
    description: 'batch runs over many regions and their jobs (state, progress, attempts, the one result)',
    sql: { sqlite: BATCHES_SQLITE, postgres: BATCHES_POSTGRES },
  },
];

/** The SQL of a migration for one dialect; a clear error when that dialect has not been written. */
export function migrationSql(migration: Migration, dialect: SqlDialect): string {
  const sql = migration.sql[dialect];
  if (sql === undefined) throw new Error(`schema migration ${migration.id} "${migration.name}" has no ${dialect} SQL`);
  return sql;
}

/** Throws when a list breaks the rules (ids positive integers, strictly ascending; names unique and non-empty). */
export function checkMigrationList(list: readonly Migration[]): void {
  const names = new Set<string>();
  let previous = 0;
  for (const m of list) {
    if (!Number.isInteger(m.id) || m.id <= previous) throw new Error(`schema migration ids must be positive and ascending: ${m.id} after ${previous}`);
    if (!m.name || names.has(m.name)) throw new Error(`schema migration ${m.id}: name "${m.name}" is empty or used twice`);
    names.add(m.name);
    previous = m.id;
  }
}

export interface AppliedMigration {
  id: number;
  name: string;
}

export interface MigrationPlan {
  /** in order; empty when the database is up to date. */
  pending: Migration[];
  /** applied migrations the code does not know (the database is from a newer version). */
  unknown: AppliedMigration[];
  /** applied migrations whose recorded name differs from the code's (the database is not ours). */
  renamed: { id: number; applied: string; known: string }[];
}

/** Compare what a database has applied with the list; backend-neutral. */
export function planMigrations(applied: readonly AppliedMigration[], list: readonly Migration[]): MigrationPlan {
  const known = new Map(list.map((m) => [m.id, m]));
  const done = new Set<number>();
  const unknown: AppliedMigration[] = [];
  const renamed: MigrationPlan['renamed'] = [];
  for (const a of applied) {
    const m = known.get(a.id);
    if (!m) unknown.push(a);
    else if (m.name !== a.name) renamed.push({ id: a.id, applied: a.name, known: m.name });
    done.add(a.id);
  }
  return { pending: list.filter((m) => !done.has(m.id)), unknown, renamed };
}
