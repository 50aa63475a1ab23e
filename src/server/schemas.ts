/** JSON-schema pieces shared by the routes that read and write the store. */

export const ERROR_BODY = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
  required: ['error', 'message'],
} as const;

const described = (description: string) => ({ ...ERROR_BODY, description });

/** Error answers every store-backed route may give. */
export const STORE_ERRORS = {
  400: described('the request is invalid; `field` names what is wrong'),
  401: described('not logged in (POST /api/login first)'),
  403: described('logged in without the role, or the x-csrf-token header / Origin is wrong'),
  404: described('no such record'),
  409: described('someone else changed it first (reload), or the name is taken'),
  413: described('the body is larger than allowed'),
  429: described('too many requests; see Retry-After'),
  503: described('no database configured, or the plan solver is not available'),
} as const;

/** Security of routes that need a login: the session cookie, and on writes the CSRF header too. */
export const SECURITY_READ = [{ sessionCookie: [] }] as const;
export const SECURITY_WRITE = [{ sessionCookie: [], csrfHeader: [] }] as const;

/** The OpenAPI security schemes (components.securitySchemes). */
export const SECURITY_SCHEMES = {
  sessionCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'quarter_session',
    description: 'set by POST /api/login (HttpOnly, SameSite=Strict)',
  },
  csrfHeader: {
    type: 'apiKey',
    in: 'header',
    name: 'x-csrf-token',
    description: 'the csrfToken of POST /api/login or GET /api/me; required on every write that needs a login',
  },
} as const;

export const POSITIVE_ID = { type: 'integer', minimum: 1, maximum: 2147483647 } as const;
export const VERSION = { type: 'integer', minimum: 0, maximum: 2147483647, description: 'the version you read (optimistic locking)' } as const;
export const LON = { type: 'number', minimum: -180, maximum: 180, description: 'longitude, WGS-84 degrees' } as const;
export const LAT = { type: 'number', minimum: -90, maximum: 90, description: 'latitude, WGS-84 degrees' } as const;
export const FORMAT_ID = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z0-9_]+$' } as const;
export const PROFILE_ID = { type: 'string', minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9_-]+$' } as const;
export const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: POSITIVE_ID } } as const;
/** A number of degrees in a query string: up to 3 integer digits and 17 decimals (what JavaScript prints for a double). */
export const DEGREES_PATTERN = '-?[0-9]{1,3}(?:\\.[0-9]{1,17})?';
const NUM = DEGREES_PATTERN;
export const LONLAT = { type: 'string', maxLength: 64, pattern: `^\\s*${NUM}\\s*,\\s*${NUM}\\s*$`, description: 'lon,lat (WGS-84 degrees)' } as const;
