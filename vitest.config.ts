import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Builds dist/ once per run: the CLI tests (test/cli) spawn the real built `quarter`.
    globalSetup: ['test/cli/global-setup.ts'],
    testTimeout: 60000,
  },
});
