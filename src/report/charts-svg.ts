/**
 * Small static charts as inline SVG for the assessment report: no JavaScript, no network, no
 * library. Every string that reaches the markup goes through `escapeXml`, so a label taken from
 * data ("<script>…", quotes) stays text. The output is well-formed XML, and so is the HTML page
 * that embeds it.
 */

/**
 * Escape text for XML/HTML text and attribute values (both quote kinds). Characters XML 1.0 does
 * not allow (C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF) become U+FFFD.
 */
export function escapeXml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Font stack that renders Chinese on Linux (Noto / Source Han), macOS (PingFang) and Windows (YaHei). */
export const CJK_FONT_STACK = '"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif';

/** Rough rendered width of `s` in px at `fontSize`: CJK and full-width characters ≈ 1 em, others ≈ 0.56 em. */
export function textWidth(s: string, fontSize: number): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    w += c >= 0x2e80 && !(c >= 0xff61 && c <= 0xffdc) ? 1 : c >= 0x20 && c < 0x7f && 'il.,:;|!\'` '.includes(ch) ? 0.3 : 0.56;
  }
  return w * fontSize;
}

/** Cut `s` to fit `maxPx`, ending in "…". */
export function fitText(s: string, fontSize: number, maxPx: number): string {
  if (textWidth(s, fontSize) <= maxPx) return s;
  let out = '';
  for (const ch of s) {
    if (textWidth(out + ch + '…', fontSize) > maxPx) break;
    out += ch;
  }
  return out + '…';
}

const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;
const hex2 = (v: number): string => Math.round(Math.max(0, Math.min(255, v))).toString(16).padStart(2, '0');

/** Red (0) → yellow (0.5) → green (1), ColorBrewer RdYlGn end points; NaN → grey. */
export function completenessColor(t: number): string {
  if (!Number.isFinite(t)) return '#9e9e9e';
  const x = Math.max(0, Math.min(1, t));
  const stops: Array<[number, number, number]> = [
    [215, 48, 39],
    [254, 224, 139],
    [26, 152, 80],
  ];
  const [a, b, u] = x < 0.5 ? [stops[0], stops[1], x * 2] : [stops[1], stops[2], (x - 0.5) * 2];
  return `#${hex2(lerp(a[0], b[0], u))}${hex2(lerp(a[1], b[1], u))}${hex2(lerp(a[2], b[2], u))}`;
}

/** Numbers in SVG attributes: at most `d` decimals, no trailing zeros, no "-0". */
export function num(x: number, d = 1): string {
  const f = 10 ** d;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? '0' : String(r);
}

export interface BarRow {
  label: string;
  /** 0–1; null = no value (drawn as "—"). */
  value: number | null;
  /** a target share for this row (dashed mark); bars reaching it are drawn in the "met" colour. */
  target?: number;
  /** tooltip text (SVG <title>). */
  title?: string;
}

export interface BarChartOptions {
  width?: number;
  rowHeight?: number;
  fontSize?: number;
  /** text shown after each bar; default a percentage with one decimal. */
  formatValue?: (v: number) => string;
  /** accessible name of the chart. */
  title: string;
  /** legend text for the target mark (shown when a row has a target). */
  targetLabel?: string;
}

const pct1 = (v: number): string => `${(v * 100).toFixed(1)}%`;

