/**
 * The assessment report as one self-contained HTML page (no script, no network, no external
 * file): title, settings, headline indicators against the profile's targets, a coverage chart
 * per requirement, the grade distribution, a map, tables per zone and the ranked gaps. Chinese by
 * default, English with lang 'en'. One page for the region and one per user zone (街道 / 片区).
 *
 * Every string from data (region, zone, POI and residence names, warnings) is escaped, and the
 * page is well-formed XML as well as HTML5 (void elements self-closed, no named entities), so a
 * test can parse it strictly. The vocabulary here (format, grade and requirement names, labels)
 * is shared by the CSV / XLSX / GeoJSON exports.
 */
import type { AssessmentResult, Gap, HeadlineIndicators, RequirementInfo, ZoneResult } from '../assess/result.js';
import type { StandardsProfile, Target } from '../assess/standards.js';
import { OSM_ATTRIBUTION, type Region } from '../region/region.js';
import { loadTaxonomy, type FormatLevel, type Taxonomy } from '../taxonomy/formats.js';
import { CJK_FONT_STACK, barChartSvg, completenessColor, escapeXml as esc, gradeColors, stackedBarSvg, type BarRow } from './charts-svg.js';
import { geometryBBox, renderMapSvg, residencesInGeometry, type BBox, type MapPoint } from './map-svg.js';

export type ReportLang = 'zh-CN' | 'en';

