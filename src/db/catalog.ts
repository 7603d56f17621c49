import { sql } from 'kysely';
import type { Principal } from '../auth/authenticate.js';
import type { ResolvedView } from '../views/reader-view.js';
import type { Db } from './database.js';

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
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findApiRoot(db: Db, id: string): Promise<ApiRoot | undefined> {
  const row = await db.selectFrom('api_roots').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toApiRoot(row);
}

/** API roots the caller may know of: all for admins, else those holding a collection its organisation has rights on. */
export async function listApiRoots(db: Db, principal: Principal | undefined): Promise<ApiRoot[]> {
  let query = db.selectFrom('api_roots').selectAll().orderBy('id');
  if (principal && !principal.isAdmin) {
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('collections as c')
          .innerJoin('collection_permissions as p', 'p.collection_id', 'c.id')
          .select(sql`1`.as('one'))
          .whereRef('c.api_root_id', '=', 'api_roots.id')
          .where('p.organisation_id', '=', principal.organisationId),
      ),
    );
  }
  return (await query.execute()).map(toApiRoot);
}

export async function canSeeApiRoot(db: Db, apiRootId: string, principal: Principal | undefined): Promise<boolean> {
  if (!principal || principal.isAdmin) return true;
  const row = await db
    .selectFrom('collections as c')
    .innerJoin('collection_permissions as p', 'p.collection_id', 'c.id')
    .select(sql`1`.as('one'))
    .where('c.api_root_id', '=', apiRootId)
    .where('p.organisation_id', '=', principal.organisationId)
    .executeTakeFirst();
  return row !== undefined;
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
