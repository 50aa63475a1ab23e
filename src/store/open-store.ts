/**
 * Opening the store named by one string, as `--db` and $QUARTER_DB give it: a postgres:// or
 * postgresql:// URL is a shared PostgreSQL database (a city: several API servers), anything else
 * the path of an SQLite file (a district: one server). Each backend is loaded only when chosen, so
 * the SQLite path never loads the PostgreSQL client and the other way round.
 */
import { readFileSync } from 'node:fs';
import { redactDatabaseUrl } from './redact.js';
import { StoreInputError, StoreOpenError, type QuarterStore } from './store.js';

export type StoreBackend = 'sqlite' | 'postgres';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;
/** Something that looks like a URL of another kind: a mistake, not a file name to create. */
const OTHER_URL = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** True for a postgres:// or postgresql:// URL. */
export const isPostgresSpec = (spec: string): boolean => POSTGRES_URL.test(spec);

/** Which backend a spec names; throws StoreInputError for an empty spec or a URL of another scheme. */
export function storeBackendOf(spec: string): StoreBackend {
  if (typeof spec !== 'string' || spec.trim() === '') throw new StoreInputError('db', 'must be a database file path or a postgres:// URL');
  if (POSTGRES_URL.test(spec)) return 'postgres';
  if (OTHER_URL.test(spec)) {
    const scheme = spec.slice(0, spec.indexOf(':'));
    throw new StoreInputError('db', `"${scheme}://" is not a database this store can use (${redactDatabaseUrl(spec)}): give a file path for SQLite or a postgres:// URL`);
  }
  return 'sqlite';
}

/** How a spec is shown in messages and logs: a URL without its password, a path as it is. */
export function describeStoreSpec(spec: string): string {
  return POSTGRES_URL.test(spec) || OTHER_URL.test(spec) ? redactDatabaseUrl(spec) : spec;
}

export interface OpenStoreOptions {
  /**
   * A file holding the PostgreSQL password (first line), used when the URL carries none, so that
   * the password stays out of the URL, the environment and the process list. Ignored for SQLite.
   */
  passwordFile?: string;
}

export async function openStore(spec: string, opts: OpenStoreOptions = {}): Promise<QuarterStore> {
  if (storeBackendOf(spec) === 'sqlite') {
    const { openSqliteStore } = await import('./sqlite-store.js');
    return openSqliteStore(spec);
  }
  let password: string | undefined;
  if (opts.passwordFile !== undefined && opts.passwordFile !== '') {
    try {
      password = readFileSync(opts.passwordFile, 'utf8').split(/\r?\n/)[0];
    } catch (err) {
      throw new StoreOpenError(redactDatabaseUrl(spec), `cannot read the password file ${opts.passwordFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (password === '') throw new StoreOpenError(redactDatabaseUrl(spec), `the password file ${opts.passwordFile} is empty`);
  }
  const { openPgStore } = await import('./pg-store.js');
  return openPgStore(spec, { password });
}
