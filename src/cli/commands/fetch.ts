import { dirname } from 'node:path';
import type { Command } from 'commander';
import { loadClipPolygon } from '../../ingest/clip.js';
import { DEFAULT_OVERPASS_ENDPOINT, buildOverpassQuery, fetchOverpass } from '../../ingest/overpass.js';
import { ensureOutputDir } from '../../io/atomic-file.js';
import { usageError } from '../errors.js';
import { parseBbox, parseNumber } from '../parse.js';
import { printJson } from '../output.js';

interface FetchFlags {
  bbox?: string;
  boundary?: string;
  out: string;
  endpoint: string;
  timeout: string;
  json?: boolean;
}

export function registerFetch(program: Command): void {
  program
    .command('fetch')
    .description('download an OSM extract from an Overpass API endpoint (needs internet)')
    .option('--bbox <w,s,e,n>', 'area as west,south,east,north degrees')
    .option('--boundary <geojson>', 'area as a polygon, e.g. data/xuhui-boundaries/xuhui-district-R1278188.geojson')
    .requiredOption('-o, --out <file.osm>', 'where to write the OSM XML')
    .option('--endpoint <url>', 'Overpass API endpoint', process.env.QUARTER_OVERPASS ?? DEFAULT_OVERPASS_ENDPOINT)
    .option('--timeout <seconds>', 'give up after this long', '300')
    .option('--json', 'print the result as JSON')
    .action(async (flags: FetchFlags) => {
      if (!!flags.bbox === !!flags.boundary) throw usageError('fetch: give exactly one of --bbox or --boundary');
      const timeoutMs = parseNumber('--timeout', flags.timeout, 1, 86400) * 1000;
      const area = flags.bbox ? { bbox: parseBbox('--bbox', flags.bbox) } : { polygon: loadClipPolygon(flags.boundary as string) };
      try {
        new URL(flags.endpoint);
      } catch {
        throw usageError(`--endpoint: "${flags.endpoint}" is not a URL`);
      }
      ensureOutputDir(dirname(flags.out));
      const query = buildOverpassQuery(area, { timeoutSeconds: Math.ceil(timeoutMs / 1000) });
      const res = await fetchOverpass(query, { out: flags.out, endpoint: flags.endpoint, timeoutMs });
      if (flags.json) printJson(res);
      else console.log(`fetched ${(res.bytes / 1e6).toFixed(1)} MB from ${flags.endpoint} → ${res.file}\nnext: quarter import ${res.file}`);
    });
}
