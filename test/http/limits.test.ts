import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { projectRoot } from '../../src/project-root.js';
import type { Seed } from '../../src/services/provisioning.js';
import { COLLECTION, PASSWORD, standardSeed } from '../support/fixtures.js';
import { ADMIN_JSON, expectErrorResource, rawExchange } from '../support/hostile.js';
import { envelope, indicator, ts, type StixObject } from '../support/stix.js';
import { basic, createTestApp, rawRequest, TAXII, type RawResponse, type TestApp } from '../support/test-app.js';

/**
 * Every resource limit (README, "Limits"): enforced with a clear TAXII error
 * resource, at the documented boundary, and documented. The limits that are
 * configuration are lowered here (MAX_OBJECTS_PER_ENVELOPE, PAGE_MAX_LIMIT)
 * so that the boundary is cheap to reach; their defaults are checked against
 * the README table.
 */
const SMALL = '5d0c9f3e-2b7a-4e61-8c5d-3f9a1b2c4d11';
const SMALL_LIMIT = 2048;
const MAX_OBJECTS = 5;
const PAGE_MAX = 3;
const writer = basic('writer', PASSWORD);
const admin = basic('admin', PASSWORD);
const objectsPath = `/api1/collections/${COLLECTION}/objects/`;
const smallPath = `/small/collections/${SMALL}/objects/`;

function seed(): Seed {
  const base = standardSeed();
  return {
    ...base,
    api_roots: [...base.api_roots!, { id: 'small', title: 'Small bodies', max_content_length: SMALL_LIMIT }],
    collections: [...base.collections!, { id: SMALL, api_root: 'small', title: 'Small' }],
    permissions: [...base.permissions!, { organisation: 'Hub', collection: SMALL, read: true, write: true }],
  };
}

let t: TestApp;
const stored: StixObject[] = [];
beforeAll(async () => {
  t = await createTestApp(seed(), {}, { MAX_OBJECTS_PER_ENVELOPE: String(MAX_OBJECTS), PAGE_MAX_LIMIT: String(PAGE_MAX), PAGE_DEFAULT_LIMIT: '2' });
  for (let i = 0; i < 5; i++) stored.push(indicator({ name: `limits ${i}`, created: ts(i) }));
  const res = await post(objectsPath, envelope(stored));
  expect(res.status, res.text).toBe(202);
});
afterAll(async () => t?.close());

function post(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(t.url, {
    method: 'POST',
    path,
    headers: { authorization: writer, 'content-type': TAXII, 'content-length': String(Buffer.byteLength(body)), ...headers },
    body,
  });
}
function get(path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(t.url, { method: 'GET', path, headers: { authorization: writer, accept: TAXII, ...headers } });
}
function adminCall(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(t.url, {
    method,
    path,
    headers: { authorization: admin, ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers },
    ...(body !== undefined ? { body } : {}),
  });
}
/** A request written on the socket as is: Host and Connection: close added. */
function raw(requestLine: string, headers: string[] = [], body = ''): Promise<RawResponse> {
  const host = new URL(t.url).host;
  return rawExchange(t.url, [requestLine, `Host: ${host}`, `Authorization: ${writer}`, 'Connection: close', ...headers, '', body].join('\r\n'));
}

/** An envelope of one valid indicator padded with spaces to exactly `size` bytes. */
function paddedEnvelope(size: number): string {
  const text = envelope([indicator()]);
  expect(text.length).toBeLessThanOrEqual(size);
  return text.slice(0, -1) + ' '.repeat(size - text.length) + '}';
}

async function storedCount(collection: string, root = 'api1'): Promise<number> {
  const res = await get(`/${root}/collections/${collection}/manifest/?match[version]=all&limit=${PAGE_MAX}`);
  expect(res.status, res.text).toBe(200);
  const body = JSON.parse(res.text) as { objects?: unknown[]; more?: boolean };
  return (body.objects?.length ?? 0) + (body.more ? 1000 : 0);
}

