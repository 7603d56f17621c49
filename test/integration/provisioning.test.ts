import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import YAML from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifySecret } from '../../src/auth/secrets.js';
import {
  accountIdFor,
  applySeed,
  organisationIdFor,
  parseSeed,
  readSeedFile,
  SeedError,
  type ProvisioningSummary,
  type Seed,
} from '../../src/services/provisioning.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-database.js';

/**
 * Declarative provisioning from a seed file (src/services/provisioning.ts,
 * schemas/config/seed.json): creates what is missing, updates what differs,
 * in one transaction; the same seed twice changes nothing; secrets are stored
 * only as scrypt hashes. Runs on the embedded and on the real database.
 */
const SCRYPT_COST = 1024;
const C1 = '91A7B528-80EB-42ED-A74D-C6FBD5A26116'; // upper case in the seed: stored lower case
const C2 = '52892447-4d7e-4f70-b94d-d7f22742ff63';
const C3 = '64993447-4d7e-4f70-b94d-d7f22742ff63';
const MEMBER_ORG_ID = 'A1B2C3D4-0000-4000-8000-000000000001';
const PASSWORD = 'writer-password-in-the-seed';
const ADMIN_PASSWORD = 'admin-password-in-the-seed';
const ENV_PASSWORD = 'reader-password-from-the-environment';
const KEY_SECRET = 'SeedKeySecretSeedKeySecretSeedKeySecret0001';
const KEY = `thk_0123456789abcdef01234567_${KEY_SECRET}`;
const ENV_KEY_SECRET = 'EnvKeySecretEnvKeySecretEnvKeySecretEnv0002';
const ENV_KEY = `thk_fedcba9876543210fedcba98_${ENV_KEY_SECRET}`;
const ENV = { TEST_SEED_PASSWORD: ENV_PASSWORD, TEST_SEED_KEY: ENV_KEY };
const SCRYPT_HASH = /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/;

function baseSeed(): Seed {
  return {
    api_roots: [
      { id: 'api1', title: 'Sharing hub', description: 'Main root', max_content_length: 1024 * 1024, default: true },
      { id: 'api2', title: 'Second root' },
    ],
    collections: [
      { id: C1, api_root: 'api1', title: 'Indicators', alias: 'indicators', description: 'Main collection' },
      { id: C2, api_root: 'api1', title: 'Reports', media_types: ['application/stix+json;version=2.1', 'application/stix+json;version=2.0'] },
      { id: C3, api_root: 'api2', title: 'Other' },
    ],
    organisations: [{ name: 'Hub' }, { name: 'Member', id: MEMBER_ORG_ID }, { name: 'Operators' }],
    accounts: [
      {
        username: 'writer',
        organisation: 'Hub',
        password: PASSWORD,
        api_keys: [
          { label: 'ci', key: KEY },
          { label: 'from env', key_env: 'TEST_SEED_KEY' },
        ],
      },
      { username: 'reader', organisation: 'Member', password_env: 'TEST_SEED_PASSWORD' },
      { username: 'admin', organisation: 'Operators', password: ADMIN_PASSWORD, admin: true },
      { username: 'robot', organisation: 'Hub', disabled: true },
    ],
    permissions: [
      { organisation: 'Hub', collection: C1, read: true, write: true },
      { organisation: 'Hub', collection: C2, read: true },
      { organisation: 'Member', collection: 'indicators', read: true, write: false },
      { organisation: 'Operators', collection: C3, write: true },
    ],
  };
}
/** 2 API roots + 3 collections + 3 organisations + 4 accounts + 2 API keys + 4 permissions. */
const BASE_ITEMS = 18;

const TABLES = {
  api_roots: 'id',
  collections: 'id',
  organisations: 'id',
  accounts: 'id',
  api_keys: 'id',
  collection_permissions: 'organisation_id, collection_id',
} as const;

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());
beforeEach(async () => {
  // Children first (foreign keys).
  for (const table of ['collection_permissions', 'api_keys', 'accounts', 'organisations', 'collections', 'api_roots']) {
    await sql`delete from ${sql.table(table)}`.execute(database.db);
  }
});

