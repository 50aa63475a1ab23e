/** `quarter serve`: the HTTP API over one region (loopback by default). */
import type { Command } from 'commander';
import { buildServer } from '../../server/app.js';
import { usageError } from '../errors.js';
import { parseNumber } from '../parse.js';
import { loadRegionFlag } from '../region-option.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the HTTP API (JSON, OpenAPI at /openapi.json, docs at /docs) over a region')
    .option('-r, --region <file>', 'region file')
    .option('--port <n>', 'TCP port', '8080')
    .option('--host <address>', 'address to listen on (127.0.0.1: this machine only)', '127.0.0.1')
    .action(async (flags: { region?: string; port: string; host: string }) => {
      const port = parseNumber('--port', flags.port, 0, 65535);
      if (!Number.isInteger(port)) throw usageError(`--port: ${port} is not an integer`);
      if (!/^[A-Za-z0-9.:_-]{1,255}$/.test(flags.host)) throw usageError(`--host: "${flags.host}" is not a host name or address`);
      const region = loadRegionFlag(flags.region);
      const app = await buildServer({ region, logger: false });
      const address = await app.listen({ port, host: flags.host });
      console.error(`quarter: serving ${JSON.stringify(region.meta.name)} at ${address} (docs ${address}/docs) — Ctrl-C to stop`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          void app.close().then(() => resolve());
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
