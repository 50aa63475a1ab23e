/**
 * The HTTP API (Fastify): one loaded region, answered from in-memory routing contexts, plus the
 * basemap, routes and place search the web app needs, and the built web app itself at /.
 * Every parameter is validated by JSON schema (patterns reject hostile strings before any
 * handler runs); errors are JSON naming the field at fault; OpenAPI at /openapi.json, docs at /docs.
 * Nearest and isochrone answers are cached (bounded LRU) under the data version, which
 * invalidate() bumps; formats, facilities and the basemap carry ETags.
 *
 * With a store (a database), the same server also takes logins (auth.ts) and the planners'
 * writes: facility edits — the served region is then the imported one plus those edits —,
 * scenarios, plan runs in worker threads, exports, the resident survey and accounts
 * (routes/*.ts). Without one, those routes answer 503 and the read-only API works as before.
 */
import compress from '@fastify/compress';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRoutingContext, insideRegion, type RoutingContext } from '../access/context.js';
import { nearestFromPoint } from '../access/nearest.js';
import { assess } from '../assess/assess.js';
import { MomentError, parseMoment } from '../assess/opening-hours.js';
import { listStandardsProfiles, loadStandardsProfile, StandardsError, type StandardsProfile } from '../assess/standards.js';
import { runDijkstra } from '../engine/dijkstra.js';
import { isochrone } from '../engine/isochrone.js';
import { loadWalkingProfiles } from '../engine/profile.js';
import { snapPreferMain, snapsToSources, type Snap } from '../engine/snap.js';
import { encodeRegion, readRegion } from '../region/region-file.js';
import type { Region } from '../region/region.js';
import { NotFoundError, type QuarterStore } from '../store/store.js';
import { loadTaxonomy, type Taxonomy } from '../taxonomy/formats.js';
import { createAuth, registerAuthRoutes, registerCookies, type AuthOptions } from './auth.js';
import type { RateLimits, ReadRouteContext, StoreRouteContext } from './context.js';
import { effectiveRegion, type EffectiveRegion } from './facility-edits.js';
import { defaultPlanWorkerScript, PlanRunner } from './plan-runner.js';
import { registerExportRoutes } from './routes/exports.js';
import { registerFacilityRoutes } from './routes/facilities.js';
import { registerHeatmapRoutes } from './routes/heatmap.js';
import { registerProfileRoutes } from './routes/profiles.js';
import { registerNearbyRoutes } from './routes/nearby.js';
import { registerBatchRoutes } from './routes/batches.js';
import { registerPlanRoutes } from './routes/plans.js';
import { registerScenarioRoutes } from './routes/scenarios.js';
import { ClientHasher, redisDayKey, registerSurveyRoutes } from './routes/survey.js';
import { registerUserRoutes } from './routes/users.js';
import { DEGREES_PATTERN, FORMAT_ID, LONLAT, PROFILE_ID, SECURITY_SCHEMES } from './schemas.js';
import { acceptedEncodings, BasemapPayload, registerBasemapTiles } from './basemap.js';
import { LruCache, ResponseBody, type LruStats } from './cache.js';
import { ApiError, badRequest, installErrorHandlers, notFound } from './errors.js';
import { walkRoute, type RouteEnd } from './route.js';
import { buildSearchIndex, normaliseForSearch, SEARCH_KINDS, type SearchIndex } from './search.js';
import { summariseAssessment } from './summary.js';
import { DEFAULT_WEB_ROOT, installSecurityHeaders, registerWebApp } from './web.js';

export interface ServerOptions {
  /** a .quarter region file to load, or */
  regionFile?: string;
  /** an already loaded region. */
  region?: Region;
  /** Fastify logger options; false (the default) for none. */
  logger?: boolean | object;
  /** directory of the built web app, served at / when it holds index.html (default dist/web). */
  webRoot?: string;
  /** bounds of the nearest/isochrone response cache. */
  cache?: { maxEntries?: number; maxBytes?: number };
  /**
   * the database of logins, facility edits, scenarios, plan runs and survey answers; without it
   * those routes answer 503. The caller opens and closes it; the region is recorded in it.
   */
  store?: QuarterStore;
  /** session cookie settings. */
  auth?: AuthOptions;
  /** request limits per client (defaults DEFAULT_RATE_LIMITS); false for none. */
  rateLimit?: Partial<RateLimits> | false;
  /** client addresses from X-Forwarded-For / -Proto / -Host (behind a reverse proxy); default false. */
  trustProxy?: boolean;
  /**
   * Keep the rate-limit counters in this Redis instead of in memory, so that several servers behind
   * one proxy share them (N servers would otherwise allow N times the limits). While Redis is
   * unreachable requests are not limited (rather than refused). The caller opens and closes it.
   */
  sharedLimits?: Redis;
  /** plan runs: the compiled worker script (default dist/src/plan/plan-worker.js next to this module) and how many run at once. */
  plans?: { workerScript?: string | null; maxWorkers?: number };
}

