import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  evaluateGrade,
  listStandardsProfiles,
  loadStandardsProfile,
  requirementSeconds,
  requirementWalkingProfile,
  StandardsError,
  suggest,
  validateStandardsProfile,
  type Requirement,
  type StandardsProfile,
} from '../../src/assess/standards.js';
import { getWalkingProfile, loadWalkingProfiles } from '../../src/engine/profile.js';
import { loadTaxonomy, type Taxonomy } from '../../src/taxonomy/formats.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/standards/${name}`, import.meta.url));

/** The StandardsError lines thrown by fn. */
function errorsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StandardsError);
    return (e as StandardsError).errors;
  }
  throw new Error('expected a StandardsError');
}

const tax: Taxonomy = loadTaxonomy();
const adult = getWalkingProfile('default');
const elderly = getWalkingProfile('elderly');
const BUNDLED = ['gb50180-2018', 'mofcom-2021', 'shanghai-2016', 'xuhui'];

/** Requirements of a profile for one format, by level. */
const reqs = (p: StandardsProfile, format: string) => p.requirements.filter((r) => r.format === format);

describe('bundled profiles', () => {
  it('are listed with their names', () => {
    const list = listStandardsProfiles();
    expect(list.map((p) => p.id)).toEqual(BUNDLED);
    for (const p of list) {
      expect(p.file.endsWith(`${p.id}.json`)).toBe(true);
      expect(p.name?.['zh-CN']).toBeTruthy();
      expect(p.name?.en).toBeTruthy();
    }
  });

  it.each(BUNDLED)('%s loads and validates', (id) => {
    const p = loadStandardsProfile(id);
    expect(p.id).toBe(id);
    expect(p.source.length).toBeGreaterThan(20);
    expect(loadWalkingProfiles().map((w) => w.id)).toContain(p.walkingProfile);
    expect(p.requirements.length).toBeGreaterThan(0);
    expect(p.grades.length).toBeGreaterThan(0);
    expect(p.notes.length).toBeGreaterThan(0);
    for (const r of p.requirements) {
      expect(tax.byId.has(r.format), r.format).toBe(true);
      expect(r.withinMinutes !== undefined || r.withinMetres !== undefined).toBe(true);
      expect(requirementSeconds(r, adult)).toBeGreaterThan(0);
    }
    // loading by path gives the same profile
    expect(loadStandardsProfile(listStandardsProfiles().find((x) => x.id === id)!.file)).toEqual(p);
  });

  it('round-trip: a loaded profile validates again unchanged', () => {
    for (const id of BUNDLED) {
      const p = loadStandardsProfile(id);
      expect(validateStandardsProfile(JSON.parse(JSON.stringify(p)), `${id}.json`, tax)).toEqual(p);
    }
  });
});

