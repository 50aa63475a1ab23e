/** Writing results: to a file atomically (format from extension) or to stdout. */
import { dirname } from 'node:path';
import { ensureOutputDir, writeFileAtomic } from '../io/atomic-file.js';

export function writeOutput(file: string | undefined, text: string): void {
  if (file) {
    ensureOutputDir(dirname(file));
    writeFileAtomic(file, [text]);
  } else {
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Round for display without trailing noise. */
export const round = (x: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
