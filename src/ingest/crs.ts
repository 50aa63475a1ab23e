/**
 * Chinese map coordinate systems: WGS-84 (GPS, OSM), GCJ-02 (the state-mandated offset used by
 * Amap/高德 and Tencent) and BD-09 (Baidu's further offset of GCJ-02). Quarter stores WGS-84
 * and converts at the edges (the product brief).
 *
 * The forward transforms come from `gcoord` (WGS-84 → GCJ-02 is the widely published
 * Krasovsky-ellipsoid formula; GCJ-02 → BD-09 is Baidu's published bd_encrypt formula).
 * The inverses are not closed-form: gcoord's GCJ-02 → WGS-84 iterates to 1e-6° (≈ 0.1 m) and
 * its BD-09 → GCJ-02 is the usual one-step approximation (≈ 0.05–0.15 m off). Here both
 * inverses are solved by fixed-point iteration against gcoord's forward transform until the
 * forward image matches the input to 1e-9° (≈ 0.1 mm), so a round trip is exact to well
 * under a centimetre (test/pois/crs.test.ts measures it on random points across China).
 *
 * "Inside China" is gcoord's rough rectangle (lon 72.004–137.8347, lat 0.8293–55.8271, the
 * same test as eviltransform and coordtransform). Outside it every conversion here is the
 * identity: GCJ-02 applies only inside China, and Baidu serves WGS-84 abroad. Note that the
 * rectangle also covers Korea, Japan west of 137.8° E, Mongolia and parts of South-East Asia,
 * where these conversions would (wrongly) shift points; Quarter's imports are Chinese cities.
 */
import gcoordModule from 'gcoord';

/**
 * gcoord's CommonJS entry sets `module.exports = exported`, but its typings declare
 * `export default exported`; under NodeNext the default import is `module.exports` itself,
 * so it is typed here as what it really is.
 */
const gcoord = gcoordModule as unknown as typeof gcoordModule.default;

export const CRS_IDS = ['wgs84', 'gcj02', 'bd09'] as const;
export type Crs = (typeof CRS_IDS)[number];

/** [lon, lat] in degrees. */
export type LonLat = [number, number];

/** Display names for messages ("WGS-84", "GCJ-02", "BD-09"). */
export const CRS_LABEL: Readonly<Record<Crs, string>> = { wgs84: 'WGS-84', gcj02: 'GCJ-02', bd09: 'BD-09' };

/** Stop iterating when the forward image is within this many degrees of the target (≈ 0.1 mm). */
const INVERSE_TOLERANCE_DEG = 1e-9;
/** The Jacobians are within ~1e-3 of the identity, so a few rounds suffice; this is a safety cap. */
const INVERSE_MAX_ROUNDS = 50;

/** gcoord's (and eviltransform's) rough "inside China" rectangle. */
export function inChinaBbox(lon: number, lat: number): boolean {
  return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
}

/**
 * One gcoord call. A GeoJSON Point, not a bare [lon, lat]: for a bare position gcoord builds
 * its error messages (stringifying the array) on every call, which makes it 2–5× slower.
 */
function viaGcoord(lon: number, lat: number, from: gcoordModule.CRSTypes, to: gcoordModule.CRSTypes): LonLat {
  const p = gcoord.transform({ type: 'Point', coordinates: [lon, lat] }, from, to).coordinates;
  return [p[0], p[1]];
}

function finite(lon: number, lat: number): boolean {
  return Number.isFinite(lon) && Number.isFinite(lat);
}

export function wgs84ToGcj02(lon: number, lat: number): LonLat {
  if (!finite(lon, lat) || !inChinaBbox(lon, lat)) return [lon, lat];
  return viaGcoord(lon, lat, gcoord.WGS84, gcoord.GCJ02);
}

export function gcj02ToBd09(lon: number, lat: number): LonLat {
  if (!finite(lon, lat) || !inChinaBbox(lon, lat)) return [lon, lat];
  return viaGcoord(lon, lat, gcoord.GCJ02, gcoord.BD09);
}

