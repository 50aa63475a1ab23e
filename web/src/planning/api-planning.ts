/**
 * Client of the planning API: the heatmap, the server's profiles, plan runs, zoning, scenarios and
 * their evaluation, the survey, exports. Only lazily loaded panels (planning tools, the zone
 * dashboard) and the survey form import this module, so it stays out of the first load. Writes
 * carry the CSRF token (api.ts `send`).
 */
import type { Feature, FeatureCollection, MultiPolygon, Point, Polygon } from 'geojson';
import { query, request, send, type LngLat } from '../api.js';
import type { LocalizedName } from '../i18n/index.js';

// ---- heatmap (GET /api/heatmap)

export interface HeatmapCell {
  h3: string;
  homes: number;
  /** present when the answer is resident-weighted. */
  residents?: number;
  /** homes with no facility of the format within maxMinutes. */
  unreached: number;
  /** weighted mean over the reached homes; null when none was reached. */
  meanMinutes: number | null;
  maxMinutes: number | null;
  /** weighted shares of the cell's homes within 5 / 10 / 15 minutes. */
  within5: number;
  within10: number;
  within15: number;
}

export interface HeatmapAnswer {
  format: string;
  profile: string;
  resolution: number;
  maxMinutes: number;
  weighting: 'residents' | 'homes';
  facilities: { total: number; reachable: number };
  homes: number;
  unreached: number;
  cells: HeatmapCell[];
  attribution: string;
}

export interface HeatmapQuery {
  format: string;
  profile?: string;
  resolution?: number;
  maxMinutes?: number;
}

// ---- profiles (GET /api/profiles)

export interface WalkingProfileInfo {
  id: string;
  name: LocalizedName;
  speedMps: number;
  stepsFactor: number;
}

export interface StandardsRequirementInfo {
  formats: string[];
  withinMinutes?: number;
  withinMetres?: number;
  /** the walking time the limits amount to. */
  minutes?: number;
  walkingProfile: string;
  population: string;
}

export interface StandardsProfileInfo {
  id: string;
  name: LocalizedName | null;
  /** the file does not validate: listed, not usable. */
  broken?: boolean;
  requirements?: StandardsRequirementInfo[];
}

export interface ProfilesAnswer {
  walking: WalkingProfileInfo[];
  standards: StandardsProfileInfo[];
  defaultStandards: string | null;
}

/** The usable standards profiles, the server's default first. */
export function offeredStandards(p: ProfilesAnswer): StandardsProfileInfo[] {
  const usable = p.standards.filter((s) => !s.broken);
  return [...usable.filter((s) => s.id === p.defaultStandards), ...usable.filter((s) => s.id !== p.defaultStandards)];
}

let profilesRequest: Promise<ProfilesAnswer> | null = null;

// ---- plans

export type PlanModel = 'mclp' | 'lscp' | 'pmedian' | 'capacitated';
export const PLAN_MODELS: readonly PlanModel[] = ['mclp', 'lscp', 'pmedian', 'capacitated'];
/** the format list the API reads as the 邻里汇 bundle (data/plan/bundles.json). */
export const LINLIHUI_BUNDLE = 'linlihui';

export interface PlanRequestBody {
  model: PlanModel;
  formats: string[];
  sites?: number;
  minutes?: number;
  candidates: 'network';
  spacing?: number;
  solver?: 'heuristic' | 'exact' | 'both';
}

export type PlanStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const PLAN_FINISHED: ReadonlySet<PlanStatus> = new Set(['done', 'failed', 'cancelled']);

export interface PlannedSite {
  rank: number;
  name: string;
  lon: number;
  lat: number;
  formats: string[];
  newlyCovered: { residents: number; elderly: number; residences?: number };
  nearestExisting: { id: number; name: string; minutes: number } | null;
}

export interface PlanLayer {
  format: string;
  thresholdMinutes?: number;
  before: number;
  after: number;
  residentsGaining?: number;
}

export interface PlanReport {
  model: PlanModel;
  formats: string[];
  bundle: string | null;
  p: number | null;
  sites: PlannedSite[];
  layers: PlanLayer[];
  meanMinutes?: { before: number; after: number } | null;
  uncovered: { byReason: Record<string, { residences: number; residents: number }> };
  solution: { objective: number; status: string; gap: number | null; solver: string; seconds: number };
  warnings?: string[];
}

export interface PlanRun {
  id: number;
  status: PlanStatus;
  progress: number;
  result?: PlanReport | null;
  error?: string | null;
}

// ---- zoning

export interface ZoneProperties {
  zone: number;
  片区: number;
  name: string;
  population: number;
  elderly: number;
  residences: number;
  withinRadiusShare: number | null;
  siteLon: number;
  siteLat: number;
}
export type ZoningCollection = FeatureCollection<Polygon | MultiPolygon, ZoneProperties>;

// ---- scenarios

export type Edit =
  | { id: string; type: 'add_facility'; formats: string[]; name: string; lon: number; lat: number }
  | { id: string; type: 'move_facility'; facility: { base: number } | { added: string }; lon: number; lat: number }
  | { id: string; type: 'remove_facility'; facility: { base: number } | { added: string } }
  | { id: string; type: 'add_link'; kind: 'passage' | 'crossing' | 'gate'; from: LngLat; to: LngLat }
  | { id: string; type: 'close_link'; at: LngLat }
  | { id: string; type: 'close_gate'; at: LngLat };
export type EditType = Edit['type'];

export interface ScenarioRecord {
  id: number;
  name: string;
  description: string;
  edits: Edit[];
  version: number;
  updatedAt: string;
  createdBy: string | null;
}

/** a scenario in the list: its edits counted, not listed. */
export interface ScenarioSummary extends Omit<ScenarioRecord, 'edits'> {
  edits: number;
}

