import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Name of a migrated template database on the test PostgreSQL server, when one is used. */
    templateDatabase: string | undefined;
  }
}

/**
 * Against a real PostgreSQL server (TEST_DATABASE_URL), migrate one template
 * database per run; each test file then clones it (CREATE DATABASE … TEMPLATE),
 * which is much faster than migrating every time. Everything this run created
 * carries its run id and is dropped at the end.
 */
export default async function setup(project: TestProject) {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    project.provide('templateDatabase', undefined);
    return;
  }
  const run = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
  const template = `taxii_tpl_${run}`;
  process.env.TAXII_TEST_RUN = run;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${template}`);
  const target = new URL(url);
  target.pathname = `/${template}`;
  const database = await openDatabase({ databaseUrl: target.toString(), dataDir: 'memory://', poolMax: 1 });
  await migrateToLatest(database.db);
  await database.close();
  project.provide('templateDatabase', template);

  return async () => {
    const leftovers = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname like $1 or datname = $2`,
      [`taxii_t_${run}_%`, template],
    );
    for (const { datname } of leftovers.rows) await admin.query(`drop database if exists ${datname} with (force)`);
    await admin.end();
  };
}
