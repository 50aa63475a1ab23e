import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTaxonomy, parseTaxonomy, TaxonomyError, type Taxonomy } from '../../src/taxonomy/formats.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/taxonomy/${name}`, import.meta.url));

/** The message thrown by fn, or a failure when it does not throw a TaxonomyError. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TaxonomyError);
    return (e as Error).message;
  }
  throw new Error('expected a TaxonomyError');
}

describe('the bundled taxonomy (data/taxonomy/formats.json)', () => {
  const tax: Taxonomy = loadTaxonomy();

  it('loads and validates', () => {
    expect(tax.version).toBe(1);
    expect(tax.formats.length).toBeGreaterThanOrEqual(25);
    expect(tax.byId.size).toBe(tax.formats.length);
  });

  it('holds every format the brief and the product brief name', () => {
    const required = [
      'convenience_store', 'supermarket', 'vegetable_market', 'fresh_food_store', 'breakfast', 'laundry',
      'hair_beauty', 'photo_print', 'housekeeping', 'repair', 'pharmacy', 'post_express', 'recycling',
      'community_health', 'elderly_care', 'childcare', 'community_canteen', 'community_centre', 'fitness_culture',
      'restaurant', 'cafe_bakery', 'florist', 'bookstore', 'education_training', 'pet_service', 'entertainment',
    ];
    for (const id of required) expect(tax.byId.has(id), id).toBe(true);
  });

  it('places facilities at the GB 50180-2018 levels the product brief quotes', () => {
    const level = (id: string) => tax.byId.get(id)!.level;
    expect(level('convenience_store')).toBe('neighbourhood');
    expect(level('post_express')).toBe('neighbourhood');
    for (const id of ['community_canteen', 'childcare', 'elderly_care', 'community_health']) expect(level(id), id).toBe(5);
    expect([10, 15]).toContain(level('vegetable_market'));
  });

  it('uses the MOFCOM tiers the product brief quotes', () => {
    const m = (id: string) => tax.byId.get(id)!.mofcomMinutes;
    expect(m('convenience_store')).toBe(5);
    for (const id of ['breakfast', 'fast_food', 'pharmacy', 'laundry', 'hair_beauty', 'vegetable_market']) expect(m(id), id).toBe(8);
    for (const id of ['supermarket', 'repair', 'community_centre', 'fitness_culture']) expect(m(id), id).toBe(15);
  });

  it('classes formats as the product brief lists them', () => {
    const cls = (id: string) => tax.byId.get(id)!.class;
    for (const id of ['convenience_store', 'supermarket', 'vegetable_market', 'breakfast', 'repair', 'pharmacy', 'post_express', 'recycling']) {
      expect(cls(id), id).toBe('basic');
    }
    for (const id of ['restaurant', 'cafe_bakery', 'florist', 'bookstore', 'fitness_culture', 'elderly_care', 'childcare', 'pet_service']) {
      expect(cls(id), id).toBe('quality');
    }
    for (const id of ['community_health', 'community_canteen', 'community_centre']) expect(cls(id), id).toBe('public');
  });

  it('gives every format a note, an OSM rule, and keeps OSM and Amap rules apart', () => {
    for (const f of tax.formats) {
      expect(f.note, f.id).toBeTruthy();
      expect(f.match.some((r) => r.tags !== undefined), f.id).toBe(true);
      for (const r of f.match) expect(r.tags !== undefined, f.id).not.toBe(r.amapTypecodes !== undefined);
    }
  });

  it('excludes 屈臣氏 (060411) from the supermarket Amap codes', () => {
    const rule = tax.byId.get('supermarket')!.match.find((r) => r.amapTypecodes);
    expect(rule?.amapTypecodes).toEqual(['0604']);
    expect(rule?.amapExclude).toEqual(['060411']);
  });
});

describe('loadTaxonomy errors name the file, the format and the field', () => {
  it('broken JSON', () => {
    const msg = errorOf(() => loadTaxonomy(fixture('invalid-json.json')));
    expect(msg).toMatch(/^invalid-json\.json: not valid JSON: \S/);
    expect(msg.split('\n')).toHaveLength(1);
  });

  it('missing field', () => {
    expect(errorOf(() => loadTaxonomy(fixture('missing-field.json')))).toBe(
      'missing-field.json: format #2 ("supermarket"): missing field "class"',
    );
  });

  it('wrong class', () => {
    expect(errorOf(() => loadTaxonomy(fixture('wrong-class.json')))).toBe(
      'wrong-class.json: format #7 ("pharmacy"): field "class" must be one of basic, quality, public',
    );
  });

  it('duplicate id', () => {
    expect(errorOf(() => loadTaxonomy(fixture('duplicate-id.json')))).toBe(
      'duplicate-id.json: format #3 ("pharmacy"): duplicate id, already used by format #1',
    );
  });

  it('missing file', () => {
    expect(errorOf(() => loadTaxonomy(fixture('no-such-file.json')))).toMatch(/^no-such-file\.json: cannot read /);
  });
});

describe('parseTaxonomy field checks', () => {
  /** A loosely typed, mutable taxonomy to break on purpose. */
  type RawFormat = Record<string, unknown> & { match: Record<string, unknown>[] };
  const good = (): { version: number; formats: RawFormat[] } => ({
    version: 1,
    formats: [
      {
        id: 'pharmacy',
        name: { 'zh-CN': '药店', en: 'Pharmacy' },
        class: 'basic',
        level: 5,
        mofcomMinutes: 8,
        match: [{ tags: { amenity: ['pharmacy'] } }, { amapTypecodes: ['090601'] }],
      },
    ],
  });
  const P = 'formats.json: format #1 ("pharmacy")';

  it('accepts the valid base', () => {
    const t = parseTaxonomy(good());
    expect(t.byId.get('pharmacy')?.match).toHaveLength(2);
  });

  const cases: [string, (t: ReturnType<typeof good>) => void, string][] = [
    ['level', (t) => (t.formats[0].level = 20), `${P}: field "level" must be one of "neighbourhood", 5, 10, 15`],
    ['mofcomMinutes', (t) => (t.formats[0].mofcomMinutes = 10), `${P}: field "mofcomMinutes" must be one of 5, 8, 15`],
    ['gbt37915', (t) => (t.formats[0].gbt37915 = 'required'), `${P}: field "gbt37915" must be one of essential, supplementary, upgrading`],
    ['name', (t) => (t.formats[0].name = { 'zh-CN': '药店' }), `${P}: field "name" must be an object with non-empty "zh-CN" and "en" strings`],
    ['id', (t) => (t.formats[0].id = 'Pharmacy-Store'), 'formats.json: format #1 ("Pharmacy-Store"): field "id" must be a snake_case string (a-z, 0-9, _)'],
    ['missing id', (t) => delete t.formats[0].id, 'formats.json: format #1: missing field "id"'],
    ['unknown field', (t) => (t.formats[0].colour = 'red'), `${P}: unknown field "colour"`],
    ['empty match', (t) => (t.formats[0].match = []), `${P}: field "match" must be a non-empty array of rules`],
    ['rule with both', (t) => (t.formats[0].match[0].amapTypecodes = ['0906']), `${P}: match[0]: a rule has either "tags" (OSM) or "amapTypecodes" (Amap), not both`],
    ['rule with neither', (t) => (t.formats[0].match[0] = { nameAny: ['药'] }), `${P}: match[0]: a rule needs "tags" (OSM) or "amapTypecodes" (Amap)`],
    ['bad tags', (t) => (t.formats[0].match[0].tags = { amenity: [] }), `${P}: match[0]: field "tags" must map each key to "*" or a non-empty array of strings`],
    ['tag value string', (t) => (t.formats[0].match[0].tags = { amenity: 'pharmacy' }), `${P}: match[0]: field "tags" must map each key to "*" or a non-empty array of strings`],
    ['nameAny', (t) => (t.formats[0].match[0].nameAny = 'Apotheke'), `${P}: match[0]: field "nameAny" must be a non-empty array of non-empty strings`],
    ['unknown rule field', (t) => (t.formats[0].match[0].namesAny = ['x']), `${P}: match[0]: unknown field "namesAny"`],
    ['cuisine on Amap', (t) => (t.formats[0].match[1].cuisineAny = ['x']), `${P}: match[1]: field "cuisineAny" only applies to OSM rules (with "tags")`],
    ['exclude on OSM', (t) => (t.formats[0].match[0].amapExclude = ['060411']), `${P}: match[0]: field "amapExclude" only applies to Amap rules (with "amapTypecodes")`],
    ['typecode', (t) => (t.formats[0].match[1].amapTypecodes = ['09060']), `${P}: match[1]: field "amapTypecodes" must be a non-empty array of 2-, 4- or 6-digit typecode prefixes or "*"`],
    ['any typecode without name', (t) => (t.formats[0].match[1].amapTypecodes = ['*']), `${P}: match[1]: field "amapTypecodes" "*" (any typecode) needs "nameAny"`],
    ['exclude code', (t) => (t.formats[0].match[1].amapExclude = ['x']), `${P}: match[1]: field "amapExclude" must hold 2-, 4- or 6-digit typecode prefixes`],
  ];
  for (const [what, mutate, message] of cases) {
    it(what, () => {
      const t = good();
      mutate(t);
      expect(errorOf(() => parseTaxonomy(t))).toBe(message);
    });
  }

  it('top level', () => {
    expect(errorOf(() => parseTaxonomy([]))).toBe('formats.json: top level must be an object with "version" and "formats"');
    expect(errorOf(() => parseTaxonomy({ version: 1, formats: [] }))).toBe('formats.json: field "formats" must be a non-empty array');
    expect(errorOf(() => parseTaxonomy({ formats: good().formats }))).toBe('formats.json: missing field "version"');
    expect(errorOf(() => parseTaxonomy({ ...good(), extra: 1 }))).toBe('formats.json: unknown top-level field "extra"');
  });

  it('reports every problem, one per line, with the given label', () => {
    const t = good();
    t.formats[0].class = 'x';
    t.formats[0].level = 'x';
    const err = (() => {
      try {
        parseTaxonomy(t, 'mine.json');
      } catch (e) {
        return e as TaxonomyError;
      }
      throw new Error('no error');
    })();
    expect(err.errors).toEqual([
      'mine.json: format #1 ("pharmacy"): field "class" must be one of basic, quality, public',
      'mine.json: format #1 ("pharmacy"): field "level" must be one of "neighbourhood", 5, 10, 15',
    ]);
    expect(err.message).toBe(err.errors.join('\n'));
  });
});
