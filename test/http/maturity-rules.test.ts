import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindOrganisation, saveProfile } from '../../src/db/view-policies.js';
import { applySeed, SeedError, type Seed } from '../../src/services/provisioning.js';
import { DEFAULT_LEVELS } from '../../src/views/levels.js';
import { PolicyError, validatePolicy } from '../../src/views/policy-validation.js';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';
import { envelope, indicator, malware, TLP, type StixObject } from '../support/stix.js';

/**
 * The view layer's rules beyond the acceptance examples: profiles are checked,
 * changes apply at once and never leak, cursors survive them (rule 8), writes
 * reveal nothing (rule 9), transparency and previews (rule 10), fail-closed.
 */
const COLLECTION = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c41';
const PASSWORD = 'maturity rules password';
const seed: Seed = {
  api_roots: [{ id: 'hub', title: 'Hub' }],
  collections: [{ id: COLLECTION, api_root: 'hub', title: 'Feed', alias: 'feed' }],
  organisations: [{ name: 'Producer' }, { name: 'Clinic' }, { name: 'Unbound' }, { name: 'Operators' }],
  accounts: [
    { username: 'producer', organisation: 'Producer', password: PASSWORD },
    { username: 'clinic', organisation: 'Clinic', password: PASSWORD },
    { username: 'unbound', organisation: 'Unbound', password: PASSWORD },
    { username: 'operator', organisation: 'Operators', password: PASSWORD, admin: true },
  ],
  permissions: [
    { organisation: 'Producer', collection: COLLECTION, read: true, write: true },
    { organisation: 'Clinic', collection: COLLECTION, read: true, write: true },
    { organisation: 'Unbound', collection: COLLECTION, read: true },
  ],
  profiles: [{ id: 'clinic-profile', name: 'Clinic blocklist', level: 'L1', copy_of: 'L1' }],
  bindings: [
    { organisation: 'Producer', profile: 'L4' },
    { organisation: 'Clinic', profile: 'clinic-profile' },
  ],
};

let t: TestApp;
const strong = indicator({ name: 'strong', confidence: 90, object_marking_refs: [TLP.green] });
const weak = indicator({ name: 'weak', confidence: 50, object_marking_refs: [TLP.green] });
const family = malware({ confidence: 90, object_marking_refs: [TLP.green] });

async function post(user: string, objects: StixObject[]) {
  const res = await t.http.post(`/hub/collections/${COLLECTION}/objects/`).set('Authorization', basic(user, PASSWORD)).set('Content-Type', TAXII).send(envelope(objects));
  return JSON.parse(res.text);
}

async function get(user: string, path: string, headers: Record<string, string> = {}) {
  const res = await t.http.get(`/hub/collections/${COLLECTION}/${path}`).set('Authorization', basic(user, PASSWORD)).set(headers);
  return { status: res.status, headers: res.headers as Record<string, string>, body: res.text ? JSON.parse(res.text) : undefined, text: res.text };
}

async function ids(user: string, headers: Record<string, string> = {}) {
  const res = await get(user, 'objects/?limit=1000', headers);
  return (res.body.objects ?? []).map((o: StixObject) => o.id) as string[];
}

async function editClinicProfile(minConfidence: number) {
  const l1 = DEFAULT_LEVELS.find((l) => l.id === 'L1')!.policy;
  await t.database.db.transaction().execute((trx) =>
    saveProfile(trx, { id: 'clinic-profile', name: 'Clinic blocklist', level: 'L1', policy: { ...l1, types: { ...l1.types, indicator: { min_confidence: minConfidence } } } }, 'test'),
  );
}

beforeAll(async () => {
  t = await createTestApp(seed);
  await post('producer', [strong, weak, family]);
});
afterAll(async () => t?.close());

