/** Flag parsers: every value is checked and a wrong one names the flag and what was expected. */
import { usageError } from './errors.js';

export function parseNumber(flag: string, raw: string, min = -Infinity, max = Infinity): number {
  const s = raw.trim();
  const v = Number(s);
  if (s === '' || !Number.isFinite(v)) throw usageError(`${flag}: "${raw}" is not a number`);
  if (v < min || v > max) throw usageError(`${flag}: ${v} is out of range [${min}, ${max}]`);
  return v;
}

/** "lon,lat" in WGS-84 degrees. Catches the common swap (lat,lon) when it is unambiguous. */
export function parseLonLat(flag: string, raw: string): [number, number] {
  const parts = raw.split(',');
  if (parts.length !== 2) throw usageError(`${flag}: expected "lon,lat" (e.g. 121.437,31.188), got "${raw}"`);
  const lon = parseNumber(`${flag} longitude`, parts[0], -180, 180);
  const lat = parseNumber(`${flag} latitude`, parts[1], -180, 180);
  if (Math.abs(lat) > 90) {
    if (Math.abs(lon) <= 90) throw usageError(`${flag}: latitude ${lat} is out of range; did you swap them? Write lon,lat (${lat},${lon})`);
    throw usageError(`${flag}: latitude ${lat} is out of range [-90, 90]`);
  }
  return [lon, lat];
}

export function parseMinutesList(flag: string, raw: string): number[] {
  const list = raw.split(',').map((p) => parseNumber(flag, p, 0.5, 180));
  if (list.length === 0) throw usageError(`${flag}: give at least one number of minutes`);
  return [...new Set(list)].sort((a, b) => a - b);
}

/** "w,s,e,n" degrees. */
export function parseBbox(flag: string, raw: string): [number, number, number, number] {
  const p = raw.split(',');
  if (p.length !== 4) throw usageError(`${flag}: expected "west,south,east,north", got "${raw}"`);
  const [w, s, e, n] = [
    parseNumber(`${flag} west`, p[0], -180, 180),
    parseNumber(`${flag} south`, p[1], -90, 90),
    parseNumber(`${flag} east`, p[2], -180, 180),
    parseNumber(`${flag} north`, p[3], -90, 90),
  ];
  if (w >= e || s >= n) throw usageError(`${flag}: west must be < east and south < north`);
  return [w, s, e, n];
}

/** "800", "800m", "0.8km" → metres. */
export function parseMetres(flag: string, raw: string): number {
  const m = /^\s*([0-9.]+)\s*(m|km)?\s*$/i.exec(raw);
  if (!m) throw usageError(`${flag}: expected a distance like 300 or 300m or 0.3km, got "${raw}"`);
  const v = parseNumber(flag, m[1], 0) * (m[2]?.toLowerCase() === 'km' ? 1000 : 1);
  if (v <= 0 || v > 100000) throw usageError(`${flag}: ${v} m is out of range (0, 100 km]`);
  return v;
}
