import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Transaction } from 'kysely';
import { v5 as uuidv5 } from 'uuid';
import YAML from 'yaml';
import { hashSecret, parseApiKey, verifySecret } from '../auth/secrets.js';
import type { Db } from '../db/database.js';
import type { Tables } from '../db/tables.js';
import { projectPath } from '../project-root.js';
import { tlpRank, type TlpLevel } from '../stix/tlp.js';
import {
  bindOrganisation,
  ensureDefaultProfiles,
  findProfile,
  grantObject,
  pinProfile,
  saveProfile,
  setCollectionDefaults,
  setCreatorConfidence,
  ViewPolicyError,
} from '../db/view-policies.js';
import { PolicyError } from '../views/policy-validation.js';
import { syncViewIndexes } from '../views/view-index.js';

/**
 * Declarative provisioning from a seed file (JSON or YAML): API roots,
 * collections, organisations, accounts with passwords and API keys, and
 * per-organisation collection permissions. Applying a seed creates what is
 * missing and updates what differs, in one transaction; applying the same seed
 * again changes nothing. Secrets are stored only as scrypt hashes.
 */
export interface Seed {
  api_roots?: { id: string; title: string; description?: string; max_content_length?: number; default?: boolean }[];
  collections?: {
    id: string; api_root: string; title: string; description?: string; alias?: string; media_types?: string[];
    default_tlp?: string; default_confidence?: number | null; pinned_profile?: string | null;
  }[];
  profiles?: { id: string; name: string; level?: string; copy_of?: string; policy?: unknown }[];
  bindings?: { organisation: string; profile: string }[];
  grants?: { collection: string; organisation: string; object: string }[];
  creator_confidence?: { identity: string; confidence: number }[];
  organisations?: { id?: string; name: string }[];
  accounts?: {
    username: string; organisation: string; admin?: boolean; disabled?: boolean;
    password?: string; password_env?: string;
    api_keys?: { label?: string; key?: string; key_env?: string }[];
  }[];
  permissions?: { organisation: string; collection: string; read?: boolean; write?: boolean }[];
}

export interface ProvisioningSummary {
  created: number;
  updated: number;
  unchanged: number;
}

export class SeedError extends Error {}

/** Ids derived from names, so that a seed without explicit ids applies to the same rows every time. */
const ID_NAMESPACE = '6f0c3f7e-3a55-4d0f-9a43-1c2d6e0b9a11';
export const organisationIdFor = (name: string) => uuidv5(`organisation:${name}`, ID_NAMESPACE);
export const accountIdFor = (username: string) => uuidv5(`account:${username}`, ID_NAMESPACE);

let validateSeed: ReturnType<Ajv2020['compile']> | undefined;

export function parseSeed(text: string, source = 'seed'): Seed {
  let document: unknown;
  try {
    document = YAML.parse(text); // YAML is a superset of JSON
  } catch (error) {
    // Only the position: the parser's message quotes the offending line, which may hold a secret.
    const position = (error as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new SeedError(`${source}: not valid YAML or JSON${position ? ` (line ${position.line}, column ${position.col})` : ''}`);
  }
  if (!validateSeed) {
    const ajv = new Ajv2020({ allErrors: true });
    addFormats.default(ajv);
    validateSeed = ajv.compile(JSON.parse(readFileSync(projectPath('schemas', 'config', 'seed.json'), 'utf8')));
  }
  if (!validateSeed(document ?? {})) {
    const problems = (validateSeed.errors ?? []).map((e) =>
      e.keyword === 'additionalProperties'
        ? `${e.instancePath || '/'}: unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`
        : `${e.instancePath || '/'} ${e.message}`,
    );
    throw new SeedError(`${source}: ${problems.join('; ')}`);
  }
  return (document ?? {}) as Seed;
}

export function readSeedFile(path: string): Seed {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SeedError(`cannot read seed file ${path}: ${(error as Error).message}`);
  }
  return parseSeed(text, path);
}

type Trx = Transaction<Tables>;

