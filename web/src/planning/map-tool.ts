/**
 * Who owns clicks on the planner's map. Normally a click analyses walking access there; a panel
 * in an editing mode (scenario editor) takes clicks over until it gives them back.
 */
import { shallowRef } from 'vue';
import type { LngLat } from '../api.js';

export interface MapClickTool {
  /** the panel's own handling of a click at a map position (pixel for feature lookups). */
  click(at: LngLat, pixel: { x: number; y: number }): void;
  /** map cursor while the tool is active. */
  cursor: string;
}

export const mapClickTool = shallowRef<MapClickTool | null>(null);
