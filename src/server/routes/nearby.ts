/**
 * GET /api/nearby: every facility a resident reaches on foot within maxMinutes of a point, with
 * minutes, its 5 / 10 / 15-minute band and whether it is open at a moment (default now, on the
 * region's clocks), plus a summary per format. One bounded search from the point, then each
 * facility's time read off the search at its snap (the same pieces as access/nearest.ts, so the
 * minutes equal /api/nearest's and /api/route's).
 */
import type { FastifyInstance } from 'fastify';
import type { RoutingContext } from '../../access/context.js';
import { guessCountry } from '../../assess/assess.js';
import { COUNTRY_TIME_ZONES, MomentError, openAt, parseMoment, type OpenState } from '../../assess/opening-hours.js';
import { runDijkstra, timeToSnap } from '../../engine/dijkstra.js';
import { writeSnapSeeds, type Snap } from '../../engine/snap.js';
import type { Region } from '../../region/region.js';
import type { Format } from '../../taxonomy/formats.js';
import type { ReadRouteContext } from '../context.js';
import { badRequest } from '../errors.js';
import { ERROR_BODY, FORMAT_ID, LONLAT, PROFILE_ID } from '../schemas.js';

/** The walking bands a resident is told about (minutes). */
export const NEARBY_BANDS = [5, 10, 15] as const;
export type NearbyBand = (typeof NEARBY_BANDS)[number];
/** At most this many facilities are listed (nearest first); `truncated` says when more were reached. */
export const NEARBY_CAP = 500;
export const NEARBY_MAX_MINUTES = 60;

export interface NearbyFacility {
  id: number;
  name: string;
  formats: string[];
  lon: number;
  lat: number;
  minutes: number;
  /** the smallest band ≥ minutes; null above the last band. */
  band: NearbyBand | null;
  open: OpenState;
  /** the raw opening_hours tag, null when the facility has none. */
  openingHours: string | null;
}

export interface NearbyFormatSummary {
  format: string;
  name: Format['name'] | undefined;
  /** facilities of the format within each band (keys "5", "10", "15"; bands above maxMinutes are left out). */
  within: Record<string, number>;
  /** minutes to the nearest one; null when none is within maxMinutes. */
  nearestMinutes: number | null;
}

export interface NearbyAnswer {
  at: [number, number];
  profile: string;
  accessMetres: number;
  maxMinutes: number;
  /** wall-clock minute the open states are for ("2025-11-24T07:30"), on the clocks of `timeZone`. */
  time: string;
  /** IANA zone of the region's clocks; null when unknown (the server's own zone was used). */
  timeZone: string | null;
  total: number;
  returned: number;
  truncated: boolean;
  facilities: NearbyFacility[];
  formats: NearbyFormatSummary[];
  attribution: string;
}

/** Smallest band ≥ minutes, or null. */
export function bandOf(minutes: number): NearbyBand | null {
  for (const b of NEARBY_BANDS) if (minutes <= b) return b;
  return null;
}

