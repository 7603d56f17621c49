import { describe, expect, it } from 'vitest';
import { ConfigError, defaultMaxHeapUsedBytes, loadConfig } from '../../src/config.js';

/** Configuration from the environment: every setting validated, defaulted and frozen (src/config.ts). */
function configError(env: Record<string, string | undefined>, overrides = {}): ConfigError {
  try {
    loadConfig(env, overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('checks event-loop delay (1000 ms) only with a PostgreSQL server', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://h/db' }).pressure.maxEventLoopDelayMs).toBe(1000);
    expect(loadConfig({}).pressure.maxEventLoopDelayMs).toBe(0);
  });

  it('an empty environment gives the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      host: '127.0.0.1',
      port: 8000,
      databaseUrl: undefined,
      dataDir: './data/pglite',
      dbPoolMax: 10,
      dbConnectTimeoutMs: 5000,
      dbStatementTimeoutMs: 30_000,
      dbIdleTimeoutMs: 30_000,
      shutdownGraceMs: 10_000,
      maxInflightRequests: 128,
      pressure: {
        // Off without DATABASE_URL: the embedded database's queries are this event loop's own delay.
        maxEventLoopDelayMs: 0,
        maxEventLoopUtilization: 0,
        maxHeapUsedBytes: defaultMaxHeapUsedBytes(),
        maxRssBytes: 0,
        sampleIntervalMs: 1000,
      },
      retryAfterSeconds: 5,
      migrateOnStart: true,
      seedFile: undefined,
      demo: true,
      logLevel: 'info',
      discovery: { title: 'TAXII 2.1 sharing hub', description: undefined, contact: undefined },
      publicDiscovery: false,
      pageDefaultLimit: 100,
      pageMaxLimit: 1000,
      defaultMaxContentLength: 10 * 1024 * 1024,
      maxJsonDepth: 64,
      maxObjectsPerEnvelope: 50_000,
      maxMatchValues: 100,
      statusRetentionHours: 72,
      cursorSecret: undefined,
      scryptCost: 16384,
      rateLimitEnabled: true,
      rateLimitPerWindow: 600,
      authFailureLimitPerWindow: 10,
      rateLimitWindowMs: 60_000,
      rateLimitSyncMs: 250,
      deliveryAudit: 'restricted',
      deliveryAuditRetentionDays: 365,
      tls: undefined,
      trustProxy: false,
    });
  });

  it('the result is frozen', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('empty and blank values count as unset', () => {
    expect(loadConfig({ PORT: '', HOST: '   ', DATABASE_URL: ' ', MIGRATE_ON_START: '', CURSOR_SECRET: '' })).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      migrateOnStart: true,
      cursorSecret: undefined,
    });
  });

  it('DEMO defaults to on with the embedded database and off with DATABASE_URL', () => {
    expect(loadConfig({}).demo).toBe(true);
    expect(loadConfig({ DATABASE_URL: 'postgres://x@localhost/db' }).demo).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://x@localhost/db', DEMO: 'true' }).demo).toBe(true);
  });

  it('PAGE_DEFAULT_LIMIT defaults to 100, or to PAGE_MAX_LIMIT when that is lower', () => {
    expect(loadConfig({ PAGE_MAX_LIMIT: '50' })).toMatchObject({ pageMaxLimit: 50, pageDefaultLimit: 50 });
    expect(loadConfig({ PAGE_MAX_LIMIT: '5000' })).toMatchObject({ pageMaxLimit: 5000, pageDefaultLimit: 100 });
  });

  it('reads and trims every setting', () => {
    const config = loadConfig({
      HOST: ' 0.0.0.0 ',
      PORT: '9443',
      DATABASE_URL: 'postgres://taxii@db/taxii',
      DATA_DIR: '/var/lib/taxii',
      DB_POOL_MAX: '20',
      DB_CONNECT_TIMEOUT_MS: '1500',
      DB_STATEMENT_TIMEOUT_MS: '0',
      DB_IDLE_TIMEOUT_MS: '60000',
      SHUTDOWN_GRACE_MS: '2500',
      MAX_INFLIGHT_REQUESTS: '0',
      PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '250',
      PRESSURE_MAX_EVENT_LOOP_UTILIZATION: ' 0.95 ',
      PRESSURE_MAX_HEAP_USED_BYTES: '1000000000',
      PRESSURE_MAX_RSS_BYTES: '2000000000',
      PRESSURE_SAMPLE_INTERVAL_MS: '500',
      RETRY_AFTER_SECONDS: '2',
      MIGRATE_ON_START: 'no',
      SEED_FILE: '/etc/taxii/seed.yaml',
      LOG_LEVEL: 'debug',
      TAXII_TITLE: 'Hub',
      TAXII_DESCRIPTION: 'A hub',
      TAXII_CONTACT: 'soc@example.org',
      PUBLIC_DISCOVERY: 'on',
      PAGE_DEFAULT_LIMIT: '10',
      PAGE_MAX_LIMIT: '20',
      MAX_CONTENT_LENGTH: '2048',
      MAX_JSON_DEPTH: '32',
      MAX_OBJECTS_PER_ENVELOPE: '7',
      MAX_MATCH_VALUES: '3',
      STATUS_RETENTION_HOURS: '24',
      CURSOR_SECRET: 'c'.repeat(32),
      SCRYPT_COST: '1024',
      RATE_LIMIT_ENABLED: 'false',
      RATE_LIMIT_PER_MINUTE: '120',
      AUTH_FAILURE_LIMIT_PER_MINUTE: '5',
      RATE_LIMIT_SYNC_MS: '500',
      DELIVERY_AUDIT: ' ALL ',
      DELIVERY_AUDIT_RETENTION_DAYS: '30',
      TLS_CERT_FILE: '/etc/taxii/cert.pem',
      TLS_KEY_FILE: '/etc/taxii/key.pem',
      TLS_CA_FILE: '/etc/taxii/chain.pem',
      TRUST_PROXY: '10.0.0.0/8, 192.168.1.1, ::1, loopback',
    });
    expect(config).toEqual({
      host: '0.0.0.0',
      port: 9443,
      databaseUrl: 'postgres://taxii@db/taxii',
      dataDir: '/var/lib/taxii',
      dbPoolMax: 20,
      dbConnectTimeoutMs: 1500,
      dbStatementTimeoutMs: 0,
      dbIdleTimeoutMs: 60_000,
      shutdownGraceMs: 2500,
      maxInflightRequests: 0,
      pressure: {
        maxEventLoopDelayMs: 250,
        maxEventLoopUtilization: 0.95,
        maxHeapUsedBytes: 1_000_000_000,
        maxRssBytes: 2_000_000_000,
        sampleIntervalMs: 500,
      },
      retryAfterSeconds: 2,
      migrateOnStart: false,
      seedFile: '/etc/taxii/seed.yaml',
      demo: false,
      logLevel: 'debug',
      discovery: { title: 'Hub', description: 'A hub', contact: 'soc@example.org' },
      publicDiscovery: true,
      pageDefaultLimit: 10,
      pageMaxLimit: 20,
      defaultMaxContentLength: 2048,
      maxJsonDepth: 32,
      maxObjectsPerEnvelope: 7,
      maxMatchValues: 3,
      statusRetentionHours: 24,
      cursorSecret: 'c'.repeat(32),
      scryptCost: 1024,
      rateLimitEnabled: false,
      rateLimitPerWindow: 120,
      authFailureLimitPerWindow: 5,
      rateLimitWindowMs: 60_000,
      rateLimitSyncMs: 500,
      deliveryAudit: 'all',
      deliveryAuditRetentionDays: 30,
      tls: { certFile: '/etc/taxii/cert.pem', keyFile: '/etc/taxii/key.pem', caFile: '/etc/taxii/chain.pem' },
      trustProxy: ['10.0.0.0/8', '192.168.1.1', '::1', 'loopback'],
    });
  });

  it('overrides win over the environment', () => {
    expect(loadConfig({ PORT: '9000' }, { port: 1234 }).port).toBe(1234);
  });

  it('does not read process.env when given an environment', () => {
    const before = process.env.PORT;
    process.env.PORT = 'not a number';
    try {
      expect(loadConfig({}).port).toBe(8000);
    } finally {
      if (before === undefined) delete process.env.PORT;
      else process.env.PORT = before;
    }
  });
});

