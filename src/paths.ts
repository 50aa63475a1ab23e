/** Locate bundled data files whether running from src/ (tests) or dist/src/ (built CLI). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'data'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the Quarter package root above ${start}`);
    dir = up;
  }
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** Path of a bundled data file, e.g. dataPath('profiles', 'walking.json'). */
export const dataPath = (...parts: string[]): string => join(PACKAGE_ROOT, 'data', ...parts);
