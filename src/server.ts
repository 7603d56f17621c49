import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase, type Db } from './db/database.js';
import { migrateToLatest, pendingMigrations } from './db/migrate.js';
import { analyzeIfStale } from './db/maintenance.js';
import { purgeStatuses } from './db/status-store.js';
import { ensureDefaultProfiles } from './db/view-policies.js';
import { syncViewIndexes } from './views/view-index.js';
import { purgeAccessAudit } from './services/delivery-audit.js';
import { describeDemo, ensureDemo } from './services/demo.js';
import { applySeed, readSeedFile, SeedError } from './services/provisioning.js';

/** Entry point: read config → open the database → migrate → provision → listen → close gracefully. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string' } }, allowPositionals: false });
  const config = loadConfig(process.env, values.seed ? { seedFile: values.seed } : {});
  const databaseOptions = { databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.dbPoolMax, connectTimeoutMs: config.dbConnectTimeoutMs };
  // Requests run under DB_STATEMENT_TIMEOUT_MS; the start-up work (migrations, index builds) may take longer,
  // on its own connection without it. The embedded database is one in-process backend: no second handle.
  const database = await openDatabase({ ...databaseOptions, statementTimeoutMs: config.dbStatementTimeoutMs, idleTimeoutMs: config.dbIdleTimeoutMs });
  const setup = database.kind === 'postgres' ? await openDatabase({ ...databaseOptions, poolMax: 1 }) : database;
  let demo: Awaited<ReturnType<typeof ensureDemo>> | undefined;
  try {
    demo = await prepareDatabase(setup.db, config);
  } finally {
    if (setup !== database) await setup.close();
  }

  const app = await buildApp(config, database);
  const address = await app.listen({ host: config.host, port: config.port });
  app.log.info({ database: database.kind, address }, 'TAXII server listening');
  if (demo) process.stdout.write(describeDemo(demo, address.replace('0.0.0.0', '127.0.0.1')) + '\n');

  const purgeAudit = () =>
    purgeAccessAudit(database.db, config.deliveryAuditRetentionDays).catch((err: unknown) => app.log.warn({ err }, 'delivery audit purge failed'));
  void purgeAudit();
  const purge = setInterval(() => {
    purgeStatuses(database.db, config.statusRetentionHours).catch((err: unknown) => app.log.warn({ err }, 'status purge failed'));
    // Delivery audit and write log rows older than DELIVERY_AUDIT_RETENTION_DAYS.
    void purgeAudit();
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
    const started = Date.now();
    app.log.info({ signal, inflight: app.load.inflight, graceMs: config.shutdownGraceMs }, 'shutting down: finishing the requests in flight');
    clearInterval(purge);
    clearInterval(analyze);
    // The listener closes at once; requests in flight get SHUTDOWN_GRACE_MS, then their connections are cut.
    const cut = setTimeout(() => {
      app.log.warn({ inflight: app.load.inflight }, 'shutdown grace elapsed: closing the remaining connections');
      app.server.closeAllConnections();
    }, config.shutdownGraceMs);
    // Whatever still holds a database connection then has its statement timeout; past that, stop regardless.
    const hardStop = setTimeout(() => {
      app.log.error('shutdown did not complete; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + config.dbStatementTimeoutMs + 5000);
    hardStop.unref();
    try {
      // Also writes what the delivery audit and the rate limiter still buffer (their onClose hooks in app.ts).
      await app.close();
      clearTimeout(cut);
      await database.close();
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
    app.log.info({ ms: Date.now() - started }, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** Migrations (or the check that none is pending), default profiles, view indexes, seed and demo. */
async function prepareDatabase(db: Db, config: Readonly<Config>) {
  if (config.migrateOnStart) {
    await migrateToLatest(db);
  } else {
    const pending = await pendingMigrations(db);
    if (pending.length > 0) throw new ConfigError(`migrations pending (${pending.join(', ')}): run "npm run db:migrate" or set MIGRATE_ON_START=true`);
  }
  await ensureDefaultProfiles(db);
  await syncViewIndexes(db);
  if (config.seedFile) await applySeed(db, readSeedFile(config.seedFile), { scryptCost: config.scryptCost });
  return config.demo ? await ensureDemo(db, { dataDir: config.dataDir, scryptCost: config.scryptCost }) : undefined;
}

main().catch((error: unknown) => {
  const expected = error instanceof ConfigError || error instanceof SeedError;
  process.stderr.write(`${expected ? (error as Error).message : (error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
