import { defineConfig } from 'vitest/config';

/**
 * The suite runs against a real PostgreSQL server when TEST_DATABASE_URL is set
 * (CI sets it), and against the embedded database (PGlite) always: fully when
 * there is no server, otherwise the HTTP tests as a second project. Each test
 * file creates and drops its own database, so files run in parallel.
 */
const withPostgres = Boolean(process.env.TEST_DATABASE_URL);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default on two cores is one worker; the files mostly wait on the database, so two
    // halve the suite's time (each file has its own database, so they do not interfere).
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      ...(withPostgres
        ? [{ extends: true as const, test: { name: 'postgres', include: ['test/**/*.test.ts'], env: { TEST_DB: 'postgres' } } }]
        : []),
      {
        extends: true as const,
        test: {
          name: 'embedded',
          include: withPostgres ? ['test/http/**/*.test.ts', 'test/integration/**/*.test.ts'] : ['test/**/*.test.ts'],
          // Fault tests drive a PostgreSQL server through a TCP proxy: there is none to proxy in-process.
          exclude: ['test/**/*.postgres-only.test.ts'],
          env: { TEST_DB: 'embedded' },
        },
      },
    ],
  },
});
