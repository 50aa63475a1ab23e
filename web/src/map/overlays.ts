/**
 * What the pages draw over the basemap: facilities (coloured by format), 5/10/15-minute
 * isochrones (one fill layer per threshold), the analysed point and a walking route.
 */
import type { Feature, FeatureCollection, LineString, Point } from 'geojson';
import type { GeoJSONSource, Map as MapLibreMap } from 'maplibre-gl';
import type { FacilityItem, IsochroneCollection, LngLat } from '../api.js';
import { formatColourExpression } from './style.js';

export const ISOCHRONE_MINUTES = [5, 10, 15] as const;
/** Fill colour per threshold: near is green, far is orange (colour-blind safe with the outline). */
export const ISOCHRONE_COLOURS: Record<(typeof ISOCHRONE_MINUTES)[number], string> = { 5: '#1a9850', 10: '#d9c21e', 15: '#f46d43' };

export const SOURCES = { facilities: 'facilities', isochrones: 'isochrones', origin: 'origin', route: 'route' } as const;
export const isochroneLayerId = (minutes: number): string => `isochrone-${minutes}`;
export const FACILITY_LAYER = 'facilities';

export interface FacilityProps {
  id: number;
  name: string;
  format: string;
}

const empty = (): FeatureCollection => ({ type: 'FeatureCollection', features: [] });

/** One point per facility and format (a shop serving two formats shows under both filters). */
export function facilitiesToGeoJson(list: readonly FacilityItem[]): FeatureCollection<Point, FacilityProps> {
  const features: Array<Feature<Point, FacilityProps>> = [];
  for (const f of list) {
    for (const format of f.formats) {
      features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [f.lon, f.lat] }, properties: { id: f.id, name: f.name, format } });
    }
  }
  return { type: 'FeatureCollection', features };
}

export function installOverlays(map: MapLibreMap, opts: { facilities: boolean }): void {
  map.addSource(SOURCES.isochrones, { type: 'geojson', data: empty() });
  map.addSource(SOURCES.route, { type: 'geojson', data: empty() });
  map.addSource(SOURCES.origin, { type: 'geojson', data: empty() });
  // Largest first, so the nearer bands lie on top.
  for (const m of [...ISOCHRONE_MINUTES].reverse()) {
    map.addLayer({
      id: isochroneLayerId(m),
      type: 'fill',
      source: SOURCES.isochrones,
      filter: ['==', ['get', 'minutes'], m],
      paint: { 'fill-color': ISOCHRONE_COLOURS[m], 'fill-opacity': 0.28 },
    });
  }
  map.addLayer({
    id: 'isochrone-outline',
    type: 'line',
    source: SOURCES.isochrones,
    paint: {
      'line-color': ['match', ['get', 'minutes'], 5, ISOCHRONE_COLOURS[5], 10, ISOCHRONE_COLOURS[10], 15, ISOCHRONE_COLOURS[15], '#555555'],
      'line-width': 1.5,
      'line-dasharray': ['match', ['get', 'minutes'], 5, ['literal', [1, 0]], 10, ['literal', [4, 2]], ['literal', [1, 2]]],
    },
  });
  map.addLayer({
    id: 'route-casing',
    type: 'line',
    source: SOURCES.route,
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: { 'line-color': '#ffffff', 'line-width': 8 },
  });
  map.addLayer({
    id: 'route',
    type: 'line',
    source: SOURCES.route,
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: { 'line-color': '#2563eb', 'line-width': 5 },
  });
  if (opts.facilities) {
    map.addSource(SOURCES.facilities, { type: 'geojson', data: empty() });
    map.addLayer({
      id: FACILITY_LAYER,
      type: 'circle',
      source: SOURCES.facilities,
      paint: {
        'circle-color': formatColourExpression(),
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 3, 15, 5.5, 18, 8],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1.2,
      },
    });
  }
  map.addLayer({
    id: 'origin',
    type: 'circle',
    source: SOURCES.origin,
    paint: {
      'circle-color': ['match', ['get', 'kind'], 'destination', '#2563eb', '#111827'],
      'circle-radius': ['match', ['get', 'kind'], 'destination', 6, 7],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 3,
    },
  });
}

const source = (map: MapLibreMap, id: string): GeoJSONSource | undefined => map.getSource<GeoJSONSource>(id);

export function setFacilities(map: MapLibreMap, data: FeatureCollection<Point, FacilityProps>): void {
  source(map, SOURCES.facilities)?.setData(data);
}

/** Show only facilities of the given formats. */
export function setFormatFilter(map: MapLibreMap, formats: readonly string[]): void {
  if (map.getLayer(FACILITY_LAYER)) map.setFilter(FACILITY_LAYER, ['in', ['get', 'format'], ['literal', [...formats]]]);
}

export function setIsochrones(map: MapLibreMap, data: IsochroneCollection | null): void {
  source(map, SOURCES.isochrones)?.setData(data ?? empty());
}

/** The analysed point (or home), and optionally the destination of a route. */
export function setOrigin(map: MapLibreMap, at: LngLat | null, destination: LngLat | null = null): void {
  const features: Array<Feature<Point, { kind: string }>> = [];
  if (at) features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: { kind: 'origin' } });
  if (destination) features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: destination }, properties: { kind: 'destination' } });
  source(map, SOURCES.origin)?.setData({ type: 'FeatureCollection', features });
}

export function setRoute(map: MapLibreMap, line: LineString | null): void {
  source(map, SOURCES.route)?.setData(line ? { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: line, properties: {} }] } : empty());
}
