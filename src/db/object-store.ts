import { sql, type Transaction } from 'kysely';
import type { StixAnalysis } from '../stix/analyse.js';
import { selectionFlags, type VersionRef } from '../stix/version-selection.js';
import { formatTaxiiTimestamp, versionKeyFromMicros } from '../taxii/timestamps.js';
import type { Tables } from './tables.js';

/**
 * The write side of the object store: adds a batch of validated object
 * versions to a collection in the caller's transaction.
 *
 * date_added (TAXII §5.3.1) is handed out by the collection's clock, a column
 * of the collection row that every writer locks first. The lock is held until
 * commit, so date_added order is commit order: a reader that sees a version
 * also sees every version with an earlier date_added, and a poller using
 * added_after = the last X-TAXII-Date-Added-Last never misses one, whatever
 * the number of concurrent writers. Consecutive values are at least one
 * millisecond apart (interop rule 6: clients that truncate the header to
 * milliseconds still make progress) and never earlier than the clock.
 */
export interface NewVersion {
  stixId: string;
  stixType: string;
  specVersion: string;
  /** modified, else created; undefined for objects with neither (SCOs), whose version is their first date_added. */
  version: string | undefined;
  versionKey: string | undefined;
  body: string;
  analysis: StixAnalysis;
}

export interface StoredOutcome {
  /** False when the same id and version was already stored (the first copy stays). */
  inserted: boolean;
  version: string;
}

export const CLOCK_STEP_US = 1000;

type Trx = Transaction<Tables>;

interface ExistingRow {
  cseq: number;
  stix_id: string;
  spec_version: string;
  version: string;
  version_key: string;
  in_max_spec: boolean;
  is_latest: boolean;
  is_first: boolean;
}

interface PendingRow extends VersionRef {
  candidate: NewVersion;
  cseq: number;
  dateAdded: number;
  version: string;
}

export async function storeVersions(trx: Trx, collectionId: string, batch: readonly NewVersion[]): Promise<StoredOutcome[]> {
  const clock = await lockCollectionClock(trx, collectionId);
  const ids = [...new Set(batch.map((v) => v.stixId))];
  const existing = await existingVersions(trx, collectionId, ids);

  // Versions by id (existing and added in this batch), to find duplicates and recompute flags.
  const byId = new Map<string, { existing: ExistingRow[]; added: PendingRow[] }>();
  for (const row of existing) entry(byId, row.stix_id).existing.push(row);

  let date = Math.max(clock.nowUs, clock.clockUs + CLOCK_STEP_US);
  let cseq = clock.lastCseq;
  const outcomes: StoredOutcome[] = [];
  const pending: PendingRow[] = [];
  for (const candidate of batch) {
    const versions = entry(byId, candidate.stixId);
    const duplicate = findDuplicate(versions, candidate);
    if (duplicate !== undefined) {
      outcomes.push({ inserted: false, version: duplicate });
      continue;
    }
    const version = candidate.version ?? formatTaxiiTimestamp(date);
    const versionKey = candidate.versionKey ?? versionKeyFromMicros(date);
    const row: PendingRow = { candidate, cseq: ++cseq, dateAdded: date, version, versionKey, specVersion: candidate.specVersion };
    versions.added.push(row);
    pending.push(row);
    outcomes.push({ inserted: true, version });
    date += CLOCK_STEP_US;
  }
  if (pending.length === 0) return outcomes;

  const { updates, newLatest } = await insertRows(trx, collectionId, pending, byId);
  await updateFlags(trx, collectionId, updates);
  const readded = await reAddDependents(trx, collectionId, newLatest, closureTargets(newLatest), date);
  await trx
    .updateTable('collections')
    .set({ clock_us: date - CLOCK_STEP_US + readded * CLOCK_STEP_US, last_cseq: cseq })
    .where('id', '=', collectionId)
    .execute();
  return outcomes;
}

/**
 * Objects referenced for closure by the new latest versions, with the date of
 * their latest referrer: a closure object dated before any of its new
 * referrers is re-added after them.
 */