describe('profiles are validated (maturity-design "Bad input and safety")', () => {
  it('accepts the four default levels', () => {
    for (const level of DEFAULT_LEVELS) expect(() => validatePolicy(level.policy)).not.toThrow();
  });

  it.each([
    ['a RED ceiling', { tlp_ceiling: 'red' }, /tlp_ceiling/],
    ['an unknown property', { colour: 'blue' }, /unknown property "colour"/],
    ['a floor above 100', { types: { indicator: { min_confidence: 101 } } }, /min_confidence/],
    ['relationship types on another type', { types: { malware: { relationship_types: ['uses'] } } }, /relationship_types applies only to the relationship type/],
    ['no type at all', { types: {} }, /allows no object type/],
    ['pattern classes without STIX patterns', { indicators: { pattern_types: ['snort'], pattern_class: 'atomic' } }, /pattern_class.*does not allow "stix"/],
    ['an observable that is not a cyber-observable', { indicators: { observable_types: ['domain'] } }, /"domain" does not name/],
    ['an unknown retraction mode', { revoked_expired: 'sometimes' }, /revoked_expired must be one of/],
  ])('refuses %s with a message naming the property', (_name, change, message) => {
    const l1 = DEFAULT_LEVELS.find((l) => l.id === 'L1')!.policy;
    expect(() => validatePolicy({ ...l1, ...change })).toThrow(PolicyError);
    expect(() => validatePolicy({ ...l1, ...change })).toThrow(message);
  });

  it('refuses a malformed profile in a seed and changes nothing', async () => {
    const before = await t.database.db.selectFrom('maturity_profiles').selectAll().execute();
    await expect(
      applySeed(t.database.db, { profiles: [{ id: 'broken', name: 'Broken', policy: { types: {}, tlp_ceiling: 'red' } }] }, { scryptCost: 1024 }),
    ).rejects.toThrow(SeedError);
    expect(await t.database.db.selectFrom('maturity_profiles').selectAll().execute()).toEqual(before);
  });
});

describe('policy changes', () => {
  it('fails closed: an organisation without a binding cannot read (can_read false, 403 on objects)', async () => {
    const collection = await t.http.get(`/hub/collections/${COLLECTION}/`).set('Authorization', basic('unbound', PASSWORD));
    expect(JSON.parse(collection.text)).toMatchObject({ can_read: false });
    expect((await get('unbound', 'objects/')).status).toBe(403);
  });

  it('applies a stricter profile revision to the very next request (no stale view)', async () => {
    expect(await ids('clinic')).toEqual([strong.id]);
    await editClinicProfile(95);
    expect(await ids('clinic')).toEqual([]);
    await editClinicProfile(80);
    expect(await ids('clinic')).toEqual([strong.id]);
  });

  it('keeps an old cursor valid across a profile change: nothing missed, nothing leaked (rule 8)', async () => {
    const extra = Array.from({ length: 6 }, (_, i) => indicator({ name: `extra ${i}`, confidence: 60 + i, object_marking_refs: [TLP.green] }));
    await post('producer', extra);
    await editClinicProfile(80);
    const first = await get('clinic', 'objects/?limit=1');
    expect(first.body.more).toBe(false);
    const lastSeen = first.headers['x-taxii-date-added-last']!;
    await editClinicProfile(60);
    const after = await get('clinic', `objects/?limit=100&added_after=${lastSeen}`);
    const newlyVisible = (after.body.objects as StixObject[]).map((o) => o.id);
    for (const o of extra) expect(newlyVisible).toContain(o.id);
    expect(newlyVisible).not.toContain(weak.id);
    await editClinicProfile(80);
  });

  it('lets a cursor issued before a change continue after it, under the new policy', async () => {
    await editClinicProfile(60);
    const page = await get('clinic', 'objects/?limit=2');
    expect(page.body.more).toBe(true);
    const next = page.body.next as string;
    await editClinicProfile(65);
    const rest: string[] = [];
    let query = `limit=2&next=${encodeURIComponent(next)}`;
    for (;;) {
      const res = await get('clinic', `objects/?${query}`);
      expect(res.status).toBe(200);
      rest.push(...(res.body.objects ?? []).map((o: StixObject & { confidence: number }) => o.confidence));
      if (!res.body.more) break;
      query = `limit=2&next=${encodeURIComponent(res.body.next)}`;
    }
    expect(rest.length).toBeGreaterThan(0);
    for (const confidence of rest) expect(confidence).toBeGreaterThanOrEqual(65);
    await editClinicProfile(80);
  });

  it('accepts an authentic cursor issued before a binding change, never a 400 (interop rule 3)', async () => {
    await editClinicProfile(60);
    const page = await get('clinic', 'objects/?limit=1');
    expect(page.body.more).toBe(true);
    const bind = (profile: string) =>
      t.database.db.transaction().execute(async (trx) => {
        const org = await trx.selectFrom('organisations').select('id').where('name', '=', 'Clinic').executeTakeFirstOrThrow();
        await bindOrganisation(trx, org.id, profile);
      });
    await bind('L3');
    try {
      const res = await get('clinic', `objects/?limit=100&next=${encodeURIComponent(page.body.next)}`);
      expect(res.status).toBe(200);
      expect((res.body.objects as StixObject[]).map((o) => o.id)).toContain(family.id); // L3 sees malware
    } finally {
      await bind('clinic-profile');
      await editClinicProfile(80);
    }
  });
});

