import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';

/**
 * A fresh, migrated database for one test file: a clone of the run's template
 * on the real PostgreSQL server, or an in-memory embedded database when the
 * suite runs without one (TEST_DB=embedded, or no TEST_DATABASE_URL).
 */
export interface TestDatabase extends Database {
  /** Connection string of the real database (undefined for the embedded one). */
  url: string | undefined;
  destroy(): Promise<void>;
}

export function testDatabaseKind(): 'postgres' | 'embedded' {
  return process.env.TEST_DB === 'embedded' || !process.env.TEST_DATABASE_URL ? 'embedded' : 'postgres';
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (testDatabaseKind() === 'embedded') {
    const database = await openDatabase({ databaseUrl: undefined, dataDir: 'memory://', poolMax: 1 });
    await migrateToLatest(database.db);
    return { ...database, url: undefined, destroy: () => database.close() };
  }
  const url = process.env.TEST_DATABASE_URL!;
  const template = inject('templateDatabase');
  if (!template) throw new Error('the global setup did not create a template database');
  const run = template.replace('taxii_tpl_', '');
  const name = `taxii_t_${run}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: target.toString(), dataDir: 'memory://', poolMax: 10 });
  return {
    ...database,
    url: target.toString(),
    destroy: async () => {
      await database.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      try {
        await cleanup.query(`drop database if exists ${name} with (force)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
