import type { FastifyInstance } from 'fastify';
import { listCollections, type CollectionAccess } from '../db/catalog.js';
import { collectionResource } from '../taxii/resources.js';
import { loadApiRoot, loadCollection, withView } from './context.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { taxiiRoute } from './taxii-schemas.js';

/**
 * The view that shapes what the caller reads (maturity-design rule 10), as a
 * custom property (TAXII §7: x_ prefix): profile, revision and level, and the
 * collection's pinned profile; operators read unfiltered.
 */
export function viewProperty(collection: CollectionAccess): Record<string, unknown> {
  const view = collection.view?.descriptor;
  if (!view) return collection.canRead ? { x_taxii_hub_view: { unfiltered: true } } : {};
  return {
    x_taxii_hub_view: {
      profile: view.profile,
      revision: view.revision,
      ...(view.level ? { level: view.level } : {}),
      ...(view.pinned ? { pinned_profile: view.pinned.profile, pinned_revision: view.pinned.revision } : {}),
    },
  };
}

/** Get Collections (TAXII §5.1) and Get a Collection (§5.2); can_read/can_write describe the caller. */
export async function collectionRoutes(app: FastifyInstance) {
  const { db } = app.taxii;

  const collectionsSchema = taxiiRoute({
    operationId: 'getCollections',
    tag: 'Collections',
    summary: 'Collections of an API root',
    description: "TAXII §5.1: the collections the caller's organisation has a permission on, with its can_read and can_write.",
    params: ['apiRoot'],
    preview: true,
    ok: { status: 200, description: 'The collections resource (empty when there are none).', schema: 'collections' },
    errors: [400, 404],
  });
  app.get('/:apiRoot/collections/', { ...collectionsSchema, onRequest: [app.requireCredentials, loadApiRoot] }, async (request) => {
    const principal = request.principal!;
    const collections = await Promise.all(
      (await listCollections(db, request.apiRoot.id, principal)).map((c) => withView(db, c, principal, request)),
    );
    return JSON.stringify(
      collections.length > 0 ? { collections: collections.map((c) => collectionResource(c, viewProperty(c))) } : {},
    );
  });
  methodNotAllowed(app, '/:apiRoot/collections/', ['GET']);

  app.get(
    '/:apiRoot/collections/:collectionId/',
    {
      ...taxiiRoute({
        operationId: 'getCollection',
        tag: 'Collections',
        summary: 'One collection',
        description: 'TAXII §5.2: a collection, by id or alias.',
        params: ['apiRoot', 'collectionId'],
        preview: true,
        ok: { status: 200, description: 'The collection resource.', schema: 'collection' },
        errors: [400, 404],
      }),
      onRequest: [app.requireCredentials, loadCollection('see')],
    },
    async (request) => JSON.stringify(collectionResource(request.collection, viewProperty(request.collection))),
  );
  methodNotAllowed(app, '/:apiRoot/collections/:collectionId/', ['GET']);
}
