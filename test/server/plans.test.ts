/**
 * Plan runs, zoning, exports and scenario evaluation over HTTP, on Krems with a store on each
 * backend and the plan worker compiled by the test run's global setup (test/cli/global-setup.ts).
 * References: runPlan called directly in the test on the same region and request (the worker's
 * sites must be the same); the audit log for the progress the run wrote; exports opened with
 * exceljs and read as text; a scenario's evaluation against a recount from the per-residence
 * minutes of two assessment downloads (before, and after adding the same facility for real).
 */
import ExcelJS from 'exceljs';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { networkCandidates } from '../../src/plan/candidates.js';
import { runPlan } from '../../src/plan/run-plan.js';
import { importRegion } from '../../src/region/import-region.js';
import type { Region } from '../../src/region/region.js';
import { buildServer } from '../../src/server/app.js';
import type { QuarterStore } from '../../src/store/store.js';
import { expectError, forEachStoreBackend, login, USERS, type Session } from './session-helpers.js';

const WORKER = join(dirname(inject('quarterCli')), '..', 'plan', 'plan-worker.js');
const FORMATS = (JSON.parse(readFileSync('data/taxonomy/formats.json', 'utf8')) as { formats: Array<{ id: string; mofcomMinutes: number }> }).formats;

let region: Region;

// one import for both backends: the server derives its served region from the store's edits
beforeAll(async () => {
  expect(existsSync(WORKER), `${WORKER} (built by the global setup)`).toBe(true);
  region = await importRegion('data/krems/krems.osm.pbf');
}, 120_000);

/** Network nodes of the main component, spread over the list. */
function mainNodes(count: number): Array<[number, number]> {
  const g = region.graph;
  const out: Array<[number, number]> = [];
  const step = Math.floor(g.nodeCount / (count + 1));
  for (let u = step; out.length < count && u < g.nodeCount; u += step) if (g.nodeComponent[u] === 0) out.push([g.nodeCoords[2 * u], g.nodeCoords[2 * u + 1]]);
  return out;
}

