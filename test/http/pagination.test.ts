import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';
import { COLLECTION, PASSWORD, READ_ONLY_COLLECTION, standardSeed } from '../support/fixtures.js';
import { envelope, indicator, malware, type StixObject } from '../support/stix.js';

/** Paging (TAXII §3.5, §3.4 `next`; interop rules 3 and 4) over a collection of 3,000 objects. */
let t: TestApp;
const writer = basic('writer', PASSWORD);
const base = `/api1/collections/${COLLECTION}`;
const TOTAL = 3000;
const all: StixObject[] = [];

async function get(path: string, auth = writer) {
  const res = await t.http.get(path).set('Authorization', auth).set('Accept', TAXII);
  return { status: res.status, headers: res.headers as Record<string, string>, body: JSON.parse(res.text) };
}

async function post(objects: StixObject[]) {
  const res = await t.http.post(`${base}/objects/`).set('Authorization', writer).set('Content-Type', TAXII).send(envelope(objects));
  expect(JSON.parse(res.text).success_count).toBe(objects.length);
}

beforeAll(async () => {
  t = await createTestApp(standardSeed({ permissions: [
    { organisation: 'Hub', collection: COLLECTION, read: true, write: true },
    { organisation: 'Hub', collection: READ_ONLY_COLLECTION, read: true, write: false },
    { organisation: 'Member', collection: COLLECTION, read: true, write: false },
  ] }));
  for (let batch = 0; batch < TOTAL / 500; batch++) {
    const objects = Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? malware({ name: `m${batch}-${i}` }) : indicator({ name: `i${batch}-${i}` })));
    all.push(...objects);
    await post(objects);
  }
}, 120_000);
afterAll(async () => t?.close());

/** Follows `next` until `more` is false, returning every object id in order. */
async function crawl(firstQuery: string, repeatFilters: boolean, endpoint = 'objects') {
  const ids: string[] = [];
  let query = firstQuery;
  for (let pages = 0; pages < 2000; pages++) {
    const res = await get(`${base}/${endpoint}/?${query}`);
    expect(res.status).toBe(200);
    const items = (res.body.objects ?? []) as { id: string }[];
    expect(items.length).toBeLessThanOrEqual(7);
    ids.push(...items.map((o) => o.id));
    if (!res.body.more) {
      expect(res.body).not.toHaveProperty('next');
      return ids;
    }
    // more: true always comes with next (interop rule 4), on every paged endpoint.
    expect(res.body.next).toEqual(expect.any(String));
    const next = `next=${encodeURIComponent(res.body.next)}`;
    query = repeatFilters ? `${firstQuery}&${next}` : next;
  }
  throw new Error('crawl did not end');
}

