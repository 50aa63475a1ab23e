/**
 * Planning over HTTP (planner). POST /api/plans checks the request (400 naming the field), saves
 * a queued run and answers 202 at once; the run happens in a worker thread (plan-runner.ts) and
 * GET /api/plans/:id shows its status, progress and, when done, the report. DELETE cancels.
 * POST /api/zoning splits the district into service zones (fast enough to answer directly).
 */
import type { FastifyInstance } from 'fastify';
import { getWalkingProfile } from '../../engine/profile.js';
import { planSitesCsv, planToGeoJson, planWorkbook } from '../../plan/plan-export.js';
import {
  MAX_CANDIDATE_POINTS,
  MAX_PLAN_SECONDS,
  MAX_PLAN_SITES,
  PLAN_MODELS,
  PLAN_SOLVERS,
  planRequestFromParams,
  type CandidatePoint,
  type PlanParams,
} from '../../plan/plan-worker.js';
import type { PlanReport } from '../../plan/run-plan.js';
import { zoneDistrict, zoningToGeoJson } from '../../plan/zoning.js';
import { textProblem } from '../../scenario/edits.js';
import type { PlanRunRecord } from '../../store/store.js';
import type { StoreRouteContext } from '../context.js';
import { ApiError, badRequest } from '../errors.js';
import type { PlanRunner } from '../plan-runner.js';
import { FORMAT_ID, ID_PARAMS, LAT, LON, PROFILE_ID, SECURITY_READ, SECURITY_WRITE, STORE_ERRORS } from '../schemas.js';
import { sendAttachment } from './exports.js';

interface PlanBody {
  model: PlanParams['model'];
  format?: string;
  formats?: string[];
  sites?: number;
  minutes?: number;
  share?: number;
  capacity?: number;
  candidates: 'network' | { points: CandidatePoint[] };
  spacing?: number;
  solver?: PlanParams['solver'];
  timeLimitSeconds?: number;
  profile?: string;
  seed?: number;
}

const PLAN_BODY = {
  type: 'object',
  required: ['model', 'candidates'],
  additionalProperties: false,
  properties: {
    model: { type: 'string', enum: [...PLAN_MODELS], description: 'mclp: most residents covered by p sites; lscp: fewest sites covering a share; pmedian: least mean walk; capacitated: coverage with site capacities' },
    format: { ...FORMAT_ID, description: 'a format id or a bundle id (or give formats)' },
    formats: { type: 'array', minItems: 1, maxItems: 10, items: FORMAT_ID },
    sites: { type: 'integer', minimum: 0, maximum: MAX_PLAN_SITES, description: 'new sites (all models but lscp)' },
    minutes: { type: 'number', exclusiveMinimum: 0, maximum: 120, description: 'walking threshold (default: the standards profile’s)' },
    share: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'lscp: share of residents to cover' },
    capacity: { type: 'number', minimum: 0, maximum: 1e9, description: 'capacitated: what a site serves' },
    candidates: {
      anyOf: [
        { type: 'string', enum: ['network'], description: 'junctions of the walking network, one per spacing cell' },
        {
          type: 'object',
          required: ['points'],
          additionalProperties: false,
          properties: {
            points: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_CANDIDATE_POINTS,
              items: {
                type: 'object',
                required: ['lon', 'lat'],
                additionalProperties: false,
                properties: { lon: LON, lat: LAT, name: { type: 'string', maxLength: 200 }, capacity: { type: 'number', minimum: 0, maximum: 1e9 } },
              },
            },
          },
        },
      ],
    },
    spacing: { type: 'number', minimum: 5, maximum: 10_000, description: 'network candidates: metres between them (default 100)' },
    solver: { type: 'string', enum: [...PLAN_SOLVERS] },
    timeLimitSeconds: { type: 'number', exclusiveMinimum: 0, maximum: MAX_PLAN_SECONDS },
    profile: { ...PROFILE_ID, description: 'standards profile (default xuhui)' },
    seed: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
  },
} as const;

