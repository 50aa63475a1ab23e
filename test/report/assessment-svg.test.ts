/**
 * The report's building blocks: XML escaping, the SVG charts and map (well-formed, hostile text
 * escaped, homes capped by a deterministic sample, rounded coordinates, sane size), geometry
 * helpers, report file names, requirement keys, zone targets and the XLSX sheet writer's checks.
 */
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { SaxesParser } from 'saxes';
import { describe, expect, test } from 'vitest';
import type { GeoJSONGeometry, RequirementInfo, ZoneResult } from '../../src/assess/result.js';
import { barChartSvg, completenessColor, escapeXml, fitText, gradeColors, stackedBarSvg, textWidth } from '../../src/report/charts-svg.js';
import { renderRegionReport, requirementKeys, requirementLabel, zoneReportFiles, zoneTargets } from '../../src/report/html-report.js';
import { geometryBBox, pointInGeometry, renderMapSvg, residencesInGeometry, sampleIndices } from '../../src/report/map-svg.js';
import { SheetNameError, cellText, workbookBuffer } from '../../src/report/xlsx.js';
import { DLAT, DLON, HOSTILE, LAT0, LON0, buildFixture, gridGraph } from './assessment-fixture.js';

/** Element names of a well-formed XML string (throws otherwise) and its text nodes. */
function xml(s: string): { elements: string[]; texts: string[] } {
  const out = { elements: [] as string[], texts: [] as string[] };
  const p = new SaxesParser({ xmlns: false });
  p.on('error', (e) => {
    throw e;
  });
  p.on('opentag', (t) => out.elements.push(t.name));
  p.on('text', (t) => out.texts.push(t));
  p.write(s).close();
  return out;
}

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;

describe('escapeXml', () => {
  test.each([
    ['<script>alert("x")</script>', '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'],
    ["a & b 'c'", 'a &amp; b &#39;c&#39;'],
    ['中文', '中文'],
    ['nul\u0000bell\u0007', 'nul\uFFFDbell\uFFFD'],
    ['lone \uD800 surrogate', 'lone \uFFFD surrogate'],
    ['emoji 😀 ok', 'emoji 😀 ok'],
  ])('%j', (input, out) => {
    expect(escapeXml(input)).toBe(out);
  });

  test('any string escaped is XML text that parses back to itself (bar invalid characters)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const parsed = xml(`<t a="${escapeXml(s)}">${escapeXml(s)}</t>`);
        expect(parsed.texts.join('')).toBe(s);
      }),
    );
  });
});

describe('charts', () => {
  test('bar chart: one bar per value, target marks, hostile labels as text', () => {
    const svg = barChartSvg(
      [
        { label: HOSTILE.poi, value: 0.95, target: 0.85 },
        { label: '药店 ≤8 分钟', value: 0.4 },
        { label: 'no data', value: null },
        { label: 'x'.repeat(200), value: 1.3 },
      ],
      { title: 'coverage <b>', targetLabel: '目标值' },
    );
    const doc = xml(svg);
    expect(doc.elements[0]).toBe('svg');
    expect(doc.elements).not.toContain('script');
    expect(doc.elements).not.toContain('b');
    expect(count(svg, /<rect /g)).toBe(3);
    expect(count(svg, /stroke-dasharray="3 2"/g)).toBe(2); // the row's mark and the legend's
    expect(doc.texts).toContain(HOSTILE.poi);
    expect(doc.texts).toContain('95.0%');
    expect(doc.texts).toContain('—');
    expect(doc.texts.some((t) => t.endsWith('…'))).toBe(true); // long label cut
    // bars clamp at 100 %: none reaches into the value column at the right
    const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]) + Number(m[2]));
    expect(bars).toHaveLength(3);
    expect(Math.max(...bars)).toBeCloseTo(760 - 56, 0);
  });

  test('stacked bar: segments proportional, zero segments only in the legend, empty total draws a grey bar', () => {
    const svg = stackedBarSvg(
      [
        { label: '未达等级', value: 25, color: '#bdbdbd' },
        { label: '基础型', value: 75, color: '#a6d96a' },
        { label: '品质型 <x>', value: 0, color: '#1a9850' },
      ],
      { title: 'grades', width: 400 },
    );
    const doc = xml(svg);
    expect(svg).toContain('width="100"');
    expect(svg).toContain('width="300"');
    expect(doc.texts).toContain('品质型 <x>: 0.0%');
    xml(stackedBarSvg([{ label: 'none', value: 0, color: '#ccc' }], { title: 'empty' }));
  });

  test('colours: red at 0, green at 1, grey for no value; grade palette sized to the grades', () => {
    expect(completenessColor(0)).toBe('#d73027');
    expect(completenessColor(1)).toBe('#1a9850');
    expect(completenessColor(Number.NaN)).toBe('#9e9e9e');
    expect(completenessColor(2)).toBe('#1a9850');
    for (const n of [0, 1, 2, 3, 5, 8]) expect(gradeColors(n)).toHaveLength(n + 1);
  });

  test('text width counts CJK as a full em', () => {
    expect(textWidth('药店', 10)).toBe(20);
    expect(textWidth('ab', 10)).toBeCloseTo(11.2);
    expect(fitText('很长很长很长的名字', 12, 50).endsWith('…')).toBe(true);
  });
});

