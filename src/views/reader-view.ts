import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { GrantEvent, ReaderView } from '../db/object-queries.js';
import { parsePolicy } from '../db/view-policies.js';
import { intersectPolicies, type Policy } from './policy.js';
import { rowBound, type RowBound } from './view-index.js';
import { compileView } from './view-sql.js';

/**
 * The view a reader gets of a collection (maturity-design "Effective policy
 * for a read"): its organisation's current profile ∩ the collection's pinned
 * profile, the collection's defaults, the organisation's grants, and the
 * latest policy event that dates what the change made visible. Resolved on
 * every request from the database, so a policy change applies to the very
 * next request on every replica; only immutable revisions are cached.
 */
export interface ViewDescriptor {
  profile: string;
  revision: number;
  level: string | null;
  pinned?: { profile: string; revision: number };
}

export interface ResolvedView {
  descriptor: ViewDescriptor;
  view: ReaderView;
}

/** Who the view is for: an organisation (its binding and grants), or a profile alone (operator preview). */
export type ViewSubject = { organisationId: string } | { profileId: string };

const policyCache = new Map<string, Policy>();

async function policyOf(db: Db, profileId: string, revision: number): Promise<Policy> {
  const key = `${profileId}@${revision}`;
  const cached = policyCache.get(key);
  if (cached) return cached;
  const row = await db
    .selectFrom('maturity_profile_revisions')
    .select('policy')
    .where('profile_id', '=', profileId)
    .where('revision', '=', revision)
    .executeTakeFirstOrThrow();
  const policy = parsePolicy(row.policy);
  if (policyCache.size > 1000) policyCache.clear();
  policyCache.set(key, policy);
  return policy;
}

interface ViewRow {
  default_tlp: number;
  default_confidence: number | null;
  pinned_profile_id: string | null;
  pinned_revision: number | null;
  profile_id: string | null;
  revision: number | null;
  level: string | null;
  epoch_us: number | null;
  block_end_us: number | null;
  grants: [string, number][] | string | null;
  creator_confidence: Record<string, number> | string | null;
}

/**
 * The columns of a view's state for a collection row aliased `c`: the
 * subject's profile and revision, the pin, the latest policy event, grants,
 * creator defaults. Joined into the query that finds the collection, so that
 * a request pays one round trip for its whole context.
 */
export function viewStateSql(subject: ViewSubject) {
  const organisationId = 'organisationId' in subject ? subject.organisationId : null;
  const profileSource =
    'profileId' in subject
      ? sql`(select ${subject.profileId}::text as profile_id)`
      : sql`(select ob.profile_id from organisation_bindings ob
             where ob.organisation_id = ${organisationId}::uuid and ob.effective_from <= now()
             order by ob.effective_from desc limit 1)`;
  return {
    columns: sql`c.default_tlp, c.default_confidence, c.pinned_profile_id, pp.current_revision as pinned_revision,
           vb.profile_id, vp.current_revision as revision, vp.level,
           epoch.epoch_us, epoch.block_end_us,
           (select jsonb_object_agg(cc.identity_ref, cc.confidence) from creator_confidence cc) as creator_confidence,
           (select json_agg(json_build_array(g.stix_id, g.granted_us)) from grants g
              where g.collection_id = c.id and g.organisation_id = ${organisationId}::uuid) as grants`,
    joins: sql`left join lateral ${profileSource} vb on true
    left join maturity_profiles vp on vp.id = vb.profile_id
    left join maturity_profiles pp on pp.id = c.pinned_profile_id
    left join lateral (select e.epoch_us, e.block_end_us from view_epochs e where e.collection_id = c.id
        and e.scope = any(array['organisation:' || coalesce(${organisationId}::text, ''), 'profile:' || vb.profile_id,
                                'profile:' || coalesce(c.pinned_profile_id, ''), 'collection'])
        order by e.epoch_us desc limit 1) epoch on true`,
  };
}

export type ViewStateRow = ViewRow;

/** Returns undefined when the subject has no profile: no binding means no access (fail closed). */
export async function resolveView(db: Db, collectionId: string, subject: ViewSubject, nowUs = Date.now() * 1000): Promise<ResolvedView | undefined> {
  const state = viewStateSql(subject);
  const result = await sql<ViewRow>`select ${state.columns} from collections c ${state.joins} where c.id = ${collectionId}`.execute(db);
  const row = result.rows[0];
  return row ? viewFromState(db, collectionId, row, nowUs) : undefined;
}

/** Builds the view from its state row; undefined when there is no profile (fail closed). */
export async function viewFromState(db: Db, collectionId: string, row: ViewRow, nowUs = Date.now() * 1000): Promise<ResolvedView | undefined> {
  if (row.profile_id === null || row.revision === null) return undefined;
  let policy = await policyOf(db, row.profile_id, row.revision);
  const bound = boundOf(row.profile_id, row.revision, policy);
  const descriptor: ViewDescriptor = { profile: row.profile_id, revision: row.revision, level: row.level };
  if (row.pinned_profile_id !== null && row.pinned_revision !== null) {
    policy = intersectPolicies(policy, await policyOf(db, row.pinned_profile_id, row.pinned_revision));
    descriptor.pinned = { profile: row.pinned_profile_id, revision: row.pinned_revision };
  }
  const rawGrants = typeof row.grants === 'string' ? (JSON.parse(row.grants) as [string, number][]) : (row.grants ?? []);
  const grants: GrantEvent[] = rawGrants.map(([stixId, grantedUs]) => ({ stixId, grantedUs: Number(grantedUs) }));
  const grantClosure = grants.length > 0 ? await closureOf(db, collectionId, grants.map((g) => g.stixId)) : [];
  const key = descriptor.pinned
    ? `${row.profile_id}@${row.revision}|${descriptor.pinned.profile}@${descriptor.pinned.revision}`
    : `${row.profile_id}@${row.revision}`;
  const compiled = compileView(key, policy);
  const params = {
    collectionId,
    defaultTlp: row.default_tlp,
    defaultConfidence: row.default_confidence,
    grantedIds: grants.map((g) => g.stixId),
    creatorConfidence: typeof row.creator_confidence === 'string' ? JSON.parse(row.creator_confidence) : (row.creator_confidence ?? {}),
    nowUs,
  };
  return {
    descriptor,
    view: { compiled, params, ...(bound ? { bound } : {}), epochUs: Number(row.epoch_us ?? 0), epochBlockEndUs: Number(row.block_end_us ?? 0), grants, grantClosure },
  };
}

const boundCache = new Map<string, RowBound | null>();

function boundOf(profileId: string, revision: number, policy: Policy): RowBound | undefined {
  const key = `${profileId}@${revision}`;
  if (!boundCache.has(key)) {
    if (boundCache.size > 1000) boundCache.clear();
    boundCache.set(key, rowBound(policy) ?? null);
  }
  return boundCache.get(key) ?? undefined;
}

async function closureOf(db: Db, collectionId: string, ids: string[]): Promise<string[]> {
  const result = await sql<{ ref: string }>`
    select distinct unnest(closure_refs) as ref from object_versions
    where collection_id = ${collectionId} and is_latest and stix_id = any(${ids}::text[])`.execute(db);
  return result.rows.map((r) => r.ref);
}
