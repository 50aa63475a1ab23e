/**
 * writeAssessmentExports on a hand-built assessment (test/report/assessment-fixture.ts): every
 * file written and read back independently (JSON.parse, an RFC 4180 parser, exceljs, a strict XML
 * parser for the HTML), hostile names neutralised in each format, and atomic writes (a blocked
 * path fails with OutputFileError and leaves no temp file).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { SaxesParser } from 'saxes';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OutputFileError } from '../../src/io/atomic-file.js';
import { OSM_ATTRIBUTION } from '../../src/region/region.js';
import { ASSESSMENT_SHEETS, writeAssessmentExports } from '../../src/report/assessment-export.js';
import { parseCsv } from '../cli/helpers.js';
import { FORMATS, HOSTILE, buildFixture, type Fixture } from './assessment-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'quarter-assessment-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DATE = new Date(2024, 4, 6);
const FILES = [
  'residences.geojson',
  'zones.geojson',
  'residences.csv',
  'zones.csv',
  'gaps.csv',
  'assessment.xlsx',
  'report.html',
  'report-west_etc.html',
  'report-东区.html',
];

let fx: Fixture;
let zhDir: string;
let enDir: string;
let written: string[];

beforeAll(async () => {
  fx = buildFixture({ residences: 24 });
  zhDir = join(tmp, 'zh', 'nested');
  enDir = join(tmp, 'en');
  written = (await writeAssessmentExports(fx.result, fx.region, zhDir, { date: DATE })).files;
  await writeAssessmentExports(fx.result, fx.region, enDir, { lang: 'en', date: DATE });
});

const read = (dir: string, f: string): string => readFileSync(join(dir, f), 'utf8');

/** Parse a CSV written by the exporter: BOM and CRLF checked, header + records returned. */
function readCsvFile(dir: string, f: string): { header: string[]; rows: string[][] } {
  const text = read(dir, f);
  expect(text.charCodeAt(0), `${f} starts with a BOM`).toBe(0xfeff);
  const body = text.slice(1);
  expect(body.endsWith('\r\n')).toBe(true);
  // every line break outside quoted fields is CRLF
  const [header, ...rows] = parseCsv(body);
  for (const r of rows) expect(r.length, `${f}: record width`).toBe(header.length);
  return { header, rows };
}

interface XmlDoc {
  elements: string[];
  texts: string[];
  attributes: Array<[string, string]>;
  /** text of the first element of each name (e.g. the page <title>). */
  first: Map<string, string>;
}

/** Strict XML parse (throws on anything not well-formed): element names, text nodes, attribute values. */
function parseXml(text: string): XmlDoc {
  const doc: XmlDoc = { elements: [], texts: [], attributes: [], first: new Map() };
  const stack: string[] = [];
  const p = new SaxesParser({ xmlns: false });
  p.on('error', (e) => {
    throw e;
  });
  p.on('opentag', (t) => {
    const name = t.name.toLowerCase();
    doc.elements.push(name);
    for (const [k, v] of Object.entries(t.attributes)) doc.attributes.push([k, String(v)]);
    stack.push(name);
  });
  p.on('closetag', () => stack.pop());
  p.on('text', (t) => {
    doc.texts.push(t);
    const el = stack.at(-1);
    if (el && !doc.first.has(el)) doc.first.set(el, t);
  });
  p.write(text).close();
  return doc;
}

describe('files', () => {
  test('every file written, in order, nothing else (no temp files)', () => {
    expect(written.map((f) => f.slice(zhDir.length + 1))).toEqual(FILES);
    expect(readdirSync(zhDir).sort()).toEqual([...FILES].sort());
    expect(readdirSync(enDir).sort()).toEqual([...FILES].sort());
  });

  test('one report per user zone, none per H3 cell; zone ids cannot escape the folder', () => {
    expect(readdirSync(zhDir).filter((f) => f.startsWith('report'))).toHaveLength(3);
    expect(readdirSync(zhDir).some((f) => f.includes('891e15b7'))).toBe(false);
    expect(existsSync(join(tmp, 'zh', 'etc'))).toBe(false);
  });

  test('the same input writes the same bytes (fixed date), xlsx aside', async () => {
    const again = join(tmp, 'again');
    await writeAssessmentExports(fx.result, fx.region, again, { date: DATE });
    for (const f of FILES.filter((x) => !x.endsWith('.xlsx'))) expect(read(again, f), f).toBe(read(zhDir, f));
  });
});

