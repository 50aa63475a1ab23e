/**
 * End-to-end harness: the built web app (dist/web, rebuilt when web/ is newer), the real API
 * server on the Krems demo region listening on 127.0.0.1 (random port), and Debian's Chromium
 * driven by playwright-core. Screenshots go to test/.artifacts/e2e/.
 * With `store`, the server gets an in-memory SQLite store with the given users (logins, scenarios,
 * plan runs, survey), and plan runs use the worker compiled by the test run's global setup.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { inject } from 'vitest';
import { importRegion } from '../../src/region/import-region.js';
import type { Region } from '../../src/region/region.js';
import { buildServer } from '../../src/server/app.js';
import type { RateLimits } from '../../src/server/context.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { QuarterStore, UserRole } from '../../src/store/store.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_SRC = join(ROOT, 'web');
export const WEB_DIST = join(ROOT, 'dist', 'web');
export const ARTIFACTS = join(ROOT, 'test', '.artifacts', 'e2e');
const BUILD_LOCK = join(ROOT, 'test', '.tmp', 'e2e-web-build.lock');
const LOCK_STALE_MS = 240_000;

/** Newest modification time of the files under dir (0 if none). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const webBuildIsFresh = (): boolean => {
  const index = join(WEB_DIST, 'index.html');
  return existsSync(index) && statSync(index).mtimeMs >= newestMtime(WEB_SRC);
};

/**
 * Build dist/web unless it is newer than every file of web/. Test files run in parallel workers:
 * a lock directory (mkdir is atomic) lets one build while the others wait, then re-check.
 */
export async function ensureWebBuild(): Promise<void> {
  if (webBuildIsFresh()) return;
  mkdirSync(dirname(BUILD_LOCK), { recursive: true });
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch {
      // Held by another worker. A lock older than any build is left over from a killed run.
      const held = statSync(BUILD_LOCK, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) rmdirSync(BUILD_LOCK);
      else if (Date.now() - started > LOCK_STALE_MS) throw new Error(`waited ${LOCK_STALE_MS / 1000} s for ${BUILD_LOCK}`);
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (webBuildIsFresh()) return;
    try {
      execFileSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
        cwd: ROOT,
        // vitest sets NODE_ENV=test, which vite would keep: Vue's development build, not what is served
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`vite build of the web app failed:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.stdout || e.stderr ? '' : e.message}`);
    }
    if (!existsSync(join(WEB_DIST, 'index.html'))) throw new Error(`vite build did not produce ${WEB_DIST}/index.html`);
  } finally {
    rmdirSync(BUILD_LOCK);
  }
}

export interface E2eEnv {
  baseUrl: string;
  region: Region;
  app: FastifyInstance;
  browser: Browser;
  /** the server's store (null without one). */
  store: QuarterStore | null;
  close(): Promise<void>;
}

export interface E2eUser {
  name: string;
  password: string;
  role: UserRole;
}

export interface E2eOptions {
  /** give the server an in-memory store with these users. */
  store?: { users: E2eUser[] };
  /** request limits (default: the server's). */
  rateLimit?: Partial<RateLimits> | false;
}

/** The plan worker compiled by the global setup's build (test/cli/global-setup.ts), next to its CLI. */
function planWorkerScript(): string | null {
  let cli: string;
  try {
    cli = inject('quarterCli');
  } catch {
    return null;
  }
  const worker = join(dirname(cli), '..', 'plan', 'plan-worker.js');
  return existsSync(worker) ? worker : null;
}

const LAUNCH_ARGS = [
  '--no-sandbox',
  // Headless Chromium without a GPU renders WebGL with SwiftShader only when allowed.
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
  '--ignore-gpu-blocklist',
];