describe('mofcom-2021', () => {
  const p = loadStandardsProfile('mofcom-2021');

  it('requires every basic and quality format of the taxonomy, at its MOFCOM tier', () => {
    const formats = new Set(p.requirements.map((r) => r.format));
    for (const f of tax.formats.filter((x) => x.class !== 'public')) expect(formats.has(f.id), f.id).toBe(true);
    for (const r of p.requirements) {
      expect(r.withinMinutes, r.format).toBe(tax.byId.get(r.format)!.mofcomMinutes);
      expect(r.withinMetres).toBeUndefined();
    }
    expect(p.defaultMinutes).toBe(15);
    expect(reqs(p, 'convenience_store')[0].withinMinutes).toBe(5);
    expect(reqs(p, 'pharmacy')[0].withinMinutes).toBe(8);
    expect(reqs(p, 'supermarket')[0].withinMinutes).toBe(15);
  });

  it('grades 基础型 / 提升型 / 品质型 with the scaled provincial bar', () => {
    expect(p.grades.map((g) => g.name['zh-CN'])).toEqual(['基础型', '提升型', '品质型']);
    const [basic, improved, quality] = p.grades;
    expect(basic.rule.requiredFormats).toContainEqual(['vegetable_market', 'fresh_food_store']);
    // every essential basic format is required (菜市场 / 生鲜 as one slot)
    const required = basic.rule.requiredFormats!.flat();
    for (const f of tax.formats.filter((x) => x.class === 'basic' && x.gbt37915 === 'essential')) {
      expect(required, f.id).toContain(f.id);
    }
    expect(improved.rule).toEqual({ minBasic: 10, minQuality: 4 });
    expect(quality.rule).toEqual({ minBasic: 10, minQuality: 7, requiredFormats: ['elderly_care', 'childcare'] });
    expect(p.notes.join(' ')).toMatch(/≥15 basic and ≥20 quality/);
    expect(p.targets).toEqual([
      expect.objectContaining({ indicator: 'resident_satisfaction', value: 0.9 }),
      expect.objectContaining({ indicator: 'chain_outlet_share', value: 0.3, year: 2030 }),
    ]);
  });

  it('evaluates grades cumulatively', () => {
    const essential = new Set(p.grades[0].rule.requiredFormats!.flat().filter((f) => f !== 'fresh_food_store'));
    const grade = (present: Set<string>) => evaluateGrade(p, tax, (r) => present.has(r.format));
    const q = (ids: string[]) => new Set([...essential, ...ids]);

    expect(grade(new Set()).grade).toBeNull();
    const missingPharmacy = new Set(essential);
    missingPharmacy.delete('pharmacy');
    expect(grade(missingPharmacy).grade).toBeNull();

    const base = grade(q([]));
    expect(base.grade?.id).toBe('basic');
    expect(base.basic).toBe(10);
    expect(base.quality).toBe(0);

    expect(grade(q(['florist', 'bookstore', 'cafe_bakery', 'restaurant'])).grade?.id).toBe('improved');
    const sevenNoChildcare = ['florist', 'bookstore', 'cafe_bakery', 'restaurant', 'pet_service', 'entertainment', 'elderly_care'];
    expect(grade(q(sevenNoChildcare)).grade?.id).toBe('improved');
    const top = grade(q(['florist', 'bookstore', 'cafe_bakery', 'restaurant', 'pet_service', 'elderly_care', 'childcare']));
    expect(top.grade?.id).toBe('quality');
    expect(top.quality).toBe(7);
    // a quality bar met without the basics earns nothing: grades are cumulative
    const noBasics = new Set(['florist', 'bookstore', 'cafe_bakery', 'restaurant', 'pet_service', 'elderly_care', 'childcare']);
    expect(grade(noBasics).grade).toBeNull();
    // fresh_food_store fills the 菜市场 slot
    const withFresh = new Set(essential);
    withFresh.delete('vegetable_market');
    withFresh.add('fresh_food_store');
    expect(grade(withFresh).grade?.id).toBe('basic');
  });
});

describe('gb50180-2018', () => {
  const p = loadStandardsProfile('gb50180-2018');
  const LEVEL_LIMITS = new Map<unknown, [number | undefined, number]>([
    [15, [15, 1000]],
    [10, [10, 500]],
    [5, [5, 300]],
    ['neighbourhood', [undefined, 250]],
  ]);

  it('gives every requirement its level and that level’s metres and minutes', () => {
    for (const r of p.requirements) {
      const limits = LEVEL_LIMITS.get(r.level);
      expect(limits, `${r.format} level ${String(r.level)}`).toBeDefined();
      expect([r.withinMinutes, r.withinMetres]).toEqual(limits);
    }
    expect(new Set(p.requirements.map((r) => r.level))).toEqual(new Set([15, 10, 5, 'neighbourhood']));
  });

  it('lists the 5-minute and 居住街坊 facilities the product brief quotes', () => {
    const at = (level: unknown) => p.requirements.filter((r) => r.level === level).map((r) => r.format);
    expect(at(5)).toEqual(expect.arrayContaining(['community_centre', 'community_canteen', 'fitness_culture', 'childcare', 'elderly_care', 'community_health', 'supermarket', 'pharmacy', 'laundry', 'hair_beauty']));
    expect(at('neighbourhood')).toEqual(expect.arrayContaining(['convenience_store', 'post_express']));
    expect(reqs(p, 'vegetable_market')[0]).toMatchObject({ level: 10, alternatives: ['fresh_food_store'] });
  });

  it('keeps levels apart: a 5-minute requirement is 5 minutes even where the format is also a 15-minute one', () => {
    for (const format of ['elderly_care', 'community_health', 'community_centre', 'fitness_culture']) {
      const byLevel = new Map(reqs(p, format).map((r) => [r.level, r] as const));
      expect(byLevel.get(5), format).toMatchObject({ withinMinutes: 5, withinMetres: 300 });
      expect(byLevel.get(15), format).toMatchObject({ withinMinutes: 15, withinMetres: 1000 });
    }
    const seconds = (level: unknown, w = adult) => requirementSeconds(p.requirements.find((r) => r.level === level)!, w);
    expect(seconds(5)).toBe(300);
    expect(seconds(10)).toBe(500);
    expect(seconds(15)).toBe(900);
    expect(seconds('neighbourhood')).toBe(250);
    expect(seconds(5, elderly)).toBe(300);
    expect(seconds(15, elderly)).toBe(900);
    expect(seconds('neighbourhood', elderly)).toBeCloseTo(312.5);

    // met at 15 minutes but not within 5: the 5-minute level fails, the grade stops below it
    const reachedSeconds = 600; // every format 10 minutes away
    const r = evaluateGrade(p, tax, (req) => reachedSeconds <= requirementSeconds(req, adult));
    expect(r.grade).toBeNull();
    const onlyElderly5Missing = evaluateGrade(p, tax, (req) => !(req.format === 'elderly_care' && req.level === 5));
    expect(onlyElderly5Missing.grade?.id).toBe('neighbourhood');
    expect(onlyElderly5Missing.present).not.toContain('elderly_care');
    expect(evaluateGrade(p, tax, () => true).grade?.id).toBe('fifteen-minute');
  });
});

