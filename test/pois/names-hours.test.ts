/** POI name similarity (de-duplication), Chinese opening hours → OSM, category names → typecodes. */
import { createRequire } from 'node:module';
import type OpeningHours from 'opening_hours';
import { describe, expect, test } from 'vitest';
import { splitCategoryText, typecodeForCategories } from '../../src/ingest/pois/categories.js';
import { bigramDice, nameCore, nameSimilarity, normalisePoiName } from '../../src/ingest/pois/names.js';
import { chineseOpeningHours } from '../../src/ingest/pois/opening-hours.js';

describe('names', () => {
  test('cores drop generic trailing words, but never the whole name', () => {
    expect(nameCore('全家便利店')).toBe('全家');
    expect(nameCore('老百姓大药房')).toBe('老百姓');
    expect(nameCore('全家便利店徐汇店')).toBe('全家便利店徐汇');
    expect(nameCore('便利店')).toBe('便利店');
    expect(nameCore('天平社区卫生服务中心')).toBe('天平');
  });

  test('normalisation drops branch notes, spaces, punctuation; folds width and case', () => {
    expect(normalisePoiName('全家便利店（徐汇店）')).toBe('全家便利店');
    expect(normalisePoiName('全家便利店(徐汇店)')).toBe('全家便利店');
    expect(normalisePoiName('Ｌａｗｓｏｎ 罗森·天平路')).toBe('lawson罗森天平路');
    expect(normalisePoiName('【旗舰店】老盛昌 汤包')).toBe('老盛昌汤包');
  });

  test.each([
    ['全家便利店(徐汇店)', '全家便利店', 1],
    ['全家便利店', '全家', 1],
    ['全家便利店徐汇店', '全家便利店', 1], // containment of cores
    ['上海市徐汇区天平路社区卫生服务中心', '天平路社区卫生服务中心', 1],
    ['联华超市(天平店)', '联华', 1],
    ['老百姓大药房', '老百姓大药房', 1],
    ['FamilyMart 全家', '全家便利店', 1], // Chinese parts: 全家 ⊂ 全家便利店
  ])('%s ~ %s = %f', (a, b, s) => {
    expect(nameSimilarity(a, b)).toBe(s);
  });

  test('different shops score low', () => {
    expect(nameSimilarity('好德便利店', '罗森')).toBe(0);
    // generic words do not count: 全家便利店 / 好德便利店 share half their bigrams
    expect(bigramDice('全家便利店', '好德便利店')).toBe(0.5);
    expect(nameSimilarity('全家便利店', '好德便利店')).toBe(0);
    expect(nameSimilarity('联华超市', '华联超市')).toBe(0);
    expect(nameSimilarity('老百姓大药房', '益丰大药房')).toBe(0);
    expect(nameSimilarity('', '全家')).toBe(0);
    expect(nameSimilarity('便', '便利店')).toBeLessThan(0.5); // one character never counts as containment
  });

  test('bigram Dice', () => {
    expect(bigramDice('abcd', 'abcd')).toBe(1);
    expect(bigramDice('abcd', 'abxy')).toBeCloseTo((2 * 1) / 6);
    expect(bigramDice('a', 'b')).toBe(0);
  });
});

describe('opening hours', () => {
  const require = createRequire(import.meta.url);
  const OH = require('opening_hours') as typeof OpeningHours;

  test.each([
    ['08:00-22:00', '08:00-22:00'],
    ['8:00-22:00', '08:00-22:00'],
    ['08：00～22：00', '08:00-22:00'],
    ['24小时营业', '24/7'],
    ['全天', '24/7'],
    ['周一至周日 10:00-22:00', '10:00-22:00'],
    ['每天 07:00-11:00,17:00-21:00', '07:00-11:00,17:00-21:00'],
    ['周一至周五 09:00-18:00;周六,周日 10:00-17:00', 'Mo-Fr 09:00-18:00; Sa,Su 10:00-17:00'],
    ['周一至周五:08:30-21:00；周六至周日:09:00-20:00', 'Mo-Fr 08:30-21:00; Sa,Su 09:00-20:00'],
    ['星期一到星期三 09:00-17:00', 'Mo-We 09:00-17:00'],
    ['周二-周日 10:00-次日02:00', 'Tu-Su 10:00-02:00'],
    ['工作日 07:00-19:00 周末 08:00-18:00', 'Mo-Fr 07:00-19:00; Sa,Su 08:00-18:00'],
    ['周六 周日 24小时', 'Sa,Su 00:00-24:00'],
    ['周五至周一 18:00-23:00', 'Mo,Fr-Su 18:00-23:00'],
  ])('%s → %s (and the opening_hours library accepts it)', (text, osm) => {
    expect(chineseOpeningHours(text)).toBe(osm);
    expect(() => new OH(osm, null)).not.toThrow();
  });

  test.each(['', '营业中请来电', '周一至周五', '节假日休息', '25:00-26:00', '10:00-22:00 节假日另行通知'])('%s → null', (text) => {
    expect(chineseOpeningHours(text)).toBeNull();
  });
});

describe('categories', () => {
  test('most specific known part wins', () => {
    expect(typecodeForCategories(splitCategoryText('购物服务;便民商店/便利店;便利店'))).toBe('060200');
    expect(typecodeForCategories(splitCategoryText('美食;中餐厅'))).toBe('050100');
    expect(typecodeForCategories(splitCategoryText('医疗;药店'))).toBe('090601');
    expect(typecodeForCategories(splitCategoryText('购物;家居建材'))).toBe('060000');
    expect(typecodeForCategories(['购物服务', '超级市场', '超市'])).toBe('060400');
    expect(typecodeForCategories(['汽车服务'])).toBeNull();
    expect(splitCategoryText(' 餐饮服务 ; 中餐厅|快餐厅 ')).toEqual(['餐饮服务', '中餐厅', '快餐厅']);
  });
});
