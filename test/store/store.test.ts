/**
 * Scenarios and the guarantees every write gives: version checks (one connection and two
 * connections on one file), duplicate names, 404s, an audit row per write in the same transaction
 * (a trigger injects a failure into the audit insert: nothing of the write may remain), hostile
 * strings kept exactly, JSON size limits counted in UTF-8 bytes. Database contents are read back
 * through a separate raw better-sqlite3 connection where the store's own reads would prove nothing.
 */
/**
 * Scenarios and the guarantees every write gives, against every backend (SQLite and PostgreSQL):
 * version checks (one store and two store instances on one database), duplicate names, 404s, an
 * audit row per write in the same transaction (a trigger injects a failure into the audit insert:
 * nothing of the write may remain), hostile strings kept exactly, JSON size limits counted in UTF-8
 * bytes. Database contents are read back through a separate raw connection where the store's own
 * reads would prove nothing.
 */
import { describe, expect, test } from 'vitest';
import { DuplicateNameError, NotFoundError, StoreInputError, VersionConflictError } from '../../src/store/store.js';
import { forEachBackend, rejection, type FreshStore } from './backends.js';

const FAST_PASSWORDS = { logN: 10, r: 8, p: 1, keyLength: 32, saltLength: 16 };
const SHA = 'ab'.repeat(32);

