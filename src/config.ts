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
}

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

function str(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
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
    ...overrides,
  };
  if ((config.scryptCost & (config.scryptCost - 1)) !== 0) {
    throw new ConfigError(`SCRYPT_COST must be a power of two (got ${config.scryptCost})`);
  }
  return Object.freeze(config);
}
