import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestApp, rawRequest, TAXII, type TestApp } from '../support/test-app.js';
import { COLLECTION, PASSWORD, READ_ONLY_COLLECTION, standardSeed } from '../support/fixtures.js';
import { envelope, indicator, ipv4, malware, revise, ts } from '../support/stix.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp(standardSeed());
});
afterAll(async () => t?.close());

const writer = basic('writer', PASSWORD);
const objectsPath = `/api1/collections/${COLLECTION}/objects/`;

function post(body: string | Buffer, contentType = TAXII, path = objectsPath) {
  return rawRequest(t.url, {
    method: 'POST',
    path,
    headers: { authorization: writer, accept: TAXII, 'content-type': contentType },
    body,
  });
}

async function fetchObject(id: string, query = '') {
  return t.http.get(`${objectsPath}${id}/${query}`).set('Authorization', writer);
}

describe('Add Objects (TAXII §5.5)', () => {
  it('answers 202 with a complete status resource counting every object', async () => {
    const objects = [indicator(), malware(), ipv4('203.0.113.7')];
    const res = await post(envelope(objects));
    expect(res.status).toBe(202);
    expect(res.headers['content-type']).toBe(TAXII);
    const status = JSON.parse(res.text);
    expect(status).toMatchObject({ status: 'complete', total_count: 3, success_count: 3, failure_count: 0, pending_count: 0 });
    expect(status.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(status.request_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(status.successes.map((s: { id: string }) => s.id)).toEqual(objects.map((o) => o.id));
    expect(status.successes[0].version).toBe(objects[0]!.modified);
    expect(status).not.toHaveProperty('failures');
  });

  it('serves the status resource again from the status endpoint (TAXII §4.3)', async () => {
    const posted = JSON.parse((await post(envelope([indicator()]))).text);
    const res = await t.http.get(`/api1/status/${posted.id}/`).set('Authorization', writer);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual(posted);
  });

  it('hides a status resource from other organisations (404 as for an unknown id)', async () => {
    const posted = JSON.parse((await post(envelope([indicator()]))).text);
    const res = await t.http.get(`/api1/status/${posted.id}/`).set('Authorization', basic('reader', PASSWORD));
    expect(res.status).toBe(404);
  });

  it('stores the valid objects of a mixed submission and lists each failure with a readable message', async () => {
    const good = indicator();
    const bad = indicator({ confidence: 101 });
    const badModified = malware({ modified: '2020-01-01T00:00:00.000Z' });
    const res = await post(envelope([good, bad, 'not an object', badModified]));
    expect(res.status).toBe(202);
    const status = JSON.parse(res.text);
    expect(status).toMatchObject({ total_count: 4, success_count: 1, failure_count: 3, pending_count: 0 });
    expect(status.failures.map((f: { id: string }) => f.id)).toEqual([bad.id, 'objects[2]', badModified.id]);
    for (const failure of status.failures) {
      expect(failure.message).toEqual(expect.any(String));
      expect(failure.message.length).toBeGreaterThan(5);
      expect(failure.version).toEqual(expect.any(String));
    }
    expect(status.failures[0].message).toMatch(/confidence/);
    expect(status.failures[2].message).toMatch(/modified/);
    expect((await fetchObject(good.id)).status).toBe(200);
    expect((await fetchObject(bad.id)).status).toBe(404);
  });

  it('treats a re-posted id and version as a success that stores nothing twice, keeping the first copy', async () => {
    const original = indicator({ name: 'first copy' });
    await post(envelope([original]));
    const changed = { ...original, name: 'second copy, same version' };
    const res = await post(envelope([changed, original]));
    const status = JSON.parse(res.text);
    expect(status).toMatchObject({ success_count: 2, failure_count: 0 });
    const stored = JSON.parse((await fetchObject(original.id, '?match[version]=all')).text);
    expect(stored.objects).toEqual([original]);
  });

  it('treats a re-posted SCO (no created/modified) as the same single version', async () => {
    const sco = ipv4('192.0.2.55');
    const first = JSON.parse((await post(envelope([sco]))).text);
    const second = JSON.parse((await post(envelope([{ ...sco, x_note: 'different' }]))).text);
    expect(second.successes[0].version).toBe(first.successes[0].version);
    expect(first.successes[0].version).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const versions = JSON.parse((await t.http.get(`${objectsPath}${sco.id}/versions/`).set('Authorization', writer)).text);
    expect(versions.versions).toEqual([first.successes[0].version]);
  });

  it('keeps every version of an object', async () => {
    const v1 = indicator();
    const v2 = revise(v1, ts(60), { name: 'v2' });
    const v3 = revise(v1, ts(120), { name: 'v3' });
    await post(envelope([v2]));
    await post(envelope([v1, v3]));
    const versions = JSON.parse((await t.http.get(`${objectsPath}${v1.id}/versions/`).set('Authorization', writer)).text);
    expect(versions.versions).toEqual([v2.modified, v1.modified, v3.modified]);
    const latest = JSON.parse((await fetchObject(v1.id)).text);
    expect(latest.objects).toEqual([v3]);
  });

  it('accepts a STIX bundle as application/stix+json;version=2.1 (interop rule 11)', async () => {
    const object = indicator();
    const bundle = { type: 'bundle', id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d', objects: [object] };
    const res = await post(JSON.stringify(bundle), 'application/stix+json;version=2.1');
    expect(res.status).toBe(202);
    expect(JSON.parse(res.text).success_count).toBe(1);
  });

  it('accepts a bundle-shaped body sent as the TAXII media type', async () => {
    const bundle = { type: 'bundle', id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56e', objects: [indicator()] };
    const res = await post(JSON.stringify(bundle));
    expect(res.status).toBe(202);
  });

  it('rejects a bundle inside objects as a failure: a bundle is not a STIX object (TAXII §3.7)', async () => {
    const inner = { type: 'bundle', id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56f', objects: [indicator()] };
    const status = JSON.parse((await post(envelope([inner]))).text);
    expect(status.failure_count).toBe(1);
    expect(status.failures[0].message).toMatch(/bundle/i);
  });

  it('answers 415 for unsupported content types and versions', async () => {
    for (const type of ['text/plain', 'application/xml', 'application/taxii+json;version=2.0', 'application/stix+json;version=2.0']) {
      const res = await post(envelope([indicator()]), type);
      expect(res.status).toBe(415);
      expect(res.headers['content-type']).toBe(TAXII);
      expect(JSON.parse(res.text).title).toBe('Unsupported media type');
    }
  });

  it('answers 400 for bodies that are not JSON or not UTF-8, and for nesting beyond the limit', async () => {
    const cases: (string | Buffer)[] = [
      '{"objects": [',
      "{'objects': []}",
      '{"objects": [] /* comment */}',
      Buffer.from([0x7b, 0x22, 0x6f, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
      `{"objects": [${'['.repeat(200)}${']'.repeat(200)}]}`,
    ];
    for (const body of cases) {
      const res = await post(body);
      expect(res.status, `${String(body).slice(0, 40)} → ${res.text}`).toBe(400);
      expect(res.headers['content-type']).toBe(TAXII);
      expect(JSON.parse(res.text).description).toEqual(expect.any(String));
    }
  });

  it('answers 422 for JSON that is not an envelope', async () => {
    for (const body of ['[]', '"objects"', '{}', '{"objects": {}}', '{"objects": []}', '{"objects": [{}], "more": "yes"}', '{"type": "bundle", "objects": []}', '{"type":"report","objects":[]}']) {
      const res = await post(body);
      expect(res.status).toBe(422);
      expect(JSON.parse(res.text).title).toBe('Unprocessable content');
    }
  });

  it('answers 400 for an empty body', async () => {
    const res = await post('');
    expect([400, 415]).toContain(res.status);
    expect(res.headers['content-type']).toBe(TAXII);
  });

  it('answers 403 to a caller that may read but not write, and 404 to one without any right', async () => {
    const readOnly = await post(envelope([indicator()]), TAXII, `/api1/collections/${READ_ONLY_COLLECTION}/objects/`);
    expect(readOnly.status).toBe(403);
    const outsider = await t.http
      .post(objectsPath)
      .set('Authorization', basic('outsider', PASSWORD))
      .set('Content-Type', TAXII)
      .send(envelope([indicator()]));
    expect(outsider.status).toBe(404);
  });
});

describe('max_content_length (TAXII §4.2.1; interop rule 9)', () => {
  it('accepts a body just under the limit and refuses one over it with 413', async () => {
    const limit = 1024 * 1024;
    const padded = (size: number) => {
      const base = envelope([indicator({ description: '' })]);
      return base.replace('"description":""', `"description":"${'x'.repeat(size - base.length)}"`);
    };
    const under = await post(padded(limit - 1));
    expect(under.status).toBe(202);
    const over = await post(padded(limit + 1));
    expect(over.status).toBe(413);
    expect(over.headers['content-type']).toBe(TAXII);
    expect(JSON.parse(over.text).title).toBe('Payload too large');
  });

  it('refuses a chunked body (no Content-Length) once it passes the limit', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const res = await rawRequest(t.url, {
      method: 'POST',
      path: objectsPath,
      headers: { authorization: writer, 'content-type': TAXII, 'transfer-encoding': 'chunked' },
      chunks: ['{"objects":[', ...Array<Buffer>(20).fill(chunk), ']}'],
    });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toBe(TAXII);
  });
});
