import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A kind's own tests live in its folder (src/resources/kinds/KIND/).
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 300_000,
    // e2e tests boot real hosts; the machine has 2 cores, so keep file parallelism modest.
    maxWorkers: 2,
    globalSetup: ['test/hosts/global-setup.ts'],
  },
});