export interface ReportOptions {
  lang?: ReportLang;
  /** the report date (default: now). */
  date?: Date;
  /** format names (default: the bundled taxonomy). */
  taxonomy?: Taxonomy;
  /** homes drawn on a map at most (default 6000, sampled deterministically). */
  maxMapResidences?: number;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary shared with the exports

let bundledTaxonomy: Taxonomy | null = null;
function taxonomyOf(opts: { taxonomy?: Taxonomy }): Taxonomy {
  if (opts.taxonomy) return opts.taxonomy;
  bundledTaxonomy ??= loadTaxonomy();
  return bundledTaxonomy;
}

export interface FormatNames {
  zh: string;
  en: string;
}

/** zh-CN and English names of a format (the id when the taxonomy does not know it). */
export function formatNames(id: string, opts: { taxonomy?: Taxonomy } = {}): FormatNames {
  const f = taxonomyOf(opts).byId.get(id);
  return f ? { zh: f.name['zh-CN'], en: f.name.en } : { zh: id, en: id };
}

export function formatName(id: string, lang: ReportLang, opts: { taxonomy?: Taxonomy } = {}): string {
  const n = formatNames(id, opts);
  return lang === 'en' ? n.en : n.zh;
}

/** Name of grade index g of the profile; −1 (or unknown) = no grade. */
export function gradeName(profile: StandardsProfile, g: number, lang: ReportLang): string {
  const grade = g >= 0 ? profile.grades[g] : undefined;
  if (!grade) return lang === 'en' ? 'No grade' : '未达等级';
  return grade.name[lang];
}

export function gradeId(profile: StandardsProfile, g: number): string {
  return (g >= 0 ? profile.grades[g]?.id : undefined) ?? '';
}

/** Threshold in minutes, one decimal at most. */
export const thresholdMinutes = (info: RequirementInfo): number => Math.round((info.seconds / 60) * 10) / 10;

const LEVEL_TEXT: Record<ReportLang, (l: FormatLevel) => string> = {
  'zh-CN': (l) => (l === 'neighbourhood' ? '居住街坊' : `${l}分钟生活圈`),
  en: (l) => (l === 'neighbourhood' ? 'neighbourhood block' : `${l}-minute circle`),
};
const GROUP_TEXT: Record<ReportLang, Record<string, string>> = {
  'zh-CN': { all: '全体居民', elderly: '老年人', children: '儿童' },
  en: { all: 'all residents', elderly: 'elderly', children: 'children' },
};

/** e.g. "菜市场或生鲜超市/菜店 ≤8 分钟（老年人）" / "Fresh food market or … ≤ 8 min (elderly)". */
export function requirementLabel(info: RequirementInfo, lang: ReportLang, opts: { taxonomy?: Taxonomy } = {}): string {
  const names = (info.formats.length > 0 ? info.formats : [info.requirement.format]).map((f) => formatName(f, lang, opts));
  const joined = names.join(lang === 'en' ? ' or ' : '或');
  const min = thresholdMinutes(info);
  const extras: string[] = [];
  if (info.requirement.population !== 'all') extras.push(GROUP_TEXT[lang][info.requirement.population] ?? info.requirement.population);
  if (info.requirement.level !== undefined) extras.push(LEVEL_TEXT[lang](info.requirement.level));
  if (lang === 'en') return `${joined} ≤ ${min} min${extras.length ? ` (${extras.join(', ')})` : ''}`;
  return `${joined} ≤${min} 分钟${extras.length ? `（${extras.join('，')}）` : ''}`;
}

/**
 * A stable English key per requirement for GeoJSON properties and CSV headers: the format id,
 * made unique by level, population and finally position when the profile repeats a format.
 */
export function requirementKeys(reqs: readonly RequirementInfo[]): string[] {
  const base = reqs.map((r) => r.requirement.format);
  const count = (list: string[], k: string) => list.filter((x) => x === k).length;
  let keys = base.map((k, i) => {
    if (count(base, k) === 1) return k;
    const r = reqs[i].requirement;
    return [k, r.level !== undefined ? `l${r.level}` : '', r.population !== 'all' ? r.population : ''].filter(Boolean).join('_');
  });
  keys = keys.map((k, i) => (count(keys, k) === 1 ? k : `${k}_${i}`));
  return keys;
}

/** Report file names per user zone ("report-<id>.html"), unique and safe on every file system. */
export function zoneReportFiles(zones: readonly ZoneResult[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>(['report']);
  for (const z of zones) {
    if (z.kind !== 'zone') continue;
    let slug = z.id
      .normalize('NFC')
      .replace(/[^\p{L}\p{N}_-]+/gu, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 60);
    if (!slug) slug = 'zone';
    let name = `report-${slug}`;
    for (let k = 2; used.has(name.toLowerCase()); k++) name = `report-${slug}-${k}`;
    used.add(name.toLowerCase());
    out.set(z.id, `${name}.html`);
  }
  return out;
}

/** The attribution to show: the result's, with OpenStreetMap's always included (the network is OSM). */
export function attributionText(result: AssessmentResult): string {
  const a = (result.attribution ?? '').trim();
  return a.includes(OSM_ATTRIBUTION) ? a : a ? `${OSM_ATTRIBUTION}; ${a}` : OSM_ATTRIBUTION;
}

export function regionZone(result: AssessmentResult): ZoneResult {
  const z = result.zones.find((x) => x.kind === 'region');
  if (!z) throw new Error('assessment result has no region zone (zones[0] should be kind "region")');
  return z;
}

// ---------------------------------------------------------------------------------------------
// Labels

interface Text {
  title: (place: string) => string;
  zoneTitle: (zone: string, region: string) => string;
  date: string;
  settings: string;
  profile: string;
  source: string;
  walkingProfile: string;
  moment: string;
  momentNone: string;
  populationSource: string;
  popKnown: (n: string) => string;
  popEstimated: string;
  elderlyShare: string;
  zonesSource: string;
  none: string;
  h3: string;
  headline: string;
  population: string;
  elderly: string;
  residences: string;
  unreachable: string;
  meanCompleteness: string;
  completeCircle: string;
  chainShare: string;
  zoneGrade: string;
  targets: string;
  indicator: string;
  target: string;
  value: string;
  status: string;
  met: string;
  missed: string;
  unknown: string;
  satisfaction: string;
  satisfactionNote: string;
  coverage: string;
  coverageOf: (what: string) => string;
  allRequirements: string;
  chain: string;
  regionOnly: string;
  zoneComputed: string;
  year: (y: number) => string;
  coverageChart: string;
  coverageChartNote: string;
  targetMark: string;
  gradeChart: string;
  gradeChartNote: string;
  map: string;
  mapCaption: (format: string) => string;
  mapNoGap: string;
  legendCompleteness: string;
  legendUnreachable: string;
  legendNetwork: string;
  legendZones: string;
  legendFacilities: (format: string, n: number) => string;
  legendGapCentre: string;
  sampled: (drawn: string, total: string) => string;
  requirements: string;
  requirement: string;
  threshold: string;
  group: string;
  served: string;
  notServed: string;
  elderlyNotServed: string;
  medianMinutes: string;
  zones: string;
  zone: string;
  grade: string;
  completeness: string;
  completeShare: string;
  topGap: string;
  coverageMatrix: string;
  gaps: string;
  gapsNote: string;
  zoneGaps: string;
  rank: string;
  format: string;
  where: string;
  homes: string;
  noGaps: string;
  minutes: (m: string) => string;
  noneReachable: string;
  warnings: string;
  footer: string;
  backToRegion: string;
  h3Cells: (n: string) => string;
}

const ZH: Text = {
  title: (p) => `${p} 一刻钟便民生活圈评估报告`,
  zoneTitle: (z, r) => `${z}（${r}）一刻钟便民生活圈评估报告`,
  date: '报告日期',
  settings: '评估设置',
  profile: '评估标准',
  source: '依据',
  walkingProfile: '步行配置',
  moment: '评估时刻',
  momentNone: '不考虑营业时间',
  populationSource: '人口来源',
  popKnown: (n) => `已知总人口 ${n} 人，按住宅建筑面积分配`,
  popEstimated: '按住宅建筑面积估算',
  elderlyShare: '65 岁及以上人口比例',
  zonesSource: '街道/片区划分',
  none: '无',
  h3: 'H3 网格分辨率',
  headline: '主要指标',
  population: '常住人口',
  elderly: '老年人口（65+）',
  residences: '住宅数',
  unreachable: '未接入步行网络的住宅',
  meanCompleteness: '平均完整度',
  completeCircle: '生活圈完整的居民比例',
  chainShare: '连锁门店占比',
  zoneGrade: '生活圈等级',
  targets: '目标达成情况',
  indicator: '指标',
  target: '目标',
  value: '现状',
  status: '状态',
  met: '达标',
  missed: '未达标',
  unknown: '无数据',
  satisfaction: '居民满意度',
  satisfactionNote: '需居民满意度调查数据',
  coverage: '覆盖率',
  coverageOf: (w) => `覆盖率（${w}）`,
  allRequirements: '全部要求',
  chain: '连锁门店占比',
  regionOnly: '仅区级统计',
  zoneComputed: '按本片区内住宅计算',
  year: (y) => `${y} 年`,
  coverageChart: '各项要求覆盖率',
  coverageChartNote: '在步行时间门槛内可达的居民比例（按各要求的服务人群加权）。',
  targetMark: '目标值',
  gradeChart: '等级分布',
  gradeChartNote: '按人口统计的住宅所达等级。',
  map: '地图',
  mapCaption: (f) => `住宅按完整度着色；蓝色菱形为缺口最大业态（${f}）的设施，红圈为缺口中心（编号同缺口排序）。`,
  mapNoGap: '住宅按完整度着色。',
  legendCompleteness: '完整度',
  legendUnreachable: '未接入步行网络',
  legendNetwork: '步行网络',
  legendZones: '街道/片区边界',
  legendFacilities: (f, n) => `${f}（${n} 处）`,
  legendGapCentre: '缺口中心',
  sampled: (d, t) => `显示 ${d} / ${t} 处住宅（确定性抽样）`,
  requirements: '各项要求',
  requirement: '要求',
  threshold: '步行门槛',
  group: '服务人群',
  served: '覆盖率',
  notServed: '未覆盖居民',
  elderlyNotServed: '其中老年人',
  medianMinutes: '未覆盖者到最近设施（中位数）',
  zones: '街道/片区',
  zone: '街道/片区',
  grade: '等级',
  completeness: '平均完整度',
  completeShare: '完整生活圈比例',
  topGap: '最大缺口',
  coverageMatrix: '各街道/片区覆盖率',
  gaps: '缺口排序',
  gapsNote: '按未覆盖居民数排序；“位置”为未覆盖住宅的人口加权中心，可作为新设网点的选址参考。',
  zoneGaps: '各街道/片区最大缺口',
  rank: '序号',
  format: '业态',
  where: '位置（经度, 纬度）',
  homes: '住宅',
  noGaps: '没有缺口。',
  minutes: (m) => `${m} 分钟`,
  noneReachable: '范围内无设施',
  warnings: '提示',
  footer: '由 Quarter 生成',
  backToRegion: '返回区级报告',
  h3Cells: (n) => `另有 ${n} 个 H3 网格的结果见 zones.csv / assessment.xlsx。`,
};

const EN: Text = {
  title: (p) => `${p}: 15-minute living circle assessment`,
  zoneTitle: (z, r) => `${z} (${r}): 15-minute living circle assessment`,
  date: 'Date',
  settings: 'Settings',
  profile: 'Standards profile',
  source: 'Source',
  walkingProfile: 'Walking profile',
  moment: 'Moment',
  momentNone: 'opening hours not considered',
  populationSource: 'Population',
  popKnown: (n) => `known total of ${n} spread by residential floor area`,
  popEstimated: 'estimated from residential floor area',
  elderlyShare: 'Share aged 65+',
  zonesSource: 'Zones',
  none: 'none',
  h3: 'H3 resolutions',
  headline: 'Headline indicators',
  population: 'Residents',
  elderly: 'Elderly (65+)',
  residences: 'Residences',
  unreachable: 'Residences off the walking network',
  meanCompleteness: 'Mean completeness',
  completeCircle: 'Residents in a complete circle',
  chainShare: 'Chain outlet share',
  zoneGrade: 'Circle grade',
  targets: 'Targets',
  indicator: 'Indicator',
  target: 'Target',
  value: 'Value',
  status: 'Status',
  met: 'met',
  missed: 'missed',
  unknown: 'no data',
  satisfaction: 'Resident satisfaction',
  satisfactionNote: 'needs resident survey data',
  coverage: 'Coverage',
  coverageOf: (w) => `Coverage (${w})`,
  allRequirements: 'all requirements',
  chain: 'Chain outlet share',
  regionOnly: 'region-wide only',
  zoneComputed: 'computed from the residences in this zone',
  year: (y) => `by ${y}`,
  coverageChart: 'Coverage per requirement',
  coverageChartNote: 'Share of residents (of the group each requirement serves) within the walking threshold.',
  targetMark: 'target',
  gradeChart: 'Grade distribution',
  gradeChartNote: 'Residents by the grade their home earns.',
  map: 'Map',
  mapCaption: (f) => `Homes coloured by completeness; blue diamonds are facilities of the largest gap (${f}); red rings mark gap centres (numbered as in the gap list).`,
  mapNoGap: 'Homes coloured by completeness.',
  legendCompleteness: 'Completeness',
  legendUnreachable: 'off the walking network',
  legendNetwork: 'walking network',
  legendZones: 'zone boundary',
  legendFacilities: (f, n) => `${f} (${n})`,
  legendGapCentre: 'gap centre',
  sampled: (d, t) => `${d} of ${t} homes shown (deterministic sample)`,
  requirements: 'Requirements',
  requirement: 'Requirement',
  threshold: 'Walk',
  group: 'Serves',
  served: 'Coverage',
  notServed: 'Residents not served',
  elderlyNotServed: 'of whom elderly',
  medianMinutes: 'Median minutes to nearest (unserved)',
  zones: 'Zones',
  zone: 'Zone',
  grade: 'Grade',
  completeness: 'Mean completeness',
  completeShare: 'Complete circle share',
  topGap: 'Largest gap',
  coverageMatrix: 'Coverage per zone',
  gaps: 'Gaps, largest first',
  gapsNote: 'Ranked by residents not served; "where" is the population-weighted centre of the unserved homes, a place to look for a new outlet.',
  zoneGaps: 'Largest gaps per zone',
  rank: '#',
  format: 'Format',
  where: 'Where (lon, lat)',
  homes: 'Homes',
  noGaps: 'No gaps.',
  minutes: (m) => `${m} min`,
  noneReachable: 'none within reach',
  warnings: 'Notes',
  footer: 'Generated by Quarter',
  backToRegion: 'Back to the region report',
  h3Cells: (n) => `Results for ${n} H3 cells are in zones.csv / assessment.xlsx.`,
};

export const TEXT: Record<ReportLang, Text> = { 'zh-CN': ZH, en: EN };

// ---------------------------------------------------------------------------------------------
// Formatting

export function fmtInt(n: number, lang: ReportLang): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN') : '—';
}
export function fmtPct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(1)}%`;
}
const fmtMin = (m: number): string => (Number.isFinite(m) ? (Math.round(m * 10) / 10).toFixed(1) : '—');
const fmtCoord = (x: number): string => (Number.isFinite(x) ? x.toFixed(5) : '—');

export function isoDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Targets

export interface TargetRow {
  label: string;
  target: number;
  value: number | null;
  met: boolean | null;
  note?: string;
}

function targetLabel(indicator: string, t: Target | undefined, lang: ReportLang, opts: ReportOptions): string {
  const T = TEXT[lang];
  let label: string;
  if (indicator === 'resident_satisfaction') label = T.satisfaction;
  else if (indicator === 'chain_outlet_share') label = T.chain;
  else if (indicator === 'coverage') {
    const parts: string[] = [];
    if (t?.formats) parts.push(t.formats.map((f) => formatName(f, lang, opts)).join(lang === 'en' ? ', ' : '、'));
    if (t?.level !== undefined) parts.push(LEVEL_TEXT[lang](t.level));
    label = T.coverageOf(parts.length > 0 ? parts.join(lang === 'en' ? ', ' : '，') : T.allRequirements);
  } else label = indicator;
  if (t?.year !== undefined) label += lang === 'en' ? ` (${T.year(t.year)})` : `（${T.year(t.year)}）`;
  return label;
}

/** The region's targets as the assessment evaluated them, labelled. */
export function regionTargets(result: AssessmentResult, lang: ReportLang, opts: ReportOptions = {}): TargetRow[] {
  const profileTargets = result.settings.profile.targets;
  const aligned = profileTargets.length === result.headline.targets.length;
  return result.headline.targets.map((h, i) => {
    const t = aligned && profileTargets[i].indicator === h.indicator ? profileTargets[i] : undefined;
    const note = h.indicator === 'resident_satisfaction' && h.value === null ? TEXT[lang].satisfactionNote : h.note;
    return { label: targetLabel(h.indicator, t, lang, opts), target: h.target, value: h.value, met: h.met, ...(note ? { note } : {}) };
  });
}

/**
 * Targets for one zone: coverage targets recomputed from the residences inside it (share of
 * residents meeting every counted requirement); satisfaction and chain share have no zone value.
 */
export function zoneTargets(result: AssessmentResult, members: readonly number[], lang: ReportLang, opts: ReportOptions = {}): TargetRow[] {
  const T = TEXT[lang];
  const R = result.residences;
  const nq = result.requirements.length;
  return result.settings.profile.targets.map((t) => {
    const label = targetLabel(t.indicator, t, lang, opts);
    if (t.indicator !== 'coverage') {
      return { label, target: t.value, value: null, met: null, note: t.indicator === 'resident_satisfaction' ? T.satisfactionNote : T.regionOnly };
    }
    const counted = result.requirements
      .filter((q) => (!t.formats || t.formats.includes(q.requirement.format)) && (t.level === undefined || q.requirement.level === t.level))
      .map((q) => q.index);
    let pop = 0;
    let served = 0;
    for (const r of members) {
      const p = R.population[r];
      if (!(p > 0)) continue;
      pop += p;
      if (counted.every((q) => R.met[r * nq + q] === 1)) served += p;
    }
    const value = pop > 0 && counted.length > 0 ? served / pop : null;
    return { label, target: t.value, value, met: value === null ? null : value >= t.value - 1e-9, note: T.zoneComputed };
  });
}

// ---------------------------------------------------------------------------------------------
// The page

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: ${CJK_FONT_STACK}; color: #212121; background: #ffffff; margin: 0; line-height: 1.55; font-size: 14px; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #1a9850; }
h3 { font-size: 15px; margin: 20px 0 8px; }
.subtitle { color: #424242; margin: 0; font-size: 15px; }
.meta { color: #616161; margin: 4px 0 0; }
.note { color: #616161; font-size: 13px; margin: 4px 0 8px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid #e0e0e0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; font-weight: bold; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.settings th { width: 28%; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0 14px; }
.card { flex: 1 1 170px; border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px 12px; background: #fafafa; }
.card .v { font-size: 22px; font-weight: bold; }
.card .k { color: #616161; font-size: 12px; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: bold; white-space: nowrap; }
.badge.met { background: #e8f5e9; color: #1b5e20; }
.badge.missed { background: #ffebee; color: #b71c1c; }
.badge.unknown { background: #eeeeee; color: #616161; }
.scroll { overflow-x: auto; }
td.heat { text-align: right; white-space: nowrap; }
.map-wrap svg, .chart-wrap svg { max-width: 100%; height: auto; }
.attribution { font-size: 12px; color: #424242; margin: 4px 0 0; }
footer { border-top: 1px solid #e0e0e0; margin-top: 36px; padding-top: 10px; color: #616161; font-size: 12px; }
ul.warnings { color: #5d4037; font-size: 13px; }
a { color: #0d47a1; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; } table, svg { break-inside: avoid; } }
`;

