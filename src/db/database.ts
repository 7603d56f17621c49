import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { discardBrokenConnections } from './connection-errors.js';
import { PgliteDialect } from './pglite-dialect.js';
import { withPreparedStatements } from './prepared-pool.js';
import type { Tables } from './tables.js';

export type Db = Kysely<Tables>;

/** Connections of the pool (pg's totalCount, idleCount, waitingCount), for the metrics. */
export interface PoolStats {
  total: number;
  idle: number;
  /** Queries queued for a connection. */
  waiting: number;
}

export interface Database {
  db: Db;
  kind: 'postgres' | 'embedded';
  poolStats(): PoolStats;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  poolMax: number;
  /** Bound on opening a connection (pg connectionTimeoutMillis); default 5000. */
  connectTimeoutMs?: number;
  /**
   * Server-side statement_timeout and idle_in_transaction_session_timeout;
   * the driver itself gives up (query_timeout) 2 s later, for a server that
   * no longer answers at all. Unset or 0: no limit (migrations, imports).
   */
  statementTimeoutMs?: number;
  /** Idle connections are closed after this long (pg idleTimeoutMillis); default 30000, 0 keeps them. */
  idleTimeoutMs?: number;
}

/** How long the driver waits beyond statement_timeout before it gives up on a silent server. */
const QUERY_TIMEOUT_MARGIN_MS = 2000;
/** TCP keep-alive on database connections, so that a dead peer is noticed on idle connections. */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

// bigint columns hold microsecond timestamps and counters, all far below 2^53.
const INT8_OID = 20;
const parseInt8 = (value: string) => Number(value);

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  return openEmbedded(options.dataDir);
}

function openPostgres(connectionString: string, options: DatabaseOptions): Database {
  const statementTimeout = options.statementTimeoutMs ?? 0;
  const pool = new pg.Pool({
    connectionString,
    max: options.poolMax,
    // Fail fast when the database is down or unreachable (the request answers 503), never hang.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    ...(statementTimeout > 0
      ? {
          statement_timeout: statementTimeout,
          // A transaction left open by a vanished client must not hold the collection lock.
          idle_in_transaction_session_timeout: statementTimeout,
          query_timeout: statementTimeout + QUERY_TIMEOUT_MARGIN_MS,
        }
      : {}),
    // The view predicates make plans with many subplans whose estimated cost is high
    // but whose real cost is small: JIT compilation would take seconds per query.
    options: '-c jit=off',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: withPreparedStatements(discardBrokenConnections(pool)) }) });
  return {
    db,
    kind: 'postgres',
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => db.destroy(),
  };
}

async function openEmbedded(dataDir: string): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(inMemory ? undefined : dataDir, {
    parsers: { [INT8_OID]: parseInt8 },
  });
  const db = new Kysely<Tables>({ dialect: new PgliteDialect(pglite) });
  // One in-process backend, always open: reported as one connection in use.
  return { db, kind: 'embedded', poolStats: () => ({ total: 1, idle: 0, waiting: 0 }), close: () => db.destroy() };
}
