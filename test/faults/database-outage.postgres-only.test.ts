import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { applySeed } from '../../src/services/provisioning.js';
import { syncViewIndexes } from '../../src/views/view-index.js';
import { inconsistencies, readStored, sleep, statusListing } from '../support/fault-checks.js';
import { COLLECTION, PASSWORD, standardSeed } from '../support/fixtures.js';
import { describeExchange, isTaxiiUnavailable, json, send, type Exchange } from '../support/http-client.js';
import { envelope, indicator } from '../support/stix.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { basic, TAXII } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * A database outage under load (PostgreSQL only: the server reaches the
 * database through a TCP proxy that can fail). Requests must fail fast with a
 * 503 TAXII error resource and Retry-After, never hang and never answer 500;
 * the server must recover by itself; and no submission may be half stored:
 * each status resource matches what the database holds.
 */
const CONNECT_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 3000;
const CLIENT_TIMEOUT_MS = 8000;
const LOAD_MS = 8000;
const OUTAGE_AT_MS = 3000;
/** Connections killed and the port refusing, then connections accepted and never answered. */
const REFUSE_MS = 1000;
const SILENT_MS = 1000;

const writerAuth = basic('writer', PASSWORD);
const objectsPath = `/api1/collections/${COLLECTION}/objects/`;

interface ProxiedApp {
  app: FastifyInstance;
  served: Database;
  url: string;
  /** Between the server and PostgreSQL. */
  proxy: TcpProxy;
}

let direct: TestDatabase;
const apps: ProxiedApp[] = [];

/** The server under test, reaching the test database through a proxy of its own. */
async function proxiedApp(env: Record<string, string>): Promise<ProxiedApp> {
  const target = new URL(direct.url!);
  const proxy = await TcpProxy.start([{ host: target.hostname, port: Number(target.port || 5432) }]);
  const proxied = new URL(direct.url!);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  const config = loadConfig({
    SCRYPT_COST: '1024',
    DEMO: 'false',
    DATABASE_URL: proxied.toString(),
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    PRESSURE_MAX_HEAP_USED_BYTES: '0',
    // The load here is one account's; the per-account budget is not what is tested.
    RATE_LIMIT_PER_MINUTE: '1000000',
    ...env,
  });
  const served = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: config.dbPoolMax,
    connectTimeoutMs: config.dbConnectTimeoutMs,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    idleTimeoutMs: config.dbIdleTimeoutMs,
  });
  const app = await buildApp(config, served, { logger: false });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const result = { app, served, url, proxy };
  apps.push(result);
  return result;
}

beforeAll(async () => {
  direct = await createTestDatabase();
  await applySeed(direct.db, standardSeed(), { scryptCost: 1024 });
  await syncViewIndexes(direct.db);
});

afterAll(async () => {
  for (const { app, served, proxy } of apps) {
    await app.close();
    await served.close();
    await proxy.close();
  }
  await direct?.destroy();
});

interface Post {
  ids: string[];
  exchange: Exchange;
}

function ok(exchange: Exchange, status: number): boolean {
  return exchange.outcome.kind === 'response' && exchange.outcome.status === status;
}