function badge(met: boolean | null, T: Text): string {
  const cls = met === null ? 'unknown' : met ? 'met' : 'missed';
  const text = met === null ? T.unknown : met ? `✓ ${T.met}` : `✗ ${T.missed}`;
  return `<span class="badge ${cls}">${esc(text)}</span>`;
}

interface PageContext {
  result: AssessmentResult;
  region: Region;
  lang: ReportLang;
  T: Text;
  opts: ReportOptions;
  keys: string[];
}

function targetTable(rows: readonly TargetRow[], T: Text): string {
  if (rows.length === 0) return '';
  const body = rows
    .map(
      (r) =>
        `<tr><td>${esc(r.label)}${r.note ? `<div class="note">${esc(r.note)}</div>` : ''}</td><td class="n">≥ ${esc(fmtPct(r.target))}</td><td class="n">${esc(fmtPct(r.value))}</td><td>${badge(r.met, T)}</td></tr>`,
    )
    .join('');
  return `<h3>${esc(T.targets)}</h3><table class="targets"><thead><tr><th>${esc(T.indicator)}</th><th class="n">${esc(T.target)}</th><th class="n">${esc(T.value)}</th><th>${esc(T.status)}</th></tr></thead><tbody>${body}</tbody></table>`;
}

function cards(items: Array<[string, string]>): string {
  return `<div class="cards">${items.map(([k, v]) => `<div class="card"><div class="v">${esc(v)}</div><div class="k">${esc(k)}</div></div>`).join('')}</div>`;
}

