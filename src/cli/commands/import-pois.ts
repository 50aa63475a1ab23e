/**
 * `quarter import-pois <file> --source amap|baidu`: add an Amap (高德) / Baidu POI export to a
 * region. Every row is accounted for (imported + merged + rejected = rows read, printed);
 * rows that duplicate a facility already in the region are merged, not added; the region is
 * saved atomically (in place unless --out), and left untouched when the file cannot be read
 * or no row could be used.
 */
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildSnapIndex, snapPreferMain } from '../../engine/snap.js';
import { CRS_LABEL, parseCrs, type Crs } from '../../ingest/crs.js';
import { importPois, type ImportPoisResult, type PoiRejection, type PoiSource } from '../../ingest/pois/import-pois.js';
import { ensureOutputDir } from '../../io/atomic-file.js';
import { addFacilitiesReport } from '../../region/add-facilities.js';
import { writeRegion } from '../../region/region-file.js';
import { UTF8_BOM, csvRow } from '../../report/csv.js';
import { compileClassifier } from '../../taxonomy/classify.js';
import { loadTaxonomy } from '../../taxonomy/formats.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { printJson, writeOutput } from '../output.js';
import { loadRegionFlag, regionPath } from '../region-option.js';

interface ImportPoisFlags {
  region?: string;
  source: string;
  crs?: string;
  out?: string;
  rejected?: string;
  json?: boolean;
}

/** The coordinate system each source exports in unless told otherwise. */
const DEFAULT_CRS: Record<PoiSource, Crs> = { amap: 'gcj02', baidu: 'bd09' };
const SOURCE_LABEL: Record<PoiSource, string> = { amap: 'Amap', baidu: 'Baidu' };
/** rejections (and merges) listed in the text output; --rejected writes them all. */
const SHOWN = 10;

/** One line, whatever a cell quoted in a message held. */
const oneLine = (s: string): string => s.replace(/\s*[\r\n]+\s*/g, ' ');

function parseSource(raw: string): PoiSource {
  const s = raw.trim().toLowerCase();
  if (s === 'amap' || s === 'baidu') return s;
  if (s === 'gaode' || s === '高德') return 'amap';
  if (s === '百度') return 'baidu';
  throw usageError(`--source: "${raw}" is not a POI source; use amap (高德) or baidu (百度)`);
}

function parseCrsFlag(raw: string): Crs | 'auto' {
  if (raw.trim().toLowerCase() === 'auto') return 'auto';
  const crs = parseCrs(raw);
  if (crs === null) throw usageError(`--crs: "${raw}" is not a coordinate system; use gcj02, bd09, wgs84 or auto`);
  return crs;
}

export function rejectedCsv(rejected: readonly PoiRejection[]): string {
  return UTF8_BOM + csvRow(['line', 'field', 'message']) + rejected.map((r) => csvRow([r.line, r.field, r.message])).join('');
}

function summary(
  res: ImportPoisResult,
  source: PoiSource,
  out: string,
  total: number,
  unreachableLines: number[],
  islandLines: number[],
  snapLimit: number,
  rejectedFile: string | undefined,
): string {
  const tax = loadTaxonomy();
  const lines = [
    `read ${res.rowsRead} rows: imported ${res.imported}, merged ${res.merged.length} with OSM facilities, rejected ${res.rejected.length}`,
    `  ${basename(res.file)}: ${SOURCE_LABEL[source]} ${res.format.toUpperCase()} (${res.encoding}), coordinates ${CRS_LABEL[res.crs]} → WGS-84`,
  ];
  const found = tax.formats.filter((f) => (res.byFormat[f.id] ?? 0) > 0);
  if (found.length > 0) lines.push(`  new facilities: ${found.map((f) => `${f.name['zh-CN']} ${res.byFormat[f.id]}`).join(' · ')}`);
  const lineList = (ls: number[]): string => `line${ls.length > 1 ? 's' : ''} ${ls.slice(0, SHOWN).join(', ')}${ls.length > SHOWN ? ` and ${ls.length - SHOWN} more` : ''}`;
  if (unreachableLines.length > 0) {
    const n = unreachableLines.length;
    lines.push(`  ${n} new facilit${n > 1 ? 'ies are' : 'y is'} more than ${snapLimit} m from any walkable way (${lineList(unreachableLines)}): kept, marked unreachable`);
  }
  if (islandLines.length > 0) {
    const n = islandLines.length;
    lines.push(`  ${n} new facilit${n > 1 ? 'ies sit' : 'y sits'} on small network islands (${lineList(islandLines)}): reachable only from their island`);
  }
  for (const w of res.warnings) lines.push(`  warning: ${oneLine(w)}`);
  for (const m of res.merged.slice(0, SHOWN)) lines.push(`  merged line ${m.line} into facility ${m.osmFacilityId}: ${oneLine(m.reason)}`);
  if (res.merged.length > SHOWN) lines.push(`  … and ${res.merged.length - SHOWN} more merged rows (--json lists them all)`);
  for (const r of res.rejected.slice(0, SHOWN)) lines.push(`  rejected line ${r.line} (${r.field}): ${oneLine(r.message)}`);
  if (res.rejected.length > SHOWN) {
    const more = res.rejected.length - SHOWN;
    lines.push(`  … and ${more} more rejected rows${rejectedFile ? '' : ' (write them all with --rejected <file.csv>)'}`);
  }
  if (rejectedFile && res.rejected.length > 0) lines.push(`  all ${res.rejected.length} rejections → ${rejectedFile}`);
  lines.push(`  → ${out}: ${total} facilities`);
  return lines.join('\n');
}

