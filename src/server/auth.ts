/**
 * Logins and who may do what. Roles rank public < planner < admin: reads that were public stay
 * public; a planner edits facilities, scenarios and plans and downloads exports; an admin also
 * manages users.
 *
 * A login sets the cookie `quarter_session` (HttpOnly: scripts cannot read it; SameSite=Strict:
 * other sites' pages do not send it; Secure behind TLS). The store keeps only a hash of its token.
 * Every write that needs a login also needs the header `x-csrf-token` equal to the session's CSRF
 * token — which a page of another origin cannot read — and, when the browser sends an Origin
 * header, that origin must be this host. A wrong password and an unknown user get the same answer
 * after the same work (the store runs scrypt either way).
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { QuarterStore, SessionRecord, UserRole } from '../store/store.js';
import { ApiError } from './errors.js';
import { ERROR_BODY, SECURITY_WRITE } from './schemas.js';

export const SESSION_COOKIE = 'quarter_session';
export const CSRF_HEADER = 'x-csrf-token';
const ROLE_RANK: Readonly<Record<UserRole, number>> = { public: 0, planner: 1, admin: 2 };
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuthOptions {
  /** Secure flag on the session cookie always (the server sits behind TLS); otherwise on https requests only. */
  secureCookies?: boolean;
  /** lifetime of a login in seconds (default: the store's, 24 h). */
  sessionTtlSeconds?: number;
}

export interface Auth {
  readonly store: QuarterStore | null;
  /** The store, or 503 "no database configured". */
  needStore(): QuarterStore;
  /** The request's session (looked up once per request), null when not logged in. */
  session(req: FastifyRequest): Promise<SessionRecord | null>;
  /** onRequest hook: 503 without a store, 401 without a login, 403 for a lower role or a failed CSRF / Origin check on a write. */
  require(role: Exclude<UserRole, 'public'>): onRequestAsyncHookHandler;
  /** onRequest hook: 503 without a store (public routes that write). */
  requireStore: onRequestAsyncHookHandler;
  /** The logged-in user's name (after require()). */
  actor(req: FastifyRequest): string;
  /** 403 unless the Origin header, when present, names this host. */
  checkOrigin(req: FastifyRequest): void;
}

export const noDatabase = (): ApiError => new ApiError(503, 'no database configured: start the server with --db <file> to log in and save edits');

/** Constant-time comparison of two tokens. */
function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export function createAuth(store: QuarterStore | null): Auth {
  const sessions = new WeakMap<FastifyRequest, Promise<SessionRecord | null>>();
  const needStore = (): QuarterStore => {
    if (!store) throw noDatabase();
    return store;
  };
  const session = (req: FastifyRequest): Promise<SessionRecord | null> => {
    let s = sessions.get(req);
    if (!s) {
      const token = req.cookies?.[SESSION_COOKIE];
      s = store && typeof token === 'string' && token !== '' ? store.getSession(token) : Promise.resolve(null);
      sessions.set(req, s);
    }
    return s;
  };
  const checkOrigin = (req: FastifyRequest): void => {
    const origin = header(req, 'origin');
    if (origin === undefined) return;
    let same = false;
    try {
      const o = new URL(origin);
      // both through URL, so that a default port (":80", ":443") written on one side only still matches
      same = (o.protocol === 'http:' || o.protocol === 'https:') && o.host === new URL(`${o.protocol}//${req.host}`).host;
    } catch {
      same = false;
    }
    if (!same) throw new ApiError(403, `Origin ${JSON.stringify(origin.slice(0, 100))} is not this site: cross-site writes are refused`, 'origin');
  };
  // the logged-in user's name per request, set by require()
  const actorNames = new WeakMap<FastifyRequest, string>();
  return {
    store,
    needStore,
    session,
    checkOrigin,
    requireStore: async () => {
      needStore();
    },
    require(role) {
      return async (req, reply) => {
        needStore();
        reply.header('cache-control', 'no-store');
        const s = await session(req);
        if (!s) throw new ApiError(401, 'log in first (POST /api/login)', 'session');
        if (!SAFE_METHODS.has(req.method)) {
          checkOrigin(req);
          const token = header(req, CSRF_HEADER);
          if (token === undefined || token === '') throw new ApiError(403, `the ${CSRF_HEADER} header is missing: send the csrfToken from POST /api/login or GET /api/me`, 'csrf');
          if (!sameToken(token, s.csrfToken)) throw new ApiError(403, `the ${CSRF_HEADER} header does not match this session: reload (GET /api/me) and try again`, 'csrf');
        }
        if (ROLE_RANK[s.role] < ROLE_RANK[role]) throw new ApiError(403, `this needs the ${role} role; user "${s.userName}" is ${s.role}`, 'role');
        actorNames.set(req, s.userName);
      };
    },
    actor(req) {
      const name = actorNames.get(req);
      if (name === undefined) throw new Error('auth.actor called on a route without require()');
      return name;
    },
  };
}