function coverageChart(c: PageContext, zone: ZoneResult): string {
  const { result, lang, T } = c;
  // a coverage target mark on every requirement it counts
  const marks = new Map<number, number>();
  for (const t of result.settings.profile.targets) {
    if (t.indicator !== 'coverage') continue;
    for (const q of result.requirements) {
      if ((!t.formats || t.formats.includes(q.requirement.format)) && (t.level === undefined || q.requirement.level === t.level)) {
        marks.set(q.index, Math.max(marks.get(q.index) ?? 0, t.value));
      }
    }
  }
  const rows: BarRow[] = result.requirements.map((q) => {
    const target = marks.get(q.index);
    return { label: requirementLabel(q, lang, c.opts), value: zone.coverage[q.index] ?? null, ...(target !== undefined ? { target } : {}) };
  });
  const svg = barChartSvg(rows, { title: T.coverageChart, targetLabel: T.targetMark, width: 940 });
  return `<h2>${esc(T.coverageChart)}</h2><p class="note">${esc(T.coverageChartNote)}</p><div class="chart-wrap">${svg}</div>`;
}

function gradeChart(c: PageContext, zone: ZoneResult): string {
  const { result, lang, T } = c;
  const grades = result.settings.profile.grades;
  const colors = gradeColors(grades.length);
  const segments = [-1, ...grades.map((_, g) => g)].map((g, k) => ({
    label: gradeName(result.settings.profile, g, lang),
    value: zone.gradeDistribution[k] ?? 0,
    color: colors[k],
  }));
  const svg = stackedBarSvg(segments, {
    title: T.gradeChart,
    width: 940,
    formatValue: (v, share) => `${fmtInt(v, lang)}${lang === 'en' ? ' residents' : ' 人'} (${fmtPct(share)})`,
  });
  return `<h2>${esc(T.gradeChart)}</h2><p class="note">${esc(T.gradeChartNote)}</p><div class="chart-wrap">${svg}</div>`;
}

