import { CompiledQuery, sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { selectObjects, type ReaderView } from '../../db/object-queries.js';
import {
  bindOrganisation,
  currentBinding,
  findProfile,
  grantObject,
  parsePolicy,
  revokeGrant,
  saveProfile,
  setCreatorConfidence,
  ViewPolicyError,
} from '../../db/view-policies.js';
import { tlpName } from '../../stix/tlp.js';
import { badRequest, conflict, notFound } from '../../taxii/errors.js';
import { PolicyError } from '../../views/policy-validation.js';
import { resolveView, type ViewSubject } from '../../views/reader-view.js';
import { syncViewIndexes } from '../../views/view-index.js';
import { viewParamsRelation, viewParamValues } from '../../views/view-sql.js';
import { audit, type Actor } from './audit.js';
import { findOrganisation, getCollection } from './catalog.js';

/**
 * Operator operations on the maturity views: profiles with their revision
 * history, bindings, grants, creator confidence defaults, and the preview of
 * any organisation's (or profile's) view of a collection.
 */
function refuse(error: unknown): never {
  if (error instanceof PolicyError) throw badRequest(error.message, { problems: error.problems });
  if (error instanceof ViewPolicyError) throw badRequest(error.message);
  throw error;
}

export async function listProfiles(db: Db) {
  const rows = await db
    .selectFrom('maturity_profiles as p')
    .innerJoin('maturity_profile_revisions as r', (j) => j.onRef('r.profile_id', '=', 'p.id').onRef('r.revision', '=', 'p.current_revision'))
    .select(['p.id', 'p.name', 'p.level', 'p.current_revision', 'r.policy', 'r.created_at'])
    .orderBy('p.id')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, level: r.level, revision: r.current_revision, policy: parsePolicy(r.policy), revised_at: r.created_at.toISOString() }));
}

export async function getProfile(db: Db, id: string) {
  const profile = await findProfile(db, id);
  if (!profile) throw notFound(`The profile ${id}`);
  const revisions = await db
    .selectFrom('maturity_profile_revisions')
    .select(['revision', 'created_at', 'created_by', 'policy'])
    .where('profile_id', '=', id)
    .orderBy('revision')
    .execute();
  const bound = await db.selectFrom('organisation_bindings').select(sql<number>`count(distinct organisation_id)`.as('n')).where('profile_id', '=', id).executeTakeFirst();
  return {
    ...profile,
    revisions: revisions.map((r) => ({ revision: r.revision, created_at: r.created_at.toISOString(), created_by: r.created_by, policy: parsePolicy(r.policy) })),
    organisations_ever_bound: Number(bound?.n ?? 0),
  };
}

/** A new profile from a whole policy, or a copy of another profile's current policy. */
export async function createProfile(db: Db, actor: Actor, input: { id: string; name: string; level?: string | null; policy?: unknown; copy_of?: string }) {
  await db.transaction().execute(async (trx) => {
    if (await findProfile(trx, input.id)) throw conflict(`A profile "${input.id}" already exists.`);
    let policy = input.policy;
    if (policy === undefined) {
      if (!input.copy_of) throw badRequest('Give a policy, or copy_of naming the profile to copy.');
      const source = await findProfile(trx, input.copy_of);
      if (!source) throw badRequest(`copy_of names an unknown profile "${input.copy_of}".`);
      policy = source.policy;
    }
    await saveProfile(trx, { id: input.id, name: input.name, level: input.level ?? null, policy }, actor.name).catch(refuse);
    await audit(trx, actor, 'profile.create', { type: 'profile', id: input.id }, { name: input.name, level: input.level ?? null, copy_of: input.copy_of ?? null, policy });
  });
  await syncViewIndexes(db);
  return getProfile(db, input.id);
}

/** Edits a profile: a changed policy becomes a new revision, applied to its readers from the next request. */
export async function editProfile(db: Db, actor: Actor, id: string, changes: { name?: string; level?: string | null; policy?: unknown }) {
  const current = await findProfile(db, id);
  if (!current) throw notFound(`The profile ${id}`);
  await db.transaction().execute(async (trx) => {
    const outcome = await saveProfile(
      trx,
      { id, name: changes.name ?? current.name, level: changes.level !== undefined ? changes.level : current.level, policy: changes.policy ?? current.policy },
      actor.name,
    ).catch(refuse);
    await audit(trx, actor, 'profile.edit', { type: 'profile', id }, { ...changes, outcome });
  });
  await syncViewIndexes(db);
  return getProfile(db, id);
}

// --- bindings ------------------------------------------------------------------

export async function getBinding(db: Db, organisation: string) {
  const org = await findOrganisation(db, organisation);
  const history = await db
    .selectFrom('organisation_bindings')
    .select(['profile_id', 'effective_from'])
    .where('organisation_id', '=', org.id)
    .orderBy('effective_from', 'desc')
    .execute();
  return {
    organisation_id: org.id,
    organisation: org.name,
    profile: (await currentBinding(db, org.id)) ?? null,
    history: history.map((h) => ({ profile: h.profile_id, effective_from: h.effective_from.toISOString() })),
  };
}

