/**
 * Everything an assessment hands to people and other tools, written into one folder:
 *
 *   residences.geojson   one Point per residence: minutes per format, completeness, grade, population
 *   zones.geojson        zone polygons (user zones and H3 cells): coverage per requirement, grade, top gap
 *   residences.csv       one row per residence; minutes columns headed "药店 pharmacy (min)"
 *   zones.csv            one row per zone (region, user zones, H3 cells), coverage per requirement
 *   gaps.csv             one row per zone × gap, ranked: residents and elderly affected, where, minutes
 *   assessment.xlsx      概要 Summary · 街道·片区 Zones · H3 网格 H3 cells · 住宅 Residences · 缺口 Gaps
 *   report.html          the region report (zh-CN by default, English with lang 'en')
 *   report-<zone>.html   one report per user zone (街道 / 片区), not per H3 cell
 *
 * GeoJSON keys are stable English ids (format ids, `min_<format>`, `cov_<requirement>`); the
 * collection's `properties` carry the attribution and a legend of format / requirement / grade
 * names in Chinese and English. CSV: UTF-8 with BOM, CRLF, formula-safe cells (src/report/csv.ts),
 * shares as 0–1, minutes with one decimal, empty when no facility is reachable. Each file is
 * written atomically (temp file + rename): a failure leaves the previous file or none, never half.
 * Reads only the AssessmentResult contract (src/assess/result.ts) and the region it came from.
 */
import { join } from 'node:path';
import type { AssessmentResult, ZoneResult } from '../assess/result.js';
import { SOURCE_TYPES } from '../ingest/residences/table.js';
import { ensureOutputDir, writeFileAtomic } from '../io/atomic-file.js';
import type { Region } from '../region/region.js';
import { UTF8_BOM, csvRow, type Cell } from './csv.js';
import {
  TEXT,
  attributionText,
  formatName,
  formatNames,
  gradeId,
  gradeName,
  isoDate,
  regionTargets,
  regionZone,
  renderRegionReport,
  renderZoneReport,
  requirementKeys,
  requirementLabel,
  thresholdMinutes,
  zoneReportFiles,
  type ReportLang,
  type ReportOptions,
} from './html-report.js';
import { XLSX_MAX_ROWS, workbookBuffer, type SheetSpec, type XCell } from './xlsx.js';

export type AssessmentExportOptions = ReportOptions;

export interface AssessmentExportResult {
  /** paths written, in order. */
  files: string[];
}

export const ASSESSMENT_SHEETS = {
  summary: '概要 Summary',
  zones: '街道·片区 Zones',
  h3: 'H3 网格 H3 cells',
  residences: '住宅 Residences',
  gaps: '缺口 Gaps',
} as const;

const CHUNK_CHARS = 1 << 20;

const r1 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
const r4 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : null);
const r6 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : null);

function* chunks(head: string, parts: Iterable<string>, tail: string): Generator<string> {
  let buf = head;
  for (const p of parts) {
    buf += p;
    if (buf.length >= CHUNK_CHARS) {
      yield buf;
      buf = '';
    }
  }
  buf += tail;
  if (buf) yield buf;
}

function* csvChunks(header: Cell[], rows: Iterable<Cell[]>): Generator<string> {
  yield* chunks(UTF8_BOM + csvRow(header), (function* () {
    for (const r of rows) yield csvRow(r);
  })(), '');
}

function check(result: AssessmentResult, region: Region): void {
  const R = result.residences;
  if (R.count !== region.residences.count) {
    throw new Error(`assessment has ${R.count} residences but region "${region.meta.name}" has ${region.residences.count}: not the same region`);
  }
  const nf = R.formats.length;
  if (R.minutes.length !== R.count * nf || R.met.length !== R.count * result.requirements.length) {
    throw new Error('assessment residence arrays do not match residences × formats / requirements');
  }
}

/** "way/123456", "node/42", "row/7": where the residence comes from. */
export function residenceSource(region: Region, r: number): string {
  const t = SOURCE_TYPES[region.residences.sourceType[r]] ?? 'row';
  return `${t}/${region.residences.sourceId[r]}`;
}

// ---------------------------------------------------------------------------------------------
// GeoJSON

