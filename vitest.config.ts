import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    // Native addons (sharp, better-sqlite3, hnswlib-node) and the tfjs wasm
    // module are safest in child processes rather than worker threads.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
