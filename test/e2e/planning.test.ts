/**
 * Sign-in, the walking-time heatmap and site planning in a real browser against the real server
 * (Krems, in-memory store with a planner account). References: the API's own answers fetched by
 * the test (GET /api/heatmap, GET /api/plans/:id, POST /api/zoning), the region's homes put in
 * H3 cells here, the browser's cookie jar, and the map's rendered features.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { cellToLatLng, getResolution, latLngToCell } from 'h3-js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiJson, apiLogin, openPage, screenshot, startE2e, waitForMapIdle, WEB_DIST, type E2eEnv, type E2eUser, type TrackedPage } from './helpers.js';

const PLANNER: E2eUser = { name: 'planner-e2e', password: 'correct horse battery 42', role: 'planner' };
const num = (text: string | null | undefined): number => Number((text ?? '').replace(/[^0-9.\-]/g, ''));
const realErrors = (t: TrackedPage): string[] => t.errors.filter((e) => !/status of 40[14]/.test(e));

let env: E2eEnv;
beforeAll(async () => {
  env = await startE2e({ store: { users: [PLANNER] } });
}, 300_000);
afterAll(async () => {
  await env?.close();
});

async function loadPlanner(): Promise<TrackedPage> {
  const tracked = await openPage(env, '/planner');
  await waitForMapIdle(tracked.page);
  return tracked;
}

const toolButtons = (page: Page) => page.$$eval('.tool-buttons button', (bs) => bs.map((b) => b.getAttribute('data-tool')));

async function signIn(page: Page, user: { name: string; password: string }): Promise<void> {
  if (!(await page.locator('#login-form').isVisible())) await page.locator('.login > button').click();
  await page.getByLabel('用户名').fill(user.name);
  await page.getByLabel('密码').fill(user.password);
  await page.locator('#login-form button[type="submit"]').click();
}

interface PlanRunBody {
  status: string;
  result: {
    sites: Array<{ rank: number; name: string; lon: number; lat: number; newlyCovered: { residents: number; elderly: number }; nearestExisting: { name: string; minutes: number } | null }>;
    layers: Array<{ format: string; before: number; after: number }>;
  };
}

describe('planner: sign-in, heatmap and site planning', () => {
  test('public readers see read-only tools; a wrong password is refused; sign-in shows planner tools; the session cookie is HttpOnly; sign-out hides them', async () => {
    const t = await loadPlanner();
    const { page } = t;
    await page.waitForSelector('.login > button');
    expect(await toolButtons(page)).toEqual(['heatmap']);

    // first load: the scripts fetched so far, gzip-compressed here, stay within 350 kB; no panel,
    // chart or H3 code among them
    const scripts = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname).filter((n) => n.endsWith('.js')));
    const sizes = scripts.map((p) => ({ p, gz: gzipSync(readFileSync(join(WEB_DIST, p))).length }));
    const total = sizes.reduce((a, x) => a + x.gz, 0);
    console.log(`planner first-load JS (gzip): ${sizes.map((x) => `${x.p} ${(x.gz / 1000).toFixed(1)} kB`).join(', ')}; total ${(total / 1000).toFixed(1)} kB`);
    expect(total).toBeLessThanOrEqual(350_000);
    for (const lazy of ['HeatmapPanel', 'PlanPanel', 'ScenarioEditor', 'SurveyDashboard', 'ZoneDashboard', 'SurveyForm']) expect(scripts.some((p) => p.includes(lazy)), lazy).toBe(false);

    await signIn(page, { name: PLANNER.name, password: 'not the password' });
    await expect(page.locator('#login-form [role="alert"]').textContent()).resolves.toBe('用户名或密码错误。');
    expect(await toolButtons(page)).toEqual(['heatmap']);

    await signIn(page, PLANNER);
    await page.waitForSelector('[data-testid="login-user"]');
    await expect(page.locator('[data-testid="login-user"]').textContent()).resolves.toBe(`${PLANNER.name}（规划人员）`);
    await page.waitForSelector('.tool-buttons button[data-tool="facilities"]'); // the facility editor's button comes with its chunk
    expect(await toolButtons(page)).toEqual(['heatmap', 'plan', 'scenario', 'survey', 'batches', 'facilities']);

    // the browser holds the session cookie, HttpOnly: the page's scripts cannot see it
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'quarter_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    await expect(page.evaluate(() => document.cookie)).resolves.not.toContain('quarter_session');
    // nothing of the session is kept in storage either
    await expect(page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).resolves.not.toMatch(/csrf|session/i);
    const me = await page.evaluate(async () => (await fetch('/api/me')).json() as Promise<{ user: { name: string } | null }>);
    expect(me.user?.name).toBe(PLANNER.name);
    await screenshot(page, 'planner-signed-in');

    await page.getByRole('button', { name: '退出登录' }).click();
    await page.waitForSelector('.login > button');
    expect(await toolButtons(page)).toEqual(['heatmap']);
    const after = await page.evaluate(async () => (await fetch('/api/me')).json() as Promise<{ user: unknown }>);
    expect(after.user).toBeNull();
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });

  test('heatmap: one GET /api/heatmap; the drawn H3 cells (res 9), their colours, the legend and a cell’s tooltip are that answer’s', async () => {
    const t = await loadPlanner();
    const { page } = t;
    const format = 'supermarket';
    const asked: string[] = [];
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path === '/api/heatmap' || path === '/api/isochrone') asked.push(r.url());
    });
    await page.locator('.tool-buttons button[data-tool="heatmap"]').click();
    await page.waitForSelector('.heatmap-panel select');
    await page.locator('.heatmap-panel select').selectOption(format);
    await page.waitForSelector('.heat-legend li');
    await waitForMapIdle(page);

    // one request, for the format at resolution 9, and no isochrones any more
    expect(asked.length, asked.join('\n')).toBe(1);
    const sent = new URL(asked[0]);
    expect(sent.pathname).toBe('/api/heatmap');
    expect(sent.searchParams.get('format')).toBe(format);
    expect(sent.searchParams.get('resolution')).toBe('9');

    // reference: the same answer fetched here
    interface RefCell { h3: string; homes: number; meanMinutes: number | null; maxMinutes: number | null; unreached: number }
    const answer = await apiJson<{ resolution: number; maxMinutes: number; cells: RefCell[] }>(env, `/api/heatmap?${sent.searchParams.toString()}`);
    const bandOf = (m: number | null): number => (m === null ? -1 : m <= 5 ? 5 : m <= 10 ? 10 : m <= 15 ? 15 : 99);

    const onMap = await page.evaluate(async () => {
      const map = window.__quarter!.map;
      const src = map.getSource('heat-cells') as unknown as { getData(): Promise<{ features: Array<{ properties: { cell: string; band: number; homes: number } }> }> };
      const data = await src.getData();
      return {
        type: map.getLayer('heat-cells')?.type,
        cells: data.features.map((f) => f.properties),
        rendered: map.queryRenderedFeatures({ layers: ['heat-cells'] }).map((f) => String(f.properties.cell)),
      };
    });
    expect(onMap.type).toBe('fill');
    expect(onMap.cells.length).toBe(answer.cells.length);
    expect(onMap.cells.length).toBeGreaterThan(20);
    expect(onMap.rendered.length).toBeGreaterThan(0);
    const ref = new Map(answer.cells.map((c) => [c.h3, c]));
    for (const c of onMap.cells) {
      expect(getResolution(c.cell)).toBe(9);
      const r = ref.get(c.cell)!;
      expect(r, c.cell).toBeDefined();
      expect(c.band, c.cell).toBe(bandOf(r.meanMinutes));
      expect(c.homes).toBe(r.homes);
    }
    // the cells are those holding the region's homes (by centroid, h3-js here)
    const homeCells = new Set<string>();
    const homes = env.region.residences;
    for (let r = 0; r < homes.count; r++) homeCells.add(latLngToCell(homes.lat[r], homes.lon[r], 9));
    expect(onMap.cells.map((c) => c.cell).sort()).toEqual([...homeCells].sort());

    // the legend counts are the answer's cells per band
    const legend = await page.$$eval('.heat-legend li', (lis) => lis.map((li) => ({ band: Number(li.getAttribute('data-band')), text: li.querySelector('.band-count')?.textContent })));
    expect(legend.map((l) => l.band)).toEqual([5, 10, 15, 99, -1]);
    for (const l of legend) expect(num(l.text), `band ${l.band}`).toBe(answer.cells.filter((c) => bandOf(c.meanMinutes) === l.band).length);
    expect(answer.cells.some((c) => bandOf(c.meanMinutes) === 5)).toBe(true);
    console.log(`heatmap: ${answer.cells.length} cells; per band ${legend.map((l) => `${l.band}: ${num(l.text)}`).join(', ')}`);

    // a cell's tooltip: hover the centre of a drawn cell with homes reached
    const target = answer.cells.find((c) => c.meanMinutes !== null && onMap.rendered.includes(c.h3) && c.homes >= 3) ?? answer.cells.find((c) => c.meanMinutes !== null && onMap.rendered.includes(c.h3))!;
    const [clat, clon] = cellToLatLng(target.h3);
    const pixel = await page.evaluate(([lon, lat]) => {
      const map = window.__quarter!.map;
      const p = map.project([lon, lat]);
      const box = map.getCanvas().getBoundingClientRect();
      return { x: box.left + p.x, y: box.top + p.y };
    }, [clon, clat] as [number, number]);
    await page.mouse.move(pixel.x - 3, pixel.y - 3);
    await page.mouse.move(pixel.x, pixel.y);
    const info = page.locator(`.heat-cell-info[data-cell="${target.h3}"]`);
    await info.waitFor();
    const one = new Intl.NumberFormat('zh-CN', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    const text = await info.textContent();
    expect(text).toContain(`平均 ${one.format(target.meanMinutes!)} 分钟`);
    expect(text).toContain(`最远 ${one.format(target.maxMinutes!)} 分钟`);
    await screenshot(page, 'planner-heatmap');

    // English legend
    await page.getByRole('button', { name: 'English' }).click();
    await expect(page.locator('.heat-legend li[data-band="99"] .band-label').textContent()).resolves.toBe('over 15 min');
    await expect(page.locator('.heat-legend li[data-band="-1"] .band-label').textContent()).resolves.toBe(`none within ${answer.maxMinutes} min`);
    await page.getByRole('button', { name: '中文' }).click();
    // switching the language asks for nothing again
    expect(asked.length).toBe(1);
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });

  test('plan: MCLP with 2 sites runs with progress; the sites on the map and in the table are GET /api/plans/:id’s; exports download; zoning draws the zones of POST /api/zoning', async () => {
    const t = await loadPlanner();
    const { page } = t;
    await signIn(page, PLANNER);
    await page.waitForSelector('[data-testid="login-user"]');
    await page.locator('.tool-buttons button[data-tool="plan"]').click();
    await page.waitForSelector('.plan-panel');
    await page.locator('select[name="plan-model"]').selectOption('mclp');
    await page.locator('select[name="plan-target"]').selectOption('pharmacy');
    await page.locator('input[name="plan-sites"]').fill('2');
    await page.locator('input[name="plan-minutes"]').fill('10');
    const created = page.waitForResponse((r) => r.url().endsWith('/api/plans') && r.request().method() === 'POST');
    await page.getByRole('button', { name: '运行', exact: true }).click();
    const createdRes = await created;
    expect(createdRes.status()).toBe(202);
    // the write carried the session's CSRF token (kept by the page in memory only)
    const me = await page.evaluate(async () => (await fetch('/api/me')).json() as Promise<{ csrfToken: string }>);
    expect(me.csrfToken.length).toBeGreaterThan(10);
    await expect(createdRes.request().headerValue('x-csrf-token')).resolves.toBe(me.csrfToken);
    const sent = createdRes.request().postDataJSON() as Record<string, unknown>;
    expect(sent).toEqual({ model: 'mclp', formats: ['pharmacy'], sites: 2, minutes: 10, candidates: 'network' });
    const { id } = (await createdRes.json()) as { id: number };
    await page.waitForSelector('.plan-sites tbody tr', { timeout: 180_000 });
    await waitForMapIdle(page);

    const api = await apiLogin(env, PLANNER);
    const ref = await api.get<PlanRunBody>(`/api/plans/${id}`);
    expect(ref.status).toBe('done');
    const sites = ref.result.sites;
    expect(sites.length).toBe(2);

    // the table: one row per site, as the API reports it
    const rows = await page.$$eval('.plan-sites tbody tr', (trs) =>
      trs.map((tr) => ({
        rank: Number(tr.getAttribute('data-rank')),
        name: tr.querySelector('.site-name')?.textContent,
        covered: tr.querySelector('.newly-covered')?.firstChild?.textContent,
        elderly: tr.querySelector('.newly-covered .sub')?.textContent,
        nearest: tr.querySelector('.nearest-existing .facility-name')?.textContent ?? null,
        minutes: tr.querySelector('.nearest-existing .minutes')?.textContent ?? null,
      })),
    );
    expect(rows.map((r) => r.rank)).toEqual(sites.map((s) => s.rank));
    for (const [i, s] of sites.entries()) {
      const r = rows[i];
      if (s.name) expect(r.name).toBe(s.name);
      expect(num(r.covered)).toBe(Math.round(s.newlyCovered.residents));
      expect(num(r.elderly)).toBe(Math.round(s.newlyCovered.elderly));
      if (s.nearestExisting) {
        if (s.nearestExisting.name) expect(r.nearest).toBe(s.nearestExisting.name);
        expect(Math.abs(num(r.minutes) - s.nearestExisting.minutes)).toBeLessThanOrEqual(0.05 + 1e-9);
      } else expect(r.nearest).toBeNull();
    }
    // coverage before → after per layer
    for (const l of ref.result.layers) {
      const li = page.locator(`.plan-layers li[data-format="${l.format}"]`);
      expect(Math.abs(num(await li.locator('.before').textContent()) - l.before * 100)).toBeLessThanOrEqual(0.05 + 1e-9);
      expect(Math.abs(num(await li.locator('.after').textContent()) - l.after * 100)).toBeLessThanOrEqual(0.05 + 1e-9);
    }

    // the map: the sites' source holds the API's positions and ranks; both circles are drawn with their rank labels
    const mapSites = await page.evaluate(async () => {
      const map = window.__quarter!.map;
      const src = map.getSource('plan-sites') as unknown as { getData(): Promise<{ features: Array<{ geometry: { coordinates: number[] }; properties: { rank: number } }> }> };
      const data = await src.getData();
      return {
        features: data.features.map((f) => ({ at: f.geometry.coordinates, rank: f.properties.rank })),
        circles: map.queryRenderedFeatures({ layers: ['plan-sites'] }).length,
        labels: map.queryRenderedFeatures({ layers: ['plan-site-labels'] }).map((f) => f.properties.rank),
      };
    });
    expect(mapSites.features).toEqual(sites.map((s) => ({ at: [s.lon, s.lat], rank: s.rank })));
    expect(mapSites.circles).toBe(2);
    expect(mapSites.labels.sort()).toEqual(sites.map((s) => s.rank).sort());
    await screenshot(page, 'planner-plan');

    // exports: the links download with the page's own session
    const downloads = await page.evaluate(async () => {
      const out: Array<{ href: string; status: number; type: string | null; head: string }> = [];
      for (const a of document.querySelectorAll<HTMLAnchorElement>('.plan-panel a[data-export]')) {
        const res = await fetch(a.href);
        const buf = new Uint8Array(await res.arrayBuffer());
        out.push({ href: a.getAttribute('href')!, status: res.status, type: res.headers.get('content-type'), head: Array.from(buf.slice(0, 4)).join(',') });
      }
      return out;
    });
    const byKind = (suffix: string) => downloads.find((d) => d.href.split('?')[0].endsWith(suffix))!;
    expect(byKind(`/api/plans/${id}/export.geojson`).status).toBe(200);
    expect(byKind(`/api/plans/${id}/export.csv`).head.startsWith('239,187,191')).toBe(true); // UTF-8 BOM
    expect(byKind(`/api/plans/${id}/export.xlsx`).head).toBe('80,75,3,4'); // a zip (xlsx)
    expect(byKind('/api/exports/assessment.html').type).toMatch(/^text\/html/);
    for (const d of downloads) expect(d.status, d.href).toBe(200);

    // zoning: 3 zones of 800 m, as the API divides them
    await page.locator('input[name="zone-count"]').fill('3');
    await page.locator('input[name="zone-radius"]').fill('800');
    await page.getByRole('button', { name: '划分片区' }).click();
    await page.waitForSelector('.zone-list li', { timeout: 120_000 });
    const zones = await api.post<{ features: Array<{ properties: { zone: number; name: string; population: number } }> }>('/api/zoning', { k: 3, radius: 800 });
    const listed = await page.$$eval('.zone-list li', (lis) => lis.map((li) => ({ name: li.querySelector('.zone-name')?.textContent, pop: li.querySelector('.zone-population')?.textContent })));
    expect(listed.map((z) => z.name)).toEqual(zones.features.map((f) => f.properties.name));
    for (const [i, z] of zones.features.entries()) expect(num(listed[i].pop)).toBe(Math.round(z.properties.population));
    await waitForMapIdle(page);
    const zoneMap = await page.evaluate(() => ({
      fills: new Set(window.__quarter!.map.queryRenderedFeatures({ layers: ['zones-fill'] }).map((f) => f.properties.zone)).size,
      labels: window.__quarter!.map.queryRenderedFeatures({ layers: ['zone-labels'] }).length,
    }));
    expect(zoneMap.fills).toBe(3);
    expect(zoneMap.labels).toBe(3);
    await screenshot(page, 'planner-zoning');

    // apply as scenario: a scenario with one add_facility per site
    await page.getByRole('button', { name: '作为情景应用' }).click();
    await page.waitForSelector('.scenario-panel .edit-list li');
    const list = await api.get<{ scenarios: Array<{ id: number; edits: number }> }>('/api/scenarios');
    const newest = list.scenarios[list.scenarios.length - 1];
    const scenario = await api.get<{ edits: Array<{ type: string; lon: number; lat: number; formats: string[] }> }>(`/api/scenarios/${newest.id}`);
    expect(scenario.edits.map((e) => ({ type: e.type, at: [e.lon, e.lat], formats: e.formats }))).toEqual(
      sites.map((s) => ({ type: 'add_facility', at: [s.lon, s.lat], formats: ['pharmacy'] })),
    );
    await expect(page.locator('.scenario-panel select[name="scenario"]').inputValue()).resolves.toBe(String(newest.id));
    await page.waitForSelector('.diff-headline');
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });

  test('planner routes refuse a page without a session, and the public assessment still works', async () => {
    const res = await apiJson<{ headline: { residences: number } }>(env, '/api/assess', { profile: 'mofcom-2021' });
    expect(res.headline.residences).toBe(env.region.residences.count);
    const refused = await env.app.inject({ method: 'GET', url: '/api/scenarios' });
    expect(refused.statusCode).toBe(401);
  });
});
