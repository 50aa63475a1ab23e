/**
 * The resident satisfaction survey (满意度调查). Anyone may answer, without a login; answers are
 * anonymous: the store keeps the point (rounded to ~100 m), the H3 cell (resolution 8, about
 * 0.7 km²) it falls in as the zone, the ratings and the comment — and, for rate limiting only, an
 * HMAC of the client address under a secret that lives in memory and is replaced every UTC day,
 * so the address is never stored and yesterday's answers cannot be linked to today's.
 * Planners see per zone how many answered, the mean rating and the share satisfied (4 or 5)
 * against the 90 % target of the Xuhui profile.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cellToLatLng, isValidCell, latLngToCell } from 'h3-js';
import { createHmac, randomBytes } from 'node:crypto';
import { insideRegion } from '../../access/context.js';
import type { StoreRouteContext } from '../context.js';
import { ApiError, badRequest } from '../errors.js';
import { FORMAT_ID, LAT, LON, SECURITY_READ, STORE_ERRORS } from '../schemas.js';

export const SURVEY_ZONE_RESOLUTION = 8;
export const MAX_SURVEY_COMMENT_CHARS = 500;
/** The profile whose resident_satisfaction target the summary is measured against. */
export const SURVEY_TARGET_PROFILE = 'xuhui';
/** A rating of this or more counts as satisfied. */
export const SATISFIED_FROM = 4;
const HOUR_MS = 3_600_000;

/**
 * Keyed hashes of client addresses. The key is random, kept in memory only, and replaced when the
 * UTC day changes.
 */
export class ClientHasher {
  private day = '';
  private key: Buffer = Buffer.alloc(0);

  constructor(private readonly now: () => Date = () => new Date()) {}

  hash(address: string): string {
    const day = this.now().toISOString().slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.key = randomBytes(32);
    }
    return createHmac('sha256', this.key).update(address, 'utf8').digest('base64url').slice(0, 32);
  }
}

// comments may have line breaks and tabs; other control and direction-changing characters are refused
const UNSAFE_COMMENT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

interface SurveyBody {
  lon: number;
  lat: number;
  overall: number;
  perFormat?: Record<string, number>;
  comment?: string;
}

const RATING = { type: 'integer', minimum: 1, maximum: 5 } as const;
const ZONE_SUMMARY = {
  type: 'object',
  properties: {
    zone: { type: 'string', nullable: true, description: 'H3 cell (resolution 8)' },
    center: { type: 'array', nullable: true, items: { type: 'number' }, description: '[lon, lat] of the cell' },
    count: { type: 'integer' },
    meanOverall: { type: 'number' },
    shareSatisfied: { type: 'number', description: `share rating ${SATISFIED_FROM} or 5` },
    meetsTarget: { type: 'boolean' },
  },
} as const;

