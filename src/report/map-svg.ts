/**
 * A static map as inline SVG for the assessment report: the walk network (light grey), homes as
 * dots coloured by completeness (red → green), the facilities of one format as markers, gap
 * centres, zone outlines, a legend and a scale bar. Local equirectangular projection around the
 * map's centre latitude (plenty for a district). File size stays sane for big regions: the
 * network is one path of whole-pixel relative moves with each pixel segment drawn once, on a
 * coarser grid when it would exceed ~1.5 MB (180,000 grid edges: 1.1 MB); other coordinates keep
 * one decimal; homes beyond `maxResidences` are thinned by a deterministic hash of their index
 * (same picture every run). All text is escaped (`escapeXml`).
 */
import type { WalkGraph } from '../engine/graph.js';
import type { GeoJSONGeometry } from '../assess/result.js';
import { completenessColor, escapeXml, fitText, num } from './charts-svg.js';

/** [minLon, minLat, maxLon, maxLat] */
export type BBox = [number, number, number, number];

export interface MapPoint {
  lon: number;
  lat: number;
  /** tooltip text (escaped). */
  name?: string;
}

export interface MapOutline {
  geometry: GeoJSONGeometry;
  name: string;
  /** the zone the map is about: drawn heavier. */
  highlight?: boolean;
}

export interface MapLegendText {
  title: string;
  completeness: string;
  unreachable: string;
  network: string;
  zoneOutline: string;
  /** e.g. "药店（12 处）"; omitted from the legend when there are no facilities. */
  facilities: string;
  gapCentre: string;
  /** e.g. (drawn, total) => "显示 5,000 / 48,213 处住宅（抽样）"; shown only when thinned. */
  sampled: (drawn: number, total: number) => string;
}

export interface MapInput {
  graph: WalkGraph;
  /** the homes: coordinates and completeness (0–1) by residence index; reachable 0 = grey. */
  residences: {
    lon: ArrayLike<number>;
    lat: ArrayLike<number>;
    completeness: ArrayLike<number>;
    reachable: ArrayLike<number>;
  };
  /** residence indices to consider (default: all); thinned to maxResidences. */
  residenceIndices?: ArrayLike<number>;
  facilities?: readonly MapPoint[];
  gapCentres?: readonly MapPoint[];
  outlines?: readonly MapOutline[];
  /** extent; default: the homes, facilities and outlines (else the whole network). */
  bbox?: BBox;
  legend: MapLegendText;
  width?: number;
  maxHeight?: number;
  /** default 6000. */
  maxResidences?: number;
  /** facility markers drawn at most (default 3000); tooltips only up to 600. */
  maxFacilities?: number;
  /** prefix for ids inside the SVG (several maps on one page). */
  idPrefix?: string;
  /** characters of network path data before the drawing grid coarsens (default 1.5 M). */
  networkBudgetChars?: number;
}

export interface MapOutput {
  svg: string;
  drawnResidences: number;
  totalResidences: number;
  drawnEdges: number;
}

const M_PER_DEG = 111_320;

/** Bounding box of a Polygon / MultiPolygon, or null when it has no coordinates. */
export function geometryBBox(g: GeoJSONGeometry): BBox | null {
  const b: BBox = [Infinity, Infinity, -Infinity, -Infinity];
  for (const ring of rings(g)) {
    for (const [x, y] of ring) {
      if (x < b[0]) b[0] = x;
      if (y < b[1]) b[1] = y;
      if (x > b[2]) b[2] = x;
      if (y > b[3]) b[3] = y;
    }
  }
  return b[0] <= b[2] ? b : null;
}

function rings(g: GeoJSONGeometry): number[][][] {
  return g.type === 'Polygon' ? g.coordinates : g.coordinates.flat();
}

/** Whether a point lies inside a Polygon / MultiPolygon (even–odd: holes excluded). */
export function pointInGeometry(lon: number, lat: number, g: GeoJSONGeometry): boolean {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  for (const poly of polys) {
    let inside = false;
    for (const ring of poly) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
    if (inside) return true;
  }
  return false;
}

