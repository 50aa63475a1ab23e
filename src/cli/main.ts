#!/usr/bin/env node
/** `quarter`: the command line. A thin shell over the library; errors are one line with a meaningful exit code. */
import { Command, CommanderError } from 'commander';
import { OsmInputError } from '../ingest/osm-source.js';
import { OverpassError } from '../ingest/overpass.js';
import { PoiInputError } from '../ingest/pois/read-table.js';
import { OutputFileError, installInterruptCleanup } from '../io/atomic-file.js';
import { RegionFileError } from '../region/region-file.js';
import { TaxonomyError } from '../taxonomy/formats.js';
import { registerDemo } from './commands/demo.js';
import { registerFetch } from './commands/fetch.js';
import { registerImport } from './commands/import.js';
import { registerImportPois } from './commands/import-pois.js';
import { registerInspect } from './commands/inspect.js';
import { registerQueries } from './commands/query.js';
import { CliError, EXIT } from './errors.js';

function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof OutputFileError) return EXIT.output;
  if (err instanceof OsmInputError || err instanceof RegionFileError || err instanceof TaxonomyError || err instanceof PoiInputError) return EXIT.input;
  if (err instanceof OverpassError) return EXIT.network;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'EISDIR') return EXIT.input;
  if (code === 'ENOSPC' || code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'EDQUOT') return EXIT.output;
  if (err instanceof Error && /^[^:\n]+: /.test(err.message) && !(err instanceof TypeError) && !(err instanceof RangeError)) return EXIT.input;
  return EXIT.internal;
}

export async function main(argv: string[]): Promise<number> {
  // Ctrl-C at any point (not only while a file is being written) removes temp files and exits 130.
  installInterruptCleanup();
  const program = new Command()
    .name('quarter')
    .description('一刻钟便民生活圈: walking network, facilities and walking times from OpenStreetMap')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerDemo(program);
  registerImport(program);
  registerImportPois(program);
  registerFetch(program);
  registerQueries(program);
  registerInspect(program);
  // Commands with heavy dependencies (the server, HiGHS, SQLite, the assessment) are loaded only
  // when asked for, so `quarter nearest …` does not pay for them at every start.
  const lazy: Record<string, () => Promise<(p: Command) => void>> = {
    serve: async () => (await import('./commands/serve.js')).registerServe,
    assess: async () => (await import('./commands/assess.js')).registerAssess,
    plan: async () => (await import('./commands/plan.js')).registerPlan,
    zone: async () => (await import('./commands/zone.js')).registerZone,
    scenario: async () => (await import('./commands/scenario.js')).registerScenario,
    user: async () => (await import('./commands/user.js')).registerUser,
    batch: async () => (await import('./commands/batch.js')).registerBatch,
    worker: async () => (await import('./commands/batch.js')).registerWorker,
  };
  const eager = new Set(program.commands.map((c) => c.name()));
  const asked = argv.slice(2).find((a) => !a.startsWith('-'));
  const versionOnly = asked === undefined && argv.slice(2).some((a) => a === '-V' || a === '--version');
  for (const [name, load] of Object.entries(lazy)) {
    if (versionOnly) break;
    // help, no command, or an unknown one: register everything so help and "unknown command" are complete
    if (asked === undefined || asked === 'help' || asked === name || (!eager.has(asked) && !(asked in lazy))) (await load())(program);
  }
  for (const c of program.commands) c.exitOverride();
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are exits too; commander already printed its message
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const code = exitCodeFor(err);
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`quarter: ${code === EXIT.internal ? 'internal error: ' : ''}${msg.split('\n')[0]}\n`);
    if (code === EXIT.internal && process.env.QUARTER_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return code;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
