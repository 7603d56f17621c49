import { v4 as uuidv4 } from 'uuid';
import { generateApiKey, hashSecret } from '../../auth/secrets.js';
import type { Db } from '../../db/database.js';
import { badRequest, conflict, notFound } from '../../taxii/errors.js';
import { audit, type Actor } from './audit.js';
import { findOrganisation } from './catalog.js';

/**
 * Accounts and their API keys. Passwords and key secrets are hashed before
 * they are stored and never returned or audited; a new or rotated key is shown
 * once, in the answer to the request that made it.
 */
type AccountRow = { id: string; username: string; organisation_id: string; organisation: string; is_admin: boolean; disabled: boolean; password_hash: string | null };

function accountView(row: AccountRow) {
  return {
    id: row.id,
    username: row.username,
    organisation_id: row.organisation_id,
    organisation: row.organisation,
    admin: row.is_admin,
    disabled: row.disabled,
    has_password: row.password_hash !== null,
  };
}

function accountQuery(db: Db) {
  return db
    .selectFrom('accounts as a')
    .innerJoin('organisations as o', 'o.id', 'a.organisation_id')
    .select(['a.id', 'a.username', 'a.organisation_id', 'o.name as organisation', 'a.is_admin', 'a.disabled', 'a.password_hash']);
}

export async function listAccounts(db: Db, organisation?: string) {
  let query = accountQuery(db).orderBy('a.username');
  if (organisation) query = query.where('a.organisation_id', '=', (await findOrganisation(db, organisation)).id);
  return (await query.execute()).map(accountView);
}

export async function findAccount(db: Db, idOrUsername: string) {
  const isUuid = /^[0-9a-f-]{36}$/i.test(idOrUsername);
  const row = await accountQuery(db)
    .where((eb) => (isUuid ? eb.or([eb('a.id', '=', idOrUsername.toLowerCase()), eb('a.username', '=', idOrUsername)]) : eb('a.username', '=', idOrUsername)))
    .executeTakeFirst();
  if (!row) throw notFound(`The account ${idOrUsername}`);
  return accountView(row);
}

export interface AccountInput {
  username: string;
  organisation: string;
  password?: string;
  admin?: boolean;
  disabled?: boolean;
}

export async function createAccount(db: Db, actor: Actor, input: AccountInput, scryptCost: number) {
  const org = await findOrganisation(db, input.organisation);
  const passwordHash = input.password !== undefined ? await hashSecret(input.password, scryptCost) : null;
  const id = uuidv4();
  await db.transaction().execute(async (trx) => {
    if (await trx.selectFrom('accounts').select('id').where('username', '=', input.username).executeTakeFirst()) {
      throw conflict(`An account "${input.username}" already exists.`);
    }
    await trx
      .insertInto('accounts')
      .values({ id, organisation_id: org.id, username: input.username, password_hash: passwordHash, is_admin: input.admin ?? false, disabled: input.disabled ?? false })
      .execute();
    await audit(trx, actor, 'account.create', { type: 'account', id }, {
      username: input.username, organisation: org.name, admin: input.admin ?? false, password_set: passwordHash !== null,
    });
  });
  return findAccount(db, id);
}

export async function updateAccount(
  db: Db,
  actor: Actor,
  idOrUsername: string,
  changes: { organisation?: string; password?: string | null; admin?: boolean; disabled?: boolean },
  scryptCost: number,
) {
  const account = await findAccount(db, idOrUsername);
  const org = changes.organisation !== undefined ? await findOrganisation(db, changes.organisation) : undefined;
  const passwordHash = typeof changes.password === 'string' ? await hashSecret(changes.password, scryptCost) : changes.password;
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('accounts')
      .set({
        ...(org ? { organisation_id: org.id } : {}),
        ...(passwordHash !== undefined ? { password_hash: passwordHash } : {}),
        ...(changes.admin !== undefined ? { is_admin: changes.admin } : {}),
        ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}),
      })
      .where('id', '=', account.id)
      .execute();
    await audit(trx, actor, 'account.update', { type: 'account', id: account.id }, {
      ...(org ? { organisation: org.name } : {}),
      ...(changes.password !== undefined ? { password: changes.password === null ? 'removed' : 'changed' } : {}),
      ...(changes.admin !== undefined ? { admin: changes.admin } : {}),
      ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}),
    });
  });
  return findAccount(db, account.id);
}