/** Residence indices whose point lies in `g` (bbox pre-check first). */
export function residencesInGeometry(lon: ArrayLike<number>, lat: ArrayLike<number>, g: GeoJSONGeometry): number[] {
  const b = geometryBBox(g);
  const out: number[] = [];
  if (!b) return out;
  for (let i = 0; i < lon.length; i++) {
    const x = lon[i];
    const y = lat[i];
    if (x < b[0] || x > b[2] || y < b[1] || y > b[3]) continue;
    if (pointInGeometry(x, y, g)) out.push(i);
  }
  return out;
}

/** Deterministic thinning: keep about `cap` of `indices`, chosen by a multiplicative hash of the index. */
export function sampleIndices(indices: ArrayLike<number>, cap: number): number[] {
  const n = indices.length;
  const all = Array.from(indices);
  if (n <= cap) return all;
  // rank by hash, keep the `cap` smallest: exactly `cap`, spread over space, stable across runs
  const keyed = all.map((i) => [Math.imul(i + 1, 0x9e3779b1) >>> 0, i] as const);
  keyed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return keyed
    .slice(0, cap)
    .map((k) => k[1])
    .sort((a, b) => a - b);
}

function extend(b: BBox, x: number, y: number): void {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return;
  if (x < b[0]) b[0] = x;
  if (y < b[1]) b[1] = y;
  if (x > b[2]) b[2] = x;
  if (y > b[3]) b[3] = y;
}

/** A 1-2-5 round length in metres near `m`. */
function niceMetres(m: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(m, 1)));
  const f = m / p;
  return (f >= 5 ? 5 : f >= 2 ? 2 : 1) * p;
}

/** The network path at a grid of `q` px, or null when it exceeds `budget` characters. */
function drawNetwork(
  g: WalkGraph,
  ext: BBox,
  px: (lon: number) => number,
  py: (lat: number) => number,
  q: number,
  budget: number,
): { d: string[]; drawnEdges: number } | null {
  const d: string[] = [];
  let chars = 0;
  let drawnEdges = 0;
  const seen = new Set<number>();
  const snap = (v: number): number => Math.round(v / q) * q;
  const segKey = (x1: number, y1: number, x2: number, y2: number): number => {
    // undirected; coordinates offset into 0..4095 (farther ones get no key and are always drawn)
    const [ax, ay, bx, by] = x1 < x2 || (x1 === x2 && y1 < y2) ? [x1, y1, x2, y2] : [x2, y2, x1, y1];
    if (Math.min(ax, ay, bx, by) < -1024 || Math.max(ax, ay, bx, by) > 3071) return -1;
    return (((ax + 1024) * 4096 + (ay + 1024)) * 4096 + (bx + 1024)) * 4096 + (by + 1024);
  };
  let penX = NaN;
  let penY = NaN;
  for (let e = 0; e < g.edgeCount; e++) {
    const a = g.geomOffsets[e];
    const b = g.geomOffsets[e + 1];
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let p = a; p < b; p++) {
      const x = g.geomCoords[2 * p];
      const y = g.geomCoords[2 * p + 1];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    if (maxX < ext[0] || minX > ext[2] || maxY < ext[1] || minY > ext[3]) continue;
    let drew = false;
    let lx = snap(px(g.geomCoords[2 * a]));
    let ly = snap(py(g.geomCoords[2 * a + 1]));
    for (let p = a + 1; p < b; p++) {
      const x = snap(px(g.geomCoords[2 * p]));
      const y = snap(py(g.geomCoords[2 * p + 1]));
      if (x === lx && y === ly) continue;
      const k = segKey(lx, ly, x, y);
      if (k < 0 || !seen.has(k)) {
        if (k >= 0) seen.add(k);
        if (lx !== penX || ly !== penY) {
          const m = `M${lx} ${ly}`;
          d.push(m);
          chars += m.length;
        }
        const l = `l${x - lx} ${y - ly}`;
        d.push(l);
        chars += l.length;
        penX = x;
        penY = y;
        drew = true;
      }
      lx = x;
      ly = y;
    }
    if (drew) drawnEdges++;
    if (chars > budget) return null;
  }
  return { d, drawnEdges };
}