export function registerSurveyRoutes(app: FastifyInstance, ctx: StoreRouteContext, hasher: ClientHasher = new ClientHasher()): void {
  const { auth, taxonomy } = ctx;
  const regionName = ctx.base.meta.name;
  const perHour = ctx.limits.surveysPerHour;
  const clientOf = (req: FastifyRequest): string => hasher.hash(req.ip);

  app.post<{ Body: SurveyBody }>(
    '/api/survey',
    {
      bodyLimit: 16 * 1024,
      onRequest: auth.requireStore,
      config: perHour !== null ? { rateLimit: { max: perHour, timeWindow: HOUR_MS, keyGenerator: clientOf } } : {},
      schema: {
        summary: 'answer the satisfaction survey (anyone, anonymous; a few answers per hour per client)',
        tags: ['survey'],
        body: {
          type: 'object',
          required: ['lon', 'lat', 'overall'],
          additionalProperties: false,
          properties: {
            lon: LON,
            lat: LAT,
            overall: { ...RATING, description: 'overall satisfaction, 1 (very unsatisfied) to 5 (very satisfied)' },
            perFormat: { type: 'object', maxProperties: 100, propertyNames: FORMAT_ID, additionalProperties: RATING, description: 'ratings per format id, 1–5' },
            comment: { type: 'string', maxLength: 2 * MAX_SURVEY_COMMENT_CHARS, description: `at most ${MAX_SURVEY_COMMENT_CHARS} characters` },
          },
        },
        response: { 201: { type: 'object', properties: { id: { type: 'integer' }, zone: { type: 'string' } } }, ...STORE_ERRORS },
      },
    },
    async (req, reply) => {
      const store = auth.needStore();
      const { lon, lat, overall, perFormat = {}, comment = '' } = req.body;
      const region = ctx.effective().region;
      if (!insideRegion(region, lon, lat)) throw badRequest('lon', `${lon},${lat} is outside region ${JSON.stringify(region.meta.name)}: answer for a place in it`);
      for (const f of Object.keys(perFormat)) if (!taxonomy.byId.has(f)) throw badRequest('perFormat', `perFormat: unknown format "${f}"; see /api/formats`);
      if ([...comment].length > MAX_SURVEY_COMMENT_CHARS) throw badRequest('comment', `comment is ${[...comment].length} characters; at most ${MAX_SURVEY_COMMENT_CHARS}`);
      const bad = UNSAFE_COMMENT.exec(comment);
      if (bad) throw badRequest('comment', `comment contains a control or direction-changing character (U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`);
      const clientHash = clientOf(req);
      // the limit again over a sliding hour from the store (the in-memory limiter counts fixed windows)
      if (perHour !== null && (await store.countSurveyResponsesByClient(clientHash, new Date(Date.now() - HOUR_MS).toISOString())) >= perHour) {
        reply.header('retry-after', 3600);
        throw new ApiError(429, `at most ${perHour} answers per hour from one place; thank you, try again later`);
      }
      const zone = latLngToCell(lat, lon, SURVEY_ZONE_RESOLUTION);
      const rec = await store.addSurveyResponse({ region: regionName, zone, lon, lat, overall, perFormat, comment, clientHash });
      return reply.code(201).send({ id: rec.id, zone });
    },
  );

  app.get(
    '/api/survey/summary',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'survey results per zone (planner): answers, mean rating, share satisfied against the target',
        tags: ['survey'],
        security: [...SECURITY_READ],
        response: {
          200: {
            type: 'object',
            properties: {
              region: { type: 'string' },
              target: { type: 'object', properties: { indicator: { type: 'string' }, value: { type: 'number' }, profile: { type: 'string' } } },
              total: ZONE_SUMMARY,
              zones: { type: 'array', items: ZONE_SUMMARY },
            },
          },
          ...STORE_ERRORS,
        },
      },
    },
    async () => {
      const rows = await auth.needStore().summarizeSurvey(regionName);
      const target = ctx.standardsFor(SURVEY_TARGET_PROFILE).targets.find((t) => t.indicator === 'resident_satisfaction')?.value ?? 0.9;
      let count = 0;
      let sum = 0;
      let satisfied = 0;
      const zones = rows.map((r) => {
        count += r.count;
        sum += r.meanOverall * r.count;
        satisfied += Math.round(r.shareSatisfied * r.count);
        // zones written by other tools may be named areas rather than cells
        const c = r.zone !== null && isValidCell(r.zone) ? cellToLatLng(r.zone) : null;
        return { zone: r.zone, center: c ? [c[1], c[0]] : null, count: r.count, meanOverall: r.meanOverall, shareSatisfied: r.shareSatisfied, meetsTarget: r.shareSatisfied >= target };
      });
      const share = count > 0 ? satisfied / count : 0;
      return {
        region: regionName,
        target: { indicator: 'resident_satisfaction', value: target, profile: SURVEY_TARGET_PROFILE },
        total: { zone: null, center: null, count, meanOverall: count > 0 ? sum / count : 0, shareSatisfied: share, meetsTarget: count > 0 && share >= target },
        zones,
      };
    },
  );
}
