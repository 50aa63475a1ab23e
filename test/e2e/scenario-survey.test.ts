/**
 * The scenario editor and the residents' survey in a real browser against the real server
 * (Krems, in-memory store, a planner account, survey limit 2 per hour). References: the API's
 * own answers fetched by the test (the scenario as stored, POST /api/scenarios/:id/evaluate,
 * GET /api/survey/summary), the store's rows, map positions projected by the map itself, and
 * H3 cells computed here.
 */
import { latLngToCell } from 'h3-js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiLogin, openPage, screenshot, startE2e, waitForMapIdle, type ApiSession, type E2eEnv, type E2eUser, type TrackedPage } from './helpers.js';

const PLANNER: E2eUser = { name: 'planner-e2e', password: 'correct horse battery 42', role: 'planner' };
const SURVEYS_PER_HOUR = 2;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const num = (text: string | null | undefined): number => Number((text ?? '').replace(/[^0-9.\-]/g, ''));
const realErrors = (t: TrackedPage): string[] => t.errors.filter((e) => !/status of (404|409|429)/.test(e));

interface Evaluation {
  coverage: Array<{ format: string; before: number | null; after: number | null; delta: number | null; gained: { population: number }; lost: { population: number } }>;
  headline: { residentsGaining: number; residentsLosing: number };
  changed: { residences: number; geojson: { features: unknown[] } };
}
interface ScenarioBody {
  id: number;
  version: number;
  name: string;
  edits: Array<{ id: string; type: string; lon?: number; lat?: number; from?: number[]; to?: number[]; at?: number[]; formats?: string[] }>;
}

let env: E2eEnv;
let api: ApiSession;
beforeAll(async () => {
  env = await startE2e({ store: { users: [PLANNER] }, rateLimit: { surveysPerHour: SURVEYS_PER_HOUR } });
  api = await apiLogin(env, PLANNER);
}, 300_000);
afterAll(async () => {
  await env?.close();
});

async function signedInPlanner(): Promise<TrackedPage> {
  const tracked = await openPage(env, '/planner');
  const { page } = tracked;
  await waitForMapIdle(page);
  await page.locator('.login > button').click();
  await page.getByLabel('用户名').fill(PLANNER.name);
  await page.getByLabel('密码').fill(PLANNER.password);
  await page.locator('#login-form button[type="submit"]').click();
  await page.waitForSelector('[data-testid="login-user"]');
  return tracked;
}

const project = (page: Page, at: readonly number[]) =>
  page.evaluate(([x, y]) => {
    const p = window.__quarter!.map.project([x, y]);
    return { x: p.x, y: p.y };
  }, at);
const unproject = (page: Page, px: { x: number; y: number }) => page.evaluate(([x, y]) => window.__quarter!.map.unproject([x, y]).toArray(), [px.x, px.y] as const);

/** The scenario's version shown by the page changes to something other than `from`. */
async function waitSaved(page: Page, from: number): Promise<number> {
  await page.waitForFunction((v) => {
    const el = document.querySelector('.scenario-meta');
    return el !== null && Number(el.getAttribute('data-version')) !== v && !document.querySelector('.diff [data-state="busy"]');
  }, from);
  return Number(await page.locator('.scenario-meta').getAttribute('data-version'));
}

/** The diff panel against the API's evaluation of the stored scenario. */
async function expectDiffMatches(page: Page, id: number): Promise<Evaluation> {
  await page.waitForSelector('.diff-headline');
  await page.waitForFunction(() => !document.querySelector('.diff [data-state="busy"]'));
  const { evaluation: ev } = await api.post<{ evaluation: Evaluation }>(`/api/scenarios/${id}/evaluate`, {});
  const value = (k: string) => page.locator(`.diff-headline [data-indicator="${k}"] dd`).textContent();
  expect(num(await value('gaining'))).toBe(Math.round(ev.headline.residentsGaining));
  expect(num(await value('losing'))).toBe(Math.round(ev.headline.residentsLosing));
  expect(num(await value('changedHomes'))).toBe(ev.changed.residences);
  const changed = ev.coverage.filter((c) => (c.delta ?? 0) !== 0 || c.gained.population > 0 || c.lost.population > 0);
  const rows = await page.$$eval('.diff-table tbody tr', (trs) =>
    trs.map((tr) => ({
      format: tr.getAttribute('data-format'),
      before: tr.querySelector('.before')?.textContent,
      after: tr.querySelector('.after')?.textContent,
      gained: tr.querySelector('.gained')?.textContent,
      lost: tr.querySelector('.lost')?.textContent,
    })),
  );
  expect(rows.map((r) => r.format)).toEqual(changed.map((c) => c.format));
  for (const [i, c] of changed.entries()) {
    expect(Math.abs(num(rows[i].before) - (c.before ?? 0) * 100)).toBeLessThanOrEqual(0.05 + 1e-9);
    expect(Math.abs(num(rows[i].after) - (c.after ?? 0) * 100)).toBeLessThanOrEqual(0.05 + 1e-9);
    expect(num(rows[i].gained)).toBe(Math.round(c.gained.population));
    expect(num(rows[i].lost)).toBe(Math.round(c.lost.population));
  }
  // the changed area on the map is the evaluation's
  const drawn = await page.evaluate(async () => {
    const src = window.__quarter!.map.getSource('changed-area') as unknown as { getData(): Promise<{ features: unknown[] }> };
    return (await src.getData()).features.length;
  });
  expect(drawn).toBe(ev.changed.geojson.features.length);
  return ev;
}

