/**
 * The map style, built in code from /api/basemap/tiles.json: one vector-tile source cut by the
 * server, one tile layer per basemap layer (green, water, waterway, building, rail, road by
 * class) and text labels. No glyph server: the style has no `glyphs` URL, so MapLibre draws label
 * glyphs locally from system fonts (label.font is a CSS font-family list).
 */
import type { DataDrivenPropertyValueSpecification, ExpressionSpecification, FilterSpecification, LayerSpecification, StyleSpecification } from 'maplibre-gl';
import look from './basemap-style.json';
import formatColours from './format-colours.json';

type Stops = ReadonlyArray<readonly number[]>;

const byZoom = (stops: Stops, factor = 1): ExpressionSpecification =>
  ['interpolate', ['exponential', 1.5], ['zoom'], ...stops.flatMap(([z, w]) => [z, w * factor])] as ExpressionSpecification;

/** What /api/basemap/tiles.json answers (TileJSON 3), as far as the style uses it. */
export interface BasemapTileJson {
  tiles: string[];
  minzoom: number;
  maxzoom: number;
  bounds: [number, number, number, number];
  source: 'osm' | 'walk-graph';
}
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
    const filter: FilterSpecification = ['all', isLine, classFilter];
    if (group.casing) {
      casings.push({
        id: `road-${group.id}-casing`,
        type: 'line',
        source: BASEMAP_SOURCE,
        'source-layer': 'road',
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
      'source-layer': 'road',
      minzoom: group.minzoom,
      filter,
      layout: { 'line-cap': 'dash' in group ? 'butt' : 'round', 'line-join': 'round' },
      paint: { 'line-color': group.colour, 'line-width': byZoom(group.width), ...('dash' in group && group.dash ? { 'line-dasharray': group.dash } : {}) },
    });
  }
  // All casings under all fills, so junctions of different classes join cleanly.
  return [...casings, ...fills];
}

/**
 * The basemap style over the server's tiles (tile URLs made absolute: the map's workers fetch
 * them); null tiles: the background alone.
 */
/** A tile URL template made absolute by hand: URL() would escape its {z}/{x}/{y}. */
const absoluteUrl = (template: string): string => (/^https?:\/\//.test(template) ? template : window.location.origin + (template.startsWith('/') ? '' : '/') + template);

/** Names of water and green areas, of roads and waterways along the line; one layer per tile layer. */
function labelLayers(): LayerSpecification[] {
  const font = look.label.font;
  const area = (layer: 'water' | 'green', colour: string): LayerSpecification => ({
    id: `label-${layer}`,
    type: 'symbol',
    source: BASEMAP_SOURCE,
    'source-layer': layer,
    minzoom: look.label.areaMinzoom,
    filter: ['all', isArea, ['has', 'name']],
    layout: { 'text-field': ['get', 'name'], 'text-font': font, 'text-size': 12, 'text-max-width': 8 },
    paint: { 'text-color': colour, 'text-halo-color': look.label.halo, 'text-halo-width': 1.2 },
  });
  const line = (layer: 'road' | 'waterway', colour: string): LayerSpecification => ({
    id: `label-${layer}`,
    type: 'symbol',
    source: BASEMAP_SOURCE,
    'source-layer': layer,
    minzoom: look.label.roadMinzoom,
    filter: ['all', isLine, ['has', 'name']],
    layout: {
      'symbol-placement': 'line',
      'text-field': ['get', 'name'],
      'text-font': font,
      'text-size': ['interpolate', ['linear'], ['zoom'], 14, 10, 18, 13],
      'text-rotation-alignment': 'map',
      'text-padding': 4,
    },
    paint: { 'text-color': colour, 'text-halo-color': look.label.halo, 'text-halo-width': 1.5 },
  });
  return [area('water', look.label.waterColour), area('green', look.label.colour), line('waterway', look.label.waterColour), line('road', look.label.colour)];
}

export function buildBasemapStyle(tiles: BasemapTileJson | null): StyleSpecification {
  const edgesFromZoom: DataDrivenPropertyValueSpecification<boolean> = ['step', ['zoom'], false, look.fillAntialiasMinzoom, true];
  const layers: LayerSpecification[] = [
    { id: 'background', type: 'background', paint: { 'background-color': look.background } },
    {
      id: 'green',
      type: 'fill',
      source: BASEMAP_SOURCE,
      'source-layer': 'green',
      filter: isArea,
      paint: { 'fill-color': look.green.fill, 'fill-outline-color': look.green.outline, 'fill-antialias': edgesFromZoom },
    },
    { id: 'water', type: 'fill', source: BASEMAP_SOURCE, 'source-layer': 'water', filter: isArea, paint: { 'fill-color': look.water.fill, 'fill-antialias': edgesFromZoom } },
    {
      id: 'waterway',
      type: 'line',
      source: BASEMAP_SOURCE,
      'source-layer': 'waterway',
      filter: isLine,
      layout: { 'line-cap': 'round' },
      paint: { 'line-color': look.waterway.colour, 'line-width': byZoom(look.waterway.width) },
    },
    {
      id: 'building',
      type: 'fill',
      source: BASEMAP_SOURCE,
      'source-layer': 'building',
      minzoom: look.building.minzoom,
      filter: isArea,
      paint: { 'fill-color': look.building.fill, 'fill-outline-color': look.building.outline, 'fill-antialias': edgesFromZoom },
    },
    {
      id: 'rail',
      type: 'line',
      source: BASEMAP_SOURCE,
      'source-layer': 'rail',
      maxzoom: look.rail.dashMinzoom,
      filter: isLine,
      paint: { 'line-color': look.rail.colour, 'line-width': byZoom(look.rail.width) },
    },
    {
      id: 'rail-dashed',
      type: 'line',
      source: BASEMAP_SOURCE,
      'source-layer': 'rail',
      minzoom: look.rail.dashMinzoom,
      filter: isLine,
      paint: { 'line-color': look.rail.colour, 'line-width': byZoom(look.rail.width), 'line-dasharray': look.rail.dash },
    },
    ...roadLayers(),
    ...labelLayers(),
  ];
  return {
    version: 8,
    name: 'Quarter basemap',
    sources: tiles
      ? {
          [BASEMAP_SOURCE]: {
            type: 'vector',
            tiles: tiles.tiles.map(absoluteUrl),
            minzoom: tiles.minzoom,
            maxzoom: tiles.maxzoom,
            bounds: tiles.bounds,
          },
        }
      : {},
    layers: tiles ? layers : layers.slice(0, 1),
  };
}
