import type { FastifyInstance } from 'fastify';
import { listCollections } from '../db/catalog.js';
import { collectionResource } from '../taxii/resources.js';
import { loadApiRoot, loadCollection } from './context.js';
import { methodNotAllowed } from './method-not-allowed.js';

/** Get Collections (TAXII §5.1) and Get a Collection (§5.2); can_read/can_write describe the caller. */
export async function collectionRoutes(app: FastifyInstance) {
  const { db } = app.taxii;

  app.get('/:apiRoot/collections/', { onRequest: [app.requireCredentials, loadApiRoot] }, async (request) => {
    const collections = await listCollections(db, request.apiRoot.id, request.principal!);
    return JSON.stringify(collections.length > 0 ? { collections: collections.map((c) => collectionResource(c)) } : {});
  });
  methodNotAllowed(app, '/:apiRoot/collections/', ['GET']);

  app.get(
    '/:apiRoot/collections/:collectionId/',
    { onRequest: [app.requireCredentials, loadApiRoot, loadCollection('see')] },
    async (request) => JSON.stringify(collectionResource(request.collection)),
  );
  methodNotAllowed(app, '/:apiRoot/collections/:collectionId/', ['GET']);
}
