/** nearest · isochrone · access: walking-time questions on a saved region. */
import type { Command } from 'commander';
import { createRoutingContext, insideRegion, type RoutingContext } from '../../access/context.js';
import { formatAccess } from '../../access/format-access.js';
import { nearestFromPoint } from '../../access/nearest.js';
import { runDijkstra } from '../../engine/dijkstra.js';
import { isochrone } from '../../engine/isochrone.js';
import { snapPreferMain, snapsToSources, type Snap } from '../../engine/snap.js';
import { UTF8_BOM, csvRow } from '../../report/csv.js';
import { loadTaxonomy } from '../../taxonomy/formats.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { printJson, round, writeOutput } from '../output.js';
import { parseLonLat, parseMinutesList, parseNumber } from '../parse.js';
import { loadRegionFlag } from '../region-option.js';
import { padDisplay } from '../text.js';

interface CommonFlags {
  region?: string;
  profile: string;
  json?: boolean;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function context(flags: CommonFlags): RoutingContext {
  const region = loadRegionFlag(flags.region);
  try {
    return createRoutingContext(region, flags.profile);
  } catch (err) {
    throw usageError(`--profile: ${(err as Error).message}`);
  }
}

function snapOrFail(ctx: RoutingContext, flag: string, lon: number, lat: number): Snap {
  const limit = ctx.region.meta.snapLimitMetres;
  if (!insideRegion(ctx.region, lon, lat)) {
    const [w, s, e, n] = ctx.region.meta.bbox.map((x) => round(x, 4));
    if (insideRegion(ctx.region, lat, lon)) throw usageError(`${flag} ${lon},${lat} looks swapped: write lon,lat (${lat},${lon})`);
    throw new CliError(`${flag} ${lon},${lat} is outside the data of region ${JSON.stringify(ctx.region.meta.name)} (lon ${w}…${e}, lat ${s}…${n})`, EXIT.noResult);
  }
  const snap = snapPreferMain(ctx.index, lon, lat, limit);
  if (!snap) throw new CliError(`${flag} ${lon},${lat}: no walkable way within ${limit} m`, EXIT.noResult);
  return snap;
}

function checkFormat(ctx: RoutingContext, format: string): void {
  const tax = loadTaxonomy();
  if (!tax.byId.has(format)) {
    throw usageError(`--format: unknown format "${format}"; see \`quarter formats\` (e.g. ${tax.formats.slice(0, 4).map((f) => f.id).join(', ')})`);
  }
  if (!ctx.facilitiesByFormat.has(format)) {
    throw new CliError(`--format: region ${JSON.stringify(ctx.region.meta.name)} has no facility of format "${format}"`, EXIT.noResult);
  }
}

export function registerQueries(program: Command): void {
  program
    .command('nearest')
    .description('minutes to the nearest facility of every format from a point')
    .requiredOption('--at <lon,lat>', 'the point (WGS-84)')
    .option('-r, --region <file>', 'region file')
    .option('--profile <id>', 'walking profile (default, elderly)', 'default')
    .option('--max-minutes <n>', 'search no farther than this', '30')
    .option('--json', 'JSON output')
    .action((flags: CommonFlags & { at: string; maxMinutes: string }) => {
      const [lon, lat] = parseLonLat('--at', flags.at);
      const maxMinutes = parseNumber('--max-minutes', flags.maxMinutes, 1, 240);
      const ctx = context(flags);
      snapOrFail(ctx, '--at', lon, lat);
      const tax = loadTaxonomy();
      const res = nearestFromPoint(ctx, lon, lat, { maxMinutes, formats: tax.formats.map((f) => f.id) });
      if (!res) throw new CliError(`--at ${lon},${lat}: no walkable way nearby`, EXIT.noResult);
      if (flags.json) {
        printJson({
          at: [lon, lat],
          profile: ctx.profile.id,
          accessMetres: round(res.origin.distance),
          maxMinutes,
          formats: res.formats.map((f) => ({ ...f, name: tax.byId.get(f.format)?.name, nearest: f.nearest && { ...f.nearest, minutes: round(f.nearest.minutes, 2) } })),
          attribution: ctx.region.meta.attribution,
        });
        return;
      }
      const lines = [`from ${lon},${lat} (${round(res.origin.distance)} m to the nearest way), ${ctx.profile.name.en} ${ctx.profile.speedMps} m/s:`];
      for (const f of res.formats) {
        const fmt = tax.byId.get(f.format);
        const label = padDisplay(`${fmt?.name['zh-CN'] ?? f.format} ${fmt?.name.en ?? ''}`, 44);
        lines.push(
          f.nearest
            ? `  ${label} ${round(f.nearest.minutes).toFixed(1).padStart(5)} min  ${f.nearest.name || '(unnamed)'}  [≤5: ${f.within['5']}, ≤10: ${f.within['10']}, ≤15: ${f.within['15']}]`
            : `  ${label}     —     none within ${maxMinutes} min`,
        );
      }
      lines.push(ctx.region.meta.attribution);
      console.log(lines.join('\n'));
    });

  program
    .command('isochrone')
    .description('walking-time polygons (GeoJSON) from one or more points, or a format\'s catchment')
    .option('--at <lon,lat>', 'origin point; repeat for several', collect)
    .option('--facilities <format>', 'use every facility of this format as origins (catchment)')
    .option('--minutes <list>', 'thresholds', '5,10,15')
    .option('-r, --region <file>', 'region file')
    .option('--profile <id>', 'walking profile (default, elderly)', 'default')
    .option('--cell <metres>', 'raster cell size', '20')
    .option('-o, --out <file.geojson>', 'write here instead of stdout')
    .action((flags: CommonFlags & { at?: string[]; facilities?: string; minutes: string; cell: string; out?: string }) => {
      if (!flags.at?.length && !flags.facilities) throw usageError('isochrone: give --at lon,lat or --facilities <format>');
      const minutes = parseMinutesList('--minutes', flags.minutes);
      const cellMetres = parseNumber('--cell', flags.cell, 2, 500);
      const points = (flags.at ?? []).map((a) => parseLonLat('--at', a));
      const ctx = context(flags);
      const g = ctx.region.graph;
      const origins: Snap[] = points.map(([lon, lat]) => snapOrFail(ctx, '--at', lon, lat));
      const originPoints: number[] = points.flat();
      if (flags.facilities) {
        checkFormat(ctx, flags.facilities);
        for (const id of ctx.facilitiesByFormat.get(flags.facilities) ?? []) {
          const s = ctx.facilitySnaps[id];
          if (!s) continue;
          origins.push(s);
          originPoints.push(ctx.region.facilities[id].lon, ctx.region.facilities[id].lat);
        }
      }
      const seeds = snapsToSources(origins, ctx.edgeSec, g, ctx.profile.speedMps);
      runDijkstra(g, ctx.arcSec, ctx.ws, seeds.nodes, seeds.seconds, Math.max(...minutes) * 60);
      const fc = isochrone(g, ctx.edgeSec, ctx.ws, minutes, { speedMps: ctx.profile.speedMps, cellMetres, origins, originPoints });
      const out = { ...fc, properties: { profile: ctx.profile.id, origins: origins.length, attribution: ctx.region.meta.attribution } };
      writeOutput(flags.out, JSON.stringify(out));
      if (flags.out) console.error(`wrote ${minutes.join('/')}-minute isochrones from ${origins.length} origin(s) → ${flags.out}`);
    });

  program
    .command('access')
    .description('minutes from every network node to the nearest facility of a format (CSV or GeoJSON)')
    .requiredOption('--format <id>', 'format id, e.g. pharmacy (see `quarter formats`)')
    .option('-r, --region <file>', 'region file')
    .option('--profile <id>', 'walking profile (default, elderly)', 'default')
    .option('--max-minutes <n>', 'nodes farther than this are left empty', '60')
    .option('-o, --out <file>', '.csv or .geojson (default: CSV on stdout)')
    .option('--json', 'print a summary as JSON')
    .action((flags: CommonFlags & { format: string; maxMinutes: string; out?: string }) => {
      const maxMinutes = parseNumber('--max-minutes', flags.maxMinutes, 1, 1440);
      const ctx = context(flags);
      checkFormat(ctx, flags.format);
      const res = formatAccess(ctx, flags.format, maxMinutes);
      const g = ctx.region.graph;
      const geojson = flags.out?.toLowerCase().endsWith('.geojson') || flags.out?.toLowerCase().endsWith('.json');
      const minutesOf = (u: number): number | null => (Number.isFinite(res.seconds[u]) ? round(res.seconds[u] / 60, 2) : null);
      let text: string;
      if (geojson) {
        const features = [];
        for (let u = 0; u < g.nodeCount; u++) {
          const f = res.nearest[u] >= 0 ? ctx.region.facilities[res.nearest[u]] : undefined;
          features.push({
            type: 'Feature',
            geometry: { type: 'Point', coordinates: [g.nodeCoords[2 * u], g.nodeCoords[2 * u + 1]] },
            properties: { node: u, minutes: minutesOf(u), facility: f?.id ?? null, name: f?.name ?? null },
          });
        }
        text = JSON.stringify({ type: 'FeatureCollection', properties: { format: flags.format, maxMinutes, attribution: ctx.region.meta.attribution }, features });
      } else {
        const rows = [UTF8_BOM + csvRow(['node', 'lon', 'lat', 'minutes', 'facility', 'name'])];
        for (let u = 0; u < g.nodeCount; u++) {
          const f = res.nearest[u] >= 0 ? ctx.region.facilities[res.nearest[u]] : undefined;
          rows.push(csvRow([u, g.nodeCoords[2 * u], g.nodeCoords[2 * u + 1], minutesOf(u), f?.id, f?.name]));
        }
        text = rows.join('');
      }
      let reached = 0;
      for (let u = 0; u < g.nodeCount; u++) if (Number.isFinite(res.seconds[u])) reached++;
      const summary = { format: flags.format, nodes: g.nodeCount, reached, facilities: res.seeded, unreachableFacilities: res.unreachableFacilities, maxMinutes, out: flags.out ?? null };
      if (flags.out || !flags.json) writeOutput(flags.out, text);
      if (flags.json) printJson(summary);
      else if (flags.out) console.error(`${reached} of ${g.nodeCount} nodes within ${maxMinutes} min of a ${flags.format} (${res.seeded} facilities) → ${flags.out}`);
    });
}