export function renderMapSvg(input: MapInput): MapOutput {
  const { graph: g, residences: res, legend } = input;
  const width = input.width ?? 960;
  const maxHeight = input.maxHeight ?? 760;
  const id = input.idPrefix ?? 'map';
  const facilities = (input.facilities ?? []).slice(0, input.maxFacilities ?? 3000);
  const gaps = input.gapCentres ?? [];
  const outlines = input.outlines ?? [];
  const candidates = input.residenceIndices ?? Array.from({ length: res.lon.length }, (_, i) => i);
  const drawn = sampleIndices(candidates, input.maxResidences ?? 6000);

  // extent
  let bbox: BBox;
  if (input.bbox) bbox = [...input.bbox];
  else {
    bbox = [Infinity, Infinity, -Infinity, -Infinity];
    for (let k = 0; k < candidates.length; k++) extend(bbox, res.lon[candidates[k]], res.lat[candidates[k]]);
    for (const f of facilities) extend(bbox, f.lon, f.lat);
    for (const o of outlines) {
      const b = geometryBBox(o.geometry);
      if (b) {
        extend(bbox, b[0], b[1]);
        extend(bbox, b[2], b[3]);
      }
    }
    if (!(bbox[0] <= bbox[2])) for (let u = 0; u < g.nodeCount; u++) extend(bbox, g.nodeCoords[2 * u], g.nodeCoords[2 * u + 1]);
    if (!(bbox[0] <= bbox[2])) bbox = [0, 0, 0, 0];
  }
  // at least ~200 m across, plus 3 % margin
  const minSpan = 0.002;
  const cx = (bbox[0] + bbox[2]) / 2;
  const cy = (bbox[1] + bbox[3]) / 2;
  const halfX = Math.max(bbox[2] - bbox[0], minSpan) * 0.53;
  const halfY = Math.max(bbox[3] - bbox[1], minSpan) * 0.53;
  const ext: BBox = [cx - halfX, cy - halfY, cx + halfX, cy + halfY];
  const k = Math.cos((cy * Math.PI) / 180);
  const pad = 8;
  const dx = (ext[2] - ext[0]) * k;
  const dy = ext[3] - ext[1];
  const s = Math.min((width - 2 * pad) / dx, (maxHeight - 2 * pad) / dy);
  const mapH = Math.ceil(dy * s + 2 * pad);
  const offX = (width - dx * s) / 2;
  const px = (lon: number): number => offX + (lon - ext[0]) * k * s;
  const py = (lat: number): number => pad + (ext[3] - lat) * s;

  const legendH = 78;
  const height = mapH + legendH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="12">`,
    `<title>${escapeXml(legend.title)}</title>`,
    `<defs><linearGradient id="${id}-grad" x1="0" x2="1" y1="0" y2="0">`,
    ...[0, 0.25, 0.5, 0.75, 1].map((t) => `<stop offset="${t * 100}%" stop-color="${completenessColor(t)}"/>`),
    `</linearGradient><clipPath id="${id}-clip"><rect x="0" y="0" width="${width}" height="${mapH}"/></clipPath></defs>`,
    `<rect x="0" y="0" width="${width}" height="${mapH}" fill="#fafafa"/>`,
    `<g clip-path="url(#${id}-clip)">`,
  );

  // network: one path of whole-pixel relative moves; edges outside the extent skipped, pixel
  // segments drawn once (at district scale parallel sidewalks and short links coincide), and an
  // edge that starts where the pen is continues the line without a new move. Over the budget
  // the grid coarsens (2, 3, 4 px): a dense district stays a few MB at most.
  const budget = input.networkBudgetChars ?? 1_500_000;
  let d: string[] = [];
  let drawnEdges = 0;
  for (const q of [1, 2, 3, 4]) {
    const net = drawNetwork(g, ext, px, py, q, q < 4 ? budget : Infinity);
    if (net) {
      d = net.d;
      drawnEdges = net.drawnEdges;
      break;
    }
  }
  if (d.length > 0) {
    out.push(`<path d="${d.join('')}" fill="none" stroke="#c8c8c8" stroke-width="0.8" stroke-linecap="round" stroke-linejoin="round"/>`);
  }

  // zone outlines
  for (const o of outlines) {
    const parts: string[] = [];
    for (const ring of rings(o.geometry)) {
      let seg = '';
      ring.forEach(([x, y], i) => {
        seg += `${i === 0 ? 'M' : 'L'}${num(px(x))} ${num(py(y))}`;
      });
      if (seg) parts.push(seg + 'Z');
    }
    if (parts.length === 0) continue;
    out.push(
      `<path d="${parts.join('')}" fill="none" stroke="${o.highlight ? '#0d47a1' : '#546e7a'}" stroke-width="${o.highlight ? 2.5 : 1.2}" stroke-dasharray="${o.highlight ? 'none' : '5 3'}"><title>${escapeXml(o.name)}</title></path>`,
    );
  }

  // homes: grouped by colour step, unreachable first, then best → worst so gaps lie on top
  const r = drawn.length > 2000 ? 1.8 : drawn.length > 300 ? 2.4 : 3.2;
  const steps = 10;
  const buckets: string[][] = Array.from({ length: steps + 2 }, () => []);
  for (const i of drawn) {
    const x = res.lon[i];
    const y = res.lat[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const c = res.reachable[i] ? res.completeness[i] : NaN;
    const bucket = Number.isFinite(c) ? 1 + Math.round(Math.max(0, Math.min(1, c)) * steps) : 0;
    buckets[bucket].push(`<circle cx="${num(px(x))}" cy="${num(py(y))}" r="${r}"/>`);
  }
  if (buckets[0].length > 0) out.push(`<g fill="#ffffff" stroke="#757575" stroke-width="0.8">${buckets[0].join('')}</g>`);
  for (let bk = steps + 1; bk >= 1; bk--) {
    if (buckets[bk].length === 0) continue;
    out.push(`<g fill="${completenessColor((bk - 1) / steps)}" stroke="#ffffff" stroke-width="0.4">${buckets[bk].join('')}</g>`);
  }

  // facilities of the focus format
  if (facilities.length > 0) {
    const titled = facilities.length <= 600;
    const m = 4.5;
    out.push(`<g fill="#1565c0" stroke="#ffffff" stroke-width="1">`);
    for (const f of facilities) {
      const x = px(f.lon);
      const y = py(f.lat);
      const shape = `<path d="M${num(x)} ${num(y - m)}l${m} ${m}l${-m} ${m}l${-m} ${-m}z"`;
      out.push(titled && f.name ? `${shape}><title>${escapeXml(f.name)}</title></path>` : `${shape}/>`);
    }
    out.push(`</g>`);
  }

  // gap centres: ringed, numbered
  gaps.forEach((gp, i) => {
    const x = px(gp.lon);
    const y = py(gp.lat);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    out.push(
      `<g><title>${escapeXml(gp.name ?? '')}</title>`,
      `<circle cx="${num(x)}" cy="${num(y)}" r="10" fill="none" stroke="#ffffff" stroke-width="4"/>`,
      `<circle cx="${num(x)}" cy="${num(y)}" r="10" fill="none" stroke="#b71c1c" stroke-width="2"/>`,
      `<text x="${num(x)}" y="${num(y + 4)}" text-anchor="middle" font-size="11" font-weight="bold" fill="#b71c1c" stroke="#ffffff" stroke-width="3" paint-order="stroke">${i + 1}</text></g>`,
    );
  });

  // zone labels (only when few): at the centre of the largest ring's box
  if (outlines.length > 0 && outlines.length <= 60) {
    for (const o of outlines) {
      const b = geometryBBox(o.geometry);
      if (!b) continue;
      const lx = px((b[0] + b[2]) / 2);
      const ly = py((b[1] + b[3]) / 2);
      const maxW = Math.max(40, px(b[2]) - px(b[0]));
      out.push(
        `<text x="${num(lx)}" y="${num(ly)}" text-anchor="middle" font-size="${o.highlight ? 14 : 12}" fill="#263238" stroke="#ffffff" stroke-width="3" paint-order="stroke" opacity="0.9">${escapeXml(fitText(o.name, o.highlight ? 14 : 12, maxW))}</text>`,
      );
    }
  }
  out.push(`</g>`);
  out.push(`<rect x="0.5" y="0.5" width="${width - 1}" height="${mapH - 1}" fill="none" stroke="#bdbdbd"/>`);

  // scale bar (bottom right of the map)
  const pxPerM = s / M_PER_DEG;
  const metres = niceMetres(110 / pxPerM);
  const barPx = metres * pxPerM;
  const sx = width - 16 - barPx;
  const sy = mapH - 16;
  const scaleText = metres >= 1000 ? `${metres / 1000} km` : `${metres} m`;
  out.push(
    `<g><rect x="${num(sx - 6)}" y="${sy - 18}" width="${num(barPx + 12)}" height="26" fill="#ffffff" opacity="0.8"/>`,
    `<path d="M${num(sx)} ${sy - 4}v6h${num(barPx)}v-6" fill="none" stroke="#212121" stroke-width="1.5"/>`,
    `<text x="${num(sx + barPx / 2)}" y="${sy - 6}" text-anchor="middle" font-size="11" fill="#212121">${scaleText}</text></g>`,
  );

  // legend under the map
  const ly = mapH + 14;
  const items: string[] = [];
  items.push(
    `<text x="0" y="${ly + 4}" fill="#212121">${escapeXml(legend.completeness)}</text>`,
    `<rect x="0" y="${ly + 12}" width="160" height="10" fill="url(#${id}-grad)"/>`,
    `<text x="0" y="${ly + 36}" font-size="11" fill="#616161">0%</text>`,
    `<text x="80" y="${ly + 36}" font-size="11" text-anchor="middle" fill="#616161">50%</text>`,
    `<text x="160" y="${ly + 36}" font-size="11" text-anchor="end" fill="#616161">100%</text>`,
  );
  const entry = (x: number, y: number, shape: string, text: string): void => {
    items.push(shape, `<text x="${x + 18}" y="${y + 4}" fill="#212121">${escapeXml(text)}</text>`);
  };
  const c1 = 190;
  entry(c1, ly, `<circle cx="${c1 + 6}" cy="${ly}" r="4" fill="#ffffff" stroke="#757575"/>`, legend.unreachable);
  entry(c1, ly + 22, `<line x1="${c1}" y1="${ly + 22}" x2="${c1 + 12}" y2="${ly + 22}" stroke="#c8c8c8" stroke-width="2"/>`, legend.network);
  if (outlines.length > 0) {
    entry(c1, ly + 44, `<line x1="${c1}" y1="${ly + 44}" x2="${c1 + 12}" y2="${ly + 44}" stroke="#546e7a" stroke-width="1.5" stroke-dasharray="4 2"/>`, legend.zoneOutline);
  }
  const c2 = Math.max(c1 + 200, Math.round(width / 2));
  if (facilities.length > 0) {
    entry(c2, ly, `<path d="M${c2 + 6} ${ly - 5}l5 5l-5 5l-5 -5z" fill="#1565c0"/>`, legend.facilities);
  }
  if (gaps.length > 0) {
    entry(c2, ly + 22, `<circle cx="${c2 + 6}" cy="${ly + 22}" r="6" fill="none" stroke="#b71c1c" stroke-width="2"/>`, legend.gapCentre);
  }
  if (drawn.length < candidates.length) {
    items.push(`<text x="${c2}" y="${ly + 48}" font-size="11" fill="#616161">${escapeXml(legend.sampled(drawn.length, candidates.length))}</text>`);
  }
  out.push(`<g>${items.join('')}</g>`, `</svg>`);
  return { svg: out.join(''), drawnResidences: drawn.length, totalResidences: candidates.length, drawnEdges };
}
