import { sql, type RawBuilder } from 'kysely';
import type { CursorPosition } from '../taxii/cursor.js';
import type { Filters } from '../taxii/query.js';
import type { RowBound } from '../views/view-index.js';
import type { ViewSql } from '../views/view-sql.js';
import type { Db } from './database.js';
import { PREPARE_MARK } from './prepared-pool.js';

/**
 * The read side of the object store. Every listing is a keyset query in
 * date_added order (TAXII §3.3, §3.5) that indexes answer without sorting the
 * collection: filters, version selection and the maturity view are row
 * predicates, and the position (from added_after or a cursor) is a row
 * comparison.
 *
 * Through a view, the date_added a reader sees (maturity-design rule 7) is:
 * - for versions added after the reader's latest policy event E: their own;
 * - for versions added before it: E + cseq µs (E reserved that block of the
 *   collection clock, so the values are distinct and later than anything the
 *   reader saw under the old policy: rule 8);
 * - for versions whose visibility involves a grant G: the same rule with G.
 * The query is then three ordered segments merged by (view date, cseq).
 */
export interface GrantEvent {
  stixId: string;
  grantedUs: number;
}

export interface ReaderView {
  sql: ViewSql;
  /** Row-local bound of the reader's profile, matching a partial index (views/view-index.ts). */
  bound?: RowBound;
  /** The reader's latest policy event on this collection (µs), 0 if none. */
  epochUs: number;
  /** The end of the block reserved after it: positions past it need not look before the event. */
  epochBlockEndUs: number;
  grants: GrantEvent[];
  /** Closure references of granted objects (they become visible with the grant). */
  grantClosure: string[];
}

export interface PageQuery {
  collectionId: string;
  /** Restricts to one object (Get an Object, Get Object Versions). */
  objectId?: string;
  filters: Filters;
  /** Exclusive start position. */
  after?: CursorPosition;
  /** Rows to fetch (the caller asks for one more than it returns, to know `more`). */
  limit: number;
  /** The reader's maturity view; absent for unfiltered readers (operators). */
  view?: ReaderView;
}

export interface PageRow {
  cseq: number;
  /** date_added as this reader sees it. */
  date_added: number;
}
export interface ObjectRow extends PageRow {
  body: string;
}
export interface ManifestRow extends PageRow {
  stix_id: string;
  version: string;
  spec_version: string;
}
export interface VersionRow extends PageRow {
  version: string;
}

type Sql = RawBuilder<unknown>;
const V = sql.ref('v');

/**
 * Version selection (TAXII §3.4.1 and §3.4.2). Without match[spec_version]
 * only versions of the object's newest spec version count, and the stored
 * flags answer first/last directly. With it, first/last are found among the
 * versions of the requested spec versions.
 */
