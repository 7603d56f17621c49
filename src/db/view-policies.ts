import { sql, type Transaction } from 'kysely';
import { DEFAULT_LEVELS } from '../views/levels.js';
import type { Policy } from '../views/policy.js';
import { validatePolicy } from '../views/policy-validation.js';
import { allocateEpoch, recordPolicyEvent } from './clock.js';
import type { Db } from './database.js';
import type { Tables } from './tables.js';

/**
 * Repository of the view layer's policy data: maturity profiles and their
 * revisions, organisation bindings, collection pins and defaults, grants and
 * creator confidence defaults. Every change that can alter what a reader sees
 * is also a policy event on the collection clocks (clock.ts), so that objects
 * it makes visible reach added_after pollers (maturity-design rules 7, 8).
 */
type Trx = Transaction<Tables>;

export class ViewPolicyError extends Error {}

export interface ProfileSummary {
  id: string;
  name: string;
  level: string | null;
  revision: number;
  policy: Policy;
}

/** Ships the default levels L1–L4 (maturity-design table) when they are missing; edits are kept. */
export async function ensureDefaultProfiles(db: Db | Trx): Promise<void> {
  for (const level of DEFAULT_LEVELS) {
    const inserted = await db
      .insertInto('maturity_profiles')
      .values({ id: level.id, name: level.name, level: level.level, current_revision: 1 })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) {
      await db
        .insertInto('maturity_profile_revisions')
        .values({ profile_id: level.id, revision: 1, policy: JSON.stringify(level.policy), created_by: 'default' })
        .execute();
    }
  }
}

export async function findProfile(db: Db | Trx, id: string): Promise<ProfileSummary | undefined> {
  const row = await db
    .selectFrom('maturity_profiles as p')
    .innerJoin('maturity_profile_revisions as r', (j) => j.onRef('r.profile_id', '=', 'p.id').onRef('r.revision', '=', 'p.current_revision'))
    .select(['p.id', 'p.name', 'p.level', 'p.current_revision', 'r.policy'])
    .where('p.id', '=', id)
    .executeTakeFirst();
  return row && { id: row.id, name: row.name, level: row.level, revision: row.current_revision, policy: parsePolicy(row.policy) };
}

export function parsePolicy(value: unknown): Policy {
  return (typeof value === 'string' ? JSON.parse(value) : value) as Policy;
}

/**
 * Creates a profile or a new revision of one when the policy differs from the
 * current one (validated first; a refused policy changes nothing). Returns
 * whether anything changed.
 */