function collectionHead(name: string, props: Record<string, unknown>): string {
  return `{"type":"FeatureCollection","name":${JSON.stringify(name)},"properties":${JSON.stringify(props)},"features":[\n`;
}

function commonProps(result: AssessmentResult, lang: ReportLang): Record<string, unknown> {
  const p = result.settings.profile;
  return {
    attribution: attributionText(result),
    region: result.regionName,
    profile: { id: p.id, name_zh: p.name['zh-CN'], name_en: p.name.en },
    lang,
    grades: p.grades.map((g, i) => ({ index: i, id: g.id, name_zh: g.name['zh-CN'], name_en: g.name.en })),
  };
}

/** residences.geojson as text chunks. */
export function* residencesGeoJson(result: AssessmentResult, region: Region, opts: AssessmentExportOptions = {}): Generator<string> {
  check(result, region);
  const lang = opts.lang ?? 'zh-CN';
  const R = result.residences;
  const T = region.residences;
  const profile = result.settings.profile;
  const nf = R.formats.length;
  const keys = R.formats.map((f) => `min_${f}`);
  const head = collectionHead('residences', {
    ...commonProps(result, lang),
    formats: R.formats.map((f, i) => {
      const n = formatNames(f, opts);
      return { id: f, key: keys[i], name_zh: n.zh, name_en: n.en };
    }),
    units: { minutes: 'walking minutes to the nearest facility (null: none within reach)', completeness: 'weighted share of requirements met, 0–1' },
  });
  const features = function* (): Generator<string> {
    for (let r = 0; r < R.count; r++) {
      const props: Record<string, unknown> = {
        id: r,
        source: residenceSource(region, r),
        name: T.names[r] ?? '',
        population: r1(R.population[r]),
        elderly: r1(R.elderly[r]),
        completeness: r4(R.completeness[r]),
        grade: gradeId(profile, R.grade[r]) || null,
        grade_name: gradeName(profile, R.grade[r], lang),
        reachable: R.reachable[r] === 1,
      };
      for (let f = 0; f < nf; f++) props[keys[f]] = r1(R.minutes[r * nf + f]);
      const feature = { type: 'Feature', id: r, geometry: { type: 'Point', coordinates: [r6(T.lon[r]), r6(T.lat[r])] }, properties: props };
      yield (r > 0 ? ',\n' : '') + JSON.stringify(feature);
    }
  };
  yield* chunks(head, features(), '\n]}\n');
}

function roundGeometry(g: NonNullable<ZoneResult['geometry']>): unknown {
  const ring = (rg: number[][]) => rg.map(([x, y]) => [r6(x), r6(y)]);
  return g.type === 'Polygon'
    ? { type: 'Polygon', coordinates: g.coordinates.map(ring) }
    : { type: 'MultiPolygon', coordinates: g.coordinates.map((p) => p.map(ring)) };
}

/** zones.geojson as text chunks: every zone with a geometry (user zones, H3 cells). */
export function* zonesGeoJson(result: AssessmentResult, opts: AssessmentExportOptions = {}): Generator<string> {
  const lang = opts.lang ?? 'zh-CN';
  const profile = result.settings.profile;
  const keys = requirementKeys(result.requirements).map((k) => `cov_${k}`);
  const head = collectionHead('zones', {
    ...commonProps(result, lang),
    requirements: result.requirements.map((q, i) => {
      const n = formatNames(q.requirement.format, opts);
      return {
        key: keys[i],
        format: q.requirement.format,
        formats: q.formats,
        name_zh: n.zh,
        name_en: n.en,
        minutes: thresholdMinutes(q),
        population: q.requirement.population,
        ...(q.requirement.level !== undefined ? { level: q.requirement.level } : {}),
      };
    }),
    units: { coverage: 'share of the requirement’s population group served, 0–1' },
  });
  const features = function* (): Generator<string> {
    let k = 0;
    for (const z of result.zones) {
      if (!z.geometry) continue;
      const top = z.gaps[0];
      const props: Record<string, unknown> = {
        id: z.id,
        name: z.name,
        kind: z.kind,
        resolution: z.resolution ?? null,
        residences: z.residences,
        population: r1(z.population),
        elderly: r1(z.elderly),
        completeness: r4(z.completeness),
        complete_share: r4(z.completeShare),
        grade: gradeId(profile, z.grade) || null,
        grade_name: gradeName(profile, z.grade, lang),
        top_gap: top?.format ?? null,
        top_gap_name_zh: top ? formatNames(top.format, opts).zh : null,
        top_gap_residents: top ? r1(top.residentsAffected) : null,
        top_gap_elderly: top ? r1(top.elderlyAffected) : null,
      };
      result.requirements.forEach((q, i) => (props[keys[i]] = r4(z.coverage[q.index] ?? NaN)));
      const feature = { type: 'Feature', id: z.id, geometry: roundGeometry(z.geometry), properties: props };
      yield (k++ > 0 ? ',\n' : '') + JSON.stringify(feature);
    }
  };
  yield* chunks(head, features(), '\n]}\n');
}

