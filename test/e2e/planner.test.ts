/**
 * Planner workspace in a real browser against the real server on the Krems region. What the page
 * shows is checked against facts from elsewhere: format names from the taxonomy data file, the
 * OSM attribution text, API answers fetched by the test itself at the same point, the map's own
 * rendered features, and Chromium's accessibility tree for names of focused controls.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiJson, inPolygon, openPage, ROOT, screenshot, startE2e, waitForMapIdle, type E2eEnv, type TrackedPage } from './helpers.js';

interface TaxonomyFormat {
  id: string;
  class: string;
  name: { 'zh-CN': string; en: string };
}
const taxonomy = (JSON.parse(readFileSync(join(ROOT, 'data', 'taxonomy', 'formats.json'), 'utf8')) as { formats: TaxonomyFormat[] }).formats;
const zhName = (id: string): string => taxonomy.find((f) => f.id === id)!.name['zh-CN'];

interface NearestBody {
  at: [number, number];
  formats: Array<{ format: string; nearest: { id: number; name: string; minutes: number } | null }>;
}
interface IsoBody {
  features: Array<{ geometry: { type: string; coordinates: unknown }; properties: { minutes: number } }>;
}
interface AssessBody {
  headline: { population: number; residences: number; elderly: number; meanCompleteness: number | null; completeCircleShare: number | null; basicFormatCoverage: Array<{ format: string }> };
  zone: { grade: { name: { 'zh-CN': string } | null } | null; gaps: Array<{ format: string; lon: number; lat: number }> };
}

/** "12,122" / "41.7%" / "19.4 分钟" → the number. */
const num = (text: string | null): number => Number((text ?? '').replace(/[^0-9.\-]/g, ''));

let env: E2eEnv;
beforeAll(async () => {
  env = await startE2e();
}, 300_000);
afterAll(async () => {
  await env?.close();
});

/** Pixel of a lon,lat on the page's map. */
const project = (page: Page, lon: number, lat: number) =>
  page.evaluate(([x, y]) => {
    const p = window.__quarter!.map.project([x, y]);
    return { x: p.x, y: p.y };
  }, [lon, lat] as const);

/** A point in the town centre: the facility nearest the mean facility position (services are in reach there). */
function centrePoint(): [number, number] {
  const fs = env.region.facilities;
  const cx = fs.reduce((a, f) => a + f.lon, 0) / fs.length;
  const cy = fs.reduce((a, f) => a + f.lat, 0) / fs.length;
  const f = [...fs].sort((a, b) => Math.hypot(a.lon - cx, a.lat - cy) - Math.hypot(b.lon - cx, b.lat - cy))[0];
  // a few metres off the facility itself, so the click lands on the map and not exactly on its circle
  return [f.lon + 0.0003, f.lat + 0.0002];
}

async function loadPlanner(): Promise<TrackedPage> {
  const tracked = await openPage(env, '/planner');
  await waitForMapIdle(tracked.page);
  return tracked;
}

/** Page errors, without the 404s a request for a point off the network legitimately gets. */
const realErrors = (t: TrackedPage): string[] => t.errors.filter((e) => !/status of 404/.test(e));