forEachStoreBackend((backend) => {
  let store: QuarterStore;
  let app: FastifyInstance;
  let planner: Session;

  beforeAll(async () => {
    ({ store } = await backend.storeWithUsers());
    app = await buildServer({ region, store, rateLimit: false, plans: { workerScript: WORKER, maxWorkers: 2 } });
    planner = await login(app, USERS.planner);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  interface RunBody {
    id: number;
    status: string;
    progress: number;
    error: string | null;
    result?: { sites: Array<{ name: string; lon: number; lat: number; rank: number; newlyCovered: unknown }>; layers: unknown[]; model: string };
  }

  async function waitFor(id: number, done: (r: RunBody) => boolean, timeoutMs = 90_000): Promise<RunBody> {
    const t0 = Date.now();
    for (;;) {
      const res = await planner.req('GET', `/api/plans/${id}`);
      expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      const r = res.json() as RunBody;
      if (done(r)) return r;
      if (Date.now() - t0 > timeoutMs) throw new Error(`plan run ${id} still ${r.status} (${r.progress}) after ${timeoutMs} ms`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
  const finished = (r: RunBody) => ['done', 'failed', 'cancelled'].includes(r.status);

  describe('bad plan requests: 400 naming the field, no run created', () => {
    test('each field', async () => {
      const runs = (await store.listPlanRuns()).length;
      const ok = { model: 'mclp', format: 'pharmacy', sites: 2, candidates: 'network', spacing: 150 };
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...ok, sites: undefined }, 'sites'],
        [{ ...ok, sites: 5000 }, 'sites'],
        [{ ...ok, sites: 400 }, 'sites'],
        [{ ...ok, sites: 1.5 }, 'sites'],
        [{ ...ok, model: 'kmeans' }, 'model'],
        [{ ...ok, format: 'nope' }, 'format'],
        [{ ...ok, format: undefined }, 'format'],
        [{ ...ok, formats: ['pharmacy'] }, 'format'],
        [{ ...ok, timeLimitSeconds: 500 }, 'timeLimitSeconds'],
        [{ ...ok, minutes: 0 }, 'minutes'],
        [{ ...ok, candidates: 'everywhere' }, 'candidates'],
        [{ ...ok, candidates: { points: [] } }, 'candidates'],
        [{ ...ok, candidates: { points: [{ lon: 121.47, lat: 31.23 }] } }, 'candidates'],
        [{ ...ok, candidates: { points: [{ lon: 'x', lat: 31.23 }] } }, 'candidates'],
        [{ ...ok, candidates: { points: [{ ...{ lon: mainNodes(1)[0][0], lat: mainNodes(1)[0][1] }, name: 'a\u0007b' }] } }, 'candidates'],
        [{ ...ok, spacing: 1 }, 'spacing'],
        [{ ...ok, profile: 'nope' }, 'profile'],
        [{ ...ok, profile: '../x' }, 'profile'],
        [{ ...ok, model: 'capacitated' }, 'capacity'],
        [{ ...ok, model: 'lscp', share: 1.5 }, 'share'],
        [{ ...ok, solver: 'magic' }, 'solver'],
      ];
      for (const [body, field] of cases) expectError(await planner.req('POST', '/api/plans', JSON.parse(JSON.stringify(body))), 400, field);
      expectError(await planner.req('POST', '/api/plans', { ...ok, candidates: { points: Array.from({ length: 40_000 }, () => ({ lon: 15.6, lat: 48.4, name: 'x'.repeat(20) })) } }), 413, 'body');
      expect((await store.listPlanRuns()).length).toBe(runs);
    });
  });

  describe('a plan run', () => {
    const body = { model: 'mclp', format: 'pharmacy', sites: 3, minutes: 5, candidates: 'network', spacing: 150, solver: 'heuristic' };
    let id = 0;

    test('202 at once, then queued → running → done with progress written on the way; the sites are runPlan’s', async () => {
      const res = await planner.req('POST', '/api/plans', body);
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json().status).toBe('queued');
      id = res.json().id;
      expect(res.headers.location).toBe(`/api/plans/${id}`);
      const done = await waitFor(id, finished);
      expect(done.status, done.error ?? '').toBe('done');
      expect(done.progress).toBe(1);

      // what the run wrote on its way, from the audit log (oldest first)
      const trail = (await store.listAudit({ entity: 'plan_run', entityId: id, limit: 1000 })).reverse();
      const details = trail.map((e) => ({ action: e.action, ...(e.detail as { to?: string; progress?: number }) }));
      expect(details[0].action).toBe('plan_run.create');
      expect(details[1]).toMatchObject({ action: 'plan_run.running', to: 'running', progress: 0 });
      const middle = details.filter((d) => d.action === 'plan_run.progress');
      expect(middle.length).toBeGreaterThanOrEqual(1);
      for (const d of middle) expect(d.progress! > 0 && d.progress! < 1).toBe(true);
      expect(middle.map((d) => d.progress)).toEqual([...middle.map((d) => d.progress)].sort((a, b) => a! - b!));
      expect(details[details.length - 1]).toMatchObject({ action: 'plan_run.done', to: 'done', progress: 1 });

      const direct = await runPlan(region, {
        model: 'mclp',
        formats: ['pharmacy'],
        sites: 3,
        minutes: 5,
        candidates: networkCandidates(region, { spacingMetres: 150 }),
        solver: 'heuristic',
      });
      const pick = (s: { name: string; lon: number; lat: number; rank: number; newlyCovered: unknown }) => ({ name: s.name, lon: s.lon, lat: s.lat, rank: s.rank, newlyCovered: s.newlyCovered });
      expect(done.result!.sites.map(pick)).toEqual(direct.sites.map(pick));
      expect(done.result!.layers).toEqual(JSON.parse(JSON.stringify(direct.layers)));
    }, 120_000);

    test('listed newest first; exports: GeoJSON sites, CSV with BOM, XLSX that opens', async () => {
      const list = (await planner.req('GET', '/api/plans')).json().plans as Array<{ id: number; status: string }>;
      expect(list[0]).toMatchObject({ id, status: 'done' });
      expect((list[0] as Record<string, unknown>).result).toBeUndefined();
      const run = (await planner.req('GET', `/api/plans/${id}`)).json() as RunBody;

      const geo = await planner.req('GET', `/api/plans/${id}/export.geojson`);
      expect(geo.statusCode).toBe(200);
      expect(geo.headers['content-disposition']).toBe(`attachment; filename="quarter-plan-${id}-mclp.geojson"`);
      const chosen = (geo.json().features as Array<{ properties: { role: string; name: string }; geometry: { coordinates: number[] } }>).filter((f) => f.properties.role === 'chosen');
      expect(chosen.map((f) => [f.properties.name, ...f.geometry.coordinates])).toEqual(run.result!.sites.map((s) => [s.name, s.lon, s.lat]));

      const csv = await planner.req('GET', `/api/plans/${id}/export.csv`);
      expect(String(csv.headers['content-type'])).toMatch(/^text\/csv/);
      expect(csv.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      const lines = csv.body.replace(/^\uFEFF/, '').split('\r\n').filter(Boolean);
      expect(lines).toHaveLength(run.result!.sites.length + 1);

      const xlsx = await planner.req('GET', `/api/plans/${id}/export.xlsx`);
      expect(xlsx.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
      const sheet = wb.worksheets[0];
      expect(sheet.rowCount).toBe(run.result!.sites.length + 1);
      expect(sheet.getRow(2).getCell(2).value).toBe(run.result!.sites[0].name);
    });

    test('hostile site names stay text: CSV cells neutralised, XLSX cells not formulas', async () => {
      const names = ['=HYPERLINK("http://evil.example","x")', '+SUM(1,2)', '-2+3', '@cmd'];
      const points = mainNodes(names.length).map(([lon, lat], i) => ({ lon, lat, name: names[i] }));
      const res = await planner.req('POST', '/api/plans', { model: 'mclp', format: 'pharmacy', sites: names.length, minutes: 5, candidates: { points }, solver: 'heuristic' });
      expect(res.statusCode, res.body).toBe(202);
      const run = await waitFor(res.json().id, finished);
      expect(run.status, run.error ?? '').toBe('done');
      expect(run.result!.sites.map((s) => s.name).sort()).toEqual([...names].sort());

      const csv = (await planner.req('GET', `/api/plans/${run.id}/export.csv`)).body;
      for (const n of names) {
        const quoted = `'${n}`;
        const cell = /[",]/.test(quoted) ? `"${quoted.replace(/"/g, '""')}"` : quoted;
        expect(csv).toContain(`,${cell},`);
      }
      const xlsx = await planner.req('GET', `/api/plans/${run.id}/export.xlsx`);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
      const sheet = wb.worksheets[0];
      const seen: string[] = [];
      for (let r = 2; r <= sheet.rowCount; r++) {
        const cell = sheet.getRow(r).getCell(2);
        expect(cell.type).toBe(ExcelJS.ValueType.String);
        expect(cell.formula).toBeFalsy();
        seen.push(String(cell.value));
      }
      expect(seen.sort()).toEqual([...names].sort());
    }, 120_000);

    test('export of a run that is not done: 409; unknown run: 404', async () => {
      expectError(await planner.req('GET', '/api/plans/987654'), 404);
      expectError(await planner.req('GET', '/api/plans/987654/export.csv'), 404);
      const failedRun = await store.createPlanRun({ region: region.meta.name, model: 'mclp', params: {} });
      await store.updatePlanRun(failedRun.id, {}, { status: 'failed', error: 'test' });
      expectError(await planner.req('GET', `/api/plans/${failedRun.id}/export.xlsx`), 409, 'status');
      expectError(await planner.req('DELETE', `/api/plans/${failedRun.id}`), 409, 'status');
    });
  });

  describe('cancel and the queue', () => {
    // exact p-median over ~900 network candidates: runs to its time limit (measured: 20 s limit reached)
    const heavy = { model: 'pmedian', format: 'pharmacy', sites: 10, candidates: 'network', spacing: 20, solver: 'exact', timeLimitSeconds: 120 };

    test('two runs at once, the third waits; cancelling a waiting run and a running one (its worker ends)', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await planner.req('POST', '/api/plans', heavy);
        expect(res.statusCode, res.body).toBe(202);
        ids.push(res.json().id);
      }
      await waitFor(ids[0], (r) => r.status === 'running');
      await waitFor(ids[1], (r) => r.status === 'running');
      expect(app.quarter.planStats()).toEqual({ running: 2, queued: 1 });
      expect((await planner.req('GET', `/api/plans/${ids[2]}`)).json().status).toBe('queued');

      // the server answers while both workers are busy
      const t0 = performance.now();
      expect((await app.inject({ method: 'GET', url: '/api/regions' })).statusCode).toBe(200);
      expect(performance.now() - t0).toBeLessThan(1000);

      const third = await planner.req('DELETE', `/api/plans/${ids[2]}`);
      expect(third.statusCode, third.body).toBe(200);
      expect(third.json().status).toBe('cancelled');
      expect(app.quarter.planStats()).toEqual({ running: 2, queued: 0 });

      const first = await planner.req('DELETE', `/api/plans/${ids[0]}`);
      expect(first.json().status).toBe('cancelled');
      const second = await planner.req('DELETE', `/api/plans/${ids[1]}`);
      expect(second.json().status).toBe('cancelled');
      // the workers are terminated: no run left working
      const t1 = Date.now();
      while (app.quarter.planStats()!.running > 0 && Date.now() - t1 < 10_000) await new Promise((ok) => setTimeout(ok, 50));
      expect(app.quarter.planStats()).toEqual({ running: 0, queued: 0 });
      await new Promise((ok) => setTimeout(ok, 300));
      for (const id of ids) {
        const r = (await planner.req('GET', `/api/plans/${id}`)).json() as RunBody;
        expect(r.status).toBe('cancelled');
        expect(r.result).toBeUndefined();
      }
      expectError(await planner.req('DELETE', `/api/plans/${ids[0]}`), 409, 'status');
    }, 120_000);
  });

  describe('zoning', () => {
    test('k zones as GeoJSON; bad k / radius / tolerance: 400 naming the field', async () => {
      const res = await planner.req('POST', '/api/zoning', { k: 3, radius: 800 });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      expect(String(res.headers['content-type'])).toMatch(/geo\+json/);
      const fc = res.json();
      expect(fc.type).toBe('FeatureCollection');
      expect(fc.features).toHaveLength(3);
      for (const f of fc.features) expect(['Polygon', 'MultiPolygon']).toContain(f.geometry.type);
      const assigned = fc.features.reduce((a: number, f: { properties: { residences: number } }) => a + f.properties.residences, 0);
      let onNetwork = 0;
      const t = region.residences;
      for (let r = 0; r < t.count; r++) {
        let any = false;
        for (let p = t.gateOffsets[r]; p < t.gateOffsets[r + 1]; p++) if (region.residenceSnaps.edge[p] >= 0) any = true;
        if (any) onNetwork++;
      }
      expect(assigned).toBeLessThanOrEqual(onNetwork);
      expect(assigned).toBeGreaterThan(0.9 * onNetwork);
      expectError(await planner.req('POST', '/api/zoning', { k: 0, radius: 800 }), 400, 'k');
      expectError(await planner.req('POST', '/api/zoning', { k: 2000, radius: 800 }), 400, 'k');
      expectError(await planner.req('POST', '/api/zoning', { k: 3, radius: 10 }), 400, 'radius');
      expectError(await planner.req('POST', '/api/zoning', { k: 3, radius: 800, tolerance: 0 }), 400, 'tolerance');
      expectError(await planner.req('POST', '/api/zoning', { k: 3 }), 400, 'radius');
    }, 120_000);
  });

  describe('assessment exports', () => {
    const get = (url: string): Promise<LightMyRequestResponse> => planner.req('GET', url);

    test('JSON, GeoJSON, CSV (BOM), XLSX (opens, five sheets), HTML — all attachments with safe names', async () => {
      const json = await get('/api/exports/assessment.json?profile=mofcom-2021');
      expect(json.statusCode, json.body.slice(0, 300)).toBe(200);
      const disposition = String(json.headers['content-disposition']);
      expect(disposition).toMatch(/^attachment; filename="[A-Za-z0-9._-]+\.json"/);
      const doc = json.json();
      expect(doc.kind).toBe('quarter-assessment');
      expect(doc.residences.count).toBe(region.residences.count);

      const geo = (await get('/api/exports/assessment.geojson?layer=zones')).json();
      expect(geo.type).toBe('FeatureCollection');
      expect(geo.features.length).toBeGreaterThan(0);
      const pts = (await get('/api/exports/assessment.geojson')).json();
      expect(pts.features).toHaveLength(region.residences.count);

      for (const table of ['residences', 'zones', 'gaps']) {
        const csv = await get(`/api/exports/assessment.csv?table=${table}`);
        expect(csv.statusCode).toBe(200);
        expect(csv.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
        expect(String(csv.headers['content-disposition'])).toContain(`-${table}.csv"`);
      }
      const residencesCsv = (await get('/api/exports/assessment.csv')).body;
      expect(residencesCsv.replace(/^\uFEFF/, '').split('\r\n')[0].split(',')[0]).toBe('id');

      const xlsx = await get('/api/exports/assessment.xlsx');
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
      expect(wb.worksheets.map((w) => w.name)).toEqual(['概要 Summary', '街道·片区 Zones', 'H3 网格 H3 cells', '住宅 Residences', '缺口 Gaps']);
      expect(wb.getWorksheet('住宅 Residences')!.rowCount).toBe(region.residences.count + 1);

      const html = await get('/api/exports/assessment.html?lang=en');
      expect(String(html.headers['content-type'])).toMatch(/^text\/html/);
      expect(String(html.headers['content-disposition'])).toMatch(/^attachment;/);
      expect(html.body).toMatch(/<html/i);

      expectError(await get('/api/exports/assessment.csv?profile=nope'), 400, 'profile');
      expectError(await get('/api/exports/assessment.csv?table=passwords'), 400, 'table');
      expectError(await get('/api/exports/assessment.json?lang=fr'), 400, 'lang');
      expectError(await get('/api/exports/assessment.exe'), 404);
    }, 120_000);
  });

  describe('scenario evaluation against a recount', () => {
    test('a new pharmacy: coverage before/after and the homes gaining equal a recount from two downloads', async () => {
      const f = FORMATS.findIndex((x) => x.id === 'pharmacy');
      const threshold = FORMATS[f].mofcomMinutes;
      type AssessmentDoc = {
        residences: { count: number; formats: string[]; minutes: Array<number | null>; population: number[] };
        zones: Array<{ kind: string; formatCoverage: number[] }>;
      };
      const download = async (): Promise<AssessmentDoc> => (await planner.req('GET', '/api/exports/assessment.json?profile=mofcom-2021')).json() as AssessmentDoc;
      const beforeDoc = await download();
      const before = beforeDoc.residences;
      const F = before.formats.length;
      const col = before.formats.indexOf('pharmacy');
      const within = (m: number | null) => m !== null && m <= threshold;
      // the home farthest from a pharmacy (but on the network): put a pharmacy at its street
      let worst = -1;
      for (let r = 0; r < before.count; r++) {
        const m = before.minutes[r * F + col];
        if (m !== null && (worst < 0 || m > before.minutes[worst * F + col]!)) worst = r;
      }
      const lon = region.residences.lon[worst];
      const lat = region.residences.lat[worst];
      const edit = { id: 'add-1', type: 'add_facility', formats: ['pharmacy'], name: '新药店', lon, lat };
      const created = await planner.req('POST', '/api/scenarios', { name: '新药店方案', edits: [edit] });
      expect(created.statusCode, created.body).toBe(201);
      const ev = (await planner.req('POST', `/api/scenarios/${created.json().id}/evaluate`, {})).json().evaluation;
      const ph = ev.coverage.find((c: { format: string }) => c.format === 'pharmacy');

      // the same pharmacy added for real, and the assessment downloaded again
      expect((await planner.req('POST', '/api/facilities', { formats: ['pharmacy'], name: '新药店', lon, lat })).statusCode).toBe(201);
      const afterDoc = await download();
      const after = afterDoc.residences;
      let gained = 0;
      let gainedPopulation = 0;
      for (let r = 0; r < before.count; r++) {
        const b = within(before.minutes[r * F + col]);
        const a = within(after.minutes[r * F + col]);
        if (a && !b) {
          gained++;
          gainedPopulation += before.population[r];
        }
      }
      expect(gained).toBeGreaterThan(0);
      expect(ph.gained.residences).toBe(gained);
      expect(ph.gained.population).toBeCloseTo(gainedPopulation, 1);
      expect(ph.lost.residences).toBe(0);
      // the region's coverage figures of the two downloads: the scenario's before and after
      const regionZone = (d: AssessmentDoc) => d.zones.find((z) => z.kind === 'region')!;
      expect(ph.before).toBeCloseTo(regionZone(beforeDoc).formatCoverage[col], 9);
      expect(ph.after).toBeCloseTo(regionZone(afterDoc).formatCoverage[col], 9);
      expect(ph.after).toBeGreaterThan(ph.before);
      // no other format moved
      for (const c of ev.coverage as Array<{ format: string; delta: number }>) if (c.format !== 'pharmacy') expect(c.delta).toBe(0);
    }, 120_000);
  });
});
