import { isIP } from 'node:net';
import { getHeapStatistics } from 'node:v8';

/**
 * The only reader of process.env. Every setting is validated, defaulted and
 * frozen here, then passed down; the README's configuration table lists the
 * same variables (keep them in step).
 */
export interface Config {
  host: string;
  port: number;
  /** PostgreSQL connection string; when absent the embedded database (PGlite) is used. */
  databaseUrl: string | undefined;
  /** Where the embedded database keeps its files; "memory://" keeps nothing. */
  dataDir: string;
  dbPoolMax: number;
  /** How long acquiring a new PostgreSQL connection may take before the request fails (503). */
  dbConnectTimeoutMs: number;
  /** PostgreSQL statement_timeout and idle_in_transaction_session_timeout; 0 for none. The driver gives up 2 s later. */
  dbStatementTimeoutMs: number;
  /** Idle pooled connections are closed after this long; 0 keeps them. */
  dbIdleTimeoutMs: number;
  /** On SIGTERM/SIGINT: how long in-flight requests may take before their connections are cut. */
  shutdownGraceMs: number;
  /** Requests handled at once by this process (health endpoints excepted); more are answered 503. 0 for no limit. */
  maxInflightRequests: number;
  /** @fastify/under-pressure thresholds; 0 turns a check off. */
  pressure: {
    maxEventLoopDelayMs: number;
    /** 0 to 1, over the last sample interval. */
    maxEventLoopUtilization: number;
    maxHeapUsedBytes: number;
    maxRssBytes: number;
    sampleIntervalMs: number;
  };
  /** Retry-After (seconds) of the 503 answers of an overloaded or stopping server. */
  retryAfterSeconds: number;
  migrateOnStart: boolean;
  /** Declarative provisioning applied at start (JSON or YAML). */
  seedFile: string | undefined;
  /** Create a demo API root, collection and account when the database has none. */
  demo: boolean;
  logLevel: string;
  discovery: { title: string; description: string | undefined; contact: string | undefined };
  /** Discovery and API-root information answer without credentials. */
  publicDiscovery: boolean;
  pageDefaultLimit: number;
  pageMaxLimit: number;
  /** Used for API roots created without their own max_content_length. */
  defaultMaxContentLength: number;
  maxJsonDepth: number;
  maxObjectsPerEnvelope: number;
  /** Maximum number of comma-separated values in one match[...] filter. */
  maxMatchValues: number;
  statusRetentionHours: number;
  /** HMAC key for `next` cursors; when unset one is generated and kept in the database (shared by replicas). */
  cursorSecret: string | undefined;
  /** scrypt cost parameter N for new password and API-key hashes. */
  scryptCost: number;
  /** Per-account request budgets and failed-authentication budgets (src/auth/rate-limiter.ts). */
  rateLimitEnabled: boolean;
  /** Requests per window per account (anonymous requests of public discovery: per source address). */
  rateLimitPerWindow: number;
  /** Failed authentications per window per source address, and per presented user name or API key id. */
  authFailureLimitPerWindow: number;
  /** The rate-limit window: one minute (RATE_LIMIT_PER_MINUTE); tests shorten it. */
  rateLimitWindowMs: number;
  /** How often each process adds its local request counts to the counters shared in the database. */
  rateLimitSyncMs: number;
  /** Which response pages the delivery audit records (src/services/delivery-audit.ts). */
  deliveryAudit: DeliveryAuditScope;
  /** Delivery audit and write log rows older than this are purged. */
  deliveryAuditRetentionDays: number;
  /** TLS terminated by the server itself; undefined: plain HTTP (behind a proxy, or local). */
  tls: TlsFiles | undefined;
  /** Fastify's trustProxy: which proxies' X-Forwarded-For decides request.ip (false: none). */
  trustProxy: TrustProxy;
}

export type DeliveryAuditScope = 'all' | 'restricted' | 'off';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** Intermediate or CA certificates sent with the server certificate. */
  caFile: string | undefined;
}

/** false, true (every hop: only behind a proxy that overwrites the header), a hop count, or addresses / CIDRs. */
export type TrustProxy = boolean | number | string[];

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max} (got ${value})`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${env[name]}")`);
}

function ratio(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || value > 1) throw new ConfigError(`${name} must be a number from 0 to 1 (got "${raw}")`);
  return value;
}

/** Default heap threshold of the pressure check: 90% of V8's heap limit for this process. */
export function defaultMaxHeapUsedBytes(): number {
  return Math.floor(getHeapStatistics().heap_size_limit * 0.9);
}