describe('access settings: rate limits, delivery audit, TLS, trusted proxies', () => {
  it('TRUST_PROXY is false, true, a hop count, or addresses and CIDRs', () => {
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'TRUE' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1' }).trustProxy).toEqual(['127.0.0.1']);
    expect(loadConfig({ TRUST_PROXY: 'fd00::/8,uniquelocal' }).trustProxy).toEqual(['fd00::/8', 'uniquelocal']);
    for (const bad of ['proxy.example', '10.0.0.0/33', '10.0.0.1/8/1', '::1/129', '300.1.1.1']) {
      expect(configError({ TRUST_PROXY: bad }).message).toContain('TRUST_PROXY');
    }
  });

  it('TLS needs a certificate and a key together', () => {
    expect(configError({ TLS_CERT_FILE: '/c.pem' }).message).toMatch(/TLS_CERT_FILE and TLS_KEY_FILE/);
    expect(configError({ TLS_KEY_FILE: '/k.pem' }).message).toMatch(/TLS_CERT_FILE and TLS_KEY_FILE/);
    expect(configError({ TLS_CA_FILE: '/ca.pem' }).message).toMatch(/TLS_CA_FILE/);
    expect(loadConfig({ TLS_CERT_FILE: '/c.pem', TLS_KEY_FILE: '/k.pem' }).tls).toEqual({ certFile: '/c.pem', keyFile: '/k.pem', caFile: undefined });
  });

  it('DELIVERY_AUDIT is all, restricted or off; the limits are positive', () => {
    expect(configError({ DELIVERY_AUDIT: 'some' }).message).toMatch(/DELIVERY_AUDIT must be one of all, restricted, off/);
    expect(configError({ RATE_LIMIT_PER_MINUTE: '0' }).message).toContain('RATE_LIMIT_PER_MINUTE');
    expect(configError({ AUTH_FAILURE_LIMIT_PER_MINUTE: '0' }).message).toContain('AUTH_FAILURE_LIMIT_PER_MINUTE');
    expect(configError({ DELIVERY_AUDIT_RETENTION_DAYS: '0' }).message).toContain('DELIVERY_AUDIT_RETENTION_DAYS');
    expect(configError({ RATE_LIMIT_ENABLED: 'maybe' }).message).toContain('RATE_LIMIT_ENABLED');
  });
});

