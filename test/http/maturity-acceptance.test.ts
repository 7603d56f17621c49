import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Seed } from '../../src/services/provisioning.js';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';
import { envelope, indicator, malware, relationship, revise, T0, ts, TLP, type StixObject } from '../support/stix.js';

/**
 * The fifteen acceptance examples of shared/docs/maturity-design.md, each a
 * test named after its example. One collection (default TLP AMBER); readers
 * Clinic (L1), Hospital (L2), SOC (L3) and Partner (L4), plus a second L1
 * clinic without grants and an L1 organisation that moves to L2.
 */
const COLLECTION = 'c7d0f2a4-1b6e-4f3a-9d2c-8e5b4a3f2e11';
const PINNED = 'd8e1a3b5-2c7f-4a4b-8e3d-9f6c5b4a3f22';
const PASSWORD = 'maturity tests password';
const readers = { clinic: 'L1', clinic2: 'L1', hospital: 'L2', soc: 'L3', partner: 'L4', mover: 'L1' } as const;
type Reader = keyof typeof readers;

const seed: Seed = {
  api_roots: [{ id: 'isao', title: 'Healthcare ISAO', max_content_length: 10 * 1024 * 1024 }],
  collections: [
    { id: COLLECTION, api_root: 'isao', title: 'Shared indicators', default_tlp: 'amber' },
    { id: PINNED, api_root: 'isao', title: 'Blocklist', default_tlp: 'amber', pinned_profile: 'L1' },
  ],
  organisations: [{ name: 'Producer' }, ...Object.keys(readers).map((name) => ({ name }))],
  accounts: [
    { username: 'producer', organisation: 'Producer', password: PASSWORD },
    ...Object.keys(readers).map((name) => ({ username: name, organisation: name, password: PASSWORD })),
  ],
  permissions: [
    { organisation: 'Producer', collection: COLLECTION, read: true, write: true },
    { organisation: 'Producer', collection: PINNED, read: true, write: true },
    ...Object.keys(readers).flatMap((name) => [
      { organisation: name, collection: COLLECTION, read: true },
      { organisation: name, collection: PINNED, read: true },
    ]),
  ],
  bindings: [{ organisation: 'Producer', profile: 'L4' }, ...Object.entries(readers).map(([organisation, profile]) => ({ organisation, profile }))],
};

