import type { FastifyInstance } from 'fastify';
import { findStatus } from '../db/status-store.js';
import { notFound } from '../taxii/errors.js';
import { apiRootResource, statusResource } from '../taxii/resources.js';
import { loadApiRoot } from './context.js';
import { methodNotAllowed } from './method-not-allowed.js';

const STATUS_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** API Root information (TAXII §4.2) and Get Status (§4.3). */
export async function apiRootRoutes(app: FastifyInstance) {
  const { config, db } = app.taxii;
  const credentials = config.publicDiscovery ? app.optionalCredentials : app.requireCredentials;

  app.get('/:apiRoot/', { onRequest: [credentials, loadApiRoot] }, async (request) =>
    JSON.stringify(apiRootResource(request.apiRoot)),
  );
  methodNotAllowed(app, '/:apiRoot/', ['GET']);

  app.get('/:apiRoot/status/:statusId/', { onRequest: [app.requireCredentials, loadApiRoot] }, async (request) => {
    const { statusId } = request.params as { statusId: string };
    const principal = request.principal!;
    const status = STATUS_ID.test(statusId)
      ? await findStatus(db, request.apiRoot.id, statusId.toLowerCase(), principal.isAdmin ? undefined : principal.organisationId, config.statusRetentionHours)
      : undefined;
    if (!status) throw notFound(`The status resource ${statusId}`);
    return JSON.stringify(statusResource(status));
  });
  methodNotAllowed(app, '/:apiRoot/status/:statusId/', ['GET']);
}
