/**
 * Walking-time heatmap of one format on H3 cells: one GET /api/heatmap answer — per cell, the
 * minutes from its homes to the nearest facility of the format, worked out on the server the way
 * the assessment does — drawn as hexagons coloured by the cell's mean minutes: ≤ 5, ≤ 10, ≤ 15,
 * more, or no home reached within the search cap.
 *
 * The answer names cells by id only; their outlines come from h3-js here, which is loaded with
 * the heatmap panel and never on first load.
 */
import type { Feature, FeatureCollection, Polygon } from 'geojson';
import { cellToBoundary } from 'h3-js';
import { planningApi, type HeatmapAnswer, type HeatmapCell } from './api-planning.js';

export const HEAT_RESOLUTION = 9;
export const HEAT_MINUTES = [5, 10, 15] as const;
/** band id of cells whose mean is beyond the last threshold. */
export const BEYOND = 99;
/** band id of cells where no home reaches a facility of the format within the search cap. */
export const UNREACHED = -1;

export interface HeatCellProps {
  cell: string;
  /** 5, 10, 15, BEYOND or UNREACHED, from the cell's mean minutes. */
  band: number;
  homes: number;
}

export interface HeatResult {
  answer: HeatmapAnswer;
  cells: FeatureCollection<Polygon, HeatCellProps>;
  /** the answer's cells by id, for the tooltip. */
  byCell: Map<string, HeatmapCell>;
  /** cells per band id. */
  counts: Record<number, number>;
}

/** The band of a cell's mean minutes. */
export function bandOf(meanMinutes: number | null): number {
  if (meanMinutes === null) return UNREACHED;
  return HEAT_MINUTES.find((m) => meanMinutes <= m) ?? BEYOND;
}

export async function computeHeatmap(format: string, opts: { profile?: string; signal?: AbortSignal } = {}): Promise<HeatResult> {
  const answer = await planningApi.heatmap({ format, profile: opts.profile, resolution: HEAT_RESOLUTION }, opts.signal);
  const counts: Record<number, number> = { [BEYOND]: 0, [UNREACHED]: 0 };
  for (const m of HEAT_MINUTES) counts[m] = 0;
  const features: Array<Feature<Polygon, HeatCellProps>> = answer.cells.map((c) => {
    const band = bandOf(c.meanMinutes);
    counts[band]++;
    return { type: 'Feature', geometry: { type: 'Polygon', coordinates: [cellToBoundary(c.h3, true)] }, properties: { cell: c.h3, band, homes: c.homes } };
  });
  return { answer, cells: { type: 'FeatureCollection', features }, byCell: new Map(answer.cells.map((c) => [c.h3, c])), counts };
}