export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = { readsPerMinute: 600, tilesPerMinute: 6000, loginsPerMinute: 10, surveysPerHour: 5 };

/** What the app exposes as `app.quarter`. */
export interface QuarterServerState {
  /** the region being served. */
  readonly region: Region;
  /** data version: part of every cache key; invalidate() bumps it. */
  readonly version: number;
  /** whether the built web app is served at /. */
  readonly webApp: boolean;
  /**
   * Forget every cached answer and everything derived from the region (routing contexts,
   * counts, basemap, search index): call after the region or a scenario changed. With `next`,
   * serve that region from now on.
   */
  invalidate(next?: Region): void;
  cacheStats(): LruStats;
  /** Resolves when background work (the basemap's brotli body) is done. */
  warm(): Promise<void>;
  /** plan runs working and waiting (null without a store). */
  planStats(): { running: number; queued: number } | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    quarter: QuarterServerState;
  }
}

export const DEFAULT_CACHE_ENTRIES = 2000;
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
/** /api/search returns at most this many places. */
export const SEARCH_CAP = 50;
/** longest /api/search query (characters). */
export const SEARCH_MAX_CHARS = 100;

/** Request bodies larger than this are refused with 413. */
export const BODY_LIMIT = 1024 * 1024;
/** /api/facilities returns at most this many (limit ≤ this). */
export const FACILITY_CAP = 5000;

// ---- schema fragments (patterns are the first line of defence: nothing else reaches a handler) ----
const NUM = DEGREES_PATTERN;
const MINUTE = '[0-9]{1,3}(?:\\.[0-9]{1,3})?';
const MINUTES = { type: 'string', maxLength: 80, pattern: `^${MINUTE}(?:,${MINUTE}){0,9}$`, default: '5,10,15', description: 'up to 10 thresholds in minutes (0.5–120)' } as const;
const BBOX = { type: 'string', maxLength: 128, pattern: `^${NUM},${NUM},${NUM},${NUM}$`, description: 'west,south,east,north' } as const;
const ERROR = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
  required: ['error', 'message'],
} as const;
const errors = { 400: ERROR, 404: ERROR } as const;
const POSITION = { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2, description: '[lon, lat]' } as const;
const ROUTE_END = {
  type: 'object',
  properties: {
    point: { ...POSITION, description: 'the point asked for' },
    snapped: { ...POSITION, description: 'where it joins the walking network' },
    accessMetres: { type: 'number', description: 'straight walk from the point to the network' },
  },
} as const;
const ROUTE_RESPONSE = {
  type: 'object',
  properties: {
    seconds: { type: 'number' },
    minutes: { type: 'number' },
    metres: { type: 'number', description: 'walked length: access legs plus the network path' },
    profile: { type: 'string' },
    from: ROUTE_END,
    to: ROUTE_END,
    facility: {
      type: 'object',
      nullable: true,
      properties: { id: { type: 'integer' }, name: { type: 'string' }, formats: { type: 'array', items: { type: 'string' } } },
    },
    geometry: {
      type: 'object',
      description: 'GeoJSON LineString: access leg, the network path (edge geometry in walking order), access leg',
      properties: { type: { type: 'string', enum: ['LineString'] }, coordinates: { type: 'array', items: POSITION } },
    },
    attribution: { type: 'string' },
  },
} as const;
const SEARCH_RESPONSE = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'kind', 'lon', 'lat'],
    properties: {
      name: { type: 'string' },
      kind: { type: 'string', enum: [...SEARCH_KINDS] },
      lon: { type: 'number' },
      lat: { type: 'number' },
      id: { type: 'integer', description: 'facility id (facilities only), for /api/route?facility=' },
    },
  },
} as const;

const round7 = (x: number): number => Math.round(x * 1e7) / 1e7;

/** Does an If-None-Match header match this ETag (weak comparison, lists and * allowed)? */
export function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const bare = (t: string): string => t.trim().replace(/^W\//, '');
  const want = bare(etag);
  return (Array.isArray(header) ? header.join(',') : header).split(',').some((t) => t.trim() === '*' || bare(t) === want);
}