/** What parseMoment reads: "now", "现在", "周一 07:00", "Mo 07:00", ISO date-times (letters, digits, space, : ： . + -). */
const MOMENT = {
  type: 'string',
  minLength: 1,
  maxLength: 40,
  pattern: '^[\\p{L}0-9 :：.+-]+$',
  default: 'now',
  description: 'moment the open states are for: "now" (default, on the region\'s clocks), "周一 07:00" / "Mo 07:00" (an ordinary week), or an ISO date-time ("2026-02-17T09:00", "…Z", "…%2B08:00")',
} as const;
const NEARBY_FACILITY = {
  type: 'object',
  properties: {
    id: { type: 'integer', description: 'facility id, for /api/route?facility=' },
    name: { type: 'string' },
    formats: { type: 'array', items: { type: 'string' } },
    lon: { type: 'number' },
    lat: { type: 'number' },
    minutes: { type: 'number' },
    band: { type: 'integer', nullable: true, enum: [...NEARBY_BANDS, null], description: 'smallest of 5/10/15 ≥ minutes; null above 15' },
    open: { type: 'string', enum: ['open', 'closed', 'unknown'] },
    openingHours: { type: 'string', nullable: true, description: 'the opening_hours tag as mapped' },
  },
} as const;
const NEARBY_RESPONSE = {
  type: 'object',
  properties: {
    at: { type: 'array', items: { type: 'number' } },
    profile: { type: 'string' },
    accessMetres: { type: 'number' },
    maxMinutes: { type: 'number' },
    time: { type: 'string', description: 'wall-clock minute the open states are for, on the clocks of timeZone' },
    timeZone: { type: 'string', nullable: true },
    total: { type: 'integer', description: 'facilities reached within maxMinutes' },
    returned: { type: 'integer' },
    truncated: { type: 'boolean' },
    facilities: { type: 'array', items: NEARBY_FACILITY },
    formats: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          format: { type: 'string' },
          name: { type: 'object', additionalProperties: { type: 'string' } },
          within: { type: 'object', additionalProperties: { type: 'integer' } },
          nearestMinutes: { type: 'number', nullable: true },
        },
      },
    },
    attribution: { type: 'string' },
  },
} as const;

interface NearbyQuery {
  at: string;
  profile: string;
  maxMinutes: number;
  format?: string;
  time: string;
}

const pad2 = (x: number): string => String(x).padStart(2, '0');
const wallClockMinute = (d: Date): string => `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}`;

/** Seconds from the origin to every facility of `ids` within maxSec (one bounded search), nearest first. */
function reachable(ctx: RoutingContext, origin: Snap, ids: Iterable<number>, maxSec: number): Array<{ id: number; sec: number }> {
  const g = ctx.region.graph;
  const nodes = new Int32Array(2);
  const seconds = new Float64Array(2);
  writeSnapSeeds(origin, ctx.edgeSec, g, ctx.profile.speedMps, nodes, seconds, 0);
  runDijkstra(g, ctx.arcSec, ctx.ws, nodes, seconds, maxSec);
  const out: Array<{ id: number; sec: number }> = [];
  for (const id of ids) {
    const snap = ctx.facilitySnaps[id];
    if (!snap) continue;
    // with the origin given, a facility on the origin's own edge is walked to directly along it
    const sec = timeToSnap(ctx.ws, snap, g, ctx.edgeSec, ctx.profile.speedMps, origin);
    if (sec <= maxSec) out.push({ id, sec });
  }
  return out.sort((a, b) => a.sec - b.sec || a.id - b.id);
}

/** Every facility id that serves a format (or the given one), once each: a facility listing a format twice is still one place. */
function candidateIds(ctx: RoutingContext, format: string | undefined): Set<number> {
  if (format !== undefined) return new Set(ctx.facilitiesByFormat.get(format) ?? []);
  const ids = new Set<number>();
  ctx.region.facilities.forEach((f, i) => {
    if (f.formats.length > 0) ids.add(i);
  });
  return ids;
}