// --- the objects ---------------------------------------------------------
const producer: StixObject = {
  type: 'identity', spec_version: '2.1', id: 'identity--4b8d0c7e-5f1a-4a2b-9c3d-7e6f5a4b3c21', created: T0, modified: T0,
  name: 'Hub analysts', identity_class: 'organization', object_marking_refs: [TLP.green],
};
const greenMarking: StixObject = {
  type: 'marking-definition', spec_version: '2.1', id: TLP.green, created: '2017-01-20T00:00:00.000Z',
  definition_type: 'tlp', name: 'TLP:GREEN', definition: { tlp: 'green' },
};
const green = { object_marking_refs: [TLP.green], created_by_ref: producer.id };
const A = indicator({ name: 'A', pattern: "[ipv4-addr:value = '198.51.100.1']", confidence: 90, ...green });
const B = indicator({ name: 'B', pattern: "[domain-name:value = 'b.example']", confidence: 40, ...green });
const CoA1: StixObject = { type: 'course-of-action', spec_version: '2.1', id: 'course-of-action--0f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e41', created: T0, modified: T0, name: 'Block', ...green };
const V1: StixObject = { type: 'vulnerability', spec_version: '2.1', id: 'vulnerability--1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c51', created: T0, modified: T0, name: 'CVE-2025-0001', ...green };
const mitigates = relationship(CoA1.id, V1.id, { relationship_type: 'mitigates', confidence: 90, ...green });
const M1 = malware({ name: 'M1', confidence: 90, ...green });
const indicates = relationship(A.id, M1.id, { relationship_type: 'indicates', confidence: 90, ...green });
const twoHashOr = indicator({ name: 'two hashes', confidence: 85, pattern: "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' OR file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']", ...green });
const networkAnd = indicator({ name: 'network AND', confidence: 85, pattern: "[network-traffic:dst_ref.value = '203.0.113.5' AND network-traffic:dst_port = 443]", ...green });
const followedBy = indicator({ name: 'followed by', confidence: 85, pattern: "[ipv4-addr:value = '203.0.113.9'] FOLLOWEDBY [domain-name:value = 'c2.example']", ...green });
const snort = indicator({ name: 'snort', confidence: 85, pattern_type: 'snort', pattern: 'alert tcp any any -> any 80 (msg:"x"; sid:1;)', ...green });
const amber1 = indicator({ name: 'TLP1 amber', confidence: 95, pattern: "[ipv4-addr:value = '198.51.100.2']", object_marking_refs: [TLP.amber] });
const white1 = indicator({ name: 'TLP1 white', confidence: 95, pattern: "[ipv4-addr:value = '198.51.100.3']", object_marking_refs: [TLP.white] });
const greenAndAmber = indicator({ name: 'green+amber', confidence: 95, pattern: "[ipv4-addr:value = '198.51.100.4']", object_marking_refs: [TLP.green, TLP.amber2] });
const red = indicator({ name: 'RED', confidence: 90, pattern: "[ipv4-addr:value = '198.51.100.66']", object_marking_refs: [TLP.red] });
const reportOfRed: StixObject = { type: 'report', spec_version: '2.1', id: 'report--2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d61', created: T0, modified: T0, name: 'Incident with RED', published: T0, object_refs: [red.id, A.id], confidence: 80, ...green };
const reportOfMixed: StixObject = { type: 'report', spec_version: '2.1', id: 'report--3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e71', created: T0, modified: T0, name: 'Campaign notes', published: T0, object_refs: [A.id, M1.id, CoA1.id], confidence: 80, ...green };
const J1 = indicator({ name: 'J', pattern: "[domain-name:value = 'j.example']", confidence: 90, ...green });
const J2 = revise(J1, ts(60), { revoked: true });
const K1 = indicator({ name: 'K', pattern: "[domain-name:value = 'k.example']", confidence: 40, ...green });
const K2 = revise(K1, ts(60), { revoked: true });
const L1v1 = indicator({ name: 'L', pattern: "[domain-name:value = 'l.example']", confidence: 90, ...green });
const L1v2 = revise(L1v1, ts(60), { confidence: 30 });
const N1 = indicator({ name: 'N', pattern: "[domain-name:value = 'n.example']", confidence: 90, object_marking_refs: [TLP.red] });
const N2 = revise(N1, ts(60), { object_marking_refs: [TLP.green] });
const P = indicator({ name: 'P', pattern: "[url:value = 'http://p.example/']", confidence: 90, valid_until: '2025-06-01T00:00:00Z', ...green });
const Q1 = indicator({ name: 'Q', pattern: "[url:value = 'http://q.example/']", confidence: 90, ...green });
const Q2 = revise(Q1, ts(60), { valid_until: '2025-06-01T00:00:00Z' });
const creatorWithDefault = 'identity--5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e81';
const U1 = indicator({ name: 'U with default', pattern: "[ipv4-addr:value = '198.51.100.70']", created_by_ref: creatorWithDefault, object_marking_refs: [TLP.green] });
const U2 = indicator({ name: 'U without default', pattern: "[ipv4-addr:value = '198.51.100.71']", created_by_ref: 'identity--6d7e8f9a-0b1c-4d2e-8f3a-4b5c6d7e8f91', object_marking_refs: [TLP.green] });

const everything = [producer, greenMarking, A, B, CoA1, V1, mitigates, M1, indicates, twoHashOr, networkAnd, followedBy, snort,
  amber1, white1, greenAndAmber, red, reportOfRed, reportOfMixed, J1, J2, K1, K2, L1v1, L1v2, N1, N2, P, Q1, Q2, U1, U2];

let t: TestApp;

async function post(objects: StixObject[], collection = COLLECTION) {
  const res = await t.http.post(`/isao/collections/${collection}/objects/`).set('Authorization', basic('producer', PASSWORD)).set('Content-Type', TAXII).send(envelope(objects));
  expect(JSON.parse(res.text).failure_count, res.text).toBe(0);
}

