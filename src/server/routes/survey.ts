/**
 * The resident satisfaction survey (满意度调查). Anyone may answer, without a login; answers are
 * anonymous: the store keeps the point (rounded to ~100 m), the H3 cell (resolution 8, about
 * 0.7 km²) it falls in as the zone, the ratings and the comment — and, for rate limiting only, an
 * HMAC of the client address under a secret that lives in memory (or, for several servers, in
 * their shared Redis) and is replaced every UTC day,
 * so the address is never stored and yesterday's answers cannot be linked to today's.
 * Planners see per zone how many answered, the mean rating and the share satisfied (4 or 5)
 * against the 90 % target of the Xuhui profile. A zone is shown by a name people know: the 小区
 * most of its homes belong to, else the nearest named street, else "H3 <id>".
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cellToLatLng, isValidCell, latLngToCell } from 'h3-js';
import type { Redis } from 'ioredis';
import { createHmac, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { insideRegion } from '../../access/context.js';
import { h3Zones } from '../../assess/zones.js';
import type { ResidenceTable } from '../../ingest/residences/index.js';
import type { Region } from '../../region/region.js';
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
/** A zone without named homes is named after a street only when the street passes this close to the zone's centre. */
export const STREET_NAME_MAX_METRES = 600;

/**
 * Keyed hashes of client addresses. The key is random, kept in memory only, and replaced when the
 * UTC day changes. With `sharedKey` (several servers on one Redis) every server takes the day's key
 * from there, so one client hashes alike on all of them and per-client limits hold across servers;
 * while it cannot be had, a local key stands in (and is asked for again at the next answer).
 */
export class ClientHasher {
  private day = '';
  private key: Buffer = Buffer.alloc(0);
  private shared = false;

  constructor(
    private readonly now: () => Date = () => new Date(),
    private readonly sharedKey?: (day: string) => Promise<Buffer>,
  ) {}

  async hash(address: string): Promise<string> {
    const day = this.now().toISOString().slice(0, 10);
    if (day !== this.day || (this.sharedKey && !this.shared)) {
      if (day !== this.day) this.key = randomBytes(32);
      this.day = day;
      this.shared = false;
      if (this.sharedKey) {
        try {
          this.key = await this.sharedKey(day);
          this.shared = true;
        } catch {
          /* the local key stands in until the shared one can be had */
        }
      }
    }
    return createHmac('sha256', this.key).update(address, 'utf8').digest('base64url').slice(0, 32);
  }
}

/** The day's key in Redis: the first server to ask sets it (NX), every other one reads it; it expires after two days. */
export function redisDayKey(redis: Redis): (day: string) => Promise<Buffer> {
  return async (day) => {
    const name = `quarter:survey-client-key:${day}`;
    await redis.set(name, randomBytes(32).toString('base64'), 'EX', 2 * 86400, 'NX');
    const stored = await redis.getBuffer(name);
    if (!stored) throw new Error('the shared survey key vanished');
    return Buffer.from(stored.toString('latin1'), 'base64');
  };
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
    name: { type: 'string', nullable: true, description: 'the 小区 most of the zone’s homes are in, else the nearest named street, else "H3 <id>"' },
    nameSource: { type: 'string', nullable: true, enum: ['compound', 'street', 'cell', 'zone', null], description: 'where the name comes from (zone: the stored zone is a name itself)' },
    center: { type: 'array', nullable: true, items: { type: 'number' }, description: '[lon, lat] of the cell' },
    count: { type: 'integer' },
    meanOverall: { type: 'number' },
    shareSatisfied: { type: 'number', description: `share rating ${SATISFIED_FROM} or 5` },
    meetsTarget: { type: 'boolean' },
  },
} as const;

// ---- zone names

export type ZoneNameSource = 'compound' | 'street' | 'cell' | 'zone';
export interface ZoneLabel {
  name: string;
  nameSource: ZoneNameSource;
}

/** A named road of the basemap: its vertices as lon/lat pairs per line, and its box. */
interface NamedLine {
  name: string;
  coords: Float64Array;
  box: [number, number, number, number];
}

const METRES_PER_DEGREE = 111_320;

// Built on first use and kept while the homes (compound names) and the basemap (streets) are the
// same objects: facility edits serve a new Region but keep both.
const compoundNamesByTable = new WeakMap<ResidenceTable, Map<string, string>>();
const streetsByBasemap = new WeakMap<Uint8Array, NamedLine[]>();

