/** Reading POI tables: CSV tokenizer, encodings, header matching, XLSX, and bad files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, test } from 'vitest';
import { CsvSyntaxError, parseCsv, sniffDelimiter } from '../../src/ingest/text-table.js';
import { decodeTableBytes, matchHeader, PoiInputError, readPoiTable } from '../../src/ingest/pois/read-table.js';

const FIX = 'test/fixtures/pois';
const tmp = mkdtempSync(join(tmpdir(), 'quarter-pois-read-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function put(name: string, data: string | Uint8Array): string {
  const f = join(tmp, name);
  writeFileSync(f, data);
  return f;
}

async function failure(file: string): Promise<PoiInputError> {
  try {
    await readPoiTable(file);
  } catch (e) {
    expect(e).toBeInstanceOf(PoiInputError);
    const err = e as PoiInputError;
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    return err;
  }
  throw new Error(`${file}: expected a PoiInputError`);
}

describe('CSV tokenizer', () => {
  test('quotes, doubled quotes, embedded delimiters and line breaks; record start lines', () => {
    const text = 'a,b,c\n1,"x,y","he said ""hi"""\r\n2,"multi\nline\r\nfield",z\r3,,\n\n4,last';
    const csv = parseCsv(text, ',');
    expect(csv.records).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x,y', 'he said "hi"'],
      ['2', 'multi\nline\r\nfield', 'z'],
      ['3', '', ''],
      ['4', 'last'],
    ]);
    expect(csv.lines).toEqual([1, 2, 3, 6, 8]);
  });

  test('a quote inside an unquoted field is literal; text after a closing quote is kept with a warning', () => {
    const warnings: string[] = [];
    const csv = parseCsv('a,b\n8"寸,"x"y\n', ',', (m) => warnings.push(m));
    expect(csv.records[1]).toEqual(['8"寸', 'xy']);
    expect(warnings).toEqual(['line 2: text after a closing quote ("y") kept as part of the field']);
  });

  test('unterminated quote is reported at the line where it opened', () => {
    expect(() => parseCsv('a,b\n1,2\n3,"open\n4,5\n6,7\n', ',')).toThrow(CsvSyntaxError);
    try {
      parseCsv('a,b\n1,2\n3,"open\n4,5\n6,7\n', ',');
    } catch (e) {
      expect((e as CsvSyntaxError).line).toBe(3);
    }
  });

  test('delimiter sniffing skips a title line', () => {
    expect(sniffDelimiter('名称,经度,纬度\n')).toBe(',');
    expect(sniffDelimiter('title\n名称\t经度\t纬度\tlocation\nA\t1\t2\t"1,2"\n')).toBe('\t');
    expect(sniffDelimiter('名称;经度;纬度\n')).toBe(';');
    expect(sniffDelimiter('')).toBe(',');
  });
});

describe('header matching', () => {
  test.each([
    ['名称', 'name'],
    [' 名 称 ', 'name'],
    ['Name', 'name'],
    ['大类', 'category1'],
    ['中类', 'category2'],
    ['小类', 'category3'],
    ['类型', 'type'],
    ['TYPE', 'type'],
    ['typecode', 'typecode'],
    ['Type_Code', 'typecode'],
    ['type code', 'typecode'],
    ['类型编码', 'typecode'],
    ['经度', 'lon'],
    ['lng', 'lon'],
    ['LON', 'lon'],
    ['Longitude', 'lon'],
    ['纬度', 'lat'],
    ['lat', 'lat'],
    ['location', 'location'],
    ['地址', 'address'],
    ['poi_id', 'id'],
    ['uid', 'id'],
    ['ID', 'id'],
    ['品牌', 'brand'],
    ['营业时间', 'opentime'],
    ['opentime', 'opentime'],
    ['名称（中文）', 'name'],
  ])('%s → %s', (h, field) => {
    expect(matchHeader(h)?.field).toBe(field);
  });

  test('a CRS named in a coordinate header is reported', () => {
    expect(matchHeader('经度（GCJ-02）')).toEqual({ field: 'lon', crs: 'gcj02' });
    expect(matchHeader('lng_wgs84')).toEqual({ field: 'lon', crs: 'wgs84' });
    expect(matchHeader('百度纬度')).toEqual({ field: 'lat', crs: 'bd09' });
    expect(matchHeader('bd09_location')).toEqual({ field: 'location', crs: 'bd09' });
    expect(matchHeader('电话号码备注')).toBeNull();
  });
});

describe('encodings', () => {
  const csv = 'id,名称,typecode,经度,纬度\nB1,全家便利店(徐汇店),060200,121.437,31.188\nB2,老百姓大药房,090601,121.44,31.19\n';

  test('UTF-8 with BOM (fixture)', async () => {
    const t = await readPoiTable(`${FIX}/amap-bad-rows.csv`);
    expect(t.encoding).toBe('utf-8-bom');
    expect(t.headers[0]).toBe('id');
    expect(t.rows[0].values.name).toBe('全家便利店(徐汇店)');
    expect(t.warnings.some((w) => w.includes('GBK'))).toBe(false);
  });

  test('UTF-8 without BOM', async () => {
    const t = await readPoiTable(put('plain.csv', csv));
    expect(t.encoding).toBe('utf-8');
    expect(t.rows.map((r) => r.values.name)).toEqual(['全家便利店(徐汇店)', '老百姓大药房']);
  });

  test('GBK bytes are detected, decoded, and reported', async () => {
    const bytes = iconv.encode(csv, 'gbk');
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
    const t = await readPoiTable(put('gbk.csv', bytes));
    expect(t.encoding).toBe('gbk');
    expect(t.rows.map((r) => r.values.name)).toEqual(['全家便利店(徐汇店)', '老百姓大药房']);
    expect(t.warnings).toContain('decoded as GBK: the file is not valid UTF-8');
  });

  test('UTF-16LE with BOM, tab-separated (Excel "Unicode text")', async () => {
    const body = Buffer.from(csv.replaceAll(',', '\t'), 'utf16le');
    const t = await readPoiTable(put('unicode.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), body])));
    expect(t.encoding).toBe('utf-16le');
    expect(t.delimiter).toBe('\t');
    expect(t.rows[1].values).toMatchObject({ name: '老百姓大药房', typecode: '090601', lon: '121.44', lat: '31.19' });
  });

  test('mojibake: U+FFFD replacement characters are reported with their lines', async () => {
    const text = csv + 'B3,\uFFFD\uFFFD便利店,060200,121.45,31.2\nB4,锟斤拷超市,060400,121.45,31.2\n';
    const t = await readPoiTable(put('fffd.csv', text));
    expect(t.encoding).toBe('utf-8');
    expect(t.warnings.some((w) => w.includes('U+FFFD') && w.includes('line 4'))).toBe(true);
    expect(t.warnings.some((w) => w.includes('锟斤拷') && w.includes('line 5'))).toBe(true);
  });

  test('mojibake: UTF-8 read as Latin-1 and saved again', () => {
    const garbled = Buffer.from('名称,经度,纬度\n全家,121,31\n', 'utf8').toString('latin1');
    const d = decodeTableBytes(Buffer.from(garbled, 'utf8'));
    expect(d.warnings.some((w) => w.includes('Latin-1'))).toBe(true);
  });

  test('clean Chinese text raises no mojibake warning', () => {
    expect(decodeTableBytes(Buffer.from(csv, 'utf8')).warnings).toEqual([]);
  });
});

describe('columns and rows', () => {
  test('title line skipped, tab-separated, location column, lines counted from the file start', async () => {
    const t = await readPoiTable(`${FIX}/location-column.tsv`);
    expect(t.delimiter).toBe('\t');
    expect(t.headerLine).toBe(3);
    expect(t.warnings).toContain('the header is on line 3; line above it skipped');
    expect(t.columns).toEqual({ id: 0, name: 1, type: 2, typecode: 3, location: 4, address: 5, opentime: 6 });
    expect(t.rows.map((r) => r.line)).toEqual([4, 5]);
    expect(t.rows[0].values.location).toBe('121.4418,31.1932');
  });

  test('duplicate field columns: the first wins, with a warning', async () => {
    const t = await readPoiTable(put('dup.csv', '名称,经度,纬度,lng\nA,121.4,31.2,0\n'));
    expect(t.columns.lon).toBe(1);
    expect(t.warnings).toContain('column 4 "lng" also looks like lon; using column 2 "经度"');
  });

  test('CRS hint from the header', async () => {
    const t = await readPoiTable(put('hint.csv', '名称,经度(WGS84),纬度(WGS84)\nA,121.4,31.2\n'));
    expect(t.crsHint).toBe('wgs84');
  });

  test('short rows give empty values', async () => {
    const t = await readPoiTable(put('short.csv', '名称,经度,纬度,地址\nA,121.4\n'));
    expect(t.rows[0].values).toEqual({ name: 'A', lon: '121.4', lat: '', address: '' });
  });
});

describe('XLSX', () => {
  test('created with exceljs: title row, numbers at full precision, rich text, formulas; lines are row numbers', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('POI');
    ws.addRow(['高德POI导出']);
    ws.addRow([]);
    ws.addRow(['名称', '类型', '类型编码', '经度', '纬度', '地址', '营业时间']);
    ws.addRow(['全家便利店(徐汇店)', '购物服务;便民商店/便利店;便利店', '060200', 121.4370123, 31.1881234, '漕溪北路1号', '07:00-23:00']);
    ws.addRow([{ richText: [{ text: '老百姓' }, { text: '大药房' }] }, '', '090601', 121.44, 31.19, '', '']);
    ws.addRow([]);
    ws.addRow(['公式行', '', '060200', { formula: '121+0.45', result: 121.45 }, 31.2, '', '']);
    const file = join(tmp, 'pois.xlsx');
    await wb.xlsx.writeFile(file);
    const t = await readPoiTable(file);
    expect(t.format).toBe('xlsx');
    expect(t.headerLine).toBe(3);
    expect(t.rows.map((r) => r.line)).toEqual([4, 5, 7]);
    expect(t.rows[0].values).toMatchObject({ name: '全家便利店(徐汇店)', typecode: '060200', lon: '121.4370123', lat: '31.1881234' });
    expect(t.rows[1].values.name).toBe('老百姓大药房');
    expect(t.rows[2].values.lon).toBe('121.45');
  });

  test('an .xlsx that is not a workbook, and an old .xls', async () => {
    expect((await failure(put('broken.xlsx', 'PK\u0003\u0004garbage'))).message).toContain('not a readable .xlsx workbook');
    const xls = put('old.xls', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]));
    expect((await failure(xls)).message).toContain('old Excel .xls');
  });
});

describe('bad files', () => {
  test('empty file', async () => {
    const err = await failure(`${FIX}/empty.csv`);
    expect(err.message).toBe(`${FIX}/empty.csv: the file is empty: no header row`);
  });

  test('only blank lines and a BOM', async () => {
    expect((await failure(put('blank.csv', '\uFEFF\n  \n\n'))).message).toContain('the file is empty');
  });

  test('header only: no rows, a warning', async () => {
    const t = await readPoiTable(`${FIX}/header-only.csv`);
    expect(t.rows).toEqual([]);
    expect(t.warnings).toContain('no data rows below the header');
  });

  test('unterminated quote: error with the line where the quote opened', async () => {
    const err = await failure(`${FIX}/unterminated-quote.csv`);
    expect(err.line).toBe(3);
    expect(err.message).toBe(
      `${FIX}/unterminated-quote.csv: line 3: unterminated quoted field: the quote opened on this line is never closed`,
    );
  });

  test('no coordinate columns', async () => {
    const err = await failure(put('nocoords.csv', '名称,地址\nA,B\n'));
    expect(err.line).toBe(1);
    expect(err.message).toContain('no coordinate columns');
    expect(err.message).toContain('"名称", "地址"');
  });

  test('missing file', async () => {
    expect((await failure(join(tmp, 'nope.csv'))).message).toContain('cannot read');
  });
});