describe('GeoJSON', () => {
  test('residences.geojson: one point per residence, English keys, minutes, attribution', () => {
    const gj = JSON.parse(read(zhDir, 'residences.geojson'));
    const { result, region } = fx;
    expect(gj.type).toBe('FeatureCollection');
    expect(gj.properties.attribution).toContain(OSM_ATTRIBUTION);
    expect(gj.properties.formats).toContainEqual({ id: 'pharmacy', key: 'min_pharmacy', name_zh: '药店', name_en: 'Pharmacy' });
    expect(gj.properties.grades.map((g: { id: string }) => g.id)).toEqual(['basic', 'quality']);
    expect(gj.features).toHaveLength(result.residences.count);
    const nf = FORMATS.length;
    gj.features.forEach((f: { geometry: { type: string; coordinates: number[] }; properties: Record<string, unknown> }, r: number) => {
      expect(f.geometry.type).toBe('Point');
      expect(f.geometry.coordinates[0]).toBeCloseTo(region.residences.lon[r], 6);
      expect(f.geometry.coordinates[1]).toBeCloseTo(region.residences.lat[r], 6);
      expect(f.properties.name).toBe(region.residences.names[r]);
      expect(f.properties.population).toBeCloseTo(result.residences.population[r], 1);
      expect(f.properties.completeness).toBeCloseTo(result.residences.completeness[r], 4);
      FORMATS.forEach((fmt, k) => {
        const m = result.residences.minutes[r * nf + k];
        if (Number.isFinite(m)) expect(f.properties[`min_${fmt}`]).toBeCloseTo(m, 1);
        else expect(f.properties[`min_${fmt}`]).toBeNull();
      });
      expect(Object.keys(f.properties).every((k) => /^[a-z_]+$/.test(k))).toBe(true);
    });
    expect(gj.features[0].properties.name).toBe(HOSTILE.residence);
    expect(gj.features.at(-1).properties.reachable).toBe(false);
    expect(gj.features[0].properties.grade_name).toMatch(/型|未达等级/);
  });

  test('zones.geojson: user zones and H3 cells with geometry, coverage per requirement, top gap', () => {
    const gj = JSON.parse(read(zhDir, 'zones.geojson'));
    const withGeom = fx.result.zones.filter((z) => z.geometry);
    expect(gj.features).toHaveLength(withGeom.length);
    expect(gj.properties.attribution).toContain(OSM_ATTRIBUTION);
    expect(gj.properties.requirements.map((q: { key: string }) => q.key)).toEqual([
      'cov_convenience_store',
      'cov_pharmacy',
      'cov_supermarket',
      'cov_elderly_care',
    ]);
    const kinds = gj.features.map((f: { properties: { kind: string } }) => f.properties.kind);
    expect(kinds).toEqual(['zone', 'zone', 'h3', 'h3']);
    gj.features.forEach((f: { geometry: { type: string; coordinates: number[][][] }; properties: Record<string, unknown> }, i: number) => {
      const z = withGeom[i];
      expect(f.geometry.type).toBe('Polygon');
      expect(f.properties.name).toBe(z.name);
      expect(f.properties.cov_pharmacy).toBeCloseTo(z.coverage[1], 4);
      expect(f.properties.top_gap).toBe(z.gaps[0]?.format ?? null);
      expect(f.properties.resolution).toBe(z.kind === 'h3' ? 9 : null);
    });
    const zh: Record<string, string> = { convenience_store: '便利店', supermarket: '综合超市', pharmacy: '药店', elderly_care: '养老服务' };
    gj.features.forEach((f: { properties: Record<string, unknown> }, i: number) => {
      expect(f.properties.top_gap_name_zh).toBe(withGeom[i].gaps[0] ? zh[withGeom[i].gaps[0].format] : null);
    });
  });
});