export function registerImportPois(program: Command): void {
  program
    .command('import-pois')
    .description('add an Amap (高德) or Baidu POI export (CSV/XLSX) to a region; duplicates of its facilities are merged')
    .argument('<file>', 'POI export: .csv/.tsv/.txt (UTF-8 or GBK) or .xlsx')
    .option('--source <amap|baidu>', 'where the export comes from', 'amap')
    .option('--crs <gcj02|bd09|wgs84|auto>', "the file's coordinate system (default: gcj02 for amap, bd09 for baidu; auto = the one that fits the network best)")
    .option('-r, --region <file>', 'region file')
    .option('-o, --out <file>', 'region file to write (default: update the region in place)')
    .option('--rejected <file.csv>', 'write every rejected row (line, field, message) here')
    .option('--json', 'JSON output')
    .action(async (file: string, flags: ImportPoisFlags) => {
      const source = parseSource(flags.source);
      const crs = flags.crs === undefined ? DEFAULT_CRS[source] : parseCrsFlag(flags.crs);
      const regionFile = regionPath(flags.region);
      const out = flags.out ?? regionFile;
      if (flags.rejected !== undefined) {
        const rej = resolve(flags.rejected);
        if (rej === resolve(out) || rej === resolve(regionFile)) throw usageError(`--rejected: ${flags.rejected} is the region file`);
        if (rej === resolve(file)) throw usageError(`--rejected: ${flags.rejected} is the POI file being imported`);
      }
      if (resolve(out) === resolve(file)) throw usageError(`--out: ${out} is the POI file being imported`);

      const region = loadRegionFlag(flags.region);
      const snapLimit = region.meta.snapLimitMetres;
      const index = buildSnapIndex(region.graph);
      const res = await importPois(file, {
        crs,
        source,
        classifier: compileClassifier(loadTaxonomy()),
        region: { bbox: region.meta.bbox, snap: (lon, lat) => snapPreferMain(index, lon, lat, snapLimit) },
        existing: region.facilities,
        firstId: region.facilities.length,
      });
      if (res.imported + res.merged.length + res.rejected.length !== res.rowsRead || res.facilities.length !== res.imported) {
        throw new Error(
          `rows do not add up (imported ${res.imported} + merged ${res.merged.length} + rejected ${res.rejected.length} ≠ ${res.rowsRead} read)`,
        );
      }

      // the rejections first: a failure to write them leaves the region as it was
      if (flags.rejected !== undefined) writeOutput(flags.rejected, rejectedCsv(res.rejected));
      if (res.rowsRead === 0) throw new CliError(`${file}: no data rows below the header; region not changed`, EXIT.input);
      if (res.rejected.length === res.rowsRead) {
        const r = res.rejected[0];
        throw new CliError(
          `${file}: all ${res.rowsRead} rows rejected (first: line ${r.line}, ${r.field}: ${oneLine(r.message)}); region not changed` +
            (flags.rejected !== undefined ? `; every rejection is in ${flags.rejected}` : ''),
          EXIT.input,
        );
      }

      const added = addFacilitiesReport(region, res.facilities, snapLimit, {
        index,
        poiImport: {
          file: basename(file),
          source,
          crs: res.crs,
          rowsRead: res.rowsRead,
          imported: res.imported,
          rejected: res.rejected.length,
          merged: res.merged.length,
          at: new Date().toISOString(),
        },
      });
      ensureOutputDir(dirname(out));
      writeRegion(out, added.region);

      const lineOf = (id: number): number => added.region.facilities[id].sourceId;
      const unreachableLines = added.unreachable.map(lineOf);
      const islandLines = added.onIslands.map(lineOf);
      const total = added.region.facilities.length;
      if (flags.json) {
        printJson({
          file,
          source,
          format: res.format,
          encoding: res.encoding,
          crs: res.crs,
          out,
          rowsRead: res.rowsRead,
          imported: res.imported,
          merged: res.merged.length,
          rejected: res.rejected.length,
          newFacilities: {
            firstId: total - res.imported,
            count: res.imported,
            byFormat: res.byFormat,
            unreachableLines,
            islandLines,
          },
          facilities: total,
          warnings: res.warnings,
          merges: res.merged,
          rejections: res.rejected,
          rejectedFile: flags.rejected ?? null,
          crsCheck: res.crsCheck ?? null,
        });
      } else {
        console.log(summary(res, source, out, total, unreachableLines, islandLines, snapLimit, flags.rejected));
      }
    });
}
