/** A user's 小区 list: encodings, headers, row-level validation with line numbers, speed. */
import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';
import { describe, expect, test } from 'vitest';
import {
  ACCESS_CENTROID,
  CsvSyntaxError,
  decodeText,
  KIND_USER,
  parseCompoundList,
  parseCsv,
  parseNumberField,
  readCompoundList,
  type CompoundListResult,
} from '../../src/ingest/residences/index.js';

const FX = 'test/fixtures/residences';
const near = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.abs(b) * 1e-6 + 1e-6);

/** imported + rejected = rowsRead, and the table holds the imported rows. */
function balanced(r: CompoundListResult): void {
  expect(r.imported + r.rejected.length).toBe(r.rowsRead);
  expect(r.table.count).toBe(r.imported);
}

const byName = (r: CompoundListResult, name: string) => {
  const i = r.table.names.indexOf(name);
  if (i < 0) throw new Error(`no row named ${name}: ${r.table.names.join(', ')}`);
  return i;
};

function checkThreeRows(r: CompoundListResult): void {
  balanced(r);
  expect(r.rowsRead).toBe(3);
  expect(r.rejected).toEqual([]);
  expect(r.columns).toEqual({ name: '小区名称', households: '户数', population: '人口', lon: '经度', lat: '纬度', elderly: '老年人口', crs: null });
  const t = r.table;
  const k = byName(r, '康乐小区');
  expect(t.population[k]).toBe(2832);
  expect(t.elderly[k]).toBe(600);
  expect(t.lon[k]).toBe(121.4412);
  expect(t.lat[k]).toBe(31.1932);
  expect(t.kind[k]).toBe(KIND_USER);
  expect(t.accessKind[k]).toBe(ACCESS_CENTROID);
  expect(t.sourceId[k]).toBe(2); // its line
  const p = byName(r, '天平新村');
  near(t.population[p], 800 * 2.36); // households × Xuhui's mean household size
  near(t.elderly[p], 800 * 2.36 * 0.2061);
  const q = byName(r, '徐汇苑, 二期'); // quoted name with a comma
  expect(t.population[q]).toBe(1500);
  expect(r.populationFromHouseholds).toBe(1);
  expect(r.elderlyEstimated).toBe(2);
}

describe('encodings', () => {
  test('UTF-8 with BOM, Chinese headers, CRLF', () => {
    const r = readCompoundList(`${FX}/compounds-utf8-bom.csv`);
    expect(r.encoding).toBe('utf-8-bom');
    expect(r.format).toBe('csv');
    checkThreeRows(r);
  });

  test('GBK (as Chinese Excel saves CSV) is detected and decoded', () => {
    const text = readFileSync(`${FX}/compounds-utf8-bom.csv`, 'utf8').replace(/^\uFEFF/, '');
    const gbk = iconv.encode(text, 'gbk');
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(gbk)).toThrow(); // really not UTF-8
    const r = parseCompoundList(gbk, 'list-gbk.csv');
    expect(r.encoding).toBe('gbk');
    expect(r.notes.join('\n')).toMatch(/not valid UTF-8: decoded as GBK/);
    checkThreeRows(r);
  });

  test('UTF-8 without BOM and UTF-16 (Excel "Unicode text", tab-separated)', () => {
    const text = readFileSync(`${FX}/compounds-utf8-bom.csv`, 'utf8').replace(/^\uFEFF/, '');
    const plain = parseCompoundList(Buffer.from(text, 'utf8'), 'plain.csv');
    expect(plain.encoding).toBe('utf-8');
    checkThreeRows(plain);
    const tsv = text.replace(/"徐汇苑, 二期"/, '徐汇苑, 二期').replace(/,/g, '\t').replace('徐汇苑\t 二期', '徐汇苑, 二期');
    const u16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(tsv, 'utf16le')]);
    const r = parseCompoundList(u16, 'unicode.txt');
    expect(r.encoding).toBe('utf-16le');
    expect(r.delimiter).toBe('\t');
    checkThreeRows(r);
  });

  test('decodeText on plain ASCII is UTF-8', () => {
    expect(decodeText(Buffer.from('a,b\n1,2'))).toEqual({ text: 'a,b\n1,2', encoding: 'utf-8' });
  });
});

