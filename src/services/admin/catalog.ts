import { sql, type Transaction } from 'kysely';
import { v4 as uuidv4 } from 'uuid';
import type { Db } from '../../db/database.js';
import type { Tables } from '../../db/tables.js';
import { pinProfile, setCollectionDefaults, ViewPolicyError } from '../../db/view-policies.js';
import { tlpName, tlpRank, type TlpLevel } from '../../stix/tlp.js';
import { badRequest, conflict, notFound } from '../../taxii/errors.js';
import { RESERVED_API_ROOTS } from '../provisioning.js';
import { audit, type Actor } from './audit.js';

/**
 * Operator operations on what the server offers: API roots, collections (with
 * their view settings), organisations and collection permissions. Each runs
 * in one transaction with its audit record; a failed one leaves nothing behind.
 */

export interface ApiRootInput {
  id: string;
  title: string;
  description?: string | null;
  max_content_length?: number;
  default?: boolean;
}


function apiRootView(row: { id: string; title: string; description: string | null; max_content_length: number; is_default: boolean }) {
  return { id: row.id, title: row.title, description: row.description, max_content_length: row.max_content_length, default: row.is_default };
}

export async function listApiRoots(db: Db) {
  return (await db.selectFrom('api_roots').selectAll().orderBy('id').execute()).map(apiRootView);
}

export async function getApiRoot(db: Db, id: string) {
  const row = await db.selectFrom('api_roots').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`The API root ${id}`);
  return apiRootView(row);
}

export async function createApiRoot(db: Db, actor: Actor, input: ApiRootInput, defaultMaxContentLength: number) {
  if (RESERVED_API_ROOTS.has(input.id)) throw badRequest(`"${input.id}" is reserved for the server's own paths.`);
  return db.transaction().execute(async (trx) => {
    if (await trx.selectFrom('api_roots').select('id').where('id', '=', input.id).executeTakeFirst()) {
      throw conflict(`An API root "${input.id}" already exists.`);
    }
    if (input.default) await trx.updateTable('api_roots').set({ is_default: false }).where('is_default', '=', true).execute();
    await trx
      .insertInto('api_roots')
      .values({
        id: input.id,
        title: input.title,
        description: input.description ?? null,
        max_content_length: input.max_content_length ?? defaultMaxContentLength,
        is_default: input.default ?? false,
      })
      .execute();
    await audit(trx, actor, 'api-root.create', { type: 'api-root', id: input.id }, { ...input });
    return apiRootView(await trx.selectFrom('api_roots').selectAll().where('id', '=', input.id).executeTakeFirstOrThrow());
  });
}

export async function updateApiRoot(db: Db, actor: Actor, id: string, changes: Partial<Omit<ApiRootInput, 'id'>>) {
  return db.transaction().execute(async (trx) => {
    if (!(await trx.selectFrom('api_roots').select('id').where('id', '=', id).executeTakeFirst())) throw notFound(`The API root ${id}`);
    if (changes.default) await trx.updateTable('api_roots').set({ is_default: false }).where('is_default', '=', true).execute();
    const set = {
      ...(changes.title !== undefined ? { title: changes.title } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.max_content_length !== undefined ? { max_content_length: changes.max_content_length } : {}),
      ...(changes.default !== undefined ? { is_default: changes.default } : {}),
    };
    if (Object.keys(set).length > 0) await trx.updateTable('api_roots').set(set).where('id', '=', id).execute();
    await audit(trx, actor, 'api-root.update', { type: 'api-root', id }, changes);
    return apiRootView(await trx.selectFrom('api_roots').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
  });
}

export async function deleteApiRoot(db: Db, actor: Actor, id: string) {
  await db.transaction().execute(async (trx) => {
    const collections = await trx.selectFrom('collections').select('id').where('api_root_id', '=', id).execute();
    if (collections.length > 0) throw conflict(`The API root ${id} still holds ${collections.length} collection(s); delete them first.`);
    const result = await trx.deleteFrom('api_roots').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound(`The API root ${id}`);
    await audit(trx, actor, 'api-root.delete', { type: 'api-root', id });
  });
}

// --- collections ----------------------------------------------------------

export interface CollectionInput {
  id?: string;
  api_root: string;
  title: string;
  description?: string | null;
  alias?: string | null;
  media_types?: string[];
  default_tlp?: TlpLevel | 'white';
  default_confidence?: number | null;
  pinned_profile?: string | null;
}

type CollectionRow = {
  id: string; api_root_id: string; title: string; description: string | null; alias: string | null; media_types: string[];
  default_tlp: number; default_confidence: number | null; pinned_profile_id: string | null;
};

function collectionView(row: CollectionRow) {
  return {
    id: row.id,
    api_root: row.api_root_id,
    title: row.title,
    description: row.description,
    alias: row.alias,
    media_types: row.media_types,
    default_tlp: tlpName(row.default_tlp),
    default_confidence: row.default_confidence,
    pinned_profile: row.pinned_profile_id,
  };
}

const collectionColumns = ['id', 'api_root_id', 'title', 'description', 'alias', 'media_types', 'default_tlp', 'default_confidence', 'pinned_profile_id'] as const;

export async function listCollections(db: Db, apiRoot?: string) {
  let query = db.selectFrom('collections').select(collectionColumns).orderBy('position');
  if (apiRoot) query = query.where('api_root_id', '=', apiRoot);
  return (await query.execute()).map(collectionView);
}

export async function getCollection(db: Db, id: string) {
  const row = await db.selectFrom('collections').select(collectionColumns).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`The collection ${id}`);
  return collectionView(row);
}