/** Horizontal bars of shares (0–1), one row per label; bars coloured by value (red → green). */
export function barChartSvg(rows: readonly BarRow[], opts: BarChartOptions): string {
  const width = opts.width ?? 760;
  const rowH = opts.rowHeight ?? 22;
  const fs = opts.fontSize ?? 12;
  const fmt = opts.formatValue ?? pct1;
  const labelW = Math.min(width * 0.4, Math.max(60, ...rows.map((r) => textWidth(r.label, fs))) + 8);
  const valueW = 56;
  const x0 = labelW + 4;
  const barW = width - x0 - valueW;
  const hasTarget = rows.some((r) => r.target !== undefined);
  const top = 20;
  const height = top + rows.length * rowH + (hasTarget && opts.targetLabel ? 26 : 8);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="${fs}">`,
    `<title>${escapeXml(opts.title)}</title>`,
  );
  // grid at 0, 25, 50, 75, 100 %
  for (let k = 0; k <= 4; k++) {
    const x = x0 + (barW * k) / 4;
    out.push(
      `<line x1="${num(x)}" y1="${top - 4}" x2="${num(x)}" y2="${top + rows.length * rowH}" stroke="#e0e0e0"/>`,
      `<text x="${num(x)}" y="${top - 8}" text-anchor="middle" fill="#757575" font-size="${fs - 2}">${k * 25}%</text>`,
    );
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const cy = y + rowH / 2;
    const label = fitText(r.label, fs, labelW - 8);
    out.push(`<g>`);
    if (r.title || label !== r.label) out.push(`<title>${escapeXml(r.title ?? r.label)}</title>`);
    out.push(`<text x="${num(labelW)}" y="${num(cy + fs * 0.35)}" text-anchor="end" fill="#212121">${escapeXml(label)}</text>`);
    if (r.value === null || !Number.isFinite(r.value)) {
      out.push(`<text x="${num(x0 + 4)}" y="${num(cy + fs * 0.35)}" fill="#9e9e9e">—</text>`);
    } else {
      const v = Math.max(0, Math.min(1, r.value));
      const w = Math.max(v > 0 ? 1 : 0, barW * v);
      out.push(
        `<rect x="${num(x0)}" y="${num(y + 4)}" width="${num(w)}" height="${num(rowH - 8)}" fill="${completenessColor(v)}"/>`,
        `<text x="${num(x0 + w + 4)}" y="${num(cy + fs * 0.35)}" fill="#212121">${escapeXml(fmt(r.value))}</text>`,
      );
    }
    if (r.target !== undefined) {
      const tx = x0 + barW * Math.max(0, Math.min(1, r.target));
      out.push(`<line x1="${num(tx)}" y1="${num(y + 1)}" x2="${num(tx)}" y2="${num(y + rowH - 1)}" stroke="#212121" stroke-width="2" stroke-dasharray="3 2"/>`);
    }
    out.push(`</g>`);
  });
  if (hasTarget && opts.targetLabel) {
    const y = top + rows.length * rowH + 16;
    out.push(
      `<line x1="${num(x0)}" y1="${y - 9}" x2="${num(x0)}" y2="${y + 3}" stroke="#212121" stroke-width="2" stroke-dasharray="3 2"/>`,
      `<text x="${num(x0 + 6)}" y="${y}" fill="#424242">${escapeXml(opts.targetLabel)}</text>`,
    );
  }
  out.push(`</svg>`);
  return out.join('');
}

export interface Segment {
  label: string;
  value: number;
  color: string;
}

export interface StackedBarOptions {
  width?: number;
  fontSize?: number;
  title: string;
  /** legend value text; default the share of the total with one decimal. */
  formatValue?: (value: number, share: number) => string;
}

/**
 * One 100 % stacked bar (e.g. population per grade) with a legend below it: colour, label,
 * value and share per segment. Segments of zero are listed in the legend but not drawn.
 */
export function stackedBarSvg(segments: readonly Segment[], opts: StackedBarOptions): string {
  const width = opts.width ?? 760;
  const fs = opts.fontSize ?? 12;
  const total = segments.reduce((s, g) => s + (Number.isFinite(g.value) && g.value > 0 ? g.value : 0), 0);
  const fmt = opts.formatValue ?? ((_v: number, share: number) => pct1(share));
  const barH = 28;
  const legendRowH = fs + 10;
  const height = 8 + barH + 12 + segments.length * legendRowH + 4;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="${fs}">`,
    `<title>${escapeXml(opts.title)}</title>`,
  );
  if (total <= 0) {
    out.push(`<rect x="0" y="8" width="${width}" height="${barH}" fill="#eeeeee"/>`);
  } else {
    let x = 0;
    for (const s of segments) {
      if (!(Number.isFinite(s.value) && s.value > 0)) continue;
      const w = (width * s.value) / total;
      out.push(`<rect x="${num(x)}" y="8" width="${num(w)}" height="${barH}" fill="${escapeXml(s.color)}"><title>${escapeXml(`${s.label}: ${fmt(s.value, s.value / total)}`)}</title></rect>`);
      if (w > 44) {
        out.push(`<text x="${num(x + w / 2)}" y="${num(8 + barH / 2 + fs * 0.35)}" text-anchor="middle" fill="#ffffff" font-weight="bold">${escapeXml(pct1(s.value / total))}</text>`);
      }
      x += w;
    }
  }
  segments.forEach((s, i) => {
    const y = 8 + barH + 12 + i * legendRowH;
    const share = total > 0 && Number.isFinite(s.value) ? Math.max(0, s.value) / total : 0;
    out.push(
      `<rect x="0" y="${y}" width="${fs}" height="${fs}" fill="${escapeXml(s.color)}"/>`,
      `<text x="${fs + 6}" y="${num(y + fs * 0.85)}" fill="#212121">${escapeXml(`${s.label}: ${fmt(s.value, share)}`)}</text>`,
    );
  });
  out.push(`</svg>`);
  return out.join('');
}

/** Colours for grades, lowest → highest (none is grey); more grades than colours reuse the last. */
export function gradeColors(gradeCount: number): string[] {
  const greens = ['#a6d96a', '#66bd63', '#1a9850', '#006837', '#00441b'];
  const out = ['#bdbdbd'];
  for (let g = 0; g < gradeCount; g++) {
    const k = gradeCount === 1 ? 2 : Math.round((g * (greens.length - 1)) / (gradeCount - 1));
    out.push(greens[k]);
  }
  return out;
}
