import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // one temporary folder per run (TMPDIR for the tests and what they start), removed when the run ends
    globalSetup: ['test/global-tmp.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration tests start real processes on fixed-free ports; keep file-level parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});