function str(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (!(values as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(', ')} (got "${env[name]}")`);
  return raw as T;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** TRUST_PROXY: false | true | a hop count | comma-separated addresses, CIDRs or loopback/linklocal/uniquelocal. */
function trustProxy(env: Env): TrustProxy {
  const raw = env.TRUST_PROXY?.trim();
  if (raw === undefined || raw === '' || /^(false|no|off|0)$/i.test(raw)) return false;
  if (/^(true|yes|on)$/i.test(raw)) return true;
  if (/^\d+$/.test(raw)) return int(env, 'TRUST_PROXY', 0, 1, 100);
  const entries = raw.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const entry of entries) {
    if (PROXY_NAMES.includes(entry)) continue;
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new ConfigError(`TRUST_PROXY must be true, false, a hop count, or addresses / CIDRs separated by commas (got "${entry}")`);
    }
  }
  return entries;
}

function tlsFiles(env: Env): TlsFiles | undefined {
  const certFile = str(env, 'TLS_CERT_FILE');
  const keyFile = str(env, 'TLS_KEY_FILE');
  const caFile = str(env, 'TLS_CA_FILE');
  if (certFile === undefined && keyFile === undefined) {
    if (caFile !== undefined) throw new ConfigError('TLS_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE');
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) throw new ConfigError('TLS_CERT_FILE and TLS_KEY_FILE go together');
  return { certFile, keyFile, caFile };
}

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Readonly<Config> {
  const databaseUrl = str(env, 'DATABASE_URL');
  const pageMaxLimit = int(env, 'PAGE_MAX_LIMIT', 1000, 1, 100_000);
  const pageDefaultLimit = int(env, 'PAGE_DEFAULT_LIMIT', Math.min(100, pageMaxLimit), 1, 100_000);
  if (pageDefaultLimit > pageMaxLimit) {
    throw new ConfigError(`PAGE_DEFAULT_LIMIT (${pageDefaultLimit}) must not exceed PAGE_MAX_LIMIT (${pageMaxLimit})`);
  }
  const cursorSecret = str(env, 'CURSOR_SECRET');
  if (cursorSecret !== undefined && cursorSecret.length < 32) {
    throw new ConfigError('CURSOR_SECRET must be at least 32 characters');
  }
  const config: Config = {
    host: str(env, 'HOST') ?? '127.0.0.1',
    port: int(env, 'PORT', 8000, 0, 65535),
    databaseUrl,
    dataDir: str(env, 'DATA_DIR') ?? './data/pglite',
    dbPoolMax: int(env, 'DB_POOL_MAX', 10, 1, 1000),
    dbConnectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
    dbStatementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 30_000, 0, 24 * 3600 * 1000),
    dbIdleTimeoutMs: int(env, 'DB_IDLE_TIMEOUT_MS', 30_000, 0, 24 * 3600 * 1000),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    maxInflightRequests: int(env, 'MAX_INFLIGHT_REQUESTS', 128, 0, 1_000_000),
    pressure: {
      // The embedded database runs its queries on this event loop: delay there is its work, not overload.
      maxEventLoopDelayMs: int(env, 'PRESSURE_MAX_EVENT_LOOP_DELAY_MS', databaseUrl === undefined ? 0 : 1000, 0, 600_000),
      maxEventLoopUtilization: ratio(env, 'PRESSURE_MAX_EVENT_LOOP_UTILIZATION', 0),
      maxHeapUsedBytes: int(env, 'PRESSURE_MAX_HEAP_USED_BYTES', defaultMaxHeapUsedBytes(), 0),
      maxRssBytes: int(env, 'PRESSURE_MAX_RSS_BYTES', 0, 0),
      sampleIntervalMs: int(env, 'PRESSURE_SAMPLE_INTERVAL_MS', 1000, 10, 600_000),
    },
    retryAfterSeconds: int(env, 'RETRY_AFTER_SECONDS', 5, 1, 3600),
    migrateOnStart: bool(env, 'MIGRATE_ON_START', true),
    seedFile: str(env, 'SEED_FILE'),
    demo: bool(env, 'DEMO', databaseUrl === undefined),
    logLevel: str(env, 'LOG_LEVEL') ?? 'info',
    discovery: {
      title: str(env, 'TAXII_TITLE') ?? 'TAXII 2.1 sharing hub',
      description: str(env, 'TAXII_DESCRIPTION'),
      contact: str(env, 'TAXII_CONTACT'),
    },
    publicDiscovery: bool(env, 'PUBLIC_DISCOVERY', false),
    pageDefaultLimit,
    pageMaxLimit,
    defaultMaxContentLength: int(env, 'MAX_CONTENT_LENGTH', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxJsonDepth: int(env, 'MAX_JSON_DEPTH', 64, 8, 1000),
    maxObjectsPerEnvelope: int(env, 'MAX_OBJECTS_PER_ENVELOPE', 50_000, 1, 1_000_000),
    maxMatchValues: int(env, 'MAX_MATCH_VALUES', 100, 1, 10_000),
    statusRetentionHours: int(env, 'STATUS_RETENTION_HOURS', 72, 24, 24 * 365),
    cursorSecret,
    scryptCost: int(env, 'SCRYPT_COST', 16384, 1024, 1 << 20),
    rateLimitEnabled: bool(env, 'RATE_LIMIT_ENABLED', true),
    rateLimitPerWindow: int(env, 'RATE_LIMIT_PER_MINUTE', 600, 1, 10_000_000),
    authFailureLimitPerWindow: int(env, 'AUTH_FAILURE_LIMIT_PER_MINUTE', 10, 1, 1_000_000),
    rateLimitWindowMs: 60_000,
    rateLimitSyncMs: int(env, 'RATE_LIMIT_SYNC_MS', 250, 10, 10_000),
    deliveryAudit: oneOf(env, 'DELIVERY_AUDIT', ['all', 'restricted', 'off'] as const, 'restricted'),
    deliveryAuditRetentionDays: int(env, 'DELIVERY_AUDIT_RETENTION_DAYS', 365, 1, 36_500),
    tls: tlsFiles(env),
    trustProxy: trustProxy(env),
    ...overrides,
  };
  if ((config.scryptCost & (config.scryptCost - 1)) !== 0) {
    throw new ConfigError(`SCRYPT_COST must be a power of two (got ${config.scryptCost})`);
  }
  Object.freeze(config.pressure);
  return Object.freeze(config);
}