/** A JSON body with a weak ETag; 304 without a body when the client has it already. */
function sendTagged(req: FastifyRequest, reply: FastifyReply, body: string): FastifyReply {
  const etag = `W/"${createHash('sha1').update(body).digest('base64url')}"`;
  reply.header('etag', etag).header('cache-control', 'no-cache');
  if (etagMatches(req.headers['if-none-match'], etag)) return reply.code(304).send();
  return reply.type('application/json; charset=utf-8').send(body);
}

/** sha256 of the region file, or of its encoding when the region was given loaded. */
function regionSha256(region: Region, file: string | undefined): string {
  const h = createHash('sha256');
  if (file !== undefined) h.update(readFileSync(file));
  else for (const b of encodeRegion(region)) h.update(b);
  return h.digest('hex');
}

/** Record the region in the store (facility edits, scenarios and runs refer to it by name) unless it is there with this content. */
async function registerRegion(store: QuarterStore, region: Region, file: string | undefined): Promise<void> {
  const sha256 = regionSha256(region, file);
  try {
    if ((await store.getRegion(region.meta.name)).sha256 === sha256) return;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  await store.upsertRegion({
    name: region.meta.name,
    file: file !== undefined ? resolve(file) : region.meta.source.file || '(loaded)',
    sha256,
    importedAt: region.meta.importedAt,
    meta: { source: region.meta.source, bbox: region.meta.bbox },
  });
}

/** Runs a previous server left queued or running never finish: say so. */
async function failOrphanedRuns(store: QuarterStore, regionName: string): Promise<void> {
  for (const status of ['queued', 'running'] as const) {
    for (const r of await store.listPlanRuns({ region: regionName, status, limit: 1000 })) {
      await store.updatePlanRun(r.id, { status: [status] }, { status: 'failed', error: 'the server stopped before the run finished; start it again' });
    }
  }
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  if (!opts.region && !opts.regionFile) throw new Error('buildServer: give regionFile or region');
  const baseRegion = opts.region ?? readRegion(opts.regionFile!);
  let region = baseRegion;
  let version = 0;
  const taxonomy: Taxonomy = loadTaxonomy();
  const store = opts.store ?? null;
  let effective: EffectiveRegion = effectiveRegion(baseRegion, [], { taxonomy });
  if (store) {
    await registerRegion(store, baseRegion, opts.regionFile);
    effective = effectiveRegion(baseRegion, await store.listFacilityEdits(baseRegion.meta.name), { taxonomy });
    region = effective.region;
    await failOrphanedRuns(store, baseRegion.meta.name);
  }
  /** The served region with its facility refs (plain ids when the region was replaced by invalidate(next)). */
  const currentEffective = (): EffectiveRegion => {
    if (effective.region !== region) {
      effective = { region, refs: region.facilities.map((f) => String(f.id)), idOf: new Map(region.facilities.map((f) => [String(f.id), f.id])), states: new Map(), warnings: [] };
    }
    return effective;
  };
  const limits: RateLimits = opts.rateLimit === false ? { readsPerMinute: null, tilesPerMinute: null, loginsPerMinute: null, surveysPerHour: null } : { ...DEFAULT_RATE_LIMITS, ...opts.rateLimit };
  const walkingIds = loadWalkingProfiles().map((p) => p.id);
  const standardsIds = listStandardsProfiles().map((p) => p.id);
  const cache = new LruCache<ResponseBody>(opts.cache?.maxEntries ?? DEFAULT_CACHE_ENTRIES, opts.cache?.maxBytes ?? DEFAULT_CACHE_BYTES, (b) => b.bytes);

  // derived from the region, built on first use, dropped by invalidate()
  const contexts = new Map<string, RoutingContext>();
  let countsByFormat: Map<string, number> | null = null;
  let basemapPayload: BasemapPayload | null = null;
  let searchIndex: SearchIndex | null = null;
  const formatCounts = (): Map<string, number> => {
    if (countsByFormat) return countsByFormat;
    const counts = new Map<string, number>(taxonomy.formats.map((f) => [f.id, 0]));
    for (const f of region.facilities) for (const fmt of f.formats) counts.set(fmt, (counts.get(fmt) ?? 0) + 1);
    return (countsByFormat = counts);
  };
  const basemap = (): BasemapPayload => (basemapPayload ??= new BasemapPayload(region));
  const search = (): SearchIndex => (searchIndex ??= buildSearchIndex(region, basemap().source === 'osm' ? basemap().streets() : []));
  /**
   * A cached JSON answer, or make, cache and send it — as finished bytes, compressed once per
   * encoding (@fastify/compress leaves a body with a content-encoding alone).
   */
  const sendCached = (req: FastifyRequest, reply: FastifyReply, key: string, make: () => unknown): FastifyReply => {
    const fullKey = `${version}|${key}`;
    let body = cache.get(fullKey);
    reply.header('x-cache', body === undefined ? 'MISS' : 'HIT');
    if (body === undefined) {
      body = new ResponseBody(JSON.stringify(make()));
      cache.set(fullKey, body);
    }
    const { encoding, bytes, grew } = body.encode(acceptedEncodings(req.headers['accept-encoding']));
    if (grew) cache.set(fullKey, body);
    reply.header('vary', 'accept-encoding');
    if (encoding !== 'identity') reply.header('content-encoding', encoding);
    return reply.type('application/json; charset=utf-8').send(bytes);
  };
  const contextFor = (profile: string): RoutingContext => {
    if (!walkingIds.includes(profile)) throw badRequest('profile', `unknown walking profile "${profile}" (known: ${walkingIds.join(', ')})`);
    let ctx = contexts.get(profile);
    if (!ctx) contexts.set(profile, (ctx = createRoutingContext(region, profile)));
    return ctx;
  };
  const standards = new Map<string, StandardsProfile>();
  const standardsFor = (id: string): StandardsProfile => {
    if (!standardsIds.includes(id)) throw badRequest('profile', `unknown standards profile "${id}" (known: ${standardsIds.join(', ')})`);
    let p = standards.get(id);
    if (!p) {
      try {
        p = loadStandardsProfile(id, { taxonomy });
      } catch (err) {
        if (err instanceof StandardsError) throw new ApiError(500, `standards profile "${id}" is broken`);
        throw err;
      }
      standards.set(id, p);
    }
    return p;
  };
  const extent = (): string => {
    const [w, s, e, n] = region.meta.bbox;
    return `lon ${w.toFixed(4)}…${e.toFixed(4)}, lat ${s.toFixed(4)}…${n.toFixed(4)}`;
  };

  /**
   * A parsed and checked point: 400 if malformed or swapped, 404 if outside the region or off the
   * network. Rounded to 1e-7° (1 cm, OSM's own precision) so equal points share cache entries.
   */
  const pointIn = (ctx: RoutingContext, field: string, raw: string): { lon: number; lat: number; snap: Snap } => {
    const [lon, lat] = raw.split(',').map((x) => round7(Number(x.trim())));
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) throw badRequest(field, `querystring/${field} must be "lon,lat"`);
    if (Math.abs(lon) > 180 || Math.abs(lat) > 90) {
      if (Math.abs(lat) > 90 && Math.abs(lon) <= 90) throw badRequest(field, `querystring/${field}: latitude ${lat} is out of range; did you swap them? Write lon,lat (${lat},${lon})`);
      throw badRequest(field, `querystring/${field}: ${lon},${lat} is not a WGS-84 lon,lat`);
    }
    if (!insideRegion(region, lon, lat)) {
      if (insideRegion(region, lat, lon)) throw badRequest(field, `querystring/${field} ${lon},${lat} looks swapped: write lon,lat (${lat},${lon})`);
      throw notFound(field, `${field} ${lon},${lat} is outside the data of region ${JSON.stringify(region.meta.name)} (${extent()})`);
    }
    const limit = region.meta.snapLimitMetres;
    const snap = snapPreferMain(ctx.index, lon, lat, limit);
    if (!snap) throw notFound(field, `${field} ${lon},${lat}: no walkable way within ${limit} m`);
    return { lon, lat, snap };
  };
  const checkFormat = (format: string): void => {
    if (!taxonomy.byId.has(format)) {
      throw badRequest('format', `unknown format "${format}"; see /api/formats (e.g. ${taxonomy.formats.slice(0, 4).map((f) => f.id).join(', ')})`);
    }
  };

  // removeAdditional off: a body field the schema does not know is refused (400 naming it), not silently dropped
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: BODY_LIMIT, trustProxy: opts.trustProxy ?? false, ajv: { customOptions: { removeAdditional: false } } });
  // first: hooks apply to the routes registered after them
  installSecurityHeaders(app);
  installErrorHandlers(app);
  // Ajv coerces a query value "Infinity" or "1e400" to Infinity and then lets it past minimum /
  // maximum; refuse every non-finite number in any query here, once, rather than route by route.
  app.addHook('preHandler', async (req) => {
    const query = req.query as Record<string, unknown> | undefined;
    if (query === null || typeof query !== 'object') return;
    for (const [field, value] of Object.entries(query)) {
      if (typeof value === 'number' && !Number.isFinite(value)) throw badRequest(field, `querystring/${field} must be a finite number`);
    }
  });
  await app.register(compress, { global: true, threshold: 1024, encodings: ['br', 'gzip'] });
  if (opts.rateLimit !== false) {
    // every route without its own limit shares the reads limit; login and survey set their own
    await app.register(rateLimit, {
      global: limits.readsPerMinute !== null,
      max: limits.readsPerMinute ?? 1e9,
      timeWindow: 60_000,
      ...(opts.sharedLimits ? { redis: opts.sharedLimits, nameSpace: 'quarter-rate-limit-', skipOnError: true } : {}),
      errorResponseBuilder: (_req, c) => new ApiError(429, `too many requests (at most ${c.max} in this time window); retry in ${c.after}`),
    });
  }
  await registerCookies(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Quarter API', description: '一刻钟便民生活圈: walking times, facilities and assessments for one region', version: '0.1.0' },
      tags: [
        { name: 'region', description: 'the loaded region' },
        { name: 'facilities', description: 'facility taxonomy and facilities; edits (planner)' },
        { name: 'access', description: 'walking times, catchments and routes' },
        { name: 'map', description: 'the basemap and place search for the web app' },
        { name: 'assess', description: 'assessment against standards' },
        { name: 'auth', description: 'login, logout, who is logged in' },
        { name: 'users', description: 'accounts (admin)' },
        { name: 'scenarios', description: 'scenarios 方案: edits on top of the region, evaluated (planner)' },
        { name: 'plans', description: 'facility location plans and 片区 zoning (planner)' },
        { name: 'exports', description: 'downloads (planner)' },
        { name: 'survey', description: 'the resident satisfaction survey' },
      ],
      // the spread drops `as const`'s readonly, which the OpenAPI types do not accept
      components: { securitySchemes: { sessionCookie: { ...SECURITY_SCHEMES.sessionCookie }, csrfHeader: { ...SECURITY_SCHEMES.csrfHeader } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/api/regions', { schema: { summary: 'the loaded region', tags: ['region'] } }, async () => {
    const m = region.meta;
    return {
      regions: [
        {
          name: m.name,
          bbox: m.bbox,
          importedAt: m.importedAt,
          source: { file: m.source.file.split(/[/\\]/).pop(), format: m.source.format, bytes: m.source.bytes, sha256: m.source.sha256 },
          counts: {
            nodes: region.graph.nodeCount,
            edges: region.graph.edgeCount,
            facilities: region.facilities.length,
            residences: region.residences.count,
            compounds: region.compounds.length,
          },
          snapLimitMetres: m.snapLimitMetres,
          attribution: m.attribution,
          license: m.license,
        },
      ],
    };
  });

  app.get('/api/formats', { schema: { summary: 'the facility taxonomy with counts in the region (ETag)', tags: ['facilities'] } }, async (req, reply) => {
    const counts = formatCounts();
    const body = {
      formats: taxonomy.formats.map((f) => ({
        id: f.id,
        name: f.name,
        class: f.class,
        level: f.level,
        mofcomMinutes: f.mofcomMinutes,
        ...(f.gbt37915 ? { gbt37915: f.gbt37915 } : {}),
        count: counts.get(f.id) ?? 0,
      })),
      attribution: region.meta.attribution,
    };
    return sendTagged(req, reply, JSON.stringify(body));
  });

  app.get<{ Querystring: { format?: string; bbox?: string; limit: number } }>(
    '/api/facilities',
    {
      schema: {
        summary: 'facilities, optionally of one format and inside a bbox (capped; ETag)',
        description:
          'Each facility has `id` (its position in this list, for /api/route?facility=; removing a facility renumbers the ones after it), ' +
          '`ref` (stable: the imported id, or added-… for one added over the API) and `version` (edits so far), which PATCH/DELETE /api/facilities/{ref} need.',
        tags: ['facilities'],
        querystring: {
          type: 'object',
          properties: { format: FORMAT_ID, bbox: BBOX, limit: { type: 'integer', minimum: 1, maximum: FACILITY_CAP, default: 500 } },
        },
        response: errors,
      },
    },
    async (req, reply) => {
      const { format, bbox, limit } = req.query;
      if (format !== undefined) checkFormat(format);
      let box: number[] | null = null;
      if (bbox !== undefined) {
        box = bbox.split(',').map(Number);
        const [bw, bs, be, bn] = box;
        if (Math.abs(bw) > 180 || Math.abs(be) > 180 || Math.abs(bs) > 90 || Math.abs(bn) > 90) throw badRequest('bbox', 'querystring/bbox is out of range: lon in [-180, 180], lat in [-90, 90]');
        if (bw >= be || bs >= bn) throw badRequest('bbox', 'querystring/bbox: west must be < east and south < north');
      }
      const eff = currentEffective();
      const matched = region.facilities.filter(
        (f) => (format === undefined || f.formats.includes(format)) && (!box || (f.lon >= box[0] && f.lon <= box[2] && f.lat >= box[1] && f.lat <= box[3])),
      );
      const list = matched.slice(0, limit);
      const body = {
        total: matched.length,
        returned: list.length,
        truncated: matched.length > list.length,
        facilities: list.map((f) => {
          const ref = eff.refs[f.id] ?? String(f.id);
          return { id: f.id, ref, version: eff.states.get(ref)?.version ?? 0, name: f.name, formats: f.formats, lon: f.lon, lat: f.lat, source: f.source, sourceId: f.sourceId };
        }),
        attribution: region.meta.attribution,
      };
      return sendTagged(req, reply, JSON.stringify(body));
    },
  );

  app.get<{ Querystring: { at: string; profile: string; maxMinutes: number } }>(
    '/api/nearest',
    {
      schema: {
        summary: 'minutes to the nearest facility of every format from a point (cached)',
        tags: ['access'],
        querystring: {
          type: 'object',
          required: ['at'],
          properties: { at: LONLAT, profile: { ...PROFILE_ID, default: 'default' }, maxMinutes: { type: 'number', minimum: 1, maximum: 240, default: 30 } },
        },
        response: errors,
      },
    },
    async (req, reply) => {
      const { at, profile, maxMinutes } = req.query;
      const ctx = contextFor(profile);
      const { lon, lat } = pointIn(ctx, 'at', at);
      return sendCached(req, reply, `nearest|${ctx.profile.id}|${maxMinutes}|${lon},${lat}`, () => {
        const res = nearestFromPoint(ctx, lon, lat, { maxMinutes, formats: taxonomy.formats.map((f) => f.id) });
        if (!res) throw notFound('at', `at ${lon},${lat}: no walkable way nearby`);
        return {
          at: [lon, lat],
          profile: ctx.profile.id,
          accessMetres: res.origin.distance,
          maxMinutes,
          formats: res.formats.map((f) => ({ ...f, name: taxonomy.byId.get(f.format)?.name })),
          attribution: region.meta.attribution,
        };
      });
    },
  );

  app.get<{ Querystring: { at: string; minutes: string; profile: string; cell: number } }>(
    '/api/isochrone',
    {
      schema: {
        summary: 'walking-time polygons (GeoJSON FeatureCollection) from a point (cached)',
        tags: ['access'],
        querystring: {
          type: 'object',
          required: ['at'],
          properties: { at: LONLAT, minutes: MINUTES, profile: { ...PROFILE_ID, default: 'default' }, cell: { type: 'number', minimum: 5, maximum: 200, default: 20 } },
        },
        response: errors,
      },
    },
    async (req, reply) => {
      const { at, profile, cell } = req.query;
      const minutes = [...new Set(req.query.minutes.split(',').map(Number))].sort((a, b) => a - b);
      if (minutes.some((m) => !(m >= 0.5 && m <= 120))) throw badRequest('minutes', 'querystring/minutes: every threshold must be in [0.5, 120] minutes');
      const ctx = contextFor(profile);
      const { lon, lat, snap } = pointIn(ctx, 'at', at);
      return sendCached(req, reply, `isochrone|${ctx.profile.id}|${minutes.join(',')}|${cell}|${lon},${lat}`, () => {
        const g = region.graph;
        const seeds = snapsToSources([snap], ctx.edgeSec, g, ctx.profile.speedMps);
        runDijkstra(g, ctx.arcSec, ctx.ws, seeds.nodes, seeds.seconds, Math.max(...minutes) * 60);
        const fc = isochrone(g, ctx.edgeSec, ctx.ws, minutes, { speedMps: ctx.profile.speedMps, cellMetres: cell, origins: [snap], originPoints: [lon, lat] });
        return { ...fc, properties: { at: [lon, lat], profile: ctx.profile.id, minutes, attribution: region.meta.attribution } };
      });
    },
  );

  app.post<{ Body: { profile: string; population?: number; at?: string } }>(
    '/api/assess',
    {
      schema: {
        summary: 'assess every home against a standards profile: headline, region grade and top gaps',
        tags: ['assess'],
        body: {
          type: 'object',
          required: ['profile'],
          additionalProperties: false,
          properties: {
            profile: { ...PROFILE_ID, description: 'standards profile id (e.g. mofcom-2021)' },
            population: { type: 'number', minimum: 0, maximum: 2e9 },
            at: { type: 'string', maxLength: 40, pattern: '^[\\p{L}0-9 :.+-]+$', description: 'moment facilities must be open: "Mo 07:00", "周一 07:00", ISO time, "now"' },
          },
        },
        response: errors,
      },
    },
    async (req) => {
      const { profile, population, at } = req.body;
      const standardsProfile = standardsFor(profile);
      if (at !== undefined) {
        try {
          parseMoment(at);
        } catch (err) {
          if (err instanceof MomentError) throw badRequest('at', `body/at: ${err.message}`);
          throw err;
        }
      }
      let result;
      try {
        result = assess(region, { profile: standardsProfile, population: population ?? null, at: at ?? null, h3Resolutions: [], taxonomy });
      } catch (err) {
        if (err instanceof MomentError) throw badRequest('at', `body/at: ${err.message}`);
        throw err;
      }
      return summariseAssessment(result, taxonomy);
    },
  );

  app.get(
    '/api/basemap',
    {
      schema: {
        summary: 'the basemap: roads, railways, buildings, water and green space as GeoJSON (ETag; gzip/br)',
        description:
          'A GeoJSON FeatureCollection; every feature has properties {layer: road|rail|building|water|waterway|green, class?, name?}. ' +
          'Header x-quarter-basemap (and the collection member "source") says "osm" (drawn from the OSM extract at import) or ' +
          '"walk-graph" (a region imported without a basemap: its walking network drawn as roads).',
        tags: ['map'],
        response: {
          200: {
            description: 'GeoJSON FeatureCollection',
            type: 'object',
            properties: { type: { type: 'string' }, source: { type: 'string', enum: ['osm', 'walk-graph'] }, attribution: { type: 'string' }, features: { type: 'array' } },
          },
          304: { description: 'not modified (If-None-Match matched the ETag)', type: 'null' },
        },
      },
    },
    async (req, reply) => {
      const bm = basemap();
      reply.header('etag', bm.etag).header('cache-control', 'no-cache').header('vary', 'accept-encoding').header('x-quarter-basemap', bm.source);
      if (etagMatches(req.headers['if-none-match'], bm.etag)) return reply.code(304).send();
      const { encoding, bytes } = bm.body(acceptedEncodings(req.headers['accept-encoding']));
      if (encoding !== 'identity') reply.header('content-encoding', encoding);
      return reply.type('application/geo+json; charset=utf-8').send(bytes);
    },
  );
  registerBasemapTiles(app, basemap, () => region.meta.bbox, () => region.meta.attribution, limits.tilesPerMinute);

  app.get<{ Querystring: { from: string; to?: string; facility?: number; profile: string } }>(
    '/api/route',
    {
      schema: {
        summary: 'the fastest walk from a point to a point or to a facility, with its geometry',
        description: 'Give `to` or `facility`, not both. 404 when a point is off the data or the network does not connect the two ends.',
        tags: ['access'],
        querystring: {
          type: 'object',
          required: ['from'],
          properties: {
            from: LONLAT,
            to: LONLAT,
            facility: { type: 'integer', minimum: 0, maximum: 2147483647, description: 'facility id (see /api/facilities, /api/search)' },
            profile: { ...PROFILE_ID, default: 'default' },
          },
        },
        response: { 200: ROUTE_RESPONSE, ...errors },
      },
    },
    async (req) => {
      const { from, to, facility, profile } = req.query;
      if (to === undefined && facility === undefined) throw badRequest('to', 'querystring/to is required (or give facility=<id>)');
      if (to !== undefined && facility !== undefined) throw badRequest('to', 'querystring: give to or facility, not both');
      const ctx = contextFor(profile);
      const a: RouteEnd = pointIn(ctx, 'from', from);
      let b: RouteEnd;
      let target: { id: number; name: string; formats: string[] } | null = null;
      if (to !== undefined) b = pointIn(ctx, 'to', to);
      else {
        const f = region.facilities[facility!];
        if (!f) throw notFound('facility', `no facility with id ${facility} (ids run 0–${region.facilities.length - 1})`);
        const snap = ctx.facilitySnaps[f.id];
        if (!snap) throw notFound('facility', `facility ${f.id} is more than ${region.meta.snapLimitMetres} m from any walkable way: no route to it`);
        b = { lon: f.lon, lat: f.lat, snap };
        target = { id: f.id, name: f.name, formats: f.formats };
      }
      const r = walkRoute(ctx, a, b);
      const field = to !== undefined ? 'to' : 'facility';
      if (!r) throw notFound(field, `no walking route from ${a.lon},${a.lat} to ${b.lon},${b.lat}: the walking network does not connect them`);
      return {
        seconds: r.seconds,
        minutes: r.seconds / 60,
        metres: r.metres,
        profile: ctx.profile.id,
        from: { point: [a.lon, a.lat], snapped: r.fromSnapped, accessMetres: a.snap.distance },
        to: { point: [b.lon, b.lat], snapped: r.toSnapped, accessMetres: b.snap.distance },
        facility: target,
        geometry: { type: 'LineString', coordinates: r.coordinates },
        attribution: region.meta.attribution,
      };
    },
  );

  app.get<{ Querystring: { q: string; limit: number } }>(
    '/api/search',
    {
      schema: {
        summary: 'places by name: 小区 (compounds), streets and facilities; case-insensitive substring match',
        tags: ['map'],
        querystring: {
          type: 'object',
          required: ['q'],
          properties: {
            q: { type: 'string', minLength: 1, maxLength: SEARCH_MAX_CHARS, description: 'part of a name (Chinese or Latin; no pinyin)' },
            limit: { type: 'integer', minimum: 1, maximum: SEARCH_CAP, default: 10 },
          },
        },
        response: { 200: SEARCH_RESPONSE, ...errors },
      },
    },
    async (req) => {
      const { q, limit } = req.query;
      if (normaliseForSearch(q) === '') throw badRequest('q', 'querystring/q must contain a letter, digit or character, not only spaces');
      return search().search(q, limit);
    },
  );

  const reads: ReadRouteContext = { region: () => region, taxonomy, contextFor, pointIn, checkFormat, sendCached, standardsFor };
  registerNearbyRoutes(app, reads);
  registerHeatmapRoutes(app, reads);
  registerProfileRoutes(app, reads);

  // ---- the store-backed routes (503 without a store)
  const auth = createAuth(store);
  const runner = store ? new PlanRunner({ store, workerScript: opts.plans?.workerScript !== undefined ? opts.plans.workerScript : defaultPlanWorkerScript(), maxWorkers: opts.plans?.maxWorkers, log: (m) => app.log.warn(m) }) : null;
  const ctx: StoreRouteContext = {
    auth,
    base: baseRegion,
    effective: currentEffective,
    setEffective: (next) => {
      effective = next;
      state.invalidate(next.region);
    },
    taxonomy,
    standardsFor,
    limits,
  };
  registerAuthRoutes(app, auth, opts.auth ?? {}, limits);
  registerUserRoutes(app, ctx);
  registerFacilityRoutes(app, ctx);
  registerScenarioRoutes(app, ctx);
  registerPlanRoutes(app, ctx, runner);
  registerBatchRoutes(app, ctx);
  registerExportRoutes(app, ctx);
  registerSurveyRoutes(app, ctx, new ClientHasher(undefined, opts.sharedLimits ? redisDayKey(opts.sharedLimits) : undefined));
  app.addHook('onClose', async () => {
    await runner?.close();
  });

  const webApp = await registerWebApp(app, opts.webRoot ?? DEFAULT_WEB_ROOT);

  const state: QuarterServerState = {
    get region() {
      return region;
    },
    get version() {
      return version;
    },
    webApp,
    invalidate(next?: Region) {
      if (next) region = next;
      version++;
      cache.clear();
      contexts.clear();
      countsByFormat = null;
      basemapPayload = null;
      searchIndex = null;
    },
    cacheStats: () => cache.stats(),
    warm: async () => {
      await basemap().prepare();
    },
    planStats: () => runner?.stats() ?? null,
  };
  app.decorate('quarter', state);
  // start the brotli basemap in the background: the first browser load then gets it
  void basemap().prepare();

  await app.ready();
  return app;
}
