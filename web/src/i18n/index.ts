/**
 * A small dictionary i18n: zh-CN (default) and English. Strings live in zh-CN.json / en.json as
 * nested objects addressed by dotted keys ("planner.legend"); `{name}` placeholders are filled
 * from params. `t` reads the reactive locale, so templates re-render when it changes.
 */
import { ref } from 'vue';
import en from './en.json';
import zhCN from './zh-CN.json';

export type Locale = 'zh-CN' | 'en';
export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];

interface Dict {
  [key: string]: string | Dict;
}
const dictionaries: Record<Locale, Dict> = { 'zh-CN': zhCN, en };
const STORAGE_KEY = 'quarter.locale';

const isLocale = (x: unknown): x is Locale => typeof x === 'string' && (LOCALES as readonly string[]).includes(x);

function initialLocale(): Locale {
  const fromUrl = new URLSearchParams(window.location.search).get('lang');
  if (isLocale(fromUrl)) return fromUrl;
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    if (isLocale(stored)) return stored;
  } catch {
    // storage may be disabled (private mode): the default applies
  }
  return 'zh-CN';
}

export const locale = ref<Locale>(initialLocale());
document.documentElement.lang = locale.value;

export function setLocale(next: Locale): void {
  locale.value = next;
  document.documentElement.lang = next;
  try {
    window.localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not persisted; the switch still applies to this page
  }
}

function lookup(dict: Dict, key: string): string | undefined {
  let node: string | Dict | undefined = dict;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = node[part];
  }
  return typeof node === 'string' ? node : undefined;
}

/** bumped when a lazily loaded part brings its strings, so texts already shown re-render. */
const messagesVersion = ref(0);

function merge(into: Dict, from: Dict): void {
  for (const [k, v] of Object.entries(from)) {
    const here = into[k];
    if (typeof v === 'object' && typeof here === 'object') merge(here, v);
    else into[k] = v;
  }
}

/**
 * Strings of a part of the app loaded on demand (the planning panels), kept out of the first
 * load: merged into the dictionaries when that part's chunk runs.
 */
export function addMessages(messages: Record<Locale, Dict>): void {
  for (const l of LOCALES) merge(dictionaries[l], messages[l]);
  messagesVersion.value++;
}

/** The string for `key` in the current locale (zh-CN, then the key itself, if missing). */
export function t(key: string, params?: Record<string, string | number>): string {
  void messagesVersion.value; // re-render when strings arrive
  const s = lookup(dictionaries[locale.value], key) ?? lookup(dictionaries['zh-CN'], key) ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** A name the API gives in both languages. */
export interface LocalizedName {
  'zh-CN': string;
  en: string;
}

export function localName(name: LocalizedName | null | undefined, fallback = ''): string {
  if (!name) return fallback;
  return name[locale.value] || name['zh-CN'] || name.en || fallback;
}

export function formatNumber(x: number, fractionDigits = 0): string {
  return new Intl.NumberFormat(locale.value, { minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits }).format(x);
}

/** 0.4169 → "41.7%". null (not defined, e.g. no residents) → "—". */
export function formatPercent(share: number | null | undefined, fractionDigits = 1): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  return `${formatNumber(share * 100, fractionDigits)}%`;
}

export function formatMinutes(minutes: number): string {
  return t('units.minutes', { n: formatNumber(minutes, 1) });
}

export function formatMetres(metres: number): string {
  return metres >= 1000 ? t('units.km', { n: formatNumber(metres / 1000, 2) }) : t('units.m', { n: formatNumber(metres, 0) });
}
