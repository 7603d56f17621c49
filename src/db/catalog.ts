import { sql, type ExpressionBuilder } from 'kysely';
import type { Principal } from '../auth/authenticate.js';
import { viewStateSql, type ResolvedView, type ViewStateRow, type ViewSubject } from '../views/reader-view.js';
import type { Db } from './database.js';
import type { Tables } from './tables.js';

/** Repository of what a server offers: API roots and collections, as a given caller sees them. */

export interface ApiRoot {
  id: string;
  title: string;
  description: string | null;
  maxContentLength: number;
  isDefault: boolean;
}

export interface Collection {
  id: string;
  apiRootId: string;
  alias: string | null;
  title: string;
  description: string | null;
  mediaTypes: string[];
}

/** A collection with the caller's rights on it. */
export interface CollectionAccess extends Collection {
  canRead: boolean;
  canWrite: boolean;
  /** The caller's maturity view; absent for unfiltered readers (admins). */
  view?: ResolvedView;
  /** The TLP rank of unmarked objects (set by findCollectionContext; the delivery audit uses it). */
  defaultTlp?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An API root is known to an organisation that holds rights on one of its collections. */
function holdsPermittedCollection(organisationId: string) {
  return ({ exists, selectFrom }: ExpressionBuilder<Tables, 'api_roots'>) =>
    exists(
      selectFrom('collections as c')
        .innerJoin('collection_permissions as p', 'p.collection_id', 'c.id')
        .select(sql`1`.as('one'))
        .whereRef('c.api_root_id', '=', 'api_roots.id')
        .where('p.organisation_id', '=', organisationId),
    );
}

/** API roots the caller may know of: all for admins, else those holding a collection its organisation has rights on. */
export async function listApiRoots(db: Db, principal: Principal | undefined): Promise<ApiRoot[]> {
  let query = db.selectFrom('api_roots').selectAll().orderBy('id');
  if (principal && !principal.isAdmin) {
    query = query.where(holdsPermittedCollection(principal.organisationId));
  }
  return (await query.execute()).map(toApiRoot);
}

/** An API root, if the caller may know of it (admins, or organisations with a collection there), in one query. */
export async function findVisibleApiRoot(db: Db, id: string, principal: Principal | undefined): Promise<ApiRoot | undefined> {
  let query = db.selectFrom('api_roots').selectAll().where('id', '=', id);
  if (principal && !principal.isAdmin) {
    query = query.where(holdsPermittedCollection(principal.organisationId));
  }
  const row = await query.executeTakeFirst();
  return row && toApiRoot(row);
}

function collectionQuery(db: Db, principal: Principal) {
  return db
    .selectFrom('collections as c')
    .leftJoin('collection_permissions as p', (join) =>
      join.onRef('p.collection_id', '=', 'c.id').on('p.organisation_id', '=', principal.organisationId),
    )
    .select([
      'c.id', 'c.api_root_id', 'c.alias', 'c.title', 'c.description', 'c.media_types',
      'p.can_read', 'p.can_write', 'p.organisation_id as permission_org',
    ]);
}

type CollectionRow = {
  id: string; api_root_id: string; alias: string | null; title: string; description: string | null;
  media_types: string[]; can_read: boolean | null; can_write: boolean | null; permission_org: string | null;
};

function toAccess(row: CollectionRow, principal: Principal): CollectionAccess {
  return {
    id: row.id,
    apiRootId: row.api_root_id,
    alias: row.alias,
    title: row.title,
    description: row.description,
    mediaTypes: row.media_types,
    canRead: principal.isAdmin || row.can_read === true,
    canWrite: principal.isAdmin || row.can_write === true,
  };
}

/**
 * Collections of an API root that the caller may know of, in a stable order
 * (TAXII §3.3): admins see all; others those their organisation has a
 * permission row for, even one granting neither right.
 */
export async function listCollections(db: Db, apiRootId: string, principal: Principal): Promise<CollectionAccess[]> {
  let query = collectionQuery(db, principal).where('c.api_root_id', '=', apiRootId).orderBy('c.position');
  if (!principal.isAdmin) query = query.where('p.organisation_id', 'is not', null);
  return (await query.execute()).map((row) => toAccess(row, principal));
}

/** One collection by id or alias, if the caller may know of it. */
export async function findCollection(
  db: Db,
  apiRootId: string,
  idOrAlias: string,
  principal: Principal,
): Promise<CollectionAccess | undefined> {
  let query = collectionQuery(db, principal).where('c.api_root_id', '=', apiRootId);
  query = UUID.test(idOrAlias)
    ? query.where((eb) => eb.or([eb('c.id', '=', idOrAlias.toLowerCase()), eb('c.alias', '=', idOrAlias)]))
    : query.where('c.alias', '=', idOrAlias);
  const row = await query.executeTakeFirst();
  if (!row || (!principal.isAdmin && row.permission_org === null)) return undefined;
  return toAccess(row, principal);
}

function toApiRoot(row: { id: string; title: string; description: string | null; max_content_length: number; is_default: boolean }): ApiRoot {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    maxContentLength: row.max_content_length,
    isDefault: row.is_default,
  };
}

export interface CollectionContext {
  apiRoot: ApiRoot;
  collection: CollectionAccess;
  /** The state of the subject's maturity view, when one was asked for. */
  viewState?: ViewStateRow;
}

/**
 * Everything a collection request needs in one round trip: the API root, the
 * collection (by id or alias) with the caller's rights, and, for readers, the
 * state of their maturity view. Undefined when the caller may not know the
 * collection.
 */
export async function findCollectionContext(
  db: Db,
  apiRootId: string,
  idOrAlias: string,
  principal: Principal,
  subject?: ViewSubject,
): Promise<CollectionContext | undefined> {
  const state = subject ? viewStateSql(subject) : undefined;
  const match = UUID.test(idOrAlias)
    ? sql`(c.id = ${idOrAlias.toLowerCase()}::uuid or c.alias = ${idOrAlias})`
    : sql`c.alias = ${idOrAlias}`;
  const result = await sql<CollectionRow & ApiRootRow & Partial<ViewStateRow> & { collection_default_tlp: number }>`
    select r.title as root_title, r.description as root_description, r.max_content_length, r.is_default,
           c.id, c.api_root_id, c.alias, c.title, c.description, c.media_types,
           p.can_read, p.can_write, p.organisation_id as permission_org, c.default_tlp as collection_default_tlp
           ${state ? sql`, ${state.columns}` : sql``}
    from collections c
    join api_roots r on r.id = c.api_root_id
    left join collection_permissions p on p.collection_id = c.id and p.organisation_id = ${principal.organisationId}::uuid
    ${state ? state.joins : sql``}
    where c.api_root_id = ${apiRootId} and ${match}`.execute(db);
  const row = result.rows[0];
  if (!row || (!principal.isAdmin && row.permission_org === null)) return undefined;
  return {
    apiRoot: { id: row.api_root_id, title: row.root_title, description: row.root_description, maxContentLength: row.max_content_length, isDefault: row.is_default },
    collection: { ...toAccess(row, principal), defaultTlp: row.collection_default_tlp },
    ...(state ? { viewState: row as ViewStateRow } : {}),
  };
}

type ApiRootRow = { root_title: string; root_description: string | null; max_content_length: number; is_default: boolean };
