import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest, pendingMigrations } from './db/migrate.js';
import { analyzeIfStale } from './db/maintenance.js';
import { purgeStatuses } from './db/status-store.js';
import { ensureDefaultProfiles } from './db/view-policies.js';
import { syncViewIndexes } from './views/view-index.js';
import { describeDemo, ensureDemo } from './services/demo.js';
import { applySeed, readSeedFile, SeedError } from './services/provisioning.js';

/** Entry point: read config → open the database → migrate → provision → listen → close gracefully. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string' } }, allowPositionals: false });
  const config = loadConfig(process.env, values.seed ? { seedFile: values.seed } : {});
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.dbPoolMax });

  if (config.migrateOnStart) {
    await migrateToLatest(database.db);
  } else {
    const pending = await pendingMigrations(database.db);
    if (pending.length > 0) throw new ConfigError(`migrations pending (${pending.join(', ')}): run "npm run db:migrate" or set MIGRATE_ON_START=true`);
  }
  await ensureDefaultProfiles(database.db);
  await syncViewIndexes(database.db);
  if (config.seedFile) await applySeed(database.db, readSeedFile(config.seedFile), { scryptCost: config.scryptCost });
  const demo = config.demo ? await ensureDemo(database.db, { dataDir: config.dataDir, scryptCost: config.scryptCost }) : undefined;

  const app = await buildApp(config, database);
  const address = await app.listen({ host: config.host, port: config.port });
  app.log.info({ database: database.kind, address }, 'TAXII server listening');
  if (demo) process.stdout.write(describeDemo(demo, address.replace('0.0.0.0', '127.0.0.1')) + '\n');

  const purge = setInterval(() => {
    purgeStatuses(database.db, config.statusRetentionHours).catch((err: unknown) => app.log.warn({ err }, 'status purge failed'));
  }, 60 * 60 * 1000);
  purge.unref();
  const analyze = setInterval(() => {
    analyzeIfStale(database.db).catch((err: unknown) => app.log.warn({ err }, 'analyze failed'));
  }, 30 * 1000);
  analyze.unref();

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    clearInterval(purge);
    clearInterval(analyze);
    await app.close();
    await database.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  const expected = error instanceof ConfigError || error instanceof SeedError;
  process.stderr.write(`${expected ? (error as Error).message : (error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