describe('loadConfig validation: a bad setting stops the start with a ConfigError naming it', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '80.5'],
    ['PORT', '-1'],
    ['PORT', '1e3'],
    ['PORT', '0x50'],
    ['DB_POOL_MAX', 'ten'],
    ['PAGE_MAX_LIMIT', 'many'],
    ['MAX_JSON_DEPTH', '64 levels'],
    ['SCRYPT_COST', '2^14'],
  ])('%s=%j is not a whole number', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.message).toContain(name);
    expect(error.message).toMatch(/whole number/);
  });

  it.each([
    ['PORT', '65536'],
    ['DB_POOL_MAX', '0'],
    ['DB_POOL_MAX', '1001'],
    ['PAGE_MAX_LIMIT', '0'],
    ['PAGE_MAX_LIMIT', '100001'],
    ['PAGE_DEFAULT_LIMIT', '0'],
    ['MAX_CONTENT_LENGTH', '1023'],
    ['MAX_CONTENT_LENGTH', String(1024 * 1024 * 1024 + 1)],
    ['MAX_JSON_DEPTH', '7'],
    ['MAX_JSON_DEPTH', '1001'],
    ['MAX_OBJECTS_PER_ENVELOPE', '0'],
    ['MAX_MATCH_VALUES', '0'],
    ['STATUS_RETENTION_HOURS', '23'],
    ['STATUS_RETENTION_HOURS', String(24 * 365 + 1)],
    ['SCRYPT_COST', '512'],
    ['SCRYPT_COST', String(2 ** 21)],
    ['PORT', '99999999999999999999'],
  ])('%s=%s is out of range', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.message).toContain(name);
    expect(error.message).toMatch(/between/);
  });

  it.each([
    ['PORT', '0'],
    ['PORT', '65535'],
    ['MAX_JSON_DEPTH', '8'],
    ['MAX_JSON_DEPTH', '1000'],
    ['STATUS_RETENTION_HOURS', '24'],
    ['MAX_CONTENT_LENGTH', '1024'],
  ])('%s=%s, on the boundary, is accepted', (name, value) => {
    expect(() => loadConfig({ [name]: value })).not.toThrow();
  });

  it.each([['1.5'], ['-0.1'], ['high'], ['1e-1']])('PRESSURE_MAX_EVENT_LOOP_UTILIZATION=%s is not a ratio from 0 to 1', (value) => {
    const error = configError({ PRESSURE_MAX_EVENT_LOOP_UTILIZATION: value });
    expect(error.message).toContain('PRESSURE_MAX_EVENT_LOOP_UTILIZATION');
    expect(error.message).toMatch(/from 0 to 1/);
  });

  it('PAGE_DEFAULT_LIMIT > PAGE_MAX_LIMIT is refused', () => {
    const error = configError({ PAGE_DEFAULT_LIMIT: '500', PAGE_MAX_LIMIT: '100' });
    expect(error.message).toMatch(/PAGE_DEFAULT_LIMIT.*PAGE_MAX_LIMIT/);
    expect(configError({ PAGE_DEFAULT_LIMIT: '101', PAGE_MAX_LIMIT: '100' }).message).toContain('PAGE_DEFAULT_LIMIT');
    expect(configError({ PAGE_DEFAULT_LIMIT: '1001' }).message).toContain('PAGE_DEFAULT_LIMIT');
    expect(loadConfig({ PAGE_DEFAULT_LIMIT: '100', PAGE_MAX_LIMIT: '100' }).pageDefaultLimit).toBe(100);
  });

  it('a CURSOR_SECRET shorter than 32 characters is refused (after trimming)', () => {
    expect(configError({ CURSOR_SECRET: 'short' }).message).toContain('CURSOR_SECRET');
    expect(configError({ CURSOR_SECRET: 'x'.repeat(31) }).message).toContain('CURSOR_SECRET');
    expect(configError({ CURSOR_SECRET: `  ${'x'.repeat(31)}  ` }).message).toContain('CURSOR_SECRET');
    expect(loadConfig({ CURSOR_SECRET: 'x'.repeat(32) }).cursorSecret).toBe('x'.repeat(32));
  });

  it.each(['1000', '3000', '16383', '16385', '24576'])('SCRYPT_COST=%s is not a power of two', (value) => {
    const error = configError({ SCRYPT_COST: value });
    expect(error.message).toContain('SCRYPT_COST');
  });

  it.each(['1024', '2048', '16384', '65536', String(2 ** 20)])('SCRYPT_COST=%s, a power of two in range, is accepted', (value) => {
    expect(loadConfig({ SCRYPT_COST: value }).scryptCost).toBe(Number(value));
  });

  it('an override that is not a power of two is refused too', () => {
    expect(configError({}, { scryptCost: 1000 }).message).toContain('SCRYPT_COST');
  });

  it.each(['maybe', 'y', 'n', '2', 'enabled', 'truee', 'true false'])('a bad boolean %j is refused', (value) => {
    for (const name of ['MIGRATE_ON_START', 'DEMO', 'PUBLIC_DISCOVERY']) {
      const error = configError({ [name]: value });
      expect(error.message).toContain(name);
      expect(error.message).toMatch(/true or false/);
    }
  });

  it.each([
    ['1', true],
    ['true', true],
    ['TRUE', true],
    [' Yes ', true],
    ['on', true],
    ['0', false],
    ['false', false],
    ['False', false],
    ['no', false],
    ['OFF', false],
  ])('boolean %j → %s', (value, expected) => {
    expect(loadConfig({ PUBLIC_DISCOVERY: value }).publicDiscovery).toBe(expected);
    expect(loadConfig({ MIGRATE_ON_START: value }).migrateOnStart).toBe(expected);
  });
});
