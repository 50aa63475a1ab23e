/**
 * `quarter zone --k 13 --radius 800m`: 片区划分 — the district split into k service zones anchored
 * on sites (given, e.g. the 邻里汇, or chosen), contiguous on the walking network, populations
 * balanced within a tolerance; a Chinese table, and with --out GeoJSON / CSV.
 */
import { dirname, extname } from 'node:path';
import type { Command } from 'commander';
import { getWalkingProfile } from '../../engine/profile.js';
import { ensureOutputDir, writeFileAtomic } from '../../io/atomic-file.js';
import { readCandidateFile } from '../../plan/candidates.js';
import { PlanInputError } from '../../plan/instance.js';
import { zoneDistrict, zoningToGeoJson, type ZoningResult } from '../../plan/zoning.js';
import { csvRow, UTF8_BOM } from '../../report/csv.js';
import { loadTaxonomy } from '../../taxonomy/formats.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { printJson } from '../output.js';
import { parseMetres, parseNumber } from '../parse.js';
import { loadRegionFlag } from '../region-option.js';
import { padDisplay } from '../text.js';

interface ZoneFlags {
  region?: string;
  k?: string;
  radius: string;
  sites?: string;
  tolerance: string;
  walking: string;
  seed: string;
  out: string[];
  json?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** "800m", "0.8km" → seconds at the walking speed; "13min" → seconds. */
function parseRadius(raw: string, speedMps: number): number {
  const min = /^\s*([0-9.]+)\s*(min|分钟)\s*$/i.exec(raw);
  if (min) return parseNumber('--radius', min[1], 0.5, 240) * 60;
  return parseMetres('--radius', raw) / speedMps;
}

export function registerZone(program: Command): void {
  program
    .command('zone')
    .description('片区划分: split the district into k service zones around sites, balanced by population, within a service radius')
    .option('-r, --region <file>', 'region file')
    .option('--k <n>', 'number of zones (default: one per site in --sites)')
    .option('--radius <800m|13min>', 'service radius: walking distance (m, km) or minutes', '800m')
    .option('--sites <file>', 'anchor sites (CSV/GeoJSON: 经度, 纬度, 名称), e.g. the 邻里汇; without it k sites are chosen')
    .option('--tolerance <share>', 'allowed deviation of a zone’s population from the mean (0.2 = ±20 %)', '0.2')
    .option('--walking <profile>', 'walking profile (default, elderly)', 'default')
    .option('--seed <n>', 'random seed for choosing sites', '1')
    .option('-o, --out <file>', 'write the zones: .geojson (polygons) or .csv (table) (repeatable)', collect, [])
    .option('--json', 'print the zones as JSON (without polygons)')
    .action((flags: ZoneFlags) => {
      const k = flags.k === undefined ? undefined : parseNumber('--k', flags.k, 1, 10_000);
      if (k !== undefined && !Number.isInteger(k)) throw usageError(`--k: ${k} is not a whole number`);
      if (k === undefined && !flags.sites) throw usageError('--k: required unless --sites gives the anchor sites');
      const tolerance = parseNumber('--tolerance', flags.tolerance, 0.01, 1);
      const seed = parseNumber('--seed', flags.seed, 0, 2 ** 31 - 1);
      let walking;
      try {
        walking = getWalkingProfile(flags.walking);
      } catch (e) {
        throw usageError(`--walking: ${(e as Error).message}`);
      }
      const radiusSeconds = parseRadius(flags.radius, walking.speedMps);
      for (const o of flags.out) if (!['.geojson', '.csv'].includes(extname(o).toLowerCase())) throw usageError(`--out ${o}: the extension must be .geojson or .csv`);
      const region = loadRegionFlag(flags.region);
      let result: ZoningResult;
      try {
        const anchors = flags.sites ? readCandidateFile(region, flags.sites).candidates.map((c) => ({ lon: c.lon, lat: c.lat, name: c.name })) : undefined;
        result = zoneDistrict(region, { k, radiusSeconds, walking, anchors, tolerance, seed });
      } catch (e) {
        if (e instanceof PlanInputError) {
          throw new CliError(`${e.field === 'candidates' ? '--sites: ' : e.field === 'k' ? '--k: ' : ''}${e.message}`, e.field === 'candidates' ? EXIT.input : EXIT.usage);
        }
        throw e;
      }
      const taxonomy = loadTaxonomy();
      for (const o of flags.out) {
        ensureOutputDir(dirname(o));
        if (extname(o).toLowerCase() === '.geojson') writeFileAtomic(o, [JSON.stringify(zoningToGeoJson(result, region))]);
        else writeFileAtomic(o, [zonesCsv(result, taxonomy.formats.map((f) => f.id))]);
      }
      if (flags.json) {
        printJson({ ...result, zones: result.zones.map(({ geometry: _g, ...z }) => z), residenceZone: undefined, residenceSeconds: undefined, nodeZone: undefined, facilityZone: undefined });
        return;
      }
      const b = result.balance;
      process.stdout.write(
        `片区划分：${result.k} 个片区，服务半径 ${flags.radius}（${Math.round(radiusSeconds / 60)} 分钟，${walking.id}），人口均衡 ±${Math.round(tolerance * 100)}%：${b.met ? '达到' : '未达到'}（最小 ${Math.round(b.min)}，最大 ${Math.round(b.max)}，目标 ${Math.round(b.target)}）\n`,
      );
      process.stdout.write(`${padDisplay('片区', 16)} ${padDisplay('人口', 8)} ${padDisplay('老年占比', 8)} ${padDisplay('半径内', 8)} ${padDisplay('P95分钟', 8)}\n`);
      for (const z of result.zones) {
        process.stdout.write(
          `${padDisplay(z.name, 16)} ${padDisplay(String(Math.round(z.population)), 8)} ${padDisplay(`${(z.elderlyShare * 100).toFixed(1)}%`, 8)} ${padDisplay(z.withinRadiusShare === null ? '—' : `${(z.withinRadiusShare * 100).toFixed(0)}%`, 8)} ${padDisplay(z.p95Seconds === null ? '—' : (z.p95Seconds / 60).toFixed(1), 8)}\n`,
        );
      }
      for (const w of result.warnings) process.stdout.write(`注意：${w}\n`);
      for (const o of flags.out) process.stdout.write(`写出 ${o}\n`);
      process.stdout.write(`${region.meta.attribution}\n`);
    });
}

function zonesCsv(r: ZoningResult, formats: string[]): string {
  const head = ['片区 zone', '名称 name', '站点经度 site lon', '站点纬度 site lat', '人口 population', '老年人口 elderly', '老年占比 elderly share', '住宅 residences', '半径内人口占比 within radius', 'P95 分钟', ...formats];
  const rows = r.zones.map((z) =>
    csvRow([
      z.id + 1,
      z.name,
      z.site.lon.toFixed(6),
      z.site.lat.toFixed(6),
      Math.round(z.population),
      Math.round(z.elderly),
      z.elderlyShare.toFixed(4),
      z.residences,
      z.withinRadiusShare === null ? '' : z.withinRadiusShare.toFixed(4),
      z.p95Seconds === null ? '' : (z.p95Seconds / 60).toFixed(1),
      ...formats.map((f) => z.facilitiesByFormat[f] ?? 0),
    ]),
  );
  return UTF8_BOM + csvRow(head) + rows.join('');
}
