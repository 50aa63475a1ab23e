/**
 * GET /api/profiles: the walking profiles (data/profiles/walking.json) and the standards profiles
 * (data/standards/*.json) the server knows, so the web app offers what the server has rather than
 * a list of its own. Standards profiles come with their thresholds: per requirement the formats,
 * the limits as written (minutes and/or metres) and the walking time they amount to.
 */
import type { FastifyInstance } from 'fastify';
import { listStandardsProfiles, requirementSeconds, requirementWalkingProfile, type LocalName, type StandardsProfile } from '../../assess/standards.js';
import { loadWalkingProfiles } from '../../engine/profile.js';
import type { ReadRouteContext } from '../context.js';
import { ApiError } from '../errors.js';
import { ERROR_BODY } from '../schemas.js';
import { DEFAULT_EXPORT_PROFILE } from './exports.js';

const round = (x: number): number => Math.round(x * 1000) / 1000;

const NAME = { type: 'object', nullable: true, properties: { 'zh-CN': { type: 'string' }, en: { type: 'string' } } } as const;
const PROFILES_RESPONSE = {
  type: 'object',
  properties: {
    walking: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, name: NAME, speedMps: { type: 'number' }, stepsFactor: { type: 'number' }, rationale: { type: 'string' } },
      },
    },
    standards: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          name: NAME,
          walkingProfile: { type: 'string' },
          broken: { type: 'boolean', description: 'the file does not validate (the server log says why); it cannot be used' },
          requirements: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                formats: { type: 'array', items: { type: 'string' }, description: 'the format, then its alternatives' },
                withinMinutes: { type: 'number' },
                withinMetres: { type: 'number' },
                minutes: { type: 'number', description: 'the walking time the limits amount to (both must hold)' },
                walkingProfile: { type: 'string' },
                population: { type: 'string' },
                level: { oneOf: [{ type: 'string' }, { type: 'number' }] },
              },
            },
          },
          targets: { type: 'array', items: { type: 'object', properties: { indicator: { type: 'string' }, value: { type: 'number' } } } },
        },
      },
    },
    defaultStandards: { type: 'string', description: 'the standards profile offered first' },
  },
} as const;

export function registerProfileRoutes(app: FastifyInstance, reads: ReadRouteContext): void {
  app.get(
    '/api/profiles',
    {
      schema: {
        summary: 'walking profiles and standards profiles (with their thresholds)',
        tags: ['assess'],
        response: { 200: PROFILES_RESPONSE, 400: ERROR_BODY },
      },
    },
    async (req, reply) =>
      reads.sendCached(req, reply, 'profiles', () => {
        const walking = loadWalkingProfiles();
        const speedOf = new Map(walking.map((w) => [w.id, w]));
        const standards = listStandardsProfiles().map((info) => {
          const name: LocalName | null = info.name;
          let profile: StandardsProfile;
          try {
            profile = reads.standardsFor(info.id);
          } catch (err) {
            // a file that does not validate is listed as such; the others are still offered
            if (err instanceof ApiError) return { id: info.id, name, broken: true };
            throw err;
          }
          return {
            id: profile.id,
            name: profile.name,
            walkingProfile: profile.walkingProfile,
            requirements: profile.requirements.map((q) => {
              const wp = requirementWalkingProfile(profile, q);
              const w = speedOf.get(wp);
              return {
                formats: [q.format, ...(q.alternatives ?? [])],
                ...(q.withinMinutes !== undefined ? { withinMinutes: q.withinMinutes } : {}),
                ...(q.withinMetres !== undefined ? { withinMetres: q.withinMetres } : {}),
                ...(w ? { minutes: round(requirementSeconds(q, w) / 60) } : {}),
                walkingProfile: wp,
                population: q.population,
                ...(q.level !== undefined ? { level: q.level } : {}),
              };
            }),
            targets: profile.targets.map((t) => ({ indicator: t.indicator, value: t.value })),
          };
        });
        return {
          walking: walking.map((w) => ({ id: w.id, name: w.name, speedMps: w.speedMps, stepsFactor: w.stepsFactor, rationale: w.rationale })),
          standards,
          defaultStandards: standards.some((s) => s.id === DEFAULT_EXPORT_PROFILE) ? DEFAULT_EXPORT_PROFILE : (standards[0]?.id ?? null),
        };
      }),
  );
}
