import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySecret } from '../../src/auth/secrets.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { cliRunner, explain, type CliResult } from './cli-harness.js';

/**
 * The operator's command line (src/cli/), run in-process on a fresh
 * database: every administrative command at least once, their JSON and
 * readable output, the audit trail they leave, and their failures (exit code
 * 1 with one line on stderr; 2 for usage errors).
 */
const COLLECTION_ID = '2f8c3a3e-7d7b-4f0e-9a55-4f1b6a2d9c11';
const PASSWORD = 'a-password-of-some-length';
const OBJECT_ID = 'indicator--7a2bb4a1-5f1e-4b5d-9f6a-3c1d2e4f5a6b';
const ACTOR = `cli:${userInfo().username}`;

let database: TestDatabase;
let run: ReturnType<typeof cliRunner>;
let dir: string;

const ok = (result: CliResult) => {
  expect(result.code, explain(result)).toBe(0);
  return result;
};

/** A failure: the exit code, and one line on stderr that says what went wrong. */
const fails = (result: CliResult, code: number, message: RegExp) => {
  expect(result.code, explain(result)).toBe(code);
  expect(result.stderr).toMatch(message);
  if (code === 1) expect(result.stderr.trim().split('\n')).toHaveLength(1);
  return result;
};

beforeAll(async () => {
  database = await createTestDatabase();
  run = cliRunner(database);
  dir = mkdtempSync(join(tmpdir(), 'taxii-cli-admin-'));
});

