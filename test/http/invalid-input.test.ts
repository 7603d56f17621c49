// The bad-input corpus of the shared data through POST …/objects/, level by level:
// invalid/authored/index.json (json-syntax, document, envelope, object and bundle cases),
// cti-stix-validator's example files and the invalid OASIS example found in the wild.
//
// - a body that is not JSON: 400 with the TAXII error resource, nothing stored;
// - JSON that is not an envelope or bundle: 422 with a readable description;
// - an invalid object (in an envelope): 202, the object in `failures` with a message naming
//   the rule's property (the MENTIONS table shared with stix-validate-authored.test.ts), and
//   the object absent afterwards; an object with a warning is a success carrying it;
// - a bundle (application/stix+json;version=2.1): 422 when the bundle itself is malformed,
//   otherwise member by member;
// - one envelope mixing valid objects with every invalid object-level case stores exactly
//   the valid ones and loses nothing already stored.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Seed } from '../../src/services/provisioning.js';
import {
  AUTHORED,
  authoredCase,
  authoredIndex,
  caseBytes,
  loadCase,
  MENTIONS,
  mentionsAll,
  type IndexEntry,
} from '../support/authored-cases.js';
import { SHARED_DATA_DIR } from '../support/shared-data.js';
import { indicator, ipv4, malware, relationship } from '../support/stix.js';
import { readAllPages, type ManifestRecord, type StatusResource } from '../support/taxii-read.js';
import { basic, createTestApp, rawRequest, TAXII, type RawResponse, type TestApp } from '../support/test-app.js';

type Json = Record<string, unknown>;

const STIX21 = 'application/stix+json;version=2.1';
const PASSWORD = 'invalid input tester password';
const auth = basic('tester', PASSWORD);
const STIX_ID = /^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const EXAMPLES = join(SHARED_DATA_DIR, 'invalid', 'validator-test-examples');
const IN_THE_WILD = join(SHARED_DATA_DIR, 'invalid', 'in-the-wild', 'oasis-tlp2-example-using-tlp2.0-green.json');

// One collection per purpose, so that what one case stores cannot hide what another did not.
const collections = new Map<string, string>();
function collection(name: string): string {
  let id = collections.get(name);
  if (!id) collections.set(name, (id = uuidv4()));
  return id;
}
const REJECTS = collection('rejects'); // receives only what must not be stored
const MIX = collection('mix');
const VALID_EXAMPLES = ['identity.json', 'identity_unicode.json', 'identity_warning.json', 'identity_custom.json', 'tool.json', 'tlp-amber.json'];
for (const name of ['warn INV-042', 'warn INV-054', 'bundle INV-094', 'bundle INV-095', 'bundle INV-096', 'bundle INV-099', 'bundle rejects', 'in the wild', ...VALID_EXAMPLES]) {
  collection(name);
}

function seed(): Seed {
  return {
    api_roots: [{ id: 'inv', title: 'Bad input', max_content_length: 4 * 1024 * 1024, default: true }],
    collections: [...collections].map(([title, id]) => ({ id, api_root: 'inv', title })),
    organisations: [{ name: 'Testers' }],
    accounts: [{ username: 'tester', organisation: 'Testers', password: PASSWORD, admin: true }],
  };
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp(seed());
});
afterAll(async () => t?.close());

const objectsPath = (c: string) => `/inv/collections/${c}/objects/`;