describe("request body: the API root's max_content_length (TAXII §4.2.1) → 413", () => {
  it('accepts a body of exactly max_content_length bytes', async () => {
    const res = await post(smallPath, paddedEnvelope(SMALL_LIMIT));
    expect(res.status, res.text).toBe(202);
  });

  it('refuses a declared Content-Length one byte over, before reading it, with the limit in details', async () => {
    const body = expectErrorResource(await post(smallPath, paddedEnvelope(SMALL_LIMIT + 1)), 413);
    expect(body.description).toMatch(/max_content_length of 2048 bytes/);
    expect(body.details).toEqual({ max_content_length: SMALL_LIMIT });
  });

  it('refuses a chunked body as soon as it passes the limit, and one far over it', async () => {
    const chunks = Array.from({ length: 6 }, () => Buffer.alloc(512, 0x20));
    chunks[0] = Buffer.from('{"objects":[' + ' '.repeat(500));
    const res = await rawRequest(t.url, { method: 'POST', path: smallPath, headers: { authorization: writer, 'content-type': TAXII }, chunks });
    expectErrorResource(res, 413);
    const huge = await rawRequest(t.url, {
      method: 'POST',
      path: smallPath,
      headers: { authorization: writer, 'content-type': TAXII },
      chunks: Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 0x20)),
    });
    expectErrorResource(huge, 413);
  });

  it('accepts a chunked body within the limit', async () => {
    const text = paddedEnvelope(SMALL_LIMIT);
    const res = await rawRequest(t.url, { method: 'POST', path: smallPath, headers: { authorization: writer, 'content-type': TAXII }, chunks: [text.slice(0, 1000), text.slice(1000)] });
    expect(res.status, res.text).toBe(202);
  });

  it('answers 413 on the raw socket too: the answer arrives, the connection is not reset', async () => {
    const res = await raw(`POST ${smallPath} HTTP/1.1`, [`Content-Type: ${TAXII}`, `Content-Length: ${10 * 1024 * 1024}`], '{"objects":[');
    expectErrorResource(res, 413);
  });

  it('limits admin API bodies to 1 MiB (declared or chunked) with a JSON error resource', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024) });
    expectErrorResource(await adminCall('POST', '/admin/organisations', big), 413, { admin: true });
    const chunked = await rawRequest(t.url, {
      method: 'POST',
      path: '/admin/organisations',
      headers: { authorization: admin, 'content-type': 'application/json' },
      chunks: [big.slice(0, 600_000), big.slice(600_000)],
    });
    expectErrorResource(chunked, 413, { admin: true });
  });
});