export async function applySeed(
  db: Db,
  seed: Seed,
  options: { scryptCost: number; env?: Record<string, string | undefined> },
): Promise<ProvisioningSummary> {
  const env = options.env ?? process.env;
  const summary: ProvisioningSummary = { created: 0, updated: 0, unchanged: 0 };
  const count = (outcome: 'created' | 'updated' | 'unchanged') => summary[outcome]++;
  const defaults = (seed.api_roots ?? []).filter((r) => r.default);
  if (defaults.length > 1) throw new SeedError(`only one API root can be the default (${defaults.map((r) => r.id).join(', ')})`);
  await db.transaction().execute(async (trx) => {
    // The default moves: clear the old one first (one default at most, by a unique index).
    if (defaults[0]) {
      await trx.updateTable('api_roots').set({ is_default: false }).where('is_default', '=', true).where('id', '!=', defaults[0].id).execute();
    }
    for (const root of seed.api_roots ?? []) count(await upsertApiRoot(trx, root));
    await ensureDefaultProfiles(trx);
    for (const profile of seed.profiles ?? []) count(await upsertProfile(trx, profile));
    for (const collection of seed.collections ?? []) count(await upsertCollection(trx, collection));
    for (const organisation of seed.organisations ?? []) count(await upsertOrganisation(trx, organisation));
    for (const account of seed.accounts ?? []) {
      for (const outcome of await upsertAccount(trx, account, options.scryptCost, env)) count(outcome);
    }
    for (const permission of seed.permissions ?? []) count(await upsertPermission(trx, permission));
    // A collection's view settings count as one more update when they change (the row was counted above).
    for (const collection of seed.collections ?? []) if ((await applyCollectionView(trx, collection)) === 'updated') count('updated');
    for (const binding of seed.bindings ?? []) {
      count(await viewStep(`binding of "${binding.organisation}"`, async () =>
        bindOrganisation(trx, await organisationId(trx, binding.organisation, 'binding'), binding.profile)));
    }
    for (const grant of seed.grants ?? []) {
      count(await viewStep(`grant of ${grant.object}`, async () =>
        grantObject(trx, await collectionIdOf(trx, grant.collection, `grant of ${grant.object}`), grant.object, await organisationId(trx, grant.organisation, 'grant'))));
    }
    for (const c of seed.creator_confidence ?? []) count(await setCreatorConfidence(trx, c.identity, c.confidence));
  });
  if ((seed.profiles ?? []).length > 0) await syncViewIndexes(db);
  return summary;
}

/** Runs a view-layer change, turning its refusals into seed errors that name the entry. */
async function viewStep<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof ViewPolicyError || error instanceof PolicyError) throw new SeedError(`${what}: ${error.message}`);
    throw error;
  }
}

async function upsertProfile(trx: Trx, p: NonNullable<Seed['profiles']>[number]): Promise<Outcome> {
  return viewStep(`profile "${p.id}"`, async () => {
    let policy = p.policy;
    if (policy === undefined) {
      const source = await findProfile(trx, p.copy_of!);
      if (!source) throw new SeedError(`profile "${p.id}": copy_of names an unknown profile "${p.copy_of}"`);
      policy = source.policy;
    }
    return saveProfile(trx, { id: p.id, name: p.name, level: p.level ?? null, policy }, 'seed');
  });
}

async function applyCollectionView(trx: Trx, c: NonNullable<Seed['collections']>[number]): Promise<Outcome> {
  const id = c.id.toLowerCase();
  const what = `collection ${id}`;
  const current = await trx.selectFrom('collections').select(['default_tlp', 'default_confidence', 'pinned_profile_id']).where('id', '=', id).executeTakeFirstOrThrow();
  const tlp = c.default_tlp === undefined ? current.default_tlp : tlpRank((c.default_tlp === 'white' ? 'clear' : c.default_tlp) as TlpLevel);
  const confidence = c.default_confidence === undefined ? current.default_confidence : c.default_confidence;
  const defaults = await setCollectionDefaults(trx, id, { tlp, confidence });
  const pin = c.pinned_profile === undefined ? 'unchanged' : await viewStep(what, () => pinProfile(trx, id, c.pinned_profile ?? null));
  return defaults === 'unchanged' && pin === 'unchanged' ? 'unchanged' : 'updated';
}