export async function deleteAccount(db: Db, actor: Actor, idOrUsername: string) {
  const account = await findAccount(db, idOrUsername);
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('accounts').where('id', '=', account.id).execute();
    await audit(trx, actor, 'account.delete', { type: 'account', id: account.id }, { username: account.username });
  });
}

// --- API keys ----------------------------------------------------------------

function keyView(row: { id: string; key_id: string; label: string | null; created_at: Date; revoked_at: Date | null }) {
  return {
    id: row.id,
    key_id: row.key_id,
    label: row.label,
    created_at: row.created_at.toISOString(),
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

export async function listApiKeys(db: Db, account: string) {
  const { id } = await findAccount(db, account);
  const rows = await db.selectFrom('api_keys').select(['id', 'key_id', 'label', 'created_at', 'revoked_at']).where('account_id', '=', id).orderBy('created_at').execute();
  return rows.map(keyView);
}

/** Creates a key; the answer carries the key itself, which is never shown again. */
export async function createApiKey(db: Db, actor: Actor, account: string, label: string | null, scryptCost: number) {
  const owner = await findAccount(db, account);
  const key = generateApiKey();
  const secretHash = await hashSecret(key.secret, scryptCost);
  const id = uuidv4();
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('api_keys').values({ id, account_id: owner.id, key_id: key.keyId, secret_hash: secretHash, label, revoked_at: null }).execute();
    await audit(trx, actor, 'api-key.create', { type: 'api-key', id: key.keyId }, { account: owner.username, label });
  });
  const row = await db.selectFrom('api_keys').select(['id', 'key_id', 'label', 'created_at', 'revoked_at']).where('id', '=', id).executeTakeFirstOrThrow();
  return { ...keyView(row), account: owner.username, key: key.key };
}

async function findKey(db: Db, keyId: string) {
  const row = await db
    .selectFrom('api_keys as k')
    .innerJoin('accounts as a', 'a.id', 'k.account_id')
    .select(['k.id', 'k.key_id', 'k.label', 'k.created_at', 'k.revoked_at', 'a.username'])
    .where('k.key_id', '=', keyId)
    .executeTakeFirst();
  if (!row) throw notFound(`The API key ${keyId}`);
  return row;
}

/** Revokes a key at once: the next request presenting it is refused (checked on every request). */
export async function revokeApiKey(db: Db, actor: Actor, keyId: string) {
  const key = await findKey(db, keyId);
  if (key.revoked_at) throw badRequest(`The API key ${keyId} is already revoked.`);
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', key.id).execute();
    await audit(trx, actor, 'api-key.revoke', { type: 'api-key', id: keyId }, { account: key.username });
  });
  const row = await db.selectFrom('api_keys').select(['id', 'key_id', 'label', 'created_at', 'revoked_at']).where('id', '=', key.id).executeTakeFirstOrThrow();
  return { ...keyView(row), account: key.username };
}

/** Replaces a key in one transaction: the old one is revoked and a new one (same account and label) is shown once. */
export async function rotateApiKey(db: Db, actor: Actor, keyId: string, scryptCost: number) {
  const old = await findKey(db, keyId);
  if (old.revoked_at) throw badRequest(`The API key ${keyId} is revoked; create a new one instead.`);
  const owner = await findAccount(db, old.username);
  const key = generateApiKey();
  const secretHash = await hashSecret(key.secret, scryptCost);
  const id = uuidv4();
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', old.id).execute();
    await trx.insertInto('api_keys').values({ id, account_id: owner.id, key_id: key.keyId, secret_hash: secretHash, label: old.label, revoked_at: null }).execute();
    await audit(trx, actor, 'api-key.rotate', { type: 'api-key', id: keyId }, { account: owner.username, replaced_by: key.keyId });
  });
  const row = await db.selectFrom('api_keys').select(['id', 'key_id', 'label', 'created_at', 'revoked_at']).where('id', '=', id).executeTakeFirstOrThrow();
  return { ...keyView(row), account: owner.username, key: key.key, replaces: keyId };
}