describe('Pagination with next (TAXII §3.5)', () => {
  it('returns every object exactly once when a client follows next alone with limit=7', async () => {
    const ids = await crawl('limit=7', false);
    expect(ids).toHaveLength(TOTAL);
    expect(new Set(ids).size).toBe(TOTAL);
    expect(ids).toEqual(all.map((o) => o.id));
  });

  it('gives the same result when the client repeats the original filters with next', async () => {
    const alone = await crawl('limit=7&match[type]=malware', false);
    const repeated = await crawl('limit=7&match[type]=malware', true);
    expect(alone).toEqual(repeated);
    expect(alone).toEqual(all.filter((o) => o.type === 'malware').map((o) => o.id));
  });

  it('pages the manifest the same way', async () => {
    const ids = await crawl('limit=7', false, 'manifest');
    expect(ids).toEqual(all.map((o) => o.id));
  });

  it('caps a page at the server maximum and says more (TAXII §3.4.1 limit)', async () => {
    const res = await get(`${base}/objects/?limit=100000`);
    expect(res.body.objects).toHaveLength(t.config.pageMaxLimit);
    expect(res.body.more).toBe(true);
    expect(res.body.next).toEqual(expect.any(String));
  });

  it('applies the server default page size without limit', async () => {
    const res = await get(`${base}/objects/`);
    expect(res.body.objects).toHaveLength(t.config.pageDefaultLimit);
    expect(res.body.more).toBe(true);
  });

  it('lets filters sent with a cursor take precedence over the cursor\'s own (interop rule 3)', async () => {
    const first = await get(`${base}/objects/?limit=7&match[type]=indicator`);
    const lastSeen = first.headers['x-taxii-date-added-last']!;
    const res = await get(`${base}/objects/?limit=7&match[type]=malware&next=${encodeURIComponent(first.body.next)}`);
    expect(res.body.objects.every((o: StixObject) => o.type === 'malware')).toBe(true);
    expect(res.headers['x-taxii-date-added-first']! > lastSeen).toBe(true);
  });

  it('reads added_after sent with a cursor as "after the later of the two" (interop rule 3)', async () => {
    const first = await get(`${base}/objects/?limit=7`);
    const manifest = await get(`${base}/manifest/?limit=1000`);
    const later = manifest.body.objects[499].date_added;
    const withNewer = await get(`${base}/objects/?limit=7&added_after=${later}&next=${encodeURIComponent(first.body.next)}`);
    expect(withNewer.body.objects.map((o: StixObject) => o.id)).toEqual(all.slice(500, 507).map((o) => o.id));
    const earlier = manifest.body.objects[0].date_added;
    const withOlder = await get(`${base}/objects/?limit=7&added_after=${earlier}&next=${encodeURIComponent(first.body.next)}`);
    expect(withOlder.body.objects.map((o: StixObject) => o.id)).toEqual(all.slice(7, 14).map((o) => o.id));
  });

  it('gives exactly the new objects to a client that resends an old next with a newer added_after (OpenCTI)', async () => {
    const old = await get(`${base}/objects/?limit=7`);
    const newest = (await get(`${base}/objects/${all[all.length - 1]!.id}/`)).headers['x-taxii-date-added-last'];
    const fresh = [indicator({ name: 'fresh 1' }), indicator({ name: 'fresh 2' })];
    await post(fresh);
    all.push(...fresh);
    const res = await get(`${base}/objects/?limit=7&added_after=${newest}&next=${encodeURIComponent(old.body.next)}`);
    expect(res.status).toBe(200);
    expect(res.body.objects).toEqual(fresh);
    expect(res.body.more).toBe(false);
  });

  it('answers 400 for a tampered or undecodable cursor', async () => {
    const { body } = await get(`${base}/objects/?limit=7`);
    const [payload, signature] = (body.next as string).split('.') as [string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString());
    decoded.d = 0;
    const forged = `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${signature}`;
    for (const next of [forged, `${payload}.${signature.slice(1)}x`, 'abc.def', '....', `${payload}`]) {
      const res = await get(`${base}/objects/?next=${encodeURIComponent(next)}`);
      expect(res.status).toBe(400);
      expect(res.body.title).toBe('Bad request');
    }
  });

  it('answers 400 for a cursor of another collection or another account', async () => {
    const { body } = await get(`${base}/objects/?limit=7`);
    const otherCollection = await get(`/api1/collections/${READ_ONLY_COLLECTION}/objects/?next=${encodeURIComponent(body.next)}`);
    expect(otherCollection.status).toBe(400);
    const otherAccount = await get(`${base}/objects/?next=${encodeURIComponent(body.next)}`, basic('reader', PASSWORD));
    expect(otherAccount.status).toBe(400);
  });

  it('accepts a cursor issued by another server process sharing the database (stateless cursors)', async () => {
    const { body } = await get(`${base}/objects/?limit=7`);
    const { buildApp } = await import('../../src/app.js');
    const replica = await buildApp(t.config, t.database, { logger: false });
    try {
      const res = await replica.inject({
        method: 'GET',
        url: `${base}/objects/?next=${encodeURIComponent(body.next)}`,
        headers: { authorization: writer },
      });
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body).objects.map((o: StixObject) => o.id)).toEqual(all.slice(7, 14).map((o) => o.id));
    } finally {
      await replica.close();
    }
  });
});
