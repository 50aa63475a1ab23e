/**
 * `quarter assess`: every home against a standards profile — coverage per requirement, complete
 * circles, grades and gaps for the region, the user's zones and H3 cells — as a short summary, and
 * with --out the whole result as assessment.json plus the report exports (GeoJSON, CSV, XLSX, HTML);
 * with --pdf the region report printed to PDF by headless Chromium.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, extname, join } from 'node:path';
import type { Command } from 'commander';
import { assessParallel, assessmentToJson, type AssessmentWithList, type AssessOptions } from '../../assess/assess.js';
import { CompoundListError, type CompoundListSummary } from '../../assess/compound-residences.js';
import { explainResidence, explanationLine } from '../../assess/explain.js';
import { MomentError, parseMoment } from '../../assess/opening-hours.js';
import type { AssessmentResult, ZoneResult } from '../../assess/result.js';
import { loadStandardsProfile, listStandardsProfiles, StandardsError, type StandardsProfile } from '../../assess/standards.js';
import { ZoneFileError } from '../../assess/zones.js';
import { haversineMetres } from '../../engine/geo.js';
import { CRS_LABEL, parseCrs } from '../../ingest/crs.js';
import { ensureOutputDir, writeFileAtomic } from '../../io/atomic-file.js';
import type { Region } from '../../region/region.js';
import { writeAssessmentExports } from '../../report/assessment-export.js';
import { renderRegionReport } from '../../report/html-report.js';
import { findChromium, htmlToPdf, PdfReportError } from '../../report/pdf-report.js';
import { loadTaxonomy, type Taxonomy } from '../../taxonomy/formats.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { printJson, round } from '../output.js';
import { parseLonLat, parseNumber } from '../parse.js';
import { makeProgress } from '../progress.js';
import { loadRegionFlag } from '../region-option.js';
import { padDisplay } from '../text.js';

interface AssessFlags {
  region?: string;
  profile?: string;
  zones?: string;
  compounds?: string;
  compoundsCrs?: string;
  population?: string;
  elderlyShare: string;
  at?: string;
  h3: string;
  out?: string;
  pdf?: string;
  json?: boolean;
  explain?: string;
  threads?: string;
}

/** A residence farther than this from the --explain point is not "the home there". */
const EXPLAIN_RADIUS_M = 300;
/** Rejected 小区 list rows listed in the text summary; --json lists them all. */
const REJECTED_LISTED = 10;
/** User zones listed in the text summary; the rest are in assessment.json. */
const ZONES_LISTED = 30;

