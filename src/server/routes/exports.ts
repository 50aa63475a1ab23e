/**
 * Downloads (planner): the assessment of the served region as JSON, GeoJSON, CSV, XLSX, the
 * HTML report — the same writers as `quarter assess --out` — or that report printed to PDF
 * (headless Chromium, src/report/pdf-report.ts), and, in plans.ts, a plan's sites.
 * Each is an attachment with an ASCII file name (plus the UTF-8 one in filename*), so a browser
 * saves it rather than showing it; CSV is UTF-8 with BOM and formula-safe cells (src/report/csv.ts).
 * Assessments are cached per served region and profile: a planner downloading three formats
 * pays for one assessment. PDFs are cached the same way (per region, profile and language) and
 * printed at most PDF_PRINTS_AT_ONCE at a time: each print starts a browser.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { assess, type AssessmentWithList } from '../../assess/assess.js';
import { assessmentJsonText } from '../../assess/serialise.js';
import type { Region } from '../../region/region.js';
import {
  assessmentWorkbook,
  GAPS_CSV_HEADER,
  gapsCsvRows,
  residencesCsvHeader,
  residencesCsvRows,
  residencesGeoJson,
  zonesCsvHeader,
  zonesCsvRows,
  zonesGeoJson,
} from '../../report/assessment-export.js';
import { csvRow, UTF8_BOM, type Cell } from '../../report/csv.js';
import { renderRegionReport, type ReportLang } from '../../report/html-report.js';
import { ChromiumMissingError, htmlToPdf, PdfReportError } from '../../report/pdf-report.js';
import type { StoreRouteContext } from '../context.js';
import { ApiError } from '../errors.js';
import { PROFILE_ID, SECURITY_READ, STORE_ERRORS } from '../schemas.js';

export const DEFAULT_EXPORT_PROFILE = 'mofcom-2021';

export const CONTENT_TYPES = {
  json: 'application/json; charset=utf-8',
  geojson: 'application/geo+json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
} as const;
export type ExportKind = keyof typeof CONTENT_TYPES;

/** "quarter-assessment-Krems-mofcom-2021": letters, digits, . _ - only (what every file system and browser keeps). */
export function asciiFileName(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return s.slice(0, 120) || 'quarter';
}

/** Content-Disposition for a download: ASCII file name, and the Unicode one (RFC 6266 / 5987) when it differs. */
export function attachmentHeader(name: string, ext: string): string {
  const ascii = `${asciiFileName(name)}.${ext}`;
  // what a file name must never hold: path separators, quotes, control and direction characters
  const unicode = `${name.replace(/[\u0000-\u001f\u007f-\u009f"\\/:*?<>|\u202a-\u202e\u2066-\u2069]+/g, '-').slice(0, 120)}.${ext}`;
  return unicode === ascii ? `attachment; filename="${ascii}"` : `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(unicode)}`;
}

export function sendAttachment(reply: FastifyReply, name: string, ext: ExportKind, body: string | Buffer): FastifyReply {
  return reply
    .header('content-disposition', attachmentHeader(name, ext))
    .header('cache-control', 'no-store')
    .type(CONTENT_TYPES[ext])
    .send(body);
}

export const csvText = (header: Cell[], rows: Iterable<Cell[]>): string => {
  const parts = [UTF8_BOM, csvRow(header)];
  for (const r of rows) parts.push(csvRow(r));
  return parts.join('');
};

const ASSESSMENTS_KEPT = 4;
/** Browsers printing at once (each takes a core and a few hundred MB while it prints). */
const PDF_PRINTS_AT_ONCE = 1;
/** Requests waiting for a print beyond this are told to come back (503) rather than queued. */
const PDF_WAITING_MAX = 8;
const PDF_TIMEOUT_MS = 90_000;

/** At most `slots` tasks at a time; with more than `waitingMax` waiting, null (the caller refuses). */
function limiter(slots: number, waitingMax: number): <T>(task: () => Promise<T>) => Promise<T> | null {
  let running = 0;
  const waiting: Array<() => void> = [];
  // a finished task hands its slot straight to the first waiting one
  const release = (): void => {
    const go = waiting.shift();
    if (go) go();
    else running--;
  };
  return <T>(task: () => Promise<T>): Promise<T> | null => {
    if (running >= slots && waiting.length >= waitingMax) return null;
    const slot = running < slots ? (running++, Promise.resolve()) : new Promise<void>((go) => waiting.push(go));
    return slot.then(task).finally(release);
  };
}

