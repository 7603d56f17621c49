import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { DeliveryAuditor, purgeAccessAudit } from '../../src/services/delivery-audit.js';
import { applySeed, type Seed } from '../../src/services/provisioning.js';
import { cliRunner, explain } from '../cli/cli-harness.js';
import { envelope, indicator, revise, ts, TLP, type StixObject } from '../support/stix.js';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';

/**
 * The delivery audit and the write log (src/services/delivery-audit.ts,
 * GET /admin/audit/deliveries, /admin/audit/deliveries/recipients,
 * /admin/audit/writes, `taxii-hub deliveries` / `writes`).
 */
const COLLECTION = '0b9c7a52-3e1d-4f6a-8b2c-5d4e3f2a1b01';
const AMBER_DEFAULT = '1c8d6b43-2f0e-4a5b-9c3d-6e5f4a3b2c02';
const PASSWORD = 'delivery audit password';

const seed: Seed = {
  api_roots: [{ id: 'isao', title: 'ISAO', max_content_length: 10 * 1024 * 1024 }],
  collections: [
    { id: COLLECTION, api_root: 'isao', title: 'Indicators', alias: 'indicators', default_tlp: 'green' },
    { id: AMBER_DEFAULT, api_root: 'isao', title: 'Unmarked is amber', alias: 'amber', default_tlp: 'amber' },
  ],
  organisations: [{ name: 'Producer' }, { name: 'Clinic' }, { name: 'Hospital' }, { name: 'Operators' }],
  profiles: [{ id: 'clinic-view', name: 'Clinic view', copy_of: 'L2' }],
  accounts: [
    { username: 'producer', organisation: 'Producer', password: PASSWORD },
    { username: 'clinic', organisation: 'Clinic', password: PASSWORD },
    { username: 'hospital', organisation: 'Hospital', password: PASSWORD },
    { username: 'operator', organisation: 'Operators', password: PASSWORD, admin: true },
  ],
  permissions: [
    { organisation: 'Producer', collection: COLLECTION, read: true, write: true },
    { organisation: 'Producer', collection: AMBER_DEFAULT, read: true, write: true },
    { organisation: 'Clinic', collection: COLLECTION, read: true },
    { organisation: 'Hospital', collection: COLLECTION, read: true },
    { organisation: 'Hospital', collection: AMBER_DEFAULT, read: true },
  ],
  bindings: [
    { organisation: 'Producer', profile: 'L4' },
    { organisation: 'Clinic', profile: 'clinic-view' },
    { organisation: 'Hospital', profile: 'L4' },
  ],
};

const ind = (name: string, value: string, markings: string[] | undefined, extra: Partial<StixObject> = {}) =>
  indicator({ name, pattern: `[ipv4-addr:value = '${value}']`, confidence: 90, ...(markings ? { object_marking_refs: markings } : {}), ...extra });
const G1 = ind('green 1', '198.51.100.1', [TLP.green]);
const G2 = ind('green 2', '198.51.100.2', [TLP.green]);
const W = ind('clear', '198.51.100.3', [TLP.white]);
const U = ind('unmarked', '198.51.100.4', undefined);
const A1 = ind('amber', '198.51.100.5', [TLP.amber]);
const A2 = revise(A1, ts(60), { name: 'amber, revised' });
const R = ind('RED', '198.51.100.66', [TLP.red]);
const U2 = ind('unmarked in an amber collection', '198.51.100.7', undefined);

let t: TestApp;
const auth = (user: string) => basic(user, PASSWORD);

async function post(objects: StixObject[], collection = COLLECTION) {
  const res = await t.http.post(`/isao/collections/${collection}/objects/`).set('Authorization', auth('producer')).set('Content-Type', TAXII).send(envelope(objects));
  expect(res.status, res.text).toBe(202);
  return JSON.parse(res.text) as { id: string; failure_count: number; success_count: number };
}

async function read(user: string, path: string, collection = COLLECTION) {
  const res = await t.http.get(`/isao/collections/${collection}/${path}`).set('Authorization', auth(user)).set('Accept', TAXII);
  expect(res.status, res.text).toBe(200);
  return JSON.parse(res.text) as { objects?: StixObject[]; versions?: string[] };
}

async function admin(path: string) {
  const res = await t.http.get(`/admin${path}`).set('Authorization', auth('operator'));
  expect(res.status, res.text).toBe(200);
  return JSON.parse(res.text);
}

const pairs = (objects: StixObject[]) => objects.map((o) => ({ id: o.id, version: o.modified as string })).sort((a, b) => a.id.localeCompare(b.id) || a.version.localeCompare(b.version));
const sorted = (list: { id: string; version: string }[]) => [...list].sort((a, b) => a.id.localeCompare(b.id) || a.version.localeCompare(b.version));