/**
 * Solve forward(x) = target by x ← x − (forward(x) − target), starting from gcoord's own
 * inverse (already within a metre). Converges because forward is the identity plus a slowly
 * varying offset.
 */
function invert(forward: (lon: number, lat: number) => LonLat, start: LonLat, lon: number, lat: number): LonLat {
  let x = start[0];
  let y = start[1];
  for (let round = 0; round < INVERSE_MAX_ROUNDS; round++) {
    const [fx, fy] = forward(x, y);
    const dx = fx - lon;
    const dy = fy - lat;
    if (Math.abs(dx) < INVERSE_TOLERANCE_DEG && Math.abs(dy) < INVERSE_TOLERANCE_DEG) break;
    x -= dx;
    y -= dy;
  }
  return [x, y];
}

export function gcj02ToWgs84(lon: number, lat: number): LonLat {
  if (!finite(lon, lat) || !inChinaBbox(lon, lat)) return [lon, lat];
  return invert(wgs84ToGcj02, viaGcoord(lon, lat, gcoord.GCJ02, gcoord.WGS84), lon, lat);
}

export function bd09ToGcj02(lon: number, lat: number): LonLat {
  if (!finite(lon, lat) || !inChinaBbox(lon, lat)) return [lon, lat];
  return invert(gcj02ToBd09, viaGcoord(lon, lat, gcoord.BD09, gcoord.GCJ02), lon, lat);
}

export function wgs84ToBd09(lon: number, lat: number): LonLat {
  const g = wgs84ToGcj02(lon, lat);
  return gcj02ToBd09(g[0], g[1]);
}

export function bd09ToWgs84(lon: number, lat: number): LonLat {
  const g = bd09ToGcj02(lon, lat);
  return gcj02ToWgs84(g[0], g[1]);
}

/** Any of the three to WGS-84. */
export function toWgs84(lon: number, lat: number, from: Crs): LonLat {
  switch (from) {
    case 'wgs84':
      return [lon, lat];
    case 'gcj02':
      return gcj02ToWgs84(lon, lat);
    case 'bd09':
      return bd09ToWgs84(lon, lat);
  }
}

/** WGS-84 to any of the three. */
export function fromWgs84(lon: number, lat: number, to: Crs): LonLat {
  switch (to) {
    case 'wgs84':
      return [lon, lat];
    case 'gcj02':
      return wgs84ToGcj02(lon, lat);
    case 'bd09':
      return wgs84ToBd09(lon, lat);
  }
}

/** Between any two of the three. */
export function convertCrs(lon: number, lat: number, from: Crs, to: Crs): LonLat {
  if (from === to) return [lon, lat];
  if (from === 'gcj02' && to === 'bd09') return gcj02ToBd09(lon, lat);
  if (from === 'bd09' && to === 'gcj02') return bd09ToGcj02(lon, lat);
  const w = toWgs84(lon, lat, from);
  return fromWgs84(w[0], w[1], to);
}

/** Parse a user's CRS name: wgs84 / WGS-84 / EPSG:4326, gcj02 / GCJ-02 / amap / 高德 / 火星, bd09 / BD-09 / baidu / 百度. */
export function parseCrs(s: string): Crs | null {
  const k = s.normalize('NFKC').trim().toLowerCase().replace(/[\s_\-:]/g, '');
  if (k === 'wgs84' || k === 'wgs' || k === 'epsg4326' || k === 'gps' || k === 'osm') return 'wgs84';
  if (k === 'gcj02' || k === 'gcj' || k === 'amap' || k === 'gaode' || k === '高德' || k === '火星' || k === 'tencent' || k === '腾讯') {
    return 'gcj02';
  }
  if (k === 'bd09' || k === 'bd09ll' || k === 'bd' || k === 'baidu' || k === '百度') return 'bd09';
  return null;
}