describe('JSON nesting: MAX_JSON_DEPTH (64) → 400', () => {
  const nested = (depth: number) => '{"objects":[' + '['.repeat(depth - 2) + ']'.repeat(depth - 2) + ']}';

  it('reads a body nested exactly 64 deep, and refuses 65 before parsing it', async () => {
    const ok = await post(objectsPath, nested(64));
    expect(ok.status, ok.text).toBe(202); // parsed; the inner arrays are not STIX objects, so they are failures
    expect(JSON.parse(ok.text).failure_count).toBe(1);
    const res = expectErrorResource(await post(objectsPath, nested(65)), 400);
    expect(res.description).toMatch(/nested deeper than 64 levels/);
  });

  it('refuses hostile nesting (100,000 levels) at once, in TAXII and in the admin API', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const started = Date.now();
    expectErrorResource(await post(objectsPath, `{"objects":${deep}}`), 400);
    const adminRes = expectErrorResource(await adminCall('POST', '/admin/organisations', `{"name":"x","a":${deep}}`), 400, { admin: true });
    expect(adminRes.description).toMatch(/nested deeper than 64 levels/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('applies the same depth to admin bodies (a policy 65 deep is refused for its depth, 64 for its content)', async () => {
    const policy = (depth: number) => JSON.stringify({ id: `deep-${depth}`, name: 'Deep', policy: JSON.parse('{"a":'.repeat(depth - 1) + '1' + '}'.repeat(depth - 1)) });
    const tooDeep = expectErrorResource(await adminCall('POST', '/admin/profiles', policy(65)), 400, { admin: true });
    expect(tooDeep.description).toMatch(/nested deeper than 64 levels/);
    const deepEnough = expectErrorResource(await adminCall('POST', '/admin/profiles', policy(64)), 400, { admin: true });
    expect(deepEnough.description).not.toMatch(/nested deeper/);
  });
});

describe(`objects per POST: MAX_OBJECTS_PER_ENVELOPE (${MAX_OBJECTS} here) → 422`, () => {
  it('stores an envelope of exactly the maximum, and refuses one more with the maximum in details', async () => {
    const ok = await post(smallPath, envelope(Array.from({ length: MAX_OBJECTS }, () => ({ type: 'x' }))));
    expect(ok.status, ok.text).toBe(202);
    const res = expectErrorResource(await post(objectsPath, envelope(Array.from({ length: MAX_OBJECTS + 1 }, () => indicator()))), 422);
    expect(res.description).toMatch(/at most 5 are accepted per request/);
    expect(res.details).toEqual({ max_objects: MAX_OBJECTS });
  });

  it('counts the members of a STIX bundle the same way, and stores nothing of a refused body', async () => {
    const before = await storedCount(COLLECTION);
    const bundle = JSON.stringify({ type: 'bundle', id: 'bundle--6a1c4f5e-0d7b-4b8e-9a3c-2f1e0d9c8b7a', objects: Array.from({ length: MAX_OBJECTS + 1 }, () => indicator()) });
    expectErrorResource(await post(objectsPath, bundle, { 'content-type': 'application/stix+json;version=2.1' }), 422);
    expect(await storedCount(COLLECTION)).toBe(before);
  });
});

describe('values per match[...]: MAX_MATCH_VALUES (100) → 400', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => (i < stored.length ? stored[i]!.id : `indicator--${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`)).join(',');
  const values: Record<string, (n: number) => string> = {
    'match[id]': ids,
    'match[type]': (n) => Array.from({ length: n }, (_, i) => `x-type-${i}`).join(','),
    'match[version]': (n) => Array.from({ length: n }, (_, i) => ts(i).replace('.000Z', 'Z')).join(','),
    'match[spec_version]': (n) => Array.from({ length: n }, (_, i) => `2.${i}`).join(','),
  };

  it.each(Object.keys(values))('accepts 100 values of %s and refuses 101, on objects and manifest', async (key) => {
    for (const endpoint of ['objects', 'manifest']) {
      const path = `/api1/collections/${COLLECTION}/${endpoint}/?${key}=`;
      const ok = await get(path + encodeURIComponent(values[key]!(100)));
      expect(ok.status, ok.text).toBe(200);
      const res = expectErrorResource(await get(path + encodeURIComponent(values[key]!(101))), 400);
      expect(res.description).toMatch(new RegExp(`lists 101 values; at most 100 are accepted`));
    }
  });

  it('applies to one object, its versions and DELETE as well', async () => {
    const id = stored[0]!.id;
    expectErrorResource(await get(`${objectsPath}${id}/?match[version]=${values['match[version]']!(101)}`), 400);
    expectErrorResource(await get(`${objectsPath}${id}/versions/?match[spec_version]=${values['match[spec_version]']!(101)}`), 400);
    const del = await rawRequest(t.url, { method: 'DELETE', path: `${objectsPath}${id}/?match[version]=${values['match[version]']!(101)}`, headers: { authorization: writer } });
    expectErrorResource(del, 400);
    expect(await storedCount(COLLECTION)).toBeGreaterThan(0);
  });
});

describe(`page size: limit is capped at PAGE_MAX_LIMIT (${PAGE_MAX} here) with more: true; 0, negative and non-integers → 400`, () => {
  it.each(['objects', 'manifest'])('caps a larger limit on %s and pages on with next', async (endpoint) => {
    for (const limit of ['4', '1000', '9007199254740991']) {
      const res = await get(`/api1/collections/${COLLECTION}/${endpoint}/?limit=${limit}`);
      expect(res.status, res.text).toBe(200);
      const body = JSON.parse(res.text) as { objects: unknown[]; more: boolean; next?: string };
      expect(body.objects).toHaveLength(PAGE_MAX);
      expect(body.more).toBe(true);
      expect(body.next).toEqual(expect.any(String));
    }
  });

  it('uses PAGE_DEFAULT_LIMIT without limit', async () => {
    const res = JSON.parse((await get(objectsPath)).text) as { objects: unknown[]; more: boolean };
    expect(res.objects).toHaveLength(2);
    expect(res.more).toBe(true);
  });

  it.each(['0', '-1', '-0', '1.5', '1e3', '', ' ', 'abc', '0x10', '9007199254740992', '99999999999999999999', '1,2'])('answers 400 to limit=%j', async (limit) => {
    const res = expectErrorResource(await get(`${objectsPath}?limit=${encodeURIComponent(limit)}`), 400);
    expect(res.description).toMatch(/limit must be a positive integer/);
  });

  it('answers 400 to a repeated limit', async () => {
    expectErrorResource(await get(`${objectsPath}?limit=1&limit=2`), 400);
  });
});

