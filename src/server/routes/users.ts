/**
 * Accounts (admin): list, create, change role / disable / set a password. Changes name the
 * version read. An admin cannot demote or disable their own account here, so the last admin
 * cannot lock everyone out by mistake (the command line `quarter user set` still can).
 */
import type { FastifyInstance } from 'fastify';
import type { UserRecord, UserRole } from '../../store/store.js';
import type { StoreRouteContext } from '../context.js';
import { badRequest } from '../errors.js';
import { ID_PARAMS, SECURITY_READ, SECURITY_WRITE, STORE_ERRORS } from '../schemas.js';

/** As `quarter user create`: the web app faces a network. */
export const MIN_PASSWORD_CHARS = 10;
const ROLES: readonly UserRole[] = ['public', 'planner', 'admin'];

const USER = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    role: { type: 'string', enum: [...ROLES] },
    disabled: { type: 'boolean' },
    version: { type: 'integer' },
    createdAt: { type: 'string' },
  },
} as const;
const PASSWORD = { type: 'string', minLength: MIN_PASSWORD_CHARS, maxLength: 1024 } as const;

const userJson = (u: UserRecord) => ({ id: u.id, name: u.name, role: u.role, disabled: u.disabled, version: u.version, createdAt: u.createdAt });

export function registerUserRoutes(app: FastifyInstance, ctx: StoreRouteContext): void {
  const { auth } = ctx;

  app.get(
    '/api/users',
    {
      onRequest: auth.require('admin'),
      schema: { summary: 'every account (admin)', tags: ['users'], security: [...SECURITY_READ], response: { 200: { type: 'object', properties: { users: { type: 'array', items: USER } } }, ...STORE_ERRORS } },
    },
    async () => ({ users: (await auth.needStore().listUsers()).map(userJson) }),
  );

  app.post<{ Body: { name: string; password: string; role: UserRole } }>(
    '/api/users',
    {
      onRequest: auth.require('admin'),
      bodyLimit: 8192,
      schema: {
        summary: 'create an account (admin)',
        tags: ['users'],
        security: [...SECURITY_WRITE],
        body: {
          type: 'object',
          required: ['name', 'password', 'role'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, password: PASSWORD, role: { type: 'string', enum: [...ROLES] } },
        },
        response: { 201: USER, ...STORE_ERRORS },
      },
    },
    async (req, reply) => {
      const { name, password, role } = req.body;
      const u = await auth.needStore().createUser({ name, password, role, actor: auth.actor(req) });
      return reply.code(201).send(userJson(u));
    },
  );

  app.patch<{ Params: { id: number }; Body: { version: number; role?: UserRole; disabled?: boolean; password?: string } }>(
    '/api/users/:id',
    {
      onRequest: auth.require('admin'),
      bodyLimit: 8192,
      schema: {
        summary: 'change an account (admin): role, disabled, password; give the version you read. Disabling or a new password ends its sessions.',
        tags: ['users'],
        security: [...SECURITY_WRITE],
        params: ID_PARAMS,
        body: {
          type: 'object',
          required: ['version'],
          additionalProperties: false,
          properties: { version: { type: 'integer', minimum: 1, maximum: 2147483647 }, role: { type: 'string', enum: [...ROLES] }, disabled: { type: 'boolean' }, password: PASSWORD },
        },
        response: { 200: USER, ...STORE_ERRORS },
      },
    },
    async (req) => {
      const store = auth.needStore();
      const { version, role, disabled, password } = req.body;
      if (role === undefined && disabled === undefined && password === undefined) throw badRequest('body', 'nothing to change: give role, disabled or password');
      const me = await store.getUser(auth.actor(req));
      if (me.id === req.params.id && ((role !== undefined && role !== 'admin') || disabled === true)) {
        throw badRequest(role !== undefined ? 'role' : 'disabled', 'you cannot demote or disable your own account: another admin must');
      }
      const u = await store.updateUser(req.params.id, version, { role, disabled, password }, auth.actor(req));
      return userJson(u);
    },
  );
}