describe('writes and deletes leak nothing (rules 1 and 9)', () => {
  it('gives a writer the same status for an id it cannot see as for a new one', async () => {
    const hiddenFromClinic = weak; // confidence 50: hidden by the clinic profile
    const fresh = indicator({ name: 'fresh', confidence: 50, object_marking_refs: [TLP.green] });
    const status = await post('clinic', [hiddenFromClinic, fresh]);
    expect(status.successes).toEqual([
      { id: hiddenFromClinic.id, version: hiddenFromClinic.modified },
      { id: fresh.id, version: fresh.modified },
    ]);
  });

  it('answers 404 to a DELETE of an object hidden from the caller, and deletes nothing', async () => {
    const res = await t.http.delete(`/hub/collections/${COLLECTION}/objects/${family.id}/`).set('Authorization', basic('clinic', PASSWORD));
    expect(res.status).toBe(404);
    expect(await ids('producer')).toContain(family.id);
  });
});

describe('transparency and previews (rule 10)', () => {
  it('tells the reader which profile shapes its view', async () => {
    const res = await t.http.get('/hub/collections/feed/').set('Authorization', basic('clinic', PASSWORD));
    expect(JSON.parse(res.text).x_taxii_hub_view).toEqual({ profile: 'clinic-profile', revision: expect.any(Number), level: 'L1' });
  });

  it('lets an operator preview an organisation\'s view and a profile\'s view', async () => {
    expect(await ids('operator', { 'X-Taxii-Hub-View-Organisation': 'Clinic' })).toEqual(await ids('clinic'));
    const asL4 = await ids('operator', { 'X-Taxii-Hub-View-Profile': 'L4' });
    expect(asL4).toContain(family.id);
    expect(await ids('operator', { 'X-Taxii-Hub-View-Profile': 'L1' })).not.toContain(family.id);
    expect((await get('operator', 'objects/', { 'X-Taxii-Hub-View-Profile': 'nope' })).status).toBe(400);
  });

  it('ignores preview headers from readers who are not operators', async () => {
    expect(await ids('clinic', { 'X-Taxii-Hub-View-Profile': 'L4' })).toEqual(await ids('clinic'));
  });

  it('binds an operator\'s preview cursor to the previewed subject', async () => {
    const preview = await get('operator', 'objects/?limit=1', { 'X-Taxii-Hub-View-Profile': 'L4' });
    const next = preview.body.next as string;
    expect((await get('operator', `objects/?next=${encodeURIComponent(next)}`)).status).toBe(400);
    expect((await get('operator', `objects/?next=${encodeURIComponent(next)}`, { 'X-Taxii-Hub-View-Profile': 'L4' })).status).toBe(200);
  });
});