describe('broken and empty files', () => {
  test('an unterminated quote names the line it opened on', () => {
    let err: unknown;
    try {
      readCompoundList(`${FX}/compounds-broken.csv`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CsvSyntaxError);
    expect((err as CsvSyntaxError).line).toBe(3);
    expect((err as Error).message).toBe(`${FX}/compounds-broken.csv: line 3: a quoted field is never closed (a " without its closing ")`);
  });

  test('an empty file is refused', () => {
    expect(() => readCompoundList(`${FX}/compounds-empty.csv`)).toThrow(/compounds-empty.csv: the file is empty/);
    expect(() => parseCompoundList(Buffer.from(' \n\n'), 'blank.csv')).toThrow(/empty/);
  });

  test('header only: nothing read, nothing lost, and said', () => {
    const r = readCompoundList(`${FX}/compounds-header-only.csv`);
    expect(r.rowsRead).toBe(0);
    expect(r.imported).toBe(0);
    expect(r.rejected).toEqual([]);
    expect(r.table.count).toBe(0);
    expect(r.table.gateOffsets).toEqual(new Int32Array([0]));
    expect(r.notes.join('\n')).toMatch(/no data rows/);
  });

  test('a title row above the header is skipped and said; line numbers stay those of the file', () => {
    const r = parseCompoundList(Buffer.from('徐汇区小区名单（2024）,,,\n小区名称,人口,经度,纬度\n康乐小区,100,121.44,31.19\n坏,x,121.44,31.19\n'), 't.csv');
    expect(r.imported).toBe(1);
    expect(r.table.sourceId[0]).toBe(3);
    expect(r.rejected).toEqual([{ line: 4, field: '人口', message: '人口: "x" is not a number' }]);
    expect(r.notes).toContain('t.csv: line 1 above the header skipped (a title?)');
  });

  test('missing columns are named, with the columns found', () => {
    expect(() => parseCompoundList(Buffer.from('名称,地址\n康乐,天平路\n'), 'x.csv')).toThrow(
      /no column for 经度\/lon and 纬度\/lat, nor 人口\/population or 户数\/households; columns found: 名称, 地址/,
    );
  });
});

describe('row validation', () => {
  const r = readCompoundList(`${FX}/compounds-row-errors.csv`);

  test('every row is imported or rejected', () => {
    balanced(r);
    expect(r.rowsRead).toBe(14); // 16 lines of data, one blank, one record over two lines
    expect(r.imported).toBe(5);
  });

  test('rejections with exact lines, fields and reasons', () => {
    expect(r.rejected.map((x) => [x.line, x.field])).toEqual([
      [5, '经度'],
      [6, '经度'],
      [7, '纬度'],
      [8, '人口'],
      [9, '人口'],
      [13, '人口'],
      [14, '老年人口'],
      [15, '纬度'],
      [16, '纬度'],
    ]);
    const msg = (line: number) => r.rejected.find((x) => x.line === line)!.message;
    expect(msg(5)).toBe('经度: "abc" is not a number');
    expect(msg(6)).toBe('经度: missing');
    expect(msg(7)).toMatch(/^纬度: looks swapped: 经度 31.201 and 纬度 121.443 fit the other way round/);
    expect(msg(8)).toBe('人口: -5 is negative');
    expect(msg(9)).toBe('人口: missing (no population and no households)');
    expect(msg(13)).toBe('人口: "很多" is not a number');
    expect(msg(14)).toBe('老年人口: 200 is more than the population 100');
    expect(msg(15)).toMatch(/looks swapped/); // 48.4, 75.0 is in China only the other way round
    expect(msg(16)).toBe('纬度: 131.2 is not a latitude (−90…90)');
  });

  test('imported rows: households, a name over two lines, 万, duplicates warned', () => {
    const t = r.table;
    expect([...t.names]).toEqual(['康乐小区', '天平新村', '多行\n名称', '康乐小区', '万人']);
    expect(Array.from(t.sourceId)).toEqual([2, 4, 10, 12, 17]);
    near(t.population[1], 800 * 2.36);
    expect(t.population[4]).toBe(12000);
    expect(r.warnings).toEqual([{ line: 12, field: '小区名称', message: '"康乐小区" is also on line 2, 15 m away: the same 小区 listed twice?' }]);
  });
});

describe('English headers, GeoJSON, coordinate systems', () => {
  test('English headers with lng', () => {
    const r = parseCompoundList(Buffer.from('name,lng,lat,households\nA,121.44,31.2,10\n'), 'en.csv', { householdSize: 3 });
    balanced(r);
    expect(r.table.population[0]).toBe(30);
    expect(r.columns.lon).toBe('lng');
  });

  test('headers with units in brackets and 60+ columns noted', () => {
    const r = parseCompoundList(Buffer.from('小区名称,人口（人）,经度(WGS84),纬度(WGS84),60岁以上\nA,100,121.44,31.2,30\n'), 'u.csv');
    balanced(r);
    expect(r.imported).toBe(1);
    expect(r.columns.population).toBe('人口（人）');
    expect(r.notes.join('\n')).toMatch(/"60岁以上" ignored: Quarter counts the elderly as 65\+/);
    near(r.table.elderly[0], 100 * 0.2061);
  });

  test('GeoJSON: points, polygon centroids, GCJ-02 rows converted by the caller, features without geometry rejected', () => {
    const calls: string[] = [];
    const r = readCompoundList(`${FX}/compounds.geojson`, {
      convert: (lon, lat, from) => {
        calls.push(from);
        return [lon - 0.005, lat + 0.002];
      },
    });
    balanced(r);
    expect(r.format).toBe('geojson');
    expect(r.imported).toBe(3);
    expect(r.rejected).toEqual([{ line: 4, field: 'lon', message: 'lon: no coordinates (no 经度/纬度 and no geometry)' }]);
    near(r.table.lon[1], 121.445);
    near(r.table.lat[1], 31.205);
    near(r.table.population[1], 236);
    expect(r.table.elderly[1]).toBe(30);
    expect(calls).toEqual(['gcj02']);
    near(r.table.lon[2], 121.44);
    near(r.table.lat[2], 31.187);
    expect(r.converted).toBe(1);
  });

  test('GCJ-02 without a converter: those rows are rejected, not silently shifted ~500 m', () => {
    const r = readCompoundList(`${FX}/compounds.geojson`);
    expect(r.rejected.find((x) => x.line === 3)).toEqual({ line: 3, field: 'crs', message: 'crs: coordinates are GCJ-02 and no converter to WGS-84 is available' });
    const all = parseCompoundList(Buffer.from('name,lon,lat,population\nA,121.44,31.2,10\n'), 'a.csv', { crs: 'gcj02' });
    expect(all.rejected[0].field).toBe('crs');
    const bad = parseCompoundList(Buffer.from('name,lon,lat,population,坐标系\nA,121.44,31.2,10,UTM51\n'), 'b.csv');
    expect(bad.rejected[0].message).toBe('坐标系: unknown coordinate system "UTM51" (use WGS84, GCJ-02 or BD-09)');
  });

  test('number fields', () => {
    expect(parseNumberField(' 1,234 ')).toBe(1234);
    expect(parseNumberField('１２３')).toBe(123);
    expect(parseNumberField('2.5万')).toBe(25000);
    expect(parseNumberField('300人')).toBe(300);
    expect(parseNumberField('300人口')).toBe(300);
    expect(parseNumberField('')).toBeNull();
    expect(parseNumberField('12,5')).toBeNaN();
    expect(parseNumberField('abc')).toBeNaN();
  });
});

describe('CSV reader', () => {
  test('quotes, escaped quotes, CRLF/CR/LF, blank and empty-field lines skipped, start lines kept', () => {
    const c = parseCsv('a,b\r\n"x ""y""",2\r\r\n,,\n"multi\nline",3\rlast,4');
    expect(c.records).toEqual([
      ['a', 'b'],
      ['x "y"', '2'],
      ['multi\nline', '3'],
      ['last', '4'],
    ]);
    expect(c.lines).toEqual([1, 2, 5, 7]);
  });

  test('semicolon delimiter is sniffed from the header', () => {
    expect(parseCsv('a;b;c\n1;2;3').delimiter).toBe(';');
  });
});

describe('performance', () => {
  test('100 000 rows in under 2 s', () => {
    const lines = ['小区名称,户数,人口,经度,纬度,老年人口'];
    for (let i = 0; i < 100_000; i++) {
      lines.push(`小区${i},${100 + (i % 900)},${i % 7 === 0 ? '' : 300 + (i % 1000)},${(121.3 + (i % 1000) * 0.0002).toFixed(6)},${(31.1 + Math.floor(i / 1000) * 0.0002).toFixed(6)},`);
    }
    const buf = Buffer.from(lines.join('\n'), 'utf8');
    // CPU time of this process, not wall time: other test files and other work on the machine
    // share the cores, and only what this code costs is under test.
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = parseCompoundList(buf, 'big.csv');
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    console.log(`100 000-row 小区 list: ${cpuMs.toFixed(0)} ms CPU, ${wall.toFixed(0)} ms wall`);
    expect(r.rowsRead).toBe(100_000);
    expect(r.imported).toBe(100_000);
    expect(r.populationFromHouseholds).toBe(Math.ceil(100_000 / 7));
    expect(cpuMs).toBeLessThan(2000);
  });
});
