import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Principal } from '../auth/authenticate.js';
import { canSeeApiRoot, findApiRoot, findCollection, type ApiRoot, type CollectionAccess } from '../db/catalog.js';
import type { Db } from '../db/database.js';
import { badRequest, forbidden, notFound } from '../taxii/errors.js';
import { resolveView, type ViewSubject } from '../views/reader-view.js';

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
  const root = await findApiRoot(this.taxii.db, id);
  if (!root || !(await canSeeApiRoot(this.taxii.db, root.id, request.principal))) throw notFound(`The API root /${id}/`);
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

/** The caller's view of a collection, applied to its rights (no view: no read). */
export async function withView(db: Db, collection: CollectionAccess, principal: Principal, request?: FastifyRequest): Promise<{ collection: CollectionAccess; readerKey: string }> {
  if (principal.isAdmin) {
    const preview = request ? await previewSubject(db, request) : undefined;
    if (!preview) return { collection, readerKey: principal.accountId };
    const view = await resolveView(db, collection.id, preview.subject);
    if (!view) throw badRequest('The previewed organisation has no maturity profile: it cannot read anything.');
    return { collection: { ...collection, view }, readerKey: `${principal.accountId}|${preview.key}` };
  }
  const view = await resolveView(db, collection.id, { organisationId: principal.organisationId });
  return {
    collection: view ? { ...collection, view } : { ...collection, canRead: false },
    readerKey: principal.accountId,
  };
}

export function loadCollection(need: Need): onRequestHookHandler {
  return async function (request: FastifyRequest) {
    const { collectionId } = request.params as { collectionId: string };
    const principal = request.principal!;
    const found = await findCollection(this.taxii.db, request.apiRoot.id, collectionId, principal);
    if (!found) throw notFound(`The collection ${collectionId}`);
    const { collection, readerKey } = need === 'write' ? { collection: found, readerKey: principal.accountId } : await withView(this.taxii.db, found, principal, request);
    if (need === 'read' && !collection.canRead) throw forbidden('This account may not read objects of this collection.');
    if (need === 'write' && !collection.canWrite) throw forbidden('This account may not add objects to this collection.');
    if (need === 'delete') {
      if (!collection.canRead && !collection.canWrite) throw notFound(`The collection ${collectionId}`);
      if (!collection.canRead || !collection.canWrite) {
        throw forbidden('Deleting objects needs both read and write access to this collection.');
      }
    }
    request.collection = collection;
    request.readerKey = readerKey;
  };
}
