import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeStatuses } from '../../src/db/status-store.js';
import { toTaxiiError } from '../../src/plugins/taxii-http.js';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';
import { COLLECTION, PASSWORD, standardSeed } from '../support/fixtures.js';
import { envelope, indicator } from '../support/stix.js';

let t: TestApp;
const writer = basic('writer', PASSWORD);

beforeAll(async () => {
  t = await createTestApp(standardSeed(), {}, { STATUS_RETENTION_HOURS: '48' });
});
afterAll(async () => t?.close());

async function postOne(): Promise<string> {
  const res = await t.http
    .post(`/api1/collections/${COLLECTION}/objects/`)
    .set('Authorization', writer)
    .set('Content-Type', TAXII)
    .send(envelope([indicator()]));
  return JSON.parse(res.text).id as string;
}

async function age(statusId: string, hours: number) {
  await sql`update status_resources set created_at = now() - make_interval(hours => ${hours}) where id = ${statusId}`.execute(t.database.db);
}

describe('Status resources (TAXII §4.3)', () => {
  it('keeps a status resource queryable for at least 24 hours', async () => {
    const id = await postOne();
    await age(id, 47);
    const res = await t.http.get(`/api1/status/${id}/`).set('Authorization', writer);
    expect(res.status).toBe(200);
  });

  it('answers 404 once a status resource is past its retention, and the purge removes it', async () => {
    const id = await postOne();
    await age(id, 49);
    expect((await t.http.get(`/api1/status/${id}/`).set('Authorization', writer)).status).toBe(404);
    expect(await purgeStatuses(t.database.db, 48)).toBeGreaterThanOrEqual(1);
    const left = await t.database.db.selectFrom('status_resources').select('id').where('id', '=', id).execute();
    expect(left).toHaveLength(0);
  });

  it('answers 404 for an id that is not a UUID or is unknown', async () => {
    for (const id of ['nope', '00000000-0000-4000-8000-000000000000']) {
      const res = await t.http.get(`/api1/status/${id}/`).set('Authorization', writer);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toBe(TAXII);
    }
  });

  it('is answered by any server process sharing the database', async () => {
    const id = await postOne();
    const { buildApp } = await import('../../src/app.js');
    const replica = await buildApp(t.config, t.database, { logger: false });
    try {
      const res = await replica.inject({ method: 'GET', url: `/api1/status/${id}/`, headers: { authorization: writer } });
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ id, status: 'complete', total_count: 1, success_count: 1 });
    } finally {
      await replica.close();
    }
  });
});

describe('Error resources for every status (TAXII §3.6.1; interop rule 1)', () => {
  it('answers an unexpected failure with a generic 500 that leaks no driver or SQL text', async () => {
    const broken = await createTestApp(standardSeed());
    try {
      await sql`drop table status_resources`.execute(broken.database.db);
      const res = await broken.http.get('/api1/status/00000000-0000-4000-8000-000000000000/').set('Authorization', writer);
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toBe(TAXII);
      const body = JSON.parse(res.text);
      expect(body).toMatchObject({ title: 'Internal server error', http_status: '500', error_id: expect.any(String) });
      expect(res.text).not.toMatch(/status_resources|relation|select|stack|at \w+ \(/i);
    } finally {
      await broken.close();
    }
  });

  it('renders 429 and 503 with the TAXII error resource and Retry-After', () => {
    const tooMany = toTaxiiError(Object.assign(new Error('Rate limit exceeded'), { statusCode: 429 }));
    expect(tooMany.httpStatus).toBe(429);
    expect(tooMany.title).toBe('Too many requests');
    const down = toTaxiiError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    expect(down.httpStatus).toBe(503);
    expect(down.headers).toMatchObject({ 'Retry-After': expect.any(String) });
    expect(down.description).not.toMatch(/5432/);
  });
});