describe('URL length: a path segment over 300 characters → 414; request line and headers over 16 KiB → 431', () => {
  it('answers a 301-character path segment with a TAXII 414, and 300 characters normally', async () => {
    for (const path of [`/${'a'.repeat(301)}/`, `/api1/collections/${'c'.repeat(301)}/objects/`, `${objectsPath}indicator--${'0'.repeat(300)}/`]) {
      const res = expectErrorResource(await get(path), 414);
      expect(res.description).toMatch(/longer than this server accepts \(300 characters\)/);
    }
    expectErrorResource(await get(`/api1/collections/${'c'.repeat(300)}/objects/`), 404);
    expectErrorResource(await rawRequest(t.url, { method: 'GET', path: `/admin/organisations/${'o'.repeat(301)}`, headers: { authorization: admin } }), 414, { admin: true });
  });

  it('answers a request line over 16 KiB with a TAXII 431 (not a reset, not Fastify JSON)', async () => {
    const res = await get(`${objectsPath}?added_after=${'x'.repeat(17 * 1024)}`);
    const body = expectErrorResource(res, 431);
    expect(body.description).toMatch(/16 KiB/);
    expect(res.headers.connection).toBe('close');
    const viaSocket = await raw(`GET /api1/collections/${'c'.repeat(20_000)}/ HTTP/1.1`);
    expectErrorResource(viaSocket, 431);
  });

  it('serves a long query within the limit (13 KiB, 1,400 parameters; unknown ones are ignored)', async () => {
    const params = Array.from({ length: 1400 }, (_, i) => `p${i}=${i}`).join('&');
    expect(params.length).toBeGreaterThan(13_000);
    const res = await get(`${objectsPath}?${params}`);
    expect(res.status, res.text).toBe(200);
    expect(JSON.parse(res.text).objects).toHaveLength(2);
  });

  it('refuses a next cursor longer than 8,192 characters with 400', async () => {
    const res = expectErrorResource(await get(`${objectsPath}?next=${'a'.repeat(8193)}`), 400);
    expect(res.description).toMatch(/not a cursor issued by this server/);
  });
});