export interface AccessChange {
  residences: number;
  population: number;
  elderly: number;
}

export interface FormatDiff {
  format: string;
  name: LocalizedName;
  mofcomMinutes: number;
  before: number;
  after: number;
  delta: number;
  gained: AccessChange;
  lost: AccessChange;
}

export interface Evaluation {
  regionName: string;
  profile: { id: string; name: LocalizedName };
  edits: Record<string, number> & { total: number };
  formats: string[];
  coverage: FormatDiff[];
  headline: {
    population: number;
    residentsGaining: number;
    residentsLosing: number;
    completeCircleShare: { before: number; after: number; delta: number };
    meanCompleteness: { before: number; after: number; delta: number };
  };
  changed: {
    mode: 'points' | 'h3';
    residences: number;
    population: number;
    geojson: FeatureCollection<Point | Polygon, Record<string, unknown>>;
  };
  warnings: string[];
}

// ---- survey

export interface SurveyBody {
  lon: number;
  lat: number;
  overall: number;
  perFormat?: Record<string, number>;
  comment?: string;
}

export interface SurveyZone {
  zone: string | null;
  /** the 小区 most of the zone's homes are in, else the nearest named street, else "H3 <id>". */
  name?: string | null;
  nameSource?: 'compound' | 'street' | 'cell' | 'zone' | null;
  center?: [number, number] | null;
  count: number;
  meanOverall: number;
  shareSatisfied: number;
}

export interface SurveySummary {
  zones: SurveyZone[];
  /** share of satisfied residents the target asks for (0.9). */
  target: number;
}

/** The summary as the server may shape it: a bare list or {zones, target}. */
function normaliseSurvey(body: unknown): SurveySummary {
  const fallbackTarget = 0.9;
  if (Array.isArray(body)) return { zones: body as SurveyZone[], target: fallbackTarget };
  const o = (body ?? {}) as { zones?: SurveyZone[]; target?: number | { share?: number; value?: number } };
  const t = o.target;
  const target = typeof t === 'number' ? t : typeof t === 'object' && t !== null ? (t.share ?? t.value ?? fallbackTarget) : fallbackTarget;
  return { zones: o.zones ?? [], target: target > 1 ? target / 100 : target };
}

export const planningApi = {
  heatmap: (q: HeatmapQuery, signal?: AbortSignal) => request<HeatmapAnswer>(`/api/heatmap?${query({ ...q })}`, { signal }),
  /** the server's walking and standards profiles; fetched once per page (a failure may be retried). */
  profiles: (): Promise<ProfilesAnswer> =>
    (profilesRequest ??= request<ProfilesAnswer>('/api/profiles').catch((err: unknown) => {
      profilesRequest = null;
      throw err;
    })),

  createPlan: (body: PlanRequestBody) => send<{ id: number }>('POST', '/api/plans', body),
  plan: (id: number, signal?: AbortSignal) => request<PlanRun>(`/api/plans/${id}`, { signal }),
  cancelPlan: (id: number) => send<unknown>('DELETE', `/api/plans/${id}`),
  zoning: (k: number, radius: number) => send<ZoningCollection>('POST', '/api/zoning', { k, radius }),

  scenarios: async (): Promise<ScenarioSummary[]> => {
    const body = await request<ScenarioSummary[] | { scenarios: ScenarioSummary[] }>('/api/scenarios');
    return Array.isArray(body) ? body : body.scenarios;
  },
  scenario: (id: number) => request<ScenarioRecord>(`/api/scenarios/${id}`),
  createScenario: (body: { name: string; description?: string; edits: Edit[] }) => send<ScenarioRecord>('POST', '/api/scenarios', body),
  patchScenario: (id: number, body: { version: number; edits?: Edit[]; name?: string }) => send<ScenarioRecord>('PATCH', `/api/scenarios/${id}`, body),
  deleteScenario: (id: number, version: number) => send<unknown>('DELETE', `/api/scenarios/${id}?${query({ version })}`),
  /** the evaluation of the scenario as saved (the server answers {scenario, evaluation}). */
  evaluate: async (id: number, profile?: string, signal?: AbortSignal): Promise<Evaluation> => {
    const body = await send<{ evaluation?: Evaluation } & Partial<Evaluation>>('POST', `/api/scenarios/${id}/evaluate`, profile ? { profile } : {}, signal);
    return body.evaluation ?? (body as Evaluation);
  },

  postSurvey: (body: SurveyBody) => send<unknown>('POST', '/api/survey', body),
  surveySummary: async (): Promise<SurveySummary> => normaliseSurvey(await request<unknown>('/api/survey/summary')),
};

export type ExportKind = 'geojson' | 'csv' | 'xlsx' | 'html';
export const assessmentExportUrl = (kind: ExportKind, profile: string): string => `/api/exports/assessment.${kind}?${query({ profile })}`;
export const planExportUrl = (id: number, kind: Exclude<ExportKind, 'html'>): string => `/api/plans/${id}/export.${kind}`;

/** A point inside a zone polygon for its label: the area centroid of its largest outer ring. */
export function labelPoint(geometry: Polygon | MultiPolygon): LngLat | null {
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let best: LngLat | null = null;
  let bestArea = 0;
  for (const poly of polys) {
    const ring = poly[0];
    if (!ring || ring.length < 4) continue;
    let a = 0;
    let cx = 0;
    let cy = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const cross = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
      a += cross;
      cx += (ring[j][0] + ring[i][0]) * cross;
      cy += (ring[j][1] + ring[i][1]) * cross;
    }
    if (Math.abs(a) > bestArea) {
      bestArea = Math.abs(a);
      best = [cx / (3 * a), cy / (3 * a)];
    }
  }
  return best;
}

export type PointFeature<P> = Feature<Point, P>;