describe('planner workspace', () => {
  test('loads: full-window map, OSM attribution, basemap and facilities drawn, legend in Chinese; first load timed', async () => {
    const t = await loadPlanner();
    const { page } = t;
    const idleMs = await page.evaluate(() => performance.getEntriesByName('quarter:map-idle')[0]?.startTime ?? NaN);
    console.log(`planner first load (navigation start → map idle): ${Math.round(idleMs)} ms`);
    expect(idleMs).toBeGreaterThan(0);
    // The target is ≤ 2 s; in headless Chromium (software WebGL) on a shared, loaded machine the
    // time is many times that, so this bound only catches a page that never settles.
    expect(idleMs).toBeLessThan(60_000);

    const canvas = await page.evaluate(() => {
      const c = window.__quarter!.map.getCanvas();
      return { w: c.clientWidth, h: c.clientHeight };
    });
    expect(canvas).toEqual({ w: 1400, h: 900 });
    await expect(page.getByText('© OpenStreetMap contributors').isVisible()).resolves.toBe(true);

    // the basemap is drawn: roads on the first view; buildings and street names closer in
    const drawn = () =>
      page.evaluate(() => {
        const map = window.__quarter!.map;
        const layers = map.getStyle().layers.map((l) => l.id);
        const count = (prefix: string) => map.queryRenderedFeatures({ layers: layers.filter((id) => id.startsWith(prefix)) }).length;
        return { roads: count('road-'), buildings: count('building'), labels: count('label-') };
      });
    expect((await drawn()).roads).toBeGreaterThan(20);
    const firstView = await page.evaluate(() => window.__quarter!.map.getCenter().toArray().concat(window.__quarter!.map.getZoom()));
    await page.evaluate(([x, y]) => window.__quarter!.map.jumpTo({ center: [x, y], zoom: 16 }), centrePoint());
    await waitForMapIdle(page);
    const close = await drawn();
    expect(close.roads).toBeGreaterThan(10);
    expect(close.buildings).toBeGreaterThan(10);
    expect(close.labels).toBeGreaterThan(0);
    await page.evaluate(([x, y, z]) => window.__quarter!.map.jumpTo({ center: [x, y], zoom: z }), firstView);
    await waitForMapIdle(page);

    // every facility/format pair inside the view is drawn (the reference: the API's list, projected here)
    const api = await apiJson<{ facilities: Array<{ id: number; formats: string[]; lon: number; lat: number }> }>(env, '/api/facilities?limit=5000');
    const seen = async () =>
      new Set(
        await page.evaluate(() =>
          window.__quarter!.map.queryRenderedFeatures({ layers: ['facilities'] }).map((f) => `${f.properties.id}:${f.properties.format}`),
        ),
      );
    const inside: string[] = [];
    for (const f of api.facilities) {
      const p = await project(page, f.lon, f.lat);
      if (p.x > 8 && p.x < 1392 && p.y > 8 && p.y < 892) for (const fmt of f.formats) inside.push(`${f.id}:${fmt}`);
    }
    expect(inside.length).toBeGreaterThan(10);
    const before = await seen();
    for (const key of inside) expect(before.has(key), key).toBe(true);

    // legend: every taxonomy format with its Chinese name; unticking 药店 hides exactly the pharmacies
    await expect(page.locator('#legend-heading').textContent()).resolves.toBe('业态图例与筛选');
    for (const f of taxonomy) await expect(page.locator(`.legend label[data-format="${f.id}"] .format-name`).textContent()).resolves.toBe(f.name['zh-CN']);
    await page.getByRole('checkbox', { name: zhName('pharmacy') }).uncheck();
    await waitForMapIdle(page);
    const after = await seen();
    expect([...after].some((k) => k.endsWith(':pharmacy'))).toBe(false);
    expect(inside.some((k) => k.endsWith(':pharmacy'))).toBe(true); // there was something to hide
    for (const key of inside.filter((k) => !k.endsWith(':pharmacy'))) expect(after.has(key), key).toBe(true);
    await page.getByRole('checkbox', { name: zhName('pharmacy') }).check();

    await screenshot(page, 'planner-load');
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });

  test('a click draws 5/10/15-minute isochrones and lists the nearest facility per format as GET /api/nearest does', async () => {
    const t = await loadPlanner();
    const { page } = t;
    const [lon, lat] = centrePoint();
    await page.evaluate(([x, y]) => window.__quarter!.map.jumpTo({ center: [x, y], zoom: 15 }), [lon, lat] as const);
    await waitForMapIdle(page);
    const px = await project(page, lon, lat);
    await page.mouse.click(px.x, px.y);
    await page.waitForSelector('.nearest-list li');
    await waitForMapIdle(page);

    // the point the app asked about is the clicked one
    const atText = await page.locator('.analysis .coords').getAttribute('data-at');
    const at = atText!.split(',').map(Number);
    const clicked = await page.evaluate(([x, y]) => window.__quarter!.map.unproject([x, y]).toArray(), [px.x, px.y] as const);
    expect(Math.abs(at[0] - clicked[0])).toBeLessThan(1e-5);
    expect(Math.abs(at[1] - clicked[1])).toBeLessThan(1e-5);
    const atParam = `${at[0]},${at[1]}`;

    // nearest list = the API at the same point
    const ref = await apiJson<NearestBody>(env, `/api/nearest?at=${atParam}&maxMinutes=30`);
    const rows = await page.$$eval('.nearest-list li', (lis) =>
      lis.map((li) => ({
        format: li.getAttribute('data-format'),
        name: li.querySelector('.format-name')?.textContent,
        facility: li.querySelector('.facility-name')?.textContent,
        minutes: li.querySelector('.minutes')?.textContent ?? null,
      })),
    );
    const reached = ref.formats.filter((f) => f.nearest !== null);
    expect(reached.length).toBeGreaterThan(5);
    expect(rows.map((r) => r.format).sort()).toEqual(reached.map((f) => f.format).sort());
    for (const r of rows) {
      const f = reached.find((x) => x.format === r.format)!;
      expect(r.name).toBe(zhName(f.format));
      expect(Math.abs(num(r.minutes) - f.nearest!.minutes)).toBeLessThanOrEqual(0.05 + 1e-9);
      if (f.nearest!.name) expect(r.facility).toBe(f.nearest!.name);
    }
    // listed nearest first
    for (let i = 1; i < rows.length; i++) expect(num(rows[i].minutes)).toBeGreaterThanOrEqual(num(rows[i - 1].minutes));
    const missing = await page.$$eval('.missing-list [data-format]', (s) => s.map((x) => x.getAttribute('data-format')));
    expect(missing.sort()).toEqual(ref.formats.filter((f) => f.nearest === null).map((f) => f.format).sort());

    // isochrones: three fill layers over the API's polygons, which contain the clicked point
    const iso = await apiJson<IsoBody>(env, `/api/isochrone?at=${atParam}&minutes=5,10,15`);
    const onMap = await page.evaluate(async () => {
      const map = window.__quarter!.map;
      const src = map.getSource('isochrones') as unknown as { getData(): Promise<IsoBody> };
      const data = await src.getData();
      return {
        minutes: data.features.map((f) => f.properties.minutes).sort((a, b) => a - b),
        layers: [5, 10, 15].map((m) => ({ type: map.getLayer(`isochrone-${m}`)?.type, visible: map.getLayoutProperty(`isochrone-${m}`, 'visibility') !== 'none' })),
        features: data.features,
      };
    });
    expect(onMap.minutes).toEqual([5, 10, 15]);
    expect(onMap.layers).toEqual([5, 10, 15].map(() => ({ type: 'fill', visible: true })));
    expect(onMap.features).toEqual(iso.features);
    for (const f of iso.features) expect(inPolygon(f.geometry, at[0], at[1])).toBe(true);
    const [w, s] = env.region.meta.bbox;
    expect(inPolygon(iso.features.find((f) => f.properties.minutes === 15)!.geometry, w, s)).toBe(false);
    const renderedAtClick = await page.evaluate(
      ([x, y]) => [5, 10, 15].map((m) => window.__quarter!.map.queryRenderedFeatures([x, y], { layers: [`isochrone-${m}`] }).length),
      [px.x, px.y] as const,
    );
    for (const n of renderedAtClick) expect(n).toBeGreaterThan(0);

    await screenshot(page, 'planner-isochrone');
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });

  test('the zone dashboard shows the headline of POST /api/assess, loads ECharts only when opened, and a gap moves the map', async () => {
    const t = await loadPlanner();
    const { page } = t;
    const scripts = () => page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name).filter((n) => n.endsWith('.js')));
    expect((await scripts()).some((n) => /ZoneDashboard/.test(n))).toBe(false);

    await page.getByRole('button', { name: '区域评估' }).click();
    await page.waitForSelector('[data-indicator="residences"] dd');
    expect((await scripts()).some((n) => /ZoneDashboard/.test(n))).toBe(true);
    const ref = await apiJson<AssessBody>(env, '/api/assess', { profile: 'mofcom-2021' });
    const value = (k: string) => page.locator(`[data-indicator="${k}"] dd`).textContent();
    expect(num(await value('population'))).toBe(Math.round(ref.headline.population));
    expect(num(await value('residences'))).toBe(ref.headline.residences);
    expect(num(await value('residences'))).toBe(env.region.residences.count);
    expect(num(await value('elderly'))).toBe(Math.round(ref.headline.elderly));
    expect(Math.abs(num(await value('meanCompleteness')) - ref.headline.meanCompleteness! * 100)).toBeLessThanOrEqual(0.05 + 1e-9);
    expect(Math.abs(num(await value('completeCircleShare')) - ref.headline.completeCircleShare! * 100)).toBeLessThanOrEqual(0.05 + 1e-9);
    expect(await value('grade')).toBe(ref.zone.grade?.name?.['zh-CN'] ?? '未达基础型');

    // the bar chart names every basic format (Chinese names from the taxonomy file)
    await page.waitForSelector('.coverage-chart svg');
    const chartText = await page.locator('.coverage-chart svg').textContent();
    expect(ref.headline.basicFormatCoverage.length).toBeGreaterThan(5);
    for (const b of ref.headline.basicFormatCoverage) expect(chartText).toContain(zhName(b.format));

    // gaps: as many as the API lists; the first flies the map to its place
    const gaps = page.locator('.gap-button');
    await expect(gaps.count()).resolves.toBe(ref.zone.gaps.length);
    expect(ref.zone.gaps.length).toBeGreaterThan(0);
    await expect(gaps.first().locator('.gap-name').textContent()).resolves.toBe(zhName(ref.zone.gaps[0].format));
    const moved = page.evaluate(() => new Promise<void>((ok) => window.__quarter!.map.once('moveend', () => ok())));
    await gaps.first().click();
    await moved;
    const centre = await page.evaluate(() => window.__quarter!.map.getCenter().toArray());
    expect(Math.abs(centre[0] - ref.zone.gaps[0].lon)).toBeLessThan(1e-6);
    expect(Math.abs(centre[1] - ref.zone.gaps[0].lat)).toBeLessThan(1e-6);

    await waitForMapIdle(page);
    await screenshot(page, 'planner-dashboard');
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });

  test('names from the API are shown as text, never as markup', async () => {
    const t = await loadPlanner();
    const { page } = t;
    const hostile = '<img src=x onerror="window.__injected=1"><b>Apotheke</b>';
    // the server's answer, with one facility name replaced by markup
    await page.route('**/api/nearest?**', async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as NearestBody;
      body.formats.find((f) => f.nearest !== null)!.nearest!.name = hostile;
      await route.fulfill({ response: res, json: body });
    });
    const [lon, lat] = centrePoint();
    await page.evaluate(([x, y]) => window.__quarter!.map.jumpTo({ center: [x, y], zoom: 15 }), [lon, lat] as const);
    await waitForMapIdle(page);
    const px = await project(page, lon, lat);
    await page.mouse.click(px.x, px.y);
    await page.waitForSelector('.nearest-list li');
    const names = await page.$$eval('.nearest-list .facility-name', (els) => els.map((e) => e.textContent));
    expect(names).toContain(hostile);
    await expect(page.locator('.nearest-list img, .nearest-list b').count()).resolves.toBe(0);
    await expect(page.evaluate(() => (window as unknown as { __injected?: number }).__injected)).resolves.toBeUndefined();
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });

  test('the language switch changes labels, format names and the document language', async () => {
    const t = await loadPlanner();
    const { page } = t;
    await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe('zh-CN');
    await page.getByRole('button', { name: 'English' }).click();
    await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe('en');
    await expect(page.locator('#legend-heading').textContent()).resolves.toBe('Formats: legend and filter');
    for (const f of taxonomy) await expect(page.locator(`.legend label[data-format="${f.id}"] .format-name`).textContent()).resolves.toBe(f.name.en);
    await expect(page.getByRole('button', { name: 'Zone assessment' }).isVisible()).resolves.toBe(true);
    await expect(page.evaluate(() => window.__quarter!.map.getCanvas().getAttribute('aria-label'))).resolves.toMatch(/^Map/);
    await screenshot(page, 'planner-english');
    // the choice is kept for the next visit
    await page.reload();
    await waitForMapIdle(page);
    await expect(page.locator('#legend-heading').textContent()).resolves.toBe('Formats: legend and filter');
    await page.getByRole('button', { name: '中文' }).click();
    await expect(page.locator('#legend-heading').textContent()).resolves.toBe('业态图例与筛选');
    await expect(page.locator(`.legend label[data-format="pharmacy"] .format-name`).textContent()).resolves.toBe('药店');
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });

  test('keyboard: Tab reaches the main controls, each with an accessible name and a visible focus ring; Enter runs an analysis', async () => {
    const t = await loadPlanner();
    const { page } = t;
    const cdp = await page.context().newCDPSession(page);
    interface AxNode {
      role?: { value?: string };
      name?: { value?: string };
      properties?: Array<{ name: string; value: { value?: unknown } }>;
    }
    /** Chromium's own accessible role and name of the focused element. */
    const focusedAx = async (): Promise<{ role: string; name: string }> => {
      const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AxNode[] };
      const focused = nodes.filter((n) => n.role?.value !== 'RootWebArea' && n.properties?.some((p) => p.name === 'focused' && p.value.value === true));
      const n = focused[focused.length - 1];
      return { role: String(n?.role?.value ?? ''), name: String(n?.name?.value ?? '') };
    };
    const focusRing = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const cs = getComputedStyle(el);
        return { visible: el.matches(':focus-visible') && cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0, tag: el.tagName };
      });

    const reached: Array<{ role: string; name: string }> = [];
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const ax = await focusedAx();
      const ring = await focusRing();
      if (ring.tag === 'BODY') break;
      expect(ax.name.trim(), `${ax.role} at tab ${i + 1} has no accessible name`).not.toBe('');
      expect(ring.visible, `${ax.role} "${ax.name}" shows no focus ring`).toBe(true);
      reached.push(ax);
    }
    const has = (role: string, name: RegExp) => reached.some((r) => r.role === role && name.test(r.name));
    expect(has('link', /^居民服务$/)).toBe(true);
    expect(has('combobox', /步行人群/)).toBe(true);
    expect(has('button', /^分析地图中心$/)).toBe(true);
    expect(has('button', /^区域评估$/)).toBe(true);
    expect(has('button', /^中文$/)).toBe(true);
    expect(has('button', /^English$/)).toBe(true);
    expect(has('checkbox', /药店/)).toBe(true);
    expect(has('button', /^放大$/)).toBe(true);
    expect(has('button', /^缩小$/)).toBe(true);
    expect(reached.some((r) => /^地图/.test(r.name))).toBe(true); // the map canvas itself (arrow keys pan it)

    // operate by keyboard: focus "分析地图中心" with Tab and press Enter
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    for (let i = 0; i < 60 && (await focusedAx()).name !== '分析地图中心'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.nearest-list li');
    const centre = await page.evaluate(() => window.__quarter!.map.getCenter().toArray());
    const at = (await page.locator('.analysis .coords').getAttribute('data-at'))!.split(',').map(Number);
    expect(Math.abs(at[0] - centre[0])).toBeLessThan(1e-5);
    expect(Math.abs(at[1] - centre[1])).toBeLessThan(1e-5);
    await screenshot(page, 'planner-keyboard');
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });
});