const apply = (seed: Seed, env: Record<string, string | undefined> = ENV): Promise<ProvisioningSummary> =>
  applySeed(database.db, seed, { scryptCost: SCRYPT_COST, env });

/** The whole provisioning state; with rowVersions, each row's xmin too, so that even a no-op UPDATE shows. */
async function dump(rowVersions = false): Promise<string> {
  const out: Record<string, unknown[]> = {};
  for (const [table, order] of Object.entries(TABLES)) {
    const rows = await sql<Record<string, unknown>>`select ${sql.raw(rowVersions ? 'xmin::text as "xmin", ' : '')}* from ${sql.table(table)} order by ${sql.raw(order)}`.execute(
      database.db,
    );
    out[table] = rows.rows;
  }
  return JSON.stringify(out, null, 1);
}

async function expectSeedError(promise: Promise<unknown>, message: RegExp): Promise<SeedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the seed to be refused').toBeInstanceOf(SeedError);
  expect((error as Error).message).toMatch(message);
  return error as SeedError;
}

function parseError(text: string, message: RegExp): SeedError {
  let error: unknown;
  try {
    parseSeed(text);
  } catch (e) {
    error = e;
  }
  expect(error, 'expected the seed to be refused').toBeInstanceOf(SeedError);
  expect((error as Error).message).toMatch(message);
  return error as SeedError;
}