describe('CSV', () => {
  test('residences.csv: BOM, CRLF, one row per residence, bilingual minutes headers, hostile names neutralised', () => {
    const { header, rows } = readCsvFile(zhDir, 'residences.csv');
    expect(header.slice(0, 11)).toEqual(['id', 'source', 'name', 'lon', 'lat', 'population', 'elderly', 'completeness', 'grade', 'grade_name', 'reachable']);
    expect(header).toContain('药店 pharmacy (min)');
    expect(header).toContain('便利店 convenience_store (min)');
    expect(rows).toHaveLength(fx.result.residences.count);
    expect(rows[0][2]).toBe(`'${HOSTILE.residence}`);
    expect(rows[1][2]).toBe(`'${HOSTILE.residence2}`);
    expect(rows[2][2]).toBe(`'${HOSTILE.residence3}`);
    expect(rows[0][1]).toBe('way/700000');
    const col = header.indexOf('药店 pharmacy (min)');
    const nf = FORMATS.length;
    const k = FORMATS.indexOf('pharmacy');
    rows.forEach((row, r) => {
      const m = fx.result.residences.minutes[r * nf + k];
      expect(row[col]).toBe(Number.isFinite(m) ? String(Math.round(m * 10) / 10) : '');
    });
    // the raw text never starts a cell with a formula character
    for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^[=+@]/);
  });

  test('zones.csv: one row per zone (region, user zones, H3), coverage columns per requirement', () => {
    const { header, rows } = readCsvFile(zhDir, 'zones.csv');
    expect(rows).toHaveLength(fx.result.zones.length);
    expect(header).toContain('药店 pharmacy ≤8 min (coverage)');
    expect(header).toContain('养老服务 elderly_care ≤5 min (coverage)');
    expect(rows.map((r) => r[2])).toEqual(['region', 'zone', 'zone', 'h3', 'h3']);
    expect(rows[2][1]).toBe(`'${HOSTILE.zoneB}`);
    expect(rows[1][1]).toBe(HOSTILE.zoneA);
    const cov = header.indexOf('药店 pharmacy ≤8 min (coverage)');
    rows.forEach((r, i) => expect(Number(r[cov])).toBeCloseTo(fx.result.zones[i].coverage[1], 4));
  });

  test('gaps.csv: every gap of every zone, ranked by residents affected, with where and minutes', () => {
    const { header, rows } = readCsvFile(zhDir, 'gaps.csv');
    const total = fx.result.zones.reduce((s, z) => s + z.gaps.length, 0);
    expect(total).toBeGreaterThan(4);
    expect(rows).toHaveLength(total);
    const at = (name: string) => header.indexOf(name);
    for (const name of ['zone_id', 'zone_name', 'format', 'residents_affected', 'elderly_affected', 'lon', 'lat', 'median_minutes']) expect(at(name)).toBeGreaterThanOrEqual(0);
    const region = rows.filter((r) => r[at('zone_id')] === 'region');
    expect(region.map((r) => Number(r[at('rank')]))).toEqual(region.map((_, i) => i + 1));
    const affected = region.map((r) => Number(r[at('residents_affected')]));
    expect([...affected].sort((a, b) => b - a)).toEqual(affected);
    expect(region[0][at('format_zh')]).toBe('养老服务');
    expect(Number(region[0][at('lon')])).toBeCloseTo(fx.result.zones[0].gaps[0].lon, 6);
    // a gap whose unserved have no facility within reach: empty median
    expect(rows.some((r) => r[at('median_minutes')] === '')).toBe(true);
  });
});

