/**
 * Read a POI export (CSV/TSV or XLSX) from Amap (高德), Baidu or a hand-made sheet into rows
 * of recognised fields, each with the line a person would look at.
 *
 * - Encoding: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), or GBK
 *   (GB18030) when the bytes are not valid UTF-8 — reported as "decoded as GBK". Text that
 *   was garbled before it was saved (U+FFFD replacement characters, 锟斤拷, UTF-8 read as
 *   Latin-1) is reported with its lines; it cannot be repaired.
 * - Headers, matched after NFKC, lower-casing and dropping spaces, '_', '-', '.' and any
 *   bracketed note ("经度（GCJ-02）"): see FIELD_ALIASES. A coordinate system named in a
 *   coordinate header (wgs84, gcj02, bd09, 高德, 百度) is reported as `crsHint`.
 * - The header is the first of the first ten non-blank rows that names the coordinates, so a
 *   title row above it is skipped (with a warning).
 * - Lines: for CSV the physical line where the record starts (1 = first line of the file);
 *   for XLSX the worksheet row number. Blank rows are skipped and not counted.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import ExcelJS from 'exceljs';
import { parseCrs, type Crs } from '../crs.js';
import { BAD_BOM_NOTE, CsvSyntaxError, decodeText, parseCsv, type CsvRecords, type TextEncodingName } from '../text-table.js';

export const POI_FIELDS = [
  'name', 'category1', 'category2', 'category3', 'type', 'typecode', 'lon', 'lat', 'location',
  'address', 'id', 'brand', 'opentime', 'phone',
] as const;
/** A column the importer understands. category1/2/3 = 大类/中类/小类; type = "餐饮服务;中餐厅;…". */
export type PoiField = (typeof POI_FIELDS)[number];

/**
 * Header spellings per field, written as they look *after* normalisation (NFKC, lower case,
 * no spaces / '_' / '-' / '.', no bracketed note, no CRS name at either end).
 */
export const FIELD_ALIASES: Readonly<Record<PoiField, readonly string[]>> = {
  name: ['名称', 'name', 'poi名称', 'poiname', '店名', '名字', '商户名称', '门店名称', '商家名称', 'title'],
  category1: ['大类', '一级分类', '一级类别', '一级类', '一级行业', '一级行业分类', '大类名称', 'category1', 'type1', 'bigcategory'],
  category2: ['中类', '二级分类', '二级类别', '二级类', '二级行业', '二级行业分类', '中类名称', 'category2', 'type2', 'midcategory'],
  category3: ['小类', '三级分类', '三级类别', '三级类', '三级行业', '三级行业分类', '小类名称', 'category3', 'type3', 'subcategory', 'smallcategory'],
  type: ['类型', 'type', '分类', '类别', 'poi类型', 'poitype', '行业类型', '行业分类', 'tag', '标签', 'detailinfotag', 'category'],
  typecode: ['typecode', '类型编码', '类型代码', '分类编码', '分类代码', 'poi类型编码', '类别编码', '类别代码'],
  lon: ['经度', 'lon', 'lng', 'long', 'longitude', 'x', '经度坐标', 'locationlng', 'locationlon'],
  lat: ['纬度', 'lat', 'latitude', 'y', '纬度坐标', 'locationlat'],
  location: ['location', '坐标', '经纬度', '经纬度坐标', 'lnglat', 'lonlat', '位置坐标', 'point'],
  address: ['地址', 'address', 'addr', '详细地址', '地址信息'],
  id: ['id', 'uid', 'poiid', 'poiuid', '编号', 'poi编号', '唯一标识'],
  brand: ['品牌', 'brand', '品牌名称'],
  opentime: [
    '营业时间', '营业时段', 'opentime', 'opentime2', 'opentimeweek', 'opentimetoday', 'openinghours',
    'businesshours', 'shophours', 'businessopentimetoday', 'businessopentimeweek', 'bizextopentime',
  ],
  phone: ['电话', '联系电话', 'tel', 'phone', 'telephone'],
};

const ALIAS_TO_FIELD: ReadonlyMap<string, PoiField> = (() => {
  const m = new Map<string, PoiField>();
  for (const f of POI_FIELDS) for (const a of FIELD_ALIASES[f]) m.set(a, f);
  return m;
})();

