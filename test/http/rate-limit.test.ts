import type { FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { RateLimiter } from '../../src/auth/rate-limiter.js';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';
import { PASSWORD, standardSeed, WRITER_KEY } from '../support/fixtures.js';

/**
 * Rate limits (src/auth/rate-limiter.ts): a request budget per account, a
 * failed-authentication budget per source address and per presented user
 * name or key id, both shared by every replica through the database. The
 * windows are shortened to seconds here; X-Forwarded-For (trusted from the
 * loopback proxy) gives each scenario its own source address.
 */
const WINDOW_MS = 2000;
const REQUESTS = 5;
const FAILURES = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for the start of a window, so that a scenario runs within one. */
async function freshWindow(windowMs = WINDOW_MS): Promise<void> {
  await sleep(windowMs - (Date.now() % windowMs) + 30);
}

function expectTooMany(res: { status: number; headers: Record<string, string>; text: string }, windowMs = WINDOW_MS) {
  expect(res.status, res.text).toBe(429);
  expect(res.headers['content-type']).toBe(TAXII);
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(Math.ceil(windowMs / 1000));
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).toMatchObject({ title: 'Too many requests', http_status: '429', error_id: expect.any(String) });
  return retryAfter;
}

describe('one server', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(
      standardSeed(),
      { rateLimitWindowMs: WINDOW_MS, rateLimitPerWindow: REQUESTS, authFailureLimitPerWindow: FAILURES, rateLimitSyncMs: 50 },
      { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: '127.0.0.1' },
    );
  });
  afterAll(async () => t?.close());

  const get = (path: string, authorization: string | undefined, from: string) => {
    const request = t.http.get(path).set('Accept', TAXII).set('X-Forwarded-For', from);
    return authorization === undefined ? request : request.set('Authorization', authorization);
  };

  it('an account over its budget gets 429 with Retry-After and the TAXII error; another account is unaffected; the window resets', async () => {
    await freshWindow();
    for (let i = 0; i < REQUESTS; i++) expect((await get('/taxii2/', basic('reader', PASSWORD), '10.0.0.1')).status).toBe(200);
    const refused = await get('/api1/collections/indicators/objects/', basic('reader', PASSWORD), '10.0.0.1');
    const retryAfter = expectTooMany(refused);
    // Per account, not per address: the same account from elsewhere is refused too; another account is not.
    expectTooMany(await get('/taxii2/', basic('reader', PASSWORD), '10.0.0.2'));
    expect((await get('/taxii2/', basic('writer', PASSWORD), '10.0.0.1')).status).toBe(200);
    expect((await get('/taxii2/', `Bearer ${WRITER_KEY}`, '10.0.0.1')).status).toBe(200);
    // Operations endpoints are never limited.
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await t.http.get(path)).status).toBe(200);

    await sleep(retryAfter * 1000);
    expect((await get('/taxii2/', basic('reader', PASSWORD), '10.0.0.1')).status).toBe(200);
  });

  it('repeated wrong passwords block the user name (429), even with the right password, until the window passes', async () => {
    await freshWindow();
    // From a different address each time: only the user name's budget is spent.
    for (let i = 1; i <= FAILURES; i++) expect((await get('/taxii2/', basic('reader', `wrong ${i}`), `10.1.0.${i}`)).status).toBe(401);
    const retryAfter = expectTooMany(await get('/taxii2/', basic('reader', PASSWORD), '10.1.0.99'));
    expectTooMany(await get('/taxii2/', basic('reader', 'wrong again'), '10.1.0.98'));
    // The addresses are not blocked (one failure each), nor are other accounts.
    expect((await get('/taxii2/', basic('writer', PASSWORD), '10.1.0.1')).status).toBe(200);

    await sleep(retryAfter * 1000);
    expect((await get('/taxii2/', basic('reader', PASSWORD), '10.1.0.99')).status).toBe(200);
  });

  it('repeated failures from one address block it (429) for every account and key until the window passes', async () => {
    await freshWindow();
    for (let i = 1; i <= FAILURES; i++) expect((await get('/taxii2/', basic(`nobody-${i}`, 'guess'), '10.2.0.1')).status).toBe(401);
    const retryAfter = expectTooMany(await get('/taxii2/', basic('writer', PASSWORD), '10.2.0.1'));
    expectTooMany(await get('/taxii2/', `Bearer ${WRITER_KEY}`, '10.2.0.1'));
    // A malformed or unknown credential counts too; no credentials at all do not (401, no budget spent).
    expect((await get('/taxii2/', undefined, '10.2.0.2')).status).toBe(401);
    expect((await get('/taxii2/', basic('writer', PASSWORD), '10.2.0.2')).status).toBe(200);

    await sleep(retryAfter * 1000);
    expect((await get('/taxii2/', basic('writer', PASSWORD), '10.2.0.1')).status).toBe(200);
  });

  it('a wrong API key spends the budget of its key id', async () => {
    await freshWindow();
    const wrongSecret = `${WRITER_KEY.slice(0, 29)}${'B'.repeat(43)}`;
    for (let i = 1; i <= FAILURES; i++) expect((await get('/taxii2/', `Bearer ${wrongSecret}`, `10.3.0.${i}`)).status).toBe(401);
    expectTooMany(await get('/taxii2/', `Bearer ${WRITER_KEY}`, '10.3.0.99'));
    // The account's password is another credential: not blocked.
    expect((await get('/taxii2/', basic('writer', PASSWORD), '10.3.0.99')).status).toBe(200);
  });
});

