/**
 * Facility edit histories, plan runs and survey responses, against every backend. Survey summaries are compared with a
 * brute-force tally of the same random responses made here; the plan-run life cycle with
 * hand-listed legal and illegal transitions.
 */
import { describe, expect, test } from 'vitest';
import { InvalidStateError, StoreInputError, VersionConflictError, type PlanRunStatus, type QuarterStore } from '../../src/store/store.js';
import { forEachBackend, rejection, type Backend } from './backends.js';

const SHA = '0f'.repeat(32);

async function memoryStore(backend: Backend, now?: () => Date): Promise<QuarterStore> {
  const { store } = await backend.fresh({ now, memory: true });
  await store.upsertRegion({ name: 'krems', file: 'krems.quarter', sha256: SHA, meta: { nodes: 1234 } });
  return store;
}

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

forEachBackend((backend) => {
  describe('regions', () => {
    test('upsert replaces, list is sorted by name, meta round-trips', async () => {
      const store = await memoryStore(backend);
      await store.upsertRegion({ name: 'andorra', file: 'a.quarter', sha256: SHA, importedAt: '2025-03-01T12:00:00+08:00' });
      await store.upsertRegion({ name: 'krems', file: 'krems-2.quarter', sha256: 'e'.repeat(64), meta: { nodes: 99, note: '更新' } });
      const list = await store.listRegions();
      expect(list.map((r) => [r.name, r.file, r.meta])).toEqual([
        ['andorra', 'a.quarter', {}],
        ['krems', 'krems-2.quarter', { nodes: 99, note: '更新' }],
      ]);
      expect(list[0].importedAt).toBe('2025-03-01T04:00:00.000Z');
      expect(((await rejection(store.upsertRegion({ name: 'x', file: 'f', sha256: 'ABC' }))) as StoreInputError).field).toBe('sha256');
      expect(((await rejection(store.upsertRegion({ name: 'x', file: 'f', sha256: SHA, meta: [] as unknown as Record<string, unknown> }))) as StoreInputError).field).toBe('meta');
      await store.close();
    });
  });

  describe('facility edits', () => {
    test('a numbered history per facility; a stale append is a version conflict', async () => {
      const store = await memoryStore(backend);
      const e1 = await store.appendFacilityEdit({ region: 'krems', kind: 'edit', facilityRef: 'osm:w12', data: { name: 'Billa' }, actor: 'li' }, 0);
      expect(e1).toMatchObject({ kind: 'edit', facilityRef: 'osm:w12', version: 1, data: { name: 'Billa' }, actor: 'li' });
      const other = await store.appendFacilityEdit({ region: 'krems', kind: 'add', facilityRef: 'new:1', data: { format: 'pharmacy', lon: 15.6, lat: 48.4 } }, 0);
      expect(other.version).toBe(1); // versions count per facility
      // two planners both saw version 1
      await store.appendFacilityEdit({ region: 'krems', kind: 'edit', facilityRef: 'osm:w12', data: { name: 'Billa Plus' } }, 1);
      const lost = await rejection(store.appendFacilityEdit({ region: 'krems', kind: 'delete', facilityRef: 'osm:w12' }, 1));
      expect(lost).toBeInstanceOf(VersionConflictError);
      expect([(lost as VersionConflictError).expected, (lost as VersionConflictError).actual]).toEqual([1, 2]);
      // "add" of a ref that already has a history conflicts too (it expects version 0)
      expect(await rejection(store.appendFacilityEdit({ region: 'krems', kind: 'add', facilityRef: 'new:1' }, 0))).toBeInstanceOf(VersionConflictError);
      await store.appendFacilityEdit({ region: 'krems', kind: 'delete', facilityRef: 'osm:w12' }, 2);
      expect((await store.listFacilityEdits('krems', 'osm:w12')).map((e) => [e.kind, e.version])).toEqual([
        ['edit', 1],
        ['edit', 2],
        ['delete', 3],
      ]);
      expect((await store.listFacilityEdits('krems')).map((e) => e.facilityRef)).toEqual(['osm:w12', 'new:1', 'osm:w12', 'osm:w12']);
      expect(await store.listFacilityEdits('elsewhere')).toEqual([]);
      expect(((await rejection(store.appendFacilityEdit({ region: 'krems', kind: 'move' as 'add', facilityRef: 'x' }, 0))) as StoreInputError).field).toBe('kind');
      expect(((await rejection(store.appendFacilityEdit({ region: 'krems', kind: 'add', facilityRef: 'x' }, -1))) as StoreInputError).field).toBe('expectedVersion');
      await store.close();
    });
  });

  describe('plan runs', () => {
    test('queued → running with progress → done; finished runs are frozen', async () => {
      let clock = Date.UTC(2025, 0, 1, 9);
      const store = await memoryStore(backend, () => new Date(clock));
      const run = await store.createPlanRun({ region: 'krems', model: 'mclp', params: { p: 3, minutes: 15 }, actor: 'li' });
      expect(run).toMatchObject({ status: 'queued', progress: 0, version: 1, result: null, error: null, finishedAt: null, params: { p: 3, minutes: 15 }, actor: 'li' });
      clock += 1000;
      const r2 = await store.updatePlanRun(run.id, { status: ['queued'] }, { status: 'running' });
      const r3 = await store.updatePlanRun(run.id, { status: ['running'] }, { progress: 0.25 });
      expect([r2.status, r3.status, r3.progress, r3.version]).toEqual(['running', 'running', 0.25, 3]);
      // an interim result stays through later progress ticks
      await store.updatePlanRun(run.id, { version: 3 }, { result: { incumbent: [3, 14] } });
      const r5 = await store.updatePlanRun(run.id, { status: ['running'] }, { progress: 0.5 });
      expect([r5.result, r5.progress, r5.version]).toEqual([{ incumbent: [3, 14] }, 0.5, 5]);
      expect(((await rejection(store.updatePlanRun(run.id, { status: [] }, { progress: 0.6 }))) as StoreInputError).field).toBe('expect.status');
      clock += 5000;
      const done = await store.updatePlanRun(run.id, { version: 5 }, { status: 'done', result: { sites: [3, 14, 15], covered: 0.92 } });
      expect(done).toMatchObject({ status: 'done', progress: 1, version: 6, result: { sites: [3, 14, 15], covered: 0.92 }, finishedAt: '2025-01-01T09:00:06.000Z', updatedAt: '2025-01-01T09:00:06.000Z' });
      for (const to of ['running', 'failed', 'cancelled', 'done', 'queued'] as PlanRunStatus[]) {
        const e = await rejection(store.updatePlanRun(run.id, {}, { status: to }));
        expect(e, to).toBeInstanceOf(InvalidStateError);
        expect(e.message).toBe(`plan run ${run.id} is done: a finished run cannot change`);
      }
      expect(await rejection(store.updatePlanRun(run.id, {}, { progress: 0.5 }))).toBeInstanceOf(InvalidStateError);
      expect(await store.getPlanRun(run.id)).toEqual(done);
      await store.close();
    });

    test('a solver reporting progress learns the run was cancelled; stale versions conflict; illegal jumps refused', async () => {
      const store = await memoryStore(backend);
      const run = await store.createPlanRun({ region: 'krems', model: 'p-median', params: null });
      await store.updatePlanRun(run.id, { status: ['queued'] }, { status: 'running' });
      await store.updatePlanRun(run.id, { status: ['running', 'queued'] }, { status: 'cancelled' }, 'li');
      const e = await rejection(store.updatePlanRun(run.id, { status: ['running'] }, { progress: 0.7 }));
      expect(e).toBeInstanceOf(InvalidStateError);
      expect(e.message).toBe(`plan run ${run.id} is cancelled: expected running`);
      const cancelled = await store.getPlanRun(run.id);
      expect(cancelled).toMatchObject({ status: 'cancelled', progress: 0, version: 3 });

      const q = await store.createPlanRun({ region: 'krems', model: 'mclp', params: {} });
      // a run must be started before it can be done
      expect((await rejection(store.updatePlanRun(q.id, {}, { status: 'done' }))).message).toBe(`plan run ${q.id} is queued: cannot become done`);
      await store.updatePlanRun(q.id, { version: 1 }, { status: 'running' });
      expect(await rejection(store.updatePlanRun(q.id, { version: 1 }, { progress: 0.1 }))).toBeInstanceOf(VersionConflictError);
      const failed = await store.updatePlanRun(q.id, { version: 2 }, { status: 'failed', error: 'solver: infeasible (p < fixed sites)' });
      expect(failed).toMatchObject({ status: 'failed', error: 'solver: infeasible (p < fixed sites)' });
      expect(failed.finishedAt).not.toBeNull();

      const bad: [PlanRunStatus | undefined, number | undefined, string][] = [
        [undefined, 1.5, 'progress'],
        [undefined, -0.1, 'progress'],
        [undefined, NaN, 'progress'],
        ['paused' as PlanRunStatus, undefined, 'status'],
        [undefined, undefined, 'patch'],
      ];
      const fresh = await store.createPlanRun({ region: 'krems', model: 'mclp', params: {} });
      for (const [status, progress, field] of bad) {
        expect(((await rejection(store.updatePlanRun(fresh.id, {}, { status, progress }))) as StoreInputError).field).toBe(field);
      }
      expect((await store.listPlanRuns()).map((r) => r.id)).toEqual([fresh.id, q.id, run.id]);
      expect((await store.listPlanRuns({ status: 'failed' })).map((r) => r.id)).toEqual([q.id]);
      expect((await store.listPlanRuns({ region: 'krems', limit: 1 })).map((r) => r.id)).toEqual([fresh.id]);
      await store.close();
    });
  });

  describe('survey responses', () => {
    test('per-zone count, mean and share satisfied equal a brute-force tally', async () => {
      const store = await memoryStore(backend);
      const random = rng(20250101);
      const zones = ['江汉区', 'Altstadt', 'Mitterau', null, 'Altstadt ', '"; DROP'];
      const tally = new Map<string | null, number[]>();
      for (let i = 0; i < 600; i++) {
        const zone = zones[Math.floor(random() * zones.length)];
        // skewed ratings so that zones differ
        const overall = 1 + Math.min(4, Math.floor(random() * 5 * (zone === 'Mitterau' ? 0.6 : 1)));
        await store.addSurveyResponse({ region: 'krems', zone, overall, perFormat: { pharmacy: overall }, clientHash: `client${String(i % 37).padStart(12, '0')}` });
        tally.set(zone, [...(tally.get(zone) ?? []), overall]);
      }
      const expected = [...tally.entries()]
        .map(([zone, xs]) => ({ zone, count: xs.length, meanOverall: xs.reduce((a, b) => a + b, 0) / xs.length, shareSatisfied: xs.filter((x) => x >= 4).length / xs.length }))
        .sort((a, b) => (a.zone === null ? 1 : b.zone === null ? -1 : a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0));
      const got = await store.summarizeSurvey('krems');
      expect(got.map((z) => [z.zone, z.count])).toEqual(expected.map((z) => [z.zone, z.count]));
      for (let i = 0; i < got.length; i++) {
        expect(got[i].meanOverall).toBeCloseTo(expected[i].meanOverall, 12);
        expect(got[i].shareSatisfied).toBeCloseTo(expected[i].shareSatisfied, 12);
      }
      expect(got[got.length - 1].zone).toBeNull();
      expect(await store.summarizeSurvey('elsewhere')).toEqual([]);
      await store.close();
    });

    test('hand-computed zone: ratings 5, 4, 3, 1 → mean 3.25, half satisfied', async () => {
      const store = await memoryStore(backend);
      for (const overall of [5, 4, 3, 1]) await store.addSurveyResponse({ region: 'krems', zone: 'Z', overall, clientHash: 'a'.repeat(20) });
      expect(await store.summarizeSurvey('krems')).toEqual([{ zone: 'Z', count: 4, meanOverall: 3.25, shareSatisfied: 0.5 }]);
      await store.close();
    });

    test('coordinates are rounded to 0.001°, no client hash is handed out, rate-limit counts by client and time', async () => {
      let clock = Date.UTC(2025, 4, 1, 10);
      const store = await memoryStore(backend, () => new Date(clock));
      const r = await store.addSurveyResponse({ region: 'krems', zone: 'Z', lon: 15.60061, lat: 48.40949, overall: 4, perFormat: { supermarket: 5, pharmacy: 2 }, comment: '菜市场太远', clientHash: 'k'.repeat(64) });
      expect([r.lon, r.lat]).toEqual([15.601, 48.409]);
      expect(r.perFormat).toEqual({ supermarket: 5, pharmacy: 2 });
      expect(Object.keys(r)).not.toContain('clientHash');
      const west = await store.addSurveyResponse({ region: 'krems', lon: -0.0004, lat: -33.86789, overall: 2, clientHash: 'k'.repeat(64) });
      expect([Object.is(west.lon, 0), west.lat]).toEqual([true, -33.868]);
      clock += 3600_000;
      await store.addSurveyResponse({ region: 'krems', overall: 3, clientHash: 'k'.repeat(64) });
      await store.addSurveyResponse({ region: 'krems', overall: 3, clientHash: 'm'.repeat(64) });
      expect(await store.countSurveyResponsesByClient('k'.repeat(64), '2025-05-01T10:00:00Z')).toBe(3);
      expect(await store.countSurveyResponsesByClient('k'.repeat(64), '2025-05-01T10:30:00Z')).toBe(1);
      expect((await store.listSurveyResponses('krems', { zone: null })).length).toBe(3);
      expect((await store.listSurveyResponses('krems', { limit: 2 })).map((x) => x.id)).toEqual([r.id, west.id]);
      expect((await store.listSurveyResponses('krems', { afterId: west.id })).length).toBe(2);
      await store.close();
    });

    test('bad responses are refused naming the field; raw addresses are not accepted as client hashes', async () => {
      const store = await memoryStore(backend);
      const base = { region: 'krems', overall: 3, clientHash: 'h'.repeat(32) };
      const cases: [Record<string, unknown>, string][] = [
        [{ overall: 0 }, 'overall'],
        [{ overall: 6 }, 'overall'],
        [{ overall: 3.5 }, 'overall'],
        [{ overall: '5' }, 'overall'],
        [{ perFormat: { pharmacy: 9 } }, 'perFormat.pharmacy'],
        [{ perFormat: [] }, 'perFormat'],
        [{ lon: 15.6 }, 'lat'],
        [{ lon: 200, lat: 10 }, 'lon'],
        [{ lon: 10, lat: 91 }, 'lat'],
        [{ comment: 'x'.repeat(5001) }, 'comment'],
        [{ clientHash: '192.168.100.200' }, 'clientHash'],
        [{ clientHash: '2001:db8:85a3::8a2e:370:7334' }, 'clientHash'],
        [{ clientHash: 'short' }, 'clientHash'],
        [{ zone: '' }, 'zone'],
      ];
      for (const [patch, field] of cases) {
        const e = await rejection(store.addSurveyResponse({ ...base, ...patch } as never));
        expect(e, JSON.stringify(patch)).toBeInstanceOf(StoreInputError);
        expect((e as StoreInputError).field).toBe(field);
      }
      expect(await store.listSurveyResponses('krems')).toEqual([]);
      await store.close();
    });
  });
});