const COORD_FIELDS: ReadonlySet<PoiField> = new Set<PoiField>(['lon', 'lat', 'location']);
const CRS_TOKEN = /(wgs-?84|gcj-?02|bd-?09(?:ll)?|epsg:?4326|高德|百度|火星|gps)/;
const CRS_AT_ENDS = /^(wgs84|gcj02|bd09ll|bd09|wgs|gcj|bd|gps|高德|百度|火星)|(wgs84|gcj02|bd09ll|bd09|wgs|gcj|bd|gps|高德|百度|火星)$/g;

/** The field a header names, and the CRS it mentions (coordinate headers only). */
export function matchHeader(header: string): { field: PoiField; crs?: Crs } | null {
  let s = header.normalize('NFKC').trim().toLowerCase();
  const crsMatch = CRS_TOKEN.exec(s);
  s = s.replace(/[(\[【][^)\]】]*[)\]】]/g, '').replace(/[\s_\-.:/]/g, '');
  let field = ALIAS_TO_FIELD.get(s);
  if (field === undefined) {
    const stripped = s.replace(CRS_AT_ENDS, '');
    const f = ALIAS_TO_FIELD.get(stripped);
    if (f !== undefined && COORD_FIELDS.has(f)) field = f;
  }
  if (field === undefined) return null;
  if (COORD_FIELDS.has(field) && crsMatch) {
    const crs = parseCrs(crsMatch[1]);
    if (crs) return { field, crs };
  }
  return { field };
}

export type TableEncoding = TextEncodingName | 'xlsx';

export interface PoiRow {
  /** CSV: line where the record starts; XLSX: row number. */
  line: number;
  /** trimmed cell text of each recognised field present in the file (may be ''). */
  values: Partial<Record<PoiField, string>>;
}

export interface PoiTable {
  file: string;
  format: 'csv' | 'xlsx';
  encoding: TableEncoding;
  /** CSV only. */
  delimiter?: string;
  headerLine: number;
  /** the header row as written. */
  headers: string[];
  /** 0-based column of each recognised field. */
  columns: Partial<Record<PoiField, number>>;
  /** CRS named by a coordinate header, e.g. "经度(WGS84)". */
  crsHint?: Crs;
  rows: PoiRow[];
  warnings: string[];
}

/** A file that cannot be read as a POI table; the message starts with the file name. */
export class PoiInputError extends Error {
  readonly file: string;
  readonly line?: number;
  constructor(file: string, detail: string, line?: number) {
    super(`${file}: ${line !== undefined ? `line ${line}: ` : ''}${detail}`);
    this.name = 'PoiInputError';
    this.file = file;
    if (line !== undefined) this.line = line;
  }
}

/** Read a CSV/TSV/TXT or XLSX POI export. */
export async function readPoiTable(file: string): Promise<PoiTable> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new PoiInputError(file, `cannot read: ${(e as Error).message}`);
  }
  const ext = extname(file).toLowerCase();
  if (bytes.length >= 4 && bytes[0] === 0xd0 && bytes[1] === 0xcf && bytes[2] === 0x11 && bytes[3] === 0xe0) {
    throw new PoiInputError(file, 'this is an old Excel .xls (BIFF) workbook: save it as .xlsx or CSV');
  }
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  if (isZip || ext === '.xlsx' || ext === '.xlsm') return readXlsx(file, bytes);
  return parsePoiCsv(bytes, file);
}

// ---------------------------------------------------------------------------------------------
// Decoding

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
  warnings: string[];
}

/**
 * Bytes → text (decodeText: BOM, else strict UTF-8, else GBK / GB18030; invalid UTF-8 after a
 * BOM replaced with U+FFFD). Warns about GBK, the replaced bytes and garbled text.
 */
export function decodeTableBytes(bytes: Uint8Array): DecodedText {
  const dec = decodeText(bytes, 'file', { lenientBom: true });
  const warnings: string[] = [];
  if (dec.encoding === 'gbk') warnings.push('decoded as GBK: the file is not valid UTF-8');
  else if (dec.note === BAD_BOM_NOTE) warnings.push(BAD_BOM_NOTE);
  warnings.push(...mojibakeWarnings(dec.text));
  return { text: dec.text, encoding: dec.encoding, warnings };
}