beforeAll(async () => {
  t = await createTestApp(seed);
  await post([G1, G2, W, U, A1, R]);
  await post([A2]);
  await post([U2], AMBER_DEFAULT);
  // Need to know: the RED indicator is granted to the clinic only.
  await applySeed(t.database.db, { grants: [{ collection: COLLECTION, organisation: 'Clinic', object: R.id }] }, { scryptCost: 1024 });
  // A second revision of the clinic's profile, so that the revision recorded is not just "1".
  const profile = await admin('/profiles/clinic-view');
  const policy = profile.revisions[0].policy;
  policy.types.indicator.min_confidence = 65;
  const res = await t.http.patch('/admin/profiles/clinic-view').set('Authorization', auth('operator')).send({ policy });
  expect(res.status, res.text).toBe(200);
  expect(JSON.parse(res.text).revision).toBe(2);
});
afterAll(async () => t?.close());

describe('the delivery audit records who received what, through which view', () => {
  it('records reads by two organisations with the right ids, versions, profile and revision', async () => {
    const clinicRevision = 2;
    const l4Revision = (await admin('/profiles/L4')).revision;
    expect(l4Revision).toEqual(expect.any(Number));
    const clinicPage = (await read('clinic', 'objects/')).objects!;
    const hospitalPage = (await read('hospital', 'objects/')).objects!;
    expect(clinicPage.map((o) => o.id)).toContain(R.id);
    expect(hospitalPage.map((o) => o.id)).not.toContain(R.id);
    await t.app.taxii.deliveries.flush();

    const [clinic] = await admin('/audit/deliveries?account=clinic');
    expect(clinic).toMatchObject({
      account: { username: 'clinic' },
      organisation: { name: 'Clinic' },
      api_root: 'isao',
      collection: COLLECTION,
      endpoint: 'objects',
      view: { profile: 'clinic-view', revision: clinicRevision },
      preview: null,
      max_tlp: 'red',
      granted: [R.id],
      client_ip: '127.0.0.1',
      request_id: expect.any(String),
    });
    expect(sorted(clinic.objects)).toEqual(pairs(clinicPage));
    expect(clinic.objects.find((o: { id: string }) => o.id === A1.id).version).toBe(A2.modified);

    const [hospital] = await admin('/audit/deliveries?organisation=Hospital');
    expect(hospital).toMatchObject({ account: { username: 'hospital' }, endpoint: 'objects', view: { profile: 'L4', revision: l4Revision }, max_tlp: 'amber', granted: [] });
    expect(sorted(hospital.objects)).toEqual(pairs(hospitalPage));
  });

  it('records every version handed out, by endpoint', async () => {
    await read('hospital', `objects/${A1.id}/?match[version]=all`);
    await read('hospital', `objects/${A1.id}/versions/`);
    await read('hospital', 'manifest/?match[id]=' + A1.id);
    await t.app.taxii.deliveries.flush();
    const entries = await admin(`/audit/deliveries?account=hospital&object=${A1.id}&limit=3`);
    expect(entries.map((e: { endpoint: string }) => e.endpoint)).toEqual(['manifest', 'versions', 'object']);
    expect(entries[0].objects).toEqual([{ id: A1.id, version: A2.modified }]);
    expect(sorted(entries[1].objects)).toEqual(pairs([A1, A2]));
    expect(sorted(entries[2].objects)).toEqual(pairs([A1, A2]));
  });

  it('answers who received a given object: the RED indicator went to the clinic only, recorded before it was sent', async () => {
    // No flush: a page with a RED object is stored before the response.
    await read('clinic', `objects/${R.id}/`);
    const recipients = await admin(`/audit/deliveries/recipients?object=${R.id}`);
    expect(recipients).toHaveLength(1);
    expect(recipients[0]).toMatchObject({
      organisation: { name: 'Clinic' },
      account: { username: 'clinic' },
      versions: [R.modified],
      views: [expect.stringMatching(/^clinic-view@\d+$/)],
    });
    expect(recipients[0].deliveries).toBeGreaterThanOrEqual(2);
    const entries = await admin(`/audit/deliveries?object=${R.id}`);
    expect(entries.every((e: { organisation: { name: string }; objects: unknown[] }) => e.organisation.name === 'Clinic' && e.objects.length === 1)).toBe(true);

    // An operator's read is unfiltered; a preview records the previewed organisation.
    const res = await t.http.get(`/isao/collections/${COLLECTION}/objects/${R.id}/`).set('Authorization', auth('operator'));
    expect(res.status).toBe(200);
    const previewed = await t.http.get(`/isao/collections/${COLLECTION}/objects/`).set('Authorization', auth('operator')).set('X-TAXII-Hub-View-Organisation', 'Clinic');
    expect(previewed.status).toBe(200);
    const after = await admin(`/audit/deliveries/recipients?object=${R.id}`);
    expect(after.map((r: { account: { username: string } }) => r.account.username)).toEqual(['clinic', 'operator']);
    const operator = after.find((r: { account: { username: string } }) => r.account.username === 'operator');
    expect(operator.views.sort()).toEqual([expect.stringMatching(/^preview organisation:/), 'unfiltered'].sort());

    // Who received the amber indicator: both readers.
    const amber = await admin(`/audit/deliveries/recipients?object=${A1.id}`);
    expect(amber.map((r: { organisation: { name: string } }) => r.organisation.name)).toEqual(['Clinic', 'Hospital', 'Operators']);

    // The command line answers the same.
    const cli = cliRunner(t.database);
    const result = await cli(['deliveries', '--object', R.id, '--recipients', '--json']);
    expect(result.code, explain(result)).toBe(0);
    expect(result.json<{ account: { username: string } }[]>().map((r) => r.account.username)).toEqual(['clinic', 'operator']);
    const table = await cli(['deliveries', '--object', R.id]);
    expect(table.code, explain(table)).toBe(0);
    expect(table.stdout).toMatch(/clinic-view@\d+/);
  });

  it('"restricted" skips pages of only CLEAR/GREEN objects (unmarked: the collection default decides)', async () => {
    const before = (await admin('/audit/deliveries?account=hospital&limit=1000')).length;
    // G1, W and U (unmarked, the collection's default is GREEN): nothing recorded.
    const greenOnly = await read('hospital', `objects/?match[id]=${G1.id},${W.id},${U.id}`);
    expect(greenOnly.objects).toHaveLength(3);
    // One AMBER object makes the whole page recorded.
    await read('hospital', `objects/?match[id]=${G2.id},${A1.id}`);
    // Unmarked in a collection whose default is AMBER: recorded.
    await read('hospital', 'objects/', AMBER_DEFAULT);
    await t.app.taxii.deliveries.flush();
    const entries = await admin('/audit/deliveries?account=hospital&limit=1000');
    expect(entries.length - before).toBe(2);
    expect(sorted(entries[1].objects)).toEqual(pairs([G2, A2]));
    expect(entries[0]).toMatchObject({ collection: AMBER_DEFAULT, max_tlp: 'amber', objects: [{ id: U2.id, version: U2.modified }] });
    expect((await admin(`/audit/deliveries?object=${W.id}&account=hospital`)).length).toBe(1); // the full page of the first test

    // DELIVERY_AUDIT=all records the same green page; off records nothing.
    for (const scope of ['all', 'off'] as const) {
      const other: FastifyInstance = await buildApp({ ...t.config, deliveryAudit: scope }, t.database, { logger: false });
      try {
        const http = supertest.agent(await other.listen({ host: '127.0.0.1', port: 0 }));
        const res = await http.get(`/isao/collections/${COLLECTION}/objects/?match[id]=${G1.id}`).set('Authorization', auth('hospital'));
        expect(res.status).toBe(200);
      } finally {
        await other.close();
      }
      const green = await admin(`/audit/deliveries?object=${G1.id}&account=hospital`);
      expect(green.filter((e: { object_count: number }) => e.object_count === 1)).toHaveLength(1);
    }
  });

  it('buffers rows and writes them on close (SIGTERM closes the app)', async () => {
    const auditor = new DeliveryAuditor(t.database.db, { scope: 'all', flushIntervalMs: 60_000 });
    const page = (await read('hospital', `objects/?match[id]=${G2.id}`)).objects!;
    const context = await t.http.get('/admin/audit/deliveries?limit=1').set('Authorization', auth('operator'));
    const last = JSON.parse(context.text)[0];
    await auditor.record(
      {
        id: 'request-buffered',
        ip: '192.0.2.1',
        principal: { accountId: last.account.id, organisationId: last.organisation.id, username: last.account.username, isAdmin: false },
        collection: { id: COLLECTION, apiRootId: 'isao', alias: null, title: 'Indicators', description: null, mediaTypes: [], canRead: true, canWrite: false, defaultTlp: 1 },
        readerKey: last.account.id,
      },
      'objects',
      { ids: page.map((o) => o.id), versions: page.map((o) => o.modified as string), tlps: [1] },
    );
    expect(auditor.pending).toBe(1);
    const count = async () => Number((await sql<{ n: number }>`select count(*)::int as n from delivery_audit where request_id = 'request-buffered'`.execute(t.database.db)).rows[0]!.n);
    expect(await count()).toBe(0);
    await auditor.close();
    expect(await count()).toBe(1);
  });
});

