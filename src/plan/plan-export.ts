/**
 * A plan's answer as files a planner opens: GeoJSON (chosen sites with role "chosen", uncovered
 * homes with role "uncovered" — a scenario takes the chosen sites as facility additions), CSV
 * (UTF-8 with BOM, formula-safe, opens in Excel), XLSX (sites, coverage, uncovered homes, run),
 * and a short Chinese summary for the terminal and reports.
 */
import { csvRow, UTF8_BOM } from '../report/csv.js';
import { workbookBuffer, type SheetSpec, type XCell } from '../report/xlsx.js';
import type { Taxonomy } from '../taxonomy/formats.js';
import type { PlanReport, UncoveredReason } from './run-plan.js';

export const REASON_ZH: Record<UncoveredReason, string> = {
  unreachable: '不在步行路网上',
  'no-candidate-within-threshold': '阈值内没有候选点',
  'not-chosen': '有候选点但未入选（点位数量不足）',
  'capacity-full': '最近站点容量已满',
};

const MODEL_ZH: Record<PlanReport['model'], string> = {
  mclp: '最大覆盖选址 (MCLP)',
  lscp: '集合覆盖选址 (LSCP)',
  pmedian: 'p-中值选址 (p-median)',
  capacitated: '带容量约束的覆盖选址',
};

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const zhName = (tax: Taxonomy, id: string): string => tax.byId.get(id)?.name['zh-CN'] ?? id;

export function planToGeoJson(r: PlanReport): object {
  const features: object[] = r.sites.map((s) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [s.lon, s.lat] },
    properties: {
      role: 'chosen',
      rank: s.rank,
      name: s.name,
      formats: s.formats,
      source: s.source,
      ref: s.ref,
      newlyCoveredResidents: s.newlyCovered.residents,
      newlyCoveredElderly: s.newlyCovered.elderly,
      onlyThisSite: s.onlyThisSite,
      served: s.served ?? null,
      capacity: s.capacity ?? null,
      nearestExisting: s.nearestExisting?.name ?? null,
      nearestExistingMinutes: s.nearestExisting?.minutes ?? null,
    },
  }));
  for (const u of r.uncovered.list) {
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [u.lon, u.lat] },
      properties: { role: 'uncovered', residence: u.residence, residents: u.residents, reason: u.reason, reasonZh: REASON_ZH[u.reason], minutes: u.minutes },
    });
  }
  return {
    type: 'FeatureCollection',
    properties: {
      model: r.model,
      formats: r.formats,
      bundle: r.bundle,
      p: r.p,
      objective: r.solution.objective,
      status: r.solution.status,
      gap: r.solution.gap,
      solver: r.solution.solver,
      layers: r.layers,
      attribution: r.attribution,
    },
    features,
  };
}

export function planSitesCsv(r: PlanReport, tax: Taxonomy): string {
  const head = ['序号 rank', '名称 name', '经度 lon', '纬度 lat', '业态 formats', '来源 source', '新覆盖居民 newly covered', '其中老年人 elderly', '仅此点覆盖 only this site', '服务量 served', '容量 capacity', '最近现有设施 nearest existing', '步行分钟 minutes'];
  const rows = r.sites.map((s) =>
    csvRow([
      s.rank,
      s.name,
      s.lon.toFixed(6),
      s.lat.toFixed(6),
      s.formats.map((f) => zhName(tax, f)).join('、'),
      s.source,
      s.newlyCovered.residents,
      s.newlyCovered.elderly,
      s.onlyThisSite,
      s.served ?? '',
      s.capacity ?? '',
      s.nearestExisting?.name ?? '',
      s.nearestExisting?.minutes ?? '',
    ]),
  );
  return UTF8_BOM + csvRow(head) + rows.join('');
}

