/**
 * Users and sessions, against every backend: the stored password hash and session token are checked in the raw database
 * (hash verified with node:crypto's scrypt here, token hash recomputed with SHA-256 here); expiry
 * is driven by an injected clock.
 */
import { createHash, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { DuplicateNameError, InvalidStateError, StoreInputError, VersionConflictError } from '../../src/store/store.js';
import { forEachBackend, rejection, type RawDb } from './backends.js';

const FAST_PASSWORDS = { logN: 10, r: 8, p: 1, keyLength: 32, saltLength: 16 };

const raw = async <T>(db: RawDb, sql: string, ...params: unknown[]): Promise<T[]> => (await db.rows(sql, ...params)) as T[];

forEachBackend((backend) => {
  describe('users', () => {
    test('created with a salted scrypt hash that verifies the password and nothing else', async () => {
      const { store, raw: db, location } = await backend.fresh({ passwordParams: FAST_PASSWORDS });
      const u = await store.createUser({ name: 'Li Wei', password: 'open sesame 芝麻开门', role: 'planner', actor: 'admin' });
      expect(u).toMatchObject({ name: 'Li Wei', role: 'planner', disabled: false, version: 1 });
      expect(Object.keys(u).sort()).toEqual(['createdAt', 'disabled', 'id', 'name', 'role', 'version']); // no hash handed out
      const twin = await store.createUser({ name: 'Twin', password: 'open sesame 芝麻开门', role: 'public' });

      const rows = await raw<{ name: string; password_hash: string }>(db, 'SELECT name, password_hash FROM users ORDER BY id');
      const [h1, h2] = rows.map((r) => r.password_hash);
      expect(h1).not.toBe(h2); // same password, different salts
      for (const h of [h1, h2]) {
        const m = /^\$scrypt\$ln=10,r=8,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(h);
        expect(m).not.toBeNull();
        const key = scryptSync('open sesame 芝麻开门', Buffer.from(m![1], 'base64'), 32, { N: 1024, r: 8, p: 1 });
        expect(Buffer.from(m![2], 'base64').equals(key)).toBe(true);
      }
      await store.close();
      // the password is nowhere in the database
      expect(JSON.stringify(await db.snapshot())).not.toContain('open sesame');
      if (backend.name === 'sqlite') expect(readFileSync(location).includes(Buffer.from('open sesame'))).toBe(false);
      void twin;
    });

    test('login: right password, wrong password, unknown or disabled user; names match ignoring case and width', async () => {
      const { store } = await backend.fresh({ passwordParams: FAST_PASSWORDS, memory: true });
      const u = await store.createUser({ name: 'Zhang', password: 'correct horse', role: 'admin' });
      expect((await store.verifyUserPassword('Zhang', 'correct horse'))?.id).toBe(u.id);
      expect((await store.verifyUserPassword('zhang', 'correct horse'))?.id).toBe(u.id);
      expect((await store.verifyUserPassword('ＺＨＡＮＧ', 'correct horse'))?.id).toBe(u.id);
      expect(await store.verifyUserPassword('Zhang', 'Correct horse')).toBeNull();
      expect(await store.verifyUserPassword('Zhang', '')).toBeNull();
      expect(await store.verifyUserPassword('nobody', 'correct horse')).toBeNull();
      expect(await store.verifyUserPassword('Zhang', 'x'.repeat(5000))).toBeNull();
      const disabled = await store.updateUser(u.id, 1, { disabled: true });
      expect(disabled).toMatchObject({ disabled: true, version: 2 });
      expect(await store.verifyUserPassword('Zhang', 'correct horse')).toBeNull();
      await store.updateUser(u.id, 2, { disabled: false, password: 'battery staple' });
      expect(await store.verifyUserPassword('Zhang', 'correct horse')).toBeNull();
      expect((await store.verifyUserPassword('Zhang', 'battery staple'))?.version).toBe(3);
      await store.close();
    });

    test('duplicate names (ignoring case and full-width forms), bad input, stale versions', async () => {
      const { store } = await backend.fresh({ passwordParams: FAST_PASSWORDS, memory: true });
      const admin = await store.createUser({ name: 'admin', password: 'admin password', role: 'admin' });
      for (const name of ['admin', 'Admin', 'ADMIN', 'ａｄｍｉｎ']) {
        const e = await rejection(store.createUser({ name, password: 'another password', role: 'public' }));
        expect(e, name).toBeInstanceOf(DuplicateNameError);
        expect(e.message).toBe(`a user named "${name}" already exists`);
      }
      const bad: [() => Promise<unknown>, string][] = [
        [() => store.createUser({ name: 'x', password: 'short', role: 'public' }), 'password'],
        [() => store.createUser({ name: 'x', password: '1234567890', role: 'root' as 'admin' }), 'role'],
        [() => store.createUser({ name: ' padded', password: '1234567890', role: 'public' }), 'name'],
        [() => store.createUser({ name: '', password: '1234567890', role: 'public' }), 'name'],
        [() => store.updateUser(admin.id, 1, {}), 'patch'],
        [() => store.updateUser(admin.id, 1, { disabled: 'yes' as unknown as boolean }), 'disabled'],
      ];
      for (const [call, field] of bad) expect(((await rejection(call())) as StoreInputError).field).toBe(field);
      await store.updateUser(admin.id, 1, { role: 'planner' });
      const stale = await rejection(store.updateUser(admin.id, 1, { role: 'public' }));
      expect(stale).toBeInstanceOf(VersionConflictError);
      expect((await store.getUser('ADMIN')).role).toBe('planner');
      expect((await store.listUsers()).map((u) => u.name)).toEqual(['admin']);
      await store.close();
    });
  });

  describe('sessions', () => {
    test('token shown once, stored only as its SHA-256; expiry by the clock; logout', async () => {
      let clock = Date.UTC(2025, 5, 1, 8);
      const { store, raw: db } = await backend.fresh({ passwordParams: FAST_PASSWORDS, now: () => new Date(clock), sessionTtlSeconds: 3600 });
      const u = await store.createUser({ name: 'wang', password: 'wang password', role: 'planner' });
      const s = await store.createSession(u.id);
      expect(s.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(s.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(s.csrfToken).not.toBe(s.token);
      expect(s.expiresAt).toBe('2025-06-01T09:00:00.000Z');
      const rows = await raw<{ token_hash: string; user_id: number; csrf_token: string }>(db, 'SELECT token_hash, user_id, csrf_token FROM sessions');
      expect(rows).toEqual([{ token_hash: createHash('sha256').update(s.token).digest('hex'), user_id: u.id, csrf_token: s.csrfToken }]);

      expect(await store.getSession(s.token)).toEqual({ userId: u.id, userName: 'wang', role: 'planner', csrfToken: s.csrfToken, createdAt: '2025-06-01T08:00:00.000Z', expiresAt: s.expiresAt });
      expect(await store.getSession(s.token.slice(0, -1) + (s.token.endsWith('A') ? 'B' : 'A'))).toBeNull();
      expect(await store.getSession('')).toBeNull();
      expect(await store.getSession(`${s.token}' OR '1'='1`)).toBeNull();

      clock += 3599_000;
      expect(await store.getSession(s.token)).not.toBeNull();
      clock += 1000; // exactly at expiry: gone
      expect(await store.getSession(s.token)).toBeNull();
      const longer = await store.createSession(u.id, { ttlSeconds: 7200 });
      expect(await store.expireSessions()).toBe(1);
      expect(await raw(db, 'SELECT user_id FROM sessions')).toHaveLength(1);
      expect(await store.expireSessions()).toBe(0);
      expect(await store.deleteSession(longer.token)).toBe(true);
      expect(await store.deleteSession(longer.token)).toBe(false);
      expect(await store.getSession(longer.token)).toBeNull();
      expect(((await rejection(store.createSession(u.id, { ttlSeconds: 5 }))) as StoreInputError).field).toBe('ttlSeconds');
      await store.close();
    });

    test('disabling a user or changing the password ends the sessions; a disabled user cannot log in', async () => {
      const { store } = await backend.fresh({ passwordParams: FAST_PASSWORDS, memory: true });
      const u = await store.createUser({ name: 'chen', password: 'chen password', role: 'planner' });
      const other = await store.createUser({ name: 'zhao', password: 'zhao password', role: 'planner' });
      const s1 = await store.createSession(u.id);
      const s2 = await store.createSession(u.id);
      const keep = await store.createSession(other.id);
      await store.updateUser(u.id, 1, { password: 'new chen password' });
      expect(await store.getSession(s1.token)).toBeNull();
      expect(await store.getSession(s2.token)).toBeNull();
      expect(await store.getSession(keep.token)).not.toBeNull();
      const s3 = await store.createSession(u.id);
      await store.updateUser(u.id, 2, { disabled: true });
      expect(await store.getSession(s3.token)).toBeNull();
      expect(await rejection(store.createSession(u.id))).toBeInstanceOf(InvalidStateError);
      expect((await store.listAudit({ entity: 'user', entityId: u.id, action: 'user.update' }))[0].detail).toMatchObject({ fields: ['disabled'], disabled: true, sessionsEnded: 1 });
      await store.close();
    });
  });
});