describe('XLSX', () => {
  let wb: ExcelJS.Workbook;
  beforeAll(async () => {
    wb = new ExcelJS.Workbook();
    // exceljs declares its own Buffer type; Node's Buffer is what it reads.
    await wb.xlsx.load(readFileSync(join(zhDir, 'assessment.xlsx')) as unknown as ExcelJS.Buffer);
  });

  const headerIndex = (ws: ExcelJS.Worksheet, text: string): number => {
    let col = -1;
    ws.getRow(1).eachCell((c, j) => {
      if (c.value === text) col = j;
    });
    expect(col, `column "${text}"`).toBeGreaterThan(0);
    return col;
  };

  test('sheets, one per level of detail, with the expected row counts', () => {
    expect(wb.worksheets.map((w) => w.name)).toEqual([
      ASSESSMENT_SHEETS.summary,
      ASSESSMENT_SHEETS.zones,
      ASSESSMENT_SHEETS.h3,
      ASSESSMENT_SHEETS.residences,
      ASSESSMENT_SHEETS.gaps,
    ]);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['概要 Summary', '街道·片区 Zones', 'H3 网格 H3 cells', '住宅 Residences', '缺口 Gaps']);
    const { result } = fx;
    expect(wb.getWorksheet(ASSESSMENT_SHEETS.residences)!.actualRowCount).toBe(result.residences.count + 1);
    expect(wb.getWorksheet(ASSESSMENT_SHEETS.zones)!.actualRowCount).toBe(result.zones.filter((z) => z.kind !== 'h3').length + 1);
    expect(wb.getWorksheet(ASSESSMENT_SHEETS.h3)!.actualRowCount).toBe(result.zones.filter((z) => z.kind === 'h3').length + 1);
    expect(wb.getWorksheet(ASSESSMENT_SHEETS.gaps)!.actualRowCount).toBe(result.zones.reduce((s, z) => s + z.gaps.length, 0) + 1);
  });

  test('header row bold and frozen; column widths set', () => {
    for (const ws of wb.worksheets) {
      expect(ws.getRow(1).getCell(1).font?.bold, ws.name).toBe(true);
      expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
      expect(ws.getColumn(1).width, ws.name).toBeGreaterThanOrEqual(8);
    }
    expect(wb.getWorksheet(ASSESSMENT_SHEETS.residences)!.views[0]).toMatchObject({ xSplit: 3 });
  });

  test('percentages formatted as %, minutes as 0.0, numbers stored as numbers', () => {
    const zones = wb.getWorksheet(ASSESSMENT_SHEETS.zones)!;
    const c = zones.getRow(2).getCell(headerIndex(zones, '完整度'));
    expect(c.type).toBe(ExcelJS.ValueType.Number);
    expect(c.numFmt).toBe('0.0%');
    expect(c.value as number).toBeCloseTo(fx.result.zones[0].completeness, 6);
    const res = wb.getWorksheet(ASSESSMENT_SHEETS.residences)!;
    const m = res.getRow(2).getCell(headerIndex(res, '药店 (分钟)'));
    expect(m.type).toBe(ExcelJS.ValueType.Number);
    expect(m.numFmt).toBe('0.0');
    const summary = wb.getWorksheet(ASSESSMENT_SHEETS.summary)!;
    let found = false;
    summary.eachRow((row) => {
      if (row.getCell(1).value === '平均完整度') {
        expect(row.getCell(2).numFmt).toBe('0.0%');
        expect(row.getCell(2).value as number).toBeCloseTo(fx.result.headline.meanCompleteness, 6);
        found = true;
      }
    });
    expect(found).toBe(true);
  });

  test('targets met / missed on the summary sheet', () => {
    const summary = wb.getWorksheet(ASSESSMENT_SHEETS.summary)!;
    const statuses: unknown[] = [];
    summary.eachRow((row) => {
      if (String(row.getCell(1).value).startsWith('居民满意度') || String(row.getCell(1).value).startsWith('覆盖率')) statuses.push(row.getCell(4).value);
    });
    expect(statuses).toEqual(['达标', '无数据']);
  });

  test('hostile strings are string cells (never formulas), formula-like ones formatted as text', () => {
    const res = wb.getWorksheet(ASSESSMENT_SHEETS.residences)!;
    const name = res.getRow(2).getCell(3);
    expect(name.type).toBe(ExcelJS.ValueType.String);
    expect(name.value).toBe(HOSTILE.residence);
    expect(name.numFmt).toBe('@');
    const zones = wb.getWorksheet(ASSESSMENT_SHEETS.zones)!;
    const zb = zones.getRow(4).getCell(2);
    expect(zb.type).toBe(ExcelJS.ValueType.String);
    expect(zb.value).toBe(HOSTILE.zoneB);
    expect(zones.getRow(2).getCell(2).value).toBe(HOSTILE.region);
    for (const ws of wb.worksheets) {
      ws.eachRow((row) => row.eachCell((cell) => expect(cell.type, `${ws.name} ${cell.address}`).not.toBe(ExcelJS.ValueType.Formula)));
    }
  });

  test('English workbook: English headers, same sheet names', async () => {
    const en = new ExcelJS.Workbook();
    await en.xlsx.load(readFileSync(join(enDir, 'assessment.xlsx')) as unknown as ExcelJS.Buffer);
    expect(en.worksheets.map((w) => w.name)).toEqual(wb.worksheets.map((w) => w.name));
    const res = en.getWorksheet(ASSESSMENT_SHEETS.residences)!;
    expect(headerIndex(res, 'Pharmacy (min)')).toBeGreaterThan(0);
  });
});

