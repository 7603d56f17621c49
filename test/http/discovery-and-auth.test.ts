import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';
import { PASSWORD, standardSeed, WRITER_KEY } from '../support/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp(standardSeed());
});
afterAll(async () => t?.close());

const writer = basic('writer', PASSWORD);

function expectTaxiiError(res: { status: number; headers: Record<string, string>; body: unknown }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe(TAXII);
  const body = JSON.parse((res as unknown as { text: string }).text) as Record<string, unknown>;
  expect(body.title).toEqual(expect.any(String));
  expect(body.http_status).toBe(String(status));
  expect(body.error_id).toEqual(expect.any(String));
  return body;
}

describe('Server Discovery (TAXII §4.1)', () => {
  it('serves the discovery resource at /taxii2/ with the API roots the caller may use', async () => {
    const res = await t.http.get('/taxii2/').set('Authorization', writer).set('Accept', TAXII);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(TAXII);
    const body = JSON.parse(res.text);
    expect(body.title).toEqual(expect.any(String));
    expect(body.api_roots).toEqual(['/api1/']);
    expect(body.default).toBe('/api1/');
  });

  it('lists every API root to an admin', async () => {
    const res = await t.http.get('/taxii2/').set('Authorization', basic('admin', PASSWORD));
    expect(JSON.parse(res.text).api_roots).toEqual(['/api1/', '/api2/']);
  });

  it('omits api_roots rather than sending an empty list (TAXII §2: lists are never empty)', async () => {
    const res = await t.http.get('/taxii2/').set('Authorization', basic('outsider', PASSWORD));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).not.toHaveProperty('api_roots');
  });

  it('works without the trailing slash, without redirecting (interop rule 10)', async () => {
    const res = await t.http.get('/taxii2').set('Authorization', writer);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).api_roots).toEqual(['/api1/']);
  });
});

describe('API Root information (TAXII §4.2)', () => {
  it('advertises its title, versions and max_content_length', async () => {
    const res = await t.http.get('/api1/').set('Authorization', writer);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      title: 'Sharing hub',
      description: 'Test root',
      versions: ['application/taxii+json;version=2.1'],
      max_content_length: 1024 * 1024,
    });
  });

  it('answers 404 for an unknown API root and for one the caller has no collection in', async () => {
    const unknown = await t.http.get('/nope/').set('Authorization', writer);
    const foreign = await t.http.get('/api2/').set('Authorization', writer);
    const a = expectTaxiiError(unknown, 404);
    const b = expectTaxiiError(foreign, 404);
    expect(a.title).toBe(b.title);
  });
});

describe('Authentication (TAXII §1.6.9, interop rule 7)', () => {
  it('answers 401 with a WWW-Authenticate challenge and a TAXII error without credentials', async () => {
    for (const path of ['/taxii2/', '/api1/', '/api1/collections/', '/api1/status/7dbb4f3d-0b6f-4e1b-8b5c-6d2f1b7f0a11/']) {
      const res = await t.http.get(path);
      expectTaxiiError(res, 401);
      expect(res.headers['www-authenticate']).toMatch(/Basic realm="TAXII"/);
    }
  });

  it('answers 401 for a wrong password, an unknown user, a malformed header and an unknown scheme', async () => {
    for (const header of [basic('writer', 'wrong'), basic('ghost', PASSWORD), 'Basic !!!', 'Digest abc', 'Bearer', `Bearer thk_0123456789abcdef01234567_${'B'.repeat(43)}`]) {
      const res = await t.http.get('/taxii2/').set('Authorization', header);
      expectTaxiiError(res, 401);
    }
  });

  it('accepts HTTP Basic, and API keys as Bearer or Token', async () => {
    for (const header of [writer, `Bearer ${WRITER_KEY}`, `Token ${WRITER_KEY}`, `bearer ${WRITER_KEY}`]) {
      const res = await t.http.get('/api1/').set('Authorization', header);
      expect(res.status).toBe(200);
    }
  });
});

describe('Content negotiation (TAXII §1.6.8, §3.1; interop rule 2)', () => {
  it.each([
    'application/taxii+json;version=2.1',
    'application/taxii+json',
    'application/taxii+json; version=2.1',
    'application/taxii+json;version="2.1"',
    'APPLICATION/TAXII+JSON;VERSION=2.1',
    '*/*',
    'application/*',
    'application/json',
    'application/json, text/plain, */*',
    'text/html;q=0.9, application/taxii+json;version=2.1;q=0.5',
    'application/taxii+json;version=2.1,application/stix+json;version=2.1',
  ])('serves Accept: %s', async (accept) => {
    const res = await t.http.get('/api1/').set('Authorization', writer).set('Accept', accept);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(TAXII);
  });

  it.each(['application/taxii+json;version=2.0', 'application/xml', 'text/html', 'application/taxii+json;q=0', 'application/stix+json;version=2.1'])(
    'answers 406 with a TAXII error for Accept: %s',
    async (accept) => {
      const res = await t.http.get('/api1/').set('Authorization', writer).set('Accept', accept);
      expectTaxiiError(res, 406);
    },
  );
});

describe('Errors (TAXII §3.6; interop rule 1)', () => {
  it('renders unknown paths as a 404 TAXII error resource', async () => {
    const res = await t.http.get('/api1/unknown/thing/').set('Authorization', writer);
    expectTaxiiError(res, 404);
  });

  it('answers 405 with Allow for a method an endpoint does not take', async () => {
    const res = await t.http.put('/taxii2/').set('Authorization', writer);
    expectTaxiiError(res, 405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });
});

describe('Public discovery (configuration)', () => {
  let open: TestApp;
  beforeAll(async () => {
    open = await createTestApp(standardSeed(), {}, { PUBLIC_DISCOVERY: 'true' });
  });
  afterAll(async () => open?.close());

  it('serves discovery and API roots without credentials when configured public', async () => {
    const discovery = await open.http.get('/taxii2/');
    expect(discovery.status).toBe(200);
    expect(JSON.parse(discovery.text).api_roots).toEqual(['/api1/', '/api2/']);
    expect((await open.http.get('/api1/')).status).toBe(200);
  });

  it('still requires credentials for collections, and rejects wrong ones on public endpoints', async () => {
    expectTaxiiError(await open.http.get('/api1/collections/'), 401);
    expectTaxiiError(await open.http.get('/taxii2/').set('Authorization', basic('writer', 'wrong')), 401);
  });
});
