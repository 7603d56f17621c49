import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';
import { COLLECTION, PASSWORD, READ_ONLY_COLLECTION, standardSeed } from '../support/fixtures.js';
import { envelope, indicator, malware, revise, ts, type StixObject } from '../support/stix.js';

/** Delete an Object (TAXII §5.7). */
const WRITE_ONLY = 'aa3f2a46-3c5e-4c7e-9a9e-3b1a2f6d7e11';
let t: TestApp;
const writer = basic('writer', PASSWORD);
const base = `/api1/collections/${COLLECTION}`;

beforeAll(async () => {
  const seed = standardSeed();
  seed.collections!.push({ id: WRITE_ONLY, api_root: 'api1', title: 'Drop box' });
  seed.permissions!.push({ organisation: 'Member', collection: WRITE_ONLY, read: false, write: true });
  t = await createTestApp(seed);
});
afterAll(async () => t?.close());

async function post(objects: StixObject[]) {
  await t.http.post(`${base}/objects/`).set('Authorization', writer).set('Content-Type', TAXII).send(envelope(objects));
}

async function get(path: string) {
  const res = await t.http.get(path).set('Authorization', writer);
  return { status: res.status, body: res.text ? JSON.parse(res.text) : undefined };
}

function del(path: string, auth = writer) {
  return t.http.delete(path).set('Authorization', auth).set('Accept', TAXII);
}

describe('Delete an Object (TAXII §5.7)', () => {
  it('removes every version without match[version]; the object then vanishes from every endpoint', async () => {
    const v1 = malware();
    const v2 = revise(v1, ts(60));
    const keep = indicator();
    await post([v1, v2, keep]);
    const res = await del(`${base}/objects/${v1.id}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(TAXII);
    expect(res.text).toBe('');
    expect((await get(`${base}/objects/${v1.id}/`)).status).toBe(404);
    expect((await get(`${base}/objects/${v1.id}/versions/`)).status).toBe(404);
    const ids = (body: { objects?: { id: string }[] }) => (body.objects ?? []).map((o) => o.id);
    expect(ids((await get(`${base}/objects/?match[version]=all`)).body)).not.toContain(v1.id);
    expect(ids((await get(`${base}/manifest/?match[version]=all`)).body)).not.toContain(v1.id);
    expect(ids((await get(`${base}/objects/`)).body)).toContain(keep.id);
  });

  it('removes only the versions selected by match[version], and the remaining ones become first/last', async () => {
    const v1 = malware();
    const v2 = revise(v1, ts(60));
    const v3 = revise(v1, ts(120));
    await post([v1, v2, v3]);
    expect((await del(`${base}/objects/${v1.id}/?match[version]=last`)).status).toBe(200);
    expect((await get(`${base}/objects/${v1.id}/`)).body.objects).toEqual([v2]);
    expect((await del(`${base}/objects/${v1.id}/?match[version]=${v1.modified}`)).status).toBe(200);
    expect((await get(`${base}/objects/${v1.id}/versions/`)).body.versions).toEqual([v2.modified]);
    expect((await get(`${base}/objects/${v1.id}/?match[version]=first`)).body.objects).toEqual([v2]);
  });

  it('honours match[spec_version]', async () => {
    const object = malware();
    await post([object]);
    expect((await del(`${base}/objects/${object.id}/?match[spec_version]=2.0`)).status).toBe(200);
    expect((await get(`${base}/objects/${object.id}/`)).status).toBe(200);
    expect((await del(`${base}/objects/${object.id}/?match[spec_version]=2.1`)).status).toBe(200);
    expect((await get(`${base}/objects/${object.id}/`)).status).toBe(404);
  });

  it('answers 404 for an object that does not exist', async () => {
    const res = await del(`${base}/objects/malware--7f0c6f9e-1c2b-4d3a-8e4f-5a6b7c8d9e0f/`);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe(TAXII);
  });

  it('answers 400 for a malformed match[version]', async () => {
    const object = malware();
    await post([object]);
    expect((await del(`${base}/objects/${object.id}/?match[version]=soon`)).status).toBe(400);
    expect((await get(`${base}/objects/${object.id}/`)).status).toBe(200);
  });

  it('follows the permission table: read-only 403, write-only 403, neither 404 (TAXII §5.7)', async () => {
    const object = malware();
    await post([object]);
    const path = (collection: string) => `/api1/collections/${collection}/objects/${object.id}/`;
    expect((await del(path(COLLECTION), basic('reader', PASSWORD))).status).toBe(403); // read, no write
    expect((await del(path(WRITE_ONLY), basic('reader', PASSWORD))).status).toBe(403); // write, no read
    expect((await del(path(READ_ONLY_COLLECTION), basic('reader', PASSWORD))).status).toBe(404); // neither
    expect((await del(path(COLLECTION), basic('outsider', PASSWORD))).status).toBe(404); // no permission at all
    expect((await get(`${base}/objects/${object.id}/`)).status).toBe(200);
  });
});