describe('HTML report', () => {
  let html: string;
  let doc: XmlDoc;
  beforeAll(() => {
    html = read(zhDir, 'report.html');
    doc = parseXml(html);
  });

  test('self-contained, well-formed, Chinese, CJK font stack', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif');
    expect(doc.elements).not.toContain('script');
    expect(doc.elements).not.toContain('link');
    expect(doc.elements).not.toContain('img');
    expect(doc.elements).not.toContain('iframe');
    // no reference to anything outside the page
    for (const [k, v] of doc.attributes) if (k === 'src' || k === 'href') expect(v, `${k}=${v}`).not.toMatch(/^(https?:|\/\/)/);
  });

  test('hostile names render as text, escaped in the markup', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<b>/);
    expect(html).toContain('Krems &lt;script&gt;alert(&quot;region&quot;)&lt;/script&gt; &amp; &quot;Co&quot;');
    const text = doc.texts.join('\n');
    expect(text).toContain(HOSTILE.region);
    expect(text).toContain(HOSTILE.zoneA);
    expect(text).toContain(HOSTILE.zoneB);
    // the POI (a facility of the top-gap format) is named in its map marker's tooltip
    expect(text).toContain(HOSTILE.poi);
    expect(html).toContain('&lt;script&gt;alert(&quot;poi&quot;)&lt;/script&gt;');
  });

  test('title, date, settings, headline indicators and targets met / missed', () => {
    expect(doc.first.get('title')).toBe(`${HOSTILE.region} 一刻钟便民生活圈评估报告 — ${fx.result.settings.profile.name['zh-CN']}`);
    expect(doc.first.get('h1')).toBe(`${HOSTILE.region} 一刻钟便民生活圈评估报告`);
    expect(html).toContain('2024-05-06');
    expect(html).toContain('测试标准 &lt;i&gt;&quot;x&quot;&lt;/i&gt;');
    for (const s of ['评估设置', '评估时刻', '2024-05-06T08:00', '按住宅建筑面积估算', '主要指标', '目标达成情况', '居民满意度', '✓ 达标', '无数据']) {
      expect(html, s).toContain(s);
    }
  });

  test('charts and map are inline SVG; attribution under the map and in the footer', () => {
    const svgs = doc.elements.filter((e) => e === 'svg').length;
    expect(svgs).toBe(3);
    expect(doc.elements).toContain('rect');
    expect(doc.elements).toContain('circle');
    expect(doc.elements).toContain('path');
    expect(html.match(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/g)).toHaveLength(3);
    expect(html.split(OSM_ATTRIBUTION).length - 1).toBeGreaterThanOrEqual(2);
    expect(html).toMatch(/<figcaption class="attribution">© OpenStreetMap contributors<\/figcaption>/);
    expect(html).toMatch(/<footer><p>© OpenStreetMap contributors<\/p>/);
    // one dot per residence (few here, so none sampled away)
    const mapSvg = html.slice(html.indexOf('<svg xmlns="http://www.w3.org/2000/svg" class="map"'));
    expect((mapSvg.slice(0, mapSvg.indexOf('</svg>')).match(/<circle cx/g) ?? []).length).toBeGreaterThanOrEqual(fx.result.residences.count);
  });

  test('zone tables link the zone reports; gaps ranked', () => {
    expect(html).toContain('href="report-west_etc.html"');
    expect(html).toContain(`href="${encodeURI('report-东区.html')}"`);
    expect(html).toContain('缺口排序');
    expect(html).toContain('各街道/片区覆盖率');
  });

  test('a zone report: its own name and numbers, a link back, the same safety', () => {
    const z = read(zhDir, 'report-东区.html');
    const zd = parseXml(z);
    expect(zd.elements).not.toContain('script');
    expect(zd.first.get('h1')).toBe(`${HOSTILE.zoneB}（${HOSTILE.region}）一刻钟便民生活圈评估报告`);
    expect(z).toContain('href="report.html"');
    expect(z).toContain('按本片区内住宅计算');
    expect(z).toContain(OSM_ATTRIBUTION);
    expect(zd.elements.filter((e) => e === 'svg')).toHaveLength(3);
    const zone = fx.result.zones.find((x) => x.id === '东区')!;
    expect(z).toContain(`>${zone.population.toLocaleString('zh-CN')}<`);
  });

  test('English report', () => {
    const en = read(enDir, 'report.html');
    parseXml(en);
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('Coverage per requirement');
    expect(en).toContain('✓ met');
    expect(en).toContain('Elderly care ≤ 5 min');
    expect(en).toContain(OSM_ATTRIBUTION);
  });
});

