import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';
import { COLLECTION, HIDDEN_COLLECTION, PASSWORD, READ_ONLY_COLLECTION, standardSeed } from '../support/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp(standardSeed());
});
afterAll(async () => t?.close());

const as = (user: string) => basic(user, PASSWORD);

describe('Get Collections (TAXII §5.1)', () => {
  it('lists the collections the caller may know of, with its own can_read and can_write', async () => {
    const res = await t.http.get('/api1/collections/').set('Authorization', as('reader'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(TAXII);
    const { collections } = JSON.parse(res.text);
    expect(collections).toEqual([
      {
        id: COLLECTION,
        title: 'Indicators',
        description: 'Main collection',
        alias: 'indicators',
        can_read: true,
        can_write: false,
        media_types: ['application/stix+json;version=2.1'],
        x_taxii_hub_view: { profile: 'L4', revision: 1, level: 'L4' },
      },
      {
        id: READ_ONLY_COLLECTION,
        title: 'Read only',
        can_read: false,
        can_write: false,
        media_types: ['application/stix+json;version=2.1'],
        x_taxii_hub_view: { profile: 'L4', revision: 1, level: 'L4' },
      },
    ]);
  });

  it('describes the writer with its own rights on the same collection', async () => {
    const res = await t.http.get('/api1/collections/').set('Authorization', as('writer'));
    const main = JSON.parse(res.text).collections.find((c: { id: string }) => c.id === COLLECTION);
    expect(main).toMatchObject({ can_read: true, can_write: true });
  });

  it('returns the collections in the same order on every request (TAXII §3.3)', async () => {
    const first = await t.http.get('/api1/collections/').set('Authorization', as('admin'));
    const second = await t.http.get('/api1/collections').set('Authorization', as('admin'));
    expect(first.text).toBe(second.text);
    expect(JSON.parse(first.text).collections.map((c: { id: string }) => c.id)).toEqual([COLLECTION, READ_ONLY_COLLECTION, HIDDEN_COLLECTION]);
  });

  it('answers 404 for the collections of an API root the caller has no access to', async () => {
    const res = await t.http.get('/api2/collections/').set('Authorization', as('reader'));
    expect(res.status).toBe(404);
  });
});

describe('Get a Collection (TAXII §5.2)', () => {
  it('finds a collection by id and by alias', async () => {
    const byId = await t.http.get(`/api1/collections/${COLLECTION}/`).set('Authorization', as('writer'));
    const byAlias = await t.http.get('/api1/collections/indicators/').set('Authorization', as('writer'));
    expect(byId.status).toBe(200);
    expect(JSON.parse(byId.text)).toEqual(JSON.parse(byAlias.text));
    expect(JSON.parse(byId.text).id).toBe(COLLECTION);
  });

  it('accepts the id in upper case (UUIDs are case-insensitive)', async () => {
    const res = await t.http.get(`/api1/collections/${COLLECTION.toUpperCase()}/`).set('Authorization', as('writer'));
    expect(res.status).toBe(200);
  });

  it('answers 404 for a collection the caller has no permission on, exactly as for an unknown one', async () => {
    const hidden = await t.http.get(`/api1/collections/${HIDDEN_COLLECTION}/`).set('Authorization', as('reader'));
    const unknown = await t.http.get('/api1/collections/0b3e3c02-5d7a-4b8a-9f55-5e0c4b8d7f11/').set('Authorization', as('reader'));
    expect(hidden.status).toBe(404);
    expect(unknown.status).toBe(404);
    const strip = (text: string) => ({ ...JSON.parse(text), error_id: undefined, description: undefined });
    expect(strip(hidden.text)).toEqual(strip(unknown.text));
  });

  it('shows a collection the caller may see but not read, with both rights false', async () => {
    const res = await t.http.get(`/api1/collections/${READ_ONLY_COLLECTION}/`).set('Authorization', as('reader'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ can_read: false, can_write: false });
  });
});
