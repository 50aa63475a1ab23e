/**
 * Every string the web app asks for exists in both languages. Reference: the keys read here from
 * the sources themselves (`t('a.b')`, and the fixed prefix of `t(\`a.${x}\`)`), not from the
 * dictionaries; the app's dictionaries are the first-load one and the planning one, merged.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { WEB_SRC } from './helpers.js';

type Dict = { [key: string]: string | Dict };
const load = (p: string): Dict => JSON.parse(readFileSync(join(WEB_SRC, p), 'utf8')) as Dict;
function merge(a: Dict, b: Dict): Dict {
  const out: Dict = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = typeof v === 'object' && typeof out[k] === 'object' ? merge(out[k] as Dict, v) : v;
  return out;
}
const dicts = {
  'zh-CN': merge(load('src/i18n/zh-CN.json'), load('src/planning/i18n/zh-CN.json')),
  en: merge(load('src/i18n/en.json'), load('src/planning/i18n/en.json')),
};
const at = (d: Dict, key: string): string | Dict | undefined => key.split('.').reduce<string | Dict | undefined>((n, k) => (typeof n === 'object' ? n[k] : undefined), d);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|vue)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe('i18n', () => {
  const text = sources(join(WEB_SRC, 'src')).map((f) => readFileSync(f, 'utf8')).join('\n');
  const fixed = [...new Set([...text.matchAll(/\bt\(\s*'([A-Za-z0-9_.-]+)'/g)].map((m) => m[1]))];
  const prefixes = [...new Set([...text.matchAll(/\bt\(\s*`([A-Za-z0-9_.-]+)\.\$\{/g)].map((m) => m[1]))];

  test('every key used in the sources is a string in zh-CN and en', () => {
    expect(fixed.length).toBeGreaterThan(150);
    for (const key of fixed) for (const [lang, d] of Object.entries(dicts)) expect(typeof at(d, key), `${lang}: ${key}`).toBe('string');
  });

  test('every prefix of a computed key is a group of strings in both languages, with the same members', () => {
    expect(prefixes.length).toBeGreaterThan(8);
    for (const prefix of prefixes) {
      const zh = at(dicts['zh-CN'], prefix);
      const en = at(dicts.en, prefix);
      expect(typeof zh, prefix).toBe('object');
      expect(Object.keys(en as Dict).sort(), prefix).toEqual(Object.keys(zh as Dict).sort());
    }
  });

  test('every batch summary column (data/batch/summary-columns.json, shared with the server) has a header in both languages', () => {
    const table = JSON.parse(readFileSync(join(WEB_SRC, '..', 'data', 'batch', 'summary-columns.json'), 'utf8')) as { kinds: Record<string, { key: string }[]> };
    const keys = Object.values(table.kinds).flatMap((cols) => cols.map((c) => c.key));
    expect(keys.length).toBeGreaterThanOrEqual(14);
    for (const key of keys) for (const [lang, d] of Object.entries(dicts)) expect(typeof at(d, `batches.columns.${key}`), `${lang}: ${key}`).toBe('string');
  });
});
