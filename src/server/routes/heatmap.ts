/**
 * GET /api/heatmap: walking minutes from homes to the nearest facility of one format, summarised
 * per H3 cell — the planners' heatmap in one request.
 *
 * The per-home minutes are the assessment's own (assess/residence-times.ts: one bounded
 * multi-source search with every facility of the format as a seed, then per home its best access
 * point — gate, entrance or centroid — with partial edges, access legs and same-edge shortcuts).
 * Homes join the cell of their centroid, grouped by the assessment's h3Zones. Homes farther than
 * maxMinutes (or off the network) have no minutes: they are counted as unreached.
 *
 * Weights: when the region has population per residence (an imported region's floor-area prior,
 * or a 小区 list), figures are resident-weighted; otherwise every home weighs one. A cell whose
 * homes hold no residents at all falls back to one per home, so it still gets figures.
 * The answer is cached per data version (reads.sendCached): a facility edit or invalidate() drops it.
 */
import type { FastifyInstance } from 'fastify';
import { prepareNetwork, residenceTimes, type PreparedNetwork } from '../../assess/residence-times.js';
import { h3Zones, type ZoneSpec } from '../../assess/zones.js';
import type { WalkingProfile } from '../../engine/profile.js';
import type { ResidenceTable } from '../../ingest/residences/index.js';
import type { Region } from '../../region/region.js';
import type { ReadRouteContext } from '../context.js';
import { badRequest } from '../errors.js';
import { ERROR_BODY, FORMAT_ID, PROFILE_ID } from '../schemas.js';

export const HEATMAP_MIN_RESOLUTION = 7;
export const HEATMAP_MAX_RESOLUTION = 10;
export const HEATMAP_DEFAULT_RESOLUTION = 9;
export const HEATMAP_MAX_MINUTES = 60;
export const HEATMAP_DEFAULT_MINUTES = 30;
/** the bands whose shares every cell reports (minutes). */
export const HEATMAP_BANDS = [5, 10, 15] as const;

export type HeatmapWeighting = 'residents' | 'homes';

export interface HeatmapCell {
  h3: string;
  homes: number;
  /** residents of the cell's homes (only when the answer is resident-weighted). */
  residents?: number;
  /** homes with no facility of the format within maxMinutes (or off the walking network). */
  unreached: number;
  /** weighted mean over the reached homes; null when none was reached. */
  meanMinutes: number | null;
  /** the longest walk among the reached homes; null when none was reached. */
  maxMinutes: number | null;
  /** weighted shares of all the cell's homes (unreached count as not within). */
  within5: number;
  within10: number;
  within15: number;
}