export function registerAssess(program: Command): void {
  program
    .command('assess')
    .description('assess every home against a standards profile: coverage, complete circles, grades and gaps per zone')
    .argument('[region]', 'region file (same as --region)')
    .option('-r, --region <file>', 'region file')
    .option('--profile <id|file.json>', 'standards profile (mofcom-2021, gb50180-2018, shanghai-2016, xuhui) or a profile JSON file')
    .option('--zones <file.geojson>', 'zones to report on (街道 / 居委 polygons); population totals in them (人口 / population) are spread over homes')
    .option('--compounds <file>', "a 小区 list (CSV or GeoJSON: 小区名称, 户数, 人口, 经度, 纬度): its entries replace the region's estimated homes")
    .option('--compounds-crs <wgs84|gcj02|bd09>', "coordinate system of the 小区 list's rows (default wgs84; a 坐标系 column overrides it per row)")
    .option('--population <n>', 'known total population, spread over homes by floor area (over a 小区 list: in proportion to its population)')
    .option('--elderly-share <share>', 'share of residents aged 65+ (0–1)', '0.2061')
    .option('--at <moment>', 'only facilities open then: "Mo 07:00", "周一 07:00", "2026-02-17T09:00", "now"')
    .option('--h3 <resolutions>', 'H3 hexagon resolutions to report on, or "none"', '9,10')
    .option('--out <dir>', 'write assessment.json (and the report files) here')
    .option('--pdf <file.pdf>', `also write the region report as an A4 PDF (printed by headless Chromium: /usr/bin/chromium or $QUARTER_CHROMIUM)`)
    .option('--json', 'print the summary as JSON')
    .option('--explain <lon,lat>', 'explain, requirement by requirement, the home nearest this point')
    .option('--threads <n>', `worker threads for the walking-time searches (default: the CPUs, here ${availableParallelism()})`)
    .action(async (regionArg: string | undefined, flags: AssessFlags) => {
      if (regionArg !== undefined) {
        if (flags.region !== undefined && flags.region !== regionArg) throw usageError(`region given twice: "${regionArg}" and --region "${flags.region}"`);
        flags.region = regionArg;
      }
      // every flag is checked before anything is loaded: a typo costs nothing
      if (flags.profile === undefined) {
        throw usageError(`--profile: required; known profiles: ${listStandardsProfiles().map((p) => p.id).join(', ')} (or a profile JSON file)`);
      }
      const population = flags.population === undefined ? null : parseNumber('--population', flags.population.replace(/[,_\s]/g, ''), 0, 2e9);
      const elderlyShare = parseShare('--elderly-share', flags.elderlyShare);
      const h3Resolutions = parseH3('--h3', flags.h3);
      const explainAt = flags.explain === undefined ? null : parseLonLat('--explain', flags.explain);
      const threads = flags.threads === undefined ? availableParallelism() : parseThreads('--threads', flags.threads);
      let compounds: AssessOptions['compounds'] = null;
      if (flags.compoundsCrs !== undefined && flags.compounds === undefined) throw usageError('--compounds-crs: only with --compounds <file>');
      if (flags.compounds !== undefined) {
        const crs = flags.compoundsCrs === undefined ? 'wgs84' : parseCrs(flags.compoundsCrs);
        if (crs === null) throw usageError(`--compounds-crs: "${flags.compoundsCrs}" is not a coordinate system; use wgs84, gcj02 or bd09`);
        compounds = { file: flags.compounds, crs };
      }
      if (flags.at !== undefined) {
        try {
          parseMoment(flags.at);
        } catch (err) {
          if (err instanceof MomentError) throw usageError(`--at: ${err.message}`);
          throw err;
        }
      }
      if (flags.pdf !== undefined) checkPdfTarget(flags.pdf);
      const taxonomy = loadTaxonomy();
      const profile = loadProfile(flags.profile, taxonomy);
      const loadedRegion = loadRegionFlag(flags.region);

      const progress = makeProgress(!flags.json);
      const opts: AssessOptions = { profile, at: flags.at ?? null, population, zones: flags.zones ?? null, compounds, h3Resolutions, elderlyShare, taxonomy, onProgress: progress.update };
      let assessed: AssessmentWithList;
      // Ctrl-C: stop the workers at once (the interrupt handler then exits 130; nothing is written yet)
      const cancel = new AbortController();
      const onInterrupt = (): void => cancel.abort();
      process.prependOnceListener('SIGINT', onInterrupt);
      try {
        assessed = await assessParallel(loadedRegion, { ...opts, threads, signal: cancel.signal });
      } catch (err) {
        if (err instanceof ZoneFileError) throw new CliError(err.message, EXIT.input);
        if (err instanceof CompoundListError) throw new CliError(err.message, EXIT.input);
        if (err instanceof MomentError) throw usageError(`--at: ${err.message}`);
        throw err;
      } finally {
        process.removeListener('SIGINT', onInterrupt);
        progress.stop();
      }
      // with a 小区 list the assessment ran on a region holding the list's entries: everything below uses it
      const { compoundList, ...rest } = assessed;
      const result: AssessmentResult = rest;
      const region = compoundList?.region ?? loadedRegion;
      const listSummary = compoundList?.summary ?? null;

      const written: string[] = [];
      if (flags.out) {
        ensureOutputDir(flags.out);
        const file = join(flags.out, 'assessment.json');
        writeFileAtomic(file, [JSON.stringify({ ...assessmentToJson(result, region), ...(listSummary ? { compoundList: listSummary } : {}) })]);
        written.push(file);
        // ── REPORT EXPORTS (src/report/assessment-export.ts): GeoJSON, CSV, XLSX, HTML ──────
        const exported = await writeAssessmentExports(result, region, flags.out, { taxonomy });
        written.push(...exported.files);
        // ──────────────────────────────────────────────────────────────────────────────────
      }
      if (flags.pdf !== undefined) {
        written.push(await writePdfReport(result, region, flags.pdf, taxonomy));
      }

      let explained: { residence: number; name: string; metres: number; lines: { 'zh-CN': string; en: string }[] } | null = null;
      if (explainAt) {
        const [lon, lat] = explainAt;
        const r = nearestResidence(region, lon, lat);
        if (r.index < 0 || r.metres > EXPLAIN_RADIUS_M) {
          if (nearestResidence(region, lat, lon).metres <= EXPLAIN_RADIUS_M) throw usageError(`--explain ${lon},${lat} looks swapped: write lon,lat (${lat},${lon})`);
          const away = r.metres >= 10_000 ? `${(r.metres / 1000).toFixed(0)} km` : `${Math.round(r.metres)} m`;
          throw new CliError(`--explain ${lon},${lat}: no home within ${EXPLAIN_RADIUS_M} m${r.index >= 0 ? ` (the nearest is ${away} away)` : ''}`, EXIT.noResult);
        }
        const ex = explainResidence(result, region, r.index);
        explained = {
          residence: r.index,
          name: region.residences.names[r.index],
          metres: r.metres,
          lines: ex.map((e) => ({ 'zh-CN': explanationLine(result, region, e, 'zh-CN', taxonomy), en: explanationLine(result, region, e, 'en', taxonomy) })),
        };
      }

      if (flags.json) {
        printJson({ ...(jsonSummary(result, taxonomy, written, explained) as object), compoundList: listSummary });
        return;
      }
      console.log(textSummary(result, taxonomy, written, explained, listSummary));
    });
}