describe("headers: over 16 KiB in all (Node's --max-http-header-size) → 431; malformed ones → 400", () => {
  it('answers a 17 KiB header, and many headers adding up to 17 KiB, with a TAXII 431', async () => {
    expectErrorResource(await get('/taxii2/', { 'x-padding': 'p'.repeat(17 * 1024) }), 431);
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, 'v'.repeat(90)]));
    expectErrorResource(await get('/taxii2/', many), 431);
    // Under /admin too: the parser refuses it before routing, and may have read past the request line, so it is always TAXII.
    expectErrorResource(await rawRequest(t.url, { method: 'GET', path: '/admin/organisations', headers: { authorization: admin, 'x-padding': 'p'.repeat(17 * 1024) } }), 431);
  });

  it('serves headers just under the limit, and a 15 KiB Authorization is only a 401', async () => {
    expect((await get('/taxii2/', { 'x-padding': 'p'.repeat(15 * 1024) })).status).toBe(200);
    const res = await rawRequest(t.url, { method: 'GET', path: '/taxii2/', headers: { authorization: `Bearer ${'k'.repeat(15 * 1024)}` } });
    expectErrorResource(res, 401);
  });

  it('answers what the HTTP parser refuses with a TAXII 400 on the socket: NUL in a header, raw bytes in the path, a bad Content-Length, an unknown method', async () => {
    const cases = [
      raw('GET /taxii2/ HTTP/1.1', ['X-Nul: a\u0000b']),
      rawExchange(t.url, Buffer.concat([Buffer.from('GET /api1/collections/'), Buffer.from([0xff, 0xfe]), Buffer.from(`/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)])),
      raw(`POST ${objectsPath} HTTP/1.1`, [`Content-Type: ${TAXII}`, 'Content-Length: abc'], '{}'),
      raw(`POST ${objectsPath} HTTP/1.1`, [`Content-Type: ${TAXII}`, 'Content-Length: 2', 'Content-Length: 3'], '{}'),
      raw('FROBNICATE /taxii2/ HTTP/1.1'),
      raw('GET /taxii2/ HTTP/9.9'),
      raw('GET /taxii2/ HTTP/1.1', ['Bad Header Name: x']),
    ];
    for (const res of await Promise.all(cases)) expectErrorResource(res, 400);
  });

  it('answers raw bytes in the header values (obs-text) as ordinary values', async () => {
    const res = await rawExchange(t.url, Buffer.concat([Buffer.from(`GET /taxii2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: ${writer}\r\nX-Bytes: `), Buffer.from([0xc0, 0xaf, 0xff]), Buffer.from('\r\n\r\n')]));
    expect(res.status).toBe(200);
  });
});

describe('text the database cannot store: U+0000 and unpaired surrogates', () => {
  it('refuses them in path segments and query values with a 400 (TAXII and admin)', async () => {
    expectErrorResource(await get('/api1/collections/a%00b/'), 400);
    expectErrorResource(await get(`${objectsPath}?x=%00`), 400);
    expectErrorResource(await get('/api1/collections/%ED%A0%80/'), 400);
    expectErrorResource(await adminCall('GET', '/admin/accounts?organisation=%00'), 400, { admin: true });
    expectErrorResource(await adminCall('GET', '/admin/organisations/x%00'), 400, { admin: true });
  });

  it('refuses them anywhere in admin bodies, naming where', async () => {
    const res = expectErrorResource(await adminCall('POST', '/admin/organisations', '{"name":"a\\u0000b"}'), 400, { admin: true });
    expect(res.description).toMatch(/^body\.name holds U\+0000 or an unpaired surrogate/);
    expectErrorResource(await adminCall('POST', '/admin/api-roots', '{"id":"x1","title":"\\ud800"}'), 400, { admin: true });
  });

  it('lists an object with U+0000 in an indexed property as a failure, stores the others, and keeps hostile ids out of the stored status', async () => {
    const bad = indicator({ pattern_type: 'stix\u0000' });
    const fine = indicator({ description: 'NUL in a description is kept: \u0000' });
    const body = JSON.stringify({ objects: [bad, fine, { type: 'indicator', id: 'indicator--\u0000\ud800' }] });
    const res = await post(objectsPath, body);
    expect(res.status, res.text).toBe(202);
    const status = JSON.parse(res.text) as { id: string; success_count: number; failures: { id: string; message: string }[] };
    expect(status.success_count).toBe(1);
    expect(status.failures[0]).toMatchObject({ id: bad.id, message: expect.stringMatching(/U\+0000/) });
    expect(status.failures[1]!.id).toBe('indicator--\uFFFD\uFFFD');
    const again = await get(`/api1/status/${status.id}/`);
    expect(again.status).toBe(200);
    const served = JSON.parse((await get(`${objectsPath}${fine.id}/`)).text) as { objects: StixObject[] };
    expect(served.objects[0]!.description).toBe(fine.description);
  });
});

describe("README's Limits table", () => {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Limits'), readme.indexOf('\n## ', readme.indexOf('## Limits') + 5));

  it('documents every limit this file checks, with its answer', () => {
    for (const [row, answer] of [
      ['request body', '413'],
      ['admin API body', '413'],
      ['malformed HTTP', '400'],
      ['JSON nesting', '400'],
      ['objects per POST', '422'],
      ['values per `match[...]`', '400'],
      ['page size', 'more: true'],
      ['`limit`', '400'],
      ['path segment', '414'],
      ['request line and headers', '431'],
      ['query parameters', '400'],
      ['`next`', '400'],
      ['text the database cannot store', '400'],
    ] as const) {
      const line = table.split('\n').find((l) => l.startsWith(`| ${row} |`));
      expect(line, `a row for ${row}`).toBeDefined();
      expect(line, row).toContain(answer);
    }
  });

  it('gives the configured defaults', () => {
    const defaults = loadConfig({});
    expect(table).toContain(`\`MAX_JSON_DEPTH\` (${defaults.maxJsonDepth})`);
    expect(table).toContain(`\`MAX_OBJECTS_PER_ENVELOPE\` (${defaults.maxObjectsPerEnvelope.toLocaleString('en')})`);
    expect(table).toContain(`\`MAX_MATCH_VALUES\` (${defaults.maxMatchValues})`);
    expect(table).toContain(`\`PAGE_MAX_LIMIT\` (${defaults.pageMaxLimit.toLocaleString('en')})`);
  });

  it('answers the admin body limit in JSON and the TAXII ones in TAXII (content types)', async () => {
    const res = await adminCall('POST', '/admin/organisations', JSON.stringify({ name: 'x'.repeat(1024 * 1024) }));
    expect(res.headers['content-type']).toMatch(ADMIN_JSON);
  });
});
