import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';
import { COLLECTION, PASSWORD, standardSeed } from '../support/fixtures.js';
import { envelope, indicator, type StixObject } from '../support/stix.js';

/**
 * date_added is safe for pollers (TAXII §3.4.1 added_after, §3.5 option B;
 * interop rule 6): concurrent writers, long ingests committing after short
 * ones, and clients that truncate the header to milliseconds.
 */
let t: TestApp;
const writer = basic('writer', PASSWORD);
const base = `/api1/collections/${COLLECTION}`;

beforeAll(async () => {
  t = await createTestApp(standardSeed());
});
afterAll(async () => t?.close());

async function post(objects: StixObject[]) {
  const res = await t.http.post(`${base}/objects/`).set('Authorization', writer).set('Content-Type', TAXII).send(envelope(objects));
  expect(res.status).toBe(202);
}

interface Poll {
  ids: string[];
  last: string | undefined;
  more: boolean;
}

async function poll(addedAfter: string | undefined, limit: number): Promise<Poll> {
  const query = addedAfter ? `?limit=${limit}&added_after=${addedAfter}` : `?limit=${limit}`;
  const res = await t.http.get(`${base}/objects/${query}`).set('Authorization', writer).set('Accept', TAXII);
  const body = JSON.parse(res.text);
  return { ids: (body.objects ?? []).map((o: StixObject) => o.id), last: res.headers['x-taxii-date-added-last'], more: body.more };
}

describe('date_added and concurrent writers', () => {
  it('never lets an added_after poller miss an object while several writers commit concurrently', async () => {
    const posted: string[] = [];
    let writing = true;
    // Four writers: two post large envelopes (long transactions), two post single objects
    // (short ones), interleaved, so short ingests start after and commit before long ones.
    const writers = [2000, 1, 800, 1].map(async (size, w) => {
      for (let round = 0; round < (size === 1 ? 40 : 3); round++) {
        const objects = Array.from({ length: size }, (_, i) => indicator({ name: `w${w}-r${round}-${i}` }));
        await post(objects);
        posted.push(...objects.map((o) => o.id));
      }
    });
    const seen: string[] = [];
    let cursor: string | undefined;
    const poller = (async () => {
      let idle = 0;
      while (writing || idle < 2) {
        const page = await poll(cursor, 50);
        seen.push(...page.ids);
        if (page.last) cursor = page.last;
        if (page.ids.length === 0) {
          if (!writing) idle++;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    })();
    await Promise.all(writers);
    writing = false;
    await poller;
    expect(posted).toHaveLength(2000 * 3 + 800 * 3 + 40 * 2);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(posted));
  }, 180_000);

  it('gives consecutive versions date_added values at least one millisecond apart', async () => {
    await post(Array.from({ length: 200 }, (_, i) => indicator({ name: `batch ${i}` })));
    const res = await t.http.get(`${base}/manifest/?limit=1000`).set('Authorization', writer);
    const dates = JSON.parse(res.text).objects.map((r: { date_added: string }) => r.date_added);
    const micros = dates.map((d: string) => Date.parse(d) * 1000 + Number(d.slice(23, 26)));
    for (let i = 1; i < micros.length; i++) expect(micros[i] - micros[i - 1]).toBeGreaterThanOrEqual(1000);
  });

  it('lets a client that truncates X-TAXII-Date-Added-Last to milliseconds make progress (OpenCTI)', async () => {
    const marker = indicator({ name: 'marker' });
    await post([marker]);
    const markerRes = await t.http.get(`${base}/objects/${marker.id}/`).set('Authorization', writer);
    const start = markerRes.headers['x-taxii-date-added-last'] as string;
    const objects = Array.from({ length: 60 }, (_, i) => indicator({ name: `truncated ${i}` }));
    await post(objects);
    const collected = new Set<string>();
    let added = start.slice(0, 23) + 'Z';
    for (let polls = 0; polls < 100; polls++) {
      const page = await poll(added, 5);
      page.ids.forEach((id) => collected.add(id));
      if (!page.more && page.ids.length <= 1) break;
      added = page.last!.slice(0, 23) + 'Z'; // milliseconds only
    }
    for (const object of objects) expect(collected.has(object.id)).toBe(true);
  });
});
