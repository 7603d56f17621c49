import { v4 as uuidv4 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Seed } from '../../src/services/provisioning.js';
import { COLLECTION, HIDDEN_COLLECTION, PASSWORD, standardSeed, WRITER_KEY } from '../support/fixtures.js';
import { expectErrorResource } from '../support/hostile.js';
import { envelope, indicator, malware, TLP, type StixObject } from '../support/stix.js';
import { basic, createTestApp, rawRequest, TAXII, type RawResponse, type TestApp } from '../support/test-app.js';

/**
 * Who may do what (README "Behaviour worth knowing", TAXII §1.6.9 and the
 * 403/404 rules of §5): every kind of caller against every TAXII endpoint and
 * a sample of the admin API, with the exact status of each cell. Beyond the
 * statuses: 401s carry WWW-Authenticate and do not tell the five kinds of bad
 * credentials apart; no answer that is not a 2xx holds a stored object's id
 * or name (other than an id the request itself named); and a 404 for what a
 * caller may not see is the 404 of something that does not exist (the same
 * body, modulo the id named and error_id).
 */

// Who: [authorization header or none, whether the API root /api1/ is visible to it].
const REVOKED_KEY = 'thk_fedcba9876543210fedcba98_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
const ACCOUNTS = {
  'no credentials': undefined,
  'wrong password': basic('writer', 'not the password'),
  'unknown user': basic('ghost', PASSWORD),
  'revoked API key': `Bearer ${REVOKED_KEY}`,
  'disabled account': basic('dormant', PASSWORD),
  'read-only member': basic('reader', PASSWORD),
  'write-only member': basic('scribe', PASSWORD),
  'read-write member': `Bearer ${WRITER_KEY}`,
  'other organisation': basic('outsider', PASSWORD),
  'no maturity binding': basic('unbound', PASSWORD),
  admin: basic('admin', PASSWORD),
} as const;
type Account = keyof typeof ACCOUNTS;

/**
 * The expected status of every cell. Endpoints: discovery GET /taxii2/; api-root GET /api1/;
 * status GET /api1/status/{id of a POST by the read-write member's organisation}/; collections
 * GET /api1/collections/; collection GET …/{COLLECTION}/; objects GET …/objects/; add POST
 * …/objects/; object GET …/objects/{id}/; delete DELETE …/objects/{id}/; versions GET
 * …/objects/{id}/versions/; manifest GET …/manifest/; admin-list GET /admin/organisations;
 * admin-create POST /admin/organisations; admin-delete DELETE /admin/organisations/Doomed.
 */
const MATRIX = `
 account             | discovery | api-root | status | collections | collection | objects | add | object | delete | versions | manifest | admin-list | admin-create | admin-delete
 no credentials      | 401       | 401      | 401    | 401         | 401        | 401     | 401 | 401    | 401    | 401      | 401      | 401        | 401          | 401
 wrong password      | 401       | 401      | 401    | 401         | 401        | 401     | 401 | 401    | 401    | 401      | 401      | 401        | 401          | 401
 unknown user        | 401       | 401      | 401    | 401         | 401        | 401     | 401 | 401    | 401    | 401      | 401      | 401        | 401          | 401
 revoked API key     | 401       | 401      | 401    | 401         | 401        | 401     | 401 | 401    | 401    | 401      | 401      | 401        | 401          | 401
 disabled account    | 401       | 401      | 401    | 401         | 401        | 401     | 401 | 401    | 401    | 401      | 401      | 401        | 401          | 401
 read-only member    | 200       | 200      | 404    | 200         | 200        | 200     | 403 | 200    | 403    | 200      | 200      | 403        | 403          | 403
 write-only member   | 200       | 200      | 404    | 200         | 200        | 403     | 202 | 403    | 403    | 403      | 403      | 403        | 403          | 403
 read-write member   | 200       | 200      | 200    | 200         | 200        | 200     | 202 | 200    | 200    | 200      | 200      | 403        | 403          | 403
 other organisation  | 200       | 404      | 404    | 404         | 404        | 404     | 404 | 404    | 404    | 404      | 404      | 403        | 403          | 403
 no maturity binding | 200       | 200      | 404    | 200         | 200        | 403     | 202 | 403    | 403    | 403      | 403      | 403        | 403          | 403
 admin               | 200       | 200      | 200    | 200         | 200        | 200     | 202 | 200    | 200    | 200      | 200      | 200        | 201          | 204
`;

