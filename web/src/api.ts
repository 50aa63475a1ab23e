/**
 * Typed client of the Quarter HTTP API (same origin). Errors come back as ApiError carrying the
 * server's message and the field it names. Everything returned is data: show it as text only.
 */
import type { Feature, FeatureCollection, LineString, MultiPolygon, Point, Polygon } from 'geojson';
import { t, type LocalizedName } from './i18n/index.js';

export type LngLat = [number, number];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    /** the server's short error word ("conflict", "forbidden", …). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * The session's CSRF token: kept in memory only (never in storage or a cookie the page can read),
 * sent as x-csrf-token on every request that writes.
 */
let csrfToken: string | null = null;
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export type UserRole = 'public' | 'planner' | 'admin';
export interface SessionUser {
  name: string;
  role: UserRole;
}
export interface MeResponse {
  user: SessionUser | null;
  csrfToken: string | null;
}

export interface RegionMeta {
  name: string;
  bbox: [number, number, number, number];
  counts: { nodes: number; edges: number; facilities: number; residences: number; compounds: number };
  snapLimitMetres: number;
  attribution: string;
  license: string;
}

export type FormatClass = 'basic' | 'public' | 'quality';

export interface FormatInfo {
  id: string;
  name: LocalizedName;
  class: FormatClass;
  count: number;
  mofcomMinutes?: number;
}

export interface FacilityItem {
  id: number;
  name: string;
  formats: string[];
  lon: number;
  lat: number;
}

export interface NearestFormat {
  format: string;
  name?: LocalizedName;
  nearest: { id: number; name: string; lon: number; lat: number; minutes: number } | null;
  /** facilities of the format within 5 / 10 / 15 minutes, keyed by the minutes as text. */
  within: Record<string, number>;
}

export interface NearestResponse {
  at: LngLat;
  profile: string;
  accessMetres: number;
  maxMinutes: number;
  formats: NearestFormat[];
}

/** Whether a facility is open at the moment asked (from its opening_hours tag; 'unknown' without one). */
export type OpenState = 'open' | 'closed' | 'unknown';
/** The walking bands of the resident page (minutes). */
export type NearbyBand = 5 | 10 | 15;

export interface NearbyFacility {
  id: number;
  name: string;
  formats: string[];
  lon: number;
  lat: number;
  minutes: number;
  /** smallest of 5 / 10 / 15 ≥ minutes; null above 15. */
  band: NearbyBand | null;
  open: OpenState;
  openingHours: string | null;
}

export interface NearbyFormatSummary {
  format: string;
  name?: LocalizedName;
  /** facilities of the format within 5 / 10 / 15 minutes (keys "5", "10", "15", up to maxMinutes). */
  within: Record<string, number>;
  nearestMinutes: number | null;
}

export interface NearbyResponse {
  at: LngLat;
  profile: string;
  accessMetres: number;
  maxMinutes: number;
  /** wall-clock minute the open states are for ("2025-11-24T07:30"), on the region's clocks. */
  time: string;
  timeZone: string | null;
  total: number;
  returned: number;
  truncated: boolean;
  /** nearest first. */
  facilities: NearbyFacility[];
  formats: NearbyFormatSummary[];
  attribution: string;
}

export type IsochroneCollection = FeatureCollection<MultiPolygon | Polygon, { minutes: number }>;

export interface BasemapProperties {
  layer: 'road' | 'rail' | 'building' | 'water' | 'waterway' | 'green';
  class?: string;
  name?: string;
}
export type BasemapCollection = FeatureCollection<Point | LineString | Polygon | MultiPolygon, BasemapProperties>;

export interface RouteResponse {
  seconds: number;
  metres: number;
  geometry: LineString;
  facility?: { id: number; name: string; formats: string[] } | null;
}

export interface SearchResult {
  name: string;
  kind: 'compound' | 'street' | 'facility';
  lon: number;
  lat: number;
  /** facility id (facility hits only). */
  id?: number;
}

export interface CoverageItem {
  requirement: number;
  formats: string[];
  names: LocalizedName[];
  withinMinutes: number;
  coverage: number | null;
}

export interface GapItem {
  requirement: number;
  format: string;
  formats: string[];
  names: LocalizedName[];
  residentsAffected: number;
  elderlyAffected: number;
  residences: number;
  lon: number;
  lat: number;
  medianMinutes: number | null;
}

export interface AssessSummary {
  region: string;
  profile: { id: string; name: LocalizedName };
  settings: { at: string | null; population: number | null; elderlyShare: number };
  headline: {
    population: number;
    elderly: number;
    residences: number;
    unreachableResidences: number;
    basicFormatCoverage: Array<{ format: string; coverage: number | null; name?: LocalizedName }>;
    completeCircleShare: number | null;
    meanCompleteness: number | null;
    chainOutletShare: number | null;
  };
  zone: {
    id: string;
    name: string;
    residences: number;
    population: number;
    grade: { index: number; name: LocalizedName | null } | null;
    completeness: number | null;
    completeShare: number | null;
    coverage: CoverageItem[];
    gaps: GapItem[];
  };
  warnings: string[];
  attribution: string;
}

export interface AssessRequest {
  profile: string;
  population?: number;
  at?: string;
}

/** "lon,lat" as the API's patterns accept it (6 decimals ≈ 0.1 m). */
export const lonLatParam = ([lon, lat]: LngLat): string => `${lon.toFixed(6)},${lat.toFixed(6)}`;

