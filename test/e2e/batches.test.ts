/**
 * The batch panel in a real browser against the real server (Krems, in-memory store, a planner).
 * Batches are written straight into the store here, so the references are the values written by
 * hand (counts, mean progress, summary cells worked out below) and the store's own records read
 * back — not the panel's or the API's code. A job moved to done in the store while the panel is
 * open must show up without a reload; the CSV link must download rows equal to the store's.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AssessSummary, ImportSummary } from '../../src/batch/job-kinds.js';
import type { QuarterStore } from '../../src/store/store.js';
import { parseCsv } from '../cli/helpers.js';
import { openPage, screenshot, startE2e, waitForMapIdle, type E2eEnv, type E2eUser, type TrackedPage } from './helpers.js';

const PLANNER: E2eUser = { name: 'planner-batches', password: 'correct horse battery 42', role: 'planner' };
const HOSTILE_FILE = '<img src=x onerror="window.__injected=1">.quarter';
const STATES = ['queued', 'running', 'done', 'failed'] as const;
const STATE_ZH = { queued: '排队', running: '运行中', done: '完成', failed: '失败' } as const;
const num = (text: string | null | undefined): number => Number((text ?? '').replace(/[^0-9.\-]/g, ''));

const DONE_2: AssessSummary = {
  name: '徐汇',
  residences: 1204,
  population: 34_567,
  unreachableResidences: 3,
  completeShare: 0.5,
  meanCompleteness: 0.75,
  grade: '基础型',
  targetsMet: 1,
  targets: 2,
  basicCoverage: { supermarket: 0.9 },
  seconds: 1.5,
};
const DONE_3: AssessSummary = { ...DONE_2, name: 'hostile', residences: 10, population: 25, completeShare: 0.125, meanCompleteness: 0.2, grade: null, targetsMet: 0 };
const DONE_5: AssessSummary = { ...DONE_2, name: 'c', residences: 7, population: 9, completeShare: 1, meanCompleteness: 1, grade: '完善型', targetsMet: 2 };
const IMPORTED: ImportSummary = { name: 'krems', output: '/srv/secret/regions/krems.quarter', nodes: 12_345, edges: 20_000, facilities: 56, residences: 789, seconds: 3.2 };

/** The assess summary cells as the panel must show them (zh-CN), worked out by hand. */
const ASSESS_CELLS: Record<string, Record<string, string>> = {
  '2': { residences: '1,204', population: '34,567', completeShare: '50.0%', meanCompleteness: '75.0%', grade: '基础型', targets: '1/2' },
  '3': { residences: '10', population: '25', completeShare: '12.5%', meanCompleteness: '20.0%', grade: '—', targets: '0/2' },
  '5': { residences: '7', population: '9', completeShare: '100.0%', meanCompleteness: '100.0%', grade: '完善型', targets: '2/2' },
};

let env: E2eEnv;
let store: QuarterStore;
let importId: number;
let assessId: number;
let tracked: TrackedPage;
let page: Page;
/** the page's requests to /api/batches*: how many are in flight now, the most ever, and how many were made. */
const traffic = { inFlight: 0, maxInFlight: 0, total: 0 };