async function get(reader: Reader, path: string) {
  const res = await t.http.get(`/isao/collections/${COLLECTION}/${path}`).set('Authorization', basic(reader, PASSWORD)).set('Accept', TAXII);
  return { status: res.status, headers: res.headers as Record<string, string>, text: res.text, body: res.text ? JSON.parse(res.text) : undefined };
}

/** Every object a reader sees (latest versions), following next. */
async function visibleIds(reader: Reader, collection = COLLECTION): Promise<Set<string>> {
  const ids = new Set<string>();
  let query = 'limit=50';
  for (;;) {
    const res = await t.http.get(`/isao/collections/${collection}/objects/?${query}`).set('Authorization', basic(reader, PASSWORD));
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text);
    for (const o of body.objects ?? []) ids.add(o.id);
    if (!body.more) return ids;
    query = `limit=50&next=${encodeURIComponent(body.next)}`;
  }
}

const sees = async (reader: Reader, object: StixObject) => (await visibleIds(reader)).has(object.id);

beforeAll(async () => {
  t = await createTestApp(seed);
  for (const object of everything) await post([object]);
  // The grant and the creator default come after the objects: both are policy events.
  const { applySeed } = await import('../../src/services/provisioning.js');
  await applySeed(t.database.db, {
    grants: [{ collection: COLLECTION, organisation: 'clinic', object: red.id }],
    creator_confidence: [{ identity: creatorWithDefault, confidence: 70 }],
  }, { scryptCost: 1024 });
}, 120_000);
afterAll(async () => t?.close());