function mapSection(c: PageContext, zone: ZoneResult, members: number[] | null, outlines: ZoneResult[]): string {
  const { result, region, lang, T } = c;
  const R = result.residences;
  const top = zone.gaps[0];
  const req = top ? result.requirements[top.requirement] : undefined;
  const focusFormats = new Set(req ? req.formats.length > 0 ? req.formats : [req.requirement.format] : top ? [top.format] : []);
  let bbox: BBox | undefined;
  if (zone.geometry) {
    const b = geometryBBox(zone.geometry);
    if (b) bbox = b;
  }
  const inView = (f: { lon: number; lat: number }): boolean => {
    if (!bbox) return true;
    const mx = (bbox[2] - bbox[0]) * 0.3 + 0.002;
    const my = (bbox[3] - bbox[1]) * 0.3 + 0.002;
    return f.lon >= bbox[0] - mx && f.lon <= bbox[2] + mx && f.lat >= bbox[1] - my && f.lat <= bbox[3] + my;
  };
  const facilities: MapPoint[] = region.facilities
    .filter((f) => f.formats.some((x) => focusFormats.has(x)) && inView(f))
    .map((f) => ({ lon: f.lon, lat: f.lat, name: f.name }));
  const gaps: MapPoint[] = zone.gaps.slice(0, 5).map((g, i) => ({ lon: g.lon, lat: g.lat, name: `${i + 1}. ${gapLabel(c, g)}` }));
  const focusName = top ? (req ? requirementLabel(req, lang, c.opts) : formatName(top.format, lang, c.opts)) : '';
  const map = renderMapSvg({
    graph: region.graph,
    residences: { lon: region.residences.lon, lat: region.residences.lat, completeness: R.completeness, reachable: R.reachable },
    ...(members ? { residenceIndices: members } : {}),
    facilities,
    gapCentres: gaps,
    outlines: outlines.flatMap((o) => (o.geometry ? [{ geometry: o.geometry, name: o.name, highlight: o === zone }] : [])),
    ...(bbox ? { bbox } : {}),
    maxResidences: c.opts.maxMapResidences ?? 6000,
    width: 940,
    legend: {
      title: `${T.map}: ${zone.kind === 'region' ? result.regionName : zone.name}`,
      completeness: T.legendCompleteness,
      unreachable: T.legendUnreachable,
      network: T.legendNetwork,
      zoneOutline: T.legendZones,
      facilities: T.legendFacilities(top ? formatName(top.format, lang, c.opts) : '', facilities.length),
      gapCentre: T.legendGapCentre,
      sampled: (d, t) => T.sampled(fmtInt(d, lang), fmtInt(t, lang)),
    },
  });
  return (
    `<h2>${esc(T.map)}</h2><p class="note">${esc(top ? T.mapCaption(focusName) : T.mapNoGap)}</p>` +
    `<figure class="map-wrap" style="margin:0">${map.svg}<figcaption class="attribution">${esc(attributionText(result))}</figcaption></figure>`
  );
}

