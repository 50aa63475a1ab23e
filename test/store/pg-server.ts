/**
 * A throwaway PostgreSQL 15 + PostGIS cluster for the store tests: initdb in a temporary directory,
 * listening on 127.0.0.1 only (a free port, its Unix socket inside the directory, a random
 * password), fsync off. Each test gets a fresh database copied from a template that already has
 * PostGIS. stop() ends the cluster and removes the directory; a watchdog process does the same if
 * the test process dies without calling it.
 *
 * initdb and postgres refuse to run as root: as root they run as the `postgres` OS user (runuser),
 * otherwise as the current user.
 *
 * QUARTER_TEST_PG_URL=postgres://… uses that server instead (its role must be allowed to create
 * databases and the postgis extension); the databases made there are dropped by stop().
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PG_BIN = process.env.QUARTER_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function pgUnavailableReason(): string | null {
  if (process.env.QUARTER_TEST_PG_URL) return null;
  for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(PG_BIN, tool))) return `no PostgreSQL binaries at ${PG_BIN} (install postgresql-15 and postgresql-15-postgis-3, or set QUARTER_TEST_PG_URL)`;
  }
  if (!existsSync('/usr/share/postgresql/15/extension/postgis.control')) return 'PostGIS is not installed for PostgreSQL 15 (install postgresql-15-postgis-3)';
  if (process.getuid?.() === 0 && !osUser('postgres')) return 'running as root and there is no `postgres` OS user to run the cluster as';
  return null;
}

export interface PgTestServer {
  /** a superuser URL (with password) for the maintenance database. */
  adminUrl: string;
  /** a new empty database (with PostGIS unless postgis: false); returns its URL. */
  createDatabase(opts?: { postgis?: boolean; owner?: string }): Promise<string>;
  /** a raw client for a database URL (closed by the caller). */
  connect(url: string): Promise<pg.Client>;
  stop(): Promise<void>;
  /** Take the cluster down (fast shutdown) and bring it back on the same port: outage tests. Null for an external server. */
  outage: { down(): void; up(): void } | null;
}

function osUser(name: string): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const withDb = (url: string, db: string): string => {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
};

export async function startPgTestServer(): Promise<PgTestServer> {
  const external = process.env.QUARTER_TEST_PG_URL;
  if (external) return serverAt(external, async () => {}, null);

  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? osUser('postgres') : null;
  const dir = mkdtempSync(join(tmpdir(), 'quarter-pg-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const run = (tool: string, args: string[]): string => {
    const [cmd, argv] = owner ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, tool), ...args]] : [join(PG_BIN, tool), args];
    try {
      return execFileSync(cmd, argv, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${tool} failed: ${e.stderr || e.stdout || e.message}`);
    }
  };
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) chownSync(pwfile, owner.uid, owner.gid);

  let watchdog: ReturnType<typeof spawn> | null = null;
  const stopCluster = (): void => {
    try {
      if (existsSync(join(data, 'postmaster.pid'))) run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale', '--no-sync']);
    rmSync(pwfile);
    // Stop the cluster and remove the directory if this process dies without calling stop().
    const pgCtl = owner ? `runuser -u postgres -- '${join(PG_BIN, 'pg_ctl')}'` : `'${join(PG_BIN, 'pg_ctl')}'`;
    watchdog = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${pgCtl} -D '${data}' -m immediate stop >/dev/null 2>&1; rm -rf '${dir}'`], {
      detached: true,
      stdio: 'ignore',
    });
    watchdog.unref();
    let port = 0;
    let settings = '';
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      settings = [
        `-c listen_addresses=127.0.0.1`,
        `-p ${port}`,
        `-c unix_socket_directories='${dir}'`,
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=60',
        '-c shared_buffers=32MB',
      ].join(' ');
      try {
        run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', settings, '-w', '-t', '60', 'start']);
        break;
      } catch (err) {
        // another process may have taken the port between the probe and the start
        if (attempt >= 3) throw err;
      }
    }
    const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    const w = watchdog;
    const outage = {
      down: () => void run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
      up: () => void run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', settings, '-w', '-t', '60', 'start']),
    };
    return await serverAt(
      adminUrl,
      async () => {
        if (w.pid !== undefined) {
          try {
            process.kill(w.pid);
          } catch {
            // already gone
          }
        }
        stopCluster();
      },
      outage,
    );
  } catch (err) {
    if (watchdog?.pid !== undefined) {
      try {
        process.kill(watchdog.pid);
      } catch {
        // already gone
      }
    }
    stopCluster();
    throw err;
  }
}

async function serverAt(adminUrl: string, shutdown: () => Promise<void>, outage: PgTestServer['outage']): Promise<PgTestServer> {
  const prefix = `quarter_t${process.pid}_${randomBytes(3).toString('hex')}`;
  const made: string[] = [];
  let n = 0;
  const connect = async (url: string): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  };
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = await connect(adminUrl);
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  const template = `${prefix}_template`;
  await admin((c) => c.query(`CREATE DATABASE ${template}`));
  made.push(template);
  const tc = await connect(withDb(adminUrl, template));
  try {
    await tc.query('CREATE EXTENSION postgis');
  } finally {
    await tc.end();
  }
  return {
    adminUrl,
    outage,
    connect,
    async createDatabase(opts = {}) {
      const name = `${prefix}_${++n}`;
      const from = opts.postgis === false ? 'template0' : template;
      const owner = opts.owner ? ` OWNER "${opts.owner}"` : '';
      await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${from}${owner}`));
      made.push(name);
      return withDb(adminUrl, name);
    },
    async stop() {
      if (process.env.QUARTER_TEST_PG_URL) {
        await admin(async (c) => {
          for (const db of made.reverse()) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
        });
      }
      await shutdown();
    },
  };
}
