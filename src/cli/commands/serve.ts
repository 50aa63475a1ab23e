/**
 * `quarter serve`: the HTTP API and the web app over one region (loopback by default), with the
 * database of logins, facility edits, scenarios, plan runs and survey answers (--db, default
 * $QUARTER_DB, else out/quarter.db).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openRedis, parseRedisUrl, RedisConfigError, type RedisTarget } from '../../batch/redis.js';
import { buildServer } from '../../server/app.js';
import { DEFAULT_WEB_ROOT } from '../../server/web.js';
import { describeStoreSpec, openStore } from '../../store/open-store.js';
import { StoreInputError, StoreOpenError, type QuarterStore } from '../../store/store.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { parseNumber } from '../parse.js';
import { loadRegionFlag, regionPath } from '../region-option.js';
import { dbPath } from './scenario.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the web app (at /, when built) and the HTTP API (JSON, OpenAPI at /openapi.json, docs at /docs) over a region')
    .option('-r, --region <file>', 'region file')
    .option('--web <dir>', 'directory of the built web app (default dist/web of this package)')
    .option('--port <n>', 'TCP port', '8080')
    .option('--host <address>', 'address to listen on (127.0.0.1: this machine only)', '127.0.0.1')
    .option('--db <file|url>', 'database of logins, edits, scenarios, plans and survey answers: an SQLite file or a postgres:// URL (default $QUARTER_DB, else out/quarter.db)')
    .option('--secure-cookies', 'mark the login cookie Secure (serve behind HTTPS)')
    .option('--trust-proxy', 'take client addresses and https from X-Forwarded-* headers (behind a reverse proxy)')
    .option('--no-rate-limit', 'no per-client request limits (load tests, a trusted network only)')
    .option('--redis <url>', 'keep rate-limit counters in this Redis, shared by every server using it (several servers behind one proxy)')
    .action(async (flags: { region?: string; port: string; host: string; web?: string; db?: string; secureCookies?: boolean; trustProxy?: boolean; rateLimit: boolean; redis?: string }) => {
      const port = parseNumber('--port', flags.port, 0, 65535);
      if (!Number.isInteger(port)) throw usageError(`--port: ${port} is not an integer`);
      if (!/^[A-Za-z0-9.:_-]{1,255}$/.test(flags.host)) throw usageError(`--host: "${flags.host}" is not a host name or address`);
      const region = loadRegionFlag(flags.region);
      const webRoot = flags.web === undefined ? DEFAULT_WEB_ROOT : resolve(flags.web);
      if (flags.web !== undefined && !existsSync(join(webRoot, 'index.html'))) throw usageError(`--web: ${flags.web} has no index.html (build the web app first)`);
      let redisTarget: RedisTarget | undefined;
      try {
        redisTarget = flags.redis === undefined ? undefined : parseRedisUrl(flags.redis);
      } catch (e) {
        throw e instanceof RedisConfigError ? usageError(e.message) : e;
      }
      let store: QuarterStore;
      const db = dbPath(flags.db);
      try {
        store = await openStore(db, { passwordFile: process.env.QUARTER_DB_PASSWORD_FILE });
      } catch (e) {
        if (e instanceof StoreOpenError || e instanceof StoreInputError) throw new CliError(e.message, EXIT.input);
        throw e;
      }
      const sharedLimits = redisTarget ? openRedis(redisTarget, (_s, detail) => console.error(`quarter: ${detail}${_s === 'down' ? ' (requests are not rate-limited meanwhile)' : ''}`), { failFast: true }) : undefined;
      const app = await buildServer({
        region,
        regionFile: regionPath(flags.region),
        logger: false,
        webRoot,
        store,
        auth: { secureCookies: flags.secureCookies === true },
        trustProxy: flags.trustProxy === true,
        ...(flags.rateLimit === false ? { rateLimit: false as const } : {}),
        sharedLimits,
      }).catch(async (err: unknown) => {
        sharedLimits?.disconnect();
        await store.close();
        throw err;
      });
      const address = await app.listen({ port, host: flags.host });
      const web = app.quarter.webApp ? `web app ${address}/` : `web app not built (npx vite build --config web/vite.config.ts)`;
      const map = region.basemap ? '' : '; no basemap in this region file (re-import to draw one): the walking network is shown instead';
      console.error(`quarter: serving ${JSON.stringify(region.meta.name)} at ${address} — ${web}, docs ${address}/docs${map}; database ${describeStoreSpec(db)} — Ctrl-C to stop`);
      // The CLI's default Ctrl-C exits at once; a server first closes (open requests answered, plan
      // runs ended and recorded, the store closed). A second signal stops it at once.
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals): void => {
          if (stopping) process.exit(signal === 'SIGINT' ? 130 : 143);
          stopping = true;
          console.error('quarter: stopping (again to stop at once)');
          // the store after the app: closing the app ends plan runs, which write their state
          void app
            .close()
            .then(() => store.close())
            .then(() => sharedLimits?.disconnect())
            .then(() => resolve());
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      console.error('quarter: stopped');
    });
}