function gapLabel(c: PageContext, g: Gap): string {
  const q = c.result.requirements[g.requirement];
  return q ? requirementLabel(q, c.lang, c.opts) : formatName(g.format, c.lang, c.opts);
}

function requirementTable(c: PageContext, zone: ZoneResult): string {
  const { result, lang, T } = c;
  const byReq = new Map<number, Gap>();
  for (const g of zone.gaps) if (!byReq.has(g.requirement)) byReq.set(g.requirement, g);
  const rows = result.requirements
    .map((q) => {
      const g = byReq.get(q.index);
      const cov = zone.coverage[q.index];
      return (
        `<tr><td>${esc(formatName(q.requirement.format, lang, c.opts))}${q.formats.length > 1 ? `<div class="note">${esc(requirementLabel(q, lang, c.opts))}</div>` : ''}</td>` +
        `<td class="n">${esc(T.minutes(String(thresholdMinutes(q))))}</td>` +
        `<td>${esc(GROUP_TEXT[lang][q.requirement.population] ?? q.requirement.population)}</td>` +
        `<td class="heat" style="background:${completenessColor(cov ?? NaN)}33">${esc(fmtPct(cov))}</td>` +
        `<td class="n">${esc(g ? fmtInt(g.residentsAffected, lang) : '0')}</td>` +
        `<td class="n">${esc(g ? fmtInt(g.elderlyAffected, lang) : '0')}</td>` +
        `<td class="n">${esc(g ? (Number.isFinite(g.medianMinutes) ? T.minutes(fmtMin(g.medianMinutes)) : T.noneReachable) : '—')}</td></tr>`
      );
    })
    .join('');
  return (
    `<h2>${esc(T.requirements)}</h2><div class="scroll"><table class="requirements"><thead><tr>` +
    `<th>${esc(T.requirement)}</th><th class="n">${esc(T.threshold)}</th><th>${esc(T.group)}</th><th class="n">${esc(T.served)}</th>` +
    `<th class="n">${esc(T.notServed)}</th><th class="n">${esc(T.elderlyNotServed)}</th><th class="n">${esc(T.medianMinutes)}</th>` +
    `</tr></thead><tbody>${rows}</tbody></table></div>`
  );
}