const cookieOptions = (req: FastifyRequest, opts: AuthOptions, maxAgeSeconds: number) => ({
  path: '/',
  httpOnly: true,
  sameSite: 'strict' as const,
  secure: opts.secureCookies === true || req.protocol === 'https',
  maxAge: maxAgeSeconds,
});

const USER_BODY = { type: 'object', nullable: true, properties: { name: { type: 'string' }, role: { type: 'string', enum: ['public', 'planner', 'admin'] } } } as const;
const ME_BODY = {
  type: 'object',
  properties: { user: USER_BODY, csrfToken: { type: 'string', nullable: true } },
} as const;

export interface LoginLimits {
  /** logins per minute per client address; null = no limit. */
  loginsPerMinute: number | null;
}

/** @fastify/cookie, registered before any route so that every request has its cookies parsed. */
export async function registerCookies(app: FastifyInstance): Promise<void> {
  await app.register(cookie);
}

/** The routes /api/login, /api/logout, /api/me. */
export function registerAuthRoutes(app: FastifyInstance, auth: Auth, opts: AuthOptions, limits: LoginLimits): void {
  const errors = { 400: ERROR_BODY, 401: ERROR_BODY, 403: ERROR_BODY, 413: ERROR_BODY, 429: ERROR_BODY, 503: ERROR_BODY };

  app.post<{ Body: { name: string; password: string } }>(
    '/api/login',
    {
      bodyLimit: 4096,
      config: limits.loginsPerMinute !== null ? { rateLimit: { max: limits.loginsPerMinute, timeWindow: 60_000 } } : {},
      onRequest: auth.requireStore,
      schema: {
        summary: 'log in: sets the session cookie and returns the CSRF token for writes',
        tags: ['auth'],
        body: {
          type: 'object',
          required: ['name', 'password'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        response: { 200: ME_BODY, ...errors },
      },
    },
    async (req, reply) => {
      const store = auth.needStore();
      auth.checkOrigin(req);
      const { name, password } = req.body;
      const user = await store.verifyUserPassword(name, password);
      if (!user) {
        // the same answer for an unknown name, a wrong password and a disabled user
        await store.appendAudit({ actor: null, action: 'session.login_failed', entity: 'user', entityId: null, detail: { name: name.slice(0, 100) } });
        throw new ApiError(401, 'wrong user name or password', 'password');
      }
      const old = req.cookies?.[SESSION_COOKIE];
      if (typeof old === 'string' && old !== '') await store.deleteSession(old);
      const s = await store.createSession(user.id, opts.sessionTtlSeconds !== undefined ? { ttlSeconds: opts.sessionTtlSeconds } : {});
      const maxAge = Math.max(1, Math.round((Date.parse(s.expiresAt) - Date.now()) / 1000));
      reply.header('cache-control', 'no-store').setCookie(SESSION_COOKIE, s.token, cookieOptions(req, opts, maxAge));
      return { user: { name: s.userName, role: s.role }, csrfToken: s.csrfToken };
    },
  );

  app.post(
    '/api/logout',
    {
      bodyLimit: 1024,
      onRequest: auth.requireStore,
      schema: {
        summary: 'log out: ends the session and clears the cookie',
        tags: ['auth'],
        security: [...SECURITY_WRITE],
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, ...errors },
      },
    },
    async (req, reply) => {
      const store = auth.needStore();
      const s = await auth.session(req);
      if (s) {
        // ending someone's session is a write too: a forged request must not log people out
        auth.checkOrigin(req);
        const token = header(req, CSRF_HEADER);
        if (token === undefined || !sameToken(token, s.csrfToken)) throw new ApiError(403, `the ${CSRF_HEADER} header is missing or wrong`, 'csrf');
        await store.deleteSession(req.cookies[SESSION_COOKIE] as string);
      }
      reply.header('cache-control', 'no-store').clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: opts.secureCookies === true || req.protocol === 'https' });
      return { ok: true };
    },
  );

  app.get(
    '/api/me',
    {
      schema: {
        summary: 'who is logged in (null when nobody), with the CSRF token for writes',
        tags: ['auth'],
        response: { 200: ME_BODY },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const s = await auth.session(req);
      return s ? { user: { name: s.userName, role: s.role }, csrfToken: s.csrfToken } : { user: null, csrfToken: null };
    },
  );
}