export async function startE2e(opts: E2eOptions = {}): Promise<E2eEnv> {
  mkdirSync(ARTIFACTS, { recursive: true });
  // The artifacts are outputs of a run, never sources.
  const ignore = join(ARTIFACTS, '..', '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '*\n');
  await ensureWebBuild();
  const region = await importRegion(join(ROOT, 'data', 'krems', 'krems.osm.pbf'));
  let store: QuarterStore | null = null;
  if (opts.store) {
    store = await openSqliteStore(':memory:');
    for (const u of opts.store.users) await store.createUser({ name: u.name, password: u.password, role: u.role });
  }
  const app = await buildServer({
    region,
    logger: false,
    webRoot: WEB_DIST,
    ...(store ? { store, plans: { workerScript: planWorkerScript() } } : {}),
    ...(opts.rateLimit !== undefined ? { rateLimit: opts.rateLimit } : {}),
  });
  if (!app.quarter.webApp) throw new Error(`the server does not serve the web app from ${WEB_DIST}`);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS });
  await warmUp(browser);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    region,
    app,
    browser,
    store,
    close: async () => {
      await browser.close();
      await app.close();
      await store?.close();
    },
  };
}

/**
 * Start the browser's GPU process and software WebGL once, so a test's first page load measures
 * the app and not the browser's own start-up.
 */
async function warmUp(browser: Browser): Promise<void> {
  const page = await browser.newPage();
  await page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) throw new Error('no WebGL2 in this Chromium: the map cannot render');
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.finish();
  });
  await page.close();
}

export interface TrackedPage {
  page: Page;
  /** console errors and uncaught exceptions of the page. */
  errors: string[];
}

export async function openPage(env: E2eEnv, path: string, options: BrowserContextOptions = {}): Promise<TrackedPage> {
  const context = await env.browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'zh-CN', ...options });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(env.baseUrl + path);
  return { page, errors };
}

/**
 * Wait until the map exists and has settled after whatever was last asked of it (camera move,
 * new source data): a repaint is requested and the next 'idle' awaited, which MapLibre fires only
 * once every source is loaded, symbols are placed and nothing moves.
 */
export async function waitForMapIdle(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForFunction(() => Boolean(window.__quarter?.map?.isStyleLoaded()), null, { timeout });
  await page.evaluate(
    () =>
      new Promise<void>((ok) => {
        const map = window.__quarter!.map;
        map.once('idle', () => ok());
        map.triggerRepaint();
      }),
  );
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** A JSON answer straight from the API (the reference the page must agree with). */
export async function apiJson<T>(env: E2eEnv, url: string, body?: unknown): Promise<T> {
  const res = await env.app.inject(body === undefined ? { method: 'GET', url } : { method: 'POST', url, payload: body as Record<string, unknown> });
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode} ${res.body.slice(0, 300)}`);
  return res.json() as T;
}

/** API calls as a logged-in user (session cookie and CSRF token), straight to the server. */
export interface ApiSession {
  get<T>(url: string): Promise<T>;
  post<T>(url: string, body: unknown): Promise<T>;
  /** the raw answer (status and body) of any method. */
  request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<{ status: number; body: string }>;
}

export async function apiLogin(env: E2eEnv, user: E2eUser): Promise<ApiSession> {
  const res = await env.app.inject({ method: 'POST', url: '/api/login', payload: { name: user.name, password: user.password } });
  if (res.statusCode !== 200) throw new Error(`login as ${user.name}: HTTP ${res.statusCode} ${res.body.slice(0, 300)}`);
  const cookie = res.cookies.find((c) => c.name === 'quarter_session');
  if (!cookie) throw new Error('login set no quarter_session cookie');
  const { csrfToken } = res.json() as { csrfToken: string };
  const request: ApiSession['request'] = async (method, url, body) => {
    const r = await env.app.inject({
      method,
      url,
      cookies: { quarter_session: cookie.value },
      headers: method === 'GET' ? {} : { 'x-csrf-token': csrfToken },
      ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
    });
    return { status: r.statusCode, body: r.body };
  };
  const json = async <T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> => {
    const r = await request(method, url, body);
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${url}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as T;
  };
  return { get: (url) => json('GET', url), post: (url, body) => json('POST', url, body), request };
}

/** Ray casting over a (Multi)Polygon: outer rings minus holes. */
export function inPolygon(geometry: { type: string; coordinates: unknown }, x: number, y: number): boolean {
  const polys = (geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates) as number[][][][];
  const inRing = (ring: number[][]): boolean => {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
  return polys.some((poly) => inRing(poly[0]) && !poly.slice(1).some(inRing));
}

declare global {
  interface Window {
    /** set by the web app (web/src/map/use-map.ts). */
    __quarter?: { map: import('maplibre-gl').Map };
  }
}