describe('failures', () => {
  test('output folder blocked by a file: OutputFileError, nothing written', async () => {
    const file = join(tmp, 'blocked');
    writeFileSync(file, 'not a folder');
    await expect(writeAssessmentExports(fx.result, fx.region, join(file, 'out'))).rejects.toBeInstanceOf(OutputFileError);
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
  });

  test('a target path taken by a folder: OutputFileError naming it, earlier files complete, no temp file left', async () => {
    const dir = join(tmp, 'half');
    mkdirSync(join(dir, 'report.html'), { recursive: true });
    writeFileSync(join(dir, 'report.html', 'keep'), 'x');
    let err: unknown;
    try {
      await writeAssessmentExports(fx.result, fx.region, dir, { date: DATE });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutputFileError);
    expect((err as OutputFileError).file).toBe(join(dir, 'report.html'));
    expect((err as Error).message).toMatch(/report\.html: cannot write/);
    const left = readdirSync(dir);
    expect(left.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(left.sort()).toEqual(['assessment.xlsx', 'gaps.csv', 'report.html', 'residences.csv', 'residences.geojson', 'zones.csv', 'zones.geojson']);
    expect(JSON.parse(read(dir, 'residences.geojson')).features).toHaveLength(fx.result.residences.count);
    expect(read(dir, 'report.html/keep')).toBe('x');
  });

  test('an assessment of another region is refused before anything is written', async () => {
    const other = buildFixture({ residences: 5 });
    const dir = join(tmp, 'mismatch');
    await expect(writeAssessmentExports(fx.result, other.region, dir)).rejects.toThrow(/24 residences but region .* has 5/);
    expect(existsSync(dir)).toBe(false);
  });
});