function post(c: string, body: Buffer | string, contentType = TAXII): Promise<RawResponse> {
  return rawRequest(t.url, {
    method: 'POST',
    path: objectsPath(c),
    headers: { authorization: auth, accept: TAXII, 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
}

/** The exact bytes of one or more objects wrapped in a TAXII envelope (never re-serialised). */
function envelopeOf(...objects: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from('{"objects":[')];
  objects.forEach((o, i) => parts.push(...(i > 0 ? [Buffer.from(','), o] : [o])));
  parts.push(Buffer.from(']}'));
  return Buffer.concat(parts);
}

/** A 202 status resource whose counts add up (total = success + failure + pending). */
function statusOf(res: RawResponse, posted: number): StatusResource {
  expect(res.status, res.text).toBe(202);
  expect(res.headers['content-type']).toBe(TAXII);
  const status = JSON.parse(res.text) as StatusResource;
  expect(status.status).toBe('complete');
  expect(status.total_count).toBe(posted);
  expect(status.total_count).toBe(status.success_count + status.failure_count + status.pending_count);
  expect(status.successes?.length ?? 0).toBe(status.success_count);
  expect(status.failures?.length ?? 0).toBe(status.failure_count);
  expect(status.pending_count).toBe(0);
  for (const detail of [...(status.successes ?? []), ...(status.failures ?? [])]) {
    expect(detail.id).toEqual(expect.any(String));
    expect(detail.version).toEqual(expect.any(String));
  }
  return status;
}

/** The TAXII error resource (TAXII §3.6.1) with the given HTTP status. */
function errorOf(res: RawResponse, httpStatus: number): { title: string; description: string } {
  expect(res.status, res.text).toBe(httpStatus);
  expect(res.headers['content-type']).toBe(TAXII);
  const error = JSON.parse(res.text) as Json;
  expect(error).toMatchObject({
    title: expect.any(String),
    description: expect.any(String),
    error_id: expect.any(String),
    http_status: String(httpStatus),
  });
  expect((error.title as string).length).toBeGreaterThan(0);
  expect((error.description as string).length).toBeGreaterThan(10);
  expect((error.error_id as string).length).toBeGreaterThan(0);
  expect(error.description).not.toMatch(/\n\s+at /); // no stack trace
  return error as { title: string; description: string };
}

async function getObject(c: string, id: string, query = '') {
  return t.http.get(`${objectsPath(c)}${id}/${query}`).set('Authorization', auth).set('Accept', TAXII);
}

/** Every stored version in a collection (manifest, all versions and spec versions). */
function manifestOf(c: string): Promise<ManifestRecord[]> {
  return readAllPages<ManifestRecord>(t, auth, `/inv/collections/${c}/manifest/`, { 'match[version]': 'all', 'match[spec_version]': '2.0,2.1', limit: '1000' });
}

function allObjects(c: string): Promise<Json[]> {
  return readAllPages<Json>(t, auth, objectsPath(c), { 'match[version]': 'all', 'match[spec_version]': '2.0,2.1', limit: '1000' });
}

const versionKey = (o: Json) => `${String(o.id)}|${String(o.modified ?? o.created ?? '*')}`;

/** The id under which the status reports an object: its id, or objects[i] without one. */
function describedId(object: unknown, index: number): string {
  const id = (object as Json | null)?.id;
  return typeof id === 'string' && id.length <= 300 ? id : `objects[${index}]`;
}

const byLevel = (pick: (e: IndexEntry) => boolean) => authoredIndex.filter(pick);
const jsonSyntax = byLevel((e) => e.category === 'json-syntax');
const documentOrEnvelope = byLevel((e) => e.level === 'document' || e.level === 'envelope');
const objectRejects = byLevel((e) => e.level === 'object' && e.category !== 'json-syntax' && e.expected === 'reject');
const objectWarnings = byLevel((e) => e.level === 'object' && e.expected === 'accept-with-warning');
const bundles = byLevel((e) => e.level === 'bundle');

describe('the authored corpus is covered level by level', () => {
  it('assigns every case of index.json to exactly one group below', () => {
    const groups = [jsonSyntax, documentOrEnvelope, objectRejects, objectWarnings, bundles];
    const assigned = groups.flat().map((e) => e.case_id);
    expect(new Set(assigned).size).toBe(assigned.length);
    expect(assigned.sort()).toEqual(authoredIndex.map((e) => e.case_id).sort());
    expect(jsonSyntax.map((e) => e.case_id)).toEqual(['INV-001', 'INV-002', 'INV-003', 'INV-004', 'INV-005']);
    expect(documentOrEnvelope.map((e) => e.case_id).sort()).toEqual(['INV-006', 'INV-007', 'INV-097', 'INV-098']);
    expect(bundles.map((e) => e.case_id)).toEqual(['INV-090', 'INV-091', 'INV-092', 'INV-093', 'INV-094', 'INV-095', 'INV-096', 'INV-099']);
    expect(objectWarnings.map((e) => e.case_id)).toEqual(['INV-042', 'INV-054']);
    const unlisted = [...objectRejects, ...objectWarnings].filter((e) => !(e.case_id in MENTIONS)).map((e) => e.case_id);
    expect(unlisted).toEqual([]);
  });
});

describe('json-syntax (INV-001…005): 400 with the TAXII error resource, nothing stored', () => {
  it.each(jsonSyntax.map((e) => [e.case_id, e.rule, e] as const))('%s: %s', async (_id, _rule, entry) => {
    const bytes = caseBytes(entry);
    const error = errorOf(await post(REJECTS, bytes), 400);
    expect(error.description).toMatch(/JSON|UTF-8|empty/);
    for (const id of ['identity--93f86a60-cf1f-4285-882e-6691bcbfddb9', 'indicator--04f05593-2a58-4e33-b4f0-d6febfd893b0']) {
      expect((await getObject(REJECTS, id)).status).toBe(404);
    }
  });

  it('answers the same to the bodies sent as a STIX bundle (application/stix+json;version=2.1)', async () => {
    for (const entry of jsonSyntax) errorOf(await post(REJECTS, caseBytes(entry), STIX21), 400);
  });
});

describe('document and envelope level (INV-006, 007, 097, 098): 422 with a readable description', () => {
  const explains: Record<string, RegExp> = {
    'INV-006': /JSON object/,
    'INV-007': /JSON object/,
    'INV-097': /"objects" must be a list/,
    'INV-098': /"more" must be a boolean/,
  };
  it.each(documentOrEnvelope.map((e) => [e.case_id, e.rule, e] as const))('%s: %s', async (id, _rule, entry) => {
    const error = errorOf(await post(REJECTS, caseBytes(entry)), 422);
    expect(error.description).toMatch(explains[id]!);
  });

  it('answers 422 to the top-level array and string sent as a STIX bundle too', async () => {
    for (const id of ['INV-006', 'INV-007']) errorOf(await post(REJECTS, caseBytes(authoredCase(id)), STIX21), 422);
  });
});

describe('object level, expected "reject": a failure naming the property, nothing stored', () => {
  it.each(objectRejects.map((e) => [e.case_id, e.rule, e] as const))('%s: %s', async (caseId, _rule, entry) => {
    const object = loadCase(entry);
    const status = statusOf(await post(REJECTS, envelopeOf(caseBytes(entry))), 1);
    expect(status.success_count).toBe(0);
    const [failure] = status.failures!;
    expect(failure!.id).toBe(describedId(object, 0));
    expect(failure!.message).toEqual(expect.any(String));
    const needles = MENTIONS[caseId]!;
    expect(mentionsAll([failure!.message!], needles), `${caseId}: "${failure!.message}" should mention ${JSON.stringify(needles)}`).toBe(true);
    expect(failure!.message).not.toMatch(/\n\s+at /);
    if (STIX_ID.test(failure!.id)) expect((await getObject(REJECTS, failure!.id)).status).toBe(404);
  });

  it('left the collection that received every rejected case (and every unparseable body) empty', async () => {
    expect(await manifestOf(REJECTS)).toEqual([]);
  });
});

describe('object level, expected "accept-with-warning": a success whose message carries the warning', () => {
  it.each(objectWarnings.map((e) => [e.case_id, e.rule, e] as const))('%s: %s', async (caseId, _rule, entry) => {
    const c = collection(`warn ${caseId}`);
    const object = loadCase(entry) as Json;
    const status = statusOf(await post(c, envelopeOf(caseBytes(entry))), 1);
    expect(status.failure_count).toBe(0);
    const [success] = status.successes!;
    expect(success).toMatchObject({ id: object.id, version: object.modified });
    expect(success!.message).toMatch(/warning/);
    const needles = MENTIONS[caseId]!;
    expect(mentionsAll([success!.message!], needles), `${caseId}: "${success!.message}" should mention ${JSON.stringify(needles)}`).toBe(true);
    const stored = await getObject(c, String(object.id));
    expect(stored.status).toBe(200);
    expect(JSON.parse(stored.text).objects).toEqual([object]);
  });
});

describe('bundle level, posted as application/stix+json;version=2.1', () => {
  const bundleBytes = (caseId: string) => caseBytes(authoredCase(caseId));
  const members = (caseId: string) => (loadCase(authoredCase(caseId)) as { objects: Json[] }).objects;

  it.each([
    ['INV-090', /"type": "bundle"/],
    ['INV-091', /"id" of the form bundle--/],
    ['INV-092', /"objects" must be a list/],
    ['INV-093', /"objects" is empty/],
  ] as const)('%s: 422 for a malformed bundle, nothing stored', async (caseId, explanation) => {
    const c = collection('bundle rejects');
    const error = errorOf(await post(c, bundleBytes(caseId), STIX21), 422);
    expect(error.description).toMatch(explanation);
    expect(await manifestOf(c)).toEqual([]);
  });

  it('INV-094: partial success, the valid member stored and the indicator without pattern in failures', async () => {
    const c = collection('bundle INV-094');
    const [identity, indicatorWithoutPattern] = members('INV-094');
    const status = statusOf(await post(c, bundleBytes('INV-094'), STIX21), 2);
    expect(status.successes!.map((s) => s.id)).toEqual([identity!.id]);
    expect(status.failures!.map((f) => f.id)).toEqual([indicatorWithoutPattern!.id]);
    expect(status.failures![0]!.message).toMatch(/'pattern'/);
    expect(JSON.parse((await getObject(c, String(identity!.id))).text).objects).toEqual([identity]);
    expect((await getObject(c, String(indicatorWithoutPattern!.id))).status).toBe(404);
  });

  it('INV-095: the same object twice in one bundle is two successes and one stored version', async () => {
    const c = collection('bundle INV-095');
    const [first, second] = members('INV-095');
    expect(second).toEqual(first);
    const status = statusOf(await post(c, bundleBytes('INV-095'), STIX21), 2);
    expect(status.success_count).toBe(2);
    expect(status.successes!.map((s) => [s.id, s.version])).toEqual([
      [first!.id, first!.modified],
      [first!.id, first!.modified],
    ]);
    const versions = await readAllPages<string>(t, auth, `${objectsPath(c)}${String(first!.id)}/versions/`, {}, 'versions');
    expect(versions).toEqual([first!.modified]);
    expect(await manifestOf(c)).toHaveLength(1);
  });

  it('INV-096: a bundle nested in a bundle is a failure ("a bundle is not a STIX object"), nothing stored', async () => {
    const c = collection('bundle INV-096');
    const status = statusOf(await post(c, bundleBytes('INV-096'), STIX21), 1);
    expect(status.success_count).toBe(0);
    expect(status.failures![0]!.message).toMatch(/bundle is not a STIX object/);
    expect(await manifestOf(c)).toEqual([]);
  });

  it('INV-099: the same id and modified with different content keeps the first copy', async () => {
    const c = collection('bundle INV-099');
    const [first, second] = members('INV-099');
    expect(second).not.toEqual(first);
    expect(second!.modified).toBe(first!.modified);
    const status = statusOf(await post(c, bundleBytes('INV-099'), STIX21), 2);
    expect(status.success_count).toBe(2);
    const stored = await getObject(c, String(first!.id), '?match[version]=all');
    expect(JSON.parse(stored.text).objects).toEqual([first]);
  });
});

describe("cti-stix-validator's example files and the invalid OASIS example found in the wild", () => {
  const example = (name: string) => readFileSync(join(EXAMPLES, name));

  it('invalid_braces.json and invalid_comma.json (not JSON): 400', async () => {
    for (const name of ['invalid_braces.json', 'invalid_comma.json']) {
      errorOf(await post(REJECTS, envelopeOf(example(name))), 400);
      errorOf(await post(REJECTS, example(name), STIX21), 400);
    }
  });

  it('invalid_identity.json (no modified): a failure naming modified', async () => {
    const status = statusOf(await post(REJECTS, envelopeOf(example('invalid_identity.json'))), 1);
    expect(status.failures![0]!.message).toContain("'modified'");
  });

  it('invalid_timestamp.json (modified before created, which the schemas accept): a failure saying so', async () => {
    const status = statusOf(await post(REJECTS, envelopeOf(example('invalid_timestamp.json'))), 1);
    expect(status.failures![0]!.message).toMatch(/modified .* must be later than or equal to created/);
  });

  it('nothing of the invalid examples was stored', async () => {
    expect(await manifestOf(REJECTS)).toEqual([]);
  });

  it.each(VALID_EXAMPLES)('%s: accepted and stored as posted', async (name) => {
    const c = collection(name);
    const document = JSON.parse(example(name).toString('utf8')) as Json;
    const isBundle = document.type === 'bundle';
    const objects = isBundle ? (document.objects as Json[]) : [document];
    const res = isBundle ? await post(c, example(name), STIX21) : await post(c, envelopeOf(example(name)));
    const status = statusOf(res, objects.length);
    expect(status.failure_count).toBe(0);
    if (name === 'identity_custom.json' || name === 'tool.json') {
      // custom properties without the x_ prefix (foo, foo_value, bar_value) are worth a warning
      expect(status.successes![0]!.message).toMatch(/x_/);
    }
    expect(await allObjects(c)).toEqual(objects);
  });

  it('in-the-wild TLP 2.0 example: the bundle without "type" is refused (422), its objects are judged one by one', async () => {
    const c = collection('in the wild');
    const bytes = readFileSync(IN_THE_WILD);
    const error = errorOf(await post(c, bytes, STIX21), 422);
    expect(error.description).toMatch(/"type": "bundle"/);
    expect(await manifestOf(c)).toEqual([]);

    const objects = (JSON.parse(bytes.toString('utf8')) as { objects: Json[] }).objects;
    const status = statusOf(await post(c, JSON.stringify({ objects })), 3);
    const broken = objects.find((o) => o.created === '2022-101-27T13:49:54.326Z')!;
    expect(status.failures!.map((f) => f.id)).toEqual([broken.id]);
    expect(status.failures![0]!.message).toMatch(/created/);
    const stored = await allObjects(c);
    expect(stored.map((o) => o.id).sort()).toEqual(objects.filter((o) => o !== broken).map((o) => o.id).sort());
  });
});

describe('one envelope mixing valid objects with every invalid object-level case', () => {
  it('stores exactly the valid ones and loses nothing already stored', async () => {
    // Already stored: the unmutated bases of the cases (same ids and versions as most of them).
    const controls = readFileSync(join(AUTHORED, 'valid-controls.json'));
    const controlObjects = (JSON.parse(controls.toString('utf8')) as { objects: Json[] }).objects;
    statusOf(await post(MIX, controls, STIX21), controlObjects.length);
    const before = await allObjects(MIX);
    expect((await manifestOf(MIX)).length).toBe(controlObjects.length);
    expect(before.length).toBe(controlObjects.length);

    const mal = malware();
    const fresh: Json[] = [indicator(), mal, ipv4('198.51.100.77'), relationship(`indicator--${uuidv4()}`, mal.id)];
    const warnings = objectWarnings.map((e) => caseBytes(e)); // valid: same id and version as a stored control
    const rejects = objectRejects.map((e) => caseBytes(e));
    // Interleave: valid, invalid, invalid, valid, …
    const parts: { bytes: Buffer; valid: boolean }[] = [];
    const valid = [...fresh.map((o) => Buffer.from(JSON.stringify(o))), ...warnings];
    let v = 0;
    rejects.forEach((bytes, i) => {
      if (i % 2 === 0 && v < valid.length) parts.push({ bytes: valid[v++]!, valid: true });
      parts.push({ bytes, valid: false });
    });
    while (v < valid.length) parts.push({ bytes: valid[v++]!, valid: true });

    const status = statusOf(await post(MIX, envelopeOf(...parts.map((p) => p.bytes))), parts.length);
    expect(status.success_count).toBe(valid.length);
    expect(status.failure_count).toBe(rejects.length);
    const expectedFailures = parts
      .map((p, i) => (p.valid ? undefined : describedId(JSON.parse(p.bytes.toString('utf8')), i)))
      .filter((id): id is string => id !== undefined);
    expect(status.failures!.map((f) => f.id).sort()).toEqual(expectedFailures.sort());
    for (const failure of status.failures!) expect(failure.message?.length).toBeGreaterThan(5);

    const after = await allObjects(MIX);
    // Nothing lost or changed: every version stored before is still there, byte for byte the same object.
    const afterByKey = new Map(after.map((o) => [versionKey(o), o]));
    for (const object of before) expect(afterByKey.get(versionKey(object)), versionKey(object)).toEqual(object);
    // Exactly the fresh valid objects were added (the warning cases repeat stored versions: the first copy stays).
    const beforeKeys = new Set(before.map(versionKey));
    const added = after.filter((o) => !beforeKeys.has(versionKey(o)));
    expect(added.map(versionKey).sort()).toEqual(fresh.map(versionKey).sort());
    for (const object of fresh) expect(afterByKey.get(versionKey(object))).toEqual(object);
    expect((await manifestOf(MIX)).length).toBe(controlObjects.length + fresh.length);
  });
});
