/**
 * Facility edits over HTTP (planner): add, change, remove. Each is one appended edit in the store
 * naming the version the planner saw (409 when someone else edited the facility in between), is
 * tried on the region first (an edit that does not apply — a point far from any walkable way, an
 * unknown format — is a 400 and nothing is saved), and after it the served region is rebuilt and
 * every cached answer dropped, so /api/nearest and /api/isochrone see the change at once.
 * Writes are done one at a time: each rebuild sees every edit before it.
 */
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { insideRegion } from '../../access/context.js';
import type { Region } from '../../region/region.js';
import { textProblem, MAX_FORMATS_PER_FACILITY, MAX_TAGS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS } from '../../scenario/edits.js';
import type { FacilityEditKind } from '../../store/store.js';
import type { StoreRouteContext } from '../context.js';
import { ApiError, badRequest } from '../errors.js';
import {
  applyFacilityStates,
  baseIdOf,
  effectiveRegion,
  FACILITY_REF_PATTERN,
  FacilityEditError,
  foldFacilityEdits,
  type EffectiveRegion,
  type FacilityState,
} from '../facility-edits.js';
import { FORMAT_ID, LAT, LON, SECURITY_READ, SECURITY_WRITE, STORE_ERRORS, VERSION } from '../schemas.js';

const NAME = { type: 'string', maxLength: 200 } as const;
const FORMATS = { type: 'array', minItems: 1, maxItems: MAX_FORMATS_PER_FACILITY, items: FORMAT_ID } as const;
const REF_PARAMS = {
  type: 'object',
  required: ['ref'],
  properties: { ref: { type: 'string', maxLength: 20, pattern: FACILITY_REF_PATTERN, description: 'the facility ref (its imported id, or added-… for one added here)' } },
} as const;
const FACILITY = {
  type: 'object',
  properties: {
    id: { type: 'integer', description: 'position in the served list (changes when a facility before it is removed)' },
    ref: { type: 'string', description: 'stable reference for edits' },
    version: { type: 'integer', description: 'edits so far: send it with the next edit' },
    name: { type: 'string' },
    formats: { type: 'array', items: { type: 'string' } },
    lon: { type: 'number' },
    lat: { type: 'number' },
    source: { type: 'string' },
  },
} as const;

interface AddBody {
  formats: string[];
  name: string;
  lon: number;
  lat: number;
  tags?: Record<string, string>;
}
interface PatchBody {
  version: number;
  name?: string;
  formats?: string[];
  lon?: number;
  lat?: number;
}

export function facilityJson(eff: EffectiveRegion, ref: string): Record<string, unknown> | null {
  const id = eff.idOf.get(ref);
  if (id === undefined) return null;
  const f = eff.region.facilities[id];
  return { id, ref, version: eff.states.get(ref)?.version ?? 0, name: f.name, formats: f.formats, lon: f.lon, lat: f.lat, source: f.source };
}

