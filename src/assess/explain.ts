/**
 * Why one home meets or misses each requirement: the nearest facility that counts, how far it is
 * and the threshold, in data (explainResidence) and as one line per requirement (explainText),
 * e.g. "药店：最近的“Adler Apotheke”步行 9.2 分钟，超过 8 分钟".
 */
import type { Region } from '../region/region.js';
import { loadTaxonomy, type FormatLevel, type Taxonomy } from '../taxonomy/formats.js';
import type { AssessmentResult, RequirementExplanation } from './result.js';

export type Lang = 'zh-CN' | 'en';

/** One explanation per requirement of the profile (profile order). */
export function explainResidence(result: AssessmentResult, region: Region, r: number): RequirementExplanation[] {
  const res = result.residences;
  if (!Number.isInteger(r) || r < 0 || r >= res.count) throw new RangeError(`residence ${r} is not in 0–${res.count - 1}`);
  const Q = result.requirements.length;
  const F = res.formats.length;
  return result.requirements.map((info, q) => {
    const thresholdMinutes = info.seconds / 60;
    const base = { requirement: q, format: info.requirement.format, thresholdMinutes };
    if (!res.reachable[r]) return { ...base, met: false, status: 'unreachable', minutes: null, facility: null };
    let minutes: number;
    let id: number;
    if (res.requirementMinutes && res.requirementNearest) {
      minutes = res.requirementMinutes[r * Q + q];
      id = res.requirementNearest[r * Q + q];
    } else {
      // older results: the best of the format columns (under the profile's walking profile)
      minutes = Infinity;
      id = -1;
      for (const f of info.formats) {
        const c = res.formats.indexOf(f);
        if (c < 0) continue;
        const m = res.minutes[r * F + c];
        if (m < minutes) {
          minutes = m;
          id = res.nearest[r * F + c];
        }
      }
    }
    const met = res.met[r * Q + q] === 1;
    const fac = id >= 0 ? region.facilities[id] : undefined;
    const facility = fac ? { id: fac.id, name: fac.name, lon: fac.lon, lat: fac.lat } : null;
    if (met) return { ...base, met, status: 'met', minutes, facility };
    if (!Number.isFinite(minutes)) return { ...base, met, status: 'missing', minutes: null, facility: null };
    return { ...base, met, status: 'too-far', minutes, facility };
  });
}

/** One line per requirement, in Chinese or English. */
export function explainText(result: AssessmentResult, region: Region, r: number, lang: Lang = 'zh-CN', taxonomy: Taxonomy = loadTaxonomy()): string {
  return explainResidence(result, region, r)
    .map((e) => explanationLine(result, region, e, lang, taxonomy))
    .join('\n');
}

const num = (x: number): string => {
  const s = x.toFixed(1);
  return s.endsWith('.0') ? s.slice(0, -2) : s;
};

function levelText(level: FormatLevel, lang: Lang): string {
  if (level === 'neighbourhood') return lang === 'en' ? 'neighbourhood level' : '居住街坊级';
  return lang === 'en' ? `${level}-minute level` : `${level} 分钟级`;
}

/** The requirement's label: format names (with alternatives) and qualifiers. */
export function requirementLabel(result: AssessmentResult, q: number, lang: Lang, taxonomy: Taxonomy = loadTaxonomy()): string {
  const info = result.requirements[q];
  const name = (f: string) => taxonomy.byId.get(f)?.name[lang] ?? f;
  const label = info.formats.map(name).join(lang === 'en' ? ' or ' : '或');
  const quals: string[] = [];
  const req = info.requirement;
  if (req.level !== undefined) quals.push(levelText(req.level, lang));
  if (req.population === 'elderly') quals.push(lang === 'en' ? 'for the elderly' : '老年人');
  if (req.population === 'children') quals.push(lang === 'en' ? 'for children' : '儿童');
  if (info.walkingProfile !== 'default') {
    quals.push(lang === 'en' ? `${info.walkingProfile} walking speed` : info.walkingProfile === 'elderly' ? '老年人步速' : `${info.walkingProfile} 步速`);
  }
  if (quals.length === 0) return label;
  return lang === 'en' ? `${label} (${quals.join(', ')})` : `${label}（${quals.join('，')}）`;
}

/** "a" or "an" before a spoken number of minutes (an 8-, an 11-, an 18-minute walk). */
const article = (n: string): string => (/^(8|11(?!\d)|18(?!\d))/.test(n) ? 'an' : 'a');

/** Does the region have any facility (open or not) of one of these formats? */
function regionHas(region: Region, formats: readonly string[]): boolean {
  return region.facilities.some((f) => f.formats.some((x) => formats.includes(x)));
}

/** One explanation as a line of text. */
export function explanationLine(
  result: AssessmentResult,
  region: Region,
  e: RequirementExplanation,
  lang: Lang = 'zh-CN',
  taxonomy: Taxonomy = loadTaxonomy(),
): string {
  const label = requirementLabel(result, e.requirement, lang, taxonomy);
  // a distance rule is shown with its metres: "13.3 分钟（800 米）"
  const metres = result.requirements[e.requirement].requirement.withinMetres;
  const thr =
    lang === 'en'
      ? `${num(e.thresholdMinutes)} minutes${metres === undefined ? '' : ` (${metres} m)`}`
      : `${num(e.thresholdMinutes)} 分钟${metres === undefined ? '' : `（${metres} 米）`}`;
  const at = result.settings.at;
  const cap = num(result.settings.maxMinutes ?? 60);
  // one decimal, or two when one would read as "8 minutes, more than 8 minutes"
  const minutes = e.minutes ?? 0;
  const m = e.status === 'too-far' && Number(minutes.toFixed(1)) <= e.thresholdMinutes ? minutes.toFixed(2) : num(minutes);
  const named = e.facility !== null && e.facility.name.trim() !== '';
  const name = e.facility?.name ?? '';
  const exists = e.status === 'missing' ? regionHas(region, result.requirements[e.requirement].formats) : true;
  if (lang === 'en') {
    switch (e.status) {
      case 'met':
        return `${label}: ${named ? `“${name}”` : 'an unnamed one'} is ${article(m)} ${m}-minute walk, within ${thr}`;
      case 'too-far':
        return `${label}: the nearest${named ? `, “${name}”,` : ' (unnamed)'} is ${article(m)} ${m}-minute walk, more than ${thr}`;
      case 'missing':
        if (!exists) return `${label}: none in the region (needed within ${thr})`;
        return `${label}: none${at ? ` open at ${at}` : ''} within a ${cap}-minute walk (needed within ${thr})`;
      case 'unreachable':
        return `${label}: this home has no walkable way within reach, so nothing can be reached on foot`;
    }
  }
  switch (e.status) {
    case 'met':
      return `${label}：${named ? `“${name}”` : '一处无名称的设施'}步行 ${m} 分钟，在 ${thr}内`;
    case 'too-far':
      return `${label}：最近的${named ? `“${name}”` : '一处（无名称）'}步行 ${m} 分钟，超过 ${thr}`;
    case 'missing':
      if (!exists) return `${label}：区域内没有此类设施（要求 ${thr}内）`;
      return `${label}：步行 ${cap} 分钟内没有${at ? `在 ${at} 营业的` : ''}此类设施（要求 ${thr}内）`;
    case 'unreachable':
      return `${label}：该住所附近没有可步行的道路，无法步行到达`;
  }
}