function closureTargets(newLatest: PendingRow[]): Map<string, number> {
  const targets = new Map<string, number>();
  for (const row of newLatest) {
    for (const ref of row.candidate.analysis.closureRefs ?? []) {
      const seen = targets.get(ref);
      if (seen === undefined || row.dateAdded > seen) targets.set(ref, row.dateAdded);
    }
  }
  return targets;
}

/**
 * Visibility through a view depends on other objects (maturity-design rules 5
 * and 7): a relationship becomes visible when its missing endpoint arrives, a
 * container when its references change, a creator identity or marking
 * definition when an object referencing it arrives. Such dependents are
 * re-added: they get a new date_added from the clock, later than the change,
 * so that added_after pollers receive them. Only versions older than the
 * change move; each takes its own tick.
 */
async function reAddDependents(
  trx: Trx,
  collectionId: string,
  changed: { candidate: NewVersion; dateAdded: number }[],
  closure: Map<string, number>,
  firstFreeTick: number,
): Promise<number> {
  if (changed.length === 0 && closure.size === 0) return 0;
  // Dependents through the reversed references (object_refs, kind 'd'); closure targets
  // by their own id.
  const result = await sql<{ cseq: number }>`
    select v.cseq from unnest(${changed.map((c) => c.candidate.stixId)}::text[], ${changed.map((c) => c.dateAdded)}::int8[]) as c(id, d)
    join object_refs r on r.collection_id = ${collectionId} and r.ref = c.id and r.kind = 'd'
    join object_versions v on v.collection_id = r.collection_id and v.cseq = r.cseq
    where c.d > v.date_added
    union
    select v.cseq from unnest(${[...closure.keys()]}::text[], ${[...closure.values()]}::int8[]) as r(id, d)
    join object_versions v on v.collection_id = ${collectionId} and v.stix_id = r.id
    where r.d > v.date_added
    order by 1`.execute(trx);
  const moving = result.rows.map((r) => Number(r.cseq));
  if (moving.length === 0) return 0;
  await sql`
    update object_versions v set date_added = m.tick
    from unnest(${moving}::int8[], ${moving.map((_, i) => firstFreeTick + i * CLOCK_STEP_US)}::int8[]) as m(cseq, tick)
    where v.collection_id = ${collectionId} and v.cseq = m.cseq`.execute(trx);
  return moving.length;
}

function entry(map: Map<string, { existing: ExistingRow[]; added: PendingRow[] }>, id: string) {
  let value = map.get(id);
  if (!value) map.set(id, (value = { existing: [], added: [] }));
  return value;
}

/**
 * The version string of an already stored copy, if this candidate repeats one.
 * Objects without created/modified (SCOs) are not versioned (STIX §3.6): any
 * stored copy of the id is the one version.
 */
function findDuplicate(versions: { existing: ExistingRow[]; added: PendingRow[] }, candidate: NewVersion): string | undefined {
  if (candidate.versionKey === undefined) {
    return versions.existing[0]?.version ?? versions.added[0]?.version;
  }
  return (
    versions.existing.find((r) => r.version_key === candidate.versionKey)?.version ??
    versions.added.find((r) => r.versionKey === candidate.versionKey)?.version
  );
}

async function lockCollectionClock(trx: Trx, collectionId: string) {
  const result = await sql<{ clock_us: number; last_cseq: number; now_us: number }>`
    select clock_us, last_cseq, (extract(epoch from clock_timestamp()) * 1000000)::int8 as now_us
    from collections where id = ${collectionId} for update`.execute(trx);
  const row = result.rows[0];
  if (!row) throw new Error(`collection ${collectionId} vanished during a write`);
  return { clockUs: Number(row.clock_us), lastCseq: Number(row.last_cseq), nowUs: Number(row.now_us) };
}

async function existingVersions(trx: Trx, collectionId: string, ids: string[]): Promise<ExistingRow[]> {
  const result = await sql<ExistingRow>`
    select cseq, stix_id, spec_version, version, version_key, in_max_spec, is_latest, is_first
    from object_versions
    where collection_id = ${collectionId} and stix_id = any(${ids}::text[])`.execute(trx);
  return result.rows;
}

interface FlagUpdate {
  cseq: number;
  inMaxSpec: boolean;
  isLatest: boolean;
  isFirst: boolean;
}