describe('map', () => {
  const graph = gridGraph(5);

  function homes(n: number) {
    const lon = new Float64Array(n);
    const lat = new Float64Array(n);
    const completeness = new Float32Array(n);
    const reachable = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      lon[i] = LON0 + ((i * 0.618034) % 1) * 4 * DLON;
      lat[i] = LAT0 + ((i * 0.7548777) % 1) * 4 * DLAT;
      completeness[i] = (i % 11) / 10;
    }
    reachable[0] = 0;
    return { lon, lat, completeness, reachable };
  }

  const legend = {
    title: '地图 <t>',
    completeness: '完整度',
    unreachable: '未接入',
    network: '步行网络',
    zoneOutline: '边界',
    facilities: '药店 <script>',
    gapCentre: '缺口中心',
    sampled: (d: number, t: number) => `显示 ${d} / ${t}`,
  };

  test('network, homes, facilities, gap centres, outlines, legend, scale bar; hostile names escaped', () => {
    const zone: GeoJSONGeometry = { type: 'Polygon', coordinates: [[[LON0, LAT0], [LON0 + 2 * DLON, LAT0], [LON0 + 2 * DLON, LAT0 + 2 * DLAT], [LON0, LAT0]]] };
    const out = renderMapSvg({
      graph,
      residences: homes(50),
      facilities: [{ lon: LON0 + DLON, lat: LAT0 + DLAT, name: HOSTILE.poi }],
      gapCentres: [{ lon: LON0 + 2 * DLON, lat: LAT0 + 2 * DLAT, name: '1. <gap>' }],
      outlines: [{ geometry: zone, name: HOSTILE.zoneA, highlight: true }],
      legend,
    });
    const doc = xml(out.svg);
    expect(doc.elements).not.toContain('script');
    expect(doc.elements).not.toContain('img');
    expect(doc.texts).toContain(HOSTILE.poi);
    expect(doc.texts).toContain(HOSTILE.zoneA);
    expect(doc.texts).toContain('药店 <script>');
    expect(out.drawnEdges).toBe(graph.edgeCount);
    expect(out.drawnResidences).toBe(50);
    expect(count(out.svg, /<circle cx="[\d.]+" cy="[\d.]+" r="3.2"\/>/g)).toBe(50);
    expect(out.svg).toContain('stroke="#c8c8c8"'); // network in light grey
    expect(out.svg).toContain('m</text>'); // scale bar
    expect(out.svg).not.toContain('显示'); // nothing sampled away
  });

  test('big regions: homes capped by a deterministic sample, coordinates rounded, size bounded', () => {
    const n = 40_000;
    const h = homes(n);
    const a = renderMapSvg({ graph, residences: h, legend, maxResidences: 3000 });
    const b = renderMapSvg({ graph, residences: h, legend, maxResidences: 3000 });
    expect(a.svg).toBe(b.svg);
    expect(a.drawnResidences).toBe(3000);
    expect(a.totalResidences).toBe(n);
    expect(count(a.svg, /<circle cx="[\d.]+" cy="[\d.]+" r="1.8"\/>/g)).toBe(3000);
    expect(a.svg).toContain('显示 3000 / 40000');
    // every number in the drawing has at most one decimal
    expect(a.svg.match(/\d+\.\d{2,}/g) ?? []).toEqual([]);
    expect(a.svg.length).toBeLessThan(200_000);
  });

  test('a dense network coarsens its drawing grid to stay within the budget', () => {
    const dense = gridGraph(80);
    const base = { graph: dense, residences: homes(0), legend, width: 240 };
    const full = renderMapSvg(base);
    const small = renderMapSvg({ ...base, networkBudgetChars: 20_000 });
    xml(small.svg);
    expect(full.drawnEdges).toBe(dense.edgeCount);
    expect(small.svg.length).toBeLessThan(full.svg.length / 2);
    expect(small.drawnEdges).toBeGreaterThan(0);
  });

  test('sampleIndices: exactly the cap, a sorted subset, stable', () => {
    const idx = Array.from({ length: 10_000 }, (_, i) => i * 3);
    const s = sampleIndices(idx, 500);
    expect(s).toHaveLength(500);
    expect([...s].sort((x, y) => x - y)).toEqual(s);
    const set = new Set(idx);
    expect(s.every((i) => set.has(i))).toBe(true);
    expect(sampleIndices(idx, 500)).toEqual(s);
    expect(sampleIndices([5, 1], 10)).toEqual([5, 1]);
    // spread over the range, not the first 500
    expect(Math.max(...s)).toBeGreaterThan(idx[idx.length - 1] * 0.9);
  });

  test('point in polygon: holes and multipolygons', () => {
    const holed: GeoJSONGeometry = {
      type: 'Polygon',
      coordinates: [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
      ],
    };
    expect(pointInGeometry(1, 1, holed)).toBe(true);
    expect(pointInGeometry(5, 5, holed)).toBe(false);
    expect(pointInGeometry(11, 5, holed)).toBe(false);
    const multi: GeoJSONGeometry = { type: 'MultiPolygon', coordinates: [holed.coordinates, [[[20, 20], [30, 20], [30, 30], [20, 20]]]] };
    expect(pointInGeometry(28, 22, multi)).toBe(true);
    expect(pointInGeometry(22, 28, multi)).toBe(false);
    expect(geometryBBox(multi)).toEqual([0, 0, 30, 30]);
    expect(residencesInGeometry([1, 5, 28, 50], [1, 5, 22, 50], multi)).toEqual([0, 2]);
  });
});