/**
 * Before any work: a .pdf name, a folder for it (made if missing, as --out does), no folder in the
 * way, and a Chromium to print with — so a bad --pdf costs nothing.
 */
function checkPdfTarget(file: string): void {
  if (file.trim() === '') throw usageError('--pdf: give a file name ending in .pdf');
  if (extname(file).toLowerCase() !== '.pdf') throw usageError(`--pdf ${file}: the file name must end in .pdf`);
  ensureOutputDir(dirname(file));
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`--pdf ${file}: is a directory; give a file name ending in .pdf`, EXIT.output);
  try {
    findChromium();
  } catch (err) {
    if (err instanceof PdfReportError) throw new CliError(`--pdf: ${err.message}`, EXIT.output);
    throw err;
  }
}

/** The region report (zh-CN, as report.html) printed to PDF, written atomically: all of it or nothing. */
async function writePdfReport(result: AssessmentResult, region: Region, file: string, taxonomy: Taxonomy): Promise<string> {
  let pdf: Buffer;
  try {
    pdf = await htmlToPdf(renderRegionReport(result, region, { taxonomy }));
  } catch (err) {
    if (err instanceof PdfReportError) throw new CliError(`--pdf ${file}: ${err.message}`, EXIT.output);
    throw err;
  }
  writeFileAtomic(file, [pdf]);
  return file;
}

function parseShare(flag: string, raw: string): number {
  const s = raw.trim();
  if (s.endsWith('%')) return parseNumber(flag, s.slice(0, -1), 0, 100) / 100;
  const v = parseNumber(flag, s, 0, 100);
  if (v > 1) throw usageError(`${flag}: ${v} is not a share in [0, 1] (write 0.2061 or 20.61%)`);
  return v;
}

/** Worker threads: a whole number from 1 to 4 × the CPUs (more only queue for the same cores). */
function parseThreads(flag: string, raw: string): number {
  const max = 4 * availableParallelism();
  const s = raw.trim();
  if (!/^\d+$/.test(s)) throw usageError(`${flag}: "${raw}" is not a whole number of threads (1–${max})`);
  const v = Number(s);
  if (v < 1 || v > max) throw usageError(`${flag}: ${v} is out of range: use 1–${max} threads (4 × the ${availableParallelism()} CPUs at most)`);
  return v;
}

function parseH3(flag: string, raw: string): number[] {
  const s = raw.trim().toLowerCase();
  if (s === 'none' || s === '' || s === 'off') return [];
  const out = s.split(',').map((p) => {
    const v = parseNumber(flag, p, 0, 15);
    if (!Number.isInteger(v)) throw usageError(`${flag}: ${v} is not an H3 resolution (an integer 0–15)`);
    return v;
  });
  return [...new Set(out)];
}

function loadProfile(idOrPath: string, taxonomy: Taxonomy): StandardsProfile {
  try {
    return loadStandardsProfile(idOrPath, { taxonomy });
  } catch (err) {
    if (!(err instanceof StandardsError)) throw err;
    const first = err.errors[0] ?? err.message;
    const more = err.errors.length > 1 ? ` (and ${err.errors.length - 1} more problems)` : '';
    // an unknown id is a typo on the command line; a broken file is a bad input
    if (/^unknown standards profile/.test(first)) throw usageError(`--profile: ${first}`);
    throw new CliError(`--profile: ${first}${more}`, EXIT.input);
  }
}

function nearestResidence(region: Region, lon: number, lat: number): { index: number; metres: number } {
  const t = region.residences;
  let best = -1;
  let bestM = Infinity;
  for (let r = 0; r < t.count; r++) {
    const m = haversineMetres(lon, lat, t.lon[r], t.lat[r]);
    if (m < bestM) {
      bestM = m;
      best = r;
    }
  }
  return { index: best, metres: bestM };
}