describe('shanghai-2016', () => {
  const p = loadStandardsProfile('shanghai-2016');
  it('encodes elderly within 5 minutes, 0–3 childcare within 10 minutes / 500 m, the 85 % coverage aim', () => {
    expect(reqs(p, 'elderly_care')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 5, withinMinutes: 5, population: 'elderly' }),
        expect.objectContaining({ level: 15, withinMinutes: 15 }),
      ]),
    );
    expect(reqs(p, 'childcare')).toEqual([expect.objectContaining({ withinMinutes: 10, withinMetres: 500, population: 'children' })]);
    expect(requirementSeconds(reqs(p, 'childcare')[0], adult)).toBe(500);
    for (const f of ['community_health', 'fitness_culture']) expect(reqs(p, f)[0]).toMatchObject({ level: 15, withinMinutes: 15 });
    expect(p.targets).toEqual([
      expect.objectContaining({ indicator: 'coverage', value: 0.85, year: 2025, level: 15, formats: ['community_health', 'elderly_care', 'fitness_culture'] }),
    ]);
  });
});

describe('xuhui', () => {
  const p = loadStandardsProfile('xuhui');
  it('puts the 邻里汇 and the 四件套 within 800 m and judges elderly services at the elderly pace', () => {
    for (const f of ['community_centre', 'community_canteen', 'community_health', 'fitness_culture', 'bathing_point']) {
      const [r] = reqs(p, f);
      expect(r, f).toMatchObject({ withinMetres: 800 });
      expect(requirementSeconds(r, adult)).toBe(800);
      expect(requirementWalkingProfile(p, r)).toBe('default');
    }
    const [care] = reqs(p, 'elderly_care');
    expect(care).toMatchObject({ population: 'elderly', walkingProfile: 'elderly' });
    expect(requirementWalkingProfile(p, care)).toBe('elderly');
    expect(p.grades.map((g) => g.id)).toEqual(['linlihui', 'four-piece', 'complete']);
    expect(p.grades[1].rule.requiredFormats).toEqual(['community_canteen', 'community_health', 'fitness_culture', 'bathing_point']);
  });
});

describe('requirementSeconds', () => {
  const r = (x: Partial<Requirement>): Requirement => ({ format: 'pharmacy', population: 'all', weight: 1, ...x });
  it('converts metres at the walking speed and takes the stricter of metres and minutes', () => {
    expect(requirementSeconds(r({ withinMinutes: 8 }), adult)).toBe(480);
    expect(requirementSeconds(r({ withinMetres: 800 }), elderly)).toBe(1000);
    expect(requirementSeconds(r({ withinMinutes: 15, withinMetres: 1000 }), adult)).toBe(900);
    expect(requirementSeconds(r({ withinMinutes: 10, withinMetres: 500 }), adult)).toBe(500);
    expect(requirementSeconds(r({ withinMinutes: 10, withinMetres: 500 }), { speedMps: 0.5 })).toBe(600);
    expect(() => requirementSeconds(r({}), adult)).toThrow(/neither withinMinutes nor withinMetres/);
  });

  it('fills defaultMinutes into requirements that give no threshold', () => {
    const raw = {
      id: 'x',
      name: { 'zh-CN': '测试', en: 'Test' },
      source: 'test',
      walkingProfile: 'default',
      defaultMinutes: 12,
      requirements: [{ format: 'pharmacy' }, { format: 'laundry', withinMetres: 400 }],
      grades: [{ id: 'all', name: { 'zh-CN': '全部', en: 'All' }, rule: { minCompleteness: 1 } }],
    };
    const p = validateStandardsProfile(raw, 'x.json', tax);
    expect(p.requirements[0]).toEqual({ format: 'pharmacy', withinMinutes: 12, population: 'all', weight: 1 });
    expect(p.requirements[1]).toEqual({ format: 'laundry', withinMetres: 400, population: 'all', weight: 1 });
  });
});