async function collectionIdOf(trx: Trx, idOrAlias: string, context: string): Promise<string> {
  const isUuid = /^[0-9a-f-]{36}$/i.test(idOrAlias);
  const rows = await trx
    .selectFrom('collections')
    .select('id')
    .where((eb) => (isUuid ? eb.or([eb('id', '=', idOrAlias.toLowerCase()), eb('alias', '=', idOrAlias)]) : eb('alias', '=', idOrAlias)))
    .execute();
  if (rows.length !== 1) {
    throw new SeedError(`${context}: collection "${idOrAlias}" ${rows.length ? 'is ambiguous (alias used in several API roots); use its id' : 'does not exist'}`);
  }
  return rows[0]!.id;
}

type Outcome = 'created' | 'updated' | 'unchanged';

function differs(current: Record<string, unknown>, wanted: Record<string, unknown>): boolean {
  return Object.entries(wanted).some(([k, v]) => JSON.stringify(current[k]) !== JSON.stringify(v));
}

/** Paths of the server's own endpoints, which an API root would shadow. */
export const RESERVED_API_ROOTS = new Set(['taxii2', 'admin', 'docs', 'openapi.json', 'metrics', 'healthz', 'readyz']);

async function upsertApiRoot(trx: Trx, root: NonNullable<Seed['api_roots']>[number]): Promise<Outcome> {
  if (RESERVED_API_ROOTS.has(root.id)) throw new SeedError(`API root "${root.id}": the name is reserved for the server's own endpoints`);
  const current = await trx.selectFrom('api_roots').selectAll().where('id', '=', root.id).executeTakeFirst();
  const wanted = {
    title: root.title,
    description: root.description ?? null,
    max_content_length: root.max_content_length ?? current?.max_content_length ?? 10 * 1024 * 1024,
    is_default: root.default ?? current?.is_default ?? false,
  };
  if (!current) {
    await trx.insertInto('api_roots').values({ id: root.id, ...wanted }).execute();
    return 'created';
  }
  if (!differs(current, wanted)) return 'unchanged';
  await trx.updateTable('api_roots').set(wanted).where('id', '=', root.id).execute();
  return 'updated';
}

async function upsertCollection(trx: Trx, c: NonNullable<Seed['collections']>[number]): Promise<Outcome> {
  const id = c.id.toLowerCase();
  const root = await trx.selectFrom('api_roots').select('id').where('id', '=', c.api_root).executeTakeFirst();
  if (!root) throw new SeedError(`collection ${id}: API root "${c.api_root}" does not exist`);
  const current = await trx.selectFrom('collections').selectAll().where('id', '=', id).executeTakeFirst();
  const wanted = {
    api_root_id: c.api_root,
    title: c.title,
    description: c.description ?? null,
    alias: c.alias ?? null,
    media_types: c.media_types ?? ['application/stix+json;version=2.1'],
  };
  if (!current) {
    await trx.insertInto('collections').values({ id, ...wanted }).execute();
    return 'created';
  }
  if (current.api_root_id !== c.api_root) throw new SeedError(`collection ${id} belongs to API root "${current.api_root_id}"; it cannot move`);
  if (!differs(current, wanted)) return 'unchanged';
  await trx.updateTable('collections').set(wanted).where('id', '=', id).execute();
  return 'updated';
}

async function upsertOrganisation(trx: Trx, o: NonNullable<Seed['organisations']>[number]): Promise<Outcome> {
  const current = await trx.selectFrom('organisations').selectAll().where('name', '=', o.name).executeTakeFirst();
  if (current) {
    if (o.id && o.id.toLowerCase() !== current.id) throw new SeedError(`organisation "${o.name}" already exists with id ${current.id}`);
    return 'unchanged';
  }
  await trx.insertInto('organisations').values({ id: (o.id ?? organisationIdFor(o.name)).toLowerCase(), name: o.name }).execute();
  return 'created';
}

async function organisationId(trx: Trx, name: string, context: string): Promise<string> {
  const row = await trx.selectFrom('organisations').select('id').where('name', '=', name).executeTakeFirst();
  if (!row) throw new SeedError(`${context}: organisation "${name}" does not exist`);
  return row.id;
}

function secretFrom(value: string | undefined, envName: string | undefined, env: Record<string, string | undefined>, what: string) {
  if (value !== undefined) return value;
  if (envName === undefined) return undefined;
  const fromEnv = env[envName];
  if (fromEnv === undefined || fromEnv === '') throw new SeedError(`${what}: environment variable ${envName} is not set`);
  return fromEnv;
}

