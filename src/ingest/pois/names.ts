/**
 * POI name comparison for de-duplication (an Amap/Baidu POI against an OSM facility).
 *
 * normalisePoiName: NFKC (full-width → half-width), lower case, bracketed notes removed
 * ("全家便利店（徐汇店）" → "全家便利店"; the bracket usually names the branch), then every
 * space, punctuation mark and symbol removed.
 *
 * nameCore: the normalised name without trailing generic words (便利店, 超市, 大药房, 店 …),
 * which say what a shop is rather than which one: "全家便利店" and "好德便利店" share half
 * their bigrams but are different chains, so only "全家" and "好德" are compared.
 *
 * nameSimilarity: on the cores, 1 when they are equal or one contains the other (the shorter
 * at least 2 characters), else the Dice coefficient of their character bigrams. When both
 * contain at least two Chinese characters, the Chinese-only parts are compared too
 * ("FamilyMart 全家" vs "全家便利店") and the higher score wins.
 */

const BRACKETED = /[(\[【〔〖「『<《][^)\]】〕〗」』>》]*[)\]】〕〗」』>》]/g;
const NOT_WORD = /[\s\p{P}\p{S}]/gu;
const HAN = /\p{Script=Han}/gu;

export function normalisePoiName(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(BRACKETED, '').replace(NOT_WORD, '');
}

/** Generic trailing words, longest first (matched after normalisation). */
const GENERIC_SUFFIXES: readonly string[] = [
  '社区卫生服务中心', '社区卫生服务站', '卫生服务中心', '卫生服务站', '有限责任公司', '超级市场', '美容美发',
  '有限公司', '便利超市', '生活超市', '生鲜超市', '便利店', '大药房', '药店', '药房', '超市', '连锁', '门诊部',
  '诊所', '餐厅', '饭店', '酒家', '早餐店', '早餐', '理发店', '美发店', '美发', '干洗店', '洗衣店', '菜市场',
  '市场', '幼儿园', '托育中心', '旗舰店', '专卖店', '分店', '门店', '公司', '店',
].slice().sort((a, b) => b.length - a.length);

const GENERIC: ReadonlySet<string> = new Set(GENERIC_SUFFIXES);

/** The normalised name without trailing generic words (never emptied: see the module comment). */
export function nameCore(normalised: string): string {
  let s = normalised;
  for (;;) {
    if (GENERIC.has(s)) return s; // "便利店" alone stays "便利店"
    const suffix = GENERIC_SUFFIXES.find((g) => s.endsWith(g) && s.length > g.length);
    if (suffix === undefined) return s;
    s = s.slice(0, s.length - suffix.length);
  }
}

function hanOnly(s: string): string {
  return (s.match(HAN) ?? []).join('');
}

function bigrams(s: string): Map<string, number> {
  const m = new Map<string, number>();
  const cs = Array.from(s);
  for (let i = 0; i + 1 < cs.length; i++) {
    const b = cs[i] + cs[i + 1];
    m.set(b, (m.get(b) ?? 0) + 1);
  }
  return m;
}

/** Dice coefficient of character bigrams (multiset), 0..1. */
export function bigramDice(a: string, b: string): number {
  if (a === b) return a.length > 0 ? 1 : 0;
  const ba = bigrams(a);
  const bb = bigrams(b);
  let na = 0;
  let nb = 0;
  for (const v of ba.values()) na += v;
  for (const v of bb.values()) nb += v;
  if (na + nb === 0) return 0;
  let common = 0;
  for (const [k, v] of ba) common += Math.min(v, bb.get(k) ?? 0);
  return (2 * common) / (na + nb);
}

function scoreNormalised(a: string, b: string): number {
  if (a.length === 0 || b.length === 0) return 0;
  if (a === b) return 1;
  const [short, long] = Array.from(a).length <= Array.from(b).length ? [a, b] : [b, a];
  if (Array.from(short).length >= 2 && long.includes(short)) return 1;
  return bigramDice(a, b);
}

/** Similarity of two raw names, 0..1 (see the module comment). */
export function nameSimilarity(a: string, b: string): number {
  const na = nameCore(normalisePoiName(a));
  const nb = nameCore(normalisePoiName(b));
  let best = scoreNormalised(na, nb);
  if (best < 1) {
    const ha = hanOnly(na);
    const hb = hanOnly(nb);
    if (Array.from(ha).length >= 2 && Array.from(hb).length >= 2 && (ha !== na || hb !== nb)) {
      best = Math.max(best, scoreNormalised(ha, hb));
    }
  }
  return best;
}
