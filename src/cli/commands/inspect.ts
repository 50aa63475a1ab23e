/** formats · info · export: what is in a region, and the graph as CSV for other tools. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { edgeSeconds, getWalkingProfile } from '../../engine/profile.js';
import { writeGraphExport } from '../../report/graph-export.js';
import { loadTaxonomy } from '../../taxonomy/formats.js';
import { usageError } from '../errors.js';
import { printJson } from '../output.js';
import { loadRegionFlag, regionPath } from '../region-option.js';
import { padDisplay } from '../text.js';
import { importSummary } from './import.js';

const CLASS_LABEL = { basic: '基本保障类', quality: '品质提升类', public: '公共服务' } as const;

export function registerInspect(program: Command): void {
  program
    .command('formats')
    .description('the taxonomy of formats (业态), with counts found in the region when one exists')
    .option('-r, --region <file>', 'region file')
    .option('--json', 'JSON output')
    .action((flags: { region?: string; json?: boolean }) => {
      const tax = loadTaxonomy();
      const counts = existsSync(regionPath(flags.region)) ? loadRegionFlag(flags.region).meta.report.facilities.byFormat : undefined;
      const rows = tax.formats.map((f) => ({
        id: f.id,
        name: f.name,
        class: f.class,
        level: f.level,
        mofcomMinutes: f.mofcomMinutes,
        count: counts ? (counts[f.id] ?? 0) : null,
      }));
      if (flags.json) return printJson(rows);
      const lines = [`${'id'.padEnd(20)} ${padDisplay('名称', 20)} ${padDisplay('class', 10)} level  found  name`];
      for (const r of rows) {
        const level = r.level === 'neighbourhood' ? '街坊' : `${r.level}min`;
        lines.push(`${r.id.padEnd(20)} ${padDisplay(r.name['zh-CN'], 20)} ${padDisplay(CLASS_LABEL[r.class], 10)} ${level.padEnd(6)} ${String(r.count ?? '—').padStart(5)}  ${r.name.en}`);
      }
      console.log(lines.join('\n'));
    });

  program
    .command('info')
    .description('the import report of a region: source, network, islands, facilities, warnings')
    .option('-r, --region <file>', 'region file')
    .option('--json', 'JSON output')
    .action((flags: { region?: string; json?: boolean }) => {
      const t0 = performance.now();
      const region = loadRegionFlag(flags.region);
      const loadMs = performance.now() - t0;
      if (flags.json) return printJson({ ...region.meta, nodes: region.graph.nodeCount, edges: region.graph.edgeCount, loadMs });
      console.log(importSummary(region, regionPath(flags.region), 0).replace(/ in 0\.00 s/, '') + `\n  loaded in ${loadMs.toFixed(1)} ms`);
    });

  program
    .command('export')
    .description('the walk graph as CSV (nodes.csv, edges.csv, facilities.csv) to check results with another tool')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('-r, --region <file>', 'region file')
    .option('--profile <id>', 'walking profile for the seconds column', 'default')
    .option('--json', 'JSON output')
    .action((flags: { out: string; region?: string; profile: string; json?: boolean }) => {
      const region = loadRegionFlag(flags.region);
      let profile;
      try {
        profile = getWalkingProfile(flags.profile);
      } catch (err) {
        throw usageError(`--profile: ${(err as Error).message}`);
      }
      const counts = writeGraphExport(flags.out, {
        graph: region.graph,
        edgeSec: edgeSeconds(region.graph, profile),
        speedMps: profile.speedMps,
        facilities: region.facilities,
        snaps: region.facilitySnaps,
      });
      if (flags.json) printJson({ out: flags.out, profile: profile.id, ...counts });
      else console.log(`exported ${counts.nodes} nodes, ${counts.edges} edges, ${counts.facilityRows} facility rows (${profile.id} profile) → ${flags.out}/\n${region.meta.attribution}`);
    });
}