describe(`applying a seed (${testDatabaseKind()} database)`, () => {
  it('creates every API root, collection, organisation, account, API key and permission', async () => {
    expect(await apply(baseSeed())).toEqual({ created: BASE_ITEMS, updated: 0, unchanged: 0 });
    const db = database.db;

    const roots = await db.selectFrom('api_roots').selectAll().orderBy('id').execute();
    expect(roots.map(({ id, title, description, max_content_length, is_default }) => ({ id, title, description, max_content_length, is_default }))).toEqual([
      { id: 'api1', title: 'Sharing hub', description: 'Main root', max_content_length: 1024 * 1024, is_default: true },
      { id: 'api2', title: 'Second root', description: null, max_content_length: 10 * 1024 * 1024, is_default: false },
    ]);

    const collections = await db.selectFrom('collections').select(['id', 'api_root_id', 'title', 'description', 'alias', 'media_types']).orderBy('position').execute();
    expect(collections).toEqual([
      { id: C1.toLowerCase(), api_root_id: 'api1', title: 'Indicators', description: 'Main collection', alias: 'indicators', media_types: ['application/stix+json;version=2.1'] },
      { id: C2, api_root_id: 'api1', title: 'Reports', description: null, alias: null, media_types: ['application/stix+json;version=2.1', 'application/stix+json;version=2.0'] },
      { id: C3, api_root_id: 'api2', title: 'Other', description: null, alias: null, media_types: ['application/stix+json;version=2.1'] },
    ]);

    const organisations = await db.selectFrom('organisations').select(['id', 'name']).orderBy('name').execute();
    expect(organisations).toEqual([
      { id: organisationIdFor('Hub'), name: 'Hub' },
      { id: MEMBER_ORG_ID.toLowerCase(), name: 'Member' },
      { id: organisationIdFor('Operators'), name: 'Operators' },
    ]);

    const accounts = await db.selectFrom('accounts').selectAll().orderBy('username').execute();
    expect(accounts.map(({ id, username, organisation_id, is_admin, disabled }) => ({ id, username, organisation_id, is_admin, disabled }))).toEqual([
      { id: accountIdFor('admin'), username: 'admin', organisation_id: organisationIdFor('Operators'), is_admin: true, disabled: false },
      { id: accountIdFor('reader'), username: 'reader', organisation_id: MEMBER_ORG_ID.toLowerCase(), is_admin: false, disabled: false },
      { id: accountIdFor('robot'), username: 'robot', organisation_id: organisationIdFor('Hub'), is_admin: false, disabled: true },
      { id: accountIdFor('writer'), username: 'writer', organisation_id: organisationIdFor('Hub'), is_admin: false, disabled: false },
    ]);
    const byName = Object.fromEntries(accounts.map((a) => [a.username, a]));
    expect(await verifySecret(PASSWORD, byName.writer!.password_hash!)).toBe(true);
    expect(await verifySecret(ENV_PASSWORD, byName.reader!.password_hash!)).toBe(true);
    expect(await verifySecret(ADMIN_PASSWORD, byName.admin!.password_hash!)).toBe(true);
    expect(byName.robot!.password_hash).toBeNull();

    const keys = await db.selectFrom('api_keys').selectAll().orderBy('key_id').execute();
    expect(keys.map(({ account_id, key_id, label, revoked_at }) => ({ account_id, key_id, label, revoked_at }))).toEqual([
      { account_id: accountIdFor('writer'), key_id: '0123456789abcdef01234567', label: 'ci', revoked_at: null },
      { account_id: accountIdFor('writer'), key_id: 'fedcba9876543210fedcba98', label: 'from env', revoked_at: null },
    ]);
    expect(await verifySecret(KEY_SECRET, keys[0]!.secret_hash)).toBe(true);
    expect(await verifySecret(ENV_KEY_SECRET, keys[1]!.secret_hash)).toBe(true);

    const permissions = await db
      .selectFrom('collection_permissions')
      .innerJoin('organisations', 'organisations.id', 'collection_permissions.organisation_id')
      .select(['organisations.name', 'collection_id', 'can_read', 'can_write'])
      .orderBy('organisations.name')
      .orderBy('collection_id')
      .execute();
    expect(permissions).toEqual(
      [
        { name: 'Hub', collection_id: C2, can_read: true, can_write: false },
        { name: 'Hub', collection_id: C1.toLowerCase(), can_read: true, can_write: true },
        { name: 'Member', collection_id: C1.toLowerCase(), can_read: true, can_write: false },
        { name: 'Operators', collection_id: C3, can_read: false, can_write: true },
      ].sort((a, b) => a.name.localeCompare(b.name) || (a.collection_id < b.collection_id ? -1 : 1)),
    );
  });

  it('applying the same seed twice changes nothing: 0 created, 0 updated, every table byte-identical (row versions included)', async () => {
    await apply(baseSeed());
    const before = await dump(true);
    expect(await apply(baseSeed())).toEqual({ created: 0, updated: 0, unchanged: BASE_ITEMS });
    expect(await dump(true)).toBe(before);
    // And a third time, from the seed's YAML text.
    expect(await apply(parseSeed(YAML.stringify(baseSeed())))).toEqual({ created: 0, updated: 0, unchanged: BASE_ITEMS });
    expect(await dump(true)).toBe(before);
    // Control: the dump does see a change (here a password re-hashed with a new salt).
    expect(before).toContain('"xmin"');
    const changed = baseSeed();
    changed.accounts![0]!.password = 'another-password';
    await apply(changed);
    expect(await dump(true)).not.toBe(before);
  });

  it('the seed does not remove what it does not name (applying a smaller seed leaves the rest alone)', async () => {
    await apply(baseSeed());
    const before = await dump(true);
    expect(await apply({ api_roots: [baseSeed().api_roots![1]!] })).toEqual({ created: 0, updated: 0, unchanged: 1 });
    expect(await dump(true)).toBe(before);
  });
});

