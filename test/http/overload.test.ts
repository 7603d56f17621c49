import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inconsistencies, readStored, sleep } from '../support/fault-checks.js';
import { COLLECTION, PASSWORD, standardSeed } from '../support/fixtures.js';
import { describeExchange, isTaxiiUnavailable, json, send, type Exchange } from '../support/http-client.js';
import { envelope, indicator, type StixObject } from '../support/stix.js';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';

/**
 * Overload: a process does a bounded amount of work at once. Requests beyond
 * MAX_INFLIGHT_REQUESTS, or arriving while @fastify/under-pressure reports
 * pressure, are answered at once with a 503 TAXII error resource (TAXII
 * §3.6.1) and Retry-After, unprocessed; the health endpoints always answer.
 */
const writerAuth = basic('writer', PASSWORD);
const objectsPath = `/api1/collections/${COLLECTION}/objects/`;
const CLIENT_TIMEOUT_MS = 20_000;

function status(exchange: Exchange): number | undefined {
  return exchange.outcome.kind === 'response' ? exchange.outcome.status : undefined;
}

describe('MAX_INFLIGHT_REQUESTS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(standardSeed(), {}, { MAX_INFLIGHT_REQUESTS: '2', RETRY_AFTER_SECONDS: '3', RATE_LIMIT_PER_MINUTE: '1000000' });
  });
  afterAll(async () => t?.close());

  const postObjects = (objects: StixObject[], bodyDelayMs?: number) =>
    send(t.url, objectsPath, {
      method: 'POST',
      headers: { authorization: writerAuth, 'content-type': TAXII, accept: TAXII },
      body: envelope(objects),
      timeoutMs: CLIENT_TIMEOUT_MS,
      ...(bodyDelayMs === undefined ? {} : { bodyDelayMs }),
    });
  const poll = () => send(t.url, `${objectsPath}?limit=20`, { headers: { authorization: writerAuth, accept: TAXII }, timeoutMs: CLIENT_TIMEOUT_MS });

  /** A POST whose body is sent in two parts: it holds its slot until finish() sends the rest. */
  function holdUpload() {
    const object = indicator({ name: 'held upload' });
    const body = Buffer.from(envelope([object]));
    const req = request(`${t.url}${objectsPath}`, {
      method: 'POST',
      agent: false,
      headers: { authorization: writerAuth, 'content-type': TAXII, accept: TAXII, 'content-length': String(body.length) },
    });
    const answer = new Promise<Exchange['outcome']>((resolve) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, text }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => resolve({ kind: 'error', code: error.code ?? 'ERROR', message: error.message }));
    });
    req.write(body.subarray(0, 10));
    return {
      id: object.id,
      finish: async (): Promise<Exchange> => {
        req.end(body.subarray(10));
        const outcome = await answer;
        return { method: 'POST', path: objectsPath, startedAt: 0, connectedAt: 0, sentAt: 0, endedAt: 0, localPort: undefined, outcome };
      },
    };
  }

  it('answers 503 + Retry-After (a TAXII error resource) to every request while slow uploads hold the slots, and keeps the probes answering', async () => {
    const held = [holdUpload(), holdUpload()];
    for (let i = 0; i < 200 && t.app.load.inflight < 2; i++) await sleep(10);
    expect(t.app.load.inflight).toBe(2);
    const burst = await Promise.all([
      ...Array.from({ length: 10 }, () => postObjects([indicator({ name: 'refused' })])),
      ...Array.from({ length: 10 }, () => poll()),
      send(t.url, '/taxii2/', { headers: { authorization: writerAuth, accept: TAXII }, timeoutMs: CLIENT_TIMEOUT_MS }),
    ]);
    const probes = await Promise.all(['/healthz', '/readyz', '/metrics'].map((path) => send(t.url, path, { timeoutMs: CLIENT_TIMEOUT_MS })));
    expect(burst.filter((e) => !isTaxiiUnavailable(e)).map(describeExchange)).toEqual([]);
    for (const e of burst) {
      expect(e.outcome.kind === 'response' && e.outcome.headers['retry-after']).toBe('3');
      expect(json(e)).toMatchObject({ title: 'Service unavailable', description: 'The server is handling too many requests; retry later.', http_status: '503' });
    }
    expect(probes.map(status)).toEqual([200, 200, 200]);

    // The held uploads complete, and were the only work done.
    const finished = await Promise.all(held.map((h) => h.finish()));
    expect(finished.map(status)).toEqual([202, 202]);
    const stored = await readStored(t.database.db, COLLECTION);
    expect(inconsistencies(stored)).toEqual([]);
    for (const h of held) expect(stored.objects.has(h.id)).toBe(true);
    expect(t.app.load.inflight).toBe(0);
    expect(status(await poll())).toBe(200);
  });

  it('answers 503 + Retry-After beyond the limit under a burst of concurrent POSTs over slow links and polls, never 500, stores nothing of a refused POST, and serves normally afterwards', async () => {
    // Bodies arrive in two parts, 300 ms apart (slow links): requests are in flight together
    // on either database (the embedded one runs its queries on the event loop, so requests
    // whose bodies are already there are served nearly one at a time).
    const envelopes = Array.from({ length: 16 }, (_, e) => Array.from({ length: 200 }, (_, i) => indicator({ name: `burst ${e}-${i}` })));
    const posts = envelopes.map((objects) => postObjects(objects, 300));
    const polls = Array.from({ length: 8 }, () => poll());
    await sleep(20);
    const probes = await Promise.all(['/healthz', '/readyz'].map((path) => send(t.url, path, { timeoutMs: CLIENT_TIMEOUT_MS })));
    const postResults = await Promise.all(posts);
    const all = [...postResults, ...(await Promise.all(polls))];

    expect(probes.map(status)).toEqual([200, 200]);
    const refused = all.filter(isTaxiiUnavailable);
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) expect(e.outcome.kind === 'response' && e.outcome.headers['retry-after']).toBe('3');
    const others = all.filter((e) => !isTaxiiUnavailable(e));
    expect(others.filter((e) => status(e) !== (e.method === 'POST' ? 202 : 200)).map(describeExchange)).toEqual([]);

    const stored = await readStored(t.database.db, COLLECTION);
    expect(inconsistencies(stored)).toEqual([]);
    postResults.forEach((e, i) => {
      const ids = envelopes[i]!.map((o) => o.id);
      expect(ids.filter((id) => stored.objects.has(id)).length).toBe(status(e) === 202 ? ids.length : 0);
    });

    expect(t.app.load.inflight).toBe(0);
    expect(status(await poll())).toBe(200);
    console.log('in-flight limit:', JSON.stringify({ requests: all.length, accepted: others.length, refused503: refused.length }));
  }, 40_000);

  it('releases the slot of a client that goes away before its answer', async () => {
    const req = request(`${t.url}${objectsPath}`, { method: 'POST', agent: false, headers: { authorization: writerAuth, 'content-type': TAXII, 'content-length': '1000' } });
    req.on('error', () => {});
    req.write('{"objects":[');
    for (let i = 0; i < 100 && t.app.load.inflight === 0; i++) await sleep(10);
    expect(t.app.load.inflight).toBe(1);
    req.destroy();
    for (let i = 0; i < 100 && t.app.load.inflight > 0; i++) await sleep(10);
    expect(t.app.load.inflight).toBe(0);
  });
});