async function insertRows(
  trx: Trx,
  collectionId: string,
  rows: PendingRow[],
  byId: Map<string, { existing: ExistingRow[]; added: PendingRow[] }>,
): Promise<{ updates: FlagUpdate[]; newLatest: PendingRow[] }> {
  const flagsOfNew = new Map<PendingRow, { inMaxSpec: boolean; isLatest: boolean; isFirst: boolean }>();
  const updates: FlagUpdate[] = [];
  for (const { existing, added } of byId.values()) {
    if (added.length === 0) continue;
    const refs: VersionRef[] = [
      ...existing.map((r) => ({ specVersion: r.spec_version, versionKey: r.version_key })),
      ...added,
    ];
    const flags = selectionFlags(refs);
    existing.forEach((row, i) => {
      const f = flags[i]!;
      if (f.inMaxSpec !== row.in_max_spec || f.isLatest !== row.is_latest || f.isFirst !== row.is_first) {
        updates.push({ cseq: row.cseq, ...f });
      }
    });
    added.forEach((row, i) => flagsOfNew.set(row, flags[existing.length + i]!));
  }
  // One JSON parameter for the whole batch: JSON.stringify and PostgreSQL's JSON parser
  // are much cheaper than escaping a dozen array literals of the same data.
  const records = rows.map((r) => {
    const a = r.candidate.analysis;
    const flags = flagsOfNew.get(r)!;
    return {
      cseq: r.cseq, stix_id: r.candidate.stixId, stix_type: r.candidate.stixType, spec_version: r.specVersion,
      version: r.version, version_key: r.versionKey, date_added: r.dateAdded,
      in_max_spec: flags.inMaxSpec, is_latest: flags.isLatest, is_first: flags.isFirst, body: r.candidate.body,
      tlp: a.tlp, confidence: a.confidence, revoked: a.revoked, valid_until: a.validUntil, created_by_ref: a.createdByRef,
      pattern_type: a.patternType, pattern_class: a.patternClass, observable_paths: a.observablePaths,
      indicator_types: a.indicatorTypes, relationship_type: a.relationshipType, source_ref: a.sourceRef,
      target_ref: a.targetRef, dep_refs: a.depRefs, closure_refs: a.closureRefs,
    };
  });
  await sql`
    insert into object_versions
      (collection_id, cseq, stix_id, stix_type, spec_version, version, version_key,
       date_added, first_added, in_max_spec, is_latest, is_first, body,
       tlp, confidence, revoked, valid_until, created_by_ref, pattern_type, pattern_class,
       observable_paths, indicator_types, relationship_type, source_ref, target_ref, dep_refs, closure_refs)
    select ${collectionId}, r.cseq, r.stix_id, r.stix_type, r.spec_version, r.version, r.version_key,
           r.date_added, r.date_added, r.in_max_spec, r.is_latest, r.is_first, r.body,
           r.tlp, r.confidence, r.revoked, r.valid_until, r.created_by_ref, r.pattern_type, r.pattern_class,
           r.observable_paths, r.indicator_types, r.relationship_type, r.source_ref, r.target_ref, r.dep_refs, r.closure_refs
    from json_to_recordset(${JSON.stringify(records)}::json) as r(
      cseq int8, stix_id text, stix_type text, spec_version text, version text, version_key text, date_added int8,
      in_max_spec bool, is_latest bool, is_first bool, body text,
      tlp int2, confidence int2, revoked bool, valid_until int8, created_by_ref text, pattern_type text, pattern_class text,
      observable_paths text[], indicator_types text[], relationship_type text, source_ref text, target_ref text,
      dep_refs text[], closure_refs text[])`.execute(trx);
  await insertRefs(trx, collectionId, rows);
  const newLatest = rows.filter((r) => flagsOfNew.get(r)!.isLatest);
  return { updates, newLatest };
}