describe('validation errors name the file and the field', () => {
  it('unknown format, with a suggestion', () => {
    expect(errorsOf(() => loadStandardsProfile(fixture('unknown-format.json')))).toEqual([
      'unknown-format.json: requirements[3].format: unknown format "canteen" (did you mean "community_canteen"?)',
      'unknown-format.json: requirements[4].format: unknown format "pharmacie" (did you mean "pharmacy"?)',
      'unknown-format.json: requirements[5].format: unknown format "食堂" (did you mean "community_canteen"?)',
      'unknown-format.json: requirements[6].format: unknown format "xyzzy"',
    ]);
  });

  it('bad thresholds', () => {
    expect(errorsOf(() => loadStandardsProfile(fixture('bad-thresholds.json')))).toEqual([
      'bad-thresholds.json: requirements[0].withinMinutes must be a number > 0',
      'bad-thresholds.json: requirements[1].withinMinutes must be a number > 0',
      'bad-thresholds.json: requirements[2].withinMetres must be a number > 0',
      'bad-thresholds.json: requirements[3]: needs withinMinutes or withinMetres (the profile has no defaultMinutes)',
    ]);
  });

  it('unknown walking profile', () => {
    expect(errorsOf(() => loadStandardsProfile(fixture('unknown-walking-profile.json')))).toEqual([
      'unknown-walking-profile.json: walkingProfile: unknown walking profile "elder" (known: default, elderly) (did you mean "elderly"?)',
      'unknown-walking-profile.json: requirements[0].walkingProfile: unknown walking profile "wheelchair" (known: default, elderly)',
    ]);
  });

  it('empty grades', () => {
    expect(errorsOf(() => loadStandardsProfile(fixture('empty-grades.json')))).toEqual([
      'empty-grades.json: grades must be a non-empty array (lowest grade first)',
    ]);
  });

  it('duplicate requirement (same format, level and population); other levels and populations are fine', () => {
    expect(errorsOf(() => loadStandardsProfile(fixture('duplicate-requirement.json')))).toEqual([
      'duplicate-requirement.json: requirements[2]: duplicate requirement: format "elderly_care" at level 5 for population "all" is already required by requirements[0]',
      'duplicate-requirement.json: requirements[5]: duplicate requirement: format "pharmacy" with no level for population "all" is already required by requirements[4]',
    ]);
  });

  it('unknown keys, with suggestions', () => {
    expect(errorsOf(() => loadStandardsProfile(fixture('unknown-keys.json')))).toEqual([
      'unknown-keys.json: unknown field "comment"',
      'unknown-keys.json: requirements[0]: unknown field "withinMinute" (did you mean "withinMinutes"?)',
      'unknown-keys.json: requirements[0]: needs withinMinutes or withinMetres (the profile has no defaultMinutes)',
      'unknown-keys.json: requirements[1]: unknown field "populaton" (did you mean "population"?)',
      'unknown-keys.json: grades[0]: unknown field "colour"',
      'unknown-keys.json: grades[0].rule: unknown field "minCompletenes" (did you mean "minCompleteness"?)',
      'unknown-keys.json: grades[0].rule must set at least one of minBasic, minQuality, requiredFormats, requiredLevels, minCompleteness',
      'unknown-keys.json: targets[0]: unknown field "years" (did you mean "year"?)',
    ]);
  });

  it('bad grade rules', () => {
    expect(errorsOf(() => loadStandardsProfile(fixture('bad-grades.json')))).toEqual([
      'bad-grades.json: grades[0].rule must set at least one of minBasic, minQuality, requiredFormats, requiredLevels, minCompleteness',
      'bad-grades.json: grades[1].rule.minBasic: 3 is more than the 2 basic formats this profile requires',
      'bad-grades.json: grades[1].rule.minQuality must be an integer ≥ 0',
      'bad-grades.json: grades[2].id: duplicate grade id "two" (also grades[1])',
      'bad-grades.json: grades[2].rule.requiredFormats[1]: format "florist" has no requirement in this profile',
      'bad-grades.json: grades[2].rule.requiredFormats[2] must list at least two formats when it is an array (any one of)',
      'bad-grades.json: grades[2].rule.requiredFormats[3][1]: unknown format "pharmacie" (did you mean "pharmacy"?)',
      'bad-grades.json: grades[3].name must be an object with non-empty "zh-CN" and "en" strings',
      'bad-grades.json: grades[3].rule.minCompleteness must be a number in (0, 1]',
      'bad-grades.json: grades[3].rule.requiredLevels[1]: no requirement in this profile is at level 10',
      'bad-grades.json: grades[3].rule.requiredLevels[2] must be one of "neighbourhood", 5, 10, 15',
    ]);
  });

  it('bad targets', () => {
    expect(errorsOf(() => loadStandardsProfile(fixture('bad-targets.json')))).toEqual([
      'bad-targets.json: targets[0].indicator must be one of "coverage", "resident_satisfaction", "chain_outlet_share"',
      'bad-targets.json: targets[1].value must be a number in [0, 1] (a share: 0.85 = 85 %)',
      'bad-targets.json: targets[1].formats[1]: format "childcare" has no requirement in this profile',
      'bad-targets.json: targets[1].level must be one of "neighbourhood", 5, 10, 15',
      'bad-targets.json: targets[1].year must be a year (integer 2000–2100)',
    ]);
  });

  it('every problem of a broken file at once', () => {
    expect(errorsOf(() => loadStandardsProfile(fixture('id-mismatch.json')))).toEqual([
      'id-mismatch.json: version must be 1',
      'id-mismatch.json: id: "xuhui" does not match the file name (expected "id-mismatch")',
      'id-mismatch.json: name must be an object with non-empty "zh-CN" and "en" strings',
      'id-mismatch.json: source must be a non-empty string (the citation)',
      'id-mismatch.json: requirements[0].alternatives[0]: "community_canteen" is the requirement\'s own format',
      'id-mismatch.json: requirements[0].alternatives[2]: "fast_food" is listed twice',
      'id-mismatch.json: requirements[0].alternatives[3]: unknown format "canteen" (did you mean "community_canteen"?)',
      'id-mismatch.json: requirements[0].level must be one of "neighbourhood", 5, 10, 15',
      'id-mismatch.json: requirements[0].population must be one of "all", "elderly", "children"',
      'id-mismatch.json: requirements[0].weight must be a number > 0',
      'id-mismatch.json: notes must be a string or a non-empty array of non-empty strings',
    ]);
  });

  it('invalid JSON, missing fields, not an object', () => {
    const [json] = errorsOf(() => loadStandardsProfile(fixture('invalid-json.json')));
    expect(json).toMatch(/^invalid-json\.json: not valid JSON: /);
    expect(errorsOf(() => validateStandardsProfile({}, 'x.json', tax))).toEqual(
      ['id', 'name', 'source', 'walkingProfile', 'requirements', 'grades'].map((k) => `x.json: missing field "${k}"`),
    );
    expect(errorsOf(() => validateStandardsProfile([], 'x.json', tax))).toEqual(['x.json: must be a JSON object']);
    expect(errorsOf(() => validateStandardsProfile({ requirements: [] }, 'x.json', tax))).toContain('x.json: requirements must be a non-empty array');
  });

  it('unknown profile id, with a suggestion', () => {
    expect(errorsOf(() => loadStandardsProfile('xuhi'))).toEqual([
      'unknown standards profile "xuhi" (known: gb50180-2018, mofcom-2021, shanghai-2016, xuhui) (did you mean "xuhui"?)',
    ]);
    expect(errorsOf(() => loadStandardsProfile('mofcom'))[0]).toMatch(/did you mean "mofcom-2021"\?/);
    expect(errorsOf(() => loadStandardsProfile('/nonexistent/dir/p.json'))[0]).toMatch(/^p\.json: cannot read /);
  });

  it('StandardsError.message holds one problem per line', () => {
    try {
      loadStandardsProfile(fixture('bad-thresholds.json'));
    } catch (e) {
      expect((e as Error).message.split('\n')).toHaveLength(4);
    }
  });
});

describe('suggest', () => {
  it('finds ids by containment, names and edit distance', () => {
    const c = tax.formats.map((f) => ({ id: f.id, names: [f.name['zh-CN'], f.name.en] }));
    expect(suggest('canteen', c)).toBe('community_canteen');
    expect(suggest('Pharmacy', c)).toBe('pharmacy');
    expect(suggest('药店', c)).toBe('pharmacy');
    expect(suggest('laundy', c)).toBe('laundry');
    expect(suggest('zzz', c)).toBeUndefined();
  });
});
