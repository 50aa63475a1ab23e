/**
 * Rate limits shared by several API servers through one Redis (`quarter serve --redis`): two
 * servers with a limit of 5 reads a minute let one client make 5 reads in all, not 10 (the control:
 * without Redis each allows 5); while Redis is down requests pass unlimited rather than fail, and
 * the shared limit holds again once Redis is back. Real redis-server (test/batch/redis-server.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openRedis, parseRedisUrl } from '../../src/batch/redis.js';
import { buildServer } from '../../src/server/app.js';
import { ClientHasher, redisDayKey } from '../../src/server/routes/survey.js';
import { redisUnavailableReason, startRedisTestServer, type RedisTestServer } from '../batch/redis-server.js';
import { handRegion } from './hand-region.js';

const unavailable = redisUnavailableReason();
if (unavailable !== null && process.env.CI) {
  test('Redis is available on CI', () => {
    throw new Error(`the shared rate-limit test cannot run on this CI machine: ${unavailable}`);
  });
}

describe.skipIf(unavailable !== null)(`rate limits shared through Redis${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let redis: RedisTestServer;
  const clients: Redis[] = [];
  const apps: FastifyInstance[] = [];
  const region = handRegion().region;
  const LIMIT = 5;

  beforeAll(async () => {
    redis = await startRedisTestServer();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });

  async function server(shared: boolean, db: number): Promise<FastifyInstance> {
    let sharedLimits: Redis | undefined;
    if (shared) {
      sharedLimits = openRedis(parseRedisUrl(`${redis.url}/${db}`, undefined), undefined, { failFast: true });
      clients.push(sharedLimits);
      const c = sharedLimits;
      if (c.status !== 'ready') await new Promise((r) => c.once('ready', r));
    }
    const app = await buildServer({ region, rateLimit: { readsPerMinute: LIMIT }, sharedLimits, plans: { workerScript: null } });
    apps.push(app);
    return app;
  }

  const get = async (app: FastifyInstance): Promise<number> => (await app.inject({ method: 'GET', url: '/api/formats', remoteAddress: '203.0.113.7' })).statusCode;

  test('two servers on one Redis allow the limit once in all; two without it allow it each', async () => {
    const [a, b] = [await server(true, 1), await server(true, 1)];
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push(await get(a), await get(b));
    expect(codes.filter((c) => c === 200)).toHaveLength(LIMIT);
    expect(codes.filter((c) => c === 429)).toHaveLength(8 - LIMIT);
    expect(codes.slice(0, LIMIT).every((c) => c === 200)).toBe(true);

    const [c, d] = [await server(false, 0), await server(false, 0)];
    const alone: number[] = [];
    for (let i = 0; i < 4; i++) alone.push(await get(c), await get(d));
    expect(alone.every((x) => x === 200)).toBe(true);
  });

  test('survey answers: one client hashes alike on every server, so the per-client limit holds across them', async () => {
    const client = openRedis(parseRedisUrl(`${redis.url}/3`, undefined), undefined, { failFast: true });
    clients.push(client);
    if (client.status !== 'ready') await new Promise((r) => client.once('ready', r));
    const [h1, h2] = [new ClientHasher(undefined, redisDayKey(client)), new ClientHasher(undefined, redisDayKey(client))];
    expect(await h1.hash('203.0.113.7')).toBe(await h2.hash('203.0.113.7'));
    expect(await h1.hash('203.0.113.8')).not.toBe(await h1.hash('203.0.113.7'));
    // without the shared key two servers hash one client differently (each has its own random key)
    expect(await new ClientHasher().hash('203.0.113.7')).not.toBe(await new ClientHasher().hash('203.0.113.7'));
    // the next day's key is another one
    const tomorrow = new ClientHasher(() => new Date(Date.now() + 86_400_000), redisDayKey(client));
    expect(await tomorrow.hash('203.0.113.7')).not.toBe(await h1.hash('203.0.113.7'));
  });

  test('Redis down: requests pass (not limited, never 500); back: the shared limit holds again', async () => {
    const [a, b] = [await server(true, 2), await server(true, 2)];
    await redis.down();
    const during: number[] = [];
    for (let i = 0; i < 8; i++) during.push(await get(i % 2 ? a : b));
    expect(during.every((x) => x === 200)).toBe(true);
    await redis.up();
    // the two servers' clients reconnect by themselves (back-off up to 5 s)
    const mine = clients.slice(-2);
    for (let i = 0; i < 400 && !mine.every((c) => c.status === 'ready'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(mine.map((c) => c.status)).toEqual(['ready', 'ready']);
    const back: number[] = [];
    for (let attempt = 0; attempt < 2 * LIMIT + 2 && !back.includes(429); attempt++) back.push(await get(attempt % 2 ? a : b));
    expect(back).toContain(429);
    expect(back.every((x) => x === 200 || x === 429)).toBe(true);
  }, 60_000);
});