const pct = (x: number | null): string => (x === null || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(1)} %`);
const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const mins = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)} min` : `none within reach`);

function gradeLabel(result: AssessmentResult, g: number): string {
  const grade = result.settings.profile.grades[g];
  return grade ? `${grade.name['zh-CN']} ${grade.name.en}` : '未达级 none';
}

function reqLabel(result: AssessmentResult, q: number, taxonomy: Taxonomy): string {
  const info = result.requirements[q];
  const names = info.formats.map((f) => taxonomy.byId.get(f)?.name['zh-CN'] ?? f).join('或');
  const level = info.requirement.level !== undefined ? `@${info.requirement.level}` : '';
  const group = info.requirement.population !== 'all' ? ` (${info.requirement.population})` : '';
  return `${names}${level}${group}`;
}

function zoneLine(result: AssessmentResult, z: ZoneResult, taxonomy: Taxonomy, gaps = 3): string[] {
  const head =
    `  ${z.name}: ${int(z.residences)} homes, ${int(z.population)} residents · grade 等级 ${gradeLabel(result, z.grade)} · ` +
    `completeness 完整度 ${pct(z.completeness)} · complete 完整 ${pct(z.completeShare)}`;
  const lines = [head];
  for (const g of z.gaps.slice(0, gaps)) {
    lines.push(
      `      gap 缺口 ${padDisplay(reqLabel(result, g.requirement, taxonomy), 24)} ${int(g.residentsAffected).padStart(8)} unserved (${int(g.elderlyAffected)} aged 65+, ${g.residences} homes), median ${mins(g.medianMinutes)}, centre ${g.lon.toFixed(5)},${g.lat.toFixed(5)}`,
    );
  }
  return lines;
}

function textSummary(
  result: AssessmentResult,
  taxonomy: Taxonomy,
  written: string[],
  explained: { residence: number; name: string; metres: number; lines: { 'zh-CN': string; en: string }[] } | null,
  list: CompoundListSummary | null = null,
): string {
  const h = result.headline;
  const p = result.settings.profile;
  const out: string[] = [];
  out.push(`评估 assessment of ${result.regionName} against ${p.id} — ${p.name['zh-CN']} / ${p.name.en}`);
  if (list) out.push(...listLines(list));
  const source = result.settings.population !== null ? `; total ${int(result.settings.population)} given` : list ? '; as in the 小区 list' : '; estimated from floor area';
  out.push(
    `  ${int(h.residences)} homes 住所, ${int(h.population)} residents 居民 (${int(h.elderly)} aged 65+${source}); ` +
      `${h.unreachableResidences} homes off the walking network`,
  );
  if (h.openingHours) {
    out.push(`  open at 营业时间 ${result.settings.at}: ${h.openingHours.open} open, ${h.openingHours.closed} closed (left out), ${h.openingHours.unknown} unknown (counted open)`);
  }
  out.push(
    `  complete circle 完整生活圈 ${pct(h.completeCircleShare)} of residents · mean completeness 平均完整度 ${pct(h.meanCompleteness)} · ` +
      `chain outlets 连锁化率 ${pct(h.chainOutletShare)}`,
  );
  out.push(`  basic format coverage 基本保障类覆盖率 (within the MOFCOM walk):`);
  for (const b of h.basicFormatCoverage) {
    const f = taxonomy.byId.get(b.format);
    out.push(`    ${padDisplay(`${f?.name['zh-CN'] ?? b.format} ${f?.name.en ?? ''}`, 44)} ${String(f?.mofcomMinutes ?? '').padStart(2)} min ${pct(b.coverage).padStart(8)}`);
  }
  if (h.targets.length > 0) {
    out.push(`  targets 目标:`);
    for (const t of h.targets) {
      const mark = t.met === null ? '·' : t.met ? '✓' : '✗';
      out.push(`    ${mark} ${t.indicator} ${pct(t.value)} (target ${pct(t.target)})${t.note ? ` — ${t.note}` : ''}`);
    }
  }
  out.push(`  zones 分区 (grade, completeness, largest gaps):`);
  const user = result.zones.filter((z) => z.kind === 'zone');
  out.push(...zoneLine(result, result.zones[0], taxonomy, 5));
  for (const z of user.slice(0, ZONES_LISTED)) out.push(...zoneLine(result, z, taxonomy));
  if (user.length > ZONES_LISTED) out.push(`  … ${user.length - ZONES_LISTED} more zones in assessment.json (--out)`);
  const h3 = result.zones.filter((z) => z.kind === 'h3');
  if (h3.length > 0) {
    const byRes = new Map<number, ZoneResult[]>();
    for (const z of h3) {
      const list = byRes.get(z.resolution ?? -1) ?? [];
      list.push(z);
      byRes.set(z.resolution ?? -1, list);
    }
    const parts = [...byRes].map(([res, list]) => {
      const complete = list.filter((z) => z.completeShare >= 0.999).length;
      return `resolution ${res}: ${list.length} cells with homes, ${complete} complete`;
    });
    out.push(`  H3 hexagons 六边形: ${parts.join('; ')}`);
  }
  for (const w of result.warnings) out.push(`  warning: ${w}`);
  if (explained) {
    out.push(`\nhome 住所 #${explained.residence}${explained.name ? ` “${explained.name}”` : ''} (${Math.round(explained.metres)} m from the point):`);
    for (const l of explained.lines) out.push(`  ${l['zh-CN']}`);
    for (const l of explained.lines) out.push(`  ${l.en}`);
  }
  out.push(`assessed in ${((result.timings.total ?? 0) / 1000).toFixed(2)} s`);
  for (const f of written) out.push(`→ ${f}`);
  out.push(result.attribution);
  return out.join('\n');
}