function parseMatrix(text: string): { endpoints: string[]; expected: Map<Account, Map<string, number>> } {
  const [header, ...rows] = text.trim().split('\n').map((line) => line.split('|').map((cell) => cell.trim()));
  const endpoints = header!.slice(1);
  const expected = new Map<Account, Map<string, number>>();
  for (const [account, ...cells] of rows) {
    expect(Object.keys(ACCOUNTS), `matrix row ${account}`).toContain(account);
    expect(cells, `matrix row ${account}`).toHaveLength(endpoints.length);
    expected.set(account as Account, new Map(cells.map((cell, i) => [endpoints[i]!, Number(cell)])));
  }
  return { endpoints, expected };
}
const { endpoints: ENDPOINTS, expected: EXPECTED } = parseMatrix(MATRIX);

const SCRIBES = 'Scribes';
function seed(): Seed {
  const base = standardSeed();
  return {
    ...base,
    organisations: [...base.organisations!, { name: SCRIBES }, { name: 'Unbound' }, { name: 'Doomed' }],
    accounts: [
      ...base.accounts!,
      { username: 'scribe', organisation: SCRIBES, password: PASSWORD },
      { username: 'unbound', organisation: 'Unbound', password: PASSWORD },
      { username: 'dormant', organisation: 'Hub', password: PASSWORD, disabled: true },
      { username: 'keyholder', organisation: 'Hub', password: PASSWORD, api_keys: [{ label: 'to revoke', key: REVOKED_KEY }] },
    ],
    permissions: [
      ...base.permissions!,
      { organisation: SCRIBES, collection: COLLECTION, read: false, write: true },
      { organisation: 'Unbound', collection: COLLECTION, read: true, write: true },
    ],
    bindings: [...base.bindings!, { organisation: SCRIBES, profile: 'L4' }],
  };
}

let t: TestApp;
let statusId = '';
/** Stored objects: the one every cell reads, one per account that may delete, and one no reader may see (TLP:RED). */
const shared = indicator({ name: 'MATRIX-SECRET shared indicator' });
const red = malware({ name: 'MATRIX-SECRET red malware', object_marking_refs: [TLP.red] });
const sacrificial = new Map<Account, StixObject>();
const allStored: StixObject[] = [];

beforeAll(async () => {
  t = await createTestApp(seed());
  for (const account of Object.keys(ACCOUNTS) as Account[]) {
    if ([200, 204].includes(EXPECTED.get(account)!.get('delete')!)) sacrificial.set(account, indicator({ name: `MATRIX-SECRET for ${account} to delete` }));
  }
  allStored.push(shared, red, ...sacrificial.values());
  const res = await t.http.post(`/api1/collections/${COLLECTION}/objects/`).set('Authorization', `Bearer ${WRITER_KEY}`).set('Content-Type', TAXII).send(envelope(allStored));
  expect(res.status, res.text).toBe(202);
  const status = JSON.parse(res.text) as { id: string; success_count: number };
  expect(status.success_count).toBe(allStored.length);
  statusId = status.id;
  const revoked = await t.http.post('/admin/api-keys/fedcba9876543210fedcba98/revoke').set('Authorization', ACCOUNTS.admin);
  expect(revoked.status, revoked.text).toBe(200);
});
afterAll(async () => t?.close());

interface Call {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
}

const base = `/api1/collections/${COLLECTION}`;
function callFor(endpoint: string, account: Account): Call {
  const objectId = shared.id;
  switch (endpoint) {
    case 'discovery':
      return { method: 'GET', path: '/taxii2/' };
    case 'api-root':
      return { method: 'GET', path: '/api1/' };
    case 'status':
      return { method: 'GET', path: `/api1/status/${statusId}/` };
    case 'collections':
      return { method: 'GET', path: '/api1/collections/' };
    case 'collection':
      return { method: 'GET', path: `${base}/` };
    case 'objects':
      return { method: 'GET', path: `${base}/objects/` };
    case 'add':
      return { method: 'POST', path: `${base}/objects/`, body: envelope([indicator({ name: `posted by ${account}` })]), contentType: TAXII };
    case 'object':
      return { method: 'GET', path: `${base}/objects/${objectId}/` };
    case 'delete':
      return { method: 'DELETE', path: `${base}/objects/${(sacrificial.get(account) ?? shared).id}/` };
    case 'versions':
      return { method: 'GET', path: `${base}/objects/${objectId}/versions/` };
    case 'manifest':
      return { method: 'GET', path: `${base}/manifest/` };
    case 'admin-list':
      return { method: 'GET', path: '/admin/organisations' };
    case 'admin-create':
      return { method: 'POST', path: '/admin/organisations', body: JSON.stringify({ name: `Created by ${account}` }), contentType: 'application/json' };
    case 'admin-delete':
      return { method: 'DELETE', path: '/admin/organisations/Doomed' };
  }
  throw new Error(`no call for ${endpoint}`);
}

