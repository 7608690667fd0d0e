import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // chDB runs one embedded engine per process: every test file gets its own process.
    pool: 'forks',
    maxWorkers: 2,
    // One temp root per run, removed at its end (test/helpers/tmpRoot.ts).
    globalSetup: ['test/helpers/tmpRoot.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