beforeAll(async () => {
  env = await startE2e({ store: { users: [PLANNER] } });
  store = env.store!;
  // an import batch that has ended: one job done, one failed
  importId = (
    await store.createBatch({
      kind: 'import',
      params: { outDir: '/srv/secret/regions' },
      actor: PLANNER.name,
      jobs: [
        { key: '1', region: '/srv/osm/krems.osm.pbf' },
        { key: '2', region: '/srv/osm/broken.osm.pbf' },
      ],
    })
  ).id;
  await store.updateBatchJob(importId, '1', { state: 'running', newAttempt: true, worker: 'host-a:101' });
  await store.updateBatchJob(importId, '1', { state: 'done', result: IMPORTED });
  await store.updateBatchJob(importId, '2', { state: 'running', newAttempt: true, worker: 'host-a:101' });
  await store.updateBatchJob(importId, '2', { state: 'running', newAttempt: true, worker: 'host-b:202' });
  await store.updateBatchJob(importId, '2', { state: 'failed', error: 'not an OSM file: <script>window.__injected=2</script>' });
  // an assess batch still running: done, running at 40 %, queued
  assessId = (
    await store.createBatch({
      kind: 'assess',
      params: { profile: '/etc/quarter/profiles/xuhui.json', population: null, at: null },
      jobs: [
        { key: '2', region: '/srv/secret/r/徐汇.quarter' },
        { key: '3', region: `/srv/secret/r/${HOSTILE_FILE}` },
        { key: '5', region: '/srv/secret/r/c.quarter' },
      ],
    })
  ).id;
  await store.updateBatchJob(assessId, '2', { state: 'running', newAttempt: true, worker: 'host-a:101' });
  await store.updateBatchJob(assessId, '2', { state: 'done', result: DONE_2 });
  await store.updateBatchJob(assessId, '3', { state: 'running', newAttempt: true, worker: 'host-b:202' });
  await store.updateBatchJob(assessId, '3', { state: 'running', progress: 0.4 });

  tracked = await openPage(env, '/planner');
  page = tracked.page;
  page.on('request', (r) => {
    if (!new URL(r.url()).pathname.startsWith('/api/batches')) return;
    traffic.total++;
    traffic.inFlight++;
    traffic.maxInFlight = Math.max(traffic.maxInFlight, traffic.inFlight);
  });
  const ended = (r: { url(): string }): void => {
    if (new URL(r.url()).pathname.startsWith('/api/batches')) traffic.inFlight--;
  };
  page.on('requestfinished', ended);
  page.on('requestfailed', ended);
  await waitForMapIdle(page);
  await page.locator('.login > button').click();
  await page.getByLabel('用户名').fill(PLANNER.name);
  await page.getByLabel('密码').fill(PLANNER.password);
  await page.locator('#login-form button[type="submit"]').click();
  await page.waitForSelector('[data-testid="login-user"]');
}, 300_000);
afterAll(async () => {
  await env?.close();
});

