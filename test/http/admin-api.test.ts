import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LEVELS } from '../../src/views/levels.js';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';
import { envelope, indicator, malware, TLP } from '../support/stix.js';

/**
 * The admin API (/admin): admin accounts only, every input validated, every
 * change audited and transactional, keys shown once and revocable at once.
 */
const PASSWORD = 'admin api test password';
let t: TestApp;
const admin = basic('root', PASSWORD);
const member = basic('member', PASSWORD);

beforeAll(async () => {
  t = await createTestApp({
    api_roots: [{ id: 'hub', title: 'Hub' }],
    collections: [{ id: '3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b01', api_root: 'hub', title: 'Existing' }],
    organisations: [{ name: 'Operators' }, { name: 'Members' }],
    accounts: [
      { username: 'root', organisation: 'Operators', password: PASSWORD, admin: true },
      { username: 'member', organisation: 'Members', password: PASSWORD },
    ],
    permissions: [{ organisation: 'Members', collection: '3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b01', read: true }],
    bindings: [{ organisation: 'Members', profile: 'L4' }],
  });
});
afterAll(async () => t?.close());

function call(method: 'get' | 'post' | 'patch' | 'put' | 'delete', path: string, body?: unknown, auth = admin) {
  const req = t.http[method](`/admin${path}`).set('Authorization', auth).set('Accept', 'application/json');
  return (body === undefined ? req : req.send(body as object)).then((res) => ({
    status: res.status,
    type: res.headers['content-type'] as string,
    body: res.text ? JSON.parse(res.text) : undefined,
  }));
}

describe('access to the admin API', () => {
  it('refuses non-admin accounts with 403 and the same answer whether the target exists or not', async () => {
    const existing = await call('get', '/collections/3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b01', undefined, member);
    const missing = await call('get', '/collections/00000000-0000-4000-8000-000000000000', undefined, member);
    expect(existing.status).toBe(403);
    expect(missing.status).toBe(403);
    expect({ ...existing.body, error_id: 0 }).toEqual({ ...missing.body, error_id: 0 });
    expect((await call('post', '/organisations', { name: 'x' }, member)).status).toBe(403);
  });

  it('answers 401 without credentials, with a JSON error resource', async () => {
    const res = await t.http.get('/admin/organisations');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.text)).toMatchObject({ http_status: '401', error_id: expect.any(String) });
  });
});