const RUN_PROPS = {
  id: { type: 'integer' },
  model: { type: 'string' },
  status: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'] },
  progress: { type: 'number' },
  error: { type: 'string', nullable: true },
  createdAt: { type: 'string' },
  updatedAt: { type: 'string' },
  finishedAt: { type: 'string', nullable: true },
  actor: { type: 'string', nullable: true },
  params: { type: 'object', additionalProperties: true },
} as const;

const runSummary = (r: PlanRunRecord) => ({
  id: r.id,
  model: r.model,
  status: r.status,
  progress: r.progress,
  error: r.error,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  finishedAt: r.finishedAt,
  actor: r.actor,
  params: r.params,
});

export function registerPlanRoutes(app: FastifyInstance, ctx: StoreRouteContext, runner: PlanRunner | null): void {
  const { auth, taxonomy } = ctx;
  const regionName = ctx.base.meta.name;
  const find = async (id: number): Promise<PlanRunRecord> => {
    const r = await auth.needStore().getPlanRun(id);
    if (r.region !== regionName) throw new ApiError(404, `no plan run ${id} for region ${JSON.stringify(regionName)}`, 'id');
    return r;
  };

  app.post<{ Body: PlanBody }>(
    '/api/plans',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'start a plan run (planner): 202 with its id; poll GET /api/plans/{id}',
        tags: ['plans'],
        security: [...SECURITY_WRITE],
        body: PLAN_BODY,
        response: { 202: { type: 'object', properties: { id: { type: 'integer' }, status: { type: 'string' } } }, ...STORE_ERRORS },
      },
    },
    async (req, reply) => {
      const store = auth.needStore();
      if (!runner?.available) throw new ApiError(503, 'the plan solver is not available on this server (its worker is not built: npm run build)');
      const b = req.body;
      if (b.format !== undefined && b.formats !== undefined) throw badRequest('format', 'give format or formats, not both');
      const formats = b.formats ?? (b.format !== undefined ? [b.format] : []);
      if (formats.length === 0) throw badRequest('format', 'body/format is required (a format id such as pharmacy, or a bundle)');
      if (typeof b.candidates === 'object') {
        b.candidates.points.forEach((p, i) => {
          const problem = p.name === undefined ? null : textProblem(p.name, 200);
          if (problem) throw badRequest('candidates', `candidates.points[${i}].name ${problem}`);
        });
      }
      if (b.profile !== undefined) ctx.standardsFor(b.profile);
      const params: PlanParams = {
        model: b.model,
        formats,
        candidates: b.candidates,
        ...(b.sites !== undefined ? { sites: b.sites } : {}),
        ...(b.minutes !== undefined ? { minutes: b.minutes } : {}),
        ...(b.share !== undefined ? { share: b.share } : {}),
        ...(b.capacity !== undefined ? { capacity: b.capacity } : {}),
        ...(b.spacing !== undefined ? { spacing: b.spacing } : {}),
        ...(b.solver !== undefined ? { solver: b.solver } : {}),
        ...(b.timeLimitSeconds !== undefined ? { timeLimitSeconds: b.timeLimitSeconds } : {}),
        ...(b.profile !== undefined ? { profile: b.profile } : {}),
        ...(b.seed !== undefined ? { seed: b.seed } : {}),
      };
      const region = ctx.effective().region;
      planRequestFromParams(region, params, { taxonomy });
      const run = await store.createPlanRun({ region: regionName, model: params.model, params, actor: auth.actor(req) });
      runner.enqueue(run.id, region, params);
      return reply.code(202).header('location', `/api/plans/${run.id}`).send({ id: run.id, status: run.status });
    },
  );

  app.get<{ Querystring: { status?: PlanRunRecord['status']; limit: number } }>(
    '/api/plans',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'plan runs of the served region, newest first (planner); without their reports',
        tags: ['plans'],
        security: [...SECURITY_READ],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { status: RUN_PROPS.status, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
        response: { 200: { type: 'object', properties: { plans: { type: 'array', items: { type: 'object', properties: RUN_PROPS } } } }, ...STORE_ERRORS },
      },
    },
    async (req) => {
      const list = await auth.needStore().listPlanRuns({ region: regionName, limit: req.query.limit, ...(req.query.status ? { status: req.query.status } : {}) });
      return { plans: list.map(runSummary) };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/plans/:id',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'a plan run (planner): status, progress 0–1, and the report when done or the error when failed',
        tags: ['plans'],
        security: [...SECURITY_READ],
        params: ID_PARAMS,
        response: STORE_ERRORS,
      },
    },
    async (req) => {
      const r = await find(req.params.id);
      return { ...runSummary(r), ...(r.status === 'done' ? { result: r.result } : {}) };
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/plans/:id',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: 'cancel a queued or running plan run (planner); 409 when it has finished',
        tags: ['plans'],
        security: [...SECURITY_WRITE],
        params: ID_PARAMS,
        response: { 200: { type: 'object', properties: RUN_PROPS }, ...STORE_ERRORS },
      },
    },
    async (req) => {
      await find(req.params.id);
      const actor = auth.actor(req);
      const r = runner ? await runner.cancel(req.params.id, actor) : await auth.needStore().updatePlanRun(req.params.id, { status: ['queued', 'running'] }, { status: 'cancelled' }, actor);
      return runSummary(r);
    },
  );

  for (const ext of ['geojson', 'csv', 'xlsx'] as const) {
    app.get<{ Params: { id: number } }>(
      `/api/plans/:id/export.${ext}`,
      {
        onRequest: auth.require('planner'),
        schema: {
          summary: `download a finished plan (planner) as ${ext === 'geojson' ? 'GeoJSON (chosen sites and uncovered homes)' : ext === 'csv' ? 'CSV of the chosen sites (UTF-8 with BOM)' : 'an Excel workbook'}`,
          tags: ['plans', 'exports'],
          security: [...SECURITY_READ],
          params: ID_PARAMS,
          response: STORE_ERRORS,
        },
      },
      async (req, reply) => {
        const r = await find(req.params.id);
        if (r.status !== 'done') throw new ApiError(409, `plan run ${r.id} is ${r.status}: only a finished run can be downloaded`, 'status');
        const report = r.result as PlanReport;
        const name = `quarter-plan-${r.id}-${r.model}`;
        if (ext === 'geojson') return sendAttachment(reply, name, ext, JSON.stringify(planToGeoJson(report)));
        if (ext === 'csv') return sendAttachment(reply, name, ext, planSitesCsv(report, taxonomy));
        return sendAttachment(reply, name, ext, await planWorkbook(report, taxonomy));
      },
    );
  }

  app.post<{ Body: { k: number; radius: number; tolerance?: number; seed?: number } }>(
    '/api/zoning',
    {
      onRequest: auth.require('planner'),
      schema: {
        summary: '片区划分 (planner): split the district into k service zones balanced by population within a walking radius; GeoJSON',
        tags: ['plans'],
        security: [...SECURITY_WRITE],
        body: {
          type: 'object',
          required: ['k', 'radius'],
          additionalProperties: false,
          properties: {
            k: { type: 'integer', minimum: 1, maximum: 500, description: 'number of zones' },
            radius: { type: 'number', minimum: 50, maximum: 10_000, description: 'service radius, metres of walking' },
            tolerance: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'allowed deviation of a zone’s population from the mean (default 0.2)' },
            seed: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
          },
        },
        response: STORE_ERRORS,
      },
    },
    async (req, reply) => {
      const { k, radius, tolerance, seed } = req.body;
      const walking = getWalkingProfile('default');
      const region = ctx.effective().region;
      const result = zoneDistrict(region, { k, radiusSeconds: radius / walking.speedMps, walking, ...(tolerance !== undefined ? { tolerance } : {}), ...(seed !== undefined ? { seed } : {}) });
      return reply.type('application/geo+json; charset=utf-8').send(JSON.stringify(zoningToGeoJson(result, region)));
    },
  );
}
