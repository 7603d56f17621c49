import { CompiledQuery } from 'kysely';
import type { CursorPosition } from '../taxii/cursor.js';
import type { Filters } from '../taxii/query.js';
import type { RowBound } from '../views/view-index.js';
import { viewParamsRelation, viewParamValues, type CompiledView, type ViewParams } from '../views/view-sql.js';
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
 * The query is then up to three ordered segments merged by (view date, cseq).
 *
 * The SQL is assembled as text around the view's cached predicates (see
 * views/view-sql.ts), so the same request shape is the same prepared statement.
 */
export interface GrantEvent {
  stixId: string;
  grantedUs: number;
}

export interface ReaderView {
  compiled: CompiledView;
  params: ViewParams;
  /** Row-local bound of the reader's profile, matching a partial index (views/view-index.ts). */
  bound?: RowBound;
  /** The reader's latest policy event on this collection (µs), 0 if none. */
  epochUs: number;
  /** The end of the block reserved after it. */
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
/** Every row also says what it is (id, version) and its TLP rank (null: unmarked), for the delivery audit. */
export interface DeliveredRow extends PageRow {
  stix_id: string;
  version: string;
  tlp: number | null;
}
export interface ObjectRow extends DeliveredRow {
  body: string;
}
export interface ManifestRow extends DeliveredRow {
  spec_version: string;
}
export type VersionRow = DeliveredRow;

/** SQL text with positional parameters, built in a fixed order so equal shapes give equal text. */
class Statement {
  readonly values: unknown[] = [];
  param(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }
}

/**
 * Version selection (TAXII §3.4.1 and §3.4.2). Without match[spec_version]
 * only versions of the object's newest spec version count, and the stored
 * flags answer first/last directly. With it, first/last are found among the
 * versions of the requested spec versions.
 */
function versionPredicate(s: Statement, filters: Filters, v: string): string {
  const selection = filters.versions ?? { all: false, first: false, last: true, keys: [] };
  const spec = filters.specVersions;
  if (spec === undefined) {
    if (selection.all) return `${v}.in_max_spec`;
    const parts: string[] = [];
    if (selection.last) parts.push(`${v}.is_latest`);
    if (selection.first) parts.push(`${v}.is_first`);
    if (selection.keys.length > 0) parts.push(`(${v}.in_max_spec and ${v}.version_key = any(${s.param(selection.keys, 'text[]')}))`);
    return `(${parts.join(' or ')})`;
  }
  const specParam = s.param(spec, 'text[]');
  const inSpec = `${v}.spec_version = any(${specParam})`;
  if (selection.all) return inSpec;
  const extreme = (fn: 'max' | 'min') => `${v}.version_key = (
      select ${fn}(w.version_key) from object_versions w
      where w.collection_id = ${v}.collection_id and w.stix_id = ${v}.stix_id and w.spec_version = any(${specParam}))`;
  const parts: string[] = [];
  if (selection.last) parts.push(extreme('max'));
  if (selection.first) parts.push(extreme('min'));
  if (selection.keys.length > 0) parts.push(`${v}.version_key = any(${s.param(selection.keys, 'text[]')})`);
  return `(${inSpec} and (${parts.join(' or ')}))`;
}

/** Whether only latest versions can match (then the view needs no per-row version test). */
function onlyLatest(filters: Filters): boolean {
  const s = filters.versions;
  return filters.specVersions === undefined && (s === undefined || (s.last && !s.first && !s.all && s.keys.length === 0));
}

/** Conditions every segment shares: collection, filters, versions, the view. */
function matchConditions(s: Statement, q: PageQuery): string {
  const conditions = [
    q.view ? 'v.collection_id = p.collection_id' : `v.collection_id = ${s.param(q.collectionId, 'uuid')}`,
    versionPredicate(s, q.filters, 'v'),
  ];
  if (q.objectId !== undefined) conditions.push(`v.stix_id = ${s.param(q.objectId, 'text')}`);
  if (q.filters.ids) conditions.push(`v.stix_id = any(${s.param(q.filters.ids, 'text[]')})`);
  // One type as an equality, so the (collection, type, date) index can serve the order.
  if (q.filters.types) {
    conditions.push(q.filters.types.length === 1 ? `v.stix_type = ${s.param(q.filters.types[0], 'text')}` : `v.stix_type = any(${s.param(q.filters.types, 'text[]')})`);
  }
  if (q.view) conditions.push(onlyLatest(q.filters) ? q.view.compiled.objectVisible('v') : q.view.compiled.versionVisible('v'));
  return conditions.join(' and ');
}

async function run<Row>(db: Db, s: Statement, text: string): Promise<Row[]> {
  const result = await db.executeQuery<Row>(CompiledQuery.raw(`${PREPARE_MARK} ${text}`, s.values));
  return result.rows;
}

async function selectPage<Row extends PageRow>(db: Db, q: PageQuery, columns: string): Promise<Row[]> {
  const s = new Statement();
  if (!q.view) {
    const where = matchConditions(s, q);
    const position = q.after ? `and (v.date_added, v.cseq) > (${s.param(q.after.date, 'int8')}, ${s.param(q.after.seq, 'int8')})` : '';
    const limit = s.param(q.limit, 'int8');
    return run<Row>(db, s, `select v.cseq, v.date_added, ${columns} from object_versions v
      where ${where} ${position} order by v.date_added, v.cseq limit ${limit}`);
  }
  // $1..$6: the view's per-request values, read through the relation p.
  s.values.push(...viewParamValues(q.view.params));
  const from = `from object_versions v cross join ${viewParamsRelation(1)}`;
  const where = matchConditions(s, q);
  const { epochUs: E, grants, grantClosure } = q.view;
  const epoch = s.param(E, 'int8');
  const limit = s.param(q.limit, 'int8');
  const grantIds = grants.length > 0 ? s.param(grants.map((g) => g.stixId), 'text[]') : '';
  const grantAffected = grants.length > 0
    ? `(v.stix_id = any(${grantIds}) or v.stix_id = any(${s.param(grantClosure, 'text[]')}) or v.cseq in (
        select gr.cseq from object_refs gr where gr.collection_id = p.collection_id and gr.ref = any(${grantIds}) and gr.kind = 'd'))`
    : undefined;
  const notGranted = grantAffected ? `and not ${grantAffected}` : '';
  // Written exactly as the partial index's predicate, so the planner can use it; the
  // index holds latest versions only, so it serves only queries that select those.
  const bound = q.view.bound && onlyLatest(q.filters) ? `and ${q.view.bound.text}` : '';
  const pos = q.after;
  const segments: string[] = [];

  // The tier of versions stored before the reader's last policy event, at E + cseq µs,
  // in cseq order. It is empty when nothing was stored before the event, and behind a
  // poller whose position is past the block.
  if (E > 0 && q.view.epochBlockEndUs > E && !(pos && pos.date >= q.view.epochBlockEndUs)) {
    const fromSeq = pos && pos.date >= E ? `and v.cseq > ${s.param(pos.date - E, 'int8')}` : '';
    segments.push(`(select v.cseq, ${epoch} + v.cseq as date_added, ${columns} ${from}
      where ${where} and v.date_added <= ${epoch} ${notGranted} ${bound} ${fromSeq}
      order by v.cseq limit ${limit})`);
  }
  const afterPos = pos ? `and (v.date_added, v.cseq) > (${s.param(pos.date, 'int8')}, ${s.param(pos.seq, 'int8')})` : '';
  segments.push(`(select v.cseq, v.date_added, ${columns} ${from}
    where ${where} and v.date_added > ${epoch} ${notGranted} ${bound} ${afterPos}
    order by v.date_added, v.cseq limit ${limit})`);
  if (grantAffected) {
    const grantUs = `(select max(g.us) from unnest(${grantIds}, ${s.param(grants.map((g) => g.grantedUs), 'int8[]')}) as g(id, us)
      where g.id = v.stix_id or g.id = any(coalesce(v.dep_refs, '{}'::text[])) or v.stix_id = any(${s.param(grantClosure, 'text[]')}))`;
    const tier = (t: string) => `(case when v.date_added <= ${t} then ${t} + v.cseq else v.date_added end)`;
    const viewDate = `greatest(${tier(epoch)}, ${tier(grantUs)})`;
    const afterGrantPos = pos ? `where (g.date_added, g.cseq) > (${s.param(pos.date, 'int8')}, ${s.param(pos.seq, 'int8')})` : '';
    segments.push(`(select * from (select v.cseq, ${viewDate} as date_added, ${columns} ${from}
      where ${where} and ${grantAffected}) g ${afterGrantPos}
      order by g.date_added, g.cseq limit ${limit})`);
  }
  if (segments.length === 1) return run<Row>(db, s, segments[0]!.slice(1, -1));
  return run<Row>(db, s, `select * from (${segments.join(' union all ')}) page order by page.date_added, page.cseq limit ${limit}`);
}

export function selectObjects(db: Db, q: PageQuery): Promise<ObjectRow[]> {
  return selectPage<ObjectRow>(db, q, 'v.body, v.stix_id, v.version, v.tlp');
}

export function selectManifest(db: Db, q: PageQuery): Promise<ManifestRow[]> {
  return selectPage<ManifestRow>(db, q, 'v.stix_id, v.version, v.spec_version, v.tlp');
}

/** All versions of one object (Get Object Versions, TAXII §5.8): only match[spec_version] narrows them. */
export function selectVersions(db: Db, q: PageQuery): Promise<VersionRow[]> {
  const filters: Filters = { versions: { all: true, first: false, last: false, keys: [] } };
  if (q.filters.specVersions) filters.specVersions = q.filters.specVersions;
  return selectPage<VersionRow>(db, { ...q, filters }, 'v.stix_id, v.version, v.tlp');
}

/** Whether an object exists for this reader: stored at all, or visible through its view (rule 1). */
export async function objectExists(db: Db, collectionId: string, objectId: string, view?: ReaderView): Promise<boolean> {
  const s = new Statement();
  if (view) {
    s.values.push(...viewParamValues(view.params));
    const id = s.param(objectId, 'text');
    const rows = await run(db, s, `select 1 from object_versions v cross join ${viewParamsRelation(1)}
      where v.collection_id = p.collection_id and v.stix_id = ${id} and v.is_latest and ${view.compiled.objectVisible('v')} limit 1`);
    return rows.length > 0;
  }
  const rows = await run(db, s, `select 1 from object_versions v
    where v.collection_id = ${s.param(collectionId, 'uuid')} and v.stix_id = ${s.param(objectId, 'text')} limit 1`);
  return rows.length > 0;
}

/** Whether a version matches these filters, as SQL over alias `v` (DELETE's selection). */
export function versionPredicateSql(filters: Filters): { text: string; values: unknown[] } {
  const s = new Statement();
  const text = versionPredicate(s, filters, 'v');
  return { text, values: s.values };
}