export interface HeatmapAnswer {
  format: string;
  profile: string;
  resolution: number;
  maxMinutes: number;
  weighting: HeatmapWeighting;
  /** facilities of the format, and of those the ones the walking network reaches. */
  facilities: { total: number; reachable: number };
  homes: number;
  unreached: number;
  cells: HeatmapCell[];
  attribution: string;
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

// Derived once per served region (facility edits make a new Region object; the residences, and
// so the cells, stay the same table across edits).
const preparedByRegion = new WeakMap<Region, PreparedNetwork>();
const cellsByTable = new WeakMap<ResidenceTable, Map<number, ZoneSpec[]>>();

function prepared(region: Region): PreparedNetwork {
  let net = preparedByRegion.get(region);
  if (!net) preparedByRegion.set(region, (net = prepareNetwork(region, new Uint8Array(region.facilities.length).fill(1))));
  return net;
}

function cellsOf(table: ResidenceTable, resolution: number): ZoneSpec[] {
  let byRes = cellsByTable.get(table);
  if (!byRes) cellsByTable.set(table, (byRes = new Map()));
  let cells = byRes.get(resolution);
  if (!cells) byRes.set(resolution, (cells = h3Zones([resolution], table.lon, table.lat)));
  return cells;
}

/** Seconds per home to the nearest facility of the format (Infinity beyond maxMinutes), by the assessment's path. */
export function homeSeconds(region: Region, walking: WalkingProfile, format: string, maxMinutes: number): Float64Array {
  const out = new Float64Array(region.residences.count).fill(Infinity);
  residenceTimes(prepared(region), {
    walking,
    formats: [format],
    maxSeconds: maxMinutes * 60,
    onFormat: (_, seconds) => out.set(seconds),
  });
  return out;
}

/** The heatmap of one format: per-home minutes summarised per H3 cell. */
export function heatmap(region: Region, walking: WalkingProfile, format: string, resolution: number, maxMinutes: number): HeatmapAnswer {
  const table = region.residences;
  const seconds = homeSeconds(region, walking, format, maxMinutes);
  let population = 0;
  for (let r = 0; r < table.count; r++) population += table.population[r];
  const weighting: HeatmapWeighting = population > 0 ? 'residents' : 'homes';
  let unreachedAll = 0;
  const cells: HeatmapCell[] = cellsOf(table, resolution).map((zone) => {
    let residents = 0;
    for (const r of zone.members) residents += table.population[r];
    // one per home where the region (or this cell) has no residents
    const weightOf = weighting === 'residents' && residents > 0 ? (r: number) => table.population[r] : () => 1;
    let total = 0;
    let reachedWeight = 0;
    let sum = 0;
    let max = -Infinity;
    let unreached = 0;
    const within = HEATMAP_BANDS.map(() => 0);
    for (const r of zone.members) {
      const w = weightOf(r);
      total += w;
      const s = seconds[r];
      if (!Number.isFinite(s)) {
        unreached++;
        continue;
      }
      const m = s / 60;
      reachedWeight += w;
      sum += w * m;
      if (m > max) max = m;
      HEATMAP_BANDS.forEach((band, i) => {
        if (m <= band) within[i] += w;
      });
    }
    unreachedAll += unreached;
    const reached = zone.members.length - unreached;
    const share = (x: number): number => (total > 0 ? round(x / total, 4) : 0);
    const cell: HeatmapCell = {
      h3: zone.id,
      homes: zone.members.length,
      unreached,
      // reached homes that hold no residents (all weight 0): their plain mean
      meanMinutes: reached === 0 ? null : round(reachedWeight > 0 ? sum / reachedWeight : meanOfReached(zone.members, seconds), 3),
      maxMinutes: reached === 0 ? null : round(max, 3),
      within5: share(within[0]),
      within10: share(within[1]),
      within15: share(within[2]),
    };
    if (weighting === 'residents') cell.residents = round(residents, 1);
    return cell;
  });
  const net = prepared(region);
  return {
    format,
    profile: walking.id,
    resolution,
    maxMinutes,
    weighting,
    facilities: { total: region.facilities.filter((f) => f.formats.includes(format)).length, reachable: net.seedsByFormat.get(format)?.length ?? 0 },
    homes: table.count,
    unreached: unreachedAll,
    cells,
    attribution: region.meta.attribution,
  };
}

function meanOfReached(members: Int32Array, seconds: Float64Array): number {
  let n = 0;
  let sum = 0;
  for (const r of members) {
    if (!Number.isFinite(seconds[r])) continue;
    n++;
    sum += seconds[r] / 60;
  }
  return sum / n;
}

const MINUTES_OR_NULL = { type: 'number', nullable: true } as const;
const SHARE = { type: 'number', minimum: 0, maximum: 1 } as const;
const HEATMAP_RESPONSE = {
  type: 'object',
  properties: {
    format: { type: 'string' },
    profile: { type: 'string', description: 'walking profile' },
    resolution: { type: 'integer' },
    maxMinutes: { type: 'number' },
    weighting: { type: 'string', enum: ['residents', 'homes'], description: 'residents when the region has population per home, else one per home' },
    facilities: { type: 'object', properties: { total: { type: 'integer' }, reachable: { type: 'integer' } } },
    homes: { type: 'integer' },
    unreached: { type: 'integer', description: 'homes with no facility of the format within maxMinutes' },
    cells: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          h3: { type: 'string', description: 'H3 cell id (draw it with h3-js cellToBoundary)' },
          homes: { type: 'integer' },
          residents: { type: 'number', description: 'present when weighting is residents' },
          unreached: { type: 'integer' },
          meanMinutes: { ...MINUTES_OR_NULL, description: 'weighted mean over reached homes; null when none was reached' },
          maxMinutes: MINUTES_OR_NULL,
          within5: { ...SHARE, description: 'weighted share of the cell within 5 minutes' },
          within10: SHARE,
          within15: SHARE,
        },
      },
    },
    attribution: { type: 'string' },
  },
} as const;

export function registerHeatmapRoutes(app: FastifyInstance, reads: ReadRouteContext): void {
  app.get<{ Querystring: { format: string; profile: string; resolution: number; maxMinutes: number } }>(
    '/api/heatmap',
    {
      schema: {
        summary: 'minutes from homes to the nearest facility of a format, per H3 cell (cached; one request draws the heatmap)',
        description:
          'Per home, the assessment’s walking time (best access point); homes grouped by the H3 cell of their centroid. ' +
          'Resident-weighted when the region has population per home, else home-weighted (see `weighting`). ' +
          'Homes not reached within maxMinutes have no minutes and are counted as `unreached`.',
        tags: ['access'],
        querystring: {
          type: 'object',
          required: ['format'],
          properties: {
            format: { ...FORMAT_ID, description: 'format id (see /api/formats)' },
            profile: { ...PROFILE_ID, default: 'default', description: 'walking profile (see /api/profiles)' },
            resolution: { type: 'integer', minimum: HEATMAP_MIN_RESOLUTION, maximum: HEATMAP_MAX_RESOLUTION, default: HEATMAP_DEFAULT_RESOLUTION, description: 'H3 resolution' },
            maxMinutes: { type: 'number', minimum: 1, maximum: 240, default: HEATMAP_DEFAULT_MINUTES, description: `search cap in minutes, at most ${HEATMAP_MAX_MINUTES}` },
          },
        },
        response: { 200: HEATMAP_RESPONSE, 400: ERROR_BODY, 404: ERROR_BODY },
      },
    },
    async (req, reply) => {
      const { format, profile, resolution, maxMinutes } = req.query;
      reads.checkFormat(format);
      if (maxMinutes > HEATMAP_MAX_MINUTES) throw badRequest('maxMinutes', `querystring/maxMinutes must be at most ${HEATMAP_MAX_MINUTES} minutes for the heatmap`);
      const ctx = reads.contextFor(profile);
      return reads.sendCached(req, reply, `heatmap|${ctx.profile.id}|${format}|${resolution}|${maxMinutes}`, () =>
        heatmap(reads.region(), ctx.profile, format, resolution, maxMinutes),
      );
    },
  );
}