export async function planWorkbook(r: PlanReport, tax: Taxonomy): Promise<Buffer> {
  const sheets: SheetSpec[] = [
    {
      name: '选址 Sites',
      columns: [
        { header: '序号', kind: 'integer' },
        { header: '名称', kind: 'text' },
        { header: '经度', kind: 'coordinate' },
        { header: '纬度', kind: 'coordinate' },
        { header: '业态', kind: 'text' },
        { header: '新覆盖居民', kind: 'integer' },
        { header: '其中老年人', kind: 'integer' },
        { header: '仅此点覆盖', kind: 'integer' },
        { header: '服务量', kind: 'integer' },
        { header: '容量', kind: 'integer' },
        { header: '最近现有设施', kind: 'text' },
        { header: '步行分钟', kind: 'minutes' },
      ],
      rows: r.sites.map((s): XCell[] => [
        s.rank,
        s.name,
        s.lon,
        s.lat,
        s.formats.map((f) => zhName(tax, f)).join('、'),
        s.newlyCovered.residents,
        s.newlyCovered.elderly,
        s.onlyThisSite,
        s.served ?? null,
        s.capacity ?? null,
        s.nearestExisting?.name ?? null,
        s.nearestExisting?.minutes ?? null,
      ]),
      freezeColumns: 2,
    },
    {
      name: '覆盖 Coverage',
      columns: [
        { header: '业态', kind: 'text' },
        { header: '阈值分钟', kind: 'minutes' },
        { header: '规划前覆盖率', kind: 'percent' },
        { header: '规划后覆盖率', kind: 'percent' },
        { header: '新增覆盖居民', kind: 'integer' },
      ],
      rows: r.layers.map((l): XCell[] => [zhName(tax, l.format), l.thresholdMinutes, l.before, l.after, l.residentsGaining]),
    },
    {
      name: '未覆盖 Uncovered',
      columns: [
        { header: '住宅序号', kind: 'integer' },
        { header: '经度', kind: 'coordinate' },
        { header: '纬度', kind: 'coordinate' },
        { header: '居民', kind: 'integer' },
        { header: '原因', kind: 'text' },
        { header: '最近步行分钟', kind: 'minutes' },
      ],
      rows: r.uncovered.list.map((u): XCell[] => [u.residence, u.lon, u.lat, u.residents, REASON_ZH[u.reason], u.minutes]),
    },
    {
      name: '运行 Run',
      headerRow: false,
      columns: [
        { header: '项目', kind: 'text' },
        { header: '值', kind: 'text' },
      ],
      rows: [
        ['模型', MODEL_ZH[r.model]],
        ['业态', r.formats.map((f) => zhName(tax, f)).join('、')],
        ['新增点位 p', r.p ?? '—'],
        ['标准', r.standards],
        ['求解器', r.solution.solver],
        ['状态', r.solution.status],
        ['目标值', r.solution.objective],
        ['最优性差距', r.solution.gap === null ? '—' : pct(r.solution.gap)],
        ['需求点', r.instance.demand],
        ['候选点', r.instance.candidates],
        ['数据', r.attribution],
      ],
    },
  ];
  return workbookBuffer(sheets, { title: `Quarter plan ${r.model}` });
}

/** A few lines of Chinese for the terminal. */
export function planSummaryZh(r: PlanReport, tax: Taxonomy): string {
  const lines: string[] = [];
  const names = r.formats.map((f) => zhName(tax, f)).join('、');
  lines.push(`${MODEL_ZH[r.model]}：${names}${r.p !== null ? `，新增 ${r.p} 处` : ''}`);
  const s = r.solution;
  const status = s.status === 'optimal' ? '已证明最优' : s.status === 'time-limit' ? `达到时限，最优性差距 ${pct(s.gap ?? 0)}` : '启发式解';
  lines.push(`求解：${s.solver}，${status}，用时 ${s.seconds.toFixed(2)} 秒${r.alternative ? `（另一求解器 ${r.alternative.solver} 目标值 ${round3(r.alternative.objective)}）` : ''}`);
  lines.push(`需求点 ${r.instance.demand}，候选点 ${r.instance.candidates}（可达 ${r.instance.reachableCandidates}）`);
  const cf = r.candidateFile;
  if (cf.rowsRead > 0) {
    lines.push(`候选点文件：读取 ${cf.rowsRead} 行，采用 ${cf.rowsRead - cf.rejected.length} 行，拒绝 ${cf.rejected.length} 行`);
    for (const x of cf.rejected.slice(0, 5)) lines.push(`  第 ${x.line} 行（${x.field}）：${x.message}`);
    if (cf.rejected.length > 5) lines.push(`  … 另 ${cf.rejected.length - 5} 行见 --json 输出`);
  }
  for (const n of cf.notes) lines.push(`  ${n}`);
  for (const l of r.layers) {
    lines.push(`  ${zhName(tax, l.format)}（${Math.round(l.thresholdMinutes * 10) / 10} 分钟）：覆盖率 ${pct(l.before)} → ${pct(l.after)}，新增覆盖 ${l.residentsGaining} 人`);
  }
  if (r.meanMinutes) lines.push(`  平均步行时间：${r.meanMinutes.before.toFixed(1)} → ${r.meanMinutes.after.toFixed(1)} 分钟`);
  for (const site of r.sites.slice(0, 10)) {
    const alt = site.nearestExisting ? `，最近现有：${site.nearestExisting.name || '#' + site.nearestExisting.id}（${site.nearestExisting.minutes} 分钟）` : '';
    lines.push(`  ${site.rank}. ${site.name}：新覆盖 ${site.newlyCovered.residents} 人（老年人 ${site.newlyCovered.elderly}），仅此点覆盖 ${site.onlyThisSite} 人${alt}`);
  }
  if (r.sites.length > 10) lines.push(`  … 另 ${r.sites.length - 10} 处见输出文件`);
  const un = Object.entries(r.uncovered.byReason).filter(([, v]) => v.residences > 0);
  if (un.length) lines.push(`未覆盖：${un.map(([k, v]) => `${REASON_ZH[k as UncoveredReason]} ${v.residents} 人`).join('；')}`);
  for (const w of r.warnings) lines.push(`注意：${w}`);
  lines.push(r.attribution);
  return lines.join('\n');
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