forEachBackend((backend) => {
  async function fileStore(): Promise<FreshStore> {
    const fresh = await backend.fresh({ passwordParams: FAST_PASSWORDS });
    await fresh.store.upsertRegion({ name: 'krems', file: 'krems.quarter', sha256: SHA });
    await fresh.store.upsertRegion({ name: 'xuhui', file: 'xuhui.quarter', sha256: SHA });
    return fresh;
  }

  describe('scenarios', () => {
    test('create, read by id and by name, list, update, delete', async () => {
      const { store } = await fileStore();
      const a = await store.createScenario({ region: 'krems', name: 'Plan A', description: 'two new shops', edits: [{ op: 'add', format: 'supermarket' }], actor: 'li' });
      expect(a).toMatchObject({ region: 'krems', name: 'Plan A', description: 'two new shops', edits: [{ op: 'add', format: 'supermarket' }], version: 1, createdBy: 'li' });
      expect(a.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(await store.getScenario(a.id)).toEqual(a);
      expect(await store.getScenario({ region: 'krems', name: 'Plan A' })).toEqual(a);
      const b = await store.createScenario({ region: 'xuhui', name: 'Plan A', edits: [] }); // same name, other region
      expect(b.createdBy).toBeNull();
      expect((await store.listScenarios()).map((s) => s.id)).toEqual([a.id, b.id]);
      expect((await store.listScenarios('xuhui')).map((s) => s.id)).toEqual([b.id]);
      expect(await store.listScenarios('nowhere')).toEqual([]);

      const a2 = await store.updateScenario(a.id, 1, { description: 'three new shops' }, 'wang');
      expect(a2).toMatchObject({ version: 2, name: 'Plan A', description: 'three new shops', edits: a.edits, createdBy: 'li' });
      const a3 = await store.updateScenario(a.id, 2, { name: 'Plan A′', edits: [] });
      expect(a3).toMatchObject({ version: 3, name: 'Plan A′', edits: [] });
      await store.deleteScenario(a.id, 3);
      await expect(store.getScenario(a.id)).rejects.toThrow(NotFoundError);
      // a new scenario never gets the deleted id back
      const c = await store.createScenario({ region: 'krems', name: 'Plan C', edits: [] });
      expect(c.id).toBeGreaterThan(b.id);
      await store.close();
    });

    test('duplicate names: create and rename', async () => {
      const { store } = await fileStore();
      await store.createScenario({ region: 'krems', name: 'Dup', edits: [] });
      const other = await store.createScenario({ region: 'krems', name: 'Other', edits: [] });
      const e1 = await rejection(store.createScenario({ region: 'krems', name: 'Dup', edits: [1] }));
      expect(e1).toBeInstanceOf(DuplicateNameError);
      expect(e1.message).toBe('a scenario named "Dup" already exists');
      // names are compared exactly: case and spacing make a different name
      await store.createScenario({ region: 'krems', name: 'dup', edits: [] });
      await store.createScenario({ region: 'krems', name: 'Dup ', edits: [] });
      expect(await rejection(store.updateScenario(other.id, 1, { name: 'Dup' }))).toBeInstanceOf(DuplicateNameError);
      expect((await store.getScenario(other.id)).version).toBe(1); // the failed rename changed nothing
      await store.close();
    });

    test('missing records are NotFoundError (404), including the region of a new scenario', async () => {
      const { store } = await fileStore();
      const s = await store.createScenario({ region: 'krems', name: 'x', edits: [] });
      const cases: [Promise<unknown>, string][] = [
        [store.getScenario(99999), 'no scenario 99999'],
        [store.getScenario({ region: 'krems', name: 'nope' }), 'no scenario "krems/nope"'],
        [store.updateScenario(99999, 1, { description: 'd' }), 'no scenario 99999'],
        [store.deleteScenario(99999, 1), 'no scenario 99999'],
        [store.createScenario({ region: 'atlantis', name: 'x', edits: [] }), 'no region "atlantis"'],
        [store.getRegion('atlantis'), 'no region "atlantis"'],
        [store.getPlanRun(4242), 'no plan run 4242'],
        [store.updatePlanRun(4242, {}, { progress: 0.5 }), 'no plan run 4242'],
        [store.getUser(77), 'no user 77'],
        [store.getUser('ghost'), 'no user "ghost"'],
        [store.updateUser(77, 1, { role: 'admin' }), 'no user 77'],
        [store.createSession(77), 'no user 77'],
        [store.appendFacilityEdit({ region: 'atlantis', kind: 'add', facilityRef: 'n1' }, 0), 'no region "atlantis"'],
        [store.createPlanRun({ region: 'atlantis', model: 'mclp', params: {} }), 'no region "atlantis"'],
        [store.addSurveyResponse({ region: 'atlantis', overall: 3, clientHash: 'h'.repeat(32) }), 'no region "atlantis"'],
      ];
      // handlers attached at once: with a server database the calls are in flight together
      const outcomes = cases.map(([p, message]) => [rejection(p), message] as const);
      for (const [outcome, message] of outcomes) {
        const e = await outcome;
        expect(e, message).toBeInstanceOf(NotFoundError);
        expect(e.message).toBe(message);
      }
      await store.deleteScenario(s.id, 1);
      expect(await rejection(store.deleteScenario(s.id, 1))).toBeInstanceOf(NotFoundError);
      await store.close();
    });

    test('bad input is a StoreInputError naming the field', async () => {
      const { store } = await fileStore();
      const s = await store.createScenario({ region: 'krems', name: 'ok', edits: [] });
      const cases: [() => Promise<unknown>, string][] = [
        [() => store.createScenario({ region: 'krems', name: '', edits: [] }), 'name'],
        [() => store.createScenario({ region: 'krems', name: '   ', edits: [] }), 'name'],
        [() => store.createScenario({ region: 'krems', name: 'a\nb', edits: [] }), 'name'],
        [() => store.createScenario({ region: 'krems', name: 'x'.repeat(201), edits: [] }), 'name'],
        [() => store.createScenario({ region: 'krems', name: 'x', edits: { not: 'an array' } as unknown as unknown[] }), 'edits'],
        [() => store.createScenario({ region: 'krems', name: 'x', edits: [new Date(0)] }), 'edits[0]'],
        [() => store.createScenario({ region: 'krems', name: 'x', edits: [{ a: { b: NaN } }] }), 'edits[0].a.b'],
        [() => store.createScenario({ region: 'krems', name: 'x', edits: [{ a: undefined }] }), 'edits[0].a'],
        [() => store.createScenario({ region: 'krems', name: 'x', edits: [1, , 3] }), 'edits[1]'], // eslint-disable-line no-sparse-arrays
        [() => store.createScenario({ region: 'krems', name: 'x', description: 42 as unknown as string, edits: [] }), 'description'],
        [() => store.updateScenario(s.id, 0, { name: 'y' }), 'expectedVersion'],
        [() => store.updateScenario(s.id, 1, {}), 'patch'],
        [() => store.updateScenario(1.5, 1, { name: 'y' }), 'id'],
      ];
      for (const [call, field] of cases) {
        const e = await rejection(call());
        expect(e, field).toBeInstanceOf(StoreInputError);
        expect((e as StoreInputError).field).toBe(field);
        expect(e.message.startsWith(`${field}: `)).toBe(true);
      }
      const deep: unknown[] = [];
      let cur = deep;
      for (let i = 0; i < 500; i++) cur.push((cur = []));
      expect(await rejection(store.createScenario({ region: 'krems', name: 'deep', edits: deep }))).toBeInstanceOf(StoreInputError);
      await store.close();
    });
  });

  describe('version checks: no lost update', () => {
    test('one connection: two editors read version 1, exactly one update wins', async () => {
      const { store } = await fileStore();
      const s = await store.createScenario({ region: 'krems', name: 'shared', edits: [{ by: 'nobody' }] });
      const readByA = await store.getScenario(s.id);
      const readByB = await store.getScenario(s.id);
      const settled = await Promise.allSettled([
        store.updateScenario(readByA.id, readByA.version, { edits: [...readByA.edits, { by: 'A' }] }, 'a'),
        store.updateScenario(readByB.id, readByB.version, { edits: [...readByB.edits, { by: 'B' }] }, 'b'),
      ]);
      // exactly one wins (SQLite serialises them in call order; PostgreSQL runs them on two connections)
      expect(settled.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const [winner, loser] = settled[0].status === 'fulfilled' ? ['A', 'B'] : ['B', 'A'];
      const err = (settled.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as VersionConflictError;
      expect(err).toBeInstanceOf(VersionConflictError);
      expect([err.entity, err.id, err.expected, err.actual]).toEqual(['scenario', s.id, 1, 2]);
      // the loser reloads and applies again: both edits are kept
      const fresh = await store.getScenario(s.id);
      expect(fresh.edits).toEqual([{ by: 'nobody' }, { by: winner }]);
      const merged = await store.updateScenario(fresh.id, fresh.version, { edits: [...fresh.edits, { by: loser }] }, loser.toLowerCase());
      expect(merged).toMatchObject({ version: 3, edits: [{ by: 'nobody' }, { by: winner }, { by: loser }] });
      // a stale delete is refused too
      expect(await rejection(store.deleteScenario(s.id, 2))).toBeInstanceOf(VersionConflictError);
      expect((await store.getScenario(s.id)).version).toBe(3);
      await store.close();
    });

    test('two store instances on one database: same outcome, read back through a third connection', async () => {
      const { raw, store: first, reopen } = await fileStore();
      const second = await reopen();
      const s = await first.createScenario({ region: 'krems', name: 'two desks', edits: [0] });
      const a = await first.getScenario(s.id);
      const b = await second.getScenario(s.id);
      expect(b).toEqual(a);
      const wonA = await first.updateScenario(a.id, a.version, { edits: [0, 'A'] });
      const lostB = await rejection(second.updateScenario(b.id, b.version, { edits: [0, 'B'] }));
      expect(wonA.version).toBe(2);
      expect(lostB).toBeInstanceOf(VersionConflictError);
      expect(lostB.message).toMatch(/version 2, you edited version 1/);
      const again = await second.getScenario(s.id);
      await second.updateScenario(again.id, again.version, { edits: [...again.edits, 'B'] });
      const rows = await raw.rows('SELECT version, edits FROM scenarios WHERE id = ?', s.id);
      expect(rows).toEqual([{ version: 3, edits: '[0,"A","B"]' }]);
      const audits = await raw.rows(`SELECT action FROM audit_log WHERE entity = 'scenario' AND entity_id = ? ORDER BY id`, String(s.id));
      expect(audits.map((r) => r.action)).toEqual(['scenario.create', 'scenario.update', 'scenario.update']);
      await first.close();
      await second.close();
    });
  });

  describe('audit: one row per write, in the same transaction', () => {
    test('each write adds exactly one audit row describing it', async () => {
      const { raw, store } = await fileStore();
      const count = async (): Promise<number> => Number((await raw.rows('SELECT COUNT(*) AS n FROM audit_log'))[0].n);
      const last = async () => (await raw.rows('SELECT actor, action, entity, entity_id FROM audit_log ORDER BY id DESC LIMIT 1'))[0];
      let scenarioId = 0;
      let runId = 0;
      let userId = 0;
      let token = '';
      const writes: [string, string, string | null, () => Promise<unknown>, string | null][] = [
        ['region.create', 'region', 'wuhan', () => store.upsertRegion({ name: 'wuhan', file: 'w.quarter', sha256: SHA, actor: 'admin' }), 'admin'],
        ['region.update', 'region', 'wuhan', () => store.upsertRegion({ name: 'wuhan', file: 'w2.quarter', sha256: SHA }), null],
        ['scenario.create', 'scenario', '?', async () => (scenarioId = (await store.createScenario({ region: 'wuhan', name: 's', edits: [], actor: 'li' })).id), 'li'],
        ['scenario.update', 'scenario', '?', () => store.updateScenario(scenarioId, 1, { description: 'd' }, 'li'), 'li'],
        ['scenario.delete', 'scenario', '?', () => store.deleteScenario(scenarioId, 2, 'li'), 'li'],
        ['facility.add', 'facility', 'new-1', () => store.appendFacilityEdit({ region: 'wuhan', kind: 'add', facilityRef: 'new-1', data: { format: 'pharmacy' }, actor: 'li' }, 0), 'li'],
        ['facility.delete', 'facility', 'new-1', () => store.appendFacilityEdit({ region: 'wuhan', kind: 'delete', facilityRef: 'new-1', actor: 'li' }, 1), 'li'],
        ['plan_run.create', 'plan_run', '?', async () => (runId = (await store.createPlanRun({ region: 'wuhan', model: 'mclp', params: { p: 3 }, actor: 'li' })).id), 'li'],
        ['plan_run.running', 'plan_run', '?', () => store.updatePlanRun(runId, { status: ['queued'] }, { status: 'running' }), null],
        ['plan_run.progress', 'plan_run', '?', () => store.updatePlanRun(runId, { status: ['running'] }, { progress: 0.5 }), null],
        ['plan_run.done', 'plan_run', '?', () => store.updatePlanRun(runId, { status: ['running'] }, { status: 'done', result: { sites: [1, 2, 3] } }), null],
        ['survey.add', 'survey_response', '?', () => store.addSurveyResponse({ region: 'wuhan', overall: 4, clientHash: 'c'.repeat(32) }), null],
        ['user.create', 'user', '?', async () => (userId = (await store.createUser({ name: 'zhang', password: 'long enough pw', role: 'planner', actor: 'admin' })).id), 'admin'],
        ['user.update', 'user', '?', () => store.updateUser(userId, 1, { role: 'admin' }, 'admin'), 'admin'],
        ['session.create', 'user', '?', async () => (token = (await store.createSession(userId)).token), 'zhang'],
        ['session.delete', 'user', '?', () => store.deleteSession(token), 'zhang'],
        ['login.failed', 'user', 'mallory', () => store.appendAudit({ action: 'login.failed', entity: 'user', entityId: 'mallory', detail: { ip: 'hashed' } }), null],
      ];
      const ids = (): Record<string, number> => ({ scenario: scenarioId, plan_run: runId, user: userId });
      for (const [action, entity, entityId, write, actor] of writes) {
        const before = await count();
        await write();
        expect(await count(), action).toBe(before + 1);
        const expectedId = entityId === '?' ? String(ids()[entity] ?? (await raw.rows('SELECT MAX(id) AS m FROM survey_responses'))[0].m) : entityId;
        expect(await last(), action).toEqual({ actor, action, entity, entity_id: expectedId });
      }
      // reads and refused writes add nothing
      const before = await count();
      await store.listScenarios();
      await store.getSession(token);
      await store.listAudit();
      await rejection(store.createScenario({ region: 'wuhan', name: 'x'.repeat(300), edits: [] }));
      await rejection(store.updateScenario(scenarioId, 1, { name: 'gone' }));
      expect(await store.deleteSession(token)).toBe(false);
      expect(await count()).toBe(before);
      await store.close();
    });

    test('a failure injected into the audit insert leaves no trace of the write', async () => {
      const { raw, store } = await fileStore();
      const s = await store.createScenario({ region: 'krems', name: 'base', edits: [1] });
      const user = await store.createUser({ name: 'chen', password: 'chen password', role: 'planner' });
      const { token } = await store.createSession(user.id);
      const run = await store.createPlanRun({ region: 'krems', model: 'mclp', params: {} });
      await store.appendFacilityEdit({ region: 'krems', kind: 'edit', facilityRef: 'osm:n42', data: { name: 'a' } }, 0);
      await raw.injectAuditFailure();
      const before = await raw.snapshot();
      const writes: [string, () => Promise<unknown>][] = [
        ['createScenario', () => store.createScenario({ region: 'krems', name: 'never', edits: [2] })],
        ['updateScenario', () => store.updateScenario(s.id, 1, { name: 'renamed', edits: [3] })],
        ['deleteScenario', () => store.deleteScenario(s.id, 1)],
        ['upsertRegion new', () => store.upsertRegion({ name: 'new', file: 'n', sha256: SHA })],
        ['upsertRegion existing', () => store.upsertRegion({ name: 'krems', file: 'changed', sha256: SHA })],
        ['appendFacilityEdit', () => store.appendFacilityEdit({ region: 'krems', kind: 'delete', facilityRef: 'osm:n42' }, 1)],
        ['createPlanRun', () => store.createPlanRun({ region: 'krems', model: 'x', params: {} })],
        ['updatePlanRun', () => store.updatePlanRun(run.id, {}, { status: 'running', progress: 0.1 })],
        ['addSurveyResponse', () => store.addSurveyResponse({ region: 'krems', overall: 5, clientHash: 'd'.repeat(32) })],
        ['createUser', () => store.createUser({ name: 'never', password: 'never password', role: 'public' })],
        // disabling updates the user AND deletes its sessions before the audit insert fails
        ['updateUser', () => store.updateUser(user.id, 1, { disabled: true })],
        ['createSession', () => store.createSession(user.id)],
        ['deleteSession', () => store.deleteSession(token)],
        ['appendAudit', () => store.appendAudit({ action: 'x.y', entity: 'x' })],
      ];
      for (const [name, write] of writes) {
        const e = await rejection(write());
        expect(e.message, name).toMatch(/injected failure/);
        expect(await raw.snapshot(), name).toEqual(before);
      }
      await raw.removeAuditFailure();
      // the store works on after the failures
      expect((await store.updateScenario(s.id, 1, { name: 'renamed' })).version).toBe(2);
      expect(await store.getSession(token)).not.toBeNull();
      await store.close();
    });

    test('listAudit filters and pages, newest first', async () => {
      let clock = Date.UTC(2025, 0, 1);
      const { store } = await backend.fresh({ now: () => new Date(clock), memory: true });
      const minute = (m: number): number => (clock = Date.UTC(2025, 0, 1, 0, m));
      minute(1);
      await store.upsertRegion({ name: 'r', file: 'f', sha256: SHA, actor: 'admin' });
      minute(2);
      const a = await store.createScenario({ region: 'r', name: 'a', edits: [], actor: 'li' });
      minute(3);
      const b = await store.createScenario({ region: 'r', name: 'b', edits: [], actor: 'wang' });
      minute(4);
      await store.updateScenario(a.id, 1, { description: '1' }, 'wang');
      minute(5);
      await store.updateScenario(a.id, 2, { description: '2' }, 'li');
      const all = await store.listAudit();
      expect(all.map((e) => e.action)).toEqual(['scenario.update', 'scenario.update', 'scenario.create', 'scenario.create', 'region.create']);
      expect(all.map((e) => e.at)).toEqual(['00:05', '00:04', '00:03', '00:02', '00:01'].map((t) => `2025-01-01T${t}:00.000Z`));
      expect((await store.listAudit({ actor: 'wang' })).map((e) => [e.action, e.entityId])).toEqual([
        ['scenario.update', String(a.id)],
        ['scenario.create', String(b.id)],
      ]);
      expect((await store.listAudit({ entity: 'scenario', entityId: a.id })).length).toBe(3);
      expect((await store.listAudit({ action: 'region.create' }))[0].detail).toEqual({ file: 'f', sha256: SHA });
      expect((await store.listAudit({ since: '2025-01-01T00:02:00Z', until: '2025-01-01T00:04:00+00:00' })).map((e) => e.at.slice(11, 16))).toEqual(['00:04', '00:03', '00:02']);
      const page1 = await store.listAudit({ limit: 2 });
      const page2 = await store.listAudit({ limit: 2, beforeId: page1[1].id });
      expect([...page1, ...page2].map((e) => e.id)).toEqual(all.slice(0, 4).map((e) => e.id));
      expect(await rejection(store.listAudit({ since: 'yesterday' }))).toBeInstanceOf(StoreInputError);
      expect(await rejection(store.listAudit({ limit: 5000 }))).toBeInstanceOf(StoreInputError);
      await store.close();
    });
  });

  describe('hostile strings and JSON limits', () => {
    const HOSTILE = [
      `'`,
      `"`,
      `''; DROP TABLE scenarios; --`,
      `Robert'); DELETE FROM audit_log WHERE ('1' = '1`,
      `" OR 1=1 --`,
      `%_\\%`,
      `\\x00 \\u0000`,
      `🏪👩‍👩‍👧‍👦🇨🇳`,
      `一刻钟便民生活圈・菜市场`,
      `مرحبا עברית`,
      `e\u0301 Å ﬁ ｆｕｌｌ`,
      `<script>alert(1)</script>`,
      `$1 ?1 :name @p`,
    ];
    // 10 000 code points cut from the list repeated (cut by code point so no surrogate pair is split)
    const LONG = Array.from(HOSTILE.join(' ').repeat(100)).slice(0, 10_000).join('');

    test('names, descriptions, refs, zones, comments and JSON keep every hostile string exactly', async () => {
      const { raw, store } = await fileStore();
      const texts = [...HOSTILE, LONG, 'line one\nline two\r\n\ttab', '   leading and trailing   '];
      for (const [i, t] of texts.entries()) {
        const asName = t.length <= 200 && !/[\u0000-\u001F]/.test(t);
        const name = asName ? t : `long-${i}`;
        const created = await store.createScenario({ region: 'krems', name, description: t, edits: [{ text: t, [t]: t }], actor: asName ? t : null });
        const got = await store.getScenario(asName ? { region: 'krems', name: t } : created.id);
        expect(got.name === name && got.description === t, `text ${i}`).toBe(true);
        expect(got.edits).toEqual([{ text: t, [t]: t }]);
        expect(got.createdBy).toBe(asName ? t : null);
        const edit = await store.appendFacilityEdit({ region: 'krems', kind: 'edit', facilityRef: name, data: { comment: t } }, 0);
        expect((await store.listFacilityEdits('krems', name))[0]).toEqual(edit);
        expect(edit.data).toEqual({ comment: t });
        const resp = await store.addSurveyResponse({ region: 'krems', zone: name, overall: 3, comment: t.slice(0, 5000), clientHash: 'e'.repeat(40) });
        expect((await store.listSurveyResponses('krems', { zone: name })).map((r) => r.comment)).toEqual([t.slice(0, 5000)]);
        expect(resp.zone).toBe(name);
      }
      // the SQL fragments did nothing
      expect(Object.keys(await raw.snapshot())).toContain('scenarios');
      expect(Number((await raw.rows('SELECT COUNT(*) AS n FROM scenarios'))[0].n)).toBe(texts.length);
      // bytes in the database are the UTF-8 of the strings, not a re-encoding
      const stored = (await raw.rows(`SELECT ${raw.utf8Bytes('description')} AS b FROM scenarios WHERE name = ?`, HOSTILE[7]))[0].b as Buffer;
      expect(stored.equals(Buffer.from(HOSTILE[7], 'utf8'))).toBe(true);
      await store.close();
    });

    test('NUL and lone surrogates: kept exactly inside JSON, refused (naming the field) in text columns', async () => {
      const { store } = await fileStore();
      const nul = 'before\u0000after';
      const lone = 'half \uD83C surrogate';
      const s = await store.createScenario({ region: 'krems', name: 'nul', edits: [nul, { [nul]: lone }] });
      const got = await store.getScenario(s.id);
      expect(got.edits[0]).toBe(nul);
      expect(got.edits[1]).toEqual({ [nul]: lone });
      for (const [bad, what] of [
        [nul, /NUL character/],
        [lone, /lone surrogate/],
      ] as const) {
        const e1 = await rejection(store.createScenario({ region: 'krems', name: 'x', description: bad, edits: [] }));
        expect((e1 as StoreInputError).field).toBe('description');
        expect(e1.message).toMatch(what);
        const e2 = await rejection(store.createScenario({ region: 'krems', name: bad, edits: [] }));
        expect((e2 as StoreInputError).field).toBe('name');
        const e3 = await rejection(store.addSurveyResponse({ region: 'krems', overall: 3, comment: bad, clientHash: 'f'.repeat(32) }));
        expect((e3 as StoreInputError).field).toBe('comment');
      }
      await store.close();
    });

    test('1 MiB limit on JSON, counted in UTF-8 bytes of the JSON text', async () => {
      const { store } = await fileStore();
      const MiB = 1048576;
      // ["xxx…"] is the string plus 4 bytes
      const atLimit = await store.createScenario({ region: 'krems', name: 'at limit', edits: ['x'.repeat(MiB - 4)] });
      expect((await store.getScenario(atLimit.id)).edits[0]).toHaveLength(MiB - 4);
      const over = await rejection(store.createScenario({ region: 'krems', name: 'over', edits: ['x'.repeat(MiB - 3)] }));
      expect(over).toBeInstanceOf(StoreInputError);
      expect(over.message).toBe(`edits: is 1.00 MiB as JSON (${MiB + 1} bytes), the limit is 1.00 MiB (${MiB} bytes)`);
      // 349 526 CJK characters: under a million characters, but 3 bytes each in UTF-8
      const cjk = '一'.repeat(349_526);
      expect(cjk.length).toBeLessThan(MiB);
      expect((await rejection(store.createScenario({ region: 'krems', name: 'cjk', edits: [cjk] }))).message).toMatch(/^edits: is 1\.00 MiB as JSON \(1048582 bytes\)/);
      // escapes count as written: a NUL is 6 bytes of JSON
      expect(await rejection(store.createScenario({ region: 'krems', name: 'nuls', edits: ['\u0000'.repeat(174_763)] }))).toBeInstanceOf(StoreInputError);
      // the limit holds for updates and the other JSON columns too
      expect((await rejection(store.updateScenario(atLimit.id, 1, { edits: ['x'.repeat(MiB)] }))).message).toMatch(/^edits: /);
      expect((await rejection(store.appendFacilityEdit({ region: 'krems', kind: 'add', facilityRef: 'big', data: 'x'.repeat(MiB) }, 0))).message).toMatch(/^data: /);
      expect((await rejection(store.createPlanRun({ region: 'krems', model: 'm', params: { a: 'x'.repeat(MiB) } }))).message).toMatch(/^params: /);
      expect((await store.listScenarios()).map((s) => s.name)).toEqual(['at limit']);
      await store.close();
    });

    test('a closed store says so', async () => {
      const { store, location } = await backend.fresh({ memory: true });
      await store.close();
      await store.close(); // twice is fine
      await expect(store.listScenarios()).rejects.toThrow(`the store ${location} is closed`);
      await expect(store.createScenario({ region: 'r', name: 'n', edits: [] })).rejects.toThrow(`the store ${location} is closed`);
    });
  });
});
