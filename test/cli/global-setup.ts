/**
 * vitest globalSetup: build once (`npm run build`) so the CLI tests run the real built
 * `quarter`. The build goes to a private directory under test/.tmp (git-ignored) rather than
 * dist/: other test runs and builds rewrite dist/ at any moment, and a CLI loading a half-written
 * module fails at random. Inside the repository, the built code still finds data/ and
 * node_modules/ as dist/ would.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** path of the built CLI entry (main.js) for this test run. */
    quarterCli: string;
  }
}

export default function setup(project: TestProject): () => void {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const outDir = join(root, 'test', '.tmp', `cli-build-${process.pid}`);
  rmSync(outDir, { recursive: true, force: true });
  try {
    execFileSync('npm', ['run', 'build', '--silent', '--', '--outDir', outDir], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm run build failed before the CLI tests:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.stdout || e.stderr ? '' : e.message}`);
  }
  const cli = join(outDir, 'src', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`npm run build did not produce ${cli}`);
  project.provide('quarterCli', cli);
  return () => {
    rmSync(outDir, { recursive: true, force: true });
    const tmp = dirname(outDir);
    if (existsSync(tmp) && readdirSync(tmp).length === 0) rmdirSync(tmp);
  };
}
