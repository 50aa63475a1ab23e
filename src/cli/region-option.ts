/** Where commands find the region file: --region, else $QUARTER_REGION, else the demo's. */
import { existsSync } from 'node:fs';
import { readRegion } from '../region/region-file.js';
import type { Region } from '../region/region.js';
import { CliError, EXIT } from './errors.js';

export const DEMO_REGION = 'out/demo.quarter';

export function regionPath(flag?: string): string {
  return flag ?? process.env.QUARTER_REGION ?? DEMO_REGION;
}

export function loadRegionFlag(flag?: string): Region {
  const file = regionPath(flag);
  if (!existsSync(file)) {
    const hint = file === DEMO_REGION ? ' (run `npm start` or `quarter import <file.osm.pbf> -o out/demo.quarter` first)' : '';
    throw new CliError(`${file}: no such region file${hint}`, EXIT.input);
  }
  return readRegion(file);
}