describe('@fastify/under-pressure', () => {
  let t: TestApp;
  beforeAll(async () => {
    // An impossible heap limit: every sample reports pressure.
    t = await createTestApp(standardSeed(), {}, { PRESSURE_MAX_HEAP_USED_BYTES: '1', PRESSURE_SAMPLE_INTERVAL_MS: '10', RETRY_AFTER_SECONDS: '7' });
    await sleep(100);
  });
  afterAll(async () => t?.close());

  it('answers 503 + Retry-After as a TAXII error resource under the TAXII media type when under pressure; the probes still answer', async () => {
    const discovery = await send(t.url, '/taxii2/', { headers: { authorization: writerAuth, accept: TAXII }, timeoutMs: CLIENT_TIMEOUT_MS });
    expect(isTaxiiUnavailable(discovery), describeExchange(discovery)).toBe(true);
    expect(discovery.outcome.kind === 'response' && discovery.outcome.headers['retry-after']).toBe('7');
    expect(json(discovery)).toMatchObject({ title: 'Service unavailable', description: 'The server is overloaded (heapUsedBytes); retry later.', http_status: '503' });

    const post = await send(t.url, objectsPath, {
      method: 'POST',
      headers: { authorization: writerAuth, 'content-type': TAXII, accept: TAXII },
      body: envelope([indicator()]),
      timeoutMs: CLIENT_TIMEOUT_MS,
    });
    expect(isTaxiiUnavailable(post), describeExchange(post)).toBe(true);

    for (const path of ['/healthz', '/readyz', '/metrics']) {
      expect(status(await send(t.url, path, { timeoutMs: CLIENT_TIMEOUT_MS })), path).toBe(200);
    }
  });
});