export function registerNearbyRoutes(app: FastifyInstance, reads: ReadRouteContext): void {
  // the region's country and clocks, worked out once per served region
  let zoneOf: { region: Region; country: string; timeZone: string | null } | null = null;
  const clocks = (): { country: string; timeZone: string | null } => {
    const region = reads.region();
    if (zoneOf?.region !== region) {
      const country = guessCountry(region);
      zoneOf = { region, country, timeZone: COUNTRY_TIME_ZONES[country] ?? null };
    }
    return zoneOf;
  };

  app.get<{ Querystring: NearbyQuery }>(
    '/api/nearby',
    {
      schema: {
        summary: 'every facility within maxMinutes on foot from a point: minutes, 5/10/15-minute band, open now; a summary per format (cached per minute)',
        description:
          `Nearest first, at most ${NEARBY_CAP} (\`truncated\` says when more were reached; the per-format summary counts them all). ` +
          'Open states come from each facility\'s opening_hours tag at `time` on the region\'s clocks (the answer says which minute and zone); ' +
          '"unknown" when the tag is absent or unreadable. 404 when the point is outside the data or off the walking network.',
        tags: ['access'],
        querystring: {
          type: 'object',
          required: ['at'],
          properties: {
            at: LONLAT,
            profile: { ...PROFILE_ID, default: 'default', description: 'walking profile (see data/profiles/walking.json)' },
            maxMinutes: { type: 'number', minimum: 1, maximum: NEARBY_MAX_MINUTES, default: 15 },
            format: { ...FORMAT_ID, description: 'only facilities of this format (see /api/formats)' },
            time: MOMENT,
          },
        },
        response: { 200: NEARBY_RESPONSE, 400: ERROR_BODY, 404: ERROR_BODY },
      },
    },
    async (req, reply) => {
      const { at, profile, maxMinutes, format, time } = req.query;
      if (format !== undefined) reads.checkFormat(format);
      const ctx = reads.contextFor(profile);
      const { lon, lat, snap } = reads.pointIn(ctx, 'at', at);
      const { country, timeZone } = clocks();
      let moment: Date;
      try {
        moment = parseMoment(time, { timeZone: timeZone ?? undefined });
      } catch (err) {
        if (err instanceof MomentError) throw badRequest('time', `querystring/time: ${err.message}`);
        throw err;
      }
      // opening_hours rules are in whole minutes: evaluate at the minute, and say which
      moment.setSeconds(0, 0);
      const minute = wallClockMinute(moment);
      // The whole answer is cached under the wall-clock minute it is for: open states change with
      // the time, and keying on the minute keeps every cached answer exact while a page reloaded,
      // or a 小区 searched by many residents within that minute, is a hit. Caching only the walking
      // part would spare only the search on a new minute: on Krems a miss costs ~3 ms, the search
      // ~1 ms of it (bench of 60 points), not worth a second cache with its own invalidation.
      return reads.sendCached(req, reply, `nearby|${ctx.profile.id}|${maxMinutes}|${format ?? '*'}|${lon},${lat}|${minute}`, (): NearbyAnswer => {
        const region = reads.region();
        const found = reachable(ctx, snap, candidateIds(ctx, format), maxMinutes * 60);
        const bands = NEARBY_BANDS.filter((b) => b <= maxMinutes);
        const formats = format !== undefined ? [format] : [...ctx.facilitiesByFormat.keys()];
        const summary = new Map<string, NearbyFormatSummary>(
          formats.map((id) => [id, { format: id, name: reads.taxonomy.byId.get(id)?.name, within: Object.fromEntries(bands.map((b) => [String(b), 0])), nearestMinutes: null }]),
        );
        for (const { id, sec } of found) {
          const minutes = sec / 60;
          for (const fmt of new Set(region.facilities[id].formats)) {
            const s = summary.get(fmt);
            if (!s) continue;
            s.nearestMinutes ??= minutes; // found is nearest first
            for (const b of bands) if (minutes <= b) s.within[String(b)]++;
          }
        }
        const listed = found.slice(0, NEARBY_CAP).map(({ id, sec }): NearbyFacility => {
          const f = region.facilities[id];
          const tag = f.tags.opening_hours;
          const minutes = sec / 60;
          return {
            id,
            name: f.name,
            formats: f.formats,
            lon: f.lon,
            lat: f.lat,
            minutes,
            band: bandOf(minutes),
            open: openAt(tag, moment, { lat: f.lat, lon: f.lon, country }),
            openingHours: tag !== undefined && tag.trim() !== '' ? tag : null,
          };
        });
        return {
          at: [lon, lat],
          profile: ctx.profile.id,
          accessMetres: snap.distance,
          maxMinutes,
          time: minute,
          timeZone,
          total: found.length,
          returned: listed.length,
          truncated: found.length > listed.length,
          facilities: listed,
          formats: [...summary.values()],
          attribution: region.meta.attribution,
        };
      });
    },
  );
}
