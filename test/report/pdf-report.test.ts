/**
 * The PDF report: htmlToPdf on pages whose page count is known by construction, the region report
 * of the hand-built fixture (its headings, read from the HTML, must all be in the PDF's text), the
 * offline rule (a local HTTP server counts the page's requests: none may arrive), failures (no
 * Chromium, time out) leaving no browser running, the server's assessment.pdf download and
 * `quarter assess --pdf`. References: poppler's pdfinfo / pdftotext / pdfimages (Debian
 * poppler-utils), independent of Chromium, and the raw PDF's /Type /Page objects.
 */
import type { FastifyInstance } from 'fastify';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importRegion } from '../../src/region/import-region.js';
import { writeRegion } from '../../src/region/region-file.js';
import { renderRegionReport } from '../../src/report/html-report.js';
import { ChromiumMissingError, findChromium, htmlToPdf, PdfReportError } from '../../src/report/pdf-report.js';
import { buildServer } from '../../src/server/app.js';
import type { QuarterStore } from '../../src/store/store.js';
import { EXIT, expectFailure, expectOk, KREMS_PBF, leftoverTemps, quarter, scratch } from '../cli/helpers.js';
import { handRegion } from '../server/hand-region.js';
import { expectError, login, storeWithUsers, USERS } from '../server/session-helpers.js';
import { buildFixture, HOSTILE } from './assessment-fixture.js';

