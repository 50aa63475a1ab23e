/**
 * Client of the facility edit API (planner): add, change and remove a facility of the served
 * region, each naming the version read (409 when someone else edited it since), and fresh reads
 * of the facility list and format counts after an edit — api.ts keeps its first answers for the
 * page's life, these ask the server every time. Writes carry the CSRF token (api.ts `send`).
 */
import { query, request, send, type FacilityItem, type FormatInfo } from '../api.js';

/** The server's list cap (src/server/app.ts FACILITY_CAP). */
const FACILITY_LIMIT = 5000;

/** A facility as the list and the edit answers give it. */
export interface EditableFacility extends FacilityItem {
  /** stable reference for edits: the imported id ("17") or "added-…". */
  ref: string;
  /** edits so far; the next edit must name it. */
  version: number;
  /** where it came from: osm, amap, baidu, user … */
  source?: string;
}

export interface FacilityList {
  total: number;
  truncated: boolean;
  facilities: EditableFacility[];
}

export interface FacilityEditEntry {
  version: number;
  kind: 'add' | 'edit' | 'delete';
  data: Record<string, unknown> | null;
  actor: string | null;
  at: string;
}

export interface FacilityHistory {
  ref: string;
  version: number;
  removed: boolean;
  facility: EditableFacility | null;
  edits: FacilityEditEntry[];
}

export interface NewFacility {
  name: string;
  formats: string[];
  lon: number;
  lat: number;
}

export interface FacilityChange {
  version: number;
  name?: string;
  formats?: string[];
  lon?: number;
  lat?: number;
}

const path = (ref: string): string => `/api/facilities/${encodeURIComponent(ref)}`;

export const facilityApi = {
  /** every facility as the server has it now (never a cached answer). */
  list: () => request<FacilityList>(`/api/facilities?${query({ limit: FACILITY_LIMIT })}`, { cache: 'no-cache' }),
  /** the formats with their counts now. */
  formats: async (): Promise<FormatInfo[]> => (await request<{ formats: FormatInfo[] }>('/api/formats', { cache: 'no-cache' })).formats,
  history: (ref: string) => request<FacilityHistory>(`${path(ref)}/history`, { cache: 'no-cache' }),
  add: (body: NewFacility) => send<EditableFacility>('POST', '/api/facilities', body),
  change: (ref: string, body: FacilityChange) => send<EditableFacility>('PATCH', path(ref), body),
  remove: (ref: string, version: number) => send<{ ref: string; version: number; removed: boolean }>('DELETE', `${path(ref)}?${query({ version })}`),
};