function send(call: Call, authorization: string | undefined, extraHeaders: Record<string, string> = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { accept: call.path.startsWith('/admin/') ? 'application/json' : TAXII, ...extraHeaders };
  if (authorization !== undefined) headers.authorization = authorization;
  if (call.body !== undefined) {
    headers['content-type'] = call.contentType!;
    headers['content-length'] = String(Buffer.byteLength(call.body));
  }
  return rawRequest(t.url, { method: call.method, path: call.path, headers, ...(call.body !== undefined ? { body: call.body } : {}) });
}

/** Stored object ids and names a response holds that the request did not name itself. */
function leakedObjects(res: RawResponse, call: Call, objects: readonly StixObject[] = allStored): string[] {
  return objects.flatMap((o) => [o.id, o.name as string]).filter((s) => res.text.includes(s) && !call.path.includes(s) && !(call.body ?? '').includes(s));
}

/** An error body with the named identifiers and error_id blanked out, for comparing 404s. */
function normalised(res: RawResponse, identifiers: string[]): unknown {
  let text = res.text;
  for (const id of identifiers) text = text.split(id).join('<id>');
  const body = JSON.parse(text) as Record<string, unknown>;
  return { ...body, error_id: '<error_id>' };
}

/** The same call with what the caller may not see replaced by things that do not exist. */
function nonexistentTwin(call: Call, rootVisible: boolean): { call: Call; identifiers: string[] } {
  const fakes: [string, string][] = [
    [COLLECTION, uuidv4()],
    [statusId, uuidv4()],
    ...allStored.map((o): [string, string] => [o.id, `${o.type}--${uuidv4()}`]),
    ...(rootVisible ? [] : [['/api1/', '/api9/'] as [string, string]]),
  ];
  let path = call.path;
  for (const [real, fake] of fakes) path = path.split(real).join(fake);
  return { call: { ...call, path }, identifiers: fakes.flatMap(([real, fake]) => [real, fake]) };
}

const results = new Map<string, RawResponse>();

describe('the access matrix', () => {
  // Rows in table order: the admin row (which deletes Doomed) comes last.
  for (const account of Object.keys(ACCOUNTS) as Account[]) {
    it(`${account}: ${ENDPOINTS.map((e) => `${e} ${EXPECTED.get(account)!.get(e)}`).join(', ')}`, async () => {
      const failures: string[] = [];
      for (const endpoint of ENDPOINTS) {
        const call = callFor(endpoint, account);
        const res = await send(call, ACCOUNTS[account]);
        results.set(`${account}|${endpoint}`, res);
        const want = EXPECTED.get(account)!.get(endpoint)!;
        if (res.status !== want) failures.push(`${endpoint}: ${call.method} ${call.path} answered ${res.status}, expected ${want}: ${res.text.slice(0, 200)}`);
      }
      expect(failures).toEqual([]);
    });
  }
});