describe('two servers on one database (replicas)', () => {
  const LIMIT = 40;
  const WINDOW = 5000;
  const BOUND = LIMIT + RateLimiter.batchOf(LIMIT); // limit + (replicas − 1) × batch
  let t: TestApp;
  let second: FastifyInstance;
  let http2: supertest.Agent;

  beforeAll(async () => {
    t = await createTestApp(
      standardSeed(),
      { rateLimitWindowMs: WINDOW, rateLimitPerWindow: LIMIT, authFailureLimitPerWindow: FAILURES, rateLimitSyncMs: 50 },
      { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: '127.0.0.1' },
    );
    second = await buildApp(t.config, t.database, { logger: false });
    http2 = supertest.agent(await second.listen({ host: '127.0.0.1', port: 0 }));
  });
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  const servers = () => [t.http, http2];

  /** Runs a scenario within one window; when a slow machine lets it cross into the next, runs it again. */
  async function inOneWindow(scenario: (account: string) => Promise<number>, accounts: string[]): Promise<number> {
    for (const account of accounts) {
      await freshWindow(WINDOW);
      const window = Math.floor(Date.now() / WINDOW);
      const admitted = await scenario(account);
      if (Math.floor(Date.now() / WINDOW) === window) return admitted;
    }
    throw new Error('every attempt crossed a window boundary');
  }

  it(`share an account's budget: at most limit + batch (${BOUND}) admitted in a window, sequentially or concurrently`, async () => {
    expect(RateLimiter.batchOf(LIMIT)).toBe(2);
    const sequential = await inOneWindow(async (account) => {
      let admitted = 0;
      for (let i = 0; i < LIMIT + 10; i++) {
        const res = await servers()[i % 2]!.get('/taxii2/').set('Authorization', basic(account, PASSWORD));
        if (res.status === 200) admitted++;
        else expectTooMany(res, WINDOW);
      }
      return admitted;
    }, ['reader', 'outsider', 'admin']);
    expect(sequential).toBeGreaterThanOrEqual(LIMIT);
    expect(sequential).toBeLessThanOrEqual(BOUND);

    const concurrent = await inOneWindow(async (account) => {
      const responses = await Promise.all(
        Array.from({ length: 3 * LIMIT }, (_, i) => servers()[i % 2]!.get('/taxii2/').set('Authorization', basic(account, PASSWORD))),
      );
      expect(responses.every((r) => r.status === 200 || r.status === 429)).toBe(true);
      return responses.filter((r) => r.status === 200).length;
    }, ['writer', 'reader', 'outsider']);
    expect(concurrent).toBeGreaterThanOrEqual(LIMIT);
    expect(concurrent).toBeLessThanOrEqual(BOUND);
  });

  it('share failed authentications: a user name blocked through one is blocked through the other', async () => {
    await freshWindow(WINDOW);
    const from = (server: supertest.Agent, authorization: string, ip: string) =>
      server.get('/taxii2/').set('Authorization', authorization).set('X-Forwarded-For', ip);
    // The second server has verified (and cached) the outsider's password before the attack.
    expect((await from(http2, basic('outsider', PASSWORD), '10.9.0.1')).status).toBe(200);
    for (let i = 1; i <= FAILURES; i++) {
      expect((await from(t.http, basic('outsider', 'wrong'), `10.9.1.${i}`)).status).toBe(401);
      expect((await from(t.http, basic('admin', 'wrong'), `10.9.2.${i}`)).status).toBe(401);
    }
    // A password the second server has not verified yet is checked against the shared count at once.
    expectTooMany(await from(http2, basic('admin', PASSWORD), '10.9.5.1'), WINDOW);
    // A cached one within a synchronisation interval.
    await sleep(200);
    expectTooMany(await from(http2, basic('outsider', PASSWORD), '10.9.0.1'), WINDOW);
    // Other accounts from the same addresses are not affected.
    expect((await from(http2, basic('reader', PASSWORD), '10.9.5.1')).status).toBe(200);
  });
});
