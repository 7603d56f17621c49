import { defineConfig } from 'vitest/config';

// Test files share one PostgreSQL server but each creates its own database,
// so files run in parallel processes safely.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
  },
});
