/** `quarter serve`: the HTTP API and the web app over one region (loopback by default). */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildServer } from '../../server/app.js';
import { DEFAULT_WEB_ROOT } from '../../server/web.js';
import { usageError } from '../errors.js';
import { parseNumber } from '../parse.js';
import { loadRegionFlag } from '../region-option.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the web app (at /, when built) and the HTTP API (JSON, OpenAPI at /openapi.json, docs at /docs) over a region')
    .option('-r, --region <file>', 'region file')
    .option('--web <dir>', 'directory of the built web app (default dist/web of this package)')
    .option('--port <n>', 'TCP port', '8080')
    .option('--host <address>', 'address to listen on (127.0.0.1: this machine only)', '127.0.0.1')
    .action(async (flags: { region?: string; port: string; host: string; web?: string }) => {
      const port = parseNumber('--port', flags.port, 0, 65535);
      if (!Number.isInteger(port)) throw usageError(`--port: ${port} is not an integer`);
      if (!/^[A-Za-z0-9.:_-]{1,255}$/.test(flags.host)) throw usageError(`--host: "${flags.host}" is not a host name or address`);
      const region = loadRegionFlag(flags.region);
      const webRoot = flags.web === undefined ? DEFAULT_WEB_ROOT : resolve(flags.web);
      if (flags.web !== undefined && !existsSync(join(webRoot, 'index.html'))) throw usageError(`--web: ${flags.web} has no index.html (build the web app first)`);
      const app = await buildServer({ region, logger: false, webRoot });
      const address = await app.listen({ port, host: flags.host });
      const web = app.quarter.webApp ? `web app ${address}/` : `web app not built (npx vite build --config web/vite.config.ts)`;
      const map = region.basemap ? '' : '; no basemap in this region file (re-import to draw one): the walking network is shown instead';
      console.error(`quarter: serving ${JSON.stringify(region.meta.name)} at ${address} — ${web}, docs ${address}/docs${map} — Ctrl-C to stop`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          void app.close().then(() => resolve());
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
