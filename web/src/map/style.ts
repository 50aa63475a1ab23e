/**
 * The map style, built in code from /api/basemap: one GeoJSON source, layers by the `layer`
 * property (green, water, waterway, building, rail, road by class) and text labels. No tiles and
 * no glyph server: the style has no `glyphs` URL, so MapLibre draws label glyphs locally from
 * system fonts (label.font is a CSS font-family list).
 */
import type { DataDrivenPropertyValueSpecification, ExpressionSpecification, FilterSpecification, LayerSpecification, StyleSpecification } from 'maplibre-gl';
import type { BasemapCollection } from '../api.js';
import look from './basemap-style.json';
import formatColours from './format-colours.json';

type Stops = ReadonlyArray<readonly number[]>;

const byZoom = (stops: Stops, factor = 1): ExpressionSpecification =>
  ['interpolate', ['exponential', 1.5], ['zoom'], ...stops.flatMap(([z, w]) => [z, w * factor])] as ExpressionSpecification;

const layerIs = (layer: string): ExpressionSpecification => ['==', ['get', 'layer'], layer];
const isLine: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['LineString', 'MultiLineString']]];
const isArea: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]];

export const BASEMAP_SOURCE = 'basemap';

/** Colour of a facility format on the map and in the legend. */
export function formatColour(format: string): string {
  const colours: Record<string, string> = formatColours.colours;
  return colours[format] ?? formatColours.fallback;
}

/** A MapLibre `match` expression colouring features by their `format` property (every format with a colour). */
export function formatColourExpression(): DataDrivenPropertyValueSpecification<string> {
  const colours: Record<string, string> = formatColours.colours;
  // The spec's tuple type cannot express a variadic list of label/value pairs.
  return ['match', ['get', 'format'], ...Object.entries(colours).flat(), formatColours.fallback] as unknown as ExpressionSpecification;
}

function roadLayers(): LayerSpecification[] {
  const known = look.roads.flatMap((g) => g.classes);
  const casings: LayerSpecification[] = [];
  const fills: LayerSpecification[] = [];
  for (const group of look.roads) {
    const classFilter: ExpressionSpecification = 'fallback' in group && group.fallback
      ? ['any', ['in', ['coalesce', ['get', 'class'], ''], ['literal', group.classes]], ['!', ['in', ['coalesce', ['get', 'class'], ''], ['literal', known]]]]
      : ['in', ['coalesce', ['get', 'class'], ''], ['literal', group.classes]];
    const filter: FilterSpecification = ['all', layerIs('road'), isLine, classFilter];
    if (group.casing) {
      casings.push({
        id: `road-${group.id}-casing`,
        type: 'line',
        source: BASEMAP_SOURCE,
        minzoom: group.minzoom,
        filter,
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: { 'line-color': group.casing, 'line-width': byZoom(group.width, 1.35) },
      });
    }
    fills.push({
      id: `road-${group.id}`,
      type: 'line',
      source: BASEMAP_SOURCE,
      minzoom: group.minzoom,
      filter,
      layout: { 'line-cap': 'dash' in group ? 'butt' : 'round', 'line-join': 'round' },
      paint: { 'line-color': group.colour, 'line-width': byZoom(group.width), ...('dash' in group && group.dash ? { 'line-dasharray': group.dash } : {}) },
    });
  }
  // All casings under all fills, so junctions of different classes join cleanly.
  return [...casings, ...fills];
}

export function buildBasemapStyle(basemap: BasemapCollection): StyleSpecification {
  const font = look.label.font;
  const layers: LayerSpecification[] = [
    { id: 'background', type: 'background', paint: { 'background-color': look.background } },
    {
      id: 'green',
      type: 'fill',
      source: BASEMAP_SOURCE,
      filter: ['all', layerIs('green'), isArea],
      paint: { 'fill-color': look.green.fill, 'fill-outline-color': look.green.outline },
    },
    { id: 'water', type: 'fill', source: BASEMAP_SOURCE, filter: ['all', layerIs('water'), isArea], paint: { 'fill-color': look.water.fill } },
    {
      id: 'waterway',
      type: 'line',
      source: BASEMAP_SOURCE,
      filter: ['all', layerIs('waterway'), isLine],
      layout: { 'line-cap': 'round' },
      paint: { 'line-color': look.waterway.colour, 'line-width': byZoom(look.waterway.width) },
    },
    {
      id: 'building',
      type: 'fill',
      source: BASEMAP_SOURCE,
      minzoom: look.building.minzoom,
      filter: ['all', layerIs('building'), isArea],
      paint: { 'fill-color': look.building.fill, 'fill-outline-color': look.building.outline },
    },
    {
      id: 'rail',
      type: 'line',
      source: BASEMAP_SOURCE,
      filter: ['all', layerIs('rail'), isLine],
      paint: { 'line-color': look.rail.colour, 'line-width': byZoom(look.rail.width), 'line-dasharray': look.rail.dash },
    },
    ...roadLayers(),
    {
      id: 'label-area',
      type: 'symbol',
      source: BASEMAP_SOURCE,
      minzoom: look.label.areaMinzoom,
      filter: ['all', ['in', ['get', 'layer'], ['literal', ['water', 'green']]], isArea, ['has', 'name']],
      layout: { 'text-field': ['get', 'name'], 'text-font': font, 'text-size': 12, 'text-max-width': 8 },
      paint: {
        'text-color': ['case', ['==', ['get', 'layer'], 'water'], look.label.waterColour, look.label.colour],
        'text-halo-color': look.label.halo,
        'text-halo-width': 1.2,
      },
    },
    {
      id: 'label-road',
      type: 'symbol',
      source: BASEMAP_SOURCE,
      minzoom: look.label.roadMinzoom,
      filter: ['all', ['in', ['get', 'layer'], ['literal', ['road', 'waterway']]], isLine, ['has', 'name']],
      layout: {
        'symbol-placement': 'line',
        'text-field': ['get', 'name'],
        'text-font': font,
        'text-size': ['interpolate', ['linear'], ['zoom'], 14, 10, 18, 13],
        'text-rotation-alignment': 'map',
        'text-padding': 4,
      },
      paint: {
        'text-color': ['case', ['==', ['get', 'layer'], 'waterway'], look.label.waterColour, look.label.colour],
        'text-halo-color': look.label.halo,
        'text-halo-width': 1.5,
      },
    },
  ];
  return {
    version: 8,
    name: 'Quarter basemap',
    sources: { [BASEMAP_SOURCE]: { type: 'geojson', data: basemap, tolerance: 0.3 } },
    layers,
  };
}