// ---------------------------------------------------------------------------------------------
// CSV

/** "药店 pharmacy (min)" */
export const minutesHeader = (format: string, opts: AssessmentExportOptions = {}): string => `${formatNames(format, opts).zh} ${format} (min)`;

export function residencesCsvHeader(result: AssessmentResult, opts: AssessmentExportOptions = {}): string[] {
  return [
    'id', 'source', 'name', 'lon', 'lat', 'population', 'elderly', 'completeness', 'grade', 'grade_name', 'reachable',
    ...result.residences.formats.map((f) => minutesHeader(f, opts)),
  ];
}

export function* residencesCsvRows(result: AssessmentResult, region: Region, opts: AssessmentExportOptions = {}): Generator<Cell[]> {
  check(result, region);
  const lang = opts.lang ?? 'zh-CN';
  const R = result.residences;
  const T = region.residences;
  const profile = result.settings.profile;
  const nf = R.formats.length;
  for (let r = 0; r < R.count; r++) {
    const row: Cell[] = [
      r, residenceSource(region, r), T.names[r] ?? '', r6(T.lon[r]), r6(T.lat[r]), r1(R.population[r]), r1(R.elderly[r]),
      r4(R.completeness[r]), gradeId(profile, R.grade[r]), gradeName(profile, R.grade[r], lang), R.reachable[r],
    ];
    for (let f = 0; f < nf; f++) row.push(r1(R.minutes[r * nf + f]));
    yield row;
  }
}

export function zonesCsvHeader(result: AssessmentResult, opts: AssessmentExportOptions = {}): string[] {
  const keys = requirementKeys(result.requirements);
  return [
    'zone_id', 'zone_name', 'kind', 'resolution', 'residences', 'population', 'elderly', 'completeness', 'complete_share',
    'grade', 'grade_name', 'top_gap', 'top_gap_residents',
    ...result.requirements.map((q, i) => `${formatNames(q.requirement.format, opts).zh} ${keys[i]} ≤${thresholdMinutes(q)} min (coverage)`),
  ];
}

export function* zonesCsvRows(result: AssessmentResult, opts: AssessmentExportOptions = {}): Generator<Cell[]> {
  const lang = opts.lang ?? 'zh-CN';
  const profile = result.settings.profile;
  for (const z of result.zones) {
    const top = z.gaps[0];
    yield [
      z.id, z.name, z.kind, z.resolution ?? null, z.residences, r1(z.population), r1(z.elderly), r4(z.completeness), r4(z.completeShare),
      gradeId(profile, z.grade), gradeName(profile, z.grade, lang), top?.format ?? '', top ? r1(top.residentsAffected) : null,
      ...result.requirements.map((q) => r4(z.coverage[q.index] ?? NaN)),
    ];
  }
}

export const GAPS_CSV_HEADER = [
  'zone_id', 'zone_name', 'zone_kind', 'rank', 'requirement', 'format', 'format_zh', 'format_en', 'threshold_min',
  'residents_affected', 'elderly_affected', 'residences', 'lon', 'lat', 'median_minutes',
];

