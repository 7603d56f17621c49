import { CompiledQuery, sql } from 'kysely';
import type { CollectionAccess } from '../db/catalog.js';
import type { Db } from '../db/database.js';
import { objectExists, versionPredicateSql } from '../db/object-queries.js';
import { afterDelete, deleteRefs } from '../db/object-store.js';
import { notFound } from '../taxii/errors.js';
import { recordWrite, type Writer } from './delivery-audit.js';
import type { Filters } from '../taxii/query.js';

/**
 * Delete an Object (TAXII §5.7). Without match[version] every version goes (the
 * spec leaves the scope open; "all" is the reading that leaves no trace behind,
 * TAXII digest §6.10); with it, the selected versions. The collection row is
 * locked like a write, so the remaining versions' first/last flags are
 * recomputed without racing an insert.
 */
export async function deleteObject(db: Db, collection: CollectionAccess, objectId: string, filters: Filters, writer?: Writer): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await sql`select 1 from collections where id = ${collection.id} for update`.execute(trx);
    const exists = await trx
      .selectFrom('object_versions')
      .select('cseq')
      .where('collection_id', '=', collection.id)
      .where('stix_id', '=', objectId)
      .limit(1)
      .executeTakeFirst();
    // An object hidden by the deleter's view does not exist for it (maturity-design rule 1).
    if (!exists || (collection.view && !(await objectExists(trx, collection.id, objectId, collection.view.view)))) {
      throw notFound(`The object ${objectId}`);
    }
    const selection: Filters =
      filters.versions === undefined ? { ...filters, versions: { all: true, first: false, last: false, keys: [] } } : filters;
    // "all" without a spec filter means every version of every spec version.
    const predicate = filters.versions === undefined && filters.specVersions === undefined ? { text: 'true', values: [] } : versionPredicateSql(selection);
    const n = predicate.values.length;
    const result = await trx.executeQuery<{ cseq: number; dep_refs: string[] | null; closure_refs: string[] | null; version: string }>(
      CompiledQuery.raw(
        `delete from object_versions v where v.collection_id = $${n + 1}::uuid and v.stix_id = $${n + 2}::text and ${predicate.text}
         returning v.cseq, v.dep_refs, v.closure_refs, v.version`,
        [...predicate.values, collection.id, objectId],
      ),
    );
    await deleteRefs(trx, collection.id, result.rows);
    await afterDelete(trx, collection.id, objectId);
    if (writer) {
      await recordWrite(trx, writer, collection, {
        action: 'delete',
        ids: result.rows.map(() => objectId),
        versions: result.rows.map((r) => r.version),
        stored: result.rows.map(() => true),
      });
    }
    return result.rows.length;
  });
}
