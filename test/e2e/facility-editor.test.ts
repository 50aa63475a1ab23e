/**
 * The facility editor in a real browser against the real server (Krems, in-memory store, a planner
 * account): add a pharmacy by clicking the map, rename and drag it, delete it; a save refused
 * because someone else saved first (409); errors the API names a field for. References: the API's
 * own answers fetched by the test (GET /api/facilities, /api/formats, the facility's history),
 * map positions projected and unprojected by the map itself, and distances computed here.
 */
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiLogin, openPage, screenshot, startE2e, waitForMapIdle, type ApiSession, type E2eEnv, type E2eUser, type TrackedPage } from './helpers.js';

const PLANNER: E2eUser = { name: 'facility-e2e', password: 'correct horse battery 43', role: 'planner' };
/** markup in a name must stay text. */
const NEW_NAME = '<b>社区药房</b> & "e2e"';
const RENAMED = '社区药房（改名）';

interface Fac {
  id: number;
  ref: string;
  version: number;
  name: string;
  formats: string[];
  lon: number;
  lat: number;
  source: string;
}
interface History {
  ref: string;
  version: number;
  removed: boolean;
  edits: Array<{ version: number; kind: string; actor: string | null; data: Record<string, unknown> | null }>;
}

let env: E2eEnv;
let api: ApiSession;
beforeAll(async () => {
  env = await startE2e({ store: { users: [PLANNER] } });
  api = await apiLogin(env, PLANNER);
}, 300_000);
afterAll(async () => {
  await env?.close();
});

const facilities = async (): Promise<Fac[]> => (await api.get<{ facilities: Fac[] }>('/api/facilities?limit=5000')).facilities;
const formatCount = async (id: string): Promise<number> => (await api.get<{ formats: Array<{ id: string; count: number }> }>('/api/formats')).formats.find((f) => f.id === id)!.count;
const realErrors = (t: TrackedPage): string[] => t.errors.filter((e) => !/status of (400|409)/.test(e));

/** Great-circle metres (spherical Earth), written here independently of src/engine/geo.ts. */
function metres(a: readonly number[], b: readonly number[]): number {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h));
}

const project = (page: Page, at: readonly number[]) =>
  page.evaluate(([x, y]) => {
    const p = window.__quarter!.map.project([x, y]);
    return { x: p.x, y: p.y };
  }, at);
const unproject = (page: Page, px: { x: number; y: number }) => page.evaluate(([x, y]) => window.__quarter!.map.unproject([x, y]).toArray(), [px.x, px.y] as const);

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

/**
 * Where the new pharmacy goes: a junction of the main walking network near the middle of town
 * whose nearest pharmacy is 400–900 m away in a straight line, so a pharmacy added there becomes
 * the nearest one of a point beside it.
 */
function siteForPharmacy(): [number, number] {
  const r = env.region;
  const pharmacies = r.facilities.filter((f) => f.formats.includes('pharmacy'));
  const cx = r.facilities.reduce((a, f) => a + f.lon, 0) / r.facilities.length;
  const cy = r.facilities.reduce((a, f) => a + f.lat, 0) / r.facilities.length;
  let best: { at: [number, number]; d: number } | null = null;
  const g = r.graph;
  for (let u = 0; u < g.nodeCount; u++) {
    if (g.nodeComponent[u] !== 0) continue;
    const at: [number, number] = [g.nodeCoords[2 * u], g.nodeCoords[2 * u + 1]];
    const nearest = Math.min(...pharmacies.map((f) => metres(at, [f.lon, f.lat])));
    const nearestAny = Math.min(...r.facilities.map((f) => metres(at, [f.lon, f.lat])));
    if (nearest < 400 || nearest > 900 || nearestAny < 40) continue;
    const d = metres(at, [cx, cy]);
    if (!best || d < best.d) best = { at, d };
  }
  if (!best) throw new Error('no junction in Krems is 400–900 m from a pharmacy');
  return best.at;
}

