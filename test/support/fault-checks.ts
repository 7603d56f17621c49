import { sql } from 'kysely';
import type { Db } from '../../src/db/database.js';

/**
 * What the database holds for a collection, read directly (not through the
 * server under test): to check that every acknowledged write is there, that
 * nothing of a refused one is, and that each status resource describes
 * exactly what was stored.
 */
export interface Stored {
  /** stix_id → number of versions stored. */
  objects: Map<string, number>;
  /** status id → the ids it lists as successes. */
  statuses: Map<string, string[]>;
}

function parseList(value: unknown): { id: string }[] {
  if (value === null || value === undefined) return [];
  return (typeof value === 'string' ? JSON.parse(value) : value) as { id: string }[];
}

export async function readStored(db: Db, collectionId: string): Promise<Stored> {
  const objects = new Map<string, number>();
  const rows = await sql<{ stix_id: string; n: number }>`
    select stix_id, count(*)::int as n from object_versions where collection_id = ${collectionId} group by stix_id`.execute(db);
  for (const row of rows.rows) objects.set(row.stix_id, Number(row.n));
  const statuses = new Map<string, string[]>();
  const statusRows = await sql<{ id: string; successes: unknown }>`
    select id, successes from status_resources where collection_id = ${collectionId}`.execute(db);
  for (const row of statusRows.rows) statuses.set(row.id, parseList(row.successes).map((s) => s.id));
  return { objects, statuses };
}

/**
 * Problems in the stored state, if any: a status listing an object that is
 * not stored, an object stored but listed by no status (half a submission),
 * or an object listed by two statuses (every test object is posted once).
 */
export function inconsistencies(stored: Stored): string[] {
  const problems: string[] = [];
  const listedBy = new Map<string, string>();
  for (const [statusId, ids] of stored.statuses) {
    for (const id of ids) {
      if (!stored.objects.has(id)) problems.push(`status ${statusId} lists ${id}, which is not stored`);
      const other = listedBy.get(id);
      if (other !== undefined) problems.push(`${id} is listed by statuses ${other} and ${statusId}`);
      listedBy.set(id, statusId);
    }
  }
  for (const id of stored.objects.keys()) {
    if (!listedBy.has(id)) problems.push(`${id} is stored but no status lists it`);
  }
  return problems;
}

/** The status (if any) that lists exactly these ids. */
export function statusListing(stored: Stored, ids: string[]): string | undefined {
  const wanted = [...ids].sort().join(',');
  for (const [statusId, listed] of stored.statuses) {
    if ([...listed].sort().join(',') === wanted) return statusId;
  }
  return undefined;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
