import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestApp, rawRequest, TAXII, type TestApp } from '../support/test-app.js';
import { COLLECTION, PASSWORD, standardSeed } from '../support/fixtures.js';
import { envelope, indicator, ipv4, malware, relationship, revise, ts, type StixObject } from '../support/stix.js';

/**
 * The read endpoints over a small collection whose date_added order is known:
 * each object is posted in its own request, in this order.
 */
let t: TestApp;
const writer = basic('writer', PASSWORD);
const base = `/api1/collections/${COLLECTION}`;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

const a = indicator({ name: 'A' });
const m1 = malware({ name: 'M v1' });
const m2 = revise(m1, ts(60), { name: 'M v2' });
const sco = ipv4('198.51.100.9');
const m3 = revise(m1, ts(120), { name: 'M v3' });
const rel = relationship(a.id, m1.id);
const marking = {
  type: 'marking-definition',
  spec_version: '2.1',
  id: 'marking-definition--2f1b2f5a-7c1d-4a1e-9d1b-0f6c1f0a1b2c',
  created: '2024-05-01T00:00:00.000Z',
  definition_type: 'statement',
  definition: { statement: 'Copyright Example' },
};
const order: StixObject[] = [a, m1, m2, sco, m3, rel, marking as StixObject];

async function get(path: string) {
  const res = await t.http.get(path).set('Authorization', writer).set('Accept', TAXII);
  return { status: res.status, headers: res.headers as Record<string, string>, body: res.text ? JSON.parse(res.text) : undefined, text: res.text };
}

beforeAll(async () => {
  t = await createTestApp(standardSeed());
  for (const object of order) {
    const res = await t.http.post(`${base}/objects/`).set('Authorization', writer).set('Content-Type', TAXII).send(envelope([object]));
    expect(JSON.parse(res.text).success_count).toBe(1);
  }
});
afterAll(async () => t?.close());