afterAll(async () => {
  await database?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('taxii-hub (in-process)', () => {
  it('prints help (exit 0) and refuses unknown commands, missing arguments and bad values (exit 2)', async () => {
    const help = ok(await run(['--help']));
    expect(help.stdout).toContain('Usage: taxii-hub');
    for (const command of ['migrate', 'seed', 'api-roots', 'collections', 'organisations', 'accounts', 'keys', 'profiles', 'bind', 'grants', 'preview', 'audit', 'import', 'export']) {
      expect(help.stdout).toContain(`  ${command}`);
    }
    ok(await run(['import', '--help']));
    fails(await run(['nonsense']), 2, /unknown command 'nonsense'/);
    fails(await run([]), 2, /Usage: taxii-hub/);
    fails(await run(['api-roots', 'create', 'hub']), 2, /required option '--title <title>' not specified/);
    fails(await run(['api-roots', 'create', 'no/slash', '--title', 'x']), 2, /not an API root id/);
    fails(await run(['collections', 'create', '--api-root', 'hub', '--title', 'x', '--id', 'not-a-uuid']), 2, /not a UUIDv4/);
    fails(await run(['collections', 'create', '--api-root', 'hub', '--title', 'x', '--default-tlp', 'purple']), 2, /Allowed choices are clear, white, green/);
    // A password is never an argument: it would stay in the shell's history.
    fails(await run(['accounts', 'create', 'someone', '--organisation', 'x', '--password', 'secret-secret']), 2, /unknown option '--password'/);
  });

  it('migrate: brings the schema up to date and ships the default profiles', async () => {
    const first = ok(await run(['migrate', '--json']));
    expect(first.json()).toMatchObject({ applied: [] });
    expect(ok(await run(['migrate'])).stdout).toBe('schema is up to date\n');
    expect(ok(await run(['migrate', '--check', '--json'])).json()).toEqual({ pending: [] });
    const profiles = ok(await run(['profiles', 'list', '--json'])).json<{ id: string }[]>();
    expect(profiles.map((p) => p.id)).toEqual(['L1', 'L2', 'L3', 'L4']);
  });

  it('api-roots: create, list, update, delete; refusals are one line with exit code 1', async () => {
    const created = ok(await run(['api-roots', 'create', 'hub', '--title', 'Sharing hub', '--default', '--max-content-length', '2048', '--json'])).json();
    expect(created).toEqual({ id: 'hub', title: 'Sharing hub', description: null, max_content_length: 2048, default: true });
    ok(await run(['api-roots', 'create', 'spare', '--title', 'Spare', '--description', 'to delete']));
    const table = ok(await run(['api-roots', 'list'])).stdout;
    expect(table).toMatch(/^ID\s+TITLE\s+DEFAULT\s+MAX CONTENT LENGTH\s+DESCRIPTION\n/);
    expect(table).toMatch(/hub\s+Sharing hub\s+yes\s+2,048/);
    const updated = ok(await run(['api-roots', 'update', 'spare', '--title', 'Spare root', '--no-description', '--json'])).json();
    expect(updated).toMatchObject({ id: 'spare', title: 'Spare root', description: null, default: false });
    fails(await run(['api-roots', 'update', 'spare']), 2, /nothing to change/);
    fails(await run(['api-roots', 'create', 'admin', '--title', 'x']), 1, /^error: "admin" is reserved/);
    fails(await run(['api-roots', 'create', 'hub', '--title', 'again']), 1, /^error: An API root "hub" already exists\.\n$/);
    ok(await run(['api-roots', 'delete', 'spare']));
    fails(await run(['api-roots', 'delete', 'spare']), 1, /^error: The API root spare was not found\.\n$/);
    expect(ok(await run(['api-roots', 'list', '--json'])).json<{ id: string }[]>().map((r) => r.id)).toEqual(['hub']);
  });

  it('organisations: create, list, rename, delete', async () => {
    ok(await run(['organisations', 'create', 'Clinic Nord']));
    ok(await run(['organisations', 'create', 'Hub analysts']));
    const temp = ok(await run(['organisations', 'create', 'Temp', '--json'])).json<{ id: string; name: string }>();
    expect(temp.name).toBe('Temp');
    expect(ok(await run(['organisations', 'rename', 'Temp', 'Temporary', '--json'])).json()).toEqual({ id: temp.id, name: 'Temporary' });
    ok(await run(['organisations', 'delete', temp.id]));
    fails(await run(['organisations', 'create', 'Clinic Nord']), 1, /already exists/);
    fails(await run(['organisations', 'rename', 'Nobody', 'X']), 1, /The organisation Nobody was not found/);
    const list = ok(await run(['organisations', 'list', '--json'])).json<{ name: string }[]>();
    expect(list.map((o) => o.name)).toEqual(['Clinic Nord', 'Hub analysts']);
  });

  it('collections: create, list, update, permissions, delete; named by id, alias or root/alias', async () => {
    const created = ok(await run([
      'collections', 'create', '--api-root', 'hub', '--title', 'Indicators', '--id', COLLECTION_ID, '--alias', 'indicators',
      '--media-type', '2.1', '--media-type', '2.0', '--default-tlp', 'green', '--default-confidence', '70', '--json',
    ])).json();
    expect(created).toEqual({
      id: COLLECTION_ID, api_root: 'hub', title: 'Indicators', description: null, alias: 'indicators',
      media_types: ['application/stix+json;version=2.1', 'application/stix+json;version=2.0'],
      default_tlp: 'green', default_confidence: 70, pinned_profile: null,
    });
    const spare = ok(await run(['collections', 'create', '--api-root', 'hub', '--title', 'Spare', '--alias', 'spare', '--json'])).json<{ id: string }>();
    expect(ok(await run(['collections', 'list'])).stdout).toMatch(new RegExp(`${COLLECTION_ID}\\s+hub\\s+indicators\\s+Indicators\\s+2\\.1, 2\\.0\\s+green\\s+70`));
    const updated = ok(await run(['collections', 'update', 'hub/indicators', '--title', 'Actionable indicators', '--no-default-confidence', '--pinned-profile', 'L4', '--json'])).json();
    expect(updated).toMatchObject({ title: 'Actionable indicators', default_confidence: null, pinned_profile: 'L4' });
    ok(await run(['collections', 'update', COLLECTION_ID, '--no-pinned-profile']));
    fails(await run(['collections', 'update', 'indicators', '--pinned-profile', 'L9']), 1, /L9/);
    fails(await run(['collections', 'update', 'indicators', '--alias', 'spare']), 1, /The alias "spare" is already used in API root hub/);

    // Permissions.
    expect(ok(await run(['collections', 'grant-permission', 'indicators', 'Hub analysts', '--read', '--write', '--json'])).json()).toMatchObject({ organisation: 'Hub analysts', read: true, write: true });
    expect(ok(await run(['collections', 'grant-permission', 'indicators', 'Clinic Nord', '--read'])).stdout).toBe('Clinic Nord: read yes, write no\n');
    const permissions = ok(await run(['collections', 'permissions', 'indicators', '--json'])).json<{ organisation: string; read: boolean; write: boolean }[]>();
    expect(permissions.map(({ organisation, read, write }) => ({ organisation, read, write }))).toEqual([
      { organisation: 'Clinic Nord', read: true, write: false },
      { organisation: 'Hub analysts', read: true, write: true },
    ]);
    ok(await run(['collections', 'revoke-permission', 'indicators', 'Clinic Nord']));
    fails(await run(['collections', 'revoke-permission', 'indicators', 'Clinic Nord']), 1, /A permission of Clinic Nord on .* was not found/);
    ok(await run(['collections', 'grant-permission', 'indicators', 'Clinic Nord', '--read']));

    // Unknown collections.
    fails(await run(['collections', 'permissions', 'nope']), 1, /^error: The collection nope was not found\.\n$/);
    fails(await run(['collections', 'delete', '00000000-0000-4000-8000-000000000000']), 1, /The collection 00000000-0000-4000-8000-000000000000 was not found/);
    ok(await run(['collections', 'delete', spare.id]));
    expect(ok(await run(['collections', 'list', '--api-root', 'hub', '--json'])).json<{ id: string }[]>().map((c) => c.id)).toEqual([COLLECTION_ID]);
  });

  it('accounts: passwords only from the environment or standard input, stored hashed', async () => {
    const alice = ok(await run(['accounts', 'create', 'alice', '--organisation', 'Hub analysts', '--password-env', 'ALICE_PASSWORD', '--json'], { env: { ALICE_PASSWORD: PASSWORD } })).json();
    expect(alice).toMatchObject({ username: 'alice', organisation: 'Hub analysts', admin: false, disabled: false, has_password: true });
    ok(await run(['accounts', 'create', 'bob', '--organisation', 'Clinic Nord', '--password-stdin'], { stdin: `${PASSWORD}-bob\n` }));
    ok(await run(['accounts', 'create', 'sentinel', '--organisation', 'Clinic Nord']));
    const hashes = await database.db.selectFrom('accounts').select(['username', 'password_hash']).orderBy('username').execute();
    expect(hashes.map((h) => h.username)).toEqual(['alice', 'bob', 'sentinel']);
    expect(await verifySecret(PASSWORD, hashes[0]!.password_hash!)).toBe(true);
    expect(await verifySecret(`${PASSWORD}-bob`, hashes[1]!.password_hash!)).toBe(true);
    expect(hashes[2]!.password_hash).toBeNull();

    fails(await run(['accounts', 'create', 'carol', '--organisation', 'Clinic Nord', '--password-env', 'UNSET_VARIABLE']), 1, /the environment variable UNSET_VARIABLE is not set/);
    fails(await run(['accounts', 'create', 'carol', '--organisation', 'Clinic Nord', '--password-stdin'], { stdin: 'short\n' }), 1, /12 to 1024 characters/);
    fails(await run(['accounts', 'create', 'carol', '--organisation', 'Clinic Nord', '--password-stdin', '--password-env', 'X']), 2, /not both/);
    fails(await run(['accounts', 'create', 'carol', '--organisation', 'Nowhere']), 1, /The organisation Nowhere was not found/);
    fails(await run(['accounts', 'create', 'alice', '--organisation', 'Clinic Nord']), 1, /An account "alice" already exists/);

    const updated = ok(await run(['accounts', 'update', 'bob', '--admin', '--disable', '--remove-password', '--json'])).json();
    expect(updated).toMatchObject({ username: 'bob', admin: true, disabled: true, has_password: false });
    ok(await run(['accounts', 'update', 'bob', '--no-admin', '--enable', '--organisation', 'Hub analysts', '--password-env', 'P'], { env: { P: `${PASSWORD}-new` } }));
    const bob = await database.db.selectFrom('accounts').select('password_hash').where('username', '=', 'bob').executeTakeFirstOrThrow();
    expect(await verifySecret(`${PASSWORD}-new`, bob.password_hash!)).toBe(true);
    fails(await run(['accounts', 'update', 'bob']), 2, /nothing to change/);

    const list = ok(await run(['accounts', 'list', '--organisation', 'Hub analysts', '--json'])).json<{ username: string; admin: boolean; disabled: boolean }[]>();
    expect(list.map((a) => [a.username, a.admin, a.disabled])).toEqual([['alice', false, false], ['bob', false, false]]);
    expect(ok(await run(['accounts', 'list'])).stdout).toMatch(/alice\s+Hub analysts\s+no\s+no\s+set/);
    ok(await run(['accounts', 'delete', 'bob']));
    fails(await run(['accounts', 'delete', 'bob']), 1, /The account bob was not found/);
  });

  it('keys: a key is printed once; list, rotate, revoke', async () => {
    const created = ok(await run(['keys', 'create', 'sentinel', '--label', 'siem']));
    const key = created.stdout.trim();
    expect(key).toMatch(/^thk_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/only time the key is shown/);
    const keyId = key.slice(4, 28);
    const listed = ok(await run(['keys', 'list', 'sentinel', '--json'])).json<{ key_id: string; label: string; revoked_at: string | null }[]>();
    expect(listed).toEqual([expect.objectContaining({ key_id: keyId, label: 'siem', revoked_at: null })]);
    expect(JSON.stringify(listed)).not.toContain(key.slice(29));

    const rotated = ok(await run(['keys', 'rotate', keyId, '--json'])).json<{ key: string; key_id: string; replaces: string }>();
    expect(rotated.replaces).toBe(keyId);
    expect(rotated.key).toMatch(/^thk_[0-9a-f]{24}_/);
    fails(await run(['keys', 'rotate', keyId]), 1, /is revoked; create a new one instead/);
    expect(ok(await run(['keys', 'revoke', rotated.key_id])).stdout).toMatch(new RegExp(`^revoked API key ${rotated.key_id} of sentinel at `));
    fails(await run(['keys', 'revoke', rotated.key_id]), 1, /already revoked/);
    fails(await run(['keys', 'revoke', 'ffffffffffffffffffffffff']), 1, /The API key ffffffffffffffffffffffff was not found/);
    fails(await run(['keys', 'revoke', 'thk_notakeyid']), 2, /not an API key id/);
    expect(ok(await run(['keys', 'list', 'sentinel'])).stdout).toMatch(/KEY ID\s+LABEL\s+CREATED\s+REVOKED/);
  });

  it('profiles: show, create from a file or as a copy, edit; a bad policy file is refused with a clear message', async () => {
    const l1 = ok(await run(['profiles', 'show', 'L1', '--json'])).json<{ policy: Record<string, unknown>; revision: number }>();
    expect(l1.revision).toBe(1);
    expect(ok(await run(['profiles', 'show', 'L1'])).stdout).toMatch(/^id:\s+L1\n/);

    const copy = ok(await run(['profiles', 'create', 'clinic', '--name', 'Clinics', '--copy-of', 'L1', '--json'])).json<{ policy: unknown; revision: number }>();
    expect(copy).toMatchObject({ revision: 1, policy: l1.policy });

    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ ...l1.policy, tlp_ceiling: 'amber' }));
    const fromFile = ok(await run(['profiles', 'create', 'partners', '--name', 'Partners', '--level', 'L1+', '--file', policyFile, '--json'])).json();
    expect(fromFile).toMatchObject({ id: 'partners', level: 'L1+', policy: { tlp_ceiling: 'amber' } });

    const yamlFile = join(dir, 'policy.yaml');
    writeFileSync(yamlFile, 'types:\n  indicator: {}\ntlp_ceiling: green\nrevoked_expired: exclude\nunspecified_confidence: allow\nclosure: false\n');
    const edited = ok(await run(['profiles', 'edit', 'clinic', '--file', yamlFile, '--json'])).json<{ revision: number; revisions: unknown[] }>();
    expect(edited.revision).toBe(2);
    expect(edited.revisions).toHaveLength(2);
    expect(ok(await run(['profiles', 'edit', 'clinic', '--name', 'Clinic readers'])).stdout).toMatch(/name:\s+Clinic readers/);

    const badPolicy = join(dir, 'bad-policy.json');
    writeFileSync(badPolicy, JSON.stringify({ types: {}, tlp_ceiling: 'red', revoked_expired: 'exclude', unspecified_confidence: 'allow', closure: false }));
    fails(await run(['profiles', 'create', 'bad', '--name', 'Bad', '--file', badPolicy]), 1, /^error: invalid maturity policy: \/tlp_ceiling must be one of clear, green, amber, amber\+strict\n$/);
    fails(await run(['profiles', 'edit', 'clinic', '--file', badPolicy]), 1, /invalid maturity policy/);
    const brokenPolicy = join(dir, 'broken-policy.json');
    writeFileSync(brokenPolicy, '{\n  "types": {},\n  "tlp_ceiling": "green"\n  "closure": true\n}\n');
    fails(await run(['profiles', 'create', 'bad', '--name', 'Bad', '--file', brokenPolicy]), 1, /is not valid JSON: line 4, column 3: expected ',' or '}'/);
    fails(await run(['profiles', 'create', 'bad', '--name', 'Bad', '--file', join(dir, 'missing.json')]), 1, /cannot read the policy file .*missing\.json/);
    fails(await run(['profiles', 'create', 'bad', '--name', 'Bad']), 2, /give --file <policy.json> or --copy-of <profile>/);
    fails(await run(['profiles', 'create', 'bad', '--name', 'Bad', '--copy-of', 'L9']), 1, /copy_of names an unknown profile "L9"/);
    fails(await run(['profiles', 'create', 'clinic', '--name', 'Again', '--copy-of', 'L1']), 1, /A profile "clinic" already exists/);
    fails(await run(['profiles', 'show', 'L9']), 1, /The profile L9 was not found/);
    expect(ok(await run(['profiles', 'list'])).stdout).toMatch(/partners\s+Partners\s+L1\+\s+1\s+\S+\s+amber/);
  });

  it('bind, grants and preview', async () => {
    // An object to grant and preview: imported through the TAXII path.
    const bundle = join(dir, 'objects.json');
    writeFileSync(bundle, JSON.stringify({
      type: 'bundle',
      id: 'bundle--0b6e2a55-0b64-4c4b-9e0a-3c3d2a0f6b11',
      objects: [{
        type: 'indicator', spec_version: '2.1', id: OBJECT_ID, created: '2024-01-01T00:00:00.000Z', modified: '2024-01-01T00:00:00.000Z',
        name: 'Bad domain', pattern: "[domain-name:value = 'bad.example']", pattern_type: 'stix', valid_from: '2024-01-01T00:00:00Z', confidence: 90,
      }],
    }));
    expect(ok(await run(['import', 'indicators', bundle, '--json'])).json()).toMatchObject({ totals: { read: 1, stored: 1, failed: 0 } });

    expect(ok(await run(['bind', 'Clinic Nord', '--json'])).json()).toMatchObject({ organisation: 'Clinic Nord', profile: null, history: [] });
    expect(ok(await run(['preview', 'indicators', '--organisation', 'Clinic Nord'])).stdout).toMatch(/no maturity profile: it reads nothing/);
    const bound = ok(await run(['bind', 'Clinic Nord', 'clinic', '--json'])).json<{ profile: string; history: unknown[] }>();
    expect(bound.profile).toBe('clinic');
    expect(bound.history).toHaveLength(1);
    expect(ok(await run(['bind', 'Clinic Nord'])).stdout).toMatch(/profile:\s+clinic/);
    fails(await run(['bind', 'Clinic Nord', 'L9']), 1, /L9/);

    const preview = ok(await run(['preview', 'indicators', '--organisation', 'Clinic Nord', '--json'])).json<{ view: { profile: string }; counts: { total: number; by_type: Record<string, number> }; objects: { id: string }[] }>();
    expect(preview.view.profile).toBe('clinic');
    expect(preview.counts).toMatchObject({ total: 1, by_type: { indicator: 1 } });
    expect(preview.objects.map((o) => o.id)).toEqual([OBJECT_ID]);
    expect(ok(await run(['preview', 'indicators', '--profile', 'L1'])).stdout).toMatch(/^profile L1 on .*: profile L1 revision 1\nvisible objects: 1\n/);
    fails(await run(['preview', 'indicators']), 2, /give --organisation <organisation> or --profile <profile>/);
    fails(await run(['preview', 'indicators', '--organisation', 'Clinic Nord', '--profile', 'L1']), 2, /cannot be used with option/);
    fails(await run(['preview', 'nope', '--profile', 'L1']), 1, /The collection nope was not found/);

    expect(ok(await run(['grants', 'add', 'indicators', OBJECT_ID, 'Clinic Nord'])).stdout).toBe(`granted ${OBJECT_ID} to Clinic Nord\n`);
    const grants = ok(await run(['grants', 'list', 'indicators', '--json'])).json<{ object: string; organisation: string }[]>();
    expect(grants.map((g) => [g.object, g.organisation])).toEqual([[OBJECT_ID, 'Clinic Nord']]);
    ok(await run(['grants', 'remove', 'indicators', OBJECT_ID, 'Clinic Nord']));
    fails(await run(['grants', 'remove', 'indicators', OBJECT_ID, 'Clinic Nord']), 1, /A grant of .* to Clinic Nord was not found/);
    fails(await run(['grants', 'add', 'indicators', 'not-a-stix-id', 'Clinic Nord']), 2, /not a STIX id/);
    expect(ok(await run(['grants', 'list', 'indicators'])).stdout).toBe('(no grants)\n');
  });

  it('seed: applies a provisioning file; a bad one is refused', async () => {
    const seed = join(dir, 'seed.yaml');
    writeFileSync(seed, 'api_roots:\n  - id: seeded\n    title: Seeded root\norganisations:\n  - name: Seeded org\n');
    expect(ok(await run(['seed', seed, '--json'])).json()).toEqual({ file: seed, created: 2, updated: 0, unchanged: 0 });
    expect(ok(await run(['seed', seed])).stdout).toBe(`${seed}: 0 created, 0 updated, 2 unchanged\n`);
    const bad = join(dir, 'bad-seed.yaml');
    writeFileSync(bad, 'api_roots:\n  - id: x\n    colour: blue\n');
    fails(await run(['seed', bad]), 1, /unknown property "colour"/);
    fails(await run(['seed', join(dir, 'missing.yaml')]), 1, /cannot read seed file/);
  });

  it('audit: every change above, by cli:<OS user>, newest first', async () => {
    const entries = ok(await run(['audit', '--limit', '1000', '--json'])).json<{ id: number; actor: string; action: string; target_type: string; target_id: string | null }[]>();
    expect(new Set(entries.map((e) => e.actor))).toEqual(new Set([ACTOR]));
    const actions = new Set(entries.map((e) => e.action));
    for (const action of [
      'api-root.create', 'api-root.update', 'api-root.delete', 'organisation.create', 'organisation.update', 'organisation.delete',
      'collection.create', 'collection.update', 'collection.delete', 'permission.set', 'permission.remove', 'account.create',
      'account.update', 'account.delete', 'api-key.create', 'api-key.rotate', 'api-key.revoke', 'profile.create', 'profile.edit',
      'binding.set', 'grant.add', 'grant.remove', 'objects.import', 'seed.apply',
    ]) {
      expect(actions, action).toContain(action);
    }
    expect(entries.map((e) => e.id)).toEqual([...entries.map((e) => e.id)].sort((a, b) => b - a));
    const onCollection = ok(await run(['audit', '--target-type', 'collection', '--target-id', COLLECTION_ID, '--json'])).json<{ target_id: string }[]>();
    expect(onCollection.length).toBeGreaterThan(3);
    expect(new Set(onCollection.map((e) => e.target_id))).toEqual(new Set([COLLECTION_ID]));
    const page = ok(await run(['audit', '--limit', '2', '--before', String(entries[0]!.id), '--json'])).json<{ id: number }[]>();
    expect(page.map((e) => e.id)).toEqual([entries[1]!.id, entries[2]!.id]);
    expect(ok(await run(['audit', '--limit', '3'])).stdout).toMatch(/^ID\s+AT\s+ACTOR\s+ACTION\s+TARGET\s+DETAILS\n/);
    fails(await run(['audit', '--limit', 'many']), 2, /not a whole number/);
  });
});