export async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const method = (init?.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (typeof init?.body === 'string') headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { ...init, headers: { ...headers, ...((init?.headers as Record<string, string> | undefined) ?? {}) }, credentials: 'same-origin' });
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' && res.ok ? null : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, `${path.split('?')[0]}: the server did not answer with JSON (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const err = (body ?? {}) as { message?: unknown; field?: unknown; error?: unknown };
    throw new ApiError(
      res.status,
      typeof err.message === 'string' ? err.message : `HTTP ${res.status}`,
      typeof err.field === 'string' ? err.field : undefined,
      typeof err.error === 'string' ? err.error : undefined,
    );
  }
  return body as T;
}

/**
 * A JSON write (POST/PATCH/DELETE) with the CSRF token. A token refused as stale (the session was
 * renewed in another tab) is fetched again from /api/me and the write tried once more.
 */
export async function send<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init = { method, body: body === undefined ? undefined : JSON.stringify(body), signal };
  try {
    return await request<T>(path, init);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 403 && err.field === 'csrf')) throw err;
    const me = await request<MeResponse>('/api/me');
    if (!me.user || me.csrfToken === null || me.csrfToken === csrfToken) throw err;
    setCsrfToken(me.csrfToken);
    return request<T>(path, init);
  }
}

export const query = (params: Record<string, string | number | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
};

/** Region-wide answers do not change while the page is open: fetch once. */
/** A load done once per page visit and shared; forget() makes the next call load again. */
function once<T>(load: () => Promise<T>): (() => Promise<T>) & { forget(): void } {
  let pending: Promise<T> | null = null;
  const get = (): Promise<T> => {
    pending ??= load().catch((err: unknown) => {
      pending = null; // a failed load may be retried
      throw err;
    });
    return pending;
  };
  return Object.assign(get, { forget: () => void (pending = null) });
}

export const api = {
  region: once(async () => {
    const r = await request<{ regions: RegionMeta[] }>('/api/regions');
    const first = r.regions[0];
    if (!first) throw new ApiError(500, 'the server has no region loaded');
    return first;
  }),
  formats: once(async () => (await request<{ formats: FormatInfo[] }>('/api/formats')).formats),
  basemap: once(() => request<BasemapCollection>('/api/basemap')),
  /** After a facility edit: the shared facility list and format counts are loaded afresh on next use (heatmap, scenario editor…). */
  facilitiesChanged(): void {
    api.facilities.forget();
    api.formats.forget();
  },
  /** Every facility (the API caps at 5000; a demo region has far fewer). */
  facilities: once(() => request<{ total: number; truncated: boolean; facilities: FacilityItem[] }>(`/api/facilities?${query({ limit: 5000 })}`)),

  nearest: (at: LngLat, opts: { profile?: string; maxMinutes?: number; signal?: AbortSignal } = {}) =>
    request<NearestResponse>(`/api/nearest?${query({ at: lonLatParam(at), profile: opts.profile, maxMinutes: opts.maxMinutes })}`, { signal: opts.signal }),

  /** Every facility within maxMinutes (default 15) on foot, with minutes, band and open state at `time` (default now). */
  nearby: (at: LngLat, opts: { profile?: string; maxMinutes?: number; format?: string; time?: string; signal?: AbortSignal } = {}) =>
    request<NearbyResponse>(
      `/api/nearby?${query({ at: lonLatParam(at), profile: opts.profile, maxMinutes: opts.maxMinutes, format: opts.format, time: opts.time })}`,
      { signal: opts.signal },
    ),

  isochrone: (at: LngLat, opts: { minutes?: number[]; profile?: string; signal?: AbortSignal } = {}) =>
    request<IsochroneCollection>(`/api/isochrone?${query({ at: lonLatParam(at), minutes: (opts.minutes ?? [5, 10, 15]).join(','), profile: opts.profile })}`, {
      signal: opts.signal,
    }),

  assess: (body: AssessRequest, signal?: AbortSignal) => send<AssessSummary>('POST', '/api/assess', body, signal),

  me: () => request<MeResponse>('/api/me'),
  login: (name: string, password: string) => send<{ user: SessionUser; csrfToken: string }>('POST', '/api/login', { name, password }),
  logout: () => send<unknown>('POST', '/api/logout', {}),

  route: (from: LngLat, to: { facility: number } | { at: LngLat }, signal?: AbortSignal) =>
    request<RouteResponse>(`/api/route?${query({ from: lonLatParam(from), ...('facility' in to ? { facility: to.facility } : { to: lonLatParam(to.at) }) })}`, { signal }),

  search: async (q: string, signal?: AbortSignal): Promise<SearchResult[]> => {
    const body = await request<SearchResult[] | { results: SearchResult[] }>(`/api/search?${query({ q })}`, { signal });
    return Array.isArray(body) ? body : body.results;
  },
};

/** A GeoJSON point feature; helper for map sources. */
export const pointFeature = <P>(at: LngLat, properties: P): Feature<Point, P> => ({ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties });

/** A message for the page: the known "no answer here" cases in the page's language, else the server's message. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429) return t('errors.rateLimited');
    if (err.status === 401) return t('errors.loginNeeded');
    if (err.status === 404 && (err.field === 'at' || err.field === 'from')) return t('errors.noAnswerHere', { detail: err.message });
    if (err.status === 404 && err.field === 'url') return t('errors.notAvailable');
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export const isAbort = (err: unknown): boolean => err instanceof DOMException && err.name === 'AbortError';