const isWrite = (method: string, path: RegExp) => (r: Response) => r.request().method() === method && path.test(new URL(r.url()).pathname);
const legendCount = async (page: Page, format: string): Promise<number> => Number(await page.locator(`.legend label[data-format="${format}"] .count`).textContent());
const nearestPharmacy = (page: Page) => page.locator('.nearest-list li[data-format="pharmacy"] .facility-name').textContent();

describe('facility editor', () => {
  test('add a pharmacy on the map, rename and drag it, delete it: the API, legend, map and analysis follow; three audited edits', async () => {
    const tracked = await signedInPlanner();
    const { page } = tracked;
    const site = siteForPharmacy();
    await page.evaluate(([x, y]) => window.__quarter!.map.jumpTo({ center: [x, y], zoom: 17 }), site);
    await waitForMapIdle(page);
    const pharmaciesBefore = await formatCount('pharmacy');
    await page.waitForFunction(() => document.querySelector('.legend label[data-format="pharmacy"] .count') !== null);
    expect(await legendCount(page, 'pharmacy')).toBe(pharmaciesBefore);

    // an analysis open at the site: its nearest pharmacy is an existing one
    const sitePx = await project(page, site);
    await page.mouse.click(sitePx.x, sitePx.y);
    await page.waitForSelector('.nearest-list li[data-format="pharmacy"]');
    const nearestBefore = await nearestPharmacy(page);

    // the editor, keyboard first: the tool button is a labelled button that Enter opens
    const toolButton = page.locator('.tool-buttons button[data-tool="facilities"]');
    await toolButton.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('.facility-editor');
    await expect(toolButton.getAttribute('aria-pressed')).resolves.toBe('true');
    await page.waitForFunction(() => document.activeElement?.id === 'facility-editor-heading');

    // add: a click places it
    await page.getByRole('radio', { name: '新增设施' }).check();
    const click = { x: sitePx.x + 12, y: sitePx.y - 8 };
    await page.mouse.click(click.x, click.y);
    const clicked = await unproject(page, click);
    const lonInput = page.locator('input[name="facility-lon"]');
    const latInput = page.locator('input[name="facility-lat"]');
    expect(Math.abs(Number(await lonInput.inputValue()) - clicked[0])).toBeLessThan(1e-6);
    expect(Math.abs(Number(await latInput.inputValue()) - clicked[1])).toBeLessThan(1e-6);
    // the marker moves 5 m east with the arrow key, and back
    const marker = page.locator('[data-testid="facility-marker"]');
    await marker.focus();
    await page.keyboard.press('ArrowRight');
    expect(metres(clicked, [Number(await lonInput.inputValue()), Number(await latInput.inputValue())])).toBeCloseTo(5, 0);
    await page.keyboard.press('ArrowLeft');

    // no format: refused here, shown at the formats, nothing sent
    await page.getByLabel('名称', { exact: true }).fill(NEW_NAME);
    await page.locator('[data-action="save"]').click();
    await expect(page.locator('[data-field-error="formats"]').textContent()).resolves.toBe('请至少选择一种业态。');

    await page.locator('input[name="facility-format"][value="pharmacy"]').check();
    const posted = page.waitForResponse(isWrite('POST', /^\/api\/facilities$/));
    await page.locator('[data-action="save"]').click();
    expect((await posted).status()).toBe(201);
    await page.waitForSelector('[data-testid="facility-facts"]');
    const ref = (await page.locator('[data-testid="facility-facts"]').getAttribute('data-ref'))!;
    expect(ref).toMatch(/^added-[0-9a-f]{12}$/);

    let stored = (await facilities()).find((f) => f.ref === ref)!;
    expect(stored.name).toBe(NEW_NAME);
    expect(stored.formats).toEqual(['pharmacy']);
    expect(stored.version).toBe(1);
    expect(metres([stored.lon, stored.lat], clicked)).toBeLessThan(1);
    // the name shows as text
    await expect(page.locator('.facility-facts .facility-name').textContent()).resolves.toBe(NEW_NAME);
    await expect(page.locator('.facility-editor b').count()).resolves.toBe(0);
    await expect(page.locator('[data-testid="facility-version"]').textContent()).resolves.toBe('1');
    // the legend, the map's facility layer and the open analysis follow
    expect(await formatCount('pharmacy')).toBe(pharmaciesBefore + 1);
    await page.waitForFunction((n) => Number(document.querySelector('.legend label[data-format="pharmacy"] .count')?.textContent) === n, pharmaciesBefore + 1);
    const drawn = await page.evaluate(async (name) => {
      const src = window.__quarter!.map.getSource('facilities') as unknown as { getData(): Promise<{ features: Array<{ properties: { name: string } }> }> };
      return (await src.getData()).features.filter((f) => f.properties.name === name).length;
    }, NEW_NAME);
    expect(drawn).toBe(1);
    await page.waitForFunction((name) => document.querySelector('.nearest-list li[data-format="pharmacy"] .facility-name')?.textContent === name, NEW_NAME);
    await waitForMapIdle(page);
    await screenshot(page, 'facility-added');

    // rename and drag the marker 50 px right, 30 px down: one save, one edit
    await page.getByLabel('名称', { exact: true }).fill(RENAMED);
    const box = (await marker.boundingBox())!;
    const start = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const from = await project(page, [stored.lon, stored.lat]);
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(start.x + 5 * i, start.y + 3 * i);
    await page.mouse.up();
    const expectedAt = await unproject(page, { x: from.x + 50, y: from.y + 30 });
    const shown = [Number(await lonInput.inputValue()), Number(await latInput.inputValue())];
    expect(metres(shown, expectedAt)).toBeLessThan(1);
    const patched = page.waitForResponse(isWrite('PATCH', new RegExp(`^/api/facilities/${ref}$`)));
    await page.locator('[data-action="save"]').click();
    expect((await patched).status()).toBe(200);
    await page.waitForFunction(() => document.querySelector('[data-testid="facility-version"]')?.textContent === '2');
    stored = (await facilities()).find((f) => f.ref === ref)!;
    expect(stored.name).toBe(RENAMED);
    expect(stored.version).toBe(2);
    expect(metres([stored.lon, stored.lat], shown)).toBeLessThan(1);
    expect(metres([stored.lon, stored.lat], clicked)).toBeGreaterThan(5);
    await page.waitForFunction((name) => document.querySelector('.nearest-list li[data-format="pharmacy"] .facility-name')?.textContent === name, RENAMED);

    // delete, after a confirmation
    await page.locator('[data-action="delete"]').click();
    await expect(page.locator('.facility-delete .notice').textContent()).resolves.toBe(`确定删除“${RENAMED}”？删除会记入审计日志。`);
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-action'))).resolves.toBe('confirm-delete');
    const deleted = page.waitForResponse(isWrite('DELETE', new RegExp(`^/api/facilities/${ref}$`)));
    await page.locator('[data-action="confirm-delete"]').click();
    expect((await deleted).status()).toBe(200);
    await expect(page.locator('[data-testid="facility-notice"]').textContent()).resolves.toBe(`已删除设施“${RENAMED}”。`);
    expect((await facilities()).some((f) => f.ref === ref)).toBe(false);
    expect(await formatCount('pharmacy')).toBe(pharmaciesBefore);
    await page.waitForFunction((n) => Number(document.querySelector('.legend label[data-format="pharmacy"] .count')?.textContent) === n, pharmaciesBefore);
    await page.waitForFunction((name) => document.querySelector('.nearest-list li[data-format="pharmacy"] .facility-name')?.textContent === name, nearestBefore);

    // the audit trail: add, edit, delete by this planner
    const history = await api.get<History>(`/api/facilities/${ref}/history`);
    expect(history.removed).toBe(true);
    expect(history.edits.map((e) => [e.version, e.kind, e.actor])).toEqual([
      [1, 'add', PLANNER.name],
      [2, 'edit', PLANNER.name],
      [3, 'delete', PLANNER.name],
    ]);
    expect(history.edits[1].data).toMatchObject({ name: RENAMED });
    expect(realErrors(tracked)).toEqual([]);
    await page.context().close();
  });

  test('a save after someone else saved is refused (409): the page says so and shows the facility as it now is; API field errors at their fields', async () => {
    const tracked = await signedInPlanner();
    const { page } = tracked;
    // an imported facility with a name, alone within 30 m so a click on it is unambiguous
    const all = await facilities();
    const target = all.find((f) => /^\d+$/.test(f.ref) && f.name !== '' && all.every((o) => o === f || metres([o.lon, o.lat], [f.lon, f.lat]) > 30))!;
    expect(target).toBeDefined();
    await page.evaluate(([x, y]) => window.__quarter!.map.jumpTo({ center: [x, y], zoom: 17 }), [target.lon, target.lat]);
    await waitForMapIdle(page);
    await page.locator('.tool-buttons button[data-tool="facilities"]').click();
    await page.waitForSelector('.facility-editor');
    await waitForMapIdle(page);

    // a click on its dot selects it
    const px = await project(page, [target.lon, target.lat]);
    await page.mouse.click(px.x, px.y);
    await page.waitForSelector('[data-testid="facility-facts"]');
    await expect(page.locator('[data-testid="facility-facts"]').getAttribute('data-ref')).resolves.toBe(target.ref);
    await expect(page.locator('.facility-facts .facility-name').textContent()).resolves.toBe(target.name);
    await expect(page.locator('[data-testid="facility-version"]').textContent()).resolves.toBe(String(target.version));

    // someone else renames it meanwhile
    const other = await api.request('PATCH', `/api/facilities/${target.ref}`, { version: target.version, name: '别人改的名字' });
    expect(other.status).toBe(200);
    const theirs = JSON.parse(other.body) as Fac;

    await page.getByLabel('名称', { exact: true }).fill('我改的名字');
    const refused = page.waitForResponse(isWrite('PATCH', new RegExp(`^/api/facilities/${target.ref}$`)));
    await page.locator('[data-action="save"]').click();
    expect((await refused).status()).toBe(409);
    await page.waitForSelector('[data-testid="facility-notice"]');
    await expect(page.locator('[data-testid="facility-notice"]').textContent()).resolves.toBe(
      `此设施刚被他人修改（现为第 ${theirs.version} 版），已重新载入最新数据，请核对后再保存。`,
    );
    await page.waitForFunction((v) => document.querySelector('[data-testid="facility-version"]')?.textContent === String(v), theirs.version);
    await expect(page.getByLabel('名称', { exact: true }).inputValue()).resolves.toBe('别人改的名字');
    const now = (await facilities()).find((f) => f.ref === target.ref)!;
    expect(now.name).toBe('别人改的名字'); // the refused save changed nothing
    expect(now.version).toBe(theirs.version);
    await waitForMapIdle(page);
    await screenshot(page, 'facility-conflict');

    // fields the API refuses: a direction-changing character in the name, then a point outside the region
    const count = (await facilities()).length;
    await page.getByRole('radio', { name: '新增设施' }).check();
    await page.getByLabel('名称', { exact: true }).fill('药店\u202Eevil');
    await page.locator('input[name="facility-format"][value="pharmacy"]').check();
    await page.locator('input[name="facility-lon"]').fill('0');
    await page.locator('input[name="facility-lat"]').fill('0');
    let posted = page.waitForResponse(isWrite('POST', /^\/api\/facilities$/));
    await page.locator('[data-action="save"]').click();
    expect((await posted).status()).toBe(400);
    await expect(page.locator('[data-field-error="name"]').textContent()).resolves.toMatch(/direction-changing character/);
    await expect(page.getByLabel('名称', { exact: true }).getAttribute('aria-invalid')).resolves.toBe('true');
    await page.getByLabel('名称', { exact: true }).fill('药店');
    posted = page.waitForResponse(isWrite('POST', /^\/api\/facilities$/));
    await page.locator('[data-action="save"]').click();
    expect((await posted).status()).toBe(400);
    await expect(page.locator('[data-field-error="position"]').textContent()).resolves.toMatch(/outside region/);
    await expect(page.locator('[data-field-error="name"]').count()).resolves.toBe(0);
    expect((await facilities()).length).toBe(count);
    expect(realErrors(tracked)).toEqual([]);
    await page.context().close();
  });
});
