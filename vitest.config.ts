import { defineConfig } from 'vitest/config';

// Two tiers. `unit`: no services, no network, seconds (`npm run test:unit`). `e2e`: real OpenBao,
// registry, Docker daemon; its global setup refuses to start without the tools and rebuilds dist/
// from the sources first. `npx vitest run` (scripts/test.sh) runs both.
export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          globalSetup: ['test/harness/unit-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
