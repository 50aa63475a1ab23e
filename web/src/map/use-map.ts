/**
 * A MapLibre map over the region: the basemap's vector tiles (/api/basemap/tiles.json) with the
 * overlay layers (facilities, isochrones, route) in the first style.
 * The map is exposed as window.__quarter.map so end-to-end tests and devtools can inspect its
 * sources. Performance marks: "quarter:map-create" (data in, map constructed), "quarter:map-load"
 * (style loaded) and "quarter:map-idle" (first frame complete: the first-load measure).
 */
import maplibregl, { type LngLatBoundsLike, type Map as MapLibreMap, type PaddingOptions } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import { onBeforeUnmount, onMounted, ref, shallowRef, watch, type Ref, type ShallowRef } from 'vue';
import { api, errorText, request, type FacilityItem, type RegionMeta } from '../api.js';
import { locale, t } from '../i18n/index.js';
import { facilitiesToGeoJson, overlayStyle } from './overlays.js';
import { buildBasemapStyle, type BasemapTileJson } from './style.js';

declare global {
  interface Window {
    __quarter?: { map: MapLibreMap };
  }
}

export const MAP_IDLE_MARK = 'quarter:map-idle';

// Start the map's worker as soon as this chunk runs (it parses MapLibre's worker code for a few
// hundred ms), not when the map is made after the page's data have arrived.
maplibregl.prewarm();

export interface QuarterMap {
  map: ShallowRef<MapLibreMap | null>;
  region: ShallowRef<RegionMeta | null>;
  /** the style is loaded and the overlay sources exist. */
  ready: Ref<boolean>;
  /** message when the map cannot be shown at all. */
  error: Ref<string | null>;
  /** /api/basemap/tiles.json failed: the map shows overlays on a plain background. */
  basemapMissing: Ref<boolean>;
}

export interface QuarterMapOptions {
  /** draw the facilities (loaded here anyway to frame the first view) from the first frame. */
  facilities: boolean;
  /** room the page's panels cover, so the first view frames the services in the visible part. */
  padding?: () => PaddingOptions;
  onReady?: (map: MapLibreMap) => void;
}

/**
 * The first view: where the services are (5th–95th percentile of facility positions, padded),
 * not the whole extract, whose edges are often empty countryside. The region bbox if too few.
 */
export function servicesBounds(list: readonly FacilityItem[], regionBbox: [number, number, number, number]): LngLatBoundsLike {
  if (list.length < 5) return regionBbox;
  const q = (values: number[], p: number): number => values[Math.min(values.length - 1, Math.max(0, Math.round(p * (values.length - 1))))];
  const lons = list.map((f) => f.lon).sort((a, b) => a - b);
  const lats = list.map((f) => f.lat).sort((a, b) => a - b);
  let [w, e, s, n] = [q(lons, 0.05), q(lons, 0.95), q(lats, 0.05), q(lats, 0.95)];
  // at least ~600 m across, then 15 % margin
  const minSpan = 0.008;
  if (e - w < minSpan) [w, e] = [(w + e) / 2 - minSpan / 2, (w + e) / 2 + minSpan / 2];
  if (n - s < minSpan / 1.5) [s, n] = [(s + n) / 2 - minSpan / 3, (s + n) / 2 + minSpan / 3];
  const mx = (e - w) * 0.15;
  const my = (n - s) * 0.15;
  return [w - mx, s - my, e + mx, n + my];
}

export function useQuarterMap(container: Ref<HTMLElement | null>, opts: QuarterMapOptions): QuarterMap {
  const map = shallowRef<MapLibreMap | null>(null);
  const region = shallowRef<RegionMeta | null>(null);
  const ready = ref(false);
  const error = ref<string | null>(null);
  const basemapMissing = ref(false);
  let disposed = false;

  const labelCanvas = (): void => {
    map.value?.getCanvas().setAttribute('aria-label', t('map.label'));
  };
  const stopLocaleWatch = watch(locale, labelCanvas);

  onMounted(async () => {
    let basemap: BasemapTileJson | null;
    let meta: RegionMeta;
    let facilities: { facilities: FacilityItem[] } | null;
    try {
      [meta, facilities, basemap] = await Promise.all([
        api.region(),
        api.facilities().catch(() => null), // frames the first view; drawn from the first frame when opts.facilities
        request<BasemapTileJson>('/api/basemap/tiles.json').catch((err: unknown) => {
          console.warn('basemap unavailable:', err);
          basemapMissing.value = true;
          return null;
        }),
      ]);
    } catch (err) {
      error.value = errorText(err);
      return;
    }
    if (disposed || !container.value) return;
    region.value = meta;
    const [w, s, e, n] = meta.bbox;
    const padX = (e - w) * 0.5;
    const padY = (n - s) * 0.5;
    performance.mark('quarter:map-create');
    const style = buildBasemapStyle(basemap);
    const overlays = overlayStyle(opts.facilities ? facilitiesToGeoJson(facilities?.facilities ?? []) : null);
    Object.assign(style.sources, overlays.sources);
    style.layers.push(...overlays.layers);
    const m = new maplibregl.Map({
      container: container.value,
      style,
      bounds: facilities ? servicesBounds(facilities.facilities, meta.bbox) : meta.bbox,
      fitBoundsOptions: { padding: opts.padding?.() ?? 24 },
      maxBounds: [w - padX, s - padY, e + padX, n + padY],
      minZoom: 9,
      maxZoom: 19,
      // Attribution is rendered by the page as escaped text (MapLibre's control injects HTML).
      attributionControl: false,
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      // No symbol fade-in: the first complete frame is then the first frame with labels placed,
      // not the last of 300 ms of (software-rendered) fade frames.
      fadeDuration: 0,
    });
    m.touchZoomRotate.disableRotation();
    map.value = m;
    window.__quarter = { map: m };
    labelCanvas();
    m.once('idle', () => performance.mark(MAP_IDLE_MARK));
    m.on('load', () => {
      performance.mark('quarter:map-load');
      ready.value = true;
      opts.onReady?.(m);
    });
    m.on('error', (ev) => console.warn('map error:', ev.error?.message ?? ev));
  });

  onBeforeUnmount(() => {
    disposed = true;
    stopLocaleWatch();
    map.value?.remove();
    map.value = null;
    if (window.__quarter) delete window.__quarter;
  });

  return { map, region, ready, error, basemapMissing };
}
