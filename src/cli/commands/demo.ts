/** `quarter demo`: import the bundled Krems extract and answer the first questions a planner asks. */
import { existsSync, mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { createRoutingContext } from '../../access/context.js';
import { nearestFromPoint } from '../../access/nearest.js';
import { isochroneFromPoint } from '../../engine/isochrone.js';
import { dataPath } from '../../paths.js';
import { readRegion } from '../../region/region-file.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { loadTaxonomy } from '../../taxonomy/formats.js';
import { DEMO_REGION } from '../region-option.js';
import { padDisplay } from '../text.js';
import { importSummary, runImport } from './import.js';

/** Krems town centre, Obere Landstraße. */
const DEMO_POINT: [number, number] = [15.6001, 48.4098];

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('import the bundled Krems demo and show what is within 5/10/15 minutes of its centre')
    .option('--fresh', 're-import even if the region file exists')
    .action(async (flags: { fresh?: boolean }) => {
      const source = dataPath('krems', 'krems.osm.pbf');
      let region;
      if (flags.fresh || !existsSync(DEMO_REGION)) {
        const res = await runImport(source, { out: DEMO_REGION, name: 'Krems an der Donau' });
        console.log(importSummary(res.region, res.out, res.ms));
        region = res.region;
      } else {
        const t0 = performance.now();
        region = readRegion(DEMO_REGION);
        console.log(`loaded ${DEMO_REGION} in ${(performance.now() - t0).toFixed(1)} ms (use --fresh to re-import)`);
      }
      const ctx = createRoutingContext(region);
      const tax = loadTaxonomy();
      const [lon, lat] = DEMO_POINT;
      const res = nearestFromPoint(ctx, lon, lat, { maxMinutes: 30 });
      console.log(`\nwithin a walk of ${lon},${lat} (Krems centre):`);
      for (const f of res?.formats ?? []) {
        if (!f.nearest) continue;
        const name = tax.byId.get(f.format)?.name['zh-CN'] ?? f.format;
        console.log(`  ${padDisplay(name, 20)} ${f.nearest.minutes.toFixed(1).padStart(5)} min  ${f.nearest.name || '(unnamed)'}   ≤15 min: ${f.within['15']}`);
      }
      const iso = isochroneFromPoint(ctx.index, ctx.arcSec, ctx.edgeSec, ctx.ws, lon, lat, [5, 10, 15], { speedMps: ctx.profile.speedMps });
      mkdirSync('out', { recursive: true });
      writeFileAtomic('out/demo-isochrone.geojson', [JSON.stringify({ ...iso, properties: { attribution: region.meta.attribution } })]);
      console.log(`\n5/10/15-minute isochrones → out/demo-isochrone.geojson`);
      console.log(`try: node dist/src/cli/main.js nearest --at ${lon},${lat}   ·   … isochrone --facilities pharmacy -o out/pharmacy.geojson`);
      console.log(region.meta.attribution);
    });
}
