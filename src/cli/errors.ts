/** Exit codes that mean something to scripts, and errors that carry one. */
export const EXIT = {
  ok: 0,
  /** a bug or an unexpected failure. */
  internal: 1,
  /** bad command line: unknown flag, non-numeric value, missing argument. */
  usage: 2,
  /** an input file is unreadable, corrupt or of the wrong kind. */
  input: 3,
  /** the question has no answer here: point outside the data, nothing reachable. */
  noResult: 4,
  /** writing an output failed (disk full, read-only, permissions). */
  output: 5,
  /** network fetch failed. */
  network: 6,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (msg: string): CliError => new CliError(msg, EXIT.usage);
