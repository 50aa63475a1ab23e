/**
 * Map layers of the planning panels, added on first use: the heatmap's hex cells, plan sites with
 * rank labels, zoning polygons with population labels, scenario edits (links, closures) and the
 * area a scenario changes. Areas go under the facilities; points and labels on top.
 */
import type { Feature, FeatureCollection, Geometry, LineString, Point } from 'geojson';
import type { GeoJSONSource, LayerSpecification, Map as MapLibreMap } from 'maplibre-gl';
import type { LngLat } from '../api.js';
import type { Edit, Evaluation, PlannedSite, ZoningCollection } from './api-planning.js';
import { labelPoint } from './api-planning.js';
import look from '../map/basemap-style.json';

export const HEAT_SOURCE = 'heat-cells';
export const HEAT_LAYER = 'heat-cells';
export const PLAN_SITES_SOURCE = 'plan-sites';
export const PLAN_SITES_LAYER = 'plan-sites';
export const PLAN_LABELS_LAYER = 'plan-site-labels';
export const ZONES_SOURCE = 'zones';
export const ZONE_LABELS_SOURCE = 'zone-labels';
export const SCENARIO_SOURCE = 'scenario-edits';
export const CHANGED_SOURCE = 'changed-area';

/** Heatmap bands: minutes to the nearest facility, upper bounds; 99 is everything further, −1 cells where no home reaches one. */
export const HEAT_BANDS = [
  { id: 5, colour: '#1a9850' },
  { id: 10, colour: '#a6d96a' },
  { id: 15, colour: '#fdae61' },
  { id: 99, colour: '#d73027' },
  { id: -1, colour: '#8c8c8c' },
] as const;

const LABEL_FONT = look.label.font;
const empty = (): FeatureCollection => ({ type: 'FeatureCollection', features: [] });
/** the lowest overlay of the first slice: areas go below it, so facilities stay on top. */
const AREA_BEFORE = 'isochrone-15';

function ensure(map: MapLibreMap, sourceId: string, layers: LayerSpecification[], below = false): GeoJSONSource {
  if (!map.getSource(sourceId)) map.addSource(sourceId, { type: 'geojson', data: empty() });
  for (const layer of layers) {
    if (map.getLayer(layer.id)) continue;
    map.addLayer(layer, below && map.getLayer(AREA_BEFORE) ? AREA_BEFORE : undefined);
  }
  return map.getSource<GeoJSONSource>(sourceId)!;
}

// ---- heatmap

export function setHeatCells(map: MapLibreMap, data: FeatureCollection | null): void {
  const colour = ['match', ['get', 'band'], ...HEAT_BANDS.flatMap((b) => [b.id, b.colour]), '#999999'];
  ensure(
    map,
    HEAT_SOURCE,
    [
      // Spec tuple types cannot express a variadic `match`.
      { id: HEAT_LAYER, type: 'fill', source: HEAT_SOURCE, paint: { 'fill-color': colour as unknown as string, 'fill-opacity': 0.5, 'fill-outline-color': '#ffffff' } },
    ],
    true,
  ).setData(data ?? empty());
}

// ---- plan sites

export function setPlanSites(map: MapLibreMap, sites: readonly PlannedSite[] | null): void {
  const features: Array<Feature<Point, { rank: number; name: string }>> = (sites ?? []).map((s) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [s.lon, s.lat] },
    properties: { rank: s.rank, name: s.name },
  }));
  ensure(map, PLAN_SITES_SOURCE, [
    {
      id: PLAN_SITES_LAYER,
      type: 'circle',
      source: PLAN_SITES_SOURCE,
      paint: { 'circle-color': '#7c3aed', 'circle-radius': 11, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2.5 },
    },
    {
      id: PLAN_LABELS_LAYER,
      type: 'symbol',
      source: PLAN_SITES_SOURCE,
      layout: { 'text-field': ['to-string', ['get', 'rank']], 'text-font': LABEL_FONT, 'text-size': 13, 'text-allow-overlap': true, 'text-ignore-placement': true },
      paint: { 'text-color': '#ffffff' },
    },
  ]).setData({ type: 'FeatureCollection', features });
}

// ---- zoning

export function setZones(map: MapLibreMap, zones: ZoningCollection | null, populationLabel: (p: number) => string): void {
  ensure(
    map,
    ZONES_SOURCE,
    [
      {
        id: 'zones-fill',
        type: 'fill',
        source: ZONES_SOURCE,
        paint: {
          // neighbouring zones differ in colour: eight hues by index
          'fill-color': ['match', ['%', ['get', 'zone'], 8], 0, '#4e79a7', 1, '#f28e2b', 2, '#59a14f', 3, '#e15759', 4, '#76b7b2', 5, '#edc948', 6, '#b07aa1', '#ff9da7'],
          'fill-opacity': 0.22,
        },
      },
      { id: 'zones-line', type: 'line', source: ZONES_SOURCE, paint: { 'line-color': '#334155', 'line-width': 1.6 } },
    ],
    true,
  ).setData(zones ?? empty());
  const labels: Array<Feature<Point, { label: string }>> = [];
  for (const f of zones?.features ?? []) {
    const at = labelPoint(f.geometry);
    if (!at) continue;
    labels.push({ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: { label: `${f.properties.name}\n${populationLabel(f.properties.population)}` } });
  }
  ensure(map, ZONE_LABELS_SOURCE, [
    {
      id: 'zone-labels',
      type: 'symbol',
      source: ZONE_LABELS_SOURCE,
      layout: { 'text-field': ['get', 'label'], 'text-font': LABEL_FONT, 'text-size': 12, 'text-allow-overlap': true },
      paint: { 'text-color': '#1f2933', 'text-halo-color': '#ffffff', 'text-halo-width': 2 },
    },
  ]).setData({ type: 'FeatureCollection', features: labels });
}