/** "锟斤拷" and friends: U+FFFD written as UTF-8 and read back as GBK. */
const GBK_FFFD = /锟斤拷|烫烫烫|屯屯屯/;
/** UTF-8 Chinese read as Latin-1/CP1252 and saved again: "ä¸­æ–‡" for 中文. */
const LATIN1_MOJIBAKE = /[\u00e4-\u00e9][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]{2}/;

function linesMatching(text: string, test: (line: string) => boolean, limit: number): { lines: number[]; total: number } {
  const lines: number[] = [];
  let total = 0;
  let no = 1;
  for (const l of text.split(/\r\n|\n|\r/)) {
    if (test(l)) {
      total++;
      if (lines.length < limit) lines.push(no);
    }
    no++;
  }
  return { lines, total };
}

function lineList(r: { lines: number[]; total: number }): string {
  return `line${r.total > 1 ? 's' : ''} ${r.lines.join(', ')}${r.total > r.lines.length ? ` and ${r.total - r.lines.length} more` : ''}`;
}

function mojibakeWarnings(text: string): string[] {
  const out: string[] = [];
  if (text.includes('\uFFFD')) {
    const r = linesMatching(text, (l) => l.includes('\uFFFD'), 5);
    out.push(
      `mojibake: ${lineList(r)} contain U+FFFD replacement characters (�): the text was garbled before the file was saved ` +
        '(decoded with the wrong encoding); names there are lost — re-export the data as UTF-8',
    );
  }
  if (GBK_FFFD.test(text)) {
    const r = linesMatching(text, (l) => GBK_FFFD.test(l), 5);
    out.push(`mojibake: ${lineList(r)} contain "锟斤拷"-style garbage (replacement characters re-read as GBK): names there are lost`);
  }
  if (LATIN1_MOJIBAKE.test(text)) {
    const r = linesMatching(text, (l) => LATIN1_MOJIBAKE.test(l), 5);
    out.push(`mojibake: ${lineList(r)} look like UTF-8 text that was read as Latin-1 and saved again (e.g. "ä¸­" for 中)`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Header and rows

interface HeaderInfo {
  headerIndex: number;
  columns: Partial<Record<PoiField, number>>;
  crsHint?: Crs;
  warnings: string[];
}

function hasCoordinates(cols: Partial<Record<PoiField, number>>): boolean {
  return (cols.lon !== undefined && cols.lat !== undefined) || cols.location !== undefined;
}

function mapHeader(cells: readonly string[]): Omit<HeaderInfo, 'headerIndex'> {
  const columns: Partial<Record<PoiField, number>> = {};
  const warnings: string[] = [];
  let crsHint: Crs | undefined;
  cells.forEach((cell, i) => {
    if (cell.trim().length === 0) return;
    const m = matchHeader(cell);
    if (!m) return;
    const prev = columns[m.field];
    if (prev !== undefined) {
      warnings.push(`column ${i + 1} "${cell.trim()}" also looks like ${m.field}; using column ${prev + 1} "${cells[prev].trim()}"`);
      return;
    }
    columns[m.field] = i;
    if (m.crs && crsHint === undefined) crsHint = m.crs;
  });
  return { columns, crsHint, warnings };
}

/** Find the header among the first ten rows; throws when none names the coordinates. */
function findHeader(file: string, rows: readonly { line: number; cells: string[] }[]): HeaderInfo {
  const limit = Math.min(rows.length, 10);
  for (let r = 0; r < limit; r++) {
    const h = mapHeader(rows[r].cells);
    if (hasCoordinates(h.columns)) {
      const info: HeaderInfo = { headerIndex: r, ...h };
      if (r > 0) {
        info.warnings.unshift(`the header is on line ${rows[r].line}; line${r > 1 ? 's' : ''} above it skipped`);
      }
      return info;
    }
  }
  const first = rows[0];
  const found = first.cells.map((c) => c.trim()).filter((c) => c.length > 0);
  throw new PoiInputError(
    file,
    'no coordinate columns: need 经度 and 纬度 (or lon/lng and lat), or a location column "lng,lat"; ' +
      `header found: ${found.length > 0 ? found.map((c) => `"${c}"`).join(', ') : '(empty)'}`,
    first.line,
  );
}

function buildTable(
  file: string,
  format: PoiTable['format'],
  encoding: TableEncoding,
  rows: readonly { line: number; cells: string[] }[],
  warnings: string[],
  delimiter?: string,
): PoiTable {
  if (rows.length === 0) throw new PoiInputError(file, 'the file is empty: no header row');
  const h = findHeader(file, rows);
  const headerRow = rows[h.headerIndex];
  const entries = Object.entries(h.columns) as [PoiField, number][];
  const out: PoiRow[] = [];
  for (let r = h.headerIndex + 1; r < rows.length; r++) {
    const { line, cells } = rows[r];
    const values: Partial<Record<PoiField, string>> = {};
    for (const [field, col] of entries) values[field] = col < cells.length ? cells[col].trim() : '';
    out.push({ line, values });
  }
  const all = [...warnings, ...h.warnings];
  if (h.columns.typecode === undefined && h.columns.type === undefined && h.columns.category1 === undefined &&
      h.columns.category2 === undefined && h.columns.category3 === undefined) {
    all.push('no typecode or category column (typecode / 类型编码, 类型 / type, 大类 / 中类 / 小类): formats come from names only');
  }
  if (h.columns.name === undefined) all.push('no name column (名称 / name)');
  if (out.length === 0) all.push('no data rows below the header');
  const table: PoiTable = {
    file,
    format,
    encoding,
    headerLine: headerRow.line,
    headers: headerRow.cells.map((c) => c.trim()),
    columns: h.columns,
    rows: out,
    warnings: all,
  };
  if (delimiter !== undefined) table.delimiter = delimiter;
  if (h.crsHint !== undefined) table.crsHint = h.crsHint;
  return table;
}

/** Parse CSV/TSV bytes (any supported encoding). `file` names the source in messages. */
export function parsePoiCsv(bytes: Uint8Array, file: string): PoiTable {
  const dec = decodeTableBytes(bytes);
  const warnings = [...dec.warnings];
  let csv: CsvRecords;
  try {
    csv = parseCsv(dec.text, undefined, (m) => warnings.push(m));
  } catch (e) {
    if (e instanceof CsvSyntaxError) {
      throw new PoiInputError(file, 'unterminated quoted field: the quote opened on this line is never closed', e.line);
    }
    throw e;
  }
  return buildTable(
    file,
    'csv',
    dec.encoding,
    csv.records.map((cells, k) => ({ line: csv.lines[k], cells })),
    warnings,
    csv.delimiter,
  );
}

// ---------------------------------------------------------------------------------------------
// XLSX

/** The text of one exceljs cell value (numbers keep full precision). */
function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    if ('richText' in v && Array.isArray(v.richText)) return v.richText.map((t) => t.text).join('');
    if ('formula' in v || 'sharedFormula' in v) {
      const result = (v as ExcelJS.CellFormulaValue).result;
      return result === undefined ? '' : cellText(result as ExcelJS.CellValue);
    }
    if ('hyperlink' in v && 'text' in v) return cellText(v.text as ExcelJS.CellValue);
    if ('error' in v) return '';
  }
  return String(v);
}

async function readXlsx(file: string, bytes: Buffer): Promise<PoiTable> {
  const wb = new ExcelJS.Workbook();
  try {
    // exceljs declares its own Buffer type; Node's Buffer is what it reads.
    await wb.xlsx.load(bytes as unknown as ExcelJS.Buffer);
  } catch (e) {
    throw new PoiInputError(file, `not a readable .xlsx workbook: ${(e as Error).message}`);
  }
  const sheets = wb.worksheets.filter((ws) => ws.actualRowCount > 0);
  const warnings: string[] = [];
  if (sheets.length === 0) throw new PoiInputError(file, 'the file is empty: no header row');
  const ws = sheets[0];
  if (sheets.length > 1) warnings.push(`read worksheet "${ws.name}"; ${sheets.length - 1} other non-empty worksheet(s) ignored`);
  const rows: { line: number; cells: string[] }[] = [];
  ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells: string[] = [];
    const n = row.cellCount;
    let any = false;
    for (let c = 1; c <= n; c++) {
      const t = cellText(row.getCell(c).value);
      if (t.trim().length > 0) any = true;
      cells.push(t);
    }
    if (any) rows.push({ line: rowNumber, cells });
  });
  for (const r of rows) {
    for (const c of r.cells) {
      if (c.includes('\uFFFD')) {
        warnings.push(`mojibake: row ${r.line} contains U+FFFD replacement characters (�): the text was garbled before it was saved`);
        break;
      }
    }
  }
  return buildTable(file, 'xlsx', 'xlsx', rows, warnings);
}