const tlpOf = (level: TlpLevel | 'white') => tlpRank(level === 'white' ? 'clear' : level);

async function applyViewSettings(trx: Transaction<Tables>, id: string, input: Partial<CollectionInput>) {
  if (input.default_tlp !== undefined || input.default_confidence !== undefined) {
    const current = await trx.selectFrom('collections').select(['default_tlp', 'default_confidence']).where('id', '=', id).executeTakeFirstOrThrow();
    await setCollectionDefaults(trx, id, {
      tlp: input.default_tlp !== undefined ? tlpOf(input.default_tlp) : current.default_tlp,
      confidence: input.default_confidence !== undefined ? input.default_confidence : current.default_confidence,
    });
  }
  if (input.pinned_profile !== undefined) {
    try {
      await pinProfile(trx, id, input.pinned_profile);
    } catch (error) {
      if (error instanceof ViewPolicyError) throw badRequest(error.message);
      throw error;
    }
  }
}

export async function createCollection(db: Db, actor: Actor, input: CollectionInput) {
  const id = (input.id ?? uuidv4()).toLowerCase();
  return db.transaction().execute(async (trx) => {
    if (!(await trx.selectFrom('api_roots').select('id').where('id', '=', input.api_root).executeTakeFirst())) {
      throw badRequest(`The API root "${input.api_root}" does not exist.`);
    }
    if (await trx.selectFrom('collections').select('id').where('id', '=', id).executeTakeFirst()) throw conflict(`A collection ${id} already exists.`);
    if (input.alias && (await trx.selectFrom('collections').select('id').where('api_root_id', '=', input.api_root).where('alias', '=', input.alias).executeTakeFirst())) {
      throw conflict(`The alias "${input.alias}" is already used in API root ${input.api_root}.`);
    }
    await trx
      .insertInto('collections')
      .values({
        id,
        api_root_id: input.api_root,
        title: input.title,
        description: input.description ?? null,
        alias: input.alias ?? null,
        media_types: input.media_types ?? ['application/stix+json;version=2.1'],
      })
      .execute();
    await applyViewSettings(trx, id, input);
    await audit(trx, actor, 'collection.create', { type: 'collection', id }, { ...input, id });
    return collectionView(await trx.selectFrom('collections').select(collectionColumns).where('id', '=', id).executeTakeFirstOrThrow());
  });
}

export async function updateCollection(db: Db, actor: Actor, id: string, changes: Partial<Omit<CollectionInput, 'id' | 'api_root'>>) {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('collections').select(['id', 'api_root_id']).where('id', '=', id).executeTakeFirst();
    if (!current) throw notFound(`The collection ${id}`);
    if (changes.alias && (await trx.selectFrom('collections').select('id').where('api_root_id', '=', current.api_root_id).where('alias', '=', changes.alias).where('id', '!=', id).executeTakeFirst())) {
      throw conflict(`The alias "${changes.alias}" is already used in API root ${current.api_root_id}.`);
    }
    const set = {
      ...(changes.title !== undefined ? { title: changes.title } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.alias !== undefined ? { alias: changes.alias } : {}),
      ...(changes.media_types !== undefined ? { media_types: changes.media_types } : {}),
    };
    if (Object.keys(set).length > 0) await trx.updateTable('collections').set(set).where('id', '=', id).execute();
    await applyViewSettings(trx, id, changes);
    await audit(trx, actor, 'collection.update', { type: 'collection', id }, changes);
    return collectionView(await trx.selectFrom('collections').select(collectionColumns).where('id', '=', id).executeTakeFirstOrThrow());
  });
}

