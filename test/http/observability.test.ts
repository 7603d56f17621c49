import { Writable } from 'node:stream';
import type { FastifyServerOptions } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, loggerOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { applySeed } from '../../src/services/provisioning.js';
import { syncViewIndexes } from '../../src/views/view-index.js';
import { COLLECTION, PASSWORD, standardSeed, WRITER_KEY } from '../support/fixtures.js';
import { envelope, indicator } from '../support/stix.js';
import { createTestDatabase, testDatabaseKind } from '../support/test-database.js';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';

let t: TestApp;
const writer = basic('writer', PASSWORD);
const objects = `/api1/collections/${COLLECTION}/objects/`;
const OBJECTS_ROUTE = '/:apiRoot/collections/:collectionId/objects/';

beforeAll(async () => {
  t = await createTestApp(standardSeed());
});
afterAll(async () => t?.close());

/** One sample per series: `name{labels}` → value. */
type Samples = Map<string, number>;

function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

async function scrape(): Promise<Samples> {
  const res = await t.http.get('/metrics').set('Accept', 'text/plain');
  expect(res.status).toBe(200);
  return parseMetrics(res.text);
}

const value = (samples: Samples, series: string) => samples.get(series) ?? 0;

describe('Prometheus metrics at /metrics', () => {
  it('answers in the text format without credentials, outside TAXII content negotiation', async () => {
    const res = await t.http.get('/metrics').set('Accept', 'text/plain');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE taxii_http_requests_total counter');
  });

  it('counts objects ingested as stored, duplicate and failed, and objects served by endpoint', async () => {
    const before = await scrape();
    const first = indicator();
    const second = indicator();
    const invalid = { type: 'indicator', spec_version: '2.1', id: 'indicator--not-a-uuid' };
    const post = (list: unknown[]) => t.http.post(objects).set('Authorization', writer).set('Content-Type', TAXII).send(envelope(list));
    expect((await post([first, second, invalid])).status).toBe(202);
    expect((await post([first])).status).toBe(202); // the same id and version: a duplicate

    const read = (path: string) => t.http.get(path).set('Authorization', writer);
    const page = await read(`${objects}?match[id]=${first.id},${second.id}`);
    expect(JSON.parse(page.text).objects).toHaveLength(2);
    expect((await read(`${objects}${first.id}/`)).status).toBe(200);
    expect((await read(`${objects}${first.id}/versions/`)).status).toBe(200);
    expect((await read(`/api1/collections/${COLLECTION}/manifest/?match[id]=${first.id},${second.id}`)).status).toBe(200);

    const after = await scrape();
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('taxii_objects_ingested_total{outcome="stored"}')).toBe(2);
    expect(delta('taxii_objects_ingested_total{outcome="duplicate"}')).toBe(1);
    expect(delta('taxii_objects_ingested_total{outcome="failed"}')).toBe(1);
    expect(delta('taxii_objects_served_total{endpoint="objects"}')).toBe(2);
    expect(delta('taxii_objects_served_total{endpoint="object"}')).toBe(1);
    expect(delta('taxii_objects_served_total{endpoint="versions"}')).toBe(1);
    expect(delta('taxii_objects_served_total{endpoint="manifest"}')).toBe(2);
  });

  it('counts requests and their latency by route pattern and status, never by raw URL', async () => {
    const before = await scrape();
    await t.http.get(objects).set('Authorization', writer);
    await t.http.get(objects).set('Authorization', writer);
    await t.http.get(objects); // 401
    await t.http.get('/no/such/path/at/all');
    const after = await scrape();
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta(`taxii_http_requests_total{method="GET",route="${OBJECTS_ROUTE}",status_code="200"}`)).toBe(2);
    expect(delta(`taxii_http_requests_total{method="GET",route="${OBJECTS_ROUTE}",status_code="401"}`)).toBe(1);
    expect(delta('taxii_http_requests_total{method="GET",route="unmatched",status_code="404"}')).toBe(1);
    // The scrape before this one is counted once it has been answered.
    expect(delta('taxii_http_requests_total{method="GET",route="/metrics",status_code="200"}')).toBe(1);
    expect(delta(`taxii_http_request_duration_seconds_count{method="GET",route="${OBJECTS_ROUTE}"}`)).toBe(3);
    const sum = delta(`taxii_http_request_duration_seconds_sum{method="GET",route="${OBJECTS_ROUTE}"}`);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(30);
    expect(delta(`taxii_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="${OBJECTS_ROUTE}"}`)).toBe(3);
    const text = [...after.keys()].join('\n');
    expect(text).not.toContain(COLLECTION);
    expect(text).not.toContain('/no/such/path');
  });

  it('reads the pending status resources from the database at scrape time', async () => {
    expect(value(await scrape(), 'taxii_status_resources_pending')).toBe(0);
    const post = await t.http.post(objects).set('Authorization', writer).set('Content-Type', TAXII).send(envelope([indicator()]));
    const id = JSON.parse(post.text).id as string;
    await sql`update status_resources set status = 'pending' where id = ${id}`.execute(t.database.db);
    try {
      expect(value(await scrape(), 'taxii_status_resources_pending')).toBe(1);
    } finally {
      await sql`update status_resources set status = 'complete' where id = ${id}`.execute(t.database.db);
    }
  });

  it('reports the database pool: total, idle and waiting (1/0/0 for the embedded database)', async () => {
    const samples = await scrape();
    const total = samples.get('taxii_db_pool_clients{state="total"}');
    const idle = samples.get('taxii_db_pool_clients{state="idle"}');
    const waiting = samples.get('taxii_db_pool_clients{state="waiting"}');
    if (testDatabaseKind() === 'embedded') {
      expect([total, idle, waiting]).toEqual([1, 0, 0]);
    } else {
      expect(total).toBeGreaterThanOrEqual(1);
      expect(total).toBeLessThanOrEqual(t.config.dbPoolMax);
      expect(idle).toBeGreaterThanOrEqual(0);
      expect(idle).toBeLessThanOrEqual(total!);
      expect(waiting).toBeGreaterThanOrEqual(0);
    }
  });

  it('exposes the default Node.js process metrics', async () => {
    const samples = await scrape();
    expect(value(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(value(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(samples.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('keeps one registry per app: a second app in the same process counts its own requests', async () => {
    const other = await buildApp(t.config, t.database, { logger: false });
    try {
      const res = await other.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      const samples = parseMetrics(res.body);
      expect(value(samples, `taxii_http_requests_total{method="GET",route="${OBJECTS_ROUTE}",status_code="200"}`)).toBe(0);
      expect(value(samples, 'taxii_objects_ingested_total{outcome="stored"}')).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe('Health and readiness probes', () => {
  it('/healthz answers 200 {status: "ok"} without credentials, whatever the Accept header', async () => {
    const res = await t.http.get('/healthz').set('Accept', 'text/plain');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 when the database answers and has no pending migration', async () => {
    const res = await t.http.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it('/readyz answers 503 with the reason: migrations pending, then the database closed; /healthz stays 200', async () => {
    const database = await createTestDatabase();
    try {
      const config = loadConfig({ SCRYPT_COST: '1024', DEMO: 'false' });
      const app = await buildApp(config, database, { logger: false });
      try {
        const last = await sql<{ name: string }>`select max(name) as name from kysely_migration`.execute(database.db);
        const name = last.rows[0]!.name;
        await sql`delete from kysely_migration where name = ${name}`.execute(database.db);
        let res = await app.inject({ method: 'GET', url: '/readyz' });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual({ status: 'unavailable', reason: `migrations pending: ${name}` });

        await database.close();
        res = await app.inject({ method: 'GET', url: '/readyz' });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual({ status: 'unavailable', reason: 'the database is not reachable' });
        expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
        // The metrics still answer; the gauge that needs the database says it could not read it.
        const metrics = await app.inject({ method: 'GET', url: '/metrics' });
        expect(metrics.statusCode).toBe(200);
        expect(parseMetrics(metrics.body).get('taxii_status_resources_pending')).toBeNaN();
      } finally {
        await app.close();
      }
    } finally {
      await database.destroy();
    }
  });
});

describe('Logs: structured, with request ids, and without credentials', () => {
  it('never writes a password, an API key or an Authorization header, and logs err only for 5xx', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
        done();
      },
    });
    const database = await createTestDatabase();
    const config = loadConfig({ SCRYPT_COST: '1024', DEMO: 'false', LOG_LEVEL: 'trace' });
    const seed = standardSeed();
    seed.accounts!.push({ username: 'envuser', organisation: 'Hub', password_env: 'OBS_TEST_PASSWORD' });
    const envPassword = 'env-supplied password 9f3b';
    let errorId: string | undefined;
    try {
      await applySeed(database.db, seed, { scryptCost: config.scryptCost, env: { OBS_TEST_PASSWORD: envPassword } });
      await syncViewIndexes(database.db);
      const logger = { ...(loggerOptions(config) as object), stream } as FastifyServerOptions['logger'];
      const app = await buildApp(config, database, { logger });
      try {
        const get = (url: string, authorization?: string) =>
          app.inject({ method: 'GET', url, headers: { accept: TAXII, ...(authorization ? { authorization } : {}) } });
        expect((await get(objects, writer)).statusCode).toBe(200);
        expect((await get(objects, basic('writer', 'wrong password 1234'))).statusCode).toBe(401);
        expect((await get(objects, basic('envuser', envPassword))).statusCode).toBe(200);
        expect((await get(objects, `Bearer ${WRITER_KEY}`)).statusCode).toBe(200);
        expect((await get(objects, `Token ${WRITER_KEY}`)).statusCode).toBe(200);
        expect((await get(objects, `Bearer ${WRITER_KEY.slice(0, -4)}BBBB`)).statusCode).toBe(401);
        const post = await app.inject({
          method: 'POST',
          url: objects,
          headers: { accept: TAXII, authorization: writer, 'content-type': TAXII },
          payload: envelope([indicator()]),
        });
        expect(post.statusCode).toBe(202);
        // A 5xx: the error handler logs the error, with the request id that the client gets as error_id.
        await sql`drop table status_resources`.execute(database.db);
        const failed = await get('/api1/status/00000000-0000-4000-8000-000000000000/', writer);
        expect(failed.statusCode).toBe(500);
        errorId = (failed.json() as { error_id: string }).error_id;
        // Code that logs objects holding secrets is censored too.
        app.log.info({ account: { username: 'writer', password: PASSWORD }, key: WRITER_KEY }, 'a careless log line');
      } finally {
        await app.close();
      }

      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const failures = entries.filter((e) => e.msg === 'request failed');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ level: 50, reqId: errorId, err: expect.any(Object) });
      const requests = entries.filter((e) => e.msg === 'incoming request');
      expect(requests.length).toBeGreaterThanOrEqual(8);
      for (const entry of requests) expect(entry.reqId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(entries.find((e) => e.msg === 'a careless log line')).toMatchObject({ account: { password: '[redacted]' }, key: '[redacted]' });

      const text = lines.join('\n');
      const secret = WRITER_KEY.slice(WRITER_KEY.lastIndexOf('_') + 1);
      for (const forbidden of [
        PASSWORD,
        envPassword,
        'wrong password 1234',
        WRITER_KEY,
        secret,
        Buffer.from(`writer:${PASSWORD}`).toString('base64'),
        Buffer.from(`envuser:${envPassword}`).toString('base64'),
        'Basic ',
        'Bearer ',
        'Token ',
      ]) {
        expect(text, forbidden).not.toContain(forbidden);
      }
    } finally {
      await database.destroy();
    }
  });
});