describe('vocabulary', () => {
  const info = (format: string, extra: Partial<RequirementInfo['requirement']> = {}, index = 0): RequirementInfo => ({
    index,
    requirement: { format, population: 'all', weight: 1, withinMinutes: 15, ...extra },
    formats: [format, ...(extra.alternatives ?? [])],
    seconds: (extra.withinMinutes ?? 15) * 60,
    walkingProfile: 'default',
  });

  test('requirement keys stay unique when a profile repeats a format', () => {
    expect(
      requirementKeys([
        info('community_health', { level: 5 }),
        info('community_health', { level: 15 }),
        info('pharmacy'),
        info('elderly_care', { population: 'elderly' }),
        info('elderly_care', { population: 'all' }),
        info('x'),
        info('x'),
      ]),
    ).toEqual(['community_health_l5', 'community_health_l15', 'pharmacy', 'elderly_care_elderly', 'elderly_care', 'x_5', 'x_6']);
  });

  test('requirement labels in both languages, alternatives joined', () => {
    const q = info('vegetable_market', { alternatives: ['fresh_food_store'], withinMinutes: 8, population: 'elderly', level: 10 });
    expect(requirementLabel(q, 'zh-CN')).toBe('菜市场或生鲜超市/菜店 ≤8 分钟（老年人，10分钟生活圈）');
    expect(requirementLabel(q, 'en')).toBe('Fresh food market or Fresh food store / greengrocer ≤ 8 min (elderly, 10-minute circle)');
  });

  test('zone report file names: safe, unique, never report.html', () => {
    const z = (id: string): ZoneResult => ({
      id, name: id, kind: 'zone', geometry: null, residences: 0, population: 0, elderly: 0, coverage: [], formatCoverage: [],
      completeness: 0, completeShare: 0, grade: -1, gradeDistribution: [], gaps: [],
    });
    const files = zoneReportFiles([z('../../etc/passwd'), z('天平路街道'), z('a b'), z('a/b'), z(''), z('<script>'), { ...z('h'), kind: 'h3' }]);
    expect([...files.values()]).toEqual([
      'report-etc_passwd.html',
      'report-天平路街道.html',
      'report-a_b.html',
      'report-a_b-2.html',
      'report-zone.html',
      'report-script.html',
    ]);
    for (const f of files.values()) expect(f).toMatch(/^report-[\p{L}\p{N}_-]+\.html$/u);
  });

  test('zone targets: coverage recomputed from the residences in the zone', () => {
    const { result } = buildFixture({ residences: 30 });
    const members = [0, 1, 2, 3, 4];
    const rows = zoneTargets(result, members, 'zh-CN');
    expect(rows).toHaveLength(3);
    const R = result.residences;
    const nq = result.requirements.length;
    let pop = 0;
    let ok = 0;
    for (const r of members) {
      pop += R.population[r];
      if (R.met[r * nq + 0] && R.met[r * nq + 1]) ok += R.population[r];
    }
    expect(rows[0].value).toBeCloseTo(ok / pop, 9);
    expect(rows[0].met).toBe(ok / pop >= 0.85);
    expect(rows[0].label).toBe('覆盖率（便利店、药店）');
    expect(rows[1]).toMatchObject({ value: null, met: null });
    expect(rows[2].label).toBe('连锁门店占比（2030 年）');
    expect(zoneTargets(result, [], 'en')[0]).toMatchObject({ value: null, met: null });
  });

  test('the report refuses a result without a region zone', () => {
    const { result, region } = buildFixture();
    expect(() => renderRegionReport({ ...result, zones: result.zones.slice(1) }, region)).toThrow(/no region zone/);
  });
});