function gapRows(c: PageContext, gaps: ReadonlyArray<{ gap: Gap; zone?: ZoneResult }>): string {
  const { lang, T } = c;
  return gaps
    .map(
      ({ gap: g, zone }, i) =>
        `<tr><td class="n">${i + 1}</td>${zone ? `<td>${esc(zone.name)}</td>` : ''}<td>${esc(gapLabel(c, g))}</td>` +
        `<td class="n">${esc(fmtInt(g.residentsAffected, lang))}</td><td class="n">${esc(fmtInt(g.elderlyAffected, lang))}</td>` +
        `<td class="n">${esc(fmtInt(g.residences, lang))}</td><td class="n">${esc(`${fmtCoord(g.lon)}, ${fmtCoord(g.lat)}`)}</td>` +
        `<td class="n">${esc(Number.isFinite(g.medianMinutes) ? T.minutes(fmtMin(g.medianMinutes)) : T.noneReachable)}</td></tr>`,
    )
    .join('');
}

function gapTable(c: PageContext, title: string, gaps: ReadonlyArray<{ gap: Gap; zone?: ZoneResult }>, withZone: boolean): string {
  const { T } = c;
  if (gaps.length === 0) return `<h2>${esc(title)}</h2><p>${esc(T.noGaps)}</p>`;
  return (
    `<h2>${esc(title)}</h2><p class="note">${esc(T.gapsNote)}</p><div class="scroll"><table class="gaps"><thead><tr>` +
    `<th class="n">${esc(T.rank)}</th>${withZone ? `<th>${esc(T.zone)}</th>` : ''}<th>${esc(T.requirement)}</th>` +
    `<th class="n">${esc(T.notServed)}</th><th class="n">${esc(T.elderlyNotServed)}</th><th class="n">${esc(T.homes)}</th>` +
    `<th class="n">${esc(T.where)}</th><th class="n">${esc(T.medianMinutes)}</th></tr></thead><tbody>${gapRows(c, gaps)}</tbody></table></div>`
  );
}

