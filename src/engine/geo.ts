/**
 * Small geodesy helpers shared by the engine: great-circle metres and a local
 * equirectangular projection (metres east/north of a reference point).
 *
 * Within a few kilometres of the reference point the equirectangular metric is within
 * ~0.1 % of the true distance at mid latitudes, which is far below the accuracy of the
 * street geometry itself; snapping (≤ a few hundred metres) and isochrone grids (a few
 * kilometres) use it.
 */

/** Mean Earth radius (IUGG), metres. */
export const EARTH_RADIUS_M = 6371008.8;
export const DEG_TO_RAD = Math.PI / 180;
/** Metres per degree of latitude on the sphere (≈ 111 195 m). */
export const METRES_PER_DEG_LAT = EARTH_RADIUS_M * DEG_TO_RAD;

/** Metres per degree of longitude at a latitude (degrees). */
export function metresPerDegLon(lat: number): number {
  return METRES_PER_DEG_LAT * Math.cos(lat * DEG_TO_RAD);
}

/** Great-circle distance in metres between two WGS-84 points (spherical Earth). */
export function haversineMetres(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const p1 = lat1 * DEG_TO_RAD;
  const p2 = lat2 * DEG_TO_RAD;
  const dp = p2 - p1;
  const dl = (lon2 - lon1) * DEG_TO_RAD;
  const s1 = Math.sin(dp / 2);
  const s2 = Math.sin(dl / 2);
  const h = s1 * s1 + Math.cos(p1) * Math.cos(p2) * s2 * s2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Length in metres of the polyline stored as lon,lat pairs in coords[2*first .. 2*last+1]. */
export function polylineMetres(coords: Float64Array, first: number, last: number): number {
  let m = 0;
  for (let p = first; p < last; p++) {
    m += haversineMetres(coords[2 * p], coords[2 * p + 1], coords[2 * p + 2], coords[2 * p + 3]);
  }
  return m;
}

/**
 * Local equirectangular projection about (lon0, lat0): x metres east, y metres north.
 * One instance per operation (not per point); the methods are tiny and inline well.
 */
export class LocalProjection {
  readonly lon0: number;
  readonly lat0: number;
  /** metres per degree of longitude at lat0. */
  readonly kx: number;
  /** metres per degree of latitude. */
  readonly ky: number;

  constructor(lon0: number, lat0: number) {
    this.lon0 = lon0;
    this.lat0 = lat0;
    this.ky = METRES_PER_DEG_LAT;
    this.kx = metresPerDegLon(lat0);
  }

  x(lon: number): number {
    return (lon - this.lon0) * this.kx;
  }

  y(lat: number): number {
    return (lat - this.lat0) * this.ky;
  }

  lon(x: number): number {
    return this.lon0 + x / this.kx;
  }

  lat(y: number): number {
    return this.lat0 + y / this.ky;
  }
}