export function* gapsCsvRows(result: AssessmentResult, opts: AssessmentExportOptions = {}): Generator<Cell[]> {
  const keys = requirementKeys(result.requirements);
  for (const z of result.zones) {
    let rank = 0;
    for (const g of z.gaps) {
      const q = result.requirements[g.requirement];
      const n = formatNames(g.format, opts);
      yield [
        z.id, z.name, z.kind, ++rank, keys[g.requirement] ?? '', g.format, n.zh, n.en, q ? thresholdMinutes(q) : null,
        r1(g.residentsAffected), r1(g.elderlyAffected), g.residences, r6(g.lon), r6(g.lat), r1(g.medianMinutes),
      ];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// XLSX

const XH: Record<ReportLang, Record<string, string>> = {
  'zh-CN': {
    item: '项目', value: '值', target: '目标', status: '状态', region: '地区', date: '报告日期', zoneId: '编号', zoneName: '名称',
    kind: '类型', resolution: '分辨率', residences: '住宅', population: '人口', elderly: '老年人', completeness: '完整度',
    completeShare: '完整生活圈比例', grade: '等级', topGap: '最大缺口', topGapResidents: '最大缺口未覆盖居民', id: '编号',
    source: '来源', name: '名称', lon: '经度', lat: '纬度', reachable: '接入步行网络', yes: '是', no: '否', rank: '序号',
    requirement: '要求', format: '业态', threshold: '门槛（分钟）', affected: '未覆盖居民', elderlyAffected: '其中老年人',
    median: '未覆盖者步行分钟（中位数）', min: '分钟', cov: '覆盖率', basicCoverage: '基本保障类业态覆盖率', openingHours: '营业时间',
    open: '营业', closed: '未营业', unknown: '未知', attribution: '数据来源', truncated: '住宅表已截断（Excel 行数上限）',
    warnings: '提示', kindRegion: '全区', kindZone: '街道/片区', kindH3: 'H3 网格',
  },
  en: {
    item: 'Item', value: 'Value', target: 'Target', status: 'Status', region: 'Region', date: 'Date', zoneId: 'ID', zoneName: 'Name',
    kind: 'Kind', resolution: 'Resolution', residences: 'Residences', population: 'Population', elderly: 'Elderly', completeness: 'Completeness',
    completeShare: 'Complete circle share', grade: 'Grade', topGap: 'Largest gap', topGapResidents: 'Largest gap: residents not served', id: 'ID',
    source: 'Source', name: 'Name', lon: 'Lon', lat: 'Lat', reachable: 'On walking network', yes: 'yes', no: 'no', rank: 'Rank',
    requirement: 'Requirement', format: 'Format', threshold: 'Threshold (min)', affected: 'Residents not served', elderlyAffected: 'of whom elderly',
    median: 'Median minutes (unserved)', min: 'min', cov: 'coverage', basicCoverage: 'Basic format coverage', openingHours: 'Opening hours',
    open: 'open', closed: 'closed', unknown: 'unknown', attribution: 'Attribution', truncated: 'Residences sheet truncated (Excel row limit)',
    warnings: 'Notes', kindRegion: 'region', kindZone: 'zone', kindH3: 'H3 cell',
  },
};

/** The five sheets of assessment.xlsx. */
export function assessmentSheets(result: AssessmentResult, region: Region, opts: AssessmentExportOptions = {}): SheetSpec[] {
  check(result, region);
  const lang = opts.lang ?? 'zh-CN';
  const H = XH[lang];
  const T = TEXT[lang];
  const profile = result.settings.profile;
  const h = result.headline;
  const rz = regionZone(result);
  const R = result.residences;
  const nf = R.formats.length;
  const truncated = R.count > XLSX_MAX_ROWS - 1;

  const status = (met: boolean | null): string => (met === null ? T.unknown : met ? T.met : T.missed);
  const pct = (v: number | null): XCell => ({ value: v, kind: 'percent' });
  const int = (v: number): XCell => ({ value: v, kind: 'integer' });
  const summary: XCell[][] = [
    [H.region, result.regionName],
    [T.profile, `${profile.name[lang]} (${profile.id})`],
    [T.source, profile.source],
    [H.date, isoDate(opts.date ?? new Date())],
    [T.moment, result.settings.at ?? T.momentNone],
    [T.populationSource, result.settings.population === null ? T.popEstimated : T.popKnown(String(Math.round(result.settings.population)))],
    [T.elderlyShare, pct(result.settings.elderlyShare)],
    [T.population, int(h.population)],
    [T.elderly, int(h.elderly)],
    [T.residences, int(h.residences)],
    [T.unreachable, int(h.unreachableResidences)],
    [T.meanCompleteness, pct(h.meanCompleteness)],
    [T.completeCircle, pct(h.completeCircleShare)],
    [T.chainShare, pct(h.chainOutletShare)],
    [T.zoneGrade, gradeName(profile, rz.grade, lang)],
    [],
    [T.targets, null, H.target, H.status],
    ...regionTargets(result, lang, opts).map((t): XCell[] => [t.label + (t.note ? ` — ${t.note}` : ''), pct(t.value), t.target, status(t.met)]),
    [],
    [H.basicCoverage],
    ...h.basicFormatCoverage.map((b): XCell[] => [formatName(b.format, lang, opts), pct(b.coverage)]),
  ];
  if (h.openingHours) {
    summary.push([], [H.openingHours], [H.open, int(h.openingHours.open)], [H.closed, int(h.openingHours.closed)], [H.unknown, int(h.openingHours.unknown)]);
  }
  if (truncated) summary.push([], [H.truncated, int(XLSX_MAX_ROWS - 1)]);
  if (result.warnings.length > 0) summary.push([], [H.warnings], ...result.warnings.map((w): XCell[] => [w]));
  summary.push([], [H.attribution, attributionText(result)]);

  const kindText = (z: ZoneResult): string => (z.kind === 'region' ? H.kindRegion : z.kind === 'zone' ? H.kindZone : H.kindH3);
  const covCols = result.requirements.map((q) => ({ header: `${requirementLabel(q, lang, opts)} ${H.cov}`, kind: 'percent' as const }));
  const zoneCols = (withRes: boolean) => [
    { header: H.zoneId, kind: 'text' as const },
    { header: H.zoneName, kind: 'text' as const },
    withRes ? { header: H.resolution, kind: 'integer' as const } : { header: H.kind, kind: 'text' as const },
    { header: H.residences, kind: 'integer' as const },
    { header: H.population, kind: 'integer' as const },
    { header: H.elderly, kind: 'integer' as const },
    { header: H.completeness, kind: 'percent' as const },
    { header: H.completeShare, kind: 'percent' as const },
    { header: H.grade, kind: 'text' as const },
    { header: H.topGap, kind: 'text' as const },
    { header: H.topGapResidents, kind: 'integer' as const },
    ...covCols,
  ];
  const zoneRow = (z: ZoneResult, withRes: boolean): XCell[] => {
    const top = z.gaps[0];
    return [
      z.id, z.name, withRes ? z.resolution ?? null : kindText(z), z.residences, z.population, z.elderly, z.completeness, z.completeShare,
      gradeName(profile, z.grade, lang), top ? formatName(top.format, lang, opts) : null, top ? top.residentsAffected : null,
      ...result.requirements.map((q) => z.coverage[q.index] ?? null),
    ];
  };

  const residenceRows = function* (): Generator<XCell[]> {
    const n = Math.min(R.count, XLSX_MAX_ROWS - 1);
    for (let r = 0; r < n; r++) {
      const row: XCell[] = [
        r, residenceSource(region, r), region.residences.names[r] ?? '', region.residences.lon[r], region.residences.lat[r],
        R.population[r], R.elderly[r], R.completeness[r], gradeName(profile, R.grade[r], lang), R.reachable[r] ? H.yes : H.no,
      ];
      for (let f = 0; f < nf; f++) {
        const m = R.minutes[r * nf + f];
        row.push(Number.isFinite(m) ? Math.round(m * 10) / 10 : null);
      }
      yield row;
    }
  };

  const gapRows = function* (): Generator<XCell[]> {
    for (const z of result.zones) {
      let rank = 0;
      for (const g of z.gaps) {
        const q = result.requirements[g.requirement];
        yield [
          z.id, z.name, kindText(z), ++rank, q ? requirementLabel(q, lang, opts) : g.format, formatName(g.format, lang, opts),
          q ? thresholdMinutes(q) : null, g.residentsAffected, g.elderlyAffected, g.residences, g.lon, g.lat,
          Number.isFinite(g.medianMinutes) ? g.medianMinutes : null,
        ];
      }
    }
  };

  return [
    {
      name: ASSESSMENT_SHEETS.summary,
      columns: [
        { header: H.item, kind: 'text', width: 44 },
        { header: H.value, kind: 'text', width: 40 },
        { header: H.target, kind: 'percent', width: 10 },
        { header: H.status, kind: 'text', width: 10 },
      ],
      rows: summary,
    },
    {
      name: ASSESSMENT_SHEETS.zones,
      columns: zoneCols(false),
      rows: result.zones.filter((z) => z.kind !== 'h3').map((z) => zoneRow(z, false)),
      freezeColumns: 2,
    },
    {
      name: ASSESSMENT_SHEETS.h3,
      columns: zoneCols(true),
      rows: result.zones.filter((z) => z.kind === 'h3').map((z) => zoneRow(z, true)),
      freezeColumns: 2,
    },
    {
      name: ASSESSMENT_SHEETS.residences,
      columns: [
        { header: H.id, kind: 'integer' },
        { header: H.source, kind: 'text' },
        { header: H.name, kind: 'text' },
        { header: H.lon, kind: 'coordinate' },
        { header: H.lat, kind: 'coordinate' },
        { header: H.population, kind: 'number' },
        { header: H.elderly, kind: 'number' },
        { header: H.completeness, kind: 'percent' },
        { header: H.grade, kind: 'text' },
        { header: H.reachable, kind: 'text' },
        ...R.formats.map((f) => ({ header: `${formatName(f, lang, opts)} (${H.min})`, kind: 'minutes' as const })),
      ],
      rows: residenceRows(),
      freezeColumns: 3,
    },
    {
      name: ASSESSMENT_SHEETS.gaps,
      columns: [
        { header: H.zoneId, kind: 'text' },
        { header: H.zoneName, kind: 'text' },
        { header: H.kind, kind: 'text' },
        { header: H.rank, kind: 'integer' },
        { header: H.requirement, kind: 'text' },
        { header: H.format, kind: 'text' },
        { header: H.threshold, kind: 'minutes' },
        { header: H.affected, kind: 'integer' },
        { header: H.elderlyAffected, kind: 'integer' },
        { header: H.residences, kind: 'integer' },
        { header: H.lon, kind: 'coordinate' },
        { header: H.lat, kind: 'coordinate' },
        { header: H.median, kind: 'minutes' },
      ],
      rows: gapRows(),
      freezeColumns: 2,
    },
  ];
}

export function assessmentWorkbook(result: AssessmentResult, region: Region, opts: AssessmentExportOptions = {}): Promise<Buffer> {
  const lang = opts.lang ?? 'zh-CN';
  return workbookBuffer(assessmentSheets(result, region, opts), { title: TEXT[lang].title(result.regionName) });
}

// ---------------------------------------------------------------------------------------------
// All of it

/**
 * Write every export of an assessment into `dir` (created if missing). Files are written one by
 * one, each atomically; an OutputFileError names the file that could not be written.
 */
export async function writeAssessmentExports(
  result: AssessmentResult,
  region: Region,
  dir: string,
  opts: AssessmentExportOptions = {},
): Promise<AssessmentExportResult> {
  check(result, region);
  regionZone(result);
  const o: AssessmentExportOptions = { ...opts, lang: opts.lang ?? 'zh-CN', date: opts.date ?? new Date() };
  // build the workbook before touching the folder: the slowest step, and it fails on bad data only
  const xlsx = await assessmentWorkbook(result, region, o);
  ensureOutputDir(dir);
  const files: string[] = [];
  const write = (name: string, content: Iterable<string | Uint8Array>): void => {
    const path = join(dir, name);
    writeFileAtomic(path, content);
    files.push(path);
  };
  write('residences.geojson', residencesGeoJson(result, region, o));
  write('zones.geojson', zonesGeoJson(result, o));
  write('residences.csv', csvChunks(residencesCsvHeader(result, o), residencesCsvRows(result, region, o)));
  write('zones.csv', csvChunks(zonesCsvHeader(result, o), zonesCsvRows(result, o)));
  write('gaps.csv', csvChunks(GAPS_CSV_HEADER, gapsCsvRows(result, o)));
  write('assessment.xlsx', [xlsx]);
  write('report.html', [renderRegionReport(result, region, o)]);
  for (const [zoneId, file] of zoneReportFiles(result.zones)) write(file, [renderZoneReport(result, region, zoneId, o)]);
  return { files };
}

