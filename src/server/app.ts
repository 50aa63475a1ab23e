/**
 * The HTTP API (Fastify): one loaded region, answered from in-memory routing contexts.
 * Every parameter is validated by JSON schema (patterns reject hostile strings before any
 * handler runs); errors are JSON naming the field at fault; OpenAPI at /openapi.json, docs at /docs.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { createRoutingContext, insideRegion, type RoutingContext } from '../access/context.js';
import { nearestFromPoint } from '../access/nearest.js';
import { assess } from '../assess/assess.js';
import { MomentError, parseMoment } from '../assess/opening-hours.js';
import { listStandardsProfiles, loadStandardsProfile, StandardsError, type StandardsProfile } from '../assess/standards.js';
import { runDijkstra } from '../engine/dijkstra.js';
import { isochrone } from '../engine/isochrone.js';
import { loadWalkingProfiles } from '../engine/profile.js';
import { snapPreferMain, snapsToSources, type Snap } from '../engine/snap.js';
import { readRegion } from '../region/region-file.js';
import type { Region } from '../region/region.js';
import { loadTaxonomy, type Taxonomy } from '../taxonomy/formats.js';
import { ApiError, badRequest, installErrorHandlers, notFound } from './errors.js';
import { summariseAssessment } from './summary.js';

export interface ServerOptions {
  /** a .quarter region file to load, or */
  regionFile?: string;
  /** an already loaded region. */
  region?: Region;
  /** Fastify logger options; false (the default) for none. */
  logger?: boolean | object;
}

/** Request bodies larger than this are refused with 413. */
export const BODY_LIMIT = 1024 * 1024;
/** /api/facilities returns at most this many (limit ≤ this). */
export const FACILITY_CAP = 5000;

