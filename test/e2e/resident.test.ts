/**
 * Resident page on a phone-sized screen, in a real browser against the real server on the Krems
 * region. References: street names and geometry read from the OSM extract by the test itself,
 * the API's own /api/nearby answer fetched by the test for the point and minute the page asked
 * about (services by band and format, minutes, open badges), that answer checked in turn against
 * /api/nearest and /api/route, and the route's length summed here from its geometry.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openOsmSource } from '../../src/ingest/osm-source.js';
import { apiJson, openPage, ROOT, screenshot, startE2e, waitForMapIdle, type E2eEnv, type TrackedPage } from './helpers.js';

const taxonomy = (JSON.parse(readFileSync(join(ROOT, 'data', 'taxonomy', 'formats.json'), 'utf8')) as { formats: Array<{ id: string; name: { 'zh-CN': string } }> }).formats;
const zhName = (id: string): string => taxonomy.find((f) => f.id === id)!.name['zh-CN'];

interface NearbyFacilityBody {
  id: number;
  name: string;
  formats: string[];
  lon: number;
  lat: number;
  minutes: number;
  band: 5 | 10 | 15 | null;
  open: 'open' | 'closed' | 'unknown';
  openingHours: string | null;
}
interface NearbyBody {
  at: [number, number];
  time: string;
  timeZone: string | null;
  total: number;
  truncated: boolean;
  facilities: NearbyFacilityBody[];
  formats: Array<{ format: string; within: Record<string, number>; nearestMinutes: number | null }>;
}
interface NearestBody {
  formats: Array<{ format: string; nearest: { id: number; minutes: number } | null }>;
}
interface RouteBody {
  seconds: number;
  metres: number;
  geometry: { type: 'LineString'; coordinates: Array<[number, number]> };
}

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const num = (text: string | null | undefined): number => Number((text ?? '').replace(/[^0-9.\-]/g, ''));

/** Metres between two lon,lat points (haversine, R = 6371008.8 m). */
function metres(a: readonly number[], b: readonly number[]): number {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

/** Metres from p to segment ab, on a local flat projection (fine over a few hundred metres). */
function toSegment(p: readonly number[], a: readonly number[], b: readonly number[]): number {
  const k = Math.cos((p[1] * Math.PI) / 180) * 111_320;
  const [ax, ay, bx, by, px, py] = [a[0] * k, a[1] * 111_320, b[0] * k, b[1] * 111_320, p[0] * k, p[1] * 111_320];
  const dx = bx - ax;
  const dy = by - ay;
  const t = dx === 0 && dy === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

interface Street {
  name: string;
  lines: number[][][];
}

/** Named highways straight from the extract: the name with the most ways inside the region, with all its lines. */
async function referenceStreet(bbox: [number, number, number, number]): Promise<Street> {
  const src = await openOsmSource(join(ROOT, 'data', 'krems', 'krems.osm.pbf'));
  const ways: Array<{ name: string; refs: number[] }> = [];
  await src.scan({
    way(_id, refs, n, tags) {
      if (tags.highway && tags.name) ways.push({ name: tags.name, refs: Array.from(refs.subarray(0, n)) });
    },
  });
  const needed = new Set(ways.flatMap((w) => w.refs));
  const coords = new Map<number, [number, number]>();
  await src.scan({
    node(id, lon, lat) {
      if (needed.has(id)) coords.set(id, [lon, lat]);
    },
  });
  const [w, s, e, n] = bbox;
  const byName = new Map<string, number[][][]>();
  for (const way of ways) {
    const line = way.refs.map((r) => coords.get(r)).filter((c): c is [number, number] => c !== undefined);
    if (!line.some(([x, y]) => x >= w && x <= e && y >= s && y <= n)) continue;
    byName.set(way.name, [...(byName.get(way.name) ?? []), line]);
  }
  const [name, lines] = [...byName.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))[0];
  return { name, lines };
}

let env: E2eEnv;
let street: Street;
beforeAll(async () => {
  env = await startE2e();
  street = await referenceStreet(env.region.meta.bbox);
}, 300_000);
afterAll(async () => {
  await env?.close();
});

const realErrors = (t: TrackedPage): string[] => t.errors.filter((e) => !/status of 404/.test(e));

/** The badge texts of the three open states, as a resident reads them. */
const OPEN_TEXT: Record<NearbyFacilityBody['open'], string> = { open: '营业中', closed: '已打烊', unknown: '营业时间未知' };
/** Facilities shown per format group before "show more" (ServiceBands.vue). */
const PREVIEW = 3;

/** The `at` the page sent to /api/nearby (the reference is asked at exactly this point) and the answer it got. */
async function nearbyAt(page: Page, act: () => Promise<unknown>): Promise<{ at: [number, number]; answer: NearbyBody }> {
  const [res] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/nearby?')), act()]);
  const at = new URL(res.url()).searchParams.get('at')!.split(',').map(Number);
  return { at: [at[0], at[1]], answer: (await res.json()) as NearbyBody };
}

/**
 * The services list against the API's own /api/nearby answer, fetched here for the point and the
 * minute the page's answer was for: per band the formats, in each the facilities nearest first
 * with name, minutes and open badge; the formats missing within 15 minutes. Returns that answer.
 */
async function expectServicesMatch(page: Page, at: [number, number], time: string): Promise<NearbyBody> {
  await page.waitForSelector('.services .band');
  const ref = await apiJson<NearbyBody>(env, `/api/nearby?at=${at[0]},${at[1]}&maxMinutes=15&time=${encodeURIComponent(time)}`);
  expect(ref.time).toBe(time);
  expect(ref.truncated).toBe(false);
  await expect(page.locator('.open-note').textContent()).resolves.toContain(time.slice(11, 16));
  for (const band of [5, 10, 15] as const) {
    const inBand = ref.facilities.filter((f) => f.band === band);
    const expectedFormats = [...new Set(inBand.flatMap((f) => f.formats))];
    const groups = await page.$$eval(`.band[data-band="${band}"] .format-group`, (lis) =>
      lis.map((li) => ({
        format: li.getAttribute('data-format')!,
        name: li.querySelector('.format-name')?.textContent,
        count: li.querySelector('.group-count')?.textContent,
        rows: [...li.querySelectorAll('.service')].map((s) => ({
          id: Number(s.getAttribute('data-facility')),
          name: s.querySelector('.service-name')?.textContent,
          minutes: s.querySelector('.minutes')?.textContent,
          badge: s.querySelector('.open-badge')?.textContent,
        })),
      })),
    );
    expect(groups.map((g) => g.format).sort()).toEqual(expectedFormats.sort());
    for (const g of groups) {
      const want = inBand.filter((f) => f.formats.includes(g.format)); // nearest first, as the API sorts
      expect(g.name).toBe(zhName(g.format));
      expect(num(g.count)).toBe(want.length);
      expect(g.rows.map((r) => r.id)).toEqual(want.slice(0, PREVIEW).map((f) => f.id));
      for (const r of g.rows) {
        const f = want.find((x) => x.id === r.id)!;
        expect(Math.abs(num(r.minutes) - f.minutes)).toBeLessThanOrEqual(0.05 + 1e-9);
        expect(r.badge).toBe(OPEN_TEXT[f.open]);
        expect(r.name).toBe(f.name || '（未命名）');
      }
    }
  }
  const missing = await page.$$eval('.band-missing [data-format]', (s) => s.map((x) => x.getAttribute('data-format')));
  expect(missing.sort()).toEqual(ref.formats.filter((f) => f.nearestMinutes === null).map((f) => f.format).sort());
  return ref;
}

/**
 * The API's set against other answers of the same server: each format's nearest as /api/nearest
 * gives it; the minutes of a few listed facilities as /api/route's seconds; and a few facilities
 * left out are indeed more than 15 minutes away by /api/route (or not reachable at all).
 */
async function expectSetMatchesRoutes(at: [number, number], ref: NearbyBody): Promise<void> {
  const near = await apiJson<NearestBody>(env, `/api/nearest?at=${at[0]},${at[1]}&maxMinutes=15`);
  for (const s of ref.formats) {
    const n = near.formats.find((x) => x.format === s.format)!;
    if (n.nearest === null) expect(s.nearestMinutes).toBeNull();
    else expect(Math.abs(s.nearestMinutes! - n.nearest.minutes)).toBeLessThan(1e-9);
  }
  const listed = ref.facilities;
  for (const f of [listed[0], listed[listed.length >> 1], listed[listed.length - 1]]) {
    const r = await apiJson<RouteBody>(env, `/api/route?from=${at[0]},${at[1]}&facility=${f.id}`);
    expect(Math.abs(r.seconds / 60 - f.minutes)).toBeLessThan(1e-6);
  }
  const ids = new Set(listed.map((f) => f.id));
  // left out: the facilities nearest the point as the crow flies among those not listed
  const others = env.region.facilities
    .filter((f) => !ids.has(f.id))
    .sort((a, b) => metres(at, [a.lon, a.lat]) - metres(at, [b.lon, b.lat]))
    .slice(0, 3);
  for (const f of others) {
    const res = await env.app.inject({ method: 'GET', url: `/api/route?from=${at[0]},${at[1]}&facility=${f.id}` });
    if (res.statusCode === 404) continue; // not reachable on foot: rightly left out
    expect(res.statusCode).toBe(200);
    expect((res.json() as RouteBody).seconds / 60).toBeGreaterThan(15);
  }
}

describe('resident page', () => {
  test('search a Krems street name: results from the extract, picking one lists services by 5/10/15 minutes as the API does', async () => {
    const t = await openPage(env, '/resident', PHONE);
    const { page } = t;
    await waitForMapIdle(page);
    const idleMs = await page.evaluate(() => performance.getEntriesByName('quarter:map-idle')[0]?.startTime ?? NaN);
    console.log(`resident first load (navigation start → map idle): ${Math.round(idleMs)} ms`);
    await expect(page.getByText('© OpenStreetMap contributors').isVisible()).resolves.toBe(true);
    await expect(page.locator('h1').textContent()).resolves.toBe('我的一刻钟生活圈');

    const [searchRes] = await Promise.all([page.waitForResponse((r) => r.url().includes('/api/search?')), page.getByLabel('搜索小区或街道').fill(street.name)]);
    const apiResults = (await searchRes.json()) as Array<{ name: string; kind: string; lon: number; lat: number }>;
    await page.waitForSelector('.search-results button');
    const shown = await page.$$eval('.search-results button', (bs) => bs.map((b) => ({ name: b.querySelector('.result-name')?.textContent, kind: b.getAttribute('data-kind') })));
    expect(shown).toEqual(apiResults.map((r) => ({ name: r.name, kind: r.kind })));
    const hit = apiResults.findIndex((r) => r.kind === 'street' && r.name === street.name);
    expect(hit, `street "${street.name}" among the results`).toBeGreaterThanOrEqual(0);
    // the hit lies on that street as mapped in the extract
    const p = [apiResults[hit].lon, apiResults[hit].lat];
    const gap = Math.min(...street.lines.flatMap((line) => line.slice(1).map((b, i) => toSegment(p, line[i], b))));
    expect(gap).toBeLessThan(5);
    await screenshot(page, 'resident-search');

    const { at, answer } = await nearbyAt(page, () => page.locator('.search-results button').nth(hit).click());
    expect(Math.abs(at[0] - p[0])).toBeLessThan(1e-6);
    expect(Math.abs(at[1] - p[1])).toBeLessThan(1e-6);
    await expect(page.locator('.home-label').textContent()).resolves.toContain(street.name);
    const ref = await expectServicesMatch(page, at, answer.time);
    expect(ref.facilities.length).toBeGreaterThan(0);
    // Krems lies in Austria: the open states are for the Vienna wall clock
    expect(ref.timeZone).toBe('Europe/Vienna');
    await expectSetMatchesRoutes(at, ref);
    await waitForMapIdle(page);
    await screenshot(page, 'resident-services');

    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });

  test('the walking route to a chosen service is drawn and its time and length are those of GET /api/route', async () => {
    const t = await openPage(env, '/resident', PHONE);
    const { page } = t;
    await waitForMapIdle(page);
    await page.getByLabel('搜索小区或街道').fill(street.name);
    await page.waitForSelector('.search-results button[data-kind="street"]');
    const { at, answer } = await nearbyAt(page, () => page.locator('.search-results button[data-kind="street"]').first().click());
    const ref = await expectServicesMatch(page, at, answer.time);

    // the fourth facility listed (or the last, when fewer): not always the nearest
    const count = await page.locator('.service').count();
    expect(count).toBeGreaterThan(0);
    const item = page.locator('.service').nth(Math.min(3, count - 1));
    const targetId = Number(await item.getAttribute('data-facility'));
    const target = ref.facilities.find((f) => f.id === targetId)!;
    expect(target).toBeDefined();
    await item.locator('.service-button').click();
    await expect(item.getAttribute('class')).resolves.toMatch(/selected/);
    await page.waitForSelector('.route-info:not(:empty)');
    await page.waitForFunction(() => /步行/.test(document.querySelector('.route-info')?.textContent ?? ''));
    const route = await apiJson<RouteBody>(env, `/api/route?from=${at[0]},${at[1]}&facility=${target.id}`);

    const info = (await page.locator('.route-info').textContent())!;
    const minutes = Number(/步行\s*([\d.]+)\s*分钟/.exec(info)![1]);
    expect(Math.abs(minutes - route.seconds / 60)).toBeLessThanOrEqual(0.05 + 1e-9);
    const dist = /全程\s*([\d.,]+)\s*(米|公里)/.exec(info)!;
    const shownMetres = num(dist[1]) * (dist[2] === '公里' ? 1000 : 1);
    expect(Math.abs(shownMetres - route.metres)).toBeLessThanOrEqual(dist[2] === '公里' ? 5 : 0.5);

    // geometry: the API's line, drawn; its length summed here is the stated length; no shorter than the crow flies
    const onMap = await page.evaluate(async () => {
      const map = window.__quarter!.map;
      const src = map.getSource('route') as unknown as { getData(): Promise<{ features: Array<{ geometry: unknown }> }> };
      return { features: (await src.getData()).features.map((f) => f.geometry), rendered: map.queryRenderedFeatures({ layers: ['route'] }).length };
    });
    expect(onMap.features).toEqual([route.geometry]);
    await waitForMapIdle(page);
    const rendered = await page.evaluate(() => window.__quarter!.map.queryRenderedFeatures({ layers: ['route'] }).length);
    expect(rendered).toBeGreaterThan(0);
    const c = route.geometry.coordinates;
    const length = c.slice(1).reduce((sum, q, i) => sum + metres(c[i], q), 0);
    expect(Math.abs(length - route.metres) / route.metres).toBeLessThan(0.01);
    expect(route.metres).toBeGreaterThanOrEqual(metres(at, [target.lon, target.lat]) - 1);
    expect(metres(c[0], at)).toBeLessThan(1);
    expect(metres(c[c.length - 1], [target.lon, target.lat])).toBeLessThan(1);
    expect(Math.abs(route.seconds / 60 - target.minutes)).toBeLessThan(1e-6); // the route's time is the listed one
    const hours = await item.locator('.opening-hours').textContent();
    expect(hours).toBe(target.openingHours ? `营业时间：${target.openingHours}` : '未登记营业时间');

    await screenshot(page, 'resident-route');
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });

  test('tapping the map chooses home there; the survey form then appears', async () => {
    const t = await openPage(env, '/resident', PHONE);
    const { page } = t;
    await waitForMapIdle(page);
    // tap the busiest spot of the town: the facility with the most others within 300 m as the crow flies
    const fs = env.region.facilities;
    const around = (x: (typeof fs)[number]): number => fs.filter((y) => metres([x.lon, x.lat], [y.lon, y.lat]) < 300).length;
    const f = fs.map((x) => ({ x, n: around(x) })).sort((a, b) => b.n - a.n || a.x.id - b.x.id)[0].x;
    await page.evaluate(([x, y]) => window.__quarter!.map.jumpTo({ center: [x, y], zoom: 16 }), [f.lon, f.lat] as const);
    await waitForMapIdle(page);
    const box = (await page.locator('.resident-map').boundingBox())!;
    const tap = { x: box.x + box.width / 2 + 20, y: box.y + box.height / 2 + 10 };
    const { at, answer } = await nearbyAt(page, () => page.touchscreen.tap(tap.x, tap.y));
    const expected = await page.evaluate(([x, y]) => window.__quarter!.map.unproject([x, y]).toArray(), [tap.x - box.x, tap.y - box.y] as const);
    expect(Math.abs(at[0] - expected[0])).toBeLessThan(1e-5);
    expect(Math.abs(at[1] - expected[1])).toBeLessThan(1e-5);
    const ref = await expectServicesMatch(page, at, answer.time);
    await expectSetMatchesRoutes(at, ref);

    // there some format has more places than a group shows: "show more" lists them all, nearest first
    const bandOf = (fmt: string) => ref.facilities.filter((x) => x.band !== null && x.formats.includes(fmt));
    const big = ref.facilities.flatMap((x) => x.formats).find((fmt) => [5, 10, 15].some((b) => bandOf(fmt).filter((x) => x.band === b).length > PREVIEW));
    expect(big, 'a format with more than three places in one band').toBeDefined();
    const band = [5, 10, 15].find((b) => bandOf(big!).filter((x) => x.band === b).length > PREVIEW)!;
    const group = page.locator(`.band[data-band="${band}"] .format-group[data-format="${big}"]`);
    await group.locator('.more-button').click();
    const ids = await group.locator('.service').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-facility'))));
    expect(ids).toEqual(bandOf(big!).filter((x) => x.band === band).map((x) => x.id));
    await group.locator('.more-button').scrollIntoViewIfNeeded();
    await screenshot(page, 'resident-nearby');

    const survey = page.locator('section.survey');
    await expect(survey.locator('h2').textContent()).resolves.toBe('满意度调查');
    // the survey itself is tested against a server with a store (scenario-survey.test.ts)
    await page.waitForSelector('section.survey form.survey-form');
    await expect(survey.locator('input[name="survey-overall"][type="radio"]').count()).resolves.toBe(5);
    await screenshot(page, 'resident-tap');
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });
});
