/** JSON errors for the HTTP API: every 4xx names the field at fault; nothing a client sends gives a 500. */
import type { FastifyError, FastifyInstance } from 'fastify';
import { PlanInputError } from '../plan/instance.js';
import { ScenarioEditError } from '../scenario/edits.js';
import { DuplicateNameError, InvalidStateError, NotFoundError, StoreInputError, StoreUnavailableError, VersionConflictError } from '../store/store.js';
import { FacilityEditError } from './facility-edits.js';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (field: string, message: string): ApiError => new ApiError(400, message, field);
export const notFound = (field: string, message: string): ApiError => new ApiError(404, message, field);

export interface ErrorBody {
  error: string;
  message: string;
  field?: string;
}

const STATUS_WORDS: Record<number, string> = {
  400: 'bad request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  406: 'not acceptable',
  409: 'conflict',
  413: 'payload too large',
  415: 'unsupported media type',
  422: 'unprocessable entity',
  429: 'too many requests',
  500: 'internal error',
  503: 'service unavailable',
};
const statusWord = (code: number): string => STATUS_WORDS[code] ?? (code >= 500 ? 'internal error' : 'bad request');

/** What a field must look like, said plainly (used instead of the schema's pattern text). */
const FIELD_HINTS: Record<string, string> = {
  at: 'must be "lon,lat" (e.g. 15.6,48.41)',
  from: 'must be "lon,lat" (e.g. 15.6,48.41)',
  to: 'must be "lon,lat" (e.g. 15.6,48.41)',
  facility: 'must be a facility id (an integer ≥ 0, see /api/facilities)',
  minutes: 'must be a comma-separated list of 1–10 numbers of minutes (e.g. 5,10,15)',
  profile: 'must be a profile id (letters, digits, - and _)',
  format: 'must be a format id (lower-case letters, digits and _)',
  bbox: 'must be "west,south,east,north" in degrees',
  population: 'must be a number in [0, 2000000000]',
  cell: 'must be a number of metres in [5, 200]',
};

interface ValidationItem {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** The bound a number or string broke, said plainly (fields whose limits differ between routes). */
function boundHint(v: ValidationItem): string | null {
  const limit = v.params?.limit;
  if (typeof limit !== 'number') return v.keyword === 'type' && typeof v.params?.type === 'string' ? `must be of type ${v.params.type}` : null;
  switch (v.keyword) {
    case 'maximum':
      return `must be at most ${limit}`;
    case 'minimum':
      return `must be at least ${limit}`;
    case 'maxLength':
      return `must be at most ${limit} characters`;
    case 'minLength':
      return limit === 1 ? 'must not be empty' : `must be at least ${limit} characters`;
    default:
      return null;
  }
}

/** "querystring/at must be "lon,lat"" from an Ajv error of Fastify's validation. */
export function validationError(context: string | undefined, items: readonly ValidationItem[]): ErrorBody {
  const v = items[0] ?? {};
  const ctx = context ?? 'request';
  let field = (v.instancePath ?? '').replace(/^\//, '').split('/')[0];
  if (v.keyword === 'required' && typeof v.params?.missingProperty === 'string') {
    field = v.params.missingProperty;
    return { error: 'bad request', message: `${ctx}/${field} is required${FIELD_HINTS[field] ? ` and ${FIELD_HINTS[field]}` : ''}`, field };
  }
  if (v.keyword === 'additionalProperties' && typeof v.params?.additionalProperty === 'string') {
    field = v.params.additionalProperty;
    return { error: 'bad request', message: `${ctx}/${field} is not a known field`, field };
  }
  if (!field) {
    return { error: 'bad request', message: `${ctx} ${v.message ?? 'is invalid'}`, field: ctx };
  }
  const hint = FIELD_HINTS[field] ?? boundHint(v) ?? v.message ?? 'is invalid';
  return { error: 'bad request', message: `${ctx}/${field} ${hint}`, field };
}

/** API fields of plan request fields where the names differ. */
const PLAN_FIELDS: Record<string, string> = { coverShare: 'share', standards: 'profile', spacingMetres: 'spacing', radiusSeconds: 'radius' };

/** The HTTP answer for the errors of the store, scenarios and plans; null for any other error. */
export function domainError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof VersionConflictError) return new ApiError(409, err.message, 'version');
  if (err instanceof DuplicateNameError) return new ApiError(409, err.message, 'name');
  if (err instanceof InvalidStateError) return new ApiError(409, err.message, 'status');
  if (err instanceof NotFoundError) return new ApiError(404, err.message, 'id');
  if (err instanceof StoreInputError) return new ApiError(400, err.message, err.field);
  if (err instanceof StoreUnavailableError) return new ApiError(503, STORE_UNAVAILABLE[err.reason], 'database'); // detail logged by the handler
  if (err instanceof FacilityEditError) return new ApiError(400, `${err.field}: ${err.message}`, err.field);
  if (err instanceof PlanInputError) return new ApiError(400, err.message, PLAN_FIELDS[err.field] ?? err.field);
  if (err instanceof ScenarioEditError) {
    const field = err.index === null ? 'edits' : `edits[${err.index}]${err.field !== null ? `.${err.field}` : ''}`;
    return new ApiError(400, err.message, field);
  }
  return null;
}

/** What a client is told when the store cannot write (the location and cause go to the log only). */
const STORE_UNAVAILABLE: Record<StoreUnavailableError['reason'], string> = {
  unreachable: 'the database cannot be reached just now; nothing was saved — try again in a moment',
  busy: 'the database is busy with another write; nothing was saved — try again in a moment',
  full: 'the disk holding the database is full; nothing was saved — tell the administrator',
  'read-only': 'the database cannot be written just now (read-only); nothing was saved — tell the administrator',
};

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((raw: FastifyError | ApiError, request, reply) => {
    const err = domainError(raw) ?? raw;
    if (raw instanceof StoreUnavailableError) request.log.warn({ err: raw }, 'database unavailable');
    if (err instanceof ApiError) {
      const body: ErrorBody = { error: statusWord(err.statusCode), message: err.message };
      if (err.field) body.field = err.field;
      return reply.status(err.statusCode).type('application/json').send(body);
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply.status(400).type('application/json').send(validationError(fe.validationContext, fe.validation as ValidationItem[]));
    }
    const code = typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500;
    if (code === 500) {
      request.log.error(err);
      return reply.status(500).type('application/json').send({ error: 'internal error', message: 'internal error' });
    }
    const limit = request.routeOptions?.bodyLimit ?? app.initialConfig.bodyLimit ?? 1048576;
    const body: ErrorBody = {
      error: statusWord(code),
      message: fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `body is larger than ${limit >= 1048576 ? `${limit / 1048576} MB` : `${limit} bytes`}` : fe.message,
    };
    if (code === 413 || fe.code?.startsWith('FST_ERR_CTP')) body.field = 'body';
    return reply.status(code).type('application/json').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).type('application/json').send({ error: 'not found', message: `no route ${request.method} ${request.url.split('?')[0].slice(0, 200).replace(/[^\w/.~-]/g, '?')}`, field: 'url' });
  });
}