/** A home whose nearest pharmacy is beyond its 8 minutes but within 25: a new pharmacy there gains residents. */
async function homeWithoutPharmacy(): Promise<[number, number]> {
  const r = env.region.residences;
  let best: { at: [number, number]; pop: number } | null = null;
  for (let i = 0; i < r.count; i += 7) {
    const res = await env.app.inject({ method: 'GET', url: `/api/nearest?at=${r.lon[i].toFixed(7)},${r.lat[i].toFixed(7)}&maxMinutes=30` });
    if (res.statusCode !== 200) continue;
    const m = (res.json() as { formats: Array<{ format: string; nearest: { minutes: number } | null }> }).formats.find((f) => f.format === 'pharmacy')?.nearest?.minutes;
    if (m !== undefined && m > 10 && m < 25 && (!best || r.population[i] > best.pop)) best = { at: [r.lon[i], r.lat[i]], pop: r.population[i] };
  }
  if (!best) throw new Error('no home in Krems lacks a pharmacy within 10 minutes');
  return best.at;
}

describe('scenario editor', () => {
  test('create a scenario; a click adds a pharmacy and the diff equals POST /evaluate; drag moves it; a path and a closure are drawn; a concurrent change is reported and reloaded', async () => {
    // a name that is markup stays text
    const hostile = '<img src=x onerror="window.__injected=1"><b>方案</b>';
    await api.post('/api/scenarios', { name: hostile, edits: [] });
    const t = await signedInPlanner();
    const { page } = t;
    await page.locator('.tool-buttons button[data-tool="scenario"]').click();
    await page.waitForSelector('.scenario-panel select[name="scenario"] option:nth-child(2)', { state: 'attached' });
    await expect(page.locator('select[name="scenario"] option').allTextContents()).resolves.toContain(`${hostile} · 0 项修改`);
    await expect(page.locator('.scenario-panel img, .scenario-panel b').count()).resolves.toBe(0);
    await expect(page.evaluate(() => (window as unknown as { __injected?: number }).__injected)).resolves.toBeUndefined();

    // create
    await page.locator('input[name="scenario-name"]').fill('步行改善 e2e');
    const created = page.waitForResponse((r) => r.url().endsWith('/api/scenarios') && r.request().method() === 'POST');
    await page.getByRole('button', { name: '新建' }).click();
    const { id } = (await (await created).json()) as { id: number };
    await page.waitForFunction((want) => (document.querySelector('select[name="scenario"]') as HTMLSelectElement | null)?.value === String(want), id);
    await page.waitForSelector('.scenario-meta');
    // the writes carried the CSRF token: the scenario exists, with no edits
    expect((await api.get<ScenarioBody>(`/api/scenarios/${id}`)).edits).toEqual([]);

    // add a pharmacy by clicking the map at a home that lacks one
    const home = await homeWithoutPharmacy();
    await page.evaluate(([x, y]) => window.__quarter!.map.jumpTo({ center: [x, y], zoom: 16 }), home);
    await waitForMapIdle(page);
    await page.getByRole('radio', { name: '新增设施' }).check();
    await page.locator('select[name="add-format"]').selectOption('pharmacy');
    let version = Number(await page.locator('.scenario-meta').getAttribute('data-version'));
    const px = await project(page, home);
    await page.mouse.click(px.x, px.y);
    version = await waitSaved(page, version);
    let stored = await api.get<ScenarioBody>(`/api/scenarios/${id}`);
    expect(stored.version).toBe(version);
    expect(stored.edits.length).toBe(1);
    const added = stored.edits[0];
    expect(added.type).toBe('add_facility');
    expect(added.formats).toEqual(['pharmacy']);
    const clicked = await unproject(page, px);
    expect(Math.abs(added.lon! - clicked[0])).toBeLessThan(1e-6);
    expect(Math.abs(added.lat! - clicked[1])).toBeLessThan(1e-6);
    const ev = await expectDiffMatches(page, id);
    expect(ev.headline.residentsGaining).toBeGreaterThan(0);
    expect(ev.coverage.find((c) => c.format === 'pharmacy')!.gained.population).toBeGreaterThan(0);
    await expect(page.locator('.edit-list li').count()).resolves.toBe(1);
    await waitForMapIdle(page);
    await screenshot(page, 'scenario-added');

    // drag the new facility's marker 60 px right and 40 px down
    const marker = page.locator(`.scenario-marker[data-edit="${added.id}"]`);
    const box = (await marker.boundingBox())!;
    const start = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const startAt = await unproject(page, start);
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(start.x + 6 * i, start.y + 4 * i);
    await page.mouse.up();
    version = await waitSaved(page, version);
    stored = await api.get<ScenarioBody>(`/api/scenarios/${id}`);
    const dropped = await unproject(page, { x: start.x + 60, y: start.y + 40 });
    const moved = stored.edits.find((e) => e.id === added.id)!;
    // the marker moved by the drag's offset: its new place is the old one shifted as the pointer was
    expect(Math.abs(moved.lon! - (added.lon! + dropped[0] - startAt[0]))).toBeLessThan(2e-6);
    expect(Math.abs(moved.lat! - (added.lat! + dropped[1] - startAt[1]))).toBeLessThan(2e-6);
    expect(moved.lon).not.toBe(added.lon);
    await expectDiffMatches(page, id);

    // draw a walking path with two clicks
    await page.getByRole('radio', { name: '绘制步道' }).check();
    const a = { x: px.x - 120, y: px.y + 80 };
    const b = { x: px.x - 40, y: px.y + 140 };
    await page.mouse.click(a.x, a.y);
    await expect(page.locator('.tool-hint').textContent()).resolves.toBe('再点击步道的终点。');
    await page.mouse.click(b.x, b.y);
    version = await waitSaved(page, version);
    stored = await api.get<ScenarioBody>(`/api/scenarios/${id}`);
    const link = stored.edits.find((e) => e.type === 'add_link')!;
    const [aAt, bAt] = [await unproject(page, a), await unproject(page, b)];
    expect(link.from![0]).toBeCloseTo(aAt[0], 6);
    expect(link.from![1]).toBeCloseTo(aAt[1], 6);
    expect(link.to![0]).toBeCloseTo(bAt[0], 6);
    expect(link.to![1]).toBeCloseTo(bAt[1], 6);
    await waitForMapIdle(page);
    const linkDrawn = await page.evaluate(() => window.__quarter!.map.queryRenderedFeatures({ layers: ['scenario-links'] }).length);
    expect(linkDrawn).toBeGreaterThan(0);

    // close the path nearest a click
    await page.getByRole('radio', { name: '封闭路段' }).check();
    const c = { x: px.x + 100, y: px.y - 90 };
    await page.mouse.click(c.x, c.y);
    version = await waitSaved(page, version);
    stored = await api.get<ScenarioBody>(`/api/scenarios/${id}`);
    const closure = stored.edits.find((e) => e.type === 'close_link')!;
    const cAt = await unproject(page, c);
    expect(closure.at![0]).toBeCloseTo(cAt[0], 6);
    expect(closure.at![1]).toBeCloseTo(cAt[1], 6);
    await expect(page.locator('.edit-list li').count()).resolves.toBe(3);
    await expectDiffMatches(page, id);
    await waitForMapIdle(page);
    await screenshot(page, 'scenario-edits');

    // someone else renames it meanwhile: the next edit is refused (409), the page says so and reloads
    const other = await api.request('PATCH', `/api/scenarios/${id}`, { version, name: '别人改过' });
    expect(other.status).toBe(200);
    const theirs = JSON.parse(other.body) as ScenarioBody;
    await page.getByRole('radio', { name: '关闭出入口' }).check();
    const conflict = page.waitForResponse((r) => r.url().endsWith(`/api/scenarios/${id}`) && r.request().method() === 'PATCH');
    await page.mouse.click(px.x + 30, px.y + 30);
    expect((await conflict).status()).toBe(409);
    await page.waitForSelector('.scenario-panel .notice');
    await expect(page.locator('.scenario-panel .notice').textContent()).resolves.toBe('此情景已被他人修改，已重新加载最新版本，请重新进行您的修改。');
    await page.waitForFunction((v) => document.querySelector('.scenario-meta')?.getAttribute('data-version') === String(v), theirs.version);
    await expect(page.locator('.edit-list li').count()).resolves.toBe(theirs.edits.length);
    await expect(page.locator('select[name="scenario"] option:checked').textContent()).resolves.toContain('别人改过');
    expect((await api.get<ScenarioBody>(`/api/scenarios/${id}`)).edits.length).toBe(3); // the refused edit was not saved

    // undoing the pharmacy removes it (and its gains)
    await page.getByRole('button', { name: /^撤销：新增药店/ }).click();
    await waitSaved(page, theirs.version);
    stored = await api.get<ScenarioBody>(`/api/scenarios/${id}`);
    expect(stored.edits.some((e) => e.type === 'add_facility')).toBe(false);
    await expect(page.locator('.scenario-marker').count()).resolves.toBe(0);
    await expectDiffMatches(page, id);
    expect(realErrors(t)).toEqual([]);
    await page.context().close();
  });
});