// ---- scenario edits and the changed area

interface EditProps {
  edit: string;
  kind: 'link' | 'closed-link' | 'closed-gate' | 'removed' | 'moved' | 'pending';
}

/** Everything of the edits except added facilities (those are draggable markers). */
export function setScenarioEdits(map: MapLibreMap, edits: readonly Edit[], pending: LngLat | null, basePosition: (id: number) => LngLat | null): void {
  const features: Array<Feature<Geometry, EditProps>> = [];
  const point = (at: LngLat, props: EditProps): Feature<Point, EditProps> => ({ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: props });
  for (const e of edits) {
    if (e.type === 'add_link') {
      const line: LineString = { type: 'LineString', coordinates: [e.from, e.to] };
      features.push({ type: 'Feature', geometry: line, properties: { edit: e.id, kind: 'link' } });
    } else if (e.type === 'close_link') features.push(point(e.at, { edit: e.id, kind: 'closed-link' }));
    else if (e.type === 'close_gate') features.push(point(e.at, { edit: e.id, kind: 'closed-gate' }));
    else if (e.type === 'remove_facility' && 'base' in e.facility) {
      const at = basePosition(e.facility.base);
      if (at) features.push(point(at, { edit: e.id, kind: 'removed' }));
    } else if (e.type === 'move_facility' && 'base' in e.facility) features.push(point([e.lon, e.lat], { edit: e.id, kind: 'moved' }));
  }
  if (pending) features.push(point(pending, { edit: '', kind: 'pending' }));
  ensure(map, SCENARIO_SOURCE, [
    {
      id: 'scenario-links',
      type: 'line',
      source: SCENARIO_SOURCE,
      filter: ['==', ['geometry-type'], 'LineString'],
      layout: { 'line-cap': 'round' },
      paint: { 'line-color': '#7c3aed', 'line-width': 4, 'line-dasharray': [2, 1] },
    },
    {
      id: 'scenario-points',
      type: 'circle',
      source: SCENARIO_SOURCE,
      filter: ['==', ['geometry-type'], 'Point'],
      paint: {
        'circle-radius': 7,
        'circle-color': ['match', ['get', 'kind'], 'closed-link', '#b42318', 'closed-gate', '#b42318', 'removed', '#6b7280', 'moved', '#7c3aed', '#111827'],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 2,
      },
    },
    {
      id: 'scenario-point-marks',
      type: 'symbol',
      source: SCENARIO_SOURCE,
      filter: ['in', ['get', 'kind'], ['literal', ['closed-link', 'closed-gate', 'removed']]],
      layout: { 'text-field': '×', 'text-font': LABEL_FONT, 'text-size': 14, 'text-allow-overlap': true },
      paint: { 'text-color': '#ffffff' },
    },
  ]).setData({ type: 'FeatureCollection', features });
}

/** Gained, lost or only faster/slower: what a changed home or cell shows. */
function changeKind(p: Record<string, unknown>): 'gained' | 'lost' | 'mixed' | 'changed' {
  let gained = Array.isArray(p.gained) ? p.gained.length : 0;
  let lost = Array.isArray(p.lost) ? p.lost.length : 0;
  if (p.formats && typeof p.formats === 'object') {
    for (const v of Object.values(p.formats as Record<string, { gained?: number; lost?: number }>)) {
      gained += v.gained ?? 0;
      lost += v.lost ?? 0;
    }
  }
  return gained && lost ? 'mixed' : gained ? 'gained' : lost ? 'lost' : 'changed';
}

export const CHANGE_COLOURS = { gained: '#1a9850', lost: '#d73027', mixed: '#7c3aed', changed: '#64748b' } as const;

export function setChangedArea(map: MapLibreMap, changed: Evaluation['changed'] | null): void {
  const features = (changed?.geojson.features ?? []).map((f) => ({ ...f, properties: { kind: changeKind(f.properties ?? {}) } }));
  const colour = ['match', ['get', 'kind'], ...Object.entries(CHANGE_COLOURS).flat(), '#64748b'];
  ensure(
    map,
    CHANGED_SOURCE,
    [
      {
        id: 'changed-cells',
        type: 'fill',
        source: CHANGED_SOURCE,
        filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': colour as unknown as string, 'fill-opacity': 0.45 },
      },
      {
        id: 'changed-points',
        type: 'circle',
        source: CHANGED_SOURCE,
        filter: ['==', ['geometry-type'], 'Point'],
        // rings, so changed homes do not look like facilities (filled dots)
        paint: { 'circle-color': '#ffffff', 'circle-opacity': 0.6, 'circle-radius': 4, 'circle-stroke-color': colour as unknown as string, 'circle-stroke-width': 2 },
      },
    ],
    true,
  ).setData({ type: 'FeatureCollection', features } as FeatureCollection);
}

/** Remove what a panel drew (on close). */
export function clearLayers(map: MapLibreMap, sources: readonly string[]): void {
  for (const s of sources) map.getSource<GeoJSONSource>(s)?.setData(empty());
}
