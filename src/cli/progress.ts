/** Progress on stderr: a bar on a terminal, nothing when piped or in --json mode (stdout stays clean). */
import cliProgress from 'cli-progress';

export type ProgressFn = (phase: string, done: number, total: number) => void;

const PHASE_LABEL: Record<string, string> = {
  relations: 'reading relations',
  ways: 'reading ways',
  nodes: 'reading nodes',
  network: 'building network',
  snap: 'snapping facilities',
  residences: 'placing residences',
};

export function makeProgress(enabled: boolean): { update: ProgressFn; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: '{phase} [{bar}] {percentage}%', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let current = '';
  return {
    update(phase, done, total) {
      if (phase !== current) {
        if (current) bar.stop();
        current = phase;
        bar.start(Math.max(1, total), 0, { phase: (PHASE_LABEL[phase] ?? phase).padEnd(20) });
      }
      bar.update(Math.min(done, Math.max(1, total)));
    },
    stop() {
      if (current) bar.stop();
    },
  };
}
