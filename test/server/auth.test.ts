/**
 * Logins and access control of the HTTP API, on the hand-made region with a store on each backend:
 * cookie flags read from the Set-Cookie header, sessions ended by logout, the CSRF header and
 * Origin checks on writes, roles (public → 401, lower role → 403), accounts (admin), request
 * limits (429 with Retry-After), the 503 of a server without a database, and the OpenAPI entries.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/server/app.js';
import type { QuarterStore } from '../../src/store/store.js';
import { handRegion } from './hand-region.js';
import { expectError, forEachStoreBackend, login, USERS, type Session } from './session-helpers.js';

const hand = handRegion();

/** Set-Cookie of a response, parsed into attribute names (lower case) → values. */
function setCookie(res: { headers: Record<string, unknown> }, name: string): Map<string, string> {
  const raw = res.headers['set-cookie'];
  const list = (Array.isArray(raw) ? raw : [raw]).filter((x): x is string => typeof x === 'string');
  const line = list.find((l) => l.startsWith(`${name}=`));
  expect(line, `Set-Cookie ${name}`).toBeDefined();
  const attrs = new Map<string, string>();
  line!.split(';').forEach((part, i) => {
    const [k, ...v] = part.trim().split('=');
    attrs.set(i === 0 ? '$value' : k.toLowerCase(), v.join('='));
  });
  return attrs;
}

describe('without a database', () => {
  let bare: FastifyInstance;
  beforeAll(async () => {
    bare = await buildServer({ region: hand.region });
  });
  afterAll(async () => bare?.close());

  test('store-backed routes answer 503 JSON "no database configured"; reads work; /api/me says nobody', async () => {
    for (const [method, url, payload] of [
      ['POST', '/api/login', { name: 'a', password: 'b' }],
      ['POST', '/api/facilities', { formats: ['pharmacy'], name: 'x', lon: 16, lat: 48 }],
      ['GET', '/api/scenarios', undefined],
      ['POST', '/api/plans', { model: 'mclp', format: 'pharmacy', sites: 1, candidates: 'network' }],
      ['POST', '/api/survey', { lon: 16, lat: 48, overall: 5 }],
      ['GET', '/api/users', undefined],
    ] as const) {
      const body = expectError(await bare.inject({ method, url, ...(payload ? { payload } : {}) }), 503);
      expect(body.message).toMatch(/no database configured/);
    }
    expect((await bare.inject({ method: 'GET', url: '/api/facilities' })).statusCode).toBe(200);
    expect((await bare.inject({ method: 'GET', url: '/api/me' })).json()).toEqual({ user: null, csrfToken: null });
  });
});