// ---- schema fragments (patterns are the first line of defence: nothing else reaches a handler) ----
const NUM = '-?[0-9]{1,3}(?:\\.[0-9]{1,12})?';
const LONLAT = { type: 'string', maxLength: 64, pattern: `^\\s*${NUM}\\s*,\\s*${NUM}\\s*$`, description: 'lon,lat (WGS-84 degrees)' } as const;
const PROFILE_ID = { type: 'string', maxLength: 32, pattern: '^[A-Za-z0-9_-]+$' } as const;
const FORMAT_ID = { type: 'string', maxLength: 64, pattern: '^[a-z0-9_]+$' } as const;
const MINUTE = '[0-9]{1,3}(?:\\.[0-9]{1,3})?';
const MINUTES = { type: 'string', maxLength: 80, pattern: `^${MINUTE}(?:,${MINUTE}){0,9}$`, default: '5,10,15', description: 'up to 10 thresholds in minutes (0.5–120)' } as const;
const BBOX = { type: 'string', maxLength: 128, pattern: `^${NUM},${NUM},${NUM},${NUM}$`, description: 'west,south,east,north' } as const;
const ERROR = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
  required: ['error', 'message'],
} as const;
const errors = { 400: ERROR, 404: ERROR } as const;

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  if (!opts.region && !opts.regionFile) throw new Error('buildServer: give regionFile or region');
  const region = opts.region ?? readRegion(opts.regionFile!);
  const taxonomy: Taxonomy = loadTaxonomy();
  const walkingIds = loadWalkingProfiles().map((p) => p.id);
  const standardsIds = listStandardsProfiles().map((p) => p.id);

  const contexts = new Map<string, RoutingContext>();
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
  const [w, s, e, n] = region.meta.bbox;
  const extent = `lon ${w.toFixed(4)}…${e.toFixed(4)}, lat ${s.toFixed(4)}…${n.toFixed(4)}`;

  /** A parsed and checked point: 400 if malformed or swapped, 404 if outside the region or off the network. */
  const pointIn = (ctx: RoutingContext, field: string, raw: string): { lon: number; lat: number; snap: Snap } => {
    const [lon, lat] = raw.split(',').map((x) => Number(x.trim()));
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) throw badRequest(field, `querystring/${field} must be "lon,lat"`);
    if (Math.abs(lon) > 180 || Math.abs(lat) > 90) {
      if (Math.abs(lat) > 90 && Math.abs(lon) <= 90) throw badRequest(field, `querystring/${field}: latitude ${lat} is out of range; did you swap them? Write lon,lat (${lat},${lon})`);
      throw badRequest(field, `querystring/${field}: ${lon},${lat} is not a WGS-84 lon,lat`);
    }
    if (!insideRegion(region, lon, lat)) {
      if (insideRegion(region, lat, lon)) throw badRequest(field, `querystring/${field} ${lon},${lat} looks swapped: write lon,lat (${lat},${lon})`);
      throw notFound(field, `${field} ${lon},${lat} is outside the data of region ${JSON.stringify(region.meta.name)} (${extent})`);
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
  const countsByFormat = new Map<string, number>(taxonomy.formats.map((f) => [f.id, 0]));
  for (const f of region.facilities) for (const fmt of f.formats) countsByFormat.set(fmt, (countsByFormat.get(fmt) ?? 0) + 1);

  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: BODY_LIMIT });
  installErrorHandlers(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Quarter API', description: '一刻钟便民生活圈: walking times, facilities and assessments for one region', version: '0.1.0' },
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

  app.get('/api/formats', { schema: { summary: 'the facility taxonomy with counts in the region', tags: ['facilities'] } }, async () => ({
    formats: taxonomy.formats.map((f) => ({
      id: f.id,
      name: f.name,
      class: f.class,
      level: f.level,
      mofcomMinutes: f.mofcomMinutes,
      ...(f.gbt37915 ? { gbt37915: f.gbt37915 } : {}),
      count: countsByFormat.get(f.id) ?? 0,
    })),
    attribution: region.meta.attribution,
  }));

  app.get<{ Querystring: { format?: string; bbox?: string; limit: number } }>(
    '/api/facilities',
    {
      schema: {
        summary: 'facilities, optionally of one format and inside a bbox (capped)',
        tags: ['facilities'],
        querystring: {
          type: 'object',
          properties: { format: FORMAT_ID, bbox: BBOX, limit: { type: 'integer', minimum: 1, maximum: FACILITY_CAP, default: 500 } },
        },
        response: errors,
      },
    },
    async (req) => {
      const { format, bbox, limit } = req.query;
      if (format !== undefined) checkFormat(format);
      let box: number[] | null = null;
      if (bbox !== undefined) {
        box = bbox.split(',').map(Number);
        const [bw, bs, be, bn] = box;
        if (Math.abs(bw) > 180 || Math.abs(be) > 180 || Math.abs(bs) > 90 || Math.abs(bn) > 90) throw badRequest('bbox', 'querystring/bbox is out of range: lon in [-180, 180], lat in [-90, 90]');
        if (bw >= be || bs >= bn) throw badRequest('bbox', 'querystring/bbox: west must be < east and south < north');
      }
      const matched = region.facilities.filter(
        (f) => (format === undefined || f.formats.includes(format)) && (!box || (f.lon >= box[0] && f.lon <= box[2] && f.lat >= box[1] && f.lat <= box[3])),
      );
      const list = matched.slice(0, limit);
      return {
        total: matched.length,
        returned: list.length,
        truncated: matched.length > list.length,
        facilities: list.map((f) => ({ id: f.id, name: f.name, formats: f.formats, lon: f.lon, lat: f.lat, source: f.source, sourceId: f.sourceId })),
        attribution: region.meta.attribution,
      };
    },
  );

  app.get<{ Querystring: { at: string; profile: string; maxMinutes: number } }>(
    '/api/nearest',
    {
      schema: {
        summary: 'minutes to the nearest facility of every format from a point',
        tags: ['access'],
        querystring: {
          type: 'object',
          required: ['at'],
          properties: { at: LONLAT, profile: { ...PROFILE_ID, default: 'default' }, maxMinutes: { type: 'number', minimum: 1, maximum: 240, default: 30 } },
        },
        response: errors,
      },
    },
    async (req) => {
      const { at, profile, maxMinutes } = req.query;
      const ctx = contextFor(profile);
      const { lon, lat } = pointIn(ctx, 'at', at);
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
    },
  );

  app.get<{ Querystring: { at: string; minutes: string; profile: string; cell: number } }>(
    '/api/isochrone',
    {
      schema: {
        summary: 'walking-time polygons (GeoJSON FeatureCollection) from a point',
        tags: ['access'],
        querystring: {
          type: 'object',
          required: ['at'],
          properties: { at: LONLAT, minutes: MINUTES, profile: { ...PROFILE_ID, default: 'default' }, cell: { type: 'number', minimum: 5, maximum: 200, default: 20 } },
        },
        response: errors,
      },
    },
    async (req) => {
      const { at, profile, cell } = req.query;
      const minutes = [...new Set(req.query.minutes.split(',').map(Number))].sort((a, b) => a - b);
      if (minutes.some((m) => !(m >= 0.5 && m <= 120))) throw badRequest('minutes', 'querystring/minutes: every threshold must be in [0.5, 120] minutes');
      const ctx = contextFor(profile);
      const { lon, lat, snap } = pointIn(ctx, 'at', at);
      const g = region.graph;
      const seeds = snapsToSources([snap], ctx.edgeSec, g, ctx.profile.speedMps);
      runDijkstra(g, ctx.arcSec, ctx.ws, seeds.nodes, seeds.seconds, Math.max(...minutes) * 60);
      const fc = isochrone(g, ctx.edgeSec, ctx.ws, minutes, { speedMps: ctx.profile.speedMps, cellMetres: cell, origins: [snap], originPoints: [lon, lat] });
      return { ...fc, properties: { at: [lon, lat], profile: ctx.profile.id, minutes, attribution: region.meta.attribution } };
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

  await app.ready();
  return app;
}