describe('API roots and collections', () => {
  it('creates, reads, changes and deletes an API root', async () => {
    const created = await call('post', '/api-roots', { id: 'partners', title: 'Partners', max_content_length: 2048 });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: 'partners', title: 'Partners', description: null, max_content_length: 2048, default: false });
    expect((await call('patch', '/api-roots/partners', { title: 'Partner feeds' })).body.title).toBe('Partner feeds');
    const taxii = await t.http.get('/partners/').set('Authorization', admin);
    expect(JSON.parse(taxii.text)).toMatchObject({ title: 'Partner feeds', max_content_length: 2048 });
    expect((await call('delete', '/api-roots/partners')).status).toBe(204);
    expect((await call('get', '/api-roots/partners')).status).toBe(404);
  });

  it('validates input with a clear message (unknown property, wrong type, reserved id, duplicate)', async () => {
    const unknown = await call('post', '/api-roots', { id: 'x1', title: 'X', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.description).toMatch(/additional properties/i);
    const wrongType = await call('post', '/api-roots', { id: 'x2', title: 'X', max_content_length: '10' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.description).toMatch(/max_content_length/);
    expect((await call('post', '/api-roots', { id: 'admin', title: 'X' })).status).toBe(400);
    expect((await call('post', '/api-roots', { id: 'hub', title: 'Again' })).status).toBe(409);
  });

  it('creates a collection with a generated UUIDv4 and view settings, and refuses a duplicate alias', async () => {
    const created = await call('post', '/collections', { api_root: 'hub', title: 'Blocklist', alias: 'blocklist', default_tlp: 'green', pinned_profile: 'L1' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ api_root: 'hub', title: 'Blocklist', alias: 'blocklist', default_tlp: 'green', pinned_profile: 'L1' });
    expect(created.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect((await call('post', '/collections', { api_root: 'hub', title: 'Other', alias: 'blocklist' })).status).toBe(409);
    const changed = await call('patch', `/collections/${created.body.id}`, { pinned_profile: null, default_confidence: 70 });
    expect(changed.body).toMatchObject({ pinned_profile: null, default_confidence: 70 });
  });

  it('leaves nothing behind when an operation fails half-way (transaction)', async () => {
    const before = (await call('get', '/collections')).body.length;
    const failed = await call('post', '/collections', { api_root: 'hub', title: 'Pinned to nothing', pinned_profile: 'no-such-profile' });
    expect(failed.status).toBe(400);
    expect(failed.body.description).toMatch(/no-such-profile/);
    expect((await call('get', '/collections')).body.length).toBe(before);
  });

  it('sets and removes permissions of an organisation', async () => {
    const { body: org } = await call('post', '/organisations', { name: 'Clinic North' });
    const id = '3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b01';
    expect((await call('put', `/collections/${id}/permissions/${org.id}`, { read: true, write: false })).body).toMatchObject({ organisation: 'Clinic North', read: true, write: false });
    expect((await call('get', `/collections/${id}/permissions`)).body.map((p: { organisation: string }) => p.organisation)).toContain('Clinic North');
    expect((await call('delete', `/collections/${id}/permissions/Clinic North`)).status).toBe(204);
    expect((await call('delete', `/collections/${id}/permissions/Clinic North`)).status).toBe(404);
  });
});

describe('accounts and API keys', () => {
  it('creates an account whose password works for TAXII and is stored only as a hash', async () => {
    const created = await call('post', '/accounts', { username: 'sentinel', organisation: 'Members', password: 'a long enough password' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: 'sentinel', organisation: 'Members', admin: false, has_password: true });
    expect(JSON.stringify(created.body)).not.toContain('a long enough password');
    const row = await t.database.db.selectFrom('accounts').select('password_hash').where('username', '=', 'sentinel').executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect((await t.http.get('/taxii2/').set('Authorization', basic('sentinel', 'a long enough password'))).status).toBe(200);
  });

  it('refuses a short password and an unknown organisation', async () => {
    expect((await call('post', '/accounts', { username: 'weak', organisation: 'Members', password: 'short' })).status).toBe(400);
    expect((await call('post', '/accounts', { username: 'lost', organisation: 'Nowhere' })).status).toBe(404);
  });

  it('shows a new key once, lists keys without secrets, and revokes a key with immediate effect', async () => {
    const key = await call('post', '/accounts/member/api-keys', { label: 'siem' });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^thk_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);
    const bearer = `Bearer ${key.body.key}`;
    expect((await t.http.get('/taxii2/').set('Authorization', bearer)).status).toBe(200);
    const listed = await call('get', '/accounts/member/api-keys');
    expect(listed.body.map((k: { key_id: string }) => k.key_id)).toContain(key.body.key_id);
    expect(JSON.stringify(listed.body)).not.toContain(key.body.key.split('_')[2]);
    expect((await call('post', `/api-keys/${key.body.key_id}/revoke`)).body.revoked_at).toEqual(expect.any(String));
    expect((await t.http.get('/taxii2/').set('Authorization', bearer)).status).toBe(401);
  });

  it('rotates a key: the old one stops working, the new one works', async () => {
    const first = (await call('post', '/accounts/member/api-keys', { label: 'rotating' })).body;
    const rotated = await call('post', `/api-keys/${first.key_id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ label: 'rotating', replaces: first.key_id });
    expect((await t.http.get('/taxii2/').set('Authorization', `Bearer ${first.key}`)).status).toBe(401);
    expect((await t.http.get('/taxii2/').set('Authorization', `Bearer ${rotated.body.key}`)).status).toBe(200);
  });

  it('disables an account at once', async () => {
    await call('post', '/accounts', { username: 'temp', organisation: 'Members', password: 'another long password' });
    expect((await t.http.get('/taxii2/').set('Authorization', basic('temp', 'another long password'))).status).toBe(200);
    await call('patch', '/accounts/temp', { disabled: true });
    expect((await t.http.get('/taxii2/').set('Authorization', basic('temp', 'another long password'))).status).toBe(401);
  });
});

describe('maturity profiles, bindings, grants and previews', () => {
  const collection = '3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b01';

  it('refuses a malformed profile, listing every problem', async () => {
    const res = await call('post', '/profiles', { id: 'bad', name: 'Bad', policy: { types: {}, tlp_ceiling: 'red', revoked_expired: 'exclude', unspecified_confidence: 'deny', closure: true } });
    expect(res.status).toBe(400);
    expect(res.body.details.problems.join(' ')).toMatch(/tlp_ceiling/);
  });

  it('copies a profile, edits it into a new revision, and keeps the history', async () => {
    const copy = await call('post', '/profiles', { id: 'clinic-strict', name: 'Clinic (strict)', level: 'L1', copy_of: 'L1' });
    expect(copy.status).toBe(201);
    expect(copy.body).toMatchObject({ id: 'clinic-strict', revision: 1 });
    const l1 = DEFAULT_LEVELS.find((l) => l.id === 'L1')!.policy;
    const edited = await call('patch', '/profiles/clinic-strict', { policy: { ...l1, types: { ...l1.types, indicator: { min_confidence: 95 } } } });
    expect(edited.body.revision).toBe(2);
    expect(edited.body.revisions.map((r: { revision: number }) => r.revision)).toEqual([1, 2]);
    expect(edited.body.revisions[1].policy.types.indicator.min_confidence).toBe(95);
  });

  it('binds an organisation to a profile, which changes what it reads at once', async () => {
    const strong = indicator({ confidence: 99, object_marking_refs: [TLP.green] });
    const weak = indicator({ confidence: 85, object_marking_refs: [TLP.green] });
    const family = malware({ confidence: 90, object_marking_refs: [TLP.green] });
    await t.http.post(`/hub/collections/${collection}/objects/`).set('Authorization', admin).set('Content-Type', TAXII).send(envelope([strong, weak, family]));
    const read = async () => JSON.parse((await t.http.get(`/hub/collections/${collection}/objects/`).set('Authorization', member)).text).objects?.map((o: { id: string }) => o.id) ?? [];
    expect(await read()).toEqual(expect.arrayContaining([strong.id, weak.id, family.id]));
    const bound = await call('put', '/organisations/Members/binding', { profile: 'clinic-strict' });
    expect(bound.body).toMatchObject({ organisation: 'Members', profile: 'clinic-strict' });
    expect(bound.body.history.map((h: { profile: string }) => h.profile)).toEqual(['clinic-strict', 'L4']);
    expect(await read()).toEqual([strong.id]);
    expect((await call('put', '/organisations/Members/binding', { profile: 'nope' })).status).toBe(400);
  });

  it('previews any organisation\'s or profile\'s view: counts by type and TLP, and the first page', async () => {
    const preview = await call('get', `/collections/${collection}/preview?organisation=Members&limit=10`);
    expect(preview.status).toBe(200);
    expect(preview.body.view).toMatchObject({ profile: 'clinic-strict', revision: 2 });
    expect(preview.body.counts).toMatchObject({ total: 1, by_type: { indicator: 1 }, by_tlp: { green: 1 } });
    expect(preview.body.objects).toHaveLength(1);
    const asL4 = await call('get', `/collections/${collection}/preview?profile=L4`);
    expect(asL4.body.counts.by_type).toMatchObject({ indicator: 2, malware: 1 });
  });

  it('grants an object to an organisation and withdraws it', async () => {
    const red = indicator({ confidence: 99, object_marking_refs: [TLP.red] });
    await t.http.post(`/hub/collections/${collection}/objects/`).set('Authorization', admin).set('Content-Type', TAXII).send(envelope([red]));
    const seesRed = async () => (await t.http.get(`/hub/collections/${collection}/objects/${red.id}/`).set('Authorization', member)).status;
    expect(await seesRed()).toBe(404);
    expect((await call('post', `/collections/${collection}/grants`, { object: red.id, organisation: 'Members' })).status).toBe(201);
    expect(await seesRed()).toBe(200);
    expect((await call('get', `/collections/${collection}/grants`)).body.map((g: { object: string }) => g.object)).toEqual([red.id]);
    expect((await t.http.delete(`/admin/collections/${collection}/grants`).set('Authorization', admin).send({ object: red.id, organisation: 'Members' })).status).toBe(204);
    expect(await seesRed()).toBe(404);
  });

  it('sets creator confidence defaults', async () => {
    const identity = 'identity--7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2f10';
    expect((await call('put', `/creator-confidence/${identity}`, { confidence: 75 })).body).toEqual({ identity, confidence: 75 });
    expect((await call('get', '/creator-confidence')).body).toEqual([{ identity, confidence: 75 }]);
    expect((await call('delete', `/creator-confidence/${identity}`)).status).toBe(204);
  });
});

describe('the audit trail', () => {
  it('records who changed what, and when, without secrets', async () => {
    const { body } = await call('get', '/audit?limit=500');
    const actions = body.map((e: { action: string }) => e.action);
    for (const action of ['api-root.create', 'collection.create', 'account.create', 'api-key.create', 'api-key.revoke', 'api-key.rotate', 'profile.create', 'profile.edit', 'binding.set', 'grant.add', 'grant.remove', 'permission.set']) {
      expect(actions, action).toContain(action);
    }
    expect(body.every((e: { actor: string; at: string }) => e.actor === 'account:root' && !Number.isNaN(Date.parse(e.at)))).toBe(true);
    const text = JSON.stringify(body);
    expect(text).not.toContain('a long enough password');
    expect(text).not.toMatch(/thk_[0-9a-f]{24}_/);
  });

  it('filters the trail by target', async () => {
    const { body } = await call('get', '/audit?target_type=profile&target_id=clinic-strict');
    expect(body.map((e: { action: string }) => e.action)).toEqual(['profile.edit', 'profile.create']);
  });
});
