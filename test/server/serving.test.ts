/**
 * How the server serves: the response cache and its invalidation, ETags on formats and
 * facilities, compression, the built web app with its SPA routes (from a temporary dist
 * directory made here), the page shown when it is not built, security headers on every kind of
 * response, and OpenAPI entries for the new routes.
 */
import type { FastifyInstance } from 'fastify';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Region } from '../../src/region/region.js';
import { buildServer } from '../../src/server/app.js';
import { LruCache } from '../../src/server/cache.js';
import { toLat, toLon } from '../engine/fixtures.js';
import { handRegion, type HandRegion } from './hand-region.js';

const tmp = mkdtempSync(join(tmpdir(), 'quarter-serving-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const INDEX_HTML = '<!doctype html><html><head><script type="module" src="/assets/index-AbC12_-x.js"></script></head><body><div id="app"></div></body></html>';
const ASSET_JS = 'console.log("app");'.repeat(200);
const webRoot = join(tmp, 'web');
mkdirSync(join(webRoot, 'assets'), { recursive: true });
writeFileSync(join(webRoot, 'index.html'), INDEX_HTML);
writeFileSync(join(webRoot, 'assets', 'index-AbC12_-x.js'), ASSET_JS);
// a chunk the build wrote .br and .gz copies of (web/vite.config.ts): made here at qualities the
// server never uses per request, so sending them byte for byte shows they were not made on the fly
const CHUNK_JS = 'export const formats = ["菜市场", "药店"];\n'.repeat(300);
const CHUNK_BR = brotliCompressSync(CHUNK_JS, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } });
const CHUNK_GZ = gzipSync(CHUNK_JS, { level: 9 });
writeFileSync(join(webRoot, 'assets', 'use-map-Zx9_Qw12.js'), CHUNK_JS);
writeFileSync(join(webRoot, 'assets', 'use-map-Zx9_Qw12.js.br'), CHUNK_BR);
writeFileSync(join(webRoot, 'assets', 'use-map-Zx9_Qw12.js.gz'), CHUNK_GZ);
writeFileSync(join(webRoot, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
writeFileSync(join(webRoot, 'robots.txt'), 'User-agent: *\n');
writeFileSync(join(webRoot, '.env'), 'SECRET=1');

let hand: HandRegion;
let app: FastifyInstance;
beforeAll(async () => {
  hand = handRegion({ basemap: true });
  app = await buildServer({ region: hand.region, webRoot });
});
afterAll(async () => app?.close());

const at = () => {
  const [x, y] = hand.nodes[14];
  return `${toLon(x)},${toLat(y)}`;
};

function expectSecurityHeaders(headers: Record<string, unknown>, what: string): void {
  const csp = String(headers['content-security-policy']);
  expect(csp, what).toMatch(/default-src 'self'/);
  expect(csp, what).toMatch(/worker-src 'self' blob:/);
  expect(csp, what).toMatch(/frame-ancestors 'none'/);
  expect(csp, what).toMatch(/script-src 'self'(;|$)/); // no inline or remote scripts
  expect(headers['x-content-type-options'], what).toBe('nosniff');
  expect(headers['referrer-policy'], what).toBe('no-referrer');
}

describe('response cache', () => {
  test('nearest and isochrone: a miss, then a hit with the same body; other parameters are other entries', async () => {
    for (const url of [`/api/nearest?at=${at()}`, `/api/isochrone?at=${at()}&minutes=5,10`]) {
      const a = await app.inject({ method: 'GET', url });
      const b = await app.inject({ method: 'GET', url });
      expect(a.statusCode, url).toBe(200);
      expect(a.headers['x-cache'], url).toBe('MISS');
      expect(b.headers['x-cache'], url).toBe('HIT');
      expect(b.body).toBe(a.body);
    }
    const other = await app.inject({ method: 'GET', url: `/api/nearest?at=${at()}&profile=elderly` });
    expect(other.headers['x-cache']).toBe('MISS');
    expect(other.json().profile).toBe('elderly');
    // the same point written differently (spaces, trailing zeros) is the same entry
    const [lon, lat] = at().split(',');
    const spaced = await app.inject({ method: 'GET', url: `/api/nearest?at=${encodeURIComponent(` ${lon} , ${lat}`)}` });
    expect(spaced.headers['x-cache']).toBe('HIT');
    // errors are not cached
    const bad = await app.inject({ method: 'GET', url: '/api/nearest?at=121.4,31.2' });
    expect(bad.statusCode).toBe(404);
    expect(bad.headers['x-cache']).toBeUndefined();
  });

  test('invalidate(): the next answer is computed again; with a changed region it reflects the change', async () => {
    const url = `/api/nearest?at=${at()}`;
    await app.inject({ method: 'GET', url });
    const before = await app.inject({ method: 'GET', url });
    expect(before.headers['x-cache']).toBe('HIT');
    const pharmacyBefore = before.json().formats.find((f: { format: string }) => f.format === 'pharmacy');
    expect(pharmacyBefore.nearest).not.toBeNull();
    const formatsEtag = (await app.inject({ method: 'GET', url: '/api/formats' })).headers.etag;

    const v = app.quarter.version;
    app.quarter.invalidate();
    expect(app.quarter.version).toBe(v + 1);
    expect(app.quarter.cacheStats().entries).toBe(0);
    const again = await app.inject({ method: 'GET', url });
    expect(again.headers['x-cache']).toBe('MISS');
    expect(again.body).toBe(before.body);

    // a scenario: every pharmacy closed
    const edited: Region = { ...hand.region, facilities: hand.region.facilities.map((f) => ({ ...f, formats: f.formats.filter((x) => x !== 'pharmacy') })) };
    app.quarter.invalidate(edited);
    const after = await app.inject({ method: 'GET', url });
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.json().formats.find((f: { format: string }) => f.format === 'pharmacy').nearest).toBeNull();
    const formats = await app.inject({ method: 'GET', url: '/api/formats' });
    expect(formats.headers.etag).not.toBe(formatsEtag);
    expect(formats.json().formats.find((f: { id: string }) => f.id === 'pharmacy').count).toBe(0);
    app.quarter.invalidate(hand.region);
    expect(app.quarter.region).toBe(hand.region);
  });

  test('a cached answer is kept compressed: gzip and br decode to the identity body, a hit is the same bytes, and the cache counts the extra bytes', async () => {
    const small = await buildServer({ region: hand.region, webRoot });
    try {
      const url = `/api/isochrone?at=${at()}&minutes=5,10,15`;
      const plain = await small.inject({ method: 'GET', url, headers: { 'accept-encoding': 'identity' } });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.rawPayload.length).toBeGreaterThan(1024); // worth compressing
      const bytesPlain = small.quarter.cacheStats().bytes;
      const gz = await small.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip' } });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gz.headers['x-cache']).toBe('HIT');
      expect(gunzipSync(gz.rawPayload).equals(plain.rawPayload)).toBe(true);
      const br = await small.inject({ method: 'GET', url, headers: { 'accept-encoding': 'br;q=1, gzip;q=0.5' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(br.rawPayload).equals(plain.rawPayload)).toBe(true);
      expect(small.quarter.cacheStats().bytes).toBe(bytesPlain + gz.rawPayload.length + br.rawPayload.length);
      const again = await small.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip' } });
      expect(again.rawPayload.equals(gz.rawPayload)).toBe(true);
      expect(again.headers.vary).toMatch(/accept-encoding/);
    } finally {
      await small.close();
    }
  });

  test('bounded: the least recently used entry goes first', async () => {
    const small = await buildServer({ region: hand.region, webRoot, cache: { maxEntries: 2 } });
    try {
      const url = (i: number) => {
        const [x, y] = hand.nodes[7 + i];
        return `/api/nearest?at=${toLon(x)},${toLat(y)}`;
      };
      for (const i of [0, 1]) await small.inject({ method: 'GET', url: url(i) });
      expect((await small.inject({ method: 'GET', url: url(0) })).headers['x-cache']).toBe('HIT'); // 0 now most recent
      await small.inject({ method: 'GET', url: url(2) }); // evicts 1
      expect((await small.inject({ method: 'GET', url: url(0) })).headers['x-cache']).toBe('HIT');
      expect((await small.inject({ method: 'GET', url: url(1) })).headers['x-cache']).toBe('MISS');
      expect(small.quarter.cacheStats().entries).toBe(2);
    } finally {
      await small.close();
    }
  });

  test('LruCache: bounded by bytes too; an entry larger than the cache is not kept', () => {
    const c = new LruCache(100, 100); // cost = 2 × (key + value) characters
    c.set('a', 'x'.repeat(20)); // 42
    c.set('b', 'x'.repeat(20)); // 84
    c.set('c', 'x'.repeat(20)); // 126 > 100: 'a' goes
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([false, true, true]);
    expect(c.stats().bytes).toBe(84);
    c.set('huge', 'x'.repeat(100));
    expect(c.has('huge')).toBe(false);
    expect(c.get('b')).toBe('x'.repeat(20));
    expect(c.get('zzz')).toBeUndefined();
    expect(c.stats()).toMatchObject({ hits: 1, misses: 1, evictions: 1, entries: 2 });
  });
});

describe('ETags and compression', () => {
  test('/api/formats and /api/facilities: ETag, 304 when it matches, another ETag for another answer', async () => {
    for (const url of ['/api/formats', '/api/facilities', '/api/facilities?format=pharmacy']) {
      const a = await app.inject({ method: 'GET', url });
      expect(a.statusCode).toBe(200);
      const etag = String(a.headers.etag);
      expect(etag, url).toMatch(/^W\/".+"$/);
      expect(a.headers['cache-control']).toBe('no-cache');
      const b = await app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
      expect(b.statusCode, url).toBe(304);
      expect(b.body).toBe('');
    }
    const all = await app.inject({ method: 'GET', url: '/api/facilities' });
    const some = await app.inject({ method: 'GET', url: '/api/facilities?format=pharmacy' });
    expect(all.headers.etag).not.toBe(some.headers.etag);
    expect(some.json().facilities.every((f: { formats: string[] }) => f.formats.includes('pharmacy'))).toBe(true);
  });

  test('responses over 1 kB are compressed when asked; small ones are not', async () => {
    const big = await app.inject({ method: 'GET', url: '/api/formats', headers: { 'accept-encoding': 'br' } });
    expect(big.headers['content-encoding']).toBe('br');
    const plain = await app.inject({ method: 'GET', url: '/api/formats' });
    expect(brotliDecompressSync(big.rawPayload).toString('utf8')).toBe(plain.body);
    const small = await app.inject({ method: 'GET', url: `/api/search?q=${encodeURIComponent('幸福')}`, headers: { 'accept-encoding': 'br, gzip' } });
    expect(small.rawPayload.length).toBeLessThan(1024);
    expect(small.headers['content-encoding']).toBeUndefined();
  });
});

describe('the web app', () => {
  test('/ and the SPA routes serve index.html, revalidated on every load', async () => {
    for (const url of ['/', '/resident', '/planner', '/planner/scenario/3', '/resident?at=1,2']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(INDEX_HTML);
      expect(String(res.headers['content-type']), url).toMatch(/text\/html/);
      expect(res.headers['cache-control'], url).toBe('no-cache');
      expectSecurityHeaders(res.headers, url);
    }
    expect(app.quarter.webApp).toBe(true);
  });

  test('hashed assets are immutable; other files revalidate; dotfiles and unknown paths are JSON 404s', async () => {
    const js = await app.inject({ method: 'GET', url: '/assets/index-AbC12_-x.js' });
    expect(js.statusCode).toBe(200);
    expect(js.body).toBe(ASSET_JS);
    expect(String(js.headers['content-type'])).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expectSecurityHeaders(js.headers, 'asset');
    const gz = await app.inject({ method: 'GET', url: '/assets/index-AbC12_-x.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect((await app.inject({ method: 'GET', url: '/assets/logo.svg' })).headers['cache-control']).toBe('no-cache');
    expect((await app.inject({ method: 'GET', url: '/robots.txt' })).headers['cache-control']).toBe('no-cache');
    for (const url of ['/.env', '/nope.js', '/api/nope', '/assets/../../etc/passwd', '/index.html/..%2f..%2fetc%2fpasswd']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toMatch(/SECRET|root:/);
      expectSecurityHeaders(res.headers, url);
    }
    const api404 = await app.inject({ method: 'GET', url: '/api/nope' });
    expect(api404.json()).toMatchObject({ error: 'not found', field: 'url' });
  });

  test('precompressed copies are sent as they are, immutable like the asset; without them the asset is compressed here', async () => {
    const url = '/assets/use-map-Zx9_Qw12.js';
    const br = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } });
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.rawPayload.equals(CHUNK_BR)).toBe(true);
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(CHUNK_JS);
    expect(String(br.headers['content-type'])).toMatch(/javascript/);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(String(br.headers.vary)).toMatch(/accept-encoding/i);
    expectSecurityHeaders(br.headers, 'precompressed asset');
    const gz = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.rawPayload.equals(CHUNK_GZ)).toBe(true);
    expect(gz.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const plain = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(CHUNK_JS);
    // the copies are not files of their own
    expect((await app.inject({ method: 'GET', url: `${url}.br` })).headers['content-type']).not.toMatch(/javascript/);
    // an asset the build left uncompressed is compressed per request
    const other = await app.inject({ method: 'GET', url: '/assets/index-AbC12_-x.js', headers: { 'accept-encoding': 'br' } });
    expect(other.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(other.rawPayload).toString()).toBe(ASSET_JS);
    expect(other.headers.vary).toBe('accept-encoding');
  });

  test('not built: / and the SPA routes say how to build it', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const bare = await buildServer({ region: hand.region, webRoot: empty });
    try {
      expect(bare.quarter.webApp).toBe(false);
      for (const url of ['/', '/resident', '/planner']) {
        const res = await bare.inject({ method: 'GET', url });
        expect(res.statusCode).toBe(200);
        expect(String(res.headers['content-type'])).toMatch(/text\/html/);
        expect(res.body).toMatch(/vite build --config web\/vite\.config\.ts/);
        expect(res.body).toMatch(/dist\/web/);
        expectSecurityHeaders(res.headers, url);
      }
      expect((await bare.inject({ method: 'GET', url: '/assets/x.js' })).statusCode).toBe(404);
    } finally {
      await bare.close();
    }
  });

  test('security headers on API answers, errors, 304s and the docs', async () => {
    const responses = [
      await app.inject({ method: 'GET', url: '/api/regions' }),
      await app.inject({ method: 'GET', url: '/api/nearest?at=abc' }),
      await app.inject({ method: 'POST', url: '/api/assess', payload: {} }),
      await app.inject({ method: 'GET', url: '/api/basemap', headers: { 'if-none-match': '*' } }),
      await app.inject({ method: 'GET', url: '/docs/static/index.html' }),
      await app.inject({ method: 'GET', url: '/openapi.json' }),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([200, 400, 400, 304, 302, 200]);
    responses.forEach((r, i) => expectSecurityHeaders(r.headers, `response ${i}`));
  });
});

describe('OpenAPI', () => {
  test('documents the new routes with summary, tags and parameters', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const [path, tag] of [['/api/basemap', 'map'], ['/api/route', 'access'], ['/api/search', 'map']] as const) {
      const op = doc.paths[path]?.get;
      expect(op, path).toBeTruthy();
      expect(op.summary.length, path).toBeGreaterThan(10);
      expect(op.tags, path).toContain(tag);
      expect(op.responses['200'], path).toBeTruthy();
    }
    const names = (path: string) => (doc.paths[path].get.parameters as Array<{ name: string }>).map((p) => p.name).sort();
    expect(names('/api/route')).toEqual(['facility', 'from', 'profile', 'to']);
    expect(names('/api/search')).toEqual(['limit', 'q']);
    // static files and SPA routes are not API
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/'))).toEqual([]);
  });
});