export async function saveProfile(
  trx: Trx,
  profile: { id: string; name: string; level?: string | null; policy: unknown },
  by: string | null,
): Promise<'created' | 'updated' | 'unchanged'> {
  const policy = validatePolicy(profile.policy);
  const current = await findProfile(trx, profile.id);
  if (!current) {
    await trx.insertInto('maturity_profiles').values({ id: profile.id, name: profile.name, level: profile.level ?? null, current_revision: 1 }).execute();
    await trx.insertInto('maturity_profile_revisions').values({ profile_id: profile.id, revision: 1, policy: JSON.stringify(policy), created_by: by }).execute();
    return 'created';
  }
  const samePolicy = JSON.stringify(canonical(current.policy)) === JSON.stringify(canonical(policy));
  const sameLabels = current.name === profile.name && current.level === (profile.level ?? current.level);
  if (samePolicy && sameLabels) return 'unchanged';
  if (samePolicy) {
    await trx.updateTable('maturity_profiles').set({ name: profile.name, level: profile.level ?? current.level }).where('id', '=', profile.id).execute();
    return 'updated';
  }
  const revision = current.revision + 1;
  await trx.insertInto('maturity_profile_revisions').values({ profile_id: profile.id, revision, policy: JSON.stringify(policy), created_by: by }).execute();
  await trx
    .updateTable('maturity_profiles')
    .set({ current_revision: revision, name: profile.name, level: profile.level ?? current.level })
    .where('id', '=', profile.id)
    .execute();
  await recordPolicyEvent(trx, `profile:${profile.id}`);
  return 'updated';
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** The profile an organisation is bound to now, if any. */
export async function currentBinding(db: Db | Trx, organisationId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('organisation_bindings')
    .select('profile_id')
    .where('organisation_id', '=', organisationId)
    .where(sql<boolean>`effective_from <= now()`)
    .orderBy('effective_from', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.profile_id;
}

/**
 * Binds an organisation to a profile from now on (history is kept). A binding
 * cannot be scheduled in the future: a view changes when the change is made,
 * and that moment is its date for pollers.
 */
export async function bindOrganisation(trx: Trx, organisationId: string, profileId: string): Promise<'created' | 'unchanged'> {
  if (!(await findProfile(trx, profileId))) throw new ViewPolicyError(`profile "${profileId}" does not exist`);
  if ((await currentBinding(trx, organisationId)) === profileId) return 'unchanged';
  await trx.insertInto('organisation_bindings').values({ organisation_id: organisationId, profile_id: profileId, effective_from: sql<Date>`clock_timestamp()` as never }).execute();
  await recordPolicyEvent(trx, `organisation:${organisationId}`);
  return 'created';
}

/** Pins a profile on a collection (null removes the pin); readers get their profile ∩ the pinned one. */
export async function pinProfile(trx: Trx, collectionId: string, profileId: string | null): Promise<'updated' | 'unchanged'> {
  if (profileId !== null && !(await findProfile(trx, profileId))) throw new ViewPolicyError(`profile "${profileId}" does not exist`);
  const current = await trx.selectFrom('collections').select('pinned_profile_id').where('id', '=', collectionId).executeTakeFirstOrThrow();
  if (current.pinned_profile_id === profileId) return 'unchanged';
  await trx.updateTable('collections').set({ pinned_profile_id: profileId }).where('id', '=', collectionId).execute();
  await recordPolicyEvent(trx, 'collection', [collectionId]);
  return 'updated';
}

/** The TLP applied to unmarked objects and the default confidence of a collection. */
export async function setCollectionDefaults(
  trx: Trx,
  collectionId: string,
  defaults: { tlp: number; confidence: number | null },
): Promise<'updated' | 'unchanged'> {
  const current = await trx.selectFrom('collections').select(['default_tlp', 'default_confidence']).where('id', '=', collectionId).executeTakeFirstOrThrow();
  if (current.default_tlp === defaults.tlp && current.default_confidence === defaults.confidence) return 'unchanged';
  await trx.updateTable('collections').set({ default_tlp: defaults.tlp, default_confidence: defaults.confidence }).where('id', '=', collectionId).execute();
  await recordPolicyEvent(trx, 'collection', [collectionId]);
  return 'updated';
}

/** Need-to-know access to one object for one organisation (the only way to TLP:RED). */
export async function grantObject(trx: Trx, collectionId: string, stixId: string, organisationId: string): Promise<'created' | 'unchanged'> {
  const existing = await trx
    .selectFrom('grants')
    .select('granted_us')
    .where('collection_id', '=', collectionId)
    .where('organisation_id', '=', organisationId)
    .where('stix_id', '=', stixId)
    .executeTakeFirst();
  if (existing) return 'unchanged';
  const { epoch: grantedUs } = await allocateEpoch(trx, collectionId);
  await trx.insertInto('grants').values({ collection_id: collectionId, stix_id: stixId, organisation_id: organisationId, granted_us: grantedUs }).execute();
  return 'created';
}

export async function revokeGrant(trx: Trx, collectionId: string, stixId: string, organisationId: string): Promise<boolean> {
  const result = await trx
    .deleteFrom('grants')
    .where('collection_id', '=', collectionId)
    .where('organisation_id', '=', organisationId)
    .where('stix_id', '=', stixId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Default confidence for objects of a creator identity that carry none (the decision only; objects are never rewritten). */
export async function setCreatorConfidence(trx: Trx, identityRef: string, confidence: number | null): Promise<'updated' | 'unchanged'> {
  const current = await trx.selectFrom('creator_confidence').select('confidence').where('identity_ref', '=', identityRef).executeTakeFirst();
  if ((current?.confidence ?? null) === confidence) return 'unchanged';
  if (confidence === null) await trx.deleteFrom('creator_confidence').where('identity_ref', '=', identityRef).execute();
  else {
    await trx
      .insertInto('creator_confidence')
      .values({ identity_ref: identityRef, confidence })
      .onConflict((oc) => oc.column('identity_ref').doUpdateSet({ confidence }))
      .execute();
  }
  await recordPolicyEvent(trx, 'collection');
  return 'updated';
}