interface ShownBatch {
  id: number;
  title: string;
  finished: string | null;
  valueNow: number;
  counts: Record<string, number>;
  countText: Record<string, string>;
}
const shownBatches = (): Promise<ShownBatch[]> =>
  page.$$eval('.batch-row', (rows) =>
    rows.map((row) => {
      const badges = [...row.querySelectorAll('.batch-counts .state-badge')];
      return {
        id: Number(row.getAttribute('data-batch')),
        title: row.querySelector('.batch-title')?.textContent ?? '',
        finished: row.getAttribute('data-finished'),
        valueNow: Number(row.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow')),
        counts: Object.fromEntries(badges.map((b) => [b.getAttribute('data-state') ?? '', Number(b.getAttribute('data-count'))])),
        countText: Object.fromEntries(badges.map((b) => [b.getAttribute('data-state') ?? '', (b.textContent ?? '').trim()])),
      };
    }),
  );

interface ShownJob {
  key: string;
  state: string | null;
  badge: string;
  file: string;
  attempts: number;
  progress: string;
  worker: string;
  error: string;
  cells: Record<string, string>;
}
const shownJobs = (): Promise<ShownJob[]> =>
  page.$$eval('.batch-jobs tbody tr', (trs) =>
    trs.map((tr) => ({
      key: tr.querySelector('.line')?.textContent?.trim() ?? '',
      state: tr.getAttribute('data-state'),
      badge: tr.querySelector('.state .state-badge')?.textContent?.trim() ?? '',
      file: tr.querySelector('.file')?.textContent?.trim() ?? '',
      attempts: Number(tr.querySelector('.attempts')?.textContent),
      progress: tr.querySelector('.progress')?.textContent?.trim() ?? '',
      worker: tr.querySelector('.worker')?.textContent?.trim() ?? '',
      error: tr.querySelector('.job-error')?.textContent?.trim() ?? '',
      cells: Object.fromEntries([...tr.querySelectorAll('td.summary')].map((td) => [td.getAttribute('data-column') ?? '', td.textContent?.trim() ?? ''])),
    })),
  );

/** The panel's jobs table against the store's record of the batch. */
async function expectJobsMatchStore(id: number, cells: Record<string, Record<string, string>>): Promise<void> {
  const stored = await store.getBatch(id);
  const shown = await shownJobs();
  expect(shown.map((j) => j.key)).toEqual(stored.jobs.map((j) => j.key));
  for (const [i, j] of stored.jobs.entries()) {
    const s = shown[i];
    expect(s.state, j.key).toBe(j.state);
    expect(s.badge, j.key).toBe(STATE_ZH[j.state]);
    expect(s.file, j.key).toBe(basename(j.region));
    expect(s.attempts, j.key).toBe(j.attempts);
    expect(num(s.progress), j.key).toBe(Math.round(j.progress * 100));
    expect(s.worker, j.key).toBe(j.worker ?? '');
    expect(s.error, j.key).toBe(j.error ?? '');
    if (j.state === 'done') expect(s.cells, j.key).toEqual(cells[j.key]);
    else for (const v of Object.values(s.cells)) expect(v, j.key).toBe('');
  }
}

describe('batch panel', () => {
  test('the list and a batch\'s jobs show what the store holds: kind, counts, progress, cells; names stay text', async () => {
    // the hand-made reference agrees with the store before the page is asked
    const listed = await store.listBatches();
    expect(listed.map((b) => [b.id, b.counts])).toEqual([
      [assessId, { queued: 1, running: 1, done: 1, failed: 0 }],
      [importId, { queued: 0, running: 0, done: 1, failed: 1 }],
    ]);
    expect(listed[0].progress).toBeCloseTo((1 + 0.4 + 0) / 3, 12);
    expect(listed[1].progress).toBeCloseTo((1 + 0) / 2, 12);

    await page.locator('.tool-buttons button[data-tool="batches"]').click();
    await page.waitForSelector('.batch-row');
    const shown = await shownBatches();
    expect(shown.map((b) => b.id)).toEqual([assessId, importId]);
    expect(shown[0].title).toContain('区域评估');
    expect(shown[1].title).toContain('数据导入');
    expect(shown.map((b) => b.finished)).toEqual(['false', 'true']);
    expect(shown.map((b) => b.valueNow)).toEqual([47, 50]); // 46.7 % and 50 %, rounded
    for (const [i, b] of listed.entries()) {
      for (const s of STATES) {
        expect(shown[i].counts[s], `${b.id} ${s}`).toBe(b.counts[s]);
        expect(shown[i].countText[s]).toBe(`${STATE_ZH[s]} ${b.counts[s]}`);
      }
    }
    await expect(page.locator('.batch-polling').getAttribute('data-polling')).resolves.toBe('true');

    // the import batch: its summary columns, the output file by name only, the error as text
    await page.locator(`.batch-row[data-batch="${importId}"] .batch-select`).click();
    await page.waitForSelector(`.batch-jobs[data-batch="${importId}"]`);
    await expectJobsMatchStore(importId, { '1': { nodes: '12,345', facilities: '56', residences: '789', output: 'krems.quarter' } });
    const headers = await page.locator('.batch-jobs thead th[data-column]').allTextContents();
    expect(headers.map((h) => h.trim())).toEqual(['节点', '设施', '住宅', '区域文件']);

    // the running assess batch
    await page.locator(`.batch-row[data-batch="${assessId}"] .batch-select`).click();
    await page.waitForSelector(`.batch-jobs[data-batch="${assessId}"]`);
    await expect(page.locator(`.batch-row[data-batch="${assessId}"] .batch-select`).getAttribute('aria-pressed')).resolves.toBe('true');
    await expectJobsMatchStore(assessId, ASSESS_CELLS);
    await expect(page.locator('.batch-params').textContent()).resolves.toContain('xuhui.json');
    await expect(page.locator('.batch-panel').textContent()).resolves.not.toContain('/srv/secret');
    await expect(page.locator('.batch-panel img, .batch-panel script').count()).resolves.toBe(0);
    await expect(page.evaluate(() => (window as unknown as { __injected?: number }).__injected)).resolves.toBeUndefined();
    await screenshot(page, 'planner-batches');
  });

  test('a job moved to done in the store shows up without a reload; polling stops once every batch has ended; one request at a time', async () => {
    await store.updateBatchJob(assessId, '3', { state: 'done', result: DONE_3 });
    await page.waitForSelector('.batch-jobs tr[data-key="3"][data-state="done"]', { timeout: 15_000 });
    await page.waitForSelector(`.batch-row[data-batch="${assessId}"] .batch-counts [data-state="done"][data-count="2"]`);
    await expectJobsMatchStore(assessId, ASSESS_CELLS);
    expect((await shownBatches())[0].valueNow).toBe(Math.round(((1 + 1 + 0) / 3) * 100));

    await store.updateBatchJob(assessId, '5', { state: 'running', newAttempt: true, worker: 'host-c:303' });
    await store.updateBatchJob(assessId, '5', { state: 'done', result: DONE_5 });
    await page.waitForSelector(`.batch-row[data-batch="${assessId}"][data-finished="true"]`, { timeout: 15_000 });
    await page.waitForSelector('.batch-polling[data-polling="false"]');
    await expectJobsMatchStore(assessId, ASSESS_CELLS);
    expect((await shownBatches())[0].valueNow).toBe(100);
    expect(traffic.maxInFlight).toBe(1);
    // nothing more is asked once all have ended (two poll periods and more)
    const before = traffic.total;
    await page.waitForTimeout(4500);
    expect(traffic.total).toBe(before);
  });

  test('the CSV link downloads the rows the store holds; the XLSX link a workbook', async () => {
    const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('.batch-panel a[data-export="csv"]').click()]);
    const text = readFileSync(await csv.path(), 'utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    const [header, ...rows] = parseCsv(text.slice(1)).filter((r) => r.length > 1);
    expect(header.slice(0, 4)).toEqual(['行 line', '文件 file', '状态 state', '尝试 attempts']);
    const stored = await store.getBatch(assessId);
    const results: Record<string, AssessSummary> = { '2': DONE_2, '3': DONE_3, '5': DONE_5 };
    expect(rows.map((r) => r[0])).toEqual(stored.jobs.map((j) => j.key));
    for (const [i, j] of stored.jobs.entries()) {
      const r = results[j.key];
      expect(rows[i][1]).toBe(basename(j.region));
      expect(rows[i][2]).toBe(`${STATE_ZH[j.state]} ${j.state}`);
      expect(Number(rows[i][3])).toBe(j.attempts);
      expect(rows[i].slice(4, 10)).toEqual([String(r.residences), String(r.population), String(r.completeShare), String(r.meanCompleteness), r.grade ?? '', `${r.targetsMet}/${r.targets}`]);
    }
    // the panel's table says the same per row
    const shown = await shownJobs();
    expect(shown.map((s) => [s.key, s.file, s.state])).toEqual(rows.map((r) => [r[0], r[1], r[2].split(' ')[1]]));

    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.locator('.batch-panel a[data-export="xlsx"]').click()]);
    expect(readFileSync(await xlsx.path()).subarray(0, 2).toString('latin1')).toBe('PK');
    expect(xlsx.suggestedFilename()).toBe(`batch-${assessId}.xlsx`);
  });

  test('keyboard: from the tool button, every control of the panel is reached by Tab and has a name; Enter selects a batch', async () => {
    await page.locator('.batch-panel .icon-button').click();
    await page.waitForSelector('.batch-panel', { state: 'detached' });
    await page.locator('.tool-buttons button[data-tool="batches"]').focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('.batch-row');

    const focused = (): Promise<{ inPanel: boolean; tag: string; name: string; cls: string; batch: string | null; role: string | null }> =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        const labelledBy = el?.getAttribute('aria-labelledby');
        const name = el?.getAttribute('aria-label') ?? (labelledBy ? document.getElementById(labelledBy)?.textContent : null) ?? el?.textContent ?? '';
        return {
          inPanel: Boolean(el?.closest('.batch-panel')),
          tag: el?.tagName.toLowerCase() ?? '',
          name: name.trim(),
          cls: el?.className ?? '',
          batch: el?.closest('.batch-row')?.getAttribute('data-batch') ?? null,
          role: el?.getAttribute('role') ?? null,
        };
      });
    /** Tab until focus enters the panel, then record every stop until it leaves. */
    async function tabThroughPanel(): Promise<Awaited<ReturnType<typeof focused>>[]> {
      const stops: Awaited<ReturnType<typeof focused>>[] = [];
      for (let i = 0; i < 200; i++) {
        await page.keyboard.press('Tab');
        const f = await focused();
        if (f.inPanel) stops.push(f);
        else if (stops.length) return stops;
      }
      throw new Error(`focus did not leave the panel after ${stops.length} stops`);
    }

    await page.locator('.tool-buttons button[data-tool="batches"]').focus();
    const first = await tabThroughPanel();
    for (const s of first) expect(s.name, JSON.stringify(s)).not.toBe('');
    expect(first.map((s) => s.name).slice(0, 2)).toEqual(['关闭', '刷新']);
    const selects = first.filter((s) => s.cls.includes('batch-select'));
    expect(selects.map((s) => Number(s.batch))).toEqual([assessId, importId]);

    // Enter on the focused select button of the import batch opens its jobs
    await page.locator(`.batch-row[data-batch="${importId}"] .batch-select`).focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector(`.batch-jobs[data-batch="${importId}"]`);
    await page.locator('.tool-buttons button[data-tool="batches"]').focus();
    const second = await tabThroughPanel();
    for (const s of second) expect(s.name, JSON.stringify(s)).not.toBe('');
    const names = second.map((s) => s.name);
    expect(names).toContain(`下载批次 #${importId} 的汇总（CSV）`);
    expect(names).toContain(`下载批次 #${importId} 的汇总（XLSX）`);
    expect(second.some((s) => s.role === 'region' && s.name === `批次 #${importId} 的任务表（可左右滚动）`)).toBe(true);
    // the progress bars are labelled too (not focus stops: read by their role)
    const bars = await page.$$eval('.batch-panel [role="progressbar"]', (els) => els.map((e) => [e.getAttribute('aria-label'), e.getAttribute('aria-valuetext')]));
    expect(bars).toEqual([
      [`批次 #${assessId} 的进度`, '100%，3/3 个任务已结束'],
      [`批次 #${importId} 的进度`, '50%，2/2 个任务已结束'],
    ]);
  });

  test('a session that ends while the panel polls: 401 signs the page out and the panel closes', async () => {
    const running = await store.createBatch({ kind: 'plan', params: { model: 'mclp', formats: ['pharmacy'], sites: 2, minutes: 15, profile: 'mofcom', spacing: 150 }, jobs: [{ key: '1', region: '/srv/r/a.quarter' }] });
    await store.updateBatchJob(running.id, '1', { state: 'running', newAttempt: true, worker: 'host-a:101', progress: 0.25 });
    await page.locator('.batch-refresh').click();
    await page.waitForSelector(`.batch-row[data-batch="${running.id}"][data-finished="false"]`);
    await page.waitForSelector('.batch-polling[data-polling="true"]');
    await expect(page.locator(`.batch-row[data-batch="${running.id}"] [role="progressbar"]`).getAttribute('aria-valuenow')).resolves.toBe('25');
    await page.context().clearCookies();
    await page.waitForSelector('.batch-panel', { state: 'detached', timeout: 15_000 });
    await page.waitForSelector('[data-testid="login-user"]', { state: 'detached' });
    await expect(page.locator('.tool-buttons button[data-tool="batches"]').count()).resolves.toBe(0);
    expect(tracked.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    await page.context().close();
  });
});
