/**
 * A throwaway Redis for the batch tests: redis-server on 127.0.0.1 at a free port, its data (an
 * append-only file, so queued jobs survive a restart as in a real deployment) in a temporary
 * directory. down() shuts it down the way an operator's `systemctl stop` would; up() starts it
 * again on the same port and data. stop() ends it and removes the directory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../store/pg-server.js';

export const REDIS_BIN = process.env.QUARTER_TEST_REDIS_BIN ?? '/usr/bin/redis-server';

/** Why the Redis tests cannot run here, or null. */
export function redisUnavailableReason(): string | null {
  return existsSync(REDIS_BIN) ? null : `no redis-server at ${REDIS_BIN} (install the Debian package redis-server)`;
}

export interface RedisTestServer {
  url: string;
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

const ping = (port: number): boolean => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG';

export async function startRedisTestServer(): Promise<RedisTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'quarter-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const up = async (): Promise<void> => {
    child = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--protected-mode', 'yes'], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !ping(port); i++) await new Promise((r) => setTimeout(r, 25));
    if (!ping(port)) throw new Error(`redis-server did not start on port ${port}`);
  };
  const down = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM'); // redis-server writes its append-only file and exits
    await exited;
    child = null;
  };
  await up();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    up,
    down,
    async stop() {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
