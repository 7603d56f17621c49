import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/fault-checks.js';
import { COLLECTION, PASSWORD, standardSeed } from '../support/fixtures.js';
import { describeExchange, json, send, type Exchange } from '../support/http-client.js';
import { killAll, startServer, writeSeedFile, type ServerProcess } from '../support/server-process.js';
import { envelope, indicator, type StixObject } from '../support/stix.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { basic, TAXII } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Two server processes on one database behind a round-robin proxy, without
 * sticky sessions: nothing a client needs lives in one process's memory. A
 * `next` cursor from one replica works on the other (the signing key is
 * generated once in the database), a status resource written by one is read
 * from the other, and an added_after poller alternating between them misses
 * and repeats nothing while both write concurrently (date_added comes from
 * the collection's clock in the database, in commit order).
 */
const CLIENT_TIMEOUT_MS = 10_000;
const writerAuth = basic('writer', PASSWORD);
const base = `/api1/collections/${COLLECTION}`;

let database: TestDatabase;
let seed: { path: string; remove: () => void };
let replicas: ServerProcess[] = [];
let proxy: TcpProxy;
let url: string;

beforeAll(async () => {
  database = await createTestDatabase();
  seed = writeSeedFile(standardSeed());
  // No CURSOR_SECRET: each replica finds (or the first creates) the one kept in the database.
  const env = { DATABASE_URL: database.url!, SEED_FILE: seed.path, RATE_LIMIT_PER_MINUTE: '1000000', DB_POOL_MAX: '4' };
  // One after the other: both apply the seed at start.
  replicas.push(await startServer(env));
  replicas.push(await startServer(env));
  proxy = await TcpProxy.start(replicas.map((r) => ({ host: '127.0.0.1', port: r.port })));
  url = `http://127.0.0.1:${proxy.port}`;
}, 90_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop('SIGTERM').catch(() => undefined)));
  await killAll();
  replicas = [];
  await proxy?.close();
  seed?.remove();
  await database?.destroy();
});

/** Which replica (0 or 1) served an exchange, from the proxy's record of the connection. */
function replicaOf(exchange: Exchange): number {
  const index = exchange.localPort === undefined ? undefined : proxy.routes.get(exchange.localPort);
  if (index === undefined) throw new Error(`no route recorded for ${describeExchange(exchange)}`);
  return index;
}

function expectStatus(exchange: Exchange, status: number): void {
  expect(exchange.outcome.kind === 'response' && exchange.outcome.status, describeExchange(exchange)).toBe(status);
}

async function post(objects: StixObject[]): Promise<Exchange> {
  return send(url, `${base}/objects/`, {
    method: 'POST',
    headers: { authorization: writerAuth, 'content-type': TAXII, accept: TAXII },
    body: envelope(objects),
    timeoutMs: CLIENT_TIMEOUT_MS,
  });
}

async function get(path: string): Promise<Exchange> {
  return send(url, path, { headers: { authorization: writerAuth, accept: TAXII }, timeoutMs: CLIENT_TIMEOUT_MS });
}

describe('replicas behind a round-robin proxy', () => {
  it('follows `next` across replicas, page after page alternating between them, with every object once (TAXII §3.4)', async () => {
    const objects = Array.from({ length: 40 }, (_, i) => indicator({ name: `paged ${i}` }));
    expectStatus(await post(objects), 202);
    const seen: string[] = [];
    const servedBy: number[] = [];
    let next: string | undefined;
    for (let page = 0; page < 20; page++) {
      const query = new URLSearchParams({ limit: '7', 'match[type]': 'indicator', ...(next ? { next } : {}) });
      const exchange = await get(`${base}/objects/?${query.toString()}`);
      expectStatus(exchange, 200);
      servedBy.push(replicaOf(exchange));
      const body = json<{ objects?: StixObject[]; more?: boolean; next?: string }>(exchange)!;
      seen.push(...(body.objects ?? []).map((o) => o.id));
      if (!body.more) break;
      next = body.next;
    }
    expect(servedBy.length).toBe(6);
    for (let i = 1; i < servedBy.length; i++) expect(servedBy[i]).not.toBe(servedBy[i - 1]);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(objects.map((o) => o.id)));
  });

  it('reads a status resource from the replica that did not write it (TAXII §4.3)', async () => {
    const objects = [indicator({ name: 'status across replicas' }), indicator({ name: 'status across replicas 2' })];
    const written = await post(objects);
    expectStatus(written, 202);
    const status = json<{ id: string }>(written)!;
    const read = await get(`/api1/status/${status.id}/`);
    expectStatus(read, 200);
    expect(replicaOf(read)).not.toBe(replicaOf(written));
    expect(json(read)).toEqual(json(written));
  });

  it('never lets an added_after poller alternating between replicas miss or repeat an object while both replicas write', async () => {
    const posted: string[] = [];
    const writesBy = [0, 0];
    let writing = true;
    const start = Date.now();
    const writer = async (w: number) => {
      for (let n = 0; Date.now() - start < 3000; n++) {
        const objects = Array.from({ length: 1 + ((w + n) % 4) }, (_, i) => indicator({ name: `replica w${w} ${n} ${i}` }));
        const exchange = await post(objects);
        expectStatus(exchange, 202);
        writesBy[replicaOf(exchange)]!++;
        posted.push(...objects.map((o) => o.id));
      }
    };
    // The poller starts after everything stored so far: at a marker's date_added.
    const marker = indicator({ name: 'poller start' });
    const markerPost = await post([marker]);
    expectStatus(markerPost, 202);
    const markerRead = await get(`${base}/objects/${marker.id}/`);
    let addedAfter = (markerRead.outcome.kind === 'response' && (markerRead.outcome.headers['x-taxii-date-added-last'] as string)) || undefined;
    expect(addedAfter).toBeDefined();

    const seen: string[] = [];
    const pollsBy = [0, 0];
    const poller = (async () => {
      let idle = 0;
      while (writing || idle < 2) {
        const exchange = await get(`${base}/objects/?limit=15&added_after=${encodeURIComponent(addedAfter!)}`);
        expectStatus(exchange, 200);
        pollsBy[replicaOf(exchange)]!++;
        const body = json<{ objects?: StixObject[] }>(exchange)!;
        const ids = (body.objects ?? []).map((o) => o.id);
        seen.push(...ids);
        const last = exchange.outcome.kind === 'response' ? exchange.outcome.headers['x-taxii-date-added-last'] : undefined;
        if (typeof last === 'string') addedAfter = last;
        if (ids.length === 0) {
          if (!writing) idle++;
          await sleep(10);
        }
      }
    })();
    await Promise.all([0, 1, 2, 3].map(writer));
    writing = false;
    await poller;

    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(posted));
    expect(Math.min(...writesBy)).toBeGreaterThan(0);
    expect(Math.min(...pollsBy)).toBeGreaterThan(0);
    console.log('replicas:', JSON.stringify({ objectsPosted: posted.length, writesBy, pollsBy, startMs: replicas.map((r) => r.startMs) }));
  }, 30_000);
});