describe('what the answers reveal', () => {
  const cells = () => [...results].map(([key, res]) => {
    const [account, endpoint] = key.split('|') as [Account, string];
    return { account, endpoint, res, call: callFor(endpoint, account) };
  });

  it('answers every cell (the matrix ran)', () => {
    expect(results.size).toBe(Object.keys(ACCOUNTS).length * ENDPOINTS.length);
  });

  it('renders every error as the error resource: TAXII media type on TAXII endpoints, JSON on /admin', () => {
    for (const { account, endpoint, res, call } of cells()) {
      if (res.status >= 400) expectErrorResource(res, res.status, { admin: call.path.startsWith('/admin/'), context: `${account} × ${endpoint}` });
      else if (!call.path.startsWith('/admin/')) expect(res.headers['content-type'], `${account} × ${endpoint}`).toBe(TAXII);
    }
  });

  it('challenges with WWW-Authenticate on every 401, with one body for all five kinds of bad credentials', () => {
    for (const endpoint of ENDPOINTS) {
      const bodies = cells()
        .filter((c) => c.endpoint === endpoint && c.res.status === 401)
        .map(({ account, res }) => {
          expect(res.headers['www-authenticate'], `${account} × ${endpoint}`).toMatch(/^Basic realm="TAXII"/);
          return normalised(res, []);
        });
      expect(bodies).toHaveLength(5);
      for (const body of bodies) expect(body).toEqual(bodies[0]);
    }
  });

  it('never names a stored object in an answer that is not a 2xx', () => {
    for (const { account, endpoint, res, call } of cells()) {
      if (res.status >= 200 && res.status < 300) continue;
      expect(leakedObjects(res, call), `${account} × ${endpoint}: ${res.text}`).toEqual([]);
    }
  });

  it('shows no reader but the admin the TLP:RED object, in any answer', () => {
    for (const { account, endpoint, res, call } of cells()) {
      // The submitter's own status resource lists what it posted, the RED object included.
      if (account === 'admin' || (account === 'read-write member' && endpoint === 'status')) continue;
      expect(leakedObjects(res, call, [red]), `${account} × ${endpoint}`).toEqual([]);
    }
    const adminManifest = results.get('admin|manifest')!;
    expect(adminManifest.text).toContain(red.id);
  });

  it('shows the organisation without permissions nothing of the collection in its 2xx answers either', () => {
    for (const { endpoint, res } of cells().filter((c) => c.account === 'other organisation' && c.res.status < 300)) {
      expect(res.text, endpoint).not.toContain(COLLECTION);
      expect(res.text, endpoint).not.toContain('Indicators');
      expect(res.text, endpoint).not.toContain('/api1/');
    }
  });

  it('answers a 404 for what the caller may not see exactly as for what does not exist', async () => {
    const rootVisible = (account: Account) => EXPECTED.get(account)!.get('api-root') === 200;
    let compared = 0;
    for (const { account, endpoint, res, call } of cells()) {
      if (res.status !== 404) continue;
      const twin = nonexistentTwin(call, rootVisible(account));
      const other = await send(twin.call, ACCOUNTS[account]);
      expect(other.status, `${account} × ${endpoint}: ${twin.call.path}`).toBe(404);
      expect(normalised(res, twin.identifiers), `${account} × ${endpoint}`).toEqual(normalised(other, twin.identifiers));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(12);
  });

  it('hides the TLP:RED object and a collection without permission rows behind the same 404 as nothing', async () => {
    for (const account of ['read-only member', 'read-write member'] as const) {
      for (const suffix of ['/', '/versions/']) {
        const hidden = await send({ method: 'GET', path: `${base}/objects/${red.id}${suffix}` }, ACCOUNTS[account]);
        const fake = `malware--${uuidv4()}`;
        const missing = await send({ method: 'GET', path: `${base}/objects/${fake}${suffix}` }, ACCOUNTS[account]);
        expect(hidden.status, account).toBe(404);
        expect(normalised(hidden, [red.id, fake])).toEqual(normalised(missing, [red.id, fake]));
        expect(hidden.text).not.toContain(red.name as string);
      }
      const filtered = await send({ method: 'GET', path: `${base}/objects/?match[id]=${red.id}` }, ACCOUNTS[account]);
      expect(filtered.status).toBe(200);
      expect(JSON.parse(filtered.text).objects).toBeUndefined();
    }
    const fakeCollection = uuidv4();
    const hiddenCollection = await send({ method: 'GET', path: `/api1/collections/${HIDDEN_COLLECTION}/objects/` }, ACCOUNTS['read-write member']);
    const missingCollection = await send({ method: 'GET', path: `/api1/collections/${fakeCollection}/objects/` }, ACCOUNTS['read-write member']);
    expect(hiddenCollection.status).toBe(404);
    expect(normalised(hiddenCollection, [HIDDEN_COLLECTION, fakeCollection])).toEqual(normalised(missingCollection, [HIDDEN_COLLECTION, fakeCollection]));
  });

  it('answers a non-admin the same 403 on the admin API whether the target exists or not', async () => {
    for (const account of ['read-only member', 'read-write member', 'other organisation'] as const) {
      const existing = await send({ method: 'DELETE', path: '/admin/organisations/Hub' }, ACCOUNTS[account]);
      const missing = await send({ method: 'DELETE', path: '/admin/organisations/No such organisation' }, ACCOUNTS[account]);
      expect(existing.status).toBe(403);
      expect(normalised(existing, [])).toEqual(normalised(missing, []));
    }
  });

  it('deleted only what the allowed cells deleted', async () => {
    const manifest = JSON.parse((await send({ method: 'GET', path: `${base}/manifest/?match[version]=all&limit=1000` }, ACCOUNTS.admin)).text) as { objects: { id: string }[] };
    const ids = new Set(manifest.objects.map((o) => o.id));
    expect(ids.has(shared.id)).toBe(true);
    expect(ids.has(red.id)).toBe(true);
    for (const [account, object] of sacrificial) expect(ids.has(object.id), account).toBe(false);
  });
});