export function registerFacilityRoutes(app: FastifyInstance, ctx: StoreRouteContext): void {
  const { auth, base, taxonomy } = ctx;
  const regionName = base.meta.name;
  let queue: Promise<unknown> = Promise.resolve();
  /** One facility write at a time (validate, append, rebuild). */
  const serially = <T>(step: () => Promise<T>): Promise<T> => {
    const run = queue.then(step, step);
    queue = run.catch(() => undefined);
    return run;
  };

  const checkName = (name: string): void => {
    const p = textProblem(name, 200);
    if (p) throw new FacilityEditError('name', p);
  };
  const checkFormats = (formats: readonly string[]): void => {
    for (const f of formats) if (!taxonomy.byId.has(f)) throw badRequest('formats', `unknown format "${f}"; see /api/formats`);
    if (new Set(formats).size !== formats.length) throw badRequest('formats', 'a format is named twice');
  };
  const checkPoint = (region: Region, lon: number, lat: number): void => {
    if (!insideRegion(region, lon, lat)) {
      const [w, s, e, n] = region.meta.bbox;
      throw badRequest('lon', `${lon},${lat} is outside region ${JSON.stringify(region.meta.name)} (lon ${w.toFixed(4)}…${e.toFixed(4)}, lat ${s.toFixed(4)}…${n.toFixed(4)})`);
    }
  };

  /** Current edits folded, plus `change` for one ref; tried on the base region (throws FacilityEditError for that ref). */
  const tryChange = async (ref: string, change: (states: Map<string, FacilityState>) => void): Promise<void> => {
    const store = auth.needStore();
    const states = foldFacilityEdits(base, await store.listFacilityEdits(regionName));
    change(states);
    applyFacilityStates(base, states, { taxonomy, strictRef: ref });
  };
  const rebuild = async (): Promise<EffectiveRegion> => {
    const eff = effectiveRegion(base, await auth.needStore().listFacilityEdits(regionName), { taxonomy });
    for (const w of eff.warnings) app.log.warn(w);
    ctx.setEffective(eff);
    return eff;
  };
  /** The current state of a ref, or 404. */
  const stateOf = (ref: string): FacilityState => {
    const eff = ctx.effective();
    const s = eff.states.get(ref);
    if (s) {
      if (s.removed) throw new ApiError(404, `facility ${ref} was removed (version ${s.version})`, 'ref');
      return s;
    }
    const b = baseIdOf(ref, base);
    if (b === null) throw new ApiError(404, `no facility ${ref}`, 'ref');
    return { ref, base: b, removed: false, version: 0 };
  };
  const append = async (ref: string, kind: FacilityEditKind, data: unknown, expected: number, actor: string): Promise<EffectiveRegion> => {
    await auth.needStore().appendFacilityEdit({ region: regionName, kind, facilityRef: ref, data, actor }, expected);
    return rebuild();
  };

  app.post<{ Body: AddBody }>(
    '/api/facilities',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'add a facility (planner); answers it with its ref and version 1',
        tags: ['facilities'],
        security: [...SECURITY_WRITE],
        body: {
          type: 'object',
          required: ['formats', 'name', 'lon', 'lat'],
          additionalProperties: false,
          properties: {
            formats: FORMATS,
            name: NAME,
            lon: LON,
            lat: LAT,
            tags: {
              type: 'object',
              maxProperties: MAX_TAGS,
              propertyNames: { maxLength: MAX_TAG_KEY_CHARS },
              additionalProperties: { type: 'string', maxLength: MAX_TAG_VALUE_CHARS },
            },
          },
        },
        response: { 201: FACILITY, ...STORE_ERRORS },
      },
    },
    async (req, reply) => {
      const actor = auth.actor(req);
      const { formats, name, lon, lat, tags } = req.body;
      checkFormats(formats);
      checkName(name);
      checkPoint(base, lon, lat);
      const data = { formats, name, lon, lat, ...(tags ? { tags } : {}) };
      const eff = await serially(async () => {
        const ref = `added-${randomBytes(6).toString('hex')}`;
        await tryChange(ref, (states) => void states.set(ref, { ref, base: null, removed: false, version: 1, ...data }));
        return { ref, eff: await append(ref, 'add', data, 0, actor) };
      });
      return reply.code(201).header('location', `/api/facilities/${eff.ref}/history`).send(facilityJson(eff.eff, eff.ref));
    },
  );

  app.patch<{ Params: { ref: string }; Body: PatchBody }>(
    '/api/facilities/:ref',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'change a facility (planner): name, formats and/or position; give the version you read',
        tags: ['facilities'],
        security: [...SECURITY_WRITE],
        params: REF_PARAMS,
        body: {
          type: 'object',
          required: ['version'],
          additionalProperties: false,
          properties: { version: VERSION, name: NAME, formats: FORMATS, lon: LON, lat: LAT },
        },
        response: { 200: FACILITY, ...STORE_ERRORS },
      },
    },
    async (req) => {
      const actor = auth.actor(req);
      const { ref } = req.params;
      const { version, name, formats, lon, lat } = req.body;
      if ((lon === undefined) !== (lat === undefined)) throw badRequest(lon === undefined ? 'lon' : 'lat', 'give lon and lat together');
      if (name === undefined && formats === undefined && lon === undefined) throw badRequest('body', 'nothing to change: give name, formats, or lon and lat');
      if (name !== undefined) checkName(name);
      if (formats !== undefined) checkFormats(formats);
      if (lon !== undefined) checkPoint(base, lon, lat!);
      const data = { ...(name !== undefined ? { name } : {}), ...(formats !== undefined ? { formats } : {}), ...(lon !== undefined ? { lon, lat } : {}) };
      const eff = await serially(async () => {
        stateOf(ref);
        await tryChange(ref, (states) => {
          const s: FacilityState = { ...(states.get(ref) ?? { ref, base: baseIdOf(ref, base), removed: false, version: 0 }), ...data };
          states.set(ref, s);
        });
        return append(ref, 'edit', data, version, actor);
      });
      return facilityJson(eff, ref);
    },
  );

  app.delete<{ Params: { ref: string }; Querystring: { version: number } }>(
    '/api/facilities/:ref',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'remove a facility (planner); give the version you read',
        tags: ['facilities'],
        security: [...SECURITY_WRITE],
        params: REF_PARAMS,
        querystring: { type: 'object', required: ['version'], properties: { version: VERSION } },
        response: {
          200: { type: 'object', properties: { ref: { type: 'string' }, version: { type: 'integer' }, removed: { type: 'boolean' } } },
          ...STORE_ERRORS,
        },
      },
    },
    async (req) => {
      const actor = auth.actor(req);
      const { ref } = req.params;
      const eff = await serially(async () => {
        stateOf(ref);
        return append(ref, 'delete', null, req.query.version, actor);
      });
      return { ref, version: eff.states.get(ref)?.version ?? req.query.version + 1, removed: true };
    },
  );

  app.get<{ Params: { ref: string } }>(
    '/api/facilities/:ref/history',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'the edit trail of a facility (planner): who changed what, when',
        tags: ['facilities'],
        security: [...SECURITY_READ],
        params: REF_PARAMS,
        response: {
          200: {
            type: 'object',
            properties: {
              ref: { type: 'string' },
              version: { type: 'integer' },
              removed: { type: 'boolean' },
              facility: { ...FACILITY, nullable: true },
              edits: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    version: { type: 'integer' },
                    kind: { type: 'string' },
                    data: { type: 'object', nullable: true, additionalProperties: true },
                    actor: { type: 'string', nullable: true },
                    at: { type: 'string' },
                  },
                },
              },
            },
          },
          ...STORE_ERRORS,
        },
      },
    },
    async (req) => {
      const { ref } = req.params;
      const edits = await auth.needStore().listFacilityEdits(regionName, ref);
      if (edits.length === 0 && baseIdOf(ref, base) === null) throw new ApiError(404, `no facility ${ref}`, 'ref');
      const eff = ctx.effective();
      const state = eff.states.get(ref);
      return {
        ref,
        version: state?.version ?? 0,
        removed: state?.removed ?? false,
        facility: facilityJson(eff, ref),
        edits: edits.map((e) => ({ version: e.version, kind: e.kind, data: e.data as Record<string, unknown> | null, actor: e.actor, at: e.at })),
      };
    },
  );
}