/** The reversed references of new versions (object_refs), for re-adds, closure and grants. */
async function insertRefs(trx: Trx, collectionId: string, rows: PendingRow[]): Promise<void> {
  const refs: string[] = [];
  const kinds: string[] = [];
  const cseqs: number[] = [];
  for (const row of rows) {
    const { depRefs, closureRefs } = row.candidate.analysis;
    for (const [list, kind] of [[depRefs, 'd'], [closureRefs, 'c']] as const) {
      for (const ref of new Set(list ?? [])) {
        refs.push(ref);
        kinds.push(kind);
        cseqs.push(row.cseq);
      }
    }
  }
  if (refs.length === 0) return;
  await sql`
    insert into object_refs (collection_id, ref, kind, cseq)
    select ${collectionId}, r.ref, r.kind, r.cseq from unnest(${refs}::text[], ${kinds}::"char"[], ${cseqs}::int8[]) as r(ref, kind, cseq)`.execute(trx);
}

/** Removes the references of deleted versions (object_refs has no foreign key to them). */
export async function deleteRefs(
  trx: Trx,
  collectionId: string,
  deleted: { cseq: number; dep_refs: string[] | null; closure_refs: string[] | null }[],
): Promise<void> {
  const refs: string[] = [];
  const kinds: string[] = [];
  const cseqs: number[] = [];
  for (const row of deleted) {
    for (const [list, kind] of [[row.dep_refs, 'd'], [row.closure_refs, 'c']] as const) {
      for (const ref of list ?? []) {
        refs.push(ref);
        kinds.push(kind);
        cseqs.push(Number(row.cseq));
      }
    }
  }
  if (refs.length === 0) return;
  await sql`
    delete from object_refs o using unnest(${refs}::text[], ${kinds}::"char"[], ${cseqs}::int8[]) as r(ref, kind, cseq)
    where o.collection_id = ${collectionId} and o.ref = r.ref and o.kind = r.kind and o.cseq = r.cseq`.execute(trx);
}

async function updateFlags(trx: Trx, collectionId: string, updates: FlagUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  await sql`
    update object_versions v
    set in_max_spec = u.in_max_spec, is_latest = u.is_latest, is_first = u.is_first
    from unnest(
      ${updates.map((u) => u.cseq)}::int8[], ${updates.map((u) => u.inMaxSpec)}::bool[],
      ${updates.map((u) => u.isLatest)}::bool[], ${updates.map((u) => u.isFirst)}::bool[]
    ) as u(cseq, in_max_spec, is_latest, is_first)
    where v.collection_id = ${collectionId} and v.cseq = u.cseq`.execute(trx);
}

/** Recomputes the selection flags of the given objects after some of their versions were deleted. */
export async function refreshFlags(trx: Trx, collectionId: string, ids: string[]): Promise<void> {
  const rows = await existingVersions(trx, collectionId, ids);
  const byId = new Map<string, ExistingRow[]>();
  for (const row of rows) (byId.get(row.stix_id) ?? byId.set(row.stix_id, []).get(row.stix_id)!).push(row);
  const updates: FlagUpdate[] = [];
  for (const versions of byId.values()) {
    const flags = selectionFlags(versions.map((r) => ({ specVersion: r.spec_version, versionKey: r.version_key })));
    versions.forEach((row, i) => {
      const f = flags[i]!;
      if (f.inMaxSpec !== row.in_max_spec || f.isLatest !== row.is_latest || f.isFirst !== row.is_first) {
        updates.push({ cseq: row.cseq, ...f });
      }
    });
  }
  await updateFlags(trx, collectionId, updates);
}

/**
 * After versions of an object were deleted (the caller holds the collection
 * lock): recompute its flags, and re-add the versions that depend on it, since
 * their visibility through a view may have changed.
 */
export async function afterDelete(trx: Trx, collectionId: string, objectId: string): Promise<void> {
  await refreshFlags(trx, collectionId, [objectId]);
  const clock = await lockCollectionClock(trx, collectionId);
  const first = Math.max(clock.nowUs, clock.clockUs + CLOCK_STEP_US);
  const changed = [{ candidate: { stixId: objectId } as NewVersion, dateAdded: Number.MAX_SAFE_INTEGER }];
  const readded = await reAddDependents(trx, collectionId, changed, new Map(), first);
  if (readded > 0) {
    await trx.updateTable('collections').set({ clock_us: first + (readded - 1) * CLOCK_STEP_US }).where('id', '=', collectionId).execute();
  }
}