describe('a change in the seed is an update, and only that row changes', () => {
  beforeEach(async () => {
    await apply(baseSeed());
  });

  it('a changed API root title', async () => {
    const seed = baseSeed();
    seed.api_roots![1]!.title = 'Renamed root';
    expect(await apply(seed)).toEqual({ created: 0, updated: 1, unchanged: BASE_ITEMS - 1 });
    expect((await database.db.selectFrom('api_roots').select('title').where('id', '=', 'api2').executeTakeFirstOrThrow()).title).toBe('Renamed root');
  });

  it('a changed collection title, description, alias and media types', async () => {
    const seed = baseSeed();
    Object.assign(seed.collections![2]!, { title: 'Renamed', description: 'now described', alias: 'other', media_types: ['application/stix+json;version=2.0'] });
    expect(await apply(seed)).toEqual({ created: 0, updated: 1, unchanged: BASE_ITEMS - 1 });
    const row = await database.db.selectFrom('collections').selectAll().where('id', '=', C3).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ title: 'Renamed', description: 'now described', alias: 'other', media_types: ['application/stix+json;version=2.0'] });
  });

  it('a changed permission', async () => {
    const seed = baseSeed();
    seed.permissions![2] = { organisation: 'Member', collection: 'indicators', read: true, write: true };
    expect(await apply(seed)).toEqual({ created: 0, updated: 1, unchanged: BASE_ITEMS - 1 });
    const row = await database.db
      .selectFrom('collection_permissions')
      .selectAll()
      .where('organisation_id', '=', MEMBER_ORG_ID.toLowerCase())
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ collection_id: C1.toLowerCase(), can_read: true, can_write: true });
  });

  it('a changed password: the new one verifies, the old one no longer does', async () => {
    const seed = baseSeed();
    seed.accounts![0]!.password = 'a-brand-new-password';
    expect(await apply(seed)).toEqual({ created: 0, updated: 1, unchanged: BASE_ITEMS - 1 });
    const { password_hash } = await database.db.selectFrom('accounts').select('password_hash').where('username', '=', 'writer').executeTakeFirstOrThrow();
    expect(await verifySecret('a-brand-new-password', password_hash!)).toBe(true);
    expect(await verifySecret(PASSWORD, password_hash!)).toBe(false);
  });

  it('a changed password in the environment (password_env) is an update too', async () => {
    expect(await apply(baseSeed(), { ...ENV, TEST_SEED_PASSWORD: 'rotated-in-the-environment' })).toEqual({
      created: 0,
      updated: 1,
      unchanged: BASE_ITEMS - 1,
    });
    const { password_hash } = await database.db.selectFrom('accounts').select('password_hash').where('username', '=', 'reader').executeTakeFirstOrThrow();
    expect(await verifySecret('rotated-in-the-environment', password_hash!)).toBe(true);
  });

  it('a changed admin or disabled flag', async () => {
    const seed = baseSeed();
    seed.accounts![2]!.admin = false;
    seed.accounts![3]!.disabled = false;
    expect(await apply(seed)).toEqual({ created: 0, updated: 2, unchanged: BASE_ITEMS - 2 });
    const rows = await database.db.selectFrom('accounts').select(['username', 'is_admin', 'disabled']).where('username', 'in', ['admin', 'robot']).orderBy('username').execute();
    expect(rows).toEqual([
      { username: 'admin', is_admin: false, disabled: false },
      { username: 'robot', is_admin: false, disabled: false },
    ]);
  });

  it('a changed API key label, and a new secret for the same key id', async () => {
    const seed = baseSeed();
    const newSecret = 'RotatedSecretRotatedSecretRotatedSecret0003';
    seed.accounts![0]!.api_keys = [
      { label: 'ci (renamed)', key: KEY },
      { label: 'from env', key: `thk_fedcba9876543210fedcba98_${newSecret}` },
    ];
    expect(await apply(seed)).toEqual({ created: 0, updated: 2, unchanged: BASE_ITEMS - 2 });
    const keys = await database.db.selectFrom('api_keys').selectAll().orderBy('key_id').execute();
    expect(keys.map((k) => k.label)).toEqual(['ci (renamed)', 'from env']);
    expect(await verifySecret(KEY_SECRET, keys[0]!.secret_hash)).toBe(true);
    expect(await verifySecret(newSecret, keys[1]!.secret_hash)).toBe(true);
    expect(await verifySecret(ENV_KEY_SECRET, keys[1]!.secret_hash)).toBe(false);
  });

  it('moving the default API root to another root is an update, not an error', async () => {
    const summary = await apply({ api_roots: [{ id: 'api2', title: 'Second root', default: true }] });
    expect(summary.updated).toBeGreaterThanOrEqual(1);
    const roots = await database.db.selectFrom('api_roots').select(['id', 'is_default']).orderBy('id').execute();
    expect(roots).toEqual([
      { id: 'api1', is_default: false },
      { id: 'api2', is_default: true },
    ]);
  });
});

