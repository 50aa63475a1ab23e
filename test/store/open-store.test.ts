/**
 * Choosing the backend from `--db`, and keeping passwords out of what is shown: each URL below
 * is paired with its redacted form written out by hand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { describeStoreSpec, isPostgresSpec, openStore, storeBackendOf } from '../../src/store/open-store.js';
import { databaseUrlSecrets, redactDatabaseUrl, redactSecrets } from '../../src/store/redact.js';
import { StoreInputError, StoreOpenError } from '../../src/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'quarter-open-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('redactDatabaseUrl', () => {
  const cases: [string, string][] = [
    ['postgres://quarter:s3cret@db.example:5432/city', 'postgres://quarter:***@db.example:5432/city'],
    ['postgresql://quarter:s3cret@10.0.0.5/city?sslmode=require', 'postgresql://quarter:***@10.0.0.5/city?sslmode=require'],
    ['postgres://quarter@db/city', 'postgres://quarter@db/city'],
    ['postgres://db/city', 'postgres://db/city'],
    ['postgres://quarter:@db/city', 'postgres://quarter:***@db/city'],
    // '@' and ':' inside the password (unencoded, as people type them): the last '@' ends the user info
    ['postgres://quarter:p@ss:w0rd@db:5432/city', 'postgres://quarter:***@db:5432/city'],
    ['postgres://quarter:p%40ss%2Fw@db/city', 'postgres://quarter:***@db/city'],
    ['postgres://quarter:s3cret@[::1]:5432/city', 'postgres://quarter:***@[::1]:5432/city'],
    ['postgres://quarter@db/city?password=s3cret&sslmode=require', 'postgres://quarter@db/city?password=***&sslmode=require'],
    ['postgres://db/city?sslmode=require&PASSWORD=s3cret', 'postgres://db/city?sslmode=require&PASSWORD=***'],
    ['postgres://u:a@db/city?sslpassword=keypass', 'postgres://u:***@db/city?sslpassword=***'],
    ['postgres://quarter:s3cret@%2Fvar%2Frun%2Fpostgresql/city', 'postgres://quarter:***@%2Fvar%2Frun%2Fpostgresql/city'],
    // not URLs: left alone
    ['out/quarter.db', 'out/quarter.db'],
    ['/srv/quarter/db:with:colons@x.db', '/srv/quarter/db:with:colons@x.db'],
  ];
  test.each(cases)('%s', (url, redacted) => {
    expect(redactDatabaseUrl(url)).toBe(redacted);
  });

  test('the secrets of a URL are found raw and decoded, and removed from any text', () => {
    expect(databaseUrlSecrets('postgres://u:p%40ss@db/x?password=two').sort()).toEqual(['p%40ss', 'p@ss', 'two']);
    expect(databaseUrlSecrets('postgres://u@db/x')).toEqual([]);
    const message = 'connect failed for postgres://u:p%40ss@db/x (password "p@ss" rejected, also two)';
    const clean = redactSecrets(message, databaseUrlSecrets('postgres://u:p%40ss@db/x?password=two'));
    expect(clean).toBe('connect failed for postgres://u:***@db/x (password "***" rejected, also ***)');
  });
});

describe('storeBackendOf', () => {
  test('postgres:// and postgresql:// URLs (any case) are PostgreSQL; paths are SQLite; other URLs and empty specs are refused', () => {
    expect(storeBackendOf('postgres://u:p@h/db')).toBe('postgres');
    expect(storeBackendOf('postgresql://h/db')).toBe('postgres');
    expect(storeBackendOf('POSTGRES://h/db')).toBe('postgres');
    expect(storeBackendOf('out/quarter.db')).toBe('sqlite');
    expect(storeBackendOf('/abs/path.db')).toBe('sqlite');
    expect(storeBackendOf(':memory:')).toBe('sqlite');
    expect(storeBackendOf('postgres.db')).toBe('sqlite');
    expect(storeBackendOf('C:\\quarter\\store.db')).toBe('sqlite');
    expect(isPostgresSpec('postgresql://h/db')).toBe(true);
    expect(isPostgresSpec('postgres.db')).toBe(false);
    for (const bad of ['', '   ']) expect(() => storeBackendOf(bad)).toThrow(StoreInputError);
    // a typo of the scheme must not become a file called "postgress:"
    const e = (() => {
      try {
        storeBackendOf('postgress://quarter:s3cret@db/city');
      } catch (err) {
        return err as StoreInputError;
      }
      throw new Error('expected a refusal');
    })();
    expect(e).toBeInstanceOf(StoreInputError);
    expect(e.field).toBe('db');
    expect(e.message).toContain('"postgress://" is not a database');
    expect(e.message).not.toContain('s3cret');
    expect(() => storeBackendOf('mysql://h/db')).toThrow(/"mysql:\/\/" is not a database/);
  });

  test('describeStoreSpec shows paths as given and URLs without password', () => {
    expect(describeStoreSpec('out/quarter.db')).toBe('out/quarter.db');
    expect(describeStoreSpec('postgres://quarter:s3cret@db/city')).toBe('postgres://quarter:***@db/city');
  });
});

describe('openStore', () => {
  test('a path opens an SQLite store (a file appears); the store works', async () => {
    const path = join(root, 'a', 'quarter.db');
    const store = await openStore(path);
    await store.upsertRegion({ name: 'r', file: 'r.quarter', sha256: 'a'.repeat(64) });
    expect((await store.listRegions()).map((r) => r.name)).toEqual(['r']);
    await store.close();
    const again = await openStore(path);
    expect((await again.listRegions()).map((r) => r.name)).toEqual(['r']);
    await again.close();
  });

  test('a postgres URL goes to PostgreSQL: an unreachable server is a StoreOpenError naming the URL without its password', async () => {
    // port 1 on loopback: nothing listens there
    const err = await openStore('postgres://quarter:Sup3r-s3cret@127.0.0.1:1/city').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreOpenError);
    const message = (err as Error).message;
    expect(message).toMatch(/^postgres:\/\/quarter:\*\*\*@127\.0\.0\.1:1\/city: no PostgreSQL server answers/);
    expect(message).not.toContain('Sup3r');
  });

  test('a password file that cannot be read is a clear error, without the password of the URL', async () => {
    const err = await openStore('postgres://quarter@127.0.0.1:1/city', { passwordFile: join(root, 'missing') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreOpenError);
    expect((err as Error).message).toMatch(/cannot read the password file .*missing \(ENOENT\)/);
  });
});