/** One line, whatever a cell quoted in a message held. */
const oneLine = (s: string): string => s.replace(/\s*[\r\n]+\s*/g, ' ');

/** The 小区 list's account: rows read = imported + rejected, the first rejections with their lines. */
function listLines(l: CompoundListSummary): string[] {
  const out = [
    `  小区名单 compound list ${l.file}: ${l.rowsRead} rows read, ${l.imported} imported, ${l.rejected.length} rejected ` +
      `(${l.format.toUpperCase()}, ${l.encoding}, ${CRS_LABEL[l.crs]}); ${int(l.population)} residents listed` +
      (l.populationFromHouseholds > 0 ? ` (${l.populationFromHouseholds} row${l.populationFromHouseholds > 1 ? 's' : ''} from 户数 × household size)` : ''),
  ];
  for (const r of l.rejected.slice(0, REJECTED_LISTED)) out.push(`    rejected line ${r.line} (${oneLine(r.field)}): ${oneLine(r.message)}`);
  if (l.rejected.length > REJECTED_LISTED) out.push(`    … and ${l.rejected.length - REJECTED_LISTED} more rejected rows (--json lists them all)`);
  for (const w of l.warnings.slice(0, REJECTED_LISTED)) out.push(`    warning line ${w.line} (${oneLine(w.field)}): ${oneLine(w.message)}`);
  if (l.warnings.length > REJECTED_LISTED) out.push(`    … and ${l.warnings.length - REJECTED_LISTED} more row warnings (--json lists them all)`);
  for (const n of l.notes) out.push(`    note: ${oneLine(n)}`);
  return out;
}

function jsonSummary(
  result: AssessmentResult,
  taxonomy: Taxonomy,
  written: string[],
  explained: { residence: number; name: string; metres: number; lines: { 'zh-CN': string; en: string }[] } | null,
): unknown {
  const p = result.settings.profile;
  const zone = (z: ZoneResult) => ({
    id: z.id,
    name: z.name,
    kind: z.kind,
    residences: z.residences,
    population: round(z.population, 1),
    elderly: round(z.elderly, 1),
    grade: z.grade >= 0 ? p.grades[z.grade].id : null,
    completeness: z.completeness,
    completeShare: z.completeShare,
    coverage: result.requirements.map((q) => ({ requirement: q.index, format: q.requirement.format, level: q.requirement.level ?? null, population: q.requirement.population, coverage: z.coverage[q.index] })),
    gaps: z.gaps.slice(0, 5).map((g) => ({ ...g, label: reqLabel(result, g.requirement, taxonomy), medianMinutes: Number.isFinite(g.medianMinutes) ? round(g.medianMinutes, 2) : null })),
  });
  const h3 = result.zones.filter((z) => z.kind === 'h3');
  const cells: Record<string, number> = {};
  for (const z of h3) cells[String(z.resolution)] = (cells[String(z.resolution)] ?? 0) + 1;
  return {
    region: result.regionName,
    profile: { id: p.id, name: p.name },
    settings: { ...result.settings, profile: p.id },
    headline: result.headline,
    zones: [result.zones[0], ...result.zones.filter((z) => z.kind === 'zone')].map(zone),
    h3Cells: cells,
    zoneAssignment: result.zoneAssignment ?? null,
    warnings: result.warnings,
    timings: result.timings,
    out: written,
    explain: explained,
    attribution: result.attribution,
  };
}