const POPPLER = ['pdfinfo', 'pdftotext', 'pdfimages', 'pdftoppm'].every((tool) => {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
const dir = scratch('pdf');
let n = 0;
/** Write the PDF to a file for poppler. */
function saved(pdf: Buffer): string {
  const file = join(dir, `p${++n}.pdf`);
  writeFileSync(file, pdf);
  return file;
}
function poppler(tool: string, args: string[]): string {
  expect(POPPLER, 'poppler-utils (pdfinfo, pdftotext, pdfimages, pdftoppm) must be installed: apt-get install poppler-utils').toBe(true);
  return execFileSync(tool, args, { encoding: 'utf8' });
}
const info = (file: string): Record<string, string> =>
  Object.fromEntries(
    poppler('pdfinfo', [file])
      .split('\n')
      .map((l) => /^([^:]+):\s*(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
/** The text, with all whitespace (line ends within a heading included) squeezed out. */
const squeezed = (s: string): string => s.replace(/\s+/g, '');
const pdfText = (file: string): string => poppler('pdftotext', ['-enc', 'UTF-8', file, '-']);
/** Page objects counted in the raw file (page tree nodes are /Type /Pages and do not match). */
const rawPageObjects = (pdf: Buffer): number => (pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? []).length;

/** Chromium processes started by this test process and still running. */
function ownBrowsers(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,ppid=,comm=', '-e'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, ppid, comm]) => Number(ppid) === process.pid && /chrom/i.test(comm ?? ''))
    .map(([pid]) => Number(pid));
}

const page = (body: string, css = ''): string =>
  `<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"/><style>body { font-family: "Noto Sans CJK SC", sans-serif; } ${css}</style></head><body>${body}</body></html>`;

describe('htmlToPdf', () => {
  test('three pages forced by page breaks: an A4 PDF with three pages, the Chinese text and the page numbers', async () => {
    const html = page(
      ['第一页：一刻钟便民生活圈', '第二页：菜市场与药店', '第三页：社区食堂'].map((t) => `<section><h1>${t}</h1><p>${t}</p></section>`).join(''),
      'section { break-after: page; } section:last-child { break-after: auto; } html, body { background: #e8f5e9; }',
    );
    const pdf = await htmlToPdf(html);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(rawPageObjects(pdf)).toBe(3);
    const file = saved(pdf);
    const meta = info(file);
    expect(meta.Pages).toBe('3');
    // A4 is 210 × 297 mm = 595.3 × 841.9 pt; Chromium rounds to whole device pixels
    const [w, h] = meta['Page size'].match(/[\d.]+/g)!.map(Number);
    expect(Math.abs(w - 595.28)).toBeLessThan(1.5);
    expect(Math.abs(h - 841.89)).toBeLessThan(1.5);
    const pages = pdfText(file).split('\f');
    expect(squeezed(pages[0])).toContain('第一页：一刻钟便民生活圈');
    expect(squeezed(pages[1])).toContain('第二页：菜市场与药店');
    expect(squeezed(pages[2])).toContain('第三页：社区食堂');
    for (let p = 0; p < 3; p++) expect(squeezed(pages[p])).toContain(`${p + 1}/3`);
  });

  test('backgrounds are printed: a page filled with one colour renders that colour', async () => {
    const pdf = await htmlToPdf(page('<p>背景</p>', 'html, body { background: rgb(0, 0, 255); margin: 0; height: 100%; }'));
    const file = saved(pdf);
    // a 10 dpi raster of page 1 as binary PPM: read the pixel in the middle
    poppler('pdftoppm', ['-r', '10', '-f', '1', '-l', '1', file, join(dir, 'bg')]);
    const ppm = readFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith('bg') && f.endsWith('.ppm'))!));
    const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(ppm.toString('latin1', 0, 40))!;
    const [width, height] = [Number(header[1]), Number(header[2])];
    const at = header[0].length + 3 * (Math.floor(height / 2) * width + Math.floor(width / 2));
    expect([...ppm.subarray(at, at + 3)]).toEqual([0, 0, 255]);
  });

  test('offline: nothing the page asks for is fetched; a data: image is printed', async () => {
    const hits: string[] = [];
    const server: Server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('x');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // a 1 × 1 red PNG
    const dataPng =
      'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
    try {
      const html = page(
        `<p>离线</p><img src="${base}/img.png"/><img src="${dataPng}" style="width:40px;height:40px"/>` +
          `<link rel="stylesheet" href="${base}/style.css"/><script src="${base}/app.js"></script><iframe src="${base}/frame"></iframe>` +
          `<div style="background-image:url('${base}/bg.png');width:10px;height:10px"></div>`,
        `@font-face { font-family: remote; src: url('${base}/font.woff2'); } p { font-family: remote, sans-serif; } @import url('${base}/more.css');`,
      );
      const file = saved(await htmlToPdf(html));
      expect(hits).toEqual([]);
      expect(squeezed(pdfText(file))).toContain('离线');
      // the same page without the data: image has one image fewer (blocked ones print as broken-image icons)
      const withoutData = saved(await htmlToPdf(html.replace(`<img src="${dataPng}" style="width:40px;height:40px"/>`, '')));
      expect(hits).toEqual([]);
      const images = (f: string): number => poppler('pdfimages', ['-list', f]).split('\n').slice(2).filter((l) => l.trim() !== '').length;
      expect(images(file) - images(withoutData)).toBe(1);
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });

  test('the region report of the fixture: every section heading of the HTML is in the PDF, the hostile names as text', async () => {
    const { result, region } = buildFixture();
    const html = renderRegionReport(result, region, { date: new Date('2026-03-01T00:00:00Z') });
    const pdf = await htmlToPdf(html);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const file = saved(pdf);
    const pages = Number(info(file).Pages);
    expect(pages).toBe(rawPageObjects(pdf));
    expect(pages).toBeGreaterThanOrEqual(2);
    const text = squeezed(pdfText(file));
    // the reference: the headings as the HTML has them (entities undone), in order
    const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    const headings = [...html.matchAll(/<h[12][^>]*>(.*?)<\/h[12]>/g)].map((m) => squeezed(unescape(m[1].replace(/<[^>]+>/g, ''))));
    expect(headings.length).toBeGreaterThan(5);
    let from = 0;
    for (const h of headings) {
      const at = text.indexOf(h, from);
      expect(at, `heading "${h}" in the PDF text after position ${from}`).toBeGreaterThanOrEqual(0);
      from = at + h.length;
    }
    expect(text).toContain('一刻钟便民生活圈评估报告');
    expect(text).toContain(squeezed(HOSTILE.region));
    expect(text).toContain(`1/${pages}`);
    expect(text).toContain(`${pages}/${pages}`);
  });

  test('no Chromium: a clear error naming what to install and the env var; no browser left running', async () => {
    expect(() => findChromium({ env: { QUARTER_CHROMIUM: join(dir, 'no-such-chromium') } })).toThrow(/QUARTER_CHROMIUM=.*no-such-chromium.*not a file/);
    expect(() => findChromium({ executablePath: join(dir, 'nope') })).toThrow(ChromiumMissingError);
    await expect(htmlToPdf(page('x'), { env: { QUARTER_CHROMIUM: '/nonexistent/chromium' } })).rejects.toThrow(/QUARTER_CHROMIUM/);
    await expect(htmlToPdf(page('x'), { executablePath: '/nonexistent/chromium' })).rejects.toThrow(/apt-get install chromium/);
    // an executable that is not a browser
    await expect(htmlToPdf(page('x'), { executablePath: '/bin/false', timeoutMs: 20_000 })).rejects.toThrow(/did not start/);
    expect(ownBrowsers()).toEqual([]);
  });

  test('a print that runs out of time is stopped and its browser closed', async () => {
    const big = page(Array.from({ length: 4000 }, (_, i) => `<p>第 ${i} 段 一刻钟便民生活圈</p>`).join(''));
    const err = await htmlToPdf(big, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PdfReportError);
    expect((err as Error).message).toMatch(/longer than/);
    expect(ownBrowsers()).toEqual([]);
  });
});

describe('GET /api/exports/assessment.pdf', () => {
  let app: FastifyInstance;
  let store: QuarterStore;
  const hand = handRegion();
  // a name a file system or a header must not take as it is
  hand.region.meta.name = '测试区 "东/西" 报告';
  beforeAll(async () => {
    store = await storeWithUsers();
    app = await buildServer({ region: hand.region, store, rateLimit: false });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  test('planner: 200 application/pdf attachment named after the region; anonymous 401, public reader 403', async () => {
    const planner = await login(app, USERS.planner);
    const res = await planner.req('GET', '/api/exports/assessment.pdf?profile=mofcom-2021');
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(String(res.headers['content-type'])).toBe('application/pdf');
    const disposition = String(res.headers['content-disposition']);
    expect(disposition).toMatch(/^attachment; filename="[A-Za-z0-9._-]+\.pdf"; filename\*=UTF-8''[A-Za-z0-9%._~!'()*-]+\.pdf$/);
    const unicode = decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(disposition)![1]);
    expect(unicode).toBe('quarter-assessment-测试区 -东-西- 报告-mofcom-2021.pdf');
    const pdf = res.rawPayload;
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = squeezed(pdfText(saved(pdf)));
    expect(text).toContain(squeezed('测试区 "东/西" 报告'));
    expect(text).toContain('一刻钟便民生活圈评估报告');

    expectError(await app.inject({ method: 'GET', url: '/api/exports/assessment.pdf' }), 401);
    const reader = await login(app, USERS.reader);
    expectError(await reader.req('GET', '/api/exports/assessment.pdf'), 403);
    expectError(await planner.req('GET', '/api/exports/assessment.pdf?lang=fr'), 400, 'lang');
  });

  test('a server without Chromium answers 503 naming what to install, not a 500', async () => {
    const planner = await login(app, USERS.planner);
    const before = process.env.QUARTER_CHROMIUM;
    process.env.QUARTER_CHROMIUM = join(dir, 'no-chromium-here');
    try {
      // another language: not the PDF cached by the test before
      const body = expectError(await planner.req('GET', '/api/exports/assessment.pdf?lang=en'), 503, 'pdf');
      expect(body.message).toMatch(/QUARTER_CHROMIUM=.*no-chromium-here/);
    } finally {
      if (before === undefined) delete process.env.QUARTER_CHROMIUM;
      else process.env.QUARTER_CHROMIUM = before;
    }
  });
});

describe('quarter assess --pdf', () => {
  const regionFile = join(dir, 'krems.quarter');
  beforeAll(async () => {
    writeRegion(regionFile, await importRegion(KREMS_PBF, { name: 'Krems' }));
  }, 120_000);
  const run = (args: string[], env: Record<string, string> = {}) => quarter(['assess', '-r', regionFile, '--profile', 'mofcom-2021', '--h3', 'none', ...args], { cwd: dir, env });

  test('writes the report as a PDF next to the summary', () => {
    const out = join(dir, 'cli-out', 'krems.pdf');
    const r = run(['--pdf', out]);
    expectOk(r);
    expect(r.stdout).toContain(`→ ${out}`);
    const pdf = readFileSync(out);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = squeezed(pdfText(out));
    expect(text).toContain('Krems一刻钟便民生活圈评估报告');
    expect(leftoverTemps(join(dir, 'cli-out'))).toEqual([]);
  }, 120_000);

  test('bad output paths: a clear error before any work, or after the print with nothing half-written', () => {
    const aFile = join(dir, 'a-file.txt');
    writeFileSync(aFile, 'not a folder');
    expectFailure(run(['--pdf', join(aFile, 'r.pdf')]), EXIT.output, /a-file\.txt.*a file is in the way/);
    expect(existsSync(join(aFile, 'r.pdf'))).toBe(false);

    const aDir = join(dir, 'folder.pdf');
    mkdirSync(aDir, { recursive: true });
    expectFailure(run(['--pdf', aDir]), EXIT.output, /--pdf .*folder\.pdf: is a directory/);
    expect(readdirSync(aDir)).toEqual([]);

    expectFailure(run(['--pdf', join(dir, 'report.txt')]), EXIT.usage, /--pdf .*report\.txt: the file name must end in \.pdf/);
    expect(existsSync(join(dir, 'report.txt'))).toBe(false);

    expectFailure(run(['--pdf', join(dir, 'x.pdf')], { QUARTER_CHROMIUM: join(dir, 'missing-chromium') }), EXIT.output, /--pdf: QUARTER_CHROMIUM=.*missing-chromium/);
    expect(existsSync(join(dir, 'x.pdf'))).toBe(false);

    // a folder no file can be created in (procfs): the print is done, the write fails, nothing is left
    const r = run(['--pdf', '/proc/self/report.pdf']);
    expectFailure(r, EXIT.output, /\/proc\/self\/report\.pdf: cannot write/);
  }, 120_000);
});
