/**
 * Classification of the real Krems extract, checked against osmium.
 *
 * test/fixtures/taxonomy/make-krems-fixtures.sh produced, with osmium alone (not the project's
 * reader): krems-tagged-objects.json (type, id and tags of every tagged object of
 * data/krems/krems.osm.pbf) and krems-tag-counts.json (for each format, the objects osmium
 * tags-filter finds for the tag conditions that define it, with the exact command lines). The
 * classifier, run over the tagged objects, must find exactly those objects — plus the few that
 * only a name keyword can reveal, which the fixture lists by hand.
 */
import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { OsmType, Tags } from '../../src/ingest/osm-types.js';
import { compileClassifier } from '../../src/taxonomy/classify.js';
import { loadTaxonomy } from '../../src/taxonomy/formats.js';

interface FormatCount {
  tagGroups: string[][];
  commands: string[];
  count: number;
  ids: string[];
  nameExtras: Record<string, string>;
}
interface CountsFixture {
  source: { file: string; sha256: string; bytes: number };
  osmium: string;
  tagCounts: Record<string, { command: string; count: number }>;
  formats: Record<string, FormatCount>;
}

const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
const counts = JSON.parse(readFileSync(here('../fixtures/taxonomy/krems-tag-counts.json'), 'utf8')) as CountsFixture;
const objects = JSON.parse(readFileSync(here('../fixtures/taxonomy/krems-tagged-objects.json'), 'utf8')) as {
  type: OsmType;
  id: number;
  tags: Tags;
}[];

const taxonomy = loadTaxonomy();
const classify = compileClassifier(taxonomy);

/** OPL-style id: n123, w456, r789. */
const key = (o: { type: OsmType; id: number }) => `${o.type[0]}${o.id}`;

/** classifier result per format: set of object keys. */
const byFormat = new Map<string, Set<string>>(taxonomy.formats.map((f) => [f.id, new Set<string>()]));
for (const o of objects) for (const id of classify(o.tags)) byFormat.get(id)!.add(key(o));

/** A condition in the fixture's notation: "k=v1,v2" (values sorted) or "k" for any value. */
const condition = (k: string, v: readonly string[] | '*') => (v === '*' ? k : `${k}=${[...v].sort().join(',')}`);
const normGroup = (g: string[]) =>
  g
    .map((c) => {
      const eq = c.indexOf('=');
      return eq < 0 ? c : condition(c.slice(0, eq), c.slice(eq + 1).split(','));
    })
    .sort()
    .join(' & ');

describe('Krems: classification equals the independent osmium tag counts', () => {
  it('the fixtures describe the current data/krems/krems.osm.pbf', () => {
    const bytes = readFileSync(here('../../data/krems/krems.osm.pbf'));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(counts.source.sha256);
    expect(objects.length).toBeGreaterThan(2000);
  });

  it('the fixture has every format, and its tag conditions are the taxonomy\'s tag-only rules', () => {
    expect(Object.keys(counts.formats).sort()).toEqual(taxonomy.formats.map((f) => f.id).sort());
    for (const f of taxonomy.formats) {
      // one rule with several values can be written as several single-value groups and back:
      // compare per key the union of values of single-key groups, and multi-key groups as such
      const fromTaxonomy = f.match
        .filter((r) => r.tags && !r.nameAny && !r.notNameAny && !r.cuisineAny)
        .map((r) => Object.entries(r.tags!).map(([k, v]) => condition(k, v)));
      const expand = (groups: string[][]) => {
        const out = new Set<string>();
        for (const g of groups) {
          const n = normGroup(g);
          if (g.length === 1 && n.includes('=')) {
            const [k, vs] = n.split('=');
            for (const v of vs.split(',')) out.add(`${k}=${v}`);
          } else out.add(n);
        }
        return [...out].sort();
      };
      expect(expand(counts.formats[f.id].tagGroups), `${f.id}: regenerate the fixture or fix the taxonomy`).toEqual(
        expand(fromTaxonomy),
      );
    }
  });

  for (const [id, fc] of Object.entries(counts.formats)) {
    it(`${id}: ${fc.count} objects by osmium${Object.keys(fc.nameExtras).length ? ` + ${Object.keys(fc.nameExtras).length} by name` : ''}`, () => {
      expect(fc.ids).toHaveLength(fc.count);
      const expected = [...new Set([...fc.ids, ...Object.keys(fc.nameExtras)])].sort();
      expect([...(byFormat.get(id) ?? [])].sort()).toEqual(expected);
    });
  }

  it('records the headline counts (for the importer test to reuse)', () => {
    const c = (t: string) => counts.tagCounts[t].count;
    expect(c('amenity=pharmacy')).toBe(5);
    expect(c('shop=convenience')).toBe(1);
    expect(c('shop=supermarket')).toBe(9);
    expect(c('amenity=kindergarten')).toBe(0);
    expect(counts.formats.pharmacy.count).toBe(5);
    // single-tag counts agree with a plain scan of the osmium object list
    for (const [t, { count }] of Object.entries(counts.tagCounts)) {
      const [k, v] = t.split('=');
      expect(objects.filter((o) => o.tags[k] === v).length, t).toBe(count);
    }
  });
});

// Where osmium is installed (CI installs osmium-tool), replay the recorded command lines.
const ROOT = here('../..');
const hasOsmium = (() => {
  try {
    execSync('osmium --version', { stdio: 'ignore' });
    return existsSync(`${ROOT}/${counts.source.file}`);
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOsmium)('Krems: the recorded osmium commands still give the recorded results', () => {
  const sh = (cmd: string) => execSync(cmd, { cwd: ROOT, encoding: 'utf8', shell: '/bin/sh' });
  it('per format', () => {
    for (const [id, fc] of Object.entries(counts.formats)) {
      const found = new Set<string>();
      for (const c of fc.commands) for (const line of sh(c).split('\n')) if (line) found.add(line);
      expect([...found].sort(), id).toEqual(fc.ids);
    }
  }, 30_000);
  it('per tag', () => {
    for (const [t, { command, count }] of Object.entries(counts.tagCounts)) expect(Number(sh(command).trim()), t).toBe(count);
  }, 30_000);
});