/** Per survey cell, the 小区 name most of its homes (by centroid) carry; ties go to the first name in code-point order. */
function compoundNames(region: Region): Map<string, string> {
  const t = region.residences;
  let names = compoundNamesByTable.get(t);
  if (names) return names;
  names = new Map();
  for (const zone of h3Zones([SURVEY_ZONE_RESOLUTION], t.lon, t.lat)) {
    const counts = new Map<string, number>();
    for (const r of zone.members) {
      const name = region.compounds[t.compound[r]]?.name.trim();
      if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    let best: [string, number] | null = null;
    for (const [name, n] of counts) if (!best || n > best[1] || (n === best[1] && name < best[0])) best = [name, n];
    if (best) names.set(zone.id, best[0]);
  }
  compoundNamesByTable.set(t, names);
  return names;
}

/** The named roads of the region's own basemap (none for a region imported without one). */
function namedStreets(region: Region): NamedLine[] {
  const gz = region.basemap?.geojsonGz;
  if (!gz) return [];
  let lines = streetsByBasemap.get(gz);
  if (lines) return lines;
  lines = [];
  const fc = JSON.parse(gunzipSync(gz).toString('utf8')) as { features?: Array<{ properties?: { layer?: string; name?: string }; geometry?: { type?: string; coordinates?: unknown } }> };
  for (const f of fc.features ?? []) {
    const name = f.properties?.name?.trim();
    if (f.properties?.layer !== 'road' || !name || !f.geometry) continue;
    const parts = (f.geometry.type === 'LineString' ? [f.geometry.coordinates] : f.geometry.type === 'MultiLineString' ? f.geometry.coordinates : []) as number[][][];
    for (const part of parts) {
      if (!Array.isArray(part) || part.length === 0) continue;
      const coords = Float64Array.from(part.flatMap((p) => [p[0], p[1]]));
      const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
      for (let i = 0; i < coords.length; i += 2) {
        box[0] = Math.min(box[0], coords[i]);
        box[1] = Math.min(box[1], coords[i + 1]);
        box[2] = Math.max(box[2], coords[i]);
        box[3] = Math.max(box[3], coords[i + 1]);
      }
      if (box.every(Number.isFinite)) lines.push({ name, coords, box });
    }
  }
  streetsByBasemap.set(gz, lines);
  return lines;
}

/** The named street nearest to a point (metres to its nearest segment), if one passes within maxMetres. */
function nearestStreet(lines: readonly NamedLine[], lon: number, lat: number, maxMetres: number): { name: string; metres: number } | null {
  const kx = METRES_PER_DEGREE * Math.cos((lat * Math.PI) / 180);
  const ky = METRES_PER_DEGREE;
  const mx = maxMetres / kx;
  const my = maxMetres / ky;
  let best: { name: string; metres: number } | null = null;
  for (const line of lines) {
    const [w, s, e, n] = line.box;
    if (lon < w - mx || lon > e + mx || lat < s - my || lat > n + my) continue;
    const c = line.coords;
    for (let i = 0; i < c.length; i += 2) {
      // segment i → i+2 in metres from the point (a lone vertex is a segment of length 0)
      const ax = (c[i] - lon) * kx;
      const ay = (c[i + 1] - lat) * ky;
      const j = i + 2 < c.length ? i + 2 : i;
      const bx = (c[j] - lon) * kx;
      const by = (c[j + 1] - lat) * ky;
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      const t = len2 > 0 ? Math.min(1, Math.max(0, -(ax * dx + ay * dy) / len2)) : 0;
      const d = Math.hypot(ax + t * dx, ay + t * dy);
      if (d <= maxMetres && (!best || d < best.metres)) best = { name: line.name, metres: d };
    }
  }
  return best;
}

/** The name a survey zone is shown by; null for answers without a zone. */
export function surveyZoneLabel(region: Region, zone: string | null): ZoneLabel | null {
  if (zone === null) return null;
  // zones written by other tools may be named areas rather than cells
  if (!isValidCell(zone)) return { name: zone, nameSource: 'zone' };
  const compound = compoundNames(region).get(zone);
  if (compound) return { name: compound, nameSource: 'compound' };
  const [lat, lon] = cellToLatLng(zone);
  const street = nearestStreet(namedStreets(region), lon, lat, STREET_NAME_MAX_METRES);
  if (street) return { name: street.name, nameSource: 'street' };
  return { name: `H3 ${zone}`, nameSource: 'cell' };
}

export function registerSurveyRoutes(app: FastifyInstance, ctx: StoreRouteContext, hasher: ClientHasher = new ClientHasher()): void {
  const { auth, taxonomy } = ctx;
  const regionName = ctx.base.meta.name;
  const perHour = ctx.limits.surveysPerHour;
  const clientOf = (req: FastifyRequest): Promise<string> => hasher.hash(req.ip);

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
      const clientHash = await clientOf(req);
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
      const region = ctx.effective().region;
      const target = ctx.standardsFor(SURVEY_TARGET_PROFILE).targets.find((t) => t.indicator === 'resident_satisfaction')?.value ?? 0.9;
      let count = 0;
      let sum = 0;
      let satisfied = 0;
      const zones = rows.map((r) => {
        count += r.count;
        sum += r.meanOverall * r.count;
        satisfied += Math.round(r.shareSatisfied * r.count);
        const c = r.zone !== null && isValidCell(r.zone) ? cellToLatLng(r.zone) : null;
        const label = surveyZoneLabel(region, r.zone);
        return { zone: r.zone, name: label?.name ?? null, nameSource: label?.nameSource ?? null, center: c ? [c[1], c[0]] : null, count: r.count, meanOverall: r.meanOverall, shareSatisfied: r.shareSatisfied, meetsTarget: r.shareSatisfied >= target };
      });
      const share = count > 0 ? satisfied / count : 0;
      return {
        region: regionName,
        target: { indicator: 'resident_satisfaction', value: target, profile: SURVEY_TARGET_PROFILE },
        total: { zone: null, name: null, nameSource: null, center: null, count, meanOverall: count > 0 ? sum / count : 0, shareSatisfied: share, meetsTarget: count > 0 && share >= target },
        zones,
      };
    },
  );
}
