import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Principal } from '../auth/authenticate.js';
import { findCollectionContext, findVisibleApiRoot, type ApiRoot, type CollectionAccess, type CollectionContext } from '../db/catalog.js';
import type { Db } from '../db/database.js';
import { badRequest, forbidden, notFound } from '../taxii/errors.js';
import { resolveView, viewFromState, type ViewSubject } from '../views/reader-view.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiRoot: ApiRoot;
    collection: CollectionAccess;
    /** Identifies the reader in cursors: the account, plus the previewed subject for operators. */
    readerKey: string;
  }
}

/**
 * onRequest hooks that resolve the API root and collection of a request and
 * apply the access rules: 404 when the caller may not know the resource, 403
 * when it may see a collection but lacks the right (TAXII §5; the DELETE
 * table of §5.7). Readers other than operators read through their
 * organisation's maturity view; without a binding they cannot read at all
 * (maturity-design: fail closed).
 */
export type Need = 'see' | 'read' | 'write' | 'delete';

/** Operators may preview any organisation's or profile's view with these headers. */
export const PREVIEW_ORGANISATION_HEADER = 'x-taxii-hub-view-organisation';
export const PREVIEW_PROFILE_HEADER = 'x-taxii-hub-view-profile';

export const loadApiRoot: onRequestHookHandler = async function (request) {
  const { apiRoot: id } = request.params as { apiRoot: string };
  const root = await findVisibleApiRoot(this.taxii.db, id, request.principal);
  if (!root) throw notFound(`The API root /${id}/`);
  request.apiRoot = root;
};

async function previewSubject(db: Db, request: FastifyRequest): Promise<{ subject: ViewSubject; key: string } | undefined> {
  const organisation = request.headers[PREVIEW_ORGANISATION_HEADER];
  const profile = request.headers[PREVIEW_PROFILE_HEADER];
  if (typeof organisation === 'string' && organisation !== '') {
    const row = await db
      .selectFrom('organisations')
      .select('id')
      .where((eb) => (/^[0-9a-f-]{36}$/i.test(organisation) ? eb.or([eb('id', '=', organisation.toLowerCase()), eb('name', '=', organisation)]) : eb('name', '=', organisation)))
      .executeTakeFirst();
    if (!row) throw badRequest(`No organisation "${organisation}" to preview.`);
    return { subject: { organisationId: row.id }, key: `organisation:${row.id}` };
  }
  if (typeof profile === 'string' && profile !== '') {
    const row = await db.selectFrom('maturity_profiles').select('id').where('id', '=', profile).executeTakeFirst();
    if (!row) throw badRequest(`No profile "${profile}" to preview.`);
    return { subject: { profileId: row.id }, key: `profile:${row.id}` };
  }
  return undefined;
}

/** Whose view a request reads through: the caller's organisation, an operator's preview, or none (operators). */
async function viewSubjectOf(db: Db, principal: Principal, request?: FastifyRequest): Promise<{ subject?: ViewSubject; readerKey: string }> {
  if (!principal.isAdmin) return { subject: { organisationId: principal.organisationId }, readerKey: principal.accountId };
  const preview = request ? await previewSubject(db, request) : undefined;
  return preview ? { subject: preview.subject, readerKey: `${principal.accountId}|${preview.key}` } : { readerKey: principal.accountId };
}

/** Applies the view to the caller's rights: no view, no read (fail closed). */
async function applyView(db: Db, context: CollectionContext, previewing: boolean): Promise<CollectionAccess> {
  if (!context.viewState) return context.collection;
  const view = await viewFromState(db, context.collection.id, context.viewState);
  if (view) return { ...context.collection, view };
  if (previewing) throw badRequest('The previewed organisation has no maturity profile: it cannot read anything.');
  return { ...context.collection, canRead: false };
}

/** The caller's view of a listed collection (Get Collections), one query per collection. */
export async function withView(db: Db, collection: CollectionAccess, principal: Principal, request?: FastifyRequest): Promise<CollectionAccess> {
  const { subject } = await viewSubjectOf(db, principal, request);
  if (!subject) return collection;
  const view = await resolveView(db, collection.id, subject);
  return view ? { ...collection, view } : { ...collection, canRead: principal.isAdmin ? collection.canRead : false };
}

/**
 * Resolves the API root, the collection, the caller's rights and view in one
 * query, then applies the rules of the endpoint's need.
 */
export function loadCollection(need: Need): onRequestHookHandler {
  return async function (request: FastifyRequest) {
    const { apiRoot, collectionId } = request.params as { apiRoot: string; collectionId: string };
    const principal = request.principal!;
    const { subject, readerKey } = need === 'write' ? { subject: undefined, readerKey: principal.accountId } : await viewSubjectOf(this.taxii.db, principal, request);
    const context = await findCollectionContext(this.taxii.db, apiRoot, collectionId, principal, subject);
    if (!context) throw notFound(`The collection ${collectionId}`);
    const collection = await applyView(this.taxii.db, context, principal.isAdmin && subject !== undefined);
    if (need === 'read' && !collection.canRead) throw forbidden('This account may not read objects of this collection.');
    if (need === 'write' && !collection.canWrite) throw forbidden('This account may not add objects to this collection.');
    if (need === 'delete') {
      if (!collection.canRead && !collection.canWrite) throw notFound(`The collection ${collectionId}`);
      if (!collection.canRead || !collection.canWrite) {
        throw forbidden('Deleting objects needs both read and write access to this collection.');
      }
    }
    request.apiRoot = context.apiRoot;
    request.collection = collection;
    request.readerKey = readerKey;
  };
}
