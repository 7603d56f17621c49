import type { FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { applySeed, type Seed } from '../../src/services/provisioning.js';
import { syncViewIndexes } from '../../src/views/view-index.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/**
 * The whole server in-process (the same buildApp as production) on a fresh
 * database provisioned from a seed, driven through supertest over loopback.
 */
export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  config: Readonly<Config>;
  /** Base URL of the listening server (loopback, ephemeral port). */
  url: string;
  http: supertest.Agent;
  close(): Promise<void>;
}

export const TAXII = 'application/taxii+json;version=2.1';

export async function createTestApp(seed: Seed, overrides: Partial<Config> = {}, env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  // The test and the server share one event loop and heap: the pressure checks would measure the test.
  const quiet = { PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', PRESSURE_MAX_HEAP_USED_BYTES: '0' };
  // Rate limits are off unless a test turns them on (test/http/rate-limit.test.ts): suites poll hard from one address.
  const config = loadConfig({ SCRYPT_COST: '1024', DEMO: 'false', RATE_LIMIT_ENABLED: 'false', ...quiet, ...env }, overrides);
  await applySeed(database.db, seed, { scryptCost: config.scryptCost });
  await syncViewIndexes(database.db);
  const app = await buildApp(config, database, { logger: false });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    database,
    config,
    url,
    http: supertest.agent(url),
    close: async () => {
      await app.close();
      await database.destroy();
    },
  };
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A request written byte for byte (supertest re-serialises bodies of JSON media types). */
export async function rawRequest(
  baseUrl: string,
  options: { method: string; path: string; headers?: Record<string, string>; body?: Buffer | string; chunks?: (Buffer | string)[] },
): Promise<RawResponse> {
  const { request } = await import('node:http');
  const url = new URL(options.path, baseUrl);
  return new Promise<RawResponse>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: options.method, path: url.pathname + url.search, headers: options.headers },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}