describe('the write log', () => {
  it('records who stored which versions, durably (beyond the status resources)', async () => {
    const X = ind('new', '203.0.113.10', [TLP.amber]);
    const status = await post([X, G1, { type: 'indicator', id: 'indicator--not-valid' } as StixObject]);
    expect(status.failure_count).toBe(1);
    const [write] = await admin(`/audit/writes?object=${X.id}`);
    expect(write).toMatchObject({
      action: 'add',
      actor: 'account:producer',
      organisation: { name: 'Producer' },
      api_root: 'isao',
      collection: COLLECTION,
      status_id: status.id,
      objects: [{ id: X.id, version: X.modified, stored: true }],
      object_count: 2,
      failure_count: 1,
      client_ip: '127.0.0.1',
    });
    // Re-posting G1 stored nothing: logged as not stored.
    const [again] = await admin(`/audit/writes?object=${G1.id}&limit=1`);
    expect(again.objects).toEqual([{ id: G1.id, version: G1.modified, stored: false }]);

    // Deletions are writes too.
    const del = await t.http.delete(`/isao/collections/${COLLECTION}/objects/${X.id}/`).set('Authorization', auth('producer')).set('Accept', TAXII);
    expect(del.status).toBe(200);
    const [deletion] = await admin(`/audit/writes?object=${X.id}&limit=1`);
    expect(deletion).toMatchObject({ action: 'delete', actor: 'account:producer', objects: [{ id: X.id, version: X.modified }] });

    // Status resources expire; the write log stays.
    await t.database.db.deleteFrom('status_resources').execute();
    expect(await admin(`/audit/writes?object=${X.id}`)).toHaveLength(2);
    expect(await admin('/audit/writes?account=producer&limit=1000')).not.toHaveLength(0);

    const cli = cliRunner(t.database);
    const result = await cli(['writes', '--object', X.id, '--json']);
    expect(result.code, explain(result)).toBe(0);
    expect(result.json<{ action: string }[]>().map((w) => w.action)).toEqual(['delete', 'add']);
  });

  it('filters by collection and time range', async () => {
    const all = await admin('/audit/deliveries?collection=indicators&limit=1000');
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((e: { collection: string }) => e.collection === COLLECTION)).toBe(true);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect(await admin(`/audit/deliveries?since=${encodeURIComponent(future)}`)).toEqual([]);
    expect((await admin(`/audit/deliveries?until=${encodeURIComponent(future)}&limit=1000`)).length).toBeGreaterThanOrEqual(all.length);
    const bad = await t.http.get('/admin/audit/deliveries?since=yesterday').set('Authorization', auth('operator'));
    expect(bad.status).toBe(400);
    const nobody = await t.http.get('/admin/audit/deliveries?organisation=Nobody').set('Authorization', auth('operator'));
    expect(nobody.status).toBe(404);
    const forbidden = await t.http.get('/admin/audit/deliveries').set('Authorization', auth('clinic'));
    expect(forbidden.status).toBe(403);
  });
});

describe('retention', () => {
  it('purges delivery and write entries older than DELIVERY_AUDIT_RETENTION_DAYS', async () => {
    const db = t.database.db;
    const count = async (table: 'delivery_audit' | 'write_audit') => Number((await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db)).rows[0]!.n);
    const deliveries = await count('delivery_audit');
    const writes = await count('write_audit');
    expect(deliveries).toBeGreaterThan(2);
    const oldest = (table: 'delivery_audit' | 'write_audit') => sql`update ${sql.table(table)} set at = now() - interval '400 days' where id in (select min(id) from ${sql.table(table)})`.execute(db);
    await oldest('delivery_audit');
    await oldest('write_audit');
    await sql`update delivery_audit set at = now() - interval '300 days' where id in (select max(id) from delivery_audit)`.execute(db);

    expect(await purgeAccessAudit(db, 365)).toEqual({ deliveries: 1, writes: 1 });
    expect(await count('delivery_audit')).toBe(deliveries - 1);
    expect(await count('write_audit')).toBe(writes - 1);
    expect(await purgeAccessAudit(db, 365)).toEqual({ deliveries: 0, writes: 0 });
    expect(await purgeAccessAudit(db, 200)).toEqual({ deliveries: 1, writes: 0 });
  });
});
