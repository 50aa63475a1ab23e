/**
 * The HTML report printed to PDF by headless Chromium (playwright-core): A4, backgrounds printed,
 * page numbers in the footer. The page is offline: scripts are off and every request it would
 * make (images, fonts, links to anything) is aborted, so a report can never reach the network or
 * run code; only data: URLs pass. Chinese text needs a CJK font on the machine (Debian:
 * fonts-noto-cjk), which the report's CSS asks for by name (CJK_FONT_STACK).
 *
 * The browser is started for each print and always closed, whether printing worked, failed or
 * ran out of time.
 */
import { existsSync, statSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { CJK_FONT_STACK } from './charts-svg.js';

/** Env var naming a Chromium / Chrome executable to print with. */
export const CHROMIUM_ENV = 'QUARTER_CHROMIUM';
/** Where Chromium lives when the env var is not set (Debian's package first). */
export const CHROMIUM_CANDIDATES: readonly string[] = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
export const INSTALL_HINT = `install Chromium and a Chinese font (Debian: apt-get install chromium fonts-noto-cjk) or set ${CHROMIUM_ENV} to a Chromium executable`;
/** Launch, load and print, all together. */
export const DEFAULT_PDF_TIMEOUT_MS = 120_000;
/**
 * Chromium's own start-up limit, apart from the print's: a launch that Playwright gives up on
 * kills its browser only some time later, so the print's deadline never cuts a launch short;
 * instead the launch is let finish and that browser closed.
 */
const LAUNCH_TIMEOUT_MS = 60_000;
/** Print margins: the footer with the page number sits in the bottom one. */
const MARGIN = { top: '14mm', bottom: '16mm', left: '12mm', right: '12mm' } as const;

export interface PdfOptions {
  /** Chromium executable (default: $QUARTER_CHROMIUM, else the first of CHROMIUM_CANDIDATES that exists). */
  executablePath?: string;
  /** give up after this many milliseconds (default 120 s). */
  timeoutMs?: number;
  /** language of the page, for the fonts Chromium picks where the CSS leaves a choice (default zh-CN). */
  locale?: string;
  /** the environment to read QUARTER_CHROMIUM from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Printing the PDF failed; the message says why and what to do. */
export class PdfReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PdfReportError';
  }
}

/** No Chromium to print with. */
export class ChromiumMissingError extends PdfReportError {
  constructor(message: string) {
    super(message);
    this.name = 'ChromiumMissingError';
  }
}

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

/** The Chromium to print with, or ChromiumMissingError naming what to install or set. */
export function findChromium(opts: Pick<PdfOptions, 'executablePath' | 'env'> = {}): string {
  if (opts.executablePath !== undefined) {
    if (!isFile(opts.executablePath)) throw new ChromiumMissingError(`no Chromium at ${opts.executablePath}: ${INSTALL_HINT}`);
    return opts.executablePath;
  }
  const fromEnv = (opts.env ?? process.env)[CHROMIUM_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isFile(fromEnv)) throw new ChromiumMissingError(`${CHROMIUM_ENV}=${fromEnv} is not a file: point it at a Chromium executable, or unset it to use ${CHROMIUM_CANDIDATES[0]}`);
    return fromEnv;
  }
  const found = CHROMIUM_CANDIDATES.find(isFile);
  if (!found) throw new ChromiumMissingError(`no Chromium found to print the PDF (looked at ${CHROMIUM_CANDIDATES.join(', ')}): ${INSTALL_HINT}`);
  return found;
}

/** "1 / 3" at the bottom of every page (Chromium fills the spans). */
const FOOTER = `<div style="width:100%;font-size:8px;color:#616161;text-align:center;font-family:${CJK_FONT_STACK.replace(/"/g, "'")}"><span class="pageNumber"></span> / <span class="totalPages"></span></div>`;

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0];

/** Print a self-contained HTML page to an A4 PDF. */
export async function htmlToPdf(html: string, opts: PdfOptions = {}): Promise<Buffer> {
  const executablePath = findChromium(opts);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PDF_TIMEOUT_MS;
  const started = Date.now();
  const left = (): number => Math.max(1, timeoutMs - (Date.now() - started));

  const launching = chromium.launch({ executablePath, timeout: LAUNCH_TIMEOUT_MS, args: ['--disable-gpu', '--disable-extensions', '--no-first-run'] });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const limit = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
    timer = setTimeout(() => reject(new PdfReportError(`printing the PDF took longer than ${limit} and was stopped`)), timeoutMs);
  });
  const print = async (browser: Browser): Promise<Buffer> => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: opts.locale ?? 'zh-CN', serviceWorkers: 'block' });
    // the page itself comes from setContent, not a request: everything that is requested is refused
    await context.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort('blockedbyclient')));
    const page = await context.newPage();
    page.setDefaultTimeout(left());
    await page.setContent(html, { waitUntil: 'load', timeout: left() });
    return page.pdf({ format: 'A4', printBackground: true, margin: MARGIN, displayHeaderFooter: true, headerTemplate: '<span></span>', footerTemplate: FOOTER });
  };
  try {
    let browser: Browser;
    try {
      browser = await Promise.race([launching, deadline]);
    } catch (err) {
      if (err instanceof PdfReportError) throw err;
      throw new PdfReportError(`Chromium at ${executablePath} did not start: ${firstLine(err)} (${INSTALL_HINT})`);
    }
    try {
      return await Promise.race([print(browser), deadline]);
    } catch (err) {
      if (err instanceof PdfReportError) throw err;
      throw new PdfReportError(`printing the PDF failed: ${firstLine(err)}`);
    }
  } finally {
    clearTimeout(timer);
    // closes the browser in every case; a launch still under way is waited for, then closed
    await launching.then(
      (b) => b.close().catch(() => undefined),
      () => undefined,
    );
  }
}
