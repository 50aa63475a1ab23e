/**
 * What the pages draw over the basemap: facilities (coloured by format), 5/10/15-minute
 * isochrones (one fill layer per threshold), the analysed point and a walking route.
 */
import type { Feature, FeatureCollection, LineString, Point } from 'geojson';
import type { GeoJSONSource, LayerSpecification, Map as MapLibreMap, SourceSpecification } from 'maplibre-gl';
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

/**
 * The isochrone, route and origin layers are hidden while their source is empty: MapLibre makes
 * no tiles for a source whose layers are all hidden, which takes ~0.1–0.2 s off the first load in
 * a software renderer (three empty sources × the first view's tiles, each a round trip to the
 * map's worker). Setting a source's data shows or hides every layer drawn from it.
 */
const hidden = { visibility: 'none' } as const;

function showSourceLayers(map: MapLibreMap, source: string, shown: boolean): void {
  for (const id of map.getLayersOrder()) {
    if (map.getLayer(id)?.source === source) map.setLayoutProperty(id, 'visibility', shown ? 'visible' : 'none');
  }
}

/**
 * The overlay sources and layers, part of the map's first style (not added after it loads): the
 * first frame then has the facilities in it, and their tiles are made in the same worker pass as
 * the basemap's. The other overlays start empty and hidden. `facilities` is the facility layer's
 * first data (null: no facility layer).
 */
export function overlayStyle(facilities: FeatureCollection<Point, FacilityProps> | null): { sources: Record<string, SourceSpecification>; layers: LayerSpecification[] } {
  const geojson = (data: FeatureCollection): SourceSpecification => ({ type: 'geojson', data });
  const sources: Record<string, SourceSpecification> = {
    [SOURCES.isochrones]: geojson(empty()),
    [SOURCES.route]: geojson(empty()),
    [SOURCES.origin]: geojson(empty()),
  };
  const layers: LayerSpecification[] = [];
  // Largest first, so the nearer bands lie on top.
  for (const m of [...ISOCHRONE_MINUTES].reverse()) {
    layers.push({
      id: isochroneLayerId(m),
      type: 'fill',
      source: SOURCES.isochrones,
      filter: ['==', ['get', 'minutes'], m],
      layout: hidden,
      paint: { 'fill-color': ISOCHRONE_COLOURS[m], 'fill-opacity': 0.28 },
    });
  }
  layers.push(
    {
      id: 'isochrone-outline',
      type: 'line',
      source: SOURCES.isochrones,
      layout: hidden,
      paint: {
        'line-color': ['match', ['get', 'minutes'], 5, ISOCHRONE_COLOURS[5], 10, ISOCHRONE_COLOURS[10], 15, ISOCHRONE_COLOURS[15], '#555555'],
        'line-width': 1.5,
        'line-dasharray': ['match', ['get', 'minutes'], 5, ['literal', [1, 0]], 10, ['literal', [4, 2]], ['literal', [1, 2]]],
      },
    },
    {
      id: 'route-casing',
      type: 'line',
      source: SOURCES.route,
      layout: { ...hidden, 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': '#ffffff', 'line-width': 8 },
    },
    {
      id: 'route',
      type: 'line',
      source: SOURCES.route,
      layout: { ...hidden, 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': '#2563eb', 'line-width': 5 },
    },
  );
  if (facilities) {
    sources[SOURCES.facilities] = geojson(facilities);
    layers.push({
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
  layers.push({
    id: 'origin',
    type: 'circle',
    source: SOURCES.origin,
    layout: hidden,
    paint: {
      'circle-color': ['match', ['get', 'kind'], 'destination', '#2563eb', '#111827'],
      'circle-radius': ['match', ['get', 'kind'], 'destination', 6, 7],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 3,
    },
  });
  return { sources, layers };
}

const source = (map: MapLibreMap, id: string): GeoJSONSource | undefined => map.getSource<GeoJSONSource>(id);

export function setFacilities(map: MapLibreMap, data: FeatureCollection<Point, FacilityProps>): void {
  source(map, SOURCES.facilities)?.setData(data);
}

/** Show only facilities of the given formats (null: all of them). */
export function setFormatFilter(map: MapLibreMap, formats: readonly string[] | null): void {
  if (map.getLayer(FACILITY_LAYER)) map.setFilter(FACILITY_LAYER, formats ? ['in', ['get', 'format'], ['literal', [...formats]]] : null);
}

export function setIsochrones(map: MapLibreMap, data: IsochroneCollection | null): void {
  source(map, SOURCES.isochrones)?.setData(data ?? empty());
  showSourceLayers(map, SOURCES.isochrones, (data?.features.length ?? 0) > 0);
}

/** The analysed point (or home), and optionally the destination of a route. */
export function setOrigin(map: MapLibreMap, at: LngLat | null, destination: LngLat | null = null): void {
  const features: Array<Feature<Point, { kind: string }>> = [];
  if (at) features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: { kind: 'origin' } });
  if (destination) features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: destination }, properties: { kind: 'destination' } });
  source(map, SOURCES.origin)?.setData({ type: 'FeatureCollection', features });
  showSourceLayers(map, SOURCES.origin, features.length > 0);
}

export function setRoute(map: MapLibreMap, line: LineString | null): void {
  source(map, SOURCES.route)?.setData(line ? { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: line, properties: {} }] } : empty());
  showSourceLayers(map, SOURCES.route, line !== null);
}