describe('xlsx writer', () => {
  test('sheet names are checked', async () => {
    const sheet = (name: string) => ({ name, columns: [{ header: 'a', kind: 'text' as const }], rows: [] });
    await expect(workbookBuffer([sheet('a/b')])).rejects.toBeInstanceOf(SheetNameError);
    await expect(workbookBuffer([sheet('x'.repeat(32))])).rejects.toBeInstanceOf(SheetNameError);
    await expect(workbookBuffer([sheet('Sum'), sheet('sum')])).rejects.toBeInstanceOf(SheetNameError);
  });

  test('cells: strings stay strings, non-finite numbers empty, per-cell kinds, invalid characters replaced', async () => {
    const buf = await workbookBuffer([
      {
        name: 'T',
        columns: [
          { header: 'name', kind: 'text' },
          { header: 'share', kind: 'percent' },
          { header: 'min', kind: 'minutes' },
        ],
        rows: [
          ['=1+1', 0.5, Infinity],
          ['-2', { value: 1234, kind: 'integer' }, 3.25],
          ['bad\u0000char', null, Number.NaN],
          [true, '—', 1],
        ],
      },
    ]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buf as unknown as ExcelJS.Buffer);
    const ws = wb.getWorksheet('T')!;
    expect(ws.getCell('A2').type).toBe(ExcelJS.ValueType.String);
    expect(ws.getCell('A2').value).toBe('=1+1');
    expect(ws.getCell('A2').numFmt).toBe('@');
    expect(ws.getCell('A3').value).toBe('-2');
    expect(ws.getCell('B2').numFmt).toBe('0.0%');
    expect(ws.getCell('B3').numFmt).toBe('#,##0');
    expect(ws.getCell('C2').value).toBeNull();
    expect(ws.getCell('C3').numFmt).toBe('0.0');
    expect(ws.getCell('A4').value).toBe('bad\uFFFDchar');
    expect(ws.getCell('A5').value).toBe(true);
    expect(ws.getCell('B5').type).toBe(ExcelJS.ValueType.String);
    expect(cellText('x'.repeat(40_000))).toHaveLength(32_767);
  });
});
