import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { parsePolicy } from '../db/view-policies.js';
import { CLOSURE_TYPES } from '../stix/analyse.js';
import { tlpRank } from '../stix/tlp.js';
import { STIX_TYPES, typeRule, type Policy } from './policy.js';

/**
 * Views compiled to indexed predicates. For each profile a partial index
 * holds only the latest versions that can possibly be visible through it: a
 * row-local bound of the view that needs no defaults, grants or clock (a
 * superset of what any reader bound to the profile sees). Reads add the same
 * bound, written identically, so PostgreSQL proves the index applies and an
 * L1 poll walks the few rows L1 can see instead of the whole collection.
 *
 * The bound must stay a superset of visibility (else objects would vanish):
 * - unmarked objects may get any collection default TLP, missing confidences
 *   any default, so both pass the bound;
 * - retracted versions are served on the strength of an earlier version, so
 *   they skip the relevance part;
 * - closure types (definitions, creator identities) always pass;
 * - granted objects are read by a separate query segment without the bound.
 */
const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;
const textArray = (values: readonly string[]) => `array[${values.map(quote).join(', ')}]::text[]`;

export interface RowBound {
  /** The predicate over object_versions columns (unqualified), as literal SQL. */
  text: string;
  /** Name of the partial index holding the rows within the bound. */
  indexName: string;
}

function typeAllowed(policy: Policy): string | undefined {
  if (policy.all_stix_types && policy.custom_types) return undefined;
  const parts: string[] = [];
  const listed = Object.keys(policy.types);
  if (listed.length > 0) parts.push(`stix_type = any(${textArray(listed)})`);
  if (policy.all_stix_types) parts.push(`stix_type = any(${textArray(STIX_TYPES)})`);
  if (policy.custom_types) parts.push(`stix_type <> all(${textArray(STIX_TYPES)})`);
  return `(${parts.join(' or ')})`;
}

function floorsBound(policy: Policy): string | undefined {
  const floors = Object.entries(policy.types).filter(([, rule]) => rule.min_confidence !== undefined && rule.min_confidence > 0);
  if (floors.length === 0) return undefined;
  const cases = floors.map(([type, rule]) => `when ${quote(type)} then ${rule.min_confidence}`).join(' ');
  return `(confidence is null or confidence >= (case stix_type ${cases} else 0 end))`;
}

function indicatorBound(policy: Policy): string | undefined {
  if (!typeRule(policy, 'indicator')) return undefined;
  const limits = policy.indicators ?? {};
  const parts: string[] = [];
  if (limits.pattern_types) parts.push(`pattern_type = any(${textArray(limits.pattern_types)})`);
  if (limits.pattern_class === 'atomic') parts.push(`(pattern_type <> 'stix' or pattern_class = 'atomic')`);
  if (limits.pattern_class === 'disjunctive') parts.push(`(pattern_type <> 'stix' or pattern_class in ('atomic', 'disjunctive'))`);
  if (limits.observable_types) {
    const types = limits.observable_types.filter((o) => !o.includes(':'));
    const paths = limits.observable_types.filter((o) => o.includes(':'));
    parts.push(`(pattern_type <> 'stix' or taxii_observables_allowed(observable_paths, ${textArray(types)}, ${textArray(paths)}))`);
  }
  if (limits.denied_indicator_types && limits.denied_indicator_types.length > 0) {
    parts.push(`not coalesce(indicator_types && ${textArray(limits.denied_indicator_types)}, false)`);
  }
  return parts.length === 0 ? undefined : `(stix_type <> 'indicator' or (${parts.join(' and ')}))`;
}

function relationshipBound(policy: Policy): string | undefined {
  const types = typeRule(policy, 'relationship')?.relationship_types;
  return types ? `(stix_type <> 'relationship' or relationship_type = any(${textArray(types)}))` : undefined;
}

/**
 * The row-local bound of a profile's policy, or undefined when it would keep
 * most rows (an index would not help, e.g. L3 and L4).
 */
export function rowBound(policy: Policy): RowBound | undefined {
  const ceiling = tlpRank(policy.tlp_ceiling);
  const relevance = [floorsBound(policy), indicatorBound(policy), relationshipBound(policy)].filter((p): p is string => p !== undefined);
  const type = typeAllowed(policy);
  // Profiles that take every STIX type (L3, L4) keep most rows: an index would cost
  // every insert and save little. Those that list their types (L1, L2) get one.
  if (policy.all_stix_types) return undefined;
  const admitted = [
    `(tlp is null or tlp <= ${ceiling})`,
    ...(type ? [type] : []),
    ...(relevance.length > 0 ? [`(revoked or valid_until is not null or (${relevance.join(' and ')}))`] : []),
  ].join(' and ');
  const closure = policy.closure ? `stix_type = any(${textArray(CLOSURE_TYPES)}) or ` : '';
  const text = `(is_latest and (${closure}(${admitted})))`;
  const indexName = `view_bound_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
  return { text, indexName };
}

/**
 * Creates the partial index of every current profile revision that needs one
 * and drops those no profile uses any more. Idempotent; run at start and after
 * profile changes. Reads are correct without the index, only slower.
 */
export async function syncViewIndexes(db: Db): Promise<{ created: string[]; dropped: string[] }> {
  const rows = await db
    .selectFrom('maturity_profiles as p')
    .innerJoin('maturity_profile_revisions as r', (j) => j.onRef('r.profile_id', '=', 'p.id').onRef('r.revision', '=', 'p.current_revision'))
    .select('r.policy')
    .execute();
  const wanted = new Map<string, RowBound>();
  for (const row of rows) {
    const bound = rowBound(parsePolicy(row.policy));
    if (bound) wanted.set(bound.indexName, bound);
  }
  const existing = (
    await sql<{ indexname: string }>`select indexname from pg_indexes where tablename = 'object_versions' and indexname like 'view_bound_%'`.execute(db)
  ).rows.map((r) => r.indexname);
  const created: string[] = [];
  for (const [name, bound] of wanted) {
    if (existing.includes(name)) continue;
    await sql.raw(`create index if not exists ${name} on object_versions (collection_id, date_added, cseq) where ${bound.text}`).execute(db);
    created.push(name);
  }
  const dropped = existing.filter((name) => !wanted.has(name));
  for (const name of dropped) await sql.raw(`drop index if exists ${name}`).execute(db);
  return { created, dropped };
}
