import type { Transaction } from 'kysely';
import type { Db } from '../../db/database.js';
import type { Tables } from '../../db/tables.js';

/**
 * The operator's audit trail: every change made through the admin API or the
 * command line is recorded in the same transaction as the change (who, what,
 * when). Secrets never enter it.
 */
export interface Actor {
  /** "account:<username>" for the admin API, "cli:<os user>" for the command line. */
  name: string;
}

export async function audit(
  trx: Transaction<Tables>,
  actor: Actor,
  action: string,
  target: { type: string; id?: string | null },
  details?: Record<string, unknown>,
): Promise<void> {
  await trx
    .insertInto('admin_audit')
    .values({ actor: actor.name, action, target_type: target.type, target_id: target.id ?? null, details: details ? JSON.stringify(details) : null })
    .execute();
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  details: unknown;
}

export async function listAudit(db: Db, filter: { targetType?: string; targetId?: string; limit: number; beforeId?: number }): Promise<AuditEntry[]> {
  let query = db.selectFrom('admin_audit').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.targetType) query = query.where('target_type', '=', filter.targetType);
  if (filter.targetId) query = query.where('target_id', '=', filter.targetId);
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at.toISOString(),
    actor: r.actor,
    action: r.action,
    target_type: r.target_type,
    target_id: r.target_id,
    details: typeof r.details === 'string' ? JSON.parse(r.details) : r.details,
  }));
}
