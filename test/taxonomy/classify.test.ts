import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Tags } from '../../src/ingest/osm-types.js';
import { compileClassifier } from '../../src/taxonomy/classify.js';
import { loadTaxonomy, parseTaxonomy } from '../../src/taxonomy/formats.js';

const taxonomy = loadTaxonomy();
const classify = compileClassifier(taxonomy);

/** Hand-made tag sets per format: `yes` must include the format, `no` must not. */
const CASES: Record<string, { yes: Tags[]; no: Tags[] }> = {
  convenience_store: {
    yes: [{ shop: 'convenience' }, { shop: 'convenience', name: '全家 FamilyMart', brand: '全家' }, { shop: 'general', name: 'Dorfladen' }],
    no: [{ shop: 'supermarket' }, { shop: 'kiosk', name: 'Trafik' }, { amenity: 'convenience' }],
  },
  supermarket: {
    yes: [{ shop: 'supermarket', name: 'Billa' }, { shop: 'supermarket', name: '联华超市' }],
    no: [{ shop: 'convenience' }, { shop: 'chemist', name: '屈臣氏 Watsons' }, { shop: 'department_store' }],
  },
  vegetable_market: {
    yes: [{ amenity: 'marketplace' }, { shop: 'yes', name: '天平菜市场' }, { building: 'retail', name: '徐家汇农贸市场' }, { amenity: 'marketplace', name: 'Bauernmarkt Krems' }],
    no: [{ shop: 'greengrocer' }, { highway: 'residential', name: '菜市场路' }, { landuse: 'retail' }],
  },
  fresh_food_store: {
    yes: [{ shop: 'greengrocer' }, { shop: 'butcher', name: 'Fleischerei Amon' }, { shop: 'seafood' }, { shop: 'supermarket', name: '盒马生鲜' }, { shop: 'yes', name: '老王蔬菜店' }],
    no: [{ shop: 'supermarket', name: 'Billa' }, { shop: 'bakery' }, { amenity: 'restaurant', name: '生鲜火锅' }],
  },
  breakfast: {
    yes: [
      { amenity: 'fast_food', name: '巴比馒头包子铺' },
      { amenity: 'fast_food', 'name:zh': '永和豆浆' },
      { amenity: 'restaurant', name: '三合一早餐' },
      { amenity: 'cafe', cuisine: 'coffee_shop;breakfast' },
      { amenity: 'cafe', name: 'Frühstückscafé Sonne' },
      { amenity: 'cafe', name: 'FRÜHSTÜCK & more' },
      { amenity: 'fast_food', 'name:en': 'Big Breakfast' },
      { shop: 'bakery', name: 'Bäckerei Weber' },
      { amenity: 'restaurant', name: '皮蛋瘦肉粥' },
      { amenity: 'fast_food', name: '山东煎饼果子' },
    ],
    no: [
      { amenity: 'restaurant', cuisine: 'chinese', name: 'Shanghai' },
      { amenity: 'cafe', name: 'Café Star Light' },
      { shop: 'pastry', name: 'Konditorei' },
      { amenity: 'bar', name: 'Breakfast Club' },
      { amenity: 'cafe', cuisine: 'cake' },
    ],
  },
  fast_food: {
    yes: [{ amenity: 'fast_food', name: 'Kebab' }, { amenity: 'food_court' }],
    no: [{ amenity: 'restaurant' }, { amenity: 'cafe' }],
  },
  laundry: {
    yes: [{ shop: 'laundry', name: 'Regina' }, { shop: 'dry_cleaning' }, { shop: 'yes', name: '福奈特洗衣' }, { shop: 'yes', name: 'Putzerei Schmid' }],
    no: [{ amenity: 'washing_machine' }, { shop: 'clothes', name: 'Laundromat Fashion' }, { office: 'company', name: '洗衣机厂' }],
  },
  hair_beauty: {
    yes: [{ shop: 'hairdresser', name: 'Perfect Hair' }, { shop: 'beauty' }, { shop: 'barber' }],
    no: [{ shop: 'cosmetics' }, { shop: 'chemist', name: 'dm' }],
  },
  photo_print: {
    yes: [{ shop: 'copyshop', name: 'digital print center' }, { shop: 'photo' }, { craft: 'photographer' }, { shop: 'yes', name: '图文快印' }, { office: 'company', name: '复印打印服务' }],
    no: [{ shop: 'electronics', name: 'Hartlauer' }, { amenity: 'school', name: '摄影学院' }],
  },
  housekeeping: {
    yes: [{ office: 'company', name: '阿姨帮家政服务' }, { shop: 'yes', name: '好帮手家政' }, { office: 'company', 'name:en': 'Happy Housekeeping' }, { office: 'yes', name: 'Haushaltshilfe Krems' }],
    no: [{ office: 'company', name: 'Kremser Bank' }, { building: 'yes', name: '家政大楼' }, { highway: 'residential', name: '家政路' }],
  },
  repair: {
    yes: [
      { craft: 'shoemaker' },
      { craft: 'key_cutter' },
      { shop: 'locksmith' },
      { craft: 'electronics_repair' },
      { shop: 'yes', name: '家电维修' },
      { shop: 'shoes', name: 'Schuh-Service' },
      { shop: 'yes', name: 'Schlüsseldienst Huber' },
    ],
    no: [{ shop: 'car_repair', name: 'A.T.U.' }, { shop: 'car_repair', name: '汽车维修' }, { shop: 'yes', name: '汽修厂 维修' }, { shop: 'shoes', name: 'Deichmann' }],
  },
  pharmacy: {
    yes: [{ amenity: 'pharmacy', name: 'Mohren-Apotheke' }, { shop: 'pharmacy' }, { healthcare: 'pharmacy' }, { amenity: 'pharmacy', access: 'private' }],
    no: [{ shop: 'chemist', name: 'dm' }, { shop: 'chemist', name: 'Bipa' }, { amenity: 'hospital' }],
  },
  post_express: {
    yes: [
      { amenity: 'post_office', name: 'Postamt 3500 Krems' },
      { amenity: 'parcel_locker' },
      { amenity: 'vending_machine', vending: 'parcel_pickup' },
      { shop: 'newsagent', post_office: 'post_partner' },
      { shop: 'convenience', name: '菜鸟驿站(天平路店)' },
    ],
    no: [{ amenity: 'post_box' }, { amenity: 'vending_machine', vending: 'parking_tickets' }, { amenity: 'vending_machine' }],
  },
  recycling: {
    yes: [{ amenity: 'recycling' }, { amenity: 'recycling', 'recycling:glass': 'yes' }, { shop: 'yes', name: '再生资源回收站' }],
    no: [{ amenity: 'waste_basket' }, { amenity: 'waste_disposal' }],
  },
  daily_goods: {
    yes: [{ shop: 'hardware', name: 'Kollarits' }, { shop: 'chemist', name: 'dm' }, { shop: 'variety_store' }, { shop: 'yes', name: '五金日杂店' }],
    no: [{ shop: 'doityourself', name: 'Hornbach' }, { shop: 'furniture' }],
  },
  community_health: {
    yes: [{ amenity: 'clinic' }, { amenity: 'doctors', name: 'Dr. Pozniak' }, { healthcare: 'centre' }, { healthcare: 'doctor' }, { amenity: 'hospital', name: '天平街道社区卫生服务中心' }],
    no: [{ amenity: 'hospital', name: 'Landesklinikum Krems' }, { amenity: 'dentist' }, { healthcare: 'dentist' }],
  },
  community_canteen: {
    yes: [
      { amenity: 'social_facility', name: '天平街道长者食堂' },
      { amenity: 'food_court', name: '社区食堂' },
      { amenity: 'canteen', name: '邻里助餐点' },
      { amenity: 'restaurant', name: '康健街道社区食堂' },
      { amenity: 'fast_food', 'name:zh': '老年助餐服务点' },
    ],
    no: [{ amenity: 'restaurant', name: '深夜食堂' }, { amenity: 'canteen' }, { amenity: 'canteen', name: 'Betriebskantine' }, { amenity: 'social_facility' }],
  },
  community_centre: {
    yes: [
      { amenity: 'community_centre' },
      { amenity: 'social_centre' },
      { amenity: 'yes', name: '天平邻里汇' },
      { office: 'government', name: '湖南路街道党群服务中心' },
      { building: 'yes', name: '徐家汇街道社区服务中心' },
      { office: 'government', name: '永嘉居委会' },
    ],
    no: [{ amenity: 'townhall', name: 'Magistrat Krems' }, { amenity: 'clinic', name: '社区卫生服务中心' }],
  },
  bathing_point: {
    yes: [{ amenity: 'public_bath' }, { amenity: 'social_facility', name: '长者助浴点' }, { shop: 'yes', name: '大众浴室' }],
    no: [{ amenity: 'shower' }, { leisure: 'swimming_pool' }, { amenity: 'toilets' }],
  },
  elderly_care: {
    yes: [
      { amenity: 'social_facility', 'social_facility:for': 'senior' },
      { amenity: 'social_facility', social_facility: 'day_care', 'social_facility:for': 'senior;disabled' },
      { amenity: 'nursing_home' },
      { amenity: 'social_facility', social_facility: 'nursing_home' },
      { amenity: 'social_facility', name: '天平社区综合为老服务中心 日间照料中心' },
      { building: 'yes', name: '长寿养老院' },
      { amenity: 'social_facility', name: 'Pensionistenheim Krems' },
    ],
    no: [
      { amenity: 'social_facility', 'social_facility:for': 'child' },
      { office: 'government', amenity: 'townhall', name: '社会养老保险中心' },
      { social_facility: 'shelter' },
    ],
  },
  childcare: {
    yes: [{ amenity: 'kindergarten' }, { amenity: 'childcare' }, { amenity: 'school', name: 'Volksschule und Kindergarten Stein' }, { building: 'yes', name: '宝宝托育中心' }, { amenity: 'social_facility', name: 'Krabbelstube Mitterau' }],
    no: [{ amenity: 'school', name: 'BORG Krems' }, { amenity: 'bank', name: '资产托管部' }, { amenity: 'bar', name: 'Short Stop' }],
  },
  fitness_culture: {
    yes: [
      { leisure: 'sports_centre', name: 'Active City Fitnessclub' },
      { leisure: 'fitness_centre' },
      { leisure: 'pitch', sport: 'soccer' },
      { leisure: 'pitch', access: 'private' },
      { leisure: 'fitness_station' },
      { amenity: 'library' },
      { amenity: 'arts_centre' },
      { amenity: 'community_centre', community_centre: 'community_hall' },
      { amenity: 'yes', name: '天平街道文化活动中心' },
    ],
    no: [{ leisure: 'swimming_pool', name: 'Schulbad Krems' }, { leisure: 'park' }, { leisure: 'playground' }, { amenity: 'community_centre' }],
  },
  restaurant: {
    yes: [{ amenity: 'restaurant', name: 'Gasthof Klinglhuber' }, { amenity: 'restaurant', cuisine: 'chinese' }],
    no: [{ amenity: 'fast_food' }, { amenity: 'pub' }, { amenity: 'cafe' }],
  },
  cafe_bakery: {
    yes: [{ amenity: 'cafe', name: 'Café Fünf Sinne' }, { shop: 'bakery', name: 'Anker' }, { shop: 'pastry' }, { shop: 'coffee' }],
    no: [{ shop: 'confectionery' }, { amenity: 'bar' }, { amenity: 'ice_cream' }],
  },
  florist: {
    yes: [{ shop: 'florist', name: 'Holland Blumen' }, { shop: 'yes', name: '花艺工作室' }, { shop: 'gift', name: 'Blumen Pirker' }],
    no: [{ shop: 'garden_centre', name: 'Bellaflora' }, { amenity: 'restaurant', name: 'Blumenstube' }],
  },
  bookstore: {
    yes: [{ shop: 'books', name: 'A & M' }, { shop: 'yes', name: '钟书阁书店' }, { shop: 'stationery', name: 'Buchhandlung Schmidt' }],
    no: [{ shop: 'stationery', name: 'Pagro' }, { amenity: 'library' }],
  },
  education_training: {
    yes: [
      { amenity: 'music_school' },
      { amenity: 'language_school' },
      { office: 'educational_institution' },
      { office: 'company', name: '新东方英语培训' },
      { building: 'yes', name: 'Musikschule Krems' },
      { amenity: 'yes', name: '早教中心' },
    ],
    no: [{ amenity: 'school', name: 'BG Rechte Kremszeile' }, { amenity: 'driving_school' }, { amenity: 'university' }],
  },
  pet_service: {
    yes: [{ shop: 'pet', name: 'Fressnapf' }, { amenity: 'veterinary' }, { shop: 'pet_grooming' }, { shop: 'yes', name: '宠物美容' }, { amenity: 'animal_boarding' }],
    no: [{ amenity: 'animal_shelter' }, { shop: 'agrarian' }],
  },
  entertainment: {
    yes: [{ amenity: 'cinema', name: 'Cinemaplexx Krems' }, { amenity: 'theatre' }, { amenity: 'karaoke_box' }, { leisure: 'miniature_golf' }, { amenity: 'pub', name: 'X-Bowl', sport: 'bowling' }],
    no: [{ amenity: 'bar' }, { amenity: 'nightclub' }, { amenity: 'gambling' }, { amenity: 'pub' }],
  },
};

