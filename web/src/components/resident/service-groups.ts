/**
 * The resident page's view of a /api/nearby answer: facilities by walking band (≤ 5, 5–10,
 * 10–15 minutes), within a band by format (a facility serving two formats is listed under both),
 * formats ordered by their nearest facility, facilities nearest first.
 */
import type { NearbyBand, NearbyFacility, NearbyFormatSummary } from '../../api.js';

export const BANDS: readonly NearbyBand[] = [5, 10, 15];
/** The last band: a format with nothing inside it is "missing" for the resident. */
export const LAST_BAND: NearbyBand = 15;

export interface FormatGroup {
  format: string;
  /** nearest first. */
  facilities: NearbyFacility[];
}

export interface BandGroup {
  band: NearbyBand;
  /** the band's lower bound (0 for the first). */
  lower: number;
  groups: FormatGroup[];
}

export function groupByBand(facilities: readonly NearbyFacility[]): BandGroup[] {
  return BANDS.map((band, i) => {
    const byFormat = new Map<string, NearbyFacility[]>();
    const inBand = facilities.filter((f) => f.band === band).sort((a, b) => a.minutes - b.minutes || a.id - b.id);
    for (const f of inBand) {
      for (const format of new Set(f.formats)) {
        let list = byFormat.get(format);
        if (!list) byFormat.set(format, (list = []));
        list.push(f);
      }
    }
    // a Map keeps insertion order: formats come in the order of their nearest facility
    return { band, lower: i === 0 ? 0 : BANDS[i - 1], groups: [...byFormat].map(([format, list]) => ({ format, facilities: list })) };
  });
}

/** Formats of the region with nothing within the last band. */
export function missingFormats(summary: readonly NearbyFormatSummary[]): string[] {
  return summary.filter((s) => s.nearestMinutes === null || s.nearestMinutes > LAST_BAND).map((s) => s.format);
}

/** The `count` formats whose nearest facility is nearest, within the last band. */
export function nearestFormats(summary: readonly NearbyFormatSummary[], count: number): NearbyFormatSummary[] {
  return summary
    .filter((s) => s.nearestMinutes !== null && s.nearestMinutes <= LAST_BAND)
    .sort((a, b) => a.nearestMinutes! - b.nearestMinutes!)
    .slice(0, count);
}
