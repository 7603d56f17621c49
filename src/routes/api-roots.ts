import type { FastifyInstance } from 'fastify';
import { findStatus } from '../db/status-store.js';
import { notFound } from '../taxii/errors.js';
import { apiRootResource, statusResource } from '../taxii/resources.js';
import { loadApiRoot } from './context.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { taxiiRoute } from './taxii-schemas.js';

const STATUS_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** API Root information (TAXII §4.2) and Get Status (§4.3). */
export async function apiRootRoutes(app: FastifyInstance) {
  const { config, db } = app.taxii;
  const credentials = config.publicDiscovery ? app.optionalCredentials : app.requireCredentials;

  const apiRootSchema = taxiiRoute({
    operationId: 'getApiRoot',
    tag: 'Discovery',
    summary: 'API root information',
    description: 'TAXII §4.2: title, supported versions and max_content_length of an API root.',
    params: ['apiRoot'],
    ok: { status: 200, description: 'The API root resource.', schema: 'api-root' },
    errors: [404],
    anonymous: config.publicDiscovery,
  });
  app.get('/:apiRoot/', { ...apiRootSchema, onRequest: [credentials, loadApiRoot] }, async (request) =>
    JSON.stringify(apiRootResource(request.apiRoot)),
  );
  methodNotAllowed(app, '/:apiRoot/', ['GET']);

  const statusSchema = taxiiRoute({
    operationId: 'getStatus',
    tag: 'Discovery',
    summary: 'Status of an Add Objects request',
    description: `TAXII §4.3: answered to the submitting organisation only (others get 404), for STATUS_RETENTION_HOURS (${config.statusRetentionHours} h here).`,
    params: ['apiRoot', 'statusId'],
    ok: { status: 200, description: 'The status resource.', schema: 'status' },
    errors: [404],
  });
  app.get('/:apiRoot/status/:statusId/', { ...statusSchema, onRequest: [app.requireCredentials, loadApiRoot] }, async (request) => {
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