async function upsertAccount(
  trx: Trx,
  a: NonNullable<Seed['accounts']>[number],
  scryptCost: number,
  env: Record<string, string | undefined>,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const orgId = await organisationId(trx, a.organisation, `account ${a.username}`);
  const password = secretFrom(a.password, a.password_env, env, `account ${a.username}`);
  const current = await trx.selectFrom('accounts').selectAll().where('username', '=', a.username).executeTakeFirst();
  const wanted = { organisation_id: orgId, is_admin: a.admin ?? false, disabled: a.disabled ?? false };
  let accountId: string;
  if (!current) {
    accountId = accountIdFor(a.username);
    await trx
      .insertInto('accounts')
      .values({ id: accountId, username: a.username, ...wanted, password_hash: password ? await hashSecret(password, scryptCost) : null })
      .execute();
    outcomes.push('created');
  } else {
    accountId = current.id;
    const passwordChanged =
      password !== undefined && (current.password_hash === null || !(await verifySecret(password, current.password_hash)));
    if (differs(current, wanted) || passwordChanged) {
      await trx
        .updateTable('accounts')
        .set({ ...wanted, ...(passwordChanged ? { password_hash: await hashSecret(password!, scryptCost) } : {}) })
        .where('id', '=', accountId)
        .execute();
      outcomes.push('updated');
    } else {
      outcomes.push('unchanged');
    }
  }
  for (const [i, k] of (a.api_keys ?? []).entries()) {
    const what = `account ${a.username} api_keys[${i}]`;
    const key = secretFrom(k.key, k.key_env, env, what);
    if (key === undefined) throw new SeedError(`${what}: give "key" or "key_env"`);
    const parts = parseApiKey(key);
    if (!parts) throw new SeedError(`${what}: not an API key of the form thk_<24 hex>_<43 base64url>`);
    outcomes.push(await upsertApiKey(trx, accountId, parts, k.label ?? null, scryptCost, what));
  }
  return outcomes;
}

async function upsertApiKey(
  trx: Trx,
  accountId: string,
  parts: { keyId: string; secret: string },
  label: string | null,
  scryptCost: number,
  what: string,
): Promise<Outcome> {
  const current = await trx.selectFrom('api_keys').selectAll().where('key_id', '=', parts.keyId).executeTakeFirst();
  if (!current) {
    await trx
      .insertInto('api_keys')
      .values({ id: uuidv5(`api-key:${parts.keyId}`, ID_NAMESPACE), account_id: accountId, key_id: parts.keyId, secret_hash: await hashSecret(parts.secret, scryptCost), label, revoked_at: null })
      .execute();
    return 'created';
  }
  if (current.account_id !== accountId) throw new SeedError(`${what}: this key belongs to another account`);
  const secretChanged = !(await verifySecret(parts.secret, current.secret_hash));
  if (!secretChanged && current.label === label) return 'unchanged';
  await trx
    .updateTable('api_keys')
    .set({ label, ...(secretChanged ? { secret_hash: await hashSecret(parts.secret, scryptCost) } : {}) })
    .where('id', '=', current.id)
    .execute();
  return 'updated';
}

async function upsertPermission(trx: Trx, p: NonNullable<Seed['permissions']>[number]): Promise<Outcome> {
  const orgId = await organisationId(trx, p.organisation, `permission on ${p.collection}`);
  const collectionId = await collectionIdOf(trx, p.collection, `permission for "${p.organisation}"`);
  const wanted = { can_read: p.read ?? false, can_write: p.write ?? false };
  const current = await trx
    .selectFrom('collection_permissions')
    .selectAll()
    .where('organisation_id', '=', orgId)
    .where('collection_id', '=', collectionId)
    .executeTakeFirst();
  if (!current) {
    await trx.insertInto('collection_permissions').values({ organisation_id: orgId, collection_id: collectionId, ...wanted }).execute();
    return 'created';
  }
  if (!differs(current, wanted)) return 'unchanged';
  await trx.updateTable('collection_permissions').set(wanted).where('organisation_id', '=', orgId).where('collection_id', '=', collectionId).execute();
  return 'updated';
}