describe('secrets are stored only as scrypt hashes', () => {
  it('no plaintext password or key secret anywhere in the provisioning tables', async () => {
    await apply(baseSeed());
    const everything = await dump();
    for (const secret of [PASSWORD, ADMIN_PASSWORD, ENV_PASSWORD, KEY, KEY_SECRET, ENV_KEY, ENV_KEY_SECRET]) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(Buffer.from(secret).toString('base64url'));
    }
  });

  it('every stored password and key secret is an scrypt hash with the configured cost, each with its own salt', async () => {
    await apply(baseSeed());
    const accounts = await database.db.selectFrom('accounts').select('password_hash').where('password_hash', 'is not', null).execute();
    const keys = await database.db.selectFrom('api_keys').select('secret_hash').execute();
    const hashes = [...accounts.map((a) => a.password_hash!), ...keys.map((k) => k.secret_hash)];
    expect(hashes).toHaveLength(5);
    for (const hash of hashes) expect(hash).toMatch(SCRYPT_HASH);
    expect(new Set(hashes.map((h) => h.split('$')[4])).size).toBe(5);
  });

  it('two accounts with the same password get different hashes', async () => {
    await apply({
      organisations: [{ name: 'Org' }],
      accounts: [
        { username: 'one', organisation: 'Org', password: PASSWORD },
        { username: 'two', organisation: 'Org', password: PASSWORD },
      ],
    });
    const rows = await database.db.selectFrom('accounts').select('password_hash').execute();
    expect(rows[0]!.password_hash).not.toBe(rows[1]!.password_hash);
  });
});

describe('password_env and key_env read the environment', () => {
  it('the password and key come from the named variables', async () => {
    await apply(baseSeed());
    const reader = await database.db.selectFrom('accounts').select('password_hash').where('username', '=', 'reader').executeTakeFirstOrThrow();
    expect(await verifySecret(ENV_PASSWORD, reader.password_hash!)).toBe(true);
    const key = await database.db.selectFrom('api_keys').select('secret_hash').where('key_id', '=', 'fedcba9876543210fedcba98').executeTakeFirstOrThrow();
    expect(await verifySecret(ENV_KEY_SECRET, key.secret_hash)).toBe(true);
  });

  it('a missing password variable is a SeedError naming it, and nothing is written', async () => {
    const before = await dump(true);
    await expectSeedError(apply(baseSeed(), { TEST_SEED_KEY: ENV_KEY }), /TEST_SEED_PASSWORD/);
    expect(await dump(true)).toBe(before);
  });

  it('an empty password variable is a SeedError naming it', async () => {
    await expectSeedError(apply(baseSeed(), { ...ENV, TEST_SEED_PASSWORD: '' }), /TEST_SEED_PASSWORD/);
  });

  it('a missing key variable is a SeedError naming it, and nothing is written', async () => {
    const before = await dump(true);
    await expectSeedError(apply(baseSeed(), { TEST_SEED_PASSWORD: ENV_PASSWORD }), /TEST_SEED_KEY/);
    expect(await dump(true)).toBe(before);
  });

  it('a key variable holding something that is not an API key is a SeedError', async () => {
    await expectSeedError(apply(baseSeed(), { ...ENV, TEST_SEED_KEY: 'not-a-key' }), /api_keys\[1\].*not an API key/);
  });

  it('an API key entry with neither key nor key_env is a SeedError', async () => {
    const seed = baseSeed();
    seed.accounts![0]!.api_keys = [{ label: 'nothing' }];
    await expectSeedError(apply(seed), /give "key" or "key_env"/);
  });
});

