import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { canSeeApiRoot, findApiRoot, findCollection, type ApiRoot, type CollectionAccess } from '../db/catalog.js';
import { forbidden, notFound } from '../taxii/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiRoot: ApiRoot;
    collection: CollectionAccess;
  }
}

/**
 * onRequest hooks that resolve the API root and collection of a request and
 * apply the access rules: 404 when the caller may not know the resource, 403
 * when it may see a collection but lacks the right (TAXII §5; the DELETE
 * table of §5.7).
 */
export type Need = 'see' | 'read' | 'write' | 'delete';

export const loadApiRoot: onRequestHookHandler = async function (request) {
  const { apiRoot: id } = request.params as { apiRoot: string };
  const root = await findApiRoot(this.taxii.db, id);
  if (!root || !(await canSeeApiRoot(this.taxii.db, root.id, request.principal))) throw notFound(`The API root /${id}/`);
  request.apiRoot = root;
};

export function loadCollection(need: Need): onRequestHookHandler {
  return async function (request: FastifyRequest) {
    const { collectionId } = request.params as { collectionId: string };
    const principal = request.principal!;
    const collection = await findCollection(this.taxii.db, request.apiRoot.id, collectionId, principal);
    if (!collection) throw notFound(`The collection ${collectionId}`);
    if (need === 'read' && !collection.canRead) throw forbidden('This account may not read objects of this collection.');
    if (need === 'write' && !collection.canWrite) throw forbidden('This account may not add objects to this collection.');
    if (need === 'delete') {
      if (!collection.canRead && !collection.canWrite) throw notFound(`The collection ${collectionId}`);
      if (!collection.canRead || !collection.canWrite) {
        throw forbidden('Deleting objects needs both read and write access to this collection.');
      }
    }
    request.collection = collection;
  };
}