describe('Get Objects (TAXII §5.4)', () => {
  it('returns the latest version of every object, oldest date_added first (TAXII §3.3, §3.4.1)', async () => {
    const res = await get(`${base}/objects/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(TAXII);
    expect(res.body.more).toBe(false);
    expect(res.body).not.toHaveProperty('next');
    expect(res.body.objects).toEqual([a, sco, m3, rel, marking]);
  });

  it('sets X-TAXII-Date-Added-First/Last to the first and last objects, with microseconds (TAXII §3.2)', async () => {
    const objects = await get(`${base}/objects/`);
    const manifest = await get(`${base}/manifest/`);
    const dates = manifest.body.objects.map((r: { date_added: string }) => r.date_added);
    expect(objects.headers['x-taxii-date-added-first']).toBe(dates[0]);
    expect(objects.headers['x-taxii-date-added-last']).toBe(dates[dates.length - 1]);
    expect(objects.headers['x-taxii-date-added-first']).toMatch(TIMESTAMP);
  });

  it('serves objects byte for byte as they were posted', async () => {
    const res = await get(`${base}/objects/${a.id}/`);
    expect(res.text).toContain(JSON.stringify(a));
  });

  it('filters by match[type], ORing comma-separated values (TAXII §3.4.1)', async () => {
    const res = await get(`${base}/objects/?match[type]=malware,ipv4-addr`);
    expect(res.body.objects).toEqual([sco, m3]);
  });

  it('answers an empty envelope, without date headers, when nothing matches (interop rule 5)', async () => {
    const res = await get(`${base}/objects/?match[type]=vulnerability`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ more: false });
    expect(res.headers).not.toHaveProperty('x-taxii-date-added-first');
    expect(res.headers).not.toHaveProperty('x-taxii-date-added-last');
  });

  it('accepts custom types in match[type]', async () => {
    const res = await get(`${base}/objects/?match[type]=x-acme-widget`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ more: false });
  });

  it('filters by match[id], ANDed with match[type]', async () => {
    expect((await get(`${base}/objects/?match[id]=${a.id},${m1.id}`)).body.objects).toEqual([a, m3]);
    expect((await get(`${base}/objects/?match[id]=${a.id},${m1.id}&match[type]=malware`)).body.objects).toEqual([m3]);
  });

  it('selects versions with match[version]: first, last, all, timestamps and lists', async () => {
    const ids = `match[id]=${m1.id}`;
    expect((await get(`${base}/objects/?${ids}&match[version]=first`)).body.objects).toEqual([m1]);
    expect((await get(`${base}/objects/?${ids}&match[version]=last`)).body.objects).toEqual([m3]);
    expect((await get(`${base}/objects/?${ids}&match[version]=all`)).body.objects).toEqual([m1, m2, m3]);
    expect((await get(`${base}/objects/?${ids}&match[version]=first,last`)).body.objects).toEqual([m1, m3]);
    expect((await get(`${base}/objects/?${ids}&match[version]=${m2.modified}`)).body.objects).toEqual([m2]);
    expect((await get(`${base}/objects/?${ids}&match[version]=${m2.modified},first`)).body.objects).toEqual([m1, m2]);
  });

  it('matches a version timestamp by instant, whatever its precision (TAXII digest §9)', async () => {
    const seconds = (m2.modified as string).replace('.000Z', 'Z');
    const micros = (m2.modified as string).replace('.000Z', '.000000Z');
    for (const value of [seconds, micros]) {
      expect((await get(`${base}/objects/?match[id]=${m1.id}&match[version]=${value}`)).body.objects).toEqual([m2]);
    }
  });

  it('uses created as the version of objects without modified, and date_added for SCOs', async () => {
    const manifest = (await get(`${base}/manifest/`)).body.objects as { id: string; version: string; date_added: string }[];
    expect(manifest.find((r) => r.id === marking.id)!.version).toBe(marking.created);
    const scoRecord = manifest.find((r) => r.id === sco.id)!;
    expect(scoRecord.version).toMatch(TIMESTAMP);
    expect((await get(`${base}/objects/?match[id]=${marking.id}&match[version]=${marking.created}`)).body.objects).toEqual([marking]);
  });

  it('filters by match[spec_version] (TAXII §3.4.2)', async () => {
    expect((await get(`${base}/objects/?match[spec_version]=2.1`)).body.objects).toHaveLength(5);
    expect((await get(`${base}/objects/?match[spec_version]=2.0`)).body).toEqual({ more: false });
    expect((await get(`${base}/objects/?match[spec_version]=2.0,2.1&match[id]=${m1.id}&match[version]=all`)).body.objects).toHaveLength(3);
  });

  it('returns only objects added strictly after added_after (TAXII §3.4.1)', async () => {
    const manifest = (await get(`${base}/manifest/?match[version]=all`)).body.objects as { id: string; date_added: string }[];
    const cut = manifest[2]!.date_added;
    const res = await get(`${base}/objects/?added_after=${cut}&match[version]=all`);
    expect(res.body.objects).toEqual([sco, m3, rel, marking]);
    expect(res.headers['x-taxii-date-added-first']).toBe(manifest[3]!.date_added);
  });

  it('accepts added_after with 0 to 9 fractional digits and with a numeric offset (interop rule 6)', async () => {
    const manifest = (await get(`${base}/manifest/?match[version]=all`)).body.objects as { date_added: string }[];
    const cut = manifest[2]!.date_added; // YYYY-MM-DDTHH:MM:SS.ssssssZ
    const expected = (await get(`${base}/objects/?added_after=${cut}&match[version]=all`)).body;
    const nanos = cut.replace('Z', '999Z').replace(/(\.\d{6})999Z$/, '$1000Z');
    expect((await get(`${base}/objects/?added_after=${nanos}&match[version]=all`)).body).toEqual(expected);
    const seconds = cut.slice(0, 19) + 'Z';
    const fromSeconds = (await get(`${base}/objects/?added_after=${seconds}&match[version]=all`)).body.objects;
    expect(fromSeconds.length).toBeGreaterThanOrEqual(expected.objects.length);
    const offset = cut.slice(0, 19) + '+00:00';
    expect((await get(`${base}/objects/?added_after=${encodeURIComponent(offset)}&match[version]=all`)).body.objects).toEqual(fromSeconds);
  });

  it('answers 400 for malformed parameters (TAXII §3.4)', async () => {
    for (const query of [
      'limit=0', 'limit=-1', 'limit=abc', 'limit=1.5', 'limit=1&limit=2',
      'added_after=yesterday', 'added_after=2025-13-01T00:00:00Z', 'added_after=2025-01-01T00:00:00.0000000000Z',
      'match[type]=indicator&match[type]=malware', 'match[type]=Indicator', 'match[type]=indicator,',
      'match[version]=all,first', 'match[version]=latest', 'match[version]=2025-01-01',
      'match[id]=not-an-id', 'match[spec_version]=two', 'next=garbage',
    ]) {
      const res = await get(`${base}/objects/?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers['content-type']).toBe(TAXII);
      expect(res.body.title).toBe('Bad request');
    }
  });

  it('ignores parameters and match fields it does not know (TAXII §3.4.1)', async () => {
    const res = await get(`${base}/objects/?match[foo]=bar&_=123`);
    expect(res.status).toBe(200);
    expect(res.body.objects).toHaveLength(5);
  });

  it('answers 403 to a caller without read access and 404 to one without any access', async () => {
    const { READ_ONLY_COLLECTION } = await import('../support/fixtures.js');
    const forbidden = await t.http.get(`/api1/collections/${READ_ONLY_COLLECTION}/objects/`).set('Authorization', basic('reader', PASSWORD));
    expect(forbidden.status).toBe(403);
    const hidden = await t.http.get(`${base}/objects/`).set('Authorization', basic('outsider', PASSWORD));
    expect(hidden.status).toBe(404);
  });
});

