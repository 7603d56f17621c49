import { sql } from 'kysely';
import type { Db } from './database.js';

/**
 * Keeps the planner's statistics of object_versions fresh. PostgreSQL's
 * autovacuum does this on a stock server, but deployments (and this project's
 * CI machine) may run with it off, and a collection that grew from nothing
 * without statistics gets plans that scan it whole. Analyses when more than a
 * tenth of the rows changed since the last analysis (autoanalyze's rule).
 */
export async function analyzeIfStale(db: Db): Promise<boolean> {
  const stats = await sql<{ changed: number; live: number }>`
    select coalesce(n_mod_since_analyze, 0)::int8 as changed, coalesce(n_live_tup, 0)::int8 as live
    from pg_stat_user_tables where relname = 'object_versions'`.execute(db);
  const row = stats.rows[0];
  if (!row) return false;
  const changed = Number(row.changed);
  if (changed < 1000 || changed < 0.1 * Number(row.live)) return false;
  await sql`analyze object_versions`.execute(db);
  return true;
}

interface Keeper {
  running: boolean;
  lastCheck: number;
}

const keepers = new WeakMap<Db, Keeper>();
const MIN_INTERVAL_MS = 2000;

/**
 * Called after writes: checks (in the background, at most every two seconds,
 * one check at a time per database handle) whether the statistics went stale,
 * so that a collection growing from nothing gets good plans early on.
 */
export function analyzeSoon(db: Db, onError: (error: unknown) => void = () => {}): void {
  let keeper = keepers.get(db);
  if (!keeper) keepers.set(db, (keeper = { running: false, lastCheck: 0 }));
  const now = Date.now();
  if (keeper.running || now - keeper.lastCheck < MIN_INTERVAL_MS) return;
  keeper.running = true;
  keeper.lastCheck = now;
  const k = keeper;
  analyzeIfStale(db)
    .catch(onError)
    .finally(() => {
      k.running = false;
    });
}