describe('classify: hand-made cases for every format', () => {
  it('covers every format of the taxonomy', () => {
    expect(Object.keys(CASES).sort()).toEqual([...classify.formatIds].sort());
  });

  for (const [id, { yes, no }] of Object.entries(CASES)) {
    describe(id, () => {
      it.each(yes.map((t) => [JSON.stringify(t), t] as const))('matches %s', (_, tags) => {
        expect(classify(tags)).toContain(id);
        expect(classify.hasAnyFormat(tags)).toBe(true);
      });
      it.each(no.map((t) => [JSON.stringify(t), t] as const))('does not match %s', (_, tags) => {
        expect(classify(tags)).not.toContain(id);
      });
    });
  }
});

describe('classify: behaviour', () => {
  it('returns several formats, in taxonomy order, without duplicates', () => {
    // a Bäckerei is a breakfast point and a bakery; the name would match breakfast twice
    expect(classify({ shop: 'bakery', name: 'Frühstück Bäckerei' })).toEqual(['breakfast', 'cafe_bakery']);
    const tags: Tags = { amenity: 'community_centre', community_centre: 'community_hall', name: '邻里汇 社区食堂' };
    expect(classify(tags)).toEqual(['community_canteen', 'community_centre', 'fitness_culture']);
    const order = classify.formatIds;
    const got = classify({ amenity: 'cafe', shop: 'bakery', cuisine: 'breakfast', name: '早餐 鲜花' });
    expect([...got].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(got);
    expect(new Set(got).size).toBe(got.length);
  });

  it('returns [] for objects no rule wants, and hasAnyFormat agrees', () => {
    const nothing: Tags[] = [{}, { building: 'yes' }, { highway: 'footway' }, { amenity: 'parking' }, { shop: 'car' }, { name: '便利店' }];
    for (const tags of nothing) {
      expect(classify(tags)).toEqual([]);
      expect(classify.hasAnyFormat(tags)).toBe(false);
    }
  });

  it('ignores access: a private pharmacy or kindergarten is still one (filtering is not classification)', () => {
    for (const access of ['private', 'no', 'customers', 'permissive']) {
      expect(classify({ amenity: 'pharmacy', access })).toEqual(['pharmacy']);
      expect(classify({ amenity: 'kindergarten', access })).toEqual(['childcare']);
    }
  });

  it('tries each part of a ;-separated value', () => {
    expect(classify({ shop: 'convenience;bakery' })).toEqual(['convenience_store', 'breakfast', 'cafe_bakery']);
    expect(classify({ amenity: 'social_facility', 'social_facility:for': 'disabled;senior' })).toEqual(['elderly_care']);
    expect(classify({ amenity: 'restaurant', cuisine: 'chinese; Breakfast' })).toEqual(['breakfast', 'restaurant']);
  });

  it('matches names case-insensitively in name, name:zh, name:en and brand', () => {
    expect(classify({ amenity: 'cafe', name: 'frühstück' })).toContain('breakfast');
    expect(classify({ amenity: 'cafe', name: 'Sonne', 'name:en': 'BREAKFAST corner' })).toContain('breakfast');
    expect(classify({ amenity: 'fast_food', name: 'Yonghe King', 'name:zh': '永和豆浆' })).toContain('breakfast');
    expect(classify({ amenity: 'fast_food', name: 'Shop 12', brand: '巴比馒头 包子' })).toContain('breakfast');
    expect(classify({ amenity: 'fast_food', name: 'Shop 12', operator: '包子' })).not.toContain('breakfast');
  });

  it('notNameAny vetoes a rule: 养老保险 is not elderly care', () => {
    expect(classify({ amenity: 'social_facility', name: '养老服务中心' })).toContain('elderly_care');
    expect(classify({ amenity: 'social_facility', name: '养老保险服务中心' })).not.toContain('elderly_care');
  });

  it('hasAnyFormat(tags) === classify(tags).length > 0 on random tags', () => {
    const keys = ['amenity', 'shop', 'leisure', 'craft', 'office', 'healthcare', 'building', 'social_facility', 'social_facility:for', 'cuisine', 'sport', 'vending', 'community_centre', 'post_office', 'name', 'brand', 'access'];
    const values = ['pharmacy', 'bakery', 'senior', 'breakfast', 'yes', 'vending_machine', 'parcel_pickup', 'social_facility', 'community_centre', 'community_hall', 'pitch', '早餐', '社区食堂', '养老保险', 'convenience;bakery', 'private', 'bowling', 'post_partner', 'restaurant', 'Bäckerei'];
    const tagsArb = fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values), { maxKeys: 6 });
    fc.assert(
      fc.property(tagsArb, (tags) => {
        const ids = classify(tags);
        expect(classify.hasAnyFormat(tags)).toBe(ids.length > 0);
        expect(classify(tags)).toEqual(ids); // no state left behind between calls
      }),
      { numRuns: 3000 },
    );
  });

  it('is fast: 100k Krems objects in well under two seconds', () => {
    const file = fileURLToPath(new URL('../fixtures/taxonomy/krems-tagged-objects.json', import.meta.url));
    const objects = JSON.parse(readFileSync(file, 'utf8')) as { tags: Tags }[];
    const rounds = Math.ceil(100_000 / objects.length);
    let n = 0;
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) for (const o of objects) n += classify(o.tags).length;
    const ms = performance.now() - t0;
    expect(n).toBeGreaterThan(0);
    expect(ms).toBeLessThan(2000); // generous for a shared CI machine; about 60 ms locally
  });

  it('compiles any valid taxonomy, including anchors on "*" keys', () => {
    const t = parseTaxonomy({
      version: 1,
      formats: [
        { id: 'named_shop', name: { 'zh-CN': '店', en: 'Shop' }, class: 'basic', level: 5, mofcomMinutes: 5, match: [{ tags: { shop: '*', opening_hours: '*' } }] },
        { id: 'vending', name: { 'zh-CN': '售货机', en: 'Vending' }, class: 'basic', level: 5, mofcomMinutes: 5, match: [{ tags: { vending: ['drinks'], amenity: ['vending_machine'] } }] },
      ],
    });
    const c = compileClassifier(t);
    expect(c({ shop: 'x', opening_hours: '24/7' })).toEqual(['named_shop']);
    expect(c({ shop: 'x' })).toEqual([]);
    expect(c({ amenity: 'vending_machine', vending: 'drinks' })).toEqual(['vending']);
    expect(c({ amenity: 'vending_machine', vending: 'food' })).toEqual([]);
  });
});