describe('Get Object Manifests (TAXII §5.3)', () => {
  it('lists one record per version with id, date_added, version and media_type', async () => {
    const res = await get(`${base}/manifest/?match[id]=${m1.id}&match[version]=all`);
    expect(res.body.objects).toHaveLength(3);
    for (const [i, record] of res.body.objects.entries()) {
      expect(record).toEqual({
        id: m1.id,
        date_added: expect.stringMatching(TIMESTAMP),
        version: [m1, m2, m3][i]!.modified,
        media_type: 'application/stix+json;version=2.1',
      });
    }
    expect(res.headers['x-taxii-date-added-last']).toBe(res.body.objects[2].date_added);
  });

  it('applies match[type] to the underlying object', async () => {
    const res = await get(`${base}/manifest/?match[type]=indicator`);
    expect(res.body.objects.map((r: { id: string }) => r.id)).toEqual([a.id]);
  });

  it('accepts the Accept header the specification lists for this endpoint (TAXII §5.3)', async () => {
    const res = await t.http.get(`${base}/manifest/`).set('Authorization', writer).set('Accept', 'application/taxii+json;version=2.1,application/stix+json;version=2.1');
    expect(res.status).toBe(200);
  });
});

describe('Get an Object (TAXII §5.6)', () => {
  it('returns the latest version in an envelope, with date headers', async () => {
    const res = await get(`${base}/objects/${m1.id}/`);
    expect(res.body).toEqual({ more: false, objects: [m3] });
    expect(res.headers['x-taxii-date-added-first']).toMatch(TIMESTAMP);
  });

  it('honours match[version] and match[spec_version]', async () => {
    expect((await get(`${base}/objects/${m1.id}/?match[version]=all`)).body.objects).toEqual([m1, m2, m3]);
    expect((await get(`${base}/objects/${m1.id}/?match[spec_version]=2.1&match[version]=first`)).body.objects).toEqual([m1]);
  });

  it('answers 404 for an id that was never stored, and an empty envelope when filters exclude every version', async () => {
    const unknown = await get(`${base}/objects/indicator--0b3e3c02-5d7a-4b8a-9f55-5e0c4b8d7f11/`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toBe(TAXII);
    const excluded = await get(`${base}/objects/${m1.id}/?match[version]=2000-01-01T00:00:00.000Z`);
    expect(excluded.status).toBe(200);
    expect(excluded.body).toEqual({ more: false });
  });

  it('pages through versions with limit and next', async () => {
    const first = await get(`${base}/objects/${m1.id}/?match[version]=all&limit=2`);
    expect(first.body.objects).toEqual([m1, m2]);
    expect(first.body.more).toBe(true);
    const second = await get(`${base}/objects/${m1.id}/?match[version]=all&limit=2&next=${encodeURIComponent(first.body.next)}`);
    expect(second.body).toEqual({ more: false, objects: [m3] });
  });
});

describe('Get Object Versions (TAXII §5.8)', () => {
  it('lists every version string in date_added order, with date headers', async () => {
    const res = await get(`${base}/objects/${m1.id}/versions/`);
    expect(res.body).toEqual({ more: false, versions: [m1.modified, m2.modified, m3.modified] });
    expect(res.headers['x-taxii-date-added-first']).toMatch(TIMESTAMP);
  });

  it('pages with limit, more and next', async () => {
    const first = await get(`${base}/objects/${m1.id}/versions/?limit=1`);
    expect(first.body.versions).toEqual([m1.modified]);
    expect(first.body.more).toBe(true);
    expect(first.body.next).toEqual(expect.any(String));
    const rest = await get(`${base}/objects/${m1.id}/versions/?limit=5&next=${encodeURIComponent(first.body.next)}`);
    expect(rest.body.versions).toEqual([m2.modified, m3.modified]);
  });

  it('answers 404 for an unknown object and {} for a spec version it does not have', async () => {
    expect((await get(`${base}/objects/malware--0b3e3c02-5d7a-4b8a-9f55-5e0c4b8d7f11/versions/`)).status).toBe(404);
    expect((await get(`${base}/objects/${m1.id}/versions/?match[spec_version]=2.0`)).body).toEqual({ more: false });
  });
});

describe('Trailing slashes and HEAD (interop rule 10)', () => {
  it('serves every endpoint with and without the trailing slash', async () => {
    for (const path of [`${base}/objects`, `${base}/manifest`, `${base}/objects/${a.id}`, `${base}/objects/${a.id}/versions`]) {
      const withSlash = await get(`${path}/`);
      const without = await get(path);
      expect(without.status).toBe(200);
      expect(without.body).toEqual(withSlash.body);
    }
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const res = await rawRequest(t.url, { method: 'HEAD', path: `${base}/objects/`, headers: { authorization: writer } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(TAXII);
    expect(res.text).toBe('');
  });
});
