/**
 * The Redis that carries batch jobs, named by one URL as `--redis` / $QUARTER_REDIS give it
 * (redis://[user[:password]@]host[:port][/db], rediss:// for TLS). The password may instead sit in
 * a file named by $QUARTER_REDIS_PASSWORD_FILE; it is shown as *** in every message.
 *
 * Connections retry for ever with a capped back-off: a worker rides out a Redis restart and
 * carries on; what it says meanwhile is up to the caller (onState).
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { REDACTED } from '../store/redact.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export class RedisConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisConfigError';
  }
}

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** the URL as shown in messages: no password. */
  shown: string;
}

export function parseRedisUrl(spec: string, passwordFile = process.env.QUARTER_REDIS_PASSWORD_FILE): RedisTarget {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new RedisConfigError(`--redis: "${spec.replace(/:[^:@/]*@/, `:${REDACTED}@`)}" is not a URL (expected redis://host:port)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new RedisConfigError(`--redis: "${url.protocol}//" is not a Redis URL (expected redis:// or rediss://)`);
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw new RedisConfigError(`--redis: database "${dbText}" must be a number 0–15`);
  if (url.hostname === '') throw new RedisConfigError('--redis: the URL has no host');
  let password = url.password === '' ? undefined : decodeURIComponent(url.password);
  if (password === undefined && passwordFile) {
    try {
      password = readFileSync(passwordFile, 'utf8').split(/\r?\n/)[0] || undefined;
    } catch (err) {
      throw new RedisConfigError(`cannot read the Redis password file ${passwordFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  const shown = `${url.protocol}//${url.username ? `${decodeURIComponent(url.username)}${password ? `:${REDACTED}` : ''}@` : password ? `:${REDACTED}@` : ''}${url.host}${db ? `/${db}` : ''}`;
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port, db, username: url.username ? decodeURIComponent(url.username) : undefined, password, tls: url.protocol === 'rediss:', shown };
}

export type RedisState = 'down' | 'up';

/**
 * A client for BullMQ: maxRetriesPerRequest null (BullMQ's blocking commands must wait through an
 * outage rather than fail), reconnecting every 0.2–5 s for ever; with failFast, for request paths. onState hears each outage once
 * and each recovery once (not every failed reconnect).
 */
export function openRedis(t: RedisTarget, onState?: (state: RedisState, detail: string) => void, opts: { failFast?: boolean } = {}): Redis {
  const client = new Redis({
    host: t.host,
    port: t.port,
    db: t.db,
    username: t.username,
    password: t.password,
    ...(t.tls ? { tls: {} } : {}),
    // failFast (request paths, e.g. shared rate limits): a command fails at once while Redis is
    // down instead of queueing, so the caller can carry on without it
    ...(opts.failFast ? { maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: 1000 } : { maxRetriesPerRequest: null }),
    retryStrategy: (times: number) => Math.min(200 * times, 5000),
  });
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    onState?.('down', `Redis at ${t.shown} is unreachable (${(err as NodeJS.ErrnoException).code ?? err.message}); retrying every few seconds`);
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    onState?.('up', `Redis at ${t.shown} is back`);
  });
  return client;
}

/** Resolves when Redis answers PING, rejects with a clear message after timeoutMs. */
export async function pingRedis(client: Redis, t: RedisTarget, timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisConfigError(`Redis at ${t.shown} did not answer within ${Math.round(timeoutMs / 1000)} s (is redis-server running? --redis / $QUARTER_REDIS)`)), timeoutMs);
  });
  try {
    await Promise.race([client.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
