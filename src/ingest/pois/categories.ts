/**
 * Category names → Amap typecodes, for exports that carry category text but no typecode:
 * Baidu's "tag" ("美食;中餐厅", 一级/二级行业分类) and Amap sheets that kept only
 * 大类/中类/小类 or "类型". The derived typecode then goes through the taxonomy's Amap rules
 * like a real one, so the taxonomy stays the one place that decides formats.
 *
 * Amap names follow the Amap POI classification (大类 / 中类 / 小类); the Baidu names are
 * Baidu's industry categories, each mapped to the Amap code of the same kind of place. Both
 * lists are from memory of the published tables and cover the formats of the taxonomy, not
 * every category: an unknown category gives no code, and the row is classified by its name
 * (and the category words) alone.
 */

/** normalised category name → Amap typecode (6 digits; 2/4-digit levels padded with 0). */
const CATEGORY_TYPECODES: ReadonlyMap<string, string> = new Map([
  // 大类 / Baidu 一级行业
  ['餐饮服务', '050000'], ['美食', '050000'], ['餐饮', '050000'],
  ['购物服务', '060000'], ['购物', '060000'],
  ['生活服务', '070000'],
  ['体育休闲服务', '080000'], ['运动健身', '080000'],
  ['医疗保健服务', '090000'], ['医疗', '090000'],
  ['商务住宅', '120000'], ['房地产', '120000'],
  ['科教文化服务', '140000'], ['教育培训', '140000'],
  // 餐饮
  ['中餐厅', '050100'], ['外国餐厅', '050200'], ['快餐厅', '050300'], ['小吃快餐店', '050300'],
  ['咖啡厅', '050500'], ['糕饼店', '050800'], ['蛋糕甜品店', '050800'], ['面包店', '050800'],
  // 购物
  ['便民商店/便利店', '060200'], ['便民商店', '060200'], ['便利店', '060200'],
  ['超级市场', '060400'], ['超市', '060400'],
  ['综合市场', '060700'], ['农贸市场', '060700'], ['菜市场', '060700'], ['市场', '060700'],
  // 生活服务
  ['邮局', '070400'], ['物流速递', '070500'], ['物流公司', '070500'], ['快递', '070500'],
  ['美容美发店', '071100'], ['美容', '071100'], ['美发', '071100'], ['美甲', '071100'], ['丽人', '071100'],
  ['维修站点', '071200'], ['维修点', '071200'],
  ['摄影冲印店', '071300'], ['图文快印店', '071300'], ['照相馆', '071300'],
  ['洗衣店', '071500'], ['洗染店', '071500'], ['干洗店', '071500'],
  // 体育休闲
  ['健身中心', '080111'], ['健身房', '080111'],
  // 医疗
  ['卫生院', '090102'], ['诊所', '090300'],
  ['医药保健销售店', '090600'], ['药房', '090601'], ['药店', '090601'],
  ['动物医疗场所', '090700'], ['宠物医院', '090700'],
  // 住宅
  ['住宅区', '120300'], ['住宅小区', '120302'], ['社区中心', '120304'],
  // 科教文化
  ['图书馆', '140500'], ['文化宫', '140800'], ['幼儿园', '141204'], ['培训机构', '141400'],
]);

const normCategory = (s: string): string => s.normalize('NFKC').trim().replace(/\s+/g, '');

/**
 * The Amap typecode of the most specific known category among `parts` (given from general to
 * specific: 大类, 中类, 小类 or the ';'-separated parts of a type), or null.
 */
export function typecodeForCategories(parts: readonly string[]): string | null {
  for (let i = parts.length - 1; i >= 0; i--) {
    const code = CATEGORY_TYPECODES.get(normCategory(parts[i]));
    if (code !== undefined) return code;
  }
  return null;
}

/** Split a type/tag text ("餐饮服务;中餐厅;中餐厅", "美食;中餐厅", "购物|便利店") into parts. */
export function splitCategoryText(text: string): string[] {
  return text
    .split(/[;；|>＞]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
