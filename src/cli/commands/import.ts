import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { ensureOutputDir } from '../../io/atomic-file.js';
import { importRegion } from '../../region/import-region.js';
import { writeRegion } from '../../region/region-file.js';
import type { Region } from '../../region/region.js';
import { loadTaxonomy } from '../../taxonomy/formats.js';
import { parseMetres } from '../parse.js';
import { printJson } from '../output.js';
import { makeProgress } from '../progress.js';

export interface ImportFlags {
  out?: string;
  clip?: string;
  snapLimit?: string;
  name?: string;
  json?: boolean;
}

export function defaultRegionOut(osmFile: string): string {
  return join('out', basename(osmFile).replace(/\.(osm\.pbf|osm\.gz|osm|pbf|xml)$/i, '') + '.quarter');
}

/** Import and save; returns the region and where it went. Shared by `import` and `demo`. */
export async function runImport(osmFile: string, flags: ImportFlags): Promise<{ region: Region; out: string; ms: number }> {
  const out = flags.out ?? defaultRegionOut(osmFile);
  const snapLimitMetres = flags.snapLimit === undefined ? 300 : parseMetres('--snap-limit', flags.snapLimit);
  const progress = makeProgress(!flags.json);
  const t0 = performance.now();
  try {
    const region = await importRegion(osmFile, { clip: flags.clip, snapLimitMetres, name: flags.name, onProgress: progress.update });
    ensureOutputDir(dirname(out));
    writeRegion(out, region);
    return { region, out, ms: performance.now() - t0 };
  } finally {
    progress.stop();
  }
}

export function importSummary(region: Region, out: string, ms: number): string {
  const r = region.meta.report;
  const tax = loadTaxonomy();
  const lines = [
    `imported ${region.meta.source.file} (${r.osm.format}) in ${(ms / 1000).toFixed(2)} s → ${out}`,
    `  network: ${region.graph.nodeCount} nodes, ${region.graph.edgeCount} edges from ${r.osm.walkableWays} walkable ways; ` +
      `${r.islands.count} islands besides the main network (${r.islands.largestNodes} nodes)`,
    `  facilities: ${r.facilities.total} (${r.facilities.unreachable} unreachable, ${r.facilities.onIslands} on islands); ` +
      `access points: ${Object.entries(r.facilities.accessPoints).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
  const h = r.residences;
  if (h) {
    lines.push(
      `  residences: ${region.residences.count} (${h.homeBuildings.kept + h.candidates.kept} buildings, ${h.compounds.withoutBuildings} residential areas; ` +
        `${h.compounds.total} compounds, ${h.compounds.withGates} with gates; access by gate ${h.access.gate}, entrance ${h.access.entrance}, centroid ${h.access.centroid}; ` +
        `${h.unreachable} unreachable)`,
    );
  }
  const found = tax.formats.filter((f) => (r.facilities.byFormat[f.id] ?? 0) > 0);
  lines.push('  ' + found.map((f) => `${f.name['zh-CN']} ${r.facilities.byFormat[f.id]}`).join(' · '));
  const excluded = Object.entries(r.osm.excludedWays).sort((a, b) => b[1] - a[1]);
  if (excluded.length) lines.push(`  not walkable: ${excluded.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  lines.push(`  ${region.meta.attribution}`);
  return lines.join('\n');
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import an OpenStreetMap extract (.osm.pbf, .osm, .osm.gz) into a region file')
    .argument('<osm-file>', 'OSM extract')
    .option('-o, --out <file>', 'region file to write (default out/<name>.quarter)')
    .option('--clip <geojson>', 'cut the region to this polygon (streets crossing the edge are kept whole)')
    .option('--snap-limit <metres>', 'facilities farther than this from a walkable way are unreachable', '300')
    .option('--name <name>', 'region name')
    .option('--json', 'print the import report as JSON')
    .action(async (file: string, flags: ImportFlags) => {
      const { region, out, ms } = await runImport(file, flags);
      if (flags.json) printJson({ out, seconds: ms / 1000, meta: region.meta });
      else console.log(importSummary(region, out, ms));
    });
}