describe('residents’ survey', () => {
  /** Choose home by tapping the map a little off its centre; the point the page asked about. */
  async function tapHome(page: Page, dx: number): Promise<[number, number]> {
    const fs = env.region.facilities;
    const cx = fs.reduce((a, f) => a + f.lon, 0) / fs.length;
    const cy = fs.reduce((a, f) => a + f.lat, 0) / fs.length;
    // the form below may have scrolled the map out of view
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.evaluate(([x, y]) => window.__quarter!.map.jumpTo({ center: [x, y], zoom: 16 }), [cx, cy] as const);
    await waitForMapIdle(page);
    const box = (await page.locator('.resident-map').boundingBox())!;
    const [req] = await Promise.all([page.waitForRequest((r) => r.url().includes('/api/nearby?')), page.touchscreen.tap(box.x + box.width / 2 + dx, box.y + box.height / 2 + 10)]);
    const at = new URL(req.url()).searchParams.get('at')!.split(',').map(Number);
    await page.waitForSelector('.survey-form');
    return [at[0], at[1]];
  }

  interface SummaryBody {
    target: { value: number };
    total: { count: number };
    zones: Array<{ zone: string | null; count: number; meanOverall: number; shareSatisfied: number }>;
  }

  test('after choosing home: overall 1–5 with labels, per-format ratings, a counted comment; an answer is stored anonymously; the rate limit is explained politely; planners see satisfaction per zone against 90 %', async () => {
    const t = await openPage(env, '/resident', PHONE);
    const { page } = t;
    await waitForMapIdle(page);
    await expect(page.locator('section.survey').textContent()).resolves.toContain('选择您家的位置后即可填写满意度问卷。');
    const home = await tapHome(page, 20);
    await page.waitForSelector('.service-bands .band');

    // the form: overall 1–5 labelled, then up to three formats near home
    const overall = page.locator('fieldset[data-question="overall"]');
    await expect(overall.locator('legend').textContent()).resolves.toBe('您对家附近一刻钟生活圈的总体满意度');
    const labels = await overall.locator('label').allTextContents();
    expect(labels.map((l) => l.replace(/\s+/g, ''))).toEqual(['1很不满意', '2不满意', '3一般', '4满意', '5很满意']);
    const perFormat = await page.$$eval('.survey-form fieldset[data-question]:not([data-question="overall"])', (fs) => fs.map((f) => f.getAttribute('data-question')!));
    expect(perFormat.length).toBeGreaterThan(0);
    expect(perFormat.length).toBeLessThanOrEqual(3);
    // they are the nearest formats, nearest first
    const groupsShown = await page.$$eval('.service-bands .format-group', (gs) => gs.map((g) => ({ f: g.getAttribute('data-format')!, m: Math.min(...[...g.querySelectorAll('.service')].map((li) => Number(li.getAttribute('data-minutes')))) })));
    const nearestShown = new Map<string, number>();
    for (const { f, m } of groupsShown) nearestShown.set(f, Math.min(m, nearestShown.get(f) ?? Infinity));
    expect(perFormat).toEqual([...nearestShown].sort((a, b) => a[1] - b[1]).slice(0, 3).map(([f]) => f));

    // sending without the overall rating is refused by the page
    await page.getByRole('button', { name: '提交' }).click();
    await expect(page.locator('.survey-form [role="alert"]').textContent()).resolves.toBe('请选择总体满意度。');

    await overall.getByLabel('4').check();
    await page.locator(`fieldset[data-question="${perFormat[0]}"]`).getByLabel('5').check();
    const comment = '步行很方便 <b>不是标记</b>';
    await page.getByLabel('意见和建议（可选）').fill(comment);
    await expect(page.locator('#survey-counter').textContent()).resolves.toBe(`${[...comment].length}/500 字`);
    await expect(page.locator('textarea[name="survey-comment"]').getAttribute('maxlength')).resolves.toBe('500');

    const before = await api.get<SummaryBody>('/api/survey/summary');
    const posted = page.waitForResponse((r) => r.url().endsWith('/api/survey'));
    await page.getByRole('button', { name: '提交' }).click();
    const res = await posted;
    expect(res.status()).toBe(201);
    // anonymous: no session cookie went with it, and the body is only the answer
    expect(await res.request().headerValue('cookie')).toBeNull();
    await expect(page.locator('.survey-thanks').textContent()).resolves.toBe('感谢您的参与！您的意见已收到。');
    const after = await api.get<SummaryBody>('/api/survey/summary');
    expect(after.total.count).toBe(before.total.count + 1);
    const rows = await env.store!.listSurveyResponses(env.region.meta.name);
    const mine = rows[rows.length - 1];
    expect(mine.overall).toBe(4);
    expect(mine.perFormat).toEqual({ [perFormat[0]]: 5 });
    expect(mine.comment).toBe(comment);
    expect(mine.zone).toBe(latLngToCell(home[1], home[0], 8));
    await screenshot(page, 'resident-survey-thanks');

    // the second answer from this client is taken, the third meets the limit: said politely
    await tapHome(page, -40);
    await page.locator('fieldset[data-question="overall"]').getByLabel('2').check();
    await page.getByRole('button', { name: '提交' }).click();
    await page.waitForSelector('.survey-thanks');
    await tapHome(page, 60);
    await page.locator('fieldset[data-question="overall"]').getByLabel('5').check();
    const limited = page.waitForResponse((r) => r.url().endsWith('/api/survey'));
    await page.getByRole('button', { name: '提交' }).click();
    expect((await limited).status()).toBe(429);
    await expect(page.locator('.survey-form .notice').textContent()).resolves.toBe('您刚刚已提交过，请稍后再试。感谢您的耐心。');
    await expect(page.locator('.survey-form [role="alert"]').count()).resolves.toBe(0);
    await screenshot(page, 'resident-survey-limited');
    expect((await api.get<SummaryBody>('/api/survey/summary')).total.count).toBe(before.total.count + SURVEYS_PER_HOUR);
    expect(realErrors(t)).toEqual([]);
    await page.context().close();

    // the planner's dashboard: one row per zone as the API summarises, the 90 % target drawn
    const p = await signedInPlanner();
    await p.page.locator('.tool-buttons button[data-tool="survey"]').click();
    await p.page.waitForSelector('.survey-table tbody tr');
    const summary = await api.get<SummaryBody>('/api/survey/summary');
    expect(summary.target.value).toBe(0.9);
    const shown = await p.page.$$eval('.survey-table tbody tr', (trs) =>
      trs.map((tr) => ({ zone: tr.getAttribute('data-zone'), count: tr.querySelector('.count')?.textContent, mean: tr.querySelector('.mean')?.textContent, share: tr.querySelector('.share')?.firstChild?.textContent, meets: tr.getAttribute('data-meets') })),
    );
    expect(shown.map((s) => s.zone)).toEqual(summary.zones.map((z) => z.zone ?? ''));
    for (const [i, z] of summary.zones.entries()) {
      expect(num(shown[i].count)).toBe(z.count);
      expect(Math.abs(num(shown[i].mean) - z.meanOverall)).toBeLessThanOrEqual(0.005 + 1e-9);
      expect(Math.abs(num(shown[i].share) - z.shareSatisfied * 100)).toBeLessThanOrEqual(0.05 + 1e-9);
      expect(shown[i].meets).toBe(String(z.shareSatisfied >= 0.9));
    }
    await p.page.waitForSelector('.survey-chart svg');
    await expect(p.page.locator('.survey-chart svg').textContent()).resolves.toContain('目标 90%');
    await screenshot(p.page, 'planner-survey');
    expect(realErrors(p)).toEqual([]);
    await p.page.context().close();
  });
});