forEachStoreBackend((backend) => {
  let store: QuarterStore;
  let app: FastifyInstance;

  beforeAll(async () => {
    ({ store } = await backend.storeWithUsers());
    // this file logs in often from one address; the login limit has its own test below
    app = await buildServer({ region: hand.region, store, rateLimit: { loginsPerMinute: 1000 } });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  describe('login', () => {
    test('right password: 200 with user and CSRF token; the cookie is HttpOnly, SameSite=Strict, Path=/, not Secure over http', async () => {
      const res = await app.inject({ method: 'POST', url: '/api/login', payload: { name: USERS.planner.name, password: USERS.planner.password } });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.user).toEqual({ name: USERS.planner.name, role: 'planner' });
      expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const c = setCookie(res, 'quarter_session');
      expect(c.get('$value')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(c.has('httponly')).toBe(true);
      expect(c.get('samesite')?.toLowerCase()).toBe('strict');
      expect(c.get('path')).toBe('/');
      expect(c.has('secure')).toBe(false);
      expect(Number(c.get('max-age'))).toBeGreaterThan(3600);
      expect(res.headers['cache-control']).toBe('no-store');
      // the token is not the CSRF token
      expect(c.get('$value')).not.toBe(body.csrfToken);
    });

    test('GET /api/me: null before, the user and the same CSRF token after', async () => {
      const anon = await app.inject({ method: 'GET', url: '/api/me' });
      expect(anon.json()).toEqual({ user: null, csrfToken: null });
      const s = await login(app, USERS.admin);
      const me = await s.req('GET', '/api/me');
      expect(me.json()).toEqual({ user: { name: 'admin', role: 'admin' }, csrfToken: s.csrf });
    });

    test('wrong password, unknown user and disabled user get the same 401 message', async () => {
      const wrong = await app.inject({ method: 'POST', url: '/api/login', payload: { name: USERS.planner.name, password: 'not-the-password' } });
      const unknown = await app.inject({ method: 'POST', url: '/api/login', payload: { name: 'nobody-here', password: USERS.planner.password } });
      const a = expectError(wrong, 401);
      const b = expectError(unknown, 401);
      expect(a).toEqual(b);
      expect(wrong.headers['set-cookie']).toBeUndefined();
      // both attempts are in the audit log
      const failed = await store.listAudit({ action: 'session.login_failed' });
      expect(failed.length).toBeGreaterThanOrEqual(2);
    });

    test('login names are case- and width-insensitive (the store folds them)', async () => {
      const res = await app.inject({ method: 'POST', url: '/api/login', payload: { name: 'ADMIN', password: USERS.admin.password } });
      expect(res.statusCode).toBe(200);
      expect(res.json().user.name).toBe('admin');
    });

    test('hostile and malformed bodies: 4xx JSON, never 500', async () => {
      const post = (payload: string, type = 'application/json') => app.inject({ method: 'POST', url: '/api/login', payload, headers: { 'content-type': type } });
      expectError(await post(JSON.stringify({ name: 'admin' })), 400, 'password');
      expectError(await post(JSON.stringify({ password: 'x' })), 400, 'name');
      expectError(await post(JSON.stringify({ name: 'admin', password: { $ne: null } })), 400, 'password');
      expectError(await post(JSON.stringify({ name: '', password: 'x' })), 400, 'name');
      expectError(await post('{"name": "admin", "password": '), 400);
      expectError(await post('{"__proto__": {"role": "admin"}, "name": "a", "password": "b"}'), 400);
      expectError(await post(JSON.stringify({ name: 'admin', password: 'x'.repeat(5000) })), 413, 'body');
      expectError(await post('name=admin&password=x', 'application/x-www-form-urlencoded'), 415);
      expectError(await post(JSON.stringify(['admin', 'x'])), 400);
    });

    test('a login from another site (Origin of another host) is refused', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/login',
        payload: { name: USERS.admin.name, password: USERS.admin.password },
        headers: { origin: 'https://evil.example' },
      });
      expectError(res, 403, 'origin');
    });
  });

  describe('logout', () => {
    test('needs the CSRF token; ends the session and clears the cookie', async () => {
      const s = await login(app, USERS.planner);
      expectError(await s.req('POST', '/api/logout', {}, { csrf: null }), 403, 'csrf');
      expect((await s.req('GET', '/api/scenarios')).statusCode).toBe(200);
      const out = await s.req('POST', '/api/logout', {});
      expect(out.statusCode).toBe(200);
      const c = setCookie(out, 'quarter_session');
      expect(c.get('$value')).toBe('');
      const expired = c.has('max-age') ? Number(c.get('max-age')) <= 0 : Date.parse(c.get('expires') ?? '') < Date.now();
      expect(expired).toBe(true);
      // the old cookie no longer works
      expectError(await s.req('GET', '/api/scenarios'), 401, 'session');
      expect((await s.req('GET', '/api/me')).json()).toEqual({ user: null, csrfToken: null });
    });

    test('without a session: 200, nothing to end', async () => {
      expect((await app.inject({ method: 'POST', url: '/api/logout', payload: {} })).statusCode).toBe(200);
    });
  });

  describe('CSRF and Origin on writes', () => {
    let s: Session;
    beforeAll(async () => {
      s = await login(app, USERS.planner);
    });
    const body = { name: 'csrf-test', edits: [] };

    test('missing or wrong x-csrf-token: 403, nothing saved', async () => {
      expectError(await s.req('POST', '/api/scenarios', body, { csrf: null }), 403, 'csrf');
      expectError(await s.req('POST', '/api/scenarios', body, { csrf: 'A'.repeat(43) }), 403, 'csrf');
      expectError(await s.req('POST', '/api/scenarios', body, { csrf: '' }), 403, 'csrf');
      // another session's token does not fit this session
      const other = await login(app, USERS.admin);
      expectError(await s.req('POST', '/api/scenarios', body, { csrf: other.csrf }), 403, 'csrf');
      expect(await store.listScenarios()).toEqual([]);
    });

    test('an Origin of another host: 403; this host: accepted', async () => {
      expectError(await s.req('POST', '/api/scenarios', body, { headers: { origin: 'http://evil.example' } }), 403, 'origin');
      expectError(await s.req('POST', '/api/scenarios', body, { headers: { origin: 'null' } }), 403, 'origin');
      const ok = await s.req('POST', '/api/scenarios', body, { headers: { origin: 'http://localhost:80', host: 'localhost:80' } });
      expect(ok.statusCode, ok.body).toBe(201);
    });

    test('reads need no CSRF token', async () => {
      expect((await s.req('GET', '/api/scenarios')).statusCode).toBe(200);
    });
  });

  describe('roles', () => {
    test('not logged in: 401 on planner and admin routes; public reads stay open', async () => {
      for (const [method, url] of [
        ['GET', '/api/scenarios'],
        ['POST', '/api/scenarios'],
        ['GET', '/api/plans'],
        ['POST', '/api/facilities'],
        ['GET', '/api/survey/summary'],
        ['GET', '/api/exports/assessment.csv'],
        ['GET', '/api/users'],
      ] as const) {
        expectError(await app.inject({ method, url, payload: method === 'POST' ? {} : undefined }), 401, 'session');
      }
      expect((await app.inject({ method: 'GET', url: '/api/facilities' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/api/regions' })).statusCode).toBe(200);
    });

    test('a public-role user: 403 on planner routes; a planner: 403 on admin routes; an admin: 200', async () => {
      const reader = await login(app, USERS.reader);
      expectError(await reader.req('GET', '/api/scenarios'), 403, 'role');
      const planner = await login(app, USERS.planner);
      expectError(await planner.req('GET', '/api/users'), 403, 'role');
      expectError(await planner.req('POST', '/api/users', { name: 'x', password: 'long-enough-1', role: 'admin' }), 403, 'role');
      const admin = await login(app, USERS.admin);
      const list = await admin.req('GET', '/api/users');
      expect(list.statusCode).toBe(200);
      expect((list.json().users as Array<{ name: string }>).map((u) => u.name).sort()).toEqual(Object.values(USERS).map((u) => u.name).sort());
    });

    test('a forged cookie is not a session', async () => {
      const res = await app.inject({ method: 'GET', url: '/api/scenarios', cookies: { quarter_session: 'A'.repeat(43) } });
      expectError(res, 401, 'session');
      const weird = await app.inject({ method: 'GET', url: '/api/scenarios', cookies: { quarter_session: "'; DROP TABLE users; --" } });
      expectError(weird, 401, 'session');
    });
  });

  describe('accounts (admin)', () => {
    test('create, duplicate name (409), short password (400); version conflict (409); disable ends the sessions', async () => {
      const admin = await login(app, USERS.admin);
      const created = await admin.req('POST', '/api/users', { name: 'new-planner', password: 'a-long-password', role: 'planner' });
      expect(created.statusCode, created.body).toBe(201);
      const u = created.json();
      expect(u).toMatchObject({ name: 'new-planner', role: 'planner', disabled: false, version: 1 });
      expect(JSON.stringify(u)).not.toMatch(/password|scrypt/);
      expectError(await admin.req('POST', '/api/users', { name: 'NEW-planner', password: 'a-long-password', role: 'planner' }), 409, 'name');
      expectError(await admin.req('POST', '/api/users', { name: 'short', password: 'short', role: 'planner' }), 400, 'password');
      expectError(await admin.req('POST', '/api/users', { name: 'x', password: 'a-long-password', role: 'root' }), 400, 'role');

      const theirs = await login(app, { name: 'new-planner', password: 'a-long-password', role: 'planner' });
      expect((await theirs.req('GET', '/api/scenarios')).statusCode).toBe(200);
      expectError(await admin.req('PATCH', `/api/users/${u.id}`, { version: 7, disabled: true }), 409, 'version');
      const disabled = await admin.req('PATCH', `/api/users/${u.id}`, { version: 1, disabled: true });
      expect(disabled.statusCode, disabled.body).toBe(200);
      expect(disabled.json()).toMatchObject({ disabled: true, version: 2 });
      expectError(await theirs.req('GET', '/api/scenarios'), 401, 'session');
      expectError(await app.inject({ method: 'POST', url: '/api/login', payload: { name: 'new-planner', password: 'a-long-password' } }), 401);
    });

    test('an admin cannot demote or disable their own account', async () => {
      const admin = await login(app, USERS.admin);
      const me = (await admin.req('GET', '/api/users')).json().users.find((x: { name: string }) => x.name === 'admin');
      expectError(await admin.req('PATCH', `/api/users/${me.id}`, { version: me.version, role: 'planner' }), 400, 'role');
      expectError(await admin.req('PATCH', `/api/users/${me.id}`, { version: me.version, disabled: true }), 400, 'disabled');
      expectError(await admin.req('PATCH', '/api/users/999999', { version: 1, role: 'planner' }), 404);
      expectError(await admin.req('PATCH', '/api/users/abc', { version: 1, role: 'planner' }), 400, 'id');
    });
  });

  describe('request limits', () => {
    test('login: the 11th attempt within a minute from one address is 429 with Retry-After, as JSON', async () => {
      const limited = await buildServer({ region: hand.region, store });
      try {
        const attempt = (ip: string) => limited.inject({ method: 'POST', url: '/api/login', payload: { name: 'admin', password: 'wrong-password' }, remoteAddress: ip });
        for (let i = 0; i < 10; i++) expect((await attempt('10.1.1.1')).statusCode).toBe(401);
        const res = await attempt('10.1.1.1');
        expectError(res, 429);
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        // a right password is refused too while limited: the limit comes before the check
        const right = await limited.inject({ method: 'POST', url: '/api/login', payload: { name: 'admin', password: USERS.admin.password }, remoteAddress: '10.1.1.1' });
        expect(right.statusCode).toBe(429);
        // another address is not limited
        expect((await attempt('10.1.1.2')).statusCode).toBe(401);
      } finally {
        await limited.close();
      }
    });

    test('reads: the limit of the server (here 5 a minute) gives 429 on the 6th', async () => {
      const limited = await buildServer({ region: hand.region, rateLimit: { readsPerMinute: 5 } });
      try {
        for (let i = 0; i < 5; i++) expect((await limited.inject({ method: 'GET', url: '/api/regions' })).statusCode).toBe(200);
        const res = await limited.inject({ method: 'GET', url: '/api/regions' });
        expectError(res, 429);
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      } finally {
        await limited.close();
      }
    });

    test('basemap tiles have their own limit: panning does not use up the reads, and tiles stop at theirs', async () => {
      const limited = await buildServer({ region: hand.region, rateLimit: { readsPerMinute: 3, tilesPerMinute: 8 } });
      try {
        const tile = (i: number) => limited.inject({ method: 'GET', url: `/api/basemap/tiles/14/${8000 + i}/5000.pbf` });
        for (let i = 0; i < 8; i++) expect((await tile(i)).statusCode).toBe(200);
        expectError(await tile(8), 429);
        // eight tiles later, the three reads are all still there
        for (let i = 0; i < 3; i++) expect((await limited.inject({ method: 'GET', url: '/api/regions' })).statusCode).toBe(200);
        expectError(await limited.inject({ method: 'GET', url: '/api/regions' }), 429);
      } finally {
        await limited.close();
      }
    });
  });

  describe('cookies behind TLS', () => {
    test('Secure with secureCookies, or on https requests through a trusted proxy', async () => {
      const tls = await buildServer({ region: hand.region, store, auth: { secureCookies: true } });
      const proxied = await buildServer({ region: hand.region, store, trustProxy: true });
      try {
        const payload = { name: USERS.planner.name, password: USERS.planner.password };
        const a = await tls.inject({ method: 'POST', url: '/api/login', payload });
        expect(setCookie(a, 'quarter_session').has('secure')).toBe(true);
        const b = await proxied.inject({ method: 'POST', url: '/api/login', payload, headers: { 'x-forwarded-proto': 'https' } });
        expect(setCookie(b, 'quarter_session').has('secure')).toBe(true);
        const c = await proxied.inject({ method: 'POST', url: '/api/login', payload });
        expect(setCookie(c, 'quarter_session').has('secure')).toBe(false);
      } finally {
        await tls.close();
        await proxied.close();
      }
    });
  });

  describe('OpenAPI', () => {
    test('documents the new routes with cookie + CSRF security', async () => {
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['csrfHeader', 'sessionCookie']);
      expect(doc.components.securitySchemes.sessionCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'quarter_session' });
      expect(doc.components.securitySchemes.csrfHeader).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-csrf-token' });
      const write = [{ sessionCookie: [], csrfHeader: [] }];
      const read = [{ sessionCookie: [] }];
      const expectations: Array<[string, string, unknown]> = [
        ['/api/facilities', 'post', write],
        ['/api/facilities/{ref}', 'patch', write],
        ['/api/facilities/{ref}', 'delete', write],
        ['/api/facilities/{ref}/history', 'get', read],
        ['/api/scenarios', 'get', read],
        ['/api/scenarios', 'post', write],
        ['/api/scenarios/{id}', 'patch', write],
        ['/api/scenarios/{id}/evaluate', 'post', write],
        ['/api/plans', 'post', write],
        ['/api/plans/{id}', 'get', read],
        ['/api/plans/{id}', 'delete', write],
        ['/api/plans/{id}/export.xlsx', 'get', read],
        ['/api/zoning', 'post', write],
        ['/api/exports/assessment.csv', 'get', read],
        ['/api/survey/summary', 'get', read],
        ['/api/users', 'get', read],
        ['/api/users/{id}', 'patch', write],
      ];
      for (const [path, method, security] of expectations) {
        expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
        expect(doc.paths[path][method].security, `${method} ${path}`).toEqual(security);
      }
      // public routes carry no security
      expect(doc.paths['/api/survey'].post.security).toBeUndefined();
      expect(doc.paths['/api/login'].post.security).toBeUndefined();
      expect(doc.paths['/api/nearest'].get.security).toBeUndefined();
    });
  });
});
