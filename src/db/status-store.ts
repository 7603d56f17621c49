import { sql, type Transaction } from 'kysely';
import type { StatusDetail, StatusInfo } from '../taxii/resources.js';
import type { Db } from './database.js';
import type { Tables } from './tables.js';

/** Status resources (TAXII §4.3) live in the database, so any server process can answer for them. */
export interface StoredStatus extends StatusInfo {
  apiRootId: string;
  collectionId: string;
  /** The submitting account; null for the command line's imports. */
  accountId: string | null;
}

const list = (details: StatusDetail[]) => (details.length > 0 ? JSON.stringify(details) : null);

export async function insertStatus(trx: Transaction<Tables>, s: StoredStatus): Promise<void> {
  await trx
    .insertInto('status_resources')
    .values({
      id: s.id,
      api_root_id: s.apiRootId,
      collection_id: s.collectionId,
      account_id: s.accountId,
      status: s.status,
      request_timestamp: s.requestTimestamp,
      total_count: s.successes.length + s.failures.length + s.pendings.length,
      success_count: s.successes.length,
      failure_count: s.failures.length,
      pending_count: s.pendings.length,
      successes: list(s.successes),
      failures: list(s.failures),
      pendings: list(s.pendings),
    })
    .execute();
}

/**
 * A status resource of an API root, if the caller's organisation made the
 * request (others get 404, as for an unknown id) and it has not expired.
 */
export async function findStatus(
  db: Db,
  apiRootId: string,
  statusId: string,
  organisationId: string | undefined,
  retentionHours: number,
): Promise<StatusInfo | undefined> {
  let query = db
    .selectFrom('status_resources as s')
    .leftJoin('accounts as a', 'a.id', 's.account_id')
    .select(['s.id', 's.status', 's.request_timestamp', 's.successes', 's.failures', 's.pendings'])
    .where('s.id', '=', statusId)
    .where('s.api_root_id', '=', apiRootId)
    .where(sql<boolean>`s.created_at > now() - make_interval(hours => ${retentionHours})`);
  if (organisationId !== undefined) query = query.where('a.organisation_id', '=', organisationId);
  const row = await query.executeTakeFirst();
  if (!row) return undefined;
  const parse = (value: unknown): StatusDetail[] =>
    value === null || value === undefined ? [] : typeof value === 'string' ? (JSON.parse(value) as StatusDetail[]) : (value as StatusDetail[]);
  return {
    id: row.id,
    status: row.status,
    requestTimestamp: Number(row.request_timestamp),
    successes: parse(row.successes),
    failures: parse(row.failures),
    pendings: parse(row.pendings),
  };
}

/** Removes status resources older than the retention (run periodically by the server). */
export async function purgeStatuses(db: Db, retentionHours: number): Promise<number> {
  const result = await db
    .deleteFrom('status_resources')
    .where(sql<boolean>`created_at < now() - make_interval(hours => ${retentionHours})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows ?? 0);
}

/** Status resources still pending (a gauge of the metrics, read at scrape time). */
export async function countPendingStatuses(db: Db): Promise<number> {
  const row = await db
    .selectFrom('status_resources')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