export function registerExportRoutes(app: FastifyInstance, ctx: StoreRouteContext): void {
  const { auth, taxonomy } = ctx;
  const cache = new WeakMap<Region, Map<string, AssessmentWithList>>();
  const assessmentOf = (region: Region, profileId: string): AssessmentWithList => {
    let perRegion = cache.get(region);
    if (!perRegion) cache.set(region, (perRegion = new Map()));
    let result = perRegion.get(profileId);
    if (!result) {
      result = assess(region, { profile: ctx.standardsFor(profileId), taxonomy });
      perRegion.set(profileId, result);
      if (perRegion.size > ASSESSMENTS_KEPT) perRegion.delete(perRegion.keys().next().value as string);
    }
    return result;
  };

  const kinds: Array<{ ext: ExportKind; what: string; extra: Record<string, object> }> = [
    { ext: 'json', what: 'the whole assessment as JSON (every residence and zone)', extra: {} },
    { ext: 'geojson', what: 'residences (points) or zones (polygons) as GeoJSON', extra: { layer: { type: 'string', enum: ['residences', 'zones'], default: 'residences' } } },
    { ext: 'csv', what: 'residences, zones or gaps as CSV (UTF-8 with BOM, opens in Excel)', extra: { table: { type: 'string', enum: ['residences', 'zones', 'gaps'], default: 'residences' } } },
    { ext: 'xlsx', what: 'the Excel workbook: summary, zones, H3 cells, residences, gaps', extra: {} },
    { ext: 'html', what: 'the region report (HTML, with maps and charts)', extra: {} },
    { ext: 'pdf', what: 'the region report as an A4 PDF (printed by headless Chromium on the server)', extra: {} },
  ];

  const pdfCache = new WeakMap<Region, Map<string, Buffer>>();
  const printSlot = limiter(PDF_PRINTS_AT_ONCE, PDF_WAITING_MAX);
  const pdfOf = async (region: Region, profile: string, lang: ReportLang): Promise<Buffer> => {
    let perRegion = pdfCache.get(region);
    if (!perRegion) pdfCache.set(region, (perRegion = new Map()));
    const key = `${profile}|${lang}`;
    const kept = perRegion.get(key);
    if (kept) return kept;
    const html = renderRegionReport(assessmentOf(region, profile), region, { lang, taxonomy });
    const printing = printSlot(() => htmlToPdf(html, { timeoutMs: PDF_TIMEOUT_MS, locale: lang }));
    if (!printing) throw new ApiError(503, 'the server is printing other PDF reports: try again in a minute', 'pdf');
    let pdf: Buffer;
    try {
      pdf = await printing;
    } catch (err) {
      if (err instanceof ChromiumMissingError) throw new ApiError(503, `PDF reports are not available on this server: ${err.message}`, 'pdf');
      if (err instanceof PdfReportError) throw new ApiError(503, err.message, 'pdf');
      throw err;
    }
    perRegion.set(key, pdf);
    if (perRegion.size > ASSESSMENTS_KEPT) perRegion.delete(perRegion.keys().next().value as string);
    return pdf;
  };
  for (const { ext, what, extra } of kinds) {
    app.get<{ Querystring: { profile: string; lang: ReportLang; layer?: 'residences' | 'zones'; table?: 'residences' | 'zones' | 'gaps' } }>(
      `/api/exports/assessment.${ext}`,
      {
        onRequest: auth.require('planner'),
        schema: {
          summary: `download the assessment (planner): ${what}`,
          tags: ['exports'],
          security: [...SECURITY_READ],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              profile: { ...PROFILE_ID, default: DEFAULT_EXPORT_PROFILE, description: 'standards profile' },
              lang: { type: 'string', enum: ['zh-CN', 'en'], default: 'zh-CN' },
              ...extra,
            },
          },
          response: STORE_ERRORS,
        },
      },
      async (req, reply) => {
        const { profile, lang } = req.query;
        const region = ctx.effective().region;
        const result = assessmentOf(region, profile);
        const opts = { lang, taxonomy };
        const name = `quarter-assessment-${region.meta.name}-${profile}`;
        switch (ext) {
          case 'json':
            return sendAttachment(reply, name, ext, assessmentJsonText(result, region));
          case 'geojson': {
            const layer = req.query.layer ?? 'residences';
            const chunks = layer === 'zones' ? zonesGeoJson(result, opts) : residencesGeoJson(result, region, opts);
            return sendAttachment(reply, `${name}-${layer}`, ext, [...chunks].join(''));
          }
          case 'csv': {
            const table = req.query.table ?? 'residences';
            const text =
              table === 'zones'
                ? csvText(zonesCsvHeader(result, opts), zonesCsvRows(result, opts))
                : table === 'gaps'
                  ? csvText(GAPS_CSV_HEADER, gapsCsvRows(result, opts))
                  : csvText(residencesCsvHeader(result, opts), residencesCsvRows(result, region, opts));
            return sendAttachment(reply, `${name}-${table}`, ext, text);
          }
          case 'xlsx':
            return sendAttachment(reply, name, ext, await assessmentWorkbook(result, region, opts));
          case 'html':
            return sendAttachment(reply, name, ext, renderRegionReport(result, region, opts));
          case 'pdf':
            return sendAttachment(reply, name, ext, await pdfOf(region, profile, lang));
        }
      },
    );
  }
}