describe('database outage under load', () => {
  it('answers 503 + Retry-After (never 500, never a hang) while the database is away, recovers by itself, and stores no half submission', async () => {
    const { url, proxy } = await proxiedApp({
      DB_POOL_MAX: '4',
      DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    });
    const posts: Post[] = [];
    const polls: Exchange[] = [];
    const probes: Exchange[] = [];
    const start = Date.now();
    let outageStart = 0;
    let recovered = 0;
    const running = () => Date.now() - start < LOAD_MS;

    const writer = async (w: number) => {
      for (let n = 0; running(); n++) {
        const objects = [indicator({ name: `w${w}-${n}-a` }), indicator({ name: `w${w}-${n}-b` })];
        const exchange = await send(url, objectsPath, {
          method: 'POST',
          headers: { authorization: writerAuth, 'content-type': TAXII, accept: TAXII },
          body: envelope(objects),
          timeoutMs: CLIENT_TIMEOUT_MS,
        });
        posts.push({ ids: objects.map((o) => o.id), exchange });
        if (!ok(exchange, 202)) await sleep(20);
      }
    };
    const poller = async () => {
      let addedAfter: string | undefined;
      while (running()) {
        const query = addedAfter ? `?limit=50&added_after=${encodeURIComponent(addedAfter)}` : '?limit=50';
        const exchange = await send(url, objectsPath + query, { headers: { authorization: writerAuth, accept: TAXII }, timeoutMs: CLIENT_TIMEOUT_MS });
        polls.push(exchange);
        if (exchange.outcome.kind === 'response' && exchange.outcome.status === 200) {
          const last = exchange.outcome.headers['x-taxii-date-added-last'];
          if (typeof last === 'string') addedAfter = last;
        } else {
          await sleep(20);
        }
      }
    };
    const readiness = async () => {
      while (running()) {
        probes.push(await send(url, '/readyz', { timeoutMs: CLIENT_TIMEOUT_MS }));
        await sleep(200);
      }
    };
    const outage = async () => {
      await sleep(OUTAGE_AT_MS);
      outageStart = Date.now();
      await proxy.refuse();
      proxy.cut();
      await sleep(REFUSE_MS);
      await proxy.blackhole();
      await sleep(SILENT_MS);
      await proxy.accept();
      recovered = Date.now();
    };

    await Promise.all([writer(0), writer(1), poller(), poller(), readiness(), outage()]);
    const elapsed = (Date.now() - start) / 1000;
    const all = [...posts.map((p) => p.exchange), ...polls];

    // Every request answered: 202/200, or a 503 TAXII error resource with Retry-After. No 500, no reset, no hang.
    const unexpected = all.filter((e) => !ok(e, e.method === 'POST' ? 202 : 200) && !isTaxiiUnavailable(e));
    expect(unexpected.map(describeExchange)).toEqual([]);
    const refused = all.filter(isTaxiiUnavailable);
    expect(refused.length).toBeGreaterThan(0);
    // Failing fast: no answer took longer than the connect timeout plus a margin.
    const slowest503 = Math.max(...refused.map((e) => e.endedAt - e.startedAt));
    expect(slowest503).toBeLessThan(CONNECT_TIMEOUT_MS + 1500);

    // Recovered by itself: requests started a moment after the database came back all succeed.
    const after = all.filter((e) => e.startedAt > recovered + 1000);
    expect(after.length).toBeGreaterThan(10);
    expect(after.filter((e) => !ok(e, e.method === 'POST' ? 202 : 200)).map(describeExchange)).toEqual([]);
    // Readiness followed the database: ready before, not ready during, ready after.
    expect(probes.filter((p) => p.endedAt < outageStart).every((p) => ok(p, 200))).toBe(true);
    expect(probes.some((p) => p.startedAt > outageStart && p.endedAt < recovered && ok(p, 503))).toBe(true);
    expect(probes.filter((p) => p.startedAt > recovered + 1000).every((p) => ok(p, 200))).toBe(true);

    // The database: every 202 is stored as its status says; every refused POST stored nothing,
    // unless its commit went through and only the answer was lost: then all of it, with its status.
    const stored = await readStored(direct.db, COLLECTION);
    expect(inconsistencies(stored)).toEqual([]);
    let acknowledged = 0;
    let refusedPosts = 0;
    let committedButRefused = 0;
    for (const post of posts) {
      const present = post.ids.filter((id) => stored.objects.has(id));
      if (ok(post.exchange, 202)) {
        acknowledged++;
        const status = json<{ id: string; success_count: number }>(post.exchange)!;
        expect(status.success_count).toBe(post.ids.length);
        expect(present).toEqual(post.ids);
        expect(stored.statuses.get(status.id)?.sort()).toEqual([...post.ids].sort());
      } else {
        refusedPosts++;
        if (present.length === 0) continue;
        expect(present).toEqual(post.ids);
        expect(statusListing(stored, post.ids)).toBeDefined();
        committedButRefused++;
      }
    }
    const summary = {
      seconds: elapsed,
      requests: all.length,
      requestsPerSecond: Math.round(all.length / elapsed),
      posts: posts.length,
      acknowledged,
      refusedPosts,
      committedButRefused,
      polls: polls.length,
      pollsOk: polls.filter((e) => ok(e, 200)).length,
      answered503: refused.length,
      slowest503Ms: slowest503,
      slowestMs: Math.max(...all.map((e) => e.endedAt - e.startedAt)),
      outageMs: recovered - outageStart,
      objectsStored: stored.objects.size,
      proxyConnections: proxy.accepted,
    };
    console.log('database outage:', JSON.stringify(summary));
    expect(acknowledged).toBeGreaterThan(20);
  }, 40_000);

  it('answers 503 when open connections go silent (query timeout), discards those connections, and serves again on new ones', async () => {
    const { url, served, proxy } = await proxiedApp({ DB_POOL_MAX: '2', DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '1000' });
    const get = () => send(url, `${objectsPath}?limit=5`, { headers: { authorization: writerAuth, accept: TAXII }, timeoutMs: CLIENT_TIMEOUT_MS });
    // Warm the pool to its two connections.
    const warm = await Promise.all(Array.from({ length: 6 }, get));
    expect(warm.every((e) => ok(e, 200))).toBe(true);
    expect(served.poolStats().total).toBe(2);
    const acceptedBefore = proxy.accepted;

    proxy.freeze();
    try {
      const stalled = await Promise.all([get(), get()]);
      // The driver gives up at statement_timeout + 2 s: a 503 TAXII error resource, not a hang.
      for (const e of stalled) {
        expect(isTaxiiUnavailable(e), describeExchange(e)).toBe(true);
        expect(e.endedAt - e.startedAt).toBeGreaterThanOrEqual(2500);
        expect(e.endedAt - e.startedAt).toBeLessThan(5000);
      }
      // The silent connections left the pool; new ones serve while the old ones are still frozen.
      const next = await get();
      expect(ok(next, 200), describeExchange(next)).toBe(true);
      expect(proxy.accepted).toBeGreaterThan(acceptedBefore);
    } finally {
      proxy.thaw();
    }
    // Once the frozen connections carry data again, the pool's end of them closes them for good.
    for (let i = 0; i < 50 && proxy.connections > served.poolStats().total; i++) await sleep(50);
    expect(proxy.connections).toBe(served.poolStats().total);
    console.log('silent database:', JSON.stringify({ connectionsOpened: proxy.accepted - acceptedBefore, pool: served.poolStats() }));
  }, 20_000);
});
