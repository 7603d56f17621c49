import { sql, type Transaction } from 'kysely';
import { CLOCK_STEP_US } from './object-store.js';
import type { Tables } from './tables.js';

/**
 * Policy events on a collection's clock (maturity-design rules 7 and 8). A
 * policy change (binding, profile revision, pin, default, grant) takes a tick
 * E from the collection clock and reserves the block of microseconds after it
 * for the versions already stored: through the changed view, a version stored
 * before E is dated E + cseq µs. Those dates are distinct, later than anything
 * served before the change, and earlier than anything stored after it.
 */
export async function allocateEpoch(trx: Transaction<Tables>, collectionId: string): Promise<{ epoch: number; blockEnd: number }> {
  const result = await sql<{ clock_us: number; last_cseq: number; now_us: number }>`
    select clock_us, last_cseq, (extract(epoch from clock_timestamp()) * 1000000)::int8 as now_us
    from collections where id = ${collectionId} for update`.execute(trx);
  const row = result.rows[0];
  if (!row) throw new Error(`collection ${collectionId} does not exist`);
  const epoch = Math.max(Number(row.now_us), Number(row.clock_us) + CLOCK_STEP_US);
  const blockEnd = epoch + Number(row.last_cseq);
  await trx.updateTable('collections').set({ clock_us: blockEnd }).where('id', '=', collectionId).execute();
  return { epoch, blockEnd };
}

/** Records a policy event of a scope ('organisation:<id>', 'profile:<id>', 'collection') on every collection. */
export async function recordPolicyEvent(trx: Transaction<Tables>, scope: string, collectionIds?: string[]): Promise<void> {
  const ids = collectionIds ?? (await trx.selectFrom('collections').select('id').orderBy('id').execute()).map((c) => c.id);
  for (const collectionId of ids) {
    const { epoch, blockEnd } = await allocateEpoch(trx, collectionId);
    await trx
      .insertInto('view_epochs')
      .values({ collection_id: collectionId, scope, epoch_us: epoch, block_end_us: blockEnd })
      .onConflict((oc) => oc.columns(['collection_id', 'scope']).doUpdateSet({ epoch_us: epoch, block_end_us: blockEnd }))
      .execute();
  }
}