describe('classifyAmap', () => {
  const amap = classify.classifyAmap;

  it('uses typecode prefixes with exclusions (屈臣氏 is not a supermarket)', () => {
    expect(amap('060400', '联华超市')).toEqual(['supermarket']);
    expect(amap('060401', '家乐福')).toEqual(['supermarket']);
    expect(amap('060411', '屈臣氏(徐家汇店)')).toEqual([]);
    expect(amap('060200', '全家')).toEqual(['convenience_store']);
    expect(amap('090601', '益丰大药房')).toEqual(['pharmacy']);
  });

  it('reads several codes separated by |', () => {
    expect(amap('060411|060200', '屈臣氏 便利')).toEqual(['convenience_store']);
    expect(amap('050000|060200', '早餐便利')).toEqual(['convenience_store', 'breakfast']);
  });

  it('takes exact 6-digit codes literally', () => {
    expect(amap('060703', '天平菜市场')).toEqual(['vegetable_market']);
    expect(amap('060701', '小商品市场')).toEqual([]);
    expect(amap('070400', '徐家汇邮政所')).toEqual(['post_express']);
    expect(amap('070500', '顺丰速运')).toEqual(['post_express']);
  });

  it('combines codes with name keywords', () => {
    expect(amap('050100', '巴比馒头')).toEqual(['restaurant']);
    expect(amap('050100', '包子铺早餐')).toEqual(['breakfast', 'restaurant']);
    expect(amap('060705', '生鲜水产市场')).toEqual(['vegetable_market', 'fresh_food_store']);
    expect(amap('070000', '好阿姨家政')).toEqual(['housekeeping']);
    expect(amap('990000', '天平街道长者食堂')).toEqual(['community_canteen']);
    expect(amap('120304', '天平邻里汇')).toEqual(['community_centre']);
    expect(amap('141204', '徐汇区第一幼儿园')).toEqual(['childcare']);
    expect(amap('110000', '社会养老保险中心')).toEqual([]);
  });

  it('returns [] for unknown codes and empty input', () => {
    expect(amap('', '')).toEqual([]);
    expect(amap('150000', '徐家汇站')).toEqual([]);
  });
});