export async function setBinding(db: Db, actor: Actor, organisation: string, profile: string) {
  const org = await findOrganisation(db, organisation);
  await db.transaction().execute(async (trx) => {
    const outcome = await bindOrganisation(trx, org.id, profile).catch(refuse);
    await audit(trx, actor, 'binding.set', { type: 'organisation', id: org.id }, { organisation: org.name, profile, outcome });
  });
  return getBinding(db, org.id);
}

// --- grants --------------------------------------------------------------------

export async function listGrants(db: Db, collectionId: string) {
  await getCollection(db, collectionId);
  const rows = await db
    .selectFrom('grants as g')
    .innerJoin('organisations as o', 'o.id', 'g.organisation_id')
    .select(['g.stix_id', 'o.name as organisation', 'g.organisation_id', 'g.created_at'])
    .where('g.collection_id', '=', collectionId)
    .orderBy('g.created_at')
    .execute();
  return rows.map((r) => ({ object: r.stix_id, organisation: r.organisation, organisation_id: r.organisation_id, granted_at: r.created_at.toISOString() }));
}

export async function addGrant(db: Db, actor: Actor, collectionId: string, object: string, organisation: string) {
  await getCollection(db, collectionId);
  const org = await findOrganisation(db, organisation);
  await db.transaction().execute(async (trx) => {
    const outcome = await grantObject(trx, collectionId, object, org.id);
    await audit(trx, actor, 'grant.add', { type: 'collection', id: collectionId }, { object, organisation: org.name, outcome });
  });
  return { object, organisation: org.name, organisation_id: org.id };
}

export async function removeGrant(db: Db, actor: Actor, collectionId: string, object: string, organisation: string) {
  const org = await findOrganisation(db, organisation);
  await db.transaction().execute(async (trx) => {
    if (!(await revokeGrant(trx, collectionId, object, org.id))) throw notFound(`A grant of ${object} to ${org.name}`);
    await audit(trx, actor, 'grant.remove', { type: 'collection', id: collectionId }, { object, organisation: org.name });
  });
}

// --- creator confidence defaults -------------------------------------------------

export async function listCreatorConfidence(db: Db) {
  return db.selectFrom('creator_confidence').select(['identity_ref as identity', 'confidence']).orderBy('identity_ref').execute();
}

export async function setCreatorDefault(db: Db, actor: Actor, identity: string, confidence: number | null) {
  await db.transaction().execute(async (trx) => {
    const outcome = await setCreatorConfidence(trx, identity, confidence);
    await audit(trx, actor, confidence === null ? 'creator-confidence.remove' : 'creator-confidence.set', { type: 'identity', id: identity }, { confidence, outcome });
  });
  return { identity, confidence };
}

// --- preview ------------------------------------------------------------------

/**
 * What an organisation (or any holder of a profile) sees in a collection:
 * counts of visible objects by type and by TLP, and the first page. Lets an
 * operator check a policy before assigning it (maturity-design rule 10).
 */
export async function previewView(db: Db, collectionId: string, subject: { organisation?: string; profile?: string }, limit: number) {
  const collection = await getCollection(db, collectionId);
  let viewSubject: ViewSubject;
  if (subject.organisation) viewSubject = { organisationId: (await findOrganisation(db, subject.organisation)).id };
  else if (subject.profile) {
    if (!(await findProfile(db, subject.profile))) throw badRequest(`No profile "${subject.profile}".`);
    viewSubject = { profileId: subject.profile };
  } else throw badRequest('Name an organisation or a profile to preview.');
  const resolved = await resolveView(db, collection.id, viewSubject);
  if (!resolved) {
    return { collection: collection.id, view: null, reason: 'The organisation has no maturity profile: it reads nothing.', counts: { total: 0, by_type: {}, by_tlp: {} }, objects: [] };
  }
  const counts = await countVisible(db, collection.id, resolved.view);
  const page = await selectObjects(db, { collectionId: collection.id, filters: {}, limit, view: resolved.view });
  return {
    collection: collection.id,
    view: resolved.descriptor,
    counts,
    objects: page.map((row) => JSON.parse(row.body) as unknown),
  };
}

async function countVisible(db: Db, collectionId: string, view: ReaderView) {
  const rows = await db.executeQuery<{ stix_type: string; tlp: number; n: number }>(
    CompiledQuery.raw(
      `select v.stix_type, coalesce(v.tlp, p.default_tlp) as tlp, count(*)::int8 as n
       from object_versions v cross join ${viewParamsRelation(1)}
       where v.collection_id = p.collection_id and v.is_latest and ${view.compiled.objectVisible('v')}
       group by 1, 2`,
      viewParamValues(view.params),
    ),
  );
  const byType: Record<string, number> = {};
  const byTlp: Record<string, number> = {};
  let total = 0;
  for (const row of rows.rows) {
    const n = Number(row.n);
    total += n;
    byType[row.stix_type] = (byType[row.stix_type] ?? 0) + n;
    const level = tlpName(Number(row.tlp));
    byTlp[level] = (byTlp[level] ?? 0) + n;
  }
  return { total, by_type: byType, by_tlp: byTlp };
}
