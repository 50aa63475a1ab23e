/**
 * The built web app (dist/web) at /, and the security headers every response carries.
 * index.html is revalidated on every load (no-cache) so a new build shows at once; Vite's
 * content-hashed files under assets/ never change, so browsers keep them for a year.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';

/** Where `npx vite build --config web/vite.config.ts` writes the app. */
export const DEFAULT_WEB_ROOT = join(PACKAGE_ROOT, 'dist', 'web');

/** Client-side routes of the app: each serves index.html, the app's router does the rest. */
export const SPA_ROUTES = ['/', '/resident', '/planner'] as const;

/**
 * Same origin only, except: blob: workers and images (MapLibre starts its workers from blob:
 * URLs and draws to blob: images), data: images and fonts (icons inlined by the bundler), and
 * inline style attributes (MapLibre and ECharts position elements with them). No framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "child-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** Add the security headers to every response (routes, static files, 404s and errors). Install first. */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    return payload;
  });
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
/** Vite names built files <name>-<8-character hash>.<ext> under assets/. */
const HASHED = /-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$/;

/** Is the file at this path one of the bundler's content-hashed assets (or its .br / .gz copy)? */
export function isHashedAsset(path: string): boolean {
  return path.split(sep).includes('assets') && HASHED.test(basename(path).replace(/\.(br|gz)$/, ''));
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Quarter 一刻钟便民生活圈</title></head>
<body>
<h1>Quarter API is running</h1>
<p>The web app is not built. From the repository root run</p>
<pre>npx vite build --config web/vite.config.ts</pre>
<p>(it writes <code>dist/web</code>), then restart <code>quarter serve</code>.</p>
<p>The HTTP API is here: <a href="/docs">/docs</a> (OpenAPI at <a href="/openapi.json">/openapi.json</a>).</p>
</body></html>
`;

/**
 * Serve the web app from webRoot when it holds an index.html, else a page saying how to build
 * it. Returns whether the app is served.
 */
export async function registerWebApp(app: FastifyInstance, webRoot: string): Promise<boolean> {
  const built = existsSync(join(webRoot, 'index.html'));
  const spaPaths = SPA_ROUTES.flatMap((r) => (r === '/' ? [r] : [r, `${r}/*`]));
  if (!built) {
    for (const url of spaPaths) {
      app.get(url, { schema: { hide: true } }, async (_req, reply) => reply.header('cache-control', REVALIDATE).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE));
    }
    return false;
  }
  await app.register(fastifyStatic, {
    root: webRoot,
    prefix: '/',
    index: false,
    wildcard: true,
    // send's own Cache-Control would say max-age=0 for everything; the rule is set per file below
    cacheControl: false,
    dotfiles: 'ignore',
    // the build writes .br and .gz copies of scripts and stylesheets (web/vite.config.ts): sent
    // as they are, so nothing is compressed per request; files without them are compressed here
    preCompressed: true,
    setHeaders: (res, path) => {
      res.setHeader('cache-control', isHashedAsset(path) ? IMMUTABLE : REVALIDATE);
      // the body depends on Accept-Encoding (precompressed copies), which caches must know
      res.setHeader('vary', 'accept-encoding');
    },
  });
  const sendIndex = (reply: FastifyReply): FastifyReply => reply.header('cache-control', REVALIDATE).sendFile('index.html');
  for (const url of spaPaths) app.get(url, { schema: { hide: true } }, async (_req, reply) => sendIndex(reply));
  return true;
}
