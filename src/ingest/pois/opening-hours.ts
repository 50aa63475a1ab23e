/**
 * Chinese opening-hours text (Amap "营业时间"/opentime, Baidu shop_hours) → OSM
 * `opening_hours` syntax, for the common shapes only:
 *
 *   08:00-22:00                         → 08:00-22:00
 *   24小时营业 / 全天 / 24h               → 24/7
 *   周一至周五 09:00-18:00;周六,周日 10:00-17:00 → Mo-Fr 09:00-18:00; Sa,Su 10:00-17:00
 *   每天 07:00-11:00,17:00-21:00          → 07:00-11:00,17:00-21:00
 *   周一至周日:10:00-次日02:00            → Mo-Su 10:00-02:00
 *
 * Anything else (notes, holidays, "暂停营业") gives null: the caller keeps the original text
 * and does not guess.
 */

const DAY: Readonly<Record<string, number>> = { 一: 0, 二: 1, 三: 2, 四: 3, 五: 4, 六: 5, 日: 6, 天: 6, '1': 0, '2': 1, '3': 2, '4': 3, '5': 4, '6': 5, '7': 6 };
const OSM_DAY = ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'];

const WEEKDAY = String.raw`(?:周|星期|礼拜)([一二三四五六日天1-7])`;
const RANGE_SEP = String.raw`\s*(?:至|到|-|~|—|–)\s*`;
const TIME = String.raw`(\d{1,2})[:.](\d{2})`;
const TIME_RANGE = new RegExp(String.raw`^${TIME}${RANGE_SEP}(次日|第二天|凌晨)?\s*${TIME}`);
const DAY_RANGE = new RegExp(String.raw`^${WEEKDAY}(?:${RANGE_SEP}(?:周|星期|礼拜)?([一二三四五六日天1-7]))?`);
const ALL_DAY = /^(?:24小时营业|24小时|24h|24H|全天营业|全天|00:00-24:00|0:00-24:00)/;
const EVERY_DAY = /^(?:每天|每日|天天|全年|周一至周日|周一到周日|周一-周日)/;
const WORKDAYS = /^(?:工作日)/;
const WEEKEND = /^(?:周末|双休日)/;

const pad = (n: number): string => String(n).padStart(2, '0');

interface Rule {
  /** day mask bits 0..6 = Mo..Su; 0 = every day (no day selector). */
  days: number;
  times: string[];
}

function dayMaskText(mask: number): string {
  const parts: string[] = [];
  let d = 0;
  while (d < 7) {
    if (!(mask & (1 << d))) {
      d++;
      continue;
    }
    let e = d;
    while (e + 1 < 7 && mask & (1 << (e + 1))) e++;
    if (e === d) parts.push(OSM_DAY[d]);
    else if (e === d + 1) parts.push(`${OSM_DAY[d]},${OSM_DAY[e]}`);
    else parts.push(`${OSM_DAY[d]}-${OSM_DAY[e]}`);
    d = e + 1;
  }
  return parts.join(',');
}

/** OSM opening_hours for a Chinese hours text, or null when it is not one of the shapes above. */
export function chineseOpeningHours(text: string): string | null {
  let s = text.normalize('NFKC').trim();
  if (s.length === 0) return null;
  s = s.replace(/[：]/g, ':').replace(/[（）()]/g, ' ').replace(/\s+/g, ' ');
  const rules: Rule[] = [];
  const last = (): Rule | undefined => rules[rules.length - 1];
  const startRule = (days: number): Rule => {
    const r: Rule = { days, times: [] };
    rules.push(r);
    return r;
  };
  let pos = 0;
  const skipSeparators = (): void => {
    const m = /^[\s,，、;；:|/]+/.exec(s.slice(pos));
    if (m) pos += m[0].length;
  };
  skipSeparators();
  while (pos < s.length) {
    let m: RegExpExecArray | null;
    const r = s.slice(pos);
    if ((m = ALL_DAY.exec(r))) {
      const c = last();
      (c === undefined || c.times.length > 0 ? startRule(0) : c).times.push('00:00-24:00');
    } else if ((m = EVERY_DAY.exec(r))) {
      startRule(0);
    } else if ((m = WORKDAYS.exec(r))) {
      startRule(0b0011111);
    } else if ((m = WEEKEND.exec(r))) {
      startRule(0b1100000);
    } else if ((m = DAY_RANGE.exec(r))) {
      const a = DAY[m[1]];
      const b = m[2] !== undefined ? DAY[m[2]] : a;
      let mask = 0;
      if (a <= b) for (let d = a; d <= b; d++) mask |= 1 << d;
      else {
        for (let d = a; d < 7; d++) mask |= 1 << d;
        for (let d = 0; d <= b; d++) mask |= 1 << d;
      }
      // "周六,周日": consecutive day selectors with no times between them add up
      const c = last();
      if (c !== undefined && c.times.length === 0 && c.days !== 0) c.days |= mask;
      else startRule(mask);
    } else if ((m = TIME_RANGE.exec(r))) {
      const h1 = Number(m[1]);
      const m1 = Number(m[2]);
      const h2 = Number(m[4]);
      const m2 = Number(m[5]);
      if (h1 > 24 || h2 > 24 || m1 > 59 || m2 > 59) return null;
      (last() ?? startRule(0)).times.push(`${pad(h1)}:${pad(m1)}-${pad(h2)}:${pad(m2)}`);
    } else {
      return null;
    }
    pos += m[0].length;
    skipSeparators();
  }
  if (rules.length === 0 || rules.some((r) => r.times.length === 0)) return null;
  const out = rules.map((r) => {
    const allDay = r.times.length === 1 && r.times[0] === '00:00-24:00';
    if (r.days === 0 || r.days === 0b1111111) return allDay ? (rules.length === 1 ? '24/7' : 'Mo-Su 00:00-24:00') : r.times.join(',');
    return `${dayMaskText(r.days)} ${r.times.join(',')}`;
  });
  return out.join('; ');
}