export function versionPredicate(filters: Filters, alias = 'v'): Sql {
  const v = sql.ref(alias);
  const selection = filters.versions ?? { all: false, first: false, last: true, keys: [] };
  const spec = filters.specVersions;
  if (spec === undefined) {
    if (selection.all) return sql`${v}.in_max_spec`;
    const parts: Sql[] = [];
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
  const parts: Sql[] = [];
  if (selection.last) parts.push(extreme('max'));
  if (selection.first) parts.push(extreme('min'));
  if (selection.keys.length > 0) parts.push(sql`${v}.version_key = any(${selection.keys}::text[])`);
  return sql`(${inSpec} and (${sql.join(parts, sql` or `)}))`;
}

/** Whether only latest versions can match (then the view needs no per-row version test). */
function onlyLatest(filters: Filters): boolean {
  const s = filters.versions;
  return filters.specVersions === undefined && (s === undefined || (s.last && !s.first && !s.all && s.keys.length === 0));
}

function matchConditions(q: PageQuery, versions: Sql): Sql[] {
  const conditions: Sql[] = [sql`${V}.collection_id = ${q.collectionId}`, versions];
  if (q.objectId !== undefined) conditions.push(sql`${V}.stix_id = ${q.objectId}`);
  if (q.filters.ids) conditions.push(sql`${V}.stix_id = any(${q.filters.ids}::text[])`);
  if (q.filters.types) conditions.push(sql`${V}.stix_type = any(${q.filters.types}::text[])`);
  if (q.view) conditions.push(onlyLatest(q.filters) ? q.view.sql.objectVisible(V) : q.view.sql.versionVisible(V));
  return conditions;
}

async function selectPage<Row extends PageRow>(db: Db, q: PageQuery, columns: Sql, versions: Sql): Promise<Row[]> {
  const where = sql.join(matchConditions(q, versions), sql` and `);
  if (!q.view) {
    const position = q.after ? sql`and (${V}.date_added, ${V}.cseq) > (${q.after.date}::int8, ${q.after.seq}::int8)` : sql``;
    const result = await sql<Row>`${sql.raw(PREPARE_MARK)}
      select ${V}.cseq, ${V}.date_added, ${columns} from object_versions ${V}
      where ${where} ${position}
      order by ${V}.date_added, ${V}.cseq limit ${q.limit}`.execute(db);
    return result.rows;
  }
  const { epochUs: E, grants, grantClosure } = q.view;
  const grantIds = grants.map((g) => g.stixId);
  const grantAffected = grants.length > 0
    ? sql`(${V}.stix_id = any(${grantIds}::text[]) or coalesce(${V}.dep_refs && ${grantIds}::text[], false)
           or ${V}.stix_id = any(${grantClosure}::text[]))`
    : undefined;
  const notGranted = grantAffected ? sql`and not ${grantAffected}` : sql``;
  // Written exactly as the partial index's predicate, so the planner can use it.
  // It holds latest versions only, so it serves only queries that select latest versions.
  const bound = q.view.bound && onlyLatest(q.filters) ? sql`and ${sql.raw(q.view.bound.text)}` : sql``;
  const pos = q.after;
  const segments: Sql[] = [];

  // Positions past the reserved block (a poller that is up to date) skip the tier.
  if (E > 0 && !(pos && pos.date >= q.view.epochBlockEndUs)) {
    // Versions from before the reader's last policy event, at E + cseq µs, in cseq order.
    const fromSeq = pos && pos.date >= E ? sql`and ${V}.cseq > ${pos.date - E}::int8` : sql``;
    segments.push(sql`(select ${V}.cseq, ${E}::int8 + ${V}.cseq as date_added, ${columns} from object_versions ${V}
      where ${where} and ${V}.date_added <= ${E}::int8 ${notGranted} ${bound} ${fromSeq}
      order by ${V}.cseq limit ${q.limit})`);
  }
  const afterPos = pos ? sql`and (${V}.date_added, ${V}.cseq) > (${pos.date}::int8, ${pos.seq}::int8)` : sql``;
  segments.push(sql`(select ${V}.cseq, ${V}.date_added, ${columns} from object_versions ${V}
    where ${where} and ${V}.date_added > ${E}::int8 ${notGranted} ${bound} ${afterPos}
    order by ${V}.date_added, ${V}.cseq limit ${q.limit})`);
  if (grantAffected) {
    const grantUs = sql`(select max(g.us) from unnest(${grantIds}::text[], ${grants.map((g) => g.grantedUs)}::int8[]) as g(id, us)
      where g.id = ${V}.stix_id or g.id = any(coalesce(${V}.dep_refs, '{}'::text[])) or ${V}.stix_id = any(${grantClosure}::text[]))`;
    const tier = (t: Sql) => sql`(case when ${V}.date_added <= ${t} then ${t} + ${V}.cseq else ${V}.date_added end)`;
    const viewDate = sql`greatest(${tier(sql`${E}::int8`)}, ${tier(grantUs)})`;
    const afterGrantPos = pos ? sql`where (g.date_added, g.cseq) > (${pos.date}::int8, ${pos.seq}::int8)` : sql``;
    segments.push(sql`(select * from (select ${V}.cseq, ${viewDate} as date_added, ${columns} from object_versions ${V}
      where ${where} and ${grantAffected}) g ${afterGrantPos}
      order by g.date_added, g.cseq limit ${q.limit})`);
  }
  const union = segments.length === 1 ? segments[0]! : sql.join(segments, sql` union all `);
  const result = await sql<Row>`${sql.raw(PREPARE_MARK)} select * from (${union}) page order by page.date_added, page.cseq limit ${q.limit}`.execute(db);
  return result.rows;
}

export function selectObjects(db: Db, q: PageQuery): Promise<ObjectRow[]> {
  return selectPage<ObjectRow>(db, q, sql`${V}.body`, versionPredicate(q.filters));
}

export function selectManifest(db: Db, q: PageQuery): Promise<ManifestRow[]> {
  return selectPage<ManifestRow>(db, q, sql`${V}.stix_id, ${V}.version, ${V}.spec_version`, versionPredicate(q.filters));
}

/** All versions of one object (Get Object Versions, TAXII §5.8): only match[spec_version] narrows them. */
export function selectVersions(db: Db, q: PageQuery): Promise<VersionRow[]> {
  const filters: Filters = { versions: { all: true, first: false, last: false, keys: [] } };
  if (q.filters.specVersions) filters.specVersions = q.filters.specVersions;
  return selectPage<VersionRow>(db, { ...q, filters }, sql`${V}.version`, versionPredicate(filters));
}

/** Whether an object exists for this reader: stored at all, or visible through its view (rule 1). */
export async function objectExists(db: Db, collectionId: string, objectId: string, view?: ReaderView): Promise<boolean> {
  const visible = view ? sql`and ${V}.is_latest and ${view.sql.objectVisible(V)}` : sql``;
  const result = await sql`${sql.raw(PREPARE_MARK)} select 1 from object_versions ${V}
    where ${V}.collection_id = ${collectionId} and ${V}.stix_id = ${objectId} ${visible} limit 1`.execute(db);
  return result.rows.length > 0;
}
