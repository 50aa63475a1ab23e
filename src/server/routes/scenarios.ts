/**
 * Scenarios over HTTP (planner): named edit lists on top of the served region, saved in the store
 * and evaluated against it. Every write checks the whole edit list first (shape, references and a
 * dry run on the region: an invalid edit is a 400 naming edits[i] and its field, and nothing is
 * saved); changes and deletions name the version read (409 when someone saved in between).
 */
import type { FastifyInstance } from 'fastify';
import { evaluateScenario, evaluationToJson } from '../../scenario/evaluate.js';
import { MAX_EDITS } from '../../scenario/edits.js';
import { createScenario, validateScenarioEdits } from '../../scenario/scenarios.js';
import type { ScenarioPatch, ScenarioRecord } from '../../store/store.js';
import type { StoreRouteContext } from '../context.js';
import { ApiError } from '../errors.js';
import { ID_PARAMS, PROFILE_ID, SECURITY_READ, SECURITY_WRITE, STORE_ERRORS, VERSION } from '../schemas.js';

/** Evaluations use this standards profile unless the request names another. */
export const DEFAULT_EVALUATION_PROFILE = 'mofcom-2021';

const NAME = { type: 'string', minLength: 1, maxLength: 200 } as const;
const DESCRIPTION = { type: 'string', maxLength: 10_000 } as const;
const EDITS = {
  type: 'array',
  maxItems: MAX_EDITS,
  items: { type: 'object', additionalProperties: true },
  description: 'edits (see the scenario edit format: add_facility, move_facility, remove_facility, add_link, close_link, close_gate)',
} as const;
const SUMMARY_PROPS = {
  id: { type: 'integer' },
  name: { type: 'string' },
  description: { type: 'string' },
  version: { type: 'integer' },
  createdAt: { type: 'string' },
  updatedAt: { type: 'string' },
  createdBy: { type: 'string', nullable: true },
} as const;
const SCENARIO = {
  type: 'object',
  properties: { ...SUMMARY_PROPS, region: { type: 'string' }, edits: { type: 'array', items: { type: 'object', additionalProperties: true } } },
} as const;

const summary = (r: ScenarioRecord) => ({
  id: r.id,
  name: r.name,
  description: r.description,
  edits: r.edits.length,
  version: r.version,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  createdBy: r.createdBy,
});

export function registerScenarioRoutes(app: FastifyInstance, ctx: StoreRouteContext): void {
  const { auth, taxonomy } = ctx;
  const regionName = ctx.base.meta.name;
  /** A scenario of this region, or 404. */
  const find = async (id: number): Promise<ScenarioRecord> => {
    const r = await auth.needStore().getScenario(id);
    if (r.region !== regionName) throw new ApiError(404, `no scenario ${id} for region ${JSON.stringify(regionName)}`, 'id');
    return r;
  };

  app.get(
    '/api/scenarios',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'the scenarios of the served region (planner)',
        tags: ['scenarios'],
        security: [...SECURITY_READ],
        response: {
          200: { type: 'object', properties: { scenarios: { type: 'array', items: { type: 'object', properties: { ...SUMMARY_PROPS, edits: { type: 'integer' } } } } } },
          ...STORE_ERRORS,
        },
      },
    },
    async () => ({ scenarios: (await auth.needStore().listScenarios(regionName)).map(summary) }),
  );

  app.post<{ Body: { name: string; description?: string; edits: unknown[] } }>(
    '/api/scenarios',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'create a scenario (planner); its edits are checked against the region first',
        tags: ['scenarios'],
        security: [...SECURITY_WRITE],
        body: { type: 'object', required: ['name', 'edits'], additionalProperties: false, properties: { name: NAME, description: DESCRIPTION, edits: EDITS } },
        response: { 201: SCENARIO, ...STORE_ERRORS },
      },
    },
    async (req, reply) => {
      const { name, description, edits } = req.body;
      const record = await createScenario(auth.needStore(), ctx.effective().region, { name, description, edits, actor: auth.actor(req) }, { taxonomy });
      return reply.code(201).header('location', `/api/scenarios/${record.id}`).send(record);
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/scenarios/:id',
    {
      onRequest: auth.require('planner'),
      schema: { summary: 'a scenario with its edits (planner)', tags: ['scenarios'], security: [...SECURITY_READ], params: ID_PARAMS, response: { 200: SCENARIO, ...STORE_ERRORS } },
    },
    async (req) => find(req.params.id),
  );

  app.patch<{ Params: { id: number }; Body: { version: number; name?: string; description?: string; edits?: unknown[] } }>(
    '/api/scenarios/:id',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'change a scenario (planner): name, description and/or edits; give the version you read',
        tags: ['scenarios'],
        security: [...SECURITY_WRITE],
        params: ID_PARAMS,
        body: {
          type: 'object',
          required: ['version'],
          additionalProperties: false,
          properties: { version: { ...VERSION, minimum: 1 }, name: NAME, description: DESCRIPTION, edits: EDITS },
        },
        response: { 200: SCENARIO, ...STORE_ERRORS },
      },
    },
    async (req) => {
      const { version, name, description, edits } = req.body;
      if (name === undefined && description === undefined && edits === undefined) throw new ApiError(400, 'nothing to change: give name, description or edits', 'body');
      await find(req.params.id);
      const patch: ScenarioPatch = {
        ...(name !== undefined ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(edits !== undefined ? { edits: validateScenarioEdits(ctx.effective().region, edits, { taxonomy }) } : {}),
      };
      return auth.needStore().updateScenario(req.params.id, version, patch, auth.actor(req));
    },
  );

  app.delete<{ Params: { id: number }; Querystring: { version: number } }>(
    '/api/scenarios/:id',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'delete a scenario (planner); give the version you read',
        tags: ['scenarios'],
        security: [...SECURITY_WRITE],
        params: ID_PARAMS,
        querystring: { type: 'object', required: ['version'], properties: { version: { ...VERSION, minimum: 1 } } },
        response: { 200: { type: 'object', properties: { id: { type: 'integer' }, deleted: { type: 'boolean' } } }, ...STORE_ERRORS },
      },
    },
    async (req) => {
      await find(req.params.id);
      await auth.needStore().deleteScenario(req.params.id, req.query.version, auth.actor(req));
      return { id: req.params.id, deleted: true };
    },
  );

  app.post<{ Params: { id: number }; Body: { profile?: string } | undefined }>(
    '/api/scenarios/:id/evaluate',
    {
      onRequest: auth.require('planner'),
      // the body is optional: none means the default profile
      preValidation: async (req) => {
        req.body ??= {};
      },
      schema: {
        summary: 'evaluate a scenario against the served region (planner): coverage before/after per format and zone, who gains and loses, the changed area',
        tags: ['scenarios'],
        security: [...SECURITY_WRITE],
        params: ID_PARAMS,
        body: { type: 'object', additionalProperties: false, properties: { profile: { ...PROFILE_ID, description: `standards profile (default ${DEFAULT_EVALUATION_PROFILE})` } } },
        response: STORE_ERRORS,
      },
    },
    async (req) => {
      const record = await find(req.params.id);
      const profile = ctx.standardsFor(req.body?.profile ?? DEFAULT_EVALUATION_PROFILE);
      const ev = evaluateScenario(ctx.effective().region, record.edits, { profile, taxonomy });
      return { scenario: summary(record), evaluation: evaluationToJson(ev, { indices: false }) };
    },
  );
}
