import { sql, type RawBuilder } from 'kysely';
import type { CursorPosition } from '../taxii/cursor.js';
import type { Filters } from '../taxii/query.js';
import type { Db } from './database.js';

/**
 * The read side of the object store. Every listing is one keyset query in
 * date_added order (TAXII §3.3, §3.5) that an index answers without sorting:
 * filters and version selection are row-local predicates, and the position
 * (from added_after or a cursor) is a row comparison on (date_added, cseq).
 */
export interface PageQuery {
  collectionId: string;
  /** Restricts to one object (Get an Object, Get Object Versions). */
  objectId?: string;
  filters: Filters;
  /** Exclusive start position. */
  after?: CursorPosition;
  /** Rows to fetch (the caller asks for one more than it returns, to know `more`). */
  limit: number;
}

export interface ObjectRow {
  cseq: number;
  date_added: number;
  body: string;
}

export interface ManifestRow {
  cseq: number;
  date_added: number;
  stix_id: string;
  version: string;
  spec_version: string;
}

export interface VersionRow {
  cseq: number;
  date_added: number;
  version: string;
}

/**
 * Version selection (TAXII §3.4.1 and §3.4.2). Without match[spec_version]
 * only versions of the object's newest spec version count, and the stored
 * flags answer first/last directly. With it, first/last are found among the
 * versions of the requested spec versions.
 */
export function versionPredicate(filters: Filters, alias = 'v'): RawBuilder<unknown> {
  const v = sql.ref(alias);
  const selection = filters.versions ?? { all: false, first: false, last: true, keys: [] };
  const spec = filters.specVersions;
  if (spec === undefined) {
    if (selection.all) return sql`${v}.in_max_spec`;
    const parts: RawBuilder<unknown>[] = [];
    if (selection.last) parts.push(sql`${v}.is_latest`);
    if (selection.first) parts.push(sql`${v}.is_first`);
    if (selection.keys.length > 0) parts.push(sql`(${v}.in_max_spec and ${v}.version_key = any(${selection.keys}::text[]))`);
    return sql`(${sql.join(parts, sql` or `)})`;
  }
  const inSpec = sql`${v}.spec_version = any(${spec}::text[])`;
  if (selection.all) return inSpec;
  const extreme = (fn: 'max' | 'min') => sql`${v}.version_key = (
      select ${sql.raw(fn)}(w.version_key) from object_versions w
      where w.collection_id = ${v}.collection_id and w.stix_id = ${v}.stix_id
        and w.spec_version = any(${spec}::text[]))`;
  const parts: RawBuilder<unknown>[] = [];
  if (selection.last) parts.push(extreme('max'));
  if (selection.first) parts.push(extreme('min'));
  if (selection.keys.length > 0) parts.push(sql`${v}.version_key = any(${selection.keys}::text[])`);
  return sql`(${inSpec} and (${sql.join(parts, sql` or `)}))`;
}

function wherePage(q: PageQuery, versions: RawBuilder<unknown>): RawBuilder<unknown> {
  const conditions: RawBuilder<unknown>[] = [sql`v.collection_id = ${q.collectionId}`, versions];
  if (q.objectId !== undefined) conditions.push(sql`v.stix_id = ${q.objectId}`);
  if (q.filters.ids) conditions.push(sql`v.stix_id = any(${q.filters.ids}::text[])`);
  if (q.filters.types) conditions.push(sql`v.stix_type = any(${q.filters.types}::text[])`);
  if (q.after) conditions.push(sql`(v.date_added, v.cseq) > (${q.after.date}::int8, ${q.after.seq}::int8)`);
  return sql.join(conditions, sql` and `);
}

export async function selectObjects(db: Db, q: PageQuery): Promise<ObjectRow[]> {
  const result = await sql<ObjectRow>`
    select v.cseq, v.date_added, v.body from object_versions v
    where ${wherePage(q, versionPredicate(q.filters))}
    order by v.date_added, v.cseq limit ${q.limit}`.execute(db);
  return result.rows;
}

export async function selectManifest(db: Db, q: PageQuery): Promise<ManifestRow[]> {
  const result = await sql<ManifestRow>`
    select v.cseq, v.date_added, v.stix_id, v.version, v.spec_version from object_versions v
    where ${wherePage(q, versionPredicate(q.filters))}
    order by v.date_added, v.cseq limit ${q.limit}`.execute(db);
  return result.rows;
}

/** All versions of one object (Get Object Versions, TAXII §5.8): only match[spec_version] narrows them. */
export async function selectVersions(db: Db, q: PageQuery): Promise<VersionRow[]> {
  const filters: Filters = { versions: { all: true, first: false, last: false, keys: [] } };
  if (q.filters.specVersions) filters.specVersions = q.filters.specVersions;
  const result = await sql<VersionRow>`
    select v.cseq, v.date_added, v.version from object_versions v
    where ${wherePage({ ...q, filters }, versionPredicate(filters))}
    order by v.date_added, v.cseq limit ${q.limit}`.execute(db);
  return result.rows;
}

export async function objectExists(db: Db, collectionId: string, objectId: string): Promise<boolean> {
  const row = await db
    .selectFrom('object_versions')
    .select('cseq')
    .where('collection_id', '=', collectionId)
    .where('stix_id', '=', objectId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