describe('maturity-design acceptance examples', () => {
  it('example 1: Clinic sees A, CoA1, V1, CoA1 mitigates V1, the GREEN marking and A\'s creator; not B, M1 or A indicates M1', async () => {
    const ids = await visibleIds('clinic');
    for (const o of [A, CoA1, V1, mitigates, greenMarking, producer]) expect(ids.has(o.id), o.id).toBe(true);
    for (const o of [B, M1, indicates]) expect(ids.has(o.id), o.id).toBe(false);
  });

  it('example 2: for Clinic, B answers like an unknown id on object and versions; the manifest has no B; match[id]=A,B returns only A', async () => {
    const unknown = 'indicator--00000000-0000-4000-8000-000000000000';
    for (const suffix of ['', 'versions/']) {
      const hidden = await get('clinic', `objects/${B.id}/${suffix}`);
      const missing = await get('clinic', `objects/${unknown}/${suffix}`);
      expect(hidden.status).toBe(404);
      expect(missing.status).toBe(404);
      const normalise = (text: string, id: string) => ({ ...JSON.parse(text.replace(id, '<id>')), error_id: undefined });
      expect(normalise(hidden.text, B.id)).toEqual(normalise(missing.text, unknown));
    }
    const manifest = await get('clinic', 'manifest/?limit=1000');
    expect(manifest.body.objects.map((r: { id: string }) => r.id)).not.toContain(B.id);
    const both = await get('clinic', `objects/?match[id]=${A.id},${B.id}`);
    expect(both.body.objects.map((o: StixObject) => o.id)).toEqual([A.id]);
  });

  it('example 3: Clinic asking match[type]=malware gets a 200 empty envelope', async () => {
    const res = await get('clinic', 'objects/?match[type]=malware');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ more: false });
  });

  it('example 4: a two-hash OR indicator reaches Hospital not Clinic; network AND, FOLLOWEDBY and snort reach SOC and Partner only', async () => {
    expect(await sees('hospital', twoHashOr)).toBe(true);
    expect(await sees('clinic', twoHashOr)).toBe(false);
    for (const o of [networkAnd, followedBy, snort]) {
      expect(await sees('soc', o), o.name as string).toBe(true);
      expect(await sees('partner', o), o.name as string).toBe(true);
      expect(await sees('hospital', o), o.name as string).toBe(false);
      expect(await sees('clinic', o), o.name as string).toBe(false);
    }
  });

  it('example 5: TLP 1.0 AMBER reaches Hospital not Clinic; WHITE reaches Clinic; GREEN + AMBER counts as AMBER', async () => {
    expect(await sees('hospital', amber1)).toBe(true);
    expect(await sees('clinic', amber1)).toBe(false);
    expect(await sees('clinic', white1)).toBe(true);
    expect(await sees('clinic', greenAndAmber)).toBe(false);
    expect(await sees('hospital', greenAndAmber)).toBe(true);
  });

  it('example 6: a RED indicator granted to one clinic reaches that clinic only; a GREEN report referencing it is hidden from everyone without the grant', async () => {
    expect(await sees('clinic', red)).toBe(true);
    expect(await sees('clinic2', red)).toBe(false);
    expect(await sees('partner', red)).toBe(false);
    expect(await sees('clinic', reportOfRed)).toBe(true);
    for (const reader of ['clinic2', 'hospital', 'soc', 'partner'] as Reader[]) expect(await sees(reader, reportOfRed), reader).toBe(false);
  });

  it('example 7: a GREEN report referencing A, M1 and CoA1 is served to Clinic unchanged (M1 is hidden for relevance only)', async () => {
    const res = await get('clinic', `objects/${reportOfMixed.id}/`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(JSON.stringify(reportOfMixed));
  });

  it('example 8: J revoked after a visible v1 stays visible to Clinic with the retraction; K revoked after conf-40 versions never does', async () => {
    const latest = await get('clinic', `objects/${J1.id}/`);
    expect(latest.body.objects).toEqual([J2]);
    const versions = await get('clinic', `objects/${J1.id}/versions/`);
    expect(versions.body.versions).toEqual([J1.modified, J2.modified]);
    expect((await get('clinic', `objects/${K1.id}/`)).status).toBe(404);
    expect(await sees('clinic', K1)).toBe(false);
  });

  it('example 9: L whose v2 dropped to confidence 30 is gone for Clinic (404, no manifest entry, no first version); SOC sees both', async () => {
    expect((await get('clinic', `objects/${L1v1.id}/`)).status).toBe(404);
    expect((await get('clinic', `objects/${L1v1.id}/versions/`)).status).toBe(404);
    const manifest = await get('clinic', 'manifest/?limit=1000&match[version]=all');
    expect(manifest.body.objects.map((r: { id: string }) => r.id)).not.toContain(L1v1.id);
    expect((await get('clinic', `objects/?match[id]=${L1v1.id}&match[version]=first`)).body).toEqual({ more: false });
    expect((await get('soc', `objects/${L1v1.id}/versions/`)).body.versions).toEqual([L1v1.modified, L1v2.modified]);
  });

  it('example 10: N (v1 RED, v2 GREEN) shows Clinic only v2; asking for v1 by timestamp is an empty 200', async () => {
    expect((await get('clinic', `objects/${N1.id}/versions/`)).body.versions).toEqual([N2.modified]);
    const v1 = await get('clinic', `objects/${N1.id}/?match[version]=${N1.modified}`);
    expect(v1.status).toBe(200);
    expect(v1.body).toEqual({ more: false });
  });

  it('example 11: P, expired in its only version, is hidden from L1-L3 and shown to L4; Q expired by v2 reaches Clinic as the retraction', async () => {
    for (const reader of ['clinic', 'hospital', 'soc'] as Reader[]) expect(await sees(reader, P), reader).toBe(false);
    expect(await sees('partner', P)).toBe(true);
    expect((await get('clinic', `objects/${Q1.id}/`)).body.objects).toEqual([Q2]);
  });

  it('example 12: U without confidence: with a creator default of 70 Hospital yes, Clinic no; without a default L1-L3 no, L4 yes; never served with a confidence', async () => {
    expect(await sees('hospital', U1)).toBe(true);
    expect(await sees('clinic', U1)).toBe(false);
    for (const reader of ['clinic', 'hospital', 'soc'] as Reader[]) expect(await sees(reader, U2), reader).toBe(false);
    expect(await sees('partner', U2)).toBe(true);
    const served = await get('hospital', `objects/${U1.id}/`);
    expect(served.body.objects).toEqual([U1]);
    expect(served.body.objects[0]).not.toHaveProperty('confidence');
  });

  it('example 13: paging Clinic\'s view with limit=2 never gives a short page or an empty last page; the last header is the last object\'s view date_added', async () => {
    const manifest = (await get('clinic', 'manifest/?limit=1000')).body.objects as { id: string; date_added: string }[];
    let query = 'limit=2';
    let pages = 0;
    const seen: string[] = [];
    for (;;) {
      const page = await get('clinic', `objects/?${query}`);
      pages++;
      const objects = page.body.objects as StixObject[];
      if (page.body.more) expect(objects).toHaveLength(2);
      expect(objects.length).toBeGreaterThan(0);
      const last = manifest.find((r) => r.id === objects[objects.length - 1]!.id)!;
      expect(page.headers['x-taxii-date-added-last']).toBe(last.date_added);
      seen.push(...objects.map((o) => o.id));
      if (!page.body.more) break;
      query = `limit=2&next=${encodeURIComponent(page.body.next)}`;
    }
    expect(seen).toEqual(manifest.map((r) => r.id));
    expect(pages).toBe(Math.ceil(manifest.length / 2));
  });

  it('example 14: a relationship whose target arrives later becomes visible then, dated after the target, for added_after pollers', async () => {
    const CoA2: StixObject = { ...CoA1, id: 'course-of-action--7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a01', name: 'Patch' };
    const V2: StixObject = { ...V1, id: 'vulnerability--8f9a0b1c-2d3e-4f4a-8b5c-6d7e8f9a0b11', name: 'CVE-2025-0002' };
    const late = relationship(CoA2.id, V2.id, { relationship_type: 'remediates', confidence: 90, ...green });
    await post([CoA2, late]);
    const before = await get('clinic', 'manifest/?limit=1000');
    expect(before.body.objects.map((r: { id: string }) => r.id)).not.toContain(late.id);
    const lastSeen = before.headers['x-taxii-date-added-last']!;
    await post([V2]);
    const poll = await get('clinic', `manifest/?limit=1000&added_after=${lastSeen}`);
    const records = poll.body.objects as { id: string; date_added: string }[];
    const target = records.find((r) => r.id === V2.id)!;
    const rel = records.find((r) => r.id === late.id)!;
    expect(rel).toBeDefined();
    expect(rel.date_added > target.date_added).toBe(true);
  });

  it('example 15: moving Clinic from L1 to L2 delivers the newly visible objects to an added_after poller, dated at the move', async () => {
    const before = await get('mover', 'manifest/?limit=1000');
    const lastSeen = before.headers['x-taxii-date-added-last']!;
    const seenBefore = new Set((before.body.objects as { id: string }[]).map((r) => r.id));
    const moveAt = new Date().toISOString();
    await t.database.db.transaction().execute(async (trx) => {
      const { bindOrganisation } = await import('../../src/db/view-policies.js');
      const org = await trx.selectFrom('organisations').select('id').where('name', '=', 'mover').executeTakeFirstOrThrow();
      await bindOrganisation(trx, org.id, 'L2');
    });
    const hourBefore = new Date(Date.parse(moveAt) - 3600_000).toISOString();
    for (const addedAfter of [lastSeen, hourBefore]) {
      const poll = await get('mover', `manifest/?limit=1000&added_after=${addedAfter}`);
      const records = poll.body.objects as { id: string; date_added: string }[];
      const ids = records.map((r) => r.id);
      for (const o of [M1, indicates, twoHashOr, amber1]) expect(ids, o.id).toContain(o.id);
      for (const r of records.filter((r) => !seenBefore.has(r.id))) expect(r.date_added >= moveAt.slice(0, 19)).toBe(true);
    }
    expect(await sees('mover', B)).toBe(false);
  });

  it('example 15 (pinned): a collection pinned to L1 serves SOC exactly the L1 content', async () => {
    for (const object of everything) await post([object], PINNED);
    const soc = await visibleIds('soc', PINNED);
    const clinic2 = await visibleIds('clinic2', PINNED);
    expect(soc).toEqual(clinic2);
    expect(soc.has(A.id)).toBe(true);
    expect(soc.has(networkAnd.id)).toBe(false);
  });
});