function zonesTables(c: PageContext, zones: ZoneResult[], files: Map<string, string>): string {
  const { result, lang, T } = c;
  if (zones.length === 0) return '';
  const profile = result.settings.profile;
  const summary = zones
    .map((z) => {
      const file = files.get(z.id);
      const name = file ? `<a href="${esc(encodeURI(file))}">${esc(z.name)}</a>` : esc(z.name);
      const top = z.gaps[0];
      return (
        `<tr><td>${name}</td><td class="n">${esc(fmtInt(z.residences, lang))}</td><td class="n">${esc(fmtInt(z.population, lang))}</td>` +
        `<td class="n">${esc(fmtInt(z.elderly, lang))}</td><td class="heat" style="background:${completenessColor(z.completeness)}33">${esc(fmtPct(z.completeness))}</td>` +
        `<td class="n">${esc(fmtPct(z.completeShare))}</td><td>${esc(gradeName(profile, z.grade, lang))}</td>` +
        `<td>${top ? `${esc(formatName(top.format, lang, c.opts))} <span class="note">(${esc(fmtInt(top.residentsAffected, lang))})</span>` : '—'}</td></tr>`
      );
    })
    .join('');
  const head = result.requirements.map((q) => `<th class="n" title="${esc(requirementLabel(q, lang, c.opts))}">${esc(formatName(q.requirement.format, lang, c.opts))}</th>`).join('');
  const matrix = zones
    .map(
      (z) =>
        `<tr><th>${esc(z.name)}</th>${result.requirements
          .map((q) => {
            const v = z.coverage[q.index];
            return `<td class="heat" style="background:${completenessColor(v ?? NaN)}55">${esc(fmtPct(v))}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  return (
    `<h2>${esc(T.zones)}</h2><div class="scroll"><table class="zones"><thead><tr><th>${esc(T.zone)}</th><th class="n">${esc(T.residences)}</th>` +
    `<th class="n">${esc(T.population)}</th><th class="n">${esc(T.elderly)}</th><th class="n">${esc(T.completeness)}</th><th class="n">${esc(T.completeShare)}</th>` +
    `<th>${esc(T.grade)}</th><th>${esc(T.topGap)}</th></tr></thead><tbody>${summary}</tbody></table></div>` +
    `<h3>${esc(T.coverageMatrix)}</h3><div class="scroll"><table class="matrix"><thead><tr><th>${esc(T.zone)}</th>${head}</tr></thead><tbody>${matrix}</tbody></table></div>`
  );
}

function settingsTable(c: PageContext): string {
  const { result, lang, T } = c;
  const s = result.settings;
  const rows: Array<[string, string]> = [
    [T.profile, `${s.profile.name[lang]} (${s.profile.id})`],
    [T.source, s.profile.source],
    [T.walkingProfile, s.profile.walkingProfile],
    [T.moment, s.at ?? T.momentNone],
    [T.populationSource, s.population === null ? T.popEstimated : T.popKnown(fmtInt(s.population, lang))],
    [T.elderlyShare, fmtPct(s.elderlyShare)],
    [T.zonesSource, s.zonesSource ?? T.none],
    [T.h3, s.h3Resolutions.length > 0 ? s.h3Resolutions.join(', ') : T.none],
  ];
  return `<h2>${esc(T.settings)}</h2><table class="settings"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`;
}

function page(c: PageContext, title: string, body: string): string {
  const { result, lang, T } = c;
  return (
    `<!DOCTYPE html>\n<html lang="${lang}"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>` +
    `<meta name="generator" content="Quarter"/><title>${esc(`${title} — ${result.settings.profile.name[lang]}`)}</title><style>${CSS}</style></head><body><main>` +
    body +
    `<footer><p>${esc(attributionText(result))}</p><p>${esc(T.footer)} · ${esc(result.settings.profile.name[lang])}</p></footer>` +
    `</main></body></html>\n`
  );
}

function header(c: PageContext, title: string, extra = ''): string {
  const { result, lang, T } = c;
  const date = isoDate(c.opts.date ?? new Date());
  return (
    `<header><h1>${esc(title)}</h1><p class="subtitle">${esc(result.settings.profile.name[lang])}</p>` +
    `<p class="meta">${esc(T.date)}: ${esc(date)}</p>${extra}</header>`
  );
}

function warningsSection(c: PageContext): string {
  if (c.result.warnings.length === 0) return '';
  return `<h2>${esc(c.T.warnings)}</h2><ul class="warnings">${c.result.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`;
}

function headlineCards(c: PageContext, zone: ZoneResult, h: HeadlineIndicators | null, unreachable: number): string {
  const { result, lang, T } = c;
  const items: Array<[string, string]> = [
    [T.population, fmtInt(zone.population, lang)],
    [T.elderly, fmtInt(zone.elderly, lang)],
    [T.residences, fmtInt(zone.residences, lang)],
    [T.unreachable, fmtInt(unreachable, lang)],
    [T.meanCompleteness, fmtPct(h ? h.meanCompleteness : zone.completeness)],
    [T.completeCircle, fmtPct(h ? h.completeCircleShare : zone.completeShare)],
    [T.zoneGrade, gradeName(result.settings.profile, zone.grade, lang)],
  ];
  if (h) items.push([T.chainShare, fmtPct(h.chainOutletShare)]);
  return cards(items);
}

function context(result: AssessmentResult, region: Region, opts: ReportOptions): PageContext {
  const lang = opts.lang ?? 'zh-CN';
  if (result.residences.count !== region.residences.count) {
    throw new Error(`assessment has ${result.residences.count} residences but region "${region.meta.name}" has ${region.residences.count}: not the same region`);
  }
  return { result, region, lang, T: TEXT[lang], opts, keys: requirementKeys(result.requirements) };
}

/** The region report (report.html). */
export function renderRegionReport(result: AssessmentResult, region: Region, opts: ReportOptions = {}): string {
  const c = context(result, region, opts);
  const { T, lang } = c;
  const rz = regionZone(result);
  const userZones = result.zones.filter((z) => z.kind === 'zone');
  const h3 = result.zones.filter((z) => z.kind === 'h3').length;
  const files = zoneReportFiles(result.zones);
  const title = T.title(result.regionName);
  const zoneGaps = userZones
    .flatMap((z) => z.gaps.map((gap) => ({ gap, zone: z })))
    .sort((a, b) => b.gap.residentsAffected - a.gap.residentsAffected)
    .slice(0, 30);
  const body =
    header(c, title) +
    settingsTable(c) +
    `<h2>${esc(T.headline)}</h2>` +
    headlineCards(c, rz, result.headline, result.headline.unreachableResidences) +
    targetTable(regionTargets(result, lang, opts), T) +
    coverageChart(c, rz) +
    gradeChart(c, rz) +
    mapSection(c, rz, null, userZones) +
    requirementTable(c, rz) +
    zonesTables(c, userZones, files) +
    (h3 > 0 ? `<p class="note">${esc(T.h3Cells(fmtInt(h3, lang)))}</p>` : '') +
    gapTable(c, T.gaps, rz.gaps.map((gap) => ({ gap })), false) +
    (zoneGaps.length > 0 ? gapTable(c, T.zoneGaps, zoneGaps, true) : '') +
    warningsSection(c);
  return page(c, title, body);
}

/** The report of one user zone (report-<zone>.html); `zoneId` is ZoneResult.id of kind 'zone'. */
export function renderZoneReport(result: AssessmentResult, region: Region, zoneId: string, opts: ReportOptions = {}): string {
  const c = context(result, region, opts);
  const { T, lang } = c;
  const zone = result.zones.find((z) => z.kind === 'zone' && z.id === zoneId);
  if (!zone) throw new Error(`no user zone with id "${zoneId}" in the assessment`);
  const members = zone.geometry ? residencesInGeometry(region.residences.lon, region.residences.lat, zone.geometry) : [];
  let unreachable = 0;
  for (const r of members) if (!result.residences.reachable[r]) unreachable++;
  const title = T.zoneTitle(zone.name, result.regionName);
  const back = `<p class="meta"><a href="report.html">${esc(T.backToRegion)}</a></p>`;
  const body =
    header(c, title, back) +
    settingsTable(c) +
    `<h2>${esc(T.headline)}</h2>` +
    headlineCards(c, zone, null, unreachable) +
    targetTable(zoneTargets(result, members, lang, opts), T) +
    coverageChart(c, zone) +
    gradeChart(c, zone) +
    mapSection(c, zone, members, [zone]) +
    requirementTable(c, zone) +
    gapTable(c, T.gaps, zone.gaps.map((gap) => ({ gap })), false) +
    warningsSection(c);
  return page(c, title, body);
}