export async function deleteCollection(db: Db, actor: Actor, id: string) {
  await db.transaction().execute(async (trx) => {
    const count = await sql<{ n: number }>`select count(*)::int8 as n from object_versions where collection_id = ${id}`.execute(trx);
    const result = await trx.deleteFrom('collections').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound(`The collection ${id}`);
    await audit(trx, actor, 'collection.delete', { type: 'collection', id }, { object_versions_deleted: Number(count.rows[0]?.n ?? 0) });
  });
}

// --- organisations ----------------------------------------------------------

export async function listOrganisations(db: Db) {
  return db.selectFrom('organisations').select(['id', 'name']).orderBy('name').execute();
}

export async function findOrganisation(db: Db, idOrName: string) {
  const isUuid = /^[0-9a-f-]{36}$/i.test(idOrName);
  const row = await db
    .selectFrom('organisations')
    .select(['id', 'name'])
    .where((eb) => (isUuid ? eb.or([eb('id', '=', idOrName.toLowerCase()), eb('name', '=', idOrName)]) : eb('name', '=', idOrName)))
    .executeTakeFirst();
  if (!row) throw notFound(`The organisation ${idOrName}`);
  return row;
}

export async function createOrganisation(db: Db, actor: Actor, input: { name: string; id?: string }) {
  return db.transaction().execute(async (trx) => {
    if (await trx.selectFrom('organisations').select('id').where('name', '=', input.name).executeTakeFirst()) {
      throw conflict(`An organisation named "${input.name}" already exists.`);
    }
    const id = (input.id ?? uuidv4()).toLowerCase();
    await trx.insertInto('organisations').values({ id, name: input.name }).execute();
    await audit(trx, actor, 'organisation.create', { type: 'organisation', id }, { name: input.name });
    return { id, name: input.name };
  });
}

export async function renameOrganisation(db: Db, actor: Actor, idOrName: string, name: string) {
  const org = await findOrganisation(db, idOrName);
  return db.transaction().execute(async (trx) => {
    if (await trx.selectFrom('organisations').select('id').where('name', '=', name).where('id', '!=', org.id).executeTakeFirst()) {
      throw conflict(`An organisation named "${name}" already exists.`);
    }
    await trx.updateTable('organisations').set({ name }).where('id', '=', org.id).execute();
    await audit(trx, actor, 'organisation.update', { type: 'organisation', id: org.id }, { name });
    return { id: org.id, name };
  });
}

export async function deleteOrganisation(db: Db, actor: Actor, idOrName: string) {
  const org = await findOrganisation(db, idOrName);
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('organisations').where('id', '=', org.id).execute();
    await audit(trx, actor, 'organisation.delete', { type: 'organisation', id: org.id }, { name: org.name });
  });
}

// --- permissions ----------------------------------------------------------

export async function listPermissions(db: Db, collectionId: string) {
  await getCollection(db, collectionId);
  return db
    .selectFrom('collection_permissions as p')
    .innerJoin('organisations as o', 'o.id', 'p.organisation_id')
    .select(['o.id as organisation_id', 'o.name as organisation', 'p.can_read as read', 'p.can_write as write'])
    .where('p.collection_id', '=', collectionId)
    .orderBy('o.name')
    .execute();
}

export async function setPermission(db: Db, actor: Actor, collectionId: string, organisation: string, rights: { read: boolean; write: boolean }) {
  await getCollection(db, collectionId);
  const org = await findOrganisation(db, organisation);
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('collection_permissions')
      .values({ organisation_id: org.id, collection_id: collectionId, can_read: rights.read, can_write: rights.write })
      .onConflict((oc) => oc.columns(['organisation_id', 'collection_id']).doUpdateSet({ can_read: rights.read, can_write: rights.write }))
      .execute();
    await audit(trx, actor, 'permission.set', { type: 'collection', id: collectionId }, { organisation: org.name, ...rights });
  });
  return { organisation_id: org.id, organisation: org.name, ...rights };
}

export async function removePermission(db: Db, actor: Actor, collectionId: string, organisation: string) {
  const org = await findOrganisation(db, organisation);
  await db.transaction().execute(async (trx) => {
    const result = await trx.deleteFrom('collection_permissions').where('organisation_id', '=', org.id).where('collection_id', '=', collectionId).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound(`A permission of ${org.name} on ${collectionId}`);
    await audit(trx, actor, 'permission.remove', { type: 'collection', id: collectionId }, { organisation: org.name });
  });
}
