/**
 * The batch's own inputs without Redis: the list file (every problem with its line, all at once,
 * hostile and wrongly encoded files) and the Redis URL (password never shown).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, test } from 'vitest';
import { removeThreadTemps } from '../../src/io/atomic-file.js';
import { CLI } from '../cli/helpers.js';
import { parseRedisUrl, RedisConfigError } from '../../src/batch/redis.js';
import { readRegionList, RegionListError } from '../../src/batch/region-list.js';

const dir = mkdtempSync(join(tmpdir(), 'quarter-batch-inputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REGION_BYTES = Buffer.concat([Buffer.from('QUARTER\0', 'latin1'), Buffer.alloc(32)]);
const file = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

function listError(f: string, kind: 'region' | 'osm' = 'region'): RegionListError {
  try {
    readRegionList(f, kind);
  } catch (e) {
    expect(e).toBeInstanceOf(RegionListError);
    return e as RegionListError;
  }
  throw new Error('expected the list to be refused');
}

describe('the list file', () => {
  test('paths relative to the list, comments, blank lines, CRLF and a BOM; line numbers are the keys', () => {
    file('a.quarter', REGION_BYTES);
    file('b 区.quarter', REGION_BYTES);
    const list = file('ok.txt', '\uFEFF# 徐汇 pilot\r\na.quarter\r\n\r\n  b 区.quarter  \r\n# end\r\n');
    expect(readRegionList(list, 'region')).toEqual([
      { line: 2, path: join(dir, 'a.quarter') },
      { line: 4, path: join(dir, 'b 区.quarter') },
    ]);
  });

  test('every bad line is reported with its number, and nothing is returned', () => {
    file('text.quarter', 'not a region');
    file('empty.quarter', '');
    const list = file('bad.txt', ['a.quarter', 'missing.quarter', 'text.quarter', 'empty.quarter', '.', 'a.quarter', './a.quarter'].join('\n'));
    const e = listError(list);
    expect(e.message).toMatch(/^6 of 7 listed files cannot be used; nothing was submitted/);
    expect(e.problems).toEqual([
      `${list}:2: missing.quarter: no such file`,
      `${list}:3: text.quarter: is not a Quarter region file (run \`quarter import\` on it first)`,
      `${list}:4: empty.quarter: is empty`,
      `${list}:5: .: is not a file`,
      `${list}:6: a.quarter is listed already on line 1`,
      `${list}:7: ./a.quarter is listed already on line 1`,
    ]);
  });

  test('OSM extracts are only checked to exist and not be empty (their reader checks the rest)', () => {
    file('x.osm.pbf', Buffer.from([0, 0, 0, 13]));
    expect(readRegionList(file('osm.txt', 'x.osm.pbf\n'), 'osm')).toEqual([{ line: 1, path: join(dir, 'x.osm.pbf') }]);
  });

  test('no list, an empty list, a directory, binary, wrongly encoded and oversized lists are refused clearly', () => {
    expect(listError(join(dir, 'nope.txt')).message).toMatch(/nope\.txt: no such file/);
    expect(listError(file('empty.txt', '# nothing\n\n')).message).toMatch(/lists no files/);
    expect(listError(dir).message).toMatch(/is not a file/);
    expect(listError(file('bin.txt', Buffer.from([0x61, 0x00, 0x62, 0x0a]))).message).toMatch(/NUL bytes/);
    expect(listError(file('gbk.txt', Buffer.from([0xd0, 0xec, 0xbb, 0xe3, 0x0a]))).message).toMatch(/is not UTF-8 text/);
    expect(listError(file('huge.txt', Buffer.alloc(17 * 1024 * 1024, 0x61))).message).toMatch(/bytes; a list of files should be far smaller/);
    const many = Array.from({ length: 10_001 }, (_, i) => `r${i}.quarter`).join('\n');
    expect(listError(file('many.txt', many)).message).toMatch(/lists 10001 files; one batch takes at most 10000/);
  });
});

describe('the Redis URL', () => {
  test('host, port, database and credentials; the password is never in the shown form', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6390/3', undefined)).toMatchObject({ host: '127.0.0.1', port: 6390, db: 3, tls: false, shown: 'redis://127.0.0.1:6390/3' });
    const t = parseRedisUrl('rediss://queue:s%40cret@redis.example:6380', undefined);
    expect(t).toMatchObject({ host: 'redis.example', port: 6380, db: 0, username: 'queue', password: 's@cret', tls: true });
    expect(t.shown).toBe('rediss://queue:***@redis.example:6380');
    expect(parseRedisUrl('redis://[::1]', undefined)).toMatchObject({ host: '::1', port: 6379 });
  });

  test('the password from a file when the URL has none', () => {
    const pw = file('redis-password', 'from-file\nignored second line\n');
    const t = parseRedisUrl('redis://127.0.0.1:6379', pw);
    expect(t.password).toBe('from-file');
    expect(t.shown).toBe('redis://:***@127.0.0.1:6379');
    expect(() => parseRedisUrl('redis://127.0.0.1', join(dir, 'no-such-file'))).toThrow(/cannot read the Redis password file .*no-such-file \(ENOENT\)/);
  });

  test('not a URL, another scheme, a bad database: refused without echoing a password', () => {
    const bad: [string, RegExp][] = [
      ['127.0.0.1:6379', /is not a URL|not a Redis URL/],
      ['http://u:hunter2@h:1', /"http:\/\/" is not a Redis URL/],
      ['redis://h/99', /database "99" must be a number 0–15/],
      ['redis://h/x', /database "x"/],
      ['not a url at all :hunter2@', /is not a URL/],
    ];
    for (const [spec, message] of bad) {
      let err: unknown;
      try {
        parseRedisUrl(spec, undefined);
      } catch (e) {
        err = e;
      }
      expect(err, spec).toBeInstanceOf(RedisConfigError);
      expect((err as Error).message, spec).toMatch(message);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});

describe('an import thread stopped mid-write (what `quarter worker` does on a forced stop)', () => {
  test('its temp file is removed by thread id; the region file and other threads\' temp files stay', async () => {
    const out = mkdtempSync(join(dir, 'out-'));
    const target = join(out, 'krems.quarter');
    writeFileSync(target, 'the previous region file');
    const otherThread = join(out, `.krems.quarter.tmp-${process.pid}-99999-abcdef`);
    writeFileSync(otherThread, 'another job');
    // the built module (the thread cannot load TypeScript): write one chunk, then hang before the next
    const atomic = pathToFileURL(join(dirname(CLI), '..', 'io', 'atomic-file.js')).href;
    const thread = new Worker(
      `import { parentPort, workerData } from 'node:worker_threads';
       const { writeFileAtomic } = await import(workerData.atomic);
       function* chunks() { yield 'half a region'; parentPort.postMessage('writing'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); }
       writeFileAtomic(workerData.target, chunks());`,
      { eval: true, workerData: { atomic, target } },
    );
    const tid = thread.threadId;
    await new Promise<void>((resolve, reject) => {
      thread.once('message', () => resolve());
      thread.once('error', reject);
    });
    const temp = `.krems.quarter.tmp-${process.pid}-${tid}-`;
    expect(readdirSync(out).filter((n) => n.startsWith(temp))).toHaveLength(1);
    await thread.terminate();
    // terminated: the thread's own cleanup never ran
    expect(readdirSync(out).filter((n) => n.startsWith(temp))).toHaveLength(1);
    expect(removeThreadTemps(out, tid)).toBe(1);
    expect(readdirSync(out).sort()).toEqual([otherThread.slice(out.length + 1), 'krems.quarter'].sort());
    expect(readFileSync(target, 'utf8')).toBe('the previous region file');
    expect(removeThreadTemps(join(out, 'missing'), tid)).toBe(0);
  });
});