describe('seed texts: YAML and JSON both parse (parseSeed, readSeedFile)', () => {
  const yamlText = `
# A seed in YAML
api_roots:
  - id: api1
    title: Sharing hub
    default: true
collections:
  - id: ${C2}
    api_root: api1
    title: Reports
organisations:
  - name: Hub
accounts:
  - username: writer
    organisation: Hub
    password: ${PASSWORD}
    api_keys:
      - label: ci
        key: ${KEY}
permissions:
  - organisation: Hub
    collection: ${C2}
    read: true
`;
  const expected: Seed = {
    api_roots: [{ id: 'api1', title: 'Sharing hub', default: true }],
    collections: [{ id: C2, api_root: 'api1', title: 'Reports' }],
    organisations: [{ name: 'Hub' }],
    accounts: [{ username: 'writer', organisation: 'Hub', password: PASSWORD, api_keys: [{ label: 'ci', key: KEY }] }],
    permissions: [{ organisation: 'Hub', collection: C2, read: true }],
  };

  it('YAML and JSON texts of one seed give the same seed', () => {
    expect(parseSeed(yamlText)).toEqual(expected);
    expect(parseSeed(JSON.stringify(expected))).toEqual(expected);
    expect(parseSeed(JSON.stringify(expected, null, 2))).toEqual(expected);
  });

  it('an empty text is an empty seed', () => {
    expect(parseSeed('')).toEqual({});
    expect(parseSeed('# nothing yet\n')).toEqual({});
  });

  it('readSeedFile reads .yaml and .json files; a missing file is a SeedError naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taxii-seed-'));
    try {
      writeFileSync(join(dir, 'seed.yaml'), yamlText);
      writeFileSync(join(dir, 'seed.json'), JSON.stringify(expected));
      expect(readSeedFile(join(dir, 'seed.yaml'))).toEqual(expected);
      expect(readSeedFile(join(dir, 'seed.json'))).toEqual(expected);
      expect(() => readSeedFile(join(dir, 'missing.yaml'))).toThrow(SeedError);
      expect(() => readSeedFile(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml/);
      // The parsed file applies.
      expect(await apply(readSeedFile(join(dir, 'seed.yaml')))).toEqual({ created: 6, updated: 0, unchanged: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('text that is neither YAML nor JSON is a SeedError', () => {
    parseError('{"api_roots": [', /not valid YAML or JSON/);
    parseError('api_roots: [\n  - id: x', /not valid YAML or JSON/);
  });
});

describe('malformed seeds fail with a SeedError whose message names the problem', () => {
  it('an unknown top-level property (a typo) is refused, and the message names it', () => {
    parseError(JSON.stringify({ api_root: [{ id: 'api1', title: 'x' }] }), /api_root\b/);
  });

  it('an unknown property inside an item is refused, and the message names it', () => {
    parseError(JSON.stringify({ collections: [{ id: C2, api_root: 'api1', title: 'x', titel: 'typo' }] }), /titel/);
  });

  it.each([
    ['UUID version 1', '91a7b528-80eb-12ed-a74d-c6fbd5a26116'],
    ['UUID version 5', '91a7b528-80eb-52ed-a74d-c6fbd5a26116'],
    ['a bad variant', '91a7b528-80eb-42ed-c74d-c6fbd5a26116'],
    ['not a UUID', 'indicators'],
    ['a STIX-style id', `x-collection--${C2}`],
  ])('a collection id that is not a UUIDv4 (%s) is refused (TAXII §2 identifier)', (_what, id) => {
    parseError(JSON.stringify({ collections: [{ id, api_root: 'api1', title: 'x' }] }), /\/collections\/0\/id/);
  });

  it('wrong types and missing required properties are refused with their path', () => {
    parseError(JSON.stringify({ api_roots: [{ id: 'api1' }] }), /\/api_roots\/0.*title/);
    parseError(JSON.stringify({ api_roots: [{ id: 'api1', title: 'x', max_content_length: 'big' }] }), /\/api_roots\/0\/max_content_length/);
    parseError(JSON.stringify({ accounts: [{ username: 'a', organisation: 'o', password: 'short' }] }), /\/accounts\/0\/password/);
    parseError(JSON.stringify({ accounts: [{ username: 'a', organisation: 'o', api_keys: [{ key: 'thk_nope' }] }] }), /\/accounts\/0\/api_keys\/0\/key/);
    parseError(JSON.stringify({ organisations: [{ name: 'x', id: 'not-a-uuid' }] }), /\/organisations\/0\/id/);
    parseError('[]', /must be object/);
  });

  describe('reference errors, applied over an existing provisioning: the transaction leaves the database unchanged', () => {
    let before: string;
    beforeEach(async () => {
      await apply(baseSeed());
      before = await dump(true);
    });

    /** The base seed with changes that would be written if the failing item did not roll them back. */
    function changedSeed(): Seed {
      const seed = baseSeed();
      seed.api_roots![1]!.title = 'Changed before the failure';
      seed.collections!.push({ id: '7e1f6a4c-1111-4222-8333-444455556666', api_root: 'api2', title: 'New collection' });
      seed.organisations!.push({ name: 'New organisation' });
      seed.accounts![0]!.password = 'changed-before-the-failure';
      seed.permissions![0]!.write = false;
      return seed;
    }

    it('an account in an organisation that does not exist', async () => {
      const seed = changedSeed();
      seed.accounts!.push({ username: 'ghost', organisation: 'Nowhere', password: PASSWORD });
      await expectSeedError(apply(seed), /account ghost: organisation "Nowhere" does not exist/);
      expect(await dump(true)).toBe(before);
    });

    it('a permission for an organisation that does not exist', async () => {
      const seed = changedSeed();
      seed.permissions!.push({ organisation: 'Nowhere', collection: C2, read: true });
      await expectSeedError(apply(seed), /organisation "Nowhere" does not exist/);
      expect(await dump(true)).toBe(before);
    });

    it('a permission on a collection that does not exist (by id and by alias)', async () => {
      for (const collection of ['0a0a0a0a-1111-4222-8333-444455556666', 'no-such-alias']) {
        const seed = changedSeed();
        seed.permissions!.push({ organisation: 'Hub', collection, read: true });
        await expectSeedError(apply(seed), new RegExp(`collection "${collection}" does not exist`));
        expect(await dump(true)).toBe(before);
      }
    });

    it('a collection in an API root that does not exist', async () => {
      const seed = changedSeed();
      seed.collections!.push({ id: '0b0b0b0b-1111-4222-8333-444455556666', api_root: 'nope', title: 'Orphan' });
      await expectSeedError(apply(seed), /API root "nope" does not exist/);
      expect(await dump(true)).toBe(before);
    });

    it('a collection moved to another API root', async () => {
      const seed = changedSeed();
      seed.collections![2]!.api_root = 'api1';
      await expectSeedError(apply(seed), /cannot move/);
      expect(await dump(true)).toBe(before);
    });

    it('an organisation declared with an id other than its existing one', async () => {
      const seed = changedSeed();
      seed.organisations![1]!.id = 'a1b2c3d4-0000-4000-8000-000000000099';
      await expectSeedError(apply(seed), /organisation "Member" already exists/);
      expect(await dump(true)).toBe(before);
    });

    it('an API key that belongs to another account', async () => {
      const seed = changedSeed();
      seed.accounts![2]!.api_keys = [{ label: 'stolen', key: KEY }];
      await expectSeedError(apply(seed), /belongs to another account/);
      expect(await dump(true)).toBe(before);
    });

    it('two default API roots: refused with a SeedError that says so', async () => {
      const seed = changedSeed();
      seed.api_roots![1]!.default = true;
      await expectSeedError(apply(seed), /only one API root can be the default/);
    });

    it('two default API roots: nothing is written', async () => {
      const seed = changedSeed();
      seed.api_roots![1]!.default = true;
      await expect(apply(seed)).rejects.toThrow();
      expect(await dump(true)).toBe(before);
    });
  });

  it('two default API roots in a seed applied to an empty database: a SeedError, and nothing is written', async () => {
    const before = await dump(true);
    await expectSeedError(
      apply({ api_roots: [{ id: 'a', title: 'A', default: true }, { id: 'b', title: 'B', default: true }] }),
      /only one API root can be the default/,
    );
    expect(await dump(true)).toBe(before);
  });
});
