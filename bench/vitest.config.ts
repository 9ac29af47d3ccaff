import { defineConfig } from 'vitest/config';

// `npm run bench` runs the workloads in bench/ as one long, sequential vitest file, so that it
// can start the same real peers as the tests (test/peers).
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 3_600_000,
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    reporters: ['verbose'],
  },
});
