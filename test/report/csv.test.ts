/** CSV cells: RFC 4180 quoting and formula neutralising, checked by parsing them back independently. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { UTF8_BOM, csvCell, csvRow } from '../../src/report/csv.js';
import { parseCsv } from '../cli/helpers.js';

/** What a spreadsheet should show for a string cell. */
const shown = (s: string): string => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

describe('csvCell', () => {
  test.each<[string | number | null | undefined, string]>([
    [null, ''],
    [undefined, ''],
    ['', ''],
    [0, '0'],
    [-1.5, '-1.5'],
    [1e21, '1e+21'],
    [Number.NaN, ''],
    [Number.POSITIVE_INFINITY, ''],
    ['plain', 'plain'],
    ['中文，全角逗号', '中文，全角逗号'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rlf', '"cr\rlf"'],
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    [' =1', ' =1'],
    ["'=1", "'=1"],
  ])('%j → %j', (input, out) => {
    expect(csvCell(input)).toBe(out);
  });

  test('a row ends with CRLF; the BOM constant is U+FEFF', () => {
    expect(csvRow([1, 'a,b', null, '=x'])).toBe(`1,"a,b",,'=x\r\n`);
    expect(UTF8_BOM).toBe('\uFEFF');
  });
});

describe('round trip through an independent RFC 4180 parser', () => {
  test('any rows of strings come back as shown (formulas defused), nothing else changed', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 }), (rows) => {
        const text = rows.map((r) => csvRow(r)).join('');
        const back = parseCsv(text);
        expect(back).toEqual(rows.map((r) => r.map(shown)));
      }),
      { numRuns: 300 },
    );
  });

  test('no cell, once parsed, starts like a formula', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 5 }), (row) => {
        for (const cell of parseCsv(csvRow(row))[0]) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      }),
      { numRuns: 300 },
    );
  });
});
